/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet pipeline: capture threads, worker threads and the publisher,
 * wired as ARCHITECTURE.md "Threads and queues" describes.
 *
 * One capture thread per source (a live interface, or the list of capture
 * files of a replay, read in order) decodes each frame, picks the worker
 * that owns its flow by a symmetric hash, and copies the frame into that
 * worker's ring. Live capture never blocks: a full ring is a counted drop.
 * Replay waits instead, so it never drops. Each worker owns a shard of the
 * flow table and its own nDPI module, and encodes the events of its flows;
 * the publisher writes them out.
 */
#ifndef VG_ENGINE_H
#define VG_ENGINE_H

#include "common.h"
#include "config.h"

struct vg_detect;

#include <stdio.h>
#include <sys/types.h>

struct vg_engine;

struct vg_engine_opts {
	const struct vg_config *cfg; /* borrowed for the engine's life */
	const char *output;          /* "-", a path, or NULL: cfg's */
	unsigned workers;            /* 0: cfg's (or automatic) */
	int offline;                 /* replay: lossless, packet time only */
	int flow_events;             /* emit "flow" events */
	struct vg_detect *detect;    /* rules etc.; NULL: none. Borrowed
					until swapped out or the engine is
					freed */
	int files_only;              /* start without capture sources (an
					agent that only scans files) */
};

struct vg_stat_kv;

/* Extra counters for stats events: fill at most room entries of kv and
 * return how many (called from the thread emitting the event). */
typedef size_t (*vg_engine_stats_fn)(void *arg, struct vg_stat_kv *kv,
				     size_t room);

/* Make an engine (no thread started yet). On error, err says why. */
enum vg_err vg_engine_new(struct vg_engine **out,
			  const struct vg_engine_opts *opts, char *err,
			  size_t errlen) VG_MUST_CHECK;

/* Sources: capture files (offline) or the config's live interfaces. The
 * files are opened here so that an unreadable one fails before anything
 * runs. */
enum vg_err vg_engine_add_files(struct vg_engine *e, char *const *paths, int n,
				char *err, size_t errlen) VG_MUST_CHECK;
enum vg_err vg_engine_add_ifaces(struct vg_engine *e, char *err,
				 size_t errlen) VG_MUST_CHECK;

/* Start every thread. */
enum vg_err vg_engine_start(struct vg_engine *e, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* Wait up to timeout_ms for all sources to end (replay: end of files).
 * 1 when they have, 0 on timeout. */
int vg_engine_wait_sources(struct vg_engine *e, unsigned timeout_ms);

/*
 * Start with the packet path in a sandboxed child (sandbox.h,
 * sandbox.packets), instead of vg_engine_start: the output (publisher,
 * sinks) stays here; the capture handles (and a replay's files, opened
 * here) go to a child that drops every credential, runs the capture and
 * worker threads, and sends its events and counters over a socketpair,
 * which this process checks. Needs at least one source.
 */
enum vg_err vg_engine_start_sandboxed(struct vg_engine *e, char *err,
				      size_t errlen) VG_MUST_CHECK;

/*
 * Main thread, every turn of its loop and on SIGCHLD: reap a packet child
 * that ended; a live one that died (seccomp's SIGSYS, a crash) is
 * logged, reported as an "agent" event (action "sandbox", status
 * "failed"), counted (sandbox.restarts, sandbox.last_signal) and
 * restarted on fresh capture handles after a backoff (1 s, doubling to
 * 30 s). A replay's child is not restarted. No-op unless sandboxed.
 */
void vg_engine_tick(struct vg_engine *e);

/*
 * Liveness for the service watchdog (main thread, at most every few
 * hundred ms): 1 if every worker thread has turned its loop since the
 * previous call. Busy or idle, a worker turns at least every
 * millisecond; one stuck in a call (nDPI, a rule, a lock) or one that
 * ended makes this 0. Capture threads are not counted: on a quiet link
 * they wait in pcap for the next packet as long as it takes, which
 * cannot be told from a hang.
 */
int vg_engine_alive(struct vg_engine *e);

/* Queue a "stats" event now (from the main thread's timer). */
void vg_engine_emit_stats(struct vg_engine *e);

/* Room a counter snapshot needs (vg_engine_stats): the stats event's
 * counters and four per live interface. */
#define VG_ENGINE_STATS_MAX (96 + 32 + 64 + 4 * VG_CONFIG_MAX_IFACES)

/*
 * The counters of a stats event, without emitting one: the very same
 * keys and values (the file scanner's too, via the stats hook), then each
 * live interface's share of the capture counters ("iface.packets.NAME",
 * "iface.kernel_drops.NAME", "iface.if_drops.NAME",
 * "iface.ring_drops.NAME"), into kv
 * (room entries, at least VG_ENGINE_STATS_MAX, or nothing is written),
 * and the engine's uptime into *uptime_s. Keys are borrowed: valid for
 * the engine's life. Returns how many entries were filled. Any thread
 * (the control socket and the metrics endpoint call it); it takes the
 * lock that serialises stats events, never one of the packet path's.
 */
size_t vg_engine_stats(struct vg_engine *e, struct vg_stat_kv *kv, size_t room,
		       double *uptime_s);

/* Stop capture, drain the rings, end every flow, emit a last stats event,
 * flush the output and join all threads. Idempotent. */
void vg_engine_stop(struct vg_engine *e);

/* Human-readable summary (flows by protocol, risks, drops, output). */
void vg_engine_summary(struct vg_engine *e, FILE *out);

/*
 * Put detection set d in force (a reload) and return the previous one,
 * once no worker uses it any more: the caller frees it. Main thread only.
 * Sandboxed, the packet child is restarted on d: its flows end (reason
 * "reload") and its events are drained first.
 */
struct vg_detect *vg_engine_swap_detect(struct vg_engine *e,
					struct vg_detect *d);

/* The detection set in force (main thread). */
struct vg_detect *vg_engine_detect(struct vg_engine *e);

/* Report a reload: an "agent" event (error level when it failed) with the
 * given text (error lines, or a one-line summary), and a counter. */
void vg_engine_reload_failed(struct vg_engine *e, const char *errors);
void vg_engine_reloaded(struct vg_engine *e, const char *detail);

/* The output every event of this engine goes to (borrowed; valid from
 * vg_engine_start until vg_engine_stop), and the fields events carry. */
struct vg_output *vg_engine_output(struct vg_engine *e);
const struct vg_event_ctx *vg_engine_ctx(struct vg_engine *e);

/* Add fn's counters to every stats event from now on (main thread, after
 * start). fn may be NULL to stop. */
void vg_engine_set_stats_hook(struct vg_engine *e, vg_engine_stats_fn fn,
			      void *arg);

/* Number of capture read errors (truncated files...) seen. */
uint64_t vg_engine_read_errors(struct vg_engine *e);

/* Accepts NULL. Stops first if needed. */
void vg_engine_free(struct vg_engine *e);

#endif /* VG_ENGINE_H */
