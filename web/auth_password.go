package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are argon2id's cost parameters. DefaultArgon2 follows OWASP's
// recommendation (19 MiB, 2 passes, 1 lane): a login costs tens of
// milliseconds and 19 MiB, which a small server can afford a few of at once.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 is what HashPassword uses.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a hash, so a hostile or mistyped config
// cannot make one login allocate gigabytes or spin for minutes.
const (
	maxArgon2Memory  = 1 << 20 // 1 GiB in KiB
	maxArgon2Time    = 64
	maxArgon2Threads = 64
	// maxPasswordLen bounds what a login form may submit; argon2 would hash
	// any length, so a megabyte password would be a cheap way to burn CPU.
	maxPasswordLen = 1024
)

// ErrBadHash says a password hash is neither argon2id (PHC format) nor bcrypt.
var ErrBadHash = errors.New("not an argon2id (PHC) or bcrypt password hash")

// HashPassword returns password's argon2id hash in PHC string format,
// $argon2id$v=19$m=…,t=…,p=…$salt$hash, with a fresh random salt.
func HashPassword(password string, p Argon2Params) (string, error) {
	if password == "" {
		return "", errors.New("empty password")
	}
	if len(password) > maxPasswordLen {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLen)
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > maxArgon2Memory || p.Time > maxArgon2Time || p.Threads > maxArgon2Threads {
		return "", fmt.Errorf("argon2id parameters m=%d t=%d p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	if p.SaltLen < 8 {
		p.SaltLen = 16
	}
	if p.KeyLen < 16 {
		p.KeyLen = 32
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go ≥ 1.24)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeArgon2(p, salt, key), nil
}

func encodeArgon2(p Argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// passwordHash is a parsed hash, ready to verify against.
type passwordHash struct {
	bcrypt []byte // set for bcrypt hashes
	// argon2id
	params Argon2Params
	salt   []byte
	key    []byte
}

// ParsePasswordHash checks that s is a usable argon2id or bcrypt hash; the
// error never contains s, which may be a password pasted by mistake.
func ParsePasswordHash(s string) error {
	_, err := parsePasswordHash(s)
	return err
}

func parsePasswordHash(s string) (passwordHash, error) {
	if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil || len(s) != 60 {
			return passwordHash{}, fmt.Errorf("bcrypt: %w", ErrBadHash)
		}
		if cost > 16 {
			return passwordHash{}, fmt.Errorf("bcrypt cost %d is too slow for a login (use at most 16): %w", cost, ErrBadHash)
		}
		return passwordHash{bcrypt: []byte(s)}, nil
	}
	// $argon2id$v=19$m=19456,t=2,p=1$salt$key → "", "argon2id", "v=19", params, salt, key
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return passwordHash{}, ErrBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return passwordHash{}, fmt.Errorf("argon2id version %q (want v=%d): %w", parts[2], argon2.Version, ErrBadHash)
	}
	var p Argon2Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return passwordHash{}, fmt.Errorf("argon2id parameters: %w", ErrBadHash)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > maxArgon2Threads {
				n = 0
			}
			p.Threads = uint8(n)
		default:
			return passwordHash{}, fmt.Errorf("argon2id parameter %q: %w", k, ErrBadHash)
		}
	}
	if p.Memory < 8*uint32(max(p.Threads, 1)) || p.Memory > maxArgon2Memory || p.Time == 0 || p.Time > maxArgon2Time || p.Threads == 0 {
		return passwordHash{}, fmt.Errorf("argon2id parameters m=%d t=%d p=%d out of range: %w", p.Memory, p.Time, p.Threads, ErrBadHash)
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 1024 {
		return passwordHash{}, fmt.Errorf("argon2id salt or hash: %w", ErrBadHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return passwordHash{params: p, salt: salt, key: key}, nil
}

// verify reports whether password matches, in time that does not depend on
// where the two differ.
func (h passwordHash) verify(password string) bool {
	if len(password) > maxPasswordLen {
		return false
	}
	if h.bcrypt != nil {
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	p := h.params
	got := argon2.IDKey([]byte(password), h.salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// dummyLike returns a hash of a random password with h's scheme and cost, so
// a login for an unknown user takes as long as one for a known user.
func (h passwordHash) dummyLike() passwordHash {
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	if h.bcrypt != nil {
		cost, _ := bcrypt.Cost(h.bcrypt)
		b, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw)), cost)
		if err == nil {
			return passwordHash{bcrypt: b}
		}
	}
	p := h.params
	if p.Memory == 0 {
		p = DefaultArgon2
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	return passwordHash{params: p, salt: salt, key: argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)}
}

// HashToken is the SHA-256 of an API token in hex, as web.tokens[].token_hash
// holds it. Tokens are long random strings, so a fast hash is enough: there
// is nothing to guess from.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a fresh random API token (256 bits, URL-safe).
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "mw_" + base64.RawURLEncoding.EncodeToString(b)
}
