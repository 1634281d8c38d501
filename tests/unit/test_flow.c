/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the flow table: both directions meet, timeouts on packet
 * time, eviction at the bound, fragments, hashing. */
#include "flow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SEC 1000000LL

struct ended {
	uint64_t flow_id;
	uint16_t a_port, b_port;
	uint64_t pkts[2];
	enum vg_flow_end why;
};

struct rec {
	struct ended ev[64];
	unsigned n;
	unsigned freed;
};

static void
on_end(void *arg, struct vg_flow *f, enum vg_flow_end why)
{
	struct rec *r = arg;

	assert_true(r->n < 64);
	r->ev[r->n].flow_id = f->flow_id;
	r->ev[r->n].a_port = f->key.a_port;
	r->ev[r->n].b_port = f->key.b_port;
	r->ev[r->n].pkts[0] = f->pkts[0];
	r->ev[r->n].pkts[1] = f->pkts[1];
	r->ev[r->n].why = why;
	r->n++;
}

static void
on_free(void *arg, struct vg_flow *f)
{
	struct rec *r = arg;

	(void)f;
	r->freed++;
}

static struct vg_flow_table *
table(struct rec *r, unsigned max, int64_t idle, int64_t active)
{
	struct vg_flow_table *t;
	struct vg_flow_table_opts o = {
	    .max_flows = max,
	    .idle_timeout_us = idle,
	    .active_timeout_us = active,
	    .on_end = on_end,
	    .free_flow_state = on_free,
	    .arg = r,
	};

	memset(r, 0, sizeof(*r));
	assert_int_equal(vg_flow_table_new(&t, &o), VG_OK);
	return t;
}

static struct vg_pkt
pkt4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto)
{
	struct vg_pkt p;

	memset(&p, 0, sizeof(p));
	p.ip_version = 4;
	p.proto = proto;
	memcpy(p.src, &src, 4);
	memcpy(p.dst, &dst, 4);
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct vg_pkt
reverse(struct vg_pkt p)
{
	struct vg_pkt r = p;

	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	r.sport = p.dport;
	r.dport = p.sport;
	return r;
}

static void
test_directions_meet(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 100, 60 * SEC, 3600 * SEC);
	struct vg_pkt p = pkt4(0x0100000a, 40000, 0x0200000a, 80, 6);
	struct vg_pkt q = reverse(p);
	struct vg_flow *f1, *f2, *f3;
	struct vg_flow_table_stats st;
	int dir;

	(void)state;
	assert_int_equal(vg_flow_hash_pkt(&p), vg_flow_hash_pkt(&q));
	assert_int_equal(vg_flow_shard_hash(&p), vg_flow_shard_hash(&q));
	f1 = vg_flow_track(t, &p, 1 * SEC, 60, &dir);
	assert_non_null(f1);
	assert_int_equal(dir, 0);
	f2 = vg_flow_track(t, &q, 2 * SEC, 1500, &dir);
	assert_ptr_equal(f1, f2);
	assert_int_equal(dir, 1);
	f3 = vg_flow_track(t, &p, 3 * SEC, 60, &dir);
	assert_ptr_equal(f1, f3);
	assert_int_equal(dir, 0);
	assert_int_equal(f1->pkts[0], 2);
	assert_int_equal(f1->pkts[1], 1);
	assert_int_equal(f1->bytes[0], 120);
	assert_int_equal(f1->bytes[1], 1500);
	assert_int_equal(f1->key.a_port, 40000); /* the client */
	assert_true(f1->flags & VG_FLOW_F_BIDIR);
	assert_int_equal(f1->first_us, 1 * SEC);
	assert_int_equal(f1->last_us, 3 * SEC);

	/* Another port, another VLAN, another protocol: other flows. */
	p.sport = 40001;
	assert_ptr_not_equal(vg_flow_track(t, &p, 3 * SEC, 60, &dir), f1);
	p.sport = 40000;
	p.vlan = 7;
	assert_ptr_not_equal(vg_flow_track(t, &p, 3 * SEC, 60, &dir), f1);
	p.vlan = 0;
	p.proto = 17;
	assert_ptr_not_equal(vg_flow_track(t, &p, 3 * SEC, 60, &dir), f1);
	vg_flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.created, 4);
	vg_flow_table_free(t, 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.freed, 4);
	for (unsigned i = 0; i < r.n; i++)
		assert_int_equal(r.ev[i].why, VG_FLOW_END_SHUTDOWN);
}

static void
test_idle_timeout(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 100, 10 * SEC, 3600 * SEC);
	struct vg_pkt a = pkt4(1, 1000, 2, 53, 17);
	struct vg_pkt b = pkt4(3, 1000, 4, 53, 17);
	struct vg_flow_table_stats st;
	int dir;

	(void)state;
	assert_non_null(vg_flow_track(t, &a, 100 * SEC, 80, &dir));
	assert_non_null(vg_flow_track(t, &b, 105 * SEC, 80, &dir));
	/* a is idle for 9.9 s: still there. */
	vg_flow_tick(t, 110 * SEC - 1);
	assert_int_equal(r.n, 0);
	/* 10 s of silence: a ends, b does not. */
	vg_flow_tick(t, 110 * SEC);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].b_port, 53);
	assert_int_equal(r.ev[0].why, VG_FLOW_END_IDLE);
	/* A packet of b keeps it alive; a new packet of a is a new flow. */
	assert_non_null(vg_flow_track(t, &b, 114 * SEC, 80, &dir));
	assert_non_null(vg_flow_track(t, &a, 120 * SEC, 80, &dir));
	assert_int_equal(r.n, 1);
	vg_flow_tick(t, 124 * SEC);
	assert_int_equal(r.n, 2);
	vg_flow_table_stats(t, &st);
	assert_int_equal(st.ended_idle, 2);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.created, 3);
	vg_flow_table_free(t, 1);
	assert_int_equal(r.n, 2); /* silent: no event for the last one */
	assert_int_equal(r.freed, 3);
}

static void
test_active_timeout(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 100, 60 * SEC, 100 * SEC);
	struct vg_pkt p = pkt4(1, 5000, 2, 443, 6);
	struct vg_flow *f;
	uint64_t id;
	int dir, i;

	(void)state;
	/* One packet every 30 s for 5 minutes: never idle, but reported
	 * every 100 s with the counts of that period: at 120 s and 240 s. */
	for (i = 0; i <= 10; i++)
		f = vg_flow_track(t, &p, (int64_t)i * 30 * SEC, 100, &dir);
	assert_non_null(f);
	id = f->flow_id;
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[0].why, VG_FLOW_END_ACTIVE);
	assert_int_equal(r.ev[0].pkts[0], 4); /* 0, 30, 60, 90 s */
	assert_int_equal(r.ev[1].pkts[0], 4); /* 120 .. 210 s */
	assert_int_equal(r.ev[0].flow_id, id);
	assert_int_equal(f->pkts[0], 3); /* 240, 270, 300 s */
	assert_int_equal(f->first_us, 240 * SEC);
	assert_int_equal(r.freed, 0);
	vg_flow_table_free(t, 0);
}

static void
test_eviction(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 3, 600 * SEC, 3600 * SEC);
	struct vg_flow_table_stats st;
	struct vg_pkt p[5];
	int dir, i;

	(void)state;
	for (i = 0; i < 5; i++)
		p[i] = pkt4(1, (uint16_t)(1000 + i), 2, 80, 6);
	assert_non_null(vg_flow_track(t, &p[0], 1 * SEC, 60, &dir));
	assert_non_null(vg_flow_track(t, &p[1], 2 * SEC, 60, &dir));
	assert_non_null(vg_flow_track(t, &p[2], 3 * SEC, 60, &dir));
	/* Flow 0 is seen again: flow 1 is now the oldest idle one. */
	assert_non_null(vg_flow_track(t, &p[0], 4 * SEC, 60, &dir));
	assert_non_null(vg_flow_track(t, &p[3], 5 * SEC, 60, &dir));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].a_port, 1001);
	assert_int_equal(r.ev[0].why, VG_FLOW_END_EVICTED);
	assert_non_null(vg_flow_track(t, &p[4], 6 * SEC, 60, &dir));
	assert_int_equal(r.ev[1].a_port, 1002);
	vg_flow_table_stats(t, &st);
	assert_int_equal(st.evicted, 2);
	assert_int_equal(st.active, 3);
	vg_flow_table_free(t, 0);
}

static void
test_fragments(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 100, 60 * SEC, 3600 * SEC);
	struct vg_pkt first = pkt4(1, 5353, 2, 53, 17);
	struct vg_pkt later = pkt4(1, 0, 2, 0, 17);
	struct vg_pkt other = pkt4(1, 0, 2, 0, 17);
	struct vg_flow_table_stats st;
	struct vg_flow *f;
	int dir;

	(void)state;
	first.frag = VG_FRAG_FIRST;
	first.frag_id = 0x1234;
	later.frag = VG_FRAG_LATER;
	later.frag_id = 0x1234;
	other.frag = VG_FRAG_LATER;
	other.frag_id = 0x9999;
	assert_int_equal(vg_flow_shard_hash(&first),
			 vg_flow_shard_hash(&later));
	f = vg_flow_track(t, &first, 1 * SEC, 1500, &dir);
	assert_non_null(f);
	vg_flow_track_fragment(t, &later, 1 * SEC, 700);
	vg_flow_track_fragment(t, &other, 1 * SEC, 700);
	assert_int_equal(f->pkts[0], 2);
	assert_int_equal(f->bytes[0], 2200);
	vg_flow_table_stats(t, &st);
	assert_int_equal(st.frag_matched, 1);
	assert_int_equal(st.frag_orphan, 1);
	assert_int_equal(st.created, 1);
	vg_flow_table_free(t, 0);
}

static void
test_ipv6_and_ids(void **state)
{
	struct rec r;
	struct vg_flow_table *t = table(&r, 10000, 60 * SEC, 3600 * SEC);
	struct vg_pkt p;
	uint64_t ids[1000];
	int dir, i, j;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.ip_version = 6;
	p.proto = 6;
	p.src[0] = 0x20;
	p.dst[0] = 0x20;
	p.dst[15] = 1;
	p.dport = 443;
	for (i = 0; i < 1000; i++) {
		struct vg_flow *f;

		p.sport = (uint16_t)(10000 + i);
		f = vg_flow_track(t, &p, SEC, 100, &dir);
		assert_non_null(f);
		ids[i] = f->flow_id;
		assert_true(ids[i] > 0 && ids[i] < (1ULL << 51));
	}
	for (i = 0; i < 1000; i++)
		for (j = i + 1; j < 1000; j++)
			assert_true(ids[i] != ids[j]);
	/* An address differing only in its upper half is another flow. */
	p.sport = 10000;
	p.src[1] = 1;
	assert_int_not_equal(vg_flow_track(t, &p, SEC, 100, &dir)->flow_id,
			     ids[0]);
	vg_flow_table_free(t, 1);
}

static unsigned dpi_idle_calls;

static void
on_dpi_idle(void *arg, struct vg_flow *f)
{
	(void)arg;
	dpi_idle_calls++;
	f->flags |= VG_FLOW_F_DPI_DONE;
}

static void
test_dpi_idle_giveup(void **state)
{
	struct rec r;
	struct vg_flow_table *t;
	struct vg_flow_table_opts o = {
	    .max_flows = 100,
	    .idle_timeout_us = 120 * SEC,
	    .active_timeout_us = 3600 * SEC,
	    .on_end = on_end,
	    .free_flow_state = on_free,
	    .dpi_idle_us = 10 * SEC,
	    .on_dpi_idle = on_dpi_idle,
	    .arg = &r,
	};
	struct vg_pkt a = pkt4(1, 1000, 2, 80, 6);
	struct vg_pkt b = pkt4(1, 1001, 2, 80, 6);
	struct vg_pkt c = pkt4(1, 1002, 2, 80, 6);
	struct vg_flow *fa, *fb, *fc;
	struct vg_flow_table_stats st;
	int dir;

	(void)state;
	memset(&r, 0, sizeof(r));
	dpi_idle_calls = 0;
	assert_int_equal(vg_flow_table_new(&t, &o), VG_OK);
	fa = vg_flow_track(t, &a, 1 * SEC, 60, &dir);
	fb = vg_flow_track(t, &b, 2 * SEC, 60, &dir);
	fc = vg_flow_track(t, &c, 3 * SEC, 60, &dir);
	fb->flags |= VG_FLOW_F_DPI_DONE; /* b is classified */
	/* a keeps talking, c falls silent. */
	assert_non_null(vg_flow_track(t, &a, 9 * SEC, 60, &dir));
	vg_flow_tick(t, 12 * SEC);
	assert_int_equal(dpi_idle_calls, 0);
	vg_flow_tick(t, 13 * SEC);
	assert_int_equal(dpi_idle_calls, 1); /* c, not b (done), not a */
	assert_true(fc->flags & VG_FLOW_F_DPI_DONE);
	assert_false(fa->flags & VG_FLOW_F_DPI_DONE);
	vg_flow_tick(t, 19 * SEC);
	assert_int_equal(dpi_idle_calls, 2); /* now a */
	vg_flow_tick(t, 100 * SEC);
	assert_int_equal(dpi_idle_calls, 2);
	assert_int_equal(r.n, 0); /* the flows themselves live on */
	vg_flow_table_stats(t, &st);
	assert_int_equal(st.dpi_idle, 2);
	assert_int_equal(st.active, 3);
	vg_flow_table_free(t, 0);
	assert_int_equal(r.n, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_directions_meet),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_active_timeout),
	    cmocka_unit_test(test_eviction),
	    cmocka_unit_test(test_fragments),
	    cmocka_unit_test(test_ipv6_and_ids),
	    cmocka_unit_test(test_dpi_idle_giveup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
