/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collectors' shared view in Redis: what every collector of a center
 * shows, whichever collector of the group consumed an event.
 *
 * Writers: the consumer (consumer.c), after an event is archived and
 * before it is acknowledged, records it with vc_shared_record(): one Lua
 * script per batch drops what another collector recorded already (a set
 * of event ids), appends alert and fileinfo events to a capped stream,
 * counts them per minute (severity, agency, signature, source country)
 * and updates the agent records. Readers: every collector tails that
 * stream into its local store (the alerts, one event, the SSE stream) and
 * answers /api/stats/timeseries and /api/agents from the counts and the
 * agent records (struct vc_view).
 *
 * Every key lives under one hash tag, "vigil:center:{NAME}:" (center.name
 * in collector.yaml), so that one script may touch them all in Redis
 * Cluster; the layout is documented in API.md ("Several collectors").
 */
#ifndef VC_SHARED_H
#define VC_SHARED_H

#include "common.h"
#include "config.h"

#include <jansson.h>
#include <stdint.h>

/* Hard caps (STYLE.md: every growable thing has one). */
#define VC_SHARED_SEEN_MAX    2000000u /* event ids in the seen set */
#define VC_SHARED_SEEN_AGE_US (25 * 3600 * INT64_C(1000000))
#define VC_SHARED_MIN_FIELDS                                                   \
	1000u                        /* agencies, signatures, countries kept   \
					per minute (each) */
#define VC_SHARED_MAX_NAME   128     /* bytes of agency, agent id, host... */
#define VC_SHARED_MAX_SIG    256     /* bytes of a signature counted */
#define VC_SHARED_MINUTES    1440    /* per-minute counts kept (24 h) */
#define VC_SHARED_PER_CALL   512     /* events per script call */
#define VC_SHARED_CACHE_US   1000000 /* reads answered from a cache */
#define VC_SHARED_DEF_HB_S   30      /* stats interval when not inferred */
#define VC_SHARED_MAX_PREFIX 96

struct vg_redis;
struct vc_store;

/* The key prefix of cfg's center: "vigil:center:{NAME}:" into buf. */
void vc_shared_prefix(const struct vc_config *cfg,
		      char buf[VC_SHARED_MAX_PREFIX]);

/*
 * One event to record, made by vc_shared_prepare(). The strings are
 * copies (NUL-terminated, "" when absent or over their cap), except eve,
 * which is borrowed from the caller.
 */
struct vc_shared_ev {
	char id[33];  /* hex of the 16-byte dedupe key */
	char ts[24];  /* microseconds since the epoch; "": no valid time */
	char kind[2]; /* a(lert), f(ileinfo), s(tats), o(ther) */
	char sev[2];  /* "1".."4" */
	char agency[VC_SHARED_MAX_NAME + 1];
	char sig[VC_SHARED_MAX_SIG + 24]; /* "SID|signature" or "|signature" */
	char country[9];
	char agent[VC_SHARED_MAX_NAME + 1];
	char host[VC_SHARED_MAX_NAME + 1];
	char version[VC_SHARED_MAX_NAME + 1];
	char drops[24], pending[24], uptime[24]; /* "": none */
	const char *eve; /* the line for the recent stream, or NULL */
	size_t eve_len;
};

/*
 * Fill e from the parsed event ev (borrowed) and its text line (len
 * bytes, borrowed: must outlive the vc_shared_record() call). key is the
 * consumer's 16-byte dedupe key of the event. Alert and fileinfo events
 * with a UUID vigil.event_id and a valid timestamp get eve set (the same
 * events the store keeps): only those are counted, and deduped by key.
 * Any event with a valid timestamp and a vigil.agent_id updates its
 * agent; one with neither has nothing to record (the caller may skip it).
 */
void vc_shared_prepare(struct vc_shared_ev *e, json_t *ev,
		       const uint8_t key[16], const char *line, size_t len);

/* The script's SHA1, learnt from the server (caller's storage, start
 * zeroed). */
struct vc_shared_script {
	char sha[48];
};

/*
 * Record n events on r (borrowed; one thread at a time), in script calls
 * of at most VC_SHARED_PER_CALL events, each atomic. *n_new (may be NULL)
 * gets how many were new to the center (the others were recorded before,
 * by this or another collector).
 * Returns VG_OK; VG_EIO when the connection failed (as
 * vg_redis_command(): the next call reconnects) or the server refused the
 * script (an ERROR reply, e.g. NOPERM; err quotes it): some calls may
 * have been executed, and recording the same events again counts none of
 * them twice; VG_ENOMEM.
 */
enum vg_err vc_shared_record(struct vg_redis *r, const struct vc_config *cfg,
			     struct vc_shared_script *sc,
			     const struct vc_shared_ev *e, size_t n,
			     uint64_t *n_new, char *err,
			     size_t errlen) VG_MUST_CHECK;

/*
 * The reading side of one collector: a thread tailing the recent stream
 * into the store, and the aggregates for the HTTP API (own connections).
 */
struct vc_view;

/*
 * A view for cfg (borrowed until vc_view_free()) feeding store
 * (borrowed). Starts the tail thread, which connects (and reconnects)
 * by itself and first loads the stream's whole history. VG_OK with *out
 * (owned: vc_view_free()), VG_ENOMEM or VG_EIO (thread not started; err).
 */
enum vg_err vc_view_start(struct vc_view **out, const struct vc_config *cfg,
			  struct vc_store *store, char *err,
			  size_t errlen) VG_MUST_CHECK;

/* Stop the tail thread (within about block_ms) and free; accepts NULL. */
void vc_view_free(struct vc_view *v);

/*
 * The body of GET /api/stats/timeseries for the last `minutes`
 * (1..VC_SHARED_MINUTES) and of GET /api/agents (API.md), computed from
 * Redis, the same on every collector of the center. An answer less than
 * VC_SHARED_CACHE_US old is reused. Thread-safe (one mutex, one
 * connection).
 * Returns VG_OK with *out (owned: json_decref()); VG_EIO when Redis
 * cannot be reached or refused the script (err says why; the HTTP
 * answer is then 503); VG_ENOMEM.
 */
enum vg_err vc_view_timeseries(struct vc_view *v, unsigned minutes,
			       json_t **out, char *err,
			       size_t errlen) VG_MUST_CHECK;
enum vg_err vc_view_agents(struct vc_view *v, json_t **out, char *err,
			   size_t errlen) VG_MUST_CHECK;

#endif /* VC_SHARED_H */
