/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's HTTP server: GET /healthz, the JSON API under /api/, the
 * Server-Sent Events stream /api/stream and the dashboard's four static
 * files, per collectors/API.md.
 *
 * libmicrohttpd runs one thread per connection, so a stream may block in
 * its content callback waiting for the store's next event (at most
 * VC_HTTP_PING_MS, then a ping). The listening socket is made here, bound
 * to the one address configured; without a tokens file only a loopback
 * address is accepted. JSON bodies are made by jansson; the events
 * themselves are the agent's bytes, which the store has checked to be one
 * JSON object each, spliced into the jansson-made envelope.
 */
#include "http.h"

#include "../agent/log.h"
#include "shared.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSP                                                                    \
	"default-src 'self'; connect-src 'self'; img-src 'self' data:; "       \
	"style-src 'self'; script-src 'self'"

struct token {
	unsigned char b[VC_HTTP_MAX_TOKEN + 1]; /* zero-padded */
	size_t len;
};

struct vc_http {
	struct MHD_Daemon *d;
	struct vc_store *store;
	struct vc_view *view;
	int static_fd; /* the static folder, -1: none */
	struct token *tokens;
	size_t ntokens; /* 0: no authentication */
	atomic_int stop;
};

/* One open event stream. */
struct stream {
	struct vc_http *h;
	uint64_t seq;
	char *buf;
	size_t len, off;
	int started;
};

static const struct {
	const char *path, *file, *type;
} statics[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/i18n.js", "i18n.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

/* Marks a request whose headers have been seen (first handler call). */
static int request_seen;

/* ---- Responses ---- */

static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
      const char *type, const char *cache)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	if (type != NULL)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					      type);
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	(void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	if (status == MHD_HTTP_UNAUTHORIZED)
		(void)MHD_add_response_header(r,
					      MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					      "Bearer realm=\"vigil\"");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send buf (malloc'd, consumed) as a JSON body. */
static enum MHD_Result
send_body(struct MHD_Connection *c, unsigned status, char *buf, size_t len)
{
	struct MHD_Response *r;

	if (buf == NULL)
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	return queue(c, status, r, "application/json; charset=utf-8",
		     "no-store");
}

/* Send v (consumed) as the JSON body. */
static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (s == NULL)
		return MHD_NO;
	return send_body(c, status, s, strlen(s));
}

static enum MHD_Result
send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---- Authentication ---- */

/* Constant time over every token: no early exit on a match or a byte. */
static int
token_ok(const struct vc_http *h, const char *t, size_t tl)
{
	unsigned char pad[VC_HTTP_MAX_TOKEN + 1];
	unsigned ok = 0;
	size_t i, k;

	if (tl > VC_HTTP_MAX_TOKEN)
		return 0;
	memset(pad, 0, sizeof(pad));
	memcpy(pad, t, tl);
	for (k = 0; k < h->ntokens; k++) {
		unsigned diff = (unsigned)(h->tokens[k].len ^ tl);

		for (i = 0; i < sizeof(pad); i++)
			diff |= (unsigned)(h->tokens[k].b[i] ^ pad[i]);
		ok |= diff == 0;
	}
	return ok != 0;
}

static int
authorized(const struct vc_http *h, struct MHD_Connection *c, int stream)
{
	const char *v = NULL;
	size_t vl = 0;

	if (h->ntokens == 0)
		return 1;
	if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Authorization",
					  13, &v, &vl) == MHD_YES &&
	    v != NULL && vl > 7 && strncasecmp(v, "Bearer ", 7) == 0 &&
	    token_ok(h, v + 7, vl - 7))
		return 1;
	/* EventSource cannot send headers: the stream takes ?token= too. */
	v = NULL;
	if (stream &&
	    MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "token", 5,
					  &v, &vl) == MHD_YES &&
	    v != NULL && token_ok(h, v, vl))
		return 1;
	return 0;
}

/* ---- Parameters ---- */

/* The first value of a query parameter: 1 with *v set (NULL or "" count
 * as absent: 0), -1 when it holds a NUL byte. */
static int
param(struct MHD_Connection *c, const char *name, const char **v)
{
	const char *s = NULL;
	size_t len = 0;

	*v = NULL;
	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name,
					  strlen(name), &s, &len) != MHD_YES ||
	    s == NULL || len == 0)
		return 0;
	if (strlen(s) != len)
		return -1;
	*v = s;
	return 1;
}

/* Strict decimal in [lo, hi]: digits only, no sign, no spaces. */
static int
parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 9)
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v < lo || v > hi)
		return 0;
	*out = (unsigned)v;
	return 1;
}

/* Characters (UTF-8 code points) in s. */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ---- Endpoints ---- */

static enum MHD_Result
get_healthz(struct vc_http *h, struct MHD_Connection *c)
{
	int up = vc_store_redis_up(h->store);

	return send_json(c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			 json_pack("{s:b s:s s:s}", "ok", up, "redis",
				   up ? "up" : "down", "version", VG_VERSION));
}

/* {"items":[EVENT,...],"next":ID|null}: the envelope and next by jansson,
 * the events as the store holds them (each a checked JSON object). */
static char *
alerts_body(const struct vc_result *r, size_t *outlen)
{
	json_t *next = r->next ? json_string(r->next) : json_null();
	char *ns = next ? json_dumps(next, JSON_ENCODE_ANY) : NULL;
	static const char head[] = "{\"items\":[", mid[] = "],\"next\":";
	size_t len, i, off;
	char *buf = NULL;

	json_decref(next);
	if (ns == NULL)
		return NULL;
	len = sizeof(head) - 1 + sizeof(mid) - 1 + strlen(ns) + 2;
	for (i = 0; i < r->n; i++) {
		if (__builtin_add_overflow(len, r->lens[i] + 1, &len))
			goto out;
	}
	buf = malloc(len);
	if (buf == NULL)
		goto out;
	memcpy(buf, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			buf[off++] = ',';
		memcpy(buf + off, r->items[i], r->lens[i]);
		off += r->lens[i];
	}
	memcpy(buf + off, mid, sizeof(mid) - 1);
	off += sizeof(mid) - 1;
	memcpy(buf + off, ns, strlen(ns));
	off += strlen(ns);
	buf[off++] = '}';
	buf[off] = '\0';
	*outlen = off;
out:
	free(ns);
	return buf;
}

static enum MHD_Result
get_alerts(struct vc_http *h, struct MHD_Connection *c)
{
	struct vc_query q;
	struct vc_result r;
	const char *v;
	unsigned u;
	char *body;
	size_t len = 0;
	enum vg_err err;

	memset(&q, 0, sizeof(q));
	q.since_us = INT64_MIN;
	q.until_us = INT64_MAX;
	q.limit = 100;
	if (param(c, "agency", &v) < 0)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad agency");
	q.agency = v;
	switch (param(c, "severity", &v)) {
	case -1:
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad severity");
	case 1:
		if (!parse_uint(v, 1, 4, &u) || strlen(v) != 1)
			return send_error(c, MHD_HTTP_BAD_REQUEST,
					  "bad severity");
		q.severity = (int)u;
		break;
	}
	switch (param(c, "type", &v)) {
	case -1:
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad type");
	case 1:
		if (strcmp(v, "alert") == 0)
			q.type = VC_TYPE_ALERT;
		else if (strcmp(v, "fileinfo") == 0)
			q.type = VC_TYPE_FILEINFO;
		else
			return send_error(c, MHD_HTTP_BAD_REQUEST, "bad type");
		break;
	}
	if (param(c, "since", &v) < 0 ||
	    (v != NULL && vc_parse_time(v, &q.since_us) != VG_OK))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad since");
	if (param(c, "until", &v) < 0 ||
	    (v != NULL && vc_parse_time(v, &q.until_us) != VG_OK))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad until");
	if (param(c, "q", &v) < 0 || (v != NULL && utf8_chars(v) > 200))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad q");
	q.q = v;
	switch (param(c, "limit", &v)) {
	case -1:
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad limit");
	case 1:
		if (!parse_uint(v, 1, 1000, &u))
			return send_error(c, MHD_HTTP_BAD_REQUEST, "bad limit");
		q.limit = u;
		break;
	}
	if (param(c, "before", &v) < 0 || (v != NULL && !vc_is_uuid(v)))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad before");
	q.before = v;

	err = vc_store_query(h->store, &q, &r);
	if (err == VG_EINVAL)
		return send_error(c, MHD_HTTP_BAD_REQUEST,
				  "unknown before event");
	if (err != VG_OK)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
	body = alerts_body(&r, &len);
	vc_result_fini(&r);
	if (body == NULL)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
	return send_body(c, MHD_HTTP_OK, body, len);
}

static enum MHD_Result
get_alert(struct vc_http *h, struct MHD_Connection *c, const char *id)
{
	size_t len = 0;
	char *ev;

	if (!vc_is_uuid(id))
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad event id");
	ev = vc_store_get(h->store, id, &len);
	if (ev == NULL)
		return send_error(c, MHD_HTTP_NOT_FOUND, "unknown event");
	return send_body(c, MHD_HTTP_OK, ev, len);
}

/*
 * An answer computed from Redis (shared.c): without Redis, 503 (API.md:
 * "Redis is down and the request needs it"), never a partial or stale
 * view that would differ from one collector to the next.
 */
static enum MHD_Result
send_view(struct MHD_Connection *c, enum vg_err rc, json_t *body)
{
	/* The view logs the reason, rate-limited. */
	if (rc == VG_OK)
		return send_json(c, MHD_HTTP_OK, body);
	if (rc == VG_ENOMEM)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory");
	return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "redis is down");
}

static enum MHD_Result
get_timeseries(struct vc_http *h, struct MHD_Connection *c)
{
	unsigned minutes = 60;
	const char *v;
	json_t *body = NULL;
	char err[256] = "";
	enum vg_err rc;

	switch (param(c, "minutes", &v)) {
	case -1:
		return send_error(c, MHD_HTTP_BAD_REQUEST, "bad minutes");
	case 1:
		if (!parse_uint(v, 1, VC_SHARED_MINUTES, &minutes))
			return send_error(c, MHD_HTTP_BAD_REQUEST,
					  "bad minutes");
		break;
	}
	rc = vc_view_timeseries(h->view, minutes, &body, err, sizeof(err));
	return send_view(c, rc, body);
}

static enum MHD_Result
get_agents(struct vc_http *h, struct MHD_Connection *c)
{
	json_t *body = NULL;
	char err[256] = "";

	enum vg_err rc = vc_view_agents(h->view, &body, err, sizeof(err));

	return send_view(c, rc, body);
}

/* The stream's content callback: blocks for the next event (own thread). */
static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	static const char hello[] = "retry: 3000\n\n", ping[] = ": ping\n\n";
	struct stream *st = cls;
	char *ev = NULL, id[37];
	size_t evlen = 0, n;
	int r;

	(void)pos;
	while (st->off >= st->len) {
		free(st->buf);
		st->buf = NULL;
		st->len = st->off = 0;
		if (!st->started) {
			st->started = 1;
			st->buf = strdup(hello);
			if (st->buf == NULL)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			st->len = sizeof(hello) - 1;
			break;
		}
		r = vc_store_next(st->h->store, &st->seq, VC_HTTP_PING_MS,
				  &st->h->stop, &ev, &evlen, id);
		if (atomic_load(&st->h->stop)) {
			free(ev);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (r < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (r == 0) {
			st->buf = strdup(ping);
			if (st->buf == NULL)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			st->len = sizeof(ping) - 1;
			break;
		}
		/* id is a checked UUID and ev holds no line break (store.c),
		 * so neither can add a field to the frame. */
		n = evlen + 64;
		st->buf = malloc(n);
		if (st->buf == NULL) {
			free(ev);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		r = snprintf(st->buf, n, "event: alert\nid: %s\ndata: %s\n\n",
			     id, ev);
		free(ev);
		if (r < 0 || (size_t)r >= n)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		st->len = (size_t)r;
	}
	n = st->len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->buf + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->buf);
	free(st);
}

static enum MHD_Result
get_stream(struct vc_http *h, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	struct stream *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return MHD_NO;
	st->h = h;
	st->seq = vc_store_seq(h->store);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
					      stream_read, st, stream_free);
	if (r == NULL) {
		free(st);
		return MHD_NO;
	}
	return queue(c, MHD_HTTP_OK, r, "text/event-stream", "no-store");
}

/* A static file: the name comes from the fixed table, never the URL. */
static enum MHD_Result
get_static(struct vc_http *h, struct MHD_Connection *c, size_t i)
{
	struct MHD_Response *r;
	struct stat sb;
	char *buf = NULL;
	size_t off = 0;
	ssize_t n;
	int fd = -1;

	if (h->static_fd < 0)
		return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
	fd = openat(h->static_fd, statics[i].file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > VC_HTTP_MAX_STATIC)
		goto fail;
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank meanwhile: send what is there */
		off += (size_t)n;
	}
	close(fd);
	r = MHD_create_response_from_buffer(off, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, "Content-Security-Policy", CSP);
	return queue(c, MHD_HTTP_OK, r, statics[i].type, "no-cache");
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **req)
{
	struct vc_http *h = cls;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	size_t i;

	(void)version;
	(void)upload;
	if (*req == NULL) {
		*req = &request_seen;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* a body is never used */
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") == 0)
		return get ? get_healthz(h, c)
			   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					"method not allowed");
	if (strncmp(url, "/api/", 5) == 0) {
		if (!authorized(h, c, strcmp(url, "/api/stream") == 0))
			return send_error(c, MHD_HTTP_UNAUTHORIZED,
					  "token required");
		if (!get)
			return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "method not allowed");
		if (strcmp(url, "/api/alerts") == 0)
			return get_alerts(h, c);
		if (strncmp(url, "/api/alerts/", 12) == 0)
			return get_alert(h, c, url + 12);
		if (strcmp(url, "/api/agents") == 0)
			return get_agents(h, c);
		if (strcmp(url, "/api/stats/timeseries") == 0)
			return get_timeseries(h, c);
		if (strcmp(url, "/api/stream") == 0)
			return get_stream(h, c);
		return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
	}
	for (i = 0; i < VG_ARRAY_LEN(statics); i++)
		if (strcmp(url, statics[i].path) == 0)
			return get || head
				   ? get_static(h, c, i)
				   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
						"method not allowed");
	return send_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* ---- Start and stop ---- */

/* "A.B.C.D:port" or "[v6]:port" into ss; loopback in *lo. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl, int *lo,
	     char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h0, *h1;
	unsigned port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL || *s == '\0')
		goto bad;
	if (*s == '[') {
		h0 = s + 1;
		h1 = strchr(h0, ']');
		if (h1 == NULL || h1[1] != ':')
			goto bad;
		colon = h1 + 1;
	} else {
		h0 = s;
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		h1 = colon;
	}
	hl = (size_t)(h1 - h0);
	if (hl == 0 || hl >= sizeof(host) ||
	    !parse_uint(colon + 1, 1, 65535, &port))
		goto bad;
	memcpy(host, h0, hl);
	host[hl] = '\0';
	if (*s != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in);
		*lo = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*in6);
		*lo = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
bad:
	vg_seterr(err, errlen,
		  "http.listen: expected ADDRESS:PORT with a numeric IPv4 "
		  "address or [IPv6]:PORT, port 1..65535");
	return -1;
}

/* Tokens: one a line, blanks around ignored, '#' starts a comment line. */
static int
load_tokens(struct vc_http *h, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *p, *e;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = -1;

	if (f == NULL) {
		vg_seterr(err, errlen, "http.tokens_file: %s", strerror(errno));
		return -1;
	}
	h->tokens = vg_calloc(VC_HTTP_MAX_TOKENS, sizeof(*h->tokens));
	if (h->tokens == NULL) {
		vg_seterr(err, errlen, "http.tokens_file: out of memory");
		goto out;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		e = line + n;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
				 e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		for (e = p; *e; e++)
			if (*e <= ' ' || *e > '~')
				break;
		if (*e != '\0' || strlen(p) > VC_HTTP_MAX_TOKEN) {
			vg_seterr(err, errlen,
				  "http.tokens_file line %zu: a token is 1..%d "
				  "printable characters without spaces",
				  lineno, VC_HTTP_MAX_TOKEN);
			goto out;
		}
		if (h->ntokens == VC_HTTP_MAX_TOKENS) {
			vg_seterr(err, errlen,
				  "http.tokens_file: more than %d tokens",
				  VC_HTTP_MAX_TOKENS);
			goto out;
		}
		h->tokens[h->ntokens].len = strlen(p);
		memcpy(h->tokens[h->ntokens].b, p, strlen(p));
		h->ntokens++;
	}
	if (ferror(f)) {
		vg_seterr(err, errlen, "http.tokens_file: read error");
		goto out;
	}
	if (h->ntokens == 0) {
		vg_seterr(err, errlen, "http.tokens_file: no token in %s",
			  path);
		goto out;
	}
	rc = 0;
out:
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}

static void
http_free(struct vc_http *h)
{
	if (h->tokens != NULL) {
		explicit_bzero(h->tokens,
			       VC_HTTP_MAX_TOKENS * sizeof(*h->tokens));
		free(h->tokens);
	}
	if (h->static_fd >= 0)
		close(h->static_fd);
	free(h);
}

struct vc_http *
vc_http_start(const char *listen_addr, const char *tokens_file,
	      const char *static_dir, struct vc_store *store,
	      struct vc_view *view, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct vc_http *h;
	socklen_t sl = 0;
	int lo = 0, fd = -1, one = 1;

	if (store == NULL || view == NULL) {
		vg_seterr(err, errlen, "http: no store");
		return NULL;
	}
	if (parse_listen(listen_addr, &ss, &sl, &lo, err, errlen) != 0)
		return NULL;
	if (tokens_file == NULL && !lo) {
		vg_seterr(err, errlen,
			  "http.listen %s is not a loopback address: without "
			  "http.tokens_file the API would be open to anyone "
			  "who can reach it",
			  listen_addr);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		vg_seterr(err, errlen, "http: out of memory");
		return NULL;
	}
	h->store = store;
	h->view = view;
	h->static_fd = -1;
	atomic_init(&h->stop, 0);
	if (tokens_file != NULL && load_tokens(h, tokens_file, err, errlen))
		goto fail;
	if (static_dir != NULL) {
		h->static_fd =
		    open(static_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h->static_fd < 0) {
			vg_seterr(err, errlen, "http static folder %s: %s",
				  static_dir, strerror(errno));
			goto fail;
		}
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) !=
		 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
		vg_seterr(err, errlen, "http.listen %s: %s", listen_addr,
			  strerror(errno));
		goto fail;
	}
	h->d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
		MHD_USE_AUTO,
	    0, NULL, NULL, handle, h, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)VC_HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)VC_HTTP_MAX_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
	if (h->d == NULL) {
		vg_seterr(err, errlen, "http: libmicrohttpd did not start");
		goto fail;
	}
	vg_log(LOG_INFO, "http: listening on %s (%s)", listen_addr,
	       h->ntokens ? "tokens required" : "loopback, no token");
	return h;
fail:
	if (fd >= 0)
		close(fd);
	http_free(h);
	return NULL;
}

void
vc_http_stop(struct vc_http *h)
{
	if (h == NULL)
		return;
	/* Streams wait in the store: flag them, wake them, then join. */
	atomic_store(&h->stop, 1);
	vc_store_wake(h->store);
	MHD_stop_daemon(h->d);
	http_free(h);
}
