/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's side of signed rule distribution: poll vigil:rules:bundle
 * (rules.bundle.poll), check each new bundle against the pinned key
 * (rules.bundle.public_key), extract it into rules.bundle.dir/vN, and,
 * once the daemon's reload with it has worked, record N in
 * rules.bundle.dir/current so that no restart can go back to an older
 * one. Every refusal is logged, counted and raised once as an alert.
 *
 * It runs in the daemon's main loop (main.c): vg_bundlepoll_fetch() when
 * vg_bundlepoll_due(), a reload with the extracted folder, then
 * vg_bundlepoll_commit(). One thread: the main loop's. The counters
 * (vg_bundlepoll_stats_kv) may be read from any thread.
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

/*
 * Prepare polling for cfg (borrowed for the poller's life): load the
 * pinned key, make rules.bundle.dir when missing (0755), read the version
 * in force from its "current". Nothing is fetched yet.
 * Returns VG_OK (*out owned: vg_bundlepoll_free), VG_EINVAL (no
 * rules.bundle.public_key or no output.redis, or a key that is not an Ed25519
 * public key), VG_EIO (the folder or "current" cannot be used) or VG_ENOMEM;
 * err says why.
 */
enum vg_err vg_bundlepoll_new(struct vg_bundlepoll **out,
			      const struct vg_config *cfg, char *err,
			      size_t errlen) VG_MUST_CHECK;

/* Close the Redis connection and free; accepts NULL. */
void vg_bundlepoll_free(struct vg_bundlepoll *bp);

/* Where refusal alerts go (borrowed until the poller is freed or this is
 * called again; NULL: log lines only). bp may be NULL. */
void vg_bundlepoll_set_output(struct vg_bundlepoll *bp, struct vg_output *out,
			      const struct vg_event_ctx *ctx);

/* The folder of the bundle in force ("DIR/vN"; borrowed until the next
 * commit), or NULL when none is. */
const char *vg_bundlepoll_current_dir(const struct vg_bundlepoll *bp);

/* The version in force, 0 for none. */
uint64_t vg_bundlepoll_version(const struct vg_bundlepoll *bp);

/* Whether a poll is due at monotonic time now_us (the first one is due at
 * once). */
int vg_bundlepoll_due(struct vg_bundlepoll *bp, int64_t now_us);

/*
 * Poll once: STRLEN and GET vigil:rules:bundle. A bundle not seen before
 * is checked (signature, key id, format, limits, version above the one in
 * force) and extracted into DIR/vN.
 * Returns:
 *  VG_OK      *dir (borrowed until commit) holds the new bundle: reload
 *             with it, then call vg_bundlepoll_commit().
 *  VG_EAGAIN  nothing new (no key, the bundle in force, one already
 *             refused), or Redis could not be asked (logged, counted,
 *             asked again at the next poll).
 *  VG_EINVAL  the bundle was refused (logged, counted, alert raised).
 */
enum vg_err vg_bundlepoll_fetch(struct vg_bundlepoll *bp,
				const char **dir) VG_MUST_CHECK;

/*
 * The reload with the fetched bundle: ok nonzero puts it in force
 * ("current" rewritten atomically; versions other than it and the
 * previous one removed). ok 0 refuses it (VG_BUNDLE_RULES, with errors as
 * the detail; may be NULL) and removes its folder.
 */
void vg_bundlepoll_commit(struct vg_bundlepoll *bp, int ok, const char *errors);

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
