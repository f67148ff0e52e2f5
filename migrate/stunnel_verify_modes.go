package migrate

// serverVerify: who may connect. stunnel does not ask for a client
// certificate unless told; passtunnel requires one by default, so the
// mapping always says which.
func (s *svc) serverVerify(w verifyWant, ca string) {
	hosts := s.all("checkhost")
	switch {
	case !w.chain && !w.peer:
		s.tls.set("client_auth", quote("none"))
		s.noteAt(s.sec.File, s.sec.Line, "verify", false, "stunnel did not verify clients here (no verifyChain/verify >= 1): "+
			"carried as client_auth = \"none\"; anyone who reaches the port reaches the target. "+
			"Set client_auth = \"require\" and tls.ca to authenticate clients")
		if o, ok := s.one("cafile"); ok {
			s.note(o, false, "not carried: unused without verification (see verify)")
		}
		for _, h := range hosts {
			s.note(h, true, "not carried: clients are not verified, so a name cannot be checked")
		}
		return
	case w.optional:
		s.tls.set("client_auth", quote("request"))
	default:
		s.tls.set("client_auth", quote("require"))
	}
	if w.chain && ca == "" {
		s.noteAt(s.sec.File, s.sec.Line, "verifyChain", true, "not carried: no CAfile or CApath; set tls.ca to the CA of the clients")
	}
	for _, h := range hosts {
		s.tun.child("allow").appendList("dns", h.Value)
	}
	s.nameChecks()
}

// clientVerify: how the server is checked. A client that verifies nothing
// is carried as insecure_skip_verify, loudly, and counts as dropped
// security so the import exits 1.
func (s *svc) clientVerify(w verifyWant, ca string) {
	hosts := s.all("checkhost")
	if !w.chain && !w.peer {
		if o, ok := s.one("cafile"); ok {
			s.tls.set("ca", quote(o.Value))
			s.tls.set("verify", quote("chain"))
			s.note(o, false, "stunnel did not verify the server (no verifyChain/verify >= 1), passtunnel does: "+
				"the server's chain must lead to %s", o.Value)
		} else {
			s.tls.set("insecure_skip_verify", "true")
			s.noteAt(s.sec.File, s.sec.Line, "verify", true, "stunnel did not verify the server: carried as "+
				"insecure_skip_verify = true, which encrypts but lets anyone in the path read it. "+
				"Set tls.ca (and verifyChain) or tls.pin")
			for _, h := range hosts {
				s.note(h, true, "not carried: the server is not verified, so its name cannot be checked")
			}
			return
		}
	}
	if w.chain && ca == "" {
		s.tls.set("system_roots", "true")
		s.noteAt(s.sec.File, s.sec.Line, "verifyChain", false, "no CAfile: stunnel used OpenSSL's default store; carried as system_roots = true")
	}
	s.clientNames(hosts)
	s.nameChecks()
}

// clientNames: one checkHost is the server name passtunnel checks; several
// are an allow list; none keeps stunnel's chain-only check.
func (s *svc) clientNames(hosts []option) {
	sni, hasSNI := s.one("sni")
	switch {
	case len(hosts) == 1:
		// verify = "name" (chain and name) is the default: server_name
		// is enough.
		s.tls.set("server_name", quote(hosts[0].Value))
		if hasSNI && sni.Value != hosts[0].Value {
			s.note(sni, false, "not carried: passtunnel sends the name it checks (checkHost %s) as SNI", hosts[0].Value)
		}
		return
	case len(hosts) > 1:
		for _, h := range hosts {
			s.tun.child("allow").appendList("dns", h.Value)
		}
	}
	if hasSNI {
		s.tls.set("server_name", quote(sni.Value))
	}
	if s.tls.get("pin") == "" || s.tls.get("ca") != "" || s.tls.get("system_roots") != "" {
		// stunnel checks the chain only; passtunnel's default would also
		// check the target's host name.
		s.tls.set("verify", quote("chain"))
	}
}

// nameChecks reports checkIP and checkEmail, which have no allow list.
func (s *svc) nameChecks() {
	for _, o := range s.all("checkip") {
		s.note(o, true, "not carried: no IP-address allow list. In a client tunnel, server_name = %q checks the "+
			"server's IP SAN (and sends no SNI)", o.Value)
	}
	for _, o := range s.all("checkemail") {
		s.note(o, true, "not carried: no e-mail allow list; use allow.cn, allow.dns or allow.uri")
	}
}
