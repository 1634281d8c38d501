/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GeoIP/ASN lookups in MaxMind DB files through libmaxminddb, the address
 * classes that are never looked up, and the per-worker lookup cache.
 *
 * Workers call vg_geo_cache_lookup() for the addresses of a flow that
 * raised an alert or that a rule asks about; the cache answers repeated
 * addresses without touching the database. The files are mapped
 * (MMDB_MODE_MMAP) and never written by libmaxminddb after MMDB_open, which
 * is what makes concurrent lookups on one MMDB_s safe. A database replaced
 * on disk must be replaced by rename, never rewritten in place: a mapped
 * file cut short under us would fault (SIGBUS) on the next lookup.
 *
 * The files are trusted no more than a packet: libmaxminddb bounds-checks
 * the offsets it follows, and we check every type and length it gives back
 * (a country code is two letters, a number is a number, text is valid
 * UTF-8 without control characters).
 */
#include "geoip.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <maxminddb.h>

/* What a database holds, as seen on a sample of its records. */
enum {
	LAYOUT_COUNTRY = 1 << 0,
	LAYOUT_ASN = 1 << 1,
};

/*
 * Bounds of the layout check at open: enough records to see past a few odd
 * ones at the start of the tree, few enough nodes that a hostile file with
 * loops in its tree costs nothing. A well-formed tree is at most 128 levels
 * deep, so the depth-first walk never needs more than 129 stack entries.
 */
#define PROBE_RECORDS 64
#define PROBE_NODES   4096
#define PROBE_STACK   160

#define CACHE_DEFAULT_SLOTS 4096u
#define CACHE_MAX_SLOTS     (1u << 20)

struct db {
	MMDB_s mmdb;
	bool open;
	char *path; /* owned copy, for vg_geoip_describe */
};

struct vg_geoip {
	struct db country;
	struct db asn;
	/*
	 * Written by any worker while the handle itself is shared read-only
	 * (lookups take a const pointer), hence kept out of line.
	 */
	_Atomic uint64_t *errors;
};

/*
 * Paths to a country code, tried in order. GeoLite2/GeoIP2 and DB-IP:
 * the country where the address is used, else the one where the network
 * is registered (GeoLite2 leaves "country" out for some anycast and
 * satellite networks). ip-location-db: one top-level key.
 */
static const char *const country_paths[][3] = {
    {"country", "iso_code", NULL},
    {"registered_country", "iso_code", NULL},
    {"country_code", NULL, NULL},
};

/* A bounded string builder: appends that do not fit are cut, and the
 * result is always NUL-terminated (when there is room for the NUL). */
struct sb {
	char *p;
	size_t len, cap;
};

static void
sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	if (cap > 0)
		p[0] = '\0';
}

static void
sb_putc(struct sb *b, char c)
{
	if (b->cap == 0 || b->len + 1 >= b->cap)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->cap == 0 || b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		b->p[b->len] = '\0';
	else if ((size_t)n >= b->cap - b->len)
		b->len = b->cap - 1;
	else
		b->len += (size_t)n;
}

/*
 * Text from outside (a path from the configuration, a database type from
 * a file) goes into log lines: anything but printable ASCII becomes \xNN,
 * so it can neither forge a line nor hide in one.
 */
static void
sb_escaped(struct sb *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if (*u >= 0x20 && *u < 0x7f && *u != '\\') {
			sb_putc(b, (char)*u);
			continue;
		}
		sb_putc(b, '\\');
		sb_putc(b, 'x');
		sb_putc(b, hex[*u >> 4]);
		sb_putc(b, hex[*u & 0xf]);
	}
}

static void seterr(char *err, size_t errlen, const char *path, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static void
seterr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	struct sb b;
	va_list ap;
	char msg[256];

	sb_init(&b, err, errlen);
	if (path != NULL) {
		sb_escaped(&b, path);
		sb_printf(&b, ": ");
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&b, "%s", msg);
}

/*
 * Copy n bytes of database text into dst (size bytes, NUL-terminated).
 * A character that does not fit ends the copy, so the result is never cut
 * inside a UTF-8 sequence. Control characters (which could forge log
 * lines) and bytes that are not UTF-8 become '?': the JSON encoder would
 * otherwise turn them into U+FFFD, three bytes we may not have room for.
 */
static void
copy_text(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, len;

	while (i < n) {
		len = vg_utf8_len(s + i, n - i);
		if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= size)
			break;
		memcpy(dst + o, s + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
}

static void
count_error(_Atomic uint64_t *errors)
{
	if (errors != NULL)
		atomic_fetch_add_explicit(errors, 1, memory_order_relaxed);
}

/*
 * The value at path under e, if there is one. A path that is absent or
 * does not match the data's shape is a normal miss (each layout lacks the
 * others' keys); any other status means a corrupt data section and is
 * counted.
 */
static bool
get_path(MMDB_entry_s *e, const char *const *path, MMDB_entry_data_s *d,
	 _Atomic uint64_t *errors)
{
	int st;

	st = MMDB_aget_value(e, d, path);
	if (st == MMDB_SUCCESS)
		return d->has_data;
	if (st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR &&
	    st != MMDB_INVALID_LOOKUP_PATH_ERROR)
		count_error(errors);
	return false;
}

/* Two ASCII letters, upper-cased into cc. "ZZ", which DB-IP and others
 * use for "unknown", is unknown here too. */
static bool
country_of(MMDB_entry_s *e, char cc[3], _Atomic uint64_t *errors)
{
	MMDB_entry_data_s d;
	size_t i;
	char a, b;

	for (i = 0; i < VG_ARRAY_LEN(country_paths); i++) {
		if (!get_path(e, country_paths[i], &d, errors) ||
		    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
			continue;
		a = (char)(d.utf8_string[0] & ~0x20);
		b = (char)(d.utf8_string[1] & ~0x20);
		if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
			continue;
		if (a == 'Z' && b == 'Z')
			continue;
		cc[0] = a;
		cc[1] = b;
		cc[2] = '\0';
		return true;
	}
	return false;
}

/*
 * An AS number written as text: "64500" or "AS64500" (either case), at
 * most 10 digits and no more than UINT32_MAX. Anything else is refused.
 */
static bool
parse_asn(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (n >= 2 && (s[0] == 'A' || s[0] == 'a') &&
	    (s[1] == 'S' || s[1] == 's'))
		i = 2;
	if (i == n || n - i > 10)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * autonomous_system_number: a uint32 in GeoLite2-ASN, DB-IP and
 * ip-location-db (checked against its generator), but third-party
 * converters write other integer types or text, so all are read. 0 is
 * reserved (RFC 7607) and means unknown.
 */
static bool
asn_of(MMDB_entry_s *e, uint32_t *asn, _Atomic uint64_t *errors)
{
	static const char *const path[] = {"autonomous_system_number", NULL};
	MMDB_entry_data_s d;
	uint32_t v;

	if (!get_path(e, path, &d, errors))
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		v = d.uint16;
		break;
	case MMDB_DATA_TYPE_UINT32:
		v = d.uint32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		if (d.uint64 > UINT32_MAX)
			return false;
		v = (uint32_t)d.uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 < 0)
			return false;
		v = (uint32_t)d.int32;
		break;
	case MMDB_DATA_TYPE_UTF8_STRING:
		if (!parse_asn(d.utf8_string, d.data_size, &v))
			return false;
		break;
	default:
		return false;
	}
	if (v == 0)
		return false;
	*asn = v;
	return true;
}

static void
org_of(MMDB_entry_s *e, char *org, size_t size, _Atomic uint64_t *errors)
{
	static const char *const path[] = {"autonomous_system_organization",
					   NULL};
	MMDB_entry_data_s d;

	if (get_path(e, path, &d, errors) &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING)
		copy_text(org, size, d.utf8_string, d.data_size);
}

static unsigned
record_layouts(MMDB_entry_s *e)
{
	unsigned l = 0;
	uint32_t asn;
	char cc[3];

	if (country_of(e, cc, NULL))
		l |= LAYOUT_COUNTRY;
	if (asn_of(e, &asn, NULL))
		l |= LAYOUT_ASN;
	return l;
}

/*
 * Which layouts the database holds: a depth-first walk of the search tree
 * from the root, lower addresses first, looking at the first
 * PROBE_RECORDS data records it reaches. libmaxminddb has no record
 * iterator, and looking up chosen addresses would miss in a small or
 * regional file. Aliased subtrees (::ffff:0:0/96 -> ::/96) are walked
 * again; the bounds keep that, and any loop in a hostile tree, cheap.
 */
static unsigned
probe_layouts(const MMDB_s *mmdb)
{
	uint32_t stack[PROBE_STACK];
	size_t sp = 0;
	unsigned nodes = 0, records = 0, layouts = 0;
	MMDB_search_node_s n;
	struct {
		uint8_t type;
		uint64_t rec;
		MMDB_entry_s entry;
	} half[2];
	int i;

	stack[sp++] = 0;
	while (sp > 0 && nodes < PROBE_NODES && records < PROBE_RECORDS) {
		nodes++;
		if (MMDB_read_node(mmdb, stack[--sp], &n) != MMDB_SUCCESS)
			break;
		/* Right pushed first, so the left (lower) half comes first. */
		half[0].type = n.right_record_type;
		half[0].rec = n.right_record;
		half[0].entry = n.right_record_entry;
		half[1].type = n.left_record_type;
		half[1].rec = n.left_record;
		half[1].entry = n.left_record_entry;
		for (i = 0; i < 2; i++) {
			if (half[i].type == MMDB_RECORD_TYPE_DATA) {
				layouts |= record_layouts(&half[i].entry);
				records++;
				continue;
			}
			if (half[i].type == MMDB_RECORD_TYPE_SEARCH_NODE &&
			    half[i].rec < mmdb->metadata.node_count &&
			    sp < PROBE_STACK)
				stack[sp++] = (uint32_t)half[i].rec;
		}
	}
	return layouts;
}

static void
db_close(struct db *d)
{
	if (d->open)
		MMDB_close(&d->mmdb);
	d->open = false;
	free(d->path);
	d->path = NULL;
}

static enum vg_err
db_open(struct db *d, const char *path, unsigned want, char *err, size_t errlen)
{
	int st, saved;

	errno = 0;
	st = MMDB_open(path, MMDB_MODE_MMAP, &d->mmdb);
	saved = errno;
	if (st != MMDB_SUCCESS) {
		/* MMDB_open has already released what it had taken. */
		if ((st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) &&
		    saved != 0)
			seterr(err, errlen, path, "%s: %s", MMDB_strerror(st),
			       strerror(saved));
		else
			seterr(err, errlen, path, "%s", MMDB_strerror(st));
		switch (st) {
		case MMDB_FILE_OPEN_ERROR:
		case MMDB_IO_ERROR:
			return VG_EIO;
		case MMDB_OUT_OF_MEMORY_ERROR:
			return VG_ENOMEM;
		default:
			return VG_EMALFORMED;
		}
	}
	d->open = true;
	if ((probe_layouts(&d->mmdb) & want) == 0) {
		if (want == LAYOUT_COUNTRY)
			seterr(err, errlen, path,
			       "no country code in a layout we know "
			       "(country.iso_code, registered_country.iso_code "
			       "or country_code)");
		else
			seterr(err, errlen, path,
			       "no AS number in a layout we know "
			       "(autonomous_system_number)");
		return VG_EINVAL;
	}
	d->path = strdup(path);
	if (d->path == NULL) {
		seterr(err, errlen, path, "out of memory");
		return VG_ENOMEM;
	}
	return VG_OK;
}

enum vg_err
vg_geoip_open(struct vg_geoip **out, const char *country_db, const char *asn_db,
	      char *err, size_t errlen)
{
	struct vg_geoip *g;
	enum vg_err rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (country_db != NULL && country_db[0] == '\0')
		country_db = NULL;
	if (asn_db != NULL && asn_db[0] == '\0')
		asn_db = NULL;
	if (country_db == NULL && asn_db == NULL) {
		seterr(err, errlen, NULL, "no GeoIP database given");
		return VG_EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		goto nomem;
	g->errors = malloc(sizeof(*g->errors));
	if (g->errors == NULL)
		goto nomem;
	atomic_init(g->errors, 0);
	if (country_db != NULL) {
		rc = db_open(&g->country, country_db, LAYOUT_COUNTRY, err,
			     errlen);
		if (rc != VG_OK)
			goto out;
	}
	if (asn_db != NULL) {
		rc = db_open(&g->asn, asn_db, LAYOUT_ASN, err, errlen);
		if (rc != VG_OK)
			goto out;
	}
	*out = g;
	return VG_OK;

nomem:
	seterr(err, errlen, NULL, "out of memory");
	rc = VG_ENOMEM;
out:
	vg_geoip_close(g);
	return rc;
}

void
vg_geoip_close(struct vg_geoip *g)
{
	if (g == NULL)
		return;
	db_close(&g->country);
	db_close(&g->asn);
	free(g->errors);
	free(g);
}

static void
describe_db(struct sb *b, const char *name, const struct db *d)
{
	const MMDB_metadata_s *m = &d->mmdb.metadata;
	struct tm tm;
	time_t t;
	char day[16];

	if (b->len > 0)
		sb_printf(b, "; ");
	sb_printf(b, "%s: ", name);
	sb_escaped(b, d->path);
	sb_printf(b, " (");
	sb_escaped(b, m->database_type != NULL ? m->database_type : "?");
	/* build_epoch comes from the file: past 9999-12-31 is nonsense, and
	 * keeps the cast and gmtime_r in range. */
	t = m->build_epoch > 253402300799u ? 0 : (time_t)m->build_epoch;
	if (t > 0 && gmtime_r(&t, &tm) != NULL &&
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) > 0)
		sb_printf(b, ", built %s", day);
	sb_printf(b, ")");
}

void
vg_geoip_describe(const struct vg_geoip *g, char *out, size_t len)
{
	struct sb b;

	sb_init(&b, out, len);
	if (g == NULL) {
		sb_printf(&b, "none");
		return;
	}
	if (g->country.open)
		describe_db(&b, "country", &g->country);
	if (g->asn.open)
		describe_db(&b, "asn", &g->asn);
}

uint64_t
vg_geoip_errors(const struct vg_geoip *g)
{
	if (g == NULL)
		return 0;
	return atomic_load_explicit(g->errors, memory_order_relaxed);
}

/*
 * IPv4 addresses carried in IPv6 ones that are looked up and judged as
 * IPv4: IPv4-mapped ::ffff:0:0/96 (RFC 4291: dual-stack sockets report
 * IPv4 peers so) and the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
 * The ip-location-db files do not alias these ranges to their IPv4 data,
 * so they must be mapped here.
 */
static bool
embedded_v4(const uint8_t a[16], uint8_t v4[4])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
					  0, 0,    0,    0,    0, 0};

	if (memcmp(a, mapped, 12) != 0 && memcmp(a, nat64, 12) != 0)
		return false;
	memcpy(v4, a + 12, 4);
	return true;
}

static bool
v4_public(const uint8_t a[4])
{
	/* IANA IPv4 Special-Purpose Address Registry (RFC 6890), minus the
	 * documentation networks, plus multicast and class E. */
	static const struct {
		uint32_t net;
		uint8_t len;
	} special[] = {
	    {0x00000000, 8},  /* "this network" (RFC 791) */
	    {0x0a000000, 8},  /* private (RFC 1918) */
	    {0x64400000, 10}, /* shared address space, CGNAT (RFC 6598) */
	    {0x7f000000, 8},  /* loopback */
	    {0xa9fe0000, 16}, /* link-local (RFC 3927) */
	    {0xac100000, 12}, /* private (RFC 1918) */
	    {0xc0000000, 24}, /* IETF protocol assignments (RFC 6890) */
	    {0xc0a80000, 16}, /* private (RFC 1918) */
	    {0xc6120000, 15}, /* benchmarking (RFC 2544) */
	    {0xe0000000, 4},  /* multicast */
	    {0xf0000000, 4},  /* reserved, and the limited broadcast */
	};
	/* Not listed, so public: 192.0.2/24, 198.51.100/24 and 203.0.113/24
	 * (documentation, RFC 5737). Test captures and examples use them as
	 * the foreign side of a flow, and the enrichment must show there
	 * what it shows for a real foreign address. */
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		     (uint32_t)a[2] << 8 | a[3];
	size_t i;

	for (i = 0; i < VG_ARRAY_LEN(special); i++) {
		uint32_t mask = ~(uint32_t)0 << (32 - special[i].len);

		if ((v & mask) == special[i].net)
			return false;
	}
	return true;
}

static bool
v6_in(const uint8_t a[16], const uint8_t net[16], unsigned len)
{
	unsigned full = len / 8, rest = len % 8;
	uint8_t mask;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == net[full];
}

bool
vg_ip_is_public(uint8_t ip_version, const uint8_t addr[16])
{
	/* IANA IPv6 Special-Purpose Address Registry, in part. */
	static const struct {
		uint8_t net[16];
		uint8_t len;
	} special[] = {
	    {{0}, 128},                     /* unspecified */
	    {{[15] = 1}, 128},              /* loopback */
	    {{0x01, 0x00}, 64},             /* discard-only (RFC 6666) */
	    {{0x20, 0x01, 0x00, 0x02}, 48}, /* benchmarking (RFC 5180) */
	    {{0xfc}, 7},                    /* unique local (RFC 4193) */
	    {{0xfe, 0x80}, 10},             /* link-local */
	    {{0xfe, 0xc0}, 10},             /* site-local (deprecated) */
	    {{0xff}, 8},                    /* multicast */
	};
	/* 2001:db8::/32 (documentation, RFC 3849) is public, for the same
	 * reason as the IPv4 documentation networks. */
	uint8_t v4[4];
	size_t i;

	if (ip_version == 4)
		return v4_public(addr);
	if (ip_version != 6)
		return false;
	if (embedded_v4(addr, v4))
		return v4_public(v4);
	for (i = 0; i < VG_ARRAY_LEN(special); i++)
		if (v6_in(addr, special[i].net, special[i].len))
			return false;
	return true;
}

/* The entry for sa in d, if any. A v6 address in an IPv4-only database is
 * simply not there; other failures are counted. */
static bool
db_entry(const struct db *d, const struct sockaddr *sa, MMDB_entry_s *e,
	 _Atomic uint64_t *errors)
{
	MMDB_lookup_result_s r;
	int st = MMDB_SUCCESS;

	if (!d->open)
		return false;
	r = MMDB_lookup_sockaddr(&d->mmdb, sa, &st);
	if (st == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return false;
	if (st != MMDB_SUCCESS) {
		count_error(errors);
		return false;
	}
	if (!r.found_entry)
		return false;
	*e = r.entry;
	return true;
}

/* vg_geoip_lookup once the address is known to be public. */
static bool
lookup_public(const struct vg_geoip *g, uint8_t ip_version,
	      const uint8_t addr[16], struct vg_geo *out)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	MMDB_entry_s e;
	uint8_t v4[4];

	memset(&u, 0, sizeof(u));
	if (ip_version == 6 && embedded_v4(addr, v4)) {
		ip_version = 4;
		addr = v4;
	}
	/* An IPv4 sockaddr in an IPv6 database is looked up under ::/96,
	 * where both MaxMind's and ip-location-db's files keep IPv4. */
	if (ip_version == 4) {
		u.in.sin_family = AF_INET;
		memcpy(&u.in.sin_addr, addr, 4);
	} else {
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, addr, 16);
	}
	if (db_entry(&g->country, &u.sa, &e, g->errors))
		(void)country_of(&e, out->country, g->errors);
	if (db_entry(&g->asn, &u.sa, &e, g->errors)) {
		/* An organization without a number would be an orphan in an
		 * alert: both or neither. */
		if (asn_of(&e, &out->asn, g->errors))
			org_of(&e, out->as_org, sizeof(out->as_org), g->errors);
	}
	return out->country[0] != '\0' || out->asn != 0;
}

bool
vg_geoip_lookup(const struct vg_geoip *g, uint8_t ip_version,
		const uint8_t addr[16], struct vg_geo *out)
{
	memset(out, 0, sizeof(*out));
	if (g == NULL || !vg_ip_is_public(ip_version, addr))
		return false;
	return lookup_public(g, ip_version, addr, out);
}

/* The cache. */

enum { SLOT_EMPTY, SLOT_KNOWN, SLOT_UNKNOWN };

struct slot {
	uint8_t state; /* SLOT_* */
	uint8_t ip_version;
	uint8_t addr[16]; /* IPv4: 4 bytes, then zeros */
	struct vg_geo geo;
};

struct vg_geo_cache {
	struct slot *slots;
	unsigned mask;
	const struct vg_geoip *g; /* whose answers the slots hold */
	uint64_t generation;
	uint64_t hits, misses;
};

enum vg_err
vg_geo_cache_new(struct vg_geo_cache **out, unsigned slots)
{
	struct vg_geo_cache *c;
	unsigned n = 1;

	*out = NULL;
	if (slots == 0)
		slots = CACHE_DEFAULT_SLOTS;
	if (slots > CACHE_MAX_SLOTS)
		return VG_EINVAL;
	while (n < slots)
		n <<= 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return VG_ENOMEM;
	c->slots = vg_calloc(n, sizeof(*c->slots));
	if (c->slots == NULL) {
		free(c);
		return VG_ENOMEM;
	}
	c->mask = n - 1;
	*out = c;
	return VG_OK;
}

void
vg_geo_cache_free(struct vg_geo_cache *c)
{
	if (c == NULL)
		return;
	free(c->slots);
	free(c);
}

/*
 * Slot index: a 64-bit finalizer (MurmurHash3's fmix64) over both halves
 * of the address. Addresses an attacker picks to collide only turn hits
 * into misses, so no secret seed is needed.
 */
static uint64_t
fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

bool
vg_geo_cache_lookup(struct vg_geo_cache *c, const struct vg_geoip *g,
		    uint64_t generation, uint8_t ip_version,
		    const uint8_t addr[16], struct vg_geo *out)
{
	uint8_t key[16] = {0};
	uint64_t lo, hi;
	struct slot *s;
	bool found;

	memset(out, 0, sizeof(*out));
	if (g == NULL || !vg_ip_is_public(ip_version, addr))
		return false;
	if (g != c->g || generation != c->generation) {
		/* A new reader, or the same address reused by a new one after
		 * a reload: nothing cached may outlive the old database. */
		memset(c->slots, 0, ((size_t)c->mask + 1) * sizeof(*c->slots));
		c->g = g;
		c->generation = generation;
	}
	/* Only the first 4 bytes of an IPv4 address are defined. */
	memcpy(key, addr, ip_version == 4 ? 4 : 16);
	memcpy(&lo, key, 8);
	memcpy(&hi, key + 8, 8);
	s = &c->slots[fmix64(lo ^ fmix64(hi ^ ip_version)) & c->mask];
	if (s->state != SLOT_EMPTY && s->ip_version == ip_version &&
	    memcmp(s->addr, key, sizeof(key)) == 0) {
		c->hits++;
		if (s->state == SLOT_UNKNOWN)
			return false;
		*out = s->geo;
		return true;
	}
	c->misses++;
	found = lookup_public(g, ip_version, addr, out);
	s->state = found ? SLOT_KNOWN : SLOT_UNKNOWN;
	s->ip_version = ip_version;
	memcpy(s->addr, key, sizeof(key));
	s->geo = *out;
	return found;
}

void
vg_geo_cache_stats(const struct vg_geo_cache *c, struct vg_geo_cache_stats *st)
{
	st->hits = c->hits;
	st->misses = c->misses;
}
