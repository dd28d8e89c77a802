package admin

import (
	"strings"

	"github.com/jqlgate/jqlgate/namespaces"
)

var adminScopeField = namespaces.Field("scope", "string", true, `space-separated permissions, e.g. "system.Webhook:* profile.Customer:create" or "*"; you can grant only permissions you hold`)

// adminSpec describes one credential admin intent for system.Schema.
func adminSpec(k *adminKind, intent string) namespaces.IntentSpec {
	id := namespaces.Field("id", "string", true, "the "+k.what+" id")
	password := namespaces.Field("password", "string", false, "8 to 72 bytes; leave it out to have one generated and shown once")
	switch {
	case strings.HasPrefix(intent, "create"):
		s := namespaces.IntentSpec{Summary: "Creates " + article(k.what) + " " + k.what + "; the answer shows its " + k.secretLabel() + " once, never again.",
			Fields: []namespaces.FieldSpec{namespaces.Field(k.nameField, "string", true, "a "+k.nameField+" to recognise it by"), adminScopeField}}
		if k.nameField == "username" {
			s.Summary = "Creates a user (authenticationClass jwt, see authenticate); a generated password is shown once, never again."
			s.Fields[0] = namespaces.Field("username", "string", true, "the login name: 1 to 128 letters, digits or . _ @ -")
			s.Fields = append(s.Fields, password)
		}
		return s
	case strings.HasPrefix(intent, "list"):
		return namespaces.IntentSpec{Summary: "Lists the " + k.what + "s (never a secret), paged by __meta__.limit and offset."}
	case strings.HasPrefix(intent, "delete"):
		return namespaces.IntentSpec{Summary: "Deletes " + article(k.what) + " " + k.what + " and disables its webhook subscriptions (\"owner deleted\") in every process. You cannot delete yourself or the last principal holding *.",
			Fields: []namespaces.FieldSpec{id}}
	case intent == k.rotate:
		s := namespaces.IntentSpec{Summary: "Gives " + article(k.what) + " " + k.what + " a new " + strings.TrimPrefix(k.secretLabel(), "generated ") + ", shown once; the old one stops working.",
			Fields: []namespaces.FieldSpec{id}}
		if k.nameField == "username" {
			s.Summary = "Sets a user's password (the given one, or a generated one shown once); the old one stops working."
			s.Fields = append(s.Fields, password)
		}
		return s
	}
	return namespaces.IntentSpec{Summary: "Replaces " + article(k.what) + " " + k.what + "'s permissions; its webhooks stop receiving events it may no longer read. You cannot take * from the last principal holding it.",
		Fields: []namespaces.FieldSpec{id, adminScopeField}}
}

func article(s string) string {
	if strings.HasPrefix(s, "API") {
		return "an"
	}
	return "a"
}
