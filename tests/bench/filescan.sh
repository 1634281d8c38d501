#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# File scanning benchmark: `vigil-agent scan` against `yara -r -p 2` on the
# benchmark corpus, in the same run, with the same compiled rule set.
#
# usage: tests/bench/filescan.sh [--small]
#   --small   the small corpus (~2,000 files, ~140 MB) instead of the full
#             one (~20,000 files, ~1.2 GiB)
# environment:
#   VIGIL_BENCH_DIR   where the corpus and outputs are kept (default
#                     build/bench)
#   VIGIL_AGENT       the agent binary (default build/bin/vigil-agent)
#   VIGIL_BENCH_RUNS  runs of each command; the fastest counts (default 3)
#
# The corpus comes from ../shared/bench/make-file-corpus.sh, the rules from
# ../shared/testdata/yara/bench-rules/ (compiled once with yarac, so that
# neither side is timed compiling). Prints files/s, MB/s and peak RSS of
# both (and of `scan --sandbox`: YARA in scanner children), the throughput
# ratios, and whether all report the same matched
# files for every rule, with the bench rules and with positives.yar (the
# planted test files). Target: >= 1.0x yara's throughput, same verdicts.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
size=full
[ "${1:-}" = "--small" ] && size=small
dir=${VIGIL_BENCH_DIR:-$top/build/bench}
agent=${VIGIL_AGENT:-$top/build/bin/vigil-agent}
runs=${VIGIL_BENCH_RUNS:-3}
shared=$top/../shared
mkdir -p "$dir"

[ -x "$agent" ] || { echo "no agent at $agent: build first" >&2; exit 1; }
command -v yara >/dev/null && command -v yarac >/dev/null ||
  { echo "yara and yarac missing (package yara)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time missing (package time)" >&2; exit 1; }
[ -d "$shared/testdata/yara/bench-rules" ] ||
  { echo "need $shared/testdata/yara/bench-rules" >&2; exit 1; }

corpus=$dir/corpus-$size
if [ ! -f "$corpus/.corpus-manifest" ]; then
  echo "building $corpus ..." >&2
  rm -rf "$corpus"
  flags=()
  [ "$size" = small ] && flags+=(--small)
  bash "$shared/bench/make-file-corpus.sh" "$corpus" "${flags[@]}" >&2
fi

yarc=$dir/bench-rules.yarc
shopt -s nullglob
yarac "$shared"/testdata/yara/bench-rules/*.yar \
  "$shared"/testdata/yara/bench-rules/*.yara "$yarc"
shopt -u nullglob
positives=$shared/testdata/yara/positives.yar

cfg=$dir/filescan.yaml
cat > "$cfg" <<'YAML'
files:
  max_size: 2GiB
  scan_timeout: 1h
log:
  level: warning
YAML

# Read the corpus once so that every run finds it in the page cache.
find "$corpus" -type f -exec cat {} + >/dev/null

# measure NAME OKCODES CMD...: best wall seconds of $runs runs and the
# largest peak RSS (KiB); CMD may exit with any code in OKCODES.
measure() {
  local name=$1 ok=$2 i secs rss best="" top=0 rc; shift 2
  for ((i = 0; i < runs; i++)); do
    rc=0
    /usr/bin/time -f '%e %M' -o "$dir/$name.time" "$@" >"$dir/$name.out" \
      2>"$dir/$name.err" || rc=$?
    case " $ok " in *" $rc "*) ;; *)
      echo "$name failed ($rc):" >&2; tail -5 "$dir/$name.err" >&2; exit 1;;
    esac
    read -r secs rss < <(tail -1 "$dir/$name.time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(not $secs < $best)"; then
      best=$secs
    fi
    [ "$rss" -gt "$top" ] && top=$rss
  done
  eval "${name}_secs=$best ${name}_rss=$top"
}

measure yara "0" yara -r -p 2 -C "$yarc" "$corpus"
measure vigil "0 1" "$agent" scan -c "$cfg" --threads 2 --rules "$yarc" \
  --output - "$corpus"
# The same in sandboxed scanner children (sandbox.files, as `run` does).
measure vigilsb "0 1" "$agent" scan -c "$cfg" --threads 2 --rules "$yarc" \
  --sandbox --output - "$corpus"
# Verdicts with the planted positives (one run each is enough).
yara -r -p 2 "$positives" "$corpus" > "$dir/yara-pos.out"
rc=0
"$agent" scan -c "$cfg" --threads 2 --rules "$positives" --output - \
  "$corpus" > "$dir/vigil-pos.out" 2>"$dir/vigil-pos.err" || rc=$?
[ "$rc" -le 1 ] || { echo "vigil-agent scan failed ($rc)" >&2; exit 1; }

files=$(find "$corpus" -type f | wc -l)
bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

python3 - "$dir" "$files" "$bytes" "$yara_secs" "$yara_rss" "$vigil_secs" \
  "$vigil_rss" "$vigilsb_secs" "$vigilsb_rss" <<'PY'
import collections, json, sys
d, files, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ys, yr, vs, vr, ss, sr = map(float, sys.argv[4:10])

def yara_hits(path):
    hits = collections.defaultdict(set)
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        rule, _, f = line.rstrip("\n").partition(" ")
        if f:
            hits[rule].add(f)
    return hits

def vigil_hits(path):
    hits = collections.defaultdict(set)
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        ev = json.loads(line)
        if ev.get("event_type") != "fileinfo":
            continue
        for m in ev["fileinfo"].get("yara", []):
            hits[m["rule"]].add(ev["fileinfo"]["filename"])
    return hits

ok = True
for name, a, b in [("bench rules", "yara.out", "vigil.out"),
                   ("sandboxed", "yara.out", "vigilsb.out"),
                   ("positives.yar", "yara-pos.out", "vigil-pos.out")]:
    y, v = yara_hits(d + "/" + a), vigil_hits(d + "/" + b)
    same = y == v
    ok &= same
    print("verdicts, %-14s %s (%d rules matched %d files)" % (
        name + ":", "identical" if same else "DIFFERENT",
        len(y), len(set().union(*y.values())) if y else 0))
    if not same:
        for rule in sorted(set(y) | set(v)):
            if y.get(rule, set()) != v.get(rule, set()):
                print("  %s: yara only %s, vigil only %s" % (
                    rule, sorted(y.get(rule, set()) - v.get(rule, set()))[:5],
                    sorted(v.get(rule, set()) - y.get(rule, set()))[:5]))
print("file scan benchmark: %d files, %.1f MB" % (files, nbytes / 1e6))
print("%-26s %10s %10s %12s" % ("run", "files/s", "MB/s", "peak RSS"))
for name, s, r in [("yara -r -p 2", ys, yr), ("vigil-agent scan, 2 threads", vs, vr),
                   ("the same, --sandbox", ss, sr)]:
    print("%-26s %10.0f %10.1f %9.1f MiB" % (name, files / s, nbytes / 1e6 / s, r / 1024))
print("throughput ratio (vigil / yara): %.2fx; peak RSS ratio: %.2fx" % (ys / vs, vr / yr))
print("target: >= 1.0x with identical verdicts")
print("sandboxed scanner children against the threads: %.2fx the time "
      "(target <= 1.05x); peak RSS of the largest process %.1f against "
      "%.1f MiB" % (ss / vs, sr / 1024, vr / 1024))
sys.exit(0 if ok else 1)
PY
