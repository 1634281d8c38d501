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

struct vg_output;

struct vg_output_stats {
	uint64_t events;       /* events written */
	uint64_t bytes;        /* bytes written */
	uint64_t dropped;      /* events dropped: queue full (live) */
	uint64_t write_errors; /* failed writes */
	uint64_t queued;       /* events waiting now */
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
 * Queue the lines in b (n_events of them); b is emptied (its contents are
 * copied). Thread-safe. VG_OK, VG_ENOMEM, or VG_ELIMIT when dropped
 * (live mode, queue full; counted).
 */
enum vg_err vg_output_submit(struct vg_output *o, struct vg_buf *b,
			     unsigned n_events);

/* Write everything queued, flush, stop the thread, close. If final is not
 * NULL it receives the last counters. Accepts NULL. */
void vg_output_close(struct vg_output *o, struct vg_output_stats *final);

/* Counters (thread-safe). */
void vg_output_stats(struct vg_output *o, struct vg_output_stats *st);

/* Where events go, for messages ("stdout" or the path). Borrowed. */
const char *vg_output_name(const struct vg_output *o);

#endif /* VG_OUTPUT_H */
