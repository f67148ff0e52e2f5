package config

import (
	"fmt"
	"time"
)

// Limits bounds what a tunnel will spend on its peers.
type Limits struct {
	MaxConnections int
	AcceptRate     float64
	PerSourceRate  float64
	// PerSourceHandshakes bounds the connections from one client address
	// (an IPv6 /64) admitted and still in their handshake; 0 = no limit.
	PerSourceHandshakes int
	HandshakeTimeout    time.Duration
	ConnectTimeout      time.Duration
	IdleTimeout         time.Duration // 0 = none
	MaxLifetime         time.Duration // 0 = none
	DrainTimeout        time.Duration
	// CloseTimeout bounds the direction still open once the other ended
	// (half-close); WriteTimeout a write that makes no progress. 0 = none.
	CloseTimeout time.Duration
	WriteTimeout time.Duration
	// MaxHandshakes bounds the handshakes computing at once; the others
	// wait in accept order. 0 = sized to the CPUs.
	MaxHandshakes int
}

// limitsFields is the table of the limits block.
var limitsFields = block[Limits]{
	name: "limits",
	in:   func(t *Tunnel) *Limits { return &t.Limits },
	fields: []field[Limits]{
		{name: "max_connections", at: func(l *Limits) any { return &l.MaxConnections }, def: 1024, check: atLeastOne,
			flag: "--max-connections N", usage: "open connections at most; the next one is refused at once (`N`)",
			doc: row{text: "per tunnel"}},
		{name: "accept_rate", at: func(l *Limits) any { return &l.AcceptRate }, check: zeroUnlimited,
			flag: "--accept-rate R", usage: "new connections per second, 0 = unlimited; burst max(1, RATE) (`RATE`)",
			doc:     row{text: "new connections per second for the tunnel, 0 = unlimited; burst `max(1, ceil(rate))`"},
			flagDoc: row{name: "`--accept-rate R` / `--per-source-rate R`"}},
		{name: "per_source_rate", at: func(l *Limits) any { return &l.PerSourceRate }, check: zeroUnlimited,
			flag: "--per-source-rate R", usage: "new connections per second per client IP (IPv6 by /64), 0 = unlimited (`RATE`)",
			doc:     row{text: "the same per client IP (an IPv6 /64 counts as one client), 0 = unlimited"},
			flagDoc: inRowAbove},
		{name: "per_source_handshakes", at: func(l *Limits) any { return &l.PerSourceHandshakes }, def: 64, check: zeroNoLimit,
			flag: "--per-source-handshakes N", usage: "connections per client IP (IPv6 by /64) still in their handshake; " +
				"the next one is refused at once, 0 = no limit (`N`)",
			doc: row{text: "server: connections from one client IP (IPv6: /64) not through their handshake yet; " +
				"the next one is closed at once, 0 = no limit ([more](docs/behaviour.md#rate-limits))"}},
		{name: "handshake_timeout", at: func(l *Limits) any { return &l.HandshakeTimeout }, def: 10 * time.Second, check: bounded,
			flag: "--handshake-timeout D", usage: "bound on the TLS handshake (`DURATION`)",
			doc: row{text: "> 0"}},
		{name: "connect_timeout", at: func(l *Limits) any { return &l.ConnectTimeout }, def: 10 * time.Second, check: bounded,
			flag: "--connect-timeout D", usage: "bound on dialing the target (`DURATION`)",
			doc: row{text: "> 0"}},
		{name: "idle_timeout", at: func(l *Limits) any { return &l.IdleTimeout }, check: notNegative,
			flag: "--idle-timeout D", usage: "close a connection idle this long, 0 = never (`DURATION`)",
			doc: row{text: "0 = none"}},
		{name: "max_lifetime", at: func(l *Limits) any { return &l.MaxLifetime }, check: notNegative,
			flag: "--max-lifetime D", usage: "close a connection open this long, 0 = never (`DURATION`)",
			doc: row{text: "0 = none"}},
		{name: "drain_timeout", at: func(l *Limits) any { return &l.DrainTimeout }, def: 30 * time.Second, check: notNegative,
			flag: "--drain-timeout D", usage: "on shutdown, wait this long for open connections (`DURATION`)",
			doc: row{text: "on SIGTERM/SIGINT (or when a reload removes the tunnel), how long open connections may finish"}},
		{name: "close_timeout", at: func(l *Limits) any { return &l.CloseTimeout }, def: 60 * time.Second, check: notNegative,
			flag: "--close-timeout D", usage: "once one side closed, how long the other may go on, 0 = no limit (`DURATION`)",
			doc: row{text: "after one side closed, the other's time to finish; 0 = none ([more](docs/behaviour.md#stalled-and-half-closed-connections))"}},
		{name: "write_timeout", at: func(l *Limits) any { return &l.WriteTimeout }, def: 5 * time.Minute, check: notNegative,
			flag: "--write-timeout D", usage: "end a connection whose write makes no progress this long, 0 = never (`DURATION`)",
			doc: row{text: "a write without progress this long ends the connection; 0 = none"}},
		{name: "max_handshakes", at: func(l *Limits) any { return &l.MaxHandshakes }, check: zeroAuto,
			flag: "--max-handshakes N", usage: "TLS handshakes computing at once, the others wait in accept order; " +
				"0 = 32 per CPU, at least 64 (`N`)",
			doc: row{text: "computing at once, others queue; 0 = 32 per CPU, at least 64 ([more](docs/behaviour.md#handshake-storms))"}},
	},
}

// The checks a table entry may name. Each returns what is wrong with the
// value p points at, or "".

// atLeastOne is for a count that 0 would make useless.
func atLeastOne(p any) string {
	if n := *p.(*int); n < 1 {
		return fmt.Sprintf("must be at least 1, not %d", n)
	}
	return ""
}

// zeroUnlimited is for a rate where 0 turns the limit off.
func zeroUnlimited(p any) string { return negative(p, "must not be negative (0 means unlimited)") }

// zeroNoLimit is for a count where 0 turns the limit off.
func zeroNoLimit(p any) string { return negative(p, "must not be negative (0 means no limit)") }

// zeroAuto is for a count where 0 lets passtunnel size it.
func zeroAuto(p any) string { return negative(p, "must not be negative (0 means sized to the CPUs)") }

// notNegative is for a duration where 0 means none.
func notNegative(p any) string { return negative(p, "must not be negative") }

// bounded is for a wait that 0 would leave unbounded.
func bounded(p any) string {
	if msg := negative(p, "must not be negative"); msg != "" || *p.(*time.Duration) != 0 {
		return msg
	}
	return "must be more than 0: every wait needs a bound"
}

func negative(p any, msg string) string {
	var neg bool
	switch p := p.(type) {
	case *int:
		neg = *p < 0
	case *float64:
		neg = *p < 0
	case *time.Duration:
		neg = *p < 0
	default:
		panic(fmt.Sprintf("config: no sign check for %T", p))
	}
	if neg {
		return msg
	}
	return ""
}
