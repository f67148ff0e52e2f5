package migrate

import (
	"strconv"
	"strings"
)

type reported struct {
	text     string
	security bool
}

// stunnelReported lists the service options with no counterpart: why,
// and what to do instead. Security marks those that protected the
// connection.
var stunnelReported = map[string]reported{
	"pskidentity":            {"PSK is not supported: both ends passtunnel use a passphrase (passphrase mode) instead", true},
	"psksecrets":             {"PSK is not supported: both ends passtunnel use a passphrase (passphrase mode) instead; the secrets file is not read", true},
	"ocsp":                   {"OCSP is not checked: revoke with tls.crl, or deny { fingerprints } for single certificates", true},
	"ocspaia":                {"OCSP is not checked: revoke with tls.crl, or deny { fingerprints } for single certificates", true},
	"ocsprequire":            {"OCSP is not checked: revoke with tls.crl", true},
	"ocspflag":               {"OCSP is not checked", false},
	"ocspnonce":              {"OCSP is not checked", false},
	"timeoutocsp":            {"OCSP is not checked", false},
	"libwrap":                {"no TCP wrappers: admit clients with a firewall or NetworkPolicy, and authenticate them with client_auth", true},
	"ident":                  {"no IDENT lookups: authenticate clients by certificate (allow { cn, dns, uri })", true},
	"redirect":               {"a client that fails verification is refused, never redirected", false},
	"exec":                   {"passtunnel dials a socket, never runs a program: run it as a daemon (or a systemd socket unit) and set target", false},
	"execargs":               {"passtunnel never runs a program (see exec)", false},
	"pty":                    {"passtunnel never runs a program (see exec)", false},
	"retry":                  {"passtunnel never runs a program (see exec); for dial failures list several targets", false},
	"local":                  {"no source address for outgoing connections: the kernel's routing picks it", false},
	"renegotiation":          {"Go's TLS never renegotiates: nothing to do", false},
	"reset":                  {"a failed connection is closed; reset is not configurable", false},
	"socket":                 {"socket options are passtunnel's own (keepalive on, Nagle off)", false},
	"stack":                  {"goroutine stacks grow as needed: nothing to do", false},
	"logid":                  {"each connection's closing line carries the tunnel and peer", false},
	"debug":                  {"log_level is global in passtunnel; set it at the top of the file", false},
	"securitylevel":          {"passtunnel's floor (TLS 1.2, ECDHE, AEAD, 2048-bit keys by Go) is at least level 2", false},
	"engineid":               {"no OpenSSL engines or PKCS#11 keys: use key files (tls.key, tls.pkcs12)", false},
	"enginenum":              {"no OpenSSL engines or PKCS#11 keys: use key files (tls.key, tls.pkcs12)", false},
	"caengine":               {"no OpenSSL engines: give tls.ca a PEM file", false},
	"config":                 {"no OpenSSL configuration commands", false},
	"sessioncachesize":       {"passtunnel resumes with session tickets, bounded by session_lifetime", false},
	"sessiond":               {"no shared session cache: tickets let any process holding the same keys resume (passphrase mode shares them)", false},
	"ticketkeysecret":        {"ticket keys are random per process and rotated (passphrase mode derives them); the value is not copied", false},
	"ticketmacsecret":        {"ticket keys are random per process and rotated (passphrase mode derives them); the value is not copied", false},
	"protocolhost":           {"used only with protocol = connect in a client service", false},
	"protocolusername":       {"used only with protocol = connect (credentials: put them in connect_proxy via env())", false},
	"protocolpassword":       {"used only with protocol = connect (credentials: put them in connect_proxy via env()); the value is not copied", false},
	"protocolauthentication": {"used only with protocol = connect", false},
	"protocoldomain":         {"used only with protocol = connect", false},
	"service":                {"a Windows service name or libwrap name: nothing to carry", false},
	"encryptedkey":           {"use tls.key_passphrase for an encrypted key", false},
}

// stunnelGlobalOnly lists the process options: what systemd or the
// container does instead.
var stunnelGlobalOnly = map[string]string{
	"foreground":    "passtunnel always runs in the foreground; systemd (Type=exec) or the container supervises it",
	"pid":           "no pid file: systemd tracks the process (MainPID)",
	"setuid":        "set User= in the systemd unit, or runAsUser in the container",
	"setgid":        "set Group= in the systemd unit, or runAsGroup in the container",
	"chroot":        "use the systemd unit's RootDirectory=/ProtectSystem=, or the container's filesystem",
	"output":        "logs go to stderr: journald or the container runtime keeps them",
	"syslog":        "logs go to stderr: journald forwards them to syslog",
	"log":           "logs go to stderr: journald or the container runtime keeps them",
	"compression":   "TLS compression is never used (CRIME): nothing to do",
	"fips":          "build Go with GOFIPS140 for a FIPS 140-3 module",
	"engine":        "no OpenSSL engines: use key files",
	"enginectrl":    "no OpenSSL engines: use key files",
	"enginedefault": "no OpenSSL engines: use key files",
	"egd":           "Go reads the kernel's randomness: nothing to do",
	"rndbytes":      "Go reads the kernel's randomness: nothing to do",
	"rndfile":       "Go reads the kernel's randomness: nothing to do",
	"rndoverwrite":  "Go reads the kernel's randomness: nothing to do",
	"taskbar":       "Windows only: nothing to do",
	"iconactive":    "Windows only: nothing to do",
	"iconerror":     "Windows only: nothing to do",
	"iconidle":      "Windows only: nothing to do",
}

// globals reads the global section: process options become top-level
// fields or notes, and service-level options are returned as defaults
// for every service, as stunnel uses them.
func globals(sec *section, top *block, notes *[]Note) []option {
	var service []option
	for _, o := range sec.Options {
		note := func(security bool, text string) {
			*notes = append(*notes, Note{Where: o.where(), Option: o.Key, Text: text, Security: security})
		}
		switch name := o.name(); {
		case name == "debug":
			if lvl, ok := logLevel(o.Value); ok {
				top.set("log_level", quote(lvl))
			} else {
				note(false, "unknown level; log_level keeps \"info\"")
			}
		case stunnelGlobalOnly[name] != "":
			note(false, "not carried: "+stunnelGlobalOnly[name])
		default:
			service = append(service, o)
		}
	}
	return service
}

// logLevel maps stunnel's debug (syslog level 0-7 or name, optionally
// "facility.level") to log_level.
func logLevel(v string) (string, bool) {
	if _, after, ok := strings.Cut(v, "."); ok {
		v = after
	}
	names := []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	n, err := strconv.Atoi(v)
	if err != nil {
		n = -1
		for i, name := range names {
			if strings.EqualFold(v, name) {
				n = i
			}
		}
	}
	switch {
	case n < 0 || n > 7:
		return "", false
	case n <= 3:
		return "error", true
	case n == 4:
		return "warn", true
	case n <= 6:
		return "info", true
	}
	return "debug", true
}
