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
"""
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


def main():
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
                + "  stats_interval: 0\nlog:\n  target: stderr\n")
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
    finally:
        vt.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return vt.summary()


if __name__ == "__main__":
    sys.exit(main())
