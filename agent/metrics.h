/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics: the counters of the stats event, in the text
 * exposition format 0.0.4, on a local HTTP endpoint (GET /metrics).
 *
 * Nothing is counted here: a scrape takes the same snapshot a stats event
 * is made of (vg_engine_stats) and renames it, so a scrape, a stats event
 * and `vigil-agent status` can never disagree about what a counter means.
 * The endpoint is off by default (metrics.listen) and serves loopback
 * addresses only unless metrics.allow_remote says otherwise.
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include "buf.h"
#include "common.h"

#include <sys/socket.h>

struct vg_stat_kv;

/* Counters one snapshot may hold (what a snapshot fn is given room for). */
#define VG_STATS_SNAPSHOT_ROOM 320

/* Largest page a scrape may produce (a hard cap: the stats snapshot is
 * bounded, so this is never reached in practice). */
#define VG_METRICS_MAX_BYTES (256 * 1024)

/*
 * A snapshot of the counters: fill at most room entries of kv (keys
 * borrowed, valid while the source lives), set *uptime_s, return how many.
 * Called from the serving thread; it must not block for long.
 */
typedef size_t (*vg_stats_snapshot_fn)(void *arg, struct vg_stat_kv *kv,
				       size_t room, double *uptime_s);

/* A parsed listen address (metrics.listen). */
struct vg_listen_addr {
	struct sockaddr_storage ss; /* address and port */
	socklen_t len;              /* of ss in use */
	char host[64];              /* as written, without brackets */
	unsigned port;              /* 1..65535 */
	int loopback;               /* 127.0.0.0/8, ::1 or "localhost" */
};

/*
 * Parse "HOST:PORT" into *a: HOST is an IPv4 address, an IPv6 address in
 * brackets ("[::1]:9477") or "localhost" (127.0.0.1); PORT is 1..65535.
 * No name lookups. VG_OK, or VG_EINVAL with a message in msg (msglen
 * bytes) that quotes s escaped.
 */
enum vg_err vg_listen_addr_parse(const char *s, struct vg_listen_addr *a,
				 char *msg, size_t msglen) VG_MUST_CHECK;

/*
 * Append the exposition of the n counters of kv (as a stats event holds
 * them) to out: every metric once with "# HELP" and "# TYPE", counters
 * named *_total, then vigil_agent_up, vigil_agent_build_info{version} and
 * vigil_agent_uptime_seconds. Keys no table row knows are still exported
 * (vigil_agent_stat_<key>, untyped), so a new counter is never lost.
 * VG_OK, VG_ENOMEM or VG_ELIMIT (out's cap; out is then partial).
 */
enum vg_err vg_metrics_format(struct vg_buf *out, const struct vg_stat_kv *kv,
			      size_t n, double uptime_s,
			      const char *version) VG_MUST_CHECK;

struct vg_metrics;

/*
 * Listen on addr (a metrics.listen value) and serve GET /metrics from a
 * thread of libmicrohttpd's, each scrape calling fn(arg, ...) for a fresh
 * snapshot. version is borrowed for the endpoint's life. Refuses an
 * address other than loopback unless allow_remote. VG_OK with *out owned
 * (vg_metrics_close), or VG_EINVAL / VG_EIO / VG_ENOMEM with err set.
 */
enum vg_err vg_metrics_open(struct vg_metrics **out, const char *addr,
			    int allow_remote, vg_stats_snapshot_fn fn,
			    void *arg, const char *version, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* Stop serving (waits for a scrape in progress) and free. Accepts NULL. */
void vg_metrics_close(struct vg_metrics *m);

#endif /* VG_METRICS_H */
