/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's archive: every event, once, as one line of NDJSON in
 * DIR/AGENCY/YYYY-MM-DD.ndjson (the UTC day of the event's timestamp),
 * appended and fsync'd before the consumer acknowledges it to Redis. Days
 * before yesterday are compressed to .ndjson.gz.
 *
 * Several collectors may share one directory: lines are appended whole
 * with O_APPEND, and flock(2) keeps compression away from a file that is
 * being written (writers hold a shared lock, the compressor an exclusive
 * one, and a writer that finds its file already unlinked opens it again).
 *
 * Not thread-safe: one handle per thread (the consumer's).
 */
#ifndef VC_ARCHIVE_H
#define VC_ARCHIVE_H

#include "common.h"

#include <jansson.h>

#define VC_ARCHIVE_MAX_OPEN 64 /* files open in one batch */
#define VC_ARCHIVE_MAX_EVENT                                                   \
	(16u * 1024 * 1024) /* bytes of one archived event: the agent's        \
			      output.event_max_bytes at most */

struct vc_archive;

/*
 * Open the archive in dir (created if missing, mode 0750). compress:
 * whether vc_archive_compact() does anything. VG_OK with *out (owned:
 * vc_archive_close()), VG_EIO (err says why) or VG_ENOMEM.
 */
enum vg_err vc_archive_open(struct vc_archive **out, const char *dir,
			    int compress, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* Close the files of an uncommitted batch and free; accepts NULL. */
void vc_archive_close(struct vc_archive *a);

/*
 * Append the event ev (borrowed; its timestamp chooses the day) as the
 * line line (len bytes, borrowed, without the newline; it must hold no
 * newline) to the files of agency: the agency of the stream it came
 * from, never what the event says of itself (NULL: the event's
 * vigil.agency). A line torn by a writer that died mid-write is ended
 * first, so it stays a line of its own that readers skip. Durable only
 * after vc_archive_commit(). VG_OK, VG_EIO (err says why; the batch must
 * not be acknowledged) or VG_ENOMEM.
 */
enum vg_err vc_archive_add(struct vc_archive *a, const json_t *ev,
			   const char *agency, const char *line, size_t len,
			   char *err, size_t errlen) VG_MUST_CHECK;

/*
 * fsync and close every file written since the last commit. VG_OK: every
 * line added is on disk. VG_EIO: at least one file failed (err says
 * which); the files are closed either way.
 */
enum vg_err vc_archive_commit(struct vc_archive *a, char *err,
			      size_t errlen) VG_MUST_CHECK;

/*
 * Compress every DIR/AGENCY/DAY.ndjson whose DAY is before yesterday
 * (UTC) into DAY.ndjson.gz (appended to when it exists), fsync it, then
 * remove the plain file. A file another collector is writing is left for
 * the next run. Errors are logged; returns the number of files done.
 * Does nothing when the archive was opened without compress. Call it
 * between batches (no uncommitted file open).
 */
unsigned vc_archive_compact(struct vc_archive *a);

/*
 * Exposed for tests: the agency directory name for s (NULL: "unknown"):
 * lower-cased, any byte outside [a-z0-9._-] replaced by '_', cut to 64
 * bytes; "unknown" when that leaves "", "." or "..", or s starts with
 * '.'. dst has n bytes (at least 65).
 */
void vc_archive_agency_name(char *dst, size_t n, const char *s);

/* Exposed for tests: the UTC day "YYYY-MM-DD" of an EVE timestamp
 * ("2026-12-01T08:00:00.123456+0000", "...Z", "...+07:00"); -1 if it does
 * not parse. dst has at least 11 bytes. */
int vc_archive_day(char *dst, size_t n, const char *ts);

#endif /* VC_ARCHIVE_H */
