package fetch

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNS is an in-memory DNS server for a *net.Resolver, so tests decide
// what host names resolve to without /etc/hosts or a network. Each name has
// a sequence of answers: the n-th A (or AAAA) query gets the n-th entry, the
// last one repeating, which is how DNS rebinding is simulated.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr // name without trailing dot → answers per query
	queries map[string]int            // A/AAAA queries seen per "name/type"
}

func newFakeDNS(answers map[string][][]netip.Addr) *fakeDNS {
	return &fakeDNS{answers: answers, queries: map[string]int{}}
}

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			client, server := net.Pipe()
			go d.serve(server)
			return client, nil
		},
	}
}

// serve answers queries on a stream connection (2-byte length prefix, as
// the Go resolver frames them on a conn that is not a net.PacketConn).
func (d *fakeDNS) serve(c net.Conn) {
	defer c.Close()
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		resp, err := d.answer(buf)
		if err != nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

func (d *fakeDNS) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")

	d.mu.Lock()
	seq, known := d.answers[name]
	var addrs []netip.Addr
	if known && (q.Type == dnsmessage.TypeA || q.Type == dnsmessage.TypeAAAA) {
		key := name + "/" + q.Type.String()
		i := d.queries[key]
		d.queries[key]++
		addrs = seq[min(i, len(seq)-1)]
	}
	d.mu.Unlock()

	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
		RecursionAvailable: true, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// victim is an HTTP server on a loopback address that counts its requests:
// a refused fetch must leave it untouched.
type victim struct {
	url  string // http://addr:port
	port string
	hits atomic.Int32
}

// listenVictim starts a victim on addr:port ("0" for any port); nil when the
// address cannot be bound here (no IPv6, say).
func listenVictim(t *testing.T, addr, port string) *victim {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, port))
	if err != nil {
		return nil
	}
	v := &victim{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.hits.Add(1)
		w.Header().Set("Connection", "close") // every fetch dials, so every fetch is checked
		io.WriteString(w, "victim")
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	v.url = srv.URL
	_, v.port, _ = net.SplitHostPort(ln.Addr().String())
	return v
}

// wantRefused checks that err is a refusal of where to fetch from, with the
// "private" class and not worth retrying.
func wantRefused(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if Class(err) != "private" || IsTransient(err) {
		t.Errorf("Class = %q, transient = %v, want private and permanent: %v", Class(err), IsTransient(err), err)
	}
}

// TestSSRFAddresses proves that every non-public address, however it is
// spelled, is refused: by the literal check before any connection, or by the
// dial-time check on the address a name resolved to. Where the address is
// one this machine can serve (loopback), a victim server listens there, and
// the same URL with everything allowed reaches it: the refusal, not an
// unreachable address, is what kept the fetch out.
func TestSSRFAddresses(t *testing.T) {
	v4 := listenVictim(t, "127.0.0.1", "0")
	v4b := listenVictim(t, "127.0.0.2", "0")
	if v4 == nil || v4b == nil {
		t.Fatal("cannot listen on 127.0.0.1 and 127.0.0.2")
	}
	v6 := listenVictim(t, "::1", "0")
	dns := newFakeDNS(map[string][][]netip.Addr{
		"loopback.test":   {addrs("127.0.0.1")},
		"intranet.test":   {addrs("10.1.2.3")},
		"corp172.test":    {addrs("172.20.0.9")},
		"home.test":       {addrs("192.168.1.1")},
		"cgnat.test":      {addrs("100.64.0.7")},
		"metadata.test":   {addrs("169.254.169.254")},
		"metadata6.test":  {addrs("fd00:ec2::254")},
		"linklocal6.test": {addrs("fe80::1")},
		"ula.test":        {addrs("fc00::5")},
		"zero.test":       {addrs("0.0.0.0")},
		"mapped.test":     {addrs("::ffff:127.0.0.1")},
		"nat64.test":      {addrs("64:ff9b::a9fe:a9fe")}, // 169.254.169.254
		"mixed.test":      {addrs("10.0.0.1", "192.168.0.1", "fd00::1")},
	})
	v6port := "1"
	if v6 != nil {
		v6port = v6.port
	}

	tests := []struct {
		name string
		url  string
		// reach is the victim the URL really leads to; the test then also
		// proves that allowing everything reaches it.
		reach *victim
		// atDial says the refusal must come from the dial-time check (a
		// name), not the literal one.
		atDial bool
	}{
		{"loopback v4", "http://127.0.0.1:" + v4.port + "/", v4, false},
		{"loopback v4 other address", "http://127.0.0.2:" + v4b.port + "/", v4b, false},
		{"loopback v6", "http://[::1]:" + v6port + "/", v6, false},
		{"unspecified v4", "http://0.0.0.0:" + v4.port + "/", v4, false},
		{"unspecified v6", "http://[::]:" + v6port + "/", v6, false},
		{"IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]:" + v4.port + "/", v4, false},
		{"IPv4-mapped IPv6, hex", "http://[::ffff:7f00:2]:" + v4b.port + "/", v4b, false},
		{"IPv4-compatible IPv6", "http://[::127.0.0.1]:" + v4.port + "/", nil, false},
		{"decimal IPv4", "http://2130706433:" + v4.port + "/", nil, false},
		{"octal IPv4", "http://017700000001:" + v4.port + "/", nil, false},
		{"hex IPv4 short", "http://0x7f.1:" + v4.port + "/", nil, false},
		{"hex IPv4", "http://0x7f000001/", nil, false},
		{"two-part IPv4", "http://127.1:" + v4.port + "/", nil, false},
		{"zero as one number", "http://0:" + v4.port + "/", nil, false},
		{"trailing dot", "http://127.0.0.1.:" + v4.port + "/", nil, false},
		{"upper-case scheme", "HTTP://127.0.0.2:" + v4b.port + "/", v4b, false},
		{"fragment hiding a host", "http://127.0.0.2:" + v4b.port + "#@public.example/", v4b, false},
		{"10/8", "http://10.0.0.1/", nil, false},
		{"10/8 top", "http://10.255.255.254/", nil, false},
		{"172.16/12", "http://172.16.0.1/", nil, false},
		{"172.16/12 top", "http://172.31.255.255/", nil, false},
		{"192.168/16", "http://192.168.0.1/", nil, false},
		{"100.64/10 carrier-grade NAT", "http://100.64.0.1/", nil, false},
		{"cloud metadata v4", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", nil, false},
		{"cloud metadata v6", "http://[fd00:ec2::254]/latest/meta-data/", nil, false},
		{"link-local v6", "http://[fe80::1]/", nil, false},
		{"link-local v6 with zone", "http://[fe80::1%25lo]/", nil, false},
		{"unique-local fc00::/7 low", "http://[fc00::1]/", nil, false},
		{"unique-local fc00::/7 high", "http://[fdff:ffff::1]/", nil, false},
		{"NAT64 of a private v4", "http://[64:ff9b::a00:1]/", nil, false},
		{"NAT64 of metadata", "http://[64:ff9b::169.254.169.254]/", nil, false},
		{"6to4 of a private v4", "http://[2002:c0a8:101::1]/", nil, false},
		{"broadcast", "http://255.255.255.255/", nil, false},
		{"multicast", "http://224.0.0.1/", nil, false},
		{"name → loopback", "http://loopback.test:" + v4.port + "/", v4, true},
		{"name → 10/8", "http://intranet.test/", nil, true},
		{"name → 172.16/12", "http://corp172.test/", nil, true},
		{"name → 192.168/16", "http://home.test/", nil, true},
		{"name → 100.64/10", "http://cgnat.test/", nil, true},
		{"name → cloud metadata", "http://metadata.test/latest/meta-data/", nil, true},
		{"name → cloud metadata v6", "http://metadata6.test/", nil, true},
		{"name → link-local v6", "http://linklocal6.test/", nil, true},
		{"name → unique-local", "http://ula.test/", nil, true},
		{"name → 0.0.0.0", "http://zero.test:" + v4.port + "/", v4, true},
		{"name → IPv4-mapped loopback", "http://mapped.test:" + v4.port + "/", v4, true},
		{"name → NAT64 of metadata", "http://nat64.test/", nil, true},
		{"name → several private addresses", "http://mixed.test/", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.url, "[::") && strings.Contains(tt.url, ":1/") && v6 == nil {
				t.Skip("IPv6 loopback is not available here")
			}
			before := int32(0)
			if tt.reach != nil {
				before = tt.reach.hits.Load()
			}
			f, _ := newFetcher(t, Options{AllowPrivate: []string{}, IgnoreRobots: true, Resolver: dns.resolver()})
			_, err := f.Fetch(context.Background(), Request{URL: tt.url})
			wantRefused(t, err, ErrPrivateAddress)
			if _, isOp := errors.AsType[*net.OpError](err); isOp != tt.atDial {
				t.Errorf("refused at dial = %v, want %v: %v", isOp, tt.atDial, err)
			}
			if tt.reach == nil {
				return
			}
			if n := tt.reach.hits.Load(); n != before {
				t.Fatalf("the victim got %d requests", n-before)
			}
			// The control: allowing everything reaches the victim.
			open, _ := newFetcher(t, Options{AllowPrivate: []string{"0.0.0.0/0", "::/0"}, IgnoreRobots: true,
				Resolver: dns.resolver()})
			resp, err := open.Fetch(context.Background(), Request{URL: tt.url})
			if err != nil {
				t.Fatalf("with everything allowed: %v", err)
			}
			if string(resp.Body) != "victim" || tt.reach.hits.Load() != before+1 {
				t.Fatalf("with everything allowed the victim was not reached: %q", resp.Body)
			}
		})
	}
}

// TestSSRFSchemesAndUserinfo covers URLs refused for what they are rather
// than where they lead.
func TestSSRFSchemesAndUserinfo(t *testing.T) {
	v4 := listenVictim(t, "127.0.0.1", "0")
	tests := []struct {
		name string
		url  string
		want error
	}{
		{"file", "file:///etc/passwd", ErrBadScheme},
		{"file with host", "file://localhost/etc/passwd", ErrBadScheme},
		{"ftp", "ftp://example.org/feed.xml", ErrBadScheme},
		{"gopher", "gopher://127.0.0.1:6379/_FLUSHALL", ErrBadScheme},
		{"data", "data:text/html,<script>alert(1)</script>", ErrBadScheme},
		{"javascript", "javascript:alert(document.cookie)", ErrBadScheme},
		{"dict", "dict://127.0.0.1:11211/stats", ErrBadScheme},
		{"scheme-relative", "//127.0.0.1/", ErrBadScheme},
		{"user and password", "http://admin:secret@" + strings.TrimPrefix(v4.url, "http://") + "/", ErrUserinfo},
		{"trusted name as user", "http://trusted.example@" + strings.TrimPrefix(v4.url, "http://") + "/", ErrUserinfo},
		{"user on a public host", "https://user:pw@example.org/feed.xml", ErrUserinfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Even with the victim's address allowed, these are refused.
			f, _ := newFetcher(t, Options{AllowPrivate: []string{"127.0.0.1"}, IgnoreRobots: true})
			_, err := f.Fetch(context.Background(), Request{URL: tt.url})
			wantRefused(t, err, tt.want)
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	if n := v4.hits.Load(); n != 0 {
		t.Errorf("the victim got %d requests", n)
	}
}

// TestSSRFRedirects starts at an allowed server that redirects to internal
// places: every hop is checked, and none of them is reached.
func TestSSRFRedirects(t *testing.T) {
	v4b := listenVictim(t, "127.0.0.2", "0")
	if v4b == nil {
		t.Fatal("cannot listen on 127.0.0.2")
	}
	v6 := listenVictim(t, "::1", "0")
	v6url := "http://[::1]:1/"
	if v6 != nil {
		v6url = v6.url + "/"
	}
	dns := newFakeDNS(map[string][][]netip.Addr{
		"intranet.test": {addrs("10.1.2.3")},
		"loopback.test": {addrs("127.0.0.2")},
	})
	targets := map[string]string{
		"/to-127.0.0.2":     v4b.url + "/",
		"/to-metadata":      "http://169.254.169.254/latest/meta-data/",
		"/to-metadata-v6":   "http://[fd00:ec2::254]/",
		"/to-v6-loopback":   v6url,
		"/to-decimal":       "http://2130706434:" + v4b.port + "/", // 127.0.0.2
		"/to-name-intranet": "http://intranet.test/",
		"/to-name-loopback": "http://loopback.test:" + v4b.port + "/",
		"/to-mapped":        "http://[::ffff:127.0.0.2]:" + v4b.port + "/",
		"/to-file":          "file:///etc/passwd",
		"/to-gopher":        "gopher://127.0.0.2:" + v4b.port + "/",
		"/to-userinfo":      "http://user:secret@" + strings.TrimPrefix(v4b.url, "http://") + "/",
	}
	var hops atomic.Int32
	mux := http.NewServeMux()
	for path, to := range targets {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			hops.Add(1)
			w.Header().Set("Location", to)
			w.WriteHeader(http.StatusFound)
		})
	}
	mux.HandleFunc("/via-two-hops", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/to-127.0.0.2", http.StatusMovedPermanently)
	})
	allowed := httptest.NewServer(mux)
	defer allowed.Close()

	tests := []struct {
		path   string
		want   error
		atDial bool
	}{
		{"/to-127.0.0.2", ErrPrivateAddress, false},
		{"/via-two-hops", ErrPrivateAddress, false},
		{"/to-metadata", ErrPrivateAddress, false},
		{"/to-metadata-v6", ErrPrivateAddress, false},
		{"/to-v6-loopback", ErrPrivateAddress, false},
		{"/to-decimal", ErrPrivateAddress, false},
		{"/to-mapped", ErrPrivateAddress, false},
		{"/to-name-intranet", ErrPrivateAddress, true},
		{"/to-name-loopback", ErrPrivateAddress, true},
		{"/to-file", ErrBadScheme, false},
		{"/to-gopher", ErrBadScheme, false},
		{"/to-userinfo", ErrUserinfo, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			for _, robots := range []bool{false, true} {
				f, _ := newFetcher(t, Options{AllowPrivate: []string{"127.0.0.1"}, IgnoreRobots: !robots,
					Resolver: dns.resolver()})
				before := hops.Load()
				_, err := f.Fetch(context.Background(), Request{URL: allowed.URL + tt.path})
				wantRefused(t, err, tt.want)
				if _, isOp := errors.AsType[*net.OpError](err); isOp != tt.atDial {
					t.Errorf("refused at dial = %v, want %v: %v", isOp, tt.atDial, err)
				}
				if hops.Load() == before {
					t.Errorf("the allowed server was not asked: the refusal came too early")
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("the error shows the password: %v", err)
				}
			}
		})
	}
	if n := v4b.hits.Load(); n != 0 {
		t.Errorf("the internal server got %d requests", n)
	}
}

// TestDNSRebinding resolves one name first to an allowed address, then to an
// internal one, as a rebinding attacker's DNS server does between a check and
// a use. The check is on the address dialled, so the second fetch is refused
// and the internal server never hears of it. 127.0.0.1 (allowed) stands in
// for a public address.
func TestDNSRebinding(t *testing.T) {
	public := listenVictim(t, "127.0.0.1", "0")
	internal := listenVictim(t, "127.0.0.2", public.port)
	if internal == nil {
		t.Skipf("cannot listen on 127.0.0.2:%s", public.port)
	}
	url := "http://rebind.test:" + public.port + "/"
	answers := func() *fakeDNS {
		return newFakeDNS(map[string][][]netip.Addr{
			"rebind.test": {addrs("127.0.0.1"), addrs("127.0.0.2"), addrs("127.0.0.1"), addrs("127.0.0.2")},
		})
	}

	t.Run("refused", func(t *testing.T) {
		dns := answers()
		f, _ := newFetcher(t, Options{AllowPrivate: []string{"127.0.0.1"}, IgnoreRobots: true, Resolver: dns.resolver()})
		for i, wantOK := range []bool{true, false, true, false} {
			resp, err := f.Fetch(context.Background(), Request{URL: url})
			if wantOK {
				if err != nil || string(resp.Body) != "victim" {
					t.Fatalf("fetch %d: %v", i, err)
				}
				continue
			}
			wantRefused(t, err, ErrPrivateAddress)
			if !strings.Contains(err.Error(), "127.0.0.2") {
				t.Errorf("fetch %d: the error does not name the dialled address: %v", i, err)
			}
		}
		if n := public.hits.Load(); n != 2 {
			t.Errorf("public server got %d requests, want 2", n)
		}
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("internal server got %d requests, want 0", n)
		}
	})

	t.Run("control: the rebound address is reachable", func(t *testing.T) {
		dns := answers()
		f, _ := newFetcher(t, Options{AllowPrivate: []string{"127.0.0.1", "127.0.0.2"}, IgnoreRobots: true,
			Resolver: dns.resolver()})
		before := internal.hits.Load()
		for i := range 2 {
			if _, err := f.Fetch(context.Background(), Request{URL: url}); err != nil {
				t.Fatalf("fetch %d: %v", i, err)
			}
		}
		if internal.hits.Load() != before+1 {
			t.Fatal("the second answer did not lead to the internal server; the test proves nothing")
		}
	})
}

// TestAllowPrivateExact lets through exactly a host name, an address and a
// CIDR, and nothing next to them.
func TestAllowPrivateExact(t *testing.T) {
	v1 := listenVictim(t, "127.0.0.1", "0")
	v2 := listenVictim(t, "127.0.0.2", "0")
	v3 := listenVictim(t, "127.0.1.5", "0")
	v4 := listenVictim(t, "127.0.2.1", "0")
	v5 := listenVictim(t, "127.0.0.3", "0")
	if v2 == nil || v3 == nil || v4 == nil || v5 == nil {
		t.Fatal("cannot listen on 127.0.0.0/8 addresses")
	}
	dns := newFakeDNS(map[string][][]netip.Addr{
		"allowed.test":      {addrs("127.0.0.3")},
		"sub.allowed.test":  {addrs("127.0.0.3")},
		"notallowed.test":   {addrs("127.0.0.3")},
		"allowed.test.evil": {addrs("127.0.0.3")},
	})
	f, _ := newFetcher(t, Options{AllowPrivate: []string{"allowed.test", "127.0.0.2", "127.0.1.0/24"},
		IgnoreRobots: true, Resolver: dns.resolver()})
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://allowed.test:" + v5.port + "/", true},
		{"http://ALLOWED.test.:" + v5.port + "/", true},
		{"http://sub.allowed.test:" + v5.port + "/", false},
		{"http://notallowed.test:" + v5.port + "/", false},
		{"http://allowed.test.evil:" + v5.port + "/", false},
		{v5.url + "/", false}, // the allowed name's address, by itself
		{v2.url + "/", true},
		{v1.url + "/", false},
		{v3.url + "/", true},
		{v4.url + "/", false},
		{"http://[::ffff:127.0.0.2]:" + v2.port + "/", true},
		{"http://[::1]:" + v2.port + "/", false},
		{"http://10.0.0.1/", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			resp, err := f.Fetch(context.Background(), Request{URL: tt.url})
			if !tt.ok {
				wantRefused(t, err, ErrPrivateAddress)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != "victim" {
				t.Fatalf("body = %q", resp.Body)
			}
		})
	}
	if v1.hits.Load() != 0 || v4.hits.Load() != 0 {
		t.Errorf("servers outside the list were reached: %d, %d", v1.hits.Load(), v4.hits.Load())
	}
}

func TestLooseIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when not an address
	}{
		{"2130706433", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0x7F.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"10.1", "10.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"169.254.43518", "169.254.169.254"},
		{"127.0.0.1.", "127.0.0.1"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"08", ""},
		{"0x1g", ""},
		{"example.org", ""},
		{"1.2.3.", "1.2.0.3"},
		{"", ""},
		{"+1", ""},
		{"1..1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, ok := looseIPv4(tt.in)
			got := ""
			if ok {
				got = a.String()
			}
			if got != tt.want {
				t.Errorf("looseIPv4(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzLooseIPv4(f *testing.F) {
	for _, s := range []string{"2130706433", "0x7f.1", "017700000001", "127.1", "1.2.3.4", "0x", "example.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := looseIPv4(s)
		if !ok {
			return
		}
		if !a.Is4() {
			t.Fatalf("looseIPv4(%q) = %v, not IPv4", s, a)
		}
		// A canonical dotted quad reads as itself.
		if b, err := netip.ParseAddr(s); err == nil && b != a {
			t.Fatalf("looseIPv4(%q) = %v, netip says %v", s, a, b)
		}
	})
}
