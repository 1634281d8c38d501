#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigil-collector against a real redis-server and real agent output.

(a) One collector archives every alert of an agency's stream exactly once
    in ARCHIVE/AGENCY/DAY.ndjson (DAY: the UTC day of the timestamp) and
    leaves nothing pending.
(b) Two collectors of one group share two agencies' streams; one is
    killed with SIGKILL mid-way; the survivor claims its pending entries
    (XAUTOCLAIM, claim_idle 2 s): in the end every alert is archived, and
    the only duplicates are entries the killed one archived but had not
    acknowledged (at most one read of it: batch per stream).
(c) `vigil-collector check` refuses an unknown key, naming it.

usage: collector.py COLLECTOR AGENT SOURCE_DIR
Python 3 standard library only; needs redis-server and redis-cli.
"""
import glob
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import (Redis, check, cleanup, free_port,  # noqa: E402
                       procs, results, summary, write)

COLLECTOR, AGENT, SRC = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
TOOLS = os.path.join(SRC, "tests", "tools")


def make_pcap(tmp, n):
    path = os.path.join(tmp, "dns-%d.pcap" % n)
    if not os.path.exists(path):
        subprocess.run([sys.executable,
                        os.path.join(TOOLS, "make-dns-flows-pcap.py"),
                        path, str(n)], check=True)
    return path


def produce(tmp, redis, agency, n):
    """Replay a capture of n DNS flows: n alerts in agency's stream."""
    d = os.path.join(tmp, "agent-" + agency)
    os.makedirs(d)
    rules = write(os.path.join(d, "dns.yaml"),
                  "- id: 9000001\n  name: DNS query seen\n  category: test\n"
                  "  severity: low\n  match: {protocol: DNS}\n")
    cfg = write(os.path.join(d, "agent.yaml"),
                "agent:\n  agency: %s\n  id: agent-%s\n"
                "detection:\n  rules: [%s]\n  ioc: []\n"
                "output:\n  stats_interval: 0\n  redis:\n"
                "    url: redis://127.0.0.1:%d\n"
                "  spool:\n    dir: %s\nlog:\n  level: warning\n"
                % (agency, agency, rules, redis.port,
                   os.path.join(d, "spool")))
    r = subprocess.run([AGENT, "replay", "-c", cfg, "--output", "/dev/null",
                        make_pcap(tmp, n)], capture_output=True, text=True,
                       timeout=600)
    xlen = redis.cli("XLEN", "vigil:events:{%s}" % agency)
    check("agent: %d alerts of %s in Redis" % (n, agency),
          r.returncode == 0 and xlen == str(n),
          "rc %d, XLEN %s: %s" % (r.returncode, xlen, r.stderr[-600:]))


def collector_cfg(tmp, name, redis, archive, batch=256, extra=""):
    return write(os.path.join(tmp, name + ".yaml"),
                 "redis:\n  url: redis://127.0.0.1:%d\n"
                 "consumer:\n  name: %s\n  batch: %d\n  block_ms: 200\n"
                 "  claim_idle: 2s\n"
                 "archive:\n  dir: %s\n"
                 "http:\n  listen: 127.0.0.1:%d\n  static_dir: %s\n%s"
                 % (redis.port, name, batch, archive, free_port(),
                    os.path.join(SRC, "dashboards", "web"), extra))


def start(cfg, log):
    f = open(log, "w")
    p = subprocess.Popen([COLLECTOR, "run", "-c", cfg], stdout=f,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def read_archive(archive, torn=None):
    """Every archived event: (path, json) for .ndjson and .ndjson.gz.

    A line still being written (no newline yet) is left for later. A whole
    line that is not JSON was torn by a collector killed mid-write (the
    next writer ends it); it is appended to torn when given."""
    out = []
    for path in sorted(glob.glob(os.path.join(archive, "*", "*.ndjson*"))):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                try:
                    out.append((path, json.loads(line)))
                except ValueError:
                    if torn is None:
                        raise
                    torn.append((path, line[:120]))
    return out


def alert_ids(events):
    return [ev["vigil"]["event_id"] for _, ev in events
            if ev.get("event_type") == "alert"]


def utc_day(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(
        timezone.utc).strftime("%Y-%m-%d")


def wait_for(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def stop(p, log):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with open(log) as f:
        return p.returncode, f.read()


# ---------------------------------------------------------------------

def test_one(tmp):
    n = 2000
    redis = Redis(tmp, "one")
    try:
        produce(tmp, redis, "agency-a", n)
        archive = os.path.join(tmp, "archive-one")
        log = os.path.join(tmp, "one.log")
        p = start(collector_cfg(tmp, "one", redis, archive), log)
        wait_for(lambda: len(alert_ids(read_archive(archive))) >= n, 60)
        key = "vigil:events:{agency-a}"
        wait_for(lambda: redis.pending(key) == 0, 10)
        rc, text = stop(p, log)
        events = read_archive(archive)
        ids = alert_ids(events)
        check("one: %d alerts archived, each id once" % n,
              len(ids) == n and len(set(ids)) == n,
              "%d lines, %d ids" % (len(ids), len(set(ids))))
        days = {utc_day(ev["timestamp"]) for _, ev in events}
        paths = {path for path, _ in events}
        want = {os.path.join(archive, "agency-a", d + ".ndjson")
                for d in days}
        check("one: in ARCHIVE/agency-a/DAY.ndjson (UTC day of the "
              "timestamp)", paths == want, "%s vs %s" % (paths, want))
        check("one: XPENDING shows 0 pending", redis.pending(key) == 0,
              redis.cli("XPENDING", key, "vigil-collectors"))
        check("one: SIGTERM stops it, exit 0", rc == 0, text[-1500:])
        # Started again: everything was acknowledged, nothing new.
        p = start(collector_cfg(tmp, "one-again", redis, archive), log)
        time.sleep(2)
        rc, text = stop(p, log)
        check("one: a restart archives nothing again",
              len(alert_ids(read_archive(archive))) == n and rc == 0,
              text[-800:])
        # The capture's days are long past: compressed at startup.
        gz = {w + ".gz" for w in want}
        now = set(glob.glob(os.path.join(archive, "*", "*")))
        check("one: old days compressed to .ndjson.gz at startup",
              now == gz, "%s vs %s" % (now, gz))
    finally:
        redis.stop()


def test_two(tmp):
    per, batch = 5000, 20
    agencies = ["agency-b1", "agency-b2"]
    redis = Redis(tmp, "two")
    try:
        for a in agencies:
            produce(tmp, redis, a, per)
        expected = set()
        for a in agencies:
            out = subprocess.run(["redis-cli", "-p", str(redis.port),
                                  "--raw", "XRANGE", "vigil:events:{%s}" % a,
                                  "-", "+"], capture_output=True, text=True,
                                 timeout=60).stdout.split("\n")
            for i, v in enumerate(out):
                if v == "id" and i + 1 < len(out):
                    expected.add(out[i + 1])
        archive = os.path.join(tmp, "archive-two")
        logs = [os.path.join(tmp, "two-%d.log" % i) for i in (1, 2)]
        ps = [start(collector_cfg(tmp, "two-%d" % i, redis, archive, batch),
                    logs[i - 1]) for i in (1, 2)]
        wait_for(lambda: len(alert_ids(read_archive(archive, []))) >= 2000,
                 60)
        os.kill(ps[0].pid, signal.SIGKILL)
        ps[0].wait()
        killed_at = len(alert_ids(read_archive(archive, [])))
        keys = ["vigil:events:{%s}" % a for a in agencies]
        # Leave the dead consumer for certain with entries it read and
        # never acknowledged: only XAUTOCLAIM can bring those to the
        # archive.
        for k in keys:
            redis.cli("XREADGROUP", "GROUP", "vigil-collectors", "two-1",
                      "COUNT", "50", "STREAMS", k, ">")
        stranded = sum(int(redis.cli("XPENDING", k, "vigil-collectors",
                                     "-", "+", "1000", "two-1")
                           .count("two-1") > 0) for k in keys)
        check("two: the dead consumer holds unacknowledged entries",
              stranded == len(keys), stranded)
        done = wait_for(
            lambda: len(set(alert_ids(read_archive(archive, [])))) >=
            len(expected) and all(redis.pending(k) == 0 for k in keys), 90)
        rc, text = stop(ps[1], logs[1])
        torn = []
        ids = alert_ids(read_archive(archive, torn))
        # The kill may tear the line being written, in one file at most;
        # the survivor ends it, so every other line stays whole.
        check("two: at most one line torn by the kill, and kept apart",
              len(torn) <= 1, torn)
        dups = len(ids) - len(set(ids))
        check("two: every alert archived (%d)" % len(expected),
              done and set(ids) == expected and len(expected) == 2 * per,
              "%d unique of %d expected, killed at %d lines"
              % (len(set(ids)), len(expected), killed_at))
        # The dead one's last read (at most `batch` entries per stream)
        # may have been archived without its XACK.
        check("two: duplicates (%d) only from the killed one's last read"
              % dups, dups <= batch * len(agencies), dups)
        survivor = 0
        for line in text.splitlines():
            if "archived " in line and "duplicates" in line:
                survivor = int(line.split("archived ")[1].split(",")[0])
        check("two: both collectors got a share (survivor archived %d)"
              % survivor, 0 < survivor < len(ids), text[-1500:])
        check("two: the survivor claimed the dead one's entries (XAUTOCLAIM)",
              "claimed" in text and "idle entries" in text, text[-800:])
        check("two: nothing left pending",
              all(redis.pending(k) == 0 for k in keys),
              [redis.cli("XPENDING", k, "vigil-collectors") for k in keys])
        check("two: the survivor exits 0", rc == 0, text[-800:])
    finally:
        redis.stop()


def test_check(tmp):
    bad = write(os.path.join(tmp, "bad.yaml"),
                "redis:\n  url: redis://127.0.0.1:6379\n"
                "consumer:\n  group: g\n  bogus_key: 1\n")
    r = subprocess.run([COLLECTOR, "check", "-c", bad], capture_output=True,
                       text=True, timeout=30)
    check("check: an unknown key is refused, named with its line",
          r.returncode != 0 and "consumer.bogus_key" in r.stderr and
          ":5:" in r.stderr, "rc %d: %s" % (r.returncode, r.stderr))
    good = write(os.path.join(tmp, "good.yaml"),
                 "archive:\n  dir: %s\n" % os.path.join(tmp, "x"))
    r = subprocess.run([COLLECTOR, "check", "-c", good], capture_output=True,
                       text=True, timeout=30)
    check("check: a valid file is OK", r.returncode == 0 and
          "configuration OK" in r.stdout, r.stdout + r.stderr)
    ex = os.path.join(SRC, "packaging", "config", "collector.yaml")
    r = subprocess.run([COLLECTOR, "check", "-c", ex], capture_output=True,
                       text=True, timeout=30)
    check("check: the shipped example is OK", r.returncode == 0,
          r.stdout + r.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-collector-")
    try:
        for t in (test_check, test_one, test_two):
            try:
                t(tmp)
            except Exception as e:  # a crash of one test is one failure
                check(t.__name__ + " ran", False, repr(e))
    finally:
        cleanup()
    if results["failed"] == 0:
        subprocess.run(["rm", "-rf", tmp])
    else:
        print("left in " + tmp)
    sys.exit(summary())


if __name__ == "__main__":
    main()
