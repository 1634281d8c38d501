#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The command line against good and bad input: unreadable, random and
truncated captures, corrupted frames, broken configuration, the live
daemon on the loopback interface, and SIGTERM draining.

usage: cli_inputs.py AGENT SOURCE_DIR
"""
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigiltest import check, summary  # noqa: E402  # noqa: E402

AGENT, SRC = sys.argv[1], sys.argv[2]
PCAP = os.path.join(SRC, "tests", "data", "pcap")


def agent(*args, timeout=120):
    return subprocess.run([AGENT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=timeout)


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def stats_of(evs):
    st = [e for e in evs if e["event_type"] == "stats"]
    return st[-1]["stats"] if st else None


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-cli-")
    out = os.path.join(tmp, "eve.json")

    r = agent("version")
    check("version", r.returncode == 0 and "nDPI" in r.stdout, r.stdout)

    r = agent("replay", "--output", out, os.path.join(tmp, "missing.pcap"))
    check("missing capture: exit 2 naming the file",
          r.returncode == 2 and "missing.pcap" in r.stderr, r.stderr)

    rnd = os.path.join(tmp, "random.pcap")
    with open(rnd, "wb") as f:
        f.write(random.Random(7).randbytes(4096))
    r = agent("replay", "--output", out, rnd)
    check("random bytes: exit 2 with a message",
          r.returncode == 2 and "random.pcap" in r.stderr, r.stderr)

    # A capture cut in the middle of a packet: the packets before the cut
    # are processed, the cut is reported and counted.
    with open(os.path.join(PCAP, "ftp.pcap"), "rb") as f:
        data = f.read()
    cut = os.path.join(tmp, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2 + 7])
    if os.path.exists(out):
        os.unlink(out)
    r = agent("replay", "--flows", "--output", out, cut)
    evs = events(out)
    st = stats_of(evs)
    flows = [e for e in evs if e["event_type"] == "flow"]
    check("truncated capture: exit 2, message, flows before the cut",
          r.returncode == 2 and "truncated" in r.stderr and flows and
          st and st["capture"]["read_errors"] == 1 and
          st["capture"]["packets"] > 50, r.stderr[-500:])

    # Corrupt the frames (not the file headers) of every sample capture:
    # bad packets are counted, never fatal.
    corrupt = os.path.join(tmp, "corrupt.pcap")
    rng = random.Random(11)
    with open(os.path.join(PCAP, "http_auth.pcap"), "rb") as f:
        data = bytearray(f.read())
    off, n = 24, 0
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        body = off + 16
        for _ in range(4):
            if caplen:
                data[body + rng.randrange(min(caplen, 80))] = rng.randrange(256)
        if n % 3 == 0 and caplen > 20:  # also shorten some frames
            struct.pack_into("<I", data, off + 8, rng.randrange(caplen))
            data[body + struct.unpack_from("<I", data, off + 8)[0]:
                 body + caplen] = b""
            caplen = struct.unpack_from("<I", data, off + 8)[0]
        off = body + caplen
        n += 1
    with open(corrupt, "wb") as f:
        f.write(data)
    os.unlink(out)
    r = agent("replay", "--flows", "--output", out, corrupt)
    st = stats_of(events(out))
    check("corrupted frames: exit 0, every packet accounted for",
          r.returncode == 0 and st["capture"]["packets"] == n and
          st["decoder"]["pkts"] + st["decoder"]["invalid"] +
          st["decoder"].get("not_ip", 0) == n, r.stderr[-500:])

    # stdout output: one JSON object per line.
    r = agent("replay", "--flows", "--output", "-",
              os.path.join(PCAP, "dns.pcap"))
    lines = r.stdout.splitlines()
    ok = r.returncode == 0 and len(lines) == 3
    try:
        evs = [json.loads(x) for x in lines]
        dns = [e for e in evs if e["event_type"] == "flow" and
               e.get("app_proto") == "dns"]
        ok = ok and len(dns) == 2 and dns[0]["dns"]["query"][0]["rrname"]
    except (ValueError, KeyError) as e:
        ok = False
    check("--output -: JSON lines on stdout with DNS metadata", ok, r.stdout)

    # Configuration errors name file, line and key.
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("agent:\n  agency: demo\nflows:\n  idle_timeout: soon\n"
                "  bogus: 1\n")
    r = agent("check", "-c", bad)
    check("check: broken config, exit 1, FILE:LINE: KEY",
          r.returncode == 1 and bad + ":4: flows.idle_timeout:" in r.stderr
          and bad + ":5: flows.bogus:" in r.stderr, r.stderr)
    r = agent("replay", "-c", bad, "--output", out,
              os.path.join(PCAP, "dns.pcap"))
    check("replay refuses a broken config", r.returncode == 1, r.stderr)
    r = agent("check", "-c", os.path.join(SRC, "packaging", "config",
                                          "agent.yaml"))
    check("check: the shipped example is valid", r.returncode == 0, r.stderr)

    live(tmp)
    return summary()


def live(tmp):
    """The daemon on the loopback interface: traffic made here is seen,
    SIGTERM drains and exits 0."""
    if os.geteuid() != 0:
        print("skip  live capture (needs root)")
        return
    port = random.randrange(20000, 60000)
    cfg = os.path.join(tmp, "live.yaml")
    out = os.path.join(tmp, "live.json")
    with open(cfg, "w") as f:
        f.write("agent:\n  agency: test-agency\ncapture:\n  interfaces:\n"
                "    - name: lo\n      bpf: udp port %d\n      immediate: true\n"
                "workers: 2\noutput:\n  flows: true\n  file:\n    path: %s\n"
                "  stats_interval: 1s\n" % (port, out))
    p = subprocess.Popen([AGENT, "run", "--allow-root", "-c", cfg],
                         stderr=subprocess.PIPE,
                         text=True)
    time.sleep(1.5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(20):
        s.sendto(b"hello vigil %d" % i, ("127.0.0.1", port))
        time.sleep(0.01)
    s.close()
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -1
    err = p.stderr.read()
    evs = events(out) if os.path.exists(out) else []
    flows = [e for e in evs if e["event_type"] == "flow" and
             e.get("dest_port") == port]
    st = [e for e in evs if e["event_type"] == "stats"]
    check("live: SIGTERM drains and exits 0", rc == 0, err[-800:])
    check("live: the loopback flow is reported with its 20 packets",
          len(flows) == 1 and flows[0]["flow"]["pkts_toserver"] == 20 and
          flows[0]["flow"]["reason"] == "shutdown" and
          flows[0]["vigil"]["agency"] == "test-agency", str(flows)[:500])
    check("live: heartbeat stats events while running", len(st) >= 2,
          str(len(st)))


if __name__ == "__main__":
    sys.exit(main())
