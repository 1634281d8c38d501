#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The pipeline to the center against real Redis servers started here.

Delivery: replays of a capture whose every flow raises one alert, into a
Redis on a TCP port, on a Unix socket, over TLS (a throwaway CA), and as an
ACL user allowed only its own agency's stream (another agency's stream is
refused, reported, and the alerts stay in the spool). The stream entries
carry type, id and eve, with the event's own id.

Faults: Redis stopped for 30 s in the middle of delivering more than
10,000 alerts and started again: every alert is in the stream exactly once
after dedupe by vigil.event_id. The agent killed with SIGKILL while
delivering and started again: nothing that was spooled is lost. Redis
unreachable: the replay leaves its alerts in the spool and exits, and the
next start sends them first. A spool segment cut in the middle of a
record: the agent starts, counts the torn record, and sends the rest.

Also: syslog (RFC 5424 to a socket made here), and the file output's
rotation.

usage: redis_pipeline.py AGENT SOURCE_DIR [--quick]
  --quick  a 5 s outage instead of 30 s
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, cleanup, free_port, summary, write  # noqa: E402
import vigiltest  # noqa: E402

AGENT, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
QUICK = "--quick" in sys.argv[3:]
TOOLS = os.path.join(SRC, "tests", "tools")


def Redis(*args, **kw):
    """Servers here keep their data on disk: the outage test restarts
    one."""
    return vigiltest.Redis(*args, appendonly=True, **kw)


def make_pcap(tmp, n):
    path = os.path.join(tmp, "dns-%d.pcap" % n)
    if not os.path.exists(path):
        subprocess.run([sys.executable,
                        os.path.join(TOOLS, "make-dns-flows-pcap.py"),
                        path, str(n)], check=True)
    return path


def agent_cfg(tmp, name, redis_yaml, agency="agency-a", extra=""):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    rules = write(os.path.join(d, "dns.yaml"),
                  "- id: 9000001\n  name: DNS query seen\n  category: test\n"
                  "  severity: low\n  match: {protocol: DNS}\n")
    return write(os.path.join(d, "agent.yaml"),
                 "agent:\n  agency: %s\n  id: test-agent-%s\n"
                 "detection:\n  rules: [%s]\n  ioc: []\n"
                 "output:\n  stats_interval: 0\n  redis:\n%s"
                 "  spool:\n    dir: %s\n%slog:\n  level: info\n"
                 % (agency, name, rules, redis_yaml,
                    os.path.join(d, "spool"), extra))


def replay(cfg, pcap, timeout=300, **kw):
    return subprocess.run([AGENT, "replay", "-c", cfg, "--output",
                           "/dev/null", pcap], capture_output=True,
                          text=True, timeout=timeout, **kw)


def alerts_of(r):
    for line in r.stderr.splitlines():
        if line.strip().startswith("alerts:"):
            return int(line.split()[1])
    return -1


def unique_alerts(entries):
    ids = set()
    for _, kv in entries:
        if kv.get("type") == "alert":
            ids.add(kv.get("id"))
    return ids


def check_entries(name, entries, n):
    alerts = [kv for _, kv in entries if kv.get("type") == "alert"]
    ids = unique_alerts(entries)
    ok = len(ids) == n
    sample = alerts[0] if alerts else {}
    ev = json.loads(sample["eve"]) if sample else {}
    check("%s: %d alerts, each once after dedupe" % (name, n), ok,
          "%d unique of %d entries" % (len(ids), len(alerts)))
    check("%s: entries carry type, id and eve with the event's own id"
          % name, ev.get("event_type") == "alert" and
          ev.get("vigil", {}).get("event_id") == sample.get("id") and
          ev["alert"]["signature_id"] == 9000001, str(sample)[:300])
    # Every flow of the capture is there (its source address and port).
    srcs = {(json.loads(kv["eve"])["src_ip"], json.loads(kv["eve"])
             ["src_port"]) for kv in alerts}
    check("%s: every flow's alert is there" % name, len(srcs) == n,
          "%d distinct flows" % len(srcs))


# ---------------------------------------------------------------------

def test_transports(tmp):
    pcap = make_pcap(tmp, 2000)
    r1 = Redis(tmp, "plain")
    try:
        cfg = agent_cfg(tmp, "tcp", "    url: redis://127.0.0.1:%d\n"
                        % r1.port)
        r = replay(cfg, pcap)
        check("tcp: replay exits 0", r.returncode == 0, r.stderr[-800:])
        check_entries("tcp", r1.entries("vigil:events:{agency-a}"), 2000)
        cfg = agent_cfg(tmp, "unix", "    url: unix://%s\n    stream: "
                        "\"unix:{AGENCY}:AGENT_ID\"\n" % r1.sock)
        with open(cfg) as f:
            text = f.read().replace("stats_interval: 0", "stats_interval: 1")
        write(cfg, text)
        r = replay(cfg, pcap)
        entries = r1.entries("unix:{agency-a}:test-agent-unix")
        check_entries("unix", entries, 2000)
        stats = [json.loads(kv["eve"]) for _, kv in entries
                 if kv.get("type") == "stats"]
        st = stats[-1]["stats"] if stats else {}
        check("heartbeat: a stats event with identity, CPU, RSS, queue and "
              "spool depth", stats and
              stats[-1]["vigil"]["agent_id"] == "test-agent-unix" and
              stats[-1]["vigil"]["agency"] == "agency-a" and
              st.get("agent", {}).get("rss_kb", 0) > 0 and
              "cpu_user_ms" in st.get("agent", {}) and
              "pending" in st.get("spool", {}) and
              "queued" in st.get("output", {}) and "uptime" in stats[-1]
              ["stats"], str(stats[-1:])[:800])
        # Acknowledged alerts are not sent again by the next start.
        r = replay(cfg, make_pcap(tmp, 1))
        n = len([1 for _, kv in r1.entries("unix:{agency-a}:test-agent-unix")
                 if kv.get("type") == "alert"])
        check("unix: what was acknowledged is not sent again", n == 2001,
              "%d alerts" % n)
    finally:
        r1.stop()


def make_ca(tmp):
    d = os.path.join(tmp, "pki")
    os.makedirs(d)

    def ossl(*a):
        subprocess.run(["openssl"] + list(a), cwd=d, check=True,
                       capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=Vigil Test CA", "-keyout", "ca.key", "-out", "ca.crt")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-keyout", "server.key", "-out", "server.csr")
    write(os.path.join(d, "ext"), "subjectAltName=DNS:localhost,"
          "IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey",
         "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext",
         "-out", "server.crt")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=Other CA", "-keyout", "other.key", "-out", "other.crt")
    return {"ca": os.path.join(d, "ca.crt"),
            "cert": os.path.join(d, "server.crt"),
            "key": os.path.join(d, "server.key"),
            "other": os.path.join(d, "other.crt")}


def test_tls(tmp):
    pki = make_ca(tmp)
    pcap = make_pcap(tmp, 2000)
    rt = Redis(tmp, "tls", tls=pki)
    try:
        cfg = agent_cfg(tmp, "tls-bad", "    url: rediss://localhost:%d\n"
                        "    ca_file: %s\n    connect_timeout_ms: 1000\n"
                        "    drain_timeout: 2\n" % (rt.port, pki["other"]))
        r = replay(cfg, pcap)
        check("tls: a server the CA does not vouch for is refused, "
              "nothing sent", r.returncode == 0 and
              rt.cli("EXISTS", "vigil:events:{agency-a}") == "0" and
              "verif" in r.stderr.lower(), r.stderr[-600:])
        cfg = agent_cfg(tmp, "tls", "    url: rediss://localhost:%d\n"
                        "    ca_file: %s\n" % (rt.port, pki["ca"]))
        r = replay(cfg, pcap)
        check_entries("tls", rt.entries("vigil:events:{agency-a}"), 2000)
    finally:
        rt.stop()


def test_acl(tmp):
    """With the shipped ACL template (packaging/redis/users.acl)."""
    pcap = make_pcap(tmp, 500)
    acl = os.path.join(SRC, "packaging", "redis", "users.acl")
    ra = Redis(tmp, "acl", extra=["--aclfile", acl],
               auth=("vigil-collector", "change-me-collector"))
    own, other = "vigil:events:{so-tttt-hanoi}", "vigil:events:{so-tttt-hue}"
    try:
        cfg = agent_cfg(tmp, "acl-ok", "    url: redis://127.0.0.1:%d\n"
                        "    username: so-tttt-hanoi\n    password_file: %s\n"
                        % (ra.port, write(os.path.join(tmp, "pw"),
                                          "change-me-hanoi\n")),
                        agency="so-tttt-hanoi")
        r = replay(cfg, pcap)
        check_entries("acl", ra.entries(own), 500)
        cfg = agent_cfg(tmp, "acl-other", "    url: redis://127.0.0.1:%d\n"
                        "    username: so-tttt-hanoi\n"
                        "    password: change-me-hanoi\n"
                        "    stream: \"%s\"\n"
                        "    drain_timeout: 2\n" % (ra.port, other),
                        agency="so-tttt-hanoi")
        r = replay(cfg, pcap)
        check("acl: another agency's stream is refused and reported",
              ra.cli("XLEN", other) == "0" and "NOPERM" in r.stderr,
              r.stderr[-800:])
        spool = os.path.join(tmp, "acl-other", "spool")
        check("acl: the refused alerts stay in the spool",
              len(read_spool(spool)) == 500, len(read_spool(spool)))
        cfg = agent_cfg(tmp, "acl-bad", "    url: redis://127.0.0.1:%d\n"
                        "    username: so-tttt-hanoi\n"
                        "    password: wrong-pass\n"
                        "    drain_timeout: 1\n" % ra.port)
        r = replay(cfg, pcap)
        check("acl: a wrong password is reported, and never logged",
              "WRONGPASS" in r.stderr and "wrong-pass" not in r.stderr,
              r.stderr[-600:])
        # The rule bundle (rules/BUNDLE.md): the collector writes it,
        # agents may only read it (STRLEN, then GETRANGE).
        ra.cli("SET", "vigil:rules:bundle", "x")
        agent = ["redis-cli", "-s", ra.sock, "--no-auth-warning",
                 "--user", "so-tttt-hanoi", "--pass", "change-me-hanoi"]

        def as_agent(*args):
            return subprocess.run(agent + list(args), capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        check("acl: an agent reads the rule bundle",
              as_agent("STRLEN", "vigil:rules:bundle") == "1" and
              as_agent("GET", "vigil:rules:bundle") == "x" and
              as_agent("GETRANGE", "vigil:rules:bundle", "0",
                       "16777216") == "x")
        check("acl: an agent cannot write the rule bundle",
              "NOPERM" in as_agent("SET", "vigil:rules:bundle", "y") and
              ra.cli("GET", "vigil:rules:bundle") == "x")
    finally:
        ra.stop()


# ---------------------------------------------------------------------
# Faults

def test_outage(tmp):
    n = 12000
    pcap = make_pcap(tmp, n)
    rd = Redis(tmp, "outage")
    key = "vigil:events:{agency-a}"
    outage = 5 if QUICK else 30
    cfg = agent_cfg(tmp, "outage", "    url: redis://127.0.0.1:%d\n"
                    "    batch: 16\n    connect_timeout_ms: 500\n"
                    "    drain_timeout: 120\n" % rd.port)
    p = subprocess.Popen([AGENT, "replay", "-c", cfg, "--output",
                          "/dev/null", pcap], stderr=subprocess.PIPE,
                         text=True)
    try:
        # Stop Redis once part of the alerts has arrived.
        while int(rd.cli("XLEN", key) or 0) < 1000 and p.poll() is None:
            time.sleep(0.005)
        before = int(rd.cli("XLEN", key) or 0)
        rd.stop()
        check("outage: Redis stopped in the middle (%d of %d sent)" %
              (before, n), 0 < before < n, "")
        time.sleep(outage)
        rd.start()
        _, err = p.communicate(timeout=300)
        entries = rd.entries(key)
        check("outage: the replay exits 0 once all is delivered",
              p.returncode == 0, err[-800:])
        check_entries("outage", entries, n)
    finally:
        if p.poll() is None:
            p.kill()
        rd.stop()


def read_spool(spool):
    """The payloads of every whole record in the spool's segments."""
    out = []
    for name in sorted(os.listdir(spool)):
        if not name.endswith(".seg"):
            continue
        with open(os.path.join(spool, name), "rb") as f:
            data = f.read()
        i = 16
        while i + 8 <= len(data):
            ln, _ = struct.unpack_from("<II", data, i)
            if i + 8 + ln > len(data):
                break
            out.append(data[i + 8:i + 8 + ln])
            i += 8 + ln
    return out


def test_kill(tmp):
    n = 12000
    pcap = make_pcap(tmp, n)
    rd = Redis(tmp, "kill")
    key = "vigil:events:{agency-a}"
    cfg = agent_cfg(tmp, "kill", "    url: redis://127.0.0.1:%d\n"
                    "    batch: 8\n    drain_timeout: 60\n" % rd.port)
    try:
        p = subprocess.Popen([AGENT, "replay", "-c", cfg, "--output",
                              "/dev/null", pcap], stderr=subprocess.DEVNULL)
        while int(rd.cli("XLEN", key) or 0) < 2000 and p.poll() is None:
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        p.wait()
        sent = unique_alerts(rd.entries(key))
        spooled = {json.loads(r)["vigil"]["event_id"] for r in
                   read_spool(os.path.join(tmp, "kill", "spool"))}
        made = sent | spooled
        check("kill: SIGKILL while delivering (%d sent, %d spooled)" %
              (len(sent), len(spooled)), len(sent) < n and len(made) > 0, "")
        # The next start sends what was spooled first.
        empty = make_pcap(tmp, 1)
        r = replay(cfg, empty)
        after = unique_alerts(rd.entries(key))
        check("kill: after a restart, every alert that was made is in the "
              "stream", made <= after, "%d missing" % len(made - after))
    finally:
        rd.stop()


def test_unreachable_and_torn(tmp):
    n = 3000
    pcap = make_pcap(tmp, n)
    port = free_port()
    key = "vigil:events:{agency-a}"
    cfg = agent_cfg(tmp, "down", "    url: redis://127.0.0.1:%d\n"
                    "    connect_timeout_ms: 300\n    drain_timeout: 1\n"
                    % port)
    t0 = time.time()
    r = replay(cfg, pcap)
    spool = os.path.join(tmp, "down", "spool")
    recs = read_spool(spool)
    check("unreachable: the replay exits with its alerts on disk",
          r.returncode == 0 and len(recs) == n and time.time() - t0 < 60,
          "rc=%d, %d records %s" % (r.returncode, len(recs), r.stderr[-300:]))
    # Cut the last segment in the middle of its last record.
    segs = sorted(f for f in os.listdir(spool) if f.endswith(".seg"))
    last = os.path.join(spool, segs[-1])
    size = os.path.getsize(last)
    with open(last, "r+b") as f:
        f.truncate(size - 5)
    rd = Redis(tmp, "torn", port=port)
    try:
        empty = make_pcap(tmp, 1)
        cfg2 = agent_cfg(tmp, "down", "    url: redis://127.0.0.1:%d\n"
                         "    drain_timeout: 60\n" % port,
                         extra="")
        r = replay(cfg2, empty)
        got = unique_alerts(rd.entries(key))
        # All but the cut record, and the new run's own alert.
        check("torn: the agent starts and sends all but the cut record",
              r.returncode == 0 and len(got) == n - 1 + 1,
              "%d of %d; %s" % (len(got), n, r.stderr[-500:]))
        check("torn: the cut record is counted",
              "torn" in r.stderr, r.stderr[-500:])
    finally:
        rd.stop()


# ---------------------------------------------------------------------
# Other outputs

def test_syslog_and_rotation(tmp):
    pcap = make_pcap(tmp, 300)
    sock_path = os.path.join(tmp, "syslog.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(0.5)
    out = os.path.join(tmp, "rot", "eve.json")
    os.makedirs(os.path.dirname(out))
    d = os.path.join(tmp, "rot")
    rules = write(os.path.join(d, "dns.yaml"),
                  "- id: 9000001\n  name: DNS query seen\n  category: test\n"
                  "  severity: low\n  match: {protocol: DNS}\n")
    cfg = write(os.path.join(d, "agent.yaml"),
                "detection:\n  rules: [%s]\n  ioc: []\n"
                "output:\n  stats_interval: 0\n  file:\n    path: %s\n"
                "    max_size: 64KiB\n    keep: 3\n"
                "  syslog:\n    enabled: true\n    socket: %s\n"
                "    facility: local3\n" % (rules, out, sock_path))
    msgs = []
    done = []

    def reader():
        # As a syslog daemon would: read while the agent writes.
        while not done or True:
            try:
                msgs.append(s.recv(70000).decode())
            except socket.timeout:
                if done:
                    return
    t = threading.Thread(target=reader)
    t.start()
    r = subprocess.run([AGENT, "replay", "-c", cfg, pcap],
                       capture_output=True, text=True, timeout=120)
    done.append(1)
    t.join()
    s.close()
    check("syslog: one RFC 5424 message per alert",
          len(msgs) == 300 and msgs[0].startswith("<156>1 ") and
          " vigil-agent " in msgs[0] and json.loads(
              msgs[0].split(" - ", 1)[1])["event_type"] == "alert",
          "%d messages; %s" % (len(msgs), msgs[:1]))
    files = sorted(os.listdir(d))
    total = 0
    for f in files:
        if f.startswith("eve.json"):
            with open(os.path.join(d, f)) as fh:
                total += sum(1 for _ in fh)
    check("file: rotated past max_size, keep files kept",
          "eve.json.1" in files and "eve.json.3" in files and
          "eve.json.4" not in files and
          os.path.getsize(out) < 64 * 1024 + 4096, str(files))


def main():
    if shutil.which("redis-server") is None:
        print("FAIL  redis-server is missing (install redis-server)")
        return 1
    tmp = tempfile.mkdtemp(prefix="vigil-redis-")
    try:
        test_transports(tmp)
        test_tls(tmp)
        test_acl(tmp)
        test_syslog_and_rotation(tmp)
        test_unreachable_and_torn(tmp)
        test_kill(tmp)
        test_outage(tmp)
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
