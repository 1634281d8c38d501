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
 *     Relative paths are made absolute here, and values that must differ
 *     between a list's entries are compared (both errors at the line pass
 *     1 recorded).
 */
#include "config.h"

#include "decode.h"
#include "metrics.h"
#include "redis.h"

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
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define MAX_FILE_BYTES ((unsigned long long)VG_CONFIG_MAX_FILE_BYTES)
#define MAX_STRING     VG_CONFIG_MAX_STRING /* longest string (BPF filters) */
#define MAX_DEPTH      VG_CONFIG_MAX_DEPTH  /* the schema nests 4 deep */
#define MAX_LINES      1024 /* key lines recorded; keys[] allows ~610 */
#define PATH_LEN       160  /* dotted key path, truncated if longer */
#define MSG_LEN        256

#define MACHINE_ID_FILE "/etc/machine-id"
#define MACHINE_ID_LEN  32

#define DEFAULT_TUNNELS (VG_TUN_GRE | VG_TUN_VXLAN | VG_TUN_GTP)

/*
 * libcyaml's view of the file. Every scalar is a string (NULL when the key
 * is absent) that the strict parsers below convert; see the file comment.
 * libcyaml keeps the length of a list "x" in "x_count".
 */
struct raw_iface {
	char *name;
	char *bpf;
	char *snaplen;
	char *buffer_size;
	char *promiscuous;
	char *immediate;
};

struct raw_ioc {
	char *name;
	char *type;
	char *path;
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

struct raw_detection {
	char **rules;
	unsigned rules_count;
	char **home_net;
	unsigned home_net_count;
	struct raw_ioc *ioc;
	unsigned ioc_count;
	char *state_max;
};

struct raw_geoip {
	char *country_db;
	char *asn_db;
};

struct raw_file {
	char *path;
	char *max_size;
	char *keep;
};

struct raw_redis {
	char *url;
	char *username;
	char *password;
	char *password_file;
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *server_name;
	char *tls_verify;
	char *mode;
	char **sentinels;
	unsigned sentinels_count;
	char *sentinel_master;
	char *stream;
	char *maxlen;
	char *batch;
	char *linger_ms;
	char *connect_timeout_ms;
	char *timeout_ms;
	char *drain_timeout;
};

struct raw_spool {
	char *dir;
	char *max_size;
};

struct raw_syslog {
	char *enabled;
	char *socket;
	char *facility;
};

struct raw_files {
	char **watch;
	unsigned watch_count;
	char *recursive;
	char **exclude;
	unsigned exclude_count;
	char *max_size;
	char *scan_timeout;
	char *threads;
	char *schedule;
	char **rules;
	unsigned rules_count;
	char *quarantine;
	char *hash;
	char *settle;
	char *max_watches;
	char *queue;
	char *cache;
};

struct raw_output {
	struct raw_file file;
	struct raw_redis redis;
	struct raw_spool spool;
	struct raw_syslog syslog;
	char *flows;
	char *stats_interval;
	char *event_max_bytes;
	char *queue;
};

struct raw_privileges {
	char *user;
	char *group;
	char *allow_root;
};

/* sandbox: (sandbox.c) */
struct raw_sandbox {
	char *packets;
	char *files;
};

struct raw_log {
	char *level;
	char *target;
};

struct raw_control {
	char *socket;
};

struct raw_metrics {
	char *listen;
	char *allow_remote;
};

/* rules.bundle: signed rule distribution (bundlepoll.h) */
struct raw_rules_bundle {
	char *public_key;
	char *poll;
	char *dir;
};

struct raw_rules {
	struct raw_rules_bundle bundle;
};

struct raw_config {
	struct raw_agent agent;
	struct raw_capture capture;
	struct raw_decode decode;
	char *workers;
	struct raw_flows flows;
	struct raw_detection detection;
	struct raw_geoip geoip;
	struct raw_files files;
	struct raw_output output;
	struct raw_privileges privileges;
	struct raw_sandbox sandbox;
	struct raw_log log;
	struct raw_control control;
	struct raw_metrics metrics;
	struct raw_rules rules;
};

/* What a key holds. */
enum kind {
	K_MAP,      /* a mapping of further keys */
	K_SEQ,      /* a list of mappings, into an array of entry structs;
		       "<path>[]" (K_MAP) and "<path>[].<key>" rows describe
		       the entries */
	K_STRINGS,  /* a list of strings, into a char *[]; "<path>[]"
		       (K_STRING) checks each entry */
	K_TUNNELS,  /* decode.tunnels: a list of K_TUNNEL names -> a mask */
	K_UINT,     /* decimal integer */
	K_SIZE,     /* bytes: integer, or with a KiB, MiB or GiB suffix */
	K_DURATION, /* seconds: integer, or with an s, m, h or d suffix */
	K_BOOL,     /* true/false, yes/no, on/off */
	K_STRING,   /* with choices: one of them, any case, stored as there */
	K_LEVEL,    /* syslog level name, see levels[] */
	K_TUNNEL,   /* tunnel name, see tunnel_names[] */
};

#define F_ENTRY     0x001  /* off, raw: in one list entry (see struct list) */
#define F_REQUIRED  0x002  /* the enclosing mapping must have this key */
#define F_POW2      0x004  /* number must be a power of two */
#define F_NONEMPTY  0x008  /* string must not be empty */
#define F_NOCTL     0x010  /* string must not contain control characters */
#define F_AGENCY    0x020  /* string must match [a-z0-9][a-z0-9._-]{0,63} */
#define F_NULLEMPTY 0x040  /* an empty string is stored as NULL */
#define F_PATH      0x080  /* file path; relative: to the file's directory */
#define F_CIDR      0x100  /* an address or a network, no host bits set */
#define F_UNIQUE    0x200  /* F_ENTRY string: unique among the entries */
#define F_OFF       0x400  /* string: "off" is stored as NULL */
#define F_SECRET    0x800  /* string: never shown by the dump */
#define F_URL       0x1000 /* string: a Redis URL (redis.h) */
#define F_LISTEN    0x2000 /* string: HOST:PORT to listen on (metrics.h) */

/*
 * Where the entries of a list (K_SEQ, K_STRINGS) go: the list row's off is
 * an array in struct vg_config, its raw the array libcyaml allocates. Its
 * F_ENTRY rows say where their field is in one entry: "<list>[].<key>"
 * rows for a list of mappings, the one "<list>[]" row (off and raw 0) for
 * a list of strings, whose entries are the strings themselves.
 */
struct list {
	size_t count;     /* unsigned in struct vg_config: entries stored */
	size_t set;       /* bool in struct vg_config: the key was in the
			     file; 0 when the list has no such field */
	size_t size;      /* one entry of the array at off */
	size_t raw_count; /* unsigned in struct raw_config: libcyaml's count */
	size_t raw_size;  /* one entry of the array at raw */
	const char *const *def; /* K_STRINGS: default entries, NULL-ended */
	const char *unset;      /* with set: what leaving the key out means */
};

/* struct vg_config starts with path, so no bool can be at offset 0. */
_Static_assert(offsetof(struct vg_config, path) == 0, "list.set 0 is none");

/*
 * One row per key. Pass 1, the conversion, the defaults, the dump and
 * vg_config_fini() are all driven by this table, so a key's type, bounds
 * and default live here and nowhere else. Rows are in document order (the
 * dump relies on it). For lists, min and max bound the number of entries,
 * and list says where they go. A K_SEQ's entries may only hold scalars.
 */
struct key {
	const char *path; /* dotted; "[]" stands for any list index */
	enum kind kind;
	unsigned flags;
	size_t off; /* field in struct vg_config (F_ENTRY: in the entry) */
	size_t raw; /* in struct raw_config (F_ENTRY: in the raw entry) */
	unsigned long long min;
	unsigned long long max;
	unsigned long long def;
	const struct list *list;    /* K_SEQ, K_STRINGS */
	const char *const *choices; /* K_STRING: the values allowed,
				       NULL-ended; NULL: any */
};

/*
 * offsetof() that fails to compile unless the member has type t, so that
 * a row can never store a bool through an unsigned pointer. (An array
 * member has the type of a pointer to its first entry here.)
 */
#define TYPED_OFF(st, m, t)                                                    \
	(offsetof(st, m) + 0 * sizeof(_Generic(((st *)NULL)->m, t : 1)))

#define SECTION(p)                                                             \
	{                                                                      \
		.path = p, .kind = K_MAP                                       \
	}
#define CFG(p, k, fl, m, t, r, lo, hi, d)                                      \
	{                                                                      \
		.path = p, .kind = k, .flags = fl,                             \
		.off = TYPED_OFF(struct vg_config, m, t),                      \
		.raw = TYPED_OFF(struct raw_config, r, char *), .min = lo,     \
		.max = hi, .def = d                                            \
	}
#define CFG_STR(p, fl, m, r) CFG(p, K_STRING, fl, m, char *, r, 0, 0, 0)

/* The bool field m that says whether a list was set, or none. */
#define SET(m)  TYPED_OFF(struct vg_config, m, bool)
#define NO_SET  0
#define NO_DEFS NULL

/* hi, if array m of struct vg_config has room for hi entries. */
#define ROOM(m)     VG_ARRAY_LEN(((struct vg_config *)NULL)->m)
#define FITS(m, hi) ((hi) + 0 * sizeof(char[(hi) <= ROOM(m) ? 1 : -1]))

/*
 * List p of lo..hi entries: entries of type t in array m of struct
 * vg_config (count in n, set flag s), libcyaml's array r of type rt.
 */
#define LIST(p, k, lo, hi, m, t, n, s, r, rt, d, u)                            \
	{                                                                      \
		.path = p, .kind = k,                                          \
		.off = TYPED_OFF(struct vg_config, m, t *),                    \
		.raw = TYPED_OFF(struct raw_config, r, rt *), .min = lo,       \
		.max = FITS(m, hi),                                            \
		.list = &(const struct list){                                  \
		    .count = TYPED_OFF(struct vg_config, n, unsigned),         \
		    .set = s,                                                  \
		    .size = sizeof(t),                                         \
		    .raw_count =                                               \
			TYPED_OFF(struct raw_config, r##_count, unsigned),     \
		    .raw_size = sizeof(rt),                                    \
		    .def = d,                                                  \
		    .unset = u,                                                \
		},                                                             \
	}
/* List p of mappings, each an entry of type t (raw: rt). */
#define SEQ(p, hi, m, t, n, s, r, rt, u)                                       \
	LIST(p, K_SEQ, 0, hi, m, t, n, s, r, rt, NO_DEFS, u)
/* List p of strings. */
#define STRINGS(p, lo, hi, m, n, s, r, d, u)                                   \
	LIST(p, K_STRINGS, lo, hi, m, char *, n, s, r, char *, d, u)
/* "<list>[]": what each entry of a list is (K_SEQ: K_MAP). */
#define ENTRIES(p, k)                                                          \
	{                                                                      \
		.path = p, .kind = k                                           \
	}
/* "<list>[]" of a K_STRINGS list: each entry is a string, stored as is. */
#define STRING_ENTRIES(p, fl)                                                  \
	{                                                                      \
		.path = p, .kind = K_STRING, .flags = (fl) | F_ENTRY           \
	}
/* Field m of a list entry: type t in struct st, a string in raw rst. */
#define ENTRY(p, k, fl, st, rst, m, t, lo, hi, d, ch)                          \
	{                                                                      \
		.path = p, .kind = k, .flags = (fl) | F_ENTRY,                 \
		.off = TYPED_OFF(st, m, t), .raw = TYPED_OFF(rst, m, char *),  \
		.min = lo, .max = hi, .def = d, .choices = ch                  \
	}
#define IFC(p, k, fl, m, t, lo, hi, d)                                         \
	ENTRY(p, k, fl, struct vg_iface_config, struct raw_iface, m, t, lo,    \
	      hi, d, NULL)
#define IOC(p, fl, m, ch)                                                      \
	ENTRY(p, K_STRING, (fl) | F_REQUIRED, struct vg_ioc_config,            \
	      struct raw_ioc, m, char *, 0, 0, 0, ch)

/* IoC list types (detection.ioc[].type). */
static const char *const ioc_types[] = {"ip", "domain", "ja3", "sha256", NULL};

/* files.hash */
static const char *const hash_modes[] = {"matches", "all", NULL};
/* output.redis.mode */
static const char *const redis_modes[] = {"single", "cluster", "sentinel",
					  NULL};
/* output.syslog.facility: local0..local7 are 16..23 (choice index + 16) */
static const char *const facilities[] = {"local0", "local1", "local2", "local3",
					 "local4", "local5", "local6", "local7",
					 "daemon", "user",   "auth",   NULL};

/* log.target (log.h): the default is "auto" */
static const char *const log_targets[] = {"stderr", "journald", "auto", NULL};

#define CHOICE(p, m, r, ch, d)                                                 \
	{                                                                      \
		.path = p, .kind = K_STRING,                                   \
		.off = TYPED_OFF(struct vg_config, m, char *),                 \
		.raw = TYPED_OFF(struct raw_config, r, char *), .def = d,      \
		.choices = ch                                                  \
	}

/* detection.home_net when the key is absent: private and local networks. */
static const char *const default_home_net[] = {
    "10.0.0.0/8",  "172.16.0.0/12", "192.168.0.0/16",
    "127.0.0.0/8", "fc00::/7",      "::1/128",
    NULL};

static const struct key keys[] = {
    SECTION("agent"),
    CFG_STR("agent.id", F_NONEMPTY | F_NOCTL, agent_id, agent.id),
    CFG_STR("agent.agency", F_AGENCY, agency, agent.agency),
    CFG_STR("agent.hostname", F_NONEMPTY | F_NOCTL, hostname, agent.hostname),

    SECTION("capture"),
    SEQ("capture.interfaces", VG_CONFIG_MAX_IFACES, ifaces,
	struct vg_iface_config, n_ifaces, NO_SET, capture.interfaces,
	struct raw_iface, NULL),
    ENTRIES("capture.interfaces[]", K_MAP),
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

    SECTION("decode"),
    {.path = "decode.tunnels",
     .kind = K_TUNNELS,
     .off = TYPED_OFF(struct vg_config, tunnels, unsigned),
     .max = 16,
     .def = DEFAULT_TUNNELS},
    ENTRIES("decode.tunnels[]", K_TUNNEL),

    CFG("workers", K_UINT, 0, workers, unsigned, workers, 0, 64, 0),

    SECTION("flows"),
    CFG("flows.idle_timeout", K_DURATION, 0, idle_timeout, unsigned,
	flows.idle_timeout, 1, 31536000, 120),
    CFG("flows.active_timeout", K_DURATION, 0, active_timeout, unsigned,
	flows.active_timeout, 1, 31536000, 1800),
    CFG("flows.max", K_UINT, 0, max_flows, unsigned, flows.max, 1, 100000000,
	1000000),
    SECTION("flows.dpi_max_packets"),
    CFG("flows.dpi_max_packets.tcp", K_UINT, 0, tcp_max_packets, unsigned,
	flows.dpi_max_packets.tcp, 3, 1000, 80),
    CFG("flows.dpi_max_packets.udp", K_UINT, 0, udp_max_packets, unsigned,
	flows.dpi_max_packets.udp, 3, 1000, 24),
    CFG("flows.dpi_idle_timeout", K_DURATION, 0, dpi_idle_timeout, unsigned,
	flows.dpi_idle_timeout, 1, 31536000, 10),

    SECTION("detection"),
    STRINGS("detection.rules", 0, VG_CONFIG_MAX_LIST, rule_paths, n_rule_paths,
	    SET(rule_paths_set), detection.rules, NO_DEFS, "the shipped rules"),
    STRING_ENTRIES("detection.rules[]", F_NONEMPTY | F_NOCTL | F_PATH),
    STRINGS("detection.home_net", 1, VG_CONFIG_MAX_LIST, home_net, n_home_net,
	    NO_SET, detection.home_net, default_home_net, NULL),
    STRING_ENTRIES("detection.home_net[]", F_CIDR),
    SEQ("detection.ioc", VG_CONFIG_MAX_LIST, ioc, struct vg_ioc_config, n_ioc,
	SET(ioc_set), detection.ioc, struct raw_ioc, "the shipped lists"),
    ENTRIES("detection.ioc[]", K_MAP),
    IOC("detection.ioc[].name", F_AGENCY | F_UNIQUE, name, NULL),
    IOC("detection.ioc[].type", 0, type, ioc_types),
    IOC("detection.ioc[].path", F_NONEMPTY | F_NOCTL | F_PATH, path, NULL),
    CFG("detection.state_max", K_UINT, 0, state_max, unsigned,
	detection.state_max, 1000, 10000000, 100000),

    SECTION("geoip"),
    CFG_STR("geoip.country_db", F_NONEMPTY | F_NOCTL | F_PATH, geoip_country_db,
	    geoip.country_db),
    CFG_STR("geoip.asn_db", F_NONEMPTY | F_NOCTL | F_PATH, geoip_asn_db,
	    geoip.asn_db),

    SECTION("files"),
    STRINGS("files.watch", 0, VG_CONFIG_MAX_LIST, file_watch, n_file_watch,
	    NO_SET, files.watch, NO_DEFS, NULL),
    STRING_ENTRIES("files.watch[]", F_NONEMPTY | F_NOCTL | F_PATH),
    CFG("files.recursive", K_BOOL, 0, file_recursive, bool, files.recursive, 0,
	1, 1),
    STRINGS("files.exclude", 0, VG_CONFIG_MAX_LIST, file_exclude,
	    n_file_exclude, NO_SET, files.exclude, NO_DEFS, NULL),
    STRING_ENTRIES("files.exclude[]", F_NONEMPTY | F_NOCTL),
    CFG("files.max_size", K_SIZE, 0, file_max_size, unsigned, files.max_size,
	1 * KiB, 2 * GiB, 64 * MiB),
    CFG("files.scan_timeout", K_DURATION, 0, file_scan_timeout, unsigned,
	files.scan_timeout, 1, 3600, 60),
    CFG("files.threads", K_UINT, 0, file_threads, unsigned, files.threads, 0,
	32, 0),
    CFG("files.schedule", K_DURATION, 0, file_schedule, unsigned,
	files.schedule, 0, 31536000, 86400),
    STRINGS("files.rules", 0, VG_CONFIG_MAX_LIST, file_rules, n_file_rules,
	    SET(file_rules_set), files.rules, NO_DEFS, "the shipped rules"),
    STRING_ENTRIES("files.rules[]", F_NONEMPTY | F_NOCTL | F_PATH),
    CFG_STR("files.quarantine", F_NONEMPTY | F_NOCTL | F_PATH | F_OFF,
	    file_quarantine, files.quarantine),
    CHOICE("files.hash", file_hash, files.hash, hash_modes, 0),
    CFG("files.settle", K_DURATION, 0, file_settle, unsigned, files.settle, 0,
	3600, 2),
    CFG("files.max_watches", K_UINT, 0, file_max_watches, unsigned,
	files.max_watches, 0, 100000000, 0),
    CFG("files.queue", K_UINT, 0, file_queue, unsigned, files.queue, 16,
	16777216, 65536),
    CFG("files.cache", K_UINT, 0, file_cache, unsigned, files.cache, 0,
	10000000, 100000),

    SECTION("output"),
    SECTION("output.file"),
    CFG_STR("output.file.path", F_NONEMPTY | F_NOCTL, output_file,
	    output.file.path),
    CFG("output.file.max_size", K_SIZE, 0, output_file_max, unsigned,
	output.file.max_size, 0, 2 * GiB, 0),
    CFG("output.file.keep", K_UINT, 0, output_file_keep, unsigned,
	output.file.keep, 1, 1000, 5),
    SECTION("output.redis"),
    CFG_STR("output.redis.url", F_NONEMPTY | F_NOCTL | F_SECRET | F_URL,
	    redis_url, output.redis.url),
    CFG_STR("output.redis.username", F_NONEMPTY | F_NOCTL, redis_username,
	    output.redis.username),
    CFG_STR("output.redis.password", F_NONEMPTY | F_NOCTL | F_SECRET,
	    redis_password, output.redis.password),
    CFG_STR("output.redis.password_file", F_NONEMPTY | F_NOCTL | F_PATH,
	    redis_password_file, output.redis.password_file),
    CFG_STR("output.redis.ca_file", F_NONEMPTY | F_NOCTL | F_PATH,
	    redis_ca_file, output.redis.ca_file),
    CFG_STR("output.redis.cert_file", F_NONEMPTY | F_NOCTL | F_PATH,
	    redis_cert_file, output.redis.cert_file),
    CFG_STR("output.redis.key_file", F_NONEMPTY | F_NOCTL | F_PATH,
	    redis_key_file, output.redis.key_file),
    CFG_STR("output.redis.server_name", F_NONEMPTY | F_NOCTL, redis_server_name,
	    output.redis.server_name),
    CFG("output.redis.tls_verify", K_BOOL, 0, redis_tls_verify, bool,
	output.redis.tls_verify, 0, 1, 1),
    CHOICE("output.redis.mode", redis_mode, output.redis.mode, redis_modes, 0),
    STRINGS("output.redis.sentinels", 0, VG_CONFIG_MAX_LIST, redis_sentinels,
	    n_redis_sentinels, NO_SET, output.redis.sentinels, NO_DEFS, NULL),
    STRING_ENTRIES("output.redis.sentinels[]", F_NONEMPTY | F_NOCTL),
    CFG_STR("output.redis.sentinel_master", F_NONEMPTY | F_NOCTL,
	    redis_sentinel_master, output.redis.sentinel_master),
    CFG_STR("output.redis.stream", F_NONEMPTY | F_NOCTL, redis_stream,
	    output.redis.stream),
    CFG("output.redis.maxlen", K_UINT, 0, redis_maxlen, unsigned,
	output.redis.maxlen, 0, 4000000000u, 1000000),
    CFG("output.redis.batch", K_UINT, 0, redis_batch, unsigned,
	output.redis.batch, 1, 10000, 256),
    CFG("output.redis.linger_ms", K_UINT, 0, redis_linger_ms, unsigned,
	output.redis.linger_ms, 0, 10000, 20),
    CFG("output.redis.connect_timeout_ms", K_UINT, 0, redis_connect_timeout_ms,
	unsigned, output.redis.connect_timeout_ms, 100, 600000, 5000),
    CFG("output.redis.timeout_ms", K_UINT, 0, redis_timeout_ms, unsigned,
	output.redis.timeout_ms, 100, 600000, 5000),
    CFG("output.redis.drain_timeout", K_DURATION, 0, redis_drain_timeout,
	unsigned, output.redis.drain_timeout, 0, 86400, 10),
    SECTION("output.spool"),
    CFG_STR("output.spool.dir", F_NONEMPTY | F_NOCTL | F_PATH, spool_dir,
	    output.spool.dir),
    CFG("output.spool.max_size", K_SIZE, 0, spool_max_size, unsigned,
	output.spool.max_size, 1 * MiB, 4095 * MiB, 1 * GiB),
    SECTION("output.syslog"),
    CFG("output.syslog.enabled", K_BOOL, 0, syslog_enabled, bool,
	output.syslog.enabled, 0, 1, 0),
    CFG_STR("output.syslog.socket", F_NONEMPTY | F_NOCTL, syslog_socket,
	    output.syslog.socket),
    CHOICE("output.syslog.facility", syslog_facility, output.syslog.facility,
	   facilities, 5),
    CFG("output.flows", K_BOOL, 0, flow_events, bool, output.flows, 0, 1, 0),
    CFG("output.stats_interval", K_DURATION, 0, stats_interval, unsigned,
	output.stats_interval, 0, 86400, 30),
    CFG("output.event_max_bytes", K_SIZE, 0, event_max_bytes, unsigned,
	output.event_max_bytes, 1024, 16777216, 65536),
    CFG("output.queue", K_UINT, 0, queue_events, unsigned, output.queue, 16,
	16777216, 65536),

    SECTION("privileges"),
    CFG_STR("privileges.user", F_NONEMPTY | F_NOCTL, priv_user,
	    privileges.user),
    CFG_STR("privileges.group", F_NONEMPTY | F_NOCTL, priv_group,
	    privileges.group),
    CFG("privileges.allow_root", K_BOOL, 0, priv_allow_root, bool,
	privileges.allow_root, 0, 1, 0),

    SECTION("sandbox"),
    CFG("sandbox.packets", K_BOOL, 0, sandbox_packets, bool, sandbox.packets, 0,
	1, 1),
    CFG("sandbox.files", K_BOOL, 0, sandbox_files, bool, sandbox.files, 0, 1,
	1),

    SECTION("log"),
    CFG("log.level", K_LEVEL, 0, log_level, int, log.level, LOG_ERR, LOG_DEBUG,
	LOG_INFO),
    CHOICE("log.target", log_target, log.target, log_targets, 2),

    /* Operations: the control socket and the metrics endpoint. */
    SECTION("control"),
    CFG_STR("control.socket", F_NONEMPTY | F_NOCTL | F_PATH | F_OFF,
	    control_socket, control.socket),
    SECTION("metrics"),
    CFG_STR("metrics.listen", F_NONEMPTY | F_NOCTL | F_OFF | F_LISTEN,
	    metrics_listen, metrics.listen),
    CFG("metrics.allow_remote", K_BOOL, 0, metrics_allow_remote, bool,
	metrics.allow_remote, 0, 1, 0),

    /* Signed rule bundles from the center (bundlepoll.h). */
    SECTION("rules"),
    SECTION("rules.bundle"),
    CFG_STR("rules.bundle.public_key", F_NONEMPTY | F_NOCTL | F_PATH,
	    bundle_public_key, rules.bundle.public_key),
    CFG("rules.bundle.poll", K_DURATION, 0, bundle_poll, unsigned,
	rules.bundle.poll, 1, 86400, 60),
    CFG_STR("rules.bundle.dir", F_NONEMPTY | F_NOCTL | F_PATH, bundle_dir,
	    rules.bundle.dir),
};

/*
 * A set of rows of keys[], one bit each: what a mapping of pass 1 has
 * seen, and what the whole file has.
 */
#define ROWSET_WORDS 2

struct rowset {
	uint64_t w[ROWSET_WORDS];
};

_Static_assert(VG_ARRAY_LEN(keys) <= 64 * ROWSET_WORDS,
	       "keys[] outgrew struct rowset: raise ROWSET_WORDS");

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

static const cyaml_schema_field_t ioc_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_DEFAULT, struct raw_ioc, name, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("type", CYAML_FLAG_DEFAULT, struct raw_ioc, type, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("path", CYAML_FLAG_DEFAULT, struct raw_ioc, path, 0,
			   CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t ioc_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_ioc, ioc_fields),
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

static const cyaml_schema_field_t detection_fields[] = {
    CYAML_FIELD_SEQUENCE("rules", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_detection, rules, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    CYAML_FIELD_SEQUENCE("home_net", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_detection, home_net, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    CYAML_FIELD_SEQUENCE("ioc", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_detection, ioc, &ioc_schema, 0,
			 VG_CONFIG_MAX_LIST),
    RAW_STR("state_max", struct raw_detection, state_max),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t geoip_fields[] = {
    RAW_STR("country_db", struct raw_geoip, country_db),
    RAW_STR("asn_db", struct raw_geoip, asn_db),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t file_fields[] = {
    RAW_STR("path", struct raw_file, path),
    RAW_STR("max_size", struct raw_file, max_size),
    RAW_STR("keep", struct raw_file, keep),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t redis_fields[] = {
    RAW_STR("url", struct raw_redis, url),
    RAW_STR("username", struct raw_redis, username),
    RAW_STR("password", struct raw_redis, password),
    RAW_STR("password_file", struct raw_redis, password_file),
    RAW_STR("ca_file", struct raw_redis, ca_file),
    RAW_STR("cert_file", struct raw_redis, cert_file),
    RAW_STR("key_file", struct raw_redis, key_file),
    RAW_STR("server_name", struct raw_redis, server_name),
    RAW_STR("tls_verify", struct raw_redis, tls_verify),
    RAW_STR("mode", struct raw_redis, mode),
    CYAML_FIELD_SEQUENCE("sentinels", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_redis, sentinels, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    RAW_STR("sentinel_master", struct raw_redis, sentinel_master),
    RAW_STR("stream", struct raw_redis, stream),
    RAW_STR("maxlen", struct raw_redis, maxlen),
    RAW_STR("batch", struct raw_redis, batch),
    RAW_STR("linger_ms", struct raw_redis, linger_ms),
    RAW_STR("connect_timeout_ms", struct raw_redis, connect_timeout_ms),
    RAW_STR("timeout_ms", struct raw_redis, timeout_ms),
    RAW_STR("drain_timeout", struct raw_redis, drain_timeout),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t spool_fields[] = {
    RAW_STR("dir", struct raw_spool, dir),
    RAW_STR("max_size", struct raw_spool, max_size),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t syslog_fields[] = {
    RAW_STR("enabled", struct raw_syslog, enabled),
    RAW_STR("socket", struct raw_syslog, socket),
    RAW_STR("facility", struct raw_syslog, facility),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t files_fields[] = {
    CYAML_FIELD_SEQUENCE("watch", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_files, watch, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    RAW_STR("recursive", struct raw_files, recursive),
    CYAML_FIELD_SEQUENCE("exclude", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_files, exclude, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    RAW_STR("max_size", struct raw_files, max_size),
    RAW_STR("scan_timeout", struct raw_files, scan_timeout),
    RAW_STR("threads", struct raw_files, threads),
    RAW_STR("schedule", struct raw_files, schedule),
    CYAML_FIELD_SEQUENCE("rules", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_files, rules, &string_schema, 0,
			 VG_CONFIG_MAX_LIST),
    RAW_STR("quarantine", struct raw_files, quarantine),
    RAW_STR("hash", struct raw_files, hash),
    RAW_STR("settle", struct raw_files, settle),
    RAW_STR("max_watches", struct raw_files, max_watches),
    RAW_STR("queue", struct raw_files, queue),
    RAW_STR("cache", struct raw_files, cache),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t output_fields[] = {
    CYAML_FIELD_MAPPING("file", CYAML_FLAG_OPTIONAL, struct raw_output, file,
			file_fields),
    CYAML_FIELD_MAPPING("redis", CYAML_FLAG_OPTIONAL, struct raw_output, redis,
			redis_fields),
    CYAML_FIELD_MAPPING("spool", CYAML_FLAG_OPTIONAL, struct raw_output, spool,
			spool_fields),
    CYAML_FIELD_MAPPING("syslog", CYAML_FLAG_OPTIONAL, struct raw_output,
			syslog, syslog_fields),
    RAW_STR("flows", struct raw_output, flows),
    RAW_STR("stats_interval", struct raw_output, stats_interval),
    RAW_STR("event_max_bytes", struct raw_output, event_max_bytes),
    RAW_STR("queue", struct raw_output, queue),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t privileges_fields[] = {
    RAW_STR("user", struct raw_privileges, user),
    RAW_STR("group", struct raw_privileges, group),
    RAW_STR("allow_root", struct raw_privileges, allow_root),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t sandbox_fields[] = {
    RAW_STR("packets", struct raw_sandbox, packets),
    RAW_STR("files", struct raw_sandbox, files),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
    RAW_STR("level", struct raw_log, level),
    RAW_STR("target", struct raw_log, target),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t control_fields[] = {
    RAW_STR("socket", struct raw_control, socket),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t metrics_fields[] = {
    RAW_STR("listen", struct raw_metrics, listen),
    RAW_STR("allow_remote", struct raw_metrics, allow_remote),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rules_bundle_fields[] = {
    RAW_STR("public_key", struct raw_rules_bundle, public_key),
    RAW_STR("poll", struct raw_rules_bundle, poll),
    RAW_STR("dir", struct raw_rules_bundle, dir),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t rules_fields[] = {
    CYAML_FIELD_MAPPING("bundle", CYAML_FLAG_OPTIONAL, struct raw_rules, bundle,
			rules_bundle_fields),
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
    CYAML_FIELD_MAPPING("detection", CYAML_FLAG_OPTIONAL, struct raw_config,
			detection, detection_fields),
    CYAML_FIELD_MAPPING("geoip", CYAML_FLAG_OPTIONAL, struct raw_config, geoip,
			geoip_fields),
    CYAML_FIELD_MAPPING("files", CYAML_FLAG_OPTIONAL, struct raw_config, files,
			files_fields),
    CYAML_FIELD_MAPPING("output", CYAML_FLAG_OPTIONAL, struct raw_config,
			output, output_fields),
    CYAML_FIELD_MAPPING("privileges", CYAML_FLAG_OPTIONAL, struct raw_config,
			privileges, privileges_fields),
    CYAML_FIELD_MAPPING("sandbox", CYAML_FLAG_OPTIONAL, struct raw_config,
			sandbox, sandbox_fields),
    CYAML_FIELD_MAPPING("log", CYAML_FLAG_OPTIONAL, struct raw_config, log,
			log_fields),
    CYAML_FIELD_MAPPING("control", CYAML_FLAG_OPTIONAL, struct raw_config,
			control, control_fields),
    CYAML_FIELD_MAPPING("metrics", CYAML_FLAG_OPTIONAL, struct raw_config,
			metrics, metrics_fields),
    CYAML_FIELD_MAPPING("rules", CYAML_FLAG_OPTIONAL, struct raw_config, rules,
			rules_fields),
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
	struct rowset seen;        /* mapping: rows seen in it */
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
	unsigned skip;         /* depth inside a subtree being skipped */
	struct rowset present; /* rows seen anywhere */
	unsigned docs;         /* documents started */
	bool has_mapping;      /* the document is a mapping: worth loading */

	char cylog[2048]; /* libcyaml's error output */
	size_t cylog_len;

	/* Directory of the file, absolute, for F_PATH; "" for "/". */
	char base[PATH_MAX];
	bool base_ok; /* false: the current directory was unknown */
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

static bool
rowset_has(const struct rowset *set, const struct key *k)
{
	size_t i = (size_t)(k - keys);

	return (set->w[i / 64] >> (i % 64)) & 1;
}

static void
rowset_add(struct rowset *set, const struct key *k)
{
	size_t i = (size_t)(k - keys);

	set->w[i / 64] |= (uint64_t)1 << (i % 64);
}

/* The storage of row k's field in base (struct vg_config, or an entry). */
static void *
field_of(const struct key *k, void *base)
{
	return (char *)base + k->off;
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

/* The agency and IoC list names (Redis key names, rule bundle file names):
 * [a-z0-9][a-z0-9._-]{0,63} (config.h). */
bool
vg_config_name_ok(const char *s, size_t len)
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

/*
 * Is s an address ("192.0.2.1", "2001:db8::1": a /32 or /128) or a
 * network in CIDR notation ("10.0.0.0/8", "2001:db8::/32")? A network with
 * host bits set below its prefix ("10.0.0.1/8") is refused: it is most
 * often a typo, and which network was meant cannot be told. On failure
 * msg says why; q is s escaped for messages.
 */
static bool
cidr_ok(const char *s, const char *q, char *msg, size_t msgsz)
{
	unsigned char addr[16]; /* struct in6_addr */
	char text[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long long prefix;
	unsigned bits, i;
	bool host = false;
	int af;

	if (len >= sizeof(text))
		goto bad;
	memcpy(text, s, len);
	text[len] = '\0';
	af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	bits = af == AF_INET6 ? 128 : 32;
	/* glibc's inet_pton takes only dotted-quad decimal for AF_INET. */
	if (inet_pton(af, text, addr) != 1)
		goto bad;
	prefix = bits;
	/* The prefix is decimal with no leading zero, as ioc.c reads it. */
	if (slash != NULL &&
	    ((slash[1] == '0' && slash[2] != '\0') ||
	     parse_number(slash + 1, no_units, &prefix) != NUM_OK ||
	     prefix > bits))
		goto bad;
	for (i = (unsigned)prefix; i < bits; i++) {
		unsigned char bit = (unsigned char)(0x80u >> (i % 8));

		host |= (addr[i / 8] & bit) != 0;
		addr[i / 8] &= (unsigned char)~bit;
	}
	if (!host)
		return true;
	if (inet_ntop(af, addr, text, sizeof(text)) == NULL)
		goto bad;
	snprintf(msg, msgsz,
		 "host bits are set below the prefix: \"%s\" (the network is "
		 "%s/%llu)",
		 q, text, prefix);
	return false;

bad:
	snprintf(msg, msgsz, "not a CIDR: \"%s\"", q);
	return false;
}

/* names (NULL-ended) as "a, b, c or d". */
static void
name_list(char *buf, size_t bufsz, const char *const *names)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL; i++)
		join(buf, bufsz, buf,
		     i == 0                 ? ""
		     : names[i + 1] == NULL ? " or "
					    : ", ",
		     names[i]);
}

/* Last part of row k's path: "name" for "detection.ioc[].name". */
static const char *
key_name(const struct key *k)
{
	const char *dot = strrchr(k->path, '.');

	return dot != NULL ? dot + 1 : k->path;
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
	case K_STRINGS:
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
 * the index in k->choices, else 0). On failure msg says why, quoting the
 * value.
 */
static bool
check_scalar(const struct key *k, const char *s, size_t len,
	     unsigned long long *out, char *msg, size_t msgsz)
{
	char q[80], lo[32], hi[32], names[128];
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
		if ((k->flags & F_AGENCY) && !vg_config_name_ok(s, len)) {
			snprintf(
			    msg, msgsz,
			    "invalid %s \"%s\": use 1 to 64 of a-z 0-9 . _ - "
			    "starting with a letter or digit",
			    key_name(k), q);
			return false;
		}
		if ((k->flags & F_CIDR) && !cidr_ok(s, q, msg, msgsz))
			return false;
		if (k->flags & F_URL) {
			struct vg_redis_url u;

			/* The message never quotes the URL: it may hold a
			 * password. */
			if (vg_redis_url_parse(s, &u, msg, msgsz) != VG_OK)
				return false;
			vg_redis_url_fini(&u);
		}
		if ((k->flags & F_LISTEN) &&
		    !((k->flags & F_OFF) && strcmp(s, "off") == 0)) {
			struct vg_listen_addr a;

			if (vg_listen_addr_parse(s, &a, msg, msgsz) != VG_OK)
				return false;
		}
		if (k->choices == NULL)
			return true;
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcasecmp(s, k->choices[i]) == 0) {
				*out = i;
				return true;
			}
		}
		name_list(names, sizeof(names), k->choices);
		snprintf(msg, msgsz, "unknown %s \"%s\" (expected %s)",
			 key_name(k), q, names);
		return false;
	case K_MAP:
	case K_SEQ:
	case K_STRINGS:
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
	case K_STRINGS:
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
	else if (is_start(ev) && line_of(ld, disp) != 0)
		/*
		 * A block mapping or list starts at its first entry, maybe
		 * lines below: the key (or "-") is what is wrongly typed.
		 */
		add_error(ld, line_of(ld, disp), disp, "expected %s",
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
	if (rowset_has(&f->seen, row)) {
		add_error(ld, line_at(ev), f->pdisp,
			  "duplicate key (first set on line %u)", first);
		return;
	}
	rowset_add(&f->seen, row);
	rowset_add(&ld->present, row);
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

		if (!(k->flags & F_REQUIRED) || rowset_has(&f->seen, k) ||
		    strncmp(k->path, f->row->path, n) != 0 ||
		    k->path[n] != '.' || strchr(k->path + n + 1, '.') != NULL)
			continue;
		join(disp, sizeof(disp), f->disp, ".", k->path + n + 1);
		add_error(ld, f->line, disp, "required key missing");
	}
}

/* End of list f: had it enough entries? (Too many are refused as met.) */
static void
check_count(struct loader *ld, const struct frame *f)
{
	if (f->index >= f->row->min)
		return;
	if (f->index == 0)
		add_error(ld, f->line, f->disp,
			  "must not be empty (%llu to %llu entries)",
			  f->row->min, f->row->max);
	else
		add_error(ld, f->line, f->disp,
			  "too few entries (at least %llu)", f->row->min);
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
				else
					check_count(ld, &ld->st[ld->depth]);
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
		/* A choice is stored as the table spells it ("IP" -> "ip"). */
		if (k->choices != NULL)
			s = k->choices[v];
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
	case K_STRINGS:
	case K_TUNNEL:
		break;
	}
	return VG_OK;
}

/* Lists (see struct list). */

/* Is row k a field of the entries of list row l ("<l>[]", "<l>[].x")? */
static bool
is_entry_of(const struct key *k, const struct key *l)
{
	size_t n = strlen(l->path);

	return (k->flags & F_ENTRY) && strncmp(k->path, l->path, n) == 0 &&
	       strncmp(k->path + n, "[]", 2) == 0;
}

/* "detection.ioc[2].name" for field k of entry j of list l. */
static void
entry_path(char *dst, size_t dstsz, const struct key *l, unsigned j,
	   const struct key *k)
{
	snprintf(dst, dstsz, "%s[%u]%s", l->path, j,
		 k->path + strlen(l->path) + 2);
}

static unsigned *
list_count(const struct key *l, struct vg_config *cfg)
{
	return (unsigned *)((char *)cfg + l->list->count);
}

static char *
entry_at(const struct key *l, struct vg_config *cfg, unsigned j)
{
	return (char *)cfg + l->off + (size_t)j * l->list->size;
}

/* Free the strings of list l's entries, and empty it. */
static void
free_list(const struct key *l, struct vg_config *cfg)
{
	unsigned *n = list_count(l, cfg), j;
	size_t i;

	for (j = 0; j < *n && j < l->max; j++)
		for (i = 0; i < VG_ARRAY_LEN(keys); i++)
			if (is_entry_of(&keys[i], l) &&
			    keys[i].kind == K_STRING)
				free(*(char **)field_of(&keys[i],
							entry_at(l, cfg, j)));
	memset(entry_at(l, cfg, 0), 0, l->max * l->list->size);
	*n = 0;
}

/* Fill a new entry of list l with its defaults. */
static void
entry_defaults(const struct key *l, char *entry)
{
	size_t i;

	memset(entry, 0, l->list->size);
	for (i = 0; i < VG_ARRAY_LEN(keys); i++)
		if (is_entry_of(&keys[i], l) && keys[i].kind != K_STRING)
			(void)store(&keys[i], field_of(&keys[i], entry),
				    keys[i].def, NULL);
}

/* Make l hold its default entries (K_STRINGS: l->list->def). */
static enum vg_err
list_defaults(const struct key *l, struct vg_config *cfg)
{
	unsigned *n = list_count(l, cfg);
	char **dst;

	free_list(l, cfg);
	if (l->list->def == NULL)
		return VG_OK;
	for (; l->list->def[*n] != NULL && *n < l->max; (*n)++) {
		dst = (char **)entry_at(l, cfg, *n);
		*dst = strdup(l->list->def[*n]);
		if (*dst == NULL)
			return VG_ENOMEM;
	}
	return VG_OK;
}

/* Drop "." and empty parts of absolute path p: "/a/./b//c/" -> "/a/b/c". */
static void
clean_path(char *p)
{
	char *r = p, *w = p;
	size_t n;

	/* Each part written is preceded by at least one '/' read: w <= r. */
	for (;;) {
		while (*r == '/')
			r++;
		n = strcspn(r, "/");
		if (n == 0)
			break;
		if (n != 1 || r[0] != '.') {
			*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

/*
 * Relative path s made absolute against the configuration file's
 * directory, so that a configuration and its rules can move together.
 * ".." is kept: what it means depends on symbolic links. false (msg
 * says why) if that cannot be done.
 */
static bool
absolute_path(const struct loader *ld, const char *s, char *buf, size_t bufsz,
	      char *msg, size_t msgsz)
{
	int n;

	if (!ld->base_ok) {
		snprintf(msg, msgsz,
			 "relative path, and the current directory is unknown");
		return false;
	}
	n = snprintf(buf, bufsz, "%s/%s", ld->base, s);
	if (n < 0 || (size_t)n >= bufsz) {
		snprintf(msg, msgsz, "longer than %zu bytes once made absolute",
			 bufsz - 1);
		return false;
	}
	clean_path(buf);
	return true;
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
	char msg[MSG_LEN], abs[PATH_MAX];

	if (s == NULL)
		return VG_OK;
	if ((k->flags & F_OFF) && strcmp(s, "off") == 0) {
		/* "off" replaces a default that is on (control.socket). */
		free(*(char **)field);
		*(char **)field = NULL;
		return VG_OK;
	}
	if (!check_scalar(k, s, strlen(s), &v, msg, sizeof(msg))) {
		add_error(ld, line_of(ld, disp), disp, "%s", msg);
		return VG_OK;
	}
	if ((k->flags & F_PATH) && s[0] != '/') {
		if (!absolute_path(ld, s, abs, sizeof(abs), msg, sizeof(msg))) {
			add_error(ld, line_of(ld, disp), disp, "%s", msg);
			return VG_OK;
		}
		s = abs;
	}
	return store(k, field, v, s);
}

/*
 * Field k (F_UNIQUE) of entry j of list l against the entries before it.
 * Checked here, with every value at hand, rather than in pass 1.
 */
static void
check_unique(struct loader *ld, const struct key *l, const struct key *k,
	     struct vg_config *cfg, unsigned j, const char *disp)
{
	const char *s = *(char **)field_of(k, entry_at(l, cfg, j)), *t;
	char first[PATH_LEN], q[80];
	unsigned i;

	for (i = 0; i < j && s != NULL; i++) {
		t = *(char **)field_of(k, entry_at(l, cfg, i));
		if (t == NULL || strcmp(s, t) != 0)
			continue;
		entry_path(first, sizeof(first), l, i, k);
		escape(q, sizeof(q), s, strlen(s), 48);
		add_error(ld, line_of(ld, disp), disp,
			  "duplicate %s \"%s\" (first used on line %u)",
			  key_name(k), q, line_of(ld, first));
		return;
	}
}

/* Step 4 for list row l (K_SEQ, K_STRINGS): its entries into cfg. */
static enum vg_err
convert_list(struct loader *ld, const struct key *l, struct vg_config *cfg,
	     const struct raw_config *raw)
{
	const char *src = *(const char *const *)((const char *)raw + l->raw);
	unsigned count =
	    *(const unsigned *)((const char *)raw + l->list->raw_count);
	unsigned *n = list_count(l, cfg), j;
	char disp[PATH_LEN], *entry;
	const char *s;
	enum vg_err err;
	size_t i;

	/*
	 * An empty list and no key look the same to libcyaml: pass 1 knows
	 * whether the key was there. Absent, the defaults stay.
	 */
	if (!rowset_has(&ld->present, l))
		return VG_OK;
	if (l->list->set != 0)
		*(bool *)((char *)cfg + l->list->set) = true;
	free_list(l, cfg);
	/* Pass 1 and the schema refused more; never trust that here. */
	if (count > l->max)
		count = (unsigned)l->max;
	for (j = 0; j < count; j++) {
		/* Counted first, so that vg_config_fini() frees it. */
		entry = entry_at(l, cfg, (*n)++);
		entry_defaults(l, entry);
		for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
			const struct key *k = &keys[i];

			if (!is_entry_of(k, l))
				continue;
			entry_path(disp, sizeof(disp), l, j, k);
			s = *(char *const *)(src + j * l->list->raw_size +
					     k->raw);
			err = convert_one(ld, k, field_of(k, entry), s, disp);
			if (err != VG_OK)
				return err;
			if (k->flags & F_UNIQUE)
				check_unique(ld, l, k, cfg, j, disp);
		}
	}
	return VG_OK;
}

/* Step 4 for decode.tunnels: names into a mask. */
static void
convert_tunnels(struct loader *ld, const struct key *k, struct vg_config *cfg,
		const struct raw_config *raw)
{
	const struct key *entry = find_key("decode.tunnels[]");
	char disp[PATH_LEN], msg[MSG_LEN], *s;
	unsigned long long mask = 0, bit;
	unsigned j;

	/* As for lists: pass 1 knows whether the key was there. */
	if (!rowset_has(&ld->present, k))
		return;
	for (j = 0; j < raw->decode.tunnels_count; j++) {
		s = raw->decode.tunnels[j];
		snprintf(disp, sizeof(disp), "%s[%u]", k->path, j);
		if (check_scalar(entry, s, strlen(s), &bit, msg, sizeof(msg)))
			mask |= bit;
		else
			add_error(ld, line_of(ld, disp), disp, "%s", msg);
	}
	cfg->tunnels = (unsigned)mask;
}

/* Step 4: libcyaml's strings into cfg (which holds the defaults). */
static enum vg_err
convert(struct loader *ld, struct vg_config *cfg, const struct raw_config *raw)
{
	const char *s;
	enum vg_err err;
	size_t i;

	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		/* List entries are converted with their list. */
		if (strstr(k->path, "[]") != NULL)
			continue;
		switch (k->kind) {
		case K_MAP:
			continue;
		case K_TUNNELS:
			convert_tunnels(ld, k, cfg, raw);
			continue;
		case K_SEQ:
		case K_STRINGS:
			err = convert_list(ld, k, cfg, raw);
			break;
		default:
			s = *(char *const *)((const char *)raw + k->raw);
			err = convert_one(ld, k, field_of(k, cfg), s, k->path);
			break;
		}
		if (err != VG_OK)
			return err;
	}
	return VG_OK;
}

/* Steps 3 and 4. */
/*
 * metrics.listen serves counters without authentication: only on a
 * loopback address unless metrics.allow_remote says otherwise.
 */
static void
check_metrics(struct loader *ld, const struct vg_config *cfg)
{
	struct vg_listen_addr a;
	char msg[MSG_LEN];

	if (cfg->metrics_listen == NULL || cfg->metrics_allow_remote)
		return;
	if (vg_listen_addr_parse(cfg->metrics_listen, &a, msg, sizeof(msg)) !=
	    VG_OK)
		return; /* reported by the conversion */
	if (!a.loopback)
		add_error(ld, line_of(ld, "metrics.listen"), "metrics.listen",
			  "%s is not a loopback address (set "
			  "metrics.allow_remote: true to serve other hosts)",
			  a.host);
}

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
	if (err == VG_OK)
		check_metrics(ld, cfg);
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

/*
 * The directory of the configuration file, absolute, into ld->base (for
 * F_PATH). Lexical only: the file may be reached through a symbolic link
 * to a directory holding its rules.
 */
static void
config_dir(struct loader *ld, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash != NULL ? (int)(slash - path) : 0;
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(ld->base, sizeof(ld->base), "%.*s", dirlen, path);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return;
		n = snprintf(ld->base, sizeof(ld->base), "%s/%.*s", cwd, dirlen,
			     path);
	}
	ld->base_ok = n >= 0 && (size_t)n < sizeof(ld->base);
}

enum vg_err
vg_config_defaults(struct vg_config *cfg)
{
	char host[HOST_NAME_MAX + 1];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		if (k->flags & F_ENTRY)
			continue;
		if (k->list != NULL) {
			if (list_defaults(k, cfg) != VG_OK) {
				vg_config_fini(cfg);
				return VG_ENOMEM;
			}
		} else if (k->kind != K_STRING) {
			(void)store(k, field_of(k, cfg), k->def, NULL);
		} else if (k->choices != NULL &&
			   store(k, field_of(k, cfg), k->def,
				 k->choices[k->def]) != VG_OK) {
			/* A string of choices defaults to choices[def]. */
			vg_config_fini(cfg);
			return VG_ENOMEM;
		}
	}

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	cfg->hostname = strdup(host);
	cfg->agency = strdup("unknown");
	cfg->priv_user = strdup("vigil");
	cfg->control_socket = strdup(VG_CONTROL_SOCKET_DEFAULT);
	cfg->agent_id = machine_id();
	if (cfg->agent_id == NULL)
		cfg->agent_id = strdup(host);
	if (cfg->hostname == NULL || cfg->agency == NULL ||
	    cfg->agent_id == NULL || cfg->priv_user == NULL ||
	    cfg->control_socket == NULL) {
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
	config_dir(ld, path);
	err = walk(ld, buf, len);
	if (err == VG_OK && ld->n_errs == 0 && ld->has_mapping)
		err = load_typed(ld, cfg, buf, len);
	if (err == VG_OK && ld->n_errs > 0)
		err = VG_EINVAL;
	if (err == VG_OK) {
		cfg->path = strdup(path);
		if (cfg->path == NULL)
			err = VG_ENOMEM;
		/* For messages of the privilege drop (privdrop.c). */
		cfg->priv_user_line = line_of(ld, "privileges.user");
		cfg->priv_group_line = line_of(ld, "privileges.group");
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
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];

		if (k->flags & F_ENTRY)
			continue; /* freed with its list */
		if (k->list != NULL)
			free_list(k, cfg);
		else if (k->kind == K_STRING)
			free(*(char **)field_of(k, cfg));
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
	case K_STRINGS:
	case K_TUNNEL:
		break;
	}
}

/* Entries of list l: "- name: x" then "  bpf: y" (or "- x" for strings). */
static void
dump_entries(FILE *out, const struct key *l, const struct vg_config *cfg,
	     int indent)
{
	const char *entry, *lead, *sub;
	const void *field;
	unsigned n = *(const unsigned *)((const char *)cfg + l->list->count);
	unsigned j;
	size_t i;

	for (j = 0; j < n && j < l->max; j++) {
		entry = (const char *)cfg + l->off + (size_t)j * l->list->size;
		lead = "- ";
		for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
			const struct key *k = &keys[i];

			field = entry + k->off;
			if (!is_entry_of(k, l) ||
			    (k->kind == K_STRING &&
			     *(char *const *)field == NULL))
				continue;
			fprintf(out, "%*s%s", indent, "", lead);
			sub = k->path + strlen(l->path) + 2; /* "" or ".bpf" */
			if (*sub != '\0')
				fprintf(out, "%s: ", sub + 1);
			dump_value(out, k, field);
			fputc('\n', out);
			lead = "  ";
		}
	}
}

/*
 * Is row k not set at all: a NULL string, a list whose key was absent,
 * or a mapping of nothing but those? It is then written as a comment,
 * since "key:" with nothing after it would not load again.
 */
static bool
is_unset(const struct key *k, const struct vg_config *cfg)
{
	const void *field = (const char *)cfg + k->off;
	size_t i, n = strlen(k->path);

	switch (k->kind) {
	case K_STRING:
		return *(char *const *)field == NULL;
	case K_SEQ:
	case K_STRINGS:
		return k->list->set != 0 &&
		       !*(const bool *)((const char *)cfg + k->list->set);
	case K_MAP:
		for (i = 0; i < VG_ARRAY_LEN(keys); i++)
			if (strncmp(keys[i].path, k->path, n) == 0 &&
			    keys[i].path[n] == '.' && keys[i].kind != K_MAP &&
			    strstr(keys[i].path, "[]") == NULL &&
			    !is_unset(&keys[i], cfg))
				return false;
		return true;
	default:
		return false;
	}
}

void
vg_config_dump(const struct vg_config *cfg, FILE *out)
{
	const struct key *k, *unset = NULL;
	const char *name, *p, *why;
	size_t i;
	int indent;

	if (cfg->path != NULL) {
		fputs("# loaded from ", out);
		dump_string(out, cfg->path);
		fputc('\n', out);
	}
	for (i = 0; i < VG_ARRAY_LEN(keys); i++) {
		k = &keys[i];
		/* List entries are written with their list. */
		if (strstr(k->path, "[]") != NULL)
			continue;
		/* So is what an unset mapping holds. */
		if (unset != NULL &&
		    strncmp(k->path, unset->path, strlen(unset->path)) == 0 &&
		    k->path[strlen(unset->path)] == '.')
			continue;
		indent = 0;
		for (p = k->path; *p != '\0'; p++)
			indent += 2 * (*p == '.');
		name = strrchr(k->path, '.');
		name = name != NULL ? name + 1 : k->path;
		if (is_unset(k, cfg) && (k->flags & F_OFF)) {
			/* Loads again as the same: off, not the default. */
			fprintf(out, "%*s%s: off\n", indent, "", name);
			continue;
		}
		if (is_unset(k, cfg)) {
			why = k->list != NULL ? k->list->unset : NULL;
			fprintf(out, "%*s# %s: not set%s%s%s\n", indent, "",
				name, why != NULL ? " (" : "",
				why != NULL ? why : "", why != NULL ? ")" : "");
			if (k->kind == K_MAP)
				unset = k;
			continue;
		}
		if (k->flags & F_SECRET) {
			fprintf(out, "%*s# %s: set, not shown\n", indent, "",
				name);
			continue;
		}
		fprintf(out, "%*s%s:", indent, "", name);
		if (k->kind == K_MAP) {
			fputc('\n', out);
		} else if (k->list != NULL) {
			if (*(const unsigned *)((const char *)cfg +
						k->list->count) == 0) {
				fputs(" []\n", out);
			} else {
				fputc('\n', out);
				dump_entries(out, k, cfg, indent + 2);
			}
		} else {
			fputc(' ', out);
			dump_value(out, k, (const char *)cfg + k->off);
			fputc('\n', out);
		}
	}
}
