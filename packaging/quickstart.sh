#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Try Vigil on this machine in one command: installs what is missing,
# builds, and runs the main job on an embedded default: the sample captures
# in tests/data/pcap go through the agent's pipeline (decode, flows, nDPI
# classification, the shipped detection rules, GeoIP enrichment) and the
# events land as EVE JSON lines in build/quickstart/eve.json, with a
# readable summary here. GeoIP databases come from the npm registry
# (packaging/fetch-geoip.sh) when none is configured; without them the
# demo runs on, without the geoip objects and the foreign-country rule.
#
# usage: packaging/quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

./packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

run=$top/build/quickstart
mkdir -p "$run"
rm -f "$run/eve.json"

geoip=""
echo "==> GeoIP databases (free ones from the npm registry)"
if out=$(./packaging/fetch-geoip.sh "$top/build/geoip"); then
  country=$(sed -n 's/^country_db=//p' <<<"$out")
  asn=$(sed -n 's/^asn_db=//p' <<<"$out")
  geoip=$(printf 'geoip:\n  country_db: %s\n  asn_db: %s\n' "$country" "$asn")
  echo "    $country"
  echo "    $asn"
else
  echo "    not available: running without GeoIP"
fi

cat > "$run/agent.yaml" <<YAML
# Made by packaging/quickstart.sh. Detection uses the shipped rules
# (rules/network) and home_net's default (private address ranges).
agent:
  agency: quickstart
output:
  flows: true
  file:
    path: $run/eve.json
$geoip
YAML

echo "==> vigil-agent replay of the sample captures"
# The fuzz-* captures are broken on purpose (for the robustness tests).
captures=()
for f in tests/data/pcap/*.pcap tests/data/pcap/*.pcapng; do
  case "$(basename "$f")" in fuzz-*) ;; *) captures+=("$f") ;; esac
done
./build/bin/vigil-agent replay -c "$run/agent.yaml" "${captures[@]}"

echo
echo "==> a few of the events (one JSON object per line)"
python3 - "$run/eve.json" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event_type"] != "flow":
        continue
    n = ev.get("ndpi", {})
    key = n.get("protocol")
    if key in seen or not n.get("risk"):
        continue
    seen.add(key)
    print("  %-14s %s:%s -> %s:%s  risks: %s" % (
        key, ev["src_ip"], ev.get("src_port", "-"), ev["dest_ip"],
        ev.get("dest_port", "-"), ", ".join(n["risk"])))
    if len(seen) == 8:
        break
PY
echo
echo "==> alerts raised by the shipped rules (one line per rule)"
python3 - "$run/eve.json" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event_type"] != "alert":
        continue
    a = ev["alert"]
    sid = a["signature_id"]
    if sid in seen:
        seen[sid][1] += 1
        continue
    geo = ev.get("geoip", {}).get("dest") or ev.get("geoip", {}).get("src")
    where = " [%s AS%s]" % (geo.get("country_iso", "?"), geo.get("asn", "?")) if geo else ""
    seen[sid] = [("  %-8s %-58s %s -> %s%s" % (
        sid, a["signature"][:58], ev["src_ip"], ev["dest_ip"], where)), 1]
for sid in sorted(seen):
    print(seen[sid][0] + ("  (x%d)" % seen[sid][1] if seen[sid][1] > 1 else ""))
print("  %d alerts from %d rules" % (sum(v[1] for v in seen.values()), len(seen)))
PY
echo
echo "Events: $run/eve.json"
echo "Configuration used: $run/agent.yaml (documented example: packaging/config/agent.yaml)"
