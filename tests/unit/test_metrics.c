/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics: listen addresses, the exposition text (names, HELP and TYPE
 * once per metric, labels, scaling, unknown keys, the cap), and a real
 * endpoint answering GET /metrics and refusing the rest.
 */
#define _GNU_SOURCE /* vasprintf */
#include "metrics.h"
#include "event.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>
#include <sys/socket.h>
#include <unistd.h>

static void
test_listen_addr(void **state)
{
	static const char *const bad[] = {
	    "",
	    "9477",
	    ":9477",
	    "127.0.0.1:",
	    "127.0.0.1",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:-1",
	    "1.2.3:80",
	    "host.example:80",
	    "::1:80",
	    "[::1]80",
	    "[::1]:",
	    "[]:80",
	    "127.0.0.1:80x",
	    "[127.0.0.1]:80",
	    "127.0.0.1: 80",
	};
	struct vg_listen_addr a;
	char msg[256];
	size_t i;

	(void)state;
	assert_ok(vg_listen_addr_parse("127.0.0.1:9477", &a, msg, sizeof(msg)),
		  msg);
	assert_true(a.loopback);
	assert_int_equal(a.port, 9477);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_ok(vg_listen_addr_parse("127.8.9.10:1", &a, msg, sizeof(msg)),
		  msg);
	assert_true(a.loopback);
	assert_ok(vg_listen_addr_parse("localhost:80", &a, msg, sizeof(msg)),
		  msg);
	assert_true(a.loopback);
	assert_string_equal(a.host, "localhost");
	assert_ok(vg_listen_addr_parse("[::1]:65535", &a, msg, sizeof(msg)),
		  msg);
	assert_true(a.loopback);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_string_equal(a.host, "::1");
	assert_ok(vg_listen_addr_parse("0.0.0.0:9477", &a, msg, sizeof(msg)),
		  msg);
	assert_false(a.loopback);
	assert_ok(vg_listen_addr_parse("[::]:9477", &a, msg, sizeof(msg)), msg);
	assert_false(a.loopback);
	assert_ok(vg_listen_addr_parse("192.0.2.1:9477", &a, msg, sizeof(msg)),
		  msg);
	assert_false(a.loopback);
	for (i = 0; i < VG_ARRAY_LEN(bad); i++) {
		if (vg_listen_addr_parse(bad[i], &a, msg, sizeof(msg)) !=
		    VG_EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_contains(msg, "expected HOST:PORT");
	}
	/* What is quoted back is escaped. */
	assert_int_equal(vg_listen_addr_parse("a\nb:1", &a, msg, sizeof(msg)),
			 VG_EINVAL);
	assert_contains(msg, "a\\x0ab:1");
}

static const struct vg_stat_kv kv[] = {
    {"capture.packets", 1000},
    {"capture.kernel_drops", 3},
    {"capture.if_drops", 0},
    {"capture.ring_drops", 2},
    {"iface.packets.eth0.100", 600},
    {"iface.kernel_drops.eth0.100", 3},
    {"iface.packets.lo", 400},
    {"decoder.pkts", 990},
    {"decoder.invalid", 10},
    {"decoder.truncated", 4},
    {"decoder.bad_version", 6},
    {"flow.active", 12},
    {"detect.rules", 41},
    {"detect.alerts", 5},
    {"detect.alerts_severity_1", 2},
    {"detect.alerts_severity_3", 3},
    {"detect.reloads", 1},
    {"detect.reload_failures", 1},
    {"output.redis.reply_errors", 0},
    {"output.redis.connect_errors", 4},
    {"spool.pending", 17},
    {"agent.cpu_user_ms", 1234},
    {"agent.cpu_sys_ms", 5},
    {"agent.rss_kb", 2048},
    {"agent.rules_generation", 3},
    {"files.alerts", 1},
    {"files.rules_version", 2},
    {"sandbox.restarts", 2},
    {"sandbox.child_pid", 4242},
    {"rules.bundle_version", 7},
    {"rules.bundle_applied", 3},
    {"rules.bundle_refused", 1},
    {"brand.new_counter", 77},
};

/*
 * Check text line by line as the format 0.0.4 says: comments are HELP or
 * TYPE, TYPE comes once per metric before its samples, samples are
 * NAME{LABELS} VALUE with a known metric. Returns the number of samples.
 */
static size_t
check_exposition(const char *text)
{
	regex_t sample, help, type;
	char *copy = strdup(text), *line, *save = NULL;
	char typed[128][96];
	size_t n_typed = 0, samples = 0, i;
	regmatch_t m[2];

	assert_int_equal(
	    regcomp(&sample,
		    "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
		    "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
		    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? "
		    "[0-9]+(\\.[0-9]+)?$",
		    REG_EXTENDED),
	    0);
	assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(regcomp(&type,
				 "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
				 "(counter|gauge|untyped)$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&type, line, 2, m, 0) == 0) {
			char name[96];

			snprintf(name, sizeof(name), "%.*s",
				 (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
			for (i = 0; i < n_typed; i++)
				if (strcmp(typed[i], name) == 0)
					fail_msg("TYPE twice: %s", name);
			assert_true(n_typed < 128);
			snprintf(typed[n_typed++], sizeof(typed[0]), "%s",
				 name);
			/* Counters, and only they, end in _total. */
			if ((strstr(line, " counter") != NULL) !=
			    (strlen(name) > 6 &&
			     strcmp(name + strlen(name) - 6, "_total") == 0))
				fail_msg("counter naming: %s", line);
			continue;
		}
		if (regexec(&help, line, 0, NULL, 0) == 0)
			continue;
		if (regexec(&sample, line, 2, m, 0) != 0)
			fail_msg("not a sample: \"%s\"", line);
		/* The sample's metric was the last one typed. */
		assert_true(n_typed > 0);
		if (strncmp(line, typed[n_typed - 1],
			    strlen(typed[n_typed - 1])) != 0)
			fail_msg("sample %s outside its metric %s", line,
				 typed[n_typed - 1]);
		samples++;
	}
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	free(copy);
	return samples;
}

static void
test_format(void **state)
{
	struct vg_buf b;
	size_t samples;

	(void)state;
	vg_buf_init(&b, VG_METRICS_MAX_BYTES);
	assert_ok(
	    vg_metrics_format(&b, kv, VG_ARRAY_LEN(kv), 12.25, "0.1.0-\"x\""),
	    "format");
	samples = check_exposition(b.data);
	/* Every counter once, and up, build_info, uptime. */
	assert_int_equal(samples, VG_ARRAY_LEN(kv) + 3);
	assert_contains(b.data, "\nvigil_agent_packets_total 1000\n");
	assert_contains(b.data, "# TYPE vigil_agent_drops_total counter\n"
				"vigil_agent_drops_total{where=\"kernel\"} 3\n"
				"vigil_agent_drops_total{where=\"interface\"} "
				"0\n"
				"vigil_agent_drops_total{where=\"ring\"} 2\n");
	assert_contains(b.data, "\nvigil_agent_decoder_results_total{reason="
				"\"truncated\"} 4\n");
	/* Per interface, a name with dots whole; two labels. */
	assert_contains(b.data, "# TYPE vigil_agent_interface_packets_total "
				"counter\nvigil_agent_interface_packets_total{"
				"interface=\"eth0.100\"} 600\n"
				"vigil_agent_interface_packets_total{"
				"interface=\"lo\"} 400\n");
	assert_contains(b.data, "\nvigil_agent_interface_drops_total{where="
				"\"kernel\",interface=\"eth0.100\"} 3\n");
	assert_contains(b.data, "\nvigil_agent_decoder_results_total{reason="
				"\"bad_version\"} 6\n");
	/* decoder.pkts and .invalid have their own rows, not the prefix's. */
	assert_contains(b.data, "\nvigil_agent_decoded_packets_total 990\n");
	assert_null(strstr(b.data, "reason=\"pkts\""));
	assert_contains(b.data, "# TYPE vigil_agent_flows_active gauge\n"
				"vigil_agent_flows_active 12\n");
	assert_contains(b.data, "\nvigil_agent_alerts_total{source="
				"\"network\"} 5\nvigil_agent_alerts_total{"
				"source=\"file\"} 1\n");
	assert_contains(b.data, "\nvigil_agent_alerts_by_severity_total{"
				"severity=\"high\"} 2\n");
	assert_contains(b.data, "\nvigil_agent_reloads_total{result="
				"\"failed\"} 1\n");
	assert_contains(b.data, "\nvigil_agent_publish_errors_total{kind="
				"\"connect\"} 4\n");
	assert_contains(b.data, "\nvigil_agent_spool_depth_events 17\n");
	assert_contains(b.data, "\nvigil_agent_cpu_seconds_total{mode="
				"\"user\"} 1.234\n");
	assert_contains(b.data, "\nvigil_agent_cpu_seconds_total{mode="
				"\"system\"} 0.005\n");
	assert_contains(b.data,
			"\nvigil_agent_resident_memory_bytes 2097152\n");
	assert_contains(b.data, "\nvigil_agent_rules_version{kind="
				"\"network\"} 3\nvigil_agent_rules_version{"
				"kind=\"yara\"} 2\n");
	/* The packet sandbox's and the rule bundles' keys have rows. */
	assert_contains(b.data,
			"# TYPE vigil_agent_packet_child_restarts_total "
			"counter\nvigil_agent_packet_child_restarts_"
			"total 2\n");
	assert_contains(b.data, "# TYPE vigil_agent_packet_child_pid gauge\n"
				"vigil_agent_packet_child_pid 4242\n");
	assert_contains(b.data, "# TYPE vigil_agent_rule_bundle_version gauge\n"
				"vigil_agent_rule_bundle_version 7\n");
	assert_contains(b.data,
			"# TYPE vigil_agent_rule_bundles_total counter\n"
			"vigil_agent_rule_bundles_total{result="
			"\"applied\"} 3\nvigil_agent_rule_bundles_"
			"total{result=\"refused\"} 1\n");
	assert_null(strstr(b.data, "vigil_agent_stat_sandbox"));
	assert_null(strstr(b.data, "vigil_agent_stat_rules"));
	assert_contains(b.data, "# TYPE vigil_agent_stat_brand_new_counter "
				"untyped\nvigil_agent_stat_brand_new_counter "
				"77\n");
	assert_contains(b.data, "\nvigil_agent_up 1\n");
	assert_contains(b.data, "\nvigil_agent_build_info{version="
				"\"0.1.0-\\\"x\\\"\"} 1\n");
	assert_contains(b.data, "\nvigil_agent_uptime_seconds 12.250\n");
	/* Absent keys give no sample and no header. */
	assert_null(strstr(b.data, "vigil_agent_redis_sent_total"));
	vg_buf_fini(&b);

	/* Nothing at all: still up and build_info. */
	vg_buf_init(&b, VG_METRICS_MAX_BYTES);
	assert_ok(vg_metrics_format(&b, NULL, 0, 0, "1"), "format");
	assert_int_equal(check_exposition(b.data), 3);
	vg_buf_fini(&b);

	/* The cap holds. */
	vg_buf_init(&b, 256);
	assert_int_equal(vg_metrics_format(&b, kv, VG_ARRAY_LEN(kv), 1, "1"),
			 VG_ELIMIT);
	vg_buf_fini(&b);
}

/* ------------------------------------------------------------------ */
/* A real endpoint                                                     */

static unsigned scrapes;

static size_t
fake_stats(void *arg, struct vg_stat_kv *out, size_t room, double *uptime_s)
{
	(void)arg;
	assert_true(room >= VG_ARRAY_LEN(kv));
	memcpy(out, kv, sizeof(kv));
	*uptime_s = 1.5;
	scrapes++;
	return VG_ARRAY_LEN(kv);
}

static unsigned
free_port(void)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	socklen_t len = sizeof(in);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	close(fd);
	return ntohs(in.sin_port);
}

static char *
http(unsigned port, const char *request)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	static char buf[VG_METRICS_MAX_BYTES];
	size_t got = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(send(fd, request, strlen(request), 0),
			 (ssize_t)strlen(request));
	while ((r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	return buf;
}

static void
test_endpoint(void **state)
{
	struct vg_metrics *m = NULL;
	char addr[64], err[256] = "", *resp, *body;
	unsigned port = free_port();

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	assert_ok(vg_metrics_open(&m, addr, 0, fake_stats, NULL, "7.7.7", err,
				  sizeof(err)),
		  err);
	resp = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(strncmp(resp, "HTTP/1.0 200", 12) == 0 ||
		    strncmp(resp, "HTTP/1.1 200", 12) == 0);
	assert_contains(resp, "Content-Type: text/plain; version=0.0.4; "
			      "charset=utf-8\r\n");
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	assert_int_equal(check_exposition(body + 4), VG_ARRAY_LEN(kv) + 3);
	assert_contains(body, "vigil_agent_build_info{version=\"7.7.7\"} 1\n");
	assert_int_equal(scrapes, 1);

	resp = http(port, "GET /other HTTP/1.0\r\n\r\n");
	assert_contains(resp, " 404 ");
	resp = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n"
			  "\r\nabc");
	assert_contains(resp, " 405 ");
	assert_contains(resp, "Allow: GET\r\n");
	resp = http(port, "garbage\r\n\r\n");
	assert_null(strstr(resp, " 200 "));
	/* Only the one GET took a snapshot. */
	assert_int_equal(scrapes, 1);
	vg_metrics_close(m);

	/* The port is free again. */
	assert_ok(vg_metrics_open(&m, addr, 0, fake_stats, NULL, "7.7.7", err,
				  sizeof(err)),
		  err);
	vg_metrics_close(m);

	/* Not loopback: refused unless allowed. */
	snprintf(addr, sizeof(addr), "0.0.0.0:%u", port);
	m = NULL;
	assert_int_equal(vg_metrics_open(&m, addr, 0, fake_stats, NULL, "1",
					 err, sizeof(err)),
			 VG_EINVAL);
	assert_contains(err, "not a loopback address");
	assert_null(m);
	assert_int_equal(vg_metrics_open(&m, "nonsense", 1, fake_stats, NULL,
					 "1", err, sizeof(err)),
			 VG_EINVAL);
	vg_metrics_close(NULL);
	(void)strf;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen_addr),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
