package jqlgate

// Schema kinds a namespace can be addressed as.
const (
	SchemaModel      = "model"
	SchemaController = "controller"
)

// Authentication classes a request can name.
const (
	AuthOAuth2 = "oauth2"
	AuthAPIKey = "apiKey"
	AuthJWT    = "jwt"
)

// Meta is the decoded __meta__ block of an envelope.
type Meta struct {
	Namespace           string         `json:"namespace"`
	Schema              string         `json:"schema"`
	Intent              string         `json:"intent"`
	AuthenticationClass string         `json:"authenticationClass,omitempty"`
	AuthenticationToken string         `json:"authenticationToken,omitempty"`
	Return              map[string]any `json:"return,omitempty"`
	UniqueObject        map[string]any `json:"uniqueObject,omitempty"`
	Filter              map[string]any `json:"filter,omitempty"`
	Exclude             map[string]any `json:"exclude,omitempty"`
	Search              *Search        `json:"search,omitempty"`
	Ordering            []string       `json:"ordering,omitempty"`
	Limit               *int           `json:"limit,omitempty"`
	Offset              *int           `json:"offset,omitempty"`
	Draw                *int           `json:"draw,omitempty"`
	Cache               *Cache         `json:"cache,omitempty"`
}

// Search is __meta__.search: a free-text term over a namespace's searchable fields.
type Search struct {
	Value string `json:"value"`
}

// Cache is __meta__.cache.
type Cache struct {
	Enabled bool `json:"enabled"`
}

// Envelope is one decoded JQL request: the __meta__ block and every other
// top-level key as a field. Numbers in Fields are json.Number, so handlers
// can coerce them to the declared type without losing precision.
type Envelope struct {
	Meta   Meta
	Fields map[string]any
}
