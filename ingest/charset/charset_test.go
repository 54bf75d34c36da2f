package charset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	lt    = "Lietuva pasitraukė iš Otavos konvencijos dėl priešpėstinių minų; Seimas balsavo už."
	lv    = "Saeima nobalsoja par izstāšanos no Otavas konvencijas: kājnieku mīnas, ģeogrāfija, ļoti ņemts vērā."
	pl    = "Polska wznowi produkcję min przeciwpiechotnych; Sejm zagłosował za wypowiedzeniem konwencji. Źródło: żołnierz."
	ru    = "Литва вышла из Конвенции о кассетных боеприпасах; Ёлкин сообщил."
	uk    = "Україна призупинила дію Оттавської конвенції; ґрунт, їжак, єдність."
	fr    = "Norwegen bleibt im Übereinkommen; « mines antipersonnel », déminage à Genève."
	w1252 = "“Finnland verlässt das Ottawa-Übereinkommen” – sagt der Minister…"
)

func TestToUTF8Fixtures(t *testing.T) {
	tests := []struct {
		file        string
		contentType string
		wantName    string
		wantText    string
		wantDecl    bool // output must carry encoding="UTF-8"
	}{
		{"feed-windows-1257.xml", "application/rss+xml", "windows-1257", lt, true},
		{"page-iso-8859-13.html", "text/html", "iso-8859-13", lv, false},
		{"feed-windows-1250.xml", "text/xml; charset=windows-1250", "windows-1250", pl, false},
		{"page-iso-8859-2.html", "", "iso-8859-2", pl, false},
		{"page-windows-1251.html", "text/html", "windows-1251", ru, false},
		{"feed-koi8-r.xml", "", "koi8-r", ru, true},
		{"page-koi8-u.html", `text/html; charset="KOI8-U"`, "koi8-u", uk, false},
		{"page-iso-8859-1.html", "", "windows-1252", fr, false},
		{"page-windows-1252-undeclared.html", "text/html", "windows-1252", w1252, false},
		{"feed-utf-16le-bom.xml", "application/xml", "utf-16le", lt, true},
		{"feed-utf-16be-bom.xml", "application/xml; charset=iso-8859-1", "utf-16be", uk, true},
		{"page-utf-8-bom.html", "text/html; charset=windows-1251", "utf-8", ru, false},
		{"page-utf-8-mislabelled.html", "text/html; charset=ISO-8859-1", "utf-8", lv, false},
		{"page-header-wins.html", "text/html; charset=windows-1257", "windows-1257", lt, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			out, name, err := ToUTF8(body, tt.contentType)
			if err != nil {
				t.Fatalf("ToUTF8: %v", err)
			}
			if name != tt.wantName {
				t.Errorf("charset = %q, want %q", name, tt.wantName)
			}
			if !utf8.Valid(out) {
				t.Errorf("output is not valid UTF-8")
			}
			if !strings.Contains(string(out), tt.wantText) {
				t.Errorf("output lacks %q:\n%s", tt.wantText, out)
			}
			if bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
				t.Errorf("output keeps the BOM")
			}
			if tt.wantDecl && !strings.Contains(string(out), `encoding="UTF-8"`) && !strings.Contains(string(out), `encoding='UTF-8'`) {
				t.Errorf("XML declaration not rewritten: %.80s", out)
			}
		})
	}
}

func TestToUTF8Edges(t *testing.T) {
	late, err := os.ReadFile(filepath.Join("testdata", "page-windows-1257-late-meta.html"))
	if err != nil {
		t.Fatal(err)
	}
	invalid, err := os.ReadFile(filepath.Join("testdata", "page-utf-8-invalid.html"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantName    string
		wantOut     string // exact output when set
		wantSub     string // substring of the output when set
	}{
		{name: "empty", body: nil, wantName: "utf-8", wantOut: ""},
		{name: "ascii", body: []byte("plain text"), wantName: "utf-8", wantOut: "plain text"},
		{name: "only BOM", body: []byte("\xEF\xBB\xBF"), wantName: "utf-8", wantOut: ""},
		{
			name: "invalid UTF-8 declared UTF-8 is repaired", body: invalid, contentType: "text/html; charset=utf-8",
			wantName: "utf-8", wantSub: "Otavos konvencija \uFFFD \uFFFD pabaiga",
		},
		{
			// A meta tag past the scan window is not seen; the body is not
			// UTF-8, so the last resort applies.
			name: "meta after 2 KB", body: late, wantName: "windows-1252", wantSub: "pasitrauk",
		},
		{
			name: "unknown header label falls through to the declaration", contentType: "text/xml; charset=x-bogus",
			body:     []byte("<?xml version=\"1.0\" encoding=\"windows-1251\"?><a>\xcb\xe8\xf2\xe2\xe0</a>"),
			wantName: "windows-1251", wantOut: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>Литва</a>",
		},
		{
			name: "UTF-16 named in a declaration without BOM means UTF-8",
			body: []byte("<?xml version='1.0' encoding='utf-16'?><a>ąč</a>"), wantName: "utf-8",
			wantOut: "<?xml version='1.0' encoding='UTF-8'?><a>ąč</a>",
		},
		{
			name: "declaration already UTF-8 is untouched",
			body: []byte(`<?xml version="1.0" encoding="utf-8"?><a/>`), wantName: "utf-8",
			wantOut: `<?xml version="1.0" encoding="utf-8"?><a/>`,
		},
		{
			name: "malformed content type still names its charset", contentType: "text/html;; charset=koi8-r junk",
			body: []byte("\xec\xc9\xd4\xd7\xc1"), wantName: "koi8-r", wantOut: "Литва",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, name, err := ToUTF8(tt.body, tt.contentType)
			if err != nil {
				t.Fatalf("ToUTF8: %v", err)
			}
			if name != tt.wantName {
				t.Errorf("charset = %q, want %q", name, tt.wantName)
			}
			if tt.wantOut != "" || tt.wantSub == "" {
				if string(out) != tt.wantOut {
					t.Errorf("output = %q, want %q", out, tt.wantOut)
				}
			}
			if tt.wantSub != "" && !strings.Contains(string(out), tt.wantSub) {
				t.Errorf("output %q lacks %q", out, tt.wantSub)
			}
		})
	}
}

func TestToUTF8DoesNotAliasInput(t *testing.T) {
	body := []byte("Otava")
	out, _, err := ToUTF8(body, "")
	if err != nil {
		t.Fatal(err)
	}
	body[0] = 'X'
	if string(out) != "Otava" {
		t.Fatalf("output changed with the input: %q", out)
	}
}

func FuzzToUTF8(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) == ".go" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "text/html")
	}
	f.Add([]byte("\xFF\xFE<\x00?\x00"), "")
	f.Add([]byte(`<?xml encoding="koi8-u"?>`), "text/xml; charset=")
	f.Add([]byte(`<meta http-equiv=content-type content='charset="utf-16"'>`), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		out, name, err := ToUTF8(body, contentType)
		if err != nil {
			return
		}
		if name == "" {
			t.Fatalf("no charset name for %q", body)
		}
		if !utf8.Valid(out) {
			t.Fatalf("invalid UTF-8 output %q (charset %s)", out, name)
		}
	})
}

func BenchmarkToUTF8(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "page-windows-1251.html"))
	if err != nil {
		b.Fatal(err)
	}
	body = bytes.Repeat(body, 200)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := ToUTF8(body, "text/html"); err != nil {
			b.Fatal(err)
		}
	}
}
