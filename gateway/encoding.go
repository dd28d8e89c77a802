package gateway

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jqlgate/jqlgate"
)

// decodeBody undoes a request body's Content-Encoding before any handler
// reads it: gzip (x-gzip) and deflate are decompressed, identity passes,
// and anything else is a 415, so a body is never read as if it were plain
// when it is not. The compressed body and the decompressed one are both
// bounded by BodyBytes: a small body that inflates past the limit is a 413
// after at most BodyBytes have been decompressed, never more.
func (s *Server) decodeBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get(echo.HeaderContentEncoding)))
		if enc == "" || enc == "identity" {
			return next(c)
		}
		s.setup()
		open, ok := decompressors[enc]
		if !ok {
			return jqlgate.Errorf(jqlgate.EUNSUPPORTED, "Unsupported Content-Encoding %q: send the body uncompressed, or as gzip or deflate.", r.Header.Get(echo.HeaderContentEncoding))
		}
		limit := s.lim.BodyBytes
		if r.ContentLength > limit {
			return tooLarge(limit)
		}
		raw := http.MaxBytesReader(c.Response().Writer, r.Body, limit)
		r.Body = &inflated{open: open, src: raw, raw: r.Body, left: limit, limit: limit}
		r.ContentLength = -1
		r.Header.Del(echo.HeaderContentEncoding)
		r.Header.Del(echo.HeaderContentLength)
		return next(c)
	}
}

// decompressors open a decompressing reader on a body, by the
// Content-Encoding token that names it.
var decompressors = map[string]func(io.Reader) (io.Reader, error){
	"gzip":    openGzip,
	"x-gzip":  openGzip,
	"deflate": openDeflate,
}

func openGzip(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }

// openDeflate reads HTTP's deflate, which RFC 9110 defines as the zlib
// format; some clients send raw deflate data instead, so a body that does
// not start with a zlib header is read as raw deflate.
func openDeflate(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if h, err := br.Peek(2); err == nil && isZlibHeader(h[0], h[1]) {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// isZlibHeader reports whether cmf, flg start a zlib stream (RFC 1950):
// method 8 (deflate), a window of at most 32 KiB, and a valid check.
func isZlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

// inflated is a request body read through a decompressor, opened on the
// first Read (so a handler that never reads never decompresses), and cut
// at left bytes of output with an *http.MaxBytesError, which the error
// handler answers with a 413.
type inflated struct {
	open  func(io.Reader) (io.Reader, error)
	src   io.Reader     // the compressed body, itself bounded
	raw   io.ReadCloser // the original body, to close
	dec   io.Reader
	left  int64 // output still allowed
	limit int64
	err   error
}

func (b *inflated) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.dec == nil {
		dec, err := b.open(b.src)
		if err != nil {
			b.err = corrupt(err)
			return 0, b.err
		}
		b.dec = dec
	}
	if b.left <= 0 {
		// Past the limit only if there is more to come.
		var one [1]byte
		n, err := b.dec.Read(one[:])
		if n > 0 {
			b.err = &http.MaxBytesError{Limit: b.limit}
			return 0, b.err
		}
		b.err = corrupt(err)
		return 0, b.err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.dec.Read(p)
	b.left -= int64(n)
	if err != nil {
		b.err = corrupt(err)
	}
	return n, b.err
}

func (b *inflated) Close() error { return b.raw.Close() }

// corrupt passes EOF and limit errors through and turns what a
// decompressor reports about bad data into a 400 that says so.
func corrupt(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case err == nil, err == io.EOF, errors.As(err, &mbe):
		return err
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, zlib.ErrHeader),
		errors.Is(err, zlib.ErrChecksum), errors.Is(err, zlib.ErrDictionary), errors.Is(err, io.ErrUnexpectedEOF):
		return jqlgate.Invalid("", "The request body is not valid per its Content-Encoding (it is damaged or ends too soon).")
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return jqlgate.Invalid("", "The request body is not valid per its Content-Encoding (it is damaged or ends too soon).")
	}
	return err
}
