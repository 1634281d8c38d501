/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YARA scanner in a child process (ARCHITECTURE.md, "Security
 * stance"; sandbox.h): each scanning thread of the file scanner hands the
 * files it has opened and checked to a child of its own, which reads them
 * through the descriptor it is sent, hashes and scans them, and answers
 * with its verdict. Everything the verdict leads to (events, quarantine,
 * the verdict cache) stays with the parent; the child holds no
 * capability, cannot write a file, open a socket or start a process, and
 * dies by SIGSYS if it tries.
 *
 * The child is the agent's own binary started again (posix_spawn of
 * /proc/self/exe with the internal command VG_SCANCHILD_COMMAND, the
 * socketpair as fd 3), so it starts with a fresh process image: no
 * thread, lock or allocator state of the parent's. It is sent the
 * compiled rule set as a sealed memfd (vg_yara_memfd) rather than
 * compiling sources itself.
 *
 * Messages (sandbox.h's header, then these payloads, host byte order):
 *
 *   RULES     u64 version, u32 timeout_s, u32 rules    + the set's memfd
 *   RULES_OK  u64 version, u32 rules, u32 status (0: loaded)
 *   SCAN      u64 size, u32 flags (1: hash it), u32 path_len, the path
 *                                                      + the file's fd
 *   RESULT    u32 status (enum vg_scanchild_status), u32 flags (1: a
 *             SHA-256 follows), u64 bytes scanned, 64 hex digits (zeros
 *             without the flag), u32 matches, u32 more; per match: u32
 *             rule index, u32 strings; per string: u32 index in its
 *             rule, u32 offsets, u64 count, then each u64 offset.
 *
 * The parent trusts nothing a child says: a RESULT is decoded exactly
 * (vg_scanchild_decode_result), and a child that sends anything else, or
 * takes too long, is killed and started again.
 */
#ifndef VG_SCANCHILD_H
#define VG_SCANCHILD_H

#include "common.h"
#include "event.h"

#include <stddef.h>
#include <stdint.h>

struct vg_yara;
struct vg_yara_scanner;
struct vg_scanchild;

/* argv[1] of a scanner child: not a command for people. */
#define VG_SCANCHILD_COMMAND "__scanner-child"
/* The child's end of its socketpair. */
#define VG_SCANCHILD_FD 3

enum vg_scanchild_status {
	VG_SCAN_DONE = 0,    /* scanned */
	VG_SCAN_TIMEOUT = 1, /* cut at the time limit: matches so far */
	VG_SCAN_UNREAD = 2,  /* the file could not be read */
	VG_SCAN_FAILED = 3,  /* YARA failed (memory, another error) */
	VG_SCAN__STATUSES
};

/* A verdict; matches are borrowed from the scanchild until its next scan,
 * and point into the rule set it runs. */
struct vg_scanchild_result {
	enum vg_scanchild_status status;
	uint64_t len;    /* bytes scanned */
	char sha256[65]; /* lower-case hex, "" when not computed */
	const struct vg_file_match *matches;
	unsigned n, more; /* as vg_yara_scan's */
};

/*
 * A handle for one child, not started yet (the first
 * vg_scanchild_ready() starts it). exe: the agent's binary (NULL:
 * /proc/self/exe). VG_OK (*out owned: vg_scanchild_free) or VG_ENOMEM.
 */
enum vg_err vg_scanchild_new(struct vg_scanchild **out,
			     const char *exe) VG_MUST_CHECK;

/* Stop the child (its socket closed, then SIGKILL if it lingers) and free;
 * accepts NULL. */
void vg_scanchild_free(struct vg_scanchild *sc);

/*
 * Have the child run set y (a reference is kept) with a time limit of
 * timeout_s per scan: start it when none runs (test_hook: see
 * vg_sandbox_enter; for the first child only), send it y when it runs
 * another set. After a failure a new start waits, from 100 ms doubling to
 * 5 s. *started is set to 1 when a child was started (else 0).
 * VG_OK; VG_EAGAIN (waiting before the next start); else err says why,
 * the child is stopped and the next call tries again: VG_EIO (it could not
 * be started, or ended), VG_EMALFORMED (its answer to the rules was not
 * one) or VG_ELIMIT (no answer within a minute).
 */
enum vg_err vg_scanchild_ready(struct vg_scanchild *sc, struct vg_yara *y,
			       unsigned timeout_s, int test_hook, int *started,
			       char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Scan the open regular file fd (size bytes at fstat; path is what rules
 * see as filepath) in the child; hash: compute its SHA-256 even without a
 * match. VG_OK with *r filled; VG_EAGAIN (the child had ended before it
 * was sent the file: ready it again and retry), VG_EMALFORMED (the
 * child's answer was not one: err says how), VG_EIO (the child died
 * scanning: err says how) or VG_ELIMIT (no answer within twice the time
 * limit and 30 s); after any of them the child is stopped. Call
 * vg_scanchild_ready() first.
 */
enum vg_err vg_scanchild_scan(struct vg_scanchild *sc, int fd, uint64_t size,
			      const char *path, int hash,
			      struct vg_scanchild_result *r, char *err,
			      size_t errlen) VG_MUST_CHECK;

/* The process id of the running child, 0 when none. */
long vg_scanchild_pid(const struct vg_scanchild *sc);

/* How long, in microseconds, before vg_scanchild_ready() may start a
 * child again (0: now). */
int64_t vg_scanchild_wait_us(const struct vg_scanchild *sc);

/*
 * Scan the open file fd (size bytes at fstat) here with s, as a child
 * does and as the file scanner does without one: read it into *buf
 * (grown as needed: *cap; freed again past 8 MiB), scan it with path as
 * what rules see, and hash it when something matched or hash is set.
 * *r is filled (matches borrowed from s until its next scan); returns
 * r->status.
 */
enum vg_scanchild_status vg_scanchild_scan_fd(struct vg_yara_scanner *s, int fd,
					      uint64_t size, const char *path,
					      int hash, unsigned char **buf,
					      size_t *cap,
					      struct vg_scanchild_result *r);

/*
 * Decode a RESULT payload (p, len) answering a scan of size bytes against
 * set y into *r (matches stored in sc). Exact: every count within its
 * bound, rule and string indexes that exist in y and rise, offsets within
 * the bytes scanned, as many offsets as the count allows, a lower-case
 * hex SHA-256, no byte left over. VG_OK or VG_EMALFORMED (err: what).
 * For vg_scanchild_scan and the unit tests.
 */
enum vg_err vg_scanchild_decode_result(struct vg_scanchild *sc,
				       const struct vg_yara *y, uint64_t size,
				       const uint8_t *p, size_t len,
				       struct vg_scanchild_result *r, char *err,
				       size_t errlen) VG_MUST_CHECK;

/*
 * Encode a verdict (the child's side) into buf (room: VG_SB_MAX_PAYLOAD
 * bytes at least): matches as vg_yara_scan returned them against set y,
 * sha256 NULL or "" when not computed. The payload's length.
 */
size_t vg_scanchild_encode_result(uint8_t *buf, size_t room,
				  const struct vg_yara *y,
				  enum vg_scanchild_status status, uint64_t len,
				  const char *sha256,
				  const struct vg_file_match *m, unsigned n,
				  unsigned more);

/*
 * The child: serve the parent on fd VG_SCANCHILD_FD until it closes it.
 * Called by main() for VG_SCANCHILD_COMMAND; never returns.
 */
_Noreturn void vg_scanchild_main(int argc, char **argv);

#endif /* VG_SCANCHILD_H */
