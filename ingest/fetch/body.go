package fetch

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
)

// errCapped is returned by cappedReader past its limit.
var errCapped = errors.New("limit reached")

// cappedReader fails once more than n bytes have come through it, instead of
// quietly truncating as io.LimitReader would.
type cappedReader struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errCapped
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errCapped
	}
	return n, err
}

// readBody reads and decompresses a response body. Both the bytes on the wire
// and the decompressed bytes are capped at limit, which is what stops a
// decompression bomb. With truncate, a longer body is cut at limit rather
// than refused.
func readBody(resp *http.Response, limit int64, truncate bool) ([]byte, error) {
	if !truncate && resp.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var r io.Reader = &cappedReader{r: resp.Body, n: limit}
	r, err := decoder(r, resp.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(&cappedReader{r: r, n: limit})
	if errors.Is(err, errCapped) {
		if truncate {
			return body[:min(int64(len(body)), limit)], nil
		}
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: over the limit of %d bytes (%.1f MB, Options.MaxBodyBytes)", ErrTooLarge, limit, float64(limit)/(1<<20))
}

// decoder undoes a Content-Encoding. Codings apply in the order listed, so
// they are undone from the last. We decode ourselves, rather than let
// net/http do it, to add brotli and to cap what decompression produces.
func decoder(r io.Reader, contentEncoding string) (io.Reader, error) {
	codings := strings.Split(contentEncoding, ",")
	for i := len(codings) - 1; i >= 0; i-- {
		switch c := strings.ToLower(strings.TrimSpace(codings[i])); c {
		case "", "identity":
		case "gzip", "x-gzip":
			br := bufio.NewReader(r)
			// Some servers label plain bodies gzip; read those as they are.
			if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
				r = br
				continue
			}
			zr, err := gzip.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("gzip body: %w", err)
			}
			r = zr
		case "deflate":
			// "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2), but many
			// servers send raw DEFLATE; the zlib header tells them apart.
			br := bufio.NewReader(r)
			hdr, _ := br.Peek(2)
			if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
				zr, err := zlib.NewReader(br)
				if err != nil {
					return nil, fmt.Errorf("deflate body: %w", err)
				}
				r = zr
			} else {
				r = flate.NewReader(br)
			}
		case "br":
			r = brotli.NewReader(r)
		default:
			return nil, fmt.Errorf("unsupported Content-Encoding %q", c)
		}
	}
	return r, nil
}
