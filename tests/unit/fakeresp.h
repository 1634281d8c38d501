/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the unit tests' fake Redis servers share: reading one client
 * command (RESP: an array of bulk strings) and writing a reply whole.
 * Include after <sys/socket.h>.
 */
#ifndef VG_FAKERESP_H
#define VG_FAKERESP_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* A decimal number ending in CRLF at b[*pos]: 1 done, 0 more, -1 bad. */
static inline int
resp_num(const char *b, size_t n, size_t *pos, long *v)
{
	size_t i = *pos;

	*v = 0;
	while (i < n && b[i] >= '0' && b[i] <= '9') {
		if (*v > 100000)
			return -1;
		*v = *v * 10 + (b[i] - '0');
		i++;
	}
	if (i + 2 > n)
		return 0;
	if (i == *pos || b[i] != '\r' || b[i + 1] != '\n')
		return -1;
	*pos = i + 2;
	return 1;
}

/*
 * One client command (an array of bulk strings) at the start of b: 1
 * with its length in *used and its name, 0 when incomplete, -1 when it
 * is no such thing.
 */
static inline int
resp_command(const char *b, size_t n, size_t *used, const char **name,
	     size_t *name_len)
{
	size_t pos = 1;
	long argc, len, i;
	int rc;

	if (n < 1)
		return 0;
	if (b[0] != '*')
		return -1;
	if ((rc = resp_num(b, n, &pos, &argc)) <= 0)
		return rc;
	for (i = 0; i < argc; i++) {
		if (pos >= n)
			return 0;
		if (b[pos++] != '$')
			return -1;
		if ((rc = resp_num(b, n, &pos, &len)) <= 0)
			return rc;
		if (pos + (size_t)len + 2 > n)
			return 0;
		if (i == 0) {
			*name = b + pos;
			*name_len = (size_t)len;
		}
		pos += (size_t)len + 2;
	}
	*used = pos;
	return argc > 0 ? 1 : -1;
}

static inline void
send_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the client went away */
		p += w;
		n -= (size_t)w;
	}
}

#endif /* VG_FAKERESP_H */
