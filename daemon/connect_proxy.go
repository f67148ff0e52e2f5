package daemon

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// connectProxyOptions turns t's connect_proxy URL into proxy's options:
// the proxy's address and the Proxy-Authorization value of its
// credentials, so that proxy never handles the URL. The zero value (no
// proxy) for a tunnel without one. The error names the source, never the
// URL.
func connectProxyOptions(t *config.Tunnel) (proxy.ConnectProxy, error) {
	if !t.ConnectProxy.IsSet() {
		return proxy.ConnectProxy{}, nil
	}
	p, err := config.ParseConnectProxy(t.ConnectProxy.Reveal())
	if err != nil {
		return proxy.ConnectProxy{}, fmt.Errorf("%s: tunnel %q: connect_proxy: %s: %w", t.Where("connect_proxy"), t.Name, t.ConnectProxy.Source, err)
	}
	out := proxy.ConnectProxy{Addr: p.Addr}
	if p.User != "" || p.Password != "" {
		out.Authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(p.User+":"+p.Password))
	}
	return out, nil
}

// writeConnectProxyPlan shows the proxy a client tunnel dials through: its
// address and whether it gets credentials, never them.
func writeConnectProxyPlan(b *strings.Builder, t *config.Tunnel) {
	if !t.ConnectProxy.IsSet() {
		return
	}
	p, err := config.ParseConnectProxy(t.ConnectProxy.Reveal())
	if err != nil {
		return
	}
	auth := "no credentials"
	if p.User != "" || p.Password != "" {
		auth = "Basic credentials"
	}
	fmt.Fprintf(b, "  %-9s HTTP CONNECT through %s (%s, from %s), each target in turn\n", "via", p.Addr, auth, t.ConnectProxy.Source)
}
