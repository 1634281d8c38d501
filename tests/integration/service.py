#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sd_notify from both daemons, against a listener of the test's own.

usage: service.py AGENT COLLECTOR SOURCE_DIR

A Unix datagram socket in a temporary folder stands in for systemd's
NOTIFY_SOCKET. Each daemon, started with it and WATCHDOG_USEC=1s, must
send READY=1 with a STATUS= line once it is up, WATCHDOG=1 again and
again (every half period while healthy), RELOADING=1 then READY=1 around
a SIGHUP, and STOPPING=1 on SIGTERM before it exits 0. With
WATCHDOG_PID naming another process the watchdog is not ours: READY=1
still comes, WATCHDOG=1 never. The agent captures on lo when run as root
(files only otherwise); the collector reads a redis-server of its own.

Logging (root): in a mount namespace whose /run is a tmpfs, a socket at
the journal's address receives what log.target journald sends (MESSAGE,
PRIORITY, SYSLOG_IDENTIFIER, CODE_*); auto goes there only when
JOURNAL_STREAM names the agent's stderr; stderr never does.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vigiltest as vt  # noqa: E402

AGENT, COLLECTOR, SRC = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])


class Notify:
    """The listener: every datagram, with the time it came."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.msgs = []  # (time, {key: value})

    def pump(self, seconds):
        end = time.time() + seconds
        while True:
            left = end - time.time()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                data = self.s.recv(4096)
            except socket.timeout:
                return
            kv = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    kv[k] = v
            self.msgs.append((time.time(), kv))

    def wait(self, key, value="1", timeout=15.0, after=0.0):
        """The first message after time `after` with key=value, or None."""
        end = time.time() + timeout
        while True:
            for t, kv in self.msgs:
                if t >= after and kv.get(key) == value:
                    return t, kv
            if time.time() >= end:
                return None
            self.pump(min(0.2, max(0.01, end - time.time())))

    def count(self, key, value="1", since=0.0):
        return sum(1 for t, kv in self.msgs
                   if t >= since and kv.get(key) == value)

    def close(self):
        self.s.close()


def exercise(name, argv, tmp, env_extra, ready_status):
    sock = os.path.join(tmp, name + ".notify")
    n = Notify(sock)
    env = dict(os.environ)
    env.pop("WATCHDOG_PID", None)
    env.pop("JOURNAL_STREAM", None)
    env.update({"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "1000000"})
    env.update(env_extra)
    log = open(os.path.join(tmp, name + ".log"), "w+")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    vt.procs.append(p)
    try:
        r = n.wait("READY")
        vt.check(name + ": READY=1 once up", r is not None,
                 open(log.name).read()[-1500:])
        if r is None:
            return
        status = r[1].get("STATUS", "")
        vt.check(name + ": READY=1 comes with a STATUS= line",
                 ready_status in status, status)
        t0 = time.time()
        n.pump(3.0)
        beats = n.count("WATCHDOG", since=t0)
        # Every 0.5 s while healthy: 6 in 3 s, with room for a slow CI.
        vt.check(name + ": WATCHDOG=1 keeps coming (%d in 3 s)" % beats,
                 3 <= beats <= 8, beats)
        t1 = time.time()
        p.send_signal(signal.SIGHUP)
        rl = n.wait("RELOADING", after=t1)
        vt.check(name + ": RELOADING=1 on SIGHUP", rl is not None)
        rd = n.wait("READY", after=rl[0] if rl else t1)
        vt.check(name + ": READY=1 after the reload", rd is not None)
        if rl is not None:
            vt.check(name + ": RELOADING=1 carries MONOTONIC_USEC",
                     rl[1].get("MONOTONIC_USEC", "").isdigit(), rl[1])
        t2 = time.time()
        n.pump(1.5)
        vt.check(name + ": the watchdog goes on after the reload",
                 n.count("WATCHDOG", since=t2) >= 1)
        t3 = time.time()
        p.send_signal(signal.SIGTERM)
        st = n.wait("STOPPING", after=t3)
        vt.check(name + ": STOPPING=1 on SIGTERM", st is not None)
        rc = vt.stop(p, 20)
        vt.check(name + ": exits 0 after SIGTERM", rc == 0, rc)
    finally:
        vt.stop(p, 5)
        log.close()
        n.close()
        os.unlink(sock)


def foreign_watchdog(name, argv, tmp, env_extra):
    """WATCHDOG_PID of another process: the watchdog is not ours."""
    sock = os.path.join(tmp, name + "-pid.notify")
    n = Notify(sock)
    env = dict(os.environ)
    env.update({"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "1000000",
                "WATCHDOG_PID": str(os.getpid())})
    env.update(env_extra)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    vt.procs.append(p)
    try:
        r = n.wait("READY")
        vt.check(name + ": READY=1 with another process's WATCHDOG_PID",
                 r is not None)
        n.pump(2.0)
        vt.check(name + ": no WATCHDOG=1 when WATCHDOG_PID is not ours",
                 n.count("WATCHDOG") == 0, n.msgs)
    finally:
        vt.stop(p, 10)
        n.close()
        os.unlink(sock)


JOURNAL = "/run/systemd/journal/socket"


def parse_journal(data):
    """One native-protocol datagram: KEY=value lines, or KEY, newline,
    a 64-bit little-endian length and the bytes for binary values."""
    kv, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            kv[k.decode()] = v.decode("utf-8", "replace")
            i = nl + 1
        else:
            n = int.from_bytes(data[nl + 1:nl + 9], "little")
            kv[line.decode()] = data[nl + 9:nl + 9 + n].decode("utf-8",
                                                                "replace")
            i = nl + 9 + n + 1
    return kv


def in_mount_ns(tmp):
    """Run in a private mount namespace (by main, through unshare): a
    tmpfs over /run holds a journal socket of our own, and the agent logs
    to it with log.target journald, then with auto when JOURNAL_STREAM
    names its stderr. Prints one JSON list per run."""
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs(os.path.dirname(JOURNAL))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(JOURNAL)
    watch = os.path.join(tmp, "jwatch")
    os.makedirs(watch, exist_ok=True)
    results = {}
    for target in ("journald", "auto", "stderr"):
        cfg = vt.write(os.path.join(tmp, "j-%s.yaml" % target),
                       "files:\n  watch: [%s]\n  schedule: 0\n" % watch +
                       "output:\n  file:\n    path: %s\n" %
                       os.path.join(tmp, "j.json") +
                       "log:\n  target: %s\n" % target +
                       "control:\n  socket: %s\n" %
                       os.path.join(tmp, "j-%s.sock" % target))
        errpath = os.path.join(tmp, "j-%s.stderr" % target)
        err = open(errpath, "w")
        st = os.fstat(err.fileno())
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        p = subprocess.Popen([AGENT, "run", "--allow-root", "-c", cfg],
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
        msgs = []
        end = time.time() + 15
        while time.time() < end and p.poll() is None:
            s.settimeout(0.2)
            try:
                msgs.append(parse_journal(s.recv(65536)))
            except socket.timeout:
                if os.path.exists(errpath) and "running" in \
                        open(errpath).read():
                    break
                if any("running" in m.get("MESSAGE", "") for m in msgs):
                    break
        vt.stop(p)
        s.settimeout(0.5)
        try:
            while True:
                msgs.append(parse_journal(s.recv(65536)))
        except socket.timeout:
            pass
        err.close()
        results[target] = {"journal": msgs, "stderr": open(errpath).read()}
    print(json.dumps(results))


def test_journal(tmp):
    """log.target journald and auto against a journal socket of our own
    (root: a mount namespace with /run of its own)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("skip  journald (needs root for a mount namespace)")
        return
    r = subprocess.run(["unshare", "-m", sys.executable,
                        os.path.abspath(__file__), AGENT, COLLECTOR, SRC,
                        "--journal", tmp],
                       capture_output=True, text=True, timeout=120)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        vt.check("journald: the namespace run reports", False,
                 r.stdout[-500:] + r.stderr[-1500:])
        return
    j = res["journald"]["journal"]
    running = [m for m in j if "running" in m.get("MESSAGE", "")]
    vt.check("journald: entries reach the journal socket", len(running) == 1,
             j[:5])
    if running:
        m = running[0]
        vt.check("journald: PRIORITY=6 (info)", m.get("PRIORITY") == "6", m)
        vt.check("journald: SYSLOG_IDENTIFIER=vigil-agent",
                 m.get("SYSLOG_IDENTIFIER") == "vigil-agent", m)
        vt.check("journald: CODE_FILE, CODE_LINE and CODE_FUNC name the "
                 "call site",
                 m.get("CODE_FILE", "").endswith("main.c") and
                 m.get("CODE_LINE", "").isdigit() and
                 m.get("CODE_FUNC") == "run_engine", m)
        vt.check("journald: MESSAGE is the bare text",
                 m.get("MESSAGE", "").startswith("vigil-agent ") and
                 "<6>" not in m.get("MESSAGE", ""), m)
    vt.check("journald: nothing on stderr but what comes before the "
             "target is set", "running" not in res["journald"]["stderr"],
             res["journald"]["stderr"][-500:])
    vt.check("auto: JOURNAL_STREAM is our stderr -> journal",
             any("running" in m.get("MESSAGE", "")
                 for m in res["auto"]["journal"]) and
             "running" not in res["auto"]["stderr"],
             res["auto"]["stderr"][-500:])
    vt.check("stderr: lines go to stderr, none to the journal",
             not res["stderr"]["journal"] and
             "running" in res["stderr"]["stderr"],
             (res["stderr"]["journal"][:3], res["stderr"]["stderr"][-300:]))


def main():
    if len(sys.argv) > 5 and sys.argv[4] == "--journal":
        in_mount_ns(sys.argv[5])
        return 0
    tmp = tempfile.mkdtemp(prefix="vigil-service-")
    try:
        # The agent: live on lo as root, else the file scanner alone.
        watch = os.path.join(tmp, "watch")
        os.makedirs(watch)
        cfg = os.path.join(tmp, "agent.yaml")
        root = os.geteuid() == 0
        text = ("workers: 1\n"
                "files:\n  watch: [%s]\n  schedule: 0\n" % watch +
                "output:\n  file:\n    path: %s\n" % os.path.join(tmp, "eve")
                + "  stats_interval: 0\nlog:\n  target: stderr\n"
                "control:\n  socket: %s\n" % os.path.join(tmp, "agent.sock"))
        if root:
            text += ("capture:\n  interfaces:\n    - name: lo\n"
                     "      bpf: udp port 9\n      promiscuous: false\n")
        vt.write(cfg, text)
        argv = [AGENT, "run", "-c", cfg] + (["--allow-root"] if root else [])
        exercise("agent", argv, tmp, {},
                 "capturing on lo" if root else "watching 1 folders")
        foreign_watchdog("agent", argv, tmp, {})

        redis = vt.Redis(tmp)
        archive = os.path.join(tmp, "archive")
        os.makedirs(archive)
        port = vt.free_port()
        ccfg = vt.write(os.path.join(tmp, "collector.yaml"),
                        "redis:\n  url: redis://127.0.0.1:%d\n" % redis.port +
                        "consumer:\n  block_ms: 200\n"
                        "archive:\n  dir: %s\n" % archive +
                        "http:\n  listen: \"127.0.0.1:%d\"\n" % port +
                        "log:\n  target: stderr\n")
        cargv = [COLLECTOR, "run", "-c", ccfg]
        exercise("collector", cargv, tmp, {}, "consuming as")
        foreign_watchdog("collector", cargv, tmp, {})
        redis.stop()
        test_journal(tmp)
    finally:
        vt.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return vt.summary()


if __name__ == "__main__":
    sys.exit(main())
