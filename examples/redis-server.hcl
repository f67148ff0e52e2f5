# Host of a legacy daemon that only speaks cleartext: Redis stays bound to
# 127.0.0.1:6379 and passtunnel is the only thing reachable from the network.
# stunnel equivalent: [redis] accept = 0.0.0.0:6380, connect = 127.0.0.1:6379,
# verifyChain = yes.
log_level  = "info"
log_format = "json"

tunnel "redis" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"

  tls {
    cert        = "/etc/passtunnel/tls/tls.crt"
    key         = "/etc/passtunnel/tls/tls.key"
    ca          = "/etc/passtunnel/tls/ca.crt" # clients must hold a cert from this CA
    client_auth = "require"
    min_version = "1.2"
  }

  limits {
    max_connections   = 512
    handshake_timeout = "5s"
    idle_timeout      = "1h"
    drain_timeout     = "30s"
  }
}
