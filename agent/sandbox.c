/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privilege separation: the message codec and the lock-down of a child;
 * see sandbox.h.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void
vg_sb_header(uint8_t hdr[VG_SB_HDR], uint32_t type, uint32_t len)
{
	uint32_t h[3] = {VG_SB_MAGIC, type, len};

	memcpy(hdr, h, sizeof(h));
}

enum vg_err
vg_sb_decode(const uint8_t *buf, size_t n, size_t stats_len,
	     struct vg_sb_msg *m, char *err, size_t errlen)
{
	uint32_t h[3];

	memset(m, 0, sizeof(*m));
	if (n < VG_SB_HDR) {
		snprintf(err, errlen,
			 "message of %zu bytes: shorter than its "
			 "header",
			 n);
		return VG_EMALFORMED;
	}
	if (n > VG_SB_HDR + VG_SB_MAX_PAYLOAD) {
		snprintf(err, errlen,
			 "message of %zu bytes: over the limit "
			 "of %u",
			 n, VG_SB_HDR + VG_SB_MAX_PAYLOAD);
		return VG_EMALFORMED;
	}
	memcpy(h, buf, sizeof(h));
	if (h[0] != VG_SB_MAGIC) {
		snprintf(err, errlen,
			 "bad magic or version 0x%08x (expected 0x%08x)", h[0],
			 VG_SB_MAGIC);
		return VG_EMALFORMED;
	}
	if (h[1] == 0 || h[1] >= VG_SB__TYPES) {
		snprintf(err, errlen, "unknown message type %u", h[1]);
		return VG_EMALFORMED;
	}
	if ((size_t)h[2] != n - VG_SB_HDR) {
		snprintf(err, errlen,
			 "length field %u but %zu payload bytes received", h[2],
			 n - VG_SB_HDR);
		return VG_EMALFORMED;
	}
	switch (h[1]) {
	case VG_SB_STATS:
		if (h[2] != stats_len) {
			snprintf(err, errlen,
				 "stats message of %u bytes (expected %zu)",
				 h[2], stats_len);
			return VG_EMALFORMED;
		}
		break;
	case VG_SB_STOP:
	case VG_SB_BYE:
	case VG_SB_RELOAD:
		if (h[2] != 0) {
			snprintf(err, errlen,
				 "message type %u with a %u-byte payload "
				 "(expected none)",
				 h[1], h[2]);
			return VG_EMALFORMED;
		}
		break;
	case VG_SB_RULES:
	case VG_SB_RULES_OK:
		if (h[2] != VG_SB_RULES_LEN) {
			snprintf(err, errlen,
				 "message type %u of %u bytes (expected %u)",
				 h[1], h[2], VG_SB_RULES_LEN);
			return VG_EMALFORMED;
		}
		break;
	case VG_SB_EVENTS:
	case VG_SB_SCAN:
	case VG_SB_RESULT:
		if (h[2] == 0) {
			snprintf(err, errlen, "%s message without %s",
				 h[1] == VG_SB_EVENTS ? "events" : "scan",
				 h[1] == VG_SB_EVENTS ? "events" : "payload");
			return VG_EMALFORMED;
		}
		break;
	}
	m->type = h[1];
	m->len = h[2];
	m->payload = buf + VG_SB_HDR;
	return VG_OK;
}

/*
 * A strict JSON checker that allocates nothing (the parent checks every
 * event a child sends, and must keep up with the packet path): RFC 8259
 * syntax, UTF-8 in strings, nesting at most JSON_DEPTH. The parse state
 * of one line.
 */
#define JSON_DEPTH 32

struct jcheck {
	const unsigned char *p, *end;
	const char *why;
	const unsigned char *type; /* the top level "event_type" value */
	size_t type_len;
	unsigned types;
};

static void
j_ws(struct jcheck *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
j_fail(struct jcheck *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return 0;
}

/* A UTF-8 sequence starting at j->p (a byte >= 0x80). */
static int
j_utf8(struct jcheck *j)
{
	size_t n = vg_utf8_len(j->p, (size_t)(j->end - j->p));

	if (n < 2)
		return j_fail(j, "invalid UTF-8");
	j->p += n;
	return 1;
}

static int
j_hex4(const unsigned char *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
			return 0;
	return 1;
}

/* A string at j->p ('"'); its raw contents in *s, *len. */
static int
j_string(struct jcheck *j, const unsigned char **s, size_t *len)
{
	j->p++;
	*s = j->p;
	while (j->p < j->end) {
		unsigned c = *j->p;

		if (c == '"') {
			*len = (size_t)(j->p - *s);
			j->p++;
			return 1;
		}
		if (c < 0x20)
			return j_fail(j, "control character in a string");
		if (c == '\\') {
			if (j->end - j->p < 2)
				break;
			c = j->p[1];
			if (c == 'u') {
				if (j->end - j->p < 6 || !j_hex4(j->p + 2))
					return j_fail(j, "bad \\u escape");
				j->p += 6;
				continue;
			}
			if (strchr("\"\\/bfnrt", (int)c) == NULL || c == 0)
				return j_fail(j, "bad escape");
			j->p += 2;
			continue;
		}
		if (c >= 0x80) {
			if (!j_utf8(j))
				return 0;
			continue;
		}
		j->p++;
	}
	return j_fail(j, "unterminated string");
}

static int
j_digits(struct jcheck *j)
{
	const unsigned char *start = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > start;
}

static int
j_number(struct jcheck *j)
{
	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!j_digits(j))
		return j_fail(j, "bad number");
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!j_digits(j))
			return j_fail(j, "bad number");
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!j_digits(j))
			return j_fail(j, "bad number");
	}
	return 1;
}

static int
j_word(struct jcheck *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return j_fail(j, "unexpected character");
	j->p += n;
	return 1;
}

static int j_value(struct jcheck *j, unsigned depth);

static int
j_container(struct jcheck *j, unsigned depth)
{
	int object = *j->p == '{';
	unsigned char close = object ? '}' : ']';

	if (depth >= JSON_DEPTH)
		return j_fail(j, "nested too deep");
	j->p++;
	j_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 1;
	}
	for (;;) {
		if (object) {
			const unsigned char *k;
			size_t kl;
			int is_type;

			if (j->p >= j->end || *j->p != '"')
				return j_fail(j, "expected a key");
			if (!j_string(j, &k, &kl))
				return 0;
			is_type = depth == 0 && kl == 10 &&
				  memcmp(k, "event_type", 10) == 0;
			j_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return j_fail(j, "expected ':'");
			j->p++;
			j_ws(j);
			if (is_type) {
				j->types++;
				j->type = NULL;
				if (j->p < j->end && *j->p == '"') {
					if (!j_string(j, &j->type,
						      &j->type_len))
						return 0;
					goto next;
				}
			}
		}
		if (!j_value(j, depth + 1))
			return 0;
	next:
		j_ws(j);
		if (j->p >= j->end)
			return j_fail(j, "unexpected end");
		if (*j->p == close) {
			j->p++;
			return 1;
		}
		if (*j->p != ',')
			return j_fail(j, "expected ',' or the end");
		j->p++;
		j_ws(j);
	}
}

static int
j_value(struct jcheck *j, unsigned depth)
{
	const unsigned char *s;
	size_t l;

	if (j->p >= j->end)
		return j_fail(j, "unexpected end");
	switch (*j->p) {
	case '{':
	case '[':
		return j_container(j, depth);
	case '"':
		return j_string(j, &s, &l);
	case 't':
		return j_word(j, "true");
	case 'f':
		return j_word(j, "false");
	case 'n':
		return j_word(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return j_number(j);
		return j_fail(j, "unexpected character");
	}
}

/* One line (without its "\n"): a JSON object the packet path emits. */
static int
line_ok(const char *p, size_t len, char *why, size_t whylen)
{
	struct jcheck j;

	if (len == 0 || p[0] != '{') {
		snprintf(why, whylen, "not a JSON object");
		return 0;
	}
	if (memchr(p, '\0', len) != NULL) {
		snprintf(why, whylen, "holds a NUL byte");
		return 0;
	}
	memset(&j, 0, sizeof(j));
	j.p = (const unsigned char *)p;
	j.end = j.p + len;
	if (!j_container(&j, 0)) {
		snprintf(why, whylen, "not JSON: %s at byte %zu", j.why,
			 (size_t)(j.p - (const unsigned char *)p));
		return 0;
	}
	j_ws(&j);
	if (j.p != j.end) {
		snprintf(why, whylen, "not JSON: text after the object");
		return 0;
	}
	if (j.types > 1) {
		snprintf(why, whylen, "not JSON: event_type twice");
		return 0;
	}
	if (j.type == NULL) {
		snprintf(why, whylen, "no event_type");
		return 0;
	}
	if (!(j.type_len == 5 && memcmp(j.type, "alert", 5) == 0) &&
	    !(j.type_len == 4 && memcmp(j.type, "flow", 4) == 0)) {
		snprintf(why, whylen,
			 "event_type \"%.*s\" is not the packet path's",
			 (int)(j.type_len < 32 ? j.type_len : 32), j.type);
		return 0;
	}
	return 1;
}

enum vg_err
vg_sb_check_events(const uint8_t *p, size_t len, size_t max_line,
		   unsigned *n_events, char *err, size_t errlen)
{
	const char *s = (const char *)p, *end = s + len;
	char why[160];
	unsigned n = 0;

	*n_events = 0;
	if (len == 0) {
		snprintf(err, errlen, "no events");
		return VG_EMALFORMED;
	}
	if (s[len - 1] != '\n') {
		snprintf(err, errlen, "the last line has no end");
		return VG_EMALFORMED;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = (size_t)(nl - s);

		n++;
		if (l + 1 > max_line) {
			snprintf(err, errlen,
				 "line %u: %zu bytes, over the limit of %zu", n,
				 l + 1, max_line);
			return VG_EMALFORMED;
		}
		if (!line_ok(s, l, why, sizeof(why))) {
			snprintf(err, errlen, "line %u: %s", n, why);
			return VG_EMALFORMED;
		}
		s = nl + 1;
	}
	*n_events = n;
	return VG_OK;
}

enum vg_err
vg_sb_send_fd(int fd, uint32_t type, const void *payload, size_t len, int pass)
{
	uint8_t hdr[VG_SB_HDR];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (len > VG_SB_MAX_PAYLOAD)
		return VG_EINVAL;
	vg_sb_header(hdr, type, (uint32_t)len);
	iov[0] = (struct iovec){hdr, sizeof(hdr)};
	iov[1] = (struct iovec){(void *)(uintptr_t)payload, len};
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len ? 2 : 1;
	if (pass >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(sizeof(hdr) + len) ? VG_OK : VG_EIO;
}

enum vg_err
vg_sb_send(int fd, uint32_t type, const void *payload, size_t len)
{
	return vg_sb_send_fd(fd, type, payload, len, -1);
}

/* ------------------------------------------------------------------ */
/* Lock-down                                                           */

static int
kept(int fd, const int *keep, unsigned n_keep, int sock)
{
	unsigned i;

	if (fd <= 2 || fd == sock)
		return 1;
	for (i = 0; i < n_keep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

/* Close what the child does not need; with events (a packet child),
 * keep libpcap's event fds and collect them. */
static enum vg_err
close_fds(const int *keep, unsigned n_keep, int sock, int *events,
	  unsigned *n_events, char *err, size_t errlen)
{
	int close_list[1024];
	unsigned n_close = 0, i;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	*n_events = 0;
	if (d == NULL) {
		snprintf(err, errlen, "sandbox: /proc/self/fd: %s",
			 strerror(errno));
		return VG_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		char link[64], target[64];
		ssize_t l;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d) || kept(fd, keep, n_keep, sock))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		l = readlink(link, target, sizeof(target) - 1);
		if (l > 0) {
			target[l] = '\0';
			/* libpcap's breakloop wake-up of a kept handle. */
			if (events != NULL &&
			    strcmp(target, "anon_inode:[eventfd]") == 0 &&
			    *n_events < VG_SB_MAX_EVENTFDS) {
				events[(*n_events)++] = fd;
				continue;
			}
		}
		if (n_close == VG_ARRAY_LEN(close_list)) {
			closedir(d);
			snprintf(err, errlen, "sandbox: too many open files");
			return VG_ELIMIT;
		}
		close_list[n_close++] = fd;
	}
	closedir(d);
	for (i = 0; i < n_close; i++)
		close(close_list[i]);
	return VG_OK;
}

/* Empty the bounding set: 0 when it is, -1 without CAP_SETPCAP. */
static int
drop_bounding(void)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
			return -1;
	return 0;
}

static enum vg_err
drop_caps(char *err, size_t errlen)
{
	/* Without CAP_SETPCAP (the parent keeps only what it uses), the
	 * child makes a user namespace of its own, where it has it, over
	 * nothing but itself, and empties the bounding set with it. Every
	 * capability goes after, there too. Where neither works the
	 * bounding set stays the parent's (already cut to what the parent
	 * uses): with no capability left and no_new_privs, nothing can
	 * use it. */
	if (drop_bounding() != 0 && unshare(CLONE_NEWUSER) == 0)
		(void)drop_bounding();
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
		/* Refused (a unit's filter), but fine if none is held: a
		 * scanner child started without ambient capabilities. */
		if (capng_get_caps_process() == 0 &&
		    capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
			return VG_OK;
		snprintf(err, errlen, "sandbox: cannot drop capabilities");
		return VG_EIO;
	}
	return VG_OK;
}

#define ALLOW(name)                                                            \
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 0)

/* libseccomp's SCMP_A0() and the like leave a field to its default. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* The allow-list of a child once it runs. */
static enum vg_err
install_filter(enum vg_sb_profile profile, int sock, const int *fds,
	       unsigned n_fds, char *err, size_t errlen)
{
	/* Any of these bits in open's flags asks for more than reading. */
	const scmp_datum_t writing =
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	unsigned i;
	int rc = 0;

	if (ctx == NULL) {
		snprintf(err, errlen, "sandbox: seccomp_init failed");
		return VG_EIO;
	}
	/* Capture: reading the handles (packet sockets, replay files). */
	ALLOW(read);
	ALLOW(readv);
	ALLOW(pread64);
	ALLOW(recvfrom);
	ALLOW(recvmsg);
	ALLOW(poll);
	ALLOW(ppoll);
	ALLOW(lseek);
	ALLOW(fstat);
	ALLOW(newfstatat);
	ALLOW(close);
	/* Memory. */
	ALLOW(mmap);
	ALLOW(munmap);
	ALLOW(mremap);
	ALLOW(mprotect);
	ALLOW(brk);
	ALLOW(madvise);
	/* Threads and time. */
	ALLOW(futex);
	ALLOW(set_robust_list);
	ALLOW(rseq);
	ALLOW(rt_sigprocmask);
	ALLOW(rt_sigreturn);
	ALLOW(restart_syscall);
	ALLOW(sigaltstack);
	ALLOW(sched_yield);
	ALLOW(sched_getaffinity);
	ALLOW(clock_gettime);
	ALLOW(clock_nanosleep);
	ALLOW(nanosleep);
	ALLOW(gettimeofday);
	ALLOW(getpid);
	ALLOW(gettid);
	ALLOW(getrandom);
	ALLOW(exit);
	ALLOW(exit_group);
	if (profile == VG_SB_PACKETS) {
		ALLOW(getsockopt); /* pcap_stats */
		/* New threads only: no new process. glibc falls back from
		 * clone3 (whose flags a filter cannot see) to clone. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(clone3), 0);
		rc |= seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	} else {
		/* Reading what it is handed, and what a YARA module opens
		 * (libmagic's database): never writing, never a socket. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, writing, 0));
		/* libyara catches a fault in a module around each scan. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
				       SCMP_SYS(rt_sigaction), 1,
				       SCMP_A0(SCMP_CMP_EQ, SIGBUS));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
				       SCMP_SYS(rt_sigaction), 1,
				       SCMP_A0(SCMP_CMP_EQ, SIGSEGV));
	}
	/* isatty(2) of the log. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
			       SCMP_A0(SCMP_CMP_EQ, 2),
			       SCMP_A1(SCMP_CMP_EQ, TCGETS));
	/* Writes: the socketpair, the log (stderr), pcap's wake-ups. */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
			       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 1,
			       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
			       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
			       SCMP_A0(SCMP_CMP_EQ, 2));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(writev), 1,
			       SCMP_A0(SCMP_CMP_EQ, 2));
	for (i = 0; i < n_fds; i++)
		rc |= seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fds[i]));
	if (rc != 0 || seccomp_load(ctx) != 0) {
		seccomp_release(ctx);
		snprintf(err, errlen,
			 "sandbox: cannot install the seccomp "
			 "filter");
		return VG_EIO;
	}
	seccomp_release(ctx);
	return VG_OK;
}
#undef ALLOW
#pragma GCC diagnostic pop

/* The test hook's call (sandbox.h); a forbidden one does not return. */
static void
forbidden_call(const char *what)
{
	int fd = -1;

	if (strcmp(what, "openat") == 0)
		fd = openat(AT_FDCWD, "/", O_RDONLY);
	else if (strcmp(what, "openat-write") == 0)
		fd = openat(AT_FDCWD, "vigil-sandbox-test",
			    O_WRONLY | O_CREAT | O_EXCL, 0600);
	else if (strcmp(what, "socket") == 0)
		fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0)
		close(fd);
}

enum vg_err
vg_sandbox_enter(enum vg_sb_profile profile, const int *keep, unsigned n_keep,
		 int sock, int test_hook, char *err, size_t errlen)
{
	const char *forbid =
	    test_hook ? getenv("VIGIL_TEST_SANDBOX_FORBIDDEN") : NULL;
	int events[VG_SB_MAX_EVENTFDS];
	unsigned n_events;
	enum vg_err rc;

	/* What libc reads lazily, read now: the time zone (event times). */
	{
		time_t now = time(NULL);
		struct tm tm;

		tzset();
		(void)localtime_r(&now, &tm);
	}
	/* A scanner child keeps no eventfd it may have inherited: writing
	 * to one would wake another process's capture. */
	rc = close_fds(keep, n_keep, sock,
		       profile == VG_SB_PACKETS ? events : NULL, &n_events, err,
		       errlen);
	if (rc != VG_OK)
		return rc;
	rc = drop_caps(err, errlen);
	if (rc != VG_OK)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "sandbox: PR_SET_NO_NEW_PRIVS: %s",
			 strerror(errno));
		return VG_EIO;
	}
	rc = install_filter(profile, sock, events, n_events, err, errlen);
	if (rc != VG_OK)
		return rc;
	if (forbid != NULL)
		forbidden_call(forbid);
	return VG_OK;
}
