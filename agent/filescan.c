/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file scanner (see filescan.h for the threads and what each does).
 *
 * A file is named by a tree root (an absolute, resolved folder held open)
 * and a path relative to it. Whoever finds a file (the watcher, a walk, the
 * command line) names it that way; the scanning thread opens it beneath the
 * root with openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH), so a link
 * planted anywhere on the way can neither lead out of the tree nor swap the
 * file checked for another: everything after the open goes through that
 * one descriptor. Files are read into a per-thread buffer rather than
 * mapped, so a file truncated during the scan cannot raise SIGBUS.
 */
#define _GNU_SOURCE
#include "filescan.h"

#include "ioc.h"
#include "log.h"
#include "quarantine.h"
#include "scanchild.h"
#include "yarascan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_DEPTH       64 /* folder depth walked below a root */
#define MAX_ROOTS       4096
#define EVENT_SLACK     4096 /* bytes over output.event_max_bytes */
#define FALLBACK_PERIOD 3600 /* unwatched folders, with files.schedule 0 */

enum source { SRC_WATCH, SRC_SCHEDULE, SRC_SCAN };
static const char *const source_names[] = {"watch", "schedule", "scan"};

struct root {
	char *path; /* resolved, absolute, no trailing slash ("/" alone) */
	int fd;     /* O_PATH | O_DIRECTORY */
};

struct job {
	struct job *next;
	unsigned root;
	enum source src;
	char rel[]; /* "" for the root itself */
};

/* One verdict: the file as fstat saw it, and the rule set that judged. */
struct verdict {
	uint64_t dev, ino, size, ver;
	int64_t mtime_ns, ctime_ns;
	uint8_t used, matched;
};

/* A watched folder. */
struct wdir {
	int wd;
	unsigned root;
	char *rel;
};

/* A file waiting to settle, on a list in order of its last event. */
struct pending {
	struct pending *prev, *next, *hnext;
	int64_t due_us;
	unsigned root;
	char rel[];
};

#define PENDING_BUCKETS 4096

struct vg_filescan_hashes {
	atomic_uint refs;
	unsigned n;
	struct vg_ioc_list *l[VG_CONFIG_MAX_LIST];
};

struct vg_filescan {
	const struct vg_config *cfg;
	struct vg_output *out;
	const struct vg_event_ctx *ctx;
	char *qdir;
	char *exe; /* scanner children's binary; NULL: in the threads */
	atomic_bool hook_spent; /* the test hook goes to one child only */
	int hash_all;
	atomic_bool stop;

	pthread_mutex_t rules_mu;
	struct vg_yara *rules;
	atomic_uint_fast64_t rules_ver;
	struct vg_filescan_hashes *hashes; /* rules_mu */

	pthread_mutex_t roots_mu;
	struct root roots[MAX_ROOTS];
	unsigned n_roots;
	unsigned n_watch_roots; /* the first ones: files.watch */

	/* the queue */
	pthread_mutex_t q_mu;
	pthread_cond_t q_ready, q_space, q_idle;
	struct job *q_head, *q_tail;
	unsigned q_len, q_max, busy;

	pthread_t *pool;
	unsigned n_pool, pool_started;

	/* watcher (its thread only, but for the counters) */
	pthread_t watcher;
	bool watcher_started;
	int ino, wake;
	struct wdir *wds;
	unsigned n_wds, cap_wds;
	unsigned max_watches;
	bool limit_logged;
	struct pending *pend_head, *pend_tail;
	struct pending *pend_hash[PENDING_BUCKETS];

	/* scheduler */
	pthread_t sched;
	bool sched_started;
	pthread_mutex_t sched_mu;
	pthread_cond_t sched_cond;
	bool rescan;           /* the watcher asks for a walk now */
	struct job *unwatched; /* folders past the watch limit */

	/* verdict cache */
	pthread_mutex_t cache_mu;
	struct verdict *cache;
	size_t cache_mask;

	struct {
		atomic_uint_fast64_t scanned, bytes, matched, hash_listed,
		    alerts, cached, skipped_size, skipped_excluded,
		    skipped_special, vanished, errors, timeouts, quarantined,
		    quarantine_errors, event_errors, watch_limit, overflows,
		    full_scans, sandbox_restarts, sandbox_malformed;
	} st;
};

/* A scanning thread's own state. */
struct scan_ctx {
	struct vg_filescan *fs;
	struct vg_yara_scanner *sc; /* scanning here */
	struct vg_scanchild *child; /* or in a child */
	unsigned child_starts;
	uint64_t ver;
	unsigned char *buf;
	size_t cap;
	struct vg_buf out;
};

#define COUNT(fs, f) atomic_fetch_add(&(fs)->st.f, 1)

/* ------------------------------------------------------------------ */
/* Rule set                                                             */

static struct vg_yara *
rules_get(struct vg_filescan *fs)
{
	struct vg_yara *y;

	pthread_mutex_lock(&fs->rules_mu);
	y = fs->rules;
	vg_yara_ref(y);
	pthread_mutex_unlock(&fs->rules_mu);
	return y;
}

void
vg_filescan_swap_rules(struct vg_filescan *fs, struct vg_yara *y)
{
	struct vg_yara *old;

	vg_yara_ref(y);
	pthread_mutex_lock(&fs->rules_mu);
	old = fs->rules;
	fs->rules = y;
	atomic_store(&fs->rules_ver, vg_yara_version(y));
	pthread_mutex_unlock(&fs->rules_mu);
	vg_yara_unref(old);
}

enum vg_err
vg_filescan_hashes_load(struct vg_filescan_hashes **out,
			const struct vg_config *cfg, FILE *errs)
{
	struct vg_filescan_hashes *h;
	enum vg_err rc;
	unsigned i;

	*out = NULL;
	for (i = 0; i < cfg->n_ioc; i++)
		if (strcmp(cfg->ioc[i].type, "sha256") == 0)
			break;
	if (i == cfg->n_ioc)
		return VG_OK;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return VG_ENOMEM;
	atomic_init(&h->refs, 1);
	for (i = 0; i < cfg->n_ioc; i++) {
		const struct vg_ioc_config *c = &cfg->ioc[i];

		if (strcmp(c->type, "sha256") != 0)
			continue;
		rc = vg_ioc_list_load(&h->l[h->n], c->name, VG_IOC_SHA256,
				      c->path, errs);
		if (rc != VG_OK) {
			vg_filescan_hashes_unref(h);
			return rc;
		}
		h->n++;
	}
	*out = h;
	return VG_OK;
}

void
vg_filescan_hashes_unref(struct vg_filescan_hashes *h)
{
	unsigned i;

	if (h == NULL || atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	for (i = 0; i < h->n; i++)
		vg_ioc_list_free(h->l[i]);
	free(h);
}

unsigned
vg_filescan_hashes_count(const struct vg_filescan_hashes *h)
{
	return h ? h->n : 0;
}

void
vg_filescan_swap_hashes(struct vg_filescan *fs, struct vg_filescan_hashes *h)
{
	struct vg_filescan_hashes *old;

	if (h)
		atomic_fetch_add(&h->refs, 1);
	pthread_mutex_lock(&fs->rules_mu);
	old = fs->hashes;
	fs->hashes = h;
	pthread_mutex_unlock(&fs->rules_mu);
	vg_filescan_hashes_unref(old);
}

static struct vg_filescan_hashes *
hashes_get(struct vg_filescan *fs)
{
	struct vg_filescan_hashes *h;

	pthread_mutex_lock(&fs->rules_mu);
	h = fs->hashes;
	if (h)
		atomic_fetch_add(&h->refs, 1);
	pthread_mutex_unlock(&fs->rules_mu);
	return h;
}

/* The name of the first list holding sha256, or NULL. */
static const char *
hash_listed(const struct vg_filescan_hashes *h, const char *sha256)
{
	unsigned i;

	for (i = 0; h && i < h->n; i++)
		if (vg_ioc_match_hash(h->l[i], sha256))
			return vg_ioc_list_name(h->l[i]);
	return NULL;
}

/* The scanner of ctx, made anew when the rules changed. */
static struct vg_yara_scanner *
ctx_scanner(struct scan_ctx *c)
{
	uint64_t ver = atomic_load(&c->fs->rules_ver);
	struct vg_yara *y;

	if (c->sc != NULL && c->ver == ver)
		return c->sc;
	y = rules_get(c->fs);
	vg_yara_scanner_free(c->sc);
	c->sc = NULL;
	if (vg_yara_scanner_new(&c->sc, y, c->fs->cfg->file_scan_timeout) !=
	    VG_OK)
		c->sc = NULL;
	c->ver = vg_yara_version(y);
	vg_yara_unref(y);
	return c->sc;
}

/*
 * Sandboxed: the child, ready with the set in force (started, or started
 * again, when needed). 0, or -1 when there is none to scan with now.
 */
static int
ctx_child(struct scan_ctx *c)
{
	struct vg_filescan *fs = c->fs;
	struct vg_yara *y;
	char err[256];
	unsigned attempt;
	enum vg_err rc = VG_EIO;

	if (c->child == NULL)
		return -1;
	/* The common case: running, with the set in force. */
	if (vg_scanchild_pid(c->child) != 0 &&
	    c->ver == atomic_load(&fs->rules_ver))
		return 0;
	y = rules_get(fs);
	/* A child that fails to start is not the file's fault: a few tries,
	 * waiting as vg_scanchild_ready() asks, before the file is given up. */
	for (attempt = 0; attempt < 4 && !atomic_load(&fs->stop); attempt++) {
		int started = 0, hook = 0;
		int64_t wait;

		if (vg_scanchild_pid(c->child) == 0)
			hook = !atomic_exchange(&fs->hook_spent, true);
		rc = vg_scanchild_ready(c->child, y, fs->cfg->file_scan_timeout,
					hook, &started, err, sizeof(err));
		if (started && c->child_starts++ > 0)
			COUNT(fs, sandbox_restarts);
		if (rc == VG_OK)
			break;
		if (rc == VG_EMALFORMED)
			COUNT(fs, sandbox_malformed);
		if (rc != VG_EAGAIN)
			vg_log(LOG_ERR, "file scanner: %s", err);
		while ((wait = vg_scanchild_wait_us(c->child)) > 0 &&
		       !atomic_load(&fs->stop)) {
			struct timespec ts = {0, 50 * 1000000L};

			if (wait < 50000)
				ts.tv_nsec = (long)wait * 1000;
			nanosleep(&ts, NULL);
		}
	}
	if (rc == VG_OK)
		c->ver = vg_yara_version(y);
	vg_yara_unref(y); /* the child's handle keeps its own reference */
	return rc == VG_OK ? 0 : -1;
}

static void
ctx_init(struct scan_ctx *c, struct vg_filescan *fs)
{
	memset(c, 0, sizeof(*c));
	c->fs = fs;
	vg_buf_init(&c->out,
		    (size_t)fs->cfg->event_max_bytes * 4 + EVENT_SLACK);
	if (fs->exe != NULL && vg_scanchild_new(&c->child, fs->exe) != VG_OK)
		c->child = NULL; /* every file is then an error */
}

static void
ctx_fini(struct scan_ctx *c)
{
	vg_scanchild_free(c->child);
	vg_yara_scanner_free(c->sc);
	free(c->buf);
	vg_buf_fini(&c->out);
}

/* ------------------------------------------------------------------ */
/* Verdict cache: direct-mapped, a miss only costs a scan               */

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static void
verdict_of(struct verdict *v, const struct stat *sb, uint64_t ver)
{
	memset(v, 0, sizeof(*v));
	v->dev = sb->st_dev;
	v->ino = sb->st_ino;
	v->size = (uint64_t)sb->st_size;
	v->mtime_ns =
	    (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	v->ctime_ns =
	    (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
	v->ver = ver;
	v->used = 1;
}

static size_t
verdict_slot(const struct vg_filescan *fs, const struct verdict *v)
{
	return (size_t)mix(mix(v->dev, v->ino), 0) & fs->cache_mask;
}

static bool
verdict_same(const struct verdict *a, const struct verdict *b)
{
	return a->used && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns && a->ver == b->ver;
}

/* Whether the file was already judged (as it is now, by these rules). */
static bool
cache_hit(struct vg_filescan *fs, const struct verdict *v)
{
	bool hit;

	if (fs->cache == NULL)
		return false;
	pthread_mutex_lock(&fs->cache_mu);
	hit = verdict_same(&fs->cache[verdict_slot(fs, v)], v);
	pthread_mutex_unlock(&fs->cache_mu);
	return hit;
}

static void
cache_put(struct vg_filescan *fs, const struct verdict *v)
{
	if (fs->cache == NULL)
		return;
	pthread_mutex_lock(&fs->cache_mu);
	fs->cache[verdict_slot(fs, v)] = *v;
	pthread_mutex_unlock(&fs->cache_mu);
}

/* ------------------------------------------------------------------ */
/* Scanning one file                                                    */

static bool
excluded(const struct vg_filescan *fs, const char *path)
{
	const char *base = strrchr(path, '/');
	unsigned i;

	base = base ? base + 1 : path;
	for (i = 0; i < fs->cfg->n_file_exclude; i++) {
		const char *g = fs->cfg->file_exclude[i];

		if (fnmatch(g, path, 0) == 0 || fnmatch(g, base, 0) == 0)
			return true;
	}
	return false;
}

/* rel beneath root r, never through a symbolic link; -1 with errno. */
static int
open_beneath(int rootfd, const char *rel, int flags)
{
	struct open_how how;
	long fd;

	if (rel[0] == '\0')
		return openat(rootfd, ".", flags);
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve =
	    RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	return (int)fd;
}

static void
full_path(char *dst, size_t n, const struct root *r, const char *rel)
{
	if (rel[0] == '\0')
		snprintf(dst, n, "%s", r->path);
	else
		snprintf(dst, n, "%s%s%s", r->path,
			 strcmp(r->path, "/") == 0 ? "" : "/", rel);
}

static void
emit(struct scan_ctx *c, unsigned n_events)
{
	struct vg_filescan *fs = c->fs;

	if (n_events == 0 || fs->out == NULL) {
		vg_buf_reset(&c->out);
		return;
	}
	(void)vg_output_submit(fs->out, &c->out, n_events);
}

/* Events of a matching file: one fileinfo, one alert per match. */
static void
report(struct scan_ctx *c, struct vg_file_info *fi)
{
	struct vg_filescan *fs = c->fs;
	int64_t now = vg_now_wall_us();
	unsigned i, n = 0;

	if (vg_event_fileinfo(&c->out, fs->ctx, fi, now) == VG_OK)
		n++;
	else
		COUNT(fs, event_errors);
	for (i = 0; i < fi->n_matches; i++) {
		if (vg_event_file_alert(&c->out, fs->ctx, fi, &fi->matches[i],
					NULL, now) == VG_OK) {
			n++;
			COUNT(fs, alerts);
		} else {
			COUNT(fs, event_errors);
		}
	}
	if (fi->ioc_list) {
		static char *const mitre[] = {"T1105"};
		static char *const tags[] = {"ioc"};
		struct vg_alert_info a = {
		    .signature_id = VG_FILESCAN_IOC_SID,
		    .rev = 1,
		    .signature = "File hash listed in an IoC list",
		    .category = "ioc",
		    .severity = 1,
		    .severity_name = "high",
		    .mitre = mitre,
		    .n_mitre = 1,
		    .tags = tags,
		    .n_tags = 1,
		};

		if (vg_event_file_alert(&c->out, fs->ctx, fi, NULL, &a, now) ==
		    VG_OK) {
			n++;
			COUNT(fs, alerts);
		} else {
			COUNT(fs, event_errors);
		}
	}
	emit(c, n);
}

/* Move a matching file into quarantine; sets fi->quarantine_id. */
static void
quarantine(struct scan_ctx *c, int fd, const struct stat *sb,
	   struct vg_file_info *fi, char id[40])
{
	struct vg_filescan *fs = c->fs;
	struct vg_quarantine_item item;
	char err[512], shown[512];

	memset(&item, 0, sizeof(item));
	if (vg_quarantine_file(fs->qdir, fd, fi->filename, sb,
			       fi->sha256 && fi->sha256[0] ? fi->sha256 : NULL,
			       fi->n_matches ? fi->matches[0].rule->name
					     : "ioc:sha256",
			       &item, err, sizeof(err)) != VG_OK) {
		COUNT(fs, quarantine_errors);
		vg_log(LOG_ERR, "quarantine of %s failed: %s",
		       vg_escape(shown, sizeof(shown), fi->filename,
				 strlen(fi->filename)),
		       err);
		return;
	}
	COUNT(fs, quarantined);
	snprintf(id, 40, "%s", item.id);
	fi->quarantine_id = id;
	vg_quarantine_item_fini(&item);
}

/* Hand fd to the thread's child (ctx_child) and take its verdict. */
static enum vg_scanchild_status
scan_there(struct scan_ctx *c, int fd, const struct stat *sb, const char *path,
	   int hash, struct vg_scanchild_result *r)
{
	struct vg_filescan *fs = c->fs;
	char err[320], shown[256];
	enum vg_err rc;

	rc = vg_scanchild_scan(c->child, fd, (uint64_t)sb->st_size, path, hash,
			       r, err, sizeof(err));
	/*
	 * Once more with a new child if the last one had ended before it
	 * had the file, or died with it: killed from outside, or by this
	 * file, which then kills the second child too and is an error.
	 */
	if (rc == VG_EAGAIN || rc == VG_EIO) {
		vg_log(LOG_WARNING, "file scanner: %s: %s; once more",
		       vg_escape(shown, sizeof(shown), path, strlen(path)),
		       err);
		if (ctx_child(c) == 0)
			rc = vg_scanchild_scan(c->child, fd,
					       (uint64_t)sb->st_size, path,
					       hash, r, err, sizeof(err));
	}
	if (rc == VG_OK)
		return r->status;
	if (rc == VG_EMALFORMED)
		COUNT(fs, sandbox_malformed);
	vg_log(LOG_ERR, "file scanner: %s: %s",
	       vg_escape(shown, sizeof(shown), path, strlen(path)), err);
	memset(r, 0, sizeof(*r));
	if (rc != VG_ELIMIT)
		return VG_SCAN_UNREAD;
	/* Cut at the time limit, as a scan here would have been; the file
	 * as fstat saw it (the child's count is lost with it). */
	r->len = (uint64_t)sb->st_size;
	return VG_SCAN_TIMEOUT;
}

/*
 * Scan rel beneath root number root: the one path every file takes.
 * dirfd, when not -1, is the open folder holding the file and name its
 * entry there (a walk has them at hand); else the file is opened beneath
 * the root.
 */
static void
scan_file(struct scan_ctx *c, unsigned root, const char *rel, int dirfd,
	  const char *name, enum source src)
{
	struct vg_filescan *fs = c->fs;
	const struct vg_file_match *matches;
	struct vg_scanchild_result r;
	enum vg_scanchild_status st;
	struct vg_file_info fi;
	struct verdict v;
	struct stat sb;
	struct vg_filescan_hashes *hashes;
	char path[PATH_MAX], sha[65] = "", qid[40];
	const int flags =
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	unsigned n = 0, more = 0;
	ssize_t len;
	int fd;

	memset(&fi, 0, sizeof(fi));
	pthread_mutex_lock(&fs->roots_mu);
	full_path(path, sizeof(path), &fs->roots[root], rel);
	fd = fs->roots[root].fd;
	pthread_mutex_unlock(&fs->roots_mu);
	if (excluded(fs, path)) {
		COUNT(fs, skipped_excluded);
		return;
	}
	fd = dirfd >= 0 ? openat(dirfd, name, flags)
			: open_beneath(fd, rel, flags);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			COUNT(fs, vanished);
		else if (errno == ELOOP || errno == EXDEV || errno == ENXIO)
			COUNT(fs, skipped_special); /* a link, or a socket */
		else
			COUNT(fs, errors);
		return;
	}
	if (fstat(fd, &sb) != 0) {
		COUNT(fs, errors);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		COUNT(fs, skipped_special);
		goto out;
	}
	if ((uint64_t)sb.st_size > fs->cfg->file_max_size) {
		COUNT(fs, skipped_size);
		goto out;
	}
	/* Sandboxed, a cached file does not wait for a child. */
	if (fs->exe == NULL && ctx_scanner(c) == NULL) {
		COUNT(fs, errors);
		goto out;
	}
	verdict_of(&v, &sb,
		   fs->exe != NULL ? atomic_load(&fs->rules_ver) : c->ver);
	if (cache_hit(fs, &v)) {
		COUNT(fs, cached);
		goto out;
	}
	if (fs->exe != NULL) {
		if (ctx_child(c) < 0) {
			COUNT(fs, errors);
			goto out;
		}
		v.ver = c->ver; /* the set the child runs */
	}
	/* With IoC lists, every file's hash is looked up. */
	hashes = hashes_get(fs);
	st = fs->exe != NULL
		 ? scan_there(c, fd, &sb, path, fs->hash_all || hashes, &r)
		 : vg_scanchild_scan_fd(c->sc, fd, (uint64_t)sb.st_size, path,
					fs->hash_all || hashes, &c->buf,
					&c->cap, &r);
	if (st != VG_SCAN_UNREAD) {
		COUNT(fs, scanned);
		atomic_fetch_add(&fs->st.bytes, r.len);
	}
	if (st == VG_SCAN_TIMEOUT)
		COUNT(fs, timeouts);
	if (st == VG_SCAN_UNREAD || st == VG_SCAN_FAILED) {
		COUNT(fs, errors);
		vg_filescan_hashes_unref(hashes);
		goto out;
	}
	matches = r.matches;
	n = r.n;
	more = r.more;
	len = (ssize_t)r.len;
	memcpy(sha, r.sha256, sizeof(sha));
	fi.ioc_list = hashes && sha[0] ? hash_listed(hashes, sha) : NULL;
	if (fi.ioc_list)
		COUNT(fs, hash_listed);
	/* files.hash all: a fileinfo for every new or changed file. */
	if (n > 0 || fi.ioc_list || fs->hash_all) {
		fi.filename = path;
		fi.size = (uint64_t)len;
		fi.sha256 = sha;
		fi.uid = sb.st_uid;
		fi.gid = sb.st_gid;
		fi.mode = sb.st_mode;
		fi.mtime_us = (int64_t)sb.st_mtim.tv_sec * 1000000 +
			      sb.st_mtim.tv_nsec / 1000;
		fi.matches = matches;
		fi.n_matches = n;
		fi.more_matches = more;
		fi.source = source_names[src];
		fi.timed_out = st == VG_SCAN_TIMEOUT;
		if (n > 0 || fi.ioc_list) {
			COUNT(fs, matched);
			v.matched = 1;
			if (fs->qdir != NULL)
				quarantine(c, fd, &sb, &fi, qid);
		}
		report(c, &fi);
	}
	/* The list's name is borrowed from hashes: done with both. */
	vg_filescan_hashes_unref(hashes);
	/* A timed-out scan is not a verdict: the next look scans again. */
	if (st == VG_SCAN_DONE && fi.quarantine_id == NULL)
		cache_put(fs, &v);
out:
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Roots                                                                */

/* The root for folder path (resolved here), added if new; -1 on error. */
static int
root_add(struct vg_filescan *fs, const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], shown[256];
	unsigned i;
	int fd, idx = -1;

	if (realpath(path, real) == NULL) {
		snprintf(err, errlen, "%s: %s",
			 vg_escape(shown, sizeof(shown), path, strlen(path)),
			 strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&fs->roots_mu);
	for (i = 0; i < fs->n_roots; i++)
		if (strcmp(fs->roots[i].path, real) == 0)
			idx = (int)i;
	pthread_mutex_unlock(&fs->roots_mu);
	if (idx >= 0)
		return idx;
	fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s",
			 vg_escape(shown, sizeof(shown), real, strlen(real)),
			 strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&fs->roots_mu);
	if (fs->n_roots == MAX_ROOTS ||
	    (fs->roots[fs->n_roots].path = strdup(real)) == NULL) {
		pthread_mutex_unlock(&fs->roots_mu);
		close(fd);
		snprintf(err, errlen, "too many folders to scan");
		return -1;
	}
	fs->roots[fs->n_roots].fd = fd;
	idx = (int)fs->n_roots++;
	pthread_mutex_unlock(&fs->roots_mu);
	return idx;
}

/* ------------------------------------------------------------------ */
/* The queue and the pool                                               */

static struct job *
job_new(unsigned root, const char *rel, enum source src)
{
	size_t n = strlen(rel);
	struct job *j = malloc(sizeof(*j) + n + 1);

	if (j == NULL)
		return NULL;
	j->next = NULL;
	j->root = root;
	j->src = src;
	memcpy(j->rel, rel, n + 1);
	return j;
}

/* Queue a file for the pool, waiting while the queue is full. */
static void
push(struct vg_filescan *fs, unsigned root, const char *rel, enum source src)
{
	struct job *j = job_new(root, rel, src);

	if (j == NULL) {
		COUNT(fs, errors);
		return;
	}
	pthread_mutex_lock(&fs->q_mu);
	while (fs->q_len >= fs->q_max && !atomic_load(&fs->stop))
		pthread_cond_wait(&fs->q_space, &fs->q_mu);
	if (atomic_load(&fs->stop)) {
		pthread_mutex_unlock(&fs->q_mu);
		free(j);
		return;
	}
	if (fs->q_tail)
		fs->q_tail->next = j;
	else
		fs->q_head = j;
	fs->q_tail = j;
	fs->q_len++;
	pthread_cond_signal(&fs->q_ready);
	pthread_mutex_unlock(&fs->q_mu);
}

static void *
pool_main(void *arg)
{
	struct vg_filescan *fs = arg;
	struct scan_ctx c;

	ctx_init(&c, fs);
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&fs->q_mu);
		while (fs->q_head == NULL && !atomic_load(&fs->stop))
			pthread_cond_wait(&fs->q_ready, &fs->q_mu);
		if (atomic_load(&fs->stop)) {
			pthread_mutex_unlock(&fs->q_mu);
			break;
		}
		j = fs->q_head;
		fs->q_head = j->next;
		if (fs->q_head == NULL)
			fs->q_tail = NULL;
		fs->q_len--;
		fs->busy++;
		pthread_cond_signal(&fs->q_space);
		pthread_mutex_unlock(&fs->q_mu);

		scan_file(&c, j->root, j->rel, -1, NULL, j->src);
		free(j);

		pthread_mutex_lock(&fs->q_mu);
		fs->busy--;
		if (fs->q_head == NULL && fs->busy == 0)
			pthread_cond_broadcast(&fs->q_idle);
		pthread_mutex_unlock(&fs->q_mu);
	}
	ctx_fini(&c);
	return NULL;
}

int
vg_filescan_wait_idle(struct vg_filescan *fs, unsigned timeout_ms)
{
	struct timespec ts;
	int idle;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fs->q_mu);
	while ((fs->q_head != NULL || fs->busy != 0) &&
	       pthread_cond_timedwait(&fs->q_idle, &fs->q_mu, &ts) == 0)
		;
	idle = fs->q_head == NULL && fs->busy == 0;
	pthread_mutex_unlock(&fs->q_mu);
	return idle;
}

/* ------------------------------------------------------------------ */
/* Walking a tree                                                       */

struct walker {
	struct vg_filescan *fs;
	unsigned root;
	enum source src;
	struct scan_ctx *c; /* scan here (else: queue for the pool) */
	/* Called for each folder below the root before it is entered;
	 * false: not entered. */
	bool (*dir)(struct walker *w, const char *rel);
	/* Called for each regular file; NULL: files are not looked at. */
	void (*file)(struct walker *w, int dirfd, const char *rel,
		     const char *name);
};

static void
walk_file(struct walker *w, int dirfd, const char *rel, const char *name)
{
	if (w->c)
		scan_file(w->c, w->root, rel, dirfd, name, w->src);
	else
		push(w->fs, w->root, rel, w->src);
}

/* Walk the folder open as dfd (consumed), rel its path (room for
 * PATH_MAX bytes, restored on return). */
static void
walk(struct walker *w, int dfd, char *rel, unsigned depth)
{
	struct vg_filescan *fs = w->fs;
	size_t len = strlen(rel);
	struct dirent *de;
	DIR *d = fdopendir(dfd);
	char full[PATH_MAX];

	if (d == NULL) {
		close(dfd);
		COUNT(fs, errors);
		return;
	}
	while ((de = readdir(d)) != NULL && !atomic_load(&fs->stop)) {
		unsigned char type = de->d_type;
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (len + strlen(de->d_name) + 2 >= PATH_MAX)
			continue;
		snprintf(rel + len, PATH_MAX - len, "%s%s", len ? "/" : "",
			 de->d_name);
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &sb,
				    AT_SYMLINK_NOFOLLOW) != 0)
				goto next;
			type = S_ISDIR(sb.st_mode)   ? DT_DIR
			       : S_ISREG(sb.st_mode) ? DT_REG
						     : DT_LNK;
		}
		if (type == DT_DIR) {
			int nfd;

			if (!fs->cfg->file_recursive && w->src != SRC_SCAN)
				goto next;
			if (depth >= MAX_DEPTH)
				goto next;
			pthread_mutex_lock(&fs->roots_mu);
			full_path(full, sizeof(full), &fs->roots[w->root], rel);
			pthread_mutex_unlock(&fs->roots_mu);
			if (excluded(fs, full))
				goto next;
			if (w->dir && !w->dir(w, rel))
				goto next;
			nfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
			if (nfd >= 0)
				walk(w, nfd, rel, depth + 1);
		} else if (type == DT_REG) {
			if (w->file)
				w->file(w, dirfd(d), rel, de->d_name);
		} else if (w->file) {
			COUNT(fs, skipped_special);
		}
	next:
		rel[len] = '\0';
	}
	closedir(d);
}

/* Walk root r from rel (a folder beneath it). */
static void
walk_from(struct walker *w, const char *rel)
{
	char buf[PATH_MAX];
	int rootfd, dfd;

	pthread_mutex_lock(&w->fs->roots_mu);
	rootfd = w->fs->roots[w->root].fd;
	pthread_mutex_unlock(&w->fs->roots_mu);
	dfd = open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT)
			COUNT(w->fs, errors);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", rel);
	walk(w, dfd, buf, 0);
}

void
vg_filescan_scan_paths(struct vg_filescan *fs, char *const *paths, int n)
{
	char err[512], parent[PATH_MAX], *slash;
	int i, r;

	for (i = 0; i < n && !atomic_load(&fs->stop); i++) {
		struct stat sb;

		if (stat(paths[i], &sb) != 0 ||
		    realpath(paths[i], parent) == NULL) {
			vg_log(LOG_ERR, "%s: %s", paths[i], strerror(errno));
			COUNT(fs, errors);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			struct walker w = {fs,   0,    SRC_SCAN,
					   NULL, NULL, walk_file};

			r = root_add(fs, parent, err, sizeof(err));
			if (r < 0) {
				vg_log(LOG_ERR, "%s", err);
				COUNT(fs, errors);
				continue;
			}
			w.root = (unsigned)r;
			walk_from(&w, "");
			continue;
		}
		/* A file: its folder is the root. */
		slash = strrchr(parent, '/');
		*slash = '\0';
		r = root_add(fs, parent[0] ? parent : "/", err, sizeof(err));
		if (r < 0) {
			vg_log(LOG_ERR, "%s", err);
			COUNT(fs, errors);
			continue;
		}
		push(fs, (unsigned)r, slash + 1, SRC_SCAN);
	}
	while (!vg_filescan_wait_idle(fs, 1000) && !atomic_load(&fs->stop))
		;
}

/* ------------------------------------------------------------------ */
/* Watcher                                                              */

#define WATCH_MASK                                                             \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_MOVE_SELF | \
	 IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

static struct wdir *
wdir_find(struct vg_filescan *fs, int wd)
{
	unsigned i;

	/* Folders are few next to files; a scan per event is cheap. */
	for (i = 0; i < fs->n_wds; i++)
		if (fs->wds[i].wd == wd)
			return &fs->wds[i];
	return NULL;
}

static void
wdir_drop(struct vg_filescan *fs, int wd)
{
	struct wdir *w = wdir_find(fs, wd);

	if (w == NULL)
		return;
	free(w->rel);
	*w = fs->wds[--fs->n_wds];
}

/* Record an unwatched folder for the scheduler. */
static void
unwatched_add(struct vg_filescan *fs, unsigned root, const char *rel)
{
	struct job *j = job_new(root, rel, SRC_SCHEDULE);

	if (j == NULL)
		return;
	pthread_mutex_lock(&fs->sched_mu);
	j->next = fs->unwatched;
	fs->unwatched = j;
	pthread_mutex_unlock(&fs->sched_mu);
	COUNT(fs, watch_limit);
}

/* Tell the center about the watcher itself: an "agent" event. */
static void
agent_event(struct vg_filescan *fs, const char *action, const char *text)
{
	struct vg_buf b;

	if (fs->out == NULL)
		return;
	vg_buf_init(&b, (size_t)fs->cfg->event_max_bytes + EVENT_SLACK);
	if (vg_event_agent(&b, fs->ctx, action, "failed", text,
			   vg_now_wall_us()) == VG_OK)
		(void)vg_output_submit(fs->out, &b, 1);
	else
		COUNT(fs, event_errors);
	vg_buf_fini(&b);
}

/* Watch folder rel of root; false when it cannot be (not entered). */
static bool
watch_dir(struct vg_filescan *fs, unsigned root, const char *rel)
{
	char full[PATH_MAX], shown[256];
	struct wdir *w;
	int wd = -1;

	pthread_mutex_lock(&fs->roots_mu);
	full_path(full, sizeof(full), &fs->roots[root], rel);
	pthread_mutex_unlock(&fs->roots_mu);
	if (fs->max_watches == 0 || fs->n_wds < fs->max_watches)
		wd = inotify_add_watch(fs->ino, full, WATCH_MASK);
	else
		errno = ENOSPC;
	if (wd < 0) {
		if (errno != ENOSPC) {
			if (errno != ENOENT)
				COUNT(fs, errors);
			return false;
		}
		if (!fs->limit_logged) {
			char msg[768];

			snprintf(
			    msg, sizeof(msg),
			    "inotify watch limit reached at %u folders "
			    "(%s; raise fs.inotify.max_user_watches or "
			    "files.max_watches): %s and the other "
			    "folders past the limit are scanned every %u "
			    "s instead",
			    fs->n_wds,
			    fs->max_watches ? "files.max_watches"
					    : "fs.inotify.max_user_watches",
			    vg_escape(shown, sizeof(shown), full, strlen(full)),
			    fs->cfg->file_schedule ? fs->cfg->file_schedule
						   : FALLBACK_PERIOD);
			vg_log(LOG_ERR, "%s", msg);
			agent_event(fs, "watch", msg);
			fs->limit_logged = true;
		}
		unwatched_add(fs, root, rel);
		return false;
	}
	w = wdir_find(fs, wd);
	if (w == NULL) {
		if (fs->n_wds == fs->cap_wds) {
			unsigned cap = fs->cap_wds ? fs->cap_wds * 2 : 64;
			struct wdir *nw =
			    realloc(fs->wds, (size_t)cap * sizeof(*nw));

			if (nw == NULL) {
				inotify_rm_watch(fs->ino, wd);
				return false;
			}
			fs->wds = nw;
			fs->cap_wds = cap;
		}
		w = &fs->wds[fs->n_wds++];
		w->wd = wd;
		w->rel = NULL;
	}
	free(w->rel);
	w->root = root;
	w->rel = strdup(rel);
	if (w->rel == NULL) {
		inotify_rm_watch(fs->ino, wd);
		*w = fs->wds[--fs->n_wds];
		return false;
	}
	return true;
}

static bool
walk_watch_dir(struct walker *w, const char *rel)
{
	return watch_dir(w->fs, w->root, rel);
}

static uint32_t
pend_hash(unsigned root, const char *rel)
{
	uint32_t h = 2166136261u ^ root;

	for (; *rel; rel++)
		h = (h ^ (uint8_t)*rel) * 16777619u;
	return h % PENDING_BUCKETS;
}

static void
pend_unlink(struct vg_filescan *fs, struct pending *p)
{
	struct pending **pp = &fs->pend_hash[pend_hash(p->root, p->rel)];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		fs->pend_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		fs->pend_tail = p->prev;
}

static void
pend_append(struct vg_filescan *fs, struct pending *p)
{
	uint32_t h = pend_hash(p->root, p->rel);

	p->hnext = fs->pend_hash[h];
	fs->pend_hash[h] = p;
	p->next = NULL;
	p->prev = fs->pend_tail;
	if (fs->pend_tail)
		fs->pend_tail->next = p;
	else
		fs->pend_head = p;
	fs->pend_tail = p;
}

/*
 * A write or a move-in of rel: scan it files.settle seconds after its last
 * such event. A modification only pushes back a file already waiting.
 */
static void
pend_touch(struct vg_filescan *fs, unsigned root, const char *rel, bool add)
{
	struct pending *p = fs->pend_hash[pend_hash(root, rel)];
	size_t n;

	while (p && (p->root != root || strcmp(p->rel, rel) != 0))
		p = p->hnext;
	if (p == NULL) {
		if (!add)
			return;
		n = strlen(rel);
		p = malloc(sizeof(*p) + n + 1);
		if (p == NULL) {
			COUNT(fs, errors);
			return;
		}
		p->root = root;
		memcpy(p->rel, rel, n + 1);
	} else {
		pend_unlink(fs, p);
	}
	p->due_us = vg_now_mono_us() + (int64_t)fs->cfg->file_settle * 1000000;
	pend_append(fs, p);
}

static void
walk_pend_file(struct walker *w, int dirfd, const char *rel, const char *name)
{
	(void)dirfd;
	(void)name;
	pend_touch(w->fs, w->root, rel, true);
}

/* Queue the files whose time has come; ms until the next, or -1. */
static int
pend_flush(struct vg_filescan *fs)
{
	int64_t now = vg_now_mono_us();
	struct pending *p;

	while ((p = fs->pend_head) != NULL && p->due_us <= now &&
	       !atomic_load(&fs->stop)) {
		pend_unlink(fs, p);
		push(fs, p->root, p->rel, SRC_WATCH);
		free(p);
	}
	if (fs->pend_head == NULL)
		return -1;
	return (int)((fs->pend_head->due_us - now + 999) / 1000);
}

static void
sched_wake(struct vg_filescan *fs, bool rescan)
{
	pthread_mutex_lock(&fs->sched_mu);
	if (rescan)
		fs->rescan = true;
	pthread_cond_signal(&fs->sched_cond);
	pthread_mutex_unlock(&fs->sched_mu);
}

/* Watch every folder of the watched trees (again, after an overflow). */
static void
watch_trees(struct vg_filescan *fs)
{
	unsigned r;

	for (r = 0; r < fs->n_watch_roots; r++) {
		struct walker w = {fs,  r, SRC_WATCH, NULL, walk_watch_dir,
				   NULL};

		if (watch_dir(fs, r, ""))
			walk_from(&w, "");
	}
}

static void
on_event(struct vg_filescan *fs, const struct inotify_event *ev)
{
	char rel[PATH_MAX];
	struct wdir *wd;

	if (ev->mask & IN_Q_OVERFLOW) {
		/* Events were lost: watch what is new, rescan the trees. */
		COUNT(fs, overflows);
		vg_log(LOG_WARNING, "file events were lost (inotify queue "
				    "overflow): rescanning the watched trees");
		watch_trees(fs);
		sched_wake(fs, true);
		return;
	}
	wd = wdir_find(fs, ev->wd);
	if (wd == NULL)
		return;
	if (ev->mask & IN_IGNORED) {
		wdir_drop(fs, ev->wd);
		return;
	}
	if (ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF)) {
		/* Moved or gone: a move within the tree is seen as a new
		 * folder where it lands. */
		if (wd->rel[0] != '\0') {
			inotify_rm_watch(fs->ino, ev->wd);
			wdir_drop(fs, ev->wd);
		}
		return;
	}
	if (ev->len == 0 || ev->name[0] == '\0')
		return;
	if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", wd->rel,
			     wd->rel[0] ? "/" : "", ev->name) >= sizeof(rel))
		return;
	if (ev->mask & IN_ISDIR) {
		if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
		    fs->cfg->file_recursive) {
			struct walker w = {
			    fs,   wd->root,       SRC_WATCH,
			    NULL, walk_watch_dir, walk_pend_file};
			char full[PATH_MAX];

			pthread_mutex_lock(&fs->roots_mu);
			full_path(full, sizeof(full), &fs->roots[wd->root],
				  rel);
			pthread_mutex_unlock(&fs->roots_mu);
			/* Watch it first, then walk it: a file made
			 * between the two is seen twice, and settles
			 * into one scan. */
			if (!excluded(fs, full) && watch_dir(fs, wd->root, rel))
				walk_from(&w, rel);
		}
		return;
	}
	if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
		pend_touch(fs, wd->root, rel, true);
	else if (ev->mask & IN_MODIFY)
		pend_touch(fs, wd->root, rel, false);
}

static void *
watcher_main(void *arg)
{
	struct vg_filescan *fs = arg;
	/* Aligned for struct inotify_event, room for many at once. */
	char buf[64 * 1024] __attribute__((aligned(8)));
	int timeout = -1;

	while (!atomic_load(&fs->stop)) {
		struct pollfd pfd[2] = {{fs->ino, POLLIN, 0},
					{fs->wake, POLLIN, 0}};
		ssize_t n;
		char *p;

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (atomic_load(&fs->stop))
			break;
		if (pfd[0].revents & POLLIN) {
			while ((n = read(fs->ino, buf, sizeof(buf))) > 0) {
				for (p = buf; p < buf + n;) {
					const struct inotify_event *ev =
					    (const void *)p;

					on_event(fs, ev);
					p += sizeof(*ev) + ev->len;
				}
			}
		}
		timeout = pend_flush(fs);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Scheduler                                                            */

/* This thread (only) to idle CPU and I/O priority. */
static void
idle_priority(void)
{
	struct sched_param sp = {0};

	(void)sched_setscheduler(0, SCHED_IDLE, &sp);
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	(void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
		      IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
}

static void
walk_scan(struct vg_filescan *fs, struct scan_ctx *c, unsigned root,
	  const char *rel)
{
	struct walker w = {fs, root, SRC_SCHEDULE, c, NULL, walk_file};

	walk_from(&w, rel);
}

static void *
sched_main(void *arg)
{
	struct vg_filescan *fs = arg;
	unsigned every = fs->cfg->file_schedule;
	int64_t next_full = vg_now_mono_us(), next_fallback;
	struct scan_ctx c;

	idle_priority();
	ctx_init(&c, fs);
	next_fallback = next_full + (int64_t)FALLBACK_PERIOD * 1000000;
	while (!atomic_load(&fs->stop)) {
		int64_t now = vg_now_mono_us(), until;
		bool rescan, full, fallback;

		pthread_mutex_lock(&fs->sched_mu);
		until = every ? next_full : next_fallback;
		if (!every && fs->unwatched && next_fallback < until)
			until = next_fallback;
		if (!fs->rescan && now < until) {
			struct timespec ts;
			int64_t wait = until - now;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait / 1000000;
			ts.tv_nsec += (long)(wait % 1000000) * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&fs->sched_cond, &fs->sched_mu,
					       &ts);
		}
		rescan = fs->rescan;
		fs->rescan = false;
		pthread_mutex_unlock(&fs->sched_mu);
		if (atomic_load(&fs->stop))
			break;
		now = vg_now_mono_us();
		full = rescan || (every && now >= next_full);
		fallback = !every && now >= next_fallback;
		if (full) {
			unsigned r;

			for (r = 0; r < fs->n_watch_roots; r++)
				walk_scan(fs, &c, r, "");
			COUNT(fs, full_scans);
			if (every && now >= next_full)
				next_full = now + (int64_t)every * 1000000;
		}
		if (fallback) {
			struct job *j;

			pthread_mutex_lock(&fs->sched_mu);
			j = fs->unwatched;
			pthread_mutex_unlock(&fs->sched_mu);
			/* The list only grows at its head: the part seen
			 * here stays valid without the lock. */
			for (; j && !atomic_load(&fs->stop); j = j->next)
				walk_scan(fs, &c, j->root, j->rel);
			next_fallback =
			    now + (int64_t)FALLBACK_PERIOD * 1000000;
		}
	}
	ctx_fini(&c);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */

static unsigned
auto_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n >= 4 ? (unsigned)(n / 2) : 1;
}

enum vg_err
vg_filescan_new(struct vg_filescan **out, const struct vg_filescan_opts *o,
		char *err, size_t errlen)
{
	const struct vg_config *cfg = o->cfg;
	struct vg_filescan *fs;
	const char *q = o->quarantine ? o->quarantine : cfg->file_quarantine;
	size_t slots = 1;

	*out = NULL;
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return VG_ENOMEM;
	fs->cfg = cfg;
	fs->out = o->out;
	fs->ctx = o->ctx;
	fs->ino = -1;
	fs->wake = -1;
	fs->hash_all = cfg->file_hash && strcmp(cfg->file_hash, "all") == 0;
	fs->n_pool = o->threads          ? o->threads
		     : cfg->file_threads ? cfg->file_threads
					 : auto_threads();
	fs->q_max = cfg->file_queue;
	fs->max_watches = cfg->file_max_watches;
	pthread_mutex_init(&fs->rules_mu, NULL);
	pthread_mutex_init(&fs->roots_mu, NULL);
	pthread_mutex_init(&fs->q_mu, NULL);
	pthread_cond_init(&fs->q_ready, NULL);
	pthread_cond_init(&fs->q_space, NULL);
	pthread_cond_init(&fs->q_idle, NULL);
	pthread_mutex_init(&fs->sched_mu, NULL);
	pthread_cond_init(&fs->sched_cond, NULL);
	pthread_mutex_init(&fs->cache_mu, NULL);
	vg_yara_ref(o->rules);
	fs->rules = o->rules;
	if (o->hashes) {
		atomic_fetch_add(&o->hashes->refs, 1);
		fs->hashes = o->hashes;
	}
	atomic_store(&fs->rules_ver, vg_yara_version(o->rules));
	if (o->scanner_exe != NULL &&
	    (fs->exe = strdup(o->scanner_exe)) == NULL) {
		vg_filescan_free(fs);
		return VG_ENOMEM;
	}
	if (cfg->file_cache) {
		while (slots < cfg->file_cache)
			slots <<= 1;
		fs->cache = vg_calloc(slots, sizeof(*fs->cache));
		fs->cache_mask = slots - 1;
		if (fs->cache == NULL) {
			vg_filescan_free(fs);
			return VG_ENOMEM;
		}
	}
	if (q && q[0]) {
		fs->qdir = strdup(q);
		if (fs->qdir == NULL) {
			vg_filescan_free(fs);
			return VG_ENOMEM;
		}
		if (mkdir(q, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "files.quarantine: %s: %s", q,
				 strerror(errno));
			vg_filescan_free(fs);
			return VG_EIO;
		}
	}
	*out = fs;
	return VG_OK;
}

enum vg_err
vg_filescan_start(struct vg_filescan *fs, int watch, char *err, size_t errlen)
{
	unsigned i;

	fs->pool = vg_calloc(fs->n_pool, sizeof(*fs->pool));
	if (fs->pool == NULL)
		return VG_ENOMEM;
	for (i = 0; i < fs->n_pool; i++) {
		if (pthread_create(&fs->pool[i], NULL, pool_main, fs) != 0) {
			snprintf(err, errlen, "cannot start scanner threads");
			return VG_EIO;
		}
		fs->pool_started++;
	}
	if (!watch || fs->cfg->n_file_watch == 0)
		return VG_OK;
	for (i = 0; i < fs->cfg->n_file_watch; i++)
		if (root_add(fs, fs->cfg->file_watch[i], err, errlen) < 0)
			return VG_EIO;
	fs->n_watch_roots = fs->n_roots;
	fs->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fs->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fs->ino < 0 || fs->wake < 0) {
		snprintf(err, errlen, "inotify: %s", strerror(errno));
		return VG_EIO;
	}
	/* Watches first, so nothing made during the first walk is missed. */
	watch_trees(fs);
	if (pthread_create(&fs->watcher, NULL, watcher_main, fs) != 0) {
		snprintf(err, errlen, "cannot start the watcher thread");
		return VG_EIO;
	}
	fs->watcher_started = true;
	if (pthread_create(&fs->sched, NULL, sched_main, fs) != 0) {
		snprintf(err, errlen, "cannot start the scheduler thread");
		return VG_EIO;
	}
	fs->sched_started = true;
	return VG_OK;
}

void
vg_filescan_stats(struct vg_filescan *fs, struct vg_filescan_stats *st)
{
	memset(st, 0, sizeof(*st));
#define LOAD(f) st->f = atomic_load(&fs->st.f)
	LOAD(scanned);
	LOAD(bytes);
	LOAD(matched);
	LOAD(hash_listed);
	LOAD(alerts);
	LOAD(cached);
	LOAD(skipped_size);
	LOAD(skipped_excluded);
	LOAD(skipped_special);
	LOAD(vanished);
	LOAD(errors);
	LOAD(timeouts);
	LOAD(quarantined);
	LOAD(quarantine_errors);
	LOAD(event_errors);
	LOAD(watch_limit);
	LOAD(overflows);
	LOAD(full_scans);
	LOAD(sandbox_restarts);
	LOAD(sandbox_malformed);
#undef LOAD
	pthread_mutex_lock(&fs->q_mu);
	st->queued = fs->q_len;
	pthread_mutex_unlock(&fs->q_mu);
	st->watched_dirs = fs->n_wds;
	st->rules_version = atomic_load(&fs->rules_ver);
}

void
vg_filescan_stop(struct vg_filescan *fs)
{
	uint64_t one = 1;
	unsigned i;

	if (atomic_exchange(&fs->stop, true))
		return;
	pthread_mutex_lock(&fs->q_mu);
	pthread_cond_broadcast(&fs->q_ready);
	pthread_cond_broadcast(&fs->q_space);
	pthread_mutex_unlock(&fs->q_mu);
	sched_wake(fs, false);
	if (fs->wake >= 0 && write(fs->wake, &one, sizeof(one)) < 0)
		vg_log(LOG_DEBUG, "watcher wake-up: %s", strerror(errno));
	for (i = 0; i < fs->pool_started; i++)
		pthread_join(fs->pool[i], NULL);
	if (fs->watcher_started)
		pthread_join(fs->watcher, NULL);
	if (fs->sched_started)
		pthread_join(fs->sched, NULL);
	fs->pool_started = 0;
	fs->watcher_started = false;
	fs->sched_started = false;
}

void
vg_filescan_free(struct vg_filescan *fs)
{
	struct job *j;
	struct pending *p;
	unsigned i;

	if (fs == NULL)
		return;
	vg_filescan_stop(fs);
	free(fs->pool);
	while ((j = fs->q_head) != NULL) {
		fs->q_head = j->next;
		free(j);
	}
	while ((j = fs->unwatched) != NULL) {
		fs->unwatched = j->next;
		free(j);
	}
	while ((p = fs->pend_head) != NULL) {
		fs->pend_head = p->next;
		free(p);
	}
	for (i = 0; i < fs->n_wds; i++)
		free(fs->wds[i].rel);
	free(fs->wds);
	if (fs->ino >= 0)
		close(fs->ino);
	if (fs->wake >= 0)
		close(fs->wake);
	for (i = 0; i < fs->n_roots; i++) {
		free(fs->roots[i].path);
		close(fs->roots[i].fd);
	}
	free(fs->cache);
	free(fs->qdir);
	free(fs->exe);
	vg_yara_unref(fs->rules);
	vg_filescan_hashes_unref(fs->hashes);
	pthread_mutex_destroy(&fs->rules_mu);
	pthread_mutex_destroy(&fs->roots_mu);
	pthread_mutex_destroy(&fs->q_mu);
	pthread_cond_destroy(&fs->q_ready);
	pthread_cond_destroy(&fs->q_space);
	pthread_cond_destroy(&fs->q_idle);
	pthread_mutex_destroy(&fs->sched_mu);
	pthread_cond_destroy(&fs->sched_cond);
	pthread_mutex_destroy(&fs->cache_mu);
	free(fs);
}
