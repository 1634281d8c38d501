/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis client (see redis.h): the project's own connections (net.h: TCP,
 * Unix, TLS with OpenSSL) under hiredis' command formatter and reply
 * parser.
 *
 * Replies are built straight into struct vg_redis_reply by hiredis'
 * object hooks, which refuse an array that is too long before anything
 * is allocated for it; the bytes fed to the parser for one reply are
 * counted, so a bulk string longer than the bound fails the call instead
 * of filling memory.
 */
#define _GNU_SOURCE
#include "redis.h"

#include "log.h"
#include "net.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLOTS 16384

/* One connection to one server. */
struct conn {
	struct vg_conn *net;
	redisReader *rd;
	size_t fed;   /* bytes fed for the reply being read */
	size_t nodes; /* reply nodes made for it */
	/* The byte stream as RESP, checked before hiredis sees it. */
	size_t skip;     /* bytes of a bulk string (and CRLF) still to come */
	size_t line_len; /* bytes of the type line being read */
	char line[24];   /* its start: the type and the number */
	char peer[300];
	char host[256];
	unsigned port;
};

struct node {
	char host[256];
	unsigned port;
	struct conn *c;
};

struct vg_redis {
	struct vg_redis_opts o;
	struct vg_redis_url url;
	char *username, *password, *ca_file, *cert_file, *key_file,
	    *server_name, *sentinel_master;
	char **sentinels;
	unsigned n_sentinels;
	struct vg_tls *tls;
	struct conn *c; /* SINGLE, SENTINEL: the connection; NULL: closed */
	/* CLUSTER */
	struct node *nodes;
	unsigned n_nodes;
	uint16_t *slot;      /* SLOTS entries: node index, or UINT16_MAX */
	bool refresh;        /* reload the slot map before the next call */
	char last_peer[300]; /* a copy: the connection may be gone */
};

/* ------------------------------------------------------------------ */
/* Messages                                                             */

/* ------------------------------------------------------------------ */
/* Replies: hiredis' hooks build our tree                               */

static struct vg_redis_reply *
reply_new(const redisReadTask *t, enum vg_redis_type type)
{
	struct vg_redis_reply *r = calloc(1, sizeof(*r));
	struct conn *c = t->privdata;

	if (r == NULL)
		return NULL;
	if (c && ++c->nodes > VG_REDIS_MAX_NODES) {
		free(r);
		return NULL;
	}
	r->type = type;
	if (t->parent) {
		struct vg_redis_reply *p = t->parent->obj;

		if (p == NULL || (size_t)t->idx >= p->n) {
			free(r);
			return NULL;
		}
		p->elements[t->idx] = r;
	}
	return r;
}

static void *
on_string(const redisReadTask *t, char *s, size_t len)
{
	enum vg_redis_type type = t->type == REDIS_REPLY_ERROR ? VG_REPLY_ERROR
				  : t->type == REDIS_REPLY_STATUS
				      ? VG_REPLY_STATUS
				      : VG_REPLY_STRING;
	struct vg_redis_reply *r;
	char *copy;

	if (len > VG_REDIS_MAX_BULK)
		return NULL;
	copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	r = reply_new(t, type);
	if (r == NULL) {
		free(copy);
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	r->str = copy;
	r->len = len;
	return r;
}

static void *
on_array(const redisReadTask *t, int n)
{
	struct vg_redis_reply *r;

	if (n < 0 || (size_t)n > VG_REDIS_MAX_ELEMENTS)
		return NULL;
	r = reply_new(t, VG_REPLY_ARRAY);
	if (r == NULL)
		return NULL;
	if (n > 0) {
		r->elements = calloc((size_t)n, sizeof(*r->elements));
		if (r->elements == NULL) {
			if (t->parent)
				((struct vg_redis_reply *)t->parent->obj)
				    ->elements[t->idx] = NULL;
			free(r);
			return NULL;
		}
	}
	r->n = (size_t)n;
	return r;
}

static void *
on_integer(const redisReadTask *t, long long v)
{
	struct vg_redis_reply *r = reply_new(t, VG_REPLY_INTEGER);

	if (r)
		r->integer = v;
	return r;
}

static void *
on_nil(const redisReadTask *t)
{
	return reply_new(t, VG_REPLY_NIL);
}

void
vg_redis_reply_free(struct vg_redis_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		vg_redis_reply_free(r->elements[i]);
	free(r->elements);
	free(r->str);
	free(r);
}

/* hiredis frees a partial tree through this: only the top is passed. */
static void
on_free(void *p)
{
	vg_redis_reply_free(p);
}

static redisReplyObjectFunctions reply_fns = {on_string, on_array, on_integer,
					      on_nil, on_free};

/* ------------------------------------------------------------------ */
/* URLs                                                                 */

void
vg_redis_opts_init(struct vg_redis_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls_verify = 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; NULL on a bad escape. */
static char *
decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1;
			int l = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static bool
parse_uint(const char *s, size_t n, unsigned long max, unsigned *v)
{
	unsigned long x = 0;
	size_t i;

	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > max)
		return false;
	*v = (unsigned)x;
	return true;
}

void
vg_redis_url_fini(struct vg_redis_url *u)
{
	if (u == NULL)
		return;
	if (u->password)
		explicit_bzero(u->password, strlen(u->password));
	free(u->host);
	free(u->path);
	free(u->username);
	free(u->password);
	memset(u, 0, sizeof(*u));
}

enum vg_err
vg_redis_url_parse(const char *url, struct vg_redis_url *out, char *err,
		   size_t errlen)
{
	struct vg_redis_url u;
	const char *p, *at, *hp, *he, *end;
	size_t n;

	memset(&u, 0, sizeof(u));
	if (url == NULL || url[0] == '\0') {
		vg_seterr(err, errlen, "no Redis URL");
		return VG_EINVAL;
	}
	if (strncmp(url, "unix://", 7) == 0) {
		const char *q = strchr(url + 7, '?');

		n = q ? (size_t)(q - url - 7) : strlen(url + 7);
		if (n == 0 || url[7] != '/') {
			vg_seterr(
			    err, errlen,
			    "a unix:// URL names an absolute socket path");
			return VG_EINVAL;
		}
		if (q &&
		    (strncmp(q, "?db=", 4) != 0 ||
		     !parse_uint(q + 4, strlen(q + 4), INT32_MAX, &u.db))) {
			vg_seterr(err, errlen,
				  "unix:// URL: only ?db=N may follow "
				  "the path");
			return VG_EINVAL;
		}
		u.path = strndup(url + 7, n);
		if (u.path == NULL)
			return VG_ENOMEM;
		*out = u;
		return VG_OK;
	}
	if (strncmp(url, "redis://", 8) == 0) {
		p = url + 8;
	} else if (strncmp(url, "rediss://", 9) == 0) {
		p = url + 9;
		u.tls = 1;
	} else {
		vg_seterr(err, errlen,
			  "a Redis URL starts with redis://, rediss:// or "
			  "unix://");
		return VG_EINVAL;
	}
	end = p + strcspn(p, "/");
	at = memrchr(p, '@', (size_t)(end - p));
	hp = p;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *ue = colon ? colon : at;

		if (ue > p &&
		    (u.username = decode(p, (size_t)(ue - p))) == NULL)
			goto bad_userinfo;
		if (colon && at > colon + 1 &&
		    (u.password =
			 decode(colon + 1, (size_t)(at - colon - 1))) == NULL)
			goto bad_userinfo;
		hp = at + 1;
	}
	if (*hp == '[') {
		he = memchr(hp, ']', (size_t)(end - hp));
		if (he == NULL || he == hp + 1) {
			vg_seterr(err, errlen, "Redis URL: bad IPv6 address");
			goto fail;
		}
		u.host = strndup(hp + 1, (size_t)(he - hp - 1));
		he++;
	} else {
		he = hp + strcspn(hp, ":/");
		if (he > end)
			he = end;
		if (he == hp) {
			vg_seterr(err, errlen, "Redis URL: no host");
			goto fail;
		}
		u.host = strndup(hp, (size_t)(he - hp));
	}
	if (u.host == NULL) {
		vg_redis_url_fini(&u);
		return VG_ENOMEM;
	}
	u.port = VG_REDIS_DEFAULT_PORT;
	if (he < end) {
		if (*he != ':' ||
		    !parse_uint(he + 1, (size_t)(end - he - 1), 65535,
				&u.port) ||
		    u.port == 0) {
			vg_seterr(err, errlen, "Redis URL: bad port");
			goto fail;
		}
	}
	if (*end == '/' && end[1] != '\0' &&
	    !parse_uint(end + 1, strlen(end + 1), INT32_MAX, &u.db)) {
		vg_seterr(err, errlen, "Redis URL: bad database number");
		goto fail;
	}
	*out = u;
	return VG_OK;
bad_userinfo:
	vg_seterr(err, errlen, "Redis URL: bad user or password encoding");
fail:
	vg_redis_url_fini(&u);
	return VG_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */

/* c's reply reader, which counts its nodes in c. 0, or -1 (memory). */
static int
conn_reader_init(struct conn *c)
{
	c->rd = redisReaderCreateWithFunctions(&reply_fns);
	if (c->rd == NULL)
		return -1;
	c->rd->privdata = c;
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	vg_conn_close(c->net);
	if (c->rd)
		redisReaderFree(c->rd);
	free(c);
}

/* Connect to host:port (or the Unix path), TLS when the URL says so. */
static struct conn *
conn_open(struct vg_redis *r, const char *host, unsigned port, const char *path,
	  int tls, char *err, size_t errlen)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (conn_reader_init(c) != 0 ||
	    vg_conn_open(&c->net, host, port, path, tls ? r->tls : NULL,
			 r->server_name, r->o.connect_timeout_ms, r->o.cancel,
			 err, errlen) != VG_OK) {
		conn_close(c);
		return NULL;
	}
	snprintf(c->peer, sizeof(c->peer), "%s", vg_conn_peer(c->net));
	if (host)
		snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	return c;
}

static enum vg_err
conn_write(struct vg_redis *r, struct conn *c, const char *p, size_t n,
	   char *err, size_t errlen)
{
	return vg_conn_write(c->net, p, n, r->o.io_timeout_ms, err, errlen);
}

/*
 * Check n bytes of the reply stream: every type line is shorter than
 * VG_REDIS_MAX_LINE, every bulk string declares at most VG_REDIS_MAX_BULK
 * bytes and every array at most VG_REDIS_MAX_ELEMENTS elements. hiredis
 * would otherwise wait for, and buffer, whatever a length promises.
 */
static bool
stream_ok(struct conn *c, const char *p, size_t n, const char **why)
{
	while (n > 0) {
		const char *nl;
		size_t k;

		if (c->skip) {
			k = c->skip < n ? c->skip : n;
			c->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) + 1 : n;
		if (c->line_len + k > VG_REDIS_MAX_LINE) {
			*why = "a reply line is too long";
			return false;
		}
		if (c->line_len < sizeof(c->line)) {
			size_t m = sizeof(c->line) - c->line_len;

			memcpy(c->line + c->line_len, p, k < m ? k : m);
		}
		c->line_len += k;
		p += k;
		n -= k;
		if (nl == NULL)
			break;
		if (c->line[0] == '$' || c->line[0] == '*') {
			size_t i = 1, digits = 0;
			unsigned long long v = 0;
			bool neg = false;

			if (i < c->line_len && c->line[i] == '-') {
				neg = true;
				i++;
			}
			for (; i < c->line_len && i < sizeof(c->line) &&
			       c->line[i] >= '0' && c->line[i] <= '9';
			     i++, digits++)
				v = v * 10 + (unsigned)(c->line[i] - '0');
			if (digits == 0 || digits > 12 || (neg && v != 1)) {
				*why = "a bad length in a reply";
				return false;
			}
			if (c->line[0] == '$' && !neg &&
			    v > VG_REDIS_MAX_BULK) {
				*why = "a bulk string over the bound";
				return false;
			}
			if (c->line[0] == '*' && !neg &&
			    v > VG_REDIS_MAX_ELEMENTS) {
				*why = "an array over the bound";
				return false;
			}
			if (c->line[0] == '$' && !neg)
				c->skip = (size_t)v + 2;
		}
		c->line_len = 0;
	}
	return true;
}

/*
 * The reply reader's two steps, for a connection (conn_read) and for a
 * stream of bytes given whole (vg_redis_parse_stream, which the unit
 * tests and the fuzz target use), so both run the same code.
 *
 * conn_feed: n more bytes received, checked against the bounds
 * (stream_ok) before hiredis buffers them. VG_OK or VG_EIO (err set).
 */
static enum vg_err
conn_feed(struct conn *c, const char *p, size_t n, char *err, size_t errlen)
{
	const char *why = NULL;

	c->fed += n;
	if (!stream_ok(c, p, n, &why)) {
		vg_seterr(err, errlen, "%s: %s", c->peer, why);
		return VG_EIO;
	}
	if (redisReaderFeed(c->rd, p, n) != REDIS_OK) {
		vg_seterr(err, errlen, "%s: bad reply", c->peer);
		return VG_EIO;
	}
	return VG_OK;
}

/*
 * conn_next: the next whole reply fed so far into *out (owned), or NULL
 * when more bytes are needed and the reply so far is within
 * VG_REDIS_MAX_REPLY. VG_OK or VG_EIO (err set).
 */
static enum vg_err
conn_next(struct conn *c, struct vg_redis_reply **out, char *err, size_t errlen)
{
	void *rep = NULL;

	*out = NULL;
	if (redisReaderGetReply(c->rd, &rep) != REDIS_OK) {
		vg_seterr(err, errlen, "%s: bad reply: %s", c->peer,
			  c->rd->errstr[0] ? c->rd->errstr : "over the bounds");
		return VG_EIO;
	}
	if (rep != NULL) {
		c->fed = 0;
		c->nodes = 0;
		*out = rep;
		return VG_OK;
	}
	if (c->fed > VG_REDIS_MAX_REPLY) {
		vg_seterr(err, errlen, "%s: reply over %u bytes", c->peer,
			  VG_REDIS_MAX_REPLY);
		return VG_EIO;
	}
	return VG_OK;
}

/* Read one reply into *out. */
static enum vg_err
conn_read(struct vg_redis *r, struct conn *c, struct vg_redis_reply **out,
	  char *err, size_t errlen)
{
	char buf[16384];

	*out = NULL;
	for (;;) {
		size_t n;

		if (conn_next(c, out, err, errlen) != VG_OK)
			return VG_EIO;
		if (*out != NULL)
			return VG_OK;
		if (vg_conn_read(c->net, buf, sizeof(buf), r->o.io_timeout_ms,
				 &n, err, errlen) != VG_OK ||
		    conn_feed(c, buf, n, err, errlen) != VG_OK)
			return VG_EIO;
	}
}

enum vg_err
vg_redis_parse_stream(const void *data, size_t len, size_t chunk,
		      void (*each)(const struct vg_redis_reply *, void *),
		      void *arg, unsigned *n, char *err, size_t errlen)
{
	const char *p = data;
	struct conn c;
	enum vg_err rc = VG_OK;
	unsigned got = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.peer, sizeof(c.peer), "stream");
	if (conn_reader_init(&c) != 0)
		return VG_ENOMEM;
	if (chunk == 0)
		chunk = 16384;
	while (len > 0 && rc == VG_OK) {
		size_t k = len < chunk ? len : chunk;
		struct vg_redis_reply *rep;

		rc = conn_feed(&c, p, k, err, errlen);
		p += k;
		len -= k;
		while (rc == VG_OK &&
		       (rc = conn_next(&c, &rep, err, errlen)) == VG_OK &&
		       rep != NULL) {
			got++;
			if (each)
				each(rep, arg);
			vg_redis_reply_free(rep);
		}
	}
	redisReaderFree(c.rd);
	if (n)
		*n = got;
	return rc;
}

/* One command on c, its reply in *out. */
static enum vg_err
conn_command(struct vg_redis *r, struct conn *c, int argc, const char **argv,
	     const size_t *lens, struct vg_redis_reply **out, char *err,
	     size_t errlen)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	enum vg_err rc;

	if (len < 0)
		return VG_ENOMEM;
	rc = conn_write(r, c, cmd, (size_t)len, err, errlen);
	redisFreeCommand(cmd);
	if (rc != VG_OK)
		return rc;
	return conn_read(r, c, out, err, errlen);
}

/* A command of plain strings; the reply, or NULL with err set. */
static struct vg_redis_reply *
simple(struct vg_redis *r, struct conn *c, char *err, size_t errlen, int argc,
       ...)
{
	const char *argv[8];
	size_t lens[8];
	struct vg_redis_reply *rep;
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc && i < 8; i++) {
		argv[i] = va_arg(ap, const char *);
		lens[i] = strlen(argv[i]);
	}
	va_end(ap);
	if (conn_command(r, c, argc, argv, lens, &rep, err, errlen) != VG_OK)
		return NULL;
	return rep;
}

/* AUTH and SELECT on a new data connection. */
static enum vg_err
conn_login(struct vg_redis *r, struct conn *c, char *err, size_t errlen)
{
	struct vg_redis_reply *rep = NULL;
	char shown[200], db[16];

	if (r->password) {
		rep = r->username
			  ? simple(r, c, err, errlen, 3, "AUTH", r->username,
				   r->password)
			  : simple(r, c, err, errlen, 2, "AUTH", r->password);
	} else {
		rep = simple(r, c, err, errlen, 1, "PING");
	}
	if (rep == NULL)
		return VG_EIO;
	if (rep->type == VG_REPLY_ERROR &&
	    (r->password || strncmp(rep->str, "NOAUTH", 6) == 0)) {
		vg_escape(shown, sizeof(shown), rep->str, rep->len);
		vg_seterr(err, errlen, "%s: %s%s: %s", c->peer,
			  r->password ? "AUTH as " : "",
			  r->password ? (r->username ? r->username : "default")
				      : "login",
			  shown);
		vg_redis_reply_free(rep);
		return VG_EIO;
	}
	vg_redis_reply_free(rep);
	if (r->url.db) {
		snprintf(db, sizeof(db), "%u", r->url.db);
		rep = simple(r, c, err, errlen, 2, "SELECT", db);
		if (rep == NULL)
			return VG_EIO;
		if (rep->type == VG_REPLY_ERROR) {
			vg_escape(shown, sizeof(shown), rep->str, rep->len);
			vg_seterr(err, errlen, "%s: SELECT %s: %s", c->peer, db,
				  shown);
			vg_redis_reply_free(rep);
			return VG_EIO;
		}
		vg_redis_reply_free(rep);
	}
	return VG_OK;
}

static struct conn *
data_conn(struct vg_redis *r, const char *host, unsigned port, char *err,
	  size_t errlen)
{
	struct conn *c = conn_open(r, host, port, host ? NULL : r->url.path,
				   r->url.tls, err, errlen);

	if (c && conn_login(r, c, err, errlen) != VG_OK) {
		conn_close(c);
		return NULL;
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Sentinel                                                             */

static bool
split_hostport(const char *s, char *host, size_t hl, unsigned *port,
	       unsigned defport)
{
	const char *colon;

	*port = defport;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (e == NULL || (size_t)(e - s - 1) >= hl)
			return false;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		colon = e[1] == ':' ? e + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if ((size_t)(colon ? colon - s : (long)strlen(s)) >= hl)
			return false;
		snprintf(host, hl, "%.*s",
			 (int)(colon ? colon - s : (long)strlen(s)), s);
	}
	return colon == NULL ||
	       (parse_uint(colon + 1, strlen(colon + 1), 65535, port) &&
		*port != 0);
}

static struct conn *
sentinel_master(struct vg_redis *r, char *err, size_t errlen)
{
	char why[512] = "no sentinel answered";
	unsigned i;

	for (i = 0; i < r->n_sentinels; i++) {
		char host[256], mhost[256], mport[16];
		unsigned port, mp;
		struct vg_redis_reply *rep;
		struct conn *s, *m;

		if (!split_hostport(r->sentinels[i], host, sizeof(host), &port,
				    VG_REDIS_DEFAULT_SENTINEL_PORT))
			continue;
		s = conn_open(r, host, port, NULL, 0, why, sizeof(why));
		if (s == NULL)
			continue;
		rep = simple(r, s, why, sizeof(why), 3, "SENTINEL",
			     "get-master-addr-by-name", r->sentinel_master);
		conn_close(s);
		if (rep == NULL || rep->type != VG_REPLY_ARRAY || rep->n != 2 ||
		    rep->elements[0]->type != VG_REPLY_STRING ||
		    rep->elements[1]->type != VG_REPLY_STRING ||
		    rep->elements[0]->len >= sizeof(mhost) ||
		    rep->elements[1]->len >= sizeof(mport)) {
			snprintf(why, sizeof(why),
				 "sentinel %s does not know master %s",
				 r->sentinels[i], r->sentinel_master);
			vg_redis_reply_free(rep);
			continue;
		}
		memcpy(mhost, rep->elements[0]->str, rep->elements[0]->len + 1);
		memcpy(mport, rep->elements[1]->str, rep->elements[1]->len + 1);
		vg_redis_reply_free(rep);
		if (!parse_uint(mport, strlen(mport), 65535, &mp))
			continue;
		m = data_conn(r, mhost, mp, why, sizeof(why));
		if (m == NULL)
			continue;
		rep = simple(r, m, why, sizeof(why), 1, "ROLE");
		if (rep && rep->type == VG_REPLY_ARRAY && rep->n > 0 &&
		    rep->elements[0]->type == VG_REPLY_STRING &&
		    strcmp(rep->elements[0]->str, "master") == 0) {
			vg_redis_reply_free(rep);
			return m;
		}
		snprintf(why, sizeof(why), "%s:%u is not a master (yet)", mhost,
			 mp);
		vg_redis_reply_free(rep);
		conn_close(m);
	}
	vg_seterr(err, errlen, "sentinels for %s: %s", r->sentinel_master, why);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Cluster                                                              */

static const uint16_t crc16tab[256] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7, 0x8108,
    0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef, 0x1231, 0x0210,
    0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6, 0x9339, 0x8318, 0xb37b,
    0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de, 0x2462, 0x3443, 0x0420, 0x1401,
    0x64e6, 0x74c7, 0x44a4, 0x5485, 0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee,
    0xf5cf, 0xc5ac, 0xd58d, 0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6,
    0x5695, 0x46b4, 0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d,
    0xc7bc, 0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
    0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b, 0x5af5,
    0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12, 0xdbfd, 0xcbdc,
    0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a, 0x6ca6, 0x7c87, 0x4ce4,
    0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41, 0xedae, 0xfd8f, 0xcdec, 0xddcd,
    0xad2a, 0xbd0b, 0x8d68, 0x9d49, 0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13,
    0x2e32, 0x1e51, 0x0e70, 0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a,
    0x9f59, 0x8f78, 0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e,
    0xe16f, 0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
    0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e, 0x02b1,
    0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256, 0xb5ea, 0xa5cb,
    0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d, 0x34e2, 0x24c3, 0x14a0,
    0x0481, 0x7466, 0x6447, 0x5424, 0x4405, 0xa7db, 0xb7fa, 0x8799, 0x97b8,
    0xe75f, 0xf77e, 0xc71d, 0xd73c, 0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657,
    0x7676, 0x4615, 0x5634, 0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9,
    0xb98a, 0xa9ab, 0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882,
    0x28a3, 0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
    0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92, 0xfd2e,
    0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9, 0x7c26, 0x6c07,
    0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1, 0xef1f, 0xff3e, 0xcf5d,
    0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8, 0x6e17, 0x7e36, 0x4e55, 0x5e74,
    0x2e93, 0x3eb2, 0x0ed1, 0x1ef0};

unsigned
vg_redis_key_slot(const char *key, size_t len)
{
	size_t s, e, i;
	uint16_t crc = 0;

	for (s = 0; s < len && key[s] != '{'; s++)
		;
	if (s < len) {
		for (e = s + 1; e < len && key[e] != '}'; e++)
			;
		if (e < len && e != s + 1) {
			key += s + 1;
			len = e - s - 1;
		}
	}
	for (i = 0; i < len; i++)
		crc = (uint16_t)(crc << 8) ^
		      crc16tab[((crc >> 8) ^ (uint8_t)key[i]) & 0xff];
	return crc & (SLOTS - 1);
}

static int
node_find(struct vg_redis *r, const char *host, unsigned port)
{
	unsigned i;
	struct node *nn;

	for (i = 0; i < r->n_nodes; i++)
		if (r->nodes[i].port == port &&
		    strcmp(r->nodes[i].host, host) == 0)
			return (int)i;
	if (r->n_nodes == VG_REDIS_MAX_NODES_CLUSTER)
		return -1;
	nn = realloc(r->nodes, (r->n_nodes + 1) * sizeof(*nn));
	if (nn == NULL)
		return -1;
	r->nodes = nn;
	memset(&nn[r->n_nodes], 0, sizeof(*nn));
	snprintf(nn[r->n_nodes].host, sizeof(nn[r->n_nodes].host), "%s", host);
	nn[r->n_nodes].port = port;
	return (int)r->n_nodes++;
}

static struct conn *
node_conn(struct vg_redis *r, int i, char *err, size_t errlen)
{
	struct node *n = &r->nodes[i];

	if (n->c == NULL)
		n->c = data_conn(r, n->host, n->port, err, errlen);
	if (n->c)
		snprintf(r->last_peer, sizeof(r->last_peer), "%s", n->c->peer);
	return n->c;
}

static void
node_drop(struct vg_redis *r, int i)
{
	conn_close(r->nodes[i].c);
	r->nodes[i].c = NULL;
}

/* CLUSTER SLOTS from any reachable node. */
static enum vg_err
cluster_map(struct vg_redis *r, char *err, size_t errlen)
{
	unsigned k, tries = r->n_nodes;

	for (k = 0; k < tries; k++) {
		struct conn *c = node_conn(r, (int)k, err, errlen);
		struct vg_redis_reply *rep;
		size_t i;

		if (c == NULL)
			continue;
		rep = simple(r, c, err, errlen, 2, "CLUSTER", "SLOTS");
		if (rep == NULL) {
			node_drop(r, (int)k);
			continue;
		}
		if (rep->type != VG_REPLY_ARRAY) {
			vg_seterr(err, errlen, "%s: CLUSTER SLOTS: %s", c->peer,
				  rep->type == VG_REPLY_ERROR
				      ? rep->str
				      : "not a cluster");
			vg_redis_reply_free(rep);
			continue;
		}
		for (i = 0; i < SLOTS; i++)
			r->slot[i] = UINT16_MAX;
		for (i = 0; i < rep->n; i++) {
			struct vg_redis_reply *e = rep->elements[i], *m;
			long long a, b, s;
			int ni;

			if (e->type != VG_REPLY_ARRAY || e->n < 3)
				continue;
			m = e->elements[2];
			a = e->elements[0]->integer;
			b = e->elements[1]->integer;
			if (m->type != VG_REPLY_ARRAY || m->n < 2 ||
			    m->elements[0]->type != VG_REPLY_STRING ||
			    m->elements[1]->type != VG_REPLY_INTEGER || a < 0 ||
			    b >= SLOTS || a > b)
				continue;
			ni = node_find(r,
				       m->elements[0]->len ? m->elements[0]->str
							   : c->host,
				       (unsigned)m->elements[1]->integer);
			if (ni < 0)
				continue;
			for (s = a; s <= b; s++)
				r->slot[s] = (uint16_t)ni;
		}
		vg_redis_reply_free(rep);
		r->refresh = false;
		return VG_OK;
	}
	return VG_EIO;
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ...": the node, or -1. */
static int
redirect_node(struct vg_redis *r, const char *msg, unsigned *slot)
{
	const char *sp = strchr(msg, ' '), *sp2;
	char host[256];
	unsigned port;

	if (sp == NULL || (sp2 = strchr(sp + 1, ' ')) == NULL ||
	    !parse_uint(sp + 1, (size_t)(sp2 - sp - 1), SLOTS - 1, slot) ||
	    !split_hostport(sp2 + 1, host, sizeof(host), &port, 6379))
		return -1;
	return node_find(r, host, port);
}

/* ------------------------------------------------------------------ */
/* Public calls                                                         */

static char *
dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*fail = true;
	return d;
}

/* (Re)establish the connection(s). */
static enum vg_err
reconnect(struct vg_redis *r, char *err, size_t errlen)
{
	switch (r->o.mode) {
	case VG_REDIS_SINGLE:
		r->c = data_conn(r, r->url.host, r->url.port, err, errlen);
		if (r->c)
			snprintf(r->last_peer, sizeof(r->last_peer), "%s",
				 r->c->peer);
		return r->c ? VG_OK : VG_EIO;
	case VG_REDIS_SENTINEL:
		r->c = sentinel_master(r, err, errlen);
		if (r->c)
			snprintf(r->last_peer, sizeof(r->last_peer), "%s",
				 r->c->peer);
		return r->c ? VG_OK : VG_EIO;
	case VG_REDIS_CLUSTER:
		return cluster_map(r, err, errlen);
	}
	return VG_EINVAL;
}

enum vg_err
vg_redis_connect(struct vg_redis **out, const struct vg_redis_opts *o,
		 char *err, size_t errlen)
{
	struct vg_redis *r;
	bool fail = false;
	enum vg_err rc;
	unsigned i;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return VG_ENOMEM;
	r->o = *o;
	if (!r->o.connect_timeout_ms)
		r->o.connect_timeout_ms = VG_REDIS_DEFAULT_TIMEOUT_MS;
	if (!r->o.io_timeout_ms)
		r->o.io_timeout_ms = VG_REDIS_DEFAULT_TIMEOUT_MS;
	if (o->url) {
		rc = vg_redis_url_parse(o->url, &r->url, err, errlen);
		if (rc != VG_OK) {
			free(r);
			return rc;
		}
	} else if (o->mode != VG_REDIS_SENTINEL) {
		vg_seterr(err, errlen, "no Redis URL");
		free(r);
		return VG_EINVAL;
	}
	r->username =
	    dup_or_null(o->username ? o->username : r->url.username, &fail);
	r->password =
	    dup_or_null(o->password ? o->password : r->url.password, &fail);
	r->ca_file = dup_or_null(o->ca_file, &fail);
	r->cert_file = dup_or_null(o->cert_file, &fail);
	r->key_file = dup_or_null(o->key_file, &fail);
	r->server_name = dup_or_null(o->server_name, &fail);
	r->sentinel_master = dup_or_null(o->sentinel_master, &fail);
	if (fail) {
		vg_redis_close(r);
		return VG_ENOMEM;
	}
	if (r->username && !r->password) {
		vg_seterr(err, errlen, "an ACL username needs a password");
		vg_redis_close(r);
		return VG_EINVAL;
	}
	if (o->mode == VG_REDIS_SENTINEL) {
		if (o->n_sentinels == 0 ||
		    o->n_sentinels > VG_REDIS_MAX_SENTINELS ||
		    r->sentinel_master == NULL) {
			vg_seterr(err, errlen,
				  "sentinel mode needs sentinels and "
				  "a master name");
			vg_redis_close(r);
			return VG_EINVAL;
		}
		r->sentinels = calloc(o->n_sentinels, sizeof(*r->sentinels));
		if (r->sentinels == NULL) {
			vg_redis_close(r);
			return VG_ENOMEM;
		}
		for (i = 0; i < o->n_sentinels; i++)
			r->sentinels[i] = dup_or_null(o->sentinels[i], &fail);
		r->n_sentinels = o->n_sentinels;
		if (fail) {
			vg_redis_close(r);
			return VG_ENOMEM;
		}
	}
	if ((r->ca_file || r->cert_file) && !r->url.tls) {
		vg_seterr(err, errlen,
			  "TLS files given for a URL that is not "
			  "rediss://");
		vg_redis_close(r);
		return VG_EINVAL;
	}
	if (r->url.tls) {
		rc = vg_tls_new(&r->tls, r->ca_file, r->cert_file, r->key_file,
				r->o.tls_verify, err, errlen);
		if (rc != VG_OK) {
			vg_redis_close(r);
			return rc;
		}
		if (!r->o.tls_verify)
			vg_log(LOG_WARNING,
			       "redis: TLS peer verification is OFF");
	}
	if (o->mode == VG_REDIS_CLUSTER) {
		if (r->url.host == NULL) {
			vg_seterr(err, errlen, "cluster mode needs a TCP URL");
			vg_redis_close(r);
			return VG_EINVAL;
		}
		r->slot = calloc(SLOTS, sizeof(*r->slot));
		if (r->slot == NULL ||
		    node_find(r, r->url.host, r->url.port) < 0) {
			vg_redis_close(r);
			return VG_ENOMEM;
		}
	}
	rc = reconnect(r, err, errlen);
	if (rc != VG_OK) {
		vg_redis_close(r);
		return rc;
	}
	*out = r;
	return VG_OK;
}

void
vg_redis_close(struct vg_redis *r)
{
	unsigned i;

	if (r == NULL)
		return;
	conn_close(r->c);
	for (i = 0; i < r->n_nodes; i++)
		conn_close(r->nodes[i].c);
	free(r->nodes);
	free(r->slot);
	vg_tls_free(r->tls);
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->username);
	free(r->password);
	free(r->ca_file);
	free(r->cert_file);
	free(r->key_file);
	free(r->server_name);
	free(r->sentinel_master);
	for (i = 0; i < r->n_sentinels; i++)
		free(r->sentinels[i]);
	free(r->sentinels);
	vg_redis_url_fini(&r->url);
	free(r);
}

const char *
vg_redis_peer(const struct vg_redis *r)
{
	return r ? r->last_peer : "";
}

/* The connection for slot (cluster) or the one connection. */
static struct conn *
target(struct vg_redis *r, int node, char *err, size_t errlen)
{
	if (r->o.mode != VG_REDIS_CLUSTER) {
		if (r->c == NULL && reconnect(r, err, errlen) != VG_OK)
			return NULL;
		return r->c;
	}
	if (node < 0) {
		vg_seterr(err, errlen, "no cluster node serves that slot");
		return NULL;
	}
	return node_conn(r, node, err, errlen);
}

static void
broken(struct vg_redis *r, int node)
{
	if (r->o.mode == VG_REDIS_CLUSTER) {
		if (node >= 0)
			node_drop(r, node);
		r->refresh = true;
	} else {
		conn_close(r->c);
		r->c = NULL;
	}
}

static int
slot_node(struct vg_redis *r, const char *key, size_t len, char *err,
	  size_t errlen)
{
	unsigned s = vg_redis_key_slot(key, len);

	if (r->refresh && cluster_map(r, err, errlen) != VG_OK)
		return -1;
	return r->slot[s] == UINT16_MAX ? -1 : r->slot[s];
}

enum vg_err
vg_redis_command(struct vg_redis *r, int argc, const char **argv,
		 const size_t *argvlen, int key_index,
		 struct vg_redis_reply **out, char *err, size_t errlen)
{
	unsigned hops;
	int node = -1, ask = -1;

	if (out)
		*out = NULL;
	if (r == NULL || argc < 1 || argv == NULL || argvlen == NULL ||
	    out == NULL || key_index >= argc || key_index < -1)
		return VG_EINVAL;
	if (r->o.mode == VG_REDIS_CLUSTER)
		node = key_index >= 0
			   ? slot_node(r, argv[key_index], argvlen[key_index],
				       err, errlen)
			   : 0;
	for (hops = 0; hops <= VG_REDIS_MAX_REDIRECTS; hops++) {
		int use = ask >= 0 ? ask : node;
		struct conn *c = target(r, use, err, errlen);
		struct vg_redis_reply *rep;
		unsigned slot;
		enum vg_err rc;

		if (c == NULL)
			return VG_EIO;
		if (ask >= 0) {
			rep = simple(r, c, err, errlen, 1, "ASKING");
			if (rep == NULL) {
				broken(r, use);
				return VG_EIO;
			}
			vg_redis_reply_free(rep);
		}
		rc = conn_command(r, c, argc, argv, argvlen, &rep, err, errlen);
		if (rc != VG_OK) {
			broken(r, use);
			return rc;
		}
		if (rep->type == VG_REPLY_ERROR &&
		    r->o.mode == VG_REDIS_SENTINEL &&
		    strncmp(rep->str, "READONLY", 8) == 0) {
			vg_seterr(err, errlen, "%s is no longer the master",
				  c->peer);
			vg_redis_reply_free(rep);
			broken(r, use);
			return VG_EIO;
		}
		if (rep->type == VG_REPLY_ERROR &&
		    r->o.mode == VG_REDIS_CLUSTER &&
		    (strncmp(rep->str, "MOVED ", 6) == 0 ||
		     strncmp(rep->str, "ASK ", 4) == 0)) {
			int to = redirect_node(r, rep->str, &slot);
			bool moved = rep->str[0] == 'M';

			vg_redis_reply_free(rep);
			if (to < 0)
				return VG_EIO;
			if (moved) {
				r->slot[slot] = (uint16_t)to;
				r->refresh = true;
				node = to;
				ask = -1;
			} else {
				ask = to;
			}
			continue;
		}
		*out = rep;
		return VG_OK;
	}
	vg_seterr(err, errlen, "too many cluster redirections");
	return VG_EIO;
}

/* One server's SCAN walk: node in CLUSTER mode, -1 otherwise. */
static enum vg_err
scan_node(struct vg_redis *r, int node, const char *match, const char *count,
	  vg_redis_scan_fn fn, void *ctx, char *err, size_t errlen)
{
	char cursor[32] = "0", esc[160];
	unsigned calls;

	for (calls = 0; calls < VG_REDIS_MAX_SCAN_CALLS; calls++) {
		const char *argv[] = {"SCAN", cursor,  "MATCH",
				      match,  "COUNT", count};
		size_t lens[6];
		struct conn *c = target(r, node, err, errlen);
		struct vg_redis_reply *rep = NULL;
		const struct vg_redis_reply *keys;
		enum vg_err rc;
		size_t i;

		if (c == NULL)
			return VG_EIO;
		for (i = 0; i < 6; i++)
			lens[i] = strlen(argv[i]);
		rc = conn_command(r, c, 6, argv, lens, &rep, err, errlen);
		if (rc != VG_OK) {
			broken(r, node);
			return rc;
		}
		if (rep->type != VG_REPLY_ARRAY || rep->n != 2 ||
		    rep->elements[0]->type != VG_REPLY_STRING ||
		    rep->elements[0]->len == 0 ||
		    rep->elements[0]->len >= sizeof(cursor) ||
		    rep->elements[1]->type != VG_REPLY_ARRAY) {
			enum vg_err why = VG_EINVAL;

			if (rep->type == VG_REPLY_ERROR)
				vg_seterr(err, errlen, "%s: SCAN: %s", c->peer,
					  vg_escape(esc, sizeof(esc), rep->str,
						    rep->len));
			else {
				vg_seterr(err, errlen,
					  "%s: SCAN: not a SCAN reply",
					  c->peer);
				broken(r, node);
				why = VG_EIO;
			}
			vg_redis_reply_free(rep);
			return why;
		}
		memcpy(cursor, rep->elements[0]->str,
		       rep->elements[0]->len + 1);
		keys = rep->elements[1];
		for (i = 0; i < keys->n; i++)
			if (keys->elements[i]->type == VG_REPLY_STRING &&
			    fn(ctx, keys->elements[i]->str,
			       keys->elements[i]->len) != 0) {
				vg_redis_reply_free(rep);
				return VG_EAGAIN; /* fn said stop */
			}
		vg_redis_reply_free(rep);
		if (strcmp(cursor, "0") == 0)
			return VG_OK;
	}
	return VG_OK;
}

/* vg_redis_scan() in CLUSTER mode. */
static enum vg_err
scan_masters(struct vg_redis *r, const char *match, const char *cnt,
	     vg_redis_scan_fn fn, void *ctx, char *err, size_t errlen)
{
	bool *master;
	unsigned i, n;
	enum vg_err rc = VG_OK;

	if (r->refresh && cluster_map(r, err, errlen) != VG_OK)
		return VG_EIO;
	/* The masters are the nodes the slot map names; the walk may
	 * refresh the map (and add nodes), so take them first. */
	n = r->n_nodes;
	master = calloc(n ? n : 1, sizeof(*master));
	if (master == NULL)
		return VG_ENOMEM;
	for (i = 0; i < SLOTS; i++)
		if (r->slot[i] != UINT16_MAX && r->slot[i] < n)
			master[r->slot[i]] = true;
	for (i = 0; i < n && rc == VG_OK; i++)
		if (master[i])
			rc = scan_node(r, (int)i, match, cnt, fn, ctx, err,
				       errlen);
	free(master);
	return rc;
}

enum vg_err
vg_redis_scan(struct vg_redis *r, const char *match, unsigned count,
	      vg_redis_scan_fn fn, void *ctx, char *err, size_t errlen)
{
	char cnt[16];
	enum vg_err rc;

	if (r == NULL || match == NULL || fn == NULL)
		return VG_EINVAL;
	snprintf(cnt, sizeof(cnt), "%u", count ? count : 1000);
	if (r->o.mode != VG_REDIS_CLUSTER)
		rc = scan_node(r, -1, match, cnt, fn, ctx, err, errlen);
	else
		rc = scan_masters(r, match, cnt, fn, ctx, err, errlen);
	return rc == VG_EAGAIN ? VG_OK : rc;
}

static bool
is_redirect(const char *error)
{
	return strncmp(error, "MOVED ", 6) == 0 ||
	       strncmp(error, "ASK ", 4) == 0;
}

/* A growable command buffer. */
struct out {
	char *p;
	size_t len, cap;
	bool fail;
};

static void
out_room(struct out *o, size_t n)
{
	size_t cap;
	char *np;

	if (o->fail || o->len + n <= o->cap)
		return;
	cap = o->cap ? o->cap : 65536;
	while (cap < o->len + n)
		cap *= 2;
	np = realloc(o->p, cap);
	if (np == NULL) {
		o->fail = true;
		return;
	}
	o->p = np;
	o->cap = cap;
}

/* "<c><n>\r\n" without printf: this runs for every field of every event. */
static void
out_num(struct out *o, char c, size_t n)
{
	char tmp[24];
	int i = (int)sizeof(tmp);

	tmp[--i] = '\n';
	tmp[--i] = '\r';
	do
		tmp[--i] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	tmp[--i] = c;
	out_room(o, sizeof(tmp) - (size_t)i);
	if (o->fail)
		return;
	memcpy(o->p + o->len, tmp + i, sizeof(tmp) - (size_t)i);
	o->len += sizeof(tmp) - (size_t)i;
}

/* One RESP bulk string. */
static void
out_bulk(struct out *o, const char *s, size_t n)
{
	out_num(o, '$', n);
	out_room(o, n + 2);
	if (o->fail)
		return;
	memcpy(o->p + o->len, s, n);
	memcpy(o->p + o->len + n, "\r\n", 2);
	o->len += n + 2;
}

static void
out_xadd(struct out *o, const struct vg_redis_xadd *x, const char *ml,
	 size_t mll)
{
	unsigned k;

	out_num(o, '*', 3 + (x->maxlen ? 3 : 0) + 2 * (size_t)x->n_fields);
	out_bulk(o, "XADD", 4);
	out_bulk(o, x->key, x->key_len);
	if (x->maxlen) {
		out_bulk(o, "MAXLEN", 6);
		out_bulk(o, "~", 1);
		out_bulk(o, ml, mll);
	}
	out_bulk(o, "*", 1);
	for (k = 0; k < 2 * x->n_fields; k++)
		out_bulk(o, x->fields[k], x->lens[k]);
}

/* Send the entries of idx[] (all for one connection), read replies. */
static enum vg_err
pipeline(struct vg_redis *r, struct conn *c, struct vg_redis_xadd *e,
	 const size_t *idx, size_t n, bool asking, char *err, size_t errlen)
{
	struct out o = {NULL, 0, 0, false};
	char ml[24];
	size_t i;
	enum vg_err rc = VG_OK;

	for (i = 0; i < n; i++) {
		const struct vg_redis_xadd *x = &e[idx[i]];

		if (asking) {
			out_num(&o, '*', 1);
			out_bulk(&o, "ASKING", 6);
		}
		snprintf(ml, sizeof(ml), "%llu", (unsigned long long)x->maxlen);
		out_xadd(&o, x, ml, strlen(ml));
	}
	if (o.fail || o.len > VG_REDIS_MAX_COMMAND * 4) {
		free(o.p);
		return VG_ENOMEM;
	}
	rc = conn_write(r, c, o.p, o.len, err, errlen);
	free(o.p);
	for (i = 0; rc == VG_OK && i < n; i++) {
		struct vg_redis_xadd *x = &e[idx[i]];
		struct vg_redis_reply *rep;

		if (asking) {
			rc = conn_read(r, c, &rep, err, errlen);
			if (rc != VG_OK)
				break;
			vg_redis_reply_free(rep);
		}
		rc = conn_read(r, c, &rep, err, errlen);
		if (rc != VG_OK)
			break;
		x->done = 1;
		if (rep->type == VG_REPLY_STRING) {
			x->ok = 1;
			snprintf(x->id, sizeof(x->id), "%s", rep->str);
		} else {
			x->ok = 0;
			if (rep->type == VG_REPLY_ERROR)
				vg_escape(x->error, sizeof(x->error), rep->str,
					  rep->len);
			else
				snprintf(x->error, sizeof(x->error),
					 "unexpected reply to XADD");
		}
		vg_redis_reply_free(rep);
	}
	return rc;
}

enum vg_err
vg_redis_xadd_batch(struct vg_redis *r, struct vg_redis_xadd *e, size_t n,
		    char *err, size_t errlen)
{
	size_t *idx, i, m;
	unsigned round;
	enum vg_err rc = VG_OK;

	if (n == 0)
		return VG_OK;
	if (r == NULL || e == NULL)
		return VG_EINVAL;
	for (i = 0; i < n; i++) {
		if (e[i].key == NULL || e[i].n_fields == 0 ||
		    e[i].n_fields > VG_REDIS_MAX_FIELDS)
			return VG_EINVAL;
		e[i].done = e[i].ok = 0;
		e[i].id[0] = e[i].error[0] = '\0';
	}
	idx = calloc(n, sizeof(*idx));
	if (idx == NULL)
		return VG_ENOMEM;
	if (r->o.mode != VG_REDIS_CLUSTER) {
		struct conn *c = target(r, -1, err, errlen);

		for (i = 0; i < n; i++)
			idx[i] = i;
		rc = c ? pipeline(r, c, e, idx, n, false, err, errlen) : VG_EIO;
		if (rc == VG_OK)
			for (i = 0; i < n && rc == VG_OK; i++)
				if (r->o.mode == VG_REDIS_SENTINEL &&
				    !e[i].ok &&
				    strncmp(e[i].error, "READONLY", 8) == 0) {
					e[i].done = 0;
					vg_seterr(err, errlen,
						  "%s is no longer the master",
						  c->peer);
					rc = VG_EIO;
				}
		if (rc != VG_OK)
			broken(r, -1);
		free(idx);
		return rc;
	}
	/* Cluster: one pipeline per node, then the redirected ones again. */
	for (round = 0; round <= VG_REDIS_MAX_REDIRECTS; round++) {
		int *node = calloc(n, sizeof(*node));
		bool *ask = calloc(n, sizeof(*ask)), any = false;

		if (node == NULL || ask == NULL) {
			free(node);
			free(ask);
			free(idx);
			return VG_ENOMEM;
		}
		for (i = 0; i < n; i++) {
			node[i] = -2;
			if (e[i].done && !is_redirect(e[i].error))
				continue;
			if (e[i].done) {
				/* A redirection from the last round. */
				unsigned slot;
				int to = redirect_node(r, e[i].error, &slot);

				if (to < 0)
					continue;
				if (strncmp(e[i].error, "MOVED ", 6) == 0) {
					r->slot[slot] = (uint16_t)to;
					r->refresh = true;
				} else {
					ask[i] = true;
				}
				node[i] = to;
				e[i].done = 0;
			} else {
				node[i] = slot_node(r, e[i].key, e[i].key_len,
						    err, errlen);
			}
			any = true;
		}
		if (!any) {
			free(node);
			free(ask);
			break;
		}
		for (i = 0; i < n && rc == VG_OK; i++) {
			int nd = node[i];
			bool a = ask[i];
			struct conn *c;
			size_t j;

			if (nd == -2)
				continue;
			for (m = 0, j = i; j < n; j++)
				if (node[j] == nd && ask[j] == a) {
					idx[m++] = j;
					node[j] = -2;
				}
			c = target(r, nd, err, errlen);
			rc = c ? pipeline(r, c, e, idx, m, a, err, errlen)
			       : VG_EIO;
			if (rc != VG_OK)
				broken(r, nd);
		}
		free(node);
		free(ask);
		if (rc != VG_OK)
			break;
		/* Redirections are plain errors only when past the limit. */
		for (i = 0; i < n; i++)
			if (e[i].done && !e[i].ok && is_redirect(e[i].error))
				break;
		if (i == n)
			break;
	}
	free(idx);
	return rc;
}
