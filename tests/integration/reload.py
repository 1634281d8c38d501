#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""SIGHUP reload while traffic flows: the daemon captures on the loopback
interface while this script keeps sending UDP datagrams (each from a new
source port, so each is a new flow); a broken rule file is refused with an
"agent" event naming file and line while the running rules keep alerting;
a good one is put in force and its new rule alerts.

usage: reload.py AGENT
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, sids, summary, udp_rule  # noqa: E402
from vigiltest import wait_events  # noqa: E402
from vigiltest import read_events as events  # noqa: E402

AGENT = sys.argv[1]


def main():
    if os.geteuid() != 0:
        print("skip  reload under traffic (needs root to capture)")
        return 0
    tmp = tempfile.mkdtemp(prefix="vigil-reload-")
    port = random.randrange(20000, 60000)
    rules = os.path.join(tmp, "local.yaml")
    cfg = os.path.join(tmp, "agent.yaml")
    out = os.path.join(tmp, "eve.json")
    with open(rules, "w") as f:
        f.write(udp_rule(3000001, "first rule", port))
    with open(cfg, "w") as f:
        f.write("capture:\n  interfaces:\n    - name: lo\n"
                "      bpf: udp port %d\n      immediate: true\n"
                "flows:\n  idle_timeout: 1s\n  dpi_idle_timeout: 1s\n"
                "detection:\n  rules: [local.yaml]\n  ioc: []\n"
                "output:\n  file:\n    path: %s\n  stats_interval: 1s\n"
                % (port, out))
    p = subprocess.Popen([AGENT, "run", "--allow-root", "-c", cfg],
                         stderr=subprocess.PIPE,
                         text=True)
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"vigil reload test", ("127.0.0.1", port))
            s.close()
            time.sleep(0.02)

    th = threading.Thread(target=traffic)
    th.start()
    try:
        evs = wait_events(out, lambda e: 3000001 in sids(e))
        check("the first rule alerts on live traffic", 3000001 in sids(evs))

        # A broken rule file: refused, the running set stays.
        with open(rules, "w") as f:
            f.write(udp_rule(3000001, "first rule", port) +
                    "- id: 3000002\n  name: broken\n  category: Test\n"
                    "  severity: low\n  match:\n    protocol: DNSS\n")
        p.send_signal(signal.SIGHUP)
        evs = wait_events(out, lambda e: any(
            x.get("event_type") == "agent" for x in e))
        ag = [x for x in evs if x.get("event_type") == "agent"]
        msgs = ag[0]["agent"].get("messages", []) if ag else []
        check("a broken reload emits an error event naming file and line",
              len(ag) == 1 and ag[0]["agent"]["status"] == "failed" and
              ag[0]["agent"]["level"] == "error" and
              any("local.yaml:14: rule 3000002: match.protocol" in m and
                  "did you mean \"DNS\"" in m for m in msgs), str(ag)[:600])
        n_before = len(evs)
        evs = wait_events(out, lambda e: 3000001 in sids(e[n_before:]))
        check("the running rules keep alerting after a failed reload",
              3000001 in sids(evs[n_before:]))

        # A good file: the new rule replaces the old one.
        with open(rules, "w") as f:
            f.write(udp_rule(3000003, "second rule", port))
        p.send_signal(signal.SIGHUP)
        evs = wait_events(out, lambda e: len([
            x for x in e if x.get("event_type") == "agent"]) == 2)
        ag = [x for x in evs if x.get("event_type") == "agent"]
        check("a good reload is reported",
              len(ag) == 2 and ag[1]["agent"]["status"] == "ok" and
              "1 rules (1 enabled)" in ag[1]["agent"]["messages"][0],
              str(ag)[:600])
        n_ok = len(evs)
        evs = wait_events(out, lambda e: 3000003 in sids(e[n_ok:]))
        check("the new rule alerts after the reload",
              3000003 in sids(evs[n_ok:]))
        st = wait_events(out, lambda e: any(
            x.get("event_type") == "stats" and
            x["stats"]["detect"]["reloads"] == 1 for x in e[n_ok:]))
        st = [x for x in st[n_ok:] if x.get("event_type") == "stats"]
        check("stats count one reload and one failure",
              st and st[-1]["stats"]["detect"]["reloads"] == 1 and
              st[-1]["stats"]["detect"]["reload_failures"] == 1,
              str(st[-1]["stats"].get("detect") if st else None))
    finally:
        stop.set()
        th.join()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = -1
    err = p.stderr.read()
    check("the daemon exits 0 after the reloads", rc == 0, err[-800:])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
