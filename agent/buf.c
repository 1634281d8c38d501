/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer with a hard cap; see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
vg_buf_init(struct vg_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
vg_buf_fini(struct vg_buf *b)
{
	free(b->data);
	vg_buf_init(b, b->max);
}

enum vg_err
vg_buf_reserve(struct vg_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return VG_ELIMIT;
	need = b->len + n + 1; /* room for the NUL */
	if (need <= b->cap)
		return VG_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (p == NULL)
		return VG_ENOMEM;
	b->data = p;
	b->cap = cap;
	return VG_OK;
}

enum vg_err
vg_buf_append(struct vg_buf *b, const void *p, size_t n)
{
	enum vg_err err;

	if ((err = vg_buf_reserve(b, n)) != VG_OK)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return VG_OK;
}

enum vg_err
vg_buf_puts(struct vg_buf *b, const char *s)
{
	return vg_buf_append(b, s, strlen(s));
}

enum vg_err
vg_buf_putc(struct vg_buf *b, char c)
{
	return vg_buf_append(b, &c, 1);
}

enum vg_err
vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	enum vg_err err;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return VG_EINVAL;
	if ((err = vg_buf_reserve(b, (size_t)n)) != VG_OK)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return VG_OK;
}
