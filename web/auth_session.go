package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// session is one login. Sessions live in memory only: a restart logs
// everyone out, which is the price of keeping no session secret on disk.
type session struct {
	user    string
	csrf    string // the token forms of this session must echo
	created time.Time
	expires time.Time
}

// sessionStore keeps sessions keyed by the SHA-256 of their cookie value, so
// the map never holds a usable cookie and lookups need no constant-time
// compare (an attacker cannot steer the hash).
type sessionStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessionStore(ttl time.Duration, max int, now func() time.Time) *sessionStore {
	return &sessionStore{ttl: ttl, max: max, now: now, byID: make(map[[32]byte]*session)}
}

// create starts a session for user and returns the cookie value.
func (st *sessionStore) create(user string) (string, *session) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	id := base64.RawURLEncoding.EncodeToString(b)
	c := make([]byte, 16)
	_, _ = rand.Read(c)
	now := st.now()
	s := &session{user: user, csrf: hex.EncodeToString(c), created: now, expires: now.Add(st.ttl)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byID) >= st.max {
		st.evictLocked(now)
	}
	st.byID[sha256.Sum256([]byte(id))] = s
	return id, s
}

// evictLocked drops expired sessions and, if the store is still full, the
// oldest ones: a flood of logins must not grow memory without bound.
func (st *sessionStore) evictLocked(now time.Time) {
	for k, s := range st.byID {
		if !now.Before(s.expires) {
			delete(st.byID, k)
		}
	}
	for len(st.byID) >= st.max {
		var oldest [32]byte
		var at time.Time
		for k, s := range st.byID {
			if at.IsZero() || s.created.Before(at) {
				oldest, at = k, s.created
			}
		}
		delete(st.byID, oldest)
	}
}

// get returns the live session for a cookie value.
func (st *sessionStore) get(id string) (*session, bool) {
	if id == "" || len(id) > 100 {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	now := st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[k]
	if !ok {
		return nil, false
	}
	if !now.Before(s.expires) {
		delete(st.byID, k)
		return nil, false
	}
	return s, true
}

func (st *sessionStore) delete(id string) {
	k := sha256.Sum256([]byte(id))
	st.mu.Lock()
	delete(st.byID, k)
	st.mu.Unlock()
}
