#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Operations of a running agent: `vigil-agent status` and `reload` over the
control socket, the Prometheus endpoint, and the Grafana board.

The daemon captures on the loopback interface (a BPF filter on one UDP
port this script sends to, each datagram a new flow), watches a folder of
its own and publishes to a redis-server of this test's. Then: status shows
the packets sent and the files written, as the stats events do; a reload
that adds a rule puts it in force, a broken one exits 1 naming file and
line while the running rules keep alerting; peers of another uid are
refused (by the file modes, and by SO_PEERCRED when the modes are opened);
a scrape parses as Prometheus text, agrees with status and holds every
metric the Grafana board queries; metrics are off by default; status exits
3 with no agent.

usage: operations.py AGENT SOURCE_DIR
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import (Redis, check, cleanup, free_port, procs,  # noqa: E402
                       sids, stop, summary, udp_rule, wait_for,
                       wait_port, write)
from vigiltest import read_events as events  # noqa: E402

AGENT = sys.argv[1]
SRC = sys.argv[2]
BOARD = os.path.join(SRC, "dashboards", "grafana", "vigil-agent.json")
AGENCY = "ops-test"


BROKEN = ("- id: 3100003\n  name: broken\n  category: Test\n"
          "  severity: low\n  match:\n    protocol: DNSS\n")


def send(port, n):
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"vigil operations test", ("127.0.0.1", port))
        s.close()
        time.sleep(0.01)


def ctl(*args, user=None):
    cmd = [AGENT] + list(args)
    if user:
        cmd = ["setpriv", "--reuid=" + user[0], "--regid=" + user[1],
               "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=200)


def status(sock):
    r = ctl("status", "-s", sock, "--json")
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def counter(sock, key):
    st = status(sock)
    return st["counters"].get(key) if st else None


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})?'
                    r' (-?[0-9.eE+]+|NaN|[+-]Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text 0.0.4, line by line: {(name, labels): value}, the
    types, and the lines that are neither comment nor sample."""
    samples, types, bad = {}, {}, []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[2] in types:
                bad.append(line)
            types[parts[2]] = parts[3]
            continue
        if line.startswith("# HELP ") or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = tuple(sorted(LABEL.findall(m.group(3) or "")))
        name = m.group(1)
        if name not in types:
            bad.append("untyped sample: " + line)
        samples[(name, labels)] = float(m.group(4))
    return samples, types, bad


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def listening_tcp_ports(pid):
    """TCP ports process pid listens on (from /proc, no tools)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    ports.append(int(cols[1].split(":")[1], 16))
    return ports


def board_metrics():
    with open(BOARD) as f:
        board = json.load(f)
    names = set()
    for p in board["panels"]:
        for t in p.get("targets", []):
            names.update(re.findall(r"vigil_agent_[a-z0-9_]+", t["expr"]))
    var = [v for v in board["templating"]["list"]
           if v["type"] == "datasource"]
    return board, names, var


def main():
    if os.geteuid() != 0:
        print("skip  operations (needs root to capture on lo and to "
              "change uid)")
        return 0
    tmp = tempfile.mkdtemp(prefix="vigil-ops-")
    # Others may enter: what keeps them from the socket is its own folder.
    os.chmod(tmp, 0o755)
    sock = os.path.join(tmp, "run", "agent.sock")
    port = free_port()
    mport = free_port()
    rules = write(os.path.join(tmp, "local.yaml"),
                  udp_rule(3100001, "first rule", port, "high"))
    watched = os.path.join(tmp, "watched")
    os.makedirs(watched)
    out = os.path.join(tmp, "eve.json")
    redis = Redis(tmp)
    base = ("agent:\n  agency: %s\n"
            "capture:\n  interfaces:\n    - name: lo\n"
            "      bpf: udp port %d\n      immediate: true\n"
            "flows:\n  idle_timeout: 1s\n  dpi_idle_timeout: 1s\n"
            "detection:\n  rules: [local.yaml]\n  ioc: []\n"
            "files:\n  watch: [watched]\n  settle: 0s\n"
            "output:\n  file:\n    path: %s\n  stats_interval: 1s\n"
            "  redis:\n    url: redis://127.0.0.1:%d\n"
            "  spool:\n    dir: %s\n"
            "control:\n  socket: %s\n"
            % (AGENCY, port, out, redis.port, os.path.join(tmp, "spool"),
               sock))
    cfg = write(os.path.join(tmp, "agent.yaml"),
                base + "metrics:\n  listen: 127.0.0.1:%d\n" % mport)

    r = ctl("status", "-s", sock)
    check("status exits 3 when no agent runs", r.returncode == 3,
          (r.returncode, r.stderr))
    r = ctl("reload", "-c", cfg)
    check("reload exits 3 when no agent runs", r.returncode == 3,
          (r.returncode, r.stderr))

    remote = write(os.path.join(tmp, "remote.yaml"),
                   "metrics:\n  listen: 0.0.0.0:%d\n" % mport)
    r = ctl("check", "-c", remote)
    check("a metrics address other than loopback is refused, by file and "
          "line", r.returncode == 1 and
          "remote.yaml:2: metrics.listen: 0.0.0.0 is not a loopback "
          "address" in r.stderr, r.stderr)

    p = subprocess.Popen([AGENT, "run", "--allow-root", "-c", cfg], stderr=subprocess.PIPE,
                         text=True)
    procs.append(p)
    try:
        ok = wait_for(lambda: status(sock) is not None, 20) and \
            wait_port(mport)
        check("the agent serves its control socket and metrics", ok)
        if not ok:
            return summary()
        # The folder is the agent's own, the socket 0660.
        check("socket 0660 in a folder made 0750",
              os.stat(sock).st_mode & 0o777 == 0o660 and
              os.stat(os.path.dirname(sock)).st_mode & 0o777 == 0o750,
              (oct(os.stat(sock).st_mode), ))

        n = 25
        send(port, n)
        for i in range(3):
            write(os.path.join(watched, "f%d.txt" % i), "file %d\n" % i)
        wait_for(lambda: counter(sock, "capture.packets") == n and
                 counter(sock, "files.scanned") == 3 and
                 counter(sock, "detect.alerts") == n, 20)
        st = status(sock)
        c = st["counters"]
        check("status: the packets sent, in all and on lo",
              c.get("capture.packets") == n and
              c.get("iface.packets.lo") == n,
              (c.get("capture.packets"), c.get("iface.packets.lo")))
        check("status: the files written, scanned",
              c.get("files.scanned") == 3, c.get("files.scanned"))
        evs = wait_for(lambda: (lambda e: e if sids(e).count(3100001) == n
                                else None)(events(out)), 20) or events(out)
        check("status: one alert per flow, as many as in eve.json",
              c.get("detect.alerts") == n and
              sids(evs).count(3100001) == n,
              (c.get("detect.alerts"), len(sids(evs))))
        check("status: identity, pid, rules",
              st["agency"] == AGENCY and st["pid"] == p.pid and
              st["version"] and st["rules"]["network"] == 1 and
              st["rules"]["enabled"] == 1 and st["rules"]["yara"] == 1 and
              st["reload"]["result"] == "none" and st["uptime"] > 0, st)
        # Delivered: the spool drains and Redis holds every alert.
        key = "vigil:events:{%s}" % AGENCY
        wait_for(lambda: sum(1 for _, e in redis.entries(key)
                             if e.get("type") == "alert") == n and
                 (status(sock) or {}).get("spool", {}).get("pending") == 0,
                 20)
        st = status(sock)
        in_redis = sum(1 for _, e in redis.entries(key)
                       if e.get("type") == "alert")
        check("status: spool depth 0 once Redis has all %d alerts" % n,
              in_redis == n and st["spool"]["pending"] == 0 and
              st["spool"]["pending"] == st["counters"]["spool.pending"],
              (in_redis, st["spool"]))
        # The stats event and status count the same way.
        def stats_agree():
            st = [e["stats"] for e in events(out)
                  if e.get("event_type") == "stats"]
            return st and st[-1]["capture"]["packets"] == n and \
                st[-1]["files"]["scanned"] == 3 and \
                st[-1]["detect"]["alerts"] == n and st[-1]
        last_stats = wait_for(stats_agree, 10)
        c = status(sock)["counters"]
        check("status and the stats event agree",
              last_stats and
              c["capture.packets"] == last_stats["capture"]["packets"] and
              c["files.scanned"] == last_stats["files"]["scanned"] and
              c["detect.alerts"] == last_stats["detect"]["alerts"] and
              c["flow.total"] == last_stats["flow"]["total"],
              (last_stats or {}).get("capture"))

        r = ctl("status", "-c", cfg)
        check("status prints a table (socket from -c)",
              r.returncode == 0 and
              re.search(r"\n  capture\.packets +%d\n" % n, r.stdout) and
              "agency         %s" % AGENCY in r.stdout and
              "pid %d" % p.pid in r.stdout, r.stdout[:600])

        # Metrics: text format, the same counters.
        code, ctype, text = scrape(mport)
        st = status(sock)
        samples, types, bad = parse_metrics(text)
        check("the scrape is Prometheus text 0.0.4",
              code == 200 and ctype.startswith("text/plain; version=0.0.4")
              and not bad and len(samples) > 50, (ctype, bad[:5]))
        c = st["counters"]
        pairs = [
            (("vigil_agent_packets_total", ()), "capture.packets"),
            (("vigil_agent_interface_packets_total",
              (("interface", "lo"),)), "iface.packets.lo"),
            (("vigil_agent_interface_drops_total",
              (("interface", "lo"), ("where", "kernel"))),
             "iface.kernel_drops.lo"),
            (("vigil_agent_decoded_packets_total", ()), "decoder.pkts"),
            (("vigil_agent_flows_total", ()), "flow.total"),
            (("vigil_agent_alerts_total", (("source", "network"),)),
             "detect.alerts"),
            (("vigil_agent_alerts_by_severity_total",
              (("severity", "high"),)), "detect.alerts_severity_1"),
            (("vigil_agent_files_scanned_total", ()), "files.scanned"),
            (("vigil_agent_spool_depth_events", ()), "spool.pending"),
            (("vigil_agent_spooled_total", ()), "spool.spooled"),
            (("vigil_agent_redis_connected", ()), "output.redis.connected"),
            (("vigil_agent_rules_version", (("kind", "network"),)),
             "agent.rules_generation"),
            (("vigil_agent_rules_version", (("kind", "yara"),)),
             "files.rules_version"),
            (("vigil_agent_rules_enabled", (("kind", "network"),)),
             "detect.rules"),
            (("vigil_agent_reloads_total", (("result", "ok"),)),
             "detect.reloads"),
        ]
        diff = [(k, samples.get(k), c.get(s)) for k, s in pairs
                if samples.get(k) != c.get(s)]
        check("scrape counters equal status's", not diff and
              samples[("vigil_agent_packets_total", ())] == n, diff)
        check("counters are *_total counters, with build_info and up",
              all(types[name] == "counter" for name in types
                  if name.endswith("_total")) and
              samples.get(("vigil_agent_up", ())) == 1 and
              any(k[0] == "vigil_agent_build_info" and
                  k[1] == (("version", st["version"]),) for k in samples),
              [k for k in samples if k[0] == "vigil_agent_build_info"])
        try:
            scrape(mport, "/")
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        check("only /metrics is served", code == 404, code)

        board, names, var = board_metrics()
        present = {k[0] for k in samples}
        missing = sorted(n_ for n_ in names if n_ not in present)
        check("the Grafana board uses a Prometheus datasource variable",
              var and var[0]["query"] == "prometheus" and
              all(p_["datasource"]["uid"] == "${datasource}"
                  for p_ in board["panels"]), var)
        check("every metric of the Grafana board is in a real scrape "
              "(%d metrics)" % len(names), names and not missing, missing)

        # Reload: a rule added is put in force and fires.
        write(rules, udp_rule(3100001, "first rule", port, "high") +
              udp_rule(3100002, "second rule", port, "high"))
        r = ctl("reload", "-c", cfg)
        check("reload of a good file exits 0 and says what it loaded",
              r.returncode == 0 and "reload done" in r.stdout and
              "2 rules (2 enabled)" in r.stdout, (r.returncode, r.stdout,
                                                  r.stderr))
        before = len(events(out))
        send(port, 5)
        evs = wait_for(lambda: (lambda e: e if sids(e).count(3100002) == 5
                                else None)(events(out)[before:]), 20) or \
            events(out)[before:]
        check("the rule added fires after the reload",
              sids(evs).count(3100002) == 5, sids(evs))
        st = status(sock)
        check("status: the reload, its time and the new rule version",
              st["reload"]["result"] == "ok" and st["reload"]["time"] and
              st["rules"]["network"] == 2 and st["rules"]["enabled"] == 2 and
              st["counters"]["detect.reloads"] == 1, st["reload"])

        # A broken file: exit 1, FILE:LINE, the old rules stay.
        write(rules, udp_rule(3100001, "first rule", port, "high") +
              udp_rule(3100002, "second rule", port, "high") + BROKEN)
        r = ctl("reload", "-s", sock)
        check("reload of a broken file exits 1 naming file and line",
              r.returncode == 1 and
              "%s:22: rule 3100003: match.protocol" % rules in r.stderr and
              "reload failed" in r.stderr, (r.returncode, r.stderr))
        before = len(events(out))
        send(port, 5)
        evs = wait_for(lambda: (lambda e: e if sids(e).count(3100002) == 5
                                else None)(events(out)[before:]), 20) or \
            events(out)[before:]
        check("the running rules keep firing after a failed reload",
              sids(evs).count(3100001) == 5 and
              sids(evs).count(3100002) == 5, sids(evs))
        st = status(sock)
        check("status: the failed reload and its error lines",
              st["reload"]["result"] == "failed" and
              any("local.yaml:22: rule 3100003" in m
                  for m in st["reload"]["messages"]) and
              st["rules"]["network"] == 2 and
              st["counters"]["detect.reload_failures"] == 1, st["reload"])

        # Peers of another uid.
        r = ctl("status", "-s", sock, user=("nobody", "nogroup"))
        check("another uid is kept out by the modes (exit 4)",
              r.returncode == 4 and "Permission denied" in r.stderr,
              (r.returncode, r.stderr))
        os.chmod(os.path.dirname(sock), 0o755)
        os.chmod(sock, 0o666)
        r = ctl("status", "-s", sock, user=("nobody", "nogroup"))
        check("another uid is refused by SO_PEERCRED when the modes let "
              "it in", r.returncode == 4 and "permission denied" in
              r.stderr and "counters" not in r.stdout,
              (r.returncode, r.stdout[:200], r.stderr))
        r = ctl("reload", "-s", sock, user=("nobody", "nogroup"))
        check("... and may not reload", r.returncode == 4,
              (r.returncode, r.stderr))
        os.chown(sock, 0, 65534)
        r = ctl("status", "-s", sock, "--json", user=("nobody", "nogroup"))
        check("a member of the socket's group is served",
              r.returncode == 0 and json.loads(r.stdout)["pid"] == p.pid,
              (r.returncode, r.stderr))
        os.chown(sock, 0, 0)
        os.chmod(sock, 0o660)
        os.chmod(os.path.dirname(sock), 0o750)
    finally:
        rc = stop(p, 30)
    err = p.stderr.read()
    check("the daemon exits 0", rc == 0, err[-800:])
    check("the socket goes with the daemon", not os.path.exists(sock))
    r = ctl("status", "-s", sock)
    check("status exits 3 after the agent stopped", r.returncode == 3,
          (r.returncode, r.stderr))

    # Metrics are off unless asked for: no TCP port at all.
    write(rules, udp_rule(3100001, "first rule", port, "high"))
    cfg2 = write(os.path.join(tmp, "agent2.yaml"), base)
    p = subprocess.Popen([AGENT, "run", "--allow-root", "-c", cfg2],
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    try:
        ok = wait_for(lambda: status(sock) is not None, 20)
        ports = listening_tcp_ports(p.pid) if ok else None
        check("metrics are off by default: the agent listens on no TCP "
              "port", ok and ports == [], ports)
    finally:
        rc = stop(p, 30)
    check("the second daemon exits 0", rc == 0, p.stderr.read()[-800:])
    redis.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
