package gateway

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"testing"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// An endless gzip stream of zeros stops at the limit of decompressed
// output, having read only a little of the compressed stream.
func TestInflatedStopsAtLimit(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		zero := make([]byte, 64<<10)
		for {
			if _, err := zw.Write(zero); err != nil {
				return
			}
		}
	}()
	defer pr.Close()
	const limit = 4 << 10
	src := &countingReader{r: pr}
	b := &inflated{open: openGzip, src: http.MaxBytesReader(nil, io.NopCloser(src), 1<<20), raw: pr, left: limit, limit: limit}
	got, err := io.ReadAll(b)
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) || mbe.Limit != limit {
		t.Fatalf("err = %v, want a MaxBytesError with limit %d", err, limit)
	}
	if len(got) != limit {
		t.Errorf("read %d bytes, want %d", len(got), limit)
	}
	if src.n > 256<<10 {
		t.Errorf("read %d compressed bytes for %d of output", src.n, limit)
	}
}

func TestInflatedExactlyAtLimit(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		zw.Write(make([]byte, 100))
		zw.Close()
		pw.Close()
	}()
	b := &inflated{open: openGzip, src: pr, raw: pr, left: 100, limit: 100}
	got, err := io.ReadAll(b)
	if err != nil || len(got) != 100 {
		t.Fatalf("got %d bytes, %v; want 100 and no error", len(got), err)
	}
}

func TestIsZlibHeader(t *testing.T) {
	for _, h := range [][2]byte{{0x78, 0x01}, {0x78, 0x9c}, {0x78, 0xda}} {
		if !isZlibHeader(h[0], h[1]) {
			t.Errorf("%x is a zlib header", h)
		}
	}
	if isZlibHeader('{', '"') {
		t.Error(`{" is not a zlib header`)
	}
}
