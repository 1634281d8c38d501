/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File quarantine: move a file that matched a rule into a quarantine
 * folder with a JSON record of what it was, list the folder, restore an
 * item exactly. See quarantine.h for the layout and the contracts.
 *
 * The file scanner calls vg_quarantine_file() with the descriptor it has
 * just scanned; list and restore serve the administrator's commands. The
 * record is written and parsed with jansson, the SHA-256 computed with
 * libcrypto.
 *
 * The invariant: the bytes are never lost
 * ---------------------------------------
 * At every instant, a crash between any two system calls included, the
 * file's bytes are durable at the original path, in qdir, or both. Two
 * ways of getting there keep it:
 *
 *  Move (qdir on the file's filesystem, one link). The record is written
 *  and fsync'ed as ID.json.tmp first; then one rename(2) takes the inode
 *  from path to qdir/ID.data.tmp. A rename is atomic, in memory and in
 *  the filesystem's journal: after a crash the inode has the old name or
 *  the new one, never neither. Then: mode 0 and the agent's owner, fsync
 *  of the inode, ID.json.tmp -> ID.json, ID.data.tmp -> ID.data, fsync of
 *  qdir (the new names are durable), and last fsync of path's folder (its
 *  entry is gone for good). fsync'ing qdir before the old folder means
 *  that even a filesystem that wrote the two folders separately could
 *  only ever show both names after a crash (a duplicate), not neither.
 *  Every step that can fail after the rename undoes it: owner and mode
 *  back, renamed back to path (never over a file that appeared there).
 *
 *  Copy (another filesystem, a hard-linked file, a file unlinked or
 *  replaced at path, any refused rename). The original is not touched
 *  until the end: the bytes are read from the scanner's descriptor (never
 *  by reopening path, which may now be another file) into ID.data.tmp
 *  (O_EXCL), which is made mode 0 and fsync'ed; the record goes to
 *  ID.json.tmp, is fsync'ed and renamed to ID.json, the data renamed to
 *  ID.data, qdir fsync'ed. Only then, with a durable copy, is path
 *  unlinked, and only if it still names the scanned inode. A crash
 *  before the unlink leaves a duplicate; after it, the copy.
 *
 * Names never clobber: temporary files are created O_EXCL, every rename
 * into qdir is RENAME_NOREPLACE, and an ID is reserved by creating its
 * ID.json.tmp before anything else, so two quarantines can never take
 * the same ID. A record is published before its data, so after a crash
 * between the two renames restore finds the bytes in ID.data.tmp; the
 * other leftovers of a crash (*.tmp without a record) are ignored by
 * list.
 *
 * Restore copies the data (never moves it) into a temporary file next to
 * dest, sets owner, mode and times on it, fsyncs, renames it to dest
 * (RENAME_NOREPLACE unless overwrite), fsyncs dest's folder; only then
 * does it remove the record and then the data. A crash in between leaves
 * the bytes at dest and in qdir (or a data file without a record, which
 * list ignores): a duplicate again.
 */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */

#include "quarantine.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define COPY_CHUNK (128 * 1024) /* bytes per read while copying */
#define ESC_IN     240          /* bytes of a path shown in a message */
#define ESC_MAX    (ESC_IN * 4 + 4)
#define ID_TRIES   16 /* IDs tried before giving up (collisions) */
#define NAME_LEN   (VG_QUARANTINE_ID_MAX + 16) /* "ID.data.tmp" */
#define TMP_TRIES  16 /* restore temporary names tried */
#define TMP_SUFFIX ".vigil-restore."
#define TMP_RAND   6 /* random characters after TMP_SUFFIX */

_Static_assert(sizeof(json_int_t) == 8, "json_int_t must be 64 bits");
_Static_assert(VG_QUARANTINE_PATH_MAX < PATH_MAX, "path bound");

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

struct esc {
	char s[ESC_MAX];
};

/*
 * s for a message: printable ASCII as is, any other byte (and '\\', '"')
 * as \xNN, cut after ESC_IN bytes with "...". Returns e->s.
 */
static const char *
esc(struct esc *e, const char *s)
{
	return vg_escape(e->s, sizeof(e->s), s, strnlen(s, ESC_IN + 1));
}

static void caterr(char *err, size_t errlen, const char *fmt, ...)
    VG_PRINTF(3, 4);

/* Append to the message vg_seterr() wrote. */
static void
caterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL || errlen == 0)
		return;
	len = strnlen(err, errlen - 1);
	va_start(ap, fmt);
	(void)vsnprintf(err + len, errlen - len, fmt, ap);
	va_end(ap);
}

/* ^[0-9A-Za-z-]{1,39}$: an ID can never name anything outside qdir. */
static bool
valid_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= VG_QUARANTINE_ID_MAX)
			return false;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || c == '-'))
			return false;
	}
	return i > 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits (lower-case only when lower). */
static bool
is_sha256(const char *s, bool lower)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (hexval(s[i]) < 0 || (lower && s[i] >= 'A' && s[i] <= 'F'))
			return false;
	return s[64] == '\0';
}

/*
 * An absolute path to a file: starts with '/', does not end with one, no
 * NUL in its len bytes, at most VG_QUARANTINE_PATH_MAX bytes.
 */
static bool
file_path_ok(const char *p, size_t len)
{
	return len >= 2 && len <= VG_QUARANTINE_PATH_MAX && p[0] == '/' &&
	       p[len - 1] != '/' && memchr(p, '\0', len) == NULL;
}

/*
 * A copy of the first max bytes of s (owned) that is valid UTF-8: each
 * byte of an invalid or cut sequence becomes '?'. *changed tells whether
 * a byte was replaced. NULL when out of memory.
 */
static char *
utf8_clean(const char *s, size_t max, bool *changed)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max), i = 0, k;
	char *out = malloc(n + 1);

	*changed = false;
	if (out == NULL)
		return NULL;
	while (i < n) {
		k = vg_utf8_len(u + i, n - i);
		if (k == 0) {
			out[i++] = '?';
			*changed = true;
			continue;
		}
		memcpy(out + i, s + i, k);
		i += k;
	}
	out[n] = '\0';
	return out;
}

/* Nanoseconds since the epoch, clamped to int64_t (beyond year 2262). */
static int64_t
ts_to_ns(const struct timespec *ts)
{
	int64_t ns;

	if (__builtin_mul_overflow((int64_t)ts->tv_sec, INT64_C(1000000000),
				   &ns) ||
	    __builtin_add_overflow(ns, (int64_t)ts->tv_nsec, &ns))
		return ts->tv_sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

static struct timespec
ns_to_ts(int64_t ns)
{
	struct timespec ts;
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = (long)rem;
	return ts;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * The folder holding path (owned): "/" for "/x", "." for a name without
 * '/'; trailing slashes of path are ignored. NULL when out of memory.
 */
static char *
parent_dir(const char *path)
{
	size_t len = strlen(path);
	char *d;

	while (len > 1 && path[len - 1] == '/')
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	if (len == 0)
		return strdup(".");
	while (len > 1 && path[len - 1] == '/')
		len--;
	d = malloc(len + 1);
	if (d != NULL) {
		memcpy(d, path, len);
		d[len] = '\0';
	}
	return d;
}

/* fsync the folder holding path. 0, or -1 with errno set. */
static int
fsync_parent(const char *path)
{
	char *dir = parent_dir(path);
	int rc;

	if (dir == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = vg_fsync_dir(dir);
	free(dir);
	return rc;
}

/*
 * Read in from offset 0 (pread: the descriptor's offset is not moved)
 * until end of file or limit bytes, hashing what is read with SHA-256
 * into hex, and writing it to out unless out is -1. *copied: the bytes
 * read. Returns 0, or -1 with errno set and *werr telling whether writing
 * (true) or reading (false) failed.
 */
static int
copy_hash(int in, int out, uint64_t limit, uint64_t *copied, char hex[65],
	  bool *werr)
{
	unsigned char *buf = malloc(COPY_CHUNK), md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	uint64_t off = 0;
	int rc = -1, e;

	*werr = false;
	if (buf == NULL || ctx == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		errno = ENOMEM;
		goto out;
	}
	while (off < limit) {
		size_t want = COPY_CHUNK;
		ssize_t r;

		if (limit - off < want)
			want = (size_t)(limit - off);
		r = pread(in, buf, want, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			errno = ENOMEM;
			goto out;
		}
		if (out >= 0 && vg_write_all(out, buf, (size_t)r) != 0) {
			*werr = true;
			goto out;
		}
		off += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		errno = ENOMEM;
		goto out;
	}
	vg_hex_encode(hex, md, 32);
	*copied = off;
	rc = 0;
out:
	e = errno;
	EVP_MD_CTX_free(ctx);
	free(buf);
	errno = e;
	return rc;
}

/* name = id suffix ("ID.json" and so on); id is at most 39 bytes. */
static void
item_name(char name[NAME_LEN], const char *id, const char *suffix)
{
	size_t a = strlen(id), b = strlen(suffix);

	memcpy(name, id, a);
	memcpy(name + a, suffix, b + 1);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

void
vg_quarantine_item_fini(struct vg_quarantine_item *it)
{
	if (it == NULL)
		return;
	free(it->path);
	free(it->rule);
	it->path = NULL;
	it->rule = NULL;
}

void
vg_quarantine_items_free(struct vg_quarantine_item *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		vg_quarantine_item_fini(&items[i]);
	free(items);
}

/*
 * The record of it as JSON text ending in a newline (owned), or NULL when
 * out of memory. A path that is not UTF-8 goes out as "path_hex" too.
 */
static char *
record_text(const struct vg_quarantine_item *it)
{
	char mode[8], *shown, *hex = NULL, *text = NULL, *t;
	size_t plen = strlen(it->path), len;
	bool changed;
	json_t *o = NULL;

	shown = utf8_clean(it->path, plen, &changed);
	if (shown == NULL)
		return NULL;
	if (changed) {
		hex = malloc(2 * plen + 1);
		if (hex == NULL)
			goto out;
		vg_hex_encode(hex, it->path, plen);
	}
	(void)snprintf(mode, sizeof(mode), "%04" PRIo32, it->mode & 07777u);
	/* "s*": a NULL path_hex leaves the key out. */
	o = json_pack("{s:s, s:s, s:s*, s:s, s:s, s:I, s:I, s:I, s:s, s:I, "
		      "s:I, s:I}",
		      "id", it->id, "path", shown, "path_hex", hex, "rule",
		      it->rule, "sha256", it->sha256, "size",
		      (json_int_t)it->size, "uid", (json_int_t)it->uid, "gid",
		      (json_int_t)it->gid, "mode", mode, "atime_ns",
		      (json_int_t)it->atime_ns, "mtime_ns",
		      (json_int_t)it->mtime_ns, "quarantined_us",
		      (json_int_t)it->quarantined_us);
	if (o == NULL)
		goto out;
	text = json_dumps(o, JSON_INDENT(2));
	if (text == NULL)
		goto out;
	len = strlen(text);
	t = realloc(text, len + 2);
	if (t == NULL) {
		free(text);
		text = NULL;
		goto out;
	}
	text = t;
	memcpy(text + len, "\n", 2);
out:
	json_decref(o);
	free(hex);
	free(shown);
	return text;
}

/*
 * Parse and check a record read from a file: every key present (path_hex
 * optional), no other key, each of its type and in range; its id must be
 * want_id. VG_OK with it filled (caller's storage, owns path and rule),
 * VG_EMALFORMED with *why set, or VG_ENOMEM.
 */
static enum vg_err
record_parse(const char *text, size_t len, const char *want_id,
	     struct vg_quarantine_item *it, const char **why)
{
	const char *id, *path, *path_hex = NULL, *rule, *sha, *mode;
	json_int_t size, uid, gid, atime, mtime, qus;
	enum vg_err rc = VG_EMALFORMED;
	char *raw = NULL;
	json_error_t jerr;
	size_t plen, i;
	json_t *o;

	memset(it, 0, sizeof(*it));
	/* jansson refuses invalid UTF-8, and \u0000 without JSON_ALLOW_NUL. */
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		*why = "not JSON, or duplicate keys";
		return VG_EMALFORMED;
	}
	/* JSON_STRICT: a key that is not unpacked here is an error. */
	if (json_unpack_ex(o, &jerr, JSON_STRICT,
			   "{s:s, s:s, s?s, s:s, s:s, s:I, s:I, s:I, s:s, s:I, "
			   "s:I, s:I}",
			   "id", &id, "path", &path, "path_hex", &path_hex,
			   "rule", &rule, "sha256", &sha, "size", &size, "uid",
			   &uid, "gid", &gid, "mode", &mode, "atime_ns", &atime,
			   "mtime_ns", &mtime, "quarantined_us", &qus) != 0) {
		*why = "not an object of the record's keys and types";
		goto out;
	}
	if (!valid_id(id) || strcmp(id, want_id) != 0) {
		*why = "bad id";
		goto out;
	}
	if (!is_sha256(sha, true)) {
		*why = "bad sha256";
		goto out;
	}
	if (size < 0) {
		*why = "bad size";
		goto out;
	}
	/* (uid_t)-1 means "no change" to chown(2): no file has it. */
	if (uid < 0 || uid >= (json_int_t)UINT32_MAX || gid < 0 ||
	    gid >= (json_int_t)UINT32_MAX) {
		*why = "bad uid or gid";
		goto out;
	}
	if (strlen(mode) != 4) {
		*why = "bad mode";
		goto out;
	}
	for (i = 0; i < 4; i++) {
		if (mode[i] < '0' || mode[i] > '7') {
			*why = "bad mode";
			goto out;
		}
		it->mode = it->mode << 3 | (uint32_t)(mode[i] - '0');
	}
	if (qus < 0) {
		*why = "bad quarantined_us";
		goto out;
	}
	if (strlen(rule) > VG_QUARANTINE_RULE_MAX) {
		*why = "rule too long";
		goto out;
	}
	if (path_hex != NULL) {
		/* The bytes of a path that is not UTF-8; "path" is for show. */
		plen = strlen(path_hex);
		if (plen % 2 != 0 || plen / 2 > VG_QUARANTINE_PATH_MAX) {
			*why = "bad path_hex";
			goto out;
		}
		plen /= 2;
		raw = malloc(plen + 1);
		if (raw == NULL) {
			rc = VG_ENOMEM;
			goto out;
		}
		for (i = 0; i < plen; i++) {
			int hi = hexval(path_hex[2 * i]);
			int lo = hexval(path_hex[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				*why = "bad path_hex";
				goto out;
			}
			raw[i] = (char)(hi << 4 | lo);
		}
		raw[plen] = '\0';
		if (!file_path_ok(raw, plen)) {
			*why = "bad path";
			goto out;
		}
	} else {
		if (!file_path_ok(path, strlen(path))) {
			*why = "bad path";
			goto out;
		}
		raw = strdup(path);
		if (raw == NULL) {
			rc = VG_ENOMEM;
			goto out;
		}
	}
	it->rule = strdup(rule);
	if (it->rule == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	it->path = raw;
	raw = NULL;
	memcpy(it->id, id, strlen(id) + 1);
	memcpy(it->sha256, sha, 65);
	it->size = (uint64_t)size;
	it->uid = (uint32_t)uid;
	it->gid = (uint32_t)gid;
	it->atime_ns = atime;
	it->mtime_ns = mtime;
	it->quarantined_us = qus;
	rc = VG_OK;
out:
	free(raw);
	if (rc != VG_OK)
		vg_quarantine_item_fini(it);
	json_decref(o);
	return rc;
}

/*
 * Open a file of qdir (dfd) for reading: no symlink followed, no FIFO
 * waited on, a regular file only (else ELOOP, EINVAL). fd or -1 and errno.
 */
static int
open_regular(int dfd, const char *name, struct stat *sb)
{
	int fd, e;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, sb) != 0) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		(void)close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/*
 * Read and parse record name of qdir (dfd), whose id must be want_id.
 * VG_OK; VG_EIO with errno set (ENOENT: no such record); VG_EMALFORMED
 * with *why set; VG_ENOMEM.
 */
static enum vg_err
record_load(int dfd, const char *name, const char *want_id,
	    struct vg_quarantine_item *it, const char **why)
{
	struct stat sb;
	enum vg_err rc;
	char *buf = NULL;
	size_t len = 0;
	int fd, e;

	memset(&sb, 0, sizeof(sb));
	fd = open_regular(dfd, name, &sb);
	if (fd < 0)
		return VG_EIO;
	if (sb.st_size > VG_QUARANTINE_RECORD_MAX) {
		*why = "record too large";
		rc = VG_EMALFORMED;
		goto out;
	}
	/* One byte more than the cap tells a file that grew meanwhile. */
	buf = malloc(VG_QUARANTINE_RECORD_MAX + 1);
	if (buf == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	while (len <= VG_QUARANTINE_RECORD_MAX) {
		ssize_t r =
		    read(fd, buf + len, VG_QUARANTINE_RECORD_MAX + 1 - len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = VG_EIO;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > VG_QUARANTINE_RECORD_MAX) {
		*why = "record too large";
		rc = VG_EMALFORMED;
		goto out;
	}
	rc = record_parse(buf, len, want_id, it, why);
out:
	e = errno;
	free(buf);
	(void)close(fd);
	errno = e;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Quarantine                                                          */
/* ------------------------------------------------------------------ */

/* One vg_quarantine_file() call. */
struct qctx {
	const char *qdir, *path;
	int fd;                /* the scanner's descriptor (borrowed) */
	const struct stat *st; /* its fstat (borrowed) */
	const char *want;      /* expected SHA-256 (lower-case) or NULL */
	int dfd;               /* qdir */
	int jfd;               /* ID.json.tmp, open for writing */
	int wfd;               /* ID.data.tmp of the copy path */
	bool json_tmp;         /* ID.json.tmp exists, ours to delete */
	bool data_tmp;         /* ID.data.tmp is our copy, ours to delete */
	bool json_pub;         /* ID.json is in place */
	bool copy_pub;         /* ID.data is in place and is our copy */
	bool keep;             /* on failure, keep the published item */
	char n_json[NAME_LEN], n_json_tmp[NAME_LEN];
	char n_data[NAME_LEN], n_data_tmp[NAME_LEN];
	struct vg_quarantine_item it;
	char *err;
	size_t errlen;
};

/* Create qdir if missing (0700) and open it. */
static enum vg_err
open_qdir(struct qctx *q)
{
	struct esc e1;
	bool made = false;
	int e;

	if (mkdir(q->qdir, 0700) == 0) {
		made = true;
	} else if (errno != EEXIST) {
		e = errno;
		vg_seterr(q->err, q->errlen,
			  "cannot create quarantine folder %s: %s",
			  esc(&e1, q->qdir), strerror(e));
		return VG_EIO;
	}
	q->dfd = open(q->qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dfd < 0) {
		e = errno;
		vg_seterr(q->err, q->errlen,
			  "cannot open quarantine folder %s: %s",
			  esc(&e1, q->qdir), strerror(e));
		return VG_EIO;
	}
	/* A umask may have taken bits off; none are added. */
	if (made && fchmod(q->dfd, 0700) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot chmod %s: %s",
			  esc(&e1, q->qdir), strerror(e));
		return VG_EIO;
	}
	/*
	 * The folder's own name must be durable before an original is
	 * removed, or a crash could take the folder with everything in it.
	 * Another thread or process may have created it a moment ago, so
	 * this is done every time, not only by the one that made it.
	 */
	if (fsync_parent(q->qdir) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen,
			  "cannot sync the folder holding %s: %s",
			  esc(&e1, q->qdir), strerror(e));
		return VG_EIO;
	}
	return VG_OK;
}

/* 0 when qdir has no file called name (of any type). */
static bool
name_free(int dfd, const char *name)
{
	struct stat sb;

	return fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 &&
	       errno == ENOENT;
}

/*
 * Pick an ID ("20261201T101500Z-" and 8 random hex digits) and reserve it
 * by creating ID.json.tmp (O_EXCL), which stays open in q->jfd for the
 * record. The other names of the ID must be free too.
 */
static enum vg_err
reserve_id(struct qctx *q)
{
	struct esc e1;
	struct tm tm;
	time_t secs = (time_t)(q->it.quarantined_us / 1000000);
	char stamp[24];
	uint32_t r;
	int i, e;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) != 16) {
		vg_seterr(q->err, q->errlen, "cannot format the time");
		return VG_EIO;
	}
	for (i = 0; i < ID_TRIES; i++) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			e = errno;
			vg_seterr(q->err, q->errlen, "getrandom: %s",
				  strerror(e));
			return VG_EIO;
		}
		(void)snprintf(q->it.id, sizeof(q->it.id), "%s-%08" PRIx32,
			       stamp, r);
		item_name(q->n_json, q->it.id, ".json");
		item_name(q->n_json_tmp, q->it.id, ".json.tmp");
		item_name(q->n_data, q->it.id, ".data");
		item_name(q->n_data_tmp, q->it.id, ".data.tmp");
		q->jfd = openat(
		    q->dfd, q->n_json_tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (q->jfd < 0) {
			if (errno == EEXIST)
				continue;
			e = errno;
			vg_seterr(q->err, q->errlen, "cannot create %s/%s: %s",
				  esc(&e1, q->qdir), q->n_json_tmp,
				  strerror(e));
			return VG_EIO;
		}
		q->json_tmp = true;
		if (name_free(q->dfd, q->n_json) &&
		    name_free(q->dfd, q->n_data) &&
		    name_free(q->dfd, q->n_data_tmp))
			return VG_OK;
		(void)close(q->jfd);
		q->jfd = -1;
		(void)unlinkat(q->dfd, q->n_json_tmp, 0);
		q->json_tmp = false;
	}
	vg_seterr(q->err, q->errlen, "cannot find a free ID in %s",
		  esc(&e1, q->qdir));
	return VG_EIO;
}

/* Write the record of q->it to ID.json.tmp, durably. */
static enum vg_err
write_record(struct qctx *q)
{
	struct esc e1;
	char *text = record_text(&q->it);
	int e;

	if (text == NULL) {
		vg_seterr(q->err, q->errlen, "out of memory");
		return VG_ENOMEM;
	}
	if (ftruncate(q->jfd, 0) != 0 || lseek(q->jfd, 0, SEEK_SET) != 0 ||
	    vg_write_all(q->jfd, text, strlen(text)) != 0 ||
	    fsync(q->jfd) != 0) {
		e = errno;
		free(text);
		vg_seterr(q->err, q->errlen, "cannot write %s/%s: %s",
			  esc(&e1, q->qdir), q->n_json_tmp, strerror(e));
		return VG_EIO;
	}
	free(text);
	return VG_OK;
}

/*
 * A step after the move failed (q->err says which): put the file back as
 * it was, owner, mode, then its name (never over a file that has appeared
 * at path since), and drop the record. When it cannot go back, keep it in
 * qdir as a whole item rather than lose track of it. Returns VG_EIO.
 */
static enum vg_err
move_back(struct qctx *q, bool chowned, bool data_pub)
{
	const char *cur = data_pub ? q->n_data : q->n_data_tmp;
	int e;

	if (chowned && fchown(q->fd, q->st->st_uid, q->st->st_gid) != 0) {
		/* best effort: getting the name back matters most */
	}
	(void)fchmod(q->fd, q->st->st_mode & 07777);
	if (renameat2(q->dfd, cur, AT_FDCWD, q->path, RENAME_NOREPLACE) == 0) {
		/* Back at path: the record goes (cleanup drops the .tmp). */
		if (q->json_pub && unlinkat(q->dfd, q->n_json, 0) == 0)
			q->json_pub = false;
		(void)fsync(q->dfd);
		(void)fsync_parent(q->path);
		return VG_EIO;
	}
	e = errno;
	if (q->json_tmp && renameat2(q->dfd, q->n_json_tmp, q->dfd, q->n_json,
				     RENAME_NOREPLACE) == 0) {
		q->json_tmp = false;
		q->json_pub = true;
	}
	if (!data_pub)
		(void)renameat2(q->dfd, q->n_data_tmp, q->dfd, q->n_data,
				RENAME_NOREPLACE);
	(void)fsync(q->dfd);
	q->keep = true;
	caterr(q->err, q->errlen,
	       "; it cannot be moved back (%s): kept in quarantine as %s",
	       strerror(e), q->it.id);
	return VG_EIO;
}

/*
 * The move: when qdir is on the file's filesystem, rename the inode into
 * qdir. *moved false (with VG_OK) means it cannot be done here and the
 * copy must be made instead; nothing has changed then.
 */
static enum vg_err
try_move(struct qctx *q, const struct stat *qst, bool *moved)
{
	const struct stat *st = q->st;
	struct stat ls, ds;
	struct esc e1, e2;
	bool werr, chowned = false, data_pub = false;
	uint64_t size;
	char hex[65];
	enum vg_err rc;
	int e;

	*moved = false;
	/* A file the agent cannot chmod (not root, not its owner): copy. */
	if (st->st_dev != qst->st_dev ||
	    (geteuid() != 0 && st->st_uid != geteuid()))
		return VG_OK;
	/*
	 * The record, hash included, must be durable before the move: hash
	 * through the descriptor now. A file that no longer has the size and
	 * hash of the scan has changed: the copy path keeps both.
	 */
	if (copy_hash(q->fd, -1, (uint64_t)st->st_size + 1, &size, hex,
		      &werr) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot read %s: %s",
			  esc(&e1, q->path), strerror(e));
		return VG_EIO;
	}
	if (size != (uint64_t)st->st_size ||
	    (q->want != NULL && strcmp(hex, q->want) != 0))
		return VG_OK;
	/*
	 * The path must still be our inode, not through a symlink, and its
	 * only name (st's link count may be older): a file with other links
	 * would stay served by them, and making it mode 0 would change them
	 * too, so it is copied.
	 */
	if (lstat(q->path, &ls) != 0 || !S_ISREG(ls.st_mode) ||
	    !same_file(&ls, st) || ls.st_nlink != 1)
		return VG_OK;
	q->it.size = size;
	memcpy(q->it.sha256, hex, sizeof(hex));
	rc = write_record(q);
	if (rc != VG_OK)
		return rc;
	/*
	 * The one step that moves the bytes. Any failure (EXDEV across a
	 * bind mount, ENOENT when the file just went, EINVAL without
	 * RENAME_NOREPLACE, EACCES...) has moved nothing: copy instead.
	 */
	if (renameat2(AT_FDCWD, q->path, q->dfd, q->n_data_tmp,
		      RENAME_NOREPLACE) != 0)
		return VG_OK;
	if (fstatat(q->dfd, q->n_data_tmp, &ds, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !same_file(&ds, st)) {
		/*
		 * path was replaced between the lstat and the rename: that
		 * other file is not ours to quarantine. Put it back (it is
		 * never deleted), then copy the scanned bytes from fd.
		 */
		if (renameat2(q->dfd, q->n_data_tmp, AT_FDCWD, q->path,
			      RENAME_NOREPLACE) == 0)
			return VG_OK;
		e = errno;
		vg_seterr(q->err, q->errlen,
			  "%s was replaced while being quarantined; the other "
			  "file, moved to %s/%s, cannot be moved back: %s",
			  esc(&e1, q->path), esc(&e2, q->qdir), q->n_data_tmp,
			  strerror(e));
		return VG_EIO;
	}
	*moved = true;
	/* From here on, a failure moves the file back (move_back). */
	if (st->st_uid != geteuid() || st->st_gid != getegid()) {
		if (fchown(q->fd, geteuid(), getegid()) == 0) {
			chowned = true;
		} else if (geteuid() == 0 || errno != EPERM) {
			e = errno;
			vg_seterr(q->err, q->errlen, "cannot chown %s/%s: %s",
				  esc(&e1, q->qdir), q->n_data_tmp,
				  strerror(e));
			return move_back(q, chowned, data_pub);
		}
	}
	if (fchmod(q->fd, 0) != 0 || fsync(q->fd) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot chmod or sync %s/%s: %s",
			  esc(&e1, q->qdir), q->n_data_tmp, strerror(e));
		return move_back(q, chowned, data_pub);
	}
	if (renameat2(q->dfd, q->n_json_tmp, q->dfd, q->n_json,
		      RENAME_NOREPLACE) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot rename %s/%s: %s",
			  esc(&e1, q->qdir), q->n_json_tmp, strerror(e));
		return move_back(q, chowned, data_pub);
	}
	q->json_tmp = false;
	q->json_pub = true;
	if (renameat2(q->dfd, q->n_data_tmp, q->dfd, q->n_data,
		      RENAME_NOREPLACE) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot rename %s/%s: %s",
			  esc(&e1, q->qdir), q->n_data_tmp, strerror(e));
		return move_back(q, chowned, data_pub);
	}
	data_pub = true;
	if (fsync(q->dfd) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot sync %s: %s",
			  esc(&e1, q->qdir), strerror(e));
		return move_back(q, chowned, data_pub);
	}
	/*
	 * The item is durable in qdir. Syncing the old folder makes the
	 * removal durable too; if that fails, a crash could at worst bring
	 * the old name back next to the item: a duplicate, not a loss, so
	 * the quarantine stands.
	 */
	(void)fsync_parent(q->path);
	return VG_OK;
}

/* Publish the copy: record first, then data, then make both durable. */
static enum vg_err
publish_copy(struct qctx *q)
{
	struct esc e1;
	int e;

	if (renameat2(q->dfd, q->n_json_tmp, q->dfd, q->n_json,
		      RENAME_NOREPLACE) != 0)
		goto fail;
	q->json_tmp = false;
	q->json_pub = true;
	if (renameat2(q->dfd, q->n_data_tmp, q->dfd, q->n_data,
		      RENAME_NOREPLACE) != 0)
		goto fail;
	q->data_tmp = false;
	q->copy_pub = true;
	if (fsync(q->dfd) != 0)
		goto fail;
	return VG_OK;
fail:
	e = errno;
	vg_seterr(q->err, q->errlen, "cannot publish %s in %s: %s", q->it.id,
		  esc(&e1, q->qdir), strerror(e));
	return VG_EIO;
}

/*
 * The copy: from the scanner's descriptor into qdir, made durable with its
 * record, and only then the original unlinked, if path still names it.
 */
static enum vg_err
copy_in(struct qctx *q)
{
	const struct stat *st = q->st;
	struct esc e1, e2;
	struct stat ls;
	bool werr, changed;
	uint64_t size, limit;
	char hex[65];
	enum vg_err rc;
	int e;

	q->wfd =
	    openat(q->dfd, q->n_data_tmp,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->wfd < 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot create %s/%s: %s",
			  esc(&e1, q->qdir), q->n_data_tmp, strerror(e));
		return VG_EIO;
	}
	q->data_tmp = true;
	/*
	 * To the end of the file, so that a file that grew since the scan
	 * is kept whole; but not after VG_QUARANTINE_GROWTH_MAX more bytes,
	 * so that a writer cannot keep the copy going until the disk fills.
	 */
	limit = (uint64_t)st->st_size + VG_QUARANTINE_GROWTH_MAX + 1;
	if (copy_hash(q->fd, q->wfd, limit, &size, hex, &werr) != 0) {
		e = errno;
		if (werr)
			vg_seterr(q->err, q->errlen, "cannot write %s/%s: %s",
				  esc(&e1, q->qdir), q->n_data_tmp,
				  strerror(e));
		else
			vg_seterr(q->err, q->errlen, "cannot read %s: %s",
				  esc(&e1, q->path), strerror(e));
		return VG_EIO;
	}
	if (size == limit) {
		vg_seterr(q->err, q->errlen,
			  "%s keeps growing (more than %llu bytes past its "
			  "scanned size): not quarantined",
			  esc(&e1, q->path),
			  (unsigned long long)VG_QUARANTINE_GROWTH_MAX);
		return VG_EIO;
	}
	if (fchmod(q->wfd, 0) != 0 || fsync(q->wfd) != 0) {
		e = errno;
		vg_seterr(q->err, q->errlen, "cannot chmod or sync %s/%s: %s",
			  esc(&e1, q->qdir), q->n_data_tmp, strerror(e));
		return VG_EIO;
	}
	/* The record describes the bytes copied, whatever the scan saw. */
	changed = size != (uint64_t)st->st_size ||
		  (q->want != NULL && strcmp(hex, q->want) != 0);
	q->it.size = size;
	memcpy(q->it.sha256, hex, sizeof(hex));
	rc = write_record(q);
	if (rc != VG_OK)
		return rc;
	rc = publish_copy(q);
	if (rc != VG_OK)
		return rc;

	/* The copy is durable: from here on the original may go. */
	if (changed) {
		q->keep = true;
		vg_seterr(q->err, q->errlen,
			  "%s changed since it was scanned (now %" PRIu64
			  " bytes, sha256 %s): copy kept in quarantine as %s, "
			  "file left in place",
			  esc(&e1, q->path), size, hex, q->it.id);
		return VG_EIO;
	}
	if (lstat(q->path, &ls) != 0) {
		if (errno == ENOENT)
			return VG_OK; /* gone since the scan: safe in qdir */
		e = errno;
		q->keep = true;
		vg_seterr(q->err, q->errlen,
			  "cannot check %s: %s: copy kept in quarantine as %s",
			  esc(&e1, q->path), strerror(e), q->it.id);
		return VG_EIO;
	}
	/* Another file is at path now: not the one scanned, left alone. */
	if (!S_ISREG(ls.st_mode) || !same_file(&ls, st))
		return VG_OK;
	/*
	 * Between this lstat and the unlink, path could be replaced once
	 * more; the file unlinked then is one that whoever replaced it could
	 * have unlinked as well (both need write access to the folder, and
	 * ownership in a sticky one), so nothing is gained by the race.
	 */
	if (unlink(q->path) == 0 || errno == ENOENT) {
		/* As in try_move: a failure here risks only a duplicate. */
		(void)fsync_parent(q->path);
		return VG_OK;
	}
	e = errno;
	/*
	 * The original stays. Withdraw the copy, but only when path still
	 * is the original: otherwise the copy may be the only one left.
	 */
	if (lstat(q->path, &ls) == 0 && same_file(&ls, st)) {
		vg_seterr(q->err, q->errlen, "cannot remove %s: %s",
			  esc(&e1, q->path), strerror(e));
		return VG_EIO;
	}
	q->keep = true;
	vg_seterr(q->err, q->errlen,
		  "cannot remove %s: %s: copy kept in quarantine as %s (in %s)",
		  esc(&e1, q->path), strerror(e), q->it.id, esc(&e2, q->qdir));
	return VG_EIO;
}

enum vg_err
vg_quarantine_file(const char *qdir, int fd, const char *path,
		   const struct stat *st, const char *sha256, const char *rule,
		   struct vg_quarantine_item *item_out, char *err,
		   size_t errlen)
{
	struct qctx q;
	struct stat now, qst;
	struct esc e1;
	char want[65];
	bool moved = false, changed;
	enum vg_err rc;
	size_t i;
	int e;

	memset(&q, 0, sizeof(q));
	q.qdir = qdir;
	q.path = path;
	q.fd = fd;
	q.st = st;
	q.dfd = q.jfd = q.wfd = -1;
	q.err = err;
	q.errlen = errlen;
	vg_seterr(err, errlen, "%s", "");

	if (qdir == NULL || *qdir == '\0' || path == NULL || st == NULL) {
		vg_seterr(err, errlen, "quarantine: missing argument");
		return VG_EINVAL;
	}
	if (!file_path_ok(path, strlen(path))) {
		vg_seterr(err, errlen, "%s: not an absolute file path",
			  esc(&e1, path));
		return VG_EINVAL;
	}
	if (!S_ISREG(st->st_mode)) {
		vg_seterr(err, errlen, "%s: not a regular file",
			  esc(&e1, path));
		return VG_EINVAL;
	}
	if (sha256 != NULL) {
		if (!is_sha256(sha256, false)) {
			vg_seterr(err, errlen, "%s: bad SHA-256 \"%s\"",
				  esc(&e1, path), sha256);
			return VG_EINVAL;
		}
		for (i = 0; i < 65; i++)
			want[i] = (sha256[i] >= 'A' && sha256[i] <= 'F')
				      ? (char)(sha256[i] - 'A' + 'a')
				      : sha256[i];
		q.want = want;
	}
	if (fstat(fd, &now) != 0) {
		e = errno;
		vg_seterr(err, errlen, "%s: cannot fstat the descriptor: %s",
			  esc(&e1, path), strerror(e));
		return e == EBADF ? VG_EINVAL : VG_EIO;
	}
	if (!same_file(&now, st)) {
		vg_seterr(err, errlen,
			  "%s: the descriptor is not the file scanned",
			  esc(&e1, path));
		return VG_EINVAL;
	}

	q.it.path = strdup(path);
	q.it.rule = utf8_clean(rule != NULL ? rule : "", VG_QUARANTINE_RULE_MAX,
			       &changed);
	if (q.it.path == NULL || q.it.rule == NULL) {
		vg_seterr(err, errlen, "out of memory");
		rc = VG_ENOMEM;
		goto out;
	}
	q.it.uid = (uint32_t)st->st_uid;
	q.it.gid = (uint32_t)st->st_gid;
	q.it.mode = (uint32_t)(st->st_mode & 07777);
	/* Times past 2262 are clamped: refusing them would let a file with
	 * a forged time escape quarantine. */
	q.it.atime_ns = ts_to_ns(&st->st_atim);
	q.it.mtime_ns = ts_to_ns(&st->st_mtim);
	q.it.quarantined_us = vg_now_wall_us();
	if (q.it.quarantined_us < 0)
		q.it.quarantined_us = 0;

	rc = open_qdir(&q);
	if (rc != VG_OK)
		goto out;
	if (fstat(q.dfd, &qst) != 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot fstat %s: %s", esc(&e1, qdir),
			  strerror(e));
		rc = VG_EIO;
		goto out;
	}
	rc = reserve_id(&q);
	if (rc != VG_OK)
		goto out;
	rc = try_move(&q, &qst, &moved);
	if (rc == VG_OK && !moved)
		rc = copy_in(&q);
out:
	if (q.wfd >= 0)
		(void)close(q.wfd);
	if (q.jfd >= 0)
		(void)close(q.jfd);
	/* A failed copy is withdrawn: record first, so list never shows an
	 * item without its data. */
	if (rc != VG_OK && !q.keep && (q.json_pub || q.copy_pub)) {
		if (q.json_pub)
			(void)unlinkat(q.dfd, q.n_json, 0);
		if (q.copy_pub)
			(void)unlinkat(q.dfd, q.n_data, 0);
		(void)fsync(q.dfd);
	}
	if (q.json_tmp)
		(void)unlinkat(q.dfd, q.n_json_tmp, 0);
	if (q.data_tmp)
		(void)unlinkat(q.dfd, q.n_data_tmp, 0);
	if (q.dfd >= 0)
		(void)close(q.dfd);
	if (rc == VG_OK && item_out != NULL)
		*item_out = q.it;
	else
		vg_quarantine_item_fini(&q.it);
	return rc;
}

/* ------------------------------------------------------------------ */
/* List                                                                */
/* ------------------------------------------------------------------ */

static int
item_cmp(const void *a, const void *b)
{
	const struct vg_quarantine_item *x = a, *y = b;

	if (x->quarantined_us != y->quarantined_us)
		return x->quarantined_us < y->quarantined_us ? -1 : 1;
	return strcmp(x->id, y->id);
}

enum vg_err
vg_quarantine_list(const char *qdir, struct vg_quarantine_item **items,
		   size_t *n, size_t *bad)
{
	struct vg_quarantine_item *arr = NULL, *na, it;
	size_t cnt = 0, cap = 0, nbad = 0, len;
	enum vg_err rc = VG_OK;
	struct dirent *de;
	const char *why;
	char stem[256];
	DIR *d;
	int dfd, e;

	if (qdir == NULL || items == NULL || n == NULL)
		return VG_EINVAL;
	dfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT)
			return VG_EIO;
		*items = NULL;
		*n = 0;
		if (bad != NULL)
			*bad = 0;
		return VG_OK;
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		e = errno;
		(void)close(dfd);
		errno = e;
		return VG_EIO;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = VG_EIO;
			break;
		}
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue; /* data, *.tmp, anything else */
		memcpy(stem, de->d_name, len - 5);
		stem[len - 5] = '\0';
		if (!valid_id(stem)) {
			nbad++;
			continue;
		}
		rc = record_load(dirfd(d), de->d_name, stem, &it, &why);
		if (rc == VG_EIO && errno == ENOENT) {
			rc = VG_OK; /* restored or withdrawn meanwhile */
			continue;
		}
		if (rc == VG_EIO || rc == VG_EMALFORMED) {
			rc = VG_OK;
			nbad++;
			continue;
		}
		if (rc != VG_OK)
			break;
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 16 : 2 * cap;

			if (cnt >= VG_QUARANTINE_MAX_ITEMS) {
				vg_quarantine_item_fini(&it);
				rc = VG_ELIMIT;
				break;
			}
			na = vg_calloc(ncap, sizeof(*na));
			if (na == NULL) {
				vg_quarantine_item_fini(&it);
				rc = VG_ENOMEM;
				break;
			}
			if (cnt > 0)
				memcpy(na, arr, cnt * sizeof(*na));
			free(arr);
			arr = na;
			cap = ncap;
		}
		arr[cnt++] = it;
	}
	e = errno;
	(void)closedir(d);
	if (rc != VG_OK) {
		vg_quarantine_items_free(arr, cnt);
		errno = e;
		return rc;
	}
	if (cnt > 1)
		qsort(arr, cnt, sizeof(*arr), item_cmp);
	if (cnt == 0) {
		free(arr);
		arr = NULL;
	}
	*items = arr;
	*n = cnt;
	if (bad != NULL)
		*bad = nbad;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* Restore                                                             */
/* ------------------------------------------------------------------ */

/*
 * Open the data file name of qdir for reading. It is mode 0: root reads it
 * anyway; an agent that is not root makes its own file readable first
 * (*unlocked: make it mode 0 again if it stays).
 */
static int
open_data(int dfd, const char *name, struct stat *sb, bool *unlocked)
{
	struct stat ls;
	int fd;

	*unlocked = false;
	fd = open_regular(dfd, name, sb);
	if (fd >= 0 || errno != EACCES || geteuid() == 0)
		return fd;
	if (fstatat(dfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(ls.st_mode) || ls.st_uid != geteuid()) {
		errno = EACCES;
		return -1;
	}
	/* qdir is the agent's (0700): nobody else can swap the name. */
	if (fchmodat(dfd, name, 0400, 0) != 0)
		return -1;
	*unlocked = true;
	fd = open_regular(dfd, name, sb);
	if (fd < 0) {
		int e = errno;

		if (fchmodat(dfd, name, 0, 0) == 0)
			*unlocked =
			    false; /* else left 0400, in a 0700 folder */
		errno = e;
	}
	return fd;
}

/* Create "BASE.vigil-restore.XXXXXX" in folder ddir (O_EXCL, 0600). */
static int
create_restore_tmp(int ddir, const char *base, char name[NAME_MAX + 1])
{
	static const char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	size_t blen = strlen(base), keep, i;
	unsigned char r[TMP_RAND];
	int fd, t;

	/* Cut a long base so that the name fits in NAME_MAX. */
	keep = NAME_MAX - (sizeof(TMP_SUFFIX) - 1) - TMP_RAND;
	if (blen < keep)
		keep = blen;
	memcpy(name, base, keep);
	memcpy(name + keep, TMP_SUFFIX, sizeof(TMP_SUFFIX) - 1);
	for (t = 0; t < TMP_TRIES; t++) {
		char *p = name + keep + sizeof(TMP_SUFFIX) - 1;

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		for (i = 0; i < TMP_RAND; i++)
			p[i] = chars[r[i] % (sizeof(chars) - 1)];
		p[TMP_RAND] = '\0';
		fd = openat(
		    ddir, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

enum vg_err
vg_quarantine_restore(const char *qdir, const char *id, const char *dest,
		      int overwrite, struct vg_quarantine_item *item_out,
		      char *err, size_t errlen)
{
	struct vg_quarantine_item it;
	char n_json[NAME_LEN], n_data[NAME_LEN], n_data_tmp[NAME_LEN];
	char tmp[NAME_MAX + 1], hex[65];
	const char *data_name, *target, *base, *why = "?";
	struct esc e1, e2;
	struct timespec ts[2];
	struct stat sb;
	bool have_it = false, unlocked = false, tmp_made = false, werr;
	char *dir = NULL;
	int dfd = -1, datafd = -1, ddir = -1, tfd = -1, e, r;
	uint64_t copied = 0;
	enum vg_err rc;

	memset(&it, 0, sizeof(it));
	vg_seterr(err, errlen, "%s", "");
	if (qdir == NULL || id == NULL) {
		vg_seterr(err, errlen, "restore: missing argument");
		return VG_EINVAL;
	}
	if (!valid_id(id)) {
		vg_seterr(err, errlen, "not a quarantine ID: \"%s\"",
			  esc(&e1, id));
		return VG_EINVAL;
	}
	if (dest != NULL) {
		size_t dl = strlen(dest);

		if (dl == 0 || dl > VG_QUARANTINE_PATH_MAX ||
		    dest[dl - 1] == '/') {
			vg_seterr(err, errlen, "not a file path: \"%s\"",
				  esc(&e1, dest));
			return VG_EINVAL;
		}
	}
	item_name(n_json, id, ".json");
	item_name(n_data, id, ".data");
	item_name(n_data_tmp, id, ".data.tmp");

	dfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = errno;
		vg_seterr(err, errlen, "no item %s: cannot open %s: %s", id,
			  esc(&e1, qdir), strerror(e));
		rc = e == ENOENT ? VG_EINVAL : VG_EIO;
		goto out;
	}
	rc = record_load(dfd, n_json, id, &it, &why);
	if (rc == VG_EIO) {
		e = errno;
		if (e == ENOENT) {
			vg_seterr(err, errlen, "no item %s in %s", id,
				  esc(&e1, qdir));
			rc = VG_EINVAL;
		} else {
			vg_seterr(err, errlen, "cannot read %s/%s: %s",
				  esc(&e1, qdir), n_json, strerror(e));
		}
		goto out;
	}
	if (rc == VG_EMALFORMED) {
		vg_seterr(err, errlen, "%s/%s: bad record (%s): refused",
			  esc(&e1, qdir), n_json, why);
		goto out;
	}
	if (rc != VG_OK) {
		vg_seterr(err, errlen, "out of memory");
		goto out;
	}
	have_it = true;

	/* ID.data, or ID.data.tmp after a crash between the two renames. */
	data_name = n_data;
	datafd = open_data(dfd, n_data, &sb, &unlocked);
	if (datafd < 0 && errno == ENOENT) {
		data_name = n_data_tmp;
		datafd = open_data(dfd, n_data_tmp, &sb, &unlocked);
	}
	if (datafd < 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot open %s/%s: %s", esc(&e1, qdir),
			  n_data, strerror(e));
		rc = e == ENOENT ? VG_EMALFORMED : VG_EIO;
		goto out;
	}
	if ((uint64_t)sb.st_size != it.size) {
		vg_seterr(err, errlen,
			  "%s/%s: %" PRIu64 " bytes, the record says %" PRIu64
			  ": refused",
			  esc(&e1, qdir), data_name, (uint64_t)sb.st_size,
			  it.size);
		rc = VG_EMALFORMED;
		goto out;
	}

	target = dest != NULL ? dest : it.path;
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		vg_seterr(err, errlen, "not a file path: \"%s\"",
			  esc(&e1, target));
		rc = VG_EINVAL;
		goto out;
	}
	dir = parent_dir(target);
	if (dir == NULL) {
		vg_seterr(err, errlen, "out of memory");
		rc = VG_ENOMEM;
		goto out;
	}
	/* A missing folder is not made: the path may be stale or wrong. */
	ddir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ddir < 0) {
		e = errno;
		vg_seterr(err, errlen,
			  "cannot restore %s: cannot open folder %s: %s",
			  esc(&e1, target), esc(&e2, dir), strerror(e));
		rc = VG_EIO;
		goto out;
	}
	/* An early answer; the rename below is what enforces it. */
	if (!overwrite) {
		if (fstatat(ddir, base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			vg_seterr(err, errlen,
				  "%s exists: not overwritten (item %s kept)",
				  esc(&e1, target), id);
			rc = VG_EINVAL;
			goto out;
		}
		if (errno != ENOENT) {
			e = errno;
			vg_seterr(err, errlen, "cannot check %s: %s",
				  esc(&e1, target), strerror(e));
			rc = VG_EIO;
			goto out;
		}
	}

	tfd = create_restore_tmp(ddir, base, tmp);
	if (tfd < 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot create a file in %s: %s",
			  esc(&e1, dir), strerror(e));
		rc = VG_EIO;
		goto out;
	}
	tmp_made = true;
	if (copy_hash(datafd, tfd, it.size + 1, &copied, hex, &werr) != 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot %s %s/%s: %s",
			  werr ? "write" : "read",
			  werr ? esc(&e1, dir) : esc(&e1, qdir),
			  werr ? tmp : data_name, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	if (copied != it.size || strcmp(hex, it.sha256) != 0) {
		vg_seterr(
		    err, errlen,
		    "%s/%s does not match its record (sha256 %s): refused",
		    esc(&e1, qdir), data_name, hex);
		rc = VG_EMALFORMED;
		goto out;
	}
	/*
	 * Owner before mode: chown(2) clears the set-user-ID and
	 * set-group-ID bits. Not root: the file stays the restoring user's.
	 */
	if (fchown(tfd, it.uid, it.gid) != 0 &&
	    (geteuid() == 0 || errno != EPERM)) {
		e = errno;
		vg_seterr(err, errlen, "cannot chown %s/%s: %s", esc(&e1, dir),
			  tmp, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	ts[0] = ns_to_ts(it.atime_ns);
	ts[1] = ns_to_ts(it.mtime_ns);
	if (fchmod(tfd, it.mode) != 0 || futimens(tfd, ts) != 0 ||
	    fsync(tfd) != 0) {
		e = errno;
		vg_seterr(err, errlen, "cannot set up %s/%s: %s", esc(&e1, dir),
			  tmp, strerror(e));
		rc = VG_EIO;
		goto out;
	}
	if (overwrite) {
		r = renameat(ddir, tmp, ddir, base);
	} else {
		r = renameat2(ddir, tmp, ddir, base, RENAME_NOREPLACE);
		if (r != 0 && errno == EINVAL) {
			/* No RENAME_NOREPLACE here: link(2) never replaces. */
			r = linkat(ddir, tmp, ddir, base, 0);
			if (r == 0)
				(void)unlinkat(ddir, tmp, 0);
		}
	}
	if (r != 0) {
		e = errno;
		if (e == EEXIST)
			vg_seterr(err, errlen,
				  "%s exists: not overwritten (item %s kept)",
				  esc(&e1, target), id);
		else
			vg_seterr(err, errlen, "cannot rename %s/%s to %s: %s",
				  esc(&e1, dir), tmp, esc(&e2, target),
				  strerror(e));
		rc = e == EEXIST ? VG_EINVAL : VG_EIO;
		goto out;
	}
	tmp_made = false;
	if (fsync(ddir) != 0) {
		e = errno;
		vg_seterr(
		    err, errlen,
		    "%s restored, but syncing %s failed (%s): item %s kept "
		    "in quarantine",
		    esc(&e1, target), esc(&e2, dir), strerror(e), id);
		rc = VG_EIO;
		goto out;
	}
	/*
	 * dest is durable: remove the item, record first. A crash between
	 * the two leaves a data file without a record, which list ignores,
	 * never a record that cannot be restored.
	 */
	if (unlinkat(dfd, n_json, 0) != 0 || unlinkat(dfd, data_name, 0) != 0 ||
	    fsync(dfd) != 0) {
		e = errno;
		vg_seterr(
		    err, errlen,
		    "%s restored, but item %s cannot be removed from %s: %s",
		    esc(&e1, target), id, esc(&e2, qdir), strerror(e));
		rc = VG_EIO;
		goto out;
	}
	unlocked = false; /* the data file is gone */
	rc = VG_OK;
out:
	if (tfd >= 0)
		(void)close(tfd);
	if (tmp_made)
		(void)unlinkat(ddir, tmp, 0);
	if (ddir >= 0)
		(void)close(ddir);
	if (unlocked && datafd >= 0)
		(void)fchmod(datafd, 0);
	if (datafd >= 0)
		(void)close(datafd);
	if (dfd >= 0)
		(void)close(dfd);
	free(dir);
	if (rc == VG_OK && item_out != NULL)
		*item_out = it;
	else if (have_it)
		vg_quarantine_item_fini(&it);
	return rc;
}
