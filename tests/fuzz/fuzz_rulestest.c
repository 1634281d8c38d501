/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the rule test case parser (agent/rulestest.c, the files
 * of `vigil-agent rules test`): the input is read as one case file named
 * tests/case.yaml and checked, which opens nothing the case names. The
 * check returns VG_OK or VG_EINVAL (VG_ENOMEM only when memory runs out),
 * and a VG_EINVAL check reports at least one line naming the file.
 */
#include "rulestest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msgs[4096], *copy;
	FILE *in, *errs;
	enum vg_err rc;

	/* fmemopen takes a writable buffer, even to read: an exact copy. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	in = fmemopen(copy, size, "r");
	if (in == NULL)
		abort();
	memset(msgs, 0, sizeof(msgs));
	errs = fmemopen(msgs, sizeof(msgs) - 1, "w");
	if (errs == NULL)
		abort();
	rc = vg_rules_case_check(in, "tests/case.yaml", errs);
	fclose(errs);
	fclose(in);
	free(copy);
	if (rc != VG_OK && rc != VG_EINVAL && rc != VG_ENOMEM) {
		fprintf(stderr, "unexpected result %d\n", rc);
		abort();
	}
	if (rc != VG_OK && strstr(msgs, "tests/case.yaml") == NULL) {
		fprintf(stderr, "refused without a message naming the file\n");
		abort();
	}
	if (rc == VG_OK && msgs[0] != '\0') {
		fprintf(stderr, "accepted with a message: %s\n", msgs);
		abort();
	}
	return 0;
}
