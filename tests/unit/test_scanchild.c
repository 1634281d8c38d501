/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/scanchild.c: a verdict encoded by the child's side
 * decodes to what the scanner found; every malformed verdict a hostile
 * child could send is refused, and no flipped byte or cut makes the
 * decoder read out of bounds (ASan watches). Then real children: this
 * test binary started again with the internal command plays the child,
 * either the real one (vg_scanchild_main) or a hostile one, chosen by
 * VG_TEST_CHILD in its environment.
 */
#define _GNU_SOURCE
#include "sandbox.h"
#include "scanchild.h"
#include "yarascan.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static const char RULES[] =
    "rule First { strings: $a = \"alpha\" $b = \"beta\" condition: any of "
    "them }\n"
    "rule Second { strings: $x = \"gamma\" $y = \"delta\" $z = \"eps\" "
    "condition: $y or $z or ($x and filesize > 1000000) }\n"
    "rule Third { condition: filesize > 0 }\n";

static const char DATA[] = "alpha beta alpha delta eps eps eps eps eps eps "
			   "eps eps eps eps";

static struct vg_yara *
load_rules(void)
{
	char path[] = "/tmp/vg_test_scanchild_XXXXXX";
	char *paths[1] = {path};
	struct vg_yara *y = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, RULES, strlen(RULES)),
			 (ssize_t)strlen(RULES));
	close(fd);
	assert_int_equal(vg_yara_load(&y, paths, 1, stderr), VG_OK);
	unlink(path);
	return y;
}

/* What the in-process scanner finds in DATA, encoded as a child would. */
static size_t
encode_scan(struct vg_yara *y, uint8_t *buf)
{
	struct vg_yara_scanner *s = NULL;
	const struct vg_file_match *m;
	unsigned n, more;
	char sha[65];
	size_t len;

	assert_int_equal(vg_yara_scanner_new(&s, y, 10), VG_OK);
	assert_int_equal(vg_yara_scan(s, DATA, strlen(DATA), &m, &n, &more),
			 VG_OK);
	assert_int_equal(n, 3);
	vg_sha256_hex(sha, DATA, strlen(DATA));
	len =
	    vg_scanchild_encode_result(buf, VG_SB_MAX_PAYLOAD, y, VG_SCAN_DONE,
				       strlen(DATA), sha, m, n, more);
	vg_yara_scanner_free(s);
	return len;
}

static void
round_trip(void **state)
{
	struct vg_yara *y = load_rules();
	struct vg_scanchild *sc = NULL;
	struct vg_scanchild_result r;
	uint8_t *buf = malloc(VG_SB_MAX_PAYLOAD);
	char err[256] = "";
	size_t len;

	(void)state;
	(void)strf;
	assert_int_equal(vg_scanchild_new(&sc, NULL), VG_OK);
	len = encode_scan(y, buf);
	assert_ok(vg_scanchild_decode_result(sc, y, strlen(DATA), buf, len, &r,
					     err, sizeof(err)),
		  err);
	assert_int_equal(r.status, VG_SCAN_DONE);
	assert_int_equal(r.len, strlen(DATA));
	assert_int_equal(r.n, 3);
	assert_string_equal(r.matches[0].rule->name, "First");
	assert_int_equal(r.matches[0].n_strings, 2);
	assert_string_equal(r.matches[0].strings[0].id, "$a");
	assert_int_equal(r.matches[0].strings[0].count, 2);
	assert_int_equal(r.matches[0].strings[0].offsets[1], 11);
	assert_string_equal(r.matches[1].rule->name, "Second");
	/* $x did not match: the strings are $y and $z, in rule order. */
	assert_int_equal(r.matches[1].n_strings, 2);
	assert_string_equal(r.matches[1].strings[0].id, "$y");
	assert_string_equal(r.matches[1].strings[1].id, "$z");
	assert_int_equal(r.matches[1].strings[1].idx, 2);
	/* 10 matches of $z, 8 offsets kept. */
	assert_int_equal(r.matches[1].strings[1].count, 10);
	assert_int_equal(r.matches[1].strings[1].n, 8);
	assert_string_equal(r.matches[2].rule->name, "Third");
	assert_int_equal(r.matches[2].n_strings, 0);
	{
		char want[65];

		vg_sha256_hex(want, DATA, strlen(DATA));
		assert_string_equal(r.sha256, want);
	}
	/* Bytes scanned can be fewer than the file's (it shrank), never
	 * more. */
	assert_int_equal(vg_scanchild_decode_result(sc, y, strlen(DATA) - 1,
						    buf, len, &r, err,
						    sizeof(err)),
			 VG_EMALFORMED);
	assert_contains(err, "bytes scanned");
	vg_scanchild_free(sc);
	vg_yara_unref(y);
	free(buf);
}

/* Offsets in an encoded verdict of DATA (see the layout in scanchild.h). */
#define OFF_STATUS 0
#define OFF_FLAGS  4
#define OFF_SHA    16
#define OFF_N      80
#define OFF_MORE   84
#define OFF_RULE0  88
#define OFF_NSTR0  92
#define OFF_IDX00  96
#define OFF_NOFF00 100
#define OFF_CNT00  104
#define OFF_OFF000 112

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void
refused(struct vg_scanchild *sc, struct vg_yara *y, const uint8_t *p,
	size_t len, const char *why)
{
	struct vg_scanchild_result r;
	char err[256] = "";

	assert_int_equal(vg_scanchild_decode_result(sc, y, strlen(DATA), p, len,
						    &r, err, sizeof(err)),
			 VG_EMALFORMED);
	if (strstr(err, why) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", why, err);
}

static void
malformed(void **state)
{
	struct vg_yara *y = load_rules();
	struct vg_scanchild *sc = NULL;
	uint8_t *good = malloc(VG_SB_MAX_PAYLOAD);
	uint8_t *b = malloc(VG_SB_MAX_PAYLOAD + 8);
	size_t len;

	(void)state;
	assert_int_equal(vg_scanchild_new(&sc, NULL), VG_OK);
	len = encode_scan(y, good);
#define AGAIN() memcpy(b, good, len)
	AGAIN();
	put32(b + OFF_STATUS, VG_SCAN__STATUSES);
	refused(sc, y, b, len, "unknown scan status");
	AGAIN();
	put32(b + OFF_FLAGS, 2);
	refused(sc, y, b, len, "unknown flags");
	AGAIN();
	b[OFF_SHA] = 'A';
	refused(sc, y, b, len, "lower-case hex");
	AGAIN();
	put32(b + OFF_FLAGS, 0);
	refused(sc, y, b, len, "SHA-256 without its flag");
	AGAIN();
	put32(b + OFF_N, VG_YARA_MAX_MATCHES + 1);
	refused(sc, y, b, len, "matches (at most");
	AGAIN();
	put32(b + OFF_MORE, 4);
	refused(sc, y, b, len, "more matches than");
	AGAIN();
	put32(b + OFF_RULE0, 3);
	refused(sc, y, b, len, "rule 3 of 3");
	AGAIN();
	put32(b + OFF_NSTR0, VG_YARA_MAX_STRINGS + 1);
	refused(sc, y, b, len, "strings (at most");
	AGAIN();
	put32(b + OFF_IDX00, 2); /* First has $a and $b only */
	refused(sc, y, b, len, "has no string 2");
	AGAIN();
	put32(b + OFF_IDX00, 1); /* then $b (1) is not after it */
	refused(sc, y, b, len, "out of order");
	AGAIN();
	put64(b + OFF_CNT00, 0);
	refused(sc, y, b, len, "offsets for a count of 0");
	AGAIN();
	put64(b + OFF_CNT00, 3); /* count 3 needs 3 offsets, 2 sent */
	refused(sc, y, b, len, "2 offsets for a count of 3");
	AGAIN();
	put64(b + OFF_OFF000, strlen(DATA));
	refused(sc, y, b, len, "past the");
	AGAIN();
	b[len] = 0;
	refused(sc, y, b, len + 1, "bytes after the verdict");
	refused(sc, y, good, 40, "shorter than its fixed part");
	/* A failed scan with matches. */
	AGAIN();
	put32(b + OFF_STATUS, VG_SCAN_FAILED);
	refused(sc, y, b, len, "failed scan");
	/* Every cut, and every byte flipped: refused or in bounds. */
	{
		struct vg_scanchild_result r;
		char err[256];
		size_t i;
		unsigned bit;

		for (i = 0; i < len; i++) {
			uint8_t *cut = malloc(i ? i : 1);

			memcpy(cut, good, i);
			assert_int_equal(
			    vg_scanchild_decode_result(sc, y, strlen(DATA), cut,
						       i, &r, err, sizeof(err)),
			    VG_EMALFORMED);
			free(cut);
			for (bit = 0; bit < 8; bit++) {
				AGAIN();
				b[i] ^= (uint8_t)(1u << bit);
				if (vg_scanchild_decode_result(
					sc, y, strlen(DATA), b, len, &r, err,
					sizeof(err)) == VG_OK) {
					assert_true(r.n <= VG_YARA_MAX_MATCHES);
					assert_true(r.len <= strlen(DATA));
				}
			}
		}
	}
#undef AGAIN
	vg_scanchild_free(sc);
	vg_yara_unref(y);
	free(good);
	free(b);
}

/* ------------------------------------------------------------------ */
/* Real children: this binary again                                    */

static int
open_data(void)
{
	char path[] = "/tmp/vg_test_scanchild_data_XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, DATA, strlen(DATA)), (ssize_t)strlen(DATA));
	unlink(path);
	return fd;
}

/* Until process pid has ended (a zombie, not yet reaped), at most 10 s:
 * its socket is closed by then. */
static void
wait_zombie(long pid)
{
	int i;

	for (i = 0; i < 1000; i++) {
		char path[64], buf[256];
		struct timespec ts = {0, 10 * 1000000L};
		FILE *f;
		char *p;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		f = fopen(path, "r");
		if (f == NULL)
			return;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		p = p ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'Z')
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("process %ld did not end", pid);
}

static void
real_child(void **state)
{
	struct vg_yara *y = load_rules();
	struct vg_scanchild *sc = NULL;
	struct vg_scanchild_result r;
	char err[256] = "";
	int started = 0, fd = open_data();
	long pid;

	(void)state;
	setenv("VG_TEST_CHILD", "real", 1);
	assert_int_equal(vg_scanchild_new(&sc, NULL), VG_OK);
	assert_ok(vg_scanchild_ready(sc, y, 10, 0, &started, err, sizeof(err)),
		  err);
	assert_int_equal(started, 1);
	pid = vg_scanchild_pid(sc);
	assert_true(pid > 0);
	assert_ok(vg_scanchild_scan(sc, fd, strlen(DATA), "/x/data.txt", 1, &r,
				    err, sizeof(err)),
		  err);
	assert_int_equal(r.status, VG_SCAN_DONE);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.matches[1].strings[1].id, "$z");
	assert_int_equal(r.matches[1].strings[1].count, 10);
	{
		char want[65];

		vg_sha256_hex(want, DATA, strlen(DATA));
		assert_string_equal(r.sha256, want);
	}
	/* Ready again with the same set: the same child, nothing sent. */
	assert_ok(vg_scanchild_ready(sc, y, 10, 0, &started, err, sizeof(err)),
		  err);
	assert_int_equal(started, 0);
	assert_int_equal(vg_scanchild_pid(sc), pid);
	/* A child killed from outside: the scan says to try again. */
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	wait_zombie(pid);
	assert_int_equal(vg_scanchild_scan(sc, fd, strlen(DATA), "/x/d", 0, &r,
					   err, sizeof(err)),
			 VG_EAGAIN);
	assert_contains(err, "signal 9");
	assert_ok(vg_scanchild_ready(sc, y, 10, 0, &started, err, sizeof(err)),
		  err);
	assert_int_equal(started, 1);
	assert_ok(vg_scanchild_scan(sc, fd, strlen(DATA), "/x/d", 0, &r, err,
				    sizeof(err)),
		  err);
	assert_int_equal(r.n, 3);
	vg_scanchild_free(sc);
	vg_yara_unref(y);
	close(fd);
}

/* A hostile child, made to do what mode says; the parent's verdict. */
static enum vg_err
hostile(const char *mode, char *err, size_t errlen)
{
	struct vg_yara *y = load_rules();
	struct vg_scanchild *sc = NULL;
	struct vg_scanchild_result r;
	int started = 0, fd = open_data();
	enum vg_err rc;

	setenv("VG_TEST_CHILD", mode, 1);
	assert_int_equal(vg_scanchild_new(&sc, NULL), VG_OK);
	assert_ok(vg_scanchild_ready(sc, y, 10, 0, &started, err, errlen), err);
	rc =
	    vg_scanchild_scan(sc, fd, strlen(DATA), "/x/d", 0, &r, err, errlen);
	/* Whatever it did, it is gone, and the next start waits. */
	assert_int_equal(vg_scanchild_pid(sc), 0);
	if (rc != VG_EAGAIN)
		assert_true(vg_scanchild_wait_us(sc) > 0);
	vg_scanchild_free(sc);
	vg_yara_unref(y);
	close(fd);
	return rc;
}

static void
hostile_children(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(hostile("garbage", err, sizeof(err)), VG_EMALFORMED);
	assert_contains(err, "rule 7 of 3");
	assert_int_equal(hostile("wrong-type", err, sizeof(err)),
			 VG_EMALFORMED);
	assert_contains(err, "unexpected message");
	assert_int_equal(hostile("fd", err, sizeof(err)), VG_EMALFORMED);
	assert_contains(err, "descriptor");
	assert_int_equal(hostile("bad-header", err, sizeof(err)),
			 VG_EMALFORMED);
	assert_contains(err, "magic");
	assert_int_equal(hostile("die", err, sizeof(err)), VG_EIO);
	assert_contains(err, "exited with status 9");
}

/* The hostile child: loads rules as the real one does (so the parent's
 * handshake passes), then answers a scan as mode says. */
static void
hostile_main(const char *mode)
{
	uint8_t *buf = malloc(VG_SB_HDR + VG_SB_MAX_PAYLOAD);
	const int sock = VG_SCANCHILD_FD;
	ssize_t n;

	for (;;) {
		uint8_t out[VG_SB_RULES_LEN + 200];
		struct vg_sb_msg m;
		char why[128];

		n = recv(sock, buf, VG_SB_HDR + VG_SB_MAX_PAYLOAD, 0);
		if (n <= 0 || vg_sb_decode(buf, (size_t)n, 0, &m, why,
					   sizeof(why)) != VG_OK)
			_exit(0);
		if (m.type == VG_SB_RULES) {
			uint32_t zero = 0, rules;

			memcpy(&rules, m.payload + 12, 4);
			memcpy(out, m.payload, 8);
			memcpy(out + 8, &rules, 4);
			memcpy(out + 12, &zero, 4);
			(void)vg_sb_send(sock, VG_SB_RULES_OK, out,
					 VG_SB_RULES_LEN);
			continue;
		}
		if (strcmp(mode, "die") == 0)
			_exit(9);
		memset(out, 0, sizeof(out));
		memset(out + 16, '0', 64);
		if (strcmp(mode, "garbage") == 0) {
			uint32_t one = 1, rule = 7;

			memcpy(out + 80, &one, 4);
			memcpy(out + 88, &rule, 4);
			(void)vg_sb_send(sock, VG_SB_RESULT, out, 96);
		} else if (strcmp(mode, "wrong-type") == 0) {
			(void)vg_sb_send(sock, VG_SB_RULES_OK, out,
					 VG_SB_RULES_LEN);
		} else if (strcmp(mode, "fd") == 0) {
			(void)vg_sb_send_fd(sock, VG_SB_RESULT, out, 88, 0);
		} else if (strcmp(mode, "bad-header") == 0) {
			memset(out, 0xff, 12);
			(void)!write(sock, out, 100);
		}
		pause();
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(malformed),
	    cmocka_unit_test(real_child),
	    cmocka_unit_test(hostile_children),
	};

	if (argc > 1 && strcmp(argv[1], VG_SCANCHILD_COMMAND) == 0) {
		const char *mode = getenv("VG_TEST_CHILD");

		if (mode == NULL || strcmp(mode, "real") == 0)
			vg_scanchild_main(argc, argv);
		hostile_main(mode);
		_exit(0);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
