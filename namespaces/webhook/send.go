package webhook

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/namespaces/input"
)

// testWebhook sends at most testRate a second per owner, testBurst at once:
// enough to try a receiver, too few to use the server as a proxy.
const (
	testRate  = 2
	testBurst = 5
)

// ownerLimiter is a token bucket per owner.
type ownerLimiter struct {
	mu       sync.Mutex
	limit    rate.Limit
	burst    int
	limiters map[string]*rate.Limiter
}

func newOwnerLimiter(r float64, burst int) *ownerLimiter {
	return &ownerLimiter{limit: rate.Limit(r), burst: burst, limiters: map[string]*rate.Limiter{}}
}

// maxLimiters bounds the owners remembered; past it, owners whose bucket
// is full again are forgotten.
const maxLimiters = 10000

// allow takes one token of owner's bucket, or answers ERATELIMIT with the
// time until one is available.
func (l *ownerLimiter) allow(owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	lim := l.limiters[owner]
	if lim == nil {
		if len(l.limiters) >= maxLimiters {
			for k, v := range l.limiters {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.limiters, k)
				}
			}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.limiters[owner] = lim
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait == 0 {
		return nil
	}
	r.CancelAt(now)
	secs := time.Duration(math.Ceil(wait.Seconds())) * time.Second
	return &jqlgate.Error{Code: jqlgate.ERATELIMIT, RetryAfter: secs,
		Message: fmt.Sprintf("Too many test sends: testWebhook allows %d a second (%d at once) per owner. Try again shortly.", testRate, testBurst)}
}

// retry re-sends one delivery (deliveryId), or every delivery of a
// subscription that ended Failed since a time ({id, since}), now, as the
// next attempt of each delivery under its webhook-id.
func (w *webhooks) retry(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	f := cmd.Fields
	r.Unknown(f, "deliveryId", "id", "since")
	_, byDelivery := f["deliveryId"]
	if byDelivery {
		id := r.Required(f, "deliveryId")
		if _, ok := f["id"]; ok {
			r.Fail("id", "give either deliveryId, or id and since")
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return w.retryOne(ctx, cmd, id)
	}
	id := r.Required(f, "id")
	var since time.Time
	if v, ok := f["since"]; ok && v != nil {
		since = r.Timestamp("since", v)
	} else {
		r.Fail("since", "is required with id (or give deliveryId instead)")
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	sub, operated, err := w.sendable(ctx, cmd, "id", id)
	if err != nil {
		return nil, err
	}
	for _, t := range sub.TriggerList() {
		if err := requireReadUnlessOperated(cmd.Principal, operated, t, "Retrying", "id"); err != nil {
			return nil, err
		}
	}
	if err := checkEnabled(sub); err != nil {
		return nil, err
	}
	failed, err := w.Operations.FailedSince(ctx, sub.ID, since)
	if err != nil {
		return nil, err
	}
	n, err := w.retryAll(ctx, sub, failed)
	if err != nil {
		return nil, err
	}
	return queuedResult(n, len(failed), "Failed deliveries queued again."), nil
}

func (w *webhooks) retryAll(ctx context.Context, sub *jqlgate.Subscription, failed []*jqlgate.Attempt) (int, error) {
	n := 0
	for _, a := range failed {
		ok, err := w.Operations.Retry(ctx, sub, a)
		if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
			return n, err
		}
		if ok && err == nil {
			n++
		}
	}
	return n, nil
}

// retryOne re-sends the delivery id of one of the caller's subscriptions.
// Another owner's delivery is answered exactly like a missing one: a
// missing delivery's (empty) subscription is looked up too, so the two
// answers cost the same store queries and show the same extras.
func (w *webhooks) retryOne(ctx context.Context, cmd *jqlgate.Command, id string) (*jqlgate.Result, error) {
	missing := &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Delivery not found.", Field: "deliveryId"}
	last, err := w.Operations.LatestAttempt(ctx, id)
	if err != nil && jqlgate.ErrorCode(err) != jqlgate.ENOTFOUND {
		return nil, err
	}
	subID := ""
	if err == nil && !last.Test {
		subID = last.SubscriptionID
	}
	sub, operated, err := w.sendable(ctx, cmd, "deliveryId", subID)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	if err := requireReadUnlessOperated(cmd.Principal, operated, last.Event, "Retrying", "deliveryId"); err != nil {
		return nil, err
	}
	if err := checkEnabled(sub); err != nil {
		return nil, err
	}
	ok, err := w.Operations.Retry(ctx, sub, last)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		missing.Message = "The delivery's event is no longer stored."
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	n, msg := 0, "The delivery is already pending (in flight, or held for its next attempt by another process; see getWebhookQueue), so it was not queued again."
	if ok {
		n, msg = 1, "Delivery queued again."
	}
	res := queuedResult(n, 1, msg)
	res.Data.(map[string]any)["deliveryId"] = id
	return res, nil
}

// requireReadUnlessOperated is requireRead for the caller's own
// subscriptions. An operator sending another owner's deliveries again
// reveals nothing to itself (it sees the log under its own read
// permissions), and the dispatcher withholds the subscription while its
// owner may not read the events.
func requireReadUnlessOperated(p *jqlgate.Principal, operated bool, trigger, doing, field string) error {
	if operated {
		return nil
	}
	return requireRead(p, trigger, doing, field)
}

func queuedResult(queued, matched int, msg string) *jqlgate.Result {
	return &jqlgate.Result{Data: map[string]any{"queued": queued, "matched": matched}, Message: msg, Filtered: matched, Display: queued}
}

// replay sends a stored event again to each of the caller's subscriptions
// it went to (an operator: every owner's), or only to subscription id, as
// the next attempt of the same delivery (same webhook-id). Subscriptions
// that are disabled are skipped. A caller who may not read the event's
// records (its permissions were narrowed) is refused its own replays.
func (w *webhooks) replay(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	r.Unknown(cmd.Fields, "eventId", "id")
	id := r.Required(cmd.Fields, "eventId")
	only := ""
	if v, ok := cmd.Fields["id"]; ok {
		only = r.Str("id", v, 256)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	own, err := input.Owner(cmd)
	if err != nil {
		return nil, err
	}
	missing := &jqlgate.Error{Code: jqlgate.ENOTFOUND, Message: "Event not found.", Field: "eventId"}
	f, err := w.Operations.Event(ctx, id)
	if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	var targets []*jqlgate.Subscription
	mine := false
	for _, target := range f.Targets {
		if only != "" && target != only {
			continue
		}
		sub, err := w.Store.GetOwned(ctx, own, target)
		if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND && cmd.Principal.CanOperate() {
			sub, err = w.Store.Get(ctx, target)
		} else if err == nil {
			mine = true
		}
		if jqlgate.ErrorCode(err) == jqlgate.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if privateHeld(cmd, sub) {
			return nil, errPrivateHeld("eventId")
		}
		targets = append(targets, sub)
	}
	if len(targets) == 0 {
		return nil, missing
	}
	if err := requireReadUnlessOperated(cmd.Principal, !mine, f.Event.Type, "Replaying", "eventId"); err != nil {
		return nil, err
	}
	var ids []string
	for _, sub := range targets {
		if !sub.Enabled {
			continue
		}
		did, ok, err := w.Operations.Replay(ctx, sub, f)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, did)
		}
	}
	data := map[string]any{"queued": len(ids), "matched": len(targets), "deliveryIds": append([]string{}, ids...)}
	return &jqlgate.Result{Data: data, Message: "Event replayed.", Filtered: len(targets), Display: len(ids)}, nil
}

// test sends an example event to one of the caller's subscriptions now and
// answers what the receiver answered.
func (w *webhooks) test(ctx context.Context, cmd *jqlgate.Command) (*jqlgate.Result, error) {
	r := &reader{}
	r.Unknown(cmd.Fields, "id", "trigger")
	id := r.Required(cmd.Fields, "id")
	trigger := ""
	if v, ok := cmd.Fields["trigger"]; ok {
		trigger = r.Str("trigger", v, 200)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	sub, operated, err := w.sendable(ctx, cmd, "id", id)
	if err != nil {
		return nil, err
	}
	if err := w.testLimit.allow(sub.Owner); err != nil {
		return nil, err
	}
	if !input.CanReachPrivate(cmd.Principal) {
		// The answer is shown to the caller: a receiver only the address
		// policy's Allow list makes reachable is not theirs to read.
		if _, err := w.targets().CheckHost(ctx, cmd.Principal, "id", sub.WebhookURL); err != nil {
			return nil, err
		}
		public := *sub
		public.PublicOnly = true
		sub = &public
	}
	et, err := w.testEvent(sub, trigger)
	if err != nil {
		return nil, err
	}
	ev := &jqlgate.Event{ID: jqlgate.NewID("evt_test"), Type: et.Name, Data: et.Example, Timestamp: w.now()}
	if eid, ok := et.Example["id"].(string); ok {
		ev.EntityID = eid
	}
	a, err := w.Operations.Test(ctx, sub, ev)
	if err != nil {
		return nil, err
	}
	data := testView(a)
	if operated {
		hideCustomHeaders(data["request"].(*requestView), sub)
	}
	return &jqlgate.Result{Data: data, Message: testMessage(a), Filtered: 1, Display: 1}, nil
}

// testEvent picks the event type to send: trigger when given (a concrete
// event of the catalogue), else the subscription's first concrete trigger,
// else the first event of the catalogue its first trigger matches.
func (w *webhooks) testEvent(sub *jqlgate.Subscription, trigger string) (jqlgate.EventType, error) {
	events := w.events()
	if trigger != "" {
		for _, e := range events {
			if e.Name == trigger {
				return e, nil
			}
		}
		return jqlgate.EventType{}, jqlgate.Invalid("trigger", "unknown event %q; see listEvents", trigger)
	}
	for _, t := range sub.TriggerList() {
		for _, e := range events {
			if e.Name == t {
				return e, nil
			}
		}
	}
	prefix := strings.TrimSuffix(sub.Trigger, "*")
	for _, e := range events {
		if strings.HasPrefix(e.Name, prefix) {
			return e, nil
		}
	}
	return jqlgate.EventType{}, jqlgate.Invalid("trigger", "no event of the catalogue matches the subscription's trigger %q; give trigger", sub.Trigger)
}

func testView(a *jqlgate.Attempt) map[string]any {
	e := entryOf(a)
	data := map[string]any{"status": a.Status, "deliveryId": a.DeliveryID, "eventId": a.EventID, "event": a.Event,
		"attemptId": a.ID, "durationMs": e.DurationMS, "error": a.Error, "request": e.Request,
		"statusCode": 0, "headers": map[string]string{}, "body": ""}
	if e.Response != nil {
		data["statusCode"], data["headers"], data["body"] = e.Response.Code, e.Response.Headers, e.Response.Body
		if len(a.ResponseBody) > maxTestBody {
			data["body"], data["bodyTruncated"] = a.ResponseBody[:maxTestBody], true
		}
	}
	return data
}

// maxTestBody bounds the receiver's answer testWebhook shows (the
// dispatcher keeps no more of a test send's answer either).
const maxTestBody = 4 << 10

func testMessage(a *jqlgate.Attempt) string {
	if a.Status == jqlgate.StatusDone {
		return "The receiver accepted the test event."
	}
	if a.ResponseCode != 0 {
		return "The receiver answered " + http.StatusText(a.ResponseCode) + "."
	}
	return "The test event could not be delivered."
}
