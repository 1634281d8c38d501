/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: read /etc/vigil/agent.yaml into struct vg_config,
 * with a default for every setting and an exact FILE:LINE: KEY: MESSAGE
 * line for every mistake.
 *
 * vigil-agent calls vg_config_load() once at start (and `vigil-agent check`
 * calls it to validate a file); every other module only reads the struct.
 * Loading works in four steps:
 *
 *  1. The file is read once into memory (at most MAX_FILE_BYTES), so both
 *     passes below see the same bytes even if the file changes meanwhile.
 *  2. Pass 1 walks libyaml's event stream against keys[], the one table of
 *     every setting (path, kind, field, bounds, default). It reports every
 *     unknown or duplicate key, wrong type, bad or out-of-range value and
 *     missing required key, each with the line libyaml gives (mark.line +
 *     1), and records the line of every key path it accepted.
 *  3. Only if pass 1 found nothing, libcyaml loads the same bytes against
 *     the schema below. The schema takes every number and boolean as a
 *     string: libcyaml 1.3 reads integers with strtoll(..., 0) (so "010" is
 *     8 and "0x10" is 16) and any word that is not false-like as true, so
 *     scalars go through our own strict parsers instead. libcyaml's own
 *     complaints carry unreliable line numbers (an unknown key is reported
 *     on the line of the previous value), so they are only a safety net,
 *     mapped back to a key path and to the line pass 1 recorded.
 *  4. The strings libcyaml loaded are converted with the same functions
 *     pass 1 used to check them, and copied into the caller's struct.
 */
#include "config.h"

#include "decode.h"

#include <cyaml/cyaml.h>
#include <yaml.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define MAX_FILE_BYTES (1 * MiB) /* a configuration is a few KiB */
#define MAX_STRING     4096      /* longest string value (BPF filters) */
#define MAX_DEPTH      8         /* the schema nests 4 deep */
#define MAX_LINES      512       /* recorded key lines; the schema bounds it */
#define PATH_LEN       160       /* dotted key path, truncated if longer */
#define MSG_LEN        256

#define MACHINE_ID_FILE "/etc/machine-id"
#define MACHINE_ID_LEN  32

#define DEFAULT_TUNNELS (VG_TUN_GRE | VG_TUN_VXLAN | VG_TUN_GTP)

/*
 * libcyaml's view of the file. Every scalar is a string (NULL when the key
 * is absent) that the strict parsers below convert; see the file comment.
 */
struct raw_iface {
	char *name;
	char *bpf;
	char *snaplen;
	char *buffer_size;
	char *promiscuous;
	char *immediate;
};

struct raw_agent {
	char *id;
	char *agency;
	char *hostname;
};

struct raw_capture {
	struct raw_iface *interfaces;
	unsigned interfaces_count;
	char *ring_slots;
};

struct raw_decode {
	char **tunnels;
	unsigned tunnels_count;
};

struct raw_dpi {
	char *tcp;
	char *udp;
};

struct raw_flows {
	char *idle_timeout;
	char *active_timeout;
	char *max;
	struct raw_dpi dpi_max_packets;
	char *dpi_idle_timeout;
};

struct raw_file {
	char *path;
};

struct raw_output {
	struct raw_file file;
	char *flows;
	char *stats_interval;
	char *event_max_bytes;
	char *queue;
};

struct raw_log {
	char *level;
};

struct raw_config {
	struct raw_agent agent;
	struct raw_capture capture;
	struct raw_decode decode;
	char *workers;
	struct raw_flows flows;
	struct raw_output output;
	struct raw_log log;
};

/* What a key holds. */
enum kind {
	K_MAP,      /* a mapping of further keys */
	K_SEQ,      /* a list; its entries are described by "<path>[]" */
	K_TUNNELS,  /* decode.tunnels: a list of K_TUNNEL names -> a mask */
	K_UINT,     /* decimal integer */
	K_SIZE,     /* bytes: integer, or with a KiB, MiB or GiB suffix */
	K_DURATION, /* seconds: integer, or with an s, m, h or d suffix */
	K_BOOL,     /* true/false, yes/no, on/off */
	K_STRING,
	K_LEVEL,  /* syslog level name, see levels[] */
	K_TUNNEL, /* tunnel name, see tunnel_names[] */
};

#define F_IFACE     0x01 /* field is in struct vg_iface_config, raw_iface */
#define F_REQUIRED  0x02 /* the enclosing mapping must have this key */
#define F_POW2      0x04 /* number must be a power of two */
#define F_NONEMPTY  0x08 /* string must not be empty */
#define F_NOCTL     0x10 /* string must not contain control characters */
#define F_AGENCY    0x20 /* string must match [a-z0-9][a-z0-9._-]{0,63} */
#define F_NULLEMPTY 0x40 /* an empty string is stored as NULL */

/*
 * One row per key. Pass 1, the conversion, the defaults and the dump are
 * all driven by this table, so a key's type, bounds and default live here
 * and nowhere else. Rows are in document order (the dump relies on it).
 * For K_SEQ and K_TUNNELS, max is the most entries the list may have.
 */
struct key {
	const char *path; /* dotted; "[]" stands for any list index */
	enum kind kind;
	unsigned flags;
	size_t off; /* field in struct vg_config (F_IFACE: iface) */
	size_t raw; /* char * in struct raw_config (F_IFACE: raw_iface) */
	unsigned long long min;
	unsigned long long max;
	unsigned long long def;
};

/*
 * offsetof() that fails to compile unless the member has type t, so that
 * a row can never store a bool through an unsigned pointer.
 */
#define TYPED_OFF(st, m, t)                                                    \
	(offsetof(st, m) + 0 * sizeof(_Generic(((st *)NULL)->m, t : 1)))

#define SECTION(p, k, n)                                                       \
	{                                                                      \
		p, k, 0, 0, 0, 0, n, 0                                         \
	}
#define CFG(p, k, fl, m, t, r, lo, hi, d)                                      \
	{                                                                      \
		p, k, fl, TYPED_OFF(struct vg_config, m, t),                   \
		    TYPED_OFF(struct raw_config, r, char *), lo, hi, d         \
	}
#define IFC(p, k, fl, m, t, lo, hi, d)                                         \
	{                                                                      \
		p, k, (fl) | F_IFACE, TYPED_OFF(struct vg_iface_config, m, t), \
		    TYPED_OFF(struct raw_iface, m, char *), lo, hi, d          \
	}
#define CFG_STR(p, fl, m, r) CFG(p, K_STRING, fl, m, char *, r, 0, 0, 0)

static const struct key keys[] = {
    SECTION("agent", K_MAP, 0),
    CFG_STR("agent.id", F_NONEMPTY | F_NOCTL, agent_id, agent.id),
    CFG_STR("agent.agency", F_AGENCY, agency, agent.agency),
    CFG_STR("agent.hostname", F_NONEMPTY | F_NOCTL, hostname, agent.hostname),

    SECTION("capture", K_MAP, 0),
    SECTION("capture.interfaces", K_SEQ, VG_CONFIG_MAX_IFACES),
    SECTION("capture.interfaces[]", K_MAP, 0),
    IFC("capture.interfaces[].name", K_STRING,
	F_REQUIRED | F_NONEMPTY | F_NOCTL, name, char *, 0, 0, 0),
    IFC("capture.interfaces[].bpf", K_STRING, F_NULLEMPTY, bpf, char *, 0, 0,
	0),
    IFC("capture.interfaces[].snaplen", K_UINT, 0, snaplen, unsigned, 64,
	262144, 65535),
    IFC("capture.interfaces[].buffer_size", K_SIZE, 0, buffer_size, unsigned,
	1 * MiB, 2 * GiB, 16 * MiB),
    IFC("capture.interfaces[].promiscuous", K_BOOL, 0, promiscuous, bool, 0, 1,
	1),
    IFC("capture.interfaces[].immediate", K_BOOL, 0, immediate, bool, 0, 1, 0),
    CFG("capture.ring_slots", K_UINT, F_POW2, ring_slots, unsigned,
	capture.ring_slots, 256, 1048576, 4096),

    SECTION("decode", K_MAP, 0),
    {"decode.tunnels", K_TUNNELS, 0,
     TYPED_OFF(struct vg_config, tunnels, unsigned), 0, 0, 16, DEFAULT_TUNNELS},
    {"decode.tunnels[]", K_TUNNEL, 0, 0, 0, 0, 0, 0},

    CFG("workers", K_UINT, 0, workers, unsigned, workers, 0, 64, 0),

    SECTION("flows", K_MAP, 0),
    CFG("flows.idle_timeout", K_DURATION, 0, idle_timeout, unsigned,
	flows.idle_timeout, 1, 31536000, 120),
    CFG("flows.active_timeout", K_DURATION, 0, active_timeout, unsigned,
	flows.active_timeout, 1, 31536000, 1800),
    CFG("flows.max", K_UINT, 0, max_flows, unsigned, flows.max, 1, 100000000,
	1000000),
    SECTION("flows.dpi_max_packets", K_MAP, 0),
    CFG("flows.dpi_max_packets.tcp", K_UINT, 0, tcp_max_packets, unsigned,
	flows.dpi_max_packets.tcp, 3, 1000, 80),
    CFG("flows.dpi_max_packets.udp", K_UINT, 0, udp_max_packets, unsigned,
	flows.dpi_max_packets.udp, 3, 1000, 24),
    CFG("flows.dpi_idle_timeout", K_DURATION, 0, dpi_idle_timeout, unsigned,
	flows.dpi_idle_timeout, 1, 31536000, 10),

    SECTION("output", K_MAP, 0),
    SECTION("output.file", K_MAP, 0),
    CFG_STR("output.file.path", F_NONEMPTY | F_NOCTL, output_file,
	    output.file.path),
    CFG("output.flows", K_BOOL, 0, flow_events, bool, output.flows, 0, 1, 0),
    CFG("output.stats_interval", K_DURATION, 0, stats_interval, unsigned,
	output.stats_interval, 0, 86400, 30),
    CFG("output.event_max_bytes", K_SIZE, 0, event_max_bytes, unsigned,
	output.event_max_bytes, 1024, 16777216, 65536),
    CFG("output.queue", K_UINT, 0, queue_events, unsigned, output.queue, 16,
	16777216, 65536),

    SECTION("log", K_MAP, 0),
    CFG("log.level", K_LEVEL, 0, log_level, int, log.level, LOG_ERR, LOG_DEBUG,
	LOG_INFO),
};

/* Each frame of pass 1 keeps a 64-bit set of the rows it has seen. */
_Static_assert(VG_ARRAY_LEN(keys) <= 64, "keys[] outgrew the seen masks");

/* log.level names; shared by pass 1, the conversion and the dump. */
static const struct {
	const char *name;
	int level;
} levels[] = {
    {"error", LOG_ERR},
    {"warning", LOG_WARNING},
    {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

/* Tunnel names; their bits come from vg_tunnel_from_name() in decode.c. */
static const char *const tunnel_names[] = {"gre", "vxlan", "gtp", "tzsp",
					   "capwap"};

/* Units a number may carry; "" is the bare number. */
struct unit {
	const char *name;
	unsigned long long mult;
};

static const struct unit no_units[] = {{"", 1}, {NULL, 0}};
static const struct unit size_units[] = {
    {"", 1}, {"KiB", KiB}, {"MiB", MiB}, {"GiB", GiB}, {NULL, 0}};
static const struct unit duration_units[] = {
    {"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {NULL, 0}};

/* The libcyaml schema: the same tree as keys[], every scalar a string. */
#define RAW_STR(k, st, m)                                                      \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_OPTIONAL, st, m, 0,               \
			       CYAML_UNLIMITED)

static const cyaml_schema_field_t iface_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_DEFAULT, struct raw_iface, name,
			   0, CYAML_UNLIMITED),
    RAW_STR("bpf", struct raw_iface, bpf),
    RAW_STR("snaplen", struct raw_iface, snaplen),
    RAW_STR("buffer_size", struct raw_iface, buffer_size),
    RAW_STR("promiscuous", struct raw_iface, promiscuous),
    RAW_STR("immediate", struct raw_iface, immediate),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t iface_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_iface, iface_fields),
};

static const cyaml_schema_value_t string_schema = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t agent_fields[] = {
    RAW_STR("id", struct raw_agent, id),
    RAW_STR("agency", struct raw_agent, agency),
    RAW_STR("hostname", struct raw_agent, hostname),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t capture_fields[] = {
    CYAML_FIELD_SEQUENCE("interfaces", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_capture, interfaces, &iface_schema, 0,
			 VG_CONFIG_MAX_IFACES),
    RAW_STR("ring_slots", struct raw_capture, ring_slots),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t decode_fields[] = {
    CYAML_FIELD_SEQUENCE("tunnels", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_decode, tunnels, &string_schema, 0,
			 CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t dpi_fields[] = {
    RAW_STR("tcp", struct raw_dpi, tcp),
    RAW_STR("udp", struct raw_dpi, udp),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t flows_fields[] = {
    RAW_STR("idle_timeout", struct raw_flows, idle_timeout),
    RAW_STR("active_timeout", struct raw_flows, active_timeout),
    RAW_STR("max", struct raw_flows, max),
    CYAML_FIELD_MAPPING("dpi_max_packets", CYAML_FLAG_OPTIONAL,
			struct raw_flows, dpi_max_packets, dpi_fields),
    RAW_STR("dpi_idle_timeout", struct raw_flows, dpi_idle_timeout),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t file_fields[] = {
    RAW_STR("path", struct raw_file, path),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t output_fields[] = {
    CYAML_FIELD_MAPPING("file", CYAML_FLAG_OPTIONAL, struct raw_output, file,
			file_fields),
    RAW_STR("flows", struct raw_output, flows),
    RAW_STR("stats_interval", struct raw_output, stats_interval),
    RAW_STR("event_max_bytes", struct raw_output, event_max_bytes),
    RAW_STR("queue", struct raw_output, queue),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
    RAW_STR("level", struct raw_log, level),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_MAPPING("agent", CYAML_FLAG_OPTIONAL, struct raw_config, agent,
			agent_fields),
    CYAML_FIELD_MAPPING("capture", CYAML_FLAG_OPTIONAL, struct raw_config,
			capture, capture_fields),
    CYAML_FIELD_MAPPING("decode", CYAML_FLAG_OPTIONAL, struct raw_config,
			decode, decode_fields),
    RAW_STR("workers", struct raw_config, workers),
    CYAML_FIELD_MAPPING("flows", CYAML_FLAG_OPTIONAL, struct raw_config, flows,
			flows_fields),
    CYAML_FIELD_MAPPING("output", CYAML_FLAG_OPTIONAL, struct raw_config,
			output, output_fields),
    CYAML_FIELD_MAPPING("log", CYAML_FLAG_OPTIONAL, struct raw_config, log,
			log_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t top_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, top_fields),
};

/* One problem found in the file. */
struct cfg_error {
	unsigned line;
	char key[PATH_LEN];
	char msg[MSG_LEN];
};

/* Line of a key path pass 1 accepted ("capture.interfaces[1].bpf"). */
struct key_line {
	char path[PATH_LEN];
	unsigned line;
};

/* One open mapping or list during pass 1. */
struct frame {
	const struct key *row;   /* NULL for the top-level mapping */
	const struct key *entry; /* list: the row of its entries */
	char disp[PATH_LEN];     /* display path, "" at the top */
	unsigned line;           /* where it starts */
	bool is_map;
	bool want_key;             /* mapping: the next node is a key */
	const struct key *pending; /* mapping: row of the key just read, NULL
				      when its value is to be skipped */
	char pdisp[PATH_LEN];      /* mapping: display path of that key */
	uint64_t seen;             /* mapping: rows seen in it */
	unsigned index;            /* list: entries so far */
};

/* Everything one vg_config_load() needs besides the caller's struct. */
struct loader {
	struct cfg_error errs[VG_CONFIG_MAX_ERRORS];
	unsigned n_errs;
	bool full; /* error list is full: stop looking */

	struct key_line lines[MAX_LINES];
	unsigned n_lines;

	struct frame st[MAX_DEPTH];
	unsigned depth;
	unsigned skip;    /* depth inside a subtree being skipped */
	uint64_t present; /* rows seen anywhere (non-list keys) */
	unsigned docs;    /* documents started */
	bool has_mapping; /* the document is a mapping: worth loading */

	char cylog[2048]; /* libcyaml's error output */
	size_t cylog_len;
};

/*
 * Copy text from the file for a message: printable ASCII as is, anything
 * else as \xNN, at most max input bytes (then "..."). Always terminates.
 */
static void
escape(char *dst, size_t dstsz, const char *src, size_t len, size_t max)
{
	size_t i, o = 0;

	if (dstsz == 0)
		return;
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[5];
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			tmp[0] = (char)c;
			n = 1;
		} else {
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		}
		if (o + n + 4 > dstsz)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	if (i < len && o + 4 <= dstsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/*
 * dst = a sep b, cut to fit. Paths are only ever shown, so a cut path is
 * fine; dst may be a.
 */
static void
join(char *dst, size_t dstsz, const char *a, const char *sep, const char *b)
{
	const char *parts[3] = {a, sep, b};
	size_t i, n, o = 0;

	for (i = 0; i < VG_ARRAY_LEN(parts); i++) {
		n = strlen(parts[i]);
		if (n > dstsz - 1 - o)
			n = dstsz - 1 - o;
		memmove(dst + o, parts[i], n);
		o += n;
	}
	dst[o] = '\0';
}

static const struct key *
find_key(const char *path)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_LEN(keys); i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static uint64_t
key_bit(const struct key *k)
{
	return (uint64_t)1 << (k - keys);
}

/* The storage of row k's field, for the struct it belongs to. */
static void *
field_of(const struct key *k, struct vg_config *cfg,
	 struct vg_iface_config *ifc)
{
	if (k->flags & F_IFACE)
		return (char *)ifc + k->off;
	return (char *)cfg + k->off;
}

static void add_error(struct loader *ld, unsigned line, const char *key,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Record one problem. The last slot is kept for a note that more problems
 * were not examined, after which ld->full stops the walk.
 */
static void
add_error(struct loader *ld, unsigned line, const char *key, const char *fmt,
	  ...)
{
	struct cfg_error *e;
	va_list ap;

	if (ld->full)
		return;
	e = &ld->errs[ld->n_errs++];
	e->line = line > 0 ? line : 1;
	snprintf(e->key, sizeof(e->key), "%s",
		 key[0] != '\0' ? key : "(document)");
	if (ld->n_errs == VG_CONFIG_MAX_ERRORS) {
		snprintf(e->msg, sizeof(e->msg),
			 "too many errors, not looking further");
		ld->full = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static void
record_line(struct loader *ld, const char *path, unsigned line)
{
	struct key_line *kl;

	/* The schema bounds the number of distinct key paths well below. */
	if (ld->n_lines == MAX_LINES)
		return;
	kl = &ld->lines[ld->n_lines++];
	join(kl->path, sizeof(kl->path), path, "", "");
	kl->line = line;
}

/* Line pass 1 recorded for a key path, 0 if none. */
static unsigned
line_of(const struct loader *ld, const char *path)
{
	unsigned i;

	for (i = 0; i < ld->n_lines; i++)
		if (strcmp(ld->lines[i].path, path) == 0)
			return ld->lines[i].line;
	return 0;
}

enum num_result {
	NUM_OK,
	NUM_BAD, /* not a number of this kind */
	NUM_BIG, /* a number, but beyond 2^64 - 1 */
};

/*
 * The one strict number parser for the configuration: decimal digits, then
 * optionally one unit from units (nothing else, not even a space). strtoull
 * alone would accept leading spaces and a sign (and negate "-1"), so the
 * first byte must be a digit; base 10, so "010" is ten, never eight.
 */
static enum num_result
parse_number(const char *s, const struct unit *units, unsigned long long *out)
{
	const struct unit *u;
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return NUM_BAD;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || (errno != 0 && errno != ERANGE))
		return NUM_BAD;
	for (u = units; u->name != NULL; u++) {
		if (strcmp(end, u->name) != 0)
			continue;
		if (errno == ERANGE || __builtin_mul_overflow(v, u->mult, out))
			return NUM_BIG;
		return NUM_OK;
	}
	return NUM_BAD;
}

static const struct unit *
units_of(enum kind kind)
{
	if (kind == K_SIZE)
		return size_units;
	if (kind == K_DURATION)
		return duration_units;
	return no_units;
}

/* v with the largest unit that divides it exactly: "16MiB", "2m", "0". */
static void
format_number(char *buf, size_t bufsz, unsigned long long v, enum kind kind)
{
	const struct unit *u, *best = NULL;

	for (u = units_of(kind); u->name != NULL; u++)
		if (u->name[0] != '\0' && v != 0 && v % u->mult == 0 &&
		    (best == NULL || u->mult >= best->mult))
			best = u;
	if (best != NULL)
		snprintf(buf, bufsz, "%llu%s", v / best->mult, best->name);
	else
		snprintf(buf, bufsz, "%llu", v);
}

static bool
parse_bool(const char *s, unsigned long long *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; i < VG_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/* The agency ends up in Redis key names: [a-z0-9][a-z0-9._-]{0,63}. */
static bool
agency_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return false;
	}
	return true;
}

static const char *
level_name(int level)
{
	size_t i;

	for (i = 0; i < VG_ARRAY_LEN(levels); i++)
		if (levels[i].level == level)
			return levels[i].name;
	return "info";
}

static const char *
kind_name(enum kind kind)
{
	switch (kind) {
	case K_MAP:
		return "a mapping";
	case K_SEQ:
	case K_TUNNELS:
		return "a list";
	case K_UINT:
		return "an integer";
	case K_SIZE:
		return "a size (bytes, or with KiB, MiB, GiB: \"16MiB\")";
	case K_DURATION:
		return "a duration (seconds, or with s, m, h, d: \"5m\")";
	case K_BOOL:
		return "true or false";
	case K_STRING:
		return "a string";
	case K_LEVEL:
		return "one of error, warning, info, debug";
	case K_TUNNEL:
		return "one of gre, vxlan, gtp, tzsp, capwap";
	}
	return "a value";
}

/*
 * Check scalar s (len bytes, from the file) against row k. On success
 * *out is the number, boolean, level or tunnel bit it stands for (strings:
 * 0). On failure msg says why, quoting the value.
 */
static bool
check_scalar(const struct key *k, const char *s, size_t len,
	     unsigned long long *out, char *msg, size_t msgsz)
{
	char q[80], lo[32], hi[32];
	enum num_result nr;
	size_t i;

	*out = 0;
	escape(q, sizeof(q), s, len, 48);
	if (strlen(s) != len) {
		snprintf(msg, msgsz, "contains a NUL byte");
		return false;
	}
	switch (k->kind) {
	case K_UINT:
	case K_SIZE:
	case K_DURATION:
		nr = parse_number(s, units_of(k->kind), out);
		if (nr == NUM_BAD) {
			snprintf(msg, msgsz, "expected %s, got \"%s\"",
				 kind_name(k->kind), q);
			return false;
		}
		if (nr == NUM_BIG || *out < k->min || *out > k->max) {
			format_number(lo, sizeof(lo), k->min, k->kind);
			format_number(hi, sizeof(hi), k->max, k->kind);
			snprintf(msg, msgsz, "\"%s\" is out of range (%s..%s)",
				 q, lo, hi);
			return false;
		}
		if ((k->flags & F_POW2) && (*out & (*out - 1)) != 0) {
			snprintf(msg, msgsz, "%llu is not a power of two",
				 *out);
			return false;
		}
		return true;
	case K_BOOL:
		if (!parse_bool(s, out)) {
			snprintf(msg, msgsz,
				 "expected true or false, got \"%s\"", q);
			return false;
		}
		return true;
	case K_LEVEL:
		for (i = 0; i < VG_ARRAY_LEN(levels); i++) {
			if (strcmp(s, levels[i].name) == 0) {
				*out = (unsigned long long)levels[i].level;
				return true;
			}
		}
		snprintf(
		    msg, msgsz,
		    "unknown level \"%s\" (expected error, warning, info or "
		    "debug)",
		    q);
		return false;
	case K_TUNNEL:
		*out = vg_tunnel_from_name(s);
		if (*out == 0) {
			snprintf(
			    msg, msgsz,
			    "unknown tunnel \"%s\" (expected gre, vxlan, gtp, "
			    "tzsp or capwap)",
			    q);
			return false;
		}
		return true;
	case K_STRING:
		if (len > MAX_STRING) {
			snprintf(msg, msgsz, "longer than %d bytes",
				 MAX_STRING);
			return false;
		}
		if ((k->flags & F_NONEMPTY) && len == 0) {
			snprintf(msg, msgsz, "must not be empty");
			return false;
		}
		if (k->flags & F_NOCTL) {
			for (i = 0; i < len; i++) {
				if ((unsigned char)s[i] < 0x20 ||
				    s[i] == 0x7f) {
					snprintf(msg, msgsz,
						 "must not contain control "
						 "characters");
					return false;
				}
			}
		}
		if ((k->flags & F_AGENCY) && !agency_ok(s, len)) {
			snprintf(
			    msg, msgsz,
			    "invalid agency \"%s\": use 1 to 64 of a-z 0-9 . _ "
			    "- starting with a letter or digit",
			    q);
			return false;
		}
		return true;
	case K_MAP:
	case K_SEQ:
	case K_TUNNELS:
		break;
	}
	snprintf(msg, msgsz, "expected %s", kind_name(k->kind));
	return false;
}

/*
 * Pass 1: libyaml events against keys[].
 */

static bool
is_start(const yaml_event_t *ev)
{
	return ev->type == YAML_MAPPING_START_EVENT ||
	       ev->type == YAML_SEQUENCE_START_EVENT;
}

static unsigned
line_at(const yaml_event_t *ev)
{
	return (unsigned)ev->start_mark.line + 1;
}

/* Ignore this node and, if it opens a mapping or list, all inside it. */
static void
skip_node(struct loader *ld, const yaml_event_t *ev)
{
	if (is_start(ev))
		ld->skip = 1;
}

static void
push(struct loader *ld, const struct key *row, const char *disp,
     const yaml_event_t *ev)
{
	struct frame *f;
	char pat[PATH_LEN];

	if (ld->depth == MAX_DEPTH) {
		/* Cannot happen with keys[]; refuse rather than overflow. */
		add_error(ld, line_at(ev), disp, "nested too deeply");
		skip_node(ld, ev);
		return;
	}
	f = &ld->st[ld->depth++];
	memset(f, 0, sizeof(*f));
	f->row = row;
	f->is_map = ev->type == YAML_MAPPING_START_EVENT;
	f->want_key = true;
	f->line = line_at(ev);
	snprintf(f->disp, sizeof(f->disp), "%s", disp);
	if (!f->is_map) {
		snprintf(pat, sizeof(pat), "%s[]", row->path);
		f->entry = find_key(pat);
	}
}

/* The value of key row (display path disp). */
static void
on_value(struct loader *ld, const struct key *row, const char *disp,
	 const yaml_event_t *ev)
{
	unsigned long long v;
	char msg[MSG_LEN];
	bool empty = ev->type == YAML_SCALAR_EVENT &&
		     ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		     ev->data.scalar.length == 0;

	if (ev->type == YAML_ALIAS_EVENT) {
		add_error(ld, line_at(ev), disp,
			  "YAML aliases are not supported here");
		return;
	}
	switch (row->kind) {
	case K_MAP:
		if (ev->type == YAML_MAPPING_START_EVENT) {
			push(ld, row, disp, ev);
			return;
		}
		break;
	case K_SEQ:
	case K_TUNNELS:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			push(ld, row, disp, ev);
			return;
		}
		break;
	default:
		/* "key:" with nothing after it is only a string (empty). */
		if (ev->type == YAML_SCALAR_EVENT &&
		    (!empty || row->kind == K_STRING)) {
			if (!check_scalar(
				row, (const char *)ev->data.scalar.value,
				ev->data.scalar.length, &v, msg, sizeof(msg)))
				add_error(ld, line_at(ev), disp, "%s", msg);
			return;
		}
		break;
	}
	if (empty)
		add_error(ld, line_at(ev), disp, "no value (expected %s)",
			  kind_name(row->kind));
	else
		add_error(ld, line_at(ev), disp, "expected %s",
			  kind_name(row->kind));
	skip_node(ld, ev);
}

/* A key of mapping f. */
static void
on_key(struct loader *ld, struct frame *f, const yaml_event_t *ev)
{
	char pat[PATH_LEN], name[PATH_LEN];
	const struct key *row;
	const char *key;
	size_t len;
	unsigned first;

	f->want_key = false;
	f->pending = NULL;
	if (ev->type != YAML_SCALAR_EVENT) {
		join(f->pdisp, sizeof(f->pdisp), f->disp, "", "");
		add_error(ld, line_at(ev), f->disp,
			  "keys must be plain strings");
		skip_node(ld, ev);
		return;
	}
	key = (const char *)ev->data.scalar.value;
	len = ev->data.scalar.length;
	escape(name, sizeof(name), key, len, 64);
	join(f->pdisp, sizeof(f->pdisp), f->disp, f->disp[0] != '\0' ? "." : "",
	     name);

	row = NULL;
	if (strlen(key) == len && len < sizeof(pat)) {
		join(pat, sizeof(pat), f->row != NULL ? f->row->path : "",
		     f->row != NULL ? "." : "", key);
		row = find_key(pat);
	}
	first = line_of(ld, f->pdisp);
	if (first == 0)
		record_line(ld, f->pdisp, line_at(ev));
	if (row == NULL) {
		add_error(ld, line_at(ev), f->pdisp, "unknown key");
		return;
	}
	if (f->seen & key_bit(row)) {
		add_error(ld, line_at(ev), f->pdisp,
			  "duplicate key (first set on line %u)", first);
		return;
	}
	f->seen |= key_bit(row);
	ld->present |= key_bit(row);
	f->pending = row;
}

/* A node (scalar, alias, mapping or list start) in the document. */
static void
on_node(struct loader *ld, const yaml_event_t *ev)
{
	struct frame *f;
	char disp[PATH_LEN], idx[16];

	if (ld->skip > 0) {
		if (is_start(ev))
			ld->skip++;
		return;
	}
	if (ld->depth == 0) {
		if (ev->type == YAML_MAPPING_START_EVENT) {
			ld->has_mapping = true;
			push(ld, NULL, "", ev);
			return;
		}
		/* An empty document ("---" alone) is an empty config. */
		if (ev->type == YAML_SCALAR_EVENT &&
		    ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.length == 0)
			return;
		add_error(ld, line_at(ev), "",
			  "the configuration must be a mapping of keys");
		skip_node(ld, ev);
		return;
	}

	f = &ld->st[ld->depth - 1];
	if (f->is_map) {
		if (f->want_key) {
			on_key(ld, f, ev);
			return;
		}
		f->want_key = true;
		if (f->pending == NULL)
			skip_node(ld, ev);
		else
			on_value(ld, f->pending, f->pdisp, ev);
		return;
	}

	/* An entry of list f. */
	snprintf(idx, sizeof(idx), "[%u]", f->index);
	join(disp, sizeof(disp), f->disp, idx, "");
	f->index++;
	if (f->entry == NULL) {
		/* keys[] lacks the "<list>[]" row: a bug, but fail closed. */
		add_error(ld, line_at(ev), disp, "unexpected list entry");
		skip_node(ld, ev);
		return;
	}
	if (f->index > f->row->max) {
		if (f->index == f->row->max + 1)
			add_error(ld, line_at(ev), disp,
				  "too many entries (at most %llu)",
				  f->row->max);
		skip_node(ld, ev);
		return;
	}
	record_line(ld, disp, line_at(ev));
	on_value(ld, f->entry, disp, ev);
}

/* End of mapping f: were its required keys there? */
static void
check_required(struct loader *ld, const struct frame *f)
{
	size_t i, n;
	char disp[PATH_LEN];

	if (f->row == NULL)
		return;
	n = strlen(f->row->path);
	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		if (!(k->flags & F_REQUIRED) || (f->seen & key_bit(k)) ||
		    strncmp(k->path, f->row->path, n) != 0 ||
		    k->path[n] != '.' || strchr(k->path + n + 1, '.') != NULL)
			continue;
		join(disp, sizeof(disp), f->disp, ".", k->path + n + 1);
		add_error(ld, f->line, disp, "required key missing");
	}
}

/* Path of whatever pass 1 was looking at, for syntax errors. */
static const char *
current_path(const struct loader *ld)
{
	const struct frame *f;

	if (ld->depth == 0)
		return "";
	f = &ld->st[ld->depth - 1];
	/* Inside a value being read or skipped: that key. */
	if (f->is_map && (!f->want_key || ld->skip > 0))
		return f->pdisp;
	return f->disp;
}

static void
syntax_error(struct loader *ld, const yaml_parser_t *p, const char *buf)
{
	unsigned line = (unsigned)p->problem_mark.line + 1;
	size_t i;

	/* Reader (encoding) errors only give a byte offset. */
	if (p->error == YAML_READER_ERROR) {
		line = 1;
		for (i = 0; i < p->problem_offset; i++)
			if (buf[i] == '\n')
				line++;
	}
	if (p->context != NULL)
		add_error(ld, line, current_path(ld),
			  "YAML syntax error: %s (%s on line %u)",
			  p->problem != NULL ? p->problem : "unknown",
			  p->context, (unsigned)p->context_mark.line + 1);
	else
		add_error(ld, line, current_path(ld), "YAML syntax error: %s",
			  p->problem != NULL ? p->problem : "unknown");
}

/* Pass 1 over buf. VG_OK (problems are in ld->errs) or VG_ENOMEM. */
static enum vg_err
walk(struct loader *ld, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;

	if (!yaml_parser_initialize(&p))
		return VG_ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && !ld->full) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				yaml_parser_delete(&p);
				return VG_ENOMEM;
			}
			syntax_error(ld, &p, buf);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++ld->docs > 1) {
				add_error(ld, line_at(&ev), "",
					  "only one YAML document is allowed");
				done = true;
			}
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			on_node(ld, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (ld->skip > 0) {
				ld->skip--;
				break;
			}
			if (ld->depth > 0) {
				ld->depth--;
				if (ev.type == YAML_MAPPING_END_EVENT)
					check_required(ld, &ld->st[ld->depth]);
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_NO_EVENT:
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return VG_OK;
}

/*
 * Pass 2: libcyaml.
 */

static void cyaml_capture(cyaml_log_t level, void *ctx, const char *fmt,
			  va_list args) __attribute__((format(printf, 3, 0)));

/* libcyaml log function: keep its error output for cyaml_error(). */
static void
cyaml_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct loader *ld = ctx;
	size_t room = sizeof(ld->cylog) - ld->cylog_len;
	int n;

	if (level < CYAML_LOG_ERROR || room <= 1)
		return;
	n = vsnprintf(ld->cylog + ld->cylog_len, room, fmt, args);
	if (n > 0)
		ld->cylog_len += (size_t)n < room ? (size_t)n : room - 1;
}

/*
 * libcyaml refused what pass 1 accepted (a gap in pass 1). Turn its
 * complaint and backtrace ("  in mapping field 'x' (line: 3, column: 5)",
 * innermost first) into one error line, at the line pass 1 recorded for
 * that path when it has one.
 */
static void
cyaml_error(struct loader *ld, cyaml_err_t err)
{
	char *lines[16], *s, *save = NULL, *q, none[] = "";
	char path[PATH_LEN] = "", shown[PATH_LEN], complaint[MSG_LEN];
	unsigned n = 0, line = 0, ln, i;
	char idx[16];
	bool missing, excess;
	size_t len;

	snprintf(complaint, sizeof(complaint), "%s", cyaml_strerror(err));
	for (s = strtok_r(ld->cylog, "\n", &save); s != NULL;
	     s = strtok_r(NULL, "\n", &save)) {
		if (strncmp(s, "Load: ", 6) == 0 &&
		    strcmp(s, "Load: Backtrace:") != 0 && n == 0 && line == 0) {
			snprintf(complaint, sizeof(complaint), "%s", s + 6);
			continue;
		}
		if (strncmp(s, "  in ", 5) != 0 || n == VG_ARRAY_LEN(lines))
			continue;
		q = strstr(s, "(line: ");
		if (q != NULL && sscanf(q, "(line: %u", &ln) == 1 && line == 0)
			line = ln;
		lines[n++] = s;
	}
	/*
	 * For a missing field, the innermost frame is the last field read,
	 * not the missing one.
	 */
	missing =
	    strncmp(complaint, "Missing required mapping field: ", 32) == 0;
	excess = strncmp(complaint, "Excessive entries", 17) == 0;
	if (missing && n > 0 &&
	    strncmp(lines[0], "  in mapping field", 18) == 0)
		lines[0] = none;
	/* Outermost first: "in mapping field 'k'", "in sequence entry 'i'". */
	for (i = n; i-- > 0;) {
		s = lines[i];
		q = strchr(s, '\'');
		if (q == NULL)
			continue;
		len = strcspn(q + 1, "'");
		q[1 + len] = '\0';
		if (strncmp(s, "  in mapping field", 18) == 0) {
			join(path, sizeof(path), path,
			     path[0] != '\0' ? "." : "", q + 1);
		} else if (strncmp(s, "  in sequence entry", 19) == 0 &&
			   sscanf(q + 1, "%u", &ln) == 1) {
			/*
			 * libcyaml counts an entry once it has begun, so
			 * inside entry i it reports i + 1.
			 */
			if (ln > 0 && !excess)
				ln--;
			snprintf(idx, sizeof(idx), "[%u]", ln);
			join(path, sizeof(path), path, idx, "");
		}
	}
	if (missing) {
		/* Where the mapping starts, as pass 1 reports it. */
		if (line_of(ld, path) != 0)
			line = line_of(ld, path);
		join(path, sizeof(path), path, path[0] != '\0' ? "." : "",
		     complaint + 32);
	}
	if (strncmp(complaint, "Unexpected key: ", 16) == 0)
		join(path, sizeof(path), path, path[0] != '\0' ? "." : "",
		     complaint + 16);
	if (line_of(ld, path) != 0)
		line = line_of(ld, path);
	escape(shown, sizeof(shown), path, strlen(path), 64);
	add_error(ld, line, shown, "rejected by the schema: %s", complaint);
}

/* Store string s (copied) in *dst, freeing what was there. */
static enum vg_err
set_string(char **dst, const char *s, bool null_if_empty)
{
	char *copy = NULL;

	if (s[0] != '\0' || !null_if_empty) {
		copy = strdup(s);
		if (copy == NULL)
			return VG_ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return VG_OK;
}

/* Store the value of row k, already parsed to v (strings: s). */
static enum vg_err
store(const struct key *k, void *field, unsigned long long v, const char *s)
{
	switch (k->kind) {
	case K_STRING:
		if (s == NULL)
			return VG_EINVAL;
		return set_string(field, s, (k->flags & F_NULLEMPTY) != 0);
	case K_BOOL:
		*(bool *)field = v != 0;
		break;
	case K_LEVEL:
		*(int *)field = (int)v;
		break;
	case K_UINT:
	case K_SIZE:
	case K_DURATION:
	case K_TUNNELS:
		/* Bounds in keys[] all fit an unsigned. */
		*(unsigned *)field = (unsigned)v;
		break;
	case K_MAP:
	case K_SEQ:
	case K_TUNNEL:
		break;
	}
	return VG_OK;
}

/*
 * Convert row k's string s (from libcyaml; NULL: key absent) into its
 * field. disp is the display path for errors.
 */
static enum vg_err
convert_one(struct loader *ld, const struct key *k, void *field, const char *s,
	    const char *disp)
{
	unsigned long long v;
	char msg[MSG_LEN];

	if (s == NULL)
		return VG_OK;
	if (!check_scalar(k, s, strlen(s), &v, msg, sizeof(msg))) {
		add_error(ld, line_of(ld, disp), disp, "%s", msg);
		return VG_OK;
	}
	return store(k, field, v, s);
}

static void
iface_defaults(struct vg_iface_config *ifc)
{
	size_t i;

	memset(ifc, 0, sizeof(*ifc));
	for (i = 0; i < VG_ARRAY_LEN(keys); i++)
		if ((keys[i].flags & F_IFACE) && keys[i].kind != K_STRING)
			(void)store(&keys[i], field_of(&keys[i], NULL, ifc),
				    keys[i].def, NULL);
}

/* Step 4: libcyaml's strings into cfg (which holds the defaults). */
static enum vg_err
convert(struct loader *ld, struct vg_config *cfg, const struct raw_config *raw)
{
	const struct key *entry = find_key("decode.tunnels[]");
	const struct raw_iface *ri;
	struct vg_iface_config *ifc;
	char disp[PATH_LEN], msg[MSG_LEN], *s;
	unsigned long long mask, bit;
	enum vg_err err;
	size_t i;
	unsigned j;

	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		if ((k->flags & F_IFACE) || k->kind == K_MAP ||
		    k->kind == K_SEQ || k->kind == K_TUNNEL)
			continue;
		if (k->kind == K_TUNNELS) {
			/*
			 * An empty list and no key look the same to libcyaml:
			 * pass 1 knows whether the key was there.
			 */
			if (!(ld->present & key_bit(k)))
				continue;
			mask = 0;
			for (j = 0; j < raw->decode.tunnels_count; j++) {
				s = raw->decode.tunnels[j];
				snprintf(disp, sizeof(disp), "%s[%u]", k->path,
					 j);
				if (check_scalar(entry, s, strlen(s), &bit, msg,
						 sizeof(msg)))
					mask |= bit;
				else
					add_error(ld, line_of(ld, disp), disp,
						  "%s", msg);
			}
			cfg->tunnels = (unsigned)mask;
			continue;
		}
		s = *(char *const *)((const char *)raw + k->raw);
		err = convert_one(ld, k, field_of(k, cfg, NULL), s, k->path);
		if (err != VG_OK)
			return err;
	}

	for (j = 0; j < raw->capture.interfaces_count; j++) {
		ri = &raw->capture.interfaces[j];
		ifc = &cfg->ifaces[cfg->n_ifaces++];
		iface_defaults(ifc);
		for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
			const struct key *k = &keys[i];

			if (!(k->flags & F_IFACE))
				continue;
			/* "capture.interfaces[].x" -> "capture.interfaces[j].x"
			 */
			snprintf(disp, sizeof(disp), "capture.interfaces[%u]%s",
				 j, strstr(k->path, "[]") + 2);
			s = *(char *const *)((const char *)ri + k->raw);
			err =
			    convert_one(ld, k, field_of(k, NULL, ifc), s, disp);
			if (err != VG_OK)
				return err;
		}
	}
	return VG_OK;
}

/* Steps 3 and 4. */
static enum vg_err
load_typed(struct loader *ld, struct vg_config *cfg, const char *buf,
	   size_t len)
{
	cyaml_config_t cc = {
	    .log_fn = cyaml_capture,
	    .log_ctx = ld,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    /* Unknown keys stay errors; aliases are refused by pass 1. */
	    .flags = CYAML_CFG_NO_ALIAS,
	};
	struct raw_config *raw = NULL;
	cyaml_err_t cerr;
	enum vg_err err;

	cerr = cyaml_load_data((const uint8_t *)buf, len, &cc, &top_schema,
			       (cyaml_data_t **)&raw, NULL);
	if (cerr == CYAML_ERR_OOM)
		return VG_ENOMEM;
	if (cerr != CYAML_OK) {
		cyaml_error(ld, cerr);
		return VG_EINVAL;
	}
	/* A mapping with no key gives no data. */
	if (raw == NULL)
		return VG_OK;
	err = convert(ld, cfg, raw);
	cyaml_free(&cc, &top_schema, raw, 0);
	return err;
}

/* Read path whole. VG_OK, VG_EIO (message written), VG_ENOMEM. */
static enum vg_err
read_file(const char *path, const char *epath, FILE *errs, char **bufp,
	  size_t *lenp, bool *too_big)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, saved;

	*too_big = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	/* One byte more than allowed, to tell "full" from "too big". */
	buf = malloc(MAX_FILE_BYTES + 1);
	if (buf == NULL) {
		close(fd);
		return VG_ENOMEM;
	}
	for (;;) {
		n = read(fd, buf + len, MAX_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MAX_FILE_BYTES) {
			*too_big = true;
			break;
		}
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return VG_OK;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (errs != NULL)
		fprintf(errs, "%s: cannot read: %s\n", epath, strerror(saved));
	return VG_EIO;
}

/* Print the errors, in line order (a missing key is found late). */
static void
print_errors(struct loader *ld, const char *epath, FILE *errs)
{
	struct cfg_error tmp;
	unsigned i, j;

	for (i = 1; i < ld->n_errs; i++) {
		tmp = ld->errs[i];
		for (j = i; j > 0 && ld->errs[j - 1].line > tmp.line; j--)
			ld->errs[j] = ld->errs[j - 1];
		ld->errs[j] = tmp;
	}
	if (errs == NULL)
		return;
	for (i = 0; i < ld->n_errs; i++)
		fprintf(errs, "%s:%u: %s: %s\n", epath, ld->errs[i].line,
			ld->errs[i].key, ld->errs[i].msg);
}

/* The 32 hex digits of /etc/machine-id, or NULL. */
static char *
machine_id(void)
{
	char buf[MACHINE_ID_LEN + 1];
	ssize_t n;
	size_t i;
	int fd;

	fd = open(MACHINE_ID_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, MACHINE_ID_LEN);
	close(fd);
	if (n != MACHINE_ID_LEN)
		return NULL;
	for (i = 0; i < MACHINE_ID_LEN; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		      (buf[i] >= 'a' && buf[i] <= 'f')))
			return NULL;
	buf[MACHINE_ID_LEN] = '\0';
	return strdup(buf);
}

enum vg_err
vg_config_defaults(struct vg_config *cfg)
{
	char host[HOST_NAME_MAX + 1];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < VG_ARRAY_LEN(keys); i++)
		if (!(keys[i].flags & F_IFACE) && keys[i].kind != K_STRING)
			(void)store(&keys[i], field_of(&keys[i], cfg, NULL),
				    keys[i].def, NULL);

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	cfg->hostname = strdup(host);
	cfg->agency = strdup("unknown");
	cfg->agent_id = machine_id();
	if (cfg->agent_id == NULL)
		cfg->agent_id = strdup(host);
	if (cfg->hostname == NULL || cfg->agency == NULL ||
	    cfg->agent_id == NULL) {
		vg_config_fini(cfg);
		return VG_ENOMEM;
	}
	return VG_OK;
}

enum vg_err
vg_config_load(struct vg_config *cfg, const char *path, FILE *errs)
{
	struct loader *ld = NULL;
	char epath[PATH_MAX + 16];
	char *buf = NULL;
	size_t len = 0;
	bool too_big;
	enum vg_err err;

	/* The file name goes into messages: keep them one line each. */
	escape(epath, sizeof(epath), path, strlen(path), PATH_MAX);
	err = vg_config_defaults(cfg);
	if (err != VG_OK)
		goto out;
	err = read_file(path, epath, errs, &buf, &len, &too_big);
	if (err != VG_OK)
		goto out;
	ld = calloc(1, sizeof(*ld));
	if (ld == NULL) {
		err = VG_ENOMEM;
		goto out;
	}
	if (too_big) {
		add_error(ld, 1, "", "file larger than %llu bytes",
			  MAX_FILE_BYTES);
		err = VG_EINVAL;
		goto out;
	}
	err = walk(ld, buf, len);
	if (err == VG_OK && ld->n_errs == 0 && ld->has_mapping)
		err = load_typed(ld, cfg, buf, len);
	if (err == VG_OK && ld->n_errs > 0)
		err = VG_EINVAL;
	if (err == VG_OK) {
		cfg->path = strdup(path);
		if (cfg->path == NULL)
			err = VG_ENOMEM;
	}

out:
	if (ld != NULL)
		print_errors(ld, epath, errs);
	if (err == VG_ENOMEM && errs != NULL)
		fprintf(errs, "%s: out of memory\n", epath);
	if (err != VG_OK)
		vg_config_fini(cfg);
	free(ld);
	free(buf);
	return err;
}

void
vg_config_fini(struct vg_config *cfg)
{
	unsigned i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->agent_id);
	free(cfg->agency);
	free(cfg->hostname);
	free(cfg->output_file);
	for (i = 0; i < cfg->n_ifaces && i < VG_CONFIG_MAX_IFACES; i++) {
		free(cfg->ifaces[i].name);
		free(cfg->ifaces[i].bpf);
	}
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * Dump.
 */

/* s as a YAML double-quoted scalar. Bytes >= 0x80 are the UTF-8 libyaml
 * already checked, and pass through. */
static void
dump_string(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
dump_value(FILE *out, const struct key *k, const void *field)
{
	char num[32];
	unsigned mask;
	size_t i;
	const char *sep = "";

	switch (k->kind) {
	case K_UINT:
	case K_SIZE:
	case K_DURATION:
		format_number(num, sizeof(num), *(const unsigned *)field,
			      k->kind);
		fputs(num, out);
		break;
	case K_BOOL:
		fputs(*(const bool *)field ? "true" : "false", out);
		break;
	case K_LEVEL:
		fputs(level_name(*(const int *)field), out);
		break;
	case K_STRING:
		dump_string(out, *(char *const *)field);
		break;
	case K_TUNNELS:
		mask = *(const unsigned *)field;
		fputc('[', out);
		for (i = 0; i < VG_ARRAY_LEN(tunnel_names); i++) {
			if (mask & vg_tunnel_from_name(tunnel_names[i])) {
				fprintf(out, "%s%s", sep, tunnel_names[i]);
				sep = ", ";
			}
		}
		fputc(']', out);
		break;
	case K_MAP:
	case K_SEQ:
	case K_TUNNEL:
		break;
	}
}

static void
dump_ifaces(FILE *out, const struct vg_config *cfg, const char *indent)
{
	const struct vg_iface_config *ifc;
	const char *lead;
	unsigned j;
	size_t i;

	for (j = 0; j < cfg->n_ifaces; j++) {
		ifc = &cfg->ifaces[j];
		lead = "- ";
		for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
			const struct key *k = &keys[i];
			const void *field = (const char *)ifc + k->off;

			if (!(k->flags & F_IFACE) ||
			    (k->kind == K_STRING &&
			     *(char *const *)field == NULL))
				continue;
			fprintf(out, "%s%s%s: ", indent, lead,
				strrchr(k->path, '.') + 1);
			dump_value(out, k, field);
			fputc('\n', out);
			lead = "  ";
		}
	}
}

void
vg_config_dump(const struct vg_config *cfg, FILE *out)
{
	static const char spaces[] = "        ";
	const struct key *k;
	const char *name, *p;
	size_t i;
	unsigned depth;

	if (cfg->path != NULL) {
		fputs("# loaded from ", out);
		dump_string(out, cfg->path);
		fputc('\n', out);
	}
	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		k = &keys[i];
		if ((k->flags & F_IFACE) || strstr(k->path, "[]") != NULL)
			continue;
		depth = 0;
		for (p = k->path; *p != '\0'; p++)
			depth += *p == '.';
		name = strrchr(k->path, '.');
		name = name != NULL ? name + 1 : k->path;
		/* An unset output file is left out, as in the example. */
		if (cfg->output_file == NULL &&
		    strncmp(k->path, "output.file", 11) == 0)
			continue;
		fprintf(out, "%.*s%s:", (int)(2 * depth), spaces, name);
		if (k->kind == K_MAP) {
			fputc('\n', out);
		} else if (k->kind == K_SEQ) {
			/* capture.interfaces is the only other list. */
			if (cfg->n_ifaces == 0) {
				fputs(" []\n", out);
			} else {
				fputc('\n', out);
				dump_ifaces(out, cfg, "    ");
			}
		} else {
			fputc(' ', out);
			dump_value(out, k, (const char *)cfg + k->off);
			fputc('\n', out);
		}
	}
}
