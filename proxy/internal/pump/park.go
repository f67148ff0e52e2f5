package pump

import (
	"errors"
	"time"
)

// Goroutine stacks were most of what an idle connection cost, so a
// direction gives up its goroutine when it goes idle.
//
// Moving bytes (tls.Conn.Read and Write, AES-GCM, socket writes) grows a
// goroutine's stack to 4 KiB or more, while a goroutine parked waiting for
// data uses well under 1 KiB of it. The GC shrinks a stack only while under
// a quarter of it is in use, so a parked goroutine that once moved bytes
// keeps 4 KiB for good. So a direction sets a read deadline on its socket,
// ParkAfter ahead, when it starts and after it moved bytes (arm). When that
// expires (errIdle) with no byte moved since (idle), it returns errMigrate,
// and Pump.run parks the direction in the idle set with no goroutine
// (parkIdle, on Linux), or else carries on with it on a new goroutine,
// which parks at once with a small stack. A busy connection re-arms once
// per ParkAfter; one that goes idle pays an epoll registration (or a
// goroutine start) per direction.
const ParkAfter = 500 * time.Millisecond

var (
	// errIdle: the deadline set by arm expired while waiting for data.
	errIdle = errors.New("passtunnel: idle")
	// errMigrate: the direction gives up its goroutine (see Pump.run).
	errMigrate = errors.New("passtunnel: idle direction gives up its goroutine")
)

// arm starts the idle clock, unless it runs: when a direction starts on a
// goroutine, and after it moved bytes. A deadline that cannot be set only
// means the goroutine stays.
func (d *direction) arm(s *sockReader) {
	if !s.armed && s.conn.SetReadDeadline(time.Now().Add(ParkAfter)) == nil {
		s.armed, s.mark = true, d.n
	}
}

// idle handles errIdle: if bytes moved meanwhile, the clock starts over;
// if not, the deadline is cleared and the goroutine gives way.
func (d *direction) idle(s *sockReader) error {
	if d.n != s.mark {
		s.mark = d.n
		return s.conn.SetReadDeadline(time.Now().Add(ParkAfter))
	}
	s.armed = false
	if err := s.conn.SetReadDeadline(time.Time{}); err != nil {
		return err
	}
	return errMigrate
}
