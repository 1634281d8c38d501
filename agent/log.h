/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging with syslog levels to stderr or to journald (sd_journal_send,
 * with PRIORITY, SYSLOG_IDENTIFIER and the call site), a per-call-site
 * rate limit for messages that hostile input could trigger, and one
 * global rate limit over all lines, so that no flood of any kind can fill
 * the disk or drown the journal.
 *
 * Both daemons (vigil-agent, vigil-collector) and the command-line tools
 * log through here; the target is set once from log.target at start.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include "common.h"

#include <syslog.h>

/* Messages above this level (LOG_ERR..LOG_DEBUG) are dropped. */
void vg_log_set_level(int level);
int vg_log_get_level(void);

/* The program name of log lines (a static string; default
 * "vigil-agent"). Call before any thread logs. */
void vg_log_set_name(const char *name);

/* Where lines go (log.target). */
enum vg_log_target {
	VG_LOG_STDERR,   /* "stderr": one line per message */
	VG_LOG_JOURNALD, /* "journald": structured, via sd_journal_send */
	VG_LOG_AUTO,     /* "auto": journald when stderr is the journal */
};

/* The target named name ("stderr", "journald", "auto"), or -1. */
int vg_log_target_from_name(const char *name);

/*
 * Log to target t from now on; VG_LOG_AUTO is resolved here, once, with
 * vg_log_stderr_is_journal(). Call before any thread logs.
 */
void vg_log_set_target(enum vg_log_target t);

/* The target in force: VG_LOG_STDERR or VG_LOG_JOURNALD. */
enum vg_log_target vg_log_get_target(void);

/*
 * 1 if stderr is connected to the journal: $JOURNAL_STREAM (set by
 * systemd as "DEVICE:INODE") names the device and inode of fd 2, as
 * systemd.exec(5) documents. 0 otherwise (unset, malformed, or another
 * file, e.g. after a redirection by a child of the service).
 */
int vg_log_stderr_is_journal(void);

/*
 * The global rate limit: at most lines_per_s lines in each second, over
 * all call sites and threads; 0 turns it off. Default
 * VG_LOG_GLOBAL_LIMIT. Lines beyond it are counted, and the next line
 * after the second ends is preceded by "K messages suppressed (log rate
 * limit)". Call before any thread logs.
 */
#define VG_LOG_GLOBAL_LIMIT 200
void vg_log_set_global_limit(unsigned lines_per_s);

/* Report suppressed lines now if their second is over (a main-loop timer
 * calls this, so a flood that stops is still accounted for). */
void vg_log_flush_suppressed(void);

/* The clock of both rate limits, in microseconds (tests); NULL: the
 * monotonic clock. */
void vg_log_set_clock(int64_t (*now_us)(void));

/*
 * Log one message at level: "NAME[pid]: <level>: message" on stderr, or
 * a journal entry with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE,
 * CODE_LINE and CODE_FUNC. At most 1023 bytes of message. Thread-safe.
 */
#define vg_log(level, ...)                                                     \
	vg_log_at(__FILE__, __LINE__, __func__, level, __VA_ARGS__)
void vg_log_at(const char *file, int line, const char *func, int level,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A rate limit: at most `burst` messages per `interval_s` seconds. */
struct vg_ratelimit {
	int64_t window_start_us;
	unsigned count;
	unsigned suppressed;
};

/* True if a message may be logged now; counts suppressed ones and logs
 * "N similar messages suppressed" when a new window starts. Not
 * thread-safe: one struct per call site and thread, or a lock. */
int vg_ratelimit_ok(struct vg_ratelimit *rl, unsigned burst,
		    unsigned interval_s);

#endif /* VG_LOG_H */
