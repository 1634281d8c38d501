/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a hard size cap fixed at init.
 *
 * Used to build event JSON and other output. An append that would pass the
 * cap fails with VG_ELIMIT and leaves the buffer as it was before the call,
 * so a caller can drop one oversized event without losing the others.
 */
#ifndef VG_BUF_H
#define VG_BUF_H

#include "common.h"

struct vg_buf {
	char *data; /* owned; always NUL-terminated when len > 0 */
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard cap on len */
};

/* Caller's storage: start empty with a cap of max bytes (no allocation yet). */
void vg_buf_init(struct vg_buf *b, size_t max);
/* Release the storage; b may be reused after vg_buf_init. */
void vg_buf_fini(struct vg_buf *b);
/* Forget the contents, keep the storage. */
static inline void
vg_buf_reset(struct vg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes. VG_OK, VG_ENOMEM or VG_ELIMIT. */
enum vg_err vg_buf_reserve(struct vg_buf *b, size_t n) VG_MUST_CHECK;
/* Append n bytes (copies). VG_OK, VG_ENOMEM or VG_ELIMIT. */
enum vg_err vg_buf_append(struct vg_buf *b, const void *p,
			  size_t n) VG_MUST_CHECK;
/* Append a NUL-terminated string (copies). */
enum vg_err vg_buf_puts(struct vg_buf *b, const char *s) VG_MUST_CHECK;
/* Append one byte. */
enum vg_err vg_buf_putc(struct vg_buf *b, char c) VG_MUST_CHECK;
/* Append printf-formatted text. */
enum vg_err vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) VG_MUST_CHECK;

#endif /* VG_BUF_H */
