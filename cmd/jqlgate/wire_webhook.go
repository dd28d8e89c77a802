package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/namespaces"
	"github.com/jqlgate/jqlgate/namespaces/webhook"
	"github.com/jqlgate/jqlgate/schemas"
)

var (
	_ webhook.Catalogue = (*schemas.Set)(nil)
	_ refresher         = (*dispatcher.Dispatcher)(nil)
)

// secretKeyFile is where the embedded mode keeps its generated master key,
// inside the data dir.
const secretKeyFile = "secret.key"

// webhookConfig is the webhook part of serveConfig.
type webhookConfig struct {
	// SecretKey is the master key in base64, as configured ("" if none).
	SecretKey string
	// Policy is which receiver URLs and addresses webhooks may use.
	Policy jqlgate.AddrPolicy
	// MaxPerOwner caps each owner's subscriptions; 0 does not cap.
	MaxPerOwner int
	// PublicURL is the server's public base URL, for webhooks' entityUrl
	// ("" omits it).
	PublicURL string
}

func parseWebhookConfig(s *optionSet) (webhookConfig, error) {
	c := webhookConfig{SecretKey: strings.TrimSpace(s.str("secret-key"))}
	allow, err := jqlgate.ParseCIDRs(s.str("webhook-allow-cidrs"))
	if err != nil {
		return c, fmt.Errorf("--webhook-allow-cidrs: %w", err)
	}
	c.Policy.Allow = allow
	if c.Policy.RequireHTTPS, err = s.bool("webhook-require-https"); err != nil {
		return c, err
	}
	if c.MaxPerOwner, err = s.int("max-subscriptions-per-owner"); err != nil {
		return c, err
	}
	if c.MaxPerOwner < 0 {
		return c, fmt.Errorf("--max-subscriptions-per-owner must not be negative")
	}
	c.PublicURL, err = parsePublicURL(s.str("public-url"))
	return c, err
}

// parsePublicURL checks --public-url: empty, or an absolute http(s) URL
// with no query or fragment. It is returned without a trailing slash.
func parsePublicURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--public-url: %q is not an http(s) base URL such as https://api.example.com (no query, fragment or user)", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// loadSecretKey returns the master key that seals webhook secrets: the
// configured one; with the embedded store and none configured, the one in
// <data-dir>/secret.key, generated there (mode 0600) on first start. With
// MongoDB and none configured it refuses: every process sharing the store
// must use the same key, so generating one here would lock the others out.
func loadSecretKey(cfg serveConfig, logger *slog.Logger) ([]byte, error) {
	if cfg.Webhook.SecretKey != "" {
		key, err := decodeKey(cfg.Webhook.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("--secret-key / JQLGATE_SECRET_KEY: %w", err)
		}
		return key, nil
	}
	if cfg.MongoDBURI != "" {
		return nil, errors.New("JQLGATE_SECRET_KEY (or --secret-key) is required with MONGODB_URI: every jqlgate process " +
			"sharing the store must seal webhook secrets with the same key. Generate one with `openssl rand -base64 32` " +
			"and give it to every process")
	}
	return keyFromFile(filepath.Join(cfg.DataDir, secretKeyFile), logger)
}

// decodeKey decodes a base64 (standard or URL alphabet, padded or not)
// 32-byte key.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != jqlgate.KeySize {
				return nil, fmt.Errorf("the key must be %d bytes, got %d", jqlgate.KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("the key must be %d bytes in base64", jqlgate.KeySize)
}

// keyFromFile reads the key at path, or creates it when it does not exist.
// O_EXCL makes two processes starting at once agree on one key.
func keyFromFile(path string, logger *slog.Logger) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path, logger)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key, err := jqlgate.GenerateKey()
	if err == nil {
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	logger.Info("generated the master key that seals webhook secrets; back it up with the data dir", "path", path)
	return key, nil
}

func readKeyFile(path string, logger *slog.Logger) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		logger.Warn("the master key file is readable by other users; chmod 600 it", "path", path, "mode", info.Mode().Perm().String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key, err := decodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	return key, nil
}

// registerWebhook registers system.Webhook on mux over the subscription
// store; cat is the trigger catalogue (the schema set) and d the
// dispatcher, told about every subscription write.
func registerWebhook(a *app, cfg serveConfig, mux *namespaces.Mux, cat webhook.Catalogue, d refresher) {
	deps := webhook.Deps{Store: a.subscriptions, Catalogue: cat,
		Notifier: notifier{d, a.logger}, Policy: cfg.Webhook.Policy, MaxPerOwner: cfg.Webhook.MaxPerOwner,
		PublicURL: cfg.Webhook.PublicURL}
	if a.sites != nil {
		deps.Sites = a.sites
	}
	if a.dispatcher != nil {
		deps.Operations = &webhookOps{deliveryQuery: a.store.query, d: a.dispatcher}
	}
	webhook.Register(mux, deps)
}

// refresher is the dispatcher's side of a subscription write.
type refresher interface {
	SubscriptionChanged(ctx context.Context, id string) error
}

// notifier tells the dispatcher about a subscription write. A failed
// refresh is only logged: the write is durable, and the dispatcher's poll
// of the subscription version picks the change up.
type notifier struct {
	d      refresher
	logger *slog.Logger
}

// SubscriptionChanged implements webhook.Notifier.
func (n notifier) SubscriptionChanged(ctx context.Context, id string) {
	if n.d == nil {
		return
	}
	if err := n.d.SubscriptionChanged(ctx, id); err != nil {
		n.logger.WarnContext(ctx, "refresh subscription in the dispatcher", "subscription", id, "error", err.Error())
	}
}
