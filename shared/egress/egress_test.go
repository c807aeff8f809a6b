package egress_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/portcommunity/cpu/shared/egress"
)

var (
	strict = egress.Policy{}
	local  = egress.Policy{AllowLoopback: true}
)

// fakeResolver answers from a map; a host it does not know is NXDOMAIN. It counts lookups per host.
type fakeResolver struct {
	answers map[string][]string

	mu    sync.Mutex
	calls map[string]int
}

func newFakeResolver(answers map[string][]string) *fakeResolver {
	return &fakeResolver{answers: answers, calls: map[string]int{}}
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	f.calls[host]++
	f.mu.Unlock()
	ss, ok := f.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	addrs := make([]netip.Addr, 0, len(ss))
	for _, s := range ss {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	return addrs, nil
}

func (f *fakeResolver) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// resolverFunc adapts a function to egress.Resolver.
type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// noDNS fails the test when asked anything: the URLs it is given are IP literals.
func noDNS(t *testing.T) egress.Resolver {
	return resolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		t.Errorf("unexpected lookup of %q", host)
		return nil, errors.New("no DNS in this test")
	})
}

func asRefused(t *testing.T, err error) *egress.RefusedError {
	t.Helper()
	var re *egress.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) does not unwrap to *egress.RefusedError", err, err)
	}
	if re.Reason == "" {
		t.Fatalf("refusal without a reason: %#v", re)
	}
	return re
}

func TestCheckAddr(t *testing.T) {
	// want is "" for an address that passes, else a text the reason must contain (the range).
	// loopbackOK marks addresses that AllowLoopback admits; every other refusal must stand under it.
	tests := []struct {
		addr       string
		want       string
		loopbackOK bool
	}{
		// Public addresses pass.
		{addr: "1.1.1.1"},
		{addr: "8.8.8.8"},
		{addr: "93.184.215.14"},
		{addr: "2606:4700:4700::1111"},
		{addr: "2001:4860:4860::8888"},
		{addr: "::ffff:8.8.8.8"},

		// 0.0.0.0/8 "this network".
		{addr: "0.0.0.0", want: "0.0.0.0/8"},
		{addr: "0.255.255.255", want: "0.0.0.0/8"},
		{addr: "1.0.0.0"},
		// 10.0.0.0/8.
		{addr: "9.255.255.255"},
		{addr: "10.0.0.0", want: "10.0.0.0/8"},
		{addr: "10.0.0.1", want: "private range (10.0.0.0/8)"},
		{addr: "10.255.255.255", want: "10.0.0.0/8"},
		{addr: "11.0.0.0"},
		// 100.64.0.0/10 CGNAT.
		{addr: "100.63.255.255"},
		{addr: "100.64.0.0", want: "100.64.0.0/10"},
		{addr: "100.127.255.255", want: "CGNAT"},
		{addr: "100.128.0.0"},
		// 127.0.0.0/8 loopback.
		{addr: "126.255.255.255"},
		{addr: "127.0.0.0", want: "127.0.0.0/8", loopbackOK: true},
		{addr: "127.0.0.1", want: "loopback range (127.0.0.0/8)", loopbackOK: true},
		{addr: "127.255.255.255", want: "127.0.0.0/8", loopbackOK: true},
		{addr: "128.0.0.0"},
		// 169.254.0.0/16 link-local, cloud metadata.
		{addr: "169.253.255.255"},
		{addr: "169.254.0.0", want: "169.254.0.0/16"},
		{addr: "169.254.169.254", want: "link-local range"},
		{addr: "169.254.255.255", want: "169.254.0.0/16"},
		{addr: "169.255.0.0"},
		// 172.16.0.0/12.
		{addr: "172.15.255.255"},
		{addr: "172.16.0.0", want: "172.16.0.0/12"},
		{addr: "172.31.255.255", want: "172.16.0.0/12"},
		{addr: "172.32.0.0"},
		// 192.0.0.0/24 IETF protocol assignments; 192.0.2.0/24 documentation.
		{addr: "191.255.255.255"},
		{addr: "192.0.0.0", want: "192.0.0.0/24"},
		{addr: "192.0.0.255", want: "IETF protocol assignments"},
		{addr: "192.0.1.0"},
		{addr: "192.0.2.0", want: "192.0.2.0/24"},
		{addr: "192.0.2.255", want: "documentation"},
		{addr: "192.0.3.0"},
		// 192.88.99.0/24 6to4 relay.
		{addr: "192.88.98.255"},
		{addr: "192.88.99.0", want: "192.88.99.0/24"},
		{addr: "192.88.99.255", want: "6to4 relay"},
		{addr: "192.88.100.0"},
		// 192.168.0.0/16.
		{addr: "192.167.255.255"},
		{addr: "192.168.0.0", want: "192.168.0.0/16"},
		{addr: "192.168.255.255", want: "private"},
		{addr: "192.169.0.0"},
		// 198.18.0.0/15 benchmarking.
		{addr: "198.17.255.255"},
		{addr: "198.18.0.0", want: "198.18.0.0/15"},
		{addr: "198.19.255.255", want: "benchmarking"},
		{addr: "198.20.0.0"},
		// 198.51.100.0/24 and 203.0.113.0/24 documentation.
		{addr: "198.51.99.255"},
		{addr: "198.51.100.0", want: "198.51.100.0/24"},
		{addr: "198.51.100.255", want: "documentation"},
		{addr: "198.51.101.0"},
		{addr: "203.0.112.255"},
		{addr: "203.0.113.0", want: "203.0.113.0/24"},
		{addr: "203.0.113.255", want: "documentation"},
		{addr: "203.0.114.0"},
		// 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, 255.255.255.255 broadcast.
		{addr: "223.255.255.255"},
		{addr: "224.0.0.0", want: "224.0.0.0/4"},
		{addr: "239.255.255.255", want: "multicast"},
		{addr: "240.0.0.0", want: "240.0.0.0/4"},
		{addr: "255.255.255.254", want: "reserved"},
		{addr: "255.255.255.255", want: "broadcast"},

		// IPv6 unspecified and loopback.
		{addr: "::", want: "unspecified"},
		{addr: "::1", want: "loopback", loopbackOK: true},
		// NAT64.
		{addr: "64:ff9b::", want: "64:ff9b::/96"},
		{addr: "64:ff9b::a00:1", want: "NAT64"},
		{addr: "64:ff9b::ffff:ffff", want: "64:ff9b::/96"},
		{addr: "64:ff9b:1::", want: "64:ff9b:1::/48"},
		{addr: "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", want: "64:ff9b:1::/48"},
		// 100::/64 discard.
		{addr: "100::", want: "100::/64"},
		{addr: "100::ffff:ffff:ffff:ffff", want: "discard"},
		// 2001::/32 Teredo, and the rest of the IETF protocol assignments 2001::/23.
		{addr: "2001::", want: "2001::/32"},
		{addr: "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", want: "Teredo"},
		{addr: "2001:2::1", want: "2001::/23"},
		{addr: "2001:200::1"},
		// 2001:db8::/32 documentation.
		{addr: "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"},
		{addr: "2001:db8::", want: "2001:db8::/32"},
		{addr: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", want: "documentation"},
		{addr: "2001:db9::"},
		// 2002::/16 6to4.
		{addr: "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{addr: "2002::", want: "2002::/16"},
		{addr: "2002:a00:1::1", want: "6to4"},
		{addr: "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "2002::/16"},
		{addr: "2003::"},
		// fc00::/7 unique local, with the EC2 metadata address.
		{addr: "fc00::", want: "fc00::/7"},
		{addr: "fd00:ec2::254", want: "unique local"},
		{addr: "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "fc00::/7"},
		// fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast.
		{addr: "fe80::", want: "fe80::/10"},
		{addr: "fe80::1", want: "link-local"},
		{addr: "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "fe80::/10"},
		{addr: "fec0::", want: "fec0::/10"},
		{addr: "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "site-local"},
		{addr: "ff00::", want: "ff00::/8"},
		{addr: "ff02::1", want: "multicast"},
		{addr: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "ff00::/8"},
		// Outside 2000::/3 and not named above: not assigned for the internet.
		{addr: "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", want: "2000::/3"},
		{addr: "4000::1", want: "2000::/3"},
		{addr: "::ffff:0:a00:1", want: "2000::/3"}, // IPv4-translated (SIIT)

		// Zones are refused, even on an otherwise public address.
		{addr: "fe80::1%eth0", want: "zone"},
		{addr: "2606:4700:4700::1111%eth0", want: "zone"},

		// IPv4-mapped forms are judged as IPv4.
		{addr: "::ffff:0.0.0.0", want: "0.0.0.0/8"},
		{addr: "::ffff:10.0.0.1", want: "10.0.0.0/8"},
		{addr: "::ffff:127.0.0.1", want: "127.0.0.0/8", loopbackOK: true},
		{addr: "::ffff:169.254.169.254", want: "169.254.0.0/16"},
		{addr: "::ffff:192.168.1.1", want: "192.168.0.0/16"},
		{addr: "::ffff:255.255.255.255", want: "broadcast"},
		{addr: "::ffff:100.64.0.1", want: "100.64.0.0/10"},
		// IPv4-compatible forms (::a.b.c.d) are judged as IPv4.
		{addr: "::10.0.0.1", want: "10.0.0.0/8"},
		{addr: "::169.254.169.254", want: "169.254.0.0/16"},
		{addr: "::127.0.0.1", want: "127.0.0.0/8", loopbackOK: true},
		{addr: "::2", want: "0.0.0.0/8"},
		{addr: "::8.8.8.8"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			for _, pc := range []struct {
				name   string
				p      egress.Policy
				refuse bool
			}{
				{"strict", strict, tt.want != ""},
				{"local", local, tt.want != "" && !tt.loopbackOK},
			} {
				err := pc.p.CheckAddr(a)
				if !pc.refuse {
					if err != nil {
						t.Errorf("%s: CheckAddr(%s) = %v, want nil", pc.name, tt.addr, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: CheckAddr(%s) = nil, want a refusal naming %q", pc.name, tt.addr, tt.want)
					continue
				}
				re := asRefused(t, err)
				if re.Addr != a.String() {
					t.Errorf("%s: Addr = %q, want %q", pc.name, re.Addr, a)
				}
				if !strings.Contains(re.Reason, tt.want) || !strings.Contains(re.Reason, a.WithZone("").String()) {
					t.Errorf("%s: Reason = %q, want it to name %q and the address", pc.name, re.Reason, tt.want)
				}
				if re.Error() != re.Reason {
					t.Errorf("%s: Error() = %q, want the reason", pc.name, re.Error())
				}
			}
		})
	}
}

func TestCheckAddrReasonWording(t *testing.T) {
	err := strict.CheckAddr(netip.MustParseAddr("10.0.0.1"))
	const want = "the address 10.0.0.1 is in a private range (10.0.0.0/8)"
	if err == nil || err.Error() != want {
		t.Fatalf("CheckAddr(10.0.0.1) = %v, want %q", err, want)
	}
	if re := asRefused(t, strict.CheckAddr(netip.Addr{})); re.Addr != "" {
		t.Errorf("the zero Addr: Addr = %q, want empty", re.Addr)
	}
}

func TestCheckURL(t *testing.T) {
	res := newFakeResolver(map[string][]string{
		"public.example":    {"93.184.215.14", "2606:4700:4700::1111"},
		"internal.example":  {"10.0.0.1"},
		"metadata.example":  {"169.254.169.254"},
		"ula.example":       {"fd00:ec2::254"},
		"mapped.example":    {"::ffff:192.168.1.1"},
		"mixed.example":     {"93.184.215.14", "10.1.2.3"},
		"mixed6.example":    {"2606:4700:4700::1111", "fe80::1"},
		"empty.example":     {},
		"localhost":         {"127.0.0.1", "::1"},
		"localhost.example": {"127.0.0.1"},
		// What getaddrinfo answers for the legacy forms, so that the refusal does not depend on
		// whether CheckURL asks the resolver about them.
		"127.1":      {"127.0.0.1"},
		"2130706433": {"127.0.0.1"},
		"0x7f000001": {"127.0.0.1"},
		"0177.0.0.1": {"127.0.0.1"},
	})
	tests := []struct {
		name     string
		p        egress.Policy
		raw      string
		ok       bool
		reason   string // the refusal's reason contains this
		wantAddr string // the refusal names this address
	}{
		{name: "public name", p: strict, raw: "https://public.example/hooks/in?x=1", ok: true},
		{name: "public name with port", p: strict, raw: "https://public.example:8443/", ok: true},
		{name: "highest port", p: strict, raw: "https://public.example:65535/", ok: true},
		{name: "public IPv4 literal", p: strict, raw: "https://93.184.215.14/", ok: true},
		{name: "public IPv6 literal", p: strict, raw: "https://[2606:4700:4700::1111]:443/", ok: true},
		{name: "exactly the longest URL", p: strict, raw: padURL("https://public.example/", egress.MaxURLChars), ok: true},

		{name: "name resolving to private", p: strict, raw: "https://internal.example/", reason: "10.0.0.0/8", wantAddr: "10.0.0.1"},
		{name: "name resolving to metadata", p: strict, raw: "https://metadata.example/latest/meta-data/", reason: "169.254.0.0/16", wantAddr: "169.254.169.254"},
		{name: "name resolving to unique local", p: strict, raw: "https://ula.example/", reason: "fc00::/7", wantAddr: "fd00:ec2::254"},
		{name: "name resolving to mapped private", p: strict, raw: "https://mapped.example/", reason: "192.168.0.0/16", wantAddr: "::ffff:192.168.1.1"},
		{name: "one public one private", p: strict, raw: "https://mixed.example/", reason: "10.0.0.0/8", wantAddr: "10.1.2.3"},
		{name: "one public one link-local v6", p: strict, raw: "https://mixed6.example/", reason: "fe80::/10", wantAddr: "fe80::1"},
		{name: "localhost", p: strict, raw: "https://localhost/", reason: "loopback", wantAddr: "127.0.0.1"},
		{name: "unresolvable", p: strict, raw: "https://nowhere.example/", reason: "does not resolve"},
		{name: "resolves to nothing", p: strict, raw: "https://empty.example/", reason: "does not resolve"},

		{name: "loopback literal", p: strict, raw: "https://127.0.0.1/", reason: "127.0.0.0/8", wantAddr: "127.0.0.1"},
		{name: "short form 127.1", p: strict, raw: "https://127.1/"},
		{name: "decimal form", p: strict, raw: "https://2130706433/"},
		{name: "hex form", p: strict, raw: "https://0x7f000001/"},
		{name: "octal form", p: strict, raw: "https://0177.0.0.1/"},
		{name: "trailing dot literal", p: strict, raw: "https://127.0.0.1./"},
		{name: "mapped loopback literal", p: strict, raw: "https://[::ffff:127.0.0.1]/", reason: "127.0.0.0/8", wantAddr: "::ffff:127.0.0.1"},
		{name: "mapped private literal", p: strict, raw: "https://[::ffff:10.0.0.1]/", reason: "10.0.0.0/8", wantAddr: "::ffff:10.0.0.1"},
		{name: "this network literal", p: strict, raw: "https://0.0.0.0/", reason: "0.0.0.0/8", wantAddr: "0.0.0.0"},
		{name: "unspecified v6 literal", p: strict, raw: "https://[::]/", reason: "unspecified", wantAddr: "::"},
		{name: "loopback v6 literal", p: strict, raw: "https://[::1]:8443/", reason: "loopback", wantAddr: "::1"},
		{name: "metadata literal", p: strict, raw: "https://169.254.169.254/latest/meta-data/", reason: "169.254.0.0/16"},
		{name: "ec2 v6 metadata literal", p: strict, raw: "https://[fd00:ec2::254]/", reason: "fc00::/7"},
		{name: "zoned literal", p: strict, raw: "https://[fe80::1%25eth0]/", reason: "zone"},
		{name: "private literal with port", p: strict, raw: "https://10.0.0.1:443/", reason: "10.0.0.0/8"},

		{name: "http", p: strict, raw: "http://public.example/", reason: "https"},
		{name: "http to loopback", p: strict, raw: "http://127.0.0.1:8080/", reason: "https"},
		{name: "ftp", p: strict, raw: "ftp://public.example/", reason: "https"},
		{name: "file", p: strict, raw: "file:///etc/passwd", reason: "https"},
		{name: "gopher", p: strict, raw: "gopher://public.example:70/", reason: "https"},
		{name: "no scheme", p: strict, raw: "public.example/hooks", reason: "absolute"},
		{name: "scheme-relative", p: strict, raw: "//public.example/hooks", reason: "absolute"},
		{name: "opaque", p: strict, raw: "https:public.example", reason: "https://host"},
		{name: "no host", p: strict, raw: "https:///hooks", reason: "host"},
		{name: "port only", p: strict, raw: "https://:443/", reason: "host"},
		{name: "user and password", p: strict, raw: "https://user:secret@public.example/", reason: "password"},
		{name: "user only", p: strict, raw: "https://user@public.example/", reason: "user name"},
		{name: "fragment", p: strict, raw: "https://public.example/#frag", reason: "fragment"},
		{name: "empty fragment", p: strict, raw: "https://public.example/#", reason: "fragment"},
		{name: "port 0", p: strict, raw: "https://public.example:0/", reason: "port"},
		{name: "port 65536", p: strict, raw: "https://public.example:65536/", reason: "port"},
		{name: "empty port", p: strict, raw: "https://public.example:/", reason: "port"},
		{name: "letters in port", p: strict, raw: "https://public.example:https/"},
		{name: "too long", p: strict, raw: padURL("https://public.example/", egress.MaxURLChars+1), reason: "2048"},
		{name: "empty", p: strict, raw: "", reason: "empty"},
		{name: "blank", p: strict, raw: "   ", reason: "empty"},
		{name: "space in host", p: strict, raw: "https://pub lic.example/"},
		{name: "control character", p: strict, raw: "https://public.example/\n"},

		{name: "local: http to loopback", p: local, raw: "http://127.0.0.1:8080/hooks", ok: true},
		{name: "local: https to loopback", p: local, raw: "https://127.0.0.1/", ok: true},
		{name: "local: v6 loopback", p: local, raw: "http://[::1]:8080/", ok: true},
		{name: "local: mapped loopback", p: local, raw: "http://[::ffff:127.0.0.1]/", ok: true},
		{name: "local: localhost", p: local, raw: "http://localhost:9000/", ok: true},
		{name: "local: public over http", p: local, raw: "http://public.example/", ok: true},
		{name: "local: http to private", p: local, raw: "http://10.0.0.1/", reason: "10.0.0.0/8"},
		{name: "local: this network", p: local, raw: "http://0.0.0.0:8080/", reason: "0.0.0.0/8"},
		{name: "local: unspecified v6", p: local, raw: "http://[::]:8080/", reason: "unspecified"},
		{name: "local: metadata", p: local, raw: "http://169.254.169.254/", reason: "169.254.0.0/16"},
		{name: "local: name to private", p: local, raw: "http://internal.example/", reason: "10.0.0.0/8"},
		{name: "local: ftp", p: local, raw: "ftp://127.0.0.1/", reason: "https or http"},
		{name: "local: user info", p: local, raw: "http://u:p@127.0.0.1/", reason: "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.p.CheckURL(context.Background(), tt.raw, res)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want it allowed", tt.raw, err)
				}
				if u == nil || u.String() != tt.raw {
					t.Fatalf("CheckURL(%q) returned %v, want the parsed URL", tt.raw, u)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckURL(%q) allowed it, want a refusal", tt.raw)
			}
			if u != nil {
				t.Errorf("CheckURL(%q) returned a URL with its refusal", tt.raw)
			}
			re := asRefused(t, err)
			if !strings.Contains(re.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", re.Reason, tt.reason)
			}
			if tt.wantAddr != "" {
				if re.Addr != tt.wantAddr || !strings.Contains(re.Reason, tt.wantAddr) {
					t.Errorf("refusal %#v, want it to name %s", re, tt.wantAddr)
				}
			}
			if strings.Contains(re.Reason, "secret") {
				t.Errorf("Reason %q repeats the URL's password", re.Reason)
			}
		})
	}
}

func padURL(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }

// TestCheckURLRefusesLegacyNumericHosts: hosts that only legacy IPv4 parsers read as addresses are
// refused whatever the resolver says, so the outcome does not hang on which resolver runs (getaddrinfo
// reads "134744072" as 8.8.8.8, the pure Go resolver asks DNS).
func TestCheckURLRefusesLegacyNumericHosts(t *testing.T) {
	public := resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("8.8.8.8")}, nil
	})
	for _, host := range []string{"127.1", "2130706433", "134744072", "0x7f000001", "0X7F000001", "0177.0.0.1", "8.8.8.8.", "10.1", "0x", "example.123", "example.0x1f"} {
		_, err := strict.CheckURL(context.Background(), "https://"+host+"/", public)
		if err == nil {
			t.Errorf("%s: allowed", host)
			continue
		}
		if re := asRefused(t, err); !strings.Contains(re.Reason, "neither a valid IP address nor a domain name") {
			t.Errorf("%s: Reason = %q", host, re.Reason)
		}
	}
	for _, host := range []string{"1.2.3.example", "123.example", "0x7f000001.example", "example.0xg1", "xn--bcher-kva.example"} {
		if _, err := strict.CheckURL(context.Background(), "https://"+host+"/", public); err != nil {
			t.Errorf("%s: %v, want it allowed (a name whose last label is not a number)", host, err)
		}
	}
	resp, err := local.Client(public, 5*time.Second).Get("http://2130706433:8080/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("the client dialled a legacy numeric host")
	}
	asRefused(t, err)
}

func TestCheckURLDoesNotAskTheResolverAboutLiterals(t *testing.T) {
	for _, raw := range []string{"https://93.184.215.14/", "https://[2606:4700:4700::1111]/", "https://10.0.0.1/"} {
		_, _ = strict.CheckURL(context.Background(), raw, noDNS(t))
	}
}

// server starts an httptest server counting requests and accepted connections.
type server struct {
	*httptest.Server
	hits, conns atomic.Int32
}

func startServer(t *testing.T, useTLS bool, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *server) port(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func TestClientRefusesDNSRebinding(t *testing.T) {
	srv := startServer(t, true, nil)
	var lookups atomic.Int32
	rebinding := resolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	raw := "https://rebind.example:" + srv.port(t) + "/hooks"

	u, err := strict.CheckURL(context.Background(), raw, rebinding)
	if err != nil {
		t.Fatalf("CheckURL at creation: %v (the first answer is public)", err)
	}
	resp, err := strict.Client(rebinding, 5*time.Second).Post(u.String(), "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the request went through with status %d", resp.StatusCode)
	}
	re := asRefused(t, err)
	if re.Addr != "127.0.0.1" {
		t.Errorf("refusal names %q, want 127.0.0.1", re.Addr)
	}
	if n := lookups.Load(); n != 2 {
		t.Errorf("%d lookups, want 2 (one at creation, one by the client's own dial)", n)
	}
	if h, c := srv.hits.Load(), srv.conns.Load(); h != 0 || c != 0 {
		t.Errorf("the server saw %d requests on %d connections, want none", h, c)
	}
}

func TestClientRefusesRefusedAddresses(t *testing.T) {
	srv := startServer(t, true, nil)
	port := srv.port(t)
	res := newFakeResolver(map[string][]string{
		"mixed.example": {"93.184.215.14", "127.0.0.1"},
		"local.example": {"127.0.0.1"},
	})
	for _, raw := range []string{
		"https://127.0.0.1:" + port + "/",
		"https://[::ffff:127.0.0.1]:" + port + "/",
		"https://127.1:" + port + "/",
		"https://mixed.example:" + port + "/",
		"https://local.example:" + port + "/",
		"https://169.254.169.254/latest/meta-data/",
	} {
		t.Run(raw, func(t *testing.T) {
			resp, err := strict.Client(res, 5*time.Second).Get(raw)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s went through", raw)
			}
			asRefused(t, err)
		})
	}
	if h, c := srv.hits.Load(), srv.conns.Load(); h != 0 || c != 0 {
		t.Errorf("the server saw %d requests on %d connections, want none", h, c)
	}
}

func TestClientAllowsLoopbackLocally(t *testing.T) {
	srv := startServer(t, false, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	port := srv.port(t)
	res := newFakeResolver(map[string][]string{
		"receiver.test": {"127.0.0.1"},
		// ::1 on the server's port refuses (or is unavailable); the dial falls back to 127.0.0.1.
		"dual.test": {"::1", "127.0.0.1"},
	})
	for _, raw := range []string{
		"http://127.0.0.1:" + port + "/",
		"http://receiver.test:" + port + "/",
		"http://dual.test:" + port + "/",
	} {
		resp, err := local.Client(res, 5*time.Second).Get(raw)
		if err != nil {
			t.Fatalf("GET %s: %v", raw, err)
		}
		body, _, err := egress.ReadLimited(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("GET %s: %d %q %v", raw, resp.StatusCode, body, err)
		}
	}
	if n := srv.hits.Load(); n != 3 {
		t.Errorf("server hits = %d, want 3", n)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	target := startServer(t, false, nil)
	origin := startServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	resp, err := local.Client(noDNS(t), 5*time.Second).Post(origin.URL+"/hooks", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want the 302 itself", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != target.URL+"/elsewhere" {
		t.Errorf("Location = %q", loc)
	}
	if n := target.hits.Load(); n != 0 {
		t.Errorf("the redirect target was called %d times", n)
	}
	if n := origin.hits.Load(); n != 1 {
		t.Errorf("the origin was called %d times, want 1", n)
	}
}

func TestClientIgnoresProxyEnvironment(t *testing.T) {
	proxy := startServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "proxied", http.StatusTeapot)
	})
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	target := startServer(t, false, nil)
	// A name, not a loopback literal: the standard library never proxies loopback literals, so only
	// a name shows whether the proxy settings are read.
	res := newFakeResolver(map[string][]string{"receiver.test": {"127.0.0.1"}})
	resp, err := local.Client(res, 5*time.Second).Get("http://receiver.test:" + target.port(t) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200 from the target", resp.StatusCode)
	}
	if h, c := proxy.hits.Load(), proxy.conns.Load(); h != 0 || c != 0 {
		t.Errorf("the proxy saw %d requests on %d connections, want none", h, c)
	}
	if n := target.hits.Load(); n != 1 {
		t.Errorf("the target was called %d times, want 1", n)
	}
}

// backstop builds a GET whose context is cancelled (not timed out) a minute on, so that a client
// without a working timeout fails the test with a cancellation instead of hanging it.
func backstop(t *testing.T, raw string) *http.Request {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(time.Minute, cancel)
	t.Cleanup(func() { stop.Stop(); cancel() })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, false, func(http.ResponseWriter, *http.Request) { <-release })
	t.Cleanup(func() { close(release) }) // runs before srv.Close, which waits for the handler

	resp, err := local.Client(noDNS(t), 200*time.Millisecond).Do(backstop(t, srv.URL))
	if err == nil {
		resp.Body.Close()
		t.Fatal("the request returned although the server never answers")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v (%T), want a timeout", err, err)
	}
	var re *egress.RefusedError
	if errors.As(err, &re) {
		t.Fatalf("a timeout reported as a refusal: %v", err)
	}
}

func TestClientTimeoutCoversTheBody(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-release
	})
	t.Cleanup(func() { close(release) })

	resp, err := local.Client(noDNS(t), 200*time.Millisecond).Do(backstop(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _, err = egress.ReadLimited(resp.Body)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("reading a stalled body: %v (%T), want a timeout", err, err)
	}
}

func TestClientRefusesPlainHTTP(t *testing.T) {
	res := newFakeResolver(map[string][]string{"public.test": {"1.1.1.1"}})
	client := strict.Client(res, 5*time.Second)

	resp, err := client.Get("http://public.test/hooks")
	if err == nil {
		resp.Body.Close()
		t.Fatal("plain http went through")
	}
	if re := asRefused(t, err); !strings.Contains(re.Reason, "https") {
		t.Errorf("Reason = %q", re.Reason)
	}
	if n := res.total(); n != 0 {
		t.Errorf("%d lookups, want none: the scheme is refused before any connection", n)
	}

	// The transport itself refuses (a caller may use it without http.Client) and closes the body.
	body := &closeTracker{Reader: strings.NewReader("secret payload")}
	req, err := http.NewRequest(http.MethodPost, "http://public.test/hooks", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Transport.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip of plain http succeeded")
	} else {
		asRefused(t, err)
	}
	if !body.closed.Load() {
		t.Error("the refused request's body was not closed")
	}
}

func TestClientDNSFailureIsNotARefusal(t *testing.T) {
	res := newFakeResolver(map[string][]string{"empty.test": {}})
	for _, raw := range []string{"https://gone.test/", "https://empty.test/"} {
		resp, err := strict.Client(res, 5*time.Second).Get(raw)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s went through", raw)
		}
		var re *egress.RefusedError
		if errors.As(err, &re) {
			t.Errorf("GET %s: a DNS failure reported as a refusal: %v", raw, err)
		}
		var de *net.DNSError
		if !errors.As(err, &de) {
			t.Errorf("GET %s: %v (%T), want a *net.DNSError inside", raw, err, err)
		}
	}
}

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// endless never ends; it counts what was read from it.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += len(p)
	return len(p), nil
}

func TestReadLimitedEndless(t *testing.T) {
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"big reads":  func(r io.Reader) io.Reader { return r },
		"one byte":   iotest.OneByteReader,
		"half reads": iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			src := &endless{}
			data, truncated, err := egress.ReadLimited(wrap(src))
			if err != nil {
				t.Fatal(err)
			}
			if len(data) != egress.MaxResponseBytes || !truncated {
				t.Fatalf("got %d bytes, truncated=%v; want %d, true", len(data), truncated, egress.MaxResponseBytes)
			}
			if strings.Trim(string(data), "x") != "" {
				t.Error("data is not what the reader gave")
			}
			if src.n > egress.MaxResponseBytes+1 {
				t.Errorf("read %d bytes from the body, want at most %d", src.n, egress.MaxResponseBytes+1)
			}
		})
	}
}

func TestReadLimited(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name      string
		body      io.Reader
		want      string
		truncated bool
		err       error
	}{
		{name: "nil", body: nil, want: ""},
		{name: "empty", body: strings.NewReader(""), want: ""},
		{name: "short", body: strings.NewReader(`{"error":"nope"}`), want: `{"error":"nope"}`},
		{name: "short, EOF with data", body: iotest.DataErrReader(strings.NewReader("abc")), want: "abc"},
		{name: "exactly the limit", body: strings.NewReader(strings.Repeat("y", egress.MaxResponseBytes)), want: strings.Repeat("y", egress.MaxResponseBytes)},
		{name: "one over", body: strings.NewReader(strings.Repeat("y", egress.MaxResponseBytes+1)), want: strings.Repeat("y", egress.MaxResponseBytes), truncated: true},
		{name: "error midway", body: io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom)), want: "partial", err: boom},
		{name: "body cut short", body: io.MultiReader(strings.NewReader("par"), iotest.ErrReader(io.ErrUnexpectedEOF)), want: "par", err: io.ErrUnexpectedEOF},
		{name: "error after the limit", body: io.MultiReader(strings.NewReader(strings.Repeat("z", egress.MaxResponseBytes+5)), iotest.ErrReader(boom)), want: strings.Repeat("z", egress.MaxResponseBytes), truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, truncated, err := egress.ReadLimited(tt.body)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
			if string(data) != tt.want || truncated != tt.truncated {
				t.Errorf("got %d bytes %.20q truncated=%v, want %d bytes truncated=%v", len(data), data, truncated, len(tt.want), tt.truncated)
			}
		})
	}
}

func ExamplePolicy_CheckURL() {
	res := resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	})
	_, err := egress.Policy{}.CheckURL(context.Background(), "https://hooks.example.com/in", res)
	fmt.Println(err)
	// Output: the host hooks.example.com resolves to 10.0.0.1, which is in a private range (10.0.0.0/8)
}
