/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/netrules.c, the network detection rules: loading
 * (the exact "FILE:LINE: rule ID: KEY: MESSAGE" line of each kind of
 * mistake, warnings that leave a rule disabled, folders), evaluation of
 * every condition kind against hand-built flows, GeoIP conditions on the
 * databases that tests/tools/make-mmdb.pl writes, the stateful parts
 * (threshold, distinct, suppress) and their bounded state, and what a
 * reload keeps.
 *
 * Rule files, IoC lists and databases are written into a fresh temporary
 * folder; the rule language is documented in rules/README.md.
 */
#define _GNU_SOURCE /* asprintf */

#include "netrules.h"

#include "classify.h"
#include "config.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef VIGIL_SOURCE_DIR
#error "VIGIL_SOURCE_DIR must name the source tree"
#endif

#define SEC 1000000LL
/* 2026-01-01T00:00:00Z: the time of every flow, in microseconds. */
#define T0 (1767225600LL * SEC)

#define CLASSIFIED VG_RULE_ON_CLASSIFIED
#define FLOW_END   VG_RULE_ON_FLOW_END

/*
 * The head of a rule: lines 1 (id) to 4 (severity); "match:" is then line
 * 5 and its first condition line 6, which the expected messages rely on.
 */
#define RULE(id)                                                               \
	"- id: " #id "\n  name: rule " #id "\n  category: test\n"              \
	"  severity: low\n"

static char tmpdir[] = "/tmp/vigil-netrules-XXXXXX";
static struct vg_detect_worker *worker;

/* ------------------------------------------------------------------ */
/* Files                                                                */

/* tmpdir/name (owned). */
static char *
tmp_path(const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

/* Write text to tmpdir/name; returns the path (owned). */
static char *
write_file(const char *name, const char *text)
{
	char *path = tmp_path(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
make_dir(const char *name)
{
	char *path = tmp_path(name);

	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Write the GeoIP test databases into tmpdir/geo. */
static int
make_geo(void)
{
	char *dir = tmp_path("geo");
	pid_t pid;
	int status;

	if (mkdir(dir, 0700) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("perl", "perl",
		       VIGIL_SOURCE_DIR "/tests/tools/make-mmdb.pl", dir,
		       (char *)NULL);
		_exit(127);
	}
	free(dir);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "make-mmdb.pl failed\n");
		return -1;
	}
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL || make_geo() != 0)
		return -1;
	return vg_detect_worker_new(&worker) == VG_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	vg_detect_worker_free(worker);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* Configuration and loading                                            */

/* Defaults, with no rule path and no IoC list yet (both "set"). */
static void
cfg_new(struct vg_config *cfg)
{
	assert_int_equal(vg_config_defaults(cfg), VG_OK);
	cfg->rule_paths_set = true;
	cfg->n_rule_paths = 0;
	cfg->ioc_set = true;
	cfg->n_ioc = 0;
}

static void
cfg_rules(struct vg_config *cfg, const char *path)
{
	assert_true(cfg->n_rule_paths < VG_CONFIG_MAX_LIST);
	cfg->rule_paths[cfg->n_rule_paths] = strdup(path);
	assert_non_null(cfg->rule_paths[cfg->n_rule_paths]);
	cfg->n_rule_paths++;
}

/* Write an IoC list file tmpdir/file and declare it as list name. */
static void
cfg_ioc(struct vg_config *cfg, const char *name, const char *type,
	const char *file, const char *text)
{
	struct vg_ioc_config *c = &cfg->ioc[cfg->n_ioc];

	assert_true(cfg->n_ioc < VG_CONFIG_MAX_LIST);
	c->name = strdup(name);
	c->type = strdup(type);
	c->path = write_file(file, text);
	assert_non_null(c->name);
	assert_non_null(c->type);
	cfg->n_ioc++;
}

/* Replace home_net with the n CIDRs of nets. */
static void
cfg_home_net(struct vg_config *cfg, const char *const *nets, unsigned n)
{
	unsigned i;

	for (i = 0; i < cfg->n_home_net; i++) {
		free(cfg->home_net[i]);
		cfg->home_net[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		cfg->home_net[i] = strdup(nets[i]);
		assert_non_null(cfg->home_net[i]);
	}
	cfg->n_home_net = n;
}

/* The GeoLite2 country and ASN databases of make-mmdb.pl. */
static void
cfg_geoip(struct vg_config *cfg)
{
	cfg->geoip_country_db = tmp_path("geo/country-geolite2.mmdb");
	cfg->geoip_asn_db = tmp_path("geo/asn-geolite2.mmdb");
}

/* The result of one vg_detect_load(). */
struct load {
	enum vg_err err;
	struct vg_detect *d;
	char *msgs; /* everything written to errs (owned) */
	size_t len;
};

static struct load
detect_load(const struct vg_config *cfg)
{
	/* *out must be set even on failure: start from a non-NULL value. */
	static max_align_t sentinel;
	struct load r;
	FILE *f;

	memset(&r, 0, sizeof(r));
	f = open_memstream(&r.msgs, &r.len);
	assert_non_null(f);
	r.d = (struct vg_detect *)(void *)&sentinel;
	r.err = vg_detect_load(&r.d, cfg, NULL, f);
	assert_int_equal(fclose(f), 0);
	if (r.err == VG_OK)
		assert_non_null(r.d);
	else
		assert_null(r.d);
	return r;
}

/* Each line of lines with "path:" in front, and "{PATH}" within lines
 * replaced by path (owned). */
static char *
prefix_lines(const char *path, const char *lines)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *p, *nl;

	assert_non_null(f);
	for (p = lines; *p; p = nl + 1) {
		const char *q, *at;

		nl = strchr(p, '\n');
		assert_non_null(nl);
		fprintf(f, "%s:", path);
		/* "{PATH}" inside a line stands for the path too. */
		for (q = p; q < nl; q = at + 6) {
			at = strstr(q, "{PATH}");
			if (at == NULL || at > nl) {
				fprintf(f, "%.*s", (int)(nl - q), q);
				break;
			}
			fprintf(f, "%.*s%s", (int)(at - q), q, path);
		}
		fputc('\n', f);
	}
	assert_int_equal(fclose(f), 0);
	return out;
}

static void
assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("expected:\n%s\ngot:\n%s", want, got);
}

/*
 * Write yaml to tmpdir/name and load it with cfg (NULL: the defaults)
 * plus that file. The load must return want and write exactly lines
 * (each line without its "PATH:" prefix, which is added). Returns the
 * set (owned), NULL when the load failed.
 */
static struct vg_detect *
load_expect(struct vg_config *cfg, const char *name, const char *yaml,
	    enum vg_err want, const char *lines)
{
	struct vg_config local;
	struct load r;
	char *path = write_file(name, yaml), *expected;

	if (cfg == NULL)
		cfg_new(&local);
	cfg_rules(cfg ? cfg : &local, path);
	r = detect_load(cfg ? cfg : &local);
	if (cfg == NULL)
		vg_config_fini(&local);
	expected = prefix_lines(path, lines);
	if (r.err != want)
		fail_msg("expected %s, got %s:\n%s", vg_strerror(want),
			 vg_strerror(r.err), r.msgs);
	assert_text(r.msgs, expected);
	free(expected);
	free(r.msgs);
	free(path);
	return r.d;
}

/* Load yaml with the defaults: it must load without a word. */
static struct vg_detect *
load_ok(const char *name, const char *yaml)
{
	return load_expect(NULL, name, yaml, VG_OK, "");
}

/* Load yaml with the defaults: it must fail with exactly lines. */
static void
expect_errors(const char *name, const char *yaml, const char *lines)
{
	assert_null(load_expect(NULL, name, yaml, VG_EINVAL, lines));
}

/* ------------------------------------------------------------------ */
/* Flows                                                                */

static uint8_t
parse_ip(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (strchr(text, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, text, out), 1);
		return 6;
	}
	assert_int_equal(inet_pton(AF_INET, text, out), 1);
	return 4;
}

/* A TCP flow of one second at T0, nothing classified. */
static struct vg_flow_info
flow(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct vg_flow_info fi;

	memset(&fi, 0, sizeof(fi));
	fi.flow_id = 1;
	fi.start_us = T0;
	fi.end_us = T0 + SEC;
	fi.ip_version = parse_ip(src, fi.src_ip);
	assert_int_equal(parse_ip(dst, fi.dst_ip), fi.ip_version);
	fi.proto = 6;
	fi.src_port = sport;
	fi.dst_port = dport;
	fi.state = "established";
	fi.dns_rcode = -1;
	return fi;
}

static uint16_t
proto_id(const char *name)
{
	int id = vg_classify_proto_id(name);

	assert_true(id > 0);
	return (uint16_t)id;
}

static uint16_t
category_id(const char *name)
{
	int id = vg_classify_category_id(name);

	assert_true(id >= 0);
	return (uint16_t)id;
}

static uint64_t
risk_bit(const char *name)
{
	int id = vg_classify_risk_id(name);

	assert_true(id > 0 && id < 64);
	return 1ULL << id;
}

static uint8_t
confidence_id(const char *name)
{
	int id = vg_classify_confidence_id(name);

	assert_true(id >= 0);
	return (uint8_t)id;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The ids of the rules of d that alert on fi at `on`, without state, in
 * ascending order and separated by spaces ("" when none): a readable
 * value to compare. A static buffer.
 */
static const char *
fired(const struct vg_detect *d, enum vg_rule_on on,
      const struct vg_flow_info *fi)
{
	static char buf[1024];
	struct vg_alert a[64];
	uint32_t ids[64];
	unsigned n, i;
	size_t len = 0;

	n = vg_detect_eval(d, NULL, worker, on, fi, fi->end_us, a, 64);
	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].count, 1);
		ids[i] = a[i].rule->id;
	}
	qsort(ids, n, sizeof(ids[0]), cmp_u32);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u",
					i ? " " : "", (unsigned)ids[i]);
	return buf;
}

/*
 * Evaluate fi with state st at t seconds after T0 (packet time). Returns
 * the count of the alert of d's one rule, 0 when it did not alert.
 */
static uint64_t
hit(const struct vg_detect *d, struct vg_detect_state *st,
    const struct vg_flow_info *fi, double t)
{
	struct vg_alert a[4];
	unsigned n;

	n = vg_detect_eval(d, st, worker, CLASSIFIED, fi,
			   T0 + (int64_t)(t * (double)SEC), a, 4);
	assert_true(n <= 1);
	return n ? a[0].count : 0;
}

/* The rule texts below keep one YAML line to a C line. */
/* clang-format off */

/* ------------------------------------------------------------------ */
/* 1. Loading errors                                                    */

static void
test_error_names(void **state)
{
	(void)state;
	/* Protocol, risk, category and condition names: did you mean. */
	expect_errors("e-proto.yaml",
		      RULE(1)
		      "  match:\n"
		      "    protocol: TLSS\n",
		      "6: rule 1: match.protocol: unknown nDPI protocol "
		      "\"TLSS\" (did you mean \"TLS\"?)\n");
	expect_errors("e-risk.yaml",
		      RULE(2)
		      "  match:\n"
		      "    risk: self_signed_cert\n",
		      "6: rule 2: match.risk: unknown nDPI risk "
		      "\"self_signed_cert\" (did you mean "
		      "\"tls_selfsigned_certificate\"?)\n");
	expect_errors("e-risk2.yaml",
		      RULE(3)
		      "  match:\n"
		      "    protocol: HTTP\n"
		      "    risk: [unsafe_protocol, "
		      "binary_aplication_transfer]\n",
		      "7: rule 3: match.risk[1]: unknown nDPI risk "
		      "\"binary_aplication_transfer\" (did you mean "
		      "\"binary_application_transfer\"?)\n");
	expect_errors("e-cat.yaml",
		      RULE(4)
		      "  match:\n"
		      "    category: Wbe\n",
		      "6: rule 4: match.category: unknown nDPI category "
		      "\"Wbe\" (did you mean \"Web\"?)\n");
	expect_errors("e-key.yaml",
		      RULE(5)
		      "  match:\n"
		      "    dst_por: 80\n",
		      "6: rule 5: match.dst_por: unknown condition \"dst_por\" "
		      "(did you mean \"dst_port\"?)\n");
	expect_errors("e-key2.yaml",
		      RULE(6)
		      "  match:\n"
		      "    any:\n"
		      "      - protocol: HTTP\n"
		      "      - http.user_agnet: curl\n",
		      "8: rule 6: match.any[1].http.user_agnet: unknown "
		      "condition \"http.user_agnet\" (did you mean "
		      "\"http.user_agent\"?)\n");
	/* Nothing close: no suggestion. */
	expect_errors("e-key3.yaml",
		      RULE(7)
		      "  match:\n"
		      "    wholly_unrelated_thing: 1\n",
		      "6: rule 7: match.wholly_unrelated_thing: unknown "
		      "condition \"wholly_unrelated_thing\"\n");
	expect_errors("e-conf.yaml",
		      RULE(8)
		      "  match:\n"
		      "    confidence: sure\n",
		      "6: rule 8: match.confidence: unknown confidence "
		      "\"sure\" (dpi, dpi_cache, match_by_port, match_by_ip or "
		      "unknown)\n");
	expect_errors("e-transport.yaml",
		      RULE(9)
		      "  match:\n"
		      "    transport: [tcp, 256]\n",
		      "6: rule 9: match.transport[1]: unknown transport "
		      "\"256\" (tcp, udp, icmp, icmp6, sctp, gre, esp, ah or a "
		      "protocol number)\n");
	expect_errors("e-direction.yaml",
		      RULE(10)
		      "  match:\n"
		      "    direction: Inward\n",
		      "6: rule 10: match.direction: unknown direction "
		      "\"Inward\" (inbound, outbound, internal or external)\n");
}

static void
test_error_values(void **state)
{
	(void)state;
	expect_errors("e-regex.yaml",
		      RULE(1)
		      "  match:\n"
		      "    http.url: {regex: \"a(b\"}\n",
		      "6: rule 1: match.http.url.regex: bad regular expression "
		      "at offset 3: missing closing parenthesis\n");
	expect_errors("e-cidr.yaml",
		      RULE(2)
		      "  match:\n"
		      "    dst_ip: [10.0.0.1/8, 300.1.2.3, "
		      "\"2001:db8::/129\"]\n",
		      "6: rule 2: match.dst_ip[0]: not an address or CIDR: "
		      "\"10.0.0.1/8\" (host bits set below the prefix length "
		      "are an error)\n"
		      "6: rule 2: match.dst_ip[1]: not an address or CIDR: "
		      "\"300.1.2.3\" (host bits set below the prefix length "
		      "are an error)\n"
		      "6: rule 2: match.dst_ip[2]: not an address or CIDR: "
		      "\"2001:db8::/129\" (host bits set below the prefix "
		      "length are an error)\n");
	expect_errors("e-port.yaml",
		      RULE(3)
		      "  match:\n"
		      "    dst_port: 70000\n",
		      "6: rule 3: match.dst_port: not a port or port range: "
		      "\"70000\" (write 22 or 6000-6063)\n");
	expect_errors("e-ports.yaml",
		      RULE(4)
		      "  match:\n"
		      "    port: [22, \"20-10\", \"1-65536\", \"-5\", 080]\n",
		      "6: rule 4: match.port[1]: not a port or port range: "
		      "\"20-10\" (write 22 or 6000-6063)\n"
		      "6: rule 4: match.port[2]: not a port or port range: "
		      "\"1-65536\" (write 22 or 6000-6063)\n"
		      "6: rule 4: match.port[3]: not a port or port range: "
		      "\"-5\" (write 22 or 6000-6063)\n"
		      "6: rule 4: match.port[4]: not a port or port range: "
		      "\"080\" (write 22 or 6000-6063)\n");
	expect_errors("e-num.yaml",
		      RULE(5)
		      "  match:\n"
		      "    bytes: \"10 parsecs\"\n"
		      "    http.status: \"200kb\"\n"
		      "    duration: \">= 5w\"\n",
		      "6: rule 5: match.bytes: expected a number or a "
		      "comparison such as \">= 10MiB\"\n"
		      "7: rule 5: match.http.status: expected a number or a "
		      "comparison such as \">= 100\"\n"
		      "8: rule 5: match.duration: expected a number or a "
		      "comparison such as \">= 5m\"\n");
	expect_errors("e-geo.yaml",
		      RULE(6)
		      "  match:\n"
		      "    country: [VN, VNM]\n"
		      "    asn: {in: [AS0]}\n",
		      "6: rule 6: match.country: warning: no GeoIP database "
		      "configured (geoip.country_db): this condition never "
		      "matches\n"
		      "6: rule 6: match.country[1]: not an ISO 3166 country "
		      "code: \"VNM\" (write VN, US...)\n"
		      "7: rule 6: match.asn: warning: no GeoIP database "
		      "configured (geoip.asn_db): this condition never "
		      "matches\n"
		      "7: rule 6: match.asn[0]: not an AS number: \"0\"\n");
	expect_errors("e-strkind.yaml",
		      RULE(7)
		      "  match:\n"
		      "    tls.sni: {ends_with: .ru}\n",
		      "6: rule 7: match.tls.sni: unknown match \"ends_with\" "
		      "(exact, suffix, prefix, contains, glob, regex or list)\n");
}

/* The same id twice: the message names where it was first seen. */
static void
test_error_duplicate_id(void **state)
{
	struct vg_config cfg;
	struct load r;
	char *a, *b, *expected = NULL;

	(void)state;
	a = write_file("dup-a.yaml",
		       RULE(5)
		       "  match: {protocol: DNS}\n");
	b = write_file("dup-b.yaml",
		       RULE(6)
		       "  match: {protocol: DNS}\n"
		       RULE(5)
		       "  match: {protocol: HTTP}\n");
	cfg_new(&cfg);
	cfg_rules(&cfg, a);
	cfg_rules(&cfg, b);
	r = detect_load(&cfg);
	assert_int_equal(r.err, VG_EINVAL);
	assert_true(asprintf(&expected,
			     "%s:6: rule 5: id: duplicate id (also %s:1)\n", b,
			     a) > 0);
	assert_text(r.msgs, expected);
	free(expected);
	free(r.msgs);
	vg_config_fini(&cfg);

	/* Within one file. */
	expect_errors("dup-c.yaml",
		      RULE(7)
		      "  match: {protocol: DNS}\n"
		      RULE(8)
		      "  match: {protocol: DNS}\n"
		      RULE(7)
		      "  match: {protocol: HTTP}\n",
		      "11: rule 7: id: duplicate id (also {PATH}:1)\n");
	free(a);
	free(b);
}

static void
test_error_rule_keys(void **state)
{
	(void)state;
	/* Every required key missing, each reported on the rule's line. */
	expect_errors("e-missing.yaml",
		      "- id: 9\n  description: nothing else\n",
		      "1: rule 9: name: missing\n"
		      "1: rule 9: category: missing\n"
		      "1: rule 9: severity: missing\n"
		      "1: rule 9: match: missing\n");
	expect_errors("e-noid.yaml",
		      "- name: x\n"
		      "  category: c\n"
		      "  severity: low\n"
		      "  match: {protocol: DNS}\n",
		      "1: id: missing (every rule needs a unique id)\n");
	expect_errors("e-badid.yaml",
		      "- id: 0\n"
		      "  name: x\n"
		      "  category: c\n"
		      "  severity: low\n"
		      "  match: {protocol: DNS}\n"
		      "- id: 4294967296\n"
		      "  name: x\n"
		      "  category: c\n"
		      "  severity: low\n"
		      "  match: {protocol: DNS}\n",
		      "1: id: expected a whole number from 1 to 4294967295\n"
		      "6: id: expected a whole number from 1 to 4294967295\n");
	expect_errors("e-sev.yaml",
		      "- id: 1\n"
		      "  name: x\n"
		      "  category: c\n"
		      "  severity: urgent\n"
		      "  match: {protocol: DNS}\n",
		      "4: rule 1: severity: expected critical, high, medium, "
		      "low or info\n");
	expect_errors("e-mitre.yaml",
		      RULE(2)
		      "  mitre: [T1110, T1071.1, t1234, T1110.001]\n"
		      "  match: {protocol: DNS}\n",
		      "5: rule 2: mitre[1]: not a MITRE ATT&CK technique id: "
		      "\"T1071.1\" (write T1110 or T1110.001)\n"
		      "5: rule 2: mitre[2]: not a MITRE ATT&CK technique id: "
		      "\"t1234\" (write T1110 or T1110.001)\n");
	/* The example of rules/README.md section 7, message for message. */
	expect_errors("e-readme.yaml",
		      "- id: 2000010\n"
		      "  name: \"Scripted HTTP client downloading an "
		      "executable\"\n"
		      "  category: malware-delivery\n"
		      "  sevrity: high\n"
		      "  mitre: [T1105, T1071.1]\n"
		      "  match:\n"
		      "    protocol: HTTP\n"
		      "    http.user_agnet: {contains: [curl, wget, python]}\n"
		      "    risk: binary_aplication_transfer\n",
		      "4: rule 2000010: sevrity: unknown key (did you mean "
		      "\"severity\"?)\n"
		      "5: rule 2000010: mitre[1]: not a MITRE ATT&CK technique "
		      "id: \"T1071.1\" (write T1110 or T1110.001)\n"
		      "1: rule 2000010: severity: missing\n"
		      "8: rule 2000010: match.http.user_agnet: unknown "
		      "condition \"http.user_agnet\" (did you mean "
		      "\"http.user_agent\"?)\n"
		      "9: rule 2000010: match.risk: unknown nDPI risk "
		      "\"binary_aplication_transfer\" (did you mean "
		      "\"binary_application_transfer\"?)\n");
	expect_errors("e-twice.yaml",
		      RULE(3)
		      "  name: again\n"
		      "  match:\n"
		      "    protocol: DNS\n"
		      "    protocol: HTTP\n",
		      "5: rule 3: name: given twice\n"
		      "8: rule 3: match: \"protocol\" given twice (use all: "
		      "[...] to combine two)\n");
	expect_errors("e-enabled.yaml",
		      RULE(4)
		      "  enabled: maybe\n"
		      "  match: {protocol: DNS}\n",
		      "5: rule 4: enabled: expected true or false\n");
	expect_errors("e-name.yaml",
		      "- id: 5\n"
		      "  name: \"two\\nlines\"\n"
		      "  category: \"\"\n"
		      "  severity: low\n"
		      "  match: {protocol: DNS}\n",
		      "2: rule 5: name: control character in text\n"
		      "3: rule 5: category: expected a non-empty string\n");
}

static void
test_error_yaml(void **state)
{
	(void)state;
	/* An unquoted "!= 200" is a YAML tag on 200, which would mean the
	 * opposite: refused. KEY is the path of the offending value, as
	 * rules/README.md section 7 says of every rule problem. */
	expect_errors("e-tag.yaml",
		      RULE(1)
		      "  match:\n"
		      "    protocol: HTTP\n"
		      "    http.status: != 200\n",
		      "7: rule 1: match.http.status: unexpected YAML tag "
		      "\"!=\": quote values that start with ! (write \"!= "
		      "200\")\n");
	/* "bytes: >= 10MiB" unquoted is a YAML syntax error. */
	expect_errors("e-syntax.yaml",
		      RULE(2)
		      "  match:\n"
		      "    protocol: HTTP\n"
		      "    bytes: >= 10MiB\n",
		      "7: YAML: did not find expected comment or line break "
		      "while scanning a block scalar\n");
	expect_errors("e-syntax2.yaml",
		      RULE(3)
		      "  match: {protocol: HTTP\n"
		      RULE(4)
		      "  match: {}\n",
		      "6: YAML: did not find expected ',' or '}' while parsing "
		      "a flow mapping\n");
}

static void
test_error_stateful_and_on(void **state)
{
	(void)state;
	expect_errors("e-thr.yaml",
		      RULE(1)
		      "  match: {protocol: SSH}\n"
		      "  threshold: {seconds: 60}\n",
		      "6: rule 1: threshold: threshold needs count and "
		      "seconds\n");
	expect_errors("e-thr2.yaml",
		      RULE(2)
		      "  match: {protocol: SSH}\n"
		      "  threshold: {count: 1, seconds: 367d, track: by_rule, "
		      "of: dst_ip}\n",
		      "6: rule 2: threshold.count: expected a whole number "
		      "from 2 to 4294967295\n"
		      "6: rule 2: threshold.seconds: expected a duration from "
		      "1 second to 366 days (60, 90s, 5m, 1h, 1d)\n"
		      "6: rule 2: threshold.track: expected by_src, by_dst, "
		      "by_pair\n"
		      "6: rule 2: threshold.of: unknown key in threshold\n");
	expect_errors("e-distinct.yaml",
		      RULE(3)
		      "  match: {transport: tcp}\n"
		      "  distinct: {of: dst_port, count: 4097, seconds: 60}\n",
		      "6: rule 3: distinct.count: at most 4096\n");
	expect_errors("e-distinct2.yaml",
		      RULE(4)
		      "  match: {transport: tcp}\n"
		      "  distinct: {of: src_port, count: 10, seconds: 1m}\n"
		      "  threshold: {count: 10, seconds: 1m}\n",
		      "6: rule 4: distinct.of: expected dst_port or dst_ip\n"
		      "1: rule 4: distinct: a rule has threshold or distinct, "
		      "not both\n");
	expect_errors("e-suppress.yaml",
		      RULE(5)
		      "  match: {transport: tcp}\n"
		      "  suppress: {count: 2, track: by_rule}\n",
		      "6: rule 5: suppress.count: unknown key in suppress\n"
		      "6: rule 5: suppress: suppress needs seconds\n");
	expect_errors("e-on.yaml",
		      RULE(6)
		      "  on: always\n"
		      "  match: {protocol: DNS}\n",
		      "5: rule 6: on: expected classified or flow_end\n");
	/* 4096 distinct values is the most, and allowed. */
	vg_detect_free(load_ok("ok-distinct.yaml",
			       RULE(7)
			       "  match: {transport: tcp}\n"
			       "  distinct: {count: 4096, seconds: 1d}\n"));
}

static void
test_error_structure(void **state)
{
	(void)state;
	expect_errors(
	    "e-empty-match.yaml",
	    RULE(1)
	    "  match: {}\n"
	    RULE(2)
	    "  match:\n"
	    "    any: []\n"
	    RULE(3)
	    "  match: [protocol, DNS]\n",
	    "5: rule 1: match: empty condition\n"
	    "11: rule 2: match.any: expected a non-empty list of conditions\n"
	    "16: rule 3: match: expected a mapping of conditions (key: value)\n");
	expect_errors("e-not-rule.yaml", "- just a string\n- id: 1\n",
		      "1: a rule is a mapping (id: ..., ...)\n"
		      "2: rule 1: name: missing\n"
		      "2: rule 1: category: missing\n"
		      "2: rule 1: severity: missing\n"
		      "2: rule 1: match: missing\n");
	expect_errors("e-geo-shape.yaml",
		      RULE(3)
		      "  match:\n"
		      "    dst_ip: {cidr: 10.0.0.0/8}\n",
		      "6: rule 3: match.dst_ip: expected a CIDR, a list of "
		      "CIDRs or {list: NAME}\n");
}

/* Conditions nest up to 32 levels (rules/README.md 4.1). */
static void
test_error_depth(void **state)
{
	char text[2048], *p;
	unsigned levels, i;
	struct vg_detect *d;

	(void)state;
	for (levels = 32; levels <= 33; levels++) {
		p = text + sprintf(text, "%s  match: ", RULE(1));
		for (i = 0; i < levels; i++)
			p += sprintf(p, "{not: ");
		p += sprintf(p, "{protocol: HTTP}");
		for (i = 0; i < levels; i++)
			*p++ = '}';
		strcpy(p, "\n");
		if (levels == 32) {
			d = load_ok("depth32.yaml", text);
			vg_detect_free(d);
		} else {
			char want[512];

			p = want + sprintf(want, "5: rule 1: match");
			for (i = 0; i < levels; i++)
				p += sprintf(p, ".not");
			strcpy(p, ": conditions nest deeper than 32\n");
			expect_errors("depth33.yaml", text, want);
		}
	}
}

/* Lists named with the wrong type, or of file hashes, are errors. */
static void
test_error_list_types(void **state)
{
	struct vg_config cfg;

	(void)state;
	cfg_new(&cfg);
	cfg_ioc(&cfg, "bad-dom", "domain", "lt-dom.txt", "evil.example\n");
	cfg_ioc(&cfg, "hashes", "sha256", "lt-sha.txt",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
	assert_null(load_expect(
	    &cfg, "e-list-type.yaml",
	    RULE(1)
	    "  match:\n"
	    "    dst_ip: {list: bad-dom}\n"
	    RULE(2)
	    "  match:\n"
	    "    in_list: [bad-dom, hashes]\n"
	    RULE(3)
	    "  match:\n"
	    "    tls.ja3: {list: bad-dom}\n",
	    VG_EINVAL,
	    "6: rule 1: match.dst_ip: list \"bad-dom\" holds domain entries, "
	    "not ip\n"
	    "12: rule 2: match.in_list[1]: list \"hashes\" holds file hashes: "
	    "it applies to file rules, not network rules\n"
	    "18: rule 3: match.tls.ja3.list: list \"bad-dom\" holds domain "
	    "entries, not ja3\n"));
	vg_config_fini(&cfg);
}

/* Several mistakes in one file are all reported, and one bad rule keeps
 * every rule out: the load fails with VG_EINVAL and *out NULL. */
static void
test_error_all_reported(void **state)
{
	(void)state;
	expect_errors("e-many.yaml",
		      RULE(1)
		      "  match: {protocol: HTTP}\n" /* fine */
		      RULE(2)
		      "  match: {protocol: HTTPP}\n"
		      RULE(3)
		      "  match: {dst_port: 99999}\n"
		      RULE(4)
		      "  matc: {}\n",
		      "10: rule 2: match.protocol: unknown nDPI protocol "
		      "\"HTTPP\" (did you mean \"HTTP\"?)\n"
		      "15: rule 3: match.dst_port: not a port or port range: "
		      "\"99999\" (write 22 or 6000-6063)\n"
		      "20: rule 4: matc: unknown key (did you mean "
		      "\"match\"?)\n"
		      "16: rule 4: match: missing\n");
}

/* A missing rule path. */
static void
test_error_missing_path(void **state)
{
	struct vg_config cfg;
	struct load r;
	char *path = tmp_path("no-such-rules"), *expected = NULL;

	(void)state;
	cfg_new(&cfg);
	cfg_rules(&cfg, path);
	r = detect_load(&cfg);
	assert_int_equal(r.err, VG_EINVAL);
	assert_true(asprintf(&expected,
			     "%s:0: detection.rules: No such file or "
			     "directory\n",
			     path) > 0);
	assert_text(r.msgs, expected);
	free(expected);
	free(r.msgs);
	free(path);
	vg_config_fini(&cfg);
}

/* ------------------------------------------------------------------ */
/* 2. Warnings                                                          */

static void
test_warn_missing_list(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 40000, "192.0.2.1", 80);

	(void)state;
	d = load_expect(
	    NULL, "w-list.yaml",
	    RULE(1)
	    "  match:\n"
	    "    in_list: [nosuch]\n"
	    RULE(2)
	    "  match:\n"
	    "    dst_ip: {list: nosuch}\n"
	    RULE(3)
	    "  match:\n"
	    "    protocol: HTTP\n",
	    VG_OK,
	    "6: rule 1: match.in_list[0]: warning: IoC list \"nosuch\" is not "
	    "configured (detection.ioc): rule disabled\n"
	    "12: rule 2: match.dst_ip: warning: IoC list \"nosuch\" is not "
	    "configured (detection.ioc): rule disabled\n");
	assert_non_null(d);
	assert_int_equal(vg_detect_rule_count(d), 3);
	assert_int_equal(vg_detect_rules_enabled(d), 1);
	assert_false(vg_detect_rule(d, 0)->enabled);
	assert_false(vg_detect_rule(d, 1)->enabled);
	assert_true(vg_detect_rule(d, 2)->enabled);
	assert_null(vg_detect_rule(d, 3));
	assert_int_equal(vg_detect_list_count(d), 0);
	fi.master_id = proto_id("HTTP");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "3");
	vg_detect_free(d);
}

static void
test_warn_no_geoip(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 40000, "203.0.113.5", 443);

	(void)state;
	d = load_expect(
	    NULL, "w-geo.yaml",
	    RULE(1)
	    "  match:\n"
	    "    dst_country: {not_in: [VN]}\n"
	    RULE(2)
	    "  match:\n"
	    "    not: {src_asn: 64500}\n",
	    VG_OK,
	    "6: rule 1: match.dst_country: warning: no GeoIP database "
	    "configured (geoip.country_db): this condition never matches\n"
	    "12: rule 2: match.not.src_asn: warning: no GeoIP database "
	    "configured (geoip.asn_db): this condition never matches\n");
	assert_non_null(d);
	assert_int_equal(vg_detect_rules_enabled(d), 2);
	assert_true(vg_detect_rule(d, 0)->enabled);
	/* Never matches; so "not" of it always does. */
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	vg_detect_free(d);
}

/* on: classified with counters: allowed, with a warning. */
static void
test_warn_on_classified(void **state)
{
	struct vg_detect *d;

	(void)state;
	d = load_expect(
	    NULL, "w-on.yaml",
	    RULE(1)
	    "  on: classified\n"
	    "  match: {bytes: \">= 1\"}\n", VG_OK,
	    "5: rule 1: on: warning: byte, packet or duration conditions see "
	    "only the packets before classification; flow_end sees the whole "
	    "flow\n");
	assert_non_null(d);
	assert_int_equal(vg_detect_rule(d, 0)->on, CLASSIFIED);
	vg_detect_free(d);
}

/* ------------------------------------------------------------------ */
/* 3. Files and folders                                                 */

static void
test_folder(void **state)
{
	struct vg_config cfg;
	struct load r;
	char *dir = tmp_path("folder"), *p;
	unsigned i;

	(void)state;
	make_dir("folder");
	make_dir("folder/sub");
	free(write_file("folder/b.yaml",
			RULE(2)
			"  match: {protocol: DNS}\n"));
	free(write_file("folder/a.yml",
			RULE(1)
			"  match: {protocol: DNS}\n"));
	free(write_file("folder/c.yaml",
			RULE(3)
			"  match: {protocol: DNS}\n"
			"---\n"
			RULE(4)
			"  match: {protocol: DNS}\n"));
	free(write_file("folder/d-empty.yaml", ""));
	free(write_file("folder/e-comments.yml", "# nothing yet\n\n"));
	/* Not read: another suffix, a dotfile, a sub-folder. */
	free(write_file("folder/notes.txt", "not yaml at all: [\n"));
	free(write_file("folder/.hidden.yaml",
			RULE(9)
			"  match: {x: 1}\n"));
	free(write_file("folder/f.yaml.bak", "[\n"));
	free(write_file("folder/sub/g.yaml",
			RULE(9)
			"  match: {x: 1}\n"));

	cfg_new(&cfg);
	cfg_rules(&cfg, dir);
	r = detect_load(&cfg);
	if (r.err != VG_OK)
		fail_msg("%s", r.msgs);
	assert_int_equal(r.len, 0);
	assert_int_equal(vg_detect_rule_count(r.d), 4);
	/* Name order: a.yml, b.yaml, c.yaml (two documents). */
	for (i = 0; i < 4; i++)
		assert_int_equal(vg_detect_rule(r.d, i)->id, i + 1);
	assert_true(asprintf(&p, "%s/a.yml", dir) > 0);
	assert_string_equal(vg_detect_rule(r.d, 0)->file, p);
	free(p);
	assert_true(asprintf(&p, "%s/c.yaml", dir) > 0);
	assert_string_equal(vg_detect_rule(r.d, 3)->file, p);
	assert_int_equal(vg_detect_rule(r.d, 2)->line, 1);
	assert_int_equal(vg_detect_rule(r.d, 3)->line, 7);
	free(p);
	vg_detect_free(r.d);
	free(r.msgs);
	vg_config_fini(&cfg);
	free(dir);
}

/* rules/README.md: sub-folders of a rules folder are ignored, whatever
 * their name. */
static void
test_folder_subfolder_named_yaml(void **state)
{
	struct vg_config cfg;
	struct load r;
	char *dir = tmp_path("folder2");

	(void)state;
	make_dir("folder2");
	make_dir("folder2/more.yaml");
	free(
	    write_file("folder2/a.yaml",
		       RULE(1)
		       "  match: {protocol: DNS}\n"));
	free(write_file("folder2/more.yaml/b.yaml",
			RULE(2)
			"  match: {protocol: DNS}\n"));
	cfg_new(&cfg);
	cfg_rules(&cfg, dir);
	r = detect_load(&cfg);
	if (r.err != VG_OK)
		fail_msg("a sub-folder was read: %s", r.msgs);
	assert_int_equal(vg_detect_rule_count(r.d), 1);
	vg_detect_free(r.d);
	free(r.msgs);
	vg_config_fini(&cfg);
	free(dir);
}

static void
test_file_shapes(void **state)
{
	struct vg_detect *d;

	(void)state;
	d = load_ok("empty.yaml", "");
	assert_int_equal(vg_detect_rule_count(d), 0);
	assert_int_equal(vg_detect_rules_enabled(d), 0);
	assert_false(vg_detect_wants(d, CLASSIFIED));
	assert_false(vg_detect_wants(d, FLOW_END));
	vg_detect_free(d);

	expect_errors("mapping.yaml",
		      "id: 1\n"
		      "name: x\n"
		      "category: c\n"
		      "severity: low\n"
		      "match: {protocol: DNS}\n",
		      "1: a rule file is a list of rules (each starting with "
		      "\"- id: ...\")\n");
	expect_errors("scalar.yaml", "hello\n",
		      "1: a rule file is a list of rules (each starting with "
		      "\"- id: ...\")\n");
}

/* What a rule says about itself. */
static void
test_rule_meta(void **state)
{
	struct vg_detect *d;
	const struct vg_rule_meta *m;
	struct vg_flow_info fi =
	    flow("192.168.1.212", 50694, "90.130.70.73", 21);
	char *path = tmp_path("meta.yaml");

	(void)state;
	d = load_ok("meta.yaml",
		    "- id: 2000001\n"
		    "  rev: 3\n"
		    "  name: \"Clear-text FTP login\"\n"
		    "  category: credential-exposure\n"
		    "  severity: medium\n"
		    "  description: |\n"
		    "    Two\n"
		    "    lines.\n"
		    "  mitre: [T1552, T1110.001]\n"
		    "  tags: ftp\n"
		    "  references: "
		    "[\"https://attack.mitre.org/techniques/T1552/\"]\n"
		    "  match:\n"
		    "    protocol: FTP_CONTROL\n"
		    "    risk: clear_text_credentials\n"
		    "\n"
		    "- id: 4294967295\n"
		    "  name: disabled\n"
		    "  category: c\n"
		    "  severity: critical\n"
		    "  enabled: false\n"
		    "  match: {protocol: FTP_CONTROL}\n");
	assert_int_equal(vg_detect_rule_count(d), 2);
	assert_int_equal(vg_detect_rules_enabled(d), 1);
	m = vg_detect_rule(d, 0);
	assert_int_equal(m->id, 2000001);
	assert_int_equal(m->rev, 3);
	assert_string_equal(m->name, "Clear-text FTP login");
	assert_string_equal(m->category, "credential-exposure");
	assert_string_equal(m->description, "Two\nlines.\n");
	assert_int_equal(m->severity, 2);
	assert_string_equal(m->severity_name, "medium");
	assert_int_equal(m->n_mitre, 2);
	assert_string_equal(m->mitre[0], "T1552");
	assert_string_equal(m->mitre[1], "T1110.001");
	assert_int_equal(m->n_tags, 1);
	assert_string_equal(m->tags[0], "ftp");
	assert_int_equal(m->n_refs, 1);
	assert_string_equal(m->refs[0],
			    "https://attack.mitre.org/techniques/T1552/");
	assert_string_equal(m->file, path);
	assert_int_equal(m->line, 1);
	assert_true(m->enabled);
	assert_int_equal(m->on, CLASSIFIED);
	m = vg_detect_rule(d, 1);
	assert_int_equal(m->id, 4294967295u);
	assert_int_equal(m->rev, 1);
	assert_int_equal(m->severity, 1);
	assert_string_equal(m->severity_name, "critical");
	assert_null(m->description);
	assert_int_equal(m->n_mitre + m->n_tags + m->n_refs, 0);
	assert_int_equal(m->line, 16);
	assert_false(m->enabled);
	assert_true(vg_detect_wants(d, CLASSIFIED));
	assert_false(vg_detect_wants(d, FLOW_END));

	/* The disabled rule never fires; the other needs both conditions. */
	fi.master_id = proto_id("FTP_CONTROL");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	fi.risk_mask =
	    risk_bit("unsafe_protocol") | risk_bit("clear_text_credentials");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2000001");
	assert_string_equal(fired(d, FLOW_END, &fi), "");
	assert_int_equal(vg_detect_rule_alerts(d, 0), 1);
	assert_int_equal(vg_detect_rule_alerts(d, 1), 0);
	vg_detect_free(d);
	free(path);
}

/* ------------------------------------------------------------------ */
/* 4. Evaluation of every condition kind                                */

static void
test_eval_protocol(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 40000, "192.0.2.1", 443);

	(void)state;
	d = load_ok("c-proto.yaml",
		    RULE(1)
		    "  match: {protocol: TLS}\n"
		    RULE(2)
		    "  match: {protocol: [Google, DNS]}\n"
		    RULE(3)
		    "  match: {protocol: tls}\n");
	/* TLS.Google: master TLS, application Google. */
	fi.master_id = proto_id("TLS");
	fi.app_id = proto_id("Google");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 2 3");
	/* The application alone. */
	fi.master_id = 0;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	fi.master_id = proto_id("DNS");
	fi.app_id = 0;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	fi.master_id = proto_id("HTTP");
	fi.app_id = proto_id("TLS");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 3");
	fi.app_id = proto_id("QUIC");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

static void
test_eval_category_risk_confidence(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 40000, "192.0.2.1", 443);

	(void)state;
	d = load_ok(
	    "c-cat.yaml",
	    RULE(1)
	    "  match: {category: [Web, Malware]}\n"
	    RULE(2)
	    "  match: {risk: [tls_selfsigned_certificate, \"TLS Expired "
	    "Certificate\"]}\n"
	    RULE(3)
	    "  match: {confidence: [dpi, \"DPI (cache)\"]}\n"
	    RULE(4)
	    "  match: {confidence: match_by_port}\n");
	fi.category_id = category_id("Web");
	fi.confidence_id = confidence_id("dpi");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 3");
	fi.category_id = category_id("Malware");
	fi.risk_mask = risk_bit("tls_selfsigned_certificate");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 2 3");
	fi.category_id = category_id("Chat");
	fi.risk_mask =
	    risk_bit("tls_certificate_expired") | risk_bit("unsafe_protocol");
	fi.confidence_id = confidence_id("dpi_cache");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3");
	fi.risk_mask = risk_bit("clear_text_credentials");
	fi.confidence_id = confidence_id("Match by port");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4");
	fi.risk_mask = 0;
	fi.confidence_id = confidence_id("unknown");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

static void
test_eval_transport_ports(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi;

	(void)state;
	d = load_ok(
	    "c-ports.yaml",
	    RULE(1)
	    "  match: {transport: [udp, 47]}\n"
	    RULE(2)
	    "  match: {transport: TCP}\n"
	    RULE(3)
	    "  match: {port: [22, 3389]}\n"
	    RULE(4)
	    "  match: {src_port: \"0-1023\"}\n"
	    RULE(5)
	    "  match: {dst_port: [80, 443, \"6000-6063\"]}\n");
	fi = flow("10.0.0.1", 40000, "10.0.0.2", 22);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3");
	fi = flow("10.0.0.1", 22, "10.0.0.2", 5000);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3 4");
	fi = flow("10.0.0.1", 1023, "10.0.0.2", 6063);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 4 5");
	fi = flow("10.0.0.1", 1024, "10.0.0.2", 6064);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	fi = flow("10.0.0.1", 0, "10.0.0.2", 5999);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 4");
	fi = flow("10.0.0.1", 5353, "10.0.0.2", 443);
	fi.proto = 17;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 5");
	fi.proto = 132; /* SCTP has ports too */
	assert_string_equal(fired(d, CLASSIFIED, &fi), "5");
	/* No ports for anything but TCP, UDP and SCTP, whatever is set. */
	fi = flow("10.0.0.1", 22, "10.0.0.2", 443);
	fi.proto = 47;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	fi.proto = 1;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

#define DIRECTION_RULES                                                        \
	RULE(1)                                                                \
	"  match: {direction: inbound}\n"                                      \
	RULE(2)                                                                \
	"  match: {direction: outbound}\n"                                     \
	RULE(3)                                                                \
	"  match: {direction: internal}\n"                                     \
	RULE(4)                                                                \
	"  match: {direction: external}\n"                                     \
	RULE(5)                                                                \
	"  match: {direction: [inbound, external]}\n"

static void
test_eval_direction(void **state)
{
	static const struct {
		const char *src, *dst, *want;
	} cases[] = {
	    {"203.0.113.5", "10.0.0.1", "1 5"},
	    {"10.0.0.1", "8.8.8.8", "2"},
	    {"192.168.1.1", "172.16.0.1", "3"},
	    {"127.0.0.1", "10.255.255.255", "3"},
	    {"1.1.1.1", "8.8.8.8", "4 5"},
	    {"172.32.0.1", "172.31.255.255", "1 5"}, /* edge of /12 */
	    {"2001:db8::1", "fd00::1", "1 5"},
	    {"::1", "fc00::5", "3"},
	    {"fd12::1", "2001:db8::2", "2"},
	    {"2001:db8::1", "2001:db8::2", "4 5"},
	    {"::ffff:10.0.0.1", "::ffff:10.0.0.2", "4 5"}, /* IPv6 */
	};
	static const char *const home[] = {"192.0.2.0/24", "2001:db8::/32"};
	struct vg_detect *d;
	struct vg_config cfg;
	struct vg_flow_info fi;
	size_t i;

	(void)state;
	/* The default home_net. */
	d = load_ok("c-dir.yaml", DIRECTION_RULES);
	for (i = 0; i < VG_ARRAY_LEN(cases); i++) {
		fi = flow(cases[i].src, 1, cases[i].dst, 2);
		if (strcmp(fired(d, CLASSIFIED, &fi), cases[i].want) != 0)
			fail_msg("%s -> %s: expected \"%s\", got \"%s\"",
				 cases[i].src, cases[i].dst, cases[i].want,
				 fired(d, CLASSIFIED, &fi));
	}
	vg_detect_free(d);

	/* A home_net of our own. */
	cfg_new(&cfg);
	cfg_home_net(&cfg, home, 2);
	d = load_expect(&cfg, "c-dir2.yaml", DIRECTION_RULES, VG_OK, "");
	vg_config_fini(&cfg);
	fi = flow("10.0.0.1", 1, "192.0.2.1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 5");
	fi = flow("2001:db8:1::1", 1, "2606:4700::1111", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	fi = flow("2001:db8:1::1", 1, "2001:db8:ffff::1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "3");
	fi = flow("10.0.0.1", 1, "192.168.0.1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4 5");
	vg_detect_free(d);
}

static void
test_eval_addresses(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi;

	(void)state;
	d = load_ok(
	    "c-ip.yaml",
	    RULE(1)
	    "  match: {ip: 192.0.2.10}\n"
	    RULE(2)
	    "  match: {src_ip: [10.1.0.0/16, \"2001:db8::/32\"]}\n"
	    RULE(3)
	    "  match: {dst_ip: 198.51.100.0/24}\n"
	    RULE(4)
	    "  match: {ip: \"::/0\"}\n");
	fi = flow("10.1.2.3", 1, "198.51.100.7", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3");
	fi = flow("198.51.100.7", 1, "192.0.2.10", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	fi = flow("192.0.2.10", 1, "192.0.2.11", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	fi = flow("192.0.2.11", 1, "198.51.101.1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	fi = flow("2001:db8::5", 1, "2001:db9::6", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 4");
	fi = flow("2001:db9::5", 1, "2001:db8::6", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4");
	/* IPv4 and IPv6 never match each other. */
	fi = flow("::ffff:10.1.2.3", 1, "::ffff:198.51.100.7", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4");
	vg_detect_free(d);
}

/* IoC lists: {list: NAME} on addresses and text fields, in_list. */
static void
test_eval_lists(void **state)
{
	struct vg_config cfg;
	struct vg_detect *d;
	struct vg_flow_info fi;
	const char *ja3 = "e7d705a3286e19ea42f587b344ee6865";

	(void)state;
	cfg_new(&cfg);
	cfg_ioc(&cfg, "bad-ip", "ip", "l-ip.csv",
		"ip,first_seen\n"
		"198.51.100.7,2024-01-01\n"
		"10.9.0.0/16\n"
		"\"2001:db8:bad::/48\"\n");
	cfg_ioc(&cfg, "bad-dom", "domain", "l-dom.txt",
		"# domains\nevil.example\n*.worse.example\n");
	cfg_ioc(&cfg, "bad-ja3", "ja3", "l-ja3.txt",
		"E7D705A3286E19EA42F587B344EE6865\n");
	d = load_expect(
	    &cfg, "c-lists.yaml",
	    RULE(1)
	    "  match: {ip: {list: bad-ip}}\n"
	    RULE(2)
	    "  match: {src_ip: {list: bad-ip}}\n"
	    RULE(3)
	    "  match: {dst_ip: {list: [bad-ip]}}\n"
	    RULE(4)
	    "  match: {in_list: bad-dom}\n"
	    RULE(5)
	    "  match: {in_list: bad-ja3}\n"
	    RULE(6)
	    "  match: {in_list: [bad-ip, bad-dom, bad-ja3]}\n"
	    RULE(7)
	    "  match: {tls.sni: {list: bad-dom}}\n"
	    RULE(8)
	    "  match: {dns.query: {list: bad-dom}}\n"
	    RULE(9)
	    "  match: {tls.ja3s: {list: bad-ja3}}\n"
	    RULE(10)
	    "  match: {domain: {list: bad-dom}}\n"
	    RULE(11)
	    "  match: {http.host: {list: bad-dom, suffix: .other.test}}\n",
	    VG_OK, "");
	vg_config_fini(&cfg);
	assert_int_equal(vg_detect_list_count(d), 3);
	assert_int_equal(vg_detect_list_entries(d), 6);

	fi = flow("10.9.1.1", 1, "1.1.1.1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 2 6");
	fi = flow("1.1.1.1", 1, "198.51.100.7", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 3 6");
	fi = flow("1.1.1.1", 1, "198.51.100.8", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	fi = flow("2001:db8::1", 1, "2001:db8:bad::1", 2);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 3 6");

	/* Domains: the name and what lies below it, any case. */
	fi = flow("10.0.0.1", 1, "192.0.2.1", 443);
	fi.tls_sni = "cdn.Evil.Example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4 6 7 10");
	fi.tls_sni = "badevil.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	fi.tls_sni = "a.b.worse.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4 6 7 10");
	fi = flow("10.0.0.1", 1, "192.0.2.1", 53);
	fi.dns_query = "evil.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4 6 8 10");
	fi = flow("10.0.0.1", 1, "192.0.2.1", 80);
	fi.http_host = "www.evil.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "4 6 10 11");
	fi.http_host = "a.other.test";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "11");
	/* A domain field that is not SNI, host or query: not looked up. */
	fi.http_host = NULL;
	fi.tls_subject = "evil.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");

	/* JA3: in_list looks at the client's; {list:} at its own field. */
	fi = flow("10.0.0.1", 1, "192.0.2.1", 443);
	fi.tls_ja3 = ja3;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "5 6");
	fi.tls_ja3 = NULL;
	fi.tls_ja3s = "E7D705A3286E19EA42F587B344EE6865";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "9");
	fi.tls_ja3s = "e7d705a3286e19ea42f587b344ee6866";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

/* Every text field, by exact match, reads its own field. */
static void
test_eval_string_fields(void **state)
{
	static const struct {
		const char *key;
		size_t off;
		const char *rule; /* value in the rule */
		const char *seen; /* value in the flow: another case */
	} fields[] = {
#define F(key, field, rule, seen)                                              \
	{key, offsetof(struct vg_flow_info, field), rule, seen}
	    F("tls.sni", tls_sni, "www.example.org", "WWW.Example.ORG"),
	    F("tls.version", tls_version, "TLSv1.2", "tlsv1.2"),
	    F("tls.ja3", tls_ja3, "2a26b1a62e40d25d4de3babc9d532f30",
	      "2A26B1A62E40D25D4DE3BABC9D532F30"),
	    F("tls.ja3s", tls_ja3s, "15af977ce25de452b96affa2addb1036",
	      "15af977ce25de452b96affa2addb1036"),
	    F("tls.subject", tls_subject, "C=IT, ST=Some-State, O=ntop.org",
	      "c=it, st=some-state, o=NTOP.org"),
	    F("tls.issuer", tls_issuer, "CN=Example CA", "cn=example ca"),
	    F("tls.alpn", tls_alpn, "h2,http/1.1", "H2,HTTP/1.1"),
	    F("http.host", http_host, "browserspy.dk", "BrowserSpy.dk"),
	    F("http.url", http_url, "browserspy.dk/password-ok.php",
	      "BROWSERSPY.DK/PASSWORD-OK.PHP"),
	    F("http.user_agent", http_user_agent, "Mozilla/5.0 (X11)",
	      "mozilla/5.0 (x11)"),
	    F("http.method", http_method, "PUT", "put"),
	    F("http.content_type", http_content_type,
	      "application/octet-stream", "Application/Octet-Stream"),
	    F("dns.query", dns_query, "e7.whatsapp.net", "E7.WhatsApp.NET"),
	    F("ssh.client", ssh_client, "SSH-2.0-OpenSSH_5.3",
	      "ssh-2.0-openssh_5.3"),
	    F("ssh.server", ssh_server, "SSH-2.0-dropbear_2019.78",
	      "SSH-2.0-DROPBEAR_2019.78"),
#undef F
	};
	char *text = NULL, other[128];
	size_t len = 0, i, j;
	FILE *f = open_memstream(&text, &len);
	struct vg_detect *d;
	struct vg_flow_info fi;
	char want[16];

	(void)state;
	assert_non_null(f);
	for (i = 0; i < VG_ARRAY_LEN(fields); i++)
		fprintf(f,
			"- id: %zu\n"
			"  name: n\n"
			"  category: c\n"
			"  severity: info\n"
			"  match: {%s: \"%s\"}\n",
			i + 1, fields[i].key, fields[i].rule);
	assert_int_equal(fclose(f), 0);
	d = load_ok("c-fields.yaml", text);
	free(text);
	assert_int_equal(vg_detect_rule_count(d), VG_ARRAY_LEN(fields));

	for (i = 0; i < VG_ARRAY_LEN(fields); i++) {
		const char **slot;

		fi = flow("10.0.0.1", 1, "192.0.2.1", 2);
		slot = (const char **)(void *)((char *)&fi + fields[i].off);
		*slot = fields[i].seen;
		snprintf(want, sizeof(want), "%zu", i + 1);
		if (strcmp(fired(d, CLASSIFIED, &fi), want) != 0)
			fail_msg("%s = \"%s\": expected rule %s, got \"%s\"",
				 fields[i].key, fields[i].seen, want,
				 fired(d, CLASSIFIED, &fi));
		/* Exact: one character more or less is no match. */
		snprintf(other, sizeof(other), "%sx", fields[i].seen);
		*slot = other;
		assert_string_equal(fired(d, CLASSIFIED, &fi), "");
		snprintf(other, sizeof(other), "%.*s",
			 (int)strlen(fields[i].seen) - 1, fields[i].seen);
		assert_string_equal(fired(d, CLASSIFIED, &fi), "");
		*slot = "";
		assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	}
	/* Every field at once: every rule. */
	fi = flow("10.0.0.1", 1, "192.0.2.1", 2);
	for (i = 0; i < VG_ARRAY_LEN(fields); i++)
		*(const char **)(void *)((char *)&fi + fields[i].off) =
		    fields[i].rule;
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	for (j = 0; j < VG_ARRAY_LEN(fields); j++)
		fprintf(f, "%s%zu", j ? " " : "", j + 1);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(fired(d, CLASSIFIED, &fi), text);
	free(text);
	vg_detect_free(d);
}

static void
test_eval_match_kinds(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 1, "192.0.2.1", 80);

	(void)state;
	d = load_ok("c-kinds.yaml",
		    RULE(1)
		    "  match: {http.url: {suffix: .PHP}}\n"
		    RULE(2)
		    "  match: {http.url: {prefix: BrowserSpy.dk/}}\n"
		    RULE(3)
		    "  match: {http.url: {contains: PASSWORD}}\n"
		    RULE(4)
		    "  match: {http.url: {glob: "
		    "\"*/pass*-o?.[pq]hp\"}}\n"
		    RULE(5)
		    "  match: {http.url: {regex: "
		    "\"password-ok\\\\.php$\"}}\n"
		    RULE(6)
		    "  match: {http.url: {regex: "
		    "\"(?i)^BROWSERSPY\\\\.DK/PASS\"}}\n"
		    RULE(7)
		    "  match: {http.url: {regex: PASSWORD}}\n"
		    RULE(8)
		    "  match: {http.url: {exact: "
		    "browserspy.dk/password-ok.php}}\n"
		    RULE(9)
		    "  match: {http.url: {suffix: [.asp, .jsp], exact: "
		    "none, contains: \"-ok.\"}}\n"
		    RULE(10)
		    "  match: {http.url: {glob: \"password*\"}}\n");
	fi.http_url = "browserspy.dk/password-ok.php";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 2 3 4 5 6 8 9");
	/* Case: ignored but by regex, unless (?i). */
	fi.http_url = "BROWSERSPY.DK/PASSWORD-OK.PHP";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 2 3 4 6 7 8 9");
	/* Suffix only, and a glob must match the whole text. */
	fi.http_url = "example.com/x.jsp";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "9");
	fi.http_url = "password.example/";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "3 10");
	fi.http_url = "x.dk/index.html";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	fi.http_url = NULL;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

/* domain: any of SNI, HTTP host and DNS query. */
static void
test_eval_domain(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 1, "192.0.2.1", 443);

	(void)state;
	d = load_ok(
	    "c-domain.yaml",
	    RULE(1)
	    "  match: {domain: [update.example.com, cdn.example.com]}\n"
	    RULE(2)
	    "  match: {domain: {suffix: .example.net}}\n");
	fi.tls_sni = "cdn.example.com";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	fi.tls_sni = "x.example.org";
	fi.http_host = "Update.Example.COM";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	fi.http_host = NULL;
	fi.dns_query = "a.example.net";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2");
	fi.dns_query = NULL;
	fi.tls_sni = NULL;
	fi.tls_subject = "cdn.example.com";
	fi.http_url = "cdn.example.com";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_free(d);
}

/* A regular expression past its matching budget is no match, counted. */
static void
test_eval_regex_budget(void **state)
{
	struct vg_detect *d;
	struct vg_detect_worker_stats before, after;
	struct vg_flow_info fi = flow("10.0.0.1", 1, "192.0.2.1", 80);

	(void)state;
	d = load_ok("c-budget.yaml",
		    RULE(1)
		    "  match: {http.user_agent: {regex: \"^(a+)+$\"}}\n");
	fi.http_user_agent = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
	vg_detect_worker_stats(worker, &before);
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");
	vg_detect_worker_stats(worker, &after);
	assert_int_equal(after.regex_errors, before.regex_errors + 1);
	fi.http_user_agent = "aaaa";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	vg_detect_free(d);
}

static void
test_eval_numbers(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 1, "192.0.2.1", 80);
	unsigned i;

	(void)state;
	d = load_ok("c-num.yaml",
		    RULE(1)
		    "  match: {bytes_toserver: \">= 1MiB\"}\n"
		    RULE(2)
		    "  match: {bytes_toclient: \"< 1kb\"}\n"
		    RULE(3)
		    "  match: {bytes: \">2 k\"}\n"
		    RULE(4)
		    "  match: {pkts_toserver: 10}\n"
		    RULE(5)
		    "  match: {pkts_toclient: \"!= 0\"}\n"
		    RULE(6)
		    "  match: {pkts: \"<= 3\"}\n"
		    RULE(7)
		    "  match: {duration: \"< 30s\"}\n"
		    RULE(8)
		    "  match: {duration: \">= 2m\"}\n"
		    RULE(9)
		    "  match: {risk_score: \"> 100\"}\n"
		    RULE(10)
		    "  match: {http.status: \"!= 200\"}\n"
		    RULE(11)
		    "  match: {http.status: \"== 404\"}\n"
		    RULE(12)
		    "  match: {http.status: \"=500\"}\n"
		    RULE(13)
		    "  match: {bytes: \">= 1 GiB\"}\n");
	/* Counters make a rule run at flow_end; risk_score and
	 * http.status do not. */
	for (i = 0; i < 13; i++)
		assert_int_equal(vg_detect_rule(d, i)->on,
				 i < 8 || i == 12 ? FLOW_END : CLASSIFIED);
	assert_true(vg_detect_wants(d, CLASSIFIED));
	assert_true(vg_detect_wants(d, FLOW_END));

	fi.bytes_toserver = 1048576;
	fi.bytes_toclient = 999;
	fi.pkts_toserver = 10;
	fi.pkts_toclient = 0;
	fi.end_us = fi.start_us + 29999999; /* 29.999999 s: 29 whole */
	fi.risk_score = 101;
	fi.http_status = 404;
	assert_string_equal(fired(d, FLOW_END, &fi), "1 2 3 4 7");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "9 10 11");

	fi.bytes_toserver = 1048575;
	fi.bytes_toclient = 1000;
	fi.pkts_toserver = 1;
	fi.pkts_toclient = 2;
	fi.end_us = fi.start_us + 120 * SEC;
	fi.risk_score = 100;
	fi.http_status = 200;
	assert_string_equal(fired(d, FLOW_END, &fi), "3 5 6 8");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "");

	/* 2000 bytes in all is not more than 2 k; 1 GiB is 2^30. */
	fi.bytes_toserver = 1000;
	fi.bytes_toclient = 1000;
	fi.end_us = fi.start_us + 30 * SEC;
	assert_string_equal(fired(d, FLOW_END, &fi), "5 6");
	fi.bytes_toserver = (1ULL << 30) - 1000;
	assert_string_equal(fired(d, FLOW_END, &fi), "1 3 5 6 13");

	/* A missing status counts as 0. */
	fi.http_status = 0;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "10");
	fi.http_status = 500;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "10 12");
	vg_detect_free(d);
}

static void
test_eval_groups(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi;

	(void)state;
	d = load_ok(
		"c-groups.yaml",
		RULE(1)
		"  match: {protocol: HTTP, dst_port: 80}\n"
		RULE(2)
		"  match: {any: [{protocol: DNS}, {dst_port: 8080}]}\n"
		RULE(3)
		"  match: {not: {protocol: HTTP}}\n"
		RULE(4)
		"  match: {not: [{protocol: HTTP}, {protocol: DNS}]}\n"
		RULE(5)
		"  match: {all: [{risk_score: \">= 10\"}, {risk_score: \"< "
		"20\"}]}\n"
		RULE(6)
		"  match:\n"
		"    protocol: HTTP\n"
		"    any:\n"
		"      - http.user_agent: {contains: [curl, wget, "
		"python-requests]}\n"
		"      - http.method: [PUT, DELETE]\n"
		"    not: {ip: 192.0.2.10}\n"
		RULE(7)
		"  match: {not: {tls.sni: x.example}}\n"
		RULE(8)
		"  match: {all: [{any: [{not: {dst_port: 1}}]}], dst_port: 2}\n");
	fi = flow("10.0.0.1", 1, "192.0.2.1", 80);
	fi.master_id = proto_id("HTTP");
	fi.http_user_agent = "Wget/1.21";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 6 7");
	fi.http_user_agent = "Mozilla/5.0";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 7");
	fi.http_method = "delete";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 6 7");
	fi = flow("10.0.0.1", 1, "192.0.2.10", 80);
	fi.master_id = proto_id("HTTP");
	fi.http_method = "PUT";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1 7");
	fi.dst_port = 8080;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 7");
	fi = flow("10.0.0.1", 1, "192.0.2.1", 53);
	fi.master_id = proto_id("DNS");
	fi.risk_score = 10;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3 5 7");
	fi.risk_score = 20;
	fi.tls_sni = "X.example";
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 3");
	fi = flow("10.0.0.1", 1, "192.0.2.1", 2);
	fi.risk_score = 19;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "3 4 5 7 8");
	vg_detect_free(d);
}

/* When rules run: flow_end when counters are used anywhere, else
 * classified; on: overrides. */
static void
test_eval_on(void **state)
{
	struct vg_detect *d;
	struct vg_flow_info fi = flow("10.0.0.1", 1, "192.0.2.1", 80);

	(void)state;
	d = load_expect(NULL, "c-on.yaml",
			RULE(1)
			"  match: {not: {any: [{bytes: \"> 0\"}]}}\n"
			RULE(2)
			"  match: {risk_score: \">= 0\"}\n"
			RULE(3)
			"  on: flow_end\n"
			"  match: {protocol: HTTP}\n"
			RULE(4)
			"  on: classified\n"
			"  match: {duration: \"< 1h\"}\n"
			RULE(5)
			"  match: {all: [{protocol: HTTP}, {pkts_toclient: \"> "
			"1\"}]}\n",
			VG_OK,
			"21: rule 4: on: warning: byte, packet or duration "
			"conditions see only the packets before "
			"classification; flow_end sees the whole flow\n");
	assert_int_equal(vg_detect_rule(d, 0)->on, FLOW_END);
	assert_int_equal(vg_detect_rule(d, 1)->on, CLASSIFIED);
	assert_int_equal(vg_detect_rule(d, 2)->on, FLOW_END);
	assert_int_equal(vg_detect_rule(d, 3)->on, CLASSIFIED);
	assert_int_equal(vg_detect_rule(d, 4)->on, FLOW_END);
	fi.master_id = proto_id("HTTP");
	fi.pkts_toclient = 2;
	assert_string_equal(fired(d, CLASSIFIED, &fi), "2 4");
	assert_string_equal(fired(d, FLOW_END, &fi), "1 3 5");
	fi.bytes_toserver = 1;
	assert_string_equal(fired(d, FLOW_END, &fi), "3 5");
	vg_detect_free(d);

	/* Only classified rules: nothing is evaluated at flow_end. */
	d = load_ok("c-on2.yaml",
		    RULE(1)
		    "  match: {protocol: HTTP}\n");
	assert_false(vg_detect_wants(d, FLOW_END));
	assert_string_equal(fired(d, FLOW_END, &fi), "");
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	vg_detect_free(d);
	assert_false(vg_detect_wants(NULL, CLASSIFIED));
}

/* ------------------------------------------------------------------ */
/* 5. GeoIP                                                             */

static void
test_geoip(void **state)
{
	static const struct {
		const char *src, *dst, *want;
	} cases[] = {
	    /* US AS64500 -> RU AS64501 */
	    {"198.51.100.7", "203.0.113.9", "1 2 4 5 6 7 8"},
	    /* private (never looked up, though the file has AQ) -> VN */
	    {"10.0.0.5", "192.0.2.7", "3"},
	    /* unknown: neither in nor not_in; "not" is true */
	    {"10.0.0.5", "1.1.1.1", "8"},
	    /* DE AS64503 -> VN AS64504 */
	    {"2001:db8:1::5", "2001:db8:2::1", "3 7"},
	    /* ULA (never looked up) -> DE */
	    {"fd00::1", "2001:db8:1::1", "4 7 8"},
	    /* US AS15169 -> CH without ASN: unknown ASN matches nothing */
	    {"8.8.8.8", "9.9.9.9", "2 4 6 8"},
	};
	struct vg_config cfg;
	struct vg_detect *d;
	struct vg_flow_info fi;
	struct vg_geo g;
	size_t i;

	(void)state;
	cfg_new(&cfg);
	cfg_geoip(&cfg);
	d = load_expect(
		&cfg, "c-geo.yaml",
		RULE(1)
		"  match: {country: [RU, KP]}\n"
		RULE(2)
		"  match: {src_country: us}\n"
		RULE(3)
		"  match: {dst_country: {in: [VN]}}\n"
		RULE(4)
		"  match: {dst_country: {not_in: [VN]}}\n"
		RULE(5)
		"  match: {asn: AS64501}\n"
		RULE(6)
		"  match: {src_asn: {in: [64500, 15169]}}\n"
		RULE(7)
		"  match: {dst_asn: {not_in: [as64502]}}\n"
		RULE(8)
		"  match: {not: {dst_country: VN}}\n"
		RULE(9)
		"  match: {country: AQ}\n",
		VG_OK, "");
	vg_config_fini(&cfg);
	for (i = 0; i < VG_ARRAY_LEN(cases); i++) {
		fi = flow(cases[i].src, 1, cases[i].dst, 2);
		if (strcmp(fired(d, CLASSIFIED, &fi), cases[i].want) != 0)
			fail_msg("%s -> %s: expected \"%s\", got \"%s\"",
				 cases[i].src, cases[i].dst, cases[i].want,
				 fired(d, CLASSIFIED, &fi));
	}

	/* vg_detect_geo: the record, or false. */
	fi = flow("203.0.113.9", 1, "10.0.0.5", 2);
	assert_true(vg_detect_geo(d, worker, 4, fi.src_ip, &g));
	assert_string_equal(g.country, "RU");
	assert_int_equal(g.asn, 64501);
	assert_string_equal(g.as_org, "Example Hosting");
	assert_false(vg_detect_geo(d, worker, 4, fi.dst_ip, &g));
	assert_string_equal(g.country, "");
	fi = flow("1.1.1.1", 1, "10.0.0.5", 2);
	assert_false(vg_detect_geo(d, worker, 4, fi.src_ip, &g));
	fi = flow("2001:db8:1::1", 1, "2001:db8:1::2", 2);
	assert_true(vg_detect_geo(d, worker, 6, fi.src_ip, &g));
	assert_string_equal(g.country, "DE");
	assert_int_equal(g.asn, 64503);
	vg_detect_free(d);

	/* Without databases, vg_detect_geo knows nothing. */
	d = load_ok("c-geo2.yaml",
		    RULE(1)
		    "  match: {protocol: DNS}\n");
	fi = flow("203.0.113.9", 1, "10.0.0.5", 2);
	assert_false(vg_detect_geo(d, worker, 4, fi.src_ip, &g));
	vg_detect_free(d);
}

/* A GeoIP database that cannot be opened fails the load. */
static void
test_geoip_bad_path(void **state)
{
	struct vg_config cfg;
	struct load r;
	char *path;

	(void)state;
	path = write_file("r-geo.yaml",
			  RULE(1)
			  "  match: {protocol: DNS}\n");
	cfg_new(&cfg);
	cfg_rules(&cfg, path);
	cfg.geoip_country_db = tmp_path("geo/missing.mmdb");
	r = detect_load(&cfg);
	assert_int_not_equal(r.err, VG_OK);
	assert_non_null(strstr(r.msgs, "defaults: geoip: "));
	assert_non_null(strstr(r.msgs, "missing.mmdb"));
	free(r.msgs);
	vg_config_fini(&cfg);
	free(path);
}

/* ------------------------------------------------------------------ */
/* 6. Stateful rules                                                    */

static struct vg_detect_state *
state_new(unsigned max)
{
	struct vg_detect_state *st;

	assert_int_equal(vg_detect_state_new(&st, max), VG_OK);
	return st;
}

static void
test_threshold(void **state)
{
	struct vg_detect *d;
	struct vg_detect_state *st = state_new(100000);
	struct vg_flow_info fi = flow("203.0.113.77", 40000, "10.20.0.10", 22);
	struct vg_flow_info other = flow("10.0.0.1", 1, "10.20.0.10", 80);

	(void)state;
	d = load_ok("s-thr.yaml",
		    RULE(1)
		    "  match: {dst_port: 22}\n"
		    "  threshold: {count: 3, seconds: 60}\n");
	/* Flows the rule does not match count for nothing. */
	assert_int_equal(hit(d, st, &other, 0), 0);
	/* The 3rd hit alerts, then the count starts over. */
	assert_int_equal(hit(d, st, &fi, 0), 0);
	assert_int_equal(hit(d, st, &fi, 1), 0);
	assert_int_equal(hit(d, st, &fi, 2), 1);
	assert_int_equal(hit(d, st, &fi, 3), 0);
	assert_int_equal(hit(d, st, &fi, 4), 0);
	assert_int_equal(hit(d, st, &fi, 5), 1);
	/* A fixed window: the 3rd hit 61 s after the 1st opens a new one. */
	assert_int_equal(hit(d, st, &fi, 100), 0);
	assert_int_equal(hit(d, st, &fi, 130), 0);
	assert_int_equal(hit(d, st, &fi, 161), 0); /* new window: 1 */
	assert_int_equal(hit(d, st, &fi, 170), 0); /* 2 */
	assert_int_equal(hit(d, st, &fi, 221), 1); /* 3, 60 s after 161 */
	assert_int_equal(vg_detect_rule_alerts(d, 0), 3);
	assert_int_equal(vg_detect_rule_suppressed(d, 0), 0);
	/* Without state, stateful parts do not apply. */
	assert_string_equal(fired(d, CLASSIFIED, &fi), "1");
	vg_detect_free(d);
	vg_detect_state_free(st);
}

static void
test_threshold_track(void **state)
{
	static const char *const tracks[] = {"by_src", "by_dst", "by_pair"};
	/* Hits: A->X, A->Y, B->X, A->X. Which hit alerts (count 2)? */
	static const char *const want[] = {
	    "0100", /* by_src: A's 2nd */
	    "0010", /* by_dst: X's 2nd */
	    "0001", /* by_pair: A->X's 2nd */
	};
	static const char *const src[] = {"198.51.100.1", "198.51.100.1",
					  "198.51.100.2", "198.51.100.1"};
	static const char *const dst[] = {"10.0.0.1", "10.0.0.2", "10.0.0.1",
					  "10.0.0.1"};
	char text[512], name[32], got[5];
	struct vg_detect *d;
	struct vg_detect_state *st;
	struct vg_flow_info fi;
	unsigned t, i;

	(void)state;
	for (t = 0; t < VG_ARRAY_LEN(tracks); t++) {
		snprintf(text, sizeof(text),
			 "%s  match: {transport: tcp}\n"
			 "  threshold: {count: 2, seconds: 1h, track: %s}\n",
			 RULE(1), tracks[t]);
		snprintf(name, sizeof(name), "s-track-%u.yaml", t);
		d = load_ok(name, text);
		st = state_new(100000);
		for (i = 0; i < 4; i++) {
			/* Ports never take part in the key. */
			fi = flow(src[i], (uint16_t)(1000 + i), dst[i],
				  (uint16_t)(80 + i));
			got[i] = hit(d, st, &fi, i) ? '1' : '0';
		}
		got[4] = '\0';
		if (strcmp(got, want[t]) != 0)
			fail_msg("%s: expected %s, got %s", tracks[t], want[t],
				 got);
		vg_detect_free(d);
		vg_detect_state_free(st);
	}
}

static void
test_distinct(void **state)
{
	struct vg_detect *d;
	struct vg_detect_state *st = state_new(100000);
	struct vg_flow_info fi = flow("203.0.113.77", 40000, "10.0.0.1", 22);

	(void)state;
	d = load_ok("s-dport.yaml",
		    RULE(1)
		    "  match: {transport: tcp}\n"
		    "  distinct: {of: dst_port, count: 3, seconds: 60}\n");
	fi.dst_port = 22;
	assert_int_equal(hit(d, st, &fi, 0), 0);
	assert_int_equal(hit(d, st, &fi, 1), 0); /* 22 again */
	fi.dst_port = 23;
	assert_int_equal(hit(d, st, &fi, 2), 0);
	assert_int_equal(hit(d, st, &fi, 3), 0); /* 23 again */
	fi.dst_port = 24;
	assert_int_equal(hit(d, st, &fi, 4), 1); /* 3rd distinct port */
	assert_int_equal(hit(d, st, &fi, 5), 0); /* starts over */
	fi.dst_port = 25;
	assert_int_equal(hit(d, st, &fi, 6), 0);
	/* Another source has its own set (by_src). */
	fi = flow("203.0.113.78", 40000, "10.0.0.1", 26);
	assert_int_equal(hit(d, st, &fi, 7), 0);
	/* The window: 24 and 25 were 60 s ago or less... */
	fi = flow("203.0.113.77", 40000, "10.0.0.1", 26);
	assert_int_equal(hit(d, st, &fi, 65), 1);
	/* ...and past it, a new window. */
	fi.dst_port = 1;
	assert_int_equal(hit(d, st, &fi, 100), 0);
	fi.dst_port = 2;
	assert_int_equal(hit(d, st, &fi, 170), 0); /* new window: 1 */
	fi.dst_port = 1;
	assert_int_equal(hit(d, st, &fi, 171), 0);
	fi.dst_port = 3;
	assert_int_equal(hit(d, st, &fi, 172), 1);
	assert_int_equal(vg_detect_rule_alerts(d, 0), 3);
	vg_detect_free(d);
	vg_detect_state_free(st);

	/* Of destination addresses, IPv4 and IPv6. */
	st = state_new(100000);
	d = load_ok("s-dip.yaml",
		    RULE(1)
		    "  match: {transport: tcp}\n"
		    "  distinct: {of: dst_ip, count: 3, seconds: 1h, track: "
		    "by_src}\n");
	fi = flow("203.0.113.77", 1, "10.0.0.1", 445);
	assert_int_equal(hit(d, st, &fi, 0), 0);
	fi = flow("203.0.113.77", 2, "10.0.0.1", 446); /* same host */
	assert_int_equal(hit(d, st, &fi, 1), 0);
	fi = flow("203.0.113.77", 3, "10.0.0.2", 445);
	assert_int_equal(hit(d, st, &fi, 2), 0);
	fi = flow("203.0.113.77", 4, "10.0.0.2", 445);
	assert_int_equal(hit(d, st, &fi, 3), 0);
	fi = flow("203.0.113.77", 5, "10.0.1.1", 445);
	assert_int_equal(hit(d, st, &fi, 4), 1);
	fi = flow("2001:db8::77", 1, "fd00::1", 445);
	assert_int_equal(hit(d, st, &fi, 5), 0);
	fi = flow("2001:db8::77", 1, "fd00::1:0:0:1", 445);
	assert_int_equal(hit(d, st, &fi, 6), 0);
	fi = flow("2001:db8::77", 1, "fd00::1", 445);
	assert_int_equal(hit(d, st, &fi, 7), 0);
	fi = flow("2001:db8::77", 1, "fd01::1", 445);
	assert_int_equal(hit(d, st, &fi, 8), 1);
	vg_detect_free(d);
	vg_detect_state_free(st);
}

static void
test_suppress(void **state)
{
	struct vg_detect *d;
	struct vg_detect_state *st = state_new(100000);
	struct vg_flow_info a = flow("203.0.113.77", 1, "10.0.0.1", 22);
	struct vg_flow_info b = flow("203.0.113.78", 1, "10.0.0.1", 22);
	struct vg_detect_worker_stats before, after;

	(void)state;
	d = load_ok("s-sup.yaml",
		    RULE(1)
		    "  match: {dst_port: 22}\n"
		    "  suppress: {seconds: 60, track: by_src}\n");
	vg_detect_worker_stats(worker, &before);
	assert_int_equal(hit(d, st, &a, 0), 1);
	assert_int_equal(hit(d, st, &a, 10), 0);
	assert_int_equal(hit(d, st, &b, 11), 1); /* another source */
	assert_int_equal(hit(d, st, &a, 20), 0);
	assert_int_equal(hit(d, st, &a, 59.5), 0);
	/* After the window: 1 + the three held back. */
	assert_int_equal(hit(d, st, &a, 61), 4);
	assert_int_equal(hit(d, st, &a, 62), 0);
	/* The window runs from the last alert: 60 s after it, free. */
	assert_int_equal(hit(d, st, &a, 121), 2);
	assert_int_equal(hit(d, st, &b, 200), 1);
	assert_int_equal(vg_detect_rule_alerts(d, 0), 5);
	assert_int_equal(vg_detect_rule_suppressed(d, 0), 4);
	vg_detect_worker_stats(worker, &after);
	assert_int_equal(after.alerts - before.alerts, 5);
	assert_int_equal(after.suppressed - before.suppressed, 4);
	assert_int_equal(after.matched - before.matched, 9);
	assert_int_equal(after.evaluated - before.evaluated, 9);
	vg_detect_free(d);
	vg_detect_state_free(st);

	/* by_rule: one window for every source. */
	st = state_new(100000);
	d = load_ok("s-sup2.yaml",
		    RULE(1)
		    "  match: {dst_port: 22}\n"
		    "  suppress: {seconds: 1m, track: by_rule}\n");
	assert_int_equal(hit(d, st, &a, 0), 1);
	assert_int_equal(hit(d, st, &b, 1), 0);
	assert_int_equal(hit(d, st, &a, 61), 2);
	vg_detect_free(d);
	vg_detect_state_free(st);
}

/* Threshold first, then suppress on what threshold lets through: the
 * README's SSH brute-force rule on 15 connections 2 s apart. */
static void
test_threshold_and_suppress(void **state)
{
	struct vg_detect *d;
	struct vg_detect_state *st = state_new(100000);
	struct vg_flow_info fi = flow("203.0.113.77", 40000, "10.20.0.10", 22);
	unsigned i, alerts = 0;
	uint64_t c;

	(void)state;
	d = load_ok("s-ssh.yaml",
		    RULE(2000200)
		    "  match:\n"
		    "    protocol: SSH\n"
		    "    direction: inbound\n"
		    "  threshold: {count: 10, seconds: 60, track: by_src}\n"
		    "  suppress: {seconds: 1h, track: by_src}\n");
	fi.master_id = proto_id("SSH");
	for (i = 0; i < 15; i++) {
		c = hit(d, st, &fi, 2.0 * i);
		if (c) {
			assert_int_equal(i, 9); /* the 10th, at 10:00:18 */
			assert_int_equal(c, 1);
			alerts++;
		}
	}
	assert_int_equal(alerts, 1);
	/* Ten more within the hour: threshold reached again, held back. */
	for (i = 0; i < 10; i++)
		assert_int_equal(hit(d, st, &fi, 100 + i), 0);
	assert_int_equal(vg_detect_rule_suppressed(d, 0), 1);
	/* After the hour, ten more: an alert for itself and the held one. */
	for (i = 0; i < 9; i++)
		assert_int_equal(hit(d, st, &fi, 4000 + i), 0);
	assert_int_equal(hit(d, st, &fi, 4009), 2);
	vg_detect_free(d);
	vg_detect_state_free(st);
}

/*
 * The state is bounded. vg_detect_state_new() splits max_entries over 64
 * stripes, each with its own LRU list and at least 16 entries: the real
 * bound is 64 * max(16, max_entries / 64). For 1000 that is 64 * 16 =
 * 1024; for 6400 it is 6400 exactly.
 */
static void
test_state_bound(void **state)
{
	static const struct {
		unsigned max, bound, sources;
	} cases[] = {{1000, 64 * 16, 5000}, {6400, 6400, 10000}};
	struct vg_detect *d;
	struct vg_detect_state *st;
	struct vg_detect_state_stats ss;
	struct vg_flow_info fi = flow("10.0.0.0", 1, "192.0.2.1", 22);
	size_t c;
	unsigned i;

	(void)state;
	d = load_ok("s-bound.yaml",
		    RULE(1)
		    "  match: {dst_port: 22}\n"
		    "  threshold: {count: 2, seconds: 1h}\n");
	for (c = 0; c < VG_ARRAY_LEN(cases); c++) {
		st = state_new(cases[c].max);
		/* Source A's first hit, then many others, then A again. */
		fi.src_ip[0] = 172;
		fi.src_ip[1] = 16;
		fi.src_ip[2] = 0;
		fi.src_ip[3] = 1;
		assert_int_equal(hit(d, st, &fi, 0), 0);
		fi.src_ip[0] = 10;
		for (i = 0; i < cases[c].sources; i++) {
			fi.src_ip[1] = (uint8_t)(i >> 16);
			fi.src_ip[2] = (uint8_t)(i >> 8);
			fi.src_ip[3] = (uint8_t)i;
			assert_int_equal(hit(d, st, &fi, 1), 0);
		}
		vg_detect_state_stats(st, &ss);
		assert_true(ss.entries <= cases[c].bound);
		assert_true(ss.evicted > 0);
		assert_int_equal(ss.entries + ss.evicted, cases[c].sources + 1);
		assert_int_equal(ss.alloc_failed, 0);
		/* A was the least recently used: evicted, its count lost. */
		fi.src_ip[0] = 172;
		fi.src_ip[1] = 16;
		fi.src_ip[2] = 0;
		fi.src_ip[3] = 1;
		assert_int_equal(hit(d, st, &fi, 2), 0);
		assert_int_equal(hit(d, st, &fi, 3), 1);
		vg_detect_state_free(st);
	}

	/* A bound large enough keeps A's count. */
	st = state_new(1000000);
	fi.src_ip[0] = 172;
	assert_int_equal(hit(d, st, &fi, 0), 0);
	fi.src_ip[0] = 10;
	for (i = 0; i < 5000; i++) {
		fi.src_ip[2] = (uint8_t)(i >> 8);
		fi.src_ip[3] = (uint8_t)i;
		assert_int_equal(hit(d, st, &fi, 1), 0);
	}
	vg_detect_state_stats(st, &ss);
	assert_int_equal(ss.entries, 5001);
	assert_int_equal(ss.evicted, 0);
	fi.src_ip[0] = 172;
	fi.src_ip[2] = 0;
	fi.src_ip[3] = 1;
	assert_int_equal(hit(d, st, &fi, 2), 1);
	vg_detect_state_free(st);
	vg_detect_free(d);
}

/* ------------------------------------------------------------------ */
/* 7. Reload                                                            */

static void
test_reload_keeps_state(void **state)
{
	struct vg_detect *d1, *d2;
	struct vg_detect_state *st = state_new(100000);
	struct vg_flow_info fi = flow("203.0.113.77", 1, "10.0.0.1", 22);
	struct vg_alert a[4];

	(void)state;
	d1 = load_ok("reload-1.yaml",
		     RULE(77)
		     "  match: {dst_port: 22}\n"
		     "  threshold: {count: 3, seconds: 60}\n");
	d2 = load_ok("reload-2.yaml",
		     "- id: 78\n"
		     "  name: new rule\n"
		     "  category: c\n"
		     "  severity: low\n"
		     "  match: {dst_port: 22}\n"
		     "  threshold: {count: 2, seconds: 60}\n"
		     "- id: 77\n"
		     "  rev: 2\n"
		     "  name: rule 77 again\n"
		     "  category: c\n"
		     "  severity: high\n"
		     "  match: {dst_port: 22}\n"
		     "  threshold: {count: 3, seconds: 60}\n");
	assert_int_not_equal(vg_detect_generation(d1),
			     vg_detect_generation(d2));
	assert_true(vg_detect_generation(d2) > vg_detect_generation(d1));

	/* Two hits counted under d1... */
	assert_int_equal(hit(d1, st, &fi, 0), 0);
	assert_int_equal(hit(d1, st, &fi, 1), 0);
	/* ...and the third, under d2, completes rule 77's count; rule 78
	 * is new and starts from 1. */
	assert_int_equal(
	    vg_detect_eval(d2, st, worker, CLASSIFIED, &fi, T0 + 2 * SEC, a, 4),
	    1);
	assert_int_equal(a[0].rule->id, 77);
	assert_int_equal(a[0].rule->rev, 2);
	assert_string_equal(a[0].rule->name, "rule 77 again");
	assert_int_equal(a[0].count, 1);
	assert_int_equal(vg_detect_rule_alerts(d1, 0), 0);
	assert_int_equal(vg_detect_rule_alerts(d2, 1), 1);
	assert_int_equal(
	    vg_detect_eval(d2, st, worker, CLASSIFIED, &fi, T0 + 3 * SEC, a, 4),
	    1);
	assert_int_equal(a[0].rule->id, 78);
	vg_detect_free(d1);
	vg_detect_free(d2);
	vg_detect_state_free(st);
}

/* clang-format on */

/* Bounds of a rule file (netrules.h, SECURITY.md "Limits"): at most
 * VG_RULES_MAX_PER_FILE rules and VG_RULES_MAX_FILE_BYTES bytes. */
static void
test_limits_file(void **state)
{
#define ONE_RULE                                                               \
	"- {id: %u, name: r, category: c, severity: low, "                     \
	"match: {protocol: DNS}}\n"
	char *text = NULL, *lines = NULL;
	size_t len = 0, n;
	struct vg_detect *d;
	unsigned i;
	FILE *f;

	(void)state;
	/* VG_RULES_MAX_PER_FILE rules load, one more is refused at its line. */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	for (i = 1; i <= VG_RULES_MAX_PER_FILE; i++)
		fprintf(f, ONE_RULE, i);
	assert_int_equal(fclose(f), 0);
	d = load_ok("l-count.yaml", text);
	assert_non_null(d);
	assert_int_equal(vg_detect_rule_count(d), VG_RULES_MAX_PER_FILE);
	vg_detect_free(d);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	for (i = 1; i <= VG_RULES_MAX_PER_FILE + 1; i++)
		fprintf(f, ONE_RULE, i);
	assert_int_equal(fclose(f), 0);
	assert_true(asprintf(&lines, "%u: more than %u rules in one file\n",
			     VG_RULES_MAX_PER_FILE + 1,
			     VG_RULES_MAX_PER_FILE) > 0);
	expect_errors("l-count2.yaml", text, lines);
	free(lines);
	free(text);

	/* A file of exactly VG_RULES_MAX_FILE_BYTES loads; one byte more is
	 * refused before it is parsed. */
	text = malloc(VG_RULES_MAX_FILE_BYTES + 2);
	assert_non_null(text);
	n = (size_t)snprintf(text, 256, ONE_RULE, 7u);
	memset(text + n, '#', VG_RULES_MAX_FILE_BYTES - n - 1);
	text[VG_RULES_MAX_FILE_BYTES - 1] = '\n';
	text[VG_RULES_MAX_FILE_BYTES] = '\0';
	d = load_ok("l-size.yaml", text);
	assert_non_null(d);
	assert_int_equal(vg_detect_rule_count(d), 1);
	vg_detect_free(d);
	text[VG_RULES_MAX_FILE_BYTES - 1] = '#';
	text[VG_RULES_MAX_FILE_BYTES] = '\n';
	text[VG_RULES_MAX_FILE_BYTES + 1] = '\0';
	assert_true(asprintf(&lines, "0: file over %u bytes\n",
			     VG_RULES_MAX_FILE_BYTES) > 0);
	expect_errors("l-size2.yaml", text, lines);
	free(lines);
	free(text);
#undef ONE_RULE
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_names),
	    cmocka_unit_test(test_error_values),
	    cmocka_unit_test(test_error_duplicate_id),
	    cmocka_unit_test(test_error_rule_keys),
	    cmocka_unit_test(test_error_yaml),
	    cmocka_unit_test(test_limits_file),
	    cmocka_unit_test(test_error_stateful_and_on),
	    cmocka_unit_test(test_error_structure),
	    cmocka_unit_test(test_error_depth),
	    cmocka_unit_test(test_error_list_types),
	    cmocka_unit_test(test_error_all_reported),
	    cmocka_unit_test(test_error_missing_path),
	    cmocka_unit_test(test_warn_missing_list),
	    cmocka_unit_test(test_warn_no_geoip),
	    cmocka_unit_test(test_warn_on_classified),
	    cmocka_unit_test(test_folder),
	    cmocka_unit_test(test_folder_subfolder_named_yaml),
	    cmocka_unit_test(test_file_shapes),
	    cmocka_unit_test(test_rule_meta),
	    cmocka_unit_test(test_eval_protocol),
	    cmocka_unit_test(test_eval_category_risk_confidence),
	    cmocka_unit_test(test_eval_transport_ports),
	    cmocka_unit_test(test_eval_direction),
	    cmocka_unit_test(test_eval_addresses),
	    cmocka_unit_test(test_eval_lists),
	    cmocka_unit_test(test_eval_string_fields),
	    cmocka_unit_test(test_eval_match_kinds),
	    cmocka_unit_test(test_eval_domain),
	    cmocka_unit_test(test_eval_regex_budget),
	    cmocka_unit_test(test_eval_numbers),
	    cmocka_unit_test(test_eval_groups),
	    cmocka_unit_test(test_eval_on),
	    cmocka_unit_test(test_geoip),
	    cmocka_unit_test(test_geoip_bad_path),
	    cmocka_unit_test(test_threshold),
	    cmocka_unit_test(test_threshold_track),
	    cmocka_unit_test(test_distinct),
	    cmocka_unit_test(test_suppress),
	    cmocka_unit_test(test_threshold_and_suppress),
	    cmocka_unit_test(test_state_bound),
	    cmocka_unit_test(test_reload_keeps_state),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
