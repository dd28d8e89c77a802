package schemas

// The inputs of system.Webhook and system.TrustedSite. Validator.Input
// decodes a command's fields into them and checks their tags; the rules
// that need the store, the caller or the network (the trigger catalogue,
// read permissions, address policy, trusted-site ownership) are the
// namespace's, checked after.
//
// A field that an update may leave out is a pointer, a slice or a map (nil
// when absent or null) or is read together with Members, which tells
// absent from null.

// WebhookFields are the options of a webhook subscription, as
// subscribeToWebhook and updateWebhook take them.
type WebhookFields struct {
	Members            Members           `json:"-"`
	Prefix             string            `json:"prefix" validate:"max=128,text"`
	Trigger            string            `json:"trigger" validate:"omitempty,max=200,trigger"`
	Triggers           []string          `json:"triggers" validate:"omitnil,min=1,max=50,dive,required,max=200,trigger"`
	WebhookURL         string            `json:"webhookUrl" validate:"max=2048,text"`
	Method             *string           `json:"method" validate:"omitnil,oneof_fold=POST GET"`
	ContentType        *string           `json:"contentType" validate:"omitnil,oneof_fold=application/json application/x-www-form-urlencoded"`
	IncludeEntity      *bool             `json:"includeEntity"`
	Enabled            *bool             `json:"enabled"`
	Ordered            *bool             `json:"ordered"`
	Headers            map[string]string `json:"headers" validate:"max=50,dive,keys,header_name,header_settable,endkeys,max=4096,header_value"`
	SecretHeaders      []string          `json:"secretHeaders" validate:"max=50,dive,header_name"`
	BasicAuth          *BasicAuthInput   `json:"basicAuth"`
	OAuth2             *OAuth2Input      `json:"oauth2"`
	Metadata           map[string]any    `json:"metadata"`
	RetryPolicy        *RetryPolicyInput `json:"retryPolicy"`
	TimeoutSeconds     *int              `json:"timeoutSeconds" validate:"omitnil,min=1,max=30"`
	MaxInFlight        *int              `json:"maxInFlight" validate:"omitnil,min=1,max=50"`
	RateLimitPerSecond *float64          `json:"rateLimitPerSecond" validate:"omitnil,rate"`
	Filter             map[string]any    `json:"filter"`
	TrustedSite        *string           `json:"trustedSite" validate:"omitnil,min=1,max=128,text"`
	SignatureScheme    *string           `json:"signatureScheme" validate:"omitnil,oneof_fold=v1 v1a"`
	// BodySignature is true, false, null or a BodySignatureInput object.
	BodySignature any `json:"bodySignature"`
}

// SubscribeInput is subscribeToWebhook's input: the options and, when
// the client brings its own, the signing secret (checked for its scheme's
// form and strength by the namespace).
type SubscribeInput struct {
	WebhookFields
	Secret *string `json:"secret" validate:"omitnil,max=512,text"`
}

// UpdateWebhookInput is updateWebhook's input: the subscription's id and
// the options to change. An absent option keeps its value, a null one
// goes back to its default.
type UpdateWebhookInput struct {
	WebhookFields
	ID string `json:"id" validate:"required,max=2048,text"`
}

// RotateSecretInput is rotateWebhookSecret's input: the subscription's
// id, how long the previous secret keeps signing (at most 7 days), and
// the new secret or scheme when the client chooses them.
type RotateSecretInput struct {
	Members          Members `json:"-"`
	ID               string  `json:"id" validate:"required,max=2048,text"`
	ExpiresInSeconds *int    `json:"expiresInSeconds" validate:"omitnil,min=0,max=604800"`
	Secret           *string `json:"secret" validate:"omitnil,max=512,text"`
	SignatureScheme  *string `json:"signatureScheme" validate:"omitnil,oneof_fold=v1 v1a"`
}

// UnsubscribeInput is unsubscribeFromWebhook's input: an id, or the
// prefix, trigger (or triggers) and webhookUrl the subscription was made
// with.
type UnsubscribeInput struct {
	Members    Members  `json:"-"`
	ID         string   `json:"id" validate:"max=2048,text"`
	Prefix     string   `json:"prefix" validate:"max=2048,text"`
	Trigger    string   `json:"trigger" validate:"max=2048,text"`
	Triggers   []string `json:"triggers" validate:"omitnil,min=1,max=50,dive,required,max=200,text"`
	WebhookURL string   `json:"webhookUrl" validate:"max=2048,text"`
}

// BasicAuthInput is a receiver's basic authentication. On an update that
// leaves the password out, the stored one is kept.
type BasicAuthInput struct {
	Members  Members `json:"-"`
	Username string  `json:"username" validate:"required,max=2048,text,excludes=:"`
	Password string  `json:"password" validate:"max=1024,text"`
}

// OAuth2Input is a receiver's OAuth2 client-credentials settings. The
// client secret is required unless an update keeps the stored one.
type OAuth2Input struct {
	Members      Members  `json:"-"`
	TokenURL     string   `json:"tokenUrl" validate:"required,max=2048,text"`
	ClientID     string   `json:"clientId" validate:"required,max=2048,text"`
	ClientSecret string   `json:"clientSecret" validate:"max=2048,text"`
	Scopes       []string `json:"scopes" validate:"max=20,dive,required,max=256,text"`
	Audience     *string  `json:"audience" validate:"omitnil,max=512,text"`
}

// RetryPolicyInput is a retry preset (default or antavo) or a schedule of
// seconds to wait before each retry, at most 20 entries.
type RetryPolicyInput struct {
	Preset   *string   `json:"preset" validate:"omitnil,oneof_fold=default antavo"`
	Schedule []float64 `json:"schedule" validate:"max=20,dive,retry_delay"`
}

// BodySignatureInput is an HMAC of the body in a header of the receiver's
// choice; both fields are optional.
type BodySignatureInput struct {
	Header    *string `json:"header" validate:"omitnil,header_name"`
	Algorithm *string `json:"algorithm" validate:"omitnil,oneof_fold=sha256 sha1"`
}

// TrustedSiteInput is createTrustedSite's input: a name, the base URL its
// subscriptions' webhookUrls lie under, and one kind of authentication.
type TrustedSiteInput struct {
	Members   Members           `json:"-"`
	Name      string            `json:"name" validate:"max=128,text"`
	BaseURL   string            `json:"baseUrl" validate:"max=2048,text"`
	BasicAuth *BasicAuthInput   `json:"basicAuth"`
	OAuth2    *OAuth2Input      `json:"oauth2"`
	Headers   map[string]string `json:"headers" validate:"max=50,dive,keys,header_name,header_settable,endkeys,max=4096,header_value"`
}

// UpdateTrustedSiteInput is updateTrustedSite's input: the site's id and
// the fields to change.
type UpdateTrustedSiteInput struct {
	TrustedSiteInput
	ID string `json:"id" validate:"required,max=2048,text"`
}
