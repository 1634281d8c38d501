/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Definitions every Vigil module shares: the error codes, a few attribute
 * macros and overflow-checked size arithmetic.
 */
#ifndef VG_COMMON_H
#define VG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VG_VERSION "0.1.0"

/* Result codes. Functions that can fail return one of these (0 is success). */
enum vg_err {
	VG_OK = 0,
	VG_ENOMEM,     /* allocation failed */
	VG_EINVAL,     /* bad argument or value */
	VG_ETRUNC,     /* input ended early */
	VG_EMALFORMED, /* input is not what its format says */
	VG_ELIMIT,     /* a configured bound was reached */
	VG_EIO,        /* an operating-system call failed (see errno) */
	VG_EAGAIN,     /* nothing to do now, try again */
};

/* A short, static description of an error code. */
const char *vg_strerror(enum vg_err err);

#define VG_MUST_CHECK   __attribute__((warn_unused_result))
#define VG_UNUSED       __attribute__((unused))
#define VG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_LIKELY(x)    __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x)  __builtin_expect(!!(x), 0)

/*
 * n * size, or 0 with *ovf set when the product does not fit in size_t.
 * Every allocation whose size is a product goes through this.
 */
static inline size_t
vg_mul_size(size_t n, size_t size, int *ovf)
{
	size_t r;

	if (__builtin_mul_overflow(n, size, &r)) {
		*ovf = 1;
		return 0;
	}
	return r;
}

/* calloc-like allocation of n objects of size bytes; NULL on overflow. */
void *vg_calloc(size_t n, size_t size);

/* printf into err (errlen bytes); nothing when err is NULL or errlen 0.
 * For the "char *err, size_t errlen" message buffers of every module. */
void vg_seterr(char *err, size_t errlen, const char *fmt, ...) VG_PRINTF(3, 4);

/*
 * The first len bytes of s, made safe for a message or a log line:
 * printable ASCII as is, any other byte and '\\' and '"' as \xNN, cut
 * with "..." to fit dst (n bytes, at least 8). Returns dst.
 */
const char *vg_escape(char *dst, size_t n, const char *s, size_t len);

/* Whether name ends with one of suffixes (NULL-ended, any case), with
 * something before it. */
int vg_has_suffix(const char *name, const char *const *suffixes);

/*
 * The regular files of folder dir whose names end with one of suffixes,
 * in name order, skipping names that start with '.': fn(path, arg) for
 * each (path borrowed for the call). Sub-folders are never entered, and
 * links are followed only to regular files. 0, or -1 with errno when the
 * folder cannot be read. Rule folders (network and YARA) are read so.
 */
int vg_dir_each(const char *dir, const char *const *suffixes,
		void (*fn)(const char *path, void *arg), void *arg);

/*
 * The first line of the secret file path (a password file): an owned
 * copy (free() after wiping it) without the line end; NULL when the file
 * cannot be read, its first line is empty or longer than VG_SECRET_MAX
 * bytes (never cut short), with err saying which ("KEY: PATH: why"; the
 * secret itself never appears). Only the first line is read.
 */
#define VG_SECRET_MAX 4095u
char *vg_read_secret(const char *path, const char *key, char *err,
		     size_t errlen);

/* Monotonic and wall clocks, in microseconds. */
/*
 * Read size bytes of fd from offset 0 (pread: its offset is not moved)
 * into *buf (grown to size + 1 bytes when smaller: *cap). A file that
 * shrank meanwhile gives what is there. The bytes read, or -1 (errno).
 */
ssize_t vg_read_whole(int fd, size_t size, unsigned char **buf, size_t *cap);

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left: 1 for
 * ASCII), or 0 when there is none. RFC 3629, as jansson checks it: no
 * overlong forms, no surrogates, nothing past U+10FFFF.
 */
size_t vg_utf8_len(const unsigned char *s, size_t n);

/* Write all n bytes at p to fd, retrying short writes and EINTR. 0, or
 * -1 with errno set. */
int vg_write_all(int fd, const void *p, size_t n);

/* fsync(2) the folder dir, so that what was made or removed in it stays
 * so. 0, or -1 with errno set. */
int vg_fsync_dir(const char *dir);

/* The SHA-256 of n bytes at p in lower-case hex; "" if OpenSSL fails. */
void vg_sha256_hex(char out[65], const void *p, size_t n);

/* The SHA-256 of n bytes at p, raw, into out. 0, or -1 if OpenSSL
 * fails. */
int vg_sha256(const void *p, size_t n, uint8_t out[32]);

/* Lower-case hex of n bytes at src into dst (2n + 1 bytes, NUL-ended).
 * Returns dst. */
char *vg_hex_encode(char *dst, const void *src, size_t n);

/* Exactly 2 * len hex digits (either case) of s[0..n) into dst (len
 * bytes). 0, or -1 when n is not 2 * len or a digit is not hex. */
int vg_hex_decode(uint8_t *dst, size_t len, const char *s, size_t n);

int64_t vg_now_mono_us(void);
int64_t vg_now_wall_us(void);

#endif /* VG_COMMON_H */
