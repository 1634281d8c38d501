/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis publisher: events to the center's stream, losing no alert.
 *
 * The output thread hands every event line to vg_publish_event(). Alerts
 * and fileinfo events (the durable kinds) are appended to the on-disk spool
 * first (spool.h); flow, stats and agent events wait in a bounded memory
 * queue and are dropped, counted, when it is full. A thread of its own
 * sends both with pipelined XADDs ("type", "id" and "eve" fields, MAXLEN ~)
 * to the stream of the agent's agency, and moves the spool's read position
 * only past what Redis acknowledged. It reconnects with exponential backoff
 * and jitter; an error reply (NOPERM...) is logged once and the event stays
 * spooled. A crash or an outage costs at worst a duplicate, which the
 * center drops by vigil.event_id.
 */
#ifndef VG_PUBLISH_H
#define VG_PUBLISH_H

#include "common.h"
#include "config.h"
#include "redis.h"

#include <stdbool.h>

struct vg_publish;

struct vg_publish_stats {
	uint64_t sent;           /* entries Redis acknowledged */
	uint64_t reply_errors;   /* error replies (NOPERM, ...) */
	uint64_t connects;       /* successful connections */
	uint64_t connect_errors; /* failed attempts */
	uint64_t dropped;        /* best-effort events dropped (queue full) */
	uint64_t spooled;        /* durable events appended to the spool */
	uint64_t spool_full;     /* durable events refused: spool full */
	uint64_t spool_errors;   /* durable events refused: an I/O error or
				    an oversized event */
	uint64_t spool_pending;  /* records not yet acknowledged */
	uint64_t spool_bytes;    /* on disk */
	uint64_t spool_torn;     /* torn or corrupt records skipped */
	uint64_t queued;         /* best-effort events waiting */
	bool connected;
};

/*
 * Open the spool (output.spool.dir) and start the sending thread for
 * cfg's output.redis (borrowed for the life of the publisher; url must be
 * set). What the spool holds from an earlier run is sent first. VG_OK,
 * VG_EIO (err says why: the spool folder, the password file) or
 * VG_ENOMEM. Connecting is the thread's business: Redis may be down.
 */
enum vg_err vg_publish_open(struct vg_publish **out,
			    const struct vg_config *cfg, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* One event (a JSON line without its newline; copied). Output thread
 * only. */
void vg_publish_event(struct vg_publish *p, const char *line, size_t len);

/*
 * Wait until everything handed over so far is acknowledged, at most
 * timeout_ms: 1 when all was sent, 0 otherwise (what is left of the
 * durable kinds stays in the spool, synced to disk).
 */
int vg_publish_drain(struct vg_publish *p, unsigned timeout_ms);

/* Stop the thread, sync and close the spool, free. Accepts NULL. */
void vg_publish_close(struct vg_publish *p);

void vg_publish_stats(struct vg_publish *p, struct vg_publish_stats *st);

/* The stream key for cfg (the template with AGENCY and AGENT_ID filled
 * in) into out; false when it does not fit. */
bool vg_publish_stream_key(const struct vg_config *cfg, char *out,
			   size_t outlen);

/*
 * The Redis options of cfg's output.redis into *ro (initialised here;
 * it borrows cfg's strings), the password read from password_file when
 * one is named: *password is then an owned copy (wipe and free() it
 * after *ro), else NULL. VG_OK, or VG_EIO with err naming the file.
 */
enum vg_err vg_publish_redis_opts(const struct vg_config *cfg,
				  struct vg_redis_opts *ro, char **password,
				  char *err, size_t errlen) VG_MUST_CHECK;

#endif /* VG_PUBLISH_H */
