package dispatcher

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jqlgate/jqlgate"
)

// maxLogBody caps the response (and request) body kept in an attempt record.
const maxLogBody = 64 << 10

// worker sends deliveries until the queue closes.
func (d *Dispatcher) worker() {
	for {
		dl := d.q.pop()
		if dl == nil {
			return
		}
		d.deliverOne(dl)
	}
}

// deliverOne makes one attempt at dl and records its outcome.
func (d *Dispatcher) deliverOne(dl *delivery) {
	ctx := d.baseCtx
	t := d.idx.get(dl.subID)
	if t == nil {
		d.q.done(dl)
		d.parkOrCancel(ctx, dl)
		return
	}
	if t.limiter != nil {
		r := t.limiter.Reserve()
		if wait := r.Delay(); wait > 0 {
			r.Cancel()
			d.q.done(dl)
			dl.due = d.cfg.Now().Add(wait)
			d.q.push(dl)
			return
		}
	}
	a, resp, failure := d.send(ctx, t, dl)
	d.q.done(dl)
	d.judge(t, dl, a, resp)
	if a.Status != jqlgate.StatusDone {
		d.logFailure(dl, a, failure)
	}
	d.judgeHealth(ctx, dl.subID, a)
	d.finishAsync(ctx, dl, a)
}

// finishAsync records the attempt without holding the worker, so many
// records share one batched insert. At most maxRecording records are in
// flight; beyond that the worker waits, which bounds memory when the store
// is slower than the receivers.
func (d *Dispatcher) finishAsync(ctx context.Context, dl *delivery, a *jqlgate.Attempt) {
	d.recordSem <- struct{}{}
	d.records.Add(1)
	go func() {
		defer d.records.Done()
		defer func() { <-d.recordSem }()
		d.finish(ctx, dl, a)
	}()
}

// send makes the HTTP request under the subscription's timeout and
// returns the attempt record so far, the response (body already read) and
// the error that kept the request from being made or answered.
func (d *Dispatcher) send(ctx context.Context, t *target, dl *delivery) (*jqlgate.Attempt, *http.Response, error) {
	now := d.cfg.Now()
	a := &jqlgate.Attempt{CreatedAt: now.UTC(), Trigger: t.sub.MatchedTrigger(dl.fan.Event.Type)}
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, body, err := d.buildRequest(actx, t, dl, now)
	var siteHeaders []string
	if err == nil {
		siteHeaders, err = d.authorizeTarget(req, t)
	}
	if err != nil {
		a.Error, a.Outcome = err.Error(), jqlgate.OutcomeError
		return a, nil, err
	}
	a.URL = req.URL.String()
	a.RequestHeaders = redactHeaders(req.Header, t.sub)
	redactNames(a.RequestHeaders, siteHeaders)
	if dl.attempt == 1 {
		// Every attempt sends the same body; keeping it once keeps the
		// hot path's inserts small.
		a.RequestBody = capString(body)
	}
	start := time.Now()
	client := d.client
	if t.sub.PublicOnly {
		client = d.publicClient
	}
	resp, err := client.Do(req)
	if err != nil {
		a.Duration = time.Since(start)
		a.Error, a.Outcome = err.Error(), transportOutcome(err)
		return a, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxLogBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	a.Duration = time.Since(start)
	a.ResponseCode, a.Outcome = resp.StatusCode, codeOutcome(resp.StatusCode)
	a.ResponseHeaders = flatHeaders(resp.Header)
	a.ResponseBody = string(respBody)
	if err != nil {
		a.Error = "reading response: " + err.Error()
		return a, resp, err
	}
	return a, resp, nil
}

// judge sets the attempt's status: 2xx is Done; 410 Gone is Failed (and
// disables the subscription); anything else is retried by the
// subscription's schedule, or Failed after the last retry.
func (d *Dispatcher) judge(t *target, dl *delivery, a *jqlgate.Attempt, resp *http.Response) {
	code := a.ResponseCode
	switch {
	case a.Error == "" && code >= 200 && code < 300:
		a.Status = jqlgate.StatusDone
		return
	case code == http.StatusGone:
		a.Status = jqlgate.StatusFailed
		a.Error = "receiver answered 410 Gone; subscription disabled"
		return
	case a.Error == "" && code >= 300 && code < 400:
		a.Error = "receiver answered a redirect, which is not followed"
	case a.Error == "":
		a.Error = "receiver answered " + http.StatusText(code)
	}
	wait, ok := d.nextDelay(t.sub, dl.attempt, code, retryAfter(resp, d.cfg.Now()))
	if !ok {
		a.Status = jqlgate.StatusFailed
		return
	}
	a.Status = jqlgate.StatusResent
	a.NextAttemptAt = d.cfg.Now().Add(wait).UTC()
}

// redactHeaders copies request headers for the log: Authorization is
// dropped, and custom headers that carry credentials (see
// jqlgate.Subscription.IsSecretHeader) are redacted.
func redactHeaders(h http.Header, sub *jqlgate.Subscription) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if strings.EqualFold(k, "Authorization") || len(v) == 0 {
			continue
		}
		out[k] = v[0]
	}
	for k := range sub.Headers {
		if sub.IsSecretHeader(k) {
			out[http.CanonicalHeaderKey(k)] = jqlgate.RedactedValue
		}
	}
	return out
}

func flatHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			out[k] = capString([]byte(strings.Join(v, ", ")))
		}
	}
	return out
}

func capString(b []byte) string {
	if len(b) > maxLogBody {
		b = b[:maxLogBody]
	}
	return string(b)
}
