#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a capture of N DNS queries, each its own flow (a distinct source
address and port), one millisecond apart: with a rule matching DNS, every
flow raises one alert, so a replay of it makes exactly N alerts. The
source port and address of flow i are derivable from i, which lets tests
check that every alert arrived.

usage: make-dns-flows-pcap.py OUT.pcap N

Standard library only; nothing is sent anywhere.
"""
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def flow_addr(i):
    """Source address and port of flow i: 10.(i>>16).(i>>8).(i) is not
    used as is (the last octet avoids 0 and 255)."""
    host = 1 + i // 250
    return "10.77.%d.%d" % (host // 250, host % 250 + 1), 20000 + i % 250


def packet(i):
    src, sport = flow_addr(i)
    dst, dport = "10.77.255.53", 53
    qname = b"".join(bytes([len(p)]) + p for p in
                     [b"host%d" % i, b"example", b"gov"]) + b"\0"
    dns = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + qname + \
        struct.pack("!HH", 1, 1)
    udp_len = 8 + len(dns)
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    pseudo = s + d + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + dns
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + \
        udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, i & 0xFFFF, 0,
                     64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + udp


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    t0 = 1764547200  # 2025-12-01T00:00:00Z
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            pkt = packet(i)
            us = i * 1000
            f.write(struct.pack("<IIII", t0 + us // 1000000, us % 1000000,
                                len(pkt), len(pkt)))
            f.write(pkt)


if __name__ == "__main__":
    main()
