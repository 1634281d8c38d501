/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-collector configuration: read collector.yaml into struct
 * vc_config.
 *
 * Two passes over the same bytes, like the agent's loader:
 *  1. libyaml's event stream is walked against keys[], the table of every
 *     setting: unknown and duplicate keys, wrong shapes (a mapping where a
 *     scalar belongs) and aliases are reported with the line libyaml
 *     gives, and the line of every accepted key is recorded.
 *  2. libcyaml loads the bytes against a schema that takes every scalar as
 *     a string (libcyaml 1.3 reads "010" as 8 and any non-false word as
 *     true); the strings then go through strict converters here, whose
 *     errors carry the line pass 1 recorded.
 */
#include "config.h"

#include "log.h"

#include <cyaml/cyaml.h>
#include <yaml.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE_BYTES VC_CONFIG_MAX_FILE_BYTES
#define DEFAULT_URL    "redis://127.0.0.1:6379"
#define SYSTEM_STATIC  "/usr/share/vigil/dashboards/web"

enum kind { K_STR, K_LIST };

/* Every setting: section, key, shape. */
static const struct key {
	const char *section;
	const char *name;
	enum kind kind;
} keys[] = {
    {"redis", "url", K_STR},
    {"redis", "username", K_STR},
    {"redis", "password", K_STR},
    {"redis", "password_file", K_STR},
    {"redis", "ca_file", K_STR},
    {"redis", "cert_file", K_STR},
    {"redis", "key_file", K_STR},
    {"redis", "server_name", K_STR},
    {"redis", "tls_verify", K_STR},
    {"redis", "mode", K_STR},
    {"redis", "sentinels", K_LIST},
    {"redis", "sentinel_master", K_STR},
    {"consumer", "name", K_STR},
    {"consumer", "group", K_STR},
    {"consumer", "block_ms", K_STR},
    {"consumer", "batch", K_STR},
    {"consumer", "claim_idle", K_STR},
    {"archive", "dir", K_STR},
    {"archive", "compress", K_STR},
    {"http", "listen", K_STR},
    {"http", "tokens_file", K_STR},
    {"http", "static_dir", K_STR},
    {"forward", "address", K_STR},
    {"forward", "tls", K_STR},
    {"forward", "ca_file", K_STR},
    {"forward", "cert_file", K_STR},
    {"forward", "key_file", K_STR},
    {"forward", "server_name", K_STR},
    {"forward", "tls_verify", K_STR},
    {"forward", "queue", K_STR},
    {"forward", "types", K_LIST},
    {"forward", "facility", K_STR},
    {"forward", "app_name", K_STR},
    {"center", "name", K_STR},
    {"center", "recent_events", K_STR},
    {"center", "max_agents", K_STR},
    {"log", "target", K_STR},
};

#define N_KEYS VG_ARRAY_LEN(keys)

struct loader {
	const char *path;
	char *err;
	size_t errlen;
	unsigned line[N_KEYS];    /* 0: key absent */
	unsigned section_line[7]; /* redis, consumer, archive, http, forward,
				     log, center */
};

static const char *const sections[] = {"redis",   "consumer", "archive", "http",
				       "forward", "log",      "center"};

static void fail(struct loader *ld, unsigned line, const char *key,
		 const char *fmt, ...) VG_PRINTF(4, 5);

/* Write "FILE:LINE: KEY: message" (LINE and KEY when known). */
static void
fail(struct loader *ld, unsigned line, const char *key, const char *fmt, ...)
{
	char msg[256], where[48] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(where, sizeof(where), "%u:", line);
	vg_seterr(ld->err, ld->errlen, "%s:%s %s%s%s", ld->path, where,
		  key ? key : "", key ? ": " : "", msg);
}

static int
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
find_section(const char *name)
{
	for (size_t i = 0; i < VG_ARRAY_LEN(sections); i++)
		if (strcmp(sections[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Pass 1.
 */

struct walker {
	yaml_parser_t p;
	yaml_event_t ev;
	int have; /* ev holds an event to delete */
	struct loader *ld;
};

/* The next event into w->ev: 0, or -1 with the error written. */
static int
next(struct walker *w)
{
	if (w->have)
		yaml_event_delete(&w->ev);
	w->have = 0;
	if (!yaml_parser_parse(&w->p, &w->ev)) {
		fail(w->ld, (unsigned)w->p.problem_mark.line + 1, NULL,
		     "YAML syntax: %s",
		     w->p.problem ? w->p.problem : "unknown error");
		return -1;
	}
	w->have = 1;
	if (w->ev.type == YAML_ALIAS_EVENT) {
		fail(w->ld, (unsigned)w->ev.start_mark.line + 1, NULL,
		     "aliases are not allowed");
		return -1;
	}
	return 0;
}

static unsigned
ev_line(const struct walker *w)
{
	return (unsigned)w->ev.start_mark.line + 1;
}

/* A mapping key must be a plain string scalar; copy it to buf. */
static int
key_text(struct walker *w, char *buf, size_t n)
{
	size_t len;

	if (w->ev.type != YAML_SCALAR_EVENT) {
		fail(w->ld, ev_line(w), NULL, "a key must be a string");
		return -1;
	}
	len = w->ev.data.scalar.length;
	if (len >= n)
		len = n - 1;
	memcpy(buf, w->ev.data.scalar.value, len);
	buf[len] = '\0';
	return 0;
}

static int
walk_value(struct walker *w, const char *path, enum kind kind)
{
	if (kind == K_STR) {
		if (w->ev.type != YAML_SCALAR_EVENT) {
			fail(w->ld, ev_line(w), path, "must be a scalar");
			return -1;
		}
		return 0;
	}
	if (w->ev.type != YAML_SEQUENCE_START_EVENT) {
		fail(w->ld, ev_line(w), path, "must be a list");
		return -1;
	}
	for (;;) {
		if (next(w) < 0)
			return -1;
		if (w->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (w->ev.type != YAML_SCALAR_EVENT) {
			fail(w->ld, ev_line(w), path,
			     "entries must be scalars");
			return -1;
		}
	}
}

static int
walk_section(struct walker *w, const char *section)
{
	char name[64], path[160];
	unsigned line;
	int k;

	if (w->ev.type == YAML_SCALAR_EVENT && w->ev.data.scalar.length == 0)
		return 0; /* "redis:" with nothing under it */
	if (w->ev.type != YAML_MAPPING_START_EVENT) {
		fail(w->ld, ev_line(w), section, "must be a mapping");
		return -1;
	}
	for (;;) {
		if (next(w) < 0)
			return -1;
		if (w->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (key_text(w, name, sizeof(name)) < 0)
			return -1;
		line = ev_line(w);
		snprintf(path, sizeof(path), "%s.%s", section, name);
		k = find_key(section, name);
		if (k < 0) {
			fail(w->ld, line, path, "unknown key");
			return -1;
		}
		if (w->ld->line[k]) {
			fail(w->ld, line, path,
			     "duplicate key (first at "
			     "line %u)",
			     w->ld->line[k]);
			return -1;
		}
		w->ld->line[k] = line;
		if (next(w) < 0 || walk_value(w, path, keys[k].kind) < 0)
			return -1;
	}
}

static int
pass1(struct loader *ld, const char *buf, size_t len)
{
	struct walker w = {.ld = ld};
	char name[64];
	int rc = -1, s;

	if (!yaml_parser_initialize(&w.p)) {
		fail(ld, 0, NULL, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&w.p, (const unsigned char *)buf, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END (empty file). */
	if (next(&w) < 0 || next(&w) < 0)
		goto out;
	if (w.ev.type == YAML_STREAM_END_EVENT) {
		rc = 0;
		goto out;
	}
	if (next(&w) < 0)
		goto out;
	if (w.ev.type == YAML_SCALAR_EVENT && w.ev.data.scalar.length == 0) {
		rc = 0; /* a document of comments only */
		goto out;
	}
	if (w.ev.type != YAML_MAPPING_START_EVENT) {
		fail(ld, ev_line(&w), NULL, "the top level must be a mapping");
		goto out;
	}
	for (;;) {
		if (next(&w) < 0)
			goto out;
		if (w.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (key_text(&w, name, sizeof(name)) < 0)
			goto out;
		s = find_section(name);
		if (s < 0) {
			fail(ld, ev_line(&w), name, "unknown key");
			goto out;
		}
		if (ld->section_line[s]) {
			fail(ld, ev_line(&w), name, "duplicate key");
			goto out;
		}
		ld->section_line[s] = ev_line(&w);
		if (next(&w) < 0 || walk_section(&w, name) < 0)
			goto out;
	}
	/* DOCUMENT-END, then STREAM-END: a second document is refused. */
	if (next(&w) < 0 || next(&w) < 0)
		goto out;
	if (w.ev.type != YAML_STREAM_END_EVENT) {
		fail(ld, ev_line(&w), NULL, "only one YAML document allowed");
		goto out;
	}
	rc = 0;
out:
	if (w.have)
		yaml_event_delete(&w.ev);
	yaml_parser_delete(&w.p);
	return rc;
}

/*
 * Pass 2: libcyaml, every scalar a string.
 */

struct raw_redis {
	char *url, *username, *password, *password_file, *ca_file, *cert_file,
	    *key_file, *server_name, *tls_verify, *mode, *sentinel_master;
	char **sentinels;
	unsigned sentinels_count;
};

struct raw_consumer {
	char *name, *group, *block_ms, *batch, *claim_idle;
};

struct raw_archive {
	char *dir, *compress;
};

struct raw_http {
	char *listen, *tokens_file, *static_dir;
};

struct raw_forward {
	char *address, *tls, *ca_file, *cert_file, *key_file, *server_name,
	    *tls_verify, *queue, *facility, *app_name;
	char **types;
	unsigned types_count;
};

struct raw_log {
	char *target;
};

struct raw_center {
	char *name, *recent_events, *max_agents;
};

struct raw_config {
	struct raw_center center;
	struct raw_redis redis;
	struct raw_consumer consumer;
	struct raw_archive archive;
	struct raw_http http;
	struct raw_forward forward;
	struct raw_log log;
};

#define STR(k, st, m)                                                          \
	CYAML_FIELD_STRING_PTR(k, CYAML_FLAG_OPTIONAL, st, m, 0,               \
			       CYAML_UNLIMITED)

static const cyaml_schema_value_t string_schema = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t redis_fields[] = {
    STR("url", struct raw_redis, url),
    STR("username", struct raw_redis, username),
    STR("password", struct raw_redis, password),
    STR("password_file", struct raw_redis, password_file),
    STR("ca_file", struct raw_redis, ca_file),
    STR("cert_file", struct raw_redis, cert_file),
    STR("key_file", struct raw_redis, key_file),
    STR("server_name", struct raw_redis, server_name),
    STR("tls_verify", struct raw_redis, tls_verify),
    STR("mode", struct raw_redis, mode),
    CYAML_FIELD_SEQUENCE("sentinels", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_redis, sentinels, &string_schema, 0,
			 VC_CONFIG_MAX_SENTINELS),
    STR("sentinel_master", struct raw_redis, sentinel_master),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t consumer_fields[] = {
    STR("name", struct raw_consumer, name),
    STR("group", struct raw_consumer, group),
    STR("block_ms", struct raw_consumer, block_ms),
    STR("batch", struct raw_consumer, batch),
    STR("claim_idle", struct raw_consumer, claim_idle),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t archive_fields[] = {
    STR("dir", struct raw_archive, dir),
    STR("compress", struct raw_archive, compress),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t http_fields[] = {
    STR("listen", struct raw_http, listen),
    STR("tokens_file", struct raw_http, tokens_file),
    STR("static_dir", struct raw_http, static_dir),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t forward_fields[] = {
    STR("address", struct raw_forward, address),
    STR("tls", struct raw_forward, tls),
    STR("ca_file", struct raw_forward, ca_file),
    STR("cert_file", struct raw_forward, cert_file),
    STR("key_file", struct raw_forward, key_file),
    STR("server_name", struct raw_forward, server_name),
    STR("tls_verify", struct raw_forward, tls_verify),
    STR("queue", struct raw_forward, queue),
    CYAML_FIELD_SEQUENCE("types", CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER,
			 struct raw_forward, types, &string_schema, 0,
			 VC_FORWARD_MAX_TYPES),
    STR("facility", struct raw_forward, facility),
    STR("app_name", struct raw_forward, app_name),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
    STR("target", struct raw_log, target),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t center_fields[] = {
    STR("name", struct raw_center, name),
    STR("recent_events", struct raw_center, recent_events),
    STR("max_agents", struct raw_center, max_agents),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_MAPPING("redis", CYAML_FLAG_OPTIONAL, struct raw_config, redis,
			redis_fields),
    CYAML_FIELD_MAPPING("consumer", CYAML_FLAG_OPTIONAL, struct raw_config,
			consumer, consumer_fields),
    CYAML_FIELD_MAPPING("archive", CYAML_FLAG_OPTIONAL, struct raw_config,
			archive, archive_fields),
    CYAML_FIELD_MAPPING("http", CYAML_FLAG_OPTIONAL, struct raw_config, http,
			http_fields),
    CYAML_FIELD_MAPPING("center", CYAML_FLAG_OPTIONAL, struct raw_config,
			center, center_fields),
    CYAML_FIELD_MAPPING("forward", CYAML_FLAG_OPTIONAL, struct raw_config,
			forward, forward_fields),
    CYAML_FIELD_MAPPING("log", CYAML_FLAG_OPTIONAL, struct raw_config, log,
			log_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t top_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, top_fields),
};

struct cylog {
	char buf[512];
	size_t len;
};

static void cyaml_capture(cyaml_log_t level, void *ctx, const char *fmt,
			  va_list args) __attribute__((format(printf, 3, 0)));

/* libcyaml log function: keep its errors for the message. */
static void
cyaml_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cylog *cl = ctx;
	size_t room = sizeof(cl->buf) - cl->len;
	int n;

	if (level < CYAML_LOG_ERROR || room <= 1)
		return;
	n = vsnprintf(cl->buf + cl->len, room, fmt, args);
	if (n > 0)
		cl->len += (size_t)n < room ? (size_t)n : room - 1;
}

/*
 * Conversions.
 */

static unsigned
line_of(const struct loader *ld, const char *section, const char *name)
{
	int k = find_key(section, name);

	return k < 0 ? 0 : ld->line[k];
}

/* Strict unsigned decimal in [lo, hi]. */
static int
conv_uint(struct loader *ld, const char *sec, const char *name, const char *s,
	  unsigned lo, unsigned hi, unsigned *out)
{
	char path[96], *end;
	unsigned long long v;

	snprintf(path, sizeof(path), "%s.%s", sec, name);
	if (s[0] < '0' || s[0] > '9') {
		fail(ld, line_of(ld, sec, name), path, "not a decimal integer");
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fail(ld, line_of(ld, sec, name), path,
		     "must be an integer in %u..%u", lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
conv_bool(struct loader *ld, const char *sec, const char *name, const char *s,
	  int *out)
{
	char path[96];

	if (strcmp(s, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(s, "false") == 0) {
		*out = 0;
		return 0;
	}
	snprintf(path, sizeof(path), "%s.%s", sec, name);
	fail(ld, line_of(ld, sec, name), path, "must be true or false");
	return -1;
}

/* A duration: N (seconds), Nms, Ns, Nm; at most one day. */
static int
conv_duration_ms(struct loader *ld, const char *sec, const char *name,
		 const char *s, unsigned *out)
{
	char path[96], *end;
	unsigned long long v, mul = 1000;

	snprintf(path, sizeof(path), "%s.%s", sec, name);
	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else
		goto bad;
	if (v == 0 || v > 86400000ull / mul)
		goto bad;
	*out = (unsigned)(v * mul);
	return 0;
bad:
	fail(ld, line_of(ld, sec, name), path,
	     "must be a duration from 1ms to 1 day (30, 30s, 500ms, 5m)");
	return -1;
}

static int
dup_to(struct loader *ld, char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	if (*dst == NULL) {
		fail(ld, 0, NULL, "out of memory");
		return -1;
	}
	return 0;
}

/* The first line of a password file, without its newline. */
static int
read_password(struct loader *ld, const char *file, char **out)
{
	char why[PATH_MAX + 128];

	*out = vg_read_secret(file, "redis.password_file", why, sizeof(why));
	if (*out == NULL) {
		/* why: "redis.password_file: FILE: reason" */
		fail(ld, line_of(ld, "redis", "password_file"),
		     "redis.password_file", "%s",
		     why + strlen("redis.password_file: "));
		return -1;
	}
	return 0;
}

static int
convert_redis(struct loader *ld, const struct raw_redis *r, struct vc_config *c,
	      int for_run)
{
	struct vg_redis_url u;
	char msg[200];

	c->redis_tls_verify = 1;
	c->redis_mode = VG_REDIS_SINGLE;
	if (r->mode) {
		if (strcmp(r->mode, "single") == 0)
			c->redis_mode = VG_REDIS_SINGLE;
		else if (strcmp(r->mode, "cluster") == 0)
			c->redis_mode = VG_REDIS_CLUSTER;
		else if (strcmp(r->mode, "sentinel") == 0)
			c->redis_mode = VG_REDIS_SENTINEL;
		else {
			fail(ld, line_of(ld, "redis", "mode"), "redis.mode",
			     "must be single, cluster or sentinel");
			return -1;
		}
	}
	if (r->tls_verify && conv_bool(ld, "redis", "tls_verify", r->tls_verify,
				       &c->redis_tls_verify) < 0)
		return -1;
	if (dup_to(ld, &c->redis_url,
		   r->url ? r->url
			  : (c->redis_mode == VG_REDIS_SENTINEL
				 ? NULL
				 : DEFAULT_URL)) < 0)
		return -1;
	if (c->redis_url) {
		if (vg_redis_url_parse(c->redis_url, &u, msg, sizeof(msg)) !=
		    VG_OK) {
			fail(ld, line_of(ld, "redis", "url"), "redis.url", "%s",
			     msg);
			return -1;
		}
		vg_redis_url_fini(&u);
	}
	if (r->password && r->password_file) {
		fail(ld, line_of(ld, "redis", "password_file"),
		     "redis.password_file",
		     "give password or password_file, not both");
		return -1;
	}
	if (dup_to(ld, &c->redis_username, r->username) < 0 ||
	    dup_to(ld, &c->redis_password, r->password) < 0 ||
	    dup_to(ld, &c->redis_password_file, r->password_file) < 0 ||
	    dup_to(ld, &c->redis_ca_file, r->ca_file) < 0 ||
	    dup_to(ld, &c->redis_cert_file, r->cert_file) < 0 ||
	    dup_to(ld, &c->redis_key_file, r->key_file) < 0 ||
	    dup_to(ld, &c->redis_server_name, r->server_name) < 0 ||
	    dup_to(ld, &c->redis_sentinel_master, r->sentinel_master) < 0)
		return -1;
	if (for_run && r->password_file &&
	    read_password(ld, r->password_file, &c->redis_password) < 0)
		return -1;
	for (unsigned i = 0; i < r->sentinels_count; i++) {
		if (dup_to(ld, &c->redis_sentinels[i], r->sentinels[i]) < 0)
			return -1;
		c->n_redis_sentinels = i + 1;
	}
	if (c->redis_mode == VG_REDIS_SENTINEL &&
	    (c->n_redis_sentinels == 0 || c->redis_sentinel_master == NULL)) {
		fail(ld, line_of(ld, "redis", "mode"), "redis.mode",
		     "sentinel needs sentinels and sentinel_master");
		return -1;
	}
	return 0;
}

static const char *const facilities[] = {
    "kern",   "user",   "mail",   "daemon", "auth",     "syslog",
    "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
    "ntp",    "audit",  "alert",  "clock",  "local0",   "local1",
    "local2", "local3", "local4", "local5", "local6",   "local7",
};

/* "host:port" or "[v6]:port", a port in 1..65535 and a host. */
static int
check_address(const char *a)
{
	const char *colon = strrchr(a, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || colon == a || colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -1;
	if (a[0] == '[' && colon[-1] != ']')
		return -1;
	return 0;
}

static int
convert_forward(struct loader *ld, const struct raw_forward *r,
		struct vc_config *c)
{
	const char *const *types = (const char *const[]){"alert", "fileinfo"};
	unsigned n_types = 2;
	size_t i;

	c->forward_tls_verify = 1;
	c->forward_queue = VC_FORWARD_DEFAULT_QUEUE;
	c->forward_facility = 21; /* local5 */
	if (r->address == NULL) {
		if (r->tls || r->ca_file || r->cert_file || r->key_file ||
		    r->server_name || r->tls_verify || r->queue || r->types ||
		    r->facility || r->app_name) {
			fail(ld, ld->section_line[4], "forward.address",
			     "required when forward is configured");
			return -1;
		}
		return 0;
	}
	if (check_address(r->address) < 0) {
		fail(ld, line_of(ld, "forward", "address"), "forward.address",
		     "must be HOST:PORT");
		return -1;
	}
	if ((r->tls &&
	     conv_bool(ld, "forward", "tls", r->tls, &c->forward_tls) < 0) ||
	    (r->tls_verify &&
	     conv_bool(ld, "forward", "tls_verify", r->tls_verify,
		       &c->forward_tls_verify) < 0) ||
	    (r->queue &&
	     conv_uint(ld, "forward", "queue", r->queue, 1,
		       VC_FORWARD_MAX_QUEUE, &c->forward_queue) < 0))
		return -1;
	if (r->facility) {
		for (i = 0; i < VG_ARRAY_LEN(facilities); i++)
			if (strcmp(r->facility, facilities[i]) == 0)
				break;
		if (i == VG_ARRAY_LEN(facilities)) {
			fail(ld, line_of(ld, "forward", "facility"),
			     "forward.facility",
			     "must be a syslog facility name (local0..local7, "
			     "daemon, ...)");
			return -1;
		}
		c->forward_facility = (unsigned)i;
	}
	if ((r->cert_file == NULL) != (r->key_file == NULL)) {
		fail(ld,
		     line_of(ld, "forward",
			     r->cert_file ? "cert_file" : "key_file"),
		     r->cert_file ? "forward.cert_file" : "forward.key_file",
		     "give cert_file and key_file together");
		return -1;
	}
	if (r->app_name &&
	    (r->app_name[0] == '\0' || strlen(r->app_name) > 48 ||
	     strcspn(r->app_name, " \t\r\n") != strlen(r->app_name))) {
		fail(ld, line_of(ld, "forward", "app_name"), "forward.app_name",
		     "must be 1..48 characters without spaces");
		return -1;
	}
	if (r->types) {
		types = (const char *const *)r->types;
		n_types = r->types_count;
	}
	for (i = 0; i < n_types; i++) {
		if (types[i][0] == '\0' || strlen(types[i]) > 32) {
			fail(ld, line_of(ld, "forward", "types"),
			     "forward.types",
			     "entries must be 1..32 characters");
			return -1;
		}
		if (dup_to(ld, &c->forward_types[i], types[i]) < 0)
			return -1;
		c->n_forward_types = (unsigned)i + 1;
	}
	return dup_to(ld, &c->forward_address, r->address) < 0 ||
		       dup_to(ld, &c->forward_ca_file, r->ca_file) < 0 ||
		       dup_to(ld, &c->forward_cert_file, r->cert_file) < 0 ||
		       dup_to(ld, &c->forward_key_file, r->key_file) < 0 ||
		       dup_to(ld, &c->forward_server_name, r->server_name) <
			   0 ||
		       dup_to(ld, &c->forward_app_name,
			      r->app_name ? r->app_name : "vigil") < 0
		   ? -1
		   : 0;
}

static int
default_consumer_name(struct loader *ld, char **out)
{
	char host[256], buf[300];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "collector");
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, sizeof(buf), "%s-%ld", host, (long)getpid());
	return dup_to(ld, out, buf);
}

/* log.target: stderr, journald or auto (the default; log.h). */
static int
convert_log(struct loader *ld, const struct raw_log *r, struct vc_config *c)
{
	int t = vg_log_target_from_name(r->target ? r->target : "auto");

	if (t < 0) {
		fail(ld, line_of(ld, "log", "target"), "log.target",
		     "must be stderr, journald or auto");
		return -1;
	}
	c->log_target = t;
	return 0;
}

/* center.name goes inside a Redis hash tag: no braces, nothing odd. */
static int
convert_center(struct loader *ld, const struct raw_center *r,
	       struct vc_config *c)
{
	const char *name = r->name ? r->name : VC_DEFAULT_CENTER;
	size_t n = strlen(name);

	if (n == 0 || n > VC_CENTER_MAX_NAME ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") != n) {
		fail(ld, line_of(ld, "center", "name"), "center.name",
		     "must be 1..%d letters, digits, '.', '_' or '-'",
		     VC_CENTER_MAX_NAME);
		return -1;
	}
	if (dup_to(ld, &c->center_name, name) < 0)
		return -1;
	c->center_recent = VC_DEFAULT_RECENT;
	c->center_max_agents = VC_DEFAULT_MAX_AGENTS;
	if (r->recent_events &&
	    conv_uint(ld, "center", "recent_events", r->recent_events, 1,
		      VC_MAX_RECENT, &c->center_recent) < 0)
		return -1;
	if (r->max_agents &&
	    conv_uint(ld, "center", "max_agents", r->max_agents, 1,
		      VC_MAX_AGENTS, &c->center_max_agents) < 0)
		return -1;
	return 0;
}

static int
convert(struct loader *ld, const struct raw_config *r, struct vc_config *c,
	int for_run)
{
	const char *src = VIGIL_SOURCE_DIR;
	char dir[4096];

	if (convert_center(ld, &r->center, c) < 0 ||
	    convert_redis(ld, &r->redis, c, for_run) < 0 ||
	    convert_forward(ld, &r->forward, c) < 0 ||
	    convert_log(ld, &r->log, c) < 0)
		return -1;

	if (r->consumer.name ? dup_to(ld, &c->consumer_name, r->consumer.name)
			     : default_consumer_name(ld, &c->consumer_name))
		return -1;
	if (c->consumer_name[0] == '\0') {
		fail(ld, line_of(ld, "consumer", "name"), "consumer.name",
		     "must not be empty");
		return -1;
	}
	if (dup_to(ld, &c->consumer_group,
		   r->consumer.group ? r->consumer.group : VC_DEFAULT_GROUP) <
	    0)
		return -1;
	c->block_ms = VC_DEFAULT_BLOCK_MS;
	c->batch = VC_DEFAULT_BATCH;
	c->claim_idle_ms = VC_DEFAULT_CLAIM_IDLE;
	if (r->consumer.block_ms &&
	    conv_uint(ld, "consumer", "block_ms", r->consumer.block_ms, 1,
		      60000, &c->block_ms) < 0)
		return -1;
	if (r->consumer.batch &&
	    conv_uint(ld, "consumer", "batch", r->consumer.batch, 1,
		      VC_MAX_BATCH, &c->batch) < 0)
		return -1;
	if (r->consumer.claim_idle &&
	    conv_duration_ms(ld, "consumer", "claim_idle",
			     r->consumer.claim_idle, &c->claim_idle_ms) < 0)
		return -1;

	if (dup_to(ld, &c->archive_dir, r->archive.dir) < 0)
		return -1;
	c->archive_compress = 1;
	if (r->archive.compress &&
	    conv_bool(ld, "archive", "compress", r->archive.compress,
		      &c->archive_compress) < 0)
		return -1;
	if (for_run && (c->archive_dir == NULL || c->archive_dir[0] == '\0')) {
		fail(ld, line_of(ld, "archive", "dir"), "archive.dir",
		     "required");
		return -1;
	}

	if (dup_to(ld, &c->http_listen,
		   r->http.listen ? r->http.listen : VC_DEFAULT_LISTEN) < 0 ||
	    dup_to(ld, &c->http_tokens_file, r->http.tokens_file) < 0)
		return -1;
	if (r->http.static_dir)
		return dup_to(ld, &c->http_static_dir, r->http.static_dir);
	/* The source tree's dashboard when running from a build. */
	snprintf(dir, sizeof(dir), "%s/dashboards/web", src);
	return dup_to(ld, &c->http_static_dir,
		      access(dir, R_OK | X_OK) == 0 ? dir : SYSTEM_STATIC);
}

static int
read_all(struct loader *ld, char **bufp, size_t *lenp)
{
	FILE *f = fopen(ld->path, "re");
	char *buf;
	size_t n;

	if (f == NULL) {
		fail(ld, 0, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	buf = malloc(MAX_FILE_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		fail(ld, 0, NULL, "out of memory");
		return -1;
	}
	n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f) || n > MAX_FILE_BYTES) {
		if (ferror(f))
			fail(ld, 0, NULL, "read error");
		else
			fail(ld, 0, NULL, "file larger than %u bytes",
			     MAX_FILE_BYTES);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*bufp = buf;
	*lenp = n;
	return 0;
}

enum vg_err
vc_config_load(const char *path, int for_run, struct vc_config *cfg, char *err,
	       size_t errlen)
{
	struct loader ld = {.err = err, .errlen = errlen};
	struct cylog cl = {.len = 0};
	cyaml_config_t cc = {
	    .log_fn = cyaml_capture,
	    .log_ctx = &cl,
	    .mem_fn = cyaml_mem,
	    .log_level = CYAML_LOG_ERROR,
	    .flags = CYAML_CFG_NO_ALIAS,
	};
	struct raw_config *raw = NULL, empty;
	struct vc_config c;
	enum vg_err rc = VG_EINVAL;
	cyaml_err_t cerr;
	char *buf = NULL;
	size_t len;

	memset(&c, 0, sizeof(c));
	memset(&empty, 0, sizeof(empty));
	ld.path = path ? path : VC_CONFIG_DEFAULT_PATH;
	if (read_all(&ld, &buf, &len) < 0) {
		rc = VG_EIO;
		goto out;
	}
	if (pass1(&ld, buf, len) < 0)
		goto out;
	if (len > 0) {
		cerr =
		    cyaml_load_data((const uint8_t *)buf, len, &cc, &top_schema,
				    (cyaml_data_t **)&raw, NULL);
		if (cerr == CYAML_ERR_OOM) {
			rc = VG_ENOMEM;
			goto out;
		}
		if (cerr != CYAML_OK) {
			/* A gap in pass 1: libcyaml's words, one line. */
			for (size_t i = 0; i < cl.len; i++)
				if (cl.buf[i] == '\n')
					cl.buf[i] = ' ';
			fail(&ld, 0, NULL, "%s",
			     cl.len ? cl.buf : cyaml_strerror(cerr));
			goto out;
		}
	}
	if (dup_to(&ld, &c.path, ld.path) < 0 ||
	    convert(&ld, raw ? raw : &empty, &c, for_run) < 0)
		goto out;
	*cfg = c;
	memset(&c, 0, sizeof(c));
	rc = VG_OK;
out:
	if (raw)
		cyaml_free(&cc, &top_schema, raw, 0);
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
	vc_config_fini(&c);
	return rc;
}

void
vc_config_fini(struct vc_config *c)
{
	if (c == NULL)
		return;
	if (c->redis_password) {
		explicit_bzero(c->redis_password, strlen(c->redis_password));
		free(c->redis_password);
	}
	free(c->path);
	free(c->redis_url);
	free(c->redis_username);
	free(c->redis_password_file);
	free(c->redis_ca_file);
	free(c->redis_cert_file);
	free(c->redis_key_file);
	free(c->redis_server_name);
	for (unsigned i = 0; i < c->n_redis_sentinels; i++)
		free(c->redis_sentinels[i]);
	free(c->redis_sentinel_master);
	free(c->center_name);
	free(c->consumer_name);
	free(c->consumer_group);
	free(c->archive_dir);
	free(c->http_listen);
	free(c->http_tokens_file);
	free(c->http_static_dir);
	free(c->forward_address);
	free(c->forward_ca_file);
	free(c->forward_cert_file);
	free(c->forward_key_file);
	free(c->forward_server_name);
	for (unsigned i = 0; i < c->n_forward_types; i++)
		free(c->forward_types[i]);
	free(c->forward_app_name);
	memset(c, 0, sizeof(*c));
}

void
vc_config_redis_opts(const struct vc_config *c, struct vg_redis_opts *o)
{
	vg_redis_opts_init(o);
	o->url = c->redis_url;
	o->username = c->redis_username;
	o->password = c->redis_password;
	o->ca_file = c->redis_ca_file;
	o->cert_file = c->redis_cert_file;
	o->key_file = c->redis_key_file;
	o->server_name = c->redis_server_name;
	o->tls_verify = c->redis_tls_verify;
	o->mode = c->redis_mode;
	o->sentinel_master = c->redis_sentinel_master;
	o->sentinels = c->redis_sentinels;
	o->n_sentinels = c->n_redis_sentinels;
}
