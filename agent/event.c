/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The EVE JSON encoder: flow and stats events, JSON string escaping, EVE
 * timestamps, Community ID v1 and UUIDv7 event ids.
 *
 * Workers call vg_event_flow() once per finished flow and the publisher
 * calls vg_event_stats() once per heartbeat; the line lands in a capped
 * struct vg_buf that goes on to the spool. The JSON is written by hand, with
 * no allocation of its own and no printf, because this runs per flow. All
 * writes go through a small writer with a sticky error: the first failed
 * append stops the event, and the buffer is cut back to where the event
 * began, so a refused event never leaves half a line behind.
 */
#include "event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define PROTO_ICMP   1
#define PROTO_TCP    6
#define PROTO_UDP    17
#define PROTO_GRE    47
#define PROTO_ESP    50
#define PROTO_AH     51
#define PROTO_ICMPV6 58
#define PROTO_SCTP   132

/* Deepest dotted stats key: "a.b.c.d". */
#define STATS_MAX_DEPTH 4

/* 9999-12-31T23:59:59: the last second a 4-digit year can show. */
#define EVE_MAX_SEC INT64_C(253402300799)

/*
 * JSON writer
 *
 * Each value writer first emits the ',' that separates it from the previous
 * value or key/value pair of the same object or array; opening an object or
 * array resets that, closing one sets it again.
 */
struct jw {
	struct vg_buf *b;
	size_t start;    /* b->len when the event began */
	enum vg_err err; /* first failure; every later write is a no-op */
	int comma;       /* a value was written: the next one needs a ',' */
};

static void
jw_begin(struct jw *w, struct vg_buf *b)
{
	w->b = b;
	w->start = b->len;
	w->err = VG_OK;
	w->comma = 0;
}

/* Finish the event: on failure, cut the buffer back to where it began. */
static enum vg_err
jw_end(struct jw *w)
{
	if (w->err != VG_OK) {
		w->b->len = w->start;
		if (w->b->data != NULL)
			w->b->data[w->start] = '\0';
	}
	return w->err;
}

static void
jw_raw(struct jw *w, const char *p, size_t n)
{
	if (w->err == VG_OK)
		w->err = vg_buf_append(w->b, p, n);
}

static void
jw_sep(struct jw *w)
{
	if (w->comma)
		jw_raw(w, ",", 1);
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	jw_raw(w, &c, 1);
	w->comma = 0;
}

static void
jw_close(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	w->comma = 1;
}

/* A key from this file: plain ASCII, written without escaping. */
static void
jw_key(struct jw *w, const char *name)
{
	char tmp[48];
	size_t n = strlen(name), i = 0;

	if (n > sizeof(tmp) - 4) { /* ',' '"' '"' ':' */
		w->err = VG_EINVAL;
		return;
	}
	if (w->comma)
		tmp[i++] = ',';
	tmp[i++] = '"';
	memcpy(tmp + i, name, n);
	i += n;
	tmp[i++] = '"';
	tmp[i++] = ':';
	jw_raw(w, tmp, i);
	w->comma = 0;
}

/* A string literal known to need no escaping. */
static void
jw_lit(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_raw(w, "\"", 1);
	jw_raw(w, s, n);
	jw_raw(w, "\"", 1);
	w->comma = 1;
}

static void
jw_str(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	if (w->err == VG_OK)
		w->err = vg_json_str(w->b, s, n);
	w->comma = 1;
}

/* Decimal digits of v, right-aligned in buf; returns the first one. */
static char *
fmt_u64(char buf[20], uint64_t v)
{
	char *p = buf + 20;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

static void
jw_u64(struct jw *w, uint64_t v)
{
	char buf[20], *p = fmt_u64(buf, v);

	jw_sep(w);
	jw_raw(w, p, (size_t)(buf + sizeof(buf) - p));
	w->comma = 1;
}

/* A number as a JSON string: "47". */
static void
jw_u64_str(struct jw *w, uint64_t v)
{
	char buf[20], *p = fmt_u64(buf, v);

	jw_lit(w, p, (size_t)(buf + sizeof(buf) - p));
}

static void
jw_true(struct jw *w)
{
	jw_sep(w);
	jw_raw(w, "true", 4);
	w->comma = 1;
}

static int
is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* "key":"s", or nothing when s is NULL or empty. */
static void
kv_str(struct jw *w, const char *key, const char *s)
{
	if (!is_set(s))
		return;
	jw_key(w, key);
	jw_str(w, s, strlen(s));
}

static void
kv_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

/*
 * JSON strings
 */

/* Printable ASCII that goes out as is. */
static int
is_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The JSON escape for one byte that cannot go out as is. */
static size_t
escape_byte(char esc[6], unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	esc[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		return 2;
	case '\b':
		esc[1] = 'b';
		return 2;
	case '\f':
		esc[1] = 'f';
		return 2;
	case '\n':
		esc[1] = 'n';
		return 2;
	case '\r':
		esc[1] = 'r';
		return 2;
	case '\t':
		esc[1] = 't';
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(esc + 1, "u00", 3);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
	} else {
		/* A byte that is not part of well-formed UTF-8. */
		memcpy(esc + 1, "ufffd", 5);
	}
	return 6;
}

enum vg_err
vg_json_str(struct vg_buf *out, const char *s, size_t len)
{
	const unsigned char *p, *end, *run;
	size_t start = out->len, n;
	enum vg_err err;
	char esc[6];

	if (len == 0)
		return vg_buf_append(out, "\"\"", 2);
	if (s == NULL)
		return VG_EINVAL;
	if ((err = vg_buf_putc(out, '"')) != VG_OK)
		return err;
	p = (const unsigned char *)s;
	end = p + len;
	for (;;) {
		/* Copy the longest run that needs no escape in one append. */
		run = p;
		while (p < end) {
			if (is_plain(*p))
				p++;
			else if (*p >= 0x80 &&
				 (n = vg_utf8_len(p, (size_t)(end - p))) != 0)
				p += n;
			else
				break;
		}
		if (p > run &&
		    (err = vg_buf_append(out, run, (size_t)(p - run))) != VG_OK)
			goto fail;
		if (p == end)
			break;
		/* One byte to escape; an invalid byte becomes one U+FFFD. */
		n = escape_byte(esc, *p++);
		if ((err = vg_buf_append(out, esc, n)) != VG_OK)
			goto fail;
	}
	if ((err = vg_buf_putc(out, '"')) != VG_OK)
		goto fail;
	return VG_OK;
fail:
	out->len = start;
	out->data[start] = '\0';
	return err;
}

/*
 * Time
 */

static void
put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * "YYYY-MM-DDTHH:MM:SS" for sec (clamped to years 1970-9999) into p, 19
 * bytes, no NUL. The last second is cached per thread: a flow's end and the
 * event's timestamp mostly share it, and glibc's gmtime_r() takes a
 * process-wide lock.
 */
static void
fmt_civil(char *p, int64_t sec)
{
	static _Thread_local int64_t cached_sec = -1;
	static _Thread_local char cached[19];
	struct tm tm;
	time_t t;

	if (sec < 0)
		sec = 0;
	if (sec > EVE_MAX_SEC)
		sec = EVE_MAX_SEC;
	if (sec != cached_sec) {
		t = (time_t)sec;
		if (gmtime_r(&t, &tm) == NULL)
			memset(&tm, 0, sizeof(tm)); /* cannot happen in range */
		put_digits(cached, (unsigned)tm.tm_year + 1900, 4);
		cached[4] = '-';
		put_digits(cached + 5, (unsigned)tm.tm_mon + 1, 2);
		cached[7] = '-';
		put_digits(cached + 8, (unsigned)tm.tm_mday, 2);
		cached[10] = 'T';
		put_digits(cached + 11, (unsigned)tm.tm_hour, 2);
		cached[13] = ':';
		put_digits(cached + 14, (unsigned)tm.tm_min, 2);
		cached[16] = ':';
		put_digits(cached + 17, (unsigned)tm.tm_sec, 2);
		cached_sec = sec;
	}
	memcpy(p, cached, sizeof(cached));
}

void
vg_eve_time(char out[32], int64_t ts_us)
{
	int64_t sec, us;

	if (ts_us < 0)
		ts_us = 0;
	sec = ts_us / 1000000;
	us = ts_us % 1000000;
	if (sec > EVE_MAX_SEC) {
		sec = EVE_MAX_SEC;
		us = 999999;
	}
	fmt_civil(out, sec);
	out[19] = '.';
	put_digits(out + 20, (unsigned)us, 6);
	memcpy(out + 26, "+0000", 6); /* with the NUL */
}

static void
jw_time(struct jw *w, int64_t ts_us)
{
	char t[32];

	vg_eve_time(t, ts_us);
	jw_lit(w, t, 31);
}

/* Certificate validity as Suricata writes it: "2016-07-26T00:00:00". */
static void
jw_cert_time(struct jw *w, int64_t sec)
{
	char t[19];

	fmt_civil(t, sec);
	jw_lit(w, t, sizeof(t));
}

/*
 * Names
 */

static const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case PROTO_ICMP:
		return "ICMP";
	case PROTO_TCP:
		return "TCP";
	case PROTO_UDP:
		return "UDP";
	case PROTO_GRE:
		return "GRE";
	case PROTO_ESP:
		return "ESP";
	case PROTO_AH:
		return "AH";
	case PROTO_ICMPV6:
		return "IPv6-ICMP";
	case PROTO_SCTP:
		return "SCTP";
	}
	return NULL;
}

static int
has_ports(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP;
}

static const char *
dns_type_name(unsigned t)
{
	switch (t) {
	case 1:
		return "A";
	case 2:
		return "NS";
	case 5:
		return "CNAME";
	case 6:
		return "SOA";
	case 12:
		return "PTR";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	case 33:
		return "SRV";
	case 65:
		return "HTTPS";
	case 255:
		return "ANY";
	}
	return NULL;
}

static const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
					    "NXDOMAIN", "NOTIMP",  "REFUSED"};

	if (rcode >= 0 && (size_t)rcode < VG_ARRAY_LEN(names))
		return names[rcode];
	return NULL;
}

/*
 * Flow event
 */

static void
kv_ip(struct jw *w, const char *key, int af, const uint8_t *addr)
{
	char txt[INET6_ADDRSTRLEN];

	jw_key(w, key);
	if (inet_ntop(af, addr, txt, sizeof(txt)) == NULL) {
		w->err = VG_EINVAL;
		return;
	}
	jw_lit(w, txt, strlen(txt));
}

static void
put_flow(struct jw *w, const struct vg_flow_info *fi)
{
	uint64_t age = 0;

	jw_key(w, "flow");
	jw_open(w, '{');
	kv_u64(w, "pkts_toserver", fi->pkts_toserver);
	kv_u64(w, "pkts_toclient", fi->pkts_toclient);
	kv_u64(w, "bytes_toserver", fi->bytes_toserver);
	kv_u64(w, "bytes_toclient", fi->bytes_toclient);
	jw_key(w, "start");
	jw_time(w, fi->start_us);
	jw_key(w, "end");
	jw_time(w, fi->end_us);
	/* Unsigned subtraction: exact, and free of signed overflow. */
	if (fi->end_us > fi->start_us)
		age = ((uint64_t)fi->end_us - (uint64_t)fi->start_us) / 1000000;
	kv_u64(w, "age", age);
	kv_str(w, "state", fi->state);
	kv_str(w, "reason", fi->reason);
	jw_key(w, "alerted");
	jw_sep(w);
	if (fi->alerted)
		jw_raw(w, "true", 4);
	else
		jw_raw(w, "false", 5);
	w->comma = 1;
	jw_close(w, '}');
}

static void
jw_hex8(struct jw *w, uint8_t v)
{
	static const char hex[] = "0123456789abcdef";
	char t[2] = {hex[v >> 4], hex[v & 0xf]};

	jw_lit(w, t, 2);
}

/* Suricata's "tcp" object: flags in hex, then one boolean per set flag. */
static void
put_tcp(struct jw *w, const struct vg_flow_info *fi)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} flags[] = {{0x02, "syn"}, {0x01, "fin"}, {0x04, "rst"},
		     {0x08, "psh"}, {0x10, "ack"}, {0x20, "urg"},
		     {0x40, "ecn"}, {0x80, "cwr"}};
	uint8_t all = fi->tcp_flags_ts | fi->tcp_flags_tc;
	size_t i;

	jw_key(w, "tcp");
	jw_open(w, '{');
	jw_key(w, "tcp_flags");
	jw_hex8(w, all);
	jw_key(w, "tcp_flags_ts");
	jw_hex8(w, fi->tcp_flags_ts);
	jw_key(w, "tcp_flags_tc");
	jw_hex8(w, fi->tcp_flags_tc);
	for (i = 0; i < VG_ARRAY_LEN(flags); i++) {
		if (all & flags[i].bit) {
			jw_key(w, flags[i].name);
			jw_true(w);
		}
	}
	jw_close(w, '}');
}

static void
put_ndpi(struct jw *w, const struct vg_flow_info *fi)
{
	unsigned i, n = fi->n_risks < VG_MAX_RISKS ? fi->n_risks : VG_MAX_RISKS;
	int risks = 0;

	for (i = 0; i < n; i++)
		risks |= is_set(fi->risks[i]);
	if (!is_set(fi->ndpi_protocol) && !is_set(fi->ndpi_category) &&
	    !is_set(fi->ndpi_confidence) && !risks && fi->risk_score == 0)
		return;
	jw_key(w, "ndpi");
	jw_open(w, '{');
	kv_str(w, "protocol", fi->ndpi_protocol);
	kv_str(w, "category", fi->ndpi_category);
	kv_str(w, "confidence", fi->ndpi_confidence);
	if (risks) {
		jw_key(w, "risk");
		jw_open(w, '[');
		for (i = 0; i < n; i++)
			if (is_set(fi->risks[i]))
				jw_str(w, fi->risks[i], strlen(fi->risks[i]));
		jw_close(w, ']');
	}
	if (fi->risk_score != 0)
		kv_u64(w, "risk_score", fi->risk_score);
	jw_close(w, '}');
}

/* {"hash":"..."} under key, when hash is set. */
static void
put_hash(struct jw *w, const char *key, const char *hash)
{
	if (!is_set(hash))
		return;
	jw_key(w, key);
	jw_open(w, '{');
	kv_str(w, "hash", hash);
	jw_close(w, '}');
}

static void
put_tls(struct jw *w, const struct vg_flow_info *fi)
{
	if (!is_set(fi->tls_sni) && !is_set(fi->tls_version) &&
	    !is_set(fi->tls_ja3) && !is_set(fi->tls_ja3s) &&
	    !is_set(fi->tls_subject) && !is_set(fi->tls_issuer) &&
	    !is_set(fi->tls_alpn) && fi->tls_notbefore == 0 &&
	    fi->tls_notafter == 0)
		return;
	jw_key(w, "tls");
	jw_open(w, '{');
	kv_str(w, "sni", fi->tls_sni);
	kv_str(w, "version", fi->tls_version);
	put_hash(w, "ja3", fi->tls_ja3);
	put_hash(w, "ja3s", fi->tls_ja3s);
	kv_str(w, "subject", fi->tls_subject);
	kv_str(w, "issuerdn", fi->tls_issuer);
	kv_str(w, "alpn", fi->tls_alpn);
	if (fi->tls_notbefore != 0) {
		jw_key(w, "notbefore");
		jw_cert_time(w, fi->tls_notbefore);
	}
	if (fi->tls_notafter != 0) {
		jw_key(w, "notafter");
		jw_cert_time(w, fi->tls_notafter);
	}
	jw_close(w, '}');
}

static void
put_http(struct jw *w, const struct vg_flow_info *fi)
{
	if (!is_set(fi->http_host) && !is_set(fi->http_url) &&
	    !is_set(fi->http_user_agent) && !is_set(fi->http_method) &&
	    fi->http_status == 0 && !is_set(fi->http_content_type))
		return;
	jw_key(w, "http");
	jw_open(w, '{');
	kv_str(w, "hostname", fi->http_host);
	kv_str(w, "url", fi->http_url);
	kv_str(w, "http_user_agent", fi->http_user_agent);
	kv_str(w, "http_method", fi->http_method);
	if (fi->http_status != 0)
		kv_u64(w, "status", fi->http_status);
	kv_str(w, "http_content_type", fi->http_content_type);
	jw_close(w, '}');
}

static void
put_dns(struct jw *w, const struct vg_flow_info *fi)
{
	const char *name;
	char buf[24];
	int query = is_set(fi->dns_query) || fi->dns_qtype != 0;

	if (!query && fi->dns_rcode < 0)
		return;
	jw_key(w, "dns");
	jw_open(w, '{');
	if (query) {
		jw_key(w, "query");
		jw_open(w, '[');
		jw_open(w, '{');
		kv_str(w, "rrname", fi->dns_query);
		if (fi->dns_qtype != 0) {
			jw_key(w, "rrtype");
			if ((name = dns_type_name(fi->dns_qtype)) != NULL) {
				jw_lit(w, name, strlen(name));
			} else {
				/* "TYPE" and the number (RFC 3597) */
				char *p = fmt_u64(buf + 4, fi->dns_qtype);
				size_t n = (size_t)(buf + sizeof(buf) - p);

				memmove(buf + 4, p, n);
				memcpy(buf, "TYPE", 4);
				jw_lit(w, buf, 4 + n);
			}
		}
		jw_close(w, '}');
		jw_close(w, ']');
	}
	if (fi->dns_rcode >= 0) {
		jw_key(w, "rcode");
		if ((name = dns_rcode_name(fi->dns_rcode)) != NULL)
			jw_lit(w, name, strlen(name));
		else
			jw_u64_str(w, (uint64_t)fi->dns_rcode);
	}
	jw_close(w, '}');
}

static void
put_ssh_side(struct jw *w, const char *key, const char *version)
{
	if (!is_set(version))
		return;
	jw_key(w, key);
	jw_open(w, '{');
	kv_str(w, "software_version", version);
	jw_close(w, '}');
}

static void
put_ssh(struct jw *w, const struct vg_flow_info *fi)
{
	if (!is_set(fi->ssh_client) && !is_set(fi->ssh_server))
		return;
	jw_key(w, "ssh");
	jw_open(w, '{');
	put_ssh_side(w, "client", fi->ssh_client);
	put_ssh_side(w, "server", fi->ssh_server);
	jw_close(w, '}');
}

/* "timestamp" first, as in every EVE record. */
static void
put_timestamp(struct jw *w, int64_t ts_us)
{
	jw_key(w, "timestamp");
	jw_time(w, ts_us);
}

/* The "vigil" object that closes every event. */
static void
put_vigil(struct jw *w, const struct vg_event_ctx *ctx, int64_t ts_us,
	  int tunneled, uint64_t count)
{
	char id[37];

	if (w->err != VG_OK)
		return; /* the event is lost anyway: keep the id */
	/* The id carries the event's own time, not the encoding time. */
	vg_uuid7(id, ts_us / 1000);
	jw_key(w, "vigil");
	jw_open(w, '{');
	jw_key(w, "event_id");
	jw_lit(w, id, 36);
	kv_str(w, "agent_id", ctx->agent_id);
	kv_str(w, "agency", ctx->agency);
	kv_str(w, "agent_version", ctx->version);
	if (tunneled) {
		jw_key(w, "tunneled");
		jw_true(w);
	}
	if (count)
		kv_u64(w, "count", count);
	jw_close(w, '}');
}

static void
put_strings(struct jw *w, const char *key, char *const *v, unsigned n)
{
	unsigned i;

	if (n == 0)
		return;
	jw_key(w, key);
	jw_open(w, '[');
	for (i = 0; i < n; i++)
		jw_str(w, v[i], strlen(v[i]));
	jw_close(w, ']');
}

/* The "alert" object: rule metadata, as Suricata lays it out. */
static void
put_alert(struct jw *w, const struct vg_alert_info *a)
{
	jw_key(w, "alert");
	jw_open(w, '{');
	kv_str(w, "action", is_set(a->action) ? a->action : "allowed");
	kv_u64(w, "gid", 1);
	kv_u64(w, "signature_id", a->signature_id);
	kv_u64(w, "rev", a->rev);
	kv_str(w, "signature", a->signature);
	kv_str(w, "category", a->category);
	kv_u64(w, "severity", a->severity);
	jw_key(w, "metadata");
	jw_open(w, '{');
	put_strings(w, "mitre_technique_id", a->mitre, a->n_mitre);
	put_strings(w, "tags", a->tags, a->n_tags);
	put_strings(w, "references", a->refs, a->n_refs);
	if (is_set(a->severity_name)) {
		jw_key(w, "severity_name");
		jw_open(w, '[');
		jw_str(w, a->severity_name, strlen(a->severity_name));
		jw_close(w, ']');
	}
	jw_close(w, '}');
	jw_close(w, '}');
}

static void
put_geo_side(struct jw *w, const char *key, const struct vg_geo *g)
{
	if (g == NULL || (g->country[0] == '\0' && g->asn == 0))
		return;
	jw_key(w, key);
	jw_open(w, '{');
	kv_str(w, "country_iso", g->country);
	if (g->asn)
		kv_u64(w, "asn", g->asn);
	kv_str(w, "as_org", g->as_org);
	jw_close(w, '}');
}

static void
put_geoip(struct jw *w, const struct vg_alert_info *a)
{
	const struct vg_geo *s = a->geo_src, *d = a->geo_dst;

	if ((s == NULL || (s->country[0] == '\0' && s->asn == 0)) &&
	    (d == NULL || (d->country[0] == '\0' && d->asn == 0)))
		return;
	jw_key(w, "geoip");
	jw_open(w, '{');
	put_geo_side(w, "src", s);
	put_geo_side(w, "dest", d);
	jw_close(w, '}');
}

/* A flow event, or an alert on the flow when a is not NULL. */
static enum vg_err
flow_event(struct vg_buf *out, const struct vg_event_ctx *ctx,
	   const struct vg_flow_info *fi, const struct vg_alert_info *a,
	   int64_t ts_us)
{
	struct jw w;
	const char *name;
	char cid[64];
	int af;

	if (out == NULL || ctx == NULL || fi == NULL)
		return VG_EINVAL;
	if (fi->ip_version == 4)
		af = AF_INET;
	else if (fi->ip_version == 6)
		af = AF_INET6;
	else
		return VG_EINVAL;

	jw_begin(&w, out);
	jw_open(&w, '{');
	put_timestamp(&w, ts_us);
	kv_u64(&w, "flow_id", fi->flow_id);
	jw_key(&w, "event_type");
	if (a != NULL)
		jw_lit(&w, "alert", 5);
	else
		jw_lit(&w, "flow", 4);
	if (fi->vlan != 0) {
		jw_key(&w, "vlan");
		jw_open(&w, '[');
		jw_u64(&w, fi->vlan);
		jw_close(&w, ']');
	}
	kv_ip(&w, "src_ip", af, fi->src_ip);
	if (has_ports(fi->proto))
		kv_u64(&w, "src_port", fi->src_port);
	kv_ip(&w, "dest_ip", af, fi->dst_ip);
	if (has_ports(fi->proto))
		kv_u64(&w, "dest_port", fi->dst_port);
	jw_key(&w, "proto");
	if ((name = proto_name(fi->proto)) != NULL)
		jw_lit(&w, name, strlen(name));
	else
		jw_u64_str(&w, fi->proto);
	if (fi->proto == PROTO_ICMP || fi->proto == PROTO_ICMPV6) {
		kv_u64(&w, "icmp_type", fi->icmp_type);
		kv_u64(&w, "icmp_code", fi->icmp_code);
	}
	kv_str(&w, "app_proto", fi->app_proto);
	/*
	 * The address family was checked above, so this fails only if
	 * libcrypto does; the spec then allows leaving the id out, which
	 * beats losing the flow.
	 */
	if (vg_community_id(cid, 0, fi) == VG_OK) {
		jw_key(&w, "community_id");
		jw_lit(&w, cid, strlen(cid));
	}
	kv_str(&w, "host", ctx->host);
	if (a != NULL)
		put_alert(&w, a);
	put_flow(&w, fi);
	if (fi->proto == PROTO_TCP)
		put_tcp(&w, fi);
	put_ndpi(&w, fi);
	put_tls(&w, fi);
	put_http(&w, fi);
	put_dns(&w, fi);
	put_ssh(&w, fi);
	if (a != NULL)
		put_geoip(&w, a);
	put_vigil(&w, ctx, ts_us, fi->tunneled != 0, a ? a->count : 0);
	jw_close(&w, '}');
	jw_raw(&w, "\n", 1);
	return jw_end(&w);
}

enum vg_err
vg_event_flow(struct vg_buf *out, const struct vg_event_ctx *ctx,
	      const struct vg_flow_info *fi, int64_t ts_us)
{
	return flow_event(out, ctx, fi, NULL, ts_us);
}

enum vg_err
vg_event_alert(struct vg_buf *out, const struct vg_event_ctx *ctx,
	       const struct vg_flow_info *fi, const struct vg_alert_info *a,
	       int64_t ts_us)
{
	if (a == NULL)
		return VG_EINVAL;
	return flow_event(out, ctx, fi, a, ts_us);
}

/*
 * File events
 */

static void
jw_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		jw_sep(w);
		jw_raw(w, "-", 1);
		w->comma = 0;
		/* -(v + 1) + 1 keeps INT64_MIN in range. */
		jw_u64(w, (uint64_t)(-(v + 1)) + 1);
	} else {
		jw_u64(w, (uint64_t)v);
	}
}

static void
put_file_meta(struct jw *w, const struct vg_file_rule *r)
{
	unsigned i;

	if (r->n_meta == 0)
		return;
	jw_key(w, "meta");
	jw_open(w, '{');
	for (i = 0; i < r->n_meta; i++) {
		const struct vg_file_meta *m = &r->meta[i];
		unsigned k;

		/* YARA allows a key twice (two "author"s); a JSON object may
		 * not have it twice (the collector refuses such events): the
		 * first value is kept. */
		for (k = 0; k < i; k++)
			if (strcmp(r->meta[k].key, m->key) == 0)
				break;
		if (k < i)
			continue;
		/* Keys come from rule files: escaped like any string. */
		jw_sep(w);
		w->comma = 0;
		jw_str(w, m->key, strlen(m->key));
		jw_raw(w, ":", 1);
		w->comma = 0;
		if (m->type == VG_META_STR)
			jw_str(w, m->str ? m->str : "",
			       m->str ? strlen(m->str) : 0);
		else if (m->type == VG_META_BOOL)
			jw_raw(w, m->num ? "true" : "false", m->num ? 4 : 5);
		else
			jw_i64(w, m->num);
		w->comma = 1;
	}
	jw_close(w, '}');
}

static void
put_file_match(struct jw *w, const struct vg_file_match *m)
{
	const struct vg_file_rule *r = m->rule;
	unsigned i, j;

	jw_open(w, '{');
	kv_str(w, "rule", r->name);
	kv_str(w, "namespace", r->ns);
	put_strings(w, "tags", r->tags, r->n_tags);
	put_file_meta(w, r);
	if (m->n_strings) {
		jw_key(w, "strings");
		jw_open(w, '[');
		for (i = 0; i < m->n_strings; i++) {
			const struct vg_file_string *st = &m->strings[i];

			jw_open(w, '{');
			kv_str(w, "id", st->id);
			kv_u64(w, "count", st->count);
			jw_key(w, "offsets");
			jw_open(w, '[');
			for (j = 0; j < st->n; j++)
				jw_u64(w, st->offsets[j]);
			jw_close(w, ']');
			jw_close(w, '}');
		}
		jw_close(w, ']');
	}
	jw_close(w, '}');
}

/* The "fileinfo" object, EVE's fields first. */
static void
put_fileinfo(struct jw *w, const struct vg_file_info *fi)
{
	char mode[8];
	unsigned i;

	jw_key(w, "fileinfo");
	jw_open(w, '{');
	kv_str(w, "filename", fi->filename);
	kv_str(w, "state", "CLOSED");
	jw_key(w, "stored");
	jw_raw(w, fi->quarantine_id ? "true" : "false",
	       fi->quarantine_id ? 4 : 5);
	w->comma = 1;
	kv_u64(w, "size", fi->size);
	kv_str(w, "sha256", fi->sha256);
	kv_u64(w, "uid", fi->uid);
	kv_u64(w, "gid", fi->gid);
	snprintf(mode, sizeof(mode), "%04o", fi->mode & 07777);
	kv_str(w, "mode", mode);
	if (fi->mtime_us) {
		jw_key(w, "mtime");
		jw_time(w, fi->mtime_us);
	}
	kv_str(w, "source", fi->source);
	if (fi->timed_out) {
		jw_key(w, "timed_out");
		jw_true(w);
	}
	kv_str(w, "ioc_list", fi->ioc_list);
	if (fi->n_matches) {
		jw_key(w, "yara");
		jw_open(w, '[');
		for (i = 0; i < fi->n_matches; i++)
			put_file_match(w, &fi->matches[i]);
		jw_close(w, ']');
	}
	if (fi->more_matches)
		kv_u64(w, "yara_more", fi->more_matches);
	if (fi->quarantine_id) {
		jw_key(w, "quarantine");
		jw_open(w, '{');
		kv_str(w, "id", fi->quarantine_id);
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static enum vg_err
file_event(struct vg_buf *out, const struct vg_event_ctx *ctx,
	   const struct vg_file_info *fi, const struct vg_alert_info *a,
	   int64_t ts_us)
{
	struct jw w;

	if (out == NULL || ctx == NULL || fi == NULL)
		return VG_EINVAL;
	jw_begin(&w, out);
	jw_open(&w, '{');
	put_timestamp(&w, ts_us);
	jw_key(&w, "event_type");
	if (a)
		jw_lit(&w, "alert", 5);
	else
		jw_lit(&w, "fileinfo", 8);
	kv_str(&w, "host", ctx->host);
	if (a)
		put_alert(&w, a);
	put_fileinfo(&w, fi);
	put_vigil(&w, ctx, ts_us, 0, a ? 1 : 0);
	jw_close(&w, '}');
	jw_raw(&w, "\n", 1);
	return jw_end(&w);
}

enum vg_err
vg_event_fileinfo(struct vg_buf *out, const struct vg_event_ctx *ctx,
		  const struct vg_file_info *fi, int64_t ts_us)
{
	return file_event(out, ctx, fi, NULL, ts_us);
}

enum vg_err
vg_event_file_alert(struct vg_buf *out, const struct vg_event_ctx *ctx,
		    const struct vg_file_info *fi,
		    const struct vg_file_match *m,
		    const struct vg_alert_info *a, int64_t ts_us)
{
	struct vg_alert_info ai;

	if (m == NULL && a == NULL)
		return VG_EINVAL;
	ai = m ? m->rule->alert : *a;
	if (fi->quarantine_id)
		ai.action = "blocked";
	return file_event(out, ctx, fi, &ai, ts_us);
}

enum vg_err
vg_event_agent(struct vg_buf *out, const struct vg_event_ctx *ctx,
	       const char *action, const char *status, const char *text,
	       int64_t ts_us)
{
	struct jw w;
	const char *p = text, *nl;

	if (out == NULL || ctx == NULL || action == NULL || status == NULL)
		return VG_EINVAL;
	jw_begin(&w, out);
	jw_open(&w, '{');
	put_timestamp(&w, ts_us);
	jw_key(&w, "event_type");
	jw_lit(&w, "agent", 5);
	kv_str(&w, "host", ctx->host);
	jw_key(&w, "agent");
	jw_open(&w, '{');
	kv_str(&w, "action", action);
	kv_str(&w, "status", status);
	kv_str(&w, "level", strcmp(status, "failed") == 0 ? "error" : "info");
	if (is_set(text)) {
		jw_key(&w, "messages");
		jw_open(&w, '[');
		while (p && *p) {
			nl = strchr(p, '\n');
			jw_str(&w, p, nl ? (size_t)(nl - p) : strlen(p));
			p = nl ? nl + 1 : NULL;
		}
		jw_close(&w, ']');
	}
	jw_close(&w, '}');
	put_vigil(&w, ctx, ts_us, 0, 0);
	jw_close(&w, '}');
	jw_raw(&w, "\n", 1);
	return jw_end(&w);
}

/*
 * Stats event
 */

struct comp {
	const char *p;
	size_t len;
};

static int
comp_eq(const struct comp *a, const struct comp *b)
{
	return a->p != NULL && b->p != NULL && a->len == b->len &&
	       memcmp(a->p, b->p, a->len) == 0;
}

/* Split a dotted key into 1 to STATS_MAX_DEPTH non-empty components. */
static enum vg_err
split_key(const char *key, struct comp c[STATS_MAX_DEPTH], size_t *nc)
{
	const char *p = key, *dot;
	size_t n = 0;

	if (key == NULL)
		return VG_EINVAL;
	for (;;) {
		if (n == STATS_MAX_DEPTH)
			return VG_EINVAL;
		dot = strchr(p, '.');
		c[n].p = p;
		c[n].len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (c[n].len == 0)
			return VG_EINVAL;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	*nc = n;
	return VG_OK;
}

static void
jw_key_comp(struct jw *w, const struct comp *c)
{
	jw_str(w, c->p, c->len);
	jw_raw(w, ":", 1);
	w->comma = 0;
}

/*
 * Write the counters of kv as nested objects. open[] holds the objects
 * now open below "stats"; last[d] is the name most recently written at
 * depth d in the current parent. Because the caller keeps keys that share
 * a prefix together, a repeated name can only show up as the previous
 * sibling: checking it refuses duplicate keys ("a.b" twice, or "a" next to
 * "a.b") that would make the line invalid for strict parsers.
 */
static void
put_stats_tree(struct jw *w, const struct vg_stat_kv *kv, size_t n)
{
	struct comp open[STATS_MAX_DEPTH], last[STATS_MAX_DEPTH + 1];
	struct comp c[STATS_MAX_DEPTH];
	size_t i, depth = 0, nc, m;

	memset(last, 0, sizeof(last));
	last[0].p = "uptime";
	last[0].len = 6;
	for (i = 0; i < n && w->err == VG_OK; i++) {
		if (split_key(kv[i].key, c, &nc) != VG_OK) {
			w->err = VG_EINVAL;
			return;
		}
		/* Keep the objects this key shares with the previous one. */
		for (m = 0; m < depth && m < nc - 1; m++)
			if (!comp_eq(&open[m], &c[m]))
				break;
		for (; depth > m; depth--)
			jw_close(w, '}');
		for (; depth < nc - 1; depth++) {
			if (comp_eq(&last[depth], &c[depth])) {
				w->err = VG_EINVAL;
				return;
			}
			jw_key_comp(w, &c[depth]);
			jw_open(w, '{');
			open[depth] = last[depth] = c[depth];
			last[depth + 1].p = NULL;
		}
		if (comp_eq(&last[depth], &c[depth])) {
			w->err = VG_EINVAL;
			return;
		}
		last[depth] = c[depth];
		jw_key_comp(w, &c[depth]);
		jw_u64(w, kv[i].value);
	}
	for (; depth > 0; depth--)
		jw_close(w, '}');
}

enum vg_err
vg_event_stats(struct vg_buf *out, const struct vg_event_ctx *ctx,
	       const struct vg_stat_kv *kv, size_t n, double uptime_s,
	       int64_t ts_us)
{
	struct jw w;
	uint64_t uptime = 0;

	if (out == NULL || ctx == NULL || (kv == NULL && n != 0))
		return VG_EINVAL;
	/* Whole seconds; NaN and negatives are 0, and the cast stays
	 * defined (2^64 is exact in a double). */
	if (uptime_s >= 18446744073709551616.0)
		uptime = UINT64_MAX;
	else if (uptime_s >= 1.0)
		uptime = (uint64_t)uptime_s;

	jw_begin(&w, out);
	jw_open(&w, '{');
	put_timestamp(&w, ts_us);
	jw_key(&w, "event_type");
	jw_lit(&w, "stats", 5);
	kv_str(&w, "host", ctx->host);
	jw_key(&w, "stats");
	jw_open(&w, '{');
	kv_u64(&w, "uptime", uptime);
	put_stats_tree(&w, kv, n);
	jw_close(&w, '}');
	put_vigil(&w, ctx, ts_us, 0, 0);
	jw_close(&w, '}');
	jw_raw(&w, "\n", 1);
	return jw_end(&w);
}

/*
 * Community ID v1
 *
 * https://github.com/corelight/community-id-spec. SHA-1 over
 *
 *	 0      2         2+a       2+2a   +1     +2       +4      +6
 *	+------+---------+---------+------+------+--------+--------+
 *	| seed | addr 1  | addr 2  |proto | 0    | port 1 | port 2 |
 *	+------+---------+---------+------+------+--------+--------+
 *
 * all in network byte order, a = 4 or 16, ports only for TCP, UDP, SCTP,
 * ICMP and ICMPv6. Endpoint 1 is the smaller (address, port) pair, so both
 * directions of a flow get the same id. ICMP has no ports: the type stands
 * for the source port, and for the destination port either the type of the
 * matching reply or request (a two-way exchange such as echo) or the code
 * (a one-way message, such as an error, whose endpoints are never swapped).
 * The pairs are those of the spec's reference implementation, taken from
 * Zeek.
 */

static const uint8_t icmp4_pairs[][2] = {
    {8, 0},   /* echo request, reply */
    {13, 14}, /* timestamp */
    {15, 16}, /* information */
    {10, 9},  /* router solicitation, advertisement */
    {17, 18}, /* address mask */
};

static const uint8_t icmp6_pairs[][2] = {
    {128, 129}, /* echo request, reply */
    {130, 131}, /* multicast listener query, report */
    {133, 134}, /* router solicitation, advertisement */
    {135, 136}, /* neighbor solicitation, advertisement */
    {139, 140}, /* node information query, reply */
    {144, 145}, /* home agent address discovery request, reply */
};

/* The other half of type's two-way exchange in *peer, or 0: one-way. */
static int
icmp_counterpart(const uint8_t (*pairs)[2], size_t n, uint8_t type,
		 uint16_t *peer)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (pairs[i][0] == type) {
			*peer = pairs[i][1];
			return 1;
		}
		if (pairs[i][1] == type) {
			*peer = pairs[i][0];
			return 1;
		}
	}
	return 0;
}

static size_t
put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

/*
 * SHA-1 for Community ID, fetched from OpenSSL's provider once: EVP_sha1()
 * makes every EVP_Digest() fetch it again under a global lock that the
 * workers would contend for. Kept for the life of the process.
 */
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void
sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

enum vg_err
vg_community_id(char out[64], uint16_t seed, const struct vg_flow_info *fi)
{
	unsigned char in[2 + 16 + 16 + 2 + 4], md[EVP_MAX_MD_SIZE];
	const uint8_t *a, *b, *t;
	uint16_t pa = 0, pb = 0, pt;
	unsigned mdlen = 0;
	size_t alen, n = 0;
	int ports = 1, one_way = 0, c;

	out[0] = '\0';
	if (fi == NULL)
		return VG_EINVAL;
	if (fi->ip_version == 4)
		alen = 4;
	else if (fi->ip_version == 6)
		alen = 16;
	else
		return VG_EINVAL;

	switch (fi->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		pa = fi->src_port;
		pb = fi->dst_port;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		pa = fi->icmp_type;
		if (fi->proto == PROTO_ICMP)
			one_way = !icmp_counterpart(icmp4_pairs,
						    VG_ARRAY_LEN(icmp4_pairs),
						    fi->icmp_type, &pb);
		else
			one_way = !icmp_counterpart(icmp6_pairs,
						    VG_ARRAY_LEN(icmp6_pairs),
						    fi->icmp_type, &pb);
		if (one_way)
			pb = fi->icmp_code;
		break;
	default:
		ports = 0;
		break;
	}

	a = fi->src_ip;
	b = fi->dst_ip;
	if (!one_way) {
		c = memcmp(a, b, alen);
		if (c > 0 || (c == 0 && pa > pb)) {
			t = a;
			a = b;
			b = t;
			pt = pa;
			pa = pb;
			pb = pt;
		}
	}
	n += put_be16(in + n, seed);
	memcpy(in + n, a, alen);
	n += alen;
	memcpy(in + n, b, alen);
	n += alen;
	in[n++] = fi->proto;
	in[n++] = 0;
	if (ports) {
		n += put_be16(in + n, pa);
		n += put_be16(in + n, pb);
	}

	pthread_once(&sha1_once, sha1_fetch);
	if (sha1_md == NULL ||
	    EVP_Digest(in, n, md, &mdlen, sha1_md, NULL) != 1 || mdlen != 20)
		return VG_EIO;
	memcpy(out, "1:", 2);
	/* 20 bytes make 28 base64 characters and a NUL: fits in 64. */
	(void)EVP_EncodeBlock((unsigned char *)out + 2, md, 20);
	return VG_OK;
}

/*
 * UUIDv7 (RFC 9562, section 5.7)
 *
 *	 0                   1                   2                   3
 *	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *	|                           unix_ts_ms                          |
 *	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *	|          unix_ts_ms           |  ver  |       rand_a          |
 *	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *	|var|                        rand_b                             |
 *	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *	|                            rand_b                             |
 *	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * rand_a is a counter (the RFC's method 1): it starts at a random value
 * below 0x800 in each new millisecond and counts up while the millisecond
 * repeats, so one thread's ids sort in the order they were made. Should it
 * run out, the timestamp moves one millisecond ahead, as section 6.2
 * allows. rand_b is fresh randomness for every id.
 */

#define UUID_MS_MAX ((INT64_C(1) << 48) - 1)

struct uuid_state {
	uint64_t s[4];  /* xoshiro256** */
	int64_t ms_in;  /* last unix_ms asked for */
	int64_t ms_out; /* last timestamp written (>= ms_in) */
	unsigned counter;
	int seeded;
};

static _Thread_local struct uuid_state uuid_st;
static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;

/* A forked child would repeat its parent's ids: make it reseed. Only the
 * forking thread lives on in the child, so its state is the one to drop. */
static void
uuid_atfork_child(void)
{
	uuid_st.seeded = 0;
}

static void
uuid_register_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, uuid_atfork_child);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): fast, 256 bits of state. */
static uint64_t
uuid_next(struct uuid_state *st)
{
	uint64_t *s = st->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* splitmix64: spreads a weak seed over the state's words. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
uuid_seed(struct uuid_state *st)
{
	uint64_t x;
	ssize_t r;
	size_t i;

	(void)pthread_once(&uuid_once, uuid_register_atfork);
	/* Flags 0: this waits, once per thread, if the kernel's pool is not
	 * ready yet (early boot), rather than hand out guessable ids. */
	do
		r = getrandom(st->s, sizeof(st->s), 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(st->s)) {
		/* No getrandom (old kernel, seccomp): ids must still differ
		 * between threads and processes, if not be unpredictable. */
		x = (uint64_t)vg_now_wall_us() ^
		    ((uint64_t)vg_now_mono_us() << 32) ^
		    (uint64_t)(uintptr_t)st ^ ((uint64_t)getpid() << 16);
		for (i = 0; i < VG_ARRAY_LEN(st->s); i++)
			st->s[i] = splitmix64(&x);
	}
	if ((st->s[0] | st->s[1] | st->s[2] | st->s[3]) == 0)
		st->s[0] = 1; /* the one state xoshiro cannot leave */
	st->ms_in = st->ms_out = -1;
	st->counter = 0;
	st->seeded = 1;
}

void
vg_uuid7(char out[37], int64_t unix_ms)
{
	static const char hex[] = "0123456789abcdef";
	struct uuid_state *st = &uuid_st;
	unsigned char u[16];
	uint64_t ms, rb;
	size_t i, j;

	if (!st->seeded)
		uuid_seed(st);
	if (unix_ms < 0)
		unix_ms = 0;
	if (unix_ms > UUID_MS_MAX)
		unix_ms = UUID_MS_MAX;
	if (unix_ms >= st->ms_in && unix_ms <= st->ms_out) {
		/* Same millisecond, or one we already moved ahead into. */
		if (++st->counter > 0xfff) {
			if (st->ms_out < UUID_MS_MAX)
				st->ms_out++;
			st->counter = (unsigned)(uuid_next(st) & 0x7ff);
		}
	} else {
		st->ms_out = unix_ms;
		st->counter = (unsigned)(uuid_next(st) & 0x7ff);
	}
	st->ms_in = unix_ms;

	ms = (uint64_t)st->ms_out;
	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | (st->counter >> 8));
	u[7] = (unsigned char)st->counter;
	rb = uuid_next(st);
	for (i = 8; i < 16; i++)
		u[i] = (unsigned char)(rb >> (8 * (15 - i)));
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));

	for (i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 0xf];
	}
	out[j] = '\0';
}
