/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwarding to a SIEM (see forward.h): a bounded queue of ready-made
 * frames, filled by vc_forward_event() in the consumer's thread and
 * drained by one sender thread over TCP or TLS.
 *
 * A frame is built when queued, so the sender only writes bytes and a
 * failed send is retried with exactly the same frame. The queue holds
 * at most cfg->forward_queue frames; the sender peeks at the head and
 * pops it only once it is written.
 */
#include "forward.h"

#include "log.h"
#include "net.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HOST   255 /* RFC 5424 HOSTNAME */
#define MAX_MSGID  32
#define MAX_HEADER 512

struct frame {
	char *buf; /* "LEN SP MSG", owned */
	size_t len;
};

struct vc_forward {
	const struct vc_config *cfg;
	char host[256];
	unsigned port;
	struct vg_tls *tls; /* NULL: plain TCP */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct frame *q;
	size_t cap, head, n;
	int stop;
	pthread_t tid;
	int started;

	struct vg_conn *conn; /* NULL: not connected */
	_Atomic uint64_t sent, dropped, errors;
	atomic_int connected;
	struct vg_ratelimit rl;
};

/*
 * Frames.
 */

/* Copy the printable, space-free ASCII of s (at most max bytes) or "-". */
static void
put_token(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t n = 0;

	if (s)
		for (; s[n] && n < max && n + 1 < dstlen; n++)
			if (s[n] < 33 || s[n] > 126)
				break;
	if (s == NULL || n == 0 || s[n] != '\0') {
		snprintf(dst, dstlen, "-");
		return;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * The event's timestamp as RFC 3339: the agent writes
 * 2026-12-01T08:00:00.123456+0000, which needs a colon in the offset.
 * Anything else unexpected: now, in UTC.
 */
static void
put_timestamp(char *dst, size_t dstlen, const char *ts)
{
	size_t n = ts ? strlen(ts) : 0, i;
	struct timespec now;
	struct tm tm;

	if (n >= 20 && n <= 40 && ts[4] == '-' && ts[7] == '-' &&
	    ts[10] == 'T' && ts[13] == ':' && ts[16] == ':') {
		for (i = 0; i < n; i++)
			if (strchr("0123456789-:T.+Z", ts[i]) == NULL)
				break;
		if (i == n && ts[n - 1] == 'Z') {
			snprintf(dst, dstlen, "%s", ts);
			return;
		}
		if (i == n && n >= 25 &&
		    (ts[n - 5] == '+' || ts[n - 5] == '-') &&
		    strchr(ts + n - 4, ':') == NULL) {
			snprintf(dst, dstlen, "%.*s%.2s:%.2s", (int)(n - 4), ts,
				 ts + n - 4, ts + n - 2);
			return;
		}
		if (i == n && n >= 26 && ts[n - 3] == ':' &&
		    (ts[n - 6] == '+' || ts[n - 6] == '-')) {
			snprintf(dst, dstlen, "%s", ts);
			return;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(dst, dstlen, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
}

static unsigned
severity(const char *type, json_t *ev)
{
	json_int_t s;

	if (strcmp(type, "alert") != 0)
		return 5; /* notice */
	s = json_integer_value(
	    json_object_get(json_object_get(ev, "alert"), "severity"));
	switch (s) {
	case 1:
		return 2; /* crit */
	case 2:
		return 3; /* err */
	case 3:
		return 4; /* warning */
	default:
		return 6; /* info: 4 and anything else */
	}
}

static int
wanted(const struct vc_config *cfg, const char *type)
{
	for (unsigned i = 0; i < cfg->n_forward_types; i++)
		if (strcmp(cfg->forward_types[i], type) == 0)
			return 1;
	return 0;
}

/* The frame for one event: 0, 1 (not a forwarded type), -1 (memory). */
static int
build_frame(const struct vc_forward *f, const char *eve, size_t len,
	    struct frame *fr)
{
	char head[MAX_HEADER], host[MAX_HOST + 1], ts[96], msgid[MAX_MSGID + 1];
	const char *type;
	json_t *ev;
	size_t hl, ml;
	int n, pre, rc = 1;

	ev = json_loadb(eve, len, 0, NULL);
	type = json_string_value(json_object_get(ev, "event_type"));
	if (type == NULL || !wanted(f->cfg, type))
		goto out;
	put_token(host, sizeof(host),
		  json_string_value(json_object_get(ev, "host")), MAX_HOST);
	put_token(msgid, sizeof(msgid), type, MAX_MSGID);
	put_timestamp(ts, sizeof(ts),
		      json_string_value(json_object_get(ev, "timestamp")));
	n = snprintf(head, sizeof(head), "<%u>1 %s %s %s - %s - ",
		     f->cfg->forward_facility * 8 + severity(type, ev), ts,
		     host, f->cfg->forward_app_name, msgid);
	if (n < 0 || (size_t)n >= sizeof(head))
		goto out;
	hl = (size_t)n;
	ml = hl + len;
	pre = snprintf(NULL, 0, "%zu ", ml);
	rc = -1;
	fr->buf = malloc((size_t)pre + ml + 1);
	if (fr->buf == NULL)
		goto out;
	snprintf(fr->buf, (size_t)pre + 1, "%zu ", ml);
	memcpy(fr->buf + pre, head, hl);
	memcpy(fr->buf + pre + hl, eve, len);
	fr->len = (size_t)pre + ml;
	rc = 0;
out:
	json_decref(ev);
	return rc;
}

void
vc_forward_event(struct vc_forward *f, const char *eve, size_t len)
{
	struct frame fr;
	int rc;

	if (f == NULL)
		return;
	rc = build_frame(f, eve, len, &fr);
	if (rc > 0)
		return;
	if (rc < 0) {
		atomic_fetch_add(&f->dropped, 1);
		return;
	}
	pthread_mutex_lock(&f->mu);
	if (f->n == f->cap) {
		pthread_mutex_unlock(&f->mu);
		free(fr.buf);
		atomic_fetch_add(&f->dropped, 1);
		return;
	}
	f->q[(f->head + f->n) % f->cap] = fr;
	f->n++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/*
 * Connection.
 */

static void
disconnect(struct vc_forward *f)
{
	vg_conn_close(f->conn);
	f->conn = NULL;
	atomic_store(&f->connected, 0);
}

static void
warn(struct vc_forward *f, const char *msg)
{
	if (vg_ratelimit_ok(&f->rl, 5, 60))
		vg_log(LOG_WARNING, "forward: %s", msg);
}

/* Connect (TCP, then TLS when configured): 0 or -1 (logged). */
static int
try_connect(struct vc_forward *f)
{
	char err[512];

	if (vg_conn_open(&f->conn, f->host, f->port, NULL, f->tls,
			 f->cfg->forward_server_name,
			 VC_FORWARD_IO_TIMEOUT_S * 1000, NULL, err,
			 sizeof(err)) != VG_OK) {
		f->conn = NULL;
		warn(f, err);
		return -1;
	}
	atomic_store(&f->connected, 1);
	vg_log(LOG_INFO, "forward: connected to %s%s", vg_conn_peer(f->conn),
	       f->tls ? " (TLS)" : "");
	return 0;
}

/*
 * Write the whole frame: 0 or -1. A SIEM never writes to us, so one that
 * closed the connection is noticed before the frame is lost into it.
 */
static int
send_frame(struct vc_forward *f, const struct frame *fr)
{
	char err[512];

	if (vg_conn_closed(f->conn))
		return -1;
	if (vg_conn_write(f->conn, fr->buf, fr->len,
			  VC_FORWARD_IO_TIMEOUT_S * 1000, err,
			  sizeof(err)) != VG_OK) {
		warn(f, err);
		return -1;
	}
	return 0;
}

/* Wait ms or until stopped (mu held): nonzero when stopping. */
static int
wait_ms(struct vc_forward *f, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!f->stop)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	return f->stop;
}

static void *
sender_main(void *arg)
{
	struct vc_forward *f = arg;
	unsigned backoff = VC_FORWARD_BACKOFF_MIN_MS;
	struct frame fr;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		if (f->n == 0) {
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		fr = f->q[f->head];
		pthread_mutex_unlock(&f->mu);
		if ((f->conn != NULL || try_connect(f) == 0) &&
		    send_frame(f, &fr) == 0) {
			backoff = VC_FORWARD_BACKOFF_MIN_MS;
			atomic_fetch_add(&f->sent, 1);
			pthread_mutex_lock(&f->mu);
			f->head = (f->head + 1) % f->cap;
			f->n--;
			free(fr.buf);
			continue;
		}
		/* Keep the frame at the head: it is sent again. */
		atomic_fetch_add(&f->errors, 1);
		disconnect(f);
		pthread_mutex_lock(&f->mu);
		if (wait_ms(f, backoff))
			break;
		backoff = backoff >= VC_FORWARD_BACKOFF_MAX_MS / 2
			      ? VC_FORWARD_BACKOFF_MAX_MS
			      : backoff * 2;
	}
	pthread_mutex_unlock(&f->mu);
	disconnect(f);
	return NULL;
}

/*
 * Life cycle.
 */

/* "host:port" or "[v6]:port" (checked by config.c) into f->host, port. */
static enum vg_err
split_address(struct vc_forward *f, const char *a, char *err, size_t errlen)
{
	const char *colon = strrchr(a, ':');
	size_t hl = colon ? (size_t)(colon - a) : 0;
	const char *h = a;
	unsigned long port;
	char *end;

	if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
		h++;
		hl -= 2;
	}

	if (colon == NULL || hl == 0 || hl >= sizeof(f->host) ||
	    (port = strtoul(colon + 1, &end, 10)) == 0 || port > 65535 ||
	    *end != '\0') {
		vg_seterr(err, errlen, "forward: bad address %s", a);
		return VG_EINVAL;
	}
	memcpy(f->host, h, hl);
	f->host[hl] = '\0';
	f->port = (unsigned)port;
	return VG_OK;
}

enum vg_err
vc_forward_new(struct vc_forward **out, const struct vc_config *cfg, char *err,
	       size_t errlen)
{
	struct vc_forward *f = calloc(1, sizeof(*f));
	enum vg_err rc = VG_ENOMEM;
	int e;

	if (f == NULL)
		return VG_ENOMEM;
	f->cfg = cfg;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->cap = cfg->forward_queue;
	f->q = vg_calloc(f->cap, sizeof(*f->q));
	if (f->q == NULL)
		goto fail;
	rc = split_address(f, cfg->forward_address, err, errlen);
	if (rc != VG_OK)
		goto fail;
	if (cfg->forward_tls) {
		char why[512];

		rc = vg_tls_new(&f->tls, cfg->forward_ca_file,
				cfg->forward_cert_file, cfg->forward_key_file,
				cfg->forward_tls_verify, why, sizeof(why));
		if (rc != VG_OK) {
			vg_seterr(err, errlen, "forward: %s", why);
			goto fail;
		}
	}
	e = pthread_create(&f->tid, NULL, sender_main, f);
	if (e != 0) {
		vg_seterr(err, errlen, "forward: thread: %s", strerror(e));
		rc = VG_ENOMEM;
		goto fail;
	}
	f->started = 1;
	*out = f;
	return VG_OK;
fail:
	vc_forward_free(f);
	return rc;
}

void
vc_forward_stats(struct vc_forward *f, struct vc_forward_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return;
	st->sent = atomic_load(&f->sent);
	st->dropped = atomic_load(&f->dropped);
	st->errors = atomic_load(&f->errors);
	st->connected = atomic_load(&f->connected);
	pthread_mutex_lock(&f->mu);
	st->queued = f->n;
	pthread_mutex_unlock(&f->mu);
}

void
vc_forward_free(struct vc_forward *f)
{
	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->tid, NULL);
	}
	for (size_t i = 0; f->q && i < f->n; i++) {
		free(f->q[(f->head + i) % f->cap].buf);
		atomic_fetch_add(&f->dropped, 1);
	}
	free(f->q);
	vg_tls_free(f->tls);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
