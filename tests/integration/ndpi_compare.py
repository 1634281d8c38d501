#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Replay captures through vigil-agent and compare every flow's nDPI
protocol with what Debian's ndpiReader 4.2 says about the same file.

For each capture:
  * ndpiReader -q -t -v 2 -i FILE -w OUT   (the reference; it never expires
    flows when reading a file, so the agent runs with timeouts set high and
    the same tunnels ndpiReader's -t opens: GTP-U, TZSP, CAPWAP);
  * vigil-agent replay --flows --workers 1, and again with --workers 2.
Checks, flow by flow (key: IP protocol, VLAN, both endpoints):
  * the same flows exist on both sides, with the same nDPI protocol string
    (ndpi_protocol2name, e.g. "TLS.Google");
  * the per-protocol flow counts are equal;
  * 1 and 2 workers give the same set of flows with the same packet counts.
Captures that cannot match are listed in KNOWN with the reason; they are
reported, and fail the test only if they stop differing (so the list stays
true).

usage: ndpi_compare.py --agent PATH --config FILE DIR_OR_FILE...
"""
import argparse
import collections
import concurrent.futures
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

# Captures whose flows cannot equal ndpiReader's, and why.
KNOWN = {
    "capwap.pcap":
        "CAPWAP data packets that carry 802.11 management frames: ndpiReader"
        " opens every CAPWAP packet and throws away what is not IP inside;"
        " vigil keeps those packets as one outer UDP flow (port 5247), so"
        " it has one flow more",
    "fuzz-2006-06-26-2594.pcap":
        "fuzzed packets whose IP or UDP lengths disagree with the capture"
        " (ipv4_trunc, udp_bad_len, ...): vigil counts them as malformed,"
        " ndpiReader classifies some of them as DNS and SIP flows",
    "ip_fragmented_garbage.pcap":
        "first fragments with fewer than 20 bytes of TCP header: vigil"
        " counts them as tcp_trunc; ndpiReader makes a TCP flow with ports"
        " 0 of them",
    "fuzz-2021-10-13.pcap":
        "a fuzzer-made DLT_NULL frame whose address family (0x6c002f00) is"
        " neither IPv4 nor IPv6; ndpiReader decodes any family but 2 as"
        " IPv6, vigil counts the frame as not IP",
}

PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "IPV6-ICMP": 58,
             "IGMP": 2, "GRE": 47, "ESP": 50, "AH": 51, "SCTP": 132}

LINE = re.compile(r"^\t\d+\t(\S+) (\S+) (<->|->) (\S+) (?:\[VLAN: (\d+)\])?"
                  r"\[proto: (?:[^:\]/]+:)?[\d.]+/([^\]]+)\]")


def proto_num(name):
    name = name.upper()
    return PROTO_NUM[name] if name in PROTO_NUM else int(name)


def patch_v6(s):
    # ndpiReader rewrites ":0:" as "::" in IPv6 text; do the same to ours.
    out, i = [], 0
    while i < len(s):
        if s[i] == ":" and s[i + 1:i + 3] == "0:":
            out.append("::")
            i += 3
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def split_endpoint(ep):
    if ep.startswith("["):
        host, _, port = ep[1:].rpartition("]:")
    else:
        host, _, port = ep.rpartition(":")
    return host, int(port or 0)


def norm_ip(text):
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text  # a patched IPv6 string: compare as printed
    if ip.version == 6:
        return patch_v6(socket.inet_ntop(socket.AF_INET6, ip.packed))
    return str(ip)


def key(proto, vlan, a, b):
    # Order-free flow key.
    return (proto, vlan) + tuple(sorted([a, b]))


def ndpi_flows(capture, tmp):
    out = os.path.join(tmp, "ndpi.txt")
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    subprocess.run(["ndpiReader", "-q", "-t", "-v", "2", "-i", capture,
                    "-w", out], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600, check=False)
    flows = collections.Counter()
    if not os.path.exists(out):
        return flows
    with open(out, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            l4, src, _, dst, vlan, name = m.groups()
            sh, sp = split_endpoint(src)
            dh, dp = split_endpoint(dst)
            k = key(proto_num(l4), int(vlan or 0), (norm_ip(sh), sp),
                    (norm_ip(dh), dp))
            flows[(k, name)] += 1
    return flows


def agent_flows(agent, config, capture, workers, tmp):
    out = os.path.join(tmp, "eve-%d.json" % workers)
    r = subprocess.run([agent, "replay", "-c", config, "--flows",
                        "--workers", str(workers), "--output", out, capture],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600, check=False, text=True, errors="replace")
    if r.returncode not in (0, 2):
        raise RuntimeError("%s: agent exit %d: %s" %
                           (capture, r.returncode, r.stderr[-2000:]))
    flows, pkts = collections.Counter(), collections.Counter()
    stats = None
    with open(out) as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)  # every line must be one JSON object
            if ev["event_type"] == "stats":
                stats = ev
                continue
            if ev["event_type"] != "flow":
                continue
            proto = proto_num(ev["proto"])
            ports = proto in (6, 17)
            a = (norm_ip(ev["src_ip"]), ev.get("src_port", 0) if ports else 0)
            b = (norm_ip(ev["dest_ip"]), ev.get("dest_port", 0) if ports else 0)
            vlan = ev.get("vlan", [0])[-1]
            k = key(proto, vlan, a, b)
            flows[(k, ev["ndpi"]["protocol"])] += 1
            fl = ev["flow"]
            pkts[k] += fl["pkts_toserver"] + fl["pkts_toclient"]
    if stats is None:
        raise RuntimeError("%s: no stats event in the output" % capture)
    return flows, pkts, r.stderr


def summary_counts(stderr):
    """Per-protocol flow counts from the replay summary."""
    counts, on = {}, False
    for line in stderr.splitlines():
        if line.startswith("  flows by protocol:"):
            on = True
            continue
        if on:
            m = re.match(r"^    (.+?)\s+(\d+)$", line)
            if not m:
                break
            counts[m.group(1)] = int(m.group(2))
    return counts


def ndpi_summary_counts(capture, tmp):
    out = os.path.join(tmp, "ndpi.txt")
    counts = {}
    with open(out, errors="replace") as f:
        for line in f:
            m = re.match(r"^([^\t]+)\t(\d+)\t(\d+)\t(\d+)$", line.rstrip("\n"))
            if m:
                counts[m.group(1)] = int(m.group(4))
    return counts


def compare(args, capture):
    name = os.path.basename(capture)
    with tempfile.TemporaryDirectory() as tmp:
        ref = ndpi_flows(capture, tmp)
        ref_counts = ndpi_summary_counts(capture, tmp) if ref else {}
        ours1, pkts1, err1 = agent_flows(args.agent, args.config, capture, 1, tmp)
        ours2, pkts2, _ = agent_flows(args.agent, args.config, capture, 2, tmp)
    problems = []
    if ref != ours1:
        missing = ref - ours1
        extra = ours1 - ref
        problems.append("flows differ from ndpiReader: %d only in ndpiReader,"
                        " %d only in vigil" % (sum(missing.values()),
                                               sum(extra.values())))
        for (k, p), n in list(missing.items())[:5]:
            problems.append("  ndpiReader: %s %s" % (k, p))
        for (k, p), n in list(extra.items())[:5]:
            problems.append("  vigil:      %s %s" % (k, p))
    ours_counts = summary_counts(err1)
    if ref and ours_counts != ref_counts:
        problems.append("per-protocol flow counts differ: ndpiReader %s,"
                        " vigil %s" % (sorted(ref_counts.items()),
                                       sorted(ours_counts.items())))
    if pkts1 != pkts2:
        problems.append("1 and 2 workers give different flows or packet counts")
    return name, sum(ref.values()), sum(ours1.values()), problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    captures = []
    for p in args.paths:
        if os.path.isdir(p):
            captures += sorted(os.path.join(p, f) for f in os.listdir(p)
                               if f.endswith((".pcap", ".pcapng", ".cap")))
        elif os.path.exists(p):
            captures.append(p)
    if not captures:
        print("no captures found", file=sys.stderr)
        return 1
    passed = failed = known = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for name, nref, nours, problems in ex.map(lambda c: compare(args, c),
                                                  captures):
            if name in KNOWN:
                if problems:
                    known += 1
                    print("KNOWN %s: %s" % (name, KNOWN[name]))
                    for p in problems:
                        print("      " + p)
                else:
                    failed += 1
                    print("FAIL  %s: listed as known to differ, but matches:"
                          " take it off the list" % name)
                continue
            if problems:
                failed += 1
                print("FAIL  %s (%d flows in ndpiReader, %d in vigil)" %
                      (name, nref, nours))
                for p in problems:
                    print("      " + p)
            else:
                passed += 1
                print("ok    %s (%d flows)" % (name, nref))
    print("%d captures: %d match ndpiReader, %d known differences, %d failed"
          % (len(captures), passed, known, failed))
    print("%d passed, %d failed" % (passed + known, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
