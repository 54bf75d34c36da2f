package fetch

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// blockedPrefixes are ranges that are not the public Internet, beyond what
// netip.Addr's own predicates cover (loopback, private, link-local,
// unspecified, multicast).
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated); ::1 and :: included
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still routed inside some sites)
}

// nat64 embeds an IPv4 address in its last 32 bits; the embedded address is
// what is really reached.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sixToFour (RFC 3056) embeds an IPv4 address in bits 16–48; a relay
// delivers to it, so a private one is refused like the address itself.
var sixToFour = netip.MustParsePrefix("2002::/16")

// isPublic reports whether addr is a public unicast address. Cloud metadata
// endpoints (169.254.169.254, fd00:ec2::254) fall in link-local and
// unique-local ranges and so are refused too.
func isPublic(addr netip.Addr) bool {
	addr = addr.Unmap()
	switch {
	case nat64.Contains(addr):
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	case sixToFour.Contains(addr):
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() ||
		addr.IsUnspecified() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// allowList is Options.AllowPrivate parsed: host names and address ranges
// that may be fetched although they are not public.
type allowList struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

func parseAllowList(entries []string) (allowList, error) {
	al := allowList{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			al.prefixes = append(al.prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			al.prefixes = append(al.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		if strings.ContainsAny(e, "/:@ ") {
			return al, fmt.Errorf("fetch: AllowPrivate entry %q is neither a host name, an address nor a CIDR", e)
		}
		al.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
	}
	return al, nil
}

func (al allowList) host(h string) bool {
	return al.hosts[strings.ToLower(strings.TrimSuffix(h, "."))]
}

func (al allowList) addr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range al.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// control is the net.Dialer Control hook: it sees the address actually being
// dialled, after DNS resolution and on every redirect, so neither a DNS
// rebinding nor a redirect to an internal host slips through.
func (al allowList) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrPrivateAddress, address)
	}
	if isPublic(ap.Addr()) || al.addr(ap.Addr()) {
		return nil
	}
	return fmt.Errorf("%w: %s (add it to AllowPrivate to fetch it)", ErrPrivateAddress, ap.Addr())
}

// looseIPv4 reads host the way inet_aton(3) does, which is how the C
// resolver, curl and many browsers read it: one to four parts, each decimal,
// octal (leading 0) or hex (leading 0x), the last filling the remaining
// bytes. "2130706433", "0x7f.1" and "017700000001" are all 127.0.0.1. Go's
// own parser rejects these spellings, but a cgo resolver or a proxy would
// not, so they are judged by the address they spell.
func looseIPv4(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
			if digits == "" { // "0x" alone is 0 to inet_aton
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" || strings.ContainsAny(digits, "+-_") {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	// All parts but the last are one byte; the last fills what is left.
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
