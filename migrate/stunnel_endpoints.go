package migrate

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// stunnelAddr converts a stunnel address: "port", "host:port", an IPv6
// "::1:port", or a unix socket path. defHost fills a bare port.
func stunnelAddr(v, defHost string) (string, error) {
	switch {
	case strings.HasPrefix(v, "/"):
		return "unix:" + v, nil
	case isPort(v):
		return net.JoinHostPort(defHost, v), nil
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 || !isPort(v[i+1:]) {
		return "", fmt.Errorf("invalid address %q: want [host:]port or /unix/path", v)
	}
	host := strings.Trim(v[:i], "[]")
	if host == "" || host == "*" {
		host = defHost
	}
	return net.JoinHostPort(host, v[i+1:]), nil
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

// endpoints maps accept, connect (several: a target list) and failover.
func (s *svc) endpoints() {
	if o, ok := s.one("accept"); ok {
		if a, err := stunnelAddr(o.Value, "0.0.0.0"); err != nil {
			s.note(o, false, "%v; set listen by hand", err)
		} else {
			s.tun.set("listen", quote(a))
			if s.client && !loopbackOrUnix(a) {
				s.tun.set("unsafe_listen", "true")
				s.note(o, false, "a client tunnel listening beyond loopback: carried with unsafe_listen = true; "+
					"anyone who reaches %s acts as this node toward the target: listen on 127.0.0.1 if you can", a)
			}
		}
	}
	var targets []string
	for _, o := range s.all("connect") {
		a, err := stunnelAddr(o.Value, "localhost")
		if err != nil {
			s.note(o, false, "%v; set target by hand", err)
			continue
		}
		targets = append(targets, a)
	}
	s.setTargets(targets)
	if o, ok := s.one("failover"); ok {
		switch strings.ToLower(o.Value) {
		case "rr":
			s.tun.set("balance", quote("round_robin"))
		case "prio":
			s.tun.set("balance", quote("failover"))
		default:
			s.note(o, false, "unknown value %q; balance is \"failover\" (stunnel's prio)", o.Value)
		}
	}
}

func (s *svc) setTargets(targets []string) {
	switch len(targets) {
	case 0:
	case 1:
		s.tun.set("target", quote(targets[0]))
	default:
		s.tun.set("target", list(targets...))
		if s.tun.get("balance") == "" {
			s.tun.set("balance", quote("failover"))
		}
	}
}

func loopbackOrUnix(a string) bool {
	if strings.HasPrefix(a, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// protocol maps `protocol`: proxy (a PROXY v1 header to the target),
// connect (an HTTP CONNECT proxy); STARTTLS dialects are not carried.
func (s *svc) protocol() {
	o, ok := s.one("protocol")
	if !ok {
		return
	}
	switch p := strings.ToLower(o.Value); {
	case p == "proxy" && !s.client:
		s.tun.child("proxy_protocol").set("send", quote("v1"))
	case p == "proxy":
		s.note(o, false, "not carried: a client tunnel's target speaks TLS, not a PROXY header; "+
			"send it from the server tunnel (proxy_protocol.send) instead")
	case p == "connect" && s.client:
		s.connectProxy(o)
	case starttls[p] != "":
		s.note(o, false, "not carried: %s; passtunnel speaks TLS from the first byte. "+
			"Keep stunnel for this service, or use the protocol's implicit-TLS port if the peer has one", starttls[p])
	default:
		s.note(o, false, "not carried: passtunnel has no %q protocol mode", o.Value)
	}
}

var starttls = map[string]string{
	"smtp": "SMTP STARTTLS", "pop3": "POP3 STLS", "imap": "IMAP STARTTLS", "nntp": "NNTP STARTTLS",
	"pgsql": "PostgreSQL's SSLRequest negotiation", "ldap": "LDAP StartTLS", "cifs": "CIFS negotiation",
	"socks": "a SOCKS server", "capwin": "capwin's negotiation", "capwinctrl": "capwin's negotiation",
	"connect": "an HTTP CONNECT server (passtunnel dials through a proxy only as a client)",
}

// connectProxy: stunnel's `connect` is then the proxy, `protocolHost`
// the real target.
func (s *svc) connectProxy(o option) {
	proxy := s.tun.get("target")
	host, ok := s.one("protocolhost")
	if !ok || proxy == "" || strings.HasPrefix(proxy, "[") {
		s.note(o, false, "not carried: protocol = connect needs one connect (the proxy) and protocolHost (the target)")
		return
	}
	s.tun.set("connect_proxy", quote("http://"+strings.Trim(proxy, `"`)))
	t, err := stunnelAddr(host.Value, "localhost")
	if err != nil {
		s.note(host, false, "%v; set target by hand", err)
		return
	}
	s.tun.set("target", quote(t))
	for _, cred := range []string{"protocolauthentication", "protocolusername", "protocolpassword", "protocoldomain"} {
		if c, ok := s.one(cred); ok {
			s.note(c, false, "not carried (the value is not copied): put the proxy's credentials in connect_proxy's URL, "+
				"read from a secret: connect_proxy = env(\"HTTPS_PROXY\")")
		}
	}
}
