/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of the stats counters, and
 * the HTTP endpoint that serves it.
 *
 * The HTTP side is libmicrohttpd, which the collector already uses: the
 * request line and headers come from whoever can reach the port, and a
 * maintained parser with connection limits, timeouts and a memory cap per
 * connection is a smaller risk than a hand-written one. It runs its own
 * thread; a scrape only takes the stats lock for the time of a snapshot,
 * never one of the packet path's.
 */
#include "metrics.h"

#include "event.h"
#include "log.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONNECTIONS 8    /* scrapers at once */
#define CONN_TIMEOUT_S  10   /* idle connection */
#define CONN_MEMORY     8192 /* request headers of one connection */

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ------------------------------------------------------------------ */
/* Listen addresses                                                    */

enum vg_err
vg_listen_addr_parse(const char *s, struct vg_listen_addr *a, char *msg,
		     size_t msglen)
{
	char q[96], host[64], *end;
	const char *colon, *h = s;
	size_t hlen;
	unsigned long port;

	memset(a, 0, sizeof(*a));
	vg_escape(q, sizeof(q), s, strlen(s));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || port < 1 || port > 65535)
		goto bad;
	a->port = (unsigned)port;
	snprintf(a->host, sizeof(a->host), "%s", host);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (s[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
		a->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return VG_OK;
bad:
	vg_seterr(msg, msglen,
		  "expected HOST:PORT with an IP address (or localhost) and a "
		  "port 1..65535, e.g. 127.0.0.1:9477 or [::1]:9477, got "
		  "\"%s\"",
		  q);
	return VG_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Exposition                                                          */

enum mtype { M_COUNTER, M_GAUGE };

/*
 * One row per stats key: the metric it becomes, its labels ("a=x,b=y"
 * without quotes, or NULL) and how the value is scaled. Rows of one
 * metric are adjacent, so each metric's HELP and TYPE are written once,
 * before its samples. A key ending in '.' matches every key with that
 * prefix that no exact row names; the rest of the key is the value of the
 * row's last label, left empty ("reason=").
 */
enum scale { S_ONE, S_MS, S_KIB };

struct row {
	const char *key;
	const char *metric;
	enum mtype type;
	const char *label; /* "where=kernel", "reason=" (prefix rows), NULL */
	enum scale scale;
	const char *help;
};

#define C(k, m, l, h)                                                          \
	{                                                                      \
		k, "vigil_agent_" m, M_COUNTER, l, S_ONE, h                    \
	}
#define G(k, m, l, h)                                                          \
	{                                                                      \
		k, "vigil_agent_" m, M_GAUGE, l, S_ONE, h                      \
	}

static const struct row rows[] = {
    C("capture.packets", "packets_total", NULL,
      "Packets read from the capture sources."),
    C("capture.bytes", "bytes_total", NULL,
      "Bytes of the packets read from the capture sources."),
    C("capture.kernel_packets", "kernel_packets_total", NULL,
      "Packets the kernel saw on the capture sockets."),
    C("capture.kernel_drops", "drops_total", "where=kernel",
      "Packets lost, by where: kernel buffer, interface, worker ring."),
    C("capture.if_drops", "drops_total", "where=interface", NULL),
    C("capture.ring_drops", "drops_total", "where=ring", NULL),
    C("capture.oversize", "oversize_packets_total", NULL,
      "Frames too large for a worker ring."),
    C("capture.read_errors", "read_errors_total", NULL,
      "Capture read errors (truncated files, failing interfaces)."),
    C("iface.packets.", "interface_packets_total",
      "interface=", "Packets read, by capture interface."),
    C("iface.kernel_drops.", "interface_drops_total", "where=kernel,interface=",
      "Packets lost, by capture interface and where."),
    C("iface.if_drops.", "interface_drops_total",
      "where=interface,interface=", NULL),
    C("iface.ring_drops.", "interface_drops_total",
      "where=ring,interface=", NULL),
    C("decoder.pkts", "decoded_packets_total", NULL,
      "Packets decoded to an IP header."),
    C("decoder.invalid", "invalid_packets_total", NULL,
      "Packets refused by the decoder as malformed."),
    C("decoder.", "decoder_results_total",
      "reason=", "Packets by decoder result."),
    G("flow.active", "flows_active", NULL, "Flows in the flow table now."),
    C("flow.total", "flows_total", NULL, "Flows created."),
    C("flow.ended", "flows_ended_total", NULL, "Flows ended."),
    C("flow.timeout_idle", "flow_timeouts_total", "kind=idle",
      "Flows ended by a timeout, by kind."),
    C("flow.timeout_active", "flow_timeouts_total", "kind=active", NULL),
    C("flow.evicted", "flows_evicted_total", NULL,
      "Flows evicted at flows.max."),
    C("flow.alloc_failed", "flow_alloc_failures_total", NULL,
      "Flows not tracked for lack of memory."),
    C("flow.frag_matched", "fragments_total", "result=matched",
      "IP fragments, by whether their flow was found."),
    C("flow.frag_orphan", "fragments_total", "result=orphan", NULL),
    C("ndpi.dpi_packets", "dpi_packets_total", NULL, "Packets given to nDPI."),
    C("ndpi.idle_giveups", "dpi_idle_giveups_total", NULL,
      "Flows whose classification gave up after dpi_idle_timeout."),
    C("ndpi.detected", "dpi_flows_total", "result=detected",
      "Flows classified by nDPI, by result."),
    C("ndpi.guessed", "dpi_flows_total", "result=guessed", NULL),
    C("ndpi.unknown", "dpi_flows_total", "result=unknown", NULL),
    C("ndpi.alloc_failed", "dpi_alloc_failures_total", NULL,
      "Flows not classified for lack of memory."),
    G("detect.rules", "rules_enabled", "kind=network",
      "Rules in force, by rule-set kind."),
    G("detect.lists", "ioc_lists", NULL, "IoC lists in force."),
    G("detect.list_entries", "ioc_entries", NULL,
      "Entries of the IoC lists in force."),
    C("detect.evaluated", "rule_evaluations_total", NULL, "Rule evaluations."),
    C("detect.matched", "rule_matches_total", NULL, "Rule matches."),
    C("detect.alerts", "alerts_total", "source=network",
      "Alerts raised, by source (network rules, file scanner)."),
    C("files.alerts", "alerts_total", "source=file", NULL),
    C("detect.alerts_severity_1", "alerts_by_severity_total", "severity=high",
      "Network alert events, by rule severity."),
    C("detect.alerts_severity_2", "alerts_by_severity_total", "severity=medium",
      NULL),
    C("detect.alerts_severity_3", "alerts_by_severity_total", "severity=low",
      NULL),
    C("detect.alerts_severity_4", "alerts_by_severity_total", "severity=info",
      NULL),
    C("detect.suppressed", "alerts_suppressed_total", NULL,
      "Alerts suppressed by thresholds."),
    C("detect.regex_errors", "regex_errors_total", NULL,
      "Regular expression match errors."),
    G("detect.state_entries", "rule_state_entries", NULL,
      "Entries of stateful-rule state."),
    C("detect.state_evicted", "rule_state_evicted_total", NULL,
      "Stateful-rule entries evicted at detection.state_max."),
    C("detect.state_alloc_failed", "rule_state_alloc_failures_total", NULL,
      "Stateful-rule entries not made for lack of memory."),
    C("detect.reloads", "reloads_total", "result=ok",
      "Rule reloads, by result."),
    C("detect.reload_failures", "reloads_total", "result=failed", NULL),
    C("geoip.cache_hits", "geoip_lookups_total", "result=hit",
      "GeoIP cache lookups, by result."),
    C("geoip.cache_misses", "geoip_lookups_total", "result=miss", NULL),
    C("output.events", "events_total", NULL, "Events written out."),
    C("output.dropped", "events_dropped_total", NULL,
      "Best-effort events dropped (queue full)."),
    G("output.queued", "events_queued", NULL,
      "Events waiting for the publisher."),
    C("output.write_errors", "output_write_errors_total", NULL,
      "Event file write errors."),
    C("output.encode_errors", "event_encode_errors_total", NULL,
      "Events that could not be encoded (too large, no memory)."),
    C("output.file_rotations", "output_file_rotations_total", NULL,
      "Event file rotations."),
    C("output.syslog_sent", "syslog_messages_total", "result=sent",
      "Syslog messages, by result."),
    C("output.syslog_errors", "syslog_messages_total", "result=error", NULL),
    G("output.redis.connected", "redis_connected", NULL,
      "1 when connected to Redis."),
    C("output.redis.sent", "redis_sent_total", NULL,
      "Events Redis acknowledged."),
    C("output.redis.reply_errors", "publish_errors_total", "kind=reply",
      "Publishing errors, by kind: error replies, failed connects."),
    C("output.redis.connect_errors", "publish_errors_total", "kind=connect",
      NULL),
    C("output.redis.connects", "redis_connects_total", NULL,
      "Connections made to Redis."),
    C("output.redis.dropped", "redis_dropped_total", NULL,
      "Best-effort events not sent to Redis."),
    G("output.redis.queued", "redis_queued", NULL,
      "Events waiting to be sent to Redis."),
    C("spool.spooled", "spooled_total", NULL,
      "Alerts and fileinfo events written to the spool."),
    C("spool.full_drops", "spool_full_drops_total", NULL,
      "Events refused because the spool was full."),
    C("spool.errors", "spool_errors_total", NULL, "Spool I/O errors."),
    G("spool.pending", "spool_depth_events", NULL,
      "Events in the spool not yet acknowledged by Redis."),
    G("spool.bytes", "spool_bytes", NULL, "Bytes the spool holds."),
    C("spool.torn", "spool_torn_records_total", NULL,
      "Torn records skipped when the spool was read back."),
    {"agent.cpu_user_ms", "vigil_agent_cpu_seconds_total", M_COUNTER,
     "mode=user", S_MS, "CPU time used, by mode."},
    {"agent.cpu_sys_ms", "vigil_agent_cpu_seconds_total", M_COUNTER,
     "mode=system", S_MS, NULL},
    {"agent.rss_kb", "vigil_agent_resident_memory_bytes", M_GAUGE, NULL, S_KIB,
     "Resident memory."},
    G("agent.rules_generation", "rules_version", "kind=network",
      "Version of the rule set in force, by kind (increases with each "
      "reload)."),
    G("files.rules_version", "rules_version", "kind=yara", NULL),
    C("files.scanned", "files_scanned_total", NULL, "Files scanned."),
    C("files.bytes", "files_scanned_bytes_total", NULL,
      "Bytes of the files scanned."),
    C("files.matched", "files_matched_total", NULL,
      "Files that matched a YARA rule."),
    C("files.hash_listed", "files_hash_listed_total", NULL,
      "Files whose SHA-256 is in an IoC list."),
    C("files.cached", "files_cached_total", NULL,
      "Files not scanned again (verdict cache)."),
    C("files.skipped_size", "files_skipped_total", "reason=size",
      "Files not scanned, by reason."),
    C("files.skipped_excluded", "files_skipped_total", "reason=excluded", NULL),
    C("files.skipped_special", "files_skipped_total", "reason=special", NULL),
    C("files.vanished", "files_skipped_total", "reason=vanished", NULL),
    C("files.errors", "file_scan_errors_total", NULL, "File scan errors."),
    C("files.timeouts", "file_scan_timeouts_total", NULL,
      "Scans stopped at files.scan_timeout."),
    C("files.quarantined", "files_quarantined_total", NULL,
      "Files moved to the quarantine."),
    C("files.quarantine_errors", "quarantine_errors_total", NULL,
      "Files that could not be quarantined."),
    C("files.event_errors", "file_event_errors_total", NULL,
      "File events that could not be encoded."),
    G("files.watched_dirs", "watched_dirs", NULL, "Folders watched now."),
    G("files.watch_limit", "watch_limit_dirs", NULL,
      "Folders left to the schedule at files.max_watches."),
    C("files.overflows", "watch_overflows_total", NULL,
      "inotify queue overflows."),
    C("files.full_scans", "full_scans_total", NULL,
      "Full scans of the watched folders."),
    G("files.queued", "files_queued", NULL, "Files waiting to be scanned."),
    C("files.sandbox_restarts", "scanner_child_restarts_total", NULL,
      "YARA scanner children started again after one ended, was killed or "
      "failed."),
    C("files.sandbox_malformed", "scanner_child_malformed_total", NULL,
      "Answers of a scanner child refused."),
    C("sandbox.restarts", "packet_child_restarts_total", NULL,
      "Packet sandbox children started again after one ended, was killed or "
      "failed."),
    C("sandbox.malformed", "packet_child_malformed_total", NULL,
      "Messages of a packet sandbox child refused."),
    G("sandbox.last_signal", "packet_child_last_signal", NULL,
      "The signal that ended the last packet sandbox child (0: none)."),
    G("sandbox.child_pid", "packet_child_pid", NULL,
      "Process id of the packet sandbox child (0: none running)."),
    G("rules.bundle_version", "rule_bundle_version", NULL,
      "Version of the signed rule bundle in force (0: none)."),
    C("rules.bundle_applied", "rule_bundles_total", "result=applied",
      "Signed rule bundles received, by result: put in force, refused."),
    C("rules.bundle_refused", "rule_bundles_total", "result=refused", NULL),
    C("rules.bundle_polls", "rule_bundle_polls_total", NULL,
      "Polls of Redis for a newer rule bundle."),
    C("rules.bundle_poll_errors", "rule_bundle_poll_errors_total", NULL,
      "Polls for a rule bundle that failed."),
};

#undef C
#undef G

/* Row r names key k (exactly, or as a prefix row). */
static int
row_matches(const struct row *r, const char *k)
{
	size_t n = strlen(r->key);

	if (n > 0 && r->key[n - 1] == '.')
		return strncmp(k, r->key, n) == 0 && k[n] != '\0';
	return strcmp(k, r->key) == 0;
}

/* The row of key k: an exact row first, then a prefix row; NULL: none. */
static const struct row *
row_of(const char *k)
{
	const struct row *prefix = NULL;
	size_t i, n;

	for (i = 0; i < VG_ARRAY_LEN(rows); i++) {
		n = strlen(rows[i].key);
		if (n > 0 && rows[i].key[n - 1] == '.') {
			if (prefix == NULL && row_matches(&rows[i], k))
				prefix = &rows[i];
		} else if (strcmp(rows[i].key, k) == 0) {
			return &rows[i];
		}
	}
	return prefix;
}

/* A label value, escaped as the format says (\\, \", \n). */
static enum vg_err
put_label_value(struct vg_buf *out, const char *v)
{
	enum vg_err err = VG_OK;

	for (; *v && err == VG_OK; v++) {
		if (*v == '\\')
			err = vg_buf_puts(out, "\\\\");
		else if (*v == '"')
			err = vg_buf_puts(out, "\\\"");
		else if (*v == '\n')
			err = vg_buf_puts(out, "\\n");
		else
			err = vg_buf_putc(out, *v);
	}
	return err;
}

/* {a="x",b="y"} for row r's labels, for key k. */
static enum vg_err
put_labels(struct vg_buf *out, const struct row *r, const char *k)
{
	const char *p = r->label, *eq, *end;
	enum vg_err err = vg_buf_putc(out, '{');
	char v[128];

	while (err == VG_OK && p != NULL && *p) {
		eq = strchr(p, '=');
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if (eq == NULL || eq > end)
			return VG_EINVAL; /* a bad row: caught by the tests */
		if (p != r->label)
			err = vg_buf_putc(out, ',');
		if (err == VG_OK)
			err = vg_buf_printf(out, "%.*s=\"", (int)(eq - p), p);
		/* An empty value is the rest of the key (prefix rows). */
		if (eq + 1 == end)
			snprintf(v, sizeof(v), "%s", k + strlen(r->key));
		else
			snprintf(v, sizeof(v), "%.*s", (int)(end - eq - 1),
				 eq + 1);
		if (err == VG_OK)
			err = put_label_value(out, v);
		if (err == VG_OK)
			err = vg_buf_putc(out, '"');
		p = *end ? end + 1 : end;
	}
	if (err == VG_OK)
		err = vg_buf_putc(out, '}');
	return err;
}

/* metric{labels} value\n for kv under row r. */
static enum vg_err
put_sample(struct vg_buf *out, const struct row *r, const struct vg_stat_kv *kv)
{
	enum vg_err err;

	err = vg_buf_puts(out, r->metric);
	if (err == VG_OK && r->label != NULL)
		err = put_labels(out, r, kv->key);
	if (err != VG_OK)
		return err;
	switch (r->scale) {
	case S_MS:
		return vg_buf_printf(out, " %" PRIu64 ".%03u\n",
				     kv->value / 1000,
				     (unsigned)(kv->value % 1000));
	case S_KIB:
		return vg_buf_printf(out, " %" PRIu64 "\n",
				     kv->value > UINT64_MAX / 1024
					 ? UINT64_MAX
					 : kv->value * 1024);
	case S_ONE:
		break;
	}
	return vg_buf_printf(out, " %" PRIu64 "\n", kv->value);
}

static enum vg_err
put_header(struct vg_buf *out, const char *metric, const char *help,
	   const char *type)
{
	return vg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", metric, help,
			     metric, type);
}

/* A key no row knows: vigil_agent_stat_<key, '.' and others as '_'>. */
static enum vg_err
put_unknown(struct vg_buf *out, const struct vg_stat_kv *kv)
{
	char name[128], ek[96];
	size_t i, n;
	const char *p;

	n = (size_t)snprintf(name, sizeof(name), "vigil_agent_stat_");
	for (p = kv->key; *p && n + 1 < sizeof(name); p++, n++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9');

		name[n] = ok ? *p : '_';
	}
	name[n] = '\0';
	vg_escape(ek, sizeof(ek), kv->key, strlen(kv->key));
	/* HELP text: backslashes and newlines would need escaping; the
	 * escaper leaves neither. */
	for (i = 0; ek[i]; i++)
		if (ek[i] == '\\')
			ek[i] = '/';
	if (vg_buf_printf(out,
			  "# HELP %s The stats counter %s.\n# TYPE %s "
			  "untyped\n%s %" PRIu64 "\n",
			  name, ek, name, name, kv->value) != VG_OK)
		return VG_ELIMIT;
	return VG_OK;
}

enum vg_err
vg_metrics_format(struct vg_buf *out, const struct vg_stat_kv *kv, size_t n,
		  double uptime_s, const char *version)
{
	const char *help = NULL, *current = NULL;
	enum vg_err err = VG_OK;
	size_t i, j;

	for (i = 0; i < VG_ARRAY_LEN(rows) && err == VG_OK; i++) {
		const struct row *r = &rows[i];

		/* The HELP of a metric is on its first row. */
		if (r->help != NULL)
			help = r->help;
		for (j = 0; j < n && err == VG_OK; j++) {
			if (!row_matches(r, kv[j].key) ||
			    row_of(kv[j].key) != r)
				continue;
			if (current == NULL || strcmp(current, r->metric)) {
				current = r->metric;
				err = put_header(
				    out, r->metric, help,
				    r->type == M_COUNTER ? "counter" : "gauge");
			}
			if (err == VG_OK)
				err = put_sample(out, r, &kv[j]);
		}
	}
	for (j = 0; j < n && err == VG_OK; j++)
		if (row_of(kv[j].key) == NULL)
			err = put_unknown(out, &kv[j]);
	if (err == VG_OK)
		err =
		    vg_buf_puts(out, "# HELP vigil_agent_up 1 while the agent "
				     "serves metrics.\n# TYPE vigil_agent_up "
				     "gauge\nvigil_agent_up 1\n");
	if (err == VG_OK)
		err = put_header(out, "vigil_agent_build_info",
				 "The agent's version (the value is 1).",
				 "gauge");
	if (err == VG_OK)
		err = vg_buf_puts(out, "vigil_agent_build_info{version=\"");
	if (err == VG_OK)
		err = put_label_value(out, version);
	if (err == VG_OK)
		err = vg_buf_puts(out, "\"} 1\n");
	if (err == VG_OK)
		err = put_header(out, "vigil_agent_uptime_seconds",
				 "Seconds since the agent started.", "gauge");
	if (err == VG_OK)
		err = vg_buf_printf(out, "vigil_agent_uptime_seconds %.3f\n",
				    uptime_s > 0 ? uptime_s : 0.0);
	return err;
}

/* ------------------------------------------------------------------ */
/* The endpoint                                                        */

struct vg_metrics {
	struct MHD_Daemon *d;
	vg_stats_snapshot_fn fn;
	void *arg;
	const char *version;
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
      const char *body, size_t len, int allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size,
       void **state)
{
	static const char not_found[] = "not found: try /metrics\n";
	static const char not_allowed[] = "only GET\n";
	struct vg_metrics *m = cls;
	struct vg_stat_kv kv[VG_STATS_SNAPSHOT_ROOM];
	struct vg_buf b;
	double uptime = 0;
	size_t n;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	/* The first call is for the headers alone. A body (which no GET
	 * has) is read and thrown away, within the connection's timeout;
	 * the answer comes after it. */
	if (*state == NULL) {
		*state = m;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     not_allowed, sizeof(not_allowed) - 1, 1);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     sizeof(not_found) - 1, 0);
	n = m->fn(m->arg, kv, VG_ARRAY_LEN(kv), &uptime);
	vg_buf_init(&b, VG_METRICS_MAX_BYTES);
	if (vg_metrics_format(&b, kv, n, uptime, m->version) != VG_OK) {
		vg_buf_fini(&b);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     "", 0, 0);
	}
	ret =
	    reply(c, MHD_HTTP_OK, CONTENT_TYPE, b.data ? b.data : "", b.len, 0);
	vg_buf_fini(&b);
	return ret;
}

enum vg_err
vg_metrics_open(struct vg_metrics **out, const char *addr, int allow_remote,
		vg_stats_snapshot_fn fn, void *arg, const char *version,
		char *err, size_t errlen)
{
	struct vg_listen_addr a;
	struct vg_metrics *m = NULL;
	char msg[256];
	int fd = -1, one = 1;

	*out = NULL;
	if (vg_listen_addr_parse(addr, &a, msg, sizeof(msg)) != VG_OK) {
		vg_seterr(err, errlen, "metrics.listen: %s", msg);
		return VG_EINVAL;
	}
	if (!a.loopback && !allow_remote) {
		vg_seterr(err, errlen,
			  "metrics.listen: %s is not a loopback address",
			  a.host);
		return VG_EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		vg_seterr(err, errlen, "metrics: out of memory");
		return VG_ENOMEM;
	}
	m->fn = fn;
	m->arg = arg;
	m->version = version;
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (a.ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) !=
		 0) ||
	    bind(fd, (struct sockaddr *)&a.ss, a.len) != 0 ||
	    listen(fd, 16) != 0) {
		vg_seterr(err, errlen, "metrics.listen %s: %s", addr,
			  strerror(errno));
		goto fail;
	}
	m->d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
	    handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_END);
	if (m->d == NULL) {
		vg_seterr(err, errlen, "metrics: libmicrohttpd did not start");
		goto fail;
	}
	vg_log(LOG_INFO, "metrics: serving http://%s/metrics", addr);
	*out = m;
	return VG_OK;
fail:
	if (fd >= 0)
		close(fd);
	free(m);
	return VG_EIO;
}

void
vg_metrics_close(struct vg_metrics *m)
{
	MHD_socket fd;

	if (m == NULL)
		return;
	/* The listening socket was ours: MHD does not close it. */
	fd = MHD_quiesce_daemon(m->d);
	MHD_stop_daemon(m->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(m);
}
