/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-agent: the command line.
 *
 *   vigil-agent run [-c FILE]          the daemon, in the foreground
 *   vigil-agent replay [...] CAPTURE... capture files through the pipeline
 *   vigil-agent check [-c FILE] [-v]   validate the configuration and rules
 *   vigil-agent rules test [-v] [DIR]  run the rule test cases
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
#include "engine.h"
#include "log.h"
#include "netrules.h"
#include "rulestest.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 1 /* bad command line or configuration */
#define EXIT_INPUT 2 /* a capture could not be read */

static void
usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vigil-agent run [-c FILE]\n"
	    "       vigil-agent replay [-c FILE] [--flows] [--output PATH|-]"
	    " [--workers N] CAPTURE...\n"
	    "       vigil-agent check [-c FILE] [-v]\n"
	    "       vigil-agent rules test [-v] [DIR|CASE]\n"
	    "       vigil-agent version\n"
	    "\n"
	    "  -c, --config FILE   configuration (default: built-in "
	    "defaults)\n"
	    "  --flows             also emit a \"flow\" event per flow\n"
	    "  -o, --output PATH   where events go: a file, or - for stdout\n"
	    "  -w, --workers N     worker threads (default: cores - 1)\n"
	    "  -v, --verbose       check: print the effective configuration;\n"
	    "                      rules test: print every case's alerts\n"
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

/* Build the detection set of cfg, errors to stderr. */
static struct vg_detect *
load_detect(const struct vg_config *cfg)
{
	struct vg_detect *d = NULL;

	if (vg_detect_load(&d, cfg, shipped_rules(), stderr) != VG_OK) {
		fprintf(stderr, "vigil-agent: %s: rules not loaded\n",
			cfg->path ? cfg->path : "(built-in defaults)");
		return NULL;
	}
	return d;
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

struct opts {
	const char *config;
	const char *output;
	unsigned workers;
	int flows;
	int verbose;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"output", required_argument, NULL, 'o'},
	    {"workers", required_argument, NULL, 'w'},
	    {"flows", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	unsigned long n;
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:w:fvh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'w':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 64) {
				fprintf(stderr,
					"vigil-agent: --workers: "
					"expected 1..64, got \"%s\"\n",
					optarg);
				return -1;
			}
			o->workers = (unsigned)n;
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
	struct opts o;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (load_config(&cfg, o.config) < 0)
		return EXIT_USAGE;
	if (o.verbose)
		vg_config_dump(&cfg, stdout);
	d = load_detect(&cfg);
	if (d == NULL) {
		vg_config_fini(&cfg);
		return EXIT_USAGE;
	}
	fprintf(stderr,
		"%s: configuration OK; %u rules (%u enabled), %u IoC lists "
		"(%zu entries)\n",
		o.config ? o.config : "(built-in defaults)",
		vg_detect_rule_count(d), vg_detect_rules_enabled(d),
		vg_detect_list_count(d), vg_detect_list_entries(d));
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

/*
 * SIGHUP: read the configuration again and build a new detection set off
 * the packet path; put it in force only if all of it loaded. Settings
 * other than detection and geoip take effect at the next start.
 */
static void
reload(struct vg_engine *e, const char *path)
{
	struct vg_config cfg;
	struct vg_detect *d = NULL, *old;
	char *errs = NULL, detail[256];
	size_t errs_len = 0;
	FILE *ef = open_memstream(&errs, &errs_len);
	enum vg_err rc;

	if (ef == NULL) {
		vg_log(LOG_ERR, "reload: out of memory");
		return;
	}
	rc = path ? vg_config_load(&cfg, path, ef) : vg_config_defaults(&cfg);
	if (rc == VG_OK) {
		rc = vg_detect_load(&d, &cfg, shipped_rules(), ef);
		vg_config_fini(&cfg);
	}
	fclose(ef);
	if (rc != VG_OK) {
		vg_log(LOG_ERR,
		       "reload failed, the running rules stay in force:\n%s",
		       errs ? errs : "");
		vg_engine_reload_failed(e, errs && errs[0] ? errs
							   : vg_strerror(rc));
		free(errs);
		return;
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
	vg_log(LOG_INFO, "reloaded: %s", detail);
	vg_engine_reloaded(e, detail);
}

/* Run an engine until its sources end (replay) or a signal (both). */
static int
drive(struct vg_engine *e, const struct vg_config *cfg, const sigset_t *sigs,
      int offline)
{
	int64_t interval = (int64_t)cfg->stats_interval * 1000000;
	int64_t next = vg_now_mono_us() + interval;
	int sig;

	for (;;) {
		if (offline && vg_engine_wait_sources(e, 0))
			break;
		sig = wait_signal(sigs, offline ? 50 : 500);
		if (sig == SIGTERM || sig == SIGINT) {
			vg_log(LOG_INFO, "%s: draining and stopping",
			       strsignal(sig));
			break;
		}
		if (sig == SIGHUP)
			reload(e, cfg->path);
		if (interval && vg_now_mono_us() >= next) {
			vg_engine_emit_stats(e);
			next += interval;
		}
	}
	vg_engine_stop(e);
	return 0;
}

static int
run_engine(int argc, char **argv, int offline)
{
	struct vg_engine_opts eo;
	struct vg_engine *e = NULL;
	struct vg_detect *d = NULL;
	struct vg_config cfg;
	struct opts o;
	sigset_t sigs;
	char err[512] = "";
	int status = EXIT_USAGE;

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (offline && optind >= argc) {
		fprintf(stderr, "vigil-agent replay: no capture file given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (load_config(&cfg, o.config) < 0)
		return EXIT_USAGE;
	d = load_detect(&cfg);
	if (d == NULL) {
		vg_config_fini(&cfg);
		return EXIT_USAGE;
	}
	block_signals(&sigs);

	memset(&eo, 0, sizeof(eo));
	eo.cfg = &cfg;
	eo.output = o.output;
	eo.workers = o.workers;
	eo.offline = offline;
	eo.flow_events = o.flows || cfg.flow_events;
	eo.detect = d;
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
	if (vg_engine_start(e, err, sizeof(err)) != VG_OK)
		goto out;
	if (!offline)
		vg_log(LOG_INFO, "vigil-agent %s running (nDPI %s)", VG_VERSION,
		       vg_classify_ndpi_version());
	if (!offline)
		vg_log(LOG_INFO, "%u rules (%u enabled), %u IoC lists",
		       vg_detect_rule_count(d), vg_detect_rules_enabled(d),
		       vg_detect_list_count(d));
	drive(e, &cfg, &sigs, offline);
	if (offline)
		vg_engine_summary(e, stderr);
	status = vg_engine_read_errors(e) ? EXIT_INPUT : 0;
	err[0] = '\0';
out:
	if (err[0])
		fprintf(stderr, "vigil-agent: %s\n", err);
	if (e) {
		/* The set in force may be a reloaded one. */
		d = vg_engine_detect(e);
		vg_engine_free(e);
	}
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
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vigil-agent %s (nDPI %s, %s)\n", VG_VERSION,
		       vg_classify_ndpi_version(), vg_capture_lib_version());
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
	if (strcmp(cmd, "run") == 0)
		return run_engine(argc - 1, argv + 1, 0);
	if (strcmp(cmd, "replay") == 0)
		return run_engine(argc - 1, argv + 1, 1);
	fprintf(stderr, "vigil-agent: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
