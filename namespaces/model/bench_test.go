package model_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jqlgate/jqlgate"
	"github.com/jqlgate/jqlgate/schemas"
)

// BenchmarkCreate measures durable creates through the handler with many
// concurrent callers sharing group commits. Run with
//
//	go test ./namespaces/model -run '^$' -bench Create -benchtime 5000x
func BenchmarkCreate(b *testing.B) {
	e := newEnv(b, "")
	b.SetParallelism(32)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			cmd := &jqlgate.Command{Meta: jqlgate.Meta{Namespace: "profile.Customer", Schema: "model", Intent: "create"},
				Fields: map[string]any{"name": fmt.Sprint("C", i), "email": fmt.Sprintf("c%d@example.com", i)}}
			if _, err := e.mux.Serve(context.Background(), cmd); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}

// BenchmarkRetrieve measures retrieve latency over 10,000 and 100,000
// customers; pick one size to stay within a minute:
//
//	go test ./namespaces/model -run '^$' -bench 'Retrieve/^10000$' -benchtime 5x
func BenchmarkRetrieve(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchRetrieve(b, size) })
	}
}

func benchRetrieve(b *testing.B, size int) {
	e := newEnv(b, "")
	id := seed(b, e, size)
	cases := []struct{ name, meta string }{
		{"uniqueObject", `"uniqueObject":{"id":"` + id + `"}`},
		{"firstPage", `"limit":25`},
		{"filterOrder", `"filter":{"status":"blocked"},"ordering":["-created_at"],"limit":25`},
		{"search", `"search":{"value":"c4242@"},"limit":25`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cmd := command(b, `{"__meta__":{`+meta+`,"intent":"retrieve",`+c.meta+`}}`)
			for b.Loop() {
				if _, err := e.mux.Serve(context.Background(), cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seed stores n customers straight through the record store (one in ten
// blocked) and returns the id of one of them.
func seed(b *testing.B, e *env, n int) string {
	b.Helper()
	set, _ := schemas.LoadModels("")
	m := set.Model("profile.Customer")
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				status := "active"
				if i%10 == 0 {
					status = "blocked"
				}
				rec := map[string]any{"id": m.NewID(), "name": fmt.Sprint("C", i), "email": fmt.Sprintf("c%d@example.com", i), "status": status}
				if err := e.store.Insert(context.Background(), m.Collection, rec); err != nil {
					b.Error(err)
					return
				}
				ids <- rec["id"].(string)
			}
		}()
	}
	wg.Wait()
	return <-ids
}

// benchSizes are the collection sizes BenchmarkRetrieve seeds.
var benchSizes = []int{10_000, 100_000}
