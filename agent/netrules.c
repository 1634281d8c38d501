/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network detection rules; see netrules.h and rules/README.md.
 *
 * Loading reads each rule file with libyaml's document API (every node
 * knows its line) and compiles the `match` tree into struct cond nodes:
 * names become nDPI ids (bit sets), CIDRs radix sets, patterns PCRE2 code,
 * list names pointers to loaded lists. Errors carry file, line, rule id and
 * the key path of the offending node, and loading goes on past an error so
 * that one run reports them all.
 *
 * Evaluation is per flow, never per packet. The children of `all` and
 * `any` are sorted by an estimate of their cost so that cheap tests (ids,
 * ports, counters) run before string matching, regular expressions and
 * GeoIP lookups. Per-thread things (PCRE2 match data, the GeoIP cache)
 * live in struct vg_detect_worker; the state of stateful rules in struct
 * vg_detect_state behind striped locks.
 */
#define _GNU_SOURCE           /* strcasestr, FNM_CASEFOLD */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "netrules.h"

#include "classify.h"
#include "ioc.h"
#include "log.h"

#include <pcre2.h>
#include <yaml.h>

#include <ctype.h>
#include <stdalign.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ERRORS      100
#define MAX_DEPTH       VG_RULES_MAX_DEPTH
#define MAX_DISTINCT    4096
#define PROTO_WORDS     16 /* 1024 protocol ids */
#define KEY_LEN         192
#define REGEX_LIMIT     100000 /* PCRE2 match limit per subject */
#define GEO_CACHE_SLOTS 4096
#define STATE_STRIPES   64

/* ------------------------------------------------------------------ */
/* Compiled conditions                                                 */

enum ck {
	CK_ALL,
	CK_ANY,
	CK_NOT,
	CK_PROTO,
	CK_CATEGORY,
	CK_RISK,
	CK_CONFIDENCE,
	CK_TRANSPORT,
	CK_PORT,
	CK_DIRECTION,
	CK_CIDR,
	CK_IPLIST,
	CK_STR,
	CK_STRLIST,
	CK_COUNTRY,
	CK_ASN,
	CK_NUM,
};

enum side { SIDE_SRC = 1, SIDE_DST = 2, SIDE_EITHER = 3 };

/* Directions as bits of CK_DIRECTION. */
#define DIR_INBOUND  1
#define DIR_OUTBOUND 2
#define DIR_INTERNAL 4
#define DIR_EXTERNAL 8

enum sfield {
	SF_SNI,
	SF_HTTP_HOST,
	SF_URL,
	SF_UA,
	SF_METHOD,
	SF_CTYPE,
	SF_DNS_QUERY,
	SF_JA3,
	SF_JA3S,
	SF_TLS_VERSION,
	SF_SUBJECT,
	SF_ISSUER,
	SF_ALPN,
	SF_SSH_CLIENT,
	SF_SSH_SERVER,
	SF_DOMAIN, /* SNI, HTTP host or DNS query */
};

enum nfield {
	NF_BYTES_TS,
	NF_BYTES_TC,
	NF_PKTS_TS,
	NF_PKTS_TC,
	NF_BYTES,
	NF_PKTS,
	NF_DURATION,
	NF_RISK_SCORE,
	NF_HTTP_STATUS,
};

enum nop { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };

enum mkind { MK_EXACT, MK_SUFFIX, MK_PREFIX, MK_CONTAINS, MK_GLOB, MK_REGEX };

struct matcher {
	enum mkind kind;
	char *text;
	size_t len;
	pcre2_code *re;
};

struct cond {
	enum ck kind;
	uint8_t side;  /* enum side */
	uint8_t field; /* enum sfield / enum nfield */
	uint8_t op;    /* enum nop */
	bool negate;   /* CK_COUNTRY, CK_ASN: not_in */
	unsigned cost;
	unsigned n;
	union {
		struct cond **kids;
		uint64_t *bits; /* CK_PROTO */
		uint64_t mask;  /* CK_CATEGORY, CK_RISK, CK_TRANSPORT (by
				   protocol number: 256 bits below), CK_DIR */
		uint16_t (*ports)[2];
		struct vg_cidr_set *cidr;
		const struct vg_ioc_list **lists;
		struct matcher *m;
		char (*cc)[3];
		uint32_t *asn;
		uint64_t num;
	} u;
	uint64_t proto_bits[4]; /* CK_TRANSPORT: IP protocol numbers;
				   CK_CATEGORY: category ids */
};

enum track { TRACK_SRC, TRACK_DST, TRACK_PAIR, TRACK_RULE };

struct stateful {
	bool on;
	unsigned count;
	int64_t window_us;
	enum track track;
	bool of_host; /* distinct: destination hosts (else ports) */
};

struct rule {
	struct vg_rule_meta meta;
	struct cond *match;
	/* A quick test before the tree: the rule can only match a flow with
	 * one of these risks (0: any) and, when need_proto is set, one of
	 * these protocols; taken from conditions the whole match requires. */
	uint64_t need_risk;
	const uint64_t *need_proto;
	struct stateful threshold;
	struct stateful distinct;
	struct stateful suppress;
	_Atomic uint64_t alerts;
	_Atomic uint64_t suppressed;
};

struct vg_detect {
	uint64_t generation;
	struct rule *rules;
	unsigned n_rules, cap_rules, n_enabled;
	unsigned *by_on[2]; /* enabled rules firing at each moment, in order */
	unsigned n_by_on[2];
	bool wants[2];
	struct vg_cidr_set *home_net;
	struct vg_ioc_list **lists;
	unsigned n_lists;
	struct vg_geoip *geo;
	char **files; /* names the rules' meta.file points to */
	unsigned n_files;
};

static _Atomic uint64_t generations;

/* ------------------------------------------------------------------ */
/* Loading: errors                                                      */

struct loader {
	struct vg_detect *d;
	FILE *errs;
	unsigned n_errors;
	const char *file;
	yaml_document_t *doc;
	uint32_t rule_id; /* of the rule being read, 0 before its id */
	char key[KEY_LEN];
	const char *shipped;
	/* Set when a rule names a list that is not configured: the rule is
	 * then disabled with a warning rather than failing the whole set, so
	 * that the shipped IoC rules do not break a configuration without
	 * those lists. */
	bool missing_list;
	unsigned file_rules; /* rules read from the current file */
};

VG_PRINTF(4, 5)
static void
report(struct loader *l, const yaml_node_t *n, const char *key, const char *fmt,
       ...)
{
	va_list ap;

	l->n_errors++;
	if (l->errs == NULL || l->n_errors > MAX_ERRORS)
		return;
	fprintf(l->errs, "%s:%lu: ", l->file,
		n ? (unsigned long)n->start_mark.line + 1 : 0UL);
	if (l->rule_id)
		fprintf(l->errs, "rule %" PRIu32 ": ", l->rule_id);
	if (key && key[0])
		fprintf(l->errs, "%s: ", key);
	va_start(ap, fmt);
	vfprintf(l->errs, fmt, ap);
	va_end(ap);
	fputc('\n', l->errs);
	if (l->n_errors == MAX_ERRORS)
		fprintf(l->errs, "%s: too many errors, stopping here\n",
			l->file);
}

VG_PRINTF(4, 5)
static void
warn(struct loader *l, const yaml_node_t *n, const char *key, const char *fmt,
     ...)
{
	va_list ap;

	if (l->errs == NULL)
		return;
	fprintf(l->errs, "%s:%lu: ", l->file,
		n ? (unsigned long)n->start_mark.line + 1 : 0UL);
	if (l->rule_id)
		fprintf(l->errs, "rule %" PRIu32 ": ", l->rule_id);
	if (key && key[0])
		fprintf(l->errs, "%s: ", key);
	fputs("warning: ", l->errs);
	va_start(ap, fmt);
	vfprintf(l->errs, fmt, ap);
	va_end(ap);
	fputc('\n', l->errs);
}

/* Levenshtein distance, for "did you mean" (short strings only). */
static unsigned
edit_distance(const char *a, const char *b)
{
	unsigned row[65], i, j, la = (unsigned)strlen(a),
				lb = (unsigned)strlen(b);

	if (la > 64 || lb > 64)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned prev = row[0], tmp;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) ==
						tolower((unsigned char)b[j - 1])
					    ? 0
					    : 1;
			tmp = row[j];
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Nearest candidate to word, or NULL when nothing is close. */
struct nearest {
	const char *best;
	unsigned dist;
	const char *word;
	const char *alt; /* contains the word or is contained in it */
};

/* Lower-case letters and digits of s, at most len - 1 of them. */
static void
squash(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s && o + 1 < len; s++)
		if (isalnum((unsigned char)*s))
			out[o++] = (char)tolower((unsigned char)*s);
	out[o] = '\0';
}

static void
nearest_try(struct nearest *nr, const char *cand)
{
	char a[72], b[72];
	unsigned d;

	if (cand == NULL || cand[0] == '\0')
		return;
	d = edit_distance(nr->word, cand);
	/* "self_signed_cert" is close to "tls_selfsigned_certificate". */
	squash(nr->word, a, sizeof(a));
	squash(cand, b, sizeof(b));
	if (nr->alt == NULL && strlen(a) >= 4 && strlen(b) >= 4 &&
	    (strstr(b, a) != NULL || strstr(a, b) != NULL))
		nr->alt = cand;
	if (d < nr->dist) {
		nr->dist = d;
		nr->best = cand;
	}
}

static const char *
nearest_result(const struct nearest *nr)
{
	size_t len = strlen(nr->word);
	unsigned limit = len < 5 ? 2 : (unsigned)(len / 3 + 1);

	return nr->dist <= limit ? nr->best : nr->alt;
}

/* ------------------------------------------------------------------ */
/* Loading: YAML helpers                                                */

static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE
		   ? (const char *)n->data.scalar.value
		   : NULL;
}

static yaml_node_t *
node(struct loader *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

/* Push ".name" or "[i]" on the key path; returns the old length. */
static size_t
key_push(struct loader *l, const char *name, int index)
{
	size_t len = strlen(l->key);

	if (name)
		snprintf(l->key + len, sizeof(l->key) - len, "%s%s",
			 len ? "." : "", name);
	else
		snprintf(l->key + len, sizeof(l->key) - len, "[%d]", index);
	return len;
}

static void
key_pop(struct loader *l, size_t len)
{
	l->key[len] = '\0';
}

/* A list of scalars or one scalar; calls fn for each. */
typedef bool (*each_fn)(struct loader *l, yaml_node_t *n, const char *s,
			void *arg);

static bool
each_scalar(struct loader *l, yaml_node_t *n, each_fn fn, void *arg)
{
	yaml_node_item_t *it;
	bool ok = true;
	int i = 0;

	if (n->type == YAML_SCALAR_NODE)
		return fn(l, n, scalar(n), arg);
	if (n->type != YAML_SEQUENCE_NODE) {
		report(l, n, l->key, "expected a value or a list of values");
		return false;
	}
	if (n->data.sequence.items.top == n->data.sequence.items.start) {
		report(l, n, l->key, "empty list");
		return false;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *v = node(l, *it);
		size_t k = key_push(l, NULL, i);

		if (v == NULL || v->type != YAML_SCALAR_NODE) {
			report(l, v, l->key, "expected a value");
			ok = false;
		} else if (!fn(l, v, scalar(v), arg)) {
			ok = false;
		}
		key_pop(l, k);
	}
	return ok;
}

static size_t
count_items(const yaml_node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	return 1;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	*out = v;
	return true;
}

/* "90", "90s", "5m", "2h", "1d" -> microseconds. */
static bool
parse_duration_us(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		int64_t mult;
	} units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
	char num[32];
	size_t i = 0;
	unsigned k;
	uint64_t v;

	if (s == NULL)
		return false;
	while (s[i] >= '0' && s[i] <= '9' && i < sizeof(num) - 1) {
		num[i] = s[i];
		i++;
	}
	num[i] = '\0';
	if (!parse_u64(num, &v))
		return false;
	for (k = 0; k < VG_ARRAY_LEN(units); k++) {
		if (strcmp(s + i, units[k].u) == 0) {
			if (v == 0 ||
			    v > 366ULL * 86400 / (uint64_t)units[k].mult)
				return false;
			*out = (int64_t)v * units[k].mult * 1000000;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Loading: conditions                                                  */

static struct cond *
cond_new(enum ck kind, unsigned cost)
{
	struct cond *c = calloc(1, sizeof(*c));

	if (c) {
		c->kind = kind;
		c->cost = cost;
	}
	return c;
}

static void
cond_free(struct cond *c)
{
	unsigned i;

	if (c == NULL)
		return;
	switch (c->kind) {
	case CK_ALL:
	case CK_ANY:
	case CK_NOT:
		for (i = 0; i < c->n; i++)
			cond_free(c->u.kids[i]);
		free(c->u.kids);
		break;
	case CK_PROTO:
		free(c->u.bits);
		break;
	case CK_PORT:
		free(c->u.ports);
		break;
	case CK_CIDR:
		vg_cidr_set_free(c->u.cidr);
		break;
	case CK_IPLIST:
	case CK_STRLIST:
		free(c->u.lists);
		break;
	case CK_STR:
		for (i = 0; i < c->n; i++) {
			free(c->u.m[i].text);
			pcre2_code_free(c->u.m[i].re);
		}
		free(c->u.m);
		break;
	case CK_COUNTRY:
		free(c->u.cc);
		break;
	case CK_ASN:
		free(c->u.asn);
		break;
	default:
		break;
	}
	free(c);
}

static struct cond *compile_cond(struct loader *l, yaml_node_t *n,
				 unsigned depth);

/* -- names: protocol, category, risk ------------------------------- */

static bool
add_proto(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	int id = vg_classify_proto_id(s);

	if (id < 0 || id >= PROTO_WORDS * 64) {
		struct nearest nr = {NULL, UINT_MAX, s, NULL};
		unsigned i, cnt = vg_classify_proto_count();
		const char *near;

		for (i = 0; i < cnt; i++)
			nearest_try(&nr, vg_classify_proto_name_of(i));
		near = nearest_result(&nr);
		if (near)
			report(l, n, l->key,
			       "unknown nDPI protocol \"%s\" (did you mean "
			       "\"%s\"?)",
			       s, near);
		else
			report(l, n, l->key, "unknown nDPI protocol \"%s\"", s);
		return false;
	}
	c->u.bits[id / 64] |= 1ULL << (id % 64);
	return true;
}

static bool
add_category(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	int id = vg_classify_category_id(s);

	if (id < 0 || id >= 256) {
		struct nearest nr = {NULL, UINT_MAX, s, NULL};
		unsigned i, cnt = vg_classify_category_count();
		const char *near;

		for (i = 0; i < cnt; i++)
			nearest_try(&nr, vg_classify_category_name_of(i));
		near = nearest_result(&nr);
		if (near)
			report(l, n, l->key,
			       "unknown nDPI category \"%s\" (did you mean "
			       "\"%s\"?)",
			       s, near);
		else
			report(l, n, l->key, "unknown nDPI category \"%s\"", s);
		return false;
	}
	c->proto_bits[id / 64] |= 1ULL << (id % 64);
	return true;
}

static bool
add_risk(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	int id = vg_classify_risk_id(s);

	if (id <= 0 || id >= 64) {
		struct nearest nr = {NULL, UINT_MAX, s, NULL};
		unsigned i;
		const char *near;

		for (i = 1; i < 64; i++)
			nearest_try(&nr, vg_classify_risk_ident(i));
		for (i = 1; i < 64; i++)
			nearest_try(&nr, vg_classify_risk_name(i));
		near = nearest_result(&nr);
		if (near)
			report(l, n, l->key,
			       "unknown nDPI risk \"%s\" (did you mean "
			       "\"%s\"?)",
			       s, near);
		else
			report(l, n, l->key,
			       "unknown nDPI risk \"%s\" (rules/README.md "
			       "lists them)",
			       s);
		return false;
	}
	c->u.mask |= 1ULL << id;
	return true;
}

static bool
add_confidence(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	int id = vg_classify_confidence_id(s);

	if (id < 0 || id >= 64) {
		report(l, n, l->key,
		       "unknown confidence \"%s\" (dpi, dpi_cache, "
		       "match_by_port, match_by_ip or unknown)",
		       s);
		return false;
	}
	c->u.mask |= 1ULL << id;
	return true;
}

static bool
add_transport(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	static const struct {
		const char *name;
		unsigned num;
	} tr[] = {{"tcp", 6},    {"udp", 17},    {"icmp", 1},
		  {"icmp6", 58}, {"icmpv6", 58}, {"sctp", 132},
		  {"gre", 47},   {"esp", 50},    {"ah", 51}};
	struct cond *c = arg;
	uint64_t v = 256;
	unsigned i;

	for (i = 0; i < VG_ARRAY_LEN(tr); i++)
		if (strcasecmp(s, tr[i].name) == 0)
			v = tr[i].num;
	if (v == 256 && (!parse_u64(s, &v) || v > 255)) {
		report(l, n, l->key,
		       "unknown transport \"%s\" (tcp, udp, icmp, icmp6, sctp, "
		       "gre, esp, ah or a protocol number)",
		       s);
		return false;
	}
	c->proto_bits[v / 64] |= 1ULL << (v % 64);
	return true;
}

static bool
add_port(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	uint64_t lo, hi;
	const char *dash = strchr(s, '-');
	char buf[16];

	if (dash) {
		size_t k = (size_t)(dash - s);

		if (k >= sizeof(buf))
			goto bad;
		memcpy(buf, s, k);
		buf[k] = '\0';
		if (!parse_u64(buf, &lo) || !parse_u64(dash + 1, &hi))
			goto bad;
	} else {
		if (!parse_u64(s, &lo))
			goto bad;
		hi = lo;
	}
	if (lo > 65535 || hi > 65535 || lo > hi)
		goto bad;
	c->u.ports[c->n][0] = (uint16_t)lo;
	c->u.ports[c->n][1] = (uint16_t)hi;
	c->n++;
	return true;
bad:
	report(l, n, l->key,
	       "not a port or port range: \"%s\" (write 22 or 6000-6063)", s);
	return false;
}

static bool
add_direction(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;

	if (strcasecmp(s, "inbound") == 0)
		c->u.mask |= DIR_INBOUND;
	else if (strcasecmp(s, "outbound") == 0)
		c->u.mask |= DIR_OUTBOUND;
	else if (strcasecmp(s, "internal") == 0)
		c->u.mask |= DIR_INTERNAL;
	else if (strcasecmp(s, "external") == 0)
		c->u.mask |= DIR_EXTERNAL;
	else {
		report(l, n, l->key,
		       "unknown direction \"%s\" (inbound, outbound, internal "
		       "or external)",
		       s);
		return false;
	}
	return true;
}

static bool
add_cidr(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	uint8_t ver, addr[16];
	unsigned plen;

	if (vg_cidr_parse(s, &ver, addr, &plen) != VG_OK) {
		report(l, n, l->key,
		       "not an address or CIDR: \"%s\" (host bits set below "
		       "the prefix length are an error)",
		       s);
		return false;
	}
	if (vg_cidr_set_add(c->u.cidr, ver, addr, plen) != VG_OK) {
		report(l, n, l->key, "out of memory");
		return false;
	}
	return true;
}

static const struct vg_ioc_list *
find_list(const struct vg_detect *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->n_lists; i++)
		if (strcmp(vg_ioc_list_name(d->lists[i]), name) == 0)
			return d->lists[i];
	return NULL;
}

struct list_arg {
	struct cond *c;
	int want; /* enum vg_ioc_type, or -1: ip/domain/ja3 all fine */
};

static bool
add_list(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct list_arg *a = arg;
	const struct vg_ioc_list *li = find_list(l->d, s);

	if (li == NULL) {
		warn(l, n, l->key,
		     "IoC list \"%s\" is not configured (detection.ioc): rule "
		     "disabled",
		     s);
		l->missing_list = true;
		return true;
	}
	if (a->want >= 0 && (int)vg_ioc_list_type(li) != a->want) {
		report(l, n, l->key, "list \"%s\" holds %s entries, not %s", s,
		       vg_ioc_type_name(vg_ioc_list_type(li)),
		       vg_ioc_type_name((enum vg_ioc_type)a->want));
		return false;
	}
	if (a->want < 0 && vg_ioc_list_type(li) == VG_IOC_SHA256) {
		report(l, n, l->key,
		       "list \"%s\" holds file hashes: it applies to file "
		       "rules, not network rules",
		       s);
		return false;
	}
	a->c->u.lists[a->c->n++] = li;
	return true;
}

static bool
add_country(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;

	if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
	    !isalpha((unsigned char)s[1])) {
		report(l, n, l->key,
		       "not an ISO 3166 country code: \"%s\" (write VN, US...)",
		       s);
		return false;
	}
	c->u.cc[c->n][0] = (char)toupper((unsigned char)s[0]);
	c->u.cc[c->n][1] = (char)toupper((unsigned char)s[1]);
	c->u.cc[c->n][2] = '\0';
	c->n++;
	return true;
}

static bool
add_asn(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct cond *c = arg;
	uint64_t v;

	if (strncasecmp(s, "AS", 2) == 0)
		s += 2;
	if (!parse_u64(s, &v) || v == 0 || v > UINT32_MAX) {
		report(l, n, l->key, "not an AS number: \"%s\"", s);
		return false;
	}
	c->u.asn[c->n++] = (uint32_t)v;
	return true;
}

/* -- strings ------------------------------------------------------- */

static const struct {
	const char *key;
	enum sfield f;
} sfields[] = {
    {"tls.sni", SF_SNI},           {"http.host", SF_HTTP_HOST},
    {"http.url", SF_URL},          {"http.user_agent", SF_UA},
    {"http.method", SF_METHOD},    {"http.content_type", SF_CTYPE},
    {"dns.query", SF_DNS_QUERY},   {"tls.ja3", SF_JA3},
    {"tls.ja3s", SF_JA3S},         {"tls.version", SF_TLS_VERSION},
    {"tls.subject", SF_SUBJECT},   {"tls.issuer", SF_ISSUER},
    {"tls.alpn", SF_ALPN},         {"ssh.client", SF_SSH_CLIENT},
    {"ssh.server", SF_SSH_SERVER}, {"domain", SF_DOMAIN},
};

static const struct {
	const char *name;
	enum mkind k;
	unsigned cost;
} mkinds[] = {
    {"exact", MK_EXACT, 4},   {"suffix", MK_SUFFIX, 4},
    {"prefix", MK_PREFIX, 4}, {"contains", MK_CONTAINS, 5},
    {"glob", MK_GLOB, 6},     {"regex", MK_REGEX, 8},
};

struct str_arg {
	struct cond *c;
	enum mkind kind;
};

static bool
add_matcher(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct str_arg *a = arg;
	struct matcher *m = &a->c->u.m[a->c->n];

	m->kind = a->kind;
	m->len = strlen(s);
	m->text = strdup(s);
	if (m->text == NULL) {
		report(l, n, l->key, "out of memory");
		return false;
	}
	if (a->kind == MK_REGEX) {
		int rc;
		PCRE2_SIZE off;

		m->re =
		    pcre2_compile((PCRE2_SPTR)s, m->len, 0, &rc, &off, NULL);
		if (m->re == NULL) {
			PCRE2_UCHAR msg[160];

			pcre2_get_error_message(rc, msg, sizeof(msg));
			report(l, n, l->key,
			       "bad regular expression at offset %zu: %s",
			       (size_t)off, (const char *)msg);
			free(m->text);
			m->text = NULL;
			return false;
		}
		(void)pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE);
	} else if (a->kind != MK_GLOB) {
		/* Case-insensitive: compare lower-case text. */
		size_t i;

		for (i = 0; i < m->len; i++)
			m->text[i] = (char)tolower((unsigned char)m->text[i]);
	}
	a->c->n++;
	return true;
}

/* value: "x" | [x, y] | {exact|suffix|...|list: x or [..], ...} */
static struct cond *
compile_str(struct loader *l, yaml_node_t *n, enum sfield f)
{
	struct cond *c;
	struct str_arg a;
	yaml_node_pair_t *p;
	size_t total = 0;
	bool ok = true;

	if (n->type == YAML_MAPPING_NODE) {
		struct cond *lists = NULL, *strs, *any;

		for (p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++)
			total += count_items(node(l, p->value));
		c = cond_new(CK_STR, 4);
		if (c == NULL ||
		    (c->u.m = calloc(total, sizeof(*c->u.m))) == NULL) {
			free(c);
			report(l, n, l->key, "out of memory");
			return NULL;
		}
		c->field = (uint8_t)f;
		for (p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(l, p->key),
				    *v = node(l, p->value);
			const char *ks = scalar(k);
			size_t kl, i;
			bool found = false;

			if (ks && strcmp(ks, "list") == 0) {
				struct list_arg la;

				kl = key_push(l, "list", 0);
				lists = cond_new(CK_STRLIST, 3);
				if (lists == NULL ||
				    (lists->u.lists = calloc(
					 count_items(v),
					 sizeof(*lists->u.lists))) == NULL) {
					report(l, v, l->key, "out of memory");
					ok = false;
				} else {
					lists->field = (uint8_t)f;
					la.c = lists;
					la.want = f == SF_JA3 || f == SF_JA3S
						      ? VG_IOC_JA3
						      : VG_IOC_DOMAIN;
					if (!each_scalar(l, v, add_list, &la))
						ok = false;
				}
				key_pop(l, kl);
				continue;
			}
			for (i = 0; ks && i < VG_ARRAY_LEN(mkinds); i++) {
				if (strcmp(ks, mkinds[i].name) != 0)
					continue;
				found = true;
				kl = key_push(l, ks, 0);
				a.c = c;
				a.kind = mkinds[i].k;
				if (mkinds[i].cost > c->cost)
					c->cost = mkinds[i].cost;
				if (!each_scalar(l, v, add_matcher, &a))
					ok = false;
				key_pop(l, kl);
			}
			if (!found) {
				report(l, k, l->key,
				       "unknown match \"%s\" (exact, suffix, "
				       "prefix, contains, glob, regex or list)",
				       ks ? ks : "?");
				ok = false;
			}
		}
		if (!ok) {
			cond_free(c);
			cond_free(lists);
			return NULL;
		}
		if (lists == NULL)
			return c;
		if (c->n == 0) {
			cond_free(c);
			return lists;
		}
		/* Both patterns and lists: either may match. */
		strs = c;
		any = cond_new(CK_ANY, strs->cost + lists->cost);
		if (any == NULL ||
		    (any->u.kids = calloc(2, sizeof(*any->u.kids))) == NULL) {
			free(any);
			cond_free(strs);
			cond_free(lists);
			report(l, n, l->key, "out of memory");
			return NULL;
		}
		any->u.kids[0] = lists;
		any->u.kids[1] = strs;
		any->n = 2;
		return any;
	}
	c = cond_new(CK_STR, 4);
	if (c == NULL ||
	    (c->u.m = calloc(count_items(n), sizeof(*c->u.m))) == NULL) {
		free(c);
		report(l, n, l->key, "out of memory");
		return NULL;
	}
	c->field = (uint8_t)f;
	a.c = c;
	a.kind = MK_EXACT;
	if (!each_scalar(l, n, add_matcher, &a)) {
		cond_free(c);
		return NULL;
	}
	return c;
}

/* -- numbers -------------------------------------------------------- */

static const struct {
	const char *key;
	enum nfield f;
	bool size;     /* takes size units */
	bool duration; /* takes time units */
} nfields[] = {
    {"bytes_toserver", NF_BYTES_TS, true, false},
    {"bytes_toclient", NF_BYTES_TC, true, false},
    {"pkts_toserver", NF_PKTS_TS, false, false},
    {"pkts_toclient", NF_PKTS_TC, false, false},
    {"bytes", NF_BYTES, true, false},
    {"pkts", NF_PKTS, false, false},
    {"duration", NF_DURATION, false, true},
    {"risk_score", NF_RISK_SCORE, false, false},
    {"http.status", NF_HTTP_STATUS, false, false},
};

/* "1000", ">= 10MiB", "< 30s" */
static bool
parse_comparison(const char *s, bool size, bool duration, enum nop *op,
		 uint64_t *v)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} su[] = {{"", 1},
		  {"k", 1000},
		  {"kb", 1000},
		  {"kib", 1ULL << 10},
		  {"m", 1000000},
		  {"mb", 1000000},
		  {"mib", 1ULL << 20},
		  {"g", 1000000000},
		  {"gb", 1000000000},
		  {"gib", 1ULL << 30}},
	  du[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
	char num[32];
	size_t i = 0, k, nu;
	const char *unit;

	while (*s == ' ')
		s++;
	if (strncmp(s, ">=", 2) == 0)
		*op = OP_GE, s += 2;
	else if (strncmp(s, "<=", 2) == 0)
		*op = OP_LE, s += 2;
	else if (strncmp(s, "!=", 2) == 0)
		*op = OP_NE, s += 2;
	else if (strncmp(s, "==", 2) == 0)
		*op = OP_EQ, s += 2;
	else if (*s == '>')
		*op = OP_GT, s++;
	else if (*s == '<')
		*op = OP_LT, s++;
	else if (*s == '=')
		*op = OP_EQ, s++;
	else
		*op = OP_EQ;
	while (*s == ' ')
		s++;
	while (s[i] >= '0' && s[i] <= '9' && i < sizeof(num) - 1) {
		num[i] = s[i];
		i++;
	}
	num[i] = '\0';
	if (!parse_u64(num, v))
		return false;
	unit = s + i;
	while (*unit == ' ')
		unit++;
	nu = size ? VG_ARRAY_LEN(su) : duration ? VG_ARRAY_LEN(du) : 1;
	for (k = 0; k < nu; k++) {
		uint64_t mult = duration ? du[k].mult : su[k].mult;
		const char *name = duration ? du[k].name : su[k].name;

		if (strcasecmp(unit, name) == 0) {
			if (*v > UINT64_MAX / mult)
				return false;
			*v *= mult;
			return true;
		}
	}
	return false;
}

static struct cond *
compile_num(struct loader *l, yaml_node_t *n, unsigned idx)
{
	struct cond *c;
	enum nop op;
	uint64_t v;
	const char *s = scalar(n);

	if (s == NULL || !parse_comparison(s, nfields[idx].size,
					   nfields[idx].duration, &op, &v)) {
		report(l, n, l->key,
		       "expected a number or a comparison such as \">= "
		       "%s\"",
		       nfields[idx].size       ? "10MiB"
		       : nfields[idx].duration ? "5m"
					       : "100");
		return NULL;
	}
	c = cond_new(CK_NUM, 1);
	if (c == NULL) {
		report(l, n, l->key, "out of memory");
		return NULL;
	}
	c->field = (uint8_t)nfields[idx].f;
	c->op = (uint8_t)op;
	c->u.num = v;
	return c;
}

/* -- GeoIP ---------------------------------------------------------- */

/* value: [..] | {in: [..]} | {not_in: [..]} */
static struct cond *
compile_geo(struct loader *l, yaml_node_t *n, bool country, uint8_t side)
{
	struct cond *c;
	bool negate = false;
	yaml_node_t *v = n;

	if (n->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p = n->data.mapping.pairs.start;
		const char *ks;

		if (n->data.mapping.pairs.top - p != 1 ||
		    (ks = scalar(node(l, p->key))) == NULL ||
		    (strcmp(ks, "in") != 0 && strcmp(ks, "not_in") != 0)) {
			report(l, n, l->key,
			       "expected a list, {in: [...]} or {not_in: "
			       "[...]}");
			return NULL;
		}
		negate = strcmp(ks, "not_in") == 0;
		v = node(l, p->value);
	}
	if (l->d->geo == NULL)
		warn(l, n, l->key,
		     "no GeoIP database configured (geoip.%s): this condition "
		     "never matches",
		     country ? "country_db" : "asn_db");
	c = cond_new(country ? CK_COUNTRY : CK_ASN, 10);
	if (c == NULL)
		goto nomem;
	c->side = side;
	c->negate = negate;
	if (country) {
		c->u.cc = calloc(count_items(v), sizeof(*c->u.cc));
		if (c->u.cc == NULL)
			goto nomem;
	} else {
		c->u.asn = calloc(count_items(v), sizeof(*c->u.asn));
		if (c->u.asn == NULL)
			goto nomem;
	}
	if (!each_scalar(l, v, country ? add_country : add_asn, c)) {
		cond_free(c);
		return NULL;
	}
	return c;
nomem:
	cond_free(c);
	report(l, n, l->key, "out of memory");
	return NULL;
}

/* -- IP addresses ---------------------------------------------------- */

/* value: cidr | [cidrs] | {list: name or [names]} */
static struct cond *
compile_ip(struct loader *l, yaml_node_t *n, uint8_t side)
{
	struct cond *c;

	if (n->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p = n->data.mapping.pairs.start;
		const char *ks;
		struct list_arg la;
		yaml_node_t *v;

		if (n->data.mapping.pairs.top - p != 1 ||
		    (ks = scalar(node(l, p->key))) == NULL ||
		    strcmp(ks, "list") != 0) {
			report(l, n, l->key,
			       "expected a CIDR, a list of CIDRs or {list: "
			       "NAME}");
			return NULL;
		}
		v = node(l, p->value);
		c = cond_new(CK_IPLIST, 3);
		if (c == NULL ||
		    (c->u.lists =
			 calloc(count_items(v), sizeof(*c->u.lists))) == NULL) {
			free(c);
			report(l, n, l->key, "out of memory");
			return NULL;
		}
		c->side = side;
		la.c = c;
		la.want = VG_IOC_IP;
		if (!each_scalar(l, v, add_list, &la)) {
			cond_free(c);
			return NULL;
		}
		return c;
	}
	c = cond_new(CK_CIDR, 2);
	if (c == NULL || vg_cidr_set_new(&c->u.cidr) != VG_OK) {
		free(c);
		report(l, n, l->key, "out of memory");
		return NULL;
	}
	c->side = side;
	if (!each_scalar(l, n, add_cidr, c)) {
		cond_free(c);
		return NULL;
	}
	return c;
}

/* -- one condition key ---------------------------------------------- */

static const char *const cond_keys[] = {
    "all",
    "any",
    "not",
    "protocol",
    "category",
    "confidence",
    "risk",
    "transport",
    "port",
    "src_port",
    "dst_port",
    "direction",
    "ip",
    "src_ip",
    "dst_ip",
    "in_list",
    "country",
    "src_country",
    "dst_country",
    "asn",
    "src_asn",
    "dst_asn",
    "bytes_toserver",
    "bytes_toclient",
    "pkts_toserver",
    "pkts_toclient",
    "bytes",
    "pkts",
    "duration",
    "risk_score",
    "http.status",
    "tls.sni",
    "http.host",
    "http.url",
    "http.user_agent",
    "http.method",
    "http.content_type",
    "dns.query",
    "tls.ja3",
    "tls.ja3s",
    "tls.version",
    "tls.subject",
    "tls.issuer",
    "tls.alpn",
    "ssh.client",
    "ssh.server",
    "domain",
};

static struct cond *
compile_kids(struct loader *l, yaml_node_t *v, enum ck kind, unsigned depth)
{
	struct cond *c;
	yaml_node_item_t *it;
	bool ok = true;
	int i = 0;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start) {
		report(l, v, l->key, "expected a non-empty list of conditions");
		return NULL;
	}
	c = cond_new(kind, 0);
	if (c == NULL ||
	    (c->u.kids = calloc(count_items(v), sizeof(*c->u.kids))) == NULL) {
		free(c);
		report(l, v, l->key, "out of memory");
		return NULL;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, i++) {
		size_t k = key_push(l, NULL, i);
		struct cond *kid = compile_cond(l, node(l, *it), depth + 1);

		key_pop(l, k);
		if (kid == NULL) {
			ok = false;
			continue;
		}
		c->u.kids[c->n++] = kid;
		c->cost += kid->cost;
	}
	if (!ok) {
		cond_free(c);
		return NULL;
	}
	return c;
}

static struct cond *
compile_key(struct loader *l, yaml_node_t *k, const char *ks, yaml_node_t *v,
	    unsigned depth)
{
	struct cond *c = NULL;
	size_t i;
	uint8_t side = SIDE_EITHER;
	const char *base = ks;

	if (strncmp(ks, "src_", 4) == 0)
		side = SIDE_SRC, base = ks + 4;
	else if (strncmp(ks, "dst_", 4) == 0)
		side = SIDE_DST, base = ks + 4;

	if (strcmp(ks, "all") == 0 || strcmp(ks, "any") == 0)
		return compile_kids(l, v, ks[1] == 'l' ? CK_ALL : CK_ANY,
				    depth);
	if (strcmp(ks, "not") == 0) {
		struct cond *kid;

		if (v->type == YAML_SEQUENCE_NODE) {
			kid = compile_kids(l, v, CK_ANY, depth);
		} else {
			kid = compile_cond(l, v, depth + 1);
		}
		if (kid == NULL)
			return NULL;
		c = cond_new(CK_NOT, kid->cost);
		if (c == NULL ||
		    (c->u.kids = calloc(1, sizeof(*c->u.kids))) == NULL) {
			free(c);
			cond_free(kid);
			report(l, v, l->key, "out of memory");
			return NULL;
		}
		c->u.kids[0] = kid;
		c->n = 1;
		return c;
	}
	if (strcmp(ks, "protocol") == 0) {
		c = cond_new(CK_PROTO, 1);
		if (c && (c->u.bits = calloc(PROTO_WORDS, 8)) != NULL &&
		    each_scalar(l, v, add_proto, c))
			return c;
		goto fail;
	}
	if (strcmp(ks, "confidence") == 0) {
		c = cond_new(CK_CONFIDENCE, 1);
		if (c && each_scalar(l, v, add_confidence, c))
			return c;
		goto fail;
	}
	if (strcmp(ks, "category") == 0 || strcmp(ks, "risk") == 0 ||
	    strcmp(ks, "transport") == 0 || strcmp(ks, "direction") == 0) {
		each_fn fn = ks[0] == 'c'   ? add_category
			     : ks[0] == 'r' ? add_risk
			     : ks[0] == 't' ? add_transport
					    : add_direction;
		enum ck kind = ks[0] == 'c'   ? CK_CATEGORY
			       : ks[0] == 'r' ? CK_RISK
			       : ks[0] == 't' ? CK_TRANSPORT
					      : CK_DIRECTION;

		c = cond_new(kind, kind == CK_DIRECTION ? 2 : 1);
		if (c && each_scalar(l, v, fn, c))
			return c;
		goto fail;
	}
	if (strcmp(base, "port") == 0) {
		c = cond_new(CK_PORT, 1);
		if (c == NULL ||
		    (c->u.ports =
			 calloc(count_items(v), sizeof(*c->u.ports))) == NULL)
			goto fail;
		c->side = side;
		if (each_scalar(l, v, add_port, c))
			return c;
		goto fail;
	}
	if (strcmp(base, "ip") == 0)
		return compile_ip(l, v, side);
	if (strcmp(base, "country") == 0)
		return compile_geo(l, v, true, side);
	if (strcmp(base, "asn") == 0)
		return compile_geo(l, v, false, side);
	if (strcmp(ks, "in_list") == 0) {
		struct list_arg la;

		c = cond_new(CK_STRLIST, 3);
		if (c == NULL ||
		    (c->u.lists =
			 calloc(count_items(v), sizeof(*c->u.lists))) == NULL)
			goto fail;
		c->field = 0xff; /* by each list's type */
		la.c = c;
		la.want = -1;
		if (each_scalar(l, v, add_list, &la))
			return c;
		goto fail;
	}
	for (i = 0; i < VG_ARRAY_LEN(nfields); i++)
		if (strcmp(ks, nfields[i].key) == 0)
			return compile_num(l, v, (unsigned)i);
	for (i = 0; i < VG_ARRAY_LEN(sfields); i++)
		if (strcmp(ks, sfields[i].key) == 0)
			return compile_str(l, v, sfields[i].f);

	{
		struct nearest nr = {NULL, UINT_MAX, ks, NULL};
		const char *near;

		for (i = 0; i < VG_ARRAY_LEN(cond_keys); i++)
			nearest_try(&nr, cond_keys[i]);
		near = nearest_result(&nr);
		if (near)
			report(
			    l, k, l->key,
			    "unknown condition \"%s\" (did you mean \"%s\"?)",
			    ks, near);
		else
			report(l, k, l->key, "unknown condition \"%s\"", ks);
	}
	return NULL;
fail:
	if (c == NULL)
		report(l, v, l->key, "out of memory");
	cond_free(c);
	return NULL;
}

static int
cond_cmp(const void *a, const void *b)
{
	const struct cond *x = *(struct cond *const *)a;
	const struct cond *y = *(struct cond *const *)b;

	return (x->cost > y->cost) - (x->cost < y->cost);
}

/* A mapping of condition keys: all of them must hold. */
static struct cond *
compile_cond(struct loader *l, yaml_node_t *n, unsigned depth)
{
	struct cond *c;
	yaml_node_pair_t *p;
	bool ok = true;

	if (n == NULL || n->type != YAML_MAPPING_NODE) {
		report(l, n, l->key,
		       "expected a mapping of conditions (key: value)");
		return NULL;
	}
	if (depth > MAX_DEPTH) {
		report(l, n, l->key, "conditions nest deeper than %d",
		       MAX_DEPTH);
		return NULL;
	}
	if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		report(l, n, l->key, "empty condition");
		return NULL;
	}
	c = cond_new(CK_ALL, 0);
	if (c == NULL ||
	    (c->u.kids = calloc((size_t)(n->data.mapping.pairs.top -
					 n->data.mapping.pairs.start),
				sizeof(*c->u.kids))) == NULL) {
		free(c);
		report(l, n, l->key, "out of memory");
		return NULL;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *ks = scalar(k);
		yaml_node_pair_t *q;
		struct cond *kid;
		size_t kl;

		if (ks == NULL || v == NULL) {
			report(l, k, l->key, "expected a condition name");
			ok = false;
			continue;
		}
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			const char *qs = scalar(node(l, q->key));

			if (qs && strcmp(qs, ks) == 0) {
				report(l, k, l->key,
				       "\"%s\" given twice (use all: [...] to "
				       "combine two)",
				       ks);
				ok = false;
			}
		}
		kl = key_push(l, ks, 0);
		kid = compile_key(l, k, ks, v, depth);
		key_pop(l, kl);
		if (kid == NULL) {
			ok = false;
			continue;
		}
		c->u.kids[c->n++] = kid;
		c->cost += kid->cost;
	}
	if (!ok) {
		cond_free(c);
		return NULL;
	}
	if (c->n == 1) {
		struct cond *only = c->u.kids[0];

		free(c->u.kids);
		free(c);
		return only;
	}
	return c;
}

/* Sort every all/any by cost, cheapest first. */
static void
cond_order(struct cond *c)
{
	unsigned i;

	if (c->kind != CK_ALL && c->kind != CK_ANY && c->kind != CK_NOT)
		return;
	for (i = 0; i < c->n; i++)
		cond_order(c->u.kids[i]);
	if (c->kind != CK_NOT)
		qsort(c->u.kids, c->n, sizeof(*c->u.kids), cond_cmp);
}

/* The quick test of r (see struct rule): from a top-level risk or
 * protocol condition, or one that is a child of the top-level "all". */
static void
rule_prefilter(struct rule *r)
{
	const struct cond *c = r->match;
	unsigned i, n = c->kind == CK_ALL ? c->n : 1;

	for (i = 0; i < n; i++) {
		const struct cond *k = c->kind == CK_ALL ? c->u.kids[i] : c;

		if (k->kind == CK_RISK && r->need_risk == 0)
			r->need_risk = k->u.mask;
		else if (k->kind == CK_PROTO && r->need_proto == NULL)
			r->need_proto = k->u.bits;
	}
}

/* Whether the condition reads the whole flow's counters. */
static bool
cond_uses_counters(const struct cond *c)
{
	unsigned i;

	if (c->kind == CK_NUM)
		return c->field != NF_RISK_SCORE && c->field != NF_HTTP_STATUS;
	if (c->kind == CK_ALL || c->kind == CK_ANY || c->kind == CK_NOT)
		for (i = 0; i < c->n; i++)
			if (cond_uses_counters(c->u.kids[i]))
				return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Loading: rules                                                       */

static const char *const rule_keys[] = {
    "id",          "rev",   "name",      "category",   "severity",
    "description", "mitre", "tags",      "references", "enabled",
    "on",          "match", "threshold", "distinct",   "suppress",
};

static const struct {
	const char *name;
	unsigned eve;
} severities[] = {
    {"critical", 1}, {"high", 1}, {"medium", 2}, {"low", 3}, {"info", 4},
};

static void
rule_fini(struct rule *r)
{
	unsigned i;

	cond_free(r->match);
	free(r->meta.name);
	free(r->meta.category);
	free(r->meta.description);
	for (i = 0; i < r->meta.n_mitre; i++)
		free(r->meta.mitre[i]);
	free(r->meta.mitre);
	for (i = 0; i < r->meta.n_tags; i++)
		free(r->meta.tags[i]);
	free(r->meta.tags);
	for (i = 0; i < r->meta.n_refs; i++)
		free(r->meta.refs[i]);
	free(r->meta.refs);
}

/* A string value, copied. */
static bool
get_str(struct loader *l, yaml_node_t *v, char **out, bool one_line)
{
	const char *s = scalar(v);
	size_t i;

	if (s == NULL || s[0] == '\0') {
		report(l, v, l->key, "expected a non-empty string");
		return false;
	}
	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 && (one_line || (ch != '\n' && ch != '\t'))) {
			report(l, v, l->key, "control character in text");
			return false;
		}
	}
	*out = strdup(s);
	if (*out == NULL) {
		report(l, v, l->key, "out of memory");
		return false;
	}
	return true;
}

struct strlist_arg {
	char **v;
	unsigned n;
	bool mitre;
};

static bool
add_string(struct loader *l, yaml_node_t *n, const char *s, void *arg)
{
	struct strlist_arg *a = arg;

	if (a->mitre) {
		/* T1234 or T1234.001 */
		size_t len = strlen(s), i;
		bool ok = (len == 5 || len == 9) && s[0] == 'T';

		for (i = 1; ok && i < len; i++)
			ok =
			    i == 5 ? s[i] == '.' : isdigit((unsigned char)s[i]);
		if (!ok) {
			report(l, n, l->key,
			       "not a MITRE ATT&CK technique id: \"%s\" "
			       "(write T1110 or T1110.001)",
			       s);
			return false;
		}
	}
	if (s[0] == '\0') {
		report(l, n, l->key, "empty string");
		return false;
	}
	a->v[a->n] = strdup(s);
	if (a->v[a->n] == NULL) {
		report(l, n, l->key, "out of memory");
		return false;
	}
	a->n++;
	return true;
}

static bool
get_strlist(struct loader *l, yaml_node_t *v, char ***out, unsigned *n,
	    bool mitre)
{
	struct strlist_arg a = {NULL, 0, mitre};

	a.v = calloc(count_items(v), sizeof(char *));
	if (a.v == NULL) {
		report(l, v, l->key, "out of memory");
		return false;
	}
	*out = a.v;
	if (!each_scalar(l, v, add_string, &a)) {
		*n = a.n;
		return false;
	}
	*n = a.n;
	return true;
}

static bool
get_u32(struct loader *l, yaml_node_t *v, uint32_t *out, uint32_t min)
{
	uint64_t x;

	if (!parse_u64(scalar(v), &x) || x < min || x > UINT32_MAX) {
		report(l, v, l->key, "expected a whole number from %u to %u",
		       (unsigned)min, (unsigned)UINT32_MAX);
		return false;
	}
	*out = (uint32_t)x;
	return true;
}

/* threshold / distinct / suppress: a mapping */
static bool
get_stateful(struct loader *l, yaml_node_t *v, struct stateful *st,
	     const char *what)
{
	bool is_distinct = strcmp(what, "distinct") == 0;
	bool is_suppress = strcmp(what, "suppress") == 0;
	yaml_node_pair_t *p;
	bool ok = true, have_count = false, have_window = false;

	if (v->type != YAML_MAPPING_NODE) {
		report(l, v, l->key,
		       "expected a mapping (see rules/README.md)");
		return false;
	}
	st->on = true;
	st->track = TRACK_SRC;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(l, p->key), *x = node(l, p->value);
		const char *ks = scalar(k), *xs = scalar(x);
		size_t kl = key_push(l, ks ? ks : "?", 0);

		if (ks && strcmp(ks, "count") == 0 && !is_suppress) {
			uint32_t c;

			have_count = true;
			if (!get_u32(l, x, &c, 2))
				ok = false;
			else if (is_distinct && c > MAX_DISTINCT) {
				report(l, x, l->key, "at most %d",
				       MAX_DISTINCT);
				ok = false;
			}
			st->count = c;
		} else if (ks && strcmp(ks, "seconds") == 0) {
			have_window = true;
			if (!parse_duration_us(xs, &st->window_us)) {
				report(l, x, l->key,
				       "expected a duration from 1 second to "
				       "366 days (60, 90s, 5m, 1h, 1d)");
				ok = false;
			}
		} else if (ks && strcmp(ks, "track") == 0) {
			if (xs && strcmp(xs, "by_src") == 0)
				st->track = TRACK_SRC;
			else if (xs && strcmp(xs, "by_dst") == 0)
				st->track = TRACK_DST;
			else if (xs && strcmp(xs, "by_pair") == 0)
				st->track = TRACK_PAIR;
			else if (xs && strcmp(xs, "by_rule") == 0 &&
				 is_suppress)
				st->track = TRACK_RULE;
			else {
				report(l, x, l->key,
				       "expected by_src, by_dst, by_pair%s",
				       is_suppress ? " or by_rule" : "");
				ok = false;
			}
		} else if (ks && strcmp(ks, "of") == 0 && is_distinct) {
			if (xs && strcmp(xs, "dst_port") == 0)
				st->of_host = false;
			else if (xs && strcmp(xs, "dst_ip") == 0)
				st->of_host = true;
			else {
				report(l, x, l->key,
				       "expected dst_port or dst_ip");
				ok = false;
			}
		} else {
			report(l, k, l->key, "unknown key in %s", what);
			ok = false;
		}
		key_pop(l, kl);
	}
	if (!have_window || (!is_suppress && !have_count)) {
		report(l, v, l->key, "%s needs %s", what,
		       is_suppress ? "seconds" : "count and seconds");
		ok = false;
	}
	return ok;
}

/*
 * YAML tags have no meaning in a rule, and an unquoted value starting with
 * "!" is one: "http.status: != 200" would read as 200 tagged "!=". Refuse
 * every tag that is not one of YAML's own defaults.
 */
static bool
check_tags(struct loader *l, yaml_node_t *n, unsigned depth)
{
	const char *tag = n ? (const char *)n->tag : NULL;
	bool ok = true;
	size_t len;

	if (n == NULL || depth > 64)
		return true;
	if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
		report(l, n, l->key,
		       "unexpected YAML tag \"%s\": quote values that start "
		       "with ! (write \"!= 200\")",
		       tag);
		ok = false;
	}
	/* l->key follows the path, so that a message names the value. */
	if (n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;

		for (it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			len = key_push(
			    l, NULL, (int)(it - n->data.sequence.items.start));
			ok &= check_tags(l, node(l, *it), depth + 1);
			key_pop(l, len);
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p;

		for (p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			const char *ks = scalar(node(l, p->key));

			ok &= check_tags(l, node(l, p->key), depth + 1);
			len = key_push(l, ks ? ks : "?", 0);
			ok &= check_tags(l, node(l, p->value), depth + 1);
			key_pop(l, len);
		}
	}
	return ok;
}

/* Read one rule mapping into r. Returns false on error (r is then
 * finalised by the caller). */
static bool
load_rule(struct loader *l, yaml_node_t *n, struct rule *r)
{
	yaml_node_pair_t *p;
	yaml_node_t *match = NULL, *on = NULL;
	bool ok = true, have_id = false, have_name = false, have_cat = false,
	     have_sev = false;
	uint32_t seen = 0;

	r->meta.rev = 1;
	r->meta.enabled = true;
	r->meta.file = l->file;
	r->meta.line = (unsigned)n->start_mark.line + 1;
	/* The id first, so that every message names the rule. */
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *ks = scalar(node(l, p->key));

		if (ks && strcmp(ks, "id") == 0) {
			uint32_t id;

			key_push(l, "id", 0);
			if (get_u32(l, node(l, p->value), &id, 1)) {
				r->meta.id = id;
				have_id = true;
			} else {
				ok = false;
			}
			l->key[0] = '\0';
			l->rule_id = r->meta.id;
		}
	}
	if (!check_tags(l, n, 0))
		ok = false;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *ks = scalar(k);
		unsigned i, row = VG_ARRAY_LEN(rule_keys);

		for (i = 0; ks && i < VG_ARRAY_LEN(rule_keys); i++)
			if (strcmp(ks, rule_keys[i]) == 0)
				row = i;
		l->key[0] = '\0';
		key_push(l, ks ? ks : "?", 0);
		if (row == VG_ARRAY_LEN(rule_keys)) {
			struct nearest nr = {NULL, UINT_MAX, ks ? ks : "",
					     NULL};
			const char *near;

			for (i = 0; i < VG_ARRAY_LEN(rule_keys); i++)
				nearest_try(&nr, rule_keys[i]);
			near = nearest_result(&nr);
			if (near)
				report(l, k, l->key,
				       "unknown key (did you mean \"%s\"?)",
				       near);
			else
				report(l, k, l->key, "unknown key");
			ok = false;
			continue;
		}
		if (seen & (1u << row)) {
			report(l, k, l->key, "given twice");
			ok = false;
			continue;
		}
		seen |= 1u << row;
		if (strcmp(ks, "id") == 0) {
			continue;
		} else if (strcmp(ks, "rev") == 0) {
			ok &= get_u32(l, v, &r->meta.rev, 1);
		} else if (strcmp(ks, "name") == 0) {
			have_name = get_str(l, v, &r->meta.name, true);
			ok &= have_name;
		} else if (strcmp(ks, "category") == 0) {
			have_cat = get_str(l, v, &r->meta.category, true);
			ok &= have_cat;
		} else if (strcmp(ks, "description") == 0) {
			ok &= get_str(l, v, &r->meta.description, false);
		} else if (strcmp(ks, "severity") == 0) {
			const char *s = scalar(v);

			for (i = 0; s && i < VG_ARRAY_LEN(severities); i++) {
				if (strcasecmp(s, severities[i].name) == 0) {
					r->meta.severity = severities[i].eve;
					r->meta.severity_name =
					    severities[i].name;
					have_sev = true;
				}
			}
			if (!have_sev) {
				report(l, v, l->key,
				       "expected critical, high, medium, low "
				       "or info");
				ok = false;
			}
		} else if (strcmp(ks, "mitre") == 0) {
			ok &= get_strlist(l, v, &r->meta.mitre,
					  &r->meta.n_mitre, true);
		} else if (strcmp(ks, "tags") == 0) {
			ok &= get_strlist(l, v, &r->meta.tags, &r->meta.n_tags,
					  false);
		} else if (strcmp(ks, "references") == 0) {
			ok &= get_strlist(l, v, &r->meta.refs, &r->meta.n_refs,
					  false);
		} else if (strcmp(ks, "enabled") == 0) {
			const char *s = scalar(v);

			if (s && strcmp(s, "true") == 0)
				r->meta.enabled = true;
			else if (s && strcmp(s, "false") == 0)
				r->meta.enabled = false;
			else {
				report(l, v, l->key, "expected true or false");
				ok = false;
			}
		} else if (strcmp(ks, "on") == 0) {
			on = v;
		} else if (strcmp(ks, "match") == 0) {
			match = v;
		} else if (strcmp(ks, "threshold") == 0) {
			ok &= get_stateful(l, v, &r->threshold, "threshold");
		} else if (strcmp(ks, "distinct") == 0) {
			ok &= get_stateful(l, v, &r->distinct, "distinct");
		} else if (strcmp(ks, "suppress") == 0) {
			ok &= get_stateful(l, v, &r->suppress, "suppress");
		}
	}
	l->key[0] = '\0';
	if (!have_id && !(seen & 1u))
		report(l, n, "id", "missing (every rule needs a unique id)");
	if (!have_name && !(seen & (1u << 2)))
		report(l, n, "name", "missing");
	if (!have_cat && !(seen & (1u << 3)))
		report(l, n, "category", "missing");
	if (!have_sev && !(seen & (1u << 4)))
		report(l, n, "severity", "missing");
	if (!have_id || !(seen & (1u << 2)) || !(seen & (1u << 3)) ||
	    !(seen & (1u << 4)))
		ok = false;
	if (r->threshold.on && r->distinct.on) {
		report(l, n, "distinct",
		       "a rule has threshold or distinct, not both");
		ok = false;
	}
	if (match == NULL) {
		report(l, n, "match", "missing");
		return false;
	}
	strcpy(l->key, "match");
	l->missing_list = false;
	r->match = compile_cond(l, match, 0);
	l->key[0] = '\0';
	if (r->match == NULL)
		return false;
	if (l->missing_list)
		r->meta.enabled = false;
	cond_order(r->match);
	rule_prefilter(r);
	r->meta.on = cond_uses_counters(r->match) ? VG_RULE_ON_FLOW_END
						  : VG_RULE_ON_CLASSIFIED;
	if (on) {
		const char *s = scalar(on);

		if (s && strcmp(s, "classified") == 0) {
			r->meta.on = VG_RULE_ON_CLASSIFIED;
			if (cond_uses_counters(r->match))
				warn(l, on, "on",
				     "byte, packet or duration conditions "
				     "see only the packets before "
				     "classification; flow_end sees the "
				     "whole flow");
		} else if (s && strcmp(s, "flow_end") == 0) {
			r->meta.on = VG_RULE_ON_FLOW_END;
		} else {
			report(l, on, "on", "expected classified or flow_end");
			return false;
		}
	}
	return ok;
}

static bool
grow_rules(struct vg_detect *d)
{
	struct rule *nr;
	unsigned cap = d->cap_rules ? d->cap_rules * 2 : 64;

	if (d->n_rules < d->cap_rules)
		return true;
	nr = realloc(d->rules, cap * sizeof(*nr));
	if (nr == NULL)
		return false;
	d->rules = nr;
	d->cap_rules = cap;
	return true;
}

static void
load_doc(struct loader *l, yaml_node_t *root)
{
	yaml_node_item_t *it;

	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		return; /* an empty document */
	if (root->type != YAML_SEQUENCE_NODE) {
		report(l, root, "",
		       "a rule file is a list of rules (each starting with "
		       "\"- id: ...\")");
		return;
	}
	for (it = root->data.sequence.items.start;
	     it < root->data.sequence.items.top; it++) {
		yaml_node_t *n = node(l, *it);
		struct rule *r;
		unsigned i;

		l->rule_id = 0;
		l->key[0] = '\0';
		if (n == NULL || n->type != YAML_MAPPING_NODE) {
			report(l, n, "", "a rule is a mapping (id: ..., ...)");
			continue;
		}
		if (++l->file_rules > VG_RULES_MAX_PER_FILE) {
			report(l, n, "", "more than %u rules in one file",
			       VG_RULES_MAX_PER_FILE);
			return;
		}
		if (!grow_rules(l->d)) {
			report(l, n, "", "out of memory");
			return;
		}
		r = &l->d->rules[l->d->n_rules];
		memset(r, 0, sizeof(*r));
		if (!load_rule(l, n, r)) {
			rule_fini(r);
			continue;
		}
		for (i = 0; i < l->d->n_rules; i++) {
			const struct rule *o = &l->d->rules[i];

			if (o->meta.id == r->meta.id) {
				report(l, n, "id", "duplicate id (also %s:%u)",
				       o->meta.file, o->meta.line);
				break;
			}
		}
		if (i < l->d->n_rules) {
			rule_fini(r);
			continue;
		}
		l->d->n_rules++;
	}
	l->rule_id = 0;
}

static void
load_file(struct loader *l, const char *path)
{
	yaml_parser_t parser;
	FILE *fp;
	char *name;
	char **files;

	files = realloc(l->d->files, (l->d->n_files + 1) * sizeof(*files));
	name = strdup(path);
	if (files == NULL || name == NULL) {
		free(name);
		if (files)
			l->d->files = files;
		l->file = path;
		report(l, NULL, "", "out of memory");
		return;
	}
	l->d->files = files;
	files[l->d->n_files++] = name;
	l->file = name;
	fp = fopen(path, "rb");
	if (fp == NULL) {
		report(l, NULL, "", "cannot open: %s", strerror(errno));
		return;
	}
	l->file_rules = 0;
	{
		struct stat st;

		if (fstat(fileno(fp), &st) == 0 &&
		    (uint64_t)st.st_size > VG_RULES_MAX_FILE_BYTES) {
			report(l, NULL, "", "file over %u bytes",
			       VG_RULES_MAX_FILE_BYTES);
			fclose(fp);
			return;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(fp);
		report(l, NULL, "", "out of memory");
		return;
	}
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			if (l->errs && ++l->n_errors <= MAX_ERRORS)
				fprintf(
				    l->errs, "%s:%lu: YAML: %s%s%s\n", name,
				    (unsigned long)parser.problem_mark.line + 1,
				    parser.problem ? parser.problem : "",
				    parser.context ? " " : "",
				    parser.context ? parser.context : "");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (root == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		l->doc = &doc;
		load_doc(l, root);
		l->doc = NULL;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(fp);
}

static const char *const rule_suffixes[] = {".yaml", ".yml", NULL};

static void
load_one(const char *path, void *arg)
{
	load_file(arg, path);
}

/* A file, or the *.yaml / *.yml files of a folder in name order. */
static void
load_path(struct loader *l, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		l->file = path;
		report(l, NULL, "detection.rules", "%s", strerror(errno));
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		load_file(l, path);
		return;
	}
	/* Only the folder's own files: sub-folders are not read, whatever
	 * their name (rules/README.md). */
	if (vg_dir_each(path, rule_suffixes, load_one, l) != 0) {
		l->file = path;
		report(l, NULL, "detection.rules", "%s", strerror(errno));
	}
}

/* ------------------------------------------------------------------ */
/* Loading: the whole set                                               */

const struct vg_shipped_list vg_shipped_lists[VG_SHIPPED_LISTS] = {
    {"blocklist-ip", "ioc/blocklist-ip.txt", VG_IOC_IP},
    {"blocklist-domain", "ioc/blocklist-domain.txt", VG_IOC_DOMAIN},
    {"blocklist-ja3", "ioc/blocklist-ja3.txt", VG_IOC_JA3},
};

static enum vg_err
load_lists(struct loader *l, const struct vg_config *cfg)
{
	const struct vg_shipped_list *shipped = vg_shipped_lists;
	struct vg_detect *d = l->d;
	unsigned i, n = cfg->ioc_set ? cfg->n_ioc : VG_SHIPPED_LISTS;
	enum vg_err err = VG_OK;

	d->lists = calloc(n ? n : 1, sizeof(*d->lists));
	if (d->lists == NULL)
		return VG_ENOMEM;
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		const char *name, *p;
		int type;
		enum vg_err e;

		if (cfg->ioc_set) {
			name = cfg->ioc[i].name;
			p = cfg->ioc[i].path;
			type = vg_ioc_type_from_name(cfg->ioc[i].type);
		} else {
			if (l->shipped == NULL)
				break;
			name = shipped[i].name;
			type = (int)shipped[i].type;
			snprintf(path, sizeof(path), "%s/%s", l->shipped,
				 shipped[i].file);
			p = path;
			if (access(p, R_OK) != 0)
				continue; /* not installed: no list */
		}
		if (type < 0)
			return VG_EINVAL; /* config validated it */
		e = vg_ioc_list_load(&d->lists[d->n_lists], name,
				     (enum vg_ioc_type)type, p, l->errs);
		if (e != VG_OK) {
			l->n_errors++;
			err = err == VG_OK ? e : err;
			continue;
		}
		d->n_lists++;
	}
	return err;
}

enum vg_err
vg_detect_load(struct vg_detect **out, const struct vg_config *cfg,
	       const char *shipped, FILE *errs)
{
	struct vg_detect *d;
	struct loader l;
	unsigned i;
	enum vg_err err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return VG_ENOMEM;
	memset(&l, 0, sizeof(l));
	l.d = d;
	l.errs = errs;
	l.shipped = shipped;
	d->generation = atomic_fetch_add(&generations, 1) + 1;

	/* home_net */
	err = vg_cidr_set_new(&d->home_net);
	for (i = 0; err == VG_OK && i < cfg->n_home_net; i++) {
		uint8_t ver, addr[16];
		unsigned plen;

		err = vg_cidr_parse(cfg->home_net[i], &ver, addr, &plen);
		if (err == VG_OK)
			err = vg_cidr_set_add(d->home_net, ver, addr, plen);
	}
	if (err != VG_OK) {
		if (errs)
			fprintf(errs, "%s: detection.home_net: cannot load\n",
				cfg->path ? cfg->path : "defaults");
		vg_detect_free(d);
		return err;
	}

	/* GeoIP readers */
	if (cfg->geoip_country_db || cfg->geoip_asn_db) {
		char msg[512];

		err = vg_geoip_open(&d->geo, cfg->geoip_country_db,
				    cfg->geoip_asn_db, msg, sizeof(msg));
		if (err != VG_OK) {
			if (errs)
				fprintf(errs, "%s: geoip: %s\n",
					cfg->path ? cfg->path : "defaults",
					msg);
			vg_detect_free(d);
			return err;
		}
	}

	/* IoC lists */
	err = load_lists(&l, cfg);
	if (err != VG_OK) {
		vg_detect_free(d);
		return err;
	}

	/* Rules */
	if (cfg->rule_paths_set) {
		for (i = 0; i < cfg->n_rule_paths; i++)
			load_path(&l, cfg->rule_paths[i]);
	} else if (shipped) {
		char path[PATH_MAX];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/network", shipped);
		if (stat(path, &sb) != 0) {
			l.file = cfg->path ? cfg->path : "(built-in defaults)";
			report(&l, NULL, "detection.rules",
			       "not set, and the shipped rules are not "
			       "installed at %s: install them or list rule "
			       "files here",
			       path);
		} else {
			load_path(&l, path);
		}
	}
	if (l.n_errors) {
		vg_detect_free(d);
		return VG_EINVAL;
	}
	for (i = 0; i < 2; i++) {
		d->by_on[i] =
		    calloc(d->n_rules ? d->n_rules : 1, sizeof(unsigned));
		if (d->by_on[i] == NULL) {
			vg_detect_free(d);
			return VG_ENOMEM;
		}
	}
	for (i = 0; i < d->n_rules; i++) {
		enum vg_rule_on on = d->rules[i].meta.on;

		if (!d->rules[i].meta.enabled)
			continue;
		d->n_enabled++;
		d->wants[on] = true;
		d->by_on[on][d->n_by_on[on]++] = i;
	}
	*out = d;
	return VG_OK;
}

void
vg_detect_free(struct vg_detect *d)
{
	unsigned i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n_rules; i++)
		rule_fini(&d->rules[i]);
	free(d->rules);
	free(d->by_on[0]);
	free(d->by_on[1]);
	for (i = 0; i < d->n_lists; i++)
		vg_ioc_list_free(d->lists[i]);
	free(d->lists);
	vg_cidr_set_free(d->home_net);
	vg_geoip_close(d->geo);
	for (i = 0; i < d->n_files; i++)
		free(d->files[i]);
	free(d->files);
	free(d);
}

uint64_t
vg_detect_generation(const struct vg_detect *d)
{
	return d->generation;
}

unsigned
vg_detect_rule_count(const struct vg_detect *d)
{
	return d->n_rules;
}

unsigned
vg_detect_rules_enabled(const struct vg_detect *d)
{
	return d->n_enabled;
}

const struct vg_rule_meta *
vg_detect_rule(const struct vg_detect *d, unsigned i)
{
	return i < d->n_rules ? &d->rules[i].meta : NULL;
}

uint64_t
vg_detect_rule_alerts(const struct vg_detect *d, unsigned i)
{
	return i < d->n_rules ? atomic_load_explicit(&d->rules[i].alerts,
						     memory_order_relaxed)
			      : 0;
}

uint64_t
vg_detect_rule_suppressed(const struct vg_detect *d, unsigned i)
{
	return i < d->n_rules ? atomic_load_explicit(&d->rules[i].suppressed,
						     memory_order_relaxed)
			      : 0;
}

unsigned
vg_detect_list_count(const struct vg_detect *d)
{
	return d->n_lists;
}

size_t
vg_detect_list_entries(const struct vg_detect *d)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < d->n_lists; i++)
		n += vg_ioc_list_count(d->lists[i]);
	return n;
}

bool
vg_detect_wants(const struct vg_detect *d, enum vg_rule_on on)
{
	return d != NULL && d->wants[on];
}

/* ------------------------------------------------------------------ */
/* Per-thread evaluation context                                        */

struct vg_detect_worker {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct vg_geo_cache *geo;
	struct vg_detect_worker_stats st;
};

enum vg_err
vg_detect_worker_new(struct vg_detect_worker **out)
{
	struct vg_detect_worker *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		return VG_ENOMEM;
	w->md = pcre2_match_data_create(1, NULL);
	w->mctx = pcre2_match_context_create(NULL);
	if (w->md == NULL || w->mctx == NULL ||
	    vg_geo_cache_new(&w->geo, GEO_CACHE_SLOTS) != VG_OK) {
		vg_detect_worker_free(w);
		return VG_ENOMEM;
	}
	pcre2_set_match_limit(w->mctx, REGEX_LIMIT);
	*out = w;
	return VG_OK;
}

void
vg_detect_worker_free(struct vg_detect_worker *w)
{
	if (w == NULL)
		return;
	pcre2_match_data_free(w->md);
	pcre2_match_context_free(w->mctx);
	vg_geo_cache_free(w->geo);
	free(w);
}

void
vg_detect_worker_stats(const struct vg_detect_worker *w,
		       struct vg_detect_worker_stats *out)
{
	struct vg_geo_cache_stats gs;

	*out = w->st;
	vg_geo_cache_stats(w->geo, &gs);
	out->geo_hits = gs.hits;
	out->geo_misses = gs.misses;
}

bool
vg_detect_geo(const struct vg_detect *d, struct vg_detect_worker *w,
	      uint8_t ip_version, const uint8_t addr[16], struct vg_geo *out)
{
	if (d->geo == NULL) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	return vg_geo_cache_lookup(w->geo, d->geo, d->generation, ip_version,
				   addr, out);
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                           */

/* One flow being evaluated: lazily computed facts. */
struct eval {
	const struct vg_detect *d;
	struct vg_detect_worker *w;
	const struct vg_flow_info *fi;
	int dir;              /* DIR_* bit, 0: not yet known */
	int geo_done[2];      /* 0 not yet, 1 known, -1 unknown */
	struct vg_geo geo[2]; /* [0] src, [1] dst */
};

static int
flow_dir(struct eval *ev)
{
	if (ev->dir == 0) {
		bool s = vg_cidr_set_contains(
		    ev->d->home_net, ev->fi->ip_version, ev->fi->src_ip);
		bool t = vg_cidr_set_contains(
		    ev->d->home_net, ev->fi->ip_version, ev->fi->dst_ip);

		ev->dir = s ? (t ? DIR_INTERNAL : DIR_OUTBOUND)
			    : (t ? DIR_INBOUND : DIR_EXTERNAL);
	}
	return ev->dir;
}

static const struct vg_geo *
flow_geo(struct eval *ev, int i)
{
	if (ev->geo_done[i] == 0) {
		bool ok = vg_detect_geo(ev->d, ev->w, ev->fi->ip_version,
					i ? ev->fi->dst_ip : ev->fi->src_ip,
					&ev->geo[i]);

		ev->geo_done[i] = ok ? 1 : -1;
	}
	return ev->geo_done[i] > 0 ? &ev->geo[i] : NULL;
}

static const char *
sfield_value(const struct vg_flow_info *fi, unsigned f)
{
	switch ((enum sfield)f) {
	case SF_SNI:
		return fi->tls_sni;
	case SF_HTTP_HOST:
		return fi->http_host;
	case SF_URL:
		return fi->http_url;
	case SF_UA:
		return fi->http_user_agent;
	case SF_METHOD:
		return fi->http_method;
	case SF_CTYPE:
		return fi->http_content_type;
	case SF_DNS_QUERY:
		return fi->dns_query;
	case SF_JA3:
		return fi->tls_ja3;
	case SF_JA3S:
		return fi->tls_ja3s;
	case SF_TLS_VERSION:
		return fi->tls_version;
	case SF_SUBJECT:
		return fi->tls_subject;
	case SF_ISSUER:
		return fi->tls_issuer;
	case SF_ALPN:
		return fi->tls_alpn;
	case SF_SSH_CLIENT:
		return fi->ssh_client;
	case SF_SSH_SERVER:
		return fi->ssh_server;
	case SF_DOMAIN:
		break;
	}
	return NULL;
}

/* Case-insensitive comparisons against lower-case pattern text. */
static bool
ci_eq(const char *s, size_t sl, const char *p, size_t pl)
{
	return sl == pl && strncasecmp(s, p, pl) == 0;
}

static bool
match_one(struct eval *ev, const struct matcher *m, const char *s)
{
	size_t sl = strlen(s);
	int rc;

	switch (m->kind) {
	case MK_EXACT:
		return ci_eq(s, sl, m->text, m->len);
	case MK_SUFFIX:
		return sl >= m->len &&
		       strncasecmp(s + sl - m->len, m->text, m->len) == 0;
	case MK_PREFIX:
		return sl >= m->len && strncasecmp(s, m->text, m->len) == 0;
	case MK_CONTAINS:
		return strcasestr(s, m->text) != NULL;
	case MK_GLOB:
		return fnmatch(m->text, s, FNM_CASEFOLD) == 0;
	case MK_REGEX:
		rc = pcre2_match(m->re, (PCRE2_SPTR)s, sl, 0, 0, ev->w->md,
				 ev->w->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			ev->w->st.regex_errors++;
		return rc >= 0;
	}
	return false;
}

static bool
match_str(struct eval *ev, const struct cond *c, const char *s)
{
	unsigned i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; i < c->n; i++)
		if (match_one(ev, &c->u.m[i], s))
			return true;
	return false;
}

static bool
match_list_str(const struct cond *c, unsigned i, const char *s, bool hash)
{
	if (s == NULL || s[0] == '\0')
		return false;
	return hash ? vg_ioc_match_hash(c->u.lists[i], s)
		    : vg_ioc_match_domain(c->u.lists[i], s);
}

static bool
match_lists(struct eval *ev, const struct cond *c)
{
	const struct vg_flow_info *fi = ev->fi;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		const struct vg_ioc_list *li = c->u.lists[i];

		switch (vg_ioc_list_type(li)) {
		case VG_IOC_IP:
			if (vg_ioc_match_ip(li, fi->ip_version, fi->src_ip) ||
			    vg_ioc_match_ip(li, fi->ip_version, fi->dst_ip))
				return true;
			break;
		case VG_IOC_DOMAIN:
			if (c->field != 0xff && c->field != SF_DOMAIN) {
				if (match_list_str(c, i,
						   sfield_value(fi, c->field),
						   false))
					return true;
				break;
			}
			if (match_list_str(c, i, fi->tls_sni, false) ||
			    match_list_str(c, i, fi->http_host, false) ||
			    match_list_str(c, i, fi->dns_query, false))
				return true;
			break;
		case VG_IOC_JA3:
			if (c->field != 0xff) {
				if (match_list_str(
					c, i, sfield_value(fi, c->field), true))
					return true;
				break;
			}
			if (match_list_str(c, i, fi->tls_ja3, true))
				return true;
			break;
		case VG_IOC_SHA256:
			break;
		}
	}
	return false;
}

static bool
match_port(const struct cond *c, uint16_t port)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (port >= c->u.ports[i][0] && port <= c->u.ports[i][1])
			return true;
	return false;
}

static bool
match_num(const struct cond *c, const struct vg_flow_info *fi)
{
	uint64_t v = 0;

	switch ((enum nfield)c->field) {
	case NF_BYTES_TS:
		v = fi->bytes_toserver;
		break;
	case NF_BYTES_TC:
		v = fi->bytes_toclient;
		break;
	case NF_PKTS_TS:
		v = fi->pkts_toserver;
		break;
	case NF_PKTS_TC:
		v = fi->pkts_toclient;
		break;
	case NF_BYTES:
		v = fi->bytes_toserver + fi->bytes_toclient;
		break;
	case NF_PKTS:
		v = fi->pkts_toserver + fi->pkts_toclient;
		break;
	case NF_DURATION:
		v = fi->end_us > fi->start_us
			? (uint64_t)(fi->end_us - fi->start_us) / 1000000
			: 0;
		break;
	case NF_RISK_SCORE:
		v = fi->risk_score;
		break;
	case NF_HTTP_STATUS:
		v = fi->http_status;
		break;
	}
	switch ((enum nop)c->op) {
	case OP_EQ:
		return v == c->u.num;
	case OP_NE:
		return v != c->u.num;
	case OP_GT:
		return v > c->u.num;
	case OP_GE:
		return v >= c->u.num;
	case OP_LT:
		return v < c->u.num;
	case OP_LE:
		return v <= c->u.num;
	}
	return false;
}

/* Country or ASN of one side in the condition's set. Unknown never
 * matches, neither in nor not_in. */
static int
geo_side(struct eval *ev, const struct cond *c, int i)
{
	const struct vg_geo *g = flow_geo(ev, i);
	unsigned k;
	bool in = false;

	if (g == NULL)
		return -1;
	if (c->kind == CK_COUNTRY) {
		if (g->country[0] == '\0')
			return -1;
		for (k = 0; k < c->n && !in; k++)
			in = memcmp(g->country, c->u.cc[k], 2) == 0;
	} else {
		if (g->asn == 0)
			return -1;
		for (k = 0; k < c->n && !in; k++)
			in = g->asn == c->u.asn[k];
	}
	return in != c->negate;
}

static bool
match_geo(struct eval *ev, const struct cond *c)
{
	if (c->side == SIDE_SRC)
		return geo_side(ev, c, 0) > 0;
	if (c->side == SIDE_DST)
		return geo_side(ev, c, 1) > 0;
	return geo_side(ev, c, 0) > 0 || geo_side(ev, c, 1) > 0;
}

static bool
proto_in(const uint64_t *bits, unsigned id)
{
	return id < PROTO_WORDS * 64 && ((bits[id / 64] >> (id % 64)) & 1);
}

static bool
eval_cond(struct eval *ev, const struct cond *c)
{
	const struct vg_flow_info *fi = ev->fi;
	unsigned i;

	switch (c->kind) {
	case CK_ALL:
		for (i = 0; i < c->n; i++)
			if (!eval_cond(ev, c->u.kids[i]))
				return false;
		return true;
	case CK_ANY:
		for (i = 0; i < c->n; i++)
			if (eval_cond(ev, c->u.kids[i]))
				return true;
		return false;
	case CK_NOT:
		return !eval_cond(ev, c->u.kids[0]);
	case CK_PROTO:
		return proto_in(c->u.bits, fi->master_id) ||
		       proto_in(c->u.bits, fi->app_id);
	case CK_CATEGORY:
		return fi->category_id < 256 &&
		       ((c->proto_bits[fi->category_id / 64] >>
			 (fi->category_id % 64)) &
			1);
	case CK_RISK:
		return (fi->risk_mask & c->u.mask) != 0;
	case CK_CONFIDENCE:
		return fi->confidence_id < 64 &&
		       ((c->u.mask >> fi->confidence_id) & 1);
	case CK_TRANSPORT:
		return (c->proto_bits[fi->proto / 64] >> (fi->proto % 64)) & 1;
	case CK_PORT:
		if (fi->proto != 6 && fi->proto != 17 && fi->proto != 132)
			return false;
		if ((c->side & SIDE_SRC) && match_port(c, fi->src_port))
			return true;
		return (c->side & SIDE_DST) && match_port(c, fi->dst_port);
	case CK_DIRECTION:
		return (flow_dir(ev) & (int)c->u.mask) != 0;
	case CK_CIDR:
		if ((c->side & SIDE_SRC) &&
		    vg_cidr_set_contains(c->u.cidr, fi->ip_version, fi->src_ip))
			return true;
		return (c->side & SIDE_DST) &&
		       vg_cidr_set_contains(c->u.cidr, fi->ip_version,
					    fi->dst_ip);
	case CK_IPLIST:
		for (i = 0; i < c->n; i++) {
			if ((c->side & SIDE_SRC) &&
			    vg_ioc_match_ip(c->u.lists[i], fi->ip_version,
					    fi->src_ip))
				return true;
			if ((c->side & SIDE_DST) &&
			    vg_ioc_match_ip(c->u.lists[i], fi->ip_version,
					    fi->dst_ip))
				return true;
		}
		return false;
	case CK_STR:
		if (c->field == SF_DOMAIN)
			return match_str(ev, c, fi->tls_sni) ||
			       match_str(ev, c, fi->http_host) ||
			       match_str(ev, c, fi->dns_query);
		return match_str(ev, c, sfield_value(fi, c->field));
	case CK_STRLIST:
		return match_lists(ev, c);
	case CK_COUNTRY:
	case CK_ASN:
		return match_geo(ev, c);
	case CK_NUM:
		return match_num(c, fi);
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* State of stateful rules                                              */

enum st_kind { ST_THRESHOLD, ST_DISTINCT, ST_SUPPRESS };

struct st_key {
	uint32_t rule_id;
	uint8_t kind; /* enum st_kind */
	uint8_t track;
	uint8_t ip_version;
	uint8_t pad;
	uint8_t a[16];
	uint8_t b[16];
};

struct st_entry {
	struct st_key key;
	struct st_entry *hnext;
	struct st_entry *prev, *next; /* LRU: head is the oldest */
	int64_t t0;                   /* window start / last alert */
	uint64_t count;               /* hits in window / suppressed */
	uint32_t cap;                 /* distinct: slots in vals */
	uint32_t n;
	uint64_t *vals;
};

/* A stripe to a cache line of its own: workers locking neighbouring
 * stripes must not share one. */
struct stripe {
	alignas(64) pthread_mutex_t mu;
	struct st_entry **buckets;
	unsigned n_buckets; /* power of two */
	unsigned n, max;
	struct st_entry *head, *tail;
	uint64_t evicted, alloc_failed;
};

struct vg_detect_state {
	struct stripe s[STATE_STRIPES];
};

enum vg_err
vg_detect_state_new(struct vg_detect_state **out, unsigned max_entries)
{
	struct vg_detect_state *st;
	unsigned i, per = max_entries / STATE_STRIPES, nb = 16;

	*out = NULL;
	if (per < 16)
		per = 16;
	while (nb < per)
		nb <<= 1;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return VG_ENOMEM;
	for (i = 0; i < STATE_STRIPES; i++) {
		struct stripe *s = &st->s[i];

		pthread_mutex_init(&s->mu, NULL);
		s->max = per;
		s->n_buckets = nb;
		s->buckets = calloc(nb, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			vg_detect_state_free(st);
			return VG_ENOMEM;
		}
	}
	*out = st;
	return VG_OK;
}

void
vg_detect_state_free(struct vg_detect_state *st)
{
	unsigned i;

	if (st == NULL)
		return;
	for (i = 0; i < STATE_STRIPES; i++) {
		struct stripe *s = &st->s[i];
		struct st_entry *e = s->head, *nx;

		for (; e; e = nx) {
			nx = e->next;
			free(e->vals);
			free(e);
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(st);
}

void
vg_detect_state_stats(struct vg_detect_state *st,
		      struct vg_detect_state_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < STATE_STRIPES; i++) {
		struct stripe *s = &st->s[i];

		pthread_mutex_lock(&s->mu);
		out->entries += s->n;
		out->evicted += s->evicted;
		out->alloc_failed += s->alloc_failed;
		pthread_mutex_unlock(&s->mu);
	}
}

static uint64_t
key_hash(const struct st_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static void
lru_unlink(struct stripe *s, struct st_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_append(struct stripe *s, struct st_entry *e)
{
	e->prev = s->tail;
	e->next = NULL;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
}

static void
st_remove(struct stripe *s, struct st_entry *e, uint64_t h)
{
	struct st_entry **pp = &s->buckets[(h >> 6) & (s->n_buckets - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(s, e);
	s->n--;
	free(e->vals);
	free(e);
}

/* Find or make the entry of k in its (locked) stripe; NULL: no memory. */
static struct st_entry *
st_get(struct stripe *s, const struct st_key *k, uint64_t h)
{
	struct st_entry **b = &s->buckets[(h >> 6) & (s->n_buckets - 1)];
	struct st_entry *e;

	for (e = *b; e; e = e->hnext) {
		if (memcmp(&e->key, k, sizeof(*k)) == 0) {
			lru_unlink(s, e);
			lru_append(s, e);
			return e;
		}
	}
	if (s->n >= s->max && s->head) {
		struct st_entry *old = s->head;

		st_remove(s, old, key_hash(&old->key));
		s->evicted++;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		s->alloc_failed++;
		return NULL;
	}
	e->key = *k;
	e->t0 = INT64_MIN;
	e->hnext = *b;
	*b = e;
	lru_append(s, e);
	s->n++;
	return e;
}

static void
make_key(struct st_key *k, const struct rule *r, enum st_kind kind,
	 enum track track, const struct vg_flow_info *fi)
{
	memset(k, 0, sizeof(*k));
	k->rule_id = r->meta.id;
	k->kind = (uint8_t)kind;
	k->track = (uint8_t)track;
	k->ip_version = fi->ip_version;
	switch (track) {
	case TRACK_SRC:
		memcpy(k->a, fi->src_ip, 16);
		break;
	case TRACK_DST:
		memcpy(k->a, fi->dst_ip, 16);
		break;
	case TRACK_PAIR:
		memcpy(k->a, fi->src_ip, 16);
		memcpy(k->b, fi->dst_ip, 16);
		break;
	case TRACK_RULE:
		k->ip_version = 0;
		break;
	}
}

static struct stripe *
stripe_of(struct vg_detect_state *st, uint64_t h)
{
	return &st->s[h % STATE_STRIPES];
}

/* Threshold or distinct: true when this hit completes the count. */
static bool
st_count(struct vg_detect_state *st, const struct rule *r,
	 const struct stateful *sf, enum st_kind kind,
	 const struct vg_flow_info *fi, int64_t now_us)
{
	struct st_key k;
	struct stripe *s;
	struct st_entry *e;
	uint64_t h, val = 0;
	bool fire = false;
	uint32_t i;

	make_key(&k, r, kind, sf->track, fi);
	h = key_hash(&k);
	s = stripe_of(st, h);
	pthread_mutex_lock(&s->mu);
	e = st_get(s, &k, h);
	if (e == NULL)
		goto out;
	if (e->t0 == INT64_MIN || now_us - e->t0 > sf->window_us ||
	    (kind == ST_THRESHOLD && e->cap != sf->count) ||
	    (kind == ST_DISTINCT && e->cap != sf->count)) {
		/* A new window (or the rule's count changed on reload). */
		e->t0 = now_us;
		e->count = 0;
		e->n = 0;
		if (kind == ST_THRESHOLD)
			e->cap = sf->count;
		if (kind == ST_DISTINCT && e->cap != sf->count) {
			free(e->vals);
			e->vals = calloc(sf->count, sizeof(*e->vals));
			e->cap = e->vals ? sf->count : 0;
			if (e->vals == NULL) {
				s->alloc_failed++;
				goto out;
			}
		}
	}
	if (kind == ST_THRESHOLD) {
		fire = ++e->count >= sf->count;
	} else {
		if (sf->of_host) {
			/* The destination address itself, folded. */
			uint64_t x = 0, y = 0;

			memcpy(&x, fi->dst_ip, 8);
			memcpy(&y, fi->dst_ip + 8, 8);
			val = x ^ (y * 0x9e3779b97f4a7c15ULL) ^ fi->ip_version;
		} else {
			val = fi->dst_port;
		}
		for (i = 0; i < e->n; i++)
			if (e->vals[i] == val)
				break;
		if (i == e->n && e->n < e->cap)
			e->vals[e->n++] = val;
		fire = e->n >= sf->count;
	}
	if (fire) {
		e->t0 = INT64_MIN;
		e->count = 0;
		e->n = 0;
	}
out:
	pthread_mutex_unlock(&s->mu);
	return fire;
}

/* Suppress: returns the alert count (0: held back). */
static uint64_t
st_suppress(struct vg_detect_state *st, const struct rule *r,
	    const struct vg_flow_info *fi, int64_t now_us)
{
	struct st_key k;
	struct stripe *s;
	struct st_entry *e;
	uint64_t h, count = 1;

	make_key(&k, r, ST_SUPPRESS, r->suppress.track, fi);
	h = key_hash(&k);
	s = stripe_of(st, h);
	pthread_mutex_lock(&s->mu);
	e = st_get(s, &k, h);
	if (e != NULL) {
		if (e->t0 != INT64_MIN && now_us >= e->t0 &&
		    now_us - e->t0 < r->suppress.window_us) {
			e->count++;
			count = 0;
		} else {
			count = 1 + e->count;
			e->count = 0;
			e->t0 = now_us;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return count;
}

unsigned
vg_detect_eval(const struct vg_detect *d, struct vg_detect_state *st,
	       struct vg_detect_worker *w, enum vg_rule_on on,
	       const struct vg_flow_info *fi, int64_t now_us,
	       struct vg_alert *alerts, unsigned max)
{
	struct eval ev;
	unsigned i, n = 0;

	if (d == NULL || !d->wants[on])
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.d = d;
	ev.w = w;
	ev.fi = fi;
	w->st.evaluated++;
	for (i = 0; i < d->n_by_on[on] && n < max; i++) {
		struct rule *r = &d->rules[d->by_on[on][i]];
		uint64_t count = 1;

		if (r->need_risk && !(fi->risk_mask & r->need_risk))
			continue;
		if (r->need_proto && !proto_in(r->need_proto, fi->master_id) &&
		    !proto_in(r->need_proto, fi->app_id))
			continue;
		if (!eval_cond(&ev, r->match))
			continue;
		w->st.matched++;
		if (st != NULL) {
			if (r->threshold.on &&
			    !st_count(st, r, &r->threshold, ST_THRESHOLD, fi,
				      now_us))
				continue;
			if (r->distinct.on &&
			    !st_count(st, r, &r->distinct, ST_DISTINCT, fi,
				      now_us))
				continue;
			if (r->suppress.on) {
				count = st_suppress(st, r, fi, now_us);
				if (count == 0) {
					w->st.suppressed++;
					atomic_fetch_add_explicit(
					    &r->suppressed, 1,
					    memory_order_relaxed);
					continue;
				}
			}
		}
		atomic_fetch_add_explicit(&r->alerts, 1, memory_order_relaxed);
		w->st.alerts++;
		alerts[n].rule = &r->meta;
		alerts[n].count = count;
		n++;
	}
	return n;
}
