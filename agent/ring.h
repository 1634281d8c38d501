/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Single-producer single-consumer byte ring carrying variable-size records
 * from a capture thread to a worker.
 *
 * Records are 8-byte aligned and never wrap: when one does not fit before
 * the end of the buffer, the producer fills the rest with a padding record
 * and starts again at offset 0. Positions only grow (64-bit), so full and
 * empty are told apart without a spare slot. The producer publishes with a
 * release store, the consumer reads with an acquire load; each side keeps a
 * cached copy of the other's position to touch the shared line rarely.
 */
#ifndef VG_RING_H
#define VG_RING_H

#include "common.h"

#include <stdatomic.h>
#include <stdlib.h>

#define VG_RING_PAD 0u /* record type of padding */

struct vg_ring_rec {
	uint32_t size; /* whole record, header included, multiple of 8 */
	uint32_t type; /* VG_RING_PAD or the user's type */
};

struct vg_ring {
	uint8_t *buf;
	uint64_t mask;
	uint64_t cap;
	_Alignas(64) _Atomic uint64_t head; /* written by the producer */
	uint64_t tail_cache;                /* producer's view of tail */
	_Alignas(64) _Atomic uint64_t tail; /* written by the consumer */
	uint64_t head_cache;                /* consumer's view of head */
	uint64_t pending;                   /* consumer: size being read */
};

/* cap_bytes must be a power of two >= 4096. VG_OK, VG_EINVAL, VG_ENOMEM. */
static inline enum vg_err
vg_ring_init(struct vg_ring *r, uint64_t cap_bytes)
{
	if (cap_bytes < 4096 || (cap_bytes & (cap_bytes - 1)))
		return VG_EINVAL;
	r->buf = aligned_alloc(64, cap_bytes);
	if (r->buf == NULL)
		return VG_ENOMEM;
	r->cap = cap_bytes;
	r->mask = cap_bytes - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->tail_cache = 0;
	r->head_cache = 0;
	r->pending = 0;
	return VG_OK;
}

static inline void
vg_ring_fini(struct vg_ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/*
 * Producer: room for a record of `len` payload bytes, or NULL when the ring
 * is full now (try again later). The returned payload pointer is valid until
 * vg_ring_commit(). len must be well below the capacity.
 */
static inline void *
vg_ring_reserve(struct vg_ring *r, uint32_t len, uint32_t type)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t size = (sizeof(struct vg_ring_rec) + len + 7) & ~7ull;
	uint64_t off = head & r->mask;
	uint64_t pad = (off + size > r->cap) ? r->cap - off : 0;
	struct vg_ring_rec *rec;

	if (head + pad + size - r->tail_cache > r->cap) {
		r->tail_cache =
		    atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + pad + size - r->tail_cache > r->cap)
			return NULL;
	}
	if (pad) {
		rec = (struct vg_ring_rec *)(void *)(r->buf + off);
		rec->size = (uint32_t)pad;
		rec->type = VG_RING_PAD;
		head += pad;
		atomic_store_explicit(&r->head, head, memory_order_release);
		off = 0;
	}
	rec = (struct vg_ring_rec *)(void *)(r->buf + off);
	rec->size = (uint32_t)size;
	rec->type = type;
	return rec + 1;
}

/* Producer: publish the record last reserved. */
static inline void
vg_ring_commit(struct vg_ring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	struct vg_ring_rec *rec =
	    (struct vg_ring_rec *)(void *)(r->buf + (head & r->mask));

	atomic_store_explicit(&r->head, head + rec->size, memory_order_release);
}

/* Consumer: the next record (payload pointer, *type and *len set), or NULL
 * when the ring is empty. Call vg_ring_release() when done with it. */
static inline void *
vg_ring_peek(struct vg_ring *r, uint32_t *type, uint32_t *len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct vg_ring_rec *rec;

	for (;;) {
		if (tail == r->head_cache) {
			r->head_cache = atomic_load_explicit(
			    &r->head, memory_order_acquire);
			if (tail == r->head_cache)
				return NULL;
		}
		rec = (struct vg_ring_rec *)(void *)(r->buf + (tail & r->mask));
		if (rec->type != VG_RING_PAD)
			break;
		tail += rec->size;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
	*type = rec->type;
	*len = rec->size - (uint32_t)sizeof(*rec);
	r->pending = rec->size;
	return rec + 1;
}

/* Consumer: free the record returned by the last vg_ring_peek(). */
static inline void
vg_ring_release(struct vg_ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, tail + r->pending,
			      memory_order_release);
	r->pending = 0;
}

#endif /* VG_RING_H */
