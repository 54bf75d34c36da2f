package disk

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minewatch/minewatch/index"
)

func render(frags []index.Fragment) string {
	var b strings.Builder
	for _, f := range frags {
		if f.Match {
			b.WriteString("[" + f.Text + "]")
		} else {
			b.WriteString(f.Text)
		}
	}
	return b.String()
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("filler words here. ", 30)
	tests := []struct {
		name  string
		text  string
		words []snippetWord
		want  string
	}{
		{"no words", "Short text.", nil, "Short text."},
		{"marks every hit", "Lietuvą paliko konvenciją. Lietuva!", []snippetWord{{text: "lietuva"}},
			"[Lietuvą] paliko konvenciją. [Lietuva]!"},
		{"prefix", "Konwencji ottawskiej nie ma.", []snippetWord{{text: "konwenc", prefix: true}},
			"[Konwencji] ottawskiej nie ma."},
		{"no hit: start of text", "Alpha beta gamma.", []snippetWord{{text: "delta"}}, "Alpha beta gamma."},
		{"empty", "  ", []snippetWord{{text: "x"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(snippet(tc.text, tc.words)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("window around a late hit", func(t *testing.T) {
		text := long + "Poland will produce landmines again. " + long
		got := render(snippet(text, []snippetWord{{text: "landmines"}}))
		if !strings.HasPrefix(got, ellipsis) || !strings.HasSuffix(got, ellipsis) || !strings.Contains(got, "[landmines]") {
			t.Errorf("got %q", got)
		}
		if n := len(got); n > snippetLen+20 {
			t.Errorf("snippet %d bytes long", n)
		}
	})
	t.Run("no word cut, valid UTF-8", func(t *testing.T) {
		text := strings.Repeat("ąčęėįšųūž ", 60)
		got := render(snippet(text, nil))
		if !utf8.ValidString(got) || !strings.HasSuffix(got, "ž"+ellipsis) {
			t.Errorf("got %q", got)
		}
	})
}

func BenchmarkSnippet(b *testing.B) {
	text := strings.Repeat("Filler about weather and traffic. ", 40) + "Lithuania left the Convention on Cluster Munitions."
	words := []snippetWord{{text: "lithuania"}, {text: "munition", prefix: true}}
	for b.Loop() {
		snippet(text, words)
	}
}
