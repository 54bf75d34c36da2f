// Package classify puts articles into topics by the analysts' boolean keyword
// rules, and explains each decision by the rules and words that matched.
//
// # Rules and topics
//
// A rule is a query in the syntax of package query, a topic, a weight (1 by
// default) and optionally a language: a rule with a language only applies to
// articles in that language. A topic has a threshold (1 by default).
//
// # Scoring
//
// For each article, every rule whose query matches adds its weight to its
// topic's score. A topic is assigned when its score reaches its threshold, so
// with the defaults one matching rule is enough; a threshold of 2 with rules of
// weight 1 asks for two independent rules to agree, and a weight of 0.5 marks a
// rule as weak evidence that needs support from another.
//
// The classification is Relevant when at least one topic is assigned. Its Score
// is the highest score of any topic, assigned or not, so near misses are
// visible when thresholds are tuned. Topics are listed strongest first; each
// carries the rules that matched and the places their terms were found (byte
// offsets into the title or the text; when an article has no text its summary
// is read as the text field, and text offsets point into the summary). The entity extractor runs only for
// relevant articles and is told the assigned topics.
//
// # Matching
//
// Title and text (the summary when there is no text) are tokenized and folded
// once with textnorm, the same way the rules' words are, so case, diacritics,
// ł/l, ß/ss and NFKC variants never matter, and words match whole: "mine"
// matches neither "mines" nor "undermine", "mine*" matches "mines" but not
// "undermine". Phrases match consecutive words of one sentence. NEAR/n matches
// when at most n−1 words separate the two operands (NEAR/1: adjacent), in
// either order and in the same field; NEAR/s when both are in one sentence.
//
// Every word and prefix of every rule goes into one table (a hash map for
// words, a byte trie for prefixes), so an article is scanned once whatever the
// number of rules; only the rules that mention a word found in the article (and
// rules such as "NOT x" that can match without any) are then evaluated.
package classify
