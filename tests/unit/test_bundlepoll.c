/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/bundlepoll.c's thread, against a small fake Redis
 * of the test's own (a thread on a loopback port that answers PING,
 * STRLEN and GETRANGE of vigil:rules:bundle, or swallows STRLEN for ever).
 *
 * Covered: a stop returns well within VG_BUNDLEPOLL_STOP_MS while a poll
 * hangs on a server that never answers (the Redis call is cancelled); a
 * signed bundle is handed to the caller by vg_bundlepoll_take(), the
 * thread polls no more until the commit, the commit writes "current" and
 * the thread polls again; a refused commit removes the folder and the
 * same envelope is not offered again; a bundle in force whose folder is
 * missing is left out (version 0 in stats) while its version stays the
 * floor (an older bundle is refused, a newer one taken).
 */
#define _GNU_SOURCE /* vasprintf (testutil.h) */

#include "bundlepoll.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "fakeresp.h"

#include "bundle.h"
#include "config.h"
#include "event.h"

#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 15000 /* the longest a step may take on a loaded machine */

static char tmp[64];
static char key_path[PATH_MAX], pub_path[PATH_MAX];

/* ------------------------------------------------------------------ */
/* A fake Redis                                                         */

struct fake {
	int lfd;
	unsigned port;
	pthread_t th;
	atomic_int stop;
	atomic_int strlen_seen; /* STRLEN commands read */
	atomic_int silent;      /* never answer STRLEN */
	atomic_long range_end;  /* END of the last GETRANGE, -1: none */
	pthread_mutex_t mu;     /* guards value */
	uint8_t *value;         /* the bundle stored, NULL: none */
	size_t len;
};

static struct fake fake;

/* Argument i (0: the name) of the command at b (whole, as resp_command
 * found it) as a number; -1 when missing or not a number. */
static long
arg_num(const char *b, size_t n, long i)
{
	size_t pos = 1;
	long argc, len, k, v = -1;

	if (resp_num(b, n, &pos, &argc) != 1 || i >= argc)
		return -1;
	for (k = 0; k <= i; k++) {
		if (pos >= n || b[pos++] != '$' ||
		    resp_num(b, n, &pos, &len) != 1)
			return -1;
		if (k == i && len > 0 && len < 12) {
			char num[16];

			snprintf(num, sizeof(num), "%.*s", (int)len, b + pos);
			v = strtol(num, NULL, 10);
		}
		pos += (size_t)len + 2;
	}
	return v;
}

static void
answer(int fd, const char *name, const char *cmd, size_t cmd_len)
{
	char head[64];

	if (strcasecmp(name, "PING") == 0) {
		send_all(fd, "+PONG\r\n", 7);
		return;
	}
	pthread_mutex_lock(&fake.mu);
	if (strcasecmp(name, "STRLEN") == 0) {
		snprintf(head, sizeof(head), ":%zu\r\n",
			 fake.value ? fake.len : 0);
		send_all(fd, head, strlen(head));
	} else if (strcasecmp(name, "GETRANGE") == 0) {
		/* Non-negative START and END only, as the poller asks. */
		long start = arg_num(cmd, cmd_len, 2),
		     end = arg_num(cmd, cmd_len, 3);
		size_t from = 0, n = 0;

		atomic_store(&fake.range_end, end);
		if (fake.value && start >= 0 && end >= start &&
		    (size_t)start < fake.len) {
			from = (size_t)start;
			n = (size_t)end + 1 < fake.len ? (size_t)end + 1 - from
						       : fake.len - from;
		}
		snprintf(head, sizeof(head), "$%zu\r\n", n);
		send_all(fd, head, strlen(head));
		if (n)
			send_all(fd, fake.value + from, n);
		send_all(fd, "\r\n", 2);
	} else {
		send_all(fd, "-ERR unknown\r\n", 14);
	}
	pthread_mutex_unlock(&fake.mu);
}

static void
serve(int fd)
{
	char buf[4096], name[32];
	const char *cmd = NULL;
	size_t have = 0, used, cmd_len = 0;
	int rc;

	while (!atomic_load(&fake.stop)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (r <= 0)
			return;
		have += (size_t)r;
		while ((rc = resp_command(buf, have, &used, &cmd, &cmd_len)) ==
		       1) {
			snprintf(name, sizeof(name), "%.*s", (int)cmd_len, cmd);
			if (strcasecmp(name, "STRLEN") == 0) {
				atomic_fetch_add(&fake.strlen_seen, 1);
				if (atomic_load(&fake.silent)) {
					/* Read on, answer nothing. */
					have = 0;
					break;
				}
			}
			answer(fd, name, buf, used);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		if (rc < 0 || have == sizeof(buf))
			return;
	}
}

static void *
fake_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&fake.stop)) {
		struct pollfd p = {.fd = fake.lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(fake.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

static void
fake_start(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	memset(&fake, 0, sizeof(fake));
	atomic_store(&fake.range_end, -1);
	pthread_mutex_init(&fake.mu, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fake.lfd >= 0);
	assert_int_equal(bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fake.lfd, 8), 0);
	assert_int_equal(getsockname(fake.lfd, (struct sockaddr *)&sa, &sl), 0);
	fake.port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&fake.th, NULL, fake_main, NULL), 0);
}

static void
fake_stop(void)
{
	atomic_store(&fake.stop, 1);
	pthread_join(fake.th, NULL);
	close(fake.lfd);
	free(fake.value);
	fake.value = NULL;
	pthread_mutex_destroy(&fake.mu);
}

/* Store a signed bundle of version v (one network rule) as the value. */
static void
fake_set_bundle(uint64_t v)
{
	struct vg_bundle_builder *bb;
	static const char rule[] = "- id: 1\n  name: x\n";
	uint8_t *buf;
	size_t len;
	char err[512];

	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	assert_ok(vg_bundle_builder_add(
		      bb, VG_BUNDLE_NETWORK, "network/center.yaml",
		      (const uint8_t *)rule, strlen(rule), err, sizeof(err)),
		  err);
	assert_ok(vg_bundle_pack(bb, v, 1700000000, key_path, &buf, &len, err,
				 sizeof(err)),
		  err);
	vg_bundle_builder_free(bb);
	pthread_mutex_lock(&fake.mu);
	free(fake.value);
	fake.value = buf;
	fake.len = len;
	pthread_mutex_unlock(&fake.mu);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* A configuration for the fake server and the folder tmp/NAME. */
static void
config(struct vg_config *cfg, const char *name)
{
	assert_int_equal(vg_config_defaults(cfg), VG_OK);
	cfg->redis_url = strf("redis://127.0.0.1:%u", fake.port);
	cfg->bundle_public_key = strf("%s", pub_path);
	cfg->bundle_dir = strf("%s/%s", tmp, name);
	cfg->bundle_poll = 1;
	/* Long enough that a stop held by a hanging call would show. */
	cfg->redis_timeout_ms = 10000;
	cfg->redis_connect_timeout_ms = 10000;
}

static uint64_t
stat_of(struct vg_bundlepoll *bp, const char *key)
{
	struct vg_stat_kv kv[VG_BUNDLEPOLL_STATS];
	size_t n = vg_bundlepoll_stats_kv(bp, kv, VG_BUNDLEPOLL_STATS), i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	fail_msg("no stat %s", key);
	return 0;
}

/* Wait for vg_bundlepoll_take() to hand a bundle over. */
static const char *
take_within(struct vg_bundlepoll *bp, unsigned ms)
{
	int64_t until = now_ms() + ms;
	const char *dir = NULL;

	while (now_ms() < until) {
		if (vg_bundlepoll_take(bp, &dir) == VG_OK)
			return dir;
		assert_null(dir);
		sleep_ms(20);
	}
	return NULL;
}

static bool
wait_strlen(int n, unsigned ms)
{
	int64_t until = now_ms() + ms;

	while (now_ms() < until) {
		if (atomic_load(&fake.strlen_seen) >= n)
			return true;
		sleep_ms(10);
	}
	return false;
}

static bool
is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

static int
setup(void **state)
{
	char err[512], p[PATH_MAX + 8];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/vigil-test-bundlepoll-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/center", tmp);
	if (vg_bundle_keygen(p, err, sizeof(err)) != VG_OK)
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/center.key", tmp);
	snprintf(pub_path, sizeof(pub_path), "%s/center.pub", tmp);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* A server that accepts and never answers the poll: the stop does not
 * wait for its 10 s timeout. */
static void
test_stop_while_hung(void **state)
{
	struct vg_bundlepoll *bp;
	struct vg_config cfg;
	const char *dir;
	char err[512];
	int64_t t0, took;

	(void)state;
	fake_start();
	atomic_store(&fake.silent, 1);
	fake_set_bundle(1);
	config(&cfg, "hung");
	assert_ok(vg_bundlepoll_new(&bp, &cfg, err, sizeof(err)), err);
	assert_ok(vg_bundlepoll_start(bp, err, sizeof(err)), err);
	assert_true(wait_strlen(1, WAIT_MS));
	sleep_ms(200); /* well inside the call */
	assert_int_equal(vg_bundlepoll_take(bp, &dir), VG_EAGAIN);
	assert_null(dir);
	t0 = now_ms();
	vg_bundlepoll_stop(bp);
	took = now_ms() - t0;
	if (took >= VG_BUNDLEPOLL_STOP_MS)
		print_error("the stop took %lld ms\n", (long long)took);
	assert_true(took < VG_BUNDLEPOLL_STOP_MS);
	assert_int_equal(stat_of(bp, "rules.bundle_polls"), 1);
	/* The call the stop cancelled is no poll error. */
	assert_int_equal(stat_of(bp, "rules.bundle_poll_errors"), 0);
	/* A second stop, and a free after it, are harmless. */
	vg_bundlepoll_stop(bp);
	vg_bundlepoll_free(bp);
	vg_config_fini(&cfg);
	fake_stop();
}

/* Take, the thread waiting meanwhile, commit, and polling again. */
static void
test_take_commit(void **state)
{
	struct vg_bundlepoll *bp;
	struct vg_config cfg;
	const char *dir;
	char err[512], path[PATH_MAX + 16], line[128] = "";
	FILE *f;
	int seen;

	(void)state;
	fake_start();
	fake_set_bundle(1);
	config(&cfg, "take");
	assert_ok(vg_bundlepoll_new(&bp, &cfg, err, sizeof(err)), err);
	assert_null(vg_bundlepoll_current_dir(bp));
	assert_ok(vg_bundlepoll_start(bp, err, sizeof(err)), err);
	dir = take_within(bp, WAIT_MS);
	assert_non_null(dir);
	assert_contains(dir, "/take/v1");
	/* Read bounded: up to one byte past the limit. */
	assert_int_equal(atomic_load(&fake.range_end),
			 (long)VG_BUNDLE_MAX_BYTES);
	snprintf(path, sizeof(path), "%s/network/center.yaml", dir);
	assert_int_equal(access(path, R_OK), 0);
	/* Taken once only. */
	{
		const char *again;

		assert_int_equal(vg_bundlepoll_take(bp, &again), VG_EAGAIN);
	}
	/* Until the commit, no poll (one a second otherwise). */
	seen = atomic_load(&fake.strlen_seen);
	sleep_ms(2500);
	assert_int_equal(atomic_load(&fake.strlen_seen), seen);
	assert_int_equal(stat_of(bp, "rules.bundle_version"), 0);

	vg_bundlepoll_commit(bp, 1, NULL);
	assert_int_equal(vg_bundlepoll_version(bp), 1);
	assert_int_equal(stat_of(bp, "rules.bundle_version"), 1);
	assert_int_equal(stat_of(bp, "rules.bundle_applied"), 1);
	assert_string_equal(vg_bundlepoll_current_dir(bp), dir);
	snprintf(path, sizeof(path), "%s/take/current", tmp);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_true(strncmp(line, "1 ", 2) == 0);
	/* It polls again; the bundle in force is not offered again. */
	assert_true(wait_strlen(seen + 2, WAIT_MS));
	assert_null(take_within(bp, 300));

	/* Version 2 refused by its reload: folder gone, not offered
	 * again, version 1 stays. */
	fake_set_bundle(2);
	dir = take_within(bp, WAIT_MS);
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s", dir);
	vg_bundlepoll_commit(bp, 0, "local.yaml:3: duplicate id");
	assert_false(is_dir(path));
	assert_int_equal(stat_of(bp, "rules.bundle_refused"), 1);
	assert_int_equal(vg_bundlepoll_version(bp), 1);
	seen = atomic_load(&fake.strlen_seen);
	assert_true(wait_strlen(seen + 2, WAIT_MS));
	assert_null(take_within(bp, 300));

	vg_bundlepoll_free(bp);
	vg_config_fini(&cfg);
	fake_stop();
}

/* The bundle in force has no folder: left out (version 0 in stats), its
 * version stays the floor. */
static void
test_unloaded_floor(void **state)
{
	struct vg_bundlepoll *bp;
	struct vg_config cfg;
	const char *dir;
	char err[512], path[PATH_MAX + 16];
	FILE *f;
	int seen;

	(void)state;
	fake_start();
	config(&cfg, "floor");
	assert_int_equal(mkdir(cfg.bundle_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/current", cfg.bundle_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "7 %064d\n", 0);
	fclose(f);
	assert_ok(vg_bundlepoll_new(&bp, &cfg, err, sizeof(err)), err);
	assert_null(vg_bundlepoll_current_dir(bp));
	assert_int_equal(vg_bundlepoll_version(bp), 7);
	assert_int_equal(stat_of(bp, "rules.bundle_version"), 0);
	assert_int_equal(stat_of(bp, "rules.bundle_refused"), 1);

	/* Below the floor: refused, never taken. */
	fake_set_bundle(5);
	assert_ok(vg_bundlepoll_start(bp, err, sizeof(err)), err);
	assert_true(wait_strlen(1, WAIT_MS));
	seen = atomic_load(&fake.strlen_seen);
	assert_true(wait_strlen(seen + 1, WAIT_MS));
	assert_null(take_within(bp, 300));
	assert_int_equal(stat_of(bp, "rules.bundle_refused"), 2);

	/* Above it: taken and put in force as usual. */
	fake_set_bundle(8);
	dir = take_within(bp, WAIT_MS);
	assert_non_null(dir);
	assert_contains(dir, "/floor/v8");
	vg_bundlepoll_commit(bp, 1, NULL);
	assert_int_equal(stat_of(bp, "rules.bundle_version"), 8);
	assert_string_equal(vg_bundlepoll_current_dir(bp), dir);

	vg_bundlepoll_free(bp);
	vg_config_fini(&cfg);
	fake_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_while_hung),
	    cmocka_unit_test(test_take_commit),
	    cmocka_unit_test(test_unloaded_floor),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
