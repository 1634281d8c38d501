/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher: one thread that takes encoded events (JSON lines) from a
 * bounded multi-producer queue and writes them to a file or stdout.
 *
 * Producers (workers, the main thread) encode events themselves and hand
 * over chunks of whole lines, so the publisher only writes. In lossless
 * mode (replay) a producer waits when the queue is full; in live mode the
 * chunk is dropped and its events counted, so capture never stalls.
 * Later outputs (Redis, syslog, the spool) plug in behind the same queue.
 */
#ifndef VG_OUTPUT_H
#define VG_OUTPUT_H

#include "buf.h"
#include "common.h"
#include "config.h"

struct vg_output;

/* Where events go; several sinks may be on at once. */
struct vg_output_opts {
	const char *path;   /* JSON lines: a file, "-" (stdout), or NULL */
	unsigned file_max;  /* rotate the file past this size, 0: never */
	unsigned file_keep; /* rotated files kept (PATH.1 is the newest) */
	int syslog;         /* alert, fileinfo and agent events, RFC 5424 */
	const char *syslog_socket;     /* NULL: /dev/log */
	int syslog_facility;           /* LOG_LOCAL5 style value */
	const char *host;              /* HOSTNAME of syslog messages */
	const struct vg_config *redis; /* output.redis with a url: publish
					  (publish.h); NULL: no Redis */
	unsigned max_events;           /* bound of the queue */
	int lossless;                  /* producers wait instead of dropping */
};

struct vg_output_stats {
	uint64_t events;       /* events written */
	uint64_t bytes;        /* bytes written */
	uint64_t dropped;      /* events dropped: queue full (live) */
	uint64_t write_errors; /* failed writes */
	uint64_t queued;       /* events waiting now */
	uint64_t rotations;    /* the file was rotated */
	uint64_t syslog_sent, syslog_errors;
	/* Redis (publish.h) */
	uint64_t redis_sent, redis_reply_errors, redis_connects,
	    redis_connect_errors, redis_dropped, redis_queued;
	uint64_t spool_spooled, spool_full, spool_errors, spool_pending,
	    spool_bytes, spool_torn;
	int redis_on, redis_connected;
};

/*
 * Open the output: path "-" is stdout, anything else a file opened for
 * append (created 0640). max_events bounds the queue; lossless makes
 * producers wait instead of dropping. Starts the publisher thread.
 * On VG_EIO, err says why.
 */
enum vg_err vg_output_open(struct vg_output **out, const char *path,
			   unsigned max_events, int lossless, char *err,
			   size_t errlen) VG_MUST_CHECK;

/*
 * Open every sink of oo and start the publisher thread. VG_OK, VG_EIO or
 * VG_EINVAL (err says why: a file, the spool) or VG_ENOMEM.
 */
enum vg_err vg_output_open_opts(struct vg_output **out,
				const struct vg_output_opts *oo, char *err,
				size_t errlen) VG_MUST_CHECK;

/* The sinks cfg asks for, with path (NULL: cfg's output.file.path; none
 * of file, syslog or Redis configured: stdout). */
void vg_output_opts_from(struct vg_output_opts *oo, const struct vg_config *cfg,
			 const char *path, int lossless);

/* Reopen the file at its path before the next write (SIGHUP, after an
 * outside rotation). Thread-safe. */
void vg_output_reopen(struct vg_output *o);

/*
 * Wait up to timeout_ms for the queue to be written and Redis to have
 * acknowledged everything (the spool keeps what it has not): 1 when all
 * was delivered. Producers must have stopped.
 */
int vg_output_drain(struct vg_output *o, unsigned timeout_ms);

/*
 * Queue the lines in b (n_events of them); b is emptied (its contents are
 * copied). Thread-safe. VG_OK, VG_ENOMEM, or VG_ELIMIT when dropped
 * (live mode, queue full; counted).
 */
enum vg_err vg_output_submit(struct vg_output *o, struct vg_buf *b,
			     unsigned n_events);

/* The same for the len bytes at p (borrowed: copied). */
enum vg_err vg_output_submit_bytes(struct vg_output *o, const void *p,
				   size_t len, unsigned n_events);

/* Write everything queued, flush, stop the thread, close. If final is not
 * NULL it receives the last counters. Accepts NULL. */
void vg_output_close(struct vg_output *o, struct vg_output_stats *final);

/* Counters (thread-safe). */
void vg_output_stats(struct vg_output *o, struct vg_output_stats *st);

/* Where events go, for messages ("stdout" or the path). Borrowed. */
const char *vg_output_name(const struct vg_output *o);

#endif /* VG_OUTPUT_H */
