package jqlgate

// EventType describes one event a subscription can be triggered by, for the
// trigger catalogue (system.Webhook listEvents).
type EventType struct {
	// Name is "app.Model:action".
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Example     map[string]any `json:"example"`
}
