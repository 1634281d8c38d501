/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's in-memory view of the recent events: a bounded ring of
 * the last alert and fileinfo events (indexed by vigil.event_id). The
 * agents and the per-minute counts are kept in Redis instead, shared by
 * every collector of the center (shared.h).
 *
 * The tail of the center's recent stream (shared.c) feeds it with
 * vc_store_add(); the HTTP server (http.c) reads it. Every function is
 * thread-safe (one mutex), and every query copies out what it returns, so
 * nothing handed out is borrowed from the store.
 */
#ifndef VC_STORE_H
#define VC_STORE_H

#include "../agent/common.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct vc_store;

/* Hard caps (STYLE.md: every growable thing has one). */
#define VC_STORE_MAX_EVENTS 1000000       /* max_events is clamped to this */
#define VC_STORE_MAX_EVENT  (1024 * 1024) /* bytes of one EVE line */

/* Nesting of one event, objects and arrays (jansson's parser bound). */
#define VC_STORE_MAX_DEPTH JSON_PARSER_MAX_DEPTH

/*
 * A new store keeping the last max_events (at least 1, at most
 * VC_STORE_MAX_EVENTS) alert and fileinfo events. Owned: free with
 * vc_store_free(). NULL when out of memory.
 */
struct vc_store *vc_store_new(size_t max_events);

/*
 * Take one EVE event (len bytes, no NUL needed; copied). Alert and fileinfo
 * events go to the ring (a duplicate vigil.event_id is dropped); other
 * event types are counted only. What does not parse, or lacks a UUID event
 * id or a valid timestamp, is ignored and counted (vc_store_counters()).
 */
void vc_store_add(struct vc_store *s, const char *eve_json, size_t len);

/* Frees the store; accepts NULL. No other thread may still use it. */
void vc_store_free(struct vc_store *s);

/* What vc_store_add() did with its input, since vc_store_new(). */
struct vc_store_counters {
	uint64_t added;      /* alert/fileinfo events put in the ring */
	uint64_t duplicates; /* dropped: event id already in the ring */
	uint64_t malformed;  /* not a JSON object, or too large */
	uint64_t invalid;    /* JSON, but no UUID event id or bad timestamp */
	uint64_t other;      /* other event types (stats, flow, ...) */
	uint64_t evicted;    /* pushed out of the ring by newer events */
};
void vc_store_counters(struct vc_store *s, struct vc_store_counters *out);

/* Redis state for /healthz, set by the consumer (default: up). */
void vc_store_set_redis_up(struct vc_store *s, int up);
int vc_store_redis_up(struct vc_store *s);

/* ---- Queries (http.c) ---- */

enum vc_type { VC_TYPE_ANY = 0, VC_TYPE_ALERT, VC_TYPE_FILEINFO };

/* Filters of GET /api/alerts; borrowed strings, NULL for "any". */
struct vc_query {
	const char *agency;
	int severity; /* 1..4, 0: any */
	enum vc_type type;
	int64_t since_us;   /* INT64_MIN: none */
	int64_t until_us;   /* INT64_MAX: none */
	const char *q;      /* case-insensitive substring (ASCII folding) */
	size_t limit;       /* 1..1000 */
	const char *before; /* an event id, NULL: none */
};

/* Result of a query: n event texts (owned, NUL-terminated, lens[i] bytes)
 * and next (owned event id or NULL). Release with vc_result_fini(). */
struct vc_result {
	char **items;
	size_t *lens;
	size_t n;
	char *next;
};

/*
 * Run a query, newest first (timestamp, then event id, descending).
 * VG_OK; VG_EINVAL when q->before is not an event in the store; VG_ENOMEM.
 * On failure *out is empty.
 */
enum vg_err vc_store_query(struct vc_store *s, const struct vc_query *q,
			   struct vc_result *out) VG_MUST_CHECK;
void vc_result_fini(struct vc_result *r);

/* The event with that id: an owned copy (free()) of its text, its length
 * in *len; NULL when unknown or out of memory. */
char *vc_store_get(struct vc_store *s, const char *id, size_t *len);

/*
 * For the event stream. *seq is the caller's position (start with
 * vc_store_seq()). Waits up to timeout_ms for an event newer than *seq,
 * or until *stop becomes true (see vc_store_wake()). Returns 1 with an
 * owned copy of the next event (*out, *len, its id in id[37]) and *seq
 * advanced; 0 on timeout or stop; -1 when out of memory. A reader that
 * fell behind the ring skips what was evicted.
 */
uint64_t vc_store_seq(struct vc_store *s);
int vc_store_next(struct vc_store *s, uint64_t *seq, int timeout_ms,
		  const atomic_int *stop, char **out, size_t *len, char id[37]);
/* Wake every vc_store_next() waiter (after setting its stop flag). */
void vc_store_wake(struct vc_store *s);

/*
 * Parse an RFC 3339 time with a zone ("2026-12-01T08:00:00Z",
 * "...+07:00", and the agent's "...00.123456+0000") into microseconds
 * since the epoch. VG_OK or VG_EINVAL.
 */
enum vg_err vc_parse_time(const char *s, int64_t *us) VG_MUST_CHECK;

/* True when s is a UUID in text form (8-4-4-4-12 hex digits). */
int vc_is_uuid(const char *s);

#endif /* VC_STORE_H */
