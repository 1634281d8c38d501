/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network detection: rules written by security teams (the YAML files of
 * rules/network/, documented in rules/README.md), the IoC lists and GeoIP
 * readers they use, and the state of their stateful parts.
 *
 * Everything a rule set needs is loaded into one immutable struct
 * vg_detect, off the packet path (at start and on SIGHUP): the rules are
 * compiled (names to nDPI ids, CIDRs to radix sets, regular expressions to
 * PCRE2 code), the lists read, the readers opened. Workers then only read
 * it, concurrently, and a reload swaps in a new one whole.
 *
 * A rule fires at one of two moments of a flow: when its classification is
 * final ("classified", the default) or when it ends ("flow_end", needed for
 * byte, packet and duration conditions on the whole flow). Stateful parts
 * (threshold, distinct, suppress) keep their state in struct
 * vg_detect_state, which outlives reloads, is shared by the workers (one
 * source's flows spread over several workers), and is bounded.
 */
#ifndef VG_NETRULES_H
#define VG_NETRULES_H

#include "common.h"
#include "config.h"
#include "event.h"
#include "geoip.h"
#include "ioc.h"

#include <stdio.h>

/* Bounds on rule files (past them the file is refused with a message
 * naming it, and the set does not load). */
#define VG_RULES_MAX_FILE_BYTES (4u * 1024 * 1024) /* bytes of one file */
#define VG_RULES_MAX_PER_FILE   4096               /* rules in one file */
#define VG_RULES_MAX_DEPTH      32 /* nesting of all/any/not in a rule */

/*
 * The IoC lists shipped in the rules folder (FILE below it), loaded when
 * the configuration names none (detection.ioc) and installed.
 */
struct vg_shipped_list {
	const char *name;
	const char *file;
	enum vg_ioc_type type;
};
#define VG_SHIPPED_LISTS 3u
extern const struct vg_shipped_list vg_shipped_lists[VG_SHIPPED_LISTS];

enum vg_rule_on {
	VG_RULE_ON_CLASSIFIED = 0, /* classification is final */
	VG_RULE_ON_FLOW_END = 1,   /* the flow ended */
};

/* What an alert says about its rule. Strings live as long as the
 * struct vg_detect that holds the rule. */
struct vg_rule_meta {
	uint32_t id; /* alert.signature_id */
	uint32_t rev;
	char *name; /* alert.signature */
	char *category;
	char *description;         /* NULL when not given */
	unsigned severity;         /* 1 (critical, high) .. 4 (info) */
	const char *severity_name; /* as written: "critical" */
	char **mitre;              /* technique ids */
	unsigned n_mitre;
	char **tags;
	unsigned n_tags;
	char **refs;
	unsigned n_refs;
	const char *file; /* where the rule was read */
	unsigned line;
	bool enabled;
	enum vg_rule_on on;
};

struct vg_detect;
struct vg_detect_state;
struct vg_detect_worker;

/*
 * Build the detection set of cfg: home_net, IoC lists, GeoIP readers and
 * rules. shipped is the folder of the shipped rules (holding network/ and
 * ioc/), used when cfg leaves detection.rules or detection.ioc unset; it
 * may be NULL (then there are no default rules or lists).
 *
 * Every problem goes to errs (may be NULL) as one line
 * "FILE:LINE: KEY: MESSAGE"; warnings (a rule disabled because a list it
 * names is not configured, say) as "FILE:LINE: KEY: warning: MESSAGE".
 * Returns VG_OK, VG_EINVAL (bad rules, lists or databases: nothing is
 * built), VG_EIO or VG_ENOMEM.
 */
enum vg_err vg_detect_load(struct vg_detect **out, const struct vg_config *cfg,
			   const char *shipped, FILE *errs) VG_MUST_CHECK;
/* Accepts NULL. No worker may still use d. */
void vg_detect_free(struct vg_detect *d);

/* A number that differs between any two loaded sets (for caches). */
uint64_t vg_detect_generation(const struct vg_detect *d);
/* Rules loaded (enabled or not), and the enabled ones. */
unsigned vg_detect_rule_count(const struct vg_detect *d);
unsigned vg_detect_rules_enabled(const struct vg_detect *d);
/* Rule i (0 .. count-1), in load order. */
const struct vg_rule_meta *vg_detect_rule(const struct vg_detect *d,
					  unsigned i);
/* Alerts rule i has raised, and hits it suppressed, since d was loaded. */
uint64_t vg_detect_rule_alerts(const struct vg_detect *d, unsigned i);
uint64_t vg_detect_rule_suppressed(const struct vg_detect *d, unsigned i);
/* IoC lists loaded and their entries in all. */
unsigned vg_detect_list_count(const struct vg_detect *d);
size_t vg_detect_list_entries(const struct vg_detect *d);
/* Whether any enabled rule fires at `on` (skip the work when not). */
bool vg_detect_wants(const struct vg_detect *d, enum vg_rule_on on);

/* Shared state of stateful rules, at most max_entries entries. */
enum vg_err vg_detect_state_new(struct vg_detect_state **out,
				unsigned max_entries) VG_MUST_CHECK;
void vg_detect_state_free(struct vg_detect_state *st);
struct vg_detect_state_stats {
	uint64_t entries;      /* in use now */
	uint64_t evicted;      /* dropped, least recently used, at the bound */
	uint64_t alloc_failed; /* hits not tracked for want of memory */
};
void vg_detect_state_stats(struct vg_detect_state *st,
			   struct vg_detect_state_stats *out);

/* What one thread needs to evaluate rules: PCRE2 match data, GeoIP cache.
 * Never shared between threads. */
enum vg_err vg_detect_worker_new(struct vg_detect_worker **out) VG_MUST_CHECK;
void vg_detect_worker_free(struct vg_detect_worker *w);
struct vg_detect_worker_stats {
	uint64_t evaluated;  /* flows evaluated */
	uint64_t matched;    /* rule matches before stateful parts */
	uint64_t alerts;     /* alerts raised */
	uint64_t suppressed; /* matches held back by suppress */
	uint64_t geo_hits;   /* GeoIP cache */
	uint64_t geo_misses;
	uint64_t regex_errors; /* PCRE2 match errors (limits), no match */
};
void vg_detect_worker_stats(const struct vg_detect_worker *w,
			    struct vg_detect_worker_stats *out);

/* One alert of one flow. */
struct vg_alert {
	const struct vg_rule_meta *rule;
	uint64_t count; /* 1 + hits suppressed since the previous alert */
};

/*
 * Evaluate the enabled rules of d that fire at `on` against flow fi at
 * packet time now_us. Fills up to max alerts and returns how many.
 */
unsigned vg_detect_eval(const struct vg_detect *d, struct vg_detect_state *st,
			struct vg_detect_worker *w, enum vg_rule_on on,
			const struct vg_flow_info *fi, int64_t now_us,
			struct vg_alert *alerts, unsigned max);

/* GeoIP of a public address through w's cache; false when unknown, not
 * public, or no database is configured. */
bool vg_detect_geo(const struct vg_detect *d, struct vg_detect_worker *w,
		   uint8_t ip_version, const uint8_t addr[16],
		   struct vg_geo *out);

#endif /* VG_NETRULES_H */
