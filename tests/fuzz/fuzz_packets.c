/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the packet path: a sequence of frames goes through
 * decode, flow tracking, classification (nDPI) and the network rules
 * (rules/network/dns.yaml and web-attacks.yaml: regular expressions on
 * names and URLs, risks, protocols), and every flow that ends is encoded
 * as a flow event and checked to be one JSON line.
 *
 * Input: one byte picks the link type, then frames, each
 *   u16 big-endian length (low 11 bits: at most 2047 bytes), u8 time step
 *   (milliseconds, times 16 when the top bit is set), the frame.
 * A frame cut short by the end of the input is still given to the
 * decoder, as a capture with a short snap length would.
 */
#include "buf.h"
#include "classify.h"
#include "config.h"
#include "decode.h"
#include "event.h"
#include "flow.h"
#include "netrules.h"

#include <jansson.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

struct harness {
	struct vg_classifier *cl;
	struct vg_detect *det;
	struct vg_detect_worker *dw;
	struct vg_detect_state *st;
	struct vg_buf out;
	struct vg_event_ctx ctx;
};

static struct harness H;

static void
describe(const struct vg_flow *f, struct vg_flow_info *fi, char *names,
	 size_t len, const char *reason)
{
	vg_classify_flow_info(H.cl, f, reason, "new", fi, names, len);
}

static void
rules(struct vg_flow *f, enum vg_rule_on on, const char *reason)
{
	struct vg_alert al[16];
	struct vg_flow_info fi;
	char names[256];
	unsigned n, i;

	describe(f, &fi, names, sizeof(names), reason);
	n = vg_detect_eval(H.det, H.st, H.dw, on, &fi, f->last_us, al, 16);
	if (n > 16)
		abort();
	for (i = 0; i < n; i++)
		if (al[i].rule == NULL || al[i].count == 0)
			abort();
}

static void
on_end(void *arg, struct vg_flow *f, enum vg_flow_end why)
{
	struct vg_flow_info fi;
	char names[256];
	json_t *j;
	json_error_t je;

	(void)arg;
	(void)why;
	vg_classify_finish(H.cl, f);
	if (!(f->flags & VG_FLOW_F_RULES_DONE)) {
		f->flags |= VG_FLOW_F_RULES_DONE;
		rules(f, VG_RULE_ON_CLASSIFIED, NULL);
	}
	rules(f, VG_RULE_ON_FLOW_END, "timeout");
	describe(f, &fi, names, sizeof(names), "timeout");
	vg_buf_reset(&H.out);
	if (vg_event_flow(&H.out, &H.ctx, &fi, f->last_us) != VG_OK)
		return;
	if (H.out.len == 0 || H.out.data[H.out.len - 1] != '\n' ||
	    memchr(H.out.data, '\n', H.out.len) != H.out.data + H.out.len - 1)
		abort();
	j = json_loadb(H.out.data, H.out.len, 0, &je);
	if (j == NULL) {
		fprintf(stderr, "not JSON: %s: %.*s\n", je.text, (int)H.out.len,
			H.out.data);
		abort();
	}
	json_decref(j);
}

static void
on_dpi_idle(void *arg, struct vg_flow *f)
{
	(void)arg;
	vg_classify_finish(H.cl, f);
	if (!(f->flags & VG_FLOW_F_RULES_DONE)) {
		f->flags |= VG_FLOW_F_RULES_DONE;
		rules(f, VG_RULE_ON_CLASSIFIED, NULL);
	}
}

static void
on_free(void *arg, struct vg_flow *f)
{
	(void)arg;
	vg_classify_release(f);
}

static void
setup(void)
{
	static const char *files[] = {"dns.yaml", "web-attacks.yaml"};
	struct vg_classify_opts co = {.tcp_max_packets = 16,
				      .udp_max_packets = 8};
	struct vg_config cfg;
	unsigned i;

	if (vg_config_defaults(&cfg) != VG_OK)
		abort();
	for (i = 0; i < 2; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/rules/network/%s", VIGIL_SOURCE_DIR,
			 files[i]);
		if ((cfg.rule_paths[i] = strdup(p)) == NULL)
			abort();
	}
	cfg.n_rule_paths = 2;
	cfg.rule_paths_set = true;
	if (vg_detect_load(&H.det, &cfg, NULL, stderr) != VG_OK ||
	    vg_detect_worker_new(&H.dw) != VG_OK ||
	    vg_classifier_new(&H.cl, &co) != VG_OK)
		abort();
	vg_config_fini(&cfg);
	vg_buf_init(&H.out, 1 << 20);
	H.ctx.host = "fuzz";
	H.ctx.agent_id = "fuzz";
	H.ctx.version = "0";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW,
				   DLT_LINUX_SLL2, DLT_NULL};
	struct vg_flow_table_opts fo = {
	    .max_flows = 32,
	    .idle_timeout_us = 30 * 1000000LL,
	    .active_timeout_us = 120 * 1000000LL,
	    .on_end = on_end,
	    .free_flow_state = on_free,
	    .dpi_idle_us = 10 * 1000000LL,
	    .on_dpi_idle = on_dpi_idle,
	};
	struct vg_flow_table *ft;
	int64_t now = 1700000000LL * 1000000;
	size_t off = 1;
	int dlt;

	if (H.cl == NULL)
		setup();
	if (size < 1)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	if (vg_flow_table_new(&ft, &fo) != VG_OK ||
	    vg_detect_state_new(&H.st, 64) != VG_OK)
		abort();
	while (off + 3 <= size) {
		size_t len = ((size_t)data[off] << 8 | data[off + 1]) & 0x7ff;
		unsigned step = data[off + 2];
		struct vg_pkt p;
		struct vg_flow *f;
		uint8_t *frame;
		int dir;

		off += 3;
		if (len > size - off)
			len = size - off;
		now += (int64_t)(step & 0x7f) * (step & 0x80 ? 16000 : 1000);
		/* An exact-size copy, so that any overread is caught. */
		frame = malloc(len ? len : 1);
		if (frame == NULL)
			abort();
		memcpy(frame, data + off, len);
		off += len;
		if (vg_decode(dlt, frame, (uint32_t)len, ~0u, &p) !=
		    VG_DEC_OK) {
			free(frame);
			continue;
		}
		if (p.frag == VG_FRAG_LATER) {
			vg_flow_track_fragment(ft, &p, now, (uint32_t)len);
		} else if ((f = vg_flow_track(ft, &p, now, (uint32_t)len,
					      &dir)) != NULL) {
			if (dir != 0 && dir != 1)
				abort();
			vg_classify_packet(H.cl, f, &p, now);
			if ((f->flags & VG_FLOW_F_DPI_DONE) &&
			    !(f->flags & VG_FLOW_F_RULES_DONE)) {
				f->flags |= VG_FLOW_F_RULES_DONE;
				rules(f, VG_RULE_ON_CLASSIFIED, NULL);
			}
		}
		free(frame);
	}
	vg_flow_tick(ft, now + 60 * 1000000LL);
	vg_flow_table_free(ft, 0);
	vg_detect_state_free(H.st);
	H.st = NULL;
	return 0;
}
