package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestClientConfiguration(t *testing.T) {
	const timeout = 15 * time.Second
	c := Policy{}.Client(net.DefaultResolver, timeout)
	if c.Timeout != timeout {
		t.Errorf("Timeout = %v, want %v", c.Timeout, timeout)
	}
	if c.CheckRedirect == nil || !errors.Is(c.CheckRedirect(nil, nil), http.ErrUseLastResponse) {
		t.Error("CheckRedirect does not stop at the first response")
	}
	g, ok := c.Transport.(*schemeGuard)
	if !ok {
		t.Fatalf("Transport is %T, want the scheme guard", c.Transport)
	}
	tr := g.next
	if tr == http.DefaultTransport {
		t.Fatal("the client uses http.DefaultTransport")
	}
	if tr.Proxy != nil {
		t.Error("Proxy is set; HTTP(S)_PROXY must be ignored")
	}
	//lint:ignore SA1019 a stray deprecated dial hook would bypass the check just the same
	if tr.DialContext == nil || tr.DialTLSContext != nil || tr.DialTLS != nil || tr.Dial != nil {
		t.Error("the transport must dial through DialContext alone")
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config %+v, want MinVersion TLS 1.2 and verification", tr.TLSClientConfig)
	}
	if tr.ResponseHeaderTimeout != timeout || tr.TLSHandshakeTimeout != 10*time.Second {
		t.Errorf("ResponseHeaderTimeout %v, TLSHandshakeTimeout %v", tr.ResponseHeaderTimeout, tr.TLSHandshakeTimeout)
	}
	if tr.MaxIdleConnsPerHost != 4 || tr.IdleConnTimeout != 60*time.Second {
		t.Errorf("MaxIdleConnsPerHost %d, IdleConnTimeout %v", tr.MaxIdleConnsPerHost, tr.IdleConnTimeout)
	}
	if d := (Policy{}).dialer(nil); d.net.Control == nil || d.resolver != net.DefaultResolver {
		t.Error("the dialer has no Control hook or no default resolver")
	}
}

func TestControlJudgesTheDialledAddress(t *testing.T) {
	tests := []struct {
		address     string
		strict, lo  bool // allowed under Policy{} and under AllowLoopback
		wantRefused string
	}{
		{address: "93.184.215.14:443", strict: true, lo: true},
		{address: "[2606:4700:4700::1111]:443", strict: true, lo: true},
		{address: "127.0.0.1:443", lo: true},
		{address: "[::1]:443", lo: true},
		{address: "10.0.0.1:443"},
		{address: "169.254.169.254:80"},
		{address: "[fd00:ec2::254]:80"},
		{address: "[fe80::1%eth0]:443"},
		{address: "0.0.0.0:443"},
		{address: "93.184.215.14:0"},
		{address: "not-an-address:443"},
	}
	for _, tt := range tests {
		for _, pc := range []struct {
			p       Policy
			allowed bool
		}{{Policy{}, tt.strict}, {Policy{AllowLoopback: true}, tt.lo}} {
			err := pc.p.control("tcp", tt.address, nil)
			if pc.allowed != (err == nil) {
				t.Errorf("%+v control(%s) = %v, want allowed=%v", pc.p, tt.address, err, pc.allowed)
			}
			var re *RefusedError
			if err != nil && !errors.As(err, &re) {
				t.Errorf("control(%s) error %T, want *RefusedError", tt.address, err)
			}
		}
	}
}

// TestControlStopsAConnectionTheResolverCheckMissed dials a loopback listener through the client's
// dialer below its own resolution check: Control alone must stop the connection.
func TestControlStopsAConnectionTheResolverCheckMissed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan string, 2) // the remote address of each connection, in the order they came
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c.RemoteAddr().String()
			c.Close()
		}
	}()

	d := Policy{}.dialer(nil)
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := d.net.DialContext(context.Background(), "tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
	if err == nil {
		c.Close()
		t.Fatal("the dialer connected to loopback")
	}
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a *RefusedError inside", err, err)
	}

	// The same dialer under AllowLoopback connects, so the refusal above was the policy's.
	c, err = Policy{AllowLoopback: true}.dialer(nil).net.DialContext(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Had the refused dial connected, its connection would be first in the accept queue.
	if first := <-accepted; first != c.LocalAddr().String() {
		t.Errorf("the listener's first connection came from %s, not from the allowed dial (%s)", first, c.LocalAddr())
	}
}
