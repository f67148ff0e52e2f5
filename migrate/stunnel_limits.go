package migrate

import (
	"strconv"
	"strings"
)

// limits maps stunnel's TIMEOUT* options (seconds).
func (s *svc) limits() {
	for _, k := range []struct{ opt, field string }{{"timeoutidle", "idle_timeout"}, {"timeoutconnect", "connect_timeout"}, {"timeoutclose", "close_timeout"}} {
		if o, ok := s.one(k.opt); ok {
			if k.opt == "timeoutclose" && o.Value == "0" {
				s.note(o, false, "not carried: 0 closes at once here but means no limit in passtunnel; "+
					"limits.close_timeout keeps its default (60s)")
				continue
			}
			if n, err := strconv.Atoi(o.Value); err == nil && n >= 0 {
				s.tun.child("limits").set(k.field, quote(strconv.Itoa(n)+"s"))
			} else {
				s.note(o, false, "invalid value %q (seconds); %s keeps its default", o.Value, k.field)
			}
		}
	}
	if o, ok := s.one("timeoutbusy"); ok {
		s.note(o, false, "not carried: the closest is limits.idle_timeout, which also ends a connection "+
			"whose peer stops reading")
	}
}

// misc maps the rest that has a counterpart: sni, transparent, delay,
// debug; everything else is left to the tables.
func (s *svc) misc() {
	if o, ok := s.one("sni"); ok {
		s.sni(o)
	}
	if o, ok := s.one("transparent"); ok {
		switch v := strings.ToLower(o.Value); {
		case v == "source" && !s.client:
			s.tun.set("transparent_source", "true")
		case v == "no" || v == "none":
		default:
			s.note(o, false, "not carried: a client's original-destination mode is transparent = \"redirect\" or "+
				"\"tproxy\" with port_map; see `passtunnel rules`")
		}
	}
	if o, ok := s.one("delay"); ok && yes(o.Value) {
		s.note(o, false, "nothing to carry: passtunnel resolves target names at each dial")
	}
}

// sni: a client sends it; a server-side `sni = service:pattern` makes
// this service ride on another's listener, picked by SNI.
func (s *svc) sni(o option) {
	if s.client {
		if s.tls.get("server_name") == "" {
			s.tls.set("server_name", quote(o.Value))
		}
		return
	}
	master, pattern, ok := strings.Cut(o.Value, ":")
	if !ok || pattern == "" || strings.ContainsAny(pattern, "?[") {
		s.note(o, false, "not carried: want service:hostname; set server_names by hand")
		return
	}
	s.sniFrom = master
	s.tun.set("server_names", list(pattern))
}

// linkSNI gives each service with `sni = master:pattern` its master's
// listen address, and lets the master take the connections no name picks.
func linkSNI(svcs []*svc) {
	for _, s := range svcs {
		if s.sniFrom == "" {
			continue
		}
		for _, m := range svcs {
			if m.name == s.sniFrom && m.tun.get("listen") != "" {
				s.tun.set("listen", m.tun.get("listen"))
				m.tun.set("sni_default", "true")
				s.sniFrom = ""
			}
		}
		if s.sniFrom != "" {
			s.noteAt(s.sec.File, s.sec.Line, "sni", false, "service %q not found; set listen by hand", s.sniFrom)
		}
	}
}
