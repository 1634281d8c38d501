/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file scanner: watched folders, scheduled and on-demand scans, YARA,
 * quarantine, and the fileinfo and alert events they produce.
 *
 * Three kinds of thread feed on one compiled rule set (yarascan.h):
 *
 *   watcher    one inotify instance over every folder of the watched trees.
 *              A file closed after writing, or moved in, is scanned once it
 *              has stayed untouched for files.settle seconds; a new folder
 *              is watched at once and walked for what was created in it
 *              before the watch; a queue overflow rescans the trees.
 *   pool       files.threads scanner threads draining a bounded queue (the
 *              watcher's files and on-demand scans), one YR_SCANNER each,
 *              or, sandboxed (scanner_exe), one scanner child each: the
 *              thread opens and checks the file and hands the child its
 *              descriptor; the child reads, hashes and scans it.
 *   scheduler  one thread at idle CPU and I/O priority walking the trees
 *              every files.schedule seconds, and the folders the watch
 *              limit left unwatched.
 *
 * Every file is opened beneath its tree's root without following a symbolic
 * link (openat2 RESOLVE_NO_SYMLINKS), checked with fstat on that descriptor
 * (a regular file, within files.max_size), read through it, hashed and
 * scanned from the same bytes. A verdict cache keyed by device, inode, size,
 * mtime, ctime and rule-set version skips files that have not changed since
 * the rules last saw them.
 */
#ifndef VG_FILESCAN_H
#define VG_FILESCAN_H

#include "common.h"
#include "config.h"
#include "event.h"
#include "output.h"

#include <stdio.h>

struct vg_filescan;
struct vg_filescan_hashes;
struct vg_yara;

struct vg_filescan_opts {
	const struct vg_config *cfg;       /* files.*: borrowed for the life */
	struct vg_yara *rules;             /* the set to start with: a reference
					      is taken */
	struct vg_output *out;             /* where events go (borrowed) */
	const struct vg_event_ctx *ctx;    /* borrowed */
	unsigned threads;                  /* 0: cfg's files.threads */
	const char *quarantine;            /* NULL: cfg's files.quarantine;
					      "" : off */
	struct vg_filescan_hashes *hashes; /* SHA-256 IoC lists; NULL:
					      none. A reference is taken */
	const char *scanner_exe; /* set: each scanning thread hands its
				    files to a sandboxed child started from
				    this binary (scanchild.h); NULL: the
				    threads scan them */
};

struct vg_filescan_stats {
	uint64_t scanned;          /* files scanned */
	uint64_t bytes;            /* bytes scanned */
	uint64_t matched;          /* files with a YARA match or a listed
				      SHA-256 */
	uint64_t hash_listed;      /* files whose SHA-256 is in an IoC list */
	uint64_t alerts;           /* alert events */
	uint64_t cached;           /* skipped: verdict cache */
	uint64_t skipped_size;     /* skipped: over files.max_size */
	uint64_t skipped_excluded; /* skipped: files.exclude */
	uint64_t skipped_special;  /* skipped: symlink, device, fifo... */
	uint64_t vanished;         /* gone before they could be opened */
	uint64_t errors;           /* could not be read or scanned */
	uint64_t timeouts;         /* scans cut at files.scan_timeout */
	uint64_t quarantined;      /* moved into quarantine */
	uint64_t quarantine_errors;
	uint64_t event_errors;      /* events that could not be encoded */
	uint64_t watched_dirs;      /* folders watched now */
	uint64_t watch_limit;       /* folders left to the schedule */
	uint64_t overflows;         /* inotify queue overflows */
	uint64_t full_scans;        /* scheduled walks done */
	uint64_t queued;            /* files waiting now */
	uint64_t rules_version;     /* of the YARA set in force */
	uint64_t sandbox_restarts;  /* scanner children started again after
				       one ended, was killed or failed */
	uint64_t sandbox_malformed; /* answers of a child refused */
};

/*
 * Make a scanner (no thread yet). VG_OK (*out owned: vg_filescan_free),
 * VG_EIO (err says why: a quarantine folder that cannot be made) or
 * VG_ENOMEM.
 */
enum vg_err vg_filescan_new(struct vg_filescan **out,
			    const struct vg_filescan_opts *o, char *err,
			    size_t errlen) VG_MUST_CHECK;

/*
 * Start the pool, and with watch set, the watcher and the scheduler over
 * cfg's files.watch. A watched folder that cannot be opened is an error
 * (VG_EIO, err names it); the watch limit is not (see the file comment).
 */
enum vg_err vg_filescan_start(struct vg_filescan *fs, int watch, char *err,
			      size_t errlen) VG_MUST_CHECK;

/*
 * On demand, from the calling thread: scan each path (a file, or a folder
 * and everything under it) with the pool, and return when all are done.
 * Paths that cannot be read are counted as errors. The pool must have
 * been started.
 */
void vg_filescan_scan_paths(struct vg_filescan *fs, char *const *paths, int n);

/*
 * The sha256 lists of cfg's detection.ioc: every file's SHA-256 is looked
 * up in them, and a listed file is reported (a fileinfo and an alert,
 * signature id VG_FILESCAN_IOC_SID) and quarantined like a YARA match.
 * Errors name the list file and line on errs. VG_OK (*out owned:
 * vg_filescan_hashes_unref; NULL when cfg has no sha256 list), or the
 * error of vg_ioc_list_load.
 */
#define VG_FILESCAN_IOC_SID 3000001
enum vg_err vg_filescan_hashes_load(struct vg_filescan_hashes **out,
				    const struct vg_config *cfg,
				    FILE *errs) VG_MUST_CHECK;
/* Accepts NULL. */
void vg_filescan_hashes_unref(struct vg_filescan_hashes *h);
/* Number of lists (0 for NULL), for messages. */
unsigned vg_filescan_hashes_count(const struct vg_filescan_hashes *h);

/* Put lists h in force (a reload; NULL: none; a reference is taken). */
void vg_filescan_swap_hashes(struct vg_filescan *fs,
			     struct vg_filescan_hashes *h);

/* Put rule set y in force (a reload; a reference is taken). The threads
 * switch at their next file; the old set goes with its last scan. */
void vg_filescan_swap_rules(struct vg_filescan *fs, struct vg_yara *y);

/* Counters (thread-safe). */
void vg_filescan_stats(struct vg_filescan *fs, struct vg_filescan_stats *st);

/* Wait until the queue is empty and no pool thread is busy, at most
 * timeout_ms: 1 when idle, 0 on timeout. */
int vg_filescan_wait_idle(struct vg_filescan *fs, unsigned timeout_ms);

/* Stop every thread; files queued but not scanned are dropped. The
 * counters stay readable. Idempotent. */
void vg_filescan_stop(struct vg_filescan *fs);

/* Stop (if needed) and free. Accepts NULL. */
void vg_filescan_free(struct vg_filescan *fs);

#endif /* VG_FILESCAN_H */
