/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The EVE JSON encoder: one event, one line of JSON, compatible with
 * Suricata's EVE format, plus Community ID v1 and UUIDv7 event ids.
 *
 * Workers and the publisher hand plain records (struct vg_flow_info,
 * struct vg_stat_kv) to these functions; the encoder writes the JSON into a
 * struct vg_buf. It is hand-written because it runs once per flow on the
 * hot path. Every string from the network is escaped, and bytes that are
 * not valid UTF-8 become U+FFFD, so the output is always valid JSON.
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include "buf.h"
#include "common.h"
#include "geoip.h"

/* Who and where: fields every event carries. All strings borrowed. */
struct vg_event_ctx {
	const char *host;     /* "host" (the sensor's host name) */
	const char *agent_id; /* "vigil.agent_id" */
	const char *agency;   /* "vigil.agency" (may be NULL: omitted) */
	const char *version;  /* "vigil.agent_version" */
};

#define VG_MAX_RISKS 64

/*
 * One finished (or still open) flow, as the flow module knows it.
 * Strings are borrowed, NUL-terminated, may hold any bytes, and are omitted
 * from the JSON when NULL or empty. Addresses: IPv4 in the first 4 bytes.
 * "src" is the side that sent the first packet (the client).
 */
struct vg_flow_info {
	uint64_t flow_id;   /* EVE "flow_id" (printed as a number) */
	int64_t start_us;   /* first packet, microseconds since the epoch */
	int64_t end_us;     /* last packet */
	uint8_t ip_version; /* 4 or 6 */
	uint8_t proto;      /* IP protocol number */
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint16_t src_port; /* TCP/UDP only */
	uint16_t dst_port;
	uint8_t icmp_type; /* ICMP/ICMPv6: type and code of the first
			      packet, for Community ID and EVE */
	uint8_t icmp_code;
	uint16_t vlan;        /* 0: none */
	uint8_t tcp_flags_ts; /* OR of TCP flags, client to server */
	uint8_t tcp_flags_tc;
	uint64_t pkts_toserver, pkts_toclient;
	uint64_t bytes_toserver, bytes_toclient;
	const char *reason; /* "timeout", "forced", "shutdown" */
	const char *state;  /* "new", "established", "closed" */
	uint8_t tunneled;   /* inner flow of a tunnel (enum vg_tunnel) */
	uint8_t alerted;    /* flow.alerted */

	/* nDPI results */
	const char *app_proto;       /* EVE "app_proto", lower-case: "tls" */
	const char *ndpi_protocol;   /* ndpi_protocol2name(): "TLS.Google" */
	const char *ndpi_category;   /* "Web" */
	const char *ndpi_confidence; /* "DPI", "Match by port", ... */
	const char *risks[VG_MAX_RISKS]; /* names, static strings */
	unsigned n_risks;
	unsigned risk_score;
	/* The same as nDPI ids, for detection rules (not encoded) */
	uint16_t master_id, app_id, category_id;
	uint8_t confidence_id;
	uint64_t risk_mask;

	/* Application metadata (all optional) */
	const char *tls_sni;
	const char *tls_version; /* "TLSv1.2" */
	const char *tls_ja3;     /* JA3 client hash (hex) */
	const char *tls_ja3s;    /* JA3S server hash (hex) */
	const char *tls_subject;
	const char *tls_issuer;
	const char *tls_alpn;
	int64_t tls_notbefore; /* seconds since the epoch, 0: unknown */
	int64_t tls_notafter;
	const char *http_host;
	const char *http_url;
	const char *http_user_agent;
	const char *http_method;
	unsigned http_status; /* 0: unknown */
	const char *http_content_type;
	const char *dns_query;
	unsigned dns_qtype; /* 0: unknown */
	int dns_rcode;      /* -1: unknown */
	const char *ssh_client;
	const char *ssh_server;
};

/* What an alert adds to its flow's fields. Strings borrowed. */
struct vg_alert_info {
	uint32_t signature_id;
	uint32_t rev;
	const char *signature;
	const char *category;
	unsigned severity;         /* 1 high .. 4 info */
	const char *severity_name; /* "critical": alert.metadata */
	char *const *mitre;        /* alert.metadata.mitre_technique_id */
	unsigned n_mitre;
	char *const *tags;
	unsigned n_tags;
	char *const *refs;
	unsigned n_refs;
	const char *action;           /* alert.action; NULL: "allowed" */
	uint64_t count;               /* vigil.count: 1 + hits suppressed */
	const struct vg_geo *geo_src; /* "geoip" object; NULL: none */
	const struct vg_geo *geo_dst;
};

/*
 * Files: what the file scanner reports. A rule (struct vg_file_rule) is
 * described once, when its set is loaded; a scan adds the matches.
 * Strings are borrowed and NUL-terminated.
 */

/* One meta value of a YARA rule. */
enum vg_meta_type { VG_META_STR, VG_META_INT, VG_META_BOOL };

struct vg_file_meta {
	const char *key;
	enum vg_meta_type type;
	const char *str; /* VG_META_STR */
	int64_t num;     /* VG_META_INT, VG_META_BOOL (0 or 1) */
};

struct vg_file_rule {
	const char *name; /* the rule's identifier */
	const char *ns;   /* its namespace */
	char *const *tags;
	unsigned n_tags;
	const struct vg_file_meta *meta; /* every meta, in rule order */
	unsigned n_meta;
	/* What its alerts say: signature_id, rev, signature (the name),
	 * category, severity, mitre and tags; no geo, count 0. */
	struct vg_alert_info alert;
};

/* A string of a matching rule: identifier, how many matches, and the
 * offsets of the first n of them. */
struct vg_file_string {
	const char *id; /* "$a" */
	unsigned idx;   /* its place among its rule's strings, from 0 */
	uint64_t count;
	unsigned n;
	const uint64_t *offsets;
};

struct vg_file_match {
	const struct vg_file_rule *rule;
	const struct vg_file_string *strings;
	unsigned n_strings;
};

/* One scanned file. */
struct vg_file_info {
	const char *filename; /* the path it was found at */
	uint64_t size;
	const char *sha256; /* lower-case hex; NULL: not computed */
	uint32_t uid, gid, mode;
	int64_t mtime_us;
	const struct vg_file_match *matches;
	unsigned n_matches;
	unsigned more_matches;     /* matching rules not listed */
	const char *source;        /* how it came to be scanned: "watch",
				      "schedule", "scan" */
	const char *quarantine_id; /* set: moved into quarantine under this
				      id; NULL: left in place */
	int timed_out;             /* the scan stopped at its time limit */
	const char *ioc_list;      /* sha256 found in this IoC list */
};

/* One counter of a stats event. key is a dotted path ("capture.kernel_drops");
 * keys sharing a first component must be adjacent in the array. */
struct vg_stat_kv {
	const char *key;
	uint64_t value;
};

/*
 * Append a "flow" event for fi to out, ending with '\n'.
 * ts_us is the event's "timestamp" (microseconds since the epoch).
 * A fresh vigil.event_id is made. VG_OK, VG_ENOMEM, or VG_ELIMIT when the
 * buffer's cap is reached (out is then left as it was before the call).
 */
enum vg_err vg_event_flow(struct vg_buf *out, const struct vg_event_ctx *ctx,
			  const struct vg_flow_info *fi,
			  int64_t ts_us) VG_MUST_CHECK;

/*
 * Append an "alert" event: the flow's fields (as vg_event_flow), then
 * "alert" with the rule's metadata, "geoip" for public addresses, and
 * vigil.count. Same return values as vg_event_flow.
 */
enum vg_err vg_event_alert(struct vg_buf *out, const struct vg_event_ctx *ctx,
			   const struct vg_flow_info *fi,
			   const struct vg_alert_info *a,
			   int64_t ts_us) VG_MUST_CHECK;

/*
 * Append a "fileinfo" event for fi: EVE's fileinfo object (filename,
 * size, sha256, state "CLOSED", stored) with "yara", the list of matches
 * (rule, namespace, tags, meta, strings with their offsets), and
 * "quarantine" when the file was moved. ts_us is the event's time. Same
 * return values as vg_event_flow.
 */
enum vg_err vg_event_fileinfo(struct vg_buf *out,
			      const struct vg_event_ctx *ctx,
			      const struct vg_file_info *fi,
			      int64_t ts_us) VG_MUST_CHECK;

/*
 * Append an "alert" event for match m of fi (m may be NULL when the alert
 * is for an IoC hit on the file's hash: then a gives the rule). The alert
 * object comes from the rule (or a), and the event holds the same
 * "fileinfo" object as vg_event_fileinfo, so that it stands alone.
 */
enum vg_err vg_event_file_alert(struct vg_buf *out,
				const struct vg_event_ctx *ctx,
				const struct vg_file_info *fi,
				const struct vg_file_match *m,
				const struct vg_alert_info *a,
				int64_t ts_us) VG_MUST_CHECK;

/*
 * Append an "agent" event about the agent itself:
 * {"event_type":"agent","agent":{"action":ACTION,"status":STATUS,
 * "level":"error"|"info","messages":[each line of text]}}. Status "failed"
 * makes the level "error". text may be NULL.
 */
enum vg_err vg_event_agent(struct vg_buf *out, const struct vg_event_ctx *ctx,
			   const char *action, const char *status,
			   const char *text, int64_t ts_us) VG_MUST_CHECK;

/*
 * Append a "stats" event: {"event_type":"stats","stats":{...}} where the
 * dotted keys become nested objects, plus "uptime" in seconds.
 */
enum vg_err vg_event_stats(struct vg_buf *out, const struct vg_event_ctx *ctx,
			   const struct vg_stat_kv *kv, size_t n,
			   double uptime_s, int64_t ts_us) VG_MUST_CHECK;

/* Append s as a JSON string literal (with quotes), escaping control
 * characters and replacing invalid UTF-8 with \ufffd. */
enum vg_err vg_json_str(struct vg_buf *out, const char *s,
			size_t len) VG_MUST_CHECK;

/* Format ts_us as EVE does: "2026-11-29T09:20:00.123456+0000" (UTC). out
 * must hold 32 bytes. */
void vg_eve_time(char out[32], int64_t ts_us);

/*
 * Community ID v1 (https://github.com/corelight/community-id-spec), base64
 * form "1:...", for the given flow with seed. out must hold 64 bytes.
 * Ports are those of the flow (for ICMP/ICMPv6 the spec's type/code mapping
 * is applied from icmp_type/icmp_code). Returns VG_OK or VG_EINVAL.
 */
enum vg_err vg_community_id(char out[64], uint16_t seed,
			    const struct vg_flow_info *fi) VG_MUST_CHECK;

/* A new UUIDv7 (RFC 9562) for unix time ms, lower-case with dashes. out must
 * hold 37 bytes. Random bits come from a per-thread generator seeded by
 * getrandom(2). */
void vg_uuid7(char out[37], int64_t unix_ms);

#endif /* VG_EVENT_H */
