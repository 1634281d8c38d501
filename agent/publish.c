/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis publisher (see publish.h).
 *
 * One thread sends. Each round it takes the durable records at the spool's
 * read position (in order, up to output.redis.batch) and then best-effort
 * events from the memory queue, pipelines their XADDs, and acknowledges to
 * the spool the longest run of durable records, from the first, that Redis
 * accepted: a record after a refused one is sent again later (a duplicate
 * at worst), never skipped. Appended records become readable once synced;
 * when the spool has unsynced records and nothing else to send, this
 * thread syncs it itself, so an alert waits for one fsync, not a timer.
 */
#define _GNU_SOURCE
#include "publish.h"

#include "log.h"
#include "redis.h"
#include "spool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_STREAM "vigil:events:{AGENCY}"
#define MAX_KEY        512
#define MEM_MAX_BYTES  (64u << 20) /* best-effort events held at most */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000
#define SPOOL_SYNC_MS  50

/* A best-effort event waiting in memory. */
struct item {
	struct item *next;
	size_t len;
	char data[];
};

struct vg_publish {
	const struct vg_config *cfg;
	struct vg_spool *spool;
	struct vg_redis_opts ro;
	char *password; /* from password_file (owned) */
	char key[MAX_KEY];
	size_t key_len;
	char maxlen[24];

	pthread_t thread;
	bool started;
	atomic_bool stop;

	pthread_mutex_t mu; /* the memory queue, counters, wake-up */
	pthread_cond_t work;
	struct item *head, *tail;
	size_t mem_items, mem_bytes, mem_max;
	bool inflight;          /* a batch is being sent */
	uint64_t last_appended; /* seq of the last durable append */
	bool appended_any;
	struct vg_publish_stats st;

	/* sender thread only */
	struct vg_redis *r;
	unsigned backoff_ms;
	char last_error[512];
	int64_t last_error_us;
};

bool
vg_publish_stream_key(const struct vg_config *cfg, char *out, size_t outlen)
{
	const char *t = cfg->redis_stream ? cfg->redis_stream : DEFAULT_STREAM;
	size_t n = 0;

	while (*t) {
		const char *v = NULL;
		size_t vl = 0, skip = 1;

		if (strncmp(t, "AGENCY", 6) == 0) {
			v = cfg->agency;
			skip = 6;
		} else if (strncmp(t, "AGENT_ID", 8) == 0) {
			v = cfg->agent_id;
			skip = 8;
		}
		if (v) {
			vl = strlen(v);
			if (n + vl >= outlen)
				return false;
			memcpy(out + n, v, vl);
			n += vl;
		} else {
			if (n + 1 >= outlen)
				return false;
			out[n++] = *t;
		}
		t += skip;
	}
	out[n] = '\0';
	return true;
}

/*
 * The value of the string field pat ("\"name\":\"") in line: the first
 * occurrence, or with last the last one (searched from the end, where the
 * encoder puts the vigil object). JSON escapes every quote inside a
 * string, so pat cannot appear inside a value.
 */
static bool
find_str(const char *line, size_t len, const char *pat, bool last,
	 const char **v, size_t *vl)
{
	size_t pl = strlen(pat);
	const char *at = NULL, *e;

	if (len < pl)
		return false;
	if (!last) {
		at = memmem(line, len, pat, pl);
	} else {
		/* The tail first: nearly always enough. */
		size_t win = len < 512 ? len : 512;
		const char *p = line + len - win, *q;

		while ((q = memmem(p, (size_t)(line + len - p), pat, pl)) !=
		       NULL) {
			at = q;
			p = q + 1;
		}
		if (at == NULL && win < len) {
			p = line;
			while ((q = memmem(p, (size_t)(line + len - p), pat,
					   pl)) != NULL) {
				at = q;
				p = q + 1;
			}
		}
	}
	if (at == NULL)
		return false;
	*v = at + pl;
	e = memchr(*v, '"', len - (size_t)(*v - line));
	if (e == NULL)
		return false;
	*vl = (size_t)(e - *v);
	return true;
}

/* Alerts and fileinfo events are spooled; the rest is best effort. */
static bool
durable(const char *line, size_t len)
{
	const char *v;
	size_t vl;

	/* The type is near the start: the encoder writes it third. */
	if (!find_str(line, len < 160 ? len : 160, "\"event_type\":\"", false,
		      &v, &vl))
		return false;
	return (vl == 5 && memcmp(v, "alert", 5) == 0) ||
	       (vl == 8 && memcmp(v, "fileinfo", 8) == 0);
}

/* ------------------------------------------------------------------ */
/* Producer side (the output thread)                                    */

void
vg_publish_event(struct vg_publish *p, const char *line, size_t len)
{
	struct item *it;

	if (durable(line, len)) {
		uint64_t seq;
		enum vg_err rc = vg_spool_append(p->spool, line, len, &seq);

		pthread_mutex_lock(&p->mu);
		if (rc == VG_OK) {
			p->st.spooled++;
			p->last_appended = seq;
			p->appended_any = true;
			pthread_cond_signal(&p->work);
		} else if (rc == VG_ELIMIT) {
			p->st.spool_full++;
		} else {
			p->st.spool_errors++;
		}
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (p->mem_items >= p->mem_max || p->mem_bytes + len > MEM_MAX_BYTES) {
		p->st.dropped++;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_unlock(&p->mu);
	it = malloc(sizeof(*it) + len);
	pthread_mutex_lock(&p->mu);
	if (it == NULL) {
		p->st.dropped++;
	} else {
		it->next = NULL;
		it->len = len;
		memcpy(it->data, line, len);
		if (p->tail)
			p->tail->next = it;
		else
			p->head = it;
		p->tail = it;
		p->mem_items++;
		p->mem_bytes += len;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------------ */
/* Sender thread                                                        */

/* Sleep ms, or less when stopping. */
static void
nap(struct vg_publish *p, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->stop))
		pthread_cond_timedwait(&p->work, &p->mu, &ts);
	pthread_mutex_unlock(&p->mu);
}

/* The next delay: doubling from BACKOFF_MIN_MS to BACKOFF_MAX_MS, with
 * up to half of it again as jitter so that agents do not come back in
 * step after an outage of the center. */
static void
back_off(struct vg_publish *p)
{
	unsigned jitter = 0, d;

	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	if (getrandom(&jitter, sizeof(jitter), GRND_NONBLOCK) < 0)
		jitter = (unsigned)vg_now_mono_us();
	d = p->backoff_ms + jitter % (p->backoff_ms / 2 + 1);
	nap(p, d);
}

static bool
try_connect(struct vg_publish *p)
{
	char err[512];

	if (vg_redis_connect(&p->r, &p->ro, err, sizeof(err)) != VG_OK) {
		p->r = NULL;
		pthread_mutex_lock(&p->mu);
		p->st.connect_errors++;
		pthread_mutex_unlock(&p->mu);
		/* Once per outage, then every minute. */
		if (strcmp(err, p->last_error) != 0 ||
		    vg_now_mono_us() - p->last_error_us > 60000000) {
			vg_log(LOG_ERR,
			       "redis: %s (events are kept in the "
			       "spool and sent when it is back)",
			       err);
			snprintf(p->last_error, sizeof(p->last_error), "%s",
				 err);
			p->last_error_us = vg_now_mono_us();
		}
		return false;
	}
	vg_log(LOG_INFO, "redis: connected to %s, stream %s",
	       vg_redis_peer(p->r), p->key);
	p->last_error[0] = '\0';
	p->backoff_ms = 0;
	pthread_mutex_lock(&p->mu);
	p->st.connects++;
	p->st.connected = true;
	pthread_mutex_unlock(&p->mu);
	return true;
}

static void
disconnect(struct vg_publish *p)
{
	vg_redis_close(p->r);
	p->r = NULL;
	pthread_mutex_lock(&p->mu);
	p->st.connected = false;
	pthread_mutex_unlock(&p->mu);
}

/* Fill x[i] for an event line. */
static void
entry(struct vg_publish *p, struct vg_redis_xadd *x, const char **f, size_t *fl,
      const char *line, size_t len)
{
	const char *v;
	size_t vl;

	memset(x, 0, sizeof(*x));
	x->key = p->key;
	x->key_len = p->key_len;
	x->maxlen = p->cfg->redis_maxlen;
	x->n_fields = 3;
	x->fields = f;
	x->lens = fl;
	f[0] = "type";
	fl[0] = 4;
	if (find_str(line, len < 160 ? len : 160, "\"event_type\":\"", false,
		     &v, &vl)) {
		f[1] = v;
		fl[1] = vl;
	} else {
		f[1] = "unknown";
		fl[1] = 7;
	}
	f[2] = "id";
	fl[2] = 2;
	if (find_str(line, len, "\"vigil\":{\"event_id\":\"", true, &v, &vl)) {
		f[3] = v;
		fl[3] = vl;
	} else {
		f[3] = "";
		fl[3] = 0;
	}
	f[4] = "eve";
	fl[4] = 3;
	f[5] = line;
	fl[5] = len;
}

/* Log an error reply once per kind (its first word), then each minute. */
static void
reply_error(struct vg_publish *p, const char *text)
{
	size_t w = strcspn(text, " ");

	pthread_mutex_lock(&p->mu);
	p->st.reply_errors++;
	pthread_mutex_unlock(&p->mu);
	if (strncmp(text, p->last_error, w) == 0 && p->last_error[w] == ' ' &&
	    vg_now_mono_us() - p->last_error_us < 60000000)
		return;
	vg_log(LOG_ERR,
	       "redis: %s refused an event for %s: %s (it stays in the "
	       "spool and is sent again)",
	       p->r ? vg_redis_peer(p->r) : "the server", p->key, text);
	snprintf(p->last_error, sizeof(p->last_error), "%s", text);
	p->last_error_us = vg_now_mono_us();
}

/*
 * Some events ready, but fewer than a batch: wait up to linger_ms for
 * more, so that a trickle goes out in fewer, fuller round trips. ready is
 * what the spool had; events appended meanwhile count too. true when it
 * waited (the caller looks at the spool again).
 */
static bool
linger(struct vg_publish *p, size_t ready)
{
	int64_t until =
	    vg_now_mono_us() + (int64_t)p->cfg->redis_linger_ms * 1000;
	uint64_t spooled0;
	size_t have;
	bool waited = false;

	pthread_mutex_lock(&p->mu);
	spooled0 = p->st.spooled;
	have = ready + p->mem_items;
	pthread_mutex_unlock(&p->mu);
	while (have > 0 && have < p->cfg->redis_batch &&
	       !atomic_load(&p->stop)) {
		int64_t left = until - vg_now_mono_us();

		if (left <= 0)
			break;
		nap(p, (unsigned)((left + 999) / 1000));
		waited = true;
		pthread_mutex_lock(&p->mu);
		have =
		    ready + p->mem_items + (size_t)(p->st.spooled - spooled0);
		pthread_mutex_unlock(&p->mu);
	}
	return waited;
}

/* One round: gather, send, acknowledge. false when there was nothing. */
static bool
round_trip(struct vg_publish *p, struct vg_spool_rec *recs,
	   struct vg_redis_xadd *x, const char **f, size_t *fl,
	   struct item **mem)
{
	unsigned batch = p->cfg->redis_batch, i;
	size_t nd = 0, nm = 0, k;
	bool need_sync, failed = false;
	char err[512];
	enum vg_err rc;

	if (vg_spool_peek(p->spool, recs, batch, &nd) != VG_OK)
		nd = 0;
	if (linger(p, nd) && vg_spool_peek(p->spool, recs, batch, &nd) != VG_OK)
		nd = 0;
	pthread_mutex_lock(&p->mu);
	/* Unsynced records and nothing ready: sync now rather than wait. */
	need_sync = nd < batch && p->appended_any &&
		    (nd == 0 || recs[nd - 1].seq < p->last_appended);
	pthread_mutex_unlock(&p->mu);
	if (need_sync && vg_spool_sync(p->spool) == VG_OK &&
	    vg_spool_peek(p->spool, recs, batch, &nd) != VG_OK)
		nd = 0;
	pthread_mutex_lock(&p->mu);
	while (nd + nm < batch && p->head) {
		mem[nm] = p->head;
		p->head = p->head->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->mem_items--;
		p->mem_bytes -= mem[nm]->len;
		nm++;
	}
	p->inflight = nd + nm > 0;
	pthread_mutex_unlock(&p->mu);
	if (nd + nm == 0)
		return false;

	for (k = 0; k < nd; k++)
		entry(p, &x[k], f + 6 * k, fl + 6 * k, recs[k].data,
		      recs[k].len);
	for (k = 0; k < nm; k++)
		entry(p, &x[nd + k], f + 6 * (nd + k), fl + 6 * (nd + k),
		      mem[k]->data, mem[k]->len);
	rc = vg_redis_xadd_batch(p->r, x, nd + nm, err, sizeof(err));

	/* The spool moves past the accepted run from the first record. */
	for (k = 0; k < nd && x[k].done && x[k].ok; k++)
		;
	if (k > 0 && vg_spool_ack(p->spool, recs[k - 1].seq) != VG_OK)
		vg_log(LOG_ERR, "spool: cannot record what was sent");
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < nd + nm; i++) {
		if (x[i].done && x[i].ok)
			p->st.sent++;
		else if (i >= nd)
			p->st.dropped++; /* best effort: not retried */
	}
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < nd + nm; i++)
		if (x[i].done && !x[i].ok) {
			reply_error(p, x[i].error);
			failed = true;
			break;
		}
	for (k = 0; k < nm; k++)
		free(mem[k]);
	pthread_mutex_lock(&p->mu);
	p->inflight = false;
	pthread_mutex_unlock(&p->mu);
	if (rc != VG_OK) {
		vg_log(LOG_WARNING, "redis: %s: %s; reconnecting",
		       vg_redis_peer(p->r), err);
		disconnect(p);
		back_off(p);
	} else if (failed) {
		back_off(p);
	} else {
		p->backoff_ms = 0;
	}
	return true;
}

static void *
sender(void *arg)
{
	struct vg_publish *p = arg;
	unsigned batch = p->cfg->redis_batch;
	struct vg_spool_rec *recs = vg_calloc(batch, sizeof(*recs));
	struct vg_redis_xadd *x = vg_calloc(batch, sizeof(*x));
	const char **f = vg_calloc((size_t)batch * 6, sizeof(*f));
	size_t *fl = vg_calloc((size_t)batch * 6, sizeof(*fl));
	struct item **mem = vg_calloc(batch, sizeof(*mem));

	if (!recs || !x || !f || !fl || !mem) {
		vg_log(LOG_ERR, "redis: out of memory: nothing is sent");
		goto out;
	}
	while (!atomic_load(&p->stop)) {
		if (p->r == NULL && !try_connect(p)) {
			back_off(p);
			continue;
		}
		if (round_trip(p, recs, x, f, fl, mem))
			continue;
		/* Nothing to send: wait for work (an event wakes us). */
		nap(p, 100);
	}
out:
	disconnect(p);
	free(recs);
	free(x);
	free(f);
	free(fl);
	free(mem);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */

enum vg_err
vg_publish_open(struct vg_publish **out, const struct vg_config *cfg, char *err,
		size_t errlen)
{
	struct vg_spool_opts so;
	struct vg_publish *p;
	char serr[512];
	enum vg_err rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return VG_ENOMEM;
	p->cfg = cfg;
	p->mem_max = cfg->queue_events;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	if (!vg_publish_stream_key(cfg, p->key, sizeof(p->key))) {
		snprintf(err, errlen, "output.redis.stream: too long");
		vg_publish_close(p);
		return VG_EINVAL;
	}
	p->key_len = strlen(p->key);
	if (vg_publish_redis_opts(cfg, &p->ro, &p->password, err, errlen) !=
	    VG_OK) {
		vg_publish_close(p);
		return VG_EIO;
	}

	memset(&so, 0, sizeof(so));
	so.dir = cfg->spool_dir ? cfg->spool_dir : VG_SPOOL_DIR_DEFAULT;
	so.max_bytes = cfg->spool_max_size;
	so.sync_ms = SPOOL_SYNC_MS;
	rc = vg_spool_open(&p->spool, &so, serr, sizeof(serr));
	if (rc != VG_OK) {
		snprintf(err, errlen, "output.spool.dir: %s", serr);
		vg_publish_close(p);
		return rc;
	}
	if (pthread_create(&p->thread, NULL, sender, p) != 0) {
		snprintf(err, errlen, "cannot start the redis thread");
		vg_publish_close(p);
		return VG_EIO;
	}
	p->started = true;
	*out = p;
	return VG_OK;
}

int
vg_publish_drain(struct vg_publish *p, unsigned timeout_ms)
{
	int64_t until = vg_now_mono_us() + (int64_t)timeout_ms * 1000;
	struct vg_spool_stats ss;
	bool empty;

	for (;;) {
		vg_spool_stats(p->spool, &ss);
		pthread_mutex_lock(&p->mu);
		empty =
		    p->head == NULL && !p->inflight && ss.pending_records == 0;
		pthread_cond_signal(&p->work);
		pthread_mutex_unlock(&p->mu);
		if (empty)
			return 1;
		if (vg_now_mono_us() >= until)
			break;
		usleep(10000);
	}
	if (vg_spool_sync(p->spool) != VG_OK)
		vg_log(LOG_ERR, "spool: sync failed");
	return 0;
}

void
vg_publish_close(struct vg_publish *p)
{
	struct item *it;

	if (p == NULL)
		return;
	atomic_store(&p->stop, true);
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	vg_spool_close(p->spool);
	while ((it = p->head) != NULL) {
		p->head = it->next;
		free(it);
	}
	if (p->password) {
		/* explicit_bzero: the compiler may not drop it. */
		explicit_bzero(p->password, strlen(p->password));
		free(p->password);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	free(p);
}

void
vg_publish_stats(struct vg_publish *p, struct vg_publish_stats *st)
{
	struct vg_spool_stats ss;

	vg_spool_stats(p->spool, &ss);
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	st->queued = p->mem_items;
	pthread_mutex_unlock(&p->mu);
	st->spool_pending = ss.pending_records;
	st->spool_bytes = ss.bytes;
	st->spool_torn = ss.torn + ss.corrupt;
}

enum vg_err
vg_publish_redis_opts(const struct vg_config *cfg, struct vg_redis_opts *ro,
		      char **password, char *err, size_t errlen)
{
	vg_redis_opts_init(ro);
	*password = NULL;
	if (cfg->redis_password_file &&
	    (*password = vg_read_secret(cfg->redis_password_file,
					"output.redis.password_file", err,
					errlen)) == NULL)
		return VG_EIO;
	ro->url = cfg->redis_url;
	ro->username = cfg->redis_username;
	ro->password = *password ? *password : cfg->redis_password;
	ro->ca_file = cfg->redis_ca_file;
	ro->cert_file = cfg->redis_cert_file;
	ro->key_file = cfg->redis_key_file;
	ro->server_name = cfg->redis_server_name;
	ro->tls_verify = cfg->redis_tls_verify;
	ro->connect_timeout_ms = cfg->redis_connect_timeout_ms;
	ro->io_timeout_ms = cfg->redis_timeout_ms;
	ro->mode = !cfg->redis_mode || strcmp(cfg->redis_mode, "single") == 0
		       ? VG_REDIS_SINGLE
		   : strcmp(cfg->redis_mode, "cluster") == 0
		       ? VG_REDIS_CLUSTER
		       : VG_REDIS_SENTINEL;
	ro->sentinel_master = cfg->redis_sentinel_master;
	ro->sentinels = cfg->redis_sentinels;
	ro->n_sentinels = cfg->n_redis_sentinels;
	return VG_OK;
}
