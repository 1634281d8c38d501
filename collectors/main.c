/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-collector: the national center's side of the pipeline. It reads
 * the agencies' event streams from Redis (consumer.c), archives every
 * event (archive.c), keeps the recent ones in memory (store.c) and serves
 * them over HTTP to the dashboard (http.c).
 *
 * Threads: main waits for SIGTERM/SIGINT with sigtimedwait() (every
 * signal blocked in every thread, so none is delivered elsewhere), the
 * consumer runs in a thread of its own, the view's tail of the shared
 * stream (shared.c) in another, and libmicrohttpd has its own.
 */
#include "archive.h"
#include "config.h"
#include "consumer.h"
#include "forward.h"
#include "http.h"
#include "log.h"
#include "rules.h"
#include "service.h"
#include "shared.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE   1 /* bad command line or configuration */
#define EXIT_RUNTIME 2 /* could not start */

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: vigil-collector run [-c FILE]    consume, archive, "
		"serve\n"
		"       vigil-collector check [-c FILE]  validate the "
		"configuration\n"
		"       vigil-collector rules keygen|publish|show ...  signed "
		"rule bundles\n"
		"       vigil-collector version\n"
		"FILE defaults to %s\n",
		VC_CONFIG_DEFAULT_PATH);
}

/* -c FILE after the command: 0, or -1 (usage printed). */
static int
parse_opts(int argc, char **argv, const char **config)
{
	int ch;

	*config = NULL;
	optind = 1;
	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigil-collector: unexpected argument %s\n",
			argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

static int
cmd_check(int argc, char **argv)
{
	struct vc_config cfg;
	const char *path;
	char err[512];

	if (parse_opts(argc, argv, &path) < 0)
		return EXIT_USAGE;
	if (vc_config_load(path, 0, &cfg, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	vc_config_fini(&cfg);
	printf("configuration OK\n");
	return 0;
}

/* Set when the consumer thread returns: before a stop, it is a fault. */
static atomic_int consumer_exited;

static void *
consumer_main(void *arg)
{
	vc_consumer_run(arg);
	atomic_store(&consumer_exited, 1);
	return NULL;
}

/*
 * The service side (service.h): the watchdog is fed while the main loop
 * turns (it is what sends) and the consumer thread is still running (it
 * only returns when told to stop, or on a fault it cannot get over).
 * Idle (no events) is healthy: the consumer blocks in XREADGROUP and
 * comes back every consumer.block_ms.
 */
static void
service_tick(void)
{
	static struct vg_ratelimit rl;

	vg_log_flush_suppressed();
	if (!vg_service_watchdog_due())
		return;
	if (!atomic_load(&consumer_exited)) {
		vg_service_watchdog_ping();
		return;
	}
	if (vg_ratelimit_ok(&rl, 1, 60))
		vg_log(LOG_ERR, "watchdog: the consumer thread has ended; "
				"keep-alive withheld");
}

/* How long the main loop may wait for a signal: four looks per watchdog
 * period at least, else a second. */
static struct timespec
service_wait(void)
{
	uint64_t us = vg_service_watchdog_usec() / 4;
	struct timespec ts = {1, 0};

	if (us && us < 1000000) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)us * 1000L;
	}
	return ts;
}

static int
cmd_run(int argc, char **argv)
{
	struct vc_consumer *cons = NULL;
	struct vc_forward *fwd = NULL;
	struct vc_forward_stats fst;
	struct vc_store *store = NULL;
	struct vc_view *view = NULL;
	struct vc_http *http = NULL;
	struct vc_consumer_stats st;
	struct vc_config cfg;
	const char *path;
	pthread_t tid;
	sigset_t sigs;
	char err[512];
	int status = EXIT_RUNTIME, sig = 0, rc;

	if (parse_opts(argc, argv, &path) < 0)
		return EXIT_USAGE;
	if (vc_config_load(path, 1, &cfg, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	vg_log_set_target((enum vg_log_target)cfg.log_target);
	vg_service_init();
	/* Before any thread starts, so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	store = vc_store_new(cfg.center_recent);
	if (store == NULL) {
		vg_log(LOG_ERR, "out of memory");
		goto out;
	}
	if (vc_consumer_new(&cons, &cfg, store, err, sizeof(err)) != VG_OK) {
		vg_log(LOG_ERR, "%s", err[0] ? err : "out of memory");
		goto out;
	}
	if (cfg.forward_address) {
		err[0] = '\0';
		if (vc_forward_new(&fwd, &cfg, err, sizeof(err)) != VG_OK) {
			vg_log(LOG_ERR, "%s", err[0] ? err : "out of memory");
			goto out;
		}
		vc_consumer_set_forward(cons, fwd);
	}
	err[0] = '\0';
	if (vc_view_start(&view, &cfg, store, err, sizeof(err)) != VG_OK) {
		vg_log(LOG_ERR, "%s", err[0] ? err : "out of memory");
		goto out;
	}
	err[0] = '\0';
	http =
	    vc_http_start(cfg.http_listen, cfg.http_tokens_file,
			  cfg.http_static_dir, store, view, err, sizeof(err));
	if (http == NULL) {
		vg_log(LOG_ERR, "http: %s", err[0] ? err : "cannot start");
		goto out;
	}
	rc = pthread_create(&tid, NULL, consumer_main, cons);
	if (rc != 0) {
		vg_log(LOG_ERR, "cannot start the consumer: %s", strerror(rc));
		goto out;
	}
	vg_log(LOG_INFO,
	       "vigil-collector %s running: consumer %s, archive "
	       "%s, http %s",
	       VG_VERSION, cfg.consumer_name, cfg.archive_dir, cfg.http_listen);
	vg_service_ready("consuming as %s, http %s", cfg.consumer_name,
			 cfg.http_listen);
	while (sig != SIGTERM && sig != SIGINT) {
		struct timespec ts = service_wait();

		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig < 0 && errno != EINTR && errno != EAGAIN) {
			vg_log(LOG_ERR, "sigtimedwait: %s", strerror(errno));
			break;
		}
		if (sig == SIGHUP) {
			/* Nothing to reload yet: say so, and stay ready. */
			vg_service_reloading();
			vg_log(LOG_INFO, "SIGHUP: nothing to reload");
			vg_service_ready("consuming as %s, http %s",
					 cfg.consumer_name, cfg.http_listen);
		}
		service_tick();
	}
	vg_service_stopping();
	vg_log(LOG_INFO, "stopping");
	vc_consumer_stop(cons);
	pthread_join(tid, NULL);
	vc_consumer_stats(cons, &st);
	vg_log(LOG_INFO,
	       "archived %llu, duplicates %llu, malformed %llu, acked %llu, "
	       "claimed %llu, misfiled %llu",
	       (unsigned long long)st.archived,
	       (unsigned long long)st.duplicates,
	       (unsigned long long)st.malformed, (unsigned long long)st.acked,
	       (unsigned long long)st.claimed, (unsigned long long)st.misfiled);
	if (fwd) {
		vc_forward_stats(fwd, &fst);
		vg_log(LOG_INFO,
		       "forwarded %llu, dropped %llu, errors %llu, queued %llu",
		       (unsigned long long)fst.sent,
		       (unsigned long long)fst.dropped,
		       (unsigned long long)fst.errors,
		       (unsigned long long)fst.queued);
	}
	status = 0;
out:
	vc_http_stop(http);
	vc_view_free(view);
	vc_consumer_free(cons);
	vc_forward_free(fwd);
	vc_store_free(store);
	vc_config_fini(&cfg);
	return status;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	vg_log_set_name("vigil-collector");
	if (cmd == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("vigil-collector %s\n", VG_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "rules") == 0)
		return vc_rules_main(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vigil-collector: unknown command %s\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
