package auth

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jqlgate/jqlgate"
)

// maxPrincipalStates bounds the remembered principal states; past it the
// map starts afresh (each state is one store read away).
const maxPrincipalStates = 10000

// Principals makes every request act with its principal's current state,
// not the one its token was issued with: a token of a deleted client or
// user, a user token issued before the user's session version moved, and a
// revoked token are refused; a token of a narrowed principal grants only
// what the principal still holds.
//
// It costs nothing per request beyond a map lookup: each principal's state
// is read from the store once and kept until the store's credentials
// version moves, which this process reads at most every Poll (and at the
// next request after Changed). So a change made by another process is
// honoured within Poll, one made by this process at once. The revoked
// tokens are re-read whenever the version moves.
type Principals struct {
	Store PrincipalStore
	// Poll is how often the credentials version is read; default 500ms.
	Poll   time.Duration
	Logger *slog.Logger

	refresh sync.Mutex // held while the version and revocations are read
	loaded  atomic.Bool
	version atomic.Int64
	checked atomic.Int64 // UnixNano of the last version read; 0 reads it again
	revoked atomic.Pointer[map[string]time.Time]

	mu     sync.RWMutex
	states map[principalKey]*principalState
}

// principalKey names a principal without building a string per request.
type principalKey struct{ kind, id string }

// principalState is one principal as read at a credentials version.
type principalState struct {
	version int64
	gone    bool
	perms   []string
	session int64           // users: the session version
	key     *jqlgate.APIKey // API keys: the record, hash included
}

// Changed makes the next request read the credentials version, after this
// process changed a principal or revoked a token.
func (s *Principals) Changed() { s.checked.Store(0) }

// current returns the credentials version, reading it from the store when
// the last read is older than Poll. Only one request reads it; the others
// go on with the version they have. Before the first read succeeds every
// request waits for it (and fails with it). now is the request's clock
// reading (one per request: reading the clock is not free).
func (s *Principals) current(ctx context.Context, now time.Time) (int64, error) {
	poll := orDefault(s.Poll, 500*time.Millisecond)
	if s.loaded.Load() && now.UnixNano()-s.checked.Load() < int64(poll) {
		return s.version.Load(), nil
	}
	if s.loaded.Load() {
		if !s.refresh.TryLock() {
			return s.version.Load(), nil
		}
	} else {
		s.refresh.Lock()
	}
	defer s.refresh.Unlock()
	if s.loaded.Load() && now.UnixNano()-s.checked.Load() < int64(poll) {
		return s.version.Load(), nil
	}
	if err := s.reload(jqlgate.WithoutQueryCounter(ctx), now); err != nil {
		if !s.loaded.Load() {
			return 0, err
		}
		s.logger().WarnContext(ctx, "read the credentials version", "error", err.Error())
		s.checked.Store(now.UnixNano()) // try again after Poll, not at every request
	}
	return s.version.Load(), nil
}

// reload reads the version and, when it moved, the revoked tokens; the
// caller holds refresh.
func (s *Principals) reload(ctx context.Context, now time.Time) error {
	v, err := s.Store.CredentialsVersion(ctx)
	if err != nil {
		return err
	}
	if !s.loaded.Load() || v != s.version.Load() {
		revoked, err := s.Store.RevokedTokens(ctx, now)
		if err != nil {
			return err
		}
		s.revoked.Store(&revoked)
		s.version.Store(v)
		s.loaded.Store(true)
	}
	s.checked.Store(now.UnixNano())
	return nil
}

func (s *Principals) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// isRevoked reports whether the token jti was revoked.
func (s *Principals) isRevoked(jti string, now time.Time) bool {
	m := s.revoked.Load()
	if m == nil || jti == "" {
		return false
	}
	exp, ok := (*m)[jti]
	return ok && now.Before(exp)
}

// Revoke refuses the token jti from now until expires, here at once and in
// every process sharing the store within its Poll.
func (s *Principals) Revoke(ctx context.Context, jti string, expires time.Time) error {
	if err := s.Store.RevokeToken(ctx, jti, expires); err != nil {
		return err
	}
	s.refresh.Lock()
	old := s.revoked.Load()
	m := make(map[string]time.Time, 1)
	if old != nil {
		m = make(map[string]time.Time, len(*old)+1)
		for k, v := range *old {
			m[k] = v
		}
	}
	m[jti] = expires
	s.revoked.Store(&m)
	s.refresh.Unlock()
	s.Changed()
	return nil
}

// state returns the principal kind:id as of the current credentials
// version, reading it from the store when the version moved since it was
// last read.
func (s *Principals) state(ctx context.Context, kind, id string, now time.Time) (*principalState, error) {
	v, err := s.current(ctx, now)
	if err != nil {
		return nil, err
	}
	key := principalKey{kind, id}
	s.mu.RLock()
	st, ok := s.states[key]
	s.mu.RUnlock()
	if ok && st.version == v {
		return st, nil
	}
	// Read after taking v: a change racing with this read moves the
	// version past v, so the state is read again at the next request.
	st, err = s.read(jqlgate.WithoutQueryCounter(ctx), kind, id)
	if err != nil {
		return nil, err
	}
	st.version = v
	s.mu.Lock()
	if s.states == nil || len(s.states) >= maxPrincipalStates {
		s.states = map[principalKey]*principalState{}
	}
	s.states[key] = st
	s.mu.Unlock()
	return st, nil
}

func (s *Principals) read(ctx context.Context, kind, id string) (*principalState, error) {
	st := &principalState{}
	var err error
	switch kind {
	case jqlgate.PrincipalClient:
		var c *jqlgate.Client
		if c, err = s.Store.Client(ctx, id); err == nil {
			st.perms = c.Permissions
		}
	case jqlgate.PrincipalUser:
		var u *jqlgate.User
		if u, err = s.Store.User(ctx, id); err == nil {
			st.perms, st.session = u.Permissions, u.SessionVersion
		}
	case jqlgate.PrincipalAPIKey:
		if st.key, err = s.Store.APIKey(ctx, id); err == nil {
			st.perms = st.key.Permissions
		}
	default:
		st.gone = true
		return st, nil
	}
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		st.gone, err = true, nil
	}
	return st, err
}

// apiKey returns the current record of API key id; ENOTFOUND when it is
// gone.
func (s *Principals) apiKey(ctx context.Context, id string, now time.Time) (*jqlgate.APIKey, error) {
	st, err := s.state(ctx, jqlgate.PrincipalAPIKey, id, now)
	if err != nil {
		return nil, err
	}
	if st.gone {
		return nil, jqlgate.Errorf(jqlgate.ENOTFOUND, "No such API key.")
	}
	return st.key, nil
}

// resolve turns verified claims of a client (kind PrincipalClient) or user
// token into the request's principal as the principal stands at now.
func (s *Principals) resolve(ctx context.Context, c *Claims, kind string, now time.Time) (*jqlgate.Principal, error) {
	st, err := s.state(ctx, kind, c.Subject, now)
	if err != nil {
		return nil, err
	}
	switch {
	case s.isRevoked(c.ID, now):
		return nil, unauthorized("token revoked")
	case st.gone:
		return nil, unauthorized("principal deleted")
	case kind == jqlgate.PrincipalUser && c.SessionVersion != st.session:
		return nil, unauthorized("session ended")
	}
	p := c.principal(kind)
	p.Permissions = within(p.Permissions, st.perms)
	return p, nil
}

// within returns what a token granting tok lets its principal do now that
// it holds cur: tok itself while cur covers all of it (the usual case),
// else each permission both grant.
func within(tok, cur []string) []string {
	narrowed := false
	for _, t := range tok {
		if !coveredBy(cur, t) {
			narrowed = true
			break
		}
	}
	if !narrowed {
		return tok
	}
	out := []string{}
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, t := range tok {
		if coveredBy(cur, t) {
			add(t)
			continue
		}
		for _, h := range cur {
			if covers(t, h) {
				add(h)
			}
		}
	}
	return out
}

// scopeWithin is within for a space-separated scope.
func scopeWithin(scope string, cur []string) string {
	return strings.Join(within(strings.Fields(scope), cur), " ")
}
