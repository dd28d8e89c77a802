package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// remoteClient calls a running server's admin intents with a token of the
// admin client, got with the OAuth2 client-credentials grant.
type remoteClient struct {
	base string
	http *http.Client
}

func newRemoteClient(ctx context.Context, base, id, secret string) (*remoteClient, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url: %q is not an http(s) URL such as http://127.0.0.1:8080", base)
	}
	if id == "" || secret == "" {
		return nil, errors.New("--url needs --client-id and --client-secret (or JQLGATE_ADMIN_CLIENT_ID and JQLGATE_ADMIN_CLIENT_SECRET) of a client holding the admin permission")
	}
	plain := &http.Client{Timeout: 30 * time.Second}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, plain)
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: u.String() + "/oauth2/token"}
	// One token for the whole command, fetched now so a bad secret is
	// reported as such.
	ts := cfg.TokenSource(ctx)
	if _, err := ts.Token(); err != nil {
		return nil, fmt.Errorf("getting a token from %s as %s: %w", cfg.TokenURL, id, tokenError(err))
	}
	hc := oauth2.NewClient(ctx, ts)
	hc.Timeout = 30 * time.Second
	return &remoteClient{base: u.String(), http: hc}, nil
}

// tokenError shortens an OAuth2 error to its code and description.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return errors.New(re.ErrorCode)
	}
	return err
}

// call sends one JQL command and returns the answer's data; an ERROR
// answer is an error naming its field.
func (rc *remoteClient) call(ctx context.Context, namespace, intent string, fields map[string]any) (json.RawMessage, error) {
	body := map[string]any{"__meta__": map[string]any{"namespace": namespace, "schema": "controller", "intent": intent, "authenticationClass": "oauth2"}}
	for k, v := range fields {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.base+"/jql", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rc.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", namespace, intent, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	var a struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			ErrorCode    string `json:"errorCode"`
			ErrorMessage string `json:"errorMessage"`
			Field        string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("%s %s: the server answered %d with no JQL envelope", namespace, intent, resp.StatusCode)
	}
	if a.Status != "OK" {
		var msgs []string
		for _, e := range a.Errors {
			m := e.ErrorMessage
			if e.Field != "" {
				m = "--" + e.Field + ": " + m
			}
			msgs = append(msgs, m)
		}
		return nil, fmt.Errorf("%s %s: %d %s", namespace, intent, resp.StatusCode, strings.Join(msgs, "; "))
	}
	return a.Data, nil
}

// remoteRecord is a principal as the admin intents answer it.
type remoteRecord struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Username     string `json:"username"`
	Scope        string `json:"scope"`
	CreatedAt    string `json:"createdAt"`
	ClientSecret string `json:"clientSecret"`
	APIKey       string `json:"apiKey"`
	Deleted      bool   `json:"deleted"`
	Disabled     int    `json:"subscriptionsDisabled"`
}

// remoteDo calls intent and decodes its data into a record.
func (rc *remoteClient) do(ctx context.Context, namespace, intent string, fields map[string]any) (*remoteRecord, error) {
	data, err := rc.call(ctx, namespace, intent, fields)
	if err != nil {
		return nil, err
	}
	var r remoteRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s %s: unexpected answer %s", namespace, intent, data)
	}
	return &r, nil
}

// remoteList lists every principal of namespace, printed as the local
// list prints them (idKey names the id: client_id or id).
func remoteList(namespace, intent, idKey, nameKey string) remoteAction {
	return func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
		data, err := rc.call(ctx, namespace, intent, nil)
		if err != nil {
			return err
		}
		var rs []remoteRecord
		if err := json.Unmarshal(data, &rs); err != nil {
			return fmt.Errorf("%s %s: unexpected answer %s", namespace, intent, data)
		}
		out := make([]map[string]any, len(rs))
		for i, r := range rs {
			name := r.Name
			if nameKey == "username" {
				name = r.Username
			}
			out[i] = map[string]any{idKey: r.ID, nameKey: name, "scope": r.Scope, "created_at": r.CreatedAt}
		}
		return printJSON(w, out)
	}
}

func remoteDelete(namespace, intent string) remoteAction {
	return func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
		r, err := rc.do(ctx, namespace, intent, map[string]any{"id": o.str("id")})
		if err != nil {
			return err
		}
		return printJSON(w, map[string]any{"deleted": r.ID, "subscriptions_disabled": r.Disabled})
	}
}

func remoteUpdate(namespace, intent string) remoteAction {
	return func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
		r, err := rc.do(ctx, namespace, intent, map[string]any{"id": o.str("id"), "scope": o.str("scope")})
		if err != nil {
			return err
		}
		return printJSON(w, map[string]string{"updated": r.ID, "scope": r.Scope})
	}
}

func clientRemote() map[string]remoteAction {
	const ns = "system.Client"
	return map[string]remoteAction{
		"create": func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
			r, err := rc.do(ctx, ns, "createClient", map[string]any{"name": o.str("name"), "scope": o.str("scope")})
			if err != nil {
				return err
			}
			return printJSON(w, map[string]string{"client_id": r.ID, "client_secret": r.ClientSecret})
		},
		"list":   remoteList(ns, "listClients", "client_id", "name"),
		"delete": remoteDelete(ns, "deleteClient"),
		"update": remoteUpdate(ns, "updateClient"),
		"rotate-secret": func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
			r, err := rc.do(ctx, ns, "rotateClientSecret", map[string]any{"id": o.str("id")})
			if err != nil {
				return err
			}
			return printJSON(w, map[string]string{"client_id": r.ID, "client_secret": r.ClientSecret})
		},
	}
}

func apiKeyRemote() map[string]remoteAction {
	const ns = "system.ApiKey"
	keyAnswer := func(intent string, fields func(o *optionSet) map[string]any) remoteAction {
		return func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
			r, err := rc.do(ctx, ns, intent, fields(o))
			if err != nil {
				return err
			}
			return printJSON(w, map[string]string{"id": r.ID, "api_key": r.APIKey})
		}
	}
	return map[string]remoteAction{
		"create": keyAnswer("createApiKey", func(o *optionSet) map[string]any {
			return map[string]any{"name": o.str("name"), "scope": o.str("scope")}
		}),
		"list":   remoteList(ns, "listApiKeys", "id", "name"),
		"delete": remoteDelete(ns, "deleteApiKey"),
		"update": remoteUpdate(ns, "updateApiKey"),
		"rotate": keyAnswer("rotateApiKey", func(o *optionSet) map[string]any { return map[string]any{"id": o.str("id")} }),
	}
}

func userRemote() map[string]remoteAction {
	const ns = "system.User"
	return map[string]remoteAction{
		"create": func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
			pw, err := readPassword()
			if err != nil {
				return err
			}
			r, err := rc.do(ctx, ns, "createUser", map[string]any{"username": o.str("username"), "scope": o.str("scope"), "password": pw})
			if err != nil {
				return err
			}
			return printJSON(w, map[string]string{"id": r.ID, "username": r.Username})
		},
		"list":   remoteList(ns, "listUsers", "id", "username"),
		"delete": remoteDelete(ns, "deleteUser"),
		"update": remoteUpdate(ns, "updateUser"),
		"set-password": func(ctx context.Context, rc *remoteClient, o *optionSet, w io.Writer) error {
			pw, err := readPassword()
			if err != nil {
				return err
			}
			r, err := rc.do(ctx, ns, "rotateUserPassword", map[string]any{"id": o.str("id"), "password": pw})
			if err != nil {
				return err
			}
			return printJSON(w, map[string]string{"updated": r.ID})
		},
	}
}
