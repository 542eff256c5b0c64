#!/usr/bin/env bash
# (g) TLS 1.3 with a HelloRetryRequest: s_client offers groups P-256 then X25519 (key share only
# for P-256), s_server accepts only X25519, so the server answers with an HRR and the client sends
# a second ClientHello with an X25519 key share. Host loopback.
source "$(dirname "$0")/lib.sh"
NAME=openssl-tls13-hrr
PORT=14437
make_pki ec
start_tcpdump "$WORK/$NAME.pcap" $PORT
start_s_server -accept 127.0.0.1:$PORT -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" \
  -tls1_3 -groups X25519 -WWW -num_tickets 1
wait_port $PORT
printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -connect 127.0.0.1:$PORT -tls1_3 \
  -groups P-256:X25519 -servername blocked.example -keylogfile "$WORK/$NAME.keylog" -quiet -ign_eof \
  -CAfile "$WORK/ca.pem" >"$WORK/client.out" 2>&1
grep -q 'hello from the sultry lab' "$WORK/client.out" || { cat "$WORK/client.out"; exit 1; }
stop_tcpdump
finish $NAME
