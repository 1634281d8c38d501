/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow table: one per worker thread, holding that worker's shard of
 * the flows.
 *
 * A flow is keyed by VLAN id, IP protocol, and both endpoints (address and
 * port), in either direction: the first packet's sender is the client
 * ("src"). Flows expire on idle and active timeouts measured in packet time,
 * so a replayed capture behaves like live traffic. The table is bounded by
 * a maximum number of flows; at the bound the least recently seen flow is
 * evicted (and reported). The table never allocates on lookup hits.
 *
 * Each flow keeps a compact record (struct vg_flow, under 256 bytes). The
 * classifier hangs its nDPI state off it only until classification is
 * final, and application metadata (SNI, URL, ...) in one separate blob.
 */
#ifndef VG_FLOW_H
#define VG_FLOW_H

#include "common.h"
#include "decode.h"

struct vg_flow_meta; /* owned by the classifier (classify.h) */

/* A bidirectional flow key. Addresses: IPv4 in the first 4 bytes. */
struct vg_flow_key {
	uint8_t a[16]; /* one endpoint */
	uint8_t b[16]; /* the other */
	uint16_t a_port;
	uint16_t b_port;
	uint16_t vlan;
	uint8_t proto;
	uint8_t ip_version;
};

enum vg_flow_end {
	VG_FLOW_END_IDLE = 0, /* idle timeout */
	VG_FLOW_END_ACTIVE,   /* active timeout: an interim record */
	VG_FLOW_END_EVICTED,  /* flows.max reached */
	VG_FLOW_END_SHUTDOWN, /* end of capture or agent stop */
};

/* Flow state bits (struct vg_flow.flags). */
#define VG_FLOW_F_DPI_DONE     0x01 /* classification is final */
#define VG_FLOW_F_BIDIR        0x02 /* packets seen both ways */
#define VG_FLOW_F_TCP_CLOSED   0x04 /* FIN both ways or RST */
#define VG_FLOW_F_DPI_LIST     0x08 /* on the list of flows in classification */
#define VG_FLOW_F_RULES_DONE   0x10 /* rules on classification have run */
#define VG_FLOW_F_ALERTED      0x20 /* some rule alerted on the flow */
#define VG_FLOW_F_PAYLOAD      0x40 /* a packet with payload was seen */
#define VG_FLOW_F_SERVER_FIRST 0x80 /* and the server sent it */

struct vg_flow {
	struct vg_flow_key key; /* key.a / a_port is the client */
	struct vg_flow *hnext;  /* hash chain */
	/* Links in the table's two lists, both least recently seen first:
	 * [0] every flow, [1] flows still in classification. */
	struct {
		struct vg_flow *prev;
		struct vg_flow *next;
	} link[2];
	uint32_t hash;        /* vg_flow_hash(&key) */
	uint8_t flags;        /* VG_FLOW_F_* */
	uint8_t tcp_flags[2]; /* OR of flags: [0] to server, [1] to client */
	uint8_t icmp_type;    /* of the first packet */
	uint8_t icmp_code;
	uint8_t tunnel;       /* enum vg_tunnel bits of the first packet */
	uint16_t dpi_packets; /* packets given to the classifier */
	int64_t first_us;     /* first packet (packet time) */
	int64_t last_us;      /* last packet */
	uint64_t pkts[2];     /* [0] to server, [1] to client */
	uint64_t bytes[2];
	uint64_t flow_id;      /* EVE flow_id */
	uint64_t risk;         /* nDPI risk bit mask */
	uint16_t master_proto; /* nDPI ids */
	uint16_t app_proto;
	uint16_t category;
	uint8_t confidence;
	void *dpi;                 /* nDPI state while classifying, else NULL */
	struct vg_flow_meta *meta; /* application metadata, or NULL */
};

/* Callback for each flow that ends. The flow is freed when it returns. */
typedef void (*vg_flow_end_fn)(void *arg, struct vg_flow *f,
			       enum vg_flow_end why);

struct vg_flow_table_opts {
	unsigned max_flows; /* hard bound on live flows */
	int64_t idle_timeout_us;
	int64_t active_timeout_us;
	unsigned worker_id;    /* mixed into flow ids */
	vg_flow_end_fn on_end; /* called for each flow that ends */
	void (*free_flow_state)(void *arg, struct vg_flow *f); /* releases
				      f->dpi and f->meta */
	int64_t dpi_idle_us; /* a flow still in classification (flag
				VG_FLOW_F_DPI_DONE clear) silent this
				long is handed to on_dpi_idle */
	void (*on_dpi_idle)(void *arg, struct vg_flow *f); /* must make the
				      classification final (may be NULL) */
	void *arg;
};

struct vg_flow_table_stats {
	uint64_t active; /* flows in the table now */
	uint64_t created;
	uint64_t ended_idle;
	uint64_t ended_active; /* interim records on active timeout */
	uint64_t evicted;      /* flows.max reached */
	uint64_t alloc_failed; /* packets dropped for want of memory */
	uint64_t frag_matched; /* later fragments counted on their flow */
	uint64_t frag_orphan;  /* later fragments with no known flow */
	uint64_t dpi_idle;     /* classifications ended by dpi_idle_us */
};

struct vg_flow_table;

/* Make a table. *out owned (free with vg_flow_table_free). */
enum vg_err
vg_flow_table_new(struct vg_flow_table **out,
		  const struct vg_flow_table_opts *opts) VG_MUST_CHECK;
/* End every flow (on_end with VG_FLOW_END_SHUTDOWN unless `silent`) and
 * free the table. Accepts NULL. */
void vg_flow_table_free(struct vg_flow_table *t, int silent);

/* The symmetric hash of a packet's flow (same for both directions). Also
 * used by the capture thread to pick the worker. */
uint32_t vg_flow_hash_pkt(const struct vg_pkt *p);
/* Hash used to pick a worker: addresses, protocol and VLAN only, so that
 * IP fragments (which have no ports) reach their flow's worker. */
uint32_t vg_flow_shard_hash(const struct vg_pkt *p);

/*
 * Find or create the flow of packet p (not a VG_FRAG_LATER fragment) at
 * packet time ts_us and account the packet (wire bytes `bytes`). *dir is
 * set to 0 (client to server) or 1. Expires idle flows first. Returns the
 * flow (borrowed, valid until the next call into the table), or NULL when
 * no memory could be had (counted).
 */
struct vg_flow *vg_flow_track(struct vg_flow_table *t, const struct vg_pkt *p,
			      int64_t ts_us, uint32_t bytes, int *dir);

/* Account a later IP fragment on its flow if the first fragment was seen. */
void vg_flow_track_fragment(struct vg_flow_table *t, const struct vg_pkt *p,
			    int64_t ts_us, uint32_t bytes);

/* Advance packet time without a packet (idle workers): expire idle flows. */
void vg_flow_tick(struct vg_flow_table *t, int64_t now_us);

/* End all flows now (on_end with VG_FLOW_END_SHUTDOWN). */
void vg_flow_flush(struct vg_flow_table *t);

/* Counters (a snapshot; call from the owning thread). */
void vg_flow_table_stats(const struct vg_flow_table *t,
			 struct vg_flow_table_stats *st);

#endif /* VG_FLOW_H */
