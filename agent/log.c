/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled, rate-limited logging to stderr or journald; see log.h. */
#include "log.h"

/* Our own CODE_FILE/CODE_LINE/CODE_FUNC, not those of this file. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024
#define SECOND_US      1000000

static int log_level = LOG_INFO;
static const char *log_name = "vigil-agent";
static enum vg_log_target log_target = VG_LOG_STDERR;
static int64_t (*log_clock)(void) = vg_now_mono_us;

/* The global limit; under global_mu. */
static pthread_mutex_t global_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_limit = VG_LOG_GLOBAL_LIMIT;
static struct vg_ratelimit global_rl;

/*
 * The packet path's sandboxed child is forked while other threads may be
 * logging: hold the lock across fork() so the child never starts with it
 * taken by a thread it does not have.
 */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&global_mu);
}

static void
fork_done(void)
{
	pthread_mutex_unlock(&global_mu);
}

__attribute__((constructor)) static void
log_atfork(void)
{
	(void)pthread_atfork(fork_prepare, fork_done, fork_done);
}

void
vg_log_set_name(const char *name)
{
	log_name = name;
}

void
vg_log_set_level(int level)
{
	log_level = level;
}

int
vg_log_get_level(void)
{
	return log_level;
}

void
vg_log_set_clock(int64_t (*now_us)(void))
{
	log_clock = now_us ? now_us : vg_now_mono_us;
}

void
vg_log_set_global_limit(unsigned lines_per_s)
{
	pthread_mutex_lock(&global_mu);
	global_limit = lines_per_s;
	memset(&global_rl, 0, sizeof(global_rl));
	pthread_mutex_unlock(&global_mu);
}

int
vg_log_target_from_name(const char *name)
{
	if (strcmp(name, "stderr") == 0)
		return VG_LOG_STDERR;
	if (strcmp(name, "journald") == 0)
		return VG_LOG_JOURNALD;
	if (strcmp(name, "auto") == 0)
		return VG_LOG_AUTO;
	return -1;
}

int
vg_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	char *end;

	if (js == NULL || fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	/* "DEVICE:INODE", both decimal. */
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno || end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (errno || end == js || *end != '\0')
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	       (unsigned long long)sb.st_ino == ino;
}

void
vg_log_set_target(enum vg_log_target t)
{
	if (t == VG_LOG_AUTO)
		t = vg_log_stderr_is_journal() ? VG_LOG_JOURNALD
					       : VG_LOG_STDERR;
	log_target = t;
}

enum vg_log_target
vg_log_get_target(void)
{
	return log_target;
}

static const char *
level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* Write one formatted message to the target; no limit applies. */
static void
emit(const char *file, int line, const char *func, int level, const char *msg)
{
	char head[128];
	int n;

	if (log_target == VG_LOG_JOURNALD) {
		/* If the journal is gone, the line still goes somewhere. */
		if (sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
				    "SYSLOG_IDENTIFIER=%s", log_name,
				    "CODE_FILE=%s", file, "CODE_LINE=%d", line,
				    "CODE_FUNC=%s", func, NULL) >= 0)
			return;
	}
	/* "<N>" prefixes let journald keep the level (sd-daemon(3)). */
	n = snprintf(head, sizeof(head), "<%d>%s[%ld]: %s: ", level, log_name,
		     (long)getpid(), level_name(level));
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	/* One write per line, so threads do not interleave. */
	fprintf(stderr, "%s%s\n", isatty(STDERR_FILENO) ? head + 3 : head, msg);
}

/* The line that accounts for lines the global limit held back. */
static void
report_suppressed(unsigned n)
{
	char msg[80];

	snprintf(msg, sizeof(msg), "%u messages suppressed (log rate limit)",
		 n);
	emit(__FILE__, __LINE__, __func__, LOG_WARNING, msg);
}

/*
 * With global_mu held: when the global limit's second is over, start a
 * new one at now. Returns how many lines the old one suppressed.
 */
static unsigned
global_new_window(int64_t now)
{
	unsigned suppressed = 0;

	if (now - global_rl.window_start_us >= SECOND_US) {
		suppressed = global_rl.suppressed;
		global_rl.window_start_us = now;
		global_rl.count = 0;
		global_rl.suppressed = 0;
	}
	return suppressed;
}

/*
 * The global limit: 1 if a line may go out now. When a new second
 * starts after lines were suppressed, the count is written first.
 */
static int
global_ok(void)
{
	unsigned suppressed = 0;
	int64_t now = log_clock();
	int ok = 1;

	pthread_mutex_lock(&global_mu);
	if (global_limit) {
		suppressed = global_new_window(now);
		if (global_rl.count < global_limit) {
			global_rl.count++;
		} else {
			global_rl.suppressed++;
			ok = 0;
		}
	}
	pthread_mutex_unlock(&global_mu);
	if (suppressed)
		report_suppressed(suppressed);
	return ok;
}

void
vg_log_flush_suppressed(void)
{
	unsigned suppressed = 0;
	int64_t now = log_clock();

	pthread_mutex_lock(&global_mu);
	if (global_rl.suppressed)
		suppressed = global_new_window(now);
	pthread_mutex_unlock(&global_mu);
	if (suppressed)
		report_suppressed(suppressed);
}

void
vg_log_at(const char *file, int line, const char *func, int level,
	  const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES];
	va_list ap;

	if (level > log_level || !global_ok())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(file, line, func, level, msg);
}

int
vg_ratelimit_ok(struct vg_ratelimit *rl, unsigned burst, unsigned interval_s)
{
	int64_t now = log_clock();

	if (now - rl->window_start_us >= (int64_t)interval_s * SECOND_US) {
		if (rl->suppressed)
			vg_log(LOG_WARNING, "%u similar messages suppressed",
			       rl->suppressed);
		rl->window_start_us = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < burst) {
		rl->count++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
