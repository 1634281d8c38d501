/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the spool's segment reader (agent/spool.c): a segment
 * file is made from the input and the spool opened on it and read to the
 * end. Corrupt and torn records must be counted and skipped, never crash,
 * and every record handed out must hold 1 to VG_SPOOL_RECORD_MAX bytes.
 *
 * The first input byte picks how the rest becomes the segment:
 *  bit 0 clear  the bytes follow a valid header as they are
 *  bit 0 set    the bytes are cut into records (u8 length, payload) that
 *               get their true length and CRC32C, then byte (first input
 *               byte >> 1) of the file is flipped, when inside it
 *  bit 7 set    (with bit 0 clear) no header: the bytes are the whole file
 */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzzutil.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char first[] = "0000000000000001";
	struct vg_spool_opts o = {0};
	struct vg_spool *s;
	struct vg_spool_stats st;
	char dir[512], seg[600], err[512];
	uint8_t *file;
	size_t len = 0, i;
	unsigned rounds = 0;
	enum vg_err rc;
	FILE *f;

	if (size < 1)
		return 0;
	/* header + records: each input byte costs at most 9 output bytes */
	file = malloc(16 + 9 * size);
	if (file == NULL)
		abort();
	if (!(data[0] & 0x81)) {
		memcpy(file, "VGSPOOL1", 8);
		memset(file + 8, 0, 8);
		file[8] = 1;
		len = 16;
	}
	if (data[0] & 1) {
		memcpy(file, "VGSPOOL1", 8);
		memset(file + 8, 0, 8);
		file[8] = 1;
		len = 16;
		for (i = 1; i < size;) {
			size_t n = data[i++];

			if (n > size - i)
				n = size - i;
			put32(file + len, (uint32_t)n);
			put32(file + len + 4, vg_spool_crc32c(data + i, n));
			memcpy(file + len + 8, data + i, n);
			len += 8 + n;
			i += n;
		}
		if ((size_t)(data[0] >> 1) < len)
			file[data[0] >> 1] ^= 0x40;
	} else {
		memcpy(file + len, data + 1, size - 1);
		len += size - 1;
	}
	snprintf(dir, sizeof(dir), "%s/spool", vg_fuzz_tmpdir());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		abort();
	snprintf(seg, sizeof(seg), "%s/%s.seg", dir, first);
	f = fopen(seg, "wb");
	if (f == NULL || fwrite(file, 1, len, f) != len || fclose(f) != 0)
		abort();
	free(file);

	o.dir = dir;
	o.sync_ms = 1000;
	rc = vg_spool_open(&s, &o, err, sizeof(err));
	if (rc == VG_OK) {
		for (;;) {
			struct vg_spool_rec recs[64];
			size_t n, k;

			if (vg_spool_peek(s, recs, 64, &n) != VG_OK) {
				fprintf(stderr, "peek failed\n");
				abort();
			}
			if (n == 0)
				break;
			for (k = 0; k < n; k++)
				if (recs[k].len == 0 ||
				    recs[k].len > VG_SPOOL_RECORD_MAX ||
				    (k && recs[k].seq <= recs[k - 1].seq))
					abort();
			if (vg_spool_ack(s, recs[n - 1].seq) != VG_OK)
				abort();
			if (++rounds > 100000)
				abort(); /* the reader does not advance */
		}
		vg_spool_stats(s, &st);
		if (st.pending_records != 0)
			abort();
		vg_spool_close(s);
	} else if (rc != VG_EMALFORMED) {
		fprintf(stderr, "open: %d: %s\n", rc, err);
		abort();
	}
	/* Empty the folder for the next input. */
	vg_fuzz_empty();
	return 0;
}
