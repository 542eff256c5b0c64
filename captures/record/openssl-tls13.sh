#!/usr/bin/env bash
# (a) openssl s_client <-> openssl s_server, TLS 1.3, SNI blocked.example, ALPN h2,http/1.1 offered
# (server prefers http/1.1), one small HTTP/1.0 GET over -WWW. Host loopback.
source "$(dirname "$0")/lib.sh"
NAME=openssl-tls13
PORT=14431
make_pki ec
start_tcpdump "$WORK/$NAME.pcap" $PORT
start_s_server -accept 127.0.0.1:$PORT -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" \
  -tls1_3 -alpn http/1.1 -WWW -num_tickets 1
wait_port $PORT
printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -connect 127.0.0.1:$PORT -tls1_3 \
  -servername blocked.example -alpn h2,http/1.1 -keylogfile "$WORK/$NAME.keylog" -quiet -ign_eof \
  -CAfile "$WORK/ca.pem" >"$WORK/client.out" 2>&1
grep -q 'hello from the sultry lab' "$WORK/client.out" || { cat "$WORK/client.out"; exit 1; }
stop_tcpdump
finish $NAME
