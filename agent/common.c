/* SPDX-License-Identifier: Apache-2.0 */
/* Error strings, checked allocation and clocks shared by every module. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

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

void
vg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
vg_escape(char *dst, size_t n, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need =
		    c >= 0x20 && c < 0x7f && c != '\\' && c != '"' ? 1 : 4;

		if (o + need + 4 > n) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hexd[c >> 4];
			dst[o++] = hexd[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

int
vg_has_suffix(const char *name, const char *const *suffixes)
{
	size_t n = strlen(name), m;

	for (; *suffixes; suffixes++) {
		m = strlen(*suffixes);
		if (n > m && strcasecmp(name + n - m, *suffixes) == 0)
			return 1;
	}
	return 0;
}

int
vg_dir_each(const char *dir, const char *const *suffixes,
	    void (*fn)(const char *path, void *arg), void *arg)
{
	struct dirent **ents;
	int n, i;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char full[PATH_MAX];
		struct stat sb;

		if (name[0] != '.' && vg_has_suffix(name, suffixes) &&
		    (size_t)snprintf(full, sizeof(full), "%s/%s", dir, name) <
			sizeof(full) &&
		    stat(full, &sb) == 0 && S_ISREG(sb.st_mode))
			fn(full, arg);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

char *
vg_read_secret(const char *path, const char *key, char *err, size_t errlen)
{
	char line[VG_SECRET_MAX + 1], *out;
	FILE *f = fopen(path, "re");
	size_t n;
	int c = EOF;

	if (f == NULL) {
		vg_seterr(err, errlen, "%s: %s: %s", key, path,
			  strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	n = strlen(line);
	/* The buffer filled before the line's end: more to come unless
	 * the file ends there. Refused, never cut short. */
	if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
		c = fgetc(f);
		if (c == '\r')
			c = fgetc(f); /* a CRLF end */
	}
	fclose(f);
	if (c != EOF && c != '\n') {
		explicit_bzero(line, sizeof(line));
		vg_seterr(err, errlen,
			  "%s: %s: the first line is longer than %u bytes", key,
			  path, (unsigned)VG_SECRET_MAX);
		return NULL;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0) {
		vg_seterr(err, errlen, "%s: %s: the first line is empty", key,
			  path);
		return NULL;
	}
	out = strdup(line);
	explicit_bzero(line, sizeof(line));
	if (out == NULL)
		vg_seterr(err, errlen, "%s: out of memory", key);
	return out;
}

ssize_t
vg_read_whole(int fd, size_t size, unsigned char **buf, size_t *cap)
{
	size_t got = 0;

	if (size + 1 > *cap) {
		unsigned char *nb = realloc(*buf, size + 1);

		if (nb == NULL)
			return -1;
		*buf = nb;
		*cap = size + 1;
	}
	while (got < size) {
		ssize_t r = pread(fd, *buf + got, size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* shrank meanwhile: what is there */
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * The valid UTF-8 sequence at s: see common.h.
 */
size_t
vg_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int
vg_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
vg_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	(void)close(fd);
	errno = e;
	return rc;
}

/* Fetched once: an implicit fetch per digest (EVP_sha256()) takes the
 * provider store's lock each time, which file scanning threads share. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
vg_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned len = 0;

	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md != NULL &&
		       EVP_Digest(p, n, out, &len, sha256_md, NULL) == 1 &&
		       len == 32
		   ? 0
		   : -1;
}

void
vg_sha256_hex(char out[65], const void *p, size_t n)
{
	uint8_t md[32];

	if (vg_sha256(p, n, md) != 0) {
		out[0] = '\0';
		return;
	}
	vg_hex_encode(out, md, sizeof(md));
}

char *
vg_hex_encode(char *dst, const void *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[p[i] >> 4];
		dst[2 * i + 1] = digits[p[i] & 15];
	}
	dst[2 * n] = '\0';
	return dst;
}

static int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
vg_hex_decode(uint8_t *dst, size_t len, const char *s, size_t n)
{
	size_t i;

	if (n != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]);
		int lo = hex_digit((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
