#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Two vigil-collectors of one center share one view, kept in Redis.

(a) Two collectors of one group on one real redis-server; alerts,
    fileinfo events and stats heartbeats XADDed to three agencies'
    streams, some events sent twice (the agent's at-least-once resend).
    Both consume a share, and both answer /api/alerts, /api/alerts/ID,
    /api/stats/timeseries and /api/agents with the full view, identical
    on both and equal to what the test computed from what it sent:
    counts per minute and severity, the top signatures and countries (the
    cut at 10 included), agents online or not, their heartbeat values.
(b) One collector is killed (SIGKILL) holding entries it read and never
    acknowledged; more events arrive; the survivor claims the entries
    (XAUTOCLAIM); no event is counted twice. Restarted, the killed one
    shows the same view at once (the recent stream's history, the counts
    in Redis), and /api/stream of one collector carries the events the
    other one consumed.
(c) The recent stream made anew with smaller IDs: read again from its
    start after a reconnect. Redis stopped: /api/agents and /api/stats/timeseries answer 503.
(d) With the shipped ACL template (packaging/redis/users.acl) the
    collector's user may run the script.
(e) Redis Cluster (three masters): discovery finds agency streams on
    every master without vigil:agencies, and the shared view works there
    (its keys share one hash tag).

usage: collector_shared.py COLLECTOR SOURCE_DIR
Python 3 standard library only; needs redis-server and redis-cli.
"""
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import (Redis, check, cleanup, free_port,  # noqa: E402
                       procs, results, summary, wait_for, write)

COLLECTOR, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
SERVERS = os.path.join(SRC, "tests", "tools", "redis", "servers.py")
AGENCIES = ["so-hanoi", "so-hue", "so-danang"]


# ---- Events ----------------------------------------------------------

def ts_str(t):
    d = datetime.fromtimestamp(t, timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d+0000" % d.microsecond


def minute_str(t):
    return datetime.fromtimestamp(int(t // 60) * 60, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def event_id():
    return str(uuid.uuid4())


def alert(t, agency, agent, sev, sig, sid, country):
    ev = {"timestamp": ts_str(t), "event_type": "alert", "host": "h-" + agent,
          "src_ip": "10.0.0.1", "dest_ip": "10.0.0.2",
          "alert": {"signature": sig, "signature_id": sid,
                    "category": "test", "severity": sev},
          "vigil": {"event_id": event_id(), "agency": agency,
                    "agent_id": agent, "agent_version": "0.9.1"}}
    if country:
        ev["geoip"] = {"src": {"country_iso": country}}
    return ev


def fileinfo(t, agency, agent):
    return {"timestamp": ts_str(t), "event_type": "fileinfo",
            "host": "h-" + agent,
            "fileinfo": {"filename": "x.exe", "size": 3},
            "vigil": {"event_id": event_id(), "agency": agency,
                      "agent_id": agent, "agent_version": "0.9.1"}}


def stats(t, agency, agent, uptime, kd, rd, pending):
    return {"timestamp": ts_str(t), "event_type": "stats",
            "host": "h-" + agent,
            "stats": {"uptime": uptime,
                      "capture": {"kernel_drops": kd, "ring_drops": rd},
                      "spool": {"pending": pending}},
            "vigil": {"event_id": event_id(), "agency": agency,
                      "agent_id": agent, "agent_version": "0.9.2"}}


SIGS = [("Sig %02d" % i, 2000 + i) for i in range(12)]
COUNTRIES = ["RU", "CN", "US", "KP", "IR", "BR", "IN", "DE", "FR", "NL",
             "SG", "JP"]


def make_alerts(now, n, rng):
    """n alerts (and a fileinfo every 7th) over the last 5 minutes. The
    signatures' and countries' totals all differ, so the top lists have
    one right answer."""
    out = []
    for i in range(n):
        # weights: signature k is picked about (k + 1) times as often
        k = min(int((rng.random() ** 0.5) * len(SIGS)), len(SIGS) - 1)
        c = rng.randrange(len(COUNTRIES) + 2)
        t = now - rng.uniform(2, 300)
        agency = AGENCIES[i % 3]
        agent = "ag-%d" % (i % 3)
        if i % 7 == 6:
            out.append(fileinfo(t, agency, agent))
        else:
            out.append(alert(t, agency, agent, 1 + i % 4, SIGS[k][0],
                             SIGS[k][1],
                             COUNTRIES[c] if c < len(COUNTRIES) else None))
    return out


def expected_view(events):
    """What /api/stats/timeseries and the store must show: each event
    counted once."""
    seen, minutes, sigs, ctry, items = set(), {}, {}, {}, {}
    for ev in events:
        eid = ev["vigil"]["event_id"]
        if eid in seen or ev["event_type"] not in ("alert", "fileinfo"):
            continue
        seen.add(eid)
        items[eid] = ev
        t = datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        m = minute_str(t.timestamp())
        sev = str(ev.get("alert", {}).get("severity", 4))
        minutes.setdefault(m, {"1": 0, "2": 0, "3": 0, "4": 0})[sev] += 1
        if ev["event_type"] == "alert":
            key = (ev["alert"]["signature"], ev["alert"]["signature_id"])
            sigs[key] = sigs.get(key, 0) + 1
            cc = ev.get("geoip", {}).get("src", {}).get("country_iso")
            if cc:
                ctry[cc] = ctry.get(cc, 0) + 1
    top_s = sorted(sigs.items(), key=lambda kv: (-kv[1], kv[0][0]))[:10]
    top_c = sorted(ctry.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "minutes": minutes,
        "top_signatures": [{"signature": s, "signature_id": i, "count": n}
                           for (s, i), n in top_s],
        "top_countries": [{"country": c, "count": n} for c, n in top_c],
        "items": items,
    }


def send(redis, ev, line=None):
    key = "vigil:events:{%s}" % ev["vigil"]["agency"]
    redis.xadd(key, ev, line)


# ---- Collectors ------------------------------------------------------

class Collector:
    def __init__(self, tmp, name, redis_url, mode="single", center=None,
                 max_agents=None):
        self.name = name
        self.port = free_port()
        self.archive = os.path.join(tmp, "archive-" + name)
        self.log = os.path.join(tmp, name + ".log")
        self.cfg = write(
            os.path.join(tmp, name + ".yaml"),
            "redis:\n  url: %s\n  mode: %s\n"
            "consumer:\n  name: %s\n  batch: 20\n  block_ms: 200\n"
            "  claim_idle: 2s\n"
            "archive:\n  dir: %s\n  compress: false\n"
            "http:\n  listen: 127.0.0.1:%d\n%s"
            % (redis_url, mode, name, self.archive, self.port,
               ("center:\n  name: %s\n" % center if center else "") +
               ("  max_agents: %d\n" % max_agents if max_agents else "")))
        self.p = None
        self.start()

    def start(self):
        f = open(self.log, "a")
        self.p = subprocess.Popen([COLLECTOR, "run", "-c", self.cfg],
                                  stdout=f, stderr=subprocess.STDOUT)
        procs.append(self.p)
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(self.name + " did not start: " + self.text())

    def kill(self):
        os.kill(self.p.pid, signal.SIGKILL)
        self.p.wait()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(30)
        return self.p.returncode

    def text(self):
        with open(self.log) as f:
            return f.read()

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            try:
                return r.status, json.loads(body)
            except ValueError:
                return r.status, body
        finally:
            c.close()

    def archived(self):
        n = 0
        for root, _, files in os.walk(self.archive):
            for f in files:
                with open(os.path.join(root, f)) as fh:
                    n += sum(1 for line in fh if line.strip())
        return n

    def alerts(self):
        st, body = self.get("/api/alerts?limit=1000")
        return body["items"] if st == 200 else None

    def series(self):
        st, body = self.get("/api/stats/timeseries?minutes=60")
        if st != 200:
            return None
        return {"minutes": {m["t"]: m["by_severity"]
                            for m in body["minutes"] if m["total"]},
                "totals_ok": all(sum(m["by_severity"].values()) ==
                                 m["total"] for m in body["minutes"]),
                "n": len(body["minutes"]),
                "top_signatures": body["top_signatures"],
                "top_countries": body["top_countries"]}

    def agents(self):
        st, body = self.get("/api/agents")
        return body["items"] if st == 200 else None


def same_view(want, col):
    """None when col shows exactly want, else what differs."""
    s = col.series()
    if s is None:
        return "timeseries not 200"
    diff = []
    if s["minutes"] != want["minutes"]:
        diff.append(("minutes", s["minutes"], want["minutes"]))
    for k in ("top_signatures", "top_countries"):
        if s[k] != want[k]:
            diff.append((k, s[k], want[k]))
    if not s["totals_ok"] or s["n"] != 60:
        diff.append("totals or window")
    items = col.alerts()
    if items is None:
        diff.append("alerts not 200")
    else:
        ids = [e["vigil"]["event_id"] for e in items]
        if sorted(ids) != sorted(want["items"]):
            diff.append(("alerts", len(ids), len(want["items"]),
                         len(set(ids))))
    return diff or None


def lag_zero(redis):
    """Every entry delivered to the group and acknowledged."""
    for a in AGENCIES:
        key = "vigil:events:{%s}" % a
        if redis.pending(key) != 0:
            return False
        last = redis.cli("XINFO", "STREAM", key).split("\n")
        info = dict(zip(last[0::2], last[1::2]))
        groups = redis.cli("XINFO", "GROUPS", key).split("\n")
        g = dict(zip(groups[0::2], groups[1::2]))
        if g.get("last-delivered-id") != info.get("last-generated-id"):
            return False
    return True


# ---- Tests -----------------------------------------------------------

def test_shared(tmp):
    rng = random.Random(6)
    redis = Redis(tmp, "shared")
    url = "redis://127.0.0.1:%d" % redis.port
    now = time.time()
    sent = []
    try:
        for a in AGENCIES:  # the streams exist before the collectors
            redis.cli("XGROUP", "CREATE", "vigil:events:{%s}" % a,
                      "vigil-collectors", "0", "MKSTREAM")
        a = Collector(tmp, "col-a", url)
        b = Collector(tmp, "col-b", url)

        # Phase 1: both consume.
        batch1 = make_alerts(now, 300, rng)
        hb = [stats(now - 80, "so-hanoi", "ag-0", 100, 2, 3, 7),
              stats(now - 1, "so-hanoi", "ag-0", 160, 4, 5, 9),
              stats(now - 200, "so-hue", "ag-1", 50, 1, 0, 0),
              stats(now - 160, "so-hue", "ag-3", 40, 0, 0, 0),
              stats(now - 100, "so-hue", "ag-3", 100, 0, 0, 0),
              stats(now - 5, "so-danang", "ag-9", 10, 0, 0, 1)]
        for ev in batch1 + hb:
            send(redis, ev)
            sent.append(ev)
        # the agent's resend: the same events once more, other entries
        for ev in batch1[:40]:
            send(redis, ev)
            sent.append(ev)
        # a pretty-printed resend of one (same event, other bytes)
        send(redis, batch1[50], json.dumps(batch1[50], indent=1))
        want = expected_view(sent)
        ok = wait_for(lambda: lag_zero(redis) and same_view(want, a) is None
                      and same_view(want, b) is None, 60, 0.3)
        check("shared: both collectors show every event once "
              "(%d alerts/fileinfo)" % len(want["items"]),
              ok, (same_view(want, a), same_view(want, b)))
        na, nb = a.archived(), b.archived()
        check("shared: both consumed a share (%d + %d)" % (na, nb),
              na > 0 and nb > 0, (na, nb))
        sa, sb = a.series(), b.series()
        check("shared: timeseries identical on both", sa == sb, (sa, sb))
        check("shared: top signatures cut at 10, by count",
              len(sa["top_signatures"]) == 10 and
              sa["top_signatures"] == want["top_signatures"],
              sa["top_signatures"])
        check("shared: top countries cut at 10, alerts without GeoIP "
              "not counted", sa["top_countries"] == want["top_countries"]
              and len(sa["top_countries"]) == 10, sa["top_countries"])
        # An event consumed by either is on both, byte for byte.
        ev = batch1[10]
        eid = ev["vigil"]["event_id"]
        ra, rb = a.get("/api/alerts/" + eid), b.get("/api/alerts/" + eid)
        check("shared: /api/alerts/ID on both collectors",
              ra[0] == 200 and ra == rb and ra[1] == ev, (ra, rb))

        ga, gb = a.agents(), b.agents()
        check("shared: agents identical on both", ga == gb and ga,
              (ga, gb))
        byid = {x["agent_id"]: x for x in ga or []}
        a0, a1, a2, a3, a9 = (byid.get(k, {}) for k in
                              ("ag-0", "ag-1", "ag-2", "ag-3", "ag-9"))
        check("shared: agents sorted by agency then id",
              [(x["agency"], x["agent_id"]) for x in ga] ==
              [("so-danang", "ag-2"), ("so-danang", "ag-9"),
               ("so-hanoi", "ag-0"), ("so-hue", "ag-1"), ("so-hue", "ag-3")],
              ga)
        # host and version: of the agent's newest event (by time, not
        # by which collector recorded it first), the heartbeat here
        check("shared: heartbeat values of the last stats event",
              a0.get("capture_drops") == 9 and a0.get("spool_pending") == 9
              and a0.get("uptime") == 160 and a0.get("online") is True and
              a0.get("version") == "0.9.2", a0)
        check("shared: last heartbeat 100 s ago, interval 60 s from two "
              "heartbeats: online", a3.get("online") is True and
              a3.get("uptime") == 100, a3)
        check("shared: last heartbeat 200 s ago at 30 s: offline",
              a1.get("online") is False and a1.get("uptime") == 50, a1)
        check("shared: an agent of alerts only: offline, nulls, last_seen",
              a2.get("online") is False and a2.get("uptime") is None and
              a2.get("capture_drops") is None and
              a2.get("last_seen") is not None, a2)
        check("shared: a fresh heartbeat: online", a9.get("online") is True,
              a9)

        # Phase 2: a dies holding entries it read; more events arrive.
        # b is stopped meanwhile, so that the entries are a's for
        # certain; among them events recorded already (resent).
        keys = ["vigil:events:{%s}" % x for x in AGENCIES]
        a.kill()
        b.p.send_signal(signal.SIGSTOP)
        batch2 = make_alerts(now, 200, rng)
        for ev in batch2 + batch1[100:130]:
            send(redis, ev)
            sent.append(ev)
        for k in keys:
            redis.cli("XREADGROUP", "GROUP", "vigil-collectors", "col-a",
                      "COUNT", "60", "STREAMS", k, ">")
        stranded = sum(int(redis.cli("XPENDING", k, "vigil-collectors")
                           .split("\n")[0] or 0) for k in keys)
        b.p.send_signal(signal.SIGCONT)
        check("shared: the killed one holds unacknowledged entries (%d)"
              % stranded, stranded > 20, stranded)
        # resent again while it is down, a late heartbeat too
        for ev in batch2[:30]:
            send(redis, ev)
            sent.append(ev)
        late = stats(now - 100, "so-hanoi", "ag-0", 1, 0, 0, 0)
        send(redis, late)
        sent.append(late)
        want = expected_view(sent)
        ok = wait_for(lambda: lag_zero(redis) and
                      same_view(want, b) is None, 60, 0.3)
        check("shared: the survivor claimed them; every event counted "
              "once (%d)" % len(want["items"]), ok, same_view(want, b))
        check("shared: the survivor logged the claim",
              "claimed" in b.text(), b.text()[-800:])
        gb = b.agents()
        a0 = {x["agent_id"]: x for x in gb}.get("ag-0", {})
        check("shared: a late heartbeat changes nothing",
              a0.get("uptime") == 160 and a0.get("capture_drops") == 9, a0)

        # Phase 3: restarted, a shows the same at once.
        a.start()
        ok = wait_for(lambda: same_view(want, a) is None, 20, 0.3)
        check("shared: the restarted collector shows the same view", ok,
              same_view(want, a))
        check("shared: ... and the same agents", a.agents() == b.agents(),
              (a.agents(), b.agents()))
        # a's event stream carries what b consumed (and vice versa).
        got = stream_ids(a, [alert(time.time(), AGENCIES[i % 3], "ag-0", 2,
                                   "Live", 99, None) for i in range(12)],
                         redis)
        want_ids, seen = got
        check("shared: /api/stream carries events whichever collector "
              "consumed them", want_ids <= seen, (len(want_ids), len(seen)))
        rc = b.stop()
        check("shared: SIGTERM stops it, exit 0", rc == 0, b.text()[-800:])

        # The recent stream made anew with smaller IDs (Redis lost its
        # data): after a reconnect, a's tail reads it from the start.
        ev = alert(time.time(), "so-hue", "ag-1", 3, "Reset", 77, None)
        redis.cli("DEL", "vigil:center:{main}:recent")
        redis.cli("XADD", "vigil:center:{main}:recent", "1-1", "eve",
                  json.dumps(ev))
        redis.cli("CLIENT", "KILL", "TYPE", "normal")
        path = "/api/alerts/" + ev["vigil"]["event_id"]
        got = wait_for(lambda: a.get(path)[0] == 200, 15, 0.3)
        check("shared: a stream older than what was read is read again",
              got and "reading it again" in a.text(), a.text()[-800:])

        # Phase 4: Redis down.
        redis.stop()
        st1, _ = a.get("/api/agents")
        time.sleep(1.2)  # past the view's cache
        st1, b1 = a.get("/api/agents")
        st2, b2 = a.get("/api/stats/timeseries")
        st3, _ = a.get("/healthz")
        check("shared: Redis down: /api/agents and /api/stats/timeseries "
              "answer 503", st1 == 503 and st2 == 503 and
              b1 == {"error": "redis is down"}, (st1, b1, st2, b2))
        st4, body = a.get("/api/alerts?limit=5")
        check("shared: Redis down: /api/alerts still served from memory",
              st4 == 200 and len(body["items"]) == 5, (st4, body))
        a.stop()
    finally:
        redis.stop()


def stream_ids(col, events, redis):
    """Open col's /api/stream, send events, return (their ids, ids seen
    on the stream within 15 s)."""
    s = socket.create_connection(("127.0.0.1", col.port), 10)
    s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(0.5)
    buf = b""
    end = time.time() + 3
    while b"retry: 3000" not in buf and time.time() < end:
        try:
            buf += s.recv(65536)
        except socket.timeout:
            pass
    for ev in events:
        send(redis, ev)
    ids = {ev["vigil"]["event_id"] for ev in events}
    seen = set()
    end = time.time() + 15
    while not ids <= seen and time.time() < end:
        try:
            buf += s.recv(65536)
        except socket.timeout:
            continue
        for line in buf.split(b"\n"):
            if line.startswith(b"id: "):
                seen.add(line[4:].strip().decode())
    s.close()
    return ids, seen


def test_cluster(tmp):
    d = os.path.join(tmp, "cluster")
    r = subprocess.run([sys.executable, SERVERS, "start", "cluster", d],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        check("cluster: servers.py started a cluster", False, r.stderr)
        return
    try:
        with open(os.path.join(d, "servers.json")) as f:
            st = json.load(f)
        ports = st["ports"]

        def cli(*args):
            return subprocess.run(["redis-cli", "-c", "-p", str(ports[0])]
                                  + list(args), capture_output=True,
                                  text=True, timeout=60).stdout.strip()

        # agencies whose streams land on every master
        agencies = ["ag-%d" % i for i in range(60)]
        now = time.time()
        sent = []
        for i, ag in enumerate(agencies):
            ev = alert(now - i, ag, "c-%d" % i, 1 + i % 4, "Cl", 7, "VN")
            cli("XADD", "vigil:events:{%s}" % ag, "*", "type", "alert",
                "id", ev["vigil"]["event_id"],
                "eve", json.dumps(ev, separators=(",", ":")))
            sent.append(ev)
        per_master = []
        for p in ports:
            out = subprocess.run(["redis-cli", "-p", str(p), "--scan",
                                  "--pattern", "vigil:events:*"],
                                 capture_output=True, text=True,
                                 timeout=60).stdout.split()
            per_master.append(len(out))
        check("cluster: the streams are spread over the 3 masters %s"
              % per_master, all(n > 0 for n in per_master) and
              sum(per_master) == len(agencies), per_master)
        col = Collector(tmp, "col-cl", "redis://127.0.0.1:%d" % ports[0],
                        mode="cluster", center="cl")
        want = expected_view(sent)
        ok = wait_for(lambda: col.archived() == len(sent) and
                      same_view(want, col) is None, 60, 0.3)
        check("cluster: every agency's stream found and consumed (%d), "
              "the shared view complete" % len(sent), ok,
              (col.archived(), same_view(want, col), col.text()[-1500:]))
        slot = cli("CLUSTER", "KEYSLOT", "vigil:center:{cl}:seen")
        check("cluster: the view's keys share one slot",
              all(cli("CLUSTER", "KEYSLOT", "vigil:center:{cl}:" + k) ==
                  slot for k in ("recent", "agents", "m:1", "agent:x")),
              slot)
        col.stop()
    finally:
        subprocess.run([sys.executable, SERVERS, "stop", d],
                       capture_output=True, timeout=60)


def test_acl(tmp):
    """The shipped ACL template lets the collector run its script."""
    acl = os.path.join(tmp, "users.acl")
    with open(os.path.join(SRC, "packaging", "redis", "users.acl")) as f:
        write(acl, f.read())
    redis = Redis(tmp, "acl", extra=["--aclfile", acl],
                  auth=("vigil-collector", "change-me-collector"))
    try:
        col = Collector(tmp, "col-acl",
                        "redis://vigil-collector:change-me-collector@"
                        "127.0.0.1:%d" % redis.port)
        evs = [alert(time.time() - i, "so-tttt-hanoi", "h-1", 2, "Acl", 5,
                     "VN") for i in range(5)]
        for ev in evs:
            r = subprocess.run(
                ["redis-cli", "-s", redis.sock, "--no-auth-warning",
                 "--user", "so-tttt-hanoi", "--pass", "change-me-hanoi",
                 "XADD", "vigil:events:{so-tttt-hanoi}", "*", "type",
                 "alert", "id", ev["vigil"]["event_id"], "eve",
                 json.dumps(ev)], capture_output=True, text=True,
                timeout=30)
        want = expected_view(evs)
        ok = wait_for(lambda: same_view(want, col) is None, 30, 0.3)
        check("acl: with the shipped users.acl the shared view works", ok,
              (r.stdout, r.stderr, same_view(want, col),
               col.text()[-1500:]))
        col.stop()
    finally:
        redis.stop()


def test_caps(tmp):
    """center.max_agents: agents beyond are not tracked, their events
    still counted; another center's keys are apart."""
    redis = Redis(tmp, "caps")
    try:
        col = Collector(tmp, "col-caps", "redis://127.0.0.1:%d" % redis.port,
                        center="caps", max_agents=3)
        now = time.time()
        evs = [alert(now - 10 + i, "so-hue", "cap-%d" % i, 1, "Cap", 1,
                     None) for i in range(5)]
        for ev in evs:
            send(redis, ev)
        want = expected_view(evs)
        ok = wait_for(lambda: same_view(want, col) is None, 30, 0.3)
        check("caps: every event counted", ok, same_view(want, col))
        ids = [x["agent_id"] for x in col.agents() or []]
        check("caps: at most center.max_agents (3) agents tracked",
              ids == ["cap-0", "cap-1", "cap-2"], ids)
        keys = redis.cli("KEYS", "*").split()
        check("caps: the view's keys under vigil:center:{caps}:",
              keys and all(k.startswith("vigil:center:{caps}:") or
                           k.startswith("vigil:events:") for k in keys),
              keys)
        col.stop()
    finally:
        redis.stop()


def test_check(tmp):
    bad = write(os.path.join(tmp, "bad-center.yaml"),
                "archive:\n  dir: /x\ncenter:\n  name: \"a}b\"\n")
    r = subprocess.run([COLLECTOR, "check", "-c", bad], capture_output=True,
                       text=True, timeout=30)
    check("check: a center name that would break the hash tag is refused",
          r.returncode != 0 and "center.name" in r.stderr and
          ":4:" in r.stderr, r.stderr)
    bad = write(os.path.join(tmp, "bad-recent.yaml"),
                "center:\n  recent_events: 0\n")
    r = subprocess.run([COLLECTOR, "check", "-c", bad], capture_output=True,
                       text=True, timeout=30)
    check("check: center.recent_events out of range is refused",
          r.returncode != 0 and "center.recent_events" in r.stderr and
          ":2:" in r.stderr, r.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-shared-")
    try:
        for t in (test_check, test_acl, test_caps, test_shared,
                  test_cluster):
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
