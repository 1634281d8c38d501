/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable spool: alerts and fileinfo events on disk between the
 * engine and the publisher, so that a Redis outage, a network cut or a
 * kill -9 loses none of them.
 *
 * Producers (several threads) vg_spool_append() each event's JSON line. A
 * background thread, started by vg_spool_open(), makes what was appended
 * durable with one fsync(2) per group, at least every sync_ms. The
 * publisher, the one reader, takes durable records with vg_spool_peek(),
 * sends them, and vg_spool_ack()s them once Redis has answered; only then
 * does the read position move. It is persisted at most every sync_ms and
 * on close, so after a crash the spool hands out again at most the records
 * acknowledged since then (duplicates, which the center drops by event
 * id), never fewer: nothing that was durable is lost.
 *
 * Storage layout of a spool folder (created 0700; its parent must exist)
 * ----------------------------------------------------------------------
 *  NNNNNNNNNNNNNNNN.seg  a segment: 16 lower-case hex digits, the sequence
 *                        number of its first record, so names increase
 *                        with age. Appends go to the newest until the next
 *                        record would take it past segment_bytes (a record
 *                        larger than that gets a segment of its own). A
 *                        segment is deleted once all its records are
 *                        acknowledged.
 *  position              the read position (below): written as
 *                        position.tmp, fsync'ed, renamed over it.
 *  other names           ignored.
 * The folder is flock(2)ed while open: a second opener is refused.
 *
 * A segment file, integers little-endian:
 *
 *   0      7 8     15                         header: 16 bytes
 *  +--------+--------+
 *  |VGSPOOL1|first   |  magic "VGSPOOL" and the format version '1';
 *  |        |seq u64 |  the sequence number of the first record, which is
 *  +--------+--------+  also the file's name
 *  |len u32 |crc u32 |  record: length of the payload (1 to
 *  +--------+--------+  VG_SPOOL_RECORD_MAX), CRC32C (Castagnoli,
 *  | payload ...     |  reflected 0x82F63B78) of the payload, then the
 *  +-----------------+  payload: an event's JSON line without its newline
 *  | next record ... |
 *
 * Records carry no sequence number: a record's is its segment's first plus
 * the number of records before it in the segment. An empty payload is
 * refused, so that zeros (what a crash can leave past the end of a file)
 * never read as records.
 *
 * The position file, 36 bytes, integers little-endian:
 *  "VGSPPOS1", the segment (its name, u64), the offset in it of the next
 *  record to read (u64), that record's sequence number (u64), the CRC32C
 *  of the 32 bytes before (u32).
 *
 * Recovery (vg_spool_open)
 * ------------------------
 *  - A file with a segment's name that is not a segment (another magic,
 *    another version, a first sequence number that is not its name, not a
 *    regular file) is refused: open fails, err names it, nothing is
 *    changed. An unfinished segment (shorter than its header and a prefix
 *    of it, or a header of zeros: what a crash leaves right after a
 *    segment was created, before anything in it was durable) is removed
 *    and counted torn; its name, the next sequence number then, is never
 *    reused.
 *  - The position file is read. Missing: reading starts at the oldest
 *    segment. Unreadable, damaged (size, magic, CRC) or inconsistent with
 *    the segments (an offset past the end, an impossible sequence number):
 *    counted corrupt, logged, reading starts at the oldest segment (the
 *    worst case is duplicates). Naming a segment that is gone (deleted
 *    after it was acknowledged, before the position was persisted):
 *    reading starts at the next segment. Segments before the read position
 *    are fully acknowledged and are deleted.
 *  - Every record from the read position on is checked: length and CRC32C.
 *    A record whose length fits but whose CRC does not match is counted
 *    corrupt and skipped (its sequence number is used up). A record that
 *    is cut short by the end of the file, or whose length is impossible (0
 *    or more than VG_SPOOL_RECORD_MAX), makes the rest of that segment
 *    unreadable: counted torn (once per segment) and skipped; the newest
 *    segment is truncated there, so appends continue cleanly after its
 *    last good record (with the sequence number the torn record had; it
 *    was never durable, or it was damaged after the fact).
 *  - Everything found is fsync'ed, then is durable: appends continue with
 *    the next sequence number after the highest found (or after the one
 *    the position names, if higher).
 *
 * Threads: vg_spool_append() may be called from any number of threads at
 * once; vg_spool_peek(), vg_spool_wait() and vg_spool_ack() from one
 * reader thread at a time; vg_spool_sync(), vg_spool_stats(),
 * vg_spool_last_error() and vg_spool_shutdown() from any thread;
 * vg_spool_close() once no other call is in progress.
 *
 * After an fsync(2) of the spool fails, the kernel may have dropped the
 * data it could not write, and a later fsync can report success without
 * writing it: the spool stops accepting appends (VG_EIO, like PostgreSQL,
 * which stops on such an error), keeps handing out what was durable, and
 * recovers what is on disk when it is opened again.
 */
#ifndef VG_SPOOL_H
#define VG_SPOOL_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

/* Largest payload of a record, in bytes. */
#define VG_SPOOL_RECORD_MAX (16u * 1024 * 1024)
/* Most records one vg_spool_peek() returns. */
#define VG_SPOOL_PEEK_MAX 4096
/* Defaults of struct vg_spool_opts, and the smallest bounds accepted. */
#define VG_SPOOL_MAX_BYTES_DEFAULT (1024ull * 1024 * 1024)
#define VG_SPOOL_SEGMENT_DEFAULT   (16ull * 1024 * 1024)
#define VG_SPOOL_SYNC_MS_DEFAULT   100u
#define VG_SPOOL_BYTES_MIN         4096ull /* max_bytes and segment_bytes */
/* Most segment files vg_spool_open() accepts in a folder. */
#define VG_SPOOL_SEGMENTS_MAX (1u << 20)

struct vg_spool;

struct vg_spool_opts {
	const char *dir;        /* the spool folder */
	uint64_t max_bytes;     /* bound on segment bytes; 0: 1 GiB */
	uint64_t segment_bytes; /* roll over size; 0: 16 MiB */
	unsigned sync_ms;       /* group fsync period; 0: 100 */
};

struct vg_spool_rec {
	uint64_t seq;
	const char *data; /* borrowed: valid until the next peek/ack/close */
	size_t len;
};

struct vg_spool_stats {
	uint64_t appended, acked; /* records since open */
	uint64_t pending_records, pending_bytes;
	uint64_t durable_seq, read_seq; /* next seq to read */
	uint64_t segments, bytes;       /* on disk */
	uint64_t torn, corrupt, full_drops, fsyncs, io_errors;
	int full; /* at the bound now */
};

/*
 * Open the spool in folder o->dir (created 0700 when missing; its parent
 * must exist), recover what it holds (see "Recovery" above) and start the
 * sync thread. o is borrowed (o->dir is copied). A field of o that is 0
 * takes its default; max_bytes and segment_bytes must be at least
 * VG_SPOOL_BYTES_MIN.
 *
 * Returns:
 *  VG_OK          *out is the spool (owned: close with vg_spool_close).
 *  VG_EINVAL      a NULL argument, an empty dir, a bound below the minimum.
 *  VG_EMALFORMED  a file with a segment's name is not a segment (err names
 *                 it): move it away; nothing was changed.
 *  VG_ELIMIT      more than VG_SPOOL_SEGMENTS_MAX segment files.
 *  VG_EIO         a system call failed: the folder cannot be created or
 *                 opened, is not a folder, is in use by another spool, a
 *                 segment cannot be read or repaired, the thread cannot
 *                 be started.
 *  VG_ENOMEM      out of memory.
 * On failure err (errlen bytes, may be NULL) says why, naming the file and
 * the system error, and *out is NULL.
 */
enum vg_err vg_spool_open(struct vg_spool **out, const struct vg_spool_opts *o,
			  char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Append one record: len bytes at data (copies; 1 to VG_SPOOL_RECORD_MAX),
 * with one write(2) into the newest segment. The record is durable within
 * about sync_ms (or after vg_spool_sync) and only then handed to the
 * reader. *seq (seq may be NULL) gets its sequence number, one more than
 * the previous record's (monotonic across segments and restarts).
 *
 * Returns:
 *  VG_OK      appended.
 *  VG_ELIMIT  the spool is at max_bytes: the record is refused, counted
 *             (full_drops, full), logged at most once per 10 s. Nothing
 *             spooled is ever dropped to make room; space comes back as
 *             the reader acknowledges.
 *  VG_EINVAL  a NULL argument, len 0 or more than VG_SPOOL_RECORD_MAX.
 *  VG_EIO     the write failed (a full disk...; counted in io_errors,
 *             nothing of the record is kept), or an earlier fsync failed
 *             (see above).
 *  VG_ENOMEM  out of memory (rolling over to a new segment).
 */
enum vg_err vg_spool_append(struct vg_spool *s, const void *data, size_t len,
			    uint64_t *seq) VG_MUST_CHECK;

/*
 * fsync now: returns when everything appended before the call is durable
 * (and may be peeked). VG_OK, VG_EINVAL (s NULL), VG_EIO (an fsync failed,
 * now or earlier: the records are not durable).
 */
enum vg_err vg_spool_sync(struct vg_spool *s) VG_MUST_CHECK;

/*
 * Up to max (at most VG_SPOOL_PEEK_MAX) durable records from the read
 * position, oldest first, into recs[0 .. *n - 1], without moving the read
 * position: a second peek without an ack returns the same records. Their
 * data is borrowed: valid until the next peek, ack or close. A batch may
 * stop early at the end of a segment or of the internal buffer (1 MiB, or
 * one record when that is larger). VG_OK with *n == 0 when there is no
 * durable unread record.
 *
 * Corrupt records (CRC) and unreadable stretches (an impossible length, a
 * segment cut short by someone else below what was durable in it) are
 * skipped and counted once, as at open; when they are at the read
 * position, it moves past them.
 *
 * Returns VG_OK, VG_EINVAL (a NULL argument), VG_EIO (a read failed:
 * counted in io_errors; try again later) or VG_ENOMEM (the buffer for a
 * large record).
 */
enum vg_err vg_spool_peek(struct vg_spool *s, struct vg_spool_rec *recs,
			  size_t max, size_t *n) VG_MUST_CHECK;

/*
 * Block until a durable unread record exists (VG_OK), timeout_ms have
 * passed (VG_EAGAIN), or vg_spool_shutdown() or vg_spool_close() has been
 * called (VG_EAGAIN at once, unless records are waiting: they can still
 * be drained). VG_EINVAL when s is NULL.
 */
enum vg_err vg_spool_wait(struct vg_spool *s, unsigned timeout_ms);

/*
 * The records up to and including sequence number upto_seq have been
 * delivered: move the read position past them. Segments left fully
 * acknowledged are deleted; the position is persisted within sync_ms.
 * An upto_seq below the read position is a no-op.
 *
 * Returns VG_OK, VG_EINVAL (s NULL, or upto_seq past both the durable
 * records and the last one peeked: nothing moved) or VG_EIO (a record
 * header could not be read: the position moved as far as it could).
 */
enum vg_err vg_spool_ack(struct vg_spool *s, uint64_t upto_seq) VG_MUST_CHECK;

/*
 * Counters and state, at one instant, into *st (caller's storage). s NULL:
 * all zero. pending_records counts appended records not yet acknowledged
 * (durable or not); pending_bytes their bytes on disk; durable_seq is the
 * highest durable sequence number (0: none yet); read_seq the next to
 * read. torn counts unreadable segment tails and unfinished segments,
 * corrupt counts records whose CRC did not match and damaged position
 * files; fsyncs counts the fsync(2) calls that made records durable (of
 * segments and of the folder), io_errors the failed system calls. full is
 * 1 from a refused append to the next accepted one.
 */
void vg_spool_stats(struct vg_spool *s, struct vg_spool_stats *st);

/*
 * The last error the spool met (an I/O error, a damaged record or file,
 * the bound reached), copied into buf (len bytes, NUL-terminated); "" when
 * none. Accepts s NULL ("").
 */
void vg_spool_last_error(struct vg_spool *s, char *buf, size_t len);

/*
 * Make vg_spool_wait() return at once (now and from now on), so that the
 * reader thread can be stopped before vg_spool_close(). Everything else
 * keeps working. Accepts NULL.
 */
void vg_spool_shutdown(struct vg_spool *s);

/*
 * Stop the sync thread, fsync what was appended, persist the read
 * position, release everything. A thread blocked in vg_spool_wait() is
 * woken and waited for (it must not call the spool again). Accepts NULL.
 */
void vg_spool_close(struct vg_spool *s);

/* CRC32C (Castagnoli) of n bytes at p, as the record headers hold it. */
uint32_t vg_spool_crc32c(const void *p, size_t n);

#endif /* VG_SPOOL_H */
