/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the RESP replies the agent reads (agent/redis.c): the
 * input is a server's byte stream, fed in pieces (the first byte picks
 * their size: 1 to 256 bytes, as short reads) through the same bound
 * checks and hiredis reader as a connection's replies. Every reply tree
 * handed out must respect the VG_REDIS_MAX_* bounds and be well formed.
 */
#include "redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

static size_t
walk(const struct vg_redis_reply *r, unsigned depth)
{
	size_t i, nodes = 1;

	if (r == NULL || depth > VG_REDIS_MAX_DEPTH + 1)
		abort();
	switch (r->type) {
	case VG_REPLY_ARRAY:
		if (r->n > VG_REDIS_MAX_ELEMENTS ||
		    (r->n > 0 && r->elements == NULL))
			abort();
		for (i = 0; i < r->n; i++)
			nodes += walk(r->elements[i], depth + 1);
		break;
	case VG_REPLY_STRING:
	case VG_REPLY_STATUS:
	case VG_REPLY_ERROR:
		if (r->str == NULL || r->len > VG_REDIS_MAX_BULK ||
		    r->str[r->len] != '\0')
			abort();
		break;
	case VG_REPLY_INTEGER:
	case VG_REPLY_NIL:
		break;
	default:
		abort();
	}
	return nodes;
}

static void
each(const struct vg_redis_reply *r, void *arg)
{
	(void)arg;
	if (walk(r, 0) > VG_REDIS_MAX_NODES)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	unsigned n = 0, n2 = 0;
	enum vg_err rc, rc2;

	if (size < 1)
		return 0;
	rc = vg_redis_parse_stream(data + 1, size - 1, (size_t)data[0] + 1,
				   each, NULL, &n, err, sizeof(err));
	if (rc != VG_OK && rc != VG_EIO)
		abort();
	/* The same bytes in one piece give the same replies and verdict. */
	rc2 = vg_redis_parse_stream(data + 1, size - 1, 0, each, NULL, &n2, err,
				    sizeof(err));
	if (rc2 != rc || (rc == VG_OK && n2 != n)) {
		fprintf(stderr, "pieces %u: %d, %u replies; whole: %d, %u\n",
			data[0] + 1, rc, n, rc2, n2);
		abort();
	}
	return 0;
}
