/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable spool: segment files of CRC-checked records, a group fsync
 * thread, one reader that peeks and acknowledges. See spool.h for the
 * format, the recovery rules and the contracts.
 *
 * The publisher's producers append alerts and fileinfo events here before
 * anything is sent; the publisher's sending thread peeks at durable
 * records, sends them to Redis and acknowledges what Redis accepted.
 *
 * Threads, and who may touch what
 * -------------------------------
 * One mutex (lock) guards the shared state: the list of segments, the
 * sequence numbers, the read position, the counters.
 *
 *  - Producers (vg_spool_append) hold it for one pwritev(2) of header and
 *    payload at the end of the newest segment and, once per segment, the
 *    creation of the next one. The CRC is computed before taking it.
 *  - The sync thread takes a snapshot under the lock (the write
 *    descriptors of the segments with unsynced bytes, their sizes, the
 *    last sequence number written), fsyncs them without it (busy is set
 *    meanwhile), and publishes under it: durable_seq and each segment's
 *    readable end move only to what the fsyncs covered.
 *  - The reader (peek, ack, wait) reads with its own descriptor and
 *    buffer, without the lock, but only below a segment's readable end,
 *    which only grows and below which the bytes never change.
 *
 * A segment's write descriptor is closed by the sync thread once the
 * segment is retired (no longer the newest) and fully synced, or by the
 * reader while busy is false. A segment is freed only by the reader, once
 * the read position is past it and its write descriptor is closed. So the
 * sync thread's snapshot (segments with an open write descriptor) never
 * holds a freed segment, and the reader never reads a freed one.
 *
 * Crash ordering
 * --------------
 *  - A record is handed to the reader only after an fsync of its segment
 *    that began after the record was written, and, for a new segment, an
 *    fsync of the folder (so the file's name is durable too). One pass
 *    fsyncs every segment with an open write descriptor, oldest first, so
 *    when a record is durable, so is everything before it.
 *  - A segment's header is written when it is created and is durable with
 *    its first durable record; a segment without a header after a crash
 *    therefore never held anything durable (spool.h: "unfinished").
 *  - Acknowledged segments are deleted at once, before the read position
 *    naming a later one is persisted. A crash in between leaves a
 *    position that names a deleted segment: recovery starts at the next
 *    one, which is right, since segments are only deleted once fully
 *    acknowledged. A deletion that did not reach the disk leaves a segment
 *    before the read position: deleted again at open.
 *  - The position is written to a temporary file, fsync'ed, renamed, the
 *    folder fsync'ed: after a crash it is the old or the new one.
 *
 * Space
 * -----
 * bytes counts every byte of every segment file. An append is refused
 * when it would take bytes past max_bytes less one segment header: that
 * header is the reserve that lets the reader, once it has acknowledged a
 * newest segment that holds everything, roll over to a new segment and
 * delete the old one (reclaim) without ever passing the bound.
 */
#define _GNU_SOURCE /* pwritev */

#include "spool.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SEG_HDR     16u /* segment header bytes */
#define REC_HDR     8u  /* record header bytes */
#define POS_LEN     36u /* position file bytes */
#define POS_NAME    "position"
#define POS_TMP     "position.tmp"
#define NAME_LEN    24                      /* "NNNNNNNNNNNNNNNN.seg" + NUL */
#define BUF_SIZE    (1024u * 1024)          /* reader and scan buffer */
#define SEQ_MAX     (UINT64_C(1) << 62)     /* larger ones are damage */
#define FULL_LOG_US (10 * INT64_C(1000000)) /* "full" at most this often */
#define ESC_IN      200 /* bytes of the folder path shown in messages */
#define ESC_MAX     (ESC_IN * 4 + 4)
#define KNOWN_MAX   65536 /* corrupt records open remembers */
#define WHY_LENGTH  "an impossible record length"
#define WHY_SHORT   "the file ends before its durable end"

static const char seg_magic[7] = {'V', 'G', 'S', 'P', 'O', 'O', 'L'};
#define SEG_VERSION '1'
static const char pos_magic[8] = {'V', 'G', 'S', 'P', 'P', 'O', 'S', '1'};

_Static_assert(VG_SPOOL_RECORD_MAX + (uint64_t)REC_HDR <= SIZE_MAX / 2,
	       "a record fits in size_t");
_Static_assert(VG_SPOOL_BYTES_MIN > 4 * SEG_HDR, "room for a record");

/* A segment file. */
struct seg {
	struct seg *next;   /* the next newer one */
	uint64_t id;        /* its name: the first sequence number written */
	uint64_t first_seq; /* of its first record, as numbered at open */
	uint64_t size;      /* bytes in the file */
	uint64_t wseq;      /* sequence number after the last one written */
	uint64_t end;       /* the reader may read below: durable, checked */
	uint64_t end_seq;   /* sequence number of the record at end */
	int wfd;            /* for appends: newest, or retired, not synced */
	bool sealed;        /* retired and synced: end is final */
};

/* A position in the spool: a segment, an offset in it, a sequence number.*/
struct cursor {
	struct seg *seg;
	uint64_t off;
	uint64_t seq;
};

/* Where a record is. */
struct spot {
	uint64_t id, off;
};

/* What one sync pass fsyncs. */
struct sync_item {
	struct seg *seg;
	int fd;
	uint64_t size, wseq;
};

struct vg_spool {
	char *dir; /* the folder, escaped for messages (owned) */
	int dfd;   /* the folder, flock'ed */
	uint64_t max_bytes, seg_bytes;
	int64_t sync_us;

	pthread_mutex_t lock;
	pthread_cond_t sync_cv; /* wakes the sync thread */
	pthread_cond_t done_cv; /* a sync pass ended; closing */
	pthread_t thread;
	bool locks_made, thread_made;

	/* Under lock. */
	struct seg *head, *tail; /* oldest, newest (appends go there) */
	uint64_t nsegs, bytes;
	uint64_t next_seq;    /* of the next record appended */
	uint64_t durable_seq; /* highest durable sequence number */
	struct cursor rd;     /* read position: changed by the reader only */
	bool armed;           /* appended since the last sync snapshot */
	int64_t armed_at;
	bool dir_dirty; /* a segment was created since the last sync */
	bool pos_dirty; /* rd moved since the position was persisted */
	int64_t pos_at;
	bool sync_req;              /* vg_spool_sync() is waiting */
	uint64_t req_gen, done_gen; /* requests made, requests served */
	bool busy;                  /* the sync thread is in its fsyncs */
	bool closing, shut;
	int failed; /* errno of a failed fsync: appends refused */
	unsigned waiters;
	uint64_t mark_id, mark_off; /* the reader counted bad data up to */
	uint64_t appended, acked, torn, corrupt, full_drops, fsyncs;
	uint64_t io_errors;
	int full;
	int64_t full_logged;
	struct vg_ratelimit rl;
	char lasterr[512];

	/* The sync thread's. */
	struct sync_item *items;
	size_t items_cap;

	/* Corrupt records open counted, in order (the reader's after). */
	struct spot *known;
	size_t nknown, known_cap, known_next;

	/* The reader's. */
	unsigned char *buf; /* peeked records, or scan data at open */
	size_t cap;
	struct seg *bseg; /* buf holds bseg's bytes [boff, boff + blen) */
	uint64_t boff;
	size_t blen;
	struct seg *rseg; /* rfd reads rseg */
	int rfd;
	uint64_t peek_last; /* sequence number of the last record peeked */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

struct esc {
	char s[ESC_MAX];
};

/* s for a message: printable ASCII as is, other bytes as \xNN. */
static const char *
esc(struct esc *e, const char *s)
{
	return vg_escape(e->s, sizeof(e->s), s, strnlen(s, ESC_IN + 1));
}

static void report(struct vg_spool *s, int level, const char *fmt, ...)
    VG_PRINTF(3, 4);

/*
 * Keep the message as the last error and log it, "spool DIR: message", at
 * most 10 a minute (damage can produce many). Lock held, or at open.
 */
static void
report(struct vg_spool *s, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(s->lasterr, sizeof(s->lasterr), fmt, ap);
	va_end(ap);
	if (vg_ratelimit_ok(&s->rl, 10, 60))
		vg_log(level, "spool %s: %s", s->dir, s->lasterr);
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ------------------------------------------------------------------ */
/* CRC32C                                                              */
/* ------------------------------------------------------------------ */

/*
 * CRC32C (Castagnoli, RFC 3720 appendix B.4), reflected polynomial
 * 0x82F63B78, initial value and final XOR ~0. Slicing by 8: table k gives
 * the CRC of a byte followed by k zero bytes, so eight bytes cost eight
 * lookups instead of eight dependent ones (recovery reads the whole spool).
 */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw; /* the CPU has SSE 4.2's crc32 instruction */

#if defined(__x86_64__)
/*
 * The same CRC with SSE 4.2's crc32 instruction (the Castagnoli
 * polynomial is the one it computes), eight bytes at a time: every record
 * is checked on append, on read and at recovery, so this is most of the
 * spool's CPU time otherwise.
 */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc, v;

	while (n >= 8) {
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

static void
crc_init(void)
{
	uint32_t c;
	unsigned i, j;

#if defined(__x86_64__)
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_table[0][i];
		for (j = 1; j < 8; j++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[j][i] = c;
		}
	}
}

/* Continue crc (0 to start) over n bytes at p. */
static uint32_t
crc32c_update(uint32_t crc, const unsigned char *p, size_t n)
{
	(void)pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc32c_hw(~crc, p, n);
#endif
	crc = ~crc;
	while (n >= 8) {
		crc ^= get_le32(p);
		crc =
		    crc_table[7][crc & 0xff] ^ crc_table[6][(crc >> 8) & 0xff] ^
		    crc_table[5][(crc >> 16) & 0xff] ^ crc_table[4][crc >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t
vg_spool_crc32c(const void *p, size_t n)
{
	return crc32c_update(0, p, n);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void
seg_name(char name[NAME_LEN], uint64_t id)
{
	(void)snprintf(name, NAME_LEN, "%016" PRIx64 ".seg", id);
}

/* ^[0-9a-f]{16}\.seg$, the number in *id. */
static bool
parse_seg_name(const char *name, uint64_t *id)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	if (strcmp(name + 16, ".seg") != 0)
		return false;
	*id = v;
	return true;
}

static void
seg_header(unsigned char h[SEG_HDR], uint64_t id)
{
	memcpy(h, seg_magic, sizeof(seg_magic));
	h[7] = SEG_VERSION;
	put_le64(h + 8, id);
}

/* Read up to n bytes at off: the count (short only at the end of the
 * file), or -1 with errno. */
static ssize_t
pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done,
				  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* Write n bytes at off. 0, or -1 with errno. */
static int
pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done,
				   (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ENOSPC;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/*
 * Write a record, header and payload, at off with one pwritev(2); more
 * only if the kernel writes less (a full disk, a signal). 0, or -1 with
 * errno.
 */
static int
write_record(int fd, unsigned char *hdr, const void *data, size_t len,
	     uint64_t off)
{
	size_t total = REC_HDR + len, done = 0;
	struct iovec iov[2];

	while (done < total) {
		ssize_t r;
		int cnt;

		if (done < REC_HDR) {
			iov[0].iov_base = hdr + done;
			iov[0].iov_len = REC_HDR - done;
			/* iovec is not const; pwritev only reads. */
			iov[1].iov_base = (void *)(uintptr_t)data;
			iov[1].iov_len = len;
			cnt = 2;
		} else {
			iov[0].iov_base =
			    (void *)(uintptr_t)((const char *)data +
						(done - REC_HDR));
			iov[0].iov_len = total - done;
			cnt = 1;
		}
		r = pwritev(fd, iov, cnt, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ENOSPC;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* Persist the read position (temporary file, fsync, rename, fsync of the
 * folder). 0 or an errno. */
static int
write_position(struct vg_spool *s, uint64_t id, uint64_t off, uint64_t seq)
{
	unsigned char b[POS_LEN];
	int fd, e = 0;

	memcpy(b, pos_magic, sizeof(pos_magic));
	put_le64(b + 8, id);
	put_le64(b + 16, off);
	put_le64(b + 24, seq);
	put_le32(b + 32, vg_spool_crc32c(b, 32));
	fd =
	    openat(s->dfd, POS_TMP,
		   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno;
	if (pwrite_full(fd, b, POS_LEN, 0) != 0 || fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && renameat(s->dfd, POS_TMP, s->dfd, POS_NAME) != 0)
		e = errno;
	if (e == 0 && fsync(s->dfd) != 0)
		e = errno;
	if (e != 0)
		(void)unlinkat(s->dfd, POS_TMP, 0);
	return e;
}

/*
 * Create the segment for the next sequence number and make it the newest
 * (lock held, or at open). The one it replaces is retired: the sync
 * thread syncs, seals and closes it. VG_OK, VG_ENOMEM or VG_EIO (counted,
 * reported).
 */
static enum vg_err
roll(struct vg_spool *s)
{
	unsigned char h[SEG_HDR];
	char name[NAME_LEN];
	struct seg *g;
	int fd, e;

	g = vg_calloc(1, sizeof(*g));
	if (g == NULL) {
		report(s, LOG_ERR, "out of memory for a new segment");
		return VG_ENOMEM;
	}
	seg_name(name, s->next_seq);
	fd = openat(s->dfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		s->io_errors++;
		report(s, LOG_ERR, "cannot create %s: %s", name, strerror(e));
		free(g);
		return VG_EIO;
	}
	seg_header(h, s->next_seq);
	if (pwrite_full(fd, h, SEG_HDR, 0) != 0) {
		e = errno;
		s->io_errors++;
		report(s, LOG_ERR, "cannot write %s: %s", name, strerror(e));
		(void)close(fd);
		(void)unlinkat(s->dfd, name, 0);
		free(g);
		return VG_EIO;
	}
	g->id = g->first_seq = g->wseq = g->end_seq = s->next_seq;
	g->size = g->end = SEG_HDR;
	g->wfd = fd;
	if (s->tail != NULL)
		s->tail->next = g;
	else
		s->head = g;
	s->tail = g;
	s->nsegs++;
	s->bytes += SEG_HDR;
	s->dir_dirty = true;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* The sync thread                                                     */
/* ------------------------------------------------------------------ */

/* Wait on cv until deadline (monotonic us; INT64_MAX: no deadline). */
static void
wait_until(pthread_cond_t *cv, pthread_mutex_t *m, int64_t deadline)
{
	struct timespec ts;

	if (deadline == INT64_MAX) {
		(void)pthread_cond_wait(cv, m);
		return;
	}
	ts.tv_sec = (time_t)(deadline / 1000000);
	ts.tv_nsec = (long)(deadline % 1000000) * 1000;
	(void)pthread_cond_timedwait(cv, m, &ts);
}

/*
 * One group commit (lock held; released during the fsyncs): every segment
 * with an open write descriptor, oldest first, then the folder when a
 * segment was created. true when everything appended before the call is
 * durable.
 */
static bool
sync_pass(struct vg_spool *s)
{
	uint64_t target = s->next_seq - 1, done = 0, bad = 0;
	bool dirsync = s->dir_dirty, retired = false, ok = true, dirbad = false;
	size_t n = 0, i;
	struct seg *g;
	int e = 0;

	for (g = s->head; g != NULL; g = g->next)
		if (g->wfd >= 0)
			n++;
	if (n > s->items_cap) {
		struct sync_item *p = NULL;
		int ovf = 0;
		size_t sz = vg_mul_size(n, sizeof(*p), &ovf);

		if (!ovf)
			p = realloc(s->items, sz);
		if (p == NULL) {
			/* Try again next period. */
			s->armed = true;
			s->armed_at = vg_now_mono_us();
			report(s, LOG_ERR, "out of memory for a sync");
			return false;
		}
		s->items = p;
		s->items_cap = n;
	}
	n = 0;
	for (g = s->head; g != NULL; g = g->next) {
		if (g->wfd < 0)
			continue;
		s->items[n].seg = g;
		s->items[n].fd = g->wfd;
		s->items[n].size = g->size;
		s->items[n].wseq = g->wseq;
		n++;
		if (g != s->tail)
			retired = true;
	}
	s->armed = false;
	if (target <= s->durable_seq && !dirsync && !retired)
		return true;
	s->dir_dirty = false;
	s->busy = true;
	pthread_mutex_unlock(&s->lock);

	for (i = 0; i < n && ok; i++) {
		if (fsync(s->items[i].fd) != 0) {
			e = errno;
			bad = s->items[i].seg->id; /* immutable */
			ok = false;
		} else {
			done++;
		}
	}
	if (ok && dirsync) {
		if (fsync(s->dfd) != 0) {
			e = errno;
			dirbad = true;
			ok = false;
		} else {
			done++;
		}
	}

	pthread_mutex_lock(&s->lock);
	s->busy = false;
	s->fsyncs += done;
	if (!ok) {
		char name[NAME_LEN];

		seg_name(name, bad);
		s->failed = e != 0 ? e : EIO;
		s->io_errors++;
		s->dir_dirty = s->dir_dirty || dirsync;
		report(s, LOG_ERR,
		       "fsync of %s failed: %s: appends refused until the "
		       "agent is restarted",
		       dirbad ? "the folder" : name, strerror(s->failed));
		pthread_cond_broadcast(&s->done_cv);
		return false;
	}
	for (i = 0; i < n; i++) {
		struct sync_item *it = &s->items[i];

		g = it->seg;
		if (it->size > g->end) {
			g->end = it->size;
			g->end_seq = it->wseq;
		}
		/* Retired and synced to its last byte: sealed. */
		if (g != s->tail && it->size == g->size) {
			(void)close(g->wfd);
			g->wfd = -1;
			g->sealed = true;
		}
	}
	if (target > s->durable_seq)
		s->durable_seq = target;
	pthread_cond_broadcast(&s->done_cv);
	return true;
}

/* Persist the read position if it moved (lock held; released while
 * writing). */
static void
persist_pass(struct vg_spool *s)
{
	uint64_t id, off, seq;
	int e;

	if (!s->pos_dirty)
		return;
	id = s->rd.seg->id;
	off = s->rd.off;
	seq = s->rd.seq;
	s->pos_dirty = false;
	s->pos_at = vg_now_mono_us();
	pthread_mutex_unlock(&s->lock);
	e = write_position(s, id, off, seq);
	pthread_mutex_lock(&s->lock);
	if (e != 0) {
		s->pos_dirty = true;
		s->io_errors++;
		report(s, LOG_WARNING, "cannot persist the read position: %s",
		       strerror(e));
	}
}

/*
 * Group commit: a pass sync_ms after the first append since the last one
 * (so a record waits at most about sync_ms), at once for vg_spool_sync();
 * the read position at most every sync_ms. Idle, it sleeps until woken.
 */
static void *
sync_main(void *arg)
{
	struct vg_spool *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->closing) {
		int64_t now = vg_now_mono_us(), due = INT64_MAX;
		bool data = s->sync_req, pos = false;
		uint64_t gen = s->req_gen;
		bool ok = true;

		if (s->armed) {
			if (now - s->armed_at >= s->sync_us)
				data = true;
			else
				due = s->armed_at + s->sync_us;
		}
		if (s->pos_dirty) {
			if (now - s->pos_at >= s->sync_us)
				pos = true;
			else if (s->pos_at + s->sync_us < due)
				due = s->pos_at + s->sync_us;
		}
		if (!data && !pos) {
			wait_until(&s->sync_cv, &s->lock, due);
			continue;
		}
		s->sync_req = false;
		if (data)
			ok = sync_pass(s);
		if (pos)
			persist_pass(s);
		if (ok && gen > s->done_gen)
			s->done_gen = gen;
		pthread_cond_broadcast(&s->done_cv);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Recovery                                                            */
/* ------------------------------------------------------------------ */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The numbers of the segment files, sorted (owned array). */
static enum vg_err
list_segments(struct vg_spool *s, uint64_t **out, size_t *nout, char *err,
	      size_t errlen)
{
	uint64_t *ids = NULL, id;
	size_t n = 0, cap = 0;
	struct dirent *de;
	enum vg_err rc = VG_OK;
	DIR *d;
	int fd, e;

	fd = openat(s->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		e = errno;
		if (fd >= 0)
			(void)close(fd);
		vg_seterr(err, errlen, "cannot list spool folder %s: %s",
			  s->dir, strerror(e));
		return VG_EIO;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				e = errno;
				vg_seterr(err, errlen,
					  "cannot list spool folder %s: %s",
					  s->dir, strerror(e));
				rc = VG_EIO;
			}
			break;
		}
		if (!parse_seg_name(de->d_name, &id))
			continue;
		if (n == VG_SPOOL_SEGMENTS_MAX) {
			vg_seterr(err, errlen,
				  "spool folder %s: more than %u segment files",
				  s->dir, VG_SPOOL_SEGMENTS_MAX);
			rc = VG_ELIMIT;
			break;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			uint64_t *p = realloc(ids, ncap * sizeof(*ids));

			if (p == NULL) {
				vg_seterr(err, errlen, "out of memory");
				rc = VG_ENOMEM;
				break;
			}
			ids = p;
			cap = ncap;
		}
		ids[n++] = id;
	}
	(void)closedir(d);
	if (rc != VG_OK) {
		free(ids);
		return rc;
	}
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	*out = ids;
	*nout = n;
	return VG_OK;
}

/*
 * Check that segment file id is one of ours. VG_OK with its size, or with
 * *unfinished set (shorter than a header and a prefix of the right one,
 * or a header of zeros: a crash as it was being created); VG_EMALFORMED
 * (not a segment) or VG_EIO, err saying why.
 */
static enum vg_err
check_segment(struct vg_spool *s, uint64_t id, uint64_t *size, bool *unfinished,
	      char *err, size_t errlen)
{
	static const unsigned char zero[SEG_HDR];
	unsigned char h[SEG_HDR], want[SEG_HDR];
	char name[NAME_LEN];
	struct stat sb;
	ssize_t r;
	int fd, e;

	seg_name(name, id);
	*unfinished = false;
	if (fstatat(s->dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot stat %s/%s: %s", s->dir, name,
			  strerror(e));
		return VG_EIO;
	}
	if (!S_ISREG(sb.st_mode)) {
		vg_seterr(err, errlen,
			  "%s/%s: not a regular file, so not a spool segment: "
			  "move it away",
			  s->dir, name);
		return VG_EMALFORMED;
	}
	fd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot open %s/%s: %s", s->dir, name,
			  strerror(e));
		return VG_EIO;
	}
	r = pread_full(fd, h, SEG_HDR, 0);
	e = errno;
	(void)close(fd);
	if (r < 0) {
		vg_seterr(err, errlen, "cannot read %s/%s: %s", s->dir, name,
			  strerror(e));
		return VG_EIO;
	}
	*size = (uint64_t)sb.st_size;
	seg_header(want, id);
	if ((size_t)r < SEG_HDR) {
		if (memcmp(h, want, (size_t)r) == 0 ||
		    memcmp(h, zero, (size_t)r) == 0) {
			*unfinished = true;
			return VG_OK;
		}
		vg_seterr(err, errlen,
			  "%s/%s: not a spool segment (%zd bytes, no header): "
			  "move it away",
			  s->dir, name, r);
		return VG_EMALFORMED;
	}
	if (memcmp(h, zero, SEG_HDR) == 0) {
		*unfinished = true;
		return VG_OK;
	}
	if (memcmp(h, seg_magic, sizeof(seg_magic)) != 0) {
		vg_seterr(
		    err, errlen,
		    "%s/%s: not a spool segment (no VGSPOOL magic): move it "
		    "away",
		    s->dir, name);
		return VG_EMALFORMED;
	}
	if (h[7] != SEG_VERSION) {
		vg_seterr(
		    err, errlen,
		    "%s/%s: spool format version 0x%02x, this agent reads "
		    "'%c': move it away",
		    s->dir, name, h[7], SEG_VERSION);
		return VG_EMALFORMED;
	}
	if (get_le64(h + 8) != id || id == 0 || id > SEQ_MAX) {
		vg_seterr(err, errlen,
			  "%s/%s: its first sequence number (%" PRIu64
			  ") is not its name: move it away",
			  s->dir, name, get_le64(h + 8));
		return VG_EMALFORMED;
	}
	return VG_OK;
}

enum pos_state { POS_NONE, POS_BAD, POS_OK };

/* The position file: missing, unusable (why says so) or read. */
static enum pos_state
read_position(struct vg_spool *s, uint64_t *id, uint64_t *off, uint64_t *seq,
	      char *why, size_t whylen)
{
	unsigned char b[POS_LEN + 1];
	ssize_t r;
	int fd, e;

	fd = openat(s->dfd, POS_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return POS_NONE;
		(void)snprintf(why, whylen, "cannot open it: %s",
			       strerror(errno));
		return POS_BAD;
	}
	r = pread_full(fd, b, sizeof(b), 0);
	e = errno;
	(void)close(fd);
	if (r < 0) {
		(void)snprintf(why, whylen, "cannot read it: %s", strerror(e));
		return POS_BAD;
	}
	if ((size_t)r > POS_LEN) {
		(void)snprintf(why, whylen, "longer than %u bytes", POS_LEN);
		return POS_BAD;
	}
	if ((size_t)r < POS_LEN) {
		(void)snprintf(why, whylen, "%zd bytes, not %u", r, POS_LEN);
		return POS_BAD;
	}
	if (memcmp(b, pos_magic, sizeof(pos_magic)) != 0) {
		(void)snprintf(why, whylen, "not a position file");
		return POS_BAD;
	}
	if (get_le32(b + 32) != vg_spool_crc32c(b, 32)) {
		(void)snprintf(why, whylen, "CRC mismatch");
		return POS_BAD;
	}
	*id = get_le64(b + 8);
	*off = get_le64(b + 16);
	*seq = get_le64(b + 24);
	if (*seq == 0 || *seq > SEQ_MAX) {
		(void)snprintf(why, whylen, "sequence number %" PRIu64, *seq);
		return POS_BAD;
	}
	return POS_OK;
}

/*
 * n bytes (at most s->cap) of s->rfd at off, through s->buf, which holds
 * [*boff, *boff + *blen). NULL with errno when they cannot be read (EIO
 * when the file is shorter than size said).
 */
static const unsigned char *
scan_get(struct vg_spool *s, uint64_t off, size_t n, uint64_t size,
	 uint64_t *boff, size_t *blen)
{
	size_t want;
	ssize_t r;

	if (off >= *boff && off - *boff <= *blen && *blen - (off - *boff) >= n)
		return s->buf + (off - *boff);
	want = size - off < s->cap ? (size_t)(size - off) : s->cap;
	*blen = 0;
	r = pread_full(s->rfd, s->buf, want, off);
	if (r < 0)
		return NULL;
	if ((size_t)r < n) {
		errno = EIO;
		return NULL;
	}
	*boff = off;
	*blen = (size_t)r;
	return s->buf;
}

/*
 * Remember a corrupt record open counted, so that the reader, meeting it,
 * does not count it again. Past KNOWN_MAX (a file of garbage) the rest
 * may be counted twice: the counter is for people, nothing depends on it.
 */
static void
remember(struct vg_spool *s, uint64_t id, uint64_t off)
{
	if (s->nknown == s->known_cap) {
		size_t cap = s->known_cap == 0 ? 16 : s->known_cap * 2;
		struct spot *p;

		if (cap > KNOWN_MAX)
			return;
		p = realloc(s->known, cap * sizeof(*p));
		if (p == NULL)
			return;
		s->known = p;
		s->known_cap = cap;
	}
	s->known[s->nknown].id = id;
	s->known[s->nknown].off = off;
	s->nknown++;
}

/*
 * Check g's records (file open as s->rfd) from off, sequence number seq,
 * to the end of the file: CRC mismatches are counted corrupt, the first
 * record that cannot be parsed makes the rest torn. Sets g->end (after the
 * last record parsed) and g->end_seq.
 */
static enum vg_err
scan(struct vg_spool *s, struct seg *g, uint64_t off, uint64_t seq, char *err,
     size_t errlen)
{
	uint64_t size = g->size, boff = 0;
	const char *why = NULL;
	char name[NAME_LEN];
	size_t blen = 0;

	seg_name(name, g->id);
	while (off < size) {
		const unsigned char *p;
		uint32_t len, crc, c = 0;
		size_t done, k;

		if (size - off < REC_HDR) {
			why = "a record header cut short";
			break;
		}
		p = scan_get(s, off, REC_HDR, size, &boff, &blen);
		if (p == NULL)
			goto ioerr;
		len = get_le32(p);
		crc = get_le32(p + 4);
		if (len == 0 || len > VG_SPOOL_RECORD_MAX) {
			why = "an impossible record length";
			break;
		}
		if (len > size - off - REC_HDR) {
			why = "a record cut short";
			break;
		}
		for (done = 0; done < len; done += k) {
			k = len - done < s->cap ? len - done : s->cap;
			p = scan_get(s, off + REC_HDR + done, k, size, &boff,
				     &blen);
			if (p == NULL)
				goto ioerr;
			c = crc32c_update(c, p, k);
		}
		if (c != crc) {
			s->corrupt++;
			report(s, LOG_WARNING,
			       "%s: record %" PRIu64 " at offset %" PRIu64
			       ": CRC mismatch: skipped",
			       name, seq, off);
			remember(s, g->id, off);
		}
		off += REC_HDR + len;
		seq++;
	}
	if (why != NULL) {
		s->torn++;
		report(s, LOG_WARNING,
		       "%s: %s at offset %" PRIu64 ": the %" PRIu64
		       " bytes from there are skipped%s",
		       name, why, off, size - off,
		       g->next == NULL ? " (cut off)" : "");
	}
	g->end = off;
	g->end_seq = seq;
	return VG_OK;
ioerr:
	vg_seterr(err, errlen, "cannot read %s/%s: %s", s->dir, name,
		  strerror(errno));
	return VG_EIO;
}

/* Unlink segment g and free it (at open: no other thread yet). */
static void
drop_first(struct vg_spool *s)
{
	struct seg *g = s->head;
	char name[NAME_LEN];

	seg_name(name, g->id);
	if (unlinkat(s->dfd, name, 0) != 0 && errno != ENOENT) {
		s->io_errors++;
		report(s, LOG_WARNING, "cannot delete acknowledged %s: %s",
		       name, strerror(errno));
	}
	s->head = g->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->nsegs--;
	s->bytes -= g->size;
	free(g);
}

/* See spool.h, "Recovery". */
static enum vg_err
recover(struct vg_spool *s, char *err, size_t errlen)
{
	uint64_t *ids = NULL, *gone = NULL, pid = 0, poff = 0, pseq = 0;
	uint64_t roff = SEG_HDR, rseq = 0, next = 1, running = 0;
	struct seg *g, *rseg = NULL;
	size_t n = 0, ngone = 0, i;
	enum pos_state ps;
	enum vg_err rc;
	char why[160];
	bool at_end = false;

	(void)unlinkat(s->dfd, POS_TMP, 0); /* a crash while persisting */
	rc = list_segments(s, &ids, &n, err, errlen);
	if (rc != VG_OK)
		return rc;
	gone = vg_calloc(n + 1, sizeof(*gone));
	if (gone == NULL) {
		vg_seterr(err, errlen, "out of memory");
		rc = VG_ENOMEM;
		goto out;
	}

	/* Every file first: a foreign one is refused before any change. */
	for (i = 0; i < n; i++) {
		uint64_t size = 0;
		bool unfinished;

		rc = check_segment(s, ids[i], &size, &unfinished, err, errlen);
		if (rc != VG_OK)
			goto out;
		if (unfinished) {
			gone[ngone++] = ids[i];
			continue;
		}
		g = vg_calloc(1, sizeof(*g));
		if (g == NULL) {
			vg_seterr(err, errlen, "out of memory");
			rc = VG_ENOMEM;
			goto out;
		}
		g->id = g->first_seq = ids[i];
		g->size = size;
		g->wfd = -1;
		if (s->tail != NULL)
			s->tail->next = g;
		else
			s->head = g;
		s->tail = g;
		s->nsegs++;
		s->bytes += size;
	}
	/*
	 * Unfinished segments never held a durable record, nor did any
	 * newer one (a sync pass covers every unsynced segment), so there is
	 * nothing to lose; what newer ones hold is still read.
	 */
	for (i = 0; i < ngone; i++) {
		char name[NAME_LEN];

		/* Its name was the next sequence number: never reuse it. */
		next = max_u64(next, gone[i]);
		seg_name(name, gone[i]);
		s->torn++;
		report(s, LOG_WARNING,
		       "%s: unfinished segment (a crash as it was created): "
		       "removed",
		       name);
		if (unlinkat(s->dfd, name, 0) != 0) {
			int e = errno;

			vg_seterr(err, errlen, "cannot remove %s/%s: %s",
				  s->dir, name, strerror(e));
			rc = VG_EIO;
			goto out;
		}
	}

	ps = read_position(s, &pid, &poff, &pseq, why, sizeof(why));
	if (ps == POS_OK) {
		next = max_u64(next, pseq);
		for (g = s->head; g != NULL && g->id < pid; g = g->next)
			;
		if (g != NULL && g->id == pid) {
			if (poff < SEG_HDR || poff > g->size ||
			    pseq < g->first_seq ||
			    pseq - g->first_seq >
				(poff - SEG_HDR) / (REC_HDR + 1)) {
				(void)snprintf(why, sizeof(why),
					       "segment %016" PRIx64
					       " offset %" PRIu64
					       " sequence %" PRIu64
					       " does not match the segments",
					       pid, poff, pseq);
				ps = POS_BAD;
			} else {
				rseg = g;
				roff = poff;
				rseq = pseq;
			}
		} else {
			/* Its segment is gone: it was fully acknowledged. */
			rseg = g;
			at_end = g == NULL;
			if (g != NULL)
				rseq = g->first_seq;
			s->pos_dirty = true;
		}
	}
	if (ps == POS_BAD) {
		s->corrupt++;
		report(s, LOG_WARNING,
		       "%s: %s: reading from the oldest segment (records may "
		       "be sent again)",
		       POS_NAME, why);
		s->pos_dirty = true;
	}
	if (ps != POS_OK) {
		rseg = s->head;
		if (rseg != NULL)
			rseq = rseg->first_seq;
	}
	/* Before the read position: acknowledged, deleted now. */
	while (s->head != NULL && (at_end || s->head != rseg))
		drop_first(s);

	for (g = rseg; g != NULL; g = g->next) {
		char name[NAME_LEN];
		bool last = g->next == NULL;
		uint64_t from = g == rseg ? roff : SEG_HDR;

		if (g != rseg)
			g->first_seq = max_u64(g->first_seq, running);
		seg_name(name, g->id);
		s->rfd =
		    openat(s->dfd, name,
			   (last ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
		if (s->rfd < 0) {
			int e = errno;

			vg_seterr(err, errlen, "cannot open %s/%s: %s", s->dir,
				  name, strerror(e));
			rc = VG_EIO;
			goto out;
		}
		rc = scan(s, g, from, g == rseg ? rseq : g->first_seq, err,
			  errlen);
		if (rc != VG_OK)
			goto out;
		if (last && g->end < g->size) {
			if (ftruncate(s->rfd, (off_t)g->end) != 0) {
				int e = errno;

				vg_seterr(err, errlen,
					  "cannot truncate %s/%s: %s", s->dir,
					  name, strerror(e));
				rc = VG_EIO;
				goto out;
			}
			s->bytes -= g->size - g->end;
			g->size = g->end;
		}
		/* What a crash left in the page cache becomes durable. */
		if (fsync(s->rfd) != 0) {
			int e = errno;

			vg_seterr(err, errlen, "cannot sync %s/%s: %s", s->dir,
				  name, strerror(e));
			rc = VG_EIO;
			goto out;
		}
		s->fsyncs++;
		running = g->end_seq;
		if (last) {
			g->wfd = s->rfd;
			g->wseq = g->end_seq;
		} else {
			(void)close(s->rfd);
			g->sealed = true;
		}
		s->rfd = -1;
	}

	next = max_u64(max_u64(next, running), 1);
	if (s->tail == NULL || s->tail->end_seq != next) {
		/* Nothing left, or the position is past what is there. */
		if (s->tail != NULL) {
			(void)close(s->tail->wfd);
			s->tail->wfd = -1;
			s->tail->sealed = true;
		}
		s->next_seq = next;
		if (roll(s) != VG_OK) {
			vg_seterr(err, errlen, "spool %s: %s", s->dir,
				  s->lasterr);
			rc = VG_EIO;
			goto out;
		}
		if (fsync(s->tail->wfd) != 0) {
			int e = errno;

			vg_seterr(err, errlen,
				  "cannot sync a new segment in %s: %s", s->dir,
				  strerror(e));
			rc = VG_EIO;
			goto out;
		}
		if (rseg == NULL) {
			rseg = s->tail;
			rseq = next;
			roff = SEG_HDR;
		}
	}
	if (fsync(s->dfd) != 0) {
		int e = errno;

		vg_seterr(err, errlen, "cannot sync spool folder %s: %s",
			  s->dir, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	s->dir_dirty = false;
	s->next_seq = next;
	s->durable_seq = next - 1;
	s->rd.seg = rseg;
	s->rd.off = roff;
	s->rd.seq = rseq;
	if (s->torn > 0 || s->corrupt > 0 || next > rseq)
		vg_log(LOG_INFO,
		       "spool %s: %" PRIu64 " records to send, %" PRIu64
		       " torn, %" PRIu64 " corrupt",
		       s->dir, next - rseq, s->torn, s->corrupt);
	rc = VG_OK;
out:
	free(ids);
	free(gone);
	return rc;
}

/* Close and free everything (the threads are stopped). */
static void
spool_free(struct vg_spool *s)
{
	struct seg *g, *next;

	if (s->rfd >= 0)
		(void)close(s->rfd);
	for (g = s->head; g != NULL; g = next) {
		next = g->next;
		if (g->wfd >= 0)
			(void)close(g->wfd);
		free(g);
	}
	if (s->dfd >= 0)
		(void)close(s->dfd); /* releases the flock */
	if (s->locks_made) {
		(void)pthread_cond_destroy(&s->sync_cv);
		(void)pthread_cond_destroy(&s->done_cv);
		(void)pthread_mutex_destroy(&s->lock);
	}
	free(s->items);
	free(s->known);
	free(s->buf);
	free(s->dir);
	free(s);
}

enum vg_err
vg_spool_open(struct vg_spool **out, const struct vg_spool_opts *o, char *err,
	      size_t errlen)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct vg_spool *s;
	struct esc e1;
	enum vg_err rc;
	int e;

	vg_seterr(err, errlen, "%s", "");
	if (out == NULL || o == NULL || o->dir == NULL || o->dir[0] == '\0') {
		vg_seterr(err, errlen, "spool: no folder given");
		if (out != NULL)
			*out = NULL;
		return VG_EINVAL;
	}
	*out = NULL;
	s = vg_calloc(1, sizeof(*s));
	if (s == NULL) {
		vg_seterr(err, errlen, "out of memory");
		return VG_ENOMEM;
	}
	s->dfd = s->rfd = -1;
	s->max_bytes = o->max_bytes ? o->max_bytes : VG_SPOOL_MAX_BYTES_DEFAULT;
	s->seg_bytes =
	    o->segment_bytes ? o->segment_bytes : VG_SPOOL_SEGMENT_DEFAULT;
	s->sync_us =
	    (int64_t)(o->sync_ms ? o->sync_ms : VG_SPOOL_SYNC_MS_DEFAULT) *
	    1000;
	s->dir = strdup(esc(&e1, o->dir));
	s->cap = BUF_SIZE;
	s->buf = malloc(s->cap);
	if (s->dir == NULL || s->buf == NULL) {
		vg_seterr(err, errlen, "out of memory");
		rc = VG_ENOMEM;
		goto out;
	}
	if (s->max_bytes < VG_SPOOL_BYTES_MIN ||
	    s->seg_bytes < VG_SPOOL_BYTES_MIN) {
		vg_seterr(
		    err, errlen,
		    "spool %s: max_bytes and segment_bytes must be at least "
		    "%llu",
		    s->dir, VG_SPOOL_BYTES_MIN);
		rc = VG_EINVAL;
		goto out;
	}
	if (mkdir(o->dir, 0700) != 0 && errno != EEXIST) {
		e = errno;
		vg_seterr(err, errlen, "cannot create spool folder %s: %s",
			  s->dir, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	s->dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd < 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot open spool folder %s: %s",
			  s->dir, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	/* Two spools on one folder would hand out and delete each other's
	 * records. */
	if (flock(s->dfd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		if (e == EWOULDBLOCK)
			vg_seterr(
			    err, errlen,
			    "spool folder %s is in use by another process",
			    s->dir);
		else
			vg_seterr(err, errlen,
				  "cannot lock spool folder %s: %s", s->dir,
				  strerror(e));
		rc = VG_EIO;
		goto out;
	}
	rc = recover(s, err, errlen);
	if (rc != VG_OK)
		goto out;
	s->pos_at = vg_now_mono_us();

	(void)pthread_mutex_init(&s->lock, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&s->sync_cv, &ca);
	(void)pthread_cond_init(&s->done_cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	s->locks_made = true;
	/* Signals are the main thread's business. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->thread, NULL, sync_main, s);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		vg_seterr(err, errlen, "spool %s: cannot start a thread: %s",
			  s->dir, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	s->thread_made = true;
	*out = s;
	return VG_OK;
out:
	spool_free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Producers                                                           */
/* ------------------------------------------------------------------ */

enum vg_err
vg_spool_append(struct vg_spool *s, const void *data, size_t len, uint64_t *seq)
{
	unsigned char hdr[REC_HDR];
	uint64_t my = 0, drops = 0, bytes = 0, need;
	bool roll_now, log_full = false, was_full = false;
	enum vg_err rc = VG_OK;
	struct seg *g;

	if (s == NULL || data == NULL || len == 0 || len > VG_SPOOL_RECORD_MAX)
		return VG_EINVAL;
	put_le32(hdr, (uint32_t)len);
	put_le32(hdr + 4, vg_spool_crc32c(data, len));

	pthread_mutex_lock(&s->lock);
	if (s->failed) {
		rc = VG_EIO;
		goto out;
	}
	g = s->tail;
	roll_now = g->size > SEG_HDR && g->size + REC_HDR + len > s->seg_bytes;
	need = REC_HDR + len + (roll_now ? SEG_HDR : 0);
	if (s->bytes + need > s->max_bytes - SEG_HDR) {
		int64_t now = vg_now_mono_us();

		s->full_drops++;
		s->full = 1;
		(void)snprintf(s->lasterr, sizeof(s->lasterr),
			       "full: %" PRIu64 " of %" PRIu64
			       " bytes, %" PRIu64 " records refused",
			       s->bytes, s->max_bytes, s->full_drops);
		if (s->full_logged == 0 ||
		    now - s->full_logged >= FULL_LOG_US) {
			s->full_logged = now;
			log_full = true;
			drops = s->full_drops;
			bytes = s->bytes;
		}
		rc = VG_ELIMIT;
		goto out;
	}
	if (roll_now) {
		rc = roll(s);
		if (rc != VG_OK)
			goto out;
		g = s->tail;
	}
	if (write_record(g->wfd, hdr, data, len, g->size) != 0) {
		int e = errno;
		char name[NAME_LEN];

		/* Cut back what was written of it (it would read as torn). */
		seg_name(name, g->id);
		s->io_errors++;
		if (ftruncate(g->wfd, (off_t)g->size) != 0)
			report(s, LOG_ERR,
			       "cannot write to %s: %s (and cannot "
			       "cut it back)",
			       name, strerror(e));
		else
			report(s, LOG_ERR, "cannot write to %s: %s", name,
			       strerror(e));
		rc = VG_EIO;
		goto out;
	}
	g->size += REC_HDR + len;
	s->bytes += REC_HDR + len;
	my = s->next_seq++;
	g->wseq = s->next_seq;
	s->appended++;
	if (s->full) {
		was_full = true;
		drops = s->full_drops;
		s->full = 0;
	}
	if (!s->armed) {
		s->armed = true;
		s->armed_at = vg_now_mono_us();
		pthread_cond_signal(&s->sync_cv);
	}
out:
	pthread_mutex_unlock(&s->lock);
	if (log_full)
		vg_log(LOG_ERR,
		       "spool %s: full (%" PRIu64 " of %" PRIu64
		       " bytes): %" PRIu64
		       " durable events refused since it was opened; the "
		       "publisher is not keeping up or cannot reach Redis",
		       s->dir, bytes, s->max_bytes, drops);
	if (was_full)
		vg_log(LOG_NOTICE,
		       "spool %s: accepting events again (%" PRIu64
		       " refused since it was opened)",
		       s->dir, drops);
	if (rc == VG_OK && seq != NULL)
		*seq = my;
	return rc;
}

enum vg_err
vg_spool_sync(struct vg_spool *s)
{
	enum vg_err rc = VG_OK;
	uint64_t my;

	if (s == NULL)
		return VG_EINVAL;
	pthread_mutex_lock(&s->lock);
	if (!s->failed && (s->next_seq - 1 > s->durable_seq || s->dir_dirty)) {
		my = ++s->req_gen;
		s->sync_req = true;
		pthread_cond_signal(&s->sync_cv);
		while (s->done_gen < my && !s->failed && !s->closing)
			pthread_cond_wait(&s->done_cv, &s->lock);
		if (s->done_gen < my)
			rc = VG_EIO;
	}
	if (s->failed)
		rc = VG_EIO;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The reader                                                          */
/* ------------------------------------------------------------------ */

/* Move c past segments it is at the end of, once sealed (lock held). */
static void
normalize(struct cursor *c)
{
	while (c->off >= c->seg->end && c->seg->sealed &&
	       c->seg->next != NULL) {
		c->seg = c->seg->next;
		c->off = SEG_HDR;
		c->seq = max_u64(c->seq, c->seg->first_seq);
	}
}

/* Make c the read position (lock held). */
static void
set_read(struct vg_spool *s, const struct cursor *c)
{
	if (c->seg == s->rd.seg && c->off == s->rd.off && c->seq == s->rd.seq)
		return;
	s->rd = *c;
	if (!s->pos_dirty) {
		s->pos_dirty = true;
		pthread_cond_signal(&s->sync_cv);
	}
}

static bool
spot_before(uint64_t id, uint64_t off, uint64_t id2, uint64_t off2)
{
	return id < id2 || (id == id2 && off < off2);
}

/*
 * Bad data at (g, off) not counted before (lock held)? Neither by open
 * (s->known) nor by an earlier peek: marks it counted up to (g, upto).
 * The reader only moves forward, and so do both marks.
 */
static bool
first_sight(struct vg_spool *s, const struct seg *g, uint64_t off,
	    uint64_t upto)
{
	const struct spot *k;

	if (spot_before(g->id, off, s->mark_id, s->mark_off))
		return false;
	s->mark_id = g->id;
	s->mark_off = upto;
	while (s->known_next < s->nknown &&
	       spot_before(s->known[s->known_next].id,
			   s->known[s->known_next].off, g->id, off))
		s->known_next++;
	k = s->known_next < s->nknown ? &s->known[s->known_next] : NULL;
	if (k != NULL && k->id == g->id && k->off == off) {
		s->known_next++;
		return false;
	}
	return true;
}

/* Count and report a failed read of g (takes the lock). */
static void
read_failed(struct vg_spool *s, const struct seg *g, int e, const char *what)
{
	char name[NAME_LEN];

	seg_name(name, g->id);
	pthread_mutex_lock(&s->lock);
	s->io_errors++;
	report(s, LOG_ERR, "cannot %s %s: %s", what, name, strerror(e));
	pthread_mutex_unlock(&s->lock);
}

/* The reader's descriptor for g, or -1 with errno. */
static int
reader_fd(struct vg_spool *s, struct seg *g)
{
	char name[NAME_LEN];

	if (s->rseg == g && s->rfd >= 0)
		return s->rfd;
	if (s->rfd >= 0)
		(void)close(s->rfd);
	s->rseg = NULL;
	seg_name(name, g->id);
	s->rfd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->rfd >= 0)
		s->rseg = g;
	return s->rfd;
}

/*
 * Make the buffer hold g's bytes from off: as many as fit up to lim (the
 * durable end), at least need (a whole record) when there are that many.
 * Keeps what it holds already. The buffer is BUF_SIZE, or one record when
 * that is larger (and back to BUF_SIZE after). VG_OK, VG_ENOMEM, VG_EIO,
 * VG_ETRUNC (the file ends before need bytes: someone cut it).
 */
static enum vg_err
fill(struct vg_spool *s, struct seg *g, uint64_t off, uint64_t lim, size_t need)
{
	size_t cap = need > BUF_SIZE ? need : BUF_SIZE, want, keep = 0;
	ssize_t r;
	int fd;

	want = lim - off < cap ? (size_t)(lim - off) : cap;
	if (s->bseg == g && off >= s->boff && off - s->boff < s->blen) {
		keep = s->blen - (size_t)(off - s->boff);
		if (keep > want)
			keep = want;
		memmove(s->buf, s->buf + (off - s->boff), keep);
	}
	s->bseg = NULL;
	s->blen = 0;
	if (cap != s->cap) {
		unsigned char *p = realloc(s->buf, cap);

		if (p != NULL) {
			s->buf = p;
			s->cap = cap;
		} else if (cap > s->cap) {
			return VG_ENOMEM;
		} /* else a failed shrink: keep the larger one */
	}
	if (keep < want) {
		fd = reader_fd(s, g);
		if (fd < 0) {
			read_failed(s, g, errno, "open");
			return VG_EIO;
		}
		r = pread_full(fd, s->buf + keep, want - keep, off + keep);
		if (r < 0) {
			read_failed(s, g, errno, "read");
			return VG_EIO;
		}
		if ((size_t)r < want - keep) {
			/* The file ends early: what is there is still read. */
			size_t min = need < want ? need : want;

			want = keep + (size_t)r;
			if (want < min) {
				s->bseg = g;
				s->boff = off;
				s->blen = want;
				return VG_ETRUNC;
			}
		}
	}
	s->bseg = g;
	s->boff = off;
	s->blen = want;
	return VG_OK;
}

/*
 * Skip the rest of g's durable data from c (nothing there parses, or the
 * file ends early: why): count it torn once, move the read position to
 * g's end (lock held).
 */
static void
skip_torn(struct vg_spool *s, struct cursor *c, uint64_t lim, uint64_t lim_seq,
	  const char *why)
{
	char name[NAME_LEN];

	if (first_sight(s, c->seg, c->off, UINT64_MAX)) {
		seg_name(name, c->seg->id);
		s->torn++;
		report(s, LOG_ERR,
		       "%s: %s at offset %" PRIu64 ": %" PRIu64
		       " durable bytes skipped",
		       name, why, c->off, lim - c->off);
	}
	c->off = lim;
	c->seq = max_u64(c->seq, lim_seq);
	set_read(s, c);
}

enum vg_err
vg_spool_peek(struct vg_spool *s, struct vg_spool_rec *recs, size_t max,
	      size_t *n)
{
	if (n != NULL)
		*n = 0;
	if (s == NULL || n == NULL || (recs == NULL && max > 0))
		return VG_EINVAL;
	if (max > VG_SPOOL_PEEK_MAX)
		max = VG_SPOOL_PEEK_MAX;

	for (;;) { /* again after skipping a torn stretch at the position */
		uint64_t lim, lim_seq, base, seq;
		struct cursor c;
		struct seg *g;
		const char *why = WHY_LENGTH;
		size_t got = 0, p = 0;
		bool torn = false;
		enum vg_err rc;

		pthread_mutex_lock(&s->lock);
		c = s->rd;
		normalize(&c);
		set_read(s, &c);
		g = c.seg;
		lim = g->end;
		lim_seq = g->end_seq;
		pthread_mutex_unlock(&s->lock);
		if (max == 0 || c.off >= lim)
			return VG_OK;

		base = c.off;
		seq = c.seq;
		rc = fill(s, g, base, lim, REC_HDR);
		if (rc == VG_ETRUNC) {
			why = WHY_SHORT;
			torn = true;
		} else if (rc != VG_OK) {
			return rc;
		}
		/*
		 * buf[p] is file offset base + p. Until a record is taken
		 * the buffer may be refilled from the record at hand; after,
		 * the batch ends where the buffer does.
		 */
		while (!torn && got < max && base + p < lim) {
			uint64_t at = base + p;
			const unsigned char *h;
			uint32_t len;

			if (lim - at < REC_HDR) {
				torn = true;
				break;
			}
			if (s->blen - p < REC_HDR) {
				if (got > 0)
					break;
				rc = fill(s, g, at, lim, REC_HDR);
				if (rc == VG_ETRUNC) {
					why = WHY_SHORT;
					torn = true;
					break;
				}
				if (rc != VG_OK)
					return rc;
				base = at;
				p = 0;
				continue;
			}
			h = s->buf + p;
			len = get_le32(h);
			if (len == 0 || len > VG_SPOOL_RECORD_MAX ||
			    len > lim - at - REC_HDR) {
				torn = true;
				break;
			}
			if (s->blen - p < REC_HDR + len) {
				if (got > 0)
					break;
				rc = fill(s, g, at, lim, REC_HDR + len);
				if (rc == VG_ETRUNC) {
					why = WHY_SHORT;
					torn = true;
					break;
				}
				if (rc != VG_OK)
					return rc;
				base = at;
				p = 0;
				continue;
			}
			if (vg_spool_crc32c(h + REC_HDR, len) !=
			    get_le32(h + 4)) {
				char name[NAME_LEN];

				pthread_mutex_lock(&s->lock);
				if (first_sight(s, g, at, at + REC_HDR + len)) {
					seg_name(name, g->id);
					s->corrupt++;
					report(s, LOG_ERR,
					       "%s: record %" PRIu64
					       " at offset %" PRIu64
					       ": CRC mismatch: skipped",
					       name, seq, at);
				}
				pthread_mutex_unlock(&s->lock);
			} else {
				recs[got].seq = seq;
				recs[got].data = (const char *)h + REC_HDR;
				recs[got].len = len;
				got++;
			}
			p += REC_HDR + len;
			seq++;
			if (got == 0) { /* corrupt ones at the position */
				c.off = base + p;
				c.seq = seq;
			}
		}
		if (torn && got == 0) {
			c.off = base + p;
			c.seq = seq;
			pthread_mutex_lock(&s->lock);
			skip_torn(s, &c, lim, lim_seq, why);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		set_read(s, &c);
		if (got > 0)
			s->peek_last = recs[got - 1].seq;
		pthread_mutex_unlock(&s->lock);
		*n = got;
		return VG_OK;
	}
}

enum vg_err
vg_spool_wait(struct vg_spool *s, unsigned timeout_ms)
{
	int64_t deadline;
	enum vg_err rc;

	if (s == NULL)
		return VG_EINVAL;
	deadline = vg_now_mono_us() + (int64_t)timeout_ms * 1000;
	pthread_mutex_lock(&s->lock);
	s->waiters++;
	for (;;) {
		if (s->durable_seq >= s->rd.seq) {
			rc = VG_OK;
			break;
		}
		if (s->shut || vg_now_mono_us() >= deadline) {
			rc = VG_EAGAIN;
			break;
		}
		wait_until(&s->done_cv, &s->lock, deadline);
	}
	s->waiters--;
	if (s->closing)
		pthread_cond_broadcast(&s->done_cv);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/*
 * The 8-byte header at off of g: from the buffer, else read into hb. NULL
 * when it cannot be read (counted), or with *cut set when the file ends
 * before it.
 */
static const unsigned char *
header_at(struct vg_spool *s, struct seg *g, uint64_t off,
	  unsigned char hb[REC_HDR], bool *cut)
{
	ssize_t r;
	int fd;

	*cut = false;
	if (s->bseg == g && off >= s->boff && off - s->boff <= s->blen &&
	    s->blen - (size_t)(off - s->boff) >= REC_HDR)
		return s->buf + (off - s->boff);
	fd = reader_fd(s, g);
	if (fd < 0) {
		read_failed(s, g, errno, "open");
		return NULL;
	}
	r = pread_full(fd, hb, REC_HDR, off);
	if (r < 0) {
		read_failed(s, g, errno, "read");
		return NULL;
	}
	*cut = r != (ssize_t)REC_HDR;
	return *cut ? NULL : hb;
}

/*
 * Delete the segments before the read position (lock held; the reader's
 * call). A write descriptor still open (a reclaimed segment) may be in the
 * sync thread's hands: wait until it is out of its fsyncs.
 */
static void
reap(struct vg_spool *s)
{
	char name[NAME_LEN];
	struct seg *g;

	while (s->head != s->rd.seg) {
		g = s->head;
		while (g->wfd >= 0 && s->busy)
			pthread_cond_wait(&s->done_cv, &s->lock);
		if (g->wfd >= 0) {
			(void)close(g->wfd);
			g->wfd = -1;
		}
		seg_name(name, g->id);
		if (unlinkat(s->dfd, name, 0) != 0 && errno != ENOENT) {
			s->io_errors++;
			report(s, LOG_WARNING,
			       "cannot delete acknowledged %s: %s", name,
			       strerror(errno));
		}
		s->head = g->next;
		s->nsegs--;
		s->bytes -= g->size;
		if (s->rseg == g) {
			(void)close(s->rfd);
			s->rfd = -1;
			s->rseg = NULL;
		}
		if (s->bseg == g) {
			s->bseg = NULL;
			s->blen = 0;
		}
		free(g);
	}
}

/*
 * The newest segment is fully acknowledged (and durable) and the spool is
 * at least half full: roll over so that it can be deleted (lock held).
 * Without this, a newest segment holding everything would never give its
 * space back, and a full spool would stay full.
 */
static void
reclaim(struct vg_spool *s)
{
	struct seg *g = s->tail;
	struct cursor c;

	if (s->rd.seg != g || s->rd.off < g->size || g->end != g->size ||
	    g->size <= SEG_HDR || s->bytes < s->max_bytes / 2 || s->failed)
		return;
	if (roll(s) != VG_OK)
		return;
	g->sealed = true; /* end == size: nothing more to sync */
	c.seg = s->tail;
	c.off = SEG_HDR;
	c.seq = s->next_seq;
	set_read(s, &c);
	reap(s);
}

enum vg_err
vg_spool_ack(struct vg_spool *s, uint64_t upto_seq)
{
	uint64_t limit, start;
	enum vg_err rc = VG_OK;
	struct cursor c;

	if (s == NULL)
		return VG_EINVAL;
	pthread_mutex_lock(&s->lock);
	c = s->rd;
	limit = max_u64(s->durable_seq, s->peek_last);
	pthread_mutex_unlock(&s->lock);
	if (upto_seq < c.seq)
		return VG_OK;
	if (upto_seq > limit)
		return VG_EINVAL;
	start = c.seq;

	/* Walk the record headers; the last peek's are in the buffer. */
	for (;;) {
		unsigned char hb[REC_HDR];
		uint64_t lim, lim_seq;
		struct seg *g;

		pthread_mutex_lock(&s->lock);
		normalize(&c);
		g = c.seg;
		lim = g->end;
		lim_seq = g->end_seq;
		pthread_mutex_unlock(&s->lock);
		if (c.seq > upto_seq || c.off >= lim)
			break;
		while (c.seq <= upto_seq && c.off < lim) {
			const unsigned char *h = NULL;
			const char *why = WHY_LENGTH;
			bool cut = false;
			uint32_t len = 0;

			if (lim - c.off >= REC_HDR) {
				h = header_at(s, g, c.off, hb, &cut);
				if (h == NULL && !cut) {
					rc = VG_EIO;
					goto commit;
				}
				if (cut)
					why = WHY_SHORT;
				else
					len = get_le32(h);
			}
			if (len == 0 || len > VG_SPOOL_RECORD_MAX ||
			    len > lim - c.off - REC_HDR) {
				pthread_mutex_lock(&s->lock);
				skip_torn(s, &c, lim, lim_seq, why);
				pthread_mutex_unlock(&s->lock);
				break;
			}
			c.off += REC_HDR + len;
			c.seq++;
		}
	}
commit:
	pthread_mutex_lock(&s->lock);
	s->acked += c.seq - start;
	set_read(s, &c);
	reap(s);
	reclaim(s);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* State and shutdown                                                  */
/* ------------------------------------------------------------------ */

void
vg_spool_stats(struct vg_spool *s, struct vg_spool_stats *st)
{
	struct seg *g;

	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	st->appended = s->appended;
	st->acked = s->acked;
	st->pending_records =
	    s->next_seq > s->rd.seq ? s->next_seq - s->rd.seq : 0;
	for (g = s->rd.seg; g != NULL; g = g->next) {
		uint64_t from = g == s->rd.seg ? s->rd.off : SEG_HDR;

		if (g->size > from)
			st->pending_bytes += g->size - from;
	}
	st->durable_seq = s->durable_seq;
	st->read_seq = s->rd.seq;
	st->segments = s->nsegs;
	st->bytes = s->bytes;
	st->torn = s->torn;
	st->corrupt = s->corrupt;
	st->full_drops = s->full_drops;
	st->fsyncs = s->fsyncs;
	st->io_errors = s->io_errors;
	st->full = s->full;
	pthread_mutex_unlock(&s->lock);
}

void
vg_spool_last_error(struct vg_spool *s, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	(void)snprintf(buf, len, "%s", s->lasterr);
	pthread_mutex_unlock(&s->lock);
}

void
vg_spool_shutdown(struct vg_spool *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->shut = true;
	pthread_cond_broadcast(&s->done_cv);
	pthread_mutex_unlock(&s->lock);
}

void
vg_spool_close(struct vg_spool *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	s->shut = true;
	pthread_cond_broadcast(&s->sync_cv);
	pthread_cond_broadcast(&s->done_cv);
	while (s->waiters > 0)
		pthread_cond_wait(&s->done_cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_made)
		(void)pthread_join(s->thread, NULL);

	/* Alone now: the last group commit, the position. */
	pthread_mutex_lock(&s->lock);
	if (!s->failed)
		(void)sync_pass(s);
	s->pos_dirty = true;
	persist_pass(s);
	pthread_mutex_unlock(&s->lock);
	spool_free(s);
}
