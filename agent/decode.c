/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet decoder: walks one captured frame from its link-layer header down
 * to the innermost IP header and its transport header.
 *
 * The capture thread calls vg_decode() on every frame, before the flow
 * table and the classifier see it, so this file runs millions of times a
 * second on bytes an attacker chose. Three rules follow from that:
 *
 *   - Every byte is read through the `struct cur` helpers below, which
 *     check the length first. A length declared inside a packet (IPv4 total
 *     length, IPv6 payload length, UDP length, PPPoE length, GTP length)
 *     becomes a sub-cursor, so nothing beyond it can be read; the captured
 *     length bounds the outermost cursor. No buffer is cast to a struct.
 *   - Nothing is allocated and nothing is copied but the addresses: the
 *     result points into the caller's frame.
 *   - Every loop is bounded by bytes consumed or by a fixed cap (VLAN tags,
 *     IPv6 extension headers, nested IP layers), and recursion only goes
 *     deeper through a new IP layer, which VG_DECODE_MAX_DEPTH caps.
 *
 * A tunnel that does not look like what its port promises is left closed
 * and the outer packet is returned: an unrelated application on UDP 2152
 * must still be counted as a UDP flow. Once a tunnel header has been
 * recognised, a malformed inner part is an error.
 */
#include "decode.h"

#include <pcap/dlt.h>

#include <stdbool.h>
#include <string.h>

/* LINKTYPE_RAW, the value pcap files use for raw IP on every platform. */
#define LINKTYPE_RAW 101

/* Ethertypes (IEEE registry). */
#define ETH_IPV4     0x0800
#define ETH_IPV6     0x86dd
#define ETH_VLAN     0x8100 /* 802.1Q */
#define ETH_QINQ     0x88a8 /* 802.1ad */
#define ETH_QINQ_OLD 0x9100 /* pre-802.1ad QinQ */
#define ETH_MPLS     0x8847
#define ETH_MPLS_MC  0x8848
#define ETH_PPPOE    0x8864 /* PPPoE session stage */
#define ETH_TEB      0x6558 /* transparent Ethernet bridging (GRE) */
#define ETH_PPP      0x880b /* PPP (PPTP enhanced GRE) */
#define ETH_MAX_LEN  1500   /* 802.3: values up to this are a length */

/* PPP protocol numbers (RFC 1661, RFC 5072). */
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

/* IP protocol numbers (IANA). */
#define PROTO_HOPOPTS  0
#define PROTO_ICMP     1
#define PROTO_IPIP     4
#define PROTO_TCP      6
#define PROTO_UDP      17
#define PROTO_IPV6     41
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_GRE      47
#define PROTO_AH       51
#define PROTO_ICMPV6   58
#define PROTO_NONE     59
#define PROTO_DSTOPTS  60
#define PROTO_MOBILITY 135

/* UDP ports that announce a tunnel. */
#define PORT_GTPU        2152
#define PORT_VXLAN       4789
#define PORT_CAPWAP_DATA 5247
#define PORT_TZSP        37008

#define IPV6_MAX_EXT 16 /* extension headers walked before giving up */

/*
 * Bounds-checked byte cursor. `p` is the next unread byte and `len` how
 * many bytes may still be read. Each helper returns false, leaving the
 * cursor untouched, when fewer bytes remain than it needs.
 */
struct cur {
	const uint8_t *p;
	uint32_t len;
};

static inline struct cur
cur_make(const uint8_t *p, uint32_t len)
{
	struct cur c = {p, len};

	return c;
}

static inline bool
cur_u8(struct cur *c, uint8_t *v)
{
	if (c->len < 1)
		return false;
	*v = c->p[0];
	c->p++;
	c->len--;
	return true;
}

static inline bool
cur_u16be(struct cur *c, uint16_t *v)
{
	if (c->len < 2)
		return false;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return true;
}

static inline bool
cur_u32be(struct cur *c, uint32_t *v)
{
	if (c->len < 4)
		return false;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	     (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->len -= 4;
	return true;
}

static inline bool
cur_skip(struct cur *c, uint32_t n)
{
	if (c->len < n)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* Copy n bytes out (addresses only). */
static inline bool
cur_copy(struct cur *c, uint8_t *dst, uint32_t n)
{
	if (c->len < n)
		return false;
	memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
	return true;
}

/* Split off the next n bytes as *sub and move c past them. */
static inline bool
cur_sub(struct cur *c, uint32_t n, struct cur *sub)
{
	if (c->len < n)
		return false;
	sub->p = c->p;
	sub->len = n;
	c->p += n;
	c->len -= n;
	return true;
}

static inline bool
cur_peek_u8(const struct cur *c, uint32_t off, uint8_t *v)
{
	if (off >= c->len)
		return false;
	*v = c->p[off];
	return true;
}

static inline bool
cur_peek_u16be(const struct cur *c, uint32_t off, uint16_t *v)
{
	if (c->len < 2 || off > c->len - 2)
		return false;
	*v = (uint16_t)(c->p[off] << 8 | c->p[off + 1]);
	return true;
}

/* State of one vg_decode() call. */
struct dec {
	struct vg_pkt *out;
	const uint8_t *end; /* one past the last captured byte */
	unsigned tunnels;   /* enum vg_tunnel mask the caller enabled */
	unsigned depth;     /* IP layers entered so far */
};

static enum vg_decode_reason decode_ether(struct dec *, struct cur);
static enum vg_decode_reason decode_ethertype(struct dec *, struct cur,
					      uint16_t);
static enum vg_decode_reason decode_ipv4(struct dec *, struct cur);
static enum vg_decode_reason decode_ipv6(struct dec *, struct cur);

/*
 * Start describing a new IP layer: the result is about the innermost one,
 * so everything an outer layer wrote is forgotten except what accumulates
 * over the whole frame (VLAN tags and tunnel bits).
 */
static void
l3_begin(struct dec *d, const uint8_t *l3, uint8_t version)
{
	struct vg_pkt *o = d->out;
	uint16_t vlan = o->vlan;
	uint8_t vlan_depth = o->vlan_depth, tunnel = o->tunnel;

	memset(o, 0, sizeof(*o));
	o->vlan = vlan;
	o->vlan_depth = vlan_depth;
	o->tunnel = tunnel;
	o->l3 = l3;
	o->l3_len = (uint32_t)(d->end - l3);
	o->ip_version = version;
}

/*
 * IP whose version only its first nibble tells (raw IP links, MPLS,
 * GTP-U). `short_reason` is what an empty cursor means to the caller.
 */
static enum vg_decode_reason
decode_ip(struct dec *d, struct cur c, enum vg_decode_reason short_reason)
{
	uint8_t b;

	if (!cur_peek_u8(&c, 0, &b))
		return short_reason;
	switch (b >> 4) {
	case 4:
		return decode_ipv4(d, c);
	case 6:
		return decode_ipv6(d, c);
	default:
		return VG_DEC_IP_BAD_VERSION;
	}
}

/* PPP protocol field to a decoder (RFC 1661 section 2). */
static enum vg_decode_reason
decode_ppp_proto(struct dec *d, struct cur c, uint16_t proto)
{
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(d, c);
	case PPP_IPV6:
		return decode_ipv6(d, c);
	default:
		return VG_DEC_NOT_IP;
	}
}

/*
 * IEEE 802.2 LLC with a SNAP header (RFC 1042), after an 802.3 length.
 *
 *  +------+------+------+---------------+---------------+
 *  | DSAP | SSAP | ctrl |  OUI (3 B)    | ethertype (2) |
 *  +------+------+------+---------------+---------------+
 *
 * Only SNAP (0xAA) carries an ethertype; any other SAP (STP, NetBIOS...)
 * is not IP.
 */
static enum vg_decode_reason
llc_snap(struct cur *c, uint16_t *type, enum vg_decode_reason short_reason)
{
	uint8_t dsap, ssap;

	if (!cur_peek_u8(c, 0, &dsap) || !cur_peek_u8(c, 1, &ssap))
		return short_reason;
	if (dsap != 0xaa && ssap != 0xaa)
		return VG_DEC_NOT_IP;
	if (!cur_peek_u16be(c, 6, type) || !cur_skip(c, 8))
		return short_reason;
	return VG_DEC_OK;
}

/*
 * MPLS label stack (RFC 3032). Labels are skipped up to the one with the
 * bottom-of-stack bit; what follows has no type field, so the first nibble
 * tells IPv4 from IPv6 (a pseudowire control word starts with 0: not IP).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Label                  | TC  |S|      TTL      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum vg_decode_reason
decode_mpls(struct dec *d, struct cur c)
{
	uint32_t lse;
	uint8_t b;

	/* Terminates: every label consumes 4 bytes of a finite cursor. */
	do {
		if (!cur_u32be(&c, &lse))
			return VG_DEC_MPLS_TRUNC;
	} while ((lse & 0x100) == 0);
	if (!cur_peek_u8(&c, 0, &b))
		return VG_DEC_MPLS_TRUNC;
	switch (b >> 4) {
	case 4:
		return decode_ipv4(d, c);
	case 6:
		return decode_ipv6(d, c);
	default:
		return VG_DEC_NOT_IP;
	}
}

/*
 * PPPoE session stage (RFC 2516 section 5), then the PPP protocol field.
 * The length covers the PPP protocol field and its payload.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  VER  | TYPE  |      CODE     |          SESSION_ID           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            LENGTH             |         PPP protocol          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum vg_decode_reason
decode_pppoe(struct dec *d, struct cur c)
{
	struct cur body;
	uint16_t len, proto;

	if (!cur_skip(&c, 4) || !cur_u16be(&c, &len))
		return VG_DEC_PPPOE_TRUNC;
	if (!cur_sub(&c, len, &body) || !cur_u16be(&body, &proto))
		return VG_DEC_PPPOE_TRUNC;
	return decode_ppp_proto(d, body, proto);
}

/*
 * Ethertype dispatch, shared by Ethernet, Linux cooked captures, Cisco
 * HDLC and GRE. 802.1Q / 802.1ad tags are peeled in a loop:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | PCP |D|        VLAN id        |      next ethertype           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The tag count is kept for the whole frame, so VLANs inside a VXLAN or
 * GRE-bridged frame count against the same VG_DECODE_MAX_VLAN cap.
 */
static enum vg_decode_reason
decode_ethertype(struct dec *d, struct cur c, uint16_t type)
{
	struct vg_pkt *o = d->out;
	enum vg_decode_reason r;
	uint16_t tci;

	for (;;) {
		switch (type) {
		case ETH_IPV4:
			return decode_ipv4(d, c);
		case ETH_IPV6:
			return decode_ipv6(d, c);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
			if (o->vlan_depth >= VG_DECODE_MAX_VLAN)
				return VG_DEC_VLAN_TOO_DEEP;
			if (!cur_u16be(&c, &tci) || !cur_u16be(&c, &type))
				return VG_DEC_VLAN_TRUNC;
			o->vlan_depth++;
			o->vlan = tci & 0x0fff;
			/* A tagged 802.3 frame: LLC follows the tag. */
			if (type <= ETH_MAX_LEN) {
				r = llc_snap(&c, &type, VG_DEC_VLAN_TRUNC);
				if (r != VG_DEC_OK)
					return r;
			}
			break;
		case ETH_MPLS:
		case ETH_MPLS_MC:
			return decode_mpls(d, c);
		case ETH_PPPOE:
			return decode_pppoe(d, c);
		default:
			return VG_DEC_NOT_IP;
		}
	}
}

/*
 * Ethernet II and IEEE 802.3 (DLT_EN10MB). A type field up to 1500 is an
 * 802.3 length and an LLC header follows; 1501..1535 is undefined.
 *
 *  +-------------------+-------------------+-----------------+
 *  | destination (6 B) |   source (6 B)    | type/length (2) |
 *  +-------------------+-------------------+-----------------+
 */
static enum vg_decode_reason
decode_ether(struct dec *d, struct cur c)
{
	enum vg_decode_reason r;
	uint16_t type;

	if (!cur_skip(&c, 12) || !cur_u16be(&c, &type))
		return VG_DEC_LINK_TRUNC;
	if (type <= ETH_MAX_LEN) {
		r = llc_snap(&c, &type, VG_DEC_LINK_TRUNC);
		if (r != VG_DEC_OK)
			return r;
	}
	return decode_ethertype(d, c, type);
}

/* An Ethernet frame inside a tunnel: a short one is the tunnel's fault. */
static enum vg_decode_reason
decode_ether_inner(struct dec *d, struct cur c, enum vg_decode_reason bad)
{
	if (c.len < 14)
		return bad;
	return decode_ether(d, c);
}

/*
 * Linux cooked capture v1 (DLT_LINUX_SLL), 16 bytes, and v2
 * (DLT_LINUX_SLL2), 20 bytes; both carry an ethertype.
 *
 *  v1: | pkttype (2) | ARPHRD (2) | addr len (2) | addr (8) | proto (2) |
 *  v2: | proto (2) | rsvd (2) | ifindex (4) | ARPHRD (2) | pkttype (1) |
 *      | addr len (1) | addr (8) |
 */
static enum vg_decode_reason
decode_sll(struct dec *d, struct cur c)
{
	uint16_t proto;

	if (!cur_skip(&c, 14) || !cur_u16be(&c, &proto))
		return VG_DEC_LINK_TRUNC;
	return decode_ethertype(d, c, proto);
}

static enum vg_decode_reason
decode_sll2(struct dec *d, struct cur c)
{
	uint16_t proto;

	if (!cur_u16be(&c, &proto) || !cur_skip(&c, 18))
		return VG_DEC_LINK_TRUNC;
	return decode_ethertype(d, c, proto);
}

/*
 * BSD loopback: a 4-byte address family, host order for DLT_NULL and
 * network order for DLT_LOOP. Captures travel between hosts, so both byte
 * orders are accepted for both. AF_INET is 2 everywhere; AF_INET6 is 10
 * (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
 *
 *  +-------------------------------+
 *  |     address family (4 B)      |
 *  +-------------------------------+
 */
static enum vg_decode_reason
decode_null(struct dec *d, struct cur c)
{
	uint32_t af;

	if (!cur_u32be(&c, &af))
		return VG_DEC_LINK_TRUNC;
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	switch (af) {
	case 2:
		return decode_ipv4(d, c);
	case 10:
	case 24:
	case 28:
	case 30:
		return decode_ipv6(d, c);
	default:
		return VG_DEC_NOT_IP;
	}
}

/*
 * PPP (RFC 1661, with the RFC 1662 HDLC-like framing) and Cisco HDLC.
 *
 *  PPP in HDLC framing:   | 0xff | 0x03 | PPP protocol (2) |
 *  Cisco HDLC:            | 0x0f/0x8f | ctrl | ethertype (2) |
 *
 * DLT_PPP may omit the address and control bytes; DLT_PPP_SERIAL always
 * has them; DLT_C_HDLC is Cisco HDLC only. Any of them may in practice
 * hold a Cisco HDLC frame, which its address byte (0x0f unicast, 0x8f
 * broadcast) gives away.
 */
static enum vg_decode_reason
decode_ppp(struct dec *d, struct cur c, int dlt)
{
	uint16_t proto;
	uint8_t a, b;

	if (!cur_peek_u8(&c, 0, &a))
		return VG_DEC_LINK_TRUNC;
	if (a == 0x0f || a == 0x8f) {
		if (!cur_skip(&c, 2) || !cur_u16be(&c, &proto))
			return VG_DEC_LINK_TRUNC;
		return decode_ethertype(d, c, proto);
	}
	if (dlt == DLT_C_HDLC)
		return VG_DEC_NOT_IP;
	if (dlt == DLT_PPP_SERIAL) {
		if (!cur_skip(&c, 2))
			return VG_DEC_LINK_TRUNC;
	} else if (a == 0xff && cur_peek_u8(&c, 1, &b) && b == 0x03) {
		(void)cur_skip(&c, 2);
	}
	if (!cur_u16be(&c, &proto))
		return VG_DEC_LINK_TRUNC;
	return decode_ppp_proto(d, c, proto);
}

/*
 * TCP (RFC 9293 section 3.1). The data offset must cover the fixed header
 * and stay inside the segment.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum vg_decode_reason
decode_tcp(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;
	struct cur t = c;
	uint16_t sport, dport;
	uint32_t seq, hlen;
	uint8_t off, flags;

	if (!cur_u16be(&t, &sport) || !cur_u16be(&t, &dport) ||
	    !cur_u32be(&t, &seq) || !cur_skip(&t, 4) || !cur_u8(&t, &off) ||
	    !cur_u8(&t, &flags) || !cur_skip(&t, 6))
		return VG_DEC_TCP_TRUNC;
	hlen = (uint32_t)(off >> 4) * 4;
	if (hlen < 20 || hlen > c.len)
		return VG_DEC_TCP_BAD_HLEN;
	o->sport = sport;
	o->dport = dport;
	o->tcp_seq = seq;
	o->tcp_flags = flags;
	o->l4 = c.p;
	o->l4_len = c.len;
	o->payload = c.p + hlen;
	o->payload_len = c.len - hlen;
	return VG_DEC_OK;
}

/*
 * VXLAN (RFC 7348 section 5), UDP destination port 4789: the I flag says
 * the VNI is valid; an Ethernet frame follows.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |R|R|R|R|I|R|R|R|                  Reserved                     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           VXLAN Network Identifier (VNI)      |   Reserved    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum vg_decode_reason
decode_vxlan(struct dec *d, struct cur c)
{
	uint8_t flags;

	if (!cur_u8(&c, &flags) || !cur_skip(&c, 7) || (flags & 0x08) == 0)
		return VG_DEC_OK; /* not VXLAN after all: keep the UDP packet */
	d->out->tunnel |= VG_TUN_VXLAN;
	return decode_ether_inner(d, c, VG_DEC_VXLAN_BAD);
}

/*
 * GTPv1-U (3GPP TS 29.281 section 5), UDP port 2152. Only T-PDUs (message
 * type 255) carry user IP; echo and error messages stay UDP. The length
 * counts the bytes after the mandatory 8 and bounds everything below.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | Ver |P|*|E|S|N| Message Type  |            Length             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              Tunnel Endpoint Identifier (TEID)                |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |   Sequence Number (if E|S|N)  |  N-PDU number |  Next ext type|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Extension header: | length (4-octet units) | content ... | next type |
 */
static enum vg_decode_reason
decode_gtp(struct dec *d, struct cur c)
{
	struct cur body;
	uint32_t n;
	uint16_t len;
	uint8_t flags, type, next = 0, elen;

	if (!cur_u8(&c, &flags) || !cur_u8(&c, &type) || !cur_u16be(&c, &len) ||
	    !cur_skip(&c, 4))
		return VG_DEC_OK;
	if ((flags >> 5) != 1 || type != 0xff)
		return VG_DEC_OK;
	if (!cur_sub(&c, len, &body))
		return VG_DEC_GTP_BAD;
	if ((flags & 0x07) != 0) {
		if (!cur_skip(&body, 3) || !cur_u8(&body, &next))
			return VG_DEC_GTP_BAD;
	}
	/* Terminates: each extension header consumes at least 4 bytes. */
	while ((flags & 0x04) != 0 && next != 0) {
		if (!cur_peek_u8(&body, 0, &elen) || elen == 0)
			return VG_DEC_GTP_BAD;
		n = (uint32_t)elen * 4;
		if (!cur_peek_u8(&body, n - 1, &next) || !cur_skip(&body, n))
			return VG_DEC_GTP_BAD;
	}
	d->out->tunnel |= VG_TUN_GTP;
	return decode_ip(d, body, VG_DEC_GTP_BAD);
}

/*
 * TZSP (TaZmen Sniffer Protocol, UDP port 37008), as sent by MikroTik and
 * other remote sniffers: a 4-byte header, tagged fields up to the END tag,
 * then the captured frame. Only "received" frames of encapsulation
 * Ethernet are opened.
 *
 *  +---------+---------+-------------------+
 *  | version |  type   |   encapsulation   |   version 1, type 0, encap 1
 *  +---------+---------+-------------------+
 *  | tag | len | value ... |  ...  | END (1) | Ethernet frame ...
 *
 * Tag 0 (PADDING) and 1 (END) are one byte long; any other tag has a
 * length byte.
 */
static enum vg_decode_reason
decode_tzsp(struct dec *d, struct cur c)
{
	uint16_t encap;
	uint8_t version, type, tag, len;

	if (!cur_u8(&c, &version) || !cur_u8(&c, &type) ||
	    !cur_u16be(&c, &encap))
		return VG_DEC_OK;
	if (version != 1 || type != 0 || encap != 1)
		return VG_DEC_OK;
	/* Terminates: each tag consumes at least one byte. */
	for (;;) {
		if (!cur_u8(&c, &tag))
			return VG_DEC_TZSP_BAD;
		if (tag == 1)
			break;
		if (tag == 0)
			continue;
		if (!cur_u8(&c, &len) || !cur_skip(&c, len))
			return VG_DEC_TZSP_BAD;
	}
	d->out->tunnel |= VG_TUN_TZSP;
	return decode_ether_inner(d, c, VG_DEC_TZSP_BAD);
}

/*
 * IEEE 802.11 data frame and its LLC/SNAP header, as CAPWAP carries them
 * (RFC 5416). Fills *type with the SNAP ethertype and moves c to the
 * network-layer packet; false if this is not an unprotected data frame
 * with a SNAP header.
 *
 *  +----+----+-----+----+----+----+-----+-----+------+------+
 *  | FC | ID | A1  | A2 | A3 | SC | A4* | QoS*| HTC* | LLC/SNAP (8) |
 *  +----+----+-----+----+----+----+-----+-----+------+------+
 *    2    2    6     6    6    2    6     2     4
 *
 * A4 is present when both ToDS and FromDS are set, QoS Control in QoS
 * data subtypes, HT Control in QoS frames with the Order bit.
 */
static bool
ieee80211_data(struct cur *c, uint16_t *type)
{
	struct cur w = *c;
	uint32_t hlen = 24;
	uint8_t fc0, fc1, dsap, ssap;

	if (!cur_u8(&w, &fc0) || !cur_u8(&w, &fc1))
		return false;
	/* Some access points send the frame control field byte-swapped;
	 * when only the second byte reads as a data frame, take it so. */
	if (((fc0 >> 2) & 0x03) != 2 && ((fc1 >> 2) & 0x03) == 2 &&
	    (fc1 & 0x03) == 0) {
		uint8_t t = fc0;

		fc0 = fc1;
		fc1 = t;
	}
	if (((fc0 >> 2) & 0x03) != 2) /* type 2: data */
		return false;
	if ((fc1 & 0x40) != 0) /* Protected: the body is encrypted */
		return false;
	if ((fc1 & 0x03) == 0x03)
		hlen += 6;
	if ((fc0 & 0x80) != 0) {
		hlen += 2;
		if ((fc1 & 0x80) != 0)
			hlen += 4;
	}
	if (!cur_skip(&w, hlen - 2))
		return false;
	if (!cur_u8(&w, &dsap) || !cur_u8(&w, &ssap) || !cur_skip(&w, 4) ||
	    !cur_u16be(&w, type))
		return false;
	if (dsap != 0xaa || ssap != 0xaa)
		return false;
	*c = w;
	return true;
}

/*
 * CAPWAP data channel (RFC 5415 section 4.3), UDP port 5247. HLEN counts
 * 4-byte words of the whole CAPWAP header. With T set and WBID 1 the
 * payload is a native IEEE 802.11 frame, with T clear an 802.3 frame.
 * Fragments (F) and keep-alives (K) carry no frame header to decode.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Type  |  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Fragment ID          |     Frag Offset         |Rsvd |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      (optional) Radio MAC Address and Wireless Information    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static enum vg_decode_reason
decode_capwap(struct dec *d, struct cur c)
{
	struct cur h = c;
	uint32_t hlen;
	uint16_t type;
	uint8_t pre, b1, b2, b3;

	if (c.len < 8 || !cur_u8(&h, &pre) || !cur_u8(&h, &b1) ||
	    !cur_u8(&h, &b2) || !cur_u8(&h, &b3))
		return VG_DEC_OK;
	if ((pre & 0x0f) != 0) /* type 1: DTLS-encrypted */
		return VG_DEC_OK;
	if ((b3 & 0x80) != 0 || (b3 & 0x08) != 0) /* F or K */
		return VG_DEC_OK;
	hlen = (uint32_t)((b1 & 0xf8) >> 3) * 4;
	if (hlen < 8 || !cur_skip(&c, hlen))
		return VG_DEC_CAPWAP_BAD;
	if ((b2 & 0x01) == 0) { /* T clear: 802.3 */
		if (c.len == 0)
			return VG_DEC_OK;
		d->out->tunnel |= VG_TUN_CAPWAP;
		return decode_ether_inner(d, c, VG_DEC_CAPWAP_BAD);
	}
	if (((b2 >> 1) & 0x1f) != 1) /* not the IEEE 802.11 binding */
		return VG_DEC_OK;
	if (!ieee80211_data(&c, &type))
		return VG_DEC_OK;
	if (type != ETH_IPV4 && type != ETH_IPV6)
		return VG_DEC_OK; /* EAPOL, ARP...: keep the UDP packet */
	d->out->tunnel |= VG_TUN_CAPWAP;
	return decode_ethertype(d, c, type);
}

/*
 * UDP (RFC 768). A length of 0 only makes sense for an IPv6 jumbogram
 * (RFC 2675) and stands for the whole IP payload. A first fragment holds
 * only part of the datagram, so its UDP length may exceed the IP payload.
 *
 *   0      7 8     15 16    23 24    31
 *  +--------+--------+--------+--------+
 *  |   Source Port   |    Dest Port    |
 *  +--------+--------+--------+--------+
 *  |     Length      |    Checksum     |
 *  +--------+--------+--------+--------+
 */
static enum vg_decode_reason
decode_udp(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;
	struct cur u = c, body;
	uint32_t ulen;
	uint16_t sport, dport, len16;

	if (!cur_u16be(&u, &sport) || !cur_u16be(&u, &dport) ||
	    !cur_u16be(&u, &len16) || !cur_skip(&u, 2))
		return VG_DEC_UDP_TRUNC;
	ulen = len16 == 0 ? c.len : len16;
	if (ulen < 8)
		return VG_DEC_UDP_BAD_LEN;
	if (ulen > c.len) {
		if (o->frag != VG_FRAG_FIRST)
			return VG_DEC_UDP_BAD_LEN;
		ulen = c.len;
	}
	if (!cur_sub(&u, ulen - 8, &body))
		return VG_DEC_UDP_BAD_LEN;
	o->sport = sport;
	o->dport = dport;
	o->l4 = c.p;
	o->l4_len = ulen;
	o->payload = body.p;
	o->payload_len = body.len;

	/* A fragment holds a piece of the tunnel: leave it closed. */
	if (d->tunnels == 0 || o->frag != VG_FRAG_NONE)
		return VG_DEC_OK;
	if ((d->tunnels & VG_TUN_VXLAN) != 0 && dport == PORT_VXLAN)
		return decode_vxlan(d, body);
	if ((d->tunnels & VG_TUN_GTP) != 0 &&
	    (sport == PORT_GTPU || dport == PORT_GTPU))
		return decode_gtp(d, body);
	if ((d->tunnels & VG_TUN_TZSP) != 0 &&
	    (sport == PORT_TZSP || dport == PORT_TZSP))
		return decode_tzsp(d, body);
	if ((d->tunnels & VG_TUN_CAPWAP) != 0 &&
	    (sport == PORT_CAPWAP_DATA || dport == PORT_CAPWAP_DATA))
		return decode_capwap(d, body);
	return VG_DEC_OK;
}

/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code, then a 4-byte
 * field (identifier/sequence, MTU, pointer...) that most types have.
 *
 *  +--------+--------+-----------------+
 *  |  Type  |  Code  |    Checksum     |
 *  +--------+--------+-----------------+
 *  |       rest of header (4 B)        |
 *  +-----------------------------------+
 */
static enum vg_decode_reason
decode_icmp(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;
	uint32_t hlen;

	if (!cur_peek_u8(&c, 0, &o->icmp_type) ||
	    !cur_peek_u8(&c, 1, &o->icmp_code) || c.len < 4)
		return VG_DEC_ICMP_TRUNC;
	hlen = c.len >= 8 ? 8 : 4;
	o->l4 = c.p;
	o->l4_len = c.len;
	o->payload = c.p + hlen;
	o->payload_len = c.len - hlen;
	return VG_DEC_OK;
}

/* A protocol whose header is not parsed: l4 and payload are the IP
 * payload. */
static void
l4_opaque(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;

	o->l4 = c.p;
	o->l4_len = c.len;
	o->payload = c.p;
	o->payload_len = c.len;
}

/*
 * PPP inside PPTP's enhanced GRE (RFC 2637 section 4.1). Address and
 * control (0xff 0x03) may be omitted, and so may the protocol field's
 * high byte (an odd first byte is a complete 1-byte protocol, RFC 1661
 * section 6.5). Compressed or encrypted PPP (CCP/MPPE, 0xfd) and
 * acknowledgement-only packets stay the outer GRE packet.
 */
static enum vg_decode_reason
decode_gre_ppp(struct dec *d, struct cur c)
{
	uint16_t proto;
	uint8_t b0, b1;

	if (cur_peek_u8(&c, 0, &b0) && b0 == 0xff && cur_peek_u8(&c, 1, &b1) &&
	    b1 == 0x03)
		(void)cur_skip(&c, 2);
	if (!cur_u8(&c, &b0))
		return VG_DEC_OK;
	if ((b0 & 0x01) != 0) {
		proto = b0;
	} else {
		if (!cur_u8(&c, &b1))
			return VG_DEC_OK;
		proto = (uint16_t)(b0 << 8 | b1);
	}
	if (proto != PPP_IPV4 && proto != PPP_IPV6)
		return VG_DEC_OK;
	d->out->tunnel |= VG_TUN_GRE;
	return decode_ppp_proto(d, c, proto);
}

/*
 * GRE version 0 (RFC 2784, with the key and sequence number of RFC 2890)
 * and version 1, PPTP's enhanced GRE (RFC 2637 section 4.1). The caller
 * has already described the packet as plain GRE, which is what stays
 * when the payload is not something this decoder opens.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  v0: |   Checksum (if C)   |   Reserved1 (if C)   |
 *      |             Key (if K)                     |
 *      |       Sequence Number (if S)               |
 *  v1: | Key: payload length  |  Key: call ID       |  (K always set)
 *      |       Sequence Number (if S)               |
 *      |    Acknowledgment Number (if A)            |
 *
 * The routing bit R of RFC 1701 is obsolete (RFC 2784 section 2.3): such
 * a packet is left as the outer GRE packet.
 */
static enum vg_decode_reason
decode_gre(struct dec *d, struct cur c)
{
	uint32_t skip;
	uint16_t ptype;
	uint8_t f0, f1;

	if (!cur_u8(&c, &f0) || !cur_u8(&c, &f1) || !cur_u16be(&c, &ptype))
		return VG_DEC_GRE_BAD;
	switch (f1 & 0x07) {
	case 0:
		if ((f0 & 0x40) != 0)
			return VG_DEC_OK;
		skip = ((f0 & 0x80) != 0 ? 4u : 0u) +
		       ((f0 & 0x20) != 0 ? 4u : 0u) +
		       ((f0 & 0x10) != 0 ? 4u : 0u);
		if (!cur_skip(&c, skip))
			return VG_DEC_GRE_BAD;
		switch (ptype) {
		case ETH_IPV4:
		case ETH_IPV6:
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
			d->out->tunnel |= VG_TUN_GRE;
			return decode_ethertype(d, c, ptype);
		case ETH_TEB:
			d->out->tunnel |= VG_TUN_GRE;
			return decode_ether_inner(d, c, VG_DEC_GRE_BAD);
		default:
			return VG_DEC_OK;
		}
	case 1:
		if ((f0 & 0x20) == 0) /* PPTP always sends the key */
			return VG_DEC_GRE_BAD;
		skip = 4u + ((f0 & 0x10) != 0 ? 4u : 0u) +
		       ((f1 & 0x80) != 0 ? 4u : 0u);
		if (!cur_skip(&c, skip))
			return VG_DEC_GRE_BAD;
		if (ptype != ETH_PPP)
			return VG_DEC_OK;
		return decode_gre_ppp(d, c);
	default:
		return VG_DEC_GRE_BAD;
	}
}

/*
 * Everything after the IP header(s): c is the IP payload, bounded by the
 * length IP declares. IP-in-IP is always opened; GRE only when enabled.
 * A first fragment carries only the start of an inner packet, so tunnels
 * are left closed on any fragment.
 */
static enum vg_decode_reason
decode_ip_payload(struct dec *d, uint8_t proto, struct cur c)
{
	struct vg_pkt *o = d->out;

	switch (proto) {
	case PROTO_TCP:
		return decode_tcp(d, c);
	case PROTO_UDP:
		return decode_udp(d, c);
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		return decode_icmp(d, c);
	case PROTO_IPIP:
	case PROTO_IPV6:
		if (o->frag != VG_FRAG_NONE)
			break;
		o->tunnel |= VG_TUN_IPIP;
		if (proto == PROTO_IPIP)
			return decode_ipv4(d, c);
		return decode_ipv6(d, c);
	case PROTO_GRE:
		l4_opaque(d, c);
		if ((d->tunnels & VG_TUN_GRE) == 0 || o->frag != VG_FRAG_NONE)
			return VG_DEC_OK;
		return decode_gre(d, c);
	default:
		break;
	}
	l4_opaque(d, c);
	return VG_DEC_OK;
}

/*
 * IPv4 (RFC 791 section 3.1). A packet whose total length goes beyond the
 * capture was cut by the snap length and is refused rather than half
 * decoded; Ethernet padding after the total length is ignored.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Options are End of List (0), No Operation (1), or type-length-value
 * where the length counts the type and length bytes.
 */
static enum vg_decode_reason
decode_ipv4(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;
	struct cur dgram, hdr;
	uint32_t hlen;
	uint16_t tot, id, frag;
	uint8_t vihl, proto, opt, olen;

	if (++d->depth > VG_DECODE_MAX_DEPTH)
		return VG_DEC_TUNNEL_TOO_DEEP;
	if (!cur_peek_u8(&c, 0, &vihl))
		return VG_DEC_IPV4_TRUNC;
	if ((vihl >> 4) != 4)
		return VG_DEC_IP_BAD_VERSION;
	if (c.len < 20)
		return VG_DEC_IPV4_TRUNC;
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return VG_DEC_IPV4_BAD_HLEN;
	if (hlen > c.len)
		return VG_DEC_IPV4_TRUNC;
	if (!cur_peek_u16be(&c, 2, &tot))
		return VG_DEC_IPV4_TRUNC;
	if (tot < hlen)
		return VG_DEC_IPV4_BAD_LEN;
	/* dgram: the datagram without link padding; c: whatever follows. */
	if (!cur_sub(&c, tot, &dgram))
		return VG_DEC_IPV4_TRUNC;
	l3_begin(d, dgram.p, 4);
	if (!cur_sub(&dgram, hlen, &hdr) || !cur_skip(&hdr, 4) ||
	    !cur_u16be(&hdr, &id) || !cur_u16be(&hdr, &frag) ||
	    !cur_skip(&hdr, 1) || !cur_u8(&hdr, &proto) || !cur_skip(&hdr, 2) ||
	    !cur_copy(&hdr, o->src, 4) || !cur_copy(&hdr, o->dst, 4))
		return VG_DEC_IPV4_TRUNC;

	/* hdr now holds exactly the options. */
	while (cur_u8(&hdr, &opt)) {
		if (opt == 0) /* End of Option List: the rest is padding */
			break;
		if (opt == 1) /* No Operation */
			continue;
		if (!cur_u8(&hdr, &olen) || olen < 2 ||
		    !cur_skip(&hdr, olen - 2u))
			return VG_DEC_IPV4_BAD_OPT;
	}

	o->proto = proto;
	o->ip_payload_len = dgram.len;
	if ((frag & 0x1fff) != 0) {
		/* Offset > 0: no transport header in this fragment. */
		o->frag = VG_FRAG_LATER;
		o->frag_id = id;
		return VG_DEC_OK;
	}
	if ((frag & 0x2000) != 0) {
		o->frag = VG_FRAG_FIRST;
		o->frag_id = id;
	}
	return decode_ip_payload(d, proto, dgram);
}

/*
 * IPv6 (RFC 8200 section 3) and its extension headers (section 4).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Source Address (16 B)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              Destination Address (16 B)                       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Hop-by-hop (0), routing (43), destination options (60) and mobility
 * (135) share one layout, length in 8-octet units not counting the first
 * 8; AH (51, RFC 4302) counts 4-octet units minus 2:
 *
 *  | Next Header | Hdr Ext Len | ...
 *
 * Fragment (44), always 8 bytes:
 *
 *  | Next Header |  Reserved   |   Fragment Offset   |Res|M|
 *  |                     Identification                    |
 *
 * A payload length of 0 announces a jumbogram (RFC 2675): the real length
 * is in a hop-by-hop option, and the captured rest is used instead.
 */
static enum vg_decode_reason
decode_ipv6(struct dec *d, struct cur c)
{
	struct vg_pkt *o = d->out;
	const uint8_t *start = c.p;
	struct cur dgram, hdr;
	uint32_t elen, id;
	uint16_t plen, offm;
	unsigned n;
	uint8_t b, nh, len;

	if (++d->depth > VG_DECODE_MAX_DEPTH)
		return VG_DEC_TUNNEL_TOO_DEEP;
	if (!cur_peek_u8(&c, 0, &b))
		return VG_DEC_IPV6_TRUNC;
	if ((b >> 4) != 6)
		return VG_DEC_IP_BAD_VERSION;
	if (!cur_sub(&c, 40, &hdr) || !cur_skip(&hdr, 4) ||
	    !cur_u16be(&hdr, &plen) || !cur_u8(&hdr, &nh) || !cur_skip(&hdr, 1))
		return VG_DEC_IPV6_TRUNC;
	if (plen == 0)
		dgram = c;
	else if (!cur_sub(&c, plen, &dgram))
		return VG_DEC_IPV6_TRUNC;
	l3_begin(d, start, 6);
	if (!cur_copy(&hdr, o->src, 16) || !cur_copy(&hdr, o->dst, 16))
		return VG_DEC_IPV6_TRUNC;

	for (n = 0;; n++) {
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_MOBILITY:
		case PROTO_AH:
			if (n == IPV6_MAX_EXT || !cur_peek_u8(&dgram, 1, &len))
				return VG_DEC_IPV6_BAD_EXT;
			if (nh == PROTO_AH)
				elen = ((uint32_t)len + 2) * 4;
			else
				elen = ((uint32_t)len + 1) * 8;
			if (!cur_u8(&dgram, &nh) || !cur_skip(&dgram, elen - 1))
				return VG_DEC_IPV6_BAD_EXT;
			continue;
		case PROTO_FRAGMENT:
			if (n == IPV6_MAX_EXT || !cur_u8(&dgram, &nh) ||
			    !cur_skip(&dgram, 1) || !cur_u16be(&dgram, &offm) ||
			    !cur_u32be(&dgram, &id))
				return VG_DEC_IPV6_BAD_EXT;
			if ((offm & 0xfff8) != 0) {
				/* What follows is the middle of a datagram:
				 * stop at the header that announced it. */
				o->frag = VG_FRAG_LATER;
				o->frag_id = id;
				o->proto = nh;
				o->ip_payload_len = dgram.len;
				return VG_DEC_OK;
			}
			if ((offm & 0x0001) != 0) {
				o->frag = VG_FRAG_FIRST;
				o->frag_id = id;
			}
			continue;
		case PROTO_NONE:
			o->proto = PROTO_NONE;
			o->ip_payload_len = dgram.len;
			return VG_DEC_OK;
		default:
			break;
		}
		break;
	}
	o->proto = nh;
	o->ip_payload_len = dgram.len;
	return decode_ip_payload(d, nh, dgram);
}

enum vg_decode_reason
vg_decode(int dlt, const uint8_t *frame, uint32_t caplen, unsigned tunnels,
	  struct vg_pkt *out)
{
	static const uint8_t empty[1];
	struct dec d;
	struct cur c;

	memset(out, 0, sizeof(*out));
	if (frame == NULL) {
		frame = empty;
		caplen = 0;
	}
	d.out = out;
	d.end = frame + caplen;
	d.tunnels = tunnels;
	d.depth = 0;
	c = cur_make(frame, caplen);

	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(&d, c);
	case DLT_LINUX_SLL:
		return decode_sll(&d, c);
	case DLT_LINUX_SLL2:
		return decode_sll2(&d, c);
	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
	case DLT_IPV4:
	case DLT_IPV6:
		return decode_ip(&d, c, VG_DEC_LINK_TRUNC);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(&d, c);
	case DLT_PPP:
	case DLT_C_HDLC:
	case DLT_PPP_SERIAL:
		return decode_ppp(&d, c, dlt);
	default:
		return VG_DEC_UNSUPPORTED_LINK;
	}
}

/* Indexed by reason; the names are counter names, so they never change. */
static const char *const reason_names[VG_DEC__COUNT] = {
    [VG_DEC_OK] = "ok",
    [VG_DEC_NOT_IP] = "not_ip",
    [VG_DEC_UNSUPPORTED_LINK] = "unsupported_link",
    [VG_DEC_LINK_TRUNC] = "link_trunc",
    [VG_DEC_VLAN_TRUNC] = "vlan_trunc",
    [VG_DEC_VLAN_TOO_DEEP] = "vlan_too_deep",
    [VG_DEC_MPLS_TRUNC] = "mpls_trunc",
    [VG_DEC_PPPOE_TRUNC] = "pppoe_trunc",
    [VG_DEC_IPV4_TRUNC] = "ipv4_trunc",
    [VG_DEC_IPV4_BAD_HLEN] = "ipv4_bad_hlen",
    [VG_DEC_IPV4_BAD_LEN] = "ipv4_bad_len",
    [VG_DEC_IPV4_BAD_OPT] = "ipv4_bad_opt",
    [VG_DEC_IPV6_TRUNC] = "ipv6_trunc",
    [VG_DEC_IPV6_BAD_EXT] = "ipv6_bad_ext",
    [VG_DEC_IP_BAD_VERSION] = "ip_bad_version",
    [VG_DEC_TCP_TRUNC] = "tcp_trunc",
    [VG_DEC_TCP_BAD_HLEN] = "tcp_bad_hlen",
    [VG_DEC_UDP_TRUNC] = "udp_trunc",
    [VG_DEC_UDP_BAD_LEN] = "udp_bad_len",
    [VG_DEC_ICMP_TRUNC] = "icmp_trunc",
    [VG_DEC_GRE_BAD] = "gre_bad",
    [VG_DEC_VXLAN_BAD] = "vxlan_bad",
    [VG_DEC_GTP_BAD] = "gtp_bad",
    [VG_DEC_TZSP_BAD] = "tzsp_bad",
    [VG_DEC_CAPWAP_BAD] = "capwap_bad",
    [VG_DEC_TUNNEL_TOO_DEEP] = "tunnel_too_deep",
};

const char *
vg_decode_reason_name(enum vg_decode_reason r)
{
	if ((unsigned)r >= VG_DEC__COUNT || reason_names[r] == NULL)
		return "unknown";
	return reason_names[r];
}

unsigned
vg_tunnel_from_name(const char *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} tab[] = {
	    {"gre", VG_TUN_GRE},       {"vxlan", VG_TUN_VXLAN},
	    {"gtp", VG_TUN_GTP},       {"tzsp", VG_TUN_TZSP},
	    {"capwap", VG_TUN_CAPWAP},
	};
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < VG_ARRAY_LEN(tab); i++)
		if (strcmp(name, tab[i].name) == 0)
			return tab[i].bit;
	return 0;
}
