#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Publishing benchmark: alerts/s from the agent into a local Redis (plain
# TCP and TLS) against redis-benchmark doing XADD of the same payload with
# -P 64, in the same run; and end-to-end latency (alert made -> entry in
# the stream) at 1,000 alerts/s of live traffic on the loopback interface.
#
# usage: tests/bench/publish.sh [ALERTS]   (default 200000)
# environment:
#   VIGIL_BENCH_DIR   work folder (default build/bench/publish)
#   VIGIL_AGENT       the agent binary (default build/bin/vigil-agent)
#
# Targets: >= 0.5x redis-benchmark's rate; p99 latency <= 200 ms. The
# latency part captures on lo, so it needs root; without root it is
# skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
n=${1:-200000}
dir=${VIGIL_BENCH_DIR:-$top/build/bench/publish}
agent=${VIGIL_AGENT:-$top/build/bin/vigil-agent}
rm -rf "$dir"
mkdir -p "$dir"

[ -x "$agent" ] || { echo "no agent at $agent: build first" >&2; exit 1; }
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
  { echo "redis-server and redis-benchmark missing (redis-server, redis-tools)" >&2; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A throwaway CA and a server certificate for localhost.
pki=$dir/pki
mkdir -p "$pki"
(cd "$pki"
 openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
   -keyout ca.key -out ca.crt 2>/dev/null
 openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key \
   -out server.csr 2>/dev/null
 printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > ext
 openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
   -days 1 -extfile ext -out server.crt 2>/dev/null)

port=$(free_port)
tport=$(free_port)
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$dir" --daemonize no --logfile "$dir/redis.log" &
pids+=($!)
redis-server --bind 127.0.0.1 --port 0 --tls-port "$tport" --save "" \
  --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis-tls.log" \
  --tls-cert-file "$pki/server.crt" --tls-key-file "$pki/server.key" \
  --tls-ca-cert-file "$pki/ca.crt" --tls-auth-clients no &
pids+=($!)
for _ in $(seq 50); do
  redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1
done

pcap=$dir/dns-$n.pcap
python3 tests/tools/make-dns-flows-pcap.py "$pcap" "$n"
cat > "$dir/dns.yaml" <<'YAML'
- id: 9000001
  name: DNS query seen
  category: test
  severity: low
  match: {protocol: DNS}
YAML

# cfg NAME URL [EXTRA]: an agent configuration publishing to URL
cfg() {
  cat > "$dir/$1.yaml" <<YAML
agent: {agency: bench, id: bench-agent}
detection: {rules: [$dir/dns.yaml], ioc: []}
output:
  stats_interval: 0
  redis:
    url: $2
    drain_timeout: 600
${3:-}
  spool: {dir: $dir/spool-$1}
log: {level: warning}
YAML
  echo "$dir/$1.yaml"
}

# replay_rate NAME CFG KEY: alerts/s from the agent into Redis. The alerts
# are made first with Redis out of reach (they wait in the spool), then a
# replay of one packet with Redis up is timed from its start until it
# exits, which is once Redis has acknowledged every alert: the publishing
# alone, not the packet pipeline.
one=$dir/one.pcap
python3 tests/tools/make-dns-flows-pcap.py "$one" 1
replay_rate() {
  local t0 t1 fill=$dir/fill-$1.yaml
  sed -e 's|^    url: .*|    url: "redis://127.0.0.1:1"|' \
      -e 's|drain_timeout: 600|drain_timeout: 0|' "$2" > "$fill"
  "$agent" replay -c "$fill" --output /dev/null "$pcap" 2>/dev/null
  t0=$(date +%s.%N)
  "$agent" replay -c "$2" --output /dev/null "$one" 2>"$dir/$1.err"
  t1=$(date +%s.%N)
  local got first last
  got=$(redis-cli "${@:4}" XLEN "$3")
  [ "$got" -eq $((n + 1)) ] || { echo "$1: $got of $((n + 1)) alerts in the stream" >&2; exit 1; }
  # The rate between the first and the last entry (their ids are Redis'
  # own clock, in ms): the sending, without the agent's start-up.
  first=$(redis-cli "${@:4}" --raw XRANGE "$3" - + COUNT 1 | head -1 | cut -d- -f1)
  last=$(redis-cli "${@:4}" --raw XREVRANGE "$3" + - COUNT 1 | head -1 | cut -d- -f1)
  python3 -c "print('%.0f %.0f' % ($n / max($last - $first, 1) * 1000, $n / ($t1 - $t0)))"
}

plain=$(replay_rate plain "$(cfg plain "redis://127.0.0.1:$port")" \
  'vigil:events:{bench}' -p "$port")
tls=$(replay_rate tls "$(cfg tls "rediss://localhost:$tport" \
  "    ca_file: $pki/ca.crt")" 'vigil:events:{bench}' -p "$tport" --tls \
  --cacert "$pki/ca.crt")

# redis-benchmark: the same payload (one of the agent's alert lines).
payload=$(redis-cli -p "$port" --raw XRANGE 'vigil:events:{bench}' - + COUNT 1 | sed -n 6p)
rb() {
  redis-benchmark "$@" -n "$n" -P 64 -q XADD 'vigil:rb:{bench}' MAXLEN '~' \
    1000000 '*' type alert id 019ad735-8400-71fd-852b-8b8dcb35db98 eve \
    "$payload" 2>/dev/null | tr '\r' '\n' | grep -o '[0-9.]* requests per second' |
    tail -1 | cut -d' ' -f1
}
rb1=$(rb -h 127.0.0.1 -p "$port" -c 1)
rb50=$(rb -h 127.0.0.1 -p "$port" -c 50)
rbt=$(rb -h 127.0.0.1 -p "$tport" -c 1 --tls --cacert "$pki/ca.crt")

# Latency at 1,000 alerts/s: the daemon captures on lo while DNS queries
# (each from a new source port: a new flow, one alert) go to 127.0.0.53.
lat="skipped (needs root to capture on lo)"
if [ "$(id -u)" -eq 0 ]; then
  cat > "$dir/live.yaml" <<YAML
agent: {agency: live, id: bench-agent}
capture:
  interfaces:
    - {name: lo, bpf: "udp and host 127.0.0.53 and port 53", immediate: true}
detection: {rules: [$dir/dns.yaml], ioc: []}
output:
  stats_interval: 0
  redis: {url: "redis://127.0.0.1:$port"}
  spool: {dir: $dir/spool-live}
log: {level: warning}
YAML
  "$agent" run -c "$dir/live.yaml" 2>"$dir/live.err" &
  apid=$!
  pids+=($apid)
  sleep 1
  python3 - <<'PY'
import socket, struct, threading, time
n, rate = 10000, 1000
# A responder, so that each query is answered as on a real network (nDPI
# settles a DNS flow on its answer).
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.53", 53))
def answer():
    while True:
        q, a = srv.recvfrom(512)
        if q == b"stop":
            return
        # The query with one A record as its answer.
        srv.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01" + q[8:] +
                   b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
                   b"\x7f\x00\x00\x01", a)
threading.Thread(target=answer, daemon=True).start()
t0 = time.time()
for i in range(n):
    q = struct.pack("!HHHHHH", i & 0xffff, 0x100, 1, 0, 0, 0) + \
        b"\x04live\x07example\x03gov\x00" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A port of its own for each query: a new flow each, none reused.
    s.bind(("127.0.0.1", 20000 + i))
    s.sendto(q, ("127.0.0.53", 53))
    s.settimeout(1)
    try:
        s.recv(512)
    except OSError:
        pass
    s.close()
    delay = t0 + (i + 1) / rate - time.time()
    if delay > 0:
        time.sleep(delay)
PY
  sleep 2
  kill -TERM "$apid"; wait "$apid" || true
  lat=$(redis-cli -p "$port" --json XRANGE 'vigil:events:{live}' - + | python3 -c '
import json, sys, datetime
lat = []
for eid, kv in json.load(sys.stdin):
    f = dict(zip(kv[0::2], kv[1::2]))
    if f["type"] != "alert":
        continue
    ts = json.loads(f["eve"])["timestamp"]
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    lat.append(int(eid.split("-")[0]) - t * 1000)
lat.sort()
if not lat:
    print("no alerts")
else:
    print("p50 %.1f ms, p99 %.1f ms over %d alerts (of 10000 flows)" % (
        lat[len(lat) // 2], lat[int(len(lat) * 0.99)], len(lat)))
')
fi

python3 - "$n" "$plain" "$tls" "$rb1" "$rb50" "$rbt" "$lat" <<'PY'
import sys
n = int(sys.argv[1])
(plain, plain_all), (tls, tls_all) = [map(float, a.split())
                                      for a in sys.argv[2:4]]
rb1, rb50, rbt = map(float, sys.argv[4:7])
print("publish benchmark: %d alerts (spooled first, then sent)" % n)
print("%-44s %10s %8s %14s" % ("run", "alerts/s", "ratio", "incl. start-up"))
print("%-44s %10.0f %7.2fx" % ("redis-benchmark XADD -P 64, 1 connection", rb1, 1.0))
print("%-44s %10.0f %7.2fx %13.0f/s" % ("vigil-agent -> Redis (TCP), 1 connection",
                                        plain, plain / rb1, plain_all))
print("%-44s %10.0f %7.2fx" % ("redis-benchmark XADD -P 64, TLS, 1 conn.", rbt, 1.0))
print("%-44s %10.0f %7.2fx %13.0f/s" % ("vigil-agent -> Redis (TLS), 1 connection",
                                        tls, tls / rbt, tls_all))
print("%-44s %10.0f %7.2fx" % ("(redis-benchmark -P 64, 50 connections)", rb50,
                              plain / rb50))
print("latency at 1,000 alerts/s, alert made -> in the stream: " + sys.argv[7])
print("targets: >= 0.5x redis-benchmark's rate (same connections); p99 <= 200 ms")
PY
