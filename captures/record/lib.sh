# Shared helpers for the capture recording scripts (sourced, not run).
# Every recording: a temp dir, a lab CA + leaf cert made here, tcpdump -U on loopback (or inside a
# network namespace we create) filtered on the lab port, the real peers, then the committed oracle
# regenerated from the new pcap by tshark (captures/write-oracle.ts).
# Only ever loopback or our own namespaces: no other address is touched.
set -euo pipefail

CAPTURES="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$CAPTURES/.." && pwd)"
WORK="$(mktemp -d /tmp/sultry-record.XXXXXX)"
PIDS=()
NETNS=""
NSEXEC=()  # prefix that runs a command inside the recording namespace, empty on host loopback

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$NETNS" ]; then ip netns del "$NETNS" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# in_ns CMD...: run CMD inside the recording namespace if there is one. Background processes use
# "${NSEXEC[@]}" directly instead, so that $! is the real process (ip netns exec execs it).
in_ns() { "${NSEXEC[@]}" "$@"; }

# make_netns: a private namespace whose loopback has an Ethernet-like MTU, so a large ClientHello
# really spans several TCP segments (the host loopback's 64 KiB MTU would carry it in one).
make_netns() {
  NETNS="sultry-rec-$$"
  ip netns add "$NETNS"
  NSEXEC=(ip netns exec "$NETNS")
  ip netns exec "$NETNS" ip link set lo up mtu 1500
  # without this tcpdump sees GSO super-packets larger than the MTU instead of real segments
  ip netns exec "$NETNS" ethtool -K lo tso off gso off gro off >/dev/null
}

# make_pki KIND: lab CA + leaf for blocked.example in $WORK (KIND = ec or rsa). Small keys keep
# the Certificate message, and so the capture, small.
make_pki() {
  local kind="$1"
  local newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  [ "$kind" = rsa ] && newkey=(-newkey rsa:2048)
  openssl req -x509 -new -nodes "${newkey[@]}" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" \
    -days 3650 -subj "/CN=Sultry Lab CA" 2>/dev/null
  openssl req -new -nodes "${newkey[@]}" -keyout "$WORK/leaf.key" -out "$WORK/leaf.csr" \
    -subj "/CN=blocked.example" 2>/dev/null
  printf 'subjectAltName=DNS:blocked.example\nbasicConstraints=CA:FALSE\n' >"$WORK/ext.cnf"
  openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -out "$WORK/leaf.pem" -days 3650 -extfile "$WORK/ext.cnf" 2>/dev/null
}

# start_tcpdump PCAP PORT: capture loopback traffic on PORT, packet-buffered (-U) and with
# --immediate-mode (else packets still in the kernel's ring block when we stop tcpdump are lost),
# as root (-Z root, so the file can be written where we are), classic microsecond pcap (tcpdump's
# default format, which every reader takes).
start_tcpdump() {
  local pcap="$1" port="$2"
  "${NSEXEC[@]}" tcpdump -i lo -U --immediate-mode -Z root -w "$pcap" "tcp port $port" 2>"$WORK/tcpdump.err" &
  PIDS+=($!)
  TCPDUMP_PID=$!
  for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.err" && return 0; sleep 0.1; done
  echo "tcpdump did not start: $(cat "$WORK/tcpdump.err")" >&2
  return 1
}

stop_tcpdump() {
  sleep 1
  kill -INT "$TCPDUMP_PID" 2>/dev/null || true
  wait "$TCPDUMP_PID" 2>/dev/null || true
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (in the namespace if any).
wait_port() {
  local port="$1"
  for _ in $(seq 100); do
    in_ns ss -Hltn "sport = :$port" | grep -q . && return 0
    sleep 0.1
  done
  echo "nothing listens on port $port" >&2
  return 1
}

# start_s_server ARGS...: openssl s_server in $WORK/www (so -WWW serves the small hello.txt there).
start_s_server() {
  mkdir -p "$WORK/www"
  printf 'hello from the sultry lab\n' >"$WORK/www/hello.txt"
  (cd "$WORK/www" && exec "${NSEXEC[@]}" openssl s_server "$@") >"$WORK/s_server.out" 2>&1 </dev/null &
  PIDS+=($!)
}

# finish NAME: copy pcap + keylog into captures/ and regenerate the committed tshark oracle.
finish() {
  local name="$1"
  cp "$WORK/$name.pcap" "$CAPTURES/$name.pcap"
  cp "$WORK/$name.keylog" "$CAPTURES/$name.keylog"
  (cd "$REPO" && npx tsx captures/write-oracle.ts "$name")
  echo "recorded captures/$name.pcap ($(stat -c %s "$CAPTURES/$name.pcap") bytes)," \
    "keylog $(wc -l <"$CAPTURES/$name.keylog") lines, oracle captures/$name.oracle.json"
}
