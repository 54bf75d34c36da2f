package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// loginPage is the data of login.html.
type loginPage struct {
	Title, Nav string
	CSRF       string
	Next       string
	User       string
	Error      string
}

// safeNext keeps the post-login redirect on this site: a path, never
// "//evil.example" or "/\evil.example", which browsers read as another host.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\t") || len(next) > 2000 {
		return "/"
	}
	if strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/logout") {
		return "/"
	}
	return next
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s.auth == nil || authFrom(r.Context()).sess != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginPage{Next: next})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, page loginPage) {
	page.Title, page.Nav = "Sign in", "login"
	page.CSRF = csrfToken(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "login", page)
}

// handleLogin checks a password. Unknown users and wrong passwords take the
// same path (a dummy hash is verified for unknown users) and get the same
// message, so neither the answer nor its timing says which names exist.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.auth == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, loginPage{Error: "The form could not be read. Try again."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("user"))
	password := r.PostForm.Get("password")
	page := loginPage{Next: safeNext(r.PostForm.Get("next")), User: name}
	if len(name) > 64 {
		name = name[:64]
		page.User = name
	}
	if err := checkCSRF(r); err != nil {
		s.log.WarnContext(ctx, "login refused", "err", err)
		page.Error = "The sign-in form had expired. Please try again."
		s.renderLogin(w, r, http.StatusForbidden, page)
		return
	}
	ip := clientIP(r, s.auth.trusted)
	if wait := s.auth.limiter.wait(ip, name); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.log.WarnContext(ctx, "login rate-limited", "client", ip, "user", loggedName(s.auth, name))
		page.Error = "Too many failed attempts. Wait " + strconv.Itoa(secs) + " " + pluralize(secs, "second", "seconds") + " and try again."
		s.renderLogin(w, r, http.StatusTooManyRequests, page)
		return
	}
	u, known := s.auth.users[userKey(name)]
	hash := s.auth.dummy
	if known {
		hash = u.hash
	}
	select {
	case s.auth.verifySem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	ok := hash.verify(password) && known && password != ""
	<-s.auth.verifySem
	if !ok {
		s.auth.limiter.fail(ip, name)
		s.log.WarnContext(ctx, "login failed", "client", ip, "user", loggedName(s.auth, name))
		page.Error = "Wrong user name or password."
		s.renderLogin(w, r, http.StatusUnauthorized, page)
		return
	}
	// A fresh session id on every login: an id planted before login
	// (session fixation) is worth nothing.
	if old := authFrom(ctx).sessID; old != "" {
		s.auth.sessions.delete(old)
	}
	id, _ := s.auth.sessions.create(u.name)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: authFrom(ctx).secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.auth.sessions.ttl / time.Second),
	})
	s.log.InfoContext(ctx, "login", "user", u.name, "role", string(u.role), "client", ip)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

// handleLogout ends the session. It is a POST with the CSRF token, so a
// cross-site page cannot sign anyone out.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	ra := authFrom(r.Context())
	if s.auth == nil || ra.sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := checkCSRF(r); err != nil {
		s.log.WarnContext(r.Context(), "logout refused", "err", err)
		s.renderError(w, r, http.StatusForbidden, "Request refused", "The form's security token did not match. Reload the page and try again.")
		return
	}
	s.auth.sessions.delete(ra.sessID)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: ra.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	s.log.InfoContext(r.Context(), "logout", "user", ra.principal.Name)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// loggedName is the user name for the log: only names that exist, because
// people type their password into the name field by mistake.
func loggedName(a *authState, name string) string {
	if u, ok := a.users[userKey(name)]; ok {
		return u.name
	}
	return "(unknown)"
}
