package distribution

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// serveToken is POST /token: a local user's name and password (HTTP Basic,
// or the form fields username and password, as OAuth 2's password grant
// sends them) for a bearer token.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request, rq *request) {
	rq.via = "token-endpoint"
	if len(h.passwords) == 0 {
		h.refuse(w, http.StatusNotFound, "not found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.refuse(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	user, pw, ok := r.BasicAuth()
	if !ok {
		user, pw = h.formCredentials(w, r)
	}
	if !h.passwords.check(user, pw) {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.realm+`"`)
		h.refuse(w, http.StatusUnauthorized, "unknown user or wrong password")
		return
	}
	rq.user = user
	tok := h.sign.token(user, h.clock.Now().Add(h.tokenTTL))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(h.tokenTTL.Seconds()),
	})
}

// formCredentials reads username and password from a small form body.
func (h *Handler) formCredentials(w http.ResponseWriter, r *http.Request) (string, string) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		return "", ""
	}
	return r.PostForm.Get("username"), r.PostForm.Get("password")
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Realm}}: log in</title></head>
<body><h1>Log in</h1>{{if .Failed}}<p role="alert">Unknown user or wrong password.</p>{{end}}
<form method="post" action="./login"><input type="hidden" name="next" value="{{.Next}}">
<p><label>User <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Log in</button></p></form></body></html>
`))

// serveLogin is the browser's way in: GET shows a form, POST checks it,
// sets the token cookie and goes back to the file asked for.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request, rq *request) {
	rq.via = "login"
	if len(h.passwords) == 0 {
		h.refuse(w, http.StatusNotFound, "not found")
		return
	}
	page := struct {
		Realm, Next string
		Failed      bool
	}{Realm: h.realm, Next: safeNext(r.URL.Query().Get("next"))}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		user, pw := h.formCredentials(w, r)
		page.Next = safeNext(r.PostForm.Get("next"))
		if h.passwords.check(user, pw) {
			rq.user = user
			http.SetCookie(w, &http.Cookie{
				Name: tokenCookie, Value: h.sign.token(user, h.clock.Now().Add(h.tokenTTL)),
				Path: "/", MaxAge: int(h.tokenTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
				Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
			})
			w.Header().Set("Location", "./"+page.Next)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		page.Failed = true
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.refuse(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'")
	if page.Failed {
		w.WriteHeader(http.StatusUnauthorized)
	}
	_ = loginPage.Execute(w, page)
}

// safeNext keeps a post-login destination only when it is a clean path of
// this distribution, written relative to its root; anything else (another
// host, a scheme, traversal) becomes the root, so /login cannot be made to
// send users elsewhere.
func safeNext(next string) string {
	if next == "" || len(next) > maxTargetBytes {
		return ""
	}
	segs, err := cleanPath("/" + next)
	if err != nil {
		return ""
	}
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = escapeSegment(s)
	}
	return strings.Join(out, "/")
}

// escapeQuery escapes a value for a query string.
func escapeQuery(s string) string { return url.QueryEscape(s) }
