#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The collector's HTTP API (collectors/API.md) against a real Redis.

Starts redis-server on a random 127.0.0.1 port (no persistence), then
vigil-collector twice: once on loopback without tokens, once with a tokens
file. Events go in with redis-cli XADD on vigil:events:{AGENCY}, with the
fields the agent writes (type, id, eve). Checked over HTTP: /healthz,
/api/alerts with its filters, paging and 400s, /api/alerts/ID and 404,
/api/agents, /api/stats/timeseries, /api/stream (a new alert within 2 s),
401 without a token, the static files and their headers, 405, 404.

usage: collector_api.py COLLECTOR SOURCE_DIR
"""
import datetime
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import (Redis, check, free_port,  # noqa: E402
                       procs, results, stop, summary, wait_for,
                       wait_port)  # noqa: E402

COLLECTOR, SRC = sys.argv[1], os.path.abspath(sys.argv[2])


def request(port, path, token=None, method="GET", timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Authorization": "Bearer " + token} if token else {}
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def get_json(port, path, token=None):
    st, h, b = request(port, path, token)
    try:
        return st, h, json.loads(b.decode("utf-8"))
    except ValueError:
        return st, h, None


def xadd(redis, ev):
    redis.xadd("vigil:events:" + ev["vigil"]["agency"], ev)


def iso_agent(t):
    """The agent's time format: 2026-12-01T08:00:00.123456+0000."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


def uuid7(n):
    return "0192f1c6-0000-7000-8000-%012d" % n


def event(n, t, etype="alert", agency="so-hanoi", sev=2, sig="SSH brute",
          country="RU", agent="a1"):
    ev = {"timestamp": iso_agent(t), "event_type": etype, "host": "web01",
          "src_ip": "10.0.0.%d" % n, "dest_ip": "192.0.2.1"}
    if etype == "alert":
        ev["alert"] = {"signature": sig, "signature_id": 1000 + len(sig),
                       "severity": sev, "category": "x", "action": "allowed"}
        if country:
            ev["geoip"] = {"src": {"country_iso": country}}
    else:
        ev["fileinfo"] = {"filename": "Report%d.PDF" % n, "size": 10}
    ev["vigil"] = {"event_id": uuid7(n), "agent_id": agent,
                   "agency": agency, "agent_version": "0.1.0"}
    return ev


def stats_event(n, t, agent, agency):
    return {"timestamp": iso_agent(t), "event_type": "stats",
            "host": "host-" + agent,
            "stats": {"uptime": 3600, "capture": {"kernel_drops": 4,
                                                  "ring_drops": 1},
                      "spool": {"pending": 2}},
            "vigil": {"event_id": uuid7(n), "agent_id": agent,
                      "agency": agency, "agent_version": "0.1.0"}}


def start_collector(tmp, redis, port, tokens_file=None, name="c"):
    cfg = os.path.join(tmp, name + ".yaml")
    archive = os.path.join(tmp, name + "-archive")
    os.makedirs(archive, exist_ok=True)
    with open(cfg, "w") as f:
        f.write("redis:\n  url: redis://127.0.0.1:%d\n" % redis.port)
        f.write("archive:\n  dir: %s\n" % archive)
        f.write("http:\n  listen: \"127.0.0.1:%d\"\n" % port)
        if tokens_file:
            f.write("  tokens_file: %s\n" % tokens_file)
        f.write("  static_dir: %s\n" % os.path.join(SRC, "dashboards", "web"))
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen([COLLECTOR, "run", "-c", cfg], stdout=log,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_port(port):
        log.close()
        with open(os.path.join(tmp, name + ".log")) as f:
            raise SystemExit("collector did not start:\n" + f.read())
    return p


def ids(body):
    return [e["vigil"]["event_id"] for e in (body or {}).get("items", [])]


def test_open(tmp, redis):
    port = free_port()
    now = datetime.datetime.now(datetime.timezone.utc).replace(
        second=0, microsecond=0) - datetime.timedelta(minutes=5)
    # A line torn by a collector killed mid-write: the next line appended
    # must not be glued to it.
    day = (now + datetime.timedelta(seconds=6)).strftime("%Y-%m-%d")
    torn_path = os.path.join(tmp, "open-archive", "so-hanoi", day + ".ndjson")
    os.makedirs(os.path.dirname(torn_path))
    with open(torn_path, "w") as f:
        f.write('{"timestamp":"2026-12-01T0')
    p = start_collector(tmp, redis, port, name="open")
    evs = [
        event(1, now + datetime.timedelta(seconds=1), sev=1),
        event(2, now + datetime.timedelta(seconds=2), agency="so-hue",
              sig="<script>alert(1)</script>", country="CN", agent="b1"),
        event(3, now + datetime.timedelta(seconds=3), etype="fileinfo"),
        event(4, now + datetime.timedelta(seconds=4), sev=3),
        event(5, now + datetime.timedelta(seconds=5), sev=1),
    ]
    # Speaking for another agency in one's own stream: archived there as
    # evidence, never shown or counted. XADDed first, so it is handled
    # before the events waited for below.
    spoof = event(6, now + datetime.timedelta(seconds=6), agency="so-hue",
                  sig="spoofed", agent="a1")
    redis.xadd("vigil:events:{so-hanoi}", spoof)
    for ev in evs:
        xadd(redis, ev)
    xadd(redis, evs[0])  # a resend: dropped by event id
    xadd(redis, stats_event(90, datetime.datetime.now(datetime.timezone.utc),
                           "a1", "so-hanoi"))
    redis.cli("XADD", "vigil:events:so-hanoi", "*", "type", "alert", "id",
              "x", "eve", "{not json")

    st, h, body = get_json(port, "/healthz")
    check("healthz 200", st == 200 and body == {
        "ok": True, "redis": "up", "version": body.get("version")}, body)
    check("healthz headers", h.get("cache-control") == "no-store" and
          h.get("x-content-type-options") == "nosniff" and
          h.get("content-type") == "application/json; charset=utf-8", h)
    check("no CORS", not any(k.startswith("access-control") for k in h), h)

    body = wait_for(lambda: (lambda r: r[2] if len(ids(r[2])) == 5 else None)(
        get_json(port, "/api/alerts")))
    check("alerts newest first", ids(body) == [uuid7(n) for n in
                                               (5, 4, 3, 2, 1)], body)
    check("alerts next null", body and body.get("next") is None, body)
    raw = json.dumps(evs[1], separators=(",", ":")).encode()
    st, _, b = request(port, "/api/alerts?agency=so-hue")
    check("events passed byte for byte", raw in b, b[:300])

    def q(params):
        return get_json(port, "/api/alerts?" + urllib.parse.urlencode(params))

    check("filter agency", ids(q({"agency": "so-hue"})[2]) == [uuid7(2)])
    check("filter empty agency = absent",
          len(ids(q({"agency": ""})[2])) == 5)
    check("filter severity", ids(q({"severity": "1"})[2]) ==
          [uuid7(5), uuid7(1)])
    check("filter severity 4 = fileinfo",
          ids(q({"severity": "4"})[2]) == [uuid7(3)])
    check("filter type", ids(q({"type": "fileinfo"})[2]) == [uuid7(3)])
    since = (now + datetime.timedelta(seconds=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    local = (now + datetime.timedelta(seconds=4)).astimezone(
        datetime.timezone(datetime.timedelta(hours=7))).strftime(
        "%Y-%m-%dT%H:%M:%S+07:00")
    check("filter since/until", ids(q({"since": since, "until": local})[2])
          == [uuid7(3), uuid7(2)])
    check("filter q", ids(q({"q": "REPORT3.pdf"})[2]) == [uuid7(3)])
    check("filter q agency", ids(q({"q": "HUE"})[2]) == [uuid7(2)])

    st, _, p1 = q({"limit": "2"})
    check("page 1", ids(p1) == [uuid7(5), uuid7(4)] and
          p1["next"] == uuid7(4), p1)
    st, _, p2 = q({"limit": "2", "before": p1["next"]})
    check("page 2", ids(p2) == [uuid7(3), uuid7(2)] and
          p2["next"] == uuid7(2), p2)
    st, _, p3 = q({"limit": "2", "before": p2["next"]})
    check("page 3", ids(p3) == [uuid7(1)] and p3["next"] is None, p3)

    for bad in ({"severity": "5"}, {"type": "flow"}, {"limit": "0"},
                {"limit": "1001"}, {"limit": "ten"}, {"since": "yesterday"},
                {"until": "2026-12-01T08:00:00"}, {"q": "x" * 201},
                {"before": uuid7(999)}, {"before": "nope"}):
        st, h, body = q(bad)
        check("400 %s" % list(bad)[0] + "=" + list(bad.values())[0][:20],
              st == 400 and isinstance(body, dict) and "error" in body,
              (st, body))
    st, _, body = get_json(port, "/api/stats/timeseries?minutes=0")
    check("400 minutes=0", st == 400, (st, body))

    st, _, b = request(port, "/api/alerts/" + uuid7(6))
    check("an event claiming another agency than its stream's is not "
          "shown", st == 404, (st, b[:200]))
    day = (now + datetime.timedelta(seconds=6)).strftime("%Y-%m-%d")
    archived = {}
    for ag in ("so-hanoi", "so-hue"):
        path = os.path.join(tmp, "open-archive", ag, day + ".ndjson")
        archived[ag] = open(path).read() if os.path.exists(path) else ""
    check("... but archived under its stream's agency, as it came",
          uuid7(6) in archived["so-hanoi"] and
          uuid7(6) not in archived["so-hue"] and
          json.dumps(spoof, separators=(",", ":")) in archived["so-hanoi"],
          archived)
    lines = archived["so-hanoi"].split("\n")
    check("a torn last line is ended before the next one is appended",
          lines[0] == '{"timestamp":"2026-12-01T0' and
          all(json.loads(x) for x in lines[1:] if x), lines[:3])

    # Archive member size: an event of VC_ARCHIVE_MAX_EVENT bytes is
    # archived (too large for the live view), one byte more is not. The
    # larger goes first, so once the other is archived it was handled.
    big = {}
    for n, size in ((8, 16 * 1024 * 1024 + 1), (7, 16 * 1024 * 1024)):
        ev = event(n, now + datetime.timedelta(seconds=6), sig="big")
        ev["pad"] = ""
        text = json.dumps(ev, separators=(",", ":"))
        ev["pad"] = "x" * (size - len(text))
        big[n] = json.dumps(ev, separators=(",", ":"))
        assert len(big[n]) == size
        subprocess.run(["redis-cli", "-s", redis.sock, "-x", "XADD",
                        "vigil:events:{so-hanoi}", "*", "type", "alert",
                        "id", uuid7(n), "eve"], input=big[n].encode(),
                       capture_output=True, timeout=60, check=True)

    def archived_hanoi():
        with open(torn_path) as f:
            return f.read()
    # The whole line, newline included: the id shows long before a
    # 16 MiB write is over.
    text = wait_for(lambda: (lambda t: t if (big[7] + "\n") in t else None)(
        archived_hanoi()), 120) or archived_hanoi()
    check("an event of 16 MiB is archived, one of 16 MiB + 1 is not",
          (big[7] + "\n") in text and uuid7(8) not in text,
          [len(x) for x in text.split("\n")])

    st, h, b = request(port, "/api/alerts/" + uuid7(4))
    check("alert by id", st == 200 and
          json.loads(b)["vigil"]["event_id"] == uuid7(4), (st, b[:200]))
    st, _, body = get_json(port, "/api/alerts/" + uuid7(404))
    check("alert unknown 404", st == 404 and body ==
          {"error": "unknown event"}, (st, body))
    st, _, body = get_json(port, "/api/alerts/not-a-uuid")
    check("alert bad id 400", st == 400, (st, body))

    st, _, body = get_json(port, "/api/agents")
    agents = {a["agent_id"]: a for a in (body or {}).get("items", [])}
    a1 = agents.get("a1", {})
    check("agents sorted", [a["agency"] for a in body["items"]] ==
          sorted(a["agency"] for a in body["items"]), body)
    check("agent a1 heartbeat", a1.get("online") is True and
          a1.get("capture_drops") == 5 and a1.get("spool_pending") == 2 and
          a1.get("uptime") == 3600 and a1.get("host") == "host-a1" and
          a1.get("version") == "0.1.0", a1)
    b1 = agents.get("b1", {})
    check("agent b1 without heartbeat", b1.get("online") is False and
          b1.get("uptime") is None and b1.get("last_seen", "").endswith("Z"),
          b1)

    st, _, ts = get_json(port, "/api/stats/timeseries?minutes=10")
    mins = (ts or {}).get("minutes", [])
    check("timeseries minutes", len(mins) == 10 and all(
        m["total"] == sum(m["by_severity"][k] for k in "1234") for m in mins),
        ts)
    check("timeseries total", sum(m["total"] for m in mins) == 5, mins)
    check("timeseries top", ts["top_signatures"][0] ==
          {"signature": "SSH brute", "signature_id": 1009, "count": 3} and
          ts["top_countries"][0] == {"country": "RU", "count": 3}, ts)
    st, _, ts = get_json(port, "/api/stats/timeseries")
    check("timeseries default 60", st == 200 and len(ts["minutes"]) == 60)

    # The stream: retry first, then a new alert within 2 s.
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(5)
    buf = b""
    while b"retry: 3000\n\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    check("stream headers", b"text/event-stream" in buf and
          b"no-store" in buf.lower(), buf[:400])
    check("stream retry", b"retry: 3000\n\n" in buf, buf[:400])
    ev = event(6, datetime.datetime.now(datetime.timezone.utc), sev=1)
    t0 = time.time()
    xadd(redis, ev)
    want = ("id: %s\ndata: %s\n\n" % (
        uuid7(6), json.dumps(ev, separators=(",", ":")))).encode()
    s.settimeout(0.2)
    while want not in buf and time.time() - t0 < 2.0:
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        except socket.timeout:
            pass
    check("stream gets new alert within 2 s", want in buf and
          b"event: alert\n" in buf, buf[-600:])
    s.close()

    # Static files.
    for path, name, ctype in (
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/index.html", "index.html", "text/html; charset=utf-8"),
            ("/app.js", "app.js", "text/javascript; charset=utf-8"),
            ("/i18n.js", "i18n.js", "text/javascript; charset=utf-8"),
            ("/style.css", "style.css", "text/css; charset=utf-8")):
        st, h, b = request(port, path)
        with open(os.path.join(SRC, "dashboards", "web", name), "rb") as f:
            want = f.read()
        check("static " + path, st == 200 and b == want and
              h.get("content-type") == ctype and
              h.get("cache-control") == "no-cache" and
              h.get("x-content-type-options") == "nosniff", (st, h))
    for path in ("/../collectors/API.md", "/CMakeLists.txt", "/web/app.js",
                 "/api/nothing", "/index.html/"):
        st, _, _ = request(port, path)
        check("404 " + path, st == 404, st)
    st, h, _ = request(port, "/api/alerts", method="POST")
    check("405 POST", st == 405 and h.get("allow") == "GET", (st, h))
    st, h, _ = request(port, "/api/alerts", method="DELETE")
    check("405 DELETE", st == 405, st)
    st, _, _ = request(port, "/app.js", method="HEAD")
    check("HEAD static", st == 200, st)
    stop(p)
    check("collector stops on SIGTERM", p.returncode == 0, p.returncode)


def test_tokens(tmp, redis):
    tokens = os.path.join(tmp, "tokens")
    with open(tokens, "w") as f:
        f.write("# the dashboard\n  s3cret-token-1  \n\nother-token\n")
    os.chmod(tokens, 0o600)
    port = free_port()
    p = start_collector(tmp, redis, port, tokens, name="auth")
    st, h, body = get_json(port, "/api/alerts")
    check("401 without token", st == 401 and
          h.get("www-authenticate") == 'Bearer realm="vigil"' and
          "error" in (body or {}), (st, h, body))
    st, _, _ = get_json(port, "/api/alerts", token="s3cret-token")
    check("401 with a prefix of a token", st == 401, st)
    st, _, _ = get_json(port, "/api/agents?token=s3cret-token-1")
    check("401 ?token= outside the stream", st == 401, st)
    st, _, body = get_json(port, "/api/alerts", token="s3cret-token-1")
    check("200 with token", st == 200 and "items" in body, (st, body))
    st, _, _ = get_json(port, "/api/agents", token="other-token")
    check("200 with the second token", st == 200, st)
    st, _, _ = get_json(port, "/healthz")
    check("healthz needs no token", st == 200, st)
    st, _, _ = request(port, "/app.js")
    check("static needs no token", st == 200, st)
    for path, want in (("/api/stream", 401),
                       ("/api/stream?token=bad", 401),
                       ("/api/stream?token=s3cret-token-1", 200)):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", path)
        r = c.getresponse()
        check("stream %s -> %d" % (path.split("?")[-1], want),
              r.status == want, r.status)
        c.close()
    stop(p)

    # Not loopback without a tokens file: refused.
    cfg = os.path.join(tmp, "wide.yaml")
    with open(cfg, "w") as f:
        f.write("redis:\n  url: redis://127.0.0.1:%d\n" % redis.port)
        f.write("archive:\n  dir: %s\n" % os.path.join(tmp, "wide-archive"))
        f.write("http:\n  listen: \"0.0.0.0:%d\"\n" % free_port())
    r = subprocess.run([COLLECTOR, "run", "-c", cfg], capture_output=True,
                       text=True, timeout=20)
    check("0.0.0.0 without tokens refused", r.returncode != 0 and
          "loopback" in r.stderr, (r.returncode, r.stderr[-500:]))


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-collector-api-")
    try:
        redis = Redis(tmp)
        test_open(tmp, redis)
        test_tokens(tmp, redis)
    finally:
        for p in procs:
            stop(p)
        if results["failed"] == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("logs kept in " + tmp)
    sys.exit(summary())


main()
