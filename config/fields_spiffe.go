package config

// SPIFFE is the spiffe { } block: the tunnel's identity and trust come from
// a SPIFFE Workload API (a SPIRE agent): its X.509-SVID is presented, and
// peers are verified against the X.509 bundles it gives.
type SPIFFE struct {
	Pos Pos
	// Socket is the Workload API's address, unix:///path or tcp://ip:port;
	// empty: the SPIFFE_ENDPOINT_SOCKET environment variable, read when the
	// tunnel is built.
	Socket string
}

// spiffeFields is the table of the spiffe block.
var spiffeFields = block[SPIFFE]{
	name: "spiffe",
	doc: row{name: "`spiffe { }`", text: "identity and trust from a SPIFFE Workload API (see [SPIFFE](docs/behaviour.md#spiffe)); " +
		"instead of `tls.cert`/`ca`/`pin`, `acme`, `passphrase`"},
	ptr: func(t *Tunnel) **SPIFFE { return &t.SPIFFE },
	pos: func(s *SPIFFE) *Pos { return &s.Pos },
	fields: []field[SPIFFE]{
		{name: "socket", at: func(s *SPIFFE) any { return &s.Socket },
			flag: "--spiffe-socket ADDR", usage: "take identity and trust from the SPIFFE Workload API at `ADDR` (unix:///path or tcp://ip:port)",
			doc: row{def: "`$SPIFFE_ENDPOINT_SOCKET`", text: "Workload API address, `unix:///path` or `tcp://ip:port`"}},
	},
}
