/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared view's preparation of an event (collectors/shared.c): which
 * events go to the recent stream, the fields the script counts, and the
 * caps (an over-long agency, signature, country or agent id is not
 * counted). What the script does with them in Redis is tested against a
 * real server by tests/integration/collector_shared.py.
 *
 * Unit tests link only vigil_core, so the module's source (and the
 * store's, for the time parser) is included here; the configuration's
 * vc_config_redis_opts() is not needed and stubbed.
 */
#define _GNU_SOURCE /* vasprintf in testutil.h */

#include "../../collectors/shared.c"
#include "../../collectors/store.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

#include "testutil.h"

void
vc_config_redis_opts(const struct vc_config *cfg, struct vg_redis_opts *o)
{
	(void)cfg;
	vg_redis_opts_init(o);
}

static const uint8_t key[16] = {0x01, 0x92, 0xf1, 0xc6, 0, 0, 0x70, 0,
				0x80, 0,    0,    0,    0, 0, 0,    0xff};

#define UUID "0192f1c6-0000-7000-8000-0000000000ff"

/* Prepare the event text; e->eve points into text (kept by caller). */
static void
prep(struct vc_shared_ev *e, const char *text)
{
	json_t *ev = json_loads(text, 0, NULL);

	assert_non_null(ev);
	vc_shared_prepare(e, ev, key, text, strlen(text));
	json_decref(ev);
}

static void
test_alert(void **state)
{
	static const char text[] =
	    "{\"timestamp\":\"2026-12-01T08:30:00.000001+0000\","
	    "\"event_type\":\"alert\",\"host\":\"web01\","
	    "\"alert\":{\"signature\":\"SSH brute force\","
	    "\"signature_id\":1000902,\"severity\":2},"
	    "\"geoip\":{\"src\":{\"country_iso\":\"RU\"}},"
	    "\"vigil\":{\"event_id\":\"" UUID "\",\"agency\":\"hanoi\","
	    "\"agent_id\":\"a1\",\"agent_version\":\"0.1.0\"}}";
	struct vc_shared_ev e;

	(void)state;
	prep(&e, text);
	assert_string_equal(e.id, "0192f1c60000700080000000000000ff");
	assert_string_equal(e.ts, "1796113800000001");
	assert_string_equal(e.kind, "a");
	assert_string_equal(e.sev, "2");
	assert_string_equal(e.agency, "hanoi");
	assert_string_equal(e.sig, "1000902|SSH brute force");
	assert_string_equal(e.country, "RU");
	assert_string_equal(e.agent, "a1");
	assert_string_equal(e.host, "web01");
	assert_string_equal(e.version, "0.1.0");
	assert_ptr_equal(e.eve, text);
	assert_int_equal(e.eve_len, strlen(text));
	/* heartbeat fields only from stats events */
	assert_string_equal(e.drops, "");
	assert_string_equal(e.uptime, "");
}

static void
test_kinds(void **state)
{
	struct vc_shared_ev e;

	(void)state;
	/* fileinfo: severity 4, nothing for the top lists */
	prep(&e, "{\"timestamp\":\"2026-12-01T08:30:00Z\","
		 "\"event_type\":\"fileinfo\",\"vigil\":{\"event_id\":\"" UUID
		 "\"}}");
	assert_string_equal(e.kind, "f");
	assert_string_equal(e.sev, "4");
	assert_string_equal(e.sig, "");
	assert_non_null(e.eve);
	/* an alert whose id is not a UUID: not for the stream (the store
	 * would refuse it), still deduped and its agent seen */
	prep(&e, "{\"timestamp\":\"2026-12-01T08:30:00Z\","
		 "\"event_type\":\"alert\",\"alert\":{\"severity\":9},"
		 "\"vigil\":{\"event_id\":\"nope\",\"agent_id\":\"a2\"}}");
	assert_string_equal(e.kind, "o");
	assert_null(e.eve);
	assert_string_equal(e.sev, "4"); /* out of 1..4 */
	assert_string_equal(e.agent, "a2");
	assert_string_equal(e.ts, "1796113800000000");
	/* no valid time: only the dedupe */
	prep(&e, "{\"timestamp\":\"yesterday\",\"event_type\":\"alert\","
		 "\"vigil\":{\"event_id\":\"" UUID "\"}}");
	assert_string_equal(e.ts, "");
	assert_null(e.eve);
	/* a signature without an id */
	prep(&e, "{\"timestamp\":\"2026-12-01T08:30:00Z\","
		 "\"event_type\":\"alert\",\"alert\":{\"signature\":\"a|b\"},"
		 "\"vigil\":{\"event_id\":\"" UUID "\"}}");
	assert_string_equal(e.sig, "|a|b");
}

static void
test_stats(void **state)
{
	struct vc_shared_ev e;

	(void)state;
	prep(&e, "{\"timestamp\":\"2026-12-01T08:30:00Z\","
		 "\"event_type\":\"stats\",\"stats\":{\"uptime\":86400,"
		 "\"capture\":{\"kernel_drops\":2,\"ring_drops\":3},"
		 "\"spool\":{\"pending\":7}},\"vigil\":{\"event_id\":\"" UUID
		 "\",\"agent_id\":\"a1\"}}");
	assert_string_equal(e.kind, "s");
	assert_null(e.eve);
	assert_string_equal(e.drops, "5");
	assert_string_equal(e.pending, "7");
	assert_string_equal(e.uptime, "86400");
	/* one counter only; negative or missing values are "not received" */
	prep(&e,
	     "{\"timestamp\":\"2026-12-01T08:30:00Z\","
	     "\"event_type\":\"stats\",\"stats\":{\"uptime\":-1,"
	     "\"capture\":{\"ring_drops\":4},\"spool\":{\"pending\":\"x\"}},"
	     "\"vigil\":{\"event_id\":\"" UUID "\",\"agent_id\":\"a1\"}}");
	assert_string_equal(e.drops, "4");
	assert_string_equal(e.pending, "");
	assert_string_equal(e.uptime, "");
	/* both counters at the top of the range: no overflow */
	prep(&e, "{\"timestamp\":\"2026-12-01T08:30:00Z\","
		 "\"event_type\":\"stats\",\"stats\":{\"capture\":{"
		 "\"kernel_drops\":9223372036854775807,\"ring_drops\":9}},"
		 "\"vigil\":{\"event_id\":\"" UUID "\",\"agent_id\":\"a1\"}}");
	assert_string_equal(e.drops, "9223372036854775807");
}

static void
test_caps(void **state)
{
	char long_name[VC_SHARED_MAX_NAME + 2], sig[VC_SHARED_MAX_SIG + 2];
	char *text;
	struct vc_shared_ev e;

	(void)state;
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0'; /* MAX_NAME + 1 bytes */
	memset(sig, 's', sizeof(sig) - 1);
	sig[sizeof(sig) - 1] = '\0'; /* MAX_SIG + 1 bytes */
	text = strf("{\"timestamp\":\"2026-12-01T08:30:00Z\","
		    "\"event_type\":\"alert\",\"host\":\"%s\","
		    "\"alert\":{\"signature\":\"%s\",\"signature_id\":1},"
		    "\"geoip\":{\"src\":{\"country_iso\":\"TOOLONGXX\"}},"
		    "\"vigil\":{\"event_id\":\"" UUID "\",\"agency\":\"%s\","
		    "\"agent_id\":\"%s\"}}",
		    long_name, sig, long_name, long_name);
	prep(&e, text);
	assert_string_equal(e.agency, "");
	assert_string_equal(e.agent, "");
	assert_string_equal(e.host, "");
	assert_string_equal(e.sig, "");
	assert_string_equal(e.country, "");
	assert_non_null(e.eve); /* still shown in the alerts */
	free(text);

	/* exactly at the caps: kept */
	long_name[VC_SHARED_MAX_NAME] = '\0';
	sig[VC_SHARED_MAX_SIG] = '\0';
	text = strf("{\"timestamp\":\"2026-12-01T08:30:00Z\","
		    "\"event_type\":\"alert\",\"alert\":{\"signature\":\"%s\","
		    "\"signature_id\":-12},\"vigil\":{\"event_id\":\"" UUID
		    "\",\"agency\":\"%s\"}}",
		    sig, long_name);
	prep(&e, text);
	assert_int_equal(strlen(e.agency), VC_SHARED_MAX_NAME);
	assert_int_equal(strlen(e.sig), VC_SHARED_MAX_SIG + 4);
	assert_memory_equal(e.sig, "-12|", 4);
	free(text);
}

static void
test_script(void **state)
{
	size_t len;
	const char *s = script_text(&len);

	(void)state;
	assert_int_equal(strlen(s), len);
	assert_true(len > 1000 && len < SCRIPT_MAX);
	assert_non_null(strstr(s, "if mode == 'add' then"));
	assert_non_null(strstr(s, "if mode == 'series' then"));
	assert_non_null(strstr(s, "if mode == 'agents' then"));
	/* joined once: the same buffer each time */
	assert_ptr_equal(script_text(&len), s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alert),  cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_stats),  cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
