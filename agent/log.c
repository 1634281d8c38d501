/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled, rate-limited logging to stderr; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_level = LOG_INFO;
static const char *log_name = "vigil-agent";

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

void
vg_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	/* "<N>" prefixes let journald keep the level (sd-daemon(3)). */
	n = snprintf(line, sizeof(line), "<%d>%s[%ld]: %s: ", level, log_name,
		     (long)getpid(), level_name(level));
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so threads do not interleave. */
	fprintf(stderr, "%s\n", isatty(STDERR_FILENO) ? line + 3 : line);
}

int
vg_ratelimit_ok(struct vg_ratelimit *rl, unsigned burst, unsigned interval_s)
{
	int64_t now = vg_now_mono_us();

	if (now - rl->window_start_us >= (int64_t)interval_s * 1000000) {
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
