package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Shares of the integrity transfers that inject a fault.
const (
	shareRefused = 0.03 // through the tunnels whose target refuses
	shareReset   = 0.05 // the backend resets mid-stream
)

// churnMax is the largest request or reply of a churn connection.
const churnMax = 1024

// sharePaused is the share of healthy integrity transfers that fall
// silent for a while in the middle (see header.pause); the pause is
// between pauseMin and pauseMin+pauseSpread, above the tunnels' 500 ms
// idle threshold.
const (
	sharePaused = 0.2
	pauseMin    = 600 * time.Millisecond
	pauseSpread = 900 * time.Millisecond
)

// plan is one transfer to run: where, what the header says, and which
// fault (if any) it injects.
type plan struct {
	kind  string // connIntegrity, connChurn or connRefused
	fault string // "" for a healthy transfer, else faultReset or faultRefused
	addr  string
	h     header
}

func (p plan) String() string {
	s := fmt.Sprintf("transfer %d (%s, %s, request %d B, reply %d B", p.h.id, p.kind, p.h.mode, p.h.reqLen, p.h.respLen)
	if p.h.mode == resetMidStream {
		s += fmt.Sprintf(", reset after %d B in and %d B out", p.h.resetAfterReq, p.h.resetAfterResp)
	}
	if p.h.pause > 0 {
		s += fmt.Sprintf(", silent for %v midway", p.h.pause)
	}
	return s + ")"
}

// planner makes one worker's transfers from its own random source, so
// that a seed repeats each worker's sequence of sizes, modes and faults.
type planner struct {
	rnd     *rand.Rand
	seed    uint64
	maxSize int64
	addrs   addrs
	nextID  func() uint64
}

// addrs are the client tunnels' listeners (where transfers go) and the
// server tunnel's (where hostile connections go).
type addrs struct {
	client, clientDown, server string
}

// size is 0 one time in twenty, otherwise log-uniform in [1, max]: as
// many transfers of a few bytes as of a few MiB.
func (p *planner) size(max int64) int64 {
	if max <= 0 || p.rnd.IntN(20) == 0 {
		return 0
	}
	return min(max, int64(math.Exp(p.rnd.Float64()*math.Log(float64(max)+1))))
}

func (p *planner) base(kind string, m mode, maxSize int64) plan {
	return plan{kind: kind, addr: p.addrs.client, h: header{
		id: p.nextID(), mode: m, seed: p.seed, reqLen: p.size(maxSize), respLen: p.size(maxSize)}}
}

// integrity is a transfer of random sizes in a random close order, or
// one of the injected faults.
func (p *planner) integrity() plan {
	switch r := p.rnd.Float64(); {
	case r < shareRefused:
		pl := p.base(connRefused, clientFirst, 64<<10)
		// No reply is due: any byte that comes back is a corrupted one.
		pl.fault, pl.addr, pl.h.respLen = faultRefused, p.addrs.clientDown, 0
		return pl
	case r < shareRefused+shareReset:
		pl := p.base(connIntegrity, resetMidStream, p.maxSize)
		pl.fault = faultReset
		pl.h.resetAfterReq = p.rnd.Int64N(pl.h.reqLen + 1)
		pl.h.resetAfterResp = p.rnd.Int64N(pl.h.respLen + 1)
		return pl
	}
	modes := []mode{clientFirst, backendFirst, bothAtOnce}
	pl := p.base(connIntegrity, modes[p.rnd.IntN(len(modes))], p.maxSize)
	if p.rnd.Float64() < sharePaused {
		pl.h.pause = pauseMin + time.Duration(p.rnd.Int64N(int64(pauseSpread/time.Millisecond)))*time.Millisecond
	}
	return pl
}

// churn is a short request and reply on a new connection.
func (p *planner) churn() plan {
	return p.base(connChurn, clientFirst, churnMax)
}
