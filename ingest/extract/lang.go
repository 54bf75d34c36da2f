package extract

import (
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

// detectable are the languages DetectLanguage may answer: those minewatch's
// sources publish in. Restricting the detector keeps it from answering a
// related language no source uses (Bosnian for Polish, say). whatlanggo has no
// model for Slovak, so Slovak text comes out as Czech or "".
var detectable = map[whatlanggo.Lang]string{
	whatlanggo.Eng: "en", whatlanggo.Pol: "pl", whatlanggo.Fin: "fi", whatlanggo.Est: "et",
	whatlanggo.Lav: "lv", whatlanggo.Lit: "lt", whatlanggo.Ukr: "uk", whatlanggo.Rus: "ru",
	whatlanggo.Deu: "de", whatlanggo.Fra: "fr", whatlanggo.Swe: "sv", whatlanggo.Nob: "no",
	whatlanggo.Nno: "no", whatlanggo.Dan: "da", whatlanggo.Spa: "es", whatlanggo.Ita: "it",
	whatlanggo.Por: "pt", whatlanggo.Nld: "nl", whatlanggo.Ces: "cs", whatlanggo.Ron: "ro",
	whatlanggo.Hun: "hu", whatlanggo.Bel: "be", whatlanggo.Kat: "ka",
}

var detectOptions = func() whatlanggo.Options {
	wl := make(map[whatlanggo.Lang]bool, len(detectable))
	for l := range detectable {
		wl[l] = true
	}
	return whatlanggo.Options{Whitelist: wl}
}()

// detectSample is how much text the detector reads: trigram statistics settle
// long before the end of an article.
const detectSample = 4000

// minLetters is the least text worth a guess.
const minLetters = 20

// DetectLanguage returns the ISO 639-1 code of the text's language, or "" when
// the text is too short, in an unsupported language or the detector is unsure.
func DetectLanguage(text string) string {
	if len(text) > detectSample {
		cut := detectSample
		for cut > 0 && !isRuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	letters := 0
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters < minLetters {
		return ""
	}
	info := whatlanggo.DetectWithOptions(text, detectOptions)
	code, ok := detectable[info.Lang]
	if !ok || !info.IsReliable() {
		return ""
	}
	return code
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// normLang reduces a language tag ("en-US", "pl_PL", "lt") to its lower-case
// primary subtag, or "" when it is not a plausible ISO 639 code. Norwegian
// Bokmål and Nynorsk map to "no", as the rest of minewatch uses it.
func normLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) != 2 {
		return ""
	}
	for _, r := range tag {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	if tag == "nb" || tag == "nn" {
		return "no"
	}
	return tag
}
