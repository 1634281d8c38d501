#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Signed rule bundles end to end: vigil-collector rules keygen/publish
against a real redis-server, and a running agent (capturing UDP on the
loopback interface) that polls vigil:rules:bundle. A good bundle is put in
force (its rule alerts, stats say its version, the files are on disk); a
tampered, an unsigned, a foreign-signed and an older bundle are each
refused with one alert while the rules in force keep alerting; a restart
keeps the newest version; publish refuses a broken rule naming file and
line. A bundle in force that no longer loads with a changed local
configuration does not stop a start: the agent runs on its local rules
with one alert, the floor still holds, a newer bundle is applied. A
Redis that accepts but never answers the poll holds neither a SIGHUP
reload nor a SIGTERM.

usage: bundle.py COLLECTOR AGENT
"""
import functools
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import Redis, check, cleanup, summary, write  # noqa: E402
from vigiltest import sids, udp_rule, wait_for  # noqa: E402
import vigiltest  # noqa: E402
from vigiltest import read_events as events  # noqa: E402

wait_events = functools.partial(vigiltest.wait_events, timeout=30.0)

COLLECTOR, AGENT = sys.argv[1], sys.argv[2]
KEY = b"vigil:rules:bundle"
# Alert signature ids of the refusals (agent/bundle.h: 9000100 + why).
SID_BAD_SIGNATURE = 9000112
SID_UNSIGNED = 9000110
SID_WRONG_KEY = 9000111
SID_ROLLBACK = 9000113
SID_RULES = 9000114
SID_START = 9000115  # the one in force does not load at start


def resp(sock_path, *args):
    """One command over Redis' Unix socket, binary-safe (redis-cli is not
    for bytes). Returns bytes for bulk replies, str for status, None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    msg = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        msg += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(msg)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n", 1)
    if head[:1] == b"$":
        n = int(head[1:])
        if n < 0:
            s.close()
            return None
        while len(rest) < n + 2:
            rest += s.recv(65536)
        s.close()
        return rest[:n]
    s.close()
    if head[:1] == b"-":
        raise RuntimeError(head.decode())
    return head[1:].decode()




def bundle_version(evs):
    st = [e for e in evs if e.get("event_type") == "stats"]
    if not st:
        return None
    return st[-1]["stats"].get("rules", {}).get("bundle_version")



class HangProxy:
    """A TCP proxy in front of the test's redis-server that passes every
    command through but never answers a STRLEN (the bundle poller's first
    command): a Redis that accepts and then hangs, for the poller only, so
    the publisher's XADDs still go through. hung is set at the first
    STRLEN held."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.hung = threading.Event()
        self.held = 0
        self.done = threading.Event()
        self.th = threading.Thread(target=self.accept, daemon=True)
        self.th.start()

    def accept(self):
        while not self.done.is_set():
            r, _, _ = select.select([self.ls], [], [], 0.1)
            if r:
                c, _ = self.ls.accept()
                threading.Thread(target=self.serve, args=(c,),
                                 daemon=True).start()

    def serve(self, c):
        u = socket.create_connection(("127.0.0.1", self.up))
        hold = False
        try:
            while not self.done.is_set():
                r, _, _ = select.select([c, u], [], [], 0.1)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is u:
                        c.sendall(data)
                    elif hold:
                        pass  # swallowed: this client waits forever
                    elif b"\r\nSTRLEN\r\n" in data.upper():
                        hold = True
                        self.held += 1
                        self.hung.set()
                    else:
                        u.sendall(data)
        except OSError:
            pass
        finally:
            c.close()
            u.close()

    def close(self):
        self.done.set()
        self.th.join()
        self.ls.close()


def log_tail(path, start):
    with open(path, errors="replace") as f:
        f.seek(start)
        return f.read()


def collector(*args):
    return subprocess.run([COLLECTOR, "rules"] + list(args),
                          capture_output=True, text=True, timeout=60)


def main():
    if os.geteuid() != 0:
        print("skip  rule bundles (needs root to capture on lo)")
        return 0
    tmp = tempfile.mkdtemp(prefix="vigil-bundle-")
    redis = Redis(tmp)
    sock = redis.sock
    ccfg = write(os.path.join(tmp, "collector.yaml"),
                 "redis:\n  url: redis://127.0.0.1:%d\n" % redis.port)
    p1, p2 = random.sample(range(20000, 60000), 2)

    # Keys: the center's, and another one.
    r = collector("keygen", "--out", os.path.join(tmp, "center"))
    check("keygen writes a key pair", r.returncode == 0, r.stderr)
    st = os.stat(os.path.join(tmp, "center.key"))
    check("the private key is mode 0600", st.st_mode & 0o777 == 0o600,
          oct(st.st_mode))
    collector("keygen", "--out", os.path.join(tmp, "other"))
    r = collector("keygen", "--out", os.path.join(tmp, "center"))
    check("keygen never overwrites a key", r.returncode != 0)

    # A broken rule: nothing published, file and line named.
    bad = os.path.join(tmp, "bad")
    good = udp_rule(3000301, "ok", p1)
    write(os.path.join(bad, "network", "broken.yaml"),
          good + "- id: 3000302\n  name: broken\n"
          "  category: Test\n  severity: low\n  match:\n"
          "    protocol: DNSS\n")
    # The line of "protocol: DNSS": the sixth of the second rule.
    line = good.count("\n") + 6
    r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                  "-c", ccfg, bad)
    check("publish refuses a broken rule, naming file and line",
          r.returncode == 1 and "broken.yaml:%d:" % line in r.stderr and
          resp(sock, "EXISTS", KEY) == "0", r.stderr[-600:])

    # Version 1: one rule on port p1.
    d1 = os.path.join(tmp, "rules-v1")
    write(os.path.join(d1, "network", "bundle.yaml"),
          udp_rule(3000201, "from bundle one", p1))
    write(os.path.join(d1, "ioc", "center-ip.txt"), "192.0.2.1\n")
    r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                  "-c", ccfg, d1)
    check("publish stores version 1",
          r.returncode == 0 and "published version 1" in r.stdout,
          r.stdout + r.stderr)
    v1 = resp(sock, "GET", KEY)
    r = collector("show", "-c", ccfg, "--pub",
                  os.path.join(tmp, "center.pub"))
    check("show: version, valid signature, the files",
          r.returncode == 0 and "version:   1" in r.stdout and
          "signature: valid" in r.stdout and
          "network/bundle.yaml" in r.stdout and
          "ioc/center-ip.txt" in r.stdout, r.stdout + r.stderr)

    out = os.path.join(tmp, "eve.json")
    bdir = os.path.join(tmp, "bundle")
    acfg = write(os.path.join(tmp, "agent.yaml"),
                 "capture:\n  interfaces:\n    - name: lo\n"
                 "      bpf: udp port %d or udp port %d\n"
                 "      immediate: true\n"
                 "flows:\n  idle_timeout: 1s\n  dpi_idle_timeout: 1s\n"
                 "detection:\n  rules: [local.yaml]\n  ioc: []\n"
                 "output:\n  file:\n    path: %s\n  stats_interval: 1s\n"
                 "  redis:\n    url: redis://127.0.0.1:%d\n"
                 "  spool:\n    dir: %s\n"
                 "control:\n  socket: %s\n"
                 "rules:\n  bundle:\n    public_key: %s\n    poll: 1s\n"
                 "    dir: %s\n"
                 % (p1, p2, out, redis.port, os.path.join(tmp, "spool"),
                    os.path.join(tmp, "agent.sock"),
                    os.path.join(tmp, "center.pub"), bdir))
    # A local rule whose id a bundle below reuses.
    write(os.path.join(tmp, "local.yaml"), udp_rule(3000250, "local", 9))
    logpath = os.path.join(tmp, "agent.log")
    log = open(logpath, "w")

    def start():
        return subprocess.Popen([AGENT, "run", "--allow-root", "-c", acfg],
                                stderr=log)

    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            for port in (p1, p2):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(b"vigil bundle test", ("127.0.0.1", port))
                s.close()
            time.sleep(0.05)

    th = threading.Thread(target=traffic)
    th.start()
    agent = start()
    try:
        evs = wait_events(out, lambda e: 3000201 in sids(e) and
                          bundle_version(e) == 1)
        check("bundle 1 reaches the running agent: its rule alerts",
              3000201 in sids(evs), str(sids(evs))[:300])
        check("stats show rules.bundle_version 1", bundle_version(evs) == 1,
              str(bundle_version(evs)))
        with open(os.path.join(bdir, "current")) as f:
            cur = f.read()
        check("current records version 1", cur.startswith("1 "), cur)
        with open(os.path.join(bdir, "v1", "network", "bundle.yaml")) as f:
            check("the bundle's files are on disk",
                  f.read() == udp_rule(3000201, "from bundle one", p1))

        def refused(sid, what):
            n0 = len(events(out))
            evs = wait_events(out, lambda e: sid in sids(e[n0:]))
            check("%s: refused with alert %d" % (what, sid),
                  sid in sids(evs[n0:]), str(sids(evs[n0:]))[:300])
            # Several polls later: still one alert for it, and the rule
            # in force still alerts.
            n1 = len(evs)
            evs = wait_events(out, lambda e: 3000201 in sids(e[n1:]) and
                              len([x for x in e[n1:]
                                   if x.get("event_type") == "stats"]) >= 3)
            check("%s: one alert over several polls" % what,
                  sids(evs[n0:]).count(sid) == 1,
                  str(sids(evs[n0:]).count(sid)))
            check("%s: the rules in force keep alerting" % what,
                  3000201 in sids(evs[n1:]) and bundle_version(evs) == 1)
            return evs

        # Tampered: one byte of the rule file's contents flipped.
        bad = bytearray(v1)
        bad[len(bad) - 72 - 20] ^= 0x01
        resp(sock, "SET", KEY, bytes(bad))
        evs = refused(SID_BAD_SIGNATURE, "a tampered bundle")
        al = [e for e in evs if e.get("event_type") == "alert" and
              e["alert"]["signature_id"] == SID_BAD_SIGNATURE]
        check("the alert says why", al and
              al[0]["alert"]["signature"] ==
              "rule bundle refused: bad signature", str(al)[:300])

        # Unsigned: the same bundle without its signature.
        resp(sock, "SET", KEY, v1[:-72])
        refused(SID_UNSIGNED, "an unsigned bundle")

        # Signed by another key.
        r = collector("publish", "--key", os.path.join(tmp, "other.key"),
                      "-c", ccfg, "--version", "2", d1)
        check("publish with another key", r.returncode == 0, r.stderr)
        refused(SID_WRONG_KEY, "a bundle signed by another key")

        # Version 3, the center's key: a rule on port p2 instead.
        d3 = os.path.join(tmp, "rules-v3")
        write(os.path.join(d3, "network", "bundle.yaml"),
              udp_rule(3000202, "from bundle three", p2))
        r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                      "-c", ccfg, d3)
        check("publish takes the stored version + 1",
              r.returncode == 0 and "published version 3" in r.stdout,
              r.stdout + r.stderr)
        n0 = len(events(out))
        evs = wait_events(out, lambda e: 3000202 in sids(e[n0:]) and
                          bundle_version(e) == 3)
        check("bundle 3 is put in force",
              3000202 in sids(evs[n0:]) and bundle_version(evs) == 3,
              str(bundle_version(evs)))
        r = subprocess.run([AGENT, "status", "-s",
                            os.path.join(tmp, "agent.sock")],
                           capture_output=True, text=True, timeout=30)
        lines = [x.split() for x in r.stdout.splitlines()]
        check("vigil-agent status shows rules.bundle_version 3",
              ["rules.bundle_version", "3"] in lines and
              ["rules.bundle_applied", "2"] in lines,
              r.stdout[-800:] + r.stderr)
        check("the previous version is kept, none older",
              sorted(x for x in os.listdir(bdir) if x.startswith("v")) ==
              ["v1", "v3"], str(os.listdir(bdir)))

        # Version 4 loads on its own but not with this agent's rules
        # (the id of its local rule): refused, version 3 stays.
        d4 = os.path.join(tmp, "rules-v4")
        write(os.path.join(d4, "network", "bundle.yaml"),
              udp_rule(3000250, "clashes with the local rule", p1))
        r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                      "-c", ccfg, d4)
        check("publish version 4", r.returncode == 0 and
              "published version 4" in r.stdout, r.stdout + r.stderr)
        n0 = len(events(out))
        evs = wait_events(out, lambda e: SID_RULES in sids(e[n0:]))
        n1 = len(evs)
        evs = wait_events(out, lambda e: 3000202 in sids(e[n1:]))
        check("a bundle whose rules do not load here is refused",
              SID_RULES in sids(evs[n0:]) and bundle_version(evs) == 3 and
              3000202 in sids(evs[n1:]) and
              not os.path.exists(os.path.join(bdir, "v4")),
              str(sids(evs[n0:]))[:300])

        r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                      "-c", ccfg, "--version", "2", d1)
        check("publish refuses a version not above the stored one",
              r.returncode == 1 and "not above" in r.stderr, r.stderr)

        # Rollback: version 1, validly signed, put back.
        n0 = len(events(out))
        resp(sock, "SET", KEY, v1)
        evs = wait_events(out, lambda e: SID_ROLLBACK in sids(e[n0:]))
        check("an older bundle is refused as a rollback",
              SID_ROLLBACK in sids(evs[n0:]) and bundle_version(evs) == 3,
              str(sids(evs[n0:]))[:300])

        # A restart with version 1 still in Redis: version 3 stays.
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        n0 = len(events(out))
        agent = start()
        evs = wait_events(out, lambda e: 3000202 in sids(e[n0:]) and
                          bundle_version(e[n0:]) == 3 and
                          SID_ROLLBACK in sids(e[n0:]))
        check("after a restart version 3 is in force, from disk",
              bundle_version(evs[n0:]) == 3 and 3000202 in sids(evs[n0:]),
              str(bundle_version(evs[n0:])))
        check("after a restart the older bundle is still refused",
              SID_ROLLBACK in sids(evs[n0:]) and
              3000201 not in sids(evs[n0:]), str(sids(evs[n0:]))[:300])

        # A local change that bundle 3 does not load with (a local rule
        # takes its rule's id), made while the agent is stopped: the
        # start falls back to the local rules alone.
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        write(os.path.join(tmp, "local.yaml"),
              udp_rule(3000250, "local", 9) +
              udp_rule(3000202, "takes bundle three's id", 9) +
              udp_rule(3000260, "local on p1", p1))
        n0 = len(events(out))
        log.flush()
        l0 = os.path.getsize(logpath)
        agent = start()
        evs = wait_events(out, lambda e: SID_START in sids(e[n0:]) and
                          3000260 in sids(e[n0:]) and
                          bundle_version(e[n0:]) == 0 and
                          SID_ROLLBACK in sids(e[n0:]))
        check("a bundle in force that no longer loads with the local "
              "configuration does not stop the start",
              agent.poll() is None and SID_START in sids(evs[n0:]),
              str(sids(evs[n0:]))[:300])
        al = [e for e in evs[n0:] if e.get("event_type") == "alert" and
              e["alert"]["signature_id"] == SID_START]
        check("the fallback alert says why and which version",
              al and al[0]["alert"]["signature"] ==
              "rule bundle refused: does not load at start" and
              al[0].get("fileinfo", {}).get("filename") ==
              "redis:vigil:rules:bundle#v3", str(al)[:400])
        check("the local rules alert, the bundle's do not",
              3000260 in sids(evs[n0:]) and
              3000202 not in sids(evs[n0:]), str(sids(evs[n0:]))[:300])
        check("stats show rules.bundle_version 0 while it is left out",
              bundle_version(evs[n0:]) == 0, str(bundle_version(evs[n0:])))
        text = log_tail(logpath, l0)
        check("the log names the error (file:line) and warns",
              "local.yaml:" in text and "warning: rule bundle version 3 "
              "is in force but does not load" in text, text[-1500:])
        check("the floor holds: version 1 is still refused as a rollback",
              SID_ROLLBACK in sids(evs[n0:]))
        with open(os.path.join(bdir, "current")) as f:
            cur = f.read()
        check("current still records version 3", cur.startswith("3 "), cur)

        # A newer bundle that loads with the new local rules: applied.
        d5 = os.path.join(tmp, "rules-v5")
        write(os.path.join(d5, "network", "bundle.yaml"),
              udp_rule(3000205, "from bundle five", p2))
        r = collector("publish", "--key", os.path.join(tmp, "center.key"),
                      "-c", ccfg, "--version", "5", d5)
        check("publish version 5", r.returncode == 0 and
              "published version 5" in r.stdout, r.stdout + r.stderr)
        n1 = len(events(out))
        evs = wait_events(out, lambda e: 3000205 in sids(e[n1:]) and
                          bundle_version(e[n1:]) == 5)
        check("after the fallback a newer bundle is put in force",
              3000205 in sids(evs[n1:]) and 3000260 in sids(evs[n1:]) and
              bundle_version(evs[n1:]) == 5,
              str(bundle_version(evs[n1:])))
        check("one fallback alert in all",
              sids(evs[n0:]).count(SID_START) == 1,
              str(sids(evs[n0:]).count(SID_START)))
        with open(os.path.join(bdir, "current")) as f:
            cur = f.read()
        check("current records version 5", cur.startswith("5 "), cur)
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)

        # A Redis that accepts the poller's connection and never answers
        # its STRLEN: the main loop is not held. SIGHUP reloads and
        # SIGTERM stops at once, though the Redis timeout is 10 s.
        proxy = HangProxy(redis.port)
        hout = os.path.join(tmp, "eve-hang.json")
        hcfg = write(os.path.join(tmp, "agent-hang.yaml"),
                     "capture:\n  interfaces:\n    - name: lo\n"
                     "      bpf: udp port %d\n"
                     "detection:\n  rules: [local.yaml]\n  ioc: []\n"
                     "output:\n  file:\n    path: %s\n"
                     "  stats_interval: 1s\n"
                     "  redis:\n    url: redis://127.0.0.1:%d\n"
                     "    timeout_ms: 10000\n"
                     "    connect_timeout_ms: 10000\n"
                     "  spool:\n    dir: %s\n"
                     "control:\n  socket: %s\n"
                     "rules:\n  bundle:\n    public_key: %s\n"
                     "    poll: 1s\n    dir: %s\n"
                     % (p2, hout, proxy.port,
                        os.path.join(tmp, "spool-hang"),
                        os.path.join(tmp, "agent-hang.sock"),
                        os.path.join(tmp, "center.pub"),
                        os.path.join(tmp, "bundle-hang")))
        log.flush()
        l0 = os.path.getsize(logpath)
        agent = subprocess.Popen([AGENT, "run", "--allow-root", "-c", hcfg],
                                 stderr=log)
        try:
            check("the poll hangs on a Redis that never answers",
                  proxy.hung.wait(30) and agent.poll() is None)
            running = wait_for(lambda: "running" in log_tail(logpath, l0),
                               30)
            t0 = time.time()
            agent.send_signal(signal.SIGHUP)
            done = wait_for(lambda: "reloaded:" in log_tail(logpath, l0),
                            10, 0.02)
            dt = time.time() - t0
            check("a SIGHUP reload completes while a poll hangs",
                  running and done and dt < 2.0 and proxy.held == 1,
                  "%.2f s, %d polls held" % (dt, proxy.held))
            t0 = time.time()
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                pass
            dt = time.time() - t0
            check("SIGTERM stops the agent within 2 s while a poll hangs",
                  agent.returncode == 0 and dt < 2.0 and proxy.held == 1,
                  "%.2f s, status %s, %d polls held"
                  % (dt, agent.returncode, proxy.held))
        finally:
            proxy.close()
    finally:
        stop.set()
        th.join()
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            agent.kill()
        redis.stop()
        cleanup()
        log.close()
    ok = summary()
    if ok == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
