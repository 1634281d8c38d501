#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vigil-collector forwarding to a SIEM (collectors/forward.h).

Starts redis-server on a random 127.0.0.1 port (no persistence) and a
Python listener that parses RFC 6587 octet-counted frames, then the
collector with forward.address pointing at it. 50 alerts XADDed on
vigil:events:{agency-a} must arrive as RFC 5424 messages with the right
PRI and MSGID and the EVE line byte for byte as MSG. The listener is then
stopped, 20 more alerts added, the listener restarted on the same port:
the 20 must arrive (reconnect and retry). The same over TLS, with a
throwaway CA made with the openssl command.

usage: collector_forward.py COLLECTOR SOURCE_DIR
"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import (Redis, check, free_port,  # noqa: E402
                       procs, results, stop, summary, wait_for,
                       wait_port)  # noqa: E402

COLLECTOR, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
AGENCY = "agency-a"
LOCAL5 = 21
SEV = {1: 2, 2: 3, 3: 4, 4: 6}
RFC5424 = re.compile(rb"^<(\d{1,3})>1 (\S+) (\S+) (\S+) - (\S+) - (.*)$",
                     re.S)


def uuid7(n):
    return "0192f1c6-0000-7000-8000-%012d" % n


def alert(n):
    ev = {"timestamp": "2026-12-01T08:00:%02d.%06d+0000" % (n % 60, n),
          "event_type": "alert", "host": "web%02d" % (n % 3),
          "src_ip": "10.0.0.%d" % (n % 250), "dest_ip": "192.0.2.1",
          "alert": {"signature": "SSH brute", "signature_id": 1009,
                    "severity": 1 + n % 4, "category": "x",
                    "action": "allowed"},
          "vigil": {"event_id": uuid7(n), "agent_id": "a1",
                    "agency": AGENCY, "agent_version": "0.1.0"}}
    return json.dumps(ev, separators=(",", ":")), ev


class Listener:
    """Accepts connections on 127.0.0.1:port, splits octet-counted frames."""

    def __init__(self, port, tls_ctx=None):
        self.port, self.tls_ctx = port, tls_ctx
        self.frames, self.bad = [], []
        self.lock = threading.Lock()
        self.conns = []
        self.running = True
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.t = threading.Thread(target=self.accept_loop, daemon=True)
        self.t.start()

    def accept_loop(self):
        while self.running:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            if self.tls_ctx:
                c.settimeout(5)
                c = self.tls_ctx.wrap_socket(c, server_side=True)
            c.settimeout(None)
        except (OSError, ssl.SSLError) as e:
            self.bad.append("handshake: %s" % e)
            c.close()
            return
        with self.lock:
            self.conns.append(c)
        buf = b""
        while True:
            try:
                d = c.recv(65536)
            except (OSError, ssl.SSLError):
                break
            if not d:
                break
            buf += d
            while True:
                sp = buf.find(b" ")
                if sp < 0:
                    break
                if not buf[:sp].isdigit():
                    self.bad.append(buf[:80])
                    buf = b""
                    break
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    break
                with self.lock:
                    self.frames.append(buf[sp + 1:sp + 1 + n])
                buf = buf[sp + 1 + n:]
        c.close()

    def close(self):
        self.running = False
        self.srv.close()
        self.t.join()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()

    def count(self):
        with self.lock:
            return len(self.frames)


def start_collector(tmp, redis, name, forward):
    cfg = os.path.join(tmp, name + ".yaml")
    archive = os.path.join(tmp, name + "-archive")
    os.makedirs(archive, exist_ok=True)
    http = free_port()
    with open(cfg, "w") as f:
        f.write("redis:\n  url: redis://127.0.0.1:%d\n" % redis.port)
        f.write("consumer:\n  block_ms: 200\n")
        f.write("archive:\n  dir: %s\n" % archive)
        f.write("http:\n  listen: \"127.0.0.1:%d\"\n" % http)
        f.write("  static_dir: %s\n" % os.path.join(SRC, "dashboards", "web"))
        f.write("forward:\n")
        for k, v in forward.items():
            f.write("  %s: %s\n" % (k, v))
    logf = os.path.join(tmp, name + ".log")
    log = open(logf, "w")
    p = subprocess.Popen([COLLECTOR, "run", "-c", cfg], stdout=log,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_port(http):
        with open(logf) as f:
            raise SystemExit("collector did not start:\n" + f.read())
    return p, logf


def check_frames(label, frames, sent):
    """Each frame RFC 5424 with PRI, MSGID, HOST and the EVE as MSG."""
    want = {line.encode(): ev for line, ev in sent}
    got, problems = set(), []
    for fr in frames:
        m = RFC5424.match(fr)
        if not m:
            problems.append(("not RFC 5424", fr[:120]))
            continue
        pri, ts, host, app, msgid, msg = m.groups()
        ev = want.get(msg)
        if ev is None:
            problems.append(("unknown MSG", msg[:120]))
            continue
        got.add(msg)
        exp_pri = LOCAL5 * 8 + SEV[ev["alert"]["severity"]]
        if int(pri) != exp_pri or msgid != b"alert" or app != b"vigil" or \
                host != ev["host"].encode() or \
                ts != (ev["timestamp"][:-2] + ":" +
                       ev["timestamp"][-2:]).encode():
            problems.append(("header", fr[:120], exp_pri))
    check(label + ": %d frames well formed" % len(frames), not problems,
          problems[:3])
    check(label + ": every event exactly once",
          len(got) == len(want) and len(frames) == len(want),
          "%d distinct of %d, %d frames" % (len(got), len(want), len(frames)))


def scenario(tmp, redis, label, base, forward, tls_ctx=None):
    port = free_port()
    forward = dict(forward, address="127.0.0.1:%d" % port)
    lst = Listener(port, tls_ctx)
    coll, logf = start_collector(tmp, redis, label, forward)
    first = [alert(base + i) for i in range(50)]
    for line, ev in first:
        redis.xadd("vigil:events:{%s}" % AGENCY, ev, line)
    wait_for(lambda: lst.count() >= 50, 15)
    time.sleep(0.3)
    check_frames(label + " first 50", list(lst.frames), first)
    check(label + ": no framing errors", not lst.bad, lst.bad[:3])

    lst.close()
    time.sleep(0.5)
    more = [alert(base + 100 + i) for i in range(20)]
    for line, ev in more:
        redis.xadd("vigil:events:{%s}" % AGENCY, ev, line)
    time.sleep(1.5)  # the collector fails to reconnect meanwhile
    lst2 = Listener(port, tls_ctx)
    wait_for(lambda: lst2.count() >= 20, 40)
    time.sleep(0.3)
    check_frames(label + " 20 after restart", list(lst2.frames), more)
    stop(coll)
    with open(logf) as f:
        log = f.read()
    check(label + ": collector logs its forward counters",
          "forwarded 70, dropped 0" in log, log[-1500:])
    lst2.close()


def make_ca(tmp):
    def ossl(*a):
        subprocess.run(["openssl"] + list(a), cwd=tmp, check=True,
                       capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=vigil test CA", "-keyout", "ca.key", "-out", "ca.pem")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=siem.test",
         "-keyout", "siem.key", "-out", "siem.csr")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:siem.test\n")
    ossl("x509", "-req", "-in", "siem.csr", "-CA", "ca.pem", "-CAkey",
         "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
         "-out", "siem.pem")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(tmp, "siem.pem"),
                        os.path.join(tmp, "siem.key"))
    return ctx


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-forward-")
    try:
        redis = Redis(tmp)
        scenario(tmp, redis, "tcp", 0, {})
        ctx = make_ca(tmp)
        scenario(tmp, redis, "tls", 1000,
                 {"tls": "true", "ca_file": os.path.join(tmp, "ca.pem"),
                  "server_name": "siem.test"}, ctx)
        # A wrong server name: the handshake fails, nothing is delivered.
        port = free_port()
        lst = Listener(port, ctx)
        coll, logf = start_collector(
            tmp, redis, "badname",
            {"address": "127.0.0.1:%d" % port, "tls": "true",
             "ca_file": os.path.join(tmp, "ca.pem"),
             "server_name": "other.test"})
        line, ev = alert(5000)
        redis.xadd("vigil:events:{%s}" % AGENCY, ev, line)
        time.sleep(2)
        stop(coll)
        check("tls: wrong server name refused", lst.count() == 0,
              lst.frames[:1])
        lst.close()
        # Unknown key in forward: is an error.
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("archive:\n  dir: /tmp\nforward:\n  address: h:1\n"
                    "  bogus: 1\n")
        r = subprocess.run([COLLECTOR, "check", "-c", bad],
                           capture_output=True, text=True)
        check("config: unknown forward key refused",
              r.returncode != 0 and "forward.bogus: unknown key" in r.stderr,
              r.stderr)
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
