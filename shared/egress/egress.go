// Package egress is the platform's only way out to addresses its users choose (webhook receivers and
// their OAuth2 token endpoints): whoever registers a URL chooses where the platform connects, so without
// a guard a channel pointing at 169.254.169.254, at loopback or at the VPC would turn the platform into
// the attacker's proxy (server-side request forgery).
//
// The guard has two halves, both needed (contract §9 "Safety"):
//
//   - CheckURL judges a URL when it is registered, so that the client hears at once (a 400 naming the
//     field) that its URL will never be reached.
//   - Client judges every address it actually dials, after DNS and before connecting, so that a name
//     that resolved to a public address at registration and to a private one later (DNS rebinding) is
//     still refused. A hostname blocklist would not do: 127.1, 2130706433, 0x7f000001 and
//     [::ffff:127.0.0.1] all name loopback.
//
// Only the local stack sets Policy.AllowLoopback (every local receiver listens on loopback, over plain
// http); everything else refused stays refused there too.
package egress

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// MaxURLChars bounds a URL (2048).
const MaxURLChars = 2048

// MaxResponseBytes is how much of a receiver's answer body is ever read (4096): enough for an error
// message in a delivery log, never an endless body.
const MaxResponseBytes = 4096

// Policy says which destinations may be reached.
type Policy struct {
	// AllowLoopback admits 127.0.0.0/8 and ::1 and plain http:// URLs. Only the local stack sets it
	// (every local receiver is on loopback); everything else refused stays refused.
	AllowLoopback bool
}

// Resolver is the DNS port (net.DefaultResolver satisfies it); tests inject one that returns private
// addresses.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// RefusedError says why a URL or address may not be reached. Reason is a sentence fit for an API's 400
// answer; Addr is the refused address when the refusal is about one (empty otherwise).
type RefusedError struct {
	Addr   string
	Reason string
}

// Error returns the reason alone: it is written for the person who registered the URL, and delivery
// logs show it as it is.
func (e *RefusedError) Error() string { return e.Reason }

// refusal is one refused range. what completes "the address X is …" and "… which is …".
type refusal struct {
	prefix   netip.Prefix
	what     string
	loopback bool // admitted with AllowLoopback
}

// in describes a refused range: "in a private range (10.0.0.0/8)".
func in(prefix, name string) refusal {
	p := netip.MustParsePrefix(prefix)
	return refusal{prefix: p, what: fmt.Sprintf("in %s (%s)", name, p)}
}

// is describes a refused single address: "the broadcast address".
func is(addr, name string) refusal {
	a := netip.MustParseAddr(addr)
	return refusal{prefix: netip.PrefixFrom(a, a.BitLen()), what: name}
}

func loopback(r refusal) refusal { r.loopback = true; return r }

// refusedV4 lists the IPv4 ranges no user-chosen URL may reach: every IANA special-purpose range that
// is not globally reachable, plus those that reach inside a network (private, CGNAT, link-local with
// the cloud metadata service at 169.254.169.254). netip's IsPrivate and friends miss CGNAT, the test
// nets, 198.18/15 and 240/4, hence the list. The first match names the refusal, so a single address
// comes before the range holding it.
var refusedV4 = []refusal{
	in("0.0.0.0/8", `the "this network" range`),
	in("10.0.0.0/8", "a private range"),
	in("100.64.0.0/10", "the carrier-grade NAT (CGNAT) range"),
	loopback(in("127.0.0.0/8", "the loopback range")),
	in("169.254.0.0/16", "the link-local range (which holds cloud metadata services)"),
	in("172.16.0.0/12", "a private range"),
	in("192.0.0.0/24", "the IETF protocol assignments range"),
	in("192.0.2.0/24", "a documentation range"),
	in("192.88.99.0/24", "the 6to4 relay range"),
	in("192.168.0.0/16", "a private range"),
	in("198.18.0.0/15", "the benchmarking range"),
	in("198.51.100.0/24", "a documentation range"),
	in("203.0.113.0/24", "a documentation range"),
	in("224.0.0.0/4", "the multicast range"),
	is("255.255.255.255", "the broadcast address"),
	in("240.0.0.0/4", "the reserved range"),
}

// refusedV6 is refusedV4's IPv6 counterpart. NAT64, 6to4 and Teredo are refused whole because they
// embed an IPv4 address that a gateway would reach on the platform's behalf.
var refusedV6 = []refusal{
	is("::", "the unspecified address"),
	loopback(is("::1", "the loopback address")),
	in("64:ff9b::/96", "a NAT64 range"),
	in("64:ff9b:1::/48", "a NAT64 range"),
	in("100::/64", "the discard range"),
	in("2001::/32", "the Teredo range"),
	in("2001::/23", "the IETF protocol assignments range"),
	in("2001:db8::/32", "a documentation range"),
	in("2002::/16", "the 6to4 range"),
	in("fc00::/7", "the unique local range (which holds cloud metadata services)"),
	in("fe80::/10", "the link-local range"),
	in("fec0::/10", "the site-local range"),
	in("ff00::/8", "the multicast range"),
}

// globalUnicastV6 holds every IPv6 address assigned for the public internet today; anything outside it
// that the list above does not name (IPv4-translated forms, unassigned space) is refused all the same.
var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// ipv4Compatible is the deprecated ::a.b.c.d form (RFC 4291 §2.5.5.1), judged by its IPv4 address.
var ipv4Compatible = netip.MustParsePrefix("::/96")

// judge returns what makes a refused (the tail of a sentence) and whether it is refused. shown is the
// address as the sentence should name it.
func (p Policy) judge(a netip.Addr) (shown, what string, refused bool) {
	if !a.IsValid() {
		return "", "not a valid IP address", true
	}
	shown = a.String()
	if a.Zone() != "" {
		// A zone names an interface of this machine: such an address only makes sense on a local link.
		return shown, "scoped to a network interface (zones are refused)", true
	}
	v4 := a
	switch {
	case a.Is4In6():
		v4 = a.Unmap() // "::ffff:10.0.0.1" reads well as it is
	case a.Is6() && ipv4Compatible.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		b := a.As16()
		v4 = netip.AddrFrom4([4]byte(b[12:]))
		shown = fmt.Sprintf("%s (IPv4 %s)", a, v4)
	}
	if v4.Is4() {
		what, _, refused = p.first(refusedV4, v4)
		return shown, what, refused
	}
	if what, matched, refused := p.first(refusedV6, a); matched {
		return shown, what, refused
	}
	if !globalUnicastV6.Contains(a) {
		return shown, fmt.Sprintf("outside the global unicast range (%s)", globalUnicastV6), true
	}
	return shown, "", false
}

// first finds a's range in list: matched says a is in one, refused whether the policy refuses it.
func (p Policy) first(list []refusal, a netip.Addr) (what string, matched, refused bool) {
	for _, r := range list {
		if r.prefix.Contains(a) {
			if r.loopback && p.AllowLoopback {
				return "", true, false
			}
			return r.what, true, true
		}
	}
	return "", false, false
}

// CheckAddr refuses an address in any refused range (IPv4-mapped and IPv4-compatible IPv6 forms are
// unmapped first and judged as IPv4; addresses with a zone are refused). The error is a *RefusedError.
func (p Policy) CheckAddr(a netip.Addr) error {
	shown, what, refused := p.judge(a)
	if !refused {
		return nil
	}
	if shown == "" {
		return &RefusedError{Reason: "the address is " + what}
	}
	return &RefusedError{Addr: a.String(), Reason: fmt.Sprintf("the address %s is %s", shown, what)}
}

// checkResolved refuses a name when any of its addresses is refused: a name that also answers a
// private address is not one the platform should connect to, whichever address a dial would pick.
func (p Policy) checkResolved(host string, addrs []netip.Addr) error {
	for _, a := range addrs {
		if shown, what, refused := p.judge(a); refused {
			return &RefusedError{
				Addr:   a.String(),
				Reason: fmt.Sprintf("the host %s resolves to %s, which is %s", host, shown, what),
			}
		}
	}
	return nil
}

// endsInNumber reports whether host's last label is a number (decimal, or hex with 0x), the WHATWG URL
// standard's test for a host that browsers and getaddrinfo read as an IPv4 address in a legacy form
// ("127.1", "2130706433", "0x7f000001", "0177.0.0.1"). No top-level domain is numeric, so such a host
// is never a DNS name; refusing it outright keeps the answer the same whichever resolver runs.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		return strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// literalOrName splits a host into an IP literal (isLiteral) or a name to resolve, refusing hosts that
// are neither.
func literalOrName(host string) (addr netip.Addr, isLiteral bool, err error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true, nil
	}
	if endsInNumber(host) {
		return netip.Addr{}, false, &RefusedError{Reason: fmt.Sprintf(
			"the host %s is neither a valid IP address nor a domain name (write IPv4 addresses as four decimal numbers)", host)}
	}
	return netip.Addr{}, false, nil
}

// CheckURL parses and judges a user-supplied URL at creation time: absolute; scheme https (http only
// with AllowLoopback); a host; no user info (credentials in a URL end up in logs); at most MaxURLChars
// characters; no fragment; port, when given, 1–65535. An IP-literal host is judged with CheckAddr; a
// host that only legacy IPv4 parsers read as an address ("127.1", "0x7f000001") is refused; any other
// name is resolved with r (nil means net.DefaultResolver) and every address it resolves to must pass.
// A name that does not resolve, or resolves to nothing, is refused.
//
// Passing here does not make later connections safe (the name may resolve elsewhere by then): send
// through Client, which judges the address it dials.
//
// Every error is a *RefusedError whose Reason is a sentence fit for an API's 400 answer.
func (p Policy) CheckURL(ctx context.Context, raw string, r Resolver) (*url.URL, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	refuse := func(reason string) (*url.URL, error) { return nil, &RefusedError{Reason: reason} }
	if strings.TrimSpace(raw) == "" {
		return refuse("the URL is empty")
	}
	if utf8.RuneCountInString(raw) > MaxURLChars {
		return refuse(fmt.Sprintf("the URL must be at most %d characters long", MaxURLChars))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, which may hold a secret; the reason says only what is wrong.
		return refuse("the URL is not a valid URL")
	}
	schemes := "https"
	if p.AllowLoopback {
		schemes = "https or http"
	}
	switch {
	case !u.IsAbs():
		return refuse("the URL must be absolute, starting with " + strings.ReplaceAll(schemes, " or ", ":// or ") + "://")
	case u.Scheme != "https" && !(u.Scheme == "http" && p.AllowLoopback):
		return refuse("the URL must use " + schemes)
	case u.Opaque != "":
		return refuse("the URL must be of the form " + u.Scheme + "://host/path")
	case u.User != nil:
		return refuse("the URL must not contain a user name or password (credentials in a URL end up in logs)")
	case strings.Contains(raw, "#"):
		return refuse("the URL must not contain a fragment (#…)")
	case u.Hostname() == "":
		return refuse("the URL must name a host")
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return refuse("the URL's port must be a number from 1 to 65535")
		}
	}
	host := u.Hostname()
	a, isLiteral, err := literalOrName(host)
	if err != nil {
		return nil, err
	}
	if isLiteral {
		if err := p.CheckAddr(a); err != nil {
			return nil, err
		}
		return u, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return refuse(fmt.Sprintf("the host %s does not resolve", host))
	}
	if err := p.checkResolved(host, addrs); err != nil {
		return nil, err
	}
	return u, nil
}

// Client is an HTTP client for one kind of egress (r nil means net.DefaultResolver). Its dedicated
// Transport:
//
//   - dials by itself: it resolves the host with r, refuses the connection when any resolved address
//     is refused, and dials the addresses it judged, so DNS rebinding between CheckURL and the
//     connection does not pass; net.Dialer.Control judges the dialled ip:port once more (defence in
//     depth: it sees the socket's real destination whatever the code above it did);
//   - has no Proxy (HTTP_PROXY and HTTPS_PROXY are ignored: a proxy would make the dialled address
//     the proxy's, and the check meaningless);
//   - refuses plain http:// unless AllowLoopback;
//   - speaks TLS 1.2 or later, HTTP/1.1 only (no connection coalescing across names).
//
// Redirects are never followed: a 3xx is returned as the response (the receiver's Location is another
// user-chosen URL that nobody has judged, and the contract fails a delivery on a 3xx). timeout bounds
// the whole attempt, body included.
//
// A refusal surfaces as an error that unwraps (errors.As) to *RefusedError; a DNS failure at dial time
// is not a refusal (it is an ordinary connection error, worth retrying).
func (p Policy) Client(r Resolver, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: &schemeGuard{policy: p, next: p.transport(r, timeout)},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// transport builds Client's dedicated Transport (never http.DefaultTransport or a Clone of it, which
// would bring a Proxy and whatever dial hooks it was given).
func (p Policy) transport(r Resolver, timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            p.dialer(r).dialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 64 << 10, // a receiver's headers are read whole; keep them small too
	}
}

func (p Policy) dialer(r Resolver) *dialer {
	if r == nil {
		r = net.DefaultResolver
	}
	return &dialer{
		policy:   p,
		resolver: r,
		net: net.Dialer{
			Timeout:   10 * time.Second, // per address, so one black-holed address leaves time for the next
			KeepAlive: 30 * time.Second,
			Control:   p.control,
		},
	}
}

// schemeGuard refuses plain http:// before any connection is made: the URL was judged when it was
// registered, but a caller that builds a request from elsewhere must not leak a body in clear text.
type schemeGuard struct {
	policy Policy
	next   *http.Transport
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	switch s := req.URL.Scheme; {
	case s == "https", s == "http" && g.policy.AllowLoopback:
		return g.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close() // RoundTrip must close the body, even on error
	}
	reason := "the URL must use https"
	if g.policy.AllowLoopback {
		reason = "the URL must use https or http"
	}
	return nil, &RefusedError{Reason: reason}
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (g *schemeGuard) CloseIdleConnections() { g.next.CloseIdleConnections() }

type dialer struct {
	policy   Policy
	resolver Resolver
	net      net.Dialer
}

// dialContext resolves addr's host itself, judges every address, then dials the judged addresses in
// turn; the transport never resolves a name on its own.
func (d *dialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, &RefusedError{Reason: "the port must be a number from 1 to 65535"}
	}
	a, isLiteral, err := literalOrName(host)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if isLiteral {
		if err := d.policy.CheckAddr(a); err != nil {
			return nil, err
		}
		addrs = []netip.Addr{a}
	} else {
		addrs, err = d.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("egress: resolving %s: %w", host, err)
		}
		if err := d.policy.checkResolved(host, addrs); err != nil {
			return nil, err
		}
	}
	var firstErr error
	dialled := 0
	for _, a := range addrs {
		a = a.Unmap() // a mapped address is an IPv4 destination; dial it as one
		if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
			continue
		}
		dialled++
		c, err := d.net.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if dialled == 0 {
		return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	return nil, firstErr
}

// control judges the socket's destination just before connect: whatever resolved or rewrote the
// address above, this is the address the connection goes to.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "the dialled address " + address + " is not an IP address and port"}
	}
	if ap.Port() == 0 {
		return &RefusedError{Addr: address, Reason: "the port must be a number from 1 to 65535"}
	}
	return p.CheckAddr(ap.Addr())
}

// ReadLimited reads at most MaxResponseBytes of body and reports whether there was more. To tell "more"
// from "exactly MaxResponseBytes" it reads one byte beyond, never further, so an endless body cannot
// hold the caller (the client's timeout bounds a slow one). A nil body reads as empty. On a read error
// it returns what it read with the error.
func ReadLimited(body io.Reader) (data []byte, truncated bool, err error) {
	return ReadUpTo(body, MaxResponseBytes)
}

// MaxTokenResponseBytes is how much of a token endpoint's answer is read: OAuth2 answers with
// refresh and id tokens beside the access token run to several kilobytes.
const MaxTokenResponseBytes = 64 << 10

// ReadUpTo is ReadLimited with another limit.
func ReadUpTo(body io.Reader, limit int) (data []byte, truncated bool, err error) {
	if body == nil {
		return nil, false, nil
	}
	buf := make([]byte, limit+1)
	n := 0
	for n < len(buf) {
		m, err := body.Read(buf[n:])
		n += m
		if err == io.EOF {
			return buf[:n], false, nil
		}
		if err != nil {
			// io.ReadFull would turn an early io.EOF into io.ErrUnexpectedEOF; a body's own
			// io.ErrUnexpectedEOF (a connection cut before Content-Length) must stay an error.
			if n > limit {
				return buf[:limit], true, nil // the answer is complete: there was more
			}
			return buf[:n], false, err
		}
	}
	return buf[:limit], true, nil
}
