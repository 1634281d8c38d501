/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow classification with nDPI: the only module that includes nDPI.
 *
 * Each worker owns one classifier (one nDPI detection module: nDPI is not
 * shared between threads). A flow's packets go to nDPI until its
 * classification is final, following the same rules as Debian's
 * ndpiReader 4.2 so that results compare: a flow is final when nDPI names
 * an application protocol and needs no more packets for metadata, or when
 * it has seen more than the configured number of packets (then nDPI's
 * give-up guess applies). At that point the flow's metadata (SNI, JA3,
 * HTTP fields, DNS query, SSH banners...) is copied into a compact blob
 * and the nDPI state (about 1 KiB) is freed at once.
 */
#ifndef VG_CLASSIFY_H
#define VG_CLASSIFY_H

#include "common.h"
#include "decode.h"
#include "event.h"
#include "flow.h"

struct vg_classifier;

struct vg_classify_opts {
	unsigned tcp_max_packets; /* give up after this many TCP packets */
	unsigned udp_max_packets; /* and this many UDP packets */
};

struct vg_classify_stats {
	uint64_t dpi_packets;  /* packets given to nDPI */
	uint64_t detected;     /* flows classified by nDPI */
	uint64_t guessed;      /* flows named by the give-up guess */
	uint64_t unknown;      /* flows left unknown */
	uint64_t alloc_failed; /* flows not classified for want of memory */
};

/* A new classifier (one nDPI module). *out owned: vg_classifier_free. */
enum vg_err
vg_classifier_new(struct vg_classifier **out,
		  const struct vg_classify_opts *opts) VG_MUST_CHECK;
/* Accepts NULL. Flows still holding nDPI state must be released first. */
void vg_classifier_free(struct vg_classifier *c);

/* Give one packet of flow f to nDPI unless f's classification is final. */
void vg_classify_packet(struct vg_classifier *c, struct vg_flow *f,
			const struct vg_pkt *p, int64_t ts_us);

/* Make f's classification final (give up if need be), copy its metadata
 * and free its nDPI state. No-op when already final. */
void vg_classify_finish(struct vg_classifier *c, struct vg_flow *f);

/* Free f's nDPI state and metadata (the flow is going away). */
void vg_classify_release(struct vg_flow *f);

/*
 * Fill the nDPI and application fields of fi from f. Strings in fi point
 * into f's metadata (valid while f lives) or into names (caller's buffer,
 * at least 128 bytes, for the protocol name) and static nDPI tables.
 * With names NULL, only ids, risk bits and metadata are filled (what rules
 * read), not the name strings the encoder needs: cheaper.
 */
void vg_classify_describe(struct vg_classifier *c, const struct vg_flow *f,
			  struct vg_flow_info *fi, char *names,
			  size_t names_len);

/*
 * The whole record of flow f that the encoder and the rules read: its
 * key, counters and times, reason and state (static strings), then
 * vg_classify_describe(). The one place a flow becomes a vg_flow_info.
 */
void vg_classify_flow_info(struct vg_classifier *c, const struct vg_flow *f,
			   const char *reason, const char *state,
			   struct vg_flow_info *fi, char *names,
			   size_t names_len);

/* Counters of this classifier (call from the owning thread). */
void vg_classify_stats(const struct vg_classifier *c,
		       struct vg_classify_stats *st);

/* nDPI's name for a protocol id ("TLS"), "Unknown" when out of range. */
const char *vg_classify_proto_name(struct vg_classifier *c, unsigned id);

/* The id a flow is counted under in per-protocol summaries: its
 * application protocol, or the master protocol when that is all there is
 * (as ndpiReader counts). */
static inline unsigned
vg_classify_summary_id(const struct vg_flow *f)
{
	return f->app_proto ? f->app_proto : f->master_proto;
}

/* Name of nDPI risk number i (1..63), NULL when none. */
const char *vg_classify_risk_name(unsigned i);

/*
 * Names for detection rules, from a table made once (thread-safe). Ids are
 * nDPI's; lookups by name are case-insensitive and return -1 when the name
 * is unknown.
 */
unsigned vg_classify_proto_count(void);
const char *vg_classify_proto_name_of(unsigned id); /* NULL: out of range */
int vg_classify_proto_id(const char *name);
unsigned vg_classify_category_count(void);
const char *vg_classify_category_name_of(unsigned id); /* NULL: no name */
int vg_classify_category_id(const char *name);
/* Risk i as a rule identifier ("tls_selfsigned_certificate"), NULL if none */
const char *vg_classify_risk_ident(unsigned i);
/* Risk number for an identifier or nDPI's own text ("Self-signed
 * Certificate"). */
int vg_classify_risk_id(const char *name);

/* Confidence of a classification as a rule identifier ("dpi",
 * "match_by_port"...), and back (nDPI's own text is accepted too). */
const char *vg_classify_confidence_ident(unsigned i);
int vg_classify_confidence_id(const char *name);

/* Version of nDPI in use ("4.2.0"). */
const char *vg_classify_ndpi_version(void);

#endif /* VG_CLASSIFY_H */
