#!/usr/bin/env bash
# (d) the ClientHello of an openssl s_client TLS 1.3 handshake split over two TCP segments by
# captures/split-relay.ts (two write()s, Nagle off, 50 ms apart; the cut is inside the SNI)
# the handshake. tcpdump listens only on the relay->server port, so the pcap holds one flow.
source "$(dirname "$0")/lib.sh"
NAME=openssl-split-segments
PORT=14434
RELAY=14534
make_pki ec
start_tcpdump "$WORK/$NAME.pcap" $PORT
start_s_server -accept 127.0.0.1:$PORT -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" \
  -tls1_3 -alpn http/1.1 -WWW -num_tickets 1
wait_port $PORT
(cd "$REPO" && exec node_modules/.bin/tsx captures/split-relay.ts --listen $RELAY --connect $PORT \
  --mode segments --sni blocked.example) >"$WORK/relay.out" 2>&1 &
PIDS+=($!)
wait_port $RELAY
printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | timeout 30 openssl s_client -connect 127.0.0.1:$RELAY -tls1_3 \
  -servername blocked.example -alpn h2,http/1.1 -keylogfile "$WORK/$NAME.keylog" -quiet -ign_eof \
  -CAfile "$WORK/ca.pem" >"$WORK/client.out" 2>&1
grep -q 'hello from the sultry lab' "$WORK/client.out" || { cat "$WORK/client.out" "$WORK/relay.out"; exit 1; }
stop_tcpdump
finish $NAME
