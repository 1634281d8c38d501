/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's store (collectors/store.c): order, filters, the paging
 * cursor, lookup by id, duplicates, the ring bound, the event stream, and
 * hostile input (bad JSON, bad ids, line breaks) refused and counted. (The
 * agents and the per-minute counts live in Redis: shared.c, tested by
 * tests/integration/collector_shared.py.)
 *
 * Unit tests link only vigil_core, so the store's source is included
 * here.
 */
#include "../../collectors/store.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

/* 2026-12-01T08:30:00Z */
#define NOW_US (INT64_C(1796113800) * 1000000)

static void
add_ev(struct vc_store *s, const char *type, unsigned n, const char *ts,
       const char *agency, int sev, const char *sig, const char *country)
{
	char buf[1024], sevs[32] = "", geo[64] = "";
	int len;

	if (sev > 0)
		snprintf(sevs, sizeof(sevs), ",\"severity\":%d", sev);
	if (country != NULL)
		snprintf(geo, sizeof(geo),
			 ",\"geoip\":{\"src\":{\"country_iso\":\"%s\"}}",
			 country);
	len = snprintf(buf, sizeof(buf),
		       "{\"timestamp\":\"%s\",\"event_type\":\"%s\","
		       "\"host\":\"h\",\"src_ip\":\"10.0.0.%u\","
		       "\"alert\":{\"signature\":\"%s\",\"signature_id\":%u%s},"
		       "\"fileinfo\":{\"filename\":\"File%u.EXE\"}%s,"
		       "\"vigil\":{\"event_id\":"
		       "\"0192f1c6-0000-7000-8000-%012u\",\"agent_id\":\"a%u\","
		       "\"agency\":\"%s\",\"agent_version\":\"0.1.0\"}}",
		       ts, type, n, sig, 1000 + (unsigned)strlen(sig), sevs, n,
		       geo, n, n % 2, agency);
	assert_true(len > 0 && (size_t)len < sizeof(buf));
	vc_store_add(s, buf, (size_t)len);
}

static void
id_of(char out[37], unsigned n)
{
	snprintf(out, 37, "0192f1c6-0000-7000-8000-%012u", n);
}

/* The event ids (their last 12 digits) of a result, in order. */
static void
expect_ids(const struct vc_result *r, const unsigned *want, size_t n)
{
	size_t i;

	assert_int_equal(r->n, n);
	for (i = 0; i < n; i++) {
		char id[37], *p;

		id_of(id, want[i]);
		p = strstr(r->items[i], "\"event_id\":\"");
		assert_non_null(p);
		assert_memory_equal(p + 12, id, 36);
	}
}

static struct vc_query
query(void)
{
	struct vc_query q;

	memset(&q, 0, sizeof(q));
	q.since_us = INT64_MIN;
	q.until_us = INT64_MAX;
	q.limit = 100;
	return q;
}

static int
setup(void **state)
{
	struct vc_store *s;

	s = vc_store_new(100);
	assert_non_null(s);
	/* 1..6 at 08:01..08:06; 7 at 08:03 too (same time as 3: id breaks
	 * the tie). */
	add_ev(s, "alert", 1, "2026-12-01T08:01:00.000000+0000", "hanoi", 1,
	       "SSH brute force", "RU");
	add_ev(s, "alert", 2, "2026-12-01T15:02:00+07:00", "hue", 2,
	       "SSH brute force", "RU");
	add_ev(s, "fileinfo", 3, "2026-12-01T08:03:00Z", "hanoi", 0, "x", NULL);
	add_ev(s, "alert", 4, "2026-12-01T08:04:00.5+0000", "hanoi", 3,
	       "Mimikatz", "CN");
	add_ev(s, "alert", 5, "2026-12-01T08:05:00.000000+0000", "hue", 0,
	       "No severity", NULL);
	add_ev(s, "alert", 6, "2026-12-01T08:06:00.000000+0000", "hanoi", 2,
	       "SSH brute force", "RU");
	add_ev(s, "alert", 7, "2026-12-01T08:03:00.000000+0000", "hanoi", 1,
	       "Mimikatz", "CN");
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	vc_store_free(*state);
	return 0;
}

static void
test_order_and_filters(void **state)
{
	struct vc_store *s = *state;
	struct vc_query q = query();
	struct vc_result r;
	static const unsigned all[] = {6, 5, 4, 7, 3, 2, 1};
	static const unsigned hanoi[] = {6, 4, 7, 3, 1};
	static const unsigned sev4[] = {5, 3};
	static const unsigned files[] = {3};
	static const unsigned window[] = {4, 7, 3, 2};
	static const unsigned text[] = {4, 7};
	static const unsigned fname[] = {5};

	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, all, 7);
	assert_null(r.next);
	vc_result_fini(&r);

	q.agency = "hanoi";
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, hanoi, 5);
	vc_result_fini(&r);

	q = query();
	q.severity = 4; /* no severity counts as 4 */
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, sev4, 2);
	vc_result_fini(&r);

	q = query();
	q.type = VC_TYPE_FILEINFO;
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, files, 1);
	vc_result_fini(&r);

	/* since inclusive, until exclusive, zones honoured. */
	q = query();
	assert_int_equal(
	    vc_parse_time("2026-12-01T15:02:00+07:00", &q.since_us), VG_OK);
	assert_int_equal(vc_parse_time("2026-12-01T08:05:00Z", &q.until_us),
			 VG_OK);
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, window, 4);
	vc_result_fini(&r);

	/* q: case-insensitive, over signature, IPs, file name, agency. */
	q = query();
	q.q = "MIMIKATZ";
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, text, 2);
	vc_result_fini(&r);
	q.q = "file5.exe";
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, fname, 1);
	vc_result_fini(&r);
	q.q = "10.0.0.";
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	assert_int_equal(r.n, 7);
	vc_result_fini(&r);
	q.q = "nowhere";
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	assert_int_equal(r.n, 0);
	vc_result_fini(&r);
}

static void
test_paging(void **state)
{
	struct vc_store *s = *state;
	struct vc_query q = query();
	struct vc_result r;
	static const unsigned p1[] = {6, 5, 4}, p2[] = {7, 3, 2}, p3[] = {1};
	char next[37], id[37];

	q.limit = 3;
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, p1, 3);
	assert_non_null(r.next);
	id_of(id, 4);
	assert_string_equal(r.next, id);
	memcpy(next, r.next, 37);
	vc_result_fini(&r);

	q.before = next;
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, p2, 3);
	assert_non_null(r.next);
	memcpy(next, r.next, 37);
	vc_result_fini(&r);

	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, p3, 1);
	assert_null(r.next);
	vc_result_fini(&r);

	/* An exact last page has no next. */
	q = query();
	q.limit = 7;
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	assert_null(r.next);
	vc_result_fini(&r);

	/* Unknown or malformed cursor: refused. */
	id_of(id, 999);
	q.before = id;
	assert_int_equal(vc_store_query(s, &q, &r), VG_EINVAL);
	assert_int_equal(r.n, 0);
	q.before = "nope";
	assert_int_equal(vc_store_query(s, &q, &r), VG_EINVAL);
}

static void
test_get_and_duplicates(void **state)
{
	struct vc_store *s = *state;
	struct vc_store_counters c;
	char id[37], *ev;
	size_t len = 0;

	id_of(id, 4);
	ev = vc_store_get(s, id, &len);
	assert_non_null(ev);
	assert_int_equal(len, strlen(ev));
	assert_non_null(strstr(ev, "Mimikatz"));
	free(ev);
	id_of(id, 42);
	assert_null(vc_store_get(s, id, &len));
	assert_null(vc_store_get(s, "../../etc/passwd", &len));

	/* The agent resends after an outage: same id, dropped. */
	add_ev(s, "alert", 4, "2026-12-01T08:04:00Z", "hanoi", 3, "Dup", NULL);
	vc_store_counters(s, &c);
	assert_int_equal(c.added, 7);
	assert_int_equal(c.duplicates, 1);
}

static void
test_bad_input(void **state)
{
	struct vc_store *s = *state;
	struct vc_store_counters c;
	static const char *bad[] = {
	    "",         "not json",    "[1,2]",
	    "{\"a\":1", "{\"a\":1}{}", "{\"a\":1,\"a\":2}",
	};
	static const char *invalid[] = {
	    /* no id, bad id, bad time, no time */
	    "{\"event_type\":\"alert\",\"timestamp\":\"2026-12-01T08:00:00Z\"}",
	    "{\"event_type\":\"alert\",\"timestamp\":\"2026-12-01T08:00:00Z\","
	    "\"vigil\":{\"event_id\":\"x\\nevent: evil\"}}",
	    "{\"event_type\":\"alert\",\"timestamp\":\"2026-13-01T08:00:00Z\","
	    "\"vigil\":{\"event_id\":\"0192f1c6-0000-7000-8000-"
	    "000000000900\"}}",
	    "{\"event_type\":\"fileinfo\","
	    "\"vigil\":{\"event_id\":\"0192f1c6-0000-7000-8000-"
	    "000000000901\"}}",
	};
	static const char nl[] =
	    "{\"timestamp\":\"2026-12-01T08:10:00Z\",\n\"event_type\":"
	    "\"alert\",\"vigil\":{\"event_id\":\"0192f1c6-0000-7000-8000-"
	    "000000000902\"}}";
	size_t i, len = 0;
	char *ev;

	for (i = 0; i < VG_ARRAY_LEN(bad); i++)
		vc_store_add(s, bad[i], strlen(bad[i]));
	vc_store_add(s, "{\"a\":1}", 3); /* cut by its length */
	vc_store_add(s, NULL, 0);
	for (i = 0; i < VG_ARRAY_LEN(invalid); i++)
		vc_store_add(s, invalid[i], strlen(invalid[i]));
	vc_store_counters(s, &c);
	assert_int_equal(c.malformed, VG_ARRAY_LEN(bad) + 2);
	assert_int_equal(c.invalid, VG_ARRAY_LEN(invalid));
	assert_int_equal(c.added, 7);

	/* A line break inside the JSON: stored on one line (SSE framing). */
	vc_store_add(s, nl, strlen(nl));
	ev = vc_store_get(s, "0192f1c6-0000-7000-8000-000000000902", &len);
	assert_non_null(ev);
	assert_null(strchr(ev, '\n'));
	free(ev);
}

static void
test_ring_bound(void **state)
{
	struct vc_store *s = vc_store_new(3);
	struct vc_store_counters c;
	struct vc_query q = query();
	struct vc_result r;
	static const unsigned last[] = {10, 9, 8};
	char id[37], ts[40];
	size_t len;
	unsigned i;

	(void)state;
	assert_non_null(s);
	for (i = 1; i <= 10; i++) {
		snprintf(ts, sizeof(ts), "2026-12-01T08:%02u:00Z", i);
		add_ev(s, "alert", i, ts, "hanoi", 1, "sig", NULL);
	}
	vc_store_counters(s, &c);
	assert_int_equal(c.added, 10);
	assert_int_equal(c.evicted, 7);
	assert_int_equal(vc_store_query(s, &q, &r), VG_OK);
	expect_ids(&r, last, 3);
	vc_result_fini(&r);
	id_of(id, 7);
	assert_null(vc_store_get(s, id, &len));
	/* An evicted id is no longer a duplicate. */
	add_ev(s, "alert", 7, "2026-12-01T08:07:00Z", "hanoi", 1, "sig", NULL);
	vc_store_counters(s, &c);
	assert_int_equal(c.added, 11);
	vc_store_free(s);
	vc_store_free(NULL);
}

static void
test_stream(void **state)
{
	struct vc_store *s = *state;
	uint64_t seq = vc_store_seq(s);
	atomic_int stop;
	char *ev = NULL, id[37];
	size_t len = 0;

	atomic_init(&stop, 0);
	assert_int_equal(vc_store_next(s, &seq, 10, &stop, &ev, &len, id), 0);
	add_ev(s, "alert", 50, "2026-12-01T08:20:00Z", "hanoi", 1, "new", NULL);
	assert_int_equal(vc_store_next(s, &seq, 10, &stop, &ev, &len, id), 1);
	assert_non_null(strstr(ev, "\"new\""));
	assert_string_equal(id, "0192f1c6-0000-7000-8000-000000000050");
	free(ev);
	atomic_store(&stop, 1);
	add_ev(s, "alert", 51, "2026-12-01T08:20:00Z", "hanoi", 1, "new", NULL);
	assert_int_equal(vc_store_next(s, &seq, 1000, &stop, &ev, &len, id), 0);
}

static void
test_parse_time(void **state)
{
	int64_t a, b;

	(void)state;
	assert_int_equal(vc_parse_time("1970-01-01T00:00:00Z", &a), VG_OK);
	assert_int_equal(a, 0);
	assert_int_equal(vc_parse_time("2026-12-01T08:30:00Z", &a), VG_OK);
	assert_int_equal(a, NOW_US);
	assert_int_equal(vc_parse_time("2026-12-01T15:30:00+07:00", &b), VG_OK);
	assert_int_equal(a, b);
	assert_int_equal(vc_parse_time("2026-12-01T08:30:00.123456+0000", &b),
			 VG_OK);
	assert_int_equal(b - a, 123456);
	assert_int_equal(vc_parse_time("2024-02-29T00:00:00Z", &a), VG_OK);
	assert_int_equal(vc_parse_time("2026-02-29T00:00:00Z", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time("2026-12-01T08:30:00", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time("2026-12-01 08:30:00Z", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time("2026-12-01T08:30:00Zjunk", &a),
			 VG_EINVAL);
	assert_int_equal(vc_parse_time("2026-12-01T24:00:00Z", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time("2026-12-01T08:30:00.Z", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time("yesterday", &a), VG_EINVAL);
	assert_int_equal(vc_parse_time(NULL, &a), VG_EINVAL);
	assert_true(vc_is_uuid("0192f1c6-0000-7000-8000-000000000001"));
	assert_false(vc_is_uuid("0192f1c6-0000-7000-8000-00000000000"));
	assert_false(vc_is_uuid("0192f1c6-0000-7000-8000-0000000000011"));
	assert_false(vc_is_uuid("0192f1c6x0000-7000-8000-000000000001"));
}

/* An alert padded to len bytes (a "pad" string) with "deep" holding
 * depth - 1 nested arrays, so the whole event nests depth levels. */
static char *
padded_alert(unsigned n, size_t len, unsigned depth)
{
	char *ev = malloc(len + 1);
	int head;
	size_t i, used;

	assert_non_null(ev);
	head = snprintf(ev, len + 1,
			"{\"timestamp\":\"2026-12-01T08:10:00Z\","
			"\"event_type\":\"alert\",\"vigil\":{\"event_id\":"
			"\"0192f1c6-0000-7000-8000-%012u\"},\"deep\":",
			n);
	assert_true(head > 0);
	used = (size_t)head;
	for (i = 0; i + 1 < depth; i++)
		ev[used++] = '[';
	for (i = 0; i + 1 < depth; i++)
		ev[used++] = ']';
	memcpy(ev + used, ",\"pad\":\"", 8);
	used += 8;
	assert_true(used + 2 <= len);
	memset(ev + used, 'p', len - used - 2);
	memcpy(ev + len - 2, "\"}", 2);
	ev[len] = '\0';
	return ev;
}

/* The bounds on an event the collector reads (store.h, SECURITY.md
 * "Limits"): VC_STORE_MAX_EVENT bytes and VC_STORE_MAX_DEPTH levels, at
 * the bound (kept) and one past it (counted malformed). */
static void
test_event_limits(void **state)
{
	struct vc_store *s;
	struct vc_store_counters c;
	char *ev;

	(void)state;
	s = vc_store_new(100);
	assert_non_null(s);
	ev = padded_alert(1, VC_STORE_MAX_EVENT, 4);
	vc_store_add(s, ev, VC_STORE_MAX_EVENT);
	free(ev);
	ev = padded_alert(2, VC_STORE_MAX_EVENT + 1, 4);
	vc_store_add(s, ev, VC_STORE_MAX_EVENT + 1);
	free(ev);
	ev = padded_alert(3, 8192, VC_STORE_MAX_DEPTH);
	vc_store_add(s, ev, 8192);
	free(ev);
	ev = padded_alert(4, 8192, VC_STORE_MAX_DEPTH + 1);
	vc_store_add(s, ev, 8192);
	free(ev);
	vc_store_counters(s, &c);
	assert_int_equal(c.added, 2);
	assert_int_equal(c.malformed, 2);
	vc_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order_and_filters, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
	    cmocka_unit_test(test_event_limits),
	    cmocka_unit_test_setup_teardown(test_get_and_duplicates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test(test_ring_bound),
	    cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	    cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
