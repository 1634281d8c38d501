/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's consumer (see consumer.h): Redis streams in, archive
 * and the center's shared view (shared.c) out.
 *
 * Delivery is at least once from Redis and exactly once per process
 * into the archive: an entry is acknowledged (XACK) only after its line
 * is fsync'd and it is recorded in the shared view, so a crash between
 * makes Redis deliver it again, and the set of recent event ids drops it
 * then from the archive (recorded again, which the view's own set of
 * event ids makes harmless; then acknowledged). Across processes the set
 * here is not shared: an entry archived by a collector that died before
 * its XACK is archived once more by the one that claims it, but counted
 * and shown once.
 *
 * One loop, one thread, one connection:
 *   every 10 s   SMEMBERS vigil:agencies + SCAN vigil:events:* (on
 *                every master in cluster mode), and
 *                XGROUP CREATE key group 0 MKSTREAM for a new stream;
 *   always       XREADGROUP ... STREAMS k1 k2 .. > > .. (single and
 *                sentinel mode: one call; cluster: one per stream, since
 *                the keys live on different slots), ID 0 instead of >
 *                after a (re)connect or a failed batch, to take our own
 *                pending entries again first;
 *   every 10 s   XAUTOCLAIM key group consumer claim_idle 0-0 per stream;
 *   every hour   compression of the archive's old days.
 */
#include "consumer.h"

#include "archive.h"
#include "forward.h"
#include "log.h"
#include "redis.h"
#include "shared.h"
#include "store.h"

#include <jansson.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AGENCIES_KEY     "vigil:agencies"
#define STREAM_PREFIX    "vigil:events:"
#define SCAN_MATCH       STREAM_PREFIX "*"
#define MAX_CLAIM_ROUNDS 64 /* XAUTOCLAIM calls per stream per 10 s */
#define MAX_KEY          512

/*
 * The set of recent event ids: a ring of the last VC_DEDUPE_IDS keys
 * (oldest overwritten) indexed by an open-addressing table twice its size
 * (linear probing, backward-shift deletion). A key is the UUID's 16 bytes,
 * or a 128-bit hash of an id that is not a UUID.
 */
struct idkey {
	uint8_t b[16];
};

struct idset {
	struct idkey *ring;
	uint32_t *slot; /* ring index + 1; 0 empty */
	size_t cap, mask, next, count;
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static size_t
key_home(const struct idset *s, const struct idkey *k)
{
	uint64_t a, b;

	memcpy(&a, k->b, 8);
	memcpy(&b, k->b + 8, 8);
	return (size_t)(mix64(a ^ mix64(b))) & s->mask;
}

static int
idset_init(struct idset *s, size_t cap)
{
	size_t n = 1;

	while (n < cap * 2)
		n <<= 1;
	s->ring = vg_calloc(cap, sizeof(*s->ring));
	s->slot = vg_calloc(n, sizeof(*s->slot));
	if (s->ring == NULL || s->slot == NULL) {
		free(s->ring);
		free(s->slot);
		return -1;
	}
	s->cap = cap;
	s->mask = n - 1;
	s->next = s->count = 0;
	return 0;
}

static void
idset_fini(struct idset *s)
{
	free(s->ring);
	free(s->slot);
}

/* The table slot holding k, or SIZE_MAX. */
static size_t
idset_find(const struct idset *s, const struct idkey *k)
{
	for (size_t i = key_home(s, k);; i = (i + 1) & s->mask) {
		if (s->slot[i] == 0)
			return SIZE_MAX;
		if (memcmp(&s->ring[s->slot[i] - 1], k, sizeof(*k)) == 0)
			return i;
	}
}

static void
idset_delete_slot(struct idset *s, size_t i)
{
	size_t j = i, h;

	for (;;) {
		j = (j + 1) & s->mask;
		if (s->slot[j] == 0)
			break;
		h = key_home(s, &s->ring[s->slot[j] - 1]);
		/* Move j back to i unless its home lies in (i, j]. */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i] = 0;
}

static void
idset_remove(struct idset *s, const struct idkey *k)
{
	size_t i = idset_find(s, k);

	if (i != SIZE_MAX)
		idset_delete_slot(s, i);
}

/* Insert k (not present), evicting the oldest key when full. */
static void
idset_add(struct idset *s, const struct idkey *k)
{
	size_t pos = s->next, i;

	if (s->count == s->cap) {
		/* Evict the oldest unless it was removed (a rollback). */
		i = idset_find(s, &s->ring[pos]);
		if (i != SIZE_MAX && s->slot[i] == pos + 1)
			idset_delete_slot(s, i);
	} else
		s->count++;
	s->ring[pos] = *k;
	for (i = key_home(s, k); s->slot[i]; i = (i + 1) & s->mask)
		;
	s->slot[i] = (uint32_t)(pos + 1);
	s->next = (pos + 1) % s->cap;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The key of an event id: its 16 bytes if a UUID, else a hash. */
static void
id_key(struct idkey *k, const char *id, size_t len)
{
	uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
	size_t n = 0;

	if (len == 36) {
		for (size_t i = 0; i < len && n < 32; i++) {
			int hi, lo;

			if (i == 8 || i == 13 || i == 18 || i == 23) {
				if (id[i] != '-')
					break;
				continue;
			}
			hi = hexval(id[i]);
			lo = i + 1 < len ? hexval(id[i + 1]) : -1;
			if (hi < 0 || lo < 0)
				break;
			k->b[n / 2] = (uint8_t)(hi << 4 | lo);
			n += 2;
			i++;
		}
		if (n == 32)
			return;
	}
	for (size_t i = 0; i < len; i++) {
		h1 = (h1 ^ (uint8_t)id[i]) * 0x100000001b3ull;
		h2 = (h2 ^ (uint8_t)id[i]) * 0x100000001b3ull;
	}
	h1 = mix64(h1);
	h2 = mix64(h2 ^ len);
	memcpy(k->b, &h1, 8);
	memcpy(k->b + 8, &h2, 8);
	k->b[6] ^= 0xff; /* never the bytes of a real UUIDv7 */
}

/*
 * The consumer.
 */

struct stream {
	char *key;
	int need_pending; /* read our own pending entries (ID 0) first */
};

/* One entry of a batch. Strings point into the reply being processed. */
struct item {
	unsigned stream;
	const char *entry_id;
	const char *line; /* NULL: acknowledge only */
	size_t len;
	char *owned; /* line re-encoded on one line, or NULL */
	json_t *ev;  /* the parsed event (owned), or NULL */
	struct idkey key;
	int added;    /* key added to the set by this batch */
	int record;   /* to record in the shared view (shared.c) */
	int misfiled; /* claims another agency than its stream's */
};

struct batch {
	struct item *items;
	size_t n, cap;
};

struct vc_consumer {
	const struct vc_config *cfg;
	struct vc_store *store;
	struct vc_forward *forward; /* borrowed; NULL: none */
	struct vc_archive *archive;
	struct vg_redis *r;
	struct stream *streams;
	unsigned n_streams;
	unsigned rr; /* cluster: next stream to read */
	struct idset ids;
	struct vc_shared_script sc;
	struct vc_shared_ev *sev; /* VC_SHARED_PER_CALL, for batch_finish() */
	atomic_int stop;
	_Atomic uint64_t archived, duplicates, malformed, acked, claimed,
	    misfiled;
	struct vg_ratelimit rl_bad, rl_err;
};

static void
sleep_ms(struct vc_consumer *c, unsigned ms)
{
	while (ms > 0 && !atomic_load(&c->stop)) {
		unsigned step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

enum vg_err
vc_consumer_new(struct vc_consumer **out, const struct vc_config *cfg,
		struct vc_store *store, char *err, size_t errlen)
{
	struct vc_consumer *c = calloc(1, sizeof(*c));
	enum vg_err rc;

	if (c == NULL)
		return VG_ENOMEM;
	c->cfg = cfg;
	c->store = store;
	c->streams = vg_calloc(VC_MAX_STREAMS, sizeof(*c->streams));
	c->sev = vg_calloc(VC_SHARED_PER_CALL, sizeof(*c->sev));
	if (c->streams == NULL || c->sev == NULL ||
	    idset_init(&c->ids, VC_DEDUPE_IDS) < 0) {
		free(c->streams);
		free(c->sev);
		free(c);
		return VG_ENOMEM;
	}
	rc = vc_archive_open(&c->archive, cfg->archive_dir,
			     cfg->archive_compress, err, errlen);
	if (rc != VG_OK) {
		idset_fini(&c->ids);
		free(c->streams);
		free(c->sev);
		free(c);
		return rc;
	}
	*out = c;
	return VG_OK;
}

void
vc_consumer_free(struct vc_consumer *c)
{
	if (c == NULL)
		return;
	vg_redis_close(c->r);
	vc_archive_close(c->archive);
	for (unsigned i = 0; i < c->n_streams; i++)
		free(c->streams[i].key);
	free(c->streams);
	free(c->sev);
	idset_fini(&c->ids);
	free(c);
}

void
vc_consumer_set_forward(struct vc_consumer *c, struct vc_forward *f)
{
	c->forward = f;
}

void
vc_consumer_stop(struct vc_consumer *c)
{
	atomic_store(&c->stop, 1);
}

void
vc_consumer_stats(const struct vc_consumer *c, struct vc_consumer_stats *st)
{
	st->archived = atomic_load(&c->archived);
	st->duplicates = atomic_load(&c->duplicates);
	st->misfiled = atomic_load(&c->misfiled);
	st->malformed = atomic_load(&c->malformed);
	st->acked = atomic_load(&c->acked);
	st->claimed = atomic_load(&c->claimed);
}

/*
 * A command. 0 with *out set (possibly an ERROR reply); -1 when the
 * connection failed (closed, so the loop reconnects) or memory ran out.
 */
static int
command(struct vc_consumer *c, int argc, const char **argv, const size_t *lens,
	int key_index, struct vg_redis_reply **out)
{
	char err[256];
	enum vg_err rc;

	if (c->r == NULL)
		return -1;
	rc = vg_redis_command(c->r, argc, argv, lens, key_index, out, err,
			      sizeof(err));
	if (rc == VG_OK)
		return 0;
	vg_log(LOG_WARNING, "redis: %s: %s", argv[0], err);
	if (rc == VG_EIO) {
		vg_redis_close(c->r);
		c->r = NULL;
		if (c->store)
			vc_store_set_redis_up(c->store, 0);
	}
	return -1;
}

/* Same, with NUL-terminated arguments. */
static int
commandv(struct vc_consumer *c, int argc, const char **argv, int key_index,
	 struct vg_redis_reply **out)
{
	size_t lens[16];

	for (int i = 0; i < argc && i < 16; i++)
		lens[i] = strlen(argv[i]);
	return command(c, argc, argv, lens, key_index, out);
}

static void
log_error_reply(struct vc_consumer *c, const char *what,
		const struct vg_redis_reply *r)
{
	char esc[200];

	if (vg_ratelimit_ok(&c->rl_err, 10, 60))
		vg_log(LOG_WARNING, "redis: %s: %s", what,
		       vg_escape(esc, sizeof(esc), r->str, r->len));
}

static int
is_error(const struct vg_redis_reply *r, const char *prefix)
{
	return r->type == VG_REPLY_ERROR &&
	       strncmp(r->str, prefix, strlen(prefix)) == 0;
}

static void
mark_all_pending(struct vc_consumer *c)
{
	for (unsigned i = 0; i < c->n_streams; i++)
		c->streams[i].need_pending = 1;
}

static int
connect_redis(struct vc_consumer *c)
{
	struct vg_redis_opts o;
	char err[256];
	enum vg_err rc;

	vc_config_redis_opts(c->cfg, &o);
	/* A blocking XREADGROUP waits block_ms before it answers. */
	o.io_timeout_ms = c->cfg->block_ms + VG_REDIS_DEFAULT_TIMEOUT_MS;
	rc = vg_redis_connect(&c->r, &o, err, sizeof(err));
	if (rc != VG_OK) {
		vg_log(LOG_WARNING, "redis: cannot connect: %s", err);
		c->r = NULL;
		if (c->store)
			vc_store_set_redis_up(c->store, 0);
		return -1;
	}
	vg_log(LOG_INFO, "redis: connected to %s as %s in group %s",
	       vg_redis_peer(c->r), c->cfg->consumer_name,
	       c->cfg->consumer_group);
	if (c->store)
		vc_store_set_redis_up(c->store, 1);
	mark_all_pending(c);
	return 0;
}

/*
 * Discovery.
 */

static int
followed(const struct vc_consumer *c, const char *key, size_t len)
{
	for (unsigned i = 0; i < c->n_streams; i++)
		if (strlen(c->streams[i].key) == len &&
		    memcmp(c->streams[i].key, key, len) == 0)
			return 1;
	return 0;
}

/* Follow key (len bytes) if new: create the group (from ID 0, so entries
 * written before any collector ran are read too). -1: connection lost. */
static int
add_stream(struct vc_consumer *c, const char *key, size_t len)
{
	const char *argv[] = {"XGROUP", "CREATE",  key, c->cfg->consumer_group,
			      "0",      "MKSTREAM"};
	size_t lens[] = {6, 6, len, strlen(c->cfg->consumer_group), 1, 8};
	struct vg_redis_reply *r = NULL;
	char *copy;

	if (len == 0 || len >= MAX_KEY || memchr(key, '\0', len))
		return 0;
	if (followed(c, key, len))
		return 0;
	if (c->n_streams == VC_MAX_STREAMS) {
		if (vg_ratelimit_ok(&c->rl_err, 10, 60))
			vg_log(LOG_ERR,
			       "consumer: more than %u streams; "
			       "the rest are not read",
			       VC_MAX_STREAMS);
		return 0;
	}
	if (command(c, 6, argv, lens, 2, &r) < 0)
		return -1;
	if (r->type == VG_REPLY_ERROR && !is_error(r, "BUSYGROUP")) {
		/* WRONGTYPE (not a stream), NOPERM...: not ours to read. */
		log_error_reply(c, "XGROUP CREATE", r);
		vg_redis_reply_free(r);
		return 0;
	}
	vg_redis_reply_free(r);
	copy = strndup(key, len);
	if (copy == NULL)
		return -1;
	c->streams[c->n_streams].key = copy;
	c->streams[c->n_streams].need_pending = 1;
	c->n_streams++;
	vg_log(LOG_INFO, "consumer: reading %s", copy);
	return 0;
}

/* Keys found by the SCAN, followed once the walk is over (the handle
 * is not used for anything else during it). */
struct scan_ctx {
	const struct vc_consumer *c;
	char **keys;
	size_t n;
	int fail; /* out of memory */
};

static int
scan_key(void *ctx, const char *key, size_t len)
{
	struct scan_ctx *sc = ctx;

	if (len == 0 || len >= MAX_KEY || memchr(key, '\0', len) ||
	    followed(sc->c, key, len))
		return 0;
	if (sc->n == VC_MAX_STREAMS)
		return 1; /* add_stream() logs the limit */
	if ((sc->keys[sc->n] = strndup(key, len)) == NULL) {
		sc->fail = 1;
		return 1;
	}
	sc->n++;
	return 0;
}

static int
discover(struct vc_consumer *c)
{
	const char *sm[] = {"SMEMBERS", AGENCIES_KEY};
	struct vg_redis_reply *r = NULL;
	char key[MAX_KEY];

	if (commandv(c, 2, sm, 1, &r) < 0)
		return -1;
	if (r->type == VG_REPLY_ARRAY) {
		for (size_t i = 0; i < r->n; i++) {
			const struct vg_redis_reply *e = r->elements[i];
			int n;

			if (e->type != VG_REPLY_STRING)
				continue;
			n = snprintf(key, sizeof(key), STREAM_PREFIX "{%.*s}",
				     (int)e->len, e->str);
			if (n > 0 && (size_t)n < sizeof(key) &&
			    add_stream(c, key, (size_t)n) < 0) {
				vg_redis_reply_free(r);
				return -1;
			}
		}
	} else if (r->type == VG_REPLY_ERROR)
		log_error_reply(c, "SMEMBERS", r);
	vg_redis_reply_free(r);

	/* SCAN on every master (in cluster mode each holds a share). */
	{
		struct scan_ctx sc = {c, NULL, 0, 0};
		char err[256];
		enum vg_err rc;
		int ret = 0;

		sc.keys = vg_calloc(VC_MAX_STREAMS, sizeof(*sc.keys));
		if (sc.keys == NULL)
			return -1;
		rc = vg_redis_scan(c->r, SCAN_MATCH, 1000, scan_key, &sc, err,
				   sizeof(err));
		if (rc == VG_EINVAL) {
			/* Refused (NOPERM...): vigil:agencies still names
			 * the agencies. */
			if (vg_ratelimit_ok(&c->rl_err, 10, 60))
				vg_log(LOG_WARNING, "redis: %s", err);
		} else if (rc != VG_OK) {
			vg_log(LOG_WARNING, "redis: %s", err);
			if (rc == VG_EIO) {
				vg_redis_close(c->r);
				c->r = NULL;
				if (c->store)
					vc_store_set_redis_up(c->store, 0);
			}
			ret = -1;
		}
		for (size_t i = 0; i < sc.n; i++) {
			if (ret == 0 &&
			    add_stream(c, sc.keys[i], strlen(sc.keys[i])) < 0)
				ret = -1;
			free(sc.keys[i]);
		}
		free(sc.keys);
		if (ret == 0 && sc.fail)
			ret = -1;
		return ret;
	}
}

/*
 * Batches.
 */

static int
batch_push(struct batch *b, struct item **it)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct item *p = NULL;
		int ovf = 0;
		size_t bytes = vg_mul_size(cap, sizeof(*p), &ovf);

		if (ovf || (p = realloc(b->items, bytes)) == NULL)
			return -1;
		b->items = p;
		b->cap = cap;
	}
	*it = &b->items[b->n++];
	memset(*it, 0, sizeof(**it));
	return 0;
}

static void
batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].owned);
		json_decref(b->items[i].ev);
	}
	b->n = 0;
}

static const struct vg_redis_reply *
field(const struct vg_redis_reply *kv, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + 1 < kv->n; i += 2)
		if (kv->elements[i]->type == VG_REPLY_STRING &&
		    kv->elements[i]->len == nl &&
		    memcmp(kv->elements[i]->str, name, nl) == 0 &&
		    kv->elements[i + 1]->type == VG_REPLY_STRING)
			return kv->elements[i + 1];
	return NULL;
}

static void
bad_entry(struct vc_consumer *c, unsigned s, const char *id, const char *why)
{
	char esc[64];

	atomic_fetch_add(&c->malformed, 1);
	if (vg_ratelimit_ok(&c->rl_bad, 10, 60))
		vg_log(LOG_WARNING,
		       "consumer: %s entry %s: %s (acknowledged, "
		       "not archived)",
		       c->streams[s].key,
		       vg_escape(esc, sizeof(esc), id, strlen(id)), why);
}

/*
 * The agency of a stream key: AGENCY of "vigil:events:{AGENCY}" (or of
 * "vigil:events:AGENCY"); "" for a key of another form.
 */
static void
stream_agency(const char *key, char *dst, size_t n)
{
	static const char prefix[] = "vigil:events:";
	const char *a = key;
	size_t len;

	dst[0] = '\0';
	if (strncmp(key, prefix, sizeof(prefix) - 1) != 0)
		return;
	a += sizeof(prefix) - 1;
	len = strlen(a);
	if (len >= 2 && a[0] == '{' && a[len - 1] == '}') {
		a++;
		len -= 2;
	}
	if (len < n)
		snprintf(dst, n, "%.*s", (int)len, a);
}

/*
 * An event whose vigil.agency is not the agency of its stream: an agent
 * (or whoever holds its Redis user) speaking for another agency. The
 * per-agency ACL user can write its own stream only, so the stream is
 * the truth: the event is archived there as it came, as evidence, but it
 * is neither counted in the shared view nor forwarded.
 */
static void
misfiled(struct vc_consumer *c, unsigned s, const char *id, const char *claimed)
{
	char esc[64], esc2[80];

	atomic_fetch_add(&c->misfiled, 1);
	if (vg_ratelimit_ok(&c->rl_bad, 10, 60))
		vg_log(LOG_WARNING,
		       "consumer: %s entry %s claims agency \"%s\": archived "
		       "under the stream's agency, not shown or forwarded",
		       c->streams[s].key,
		       vg_escape(esc, sizeof(esc), id, strlen(id)),
		       claimed ? vg_escape(esc2, sizeof(esc2), claimed,
					   strlen(claimed))
			       : "(none)");
}

/*
 * One stream entry [id, [field, value, ...]] into the batch: archived
 * when new, recorded in the shared view when it has an event (the view
 * drops what it has already: an entry delivered again after a failed
 * batch was archived but maybe not recorded), acknowledged in any case.
 * -1: archive failure (err) or out of memory.
 */
static int
add_entry(struct vc_consumer *c, struct batch *b, unsigned s,
	  const struct vg_redis_reply *e, char *err, size_t errlen)
{
	const struct vg_redis_reply *kv, *eve, *idf;
	const char *eid = NULL, *claimed = NULL;
	char agency[VC_STREAM_AGENCY_MAX + 1] = "";
	json_t *ev = NULL;
	struct item *it;
	int rc = 0;

	if (e->type != VG_REPLY_ARRAY || e->n != 2 ||
	    e->elements[0]->type != VG_REPLY_STRING)
		return 0; /* no entry id: nothing we could even acknowledge */
	if (batch_push(b, &it) < 0) {
		vg_seterr(err, errlen, "out of memory");
		return -1;
	}
	it->stream = s;
	it->entry_id = e->elements[0]->str;
	kv = e->elements[1];
	if (kv->type != VG_REPLY_ARRAY)
		return 0; /* trimmed away while pending */
	eve = field(kv, "eve");
	if (eve == NULL) {
		bad_entry(c, s, it->entry_id, "no eve field");
		return 0;
	}
	if (eve->len > VC_ARCHIVE_MAX_EVENT) {
		bad_entry(c, s, it->entry_id, "eve larger than 16 MiB");
		return 0;
	}
	ev = json_loadb(eve->str, eve->len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(ev)) {
		bad_entry(c, s, it->entry_id, "eve is not a JSON object");
		goto out;
	}
	idf = field(kv, "id");
	if (idf)
		eid = idf->str;
	else
		eid = json_string_value(
		    json_object_get(json_object_get(ev, "vigil"), "event_id"));
	if (eid)
		id_key(&it->key, eid, strlen(eid));
	else
		id_key(&it->key, eve->str, eve->len);
	it->line = eve->str;
	it->len = eve->len;
	if (memchr(eve->str, '\n', eve->len) ||
	    memchr(eve->str, '\r', eve->len)) {
		/* Pretty-printed by someone: one line for NDJSON. */
		it->owned = json_dumps(ev, JSON_COMPACT);
		if (it->owned == NULL) {
			vg_seterr(err, errlen, "out of memory");
			rc = -1;
			goto out;
		}
		it->line = it->owned;
		it->len = strlen(it->owned);
	}
	it->ev = json_incref(ev);
	it->record = 1;
	stream_agency(c->streams[s].key, agency, sizeof(agency));
	claimed = json_string_value(
	    json_object_get(json_object_get(ev, "vigil"), "agency"));
	if (agency[0] != '\0' &&
	    (claimed == NULL || strcmp(claimed, agency) != 0)) {
		it->record = 0;
		it->misfiled = 1;
	}
	/* Archived whole, but too large for the live view (store.h). */
	if (it->len > VC_STORE_MAX_EVENT)
		it->record = 0;
	if (idset_find(&c->ids, &it->key) != SIZE_MAX) {
		atomic_fetch_add(&c->duplicates, 1);
		goto out;
	}
	if (vc_archive_add(c->archive, ev, agency[0] ? agency : NULL, it->line,
			   it->len, err, errlen) != VG_OK) {
		rc = -1;
		goto out;
	}
	idset_add(&c->ids, &it->key);
	it->added = 1;
	if (it->misfiled)
		misfiled(c, s, it->entry_id, claimed);
out:
	json_decref(ev);
	return rc;
}

/* XACK the batch's entries of stream s, in one command. */
static int
ack_stream(struct vc_consumer *c, const struct batch *b, unsigned s)
{
	size_t n = 0, argc = 3;
	const char **argv;
	size_t *lens;
	struct vg_redis_reply *r = NULL;
	int rc = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->items[i].stream == s;
	if (n == 0)
		return 0;
	argv = vg_calloc(n + 3, sizeof(*argv));
	lens = vg_calloc(n + 3, sizeof(*lens));
	if (argv == NULL || lens == NULL) {
		rc = -1;
		goto out;
	}
	argv[0] = "XACK";
	argv[1] = c->streams[s].key;
	argv[2] = c->cfg->consumer_group;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].stream == s)
			argv[argc++] = b->items[i].entry_id;
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (command(c, (int)argc, argv, lens, 1, &r) < 0) {
		rc = -1;
		goto out;
	}
	if (r->type == VG_REPLY_INTEGER)
		atomic_fetch_add(&c->acked, (uint64_t)r->integer);
	else if (r->type == VG_REPLY_ERROR)
		log_error_reply(c, "XACK", r);
	vg_redis_reply_free(r);
out:
	free(argv);
	free(lens);
	return rc;
}

/* Roll back the batch's set insertions: none of it was acknowledged. */
static void
batch_abort(struct vc_consumer *c, struct batch *b, const char *why)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].added)
			idset_remove(&c->ids, &b->items[i].key);
	vg_log(LOG_ERR, "consumer: batch of %zu entries not acknowledged: %s",
	       b->n, why);
	batch_reset(b);
	mark_all_pending(c);
	sleep_ms(c, 1000);
}

/*
 * Record the batch's events in the shared view, VC_SHARED_PER_CALL at a
 * time. -1 when Redis failed or refused (logged; the connection is closed
 * when it broke).
 */
static int
batch_record(struct vc_consumer *c, struct batch *b)
{
	char err[256];
	size_t n = 0;
	enum vg_err rc = VG_OK;

	for (size_t i = 0; i <= b->n && rc == VG_OK; i++) {
		if (i < b->n && b->items[i].record) {
			const struct item *it = &b->items[i];
			struct vc_shared_ev *e = &c->sev[n];

			vc_shared_prepare(e, it->ev, it->key.b, it->line,
					  it->len);
			/* Neither counted nor an agent's (a flow without
			 * agent id...): nothing to record. */
			if (e->eve != NULL || (e->agent[0] && e->ts[0]))
				n++;
		}
		if (n == VC_SHARED_PER_CALL || (i == b->n && n > 0)) {
			if (c->r == NULL)
				return -1;
			rc = vc_shared_record(c->r, c->cfg, &c->sc, c->sev, n,
					      NULL, err, sizeof(err));
			n = 0;
		}
	}
	if (rc == VG_OK)
		return 0;
	if (vg_ratelimit_ok(&c->rl_err, 10, 60))
		vg_log(LOG_WARNING, "redis: shared view: %s", err);
	if (rc == VG_EIO) {
		vg_redis_close(c->r);
		c->r = NULL;
		if (c->store)
			vc_store_set_redis_up(c->store, 0);
	}
	return -1;
}

/*
 * Commit the archive, record the events in the shared view (whence every
 * collector's store gets them), acknowledge. An event is acknowledged
 * only once it is both archived and recorded.
 */
static int
batch_finish(struct vc_consumer *c, struct batch *b)
{
	char err[256];
	uint64_t n_new = 0;
	int rc = 0;

	if (b->n == 0)
		return 0;
	if (vc_archive_commit(c->archive, err, sizeof(err)) != VG_OK) {
		/* A file that failed fsync may have lost lines: retry the
		 * whole batch from our pending entries. */
		batch_abort(c, b, err);
		return 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (!b->items[i].added)
			continue;
		n_new++;
		/* Queued only: never waits for the SIEM. */
		if (!b->items[i].misfiled)
			vc_forward_event(c->forward, b->items[i].line,
					 b->items[i].len);
	}
	atomic_fetch_add(&c->archived, n_new);
	if (batch_record(c, b) < 0) {
		/* Archived (the set of ids keeps them, so they are not
		 * archived again) but not recorded: not acknowledged, so
		 * they come back, from our pending entries, to be
		 * recorded. */
		batch_reset(b);
		mark_all_pending(c);
		if (c->r != NULL)
			sleep_ms(c, 1000);
		return -1;
	}
	for (unsigned s = 0; s < c->n_streams && rc == 0; s++)
		rc = ack_stream(c, b, s);
	batch_reset(b);
	return rc;
}

/* The entries array of one stream into the batch. */
static int
add_entries(struct vc_consumer *c, struct batch *b, unsigned s,
	    const struct vg_redis_reply *entries)
{
	char err[256];

	if (entries->type != VG_REPLY_ARRAY)
		return 0;
	for (size_t i = 0; i < entries->n; i++)
		if (add_entry(c, b, s, entries->elements[i], err, sizeof(err)) <
		    0) {
			char ignored[8];

			/* Close the batch's files; it is retried anyway. */
			if (vc_archive_commit(c->archive, ignored,
					      sizeof(ignored)) != VG_OK)
				vg_log(LOG_DEBUG, "archive: commit failed");
			batch_abort(c, b, err);
			return -1;
		}
	return 0;
}

static int
stream_index(const struct vc_consumer *c, const struct vg_redis_reply *k)
{
	for (unsigned i = 0; i < c->n_streams; i++)
		if (k->type == VG_REPLY_STRING &&
		    strlen(c->streams[i].key) == k->len &&
		    memcmp(c->streams[i].key, k->str, k->len) == 0)
			return (int)i;
	return -1;
}

/*
 * XREADGROUP for streams [first, first + n): 1 got entries, 0 none, -1
 * connection lost.
 */
static int
read_streams(struct vc_consumer *c, struct batch *b, unsigned first, unsigned n)
{
	const char **argv;
	size_t *lens;
	struct vg_redis_reply *r = NULL;
	char count[16], block[16];
	unsigned argc = 0;
	int any_pending = 0, got = 0, rc = 0;

	argv = vg_calloc(2 * (size_t)n + 10, sizeof(*argv));
	lens = vg_calloc(2 * (size_t)n + 10, sizeof(*lens));
	if (argv == NULL || lens == NULL) {
		rc = -1;
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		any_pending |= c->streams[first + i].need_pending;
	snprintf(count, sizeof(count), "%u", c->cfg->batch);
	snprintf(block, sizeof(block), "%u", c->cfg->block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = c->cfg->consumer_group;
	argv[argc++] = c->cfg->consumer_name;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	/* Our own pending entries come back at once: no blocking then, and
	 * none in cluster mode, which reads the streams one by one. */
	if (!any_pending && c->cfg->redis_mode != VG_REDIS_CLUSTER) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	for (unsigned i = 0; i < n; i++)
		argv[argc++] = c->streams[first + i].key;
	for (unsigned i = 0; i < n; i++)
		argv[argc++] = c->streams[first + i].need_pending ? "0" : ">";
	for (unsigned i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (command(c, (int)argc, argv, lens, (int)(argc - 2 * n), &r) < 0) {
		rc = -1;
		goto out;
	}
	if (r->type == VG_REPLY_ERROR) {
		log_error_reply(c, "XREADGROUP", r);
		if (is_error(r, "NOGROUP")) {
			/* A stream was deleted and made again: forget
			 * them all, the next discovery makes the groups. */
			for (unsigned i = 0; i < c->n_streams; i++)
				free(c->streams[i].key);
			c->n_streams = 0;
		}
		sleep_ms(c, 1000);
		goto out;
	}
	if (r->type == VG_REPLY_ARRAY) {
		for (size_t i = 0; i < r->n; i++) {
			const struct vg_redis_reply *sr = r->elements[i];
			int s;

			if (sr->type != VG_REPLY_ARRAY || sr->n != 2 ||
			    (s = stream_index(c, sr->elements[0])) < 0)
				continue;
			if (sr->elements[1]->type == VG_REPLY_ARRAY &&
			    sr->elements[1]->n > 0)
				got = 1;
			else
				c->streams[s].need_pending = 0;
			if (add_entries(c, b, (unsigned)s, sr->elements[1]) < 0)
				goto out;
		}
	}
	/* A stream asked for its history that did not answer has none. */
	for (unsigned i = 0; i < n; i++) {
		int seen = 0;

		for (size_t j = 0; r->type == VG_REPLY_ARRAY && j < r->n; j++)
			if (r->elements[j]->type == VG_REPLY_ARRAY &&
			    r->elements[j]->n == 2 &&
			    stream_index(c, r->elements[j]->elements[0]) ==
				(int)(first + i))
				seen = 1;
		if (!seen)
			c->streams[first + i].need_pending = 0;
	}
	if (batch_finish(c, b) < 0)
		rc = -1;
	else
		rc = got;
out:
	batch_reset(b);
	vg_redis_reply_free(r);
	free(argv);
	free(lens);
	return rc;
}

/* XAUTOCLAIM every stream's entries idle longer than claim_idle. */
static int
claim(struct vc_consumer *c, struct batch *b)
{
	char idle[16], count[16], cursor[48];

	snprintf(idle, sizeof(idle), "%u", c->cfg->claim_idle_ms);
	snprintf(count, sizeof(count), "%u", c->cfg->batch);
	for (unsigned s = 0; s < c->n_streams && !atomic_load(&c->stop); s++) {
		snprintf(cursor, sizeof(cursor), "0-0");
		for (unsigned round = 0; round < MAX_CLAIM_ROUNDS; round++) {
			const char *argv[] = {"XAUTOCLAIM",
					      c->streams[s].key,
					      c->cfg->consumer_group,
					      c->cfg->consumer_name,
					      idle,
					      cursor,
					      "COUNT",
					      count};
			struct vg_redis_reply *r = NULL;
			const struct vg_redis_reply *ents;
			int rc;

			if (commandv(c, 8, argv, 1, &r) < 0)
				return -1;
			if (r->type != VG_REPLY_ARRAY || r->n < 2 ||
			    r->elements[0]->type != VG_REPLY_STRING ||
			    r->elements[0]->len >= sizeof(cursor)) {
				if (r->type == VG_REPLY_ERROR)
					log_error_reply(c, "XAUTOCLAIM", r);
				vg_redis_reply_free(r);
				break;
			}
			memcpy(cursor, r->elements[0]->str,
			       r->elements[0]->len + 1);
			ents = r->elements[1];
			if (ents->type == VG_REPLY_ARRAY && ents->n > 0) {
				atomic_fetch_add(&c->claimed, ents->n);
				vg_log(LOG_INFO,
				       "consumer: claimed %zu idle entries of "
				       "%s",
				       ents->n, c->streams[s].key);
			}
			rc = add_entries(c, b, s, ents);
			if (rc == 0)
				rc = batch_finish(c, b);
			batch_reset(b);
			vg_redis_reply_free(r);
			if (rc < 0)
				return c->r ? 0 : -1;
			if (strcmp(cursor, "0-0") == 0)
				break;
		}
	}
	return 0;
}

void
vc_consumer_run(struct vc_consumer *c)
{
	int64_t next_discover = 0, next_claim = 0, next_compact = 0, now;
	unsigned backoff = 100;
	struct batch b = {NULL, 0, 0};

	while (!atomic_load(&c->stop)) {
		now = vg_now_mono_us();
		if (now >= next_compact) {
			(void)vc_archive_compact(c->archive);
			next_compact = now + VC_COMPACT_EVERY_MS * 1000ll;
		}
		if (c->r == NULL) {
			if (connect_redis(c) < 0) {
				sleep_ms(c, backoff);
				backoff = backoff * 2 > VC_BACKOFF_MAX_MS
					      ? VC_BACKOFF_MAX_MS
					      : backoff * 2;
				continue;
			}
			backoff = 100;
			next_discover = 0;
		}
		if (now >= next_discover) {
			if (discover(c) < 0)
				continue;
			next_discover = now + VC_DISCOVER_EVERY_MS * 1000ll;
		}
		if (now >= next_claim) {
			if (claim(c, &b) < 0)
				continue;
			next_claim = now + VC_CLAIM_EVERY_MS * 1000ll;
		}
		if (c->n_streams == 0) {
			sleep_ms(c, c->cfg->block_ms);
			continue;
		}
		if (c->cfg->redis_mode != VG_REDIS_CLUSTER) {
			(void)read_streams(c, &b, 0, c->n_streams);
			continue;
		}
		/* Cluster: a round over the streams, one at a time. */
		{
			int got = 0, rc = 0;

			for (unsigned i = 0; i < c->n_streams && rc >= 0 &&
					     !atomic_load(&c->stop);
			     i++) {
				c->rr = (c->rr + 1) % c->n_streams;
				rc = read_streams(c, &b, c->rr, 1);
				got |= rc > 0;
			}
			if (rc >= 0 && !got)
				sleep_ms(c, c->cfg->block_ms < 100
						? c->cfg->block_ms
						: 100);
		}
	}
	if (vc_archive_commit(c->archive, NULL, 0) != VG_OK)
		vg_log(LOG_ERR, "archive: last commit failed");
	batch_reset(&b);
	free(b.items);
}
