#!/usr/bin/env bash
# (b) openssl s_client <-> openssl s_server, TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256 (RSA leaf),
# SNI blocked.example, one small HTTP/1.0 GET over -WWW. Host loopback.
source "$(dirname "$0")/lib.sh"
NAME=openssl-tls12
PORT=14432
make_pki rsa
start_tcpdump "$WORK/$NAME.pcap" $PORT
start_s_server -accept 127.0.0.1:$PORT -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" \
  -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -no_ticket -WWW
wait_port $PORT
printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -connect 127.0.0.1:$PORT -tls1_2 \
  -cipher ECDHE-RSA-AES128-GCM-SHA256 -servername blocked.example \
  -keylogfile "$WORK/$NAME.keylog" -quiet -ign_eof -CAfile "$WORK/ca.pem" >"$WORK/client.out" 2>&1
grep -q 'hello from the sultry lab' "$WORK/client.out" || { cat "$WORK/client.out"; exit 1; }
stop_tcpdump
finish $NAME
