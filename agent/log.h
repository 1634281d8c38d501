/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr (journald picks it up under systemd), with syslog
 * levels and a simple per-call-site rate limit for messages that hostile
 * input could trigger.
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

/* Write one line "NAME[pid]: <level>: message". Thread-safe. */
void vg_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A rate limit: at most `burst` messages per `interval_s` seconds. */
struct vg_ratelimit {
	int64_t window_start_us;
	unsigned count;
	unsigned suppressed;
};

/* True if a message may be logged now; counts suppressed ones. */
int vg_ratelimit_ok(struct vg_ratelimit *rl, unsigned burst,
		    unsigned interval_s);

#endif /* VG_LOG_H */
