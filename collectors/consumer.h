/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's consumer: reads every agency's stream
 * (vigil:events:{AGENCY}) as one member of a Redis consumer group, drops
 * duplicates by event id, archives each event, records it in the
 * center's shared view (shared.h; every collector's store is fed from
 * there), and acknowledges a batch only once its archive files are
 * fsync'd and its events recorded.
 * Entries left pending by a dead member are taken over with XAUTOCLAIM.
 *
 * main.c runs vc_consumer_run() in a thread of its own and calls
 * vc_consumer_stop() from the signal-handling thread.
 */
#ifndef VC_CONSUMER_H
#define VC_CONSUMER_H

#include "common.h"
#include "config.h"

#define VC_DEDUPE_IDS        1000000u /* recent event ids remembered */
#define VC_MAX_STREAMS       4096u    /* agency streams followed */
#define VC_DISCOVER_EVERY_MS 10000u
#define VC_CLAIM_EVERY_MS    10000u
#define VC_COMPACT_EVERY_MS  3600000u
#define VC_BACKOFF_MAX_MS    10000u
#define VC_STREAM_AGENCY_MAX 64u /* longer: the event's own agency is used */

struct vc_consumer;
struct vc_store;

/*
 * A consumer for cfg (borrowed: valid until vc_consumer_free()), telling
 * store (borrowed; may be NULL) whether Redis is up, archiving events in
 * cfg->archive_dir. Does not connect yet. VG_OK with *out (owned:
 * vc_consumer_free()), VG_EIO (the archive directory; err says why) or
 * VG_ENOMEM.
 */
enum vg_err vc_consumer_new(struct vc_consumer **out,
			    const struct vc_config *cfg, struct vc_store *store,
			    char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Consume until vc_consumer_stop(): connect (reconnecting with backoff
 * whenever Redis fails), discover streams every 10 s, read, archive,
 * acknowledge, claim. Returns after the batch in progress is finished
 * (within about block_ms of the stop).
 */
void vc_consumer_run(struct vc_consumer *c);

/* Ask vc_consumer_run() to return. Thread-safe. */
void vc_consumer_stop(struct vc_consumer *c);

/* Events archived, duplicates dropped, entries acknowledged so far.
 * Thread-safe. */
struct vc_consumer_stats {
	uint64_t archived, duplicates, malformed, acked, claimed;
	uint64_t misfiled; /* archived, but claiming another agency */
};
void vc_consumer_stats(const struct vc_consumer *c,
		       struct vc_consumer_stats *st);

/* Free (the Redis connection closed); accepts NULL. */
void vc_consumer_free(struct vc_consumer *c);

#endif /* VC_CONSUMER_H */
