package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that it returns
// either a config or errors, never both or neither.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(DefaultYAML())
	f.Add([]byte("a: &a [*a, *a]\nsources: *a\n"))
	f.Add([]byte("sources:\n  - <<: {id: x, url: 'http://a'}\n    <<: [*b]\n"))
	f.Add([]byte("topics:\n - id: t\n   rules:\n    - id: r\n      query: |9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("empty error message")
		}
	})
}
