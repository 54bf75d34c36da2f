// Package charset turns fetched feed and page bodies into UTF-8. It finds the
// encoding from the BOM, the HTTP header, the XML declaration or an HTML meta tag.
package charset

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// ErrDecode wraps a failure of a decoder on a body whose charset was found.
var ErrDecode = errors.New("charset: decode")

// metaScanBytes is how far into a document an HTML charset declaration is
// looked for. WHATWG says 1024; real sites put long <head> preambles first.
const metaScanBytes = 2048

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF16LE = []byte{0xFF, 0xFE}
)

// xmlDecl matches an XML declaration at the very start of a document (after
// optional whitespace) and captures its encoding pseudo-attribute's value.
var xmlDecl = regexp.MustCompile(`^\s*<\?xml\s[^>]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// ToUTF8 converts a fetched body to UTF-8. Detection order: BOM, the HTTP
// Content-Type charset, the XML declaration's encoding, an HTML <meta charset>
// or http-equiv in the first 2 KB, else UTF-8 if valid, else windows-1252. It
// rewrites an XML declaration's encoding="…" to UTF-8 so a feed parser does not
// decode twice, and drops a BOM. Bytes that are invalid in the chosen encoding
// become U+FFFD; that is never an error. Returns the charset name used, as the
// WHATWG Encoding Standard names it (so "iso-8859-1" is reported as
// "windows-1252", which is what browsers and this function decode it as).
func ToUTF8(body []byte, contentType string) ([]byte, string, error) {
	enc, name, rest := detect(body, contentType)
	var out []byte
	if name == "utf-8" {
		// ToValidUTF8 copies, so callers may keep the result while reusing body.
		out = bytes.ToValidUTF8(rest, []byte("\uFFFD"))
	} else {
		var err error
		out, err = enc.NewDecoder().Bytes(rest)
		if err != nil {
			return nil, name, fmt.Errorf("%w: %s: %v", ErrDecode, name, err)
		}
		// Decoders of the standard encodings replace bad input, but a last
		// guard keeps the "always valid UTF-8" promise.
		if !utf8.Valid(out) {
			out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
		}
	}
	return rewriteXMLDecl(out), name, nil
}

// detect returns the encoding, its WHATWG name and the body without its BOM.
func detect(body []byte, contentType string) (encoding.Encoding, string, []byte) {
	switch {
	case bytes.HasPrefix(body, bomUTF8):
		return unicode.UTF8, "utf-8", body[len(bomUTF8):]
	case bytes.HasPrefix(body, bomUTF16BE):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", body[2:]
	case bytes.HasPrefix(body, bomUTF16LE):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", body[2:]
	}
	if label := headerCharset(contentType); label != "" {
		if enc, name := lookup(label); enc != nil {
			// Servers often label every response ISO-8859-1 (an Apache and
			// Java default) while the document is UTF-8. Non-ASCII text that
			// is valid UTF-8 is almost never single-byte Latin text, so trust
			// the bytes over the header for these labels only.
			if name == "windows-1252" && hasHighBit(body) && utf8.Valid(body) {
				return unicode.UTF8, "utf-8", body
			}
			return enc, name, body
		}
	}
	if m := xmlDecl.FindSubmatch(head(body, 256)); m != nil {
		label := string(m[1]) + string(m[2])
		if enc, name := lookupInDocument(label); enc != nil {
			return enc, name, body
		}
	}
	if enc, name := metaCharset(head(body, metaScanBytes)); enc != nil {
		return enc, name, body
	}
	if utf8.Valid(body) {
		return unicode.UTF8, "utf-8", body
	}
	enc, name := lookup("windows-1252")
	return enc, name, body
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func hasHighBit(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// lookup maps a label to an encoding with the WHATWG table. Unknown labels
// give nil, so detection moves on to the next source.
func lookup(label string) (encoding.Encoding, string) {
	label = strings.Trim(strings.TrimSpace(label), `"'`)
	if label == "" {
		return nil, ""
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, ""
	}
	name, err := htmlindex.Name(enc)
	if err != nil {
		return nil, ""
	}
	if name == "utf-8" {
		return unicode.UTF8, name
	}
	return enc, name
}

// lookupInDocument is lookup for labels read from inside the document. A
// document whose declaration we could read as ASCII is not UTF-16 (its BOM
// would have been seen first), so such a label means UTF-8, as WHATWG says
// for <meta>. x-user-defined is likewise treated as windows-1252.
func lookupInDocument(label string) (encoding.Encoding, string) {
	enc, name := lookup(label)
	switch name {
	case "utf-16be", "utf-16le":
		return unicode.UTF8, "utf-8"
	case "x-user-defined":
		return lookup("windows-1252")
	}
	return enc, name
}

func headerCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		// A malformed header may still name its charset plainly.
		i := indexFoldASCII(contentType, "charset=")
		if i < 0 {
			return ""
		}
		v := contentType[i+len("charset="):]
		if j := strings.IndexAny(v, "; "); j >= 0 {
			v = v[:j]
		}
		return v
	}
	return params["charset"]
}

// indexFoldASCII is strings.Index ignoring ASCII case. strings.ToLower
// cannot stand in: it turns each invalid UTF-8 byte of a hostile header into
// a three-byte U+FFFD, so its offsets no longer fit the original (a fuzzed
// "\xdeChArset=" sliced out of range).
func indexFoldASCII(s, lowerSubstr string) int {
	for i := 0; i+len(lowerSubstr) <= len(s); i++ {
		match := true
		for j := 0; j < len(lowerSubstr); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerSubstr[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// metaCharset runs the WHATWG prescan over the start of an HTML document:
// <meta charset=…>, or <meta http-equiv="content-type" content="…charset=…">.
func metaCharset(b []byte) (encoding.Encoding, string) {
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil, ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			if !bytes.EqualFold(tag, []byte("meta")) {
				continue
			}
			var charset, content string
			pragma := false
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch strings.ToLower(string(k)) {
				case "charset":
					charset = string(v)
				case "http-equiv":
					pragma = strings.EqualFold(strings.TrimSpace(string(v)), "content-type")
				case "content":
					content = string(v)
				}
			}
			if charset != "" {
				if enc, name := lookupInDocument(charset); enc != nil {
					return enc, name
				}
			}
			if pragma && content != "" {
				if enc, name := lookupInDocument(charsetFromContent(content)); enc != nil {
					return enc, name
				}
			}
		}
	}
}

// charsetFromContent extracts the charset of a meta content attribute such as
// "text/html; charset=windows-1257".
func charsetFromContent(s string) string {
	i := indexFoldASCII(s, "charset")
	if i < 0 {
		return ""
	}
	s = strings.TrimLeft(s[i+len("charset"):], " \t\r\n\f")
	if !strings.HasPrefix(s, "=") {
		return ""
	}
	s = strings.TrimLeft(s[1:], " \t\r\n\f")
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		q := s[0]
		if j := strings.IndexByte(s[1:], q); j >= 0 {
			return s[1 : 1+j]
		}
		return ""
	}
	if j := strings.IndexAny(s, "; \t\r\n\f"); j >= 0 {
		s = s[:j]
	}
	return s
}

// rewriteXMLDecl makes an XML declaration's encoding say UTF-8, since the
// bytes now are.
func rewriteXMLDecl(b []byte) []byte {
	loc := xmlDecl.FindSubmatchIndex(head(b, 256))
	if loc == nil {
		return b
	}
	start, end := loc[2], loc[3]
	if start < 0 {
		start, end = loc[4], loc[5]
	}
	if strings.EqualFold(string(b[start:end]), "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	out = append(out, b[:start]...)
	out = append(out, "UTF-8"...)
	return append(out, b[end:]...)
}
