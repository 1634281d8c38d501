/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YARA scanner in a child process: both ends (see scanchild.h).
 */
#define _GNU_SOURCE
#include "scanchild.h"

#include "log.h"
#include "sandbox.h"
#include "yarascan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RESULT_FIXED   88u /* status, flags, bytes, sha256, matches, more */
#define MATCH_FIXED    8u  /* rule, strings */
#define STRING_FIXED   16u /* index, offsets, count */
#define SCAN_FIXED     16u /* size, flags, path_len */
#define MAX_PATH_SENT  4095u
#define BACKOFF_MIN_US 100000
#define BACKOFF_MAX_US 5000000
#define LOAD_WAIT_MS   60000 /* a rule set to load */
#define SCAN_SLACK_MS  30000 /* over twice the time limit */
#define KEEP_BUF_BYTES (8u << 20)
#define FLAG_HASH      1u

_Static_assert(RESULT_FIXED +
		       VG_YARA_MAX_MATCHES *
			   (MATCH_FIXED +
			    VG_YARA_MAX_STRINGS *
				(STRING_FIXED + 8 * VG_YARA_MAX_OFFSETS)) <=
		   VG_SB_MAX_PAYLOAD,
	       "a verdict must fit one message");
_Static_assert(SCAN_FIXED + MAX_PATH_SENT <= VG_SB_MAX_PAYLOAD,
	       "a scan request must fit one message");

struct vg_scanchild {
	char *exe;
	long pid;
	int sock;
	struct vg_yara *y; /* the set the child runs; NULL: none yet */
	unsigned timeout_s;
	unsigned failures; /* in a row, for the wait before a start */
	int64_t next_start_us;
	uint8_t *buf; /* one message */
	struct vg_file_match m[VG_YARA_MAX_MATCHES];
	struct vg_file_string s[VG_YARA_MAX_MATCHES][VG_YARA_MAX_STRINGS];
	uint64_t (*offs)[VG_YARA_MAX_STRINGS][VG_YARA_MAX_OFFSETS];
};

/* ------------------------------------------------------------------ */
/* Byte order and bounds                                                */

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
	return p + 8;
}

/* A reader over a payload; once short, every read gives 0. */
struct rd {
	const uint8_t *p;
	size_t left;
	int short_;
};

/* The next n bytes into v (zeros once short). */
static void
take(struct rd *r, void *v, size_t n)
{
	if (r->left < n) {
		r->short_ = 1;
		r->left = 0;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->p, n);
	r->p += n;
	r->left -= n;
}

static uint32_t
get32(struct rd *r)
{
	uint32_t v;

	take(r, &v, sizeof(v));
	return v;
}

static uint64_t
get64(struct rd *r)
{
	uint64_t v;

	take(r, &v, sizeof(v));
	return v;
}

/*
 * Receive one message into buf (VG_SB_HDR + VG_SB_MAX_PAYLOAD bytes),
 * waiting at most timeout_ms (-1: no limit). A descriptor sent along goes
 * to *fd (-1 when none; with fd NULL, any is closed and the message is
 * refused as -3). Returns the datagram's size as sent (MSG_TRUNC), 0 when
 * the peer is gone, -1 on an error, -2 on timeout.
 */
static ssize_t
recv_msg(int sock, uint8_t *buf, int *fd, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {buf, VG_SB_HDR + VG_SB_MAX_PAYLOAD};
	struct pollfd pfd = {sock, POLLIN, 0};
	struct msghdr mh;
	struct cmsghdr *c;
	int got = -1, extra = 0;
	ssize_t n;

	if (fd)
		*fd = -1;
	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r > 0)
			break;
		if (r == 0)
			return -2;
		if (errno != EINTR)
			return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(sock, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t i, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int one;

			memcpy(&one, CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
			if (got < 0 && fd != NULL) {
				got = one;
			} else {
				close(one);
				extra = 1;
			}
		}
	}
	if (extra || (mh.msg_flags & MSG_CTRUNC)) {
		if (got >= 0)
			close(got);
		return -3;
	}
	if (fd)
		*fd = got;
	return n;
}

/* ------------------------------------------------------------------ */
/* Verdicts                                                             */

size_t
vg_scanchild_encode_result(uint8_t *buf, size_t room, const struct vg_yara *y,
			   enum vg_scanchild_status status, uint64_t len,
			   const char *sha256, const struct vg_file_match *m,
			   unsigned n, unsigned more)
{
	uint8_t *p = buf;
	int hashed = sha256 != NULL && strlen(sha256) == 64;
	unsigned i, j, k;

	(void)room; /* the _Static_assert above: it always fits */
	p = put32(p, (uint32_t)status);
	p = put32(p, hashed ? FLAG_HASH : 0);
	p = put64(p, len);
	if (hashed)
		memcpy(p, sha256, 64);
	else
		memset(p, '0', 64);
	p += 64;
	p = put32(p, n);
	p = put32(p, more);
	for (i = 0; i < n; i++) {
		p = put32(p, vg_yara_rule_index(y, m[i].rule));
		p = put32(p, m[i].n_strings);
		for (j = 0; j < m[i].n_strings; j++) {
			const struct vg_file_string *s = &m[i].strings[j];

			p = put32(p, s->idx);
			p = put32(p, s->n);
			p = put64(p, s->count);
			for (k = 0; k < s->n; k++)
				p = put64(p, s->offsets[k]);
		}
	}
	return (size_t)(p - buf);
}

static int
lower_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

#define BAD(...)                                                               \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return VG_EMALFORMED;                                          \
	} while (0)

enum vg_err
vg_scanchild_decode_result(struct vg_scanchild *sc, const struct vg_yara *y,
			   uint64_t size, const uint8_t *p, size_t len,
			   struct vg_scanchild_result *r, char *err,
			   size_t errlen)
{
	struct rd rd = {p, len, 0};
	uint32_t status, flags, n, more, i, j, k, prev_rule = 0;

	memset(r, 0, sizeof(*r));
	status = get32(&rd);
	flags = get32(&rd);
	r->len = get64(&rd);
	if (rd.left < 64)
		BAD("verdict of %zu bytes: shorter than its fixed part", len);
	if (status >= VG_SCAN__STATUSES)
		BAD("unknown scan status %u", status);
	if (flags & ~FLAG_HASH)
		BAD("unknown flags 0x%x", flags);
	if (r->len > size)
		BAD("%llu bytes scanned of a %llu-byte file",
		    (unsigned long long)r->len, (unsigned long long)size);
	if (flags & FLAG_HASH) {
		if (!lower_hex(rd.p, 64))
			BAD("a SHA-256 that is not lower-case hex");
		memcpy(r->sha256, rd.p, 64);
		r->sha256[64] = '\0';
	} else if (memcmp(rd.p,
			  "0000000000000000000000000000000000000000"
			  "000000000000000000000000",
			  64) != 0) {
		BAD("a SHA-256 without its flag");
	}
	rd.p += 64;
	rd.left -= 64;
	n = get32(&rd);
	more = get32(&rd);
	if (rd.short_)
		BAD("verdict of %zu bytes: shorter than its fixed part", len);
	if (n > VG_YARA_MAX_MATCHES)
		BAD("%u matches (at most %u)", n, VG_YARA_MAX_MATCHES);
	if (more > vg_yara_rule_count(y))
		BAD("%u more matches than the set's %u rules", more,
		    vg_yara_rule_count(y));
	if ((status == VG_SCAN_UNREAD || status == VG_SCAN_FAILED) &&
	    (n || more || flags))
		BAD("matches or a hash with a failed scan");
	for (i = 0; i < n; i++) {
		struct vg_file_match *m = &sc->m[i];
		uint32_t rule = get32(&rd), ns = get32(&rd);
		uint32_t last = 0;

		if (rd.short_)
			BAD("match %u: cut short", i + 1);
		if (rule >= vg_yara_rule_count(y))
			BAD("match %u: rule %u of %u", i + 1, rule,
			    vg_yara_rule_count(y));
		if (i > 0 && rule <= prev_rule)
			BAD("match %u: rule %u out of order", i + 1, rule);
		if (ns > VG_YARA_MAX_STRINGS)
			BAD("match %u: %u strings (at most %u)", i + 1, ns,
			    VG_YARA_MAX_STRINGS);
		prev_rule = rule;
		m->rule = vg_yara_rule(y, rule);
		m->strings = sc->s[i];
		m->n_strings = ns;
		for (j = 0; j < ns; j++) {
			struct vg_file_string *s = &sc->s[i][j];
			uint32_t idx = get32(&rd), no = get32(&rd);
			uint64_t count = get64(&rd);

			if (rd.short_)
				BAD("match %u: string %u cut short", i + 1,
				    j + 1);
			s->id = vg_yara_rule_string(y, rule, idx);
			if (s->id == NULL)
				BAD("match %u: rule %u has no string %u", i + 1,
				    rule, idx);
			if (j > 0 && idx <= last)
				BAD("match %u: string %u out of order", i + 1,
				    idx);
			last = idx;
			if (count == 0 || no != (count < VG_YARA_MAX_OFFSETS
						     ? count
						     : VG_YARA_MAX_OFFSETS))
				BAD("match %u: string %u with %u offsets "
				    "for a count of %llu",
				    i + 1, idx, no, (unsigned long long)count);
			s->idx = idx;
			s->n = no;
			s->count = count;
			s->offsets = sc->offs[i][j];
			for (k = 0; k < no; k++) {
				uint64_t off = get64(&rd);

				if (rd.short_)
					BAD("match %u: offsets cut short",
					    i + 1);
				if (off >= r->len)
					BAD("match %u: offset %llu past the "
					    "%llu bytes scanned",
					    i + 1, (unsigned long long)off,
					    (unsigned long long)r->len);
				sc->offs[i][j][k] = off;
			}
		}
	}
	if (rd.left != 0)
		BAD("%zu bytes after the verdict", rd.left);
	r->status = (enum vg_scanchild_status)status;
	r->matches = sc->m;
	r->n = n;
	r->more = more;
	return VG_OK;
}
#undef BAD

/* ------------------------------------------------------------------ */
/* The parent's end                                                     */

enum vg_err
vg_scanchild_new(struct vg_scanchild **out, const char *exe)
{
	struct vg_scanchild *sc = calloc(1, sizeof(*sc));

	*out = NULL;
	if (sc == NULL)
		return VG_ENOMEM;
	sc->sock = -1;
	sc->exe = strdup(exe ? exe : "/proc/self/exe");
	sc->buf = malloc(VG_SB_HDR + VG_SB_MAX_PAYLOAD);
	sc->offs = vg_calloc(VG_YARA_MAX_MATCHES, sizeof(*sc->offs));
	if (sc->exe == NULL || sc->buf == NULL || sc->offs == NULL) {
		vg_scanchild_free(sc);
		return VG_ENOMEM;
	}
	*out = sc;
	return VG_OK;
}

/* How a child ended, for messages. */
static void
describe_end(int st, char *why, size_t n)
{
	if (WIFSIGNALED(st))
		snprintf(why, n, "killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else if (WIFEXITED(st))
		snprintf(why, n, "exited with status %d", WEXITSTATUS(st));
	else
		snprintf(why, n, "ended");
}

/*
 * Stop the child: its socket closed; grace_ms for it to end on its own
 * (a child that hung up is ending), then SIGKILL. How it ended to why.
 */
static void
stop(struct vg_scanchild *sc, unsigned grace_ms, char *why, size_t whylen)
{
	int st = 0;
	unsigned waited = 0;
	pid_t r;

	if (sc->sock >= 0)
		close(sc->sock);
	sc->sock = -1;
	vg_yara_unref(sc->y);
	sc->y = NULL;
	if (sc->pid <= 0)
		return;
	while ((r = waitpid((pid_t)sc->pid, &st, WNOHANG)) == 0 &&
	       waited < grace_ms) {
		struct timespec ts = {0, 10 * 1000000L};

		nanosleep(&ts, NULL);
		waited += 10;
	}
	if (r == 0) {
		kill((pid_t)sc->pid, SIGKILL);
		while ((r = waitpid((pid_t)sc->pid, &st, 0)) < 0 &&
		       errno == EINTR)
			;
	}
	if (why != NULL) {
		if (r == (pid_t)sc->pid)
			describe_end(st, why, whylen);
		else
			snprintf(why, whylen, "gone");
	}
	sc->pid = 0;
}

/* A failure: stop, and wait longer before the next start. */
static void
failed(struct vg_scanchild *sc)
{
	int64_t wait = BACKOFF_MIN_US;
	unsigned i;

	stop(sc, 0, NULL, 0);
	for (i = 0; i < sc->failures && wait < BACKOFF_MAX_US; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX_US)
		wait = BACKOFF_MAX_US;
	sc->failures++;
	sc->next_start_us = vg_now_mono_us() + wait;
}

void
vg_scanchild_free(struct vg_scanchild *sc)
{
	if (sc == NULL)
		return;
	stop(sc, 1000, NULL, 0);
	free(sc->exe);
	free(sc->buf);
	free(sc->offs);
	free(sc);
}

long
vg_scanchild_pid(const struct vg_scanchild *sc)
{
	return sc->pid;
}

int64_t
vg_scanchild_wait_us(const struct vg_scanchild *sc)
{
	int64_t left = sc->next_start_us - vg_now_mono_us();

	return sc->pid == 0 && left > 0 ? left : 0;
}

static enum vg_err
start(struct vg_scanchild *sc, int test_hook, char *err, size_t errlen)
{
	char *argv[] = {"vigil-agent", VG_SCANCHILD_COMMAND,
			test_hook ? "test-hook" : NULL, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int sv[2], rc;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return VG_EIO;
	}
	/* dup2 onto itself would keep close-on-exec. */
	if (sv[1] == VG_SCANCHILD_FD) {
		int again = fcntl(sv[1], F_DUPFD_CLOEXEC, VG_SCANCHILD_FD + 1);

		close(sv[1]);
		sv[1] = again;
		if (again < 0) {
			close(sv[0]);
			snprintf(err, errlen, "fcntl: %s", strerror(errno));
			return VG_EIO;
		}
	}
	/* A binary without file capabilities, started by a user other than
	 * root, gets only the ambient set: empty it (this thread's). */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, sv[1], VG_SCANCHILD_FD);
	/* Nothing else of the parent's: libpcap's eventfds, for one, are
	 * not close-on-exec. */
	posix_spawn_file_actions_addclosefrom_np(&fa, VG_SCANCHILD_FD + 1);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, sc->exe, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		snprintf(err, errlen, "cannot start %s: %s", sc->exe,
			 strerror(rc));
		return VG_EIO;
	}
	sc->pid = pid;
	sc->sock = sv[0];
	return VG_OK;
}

/* Wait for the answer of type want into sc->buf; its payload in *m. */
static enum vg_err
answer(struct vg_scanchild *sc, uint32_t want, int timeout_ms,
       struct vg_sb_msg *m, char *err, size_t errlen)
{
	char why[160];
	ssize_t n = recv_msg(sc->sock, sc->buf, NULL, timeout_ms);

	if (n == 0 || n == -1) {
		stop(sc, 1000, why, sizeof(why));
		snprintf(err, errlen, "the scanner child %s", why);
		return VG_EIO;
	}
	if (n == -2) {
		stop(sc, 0, NULL, 0);
		snprintf(err, errlen,
			 "the scanner child did not answer within %d s "
			 "(stopped)",
			 timeout_ms / 1000);
		return VG_ELIMIT;
	}
	if (n == -3) {
		stop(sc, 0, NULL, 0);
		snprintf(err, errlen,
			 "the scanner child sent a descriptor (stopped)");
		return VG_EMALFORMED;
	}
	if (vg_sb_decode(sc->buf, (size_t)n, 0, m, why, sizeof(why)) != VG_OK ||
	    m->type != want) {
		stop(sc, 0, NULL, 0);
		snprintf(err, errlen, "the scanner child sent %s (stopped)",
			 m->type && m->type != want ? "an unexpected message"
						    : why);
		return VG_EMALFORMED;
	}
	return VG_OK;
}

static enum vg_err
send_rules(struct vg_scanchild *sc, struct vg_yara *y, unsigned timeout_s,
	   char *err, size_t errlen)
{
	uint8_t msg[VG_SB_RULES_LEN], *p = msg;
	struct vg_sb_msg m;
	struct rd rd;
	uint64_t ver;
	uint32_t rules, status;
	int fd = vg_yara_memfd(y);
	enum vg_err rc;

	if (fd < 0) {
		snprintf(err, errlen, "cannot save the YARA rules: %s",
			 strerror(errno));
		return VG_EIO;
	}
	p = put64(p, vg_yara_version(y));
	p = put32(p, timeout_s);
	(void)put32(p, vg_yara_rule_count(y));
	if (vg_sb_send_fd(sc->sock, VG_SB_RULES, msg, sizeof(msg), fd) !=
	    VG_OK) {
		char why[160];

		stop(sc, 1000, why, sizeof(why));
		snprintf(err, errlen, "the scanner child %s", why);
		return VG_EIO;
	}
	rc = answer(sc, VG_SB_RULES_OK, LOAD_WAIT_MS, &m, err, errlen);
	if (rc != VG_OK)
		return rc;
	rd = (struct rd){m.payload, m.len, 0};
	ver = get64(&rd);
	rules = get32(&rd);
	status = get32(&rd);
	if (ver != vg_yara_version(y) || status != 0 ||
	    rules != vg_yara_rule_count(y)) {
		stop(sc, 0, NULL, 0);
		snprintf(err, errlen,
			 "the scanner child could not load the rules "
			 "(status %u, %u of %u rules)",
			 status, rules, vg_yara_rule_count(y));
		return VG_EIO;
	}
	vg_yara_ref(y);
	vg_yara_unref(sc->y);
	sc->y = y;
	sc->timeout_s = timeout_s;
	return VG_OK;
}

enum vg_err
vg_scanchild_ready(struct vg_scanchild *sc, struct vg_yara *y,
		   unsigned timeout_s, int test_hook, int *started, char *err,
		   size_t errlen)
{
	enum vg_err rc;

	*started = 0;
	if (sc->pid == 0) {
		if (vg_now_mono_us() < sc->next_start_us) {
			snprintf(err, errlen,
				 "the scanner child is started again "
				 "shortly");
			return VG_EAGAIN;
		}
		rc = start(sc, test_hook, err, errlen);
		if (rc != VG_OK) {
			failed(sc);
			return rc;
		}
		*started = 1;
	}
	if (sc->y == y && sc->timeout_s == timeout_s)
		return VG_OK;
	rc = send_rules(sc, y, timeout_s, err, errlen);
	if (rc != VG_OK)
		failed(sc);
	return rc;
}

enum vg_err
vg_scanchild_scan(struct vg_scanchild *sc, int fd, uint64_t size,
		  const char *path, int hash, struct vg_scanchild_result *r,
		  char *err, size_t errlen)
{
	size_t plen = strlen(path);
	struct vg_sb_msg m;
	uint8_t *p = sc->buf;
	int wait_ms;
	enum vg_err rc;

	memset(r, 0, sizeof(*r));
	if (sc->pid == 0 || sc->y == NULL) {
		snprintf(err, errlen, "no scanner child");
		return VG_EIO;
	}
	if (plen > MAX_PATH_SENT)
		plen = MAX_PATH_SENT;
	p = put64(p, size);
	p = put32(p, hash ? FLAG_HASH : 0);
	p = put32(p, (uint32_t)plen);
	memcpy(p, path, plen);
	if (vg_sb_send_fd(sc->sock, VG_SB_SCAN, sc->buf, SCAN_FIXED + plen,
			  fd) != VG_OK) {
		char why[160];

		/* Gone before it had the file: not the file's doing. */
		stop(sc, 1000, why, sizeof(why));
		snprintf(err, errlen, "the scanner child %s", why);
		return VG_EAGAIN;
	}
	wait_ms =
	    (int)(sc->timeout_s ? sc->timeout_s : 60) * 2000 + SCAN_SLACK_MS;
	rc = answer(sc, VG_SB_RESULT, wait_ms, &m, err, errlen);
	if (rc == VG_OK)
		rc = vg_scanchild_decode_result(sc, sc->y, size, m.payload,
						m.len, r, err, errlen);
	if (rc != VG_OK) {
		failed(sc);
		return rc;
	}
	sc->failures = 0;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* One file's scan, wherever it runs                                    */

enum vg_scanchild_status
vg_scanchild_scan_fd(struct vg_yara_scanner *s, int fd, uint64_t size,
		     const char *path, int hash, unsigned char **buf,
		     size_t *cap, struct vg_scanchild_result *r)
{
	enum vg_scanchild_status st;
	enum vg_err rc;
	ssize_t len;

	memset(r, 0, sizeof(*r));
	if (size > SIZE_MAX - 1)
		return VG_SCAN_UNREAD;
	len = vg_read_whole(fd, (size_t)size, buf, cap);
	if (len < 0)
		return VG_SCAN_UNREAD;
	r->len = (uint64_t)len;
	vg_yara_scanner_set_file(s, path);
	rc = vg_yara_scan(s, len ? *buf : (const unsigned char *)"",
			  (size_t)len, &r->matches, &r->n, &r->more);
	st = rc == VG_OK       ? VG_SCAN_DONE
	     : rc == VG_ELIMIT ? VG_SCAN_TIMEOUT
			       : VG_SCAN_FAILED;
	if (st == VG_SCAN_FAILED)
		r->n = r->more = 0;
	else if (r->n > 0 || hash)
		vg_sha256_hex(r->sha256, *buf, (size_t)len);
	if (*cap > KEEP_BUF_BYTES) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
	r->status = st;
	return st;
}

/* ------------------------------------------------------------------ */
/* The child                                                            */

struct child {
	int sock;
	struct vg_yara *y;
	struct vg_yara_scanner *scanner;
	unsigned char *data;
	size_t cap;
	uint8_t *msg, *out;
};

static void
child_rules(struct child *c, const struct vg_sb_msg *m, int fd)
{
	struct rd rd = {m->payload, m->len, 0};
	uint64_t ver = get64(&rd);
	uint32_t timeout_s = get32(&rd);
	uint8_t reply[VG_SB_RULES_LEN], *p = reply;
	struct vg_yara *y = NULL;
	struct vg_yara_scanner *s = NULL;
	uint32_t status = 1;

	(void)get32(&rd);
	if (fd >= 0 && vg_yara_load_fd(&y, fd) == VG_OK &&
	    vg_yara_scanner_new(&s, y, timeout_s) == VG_OK) {
		vg_yara_scanner_free(c->scanner);
		vg_yara_unref(c->y);
		c->scanner = s;
		c->y = y;
		status = 0;
	} else {
		vg_yara_unref(y);
	}
	if (fd >= 0)
		close(fd);
	p = put64(p, ver);
	p = put32(p, status == 0 ? vg_yara_rule_count(c->y) : 0);
	(void)put32(p, status);
	(void)vg_sb_send(c->sock, VG_SB_RULES_OK, reply, sizeof(reply));
}

static void
child_scan(struct child *c, const struct vg_sb_msg *m, int fd)
{
	struct rd rd = {m->payload, m->len, 0};
	uint64_t size = get64(&rd);
	uint32_t flags = get32(&rd), plen = get32(&rd);
	struct vg_scanchild_result r;
	enum vg_scanchild_status status;
	char path[MAX_PATH_SENT + 1];
	size_t out;

	if (rd.short_ || plen != rd.left || plen > MAX_PATH_SENT ||
	    c->scanner == NULL || fd < 0)
		_exit(65); /* not what the parent sends */
	memcpy(path, rd.p, plen);
	path[plen] = '\0';
	status = vg_scanchild_scan_fd(c->scanner, fd, size, path,
				      (flags & FLAG_HASH) != 0, &c->data,
				      &c->cap, &r);
	close(fd);
	out =
	    vg_scanchild_encode_result(c->out, VG_SB_MAX_PAYLOAD, c->y, status,
				       r.len, r.sha256, r.matches, r.n, r.more);
	(void)vg_sb_send(c->sock, VG_SB_RESULT, c->out, out);
}

_Noreturn void
vg_scanchild_main(int argc, char **argv)
{
	struct child c;
	struct stat sb;
	char err[256], sha[65];

	memset(&c, 0, sizeof(c));
	c.sock = VG_SCANCHILD_FD;
	if (fstat(c.sock, &sb) != 0 || !S_ISSOCK(sb.st_mode)) {
		fprintf(stderr,
			"vigil-agent: %s is started by the agent, not "
			"by hand\n",
			VG_SCANCHILD_COMMAND);
		_exit(64);
	}
	/* What is made lazily, made before the filter: libyara, and
	 * OpenSSL's digest (its configuration is read at first use). */
	c.msg = malloc(VG_SB_HDR + VG_SB_MAX_PAYLOAD);
	c.out = malloc(VG_SB_MAX_PAYLOAD);
	if (c.msg == NULL || c.out == NULL || vg_yara_init() != VG_OK)
		_exit(71);
	vg_sha256_hex(sha, "", 0);
	if (vg_sandbox_enter(VG_SB_FILES, NULL, 0, c.sock,
			     argc > 2 && strcmp(argv[2], "test-hook") == 0, err,
			     sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-agent: scanner child: %s\n", err);
		_exit(70);
	}
	for (;;) {
		struct vg_sb_msg m;
		char why[160];
		int fd;
		ssize_t n = recv_msg(c.sock, c.msg, &fd, -1);

		if (n == 0)
			_exit(0); /* the parent is done */
		if (n < 0)
			_exit(66);
		if (vg_sb_decode(c.msg, (size_t)n, 0, &m, why, sizeof(why)) !=
		    VG_OK) {
			fprintf(stderr, "vigil-agent: scanner child: %s\n",
				why);
			_exit(65);
		}
		if (m.type == VG_SB_RULES)
			child_rules(&c, &m, fd);
		else if (m.type == VG_SB_SCAN)
			child_scan(&c, &m, fd);
		else
			_exit(65);
	}
}
