package migrate

import (
	"strconv"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// tlsVersion maps an OpenSSL protocol name to tls.min/max_version.
func tlsVersion(v string) (string, bool) {
	switch strings.ToUpper(strings.ReplaceAll(v, ".", "")) {
	case "TLSV12":
		return "1.2", true
	case "TLSV13":
		return "1.3", true
	}
	return "", false
}

// tlsSettings maps protocol versions, ciphers, curves, options and the
// session cache.
func (s *svc) tlsSettings() {
	s.versions()
	s.ciphers()
	for _, name := range []string{"curves", "curve"} {
		if o, ok := s.one(name); ok {
			s.curves(o)
		}
	}
	for _, o := range s.all("options") {
		s.sslOption(o)
	}
	if o, ok := s.one("sessioncachetimeout"); ok {
		if n, err := strconv.Atoi(o.Value); err == nil && n > 0 {
			d := min(time.Duration(n)*time.Second, 168*time.Hour)
			s.tls.set("session_lifetime", quote(d.String()))
		} else {
			s.note(o, false, "invalid value %q; session_lifetime keeps its default (2h)", o.Value)
		}
	}
	if o, ok := s.one("sessionresume"); ok && !yes(o.Value) {
		s.tls.set("session_resumption", "false")
	}
}

func (s *svc) versions() {
	for _, k := range []struct{ opt, field string }{{"sslversionmin", "min_version"}, {"sslversionmax", "max_version"}, {"sslversion", ""}} {
		o, ok := s.one(k.opt)
		if !ok || strings.EqualFold(o.Value, "all") {
			continue
		}
		v, ok := tlsVersion(o.Value)
		if !ok {
			s.note(o, false, "%s is not offered: passtunnel speaks TLS 1.2 and 1.3 only; "+
				"a peer that cannot must be upgraded", o.Value)
			continue
		}
		if k.field == "" {
			s.tls.set("min_version", quote(v))
			s.tls.set("max_version", quote(v))
			continue
		}
		s.tls.set(k.field, quote(v))
	}
}

// openSSLSuites names the TLS 1.2 suites passtunnel can offer.
var openSSLSuites = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"AES128-GCM-SHA256":             "TLS_RSA_WITH_AES_128_GCM_SHA256",
	"AES256-GCM-SHA384":             "TLS_RSA_WITH_AES_256_GCM_SHA384",
}

// ciphers maps OpenSSL's TLS 1.2 cipher list to Go's names where one maps
// and config accepts it; keywords (HIGH, !aNULL, ...) and the rest are
// reported. TLS 1.3's ciphersuites are not configurable in Go.
func (s *svc) ciphers() {
	if o, ok := s.one("ciphersuites"); ok {
		s.note(o, false, "not carried: TLS 1.3 suites are Go's fixed set (AES-GCM and ChaCha20-Poly1305)")
	}
	o, ok := s.one("ciphers")
	if !ok {
		return
	}
	var carried, dropped []string
	for _, c := range strings.FieldsFunc(o.Value, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		goName, ok := openSSLSuites[strings.ToUpper(c)]
		if ok && config.CheckCipherSuite(goName) == nil {
			carried = append(carried, goName)
		} else {
			dropped = append(dropped, c)
		}
	}
	if len(carried) > 0 {
		s.tls.set("cipher_suites", list(carried...))
	}
	if len(dropped) > 0 {
		s.note(o, false, "not carried: %s (OpenSSL keywords, or suites passtunnel refuses as insecure); "+
			"the default is the ECDHE suites with AES-GCM or ChaCha20-Poly1305", strings.Join(dropped, ", "))
	}
}

func (s *svc) curves(o option) {
	var carried, dropped []string
	for _, c := range strings.FieldsFunc(o.Value, func(r rune) bool { return r == ':' || r == ',' }) {
		if config.CheckCurve(c) == nil {
			carried = append(carried, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	if len(carried) > 0 {
		s.tls.set("curves", list(carried...))
	}
	if len(dropped) > 0 {
		s.note(o, false, "not carried: %s; passtunnel knows %s", strings.Join(dropped, ", "), config.CurveNames())
	}
}

// sslOption maps one `options = ...` line.
func (s *svc) sslOption(o option) {
	switch strings.ToUpper(strings.TrimPrefix(o.Value, "-")) {
	case "NO_TICKET":
		s.tls.set("session_resumption", "false")
		s.note(o, false, "carried as session_resumption = false: passtunnel has no session-ID cache to fall back on, "+
			"so every connection is a full handshake")
	case "NO_SSLV2", "NO_SSLV3", "NO_TLSV1", "NO_TLSV1_1", "NO_COMPRESSION":
		// passtunnel never offers these: nothing to carry.
	case "NO_TLSV1_2":
		s.tls.set("min_version", quote("1.3"))
	case "NO_TLSV1_3":
		s.tls.set("max_version", quote("1.2"))
	default:
		s.note(o, false, "not carried: Go's TLS has no %s; its defaults are safe", o.Value)
	}
}
