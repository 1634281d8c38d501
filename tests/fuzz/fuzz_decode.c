/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the packet decoder. The first input byte picks the link
 * type, the rest is the frame; every tunnel is opened. Built with
 * -fsanitize=fuzzer when VIGIL_FUZZ is on; otherwise a plain main() runs
 * each file named on the command line once, so ctest replays the corpus
 * and every crash ever found.
 */
#include "decode.h"

#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				   DLT_RAW,    DLT_IPV4,      DLT_IPV6,
				   DLT_NULL,   DLT_LOOP,      DLT_PPP,
				   DLT_C_HDLC, DLT_PPP_SERIAL};
	struct vg_pkt p;
	uint8_t *frame;

	if (size < 1)
		return 0;
	/* An exact-size copy, so that any overread is caught. */
	frame = malloc(size - 1 ? size - 1 : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, size - 1);
	if (vg_decode(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], frame,
		      (uint32_t)(size - 1), ~0u, &p) == VG_DEC_OK) {
		/* What the decoder returns must lie inside the frame. */
		if (p.l3 < frame || p.l3 + p.l3_len > frame + size - 1)
			abort();
		if (p.payload && p.payload + p.payload_len > frame + size - 1)
			abort();
	}
	free(frame);
	return 0;
}

#ifndef VIGIL_FUZZING
int
main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			return 1;
		}
		buf = malloc((size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len)
			return 1;
		fclose(f);
		/* Each file whole, then as frames of every window of 64 KiB
		 * at most, so a capture file exercises many link types. */
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		for (long off = 0; off + 2 < len; off += 97)
			LLVMFuzzerTestOneInput(
			    buf + off,
			    (size_t)(len - off < 1600 ? len - off : 1600));
		free(buf);
		n++;
	}
	printf("fuzz_decode: %d inputs replayed\n", n);
	return 0;
}
#endif
