/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: the request parser, the JSON replies, the peer
 * check, and a real socket served by vg_control_open (status, version,
 * bad requests, a reload handed to the thread that takes SIGHUP, the
 * file modes, a live agent's socket kept and a stale one replaced, a
 * client sending a byte now and then cut off at the request deadline).
 */
#define _GNU_SOURCE /* fmemopen, vasprintf */
#include "control.h"
#include "event.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void
test_parse_request(void **state)
{
	char big[VG_CONTROL_MAX_REQUEST + 8];

	(void)state;
	assert_int_equal(vg_control_parse_request("status\n", 7),
			 VG_CONTROL_STATUS);
	assert_int_equal(vg_control_parse_request("status\r\n", 8),
			 VG_CONTROL_STATUS);
	assert_int_equal(vg_control_parse_request("reload\n", 7),
			 VG_CONTROL_RELOAD);
	assert_int_equal(vg_control_parse_request("version\n", 8),
			 VG_CONTROL_VERSION);
	/* No newline, trailing bytes, a second line, a prefix, case, NUL. */
	assert_int_equal(vg_control_parse_request("status", 6), VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("status \n", 8),
			 VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("status\nreload\n", 14),
			 VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("stat\n", 5), VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("STATUS\n", 7),
			 VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("sta\0us\n", 7),
			 VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("\n", 1), VG_CONTROL_BAD);
	assert_int_equal(vg_control_parse_request("", 0), VG_CONTROL_BAD);
	memset(big, ' ', sizeof(big));
	memcpy(big, "status", 6);
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(vg_control_parse_request(big, sizeof(big)),
			 VG_CONTROL_BAD);
}

static const struct vg_stat_kv sample_kv[] = {
    {"capture.packets", 1234},     {"detect.rules", 41},
    {"spool.pending", 7},          {"spool.bytes", 4096},
    {"agent.rules_generation", 3}, {"files.scanned", 5},
    {"files.rules_version", 2},    {"output.redis.sent", 99},
};

static json_t *
parse(const struct vg_buf *b)
{
	json_error_t je;
	json_t *j;

	assert_true(b->len > 0);
	assert_int_equal(b->data[b->len - 1], '\n');
	/* One line. */
	assert_ptr_equal(strchr(b->data, '\n'), b->data + b->len - 1);
	j = json_loads(b->data, 0, &je);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", je.text, b->data);
	return j;
}

static void
test_status_json(void **state)
{
	struct vg_control_status st = {
	    .version = "0.1.0",
	    .agency = "so-\"x\"\n",
	    .agent_id = "abc",
	    .host = "web01",
	    .pid = 42,
	    .uptime_s = 12.5,
	    .reload_us = 1764583200000000LL,
	    .reload_ok = 0,
	    .reload_msg = "a.yaml:3: rule 1: name: missing\nb.yaml:9: x: y\n",
	};
	struct vg_buf b;
	json_t *j, *m;
	size_t i;

	(void)state;
	vg_buf_init(&b, 65536);
	assert_ok(
	    vg_control_status_json(&b, &st, sample_kv, VG_ARRAY_LEN(sample_kv)),
	    "status");
	j = parse(&b);
	assert_string_equal(json_string_value(json_object_get(j, "agency")),
			    "so-\"x\"\n");
	assert_int_equal(json_integer_value(json_object_get(j, "pid")), 42);
	assert_true(json_number_value(json_object_get(j, "uptime")) == 12.5);
	for (i = 0; i < VG_ARRAY_LEN(sample_kv); i++)
		assert_int_equal(
		    json_integer_value(json_object_get(
			json_object_get(j, "counters"), sample_kv[i].key)),
		    sample_kv[i].value);
	assert_int_equal(json_object_size(json_object_get(j, "counters")),
			 VG_ARRAY_LEN(sample_kv));
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(j, "spool"), "pending")),
			 7);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(j, "rules"), "network")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(j, "rules"), "yara")),
			 2);
	m = json_object_get(j, "reload");
	assert_string_equal(json_string_value(json_object_get(m, "result")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(m, "time")),
			    "2025-12-01T10:00:00.000000+0000");
	m = json_object_get(m, "messages");
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(json_string_value(json_array_get(m, 1)),
			    "b.yaml:9: x: y");
	json_decref(j);

	/* No reload yet, no YARA set: null, and "none". */
	vg_buf_reset(&b);
	st.reload_us = 0;
	st.reload_msg = NULL;
	assert_ok(vg_control_status_json(&b, &st, sample_kv, 2), "status");
	j = parse(&b);
	m = json_object_get(j, "reload");
	assert_true(json_is_null(json_object_get(m, "time")));
	assert_string_equal(json_string_value(json_object_get(m, "result")),
			    "none");
	assert_true(
	    json_is_null(json_object_get(json_object_get(j, "rules"), "yara")));
	json_decref(j);
	vg_buf_fini(&b);

	/* The cap holds. */
	vg_buf_init(&b, 64);
	assert_int_equal(
	    vg_control_status_json(&b, &st, sample_kv, VG_ARRAY_LEN(sample_kv)),
	    VG_ELIMIT);
	vg_buf_fini(&b);
}

static void
test_reload_json(void **state)
{
	struct vg_buf b;
	json_t *j;

	(void)state;
	vg_buf_init(&b, 4096);
	assert_ok(vg_control_reload_json(&b, 1, "3 rules (3 enabled)", 1), "");
	j = parse(&b);
	assert_string_equal(json_string_value(json_object_get(j, "result")),
			    "ok");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(j, "messages"), 0)),
			    "3 rules (3 enabled)");
	json_decref(j);
	vg_buf_reset(&b);
	assert_ok(vg_control_reload_json(&b, 0, "f:1: k: m\n\nf:2: k: n", 1),
		  "");
	j = parse(&b);
	assert_string_equal(json_string_value(json_object_get(j, "result")),
			    "failed");
	/* Empty lines are left out. */
	assert_int_equal(json_array_size(json_object_get(j, "messages")), 2);
	json_decref(j);
	vg_buf_fini(&b);
}

static void
test_peer_allowed(void **state)
{
	const gid_t groups[] = {10, 20, 995};

	(void)state;
	assert_true(vg_control_peer_allowed(0, 0, NULL, 0, 1000, 1000));
	assert_true(vg_control_peer_allowed(1000, 5, NULL, 0, 1000, 0));
	assert_true(vg_control_peer_allowed(65534, 995, NULL, 0, 0, 995));
	assert_true(vg_control_peer_allowed(65534, 1, groups, 3, 0, 995));
	assert_false(vg_control_peer_allowed(65534, 65534, NULL, 0, 0, 0));
	assert_false(vg_control_peer_allowed(65534, 1, groups, 2, 0, 995));
	assert_false(vg_control_peer_allowed(1001, 1001, groups, 3, 1000, 0));
}

/* ------------------------------------------------------------------ */
/* A real socket                                                       */

static size_t
fake_stats(void *arg, struct vg_stat_kv *kv, size_t room, double *uptime_s)
{
	size_t n =
	    VG_ARRAY_LEN(sample_kv) < room ? VG_ARRAY_LEN(sample_kv) : room;

	(void)arg;
	memcpy(kv, sample_kv, n * sizeof(*kv));
	*uptime_s = 3.0;
	return n;
}

struct served {
	char dir[64];
	char path[100];
	struct vg_control *c;
};

static void
serve(struct served *s)
{
	struct vg_control_opts o;
	char err[256] = "";

	snprintf(s->dir, sizeof(s->dir), "/tmp/vg_test_control_XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	/* A folder that does not exist yet: made 0750. */
	snprintf(s->path, sizeof(s->path), "%s/run/agent.sock", s->dir);
	memset(&o, 0, sizeof(o));
	o.path = s->path;
	o.stats = fake_stats;
	o.id.version = "9.9.9";
	o.id.agency = "so-test";
	o.id.agent_id = "id-1";
	o.id.host = "h";
	assert_ok(vg_control_open(&s->c, &o, err, sizeof(err)), err);
}

static void
unserve(struct served *s)
{
	char sub[160];
	struct stat sb;

	vg_control_close(s->c);
	/* The socket goes with the agent. */
	assert_int_not_equal(lstat(s->path, &sb), 0);
	snprintf(sub, sizeof(sub), "%s/run", s->dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(s->dir), 0);
}

/* Send raw bytes, read the reply. */
static char *
raw_request(const char *path, const char *bytes, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[65536];
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (len > 0)
		assert_int_equal(send(fd, bytes, len, 0), (ssize_t)len);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	while ((r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	return strdup(buf);
}

static void
test_socket(void **state)
{
	struct served s;
	struct stat sb;
	char *reply, err[256], dir[160];
	size_t len;
	json_t *j;

	(void)state;
	serve(&s);
	assert_int_equal(stat(s.path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	snprintf(dir, sizeof(dir), "%s/run", s.dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0750);

	assert_ok(vg_control_request(s.path, "status", &reply, &len, err,
				     sizeof(err)),
		  err);
	assert_int_equal(strlen(reply), len);
	j = json_loads(reply, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "version")),
			    "9.9.9");
	assert_int_equal(json_integer_value(json_object_get(j, "pid")),
			 getpid());
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "counters"),
					       "capture.packets")),
	    1234);
	json_decref(j);
	free(reply);

	assert_ok(vg_control_request(s.path, "version", &reply, &len, err,
				     sizeof(err)),
		  err);
	assert_string_equal(reply, "{\"version\":\"9.9.9\"}\n");
	free(reply);

	/* Bad requests: an error reply, nothing else. */
	reply = raw_request(s.path, "rm -rf /\n", 9);
	assert_contains(reply, "{\"error\":\"bad request");
	free(reply);
	reply = raw_request(s.path, "status", 6); /* no newline, then EOF */
	assert_contains(reply, "{\"error\":\"bad request");
	free(reply);
	reply = raw_request(s.path, "", 0);
	assert_contains(reply, "{\"error\":\"bad request");
	free(reply);

	/* At most VG_CONTROL_MAX_CLIENTS at once: the next one is told. */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int held[VG_CONTROL_MAX_CLIENTS], i, tries, round;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.path);
		/* Held clients send nothing, so the agent drops each after
		 * its request timeout (2 s): on a loaded machine a round may
		 * miss the moment all are in, and a new round starts. */
		reply = NULL;
		for (round = 0; round < 5 && reply == NULL; round++) {
			for (i = 0; i < VG_CONTROL_MAX_CLIENTS; i++) {
				held[i] = socket(AF_UNIX, SOCK_STREAM, 0);
				assert_int_equal(connect(held[i],
							 (struct sockaddr *)&sa,
							 sizeof(sa)),
						 0);
			}
			for (tries = 0; tries < 20 && reply == NULL; tries++) {
				reply = raw_request(s.path, "status\n", 7);
				if (strstr(reply, "{\"error\":\"busy") ==
				    NULL) {
					free(reply);
					reply = NULL;
					usleep(50000);
				}
			}
			for (i = 0; i < VG_CONTROL_MAX_CLIENTS; i++)
				close(held[i]);
		}
		assert_non_null(reply);
		assert_contains(reply, "{\"error\":\"busy");
		free(reply);
		/* Their slots come back. */
		for (tries = 0; tries < 50; tries++) {
			reply = raw_request(s.path, "version\n", 8);
			if (strstr(reply, "busy") == NULL)
				break;
			free(reply);
			usleep(20000);
		}
		assert_string_equal(reply, "{\"version\":\"9.9.9\"}\n");
		free(reply);
	}

	/* A second agent on the same path is refused; the first keeps it. */
	{
		struct vg_control_opts o = {.path = s.path,
					    .stats = fake_stats};
		struct vg_control *c2 = NULL;

		o.id.version = "x";
		assert_int_equal(vg_control_open(&c2, &o, err, sizeof(err)),
				 VG_EINVAL);
		assert_contains(err, "another agent is running");
		assert_null(c2);
	}
	/* The first agent still answers (once the second one's probe and
	 * the clients above are gone: a loaded machine may take a while). */
	{
		enum vg_err rc = VG_EIO;
		int tries;

		for (tries = 0; tries < 50 && rc != VG_OK; tries++) {
			rc = vg_control_request(s.path, "version", &reply, &len,
						err, sizeof(err));
			if (rc != VG_OK)
				usleep(100000);
		}
		assert_ok(rc, err);
		free(reply);
	}
	unserve(&s);

	/* No agent: VG_EAGAIN. */
	assert_int_equal(vg_control_request(s.path, "status", &reply, &len, err,
					    sizeof(err)),
			 VG_EAGAIN);
	assert_null(reply);
}

/*
 * VG_CONTROL_IO_TIMEOUT is a deadline for the whole request: a client
 * sending a byte every 250 ms (each well within the timeout) is still
 * answered and cut off after it, not served for as long as it drips.
 */
static void
test_drip(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct served s;
	struct pollfd pfd;
	struct timespec t0, t1;
	char buf[1024];
	double waited;
	ssize_t r;
	size_t got = 0;
	int fd, i;

	(void)state;
	serve(&s);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* At most 40 bytes (10 s): fewer than a request line holds. */
	for (i = 0; i < 40; i++) {
		pfd = (struct pollfd){.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 250) != 0)
			break; /* the answer, or the end */
		(void)send(fd, "s", 1, MSG_NOSIGNAL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited = (double)(t1.tv_sec - t0.tv_sec) +
		 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (i == 40)
		fail_msg("a dripping client was served for %.1f s", waited);
	assert_true(waited >= VG_CONTROL_IO_TIMEOUT / 1000.0 - 0.1);
	assert_true(waited < VG_CONTROL_IO_TIMEOUT / 1000.0 + 4);
	while (got < sizeof(buf) - 1 &&
	       (r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	assert_contains(buf, "{\"error\":\"bad request");
	close(fd);
	unserve(&s);
}

/* A socket left by a dead agent is replaced; a plain file is not. */
static void
test_stale(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vg_control_opts o;
	struct vg_control *c = NULL;
	char dir[64] = "/tmp/vg_test_control_XXXXXX", path[96], err[256];
	char *reply;
	size_t len;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* bound, never listening: what a killed agent leaves */
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.stats = fake_stats;
	o.id.version = "1";
	assert_ok(vg_control_open(&c, &o, err, sizeof(err)), err);
	assert_ok(
	    vg_control_request(path, "version", &reply, &len, err, sizeof(err)),
	    err);
	free(reply);
	vg_control_close(c);

	{
		char *p = strf("%s", path);

		f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
		free(p);
	}
	assert_int_equal(vg_control_open(&c, &o, err, sizeof(err)), VG_EINVAL);
	assert_contains(err, "exists and is not a socket");
	assert_int_equal(unlink(path), 0);

	o.path = "relative.sock";
	assert_int_equal(vg_control_open(&c, &o, err, sizeof(err)), VG_EINVAL);
	assert_int_equal(rmdir(dir), 0);
}

struct reload_client {
	const char *path;
	char *reply;
	enum vg_err rc;
};

static void *
reload_client_main(void *arg)
{
	struct reload_client *rc = arg;
	char err[256];
	size_t len;

	rc->rc = vg_control_request(rc->path, "reload", &rc->reply, &len, err,
				    sizeof(err));
	return NULL;
}

/* The thread that opened the socket gets SIGHUP, runs "the reload", and
 * the client gets its outcome. */
static void
test_reload(void **state)
{
	struct timespec ts = {10, 0};
	struct reload_client rc;
	struct served s;
	sigset_t set;
	pthread_t th;
	char out[4096];
	FILE *f;
	json_t *j;
	int ok;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	serve(&s);

	memset(&rc, 0, sizeof(rc));
	rc.path = s.path;
	assert_int_equal(pthread_create(&th, NULL, reload_client_main, &rc), 0);
	assert_int_equal(sigtimedwait(&set, NULL, &ts), SIGHUP);
	vg_control_reload_begin(s.c);
	vg_control_reload_end(s.c, 0,
			      "/etc/vigil/rules.d/x.yaml:14: rule 7: "
			      "match.protocol: unknown\n");
	pthread_join(th, NULL);
	assert_ok(rc.rc, "reload request");
	j = json_loads(rc.reply, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "result")),
			    "failed");
	json_decref(j);
	f = fmemopen(out, sizeof(out), "w");
	ok = vg_control_print_reload(rc.reply, f, f);
	fclose(f);
	assert_int_equal(ok, 0);
	assert_contains(out, "  /etc/vigil/rules.d/x.yaml:14: rule 7: "
			     "match.protocol: unknown\n");
	free(rc.reply);

	/* The status now tells of it. */
	{
		char err[256], *reply;
		size_t len;

		assert_ok(vg_control_request(s.path, "status", &reply, &len,
					     err, sizeof(err)),
			  err);
		f = fmemopen(out, sizeof(out), "w");
		assert_int_equal(vg_control_print_status(reply, f), 0);
		fclose(f);
		assert_contains(out, "vigil-agent 9.9.9, pid ");
		assert_contains(out, "network v3 (41 enabled), yara v2");
		assert_contains(out, "spool          7 events, 4096 bytes");
		assert_contains(out,
				" failed\n    /etc/vigil/rules.d/x.yaml:14");
		assert_contains(out,
				"  capture.packets                  1234\n");
		free(reply);
	}

	/* A good one. */
	memset(&rc, 0, sizeof(rc));
	rc.path = s.path;
	assert_int_equal(pthread_create(&th, NULL, reload_client_main, &rc), 0);
	assert_int_equal(sigtimedwait(&set, NULL, &ts), SIGHUP);
	vg_control_reload_begin(s.c);
	vg_control_reload_end(s.c, 1, "2 rules (2 enabled)");
	pthread_join(th, NULL);
	assert_ok(rc.rc, "reload request");
	f = fmemopen(out, sizeof(out), "w");
	assert_int_equal(vg_control_print_reload(rc.reply, f, f), 1);
	fclose(f);
	assert_string_equal(out, "reload done\n  2 rules (2 enabled)\n");
	free(rc.reply);

	assert_int_equal(vg_control_print_reload("{\"x\":1}", stderr, stderr),
			 -1);
	assert_int_equal(vg_control_print_status("[]", stderr), -1);
	unserve(&s);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_request),
	    cmocka_unit_test(test_status_json),
	    cmocka_unit_test(test_reload_json),
	    cmocka_unit_test(test_peer_allowed),
	    cmocka_unit_test(test_socket),
	    cmocka_unit_test(test_drip),
	    cmocka_unit_test(test_stale),
	    cmocka_unit_test(test_reload),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
