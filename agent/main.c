/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-agent: the command line.
 *
 *   vigil-agent run [-c FILE]          the daemon, in the foreground
 *   vigil-agent replay [...] CAPTURE... capture files through the pipeline
 *   vigil-agent check [-c FILE] [-v]   validate the configuration and rules
 *   vigil-agent rules test [-v] [DIR]  run the rule test cases
 *   vigil-agent scan [...] PATH...     scan files with the YARA rules
 *   vigil-agent quarantine list|restore  what the file scanner moved away
 *   vigil-agent status [-c FILE|-s SOCKET] [--json]  ask the running agent
 *   vigil-agent reload [-c FILE|-s SOCKET]  reload its rules, and say how
 *   vigil-agent version
 *
 * The main thread owns the signals: every other thread is started with
 * SIGTERM, SIGINT and SIGHUP blocked, and the main thread takes them with
 * sigtimedwait(), which also paces the stats timer.
 */
#include "capture.h"
#include "classify.h"
#include "common.h"
#include "config.h"
#include "control.h"
#include "engine.h"
#include "filescan.h"
#include "log.h"
#include "metrics.h"
#include "netrules.h"
#include "bundlepoll.h"
#include "output.h"
#include "privdrop.h"
#include "quarantine.h"
#include "rulestest.h"
#include "scanchild.h"
#include "service.h"
#include "yarascan.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 1 /* bad command line or configuration */
#define EXIT_INPUT 2 /* a capture could not be read */

/* vigil-agent status and reload, like systemctl status */
#define CTL_OK          0 /* the agent answered (reload: and it worked) */
#define CTL_FAILED      1 /* reload: refused, the old rules stay */
#define CTL_NOT_RUNNING 3 /* no agent answers on the socket */
/* An agent may be there but did not answer us: permission, time, a
 * refusal, a reply that makes no sense. */
#define CTL_NO_ANSWER 4

/* vigil-agent scan, like clamscan */
#define SCAN_CLEAN 0 /* nothing matched */
#define SCAN_MATCH 1 /* something matched */
#define SCAN_ERROR 2 /* an error (and nothing matched) */

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vigil-agent run [-c FILE] [--allow-root]\n"
	    "       vigil-agent replay [-c FILE] [--flows] [--output PATH|-]"
	    " [--workers N]\n"
	    "                          [--sandbox] CAPTURE...\n"
	    "       vigil-agent check [-c FILE] [-v]\n"
	    "       vigil-agent rules test [-v] [DIR|CASE]\n"
	    "       vigil-agent scan [-c FILE] [--rules R]... [--output PATH|-]"
	    " [--threads N]\n"
	    "                        [--quarantine DIR] [--sandbox] PATH...\n"
	    "       vigil-agent quarantine list [-c FILE] [--dir DIR]\n"
	    "       vigil-agent quarantine restore [-c FILE] [--dir DIR]"
	    " [--to PATH] [--force] ID\n"
	    "       vigil-agent status [-c FILE | -s SOCKET] [--json]\n"
	    "       vigil-agent reload [-c FILE | -s SOCKET]\n"
	    "       vigil-agent version\n"
	    "\n"
	    "  -c, --config FILE   configuration (default: built-in "
	    "defaults)\n"
	    "  --allow-root        run: stay root, only dropping capabilities\n"
	    "                      (privileges.allow_root)\n"
	    "  --flows             also emit a \"flow\" event per flow\n"
	    "  -o, --output PATH   where events go: a file, or - for stdout\n"
	    "  -w, --workers N     worker threads (default: cores - 1)\n"
	    "  --sandbox           replay: the packet path in a sandboxed\n"
	    "                      child, as run does (sandbox.packets);\n"
	    "                      scan: YARA in sandboxed children, as run\n"
	    "                      does (sandbox.files)\n"
	    "  -v, --verbose       check: print the effective configuration;\n"
	    "                      rules test: print every case's alerts\n"
	    "  -r, --rules R       scan: YARA rules (file, folder or .yarc;\n"
	    "                      repeatable) instead of files.rules\n"
	    "  -t, --threads N     scan: scanner threads\n"
	    "  --quarantine DIR    scan: move matching files into DIR\n"
	    "  --dir DIR           quarantine: the folder (files.quarantine)\n"
	    "  --to PATH           quarantine restore: where to (default: the\n"
	    "                      original path)\n"
	    "  --force             quarantine restore: replace an existing "
	    "file\n"
	    "  -s, --socket PATH   status, reload: the agent's control socket\n"
	    "                      (default: control.socket of -c FILE, else\n"
	    "                      " VG_CONTROL_SOCKET_DEFAULT ")\n"
	    "  --json              status: the agent's JSON reply as is\n"
	    "\n"
	    "scan exits 0 when nothing matched, 1 when something did, 2 on\n"
	    "errors (when nothing matched).\n"
	    "status exits 0 when the agent answered, 3 when none is running;\n"
	    "reload exits 0 when the new rules are in force, 1 when they were\n"
	    "refused (the running ones stay), 3 when no agent is running.\n"
	    "Both exit 4 when an agent would not answer (permission, time).\n"
	    "\n"
	    "Without -c, the rules shipped with the agent are used (from the\n"
	    "source tree when run from a build folder).\n");
}

/* Load the configuration (or the defaults), reporting errors. */
static int
load_config(struct vg_config *cfg, const char *path)
{
	enum vg_err rc;

	if (path == NULL)
		rc = vg_config_defaults(cfg);
	else
		rc = vg_config_load(cfg, path, stderr);
	if (rc != VG_OK) {
		if (path == NULL)
			fprintf(stderr, "vigil-agent: %s\n", vg_strerror(rc));
		return -1;
	}
	vg_log_set_level(cfg->log_level);
	return 0;
}

/*
 * The shipped rule set (network/, ioc/, tests/): beside the source tree
 * when this binary was built in it (build/bin/vigil-agent), else where it
 * is installed, else in the source tree it was built from.
 */
static const char *
shipped_rules(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n;
	char *slash;
	struct stat sb;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/../../rules/network", exe);
		if (stat(probe, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			snprintf(probe, sizeof(probe), "%s/../../rules", exe);
			if (realpath(probe, dir) != NULL)
				return dir;
		}
	}
	/* Installed, or else the source tree this binary was built from (a
	 * build folder outside it). */
	snprintf(dir, sizeof(dir), "%s", VIGIL_RULES_DIR);
	snprintf(probe, sizeof(probe), "%s/network", VIGIL_RULES_DIR);
	if (stat(probe, &sb) != 0) {
		snprintf(probe, sizeof(probe), "%s/rules/network",
			 VIGIL_SOURCE_DIR);
		if (stat(probe, &sb) == 0)
			snprintf(dir, sizeof(dir), "%s/rules",
				 VIGIL_SOURCE_DIR);
	}
	return dir;
}

/* Build the detection set of cfg, errors to errs. */
static struct vg_detect *
load_detect(const struct vg_config *cfg, FILE *errs)
{
	struct vg_detect *d = NULL;

	if (vg_detect_load(&d, cfg, shipped_rules(), errs) != VG_OK) {
		fprintf(errs, "vigil-agent: %s: rules not loaded\n",
			cfg->path ? cfg->path : "(built-in defaults)");
		return NULL;
	}
	return d;
}

/*
 * The YARA rule set: paths (scan --rules) when given, else files.rules,
 * else the shipped rules/yara. Errors to errs. NULL on failure.
 */
static struct vg_yara *
load_yara(const struct vg_config *cfg, char *const *paths, unsigned n,
	  FILE *errs)
{
	static char shipped[PATH_MAX + 8];
	char *one[1] = {shipped};
	struct vg_yara *y = NULL;

	if (n == 0 && cfg->file_rules_set) {
		paths = cfg->file_rules;
		n = cfg->n_file_rules;
	} else if (n == 0) {
		snprintf(shipped, sizeof(shipped), "%s/yara", shipped_rules());
		paths = one;
		n = 1;
	}
	if (vg_yara_load(&y, paths, n, errs) != VG_OK) {
		fprintf(errs, "vigil-agent: %s: YARA rules not loaded\n",
			cfg->path ? cfg->path : "(built-in defaults)");
		return NULL;
	}
	return y;
}

static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Wait up to ms for a signal: the signal number, or 0. */
static int
wait_signal(const sigset_t *set, unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	int sig = sigtimedwait(set, NULL, &ts);

	return sig > 0 ? sig : 0;
}

#define MAX_RULE_ARGS 64

struct opts {
	const char *config;
	const char *output;
	unsigned workers;
	int flows;
	int verbose;
	char *rules[MAX_RULE_ARGS]; /* scan --rules */
	unsigned n_rules;
	unsigned threads;
	const char *quarantine;
	const char *dir;
	const char *to;
	int force;
	int allow_root;     /* run --allow-root */
	const char *socket; /* status, reload */
	int json;
	int sandbox; /* replay --sandbox */
};

/* A count option from 1 to max; -1 after an error message. */
static long
count_arg(const char *name, const char *s, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || end == s || n < 1 || n > max) {
		fprintf(stderr,
			"vigil-agent: --%s: expected 1..%lu, got \"%s\"\n",
			name, max, s);
		return -1;
	}
	return (long)n;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"output", required_argument, NULL, 'o'},
	    {"workers", required_argument, NULL, 'w'},
	    {"flows", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"rules", required_argument, NULL, 'r'},
	    {"threads", required_argument, NULL, 't'},
	    {"quarantine", required_argument, NULL, 'Q'},
	    {"dir", required_argument, NULL, 'D'},
	    {"to", required_argument, NULL, 'T'},
	    {"force", no_argument, NULL, 'F'},
	    {"allow-root", no_argument, NULL, 'A'},
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'J'},
	    {"sandbox", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long n;
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:w:fvr:t:s:h", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'w':
			if ((n = count_arg("workers", optarg, 64)) < 0)
				return -1;
			o->workers = (unsigned)n;
			break;
		case 't':
			if ((n = count_arg("threads", optarg, 32)) < 0)
				return -1;
			o->threads = (unsigned)n;
			break;
		case 'r':
			if (o->n_rules == MAX_RULE_ARGS) {
				fprintf(stderr, "vigil-agent: too many "
						"--rules\n");
				return -1;
			}
			o->rules[o->n_rules++] = optarg;
			break;
		case 'Q':
			o->quarantine = optarg;
			break;
		case 'D':
			o->dir = optarg;
			break;
		case 'T':
			o->to = optarg;
			break;
		case 'F':
			o->force = 1;
			break;
		case 'A':
			o->allow_root = 1;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'J':
			o->json = 1;
			break;
		case 'S':
			o->sandbox = 1;
			break;
		case 'f':
			o->flows = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct vg_config cfg;
	struct vg_detect *d;
	struct vg_yara *y;
	struct opts o;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (load_config(&cfg, o.config) < 0)
		return EXIT_USAGE;
	if (o.verbose)
		vg_config_dump(&cfg, stdout);
	d = load_detect(&cfg, stderr);
	if (d == NULL) {
		vg_config_fini(&cfg);
		return EXIT_USAGE;
	}
	y = load_yara(&cfg, NULL, 0, stderr);
	if (y == NULL) {
		vg_detect_free(d);
		vg_config_fini(&cfg);
		return EXIT_USAGE;
	}
	fprintf(stderr,
		"%s: configuration OK; %u rules (%u enabled), %u IoC lists "
		"(%zu entries), %u YARA rules from %u files\n",
		o.config ? o.config : "(built-in defaults)",
		vg_detect_rule_count(d), vg_detect_rules_enabled(d),
		vg_detect_list_count(d), vg_detect_list_entries(d),
		vg_yara_rule_count(y), vg_yara_file_count(y));
	vg_yara_unref(y);
	vg_detect_free(d);
	vg_config_fini(&cfg);
	return 0;
}

static int
cmd_rules(int argc, char **argv)
{
	char dir[PATH_MAX + 8], set[PATH_MAX + 32];
	struct stat sb;
	struct opts o;

	if (argc < 2 || strcmp(argv[1], "test") != 0) {
		fprintf(stderr, "vigil-agent rules: expected \"test\"\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (parse_opts(argc - 1, argv + 1, &o) < 0)
		return EXIT_USAGE;
	if (optind < argc - 1)
		snprintf(dir, sizeof(dir), "%s", argv[1 + optind]);
	else
		snprintf(dir, sizeof(dir), "%s/tests", shipped_rules());
	/* Cases in a rule set's tests/ folder test that set (network/ and
	 * ioc/ beside it), else the shipped one. */
	snprintf(set, sizeof(set), "%s/../network", dir);
	if (stat(set, &sb) == 0 && S_ISDIR(sb.st_mode))
		snprintf(set, sizeof(set), "%s/..", dir);
	else
		snprintf(set, sizeof(set), "%s", shipped_rules());
	vg_log_set_level(LOG_WARNING);
	return vg_rules_test(dir, set, o.verbose, stdout);
}

static void
event_ctx(struct vg_event_ctx *ctx, const struct vg_config *cfg)
{
	ctx->host = cfg->hostname;
	ctx->agent_id = cfg->agent_id;
	ctx->agency = cfg->agency;
	ctx->version = VG_VERSION;
}

/* The file scanner's counters, for summaries and stats events. */
#define FC(f)                                                                  \
	{                                                                      \
		"files." #f, offsetof(struct vg_filescan_stats, f)             \
	}
static const struct {
	const char *key;
	size_t off;
} file_counters[] = {
    FC(scanned),
    FC(bytes),
    FC(matched),
    FC(hash_listed),
    FC(alerts),
    FC(cached),
    FC(skipped_size),
    FC(skipped_excluded),
    FC(skipped_special),
    FC(vanished),
    FC(errors),
    FC(timeouts),
    FC(quarantined),
    FC(quarantine_errors),
    FC(event_errors),
    FC(watched_dirs),
    FC(watch_limit),
    FC(overflows),
    FC(full_scans),
    FC(queued),
    FC(rules_version),
    FC(sandbox_restarts),
    FC(sandbox_malformed),
};
#undef FC

static uint64_t
counter(const struct vg_filescan_stats *st, size_t i)
{
	return *(const uint64_t *)(const void *)((const char *)st +
						 file_counters[i].off);
}

static size_t
file_stats(void *arg, struct vg_stat_kv *kv, size_t room)
{
	struct vg_filescan_stats st;
	size_t i;

	vg_filescan_stats(arg, &st);
	for (i = 0; i < VG_ARRAY_LEN(file_counters) && i < room; i++)
		kv[i] =
		    (struct vg_stat_kv){file_counters[i].key, counter(&st, i)};
	return i;
}

static void
file_summary(struct vg_filescan *fs, FILE *out)
{
	struct vg_filescan_stats st;
	size_t i;

	vg_filescan_stats(fs, &st);
	fprintf(out, "files:\n");
	for (i = 0; i < VG_ARRAY_LEN(file_counters); i++)
		if (counter(&st, i))
			fprintf(out, "  %-18s %" PRIu64 "\n",
				file_counters[i].key + 6, counter(&st, i));
}

static int
cmd_scan(int argc, char **argv)
{
	struct vg_filescan_opts fo;
	struct vg_filescan_stats st;
	struct vg_filescan_hashes *hashes = NULL;
	struct vg_filescan *fs = NULL;
	struct vg_output *out = NULL;
	struct vg_event_ctx ctx;
	struct vg_yara *y = NULL;
	struct vg_config cfg;
	struct opts o;
	char err[512] = "";
	int status = SCAN_ERROR;

	if (parse_opts(argc, argv, &o) < 0)
		return SCAN_ERROR;
	if (optind >= argc) {
		fprintf(stderr, "vigil-agent scan: no file or folder given\n");
		usage(stderr);
		return SCAN_ERROR;
	}
	if (load_config(&cfg, o.config) < 0)
		return SCAN_ERROR;
	signal(SIGPIPE, SIG_IGN);
	y = load_yara(&cfg, o.rules, o.n_rules, stderr);
	if (y == NULL ||
	    vg_filescan_hashes_load(&hashes, &cfg, stderr) != VG_OK)
		goto out;
	if (vg_output_open(&out, o.output ? o.output : "-", cfg.queue_events, 1,
			   err, sizeof(err)) != VG_OK)
		goto out;
	event_ctx(&ctx, &cfg);
	/* One pass over the files: a verdict cache would never be hit. */
	cfg.file_cache = 0;
	memset(&fo, 0, sizeof(fo));
	fo.cfg = &cfg;
	fo.rules = y;
	fo.out = out;
	fo.ctx = &ctx;
	fo.threads = o.threads;
	fo.hashes = hashes;
	fo.scanner_exe = o.sandbox ? "/proc/self/exe" : NULL;
	/* On demand, files are moved only when asked to. */
	fo.quarantine = o.quarantine ? o.quarantine : "";
	if (vg_filescan_new(&fs, &fo, err, sizeof(err)) != VG_OK ||
	    vg_filescan_start(fs, 0, err, sizeof(err)) != VG_OK)
		goto out;
	vg_filescan_scan_paths(fs, argv + optind, argc - optind);
	vg_filescan_stop(fs);
	vg_filescan_stats(fs, &st);
	if (o.verbose || vg_log_get_level() >= LOG_INFO)
		file_summary(fs, stderr);
	status = st.matched ? SCAN_MATCH : st.errors ? SCAN_ERROR : SCAN_CLEAN;
out:
	if (err[0])
		fprintf(stderr, "vigil-agent: %s\n", err);
	vg_filescan_free(fs);
	vg_output_close(out, NULL);
	vg_filescan_hashes_unref(hashes);
	vg_yara_unref(y);
	vg_config_fini(&cfg);
	return status;
}

static void
print_time_us(FILE *out, int64_t us)
{
	char buf[32];

	vg_eve_time(buf, us);
	buf[19] = '\0'; /* to the second */
	fprintf(out, "%sZ", buf);
}

static int
cmd_quarantine(int argc, char **argv)
{
	struct vg_quarantine_item *items = NULL, item;
	struct vg_config cfg;
	const char *dir;
	char err[1024] = "";
	size_t n = 0, bad = 0, i;
	struct opts o;
	int status = EXIT_USAGE;
	int list;

	if (argc < 2 ||
	    (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "restore") != 0)) {
		fprintf(stderr, "vigil-agent quarantine: expected \"list\" or "
				"\"restore\"\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	list = strcmp(argv[1], "list") == 0;
	if (parse_opts(argc - 1, argv + 1, &o) < 0)
		return EXIT_USAGE;
	if (load_config(&cfg, o.config) < 0)
		return EXIT_USAGE;
	dir = o.dir ? o.dir : cfg.file_quarantine;
	if (dir == NULL) {
		fprintf(stderr, "vigil-agent quarantine: no quarantine folder "
				"(set files.quarantine or give --dir)\n");
		goto out;
	}
	if (list) {
		if (vg_quarantine_list(dir, &items, &n, &bad) != VG_OK) {
			fprintf(stderr, "vigil-agent quarantine: %s: %s\n", dir,
				strerror(errno));
			status = EXIT_INPUT;
			goto out;
		}
		printf("%-26s %-20s %10s  %-32s %s\n", "ID", "QUARANTINED",
		       "SIZE", "RULE", "PATH");
		for (i = 0; i < n; i++) {
			printf("%-26s ", items[i].id);
			print_time_us(stdout, items[i].quarantined_us);
			printf(" %10" PRIu64 "  %-32s %s\n", items[i].size,
			       items[i].rule, items[i].path);
		}
		if (bad)
			fprintf(stderr,
				"vigil-agent quarantine: %zu unreadable "
				"records skipped\n",
				bad);
		vg_quarantine_items_free(items, n);
		status = 0;
		goto out;
	}
	if (optind + 1 >= argc) {
		fprintf(stderr,
			"vigil-agent quarantine restore: no ID given\n");
		goto out;
	}
	if (vg_quarantine_restore(dir, argv[1 + optind], o.to, o.force, &item,
				  err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-agent quarantine restore: %s\n", err);
		status = EXIT_INPUT;
		goto out;
	}
	printf("restored %s to %s\n", item.id, o.to ? o.to : item.path);
	vg_quarantine_item_fini(&item);
	status = 0;
out:
	vg_config_fini(&cfg);
	return status;
}

/*
 * SIGHUP: read the configuration again and build a new detection set off
 * the packet path; put it in force only if all of it loaded. Settings
 * other than detection and geoip take effect at the next start.
 */
static int
reload(struct vg_engine *e, struct vg_filescan *fs, const char *path,
       struct vg_control *ctl, const char *bundle, char *why, size_t whylen)
{
	struct vg_config cfg;
	struct vg_detect *d = NULL, *old;
	struct vg_filescan_hashes *h = NULL;
	struct vg_yara *y = NULL;
	char *errs = NULL, detail[320];
	size_t errs_len = 0;
	FILE *ef = open_memstream(&errs, &errs_len);
	enum vg_err rc;

	/* After an outside rotation, the file is written anew. */
	vg_output_reopen(vg_engine_output(e));
	vg_control_reload_begin(ctl);
	if (ef == NULL) {
		vg_log(LOG_ERR, "reload: out of memory");
		vg_control_reload_end(ctl, 0, "out of memory");
		return 0;
	}
	rc = path ? vg_config_load(&cfg, path, ef) : vg_config_defaults(&cfg);
	/* The rule bundle in force (or being tried) adds its folders. */
	if (rc == VG_OK && (rc = vg_bundle_extend_config(
				&cfg, bundle, shipped_rules(), ef)) != VG_OK)
		vg_config_fini(&cfg);
	if (rc == VG_OK) {
		rc = vg_detect_load(&d, &cfg, shipped_rules(), ef);
		/* Both sets load, or neither is put in force. */
		if (rc == VG_OK && fs != NULL &&
		    ((y = load_yara(&cfg, NULL, 0, ef)) == NULL ||
		     vg_filescan_hashes_load(&h, &cfg, ef) != VG_OK)) {
			vg_detect_free(d);
			vg_yara_unref(y);
			d = NULL;
			y = NULL;
			rc = VG_EINVAL;
		}
		vg_config_fini(&cfg);
	}
	fclose(ef);
	if (rc != VG_OK) {
		vg_log(LOG_ERR,
		       "reload failed, the running rules stay in force:\n%s",
		       errs ? errs : "");
		vg_engine_reload_failed(e, errs && errs[0] ? errs
							   : vg_strerror(rc));
		vg_control_reload_end(ctl, 0,
				      errs && errs[0] ? errs : vg_strerror(rc));
		vg_seterr(why, whylen, "%s",
			  errs && errs[0] ? errs : vg_strerror(rc));
		free(errs);
		return 0;
	}
	if (errs && errs[0])
		vg_log(LOG_WARNING, "reload:\n%s", errs);
	free(errs);
	old = vg_engine_swap_detect(e, d);
	vg_detect_free(old);
	snprintf(detail, sizeof(detail),
		 "%u rules (%u enabled), %u IoC lists (%zu entries)",
		 vg_detect_rule_count(d), vg_detect_rules_enabled(d),
		 vg_detect_list_count(d), vg_detect_list_entries(d));
	if (y != NULL) {
		size_t len = strlen(detail);

		vg_filescan_swap_rules(fs, y);
		vg_filescan_swap_hashes(fs, h);
		vg_filescan_hashes_unref(h);
		snprintf(detail + len, sizeof(detail) - len,
			 ", %u YARA rules from %u files", vg_yara_rule_count(y),
			 vg_yara_file_count(y));
		vg_yara_unref(y);
	}
	vg_log(LOG_INFO, "reloaded: %s", detail);
	vg_engine_reloaded(e, detail);
	vg_control_reload_end(ctl, 1, detail);
	return 1;
}

/*
 * Signed rule bundles (bundlepoll.h): the poller of a daemon whose
 * configuration pins a key, NULL otherwise. Its thread polls; the main
 * loop puts what it brings in force (bundle_tick).
 */
static struct vg_bundlepoll *bundle_poller;

/* Open the poller for cfg (borrowed for the poller's life): 0, or -1
 * (printed) when rules.bundle is set but unusable. Its folder is made
 * for the user of the privilege drop pd first: the poller writes there
 * after the drop. */
static int
bundle_open(const struct vg_config *cfg, const struct vg_privdrop *pd)
{
	char err[512];

	if (cfg->bundle_public_key == NULL)
		return 0;
	if (vg_privdrop_prepare_dir(
		pd, cfg->bundle_dir ? cfg->bundle_dir : VG_BUNDLE_DIR_DEFAULT,
		0755, "rules.bundle.dir", err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-agent: %s\n", err);
		return -1;
	}
	if (vg_bundlepoll_new(&bundle_poller, cfg, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-agent: rules.bundle: %s\n", err);
		return -1;
	}
	return 0;
}

/* The sets a daemon starts with. */
struct start_sets {
	struct vg_detect *d;
	struct vg_yara *y;                 /* files: the file scanner's */
	struct vg_filescan_hashes *hashes; /* files: may stay NULL */
};

/* Load the sets of cfg (files: the file scanner's too), errors to errs:
 * 0, or -1 with nothing held. */
static int
start_sets_load(const struct vg_config *cfg, int files, struct start_sets *s,
		FILE *errs)
{
	memset(s, 0, sizeof(*s));
	s->d = load_detect(cfg, errs);
	if (s->d == NULL)
		return -1;
	if (files &&
	    ((s->y = load_yara(cfg, NULL, 0, errs)) == NULL ||
	     vg_filescan_hashes_load(&s->hashes, cfg, errs) != VG_OK)) {
		vg_yara_unref(s->y);
		vg_detect_free(s->d);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	return 0;
}

/*
 * The sets to start with: cfg's with the bundle in force added, as a
 * reload builds them (the file read again); when they do not load
 * (a local change made a list too long, the folder was damaged...),
 * the errors are logged and cfg's own are used, the bundle left out
 * until a newer one comes (vg_bundlepoll_unload: a WARNING, an alert,
 * rules.bundle_version 0; its version stays the floor). A bundle
 * cannot be what stops a start: 0, or -1 (errors printed) when cfg's
 * own sets do not load either.
 */
static int
start_sets(const struct vg_config *cfg, int files, struct start_sets *s)
{
	const char *dir = vg_bundlepoll_current_dir(bundle_poller);
	unsigned long long v =
	    (unsigned long long)vg_bundlepoll_version(bundle_poller);
	struct vg_config trial;
	char *errs = NULL;
	size_t len = 0;
	FILE *ef;
	int ok = 0;

	/* A bundle comes with a poller, which rules.bundle.public_key asks
	 * for: there is a file, cfg->path. */
	if (dir == NULL)
		return start_sets_load(cfg, files, s, stderr);
	ef = open_memstream(&errs, &len);
	if (ef == NULL) {
		fprintf(stderr, "vigil-agent: out of memory\n");
		return -1;
	}
	if (vg_config_load(&trial, cfg->path, ef) == VG_OK) {
		ok = vg_bundle_extend_config(&trial, dir, shipped_rules(),
					     ef) == VG_OK &&
		     start_sets_load(&trial, files, s, ef) == 0;
		vg_config_fini(&trial);
	}
	fclose(ef);
	if (ok) {
		/* What a load says besides errors, as without a bundle. */
		if (errs && errs[0])
			fputs(errs, stderr);
		free(errs);
		vg_log(LOG_INFO, "rule bundle version %llu in force", v);
		return 0;
	}
	vg_log(LOG_ERR, "rule bundle version %llu does not load with %s:\n%s",
	       v, cfg->path, errs ? errs : "");
	free(errs);
	vg_bundlepoll_unload(bundle_poller);
	return start_sets_load(cfg, files, s, stderr);
}

/* Put a bundle the poller brought in force by the same reload as
 * SIGHUP's, and only if it works. Does not block when none awaits. */
static void
bundle_tick(struct vg_engine *e, struct vg_filescan *fs,
	    const struct vg_config *cfg)
{
	const char *dir;
	char why[2048] = "";
	int ok;

	if (vg_bundlepoll_take(bundle_poller, &dir) != VG_OK)
		return;
	ok = reload(e, fs, cfg->path, NULL, dir, why, sizeof(why));
	vg_bundlepoll_commit(bundle_poller, ok, why);
}

/* The stats hook: the file scanner's counters and the bundle's. */
static struct vg_filescan *stats_fs;

static size_t
agent_stats(void *arg, struct vg_stat_kv *kv, size_t room)
{
	size_t n = 0;

	(void)arg;
	if (stats_fs != NULL)
		n = file_stats(stats_fs, kv, room);
	return n + vg_bundlepoll_stats_kv(bundle_poller, kv + n, room - n);
}

/*
 * Operations: the control socket and the metrics endpoint of a running
 * daemon. Both read the counters of the stats event (vg_engine_stats)
 * and nothing else; a reload asked on the socket comes back to drive() as
 * SIGHUP, so it is the same reload.
 */
struct ops {
	struct vg_control *ctl;
	struct vg_metrics *metrics;
};

_Static_assert(VG_STATS_SNAPSHOT_ROOM >= VG_ENGINE_STATS_MAX,
	       "a status or a scrape has no room for every counter");

static size_t
ops_snapshot(void *arg, struct vg_stat_kv *kv, size_t room, double *uptime_s)
{
	return vg_engine_stats(arg, kv, room, uptime_s);
}

/* Start what cfg asks for. A control socket that cannot be made is logged
 * and done without (the agent still works); a metrics endpoint asked for
 * but not possible stops the start: -1 with err set. */
static int
ops_start(struct ops *ops, struct vg_engine *e, const struct vg_config *cfg,
	  char *err, size_t errlen)
{
	struct vg_control_opts co;
	char why[512] = "";

	memset(ops, 0, sizeof(*ops));
	if (cfg->control_socket != NULL) {
		memset(&co, 0, sizeof(co));
		co.path = cfg->control_socket;
		co.stats = ops_snapshot;
		co.stats_arg = e;
		co.id.version = VG_VERSION;
		co.id.agency = cfg->agency;
		co.id.agent_id = cfg->agent_id;
		co.id.host = cfg->hostname;
		if (vg_control_open(&ops->ctl, &co, why, sizeof(why)) != VG_OK)
			vg_log(LOG_ERR,
			       "%s; status and reload are not served (SIGHUP "
			       "still reloads)",
			       why);
	}
	if (cfg->metrics_listen != NULL &&
	    vg_metrics_open(&ops->metrics, cfg->metrics_listen,
			    cfg->metrics_allow_remote, ops_snapshot, e,
			    VG_VERSION, err, errlen) != VG_OK) {
		vg_control_close(ops->ctl);
		ops->ctl = NULL;
		return -1;
	}
	return 0;
}

/* Before the engine stops: nothing may ask it for counters after. */
static void
ops_stop(struct ops *ops)
{
	vg_control_close(ops->ctl);
	vg_metrics_close(ops->metrics);
	memset(ops, 0, sizeof(*ops));
}

/* A reload reply, printed: the exit status. */
static int
ctl_print_reload(const char *reply)
{
	switch (vg_control_print_reload(reply, stdout, stderr)) {
	case 1:
		return CTL_OK;
	case 0:
		return CTL_FAILED;
	default:
		fprintf(stderr, "vigil-agent reload: unexpected reply: %s",
			reply);
		return CTL_NO_ANSWER;
	}
}

/* The control socket a status or reload command talks to. */
static const char *
ctl_socket(const struct opts *o, struct vg_config *cfg, int *have_cfg)
{
	*have_cfg = 0;
	if (o->socket != NULL)
		return o->socket;
	if (o->config == NULL)
		return VG_CONTROL_SOCKET_DEFAULT;
	if (load_config(cfg, o->config) < 0)
		return NULL;
	*have_cfg = 1;
	if (cfg->control_socket == NULL)
		fprintf(stderr, "vigil-agent: %s: control.socket is off\n",
			o->config);
	return cfg->control_socket;
}

/* vigil-agent status and vigil-agent reload. */
static int
cmd_ctl(int argc, char **argv, const char *what)
{
	struct vg_config cfg;
	struct opts o;
	const char *path;
	char *reply = NULL, err[512] = "";
	size_t len;
	enum vg_err rc;
	int status = CTL_NOT_RUNNING, have_cfg;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (o.config != NULL && o.socket != NULL) {
		fprintf(stderr, "vigil-agent %s: -c or -s, not both\n", what);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "vigil-agent %s: unexpected \"%s\"\n", what,
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	path = ctl_socket(&o, &cfg, &have_cfg);
	if (path == NULL) {
		if (have_cfg)
			vg_config_fini(&cfg);
		return o.config != NULL && !have_cfg ? EXIT_USAGE
						     : CTL_NOT_RUNNING;
	}
	rc = vg_control_request(path, what, &reply, &len, err, sizeof(err));
	if (rc != VG_OK) {
		fprintf(stderr, "vigil-agent %s: %s%s\n", what, err,
			rc == VG_EAGAIN ? " (is the agent running?)" : "");
		status = rc == VG_EAGAIN ? CTL_NOT_RUNNING : CTL_NO_ANSWER;
		goto out;
	}
	if (strstr(reply, "{\"error\":") == reply) {
		fprintf(stderr, "vigil-agent %s: the agent says: %s", what,
			reply);
		status = CTL_NO_ANSWER;
		goto out;
	}
	if (strcmp(what, "status") == 0) {
		status = CTL_OK;
		if (o.json)
			fputs(reply, stdout);
		else if (vg_control_print_status(reply, stdout) < 0) {
			fprintf(stderr, "vigil-agent status: not a status "
					"reply\n");
			status = CTL_NO_ANSWER;
		}
		goto out;
	}
	status = ctl_print_reload(reply);
out:
	free(reply);
	if (have_cfg)
		vg_config_fini(&cfg);
	return status;
}

/*
 * The daemon as a service: log target, privilege drop, sd_notify (see
 * service.h, privdrop.h). The watchdog is fed only while the daemon is
 * healthy: the main loop turns (it is what sends), and every packet
 * worker thread has turned its own loop since the previous keep-alive
 * (vg_engine_alive: idle workers turn too, stuck ones do not). Capture
 * threads and the file scanner's are not watched (see engine.h).
 */
static char service_text[200]; /* the STATUS= line while running */

static void
service_log_target(const struct vg_config *cfg)
{
	int t =
	    vg_log_target_from_name(cfg->log_target ? cfg->log_target : "auto");

	vg_log_set_target(t < 0 ? VG_LOG_AUTO : (enum vg_log_target)t);
}

/* "capturing on eth0, eth1, 41 rules, watching 2 folders" */
static void
service_set_text(const struct vg_config *cfg, const struct vg_detect *d)
{
	size_t len = 0;
	unsigned i;

	service_text[0] = '\0';
	for (i = 0; i < cfg->n_ifaces && len < sizeof(service_text); i++) {
		snprintf(service_text + len, sizeof(service_text) - len, "%s%s",
			 i ? ", " : "capturing on ", cfg->ifaces[i].name);
		len = strlen(service_text);
	}
	if (len < sizeof(service_text))
		snprintf(service_text + len, sizeof(service_text) - len,
			 "%s%u rules", len ? ", " : "",
			 vg_detect_rules_enabled(d));
	len = strlen(service_text);
	if (cfg->n_file_watch && len < sizeof(service_text))
		snprintf(service_text + len, sizeof(service_text) - len,
			 ", watching %u folders", cfg->n_file_watch);
}

static void
service_tick(struct vg_engine *e)
{
	vg_log_flush_suppressed();
	if (!vg_service_watchdog_due())
		return;
	if (vg_engine_alive(e)) {
		vg_service_watchdog_ping();
		return;
	}
	/* No keep-alive: systemd restarts us when the period runs out. */
	{
		static struct vg_ratelimit rl;

		if (vg_ratelimit_ok(&rl, 1, 60))
			vg_log(LOG_ERR, "watchdog: a worker thread is not "
					"turning; keep-alive withheld");
	}
}

/*
 * The agent's own state to the user, then the drop itself (privdrop.h):
 * after the capture handles are open, before any thread starts. 0, or
 * -1 after logging why (the caller must exit).
 */
static int
service_drop(const struct vg_config *cfg, const struct vg_privdrop *pd)
{
	char err[512] = "", what[320], dir[PATH_MAX];
	const char *slash;
	enum vg_err rc = VG_OK;

	/* The spool (when Redis is on). */
	if (cfg->redis_url)
		rc = vg_privdrop_prepare_dir(
		    pd, cfg->spool_dir ? cfg->spool_dir : VG_SPOOL_DIR_DEFAULT,
		    0700, "output.spool.dir", err, sizeof(err));
	if (rc == VG_OK && cfg->n_file_watch && cfg->file_quarantine)
		rc = vg_privdrop_prepare_dir(pd, cfg->file_quarantine, 0700,
					     "files.quarantine", err,
					     sizeof(err));
	/* The control socket's folder: its group may ask for status. */
	if (rc == VG_OK && cfg->control_socket &&
	    (slash = strrchr(cfg->control_socket, '/')) != NULL &&
	    slash != cfg->control_socket) {
		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(slash - cfg->control_socket),
			 cfg->control_socket);
		rc = vg_privdrop_prepare_dir(pd, dir, 0750, "control.socket",
					     err, sizeof(err));
	}
	if (rc == VG_OK && cfg->output_file && strcmp(cfg->output_file, "-"))
		rc = vg_privdrop_prepare_file(
		    pd, cfg->output_file, "output.file.path", err, sizeof(err));
	if (rc == VG_OK)
		rc = vg_privdrop_apply(pd, err, sizeof(err));
	if (rc != VG_OK) {
		vg_log(LOG_ERR, "privilege drop failed, not starting: %s", err);
		return -1;
	}
	vg_privdrop_describe(pd, what, sizeof(what));
	vg_log(LOG_INFO, "privileges: %s", what);
	return 0;
}

/*
 * Privilege separation (sandbox.h): `run` puts the packet path in a
 * child when sandbox.packets is on (and there is something to capture);
 * `replay` does with --sandbox (for measuring it). The main loop reaps
 * and restarts the child: SIGCHLD wakes it.
 */
static void
sandbox_signals(sigset_t *sigs)
{
	sigaddset(sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

static int
sandbox_wanted(const struct vg_config *cfg, const struct opts *o, int offline,
	       int files_only)
{
	if (files_only)
		return 0;
	return offline ? o->sandbox : cfg->sandbox_packets;
}

static enum vg_err
sandbox_start(struct vg_engine *e, const struct vg_config *cfg,
	      const struct opts *o, int offline, int files_only, char *err,
	      size_t errlen)
{
	if (!sandbox_wanted(cfg, o, offline, files_only))
		return vg_engine_start(e, err, errlen);
	return vg_engine_start_sandboxed(e, err, errlen);
}

static void
sandbox_tick(struct vg_engine *e)
{
	vg_engine_tick(e);
}

/* Run an engine until its sources end (replay) or a signal (both). */
static int
drive(struct vg_engine *e, struct vg_filescan *fs, const struct vg_config *cfg,
      const sigset_t *sigs, int offline, struct ops *ops)
{
	int64_t interval = (int64_t)cfg->stats_interval * 1000000;
	int64_t next = vg_now_mono_us() + interval;
	unsigned wait_ms = offline ? 50 : 500;
	int sig;

	/* Four looks per watchdog period at least. */
	if (!offline && vg_service_watchdog_usec() &&
	    vg_service_watchdog_usec() / 4000 < wait_ms)
		wait_ms = (unsigned)(vg_service_watchdog_usec() / 4000) + 1;
	for (;;) {
		if (offline && vg_engine_wait_sources(e, 0))
			break;
		sig = wait_signal(sigs, wait_ms);
		sandbox_tick(e);
		if (sig == SIGTERM || sig == SIGINT) {
			vg_service_stopping();
			vg_log(LOG_INFO, "%s: draining and stopping",
			       strsignal(sig));
			break;
		}
		if (sig == SIGHUP) {
			vg_service_reloading();
			(void)reload(e, fs, cfg->path, ops->ctl,
				     vg_bundlepoll_current_dir(bundle_poller),
				     NULL, 0);
			if (!offline)
				service_set_text(cfg, vg_engine_detect(e));
			vg_service_ready("%s", service_text);
		}
		if (!offline)
			service_tick(e);
		bundle_tick(e, fs, cfg);
		if (interval && vg_now_mono_us() >= next) {
			vg_engine_emit_stats(e);
			next += interval;
		}
	}
	/* Its refusals are events: it stops before the output does. */
	vg_bundlepoll_stop(bundle_poller);
	ops_stop(ops);
	/* The scanner first: its last events go out with the engine's. */
	if (fs != NULL)
		vg_filescan_stop(fs);
	vg_engine_stop(e);
	return 0;
}

static int
run_engine(int argc, char **argv, int offline)
{
	struct vg_engine_opts eo;
	struct vg_engine *e = NULL;
	struct vg_detect *d = NULL;
	struct vg_filescan_hashes *hashes = NULL;
	struct vg_filescan *fs = NULL;
	struct vg_yara *y = NULL;
	struct vg_privdrop pd;
	struct vg_config cfg;
	struct ops ops;
	struct opts o;
	sigset_t sigs;
	char err[512] = "";
	int status = EXIT_USAGE;

	memset(&ops, 0, sizeof(ops));
	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (offline && optind >= argc) {
		fprintf(stderr, "vigil-agent replay: no capture file given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (load_config(&cfg, o.config) < 0)
		return EXIT_USAGE;
	if (!offline) {
		service_log_target(&cfg);
		vg_service_init();
		/* Who to become is settled before anything is opened. */
		if (vg_privdrop_plan(&pd, &cfg, o.allow_root, err,
				     sizeof(err)) != VG_OK) {
			fprintf(stderr, "%s\n", err);
			vg_config_fini(&cfg);
			return EXIT_USAGE;
		}
	}
	if (!offline && bundle_open(&cfg, &pd) < 0) {
		vg_config_fini(&cfg);
		return EXIT_USAGE;
	}
	/* A daemon with folders to watch scans files too. */
	{
		struct start_sets ss;

		if (start_sets(&cfg, !offline && cfg.n_file_watch > 0, &ss) <
		    0) {
			vg_bundlepoll_free(bundle_poller);
			bundle_poller = NULL;
			vg_config_fini(&cfg);
			return EXIT_USAGE;
		}
		d = ss.d;
		y = ss.y;
		hashes = ss.hashes;
	}
	block_signals(&sigs);
	sandbox_signals(&sigs);

	memset(&eo, 0, sizeof(eo));
	eo.cfg = &cfg;
	eo.output = o.output;
	eo.workers = o.workers;
	eo.offline = offline;
	eo.flow_events = o.flows || cfg.flow_events;
	eo.detect = d;
	eo.files_only = y != NULL && cfg.n_ifaces == 0;
	if (offline && eo.output == NULL && cfg.output_file == NULL)
		eo.output = "eve.json";
	if (vg_engine_new(&e, &eo, err, sizeof(err)) != VG_OK)
		goto out;
	status = EXIT_INPUT;
	if (offline) {
		if (vg_engine_add_files(e, argv + optind, argc - optind, err,
					sizeof(err)) != VG_OK)
			goto out;
	} else if (vg_engine_add_ifaces(e, err, sizeof(err)) != VG_OK) {
		goto out;
	}
	if (!offline && service_drop(&cfg, &pd) < 0)
		goto out;
	if (sandbox_start(e, &cfg, &o, offline, eo.files_only, err,
			  sizeof(err)) != VG_OK)
		goto out;
	if (y != NULL) {
		struct vg_filescan_opts fo;

		memset(&fo, 0, sizeof(fo));
		fo.cfg = &cfg;
		fo.rules = y;
		fo.out = vg_engine_output(e);
		fo.ctx = vg_engine_ctx(e);
		fo.hashes = hashes;
		fo.scanner_exe = cfg.sandbox_files ? "/proc/self/exe" : NULL;
		if (vg_filescan_new(&fs, &fo, err, sizeof(err)) != VG_OK ||
		    vg_filescan_start(fs, 1, err, sizeof(err)) != VG_OK) {
			vg_engine_stop(e);
			goto out;
		}
		stats_fs = fs;
		vg_log(LOG_INFO,
		       "watching %u folders with %u YARA rules from %u files",
		       cfg.n_file_watch, vg_yara_rule_count(y),
		       vg_yara_file_count(y));
	}
	if (stats_fs != NULL || bundle_poller != NULL)
		vg_engine_set_stats_hook(e, agent_stats, NULL);
	vg_bundlepoll_set_output(bundle_poller, vg_engine_output(e),
				 vg_engine_ctx(e));
	/* A replay is a command, not the daemon: no socket, no endpoint. */
	if (!offline && ops_start(&ops, e, &cfg, err, sizeof(err)) < 0) {
		status = EXIT_USAGE;
		if (fs != NULL)
			vg_filescan_stop(fs);
		vg_engine_stop(e);
		goto out;
	}
	/* After the packet child's fork, like the other threads. */
	if (vg_bundlepoll_start(bundle_poller, err, sizeof(err)) != VG_OK) {
		ops_stop(&ops);
		if (fs != NULL)
			vg_filescan_stop(fs);
		vg_engine_stop(e);
		goto out;
	}
	if (!offline)
		vg_log(LOG_INFO, "vigil-agent %s running (nDPI %s)", VG_VERSION,
		       vg_classify_ndpi_version());
	if (!offline)
		vg_log(LOG_INFO, "%u rules (%u enabled), %u IoC lists",
		       vg_detect_rule_count(d), vg_detect_rules_enabled(d),
		       vg_detect_list_count(d));
	if (!offline) {
		service_set_text(&cfg, d);
		vg_service_ready("%s", service_text);
	}
	drive(e, fs, &cfg, &sigs, offline, &ops);
	if (offline)
		vg_engine_summary(e, stderr);
	status = vg_engine_read_errors(e) ? EXIT_INPUT : 0;
	err[0] = '\0';
out:
	if (err[0])
		fprintf(stderr, "vigil-agent: %s\n", err);
	vg_bundlepoll_stop(bundle_poller);
	if (fs)
		vg_filescan_stop(fs);
	if (e) {
		/* The set in force may be a reloaded one. */
		d = vg_engine_detect(e);
		vg_engine_free(e);
	}
	vg_filescan_free(fs);
	vg_bundlepoll_free(bundle_poller);
	bundle_poller = NULL;
	stats_fs = NULL;
	vg_filescan_hashes_unref(hashes);
	vg_yara_unref(y);
	vg_detect_free(d);
	vg_config_fini(&cfg);
	return status;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	/* A scanner child the agent started (scanchild.h), not a command. */
	if (strcmp(cmd, VG_SCANCHILD_COMMAND) == 0)
		vg_scanchild_main(argc, argv);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vigil-agent %s (nDPI %s, %s, YARA %s)\n", VG_VERSION,
		       vg_classify_ndpi_version(), vg_capture_lib_version(),
		       vg_yara_lib_version());
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	/* Subcommand options start after the subcommand. */
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "rules") == 0)
		return cmd_rules(argc - 1, argv + 1);
	if (strcmp(cmd, "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(cmd, "quarantine") == 0)
		return cmd_quarantine(argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return run_engine(argc - 1, argv + 1, 0);
	if (strcmp(cmd, "replay") == 0)
		return run_engine(argc - 1, argv + 1, 1);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "reload") == 0)
		return cmd_ctl(argc - 1, argv + 1, cmd);
	fprintf(stderr, "vigil-agent: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
