/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What several unit tests share: formatted strings and assertions that
 * say what went wrong. Include after cmocka.h.
 */
#ifndef VG_TESTUTIL_H
#define VG_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* printf into a new string (owned). */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
strf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	return s;
}

/* rc must be VG_OK, else err is shown. Each argument is evaluated once
 * (rc is often the call under test). */
#define assert_ok(rc, err)                                                     \
	do {                                                                   \
		int rc_ = (int)(rc);                                           \
		if (rc_ != VG_OK)                                              \
			print_error("error %d: %s\n", rc_, (err));             \
		assert_int_equal(rc_, VG_OK);                                  \
	} while (0)

/* s must contain sub. */
#define assert_contains(s, sub)                                                \
	do {                                                                   \
		const char *s_ = (s), *sub_ = (sub);                           \
		if (strstr(s_, sub_) == NULL)                                  \
			print_error("\"%s\" lacks \"%s\"\n", s_, sub_);        \
		assert_non_null(strstr(s_, sub_));                             \
	} while (0)

#endif /* VG_TESTUTIL_H */
