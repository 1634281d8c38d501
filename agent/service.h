/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemons' side of the systemd service protocol (sd_notify(3)):
 * readiness, status lines, reload and stop notices, and the watchdog.
 *
 * vigil-agent run and vigil-collector run call these from their main
 * thread. Without $NOTIFY_SOCKET (not started by systemd as
 * Type=notify) every call does nothing. The watchdog is armed when
 * sd_watchdog_enabled(3) says so ($WATCHDOG_USEC, and $WATCHDOG_PID
 * unset or ours); a keep-alive is then due every half period, and the
 * caller sends it only while its health check passes, so a daemon whose
 * threads are stuck is restarted by systemd.
 */
#ifndef VG_SERVICE_H
#define VG_SERVICE_H

#include "common.h"

/* Read the environment (once, before threads start). */
void vg_service_init(void);

/* "READY=1" and a STATUS= line (printf format, may be NULL). */
void vg_service_ready(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" (with MONOTONIC_USEC=) before a reload; the caller sends
 * vg_service_ready() when it is over, whatever the outcome. */
void vg_service_reloading(void);

/* "STOPPING=1" once shutdown begins. */
void vg_service_stopping(void);

/* The watchdog period in microseconds, 0 when not armed. */
uint64_t vg_service_watchdog_usec(void);

/* 1 if a keep-alive is due now (half the period since the last one). */
int vg_service_watchdog_due(void);

/* Send "WATCHDOG=1" and restart the half period. */
void vg_service_watchdog_ping(void);

#endif /* VG_SERVICE_H */
