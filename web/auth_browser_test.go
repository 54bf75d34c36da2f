package web

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLoginBrowser signs in through the real login page in headless
// Chromium, with logins required: an anonymous visit is sent to /login, a
// wrong password shows the error, the right one lands on the page asked
// for with the account name and Sign out shown, a viewer is refused an
// admin action, and signing out ends the session. Screenshots go to
// $MINEWATCH_ARTIFACTS (or a temporary directory, logged).
func TestLoginBrowser(t *testing.T) {
	needChromium(t)
	a := newAuthServer(t, true, nil)
	hs := httptest.NewServer(a)
	defer hs.Close()

	browser := startChromium(t)
	step := browser.step
	shot := browser.shot
	location := func(t *testing.T, ctx context.Context) *url.URL {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	bodyText := func(t *testing.T, ctx context.Context) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const asked = "/sources?failing=1"
	signIn := func(t *testing.T, ctx context.Context, user, password string) {
		t.Helper()
		do(t, ctx,
			chromedp.WaitVisible(chromedp.ID("password")),
			chromedp.Clear(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Submit(chromedp.ID("password")),
		)
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"anonymous visit goes to the login page", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+asked),
				chromedp.WaitVisible(chromedp.ID("user")),
				shot("login-1-redirected"),
			)
			u := location(t, ctx)
			if u.Path != "/login" || u.Query().Get("next") != asked {
				t.Errorf("anonymous visit to %s ended at %s, want /login?next=%s", asked, u, url.QueryEscape(asked))
			}
			if body := bodyText(t, ctx); strings.Contains(body, "Sign out") {
				t.Error("the login page offers Sign out to an anonymous visitor")
			}
		}},
		{"wrong password shows the error", func(t *testing.T) {
			ctx := step(t)
			signIn(t, ctx, "vera", "not the password")
			do(t, ctx, chromedp.WaitVisible(chromedp.ID("login-error")), shot("login-2-wrong-password"))
			msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("login-error")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, "Wrong user name or password") {
				t.Errorf("error shown: %q\nserver log:\n%s", msg, a.logs.String())
			}
			if u := location(t, ctx); u.Path != "/login" {
				t.Errorf("after a wrong password the browser is at %s", u)
			}
		}},
		{"right password lands on the page asked for", func(t *testing.T) {
			ctx := step(t)
			signIn(t, ctx, "vera", viewerPass)
			do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".account strong")), shot("login-3-signed-in"))
			if u := location(t, ctx); u.RequestURI() != asked {
				t.Errorf("signed in at %s, want %s", u.RequestURI(), asked)
			}
			account, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".account")))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Signed in as vera", "viewer", "Sign out"} {
				if !strings.Contains(account, want) {
					t.Errorf("account box %q lacks %q", account, want)
				}
			}
			if strings.Contains(account, "Admin") {
				t.Errorf("a viewer is offered the admin page: %q", account)
			}
		}},
		{"a viewer is refused admin actions", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Navigate(hs.URL+"/admin"),
				chromedp.WaitVisible(chromedp.CSS(".account strong")),
				shot("login-4-admin-refused"),
			)
			if body := bodyText(t, ctx); !strings.Contains(body, "Admins only") {
				t.Errorf("/admin as a viewer shows:\n%s", body)
			}
			// The form post a crafted page would send, with the session's
			// own CSRF token: the role, not the token, refuses it. The
			// marker tells the old page from the answer.
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
				const m = document.createElement("div"); m.id = "before-post"; document.body.append(m);
				const f = document.createElement("form"); f.method = "post"; f.action = "/admin/reclassify";
				for (const [k, v] of [["csrf", document.querySelector(".account input[name=csrf]").value], ["all", "on"]]) {
					const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.append(i);
				}
				document.body.append(f); f.submit(); return true;
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			do(t, ctx, chromedp.WaitNotPresent(chromedp.ID("before-post")), chromedp.WaitVisible(chromedp.CSS(".account strong")),
				shot("login-4b-admin-post-refused"))
			if body := bodyText(t, ctx); !strings.Contains(body, "Admins only") {
				t.Errorf("POST /admin/reclassify as a viewer shows:\n%s", body)
			}
			if calls := a.admin.called(); slices.Contains(calls, "reclassify") {
				t.Errorf("the admin action ran for a viewer: %v", calls)
			}
		}},
		{"sign out ends the session", func(t *testing.T) {
			ctx := step(t)
			do(t, ctx,
				chromedp.Click(chromedp.CSS(".account button")),
				chromedp.WaitVisible(chromedp.ID("user")),
				shot("login-5-signed-out"),
			)
			if u := location(t, ctx); u.Path != "/login" {
				t.Errorf("after signing out the browser is at %s", u)
			}
			do(t, ctx, chromedp.Navigate(hs.URL+asked), chromedp.WaitVisible(chromedp.ID("user")))
			if u := location(t, ctx); u.Path != "/login" {
				t.Errorf("after signing out, %s is at %s; want the login page", asked, u)
			}
			cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(cookies, sessionCookie) {
				t.Errorf("the session cookie is readable by scripts or still set: %q", cookies)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			break // each step starts where the last one left the browser
		}
	}
}
