# Several tunnels in one process, as a Kubernetes sidecar or a gateway host
# would run them. cert-manager mounts tls.crt, tls.key and ca.crt.
log_level  = "info"
log_format = "json"

tunnel "api" {
  mode   = "server"
  listen = "[::]:8443"                  # IPv6 and IPv4 on a dual-stack host
  target = "unix:/run/app/api.sock"     # the daemon listens on a unix socket

  tls {
    cert        = "/etc/tls/tls.crt"    # key in a separate file
    key         = "/etc/tls/tls.key"
    ca          = "/etc/tls/ca.crt"
    alpn        = ["h2", "http/1.1"]
    min_version = "1.3"
  }

  limits {
    max_connections   = 4096
    handshake_timeout = "10s"
    max_lifetime      = "24h"
  }
}

tunnel "metrics-upstream" {
  mode   = "client"
  listen = "unix:/run/passtunnel/upstream.sock"
  target = "collector.example.com:4443"

  tls {
    system_roots = true                 # a public CA signs the collector
    cert         = "/etc/tls/tls.crt"
    key          = "/etc/tls/tls.key"
    curves       = ["X25519", "P-256"]
  }
}

tunnel "legacy-queue" {
  mode   = "server"
  listen = "0.0.0.0:50001"
  target = "127.0.0.1:50000"

  tls {
    cert          = "/etc/tls/combined.pem" # certificate chain and key in one file
    ca            = "/etc/tls/ca.crt"
    client_auth   = "require"
    max_version   = "1.2"                   # an old client stack that cannot do 1.3
    cipher_suites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
  }
}
