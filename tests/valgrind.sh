#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# valgrind memcheck of the agent on real work: a replay of test captures
# with the shipped rules, IoC lists and the test GeoIP databases, and
# `rules test` on network and YARA rule cases. Any memory error or
# definite leak fails (--error-exitcode), and each run must still do its
# work (alerts written, cases passed), so a run that did nothing cannot
# pass. Normal builds only: valgrind and AddressSanitizer do not mix.
#
# usage: tests/valgrind.sh AGENT SOURCE_DIR
set -euo pipefail
agent=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

vg() {
  valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-origins=yes --child-silent-after-fork=yes \
    --suppressions="$src/tests/valgrind.supp" "$@"
}

cat >"$tmp/agent.yaml" <<YAML
agent:
  agency: valgrind
log:
  level: warning
detection:
  home_net: [10.20.0.0/16, 192.168.0.0/16, 172.16.0.0/12, 10.0.0.0/8]
  ioc:
    - name: blocklist-ip
      type: ip
      path: $src/rules/tests/ioc/test-ip.txt
    - name: blocklist-domain
      type: domain
      path: $src/rules/tests/ioc/test-domain.txt
    - name: blocklist-ja3
      type: ja3
      path: $src/rules/tests/ioc/test-ja3.txt
geoip:
  country_db: $src/tests/data/geoip/country-geolite2.mmdb
  asn_db: $src/tests/data/geoip/asn-geolite2.mmdb
YAML

fail=0
for pcap in exfil-upload.pcap http_auth.pcap dns-invalid-chars.pcap; do
  out=$tmp/${pcap%.pcap}.json
  if ! vg "$agent" replay -c "$tmp/agent.yaml" --flows --output "$out" \
    "$src/tests/data/pcap/$pcap" 2>"$tmp/err"; then
    echo "FAIL  replay $pcap under valgrind:"
    cat "$tmp/err"
    fail=1
    continue
  fi
  alerts=$(grep -c '"event_type":"alert"' "$out" || true)
  flows=$(grep -c '"event_type":"flow"' "$out" || true)
  if [ "$alerts" -lt 1 ] || [ "$flows" -lt 1 ]; then
    echo "FAIL  replay $pcap: $alerts alerts, $flows flows (expected some)"
    fail=1
  else
    echo "ok    replay $pcap under valgrind: $alerts alerts, $flows flows, no report"
  fi
done

cases=(http-basic-auth.yaml exfil-foreign.yaml ioc-ip.yaml yara-asp-eval-request.yaml
  yara-asp-benign.yaml)
for c in "${cases[@]}"; do
  if ! vg "$agent" rules test "$src/rules/tests/$c" >"$tmp/out" 2>&1; then
    echo "FAIL  rules test $c under valgrind:"
    cat "$tmp/out"
    fail=1
  elif ! grep -q "1 passed" "$tmp/out"; then
    echo "FAIL  rules test $c: no passing case:"
    cat "$tmp/out"
    fail=1
  else
    echo "ok    rules test $c under valgrind, no report"
  fi
done
exit $fail
