/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the collector's configuration parser (collectors/
 * config.c, libyaml then libcyaml): the input is written as
 * collector.yaml and loaded as `check` does (for_run 0) and as `run` does
 * (for_run 1: archive.dir required, redis.password_file read). Each load
 * returns VG_OK or VG_EINVAL (VG_ENOMEM only when memory runs out); a
 * VG_EINVAL load reports a "FILE:..." message; a loaded configuration
 * holds every default and stays within its bounds; and what `run` loads,
 * `check` loads too. The parser's source is built in, as the collector's
 * event target does, since the fuzz targets link only the agent's
 * library.
 */
#include "../../collectors/config.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

static void
check_loaded(const struct vc_config *c, const char *path, int for_run)
{
	const char *why = NULL;

	if (c->path == NULL || strcmp(c->path, path) != 0)
		why = "path";
	else if (c->redis_mode != VG_REDIS_SENTINEL && c->redis_url == NULL)
		why = "redis.url";
	else if (c->n_redis_sentinels > VC_CONFIG_MAX_SENTINELS ||
		 (c->redis_mode == VG_REDIS_SENTINEL &&
		  (c->n_redis_sentinels == 0 ||
		   c->redis_sentinel_master == NULL)))
		why = "redis.sentinels";
	else if (c->center_name == NULL || c->center_name[0] == '\0' ||
		 strlen(c->center_name) > VC_CENTER_MAX_NAME ||
		 strpbrk(c->center_name, "{}") != NULL)
		why = "center.name";
	else if (c->center_recent < 1 || c->center_recent > VC_MAX_RECENT ||
		 c->center_max_agents < 1 ||
		 c->center_max_agents > VC_MAX_AGENTS)
		why = "center bounds";
	else if (c->consumer_name == NULL || c->consumer_name[0] == '\0' ||
		 c->consumer_group == NULL)
		why = "consumer.name";
	else if (c->block_ms < 1 || c->block_ms > 60000 || c->batch < 1 ||
		 c->batch > VC_MAX_BATCH || c->claim_idle_ms < 1 ||
		 c->claim_idle_ms > 86400000u)
		why = "consumer bounds";
	else if (for_run &&
		 (c->archive_dir == NULL || c->archive_dir[0] == '\0'))
		why = "archive.dir";
	else if (c->http_listen == NULL || c->http_static_dir == NULL)
		why = "http";
	else if (c->n_forward_types > VC_FORWARD_MAX_TYPES ||
		 c->forward_facility > 23 ||
		 (c->forward_address &&
		  (c->forward_queue < 1 ||
		   c->forward_queue > VC_FORWARD_MAX_QUEUE ||
		   c->forward_app_name == NULL || c->n_forward_types == 0)))
		why = "forward";
	else if (c->log_target < 0)
		why = "log.target";
	if (why) {
		fprintf(stderr, "loaded (for_run %d) with a bad %s\n", for_run,
			why);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], err[2][1024];
	enum vg_err rc[2];
	int for_run;

	vg_fuzz_write("collector.yaml", data, size, path, sizeof(path));
	for (for_run = 0; for_run <= 1; for_run++) {
		struct vc_config cfg;

		err[for_run][0] = '\0';
		rc[for_run] = vc_config_load(path, for_run, &cfg, err[for_run],
					     sizeof(err[for_run]));
		if (rc[for_run] == VG_OK) {
			check_loaded(&cfg, path, for_run);
			vc_config_fini(&cfg);
		} else if (rc[for_run] == VG_EINVAL) {
			if (strncmp(err[for_run], path, strlen(path)) != 0 ||
			    err[for_run][strlen(path)] != ':') {
				fprintf(stderr,
					"refused without a message naming the "
					"file: %s\n",
					err[for_run]);
				abort();
			}
		} else if (rc[for_run] != VG_ENOMEM) {
			fprintf(stderr, "unexpected result %d: %s\n",
				rc[for_run], err[for_run]);
			abort();
		}
	}
	if (rc[1] == VG_OK && rc[0] != VG_OK) {
		fprintf(stderr, "loaded for run, refused for check: %s\n",
			err[0]);
		abort();
	}
	return 0;
}
