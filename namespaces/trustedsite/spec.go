package trustedsite

import "github.com/jqlgate/jqlgate/namespaces"

var siteIDField = namespaces.Field("id", "string", true, "the trusted site id")

// siteAuthSpecs are the kinds of authentication a site takes; give one.
var siteAuthSpecs = []namespaces.FieldSpec{
	namespaces.Field("basicAuth", "object", false, "{username, password}: HTTP basic authentication (one of basicAuth, oauth2, headers)"),
	namespaces.Field("oauth2", "object", false, "{tokenUrl, clientId, clientSecret, scopes, audience}: a client-credentials token, fetched once and shared by every subscription using the site"),
	namespaces.Field("headers", "object", false, "authentication headers, name to value (values are secret)"),
}

// trustedSiteSpecs describe each system.TrustedSite intent for
// system.Schema.
var trustedSiteSpecs = map[string]namespaces.IntentSpec{
	"createTrustedSite": {Summary: "Creates a trusted site: a base URL and its authentication, configured once and chosen by subscriptions with trustedSite. Secrets are sealed and never returned.",
		Fields: append([]namespaces.FieldSpec{
			namespaces.Field("name", "string", true, "a name, unique among your trusted sites"),
			namespaces.Field("baseUrl", "string", true, "the http(s) URL every webhookUrl using the site must lie under"),
		}, siteAuthSpecs...)},
	"listTrustedSites": {Summary: "Lists your trusted sites, paged by __meta__.limit and offset, without secrets."},
	"getTrustedSite":   {Summary: "Returns one of your trusted sites, without secrets, and the subscriptions using it.", Fields: []namespaces.FieldSpec{siteIDField}},
	"updateTrustedSite": {Summary: "Changes a trusted site; new credentials apply to every subscription using it at once. A baseUrl that would no longer cover their URLs is refused.",
		Fields: append([]namespaces.FieldSpec{
			siteIDField,
			namespaces.Field("name", "string", false, "a name, unique among your trusted sites"),
			namespaces.Field("baseUrl", "string", false, "the http(s) URL every webhookUrl using the site must lie under"),
		}, siteAuthSpecs...)},
	"deleteTrustedSite": {Summary: "Deletes a trusted site no subscription uses.", Fields: []namespaces.FieldSpec{siteIDField}},
}
