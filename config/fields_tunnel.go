package config

// topFields is the table of the settings outside tunnel blocks.
var topFields = block[Config]{
	fields: []field[Config]{
		{name: "log_level", at: func(c *Config) any { return &c.LogLevel }, def: defaultLogLevel,
			flag: "--log-level L", usage: "log `LEVEL`: debug, info, warn or error",
			doc:     row{text: "`debug`, `info`, `warn`, `error`"},
			flagDoc: row{name: "`--log-level L` / `--log-format F`"}},
		{name: "log_format", at: func(c *Config) any { return &c.LogFormat }, def: defaultLogFormat,
			flag: "--log-format F", usage: "log `FORMAT`: text or json",
			doc: row{text: "`text` or `json` (slog)"}, flagDoc: inRowAbove},
		{name: "admin", at: func(c *Config) any { return &c.Admin },
			flag: "--admin ADDR", usage: "`ADDR` (host:port or unix:/path) to serve /metrics, /healthz and /readyz on; off by default",
			doc: row{def: "off", text: "`host:port` or `unix:/path`: serve `/metrics`, `/healthz`, `/readyz` " +
				"([more](docs/behaviour.md#metrics-and-health)); beyond loopback, a WARN"}},
	},
}

// tunnelFields is the table of a tunnel's own attributes. Its --name flag
// sets the block's label, which is no field; flags.go registers it.
var tunnelFields = block[Tunnel]{
	doc:     row{name: "`tunnel \"NAME\"`", text: "one listener; names are `[A-Za-z0-9][A-Za-z0-9._-]*` and unique"},
	flagDoc: row{name: "`--name NAME`", def: "the mode", text: "tunnel name in logs"},
	in:      func(t *Tunnel) *Tunnel { return t },
	fields: append([]field[Tunnel]{
		{name: "mode", at: func(t *Tunnel) any { return &t.Mode },
			doc: row{def: "required", text: "`server` or `client`"}},
		{name: "listen", at: func(t *Tunnel) any { return &t.Listen },
			flag: "--listen ADDR", usage: "`ADDR` to accept on: host:port, [ipv6]:port, unix:/path or systemd:NAME (required)",
			doc: row{def: "required", text: "`host:port`, `[v6]:port`, `unix:/path`, `systemd:NAME` ([socket activation](docs/behaviour.md#systemd)); " +
				"one tunnel each unless routed by SNI; a client's: loopback or unix unless `unsafe_listen`"}},
		{name: "target", at: func(t *Tunnel) any { return &t.Targets }, comma: true,
			flag: "--target ADDR", usage: "`ADDR` to connect to: host:port, [ipv6]:port or unix:/path (required); " +
				"repeat it or separate with commas for several (see --balance)",
			doc: row{def: "required", text: "an address or a list (`[\"a:80\", \"b:80\"]`), each once; names resolve at each dial " +
				"([several targets](docs/behaviour.md#several-targets))"}},
		{name: "balance", at: func(t *Tunnel) any { return &t.Balance }, def: BalanceFailover,
			flag: "--balance S", usage: "how to pick among several targets: `STRATEGY` failover, round_robin or random",
			check: checkBalance,
			doc:   row{text: "`\"failover\"`, `\"round_robin\"` or `\"random\"`: how several targets share the connections"}},
		{name: "listen_mode", at: func(t *Tunnel) any { return &t.ListenMode }, def: DefaultListenMode,
			flag: "--listen-mode MODE", usage: "permission `MODE` (octal) of a unix:/path listen socket; connecting takes write permission",
			doc: row{text: "permission of a `unix:/path` listen socket, octal, exactly, whatever the umask; " +
				"connecting takes write permission"}},
		{name: "unsafe_listen", at: func(t *Tunnel) any { return &t.UnsafeListen },
			flag: "--unsafe-listen", usage: "client: listen beyond loopback, lending this node's identity to anyone who connects",
			doc: row{text: "client: allow a `listen` beyond loopback (anyone who connects acts as this node), with a WARN"}},
		{name: "server_names", at: func(t *Tunnel) any { return &t.ServerNames },
			doc: row{def: "none", text: "server: SNI names (`a.example`, `*.b.example`) that pick this tunnel on a shared `listen`"}},
		{name: "sni_default", at: func(t *Tunnel) any { return &t.SNIDefault },
			doc: row{text: "server: on a shared `listen`, take a missing or unknown SNI (else refused: `unknown_sni`)"}},
		{name: "passphrase", at: func(t *Tunnel) any { return &t.Passphrase },
			flag: "--passphrase-file FILE / --passphrase-env VAR",
			doc:  row{text: "the cluster passphrase: `file(\"...\")`, `env(\"...\")` or a literal; identity and trust together"}},
		{name: "previous_passphrases", at: func(t *Tunnel) any { return &t.PreviousPassphrases },
			flag: "--previous-passphrase-file FILE / --previous-passphrase-env VAR",
			doc:  row{text: "passphrases whose CAs are still trusted (rotation)"}},
		{name: "cluster", at: func(t *Tunnel) any { return &t.Cluster }, def: defaultCluster,
			flag: "--cluster NAME", usage: "cluster `NAME`, the salt of the passphrase derivation",
			doc: row{text: "salt of the derivation, a DNS label: set one unique to the deployment " +
				"(`pki passphrase` prints one); the default logs a warning"}},
		{name: "allow_weak_passphrase", at: func(t *Tunnel) any { return &t.AllowWeakPassphrase },
			flag: "--allow-weak-passphrase", usage: "accept a passphrase below the policy, with a warning",
			doc: row{text: "accept a passphrase or shared secret below the policy, with a warning"}},
		{name: "shared_secret", at: func(t *Tunnel) any { return &t.SharedSecret },
			flag: "--shared-secret-env VAR",
			doc: row{text: "`env(\"...\")`, `file(\"...\")` or a literal: both ends passtunnel prove the same secret, bound to the TLS " +
				"session, before any byte ([more](docs/behaviour.md#pinning-allow-lists-self-signed-shared-secret))"}},
		connectProxyField,
		{name: "target_check", at: func(t *Tunnel) any { return &t.TargetCheck }, check: notNegative,
			flag: "--target-check D", usage: "dial each target every `DURATION` for /readyz and passtunnel_target_up, 0 = off",
			doc: row{def: "0 (off)", text: "dial each target this often: /readyz fails while all are down " +
				"([more](docs/behaviour.md#target-health-check))"}},
	}, transparentFields...),
}
