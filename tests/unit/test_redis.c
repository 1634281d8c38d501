/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/redis.c against real servers: tests/tools/redis/
 * servers.py starts each setup (plain TCP and Unix socket, TLS with a
 * throwaway CA, ACL, a 3-master cluster, a master + replica watched by
 * three sentinels) in a mkdtemp() folder and describes it in a JSON file
 * read here; teardown stops it even when the test failed.
 *
 * Covered: the URL parser (accepted forms, refused ones, never quoting
 * the password), the cluster slot function (against a reference CRC16
 * and against CLUSTER KEYSLOT), commands and XADD batches byte-exact
 * (NUL bytes, UTF-8, a value larger than the socket buffers), error
 * replies that are answers and not failures, refused connections and a
 * server killed and restarted under a handle, TLS verification (CA, name,
 * client certificates), ACL refusals and wrong passwords, MOVED and ASK
 * while a slot migrates, a Sentinel failover, and a hostile server whose
 * replies break the protocol or the bounds of redis.h.
 */
#define _GNU_SOURCE /* strcasestr, accept4, pipe2 */

#include "redis.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "fakeresp.h"

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERRLEN     1024
#define SCRIPT     VIGIL_SOURCE_DIR "/tests/tools/redis/servers.py"
#define MAXH       16 /* handles a test may hold */
#define MAXARGS    24
#define NSLOTS     16384
#define BIG_VALUE  (300u * 1024) /* more than a socket buffer */
#define CL_KEYS    300
#define CL_ENTRIES 3000

static char tmpdir[PATH_MAX];
static char srvdir[PATH_MAX]; /* the running setup's folder, "" if none */
static json_t *srv;           /* its servers.json */
static unsigned nsetups;
static struct vg_redis *handles[MAXH]; /* closed by teardown */

#define assert_rc(rc, want, err)                                               \
	do {                                                                   \
		enum vg_err rc_ = (rc);                                        \
		if (rc_ != (want))                                             \
			print_error("rc %d (want %d): \"%s\"\n", (int)rc_,     \
				    (int)(want), (err));                       \
		assert_int_equal(rc_, (want));                                 \
	} while (0)

#define assert_lacks(s, sub)                                                   \
	do {                                                                   \
		if (strstr((s), (sub)) != NULL)                                \
			print_error("\"%s\" holds \"%s\"\n", (s), (sub));      \
		assert_null(strstr((s), (sub)));                               \
	} while (0)

/* No control byte (escaped server text), NUL-terminated within n. */
static void
assert_printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			print_error("control byte 0x%02x at %zu in \"%s\"\n", c,
				    i, s);
		assert_false(c < 0x20 || c == 0x7f);
	}
	assert_true(i < n);
}

/* ------------------------------------------------------------------ */
/* Child processes: servers.py and redis-cli                           */
/* ------------------------------------------------------------------ */

/*
 * Run argv (NULL-terminated) and wait for it. Its stdout goes to out
 * (outlen bytes, NUL-terminated, trailing newlines cut) when out is not
 * NULL, else to ours; stderr is ours. Returns the exit status, 128 + the
 * signal when killed.
 */
static int
run(const char *const *argv, char *out, size_t outlen)
{
	char *v[MAXARGS + 1];
	int fds[2] = {-1, -1};
	size_t i, n = 0;
	int status;
	pid_t pid;

	for (i = 0; argv[i] != NULL; i++) {
		assert_true(i < MAXARGS);
		v[i] = strdup(argv[i]);
		assert_non_null(v[i]);
	}
	v[i] = NULL;
	if (out != NULL)
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (out != NULL && dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(126);
		execvp(v[0], v);
		fprintf(stderr, "test_redis: cannot run %s: %s\n", v[0],
			strerror(errno));
		_exit(127);
	}
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	if (out != NULL) {
		char buf[4096];
		ssize_t r;

		close(fds[1]);
		while ((r = read(fds[0], buf, sizeof(buf))) != 0) {
			size_t k;

			if (r < 0 && errno == EINTR)
				continue;
			assert_true(r > 0);
			k = (size_t)r;
			if (k > outlen - 1 - n)
				k = outlen - 1 - n;
			memcpy(out + n, buf, k);
			n += k;
		}
		close(fds[0]);
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
			n--;
		out[n] = '\0';
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* servers.py CMD [KIND] srvdir; its stdout to out when not NULL. */
static int
script(const char *cmd, const char *kind, char *out, size_t outlen)
{
	const char *argv[] = {"python3", SCRIPT, cmd, kind, srvdir, NULL};

	if (kind == NULL) {
		argv[3] = srvdir;
		argv[4] = NULL;
	}
	return run(argv, out, outlen);
}

static const char *
jstr(const char *key)
{
	json_t *v = json_object_get(srv, key);

	if (!json_is_string(v))
		fail_msg("servers.json: no string \"%s\"", key);
	return json_string_value(v);
}

static unsigned
jport(json_t *v, const char *what)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 65535)
		fail_msg("servers.json: no port \"%s\"", what);
	return (unsigned)json_integer_value(v);
}

static unsigned
jint(const char *key)
{
	return jport(json_object_get(srv, key), key);
}

static unsigned
jint_at(const char *key, size_t i)
{
	return jport(json_array_get(json_object_get(srv, key), i), key);
}

/* Start a setup of servers.py (plain, tls, acl, cluster, sentinel). */
static void
start_servers(const char *kind)
{
	json_error_t jerr;
	char *path;
	int st;

	assert_string_equal(srvdir, "");
	assert_true((size_t)snprintf(srvdir, sizeof(srvdir), "%.200s/%s-%u",
				     tmpdir, kind, nsetups++) < 240);
	st = script("start", kind, NULL, 0);
	if (st != 0)
		fail_msg(
		    "servers.py start %s %s failed (exit %d, see its "
		    "message above): the Redis tests need python3, "
		    "redis-server, redis-tools, redis-sentinel and openssl",
		    kind, srvdir, st);
	path = strf("%s/servers.json", srvdir);
	srv = json_load_file(path, 0, &jerr);
	if (srv == NULL)
		fail_msg("%s: %s", path, jerr.text);
	free(path);
}

static void
stop_servers(void)
{
	if (srvdir[0] != '\0' && script("stop", NULL, NULL, 0) != 0)
		print_error("servers.py stop %s failed\n", srvdir);
	srvdir[0] = '\0';
	json_decref(srv);
	srv = NULL;
}

/*
 * redis-cli -p PORT ARG... (NULL-terminated); its output in out (one
 * line per reply element, as redis-cli prints without a terminal).
 */
static void cli(char *out, size_t outlen, unsigned port, ...)
    __attribute__((sentinel));

static void
cli(char *out, size_t outlen, unsigned port, ...)
{
	const char *argv[MAXARGS + 1];
	char p[16];
	va_list ap;
	size_t n = 0;
	const char *a;

	snprintf(p, sizeof(p), "%u", port);
	argv[n++] = "redis-cli";
	argv[n++] = "-p";
	argv[n++] = p;
	va_start(ap, port);
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(n < MAXARGS);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run(argv, out, outlen), 0);
}

/* redis-cli ... must print want. */
#define cli_expect(want, port, ...)                                            \
	do {                                                                   \
		char out_[256];                                                \
		cli(out_, sizeof(out_), (port), __VA_ARGS__, (char *)NULL);    \
		assert_string_equal(out_, (want));                             \
	} while (0)

static long long
cli_int(unsigned port, const char *a, const char *b, const char *c)
{
	char out[256], *end;
	long long v;

	cli(out, sizeof(out), port, a, b, c, (char *)NULL);
	errno = 0;
	v = strtoll(out, &end, 10);
	if (errno != 0 || end == out || *end != '\0')
		fail_msg("redis-cli %s %s %s: \"%s\"", a, b, c, out);
	return v;
}

/* ------------------------------------------------------------------ */
/* Handles and commands                                                */
/* ------------------------------------------------------------------ */

static void
track(struct vg_redis *h)
{
	size_t i;

	for (i = 0; i < MAXH; i++) {
		if (handles[i] == NULL) {
			handles[i] = h;
			return;
		}
	}
	fail_msg("more than %d handles", MAXH);
}

static void
drop(struct vg_redis *h)
{
	size_t i;

	for (i = 0; i < MAXH; i++)
		if (handles[i] == h)
			handles[i] = NULL;
	vg_redis_close(h);
}

/* vg_redis_connect(); *h is NULL on failure. */
static enum vg_err
try_connect(struct vg_redis **h, const struct vg_redis_opts *o, char *err)
{
	enum vg_err rc;

	*h = NULL;
	err[0] = '\0';
	rc = vg_redis_connect(h, o, err, ERRLEN);
	if (rc == VG_OK) {
		assert_non_null(*h);
		track(*h);
	} else {
		assert_null(*h);
		assert_true(err[0] != '\0');
		assert_printable(err, ERRLEN);
	}
	return rc;
}

static struct vg_redis *
must_connect(const struct vg_redis_opts *o)
{
	char err[ERRLEN];
	struct vg_redis *h;
	enum vg_err rc = try_connect(&h, o, err);

	assert_ok(rc, err);
	return h;
}

static struct vg_redis *
connect_url(const char *url)
{
	struct vg_redis_opts o;

	vg_redis_opts_init(&o);
	o.url = url;
	return must_connect(&o);
}

/* vg_redis_command() with argc C strings (binary ones through lens). */
static enum vg_err
try_cmdv(struct vg_redis *h, int key_index, int argc, const char **argv,
	 const size_t *lens, struct vg_redis_reply **out, char *err)
{
	size_t l[MAXARGS];
	enum vg_err rc;
	int i;

	assert_true(argc <= MAXARGS);
	for (i = 0; i < argc; i++)
		l[i] = lens != NULL ? lens[i] : strlen(argv[i]);
	err[0] = '\0';
	*out = (struct vg_redis_reply *)(uintptr_t)0x10;
	rc = vg_redis_command(h, argc, argv, l, key_index, out, err, ERRLEN);
	if (rc == VG_OK) {
		assert_non_null(*out);
	} else {
		assert_null(*out);
		assert_true(err[0] != '\0');
		assert_printable(err, ERRLEN);
	}
	return rc;
}

static enum vg_err try_cmd(struct vg_redis *h, int key_index,
			   struct vg_redis_reply **out, char *err, ...)
    __attribute__((sentinel));

static enum vg_err
try_cmd(struct vg_redis *h, int key_index, struct vg_redis_reply **out,
	char *err, ...)
{
	const char *argv[MAXARGS];
	va_list ap;
	int argc = 0;
	const char *a;

	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < MAXARGS);
		argv[argc++] = a;
	}
	va_end(ap);
	return try_cmdv(h, key_index, argc, argv, NULL, out, err);
}

/* The reply (owned) to a command that must succeed at the transport. */
#define cmd(h, ki, ...) cmd_((h), (ki), __VA_ARGS__, (char *)NULL)

static struct vg_redis_reply *cmd_(struct vg_redis *h, int key_index, ...)
    __attribute__((sentinel));

static struct vg_redis_reply *
cmd_(struct vg_redis *h, int key_index, ...)
{
	const char *argv[MAXARGS];
	struct vg_redis_reply *r;
	char err[ERRLEN];
	enum vg_err rc;
	va_list ap;
	int argc = 0;
	const char *a;

	va_start(ap, key_index);
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(argc < MAXARGS);
		argv[argc++] = a;
	}
	va_end(ap);
	rc = try_cmdv(h, key_index, argc, argv, NULL, &r, err);
	assert_ok(rc, err);
	return r;
}

static void
expect_status(struct vg_redis_reply *r, const char *want)
{
	assert_int_equal(r->type, VG_REPLY_STATUS);
	assert_string_equal(r->str, want);
	assert_int_equal(r->len, strlen(want));
	vg_redis_reply_free(r);
}

static long long
expect_int(struct vg_redis_reply *r)
{
	long long v;

	if (r->type == VG_REPLY_ERROR)
		print_error("error reply: %s\n", r->str);
	assert_int_equal(r->type, VG_REPLY_INTEGER);
	v = r->integer;
	vg_redis_reply_free(r);
	return v;
}

static void
expect_error(struct vg_redis_reply *r, const char *prefix)
{
	assert_int_equal(r->type, VG_REPLY_ERROR);
	assert_non_null(r->str);
	if (strncmp(r->str, prefix, strlen(prefix)) != 0)
		print_error("\"%s\" is not \"%s...\"\n", r->str, prefix);
	assert_int_equal(strncmp(r->str, prefix, strlen(prefix)), 0);
	vg_redis_reply_free(r);
}

/* vg_redis_command() refuses these arguments: VG_EINVAL, *out NULL. */
static void
expect_einval(struct vg_redis *h, int argc, const char **argv,
	      const size_t *lens, int key_index)
{
	struct vg_redis_reply *r = NULL;
	char err[ERRLEN];
	enum vg_err rc = vg_redis_command(h, argc, argv, lens, key_index, &r,
					  err, sizeof(err));

	if (rc != VG_EINVAL) {
		print_error("argc %d key_index %d%s%s: rc %d, want VG_EINVAL\n",
			    argc, key_index, argv ? "" : " argv NULL",
			    lens ? "" : " lens NULL", (int)rc);
		vg_redis_reply_free(r);
		r = NULL;
	}
	assert_int_equal(rc, VG_EINVAL);
	assert_null(r);
}

static void
ping(struct vg_redis *h)
{
	expect_status(cmd(h, -1, "PING"), "PONG");
}

static void
assert_peer(struct vg_redis *h, unsigned port)
{
	char want[32];

	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	assert_string_equal(vg_redis_peer(h), want);
}

/* A TCP port on 127.0.0.1 where nothing listens (just closed). */
static unsigned
closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(close(fd), 0);
	return ntohs(sa.sin_port);
}

/* ------------------------------------------------------------------ */
/* Stream entries                                                      */
/* ------------------------------------------------------------------ */

/* Storage behind one vg_redis_xadd: fields type, n, eve. */
struct ent {
	char key[64];
	char num[24];
	const char *fv[6];
	size_t lens[6];
};

static void
fill(struct vg_redis_xadd *x, struct ent *s, const char *key, unsigned n,
     const char *value, size_t vlen)
{
	memset(x, 0, sizeof(*x));
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->num, sizeof(s->num), "%u", n);
	s->fv[0] = "type";
	s->fv[1] = "alert";
	s->fv[2] = "n";
	s->fv[3] = s->num;
	s->fv[4] = "eve";
	s->fv[5] = value;
	s->lens[0] = 4;
	s->lens[1] = 5;
	s->lens[2] = 1;
	s->lens[3] = strlen(s->num);
	s->lens[4] = 3;
	s->lens[5] = vlen;
	x->key = s->key;
	x->key_len = strlen(s->key);
	x->n_fields = 3;
	x->fields = s->fv;
	x->lens = s->lens;
}

/* n entries to key (numbered from first), value "{"n":N}". */
struct batch {
	struct vg_redis_xadd *x;
	struct ent *s;
	char (*val)[32];
	size_t n;
};

static void
batch_init(struct batch *b, size_t n)
{
	b->x = calloc(n, sizeof(*b->x));
	b->s = calloc(n, sizeof(*b->s));
	b->val = calloc(n, sizeof(*b->val));
	assert_true(b->x != NULL && b->s != NULL && b->val != NULL);
	b->n = n;
}

static void
batch_set(struct batch *b, size_t i, const char *key, unsigned num)
{
	snprintf(b->val[i], sizeof(b->val[i]), "{\"n\":%u}", num);
	fill(&b->x[i], &b->s[i], key, num, b->val[i], strlen(b->val[i]));
}

static void
batch_fini(struct batch *b)
{
	free(b->x);
	free(b->s);
	free(b->val);
}

static void
parse_id(const char *id, uint64_t *ms, uint64_t *seq)
{
	char *end;

	errno = 0;
	*ms = strtoull(id, &end, 10);
	assert_true(errno == 0 && end != id && *end == '-');
	id = end + 1;
	*seq = strtoull(id, &end, 10);
	assert_true(errno == 0 && end != id && *end == '\0');
}

/* Every entry done and ok, with an id. */
static void
assert_all_ok(const struct vg_redis_xadd *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!x[i].done || !x[i].ok)
			print_error("entry %zu (%.*s): done %d ok %d: %s\n", i,
				    (int)x[i].key_len, x[i].key, x[i].done,
				    x[i].ok, x[i].error);
		assert_true(x[i].done);
		assert_true(x[i].ok);
		assert_true(x[i].id[0] != '\0');
		assert_non_null(memchr(x[i].id, '\0', sizeof(x[i].id)));
	}
}

static enum vg_err
xadd(struct vg_redis *h, struct vg_redis_xadd *x, size_t n, char *err)
{
	err[0] = '\0';
	return vg_redis_xadd_batch(h, x, n, err, ERRLEN);
}

/* One reply element (STRING) equals p[0..n). */
static void
assert_bytes(const struct vg_redis_reply *r, const char *p, size_t n)
{
	assert_int_equal(r->type, VG_REPLY_STRING);
	assert_int_equal(r->len, n);
	assert_memory_equal(r->str, p, n);
	assert_int_equal(r->str[n], '\0');
}

/* An XRANGE entry ([id, [f, v, ...]]) is exactly x. */
static void
assert_entry(const struct vg_redis_reply *r, const struct vg_redis_xadd *x)
{
	const struct vg_redis_reply *f;
	unsigned i;

	assert_int_equal(r->type, VG_REPLY_ARRAY);
	assert_int_equal(r->n, 2);
	assert_bytes(r->elements[0], x->id, strlen(x->id));
	f = r->elements[1];
	assert_int_equal(f->type, VG_REPLY_ARRAY);
	assert_int_equal(f->n, 2 * x->n_fields);
	for (i = 0; i < 2 * x->n_fields; i++)
		assert_bytes(f->elements[i], x->fields[i], x->lens[i]);
}

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                  */
/* ------------------------------------------------------------------ */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	/* Short: Unix socket paths inside must fit in sun_path. */
	snprintf(tmpdir, sizeof(tmpdir), "%s/vg_test_redis_XXXXXX",
		 t != NULL && *t != '\0' && strlen(t) < 40 ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void hostile_stop(void);

/* After every test, passed or failed: handles, hostile server, servers. */
static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MAXH; i++) {
		vg_redis_close(handles[i]);
		handles[i] = NULL;
	}
	hostile_stop();
	stop_servers();
	return 0;
}

/* ------------------------------------------------------------------ */
/* URL parser                                                          */
/* ------------------------------------------------------------------ */

struct url_ok {
	const char *url;
	int tls;
	const char *host, *path, *user, *pass;
	unsigned port, db;
};

static const struct url_ok url_ok[] = {
    {"redis://localhost", 0, "localhost", NULL, NULL, NULL, 6379, 0},
    {"redis://127.0.0.1:6380", 0, "127.0.0.1", NULL, NULL, NULL, 6380, 0},
    {"redis://redis.example.org:1", 0, "redis.example.org", NULL, NULL, NULL, 1,
     0},
    {"redis://host:65535/15", 0, "host", NULL, NULL, NULL, 65535, 15},
    {"redis://host/0", 0, "host", NULL, NULL, NULL, 6379, 0},
    {"redis://host/2147483647", 0, "host", NULL, NULL, NULL, 6379, 2147483647u},
    {"redis://agent:s3cret@host:7000", 0, "host", NULL, "agent", "s3cret", 7000,
     0},
    {"redis://us%65r:p%40ss%3Aw%2Fd%25@host", 0, "host", NULL, "user",
     "p@ss:w/d%", 6379, 0},
    {"redis://:onlypass@host", 0, "host", NULL, NULL, "onlypass", 6379, 0},
    {"redis://agency-a@host", 0, "host", NULL, "agency-a", NULL, 6379, 0},
    {"redis://[::1]:6380", 0, "::1", NULL, NULL, NULL, 6380, 0},
    {"redis://[::1]", 0, "::1", NULL, NULL, NULL, 6379, 0},
    {"redis://u:p@[2001:db8::7]:6390/3", 0, "2001:db8::7", NULL, "u", "p", 6390,
     3},
    {"rediss://redis.example.org", 1, "redis.example.org", NULL, NULL, NULL,
     6379, 0},
    {"rediss://a:b@127.0.0.1:6443/1", 1, "127.0.0.1", NULL, "a", "b", 6443, 1},
    {"unix:///run/redis/redis.sock", 0, NULL, "/run/redis/redis.sock", NULL,
     NULL, 0, 0},
    {"unix:///tmp/r.sock?db=2", 0, NULL, "/tmp/r.sock", NULL, NULL, 0, 2},
};

struct url_bad {
	const char *url;
	const char *secret; /* must not appear in the message */
};

static const struct url_bad url_bad[] = {
    {"", NULL},
    {"http://host", NULL},
    {"redis:host", NULL},
    {"redis//host", NULL},
    {"redis://", NULL},
    {"redis://host:0", NULL},
    {"redis://host:70000", NULL},
    {"redis://host:65536", NULL},
    {"redis://host:99999999999999999999", NULL},
    {"redis://host:-1", NULL},
    {"redis://host:+80", NULL},
    {"redis://host:6379x", NULL},
    {"redis://host:6379 ", NULL},
    {"redis://host:63a79", NULL},
    {"redis://host/abc", NULL},
    {"redis://host/2147483648", NULL},
    {"redis://[::1", NULL},
    {"redis://[::1]x", NULL},
    {"redis://[::1]:6380:1", NULL},
    {"redis://user:pass@", "pass"},
    {"redis://user@", NULL},
    {"redis://user:Sup3rS3cret@:6379", "Sup3rS3cret"},
    {"redis://agent:Sup3rS3cret@host:99999", "Sup3rS3cret"},
    {"redis://agent:Sup3rS3cret@[::1", "Sup3rS3cret"},
    {"rediss://agent:Sup3rS3cret@host:12ab", "Sup3rS3cret"},
    {"redis://agent:Sup3rS3cret@host/x", "Sup3rS3cret"},
    {"redis://agent:S3cr%zzet@host", "S3cr%zzet"},
    {"unix://", NULL},
    {"unix://?db=2", NULL},
    {"unix:///tmp/r.sock?db=x", NULL},
    {"unix:///tmp/r.sock?db=2147483648", NULL},
};

static void
check_str(const char *what, const char *url, const char *got, const char *want)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0) {
		print_error("%s: %s is \"%s\", want \"%s\"\n", url, what,
			    got != NULL ? got : "(null)",
			    want != NULL ? want : "(null)");
		fail();
	}
}

static void
test_url_parse(void **state)
{
	struct vg_redis_url u, before;
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < VG_ARRAY_LEN(url_ok); i++) {
		const struct url_ok *t = &url_ok[i];
		enum vg_err rc;

		err[0] = '\0';
		rc = vg_redis_url_parse(t->url, &u, err, sizeof(err));
		if (rc != VG_OK)
			print_error("%s: refused: %s\n", t->url, err);
		assert_int_equal(rc, VG_OK);
		assert_int_equal(u.tls, t->tls);
		check_str("host", t->url, u.host, t->host);
		check_str("path", t->url, u.path, t->path);
		check_str("username", t->url, u.username, t->user);
		check_str("password", t->url, u.password, t->pass);
		if (t->host != NULL)
			assert_int_equal(u.port, t->port);
		assert_int_equal(u.db, t->db);
		vg_redis_url_fini(&u);
	}
	for (i = 0; i < VG_ARRAY_LEN(url_bad); i++) {
		const struct url_bad *t = &url_bad[i];
		enum vg_err rc;

		memset(&u, 0xa5, sizeof(u));
		memcpy(&before, &u, sizeof(u));
		err[0] = '\0';
		rc = vg_redis_url_parse(t->url, &u, err, sizeof(err));
		if (rc != VG_EINVAL)
			print_error("\"%s\": rc %d, want VG_EINVAL\n", t->url,
				    (int)rc);
		assert_int_equal(rc, VG_EINVAL);
		assert_memory_equal(&u, &before, sizeof(u)); /* untouched */
		assert_true(err[0] != '\0');
		assert_printable(err, sizeof(err));
		if (t->secret != NULL)
			assert_lacks(err, t->secret);
		/* a short or no buffer is fine too */
		memset(err, 'x', sizeof(err));
		assert_int_equal(vg_redis_url_parse(t->url, &u, err, 8),
				 VG_EINVAL);
		assert_non_null(memchr(err, '\0', 8));
		assert_int_equal(vg_redis_url_parse(t->url, &u, NULL, 0),
				 VG_EINVAL);
	}
	vg_redis_url_fini(NULL);
}

/* ------------------------------------------------------------------ */
/* Cluster slots                                                       */
/* ------------------------------------------------------------------ */

/* CRC16-CCITT (XMODEM), bit by bit: the reference for the table one. */
static unsigned
crc16_ref(const char *p, size_t n)
{
	unsigned crc = 0;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned)(unsigned char)p[i] << 8;
		for (b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff
					     : (crc << 1) & 0xffff;
	}
	return crc;
}

static unsigned
slot_of(const char *k)
{
	return vg_redis_key_slot(k, strlen(k));
}

static unsigned
ref_slot(const char *k, size_t n)
{
	return crc16_ref(k, n) % NSLOTS;
}

static void
test_key_slot(void **state)
{
	static const char nul_key[] = "a\0{b}";
	char key[40];
	unsigned i, j;

	(void)state;
	assert_int_equal(crc16_ref("123456789", 9), 0x31c3);
	assert_int_equal(slot_of("foo"), 12182);
	assert_int_equal(slot_of("123456789"), 0x31c3);
	assert_int_equal(slot_of(""), 0);
	assert_int_equal(slot_of("{user1000}.following"),
			 slot_of("{user1000}.followers"));
	assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
	/* an empty tag: the whole key */
	assert_int_equal(slot_of("foo{}{bar}"), ref_slot("foo{}{bar}", 10));
	assert_int_equal(slot_of("{}"), ref_slot("{}", 2));
	/* the first '{' and the first '}' after it */
	assert_int_equal(slot_of("foo{{bar}}zap"), ref_slot("{bar", 4));
	assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
	/* no closing brace */
	assert_int_equal(slot_of("foo{bar"), ref_slot("foo{bar", 7));
	assert_int_equal(slot_of("}foo{"), ref_slot("}foo{", 5));
	assert_int_equal(slot_of("vigil:events:{agency-a}"),
			 slot_of("agency-a"));
	/* binary keys: by length, not by NUL */
	assert_int_equal(vg_redis_key_slot(nul_key, sizeof(nul_key) - 1),
			 slot_of("b"));
	assert_int_equal(vg_redis_key_slot("a\0bc", 4), ref_slot("a\0bc", 4));
	/* random keys, some with tags, against the reference */
	srand(7);
	for (i = 0; i < 2000; i++) {
		size_t n = (size_t)(rand() % (int)sizeof(key));
		const char *l, *r;
		size_t tl;

		for (j = 0; j < n; j++)
			key[j] = "ab{}\0\xff"[rand() % 6];
		l = memchr(key, '{', n);
		r = l != NULL ? memchr(l + 1, '}', n - (size_t)(l + 1 - key))
			      : NULL;
		tl = r != NULL ? (size_t)(r - l - 1) : 0;
		assert_int_equal(vg_redis_key_slot(key, n),
				 tl > 0 ? ref_slot(l + 1, tl)
					: ref_slot(key, n));
	}
}

/* ------------------------------------------------------------------ */
/* Plain TCP and Unix socket                                           */
/* ------------------------------------------------------------------ */

static void
test_plain_connect(void **state)
{
	static const char bin_key[] = "bin\0key";
	static const char bin_val[] = "v\0\r\n\xff\0";
	const char *argv[3] = {"SET", bin_key, bin_val};
	const size_t lens[3] = {3, sizeof(bin_key) - 1, sizeof(bin_val) - 1};
	struct vg_redis *tcp, *unx, *db2;
	struct vg_redis_reply *r;
	char err[ERRLEN];
	char *url;

	(void)state;
	start_servers("plain");
	url = strf("redis://127.0.0.1:%u", jint("port"));
	tcp = connect_url(url);
	free(url);
	assert_peer(tcp, jint("port"));
	ping(tcp);

	url = strf("unix://%s", jstr("unix"));
	unx = connect_url(url);
	free(url);
	assert_string_equal(vg_redis_peer(unx), jstr("unix"));
	ping(unx);

	/* binary-safe arguments and replies */
	assert_ok(try_cmdv(tcp, 1, 3, argv, lens, &r, err), err);
	expect_status(r, "OK");
	assert_ok(try_cmdv(unx, 1, 2, (const char *[]){"GET", bin_key},
			   (const size_t[]){3, sizeof(bin_key) - 1}, &r, err),
		  err);
	assert_bytes(r, bin_val, sizeof(bin_val) - 1);
	vg_redis_reply_free(r);

	/* ?db=2 selects database 2; the TCP handle stays on 0 */
	url = strf("unix://%s?db=2", jstr("unix"));
	db2 = connect_url(url);
	free(url);
	expect_status(cmd(db2, 1, "SET", "where", "db2"), "OK");
	r = cmd(tcp, 1, "GET", "where");
	assert_int_equal(r->type, VG_REPLY_NIL);
	vg_redis_reply_free(r);
	url = strf("redis://127.0.0.1:%u/2", jint("port"));
	drop(tcp);
	tcp = connect_url(url);
	free(url);
	r = cmd(tcp, 1, "GET", "where");
	assert_bytes(r, "db2", 3);
	vg_redis_reply_free(r);

	/* other reply types */
	assert_int_equal(expect_int(cmd(tcp, 1, "INCR", "counter")), 1);
	assert_int_equal(expect_int(cmd(tcp, 1, "INCRBY", "counter", "-5")),
			 -4);
	r = cmd(tcp, -1, "CONFIG", "GET", "save");
	assert_int_equal(r->type, VG_REPLY_ARRAY);
	assert_int_equal(r->n, 2);
	assert_bytes(r->elements[0], "save", 4);
	assert_bytes(r->elements[1], "", 0);
	vg_redis_reply_free(r);
	r = cmd(tcp, 1, "LRANGE", "nolist", "0", "-1");
	assert_int_equal(r->type, VG_REPLY_ARRAY);
	assert_int_equal(r->n, 0);
	assert_null(r->elements);
	vg_redis_reply_free(r);

	/* bad arguments */
	expect_einval(tcp, 0, argv, lens, -1);
	expect_einval(tcp, 3, argv, lens, 3);
	expect_einval(tcp, 3, argv, lens, -2);
	expect_einval(tcp, 3, NULL, lens, -1);
	expect_einval(tcp, 3, argv, NULL, -1);
	ping(tcp); /* still usable */
}

static void
test_plain_xadd(void **state)
{
	static const char binary[] = "a\0b\0\xff\x01"
				     "c\r\n\0";
	static const char utf8[] = "Gr\xc3\xbc\xc3\x9f"
				   "e \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac "
				   "\xf0\x9f\x9a\x80";
	const char *key = "vigil:events:{agency-t}";
	struct vg_redis_reply *r;
	struct vg_redis *h;
	struct batch b;
	char err[ERRLEN];
	char *url, *big;
	size_t i;
	long long len;

	(void)state;
	start_servers("plain");
	url = strf("redis://127.0.0.1:%u", jint("port"));
	h = connect_url(url);
	free(url);

	big = malloc(BIG_VALUE);
	assert_non_null(big);
	for (i = 0; i < BIG_VALUE; i++)
		big[i] = (char)(i * 7 + i / 251);

	batch_init(&b, 1000);
	for (i = 0; i < b.n; i++)
		batch_set(&b, i, key, (unsigned)i);
	fill(&b.x[7], &b.s[7], key, 7, binary, sizeof(binary) - 1);
	fill(&b.x[8], &b.s[8], key, 8, utf8, sizeof(utf8) - 1);
	fill(&b.x[9], &b.s[9], key, 9, "", 0);
	fill(&b.x[500], &b.s[500], key, 500, big, BIG_VALUE);
	b.x[3].done = b.x[3].ok = 1; /* results are reset first */
	snprintf(b.x[3].error, sizeof(b.x[3].error), "stale");
	assert_ok(xadd(h, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);
	assert_string_equal(b.x[3].error, "");
	for (i = 1; i < b.n; i++) {
		uint64_t ms0, seq0, ms1, seq1;

		parse_id(b.x[i - 1].id, &ms0, &seq0);
		parse_id(b.x[i].id, &ms1, &seq1);
		assert_true(ms1 > ms0 || (ms1 == ms0 && seq1 > seq0));
	}
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", key)), 1000);

	/* every entry back, byte for byte, in order */
	r = cmd(h, 1, "XRANGE", key, "-", "+");
	assert_int_equal(r->type, VG_REPLY_ARRAY);
	assert_int_equal(r->n, 1000);
	for (i = 0; i < b.n; i++)
		assert_entry(r->elements[i], &b.x[i]);
	vg_redis_reply_free(r);
	r = cmd(h, 1, "XRANGE", key, b.x[7].id, b.x[7].id);
	assert_int_equal(r->n, 1);
	assert_entry(r->elements[0], &b.x[7]);
	vg_redis_reply_free(r);

	/* MAXLEN ~ trims */
	for (i = 0; i < b.n; i++) {
		batch_set(&b, i, "vigil:events:{trimmed}", (unsigned)i);
		b.x[i].maxlen = 10;
	}
	assert_ok(xadd(h, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);
	len = expect_int(cmd(h, 1, "XLEN", "vigil:events:{trimmed}"));
	assert_true(len >= 10 && len < 1000);

	/* n = 0; bad entries: nothing is sent */
	assert_ok(xadd(h, b.x, 0, err), err);
	batch_set(&b, 0, "vigil:events:{never}", 0);
	batch_set(&b, 1, "vigil:events:{never}", 1);
	b.x[1].n_fields = 0;
	assert_int_equal(xadd(h, b.x, 2, err), VG_EINVAL);
	batch_set(&b, 1, "vigil:events:{never}", 1);
	b.x[1].key = NULL;
	assert_int_equal(xadd(h, b.x, 2, err), VG_EINVAL);
	batch_set(&b, 1, "vigil:events:{never}", 1);
	b.x[1].n_fields = VG_REDIS_MAX_FIELDS + 1;
	assert_int_equal(xadd(h, b.x, 2, err), VG_EINVAL);
	assert_int_equal(vg_redis_xadd_batch(h, NULL, 1, err, sizeof(err)),
			 VG_EINVAL);
	assert_int_equal(
	    expect_int(cmd(h, 1, "EXISTS", "vigil:events:{never}")), 0);
	batch_fini(&b);
	free(big);
}

static void
test_plain_error_reply(void **state)
{
	const char *key = "vigil:events:{agency-t}";
	struct vg_redis_xadd x[3];
	struct ent s[3];
	struct vg_redis *h;
	char err[ERRLEN];
	char *url;

	(void)state;
	start_servers("plain");
	url = strf("redis://127.0.0.1:%u", jint("port"));
	h = connect_url(url);
	free(url);

	expect_status(cmd(h, 1, "SET", "a-string", "hello"), "OK");
	expect_error(cmd(h, 1, "XADD", "a-string", "*", "f", "v"), "WRONGTYPE");
	expect_error(cmd(h, -1, "NOSUCHCOMMAND", "x"), "ERR unknown command");
	ping(h); /* the connection survived */

	fill(&x[0], &s[0], key, 0, "{}", 2);
	fill(&x[1], &s[1], "a-string", 1, "{}", 2);
	fill(&x[2], &s[2], key, 2, "{}", 2);
	assert_ok(xadd(h, x, 3, err), err);
	assert_true(x[0].done && x[0].ok && x[0].id[0] != '\0');
	assert_true(x[1].done && !x[1].ok);
	assert_contains(x[1].error, "WRONGTYPE");
	assert_printable(x[1].error, sizeof(x[1].error));
	assert_true(x[2].done && x[2].ok && x[2].id[0] != '\0');
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", key)), 2);
}

/* ------------------------------------------------------------------ */
/* Connection failures                                                 */
/* ------------------------------------------------------------------ */

static void
test_refused(void **state)
{
	struct vg_redis *const poison = (struct vg_redis *)(uintptr_t)0x10;
	struct vg_redis_opts o;
	struct vg_redis *h = NULL;
	char err[ERRLEN], url[PATH_MAX + 32];

	(void)state;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", closed_port());
	vg_redis_opts_init(&o);
	o.url = url;
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "refused");
	assert_int_equal(vg_redis_connect(&h, &o, NULL, 0), VG_EIO);
	snprintf(url, sizeof(url), "unix://%s/no-such.sock", tmpdir);
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	/* on failure *out is untouched */
	h = poison;
	assert_int_equal(vg_redis_connect(&h, &o, err, sizeof(err)), VG_EIO);
	if (h != poison)
		print_error("vg_redis_connect() failed and changed *out\n");
	assert_ptr_equal(h, poison);
	h = NULL;

	/* bad options */
	o.url = NULL;
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	o.url = "redis://127.0.0.1:0";
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	o.url = "redis://127.0.0.1:6379";
	o.username = "someone"; /* without a password */
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	vg_redis_close(NULL);
}

static void
test_server_killed(void **state)
{
	struct vg_redis *tcp, *unx, *fresh;
	struct vg_redis_reply *r;
	struct batch b;
	char err[ERRLEN];
	char *url;
	size_t i;

	(void)state;
	start_servers("plain");
	url = strf("redis://127.0.0.1:%u", jint("port"));
	tcp = connect_url(url);
	free(url);
	url = strf("unix://%s", jstr("unix"));
	unx = connect_url(url);
	free(url);
	ping(tcp);
	ping(unx);

	assert_int_equal(script("kill", NULL, NULL, 0), 0);
	assert_rc(try_cmd(tcp, -1, &r, err, "PING", (char *)NULL), VG_EIO, err);
	assert_rc(try_cmd(unx, -1, &r, err, "PING", (char *)NULL), VG_EIO, err);
	/* still down: the reconnection fails, nothing was answered */
	batch_init(&b, 10);
	for (i = 0; i < b.n; i++)
		batch_set(&b, i, "vigil:events:{k}", (unsigned)i);
	assert_rc(xadd(tcp, b.x, b.n, err), VG_EIO, err);
	assert_true(err[0] != '\0');
	for (i = 0; i < b.n; i++)
		assert_false(b.x[i].done);
	assert_rc(try_cmd(tcp, -1, &r, err, "PING", (char *)NULL), VG_EIO, err);
	assert_contains(err, "refused");

	/* back on the same port: the same handles reconnect */
	assert_int_equal(script("restart", NULL, NULL, 0), 0);
	ping(tcp);
	ping(unx);
	assert_ok(xadd(tcp, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);
	url = strf("redis://127.0.0.1:%u", jint("port"));
	fresh = connect_url(url);
	free(url);
	assert_int_equal(expect_int(cmd(fresh, 1, "XLEN", "vigil:events:{k}")),
			 10);
	batch_fini(&b);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                 */
/* ------------------------------------------------------------------ */

static void
tls_opts(struct vg_redis_opts *o, const char *url, const char *ca)
{
	vg_redis_opts_init(o);
	o->url = url;
	o->ca_file = ca;
}

static void
test_tls(void **state)
{
	struct vg_redis_opts o;
	struct vg_redis *h;
	struct batch b;
	char err[ERRLEN];
	char *url, *mtls, *plain, *missing, *big;
	size_t i;

	(void)state;
	start_servers("tls");
	url = strf("rediss://127.0.0.1:%u", jint("port"));
	mtls = strf("rediss://127.0.0.1:%u", jint("port_mtls"));
	plain = strf("redis://127.0.0.1:%u", jint("port"));
	missing = strf("%s/no-such-ca.pem", tmpdir);

	/* the right CA, the IP address checked against the SAN */
	tls_opts(&o, url, jstr("ca"));
	h = must_connect(&o);
	assert_peer(h, jint("port"));
	ping(h);
	big = malloc(BIG_VALUE);
	assert_non_null(big);
	memset(big, 'z', BIG_VALUE);
	batch_init(&b, 50);
	for (i = 0; i < b.n; i++)
		batch_set(&b, i, "vigil:events:{tls}", (unsigned)i);
	fill(&b.x[20], &b.s[20], "vigil:events:{tls}", 20, big, BIG_VALUE);
	assert_ok(xadd(h, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", "vigil:events:{tls}")),
			 50);
	drop(h);

	/* the DNS name of the certificate */
	o.server_name = "localhost";
	h = must_connect(&o);
	ping(h);
	drop(h);

	/* an unrelated CA */
	tls_opts(&o, url, jstr("other_ca"));
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	if (strcasestr(err, "verif") == NULL &&
	    strcasestr(err, "certificate") == NULL)
		fail_msg("no verification message: \"%s\"", err);

	/* the wrong name */
	tls_opts(&o, url, jstr("ca"));
	o.server_name = "wrong.example";
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	if (strcasestr(err, "verif") == NULL &&
	    strcasestr(err, "mismatch") == NULL &&
	    strcasestr(err, "certificate") == NULL)
		fail_msg("no verification message: \"%s\"", err);

	/* no verification (tests only) */
	tls_opts(&o, url, jstr("other_ca"));
	o.tls_verify = 0;
	h = must_connect(&o);
	ping(h);
	drop(h);
	o.server_name = "wrong.example";
	h = must_connect(&o);
	ping(h);
	drop(h);

	/* --tls-auth-clients yes: a client certificate or nothing */
	tls_opts(&o, mtls, jstr("ca"));
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	o.cert_file = jstr("client_cert");
	o.key_file = jstr("client_key");
	h = must_connect(&o);
	ping(h);
	drop(h);

	/* a key of another certificate, a certificate without its key */
	o.key_file = jstr("server_key");
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	o.key_file = NULL;
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	/* unreadable files */
	tls_opts(&o, url, missing);
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	tls_opts(&o, mtls, jstr("ca"));
	o.cert_file = missing;
	o.key_file = jstr("client_key");
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	/* TLS files for a plain URL */
	tls_opts(&o, plain, jstr("ca"));
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	/* plain text to the TLS port */
	tls_opts(&o, plain, NULL);
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);

	batch_fini(&b);
	free(big);
	free(missing);
	free(plain);
	free(mtls);
	free(url);
}

/* ------------------------------------------------------------------ */
/* ACL                                                                 */
/* ------------------------------------------------------------------ */

static void
test_acl(void **state)
{
	const char *own = "vigil:events:{agency-a}";
	const char *other = "vigil:events:{agency-b}";
	struct vg_redis_xadd x[3];
	struct vg_redis_opts o;
	struct vg_redis *h, *admin;
	struct ent s[3];
	char err[ERRLEN];
	char *url, *bare;
	size_t i;

	(void)state;
	start_servers("acl");
	assert_string_equal(jstr("password"), "secret-a");
	url = strf("redis://agency-a:secret%%2Da@127.0.0.1:%u", jint("port"));
	bare = strf("redis://127.0.0.1:%u", jint("port"));

	/* an ACL user allowed nothing but XADD on its stream connects */
	h = connect_url(url);
	fill(&x[0], &s[0], own, 0, "{}", 2);
	fill(&x[1], &s[1], other, 1, "{}", 2);
	fill(&x[2], &s[2], own, 2, "{}", 2);
	assert_ok(xadd(h, x, 3, err), err);
	assert_true(x[0].done && x[0].ok);
	assert_true(x[1].done && !x[1].ok);
	assert_contains(x[1].error, "NOPERM");
	assert_true(x[2].done && x[2].ok);
	for (i = 0; i < 3; i++)
		assert_lacks(x[i].error, "secret-a");
	drop(h);

	/* the same through the options */
	vg_redis_opts_init(&o);
	o.url = bare;
	o.username = "agency-a";
	o.password = "secret-a";
	h = must_connect(&o);
	assert_ok(xadd(h, x, 1, err), err);
	assert_true(x[0].done && x[0].ok);
	drop(h);

	/* what the stream holds, seen by the default user */
	admin = connect_url(bare);
	assert_int_equal(expect_int(cmd(admin, 1, "XLEN", own)), 3);
	assert_int_equal(expect_int(cmd(admin, 1, "EXISTS", other)), 0);

	/* wrong passwords: WRONGPASS, and the password is not repeated */
	o.password = "Wr0ngPassw0rd!";
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "WRONGPASS");
	assert_lacks(err, "Wr0ngPassw0rd!");
	assert_lacks(err, "secret-a");
	free(url);
	url = strf("redis://agency-a:hunter2-wrong@127.0.0.1:%u", jint("port"));
	vg_redis_opts_init(&o);
	o.url = url;
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "WRONGPASS");
	assert_lacks(err, "hunter2-wrong");
	free(url);
	url = strf("redis://nobody:hunter2-wrong@127.0.0.1:%u", jint("port"));
	o.url = url;
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "WRONGPASS");
	assert_lacks(err, "hunter2-wrong");
	free(url);
	free(bare);
}

/* ------------------------------------------------------------------ */
/* Cluster                                                             */
/* ------------------------------------------------------------------ */

static unsigned slot_port[NSLOTS];

/* slot_port[] from CLUSTER SLOTS, asked through h. */
static void
load_slots(struct vg_redis *h)
{
	struct vg_redis_reply *r = cmd(h, -1, "CLUSTER", "SLOTS");
	size_t i;
	long long s;

	memset(slot_port, 0, sizeof(slot_port));
	assert_int_equal(r->type, VG_REPLY_ARRAY);
	for (i = 0; i < r->n; i++) {
		const struct vg_redis_reply *e = r->elements[i], *m;

		assert_int_equal(e->type, VG_REPLY_ARRAY);
		assert_true(e->n >= 3);
		m = e->elements[2];
		assert_int_equal(e->elements[0]->type, VG_REPLY_INTEGER);
		assert_int_equal(e->elements[1]->type, VG_REPLY_INTEGER);
		assert_int_equal(m->type, VG_REPLY_ARRAY);
		assert_true(m->n >= 2);
		assert_int_equal(m->elements[1]->type, VG_REPLY_INTEGER);
		assert_true(e->elements[0]->integer >= 0 &&
			    e->elements[1]->integer < NSLOTS);
		for (s = e->elements[0]->integer; s <= e->elements[1]->integer;
		     s++)
			slot_port[s] = (unsigned)m->elements[1]->integer;
	}
	vg_redis_reply_free(r);
	for (s = 0; s < NSLOTS; s++)
		assert_true(slot_port[s] != 0);
}

static const char *
node_id(unsigned port)
{
	json_t *nodes = json_object_get(srv, "nodes"), *n;
	size_t i;

	json_array_foreach(nodes, i, n)
	{
		if (jport(json_object_get(n, "port"), "nodes") == port)
			return json_string_value(json_object_get(n, "id"));
	}
	fail_msg("no node on port %u", port);
	return NULL;
}

static struct vg_redis *
cluster_connect(void)
{
	struct vg_redis_opts o;
	char *url = strf("redis://127.0.0.1:%u", jint_at("ports", 0));
	struct vg_redis *h;

	vg_redis_opts_init(&o);
	o.url = url;
	o.mode = VG_REDIS_CLUSTER;
	h = must_connect(&o);
	free(url);
	return h;
}

static void
test_cluster(void **state)
{
	static const char *const keys[] = {
	    "foo",
	    "",
	    "{user1000}.following",
	    "{user1000}.followers",
	    "foo{}{bar}",
	    "foo{{bar}}zap",
	    "foo{bar}{zap}",
	    "{}",
	    "vigil:events:{agency-7}",
	    "vigil:events:{agency-299}",
	    "vigil:events:{}",
	    "\xc3\xa9t\xc3\xa9{\xe6\x9d\xb1}",
	};
	char keyv[CL_KEYS][40];
	unsigned per_port[3] = {0, 0, 0};
	struct vg_redis *h;
	struct batch b;
	char err[ERRLEN];
	size_t i, k;
	long long total = 0, keys_total = 0;

	(void)state;
	start_servers("cluster");
	for (i = 0; i < VG_ARRAY_LEN(keys); i++)
		assert_int_equal(
		    cli_int(jint_at("ports", 0), "CLUSTER", "KEYSLOT", keys[i]),
		    slot_of(keys[i]));

	h = cluster_connect();
	batch_init(&b, CL_ENTRIES);
	for (k = 0; k < CL_KEYS; k++)
		snprintf(keyv[k], sizeof(keyv[k]), "vigil:events:{agency-%zu}",
			 k);
	for (i = 0; i < b.n; i++)
		batch_set(&b, i, keyv[i % CL_KEYS], (unsigned)i);
	assert_ok(xadd(h, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);

	/* each key answered by the master owning its slot */
	load_slots(h);
	for (k = 0; k < CL_KEYS; k++) {
		unsigned port = slot_port[slot_of(keyv[k])];
		long long n = expect_int(cmd(h, 1, "XLEN", keyv[k]));

		assert_int_equal(n, CL_ENTRIES / CL_KEYS);
		assert_peer(h, port);
		total += n;
		for (i = 0; i < 3; i++)
			if (jint_at("ports", i) == port)
				per_port[i]++;
	}
	assert_int_equal(total, CL_ENTRIES);
	assert_int_equal(per_port[0] + per_port[1] + per_port[2], CL_KEYS);
	/* and, asked independently, every master holds some of them */
	for (i = 0; i < 3; i++) {
		long long n =
		    cli_int(jint_at("ports", i), "DBSIZE", NULL, NULL);

		assert_int_equal(n, per_port[i]);
		assert_true(n > 0);
		keys_total += n;
	}
	assert_int_equal(keys_total, CL_KEYS);
	batch_fini(&b);
}

/* vg_redis_scan() callback: count each key of the form
 * vigil:events:{agency-K} in seen[K]; stop after stop_after keys. */
struct scan_seen {
	unsigned seen[CL_KEYS];
	unsigned other, calls, stop_after;
};

static int
scan_count(void *ctx, const char *key, size_t len)
{
	struct scan_seen *s = ctx;
	char buf[64];
	unsigned k;
	char end;

	s->calls++;
	if (len < sizeof(buf)) {
		memcpy(buf, key, len);
		buf[len] = '\0';
		if (sscanf(buf, "vigil:events:{agency-%u%c", &k, &end) == 2 &&
		    end == '}' && k < CL_KEYS && strlen(buf) == len)
			s->seen[k]++;
		else
			s->other++;
	} else
		s->other++;
	return s->stop_after && s->calls >= s->stop_after;
}

static void
test_cluster_scan(void **state)
{
	struct vg_redis *h;
	struct scan_seen *s = calloc(1, sizeof(*s));
	unsigned per_port[3] = {0, 0, 0};
	char err[ERRLEN], key[64];
	size_t i, k;

	(void)state;
	assert_non_null(s);
	start_servers("cluster");
	h = cluster_connect();
	load_slots(h);
	for (k = 0; k < CL_KEYS; k++) {
		snprintf(key, sizeof(key), "vigil:events:{agency-%zu}", k);
		expect_status(cmd(h, 1, "SET", key, "x"), "OK");
		for (i = 0; i < 3; i++)
			if (jint_at("ports", i) == slot_port[slot_of(key)])
				per_port[i]++;
	}
	/* keys the pattern must not report, on every master */
	for (k = 0; k < 30; k++) {
		snprintf(key, sizeof(key), "vigil:other:%zu", k);
		expect_status(cmd(h, 1, "SET", key, "y"), "OK");
	}
	/* the keys really are spread over the three masters */
	for (i = 0; i < 3; i++)
		assert_true(per_port[i] > 0);

	/* small COUNT: many cursor calls per master */
	assert_ok(vg_redis_scan(h, "vigil:events:*", 7, scan_count, s, err,
				sizeof(err)),
		  err);
	for (k = 0; k < CL_KEYS; k++)
		if (s->seen[k] == 0)
			fail_msg("key %zu not found by the scan", k);
	assert_int_equal(s->other, 0);

	/* the callback stops the walk at once, over all masters */
	memset(s, 0, sizeof(*s));
	s->stop_after = 5;
	assert_ok(
	    vg_redis_scan(h, "vigil:*", 0, scan_count, s, err, sizeof(err)),
	    err);
	assert_int_equal(s->calls, 5);

	assert_int_equal(
	    vg_redis_scan(NULL, "x", 0, scan_count, s, err, sizeof(err)),
	    VG_EINVAL);
	assert_int_equal(
	    vg_redis_scan(h, NULL, 0, scan_count, s, err, sizeof(err)),
	    VG_EINVAL);
	free(s);
}

static void
test_plain_scan(void **state)
{
	struct vg_redis *h;
	struct scan_seen *s = calloc(1, sizeof(*s));
	char err[ERRLEN], key[64];
	size_t k;
	char *url;

	(void)state;
	assert_non_null(s);
	start_servers("plain");
	url = strf("redis://127.0.0.1:%u", jint("port"));
	h = connect_url(url);
	free(url);
	for (k = 0; k < 50; k++) {
		snprintf(key, sizeof(key), "vigil:events:{agency-%zu}", k);
		expect_status(cmd(h, 1, "SET", key, "x"), "OK");
	}
	expect_status(cmd(h, 1, "SET", "unrelated", "x"), "OK");
	assert_ok(vg_redis_scan(h, "vigil:events:*", 3, scan_count, s, err,
				sizeof(err)),
		  err);
	for (k = 0; k < 50; k++)
		assert_true(s->seen[k] >= 1);
	assert_int_equal(s->other, 0);
	/* a server that answers SCAN with an error: VG_EIO, quoted */
	expect_status(cmd(h, -1, "ACL", "SETUSER", "default", "-scan"), "OK");
	assert_int_equal(vg_redis_scan(h, "vigil:events:*", 0, scan_count, s,
				       err, sizeof(err)),
			 VG_EINVAL);
	assert_non_null(strstr(err, "SCAN: NOPERM"));
	/* the connection is still good */
	expect_status(cmd(h, -1, "PING"), "PONG");
	free(s);
}

/*
 * Move the slot of key from its owner src to dst by hand: IMPORTING on
 * dst, MIGRATING on src, MIGRATE the key; with finish, SETSLOT NODE on
 * every master (dst first). The key must be alone in its slot.
 */
static void
move_slot(const char *key, unsigned src, unsigned dst, bool finish)
{
	char slot[16], dport[16];
	unsigned s = slot_of(key);
	size_t i;

	snprintf(slot, sizeof(slot), "%u", s);
	snprintf(dport, sizeof(dport), "%u", dst);
	assert_int_equal(cli_int(src, "CLUSTER", "COUNTKEYSINSLOT", slot), 1);
	cli_expect("OK", dst, "CLUSTER", "SETSLOT", slot, "IMPORTING",
		   node_id(src));
	cli_expect("OK", src, "CLUSTER", "SETSLOT", slot, "MIGRATING",
		   node_id(dst));
	cli_expect("OK", src, "MIGRATE", "127.0.0.1", dport, "", "0", "5000",
		   "KEYS", key);
	if (!finish)
		return;
	cli_expect("OK", dst, "CLUSTER", "SETSLOT", slot, "NODE", node_id(dst));
	cli_expect("OK", src, "CLUSTER", "SETSLOT", slot, "NODE", node_id(dst));
	for (i = 0; i < 3; i++) {
		unsigned p = jint_at("ports", i);

		if (p != src && p != dst)
			cli_expect("OK", p, "CLUSTER", "SETSLOT", slot, "NODE",
				   node_id(dst));
	}
}

/* A master that does not own key's slot now. */
static unsigned
other_master(const char *key)
{
	unsigned owner = slot_port[slot_of(key)];
	size_t i;

	for (i = 0; i < 3; i++)
		if (jint_at("ports", i) != owner)
			return jint_at("ports", i);
	fail_msg("one master only");
	return 0;
}

static void
test_cluster_redirects(void **state)
{
	const char *moved = "vigil:events:{agency-moved}";
	const char *asked = "vigil:events:{agency-ask}";
	const char *bycmd = "vigil:events:{agency-cmd}";
	char slot[16];
	struct vg_redis_reply *r;
	struct vg_redis *h;
	struct batch b;
	char err[ERRLEN];
	unsigned src, dst;
	size_t i;

	(void)state;
	start_servers("cluster");
	assert_int_not_equal(slot_of(moved), slot_of(asked));
	assert_int_not_equal(slot_of(moved), slot_of(bycmd));
	assert_int_not_equal(slot_of(asked), slot_of(bycmd));
	h = cluster_connect();
	load_slots(h);

	/* 5 entries in each key, through h (its map is now loaded) */
	batch_init(&b, 20);
	for (i = 0; i < 15; i++)
		batch_set(&b, i,
			  i < 5    ? moved
			  : i < 10 ? asked
				   : bycmd,
			  (unsigned)i);
	assert_ok(xadd(h, b.x, 15, err), err);
	assert_all_ok(b.x, 15);

	/* MOVED: the slot changed owner behind h's back */
	src = slot_port[slot_of(moved)];
	dst = other_master(moved);
	move_slot(moved, src, dst, true);
	for (i = 0; i < 20; i++)
		batch_set(&b, i, moved, (unsigned)(100 + i));
	assert_ok(xadd(h, b.x, 20, err), err);
	assert_all_ok(b.x, 20);
	snprintf(slot, sizeof(slot), "%u", slot_of(moved));
	assert_int_equal(cli_int(dst, "XLEN", moved, NULL), 25);
	assert_int_equal(cli_int(src, "CLUSTER", "COUNTKEYSINSLOT", slot), 0);
	assert_int_equal(cli_int(dst, "CLUSTER", "COUNTKEYSINSLOT", slot), 1);
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", moved)), 25);
	assert_peer(h, dst);

	/* MOVED for vg_redis_command */
	src = slot_port[slot_of(bycmd)];
	dst = other_master(bycmd);
	move_slot(bycmd, src, dst, true);
	r = cmd(h, 1, "XADD", bycmd, "*", "n", "1");
	assert_int_equal(r->type, VG_REPLY_STRING);
	vg_redis_reply_free(r);
	assert_peer(h, dst);
	assert_int_equal(cli_int(dst, "XLEN", bycmd, NULL), 6);

	/* ASK: the key moved, the slot is still migrating */
	src = slot_port[slot_of(asked)];
	dst = other_master(asked);
	move_slot(asked, src, dst, false);
	for (i = 0; i < 7; i++)
		batch_set(&b, i, asked, (unsigned)(200 + i));
	batch_set(&b, 7, moved, 207); /* and one elsewhere */
	assert_ok(xadd(h, b.x, 8, err), err);
	assert_all_ok(b.x, 8);
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", asked)), 12);
	assert_peer(h, dst);
	snprintf(slot, sizeof(slot), "%u", slot_of(asked));
	cli_expect("OK", dst, "CLUSTER", "SETSLOT", slot, "NODE", node_id(dst));
	cli_expect("OK", src, "CLUSTER", "SETSLOT", slot, "NODE", node_id(dst));
	for (i = 0; i < 3; i++) {
		unsigned p = jint_at("ports", i);

		if (p != src && p != dst)
			cli_expect("OK", p, "CLUSTER", "SETSLOT", slot, "NODE",
				   node_id(dst));
	}
	assert_int_equal(cli_int(dst, "XLEN", asked, NULL), 12);
	assert_int_equal(cli_int(src, "CLUSTER", "COUNTKEYSINSLOT", slot), 0);
	assert_int_equal(expect_int(cmd(h, 1, "XLEN", moved)), 26);
	batch_fini(&b);
}

/* ------------------------------------------------------------------ */
/* Sentinel                                                            */
/* ------------------------------------------------------------------ */

static void
test_sentinel(void **state)
{
	const char *key = "vigil:events:{sentinel}";
	char *sent[4], *dead[2];
	char out[64], line[64];
	struct vg_redis_opts o;
	struct vg_redis *h;
	struct batch b;
	char err[ERRLEN];
	unsigned oldp, newp;
	size_t i;
	enum vg_err rc;

	(void)state;
	start_servers("sentinel");
	oldp = jint("master_port");
	/* the first sentinel is down: the next ones are asked */
	sent[0] = strf("127.0.0.1:%u", closed_port());
	for (i = 0; i < 3; i++)
		sent[i + 1] =
		    strf("127.0.0.1:%u", jint_at("sentinel_ports", i));
	vg_redis_opts_init(&o);
	o.mode = VG_REDIS_SENTINEL;
	o.sentinel_master = "mymaster";
	o.sentinels = sent;
	o.n_sentinels = 4;
	h = must_connect(&o);
	assert_peer(h, oldp);
	batch_init(&b, 100);
	for (i = 0; i < b.n; i++)
		batch_set(&b, i, key, (unsigned)i);
	assert_ok(xadd(h, b.x, b.n, err), err);
	assert_all_ok(b.x, b.n);

	assert_int_equal(script("failover", NULL, out, sizeof(out)), 0);
	newp = (unsigned)strtoul(out, NULL, 10);
	assert_true(newp != 0 && newp != oldp);

	/* at most one failure (the old master, now a replica) */
	for (i = 0; i < 50; i++)
		batch_set(&b, i, key, (unsigned)(1000 + i));
	rc = xadd(h, b.x, 50, err);
	if (rc != VG_OK) {
		print_message("first batch after the failover: %s\n", err);
		assert_rc(rc, VG_EIO, err);
		rc = xadd(h, b.x, 50, err);
	}
	assert_ok(rc, err);
	assert_all_ok(b.x, 50);
	assert_peer(h, newp);
	ping(h);
	/* on the new master, asked directly */
	assert_true(cli_int(newp, "XLEN", key, NULL) >= 150);
	for (i = 0; i < 50; i++) {
		cli(line, sizeof(line), newp, "XRANGE", key, b.x[i].id,
		    b.x[i].id, (char *)NULL);
		assert_int_equal(strncmp(line, b.x[i].id, strlen(b.x[i].id)),
				 0);
	}
	cli(line, sizeof(line), oldp, "ROLE", (char *)NULL);
	assert_int_equal(strncmp(line, "slave", 5), 0);

	/* no usable sentinel, an unknown master, no sentinels */
	drop(h);
	dead[0] = sent[0];
	dead[1] = sent[0];
	o.sentinels = dead;
	o.n_sentinels = 2;
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	o.sentinels = sent;
	o.n_sentinels = 4;
	o.sentinel_master = "nosuchmaster";
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	o.sentinel_master = "mymaster";
	o.n_sentinels = 0;
	assert_rc(try_connect(&h, &o, err), VG_EINVAL, err);
	for (i = 0; i < 4; i++)
		free(sent[i]);
	batch_fini(&b);
}

/* ------------------------------------------------------------------ */
/* A hostile server                                                    */
/* ------------------------------------------------------------------ */

struct hostile {
	int lfd;
	unsigned port;
	const char *payload; /* the answer, len bytes */
	size_t len;
	bool keep_open;  /* after answering, wait for the client to close */
	bool at_connect; /* answer PING with the payload too */
	atomic_int stop;
	bool running;
	pthread_t th;
};

static struct hostile hostile;

static void
hostile_serve(struct hostile *hs, int fd)
{
	char buf[8192];
	size_t have = 0;

	while (!atomic_load(&hs->stop)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		const char *name = NULL;
		size_t used = 0, nl = 0;
		ssize_t r;
		int rc;

		if (poll(&p, 1, 50) <= 0)
			continue;
		r = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (r <= 0)
			return;
		have += (size_t)r;
		while ((rc = resp_command(buf, have, &used, &name, &nl)) == 1) {
			if (!hs->at_connect && nl == 4 &&
			    strncasecmp(name, "PING", 4) == 0) {
				send_all(fd, "+PONG\r\n", 7);
			} else {
				send_all(fd, hs->payload, hs->len);
				if (!hs->keep_open)
					return;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		if (rc < 0 || have == sizeof(buf))
			return;
	}
}

static void *
hostile_main(void *arg)
{
	struct hostile *hs = arg;

	while (!atomic_load(&hs->stop)) {
		struct pollfd p = {.fd = hs->lfd, .events = POLLIN};
		struct timeval tv = {.tv_sec = 2};
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(hs->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* a client that neither reads nor closes cannot block us */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		hostile_serve(hs, fd);
		close(fd);
	}
	return NULL;
}

static void
hostile_start(const char *payload, size_t len, bool keep_open, bool at_connect)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);

	assert_false(hostile.running);
	hostile.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(hostile.lfd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(hostile.lfd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	assert_int_equal(listen(hostile.lfd, 8), 0);
	assert_int_equal(getsockname(hostile.lfd, (struct sockaddr *)&sa, &sl),
			 0);
	hostile.port = ntohs(sa.sin_port);
	hostile.payload = payload;
	hostile.len = len;
	hostile.keep_open = keep_open;
	hostile.at_connect = at_connect;
	atomic_store(&hostile.stop, 0);
	assert_int_equal(
	    pthread_create(&hostile.th, NULL, hostile_main, &hostile), 0);
	hostile.running = true;
}

static void
hostile_stop(void)
{
	if (!hostile.running)
		return;
	atomic_store(&hostile.stop, 1);
	assert_int_equal(pthread_join(hostile.th, NULL), 0);
	close(hostile.lfd);
	hostile.running = false;
}

static void
hostile_opts(struct vg_redis_opts *o, char *url, size_t n)
{
	snprintf(url, n, "redis://127.0.0.1:%u", hostile.port);
	vg_redis_opts_init(o);
	o->url = url;
	/* far above the time a refusal takes: failing by waiting shows */
	o->io_timeout_ms = 3000;
}

/*
 * The reply was refused for what it is, not after waiting for more
 * (VG_EIO, and a message that is not a timeout). Says why not; returns
 * whether it was.
 */
static bool
refused_bytes(enum vg_err rc, const char *err, const char *what, int at)
{
	const char *when = at ? "to connect" : "to a command";

	if (rc != VG_EIO) {
		print_error("%s %s: rc %d, want VG_EIO (%s)\n", what, when,
			    (int)rc, err);
		return false;
	}
	if (strcasestr(err, "timed out") != NULL ||
	    strcasestr(err, "timeout") != NULL) {
		print_error("%s %s: waited instead of refusing: %s\n", what,
			    when, err);
		return false;
	}
	print_message("  %-28s %-12s %s\n", what, when, err);
	return true;
}

struct bad_reply {
	const char *what;
	const char *p;
	size_t len;
	bool keep_open;
};

#define BAD(what, s, keep)                                                     \
	{                                                                      \
		what, s, sizeof(s) - 1, keep                                   \
	}

static void
test_hostile(void **state)
{
	static const char nested10[] = "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
				       "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n";
	static const char control[] = "*2\r\n*2\r\n:5\r\n$3\r\nab\0\r\n"
				      "$-1\r\n";
	static const struct bad_reply bad[] = {
	    BAD("huge bulk, then close", "$999999999999\r\n", false),
	    BAD("huge bulk", "$999999999999\r\n", true),
	    BAD("bulk over MAX_BULK", "$536870913\r\n", true),
	    BAD("10 nested arrays", nested10, true),
	    BAD("2e9 elements", "*2000000000\r\n", true),
	    BAD("array over MAX_ELEMENTS", "*1048577\r\n", true),
	    BAD("garbage",
		"\x00\x01\xfe\xff"
		"HELLO garbage\r\n",
		true),
	    BAD("negative bulk length", "$-7\r\n", true),
	    BAD("truncated bulk, then close", "$5\r\nabc", false),
	    BAD("nothing, then close", "", false),
	};
	struct bad_reply longline;
	struct vg_redis_opts o;
	struct vg_redis_reply *r;
	struct vg_redis *h;
	char url[64], err[ERRLEN];
	char *line;
	size_t i;
	int at, failed = 0;

	(void)state;
	/* an overlong status line that never ends */
	line = malloc(VG_REDIS_MAX_LINE + 4096);
	assert_non_null(line);
	line[0] = '+';
	memset(line + 1, 'A', VG_REDIS_MAX_LINE + 4095);
	longline.what = "status line over MAX_LINE";
	longline.p = line;
	longline.len = VG_REDIS_MAX_LINE + 4096;
	longline.keep_open = true;

	for (i = 0; i <= VG_ARRAY_LEN(bad); i++) {
		const struct bad_reply *t =
		    i < VG_ARRAY_LEN(bad) ? &bad[i] : &longline;

		for (at = 0; at < 2; at++) {
			bool ok;

			hostile_start(t->p, t->len, t->keep_open, at == 1);
			hostile_opts(&o, url, sizeof(url));
			if (at == 1) {
				/* the reply to the connection's PING */
				ok = refused_bytes(try_connect(&h, &o, err),
						   err, t->what, at);
			} else {
				h = must_connect(&o);
				ok = refused_bytes(try_cmd(h, 1, &r, err, "GET",
							   "k", (char *)NULL),
						   err, t->what, at);
				drop(h);
			}
			hostile_stop();
			failed += !ok;
		}
	}
	free(line);
	if (failed > 0)
		fail_msg("%d hostile replies were not refused (above)", failed);

	/* the harness itself: a sane nested reply is taken */
	hostile_start(control, sizeof(control) - 1, true, false);
	hostile_opts(&o, url, sizeof(url));
	h = must_connect(&o);
	r = cmd(h, 1, "GET", "k");
	assert_int_equal(r->type, VG_REPLY_ARRAY);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->elements[0]->type, VG_REPLY_ARRAY);
	assert_int_equal(r->elements[0]->n, 2);
	assert_int_equal(r->elements[0]->elements[0]->type, VG_REPLY_INTEGER);
	assert_int_equal(r->elements[0]->elements[0]->integer, 5);
	assert_bytes(r->elements[0]->elements[1], "ab\0", 3);
	assert_int_equal(r->elements[1]->type, VG_REPLY_NIL);
	vg_redis_reply_free(r);
	drop(h);
	hostile_stop();
}

/* Server text in messages and entry errors is escaped and cut. */
static void
test_hostile_text(void **state)
{
	static const char evil[] =
	    "-ERR evil\x1b[2J\x07\r\n"; /* terminal escapes */
	static const char wrongpass[] = "-WRONGPASS bad\x1b[31m\x07 user\r\n";
	static const char noauth[] = "-NOAUTH Authentication required.\r\n";
	char long_err[600];
	struct vg_redis_xadd x[2];
	struct vg_redis_opts o;
	struct vg_redis_reply *r;
	struct vg_redis *h;
	struct ent s[2];
	char url[64], err[ERRLEN];
	size_t i;

	(void)state;
	/* an error reply to a command: the answer, kept as it is */
	hostile_start(evil, sizeof(evil) - 1, true, false);
	hostile_opts(&o, url, sizeof(url));
	h = must_connect(&o);
	r = cmd(h, 1, "GET", "k");
	assert_int_equal(r->type, VG_REPLY_ERROR);
	assert_string_equal(r->str, "ERR evil\x1b[2J\x07");
	vg_redis_reply_free(r);
	drop(h);
	hostile_stop();

	/* in an entry's error: escaped, and cut to fit */
	memcpy(long_err, "-ERR evil\x1b[2J", 13);
	memset(long_err + 13, 'x', sizeof(long_err) - 13 - 2);
	memcpy(long_err + sizeof(long_err) - 2, "\r\n", 2);
	hostile_start(long_err, sizeof(long_err), true, false);
	hostile_opts(&o, url, sizeof(url));
	h = must_connect(&o);
	fill(&x[0], &s[0], "k1", 0, "{}", 2);
	fill(&x[1], &s[1], "k2", 1, "{}", 2);
	assert_ok(xadd(h, x, 2, err), err);
	for (i = 0; i < 2; i++) {
		assert_true(x[i].done && !x[i].ok);
		assert_printable(x[i].error, sizeof(x[i].error));
		assert_contains(x[i].error, "ERR evil");
	}
	drop(h);
	hostile_stop();

	/* WRONGPASS from a server: escaped, without our password */
	hostile_start(wrongpass, sizeof(wrongpass) - 1, true, true);
	hostile_opts(&o, url, sizeof(url));
	o.username = "agent";
	o.password = "TopSecret";
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "WRONGPASS");
	assert_lacks(err, "TopSecret");
	hostile_stop();

	/* a server that wants a password we do not have */
	hostile_start(noauth, sizeof(noauth) - 1, true, true);
	hostile_opts(&o, url, sizeof(url));
	assert_rc(try_connect(&h, &o, err), VG_EIO, err);
	assert_contains(err, "NOAUTH");
	hostile_stop();
}

/* Replies through vg_redis_parse_stream, the reader of every connection. */
static enum vg_err
parse(const char *bytes, size_t len, unsigned *n)
{
	char err[256];

	*n = 0;
	return vg_redis_parse_stream(bytes, len, 7, NULL, NULL, n, err,
				     sizeof(err));
}

struct depth_seen {
	unsigned depth;
};

static void
measure(const struct vg_redis_reply *r, void *arg)
{
	struct depth_seen *d = arg;
	unsigned k = 0;

	while (r->type == VG_REPLY_ARRAY && r->n == 1) {
		r = r->elements[0];
		k++;
	}
	d->depth = k;
}

/* The bounds of a reply (redis.h, SECURITY.md "Limits"), each at the bound
 * and one past it: nested arrays, array elements, bulk string length,
 * status line length. */
static void
test_reply_limits(void **state)
{
	char buf[256], err[256];
	struct depth_seen seen = {0};
	unsigned n, i;
	size_t len;
	char *line;

	(void)state;
	/* VG_REDIS_MAX_DEPTH nested arrays: read; one more: refused. */
	buf[0] = '\0';
	for (i = 0; i < VG_REDIS_MAX_DEPTH; i++)
		strcat(buf, "*1\r\n");
	strcat(buf, ":1\r\n");
	assert_int_equal(vg_redis_parse_stream(buf, strlen(buf), 3, measure,
					       &seen, &n, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(seen.depth, VG_REDIS_MAX_DEPTH);
	memmove(buf + 4, buf, strlen(buf) + 1);
	memcpy(buf, "*1\r\n", 4);
	assert_int_equal(parse(buf, strlen(buf), &n), VG_EIO);
	assert_int_equal(n, 0);

	/* Array and bulk headers at the bound are accepted (the reply is
	 * then incomplete: no reply, no error); past it they are refused
	 * before anything is allocated for them. */
	len = (size_t)snprintf(buf, sizeof(buf), "*%u\r\n",
			       VG_REDIS_MAX_ELEMENTS);
	assert_int_equal(parse(buf, len, &n), VG_OK);
	assert_int_equal(n, 0);
	len = (size_t)snprintf(buf, sizeof(buf), "*%u\r\n",
			       VG_REDIS_MAX_ELEMENTS + 1);
	assert_int_equal(parse(buf, len, &n), VG_EIO);
	len =
	    (size_t)snprintf(buf, sizeof(buf), "$%u\r\nabc", VG_REDIS_MAX_BULK);
	assert_int_equal(parse(buf, len, &n), VG_OK);
	assert_int_equal(n, 0);
	len = (size_t)snprintf(buf, sizeof(buf), "$%u\r\n",
			       VG_REDIS_MAX_BULK + 1);
	assert_int_equal(parse(buf, len, &n), VG_EIO);

	/* A status line of VG_REDIS_MAX_LINE bytes with its CRLF: read whole;
	 * one byte more: refused. */
	line = malloc(VG_REDIS_MAX_LINE + 2);
	assert_non_null(line);
	line[0] = '+';
	memset(line + 1, 'A', VG_REDIS_MAX_LINE - 3);
	memcpy(line + VG_REDIS_MAX_LINE - 2, "\r\n", 2);
	assert_int_equal(vg_redis_parse_stream(line, VG_REDIS_MAX_LINE, 0, NULL,
					       NULL, &n, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(n, 1);
	line[VG_REDIS_MAX_LINE - 2] = 'A';
	memcpy(line + VG_REDIS_MAX_LINE - 1, "\r\n", 2);
	assert_int_equal(vg_redis_parse_stream(line, VG_REDIS_MAX_LINE + 1, 0,
					       NULL, NULL, &n, err,
					       sizeof(err)),
			 VG_EIO);
	assert_non_null(strstr(err, "too long"));
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_parse),
	    cmocka_unit_test(test_key_slot),
	    cmocka_unit_test(test_reply_limits),
	    cmocka_unit_test_teardown(test_plain_connect, teardown),
	    cmocka_unit_test_teardown(test_plain_xadd, teardown),
	    cmocka_unit_test_teardown(test_plain_error_reply, teardown),
	    cmocka_unit_test_teardown(test_refused, teardown),
	    cmocka_unit_test_teardown(test_server_killed, teardown),
	    cmocka_unit_test_teardown(test_tls, teardown),
	    cmocka_unit_test_teardown(test_acl, teardown),
	    cmocka_unit_test_teardown(test_cluster, teardown),
	    cmocka_unit_test_teardown(test_cluster_redirects, teardown),
	    cmocka_unit_test_teardown(test_cluster_scan, teardown),
	    cmocka_unit_test_teardown(test_plain_scan, teardown),
	    cmocka_unit_test_teardown(test_sentinel, teardown),
	    cmocka_unit_test_teardown(test_hostile, teardown),
	    cmocka_unit_test_teardown(test_hostile_text, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
