# SPDX-License-Identifier: Apache-2.0
"""Helper for the capture generators in this folder: builds one TCP
conversation (Ethernet / IPv4 / TCP) packet by packet, with consistent
sequence and acknowledgement numbers, IP identifiers, TTLs, windows and
timestamps, and writes conversations to a pcap file with scapy; plus
hand-built TLS ClientHello / ServerHello records for flows that must look
like TLS to DPI.

Nothing is sent anywhere: packets only go to the capture file.
Not a script of its own; imported by make-*-pcap.py (run them with
Debian's /usr/bin/python3, which has python3-scapy).
"""
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import EDecimal, wrpcap

# TCP flag combinations
SYN, SYNACK, ACK, PSHACK, FINACK, RSTACK = "S", "SA", "A", "PA", "FA", "RA"


class TcpConv:
    """One TCP connection. t0 is in seconds since the epoch; every method
    takes the delay (seconds) since the previous packet. Time is kept in
    whole microseconds so that the output does not depend on float
    rounding."""

    def __init__(self, rng, t0, cli, cport, srv, sport,
                 cli_mac="02:00:00:00:00:01", srv_mac="02:00:00:00:00:02",
                 cli_ttl=64, srv_ttl=64, mss=1460, cli_win=64240,
                 srv_win=65160):
        self.rng = rng
        self.t_us = int(round(t0 * 1000000))
        self.cli, self.cport, self.srv, self.sport = cli, cport, srv, sport
        self.cli_mac, self.srv_mac = cli_mac, srv_mac
        self.ttl = {True: cli_ttl, False: srv_ttl}
        self.win = {True: cli_win, False: srv_win}
        self.mss = mss
        # next sequence number each side will send
        self.seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
        self.ipid = {True: rng.getrandbits(16), False: rng.getrandbits(16)}
        self.packets = []

    def _emit(self, from_cli, flags, payload=b"", delay=0.0, options=None):
        self.t_us += int(round(delay * 1000000))
        if from_cli:
            eth = Ether(src=self.cli_mac, dst=self.srv_mac)
            ip = IP(src=self.cli, dst=self.srv)
            sp, dp = self.cport, self.sport
        else:
            eth = Ether(src=self.srv_mac, dst=self.cli_mac)
            ip = IP(src=self.srv, dst=self.cli)
            sp, dp = self.sport, self.cport
        ip.ttl = self.ttl[from_cli]
        ip.id = self.ipid[from_cli]
        ip.flags = "DF"
        self.ipid[from_cli] = (self.ipid[from_cli] + 1) & 0xffff
        ack = 0 if flags == SYN else self.seq[not from_cli]
        tcp = TCP(sport=sp, dport=dp, flags=flags, seq=self.seq[from_cli],
                  ack=ack, window=self.win[from_cli],
                  options=options or [])
        pkt = eth / ip / tcp
        if payload:
            pkt = pkt / payload
        pkt.time = EDecimal(self.t_us) / 1000000
        self.packets.append(pkt)
        n = len(payload)
        if "S" in flags or "F" in flags:
            n += 1
        self.seq[from_cli] = (self.seq[from_cli] + n) & 0xffffffff
        return pkt

    def handshake(self, rtt=0.03, delay=0.0):
        opts = [("MSS", self.mss), ("NOP", None), ("WScale", 7),
                ("SAckOK", b"")]
        self._emit(True, SYN, delay=delay, options=opts)
        self._emit(False, SYNACK, delay=rtt / 2, options=opts)
        self._emit(True, ACK, delay=rtt / 2)

    def data(self, from_cli, payload, delay=0.0, gap=0.0):
        """Send payload in MSS-sized segments, `gap` seconds apart."""
        first = True
        for off in range(0, len(payload), self.mss):
            self._emit(from_cli, PSHACK, payload[off:off + self.mss],
                       delay=delay if first else gap)
            first = False

    def ack(self, from_cli, delay=0.0):
        self._emit(from_cli, ACK, delay=delay)

    def close(self, from_cli=True, rtt=0.03, delay=0.0):
        """FIN from one side, FIN/ACK back, last ACK."""
        self._emit(from_cli, FINACK, delay=delay)
        self._emit(not from_cli, FINACK, delay=rtt / 2)
        self._emit(from_cli, ACK, delay=rtt / 2)


def write(path, conversations):
    """Write the packets of all conversations, in time order."""
    pkts = [p for c in conversations for p in c.packets]
    pkts.sort(key=lambda p: p.time)
    wrpcap(path, pkts)
    return pkts


# ---------------------------------------------------------------- TLS
# Hand-built TLS handshake messages: only the clear-text hellos, which is
# all that DPI looks at; what follows them is random bytes in
# application-data records, as on the wire after the handshake.

def _u8(n):
    return n.to_bytes(1, "big")


def _u16(n):
    return n.to_bytes(2, "big")


def _u24(n):
    return n.to_bytes(3, "big")


def _ext(typ, body):
    return _u16(typ) + _u16(len(body)) + body


def tls_record(ctype, body, version=0x0303):
    out = b""
    for off in range(0, len(body), 16384):
        chunk = body[off:off + 16384]
        out += _u8(ctype) + _u16(version) + _u16(len(chunk)) + chunk
    return out


def tls_client_hello(rng, sni=None, alpn=(b"h2", b"http/1.1"), tls13=True):
    """A ClientHello like a current browser / curl: TLS 1.3 and 1.2
    suites, x25519 key share, SNI and ALPN when given."""
    suites = [0x1301, 0x1302, 0x1303] if tls13 else []
    suites += [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
               0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    exts = b""
    if sni:
        name = sni.encode()
        entry = _u8(0) + _u16(len(name)) + name
        exts += _ext(0, _u16(len(entry)) + entry)
    exts += _ext(23, b"")                                   # ext. master secret
    exts += _ext(0xff01, b"\x00")                           # renegotiation info
    groups = b"".join(_u16(g) for g in (0x001d, 0x0017, 0x0018))
    exts += _ext(10, _u16(len(groups)) + groups)            # supported groups
    exts += _ext(11, b"\x01\x00")                           # ec point formats
    exts += _ext(35, b"")                                   # session ticket
    if alpn:
        protos = b"".join(_u8(len(p)) + p for p in alpn)
        exts += _ext(16, _u16(len(protos)) + protos)
    exts += _ext(5, b"\x01\x00\x00\x00\x00")                # status request
    sigs = b"".join(_u16(s) for s in (0x0403, 0x0804, 0x0401, 0x0503,
                                      0x0805, 0x0501, 0x0806, 0x0601))
    exts += _ext(13, _u16(len(sigs)) + sigs)                # signature algs
    if tls13:
        share = _u16(0x001d) + _u16(32) + rng.randbytes(32)
        exts += _ext(51, _u16(len(share)) + share)          # key share
        exts += _ext(45, b"\x01\x01")                       # psk modes
        exts += _ext(43, b"\x04\x03\x04\x03\x03")           # versions 1.3 1.2
    body = (_u16(0x0303) + rng.randbytes(32) + _u8(32) + rng.randbytes(32)
            + _u16(2 * len(suites)) + b"".join(_u16(s) for s in suites)
            + b"\x01\x00" + _u16(len(exts)) + exts)
    return tls_record(22, b"\x01" + _u24(len(body)) + body, version=0x0301)


def tls_server_hello(rng, client_hello, tls13=True, suite=None):
    """ServerHello answering client_hello (echoes its session id)."""
    sid = client_hello[5 + 4 + 2 + 32 + 1:5 + 4 + 2 + 32 + 1 + 32]
    if tls13:
        suite = suite or 0x1301
        exts = _ext(43, _u16(0x0304))
        exts += _ext(51, _u16(0x001d) + _u16(32) + rng.randbytes(32))
    else:
        suite = suite or 0xc030
        exts = _ext(0xff01, b"\x00") + _ext(23, b"")
    body = (_u16(0x0303) + rng.randbytes(32) + _u8(32) + sid + _u16(suite)
            + b"\x00" + _u16(len(exts)) + exts)
    return tls_record(22, b"\x02" + _u24(len(body)) + body)


def tls_app_data(rng, n):
    """n bytes of (random, i.e. encrypted-looking) application data."""
    return tls_record(23, rng.randbytes(n))


TLS_CCS = tls_record(20, b"\x01")
