package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// esError is an Elasticsearch error response: the HTTP status and the root
// cause's type and reason.
type esError struct {
	Status int
	Type   string
	Reason string
}

func (e *esError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch: status %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch: status %d: %s: %s", e.Status, e.Type, e.Reason)
}

// errorBody is the shape of an error response body.
type errorBody struct {
	Error struct {
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
	} `json:"error"`
}

// responseError reads an error response into an *esError.
func responseError(res *esapi.Response) error {
	return decodeError(res.StatusCode, res.Body)
}

func decodeError(status int, body io.Reader) error {
	e := &esError{Status: status}
	var b errorBody
	if body != nil {
		data, _ := io.ReadAll(io.LimitReader(body, 1<<20))
		if json.Unmarshal(data, &b) == nil {
			e.Type, e.Reason = b.Error.Type, b.Error.Reason
			if len(b.Error.RootCause) > 0 && e.Type == "" {
				e.Type, e.Reason = b.Error.RootCause[0].Type, b.Error.RootCause[0].Reason
			}
		}
	}
	return e
}

// isType reports whether err is an Elasticsearch error of the given type.
func isType(err error, typ string) bool {
	e, ok := err.(*esError)
	return ok && e.Type == typ
}

// isStatus reports whether err is an Elasticsearch error with the status.
func isStatus(err error, status int) bool {
	e, ok := err.(*esError)
	return ok && e.Status == status
}

// do sends one request through the client (auth, retries, product check) and
// decodes a JSON answer into out (unless nil). Path segments must already be
// escaped (see pathEscape). A status >= 300 returns an *esError.
func (s *Store) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				return fmt.Errorf("encode %s %s: %w", method, path, err)
			}
			rd = bytes.NewReader(data)
		}
	}
	u := &url.URL{Path: unescapePath(path), RawPath: path}
	if query != nil {
		u.RawQuery = query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.es.Perform(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return decodeError(res.StatusCode, res.Body)
	}
	if out == nil || method == http.MethodHead {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// pathEscape escapes one path segment: event keys hold slashes.
func pathEscape(seg string) string { return url.PathEscape(seg) }

func unescapePath(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return u
}

// refreshParam is the query string for single-document writes.
func (s *Store) refreshParam() url.Values {
	if s.refresh == RefreshNone {
		return nil
	}
	return url.Values{"refresh": {s.refresh}}
}
