tunnel "daemon-in" {
  mode = "server"
  listen = "0.0.0.0:12552"
  target = "10.77.0.2:2552"
  transparent_source = true
  tls { 
   self_signed = true
   client_auth = "none"
  }
}
tunnel "out" {
  mode         = "client"
  listen       = "127.0.0.1:15001"
  transparent  = "redirect"
  port_map     = { "2552" = 12552, "2553" = 12553 }
  destinations = ["10.77.0.0/16", "10.99.0.1:2553"]
  tls {
    server_name = "node.cluster"
    insecure_skip_verify = true
  }
}
tunnel "out6" {
  mode         = "client"
  listen       = "[::1]:15001"
  transparent  = "tproxy"
  port_map     = { "2552" = 12552 }
  destinations = ["fd77::/64"]
  mark = "0x99"
  tls {
    server_name = "node.cluster"
    insecure_skip_verify = true
  }
}
