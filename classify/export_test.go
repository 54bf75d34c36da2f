package classify

// BareScan is the floor of any keyword classifier over c's patterns, for
// BenchmarkBareScan: it tokenizes and folds title and text with the same
// tokenizer and walks every token once through the same pattern trie, with no
// phrases, rules, scores or explanations. The patterns are anchored at word
// starts, so this trie walk is exactly what an Aho-Corasick automaton over the
// folded text would report (its failure links only find matches that start
// inside a word). It returns the number of pattern hits.
func (c *Classifier) BareScan(title, text string) int {
	s := c.pool.get()
	defer c.pool.put(s)
	n := 0
	for f, src := range [2]string{title, text} {
		fs := &s.fields[f]
		fs.toks = s.tz.Append(fs.toks[:0], src)
		fs.pats = fs.pats[:0]
		for _, tk := range fs.toks {
			fs.pats = c.prog.trie.match(fs.pats, tk.Text)
		}
		n += len(fs.pats)
	}
	return n
}
