/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the file-scan path: the input is a file's bytes,
 * scanned by the shipped YARA rules (the .yar files of rules/yara/) through the
 * scanner the file scanner uses (agent/yarascan.c), whose matches are
 * encoded as a fileinfo event that must be valid JSON; and the same bytes
 * are read back as a quarantine record (agent/quarantine.c), which must
 * be refused or give an item within the record's bounds.
 */
#include "buf.h"
#include "event.h"
#include "quarantine.h"
#include "yarascan.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzzutil.h"

static struct vg_yara_scanner *scanner;

static void
setup(void)
{
	static const char *files[] = {"disguised-executables.yar",
				      "eicar.yar",
				      "miners.yar",
				      "office-macros.yar",
				      "powershell.yar",
				      "webshells-asp-jsp.yar",
				      "webshells-php.yar"};
	char *paths[sizeof(files) / sizeof(files[0])];
	struct vg_yara *y;
	unsigned i, n = sizeof(files) / sizeof(files[0]);

	for (i = 0; i < n; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/rules/yara/%s", VIGIL_SOURCE_DIR,
			 files[i]);
		if ((paths[i] = strdup(p)) == NULL)
			abort();
	}
	if (vg_yara_load(&y, paths, n, stderr) != VG_OK ||
	    vg_yara_scanner_new(&scanner, y, 10) != VG_OK)
		abort();
	vg_yara_unref(y);
	for (i = 0; i < n; i++)
		free(paths[i]);
}

static void
scan(const uint8_t *data, size_t size)
{
	const struct vg_file_match *m;
	unsigned n = 0, more = 0, i;
	struct vg_event_ctx ctx = {"fuzz", "fuzz", NULL, "0"};
	struct vg_file_info fi;
	struct vg_buf b;
	enum vg_err rc;

	vg_yara_scanner_set_file(scanner, "/srv/www/upload/file.php");
	rc = vg_yara_scan(scanner, data, size, &m, &n, &more);
	if (rc != VG_OK && rc != VG_ELIMIT)
		abort();
	if (n > VG_YARA_MAX_MATCHES || (n && m == NULL))
		abort();
	for (i = 0; i < n; i++)
		if (m[i].rule == NULL || m[i].n_strings > VG_YARA_MAX_STRINGS)
			abort();
	memset(&fi, 0, sizeof(fi));
	fi.filename = "/srv/www/upload/file.php";
	fi.size = size;
	fi.matches = m;
	fi.n_matches = n;
	fi.more_matches = more;
	fi.source = "scan";
	fi.timed_out = rc == VG_ELIMIT;
	vg_buf_init(&b, 1 << 20);
	if (vg_event_fileinfo(&b, &ctx, &fi, 0) == VG_OK) {
		json_error_t je;
		json_t *j = json_loadb(b.data, b.len, 0, &je);

		if (j == NULL) {
			fprintf(stderr, "fileinfo is not JSON: %s\n", je.text);
			abort();
		}
		json_decref(j);
	}
	vg_buf_fini(&b);
}

static void
record(const uint8_t *data, size_t size)
{
	struct vg_quarantine_item *items = NULL;
	char qdir[512], p[700];
	size_t n = 0, bad = 0, i;
	FILE *f;

	snprintf(qdir, sizeof(qdir), "%s/q", vg_fuzz_tmpdir());
	if (mkdir(qdir, 0700) != 0 && errno != EEXIST)
		abort();
	snprintf(p, sizeof(p), "%s/20261201T101500Z-3f2a9c1e.json", qdir);
	f = fopen(p, "wb");
	if (f == NULL || (size && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0)
		abort();
	snprintf(p, sizeof(p), "%s/20261201T101500Z-3f2a9c1e.data", qdir);
	f = fopen(p, "wb");
	if (f == NULL || fclose(f) != 0)
		abort();
	if (vg_quarantine_list(qdir, &items, &n, &bad) != VG_OK || n + bad != 1)
		abort();
	for (i = 0; i < n; i++) {
		if (items[i].path == NULL || items[i].rule == NULL ||
		    strlen(items[i].path) > VG_QUARANTINE_PATH_MAX ||
		    strlen(items[i].id) > VG_QUARANTINE_ID_MAX ||
		    strlen(items[i].sha256) != 64)
			abort();
	}
	vg_quarantine_items_free(items, n);
	vg_fuzz_empty();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (scanner == NULL)
		setup();
	scan(data, size);
	record(data, size);
	return 0;
}
