package daemon

import (
	"fmt"
	"net"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// bind listens for tunnel t as b says, then tells b's identity the address
// (an acme tunnel starts getting its certificate, which the CA validates
// on this listener). A client tunnel is checked where it is bound too: config
// takes the name localhost for loopback, and here it must have resolved
// to it. Beyond loopback with unsafe_listen, it warns.
func (f *Fleet) bind(t *config.Tunnel, b builtTunnel) (*proxy.Tunnel, error) {
	tun, err := f.listenTunnel(t, b.opts)
	if err != nil {
		return nil, err
	}
	exposed := t.Mode == config.ModeClient && !onLoopback(tun.Addr())
	if exposed && !t.UnsafeListen {
		unsafe := "unsafe_listen = true"
		if t.Fields["listen"].Flag != "" {
			unsafe = "--unsafe-listen"
		}
		err = Located{fmt.Errorf("%s: tunnel %q: listen: %q is bound to %s, which is not a loopback address: "+
			"a client tunnel lends this node's identity to anyone who connects to it; listen on 127.0.0.1 or [::1], "+
			"or set %s", t.Where("listen"), t.Name, t.Listen, tun.Addr(), unsafe)}
	}
	if err == nil {
		if perr := b.id.Listening(tun.Addr()); perr != nil {
			err = Located{perr} // pki names the tunnel and field
		}
	}
	if err != nil {
		_ = tun.Close()
		f.closeIfEmpty(t.Listen.String()) // a group the tunnel started
		return nil, err
	}
	if exposed {
		f.log.Warn("client tunnel listens beyond loopback (unsafe_listen): anyone who can connect to it acts as this node toward its target",
			"tunnel", t.Name, "listen", tun.Addr().String())
	}
	return tun, nil
}

// onLoopback reports whether a bound address is reachable from this host
// only: a loopback TCP address, or a unix socket (its mode says who).
func onLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return !ok || tcp.IP.IsLoopback()
}

// proxyAddress is a config address as proxy takes it.
func proxyAddress(a config.Address) proxy.Address {
	return proxy.Address{Network: proxy.Network(a.Network), Addr: a.Addr}
}

// listenPlan is how check shows where a tunnel listens: a unix socket with
// its mode, a client tunnel allowed beyond loopback marked as such.
func listenPlan(t *config.Tunnel) string {
	switch {
	case t.Listen.Network == config.NetUnix:
		return fmt.Sprintf("%s (mode %04o)", t.Listen, uint32(t.ListenMode))
	case t.UnsafeListen:
		return t.Listen.String() + " (unsafe_listen)"
	}
	return t.Listen.String()
}
