package proxy

import (
	"sync/atomic"
	"time"
)

// handshakeBounds are the upper bounds, in seconds, of the handshake
// duration histogram: from a resumed session on loopback (under a
// millisecond) to a handshake_timeout of tens of seconds. Fixed, so that
// proxy needs no metrics library and the histogram costs a few atomics.
var handshakeBounds = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// durationBounds are the upper bounds, in seconds, of the connection
// duration histogram: from a connection refused at once to one a day long
// (idle_timeout and max_lifetime end most well before).
var durationBounds = [...]float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400}

// maxBuckets is the most bounds a histogram takes.
const maxBuckets = 16

// Histogram is a snapshot of a duration histogram in Prometheus' shape.
type Histogram struct {
	// Bounds are the upper bounds of the buckets, in seconds, ascending.
	Bounds []float64
	// Cumulative[i] counts the observations <= Bounds[i].
	Cumulative []uint64
	// Count is the number of observations (the +Inf bucket), Sum their
	// total in seconds.
	Count uint64
	Sum   float64
}

// histogram records durations with atomic counters only: observe runs on
// every handshake or close, and a snapshot may run concurrently with it. A snapshot
// taken during an observation may see the bucket before the count; each
// counter is still monotonic, which is what a scraper relies on. Its
// bounds are passed by the caller, the same on every call, so that the
// zero value is ready and costs no pointer.
type histogram struct {
	buckets [maxBuckets]atomic.Uint64 // not cumulative
	count   atomic.Uint64
	sumNano atomic.Uint64
}

func (h *histogram) observe(bounds []float64, d time.Duration) {
	d = max(d, 0)
	s := d.Seconds()
	for i, b := range bounds[:min(len(bounds), maxBuckets)] {
		if s <= b {
			h.buckets[i].Add(1)
			break
		}
	}
	h.sumNano.Add(uint64(d))
	h.count.Add(1)
}

func (h *histogram) snapshot(bounds []float64) Histogram {
	bounds = bounds[:min(len(bounds), maxBuckets)]
	out := Histogram{
		Bounds:     append([]float64(nil), bounds...), // the caller may keep or change it
		Cumulative: make([]uint64, len(bounds)),
		Count:      h.count.Load(),
		Sum:        time.Duration(h.sumNano.Load()).Seconds(),
	}
	var acc uint64
	for i := range bounds {
		acc += h.buckets[i].Load()
		out.Cumulative[i] = acc
	}
	// Read after the buckets: an observation in between must not make a
	// bucket exceed the total.
	out.Count = max(out.Count, acc)
	return out
}
