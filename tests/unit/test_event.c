/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the EVE JSON encoder (agent/event.c): Community ID against
 * the spec's published vectors, string escaping and UTF-8 repair, whole flow
 * and stats events parsed back with jansson, the buffer cap, EVE timestamps
 * and UUIDv7 ids.
 */
#include "event.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#define FFFD "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/*
 * Helpers
 */

static const struct vg_event_ctx test_ctx = {
    .host = "web01",
    .agent_id = "a1b2",
    .agency = "so-tttt-hanoi",
    .version = "0.1.0",
};

/* Address text into fi; the family decides ip_version. */
static void
set_addrs(struct vg_flow_info *fi, const char *src, const char *dst)
{
	int af = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;

	memset(fi->src_ip, 0, sizeof(fi->src_ip));
	memset(fi->dst_ip, 0, sizeof(fi->dst_ip));
	fi->ip_version = af == AF_INET6 ? 6 : 4;
	assert_int_equal(inet_pton(af, src, fi->src_ip), 1);
	assert_int_equal(inet_pton(af, dst, fi->dst_ip), 1);
}

/* The event at b->data + off: exactly one '\n', at the end, and strict
 * JSON (no duplicate keys) before it. */
static json_t *
parse_line(const struct vg_buf *b, size_t off)
{
	json_error_t jerr;
	json_t *j;
	size_t n;

	assert_true(b->len > off + 1);
	n = b->len - off;
	assert_int_equal(b->data[b->len - 1], '\n');
	assert_null(memchr(b->data + off, '\n', n - 1));
	assert_int_equal(strlen(b->data + off), n);
	j = json_loadb(b->data + off, n - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		fail_msg("invalid JSON (%s at %d): %.*s", jerr.text,
			 jerr.position, (int)n, b->data + off);
	assert_true(json_is_object(j));
	return j;
}

/* The value at a dotted path ("flow.start"); fails the test when absent. */
static json_t *
jget(json_t *o, const char *path)
{
	char key[64];
	const char *p = path, *dot;
	size_t n;

	for (;;) {
		assert_true(json_is_object(o));
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		assert_true(n < sizeof(key));
		memcpy(key, p, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		if (o == NULL)
			fail_msg("missing key %s", path);
		if (dot == NULL)
			return o;
		p = dot + 1;
	}
}

static const char *
jstr(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static json_int_t
jint(json_t *o, const char *path)
{
	json_t *v = jget(o, path);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return json_integer_value(v);
}

static void
assert_jtrue(json_t *o, const char *path)
{
	assert_true(json_is_true(jget(o, path)));
}

static void
assert_keys(json_t *o, const char *const *keys, size_t n)
{
	void *it = json_object_iter(o);
	size_t i;

	for (i = 0; i < n; i++) {
		if (it == NULL)
			fail_msg("missing key %s", keys[i]);
		if (strcmp(json_object_iter_key(it), keys[i]) != 0)
			fail_msg("key %zu: got %s, want %s", i,
				 json_object_iter_key(it), keys[i]);
		it = json_object_iter_next(o, it);
	}
	if (it != NULL)
		fail_msg("unexpected key %s", json_object_iter_key(it));
}

/* "2025-11-29T09:20:00.123456+0000" */
static void
assert_eve_time_fmt(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddddd+0000";
	size_t i;

	assert_int_equal(strlen(s), sizeof(pat) - 1);
	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == 'd')
			assert_true(s[i] >= '0' && s[i] <= '9');
		else
			assert_int_equal(s[i], pat[i]);
	}
}

/* A lower-case UUIDv7 string; its timestamp in [ms_lo, ms_hi]. */
static void
assert_uuid7(const char *s, int64_t ms_lo, int64_t ms_hi)
{
	uint64_t ms = 0;
	size_t i;

	assert_int_equal(strlen(s), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			assert_int_equal(s[i], '-');
			continue;
		}
		assert_non_null(strchr("0123456789abcdef", s[i]));
		if (i < 13) /* the 48-bit unix_ts_ms */
			ms = ms << 4 |
			     (uint64_t)(strchr("0123456789abcdef", s[i]) -
					"0123456789abcdef");
	}
	assert_int_equal(s[14], '7');           /* version */
	assert_non_null(strchr("89ab", s[19])); /* variant 10 */
	assert_true((int64_t)ms >= ms_lo && (int64_t)ms <= ms_hi);
}

/* A copy of the line with vigil.event_id checked and replaced by X's. */
static char *
mask_event_id(const char *line, int64_t ms)
{
	char *copy = strdup(line), *p;

	assert_non_null(copy);
	p = strstr(copy, "\"event_id\":\"");
	assert_non_null(p);
	p += strlen("\"event_id\":\"");
	assert_true(strlen(p) > 37);
	assert_int_equal(p[36], '"');
	p[36] = '\0';
	assert_uuid7(p, ms, ms + 2);
	p[36] = '"';
	memset(p, 'X', 36);
	return copy;
}

/* A TCP/IPv4 flow with every field set (but http, dns, ssh). */
static void
tcp4_flow(struct vg_flow_info *fi)
{
	static const char *risks[] = {"Self-signed Cert",
				      "Obsolete TLS Version"};

	memset(fi, 0, sizeof(*fi));
	fi->flow_id = 1869364810253591;
	fi->start_us = 1764407994623456;
	fi->end_us = 1764408000123456;
	fi->proto = 6;
	/* The spec's README example flow: its Community ID is known. */
	set_addrs(fi, "1.2.3.4", "5.6.7.8");
	fi->src_port = 1122;
	fi->dst_port = 3344;
	fi->tcp_flags_ts = 0x1b; /* SYN FIN PSH ACK */
	fi->tcp_flags_tc = 0x16; /* SYN RST ACK */
	fi->pkts_toserver = 12;
	fi->pkts_toclient = 10;
	fi->bytes_toserver = 900;
	fi->bytes_toclient = 1200;
	fi->state = "closed";
	fi->reason = "timeout";
	fi->dns_rcode = -1;
	fi->app_proto = "tls";
	fi->ndpi_protocol = "TLS.Google";
	fi->ndpi_category = "Web";
	fi->ndpi_confidence = "DPI";
	fi->risks[0] = risks[0];
	fi->risks[1] = risks[1];
	fi->n_risks = 2;
	fi->risk_score = 110;
	fi->tls_sni = "www.google.com";
	fi->tls_version = "TLSv1.3";
	fi->tls_ja3 = "e7d705a3286e19ea42f587b344ee6865";
	fi->tls_ja3s = "eb1d94daa7e0344597e756a1fb6e7054";
	fi->tls_subject = "CN=www.google.com";
	fi->tls_issuer = "C=US, O=Google Trust Services, CN=WR2";
	fi->tls_alpn = "h2";
	fi->tls_notbefore = 1700000000;
	fi->tls_notafter = 1710000000;
}

/* The smallest flow: nothing optional set. */
static void
bare_flow(struct vg_flow_info *fi, uint8_t proto)
{
	memset(fi, 0, sizeof(*fi));
	fi->flow_id = 7;
	fi->start_us = 1000000;
	fi->end_us = 1000000;
	fi->proto = proto;
	fi->dns_rcode = -1;
	set_addrs(fi, "192.0.2.1", "192.0.2.2");
}

/*
 * Community ID
 */

struct cid_vec {
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport; /* for ICMP: type and code */
	uint16_t seed;
	const char *id;
};

/*
 * From corelight/community-id-spec, baseline/README.md: the "Default
 * settings" and "A custom seed=1 value" tables. Ports "-" (RSVP) are 0 here
 * and ignored by the hash.
 */
static const struct cid_vec cid_readme[] = {
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {17, "5.6.7.8", "1.2.3.4", 3344, 1122, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, 0,
     "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {132, "5.6.7.8", "1.2.3.4", 3344, 1122, 0,
     "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8="},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0="},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 128, 0, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 129, 0, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 146, 0, 0,
     "1:fYC8+pz24E+EhANP1EZhpX0Dw10="},
    {46, "1.2.3.4", "5.6.7.8", 0, 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {46, "5.6.7.8", "1.2.3.4", 0, 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768="},
    {46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 0, 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
    {46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 0, 0, 0,
     "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0="},
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {17, "5.6.7.8", "1.2.3.4", 3344, 1122, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, 1,
     "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {132, "5.6.7.8", "1.2.3.4", 3344, 1122, 1,
     "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, 1, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, 1, "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 128, 0, 1,
     "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 129, 0, 1,
     "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 146, 0, 1,
     "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {46, "1.2.3.4", "5.6.7.8", 0, 0, 1, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "5.6.7.8", "1.2.3.4", 0, 0, 1, "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
     "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 0, 0, 1,
     "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
    {46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D",
     "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 0, 0, 1,
     "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
};

/*
 * From corelight/community-id-spec, baseline/baseline_deflt.json (seed 0)
 * and baseline/baseline_seed1.json (seed 1), made from the spec's
 * pcaps/combined.pcap.gz. For ICMP those files list the ports after the
 * type mapping: sport is the type, and dport the code for one-way types
 * but the counterpart type for two-way ones, where the code plays no part.
 * So sport/dport serve as type/code here unchanged.
 */
static const struct cid_vec cid_baseline[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, 0,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, 0,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, 0,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, 0,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da",
     1, 4, 0, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, 0,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, 0,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, 0,
     "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, 0,
     "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, 0,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, 0,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
     63943, 25, 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25,
     63943, 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 0,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, 0,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 0,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, 0,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, 0,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, 0,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, 1,
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, 1,
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, 1,
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, 1,
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, 1,
     "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da",
     1, 4, 1, "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, 1,
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, 1,
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, 1,
     "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, 1,
     "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, 1,
     "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, 1,
     "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, 1, "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
     63943, 25, 1, "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25,
     63943, 1, "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 1,
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, 1,
     "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 1,
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, 1,
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, 1,
     "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, 1,
     "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, 1, "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, 1, "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

static void
cid_vec_flow(struct vg_flow_info *fi, const struct cid_vec *v)
{
	memset(fi, 0, sizeof(*fi));
	fi->proto = v->proto;
	set_addrs(fi, v->saddr, v->daddr);
	if (v->proto == 1 || v->proto == 58) {
		fi->icmp_type = (uint8_t)v->sport;
		fi->icmp_code = (uint8_t)v->dport;
	} else {
		fi->src_port = v->sport;
		fi->dst_port = v->dport;
	}
}

static void
check_cid_vectors(const struct cid_vec *v, size_t n)
{
	struct vg_flow_info fi;
	char id[64];
	size_t i;

	for (i = 0; i < n; i++) {
		cid_vec_flow(&fi, &v[i]);
		assert_int_equal(vg_community_id(id, v[i].seed, &fi), VG_OK);
		if (strcmp(id, v[i].id) != 0)
			fail_msg("vector %zu (%u %s %s %u %u seed %u): got %s, "
				 "want %s",
				 i, v[i].proto, v[i].saddr, v[i].daddr,
				 v[i].sport, v[i].dport, v[i].seed, id,
				 v[i].id);
	}
}

static void
test_cid_readme_vectors(void **state)
{
	(void)state;
	check_cid_vectors(cid_readme, VG_ARRAY_LEN(cid_readme));
}

static void
test_cid_baseline_vectors(void **state)
{
	(void)state;
	check_cid_vectors(cid_baseline, VG_ARRAY_LEN(cid_baseline));
}

/* Properties the vectors do not pin down. */
static void
test_cid_properties(void **state)
{
	struct vg_flow_info fi, rev;
	char a[64], b[64];

	(void)state;
	/* ICMPv6 node information query (139) and reply (140) pair up. */
	memset(&fi, 0, sizeof(fi));
	fi.proto = 58;
	set_addrs(&fi, "2001:db8::1", "2001:db8::2");
	fi.icmp_type = 139;
	rev = fi;
	set_addrs(&rev, "2001:db8::2", "2001:db8::1");
	rev.icmp_type = 140;
	assert_int_equal(vg_community_id(a, 0, &fi), VG_OK);
	assert_int_equal(vg_community_id(b, 0, &rev), VG_OK);
	assert_string_equal(a, b);

	/* A one-way message is never turned around. */
	fi.proto = 1;
	set_addrs(&fi, "10.0.0.2", "10.0.0.1");
	fi.icmp_type = 3;
	fi.icmp_code = 1;
	rev = fi;
	set_addrs(&rev, "10.0.0.1", "10.0.0.2");
	assert_int_equal(vg_community_id(a, 0, &fi), VG_OK);
	assert_int_equal(vg_community_id(b, 0, &rev), VG_OK);
	assert_string_not_equal(a, b);

	/* Equal addresses: the ports decide the order. */
	memset(&fi, 0, sizeof(fi));
	fi.proto = 6;
	set_addrs(&fi, "127.0.0.1", "127.0.0.1");
	fi.src_port = 80;
	fi.dst_port = 1234;
	rev = fi;
	rev.src_port = 1234;
	rev.dst_port = 80;
	assert_int_equal(vg_community_id(a, 0, &fi), VG_OK);
	assert_int_equal(vg_community_id(b, 0, &rev), VG_OK);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 30);

	/* Only IPv4 and IPv6. */
	fi.ip_version = 5;
	assert_int_equal(vg_community_id(a, 0, &fi), VG_EINVAL);
	assert_int_equal(vg_community_id(a, 0, NULL), VG_EINVAL);
}

/*
 * JSON strings
 */

/* vg_json_str(in) into a fresh buffer; the caller frees b. */
static void
json_str(struct vg_buf *b, const char *in, size_t len)
{
	vg_buf_init(b, 1 << 16);
	assert_int_equal(vg_json_str(b, in, len), VG_OK);
}

/* The JSON text must decode back to exactly want. */
static void
assert_decodes_to(const struct vg_buf *b, const char *want, size_t wlen)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		       &jerr);
	if (j == NULL)
		fail_msg("invalid JSON (%s): %s", jerr.text, b->data);
	assert_true(json_is_string(j));
	assert_int_equal(json_string_length(j), wlen);
	assert_memory_equal(json_string_value(j), want, wlen);
	json_decref(j);
}

static void
test_json_str_controls(void **state)
{
	static const char want[] =
	    "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
	    "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
	    "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"";
	char in[32];
	struct vg_buf b;
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		in[i] = (char)i;
	json_str(&b, in, sizeof(in));
	assert_string_equal(b.data, want);
	assert_decodes_to(&b, in, sizeof(in));
	vg_buf_fini(&b);
}

static void
test_json_str_ascii(void **state)
{
	char in[96], want[200];
	struct vg_buf b;
	size_t i, n = 0;

	(void)state;
	/* Every printable byte, then DEL: only '"', '\' and DEL change. */
	for (i = 0; i < 95; i++)
		in[i] = (char)(0x20 + i);
	in[95] = 0x7f;
	want[n++] = '"';
	for (i = 0; i < 95; i++) {
		if (in[i] == '"' || in[i] == '\\')
			want[n++] = '\\';
		want[n++] = in[i];
	}
	memcpy(want + n, "\\u007f\"", 8);
	json_str(&b, in, sizeof(in));
	assert_string_equal(b.data, want);
	assert_decodes_to(&b, in, sizeof(in));
	vg_buf_fini(&b);

	json_str(&b, "", 0);
	assert_string_equal(b.data, "\"\"");
	vg_buf_fini(&b);
	json_str(&b, NULL, 0);
	assert_string_equal(b.data, "\"\"");
	vg_buf_fini(&b);
	vg_buf_init(&b, 64);
	assert_int_equal(vg_json_str(&b, NULL, 1), VG_EINVAL);
	assert_int_equal(b.len, 0);
	vg_buf_fini(&b);
}

struct utf8_case {
	const char *in;
	size_t len;
	const char *json; /* the exact output */
};

#define U8(in, out)                                                            \
	{                                                                      \
		in, sizeof(in) - 1, out                                        \
	}
#define R "\\ufffd"

static const struct utf8_case utf8_cases[] = {
    /* Well-formed, at the edges of each length and around the gaps. */
    U8("\xc2\x80", "\"\xc2\x80\""),
    U8("\xdf\xbf", "\"\xdf\xbf\""),
    U8("\xe0\xa0\x80", "\"\xe0\xa0\x80\""),
    U8("\xed\x9f\xbf", "\"\xed\x9f\xbf\""),
    U8("\xee\x80\x80", "\"\xee\x80\x80\""),
    U8("\xef\xbf\xbf", "\"\xef\xbf\xbf\""),
    U8("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""),
    U8("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""),
    U8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
    /* Lone continuation bytes and bytes that never start a sequence. */
    U8("\x80", "\"" R "\""),
    U8("\xbf", "\"" R "\""),
    U8("a\x80z", "\"a" R "z\""),
    U8("\xfe\xff", "\"" R R "\""),
    /* Overlong forms. */
    U8("\xc0\x80", "\"" R R "\""),
    U8("\xc1\xbf", "\"" R R "\""),
    U8("\xe0\x80\x80", "\"" R R R "\""),
    U8("\xe0\x9f\xbf", "\"" R R R "\""),
    U8("\xf0\x80\x80\x80", "\"" R R R R "\""),
    U8("\xf0\x8f\xbf\xbf", "\"" R R R R "\""),
    /* UTF-16 surrogates. */
    U8("\xed\xa0\x80", "\"" R R R "\""),
    U8("\xed\xbf\xbf", "\"" R R R "\""),
    /* Above U+10FFFF. */
    U8("\xf4\x90\x80\x80", "\"" R R R R "\""),
    U8("\xf5\x80\x80\x80", "\"" R R R R "\""),
    /* Truncated: at the end, and cut short by another byte. */
    U8("\xc3", "\"" R "\""),
    U8("a\xe2\x82", "\"a" R R "\""),
    U8("\xf0\x9f\x98", "\"" R R R "\""),
    U8("\xe2\x82"
       "b",
       "\"" R R "b\""),
    U8("\xc3(", "\"" R "(\""),
    U8("\xf0\x9f\x98\xc3\xa9", "\"" R R R "\xc3\xa9\""),
    /* Embedded NUL (only reachable with an explicit length). */
    U8("a\0b", "\"a\\u0000b\""),
};

static void
test_json_str_utf8(void **state)
{
	struct vg_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < VG_ARRAY_LEN(utf8_cases); i++) {
		json_str(&b, utf8_cases[i].in, utf8_cases[i].len);
		if (strcmp(b.data, utf8_cases[i].json) != 0)
			fail_msg("case %zu: got %s, want %s", i, b.data,
				 utf8_cases[i].json);
		vg_buf_fini(&b);
	}
}

static uint64_t
test_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* U+FFFD anywhere in s (which may hold NULs). */
static int
has_fffd(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, FFFD, 3) == 0)
			return 1;
	return 0;
}

/*
 * Random bytes, biased towards the interesting ones: the output always
 * parses; jansson's own UTF-8 check serves as an independent oracle, so
 * valid input must come back unchanged and invalid input must not.
 */
static void
test_json_str_random(void **state)
{
	static const unsigned char picks[] = {
	    0x00, 0x01, 0x1f, '"',  '\\', 0x7f, 0x80, 0xbf,
	    0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
	    0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f};
	uint64_t x = 0x9e3779b97f4a7c15;
	unsigned char in[48];
	json_t *oracle, *j;
	json_error_t jerr;
	struct vg_buf b;
	size_t len, i;
	int iter;

	(void)state;
	vg_buf_init(&b, 1 << 12);
	for (iter = 0; iter < 20000; iter++) {
		len = test_rand(&x) % sizeof(in);
		for (i = 0; i < len; i++) {
			uint64_t r = test_rand(&x);

			if (r % 3 == 0)
				in[i] = picks[(r >> 8) % sizeof(picks)];
			else if (r % 3 == 1)
				in[i] = (unsigned char)(0x80 | (r >> 8) % 64);
			else
				in[i] = (unsigned char)(r >> 8);
		}
		vg_buf_reset(&b);
		assert_int_equal(vg_json_str(&b, (char *)in, len), VG_OK);
		j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
			       &jerr);
		if (j == NULL || !json_is_string(j))
			fail_msg("iteration %d: invalid JSON %s", iter, b.data);
		oracle = json_stringn((char *)in, len);
		if (oracle != NULL) {
			assert_int_equal(json_string_length(j), len);
			assert_memory_equal(json_string_value(j), in, len);
		} else {
			assert_true(has_fffd(json_string_value(j),
					     json_string_length(j)));
		}
		json_decref(oracle);
		json_decref(j);
	}
	vg_buf_fini(&b);
}

/* Every cap below the size needed fails and leaves the buffer as it was. */
static void
test_json_str_cap(void **state)
{
	static const char in[] = "ab\"\x01\xc3\xa9\x80xyz";
	struct vg_buf b;
	size_t need, max;

	(void)state;
	json_str(&b, in, sizeof(in) - 1);
	need = b.len;
	vg_buf_fini(&b);
	for (max = 4; max < need + 4; max++) {
		vg_buf_init(&b, max);
		assert_int_equal(vg_buf_append(&b, "pre", 3), VG_OK);
		if (max - 3 < need) {
			assert_int_equal(vg_json_str(&b, in, sizeof(in) - 1),
					 VG_ELIMIT);
			assert_int_equal(b.len, 3);
			assert_string_equal(b.data, "pre");
		} else {
			assert_int_equal(vg_json_str(&b, in, sizeof(in) - 1),
					 VG_OK);
			assert_int_equal(b.len, 3 + need);
		}
		vg_buf_fini(&b);
	}
}

/*
 * Time
 */

static void
test_eve_time(void **state)
{
	char t[32];

	(void)state;
	vg_eve_time(t, 0);
	assert_string_equal(t, "1970-01-01T00:00:00.000000+0000");
	vg_eve_time(t, 1764408000123456);
	assert_string_equal(t, "2025-11-29T09:20:00.123456+0000");
	vg_eve_time(t, 951782400000001); /* a leap day */
	assert_string_equal(t, "2000-02-29T00:00:00.000001+0000");
	vg_eve_time(t, 1764408000999999);
	assert_string_equal(t, "2025-11-29T09:20:00.999999+0000");
	vg_eve_time(t, -1);
	assert_string_equal(t, "1970-01-01T00:00:00.000000+0000");
	vg_eve_time(t, INT64_MIN);
	assert_string_equal(t, "1970-01-01T00:00:00.000000+0000");
	vg_eve_time(t, INT64_MAX);
	assert_string_equal(t, "9999-12-31T23:59:59.999999+0000");
	/* The per-thread cache must not leak one second into the next. */
	vg_eve_time(t, 1764408001000000);
	assert_string_equal(t, "2025-11-29T09:20:01.000000+0000");
	vg_eve_time(t, 1764408000000000);
	assert_string_equal(t, "2025-11-29T09:20:00.000000+0000");
}

/*
 * Flow events
 */

static void
test_flow_tcp4(void **state)
{
	static const char *const top[] = {
	    "timestamp", "flow_id",      "event_type", "src_ip",
	    "src_port",  "dest_ip",      "dest_port",  "proto",
	    "app_proto", "community_id", "host",       "flow",
	    "tcp",       "ndpi",         "tls",        "vigil"};
	static const char *const flow[] = {"pkts_toserver",
					   "pkts_toclient",
					   "bytes_toserver",
					   "bytes_toclient",
					   "start",
					   "end",
					   "age",
					   "state",
					   "reason",
					   "alerted"};
	static const char want[] =
	    "{\"timestamp\":\"2025-11-29T09:20:00.500000+0000\","
	    "\"flow_id\":1869364810253591,\"event_type\":\"flow\","
	    "\"src_ip\":\"1.2.3.4\",\"src_port\":1122,"
	    "\"dest_ip\":\"5.6.7.8\",\"dest_port\":3344,\"proto\":\"TCP\","
	    "\"app_proto\":\"tls\","
	    "\"community_id\":\"1:wCb3OG7yAFWelaUydu0D+125CLM=\","
	    "\"host\":\"web01\","
	    "\"flow\":{\"pkts_toserver\":12,\"pkts_toclient\":10,"
	    "\"bytes_toserver\":900,\"bytes_toclient\":1200,"
	    "\"start\":\"2025-11-29T09:19:54.623456+0000\","
	    "\"end\":\"2025-11-29T09:20:00.123456+0000\",\"age\":5,"
	    "\"state\":\"closed\",\"reason\":\"timeout\",\"alerted\":false},"
	    "\"tcp\":{\"tcp_flags\":\"1f\",\"tcp_flags_ts\":\"1b\","
	    "\"tcp_flags_tc\":\"16\",\"syn\":true,\"fin\":true,\"rst\":true,"
	    "\"psh\":true,\"ack\":true},"
	    "\"ndpi\":{\"protocol\":\"TLS.Google\",\"category\":\"Web\","
	    "\"confidence\":\"DPI\","
	    "\"risk\":[\"Self-signed Cert\",\"Obsolete TLS Version\"],"
	    "\"risk_score\":110},"
	    "\"tls\":{\"sni\":\"www.google.com\",\"version\":\"TLSv1.3\","
	    "\"ja3\":{\"hash\":\"e7d705a3286e19ea42f587b344ee6865\"},"
	    "\"ja3s\":{\"hash\":\"eb1d94daa7e0344597e756a1fb6e7054\"},"
	    "\"subject\":\"CN=www.google.com\","
	    "\"issuerdn\":\"C=US, O=Google Trust Services, CN=WR2\","
	    "\"alpn\":\"h2\",\"notbefore\":\"2023-11-14T22:13:20\","
	    "\"notafter\":\"2024-03-09T16:00:00\"},"
	    "\"vigil\":{\"event_id\":\"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\","
	    "\"agent_id\":\"a1b2\",\"agency\":\"so-tttt-hanoi\","
	    "\"agent_version\":\"0.1.0\"}}\n";
	const int64_t ts = 1764408000500000;
	struct vg_flow_info fi;
	struct vg_buf b;
	char cid[64], *masked;
	json_t *j;

	(void)state;
	tcp4_flow(&fi);
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_OK);

	masked = mask_event_id(b.data, ts / 1000);
	assert_string_equal(masked, want);
	free(masked);

	j = parse_line(&b, 0);
	assert_keys(j, top, VG_ARRAY_LEN(top));
	assert_keys(jget(j, "flow"), flow, VG_ARRAY_LEN(flow));
	assert_eve_time_fmt(jstr(j, "timestamp"));
	assert_string_equal(jstr(j, "timestamp"),
			    "2025-11-29T09:20:00.500000+0000");
	assert_true(jint(j, "flow_id") == 1869364810253591);
	assert_string_equal(jstr(j, "event_type"), "flow");
	assert_string_equal(jstr(j, "src_ip"), "1.2.3.4");
	assert_int_equal(jint(j, "src_port"), 1122);
	assert_string_equal(jstr(j, "dest_ip"), "5.6.7.8");
	assert_int_equal(jint(j, "dest_port"), 3344);
	assert_string_equal(jstr(j, "proto"), "TCP");
	assert_null(json_object_get(j, "icmp_type"));
	assert_null(json_object_get(j, "vlan"));
	assert_int_equal(vg_community_id(cid, 0, &fi), VG_OK);
	assert_string_equal(jstr(j, "community_id"), cid);
	assert_int_equal(jint(j, "flow.pkts_toserver"), 12);
	assert_int_equal(jint(j, "flow.bytes_toclient"), 1200);
	assert_eve_time_fmt(jstr(j, "flow.start"));
	assert_eve_time_fmt(jstr(j, "flow.end"));
	assert_int_equal(jint(j, "flow.age"), 5);
	assert_true(json_is_false(jget(j, "flow.alerted")));
	assert_string_equal(jstr(j, "tcp.tcp_flags"), "1f");
	assert_string_equal(jstr(j, "tcp.tcp_flags_ts"), "1b");
	assert_string_equal(jstr(j, "tcp.tcp_flags_tc"), "16");
	assert_jtrue(j, "tcp.syn");
	assert_jtrue(j, "tcp.ack");
	assert_null(json_object_get(jget(j, "tcp"), "urg"));
	assert_null(json_object_get(jget(j, "tcp"), "ecn"));
	assert_null(json_object_get(jget(j, "tcp"), "cwr"));
	assert_int_equal(json_array_size(jget(j, "ndpi.risk")), 2);
	assert_int_equal(jint(j, "ndpi.risk_score"), 110);
	assert_string_equal(jstr(j, "tls.ja3.hash"),
			    "e7d705a3286e19ea42f587b344ee6865");
	assert_int_equal(strlen(jstr(j, "vigil.event_id")), 36);
	assert_uuid7(jstr(j, "vigil.event_id"), ts / 1000, ts / 1000 + 2);
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_flow_udp6_vlan(void **state)
{
	static const char *const top[] = {
	    "timestamp", "flow_id",   "event_type",   "vlan",
	    "src_ip",    "src_port",  "dest_ip",      "dest_port",
	    "proto",     "app_proto", "community_id", "host",
	    "flow",      "ndpi",      "dns",          "vigil"};
	static const char *const vigil[] = {"event_id", "agent_id",
					    "agent_version", "tunneled"};
	const struct vg_event_ctx ctx = {"sensor", "a9", NULL, "0.1.0"};
	const int64_t ts = 1764408100000000;
	struct vg_flow_info fi;
	struct vg_buf b;
	char cid[64];
	json_t *j, *q;

	(void)state;
	memset(&fi, 0, sizeof(fi));
	fi.flow_id = 42;
	fi.start_us = 1764408099000000;
	fi.end_us = 1764408099999999; /* 0.999999 s: age rounds down */
	fi.proto = 17;
	set_addrs(&fi, "2001:0db8:0000:0000:0000:0000:0000:0001",
		  "2001:4860:4860::8888");
	fi.src_port = 40000;
	fi.dst_port = 53;
	fi.vlan = 100;
	fi.tunneled = 2;
	fi.pkts_toserver = 1;
	fi.pkts_toclient = 1;
	fi.bytes_toserver = 70;
	fi.bytes_toclient = 130;
	fi.app_proto = "dns";
	fi.ndpi_protocol = "DNS";
	fi.dns_query = "example.com";
	fi.dns_qtype = 28;
	fi.dns_rcode = 3;

	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_flow(&b, &ctx, &fi, ts), VG_OK);
	j = parse_line(&b, 0);
	assert_keys(j, top, VG_ARRAY_LEN(top));
	assert_true(json_is_array(jget(j, "vlan")));
	assert_int_equal(json_array_size(jget(j, "vlan")), 1);
	assert_int_equal(json_integer_value(json_array_get(jget(j, "vlan"), 0)),
			 100);
	assert_string_equal(jstr(j, "src_ip"), "2001:db8::1");
	assert_string_equal(jstr(j, "dest_ip"), "2001:4860:4860::8888");
	assert_int_equal(jint(j, "src_port"), 40000);
	assert_int_equal(jint(j, "dest_port"), 53);
	assert_string_equal(jstr(j, "proto"), "UDP");
	assert_string_equal(jstr(j, "host"), "sensor");
	assert_null(json_object_get(j, "tcp"));
	assert_int_equal(vg_community_id(cid, 0, &fi), VG_OK);
	assert_string_equal(jstr(j, "community_id"), cid);
	/* Worked out with Python's hashlib while writing this test. */
	assert_string_equal(cid, "1:F2FwO1mITUSHgM/ibdJ+aHphq48=");
	assert_int_equal(jint(j, "flow.age"), 0);
	assert_null(json_object_get(jget(j, "flow"), "state"));
	assert_null(json_object_get(jget(j, "flow"), "reason"));
	q = json_array_get(jget(j, "dns.query"), 0);
	assert_non_null(q);
	assert_int_equal(json_array_size(jget(j, "dns.query")), 1);
	assert_string_equal(jstr(q, "rrname"), "example.com");
	assert_string_equal(jstr(q, "rrtype"), "AAAA");
	assert_string_equal(jstr(j, "dns.rcode"), "NXDOMAIN");
	assert_string_equal(jstr(j, "ndpi.protocol"), "DNS");
	assert_null(json_object_get(jget(j, "ndpi"), "risk"));
	assert_null(json_object_get(jget(j, "ndpi"), "risk_score"));
	assert_keys(jget(j, "vigil"), vigil, VG_ARRAY_LEN(vigil));
	assert_jtrue(j, "vigil.tunneled");
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_flow_icmp(void **state)
{
	static const char *const top[] = {
	    "timestamp",    "flow_id", "event_type", "src_ip",
	    "dest_ip",      "proto",   "icmp_type",  "icmp_code",
	    "community_id", "host",    "flow",       "vigil"};
	struct vg_flow_info fi;
	struct vg_buf b;
	json_t *j;

	(void)state;
	bare_flow(&fi, 1);
	set_addrs(&fi, "1.2.3.4", "5.6.7.8");
	fi.icmp_type = 8;
	fi.src_port = 99; /* must not show for ICMP */
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	assert_keys(j, top, VG_ARRAY_LEN(top));
	assert_string_equal(jstr(j, "proto"), "ICMP");
	assert_int_equal(jint(j, "icmp_type"), 8);
	assert_int_equal(jint(j, "icmp_code"), 0);
	/* README vector: echo request 1.2.3.4 -> 5.6.7.8 */
	assert_string_equal(jstr(j, "community_id"),
			    "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
	json_decref(j);

	bare_flow(&fi, 58);
	set_addrs(&fi, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D",
		  "fe80:1011:1213:1415:1617:1819:1A1B:1C1D");
	fi.icmp_type = 128;
	vg_buf_reset(&b);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	assert_keys(j, top, VG_ARRAY_LEN(top));
	assert_string_equal(jstr(j, "proto"), "IPv6-ICMP");
	assert_string_equal(jstr(j, "src_ip"),
			    "fe80:1:203:405:607:809:a0b:c0d");
	assert_int_equal(jint(j, "icmp_type"), 128);
	assert_string_equal(jstr(j, "community_id"),
			    "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=");
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_flow_proto_names(void **state)
{
	static const struct {
		uint8_t proto;
		const char *name;
		int ports;
	} cases[] = {{6, "TCP", 1},  {17, "UDP", 1},  {132, "SCTP", 1},
		     {47, "GRE", 0}, {50, "ESP", 0},  {51, "AH", 0},
		     {46, "46", 0},  {253, "253", 0}, {0, "0", 0}};
	struct vg_flow_info fi;
	struct vg_buf b;
	size_t i;
	json_t *j;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	for (i = 0; i < VG_ARRAY_LEN(cases); i++) {
		bare_flow(&fi, cases[i].proto);
		fi.src_port = 1;
		fi.dst_port = 2;
		vg_buf_reset(&b);
		assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, 1), VG_OK);
		j = parse_line(&b, 0);
		assert_string_equal(jstr(j, "proto"), cases[i].name);
		assert_int_equal(json_object_get(j, "src_port") != NULL,
				 cases[i].ports);
		assert_int_equal(json_object_get(j, "dest_port") != NULL,
				 cases[i].ports);
		assert_int_equal(json_object_get(j, "tcp") != NULL,
				 cases[i].proto == 6);
		assert_null(json_object_get(j, "icmp_type"));
		json_decref(j);
	}
	vg_buf_fini(&b);
}

/* Optional objects appear exactly when one of their fields is set. */
static void
test_flow_optional(void **state)
{
	static const char *const top[] = {
	    "timestamp",    "flow_id", "event_type", "src_ip",
	    "src_port",     "dest_ip", "dest_port",  "proto",
	    "community_id", "flow",    "vigil"};
	static const char *const vigil[] = {"event_id"};
	const struct vg_event_ctx empty = {NULL, NULL, "", NULL};
	struct vg_flow_info fi;
	struct vg_buf b;
	json_t *j, *q;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	bare_flow(&fi, 17);
	fi.app_proto = "";
	fi.tls_sni = "";
	fi.n_risks = 3; /* all NULL: no "risk", no "ndpi" */
	assert_int_equal(vg_event_flow(&b, &empty, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	assert_keys(j, top, VG_ARRAY_LEN(top));
	assert_keys(jget(j, "vigil"), vigil, VG_ARRAY_LEN(vigil));
	json_decref(j);

	/* One field each. */
	fi.risk_score = 5;
	fi.tls_notafter = 1710000000;
	fi.http_status = 404;
	fi.dns_rcode = 0;
	fi.ssh_server = "SSH-2.0-OpenSSH_9.2";
	vg_buf_reset(&b);
	assert_int_equal(vg_event_flow(&b, &empty, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	assert_int_equal(json_object_size(jget(j, "ndpi")), 1);
	assert_int_equal(jint(j, "ndpi.risk_score"), 5);
	assert_int_equal(json_object_size(jget(j, "tls")), 1);
	assert_string_equal(jstr(j, "tls.notafter"), "2024-03-09T16:00:00");
	assert_int_equal(json_object_size(jget(j, "http")), 1);
	assert_int_equal(jint(j, "http.status"), 404);
	assert_int_equal(json_object_size(jget(j, "dns")), 1);
	assert_string_equal(jstr(j, "dns.rcode"), "NOERROR");
	assert_int_equal(json_object_size(jget(j, "ssh")), 1);
	assert_string_equal(jstr(j, "ssh.server.software_version"),
			    "SSH-2.0-OpenSSH_9.2");
	json_decref(j);

	/* Unnamed DNS type and rcode; a sparse risk list; ssh client. */
	fi.dns_qtype = 99;
	fi.dns_rcode = 9;
	fi.risks[1] = "Risky Domain";
	fi.ssh_client = "SSH-2.0-Go";
	vg_buf_reset(&b);
	assert_int_equal(vg_event_flow(&b, &empty, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	q = json_array_get(jget(j, "dns.query"), 0);
	assert_non_null(q);
	assert_null(json_object_get(q, "rrname"));
	assert_string_equal(jstr(q, "rrtype"), "TYPE99");
	assert_string_equal(jstr(j, "dns.rcode"), "9");
	assert_int_equal(json_array_size(jget(j, "ndpi.risk")), 1);
	assert_string_equal(
	    json_string_value(json_array_get(jget(j, "ndpi.risk"), 0)),
	    "Risky Domain");
	assert_string_equal(jstr(j, "ssh.client.software_version"),
			    "SSH-2.0-Go");
	json_decref(j);
	vg_buf_fini(&b);
}

/* Hostile bytes in network-supplied strings stay inside valid JSON. */
static void
test_flow_escaping(void **state)
{
	static const char sni[] = "x\x80"
				  "\xc0\x80"
				  "\xed\xa0\x80"
				  "\xf5\x80\x80\x80"
				  "\xf4\x90\x80\x80"
				  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				  "\xe2\x82";
	static const char sni_want[] =
	    "x" FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD
		FFFD "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" FFFD FFFD;
	static const char ua[] = "Mozilla/5.0 \"q\" \\ \x7f"
				 "\xf0\x9f\x98";
	static const char ua_want[] =
	    "Mozilla/5.0 \"q\" \\ \x7f" FFFD FFFD FFFD;
	char url[64];
	struct vg_flow_info fi;
	struct vg_buf b;
	size_t n = 0;
	json_t *j;
	int c;

	(void)state;
	url[n++] = '/';
	for (c = 1; c < 0x20; c++)
		url[n++] = (char)c;
	memcpy(url + n, "\"\\\x7f\xc3\xa9/", 6);
	n += 6;
	url[n] = '\0';

	tcp4_flow(&fi);
	fi.tls_sni = sni;
	fi.http_url = url;
	fi.http_user_agent = ua;
	fi.http_host = "h\"ost";
	fi.http_method = "GET";
	fi.http_status = 200;
	fi.http_content_type = "text/html";
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, 1), VG_OK);
	j = parse_line(&b, 0);
	assert_string_equal(jstr(j, "tls.sni"), sni_want);
	assert_string_equal(jstr(j, "http.url"), url);
	assert_string_equal(jstr(j, "http.http_user_agent"), ua_want);
	assert_string_equal(jstr(j, "http.hostname"), "h\"ost");
	{
		static const char *const http[] = {
		    "hostname",    "url",    "http_user_agent",
		    "http_method", "status", "http_content_type"};

		assert_keys(jget(j, "http"), http, VG_ARRAY_LEN(http));
	}
	assert_int_equal(jint(j, "http.status"), 200);
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_flow_invalid(void **state)
{
	struct vg_flow_info fi;
	struct vg_buf b;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_buf_puts(&b, "keep\n"), VG_OK);
	bare_flow(&fi, 6);
	fi.ip_version = 5;
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, 1), VG_EINVAL);
	assert_string_equal(b.data, "keep\n");
	assert_int_equal(vg_event_flow(&b, &test_ctx, NULL, 1), VG_EINVAL);
	assert_int_equal(vg_event_flow(&b, NULL, &fi, 1), VG_EINVAL);
	assert_int_equal(b.len, 5);
	vg_buf_fini(&b);
}

/* A capped buffer: the event is refused whole and nothing is left of it. */
static void
test_flow_cap(void **state)
{
	const int64_t ts = 1764408200000000;
	struct vg_flow_info fi;
	struct vg_buf b;
	size_t need, max;
	char *first;

	(void)state;
	tcp4_flow(&fi);

	vg_buf_init(&b, 100);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_ELIMIT);
	assert_int_equal(b.len, 0);
	assert_true(b.data == NULL || b.data[0] == '\0');
	vg_buf_fini(&b);

	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_OK);
	need = b.len;
	vg_buf_fini(&b);

	/* Every cap short of the event's size, from an empty buffer. */
	for (max = 0; max < need; max++) {
		vg_buf_init(&b, max);
		assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts),
				 VG_ELIMIT);
		assert_int_equal(b.len, 0);
		vg_buf_fini(&b);
	}
	vg_buf_init(&b, need);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_OK);
	assert_int_equal(b.len, need);
	vg_buf_fini(&b);

	/* Room for one event and a half: the second leaves the first intact. */
	vg_buf_init(&b, need + need / 2);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_OK);
	first = strdup(b.data);
	assert_non_null(first);
	assert_int_equal(vg_event_flow(&b, &test_ctx, &fi, ts), VG_ELIMIT);
	assert_int_equal(b.len, need);
	assert_string_equal(b.data, first);
	json_decref(parse_line(&b, 0));
	vg_buf_fini(&b);
	free(first);

	/* Stats events obey the same rule. */
	vg_buf_init(&b, 100);
	assert_int_equal(vg_buf_puts(&b, "keep\n"), VG_OK);
	assert_int_equal(vg_event_stats(&b, &test_ctx, NULL, 0, 1.0, ts),
			 VG_ELIMIT);
	assert_string_equal(b.data, "keep\n");
	vg_buf_fini(&b);
}

/*
 * Stats events
 */

static void
test_stats_nesting(void **state)
{
	static const struct vg_stat_kv kv[] = {
	    {"capture.kernel_packets", 2},
	    {"capture.kernel_drops", 1},
	    {"decoder.pkts", 3},
	    {"decoder.ipv4", 4},
	    {"flow.memuse", 5},
	    {"a.b.c.d", 6},
	    {"a.b.c.e", 7},
	    {"a.b.f", 8},
	    {"a.g", 9},
	    {"z", UINT64_MAX},
	};
	static const char want[] =
	    "{\"timestamp\":\"2025-11-29T09:20:00.000000+0000\","
	    "\"event_type\":\"stats\",\"host\":\"web01\","
	    "\"stats\":{\"uptime\":12,"
	    "\"capture\":{\"kernel_packets\":2,\"kernel_drops\":1},"
	    "\"decoder\":{\"pkts\":3,\"ipv4\":4},\"flow\":{\"memuse\":5},"
	    "\"a\":{\"b\":{\"c\":{\"d\":6,\"e\":7},\"f\":8},\"g\":9},"
	    "\"z\":18446744073709551615},"
	    "\"vigil\":{\"event_id\":\"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\","
	    "\"agent_id\":\"a1b2\",\"agency\":\"so-tttt-hanoi\","
	    "\"agent_version\":\"0.1.0\"}}\n";
	const int64_t ts = 1764408000000000;
	struct vg_buf b;
	char *masked;
	json_t *j;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(
	    vg_event_stats(&b, &test_ctx, kv, VG_ARRAY_LEN(kv), 12.9, ts),
	    VG_OK);
	masked = mask_event_id(b.data, ts / 1000);
	assert_string_equal(masked, want);
	free(masked);
	vg_buf_fini(&b);

	/* The same without the counter jansson cannot hold (2^64 - 1). */
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(
	    vg_event_stats(&b, &test_ctx, kv, VG_ARRAY_LEN(kv) - 1, 12.9, ts),
	    VG_OK);
	j = parse_line(&b, 0);
	assert_int_equal(jint(j, "stats.a.b.c.e"), 7);
	assert_int_equal(jint(j, "stats.a.g"), 9);
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_stats_values(void **state)
{
	static const struct vg_stat_kv kv[] = {
	    {"capture.kernel_drops", 1},
	    {"capture.kernel_packets", 2},
	    {"decoder.pkts", 3},
	};
	const int64_t ts = 1764408300000000;
	struct vg_buf b;
	size_t first;
	json_t *j;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_stats(&b, &test_ctx, NULL, 0, -3.0, ts),
			 VG_OK);
	j = parse_line(&b, 0);
	assert_int_equal(jint(j, "stats.uptime"), 0);
	assert_int_equal(json_object_size(jget(j, "stats")), 1);
	json_decref(j);

	first = b.len;
	assert_int_equal(
	    vg_event_stats(&b, &test_ctx, kv, VG_ARRAY_LEN(kv), NAN, ts),
	    VG_OK);
	j = parse_line(&b, first);
	assert_string_equal(jstr(j, "event_type"), "stats");
	assert_string_equal(jstr(j, "host"), "web01");
	assert_eve_time_fmt(jstr(j, "timestamp"));
	assert_int_equal(jint(j, "stats.uptime"), 0);
	assert_int_equal(jint(j, "stats.capture.kernel_drops"), 1);
	assert_int_equal(jint(j, "stats.capture.kernel_packets"), 2);
	assert_int_equal(jint(j, "stats.decoder.pkts"), 3);
	assert_string_equal(jstr(j, "vigil.agent_id"), "a1b2");
	assert_string_equal(jstr(j, "vigil.agency"), "so-tttt-hanoi");
	assert_string_equal(jstr(j, "vigil.agent_version"), "0.1.0");
	assert_uuid7(jstr(j, "vigil.event_id"), ts / 1000, ts / 1000 + 2);
	assert_null(json_object_get(jget(j, "vigil"), "tunneled"));
	json_decref(j);

	vg_buf_reset(&b);
	assert_int_equal(vg_event_stats(&b, &test_ctx, NULL, 0, 86400.5, ts),
			 VG_OK);
	j = parse_line(&b, 0);
	assert_int_equal(jint(j, "stats.uptime"), 86400);
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_stats_errors(void **state)
{
	static const struct {
		struct vg_stat_kv kv[2];
		size_t n;
	} bad[] = {
	    {{{"", 1}}, 1},
	    {{{".a", 1}}, 1},
	    {{{"a.", 1}}, 1},
	    {{{"a..b", 1}}, 1},
	    {{{"a.b.c.d.e", 1}}, 1},
	    {{{NULL, 1}}, 1},
	    {{{"ok", 1}, {"x..y", 2}}, 2},
	    /* Names that would repeat a key in one object. */
	    {{{"a.b", 1}, {"a.b", 2}}, 2},
	    {{{"a", 1}, {"a.b", 2}}, 2},
	    {{{"a.b", 1}, {"a", 2}}, 2},
	    {{{"a", 1}, {"a", 2}}, 2},
	    {{{"uptime", 1}}, 1},
	};
	struct vg_buf b;
	size_t i;

	(void)state;
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_buf_puts(&b, "keep\n"), VG_OK);
	for (i = 0; i < VG_ARRAY_LEN(bad); i++) {
		if (vg_event_stats(&b, &test_ctx, bad[i].kv, bad[i].n, 1.0,
				   1) != VG_EINVAL)
			fail_msg("case %zu accepted", i);
		assert_string_equal(b.data, "keep\n");
	}
	assert_int_equal(vg_event_stats(&b, &test_ctx, NULL, 1, 1.0, 1),
			 VG_EINVAL);
	assert_int_equal(b.len, 5);
	vg_buf_fini(&b);
}

/*
 * UUIDv7
 */

static void
test_uuid7_same_ms(void **state)
{
	enum { N = 5000 }; /* past the counter's 2048 guaranteed steps */
	const int64_t ms = 1764408400000;
	char(*ids)[37];
	int i;

	(void)state;
	ids = calloc(N, sizeof(*ids));
	assert_non_null(ids);
	for (i = 0; i < N; i++) {
		vg_uuid7(ids[i], ms);
		assert_uuid7(ids[i], ms, ms + 2);
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("%d: %s after %s", i, ids[i], ids[i - 1]);
	}
	/* Back to a later millisecond: no borrowed time beyond it. */
	vg_uuid7(ids[0], ms + 1000);
	assert_uuid7(ids[0], ms + 1000, ms + 1000);
	free(ids);
}

static void
test_uuid7_increasing(void **state)
{
	char prev[37], id[37];
	int64_t ms = 1700000000000;
	int i;

	(void)state;
	vg_uuid7(prev, ms);
	assert_uuid7(prev, ms, ms);
	for (i = 1; i < 1000; i++) {
		ms += i % 3 == 0 ? 0 : 1 + i % 5;
		vg_uuid7(id, ms);
		assert_uuid7(id, ms, ms);
		if (strcmp(prev, id) >= 0)
			fail_msg("%d: %s after %s", i, id, prev);
		memcpy(prev, id, sizeof(id));
	}
	/* Out-of-range times are clamped, not wrapped. */
	vg_uuid7(id, -5);
	assert_uuid7(id, 0, 0);
	vg_uuid7(id, INT64_MAX);
	assert_true(strncmp(id, "ffffffff-ffff-7", 15) == 0);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

#define THREAD_IDS 2000

static void *
uuid_thread(void *arg)
{
	char(*ids)[37] = arg;
	int i;

	for (i = 0; i < THREAD_IDS; i++)
		vg_uuid7(ids[i], 1764408500000);
	return NULL;
}

/* Threads each have their own generator; their ids never collide. */
static void
test_uuid7_threads(void **state)
{
	enum { T = 4 };
	pthread_t th[T];
	char(*ids)[37];
	int i;

	(void)state;
	ids = calloc((size_t)T * THREAD_IDS, sizeof(*ids));
	assert_non_null(ids);
	for (i = 0; i < T; i++)
		assert_int_equal(pthread_create(&th[i], NULL, uuid_thread,
						ids + (size_t)i * THREAD_IDS),
				 0);
	for (i = 0; i < T; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	qsort(ids, (size_t)T * THREAD_IDS, sizeof(*ids), cmp_id);
	for (i = 1; i < T * THREAD_IDS; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	free(ids);
}

/* A forked child reseeds instead of repeating its parent's ids. */
static void
test_uuid7_fork(void **state)
{
	const int64_t ms = 1764408600000;
	char parent[37], child[37] = "";
	int fd[2], status;
	pid_t pid;

	(void)state;
	vg_uuid7(parent, ms);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vg_uuid7(child, ms);
		_exit(write(fd[1], child, 36) == 36 ? 0 : 1);
	}
	close(fd[1]);
	vg_uuid7(parent, ms);
	assert_int_equal(read(fd[0], child, 36), 36);
	child[36] = '\0';
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_uuid7(child, ms, ms);
	assert_string_not_equal(parent, child);
}

/* A YARA rule may repeat a meta key; the event keeps the first value and
 * stays a JSON object without duplicate keys (found by fuzz_eve). */
static void
test_fileinfo_duplicate_meta(void **state)
{
	static const struct vg_file_meta meta[] = {
	    {"author", VG_META_STR, "first", 0},
	    {"score", VG_META_INT, NULL, 7},
	    {"author", VG_META_STR, "second", 0},
	    {"score", VG_META_BOOL, NULL, 1},
	};
	struct vg_file_rule rule = {.name = "dup", .ns = "default"};
	struct vg_file_match m = {.rule = &rule};
	struct vg_file_info fi = {.filename = "/srv/x", .size = 3};
	struct vg_buf b;
	json_t *j, *mo;

	(void)state;
	rule.meta = meta;
	rule.n_meta = VG_ARRAY_LEN(meta);
	fi.matches = &m;
	fi.n_matches = 1;
	vg_buf_init(&b, 1 << 16);
	assert_int_equal(vg_event_fileinfo(&b, &test_ctx, &fi, 1), VG_OK);
	j = parse_line(&b, 0); /* refuses duplicate keys */
	mo = json_object_get(json_array_get(jget(j, "fileinfo.yara"), 0),
			     "meta");
	assert_non_null(mo);
	assert_int_equal(json_object_size(mo), 2);
	assert_string_equal(json_string_value(json_object_get(mo, "author")),
			    "first");
	assert_int_equal(json_integer_value(json_object_get(mo, "score")), 7);
	json_decref(j);
	vg_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cid_readme_vectors),
	    cmocka_unit_test(test_cid_baseline_vectors),
	    cmocka_unit_test(test_cid_properties),
	    cmocka_unit_test(test_json_str_controls),
	    cmocka_unit_test(test_json_str_ascii),
	    cmocka_unit_test(test_json_str_utf8),
	    cmocka_unit_test(test_json_str_random),
	    cmocka_unit_test(test_json_str_cap),
	    cmocka_unit_test(test_eve_time),
	    cmocka_unit_test(test_flow_tcp4),
	    cmocka_unit_test(test_flow_udp6_vlan),
	    cmocka_unit_test(test_flow_icmp),
	    cmocka_unit_test(test_flow_proto_names),
	    cmocka_unit_test(test_flow_optional),
	    cmocka_unit_test(test_flow_escaping),
	    cmocka_unit_test(test_flow_invalid),
	    cmocka_unit_test(test_flow_cap),
	    cmocka_unit_test(test_fileinfo_duplicate_meta),
	    cmocka_unit_test(test_stats_nesting),
	    cmocka_unit_test(test_stats_values),
	    cmocka_unit_test(test_stats_errors),
	    cmocka_unit_test(test_uuid7_same_ms),
	    cmocka_unit_test(test_uuid7_increasing),
	    cmocka_unit_test(test_uuid7_threads),
	    cmocka_unit_test(test_uuid7_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
