package canon

import (
	"errors"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower scheme and host", "HTTPS://WWW.Reuters.COM/World/Europe/", "https://www.reuters.com/World/Europe/"},
		{"default http port", "http://example.com:80/a", "http://example.com/a"},
		{"default https port", "https://example.com:443/a", "https://example.com/a"},
		{"other port kept", "https://example.com:8443/a", "https://example.com:8443/a"},
		{"http port 443 kept", "http://example.com:443/a", "http://example.com:443/a"},
		{"fragment dropped", "https://example.com/a#comments", "https://example.com/a"},
		{"empty path", "https://example.com", "https://example.com/"},
		{"trailing slash kept", "https://example.com/news/", "https://example.com/news/"},
		{"no trailing slash kept", "https://example.com/news", "https://example.com/news"},
		{"utm removed", "https://example.com/a?utm_source=tw&utm_medium=social&id=5", "https://example.com/a?id=5"},
		{"all tracking removed drops ?", "https://example.com/a?fbclid=x&gclid=y&UTM_Campaign=z", "https://example.com/a"},
		{"many trackers", "https://e.com/?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&yclid=5&_ga=6&igshid=7&ref_src=8&cmpid=9&ocid=10&at_medium=11&at_campaign=12&wt_mc=13&ns_source=14&ns_mchannel=15&keep=1", "https://e.com/?keep=1"},
		{"sorted params", "https://example.com/s?q=mines&a=2&b=1", "https://example.com/s?a=2&b=1&q=mines"},
		{"repeated key keeps value order", "https://example.com/s?t=2&a=1&t=1", "https://example.com/s?a=1&t=2&t=1"},
		{"dot segments", "https://example.com/a/b/../c/./d", "https://example.com/a/c/d"},
		{"dot segments above root", "https://example.com/../../a", "https://example.com/a"},
		{"trailing dot segment", "https://example.com/a/b/..", "https://example.com/a/"},
		{"idna", "https://Bücher.example/ö", "https://xn--bcher-kva.example/%C3%B6"},
		{"idna lithuanian", "https://LRT.lt/naujienos/pasaulyje?utm_source=rss", "https://lrt.lt/naujienos/pasaulyje"},
		{"unicode host", "https://ąžuolas.lt/", "https://xn--uolas-2wa16f.lt/"},
		{"escape normalisation", "https://example.com/%7euser/%2f%41?q=%e2%82%ac", "https://example.com/~user/%2FA?q=%E2%82%AC"},
		{"space escaped", "https://example.com/a b", "https://example.com/a%20b"},
		{"plus kept in query", "https://example.com/?q=a+b", "https://example.com/?q=a+b"},
		{"key without value", "https://example.com/?b&a=1", "https://example.com/?a=1&b"},
		{"empty pairs dropped", "https://example.com/?&&a=1&", "https://example.com/?a=1"},
		{"trailing dot host", "https://example.com./a", "https://example.com/a"},
		{"ipv6", "http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"},
		{"ipv4", "http://192.168.0.1:8080/", "http://192.168.0.1:8080/"},
		{"userinfo kept", "https://user@example.com/", "https://user@example.com/"},
		{"spaces trimmed", "  https://example.com/a \n", "https://example.com/a"},
		{"semicolon kept", "https://example.com/a;jsessionid=1?x=1;y=2", "https://example.com/a;jsessionid=1?x=1;y=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Clean(tt.in)
			if err != nil {
				t.Fatalf("Clean(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Clean(got)
			if err != nil || again != got {
				t.Errorf("Clean not idempotent: Clean(%q) = %q, %v", got, again, err)
			}
		})
	}
}

func TestCleanErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"ftp", "ftp://example.com/a", ErrUnsupportedScheme},
		{"mailto", "mailto:a@example.com", ErrUnsupportedScheme},
		{"relative", "/news/a", ErrUnsupportedScheme},
		{"javascript", "javascript:alert(1)", ErrUnsupportedScheme},
		{"no host", "http:///path", ErrNoHost},
		{"opaque", "http:example.com", ErrNoHost},
		{"bad escape in host", "http://exa%zzmple.com/", nil},
		{"bad port", "http://example.com:port/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Clean(tt.in)
			if err == nil {
				t.Fatalf("Clean(%q) = %q, want error", tt.in, got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Clean(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestIsTrackingParam(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{{"utm_source", true}, {"UTM_TERM", true}, {"fbclid", true}, {"ns_campaign", true}, {"id", false}, {"page", false}, {"utm", false}} {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTrackingParam(tt.name); got != tt.want {
				t.Errorf("IsTrackingParam(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"https://www.example.com/a/b?utm_source=x&b=2&a=1#frag",
		"HTTP://Bücher.example:80/../a/./b/",
		"http://[::1]:8080/%7e?q=%zz",
		"https://example.com/a%2Fb?x=1;y=2&&",
		"http://user:pass@host/",
		"https://ąžuolas.lt/naujienos?fbclid=1",
		"http://example.com/%",
		"https://example.com/a b?c d=e f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Clean(in)
		if err != nil {
			return
		}
		again, err := Clean(out)
		if err != nil {
			t.Fatalf("Clean(%q) = %q, which does not clean again: %v", in, out, err)
		}
		if again != out {
			t.Fatalf("not idempotent: Clean(%q) = %q, Clean(that) = %q", in, out, again)
		}
	})
}

func BenchmarkClean(b *testing.B) {
	const u = "https://www.lrt.lt/naujienos/pasaulyje/2/2563412/lietuva-traukiasi?utm_source=rss&utm_medium=feed&id=7#x"
	for b.Loop() {
		if _, err := Clean(u); err != nil {
			b.Fatal(err)
		}
	}
}
