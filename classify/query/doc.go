// Package query parses the analysts' boolean query language, used both for
// classification rules in the config and for searching the archive.
//
// # Terms
//
// A word matches that word anywhere in the article, ignoring case and
// diacritics (words are compared after textnorm.Fold, so "Łotwa" matches
// "lotwa" and "MINY" matches "miny"). A word matches whole words only: "mine"
// does not match "mines" or "undermine".
//
//	landmine            the word landmine
//	mine*               a prefix: mine, mines, minefield (not undermine)
//	konwencj*           konwencja, konwencji, konwencję ...
//	"Ottawa Convention" an exact phrase: the words next to each other, in order
//	"anti-personnel mine*"  the last word of a phrase may be a prefix
//	Ottawa-Abkommen     a word the tokenizer splits is a phrase: "Ottawa Abkommen"
//	d'Ottawa            likewise: "d Ottawa"
//
// Typographic quotes (“…”, „…“, «…») delimit phrases too.
// Hyphens, apostrophes and other punctuation separate words, exactly as they do
// in article text, so a rule matches the way the text is split.
//
// # Operators
//
// AND, OR and NOT must be written in upper case; "and", "or" and "not" are
// ordinary words. Words written next to each other are ANDed. Parentheses
// group. NOT binds tightest, then NEAR, then AND, then OR:
//
//	mine AND ban            both words
//	mine ban                the same
//	mine OR landmine        either
//	mine NOT naval          mine AND NOT naval
//	NOT naval               every article without "naval"
//	(mine OR mina) AND (Ottawa OR Otava*)
//
// # Proximity
//
//	withdraw* NEAR/5 Ottawa     within 5 words of each other, in either order
//	withdraw* NEAR/s Ottawa     in the same sentence
//	(leave OR withdraw*) NEAR/10 (treaty OR convention)
//
// The distance n is 1–100 and counts positions: at most n−1 other words lie
// between the two operands (NEAR/1 means adjacent; in SQLite FTS5 terms this is
// NEAR(x y, n−1), in Elasticsearch an unordered span_near with slop n−1). Both
// operands must be in the same field, and one word cannot serve as both. Phrases
// never span two sentences. The operands of NEAR are
// terms, phrases, or parenthesised ORs of them; AND, NOT and NEAR are not
// allowed inside an operand, and NEAR does not chain.
//
// # Fields
//
//	title:mine                  only in the title
//	title:"cluster munitions"   a phrase in the title
//	title:(mine OR mina)        the scope applies to every term inside
//	text:demining               only in the body text
//
// The fields are title and text; any other name before a colon is an error.
//
// # Errors
//
// Parse returns a *SyntaxError whose Line and Col (1-based, counted in
// characters) point at the problem and whose message says what was expected,
// for example "line 2, column 14: expected a term or '(' after AND, found end of
// query".
//
// # Canonical form
//
// Node.String renders a query in canonical syntax, with explicit operators and
// parentheses; parsing it again gives an equal tree (see Equal).
package query
