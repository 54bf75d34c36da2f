package elastic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/minewatch/minewatch/index"
)

// FuzzDecodeCursor: a cursor comes from a URL; any string must be refused
// with ErrBadQuery or give only scalar search_after values.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(7, []json.RawMessage{json.RawMessage(`2.5`), json.RawMessage(`"a"`)}))
	f.Add("not a cursor!")
	f.Add("")
	f.Add("eyJmIjo3LCJhIjpbe31dfQ")
	f.Fuzz(func(t *testing.T, s string) {
		after, err := decodeCursor(s, 7)
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("error %v does not wrap ErrBadQuery", err)
			}
			return
		}
		for _, v := range after {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				t.Fatalf("value %s does not parse", v)
			}
			switch x.(type) {
			case string, float64, nil:
			default:
				t.Fatalf("non-scalar value %s accepted", v)
			}
		}
	})
}

// FuzzParseHighlight: whatever the cluster returns, the pieces put back
// together are the text without the tags.
func FuzzParseHighlight(f *testing.F) {
	f.Add("the \uE000Ottawa\uE001 treaty")
	f.Add("\uE000Cluster Munitions\uE001 and \uE000Lietuvą")
	f.Add("\uE001\uE000\uE000x")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		frags := parseHighlight(s)
		var b strings.Builder
		for _, fr := range frags {
			if fr.Text == "" {
				t.Fatalf("empty fragment in %+v", frags)
			}
			b.WriteString(fr.Text)
		}
		want := strings.NewReplacer(matchStart, "", matchEnd, "").Replace(s)
		if b.String() != want {
			t.Fatalf("pieces %q, want %q", b.String(), want)
		}
		trimFragments(frags)
	})
}

// FuzzBuildSearch: any query text translates to a body that encodes, or to
// an error wrapping ErrBadQuery.
func FuzzBuildSearch(f *testing.F) {
	for _, q := range []string{"ottawa", `"anti-personnel mine*" NEAR/5 withdraw*`, "title:(a OR b) NOT c", "a NEAR/s (b OR \"c d\")", "((", "x AND"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := buildSearch(index.Query{Text: text})
		if err != nil {
			if !errors.Is(err, index.ErrBadQuery) {
				t.Fatalf("error %v does not wrap ErrBadQuery", err)
			}
			return
		}
		if _, err := json.Marshal(r.body); err != nil {
			t.Fatalf("body does not encode: %v", err)
		}
	})
}
