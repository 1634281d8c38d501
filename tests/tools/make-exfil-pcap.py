#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Build a capture of a large outbound transfer to a foreign network
(MITRE ATT&CK T1048, exfiltration over an alternative protocol).

The "large outbound transfer" rule looks for a flow from a home_net
address that sends many bytes to a public address. No real capture at
hand has such a flow, so this script makes one, offline, with scapy:

  one TCP connection from 10.20.0.5:51522 (home_net) to 198.51.100.20:443
  (TEST-NET-2; "US" in the test GeoIP database), starting 2026-03-02
  11:00:00 UTC: handshake; a TLS 1.3 ClientHello (SNI
  "upload.example.com", ALPN h2) and ServerHello, so that DPI sees TLS;
  then the client uploads N bytes of TLS application data (random bytes)
  spread evenly over about 40 seconds, the server acknowledging every
  second segment and answering with a short record at the end; FIN.

Segments are jumbo-frame sized (MSS 8960, 9014-byte Ethernet frames) so
that the file is not much larger than the data it carries. Every byte
the agent counts is in the file (it counts captured bytes, and refuses
packets cut by a snap length), so the file size follows N:
  default N = 1835008 (1.75 MiB)      -> about 1.86 MB, the stored capture
  --bytes 12000000 (12 MB)            -> about 12.1 MB, to build at test time
The output is deterministic (fixed seed, fixed timestamps).

usage:
    /usr/bin/python3 tests/tools/make-exfil-pcap.py OUT.pcap
    /usr/bin/python3 tests/tools/make-exfil-pcap.py --bytes 12000000 OUT.pcap
"""
import argparse
import calendar
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402

CLIENT, CPORT = "10.20.0.5", 51522
SERVER, SPORT = "198.51.100.20", 443
SNI = "upload.example.com"
T0 = calendar.timegm((2026, 3, 2, 11, 0, 0))
DURATION = 40.0
RTT = 0.120          # a server on another continent
MSS = 8960


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--bytes", type=int, default=1835008,
                    help="application data the client uploads "
                         "(default 1835008)")
    args = ap.parse_args()
    if args.bytes < 10 * MSS:
        sys.exit("--bytes must be at least %d" % (10 * MSS))

    rng = random.Random("vigil-exfil")
    conv = pcapgen.TcpConv(rng, T0, CLIENT, CPORT, SERVER, SPORT,
                           cli_mac="02:00:5e:00:53:05",
                           srv_mac="02:00:5e:00:53:fe",   # the router
                           cli_ttl=64, srv_ttl=51, mss=MSS,
                           cli_win=64240, srv_win=65160)
    conv.handshake(rtt=RTT)
    hello = pcapgen.tls_client_hello(rng, sni=SNI)
    conv.data(True, hello, delay=0.0004)
    # ServerHello, ChangeCipherSpec, then the encrypted handshake
    # (EncryptedExtensions, Certificate, CertificateVerify, Finished)
    server = (pcapgen.tls_server_hello(rng, hello) + pcapgen.TLS_CCS
              + pcapgen.tls_app_data(rng, 2900))
    conv.data(False, server, delay=RTT / 2 + 0.003)
    conv.data(True, pcapgen.TLS_CCS + pcapgen.tls_app_data(rng, 53),
              delay=RTT / 2 + 0.002)

    # the upload: TLS records of 16 KiB, cut into MSS segments sent at an
    # even pace; the server acks every second segment
    stream = pcapgen.tls_app_data(rng, args.bytes)
    nseg = (len(stream) + MSS - 1) // MSS
    gap = DURATION / nseg
    for i in range(nseg):
        conv.data(True, stream[i * MSS:(i + 1) * MSS],
                  delay=0.001 if i == 0 else gap)
        if i % 2 == 1:
            conv.ack(False, delay=0.0002)
    conv.ack(False, delay=RTT / 2)
    conv.data(False, pcapgen.tls_app_data(rng, 180), delay=0.02)
    conv.ack(True, delay=RTT / 2)
    conv.close(from_cli=True, rtt=RTT, delay=0.5)
    pkts = pcapgen.write(args.out, [conv])
    print("%s: %d packets, %d bytes of application data %s:%d -> %s:%d" %
          (args.out, len(pkts), args.bytes, CLIENT, CPORT, SERVER, SPORT))


if __name__ == "__main__":
    main()
