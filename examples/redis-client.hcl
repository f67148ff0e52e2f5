# Each application host: the app talks to 127.0.0.1:6379 as if Redis were
# local; passtunnel carries it over mTLS to the Redis host's server tunnel.
log_level  = "info"
log_format = "text"

tunnel "redis" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "redis.internal:6380"

  tls {
    ca          = "/etc/passtunnel/tls/ca.crt"
    cert        = "/etc/passtunnel/tls/client.crt"
    key         = "/etc/passtunnel/tls/client.key"
    server_name = "redis.internal" # checked against the server's certificate
  }

  limits {
    connect_timeout = "3s"
  }
}
