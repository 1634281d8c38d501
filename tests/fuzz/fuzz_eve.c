/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the EVE encoder (agent/event.c): the input fills every
 * field of a flow, an alert and a scanned file (numbers, and strings of
 * any bytes: invalid UTF-8, control characters, quotes), and each event
 * made must be one line of valid JSON (jansson checks UTF-8 too) whose
 * strings hold what was given where the input was valid UTF-8.
 */
#include "buf.h"
#include "event.h"
#include "geoip.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

#define N_STR 40

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint64_t
num(struct cursor *c, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes-- && c->n) {
		v = v << 8 | *c->p++;
		c->n--;
	}
	return v;
}

/* A string of up to 255 bytes (length byte first) into pool; NULL when
 * the length byte is 0xff or the input is used up. */
/* Counters the agent keeps (packets, bytes, hits, sizes) cannot reach
 * 2^63, and JSON readers (jansson, in the collector) refuse integers past
 * INT64_MAX: the encoder is fed what it can be given. */
static uint64_t
counter(struct cursor *c)
{
	return num(c, 8) & (uint64_t)INT64_MAX;
}

static const char *
str(struct cursor *c, char *pool, size_t *used, size_t cap)
{
	size_t len;
	char *s;

	if (c->n == 0)
		return NULL;
	len = *c->p++;
	c->n--;
	if (len == 0xff)
		return NULL;
	if (len > c->n)
		len = c->n;
	if (*used + len + 1 > cap)
		return NULL;
	s = pool + *used;
	memcpy(s, c->p, len);
	s[len] = '\0';
	*used += len + 1;
	c->p += len;
	c->n -= len;
	return s;
}

static void
check(const struct vg_buf *b, const char *what)
{
	const char *p = b->data, *end = b->data + b->len;

	/* One or more lines, each a JSON object. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t je;
		json_t *j;

		if (nl == NULL) {
			fprintf(stderr, "%s: no newline at the end\n", what);
			abort();
		}
		j = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES,
			       &je);
		if (j == NULL || !json_is_object(j)) {
			fprintf(stderr, "%s: not a JSON object: %s: %.*s\n",
				what, je.text, (int)(nl - p), p);
			abort();
		}
		json_decref(j);
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char pool[N_STR * 256 + 1024];
	struct cursor c = {data, size};
	struct vg_event_ctx ctx;
	struct vg_flow_info fi;
	struct vg_alert_info ai;
	struct vg_file_info file;
	struct vg_file_rule rule;
	struct vg_file_meta meta[2];
	struct vg_file_string fstr;
	struct vg_file_match match;
	struct vg_geo geo[2];
	char *mitre[3], *tags[3];
	uint64_t offsets[4];
	struct vg_buf b;
	size_t used = 0;
	unsigned i;
	int64_t ts;

#define S() str(&c, pool, &used, sizeof(pool))
	memset(&fi, 0, sizeof(fi));
	memset(&ai, 0, sizeof(ai));
	memset(&file, 0, sizeof(file));
	memset(&rule, 0, sizeof(rule));
	memset(geo, 0, sizeof(geo));
	ctx.host = S();
	ctx.agent_id = S();
	ctx.agency = S();
	ctx.version = S();
	if (ctx.host == NULL)
		ctx.host = "h";
	if (ctx.agent_id == NULL)
		ctx.agent_id = "a";
	if (ctx.version == NULL)
		ctx.version = "0";
	ts = (int64_t)num(&c, 8);
	fi.flow_id = num(&c, 8) & ((1ull << 51) - 1); /* as flow.c */
	fi.start_us = (int64_t)num(&c, 8);
	fi.end_us = (int64_t)num(&c, 8);
	fi.ip_version = num(&c, 1) & 1 ? 6 : 4;
	fi.proto = (uint8_t)num(&c, 1);
	for (i = 0; i < 16; i++) {
		fi.src_ip[i] = (uint8_t)num(&c, 1);
		fi.dst_ip[i] = (uint8_t)num(&c, 1);
	}
	fi.src_port = (uint16_t)num(&c, 2);
	fi.dst_port = (uint16_t)num(&c, 2);
	fi.icmp_type = (uint8_t)num(&c, 1);
	fi.icmp_code = (uint8_t)num(&c, 1);
	fi.vlan = (uint16_t)num(&c, 2);
	fi.tcp_flags_ts = (uint8_t)num(&c, 1);
	fi.tcp_flags_tc = (uint8_t)num(&c, 1);
	fi.pkts_toserver = counter(&c);
	fi.pkts_toclient = counter(&c);
	fi.bytes_toserver = counter(&c);
	fi.bytes_toclient = counter(&c);
	fi.reason = S();
	fi.state = S();
	fi.tunneled = (uint8_t)num(&c, 1);
	fi.alerted = (uint8_t)num(&c, 1) & 1;
	fi.app_proto = S();
	fi.ndpi_protocol = S();
	fi.ndpi_category = S();
	fi.ndpi_confidence = S();
	fi.n_risks = (unsigned)num(&c, 1) % 4;
	for (i = 0; i < fi.n_risks; i++)
		if ((fi.risks[i] = S()) == NULL)
			fi.risks[i] = "r";
	fi.risk_score = (unsigned)num(&c, 4);
	fi.tls_sni = S();
	fi.tls_version = S();
	fi.tls_ja3 = S();
	fi.tls_ja3s = S();
	fi.tls_subject = S();
	fi.tls_issuer = S();
	fi.tls_alpn = S();
	fi.tls_notbefore = (int64_t)num(&c, 8);
	fi.tls_notafter = (int64_t)num(&c, 8);
	fi.http_host = S();
	fi.http_url = S();
	fi.http_user_agent = S();
	fi.http_method = S();
	fi.http_status = (unsigned)num(&c, 4);
	fi.http_content_type = S();
	fi.dns_query = S();
	fi.dns_qtype = (unsigned)num(&c, 2);
	fi.dns_rcode = (int)(int32_t)num(&c, 4);
	fi.ssh_client = S();
	fi.ssh_server = S();

	ai.signature_id = (uint32_t)num(&c, 4);
	ai.rev = (uint32_t)num(&c, 4);
	ai.signature = S();
	ai.category = S();
	ai.severity = (unsigned)num(&c, 1) % 6;
	ai.severity_name = S();
	for (i = 0; i < 3; i++) {
		mitre[i] = (char *)(uintptr_t)S();
		tags[i] = (char *)(uintptr_t)S();
		if (mitre[i] == NULL)
			mitre[i] = (char *)(uintptr_t) "T1";
		if (tags[i] == NULL)
			tags[i] = (char *)(uintptr_t) "t";
	}
	ai.mitre = mitre;
	ai.n_mitre = (unsigned)num(&c, 1) % 4;
	ai.tags = tags;
	ai.n_tags = (unsigned)num(&c, 1) % 4;
	ai.refs = tags;
	ai.n_refs = (unsigned)num(&c, 1) % 4;
	ai.action = S();
	ai.count = counter(&c);
	for (i = 0; i < 2; i++) {
		const char *org = S();

		geo[i].country[0] = (char)num(&c, 1);
		geo[i].country[1] = (char)num(&c, 1);
		geo[i].asn = (uint32_t)num(&c, 4);
		if (org)
			snprintf(geo[i].as_org, sizeof(geo[i].as_org), "%s",
				 org);
	}
	ai.geo_src = num(&c, 1) & 1 ? &geo[0] : NULL;
	ai.geo_dst = &geo[1];

	rule.name = S();
	rule.ns = S();
	if (rule.name == NULL)
		rule.name = "r";
	if (rule.ns == NULL)
		rule.ns = "default";
	rule.tags = tags;
	rule.n_tags = (unsigned)num(&c, 1) % 4;
	meta[0].key = S();
	meta[0].type = VG_META_STR;
	meta[0].str = S();
	meta[1].key = S();
	meta[1].type = num(&c, 1) & 1 ? VG_META_INT : VG_META_BOOL;
	meta[1].num = (int64_t)num(&c, 8);
	if (meta[0].key == NULL)
		meta[0].key = "k";
	if (meta[0].str == NULL)
		meta[0].str = "";
	if (meta[1].key == NULL)
		meta[1].key = "n";
	if (meta[1].type == VG_META_BOOL)
		meta[1].num &= 1;
	rule.meta = meta;
	rule.n_meta = (unsigned)num(&c, 1) % 3;
	rule.alert = ai;
	if (rule.alert.signature == NULL)
		rule.alert.signature = rule.name;
	for (i = 0; i < 4; i++)
		offsets[i] = counter(&c);
	fstr.id = S();
	if (fstr.id == NULL)
		fstr.id = "$a";
	fstr.count = counter(&c);
	fstr.n = (unsigned)num(&c, 1) % 5;
	fstr.offsets = offsets;
	match.rule = &rule;
	match.strings = &fstr;
	match.n_strings = (unsigned)num(&c, 1) % 2;
	file.filename = S();
	if (file.filename == NULL)
		file.filename = "/f";
	file.size = counter(&c);
	file.sha256 = S();
	file.uid = (uint32_t)num(&c, 4);
	file.gid = (uint32_t)num(&c, 4);
	file.mode = (uint32_t)num(&c, 4);
	file.mtime_us = (int64_t)num(&c, 8);
	file.matches = &match;
	file.n_matches = (unsigned)num(&c, 1) % 2;
	file.more_matches = (unsigned)num(&c, 2);
	file.source = S();
	file.quarantine_id = S();
	file.timed_out = (int)num(&c, 1) & 1;
	file.ioc_list = S();
#undef S

	vg_buf_init(&b, 1 << 20);
	if (vg_event_flow(&b, &ctx, &fi, ts) == VG_OK)
		check(&b, "flow");
	vg_buf_reset(&b);
	if (vg_event_alert(&b, &ctx, &fi, &ai, ts) == VG_OK)
		check(&b, "alert");
	vg_buf_reset(&b);
	if (vg_event_fileinfo(&b, &ctx, &file, ts) == VG_OK)
		check(&b, "fileinfo");
	vg_buf_reset(&b);
	if (vg_event_file_alert(&b, &ctx, &file, file.n_matches ? &match : NULL,
				&rule.alert, ts) == VG_OK)
		check(&b, "file alert");
	vg_buf_reset(&b);
	if (vg_event_agent(&b, &ctx, fi.reason ? fi.reason : "start",
			   fi.state ? fi.state : "ok", fi.http_url,
			   ts) == VG_OK)
		check(&b, "agent");
	vg_buf_reset(&b);
	if (vg_json_str(&b, (const char *)data, size) == VG_OK) {
		json_error_t je;
		json_t *j = json_loadb(b.data, b.len,
				       JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);

		if (j == NULL || !json_is_string(j)) {
			fprintf(stderr, "vg_json_str: not a JSON string: %s\n",
				je.text);
			abort();
		}
		json_decref(j);
	}
	vg_buf_fini(&b);
	return 0;
}
