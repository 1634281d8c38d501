#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Build a capture of a password brute-force attack on SSH or RDP.

The SSH / RDP brute-force rules are stateful (at least 10 flows from one
source to one server port within 60 s) and no real capture at hand has
enough connections, so this script makes one, offline, with scapy.

It writes 15 short TCP connections from 203.0.113.77 (TEST-NET-3, outside
any home_net) to the server 10.20.0.10, one every 2 seconds, starting
2026-03-02 10:00:00 UTC. Each connection is a complete, plausible login
attempt that ends with the client giving up:

  ssh  (port 22): TCP handshake, server banner "SSH-2.0-OpenSSH_8.9p1
       Ubuntu-3", client banner "SSH-2.0-libssh_0.9.6", both KEXINITs
       (real algorithm lists of those versions), curve25519 ECDH init and
       reply, NEWKEYS, then encrypted-looking packets (service request,
       three password attempts refused) and FIN.
  rdp  (port 3389): TCP handshake, X.224 Connection Request in TPKT with
       "Cookie: mstshash=administrator" and an RDP negotiation request
       (TLS | CredSSP), Connection Confirm selecting CredSSP, a TLS
       ClientHello / ServerHello, a few encrypted-looking CredSSP records,
       then the server closes the connection (failed NLA).

The output is deterministic (fixed seed, fixed timestamps).

usage:
    /usr/bin/python3 tests/tools/make-bruteforce-pcap.py OUT.pcap
    /usr/bin/python3 tests/tools/make-bruteforce-pcap.py --service rdp OUT.pcap
"""
import argparse
import calendar
import os
import random
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402

ATTACKER = "203.0.113.77"
SERVER = "10.20.0.10"
ATTACKER_MAC = "02:00:5e:00:53:01"   # the gateway, as seen on the server
SERVER_MAC = "02:00:5e:00:53:0a"
CONNECTIONS = 15
SPACING = 2.0
T0 = calendar.timegm((2026, 3, 2, 10, 0, 0))
RTT = 0.042

# ------------------------------------------------------------------ SSH

SSH_CLIENT_BANNER = b"SSH-2.0-libssh_0.9.6\r\n"
SSH_SERVER_BANNER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n"

LIBSSH_KEX = [
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group18-sha512,"
    "diffie-hellman-group16-sha512,diffie-hellman-group-exchange-sha256,"
    "diffie-hellman-group14-sha256,ext-info-c",
    "ssh-ed25519,ecdsa-sha2-nistp521,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256,ssh-rsa",
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
    "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
    "aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "none", "none", "", "",
]

OPENSSH89_KEX = [
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,"
    "sntrup761x25519-sha512@openssh.com,"
    "diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
]


def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def ssh_packet(rng, payload):
    """RFC 4253 section 6 binary packet, before encryption (block 8)."""
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return (struct.pack(">IB", len(payload) + pad + 1, pad) + payload
            + rng.randbytes(pad))


def ssh_kexinit(rng, lists):
    body = b"\x14" + rng.randbytes(16)
    for name_list in lists:
        body += ssh_string(name_list.encode())
    body += b"\x00" + b"\x00\x00\x00\x00"
    return ssh_packet(rng, body)


def ssh_session(rng, conv):
    conv.handshake(rtt=RTT)
    conv.data(False, SSH_SERVER_BANNER, delay=0.004)
    conv.data(True, SSH_CLIENT_BANNER, delay=RTT / 2 + 0.001)
    conv.data(True, ssh_kexinit(rng, LIBSSH_KEX), delay=0.0005)
    conv.data(False, ssh_kexinit(rng, OPENSSH89_KEX), delay=RTT / 2)
    # SSH_MSG_KEX_ECDH_INIT (30), Q_C
    conv.data(True, ssh_packet(rng, b"\x1e" + ssh_string(rng.randbytes(32))),
              delay=RTT / 2 + 0.002)
    # SSH_MSG_KEX_ECDH_REPLY (31): K_S (ed25519 host key), Q_S, signature;
    # then SSH_MSG_NEWKEYS (21)
    host_key = ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(32))
    sig = ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(64))
    reply = ssh_packet(rng, b"\x1f" + ssh_string(host_key)
                       + ssh_string(rng.randbytes(32)) + ssh_string(sig))
    conv.data(False, reply + ssh_packet(rng, b"\x15"), delay=RTT / 2 + 0.003)
    # client NEWKEYS, then everything is encrypted (chacha20-poly1305:
    # 4-byte length, ciphertext, 16-byte tag)
    conv.data(True, ssh_packet(rng, b"\x15"), delay=RTT / 2 + 0.001)
    conv.data(True, rng.randbytes(4 + 32 + 16), delay=0.0003)   # service req.
    conv.data(False, rng.randbytes(4 + 32 + 16), delay=RTT / 2)  # accept
    for _ in range(3):  # userauth password -> failure
        conv.data(True, rng.randbytes(4 + 88 + 16), delay=RTT / 2 + 0.001)
        conv.data(False, rng.randbytes(4 + 44 + 16), delay=RTT / 2 + 0.25)
    conv.ack(True, delay=RTT / 2)
    conv.close(from_cli=True, rtt=RTT, delay=0.01)


# ------------------------------------------------------------------ RDP

def x224_connection_request(user):
    cookie = b"Cookie: mstshash=" + user + b"\r\n"
    # RDP_NEG_REQ: type 1, flags 0, length 8,
    # requestedProtocols PROTOCOL_SSL | PROTOCOL_HYBRID
    neg = struct.pack("<BBHI", 1, 0, 8, 0x00000003)
    x224 = b"\xe0" + b"\x00\x00" + b"\x00\x00" + b"\x00" + cookie + neg
    x224 = bytes([len(x224)]) + x224                 # length indicator
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


def x224_connection_confirm():
    # RDP_NEG_RSP: type 2, flags 0x1f, length 8, selectedProtocol HYBRID
    neg = struct.pack("<BBHI", 2, 0x1f, 8, 0x00000002)
    x224 = b"\xd0" + b"\x00\x00" + b"\x12\x34" + b"\x00" + neg
    x224 = bytes([len(x224)]) + x224
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


RDP_USERS = [b"administrator", b"admin", b"Administrator", b"user",
             b"test", b"administrator", b"scanner", b"admin",
             b"backup", b"Administrator", b"guest", b"support",
             b"admin1", b"administrator", b"operator"]


def rdp_session(rng, conv, i):
    conv.handshake(rtt=RTT)
    conv.data(True, x224_connection_request(RDP_USERS[i]), delay=0.0005)
    conv.data(False, x224_connection_confirm(), delay=RTT / 2 + 0.001)
    hello = pcapgen.tls_client_hello(rng, sni=None, alpn=None, tls13=False)
    conv.data(True, hello, delay=RTT / 2 + 0.002)
    # ServerHello, then the certificate and key exchange (opaque here)
    server = pcapgen.tls_server_hello(rng, hello, tls13=False)
    server += pcapgen.tls_record(22, rng.randbytes(900))
    conv.data(False, server, delay=RTT / 2 + 0.004)
    conv.data(True, pcapgen.tls_record(22, rng.randbytes(70)) + pcapgen.TLS_CCS
              + pcapgen.tls_record(22, rng.randbytes(40)),
              delay=RTT / 2 + 0.006)
    conv.data(False, pcapgen.TLS_CCS + pcapgen.tls_record(22, rng.randbytes(40)),
              delay=RTT / 2 + 0.002)
    # CredSSP / NTLM: negotiate, challenge, authenticate -> refused
    conv.data(True, pcapgen.tls_app_data(rng, 64), delay=RTT / 2 + 0.001)
    conv.data(False, pcapgen.tls_app_data(rng, 290), delay=RTT / 2 + 0.002)
    conv.data(True, pcapgen.tls_app_data(rng, 620), delay=RTT / 2 + 0.003)
    conv.data(False, pcapgen.tls_app_data(rng, 34), delay=RTT / 2 + 0.180)
    conv.close(from_cli=False, rtt=RTT, delay=0.001)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--service", choices=("ssh", "rdp"), default="ssh")
    args = ap.parse_args()

    port = 22 if args.service == "ssh" else 3389
    rng = random.Random("vigil-bruteforce-" + args.service)
    convs = []
    sport = 41000 + rng.randrange(4000)
    for i in range(CONNECTIONS):
        sport += 1 + rng.randrange(7)
        conv = pcapgen.TcpConv(rng, T0 + i * SPACING + rng.random() * 0.05,
                               ATTACKER, sport, SERVER, port,
                               cli_mac=ATTACKER_MAC, srv_mac=SERVER_MAC,
                               cli_ttl=49, srv_ttl=64)
        if args.service == "ssh":
            ssh_session(rng, conv)
        else:
            rdp_session(rng, conv, i)
        convs.append(conv)
    pkts = pcapgen.write(args.out, convs)
    print("%s: %d packets, %d connections to %s:%d" %
          (args.out, len(pkts), len(convs), SERVER, port))


if __name__ == "__main__":
    main()
