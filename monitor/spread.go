package monitor

import (
	"net/url"
	"strings"
)

// interleaveHosts returns the order in which to take n sources, whose
// fetch URLs urlAt gives: round-robin over their hosts, each host's sources
// in their order, hosts in the order they first appear. The fetcher lets one
// request at a time reach a host, seconds apart; configs list an outlet's
// feeds together, and taken in that order they would park every worker on
// one host's delay while other hosts wait.
func interleaveHosts(n int, urlAt func(i int) string) []int {
	var hosts []string
	byHost := make(map[string][]int)
	for i := range n {
		h := hostOf(urlAt(i))
		if _, seen := byHost[h]; !seen {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	out := make([]int, 0, n)
	for round := 0; len(out) < n; round++ {
		for _, h := range hosts {
			if q := byHost[h]; round < len(q) {
				out = append(out, q[round])
			}
		}
	}
	return out
}

// hostOf is the politeness key the fetcher uses: the URL's host and port,
// lower-cased; "" for a URL that does not parse, which the fetch then reports.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
