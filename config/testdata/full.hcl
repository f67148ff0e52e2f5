# Every field of the schema that issue 2 supports, each set to a non-default value.
log_level  = "debug"
log_format = "json"

tunnel "redis" {
  mode   = "server"
  listen = "[::1]:6380"
  target = "unix:/run/redis.sock"

  cluster               = "passtunnel"
  allow_weak_passphrase = false
  previous_passphrases  = []

  tls {
    cert          = "tls.crt"
    key           = "tls.key"
    ca            = "ca.crt"
    client_auth   = "request"
    pin           = []
    self_signed   = false
    min_version   = "1.3"
    max_version   = "1.3"
    cipher_suites = []
    curves        = ["X25519MLKEM768", "secp256r1"]
    alpn          = ["h2", "http/1.1"]
  }

  allow {
    cn  = []
    dns = []
    uri = []
    ou  = []
  }

  limits {
    max_connections       = 7
    accept_rate           = 0
    per_source_rate       = 0
    per_source_handshakes = 3
    handshake_timeout     = "3s"
    connect_timeout       = "4s"
    idle_timeout          = "5m"
    max_lifetime          = "1h"
    drain_timeout         = "0s"
  }

  proxy_protocol {
    accept   = "none"
    trusted  = []
    send     = "none"
    tls_tlvs = false
  }
}

tunnel "redis-client" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db.internal:6380"

  unsafe_listen = false

  tls {
    cert                 = "${env("PT_TEST_DIR")}/client.crt"
    ca                   = file("ca-path.txt")
    server_name          = "db.internal"
    system_roots         = false
    insecure_skip_verify = false
    min_version          = "1.2"
    cipher_suites        = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    session_resumption   = false
  }
}
