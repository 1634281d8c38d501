#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packet pipeline benchmark: vigil-agent replay against Debian's
# ndpiReader 4.2 on the same multi-million-packet capture, in the same run.
#
# usage: tests/bench/pipeline.sh [PACKETS]     (default 2000000)
# environment:
#   VIGIL_BENCH_DIR   where the capture is built and kept (default build/bench)
#   VIGIL_AGENT       the agent binary (default build/bin/vigil-agent)
#
# Prints packets/s of each run, the ratios to ndpiReader, and peak RSS.
# Targets: 1 worker >= 1.0x ndpiReader's packets/s, 2 workers >= 1.6x,
# peak RSS <= 0.25x ndpiReader's.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
packets=${1:-2000000}
dir=${VIGIL_BENCH_DIR:-$top/build/bench}
agent=${VIGIL_AGENT:-$top/build/bin/vigil-agent}
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

# measure NAME CMD...: wall seconds and peak RSS (KiB) of CMD
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$dir/$name.time" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || {
    echo "$name failed:" >&2; tail -5 "$dir/$name.err" >&2; exit 1; }
  read -r secs rss < "$dir/$name.time"
  eval "${name}_secs=$secs ${name}_rss=$rss"
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

measure ndpi   ndpiReader -q -i "$pcap"
measure w1     "$agent" replay -c "$cfg" --flows --workers 1 --output /dev/null "$pcap"
measure w2     "$agent" replay -c "$cfg" --flows --workers 2 --output /dev/null "$pcap"

python3 - "$packets" "$ndpi_secs" "$ndpi_rss" "$w1_secs" "$w1_rss" "$w2_secs" "$w2_rss" <<'PY'
import sys
n = int(sys.argv[1])
ndpi_s, ndpi_r, w1_s, w1_r, w2_s, w2_r = map(float, sys.argv[2:])
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
PY
