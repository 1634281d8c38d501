#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages that Vigil's build, tests, benchmarks and
# demo need. Idempotent: installs only what is missing, and runs nothing
# when all is there.
#
# usage: packaging/install-deps.sh [--print]
#   --print   list the packages and exit
set -euo pipefail

pkgs=(
  # build
  gcc make cmake pkg-config clang libclang-rt-14-dev clang-format
  libpcap-dev libndpi-dev libcyaml-dev libyaml-dev libjansson-dev libssl-dev
  libmaxminddb-dev libpcre2-dev libyara-dev libhiredis-dev
  libmicrohttpd-dev zlib1g-dev
  # build: sd_notify and journald (libsystemd), the privilege drop (libcap)
  libsystemd-dev libcap-dev
  # build: privilege separation (seccomp filter, capability drop)
  libseccomp-dev libcap-ng-dev
  # tests
  libcmocka-dev libndpi-bin yara python3 iproute2 procps
  # tests: real Redis servers (TLS, ACL, cluster, sentinel)
  redis-server redis-tools redis-sentinel openssl
  # tests: memcheck of replays and rule tests (tests/valgrind.sh)
  valgrind
  # tests: the dashboard in headless Chromium (playwright-core from npm;
  # Node.js and npm below, unless the machine has them already)
  chromium
  # tests: MaxMind DB files are built with the Perl writer
  libmaxmind-db-writer-perl
  # benchmarks: the big capture is made with these; GNU time for peak RSS
  tcpreplay wireshark-common time
  # packages: cpack's dependency list (dpkg-shlibdeps), lintian, the
  # maintainer scripts' adduser, systemd-analyze for the units' exposure
  dpkg-dev lintian fakeroot adduser systemd
)

if [ "${1:-}" = "--print" ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (with its own npm): only
# what has no command yet is installed.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
