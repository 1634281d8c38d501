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
# Then the file scanner: `vigil-agent scan` of a folder of harmless sample
# files (from rules/tests/files) with the shipped YARA rules, and the daemon
# watching an upload folder while a file is dropped into it, quarantined,
# listed and restored.
#
# A private Redis (Unix socket under build/quickstart/redis) receives the
# events as the center would, and vigil-collector reads them, archives them
# and serves the dashboard (its URL is printed; from a terminal, the script
# waits for Enter before it stops the collector and Redis).
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

# A private Redis, as the center's pipeline: a Unix socket in build/, no
# TCP port, stopped by its pid at the end.
echo "==> a private Redis for the pipeline to the center"
rdir=$run/redis
rm -rf "$rdir"
mkdir -p "$rdir"
redis-server --port 0 --unixsocket "$rdir/redis.sock" --unixsocketperm 700 \
  --dir "$rdir" --save "" --daemonize no --logfile "$rdir/redis.log" &
redis_pid=$!
collector_pid=""
trap 'kill $collector_pid "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  redis-cli -s "$rdir/redis.sock" PING >/dev/null 2>&1 && break
  sleep 0.1
done
echo "    $rdir/redis.sock (pid $redis_pid)"

cat > "$run/agent.yaml" <<YAML
# Made by packaging/quickstart.sh. Detection uses the shipped rules
# (rules/network) and home_net's default (private address ranges).
agent:
  agency: quickstart
output:
  flows: true
  file:
    path: $run/eve.json
  redis:
    url: unix://$rdir/redis.sock
  spool:
    dir: $run/spool
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
echo "==> the stream in Redis (vigil:events:{quickstart})"
stream='vigil:events:{quickstart}'
echo "    $(redis-cli -s "$rdir/redis.sock" XLEN "$stream") entries;" \
  "alerts: $(redis-cli -s "$rdir/redis.sock" --raw XRANGE "$stream" - + |
    grep -c '^alert$')"
redis-cli -s "$rdir/redis.sock" --raw XREVRANGE "$stream" + - COUNT 1 |
  sed -n '2,5p' | sed 's/^/    /'

echo
echo "==> vigil-agent scan of sample files with the shipped YARA rules"
www=$run/www
rm -rf "$www"
mkdir -p "$www/uploads" "$www/images" "$www/docs"
samples=rules/tests/files
cp "$samples/php-benign-framework.php" "$samples/php-upload-handler.php" "$www/"
cp "$samples/php-eval-base64.php" "$www/uploads/avatar.php"
cp "$samples/gif-php.gif" "$www/images/logo.gif"
cp "$samples/png-normal.png" "$www/images/banner.png"
cp "$samples/docx-plain.docx" "$samples/doc-autoopen-shell.doc" "$www/docs/"
cp "$samples/xmrig-config.json" "$www/uploads/config.json"
rc=0
./build/bin/vigil-agent scan --output - "$www" >>"$run/eve.json" 2>/dev/null || rc=$?
echo "    exit status $rc (0: nothing matched, 1: matches, 2: errors)"
python3 - "$run/eve.json" "$www" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event_type"] != "fileinfo":
        continue
    f = ev["fileinfo"]
    n += 1
    print("  %-34s %s" % (f["filename"][len(sys.argv[2]) + 1:],
                          ", ".join(m["rule"] for m in f["yara"])))
print("  %d of the sample files matched" % n)
PY

echo
echo "==> vigil-agent run watching an upload folder (quarantine on)"
up=$run/uploads
q=$run/quarantine
rm -rf "$up" "$q" "$run/invoice.php.restored"
mkdir -p "$up"
cat > "$run/files.yaml" <<YAML
# Made by packaging/quickstart.sh: the file scanner alone (no capture).
agent:
  agency: quickstart
detection:
  rules: []
files:
  watch: [$up]
  settle: 1
  quarantine: $q
output:
  file:
    path: $run/files-eve.json
# The demo runs as whoever started it (a service drops to the vigil user).
privileges:
  allow_root: true
control:
  socket: $run/agent.sock
log:
  level: warning
YAML
rm -f "$run/files-eve.json"
./build/bin/vigil-agent run -c "$run/files.yaml" &
pid=$!
sleep 1
cp "$samples/php-eval-post.php" "$up/invoice.php"
echo "    dropped invoice.php into $up"
for _ in $(seq 1 50); do
  grep -q '"event_type":"alert"' "$run/files-eve.json" 2>/dev/null && break
  sleep 0.2
done
echo "    vigil-agent status, from its control socket (the file counters):"
./build/bin/vigil-agent status -s "$run/agent.sock" | sed '/counters:/q' |
  sed 's/^/      /' || true
./build/bin/vigil-agent status -s "$run/agent.sock" |
  grep -E '^ *files\.(scanned|matched|alerts|quarantined) ' | sed 's/^/      /' || true
kill -TERM "$pid"
wait "$pid" || true
python3 - "$run/files-eve.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event_type"] == "alert":
        a, f = ev["alert"], ev["fileinfo"]
        print("  alert %s (sid %s, severity %s, %s): %s -> quarantine %s" % (
            a["signature"], a["signature_id"], a["severity"], a["action"],
            f["filename"], f.get("quarantine", {}).get("id", "-")))
PY
[ -e "$up/invoice.php" ] || echo "    invoice.php is no longer in the upload folder"
./build/bin/vigil-agent quarantine list --dir "$q" | sed 's/^/    /'
id=$(./build/bin/vigil-agent quarantine list --dir "$q" | awk 'NR == 2 {print $1}')
if [ -n "$id" ]; then
  ./build/bin/vigil-agent quarantine restore --dir "$q" --to "$run/invoice.php.restored" "$id" | sed 's/^/    /'
fi

echo
echo "==> vigil-collector: the center's side, reading the stream"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$run/archive"
cat > "$run/collector.yaml" <<YAML
# Made by packaging/quickstart.sh (documented example:
# packaging/config/collector.yaml).
redis:
  url: unix://$rdir/redis.sock
archive:
  dir: $run/archive
http:
  listen: "127.0.0.1:$port"
YAML
./build/bin/vigil-collector run -c "$run/collector.yaml" 2>"$run/collector.log" &
collector_pid=$!
for _ in $(seq 100); do
  n=$(python3 - "$port" <<'PY' 2>/dev/null || echo 0
import json, sys, urllib.request
u = "http://127.0.0.1:%s/api/alerts?limit=1000" % sys.argv[1]
print(len(json.load(urllib.request.urlopen(u, timeout=2))["items"]))
PY
)
  [ "$n" -gt 0 ] && break
  sleep 0.2
done
sleep 1
python3 - "$port" "$run/archive" <<'PY'
import json, os, sys, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
alerts = json.load(urllib.request.urlopen(base + "/api/alerts?limit=1000"))["items"]
agents = json.load(urllib.request.urlopen(base + "/api/agents"))["items"]
print("    %d alerts and fileinfo events served by the API, %d agent(s)" % (
    len(alerts), len(agents)))
for root, _, files in os.walk(sys.argv[2]):
    for f in sorted(files):
        p = os.path.join(root, f)
        print("    archive: %s (%d bytes)" % (os.path.relpath(p, sys.argv[2]),
                                           os.path.getsize(p)))
PY
echo
echo "Dashboard: http://127.0.0.1:$port/"
if [ -t 0 ]; then
  read -r -p "Press Enter to stop the collector and Redis... " _
fi

echo
echo "Events: $run/eve.json, $run/files-eve.json"
echo "Configuration used: $run/agent.yaml (documented example: packaging/config/agent.yaml)"
