#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packet pipeline benchmark: vigil-agent replay against Debian's
# ndpiReader 4.2 on the same multi-million-packet capture, in the same run.
#
# usage: tests/bench/pipeline.sh [PACKETS]     (default 2000000)
# environment:
#   VIGIL_BENCH_DIR   where the capture is built and kept (default build/bench)
#   VIGIL_AGENT       the agent binary (default build/bin/vigil-agent)
#   VIGIL_BENCH_RUNS  runs of each command; the fastest counts (default 3)
#
# Prints packets/s of each run, the ratios to ndpiReader, and peak RSS.
# Targets: 1 worker >= 1.0x ndpiReader's packets/s, 2 workers >= 1.6x,
# peak RSS <= 0.25x ndpiReader's. Then the same 1-worker run with the whole
# shipped rule set, GeoIP and IoC lists of 100,000 entries (addresses and
# domains): target >= 0.9x the packets/s of the run without rules.
# Last, the privilege separation (sandbox.packets): the same 1- and
# 2-worker runs (without and with the rules) with the packet path in a
# sandboxed child (replay --sandbox), whose events the parent checks one
# by one: target a cost of <= 5 % of packets/s against the
# single-process runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
packets=${1:-2000000}
dir=${VIGIL_BENCH_DIR:-$top/build/bench}
agent=${VIGIL_AGENT:-$top/build/bin/vigil-agent}
runs=${VIGIL_BENCH_RUNS:-3}
mkdir -p "$dir"

[ -x "$agent" ] || { echo "no agent at $agent: build first" >&2; exit 1; }
command -v ndpiReader >/dev/null || { echo "ndpiReader missing (libndpi-bin)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing (package time)" >&2; exit 1; }

pcap=$dir/bench-$packets.pcap
if [ ! -s "$pcap" ]; then
  maker=$top/../shared/bench/make-bench-pcap.sh
  [ -x "$maker" ] || [ -f "$maker" ] || { echo "need $maker" >&2; exit 1; }
  echo "building $pcap ..." >&2
  bash "$maker" "$pcap.tmp" "$packets"
  mv "$pcap.tmp" "$pcap"
fi

# Read the file once so that every run finds it in the page cache.
cat "$pcap" >/dev/null

# measure NAME CMD...: wall seconds (the best of $runs runs, so that a
# busy moment of the machine does not decide a ratio) and the largest peak
# RSS (KiB) of CMD
measure() {
  local name=$1 i secs rss best="" top=0; shift
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%e %M' -o "$dir/$name.time" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || {
      echo "$name failed:" >&2; tail -5 "$dir/$name.err" >&2; exit 1; }
    read -r secs rss < "$dir/$name.time"
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $secs < $best)"; then
      best=$secs
    fi
    [ "$rss" -gt "$top" ] && top=$rss
  done
  eval "${name}_secs=$best ${name}_rss=$top"
}

cfg=$dir/bench.yaml
cat > "$cfg" <<YAML
flows:
  idle_timeout: 2m
decode:
  tunnels: [gtp, tzsp, capwap]
output:
  stats_interval: 0
log:
  level: warning
YAML

# The run without rules, and the one with every shipped rule, GeoIP and
# IoC lists of 100,000 entries each.
ioc_ip=$dir/ioc-100k-ip.txt
ioc_dom=$dir/ioc-100k-domain.txt
python3 - "$ioc_ip" "$ioc_dom" <<'PY'
import random, sys
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    for _ in range(100000):
        f.write("%d.%d.%d.%d\n" % (r.randrange(1, 224), r.randrange(256),
                                   r.randrange(256), r.randrange(1, 255)))
with open(sys.argv[2], "w") as f:
    for i in range(100000):
        f.write("%s-%d.example%d.net\n" % (
            "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)),
            i, r.randrange(1000)))
PY
norules=$dir/bench-norules.yaml
{ cat "$cfg"; printf 'detection:\n  rules: []\n  ioc: []\n'; } > "$norules"
rules=$dir/bench-rules.yaml
{ cat "$cfg"; cat <<YAML
detection:
  ioc:
    - {name: blocklist-ip, type: ip, path: $ioc_ip}
    - {name: blocklist-domain, type: domain, path: $ioc_dom}
geoip:
  country_db: $top/tests/data/geoip/country-geolite2.mmdb
  asn_db: $top/tests/data/geoip/asn-geolite2.mmdb
YAML
} > "$rules"
"$agent" check -c "$rules" 2>&1 | tail -1 >&2

measure ndpi   ndpiReader -q -i "$pcap"
measure w1     "$agent" replay -c "$norules" --flows --workers 1 --output /dev/null "$pcap"
measure w2     "$agent" replay -c "$norules" --flows --workers 2 --output /dev/null "$pcap"
measure r1     "$agent" replay -c "$rules" --flows --workers 1 --output /dev/null "$pcap"
measure r2     "$agent" replay -c "$rules" --flows --workers 2 --output /dev/null "$pcap"
measure s1     "$agent" replay -c "$norules" --flows --workers 1 --sandbox --output /dev/null "$pcap"
measure s2     "$agent" replay -c "$norules" --flows --workers 2 --sandbox --output /dev/null "$pcap"
measure sr1    "$agent" replay -c "$rules" --flows --workers 1 --sandbox --output /dev/null "$pcap"
alerts=$(grep -o 'alerts: *[0-9]*' "$dir/r1.err" | grep -o '[0-9]*$' || echo 0)
# The sandboxed runs must have written the same events.
for pair in "w1 s1" "w2 s2" "r1 sr1"; do
  set -- $pair
  a=$(grep -o 'events: *[0-9]*' "$dir/$1.err" | grep -o '[0-9]*$' || echo x)
  b=$(grep -o 'events: *[0-9]*' "$dir/$2.err" | grep -o '[0-9]*$' || echo y)
  [ "$a" = "$b" ] || { echo "$2: $b events, $1: $a" >&2; exit 1; }
done

python3 - "$packets" "$ndpi_secs" "$ndpi_rss" "$w1_secs" "$w1_rss" "$w2_secs" "$w2_rss" \
  "$r1_secs" "$r1_rss" "$r2_secs" "$r2_rss" "$alerts" \
  "$s1_secs" "$s1_rss" "$s2_secs" "$s2_rss" "$sr1_secs" "$sr1_rss" <<'PY'
import sys
n = int(sys.argv[1])
ndpi_s, ndpi_r, w1_s, w1_r, w2_s, w2_r, r1_s, r1_r, r2_s, r2_r = map(
    float, sys.argv[2:12])
alerts = int(sys.argv[12])
s1_s, s1_r, s2_s, s2_r, sr1_s, sr1_r = map(float, sys.argv[13:19])
def pps(s): return n / s if s > 0 else float("inf")
print("pipeline benchmark: %d packets" % n)
print("%-28s %12s %10s %12s %10s" % ("run", "packets/s", "ratio", "peak RSS", "RSS ratio"))
rows = [("ndpiReader 4.2 (1 thread)", ndpi_s, ndpi_r),
        ("vigil-agent, 1 worker", w1_s, w1_r),
        ("vigil-agent, 2 workers", w2_s, w2_r)]
for name, s, r in rows:
    print("%-28s %12.0f %9.2fx %9.1f MiB %9.2fx" % (
        name, pps(s), pps(s) / pps(ndpi_s), r / 1024, r / ndpi_r))
print("targets: 1 worker >= 1.0x, 2 workers >= 1.6x, RSS <= 0.25x")
print()
print("with the shipped rules, GeoIP and 2 x 100,000 IoC entries (%d alerts)" % alerts)
print("%-28s %12s %10s %12s" % ("run", "packets/s", "vs no rules", "peak RSS"))
for name, s, r, base in [("vigil-agent, 1 worker", r1_s, r1_r, w1_s),
                         ("vigil-agent, 2 workers", r2_s, r2_r, w2_s)]:
    print("%-28s %12.0f %9.2fx %9.1f MiB" % (name, pps(s), pps(s) / pps(base),
                                            r / 1024))
print("target: >= 0.9x the packets/s of the same run without rules")
print()
print("sandboxed packet path (replay --sandbox) against the single process")
print("%-28s %12s %10s %12s" % ("run", "packets/s", "cost", "peak RSS"))
for name, s, r, base in [("sandboxed, 1 worker", s1_s, s1_r, w1_s),
                         ("sandboxed, 2 workers", s2_s, s2_r, w2_s),
                         ("sandboxed, 1 worker, rules", sr1_s, sr1_r, r1_s)]:
    print("%-28s %12.0f %9.1f%% %9.1f MiB" % (
        name, pps(s), 100.0 * (1 - pps(s) / pps(base)), r / 1024))
print("target: cost <= 5 %")
PY
