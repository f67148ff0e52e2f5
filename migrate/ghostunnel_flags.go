package migrate

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ghostHandler says what one ghostunnel flag becomes: apply carries it;
// without apply, text says why it is not carried.
type ghostHandler struct {
	boolean  bool   // takes no value
	secret   bool   // its value is never printed
	only     string // "server" or "client" when the flag belongs to one mode
	security bool
	text     string
	apply    func(g *ghost, f ghostFlag)
}

// setTLS, setTop, setLimit and addAllow make the usual handlers.
func setTLS(key string) func(*ghost, ghostFlag) {
	return func(g *ghost, f ghostFlag) { g.tls.set(key, quote(f.Value)) }
}

func setTop(key string) func(*ghost, ghostFlag) {
	return func(g *ghost, f ghostFlag) { g.tun.set(key, quote(f.Value)) }
}

func setLimit(key string) func(*ghost, ghostFlag) {
	return func(g *ghost, f ghostFlag) {
		if _, err := time.ParseDuration(f.Value); err != nil {
			g.note(f, false, "invalid duration %q; limits.%s keeps its default", f.Value, key)
			return
		}
		g.tun.child("limits").set(key, quote(f.Value))
	}
}

// closeTimeout carries --close-timeout, except 0: ghostunnel's 0 closes
// both sides at once, passtunnel's means no limit.
func closeTimeout(g *ghost, f ghostFlag) {
	if d, err := time.ParseDuration(f.Value); err == nil && d == 0 {
		g.note(f, false, "not carried: 0 closes at once here but means no limit in passtunnel; limits.close_timeout keeps its default (60s)")
		return
	}
	setLimit("close_timeout")(g, f)
}

func addAllow(key string) func(*ghost, ghostFlag) {
	return func(g *ghost, f ghostFlag) { g.tun.child("allow").appendList(key, f.Value) }
}

func boolTop(key string) func(*ghost, ghostFlag) {
	return func(g *ghost, f ghostFlag) {
		if g.isTrue(f) {
			g.tun.set(key, "true")
		}
	}
}

var ghostFlags map[string]ghostHandler

func init() { // a table whose handlers refer to the table: set at init
	ghostFlags = map[string]ghostHandler{
		"listen":                 {apply: setTop("listen")},
		"target":                 {apply: setTop("target")},
		"keystore":               {apply: (*ghost).keystore},
		"storepass":              {secret: true, apply: storepass},
		"cert":                   {apply: setTLS("cert")},
		"key":                    {apply: setTLS("key")},
		"cacert":                 {apply: setTLS("ca")},
		"allow-all":              {boolean: true, only: "server", apply: allowAll},
		"allow-cn":               {only: "server", apply: addAllow("cn")},
		"allow-ou":               {only: "server", apply: addAllow("ou")},
		"allow-dns":              {only: "server", apply: addAllow("dns")},
		"allow-uri":              {only: "server", apply: addAllow("uri")},
		"verify-cn":              {only: "client", apply: addAllow("cn")},
		"verify-ou":              {only: "client", apply: addAllow("ou")},
		"verify-dns":             {only: "client", apply: addAllow("dns")},
		"verify-uri":             {only: "client", apply: addAllow("uri")},
		"allow-policy":           {security: true, text: "no OPA policies: express it with allow { cn, dns, uri, ou }"},
		"allow-query":            {security: true, text: "no OPA policies: express it with allow { cn, dns, uri, ou }"},
		"verify-policy":          {security: true, text: "no OPA policies: express it with allow { cn, dns, uri, ou }"},
		"verify-query":           {security: true, text: "no OPA policies: express it with allow { cn, dns, uri, ou }"},
		"unsafe-listen":          {boolean: true, only: "client", apply: boolTop("unsafe_listen")},
		"unsafe-target":          {boolean: true, only: "server", text: "a server tunnel may target any address: nothing to say"},
		"override-server-name":   {only: "client", apply: setTLS("server_name")},
		"disable-authentication": {boolean: true, apply: disableAuth},
		"connect-timeout":        {apply: setLimit("connect_timeout")},
		"max-conn-lifetime":      {apply: setLimit("max_lifetime")},
		"shutdown-timeout":       {apply: setLimit("drain_timeout")},
		"close-timeout":          {apply: closeTimeout},
		"max-concurrent-conns":   {apply: maxConns},
		"status":                 {apply: status},
		"metrics-graphite":       {text: "no Graphite: scrape Prometheus /metrics on admin"},
		"metrics-url":            {text: "no metrics push: scrape Prometheus /metrics on admin"},
		"metrics-prefix":         {text: "metric names start with passtunnel_"},
		"metrics-interval":       {text: "metrics are scraped, not pushed"},
		"proxy-protocol":         {boolean: true, only: "server", apply: proxyProtocol},
		"proxy-protocol-mode":    {only: "server", apply: proxyProtocol},
		"use-workload-api":       {boolean: true, apply: workloadAPI},
		"use-workload-api-addr":  {apply: workloadAPI},
		"connect-proxy":          {only: "client", secret: true, apply: connectProxy}, // may hold credentials
		"auto-acme-cert":         {only: "server", apply: func(g *ghost, f ghostFlag) { g.tun.child("acme").appendList("domains", f.Value) }},
		"auto-acme-email":        {only: "server", apply: func(g *ghost, f ghostFlag) { g.tun.child("acme").set("email", quote(f.Value)) }},
		"auto-acme-agree-to-tos": {boolean: true, only: "server", text: "setting an acme block accepts the CA's subscriber agreement"},
		"auto-acme-testca":       {only: "server", apply: func(g *ghost, f ghostFlag) { g.tun.child("acme").set("ca", quote(f.Value)) }},
		"enable-pprof":           {boolean: true, text: "no profiling endpoint in production builds"},
		"enable-shutdown":        {boolean: true, text: "stop with SIGTERM (systemctl stop, the container runtime): it drains"},
		"timed-reload":           {text: "certificate files are watched and reloaded when they change: nothing to set"},
		"target-status":          {only: "server", text: "/readyz reports the tunnels, not the target; probe the target directly"},
		"quiet":                  {text: "set log_level = \"warn\" to hide the per-connection lines"},
		"syslog":                 {boolean: true, text: "logs go to stderr: journald forwards them to syslog"},
		"keychain-identity":      {security: true, text: "no macOS keychain: export the identity to tls.pkcs12"},
		"keychain-issuer":        {security: true, text: "no macOS keychain: export the identity to tls.pkcs12"},
		"keychain-require-token": {boolean: true, text: "no macOS keychain"},
		"pkcs11-module":          {security: true, text: "no PKCS#11 keys: use a key file (tls.key, tls.pkcs12)"},
		"pkcs11-token-label":     {text: "no PKCS#11 keys"},
		"pkcs11-pin":             {secret: true, text: "no PKCS#11 keys; the value is not copied"},
		"cipher-suites":          {text: "passtunnel's default is AES-GCM and ChaCha20-Poly1305, ghostunnel's two families; narrow with tls.cipher_suites"},
		"skip-resolve":           {boolean: true, only: "client", text: "target names resolve at each dial"},
		"landlock":               {boolean: true, text: "passtunnel sandboxes itself with Landlock by default (--no-sandbox turns it off)"},
	}
}

func allowAll(g *ghost, f ghostFlag) {
	g.seen["allow-all"] = g.isTrue(f)
	if g.seen["allow-all"] {
		g.note(f, false, "carried as no allow block: every client the CA verifies is admitted")
	}
}

func storepass(g *ghost, f ghostFlag) {
	g.tls.set("key_passphrase", envRef("PASSTUNNEL_KEY_PASSPHRASE"))
	g.note(f, false, "carried as key_passphrase = env(\"PASSTUNNEL_KEY_PASSPHRASE\"): the value is not copied; "+
		"put it in that variable or a file (key_passphrase = file(\"...\")), never in argv")
}

func disableAuth(g *ghost, f ghostFlag) {
	if !g.isTrue(f) {
		return
	}
	if g.mode == "server" {
		g.tls.set("client_auth", quote("none"))
		g.note(f, false, "carried as client_auth = \"none\": anyone who reaches the port reaches the target")
		return
	}
	g.note(f, false, "the client presents no certificate: leave tls.cert and tls.key out")
}

func maxConns(g *ghost, f ghostFlag) {
	n, err := strconv.Atoi(f.Value)
	if err != nil || n <= 0 {
		g.note(f, false, "%q: unlimited is not offered; limits.max_connections keeps its default (1024)", f.Value)
		return
	}
	g.tun.child("limits").set("max_connections", strconv.Itoa(n))
}

func status(g *ghost, f ghostFlag) {
	addr := strings.TrimPrefix(strings.TrimPrefix(f.Value, "http://"), "https://")
	g.top.set("admin", quote(addr))
	g.note(f, false, "carried as admin = %q: plain HTTP with /metrics, /healthz, /readyz (no /_status); keep it on loopback", addr)
}

// proxyProtocol: ghostunnel sends v2; its tls modes add the TLS TLVs.
func proxyProtocol(g *ghost, f ghostFlag) {
	if f.Name == "proxy-protocol" && !g.isTrue(f) {
		return
	}
	pp := g.tun.child("proxy_protocol")
	pp.set("send", quote("v2"))
	switch strings.ToLower(f.Value) {
	case "true", "conn", "v2":
	case "tls", "tls-full":
		pp.set("tls_tlvs", "true")
	default:
		g.note(f, false, "unknown mode %q: carried as send = \"v2\"", f.Value)
	}
}

func workloadAPI(g *ghost, f ghostFlag) {
	if f.Name == "use-workload-api" {
		if g.isTrue(f) && g.tun.child("spiffe").get("socket") == "" {
			g.tun.child("spiffe").set("socket", envRef("SPIFFE_ENDPOINT_SOCKET"))
		}
		return
	}
	g.tun.child("spiffe").set("socket", quote(f.Value))
}

// connectProxy keeps credentials out of the HCL.
func connectProxy(g *ghost, f ghostFlag) {
	u, err := url.Parse(f.Value)
	if err == nil && u.User != nil {
		g.tun.set("connect_proxy", envRef("HTTPS_PROXY"))
		g.note(f, false, "the URL holds credentials: carried as connect_proxy = env(\"HTTPS_PROXY\"); the value is not copied")
		return
	}
	g.tun.set("connect_proxy", quote(f.Value))
}
