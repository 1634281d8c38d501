/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/quarantine.c, on real files in a mkdtemp()
 * directory: round trips on one filesystem (a rename) and across two
 * (tmpfs mounts, when root: a copy), comparing the bytes, SHA-256, mode,
 * owner and nanosecond times restored; files unlinked, replaced (by a file
 * or a symlink) or hard-linked after the scan; names that are not UTF-8;
 * restore refusing an existing dest; tampered and corrupt records; files
 * that changed since the scan; a full disk; crash leftovers; an agent that
 * is not root. Every test also checks that no temporary file is left.
 */
#define _GNU_SOURCE /* asprintf */

#include "quarantine.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN   1024
#define T_UID    1234u /* owner given to originals when running as root */
#define T_GID    2345u
#define ATIME    1600000000LL
#define ATIME_NS 123456789L
#define MTIME    1500000000LL
#define MTIME_NS 987654321L
#define NOBODY   65534u

static char tmpdir[PATH_MAX];
static char mounts[8][PATH_MAX]; /* tmpfs mounted by a test */
static int nmounts;

static bool
is_root(void)
{
	return geteuid() == 0;
}

/* Say why, then skip the test (cmocka's skip() takes no message). */
#define skip_because(why)                                                      \
	do {                                                                   \
		print_message("[   SKIP   ] %s\n", (why));                     \
		skip();                                                        \
		return;                                                        \
	} while (0)

/* A fresh folder for one test (owned path). */
static char *
test_dir(const char *name)
{
	char *d = strf("%s/%s", tmpdir, name);

	assert_int_equal(mkdir(d, 0755), 0);
	return d;
}

static void
random_bytes(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		assert_true(r > 0);
		p += r;
		n -= (size_t)r;
	}
}

static void
sha256_hex(const unsigned char *p, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	unsigned int i;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The whole file (owned), its length in *n. Reading may set its atime. */
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

/* Sorted names in dir, joined by spaces (owned); "" when empty. */
static char *
listing(const char *dir)
{
	struct dirent **ents;
	size_t len = 0;
	char *s;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n >= 0);
	s = calloc(1, 1);
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			size_t k = strlen(name);

			s = realloc(s, len + k + 2);
			assert_non_null(s);
			if (len > 0)
				s[len++] = ' ';
			memcpy(s + len, name, k + 1);
			len += k;
		}
		free(ents[i]);
	}
	free(ents);
	return s;
}

static void
assert_listing(const char *dir, const char *want)
{
	char *got = listing(dir);

	assert_string_equal(got, want);
	free(got);
}

/* No temporary file of quarantine or restore in dir. */
static void
assert_no_tmp(const char *dir)
{
	char *got = listing(dir);

	if (strstr(got, ".tmp") != NULL ||
	    strstr(got, ".vigil-restore.") != NULL)
		print_error("temporary files left in %s: %s\n", dir, got);
	assert_null(strstr(got, ".tmp"));
	assert_null(strstr(got, ".vigil-restore."));
	free(got);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
unmount_all(void)
{
	while (nmounts > 0) {
		nmounts--;
		if (umount2(mounts[nmounts], MNT_DETACH) != 0)
			fprintf(stderr, "umount2 %s: %s\n", mounts[nmounts],
				strerror(errno));
	}
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/vg_test_quarantine_XXXXXX",
		 t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	unmount_all();
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Mount a tmpfs of the given size ("16m") at dir (created). false when
 * mounting is not permitted here.
 */
static bool
mount_tmpfs(const char *dir, const char *size)
{
	char opts[64];

	assert_true(nmounts < (int)(sizeof(mounts) / sizeof(mounts[0])));
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(opts, sizeof(opts), "size=%s", size);
	if (mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
		assert_true(errno == EPERM || errno == EACCES);
		return false;
	}
	snprintf(mounts[nmounts++], PATH_MAX, "%s", dir);
	return true;
}

/* The folder itself is on a tmpfs (then two mounts are needed). */
static bool
on_tmpfs(const char *dir)
{
	struct statfs sf;

	assert_int_equal(statfs(dir, &sf), 0);
	return sf.f_type == TMPFS_MAGIC;
}

static dev_t
dev_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_dev;
}

/* ------------------------------------------------------------------ */
/* A scanned file                                                      */
/* ------------------------------------------------------------------ */

struct src {
	char *path;          /* owned */
	unsigned char *data; /* owned */
	size_t len;
	char sha[65];
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int fd; /* open read-only, as the scanner has it */
	struct stat st;
};

/*
 * Write len random bytes at path with mode; when root, owned by
 * T_UID:T_GID; atime and mtime set to the nanosecond. Then open it and
 * fstat it, as the scanner does.
 */
static void
make_src(struct src *s, const char *path, size_t len, mode_t mode)
{
	struct timespec ts[2] = {{ATIME, ATIME_NS}, {MTIME, MTIME_NS}};

	memset(s, 0, sizeof(*s));
	s->path = strdup(path);
	assert_non_null(s->path);
	s->len = len;
	s->data = malloc(len + 1);
	assert_non_null(s->data);
	random_bytes(s->data, len);
	sha256_hex(s->data, len, s->sha);
	s->mode = mode;
	write_file(path, s->data, len, 0600);
	if (is_root()) {
		assert_int_equal(chown(path, T_UID, T_GID), 0);
		s->uid = T_UID;
		s->gid = T_GID;
	} else {
		s->uid = geteuid();
		s->gid = getegid();
	}
	assert_int_equal(chmod(path, mode), 0); /* after chown: keeps S_ISUID */
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(s->fd >= 0);
	assert_int_equal(fstat(s->fd, &s->st), 0);
	assert_int_equal(s->st.st_mode & 07777, mode);
}

static void
src_fini(struct src *s)
{
	if (s->fd >= 0)
		assert_int_equal(close(s->fd), 0);
	free(s->path);
	free(s->data);
	s->fd = -1;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ^\d{8}T\d{6}Z-[0-9a-f]{8}$ */
static void
assert_id_format(const char *id)
{
	size_t i;

	assert_int_equal(strlen(id), 25);
	for (i = 0; i < 25; i++) {
		char c = id[i];

		if (i == 8)
			assert_int_equal(c, 'T');
		else if (i == 15)
			assert_int_equal(c, 'Z');
		else if (i == 16)
			assert_int_equal(c, '-');
		else if (i < 16)
			assert_true(c >= '0' && c <= '9');
		else
			assert_true((c >= '0' && c <= '9') ||
				    (c >= 'a' && c <= 'f'));
	}
}

/* The item describes s as it was at the scan. */
static void
assert_item_is(const struct vg_quarantine_item *it, const struct src *s,
	       const char *rule)
{
	assert_id_format(it->id);
	assert_string_equal(it->path, s->path);
	assert_string_equal(it->rule, rule);
	assert_string_equal(it->sha256, s->sha);
	assert_int_equal(it->size, s->len);
	assert_int_equal(it->uid, s->uid);
	assert_int_equal(it->gid, s->gid);
	assert_int_equal(it->mode, s->mode);
	assert_int_equal(it->atime_ns, ATIME * 1000000000LL + ATIME_NS);
	assert_int_equal(it->mtime_ns, MTIME * 1000000000LL + MTIME_NS);
}

static void
assert_items_equal(const struct vg_quarantine_item *a,
		   const struct vg_quarantine_item *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->path, b->path);
	assert_string_equal(a->rule, b->rule);
	assert_string_equal(a->sha256, b->sha256);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->atime_ns, b->atime_ns);
	assert_int_equal(a->mtime_ns, b->mtime_ns);
	assert_int_equal(a->quarantined_us, b->quarantined_us);
}

/*
 * qdir holds exactly the item's two files: the data is s's bytes, mode 0,
 * the agent's; the record says what s was. moved: the data is s's inode
 * (a rename), else a copy.
 */
static void
assert_quarantined(const char *qdir, const struct vg_quarantine_item *it,
		   const struct src *s, bool moved)
{
	char *want = strf("%s.data %s.json", it->id, it->id);
	char *data = strf("%s/%s.data", qdir, it->id);
	char *rec = strf("%s/%s.json", qdir, it->id);
	const char *id, *path, *rule, *sha, *mode;
	json_int_t size, uid, gid, at, mt, qus;
	char hex[65], modestr[8];
	unsigned char *bytes;
	json_error_t jerr;
	struct stat sb;
	size_t n;
	json_t *o;

	assert_listing(qdir, want);
	assert_int_equal(lstat(data, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0);
	assert_int_equal(sb.st_uid, geteuid());
	assert_int_equal(sb.st_gid, getegid());
	assert_int_equal(sb.st_size, (off_t)s->len);
	assert_int_equal(sb.st_nlink, 1);
	if (moved) {
		assert_int_equal(sb.st_ino, s->st.st_ino);
		assert_int_equal(sb.st_dev, s->st.st_dev);
	} else {
		assert_false(sb.st_ino == s->st.st_ino &&
			     sb.st_dev == s->st.st_dev);
	}
	if (!is_root())
		assert_int_equal(chmod(data, 0400), 0);
	bytes = read_file(data, &n);
	if (!is_root())
		assert_int_equal(chmod(data, 0), 0);
	assert_int_equal(n, s->len);
	assert_memory_equal(bytes, s->data, n);
	sha256_hex(bytes, n, hex);
	assert_string_equal(hex, s->sha);
	free(bytes);

	/* The record, read with jansson independently of the module. */
	o = json_load_file(rec, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(o);
	assert_int_equal(json_unpack_ex(o, &jerr, JSON_STRICT,
					"{s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
					"s:s, s:I, s:I, s:I}",
					"id", &id, "path", &path, "rule", &rule,
					"sha256", &sha, "size", &size, "uid",
					&uid, "gid", &gid, "mode", &mode,
					"atime_ns", &at, "mtime_ns", &mt,
					"quarantined_us", &qus),
			 0);
	snprintf(modestr, sizeof(modestr), "%04o", (unsigned)s->mode);
	assert_string_equal(id, it->id);
	assert_string_equal(path, s->path);
	assert_string_equal(rule, it->rule);
	assert_string_equal(sha, s->sha);
	assert_int_equal(size, s->len);
	assert_int_equal(uid, s->uid);
	assert_int_equal(gid, s->gid);
	assert_string_equal(mode, modestr);
	assert_int_equal(at, ATIME * 1000000000LL + ATIME_NS);
	assert_int_equal(mt, MTIME * 1000000000LL + MTIME_NS);
	assert_int_equal(qus, it->quarantined_us);
	assert_int_equal(lstat(rec, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	json_decref(o);
	free(want);
	free(data);
	free(rec);
}

/* path is s again: bytes, SHA-256, mode, owner, times to the ns. */
static void
assert_restored(const char *path, const struct src *s)
{
	unsigned char *bytes;
	struct stat sb;
	char hex[65];
	size_t n;

	/* stat before reading: a read may update the atime. */
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, s->mode);
	if (is_root()) {
		assert_int_equal(sb.st_uid, s->uid);
		assert_int_equal(sb.st_gid, s->gid);
	} else {
		assert_int_equal(sb.st_uid, geteuid());
	}
	assert_int_equal(sb.st_atim.tv_sec, ATIME);
	assert_int_equal(sb.st_atim.tv_nsec, ATIME_NS);
	assert_int_equal(sb.st_mtim.tv_sec, MTIME);
	assert_int_equal(sb.st_mtim.tv_nsec, MTIME_NS);
	assert_int_equal(sb.st_size, (off_t)s->len);
	bytes = read_file(path, &n);
	assert_int_equal(n, s->len);
	assert_memory_equal(bytes, s->data, n);
	sha256_hex(bytes, n, hex);
	assert_string_equal(hex, s->sha);
	free(bytes);
}

static void
assert_gone(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);
}

/* The one item of qdir, as list returns it, equals it. */
static void
assert_listed(const char *qdir, const struct vg_quarantine_item *it)
{
	struct vg_quarantine_item *items = NULL;
	size_t n = 99, bad = 99;

	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 0);
	assert_items_equal(&items[0], it);
	vg_quarantine_items_free(items, n);
}

/*
 * Quarantine s into qdir, check the item, the folder and the list, restore
 * to its path and check everything came back.
 */
static void
round_trip(const char *qdir, struct src *s, const char *sha, bool moved)
{
	struct vg_quarantine_item it, rit;
	char err[ERRLEN];
	int64_t t0, t1;
	struct stat sb;
	enum vg_err rc;

	t0 = now_us();
	rc = vg_quarantine_file(qdir, s->fd, s->path, &s->st, sha, "Test_Rule",
				&it, err, sizeof(err));
	t1 = now_us();
	assert_ok(rc, err);
	assert_item_is(&it, s, "Test_Rule");
	assert_true(it.quarantined_us >= t0 && it.quarantined_us <= t1);
	assert_gone(s->path);
	assert_int_equal(stat(qdir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_quarantined(qdir, &it, s, moved);
	assert_listed(qdir, &it);
	assert_int_equal(close(s->fd), 0);
	s->fd = -1;

	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, &rit, err, sizeof(err));
	assert_ok(rc, err);
	assert_items_equal(&rit, &it);
	assert_restored(s->path, s);
	assert_listing(qdir, "");
	vg_quarantine_item_fini(&it);
	vg_quarantine_item_fini(&rit);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_round_trip_same_fs(void **state)
{
	static const mode_t modes[] = {0750, 0640, 04750, 02755};
	char *dir = test_dir("same");
	char *qdir = strf("%s/q", dir); /* created by the first quarantine */
	char upper[65];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct src s;
		char *path = strf("%s/file-%04o.bin", dir, (unsigned)modes[i]);

		/* Set-ID bits belong to root's round trip (chown clears). */
		if ((modes[i] & 06000) != 0 && !is_root()) {
			free(path);
			continue;
		}
		make_src(&s, path, 100 * 1024 + i, modes[i]);
		/* The scanner's hash, given in upper case, or computed. */
		for (k = 0; k < 65; k++)
			upper[k] = (char)(s.sha[k] >= 'a' && s.sha[k] <= 'f'
					      ? s.sha[k] - 'a' + 'A'
					      : s.sha[k]);
		round_trip(qdir, &s, i % 2 == 0 ? NULL : upper, true);
		src_fini(&s);
		free(path);
	}
	/* An empty file. */
	{
		struct src s;
		char *path = strf("%s/empty", dir);

		make_src(&s, path, 0, 0644);
		round_trip(qdir, &s, NULL, true);
		src_fini(&s);
		free(path);
	}
	assert_no_tmp(dir);
	free(qdir);
	free(dir);
}

/*
 * Quarantine folders on tmpfs mounts: the originals are on another
 * filesystem, so the bytes are copied and the original unlinked.
 */
static void
test_round_trip_cross_fs(void **state)
{
	char *dir, *qmnt, *smnt, *qdir, *sdir, *path, *dest;
	struct vg_quarantine_item it;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;

	(void)state;
	if (!is_root())
		skip_because("a second filesystem (tmpfs mount) needs root");
	dir = test_dir("xfs");
	qmnt = strf("%s/qmnt", dir);
	if (!mount_tmpfs(qmnt, "16m")) {
		free(qmnt);
		free(dir);
		skip_because("mount(tmpfs) is not permitted here");
	}
	sdir = strf("%s/src", dir);
	if (on_tmpfs(dir)) {
		/* Two tmpfs instances have different devices too. */
		smnt = strf("%s/smnt", dir);
		assert_true(mount_tmpfs(smnt, "16m"));
		free(sdir);
		sdir = strf("%s/src", smnt);
		free(smnt);
	}
	assert_int_equal(mkdir(sdir, 0755), 0);
	qdir = strf("%s/q", qmnt);
	assert_true(dev_of(sdir) != dev_of(qmnt));

	path = strf("%s/payload.bin", sdir);
	make_src(&s, path, 1024 * 1024 + 17, 0640);
	round_trip(qdir, &s, s.sha, false);
	src_fini(&s);
	assert_no_tmp(sdir);

	/* Restore to a dest on the quarantine's filesystem, and a 0750. */
	free(path);
	path = strf("%s/second.bin", sdir);
	make_src(&s, path, 300 * 1024, 0750);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "", &it, err,
				sizeof(err));
	assert_ok(rc, err);
	assert_item_is(&it, &s, "");
	assert_gone(s.path);
	assert_quarantined(qdir, &it, &s, false);
	dest = strf("%s/restored.bin", qmnt);
	rc =
	    vg_quarantine_restore(qdir, it.id, dest, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(dest, &s);
	assert_listing(qdir, "");
	assert_gone(s.path); /* restored elsewhere, as asked */
	vg_quarantine_item_fini(&it);
	src_fini(&s);

	unmount_all();
	free(dest);
	free(path);
	free(qdir);
	free(sdir);
	free(qmnt);
	free(dir);
}

/* A few MiB of random bytes through the copy path, byte for byte. */
static void
test_large_copy(void **state)
{
	char *dir = test_dir("large"), *qdir, *path;
	struct vg_quarantine_item it;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;
	bool cross = false;

	(void)state;
	qdir = strf("%s/q", dir);
	if (is_root() && !on_tmpfs(dir)) {
		char *mnt = strf("%s/qmnt", dir);

		cross = mount_tmpfs(mnt, "32m");
		free(qdir);
		qdir = strf("%s/q", cross ? mnt : dir);
		free(mnt);
	}
	path = strf("%s/large.bin", dir);
	make_src(&s, path, 6 * 1024 * 1024 + 12345, 0640);
	if (!cross) /* unlinked after the scan: only the copy can work */
		assert_int_equal(unlink(path), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, s.sha, "Big", &it,
				err, sizeof(err));
	assert_ok(rc, err);
	assert_item_is(&it, &s, "Big");
	assert_gone(path);
	assert_quarantined(qdir, &it, &s, false);
	assert_int_equal(close(s.fd), 0);
	s.fd = -1;
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(path, &s);
	assert_listing(qdir, "");
	assert_no_tmp(dir);
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	unmount_all();
	free(path);
	free(qdir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* The file moves under the scanner                                    */
/* ------------------------------------------------------------------ */

/* Unlinked after the scanner opened it: quarantined from the fd. */
static void
test_vanished(void **state)
{
	char *dir = test_dir("vanished");
	char *qdir = strf("%s/q", dir), *path = strf("%s/gone.bin", dir);
	struct vg_quarantine_item it;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;

	(void)state;
	make_src(&s, path, 3 * 1024 * 1024 + 5, 0750);
	assert_int_equal(unlink(path), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "Gone", &it,
				err, sizeof(err));
	assert_ok(rc, err);
	assert_item_is(&it, &s, "Gone"); /* the record holds the path */
	assert_gone(path);
	assert_quarantined(qdir, &it, &s, false);
	assert_listed(qdir, &it);
	assert_int_equal(close(s.fd), 0);
	s.fd = -1;
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(path, &s);
	assert_listing(qdir, "");
	assert_listing(dir, "gone.bin q");
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	free(path);
	free(qdir);
	free(dir);
}

/*
 * Another file renamed over path, or a symlink put there, between the
 * scan and the quarantine: that file is left untouched at path, and the
 * scanned bytes are quarantined from the fd (VG_OK).
 */
static void
test_replaced(void **state)
{
	char *dir = test_dir("replaced");
	char *qdir = strf("%s/q", dir), *path = strf("%s/x.php", dir);
	char *other = strf("%s/x.php.new", dir);
	char *alt = strf("%s/x.php.restored", dir);
	char *target = strf("%s/target", dir);
	static const char other_text[] = "<?php echo 'harmless'; ?>\n";
	struct vg_quarantine_item it;
	unsigned char *bytes;
	struct stat ob, sb;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;
	size_t n;

	(void)state;
	make_src(&s, path, 64 * 1024, 0644);
	write_file(other, other_text, strlen(other_text), 0600);
	assert_int_equal(lstat(other, &ob), 0);
	assert_int_equal(rename(other, path), 0);

	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, s.sha, "Webshell",
				&it, err, sizeof(err));
	assert_ok(rc, err);
	assert_item_is(&it, &s, "Webshell");
	assert_quarantined(qdir, &it, &s, false);
	/* The other file: same inode, mode, bytes. */
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_ino, ob.st_ino);
	assert_int_equal(sb.st_mode & 07777, 0600);
	bytes = read_file(path, &n);
	assert_int_equal(n, strlen(other_text));
	assert_memory_equal(bytes, other_text, n);
	free(bytes);

	/* Restoring over it is refused; elsewhere, it is the scanned file. */
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "exists");
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_ino, ob.st_ino);
	rc = vg_quarantine_restore(qdir, it.id, alt, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(alt, &s);
	assert_listing(qdir, "");
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	assert_int_equal(unlink(alt), 0);

	/*
	 * A symlink put at path (to another file) is never followed: the
	 * link and its target stay; restore without overwrite refuses the
	 * link, with overwrite replaces the link itself, not its target.
	 */
	free(path);
	path = strf("%s/y.php", dir);
	make_src(&s, path, 10 * 1024, 0755);
	write_file(target, other_text, strlen(other_text), 0600);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "Link", &it,
				err, sizeof(err));
	assert_ok(rc, err);
	assert_quarantined(qdir, &it, &s, false);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(lstat(target, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	bytes = read_file(target, &n);
	assert_int_equal(n, strlen(other_text));
	assert_memory_equal(bytes, other_text, n);
	free(bytes);
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "exists");
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 1, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(path, &s);
	bytes = read_file(target, &n);
	assert_int_equal(n, strlen(other_text));
	assert_memory_equal(bytes, other_text, n);
	free(bytes);
	assert_listing(qdir, "");
	assert_no_tmp(dir);
	vg_quarantine_item_fini(&it);
	src_fini(&s);

	free(target);
	free(alt);
	free(other);
	free(path);
	free(qdir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Restore refusals                                                    */
/* ------------------------------------------------------------------ */

/* Quarantine a new file called name in dir (mode 0640) into qdir. */
static void
quarantine_new(struct src *s, const char *dir, const char *name,
	       const char *qdir, size_t len, struct vg_quarantine_item *it)
{
	char *path = strf("%s/%s", dir, name);
	char err[ERRLEN];
	enum vg_err rc;

	make_src(s, path, len, 0640);
	free(path);
	rc = vg_quarantine_file(qdir, s->fd, s->path, &s->st, NULL, "R", it,
				err, sizeof(err));
	assert_ok(rc, err);
	assert_int_equal(close(s->fd), 0);
	s->fd = -1;
}

static void
test_restore_existing_dest(void **state)
{
	char *dir = test_dir("exists"), *qdir = strf("%s/q", dir);
	char *dangling, *nodir, *want;
	static const char text[] = "a new file at the old place\n";
	struct vg_quarantine_item it, it2;
	unsigned char *bytes;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;
	size_t n;

	(void)state;
	quarantine_new(&s, dir, "f.bin", qdir, 4096, &it);
	write_file(s.path, text, strlen(text), 0644);

	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, s.path);
	assert_contains(err, "exists");
	bytes = read_file(s.path, &n);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(bytes, text, n);
	free(bytes);
	assert_listed(qdir, &it);
	assert_no_tmp(dir);
	assert_no_tmp(qdir);

	/* A dangling symlink is an existing dest too. */
	dangling = strf("%s/dangling", dir);
	assert_int_equal(symlink("/nonexistent/target", dangling), 0);
	rc = vg_quarantine_restore(qdir, it.id, dangling, 0, NULL, err,
				   sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "exists");

	/* A dest whose folder is missing: a clear error, nothing made. */
	nodir = strf("%s/no/such/folder/f.bin", dir);
	rc = vg_quarantine_restore(qdir, it.id, nodir, 0, NULL, err,
				   sizeof(err));
	assert_int_equal(rc, VG_EIO);
	want = strf("cannot open folder %s/no/such/folder: No such file or "
		    "directory",
		    dir);
	assert_contains(err, want);
	free(want);
	want = strf("%s/no", dir);
	assert_gone(want);
	free(want);

	/* Unknown IDs, bad dests. */
	rc = vg_quarantine_restore(qdir, "20000101T000000Z-00000000", NULL, 0,
				   NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "no item 20000101T000000Z-00000000");
	rc = vg_quarantine_restore(qdir, it.id, "", 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_restore(qdir, it.id, "/tmp/", 0, NULL, err,
				   sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc =
	    vg_quarantine_restore(NULL, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_listed(qdir, &it);

	/* With overwrite: the new file is replaced atomically. */
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 1, &it2, err, sizeof(err));
	assert_ok(rc, err);
	assert_items_equal(&it, &it2);
	assert_restored(s.path, &s);
	assert_listing(qdir, "");
	assert_listing(dir, "dangling f.bin q");
	vg_quarantine_item_fini(&it);
	vg_quarantine_item_fini(&it2);
	src_fini(&s);
	free(nodir);
	free(dangling);
	free(qdir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Tampered and corrupt records                                        */
/* ------------------------------------------------------------------ */

static char *
load_text(const char *path)
{
	size_t n;
	unsigned char *p = read_file(path, &n);

	p[n] = '\0';
	return (char *)p;
}

static void
put_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* The good record with key set to the JSON value (NULL: key removed). */
static char *
edit_record(const char *good, const char *key, const char *value)
{
	json_error_t jerr;
	json_t *o = json_loads(good, 0, &jerr), *v;
	char *text;

	assert_non_null(o);
	if (value == NULL) {
		assert_int_equal(json_object_del(o, key), 0);
	} else {
		v = json_loads(value, JSON_DECODE_ANY, &jerr);
		assert_non_null(v);
		assert_int_equal(json_object_set_new(o, key, v), 0);
	}
	text = json_dumps(o, 0);
	assert_non_null(text);
	json_decref(o);
	return text;
}

/*
 * With rec tampered as text: restore refuses it (VG_EMALFORMED) and makes
 * nothing at dest; list skips it and counts it bad, unless the record
 * itself is well-formed (skipped false: only its data disagrees).
 */
static void
assert_refused(const char *qdir, const char *id, const char *rec,
	       const char *text, const char *dest, bool skipped)
{
	struct vg_quarantine_item *items = NULL;
	size_t n = 99, bad = 99;
	char err[ERRLEN];
	enum vg_err rc;

	put_text(rec, text);
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	if (skipped) {
		if (n != 0)
			print_error("record accepted: %s\n", text);
		assert_int_equal(n, 0);
		assert_null(items);
		assert_int_equal(bad, 1);
	} else {
		assert_int_equal(n, 1);
		assert_int_equal(bad, 0);
	}
	vg_quarantine_items_free(items, n);
	rc = vg_quarantine_restore(qdir, id, dest, 0, NULL, err, sizeof(err));
	if (rc != VG_EMALFORMED)
		print_error("record: %s\nerror: %s\n", text, err);
	assert_int_equal(rc, VG_EMALFORMED);
	assert_gone(dest);
}

static void
test_tampered(void **state)
{
	static const char *const bad_ids[] = {
	    "../x",
	    "..",
	    "a/b",
	    "",
	    "x.json",
	    "x y",
	    "id\n",
	    "\xc3\xa9",
	    "0123456789012345678901234567890123456789", /* 40 */
	};
	/* key, JSON value (NULL: key removed) */
	static const char *const edits[][2] = {
	    {"id", "\"../../etc/passwd\""},
	    {"id", "\"20000101T000000Z-00000000\""}, /* not its file's */
	    {"id", "7"},
	    {"sha256", "\"abc\""},
	    {"sha256", "\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D"
		       "6C15B0F00A08\""},
	    {"sha256", "\"zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d"
		       "6c15b0f00a08\""},
	    {"sha256", "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d"
		       "6c15b0f00a0800\""},
	    {"size", "\"12\""},
	    {"size", "-1"},
	    {"size", "1.5"},
	    {"uid", "-1"},
	    {"uid", "4294967295"},
	    {"gid", "4294967296"},
	    {"mode", "\"999\""},
	    {"mode", "\"0o644\""},
	    {"mode", "\"06440\""},
	    {"mode", "420"},
	    {"path", "\"relative/x\""},
	    {"path", "\"/\""},
	    {"path", "\"/etc/\""},
	    {"path", "null"},
	    {"path_hex", "\"2f7\""},
	    {"path_hex", "\"2f00\""},
	    {"path_hex", "\"7878\""},
	    {"path_hex", "\"zz\""},
	    {"rule", "null"},
	    {"atime_ns", "\"1\""},
	    {"mtime_ns", "true"},
	    {"quarantined_us", "-5"},
	    {"evil", "1"},
	    {"rule", NULL},
	    {"sha256", NULL},
	};
	char *dir = test_dir("tampered"), *qdir = strf("%s/q", dir);
	char *dest = strf("%s/restored", dir), *rec, *good, *text, *big;
	struct vg_quarantine_item it;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		rc = vg_quarantine_restore(qdir, bad_ids[i], dest, 0, NULL, err,
					   sizeof(err));
		assert_int_equal(rc, VG_EINVAL);
		assert_contains(err, "not a quarantine ID");
	}

	quarantine_new(&s, dir, "f.bin", qdir, 2000, &it);
	rec = strf("%s/%s.json", qdir, it.id);
	good = load_text(rec);

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		text = edit_record(good, edits[i][0], edits[i][1]);
		assert_refused(qdir, it.id, rec, text, dest, true);
		free(text);
	}
	/* Not JSON, not an object, duplicate keys, too large. */
	assert_refused(qdir, it.id, rec, "garbage", dest, true);
	assert_refused(qdir, it.id, rec, "", dest, true);
	assert_refused(qdir, it.id, rec, "[]", dest, true);
	text = strf("{\"size\": 0, %s", strchr(good, '{') + 1);
	assert_refused(qdir, it.id, rec, text, dest, true);
	free(text);
	big = malloc(VG_QUARANTINE_RECORD_MAX + 10);
	assert_non_null(big);
	memset(big, 'r', VG_QUARANTINE_RECORD_MAX);
	big[0] = '"';
	big[VG_QUARANTINE_RECORD_MAX - 1] = '"';
	big[VG_QUARANTINE_RECORD_MAX] = '\0';
	text = edit_record(good, "rule", big);
	assert_refused(qdir, it.id, rec, text, dest, true);
	free(text);
	free(big);

	/*
	 * Well-formed records that do not match the data: listed (list does
	 * not read data), refused by restore, nothing made at dest.
	 */
	text = strf("%s", good);
	{
		char *sz = strf("\"size\": %zu", s.len);
		char *p = strstr(text, sz);
		char *t2;

		assert_non_null(p);
		t2 = strf("%.*s\"size\": %zu%s", (int)(p - text), text,
			  s.len + 1, p + strlen(sz));
		assert_refused(qdir, it.id, rec, t2, dest, false);
		assert_no_tmp(dir);
		free(t2);
		free(sz);
	}
	free(text);
	text = edit_record(good, "sha256",
			   "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
			   "d15d6c15b0f00a08\"");
	put_text(rec, text);
	rc =
	    vg_quarantine_restore(qdir, it.id, dest, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EMALFORMED);
	assert_contains(err, "does not match its record");
	assert_gone(dest);
	assert_no_tmp(dir);
	free(text);

	/* The data file changed behind the record's back. */
	put_text(rec, good);
	{
		char *data = strf("%s/%s.data", qdir, it.id);
		int fd = open(data, O_WRONLY | O_APPEND | O_CLOEXEC);

		if (fd < 0 && !is_root()) {
			assert_int_equal(chmod(data, 0600), 0);
			fd = open(data, O_WRONLY | O_APPEND | O_CLOEXEC);
		}
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x", 1), 1);
		rc = vg_quarantine_restore(qdir, it.id, dest, 0, NULL, err,
					   sizeof(err));
		assert_int_equal(rc, VG_EMALFORMED);
		assert_contains(err, "the record says");
		assert_gone(dest);
		assert_int_equal(ftruncate(fd, (off_t)s.len), 0);
		assert_int_equal(close(fd), 0);
		assert_int_equal(chmod(data, 0), 0);
		free(data);
	}

	/* The untouched record restores. */
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(s.path, &s);
	assert_listing(qdir, "");
	assert_no_tmp(dir);
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	free(good);
	free(rec);
	free(dest);
	free(qdir);
	free(dir);
}

/* list: a missing folder, the order, corrupt entries counted in bad. */
static void
test_list(void **state)
{
	char *dir = test_dir("list"), *qdir = strf("%s/q", dir), *p;
	struct vg_quarantine_item *items = (void *)1, it[3];
	char err[ERRLEN];
	size_t n = 99, bad = 99, i, j;
	struct src s;
	enum vg_err rc;

	(void)state;
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_null(items);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(vg_quarantine_list(NULL, &items, &n, &bad), VG_EINVAL);
	assert_int_equal(vg_quarantine_list(qdir, NULL, &n, &bad), VG_EINVAL);

	for (i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%zu", i);
		quarantine_new(&s, dir, name, qdir, 100 + i, &it[i]);
		src_fini(&s);
	}
	/* Corrupt or foreign entries, each counted once. */
	p = strf("%s/20260101T000000Z-deadbeef.json", qdir);
	put_text(p, "not json");
	free(p);
	p = strf("%s/bad name!.json", qdir);
	put_text(p, "{}");
	free(p);
	p = strf("%s/20260101T000000Z-00000001.json", qdir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = strf("%s/20260101T000000Z-00000002.json", qdir);
	assert_int_equal(mkfifo(p, 0600), 0); /* must not block */
	free(p);
	p = strf("%s/20260101T000000Z-00000003.json", qdir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	/* Ignored: not records. */
	p = strf("%s/.json", qdir);
	put_text(p, "x");
	free(p);
	p = strf("%s/20260101T000000Z-00000004.json.tmp", qdir);
	put_text(p, "x");
	free(p);
	p = strf("%s/20260101T000000Z-00000004.data", qdir);
	put_text(p, "x");
	free(p);

	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 3);
	assert_int_equal(bad, 5);
	for (i = 0; i < 3; i++) {
		if (i > 0)
			assert_true(items[i - 1].quarantined_us <=
				    items[i].quarantined_us);
		for (j = 0; j < 3 && strcmp(items[i].id, it[j].id) != 0; j++)
			;
		assert_true(j < 3);
		assert_items_equal(&items[i], &it[j]);
	}
	/* Oldest first: the order they were quarantined in. */
	for (i = 0; i < 3; i++)
		assert_string_equal(items[i].id, it[i].id);
	vg_quarantine_items_free(items, n);
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, NULL), VG_OK);
	assert_int_equal(n, 3);
	vg_quarantine_items_free(items, n);
	vg_quarantine_items_free(NULL, 0);
	vg_quarantine_item_fini(NULL);

	for (i = 0; i < 3; i++) {
		rc = vg_quarantine_restore(qdir, it[i].id, NULL, 0, NULL, err,
					   sizeof(err));
		assert_ok(rc, err);
		vg_quarantine_item_fini(&it[i]);
	}
	free(qdir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Failures leave the file where it was and nothing in qdir            */
/* ------------------------------------------------------------------ */

/* s is still at its path, as made: inode, mode, owner, bytes. */
static void
assert_untouched(const struct src *s)
{
	unsigned char *bytes;
	struct stat sb;
	size_t n;

	assert_int_equal(lstat(s->path, &sb), 0);
	assert_int_equal(sb.st_ino, s->st.st_ino);
	assert_int_equal(sb.st_mode & 07777, s->mode);
	assert_int_equal(sb.st_uid, s->uid);
	assert_int_equal(sb.st_gid, s->gid);
	bytes = read_file(s->path, &n);
	assert_int_equal(n, s->len);
	assert_memory_equal(bytes, s->data, n);
	free(bytes);
}

/* The item ID an error message names ("... as ID..."), copied to id. */
static void
id_from_err(const char *err, char id[VG_QUARANTINE_ID_MAX + 1])
{
	const char *p = strstr(err, "kept in quarantine as ");

	assert_non_null(p);
	p += strlen("kept in quarantine as ");
	memcpy(id, p, 25);
	id[25] = '\0';
	assert_id_format(id);
}

static void
test_failures(void **state)
{
	char *dir = test_dir("fail"), *qdir = strf("%s/q", dir);
	char *nope = strf("%s/nope/q", dir), *qfile = strf("%s/qfile", dir);
	char *path = strf("%s/f.bin", dir), *other = strf("%s/other", dir);
	char *kept = strf("%s/kept.bin", dir), *want;
	struct vg_quarantine_item it, *items;
	char err[ERRLEN], wrong[65], id[VG_QUARANTINE_ID_MAX + 1];
	struct stat dst, ost;
	unsigned char *bytes;
	size_t n, bad;
	struct src s;
	enum vg_err rc;
	int fd;

	(void)state;
	make_src(&s, path, 5000, 0640);
	assert_int_equal(stat(dir, &dst), 0);
	write_file(other, "x", 1, 0644);
	assert_int_equal(stat(other, &ost), 0);

	/* Bad arguments: refused before anything is done. */
	rc = vg_quarantine_file(NULL, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_file("", s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_file(qdir, s.fd, NULL, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_file(qdir, s.fd, "f.bin", &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "f.bin: not an absolute file path");
	rc = vg_quarantine_file(qdir, s.fd, "/tmp/", &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_file(qdir, s.fd, s.path, NULL, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &dst, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "not a regular file");
	rc = vg_quarantine_file(qdir, s.fd, s.path, &ost, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "the descriptor is not the file scanned");
	rc = vg_quarantine_file(qdir, -1, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "Bad file descriptor");
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, "xyz", "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "bad SHA-256");
	/* err may be NULL. */
	rc = vg_quarantine_file(qdir, s.fd, "rel", &s.st, NULL, "R", &it, NULL,
				0);
	assert_int_equal(rc, VG_EINVAL);
	assert_gone(qdir);
	assert_untouched(&s);

	/* qdir's parent missing; qdir a file: the error names it. */
	rc = vg_quarantine_file(nope, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EIO);
	want = strf("cannot create quarantine folder %s: No such file or "
		    "directory",
		    nope);
	assert_contains(err, want);
	free(want);
	write_file(qfile, "", 0, 0600);
	rc = vg_quarantine_file(qfile, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EIO);
	want = strf("cannot open quarantine folder %s: Not a directory", qfile);
	assert_contains(err, want);
	free(want);
	assert_untouched(&s);

	/*
	 * Changed since the scan (not the scanner's SHA-256): the original
	 * stays, and a copy of what it is now is kept as a complete item.
	 */
	memset(wrong, 'a', 64);
	wrong[64] = '\0';
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, wrong, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EIO);
	assert_contains(err, "changed since it was scanned");
	assert_contains(err, "file left in place");
	id_from_err(err, id);
	assert_untouched(&s);
	assert_no_tmp(qdir);
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 0);
	assert_string_equal(items[0].id, id);
	assert_string_equal(items[0].sha256, s.sha); /* what was copied */
	assert_int_equal(items[0].size, s.len);
	assert_string_equal(items[0].path, s.path);
	vg_quarantine_items_free(items, n);
	rc = vg_quarantine_restore(qdir, id, kept, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	bytes = read_file(kept, &n);
	assert_int_equal(n, s.len);
	assert_memory_equal(bytes, s.data, n);
	free(bytes);
	assert_listing(qdir, "");

	/* Grown since the scan: kept whole, original left. */
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	assert_int_equal(close(fd), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_int_equal(rc, VG_EIO);
	assert_contains(err, "changed since it was scanned (now 5010 bytes");
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].size, s.len + 10);
	vg_quarantine_items_free(items, n);
	assert_no_tmp(qdir);
	assert_no_tmp(dir);
	assert_int_equal(lstat(path, &dst), 0);
	assert_int_equal(dst.st_ino, s.st.st_ino);
	assert_int_equal(dst.st_size, (off_t)s.len + 10);

	src_fini(&s);
	free(kept);
	free(other);
	free(path);
	free(qfile);
	free(nope);
	free(qdir);
	free(dir);
}

/* A full quarantine disk, a full restore disk: nothing left behind. */
static void
test_enospc(void **state)
{
	char *dir, *small, *qdir, *qsmall, *dest, *want;
	struct vg_quarantine_item it;
	char err[ERRLEN];
	struct src s;
	enum vg_err rc;

	(void)state;
	if (!is_root())
		skip_because("a small filesystem (tmpfs mount) needs root");
	dir = test_dir("enospc");
	small = strf("%s/small", dir);
	if (!mount_tmpfs(small, "256k")) {
		free(small);
		free(dir);
		skip_because("mount(tmpfs) is not permitted here");
	}
	qsmall = strf("%s/q", small);
	qdir = strf("%s/q", dir);
	want = strf("%s/big.bin", dir);
	make_src(&s, want, 1024 * 1024, 0640);
	free(want);

	rc = vg_quarantine_file(qsmall, s.fd, s.path, &s.st, NULL, "R", &it,
				err, sizeof(err));
	assert_int_equal(rc, VG_EIO);
	assert_contains(err, "No space left on device");
	assert_untouched(&s);
	assert_listing(qsmall, "");

	/* Restoring onto the small disk fails cleanly too. */
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_ok(rc, err);
	dest = strf("%s/restored.bin", small);
	rc =
	    vg_quarantine_restore(qdir, it.id, dest, 0, NULL, err, sizeof(err));
	assert_int_equal(rc, VG_EIO);
	assert_contains(err, "No space left on device");
	assert_listing(small, "q");
	assert_listed(qdir, &it);
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(s.path, &s);
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	unmount_all();
	free(dest);
	free(qdir);
	free(qsmall);
	free(small);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Odd files                                                           */
/* ------------------------------------------------------------------ */

/*
 * A file with a second name (linked after the scan): copied, so that the
 * other name keeps its bytes, mode and owner.
 */
static void
test_hard_link(void **state)
{
	char *dir = test_dir("link"), *qdir = strf("%s/q", dir);
	char *path = strf("%s/a.bin", dir), *path2 = strf("%s/b.bin", dir);
	struct vg_quarantine_item it;
	unsigned char *bytes;
	char err[ERRLEN];
	struct stat sb;
	struct src s;
	enum vg_err rc;
	size_t n;

	(void)state;
	make_src(&s, path, 20000, 0750);
	assert_int_equal(link(path, path2), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "R", &it, err,
				sizeof(err));
	assert_ok(rc, err);
	assert_gone(path);
	assert_quarantined(qdir, &it, &s, false);
	assert_int_equal(lstat(path2, &sb), 0);
	assert_int_equal(sb.st_ino, s.st.st_ino);
	assert_int_equal(sb.st_nlink, 1);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(sb.st_uid, s.uid);
	bytes = read_file(path2, &n);
	assert_int_equal(n, s.len);
	assert_memory_equal(bytes, s.data, n);
	free(bytes);
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(path, &s);
	assert_listing(qdir, "");
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	free(path2);
	free(path);
	free(qdir);
	free(dir);
}

/* Names that are not UTF-8 survive exactly (path_hex in the record). */
static void
test_non_utf8_path(void **state)
{
	char *dir = test_dir("utf8"), *qdir = strf("%s/q", dir);
	char *path = strf("%s/bad-\xff\xfe-\x01name-\xc3\xa9.bin", dir);
	char *shown = strf("%s/bad-?"
			   "?-\x01name-\xc3\xa9.bin",
			   dir);
	struct vg_quarantine_item it, *items;
	const char *jpath, *jhex;
	char err[ERRLEN], *rec, hex[2 * PATH_MAX + 1];
	json_error_t jerr;
	struct stat dst;
	size_t n, bad, i;
	struct src s;
	enum vg_err rc;
	json_t *o;

	(void)state;
	make_src(&s, path, 777, 0640);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &s.st, NULL, "Rule\xff",
				&it, err, sizeof(err));
	assert_ok(rc, err);
	assert_string_equal(it.path, path);
	assert_string_equal(it.rule, "Rule?");
	rec = strf("%s/%s.json", qdir, it.id);
	o = json_load_file(rec, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(
	    json_unpack(o, "{s:s, s:s}", "path", &jpath, "path_hex", &jhex), 0);
	for (i = 0; path[i] != '\0'; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)path[i]);
	assert_string_equal(jhex, hex);
	assert_string_equal(jpath, shown);
	json_decref(o);
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].path, path);
	vg_quarantine_items_free(items, n);

	/* Messages show such bytes escaped. */
	assert_int_equal(stat(dir, &dst), 0);
	rc = vg_quarantine_file(qdir, s.fd, s.path, &dst, NULL, "R", NULL, err,
				sizeof(err));
	assert_int_equal(rc, VG_EINVAL);
	assert_contains(err, "bad-\\xff\\xfe-\\x01name-\\xc3\\xa9.bin: not a "
			     "regular file");

	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(path, &s);
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	free(rec);
	free(shown);
	free(path);
	free(qdir);
	free(dir);
}

/*
 * What a crash can leave: a record whose data is still ID.data.tmp
 * (restorable), and temporary files without a record (ignored).
 */
static void
test_crash_leftovers(void **state)
{
	char *dir = test_dir("crash"), *qdir = strf("%s/q", dir);
	char *from, *to, *t1, *t2, *want;
	struct vg_quarantine_item it, *items;
	char err[ERRLEN];
	size_t n, bad;
	struct src s;
	enum vg_err rc;

	(void)state;
	quarantine_new(&s, dir, "f.bin", qdir, 3000, &it);
	from = strf("%s/%s.data", qdir, it.id);
	to = strf("%s/%s.data.tmp", qdir, it.id);
	assert_int_equal(rename(from, to), 0);
	assert_listed(qdir, &it);
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(s.path, &s);
	assert_listing(qdir, "");
	vg_quarantine_item_fini(&it);
	src_fini(&s);

	t1 = strf("%s/20260101T000000Z-0badf00d.json.tmp", qdir);
	t2 = strf("%s/20260101T000000Z-0badf00d.data.tmp", qdir);
	put_text(t1, "{\"id\": \"20260101T000000Z-0badf00d\"");
	put_text(t2, "bytes");
	assert_int_equal(vg_quarantine_list(qdir, &items, &n, &bad), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 0);
	quarantine_new(&s, dir, "g.bin", qdir, 10, &it);
	want = strf("20260101T000000Z-0badf00d.data.tmp "
		    "20260101T000000Z-0badf00d.json.tmp %s.data %s.json",
		    it.id, it.id);
	assert_listing(qdir, want);
	assert_listed(qdir, &it);
	rc =
	    vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err, sizeof(err));
	assert_ok(rc, err);
	assert_restored(s.path, &s);
	vg_quarantine_item_fini(&it);
	src_fini(&s);
	free(want);
	free(t1);
	free(t2);
	free(from);
	free(to);
	free(qdir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* An agent that is not root                                           */
/* ------------------------------------------------------------------ */

#define CHILD_CHECK(c)                                                         \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "child %s:%d: %s; err: %s\n",          \
				__FILE__, __LINE__, #c, err);                  \
			_exit(1);                                              \
		}                                                              \
	} while (0)

/*
 * In a child as nobody: its own file is moved and restored (mode 0 keeps
 * even its owner out); root's file is copied, and restored as nobody's
 * (no chown, not an error). Plain checks: no cmocka in the child.
 */
static void
as_nobody(const char *dir, const char *rootfile)
{
	struct timespec ts[2] = {{ATIME, ATIME_NS}, {MTIME, MTIME_NS}};
	struct vg_quarantine_item it;
	char err[ERRLEN] = "", path[PATH_MAX], qdir[PATH_MAX];
	char data[PATH_MAX + 64];
	unsigned char buf[64];
	struct stat st, sb;
	int fd;

	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(NOBODY) == 0);
	CHILD_CHECK(setuid(NOBODY) == 0);
	snprintf(path, sizeof(path), "%s/mine.txt", dir);
	snprintf(qdir, sizeof(qdir), "%s/q", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHILD_CHECK(fd >= 0 && write(fd, "mine\n", 5) == 5 && close(fd) == 0);
	CHILD_CHECK(chmod(path, 0640) == 0);
	CHILD_CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
	fd = open(path, O_RDONLY);
	CHILD_CHECK(fd >= 0 && fstat(fd, &st) == 0);
	CHILD_CHECK(vg_quarantine_file(qdir, fd, path, &st, NULL, "R", &it, err,
				       sizeof(err)) == VG_OK);
	CHILD_CHECK(close(fd) == 0);
	snprintf(data, sizeof(data), "%s/%s.data", qdir, it.id);
	CHILD_CHECK(lstat(data, &sb) == 0 && sb.st_ino == st.st_ino &&
		    (sb.st_mode & 07777) == 0 && sb.st_uid == NOBODY);
	CHILD_CHECK(open(data, O_RDONLY) == -1 && errno == EACCES);
	CHILD_CHECK(vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err,
					  sizeof(err)) == VG_OK);
	CHILD_CHECK(lstat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640 &&
		    sb.st_uid == NOBODY && sb.st_mtim.tv_sec == MTIME &&
		    sb.st_mtim.tv_nsec == MTIME_NS &&
		    sb.st_atim.tv_sec == ATIME &&
		    sb.st_atim.tv_nsec == ATIME_NS && sb.st_size == 5);
	fd = open(path, O_RDONLY);
	CHILD_CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5 &&
		    memcmp(buf, "mine\n", 5) == 0 && close(fd) == 0);
	vg_quarantine_item_fini(&it);

	/* Root's file, 0644, in nobody's folder. */
	fd = open(rootfile, O_RDONLY);
	CHILD_CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == 0);
	CHILD_CHECK(vg_quarantine_file(qdir, fd, rootfile, &st, NULL, "R", &it,
				       err, sizeof(err)) == VG_OK);
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(lstat(rootfile, &sb) == -1 && errno == ENOENT);
	snprintf(data, sizeof(data), "%s/%s.data", qdir, it.id);
	CHILD_CHECK(lstat(data, &sb) == 0 && sb.st_ino != st.st_ino &&
		    (sb.st_mode & 07777) == 0 && sb.st_uid == NOBODY);
	CHILD_CHECK(vg_quarantine_restore(qdir, it.id, NULL, 0, NULL, err,
					  sizeof(err)) == VG_OK);
	CHILD_CHECK(lstat(rootfile, &sb) == 0 && sb.st_uid == NOBODY &&
		    (sb.st_mode & 07777) == 0644 && sb.st_size == 5);
	CHILD_CHECK(rmdir(qdir) == 0); /* empty again */
	vg_quarantine_item_fini(&it);
	_exit(0);
}

static void
test_not_root(void **state)
{
	char *dir, *rootfile;
	int status;
	pid_t pid;

	(void)state;
	if (!is_root())
		skip_because("already not root: the other tests cover it");
	dir = test_dir("nobody");
	rootfile = strf("%s/roots.txt", dir);
	write_file(rootfile, "root\n", 5, 0644);
	assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	assert_int_equal(chmod(tmpdir, 0711), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		as_nobody(dir, rootfile);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(tmpdir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(rootfile);
	free(dir);
}

/* Write a record of exactly len bytes (a good one padded with spaces) as
 * the only item of a new folder, and list it: 1 when it is listed, 0 when
 * it is counted bad. */
static size_t
list_padded(size_t len)
{
	static const char rec[] =
	    "{\"id\":\"20261201T101500Z-3f2a9c1e\",\"path\":\"/srv/x.php\","
	    "\"rule\":\"r\",\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855\",\"size\":0,\"uid\":0,"
	    "\"gid\":0,\"mode\":\"0644\",\"atime_ns\":1,\"mtime_ns\":2,"
	    "\"quarantined_us\":3}";
	char dir[] = "/tmp/vg_test_qlim_XXXXXX", path[128];
	struct vg_quarantine_item *items = NULL;
	size_t n = 0, bad = 0;
	char *text;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	text = malloc(len);
	assert_non_null(text);
	assert_true(len > sizeof(rec));
	memset(text, ' ', len);
	memcpy(text, rec, sizeof(rec) - 1);
	snprintf(path, sizeof(path), "%s/20261201T101500Z-3f2a9c1e.json", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(text);
	assert_int_equal(vg_quarantine_list(dir, &items, &n, &bad), VG_OK);
	assert_int_equal(n + bad, 1);
	if (n)
		assert_string_equal(items[0].path, "/srv/x.php");
	vg_quarantine_items_free(items, n);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	return n;
}

/* A record of VG_QUARANTINE_RECORD_MAX bytes is read; one byte more is
 * not (SECURITY.md "Limits"). */
static void
test_record_size_limit(void **state)
{
	(void)state;
	assert_int_equal(list_padded(VG_QUARANTINE_RECORD_MAX), 1);
	assert_int_equal(list_padded(VG_QUARANTINE_RECORD_MAX + 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_size_limit),
	    cmocka_unit_test(test_round_trip_same_fs),
	    cmocka_unit_test(test_round_trip_cross_fs),
	    cmocka_unit_test(test_large_copy),
	    cmocka_unit_test(test_vanished),
	    cmocka_unit_test(test_replaced),
	    cmocka_unit_test(test_restore_existing_dest),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_enospc),
	    cmocka_unit_test(test_hard_link),
	    cmocka_unit_test(test_non_utf8_path),
	    cmocka_unit_test(test_crash_leftovers),
	    cmocka_unit_test(test_not_root),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
