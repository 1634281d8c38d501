/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's side of signed rule distribution: poll vigil:rules:bundle
 * (rules.bundle.poll), check each new bundle against the pinned key
 * (rules.bundle.public_key), extract it into rules.bundle.dir/vN, and,
 * once the daemon's reload with it has worked, record N in
 * rules.bundle.dir/current so that no restart can go back to an older
 * one. Every refusal is logged, counted and raised once as an alert.
 *
 * Two threads. The poller's own thread (vg_bundlepoll_start) polls every
 * rules.bundle.poll seconds: the network, the checks and the extraction
 * happen there, so a Redis that does not answer never holds the daemon's
 * main loop (signals, the watchdog, stats). The main loop (main.c) asks
 * without blocking whether a bundle awaits it (vg_bundlepoll_take),
 * reloads with its folder and calls vg_bundlepoll_commit(); until then
 * the thread waits. Every function here but vg_bundlepoll_stats_kv is
 * the main loop's (its thread, or the thread that set the poller up
 * before it started): one caller thread, besides the poller's own. The
 * counters may be read from any thread. Refusal alerts go to the output
 * from either thread (vg_output_submit takes events from any).
 */
#ifndef VG_BUNDLEPOLL_H
#define VG_BUNDLEPOLL_H

#include "common.h"
#include "config.h"

#include <stdio.h>

/* rules.bundle.dir when the file does not say. */
#define VG_BUNDLE_DIR_DEFAULT "/var/lib/vigil/bundle"

struct vg_bundlepoll;
struct vg_output;
struct vg_event_ctx;
struct vg_stat_kv;

/* Stats keys vg_bundlepoll_stats_kv fills (at most this many). */
#define VG_BUNDLEPOLL_STATS 5

/* The longest vg_bundlepoll_stop() waits for the poller thread. */
#define VG_BUNDLEPOLL_STOP_MS 1000

/*
 * Prepare polling for cfg (borrowed for the poller's life: the Redis
 * settings are read at each connect): load the pinned key, make
 * rules.bundle.dir when missing (0755), read the version in force from
 * its "current" (when its folder DIR/vN is missing, as
 * vg_bundlepoll_unload). Nothing is fetched yet, no thread started.
 * Returns VG_OK (*out owned: vg_bundlepoll_free), VG_EINVAL (no
 * rules.bundle.public_key or no output.redis, or a key that is not an Ed25519
 * public key), VG_EIO (the folder or "current" cannot be used) or VG_ENOMEM;
 * err says why.
 */
enum vg_err vg_bundlepoll_new(struct vg_bundlepoll **out,
			      const struct vg_config *cfg, char *err,
			      size_t errlen) VG_MUST_CHECK;

/* Stop the thread (vg_bundlepoll_stop), close the Redis connection and
 * free; accepts NULL. A thread that would not stop (see stop) keeps the
 * memory, which is then left to the end of the process. */
void vg_bundlepoll_free(struct vg_bundlepoll *bp);

/* Where refusal alerts go (borrowed until the poller is freed or this is
 * called again; NULL: log lines only). Before vg_bundlepoll_start. bp
 * may be NULL. */
void vg_bundlepoll_set_output(struct vg_bundlepoll *bp, struct vg_output *out,
			      const struct vg_event_ctx *ctx);

/* The folder of the bundle in force ("DIR/vN"; borrowed until the next
 * commit), or NULL when none is or it is not used (vg_bundlepoll_unload). */
const char *vg_bundlepoll_current_dir(const struct vg_bundlepoll *bp);

/* The version in force, 0 for none: the floor, which a bundle must pass,
 * also while that bundle is not used (vg_bundlepoll_unload). */
uint64_t vg_bundlepoll_version(const struct vg_bundlepoll *bp);

/*
 * Start: the bundle in force could not be used with the local
 * configuration (its rules, YARA rules or IoC lists do not load with it):
 * run without it. A WARNING line; vg_bundlepoll_current_dir() is NULL and
 * the stats say rules.bundle_version 0 from now on (and
 * rules.bundle_refused one more), until a newer bundle is committed; the
 * floor stays (an older or equal bundle is still a rollback); the alert
 * (VG_BUNDLE_START, 9000115) is raised by vg_bundlepoll_start(), once the
 * output is known. Before vg_bundlepoll_start; nothing when no bundle is
 * in force. bp may be NULL.
 */
void vg_bundlepoll_unload(struct vg_bundlepoll *bp);

/*
 * Start the poller thread: a poll at once, then every rules.bundle.poll
 * seconds. Call it with SIGTERM, SIGINT and SIGHUP blocked (the thread
 * inherits the mask) and after the packet child is forked (main.c).
 * An alert vg_bundlepoll_unload() left is raised first. Returns VG_OK
 * (also for bp NULL or a thread already started) or VG_EIO (no thread;
 * err says so).
 */
enum vg_err vg_bundlepoll_start(struct vg_bundlepoll *bp, char *err,
				size_t errlen) VG_MUST_CHECK;

/*
 * Whether the thread has a new bundle for the main loop: checked
 * (signature, key id, format, limits, version above the one in force)
 * and extracted into DIR/vN. Does not block.
 * Returns:
 *  VG_OK      *dir (borrowed until the commit) holds it: reload with it,
 *             then call vg_bundlepoll_commit(); the thread polls no more
 *             until then.
 *  VG_EAGAIN  nothing awaits (*dir NULL; bp may be NULL). Refusals and
 *             poll errors are logged and counted by the thread.
 */
enum vg_err vg_bundlepoll_take(struct vg_bundlepoll *bp,
			       const char **dir) VG_MUST_CHECK;

/*
 * The reload with the bundle taken: ok nonzero puts it in force
 * ("current" rewritten atomically; versions other than it and the
 * previous one removed). ok 0 refuses it (VG_BUNDLE_RULES, with errors as
 * the detail; may be NULL) and removes its folder. Either way the thread
 * polls again. Nothing when no bundle was taken; bp may be NULL.
 */
void vg_bundlepoll_commit(struct vg_bundlepoll *bp, int ok, const char *errors);

/*
 * Stop the poller thread and wait for it: at most VG_BUNDLEPOLL_STOP_MS,
 * whatever Redis does (a wait between polls is woken, a Redis call under
 * way is cancelled within VG_NET_CANCEL_MS). Only what cannot be
 * interrupted (a name lookup, a slow disk while extracting) outlasts it:
 * then a WARNING, and the thread is left to end with the process. A
 * bundle extracted but not taken stays on disk (tried again at the next
 * start). Nothing when not started; bp may be NULL.
 */
void vg_bundlepoll_stop(struct vg_bundlepoll *bp);

/*
 * "rules.bundle_version", "rules.bundle_applied", "rules.bundle_refused",
 * "rules.bundle_polls", "rules.bundle_poll_errors" into kv (room entries;
 * at most VG_BUNDLEPOLL_STATS). Returns how many. Any thread. bp may be
 * NULL (nothing written).
 */
size_t vg_bundlepoll_stats_kv(const struct vg_bundlepoll *bp,
			      struct vg_stat_kv *kv, size_t room);

/*
 * Add the rules of a bundle folder dir (DIR/vN) to cfg: dir/network to
 * detection.rules, dir/yara to files.rules (when it holds rules), each
 * dir/ioc/NAME-TYPE.txt to detection.ioc as list NAME-TYPE (replacing a
 * configured list of that name). A list left to the shipped default gets
 * the shipped entries first (shipped: the folder holding network/, yara/
 * and ioc/; may be NULL), so the bundle adds to them. Returns VG_OK,
 * VG_ELIMIT (a list would pass VG_CONFIG_MAX_LIST; a line to errs) or
 * VG_ENOMEM. dir NULL: nothing to do.
 */
enum vg_err vg_bundle_extend_config(struct vg_config *cfg, const char *dir,
				    const char *shipped,
				    FILE *errs) VG_MUST_CHECK;

#endif /* VG_BUNDLEPOLL_H */
