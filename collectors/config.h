/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-collector configuration: collector.yaml into struct vc_config,
 * with a default for every setting and a "FILE:LINE: KEY: message" line
 * for every mistake.
 *
 * main.c loads it once (`run` and `check`); the consumer, the archive and
 * the HTTP server only read it.
 */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include "common.h"
#include "redis.h"

#define VC_CONFIG_DEFAULT_PATH   "/etc/vigil/collector.yaml"
#define VC_CONFIG_MAX_SENTINELS  VG_REDIS_MAX_SENTINELS
#define VC_DEFAULT_GROUP         "vigil-collectors"
#define VC_DEFAULT_BLOCK_MS      1000u
#define VC_DEFAULT_BATCH         256u
#define VC_MAX_BATCH             10000u
#define VC_DEFAULT_CLAIM_IDLE    30000u /* ms */
#define VC_DEFAULT_LISTEN        "127.0.0.1:8080"
#define VC_FORWARD_MAX_TYPES     16
#define VC_FORWARD_DEFAULT_QUEUE 100000u
#define VC_FORWARD_MAX_QUEUE     1000000u
#define VC_DEFAULT_CENTER        "main"
#define VC_CENTER_MAX_NAME       64
#define VC_DEFAULT_RECENT        100000u /* events in the shared stream */
#define VC_MAX_RECENT            1000000u
#define VC_DEFAULT_MAX_AGENTS    10000u
#define VC_MAX_AGENTS            100000u

/* Bytes of collector.yaml: a larger file is refused (VG_EIO, "FILE: file
 * larger than 1048576 bytes"). */
#define VC_CONFIG_MAX_FILE_BYTES (1024u * 1024)

struct vc_config {
	char *path; /* the file loaded (owned) */

	/* redis: the same keys as the agent's output.redis */
	char *redis_url; /* default redis://127.0.0.1:6379 (not sentinel) */
	char *redis_username;
	char *redis_password; /* given, or the first line of password_file */
	char *redis_password_file;
	char *redis_ca_file;
	char *redis_cert_file;
	char *redis_key_file;
	char *redis_server_name;
	int redis_tls_verify; /* default 1 */
	enum vg_redis_mode redis_mode;
	char *redis_sentinels[VC_CONFIG_MAX_SENTINELS];
	unsigned n_redis_sentinels;
	char *redis_sentinel_master;

	/* center: the view shared by the collectors (shared.h) */
	char *center_name;      /* default "main": keys vigil:center:{NAME}: */
	unsigned center_recent; /* recent stream length = store size */
	unsigned center_max_agents; /* agent records kept */

	/* consumer */
	char *consumer_name; /* default HOSTNAME-PID */
	char *consumer_group;
	unsigned block_ms;
	unsigned batch;
	unsigned claim_idle_ms;

	/* archive */
	char *archive_dir; /* required by `run` */
	int archive_compress;

	/* http */
	char *http_listen;
	char *http_tokens_file;
	char *http_static_dir;

	/* forward: events to a SIEM as RFC 5424 over TCP/TLS (forward.c) */
	char *forward_address; /* "host:port"; NULL: no forwarding */
	int forward_tls;       /* default 0 */
	char *forward_ca_file;
	char *forward_cert_file;
	char *forward_key_file;
	char *forward_server_name; /* default: the address's host */
	int forward_tls_verify;    /* default 1 */
	unsigned forward_queue;    /* events held in memory */
	char *forward_types[VC_FORWARD_MAX_TYPES]; /* default alert, fileinfo */
	unsigned n_forward_types;
	unsigned forward_facility; /* 0..23, default 21 (local5) */
	char *forward_app_name;    /* default "vigil" */

	/* log */
	int log_target; /* enum vg_log_target (log.h), default VG_LOG_AUTO */
};

/*
 * Load path (NULL: VC_CONFIG_DEFAULT_PATH) into *cfg (caller's storage,
 * filled on success only: release with vc_config_fini()). for_run
 * nonzero also requires what `run` needs (archive.dir) and reads the
 * password file. Returns VG_OK, VG_EINVAL (a mistake in the file: err
 * holds "FILE:LINE: KEY: message"), VG_EIO (the file cannot be read, or
 * is larger than VC_CONFIG_MAX_FILE_BYTES) or VG_ENOMEM. Secrets never
 * appear in err.
 */
enum vg_err vc_config_load(const char *path, int for_run, struct vc_config *cfg,
			   char *err, size_t errlen) VG_MUST_CHECK;

/* Free what cfg owns (the password wiped first); accepts NULL. */
void vc_config_fini(struct vc_config *cfg);

/* Fill o from cfg; o borrows cfg's strings. */
void vc_config_redis_opts(const struct vc_config *cfg, struct vg_redis_opts *o);

#endif /* VC_CONFIG_H */
