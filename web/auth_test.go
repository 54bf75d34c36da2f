package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/minewatch/minewatch/index"
)

// cheapArgon2 keeps test logins fast; the format and code path are the real ones.
var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	viewerPass  = "correct horse viewer"
	adminPass   = "correct horse admin"
	viewerToken = "tok-viewer-0123456789abcdef"
	adminToken  = "tok-admin-0123456789abcdef"
)

func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := HashPassword(pw, cheapArgon2)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fakeAdmin records the admin actions it was asked for.
type fakeAdmin struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeAdmin) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeAdmin) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeAdmin) FetchSource(_ context.Context, id string) (FetchResult, error) {
	f.record("fetch " + id)
	if id != "gn-pl" {
		return FetchResult{}, ErrNotFound
	}
	return FetchResult{SourceID: id, Items: 3, New: 1, Indexed: 1}, nil
}

func (f *fakeAdmin) TestRule(_ context.Context, t RuleTest) (RuleTestResult, error) {
	f.record("rule " + t.Query)
	if strings.Contains(t.Query, "((") {
		return RuleTestResult{}, ErrInvalid
	}
	return RuleTestResult{Query: t.Query, Matched: strings.Contains(t.Text, t.Query), Language: "en"}, nil
}

func (f *fakeAdmin) StartReclassify(_ context.Context, all bool) (ReclassifyStatus, error) {
	f.record("reclassify")
	return ReclassifyStatus{Running: true, RulesVersion: "v1"}, nil
}

func (f *fakeAdmin) ReclassifyStatus(context.Context) (ReclassifyStatus, error) {
	return ReclassifyStatus{RulesVersion: "v1"}, nil
}

func (f *fakeAdmin) AlertRules(context.Context) ([]AlertRule, error) {
	return []AlertRule{{ID: "baltic", Channels: []string{"webhook"}}}, nil
}

func (f *fakeAdmin) SendTestAlert(_ context.Context, rule, channel string) ([]ChannelResult, error) {
	f.record("alert " + rule)
	if rule != "baltic" {
		return nil, ErrNotFound
	}
	return []ChannelResult{{Channel: "webhook"}}, nil
}

type authServer struct {
	testServer
	admin *fakeAdmin
	saved *fakeSaver
	now   *clock
}

// clock is a settable Now for session expiry and the login rate limit.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newAuthServer is the test server with logins on (auth true) or off, two
// users, two tokens and every admin action.
func newAuthServer(t testing.TB, auth bool, mod func(*Options)) authServer {
	t.Helper()
	fa := &fakeAdmin{}
	fs := &fakeSaver{}
	c := &clock{t: testNow}
	ts := newTestServer(t, func(o *Options) {
		o.Now = c.Now
		o.Saved = fs
		o.Gatherer = prometheus.NewRegistry()
		o.Admin = AdminOptions{Fetcher: fa, Rules: fa, Reclassifier: fa, Alerts: fa}
		if auth {
			o.Auth = &AuthOptions{
				Users: []User{{Name: "vera", Role: RoleViewer, PasswordHash: mustHash(t, viewerPass)},
					{Name: "Adam", Role: RoleAdmin, PasswordHash: mustHash(t, adminPass)}},
				Tokens: []Token{{Name: "ci-viewer", Role: RoleViewer, SHA256: sha256.Sum256([]byte(viewerToken))},
					{Name: "ci-admin", Role: RoleAdmin, SHA256: sha256.Sum256([]byte(adminToken))}},
				SessionTTL: time.Hour,
			}
		}
		if mod != nil {
			mod(o)
		}
	})
	return authServer{testServer: ts, admin: fa, saved: fs, now: c}
}

var csrfValueRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]{32})"`)

// do sends one request with the given cookies and headers.
func (a authServer) do(method, target, body string, cookies []*http.Cookie, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.7:5555"
	if body != "" && hdr["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

// session is a signed-in browser: its cookies and the session's CSRF token.
type browserSession struct {
	cookies []*http.Cookie
	csrf    string
}

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// loginForm fetches the login page and returns its CSRF cookie and token.
func (a authServer) loginForm(t testing.TB) (*http.Cookie, string) {
	t.Helper()
	return a.csrfPair(t, "/login")
}

// csrfPair fetches a page with a form and returns its double-submit CSRF
// cookie and token.
func (a authServer) csrfPair(t testing.TB, path string) (*http.Cookie, string) {
	t.Helper()
	rec := a.do("GET", path, "", nil, nil)
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	c := cookieNamed(rec, csrfCookie)
	m := csrfValueRe.FindStringSubmatch(rec.Body.String())
	if c == nil || m == nil || m[1] != c.Value {
		t.Fatalf("login page has no CSRF cookie and matching field")
	}
	return c, m[1]
}

func (a authServer) tryLogin(t testing.TB, user, pw string) *httptest.ResponseRecorder {
	t.Helper()
	c, tok := a.loginForm(t)
	form := url.Values{"user": {user}, "password": {pw}, "csrf": {tok}, "next": {"/sources"}}
	return a.do("POST", "/login", form.Encode(), []*http.Cookie{c}, nil)
}

func (a authServer) login(t testing.TB, user, pw string) browserSession {
	t.Helper()
	rec := a.tryLogin(t, user, pw)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sources" {
		t.Fatalf("login %s: %d %q\n%s", user, rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	sc := cookieNamed(rec, sessionCookie)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.MaxAge != 3600 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, MaxAge 3600", sc)
	}
	bs := browserSession{cookies: []*http.Cookie{sc}}
	page := a.do("GET", "/sources", "", bs.cookies, nil)
	m := csrfValueRe.FindStringSubmatch(page.Body.String())
	if page.Code != 200 || m == nil {
		t.Fatalf("signed-in page %d has no sign-out form with a CSRF token", page.Code)
	}
	bs.csrf = m[1]
	return bs
}

type caller struct {
	name    string
	cookies []*http.Cookie
	hdr     map[string]string
}

func TestAccessMatrix(t *testing.T) {
	on := newAuthServer(t, true, nil)
	viewer := on.login(t, "vera", viewerPass)
	admin := on.login(t, "adam", adminPass) // user names are case-insensitive
	callers := []caller{
		{"anonymous", nil, nil},
		{"viewer session", viewer.cookies, map[string]string{csrfHeader: viewer.csrf}},
		{"admin session", admin.cookies, map[string]string{csrfHeader: admin.csrf}},
		{"viewer token", nil, map[string]string{"Authorization": "Bearer " + viewerToken}},
		{"admin token", nil, map[string]string{"Authorization": "Bearer " + adminToken}},
		{"admin token as basic", nil, map[string]string{"Authorization": "Basic " + b64("reader:"+adminToken)}},
		{"bad token", nil, map[string]string{"Authorization": "Bearer nope"}},
	}
	type route struct {
		method, target, body string
		json                 bool // an API route: 401 rather than a redirect
		need                 access
		public               bool
		ok                   int // the status when allowed
	}
	routes := []route{
		{method: "GET", target: "/", need: accessViewer, ok: 200},
		{method: "GET", target: "/sources", need: accessViewer, ok: 200},
		{method: "GET", target: "/articles/a1b2c3", need: accessViewer, ok: 200},
		{method: "GET", target: "/no/such/page", need: accessViewer, ok: 404},
		{method: "GET", target: "/api/search?q=ottawa", json: true, need: accessViewer, ok: 200},
		{method: "GET", target: "/api/openapi.json", json: true, need: accessViewer, ok: 200},
		{method: "GET", target: "/export.csv?q=ottawa", json: true, need: accessViewer, ok: 200},
		{method: "GET", target: "/metrics", json: true, need: accessMetrics, ok: 200},
		{method: "GET", target: "/admin", need: accessAdmin, ok: 200},
		{method: "POST", target: "/admin/rules/test", body: "query=mine&text=mine+ban", need: accessAdmin, ok: 200},
		{method: "POST", target: "/api/admin/rules/test", body: "query=mine&text=mine+ban", json: true, need: accessAdmin, ok: 200},
		{method: "POST", target: "/api/admin/reclassify", json: true, need: accessAdmin, ok: 202},
		{method: "GET", target: "/api/admin/reclassify", json: true, need: accessAdmin, ok: 200},
		{method: "POST", target: "/api/admin/sources/gn-pl/fetch", json: true, need: accessAdmin, ok: 200},
		{method: "POST", target: "/api/admin/sources/nope/fetch", json: true, need: accessAdmin, ok: 404},
		{method: "POST", target: "/api/admin/alerts/baltic/test", json: true, need: accessAdmin, ok: 200},
		{method: "GET", target: "/healthz", public: true, ok: 200},
		{method: "GET", target: "/readyz", public: true, ok: 200},
		{method: "GET", target: "/static/style.css", public: true, ok: 200},
	}
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(rt.method+" "+rt.target+" as "+c.name, func(t *testing.T) {
				rec := on.do(rt.method, rt.target, rt.body, c.cookies, c.hdr)
				want := rt.ok
				switch {
				case rt.public:
				case c.name == "bad token":
					want = http.StatusUnauthorized
				case c.name == "anonymous" && (rt.json || rt.method != "GET"):
					want = http.StatusUnauthorized
				case c.name == "anonymous":
					want = http.StatusSeeOther
				case rt.need == accessAdmin && strings.HasPrefix(c.name, "viewer"):
					want = http.StatusForbidden
				}
				if rec.Code != want {
					t.Fatalf("status %d, want %d\n%s", rec.Code, want, rec.Body)
				}
				switch want {
				case http.StatusSeeOther:
					if loc := rec.Header().Get("Location"); loc != "/login?next="+url.QueryEscape(rt.target) {
						t.Errorf("redirect to %q, want the login page with next", loc)
					}
				case http.StatusUnauthorized:
					if !rt.json && c.name == "anonymous" {
						break // a page: the error page says to sign in
					}
					if rec.Header().Get("WWW-Authenticate") == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
						t.Errorf("401 without WWW-Authenticate or problem+json: %v", rec.Header())
					}
				case http.StatusForbidden:
					if rt.json && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
						t.Errorf("403 on the API is not problem+json: %s", rec.Header().Get("Content-Type"))
					}
				}
			})
		}
	}

	// With logins off (loopback), everyone is the local admin: the same
	// routes all answer, and admin actions still need the CSRF token.
	off := newAuthServer(t, false, nil)
	for _, rt := range routes {
		t.Run("logins off: "+rt.method+" "+rt.target, func(t *testing.T) {
			hdr := map[string]string{}
			var cookies []*http.Cookie
			if rt.method == "POST" {
				c, tok := off.csrfPair(t, "/")
				cookies, hdr[csrfHeader] = []*http.Cookie{c}, tok
			}
			if rec := off.do(rt.method, rt.target, rt.body, cookies, hdr); rec.Code != rt.ok {
				t.Fatalf("status %d, want %d\n%s", rec.Code, rt.ok, rec.Body)
			}
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAdminActionsNeedCSRFWithCookies(t *testing.T) {
	for _, auth := range []bool{true, false} {
		a := newAuthServer(t, auth, nil)
		var cookies []*http.Cookie
		var good string
		if auth {
			s := a.login(t, "Adam", adminPass)
			cookies, good = s.cookies, s.csrf
		} else {
			c, tok := a.csrfPair(t, "/")
			cookies, good = []*http.Cookie{c}, tok
		}
		tests := []struct {
			name string
			hdr  map[string]string
			want int
		}{
			{"no token", nil, 403},
			{"wrong token", map[string]string{csrfHeader: strings.Repeat("ab", 16)}, 403},
			{"right token, cross-site", map[string]string{csrfHeader: good, "Sec-Fetch-Site": "cross-site"}, 403},
			{"right token, other origin", map[string]string{csrfHeader: good, "Origin": "https://evil.example"}, 403},
			{"right token", map[string]string{csrfHeader: good}, 202},
		}
		for _, tt := range tests {
			t.Run(map[bool]string{true: "logins on: ", false: "logins off: "}[auth]+tt.name, func(t *testing.T) {
				before := len(a.admin.called())
				rec := a.do("POST", "/api/admin/reclassify", "", cookies, tt.hdr)
				if rec.Code != tt.want {
					t.Fatalf("status %d, want %d\n%s", rec.Code, tt.want, rec.Body)
				}
				if ran := len(a.admin.called()) > before; ran != (tt.want == 202) {
					t.Errorf("reclassify ran = %v", ran)
				}
			})
		}
	}
	// A bearer token needs no CSRF token: browsers never send one on their own.
	a := newAuthServer(t, true, nil)
	if rec := a.do("POST", "/api/admin/reclassify", "", nil, map[string]string{"Authorization": "Bearer " + adminToken}); rec.Code != 202 {
		t.Fatalf("bearer POST without CSRF: %d", rec.Code)
	}
}

func TestLoginFlow(t *testing.T) {
	a := newAuthServer(t, true, nil)
	// The login page is public and says what to do.
	rec := a.do("GET", "/login?next=/events", "", nil, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `name="next" value="/events"`) ||
		!strings.Contains(rec.Body.String(), `autocomplete="current-password"`) {
		t.Fatalf("login page %d:\n%s", rec.Code, rec.Body)
	}
	t.Run("wrong password and unknown user look the same", func(t *testing.T) {
		r1 := a.tryLogin(t, "vera", "wrong")
		r2 := a.tryLogin(t, "nobody", "wrong")
		for _, r := range []*httptest.ResponseRecorder{r1, r2} {
			if r.Code != 401 || !strings.Contains(r.Body.String(), "Wrong user name or password.") || cookieNamed(r, sessionCookie) != nil {
				t.Fatalf("failed login: %d, session cookie %v", r.Code, cookieNamed(r, sessionCookie))
			}
		}
	})
	t.Run("login without the CSRF token is refused", func(t *testing.T) {
		form := url.Values{"user": {"vera"}, "password": {viewerPass}}
		if r := a.do("POST", "/login", form.Encode(), nil, nil); r.Code != 403 || cookieNamed(r, sessionCookie) != nil {
			t.Fatalf("status %d", r.Code)
		}
	})
	t.Run("open redirects are refused", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login"} {
			if got := safeNext(next); got != "/" {
				t.Errorf("safeNext(%q) = %q", next, got)
			}
		}
		if got := safeNext("/events?country=PL"); got != "/events?country=PL" {
			t.Errorf("safeNext kept %q", got)
		}
	})
	s := a.login(t, "vera", viewerPass)
	t.Run("signed in pages show who and a sign-out form", func(t *testing.T) {
		body := a.do("GET", "/", "", s.cookies, nil).Body.String()
		if !strings.Contains(body, "Signed in as <strong>vera</strong> (viewer)") || strings.Contains(body, `href="/admin"`) {
			t.Fatalf("account box wrong:\n%s", body)
		}
	})
	t.Run("logout needs the session's CSRF token", func(t *testing.T) {
		if r := a.do("POST", "/logout", "", s.cookies, nil); r.Code != 403 {
			t.Fatalf("logout without token: %d", r.Code)
		}
		if r := a.do("GET", "/", "", s.cookies, nil); r.Code != 200 {
			t.Fatalf("still signed in: %d", r.Code)
		}
		r := a.do("POST", "/logout", url.Values{"csrf": {s.csrf}}.Encode(), s.cookies, nil)
		if r.Code != 303 || cookieNamed(r, sessionCookie) == nil || cookieNamed(r, sessionCookie).MaxAge >= 0 {
			t.Fatalf("logout: %d", r.Code)
		}
		if r := a.do("GET", "/", "", s.cookies, nil); r.Code != 303 {
			t.Fatalf("the old session cookie still works after logout: %d", r.Code)
		}
	})
}

func TestSessionExpires(t *testing.T) {
	a := newAuthServer(t, true, nil)
	s := a.login(t, "vera", viewerPass)
	a.now.advance(59 * time.Minute)
	if r := a.do("GET", "/api/search?q=x", "", s.cookies, nil); r.Code != 200 {
		t.Fatalf("within the TTL: %d", r.Code)
	}
	a.now.advance(time.Minute)
	if r := a.do("GET", "/api/search?q=x", "", s.cookies, nil); r.Code != 401 {
		t.Fatalf("after the TTL: %d, want 401", r.Code)
	}
	if r := a.do("GET", "/sources", "", s.cookies, nil); r.Code != 303 {
		t.Fatalf("page after the TTL: %d, want a redirect to the login", r.Code)
	}
}

func TestSecureCookies(t *testing.T) {
	tests := []struct {
		name   string
		opt    bool
		tls    bool
		secure bool
	}{
		{"plain http", false, false, false},
		{"behind an https proxy", true, false, true},
		{"tls", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuthServer(t, true, func(o *Options) { o.SecureCookies = tt.opt })
			req := httptest.NewRequest("GET", "/login", nil)
			if !tt.tls {
				req.TLS = nil
			} else {
				req = httptest.NewRequest("GET", "https://example.org/login", nil)
			}
			rec := httptest.NewRecorder()
			a.ServeHTTP(rec, req)
			c := cookieNamed(rec, csrfCookie)
			if c == nil || c.Secure != tt.secure {
				t.Fatalf("csrf cookie %+v, want Secure=%v", c, tt.secure)
			}
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	a := newAuthServer(t, true, nil)
	for i := range loginBurst {
		if r := a.tryLogin(t, "vera", "wrong"); r.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, r.Code)
		}
	}
	r := a.tryLogin(t, "vera", viewerPass)
	if r.Code != http.StatusTooManyRequests || r.Header().Get("Retry-After") != "12" {
		t.Fatalf("after %d failures: %d, Retry-After %q; want 429 with 12", loginBurst, r.Code, r.Header().Get("Retry-After"))
	}
	// Another user from the same address is limited too (per address) …
	if r := a.tryLogin(t, "adam", adminPass); r.Code != 429 {
		t.Fatalf("same address, other user: %d", r.Code)
	}
	// … and the budget refills: one attempt every 12 s.
	a.now.advance(12 * time.Second)
	if r := a.tryLogin(t, "vera", viewerPass); r.Code != 303 {
		t.Fatalf("after waiting: %d", r.Code)
	}

	t.Run("per user name across addresses", func(t *testing.T) {
		l := newLoginLimiter(a.now.Now)
		for i := range loginBurst {
			l.fail("198.51.100."+string(rune('1'+i)), "ana")
		}
		if w := l.wait("203.0.113.9", "ANA"); w <= 0 {
			t.Fatalf("a fresh address may still guess ana's password")
		}
		if w := l.wait("203.0.113.9", "bob"); w != 0 {
			t.Fatalf("bob is limited by ana's failures: %v", w)
		}
	})
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:1234", "", "192.0.2.1"},
		{"192.0.2.1:1234", "203.0.113.5", "192.0.2.1"}, // untrusted peer: header ignored
		{"10.0.0.2:1234", "203.0.113.5", "203.0.113.5"},
		{"10.0.0.2:1234", "198.51.100.1, 203.0.113.5, 10.0.0.3", "203.0.113.5"},
		{"[2001:db8:1:2:3:4:5:6]:80", "", "2001:db8:1:2::/64"},
		{"10.0.0.2:1234", "garbage", "10.0.0.2"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientIP(r, trusted); got != tt.want {
			t.Errorf("clientIP(%s, %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func TestPasswordHashes(t *testing.T) {
	argon := mustHash(t, "s3cret")
	bcb, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bc := string(bcb)
	tests := []struct {
		name, hash, pw string
		parses, ok     bool
	}{
		{"argon2id right", argon, "s3cret", true, true},
		{"argon2id wrong", argon, "s3cret!", true, false},
		{"argon2id empty", argon, "", true, false},
		{"bcrypt right", bc, "s3cret", true, true},
		{"bcrypt wrong", bc, "secret", true, false},
		{"plain text", "s3cret", "s3cret", false, false},
		{"argon2i", strings.Replace(argon, "argon2id", "argon2i", 1), "s3cret", false, false},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43), "x", false, false},
		{"truncated", argon[:len(argon)-30], "s3cret", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parsePasswordHash(tt.hash)
			if (err == nil) != tt.parses {
				t.Fatalf("parse error %v, want parses=%v", err, tt.parses)
			}
			if err != nil {
				if strings.Contains(err.Error(), tt.hash) {
					t.Errorf("the error repeats the hash: %v", err)
				}
				return
			}
			if got := h.verify(tt.pw); got != tt.ok {
				t.Errorf("verify = %v, want %v", got, tt.ok)
			}
			if h.dummyLike().verify(tt.pw) {
				t.Errorf("the dummy hash accepted a password")
			}
		})
	}
	if !strings.HasPrefix(argon, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q not in PHC format with its parameters", argon)
	}
	if a2 := mustHash(t, "s3cret"); a2 == argon {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
}

func TestNewRequiresCredentials(t *testing.T) {
	_, err := New(Options{Searcher: &fakeSearcher{}, Auth: &AuthOptions{}})
	if err != ErrNoCredentials {
		t.Fatalf("New with logins and nobody: %v, want ErrNoCredentials", err)
	}
	_, err = New(Options{Searcher: &fakeSearcher{}, Auth: &AuthOptions{Users: []User{{Name: "x", Role: RoleAdmin, PasswordHash: "hunter2"}}}})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("New with a plain password as hash: %v", err)
	}
}

func TestPublicMetrics(t *testing.T) {
	a := newAuthServer(t, true, func(o *Options) { o.Auth.PublicMetrics = true })
	if r := a.do("GET", "/metrics", "", nil, nil); r.Code != 200 {
		t.Fatalf("public metrics: %d", r.Code)
	}
}

func TestSavedSearchOwnership(t *testing.T) {
	a := newAuthServer(t, true, nil)
	vera := a.login(t, "vera", viewerPass)
	adam := a.login(t, "Adam", adminPass)
	a.saved.m = map[string]index.SavedSearch{"old": {ID: "old", Name: "from before logins"}}
	save := func(s browserSession, name string) string {
		t.Helper()
		form := url.Values{"name": {name}, "q": {"ottawa"}, "csrf": {s.csrf}}
		if r := a.do("POST", "/saved", form.Encode(), s.cookies, nil); r.Code != 303 {
			t.Fatalf("save: %d\n%s", r.Code, r.Body)
		}
		for id, ss := range a.saved.m {
			if ss.Name == name {
				return id
			}
		}
		t.Fatalf("saved search %q not stored", name)
		return ""
	}
	mine := save(vera, "vera's")
	theirs := save(adam, "adam's")
	tests := []struct {
		who  browserSession
		id   string
		want int
	}{
		{vera, theirs, 403},
		{vera, "old", 403},
		{vera, mine, 204},
		{adam, "old", 204},
		{adam, theirs, 204},
	}
	for _, tt := range tests {
		r := a.do("DELETE", "/saved/"+tt.id, "", tt.who.cookies, map[string]string{csrfHeader: tt.who.csrf})
		if r.Code != tt.want {
			t.Errorf("DELETE %s: %d, want %d", tt.id, r.Code, tt.want)
		}
	}
}

func TestAdminPage(t *testing.T) {
	a := newAuthServer(t, true, nil)
	s := a.login(t, "adam", adminPass)
	body := a.do("GET", "/admin", "", s.cookies, nil).Body.String()
	for _, want := range []string{`action="/admin/sources/gn-pl/fetch"`, `action="/admin/rules/test"`,
		`action="/admin/reclassify"`, `action="/admin/alerts/baltic/test"`, `<a href="/admin">Admin</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin page lacks %s", want)
		}
	}
	tests := []struct {
		target, form string
		want         int
		shows        string
	}{
		{"/admin/sources/gn-pl/fetch", "", 200, "3 items, 1 new"},
		{"/admin/sources/nope/fetch", "", 404, "not found"},
		{"/admin/rules/test", "query=ban&text=mine+ban", 200, "matches"},
		{"/admin/rules/test", "query=((&text=x", 400, "invalid input"},
		{"/admin/rules/test", "query=ban", 400, "give a title or a text"},
		{"/admin/reclassify", "", 202, "Reclassification started"},
		{"/admin/alerts/baltic/test", "", 200, "webhook: <span class=\"ok\">sent</span>"},
		{"/admin/alerts/nope/test", "", 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.target+" "+tt.form, func(t *testing.T) {
			form := tt.form + "&csrf=" + s.csrf
			r := a.do("POST", tt.target, form, s.cookies, nil)
			if r.Code != tt.want || !strings.Contains(r.Body.String(), tt.shows) {
				t.Fatalf("status %d (want %d), page shows %q: %v\n%s", r.Code, tt.want, tt.shows, strings.Contains(r.Body.String(), tt.shows), r.Body)
			}
		})
	}
	r := a.do("POST", "/api/admin/rules/test", `{"query":"ban","text":"mine ban"}`, nil,
		map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"})
	var res RuleTestResult
	if err := json.Unmarshal(r.Body.Bytes(), &res); err != nil || r.Code != 200 || !res.Matched {
		t.Fatalf("API rule test: %d %v %+v", r.Code, err, res)
	}
}

func TestAdminHiddenWithoutActions(t *testing.T) {
	a := newAuthServer(t, true, func(o *Options) { o.Admin = AdminOptions{} })
	s := a.login(t, "adam", adminPass)
	if r := a.do("GET", "/admin", "", s.cookies, nil); r.Code != 404 {
		t.Fatalf("admin page without actions: %d", r.Code)
	}
	if body := a.do("GET", "/", "", s.cookies, nil).Body.String(); strings.Contains(body, `href="/admin"`) {
		t.Fatalf("the header links to a missing admin page")
	}
}

// Secrets must never reach the log: passwords typed in the user field,
// passwords, tokens, session cookies.
func TestAuthLogsNoSecrets(t *testing.T) {
	a := newAuthServer(t, true, nil)
	s := a.login(t, "vera", viewerPass)
	a.tryLogin(t, viewerPass, viewerPass) // password typed as the user name
	a.tryLogin(t, "vera", adminPass)
	a.do("GET", "/api/search?q=x", "", nil, map[string]string{"Authorization": "Bearer " + adminToken + "x"})
	a.do("GET", "/api/search?q=x", "", nil, map[string]string{"Authorization": "Bearer " + adminToken})
	logs := a.logs.String()
	for _, secret := range []string{viewerPass, adminPass, adminToken, s.cookies[0].Value, s.csrf} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret %q", secret)
		}
	}
	if !strings.Contains(logs, "login failed") {
		t.Errorf("failed logins are not logged")
	}
}

func FuzzParsePasswordHash(f *testing.F) {
	for _, s := range []string{mustHash(f, "x"), "$2a$04$abcdefghijklmnopqrstuu5Cf4wHkPqXEVz3lUKl4sDUTAqaG6sVK",
		"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=,t=,p=$$", "", "$$$$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePasswordHash(s)
		if err != nil {
			return
		}
		// Whatever parses must be cheap enough to verify in a test.
		if h.bcrypt == nil && (h.params.Memory > 1<<14 || h.params.Time > 4) {
			return
		}
		if h.bcrypt != nil {
			return
		}
		h.verify("password")
	})
}

func FuzzCredential(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Basic " + b64("u:tok"), "Basic !!", "Digest x", "", "Bearer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := credential(h)
		if ok && tok == "" {
			t.Fatalf("credential(%q) = empty token, ok", h)
		}
	})
}
