/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the agent's configuration parser (agent/config.c): the
 * input is written as agent.yaml and loaded. Whatever it holds, the load
 * returns VG_OK or VG_EINVAL; a VG_EINVAL load reports at least one
 * "FILE:LINE: KEY: MESSAGE" line, and a loaded configuration dumps to a
 * file that loads again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_config cfg;
	char path[512], msgs[4096];
	FILE *errs;
	enum vg_err rc;

	vg_fuzz_write("agent.yaml", data, size, path, sizeof(path));
	memset(msgs, 0, sizeof(msgs));
	errs = fmemopen(msgs, sizeof(msgs) - 1, "w");
	if (errs == NULL)
		abort();
	rc = vg_config_load(&cfg, path, errs);
	fclose(errs);
	if (rc != VG_OK && rc != VG_EINVAL && rc != VG_ENOMEM) {
		fprintf(stderr, "unexpected result %d\n", rc);
		abort();
	}
	if (rc == VG_EINVAL && strstr(msgs, "agent.yaml:") == NULL) {
		fprintf(stderr, "refused without a message naming the file\n");
		abort();
	}
	if (rc == VG_OK) {
		char again[512];
		FILE *f;
		struct vg_config cfg2;

		snprintf(again, sizeof(again), "%s/dump.yaml",
			 vg_fuzz_tmpdir());
		f = fopen(again, "w");
		if (f == NULL)
			abort();
		vg_config_dump(&cfg, f);
		fclose(f);
		if (vg_config_load(&cfg2, again, stderr) != VG_OK) {
			fprintf(stderr,
				"the dump of a loaded file is refused\n");
			abort();
		}
		vg_config_fini(&cfg2);
		vg_config_fini(&cfg);
	}
	return 0;
}
