#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets (clang, AddressSanitizer + UBSan) into
# build-fuzz and run each for VIGIL_FUZZ_SECONDS (default 30) from a copy
# of its seed corpus and regressions (tests/fuzz/corpus/TARGET/,
# tests/fuzz/regressions/TARGET/; the decoder's seeds are the test
# captures). New corpus entries go to the copy, never into the source
# tree. Fails if any target finds a crash, a leak or a timeout, printing
# the reproducer: add it under tests/fuzz/regressions/TARGET/ with the fix.
#
# usage: tests/fuzz/run.sh [TARGET...]   (default: every fuzz_*.c)
# environment: VIGIL_FUZZ_SECONDS, VIGIL_JOBS (build jobs, default: cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
jobs=${VIGIL_JOBS:-$(nproc)}
seconds=${VIGIL_FUZZ_SECONDS:-30}

# -max_len per target: a packet sequence, a YAML file, a list... big
# enough for the seeds, small enough to keep runs fast.
max_len() {
  case "$1" in
  decode) echo 2048 ;;
  packets) echo 16384 ;;
  config | netrules) echo 16384 ;;
  ioc) echo 8192 ;;
  eve) echo 4096 ;;
  spool) echo 4096 ;;
  resp) echo 4096 ;;
  collector_event) echo 16384 ;;
  collector_config) echo 16384 ;;
  rulestest) echo 8192 ;;
  filescan) echo 65536 ;;
  scanchild) echo 16384 ;;
  *) echo 4096 ;;
  esac
}

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do
    t=${f##*/fuzz_}
    targets+=("${t%.c}")
  done
fi

CC=clang cmake -S . -B build-fuzz -DVIGIL_WERROR=ON -DVIGIL_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
  corpus=$work/$t/corpus
  artifacts=$work/$t/artifacts
  mkdir -p "$corpus" "$artifacts"
  for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
    if [ -d "$d" ]; then
      cp -- "$d"/* "$corpus"/ 2>/dev/null || true
    fi
  done
  if [ "$t" = decode ]; then
    cp -- tests/data/pcap/*.pcap "$corpus"/
  fi
  printf '\n==> fuzz_%s for %ss (-max_len=%s)\n' "$t" "$seconds" "$(max_len "$t")"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    TMPDIR=$work/$t \
    "build-fuzz/bin/fuzz_$t" -max_total_time="$seconds" \
    -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
    >"$work/$t/log" 2>&1; then
    tail -n 60 "$work/$t/log"
    failed+=("$t")
    keep=$top/build-fuzz/findings/$t
    mkdir -p "$keep"
    cp -- "$artifacts"/* "$keep"/ 2>/dev/null || true
    cp -- "$work/$t/log" "$keep"/log
    for a in "$keep"/crash-* "$keep"/leak-* "$keep"/timeout-* "$keep"/oom-*; do
      [ -e "$a" ] && printf 'reproducer: %s\n' "$a"
    done
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/$t/log" | tail -n 2 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  printf '\nfuzzing found problems in: %s (see build-fuzz/findings/)\n' "${failed[*]}"
  exit 1
fi
printf '\nfuzzing: no findings in %s\n' "${targets[*]}"
