/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket (see control.h): the agent's side, which serves
 * status and reload requests from a thread of its own, and the client's,
 * which `vigil-agent status` and `vigil-agent reload` use.
 *
 * Who may ask is settled twice: the socket file is 0660 in a folder of
 * 0750, so the file system keeps others out, and each accepted peer is
 * checked again with SO_PEERCRED, so a socket made readable by mistake
 * still serves nobody else. A client has VG_CONTROL_IO_TIMEOUT in all to
 * send its one line (a deadline, not a timeout per read: a peer sending a
 * byte now and then is cut off all the same); a reply is written within
 * the same time, so a peer that stops reading cannot hold a slot.
 */
#define _GNU_SOURCE /* struct ucred */
#include "control.h"

#include "event.h"
#include "log.h"

#include <jansson.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Protocol                                                            */

enum vg_control_cmd
vg_control_parse_request(const char *buf, size_t len)
{
	static const struct {
		const char *name;
		enum vg_control_cmd cmd;
	} cmds[] = {
	    {"status", VG_CONTROL_STATUS},
	    {"reload", VG_CONTROL_RELOAD},
	    {"version", VG_CONTROL_VERSION},
	};
	size_t i, n;

	if (len == 0 || len > VG_CONTROL_MAX_REQUEST || buf[len - 1] != '\n')
		return VG_CONTROL_BAD;
	n = len - 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	for (i = 0; i < VG_ARRAY_LEN(cmds); i++)
		if (strlen(cmds[i].name) == n &&
		    memcmp(buf, cmds[i].name, n) == 0)
			return cmds[i].cmd;
	return VG_CONTROL_BAD;
}

static enum vg_err
put_str(struct vg_buf *b, const char *key, const char *v)
{
	enum vg_err err = vg_buf_printf(b, "\"%s\":", key);

	if (err == VG_OK)
		err = v ? vg_json_str(b, v, strlen(v)) : vg_buf_puts(b, "null");
	return err;
}

/* "messages":[one string per line of text] */
static enum vg_err
put_lines(struct vg_buf *b, const char *text)
{
	enum vg_err err = vg_buf_puts(b, "\"messages\":[");
	const char *p = text, *nl;
	int first = 1;

	while (err == VG_OK && p != NULL && *p) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			if (!first)
				err = vg_buf_putc(b, ',');
			if (err == VG_OK)
				err = vg_json_str(b, p, (size_t)(nl - p));
			first = 0;
		}
		p = *nl ? nl + 1 : nl;
	}
	if (err == VG_OK)
		err = vg_buf_putc(b, ']');
	return err;
}

static enum vg_err
put_time(struct vg_buf *b, const char *key, int64_t us)
{
	char t[32];

	if (us == 0)
		return vg_buf_printf(b, "\"%s\":null", key);
	vg_eve_time(t, us);
	return vg_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

static uint64_t
kv_get(const struct vg_stat_kv *kv, size_t n, const char *key, int *found)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0) {
			if (found)
				*found = 1;
			return kv[i].value;
		}
	return 0;
}

enum vg_err
vg_control_status_json(struct vg_buf *out, const struct vg_control_status *st,
		       const struct vg_stat_kv *kv, size_t n)
{
	enum vg_err err;
	int has_yara = 0;
	uint64_t yara;
	size_t i;

	err = vg_buf_putc(out, '{');
	if (err == VG_OK)
		err = put_str(out, "version", st->version);
	if (err == VG_OK)
		err = vg_buf_putc(out, ',');
	if (err == VG_OK)
		err = put_str(out, "agency", st->agency);
	if (err == VG_OK)
		err = vg_buf_putc(out, ',');
	if (err == VG_OK)
		err = put_str(out, "agent_id", st->agent_id);
	if (err == VG_OK)
		err = vg_buf_putc(out, ',');
	if (err == VG_OK)
		err = put_str(out, "host", st->host);
	if (err == VG_OK)
		err =
		    vg_buf_printf(out, ",\"pid\":%ld,\"uptime\":%.3f", st->pid,
				  st->uptime_s > 0 ? st->uptime_s : 0.0);
	if (err == VG_OK)
		err = vg_buf_puts(out, ",\"counters\":{");
	for (i = 0; i < n && err == VG_OK; i++) {
		if (i > 0)
			err = vg_buf_putc(out, ',');
		if (err == VG_OK)
			err = vg_json_str(out, kv[i].key, strlen(kv[i].key));
		if (err == VG_OK)
			err = vg_buf_printf(out, ":%" PRIu64, kv[i].value);
	}
	yara = kv_get(kv, n, "files.rules_version", &has_yara);
	if (err == VG_OK)
		err = vg_buf_printf(
		    out,
		    "},\"spool\":{\"pending\":%" PRIu64 ",\"bytes\":%" PRIu64
		    "},\"rules\":{\"network\":%" PRIu64 ",\"enabled\":%" PRIu64,
		    kv_get(kv, n, "spool.pending", NULL),
		    kv_get(kv, n, "spool.bytes", NULL),
		    kv_get(kv, n, "agent.rules_generation", NULL),
		    kv_get(kv, n, "detect.rules", NULL));
	if (err == VG_OK)
		err = has_yara
			  ? vg_buf_printf(out, ",\"yara\":%" PRIu64 "}", yara)
			  : vg_buf_puts(out, ",\"yara\":null}");
	if (err == VG_OK)
		err = vg_buf_puts(out, ",\"reload\":{");
	if (err == VG_OK)
		err = put_time(out, "time", st->reload_us);
	if (err == VG_OK)
		err = vg_buf_printf(out, ",\"result\":\"%s\",",
				    st->reload_us == 0 ? "none"
				    : st->reload_ok    ? "ok"
						       : "failed");
	if (err == VG_OK)
		err = put_lines(out, st->reload_msg);
	if (err == VG_OK)
		err = vg_buf_puts(out, "}}\n");
	return err;
}

enum vg_err
vg_control_reload_json(struct vg_buf *out, int ok, const char *text,
		       int64_t time_us)
{
	enum vg_err err;

	err = vg_buf_printf(out, "{\"result\":\"%s\",", ok ? "ok" : "failed");
	if (err == VG_OK)
		err = put_time(out, "time", time_us);
	if (err == VG_OK)
		err = vg_buf_putc(out, ',');
	if (err == VG_OK)
		err = put_lines(out, text);
	if (err == VG_OK)
		err = vg_buf_puts(out, "}\n");
	return err;
}

int
vg_control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n,
			uid_t self, gid_t sock_gid)
{
	size_t i;

	if (uid == 0 || uid == self || gid == sock_gid)
		return 1;
	for (i = 0; i < n; i++)
		if (groups[i] == sock_gid)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The agent's side                                                    */

struct vg_control {
	struct vg_control_opts o;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	int fd;
	gid_t sock_gid;
	ino_t sock_ino;
	pthread_t reloader; /* takes SIGHUP */
	pthread_t th;
	_Atomic int stop;

	pthread_mutex_t mu;
	pthread_cond_t cv;            /* reloads done, clients gone */
	unsigned clients;             /* being served (mu) */
	uint64_t started_n;           /* reloads begun (mu) */
	uint64_t done_n;              /* reloads ended (mu) */
	int64_t reload_us;            /* last reload's end, 0: none (mu) */
	int reload_ok;                /* (mu) */
	char *reload_text;            /* owned (mu) */
	struct vg_ratelimit refusals; /* log lines of refused peers (mu) */
};

struct client {
	struct vg_control *c;
	int fd;
};

/*
 * The supplementary groups the peer of fd held when it connected
 * (SO_PEERGROUPS: not /proc, which a unit's ProtectProc= hides and whose
 * pid may be another process by now), in *g (owned: free). Returns how
 * many; 0 with *g NULL on error.
 */
static size_t
peer_groups(int fd, gid_t **g)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (;;) {
		socklen_t want = len;

		*g = malloc(len);
		if (*g == NULL)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *g, &want) == 0)
			return want / sizeof(gid_t);
		free(*g);
		*g = NULL;
		/* ERANGE: want says how much it takes. */
		if (errno != ERANGE || want <= len)
			return 0;
		len = want;
	}
}

/*
 * The socket's group now: an administrator may change it after the start
 * (chgrp). Only while the path is still our socket; else the group it
 * had when it was made.
 */
static gid_t
sock_group(const struct vg_control *c)
{
	struct stat sb;

	if (lstat(c->path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_ino == c->sock_ino)
		return sb.st_gid;
	return c->sock_gid;
}

static void
set_timeout(int fd, unsigned ms)
{
	struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The monotonic time ms from now, in us: a deadline for wait_io. */
static int64_t
deadline(unsigned ms)
{
	return vg_now_mono_us() + (int64_t)ms * 1000;
}

/* Wait until fd is ready for ev (POLLIN, POLLOUT) or ends: 1, or 0 when
 * the deadline until (vg_now_mono_us) passed first. */
static int
wait_io(int fd, short ev, int64_t until)
{
	struct pollfd pfd = {.fd = fd, .events = ev};
	int64_t left;
	int r;

	for (;;) {
		left = until - vg_now_mono_us();
		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (r > 0)
			return 1;
		if (r == 0 || errno != EINTR)
			return 0;
	}
}

/* Write all of p within ms; a peer gone or too slow gets what went. */
static void
write_all(int fd, const char *p, size_t len, unsigned ms)
{
	int64_t until = deadline(ms);
	ssize_t w;

	while (len > 0) {
		if (!wait_io(fd, POLLOUT, until))
			return;
		w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return; /* gone: nothing more to do */
		p += w;
		len -= (size_t)w;
	}
}

static void
reply_error(int fd, const char *msg, unsigned ms)
{
	struct vg_buf b;

	vg_buf_init(&b, 1024);
	if (vg_buf_puts(&b, "{") == VG_OK &&
	    put_str(&b, "error", msg) == VG_OK &&
	    vg_buf_puts(&b, "}\n") == VG_OK)
		write_all(fd, b.data, b.len, ms);
	vg_buf_fini(&b);
}

/*
 * After a reply: end our side and read what the client sent (a refused
 * or turned-away client's request is still unread), so that closing does
 * not reset the connection and lose the reply before the client has read
 * it. Bounded: a peer that keeps sending is cut off after a few requests'
 * worth, or after ms.
 */
static void
drain(int fd, unsigned ms)
{
	char sink[VG_CONTROL_MAX_REQUEST];
	int64_t until = deadline(ms);
	size_t total = 0;
	ssize_t n;

	if (shutdown(fd, SHUT_WR) != 0)
		return;
	while (total < 4 * sizeof(sink) && wait_io(fd, POLLIN, until)) {
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* Read one request line (at most VG_CONTROL_MAX_REQUEST bytes) within
 * VG_CONTROL_IO_TIMEOUT in all. */
static enum vg_control_cmd
read_request(int fd)
{
	char buf[VG_CONTROL_MAX_REQUEST];
	int64_t until = deadline(VG_CONTROL_IO_TIMEOUT);
	size_t len = 0;
	ssize_t r;

	while (len < sizeof(buf)) {
		if (!wait_io(fd, POLLIN, until))
			return VG_CONTROL_BAD;
		r = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return VG_CONTROL_BAD;
		len += (size_t)r;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	return vg_control_parse_request(buf, len);
}

static void
serve_status(struct vg_control *c, int fd)
{
	struct vg_stat_kv kv[VG_STATS_SNAPSHOT_ROOM];
	struct vg_control_status st = c->o.id;
	struct vg_buf b;
	size_t n;
	int ok;

	n = c->o.stats(c->o.stats_arg, kv, VG_ARRAY_LEN(kv), &st.uptime_s);
	st.pid = (long)getpid();
	vg_buf_init(&b, VG_CONTROL_MAX_REPLY);
	/* Formatted under the lock, written after it: a client slow to read
	 * must never hold up the main thread's reload_end. */
	pthread_mutex_lock(&c->mu);
	st.reload_us = c->reload_us;
	st.reload_ok = c->reload_ok;
	st.reload_msg = c->reload_text;
	ok = vg_control_status_json(&b, &st, kv, n) == VG_OK;
	pthread_mutex_unlock(&c->mu);
	if (ok)
		write_all(fd, b.data, b.len, VG_CONTROL_IO_TIMEOUT);
	else
		reply_error(fd, "status too large", VG_CONTROL_IO_TIMEOUT);
	vg_buf_fini(&b);
}

/*
 * Ask the thread that takes SIGHUP for a reload, and wait for one that
 * began after the request (one already running may have read the files
 * before they were edited).
 */
static void
serve_reload(struct vg_control *c, int fd)
{
	struct timespec until;
	struct vg_buf b;
	uint64_t target;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += VG_CONTROL_RELOAD_WAIT;
	pthread_mutex_lock(&c->mu);
	target = c->started_n + 1;
	pthread_mutex_unlock(&c->mu);
	if (pthread_kill(c->reloader, SIGHUP) != 0) {
		reply_error(fd, "reload could not be requested",
			    VG_CONTROL_IO_TIMEOUT);
		return;
	}
	pthread_mutex_lock(&c->mu);
	while (c->done_n < target && !atomic_load(&c->stop) && rc == 0)
		rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
	if (c->done_n < target) {
		pthread_mutex_unlock(&c->mu);
		reply_error(fd,
			    atomic_load(&c->stop) ? "the agent is stopping"
						  : "reload timed out",
			    VG_CONTROL_IO_TIMEOUT);
		return;
	}
	/* Room for the text escaped at worst (\u00XX: 6 bytes a byte). */
	vg_buf_init(&b, VG_CONTROL_MAX_TEXT * 6 + 256);
	rc = vg_control_reload_json(&b, c->reload_ok, c->reload_text,
				    c->reload_us) == VG_OK;
	pthread_mutex_unlock(&c->mu);
	if (rc)
		write_all(fd, b.data, b.len, VG_CONTROL_IO_TIMEOUT);
	else
		reply_error(fd, "reload reply too large",
			    VG_CONTROL_IO_TIMEOUT);
	vg_buf_fini(&b);
}

static void *
client_main(void *arg)
{
	struct client *cl = arg;
	struct vg_control *c = cl->c;
	gid_t *groups = NULL;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	size_t ng;

	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    len != sizeof(cred)) {
		reply_error(cl->fd, "no peer credentials",
			    VG_CONTROL_IO_TIMEOUT);
		goto out;
	}
	ng = peer_groups(cl->fd, &groups);
	if (!vg_control_peer_allowed(cred.uid, cred.gid, groups, ng, geteuid(),
				     sock_group(c))) {
		int log_it;

		pthread_mutex_lock(&c->mu);
		log_it = vg_ratelimit_ok(&c->refusals, 5, 60);
		pthread_mutex_unlock(&c->mu);
		if (log_it)
			vg_log(LOG_WARNING,
			       "control: refused a client with uid %ld "
			       "(pid %ld)",
			       (long)cred.uid, (long)cred.pid);
		reply_error(cl->fd, "permission denied", VG_CONTROL_IO_TIMEOUT);
		goto out;
	}
	switch (read_request(cl->fd)) {
	case VG_CONTROL_STATUS:
		serve_status(c, cl->fd);
		break;
	case VG_CONTROL_RELOAD:
		/* A reload may take longer than a status: the reply goes out
		 * within the usual write time once it is known. */
		serve_reload(c, cl->fd);
		break;
	case VG_CONTROL_VERSION: {
		char v[128];

		snprintf(v, sizeof(v), "{\"version\":\"%s\"}\n",
			 c->o.id.version);
		write_all(cl->fd, v, strlen(v), VG_CONTROL_IO_TIMEOUT);
		break;
	}
	case VG_CONTROL_BAD:
		reply_error(cl->fd,
			    "bad request: expected status, reload or version "
			    "and a newline",
			    VG_CONTROL_IO_TIMEOUT);
		break;
	}
out:
	drain(cl->fd, VG_CONTROL_IO_TIMEOUT);
	close(cl->fd);
	free(cl);
	free(groups);
	pthread_mutex_lock(&c->mu);
	c->clients--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void *
accept_main(void *arg)
{
	struct vg_control *c = arg;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	pthread_attr_t attr;
	struct client *cl;
	pthread_t th;
	int fd, busy;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!atomic_load(&c->stop)) {
		/* Poll so that a stop is seen within 200 ms. */
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors (EMFILE...): the socket stays
			 * readable, so wait a little before trying again. */
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED)
				(void)poll(NULL, 0, 100);
			continue;
		}
		pthread_mutex_lock(&c->mu);
		busy = c->clients >= VG_CONTROL_MAX_CLIENTS;
		if (!busy)
			c->clients++;
		pthread_mutex_unlock(&c->mu);
		if (busy) {
			reply_error(fd, "busy: too many clients", 200);
			drain(fd, 200);
			close(fd);
			continue;
		}
		cl = malloc(sizeof(*cl));
		if (cl != NULL) {
			cl->c = c;
			cl->fd = fd;
		}
		if (cl == NULL || pthread_create(&th, &attr, client_main, cl)) {
			free(cl);
			close(fd);
			pthread_mutex_lock(&c->mu);
			c->clients--;
			pthread_mutex_unlock(&c->mu);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

/* Make the socket's folder (0750) when it is missing. */
static enum vg_err
make_folder(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return VG_OK;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		vg_seterr(err, errlen, "control.socket: %s: %s", dir,
			  strerror(errno));
		return VG_EIO;
	}
	return VG_OK;
}

/*
 * A socket already at path: a live agent's (it answers a connect) is an
 * error; a dead one's is removed. Anything else is never removed.
 */
static enum vg_err
clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat sb;
	int fd, live, stale, saved;

	if (lstat(sa->sun_path, &sb) != 0)
		return VG_OK;
	if (!S_ISSOCK(sb.st_mode)) {
		vg_seterr(err, errlen,
			  "control.socket: %s exists and is not a socket",
			  sa->sun_path);
		return VG_EINVAL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vg_seterr(err, errlen, "control.socket: %s", strerror(errno));
		return VG_EIO;
	}
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	/* Only "refused" says nobody listens; a busy or unreachable agent
	 * (EAGAIN, EACCES...) keeps its socket. */
	saved = errno;
	stale = !live && saved == ECONNREFUSED;
	close(fd);
	if (!live && !stale) {
		vg_seterr(err, errlen, "control.socket: %s: %s", sa->sun_path,
			  strerror(saved));
		return VG_EIO;
	}
	if (live) {
		vg_seterr(err, errlen,
			  "control.socket: %s: another agent is running",
			  sa->sun_path);
		return VG_EINVAL;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT) {
		vg_seterr(err, errlen, "control.socket: %s: %s", sa->sun_path,
			  strerror(errno));
		return VG_EIO;
	}
	return VG_OK;
}

enum vg_err
vg_control_open(struct vg_control **out, const struct vg_control_opts *o,
		char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct vg_control *c;
	struct stat sb;
	enum vg_err rc;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (o->path == NULL || o->path[0] != '/' ||
	    strlen(o->path) >= sizeof(sa.sun_path)) {
		vg_seterr(err, errlen,
			  "control.socket: an absolute path of at most %zu "
			  "bytes is needed",
			  sizeof(sa.sun_path) - 1);
		return VG_EINVAL;
	}
	memcpy(sa.sun_path, o->path, strlen(o->path));
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		vg_seterr(err, errlen, "control: out of memory");
		return VG_ENOMEM;
	}
	c->o = *o;
	c->fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", o->path);
	c->reloader = pthread_self();
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	rc = make_folder(o->path, err, errlen);
	if (rc == VG_OK)
		rc = clear_stale(&sa, err, errlen);
	if (rc != VG_OK)
		goto fail;
	rc = VG_EIO;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* The socket is made with the umask's mode and narrowed at once; its
	 * folder (0750 when made here) covers the moment between. */
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(o->path, 0660) != 0 || stat(o->path, &sb) != 0 ||
	    listen(c->fd, 16) != 0) {
		vg_seterr(err, errlen, "control.socket: %s: %s", o->path,
			  strerror(errno));
		goto fail;
	}
	c->sock_gid = sb.st_gid;
	c->sock_ino = sb.st_ino;
	if (pthread_create(&c->th, NULL, accept_main, c) != 0) {
		vg_seterr(err, errlen, "control: no thread");
		(void)unlink(o->path);
		goto fail;
	}
	vg_log(LOG_INFO, "control: listening on %s", o->path);
	*out = c;
	return VG_OK;
fail:
	if (c->fd >= 0)
		close(c->fd);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	return rc;
}

void
vg_control_reload_begin(struct vg_control *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->started_n++;
	pthread_mutex_unlock(&c->mu);
}

void
vg_control_reload_end(struct vg_control *c, int ok, const char *text)
{
	char *copy = NULL;
	size_t len;

	if (c == NULL)
		return;
	if (text != NULL) {
		len = strlen(text);
		if (len > VG_CONTROL_MAX_TEXT)
			len = VG_CONTROL_MAX_TEXT;
		copy = strndup(text, len);
	}
	pthread_mutex_lock(&c->mu);
	free(c->reload_text);
	c->reload_text = copy;
	c->reload_ok = ok;
	c->reload_us = vg_now_wall_us();
	c->done_n = c->started_n;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
vg_control_close(struct vg_control *c)
{
	struct stat sb;

	if (c == NULL)
		return;
	/* Under the lock, so that a client about to wait for a reload sees
	 * it or gets the broadcast. */
	pthread_mutex_lock(&c->mu);
	atomic_store(&c->stop, 1);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->th, NULL);
	close(c->fd);
	/* Wait for every client (each is bounded by its I/O timeouts). */
	pthread_mutex_lock(&c->mu);
	while (c->clients > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	/* Only our own socket: another agent may have replaced it. */
	if (lstat(c->path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_ino == c->sock_ino)
		(void)unlink(c->path);
	free(c->reload_text);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

enum vg_err
vg_control_request(const char *path, const char *cmd, char **reply, size_t *len,
		   char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct vg_buf b;
	char line[VG_CONTROL_MAX_REQUEST], chunk[4096];
	enum vg_err rc = VG_EIO;
	unsigned wait_ms;
	ssize_t r;
	int fd;

	*reply = NULL;
	*len = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vg_seterr(err, errlen, "%s: path too long", path);
		return VG_EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		vg_seterr(err, errlen, "socket: %s", strerror(errno));
		return VG_EIO;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		vg_seterr(err, errlen, "%s: %s", path, strerror(e));
		rc = e == ENOENT || e == ECONNREFUSED ? VG_EAGAIN : VG_EIO;
		close(fd);
		return rc;
	}
	/* A reload answers when it is done. */
	wait_ms = strcmp(cmd, "reload") == 0
		      ? (VG_CONTROL_RELOAD_WAIT + 10) * 1000
		      : 10000;
	set_timeout(fd, wait_ms);
	snprintf(line, sizeof(line), "%s\n", cmd);
	/* An agent that refuses us may answer and close before reading the
	 * request: its answer is still there to read, so a failed send is
	 * not the end. */
	(void)send(fd, line, strlen(line), MSG_NOSIGNAL);
	vg_buf_init(&b, VG_CONTROL_MAX_REPLY);
	for (;;) {
		r = recv(fd, chunk, sizeof(chunk), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			vg_seterr(err, errlen, "%s: %s", path,
				  errno == EAGAIN ? "no answer in time"
						  : strerror(errno));
			rc = VG_EIO;
			goto out;
		}
		if (r == 0)
			break;
		rc = vg_buf_append(&b, chunk, (size_t)r);
		if (rc != VG_OK) {
			vg_seterr(err, errlen, "%s: reply too large", path);
			goto out;
		}
	}
	if (b.len == 0) {
		vg_seterr(err, errlen, "%s: no answer", path);
		rc = VG_EIO;
		goto out;
	}
	*reply = b.data;
	*len = b.len;
	b.data = NULL;
	rc = VG_OK;
out:
	vg_buf_fini(&b);
	close(fd);
	return rc;
}

static void
print_uptime(FILE *out, double s)
{
	uint64_t t = s > 0 ? (uint64_t)s : 0;

	if (t >= 86400)
		fprintf(out, "%" PRIu64 "d ", t / 86400);
	fprintf(out, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, t / 3600 % 24,
		t / 60 % 60, t % 60);
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

int
vg_control_print_status(const char *json, FILE *out)
{
	json_t *root, *counters, *rules, *spool, *reload, *v, *m;
	const char *key;
	size_t i;

	root = json_loads(json, 0, NULL);
	counters = json_object_get(root, "counters");
	if (!json_is_object(root) || !json_is_object(counters)) {
		json_decref(root);
		return -1;
	}
	rules = json_object_get(root, "rules");
	spool = json_object_get(root, "spool");
	reload = json_object_get(root, "reload");
	fprintf(out, "vigil-agent %s, pid %" JSON_INTEGER_FORMAT ", up ",
		jstr(root, "version"),
		json_integer_value(json_object_get(root, "pid")));
	print_uptime(out, json_number_value(json_object_get(root, "uptime")));
	fprintf(out, "\n  %-14s %s\n  %-14s %s\n  %-14s %s\n", "agency",
		jstr(root, "agency"), "agent id", jstr(root, "agent_id"),
		"host", jstr(root, "host"));
	fprintf(out,
		"  %-14s network v%" JSON_INTEGER_FORMAT
		" (%" JSON_INTEGER_FORMAT " enabled)",
		"rules", json_integer_value(json_object_get(rules, "network")),
		json_integer_value(json_object_get(rules, "enabled")));
	v = json_object_get(rules, "yara");
	if (json_is_integer(v))
		fprintf(out, ", yara v%" JSON_INTEGER_FORMAT,
			json_integer_value(v));
	fprintf(out,
		"\n  %-14s %" JSON_INTEGER_FORMAT
		" events, %" JSON_INTEGER_FORMAT " bytes\n",
		"spool", json_integer_value(json_object_get(spool, "pending")),
		json_integer_value(json_object_get(spool, "bytes")));
	fprintf(out, "  %-14s ", "last reload");
	if (json_is_string(json_object_get(reload, "time")))
		fprintf(out, "%s %s", jstr(reload, "time"),
			jstr(reload, "result"));
	else
		fprintf(out, "none");
	fputc('\n', out);
	json_array_foreach(json_object_get(reload, "messages"), i, m)
	{
		if (json_is_string(m))
			fprintf(out, "    %s\n", json_string_value(m));
	}
	fprintf(out, "counters:\n");
	json_object_foreach(counters, key, v)
	{
		fprintf(out, "  %-32s %" JSON_INTEGER_FORMAT "\n", key,
			json_integer_value(v));
	}
	json_decref(root);
	return 0;
}

int
vg_control_print_reload(const char *json, FILE *ok_out, FILE *err_out)
{
	json_t *root = json_loads(json, 0, NULL), *m;
	const char *result = json_string_value(json_object_get(root, "result"));
	FILE *out;
	size_t i;
	int ok;

	if (result == NULL ||
	    (strcmp(result, "ok") != 0 && strcmp(result, "failed") != 0)) {
		json_decref(root);
		return -1;
	}
	ok = strcmp(result, "ok") == 0;
	out = ok ? ok_out : err_out;
	fprintf(out, "%s\n",
		ok ? "reload done"
		   : "reload failed; the running rules stay in force:");
	json_array_foreach(json_object_get(root, "messages"), i, m)
	{
		if (json_is_string(m))
			fprintf(out, "  %s\n", json_string_value(m));
	}
	json_decref(root);
	return ok;
}
