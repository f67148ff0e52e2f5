package proxy

import (
	"net"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// A checked target is down while nothing listens and up once something
// does, with no connection through the tunnel; a successful check also
// ends the backoff a failed connection started. Turning checks off
// forgets the verdict.
func TestTargetCheck(t *testing.T) {
	p := pkitest.NewPKI(t)
	dead := deadTarget(t)
	opts := Options{Name: "test", Mode: ModeServer, Listen: tcpAddr("127.0.0.1:0"), Targets: []Address{dead},
		Limits: testLimits(), TLS: p.ServerTLS(t), TargetCheck: 10 * time.Millisecond}
	tun, logs := startTunnel(t, opts)
	eventually(t, func() bool { return targetStats(tun, dead).CheckErr != nil }, "no failed check of %s", dead)
	if s := targetStats(tun, dead); s.Up || s.OK+s.Failed != 0 {
		t.Errorf("dead target: %+v; want down, and no dial counted (checks are not connections)", s)
	}
	logs.waitLine(t, "target check failed", dead.String())
	answer(t, tun, p) // a connection fails: backoff from now
	if s := targetStats(tun, dead); s.Failed != 1 {
		t.Fatalf("after a connection: %+v", s)
	}

	ln, err := net.Listen("tcp", dead.Addr) // the target comes up
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	eventually(t, func() bool { return targetStats(tun, dead).Up }, "target %s never up after it listened", dead)
	logs.waitLine(t, "target up again", "target_check")

	ln.Close()
	eventually(t, func() bool { return !targetStats(tun, dead).Up }, "target %s still up after it closed", dead)
	opts.TargetCheck = 0
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { s := targetStats(tun, dead); return s.Up && s.CheckErr == nil },
		"checks off, the verdict is kept: %+v", targetStats(tun, dead))
}
