#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The one test command: installs what is missing, builds, runs every test,
# then builds again with AddressSanitizer and UndefinedBehaviorSanitizer and
# runs the suite once more, then runs every fuzz target (tests/fuzz/run.sh).
#
# usage: tests/run.sh [--quick]
#   --quick   skip the sanitizer pass and the fuzzing
# environment: VIGIL_JOBS (parallel build/test jobs, default: cores),
#   VIGIL_FUZZ_SECONDS (per fuzz target, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${VIGIL_JOBS:-$(nproc)}

./packaging/install-deps.sh

step() { printf '\n==> %s\n' "$*"; }

step "build (gcc, -Werror)"
cmake -S . -B build -DVIGIL_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

step "tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${1:-}" != "--quick" ]; then
  step "build (clang, AddressSanitizer + UndefinedBehaviorSanitizer)"
  CC=clang cmake -S . -B build-asan -DVIGIL_WERROR=ON -DVIGIL_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build-asan -j "$jobs"
  step "tests under sanitizers"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

  step "fuzzing (libFuzzer, ${VIGIL_FUZZ_SECONDS:-30} s per target)"
  ./tests/fuzz/run.sh
fi
step "all tests passed"
