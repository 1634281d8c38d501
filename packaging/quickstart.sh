#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Try Vigil on this machine in one command: installs what is missing,
# builds, and runs the main job on an embedded default: the sample captures
# in tests/data/pcap go through the agent's pipeline (decode, flows, nDPI
# classification) and the events land as EVE JSON lines in
# build/quickstart/eve.json, with a readable summary here.
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
cat > "$run/agent.yaml" <<YAML
# Made by packaging/quickstart.sh
agent:
  agency: quickstart
output:
  flows: true
  file:
    path: $run/eve.json
YAML

echo "==> vigil-agent replay of the sample captures"
./build/bin/vigil-agent replay -c "$run/agent.yaml" tests/data/pcap/*.pcap \
  tests/data/pcap/*.pcapng

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
echo "Events: $run/eve.json"
echo "Configuration used: $run/agent.yaml (documented example: packaging/config/agent.yaml)"
