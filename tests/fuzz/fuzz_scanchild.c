/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for what a scanner child answers (agent/scanchild.c): the
 * input is a RESULT payload, decoded against the shipped YARA rules as
 * the parent decodes one. A decoded verdict must keep every bound (match
 * and string counts, rule and string names from the set, offsets within
 * the bytes scanned), and encoding it again must give the same bytes, so
 * nothing is read that the decoder did not check.
 *
 * The seeds (tests/fuzz/corpus/scanchild/) are verdicts of real scans of
 * the file-scan seeds, made by this target itself:
 *   VIGIL_FUZZ_SEEDS_FROM=tests/fuzz/corpus/filescan \
 *   VIGIL_FUZZ_SEEDS_TO=tests/fuzz/corpus/scanchild \
 *   build/bin/fuzz_scanchild tests/fuzz/corpus/scanchild
 */
#include "sandbox.h"
#include "scanchild.h"
#include "yarascan.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

#define SCANNED 4096 /* the file size the parent asked about */

static struct vg_yara *rules;
static struct vg_scanchild *sc;
static uint8_t *again;

/* Write the verdict of each file of from into to, named after it. */
static void
write_seeds(const char *from, const char *to)
{
	struct vg_yara_scanner *s = NULL;
	DIR *d = opendir(from);
	struct dirent *e;

	if (d == NULL || vg_yara_scanner_new(&s, rules, 10) != VG_OK)
		abort();
	while ((e = readdir(d)) != NULL) {
		const struct vg_file_match *m;
		unsigned n, more;
		char p[4096], sha[65];
		uint8_t *data;
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		if ((data = malloc(SCANNED)) == NULL)
			abort();
		snprintf(p, sizeof(p), "%s/%s", from, e->d_name);
		f = fopen(p, "rb");
		if (f == NULL)
			abort();
		len = fread(data, 1, SCANNED, f);
		fclose(f);
		if (vg_yara_scan(s, data, len, &m, &n, &more) != VG_OK)
			abort();
		vg_sha256_hex(sha, data, len);
		len = vg_scanchild_encode_result(again, VG_SB_MAX_PAYLOAD,
						 rules, VG_SCAN_DONE, len, sha,
						 m, n, more);
		snprintf(p, sizeof(p), "%s/%s.verdict", to, e->d_name);
		f = fopen(p, "wb");
		if (f == NULL || fwrite(again, 1, len, f) != len ||
		    fclose(f) != 0)
			abort();
		free(data);
	}
	closedir(d);
	vg_yara_scanner_free(s);
}

static void
setup(void)
{
	char p[4096];
	char *paths[1] = {p};

	snprintf(p, sizeof(p), "%s/rules/yara", VIGIL_SOURCE_DIR);
	if (vg_yara_load(&rules, paths, 1, stderr) != VG_OK ||
	    vg_scanchild_new(&sc, NULL) != VG_OK ||
	    (again = malloc(VG_SB_MAX_PAYLOAD)) == NULL)
		abort();
	if (getenv("VIGIL_FUZZ_SEEDS_FROM") && getenv("VIGIL_FUZZ_SEEDS_TO"))
		write_seeds(getenv("VIGIL_FUZZ_SEEDS_FROM"),
			    getenv("VIGIL_FUZZ_SEEDS_TO"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_scanchild_result r;
	char err[256];
	unsigned i, j;
	size_t n;

	if (rules == NULL)
		setup();
	if (vg_scanchild_decode_result(sc, rules, SCANNED, data, size, &r, err,
				       sizeof(err)) != VG_OK)
		return 0;
	if (r.n > VG_YARA_MAX_MATCHES || r.len > SCANNED ||
	    r.status >= VG_SCAN__STATUSES ||
	    (r.sha256[0] && strlen(r.sha256) != 64))
		abort();
	for (i = 0; i < r.n; i++) {
		const struct vg_file_match *m = &r.matches[i];

		if (vg_yara_rule_index(rules, m->rule) == UINT_MAX ||
		    m->n_strings > VG_YARA_MAX_STRINGS)
			abort();
		for (j = 0; j < m->n_strings; j++)
			if (m->strings[j].id == NULL ||
			    m->strings[j].n > VG_YARA_MAX_OFFSETS ||
			    (m->strings[j].n &&
			     m->strings[j].offsets[m->strings[j].n - 1] >=
				 r.len))
				abort();
	}
	n = vg_scanchild_encode_result(again, VG_SB_MAX_PAYLOAD, rules,
				       r.status, r.len, r.sha256, r.matches,
				       r.n, r.more);
	if (n != size || memcmp(again, data, size) != 0) {
		fprintf(stderr, "a verdict does not encode back to itself\n");
		abort();
	}
	return 0;
}
