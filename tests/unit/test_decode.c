/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/decode.c: frames are assembled by hand, one helper
 * per header, then decoded. Besides the happy paths, the security property
 * is tested: every proper prefix of a valid frame is refused, copied into
 * a buffer of exactly that length so AddressSanitizer sees any overread,
 * and random or mutated frames never crash nor yield pointers outside the
 * frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pcap/dlt.h>

#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define ALL_TUNNELS                                                            \
	(VG_TUN_GRE | VG_TUN_VXLAN | VG_TUN_GTP | VG_TUN_TZSP | VG_TUN_CAPWAP)

/* A frame under construction. */
struct fb {
	uint8_t b[1024];
	size_t len;
};

static const uint8_t A4[4] = {192, 0, 2, 1};
static const uint8_t B4[4] = {198, 51, 100, 2};
static const uint8_t C4[4] = {10, 1, 1, 1};
static const uint8_t D4[4] = {10, 2, 2, 2};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
			       0,    0,    0,    0,    0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
			       0,    0,    0,    0,    0, 0, 0, 2};

static void
put8(struct fb *f, unsigned v)
{
	assert_true(f->len < sizeof(f->b));
	f->b[f->len++] = (uint8_t)v;
}

static void
put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
putn(struct fb *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	if (n == 0)
		return;
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
putz(struct fb *f, size_t n)
{
	while (n-- > 0)
		put8(f, 0);
}

static void
set16(struct fb *f, size_t off, size_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static void
eth(struct fb *f, unsigned type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	putn(f, macs, sizeof(macs));
	put16(f, type);
}

/* The 4 bytes after an 0x8100/0x88a8 type: TCI and the next type. */
static void
vlan(struct fb *f, unsigned id, unsigned next)
{
	put16(f, 0x2000 | id);
	put16(f, next);
}

/* IPv4 header with options; total length is set by ip4_end(). */
static size_t
ip4x(struct fb *f, unsigned proto, const uint8_t *src, const uint8_t *dst,
     unsigned frag, const uint8_t *opt, size_t optlen)
{
	size_t off = f->len;

	assert_int_equal(optlen % 4, 0);
	put8(f, 0x40 | (unsigned)(5 + optlen / 4));
	put8(f, 0);
	put16(f, 0);
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, src, 4);
	putn(f, dst, 4);
	if (optlen > 0)
		putn(f, opt, optlen);
	return off;
}

static size_t
ip4(struct fb *f, unsigned proto)
{
	return ip4x(f, proto, A4, B4, 0, NULL, 0);
}

static void
ip4_end(struct fb *f, size_t off)
{
	set16(f, off + 2, f->len - off);
}

static size_t
ip6x(struct fb *f, unsigned nh, const uint8_t *src, const uint8_t *dst)
{
	size_t off = f->len;

	put32(f, 0x60000000);
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	putn(f, src, 16);
	putn(f, dst, 16);
	return off;
}

static size_t
ip6(struct fb *f, unsigned nh)
{
	return ip6x(f, nh, A6, B6);
}

static void
ip6_end(struct fb *f, size_t off)
{
	set16(f, off + 4, f->len - off - 40);
}

/* An 8-byte IPv6 options header (hop-by-hop or destination) with PadN. */
static void
ip6_opts(struct fb *f, unsigned nh)
{
	static const uint8_t padn[6] = {1, 4, 0, 0, 0, 0};

	put8(f, nh);
	put8(f, 0);
	putn(f, padn, sizeof(padn));
}

static void
ip6_frag(struct fb *f, unsigned nh, unsigned offset, int more, uint32_t id)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, offset << 3 | (more ? 1u : 0u));
	put32(f, id);
}

static void
tcp(struct fb *f, unsigned sport, unsigned dport, const char *payload)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x01020304);
	put32(f, 0);
	put8(f, 5 << 4);
	put8(f, 0x18); /* PSH|ACK */
	put16(f, 65535);
	put32(f, 0);
	if (payload != NULL)
		putn(f, payload, strlen(payload));
}

static size_t
udp(struct fb *f, unsigned sport, unsigned dport)
{
	size_t off = f->len;

	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return off;
}

static void
udp_end(struct fb *f, size_t off)
{
	set16(f, off + 4, f->len - off);
}

static void
icmp(struct fb *f, unsigned type, unsigned code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0x00010002);
}

/* IPv4 + TCP "hello" from A4:1234 to B4:80. */
static void
ip4_tcp(struct fb *f)
{
	size_t ip = ip4(f, 6);

	tcp(f, 1234, 80, "hello");
	ip4_end(f, ip);
}

static void
ip6_udp(struct fb *f)
{
	size_t ip = ip6(f, 17), u = udp(f, 5353, 53);

	putn(f, "abcd", 4);
	udp_end(f, u);
	ip6_end(f, ip);
}

/* Inner IPv4 C4 -> D4, TCP 40000 -> 443 "in". */
static void
inner_ip4_tcp(struct fb *f)
{
	size_t ip = ip4x(f, 6, C4, D4, 0, NULL, 0);

	tcp(f, 40000, 443, "in");
	ip4_end(f, ip);
}

static enum vg_decode_reason
dec(int dlt, const struct fb *f, unsigned tunnels, struct vg_pkt *p)
{
	return vg_decode(dlt, f->b, (uint32_t)f->len, tunnels, p);
}

/* Every pointer of a decoded packet lies in the frame. */
static void
check_bounds(const uint8_t *buf, size_t len, const struct vg_pkt *p)
{
	const uint8_t *end = buf + len;

	assert_non_null(p->l3);
	assert_true(p->l3 >= buf && p->l3 < end);
	assert_ptr_equal(p->l3 + p->l3_len, end);
	if (p->l4 != NULL) {
		assert_true(p->l4 >= p->l3 && p->l4 + p->l4_len <= end);
	} else {
		assert_int_equal(p->l4_len, 0);
	}
	if (p->payload_len > 0) {
		assert_true(p->payload >= buf &&
			    p->payload + p->payload_len <= end);
		assert_true(p->payload >= p->l4 &&
			    p->payload + p->payload_len <= p->l4 + p->l4_len);
	}
	assert_true(p->ip_version == 4 || p->ip_version == 6);
	assert_true(p->vlan_depth <= VG_DECODE_MAX_VLAN);
}

static void
check_inner_tcp(const struct vg_pkt *p)
{
	assert_int_equal(p->ip_version, 4);
	assert_memory_equal(p->src, C4, 4);
	assert_memory_equal(p->dst, D4, 4);
	assert_int_equal(p->proto, 6);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 443);
	assert_int_equal(p->payload_len, 2);
	assert_memory_equal(p->payload, "in", 2);
}

static void
test_eth_ipv4_tcp(void **state)
{
	static const uint8_t zero[12];
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	eth(&f, 0x0800);
	ip4_tcp(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + 14);
	assert_int_equal(p.l3_len, f.len - 14);
	assert_ptr_equal(p.l4, f.b + 34);
	assert_int_equal(p.l4_len, 25);
	assert_ptr_equal(p.payload, f.b + 54);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "hello", 5);
	assert_int_equal(p.ip_payload_len, 25);
	assert_memory_equal(p.src, A4, 4);
	assert_memory_equal(p.dst, B4, 4);
	assert_memory_equal(p.src + 4, zero, 12);
	assert_memory_equal(p.dst + 4, zero, 12);
	assert_int_equal(p.sport, 1234);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.tcp_flags, 0x18);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.icmp_type, 0);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.frag, VG_FRAG_NONE);
	assert_int_equal(p.frag_id, 0);
	assert_int_equal(p.vlan, 0);
	assert_int_equal(p.vlan_depth, 0);
	assert_int_equal(p.tunnel, 0);
}

static void
test_ipv4_options(void **state)
{
	/* NOP, Record Route (len 7, one slot), EOL. */
	static const uint8_t good[8] = {1, 7, 4, 0, 0, 0, 0, 0};
	static const uint8_t short_len[4] = {0x44, 1, 0, 0};
	static const uint8_t too_long[4] = {1, 0x44, 4, 0};
	static const uint8_t no_len[4] = {1, 1, 1, 0x44};
	static const uint8_t eol_junk[4] = {0, 0x44, 0xff, 0xff};
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip, u;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4x(&f, 17, A4, B4, 0, good, sizeof(good));
	u = udp(&f, 1, 2);
	udp_end(&f, u);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l4, f.b + 14 + 28);
	assert_int_equal(p.sport, 1);
	assert_int_equal(p.ip_payload_len, 8);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4x(&f, 6, A4, B4, 0, eol_junk, sizeof(eol_junk));
	tcp(&f, 1, 2, NULL);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4x(&f, 6, A4, B4, 0, short_len, sizeof(short_len));
	tcp(&f, 1, 2, NULL);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_OPT);
	f.b[14 + 20 + 0] = 1;
	f.b[14 + 20 + 1] = 0x44;
	f.b[14 + 20 + 2] = 4; /* needs 4, 3 left */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_OPT);
	memcpy(f.b + 34, too_long, 4);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_OPT);
	memcpy(f.b + 34, no_len, 4);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_OPT);
}

static void
test_ipv4_errors(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	eth(&f, 0x0800);
	ip4_tcp(&f);
	f.b[14] = 0x44; /* IHL 4 */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_HLEN);
	f.b[14] = 0x4f; /* IHL 15: 60 bytes, frame has 45 */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_TRUNC);
	f.b[14] = 0x45;
	set16(&f, 16, 19); /* total length < header */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_BAD_LEN);
	set16(&f, 16, f.len - 14 + 1); /* one byte beyond the capture */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV4_TRUNC);
	set16(&f, 16, f.len - 14);
	f.b[14] = 0x55;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IP_BAD_VERSION);
	f.b[14] = 0x65; /* IPv6 nibble behind ethertype 0x0800 */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IP_BAD_VERSION);
	f.b[14] = 0x45;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
}

static void
test_transport_errors(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip, u;

	(void)state;
	eth(&f, 0x0800);
	ip4_tcp(&f);
	f.b[14 + 20 + 12] = 4 << 4;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_TCP_BAD_HLEN);
	f.b[14 + 20 + 12] = 7 << 4; /* 28 bytes, segment has 25 */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_TCP_BAD_HLEN);
	f.b[14 + 20 + 12] = 6 << 4; /* options eat 4 of the 5 payload bytes */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.payload_len, 1);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4(&f, 6);
	putz(&f, 19);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_TCP_TRUNC);
	f.b[14 + 9] = 17;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	f.len = 14 + 20 + 7;
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_UDP_TRUNC);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4(&f, 17);
	u = udp(&f, 1000, 2000);
	putn(&f, "xyz", 3);
	udp_end(&f, u);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.l4_len, 11);
	assert_int_equal(p.payload_len, 3);
	set16(&f, u + 4, 7);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_UDP_BAD_LEN);
	set16(&f, u + 4, 12);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_UDP_BAD_LEN);
	set16(&f, u + 4, 9); /* shorter than IP payload: trailing bytes */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.payload_len, 1);
	assert_int_equal(p.l4_len, 9);
	set16(&f, u + 4, 0); /* jumbogram convention: the IP payload */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.payload_len, 3);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4(&f, 1);
	putz(&f, 3);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_ICMP_TRUNC);
}

static void
test_icmp(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4(&f, 1);
	icmp(&f, 8, 0);
	putn(&f, "ping", 4);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.proto, 1);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "ping", 4);

	/* 4-byte ICMP: payload starts after 4. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4(&f, 1);
	put8(&f, 3);
	put8(&f, 1);
	put16(&f, 0);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 1);
	assert_int_equal(p.payload_len, 0);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	ip = ip6(&f, 58);
	icmp(&f, 135, 0);
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.proto, 58);
	assert_int_equal(p.icmp_type, 135);
	assert_int_equal(p.icmp_code, 0);
	f.b[14 + 40 + 1] = 4;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.icmp_code, 4);
}

static void
test_ipv6_tcp(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6(&f, 6);
	tcp(&f, 50000, 22, "ssh");
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.ip_version, 6);
	assert_ptr_equal(p.l3, f.b + 14);
	assert_ptr_equal(p.l4, f.b + 54);
	assert_int_equal(p.l4_len, 23);
	assert_int_equal(p.ip_payload_len, 23);
	assert_memory_equal(p.src, A6, 16);
	assert_memory_equal(p.dst, B6, 16);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.payload_len, 3);

	set16(&f, ip + 4, f.len - ip - 40 + 1);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV6_TRUNC);
	set16(&f, ip + 4, 0); /* jumbogram: the captured rest */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.ip_payload_len, 23);
	f.len = 14 + 39;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV6_TRUNC);
}

static void
build_ip6_ext(struct fb *f)
{
	size_t ip;

	eth(f, 0x86dd);
	ip = ip6(f, 0);
	ip6_opts(f, 60);
	ip6_opts(f, 6);
	tcp(f, 1111, 2222, "ext");
	ip6_end(f, ip);
}

static void
test_ipv6_ext(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip, u;
	int i;

	(void)state;
	build_ip6_ext(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.proto, 6);
	assert_ptr_equal(p.l4, f.b + 14 + 40 + 16);
	assert_int_equal(p.ip_payload_len, 23);
	assert_int_equal(p.sport, 1111);
	assert_int_equal(p.dport, 2222);

	/* Extension header longer than the payload. */
	f.b[14 + 40 + 8 + 1] = 3;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV6_BAD_EXT);

	/* AH: (len + 2) * 4 bytes, then UDP. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	ip = ip6(&f, 51);
	put8(&f, 17);
	put8(&f, 1); /* 12 bytes */
	putz(&f, 10);
	u = udp(&f, 500, 500);
	udp_end(&f, u);
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_ptr_equal(p.l4, f.b + 14 + 40 + 12);

	/* 16 extension headers are fine, 17 are not. */
	for (i = 16; i <= 17; i++) {
		int k;

		memset(&f, 0, sizeof(f));
		eth(&f, 0x86dd);
		ip = ip6(&f, 60);
		for (k = 0; k < i; k++)
			ip6_opts(&f, k == i - 1 ? 59 : 60);
		ip6_end(&f, ip);
		assert_int_equal(dec(DLT_EN10MB, &f, 0, &p),
				 i == 16 ? VG_DEC_OK : VG_DEC_IPV6_BAD_EXT);
	}
	/* No next header. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	ip = ip6(&f, 59);
	putz(&f, 4);
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 59);
	assert_null(p.l4);
	assert_int_equal(p.l4_len, 0);
}

static void
test_ipv6_frag(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip, u;

	(void)state;
	eth(&f, 0x86dd);
	ip = ip6(&f, 44);
	ip6_frag(&f, 17, 0, 1, 0xdeadbeef);
	u = udp(&f, 53, 5353);
	putn(&f, "dns", 3);
	udp_end(&f, u);
	set16(&f, u + 4, 1000); /* the whole datagram is longer */
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.frag, VG_FRAG_FIRST);
	assert_int_equal(p.frag_id, 0xdeadbeef);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 5353);
	assert_int_equal(p.payload_len, 3);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	ip = ip6(&f, 0);
	ip6_opts(&f, 44);
	ip6_frag(&f, 6, 185, 1, 42);
	putn(&f, "middle of something", 19);
	ip6_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.frag, VG_FRAG_LATER);
	assert_int_equal(p.frag_id, 42);
	assert_int_equal(p.proto, 6);
	assert_null(p.l4);
	assert_null(p.payload);
	assert_int_equal(p.l4_len, 0);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.ip_payload_len, 19);
	assert_memory_equal(p.src, A6, 16);
	assert_int_equal(p.sport, 0);

	/* Fragment header cut short. */
	f.len = 14 + 40 + 8 + 5;
	set16(&f, ip + 4, 13);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IPV6_BAD_EXT);
}

static void
test_ipv4_frag(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t ip, u;

	(void)state;
	eth(&f, 0x0800);
	ip = ip4x(&f, 17, A4, B4, 0x2000, NULL, 0);
	u = udp(&f, 4444, 53);
	putn(&f, "first", 5);
	udp_end(&f, u);
	set16(&f, u + 4, 3000);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.frag, VG_FRAG_FIRST);
	assert_int_equal(p.frag_id, 0x1234);
	assert_int_equal(p.sport, 4444);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.l4_len, 13);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip = ip4x(&f, 17, A4, B4, 0x2000 | 100, NULL, 0);
	putn(&f, "later bytes", 11);
	ip4_end(&f, ip);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.frag, VG_FRAG_LATER);
	assert_int_equal(p.frag_id, 0x1234);
	assert_int_equal(p.proto, 17);
	assert_null(p.l4);
	assert_null(p.payload);
	assert_int_equal(p.l4_len, 0);
	assert_int_equal(p.ip_payload_len, 11);
	assert_memory_equal(p.src, A4, 4);
	assert_memory_equal(p.dst, B4, 4);
	assert_int_equal(p.sport, 0);

	/* Last fragment (MF clear, offset > 0) is also LATER. */
	set16(&f, ip + 6, 100);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.frag, VG_FRAG_LATER);
	/* DF alone is not a fragment. */
	set16(&f, ip + 6, 0x4000);
	f.b[ip + 9] = 50; /* ESP: opaque */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.frag, VG_FRAG_NONE);
	assert_ptr_equal(p.l4, f.b + ip + 20);
	assert_ptr_equal(p.payload, p.l4);
	assert_int_equal(p.payload_len, 11);
}

static void
build_qinq(struct fb *f)
{
	eth(f, 0x88a8);
	vlan(f, 100, 0x8100);
	vlan(f, 200, 0x0800);
	ip4_tcp(f);
}

static void
test_vlan(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	int n, i;

	(void)state;
	build_qinq(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.vlan, 200);
	assert_int_equal(p.vlan_depth, 2);
	assert_ptr_equal(p.l3, f.b + 22);
	assert_int_equal(p.dport, 80);

	for (n = VG_DECODE_MAX_VLAN; n <= VG_DECODE_MAX_VLAN + 1; n++) {
		memset(&f, 0, sizeof(f));
		eth(&f, 0x8100);
		for (i = 0; i < n; i++)
			vlan(&f, (unsigned)(10 + i),
			     i == n - 1 ? 0x0800 : 0x9100);
		ip4_tcp(&f);
		if (n == VG_DECODE_MAX_VLAN) {
			assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
			assert_int_equal(p.vlan_depth, n);
			assert_int_equal(p.vlan, 10 + n - 1);
		} else {
			assert_int_equal(dec(DLT_EN10MB, &f, 0, &p),
					 VG_DEC_VLAN_TOO_DEEP);
		}
	}

	/* Tag cut short. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x8100);
	put16(&f, 5);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_VLAN_TRUNC);
	/* A tagged ARP. */
	put16(&f, 0x0806);
	putz(&f, 28);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_NOT_IP);
}

static void
test_mpls(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	eth(&f, 0x8847);
	put32(&f, 1000u << 12 | 64);
	put32(&f, 2000u << 12 | 0x100 | 64);
	ip4_tcp(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + 22);
	assert_int_equal(p.sport, 1234);

	/* Pseudowire control word (first nibble 0): not IP. */
	f.b[22] = 0x00;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_NOT_IP);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x8848);
	put32(&f, 3u << 12 | 0x100 | 1);
	ip6_udp(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.ip_version, 6);

	/* Labels without bottom of stack. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x8847);
	put32(&f, 1u << 12);
	put32(&f, 2u << 12);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_MPLS_TRUNC);
}

static void
test_pppoe(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t len_off;

	(void)state;
	eth(&f, 0x8864);
	put8(&f, 0x11);
	put8(&f, 0);
	put16(&f, 0x0001);
	len_off = f.len;
	put16(&f, 0);
	put16(&f, 0x0021);
	ip4_tcp(&f);
	set16(&f, len_off, f.len - len_off - 2);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + 22);
	assert_int_equal(p.dport, 80);

	f.b[len_off + 3] = 0x57; /* claims IPv6 */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IP_BAD_VERSION);
	set16(&f, len_off + 2, 0xc021); /* LCP */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_NOT_IP);
	set16(&f, len_off + 2, 0x0021);
	set16(&f, len_off, f.len - len_off - 2 + 1);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_PPPOE_TRUNC);
}

static void
test_sll(void **state)
{
	static const uint8_t addr[8] = {2, 0, 0, 0, 0, 9, 0, 0};
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	put16(&f, 0);
	put16(&f, 1);
	put16(&f, 6);
	putn(&f, addr, 8);
	put16(&f, 0x0800);
	ip4_tcp(&f);
	assert_int_equal(dec(DLT_LINUX_SLL, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + 16);
	assert_int_equal(p.sport, 1234);
	f.len = 15;
	assert_int_equal(dec(DLT_LINUX_SLL, &f, 0, &p), VG_DEC_LINK_TRUNC);

	memset(&f, 0, sizeof(f));
	put16(&f, 0x86dd);
	put16(&f, 0);
	put32(&f, 3);
	put16(&f, 1);
	put8(&f, 0);
	put8(&f, 6);
	putn(&f, addr, 8);
	ip6_udp(&f);
	assert_int_equal(dec(DLT_LINUX_SLL2, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + 20);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.dport, 53);
	set16(&f, 0, 0x0806);
	assert_int_equal(dec(DLT_LINUX_SLL2, &f, 0, &p), VG_DEC_NOT_IP);
	f.len = 19;
	assert_int_equal(dec(DLT_LINUX_SLL2, &f, 0, &p), VG_DEC_LINK_TRUNC);
}

static void
test_raw(void **state)
{
	static const int dlts[] = {DLT_RAW, 101, DLT_IPV4, DLT_IPV6};
	struct fb f4 = {0}, f6 = {0};
	struct vg_pkt p;
	size_t i;

	(void)state;
	ip4_tcp(&f4);
	ip6_udp(&f6);
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		assert_int_equal(dec(dlts[i], &f4, 0, &p), VG_DEC_OK);
		assert_ptr_equal(p.l3, f4.b);
		assert_int_equal(p.ip_version, 4);
		assert_int_equal(p.dport, 80);
		assert_int_equal(dec(dlts[i], &f6, 0, &p), VG_DEC_OK);
		assert_ptr_equal(p.l3, f6.b);
		assert_int_equal(p.ip_version, 6);
		assert_int_equal(p.dport, 53);
		assert_int_equal(vg_decode(dlts[i], f4.b, 0, 0, &p),
				 VG_DEC_LINK_TRUNC);
	}
	f4.b[0] = 0x25;
	assert_int_equal(dec(DLT_RAW, &f4, 0, &p), VG_DEC_IP_BAD_VERSION);
	assert_int_equal(vg_decode(DLT_RAW, NULL, 0, 0, &p), VG_DEC_LINK_TRUNC);
	assert_int_equal(dec(127 /* radiotap */, &f4, 0, &p),
			 VG_DEC_UNSUPPORTED_LINK);
	assert_int_equal(dec(-1, &f4, 0, &p), VG_DEC_UNSUPPORTED_LINK);
}

static void
test_null_loop(void **state)
{
	/* family values in both byte orders */
	static const struct {
		uint8_t hdr[4];
		int v6;
	} fam[] = {
	    {{2, 0, 0, 0}, 0},  {{0, 0, 0, 2}, 0},  {{10, 0, 0, 0}, 1},
	    {{0, 0, 0, 24}, 1}, {{28, 0, 0, 0}, 1}, {{0, 0, 0, 30}, 1},
	};
	static const int dlts[] = {DLT_NULL, DLT_LOOP};
	struct vg_pkt p;
	size_t i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
			struct fb f = {0};

			putn(&f, fam[i].hdr, 4);
			if (fam[i].v6)
				ip6_udp(&f);
			else
				ip4_tcp(&f);
			assert_int_equal(dec(dlts[k], &f, 0, &p), VG_DEC_OK);
			assert_ptr_equal(p.l3, f.b + 4);
			assert_int_equal(p.ip_version, fam[i].v6 ? 6 : 4);
		}
	}
	{
		struct fb f = {0};

		put32(&f, 7);
		ip4_tcp(&f);
		assert_int_equal(dec(DLT_NULL, &f, 0, &p), VG_DEC_NOT_IP);
		f.len = 3;
		assert_int_equal(dec(DLT_LOOP, &f, 0, &p), VG_DEC_LINK_TRUNC);
	}
}

static void
test_ppp(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	put8(&f, 0xff);
	put8(&f, 0x03);
	put16(&f, 0x0021);
	ip4_tcp(&f);
	assert_int_equal(dec(DLT_PPP, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l3, f.b + 4);
	assert_int_equal(dec(DLT_PPP_SERIAL, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l3, f.b + 4);
	assert_int_equal(dec(DLT_C_HDLC, &f, 0, &p), VG_DEC_NOT_IP);
	set16(&f, 2, 0xc021); /* LCP */
	assert_int_equal(dec(DLT_PPP, &f, 0, &p), VG_DEC_NOT_IP);

	/* DLT_PPP without address and control. */
	memset(&f, 0, sizeof(f));
	put16(&f, 0x0057);
	ip6_udp(&f);
	assert_int_equal(dec(DLT_PPP, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l3, f.b + 2);
	assert_int_equal(p.ip_version, 6);
	f.len = 1;
	assert_int_equal(dec(DLT_PPP, &f, 0, &p), VG_DEC_LINK_TRUNC);

	/* Cisco HDLC, on all three link types. */
	memset(&f, 0, sizeof(f));
	put8(&f, 0x0f);
	put8(&f, 0x00);
	put16(&f, 0x0800);
	ip4_tcp(&f);
	assert_int_equal(dec(DLT_C_HDLC, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l3, f.b + 4);
	f.b[0] = 0x8f;
	assert_int_equal(dec(DLT_PPP, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(dec(DLT_PPP_SERIAL, &f, 0, &p), VG_DEC_OK);
	f.len = 3;
	assert_int_equal(dec(DLT_C_HDLC, &f, 0, &p), VG_DEC_LINK_TRUNC);
}

static void
test_ipip(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t o, i, inner;

	(void)state;
	/* 4in4 */
	eth(&f, 0x0800);
	o = ip4(&f, 4);
	inner = f.len;
	inner_ip4_tcp(&f);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + inner);
	assert_int_equal(p.l3_len, f.len - inner);
	assert_int_equal(p.tunnel, VG_TUN_IPIP);
	check_inner_tcp(&p);

	/* 6in4 */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 41);
	inner = f.len;
	ip6_udp(&f);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_ptr_equal(p.l3, f.b + inner);
	assert_int_equal(p.ip_version, 6);
	assert_memory_equal(p.src, A6, 16);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.tunnel, VG_TUN_IPIP);
	/* Proto 41 holding IPv4 is refused. */
	f.b[inner] = 0x45;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_IP_BAD_VERSION);

	/* 4in6: the inner IPv4 must not keep IPv6 address bytes. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x86dd);
	o = ip6(&f, 4);
	inner_ip4_tcp(&f);
	ip6_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_inner_tcp(&p);
	{
		static const uint8_t zero[12];

		assert_memory_equal(p.src + 4, zero, 12);
	}

	/* 6in6, nested to the depth limit. */
	memset(&f, 0, sizeof(f));
	{
		size_t h[VG_DECODE_MAX_DEPTH], k;

		for (k = 0; k < VG_DECODE_MAX_DEPTH; k++)
			h[k] = ip6(&f, 41);
		ip6_udp(&f);
		while (k-- > 0)
			ip6_end(&f, h[k]);
		assert_int_equal(dec(DLT_RAW, &f, 0, &p),
				 VG_DEC_TUNNEL_TOO_DEEP);
		assert_int_equal(
		    vg_decode(DLT_RAW, f.b + 40, (uint32_t)(f.len - 40), 0, &p),
		    VG_DEC_OK);
		assert_int_equal(p.dport, 53);
	}

	/* A first fragment holds only the start of the inner packet. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4x(&f, 4, A4, B4, 0x2000, NULL, 0);
	put8(&f, 0x45);
	putz(&f, 7);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 4);
	assert_int_equal(p.frag, VG_FRAG_FIRST);
	assert_int_equal(p.tunnel, 0);
	assert_int_equal(p.l4_len, 8);

	/* A later fragment is not opened. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4x(&f, 4, A4, B4, 10, NULL, 0);
	inner_ip4_tcp(&f);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 4);
	assert_int_equal(p.frag, VG_FRAG_LATER);
	assert_int_equal(p.tunnel, 0);

	/* Depth: VG_DECODE_MAX_DEPTH IP layers pass, one more does not. */
	for (i = VG_DECODE_MAX_DEPTH; i <= VG_DECODE_MAX_DEPTH + 1; i++) {
		size_t hdr[8], k;

		memset(&f, 0, sizeof(f));
		for (k = 0; k + 1 < i; k++)
			hdr[k] = ip4(&f, 4);
		inner_ip4_tcp(&f);
		while (k-- > 0)
			ip4_end(&f, hdr[k]);
		if (i == VG_DECODE_MAX_DEPTH) {
			assert_int_equal(dec(DLT_RAW, &f, 0, &p), VG_DEC_OK);
			check_inner_tcp(&p);
			assert_int_equal(p.tunnel, VG_TUN_IPIP);
		} else {
			assert_int_equal(dec(DLT_RAW, &f, 0, &p),
					 VG_DEC_TUNNEL_TOO_DEEP);
		}
	}
}

/* Ethernet, IPv4, GRE with C, K and S set, inner IPv4 TCP. */
static void
build_gre(struct fb *f)
{
	size_t o;

	eth(f, 0x0800);
	o = ip4(f, 47);
	put8(f, 0xb0);
	put8(f, 0x00);
	put16(f, 0x0800);
	put32(f, 0);      /* checksum + reserved1 */
	put32(f, 0xcafe); /* key */
	put32(f, 7);      /* sequence */
	inner_ip4_tcp(f);
	ip4_end(f, o);
}

static void
test_gre(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t o, g;

	(void)state;
	build_gre(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_GRE);
	assert_ptr_equal(p.l3, f.b + 14 + 20 + 16);
	check_inner_tcp(&p);

	/* Tunnels off: the GRE packet itself. */
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, 0);
	assert_int_equal(p.proto, 47);
	assert_ptr_equal(p.l3, f.b + 14);
	assert_ptr_equal(p.l4, f.b + 34);
	assert_int_equal(p.l4_len, f.len - 34);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_memory_equal(p.src, A4, 4);
	/* Only the GRE bit matters. */
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS & ~VG_TUN_GRE, &p),
			 VG_DEC_OK);
	assert_int_equal(p.proto, 47);

	/* Unknown protocol type: outer packet. */
	set16(&f, 36, 0x88be); /* ERSPAN */
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.tunnel, 0);
	/* Unknown version. */
	set16(&f, 36, 0x0800);
	f.b[35] = 0x02;
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_GRE_BAD);
	f.b[35] = 0x00;

	/* Truncated GRE header. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 47);
	put8(&f, 0x30);
	put8(&f, 0);
	put16(&f, 0x0800);
	put32(&f, 1); /* key, but no sequence */
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_GRE_BAD);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);

	/* Transparent Ethernet bridging, with a VLAN tag inside. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 47);
	g = f.len;
	put8(&f, 0x20);
	put8(&f, 0);
	put16(&f, 0x6558);
	put32(&f, 99);
	eth(&f, 0x8100);
	vlan(&f, 42, 0x0800);
	inner_ip4_tcp(&f);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_GRE);
	assert_int_equal(p.vlan, 42);
	assert_int_equal(p.vlan_depth, 1);
	assert_ptr_equal(p.l3, f.b + g + 8 + 18);
	check_inner_tcp(&p);

	/* 0x8100 protocol type: tag then ethertype. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 47);
	put16(&f, 0);
	put16(&f, 0x8100);
	vlan(&f, 7, 0x0800);
	inner_ip4_tcp(&f);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_OK);
	assert_int_equal(p.vlan, 7);
	check_inner_tcp(&p);

	/* Inner Ethernet too short. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 47);
	put16(&f, 0);
	put16(&f, 0x6558);
	putz(&f, 10);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS, &p), VG_DEC_GRE_BAD);
}

/* PPTP enhanced GRE: K, S, A set, then `ppp` bytes and inner IPv4. */
static void
build_pptp(struct fb *f, const uint8_t *ppp, size_t n, int inner)
{
	size_t o;

	eth(f, 0x0800);
	o = ip4(f, 47);
	put8(f, 0x30);
	put8(f, 0x81);
	put16(f, 0x880b);
	put16(f, 0);    /* payload length (unchecked) */
	put16(f, 0x77); /* call id */
	put32(f, 1);
	put32(f, 2);
	putn(f, ppp, n);
	if (inner)
		inner_ip4_tcp(f);
	ip4_end(f, o);
}

static void
test_pptp(void **state)
{
	static const uint8_t full[4] = {0xff, 0x03, 0x00, 0x21};
	static const uint8_t short1[1] = {0x21};
	static const uint8_t ccp[4] = {0xff, 0x03, 0x00, 0xfd};
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	build_pptp(&f, full, sizeof(full), 1);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GRE, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_GRE);
	assert_ptr_equal(p.l3, f.b + 34 + 16 + 4);
	check_inner_tcp(&p);

	memset(&f, 0, sizeof(f));
	build_pptp(&f, short1, sizeof(short1), 1);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GRE, &p), VG_DEC_OK);
	check_inner_tcp(&p);

	/* Compressed/encrypted PPP: outer GRE packet. */
	memset(&f, 0, sizeof(f));
	build_pptp(&f, ccp, sizeof(ccp), 1);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GRE, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.tunnel, 0);
	assert_ptr_equal(p.l4, f.b + 34);
	assert_int_equal(p.sport, 0);

	/* Acknowledgement only, no payload. */
	memset(&f, 0, sizeof(f));
	build_pptp(&f, NULL, 0, 0);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GRE, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 47);
	/* v1 without the key bit. */
	f.b[34] = 0x10;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GRE, &p), VG_DEC_GRE_BAD);
}

/* Ethernet, IPv4, UDP to 4789, VXLAN, inner Ethernet IPv4 TCP. */
static void
build_vxlan(struct fb *f)
{
	size_t o, u;

	eth(f, 0x0800);
	o = ip4(f, 17);
	u = udp(f, 51000, 4789);
	put32(f, 0x08000000);
	put32(f, 0x00123400);
	eth(f, 0x0800);
	inner_ip4_tcp(f);
	udp_end(f, u);
	ip4_end(f, o);
}

static void
test_vxlan(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t o, u;

	(void)state;
	build_vxlan(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_VXLAN);
	assert_ptr_equal(p.l3, f.b + 34 + 8 + 8 + 14);
	check_inner_tcp(&p);

	/* Mask off: the UDP packet. */
	assert_int_equal(dec(DLT_EN10MB, &f, ALL_TUNNELS & ~VG_TUN_VXLAN, &p),
			 VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 4789);
	assert_int_equal(p.tunnel, 0);

	/* No I flag: the UDP packet. */
	f.b[42] = 0;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 51000);
	assert_int_equal(p.payload_len, f.len - 42);
	assert_int_equal(p.tunnel, 0);

	/* Payload shorter than the VXLAN header: the UDP packet. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 1, 4789);
	put32(&f, 0x08000000);
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p), VG_DEC_OK);
	assert_int_equal(p.dport, 4789);

	/* Inner Ethernet truncated. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 1, 4789);
	put32(&f, 0x08000000);
	put32(&f, 0);
	putz(&f, 13);
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p),
			 VG_DEC_VXLAN_BAD);

	/* Inner frame is ARP. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 1, 4789);
	put32(&f, 0x08000000);
	put32(&f, 0);
	eth(&f, 0x0806);
	putz(&f, 28);
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p), VG_DEC_NOT_IP);
}

/* Ethernet, IPv4, UDP 2152, GTP-U T-PDU (with an extension header if
 * ext), inner IPv4 TCP. */
static void
build_gtp(struct fb *f, int ext)
{
	size_t o, u, g;

	eth(f, 0x0800);
	o = ip4(f, 17);
	u = udp(f, 2152, 2152);
	g = f->len;
	put8(f, ext ? 0x34 : 0x30);
	put8(f, 0xff);
	put16(f, 0);
	put32(f, 0xabcdef01);
	if (ext) {
		put16(f, 0);   /* sequence */
		put8(f, 0);    /* N-PDU */
		put8(f, 0x85); /* PDU session container */
		put8(f, 1);
		put8(f, 0x10);
		put8(f, 0x09); /* QFI */
		put8(f, 0);    /* no more */
	}
	inner_ip4_tcp(f);
	set16(f, g + 2, f->len - g - 8);
	udp_end(f, u);
	ip4_end(f, o);
}

static void
test_gtp(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	build_gtp(&f, 0);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_GTP);
	assert_ptr_equal(p.l3, f.b + 42 + 8);
	check_inner_tcp(&p);

	memset(&f, 0, sizeof(f));
	build_gtp(&f, 1);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_GTP);
	assert_ptr_equal(p.l3, f.b + 42 + 16);
	check_inner_tcp(&p);

	/* Extension header of length 0. */
	f.b[42 + 12] = 0;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_GTP_BAD);
	/* Extension header beyond the GTP length. */
	f.b[42 + 12] = 200;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_GTP_BAD);
	f.b[42 + 12] = 1;
	/* GTP length beyond the datagram. */
	set16(&f, 44, f.len - 50 + 1);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_GTP_BAD);
	set16(&f, 44, f.len - 50);
	/* Echo request: not a T-PDU. */
	f.b[43] = 1;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	assert_int_equal(p.dport, 2152);
	/* GTPv2 (version 2): not opened. */
	f.b[43] = 0xff;
	f.b[42] = 0x48;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	/* Mask off. */
	f.b[42] = 0x34;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_VXLAN, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_GTP, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 6);
}

/* Ethernet, IPv4, UDP to 37008, TZSP with RSSI, padding and end tags,
 * inner Ethernet IPv4 TCP. */
static void
build_tzsp(struct fb *f)
{
	size_t o, u;

	eth(f, 0x0800);
	o = ip4(f, 17);
	u = udp(f, 40000, 37008);
	put8(f, 1);
	put8(f, 0);
	put16(f, 1);
	put8(f, 10); /* RSSI */
	put8(f, 1);
	put8(f, 0xc4);
	put8(f, 0); /* padding */
	put8(f, 1); /* end */
	eth(f, 0x0800);
	inner_ip4_tcp(f);
	udp_end(f, u);
	ip4_end(f, o);
}

static void
test_tzsp(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t t = 42;

	(void)state;
	build_tzsp(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_TZSP, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_TZSP);
	check_inner_tcp(&p);

	/* Tag length runs off the end. */
	f.b[t + 5] = 250;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_TZSP, &p), VG_DEC_TZSP_BAD);
	f.b[t + 5] = 1;
	/* Encapsulation 802.11: left alone. */
	f.b[t + 3] = 18;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_TZSP, &p), VG_DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.tunnel, 0);
	/* No end tag. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	{
		size_t o = ip4(&f, 17), u = udp(&f, 37008, 1);

		put32(&f, 0x01000001);
		put8(&f, 0);
		udp_end(&f, u);
		ip4_end(&f, o);
	}
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_TZSP, &p), VG_DEC_TZSP_BAD);
}

/*
 * Ethernet, IPv4, UDP from 5247, CAPWAP (HLEN 2, WBID 1, T), 802.11 QoS
 * data frame with ToDS and FromDS (4 addresses), LLC/SNAP, inner IPv4 TCP.
 */
static void
build_capwap(struct fb *f)
{
	static const uint8_t addrs[24] = {0};
	size_t o, u;

	eth(f, 0x0800);
	o = ip4(f, 17);
	u = udp(f, 5247, 12222);
	put8(f, 0);
	put8(f, 2 << 3);     /* HLEN 2 */
	put8(f, 1 << 1 | 1); /* WBID 1, T */
	put8(f, 0);
	put32(f, 0);
	put8(f, 0x88); /* QoS data */
	put8(f, 0x03); /* ToDS, FromDS */
	put16(f, 0);
	putn(f, addrs, 18);
	put16(f, 0);
	putn(f, addrs, 6); /* address 4 */
	put16(f, 0);       /* QoS control */
	put8(f, 0xaa);
	put8(f, 0xaa);
	put8(f, 0x03);
	putz(f, 3);
	put16(f, 0x0800);
	inner_ip4_tcp(f);
	udp_end(f, u);
	ip4_end(f, o);
}

static void
test_capwap(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t o, u, w = 42;

	(void)state;
	build_capwap(&f);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.tunnel, VG_TUN_CAPWAP);
	assert_ptr_equal(p.l3, f.b + w + 8 + 32 + 8);
	check_inner_tcp(&p);

	/* EAPOL: the UDP packet. */
	set16(&f, w + 8 + 32 + 6, 0x888e);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	assert_int_equal(p.sport, 5247);
	set16(&f, w + 8 + 32 + 6, 0x0800);
	/* Protected frame: the UDP packet. */
	f.b[w + 9] |= 0x40;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	f.b[w + 9] &= (uint8_t)~0x40;
	/* Not the 802.11 binding: the UDP packet. */
	f.b[w + 2] = 3 << 1 | 1;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	f.b[w + 2] = 1 << 1 | 1;
	/* Fragment: the UDP packet. */
	f.b[w + 3] = 0x80;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	f.b[w + 3] = 0;
	/* Management frame: the UDP packet. */
	f.b[w + 8] = 0x80;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
	f.b[w + 8] = 0x88;
	/* HLEN beyond the payload. */
	f.b[w + 1] = 31 << 3;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p),
			 VG_DEC_CAPWAP_BAD);
	/* DTLS. */
	f.b[w + 1] = 2 << 3;
	f.b[w] = 1;
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);

	/* T clear: an 802.3 frame follows the CAPWAP header. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 1, 5247);
	put8(&f, 0);
	put8(&f, 2 << 3);
	put8(&f, 1 << 1);
	put8(&f, 0);
	put32(&f, 0);
	eth(&f, 0x0800);
	inner_ip4_tcp(&f);
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, VG_TUN_CAPWAP);
	check_inner_tcp(&p);
	f.len = 42 + 8 + 10;
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p),
			 VG_DEC_CAPWAP_BAD);
	/* Payload shorter than a CAPWAP header. */
	f.len = 42 + 4;
	udp_end(&f, u);
	ip4_end(&f, o);
	assert_int_equal(dec(DLT_EN10MB, &f, VG_TUN_CAPWAP, &p), VG_DEC_OK);
	assert_int_equal(p.tunnel, 0);
}

static void
test_padding(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;
	size_t o, u;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 1, 2, NULL);
	ip4_end(&f, o);
	putz(&f, 60 - f.len);
	assert_int_equal(f.len, 60);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	check_bounds(f.b, f.len, &p);
	assert_int_equal(p.l3_len, 46);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.ip_payload_len, 20);

	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 7, 9);
	putn(&f, "hi", 2);
	udp_end(&f, u);
	ip4_end(&f, o);
	putz(&f, 60 - f.len);
	memset(f.b + 44, 0xee, 16);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_int_equal(p.l3_len, 46);
	assert_int_equal(p.l4_len, 10);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.ip_payload_len, 10);
}

static void
test_not_ip(void **state)
{
	struct fb f = {0};
	struct vg_pkt p;

	(void)state;
	eth(&f, 0x0806);
	putz(&f, 28);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_NOT_IP);

	/* 802.3 + LLC STP. */
	memset(&f, 0, sizeof(f));
	eth(&f, 38);
	put8(&f, 0x42);
	put8(&f, 0x42);
	put8(&f, 0x03);
	putz(&f, 35);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_NOT_IP);

	/* 802.3 + LLC/SNAP carrying IPv4. */
	memset(&f, 0, sizeof(f));
	eth(&f, 0);
	put8(&f, 0xaa);
	put8(&f, 0xaa);
	put8(&f, 0x03);
	putz(&f, 3);
	put16(&f, 0x0800);
	ip4_tcp(&f);
	set16(&f, 12, f.len - 14);
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_OK);
	assert_ptr_equal(p.l3, f.b + 22);
	f.len = 20;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_LINK_TRUNC);
	f.len = 13;
	assert_int_equal(dec(DLT_EN10MB, &f, 0, &p), VG_DEC_LINK_TRUNC);
}

/*
 * The security property: every proper prefix of a valid frame is refused,
 * each from a heap buffer of exactly its length so ASan catches any read
 * past it.
 */
static void
check_prefixes(int dlt, const struct fb *f, unsigned tunnels)
{
	struct vg_pkt p;
	size_t n;

	assert_int_equal(vg_decode(dlt, f->b, (uint32_t)f->len, tunnels, &p),
			 VG_DEC_OK);
	for (n = 0; n < f->len; n++) {
		uint8_t *buf = malloc(n > 0 ? n : 1);
		enum vg_decode_reason r;

		assert_non_null(buf);
		memcpy(buf, f->b, n);
		r = vg_decode(dlt, buf, (uint32_t)n, tunnels, &p);
		if (r == VG_DEC_OK)
			fail_msg("prefix %zu of %zu accepted", n, f->len);
		assert_int_not_equal(r, VG_DEC_OK);
		free(buf);
	}
}

static void
test_prefixes(void **state)
{
	struct fb f;

	(void)state;
	memset(&f, 0, sizeof(f));
	eth(&f, 0x0800);
	ip4_tcp(&f);
	check_prefixes(DLT_EN10MB, &f, 0);

	memset(&f, 0, sizeof(f));
	build_ip6_ext(&f);
	check_prefixes(DLT_EN10MB, &f, 0);

	memset(&f, 0, sizeof(f));
	build_gre(&f);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_pptp(&f, (const uint8_t *)"\xff\x03\x00\x21", 4, 1);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_vxlan(&f);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_gtp(&f, 1);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_tzsp(&f);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_capwap(&f);
	check_prefixes(DLT_EN10MB, &f, ALL_TUNNELS);

	memset(&f, 0, sizeof(f));
	build_qinq(&f);
	check_prefixes(DLT_EN10MB, &f, 0);

	memset(&f, 0, sizeof(f));
	put16(&f, 0x86dd);
	putz(&f, 18);
	ip6_udp(&f);
	check_prefixes(DLT_LINUX_SLL2, &f, 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
xorshift64(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static const int fuzz_dlts[] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
    101,        DLT_IPV4,      DLT_IPV6,       DLT_NULL,
    DLT_LOOP,   DLT_PPP,       DLT_C_HDLC,     DLT_PPP_SERIAL,
};

static void
run_fuzz_one(int dlt, const uint8_t *src, size_t len, unsigned tunnels)
{
	uint8_t *buf = malloc(len > 0 ? len : 1);
	struct vg_pkt p;

	assert_non_null(buf);
	memcpy(buf, src, len);
	if (vg_decode(dlt, buf, (uint32_t)len, tunnels, &p) == VG_DEC_OK)
		check_bounds(buf, len, &p);
	free(buf);
}

static void
test_random(void **state)
{
	uint8_t tmp[200];
	size_t nd = sizeof(fuzz_dlts) / sizeof(fuzz_dlts[0]);
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)(xorshift64() % 201), k;
		int dlt = fuzz_dlts[xorshift64() % nd];

		for (k = 0; k < len; k++)
			tmp[k] = (uint8_t)xorshift64();
		/* Give the link and IP layers a chance: plausible starts. */
		if (len > 14 && (xorshift64() & 1)) {
			static const uint16_t types[] = {0x0800, 0x86dd, 0x8100,
							 0x8847, 0x8864};

			tmp[12] = (uint8_t)(types[xorshift64() % 5] >> 8);
			tmp[13] = (uint8_t)types[xorshift64() % 5];
			tmp[14] = (xorshift64() & 1) ? 0x45 : 0x60;
		}
		run_fuzz_one(dlt, tmp, len, ALL_TUNNELS);
	}
}

/* Valid frames with a few bytes flipped reach the deep decoders. */
static void
test_mutations(void **state)
{
	struct fb base[9];
	size_t nb = sizeof(base) / sizeof(base[0]);
	int i;

	(void)state;
	memset(base, 0, sizeof(base));
	eth(&base[0], 0x0800);
	ip4_tcp(&base[0]);
	build_ip6_ext(&base[1]);
	build_gre(&base[2]);
	build_vxlan(&base[3]);
	build_gtp(&base[4], 1);
	build_qinq(&base[5]);
	build_pptp(&base[6], (const uint8_t *)"\xff\x03\x00\x21", 4, 1);
	build_tzsp(&base[7]);
	build_capwap(&base[8]);
	for (i = 0; i < 200000; i++) {
		const struct fb *b = &base[xorshift64() % nb];
		uint8_t tmp[sizeof(b->b)];
		size_t len = b->len, k, flips = 1 + xorshift64() % 4;

		memcpy(tmp, b->b, len);
		for (k = 0; k < flips; k++)
			tmp[xorshift64() % len] = (uint8_t)xorshift64();
		if (xorshift64() % 4 == 0)
			len = (size_t)(xorshift64() % (len + 1));
		run_fuzz_one(DLT_EN10MB, tmp, len, ALL_TUNNELS);
	}
}

static void
test_reason_names(void **state)
{
	int i, k;

	(void)state;
	for (i = 0; i < VG_DEC__COUNT; i++) {
		const char *a = vg_decode_reason_name((enum vg_decode_reason)i);

		assert_non_null(a);
		assert_string_not_equal(a, "unknown");
		for (k = 0; k < i; k++)
			assert_string_not_equal(
			    a, vg_decode_reason_name((enum vg_decode_reason)k));
	}
	assert_string_equal(vg_decode_reason_name(VG_DEC_OK), "ok");
	assert_string_equal(vg_decode_reason_name(VG_DEC_IPV4_TRUNC),
			    "ipv4_trunc");
	assert_string_equal(vg_decode_reason_name(VG_DEC_TUNNEL_TOO_DEEP),
			    "tunnel_too_deep");
	assert_string_equal(vg_decode_reason_name(VG_DEC__COUNT), "unknown");
	assert_string_equal(vg_decode_reason_name((enum vg_decode_reason) - 1),
			    "unknown");
}

static void
test_tunnel_names(void **state)
{
	(void)state;
	assert_int_equal(vg_tunnel_from_name("gre"), VG_TUN_GRE);
	assert_int_equal(vg_tunnel_from_name("vxlan"), VG_TUN_VXLAN);
	assert_int_equal(vg_tunnel_from_name("gtp"), VG_TUN_GTP);
	assert_int_equal(vg_tunnel_from_name("tzsp"), VG_TUN_TZSP);
	assert_int_equal(vg_tunnel_from_name("capwap"), VG_TUN_CAPWAP);
	assert_int_equal(vg_tunnel_from_name("ipip"), 0);
	assert_int_equal(vg_tunnel_from_name(""), 0);
	assert_int_equal(vg_tunnel_from_name("grex"), 0);
	assert_int_equal(vg_tunnel_from_name(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eth_ipv4_tcp),
	    cmocka_unit_test(test_ipv4_options),
	    cmocka_unit_test(test_ipv4_errors),
	    cmocka_unit_test(test_transport_errors),
	    cmocka_unit_test(test_icmp),
	    cmocka_unit_test(test_ipv6_tcp),
	    cmocka_unit_test(test_ipv6_ext),
	    cmocka_unit_test(test_ipv6_frag),
	    cmocka_unit_test(test_ipv4_frag),
	    cmocka_unit_test(test_vlan),
	    cmocka_unit_test(test_mpls),
	    cmocka_unit_test(test_pppoe),
	    cmocka_unit_test(test_sll),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_null_loop),
	    cmocka_unit_test(test_ppp),
	    cmocka_unit_test(test_ipip),
	    cmocka_unit_test(test_gre),
	    cmocka_unit_test(test_pptp),
	    cmocka_unit_test(test_vxlan),
	    cmocka_unit_test(test_gtp),
	    cmocka_unit_test(test_tzsp),
	    cmocka_unit_test(test_capwap),
	    cmocka_unit_test(test_padding),
	    cmocka_unit_test(test_not_ip),
	    cmocka_unit_test(test_prefixes),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_tunnel_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
