/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/ioc.c: prefix containment at the boundaries and
 * against a brute-force check of random nested prefixes, domain suffix
 * rules, hash lists, the file format (CSV, header, quotes, CRLF,
 * comments), the exact PATH:LINE: of every error, and lists of a million
 * entries looked up from several threads. List files are written to a
 * mkdtemp() directory and loaded for real.
 */
#include "ioc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BIG     1000000u
#define STRIDE  1000u
#define THREADS 4
#define SHA     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static char tmpdir[] = "/tmp/vg_test_ioc_XXXXXX";

/* printf into a new string (owned). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	size_t n;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return s;
}

/* Path of a file in the test directory (owned). */
static char *
path_of(const char *name)
{
	return strf("%s/%s", tmpdir, name);
}

/* Write text to name in the test directory; returns its path (owned). */
static char *
write_file(const char *name, const char *text)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

/* One vg_ioc_list_load(): its code, the list and everything it wrote. */
struct result {
	enum vg_err err;
	struct vg_ioc_list *l; /* owned */
	char *out;             /* owned */
	size_t len;
};

static struct result
load(enum vg_ioc_type type, const char *path)
{
	struct result r = {0};
	FILE *f = open_memstream(&r.out, &r.len);

	assert_non_null(f);
	r.err = vg_ioc_list_load(&r.l, "test", type, path, f);
	assert_int_equal(fclose(f), 0);
	if (r.err != VG_OK)
		assert_null(r.l);
	return r;
}

static void
result_free(struct result *r)
{
	vg_ioc_list_free(r->l);
	free(r->out);
}

/* Load text as a list that must load cleanly. */
static struct vg_ioc_list *
load_ok(enum vg_ioc_type type, const char *name, const char *text)
{
	char *path = write_file(name, text);
	struct result r = load(type, path);

	assert_int_equal(r.err, VG_OK);
	assert_string_equal(r.out, "");
	free(r.out);
	free(path);
	return r.l;
}

/* Load text as a list that must fail with err, and writes exactly want
 * ("%s" in want stands for the path). */
static void
load_fails(enum vg_ioc_type type, const char *name, const char *text,
	   enum vg_err err, const char *want)
{
	char *path = write_file(name, text);
	struct result r = load(type, path);
	char *expect;
	const char *p, *q;
	size_t n;
	FILE *f = open_memstream(&expect, &n);

	/* Replace every "%s" by the path. */
	assert_non_null(f);
	for (p = want; (q = strstr(p, "%s")) != NULL; p = q + 2) {
		fwrite(p, 1, (size_t)(q - p), f);
		fputs(path, f);
	}
	fputs(p, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(r.err, err);
	assert_string_equal(r.out, expect);
	free(expect);
	result_free(&r);
	free(path);
}

static void
parse_addr(const char *text, uint8_t *ver, uint8_t a[16])
{
	memset(a, 0, 16);
	if (strchr(text, ':') != NULL) {
		*ver = 6;
		assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	} else {
		*ver = 4;
		assert_int_equal(inet_pton(AF_INET, text, a), 1);
	}
}

static bool
in_set(const struct vg_cidr_set *s, const char *text)
{
	uint8_t ver, a[16];

	parse_addr(text, &ver, a);
	return vg_cidr_set_contains(s, ver, a);
}

static bool
in_list(const struct vg_ioc_list *l, const char *text)
{
	uint8_t ver, a[16];

	parse_addr(text, &ver, a);
	return vg_ioc_match_ip(l, ver, a);
}

static void
add(struct vg_cidr_set *s, const char *text)
{
	uint8_t ver, a[16];
	unsigned len;

	assert_int_equal(vg_cidr_parse(text, &ver, a, &len), VG_OK);
	assert_int_equal(vg_cidr_set_add(s, ver, a, len), VG_OK);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = path_of(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* ------------------------------------------------------------------ */

static void
test_type_names(void **state)
{
	(void)state;
	assert_int_equal(vg_ioc_type_from_name("ip"), VG_IOC_IP);
	assert_int_equal(vg_ioc_type_from_name("domain"), VG_IOC_DOMAIN);
	assert_int_equal(vg_ioc_type_from_name("ja3"), VG_IOC_JA3);
	assert_int_equal(vg_ioc_type_from_name("sha256"), VG_IOC_SHA256);
	assert_int_equal(vg_ioc_type_from_name("IP"), -1);
	assert_int_equal(vg_ioc_type_from_name("md5"), -1);
	assert_int_equal(vg_ioc_type_from_name(""), -1);
	assert_int_equal(vg_ioc_type_from_name(NULL), -1);
	assert_string_equal(vg_ioc_type_name(VG_IOC_IP), "ip");
	assert_string_equal(vg_ioc_type_name(VG_IOC_DOMAIN), "domain");
	assert_string_equal(vg_ioc_type_name(VG_IOC_JA3), "ja3");
	assert_string_equal(vg_ioc_type_name(VG_IOC_SHA256), "sha256");
	assert_string_equal(vg_ioc_type_name((enum vg_ioc_type)42), "unknown");
}

static void
test_cidr_parse(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.1/8",     /* host bits */
	    "192.0.2.5/31",   /* host bits, last bit */
	    "2001:db8::1/32", /* host bits, IPv6 */
	    "::1/127",        /* host bits, last bit */
	    "10.0.0.0/33",
	    "::/129",
	    "10.0.0.0/",
	    "10.0.0.0/08",
	    "10.0.0.0/-1",
	    "10.0.0.0/+8",
	    "10.0.0.0/8x",
	    "10.0.0.0/ 8",
	    "10.0.0.0/1000",
	    "10.0.0",
	    "10.0.0.0.0",
	    "010.0.0.1",
	    "1.2.3.256",
	    " 10.0.0.1",
	    "10.0.0.1 ",
	    "",
	    "/8",
	    "fe80::1%eth0",
	    "2001:db8:::1",
	    "example.com",
	    "10/8",
	    "0x0a.0.0.1",
	};
	uint8_t ver, a[16], want[16];
	unsigned len;
	size_t i;

	(void)state;
	assert_int_equal(vg_cidr_parse("10.0.0.0/8", &ver, a, &len), VG_OK);
	memset(want, 0, sizeof(want));
	want[0] = 10;
	assert_int_equal(ver, 4);
	assert_int_equal(len, 8);
	assert_memory_equal(a, want, 16);

	assert_int_equal(vg_cidr_parse("192.0.2.1", &ver, a, &len), VG_OK);
	assert_int_equal(ver, 4);
	assert_int_equal(len, 32);
	assert_int_equal(a[3], 1);
	assert_int_equal(a[4], 0); /* zero past the IPv4 address */

	assert_int_equal(vg_cidr_parse("2001:db8::/32", &ver, a, &len), VG_OK);
	assert_int_equal(ver, 6);
	assert_int_equal(len, 32);
	assert_int_equal(a[0], 0x20);
	assert_int_equal(a[3], 0xb8);

	assert_int_equal(vg_cidr_parse("::1", &ver, a, &len), VG_OK);
	assert_int_equal(ver, 6);
	assert_int_equal(len, 128);
	assert_int_equal(a[15], 1);

	assert_int_equal(vg_cidr_parse("::/0", &ver, a, &len), VG_OK);
	assert_int_equal(len, 0);
	assert_int_equal(vg_cidr_parse("0.0.0.0/0", &ver, a, &len), VG_OK);
	assert_int_equal(vg_cidr_parse("192.0.2.4/31", &ver, a, &len), VG_OK);
	assert_int_equal(vg_cidr_parse("::ffff:192.0.2.1", &ver, a, &len),
			 VG_OK);
	assert_int_equal(ver, 6); /* mapped addresses stay IPv6 */

	for (i = 0; i < VG_ARRAY_LEN(bad); i++) {
		ver = 99;
		if (vg_cidr_parse(bad[i], &ver, a, &len) != VG_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(ver, 99); /* outputs untouched */
	}
	assert_int_equal(vg_cidr_parse(NULL, &ver, a, &len), VG_EINVAL);
}

static void
test_cidr_boundaries(void **state)
{
	struct vg_cidr_set *s, *all4, *all6;
	uint8_t a[16];

	(void)state;
	assert_int_equal(vg_cidr_set_new(&s), VG_OK);
	assert_int_equal(vg_cidr_set_count(s), 0);
	assert_false(in_set(s, "10.0.0.1"));
	assert_false(in_set(s, "::1"));
	add(s, "10.0.0.0/8");
	add(s, "192.0.2.4/31");
	add(s, "198.51.100.7");
	add(s, "0.0.0.0/32");
	add(s, "2001:db8::/32");
	add(s, "::1");
	add(s, "::/128");
	add(s, "2001:db8:1::/127");
	assert_int_equal(vg_cidr_set_count(s), 8);

	/* /8 */
	assert_false(in_set(s, "9.255.255.255"));
	assert_true(in_set(s, "10.0.0.0"));
	assert_true(in_set(s, "10.128.7.1"));
	assert_true(in_set(s, "10.255.255.255"));
	assert_false(in_set(s, "11.0.0.0"));
	/* /31 */
	assert_false(in_set(s, "192.0.2.3"));
	assert_true(in_set(s, "192.0.2.4"));
	assert_true(in_set(s, "192.0.2.5"));
	assert_false(in_set(s, "192.0.2.6"));
	/* /32, including the all-zero address */
	assert_true(in_set(s, "198.51.100.7"));
	assert_false(in_set(s, "198.51.100.6"));
	assert_false(in_set(s, "198.51.100.8"));
	assert_true(in_set(s, "0.0.0.0"));
	assert_false(in_set(s, "0.0.0.1"));
	assert_false(in_set(s, "128.0.0.0"));
	/* IPv6 /32 */
	assert_false(in_set(s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(in_set(s, "2001:db8::"));
	assert_true(in_set(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(in_set(s, "2001:db9::"));
	/* /128 and /127 */
	assert_true(in_set(s, "::1"));
	assert_true(in_set(s, "::"));
	assert_false(in_set(s, "::2"));
	assert_false(in_set(s, "::1:0"));
	assert_true(in_set(s, "2001:db8:1::"));
	assert_true(in_set(s, "2001:db8:1::1"));
	assert_true(in_set(s, "2001:db8:1::2")); /* but inside the /32 */

	/* The families never meet: 10.0.0.0/8's bytes read as IPv6
	 * (0a00::), 2001:db8::'s first bytes read as IPv4 (32.1.13.184). */
	parse_addr("10.1.2.3", &(uint8_t){0}, a);
	assert_false(vg_cidr_set_contains(s, 6, a));
	parse_addr("2001:db8::", &(uint8_t){0}, a);
	assert_false(vg_cidr_set_contains(s, 4, a));
	assert_false(vg_cidr_set_contains(s, 5, a));
	assert_false(vg_cidr_set_contains(s, 0, a));
	assert_false(vg_cidr_set_contains(NULL, 4, a));

	/* Duplicates count once; nested prefixes count each. */
	add(s, "10.0.0.0/8");
	add(s, "::1");
	add(s, "0.0.0.0/32");
	add(s, "198.51.100.7/32");
	assert_int_equal(vg_cidr_set_count(s), 8);
	add(s, "10.1.0.0/16");
	add(s, "10.0.0.0/7"); /* above an existing node */
	assert_int_equal(vg_cidr_set_count(s), 10);
	assert_true(in_set(s, "11.0.0.0"));
	assert_false(in_set(s, "12.0.0.0"));

	/* Bad additions leave the set as it was. */
	memset(a, 0, sizeof(a));
	a[0] = 10;
	a[3] = 1;
	assert_int_equal(vg_cidr_set_add(s, 4, a, 8), VG_EINVAL);
	assert_int_equal(vg_cidr_set_add(s, 4, a, 33), VG_EINVAL);
	assert_int_equal(vg_cidr_set_add(s, 5, a, 32), VG_EINVAL);
	assert_int_equal(vg_cidr_set_add(NULL, 4, a, 32), VG_EINVAL);
	assert_int_equal(vg_cidr_set_count(s), 10);
	assert_true(vg_cidr_set_memory(s) > 0);
	vg_cidr_set_free(s);
	vg_cidr_set_free(NULL);

	/* /0 covers its whole family and nothing of the other. */
	assert_int_equal(vg_cidr_set_new(&all4), VG_OK);
	assert_int_equal(vg_cidr_set_new(&all6), VG_OK);
	add(all4, "0.0.0.0/0");
	add(all6, "::/0");
	assert_true(in_set(all4, "0.0.0.0"));
	assert_true(in_set(all4, "1.2.3.4"));
	assert_true(in_set(all4, "255.255.255.255"));
	assert_false(in_set(all4, "::"));
	assert_false(in_set(all4, "2001:db8::1"));
	assert_true(in_set(all6, "::"));
	assert_true(in_set(all6, "2001:db8::1"));
	assert_true(in_set(all6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(in_set(all6, "0.0.0.0"));
	assert_false(in_set(all6, "1.2.3.4"));
	assert_int_equal(vg_cidr_set_count(all4), 1);
	vg_cidr_set_free(all4);
	vg_cidr_set_free(all6);
}

/*
 * The trie against a linear scan: many nested and diverging prefixes
 * (drawn near a few bases so they overlap), queried at random addresses
 * that share a random-length prefix with a listed one.
 */
struct pfx {
	uint8_t a[16];
	unsigned len;
};

static bool
pfx_has(const struct pfx *p, const uint8_t *a)
{
	unsigned i;

	for (i = 0; i < p->len; i++)
		if (((a[i / 8] ^ p->a[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static void
mask_to(uint8_t *a, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = len; i < bits; i++)
		a[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static void
random_family(uint8_t ver, uint64_t seed)
{
	enum { NPFX = 400, NQ = 40000 };
	unsigned bits = ver == 4 ? 32 : 128, i, j, k, distinct = 0;
	struct pfx *p = calloc(NPFX, sizeof(*p));
	struct vg_cidr_set *s;
	uint8_t q[16];

	assert_non_null(p);
	assert_int_equal(vg_cidr_set_new(&s), VG_OK);
	for (i = 0; i < NPFX; i++) {
		/* One of four bases, then random bits from a random depth. */
		uint64_t base = rnd(&seed) % 4;
		unsigned keep = (unsigned)(rnd(&seed) % (bits / 2));

		memset(p[i].a, 0, 16);
		for (j = 0; j < bits / 8; j++)
			p[i].a[j] = (uint8_t)rnd(&seed);
		p[i].a[0] = (uint8_t)(0x20 + base);
		/* Keep the bases' high bits often, to make prefixes nest. */
		if (i > 0 && rnd(&seed) % 2) {
			memcpy(p[i].a, p[rnd(&seed) % i].a, 16);
			for (j = keep; j < bits; j++)
				if (rnd(&seed) % 2)
					p[i].a[j / 8] ^=
					    (uint8_t)(0x80u >> (j % 8));
		}
		p[i].len = 1 + (unsigned)(rnd(&seed) % bits);
		mask_to(p[i].a, p[i].len, bits);
		assert_int_equal(vg_cidr_set_add(s, ver, p[i].a, p[i].len),
				 VG_OK);
	}
	for (i = 0; i < NPFX; i++) {
		for (j = 0; j < i; j++)
			if (p[j].len == p[i].len &&
			    memcmp(p[j].a, p[i].a, 16) == 0)
				break;
		distinct += j == i;
	}
	assert_int_equal(vg_cidr_set_count(s), distinct);

	for (k = 0; k < NQ; k++) {
		const struct pfx *near = &p[rnd(&seed) % NPFX];
		unsigned from = (unsigned)(rnd(&seed) % (bits + 1));
		bool want = false;

		memcpy(q, near->a, 16);
		for (j = from; j < bits; j++)
			if (rnd(&seed) % 2)
				q[j / 8] ^= (uint8_t)(0x80u >> (j % 8));
		for (i = 0; i < NPFX && !want; i++)
			want = pfx_has(&p[i], q);
		if (vg_cidr_set_contains(s, ver, q) != want)
			fail_msg("IPv%u query %u: want %d", ver, k, want);
	}
	vg_cidr_set_free(s);
	free(p);
}

static void
test_cidr_random(void **state)
{
	(void)state;
	random_family(4, 0x1234567887654321ULL);
	random_family(6, 0x0badc0ffee15600dULL);
}

/* ------------------------------------------------------------------ */

static void
test_ip_list(void **state)
{
	struct vg_ioc_list *l;

	(void)state;
	l = load_ok(VG_IOC_IP, "ip.csv",
		    "# A feed in CSV, with CRLF line ends\r\n"
		    "\"ip_address\",\"first_seen\",\"comment\"\r\n"
		    "\"192.0.2.1\",\"2024-01-01\",\"c2, known\"\r\n"
		    "198.51.100.0/24 # a comment\r\n"
		    "\r\n"
		    "   # an indented comment\r\n"
		    "\t\r\n"
		    "2001:db8::/32;ignored\r\n"
		    "203.0.113.9\tfirst_seen\r\n"
		    "192.0.2.1,again\r\n"
		    " \" 10.0.0.1 \" , spaced\r\n"
		    "::1#comment\r\n"
		    "2001:db8::/32"); /* no final line end */
	assert_string_equal(vg_ioc_list_name(l), "test");
	assert_int_equal(vg_ioc_list_type(l), VG_IOC_IP);
	assert_int_equal(vg_ioc_list_count(l), 6);
	assert_true(in_list(l, "192.0.2.1"));
	assert_false(in_list(l, "192.0.2.2"));
	assert_true(in_list(l, "198.51.100.0"));
	assert_true(in_list(l, "198.51.100.255"));
	assert_false(in_list(l, "198.51.101.0"));
	assert_true(in_list(l, "2001:db8:1234::5"));
	assert_true(in_list(l, "203.0.113.9"));
	assert_true(in_list(l, "10.0.0.1"));
	assert_true(in_list(l, "::1"));
	assert_false(in_list(l, "10.0.0.2"));
	/* Lookups of another type are no match. */
	assert_false(vg_ioc_match_domain(l, "192.0.2.1"));
	assert_false(vg_ioc_match_hash(l, "e7d705a3286e19ea42f587b344ee6865"));
	assert_false(vg_ioc_match_ip(NULL, 4, (const uint8_t[16]){0}));
	assert_true(vg_ioc_list_memory(l) > 0);
	vg_ioc_list_free(l);
	vg_ioc_list_free(NULL);

	/* Empty files, and files of comments only, are empty lists. */
	l = load_ok(VG_IOC_IP, "empty.txt", "");
	assert_int_equal(vg_ioc_list_count(l), 0);
	assert_false(in_list(l, "0.0.0.0"));
	vg_ioc_list_free(l);
	l = load_ok(VG_IOC_IP, "comments.txt", "# nothing\n\n#\n");
	assert_int_equal(vg_ioc_list_count(l), 0);
	vg_ioc_list_free(l);
}

static void
test_domain_list(void **state)
{
	struct vg_ioc_list *l;
	char name[300];
	size_t n;

	(void)state;
	l = load_ok(VG_IOC_DOMAIN, "dom.txt",
		    "# header after a comment is still the first line\n"
		    "domain\n"
		    "example.com\n"
		    "*.Evil.ORG.\n"
		    ".dot.net\n"
		    "xn--bcher-kva.example\n"
		    "under_score.test,2024-05-01\n"
		    "EXAMPLE.com\n"
		    "\"example.com.\"\n");
	assert_int_equal(vg_ioc_list_count(l), 5);

	assert_true(vg_ioc_match_domain(l, "example.com"));
	assert_true(vg_ioc_match_domain(l, "EXAMPLE.CoM"));
	assert_true(vg_ioc_match_domain(l, "example.com."));
	assert_true(vg_ioc_match_domain(l, "sub.example.com"));
	assert_true(vg_ioc_match_domain(l, "a.b.c.Example.COM."));
	assert_false(vg_ioc_match_domain(l, "badexample.com"));
	assert_false(vg_ioc_match_domain(l, "example.co"));
	assert_false(vg_ioc_match_domain(l, "ample.com"));
	assert_false(vg_ioc_match_domain(l, "example.com.evil"));
	assert_false(vg_ioc_match_domain(l, "example.com.."));
	assert_false(vg_ioc_match_domain(l, "com"));
	assert_false(vg_ioc_match_domain(l, "example"));
	assert_false(vg_ioc_match_domain(l, ""));
	assert_false(vg_ioc_match_domain(l, "."));
	assert_false(vg_ioc_match_domain(l, NULL));
	/* "*." and "." in the file are dropped: the parent matches too. */
	assert_true(vg_ioc_match_domain(l, "evil.org"));
	assert_true(vg_ioc_match_domain(l, "x.evil.org"));
	assert_false(vg_ioc_match_domain(l, "org"));
	assert_false(vg_ioc_match_domain(l, "notevil.org"));
	assert_true(vg_ioc_match_domain(l, "dot.net"));
	assert_true(vg_ioc_match_domain(l, "www.dot.net"));
	assert_true(vg_ioc_match_domain(l, "XN--BCHER-KVA.example"));
	assert_true(vg_ioc_match_domain(l, "_dmarc.under_score.test"));
	/* Names as long as DNS allows still match; longer ones never. */
	memset(name, 0, sizeof(name));
	for (n = 0; n + 2 + strlen("example.com") <= 253; n += 2)
		memcpy(name + n, "a.", 2);
	strcpy(name + n, "example.com");
	assert_true(strlen(name) <= 253);
	assert_true(strlen(name) >= 252);
	assert_true(vg_ioc_match_domain(l, name));
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name + sizeof(name) - 1 - strlen(".example.com"), ".example.com",
	       strlen(".example.com"));
	assert_false(vg_ioc_match_domain(l, name));
	/* Other lookups on a domain list. */
	assert_false(vg_ioc_match_hash(l, "e7d705a3286e19ea42f587b344ee6865"));
	assert_false(in_list(l, "192.0.2.1"));
	vg_ioc_list_free(l);
}

static void
test_hash_lists(void **state)
{
	static const char ja3a[] = "e7d705a3286e19ea42f587b344ee6865";
	static const char ja3b[] = "6734f37431670b3ab4292b8f60f29984";
	struct vg_ioc_list *j, *s;

	(void)state;
	j = load_ok(VG_IOC_JA3, "ja3.csv",
		    "ja3_md5,description\n"
		    "E7D705A3286E19EA42F587B344EE6865,Tor client\n"
		    "e7d705a3286e19ea42f587b344ee6865\n"
		    "  6734f37431670B3AB4292B8F60F29984  # trickbot\n"
		    "00000000000000000000000000000000\n");
	assert_int_equal(vg_ioc_list_count(j), 3);
	assert_true(vg_ioc_match_hash(j, ja3a));
	assert_true(vg_ioc_match_hash(j, "E7D705A3286E19EA42F587B344EE6865"));
	assert_true(vg_ioc_match_hash(j, ja3b));
	assert_true(vg_ioc_match_hash(j, "00000000000000000000000000000000"));
	assert_false(vg_ioc_match_hash(j, "e7d705a3286e19ea42f587b344ee6866"));
	assert_false(vg_ioc_match_hash(j, "e7d705a3286e19ea42f587b344ee686"));
	assert_false(vg_ioc_match_hash(j, "e7d705a3286e19ea42f587b344ee68650"));
	assert_false(vg_ioc_match_hash(j, "g7d705a3286e19ea42f587b344ee6865"));
	assert_false(vg_ioc_match_hash(j, ""));
	assert_false(vg_ioc_match_hash(j, NULL));
	assert_false(vg_ioc_match_hash(j, SHA));
	assert_false(vg_ioc_match_domain(j, ja3a));

	s = load_ok(VG_IOC_SHA256, "sha.txt",
		    "sha256_hash\n"
		    "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0"
		    "F00A08\n" SHA "\n");
	assert_int_equal(vg_ioc_list_count(s), 1);
	assert_true(vg_ioc_match_hash(s, SHA));
	assert_true(vg_ioc_match_hash(s, "9F86d081884c7d659a2feaa0c55ad015a3bf4"
					 "f1b2b0b822cd15d6c15b0f00A08"));
	assert_false(vg_ioc_match_hash(s, "9f86d081884c7d659a2feaa0c55ad015a3bf"
					  "4f1b2b0b822cd15d6c15b0f00a09"));
	assert_false(vg_ioc_match_hash(s, ja3a)); /* a JA3 in a sha256 list */
	vg_ioc_list_free(j);
	vg_ioc_list_free(s);

	/* Wrong lengths and digits are refused with their line. */
	load_fails(
	    VG_IOC_JA3, "ja3-bad.txt",
	    "e7d705a3286e19ea42f587b344ee6865\n"
	    "e7d705a3286e19ea42f587b344ee686\n"
	    "e7d705a3286e19ea42f587b344ee68650\n"
	    "x7d705a3286e19ea42f587b344ee6865\n" SHA "\n",
	    VG_EINVAL,
	    "%s:2: not a JA3 hash (32 hex digits): "
	    "\"e7d705a3286e19ea42f587b344ee686\"\n"
	    "%s:3: not a JA3 hash (32 hex digits): "
	    "\"e7d705a3286e19ea42f587b344ee68650\"\n"
	    "%s:4: not a JA3 hash (32 hex digits): "
	    "\"x7d705a3286e19ea42f587b344ee6865\"\n"
	    "%s:5: not a JA3 hash (32 hex digits): "
	    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f0"
	    "0a08\"\n");
	/* A cut hash on the first line is an error, not a header. */
	load_fails(VG_IOC_JA3, "ja3-cut.txt",
		   "e7d705a3286e19ea42f587b344ee686\n"
		   "6734f37431670b3ab4292b8f60f29984\n",
		   VG_EINVAL,
		   "%s:1: not a JA3 hash (32 hex digits): "
		   "\"e7d705a3286e19ea42f587b344ee686\"\n");
	load_fails(VG_IOC_JA3, "ja3-hexword.txt", "facade\n", VG_EINVAL,
		   "%s:1: not a JA3 hash (32 hex digits): \"facade\"\n");
	load_fails(VG_IOC_SHA256, "sha-bad.txt",
		   "# header must come first\n" SHA "\n"
		   "sha256\n" /* not first: an error */
		   "e7d705a3286e19ea42f587b344ee6865\n",
		   VG_EINVAL,
		   "%s:3: not a SHA-256 hash (64 hex digits): \"sha256\"\n"
		   "%s:4: not a SHA-256 hash (64 hex digits): "
		   "\"e7d705a3286e19ea42f587b344ee6865\"\n");
}

/* ------------------------------------------------------------------ */

static void
test_errors_ip(void **state)
{
	(void)state;
	load_fails(
	    VG_IOC_IP, "ip-bad.txt",
	    "# line 1\n"
	    "192.0.2.1\n"
	    "10.0.0.1/8\n"
	    "ip,first_seen\n"
	    "300.1.1.1\n"
	    "10.0.0.0/33\r\n"
	    "\x01"
	    "a\\b\xff\"x\n"
	    ",no value\n"
	    "2001:db8::1/32\n"
	    "1.2.3.4 5.6.7.8\n"
	    "\"\"\n"
	    "192.0.2.2\n",
	    VG_EINVAL,
	    "%s:3: host bits set past the prefix length: \"10.0.0.1/8\"\n"
	    "%s:4: not an IPv4/IPv6 address or prefix: \"ip\"\n"
	    "%s:5: not an IPv4/IPv6 address or prefix: \"300.1.1.1\"\n"
	    "%s:6: bad prefix length: \"10.0.0.0/33\"\n"
	    "%s:7: not an IPv4/IPv6 address or prefix: "
	    "\"\\x01a\\\\b\\xff\\\"x\"\n"
	    "%s:8: empty value\n"
	    "%s:9: host bits set past the prefix length: "
	    "\"2001:db8::1/32\"\n"
	    "%s:10: not an IPv4/IPv6 address or prefix: "
	    "\"1.2.3.4 5.6.7.8\"\n"
	    "%s:11: empty value\n");
	/* A header must be letters and underscores only. */
	load_fails(
	    VG_IOC_IP, "ip-header.txt", "ip-address\n192.0.2.1\n", VG_EINVAL,
	    "%s:1: not an IPv4/IPv6 address or prefix: \"ip-address\"\n");
	/* Two header-like lines: only the first is a header. */
	load_fails(VG_IOC_IP, "ip-2headers.txt", "ip\naddress\n", VG_EINVAL,
		   "%s:2: not an IPv4/IPv6 address or prefix: \"address\"\n");
}

static void
test_errors_domain(void **state)
{
	char label[70];
	char *text;

	(void)state;
	memset(label, 'a', 64);
	label[64] = '\0';
	text = strf("http://example.com/path\n"
		    "example.com:443\n"
		    "exa mple.com\n"
		    "b\xc3\xbc"
		    "cher.de\n"
		    "a..b.com\n"
		    "com\n"
		    "%s.com\n"
		    "*example.com\n"
		    "*.\n"
		    "example.com\n"
		    "example.com..\n"
		    "2001:db8::1\n",
		    label);
	load_fails(VG_IOC_DOMAIN, "dom-bad.txt", text, VG_EINVAL,
		   "%s:1: not a domain ('/' found: URLs are not accepted): "
		   "\"http://example.com/path\"\n"
		   "%s:2: not a domain (':' found: URLs, ports and IPv6 "
		   "addresses are not accepted): \"example.com:443\"\n"
		   "%s:3: invalid character in domain: \"exa mple.com\"\n"
		   "%s:4: non-ASCII domain (use its punycode xn-- form): "
		   "\"b\\xc3\\xbccher.de\"\n"
		   "%s:5: empty label in domain: \"a..b.com\"\n"
		   "%s:6: not a domain (needs at least two labels): \"com\"\n"
		   "%s:7: domain label longer than 63 characters: "
		   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaa...\"\n"
		   "%s:8: invalid character in domain: \"*example.com\"\n"
		   "%s:9: empty domain: \"*.\"\n"
		   "%s:11: empty label in domain: \"example.com..\"\n"
		   "%s:12: not a domain (':' found: URLs, ports and IPv6 "
		   "addresses are not accepted): \"2001:db8::1\"\n");
	free(text);
}

/* Long lines, the error budget, and the line count through both. */
static void
test_errors_limits(void **state)
{
	char *text, *p, *want;
	size_t big = 100000, i;
	FILE *f;
	size_t len;

	(void)state;
	/* A line of exactly VG_IOC_MAX_LINE bytes (with or without CR) is
	 * fine; one byte more is not; one longer than the read buffer is
	 * skipped whole and counted as one line. */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fprintf(f, "192.0.2.1,");
	for (i = strlen("192.0.2.1,"); i < VG_IOC_MAX_LINE; i++)
		fputc('x', f);
	fprintf(f, "\n192.0.2.2,");
	for (i = strlen("192.0.2.2,"); i < VG_IOC_MAX_LINE; i++)
		fputc('x', f);
	fprintf(f, "\r\n192.0.2.3,");
	for (i = strlen("192.0.2.3,"); i < VG_IOC_MAX_LINE + 1; i++)
		fputc('x', f);
	fprintf(f, "\n192.0.2.4\n");
	for (i = 0; i < big; i++)
		fputc('y', f);
	fprintf(f, "\n192.0.2.5\nbad\n");
	for (i = 0; i < big; i++)
		fputc('z', f); /* and no line end at all */
	assert_int_equal(fclose(f), 0);
	load_fails(VG_IOC_IP, "long.txt", text, VG_EINVAL,
		   "%s:3: line longer than 4096 bytes\n"
		   "%s:5: line longer than 4096 bytes\n"
		   "%s:7: not an IPv4/IPv6 address or prefix: \"bad\"\n"
		   "%s:8: line longer than 4096 bytes\n");
	free(text);

	/* 25 bad lines: 20 reported, then a count of the rest. */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	for (i = 1; i <= 25; i++)
		fprintf(f, "bad%zu\n", i);
	assert_int_equal(fclose(f), 0);
	f = open_memstream(&want, &len);
	assert_non_null(f);
	for (i = 1; i <= 20; i++)
		fprintf(f,
			"%%s:%zu: not an IPv4/IPv6 address or prefix: "
			"\"bad%zu\"\n",
			i, i);
	fprintf(f, "%%s: 5 more errors\n");
	assert_int_equal(fclose(f), 0);
	load_fails(VG_IOC_IP, "many.txt", text, VG_EINVAL, want);
	free(text);
	free(want);

	/* errs may be NULL. */
	p = write_file("null-errs.txt", "10.0.0.1/8\n");
	{
		struct vg_ioc_list *l = (struct vg_ioc_list *)&l;

		assert_int_equal(vg_ioc_list_load(&l, "x", VG_IOC_IP, p, NULL),
				 VG_EINVAL);
		assert_ptr_equal(l, (struct vg_ioc_list *)&l); /* untouched */
	}
	free(p);
}

static void
test_unreadable(void **state)
{
	struct vg_ioc_list *l = NULL;
	struct result r;
	char *p = path_of("does-not-exist.txt");
	char *want;

	(void)state;
	r = load(VG_IOC_IP, p);
	assert_int_equal(r.err, VG_EIO);
	want = strf("%s:0: cannot open: No such file or directory\n", p);
	assert_string_equal(r.out, want);
	free(want);
	result_free(&r);
	assert_int_equal(vg_ioc_list_load(&l, "x", VG_IOC_IP, p, NULL), VG_EIO);
	assert_null(l);
	free(p);

	/* A directory opens, then fails to read. */
	r = load(VG_IOC_DOMAIN, tmpdir);
	assert_int_equal(r.err, VG_EIO);
	want = strf("%s:0: cannot read: Is a directory\n", tmpdir);
	assert_string_equal(r.out, want);
	free(want);
	result_free(&r);

	/* Names with control characters are escaped in the report. */
	p = path_of("bad\nname\x1b");
	r = load(VG_IOC_IP, p);
	assert_int_equal(r.err, VG_EIO);
	want = strf("%s/bad\\x0aname\\x1b:0: cannot open: No such file "
		    "or directory\n",
		    tmpdir);
	assert_string_equal(r.out, want);
	free(want);
	result_free(&r);
	free(p);

	/* Bad arguments. */
	assert_int_equal(vg_ioc_list_load(NULL, "x", VG_IOC_IP, tmpdir, NULL),
			 VG_EINVAL);
	assert_int_equal(vg_ioc_list_load(&l, NULL, VG_IOC_IP, tmpdir, NULL),
			 VG_EINVAL);
	assert_int_equal(vg_ioc_list_load(&l, "x", VG_IOC_IP, NULL, NULL),
			 VG_EINVAL);
	assert_int_equal(
	    vg_ioc_list_load(&l, "x", (enum vg_ioc_type)9, tmpdir, NULL),
	    VG_EINVAL);
	assert_null(l);
}

/* ------------------------------------------------------------------ */
/* A million entries                                                   */
/* ------------------------------------------------------------------ */

/* The i-th address: multiplying by an odd constant modulo 2^32 is a
 * bijection, so addresses of different i differ. */
static uint32_t
big_addr(uint32_t i)
{
	return (i * 2654435761u) ^ 0x5bd1e995u;
}

static void
big_addr_bytes(uint32_t i, uint8_t a[16])
{
	uint32_t v = htonl(big_addr(i));

	memset(a, 0, 16);
	memcpy(a, &v, 4);
}

static void
big_domain(uint32_t i, char *buf, size_t n)
{
	snprintf(buf, n, "h%x-%u.zone%u.test", i * 2654435761u, i, i % 997);
}

struct worker {
	const struct vg_ioc_list *ip, *dom;
	unsigned misses; /* wrong answers */
};

/* Every thread checks the same members and non-members at once. */
static void *
look_up(void *arg)
{
	struct worker *w = arg;
	char name[80];
	uint8_t a[16];
	uint32_t i;

	for (i = 0; i < BIG; i += STRIDE / 4) {
		big_addr_bytes(i, a);
		w->misses += !vg_ioc_match_ip(w->ip, 4, a);
		big_addr_bytes(BIG + i, a);
		w->misses += vg_ioc_match_ip(w->ip, 4, a);
		big_domain(i, name, sizeof(name));
		w->misses += !vg_ioc_match_domain(w->dom, name);
		big_domain(BIG + i, name, sizeof(name));
		w->misses += vg_ioc_match_domain(w->dom, name);
	}
	return NULL;
}

static void
test_big_lists(void **state)
{
	char *pip = path_of("big-ip.txt"), *pdom = path_of("big-dom.txt");
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct vg_ioc_list *ip, *dom;
	struct result r;
	char name[100];
	uint8_t a[16];
	double t0, t_ip, t_dom;
	FILE *f;
	uint32_t i;

	(void)state;
	f = fopen(pip, "w");
	assert_non_null(f);
	fprintf(f, "ip,first_seen\n");
	for (i = 0; i < BIG; i++) {
		uint32_t v = big_addr(i);

		fprintf(f, "%u.%u.%u.%u,2024-01-01\n", v >> 24, (v >> 16) & 255,
			(v >> 8) & 255, v & 255);
	}
	assert_int_equal(fclose(f), 0);
	f = fopen(pdom, "w");
	assert_non_null(f);
	for (i = 0; i < BIG; i++) {
		big_domain(i, name, sizeof(name));
		fprintf(f, "%s\n", name);
	}
	assert_int_equal(fclose(f), 0);

	t0 = now_s();
	r = load(VG_IOC_IP, pip);
	t_ip = now_s() - t0;
	assert_int_equal(r.err, VG_OK);
	assert_string_equal(r.out, "");
	free(r.out);
	ip = r.l;
	t0 = now_s();
	r = load(VG_IOC_DOMAIN, pdom);
	t_dom = now_s() - t0;
	assert_int_equal(r.err, VG_OK);
	assert_string_equal(r.out, "");
	free(r.out);
	dom = r.l;

	printf("[ INFO     ] 1M IPv4: %.2f s, %.1f bytes/entry; "
	       "1M domains: %.2f s, %.1f bytes/entry\n",
	       t_ip, (double)vg_ioc_list_memory(ip) / BIG, t_dom,
	       (double)vg_ioc_list_memory(dom) / BIG);
	assert_int_equal(vg_ioc_list_count(ip), BIG);
	assert_int_equal(vg_ioc_list_count(dom), BIG);
	/* The memory target for host-route feeds. */
	assert_true(vg_ioc_list_memory(ip) < 48 * (size_t)BIG);

	for (i = 0; i < BIG; i += STRIDE) {
		big_addr_bytes(i, a);
		assert_true(vg_ioc_match_ip(ip, 4, a));
		assert_false(vg_ioc_match_ip(ip, 6, a));
		big_addr_bytes(BIG + i, a);
		assert_false(vg_ioc_match_ip(ip, 4, a));

		big_domain(i, name, sizeof(name));
		assert_true(vg_ioc_match_domain(dom, name));
		memmove(name + 4, name, strlen(name) + 1);
		memcpy(name, "WWW.", 4);
		assert_true(vg_ioc_match_domain(dom, name));
		/* The parent zone is not listed. */
		assert_false(
		    vg_ioc_match_domain(dom, strchr(name + 4, '.') + 1));
		big_domain(BIG + i, name, sizeof(name));
		assert_false(vg_ioc_match_domain(dom, name));
	}

	/* Concurrent lookups from several threads on the same lists. */
	for (i = 0; i < THREADS; i++) {
		w[i].ip = ip;
		w[i].dom = dom;
		w[i].misses = 0;
		assert_int_equal(pthread_create(&th[i], NULL, look_up, &w[i]),
				 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].misses, 0);
	}

	vg_ioc_list_free(ip);
	vg_ioc_list_free(dom);
	unlink(pip);
	unlink(pdom);
	free(pip);
	free(pdom);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_cidr_boundaries),
	    cmocka_unit_test(test_cidr_random),
	    cmocka_unit_test(test_ip_list),
	    cmocka_unit_test(test_domain_list),
	    cmocka_unit_test(test_hash_lists),
	    cmocka_unit_test(test_errors_ip),
	    cmocka_unit_test(test_errors_domain),
	    cmocka_unit_test(test_errors_limits),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_big_lists),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
