/* SPDX-License-Identifier: Apache-2.0 */
/* Error strings, checked allocation and clocks shared by every module. */
#include "common.h"

#include <stdlib.h>
#include <time.h>

const char *
vg_strerror(enum vg_err err)
{
	switch (err) {
	case VG_OK:
		return "success";
	case VG_ENOMEM:
		return "out of memory";
	case VG_EINVAL:
		return "invalid argument";
	case VG_ETRUNC:
		return "truncated input";
	case VG_EMALFORMED:
		return "malformed input";
	case VG_ELIMIT:
		return "limit reached";
	case VG_EIO:
		return "input/output error";
	case VG_EAGAIN:
		return "try again";
	}
	return "unknown error";
}

void *
vg_calloc(size_t n, size_t size)
{
	int ovf = 0;

	(void)vg_mul_size(n, size, &ovf);
	if (ovf)
		return NULL;
	return calloc(n, size);
}

static int64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
vg_now_mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

int64_t
vg_now_wall_us(void)
{
	return clock_us(CLOCK_REALTIME);
}
