package proxy

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// named is a backend handler that first says who it is, then echoes.
func named(name string) func(net.Conn) {
	return func(c net.Conn) {
		if _, err := io.WriteString(c, name); err == nil {
			echo(c)
		}
	}
}

func expectGreeting(t *testing.T, c net.Conn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	defer c.SetReadDeadline(time.Time{})
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("greeting: got %q (%v), want %q", got, err, want)
	}
}

func TestUpdateKeepsOpenConnectionsOnOldSettings(t *testing.T) {
	p := pkitest.NewPKI(t)
	a := startBackend(t, "tcp", "127.0.0.1:0", nil, named("A"))
	b := startBackend(t, "tcp", "127.0.0.1:0", nil, named("B"))
	opts := Options{Mode: ModeServer, Target: a.addr(), Limits: testLimits(), TLS: p.ServerTLS(t)}
	tun, logs := startTunnel(t, opts)

	old := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectGreeting(t, old, "A")

	opts.Name, opts.Listen, opts.Target = "test", tcpAddr("127.0.0.1:0"), b.addr()
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.waitLine(t, "tunnel updated", "target="+b.addr().Addr)

	fresh := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectGreeting(t, fresh, "B")
	expectEcho(t, fresh, "new settings")
	expectEcho(t, old, "still on the old target")
	if got := tun.Stats().Active; got != 2 {
		t.Errorf("active connections = %d, want 2", got)
	}
}

func TestUpdateRefusesNewListenOrName(t *testing.T) {
	p := pkitest.NewPKI(t)
	opts := Options{Mode: ModeServer, Target: tcpAddr("127.0.0.1:1"), Limits: testLimits(),
		TLS: p.ServerTLS(t)}
	tun, _ := startTunnel(t, opts)
	opts.Name, opts.Listen = "test", tcpAddr("127.0.0.1:0")

	moved := opts
	moved.Listen = tcpAddr("127.0.0.1:1")
	if err := tun.Update(moved); err == nil || !strings.Contains(err.Error(), "listen address") {
		t.Errorf("Update with a new listen address: err = %v", err)
	}
	renamed := opts
	renamed.Name = "other"
	if err := tun.Update(renamed); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("Update with a new name: err = %v", err)
	}
	noTLS := opts
	noTLS.TLS = nil
	if err := tun.Update(noTLS); err == nil {
		t.Error("Update without a TLS config succeeded")
	}
}

func TestStopAcceptingKeepsOpenConnections(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, _ := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(),
		TLS: p.ServerTLS(t)})
	open := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, open, "before")

	if err := tun.StopAccepting(); err != nil {
		t.Fatal(err)
	}
	// The address is free at once: another listener can take it.
	ln, err := net.Listen("tcp", tun.Addr().String())
	if err != nil {
		t.Fatalf("address still taken after StopAccepting: %v", err)
	}
	ln.Close()
	expectEcho(t, open, "after")
}
