# /etc/passtunnel/passtunnel.hcl of passtunnel.service, with its tunnel
# "redis" on the socket passtunnel-redis.socket binds (FileDescriptorName=
# redis): systemd holds the socket, so port 6380 (or 443) needs no
# capability, and connections wait in its queue while the service restarts.
# `systemctl reload passtunnel` may change this tunnel; it keeps the socket.
log_level  = "info"
log_format = "json"

tunnel "redis" {
  mode   = "server"
  listen = "systemd:redis"
  target = "127.0.0.1:6379"

  tls {
    cert        = "/etc/passtunnel/tls/tls.crt"
    key         = "/etc/passtunnel/tls/tls.key"
    ca          = "/etc/passtunnel/tls/ca.crt"
    client_auth = "require"
  }
}
