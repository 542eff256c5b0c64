#!/usr/bin/env bash
# (f) headless Debian Chromium -> openssl s_server (TLS 1.3), inside a network namespace whose
# loopback has MTU 1500, so Chromium's ~1.8 KB ClientHello (GREASE, X25519MLKEM768 key share)
# really spans two TCP segments. Chromium resolves blocked.example to 127.0.0.1 by
# --host-resolver-rules and ignores the lab certificate; its keylog comes from --ssl-key-log-file.
source "$(dirname "$0")/lib.sh"
NAME=chromium-netns
PORT=14436
make_netns
make_pki ec
start_tcpdump "$WORK/$NAME.pcap" $PORT
start_s_server -accept 127.0.0.1:$PORT -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" \
  -tls1_3 -alpn http/1.1 -WWW -num_tickets 1
wait_port $PORT
in_ns timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$WORK/profile" --host-resolver-rules="MAP blocked.example 127.0.0.1" \
  --ignore-certificate-errors --ssl-key-log-file="$WORK/$NAME.keylog" \
  --dump-dom "https://blocked.example:$PORT/hello.txt" >"$WORK/client.out" 2>"$WORK/chromium.err"
grep -q 'hello from the sultry lab' "$WORK/client.out" || { cat "$WORK/client.out" "$WORK/chromium.err"; exit 1; }
stop_tcpdump
finish $NAME
