/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's NDJSON archive (see archive.h for the layout and the
 * locking between collectors sharing a directory).
 *
 * The consumer adds a batch of events, commits (one fsync per file
 * touched), and only then acknowledges the batch to Redis: an event
 * acknowledged is on disk. Compression of old days runs between batches.
 */
#define _GNU_SOURCE /* F_OFD_SETLKW */

#include "archive.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <zlib.h>

#define AGENCY_MAX 64
#define COPY_BUF   (64 * 1024)

struct open_file {
	char agency[AGENCY_MAX + 1];
	char day[11];
	int fd;
};

struct vc_archive {
	char *dir;
	int compress;
	struct open_file files[VC_ARCHIVE_MAX_OPEN];
	unsigned n_files;
};

void
vc_archive_agency_name(char *dst, size_t n, const char *s)
{
	size_t i = 0;

	if (s != NULL && s[0] != '.') {
		for (; s[i] && i < AGENCY_MAX && i + 1 < n; i++) {
			char ch = s[i];

			if (ch >= 'A' && ch <= 'Z')
				ch = (char)(ch - 'A' + 'a');
			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' ||
			      ch == '_' || ch == '-'))
				ch = '_';
			dst[i] = ch;
		}
	}
	dst[i] = '\0';
	if (i == 0)
		snprintf(dst, n, "unknown");
}

/* Exactly w decimal digits at s into *v. */
static int
digits(const char *s, int w, int *v)
{
	*v = 0;
	for (int i = 0; i < w; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
vc_archive_day(char *dst, size_t n, const char *ts)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 1;
	const char *p;
	struct tm tm;
	time_t t;

	if (ts == NULL || strlen(ts) < 19 || digits(ts, 4, &y) ||
	    ts[4] != '-' || digits(ts + 5, 2, &mo) || ts[7] != '-' ||
	    digits(ts + 8, 2, &d) || ts[10] != 'T' || digits(ts + 11, 2, &h) ||
	    ts[13] != ':' || digits(ts + 14, 2, &mi) || ts[16] != ':' ||
	    digits(ts + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	p = ts + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' && p[1] == '\0') {
		/* UTC */
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(p, 2, &oh))
			return -1;
		p += 2;
		if (*p == ':')
			p++;
		if (digits(p, 2, &om) || p[2] != '\0' || oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm) - (time_t)sign * (oh * 3600 + om * 60);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, n, "%Y-%m-%d", &tm) != 10)
		return -1;
	return 0;
}

enum vg_err
vc_archive_open(struct vc_archive **out, const char *dir, int compress,
		char *err, size_t errlen)
{
	struct vc_archive *a;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		vg_seterr(err, errlen, "archive: mkdir %s: %s", dir,
			  strerror(errno));
		return VG_EIO;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL || (a->dir = strdup(dir)) == NULL) {
		free(a);
		return VG_ENOMEM;
	}
	a->compress = compress;
	*out = a;
	return VG_OK;
}

static void
close_all(struct vc_archive *a)
{
	for (unsigned i = 0; i < a->n_files; i++)
		close(a->files[i].fd); /* also drops the flock */
	a->n_files = 0;
}

void
vc_archive_close(struct vc_archive *a)
{
	if (a == NULL)
		return;
	close_all(a);
	free(a->dir);
	free(a);
}

static int path_of(char *dst, size_t n, const char *fmt, ...) VG_PRINTF(3, 4);

/* snprintf for paths: -1 when it does not fit. */
static int
path_of(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

/* Open (create) the day file with a shared lock, not one the compressor
 * has just removed. The fd, or -1 with err written. */
static int
open_day(struct vc_archive *a, const char *agency, const char *day, char *err,
	 size_t errlen)
{
	char sub[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int fd;

	if (path_of(sub, sizeof(sub), "%s/%s", a->dir, agency) < 0 ||
	    path_of(path, sizeof(path), "%s/%s/%s.ndjson", a->dir, agency,
		    day) < 0) {
		vg_seterr(err, errlen, "archive: path too long");
		return -1;
	}
	if (mkdir(sub, 0750) == 0)
		(void)vg_fsync_dir(a->dir);
	else if (errno != EEXIST) {
		vg_seterr(err, errlen, "archive: mkdir %s: %s", sub,
			  strerror(errno));
		return -1;
	}
	for (int tries = 0; tries < 10; tries++) {
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			break;
		if (flock(fd, LOCK_SH) != 0 || fstat(fd, &st) != 0) {
			close(fd);
			fd = -1;
			break;
		}
		if (st.st_nlink > 0) {
			/* A new file's directory entry must survive too. */
			if (st.st_size == 0 && vg_fsync_dir(sub) != 0) {
				close(fd);
				fd = -1;
				break;
			}
			return fd;
		}
		close(fd); /* compressed and removed meanwhile */
	}
	vg_seterr(err, errlen, "archive: %s: %s", path,
		  fd < 0 ? strerror(errno) : "keeps disappearing");
	return -1;
}

/*
 * Appends of all the collectors sharing a file take turns under an
 * open-file-description lock (independent of the flock() that tells the
 * compressor the file is in use; released by the kernel if the holder
 * dies). 0, or -1 with errno.
 */
static int
append_lock(int fd, short type)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_len = 1};
	int rc;

	while ((rc = fcntl(fd, F_OFD_SETLKW, &l)) != 0 && errno == EINTR)
		;
	return rc;
}

/*
 * A collector killed in the middle of a write leaves the file's last line
 * without its newline; the next line appended would be glued to it and
 * both would be lost to readers. End such a line first (under the append
 * lock, so never in the middle of a live writer's line). Its event was
 * not acknowledged, so it comes back and is archived in full.
 */
static enum vg_err
end_torn_line(int fd, char *err, size_t errlen)
{
	struct stat st;
	char last;

	if (fstat(fd, &st) != 0 || st.st_size == 0)
		return VG_OK;
	if (pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n')
		return VG_OK;
	if (write(fd, "\n", 1) != 1) {
		vg_seterr(err, errlen, "archive: ending a torn line: %s",
			  strerror(errno));
		return VG_EIO;
	}
	return VG_OK;
}

enum vg_err
vc_archive_add(struct vc_archive *a, const json_t *ev,
	       const char *stream_agency, const char *line, size_t len,
	       char *err, size_t errlen)
{
	char agency[AGENCY_MAX + 1], day[16];
	const char *ts = json_string_value(json_object_get(ev, "timestamp"));
	struct open_file *f = NULL;
	struct iovec iov[2];
	size_t done = 0, total = len + 1;
	enum vg_err rc;

	vc_archive_agency_name(
	    agency, sizeof(agency),
	    stream_agency ? stream_agency
			  : json_string_value(json_object_get(
				json_object_get(ev, "vigil"), "agency")));
	if (vc_archive_day(day, sizeof(day), ts) != 0) {
		/* No usable time: the day it arrived. */
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	}
	for (unsigned i = 0; i < a->n_files; i++)
		if (strcmp(a->files[i].agency, agency) == 0 &&
		    strcmp(a->files[i].day, day) == 0)
			f = &a->files[i];
	if (f == NULL) {
		if (a->n_files == VC_ARCHIVE_MAX_OPEN) {
			/* Many files in one batch: make room early. */
			rc = vc_archive_commit(a, err, errlen);
			if (rc != VG_OK)
				return rc;
		}
		f = &a->files[a->n_files];
		f->fd = open_day(a, agency, day, err, errlen);
		if (f->fd < 0)
			return VG_EIO;
		memcpy(f->agency, agency, sizeof(agency));
		memcpy(f->day, day, sizeof(f->day));
		a->n_files++;
	}
	if (append_lock(f->fd, F_WRLCK) != 0) {
		vg_seterr(err, errlen, "archive: locking %s/%s: %s", agency,
			  day, strerror(errno));
		return VG_EIO;
	}
	rc = end_torn_line(f->fd, err, errlen);
	/* One write of the whole line, so a reader sees whole lines. */
	while (rc == VG_OK && done < total) {
		ssize_t w;

		if (done < len) {
			iov[0].iov_base = (void *)(uintptr_t)(line + done);
			iov[0].iov_len = len - done;
			iov[1].iov_base = (void *)(uintptr_t) "\n";
			iov[1].iov_len = 1;
			w = writev(f->fd, iov, 2);
		} else
			w = write(f->fd, "\n", 1);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			vg_seterr(err, errlen, "archive: write %s/%s: %s",
				  agency, day, strerror(errno));
			rc = VG_EIO;
			break;
		}
		done += (size_t)w;
	}
	(void)append_lock(f->fd, F_UNLCK);
	return rc;
}

enum vg_err
vc_archive_commit(struct vc_archive *a, char *err, size_t errlen)
{
	enum vg_err rc = VG_OK;

	for (unsigned i = 0; i < a->n_files; i++)
		if (fsync(a->files[i].fd) != 0 && rc == VG_OK) {
			vg_seterr(err, errlen, "archive: fsync %s/%s: %s",
				  a->files[i].agency, a->files[i].day,
				  strerror(errno));
			rc = VG_EIO;
		}
	close_all(a);
	return rc;
}

/* Is name "YYYY-MM-DD.ndjson"? Copies the day to day. */
static int
plain_day(const char *name, char *day)
{
	int v;

	if (strlen(name) != 17 || strcmp(name + 10, ".ndjson") != 0 ||
	    digits(name, 4, &v) || name[4] != '-' || digits(name + 5, 2, &v) ||
	    name[7] != '-' || digits(name + 8, 2, &v))
		return 0;
	memcpy(day, name, 10);
	day[10] = '\0';
	return 1;
}

/* Compress sub/day.ndjson into sub/day.ndjson.gz: 1 done, 0 skipped (a
 * writer holds it), -1 failed (logged). */
static int
compress_one(const char *sub, const char *day)
{
	char path[PATH_MAX], gzpath[PATH_MAX], *buf = NULL;
	int fd = -1, gfd = -1, rc = -1;
	gzFile gz = NULL;
	ssize_t n;

	if (path_of(path, sizeof(path), "%s/%s.ndjson", sub, day) < 0 ||
	    path_of(gzpath, sizeof(gzpath), "%s/%s.ndjson.gz", sub, day) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? 0 : -1;
		goto out;
	}
	buf = malloc(COPY_BUF);
	gfd = open(gzpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (buf == NULL || gfd < 0)
		goto out;
	/* Appending makes a second gzip member, which gunzip and zcat
	 * read as one stream. */
	gz = gzdopen(dup(gfd), "ab");
	if (gz == NULL)
		goto out;
	while ((n = read(fd, buf, COPY_BUF)) > 0)
		if (gzwrite(gz, buf, (unsigned)n) != (int)n)
			goto out;
	if (n < 0)
		goto out;
	if (gzclose(gz) != Z_OK) {
		gz = NULL;
		goto out;
	}
	gz = NULL;
	if (fsync(gfd) != 0 || unlink(path) != 0 || vg_fsync_dir(sub) != 0)
		goto out;
	rc = 1;
out:
	if (rc < 0)
		vg_log(LOG_ERR, "archive: compressing %s failed: %s", path,
		       strerror(errno));
	if (gz)
		(void)gzclose(gz);
	if (gfd >= 0)
		close(gfd);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

unsigned
vc_archive_compact(struct vc_archive *a)
{
	char sub[PATH_MAX], day[11], yesterday[16];
	time_t t = time(NULL) - 86400;
	struct dirent *e, *f;
	unsigned done = 0;
	DIR *top, *d;
	struct tm tm;

	if (!a->compress)
		return 0;
	gmtime_r(&t, &tm);
	strftime(yesterday, sizeof(yesterday), "%Y-%m-%d", &tm);
	top = opendir(a->dir);
	if (top == NULL) {
		vg_log(LOG_ERR, "archive: %s: %s", a->dir, strerror(errno));
		return 0;
	}
	while ((e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (path_of(sub, sizeof(sub), "%s/%s", a->dir, e->d_name) < 0)
			continue;
		d = opendir(sub);
		if (d == NULL)
			continue;
		while ((f = readdir(d)) != NULL)
			/* ISO days compare as strings. */
			if (plain_day(f->d_name, day) &&
			    strcmp(day, yesterday) < 0 &&
			    compress_one(sub, day) == 1)
				done++;
		closedir(d);
	}
	closedir(top);
	if (done)
		vg_log(LOG_INFO, "archive: compressed %u day files", done);
	return done;
}
