package proxy

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestDescriptorBudgetReserve(t *testing.T) {
	for _, c := range []struct{ limit, reserve int }{
		{1024, 64}, {20000, 1000}, {1 << 20, 1 << 20 / 20}, {100, 50}, {8, 4},
	} {
		if got := NewDescriptorBudget(c.limit).Reserve(); got != c.reserve {
			t.Errorf("limit %d: reserve %d, want %d", c.limit, got, c.reserve)
		}
	}
	b := NewDescriptorBudget(200) // 136 for connections
	for i := range 68 {
		if !b.take(connDescriptors) {
			t.Fatalf("take %d refused with %d held", i, b.Held())
		}
	}
	if b.take(connDescriptors) || b.Held() != 136 {
		t.Fatalf("take past the reserve allowed, or changed what is held (%d)", b.Held())
	}
	b.give(connDescriptors)
	if !b.take(connDescriptors) {
		t.Fatal("take refused after a give")
	}
	var none *DescriptorBudget
	if !none.take(1 << 30) {
		t.Fatal("no budget refused")
	}
	none.give(1)
}

// budgetOf4 leaves connections 4 descriptors: two connections.
func budgetOf4() *DescriptorBudget { return NewDescriptorBudget(8) }

// Two tunnels share one budget: once one holds all of it, the other
// refuses too (fd_budget, at once, counted and logged); a connection that
// ends gives its descriptors back.
func TestFDBudgetSharedByTunnels(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	fds := budgetOf4()
	opts := func(name string) Options {
		return Options{Name: name, Mode: ModeClient, Target: be.addr(), Limits: testLimits(), TLS: p.ClientTLS(t),
			Descriptors: fds}
	}
	a, _ := startTunnel(t, opts("a"))
	b, blogs := startTunnel(t, opts("b"))

	a1, a2 := dialPlain(t, a.Addr()), dialPlain(t, a.Addr())
	expectEcho(t, a1, "one")
	expectEcho(t, a2, "two")
	if fds.Held() != 4 {
		t.Fatalf("held %d with two connections, want 4", fds.Held())
	}
	if d := expectClosed(t, dialPlain(t, b.Addr())); d > waitLimit/2 {
		t.Errorf("refused connection took %v to close", d)
	}
	blogs.waitLine(t, "level=WARN", "connection refused", "reason=fd_budget")
	if s := b.Stats(); s.Refused[reasonFDBudget] != 1 || s.Accepted != 0 {
		t.Errorf("b's stats %+v, want one fd_budget refusal and nothing accepted", s)
	}
	expectEcho(t, a1, "one still works")

	a1.Close()
	eventually(t, func() bool { return fds.Held() == 2 }, "2 held after a close")
	b1 := dialPlain(t, b.Addr())
	expectEcho(t, b1, "room again")
	a2.Close()
	b1.Close()
	eventually(t, func() bool { return fds.Held() == 0 }, "nothing held after every close")
}

// A shared listener refuses a connection before reading its ClientHello
// when the budget is spent, and holds a descriptor only while it reads.
func TestFDBudgetGroup(t *testing.T) {
	s := startGroup(t)
	tun := s.join(t, "a", true, testLimits())
	fds := budgetOf4()
	o := *tun.opts.Load()
	o.Descriptors = fds
	if err := tun.Update(o); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := tls.Client(dialPlain(t, s.g.Addr()), &tls.Config{ServerName: "a.example", RootCAs: s.p.Pool})
		c.SetDeadline(time.Now().Add(waitLimit))
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || strings.TrimSpace(line) != "a" {
			t.Fatalf("connection %d: greeting %q, %v", i, line, err)
		}
	}
	eventually(t, func() bool { return fds.Held() == 4 }, "4 held with two connections")
	expectClosed(t, dialPlain(t, s.g.Addr()))
	eventually(t, func() bool { return s.g.Stats().Refused[reasonFDBudget] == 1 },
		"group refusals %v, want one fd_budget", s.g.Stats().Refused)
	if fds.Held() != 4 {
		t.Errorf("held %d after a refusal, want 4", fds.Held())
	}
}
