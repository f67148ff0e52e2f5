# One node of a cluster: its daemon's port behind a server tunnel, and a
# transparent client tunnel for its daemon's outbound connections.
tunnel "daemon-in" {
  mode   = "server"
  listen = "0.0.0.0:12552"
  target = "127.0.0.1:2552"
  tls {
    self_signed = true
    client_auth = "none"
  }
}

tunnel "daemon-out" {
  mode         = "client"
  listen       = "127.0.0.1:15001"
  transparent  = "redirect"
  port_map     = { "2552" = 12552 }
  destinations = ["10.0.0.0/8"]
  tls {
    server_name = "node.cluster"
    insecure_skip_verify = true
  }
}
