package disk

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/minewatch/minewatch/classify/textnorm"
	"github.com/minewatch/minewatch/news"
)

// listSep joins the values of a list column. Topic ids come from analysts'
// config and may hold spaces or punctuation, but not control characters.
const listSep = "\x1f"

// valueLists are a document's filter values as stored on its narrow row.
type valueLists struct {
	topics, countries, actions, treaties string
	// facetKey and histKey identify the combination of facet values and of
	// histogram values; see schemaV2. Searches grouped by them until schema
	// 5 moved counting into memory; they are still written, so that the
	// columns stay true for anyone querying the file.
	facetKey, histKey int64
}

// listsOf derives the list columns from the classification.
func listsOf(d news.Document) valueLists {
	c := d.Classification
	var topics, countries, actions, treaties []string
	for _, t := range c.Topics {
		topics = append(topics, t.Topic)
	}
	for _, e := range c.Entities {
		countries = append(countries, e.Country)
		actions = append(actions, string(e.Action))
		treaties = append(treaties, string(e.Treaty))
	}
	l := valueLists{
		topics: joinSet(topics), countries: joinSet(countries),
		actions: joinSet(actions), treaties: joinSet(treaties),
	}
	l.facetKey = combinationKey(d.SourceID, d.Language, l.topics, l.countries, l.actions, l.treaties)
	l.histKey = combinationKey(l.topics, l.countries)
	return l
}

// combinationKey hashes parts (which hold no histSep, see checkIdentifiers).
// Two combinations sharing a key would be counted as one; at 64 bits that
// needs billions of distinct combinations.
func combinationKey(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte(histSep))
	}
	return int64(h.Sum64())
}

// joinSet returns the distinct non-empty values, sorted, joined by listSep,
// so equal sets give equal strings and GROUP BY sees one combination.
func joinSet(vals []string) string {
	vals = slices.DeleteFunc(vals, func(v string) bool { return v == "" })
	if len(vals) == 0 {
		return ""
	}
	slices.Sort(vals)
	return strings.Join(slices.Compact(vals), listSep)
}

// splitList undoes joinSet.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, listSep)
}

// Kinds of filter token in the meta FTS column.
const (
	metaTopic    = 't'
	metaCountry  = 'c'
	metaAction   = 'a'
	metaTreaty   = 'r'
	metaSource   = 's'
	metaLanguage = 'l'
	metaRelevant = 'v'
)

// metaPrefix starts every filter token. It is a private-use rune, which
// textnorm never puts in a token, so no query word can match a filter token
// and no filter token can match a query word. The ascii tokenizer keeps
// non-ASCII runes inside tokens, so prefix, kind and hex value are one token.
const metaPrefix = "\uE002"

// metaToken is the FTS token of one filter value. Hex keeps any value (source
// slugs with dashes, topic ids with underscores) one ascii-tokenizer token.
func metaToken(kind byte, value string) string {
	return metaPrefix + string(rune(kind)) + hex.EncodeToString([]byte(value))
}

// metaColumn is the meta FTS column of d: one token per filter value.
func metaColumn(d news.Document) string {
	toks := []string{metaToken(metaSource, d.SourceID), metaToken(metaLanguage, d.Language)}
	if d.Classification.Relevant {
		toks = append(toks, metaToken(metaRelevant, ""))
	}
	l := listsOf(d)
	for _, kv := range []struct {
		kind byte
		list string
	}{{metaTopic, l.topics}, {metaCountry, l.countries}, {metaAction, l.actions}, {metaTreaty, l.treaties}} {
		for _, v := range splitList(kv.list) {
			toks = append(toks, metaToken(kv.kind, v))
		}
	}
	return strings.Join(toks, " ")
}

// metaMatch is the FTS5 expression "any of values" for one filter.
func metaMatch(kind byte, values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		// Tokens are the prefix rune, a letter and hex digits: no quotes to escape.
		parts[i] = `"` + metaToken(kind, v) + `"`
	}
	return group(parts, " OR ")
}

// rebuildChunk is how many articles rebuildDerived reads at a time: the
// statements that rewrite them run between reads, never under an open cursor.
const rebuildChunk = 500

// rebuildDerived fills the version 2 columns (list columns, FTS with meta)
// of every article from its stored body and classification.
func rebuildDerived(ctx context.Context, tx *sql.Tx) error {
	upd, err := tx.PrepareContext(ctx, `UPDATE articles SET topics = ?, countries = ?, actions = ?, treaties = ?,
		facet_key = ?, hist_key = ? WHERE rid = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO articles_fts (rowid, title, text, meta) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	type item struct {
		rid int64
		d   news.Document
	}
	var (
		last int64 = -1 << 63
		toks []textnorm.Token
	)
	for {
		rows, err := tx.QueryContext(ctx, `SELECT a.rid, a.source_id, a.language, a.relevant, b.title, b.summary,
			b.text, b.classification FROM articles a JOIN article_bodies b ON b.rid = a.rid
			WHERE a.rid > ? ORDER BY a.rid LIMIT ?`, last, rebuildChunk)
		if err != nil {
			return fmt.Errorf("read articles: %w", err)
		}
		var items []item
		for rows.Next() {
			var (
				it  item
				raw string
			)
			if err := rows.Scan(&it.rid, &it.d.SourceID, &it.d.Language, &it.d.Classification.Relevant,
				&it.d.Title, &it.d.Summary, &it.d.Text, &raw); err != nil {
				rows.Close()
				return fmt.Errorf("read articles: %w", err)
			}
			relevant := it.d.Classification.Relevant
			if err := json.Unmarshal([]byte(raw), &it.d.Classification); err != nil {
				rows.Close()
				return fmt.Errorf("decode classification of article %d: %w", it.rid, err)
			}
			// The relevant column is what version 1 searched; keep its word.
			it.d.Classification.Relevant = relevant
			items = append(items, it)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read articles: %w", err)
		}
		if len(items) == 0 {
			return nil
		}
		for _, it := range items {
			l := listsOf(it.d)
			if _, err := upd.ExecContext(ctx, l.topics, l.countries, l.actions, l.treaties, l.facetKey, l.histKey, it.rid); err != nil {
				return fmt.Errorf("article %d: %w", it.rid, err)
			}
			var title, body string
			title, toks = ftsColumn(it.d.Title, toks)
			body, toks = ftsColumn(searchText(it.d.Summary, it.d.Text), toks)
			if _, err := ins.ExecContext(ctx, it.rid, title, body, metaColumn(it.d)); err != nil {
				return fmt.Errorf("article %d: %w", it.rid, err)
			}
		}
		last = items[len(items)-1].rid
	}
}
