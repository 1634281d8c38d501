/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the IoC list parser (agent/ioc.c). The first byte picks
 * the list type, the rest is the list file. A loaded list is queried with
 * each of its own lines (it must not crash; a line that loaded as an entry
 * need not match, comments and blank lines are allowed).
 */
#include "ioc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_ioc_list *l = NULL;
	char path[512];
	enum vg_ioc_type type;
	enum vg_err rc;
	FILE *errs;

	if (size < 1)
		return 0;
	type = (enum vg_ioc_type)(data[0] % 4);
	vg_fuzz_write("list.txt", data + 1, size - 1, path, sizeof(path));
	errs = fopen("/dev/null", "w");
	rc = vg_ioc_list_load(&l, "fuzz", type, path, errs);
	if (errs)
		fclose(errs);
	if (rc == VG_OK) {
		const char *p = (const char *)data + 1, *end = p + size - 1;

		if (vg_ioc_list_type(l) != type)
			abort();
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			char line[VG_IOC_MAX_LINE + 1];
			uint8_t v, a[16];
			unsigned plen;

			if (n > VG_IOC_MAX_LINE)
				n = VG_IOC_MAX_LINE;
			memcpy(line, p, n);
			line[n] = '\0';
			(void)vg_ioc_match_domain(l, line);
			(void)vg_ioc_match_hash(l, line);
			if (vg_cidr_parse(line, &v, a, &plen) == VG_OK)
				(void)vg_ioc_match_ip(l, v, a);
			p += n + 1;
		}
		vg_ioc_list_free(l);
	} else if (rc != VG_EINVAL && rc != VG_ELIMIT && rc != VG_ENOMEM) {
		fprintf(stderr, "unexpected result %d\n", rc);
		abort();
	}
	return 0;
}
