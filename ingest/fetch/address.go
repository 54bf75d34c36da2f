package fetch

import (
	"fmt"
	"net/netip"
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
}

// nat64 embeds an IPv4 address in its last 32 bits; the embedded address is
// what is really reached.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// isPublic reports whether addr is a public unicast address. Cloud metadata
// endpoints (169.254.169.254, fd00:ec2::254) fall in link-local and
// unique-local ranges and so are refused too.
func isPublic(addr netip.Addr) bool {
	addr = addr.Unmap()
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
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
