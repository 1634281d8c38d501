/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher thread and its queue; see output.h. The thread writes each
 * chunk to the file (rotating it past its size bound), sends the lines
 * worth it to syslog, and hands every line to the Redis publisher.
 */
#define _GNU_SOURCE
#include "output.h"

#include "event.h"
#include "log.h"
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_MAX (64 * 1024) /* one datagram */

struct chunk {
	struct chunk *next;
	size_t len;
	unsigned n_events;
	char data[];
};

struct vg_output {
	pthread_mutex_t mu;
	pthread_cond_t nonempty;
	pthread_cond_t nonfull;
	struct chunk *head, *tail;
	unsigned queued; /* events in the queue */
	unsigned max_events;
	int lossless;
	int closing;
	int fd;
	int own_fd;
	char *name;
	char *path; /* the file, NULL: none or stdout */
	uint64_t file_size;
	unsigned file_max, file_keep;
	atomic_int reopen;
	int syslog_fd; /* -1: off */
	struct sockaddr_un syslog_addr;
	int syslog_facility;
	char *host;
	char *syslog_buf;
	struct vg_publish *pub;
	pthread_t thread;
	struct vg_output_stats st;
};

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

/* path -> path.1 -> ... -> path.keep (the oldest goes), a new path. */
static void
rotate(struct vg_output *o)
{
	char from[4200], to[4200];
	unsigned k;

	for (k = o->file_keep; k > 1; k--) {
		snprintf(from, sizeof(from), "%s.%u", o->path, k - 1);
		snprintf(to, sizeof(to), "%s.%u", o->path, k);
		(void)rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", o->path);
	if (fsync(o->fd) != 0 || rename(o->path, to) != 0)
		vg_log(LOG_ERR, "output %s: rotation failed: %s", o->name,
		       strerror(errno));
	o->st.rotations++;
	o->reopen = 1;
}

static void
reopen_file(struct vg_output *o)
{
	int fd = open_file(o->path);
	struct stat sb;

	if (fd < 0) {
		vg_log(LOG_ERR,
		       "output %s: cannot reopen: %s (writing on "
		       "to the old file)",
		       o->name, strerror(errno));
		return;
	}
	close(o->fd);
	o->fd = fd;
	o->file_size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* The RFC 5424 severity of an event line, or -1: not for syslog. */
static int
syslog_severity(const char *line, size_t len)
{
	const char *t =
	    memmem(line, len < 160 ? len : 160, "\"event_type\":\"", 14);

	if (t == NULL)
		return -1;
	t += 14;
	if (strncmp(t, "alert\"", 6) == 0)
		return LOG_WARNING;
	if (strncmp(t, "fileinfo\"", 9) == 0)
		return LOG_NOTICE;
	if (strncmp(t, "agent\"", 6) == 0)
		return memmem(line, len, "\"level\":\"error\"", 16) ? LOG_ERR
								    : LOG_INFO;
	return -1;
}

/* (Re)connect the datagram socket to the daemon's. */
static int
syslog_connect(struct vg_output *o)
{
	return connect(o->syslog_fd, (const struct sockaddr *)&o->syslog_addr,
		       sizeof(o->syslog_addr));
}

/*
 * Send n bytes of syslog_buf. A daemon that is slow to read gets up to
 * 100 ms; past that the message is dropped (counted): the pipeline never
 * waits longer for syslog. A daemon that restarted is connected to anew.
 */
static int
syslog_send(struct vg_output *o, size_t n)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		struct pollfd p = {o->syslog_fd, POLLOUT, 0};

		if (send(o->syslog_fd, o->syslog_buf, n, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == EAGAIN || errno == ENOBUFS) {
			if (poll(&p, 1, 100) <= 0)
				return -1;
		} else if (errno == ECONNREFUSED || errno == ENOTCONN ||
			   errno == ENOENT) {
			if (syslog_connect(o) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return -1;
}

/* One line to syslog: <PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG. */
static void
to_syslog(struct vg_output *o, const char *line, size_t len)
{
	int sev = syslog_severity(line, len);
	char ts[32];
	int n;

	if (sev < 0)
		return;
	vg_eve_time(ts, vg_now_wall_us());
	n = snprintf(o->syslog_buf, SYSLOG_MAX,
		     "<%d>1 %.26s+00:00 %s vigil-agent %d %s - ",
		     o->syslog_facility | sev, ts, o->host, (int)getpid(),
		     sev == LOG_WARNING  ? "alert"
		     : sev == LOG_NOTICE ? "fileinfo"
					 : "agent");
	if (n < 0 || (size_t)n + len > SYSLOG_MAX) {
		o->st.syslog_errors++;
		return;
	}
	memcpy(o->syslog_buf + n, line, len);
	if (syslog_send(o, (size_t)n + len) < 0)
		o->st.syslog_errors++;
	else
		o->st.syslog_sent++;
}

/* Syslog and Redis take the chunk line by line. */
static void
per_line(struct vg_output *o, const struct chunk *c)
{
	const char *p = c->data, *end = c->data + c->len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl == p)
			continue;
		if (o->syslog_fd >= 0)
			to_syslog(o, p, (size_t)(nl - p));
		if (o->pub)
			vg_publish_event(o->pub, p, (size_t)(nl - p));
	}
}

static void *
publisher(void *arg)
{
	struct vg_output *o = arg;
	struct chunk *c;
	struct vg_ratelimit rl = {0};

	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (o->head == NULL && !o->closing)
			pthread_cond_wait(&o->nonempty, &o->mu);
		if (o->head == NULL && o->closing)
			break;
		/* Take the whole list at once; write outside the lock. */
		c = o->head;
		o->head = o->tail = NULL;
		pthread_mutex_unlock(&o->mu);
		while (c) {
			struct chunk *next = c->next;
			int rc = 0;

			if (o->path && atomic_exchange(&o->reopen, 0))
				reopen_file(o);
			if (o->fd >= 0) {
				rc = vg_write_all(o->fd, c->data, c->len);
				o->file_size += c->len;
				if (o->path && o->file_max &&
				    o->file_size >= o->file_max)
					rotate(o);
			}
			per_line(o, c);

			pthread_mutex_lock(&o->mu);
			o->queued -= c->n_events;
			if (rc == 0) {
				o->st.events += c->n_events;
				o->st.bytes += c->len;
			} else {
				o->st.write_errors++;
			}
			pthread_cond_broadcast(&o->nonfull);
			pthread_mutex_unlock(&o->mu);
			if (rc != 0 && vg_ratelimit_ok(&rl, 5, 60))
				vg_log(LOG_ERR, "output %s: write failed: %s",
				       o->name, strerror(errno));
			free(c);
			c = next;
		}
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

enum vg_err
vg_output_open(struct vg_output **out, const char *path, unsigned max_events,
	       int lossless, char *err, size_t errlen)
{
	struct vg_output_opts oo;

	memset(&oo, 0, sizeof(oo));
	oo.path = path;
	oo.max_events = max_events;
	oo.lossless = lossless;
	return vg_output_open_opts(out, &oo, err, errlen);
}

void
vg_output_opts_from(struct vg_output_opts *oo, const struct vg_config *cfg,
		    const char *path, int lossless)
{
	static const int facility_values[] = {
	    LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3,
	    LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
	    LOG_DAEMON, LOG_USER,   LOG_AUTH};
	static const char *const facility_names[] = {
	    "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7", "daemon", "user",   "auth"};
	size_t i;

	memset(oo, 0, sizeof(*oo));
	oo->path = path ? path : cfg->output_file;
	oo->file_max = cfg->output_file_max;
	oo->file_keep = cfg->output_file_keep;
	oo->syslog = cfg->syslog_enabled;
	oo->syslog_socket = cfg->syslog_socket;
	oo->syslog_facility = LOG_LOCAL5;
	for (i = 0; cfg->syslog_facility && i < VG_ARRAY_LEN(facility_names);
	     i++)
		if (strcmp(cfg->syslog_facility, facility_names[i]) == 0)
			oo->syslog_facility = facility_values[i];
	oo->host = cfg->hostname;
	oo->redis = cfg->redis_url ? cfg : NULL;
	oo->max_events = cfg->queue_events;
	oo->lossless = lossless;
	if (oo->path == NULL && !oo->syslog && oo->redis == NULL)
		oo->path = "-";
}

static void
output_free(struct vg_output *o)
{
	if (o->own_fd && o->fd >= 0)
		close(o->fd);
	if (o->syslog_fd >= 0)
		close(o->syslog_fd);
	free(o->syslog_buf);
	free(o->host);
	free(o->path);
	free(o->name);
	free(o);
}

enum vg_err
vg_output_open_opts(struct vg_output **out, const struct vg_output_opts *oo,
		    char *err, size_t errlen)
{
	const char *path = oo->path;
	struct vg_output *o;
	struct stat sb;
	enum vg_err rc;

	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return VG_ENOMEM;
	o->fd = -1;
	o->syslog_fd = -1;
	o->name = strdup(path == NULL ? (oo->redis ? "redis" : "syslog")
			 : strcmp(path, "-") == 0 ? "stdout"
						  : path);
	o->host = strdup(oo->host ? oo->host : "-");
	if (o->name == NULL || o->host == NULL) {
		output_free(o);
		return VG_ENOMEM;
	}
	if (path != NULL && strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
	} else if (path != NULL) {
		o->fd = open_file(path);
		o->path = strdup(path);
		if (o->fd < 0 || o->path == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			output_free(o);
			return VG_EIO;
		}
		o->own_fd = 1;
		o->file_size =
		    fstat(o->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		o->file_max = oo->file_max;
		o->file_keep = oo->file_keep ? oo->file_keep : 1;
	}
	if (oo->syslog) {
		const char *sock =
		    oo->syslog_socket ? oo->syslog_socket : "/dev/log";

		o->syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		o->syslog_buf = malloc(SYSLOG_MAX);
		o->syslog_addr.sun_family = AF_UNIX;
		o->syslog_facility = oo->syslog_facility;
		if (o->syslog_fd < 0 || o->syslog_buf == NULL ||
		    strlen(sock) >= sizeof(o->syslog_addr.sun_path)) {
			snprintf(err, errlen, "output.syslog: %s: %s", sock,
				 o->syslog_fd < 0 ? strerror(errno)
						  : "path too long");
			output_free(o);
			return VG_EIO;
		}
		memcpy(o->syslog_addr.sun_path, sock, strlen(sock) + 1);
		/* No daemon yet is not an error: sends try again. */
		(void)syslog_connect(o);
	}
	if (oo->redis) {
		rc = vg_publish_open(&o->pub, oo->redis, err, errlen);
		if (rc != VG_OK) {
			output_free(o);
			return rc;
		}
	}
	o->max_events = oo->max_events ? oo->max_events : 1;
	o->lossless = oo->lossless;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->nonempty, NULL);
	pthread_cond_init(&o->nonfull, NULL);
	if (pthread_create(&o->thread, NULL, publisher, o) != 0) {
		snprintf(err, errlen, "cannot start the publisher thread");
		vg_publish_close(o->pub);
		output_free(o);
		return VG_EIO;
	}
	*out = o;
	return VG_OK;
}

void
vg_output_reopen(struct vg_output *o)
{
	if (o && o->path)
		atomic_store(&o->reopen, 1);
}

int
vg_output_drain(struct vg_output *o, unsigned timeout_ms)
{
	int64_t until = vg_now_mono_us() + (int64_t)timeout_ms * 1000;
	int64_t left;

	/* The queue first: every line must reach the publisher. */
	pthread_mutex_lock(&o->mu);
	while (o->queued > 0)
		pthread_cond_wait(&o->nonfull, &o->mu);
	pthread_mutex_unlock(&o->mu);
	if (o->pub == NULL)
		return 1;
	left = until - vg_now_mono_us();
	return vg_publish_drain(o->pub, left > 0 ? (unsigned)(left / 1000) : 0);
}

enum vg_err
vg_output_submit_bytes(struct vg_output *o, const void *p, size_t len,
		       unsigned n_events)
{
	struct chunk *c;

	if (len == 0)
		return VG_OK;
	pthread_mutex_lock(&o->mu);
	if (o->queued + n_events > o->max_events && o->queued > 0) {
		if (!o->lossless) {
			o->st.dropped += n_events;
			pthread_mutex_unlock(&o->mu);
			return VG_ELIMIT;
		}
		while (o->queued + n_events > o->max_events && o->queued > 0)
			pthread_cond_wait(&o->nonfull, &o->mu);
	}
	pthread_mutex_unlock(&o->mu);

	c = malloc(sizeof(*c) + len);
	if (c == NULL) {
		pthread_mutex_lock(&o->mu);
		o->st.dropped += n_events;
		pthread_mutex_unlock(&o->mu);
		return VG_ENOMEM;
	}
	c->next = NULL;
	c->len = len;
	c->n_events = n_events;
	memcpy(c->data, p, len);

	pthread_mutex_lock(&o->mu);
	if (o->tail)
		o->tail->next = c;
	else
		o->head = c;
	o->tail = c;
	o->queued += n_events;
	pthread_cond_signal(&o->nonempty);
	pthread_mutex_unlock(&o->mu);
	return VG_OK;
}

enum vg_err
vg_output_submit(struct vg_output *o, struct vg_buf *b, unsigned n_events)
{
	enum vg_err rc = vg_output_submit_bytes(o, b->data, b->len, n_events);

	vg_buf_reset(b);
	return rc;
}

void
vg_output_close(struct vg_output *o, struct vg_output_stats *final)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->closing = 1;
	pthread_cond_signal(&o->nonempty);
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->thread, NULL);
	if (o->own_fd && o->fd >= 0 && fsync(o->fd) != 0 && errno != EINVAL)
		vg_log(LOG_WARNING, "output %s: fsync: %s", o->name,
		       strerror(errno));
	if (final) {
		vg_output_stats(o, final);
		final->queued = 0;
	}
	vg_publish_close(o->pub);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->nonempty);
	pthread_cond_destroy(&o->nonfull);
	output_free(o);
}

void
vg_output_stats(struct vg_output *o, struct vg_output_stats *st)
{
	pthread_mutex_lock(&o->mu);
	*st = o->st;
	st->queued = o->queued;
	pthread_mutex_unlock(&o->mu);
	if (o->pub) {
		struct vg_publish_stats ps;

		vg_publish_stats(o->pub, &ps);
		st->redis_on = 1;
		st->redis_connected = ps.connected;
		st->redis_sent = ps.sent;
		st->redis_reply_errors = ps.reply_errors;
		st->redis_connects = ps.connects;
		st->redis_connect_errors = ps.connect_errors;
		st->redis_dropped = ps.dropped;
		st->redis_queued = ps.queued;
		st->spool_spooled = ps.spooled;
		st->spool_full = ps.spool_full;
		st->spool_errors = ps.spool_errors;
		st->spool_pending = ps.spool_pending;
		st->spool_bytes = ps.spool_bytes;
		st->spool_torn = ps.spool_torn;
	}
}

const char *
vg_output_name(const struct vg_output *o)
{
	return o->name;
}
