package config

import "strings"

// flagFields maps each flag of `passtunnel server|client` to the HCL field it
// sets, so positions and messages can go from one to the other. Two flags
// feed passphrase, and two previous_passphrases; the first of each is the
// one named when the field is missing.
var flagFields = []struct{ flag, field string }{
	{"listen", "listen"},
	{"target", "target"},
	{"listen-mode", "listen_mode"},
	{"unsafe-listen", "unsafe_listen"},
	{"cert", "tls.cert"},
	{"key", "tls.key"},
	{"ca", "tls.ca"},
	{"client-auth", "tls.client_auth"},
	{"server-name", "tls.server_name"},
	{"pin", "tls.pin"},
	{"system-roots", "tls.system_roots"},
	{"insecure-skip-verify", "tls.insecure_skip_verify"},
	{"self-signed", "tls.self_signed"},
	{"min-version", "tls.min_version"},
	{"max-version", "tls.max_version"},
	{"cipher-suites", "tls.cipher_suites"},
	{"curves", "tls.curves"},
	{"alpn", "tls.alpn"},
	{"session-resumption", "tls.session_resumption"},
	{"session-lifetime", "tls.session_lifetime"},
	{"max-connections", "limits.max_connections"},
	{"accept-rate", "limits.accept_rate"},
	{"per-source-rate", "limits.per_source_rate"},
	{"per-source-handshakes", "limits.per_source_handshakes"},
	{"handshake-timeout", "limits.handshake_timeout"},
	{"connect-timeout", "limits.connect_timeout"},
	{"idle-timeout", "limits.idle_timeout"},
	{"max-lifetime", "limits.max_lifetime"},
	{"drain-timeout", "limits.drain_timeout"},
	{"proxy-protocol-accept", "proxy_protocol.accept"},
	{"proxy-protocol-trusted", "proxy_protocol.trusted"},
	{"proxy-protocol-send", "proxy_protocol.send"},
	{"proxy-protocol-tls-tlvs", "proxy_protocol.tls_tlvs"},
	{"log-level", "log_level"},
	{"log-format", "log_format"},
	{"admin", "admin"},
	{"passphrase-file", "passphrase"},
	{"passphrase-env", "passphrase"},
	{"previous-passphrase-file", "previous_passphrases"},
	{"previous-passphrase-env", "previous_passphrases"},
	{"cluster", "cluster"},
	{"allow-weak-passphrase", "allow_weak_passphrase"},
	{"shared-secret-env", "shared_secret"},
	{"allow-cn", "allow.cn"},
	{"allow-dns", "allow.dns"},
	{"allow-uri", "allow.uri"},
	{"allow-ou", "allow.ou"},
}

// flagFor names the flag that sets an HCL field. Fields without a flag
// (the tunnel name) get a name built the same way.
func flagFor(field string) string {
	for _, f := range flagFields {
		if f.field == field {
			return f.flag
		}
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return strings.ReplaceAll(field, "_", "-")
}

// fieldFor names the HCL field a flag sets ("" for --name, which sets none).
func fieldFor(flag string) string {
	for _, f := range flagFields {
		if f.flag == flag {
			return f.field
		}
	}
	return ""
}

// topLevel reports whether a field sits outside tunnel blocks.
func topLevel(field string) bool { return oneOf(field, "log_level", "log_format", "admin") }
