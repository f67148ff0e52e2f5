package proxy

import (
	"errors"
	"net"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// dialFailureReasons name why a dial of a target failed, for the
// per-target failure counters: a closed set, so each target counts them
// in a fixed array of atomics.
var dialFailureReasons = [...]string{"refused", "timeout", "unreachable", "dns", reasonProxyRefused, reasonProxyTimeout, "error"}

// Indexes into dialFailureReasons.
const (
	dialRefused = iota
	dialTimeout
	dialUnreachable
	dialDNS
	dialProxyRefused
	dialProxyTimeout
	dialError
)

// dialFailureReason classifies a failed dial of one target. A CONNECT
// proxy's own failure (proxyFault) never gets here: the target is not to
// blame.
func dialFailureReason(err error) int {
	var pe *proxyError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &pe) && pe.reason == reasonProxyRefused:
		return dialProxyRefused
	case errors.As(err, &pe) && pe.reason == reasonProxyTimeout:
		return dialProxyTimeout
	case errors.As(err, &dns):
		return dialDNS
	case sock.Refused(err):
		return dialRefused
	case sock.Unreachable(err):
		return dialUnreachable
	case errors.As(err, &ne) && ne.Timeout():
		return dialTimeout
	}
	return dialError
}

// failureCounts is a target's failed dials by reason, the reasons never
// seen left out.
func (s *targetState) failureCounts() map[string]uint64 {
	out := map[string]uint64{}
	for i := range s.failures {
		if n := s.failures[i].Load(); n > 0 {
			out[dialFailureReasons[i]] = n
		}
	}
	return out
}
