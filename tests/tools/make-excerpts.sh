#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Make the "*-excerpt.pcap" captures of tests/data/pcap from nDPI's test
# captures (ntop/nDPI, tests/cfgs/default/pcap/, commit
# 3b1286ab03b0c9223ac208a01868d8c1f6c0ae00, as in the project's shared test
# data). Each excerpt keeps only the flows a detection-rule test needs (and
# at most the first N packets of each, where said), byte for byte, with
# tests/tools/extract-flows.py; the full captures are too large to keep in
# the repository for one or two flows each.
#
# usage: tests/tools/make-excerpts.sh NDPI_PCAP_DIR OUT_DIR
#   e.g. tests/tools/make-excerpts.sh ../shared/testdata/pcap tests/data/pcap
set -eu
[ $# -eq 2 ] || { echo "usage: $0 NDPI_PCAP_DIR OUT_DIR" >&2; exit 1; }
src=$1
out=$2
x="/usr/bin/python3 $(dirname "$0")/extract-flows.py"

# VNC from a public address into 192.168.2.110:6900 (first 40 packets)
$x "$src/vnc.pcap" "$out/vnc-excerpt.pcap" --max-per-flow 40 \
  --flow tcp 95.237.48.208 51559 192.168.2.110 6900
# TeamViewer: TCP to a TeamViewer server, UDP to a peer (first 30 each)
$x "$src/teamviewer.pcap" "$out/teamviewer-excerpt.pcap" --max-per-flow 30 \
  --flow tcp 10.0.2.15 35732 162.250.2.170 5938 \
  --flow udp 10.0.2.15 34417 93.47.224.241 36037
# Tor (nDPI: by the peer's address), one Gnutella handshake and a TLS
# session with a self-signed, expired certificate to a public address
$x "$src/gnutella.pcap" "$out/gnutella-tor-excerpt.pcap" \
  --flow udp 10.0.2.15 28681 60.241.48.194 21301 \
  --flow tcp 10.0.2.15 50319 185.187.74.173 53489 \
  --flow tcp 10.0.2.15 50314 80.7.252.192 6888
# OpenVPN over TCP 443 and over UDP (first 30 each)
$x "$src/openvpn.pcap" "$out/openvpn-excerpt.pcap" --max-per-flow 30 \
  --flow tcp 192.168.1.77 60140 46.101.231.218 443 \
  --flow udp 192.168.43.18 13680 139.59.151.137 13680
# Cisco AnyConnect (DTLS tunnel)
$x "$src/anyconnect-vpn.pcap" "$out/anyconnect-vpn-excerpt.pcap" \
  --flow udp 10.0.0.227 54107 8.37.102.91 443
# FortiClient SSL VPN
$x "$src/forticlient.pcap" "$out/forticlient-excerpt.pcap" \
  --flow tcp 192.168.1.178 61805 82.81.46.13 10443
# Opera browser VPN (first 20 packets)
$x "$src/opera-vpn.pcapng" "$out/opera-vpn-excerpt.pcap" --max-per-flow 20 \
  --flow tcp 192.168.1.29 51424 77.111.247.69 443
# HTTP CONNECT to a proxy (client side only)
$x "$src/http_connect.pcap" "$out/http_connect-excerpt.pcap" \
  --flow tcp 192.168.1.103 1714 192.168.1.146 8080
# BitTorrent peer connections (first 20 each)
$x "$src/bittorrent.pcap" "$out/bittorrent-excerpt.pcap" --max-per-flow 20 \
  --flow tcp 192.168.1.3 52915 198.100.146.9 60163 \
  --flow tcp 192.168.1.3 52895 83.216.184.241 51413
# crypto-currency mining (stratum), first 20 packets of each flow
$x "$src/mining.pcapng" "$out/mining-excerpt.pcap" --max-per-flow 20 \
  --flow tcp 192.168.2.148 46838 94.23.199.191 3333 \
  --flow tcp 147.229.13.222 49307 185.71.66.39 9999 \
  --flow tcp 192.168.2.92 55190 178.32.196.217 9050 \
  --flow tcp 192.168.2.148 53846 116.211.167.195 3333
# a crawler (bingbot) fetching an image: first 30 packets
$x "$src/bot.pcap" "$out/bot-excerpt.pcap" --max-per-flow 30 \
  --flow tcp 40.77.167.36 64768 89.31.72.220 80
# dnscat2-style DNS tunnel (DGA risk): the two short flows
$x "$src/bad-dns-traffic.pcap" "$out/bad-dns-traffic-excerpt.pcap" \
  --flow udp 192.168.43.91 35966 4.2.2.4 53 \
  --flow udp 192.168.43.91 46961 4.2.2.4 53
# iodine DNS tunnel: first 20 packets
$x "$src/dns-tunnel-iodine.pcap" "$out/dns-tunnel-iodine-excerpt.pcap" \
  --max-per-flow 20 --flow udp 10.0.2.30 44639 10.0.2.20 53
# Nikto scan: the 24 requests nDPI 4.2 flags "HTTP Suspicious URL" and 16
# more with command-injection URLs (cmd=, ;cat /etc/passwd, |id|...)
rce=""
for p in 51064 50620 50622 51036 51054 51026 51020 51056 51050 51024 51028 51034 51052 51060 51062 50562 51022 51018 51030 51032 51058 51048 51068 51066 51186 49780 51094 50632 50658 50626 51038 51042 50652 50618 51040 51044 49592 49556 49580 49604 ; do
  rce="$rce --flow tcp 127.0.0.1 $p 127.0.0.1 8080"
done
# shellcheck disable=SC2086
$x "$src/WebattackRCE.pcap" "$out/WebattackRCE-excerpt.pcap" $rce
