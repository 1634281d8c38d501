/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent configuration: the YAML file (/etc/vigil/agent.yaml), parsed with
 * libcyaml against a schema, with a default for every setting.
 *
 * Unknown keys, wrong types and out-of-range values are errors that name
 * the file, line and key. The documented example is
 * packaging/config/agent.yaml.
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include "common.h"

#include <stdbool.h>
#include <stdio.h>

#define VG_CONFIG_MAX_IFACES 16
#define VG_CONFIG_MAX_LIST   64 /* entries of detection.rules, home_net, ioc */
#define VG_CONFIG_MAX_ERRORS 64
/* Bounds of agent.yaml (past them: VG_EINVAL and a message naming the
 * file, line and key). */
#define VG_CONFIG_MAX_FILE_BYTES (1024u * 1024) /* bytes of the file */
#define VG_CONFIG_MAX_STRING     4096 /* bytes of one string value (BPF) */
#define VG_CONFIG_MAX_DEPTH      8    /* nested mappings and lists */

/* control.socket when the file does not say */
#define VG_CONTROL_SOCKET_DEFAULT "/run/vigil/agent.sock"
/* output.spool.dir when the file does not say */
#define VG_SPOOL_DIR_DEFAULT "/var/lib/vigil/spool"

/* One live capture source (capture.interfaces[]). */
struct vg_iface_config {
	char *name;           /* required: "eth0" */
	char *bpf;            /* BPF filter, NULL: none */
	unsigned snaplen;     /* default 65535, range 64..262144 */
	unsigned buffer_size; /* kernel buffer bytes, default 16 MiB,
				 range 1 MiB..2 GiB */
	bool promiscuous;     /* default true */
	bool immediate;       /* default false */
};

/* One named IoC list (detection.ioc[]). */
struct vg_ioc_config {
	char *name; /* required: [a-z0-9][a-z0-9_.-]{0,63} (same rule as
		       agent.agency), unique among detection.ioc */
	char *type; /* required: "ip", "domain", "ja3" or "sha256" (stored
		       lower-case, validated) */
	char *path; /* required: file path, absolute after loading */
};

struct vg_config {
	char *path; /* file it came from, NULL for defaults */

	/* agent: */
	char *agent_id; /* default: derived from /etc/machine-id
			   (or the host name if absent) */
	char *agency;   /* default "unknown" */
	char *hostname; /* default: gethostname() */

	/* capture: */
	struct vg_iface_config ifaces[VG_CONFIG_MAX_IFACES];
	unsigned n_ifaces;
	unsigned ring_slots; /* per worker ring, default 4096,
				power of two 256..1048576 */

	/* decode: */
	unsigned tunnels; /* enum vg_tunnel mask from decode.tunnels:
			     list of names; default gre, vxlan, gtp */

	/* workers: 0 = auto (cores - 1, at least 1), max 64 */
	unsigned workers;

	/* flows: */
	unsigned idle_timeout;    /* seconds, default 120, 1..31536000 */
	unsigned active_timeout;  /* seconds, default 1800, 1..31536000 */
	unsigned max_flows;       /* flows.max, default 1000000, 1..100000000 */
	unsigned tcp_max_packets; /* flows.dpi_max_packets.tcp: packets looked
				     at before giving up, default 80, 3..1000 */
	unsigned udp_max_packets; /* flows.dpi_max_packets.udp, default 24 */
	unsigned dpi_idle_timeout; /* flows.dpi_idle_timeout: seconds of
				      silence after which a flow still being
				      classified gives up, default 10,
				      1..31536000 */

	/*
	 * detection: relative paths in the file are resolved against the
	 * directory of the configuration file and stored absolute.
	 */
	char *rule_paths[VG_CONFIG_MAX_LIST]; /* detection.rules: files and
						 folders */
	unsigned n_rule_paths;
	bool rule_paths_set; /* false: the key is absent -> the shipped rules
				(resolved by the caller) */
	char *home_net[VG_CONFIG_MAX_LIST]; /* detection.home_net: CIDR strings
					       as written (validated) */
	unsigned n_home_net; /* default: 10.0.0.0/8, 172.16.0.0/12,
				192.168.0.0/16, 127.0.0.0/8, fc00::/7,
				::1/128 */
	struct vg_ioc_config ioc[VG_CONFIG_MAX_LIST]; /* detection.ioc */
	unsigned n_ioc;
	bool ioc_set;       /* false: key absent -> the shipped lists
			       (resolved by the caller) */
	unsigned state_max; /* detection.state_max: entries of stateful-rule
			       state, default 100000, 1000..10000000 */

	/* geoip: (relative paths resolved as for detection) */
	char *geoip_country_db; /* geoip.country_db, NULL: none */
	char *geoip_asn_db;     /* geoip.asn_db, NULL: none */

	/*
	 * files: the file scanner (paths resolved as for detection). Nothing
	 * is watched or scanned unless files.watch lists a folder.
	 */
	char *file_watch[VG_CONFIG_MAX_LIST]; /* files.watch: folders */
	unsigned n_file_watch;
	bool file_recursive; /* files.recursive: sub-folders too, default
				true */
	char *file_exclude[VG_CONFIG_MAX_LIST]; /* files.exclude: fnmatch(3)
						   globs on the full path and
						   on the file name */
	unsigned n_file_exclude;
	unsigned file_max_size;     /* files.max_size: larger files are
				       skipped and counted, default 64 MiB,
				       1 KiB..2 GiB */
	unsigned file_scan_timeout; /* files.scan_timeout seconds, default 60,
				       1..3600 */
	unsigned file_threads;      /* files.threads: scanner threads, 0 =
				       half the cores (at least 1), max 32 */
	unsigned file_schedule;     /* files.schedule: seconds between full
				       scans of the watched folders, default
				       86400, 0 = none */
	char *file_rules[VG_CONFIG_MAX_LIST]; /* files.rules: .yar/.yara files,
						 folders of them, or one
						 compiled .yarc */
	unsigned n_file_rules;
	bool file_rules_set;       /* false: the shipped rules/yara */
	char *file_quarantine;     /* files.quarantine: folder, NULL = off
				      (the default; "off" in the file) */
	char *file_hash;           /* files.hash: report "matches" (the
				      default) or "all" files, with SHA-256 */
	unsigned file_settle;      /* files.settle: seconds a written file must
				      stay untouched before it is scanned,
				      default 2, 0..3600 */
	unsigned file_max_watches; /* files.max_watches: inotify watches at
				      most, 0 = the system's limit */
	unsigned file_queue;       /* files.queue: files waiting to be
				      scanned, default 65536, 16..16777216 */
	unsigned file_cache;       /* files.cache: verdicts remembered,
				      default 100000, 0..10000000 */

	/* output: */
	char *output_file;         /* output.file.path, NULL: none
				      ("-" means stdout) */
	unsigned output_file_max;  /* output.file.max_size: rotate past this
				      size, 0 (default) = never */
	unsigned output_file_keep; /* output.file.keep: rotated files kept,
				      default 5, 1..1000 */

	/* output.redis: the pipeline to the center; url NULL = off */
	char *redis_url;           /* redis://, rediss:// or unix:// */
	char *redis_username;      /* ACL user */
	char *redis_password;      /* or redis_password_file */
	char *redis_password_file; /* its first line is the password */
	char *redis_ca_file;       /* TLS: CA bundle, NULL: system's */
	char *redis_cert_file;     /* TLS: client certificate */
	char *redis_key_file;      /* TLS: client key */
	char *redis_server_name;   /* TLS: name checked, NULL: URL's host */
	bool redis_tls_verify;     /* default true */
	char *redis_mode;          /* "single" (default), "cluster",
				      "sentinel" */
	char *redis_sentinels[VG_CONFIG_MAX_LIST]; /* host:port */
	unsigned n_redis_sentinels;
	char *redis_sentinel_master; /* the service name */
	char *redis_stream;          /* key template, NULL: the default
					vigil:events:{AGENCY} */
	unsigned redis_maxlen;       /* MAXLEN ~, default 1000000, 0: none */
	unsigned redis_batch;        /* XADDs per pipeline, default 256 */
	unsigned redis_linger_ms;    /* wait to fill a batch, default 20 */
	unsigned redis_connect_timeout_ms; /* default 5000 */
	unsigned redis_timeout_ms;         /* I/O, default 5000 */
	unsigned redis_drain_timeout;      /* replay: seconds to wait at the end
					      for the spool to drain, default 10 */

	/* output.spool: alerts and fileinfo events before they are sent */
	char *spool_dir;         /* NULL: VG_SPOOL_DIR_DEFAULT */
	unsigned spool_max_size; /* bytes, default 1 GiB */

	/* output.syslog: RFC 5424 to the local syslog socket */
	bool syslog_enabled;      /* default false */
	char *syslog_socket;      /* NULL: /dev/log */
	char *syslog_facility;    /* default local5 */
	bool flow_events;         /* output.flows: emit "flow" events,
				     default false */
	unsigned stats_interval;  /* output.stats_interval seconds, default 30,
				     0 = off, max 86400 */
	unsigned event_max_bytes; /* output.event_max_bytes, default 65536,
				     1024..16777216 */
	unsigned queue_events;    /* output.queue: events buffered for the
				     publisher, default 65536, 16..16777216 */

	/* privileges: what `vigil-agent run` becomes when started as root
	 * (privdrop.h) */
	char *priv_user;          /* privileges.user, default "vigil" */
	char *priv_group;         /* privileges.group, NULL: the user's
				     primary group */
	bool priv_allow_root;     /* privileges.allow_root: keep uid 0 (only
				     capabilities are dropped), default
				     false */
	unsigned priv_user_line;  /* line of privileges.user, 0: absent */
	unsigned priv_group_line; /* line of privileges.group, 0: absent */

	/* sandbox: privilege separation of `vigil-agent run` and replay
	 * (sandbox.h) */
	bool sandbox_packets; /* sandbox.packets: the packet path in a
				 child without credentials, default true */
	bool sandbox_files;   /* sandbox.files: YARA scans in children that
				 may only read, default true */

	/* log: */
	int log_level;    /* log.level: error|warning|info|debug,
			     default info (LOG_* syslog values) */
	char *log_target; /* log.target: "stderr", "journald" or "auto"
			     (the default: journald when stderr is the
			     journal) */

	/* control: the local control socket (vigil-agent status, reload) */
	char *control_socket; /* control.socket, default
				 VG_CONTROL_SOCKET_DEFAULT; NULL: off */

	/* metrics: Prometheus text on HTTP */
	char *metrics_listen;      /* metrics.listen HOST:PORT, NULL: off
				      (the default) */
	bool metrics_allow_remote; /* metrics.allow_remote: a listen address
				      other than loopback is allowed,
				      default false */

	/* rules.bundle: signed rule bundles polled from the center */
	char *bundle_public_key; /* rules.bundle.public_key: pinned Ed25519
				    PEM public key; NULL: no polling */
	unsigned bundle_poll;    /* rules.bundle.poll seconds, default 60,
				    1..86400 */
	char *bundle_dir;        /* rules.bundle.dir, NULL:
				    /var/lib/vigil/bundle */
};

/* Fill *cfg with every default (caller's storage). VG_OK or VG_ENOMEM. */
enum vg_err vg_config_defaults(struct vg_config *cfg) VG_MUST_CHECK;

/*
 * Load path into *cfg (caller's storage; defaults first, then the file).
 * On error every problem found is written to errs as one line
 * "FILE:LINE: KEY: MESSAGE\n" (KEY is the dotted path, e.g.
 * "flows.idle_timeout"), *cfg is left finalized (nothing to free), and
 * VG_EINVAL (bad content) or VG_EIO (cannot read the file) is returned.
 * errs may be NULL. Relative paths in the file (detection.rules,
 * detection.ioc[].path, geoip.*) are made absolute against the directory
 * of path (taken lexically; from the current directory if path is
 * relative).
 */
enum vg_err vg_config_load(struct vg_config *cfg, const char *path,
			   FILE *errs) VG_MUST_CHECK;

/*
 * Whether the len bytes at s are a name as agent.agency and
 * detection.ioc[].name must be (they end up in Redis key names and rule
 * bundle file names): [a-z0-9][a-z0-9._-]{0,63}.
 */
bool vg_config_name_ok(const char *s, size_t len);

/* Release what a loaded or defaulted config owns. Accepts a zeroed cfg. */
void vg_config_fini(struct vg_config *cfg);

/*
 * Write the effective configuration as YAML (for `vigil-agent check -v`):
 * a file that loads again to the same configuration. Settings that are not
 * set (a list left to the shipped default, an absent path) are written as
 * comments.
 */
void vg_config_dump(const struct vg_config *cfg, FILE *out);

#endif /* VG_CONFIG_H */
