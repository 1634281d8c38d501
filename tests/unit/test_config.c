/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/config.c: defaults, the shipped example, a file
 * setting every key, value syntax, lists (of strings, of mappings),
 * relative paths, and the exact FILE:LINE: KEY: line of every kind of
 * mistake. Fixtures are in tests/data/config/.
 */
#include "config.h"

#include "decode.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define DATA_DIR    VIGIL_SOURCE_DIR "/tests/data/config/"
#define EXAMPLE     VIGIL_SOURCE_DIR "/packaging/config/agent.yaml"
#define DEF_TUNNELS (VG_TUN_GRE | VG_TUN_VXLAN | VG_TUN_GTP)

/* Result of one vg_config_load(): its code and everything it wrote. */
struct result {
	enum vg_err err;
	char *out; /* owned */
	size_t len;
};

static struct result
load(struct vg_config *cfg, const char *path)
{
	struct result r = {0};
	FILE *f;

	f = open_memstream(&r.out, &r.len);
	assert_non_null(f);
	r.err = vg_config_load(cfg, path, f);
	assert_int_equal(fclose(f), 0);
	return r;
}

/* Write text to a new temporary file; returns its path (owned). */
static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/vg_test_config_XXXXXX");
	size_t len = strlen(text);
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

/* Is the whole struct zero (what vg_config_fini leaves)? */
static bool
all_zero(const struct vg_config *cfg)
{
	static const struct vg_config zero;

	return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

static void
assert_same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every field but path. */
static void
assert_same_config(const struct vg_config *a, const struct vg_config *b)
{
	unsigned i;

	assert_int_equal(a->rule_paths_set, b->rule_paths_set);
	assert_int_equal(a->n_rule_paths, b->n_rule_paths);
	for (i = 0; i < a->n_rule_paths; i++)
		assert_same_string(a->rule_paths[i], b->rule_paths[i]);
	assert_int_equal(a->n_home_net, b->n_home_net);
	for (i = 0; i < a->n_home_net; i++)
		assert_same_string(a->home_net[i], b->home_net[i]);
	assert_int_equal(a->ioc_set, b->ioc_set);
	assert_int_equal(a->n_ioc, b->n_ioc);
	for (i = 0; i < a->n_ioc; i++) {
		assert_same_string(a->ioc[i].name, b->ioc[i].name);
		assert_same_string(a->ioc[i].type, b->ioc[i].type);
		assert_same_string(a->ioc[i].path, b->ioc[i].path);
	}
	assert_int_equal(a->state_max, b->state_max);
	assert_same_string(a->geoip_country_db, b->geoip_country_db);
	assert_same_string(a->geoip_asn_db, b->geoip_asn_db);

	assert_same_string(a->agent_id, b->agent_id);
	assert_same_string(a->agency, b->agency);
	assert_same_string(a->hostname, b->hostname);
	assert_int_equal(a->n_ifaces, b->n_ifaces);
	for (i = 0; i < a->n_ifaces; i++) {
		assert_same_string(a->ifaces[i].name, b->ifaces[i].name);
		assert_same_string(a->ifaces[i].bpf, b->ifaces[i].bpf);
		assert_int_equal(a->ifaces[i].snaplen, b->ifaces[i].snaplen);
		assert_int_equal(a->ifaces[i].buffer_size,
				 b->ifaces[i].buffer_size);
		assert_int_equal(a->ifaces[i].promiscuous,
				 b->ifaces[i].promiscuous);
		assert_int_equal(a->ifaces[i].immediate,
				 b->ifaces[i].immediate);
	}
	assert_int_equal(a->ring_slots, b->ring_slots);
	assert_int_equal(a->tunnels, b->tunnels);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->idle_timeout, b->idle_timeout);
	assert_int_equal(a->active_timeout, b->active_timeout);
	assert_int_equal(a->max_flows, b->max_flows);
	assert_int_equal(a->tcp_max_packets, b->tcp_max_packets);
	assert_int_equal(a->udp_max_packets, b->udp_max_packets);
	assert_int_equal(a->dpi_idle_timeout, b->dpi_idle_timeout);
	assert_same_string(a->output_file, b->output_file);
	assert_int_equal(a->flow_events, b->flow_events);
	assert_int_equal(a->stats_interval, b->stats_interval);
	assert_int_equal(a->event_max_bytes, b->event_max_bytes);
	assert_int_equal(a->queue_events, b->queue_events);
	assert_int_equal(a->log_level, b->log_level);
	assert_same_string(a->log_target, b->log_target);
	assert_same_string(a->priv_user, b->priv_user);
	assert_same_string(a->priv_group, b->priv_group);
	assert_int_equal(a->priv_allow_root, b->priv_allow_root);
}

/*
 * r must be a failure whose output is exactly one line
 * "file:line: key: ..." containing msg, and cfg must be finalized.
 */
static void
assert_one_error(struct result *r, const struct vg_config *cfg,
		 const char *file, unsigned line, const char *key,
		 const char *msg)
{
	char prefix[PATH_MAX + 128];

	snprintf(prefix, sizeof(prefix), "%s:%u: %s: ", file, line, key);
	assert_int_equal(r->err, VG_EINVAL);
	assert_non_null(r->out);
	if (strncmp(r->out, prefix, strlen(prefix)) != 0)
		fail_msg("expected \"%s...\", got \"%s\"", prefix, r->out);
	if (strstr(r->out + strlen(prefix), msg) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", msg, r->out);
	/* Exactly one line. */
	assert_ptr_equal(strchr(r->out, '\n'), r->out + r->len - 1);
	assert_true(all_zero(cfg));
}

/* Load text from a temporary file and expect one error on line/key. */
static void
expect_error(const char *text, unsigned line, const char *key, const char *msg)
{
	struct vg_config cfg;
	struct result r;
	char *path = write_tmp(text);

	r = load(&cfg, path);
	assert_one_error(&r, &cfg, path, line, key, msg);
	vg_config_fini(&cfg);
	unlink(path);
	free(path);
	free(r.out);
}

/* Load text from a temporary file; it must be valid. */
static void
load_text(struct vg_config *cfg, const char *text)
{
	struct result r;
	char *path = write_tmp(text);

	r = load(cfg, path);
	if (r.err != VG_OK)
		fail_msg("%s", r.out);
	assert_int_equal(r.len, 0);
	assert_string_equal(cfg->path, path);
	unlink(path);
	free(path);
	free(r.out);
}

static void
test_defaults(void **state)
{
	struct vg_config cfg;
	char host[HOST_NAME_MAX + 1] = "";
	char id[64] = "";
	FILE *f;

	(void)state;
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	assert_null(cfg.path);

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(cfg.hostname, host);
	assert_string_equal(cfg.agency, "unknown");
	f = fopen("/etc/machine-id", "r");
	if (f != NULL) {
		assert_non_null(fgets(id, sizeof(id), f));
		fclose(f);
		id[32] = '\0';
		assert_string_equal(cfg.agent_id, id);
	} else {
		assert_string_equal(cfg.agent_id, host);
	}

	assert_int_equal(cfg.n_ifaces, 0);
	assert_int_equal(cfg.ring_slots, 4096);
	assert_int_equal(cfg.tunnels, DEF_TUNNELS);
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.idle_timeout, 120);
	assert_int_equal(cfg.active_timeout, 1800);
	assert_int_equal(cfg.max_flows, 1000000);
	assert_int_equal(cfg.tcp_max_packets, 80);
	assert_int_equal(cfg.udp_max_packets, 24);
	assert_int_equal(cfg.dpi_idle_timeout, 10);

	assert_false(cfg.rule_paths_set);
	assert_int_equal(cfg.n_rule_paths, 0);
	assert_null(cfg.rule_paths[0]);
	assert_int_equal(cfg.n_home_net, 6);
	assert_string_equal(cfg.home_net[0], "10.0.0.0/8");
	assert_string_equal(cfg.home_net[1], "172.16.0.0/12");
	assert_string_equal(cfg.home_net[2], "192.168.0.0/16");
	assert_string_equal(cfg.home_net[3], "127.0.0.0/8");
	assert_string_equal(cfg.home_net[4], "fc00::/7");
	assert_string_equal(cfg.home_net[5], "::1/128");
	assert_null(cfg.home_net[6]);
	assert_false(cfg.ioc_set);
	assert_int_equal(cfg.n_ioc, 0);
	assert_int_equal(cfg.state_max, 100000);
	assert_null(cfg.geoip_country_db);
	assert_null(cfg.geoip_asn_db);

	assert_null(cfg.output_file);
	assert_false(cfg.flow_events);
	assert_int_equal(cfg.stats_interval, 30);
	assert_int_equal(cfg.event_max_bytes, 65536);
	assert_int_equal(cfg.queue_events, 65536);
	assert_int_equal(cfg.log_level, LOG_INFO);

	vg_config_fini(&cfg);
	assert_true(all_zero(&cfg));
}

/* The documented example, an empty file and a comment-only file. */
static void
test_example_is_defaults(void **state)
{
	static const char *const files[] = {
	    EXAMPLE,
	    DATA_DIR "empty.yaml",
	    DATA_DIR "comments.yaml",
	};
	struct vg_config def, cfg;
	struct result r;
	size_t i;

	(void)state;
	assert_int_equal(vg_config_defaults(&def), VG_OK);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		r = load(&cfg, files[i]);
		if (r.err != VG_OK)
			fail_msg("%s", r.out);
		assert_int_equal(r.len, 0);
		assert_string_equal(cfg.path, files[i]);
		assert_same_config(&cfg, &def);
		vg_config_fini(&cfg);
		free(r.out);
	}
	vg_config_fini(&def);
}

static void
test_full(void **state)
{
	struct vg_config cfg;
	struct result r;

	(void)state;
	r = load(&cfg, DATA_DIR "full.yaml");
	if (r.err != VG_OK)
		fail_msg("%s", r.out);
	assert_int_equal(r.len, 0);
	assert_string_equal(cfg.path, DATA_DIR "full.yaml");

	assert_string_equal(cfg.agent_id, "sensor-0042");
	assert_string_equal(cfg.agency, "police.region-3_hq");
	assert_string_equal(cfg.hostname, "probe1.example.org");

	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "eth0");
	assert_string_equal(cfg.ifaces[0].bpf, "not port 6379");
	assert_int_equal(cfg.ifaces[0].snaplen, 1514);
	assert_int_equal(cfg.ifaces[0].buffer_size, 64u << 20);
	assert_false(cfg.ifaces[0].promiscuous);
	assert_true(cfg.ifaces[0].immediate);
	/* The second interface names only itself: interface defaults. */
	assert_string_equal(cfg.ifaces[1].name, "eth1");
	assert_null(cfg.ifaces[1].bpf);
	assert_int_equal(cfg.ifaces[1].snaplen, 65535);
	assert_int_equal(cfg.ifaces[1].buffer_size, 16u << 20);
	assert_true(cfg.ifaces[1].promiscuous);
	assert_false(cfg.ifaces[1].immediate);
	assert_int_equal(cfg.ring_slots, 65536);

	assert_int_equal(cfg.tunnels, VG_TUN_TZSP | VG_TUN_CAPWAP | VG_TUN_GRE);
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.idle_timeout, 90);
	assert_int_equal(cfg.active_timeout, 3600);
	assert_int_equal(cfg.max_flows, 250000);
	assert_int_equal(cfg.tcp_max_packets, 40);
	assert_int_equal(cfg.udp_max_packets, 12);

	/* Relative paths are made absolute against the file's directory. */
	assert_true(cfg.rule_paths_set);
	assert_int_equal(cfg.n_rule_paths, 2);
	assert_string_equal(cfg.rule_paths[0], "/etc/vigil/rules/network");
	assert_string_equal(cfg.rule_paths[1], DATA_DIR "local-rules.yaml");
	assert_int_equal(cfg.n_home_net, 3);
	assert_string_equal(cfg.home_net[0], "10.0.0.0/8");
	assert_string_equal(cfg.home_net[1], "2001:db8::/32");
	assert_string_equal(cfg.home_net[2], "192.0.2.7"); /* as written */
	assert_null(cfg.home_net[3]);
	assert_true(cfg.ioc_set);
	assert_int_equal(cfg.n_ioc, 2);
	assert_string_equal(cfg.ioc[0].name, "blocklist-ip");
	assert_string_equal(cfg.ioc[0].type, "ip");
	assert_string_equal(cfg.ioc[0].path, DATA_DIR "ioc/blocklist-ip.txt");
	assert_string_equal(cfg.ioc[1].name, "bad.domains");
	assert_string_equal(cfg.ioc[1].type, "domain"); /* "DOMAIN" */
	assert_string_equal(cfg.ioc[1].path, "/var/lib/vigil/ioc/domains.txt");
	assert_int_equal(cfg.state_max, 500000);
	assert_string_equal(cfg.geoip_country_db,
			    "/var/lib/vigil/country.mmdb");
	/* "." parts go, ".." stays (it depends on symbolic links). */
	assert_string_equal(cfg.geoip_asn_db, DATA_DIR "geo/../asn.mmdb");

	assert_string_equal(cfg.output_file, "/var/log/vigil/events.json");
	assert_true(cfg.flow_events);
	assert_int_equal(cfg.stats_interval, 300);
	assert_int_equal(cfg.event_max_bytes, 128 * 1024);
	assert_int_equal(cfg.queue_events, 4096);
	assert_int_equal(cfg.log_level, LOG_DEBUG);

	vg_config_fini(&cfg);
	assert_true(all_zero(&cfg));
	free(r.out);
}

/* What vg_config_dump() writes loads back to the same configuration. */
static void
test_dump_round_trip(void **state)
{
	static const char *const files[] = {DATA_DIR "full.yaml", EXAMPLE};
	struct vg_config a, b;
	struct result r;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		r = load(&a, files[i]);
		assert_int_equal(r.err, VG_OK);
		free(r.out);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		vg_config_dump(&a, f);
		assert_int_equal(fclose(f), 0);
		assert_non_null(strstr(text, "\nflows:\n  idle_timeout: "));
		assert_non_null(strstr(text, "\ndetection:\n"));
		load_text(&b, text);
		assert_same_config(&a, &b);
		vg_config_fini(&a);
		vg_config_fini(&b);
		free(text);
		text = NULL;
	}
}

/* Dump cfg into a new string (owned). */
static char *
dump(const struct vg_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	vg_config_dump(cfg, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Load text, dump it, load the dump: the same configuration. */
static void
round_trip(const char *text, const char *want)
{
	struct vg_config a, b;
	char *out;

	load_text(&a, text);
	out = dump(&a);
	if (strstr(out, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, out);
	load_text(&b, out);
	assert_same_config(&a, &b);
	vg_config_fini(&a);
	vg_config_fini(&b);
	free(out);
}

/*
 * Unset lists and strings are dumped as comments (a bare "key:" would not
 * load); explicitly empty lists as [].
 */
static void
test_dump_unset(void **state)
{
	struct vg_config cfg;
	char *out;

	(void)state;
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	out = dump(&cfg);
	assert_non_null(strstr(out, "\ndetection:\n"
				    "  # rules: not set (the shipped rules)\n"
				    "  home_net:\n    - \"10.0.0.0/8\"\n"));
	assert_non_null(strstr(out, "    - \"::1/128\"\n"
				    "  # ioc: not set (the shipped lists)\n"
				    "  state_max: 100000\n"
				    "# geoip: not set\n"
				    "files:\n"
				    "  watch: []\n"
				    "  recursive: true\n"
				    "  exclude: []\n"
				    "  max_size: 64MiB\n"
				    "  scan_timeout: 1m\n"
				    "  threads: 0\n"
				    "  schedule: 1d\n"
				    "  # rules: not set (the shipped rules)\n"
				    "  quarantine: off\n"
				    "  hash: \"matches\"\n"
				    "  settle: 2s\n"
				    "  max_watches: 0\n"
				    "  queue: 65536\n"
				    "  cache: 100000\n"
				    "output:\n"
				    "  file:\n"
				    "    # path: not set\n"
				    "    max_size: 0\n"
				    "    keep: 5\n"
				    "  redis:\n"
				    "    # url: not set\n"));
	vg_config_fini(&cfg);
	free(out);

	round_trip("detection:\n  rules: []\n  ioc: []\n",
		   "  rules: []\n  home_net:\n");
	round_trip("detection:\n  ioc: []\n", "  ioc: []\n");
	round_trip("geoip:\n  asn_db: /a.mmdb\n",
		   "geoip:\n  # country_db: not set\n"
		   "  asn_db: \"/a.mmdb\"\n");
	round_trip("detection:\n  rules: [\"/odd \\\"name\\\"\\\\x\"]\n",
		   "    - \"/odd \\\"name\\\"\\\\x\"\n");

	/* Explicitly empty is not the same as absent. */
	load_text(&cfg, "detection:\n  rules: []\n  ioc: []\n");
	assert_true(cfg.rule_paths_set);
	assert_int_equal(cfg.n_rule_paths, 0);
	assert_true(cfg.ioc_set);
	assert_int_equal(cfg.n_ioc, 0);
	assert_int_equal(cfg.n_home_net, 6); /* untouched: the defaults */
	vg_config_fini(&cfg);
}

/* The file scanner's settings: values, paths, "off", and errors. */
static void
test_files(void **state)
{
	struct vg_config cfg;

	(void)state;
	load_text(&cfg, "files:\n"
			"  watch: [www, /srv/up]\n"
			"  recursive: false\n"
			"  exclude: [\"*.log\", \"*/cache/*\"]\n"
			"  max_size: 10MiB\n"
			"  scan_timeout: 5m\n"
			"  threads: 3\n"
			"  schedule: 0\n"
			"  rules: [yara, x.yarc]\n"
			"  quarantine: q\n"
			"  hash: ALL\n"
			"  settle: 0\n"
			"  max_watches: 10\n"
			"  queue: 16\n"
			"  cache: 0\n");
	assert_int_equal(cfg.n_file_watch, 2);
	assert_string_equal(cfg.file_watch[0], "/tmp/www");
	assert_string_equal(cfg.file_watch[1], "/srv/up");
	assert_false(cfg.file_recursive);
	assert_int_equal(cfg.n_file_exclude, 2);
	assert_string_equal(cfg.file_exclude[1], "*/cache/*");
	assert_int_equal(cfg.file_max_size, 10u << 20);
	assert_int_equal(cfg.file_scan_timeout, 300);
	assert_int_equal(cfg.file_threads, 3);
	assert_int_equal(cfg.file_schedule, 0);
	assert_true(cfg.file_rules_set);
	assert_string_equal(cfg.file_rules[1], "/tmp/x.yarc");
	assert_string_equal(cfg.file_quarantine, "/tmp/q");
	assert_string_equal(cfg.file_hash, "all");
	assert_int_equal(cfg.file_settle, 0);
	assert_int_equal(cfg.file_max_watches, 10);
	assert_int_equal(cfg.file_queue, 16);
	assert_int_equal(cfg.file_cache, 0);
	vg_config_fini(&cfg);

	/* Defaults, and "off". */
	load_text(&cfg, "files:\n  quarantine: off\n");
	assert_null(cfg.file_quarantine);
	assert_int_equal(cfg.n_file_watch, 0);
	assert_true(cfg.file_recursive);
	assert_false(cfg.file_rules_set);
	assert_string_equal(cfg.file_hash, "matches");
	assert_int_equal(cfg.file_max_size, 64u << 20);
	assert_int_equal(cfg.file_schedule, 86400);
	assert_int_equal(cfg.file_settle, 2);
	vg_config_fini(&cfg);

	expect_error("files:\n  hash: some\n", 2, "files.hash",
		     "unknown hash \"some\" (expected matches or all)");
	expect_error("files:\n  threads: 33\n", 2, "files.threads",
		     "out of range (0..32)");
	expect_error("files:\n  max_size: 512\n", 2, "files.max_size",
		     "out of range");
	expect_error("files:\n  watch: /var/www\n", 2, "files.watch",
		     "expected a list");
	expect_error("files:\n  sedule: 1h\n", 2, "files.sedule",
		     "unknown key");
	expect_error("files:\n  quarantine: \"\"\n", 2, "files.quarantine",
		     "must not be empty");
}

/* Addresses and networks detection.home_net takes. */
static void
test_home_net(void **state)
{
	static const char *const good[] = {
	    "0.0.0.0/0",           "10.0.0.0/8",     "192.0.2.7",
	    "192.0.2.7/32",        "192.0.2.128/25", "::/0",
	    "2001:db8::/32",       "2001:db8::1",    "2001:db8::1/128",
	    "::ffff:10.0.0.0/104", "fe80::/10",      "10.0.0.0/32",
	};
	char text[4096];
	struct vg_config cfg;
	size_t i, o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "detection:\n  home_net:\n");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "    - \"%s\"\n", good[i]);
	load_text(&cfg, text);
	assert_int_equal(cfg.n_home_net, sizeof(good) / sizeof(good[0]));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_string_equal(cfg.home_net[i], good[i]);
	vg_config_fini(&cfg);
}

/* Spellings home_net refuses, each on line 3 of its file. */
static void
test_home_net_errors(void **state)
{
	static const struct {
		const char *cidr;
		const char *msg;
	} cases[] = {
	    {"10.0.0.0/33", "not a CIDR: \"10.0.0.0/33\""},
	    {"2001:db8::/129", "not a CIDR"},
	    {"10.0.0.0/", "not a CIDR"},
	    {"10.0.0.0/-1", "not a CIDR"},
	    {"10.0.0.0/+8", "not a CIDR"},
	    {"10.0.0.0/ 8", "not a CIDR"},
	    {"10.0.0.0/8/8", "not a CIDR"},
	    {"10.0.0.0/0x8", "not a CIDR"},
	    {"10.0.0.0/08", "not a CIDR"},
	    {"10.0.0.0/00", "not a CIDR"},
	    {"10.0.0.0/99999999999999999999999", "not a CIDR"},
	    {"10.0.0/8", "not a CIDR"},
	    {"010.0.0.0/8", "not a CIDR"},
	    {" 10.0.0.0/8", "not a CIDR"},
	    {"10.0.0.0/8 ", "not a CIDR"},
	    {"fe80::1%eth0/64", "not a CIDR"},
	    {"2001:db8:::/48", "not a CIDR"},
	    {"example.org/24", "not a CIDR"},
	    {"", "not a CIDR: \"\""},
	    {"/8", "not a CIDR"},
	    {"10.0.0.1/8", "host bits are set below the prefix: "
			   "\"10.0.0.1/8\" (the network is 10.0.0.0/8)"},
	    {"192.168.1.1/24", "(the network is 192.168.1.0/24)"},
	    {"0.0.0.1/0", "(the network is 0.0.0.0/0)"},
	    {"2001:db8::1/64", "(the network is 2001:db8::/64)"},
	    {"::1/127", "(the network is ::/127)"},
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "detection:\n  home_net:\n    - \"%s\"\n",
			 cases[i].cidr);
		expect_error(text, 3, "detection.home_net[0]", cases[i].msg);
	}
}

/* Relative paths against the directory of the file, wherever it is. */
static void
test_relative_paths(void **state)
{
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	struct vg_config cfg;
	struct result r;
	const char *dir;

	(void)state;
	load_text(&cfg,
		  "detection:\n"
		  "  rules: [a.yaml, ./b//c/./, -, /abs/./x, ../up]\n"
		  "  ioc:\n"
		  "    - {name: x, type: SHA256, path: \"ioc list.txt\"}\n"
		  "geoip:\n"
		  "  country_db: .\n");
	/* write_tmp() puts the file in /tmp. */
	assert_int_equal(cfg.n_rule_paths, 5);
	assert_string_equal(cfg.rule_paths[0], "/tmp/a.yaml");
	assert_string_equal(cfg.rule_paths[1], "/tmp/b/c");
	assert_string_equal(cfg.rule_paths[2], "/tmp/-");   /* not stdin */
	assert_string_equal(cfg.rule_paths[3], "/abs/./x"); /* as written */
	assert_string_equal(cfg.rule_paths[4], "/tmp/../up");
	assert_string_equal(cfg.ioc[0].type, "sha256");
	assert_string_equal(cfg.ioc[0].path, "/tmp/ioc list.txt");
	assert_string_equal(cfg.geoip_country_db, "/tmp");
	vg_config_fini(&cfg);

	/* A configuration named relative to the current directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(DATA_DIR ".."), 0);
	r = load(&cfg, "config/full.yaml");
	dir = getcwd(want, sizeof(want));
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(dir);
	if (r.err != VG_OK)
		fail_msg("%s", r.out);
	strcat(want, "/config/local-rules.yaml");
	assert_string_equal(cfg.rule_paths[1], want);
	assert_string_equal(cfg.path, "config/full.yaml");
	vg_config_fini(&cfg);
	free(r.out);
}

/* detection.* mistakes written inline: exact line, key and message. */
static void
test_detection_errors(void **state)
{
	char many[8192];
	size_t i, o;

	(void)state;
	/* Wrong types. */
	expect_error("detection:\n  home_net:\n    a: 10.0.0.0/8\n", 2,
		     "detection.home_net", "expected a list");
	expect_error("detection:\n  home_net: {a: 1}\n", 2,
		     "detection.home_net", "expected a list");
	expect_error("detection:\n  home_net: 10.0.0.0/8\n", 2,
		     "detection.home_net", "expected a list");
	expect_error("detection:\n  home_net:\n", 2, "detection.home_net",
		     "no value (expected a list)");
	expect_error("detection:\n  rules: [a, [b]]\n", 2, "detection.rules[1]",
		     "expected a string");
	expect_error("detection:\n  rules:\n    - a\n    - x: y\n", 4,
		     "detection.rules[1]", "expected a string");
	expect_error("detection:\n  ioc: blocklist\n", 2, "detection.ioc",
		     "expected a list");
	expect_error("detection:\n  ioc:\n    - blocklist\n", 3,
		     "detection.ioc[0]", "expected a mapping");
	expect_error("detection:\n  ioc:\n    - name: a\n      type: [ip]\n"
		     "      path: a\n",
		     4, "detection.ioc[0].type", "expected a string");
	expect_error("detection: []\n", 1, "detection", "expected a mapping");
	expect_error("geoip:\n  asn_db: [a]\n", 2, "geoip.asn_db",
		     "expected a string");

	/* Values. */
	expect_error("detection:\n  rules: [a, \"\"]\n", 2,
		     "detection.rules[1]", "must not be empty");
	expect_error("detection:\n  rules:\n    - \"a\\nb\"\n", 3,
		     "detection.rules[0]", "control characters");
	expect_error("detection:\n  state_max: 999\n", 2, "detection.state_max",
		     "out of range (1000..10000000)");
	expect_error("detection:\n  state_max: 10000001\n", 2,
		     "detection.state_max", "out of range");
	expect_error("detection:\n  state_max: 1e5\n", 2, "detection.state_max",
		     "expected an integer");
	expect_error("geoip:\n  country_db: \"\"\n", 2, "geoip.country_db",
		     "must not be empty");
	expect_error("geoip:\n  city_db: x\n", 2, "geoip.city_db",
		     "unknown key");
	expect_error(
	    "detection:\n  ioc:\n    - {name: a, type: ip, path: \"\"}\n", 3,
	    "detection.ioc[0].path", "must not be empty");
	expect_error(
	    "detection:\n  ioc:\n    - {name: -a, type: ip, path: x}\n", 3,
	    "detection.ioc[0].name", "invalid name \"-a\"");
	expect_error(
	    "detection:\n  ioc:\n    - {name: a, type: \"\", path: x}\n", 3,
	    "detection.ioc[0].type",
	    "unknown type \"\" (expected ip, domain, ja3 or sha256)");
	expect_error("detection:\n  ioc:\n    - {name: a, type: ip, path: x,"
		     " format: csv}\n",
		     3, "detection.ioc[0].format", "unknown key");
	expect_error("detection:\n  ioc:\n    - {name: a, type: ip, path: x,"
		     " name: b}\n",
		     3, "detection.ioc[0].name", "duplicate key");
	expect_error("detection:\n  ioc:\n    - type: ip\n      path: x\n", 3,
		     "detection.ioc[0].name", "required key missing");
	expect_error("detection:\n  ioc:\n    - {name: a, path: x}\n", 3,
		     "detection.ioc[0].type", "required key missing");
	/* Duplicate names, in flow style: the second one's line. */
	expect_error("detection:\n  ioc:\n    - {name: a, type: ip, path: x}\n"
		     "    - {name: b, type: ip, path: x}\n"
		     "    - {name: a, type: ja3, path: y}\n",
		     5, "detection.ioc[2].name",
		     "duplicate name \"a\" (first used on line 3)");
	/* A path too long once made absolute (/tmp/ + 4092 bytes). */
	o = (size_t)snprintf(many, sizeof(many), "geoip:\n  asn_db: ");
	for (i = 0; i < 4092; i++)
		many[o++] = 'a';
	snprintf(many + o, sizeof(many) - o, "\n");
	expect_error(many, 2, "geoip.asn_db", "once made absolute");

	/* 65 entries: the 65th is refused, on its own line. */
	o = (size_t)snprintf(many, sizeof(many), "detection:\n  rules:\n");
	for (i = 0; i <= VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "    - r%zu.yaml\n", i);
	expect_error(many, 3 + VG_CONFIG_MAX_LIST, "detection.rules[64]",
		     "too many entries (at most 64)");
	o = (size_t)snprintf(many, sizeof(many), "detection:\n  home_net: [");
	for (i = 0; i <= VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "%s10.%zu.0.0/16", i > 0 ? ", " : "", i);
	snprintf(many + o, sizeof(many) - o, "]\n");
	expect_error(many, 2, "detection.home_net[64]",
		     "too many entries (at most 64)");
	o = (size_t)snprintf(many, sizeof(many), "detection:\n  ioc:\n");
	for (i = 0; i <= VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "    - {name: l%zu, type: ip, path: x}\n",
				      i);
	expect_error(many, 3 + VG_CONFIG_MAX_LIST, "detection.ioc[64]",
		     "too many entries (at most 64)");
}

/* Exactly 64 entries of every list load. */
static void
test_full_lists(void **state)
{
	char text[16384];
	struct vg_config cfg;
	size_t i, o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "detection:\n  rules:\n");
	for (i = 0; i < VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "    - /r/%zu.yaml\n", i);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "  home_net:\n");
	for (i = 0; i < VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "    - 10.%zu.0.0/16\n", i);
	o += (size_t)snprintf(text + o, sizeof(text) - o, "  ioc:\n");
	for (i = 0; i < VG_CONFIG_MAX_LIST; i++)
		o += (size_t)snprintf(
		    text + o, sizeof(text) - o,
		    "    - {name: l%zu, type: ja3, path: /x}\n", i);
	load_text(&cfg, text);
	assert_int_equal(cfg.n_rule_paths, VG_CONFIG_MAX_LIST);
	assert_string_equal(cfg.rule_paths[63], "/r/63.yaml");
	assert_int_equal(cfg.n_home_net, VG_CONFIG_MAX_LIST);
	assert_string_equal(cfg.home_net[63], "10.63.0.0/16");
	assert_int_equal(cfg.n_ioc, VG_CONFIG_MAX_LIST);
	assert_string_equal(cfg.ioc[63].name, "l63");
	vg_config_fini(&cfg);
	round_trip(text, "    - name: \"l63\"\n      type: \"ja3\"\n");
}

/* The keys that were there before detection and geoip, set beside them. */
static void
test_old_keys_beside_new(void **state)
{
	struct vg_config cfg;

	(void)state;
	load_text(&cfg, "capture:\n"
			"  interfaces:\n"
			"    - {name: eth0, snaplen: 128}\n"
			"    - name: eth1\n"
			"      promiscuous: off\n"
			"decode:\n"
			"  tunnels: [vxlan]\n"
			"detection:\n"
			"  home_net: [192.168.0.0/16]\n"
			"  ioc:\n"
			"    - {name: a, type: ip, path: /a}\n"
			"flows:\n"
			"  max: 7\n"
			"geoip:\n"
			"  asn_db: /asn.mmdb\n"
			"log:\n"
			"  level: warning\n");
	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "eth0");
	assert_int_equal(cfg.ifaces[0].snaplen, 128);
	assert_true(cfg.ifaces[0].promiscuous);
	assert_int_equal(cfg.ifaces[0].buffer_size, 16u << 20);
	assert_false(cfg.ifaces[1].promiscuous);
	assert_int_equal(cfg.ifaces[1].snaplen, 65535);
	assert_int_equal(cfg.tunnels, VG_TUN_VXLAN);
	assert_int_equal(cfg.max_flows, 7);
	assert_int_equal(cfg.log_level, LOG_WARNING);
	assert_int_equal(cfg.n_home_net, 1);
	assert_int_equal(cfg.n_ioc, 1);
	assert_false(cfg.rule_paths_set);
	assert_string_equal(cfg.geoip_asn_db, "/asn.mmdb");
	assert_null(cfg.geoip_country_db);
	vg_config_fini(&cfg);

	/* Old errors keep their lines and keys with the new keys about. */
	expect_error("detection:\n  state_max: 5000\ncapture:\n  interfaces:\n"
		     "    - {name: a, snaplen: 1}\n",
		     5, "capture.interfaces[0].snaplen", "out of range");
	expect_error("detection:\n  home_net: [10.0.0.0/8]\ndecode:\n"
		     "  tunnels: [ipsec]\n",
		     4, "decode.tunnels[0]", "unknown tunnel");
}

/* Sizes, durations and booleans in every accepted spelling. */
static void
test_value_syntax(void **state)
{
	struct vg_config cfg;

	(void)state;
	load_text(&cfg,
		  "capture:\n"
		  "  interfaces:\n"
		  "    - {name: a, buffer_size: 1048576}\n"
		  "    - {name: b, buffer_size: 1536KiB}\n"
		  "    - {name: c, buffer_size: 16MiB}\n"
		  "    - {name: d, buffer_size: 2GiB}\n"
		  "    - {name: e, buffer_size: \"3MiB\", snaplen: \"96\"}\n"
		  "    - {name: f, promiscuous: no, immediate: on}\n"
		  "    - {name: g, promiscuous: False, immediate: TRUE}\n"
		  "    - {name: h, bpf: \"\"}\n"
		  "flows:\n"
		  "  idle_timeout: 30s\n"
		  "  active_timeout: 7d\n"
		  "output:\n"
		  "  stats_interval: 0\n"
		  "  event_max_bytes: 1KiB\n"
		  "workers: 010\n"
		  "decode:\n"
		  "  tunnels: []\n");
	assert_int_equal(cfg.n_ifaces, 8);
	assert_int_equal(cfg.ifaces[0].buffer_size, 1u << 20);
	assert_int_equal(cfg.ifaces[1].buffer_size, 1536u << 10);
	assert_int_equal(cfg.ifaces[2].buffer_size, 16u << 20);
	assert_int_equal(cfg.ifaces[3].buffer_size, 2u << 30);
	assert_int_equal(cfg.ifaces[4].buffer_size, 3u << 20);
	assert_int_equal(cfg.ifaces[4].snaplen, 96);
	assert_false(cfg.ifaces[5].promiscuous);
	assert_true(cfg.ifaces[5].immediate);
	assert_false(cfg.ifaces[6].promiscuous);
	assert_true(cfg.ifaces[6].immediate);
	assert_null(cfg.ifaces[7].bpf); /* empty filter: none */
	assert_int_equal(cfg.idle_timeout, 30);
	assert_int_equal(cfg.active_timeout, 7 * 86400);
	assert_int_equal(cfg.stats_interval, 0);
	assert_int_equal(cfg.event_max_bytes, 1024);
	assert_int_equal(cfg.workers, 10); /* decimal, never octal */
	assert_int_equal(cfg.tunnels, 0);  /* [] opens no tunnel */
	vg_config_fini(&cfg);

	load_text(&cfg, "flows:\n  idle_timeout: 5m\n  active_timeout: 2h\n"
			"output:\n  stats_interval: 1d\n");
	assert_int_equal(cfg.idle_timeout, 300);
	assert_int_equal(cfg.active_timeout, 7200);
	assert_int_equal(cfg.stats_interval, 86400);
	vg_config_fini(&cfg);

	load_text(&cfg, "---\n...\n");
	assert_int_equal(cfg.ring_slots, 4096);
	vg_config_fini(&cfg);
}

/* Spellings that look like numbers but are not, and the bounds. */
static void
test_bad_numbers(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    {"workers: 12x\n", "expected an integer, got \"12x\""},
	    {"workers: -1\n", "expected an integer"},
	    {"workers: +1\n", "expected an integer"},
	    {"workers: 0x10\n", "expected an integer"},
	    {"workers: \" 1\"\n", "expected an integer"},
	    {"workers: 1.0\n", "expected an integer"},
	    {"workers: 99999999999999999999999\n", "out of range"},
	    {"workers: 18446744073709551616\n", "out of range"},
	    {"workers: 65\n", "out of range (0..64)"},
	    {"workers:\n", "no value"},
	    {"workers: [1]\n", "expected an integer"},
	    {"flows:\n  idle_timeout: 5min\n", "expected a duration"},
	    {"flows:\n  idle_timeout: 30S\n", "expected a duration"},
	    {"flows:\n  idle_timeout: 0\n", "out of range (1s..365d)"},
	    {"flows:\n  idle_timeout: 31536001\n", "out of range"},
	    {"flows:\n  idle_timeout: 213503982334602d\n", "out of range"},
	    {"capture:\n  interfaces:\n    - {name: a, buffer_size: 16MB}\n",
	     "expected a size"},
	    {"capture:\n  interfaces:\n    - {name: a, buffer_size: 16 MiB}\n",
	     "expected a size"},
	    {"capture:\n  interfaces:\n    - {name: a, buffer_size: 1.5GiB}\n",
	     "expected a size"},
	    {"capture:\n  interfaces:\n    - {name: a, buffer_size: 4GiB}\n",
	     "out of range (1MiB..2GiB)"},
	    {"capture:\n  interfaces:\n    - {name: a, buffer_size: 1023KiB}\n",
	     "out of range"},
	    {"capture:\n  interfaces:\n    - {name: a, promiscuous: maybe}\n",
	     "expected true or false, got \"maybe\""},
	    {"capture:\n  interfaces:\n    - {name: a, immediate: 1}\n",
	     "expected true or false"},
	};
	static const char *const keys[] = {
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "workers",
	    "flows.idle_timeout",
	    "flows.idle_timeout",
	    "flows.idle_timeout",
	    "flows.idle_timeout",
	    "flows.idle_timeout",
	    "capture.interfaces[0].buffer_size",
	    "capture.interfaces[0].buffer_size",
	    "capture.interfaces[0].buffer_size",
	    "capture.interfaces[0].buffer_size",
	    "capture.interfaces[0].buffer_size",
	    "capture.interfaces[0].promiscuous",
	    "capture.interfaces[0].immediate",
	};
	size_t i;
	unsigned line;

	(void)state;
	assert_int_equal(sizeof(cases) / sizeof(cases[0]),
			 sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		line = strncmp(cases[i].text, "workers", 7) == 0 ? 1
		       : strncmp(cases[i].text, "flows", 5) == 0 ? 2
								 : 3;
		expect_error(cases[i].text, line, keys[i], cases[i].msg);
	}
}

/* Each kind of mistake in its own fixture: exact file, line and key. */
static void
test_error_fixtures(void **state)
{
	static const struct {
		const char *file;
		unsigned line;
		const char *key;
		const char *msg;
	} cases[] = {
	    {"bad-unknown-top.yaml", 3, "colour", "unknown key"},
	    {"bad-unknown-nested.yaml", 3, "flows.idle_timout", "unknown key"},
	    {"bad-type.yaml", 4, "capture.interfaces[0].snaplen",
	     "expected an integer, got \"large\""},
	    {"bad-range.yaml", 2, "flows.active_timeout", "out of range"},
	    {"bad-level.yaml", 2, "log.level", "unknown level \"verbose\""},
	    {"bad-tunnel.yaml", 4, "decode.tunnels[1]",
	     "unknown tunnel \"ipsec\""},
	    {"bad-no-name.yaml", 4, "capture.interfaces[1].name",
	     "required key missing"},
	    {"bad-agency.yaml", 2, "agent.agency",
	     "invalid agency \"Police_HQ\""},
	    {"bad-ring.yaml", 2, "capture.ring_slots",
	     "3000 is not a power of two"},
	    {"bad-syntax.yaml", 3, "(document)", "YAML syntax error"},
	    {"bad-not-mapping.yaml", 1, "(document)", "must be a mapping"},
	    {"bad-cidr.yaml", 5, "detection.home_net[1]",
	     "not a CIDR: \"10.0.0.256/32\""},
	    {"bad-cidr-prefix.yaml", 2, "detection.home_net[1]",
	     "not a CIDR: \"10.0.0.1/33\""},
	    {"bad-cidr-host.yaml", 5, "detection.home_net[2]",
	     "host bits are set below the prefix: \"10.0.0.1/8\""},
	    {"bad-home-net-empty.yaml", 3, "detection.home_net",
	     "must not be empty (1 to 64 entries)"},
	    {"bad-ioc-type.yaml", 4, "detection.ioc[0].type",
	     "unknown type \"md5\" (expected ip, domain, ja3 or sha256)"},
	    {"bad-ioc-no-path.yaml", 6, "detection.ioc[1].path",
	     "required key missing"},
	    {"bad-ioc-dup.yaml", 8, "detection.ioc[2].name",
	     "duplicate name \"blocklist\" (first used on line 4)"},
	    {"bad-ioc-name.yaml", 3, "detection.ioc[0].name",
	     "invalid name \"Blocklist IP\""},
	    {"bad-rules-map.yaml", 2, "detection.rules", "expected a list"},
	};
	char path[PATH_MAX];
	struct vg_config cfg;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", DATA_DIR, cases[i].file);
		r = load(&cfg, path);
		assert_one_error(&r, &cfg, path, cases[i].line, cases[i].key,
				 cases[i].msg);
		vg_config_fini(&cfg);
		free(r.out);
	}
}

/* Every problem is reported in one run, in line order. */
static void
test_two_errors(void **state)
{
	const char *path = DATA_DIR "bad-two.yaml";
	char want[2 * PATH_MAX];
	struct vg_config cfg;
	struct result r;
	char *second;

	(void)state;
	r = load(&cfg, path);
	assert_int_equal(r.err, VG_EINVAL);
	snprintf(want, sizeof(want), "%s:4: log.levle: unknown key\n", path);
	assert_int_equal(strncmp(r.out, want, strlen(want)), 0);
	second = r.out + strlen(want);
	snprintf(want, sizeof(want), "%s:6: flows.max: ", path);
	assert_int_equal(strncmp(second, want, strlen(want)), 0);
	assert_non_null(strstr(second, "out of range"));
	assert_ptr_equal(strchr(second, '\n'), r.out + r.len - 1);
	assert_true(all_zero(&cfg));
	free(r.out);

	/* A missing key is found at the end of its mapping, yet sorted. */
	expect_error("capture:\n  interfaces:\n    - bpf: tcp\n"
		     "      snaplen: 65535\n",
		     3, "capture.interfaces[0].name", "required");
}

static void
test_structure_errors(void **state)
{
	char many[4096];
	size_t i, o = 0;

	(void)state;
	expect_error("flows:\n  max: 10\n  max: 20\n", 3, "flows.max",
		     "duplicate key (first set on line 2)");
	expect_error("flows:\n", 1, "flows", "no value (expected a mapping)");
	expect_error("flows: 30\n", 1, "flows", "expected a mapping");
	expect_error("capture:\n  interfaces: eth0\n", 2, "capture.interfaces",
		     "expected a list");
	expect_error("decode:\n  tunnels: gre\n", 2, "decode.tunnels",
		     "expected a list");
	expect_error("decode:\n  tunnels: [gre, [vxlan]]\n", 2,
		     "decode.tunnels[1]", "expected one of gre");
	expect_error("agent: &a\n  agency: x\nlog: *a\n", 3, "log",
		     "aliases are not supported");
	expect_error("workers: 1\n---\nworkers: 2\n", 2, "(document)",
		     "only one YAML document");
	expect_error("? [a, b]\n: 1\n", 1, "(document)",
		     "keys must be plain strings");
	expect_error("hello\n", 1, "(document)", "must be a mapping");
	expect_error("agent:\n  id: \"a\\tb\"\n", 2, "agent.id",
		     "control characters");
	expect_error("agent:\n  hostname: \"a\\0b\"\n", 2, "agent.hostname",
		     "NUL byte");
	expect_error("agent:\n  id: \"\"\n", 2, "agent.id",
		     "must not be empty");
	expect_error("agent:\n  agency: -police\n", 2, "agent.agency",
		     "invalid agency");
	expect_error("agent:\n  agency: "
		     "a2345678901234567890123456789012345678901234567890123456"
		     "789012345\n",
		     2, "agent.agency", "invalid agency");
	expect_error("output:\n  file:\n    path: \"\"\n", 3,
		     "output.file.path", "must not be empty");
	expect_error("output:\n  file:\n    name: x\n", 3, "output.file.name",
		     "unknown key");
	/* A key with junk bytes is shown escaped, on one line. */
	expect_error("\"bad\\nkey\": 1\n", 1, "bad\\x0akey", "unknown key");
	expect_error("flows:\n  max: 1\n x: [\n", 3, "(document)",
		     "YAML syntax error");
	/* A syntax error inside a value names its key. */
	expect_error("log:\n  level: \"info\n", 3, "log.level",
		     "YAML syntax error");

	/* 17 interfaces: the 17th is refused. */
	o += (size_t)snprintf(many + o, sizeof(many) - o,
			      "capture:\n"
			      "  interfaces:\n");
	for (i = 0; i <= VG_CONFIG_MAX_IFACES; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "    - name: eth%zu\n", i);
	expect_error(many, 3 + VG_CONFIG_MAX_IFACES, "capture.interfaces[16]",
		     "too many entries (at most 16)");
}

/* A file full of mistakes gives at most VG_CONFIG_MAX_ERRORS lines. */
static void
test_error_cap(void **state)
{
	struct vg_config cfg;
	struct result r;
	char text[8192], *path, *p;
	size_t i, o = 0, lines = 0;

	(void)state;
	for (i = 0; i < 2 * VG_CONFIG_MAX_ERRORS; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "unknown%zu: 1\n", i);
	path = write_tmp(text);
	r = load(&cfg, path);
	assert_int_equal(r.err, VG_EINVAL);
	for (p = r.out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, VG_CONFIG_MAX_ERRORS);
	assert_non_null(strstr(r.out, "too many errors"));
	unlink(path);
	free(path);
	free(r.out);
}

static void
test_unreadable(void **state)
{
	static const char *const paths[] = {
	    "/nonexistent/vigil/agent.yaml", DATA_DIR, /* a directory */
	};
	struct vg_config cfg;
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = load(&cfg, paths[i]);
		assert_int_equal(r.err, VG_EIO);
		assert_int_equal(strncmp(r.out, paths[i], strlen(paths[i])), 0);
		assert_non_null(strstr(r.out, "cannot read"));
		assert_true(all_zero(&cfg));
		vg_config_fini(&cfg);
		free(r.out);
	}
	/* errs may be NULL. */
	assert_int_equal(vg_config_load(&cfg, paths[0], NULL), VG_EIO);
	assert_int_equal(vg_config_load(&cfg, DATA_DIR "bad-two.yaml", NULL),
			 VG_EINVAL);
	assert_true(all_zero(&cfg));
}

static void
test_fini_zeroed(void **state)
{
	struct vg_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	vg_config_fini(&cfg);
	vg_config_fini(&cfg);
	assert_true(all_zero(&cfg));
	vg_config_fini(NULL);
}

/* privileges.* and log.target: defaults, values, lines, errors. */
static void
test_privileges_log_target(void **state)
{
	struct vg_config cfg;

	(void)state;
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	assert_string_equal(cfg.priv_user, "vigil");
	assert_null(cfg.priv_group);
	assert_false(cfg.priv_allow_root);
	assert_int_equal(cfg.priv_user_line, 0);
	assert_string_equal(cfg.log_target, "auto");
	vg_config_fini(&cfg);

	load_text(&cfg, "workers: 1\nprivileges:\n  user: nobody\n"
			"  group: nogroup\n  allow_root: yes\n"
			"log:\n  target: JournalD\n");
	assert_string_equal(cfg.priv_user, "nobody");
	assert_string_equal(cfg.priv_group, "nogroup");
	assert_true(cfg.priv_allow_root);
	/* Kept for the privilege drop's messages. */
	assert_int_equal(cfg.priv_user_line, 3);
	assert_int_equal(cfg.priv_group_line, 4);
	assert_string_equal(cfg.log_target, "journald");
	vg_config_fini(&cfg);

	expect_error("privileges:\n  user: \"\"\n", 2, "privileges.user",
		     "must not be empty");
	expect_error("privileges:\n  group: \"a\\nb\"\n", 2, "privileges.group",
		     "control characters");
	expect_error("privileges:\n  allow_root: sometimes\n", 2,
		     "privileges.allow_root", "expected true or false");
	expect_error("privileges:\n  uid: 0\n", 2, "privileges.uid",
		     "unknown key");
	expect_error("log:\n  target: syslog\n", 2, "log.target",
		     "expected stderr, journald or auto");
}

/* control.socket and metrics.*: defaults, "off", paths, addresses. */
static void
test_operations(void **state)
{
	struct vg_config cfg;

	(void)state;
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	assert_string_equal(cfg.control_socket, VG_CONTROL_SOCKET_DEFAULT);
	assert_null(cfg.metrics_listen);
	assert_false(cfg.metrics_allow_remote);
	vg_config_fini(&cfg);

	load_text(&cfg, "control:\n  socket: off\nmetrics:\n  listen: off\n");
	assert_null(cfg.control_socket);
	assert_null(cfg.metrics_listen);
	vg_config_fini(&cfg);

	load_text(&cfg, "control:\n  socket: /tmp/x/agent.sock\n"
			"metrics:\n  listen: 127.0.0.1:9477\n");
	assert_string_equal(cfg.control_socket, "/tmp/x/agent.sock");
	assert_string_equal(cfg.metrics_listen, "127.0.0.1:9477");
	vg_config_fini(&cfg);

	load_text(&cfg, "metrics:\n  listen: \"[::1]:9\"\n");
	vg_config_fini(&cfg);
	load_text(&cfg, "metrics:\n  listen: localhost:9477\n");
	vg_config_fini(&cfg);
	load_text(&cfg, "metrics:\n  listen: 0.0.0.0:9477\n"
			"  allow_remote: true\n");
	assert_true(cfg.metrics_allow_remote);
	vg_config_fini(&cfg);

	expect_error("metrics:\n  allow_remote: false\n  listen: "
		     "0.0.0.0:9477\n",
		     3, "metrics.listen",
		     "0.0.0.0 is not a loopback address (set "
		     "metrics.allow_remote: true");
	expect_error("metrics:\n  listen: \"[2001:db8::1]:80\"\n", 2,
		     "metrics.listen", "2001:db8::1 is not a loopback address");
	expect_error("metrics:\n  listen: 9477\n", 2, "metrics.listen",
		     "expected HOST:PORT");
	expect_error("metrics:\n  listen: 127.0.0.1:0\n", 2, "metrics.listen",
		     "expected HOST:PORT");
	expect_error("metrics:\n  listen: 127.0.0.1:65536\n", 2,
		     "metrics.listen", "expected HOST:PORT");
	expect_error("metrics:\n  listen: example.org:80\n", 2,
		     "metrics.listen", "expected HOST:PORT");
	expect_error("metrics:\n  listen: \"::1:80\"\n", 2, "metrics.listen",
		     "expected HOST:PORT");
	expect_error("control:\n  socket: \"\"\n", 2, "control.socket",
		     "must not be empty");
	expect_error("control:\n  sockets: /x\n", 2, "control.sockets",
		     "unknown");
}

/* Bounds of agent.yaml (config.h, SECURITY.md "Limits"): the file's size
 * and a string value's length, each at the bound and one past it. */
static void
test_limits(void **state)
{
	const char *head = "agent:\n  agency: lim\n#";
	size_t n = strlen(head), len;
	struct vg_config cfg;
	char *text, msg[64];

	(void)state;
	/* The file: VG_CONFIG_MAX_FILE_BYTES loads, one byte more does not. */
	text = malloc(VG_CONFIG_MAX_FILE_BYTES + 2);
	assert_non_null(text);
	memcpy(text, head, n);
	memset(text + n, 'x', VG_CONFIG_MAX_FILE_BYTES - n - 1);
	text[VG_CONFIG_MAX_FILE_BYTES - 1] = '\n';
	text[VG_CONFIG_MAX_FILE_BYTES] = '\0';
	load_text(&cfg, text);
	assert_string_equal(cfg.agency, "lim");
	vg_config_fini(&cfg);
	text[VG_CONFIG_MAX_FILE_BYTES - 1] = 'x';
	text[VG_CONFIG_MAX_FILE_BYTES] = '\n';
	text[VG_CONFIG_MAX_FILE_BYTES + 1] = '\0';
	snprintf(msg, sizeof(msg), "file larger than %u bytes",
		 VG_CONFIG_MAX_FILE_BYTES);
	expect_error(text, 1, "(document)", msg);
	free(text);

	/* A string (a BPF filter): VG_CONFIG_MAX_STRING bytes, then one more.
	 */
	n = strlen("capture:\n  interfaces:\n    - name: eth0\n      bpf: ");
	len = n + VG_CONFIG_MAX_STRING + 2;
	text = malloc(len + 1);
	assert_non_null(text);
	memcpy(text,
	       "capture:\n  interfaces:\n    - name: eth0\n      bpf: ", n);
	memset(text + n, 'a', VG_CONFIG_MAX_STRING);
	strcpy(text + n + VG_CONFIG_MAX_STRING, "\n");
	load_text(&cfg, text);
	assert_int_equal(strlen(cfg.ifaces[0].bpf), VG_CONFIG_MAX_STRING);
	vg_config_fini(&cfg);
	strcpy(text + n + VG_CONFIG_MAX_STRING, "a\n");
	snprintf(msg, sizeof(msg), "longer than %d bytes",
		 VG_CONFIG_MAX_STRING);
	expect_error(text, 4, "capture.interfaces[0].bpf", msg);
	free(text);

	/* files.max_size, the largest file YARA scans: 2 GiB at most. */
	load_text(&cfg, "files:\n  max_size: 2GiB\n");
	assert_int_equal(cfg.file_max_size, 2048u * 1024 * 1024);
	vg_config_fini(&cfg);
	expect_error("files:\n  max_size: 2147483649\n", 2, "files.max_size",
		     "");
}

/* output.redis.password_file's reader (common.c): the first line only,
 * whole or refused. */
static void
test_read_secret(void **state)
{
	char line[VG_SECRET_MAX + 2], err[PATH_MAX + 128] = "", *path, *pw;

	(void)state;
	path = write_tmp("s3cret\r\nsecond line\n");
	pw = vg_read_secret(path, "k", err, sizeof(err));
	assert_non_null(pw);
	assert_string_equal(pw, "s3cret");
	free(pw);
	unlink(path);
	free(path);

	/* VG_SECRET_MAX bytes fit, with or without a line end. */
	memset(line, 'a', VG_SECRET_MAX);
	line[VG_SECRET_MAX] = '\0';
	path = write_tmp(line);
	pw = vg_read_secret(path, "k", err, sizeof(err));
	assert_non_null(pw);
	assert_int_equal(strlen(pw), VG_SECRET_MAX);
	free(pw);
	unlink(path);
	free(path);
	line[VG_SECRET_MAX] = '\n';
	line[VG_SECRET_MAX + 1] = '\0';
	path = write_tmp(line);
	pw = vg_read_secret(path, "k", err, sizeof(err));
	assert_non_null(pw);
	assert_int_equal(strlen(pw), VG_SECRET_MAX);
	free(pw);
	unlink(path);
	free(path);

	/* One byte more: refused, naming the file and the limit. */
	line[VG_SECRET_MAX] = 'a';
	path = write_tmp(line);
	assert_null(vg_read_secret(path, "k", err, sizeof(err)));
	assert_non_null(strstr(err, path));
	{
		char want[64];

		snprintf(want, sizeof(want), "longer than %u bytes",
			 (unsigned)VG_SECRET_MAX);
		assert_non_null(strstr(err, want));
	}
	unlink(path);
	free(path);

	path = write_tmp("\nsecond line\n");
	assert_null(vg_read_secret(path, "k", err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	unlink(path);
	free(path);
}

/* common.c's hex and SHA-256 helpers. */
static void
test_hex_sha256(void **state)
{
	static const uint8_t bytes[] = {0x00, 0x9f, 0xa0, 0xff};
	uint8_t back[4], md[32];
	char hex[65];

	(void)state;
	assert_string_equal(vg_hex_encode(hex, bytes, 4), "009fa0ff");
	assert_int_equal(vg_hex_decode(back, 4, "009FA0ff", 8), 0);
	assert_memory_equal(back, bytes, 4);
	assert_int_equal(vg_hex_decode(back, 4, "009fa0f", 7), -1);
	assert_int_equal(vg_hex_decode(back, 4, "009fa0fg", 8), -1);
	assert_int_equal(vg_sha256("abc", 3, md), 0);
	assert_string_equal(vg_hex_encode(hex, md, 32),
			    "ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad");
	vg_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_example_is_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_dump_round_trip),
	    cmocka_unit_test(test_dump_unset),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_home_net),
	    cmocka_unit_test(test_home_net_errors),
	    cmocka_unit_test(test_relative_paths),
	    cmocka_unit_test(test_detection_errors),
	    cmocka_unit_test(test_full_lists),
	    cmocka_unit_test(test_old_keys_beside_new),
	    cmocka_unit_test(test_value_syntax),
	    cmocka_unit_test(test_bad_numbers),
	    cmocka_unit_test(test_error_fixtures),
	    cmocka_unit_test(test_two_errors),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_error_cap),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_fini_zeroed),
	    cmocka_unit_test(test_privileges_log_target),
	    cmocka_unit_test(test_operations),
	    cmocka_unit_test(test_read_secret),
	    cmocka_unit_test(test_hex_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
