package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks yaml.Node trees, converting values and collecting every
// problem instead of stopping at the first, as an analyst fixing a file wants.
type decoder struct {
	file  string
	lines []string // the file's lines, to place block scalars precisely
	errs  Errors
	// merged counts key/value pairs brought in by << merge keys. Merges of
	// merges multiply, so a few lines could otherwise expand to billions.
	merged     int
	mergeLimit bool // the limit was hit and reported
}

// maxMerged bounds merge expansion; real configs merge a handful of keys per
// source.
const maxMerged = 10000

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases, so *anchors can be used anywhere a value can.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names a node's type for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "a boolean " + strconv.Quote(n.Value)
		case "!!int":
			return "an integer " + n.Value
		case "!!float":
			return "a number " + n.Value
		case "!!str":
			return "a string " + strconv.Quote(n.Value)
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// field is one key a mapping accepts and what to do with its value.
type field struct {
	key      string
	set      func(n *yaml.Node)
	required bool
}

// secretKeys are key names that would put a credential in the file.
var secretKeys = []string{"password", "passwd", "api_key", "apikey", "secret", "token"}

func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

// mapping decodes the pairs of a mapping node into fields. It reports unknown,
// duplicate, secret-bearing and missing keys, and returns the value node of
// each key seen, for checks across fields. what names the mapping in messages.
func (d *decoder) mapping(what string, n *yaml.Node, fields []field) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	n = resolve(n)
	if n == nil {
		return seen
	}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, got %s", what, describe(n))
		return seen
	}
	byKey := make(map[string]*field, len(fields))
	for i := range fields {
		byKey[fields[i].key] = &fields[i]
	}
	keyNodes := map[string]*yaml.Node{}
	for _, kv := range d.pairs(n, 0) {
		k, v := kv[0], kv[1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be strings, got %s", what, describe(k))
			continue
		}
		key := k.Value
		if first, dup := keyNodes[key]; dup {
			if kv[2] == nil { // keys brought in by a << merge may be overridden
				d.errorf(k, "duplicate key %q (first at %d:%d)", key, first.Line, first.Column)
			}
			continue
		}
		keyNodes[key] = k
		f, ok := byKey[key]
		if !ok && strings.HasPrefix(key, "x-") {
			f, ok = byKey["x-*"]
		}
		if !ok {
			d.unknownKey(k, key, fields)
			continue
		}
		seen[key] = v
		f.set(resolve(v))
	}
	for _, f := range fields {
		if !f.required {
			continue
		}
		if v, ok := seen[f.key]; !ok || isNull(resolve(v)) {
			d.errorf(n, "%s is missing required key %q", what, f.key)
		}
	}
	return seen
}

// pairs lists a mapping's key/value pairs with "<<" merge keys expanded. The
// third element is non-nil for pairs that came from a merge. Explicit keys come
// first so they win over merged ones.
func (d *decoder) pairs(n *yaml.Node, depth int) [][3]*yaml.Node {
	var own, merged [][3]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(v, depth)...)
			continue
		}
		own = append(own, [3]*yaml.Node{k, v, nil})
	}
	return append(own, merged...)
}

func (d *decoder) mergeSources(v *yaml.Node, depth int) [][3]*yaml.Node {
	if depth > 10 {
		d.errorf(v, "merge keys nested too deeply")
		return nil
	}
	v = resolve(v)
	var maps []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		maps = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, m := range v.Content {
			maps = append(maps, resolve(m))
		}
	}
	var out [][3]*yaml.Node
	for _, m := range maps {
		if m == nil || m.Kind != yaml.MappingNode {
			d.errorf(v, "merge key \"<<\": expected a mapping or a list of mappings")
			return nil
		}
		if d.merged += len(m.Content) / 2; d.merged > maxMerged {
			if !d.mergeLimit {
				d.mergeLimit = true
				d.errorf(v, "merge keys expand to more than %d keys", maxMerged)
			}
			return nil
		}
		for _, kv := range d.pairs(m, depth+1) {
			out = append(out, [3]*yaml.Node{kv[0], kv[1], m})
		}
	}
	return out
}

func (d *decoder) unknownKey(k *yaml.Node, key string, fields []field) {
	if secretKey(key) {
		var envs []string
		for _, f := range fields {
			if strings.HasSuffix(f.key, "_env") {
				envs = append(envs, strconv.Quote(f.key))
			}
		}
		hint := "name an environment variable with a *_env key instead"
		if len(envs) > 0 {
			hint = "put it in an environment variable and give its name with " + strings.Join(envs, " or ")
		}
		d.errorf(k, "key %q would put a secret in the file: %s", key, hint)
		return
	}
	var keys []string
	for _, f := range fields {
		if !strings.Contains(f.key, "*") {
			keys = append(keys, f.key)
		}
	}
	if s := suggest(key, keys); s != "" {
		d.errorf(k, "unknown key %q (did you mean %q?)", key, s)
		return
	}
	d.errorf(k, "unknown key %q", key)
}

// suggest returns the candidate closest to s when it is close enough to be a
// plausible typo, else "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", math.MaxInt
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if dist := editDistance(ls, strings.ToLower(c)); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := 2
	if len([]rune(s)) <= 4 {
		limit = 1
	}
	if bestDist == 0 || bestDist > limit {
		if bestDist == 0 && best != s { // differs only in case
			return best
		}
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment) distance,
// so a swapped pair of letters counts as one typo.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// list calls item for each element of a sequence node; null is an empty list.
func (d *decoder) list(key string, n *yaml.Node, item func(n *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: expected a list, got %s", key, describe(n))
		return
	}
	for _, e := range n.Content {
		item(resolve(e))
	}
}

// scalar checks that n is a plain value and returns its text; ok is false (and
// the problem reported) for mappings and lists. Null gives "".
func (d *decoder) scalar(key string, n *yaml.Node, want string) (string, bool) {
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: expected %s, got %s", key, want, describe(n))
		return "", false
	}
	return n.Value, true
}

// str is a string field. Numbers and booleans are taken as written: a name of
// 2024 or a selector of 1 is clearly meant as text.
func (d *decoder) str(key string, dst *string, check func(n *yaml.Node, v string)) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(key, n, "a string")
		if !ok {
			return
		}
		*dst = v
		if check != nil && v != "" {
			check(n, v)
		}
	}
}

func (d *decoder) strList(key string, dst *[]string, check func(n *yaml.Node, v string) string) func(*yaml.Node) {
	return func(n *yaml.Node) {
		d.list(key, n, func(e *yaml.Node) {
			v, ok := d.scalar(key, e, "a string")
			if !ok {
				return
			}
			if v == "" {
				d.errorf(e, "%s: empty entry", key)
				return
			}
			if check != nil {
				v = check(e, v)
			}
			*dst = append(*dst, v)
		})
	}
}

func (d *decoder) integer(key string, dst *int, lo, hi int) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.errorf(n, "%s: expected an integer, got %s", key, describe(n))
			return
		}
		var v int
		if err := n.Decode(&v); err != nil {
			d.errorf(n, "%s: bad integer %q", key, n.Value)
			return
		}
		if v < lo || v > hi {
			d.errorf(n, "%s: %d is out of range [%d, %d]", key, v, lo, hi)
			return
		}
		*dst = v
	}
}

func (d *decoder) float(key string, dst *float64, check func(n *yaml.Node, v float64)) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if isNull(n) {
			return
		}
		tag := n.ShortTag()
		if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
			d.errorf(n, "%s: expected a number, got %s", key, describe(n))
			return
		}
		var v float64
		if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			d.errorf(n, "%s: bad number %q", key, n.Value)
			return
		}
		if check != nil {
			check(n, v)
		}
		*dst = v
	}
}

func (d *decoder) boolean(key string, dst *bool) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if isNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n, "%s: expected true or false, got %s", key, describe(n))
			return
		}
		if err := n.Decode(dst); err != nil {
			d.errorf(n, "%s: bad boolean %q", key, n.Value)
		}
	}
}

func (d *decoder) optBool(key string, dst **bool) func(*yaml.Node) {
	return func(n *yaml.Node) {
		if isNull(n) {
			return
		}
		var b bool
		ok := len(d.errs)
		d.boolean(key, &b)(n)
		if len(d.errs) == ok {
			*dst = &b
		}
	}
}

func (d *decoder) duration(key string, dst *Duration) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(key, n, "a duration such as 30s")
		if !ok || v == "" {
			return
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			d.errorf(n, "%s: bad duration %q (write it like 30s, 15m or 1h30m)", key, v)
			return
		}
		if dur < 0 {
			d.errorf(n, "%s: duration %q must not be negative", key, v)
			return
		}
		dst.Duration = dur
	}
}

// byteSize is a count of bytes, written as an integer or with a unit
// (10MiB, 512KB).
func (d *decoder) byteSize(key string, dst *int64) func(*yaml.Node) {
	return func(n *yaml.Node) {
		v, ok := d.scalar(key, n, "a size such as 10MiB")
		if !ok || v == "" {
			return
		}
		size, err := parseSize(v)
		if err != nil {
			d.errorf(n, "%s: bad size %q (write bytes, or a number with KB, MB, KiB or MiB)", key, v)
			return
		}
		if size < 0 {
			d.errorf(n, "%s: size %q must not be negative", key, v)
			return
		}
		*dst = size
	}
}

var sizeRe = regexp.MustCompile(`^\s*(-?[0-9]+)\s*([KMG]i?B|B)?\s*$`)

func parseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return n * mult, nil
}

// queryPos is the position of the first character of a scalar's value: one
// past the quote of a quoted scalar, and the first content line of a block
// scalar (| or >), whose node position is that of the indicator. keyCol is
// the column of the mapping key the scalar is the value of.
func (d *decoder) queryPos(n *yaml.Node, keyCol int) Position {
	p := d.pos(n)
	switch {
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		p.Col++
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		p = d.blockStart(n, keyCol, p)
	}
	return p
}

// blockStart finds a block scalar's first non-empty content line. The value's
// first character is at the block's indentation: the explicit indentation
// indicator (|2) counted from the parent's indentation, else the first
// content line's own indentation.
func (d *decoder) blockStart(n *yaml.Node, keyCol int, p Position) Position {
	if n.Line < 1 || n.Line > len(d.lines) {
		return p
	}
	header := d.lines[n.Line-1]
	if n.Column-1 < len(header) {
		header = header[n.Column-1:]
	}
	explicit := 0
	for _, r := range header[min(1, len(header)):] {
		if r >= '1' && r <= '9' {
			explicit = int(r - '0')
			break
		}
		if r != '+' && r != '-' {
			break
		}
	}
	for i := n.Line; i < len(d.lines); i++ {
		line := d.lines[i]
		trimmed := strings.TrimLeft(line, " ")
		if strings.TrimSpace(trimmed) == "" {
			continue
		}
		col := len(line) - len(trimmed) + 1
		if explicit > 0 && keyCol > 0 {
			col = keyCol + explicit
		}
		return Position{File: d.file, Line: i + 1, Col: col}
	}
	return p
}

// yamlLineRe pulls the line number out of yaml.v3 syntax errors.
var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// document parses data into its root node. A syntax error is reported with
// its line; more than one document in the file is an error.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		d.syntax(err, data)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "only one YAML document is allowed in a config file")
	} else if !errors.Is(err, io.EOF) {
		d.syntax(err, data)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return nil
}

func (d *decoder) syntax(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if l := firstBadLine(data, msg); l > 0 {
		line = l
	}
	d.errs = append(d.errs, &Error{Pos: Position{File: d.file, Line: line}, Msg: "YAML syntax: " + msg})
}

// firstBadLine finds the line a syntax error is on. yaml.v3 reports the line
// where the enclosing block starts, and counts it from 0 for parser errors,
// which sends the user to the wrong place; the first prefix of the file that
// fails with the same message ends on the right line. Prefixes of YAML
// before the error almost always parse, so a binary search finds it; 0 means
// not found.
func firstBadLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	failsSame := func(k int) bool {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		return err != nil && strings.HasSuffix(err.Error(), msg)
	}
	lo, hi := 1, len(lines)
	if !failsSame(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if failsSame(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
