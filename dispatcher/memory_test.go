package dispatcher_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/dispatcher"
)

// TestMemoryPendingRetries measures the heap held by pending retries: it
// publishes JQLGATE_MEM_RETRIES events (e.g. 100000) to a receiver that
// always answers 500 with an hour-long retry, once with retries beyond the
// horizon left in the store and once with every retry kept in memory, and
// logs the heap in use after each. Skipped unless the variable is set.
func TestMemoryPendingRetries(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("JQLGATE_MEM_RETRIES"))
	if n <= 0 {
		t.Skip("set JQLGATE_MEM_RETRIES to measure")
	}
	for _, horizon := range []time.Duration{2 * time.Minute, -1} {
		t.Run("horizon="+horizon.String(), func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
			go func() {
				for range rc.reqs {
				}
			}()
			s := sub("sub_mem", "*", rc.URL)
			s.RetryPolicy.Schedule = []time.Duration{time.Hour}
			s.MaxInFlight = 64
			reg := prometheus.NewRegistry()
			before := heapInUse()
			e := start(t, newSource(s), dispatcher.Config{RetryHorizon: horizon, Registry: reg, Workers: 64})
			start := time.Now()
			publishMany(t, e, n)
			for resent(t, reg) < float64(n) {
				time.Sleep(200 * time.Millisecond)
			}
			after := heapInUse()
			t.Logf("%d pending retries, horizon %s: heap in use %.1f MiB over the baseline (%.0f bytes per retry); %s to publish and attempt",
				n, horizon, float64(after-before)/(1<<20), float64(after-before)/float64(n), time.Since(start).Round(time.Second))
		})
	}
}

func publishMany(t *testing.T, e *env, n int) {
	var wg sync.WaitGroup
	per := n / 8
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += 100 {
				evs := make([]*jqlgate.Event, 0, 100)
				for j := i; j < min(i+100, per); j++ {
					evs = append(evs, event("mem.Test:create", strconv.Itoa(w*per+j), map[string]any{"n": j}))
				}
				if err := e.d.Publish(context.Background(), evs...); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func resent(t *testing.T, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "jqlgate_webhook_attempts_total" {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == jqlgate.StatusResent {
					sum += m.GetCounter().GetValue()
				}
			}
		}
		return sum
	}
	return 0
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
