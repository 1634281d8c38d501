#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Copy the packets of chosen flows from a capture into a new, smaller pcap.

Some nDPI test captures that the detection-rule tests need are large
(hundreds of KB, several hundred flows) while the rule under test only
looks at one or two flows. This tool keeps just those flows: every kept
packet is written byte for byte (same link type, same captured and wire
lengths, same timestamp), nothing is re-encoded or re-checksummed; it only
leaves packets out. Optionally only the first N packets of each flow are
kept (nDPI classifies a flow from its first packets).

A flow is given as PROTO A PORT_A B PORT_B (either direction matches), e.g.
    --flow tcp 10.0.2.15 50319 185.187.74.173 53489
PROTO is tcp, udp or an IP protocol number (ports then must be 0).

usage:
    /usr/bin/python3 tests/tools/extract-flows.py SRC OUT.pcap \\
        --flow PROTO A PORT_A B PORT_B [--flow ...] [--max-per-flow N]

SRC may be pcap or pcapng (one link type); OUT is always classic pcap
(microsecond timestamps, or nanosecond ones if SRC has finer timestamps).
Written with scapy (run with Debian's /usr/bin/python3, python3-scapy).
"""
import argparse
import ipaddress
import sys

from scapy.config import conf
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.utils import RawPcapReader, RawPcapWriter

PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "esp": 50, "gre": 47}


def flow_key(proto, a, pa, b, pb):
    ends = sorted([(ipaddress.ip_address(a), int(pa)),
                   (ipaddress.ip_address(b), int(pb))])
    return (proto, ends[0], ends[1])


def packet_key(linktype, data):
    cls = conf.l2types.get(linktype)
    if cls is None:
        sys.exit("unsupported link type %d" % linktype)
    try:
        pkt = cls(data)
    except Exception:  # a frame scapy cannot parse is never a chosen flow
        return None
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if ip is None:
        return None
    l4 = pkt.getlayer(TCP) or pkt.getlayer(UDP)
    if l4 is not None:
        proto = 6 if isinstance(l4, TCP) else 17
        return flow_key(proto, ip.src, l4.sport, ip.dst, l4.dport)
    proto = ip.proto if isinstance(ip, IP) else ip.nh
    return flow_key(proto, ip.src, 0, ip.dst, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--flow", nargs=5, action="append", required=True,
                    metavar=("PROTO", "A", "PORT_A", "B", "PORT_B"))
    ap.add_argument("--max-per-flow", type=int, default=0,
                    help="keep only the first N packets of each flow")
    args = ap.parse_args()

    wanted = {}
    for proto, a, pa, b, pb in args.flow:
        p = PROTOS.get(proto.lower())
        p = int(proto) if p is None else p
        wanted[flow_key(p, a, pa, b, pb)] = 0

    reader = RawPcapReader(args.src)
    records = []
    linktype = None
    nano = False
    for data, meta in reader:
        if hasattr(meta, "tsresol"):  # pcapng
            lt = meta.linktype
            ts = (meta.tshigh << 32) | meta.tslow
            res = meta.tsresol
            if res > 1000000:
                nano = True
            sec, frac = divmod(ts, res)
            ns = frac * 1000000000 // res
            wirelen = meta.wirelen
        else:
            lt = reader.linktype
            sec, ns, wirelen = meta.sec, meta.usec * 1000, meta.wirelen
        if linktype is None:
            linktype = lt
        elif lt != linktype:
            sys.exit("more than one link type in %s" % args.src)
        k = packet_key(lt, data)
        if k not in wanted:
            continue
        if args.max_per_flow and wanted[k] >= args.max_per_flow:
            continue
        wanted[k] += 1
        records.append((data, sec, ns, wirelen))
    reader.close()

    missing = [k for k, n in wanted.items() if n == 0]
    if missing:
        sys.exit("flows not found in %s: %s" % (args.src, missing))
    snaplen = max([65535] + [len(r[0]) for r in records])
    w = RawPcapWriter(args.out, linktype=linktype, nano=nano, sync=True,
                      snaplen=snaplen)
    w.write_header(None)
    for data, sec, ns, wirelen in records:
        w.write_packet(data, sec=sec, usec=ns if nano else ns // 1000,
                       caplen=len(data), wirelen=wirelen)
    w.close()
    print("%s: %d packets from %d flows" % (args.out, len(records),
                                             len(wanted)))


if __name__ == "__main__":
    main()
