/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's in-memory store: the last N alert and fileinfo events
 * that the HTTP API serves (the agents table and the per-minute counts
 * live in Redis, shared by the collectors: shared.c).
 *
 * The tail of the center's recent stream (shared.c) calls vc_store_add()
 * for every entry; the HTTP threads query. Events are kept as the agent wrote
 * them (the API passes them on byte for byte) next to the few fields the
 * filters need, in a ring ordered by arrival: the slot of the event with
 * sequence number k is (k - 1) % cap, so the event stream is just a reader's
 * sequence number. A chained hash on vigil.event_id finds an event for
 * /api/alerts/ID, for the paging cursor and for dropping duplicates (the
 * agent's at-least-once delivery resends after an outage).
 */
#include "store.h"

#include "../agent/log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOSLOT SIZE_MAX

struct ev {
	uint64_t seq; /* 0: empty slot */
	int64_t ts_us;
	char id[37];
	int severity; /* 1..4 */
	enum vc_type type;
	char *raw; /* the event's text, NUL-terminated */
	size_t rawlen;
	/* Filter and statistics fields, owned, NULL when absent. */
	char *agency, *sig, *src_ip, *dest_ip, *filename;
	size_t hnext; /* next slot in the same hash bucket */
};

struct vc_store {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: a new event arrived */
	struct ev *ring;
	size_t cap;
	uint64_t seq; /* of the newest event, 0: none */
	size_t *buckets;
	size_t nbuckets; /* a power of two */
	struct vc_store_counters c;
	int redis_up;
};

/* ---- Time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 1;
}

enum vg_err
vc_parse_time(const char *s, int64_t *us)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30,
					   31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0, frac = 0, scale;
	int sign = 0;
	size_t i;
	int64_t t;

	if (s == NULL || strlen(s) < 20)
		return VG_EINVAL;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return VG_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return VG_EINVAL;
	if (mo == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return VG_EINVAL;
	if (sec == 60)
		sec = 59; /* a leap second: close enough */
	s += 19;
	if (*s == '.') {
		/* Up to 6 digits count; more are allowed and dropped. */
		for (i = 1, scale = 100000; s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (unsigned)(s[i] - '0') * scale;
			scale /= 10;
		}
		if (i == 1)
			return VG_EINVAL;
		s += i;
	}
	if (*s == 'Z' && s[1] == '\0') {
		sign = 0;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!digits(s + 1, 2, &oh))
			return VG_EINVAL;
		if (s[3] == ':' && digits(s + 4, 2, &om) && s[6] == '\0')
			;
		else if (digits(s + 3, 2, &om) && s[5] == '\0')
			;
		else
			return VG_EINVAL;
		if (oh > 23 || om > 59)
			return VG_EINVAL;
	} else {
		return VG_EINVAL;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	*us = t * 1000000 + frac;
	return VG_OK;
}

int
vc_is_uuid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}

/* ---- Small helpers ---- */

static const char *
get_str(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* strdup of a maybe-NULL string; *fail set when out of memory. */
static char *
dup_opt(const char *s, int *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*fail = 1;
	return d;
}

static size_t
hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id; id++) {
		h ^= (unsigned char)*id;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ASCII case-insensitive substring; needle already folded. */
static int
contains_ci(const char *hay, const char *needle)
{
	size_t i, n = strlen(needle);

	if (hay == NULL)
		return 0;
	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i] && fold(hay[i]) == needle[i]; i++)
			;
		if (i == n)
			return 1;
	}
	return n == 0;
}

static void
ev_clear(struct ev *e)
{
	free(e->raw);
	free(e->agency);
	free(e->sig);
	free(e->src_ip);
	free(e->dest_ip);
	free(e->filename);
	memset(e, 0, sizeof(*e));
	e->hnext = NOSLOT;
}

/* ---- Store ---- */

struct vc_store *
vc_store_new(size_t max_events)
{
	struct vc_store *s;
	pthread_condattr_t ca;
	size_t i;

	if (max_events < 1)
		max_events = 1;
	if (max_events > VC_STORE_MAX_EVENTS)
		max_events = VC_STORE_MAX_EVENTS;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cap = max_events;
	for (s->nbuckets = 16; s->nbuckets < max_events * 2;)
		s->nbuckets *= 2;
	s->ring = vg_calloc(s->cap, sizeof(*s->ring));
	s->buckets = vg_calloc(s->nbuckets, sizeof(*s->buckets));
	if (s->ring == NULL || s->buckets == NULL)
		goto fail;
	for (i = 0; i < s->cap; i++)
		s->ring[i].hnext = NOSLOT;
	for (i = 0; i < s->nbuckets; i++)
		s->buckets[i] = NOSLOT;
	s->redis_up = 1;
	if (pthread_mutex_init(&s->mu, NULL) != 0)
		goto fail;
	if (pthread_condattr_init(&ca) != 0) {
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	return s;
fail:
	free(s->ring);
	free(s->buckets);
	free(s);
	return NULL;
}

void
vc_store_free(struct vc_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		ev_clear(&s->ring[i]);
	free(s->ring);
	free(s->buckets);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The slot of the live event with that id, or NOSLOT. Locked. */
static size_t
find_slot(struct vc_store *s, const char *id)
{
	size_t i = s->buckets[hash_id(id) & (s->nbuckets - 1)];

	for (; i != NOSLOT; i = s->ring[i].hnext)
		if (strcmp(s->ring[i].id, id) == 0)
			return i;
	return NOSLOT;
}

static void
unlink_slot(struct vc_store *s, size_t slot)
{
	size_t *p = &s->buckets[hash_id(s->ring[slot].id) & (s->nbuckets - 1)];

	while (*p != NOSLOT && *p != slot)
		p = &s->ring[*p].hnext;
	if (*p == slot)
		*p = s->ring[slot].hnext;
}

/* Fill e from root (parsed) and text; 0 on success. */
static int
ev_fill(struct ev *e, json_t *root, const char *text, size_t len)
{
	json_t *sev =
	    json_object_get(json_object_get(root, "alert"), "severity");
	int fail = 0;

	/* SSE frames an event on one line: a text with a line break (legal
	 * JSON whitespace) is stored re-encoded, compact. */
	if (memchr(text, '\n', len) != NULL ||
	    memchr(text, '\r', len) != NULL) {
		e->raw = json_dumps(root, JSON_COMPACT);
		e->rawlen = e->raw ? strlen(e->raw) : 0;
	} else {
		e->raw = malloc(len + 1);
		if (e->raw != NULL) {
			memcpy(e->raw, text, len);
			e->raw[len] = '\0';
			e->rawlen = len;
		}
	}
	if (e->raw == NULL)
		return -1;
	e->severity = 4;
	if (json_is_integer(sev) && json_integer_value(sev) >= 1 &&
	    json_integer_value(sev) <= 4)
		e->severity = (int)json_integer_value(sev);
	e->agency = dup_opt(get_str(root, "vigil", "agency"), &fail);
	e->sig = dup_opt(get_str(root, "alert", "signature"), &fail);
	e->src_ip = dup_opt(get_str(root, "src_ip", NULL), &fail);
	e->dest_ip = dup_opt(get_str(root, "dest_ip", NULL), &fail);
	e->filename = dup_opt(get_str(root, "fileinfo", "filename"), &fail);
	return fail ? -1 : 0;
}

void
vc_store_add(struct vc_store *s, const char *eve_json, size_t len)
{
	json_t *root = NULL;
	json_error_t jerr;
	const char *type, *id, *tstr;
	int64_t ts = 0;
	int have_ts;
	enum vc_type t;
	struct ev e;
	size_t slot;

	if (s == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.hnext = NOSLOT;
	if (eve_json == NULL || len > VC_STORE_MAX_EVENT ||
	    (root = json_loadb(eve_json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
		NULL ||
	    !json_is_object(root)) {
		pthread_mutex_lock(&s->mu);
		s->c.malformed++;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	type = get_str(root, "event_type", NULL);
	id = get_str(root, "vigil", "event_id");
	tstr = get_str(root, "timestamp", NULL);
	have_ts = vc_parse_time(tstr, &ts) == VG_OK;
	if (type != NULL && strcmp(type, "alert") == 0)
		t = VC_TYPE_ALERT;
	else if (type != NULL && strcmp(type, "fileinfo") == 0)
		t = VC_TYPE_FILEINFO;
	else
		t = VC_TYPE_ANY;

	if (t != VC_TYPE_ANY && (!have_ts || !vc_is_uuid(id))) {
		pthread_mutex_lock(&s->mu);
		s->c.invalid++;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	if (t != VC_TYPE_ANY && ev_fill(&e, root, eve_json, len) != 0) {
		vg_log(LOG_WARNING, "collector store: out of memory");
		goto out;
	}

	pthread_mutex_lock(&s->mu);
	if (t == VC_TYPE_ANY) {
		if (have_ts || type == NULL)
			s->c.other++;
		else
			s->c.invalid++;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	memcpy(e.id, id, 37);
	if (find_slot(s, e.id) != NOSLOT) {
		s->c.duplicates++;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	e.ts_us = ts;
	e.type = t;
	e.seq = ++s->seq;
	slot = (size_t)((e.seq - 1) % s->cap);
	if (s->ring[slot].seq != 0) {
		unlink_slot(s, slot);
		ev_clear(&s->ring[slot]);
		s->c.evicted++;
	}
	s->ring[slot] = e;
	memset(&e, 0, sizeof(e)); /* moved into the ring */
	{
		size_t *b = &s->buckets[hash_id(id) & (s->nbuckets - 1)];

		s->ring[slot].hnext = *b;
		*b = slot;
	}
	s->c.added++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
out:
	ev_clear(&e);
	json_decref(root);
}

void
vc_store_counters(struct vc_store *s, struct vc_store_counters *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->c;
	pthread_mutex_unlock(&s->mu);
}

void
vc_store_set_redis_up(struct vc_store *s, int up)
{
	pthread_mutex_lock(&s->mu);
	s->redis_up = up != 0;
	pthread_mutex_unlock(&s->mu);
}

int
vc_store_redis_up(struct vc_store *s)
{
	int up;

	pthread_mutex_lock(&s->mu);
	up = s->redis_up;
	pthread_mutex_unlock(&s->mu);
	return up;
}

/* ---- Queries ---- */

/* Newest first: timestamp, then event id, descending. */
static int
ev_newer(const struct ev *a, const struct ev *b)
{
	if (a->ts_us != b->ts_us)
		return a->ts_us > b->ts_us;
	return strcmp(a->id, b->id) > 0;
}

static int
cmp_newest_first(const void *pa, const void *pb)
{
	const struct ev *a = *(const struct ev *const *)pa;
	const struct ev *b = *(const struct ev *const *)pb;

	if (ev_newer(a, b))
		return -1;
	return ev_newer(b, a) ? 1 : 0;
}

static int
matches(const struct ev *e, const struct vc_query *q, const char *qfold,
	const struct ev *before)
{
	if (q->agency != NULL &&
	    (e->agency == NULL || strcmp(e->agency, q->agency) != 0))
		return 0;
	if (q->severity != 0 && e->severity != q->severity)
		return 0;
	if (q->type != VC_TYPE_ANY && e->type != q->type)
		return 0;
	if (e->ts_us < q->since_us || e->ts_us >= q->until_us)
		return 0;
	if (before != NULL && !ev_newer(before, e))
		return 0;
	if (qfold != NULL &&
	    !(contains_ci(e->sig, qfold) || contains_ci(e->src_ip, qfold) ||
	      contains_ci(e->dest_ip, qfold) ||
	      contains_ci(e->filename, qfold) || contains_ci(e->agency, qfold)))
		return 0;
	return 1;
}

void
vc_result_fini(struct vc_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->items[i]);
	free(r->items);
	free(r->lens);
	free(r->next);
	memset(r, 0, sizeof(*r));
}

enum vg_err
vc_store_query(struct vc_store *s, const struct vc_query *q,
	       struct vc_result *out)
{
	const struct ev **hits = NULL;
	const struct ev *before = NULL;
	char *qfold = NULL;
	size_t i, n = 0, take, limit;
	enum vg_err err = VG_OK;

	memset(out, 0, sizeof(*out));
	limit = q->limit ? q->limit : 100;
	if (q->q != NULL && *q->q != '\0') {
		qfold = strdup(q->q);
		if (qfold == NULL)
			return VG_ENOMEM;
		for (i = 0; qfold[i]; i++)
			qfold[i] = (char)fold(qfold[i]);
	}
	pthread_mutex_lock(&s->mu);
	if (q->before != NULL) {
		size_t slot =
		    vc_is_uuid(q->before) ? find_slot(s, q->before) : NOSLOT;

		if (slot == NOSLOT) {
			err = VG_EINVAL;
			goto out;
		}
		before = &s->ring[slot];
	}
	hits = vg_calloc(s->cap, sizeof(*hits));
	if (hits == NULL) {
		err = VG_ENOMEM;
		goto out;
	}
	for (i = 0; i < s->cap; i++)
		if (s->ring[i].seq != 0 &&
		    matches(&s->ring[i], q, qfold, before))
			hits[n++] = &s->ring[i];
	qsort(hits, n, sizeof(*hits), cmp_newest_first);
	take = n < limit ? n : limit;
	out->items = vg_calloc(take ? take : 1, sizeof(*out->items));
	out->lens = vg_calloc(take ? take : 1, sizeof(*out->lens));
	if (out->items == NULL || out->lens == NULL) {
		err = VG_ENOMEM;
		goto out;
	}
	for (i = 0; i < take; i++) {
		out->items[i] = malloc(hits[i]->rawlen + 1);
		if (out->items[i] == NULL) {
			err = VG_ENOMEM;
			goto out;
		}
		memcpy(out->items[i], hits[i]->raw, hits[i]->rawlen + 1);
		out->lens[i] = hits[i]->rawlen;
		out->n++;
	}
	if (n > take && take > 0) {
		out->next = strdup(hits[take - 1]->id);
		if (out->next == NULL)
			err = VG_ENOMEM;
	}
out:
	pthread_mutex_unlock(&s->mu);
	free(hits);
	free(qfold);
	if (err != VG_OK)
		vc_result_fini(out);
	return err;
}

char *
vc_store_get(struct vc_store *s, const char *id, size_t *len)
{
	char *r = NULL;
	size_t slot;

	if (!vc_is_uuid(id))
		return NULL;
	pthread_mutex_lock(&s->mu);
	slot = find_slot(s, id);
	if (slot != NOSLOT) {
		r = malloc(s->ring[slot].rawlen + 1);
		if (r != NULL) {
			memcpy(r, s->ring[slot].raw, s->ring[slot].rawlen + 1);
			*len = s->ring[slot].rawlen;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* ---- Event stream ---- */

uint64_t
vc_store_seq(struct vc_store *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->mu);
	v = s->seq;
	pthread_mutex_unlock(&s->mu);
	return v;
}

int
vc_store_next(struct vc_store *s, uint64_t *seq, int timeout_ms,
	      const atomic_int *stop, char **out, size_t *len, char id[37])
{
	struct timespec dl;
	const struct ev *e;
	uint64_t next, oldest;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->seq <= *seq && !(stop != NULL && atomic_load(stop)))
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
			break;
	if ((stop != NULL && atomic_load(stop)) || s->seq <= *seq)
		goto out;
	next = *seq + 1;
	oldest = s->seq >= s->cap ? s->seq - s->cap + 1 : 1;
	if (next < oldest)
		next = oldest; /* the reader fell behind: skip the evicted */
	e = &s->ring[(next - 1) % s->cap];
	*out = malloc(e->rawlen + 1);
	if (*out == NULL) {
		r = -1;
		goto out;
	}
	memcpy(*out, e->raw, e->rawlen + 1);
	*len = e->rawlen;
	memcpy(id, e->id, 37);
	*seq = next;
	r = 1;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
vc_store_wake(struct vc_store *s)
{
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}
