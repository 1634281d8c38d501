/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/sandbox.c: the message codec refuses every kind of
 * bad header (short, oversize, magic or version, type, length field, the
 * payload a type allows), the event check refuses what the packet path
 * never sends (no line end, NUL, not JSON, duplicate keys, a foreign
 * event_type, an oversize line), a message goes over a real
 * SOCK_SEQPACKET pair intact, and the lock-down in a forked child: its
 * own /proc/self/status then shows no capability and seccomp mode 2, a
 * permitted call works, and a forbidden one (openat, socket) kills it by
 * SIGSYS.
 */
#define _GNU_SOURCE

#include "sandbox.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATS_LEN 64u

static size_t
mk(uint8_t *buf, uint32_t magic, uint32_t type, uint32_t len_field,
   size_t payload)
{
	uint32_t h[3] = {magic, type, len_field};

	memcpy(buf, h, sizeof(h));
	memset(buf + VG_SB_HDR, '{', payload);
	return VG_SB_HDR + payload;
}

static void
expect_bad(const uint8_t *buf, size_t n, const char *needle)
{
	struct vg_sb_msg m;
	char err[256] = "";

	assert_int_equal(vg_sb_decode(buf, n, STATS_LEN, &m, err, sizeof(err)),
			 VG_EMALFORMED);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static void
decode_good(void **state)
{
	static uint8_t buf[VG_SB_HDR + VG_SB_MAX_PAYLOAD];
	struct vg_sb_msg m;
	char err[256];
	size_t n;

	(void)state;
	n = mk(buf, VG_SB_MAGIC, VG_SB_STATS, STATS_LEN, STATS_LEN);
	assert_int_equal(vg_sb_decode(buf, n, STATS_LEN, &m, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.type, VG_SB_STATS);
	assert_int_equal(m.len, STATS_LEN);
	assert_ptr_equal(m.payload, buf + VG_SB_HDR);
	n = mk(buf, VG_SB_MAGIC, VG_SB_STOP, 0, 0);
	assert_int_equal(vg_sb_decode(buf, n, STATS_LEN, &m, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.type, VG_SB_STOP);
	n = mk(buf, VG_SB_MAGIC, VG_SB_RULES_OK, VG_SB_RULES_LEN,
	       VG_SB_RULES_LEN);
	assert_int_equal(vg_sb_decode(buf, n, STATS_LEN, &m, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.type, VG_SB_RULES_OK);
	/* The largest events message there may be. */
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, VG_SB_MAX_PAYLOAD,
	       VG_SB_MAX_PAYLOAD);
	assert_int_equal(vg_sb_decode(buf, n, STATS_LEN, &m, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(m.len, VG_SB_MAX_PAYLOAD);
}

static void
decode_bad(void **state)
{
	static uint8_t buf[VG_SB_HDR + VG_SB_MAX_PAYLOAD + 16];
	size_t n;

	(void)state;
	/* Shorter than a header, down to nothing. */
	mk(buf, VG_SB_MAGIC, VG_SB_BYE, 0, 0);
	expect_bad(buf, 0, "shorter than its header");
	expect_bad(buf, VG_SB_HDR - 1, "shorter than its header");
	/* Over the limit (what recv() with MSG_TRUNC reports). */
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, VG_SB_MAX_PAYLOAD + 1,
	       VG_SB_MAX_PAYLOAD + 1);
	expect_bad(buf, n, "over the limit");
	/* Magic, and version: the same word. */
	n = mk(buf, 0x12345678u, VG_SB_BYE, 0, 0);
	expect_bad(buf, n, "magic or version");
	n = mk(buf, VG_SB_MAGIC + 1, VG_SB_BYE, 0, 0); /* version 2 */
	expect_bad(buf, n, "magic or version");
	/* Types. */
	n = mk(buf, VG_SB_MAGIC, 0, 0, 0);
	expect_bad(buf, n, "unknown message type 0");
	n = mk(buf, VG_SB_MAGIC, VG_SB__TYPES, 0, 0);
	expect_bad(buf, n, "unknown message type");
	n = mk(buf, VG_SB_MAGIC, 0xffffffffu, 0, 0);
	expect_bad(buf, n, "unknown message type");
	/* The length field must be what came, exactly. */
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, 11, 10);
	expect_bad(buf, n, "length field 11 but 10");
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, 9, 10);
	expect_bad(buf, n, "length field 9 but 10");
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, 0xffffffffu, 10);
	expect_bad(buf, n, "length field");
	/* The scanner child's messages: rules exactly VG_SB_RULES_LEN, scans
	 * and verdicts never empty. */
	n = mk(buf, VG_SB_MAGIC, VG_SB_RULES, VG_SB_RULES_LEN - 1,
	       VG_SB_RULES_LEN - 1);
	expect_bad(buf, n, "expected 16");
	n = mk(buf, VG_SB_MAGIC, VG_SB_RULES_OK, VG_SB_RULES_LEN + 1,
	       VG_SB_RULES_LEN + 1);
	expect_bad(buf, n, "expected 16");
	n = mk(buf, VG_SB_MAGIC, VG_SB_SCAN, 0, 0);
	expect_bad(buf, n, "without payload");
	n = mk(buf, VG_SB_MAGIC, VG_SB_RESULT, 0, 0);
	expect_bad(buf, n, "without payload");
	/* What each type allows. */
	n = mk(buf, VG_SB_MAGIC, VG_SB_STATS, STATS_LEN - 8, STATS_LEN - 8);
	expect_bad(buf, n, "stats message of 56 bytes (expected 64)");
	n = mk(buf, VG_SB_MAGIC, VG_SB_STATS, STATS_LEN + 8, STATS_LEN + 8);
	expect_bad(buf, n, "stats message");
	n = mk(buf, VG_SB_MAGIC, VG_SB_STOP, 1, 1);
	expect_bad(buf, n, "expected none");
	n = mk(buf, VG_SB_MAGIC, VG_SB_BYE, 4, 4);
	expect_bad(buf, n, "expected none");
	n = mk(buf, VG_SB_MAGIC, VG_SB_RELOAD, 4, 4);
	expect_bad(buf, n, "expected none");
	n = mk(buf, VG_SB_MAGIC, VG_SB_EVENTS, 0, 0);
	expect_bad(buf, n, "without events");
}

static void
expect_events(const char *s, size_t len, size_t max_line, int ok,
	      unsigned want_n, const char *needle)
{
	char err[256] = "";
	unsigned n = 99;
	enum vg_err rc = vg_sb_check_events((const uint8_t *)s, len, max_line,
					    &n, err, sizeof(err));

	if (ok) {
		if (rc != VG_OK)
			fail_msg("refused: %s", err);
		assert_int_equal(n, want_n);
		return;
	}
	if (rc != VG_EMALFORMED)
		fail_msg("accepted, expected \"%s\"", needle);
	assert_int_equal(n, 0);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

#define EV(s) (s), sizeof(s) - 1

static void
events_check(void **state)
{
	(void)state;
	expect_events(EV("{\"event_type\":\"alert\",\"a\":1}\n"), 1024, 1, 1,
		      NULL);
	expect_events(EV("{\"event_type\":\"alert\"}\n"
			 "{\"event_type\":\"flow\",\"x\":[1,2]}\n"),
		      1024, 1, 2, NULL);
	expect_events(EV("{\"event_type\":\"alert\"}"), 1024, 0, 0, "no end");
	expect_events(EV("{\"event_type\":\"alert\"}\n\n"), 1024, 0, 0,
		      "line 2: not a JSON object");
	expect_events(EV("{\"event_type\":\"alert\"}\n{\"event_\0type\"}\n"),
		      1024, 0, 0, "line 2: holds a NUL");
	expect_events(EV("{\"event_type\":\"alert\"\n"), 1024, 0, 0,
		      "line 1: not JSON");
	expect_events(EV("{\"event_type\":\"alert\"} {}\n"), 1024, 0, 0,
		      "not JSON");
	expect_events(EV("[1]\n"), 1024, 0, 0, "not a JSON object");
	expect_events(EV("{\"a\":1}\n"), 1024, 0, 0, "no event_type");
	expect_events(EV("{\"event_type\":3}\n"), 1024, 0, 0, "no event_type");
	expect_events(EV("{\"event_type\":\"alert\",\"event_type\":\"x\"}\n"),
		      1024, 0, 0, "event_type twice");
	/* The child may not speak for the agent, the file scanner or the
	 * stats. */
	expect_events(EV("{\"event_type\":\"agent\"}\n"), 1024, 0, 0,
		      "\"agent\" is not the packet path's");
	expect_events(EV("{\"event_type\":\"fileinfo\"}\n"), 1024, 0, 0,
		      "not the packet path's");
	expect_events(EV("{\"event_type\":\"stats\"}\n"), 1024, 0, 0,
		      "not the packet path's");
	/* 23 bytes with its end: a limit of 23 takes it, 22 does not. */
	/* The checker allocates nothing; it is strict all the same. */
	expect_events(EV("{\"event_type\":\"flow\",\"a\":{\"b\":[1,-2.5e3,"
			 "true,false,null,\"\\u00e9\\n\xc3\xa9\"]}}\n"),
		      1024, 1, 1, NULL);
	expect_events(EV("{\"event_type\":\"alert\",\"a\":01}\n"), 1024, 0, 0,
		      "not JSON");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":[1,]}\n"), 1024, 0, 0,
		      "not JSON");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":\"\\x\"}\n"), 1024, 0,
		      0, "bad escape");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":\"\xc0\xaf\"}\n"),
		      1024, 0, 0, "invalid UTF-8");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":\"\xed\xa0\x80\"}\n"),
		      1024, 0, 0, "invalid UTF-8");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":\"\t\"}\n"), 1024, 0,
		      0, "control character");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":tru}\n"), 1024, 0, 0,
		      "not JSON");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":[[[[[[[[[[[[[[[[[[["
			 "[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
			 "]]]]]]]]]]]]]]]}\n"),
		      1024, 0, 0, "nested too deep");
	expect_events(EV("{\"a\":{\"event_type\":\"alert\"}}\n"), 1024, 0, 0,
		      "no event_type");
	expect_events(EV("{\"event_type\":\"alert\",\"a\":\"x}\n"), 1024, 0, 0,
		      "unterminated");
	expect_events(EV("{\"event_type\":\"alert\"}\n"), 23, 1, 1, NULL);
	expect_events(EV("{\"event_type\":\"alert\"}\n"), 22, 0, 0,
		      "line 1: 23 bytes, over the limit of 22");
	expect_events("", 0, 1024, 0, 0, "no events");
}

static void
send_recv(void **state)
{
	static uint8_t buf[VG_SB_HDR + VG_SB_MAX_PAYLOAD + 1];
	static char big[VG_SB_MAX_PAYLOAD + 1];
	struct vg_sb_msg m;
	char err[256];
	ssize_t n;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(vg_sb_send(sv[0], VG_SB_EVENTS, "{}\n", 3), VG_OK);
	n = recv(sv[1], buf, sizeof(buf), MSG_TRUNC);
	assert_int_equal(n, VG_SB_HDR + 3);
	assert_int_equal(
	    vg_sb_decode(buf, (size_t)n, STATS_LEN, &m, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(m.type, VG_SB_EVENTS);
	assert_memory_equal(m.payload, "{}\n", 3);
	assert_int_equal(vg_sb_send(sv[0], VG_SB_BYE, NULL, 0), VG_OK);
	n = recv(sv[1], buf, sizeof(buf), MSG_TRUNC);
	assert_int_equal(n, VG_SB_HDR);
	/* Too large to send at all. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(vg_sb_send(sv[0], VG_SB_EVENTS, big, sizeof(big)),
			 VG_EINVAL);
	close(sv[0]);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 0);
	assert_int_equal(vg_sb_send(sv[1], VG_SB_STOP, NULL, 0), VG_EIO);
	close(sv[1]);
}

static void *
nothing(void *arg)
{
	return arg;
}

/* Fork a child that locks itself down and then does what `what` says;
 * the child's wait status. */
static int
locked_child(enum vg_sb_profile profile, const char *what)
{
	int sv[2], st = 0;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		/* Read before the filter: afterwards it cannot be opened. */
		int status_fd = open("/proc/self/status", O_RDONLY);
		int keep[1] = {status_fd};
		/* An eventfd, as libpcap leaves one (a packet child keeps it,
		 * a scanner child must not). */
		int evfd = eventfd(0, EFD_NONBLOCK);

		close(sv[0]);
		if (vg_sandbox_enter(profile, keep, 1, sv[1], 0, err,
				     sizeof(err)) != VG_OK)
			_exit(10);
		if (strcmp(what, "status") == 0) {
			char buf[4096];
			ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

			if (n <= 0)
				_exit(11);
			buf[n] = '\0';
			/* The parent checks the text. */
			if (vg_sb_send(sv[1], VG_SB_EVENTS, buf, (size_t)n) !=
			    VG_OK)
				_exit(12);
			_exit(0);
		}
		if (strcmp(what, "openat") == 0) {
			int fd = openat(AT_FDCWD, "/etc/hostname", O_RDONLY);

			/* Only a scanner child gets here, and reads. */
			if (fd < 0)
				_exit(13);
			close(fd);
		}
		if (strcmp(what, "openat-write") == 0)
			(void)!openat(AT_FDCWD, "/nonexistent/x",
				      O_RDONLY | O_CREAT, 0600);
		if (strcmp(what, "openat-rdwr") == 0)
			(void)!openat(AT_FDCWD, "/etc/hostname", O_RDWR);
		if (strcmp(what, "openat-trunc") == 0)
			(void)!openat(AT_FDCWD, "/etc/hostname",
				      O_RDONLY | O_TRUNC);
		if (strcmp(what, "eventfd-kept") == 0 ||
		    strcmp(what, "eventfd-closed") == 0) {
			uint64_t v;
			ssize_t r = read(evfd, &v, sizeof(v));
			int want =
			    strcmp(what, "eventfd-kept") == 0 ? EAGAIN : EBADF;

			if (r >= 0 || errno != want)
				_exit(15);
		}
		if (strcmp(what, "thread") == 0) {
			pthread_t t;

			if (pthread_create(&t, NULL, nothing, NULL) != 0)
				_exit(14);
			pthread_join(t, NULL);
		}
		if (strcmp(what, "socket") == 0)
			(void)!socket(AF_INET, SOCK_DGRAM, 0);
		if (strcmp(what, "write") == 0) /* fd 1: not allowed */
			(void)!write(1, "x", 1);
		_exit(0);
	}
	close(sv[1]);
	if (strcmp(what, "status") == 0) {
		static uint8_t buf[8192];
		ssize_t n = recv(sv[0], buf, sizeof(buf) - 1, 0);
		const char *t = (const char *)buf + VG_SB_HDR;

		assert_true(n > (ssize_t)VG_SB_HDR);
		buf[n] = '\0';
		assert_non_null(strstr(t, "CapEff:\t0000000000000000\n"));
		assert_non_null(strstr(t, "CapPrm:\t0000000000000000\n"));
		assert_non_null(strstr(t, "CapInh:\t0000000000000000\n"));
		/* As root, or where user namespaces are allowed. */
		if (geteuid() == 0)
			assert_non_null(
			    strstr(t, "CapBnd:\t0000000000000000\n"));
		assert_non_null(strstr(t, "CapAmb:\t0000000000000000\n"));
		assert_non_null(strstr(t, "NoNewPrivs:\t1\n"));
		assert_non_null(strstr(t, "Seccomp:\t2\n"));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(sv[0]);
	return st;
}

static void
assert_exits(enum vg_sb_profile profile, const char *what)
{
	int st = locked_child(profile, what);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
assert_killed(enum vg_sb_profile profile, const char *what)
{
	int st = locked_child(profile, what);

	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void
lockdown(void **state)
{
	pthread_t t;

	(void)state;
	/* As the engine does before its first child: glibc's first thread
	 * sets signal handlers, which the packet filter refuses. */
	assert_int_equal(pthread_create(&t, NULL, nothing, NULL), 0);
	pthread_join(t, NULL);
	assert_exits(VG_SB_PACKETS, "status");
	assert_exits(VG_SB_PACKETS, "nothing");
	assert_exits(VG_SB_PACKETS, "thread");
	assert_exits(VG_SB_PACKETS, "eventfd-kept");
	assert_killed(VG_SB_PACKETS, "openat");
	assert_killed(VG_SB_PACKETS, "socket");
	assert_killed(VG_SB_PACKETS, "write");
}

/* The scanner's profile: reading is allowed, nothing else. */
static void
lockdown_files(void **state)
{
	(void)state;
	assert_exits(VG_SB_FILES, "status");
	assert_exits(VG_SB_FILES, "nothing");
	assert_exits(VG_SB_FILES, "openat");
	assert_exits(VG_SB_FILES, "eventfd-closed");
	assert_killed(VG_SB_FILES, "openat-write");
	assert_killed(VG_SB_FILES, "openat-rdwr");
	assert_killed(VG_SB_FILES, "openat-trunc");
	assert_killed(VG_SB_FILES, "socket");
	assert_killed(VG_SB_FILES, "write");
	assert_killed(VG_SB_FILES, "thread");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(decode_good),  cmocka_unit_test(decode_bad),
	    cmocka_unit_test(events_check), cmocka_unit_test(send_recv),
	    cmocka_unit_test(lockdown),     cmocka_unit_test(lockdown_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
