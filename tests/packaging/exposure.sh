#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units' exposure as systemd-analyze rates it, offline (no
# systemd needed as PID 1): at most 2.0 for vigil-agent.service and 1.2
# for vigil-collector.service. On failure, the per-setting table.
#
# usage: tests/packaging/exposure.sh UNIT_DIR
set -euo pipefail

units=$(cd "$1" && pwd)
command -v systemd-analyze >/dev/null || {
	echo "exposure.sh: systemd-analyze is missing (apt-get install systemd)" >&2
	exit 1
}

failures=0
# rate UNIT LIMIT
rate() {
	local unit=$1 limit=$2 out level
	# Another unit of the same name installed on this machine must not
	# be the one rated: the file is copied into an empty root.
	local root
	root=$(mktemp -d)
	mkdir -p "$root/etc/systemd/system"
	cp "$units/$unit" "$root/etc/systemd/system/$unit"
	if ! out=$(systemd-analyze security --offline=true --root="$root" \
		--no-pager "$unit" 2>&1); then
		rm -rf "$root"
		printf '%s\n' "$out"
		echo "FAIL  $unit: systemd-analyze failed"
		failures=$((failures + 1))
		return
	fi
	rm -rf "$root"
	level=$(printf '%s\n' "$out" |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
	if [ -z "$level" ]; then
		printf '%s\n' "$out"
		echo "FAIL  $unit: no overall exposure level in the output"
		failures=$((failures + 1))
	elif awk -v l="$level" -v m="$limit" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
		echo "ok    $unit: exposure $level (at most $limit)"
	else
		printf '%s\n' "$out"
		echo "FAIL  $unit: exposure $level, over $limit"
		failures=$((failures + 1))
	fi
}

rate vigil-agent.service 2.0
rate vigil-collector.service 1.2

if [ "$failures" -ne 0 ]; then
	exit 1
fi
echo "exposure.sh: both units within their limits"
