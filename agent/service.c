/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sd_notify(3) for both daemons; see service.h. Only this file and
 * log.c (the journal) include libsystemd.
 */
#include "service.h"

#include "log.h"

#include <systemd/sd-daemon.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MAX 200 /* a STATUS= line is for a terminal's width */

static int active;
static uint64_t watchdog_usec;
static int64_t last_ping_us;

void
vg_service_init(void)
{
	uint64_t usec = 0;

	active = getenv("NOTIFY_SOCKET") != NULL;
	watchdog_usec = 0;
	/* > 0: armed for this process (WATCHDOG_PID unset or ours). */
	if (active && sd_watchdog_enabled(0, &usec) > 0)
		watchdog_usec = usec;
	last_ping_us = vg_now_mono_us();
}

static void
notify(const char *state)
{
	int rc;

	if (!active)
		return;
	rc = sd_notify(0, state);
	if (rc < 0) {
		static struct vg_ratelimit rl;

		if (vg_ratelimit_ok(&rl, 1, 60))
			vg_log(LOG_WARNING, "sd_notify: %s", strerror(-rc));
	}
}

/* Send prefix followed by "STATUS=<fmt...>" (one line). */
static void notify_status(const char *prefix, const char *fmt, va_list ap)
    VG_PRINTF(2, 0);

static void
notify_status(const char *prefix, const char *fmt, va_list ap)
{
	char msg[STATUS_MAX], state[STATUS_MAX + 64];
	size_t i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A newline would start another assignment. */
	for (i = 0; msg[i]; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	snprintf(state, sizeof(state), "%sSTATUS=%s", prefix, msg);
	notify(state);
}

void
vg_service_ready(const char *fmt, ...)
{
	va_list ap;

	if (!active)
		return;
	if (fmt == NULL) {
		notify("READY=1");
		return;
	}
	va_start(ap, fmt);
	notify_status("READY=1\n", fmt, ap);
	va_end(ap);
}

void
vg_service_reloading(void)
{
	char state[80];

	if (!active)
		return;
	/* Type=notify-reload (systemd 253) wants the time of the start. */
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%" PRId64,
		 vg_now_mono_us());
	notify(state);
}

void
vg_service_stopping(void)
{
	notify("STOPPING=1\nSTATUS=stopping");
}

uint64_t
vg_service_watchdog_usec(void)
{
	return watchdog_usec;
}

int
vg_service_watchdog_due(void)
{
	return watchdog_usec &&
	       vg_now_mono_us() - last_ping_us >= (int64_t)(watchdog_usec / 2);
}

void
vg_service_watchdog_ping(void)
{
	if (!watchdog_usec)
		return;
	last_ping_us = vg_now_mono_us();
	notify("WATCHDOG=1");
}
