package dispatcher_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
	"github.com/jqlgate/jqlgate/mongodb"
	"github.com/jqlgate/jqlgate/test/mongotest"
)

// orderedReceiver fails event failN failTimes times and records the order
// of requests and of successful receipts.
type orderedReceiver struct {
	mu        sync.Mutex
	failN     int
	failTimes int
	doneUpTo  int   // highest n received successfully in order
	requests  []int // every n requested, in arrival order
	violation string
}

func (o *orderedReceiver) handle(_ int, w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.Header.Get("X-Webhook-Entity-Id"))
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, n)
	if n > o.doneUpTo+1 && o.violation == "" {
		o.violation = fmt.Sprintf("event %d requested before event %d was done (requests %v)", n, o.doneUpTo+1, o.requests)
	}
	if n == o.failN && o.failTimes > 0 {
		o.failTimes--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	o.doneUpTo = max(o.doneUpTo, n)
}

func (o *orderedReceiver) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		o.mu.Lock()
		done, v := o.doneUpTo, o.violation
		o.mu.Unlock()
		if v != "" {
			t.Fatal(v)
		}
		if done == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only events up to %d done; requests %v", done, o.requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOrderedDelivery: an ordered subscription receives events 1..10
// strictly in order although the receiver fails the third a few times,
// across retries and across a restart while the third waits for its retry.
func TestOrderedDelivery(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			o := &orderedReceiver{failN: 3, failTimes: 2}
			rc := newReceiver(t, o.handle)
			s := sub("sub_ord", "*", rc.URL)
			s.Ordered, s.MaxInFlight = true, 8
			s.RetryPolicy.Schedule = []time.Duration{30 * time.Millisecond, 300 * time.Millisecond, 30 * time.Millisecond}
			store := mongodb.NewDeliveryStore(mongotest.New(t))
			e := startOn(t, store, newSource(s), dispatcher.Config{})
			for n := 1; n <= 10; n++ {
				publish(t, e, event("a.B:create", strconv.Itoa(n), nil))
			}
			if restart {
				e.waitAttempts(t, func(as []*jqlgate.Attempt) bool { return len(as) >= 4 })
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := e.d.Close(ctx); err != nil {
					t.Fatal(err)
				}
				startOn(t, store, newSource(s), dispatcher.Config{})
			}
			o.wait(t, 10)
		})
	}
}
