/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Polling the center's signed rule bundle (bundlepoll.h).
 *
 * State on disk, in rules.bundle.dir (the agent's own folder):
 *   current     "N HASH\n": the version in force and the SHA-256 of its
 *               envelope; replaced by write + fsync + rename, so it is
 *               always a whole, old or new
 *   vN/         the extracted bundle N (network/, yara/, ioc/), made as
 *               vN.tmp and renamed once every file is fsync'ed
 * The version in "current" is the floor: a bundle at or below it is a
 * rollback, even after a restart.
 *
 * Two threads. The poller thread (poller_main) does everything that
 * touches the network or may be slow: connect, STRLEN/GETRANGE, the checks,
 * the extraction. Once it has a verified bundle on disk it sets ready
 * and waits; the main loop takes it (vg_bundlepoll_take), reloads, and
 * commits, which clears ready and wakes the thread. So the state the
 * commit changes (applied, its hash, cur_dir) is never written while the
 * thread runs a poll, and the pending bundle is never written while the
 * main loop reads it: mu orders the hand-overs both ways.
 */
#include "bundlepoll.h"

#include "bundle.h"
#include "event.h"
#include "log.h"
#include "netrules.h"
#include "output.h"
#include "publish.h"
#include "redis.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct vg_bundlepoll {
	unsigned poll_s;  /* rules.bundle.poll */
	size_t event_max; /* output.event_max_bytes */
	struct vg_bundle_pub pub;
	char dir[PATH_MAX - 64];
	char cur_dir[PATH_MAX];     /* DIR/vN in force, "" none */
	char pending_dir[PATH_MAX]; /* DIR/vN fetched, awaiting commit */
	uint64_t applied;           /* version in force (the floor) */
	uint64_t prev;              /* the one before, kept on disk */
	uint8_t applied_hash[32];
	uint64_t pending;
	uint8_t pending_hash[32];
	uint8_t seen_hash[32]; /* the last envelope looked at */
	int seen_any;

	struct vg_redis_opts ro;
	char *password;
	struct vg_redis *r;     /* the poller thread's */
	struct vg_ratelimit rl; /* the poller thread's */
	int unloaded;           /* vg_bundlepoll_unload: alert at start */

	struct vg_output *out;
	const struct vg_event_ctx *ctx;

	/* The poller thread. mu guards the flags; cv is signalled when
	 * ready is cleared, stop is set, or the thread has ended. */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	pthread_t thread;
	int started;   /* main loop's: a thread to stop */
	int abandoned; /* it would not stop: never freed (see stop) */
	int stop, exited, ready, taken;
	atomic_int cancel; /* ro.cancel: ends a Redis call under way */

	atomic_uint_fast64_t st_version, st_applied, st_refused, st_polls,
	    st_poll_errors;
};

static const char *
bundle_dir(const struct vg_config *cfg)
{
	return cfg->bundle_dir ? cfg->bundle_dir : VG_BUNDLE_DIR_DEFAULT;
}

/* A condition whose timed waits run on the monotonic clock: a change
 * of the wall clock neither delays a poll nor hurries it. 0 or -1. */
static int
cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		     pthread_cond_init(cv, &ca) == 0
		 ? 0
		 : -1;
	pthread_condattr_destroy(&ca);
	return rc;
}

/* The monotonic time ms from now, for pthread_cond_timedwait(). */
static struct timespec
mono_after_ms(uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* The bundle in force is not used (why: for the log line): no folder to
 * load, stats version 0, an alert at the start. The floor stays. */
static void
run_without(struct vg_bundlepoll *bp, const char *why)
{
	vg_log(LOG_WARNING,
	       "rule bundle version %" PRIu64 " is in force but %s: running "
	       "without it (the local rules only) until a newer bundle is put "
	       "in force",
	       bp->applied, why);
	bp->cur_dir[0] = '\0';
	bp->unloaded = 1;
	atomic_store(&bp->st_version, 0);
	atomic_fetch_add(&bp->st_refused, 1);
}

/* Read DIR/current: 0 (nothing in force is fine), -1 when unusable. */
static int
read_current(struct vg_bundlepoll *bp, char *err, size_t errlen)
{
	char path[PATH_MAX], line[160], hex[65], *end;
	unsigned long long v;
	FILE *f;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/current", bp->dir);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	errno = 0;
	v = strtoull(line, &end, 10);
	if (errno || end == line || *end != ' ' || v == 0 ||
	    sscanf(end + 1, "%64[0-9a-f]", hex) != 1 || strlen(hex) != 64 ||
	    vg_hex_decode(bp->applied_hash, 32, hex, 64) != 0) {
		vg_seterr(err, errlen, "%s: not \"VERSION SHA256\"", path);
		return -1;
	}
	bp->applied = v;
	atomic_store(&bp->st_version, v);
	snprintf(bp->cur_dir, sizeof(bp->cur_dir), "%s/v%llu", bp->dir, v);
	/* The floor stays; only its rules are gone. */
	if (stat(bp->cur_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		run_without(bp, "its folder is missing");
	return 0;
}

enum vg_err
vg_bundlepoll_new(struct vg_bundlepoll **out, const struct vg_config *cfg,
		  char *err, size_t errlen)
{
	struct vg_bundlepoll *bp;
	const char *dir = bundle_dir(cfg);
	enum vg_err rc;

	*out = NULL;
	if (cfg->bundle_public_key == NULL) {
		vg_seterr(err, errlen, "rules.bundle.public_key: not set");
		return VG_EINVAL;
	}
	if (cfg->redis_url == NULL && cfg->n_redis_sentinels == 0) {
		vg_seterr(err, errlen,
			  "rules.bundle.public_key: bundles come over "
			  "output.redis, which is not set");
		return VG_EINVAL;
	}
	bp = calloc(1, sizeof(*bp));
	if (bp == NULL)
		return VG_ENOMEM;
	bp->poll_s = cfg->bundle_poll;
	bp->event_max = (size_t)cfg->event_max_bytes;
	atomic_init(&bp->cancel, 0);
	if ((size_t)snprintf(bp->dir, sizeof(bp->dir), "%s", dir) >=
	    sizeof(bp->dir)) {
		vg_seterr(err, errlen, "rules.bundle.dir: too long");
		free(bp);
		return VG_EINVAL;
	}
	rc = vg_bundle_pub_load(&bp->pub, cfg->bundle_public_key, err, errlen);
	if (rc != VG_OK) {
		free(bp);
		return rc;
	}
	if (mkdir(bp->dir, 0755) != 0 && errno != EEXIST) {
		vg_seterr(err, errlen, "rules.bundle.dir: %s: %s", bp->dir,
			  strerror(errno));
		free(bp);
		return VG_EIO;
	}
	if (read_current(bp, err, errlen) < 0) {
		free(bp);
		return VG_EIO;
	}
	if (vg_publish_redis_opts(cfg, &bp->ro, &bp->password, err, errlen) !=
	    VG_OK) {
		free(bp);
		return VG_EIO;
	}
	bp->ro.cancel = &bp->cancel;
	if (cond_init(&bp->cv) != 0) {
		vg_seterr(err, errlen, "rules.bundle: cannot make a condition");
		if (bp->password) {
			explicit_bzero(bp->password, strlen(bp->password));
			free(bp->password);
		}
		free(bp);
		return VG_ENOMEM;
	}
	pthread_mutex_init(&bp->mu, NULL);
	*out = bp;
	return VG_OK;
}

void
vg_bundlepoll_free(struct vg_bundlepoll *bp)
{
	if (bp == NULL)
		return;
	vg_bundlepoll_stop(bp);
	/* A thread that would not stop still uses all of it; the process
	 * is ending, so it is left to end with it. */
	if (bp->abandoned)
		return;
	vg_redis_close(bp->r);
	if (bp->password) {
		explicit_bzero(bp->password, strlen(bp->password));
		free(bp->password);
	}
	pthread_mutex_destroy(&bp->mu);
	pthread_cond_destroy(&bp->cv);
	free(bp);
}

void
vg_bundlepoll_set_output(struct vg_bundlepoll *bp, struct vg_output *out,
			 const struct vg_event_ctx *ctx)
{
	if (bp == NULL)
		return;
	bp->out = out;
	bp->ctx = ctx;
}

const char *
vg_bundlepoll_current_dir(const struct vg_bundlepoll *bp)
{
	return bp && bp->cur_dir[0] ? bp->cur_dir : NULL;
}

uint64_t
vg_bundlepoll_version(const struct vg_bundlepoll *bp)
{
	return bp ? bp->applied : 0;
}

size_t
vg_bundlepoll_stats_kv(const struct vg_bundlepoll *bp, struct vg_stat_kv *kv,
		       size_t room)
{
	if (bp == NULL)
		return 0;

	const struct {
		const char *key;
		const atomic_uint_fast64_t *v;
	} rows[] = {
	    {"rules.bundle_version", &bp->st_version},
	    {"rules.bundle_applied", &bp->st_applied},
	    {"rules.bundle_refused", &bp->st_refused},
	    {"rules.bundle_polls", &bp->st_polls},
	    {"rules.bundle_poll_errors", &bp->st_poll_errors},
	};
	size_t i;

	_Static_assert(VG_ARRAY_LEN(rows) == VG_BUNDLEPOLL_STATS,
		       "VG_BUNDLEPOLL_STATS is the number of keys");
	for (i = 0; i < VG_ARRAY_LEN(rows) && i < room; i++)
		kv[i] = (struct vg_stat_kv){rows[i].key,
					    (uint64_t)atomic_load(rows[i].v)};
	return i;
}

/*
 * The alert event of a refusal, which reaches the center like any other
 * (signature id 9000100 + why). From either thread: the output takes
 * events from any.
 */
static void
refuse_alert(struct vg_bundlepoll *bp, enum vg_bundle_why why, uint64_t version)
{
	static char *const tags[] = {"vigil", "rule-bundle"};
	char sig[96], name[64];
	struct vg_alert_info a;
	struct vg_file_info fi;
	struct vg_buf b;

	if (bp->out == NULL || bp->ctx == NULL)
		return;
	snprintf(sig, sizeof(sig), "rule bundle refused: %s",
		 vg_bundle_why_str(why));
	snprintf(name, sizeof(name), "redis:%s#v%" PRIu64, VG_BUNDLE_KEY,
		 version);
	memset(&a, 0, sizeof(a));
	a.signature_id = vg_bundle_why_sid(why);
	a.rev = 1;
	a.signature = sig;
	a.category = "rule-bundle";
	a.severity = 1;
	a.severity_name = "high";
	a.tags = tags;
	a.n_tags = VG_ARRAY_LEN(tags);
	a.action = "blocked";
	a.count = 1;
	memset(&fi, 0, sizeof(fi));
	fi.filename = name;
	fi.source = "bundle";
	vg_buf_init(&b, bp->event_max + 4096);
	if (vg_event_file_alert(&b, bp->ctx, &fi, NULL, &a, vg_now_wall_us()) ==
	    VG_OK)
		(void)vg_output_submit(bp->out, &b, 1);
	vg_buf_fini(&b);
}

/* A refusal: a log line, a counter, and the alert. */
static void
refuse(struct vg_bundlepoll *bp, enum vg_bundle_why why, uint64_t version,
       const char *detail)
{
	atomic_fetch_add(&bp->st_refused, 1);
	vg_log(LOG_ERR, "rule bundle version %" PRIu64 " refused: %s: %s",
	       version, vg_bundle_why_str(why), detail ? detail : "");
	refuse_alert(bp, why, version);
}

static void
poll_error(struct vg_bundlepoll *bp, const char *what, const char *err)
{
	/* A call cancelled by a stop is no news, nor an error. */
	if (atomic_load(&bp->cancel) != 0)
		return;
	atomic_fetch_add(&bp->st_poll_errors, 1);
	if (vg_ratelimit_ok(&bp->rl, 3, 600))
		vg_log(LOG_WARNING, "rule bundle poll: %s: %s", what, err);
}

/*
 * Fetch the envelope, bounded: *val owned reply (STRING), or EAGAIN.
 * STRLEN says whether there is one and whether it is too large; the
 * value is then read with GETRANGE up to one byte past the limit, so a
 * key replaced in between by a larger value is still bounded (and seen
 * as too large), never read whole.
 */
static enum vg_err
get_bundle(struct vg_bundlepoll *bp, struct vg_redis_reply **val,
	   enum vg_bundle_why *too_large)
{
	char end[24];
	const char *argv[4];
	size_t argvlen[4];
	struct vg_redis_reply *rep = NULL;
	char err[512];

	*val = NULL;
	*too_large = VG_BUNDLE_FINE;
	if (bp->r == NULL &&
	    vg_redis_connect(&bp->r, &bp->ro, err, sizeof(err)) != VG_OK) {
		bp->r = NULL;
		poll_error(bp, "connect", err);
		return VG_EAGAIN;
	}
	/* The length first: nothing past the limit is read. */
	argv[0] = "STRLEN";
	argv[1] = VG_BUNDLE_KEY;
	argvlen[0] = 6;
	argvlen[1] = strlen(VG_BUNDLE_KEY);
	if (vg_redis_command(bp->r, 2, argv, argvlen, 1, &rep, err,
			     sizeof(err)) != VG_OK) {
		poll_error(bp, "STRLEN", err);
		return VG_EAGAIN;
	}
	if (rep->type != VG_REPLY_INTEGER) {
		char esc[200];

		poll_error(bp, "STRLEN",
			   rep->type == VG_REPLY_ERROR
			       ? vg_escape(esc, sizeof(esc), rep->str, rep->len)
			       : "unexpected reply");
		vg_redis_reply_free(rep);
		return VG_EAGAIN;
	}
	if (rep->integer == 0) {
		vg_redis_reply_free(rep);
		return VG_EAGAIN; /* no bundle published */
	}
	if (rep->integer > (long long)VG_BUNDLE_MAX_BYTES) {
		vg_redis_reply_free(rep);
		*too_large = VG_BUNDLE_TOO_LARGE;
		return VG_OK;
	}
	vg_redis_reply_free(rep);
	rep = NULL;
	/* Bytes 0..VG_BUNDLE_MAX_BYTES (inclusive): one past the limit. */
	snprintf(end, sizeof(end), "%u", VG_BUNDLE_MAX_BYTES);
	argv[0] = "GETRANGE";
	argvlen[0] = 8;
	argv[2] = "0";
	argvlen[2] = 1;
	argv[3] = end;
	argvlen[3] = strlen(end);
	if (vg_redis_command(bp->r, 4, argv, argvlen, 1, &rep, err,
			     sizeof(err)) != VG_OK) {
		poll_error(bp, "GETRANGE", err);
		return VG_EAGAIN;
	}
	if (rep->type != VG_REPLY_STRING) {
		char esc[200];

		poll_error(bp, "GETRANGE",
			   rep->type == VG_REPLY_ERROR
			       ? vg_escape(esc, sizeof(esc), rep->str, rep->len)
			       : "not a string");
		vg_redis_reply_free(rep);
		return VG_EAGAIN;
	}
	if (rep->len == 0) {
		/* Removed since the STRLEN (GETRANGE of no key is ""). */
		vg_redis_reply_free(rep);
		return VG_EAGAIN;
	}
	if (rep->len > VG_BUNDLE_MAX_BYTES) {
		/* Replaced since the STRLEN by a larger value. */
		vg_redis_reply_free(rep);
		*too_large = VG_BUNDLE_TOO_LARGE;
		return VG_OK;
	}
	*val = rep;
	return VG_OK;
}

/*
 * Poll once (the poller thread): STRLEN and GETRANGE vigil:rules:bundle; a
 * bundle not seen before is checked and extracted into DIR/vN. VG_OK:
 * *dir holds it, awaiting its reload; VG_EAGAIN: nothing new, or Redis
 * could not be asked; VG_EINVAL: refused.
 */
static enum vg_err
fetch(struct vg_bundlepoll *bp, const char **dir)
{
	struct vg_redis_reply *val = NULL;
	struct vg_bundle *b = NULL;
	enum vg_bundle_why why, big;
	char err[1024], tmp[PATH_MAX];
	uint8_t h[32];
	enum vg_err rc;

	*dir = NULL;
	atomic_fetch_add(&bp->st_polls, 1);
	if (get_bundle(bp, &val, &big) != VG_OK)
		return VG_EAGAIN;
	if (big != VG_BUNDLE_FINE) {
		/* Refused once, until something else is published. */
		memset(h, 0xff, sizeof(h));
		if (bp->seen_any && memcmp(h, bp->seen_hash, 32) == 0)
			return VG_EAGAIN;
		memcpy(bp->seen_hash, h, 32);
		bp->seen_any = 1;
		refuse(bp, VG_BUNDLE_TOO_LARGE, 0,
		       "larger than the limit of 16 MiB");
		return VG_EINVAL;
	}
	if (vg_sha256(val->str, val->len, h) != 0) {
		vg_redis_reply_free(val);
		return VG_EAGAIN;
	}
	/* Each envelope is judged once: a refused one is not raised again
	 * at every poll, the one in force is not applied again. */
	if ((bp->seen_any && memcmp(h, bp->seen_hash, 32) == 0) ||
	    (bp->applied && memcmp(h, bp->applied_hash, 32) == 0)) {
		vg_redis_reply_free(val);
		return VG_EAGAIN;
	}
	memcpy(bp->seen_hash, h, 32);
	bp->seen_any = 1;
	rc = vg_bundle_check(&b, (const uint8_t *)val->str, val->len, &bp->pub,
			     &why, err, sizeof(err));
	if (rc == VG_ENOMEM) {
		/* A local fault, not the bundle's: tried again at the next
		 * poll. */
		memset(bp->seen_hash, 0, sizeof(bp->seen_hash));
		bp->seen_any = 0;
		poll_error(bp, "check", err);
		vg_redis_reply_free(val);
		return VG_EAGAIN;
	}
	if (rc != VG_OK) {
		refuse(
		    bp, why == VG_BUNDLE_FINE ? VG_BUNDLE_MALFORMED : why,
		    vg_bundle_peek_version((const uint8_t *)val->str, val->len),
		    err);
		vg_redis_reply_free(val);
		return VG_EINVAL;
	}
	if (b->version <= bp->applied) {
		snprintf(err, sizeof(err),
			 "version %" PRIu64 " is not above the one in force "
			 "(%" PRIu64 ")",
			 b->version, bp->applied);
		refuse(bp, VG_BUNDLE_ROLLBACK, b->version, err);
		rc = VG_EINVAL;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/v%" PRIu64 ".tmp", bp->dir, b->version);
	snprintf(bp->pending_dir, sizeof(bp->pending_dir), "%s/v%" PRIu64,
		 bp->dir, b->version);
	/* Leftovers of an attempt that did not finish. */
	(void)vg_bundle_remove_tree(tmp);
	(void)vg_bundle_remove_tree(bp->pending_dir);
	err[0] = '\0';
	if (vg_bundle_extract(b, tmp, err, sizeof(err)) != VG_OK ||
	    rename(tmp, bp->pending_dir) != 0) {
		if (err[0] == '\0')
			vg_seterr(err, sizeof(err), "%s: %s", bp->pending_dir,
				  strerror(errno));
		(void)vg_bundle_remove_tree(tmp);
		/* A local fault, not the bundle's: tried again at the next
		 * poll. */
		memset(bp->seen_hash, 0, sizeof(bp->seen_hash));
		bp->seen_any = 0;
		poll_error(bp, "extract", err);
		rc = VG_EAGAIN;
		goto out;
	}
	(void)vg_fsync_dir(bp->dir);
	bp->pending = b->version;
	memcpy(bp->pending_hash, h, 32);
	vg_log(LOG_INFO, "rule bundle version %" PRIu64 " (%u files) verified",
	       b->version, b->n_files);
	*dir = bp->pending_dir;
	rc = VG_OK;
out:
	vg_bundle_free(b);
	vg_redis_reply_free(val);
	return rc;
}

/* Write DIR/current for version v, whole or not at all. */
static int
write_current(struct vg_bundlepoll *bp, uint64_t v, const uint8_t hash[32])
{
	char path[PATH_MAX], tmp[PATH_MAX], hex[65], line[128];
	int fd, n, ok;

	snprintf(path, sizeof(path), "%s/current", bp->dir);
	snprintf(tmp, sizeof(tmp), "%s/current.tmp", bp->dir);
	n = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", v,
		     vg_hex_encode(hex, hash, 32));
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -1;
	ok = vg_write_all(fd, line, (size_t)n) == 0 && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	(void)vg_fsync_dir(bp->dir);
	return 0;
}

/* Remove every vN but the one in force and the previous. */
static void
prune(struct vg_bundlepoll *bp)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(bp->dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long long v;
		char *end;

		if (de->d_name[0] != 'v')
			continue;
		errno = 0;
		v = strtoull(de->d_name + 1, &end, 10);
		if (errno || end == de->d_name + 1 ||
		    (*end != '\0' && strcmp(end, ".tmp") != 0))
			continue;
		if (*end == '\0' && (v == bp->applied || v == bp->prev))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", bp->dir,
				     de->d_name) >= sizeof(path))
			continue;
		if (vg_bundle_remove_tree(path) != 0)
			vg_log(LOG_WARNING, "rule bundle: cannot remove %s: %s",
			       path, strerror(errno));
	}
	closedir(d);
}

/* The bundle taken is dealt with: the poller thread polls again. */
static void
handed_back(struct vg_bundlepoll *bp)
{
	bp->pending = 0;
	pthread_mutex_lock(&bp->mu);
	bp->ready = 0;
	bp->taken = 0;
	pthread_cond_broadcast(&bp->cv);
	pthread_mutex_unlock(&bp->mu);
}

void
vg_bundlepoll_commit(struct vg_bundlepoll *bp, int ok, const char *errors)
{
	if (bp == NULL || bp->pending == 0)
		return;
	if (!ok) {
		refuse(bp, VG_BUNDLE_RULES, bp->pending, errors);
		(void)vg_bundle_remove_tree(bp->pending_dir);
		handed_back(bp);
		return;
	}
	if (write_current(bp, bp->pending, bp->pending_hash) != 0) {
		/* In force now, but a restart would not know: say so. */
		vg_log(LOG_ERR,
		       "rule bundle version %" PRIu64 " is in force but "
		       "%s/current cannot be written: %s",
		       bp->pending, bp->dir, strerror(errno));
	}
	bp->prev = bp->applied;
	bp->applied = bp->pending;
	memcpy(bp->applied_hash, bp->pending_hash, 32);
	snprintf(bp->cur_dir, sizeof(bp->cur_dir), "%s", bp->pending_dir);
	atomic_store(&bp->st_version, bp->applied);
	atomic_fetch_add(&bp->st_applied, 1);
	vg_log(LOG_INFO, "rule bundle version %" PRIu64 " in force",
	       bp->applied);
	prune(bp);
	handed_back(bp);
}

/* ------------------------------------------------------------------ */
/* The poller thread                                                    */

static void *
poller_main(void *arg)
{
	struct vg_bundlepoll *bp = arg;
	struct timespec next;
	const char *dir;
	enum vg_err rc;

	pthread_mutex_lock(&bp->mu);
	while (!bp->stop) {
		pthread_mutex_unlock(&bp->mu);
		/* Every poll seconds from the start of one poll to the
		 * next, as long as nothing waits for the main loop. */
		next = mono_after_ms((uint64_t)bp->poll_s * 1000);
		rc = fetch(bp, &dir);
		pthread_mutex_lock(&bp->mu);
		if (rc == VG_OK) {
			bp->ready = 1;
			while (bp->ready && !bp->stop)
				pthread_cond_wait(&bp->cv, &bp->mu);
		}
		while (!bp->stop && pthread_cond_timedwait(&bp->cv, &bp->mu,
							   &next) != ETIMEDOUT)
			;
	}
	bp->exited = 1;
	pthread_cond_broadcast(&bp->cv);
	pthread_mutex_unlock(&bp->mu);
	return NULL;
}

enum vg_err
vg_bundlepoll_start(struct vg_bundlepoll *bp, char *err, size_t errlen)
{
	if (bp == NULL || bp->started)
		return VG_OK;
	if (bp->abandoned) {
		vg_seterr(err, errlen,
			  "rules.bundle: the poller thread has not ended");
		return VG_EIO;
	}
	/* Now that the output is known (vg_bundlepoll_set_output). */
	if (bp->unloaded) {
		refuse_alert(bp, VG_BUNDLE_START, bp->applied);
		bp->unloaded = 0;
	}
	bp->stop = bp->exited = bp->ready = bp->taken = 0;
	atomic_store(&bp->cancel, 0);
	if (pthread_create(&bp->thread, NULL, poller_main, bp) != 0) {
		vg_seterr(err, errlen,
			  "rules.bundle: cannot start the poller thread");
		return VG_EIO;
	}
	bp->started = 1;
	return VG_OK;
}

enum vg_err
vg_bundlepoll_take(struct vg_bundlepoll *bp, const char **dir)
{
	enum vg_err rc = VG_EAGAIN;

	*dir = NULL;
	if (bp == NULL)
		return VG_EAGAIN;
	pthread_mutex_lock(&bp->mu);
	if (bp->ready && !bp->taken) {
		bp->taken = 1;
		*dir = bp->pending_dir;
		rc = VG_OK;
	}
	pthread_mutex_unlock(&bp->mu);
	return rc;
}

void
vg_bundlepoll_stop(struct vg_bundlepoll *bp)
{
	struct timespec until;
	int exited, rc = 0;

	if (bp == NULL || !bp->started)
		return;
	bp->started = 0;
	/* The flag ends a Redis call under way (redis.h: cancel); the
	 * condition ends a wait between polls or for the main loop. */
	atomic_store(&bp->cancel, 1);
	until = mono_after_ms(VG_BUNDLEPOLL_STOP_MS);
	pthread_mutex_lock(&bp->mu);
	bp->stop = 1;
	pthread_cond_broadcast(&bp->cv);
	while (!bp->exited && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&bp->cv, &bp->mu, &until);
	exited = bp->exited;
	pthread_mutex_unlock(&bp->mu);
	if (exited) {
		pthread_join(bp->thread, NULL);
		return;
	}
	/* Only what cannot be interrupted can keep it: a name lookup
	 * (getaddrinfo), a slow disk while extracting. A stop does not
	 * wait for those; the thread ends with the process. */
	vg_log(LOG_WARNING,
	       "rule bundle poller: still busy after %u ms (a name lookup "
	       "or the disk); not waiting for it",
	       (unsigned)VG_BUNDLEPOLL_STOP_MS);
	pthread_detach(bp->thread);
	bp->abandoned = 1;
}

void
vg_bundlepoll_unload(struct vg_bundlepoll *bp)
{
	if (bp == NULL || bp->cur_dir[0] == '\0' || bp->started)
		return;
	run_without(bp, "does not load with the local configuration");
}

/* ------------------------------------------------------------------ */
/* The bundle's folders in the configuration                            */

static enum vg_err
add_string(char **arr, unsigned *n, const char *key, const char *s, FILE *errs)
{
	if (*n >= VG_CONFIG_MAX_LIST) {
		if (errs)
			fprintf(errs,
				"%s: more than %u entries with the rule "
				"bundle's\n",
				key, VG_CONFIG_MAX_LIST);
		return VG_ELIMIT;
	}
	arr[*n] = strdup(s);
	if (arr[*n] == NULL)
		return VG_ENOMEM;
	(*n)++;
	return VG_OK;
}

static void
count_one(const char *path, void *arg)
{
	(void)path;
	(*(unsigned *)arg)++;
}

struct ioc_walk {
	struct vg_config *cfg;
	FILE *errs;
	enum vg_err rc;
};

static enum vg_err
set_ioc(struct vg_config *cfg, const char *name, const char *type,
	const char *path, FILE *errs)
{
	struct vg_ioc_config *e = NULL;
	char *n2, *t2, *p2;
	unsigned i;

	for (i = 0; i < cfg->n_ioc; i++)
		if (strcmp(cfg->ioc[i].name, name) == 0)
			e = &cfg->ioc[i];
	if (e == NULL && cfg->n_ioc >= VG_CONFIG_MAX_LIST) {
		if (errs)
			fprintf(errs,
				"detection.ioc: more than %u lists with the "
				"rule bundle's\n",
				VG_CONFIG_MAX_LIST);
		return VG_ELIMIT;
	}
	n2 = strdup(name);
	t2 = strdup(type);
	p2 = strdup(path);
	if (n2 == NULL || t2 == NULL || p2 == NULL) {
		free(n2);
		free(t2);
		free(p2);
		return VG_ENOMEM;
	}
	if (e == NULL) {
		e = &cfg->ioc[cfg->n_ioc++];
	} else {
		free(e->name);
		free(e->type);
		free(e->path);
	}
	e->name = n2;
	e->type = t2;
	e->path = p2;
	return VG_OK;
}

static void
ioc_one(const char *path, void *arg)
{
	struct ioc_walk *w = arg;
	const char *base = strrchr(path, '/'), *type;
	char rel[VG_BUNDLE_MAX_PATH + 8], name[80];
	enum vg_err rc;

	if (w->rc != VG_OK || base == NULL)
		return;
	snprintf(rel, sizeof(rel), "ioc/%s", base + 1);
	if (vg_bundle_ioc_name(rel, name, sizeof(name), &type) < 0)
		return; /* the bundle's check refused such names already */
	rc = set_ioc(w->cfg, name, type, path, w->errs);
	if (rc != VG_OK)
		w->rc = rc;
}

enum vg_err
vg_bundle_extend_config(struct vg_config *cfg, const char *dir,
			const char *shipped, FILE *errs)
{
	const struct vg_shipped_list *shipped_lists = vg_shipped_lists;
	char path[PATH_MAX];
	struct ioc_walk w;
	unsigned n = 0, i;
	enum vg_err rc;

	if (dir == NULL)
		return VG_OK;
	/* Network rules: the bundle adds to what is configured. */
	if (!cfg->rule_paths_set && shipped) {
		snprintf(path, sizeof(path), "%s/network", shipped);
		rc = add_string(cfg->rule_paths, &cfg->n_rule_paths,
				"detection.rules", path, errs);
		if (rc != VG_OK)
			return rc;
	}
	cfg->rule_paths_set = true;
	snprintf(path, sizeof(path), "%s/network", dir);
	rc = add_string(cfg->rule_paths, &cfg->n_rule_paths, "detection.rules",
			path, errs);
	if (rc != VG_OK)
		return rc;

	/* YARA: an empty folder is no rule set, so only when it has some. */
	snprintf(path, sizeof(path), "%s/yara", dir);
	(void)vg_dir_each(path, vg_bundle_yara_ext, count_one, &n);
	if (n > 0) {
		if (!cfg->file_rules_set && shipped) {
			char sp[PATH_MAX];

			snprintf(sp, sizeof(sp), "%s/yara", shipped);
			rc = add_string(cfg->file_rules, &cfg->n_file_rules,
					"files.rules", sp, errs);
			if (rc != VG_OK)
				return rc;
		}
		cfg->file_rules_set = true;
		rc = add_string(cfg->file_rules, &cfg->n_file_rules,
				"files.rules", path, errs);
		if (rc != VG_OK)
			return rc;
	}

	/* IoC lists: the shipped ones first when the file names none. */
	if (!cfg->ioc_set) {
		for (i = 0; shipped && i < VG_SHIPPED_LISTS; i++) {
			snprintf(path, sizeof(path), "%s/%s", shipped,
				 shipped_lists[i].file);
			if (access(path, R_OK) != 0)
				continue;
			rc = set_ioc(cfg, shipped_lists[i].name,
				     vg_ioc_type_name(shipped_lists[i].type),
				     path, errs);
			if (rc != VG_OK)
				return rc;
		}
		cfg->ioc_set = true;
	}
	w.cfg = cfg;
	w.errs = errs;
	w.rc = VG_OK;
	snprintf(path, sizeof(path), "%s/ioc", dir);
	(void)vg_dir_each(path, vg_bundle_ioc_ext, ioc_one, &w);
	return w.rc;
}
