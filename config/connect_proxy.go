package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// connectProxyField is connect_proxy's entry in tunnelFields.
var connectProxyField = field[Tunnel]{name: "connect_proxy", at: func(t *Tunnel) any { return &t.ConnectProxy },
	flag: "--connect-proxy-env VAR",
	doc: row{def: "none", text: "client: the HTTP CONNECT proxy `http://[user:pass@]host:port`, a secret field " +
		"([more](docs/behaviour.md#through-an-http-connect-proxy))"}}

// ConnectProxy is connect_proxy taken apart: where the proxy is and the
// credentials to give it. Password is secret: never log or print it.
type ConnectProxy struct {
	Addr           string // host:port
	User, Password string // "" for none
}

// ParseConnectProxy reads a connect_proxy URL: http://[user[:pass]@]host:port.
// Its errors never repeat the URL, which may hold credentials.
func ParseConnectProxy(raw string) (ConnectProxy, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's own message may quote the URL, credentials and all.
		return ConnectProxy{}, errors.New("not a valid URL; want http://[user:pass@]host:port")
	}
	switch {
	case u.Scheme != "http":
		return ConnectProxy{}, fmt.Errorf("scheme %q: want http://[user:pass@]host:port (the proxy is spoken to in cleartext)", u.Scheme)
	case u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return ConnectProxy{}, errors.New("a proxy URL has no path, query or fragment; want http://[user:pass@]host:port")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return ConnectProxy{}, fmt.Errorf("host %q: want host:port with a port from 1 to 65535", u.Host)
	}
	p := ConnectProxy{Addr: u.Host}
	if u.User != nil {
		p.User = u.User.Username()
		p.Password, _ = u.User.Password()
	}
	return p, nil
}

// connectProxy checks connect_proxy: a client tunnel's, a valid URL, and
// targets the proxy can reach (host:port).
func (v *validator) connectProxy(i int) {
	t := &v.c.Tunnels[i]
	const f = "connect_proxy"
	if !v.given(i, f) || !v.ok(i, f) {
		return
	}
	switch {
	case !t.ConnectProxy.IsSet():
		v.fail(i, f, "must not be empty")
		return
	case t.Mode == ModeServer:
		v.fail(i, f, "client tunnels only: a server tunnel's target is its own cleartext service")
		return
	}
	if _, err := ParseConnectProxy(t.ConnectProxy.Reveal()); err != nil {
		v.fail(i, f, "%s: %v", t.ConnectProxy.Source, err)
		return
	}
	for _, a := range t.TargetList() {
		if a.Network != NetTCP {
			v.fail(i, "target", "%s: a target reached through connect_proxy must be host:port", a)
			return
		}
	}
}
