#!/usr/bin/env bash
# (c) curl -> nginx over https, ALPN (curl offers h2,http/1.1; nginx picks h2), lab CA made here.
# nginx runs from its own -p prefix with a conf in the temp dir (never /etc/nginx), single process,
# ssl_protocols set explicitly (Debian nginx 1.22 defaults stop at TLSv1.2). Host loopback.
source "$(dirname "$0")/lib.sh"
NAME=curl-nginx
PORT=14433
make_pki ec
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT ssl http2;
    server_name blocked.example;
    ssl_certificate $WORK/leaf.pem;
    ssl_certificate_key $WORK/leaf.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/plain; return 200 "hello from nginx\n"; }
  }
}
CONF
start_tcpdump "$WORK/$NAME.pcap" $PORT
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" &
PIDS+=($!)
wait_port $PORT
SSLKEYLOGFILE="$WORK/$NAME.keylog" timeout 30 curl -sS --cacert "$WORK/ca.pem" \
  --resolve blocked.example:$PORT:127.0.0.1 https://blocked.example:$PORT/ >"$WORK/client.out"
grep -q 'hello from nginx' "$WORK/client.out" || { cat "$WORK/client.out"; exit 1; }
stop_tcpdump
finish $NAME
