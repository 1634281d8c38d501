/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet decoder: link layer to transport header, bounds-checked, with no
 * allocation.
 *
 * The capture thread calls vg_decode() on every frame. It walks the link
 * layer (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback/NULL, PPP and
 * Cisco HDLC), 802.1Q/QinQ tags, MPLS and PPPoE, IPv4 (with options) and
 * IPv6 (with extension headers), IP-in-IP (4in4, 6in4, 4in6, 6in6, always
 * decapsulated) and, when enabled, GRE, VXLAN, GTP-U, TZSP and CAPWAP
 * tunnels, down to the innermost IP header and its TCP, UDP, ICMP or ICMPv6
 * header. The result points into the caller's frame: nothing is copied.
 *
 * Every frame that cannot be decoded gets a reason, which the caller counts.
 * A frame that is merely not IP (ARP, STP, LLDP...) is VG_DEC_NOT_IP, which
 * is counted but is not "malformed".
 */
#ifndef VG_DECODE_H
#define VG_DECODE_H

#include "common.h"

/* Tunnels that vg_decode() may open (bit mask for its `tunnels` argument). */
enum vg_tunnel {
	VG_TUN_NONE = 0,
	VG_TUN_GRE = 1u << 0,    /* IP proto 47, version 0 and 1 (PPTP) */
	VG_TUN_VXLAN = 1u << 1,  /* UDP port 4789 */
	VG_TUN_GTP = 1u << 2,    /* GTPv1-U T-PDU, UDP port 2152 */
	VG_TUN_TZSP = 1u << 3,   /* UDP port 37008 */
	VG_TUN_CAPWAP = 1u << 4, /* CAPWAP data, UDP port 5247 */
	VG_TUN_IPIP = 1u << 5,   /* reported only: IP-in-IP is always opened */
};

/* Where a packet sits in a fragmented IP datagram. */
enum vg_frag {
	VG_FRAG_NONE = 0, /* not a fragment */
	VG_FRAG_FIRST,    /* offset 0, more fragments follow: has L4 header */
	VG_FRAG_LATER,    /* offset > 0: no L4 header; l4/payload are NULL */
};

/* Why a frame was not decoded. Names come from vg_decode_reason_name(). */
enum vg_decode_reason {
	VG_DEC_OK = 0,
	VG_DEC_NOT_IP, /* a valid frame that carries no IP (ARP, ...) */
	VG_DEC_UNSUPPORTED_LINK, /* link type this decoder does not know */
	VG_DEC_LINK_TRUNC,       /* shorter than its link-layer header */
	VG_DEC_VLAN_TRUNC,
	VG_DEC_VLAN_TOO_DEEP, /* more than VG_DECODE_MAX_VLAN tags */
	VG_DEC_MPLS_TRUNC,
	VG_DEC_PPPOE_TRUNC,
	VG_DEC_IPV4_TRUNC,     /* header or total length beyond the capture */
	VG_DEC_IPV4_BAD_HLEN,  /* IHL < 5 */
	VG_DEC_IPV4_BAD_LEN,   /* total length < header length */
	VG_DEC_IPV4_BAD_OPT,   /* malformed option */
	VG_DEC_IPV6_TRUNC,     /* header or payload length beyond the capture */
	VG_DEC_IPV6_BAD_EXT,   /* malformed or truncated extension header */
	VG_DEC_IP_BAD_VERSION, /* version nibble is neither 4 nor 6 */
	VG_DEC_TCP_TRUNC,      /* fewer than 20 bytes of TCP header */
	VG_DEC_TCP_BAD_HLEN,   /* data offset < 5 or beyond the segment */
	VG_DEC_UDP_TRUNC,      /* fewer than 8 bytes of UDP header */
	VG_DEC_UDP_BAD_LEN,    /* UDP length < 8 or > IP payload */
	VG_DEC_ICMP_TRUNC,     /* fewer than 4 bytes of ICMP/ICMPv6 header */
	VG_DEC_GRE_BAD,        /* truncated or unsupported GRE header */
	VG_DEC_VXLAN_BAD,
	VG_DEC_GTP_BAD,
	VG_DEC_TZSP_BAD,
	VG_DEC_CAPWAP_BAD,
	VG_DEC_TUNNEL_TOO_DEEP, /* more than VG_DECODE_MAX_DEPTH encapsulations
				 */
	VG_DEC__COUNT
};

#define VG_DECODE_MAX_VLAN  4 /* 802.1Q tags in one frame */
#define VG_DECODE_MAX_DEPTH 4 /* nested IP encapsulations in one frame */

/*
 * A decoded packet. Plain value kept on the caller's stack or in a ring
 * slot; all pointers are borrowed from the frame given to vg_decode() and
 * are valid as long as that frame is.
 */
struct vg_pkt {
	const uint8_t *l3;      /* innermost IP header */
	uint32_t l3_len;        /* bytes from l3 to the end of the capture */
	const uint8_t *l4;      /* transport header, NULL for VG_FRAG_LATER */
	uint32_t l4_len;        /* captured transport bytes, clipped to the
				   IP payload (Ethernet padding excluded) */
	const uint8_t *payload; /* after the TCP/UDP/ICMP header (may be
				   NULL when payload_len is 0) */
	uint32_t payload_len;
	uint32_t ip_payload_len; /* transport length declared by IP */

	uint8_t src[16]; /* source address; IPv4 uses the first 4 bytes,
			    the rest are zero */
	uint8_t dst[16];
	uint16_t sport; /* host order; 0 unless TCP or UDP */
	uint16_t dport;
	uint8_t ip_version; /* 4 or 6 */
	uint8_t proto;      /* IP protocol of the innermost header */
	uint8_t tcp_flags;  /* TCP flags byte, 0 otherwise */
	uint8_t icmp_type;  /* ICMP/ICMPv6 type and code, 0 otherwise */
	uint8_t icmp_code;
	uint8_t frag;       /* enum vg_frag */
	uint8_t vlan_depth; /* number of 802.1Q tags seen */
	uint8_t tunnel;     /* enum vg_tunnel bits of every tunnel opened */
	uint16_t vlan;      /* innermost 802.1Q VLAN id, 0 if none */
	uint32_t frag_id;   /* IPv4 identification or IPv6 fragment id */
	uint32_t tcp_seq;   /* TCP sequence number (host order) */
};

/*
 * Decode one captured frame.
 *
 * dlt is the pcap link type (DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
 * DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP, DLT_PPP, DLT_C_HDLC,
 * DLT_PPP_SERIAL); frame/caplen are the captured bytes (borrowed);
 * tunnels is a mask of enum vg_tunnel saying which tunnels to open.
 * Returns VG_DEC_OK with *out filled, or the reason the frame was refused
 * (then *out is unspecified). Never reads outside frame[0..caplen).
 */
enum vg_decode_reason vg_decode(int dlt, const uint8_t *frame, uint32_t caplen,
				unsigned tunnels, struct vg_pkt *out);

/* Stable snake_case name of a reason ("ipv4_trunc", ...) for counters. */
const char *vg_decode_reason_name(enum vg_decode_reason r);

/* Parse a tunnel name ("gre", "vxlan", "gtp", "tzsp", "capwap") to its bit;
 * 0 if unknown. */
unsigned vg_tunnel_from_name(const char *name);

#endif /* VG_DECODE_H */
