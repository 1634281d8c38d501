/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/log.c: the per-call-site and the global rate
 * limits against a fake clock (lines counted in what stderr received),
 * the "suppressed" lines and their counts, threads sharing the global
 * limit, the level filter, long messages, and log.target's "auto"
 * (JOURNAL_STREAM against stderr's device and inode).
 */
#define _GNU_SOURCE

#include "log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECOND 1000000

static int64_t fake_now = 5 * SECOND;
static int saved_stderr = -1;
static FILE *capture;

static int64_t
fake_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

/* stderr into a temporary file for each test; fresh limits. */
static int
setup(void **state)
{
	(void)state;
	fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
	fake_now += 10 * SECOND;
	vg_log_set_clock(fake_clock);
	vg_log_set_level(LOG_DEBUG);
	vg_log_set_target(VG_LOG_STDERR);
	vg_log_set_global_limit(VG_LOG_GLOBAL_LIMIT);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	vg_log_set_clock(NULL);
	return 0;
}

/* What stderr got so far (owned), and its number of lines. */
static char *
captured(unsigned *lines)
{
	long n;
	char *buf;
	size_t got;

	fflush(stderr);
	n = lseek(fileno(capture), 0, SEEK_END);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	got = (size_t)pread(fileno(capture), buf, (size_t)n, 0);
	assert_int_equal(got, (size_t)n);
	*lines = 0;
	for (long i = 0; i < n; i++)
		if (buf[i] == '\n')
			(*lines)++;
	return buf;
}

static unsigned
count_of(const char *buf, const char *sub)
{
	unsigned n = 0;

	for (const char *p = buf; (p = strstr(p, sub)) != NULL; p++)
		n++;
	return n;
}

static void
per_call_site_limit(void **state)
{
	struct vg_ratelimit rl = {0};
	unsigned ok = 0, lines, i;
	char *out;

	(void)state;
	for (i = 0; i < 10; i++)
		if (vg_ratelimit_ok(&rl, 3, 1)) {
			ok++;
			vg_log(LOG_WARNING, "bad packet %u", i);
		}
	assert_int_equal(ok, 3);
	assert_int_equal(rl.suppressed, 7);
	/* Still inside the second: nothing more, nothing reported. */
	fake_now += SECOND / 2;
	assert_false(vg_ratelimit_ok(&rl, 3, 1));
	out = captured(&lines);
	assert_int_equal(lines, 3);
	assert_int_equal(count_of(out, "suppressed"), 0);
	free(out);
	/* The window ends: the count comes first, then the message. */
	fake_now += SECOND / 2;
	assert_true(vg_ratelimit_ok(&rl, 3, 1));
	out = captured(&lines);
	assert_int_equal(lines, 4);
	assert_contains(out, "8 similar messages suppressed");
	assert_contains(out, "vigil-agent[");
	assert_contains(out, ": warning: bad packet 0\n");
	assert_contains(out, ": warning: bad packet 2\n");
	assert_null(strstr(out, "bad packet 3"));
	free(out);
}

static void
global_limit(void **state)
{
	unsigned lines, i;
	char *out;

	(void)state;
	vg_log_set_global_limit(5);
	for (i = 0; i < 20; i++)
		vg_log(LOG_INFO, "line %u", i);
	out = captured(&lines);
	assert_int_equal(lines, 5);
	assert_contains(out, "line 4\n");
	assert_null(strstr(out, "line 5\n"));
	free(out);
	/* The next second: the account, then the line. */
	fake_now += SECOND;
	vg_log(LOG_INFO, "after");
	out = captured(&lines);
	assert_int_equal(lines, 7);
	assert_contains(out, ": warning: 15 messages suppressed (log rate "
			     "limit)\n");
	/* In that order. */
	assert_true(strstr(out, "15 messages") <
		    strstr(out, ": info: after\n"));
	free(out);
}

static void
global_flush(void **state)
{
	unsigned lines, i;
	char *out;

	(void)state;
	vg_log_set_global_limit(2);
	for (i = 0; i < 5; i++)
		vg_log(LOG_ERR, "flood %u", i);
	/* Not before the second is over. */
	vg_log_flush_suppressed();
	out = captured(&lines);
	assert_int_equal(lines, 2);
	free(out);
	fake_now += SECOND;
	vg_log_flush_suppressed();
	vg_log_flush_suppressed(); /* once only */
	out = captured(&lines);
	assert_int_equal(lines, 3);
	assert_int_equal(count_of(out, "3 messages suppressed"), 1);
	free(out);
	/* A new second with nothing held back reports nothing. */
	fake_now += SECOND;
	vg_log_flush_suppressed();
	out = captured(&lines);
	assert_int_equal(lines, 3);
	free(out);
}

static void
global_off(void **state)
{
	unsigned lines, i;
	char *out;

	(void)state;
	vg_log_set_global_limit(0);
	for (i = 0; i < 1000; i++)
		vg_log(LOG_DEBUG, "x%u", i);
	out = captured(&lines);
	assert_int_equal(lines, 1000);
	assert_int_equal(count_of(out, "suppressed"), 0);
	free(out);
}

/* Dropped by level: neither written nor counted against the limit. */
static void
level_filter(void **state)
{
	unsigned lines, i;
	char *out;

	(void)state;
	vg_log_set_global_limit(2);
	vg_log_set_level(LOG_WARNING);
	for (i = 0; i < 10; i++)
		vg_log(LOG_INFO, "chatter %u", i);
	vg_log(LOG_WARNING, "w1");
	vg_log(LOG_ERR, "e1");
	out = captured(&lines);
	assert_int_equal(lines, 2);
	assert_null(strstr(out, "chatter"));
	assert_contains(out, "<4>vigil-agent[");
	assert_contains(out, ": warning: w1\n");
	assert_contains(out, "<3>vigil-agent[");
	assert_contains(out, ": error: e1\n");
	free(out);
}

static void *
flood(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		vg_log(LOG_INFO, "thread line %d", i);
	return NULL;
}

/* Four threads share one limit; every line is whole. */
static void
global_limit_threads(void **state)
{
	pthread_t th[4];
	unsigned lines;
	char *out;

	(void)state;
	vg_log_set_global_limit(50);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, flood, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	out = captured(&lines);
	assert_int_equal(lines, 50);
	assert_int_equal(count_of(out, "thread line"), 50);
	free(out);
	fake_now += SECOND;
	vg_log_flush_suppressed();
	out = captured(&lines);
	assert_int_equal(lines, 51);
	assert_contains(out, "350 messages suppressed");
	free(out);
}

static void
long_message(void **state)
{
	char big[5000];
	unsigned lines;
	char *out;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vg_log(LOG_INFO, "%s", big);
	out = captured(&lines);
	assert_int_equal(lines, 1);
	/* Cut at 1023 bytes of message, still one whole line. */
	assert_non_null(strstr(out, ": info: a"));
	assert_int_equal(strlen(strstr(out, ": info: a") + 8), 1023 + 1);
	free(out);
}

/* log.target "auto": journald only when JOURNAL_STREAM is stderr. */
static void
auto_target(void **state)
{
	struct stat sb;
	char *v;

	(void)state;
	assert_int_equal(fstat(STDERR_FILENO, &sb), 0);
	unsetenv("JOURNAL_STREAM");
	assert_false(vg_log_stderr_is_journal());
	v = strf("%llu:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_true(vg_log_stderr_is_journal());
	free(v);
	v = strf("%llu:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(vg_log_stderr_is_journal());
	vg_log_set_target(VG_LOG_AUTO);
	assert_int_equal(vg_log_get_target(), VG_LOG_STDERR);
	free(v);
	v = strf("%llux:%llu", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(vg_log_stderr_is_journal());
	free(v);
	v = strf("%llu:%llu ", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(vg_log_stderr_is_journal());
	free(v);
	setenv("JOURNAL_STREAM", "", 1);
	assert_false(vg_log_stderr_is_journal());
	setenv("JOURNAL_STREAM", ":", 1);
	assert_false(vg_log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(vg_log_target_from_name("stderr"), VG_LOG_STDERR);
	assert_int_equal(vg_log_target_from_name("journald"), VG_LOG_JOURNALD);
	assert_int_equal(vg_log_target_from_name("auto"), VG_LOG_AUTO);
	assert_int_equal(vg_log_target_from_name("syslog"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(per_call_site_limit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(global_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(global_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(global_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(level_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(global_limit_threads, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(long_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(auto_target, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
