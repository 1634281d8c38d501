/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher thread and its queue; see output.h. */
#include "output.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	pthread_t thread;
	struct vg_output_stats st;
};

/* Write all of p, retrying short writes and EINTR. */
static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
			int rc = write_all(o->fd, c->data, c->len);

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
	struct vg_output *o;

	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return VG_ENOMEM;
	o->name = strdup(strcmp(path, "-") == 0 ? "stdout" : path);
	if (o->name == NULL) {
		free(o);
		return VG_ENOMEM;
	}
	if (strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
	} else {
		o->fd =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (o->fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(o->name);
			free(o);
			return VG_EIO;
		}
		o->own_fd = 1;
	}
	o->max_events = max_events ? max_events : 1;
	o->lossless = lossless;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->nonempty, NULL);
	pthread_cond_init(&o->nonfull, NULL);
	if (pthread_create(&o->thread, NULL, publisher, o) != 0) {
		snprintf(err, errlen, "cannot start the publisher thread");
		if (o->own_fd)
			close(o->fd);
		free(o->name);
		free(o);
		return VG_EIO;
	}
	*out = o;
	return VG_OK;
}

enum vg_err
vg_output_submit(struct vg_output *o, struct vg_buf *b, unsigned n_events)
{
	struct chunk *c;

	if (b->len == 0)
		return VG_OK;
	pthread_mutex_lock(&o->mu);
	if (o->queued + n_events > o->max_events && o->queued > 0) {
		if (!o->lossless) {
			o->st.dropped += n_events;
			pthread_mutex_unlock(&o->mu);
			vg_buf_reset(b);
			return VG_ELIMIT;
		}
		while (o->queued + n_events > o->max_events && o->queued > 0)
			pthread_cond_wait(&o->nonfull, &o->mu);
	}
	pthread_mutex_unlock(&o->mu);

	c = malloc(sizeof(*c) + b->len);
	if (c == NULL) {
		pthread_mutex_lock(&o->mu);
		o->st.dropped += n_events;
		pthread_mutex_unlock(&o->mu);
		vg_buf_reset(b);
		return VG_ENOMEM;
	}
	c->next = NULL;
	c->len = b->len;
	c->n_events = n_events;
	memcpy(c->data, b->data, b->len);
	vg_buf_reset(b);

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
	if (o->own_fd) {
		if (fsync(o->fd) != 0 && errno != EINVAL)
			vg_log(LOG_WARNING, "output %s: fsync: %s", o->name,
			       strerror(errno));
		close(o->fd);
	}
	if (final) {
		*final = o->st;
		final->queued = 0;
	}
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->nonempty);
	pthread_cond_destroy(&o->nonfull);
	free(o->name);
	free(o);
}

void
vg_output_stats(struct vg_output *o, struct vg_output_stats *st)
{
	pthread_mutex_lock(&o->mu);
	*st = o->st;
	st->queued = o->queued;
	pthread_mutex_unlock(&o->mu);
}

const char *
vg_output_name(const struct vg_output *o)
{
	return o->name;
}
