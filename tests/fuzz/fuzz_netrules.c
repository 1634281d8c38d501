/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the network rule parser (agent/netrules.c): the input
 * is written as a rules file and loaded as detection.rules, with no IoC
 * list and no GeoIP database. The load succeeds or fails with messages;
 * a loaded set is evaluated once against an empty flow.
 */
#include "config.h"
#include "event.h"
#include "netrules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vg_detect_worker *w;
	struct vg_config cfg;
	struct vg_detect *d = NULL;
	char path[512], msgs[4096];
	FILE *errs;
	enum vg_err rc;

	if (w == NULL && vg_detect_worker_new(&w) != VG_OK)
		abort();
	vg_fuzz_write("rules.yaml", data, size, path, sizeof(path));
	if (vg_config_defaults(&cfg) != VG_OK ||
	    (cfg.rule_paths[0] = strdup(path)) == NULL)
		abort();
	cfg.n_rule_paths = 1;
	cfg.rule_paths_set = true;
	memset(msgs, 0, sizeof(msgs));
	errs = fmemopen(msgs, sizeof(msgs) - 1, "w");
	if (errs == NULL)
		abort();
	rc = vg_detect_load(&d, &cfg, NULL, errs);
	fclose(errs);
	if (rc == VG_OK) {
		struct vg_detect_state *st;
		struct vg_flow_info fi;
		struct vg_alert al[8];
		unsigned i, n = vg_detect_rule_count(d);

		for (i = 0; i < n; i++)
			if (vg_detect_rule(d, i) == NULL ||
			    vg_detect_rule(d, i)->name == NULL)
				abort();
		if (vg_detect_state_new(&st, 16) != VG_OK)
			abort();
		memset(&fi, 0, sizeof(fi));
		fi.ip_version = 4;
		fi.proto = 6;
		fi.dns_rcode = -1;
		(void)vg_detect_eval(d, st, w, VG_RULE_ON_CLASSIFIED, &fi, 0,
				     al, 8);
		(void)vg_detect_eval(d, st, w, VG_RULE_ON_FLOW_END, &fi, 0, al,
				     8);
		vg_detect_state_free(st);
		vg_detect_free(d);
	} else if (rc == VG_EINVAL && strstr(msgs, "rules.yaml:") == NULL) {
		fprintf(stderr, "refused without a message naming the file\n");
		abort();
	}
	vg_config_fini(&cfg);
	return 0;
}
