/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/spool.c, on real files in a mkdtemp() directory:
 * the bytes on disk (segment and position formats, CRC32C vectors), round
 * trips across segment rollover with acknowledged segments deleted, only
 * durable records handed out, restarts, a child killed with SIGKILL while
 * appending (no loss of what was synced), torn tails and every prefix of a
 * segment, corrupt records (at open and after), garbage and empty files,
 * the size bound, large records, four producer threads and a reader, a
 * full disk.
 */
#define _GNU_SOURCE /* asprintf */

#include "spool.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN  1024
#define SEG_HDR 16
#define REC_HDR 8
#define POS_LEN 36

static char tmpdir[PATH_MAX];
static char mounted[PATH_MAX]; /* a tmpfs mounted by a test, or "" */

/* Say why, then skip the test (cmocka's skip() takes no message). */
#define skip_because(why)                                                      \
	do {                                                                   \
		print_message("[   SKIP   ] %s\n", (why));                     \
		skip();                                                        \
		return;                                                        \
	} while (0)

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/vg_test_spool_XXXXXX",
		 t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (mounted[0] != '\0')
		(void)umount2(mounted, MNT_DETACH);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A path for a spool folder of one test (owned; not created). */
static char *
spool_dir(const char *name)
{
	return strf("%s/%s", tmpdir, name);
}

static struct vg_spool *
open_spool(const char *dir, uint64_t max, uint64_t seg, unsigned sync_ms)
{
	struct vg_spool_opts o = {dir, max, seg, sync_ms};
	struct vg_spool *s = NULL;
	char err[ERRLEN];
	enum vg_err rc;

	rc = vg_spool_open(&s, &o, err, sizeof(err));
	assert_ok(rc, err);
	assert_non_null(s);
	return s;
}

static struct vg_spool_stats
stats(struct vg_spool *s)
{
	struct vg_spool_stats st;

	vg_spool_stats(s, &st);
	return st;
}

/*
 * The payload of the record with sequence number seq in most tests: a
 * JSON-ish line whose length varies with seq (21 to 81 bytes).
 */
static size_t
payload(uint64_t seq, char *buf, size_t cap)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyz0123456789"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int n = snprintf(buf, cap, "{\"seq\":%" PRIu64 ",\"pad\":\"%.*s\"}",
			 seq, (int)((seq * 7) % 61), pad);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* Append payload(want); it must get sequence number want. */
static void
append_seq(struct vg_spool *s, uint64_t want)
{
	char buf[128];
	size_t n = payload(want, buf, sizeof(buf));
	uint64_t seq = 0;

	assert_int_equal(vg_spool_append(s, buf, n, &seq), VG_OK);
	assert_int_equal(seq, want);
}

static void
append_range(struct vg_spool *s, uint64_t from, uint64_t to)
{
	uint64_t i;

	for (i = from; i <= to; i++)
		append_seq(s, i);
}

/* r is record payload(r->seq). */
static void
assert_payload(const struct vg_spool_rec *r)
{
	char buf[128];
	size_t n = payload(r->seq, buf, sizeof(buf));

	assert_int_equal(r->len, n);
	assert_memory_equal(r->data, buf, n);
}

/*
 * Peek and acknowledge, batch by batch (max at a time): the records must
 * be payload(seq) for exactly the n sequence numbers want[], in order;
 * with all, nothing may be left after them.
 */
static void
read_list(struct vg_spool *s, const uint64_t *want, size_t n, size_t max,
	  bool all)
{
	struct vg_spool_rec recs[64];
	size_t got = 0, k, i;

	assert_true(max <= 64);
	while (got < n) {
		size_t ask = n - got < max ? n - got : max;

		assert_int_equal(vg_spool_peek(s, recs, ask, &k), VG_OK);
		assert_true(k > 0);
		for (i = 0; i < k; i++) {
			assert_int_equal(recs[i].seq, want[got]);
			assert_payload(&recs[i]);
			got++;
		}
		assert_int_equal(vg_spool_ack(s, recs[k - 1].seq), VG_OK);
	}
	if (all) {
		assert_int_equal(vg_spool_peek(s, recs, 64, &k), VG_OK);
		if (k > 0)
			print_error("left: %" PRIu64 "\n", recs[0].seq);
		assert_int_equal(k, 0);
	}
}

static void
expect_list(struct vg_spool *s, const uint64_t *want, size_t n, size_t max)
{
	read_list(s, want, n, max, true);
}

/* read_list for from..to. */
static void
read_range(struct vg_spool *s, uint64_t from, uint64_t to, size_t max, bool all)
{
	uint64_t *want = NULL;
	size_t n = to >= from ? (size_t)(to - from + 1) : 0, i;

	if (n > 0) {
		want = calloc(n, sizeof(*want));
		assert_non_null(want);
	}
	for (i = 0; i < n; i++)
		want[i] = from + i;
	read_list(s, want, n, max, all);
	free(want);
}

/* Exactly from..to are left; read and acknowledge them all. */
static void
expect_range(struct vg_spool *s, uint64_t from, uint64_t to, size_t max)
{
	read_range(s, from, to, max, true);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* The whole file (owned), its length in *n. */
static unsigned char *
read_file(const char *path, size_t *n)
{
	struct stat sb;
	unsigned char *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	p = malloc((size_t)sb.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)sb.st_size + 1), sb.st_size);
	assert_int_equal(close(fd), 0);
	*n = (size_t)sb.st_size;
	return p;
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* Overwrite one byte of a file at off. */
static void
poke(const char *path, off_t off, unsigned char b)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	assert_int_equal(close(fd), 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .seg files of dir, sorted (owned array of owned names). */
static char **
segments(const char *dir, size_t *n)
{
	char **v = NULL;
	struct dirent *de;
	size_t k = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 4 || strcmp(de->d_name + l - 4, ".seg") != 0)
			continue;
		v = realloc(v, (k + 1) * sizeof(*v));
		assert_non_null(v);
		v[k] = strdup(de->d_name);
		assert_non_null(v[k]);
		k++;
	}
	assert_int_equal(closedir(d), 0);
	if (k > 0)
		qsort(v, k, sizeof(*v), name_cmp);
	*n = k;
	return v;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static size_t
count_segments(const char *dir)
{
	size_t n;
	char **v = segments(dir, &n);

	free_names(v, n);
	return n;
}

/* The path of the i-th segment of dir (owned). */
static char *
segment_path(const char *dir, size_t i)
{
	size_t n;
	char **v = segments(dir, &n);
	char *p;

	assert_true(i < n);
	p = strf("%s/%s", dir, v[i]);
	free_names(v, n);
	return p;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	int i;

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

/* A position file naming (id, off, seq), with a valid CRC. */
static void
write_position(const char *dir, uint64_t id, uint64_t off, uint64_t seq)
{
	unsigned char b[POS_LEN];
	char *path = strf("%s/position", dir);

	memcpy(b, "VGSPPOS1", 8);
	put_le64(b + 8, id);
	put_le64(b + 16, off);
	put_le64(b + 24, seq);
	put_le32(b + 32, vg_spool_crc32c(b, 32));
	write_file(path, b, sizeof(b));
	free(path);
}

static void
random_bytes(void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0) {
		ssize_t r = getrandom(c, n, 0);

		assert_true(r > 0);
		c += r;
		n -= (size_t)r;
	}
}

/* Open must fail with rc, err naming what. */
static void
open_fails(const char *dir, enum vg_err want, const char *what)
{
	struct vg_spool_opts o = {dir, 0, 0, 0};
	struct vg_spool *s = (struct vg_spool *)(uintptr_t)1; /* reset? */
	char err[ERRLEN];

	assert_int_equal(vg_spool_open(&s, &o, err, sizeof(err)), want);
	assert_null(s);
	assert_contains(err, what);
}

/* ------------------------------------------------------------------ */
/* Format                                                              */
/* ------------------------------------------------------------------ */

/* Bit by bit, as a reference for the table-driven one. */
static uint32_t
crc32c_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static void
test_crc32c(void **state)
{
	unsigned char b[32], big[4099];
	size_t i;

	(void)state;
	/* RFC 3720 B.4 and the usual check value. */
	assert_int_equal(vg_spool_crc32c("123456789", 9), 0xe3069283u);
	memset(b, 0, sizeof(b));
	assert_int_equal(vg_spool_crc32c(b, 32), 0x8a9136aau);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(vg_spool_crc32c(b, 32), 0x62a8ab43u);
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	assert_int_equal(vg_spool_crc32c(b, 32), 0x46dd794eu);
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	assert_int_equal(vg_spool_crc32c(b, 32), 0x113fdb5cu);
	assert_int_equal(vg_spool_crc32c("", 0), 0);
	/* Every length and alignment against the bitwise version. */
	random_bytes(big, sizeof(big));
	for (i = 0; i < 64; i++) {
		assert_int_equal(vg_spool_crc32c(big + i, sizeof(big) - i),
				 crc32c_bitwise(big + i, sizeof(big) - i));
		assert_int_equal(vg_spool_crc32c(big, i),
				 crc32c_bitwise(big, i));
	}
}

/* The bytes on disk are the documented format. */
static void
test_format(void **state)
{
	char *dir = spool_dir("format"), *seg, *pos;
	unsigned char *b;
	struct stat sb;
	struct vg_spool *s;
	uint64_t seq = 0;
	size_t n, i;

	(void)state;
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(vg_spool_append(s, "hello", 5, &seq), VG_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(vg_spool_append(s, "{\"a\":1}", 7, NULL), VG_OK);
	vg_spool_close(s);

	assert_int_equal(count_segments(dir), 1);
	seg = strf("%s/0000000000000001.seg", dir);
	b = read_file(seg, &n);
	assert_int_equal(n, SEG_HDR + REC_HDR + 5 + REC_HDR + 7);
	assert_memory_equal(b, "VGSPOOL1", 8);
	assert_int_equal(get_le64(b + 8), 1);
	assert_int_equal(get_le32(b + 16), 5);
	assert_int_equal(get_le32(b + 20), crc32c_bitwise((void *)"hello", 5));
	assert_memory_equal(b + 24, "hello", 5);
	assert_int_equal(get_le32(b + 29), 7);
	assert_int_equal(get_le32(b + 33),
			 crc32c_bitwise((void *)"{\"a\":1}", 7));
	assert_memory_equal(b + 37, "{\"a\":1}", 7);
	free(b);

	/* The position: nothing read yet, first record of segment 1. */
	pos = strf("%s/position", dir);
	b = read_file(pos, &n);
	assert_int_equal(n, POS_LEN);
	assert_memory_equal(b, "VGSPPOS1", 8);
	assert_int_equal(get_le64(b + 8), 1);
	assert_int_equal(get_le64(b + 16), SEG_HDR);
	assert_int_equal(get_le64(b + 24), 1);
	assert_int_equal(get_le32(b + 32), crc32c_bitwise(b, 32));
	free(b);

	/* Read one, close: the position moves past it. */
	s = open_spool(dir, 0, 0, 0);
	{
		struct vg_spool_rec r;

		assert_int_equal(vg_spool_peek(s, &r, 1, &n), VG_OK);
		assert_int_equal(n, 1);
		assert_int_equal(r.seq, 1);
		assert_int_equal(r.len, 5);
		assert_memory_equal(r.data, "hello", 5);
		assert_int_equal(vg_spool_ack(s, 1), VG_OK);
	}
	vg_spool_close(s);
	b = read_file(pos, &n);
	assert_int_equal(n, POS_LEN);
	assert_int_equal(get_le64(b + 8), 1);
	assert_int_equal(get_le64(b + 16), SEG_HDR + REC_HDR + 5);
	assert_int_equal(get_le64(b + 24), 2);
	assert_int_equal(get_le32(b + 32), crc32c_bitwise(b, 32));
	free(b);
	/* Only our files. */
	{
		DIR *d = opendir(dir);
		struct dirent *de;

		assert_non_null(d);
		i = 0;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			assert_true(
			    strcmp(de->d_name, "position") == 0 ||
			    strcmp(de->d_name, "0000000000000001.seg") == 0);
			i++;
		}
		assert_int_equal(closedir(d), 0);
		assert_int_equal(i, 2);
	}
	free(pos);
	free(seg);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_round_trip(void **state)
{
	char *dir = spool_dir("round");
	struct vg_spool_rec a[256], b[256];
	struct vg_spool_stats st;
	struct vg_spool *s;
	size_t n, m, i;

	(void)state;
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(vg_spool_wait(s, 10), VG_EAGAIN);
	assert_int_equal(vg_spool_peek(s, a, 256, &n), VG_OK);
	assert_int_equal(n, 0);
	append_range(s, 1, 100);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_wait(s, 10), VG_OK);

	assert_int_equal(vg_spool_peek(s, a, 3, &n), VG_OK);
	assert_int_equal(n, 3);
	assert_int_equal(vg_spool_peek(s, a, 256, &n), VG_OK);
	assert_int_equal(n, 100);
	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].seq, i + 1);
		assert_payload(&a[i]);
	}
	/* The same again (a's data is no longer valid: borrowed). */
	assert_int_equal(vg_spool_peek(s, b, 256, &m), VG_OK);
	assert_int_equal(m, 100);
	for (i = 0; i < m; i++) {
		assert_int_equal(b[i].seq, a[i].seq);
		assert_int_equal(b[i].len, a[i].len);
		assert_payload(&b[i]);
	}
	st = stats(s);
	assert_int_equal(st.appended, 100);
	assert_int_equal(st.pending_records, 100);
	assert_int_equal(st.durable_seq, 100);
	assert_int_equal(st.read_seq, 1);
	assert_int_equal(st.segments, 1);
	assert_true(st.fsyncs >= 1);
	assert_int_equal(st.pending_bytes, st.bytes - SEG_HDR);

	/* Past both the durable and the peeked ones: refused, no move. */
	assert_int_equal(vg_spool_ack(s, 101), VG_EINVAL);
	assert_int_equal(stats(s).read_seq, 1);
	assert_int_equal(vg_spool_ack(s, 50), VG_OK);
	assert_int_equal(vg_spool_ack(s, 20), VG_OK); /* behind: a no-op */
	st = stats(s);
	assert_int_equal(st.acked, 50);
	assert_int_equal(st.read_seq, 51);
	assert_int_equal(st.pending_records, 50);
	expect_range(s, 51, 100, 7);
	st = stats(s);
	assert_int_equal(st.acked, 100);
	assert_int_equal(st.pending_records, 0);
	assert_int_equal(st.pending_bytes, 0);
	assert_int_equal(st.read_seq, 101);
	assert_int_equal(st.torn + st.corrupt + st.full_drops + st.io_errors,
			 0);
	assert_int_equal(vg_spool_wait(s, 10), VG_EAGAIN);

	/* Bad arguments. */
	assert_int_equal(vg_spool_append(s, "x", 0, NULL), VG_EINVAL);
	assert_int_equal(vg_spool_append(s, NULL, 1, NULL), VG_EINVAL);
	assert_int_equal(vg_spool_append(NULL, "x", 1, NULL), VG_EINVAL);
	assert_int_equal(vg_spool_peek(s, NULL, 1, &n), VG_EINVAL);
	assert_int_equal(vg_spool_peek(NULL, a, 1, &n), VG_EINVAL);
	assert_int_equal(vg_spool_peek(s, a, 0, &n), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(vg_spool_sync(NULL), VG_EINVAL);
	assert_int_equal(vg_spool_ack(NULL, 1), VG_EINVAL);
	assert_int_equal(vg_spool_wait(NULL, 1), VG_EINVAL);
	vg_spool_stats(NULL, &st);
	assert_int_equal(st.appended, 0);
	vg_spool_close(s);
	vg_spool_close(NULL);
	free(dir);
}

/* Order across many segments; acknowledged ones are deleted. */
static void
test_rollover(void **state)
{
	char *dir = spool_dir("rollover"), **names, *path;
	struct vg_spool_stats st;
	struct vg_spool *s;
	unsigned char *b;
	size_t n, i, len;
	uint64_t prev = 0;

	(void)state;
	s = open_spool(dir, 0, 4096, 0);
	append_range(s, 1, 1000);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	names = segments(dir, &n);
	assert_true(n >= 15);
	assert_int_equal(stats(s).segments, n);
	for (i = 0; i < n; i++) {
		uint64_t id;

		path = strf("%s/%s", dir, names[i]);
		b = read_file(path, &len);
		/* Named after its first record, which it holds. */
		assert_int_equal(sscanf(names[i], "%16" SCNx64, &id), 1);
		assert_true(id > prev);
		prev = id;
		assert_int_equal(get_le64(b + 8), id);
		assert_true(len > SEG_HDR);
		if (i + 1 < n)
			assert_true(len <= 4096);
		if (i == 0)
			assert_int_equal(id, 1);
		{
			char want[128];
			size_t wl = payload(id, want, sizeof(want));

			assert_int_equal(get_le32(b + SEG_HDR), wl);
			assert_memory_equal(b + SEG_HDR + REC_HDR, want, wl);
		}
		free(b);
		free(path);
	}
	free_names(names, n);

	read_range(s, 1, 500, 7, false);
	/* The segments before the read position are gone. */
	assert_true(count_segments(dir) < n / 2 + 2);
	expect_range(s, 501, 1000, 64);
	assert_int_equal(count_segments(dir), 1);
	st = stats(s);
	assert_int_equal(st.segments, 1);
	path = segment_path(dir, 0);
	assert_int_equal(st.bytes, (uint64_t)file_size(path));
	free(path);
	assert_int_equal(st.pending_records, 0);

	/* Appends go on; a restart keeps the numbers. */
	append_range(s, 1001, 1100);
	vg_spool_close(s);
	s = open_spool(dir, 0, 4096, 0);
	expect_range(s, 1001, 1100, 64);
	append_range(s, 1101, 1101);
	vg_spool_close(s);
	free(dir);
}

/* Only durable records are handed out. */
static void
test_durable_only(void **state)
{
	char *dir = spool_dir("durable"), *dir2 = spool_dir("durable2");
	struct vg_spool_rec r[8];
	struct vg_spool *s;
	size_t n;

	(void)state;
	s = open_spool(dir, 0, 0, 10000);
	append_range(s, 1, 3);
	assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(vg_spool_wait(s, 20), VG_EAGAIN);
	assert_int_equal(stats(s).durable_seq, 0);
	assert_int_equal(stats(s).pending_records, 3);
	assert_int_equal(vg_spool_ack(s, 1), VG_EINVAL); /* not durable */
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(stats(s).durable_seq, 3);
	append_range(s, 4, 4);
	assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
	assert_int_equal(n, 3);
	assert_int_equal(r[2].seq, 3);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_sync(s), VG_OK); /* nothing new: at once */
	expect_range(s, 1, 4, 8);
	vg_spool_close(s);

	/* The background thread syncs on its own (within 20 ms here; no
	 * timing is asserted, only that it happens). */
	s = open_spool(dir2, 0, 0, 20);
	append_range(s, 1, 1);
	assert_int_equal(vg_spool_wait(s, 60000), VG_OK);
	assert_int_equal(stats(s).durable_seq, 1);
	expect_range(s, 1, 1, 8);
	vg_spool_close(s);
	free(dir2);
	free(dir);
}

/* Close and reopen: unacknowledged records come back, acknowledged not. */
static void
test_restart(void **state)
{
	char *dir = spool_dir("restart"), *pos;
	struct vg_spool_rec r[16];
	struct vg_spool_stats st;
	struct vg_spool *s;
	unsigned char *b;
	size_t n;
	int i;

	(void)state;
	s = open_spool(dir, 0, 0, 0);
	append_range(s, 1, 10);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_peek(s, r, 16, &n), VG_OK);
	assert_int_equal(n, 10);
	assert_int_equal(vg_spool_ack(s, 4), VG_OK);
	vg_spool_close(s);

	s = open_spool(dir, 0, 0, 0);
	st = stats(s);
	assert_int_equal(st.read_seq, 5);
	assert_int_equal(st.durable_seq, 10);
	assert_int_equal(st.pending_records, 6);
	assert_int_equal(st.torn + st.corrupt, 0);
	assert_int_equal(vg_spool_wait(s, 0), VG_OK);
	assert_int_equal(vg_spool_peek(s, r, 16, &n), VG_OK);
	assert_int_equal(n, 6);
	assert_int_equal(r[0].seq, 5);
	append_range(s, 11, 11);
	vg_spool_close(s);

	s = open_spool(dir, 0, 0, 0);
	expect_range(s, 5, 11, 3);
	vg_spool_close(s);
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(vg_spool_peek(s, r, 16, &n), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(stats(s).read_seq, 12);
	append_range(s, 12, 12);
	vg_spool_close(s);

	/* The position is persisted within sync_ms, not only on close. */
	s = open_spool(dir, 0, 0, 20);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_peek(s, r, 16, &n), VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(vg_spool_ack(s, 12), VG_OK);
	pos = strf("%s/position", dir);
	for (i = 0; i < 6000; i++) {
		b = read_file(pos, &n);
		assert_int_equal(n, POS_LEN);
		if (get_le64(b + 24) == 13) {
			free(b);
			break;
		}
		free(b);
		usleep(10000);
	}
	assert_true(i < 6000);
	vg_spool_close(s);
	free(pos);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Crashes and damage                                                  */
/* ------------------------------------------------------------------ */

struct report {
	uint64_t synced; /* every record up to this one is durable */
	uint64_t acked;  /* every record up to this one was acknowledged */
};

/*
 * The child: append payload(i) for ever, syncing every 37 records and
 * reporting the last synced sequence number; every 111, peek and
 * acknowledge a batch too (reported as acknowledged just before), so that
 * the position moves. No cmocka here: exit codes.
 */
static void
crash_child(const char *dir, int wfd)
{
	struct vg_spool_opts o = {dir, 0, 64 * 1024, 50};
	struct vg_spool *s = NULL;
	struct vg_spool_rec r[64];
	struct report rep = {0, 0};
	char err[ERRLEN], buf[128];
	uint64_t i, seq;
	size_t n;

	if (vg_spool_open(&s, &o, err, sizeof(err)) != VG_OK)
		_exit(2);
	for (i = 1;; i++) {
		n = payload(i, buf, sizeof(buf));
		if (vg_spool_append(s, buf, n, &seq) != VG_OK || seq != i)
			_exit(3);
		if (i % 37 != 0)
			continue;
		if (vg_spool_sync(s) != VG_OK)
			_exit(4);
		rep.synced = i;
		n = 0;
		if (i % 111 == 0 && vg_spool_peek(s, r, 64, &n) != VG_OK)
			_exit(5);
		if (n > 0)
			rep.acked = r[n - 1].seq;
		/* Reported before it is done: the parent's bound is safe
		 * whenever the kill comes. */
		if (write(wfd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
			_exit(7);
		if (n > 0 && vg_spool_ack(s, r[n - 1].seq) != VG_OK)
			_exit(6);
	}
}

static void
test_crash(void **state)
{
	char *dir = spool_dir("crash");
	struct vg_spool_rec r[64];
	struct report rep = {0, 0}, got;
	struct vg_spool_stats st;
	struct vg_spool *s;
	uint64_t expect, first = 0;
	int p[2], status, reports = 0;
	size_t n, i;
	ssize_t k;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)close(p[0]);
		crash_child(dir, p[1]);
	}
	assert_int_equal(close(p[1]), 0);
	/* Let it run well past several rollovers, then kill it mid-stream. */
	while (rep.synced < 6000) {
		k = read(p[0], &got, sizeof(got));
		assert_int_equal(k, (ssize_t)sizeof(got));
		rep = got;
		reports++;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	while ((k = read(p[0], &got, sizeof(got))) == (ssize_t)sizeof(got))
		rep = got;
	assert_int_equal(k, 0);
	assert_int_equal(close(p[0]), 0);
	assert_true(rep.acked > 0);

	s = open_spool(dir, 0, 64 * 1024, 50);
	st = stats(s);
	assert_true(st.torn <= 1);
	assert_int_equal(st.corrupt, 0);
	/* Nothing unacknowledged skipped; acknowledged may come back. */
	assert_true(st.read_seq <= rep.acked + 1);
	assert_true(st.durable_seq >= rep.synced);
	expect = st.read_seq;
	for (;;) {
		assert_int_equal(vg_spool_peek(s, r, 64, &n), VG_OK);
		if (n == 0)
			break;
		if (first == 0)
			first = r[0].seq;
		for (i = 0; i < n; i++) {
			assert_int_equal(r[i].seq, expect);
			assert_payload(&r[i]);
			expect++;
		}
		assert_int_equal(vg_spool_ack(s, r[n - 1].seq), VG_OK);
	}
	assert_true(first <= rep.acked + 1);
	/* Every synced record, once each, in order, intact. */
	assert_true(expect - 1 >= rep.synced);
	/* New appends come after everything found. */
	append_seq(s, expect);
	vg_spool_close(s);
	print_message(
	    "crash: %d reports, synced %" PRIu64 ", acked %" PRIu64
	    ", found up to %" PRIu64 " from %" PRIu64 ", torn %" PRIu64 "\n",
	    reports, rep.synced, rep.acked, expect - 1, first, st.torn);
	free(dir);
}

/* Ten records, closed: the path of the segment and each record's end. */
static char *
ten_records(const char *dir, off_t ends[11])
{
	struct vg_spool *s = open_spool(dir, 0, 0, 0);
	char *seg, buf[128];
	int i;

	append_range(s, 1, 10);
	vg_spool_close(s);
	seg = strf("%s/0000000000000001.seg", dir);
	ends[0] = SEG_HDR;
	for (i = 1; i <= 10; i++)
		ends[i] = ends[i - 1] + REC_HDR +
			  (off_t)payload((uint64_t)i, buf, sizeof(buf));
	assert_int_equal(file_size(seg), ends[10]);
	return seg;
}

/* A segment cut 3 bytes short: the last record is torn. */
static void
test_torn_tail(void **state)
{
	char *dir = spool_dir("torn"), *seg;
	struct vg_spool_stats st;
	struct vg_spool *s;
	off_t ends[11];

	(void)state;
	seg = ten_records(dir, ends);
	assert_int_equal(truncate(seg, ends[10] - 3), 0);
	s = open_spool(dir, 0, 0, 0);
	st = stats(s);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.corrupt, 0);
	assert_int_equal(st.durable_seq, 9);
	/* Cut back to the last good record, so appends continue cleanly. */
	assert_int_equal(file_size(seg), ends[9]);
	append_range(s, 10, 12);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	expect_range(s, 1, 12, 5);
	vg_spool_close(s);
	/* And the repaired file reads clean. */
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).torn, 0);
	assert_int_equal(stats(s).read_seq, 13);
	vg_spool_close(s);
	free(seg);
	free(dir);
}

/* Every prefix of a segment opens: whole records are kept. */
static void
test_every_prefix(void **state)
{
	char *dir = spool_dir("prefix-src"), *seg, *d, *p;
	unsigned char *bytes;
	size_t len, cut;
	off_t ends[11];
	int k;

	(void)state;
	seg = ten_records(dir, ends);
	bytes = read_file(seg, &len);
	for (cut = 0; cut <= (size_t)ends[4]; cut++) {
		struct vg_spool_stats st;
		struct vg_spool *s;
		bool boundary = false;
		uint64_t whole = 0;

		d = strf("%s/prefix-%zu", tmpdir, cut);
		assert_int_equal(mkdir(d, 0700), 0);
		p = strf("%s/0000000000000001.seg", d);
		write_file(p, bytes, cut);
		for (k = 0; k <= 10; k++) {
			if ((size_t)ends[k] == cut)
				boundary = true;
			if (k > 0 && (size_t)ends[k] <= cut)
				whole++;
		}
		s = open_spool(d, 0, 0, 0);
		st = stats(s);
		/*
		 * The whole records are kept; torn unless cut at a record's
		 * end (shorter than the header: an unfinished segment).
		 */
		assert_int_equal(st.torn, boundary ? 0 : 1);
		assert_int_equal(st.corrupt, 0);
		assert_int_equal(st.durable_seq, whole);
		expect_range(s, 1, whole, 64);
		append_seq(s, whole + 1);
		vg_spool_close(s);
		assert_int_equal(nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
		free(p);
		free(d);
	}
	free(bytes);
	free(seg);
	free(dir);
}

/* A flipped payload byte: that record is corrupt, the others are read. */
static void
test_corrupt_record(void **state)
{
	char *dir = spool_dir("corrupt"), *seg;
	static const uint64_t want[] = {2, 4, 5, 6, 7, 8, 9, 10};
	struct vg_spool_rec r[16], r2[16];
	struct vg_spool_stats st;
	struct vg_spool *s;
	off_t ends[11];
	size_t n, m, i;

	(void)state;
	seg = ten_records(dir, ends);
	poke(seg, ends[0] + REC_HDR + 3, 'X'); /* record 1, at the position */
	poke(seg, ends[2] + REC_HDR + 5, 'Y'); /* record 3 */
	s = open_spool(dir, 0, 0, 0);
	st = stats(s);
	assert_int_equal(st.corrupt, 2);
	assert_int_equal(st.torn, 0);
	assert_int_equal(vg_spool_peek(s, r, 16, &n), VG_OK);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].seq, want[i]);
		assert_payload(&r[i]);
	}
	/* Record 1 was at the read position: it moved past it. */
	assert_int_equal(stats(s).read_seq, 2);
	assert_int_equal(vg_spool_peek(s, r2, 16, &m), VG_OK);
	assert_int_equal(m, 8);
	for (i = 0; i < m; i++) {
		assert_int_equal(r2[i].seq, want[i]);
		assert_payload(&r2[i]);
	}
	assert_int_equal(stats(s).corrupt, 2); /* counted once */
	expect_list(s, want, 8, 3);
	vg_spool_close(s);
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).corrupt, 0); /* behind the position now */
	vg_spool_close(s);

	/* Damage after open, below the durable end: seen by peek. */
	s = open_spool(dir, 0, 0, 10000);
	append_range(s, 11, 13);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	{
		char buf[128];
		off_t at = ends[10] + REC_HDR +
			   (off_t)payload(11, buf, sizeof(buf)) + REC_HDR;

		poke(seg, at, 'Z'); /* record 12 */
	}
	{
		static const uint64_t w[] = {11, 13};

		expect_list(s, w, 2, 16);
	}
	assert_int_equal(stats(s).corrupt, 1);
	vg_spool_close(s);
	free(seg);
	free(dir);
}

/*
 * A segment cut by someone else while open, below its durable end: what
 * is left is read, the rest is skipped and counted once, the reader is
 * never stuck.
 */
static void
test_cut_while_open(void **state)
{
	char *dir = spool_dir("cut"), *seg;
	struct vg_spool_rec r[8];
	struct vg_spool_stats st;
	struct vg_spool *s;
	off_t ends[11];
	size_t n;

	(void)state;
	seg = ten_records(dir, ends);
	s = open_spool(dir, 0, 0, 10000);
	assert_int_equal(truncate(seg, ends[5] + 3), 0);
	read_range(s, 1, 5, 64, false);
	assert_int_equal(stats(s).torn, 0);
	assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
	assert_int_equal(n, 0);
	st = stats(s);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.io_errors, 0);
	assert_int_equal(st.read_seq, 11);
	assert_int_equal(vg_spool_wait(s, 0), VG_EAGAIN);
	append_range(s, 11, 11);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	expect_range(s, 11, 11, 64);
	assert_int_equal(stats(s).torn, 1);
	vg_spool_close(s);
	free(seg);
	free(dir);
}

/*
 * An impossible length in the middle of an older segment: the rest of it
 * is torn, the records of the newer segments keep their numbers.
 */
static void
test_bad_length(void **state)
{
	char *dir = spool_dir("badlen"), *seg, buf[128];
	uint64_t *want, first2, i, n = 0;
	struct vg_spool_stats st;
	struct vg_spool *s;
	size_t nseg;
	off_t off;

	(void)state;
	s = open_spool(dir, 0, 4096, 0);
	append_range(s, 1, 300);
	vg_spool_close(s);
	nseg = count_segments(dir);
	assert_true(nseg >= 3);
	seg = segment_path(dir, 0);
	/* Record 5's length becomes 0xffffffff. */
	off = SEG_HDR;
	for (i = 1; i < 5; i++)
		off += REC_HDR + (off_t)payload(i, buf, sizeof(buf));
	poke(seg, off, 0xff);
	poke(seg, off + 1, 0xff);
	poke(seg, off + 2, 0xff);
	poke(seg, off + 3, 0xff);
	free(seg);
	seg = segment_path(dir, 1);
	assert_int_equal(sscanf(strrchr(seg, '/') + 1, "%16" SCNx64, &first2),
			 1);
	free(seg);

	s = open_spool(dir, 0, 4096, 0);
	st = stats(s);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.corrupt, 0);
	want = calloc(300, sizeof(*want));
	assert_non_null(want);
	for (i = 1; i <= 4; i++)
		want[n++] = i;
	for (i = first2; i <= 300; i++)
		want[n++] = i;
	expect_list(s, want, (size_t)n, 64);
	append_range(s, 301, 301);
	vg_spool_close(s);
	free(want);
	free(dir);
}

/* A segment file with records payload(first..first + n - 1). */
static void
craft_segment(const char *dir, uint64_t first, uint64_t n)
{
	unsigned char b[4096];
	size_t len = SEG_HDR;
	char *path = strf("%s/%016" PRIx64 ".seg", dir, first);
	uint64_t i;

	memcpy(b, "VGSPOOL1", 8);
	put_le64(b + 8, first);
	for (i = first; i < first + n; i++) {
		size_t pl = payload(i, (char *)b + len + REC_HDR, 128);

		put_le32(b + len, (uint32_t)pl);
		put_le32(b + len + 4, vg_spool_crc32c(b + len + REC_HDR, pl));
		len += REC_HDR + pl;
		assert_true(len + 200 < sizeof(b));
	}
	write_file(path, b, len);
	free(path);
}

/*
 * What a crash leaves while segments are created: empty or zero-filled
 * files. Removed and counted; their names are never reused; the records of
 * newer segments are still read.
 */
static void
test_unfinished(void **state)
{
	char *dir = spool_dir("unfinished"), *p;
	unsigned char zeros[100];
	struct vg_spool *s;

	(void)state;
	s = open_spool(dir, 0, 0, 0);
	append_range(s, 1, 5);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	expect_range(s, 1, 5, 64);
	vg_spool_close(s);
	/* The newest, created as 9, never written. */
	p = strf("%s/0000000000000009.seg", dir);
	write_file(p, "", 0);
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).torn, 1);
	append_seq(s, 9);
	vg_spool_close(s);
	free(p);
	s = open_spool(dir, 0, 0, 0);
	expect_range(s, 9, 9, 64);
	vg_spool_close(s);

	/* One in the middle (zeros), a good one after it. */
	p = strf("%s/000000000000000a.seg", dir);
	memset(zeros, 0, sizeof(zeros));
	write_file(p, zeros, sizeof(zeros));
	free(p);
	craft_segment(dir, 0x20, 3);
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).torn, 1);
	assert_int_equal(stats(s).corrupt, 0);
	expect_range(s, 0x20, 0x22, 64);
	append_seq(s, 0x23);
	vg_spool_close(s);
	assert_int_equal(count_segments(dir), 1);
	free(dir);
}

/* Files that are not ours, or empty: refused or counted, never a crash. */
static void
test_garbage_files(void **state)
{
	char *dir, *seg, *pos, err[ERRLEN];
	unsigned char junk[1000], h[SEG_HDR];
	struct vg_spool_opts o;
	struct vg_spool *s, *s2;
	size_t n;
	int i;

	(void)state;
	/* A foreign file with a segment's name: open fails naming it. */
	dir = spool_dir("garbage");
	assert_int_equal(mkdir(dir, 0700), 0);
	seg = strf("%s/0000000000000001.seg", dir);
	random_bytes(junk, sizeof(junk));
	junk[0] = 'x';
	write_file(seg, junk, 100);
	open_fails(dir, VG_EMALFORMED, "0000000000000001.seg: not a spool");
	assert_int_equal(file_size(seg), 100); /* untouched */
	/* Another version, another first sequence number, a folder. */
	memcpy(h, "VGSPOOL2", 8);
	put_le64(h + 8, 1);
	write_file(seg, h, sizeof(h));
	open_fails(dir, VG_EMALFORMED, "version");
	memcpy(h, "VGSPOOL1", 8);
	put_le64(h + 8, 7);
	write_file(seg, h, sizeof(h));
	open_fails(dir, VG_EMALFORMED, "is not its name");
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(mkdir(seg, 0700), 0);
	open_fails(dir, VG_EMALFORMED, "not a regular file");
	assert_int_equal(rmdir(seg), 0);
	/* A short file that is not a header prefix. */
	write_file(seg, "hello", 5);
	open_fails(dir, VG_EMALFORMED, "no header");

	/* Zero-length: an unfinished segment, removed and counted. */
	write_file(seg, "", 0);
	{
		char *other = strf("%s/notes.txt", dir);

		write_file(other, "not ours", 8); /* other names: ignored */
		free(other);
	}
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).torn, 1);
	append_range(s, 1, 5);
	vg_spool_close(s);
	free(seg);
	free(dir);

	/* Position files: empty, garbage, too long, inconsistent. */
	dir = spool_dir("garbage-pos");
	s = open_spool(dir, 0, 0, 0);
	append_range(s, 1, 5);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	read_range(s, 1, 3, 64, false);
	vg_spool_close(s);
	pos = strf("%s/position", dir);
	for (i = 0; i < 5; i++) {
		struct vg_spool_stats st;

		switch (i) {
		case 0:
			write_file(pos, "", 0);
			break;
		case 1:
			random_bytes(junk, POS_LEN);
			write_file(pos, junk, POS_LEN);
			break;
		case 2:
			random_bytes(junk, sizeof(junk));
			write_file(pos, junk, sizeof(junk));
			break;
		case 3: /* past the segment's end */
			write_position(dir, 1, 100000, 2);
			break;
		default: /* more records than bytes */
			write_position(dir, 1, SEG_HDR + 9, 3);
			break;
		}
		s = open_spool(dir, 0, 0, 0);
		st = stats(s);
		assert_int_equal(st.corrupt, 1);
		assert_int_equal(st.read_seq, 1); /* from the oldest */
		vg_spool_last_error(s, err, sizeof(err));
		assert_contains(err, "position");
		expect_range(s, 1, 5, 64);
		vg_spool_close(s);
	}
	/* A position in a segment that is gone: the next one, no count. */
	write_position(dir, 0, SEG_HDR, 1);
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(stats(s).corrupt, 0);
	expect_range(s, 1, 5, 64);
	vg_spool_close(s);

	/* Garbage after a valid header: whatever it is, no crash, only
	 * intact records come out. */
	seg = strf("%s/0000000000000001.seg", dir);
	for (i = 0; i < 40; i++) {
		unsigned char b[2048];
		struct vg_spool_rec r[64];
		size_t len = SEG_HDR, k, j;
		uint32_t v;

		memcpy(b, "VGSPOOL1", 8);
		put_le64(b + 8, 1);
		random_bytes(&v, sizeof(v));
		while (len + 64 < sizeof(b)) {
			unsigned char kind;
			size_t pl;

			random_bytes(&kind, 1);
			pl = 1 + kind % 40;
			if (kind % 4 == 0) { /* junk */
				random_bytes(b + len, pl);
				len += pl;
				continue;
			}
			memcpy(b + len + REC_HDR, "ok-", 3);
			random_bytes(b + len + REC_HDR + 3, pl);
			put_le32(b + len, (uint32_t)pl + 3);
			put_le32(
			    b + len + 4,
			    kind % 4 == 1
				? v
				: vg_spool_crc32c(b + len + REC_HDR, pl + 3));
			len += REC_HDR + pl + 3;
		}
		(void)unlink(pos);
		write_file(seg, b, len);
		s = open_spool(dir, 0, 0, 0);
		do {
			assert_int_equal(vg_spool_peek(s, r, 64, &k), VG_OK);
			for (j = 0; j < k; j++)
				assert_memory_equal(r[j].data, "ok-", 3);
			if (k > 0)
				assert_int_equal(vg_spool_ack(s, r[k - 1].seq),
						 VG_OK);
		} while (k > 0);
		append_range(s, stats(s).read_seq, stats(s).read_seq);
		vg_spool_close(s);
		n = count_segments(dir);
		assert_int_equal(n, 1);
	}
	free(pos);
	free(seg);

	/* Two spools on one folder. */
	s = open_spool(dir, 0, 0, 0);
	open_fails(dir, VG_EIO, "in use");
	vg_spool_close(s);
	s2 = open_spool(dir, 0, 0, 0);
	vg_spool_close(s2);
	free(dir);

	/* Folders that cannot be one. */
	dir = strf("%s/missing/parent", tmpdir);
	open_fails(dir, VG_EIO, "missing/parent: No such file");
	free(dir);
	dir = strf("%s/plainfile", tmpdir);
	write_file(dir, "x", 1);
	open_fails(dir, VG_EIO, "plainfile: Not a directory");
	free(dir);
	if (geteuid() != 0) {
		dir = spool_dir("locked");
		assert_int_equal(mkdir(dir, 0), 0);
		open_fails(dir, VG_EIO, "locked: Permission denied");
		assert_int_equal(chmod(dir, 0700), 0);
		free(dir);
	}

	/* Bad options. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(vg_spool_open(&s, &o, err, sizeof(err)), VG_EINVAL);
	assert_null(s);
	o.dir = "";
	assert_int_equal(vg_spool_open(&s, &o, err, sizeof(err)), VG_EINVAL);
	assert_int_equal(vg_spool_open(NULL, &o, err, sizeof(err)), VG_EINVAL);
	assert_int_equal(vg_spool_open(&s, NULL, err, sizeof(err)), VG_EINVAL);
	o.dir = tmpdir;
	o.max_bytes = 100;
	assert_int_equal(vg_spool_open(&s, &o, err, sizeof(err)), VG_EINVAL);
	assert_contains(err, "at least 4096");
	o.max_bytes = 0;
	o.segment_bytes = 10;
	assert_int_equal(vg_spool_open(&s, &o, NULL, 0), VG_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Bounds                                                              */
/* ------------------------------------------------------------------ */

/* At max_bytes appends are refused and counted; nothing is lost. */
static void
test_size_bound(void **state)
{
	char *dir = spool_dir("bound"), rec[100], err[ERRLEN];
	struct vg_spool_rec r[64];
	struct vg_spool_stats st;
	struct vg_spool *s;
	uint64_t seq, i;
	size_t n, j;

	(void)state;
	s = open_spool(dir, 4096, 4096, 0);
	/* (4096 - 16 reserve - 16 header) / (8 + 100) = 37 records. */
	for (i = 1; i <= 37; i++) {
		memset(rec, 'a' + (int)(i % 26), sizeof(rec));
		assert_int_equal(vg_spool_append(s, rec, sizeof(rec), &seq),
				 VG_OK);
		assert_int_equal(seq, i);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(vg_spool_append(s, rec, sizeof(rec), &seq),
				 VG_ELIMIT);
	st = stats(s);
	assert_int_equal(st.full_drops, 5);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.appended, 37);
	assert_true(st.bytes <= 4096);
	assert_int_equal(st.bytes, SEG_HDR + 37 * (REC_HDR + 100));
	vg_spool_last_error(s, err, sizeof(err));
	assert_contains(err, "full");
	assert_int_equal(vg_spool_sync(s), VG_OK);
	vg_spool_close(s);

	/* Still all there, still full. */
	s = open_spool(dir, 4096, 4096, 0);
	assert_int_equal(vg_spool_append(s, rec, sizeof(rec), &seq), VG_ELIMIT);
	assert_int_equal(stats(s).full, 1);
	assert_int_equal(vg_spool_peek(s, r, 64, &n), VG_OK);
	assert_int_equal(n, 37);
	for (j = 0; j < n; j++) {
		char want[100];

		memset(want, 'a' + (int)((j + 1) % 26), sizeof(want));
		assert_int_equal(r[j].seq, j + 1);
		assert_int_equal(r[j].len, 100);
		assert_memory_equal(r[j].data, want, 100);
	}
	/* Acknowledged: the space comes back at once. */
	assert_int_equal(vg_spool_ack(s, 37), VG_OK);
	st = stats(s);
	assert_int_equal(st.segments, 1);
	assert_int_equal(st.bytes, SEG_HDR);
	assert_int_equal(count_segments(dir), 1);
	assert_int_equal(vg_spool_append(s, rec, sizeof(rec), &seq), VG_OK);
	assert_int_equal(seq, 38);
	assert_int_equal(stats(s).full, 0);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_peek(s, r, 64, &n), VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].seq, 38);
	vg_spool_close(s);
	s = open_spool(dir, 4096, 4096, 0);
	assert_int_equal(stats(s).read_seq, 38);
	assert_int_equal(stats(s).durable_seq, 38);
	vg_spool_close(s);
	free(dir);
}

static const size_t large_sizes[] = {10, 2u << 20, 11, VG_SPOOL_RECORD_MAX, 12};

static void
append_large(struct vg_spool *s, char *big, uint64_t first)
{
	uint64_t seq;
	size_t i;

	for (i = 0; i < 5; i++) {
		memset(big, 'A' + (int)i, large_sizes[i]);
		assert_int_equal(vg_spool_append(s, big, large_sizes[i], &seq),
				 VG_OK);
		assert_int_equal(seq, first + i);
	}
}

/* Read the five records of append_large(), numbered from first. */
static void
expect_large(struct vg_spool *s, uint64_t first)
{
	struct vg_spool_rec r[8];
	size_t n, i = 0, j, k;

	while (i < 5) {
		assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
		assert_true(n >= 1);
		for (j = 0; j < n; j++, i++) {
			assert_true(i < 5);
			assert_int_equal(r[j].seq, first + i);
			assert_int_equal(r[j].len, large_sizes[i]);
			for (k = 0; k < large_sizes[i]; k += 4093)
				assert_int_equal(r[j].data[k], 'A' + (int)i);
			assert_int_equal(r[j].data[large_sizes[i] - 1],
					 'A' + (int)i);
		}
		assert_int_equal(vg_spool_ack(s, r[n - 1].seq), VG_OK);
	}
	assert_int_equal(vg_spool_peek(s, r, 8, &n), VG_OK);
	assert_int_equal(n, 0);
}

/* Records up to VG_SPOOL_RECORD_MAX, most larger than a segment. */
static void
test_large_records(void **state)
{
	char *dir = spool_dir("large"), *big;
	struct vg_spool *s;
	uint64_t seq;

	(void)state;
	big = malloc(VG_SPOOL_RECORD_MAX + 1);
	assert_non_null(big);
	s = open_spool(dir, 0, 4096, 0);
	append_large(s, big, 1);
	assert_int_equal(vg_spool_append(s, big, VG_SPOOL_RECORD_MAX + 1, &seq),
			 VG_EINVAL);
	/* Each record that does not fit starts a segment of its own. */
	assert_int_equal(count_segments(dir), 5);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	expect_large(s, 1);
	assert_int_equal(count_segments(dir), 1);

	/* Recovery checks the CRCs of records larger than its buffer. */
	append_large(s, big, 6);
	vg_spool_close(s);
	s = open_spool(dir, 0, 4096, 0);
	assert_int_equal(stats(s).torn + stats(s).corrupt, 0);
	assert_int_equal(stats(s).read_seq, 6);
	expect_large(s, 6);
	vg_spool_close(s);
	free(big);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

#define PRODUCERS 4
#define PER_PROD  10000

struct producer {
	struct vg_spool *s;
	int id;
	int failures;
};

static void *
producer_main(void *arg)
{
	struct producer *p = arg;
	char buf[64];
	int i, n;

	for (i = 0; i < PER_PROD; i++) {
		n = snprintf(buf, sizeof(buf), "{\"t\":%d,\"i\":%d}", p->id, i);
		if (vg_spool_append(p->s, buf, (size_t)n, NULL) != VG_OK)
			p->failures++;
	}
	return NULL;
}

struct reader {
	struct vg_spool *s;
	int next[PRODUCERS]; /* next index expected from each producer */
	int total;
	int errors;
	uint64_t last_seq;
	char what[128];
};

static void
reader_error(struct reader *r, const char *what)
{
	if (r->errors++ == 0)
		snprintf(r->what, sizeof(r->what), "%s", what);
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct vg_spool_rec recs[256];
	int idle = 0;

	while (r->total < PRODUCERS * PER_PROD && r->errors == 0) {
		size_t n, i;

		if (vg_spool_wait(r->s, 100) != VG_OK) {
			if (++idle > 600) { /* a minute without records */
				reader_error(r, "stalled");
				break;
			}
			continue;
		}
		idle = 0;
		if (vg_spool_peek(r->s, recs, 256, &n) != VG_OK) {
			reader_error(r, "peek failed");
			break;
		}
		for (i = 0; i < n; i++) {
			char buf[64];
			int t, k;

			if (recs[i].seq != r->last_seq + 1)
				reader_error(r, "sequence gap");
			r->last_seq = recs[i].seq;
			if (recs[i].len >= sizeof(buf)) {
				reader_error(r, "bad length");
				continue;
			}
			memcpy(buf, recs[i].data, recs[i].len);
			buf[recs[i].len] = '\0';
			if (sscanf(buf, "{\"t\":%d,\"i\":%d}", &t, &k) != 2 ||
			    t < 0 || t >= PRODUCERS) {
				reader_error(r, "bad payload");
				continue;
			}
			if (k != r->next[t])
				reader_error(r, "out of order or duplicate");
			r->next[t] = k + 1;
			r->total++;
		}
		if (n > 0 && vg_spool_ack(r->s, recs[n - 1].seq) != VG_OK)
			reader_error(r, "ack failed");
	}
	return NULL;
}

static void
test_threads(void **state)
{
	char *dir = spool_dir("threads");
	struct producer prod[PRODUCERS];
	pthread_t pt[PRODUCERS], rt;
	struct vg_spool_stats st;
	struct reader rd;
	struct vg_spool *s;
	int i;

	(void)state;
	s = open_spool(dir, 0, 64 * 1024, 5);
	memset(&rd, 0, sizeof(rd));
	rd.s = s;
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &rd), 0);
	for (i = 0; i < PRODUCERS; i++) {
		prod[i].s = s;
		prod[i].id = i;
		prod[i].failures = 0;
		assert_int_equal(
		    pthread_create(&pt[i], NULL, producer_main, &prod[i]), 0);
	}
	for (i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_join(pt[i], NULL), 0);
		assert_int_equal(prod[i].failures, 0);
	}
	assert_int_equal(pthread_join(rt, NULL), 0);
	if (rd.errors != 0)
		print_error("reader: %s\n", rd.what);
	assert_int_equal(rd.errors, 0);
	assert_int_equal(rd.total, PRODUCERS * PER_PROD);
	for (i = 0; i < PRODUCERS; i++)
		assert_int_equal(rd.next[i], PER_PROD);
	st = stats(s);
	assert_int_equal(st.appended, PRODUCERS * PER_PROD);
	assert_int_equal(st.acked, PRODUCERS * PER_PROD);
	assert_int_equal(st.pending_records, 0);
	assert_int_equal(st.read_seq, PRODUCERS * PER_PROD + 1);
	assert_int_equal(st.segments, 1);
	assert_int_equal(count_segments(dir), 1);
	assert_int_equal(st.torn + st.corrupt + st.io_errors + st.full_drops,
			 0);
	vg_spool_close(s);
	free(dir);
}

static void *
waiter_main(void *arg)
{
	static enum vg_err rc;

	rc = vg_spool_wait(arg, 600000);
	return &rc;
}

/* vg_spool_shutdown() wakes the reader; records can still be drained. */
static void
test_shutdown(void **state)
{
	char *dir = spool_dir("shutdown");
	struct vg_spool *s;
	pthread_t t;
	void *ret;

	(void)state;
	s = open_spool(dir, 0, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, waiter_main, s), 0);
	usleep(50000);
	vg_spool_shutdown(s);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal(*(enum vg_err *)ret, VG_EAGAIN);
	assert_int_equal(vg_spool_wait(s, 600000), VG_EAGAIN);
	append_range(s, 1, 2);
	assert_int_equal(vg_spool_sync(s), VG_OK);
	assert_int_equal(vg_spool_wait(s, 600000), VG_OK);
	expect_range(s, 1, 2, 64);
	vg_spool_close(s);
	vg_spool_shutdown(NULL);
	free(dir);
}

/* A full disk: the append fails, nothing of it stays, the spool goes on. */
static void
test_disk_full(void **state)
{
	char *dir = spool_dir("small"), *sdir, *seg, big[32768];
	struct vg_spool_stats st;
	struct vg_spool *s;
	uint64_t seq, i;
	off_t before;
	enum vg_err rc = VG_OK;

	(void)state;
	if (geteuid() != 0)
		skip_because("a small filesystem (tmpfs mount) needs root");
	assert_int_equal(mkdir(dir, 0700), 0);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
		free(dir);
		skip_because("mount(tmpfs) is not permitted here");
	}
	snprintf(mounted, sizeof(mounted), "%s", dir);
	sdir = strf("%s/spool", dir);
	s = open_spool(sdir, 0, 0, 0);
	memset(big, 'q', sizeof(big));
	for (i = 1; i < 100; i++) {
		seg = segment_path(sdir, 0);
		before = file_size(seg);
		rc = vg_spool_append(s, big, sizeof(big), &seq);
		if (rc != VG_OK) {
			/* Nothing of the failed record is left. */
			assert_int_equal(file_size(seg), before);
			free(seg);
			break;
		}
		assert_int_equal(seq, i);
		free(seg);
	}
	assert_int_equal(rc, VG_EIO);
	st = stats(s);
	assert_int_equal(st.io_errors, 1);
	assert_int_equal(st.appended, i - 1);
	/* What was appended is all there. */
	assert_int_equal(vg_spool_sync(s), VG_OK);
	{
		struct vg_spool_rec r[4];
		uint64_t got = 0;
		size_t n, j;

		do {
			assert_int_equal(vg_spool_peek(s, r, 4, &n), VG_OK);
			for (j = 0; j < n; j++) {
				assert_int_equal(r[j].seq, ++got);
				assert_int_equal(r[j].len, sizeof(big));
				assert_memory_equal(r[j].data, big,
						    sizeof(big));
			}
			if (n > 0)
				assert_int_equal(vg_spool_ack(s, r[n - 1].seq),
						 VG_OK);
		} while (n > 0);
		assert_int_equal(got, i - 1);
	}
	vg_spool_close(s);
	s = open_spool(sdir, 0, 0, 0);
	assert_int_equal(stats(s).torn + stats(s).corrupt, 0);
	assert_int_equal(stats(s).read_seq, i);
	vg_spool_close(s);
	assert_int_equal(umount2(dir, MNT_DETACH), 0);
	mounted[0] = '\0';
	free(sdir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_rollover),
	    cmocka_unit_test(test_durable_only),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_torn_tail),
	    cmocka_unit_test(test_every_prefix),
	    cmocka_unit_test(test_corrupt_record),
	    cmocka_unit_test(test_cut_while_open),
	    cmocka_unit_test(test_bad_length),
	    cmocka_unit_test(test_unfinished),
	    cmocka_unit_test(test_garbage_files),
	    cmocka_unit_test(test_size_bound),
	    cmocka_unit_test(test_large_records),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_disk_full),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
