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

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOST   255 /* RFC 5424 HOSTNAME */
#define MAX_MSGID  32
#define MAX_HEADER 512

struct frame {
	char *buf; /* "LEN SP MSG", owned */
	size_t len;
};

struct vc_forward {
	const struct vc_config *cfg;
	char host[256], port[8];
	SSL_CTX *ctx;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct frame *q;
	size_t cap, head, n;
	int stop;
	pthread_t tid;
	int started;

	int fd;
	SSL *ssl;
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
log_ssl(struct vc_forward *f, const char *what)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	if (vg_ratelimit_ok(&f->rl, 5, 60))
		vg_log(LOG_WARNING, "forward: %s:%s: %s: %s", f->host, f->port,
		       what, buf[0] ? buf : "failed");
}

static void
disconnect(struct vc_forward *f)
{
	if (f->ssl) {
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	atomic_store(&f->connected, 0);
}

static int
is_ip(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

static int
tls_start(struct vc_forward *f)
{
	const char *name =
	    f->cfg->forward_server_name ? f->cfg->forward_server_name : f->host;

	f->ssl = SSL_new(f->ctx);
	if (f->ssl == NULL || !SSL_set_fd(f->ssl, f->fd)) {
		log_ssl(f, "TLS setup");
		return -1;
	}
	if (!is_ip(name)) {
		char sni[256];

		/* The macro casts away const: hand it a copy. */
		snprintf(sni, sizeof(sni), "%s", name);
		if (!SSL_set_tlsext_host_name(f->ssl, sni)) {
			log_ssl(f, "TLS server name");
			return -1;
		}
	}
	if (f->cfg->forward_tls_verify) {
		if (is_ip(name) ? !X509_VERIFY_PARAM_set1_ip_asc(
				      SSL_get0_param(f->ssl), name)
				: !SSL_set1_host(f->ssl, name)) {
			log_ssl(f, "TLS server name");
			return -1;
		}
	}
	if (SSL_connect(f->ssl) != 1) {
		long v = SSL_get_verify_result(f->ssl);

		if (v != X509_V_OK && vg_ratelimit_ok(&f->rl, 5, 60))
			vg_log(LOG_WARNING, "forward: %s:%s: certificate: %s",
			       f->host, f->port,
			       X509_verify_cert_error_string(v));
		log_ssl(f, "TLS handshake");
		return -1;
	}
	return 0;
}

/* Connect (TCP, then TLS when configured): 0 or -1 (logged). */
static int
try_connect(struct vc_forward *f)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	struct timeval tv = {VC_FORWARD_IO_TIMEOUT_S, 0};
	int rc, one = 1, err = 0;

	rc = getaddrinfo(f->host, f->port, &hints, &res);
	if (rc != 0) {
		if (vg_ratelimit_ok(&f->rl, 5, 60))
			vg_log(LOG_WARNING, "forward: %s: %s", f->host,
			       gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		f->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (f->fd < 0) {
			err = errno;
			continue;
		}
		/* SO_SNDTIMEO bounds connect() too on Linux. */
		(void)setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				 sizeof(tv));
		(void)setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				 sizeof(tv));
		(void)setsockopt(f->fd, SOL_SOCKET, SO_KEEPALIVE, &one,
				 sizeof(one));
		if (connect(f->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(f->fd);
		f->fd = -1;
	}
	freeaddrinfo(res);
	if (f->fd < 0) {
		if (vg_ratelimit_ok(&f->rl, 5, 60))
			vg_log(LOG_WARNING, "forward: %s:%s: connect: %s",
			       f->host, f->port, strerror(err));
		return -1;
	}
	if (f->ctx && tls_start(f) < 0) {
		disconnect(f);
		return -1;
	}
	atomic_store(&f->connected, 1);
	vg_log(LOG_INFO, "forward: connected to %s:%s%s", f->host, f->port,
	       f->ctx ? " (TLS)" : "");
	return 0;
}

/*
 * A SIEM never writes to us: a readable socket means it closed (or
 * reset) the connection, or, with TLS, sent a record such as a session
 * ticket. 0: still usable; -1: gone.
 */
static int
still_open(struct vc_forward *f)
{
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	char buf[512];
	ssize_t n;
	int fl, rc, e;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -1;
	if (f->ssl == NULL) {
		n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
		return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)
			   ? -1
			   : 0;
	}
	fl = fcntl(f->fd, F_GETFL);
	(void)fcntl(f->fd, F_SETFL, fl | O_NONBLOCK);
	rc = SSL_read(f->ssl, buf, sizeof(buf));
	e = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(f->ssl, rc);
	(void)fcntl(f->fd, F_SETFL, fl);
	ERR_clear_error();
	return e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ ||
		       e == SSL_ERROR_WANT_WRITE
		   ? 0
		   : -1;
}

/* Write the whole frame: 0 or -1. */
static int
send_frame(struct vc_forward *f, const struct frame *fr)
{
	size_t off = 0;
	ssize_t n;

	if (still_open(f) < 0)
		return -1;
	if (f->ssl) {
		/* Blocking socket, no partial writes: all or an error. */
		if (SSL_write(f->ssl, fr->buf, (int)fr->len) != (int)fr->len) {
			log_ssl(f, "TLS write");
			return -1;
		}
		return 0;
	}
	while (off < fr->len) {
		n = send(f->fd, fr->buf + off, fr->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (vg_ratelimit_ok(&f->rl, 5, 60))
				vg_log(LOG_WARNING, "forward: %s:%s: send: %s",
				       f->host, f->port,
				       n < 0 ? strerror(errno) : "closed");
			return -1;
		}
		off += (size_t)n;
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
		if ((f->fd >= 0 || try_connect(f) == 0) &&
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

static enum vg_err
tls_context(struct vc_forward *f, char *err, size_t errlen)
{
	const struct vc_config *c = f->cfg;
	char buf[256] = "";
	const char *what;

	f->ctx = SSL_CTX_new(TLS_client_method());
	what = "TLS context";
	if (f->ctx == NULL ||
	    !SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION))
		goto fail;
	SSL_CTX_set_mode(f->ctx, SSL_MODE_AUTO_RETRY);
	what = c->forward_ca_file ? c->forward_ca_file : "system CA store";
	if (c->forward_ca_file ? !SSL_CTX_load_verify_locations(
				     f->ctx, c->forward_ca_file, NULL)
			       : !SSL_CTX_set_default_verify_paths(f->ctx))
		goto fail;
	SSL_CTX_set_verify(
	    f->ctx, c->forward_tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    NULL);
	if (c->forward_cert_file) {
		what = c->forward_cert_file;
		if (!SSL_CTX_use_certificate_chain_file(f->ctx,
							c->forward_cert_file))
			goto fail;
		what = c->forward_key_file;
		if (!SSL_CTX_use_PrivateKey_file(f->ctx, c->forward_key_file,
						 SSL_FILETYPE_PEM) ||
		    !SSL_CTX_check_private_key(f->ctx))
			goto fail;
	}
	return VG_OK;
fail:
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	ERR_clear_error();
	vg_seterr(err, errlen, "forward: %s: %s", what,
		  buf[0] ? buf : "failed");
	return VG_EINVAL;
}

/* "host:port" or "[v6]:port" (checked by config.c) into f->host, port. */
static enum vg_err
split_address(struct vc_forward *f, const char *a, char *err, size_t errlen)
{
	const char *colon = strrchr(a, ':');
	size_t hl = colon ? (size_t)(colon - a) : 0;
	const char *h = a;

	if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (colon == NULL || hl == 0 || hl >= sizeof(f->host) ||
	    strlen(colon + 1) >= sizeof(f->port)) {
		vg_seterr(err, errlen, "forward: bad address %s", a);
		return VG_EINVAL;
	}
	memcpy(f->host, h, hl);
	f->host[hl] = '\0';
	snprintf(f->port, sizeof(f->port), "%s", colon + 1);
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
	f->fd = -1;
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
		rc = tls_context(f, err, errlen);
		if (rc != VG_OK)
			goto fail;
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
	SSL_CTX_free(f->ctx);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
