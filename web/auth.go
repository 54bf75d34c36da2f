package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Role is what a user or token may do.
type Role string

// Roles.
const (
	// RoleViewer reads everything and keeps their own saved searches.
	RoleViewer Role = "viewer"
	// RoleAdmin may also fetch sources now, test rules and alerts, and
	// start a reclassification.
	RoleAdmin Role = "admin"
)

// User is an account that logs in with a password.
type User struct {
	Name string
	Role Role
	// PasswordHash is argon2id in PHC format or bcrypt (see HashPassword).
	PasswordHash string
}

// Token is an API token; only its SHA-256 is kept (see HashToken).
type Token struct {
	Name   string
	Role   Role
	SHA256 [32]byte
}

// AuthOptions turn logins on. Without them (Options.Auth nil) the server
// trusts every client as an admin, which is only right on loopback.
type AuthOptions struct {
	Users  []User
	Tokens []Token
	// SessionTTL is how long a login lasts; 0 means 12h.
	SessionTTL time.Duration
	// MaxSessions bounds the in-memory session store; 0 means 10000.
	MaxSessions int
	// PublicMetrics serves /metrics without credentials.
	PublicMetrics bool
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed
	// when counting failed logins per client address.
	TrustedProxies []netip.Prefix
}

// Principal is who made a request.
type Principal struct {
	Name string
	Role Role
	// Method is how they proved it: "session" (login cookie), "token"
	// (Authorization header) or "local" (logins are off).
	Method string
}

// Authentication methods.
const (
	methodSession = "session"
	methodToken   = "token"
	methodLocal   = "local"
)

// ErrNoCredentials is returned by New when logins are on but no user or
// token is configured: nobody could get in.
var ErrNoCredentials = errors.New("web: logins are required but no users or tokens are configured")

const (
	sessionCookie      = "mw_session"
	defaultSessionTTL  = 12 * time.Hour
	defaultMaxSessions = 10000
	// maxConcurrentVerify bounds password hashing in flight: each argon2id
	// verification holds its memory cost (19 MiB by default).
	maxConcurrentVerify = 4
)

// authState is the server's login machinery; nil when logins are off.
type authState struct {
	users         map[string]userEntry // by userKey
	tokens        []Token
	dummy         passwordHash // verified for unknown users, to take the same time
	sessions      *sessionStore
	limiter       *loginLimiter
	publicMetrics bool
	trusted       []netip.Prefix
	verifySem     chan struct{}
}

type userEntry struct {
	name string
	role Role
	hash passwordHash
}

func newAuthState(o *AuthOptions, now func() time.Time) (*authState, error) {
	if len(o.Users) == 0 && len(o.Tokens) == 0 {
		return nil, ErrNoCredentials
	}
	a := &authState{
		users:         make(map[string]userEntry, len(o.Users)),
		tokens:        append([]Token(nil), o.Tokens...),
		limiter:       newLoginLimiter(now),
		publicMetrics: o.PublicMetrics,
		trusted:       o.TrustedProxies,
		verifySem:     make(chan struct{}, maxConcurrentVerify),
	}
	ttl := o.SessionTTL
	if ttl <= 0 {
		ttl = defaultSessionTTL
	}
	maxSessions := o.MaxSessions
	if maxSessions <= 0 {
		maxSessions = defaultMaxSessions
	}
	a.sessions = newSessionStore(ttl, maxSessions, now)
	for _, u := range o.Users {
		if u.Role != RoleViewer && u.Role != RoleAdmin {
			return nil, fmt.Errorf("web: user %q: unknown role %q", u.Name, u.Role)
		}
		h, err := parsePasswordHash(u.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("web: user %q: password hash: %w", u.Name, err)
		}
		k := userKey(u.Name)
		if _, dup := a.users[k]; dup {
			return nil, fmt.Errorf("web: user %q is configured twice", u.Name)
		}
		a.users[k] = userEntry{name: u.Name, role: u.Role, hash: h}
		if a.dummy.key == nil && a.dummy.bcrypt == nil {
			a.dummy = h.dummyLike()
		}
	}
	for _, t := range o.Tokens {
		if t.Role != RoleViewer && t.Role != RoleAdmin {
			return nil, fmt.Errorf("web: token %q: unknown role %q", t.Name, t.Role)
		}
	}
	return a, nil
}

// token finds the token whose hash matches. Every configured hash is
// compared, in constant time, so the time taken says nothing about which
// bytes matched.
func (a *authState) token(tok string) (Principal, bool) {
	sum := sha256.Sum256([]byte(tok))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].SHA256[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	t := a.tokens[found]
	return Principal{Name: t.Name, Role: t.Role, Method: methodToken}, true
}

// reqAuth is what the identify middleware learned about a request.
type reqAuth struct {
	principal *Principal // nil: anonymous
	sess      *session   // set for session logins
	sessID    string
	// badCredential marks an Authorization header that matched no token:
	// the client meant to authenticate, so it gets a 401, not a redirect.
	badCredential bool
	secure        bool // cookies set on this response get the Secure flag
}

type reqAuthKey struct{}

func authFrom(ctx context.Context) *reqAuth {
	if ra, ok := ctx.Value(reqAuthKey{}).(*reqAuth); ok {
		return ra
	}
	return &reqAuth{}
}

// PrincipalFrom returns who made the request whose context this is; false
// for anonymous requests.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	ra := authFrom(ctx)
	if ra.principal == nil {
		return Principal{}, false
	}
	return *ra.principal, true
}

// identify works out who is calling, from an Authorization header (Bearer
// token, or Basic with the token as password, for feed readers) or the
// session cookie. It never refuses a request: need does, per route.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ra := &reqAuth{secure: r.TLS != nil || s.secureCookies}
		switch {
		case s.auth == nil:
			ra.principal = &Principal{Name: "local", Role: RoleAdmin, Method: methodLocal}
		case r.Header.Get("Authorization") != "":
			if tok, ok := credential(r.Header.Get("Authorization")); ok {
				if p, ok := s.auth.token(tok); ok {
					ra.principal = &p
				}
			}
			ra.badCredential = ra.principal == nil
		default:
			if c, err := r.Cookie(sessionCookie); err == nil {
				if sess, ok := s.auth.sessions.get(c.Value); ok {
					// The role comes from the config, not the session, so a
					// demoted or removed user loses access at the next restart
					// at the latest.
					if u, ok := s.auth.users[userKey(sess.user)]; ok {
						ra.principal = &Principal{Name: u.name, Role: u.role, Method: methodSession}
						ra.sess, ra.sessID = sess, c.Value
					}
				}
			}
		}
		r2 := r.WithContext(context.WithValue(r.Context(), reqAuthKey{}, ra))
		next.ServeHTTP(w, r2)
		// ServeMux records the route on the request it was given; the
		// request metrics, outside this middleware, read it from theirs.
		r.Pattern = r2.Pattern
	})
}

// credential extracts the token from "Bearer <token>" or "Basic
// base64(name:token)".
func credential(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		return rest, rest != ""
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", false
		}
		_, pw, ok := strings.Cut(string(raw), ":")
		return pw, ok && pw != ""
	}
	return "", false
}

// access is what a route demands.
type access int

const (
	accessViewer  access = iota // any signed-in user or token
	accessAdmin                 // the admin role
	accessMetrics               // like accessViewer, unless metrics are public
)

// need guards a route: anonymous callers get 401 (API) or the login page
// (pages), the wrong role 403, and a state-changing request made with a
// cookie must carry the CSRF token. Token-authenticated requests need no
// CSRF token: a browser never attaches an Authorization header on its own.
func (s *Server) need(level access, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ra := authFrom(r.Context())
		if s.auth != nil && !(level == accessMetrics && s.auth.publicMetrics) {
			switch {
			case ra.badCredential:
				s.unauthorized(w, r, "the token is not valid")
				return
			case ra.principal == nil:
				s.unauthorized(w, r, "")
				return
			case level == accessAdmin && ra.principal.Role != RoleAdmin:
				s.forbidden(w, r)
				return
			}
		}
		if !safeMethod(r.Method) && ra.principal != nil && ra.principal.Method != methodToken {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := checkCSRF(r); err != nil {
				s.log.WarnContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "err", err)
				if wantsJSON(r) {
					s.writeProblem(w, r, http.StatusForbidden, problemCSRF, "CSRF check failed",
						"send the X-CSRF-Token header with the token of your session, or use an API token")
					return
				}
				s.renderError(w, r, http.StatusForbidden, "Request refused",
					"The form's security token did not match. Reload the page and try again.")
				return
			}
		}
		h(w, r)
	})
}

// Problem types of access control.
const (
	problemUnauthorized = "urn:minewatch:problem:unauthorized"
	problemForbidden    = "urn:minewatch:problem:forbidden"
	problemCSRF         = "urn:minewatch:problem:csrf"
	problemRateLimited  = "urn:minewatch:problem:rate-limited"
)

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// wantsJSON tells API clients (which get problem+json) from browsers (which
// get pages and redirects).
func wantsJSON(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/metrics" || r.Header.Get("Authorization") != "" ||
		strings.HasSuffix(p, ".atom") || strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".json") ||
		(strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html"))
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	if wantsJSON(r) {
		chal := `Bearer realm="minewatch"`
		if detail != "" {
			chal += `, error="invalid_token"`
		}
		w.Header().Add("WWW-Authenticate", chal)
		// Feed readers know Basic; the token goes as the password.
		w.Header().Add("WWW-Authenticate", `Basic realm="minewatch", charset="UTF-8"`)
		if detail == "" {
			detail = "sign in: send an API token as \"Authorization: Bearer <token>\""
		}
		s.writeProblem(w, r, http.StatusUnauthorized, problemUnauthorized, "Authentication required", detail)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.renderError(w, r, http.StatusUnauthorized, "Please sign in", "Your session has ended. Sign in again, then repeat what you were doing.")
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		s.writeProblem(w, r, http.StatusForbidden, problemForbidden, "Forbidden", "this needs the admin role")
		return
	}
	s.renderError(w, r, http.StatusForbidden, "Admins only", "Your account can read everything but not do this. Ask an admin.")
}

// accountSlot is the placeholder in layout.html that render replaces with
// the signed-in user's name and the log-out button. Page data belongs to
// each page, so the account box is filled in after the page is rendered.
const accountSlot = `<div class="account"></div>`

var accountTmpl = template.Must(template.New("account").Parse(
	`<div class="account">` +
		`{{if .Admin}}<a href="/admin">Admin</a>{{end}}` +
		`{{if .Name}} <span>Signed in as <strong>{{.Name}}</strong> ({{.Role}})</span>` +
		` <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{.CSRF}}">` +
		`<button type="submit" class="link">Sign out</button></form>{{end}}</div>`))

// fillAccount puts the account box into a rendered page.
func (s *Server) fillAccount(r *http.Request, page []byte) []byte {
	i := bytes.Index(page, []byte(accountSlot))
	if i < 0 {
		return page
	}
	ra := authFrom(r.Context())
	var data struct {
		Admin            bool
		Name, Role, CSRF string
	}
	if p := ra.principal; p != nil {
		data.Admin = p.Role == RoleAdmin && s.admin.any()
		if ra.sess != nil {
			data.Name, data.Role, data.CSRF = p.Name, string(p.Role), ra.sess.csrf
		}
	}
	var box bytes.Buffer
	if err := accountTmpl.Execute(&box, data); err != nil {
		s.log.ErrorContext(r.Context(), "render account box", "err", err)
		return page
	}
	out := make([]byte, 0, len(page)+box.Len())
	out = append(out, page[:i]...)
	out = append(out, box.Bytes()...)
	return append(out, page[i+len(accountSlot):]...)
}

// ownerTag marks the saved searches a user made: index.SavedSearch has no
// owner field, so the id starts with a short hash of the owner's name.
func ownerTag(name string) string {
	sum := sha256.Sum256([]byte("minewatch saved-search owner\x00" + userKey(name)))
	return hex.EncodeToString(sum[:4])
}

// mayDeleteSaved says whether the caller may delete saved search id: admins
// (and everyone when logins are off) any, viewers their own.
func mayDeleteSaved(ctx context.Context, id string) bool {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return false
	}
	if p.Role == RoleAdmin {
		return true
	}
	tag, _, ok := strings.Cut(id, "-")
	return ok && tag == ownerTag(p.Name)
}
