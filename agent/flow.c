/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow table; see flow.h.
 *
 * Per worker: a chained hash table with a fixed number of buckets, and a
 * doubly linked list of every flow ordered by last packet time (least
 * recent first). Because packet time only moves forward in one worker, the
 * head of that list is always the flow to expire or evict next, so idle
 * expiry costs O(1) per expired flow and nothing when there is none. A
 * second list of the same kind holds the flows still in classification.
 *
 * Later IP fragments carry no ports. The first fragment of a datagram
 * records its flow in a small direct-mapped table keyed by (addresses,
 * protocol, IP id); later fragments find their flow through it and are
 * counted on it. The table is bounded and entries are overwritten on
 * collision: an unmatched fragment is counted as an orphan, never lost
 * silently.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>

#define FRAG_SLOTS 4096 /* power of two */

struct frag_slot {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t sport;
	uint16_t dport;
	uint16_t vlan;
	uint8_t proto;
	uint8_t used;
	int64_t ts_us;
};

struct flow_list {
	struct vg_flow *head; /* least recently seen */
	struct vg_flow *tail;
};

struct vg_flow_table {
	struct vg_flow_table_opts o;
	struct vg_flow **buckets;
	uint32_t mask;
	struct flow_list list[2]; /* [LRU] every flow, [DPI] classifying */
	uint64_t id_counter;
	struct vg_flow_table_stats st;
	struct frag_slot frags[FRAG_SLOTS];
};

/* splitmix64 finaliser: a cheap, well-mixing bijection on 64 bits. */
static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Sum of the words of an address: order-free, so symmetric when added. */
static inline uint64_t
addr_word(const uint8_t a[16])
{
	return mix64(load64(a) ^ (load64(a + 8) * 0x9e3779b97f4a7c15ULL));
}

static inline uint32_t
sym_hash(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp,
	 uint8_t proto, uint16_t vlan)
{
	uint64_t ha = addr_word(a) + ((uint64_t)ap << 17);
	uint64_t hb = addr_word(b) + ((uint64_t)bp << 17);
	uint64_t h;

	/* Combine the two endpoints with operations that do not care which
	 * comes first (sum and xor), then mix. */
	h = (ha + hb) ^ mix64(ha ^ hb);
	h ^= ((uint64_t)proto << 48) | ((uint64_t)vlan << 32);
	return (uint32_t)(mix64(h) >> 32);
}

uint32_t
vg_flow_hash_pkt(const struct vg_pkt *p)
{
	return sym_hash(p->src, p->sport, p->dst, p->dport, p->proto, p->vlan);
}

uint32_t
vg_flow_shard_hash(const struct vg_pkt *p)
{
	return sym_hash(p->src, 0, p->dst, 0, p->proto, p->vlan);
}

enum vg_err
vg_flow_table_new(struct vg_flow_table **out,
		  const struct vg_flow_table_opts *opts)
{
	struct vg_flow_table *t;
	uint32_t n = 1024;

	*out = NULL;
	if (opts->max_flows == 0 || opts->on_end == NULL)
		return VG_EINVAL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return VG_ENOMEM;
	t->o = *opts;
	/* About two flows per bucket at the bound; at most 4M buckets. */
	while (n < opts->max_flows / 2 && n < (1u << 22))
		n <<= 1;
	t->buckets = vg_calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL) {
		free(t);
		return VG_ENOMEM;
	}
	t->mask = n - 1;
	*out = t;
	return VG_OK;
}

/*
 * The table keeps two lists ordered by last packet, least recent first:
 * every flow (LRU: what idles out or is evicted next), and the flows still
 * in classification (DPI), so that one silent for dpi_idle_us can give up
 * and free its nDPI state long before its idle timeout: scans and
 * half-open connections would otherwise hold about 1 KiB each for minutes.
 */
enum { LRU = 0, DPI = 1 };

static void
list_unlink(struct flow_list *l, struct vg_flow *f, int i)
{
	if (f->link[i].prev)
		f->link[i].prev->link[i].next = f->link[i].next;
	else
		l->head = f->link[i].next;
	if (f->link[i].next)
		f->link[i].next->link[i].prev = f->link[i].prev;
	else
		l->tail = f->link[i].prev;
	f->link[i].prev = f->link[i].next = NULL;
}

static void
list_append(struct flow_list *l, struct vg_flow *f, int i)
{
	f->link[i].next = NULL;
	f->link[i].prev = l->tail;
	if (l->tail)
		l->tail->link[i].next = f;
	else
		l->head = f;
	l->tail = f;
}

/* f just had a packet: move it to the tail. */
static void
list_touch(struct flow_list *l, struct vg_flow *f, int i)
{
	if (l->tail != f) {
		list_unlink(l, f, i);
		list_append(l, f, i);
	}
}

static void
dpi_leave(struct vg_flow_table *t, struct vg_flow *f)
{
	list_unlink(&t->list[DPI], f, DPI);
	f->flags &= (uint8_t)~VG_FLOW_F_DPI_LIST;
}

/* Remove f from the table, report it, and free it. */
static void
flow_end(struct vg_flow_table *t, struct vg_flow *f, enum vg_flow_end why,
	 int silent)
{
	struct vg_flow **pp = &t->buckets[f->hash & t->mask];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	list_unlink(&t->list[LRU], f, LRU);
	if (f->flags & VG_FLOW_F_DPI_LIST)
		dpi_leave(t, f);
	if (!silent)
		t->o.on_end(t->o.arg, f, why);
	if (t->o.free_flow_state)
		t->o.free_flow_state(t->o.arg, f);
	free(f);
	t->st.active--;
}

static void
expire(struct vg_flow_table *t, int64_t now_us)
{
	struct vg_flow *f;

	while ((f = t->list[LRU].head) != NULL &&
	       now_us - f->last_us >= t->o.idle_timeout_us) {
		t->st.ended_idle++;
		flow_end(t, f, VG_FLOW_END_IDLE, 0);
	}
	/* Flows whose classification became final leave the list here when
	 * they reach its head; silent ones still classifying give up. */
	while ((f = t->list[DPI].head) != NULL &&
	       ((f->flags & VG_FLOW_F_DPI_DONE) ||
		(t->o.dpi_idle_us > 0 &&
		 now_us - f->last_us >= t->o.dpi_idle_us))) {
		dpi_leave(t, f);
		if (!(f->flags & VG_FLOW_F_DPI_DONE) && t->o.on_dpi_idle) {
			t->st.dpi_idle++;
			t->o.on_dpi_idle(t->o.arg, f);
		}
	}
}

void
vg_flow_tick(struct vg_flow_table *t, int64_t now_us)
{
	expire(t, now_us);
}

void
vg_flow_flush(struct vg_flow_table *t)
{
	while (t->list[LRU].head)
		flow_end(t, t->list[LRU].head, VG_FLOW_END_SHUTDOWN, 0);
}

void
vg_flow_table_free(struct vg_flow_table *t, int silent)
{
	if (t == NULL)
		return;
	while (t->list[LRU].head)
		flow_end(t, t->list[LRU].head, VG_FLOW_END_SHUTDOWN, silent);
	free(t->buckets);
	free(t);
}

/* 0 if f is p's flow with p going client to server, 1 if server to client,
 * -1 if it is another flow. */
static inline int
flow_match(const struct vg_flow *f, const uint8_t *src, uint16_t sport,
	   const uint8_t *dst, uint16_t dport, uint8_t proto, uint16_t vlan)
{
	const struct vg_flow_key *k = &f->key;

	if (k->proto != proto || k->vlan != vlan)
		return -1;
	if (k->a_port == sport && k->b_port == dport &&
	    memcmp(k->a, src, 16) == 0 && memcmp(k->b, dst, 16) == 0)
		return 0;
	if (k->a_port == dport && k->b_port == sport &&
	    memcmp(k->a, dst, 16) == 0 && memcmp(k->b, src, 16) == 0)
		return 1;
	return -1;
}

static struct vg_flow *
lookup(struct vg_flow_table *t, uint32_t h, const uint8_t *src, uint16_t sport,
       const uint8_t *dst, uint16_t dport, uint8_t proto, uint16_t vlan,
       int *dir)
{
	struct vg_flow *f;

	for (f = t->buckets[h & t->mask]; f != NULL; f = f->hnext) {
		if (f->hash == h &&
		    (*dir = flow_match(f, src, sport, dst, dport, proto,
				       vlan)) >= 0)
			return f;
	}
	return NULL;
}

static uint64_t
new_flow_id(struct vg_flow_table *t)
{
	uint64_t x = ((uint64_t)t->o.worker_id << 56) |
		     (++t->id_counter & 0x00ffffffffffffffULL);
	uint64_t id;

	/* EVE readers parse flow_id as a number; keep it below 2^51 so that
	 * it survives a double too, and never 0. */
	id = mix64(x ^ 0x5646494c564947ULL) & ((1ULL << 51) - 1);
	return id ? id : 1;
}

static struct vg_flow *
flow_create(struct vg_flow_table *t, uint32_t h, const struct vg_pkt *p,
	    int64_t ts_us)
{
	struct vg_flow *f;

	if (t->st.active >= t->o.max_flows && t->list[LRU].head) {
		t->st.evicted++;
		flow_end(t, t->list[LRU].head, VG_FLOW_END_EVICTED, 0);
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		t->st.alloc_failed++;
		return NULL;
	}
	memcpy(f->key.a, p->src, 16);
	memcpy(f->key.b, p->dst, 16);
	f->key.a_port = p->sport;
	f->key.b_port = p->dport;
	f->key.vlan = p->vlan;
	f->key.proto = p->proto;
	f->key.ip_version = p->ip_version;
	f->hash = h;
	f->icmp_type = p->icmp_type;
	f->icmp_code = p->icmp_code;
	f->tunnel = p->tunnel;
	f->first_us = ts_us;
	f->last_us = ts_us;
	f->flow_id = new_flow_id(t);
	f->hnext = t->buckets[h & t->mask];
	t->buckets[h & t->mask] = f;
	list_append(&t->list[LRU], f, LRU);
	list_append(&t->list[DPI], f, DPI);
	f->flags |= VG_FLOW_F_DPI_LIST;
	t->st.active++;
	t->st.created++;
	return f;
}

static void
account(struct vg_flow_table *t, struct vg_flow *f, int dir, int64_t ts_us,
	uint32_t bytes, uint8_t tcp_flags)
{
	if (ts_us - f->first_us >= t->o.active_timeout_us) {
		/* A long-lived flow: report what it did so far and start
		 * counting afresh, keeping its classification. */
		t->st.ended_active++;
		t->o.on_end(t->o.arg, f, VG_FLOW_END_ACTIVE);
		f->pkts[0] = f->pkts[1] = 0;
		f->bytes[0] = f->bytes[1] = 0;
		f->first_us = ts_us;
	}
	f->pkts[dir]++;
	f->bytes[dir] += bytes;
	f->last_us = ts_us;
	if (dir)
		f->flags |= VG_FLOW_F_BIDIR;
	if (f->key.proto == 6) {
		f->tcp_flags[dir] |= tcp_flags;
		/* RST, or FIN seen both ways */
		if ((tcp_flags & 0x04) ||
		    ((f->tcp_flags[0] & 0x01) && (f->tcp_flags[1] & 0x01)))
			f->flags |= VG_FLOW_F_TCP_CLOSED;
	}
	list_touch(&t->list[LRU], f, LRU);
	if (f->flags & VG_FLOW_F_DPI_LIST) {
		if (f->flags & VG_FLOW_F_DPI_DONE)
			dpi_leave(t, f);
		else
			list_touch(&t->list[DPI], f, DPI);
	}
}

/* The slot of p's datagram: addresses, protocol, VLAN and IP id. */
static struct frag_slot *
frag_slot_of(struct vg_flow_table *t, const struct vg_pkt *p)
{
	uint32_t h = vg_flow_shard_hash(p) ^ (uint32_t)mix64(p->frag_id);

	return &t->frags[h & (FRAG_SLOTS - 1)];
}

static void
frag_remember(struct vg_flow_table *t, const struct vg_pkt *p, int64_t ts_us)
{
	struct frag_slot *s = frag_slot_of(t, p);

	memcpy(s->src, p->src, 16);
	memcpy(s->dst, p->dst, 16);
	s->id = p->frag_id;
	s->sport = p->sport;
	s->dport = p->dport;
	s->vlan = p->vlan;
	s->proto = p->proto;
	s->used = 1;
	s->ts_us = ts_us;
}

struct vg_flow *
vg_flow_track(struct vg_flow_table *t, const struct vg_pkt *p, int64_t ts_us,
	      uint32_t bytes, int *dir)
{
	uint32_t h = vg_flow_hash_pkt(p);
	struct vg_flow *f;

	expire(t, ts_us);
	f = lookup(t, h, p->src, p->sport, p->dst, p->dport, p->proto, p->vlan,
		   dir);
	if (f == NULL) {
		f = flow_create(t, h, p, ts_us);
		if (f == NULL)
			return NULL;
		*dir = 0;
	}
	if (p->frag == VG_FRAG_FIRST)
		frag_remember(t, p, ts_us);
	account(t, f, *dir, ts_us, bytes, p->tcp_flags);
	/* Who spoke first: nDPI names the first SSH banner it sees the
	 * client's, whichever side sent it. */
	if (p->payload_len && !(f->flags & VG_FLOW_F_PAYLOAD)) {
		f->flags |= VG_FLOW_F_PAYLOAD;
		if (*dir == 1)
			f->flags |= VG_FLOW_F_SERVER_FIRST;
	}
	return f;
}

void
vg_flow_track_fragment(struct vg_flow_table *t, const struct vg_pkt *p,
		       int64_t ts_us, uint32_t bytes)
{
	struct frag_slot *s = frag_slot_of(t, p);
	struct vg_flow *f;
	int dir;

	expire(t, ts_us);
	/* Fragments of one datagram arrive within seconds; an old slot is
	 * another datagram that happened to reuse the IP id. */
	if (!s->used || s->id != p->frag_id || s->proto != p->proto ||
	    s->vlan != p->vlan || ts_us - s->ts_us > 60 * 1000000LL ||
	    memcmp(s->src, p->src, 16) != 0 ||
	    memcmp(s->dst, p->dst, 16) != 0) {
		t->st.frag_orphan++;
		return;
	}
	f = lookup(
	    t, sym_hash(s->src, s->sport, s->dst, s->dport, s->proto, s->vlan),
	    s->src, s->sport, s->dst, s->dport, s->proto, s->vlan, &dir);
	if (f == NULL) {
		t->st.frag_orphan++;
		return;
	}
	t->st.frag_matched++;
	account(t, f, dir, ts_us, bytes, 0);
}

void
vg_flow_table_stats(const struct vg_flow_table *t,
		    struct vg_flow_table_stats *st)
{
	*st = t->st;
}
