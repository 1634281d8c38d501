/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Indicator-of-compromise (IoC) lists and IP prefix sets.
 *
 * The network detection engine matches flows against lists of bad IP
 * addresses and prefixes, domains, JA3 fingerprints and SHA-256 file
 * hashes, each list loaded from a text file. Lists are built at start and
 * on reload by the control thread, off the packet path; once loaded a list
 * is immutable, and any number of worker threads look it up at once with
 * no lock (lookups only read). A reload builds a new list and swaps the
 * pointer; freeing the old one is the caller's business (after every
 * worker has moved on).
 *
 * The prefix set (struct vg_cidr_set) is also what home_net and rule
 * address lists are made of. Host routes (/32, /128), which make up nearly
 * all of a real feed, live in open-addressing hash sets (one probe, about
 * 8 bytes per IPv4 address); shorter prefixes live in a path-compressed
 * binary trie per family (a walk of at most 32 or 128 bits).
 *
 * List file format
 * ----------------
 * Text, one entry per line, LF or CRLF line ends, lines of at most
 * VG_IOC_MAX_LINE bytes.
 *
 *  - Blank lines, and lines whose first non-blank character is '#', are
 *    skipped; a '#' after the value starts a comment too.
 *  - CSV and TSV feeds work as they are: the value is the first field (up
 *    to the first ',', ';' or tab); spaces and one pair of double quotes
 *    around it are stripped; the rest of the line (dates, descriptions)
 *    is ignored.
 *  - The first non-comment line may be a header: it is skipped when its
 *    first field is not a valid entry and is a word (a letter, then
 *    letters, digits and underscores, with at least one letter past 'f'
 *    so that it cannot be a cut hash): "ip,first_seen", "domain",
 *    "sha256_hash", "ja3_md5". Any other invalid value, anywhere, is an
 *    error.
 *  - ip: an IPv4 or IPv6 address or prefix ("192.0.2.1", "10.0.0.0/8",
 *    "2001:db8::/32", "::1"). Host bits set below the prefix length
 *    ("10.0.0.1/8") are an error, because such a line is usually a typo
 *    whose intended meaning cannot be guessed.
 *  - domain: a host name, lower-cased; one leading "*." or "." and one
 *    trailing "." are dropped. Labels of [a-z0-9_-], 1 to 63 characters,
 *    at least two labels, at most 253 characters in all; internationalised
 *    names must be in their punycode ("xn--") form. Values with '/' or ':'
 *    (URLs, host:port) are refused. An entry matches the name itself and
 *    every name below it. A single label ("com") is refused: it would
 *    match a whole top-level domain, which is far more often a mistake (or
 *    a CSV header) than an intent.
 *  - ja3: an MD5 fingerprint, exactly 32 hex digits, any case.
 *  - sha256: exactly 64 hex digits, any case.
 *  - Duplicates are allowed and counted once.
 */
#ifndef VG_IOC_H
#define VG_IOC_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Longest line of a list file, in bytes, without its line end. */
#define VG_IOC_MAX_LINE 4096
/* Most entries in one list, and most prefixes in one set. */
#define VG_IOC_MAX_ENTRIES (32u * 1024 * 1024)
/* Error lines vg_ioc_list_load() writes before summing up the rest. */
#define VG_IOC_MAX_ERRORS 20

/*
 * A set of IPv4 and IPv6 prefixes. Addresses are in network byte order,
 * IPv4 in the first 4 bytes of the 16; ip_version is 4 or 6. The two
 * families never match each other (an IPv4-mapped IPv6 address is IPv6).
 */
struct vg_cidr_set;

/* A new empty set (owned: free with vg_cidr_set_free). VG_OK, VG_ENOMEM. */
enum vg_err vg_cidr_set_new(struct vg_cidr_set **out) VG_MUST_CHECK;
/* Free the set; accepts NULL. */
void vg_cidr_set_free(struct vg_cidr_set *s);

/*
 * Parse "10.0.0.0/8", "192.0.2.1", "2001:db8::/32" or "::1" (an address
 * alone is a /32 or /128). No spaces, no leading zeros in the length.
 * VG_OK, or VG_EINVAL for bad syntax, a length beyond 32 or 128, or host
 * bits set below the length ("10.0.0.1/8"). The outputs are written only
 * on VG_OK; addr is zero past the address (bytes 4..15 for IPv4).
 */
enum vg_err vg_cidr_parse(const char *text, uint8_t *ip_version,
			  uint8_t addr[16], unsigned *prefix_len) VG_MUST_CHECK;

/*
 * Add a prefix (copies). VG_OK (also when it was there already),
 * VG_EINVAL for a bad version or length or host bits set, VG_ENOMEM, or
 * VG_ELIMIT once the set holds VG_IOC_MAX_ENTRIES prefixes. On failure
 * the set is as it was.
 */
enum vg_err vg_cidr_set_add(struct vg_cidr_set *s, uint8_t ip_version,
			    const uint8_t addr[16],
			    unsigned prefix_len) VG_MUST_CHECK;

/*
 * True when addr is inside any prefix of the set. Read-only: safe from any
 * number of threads once no one adds. False for a NULL set or a version
 * other than 4 and 6.
 */
bool vg_cidr_set_contains(const struct vg_cidr_set *s, uint8_t ip_version,
			  const uint8_t addr[16]);

/* Distinct prefixes added (10.0.0.0/8 and 10.1.0.0/16 are two). */
size_t vg_cidr_set_count(const struct vg_cidr_set *s);

/* Heap bytes the set holds (for stats and sizing). */
size_t vg_cidr_set_memory(const struct vg_cidr_set *s);

enum vg_ioc_type {
	VG_IOC_IP = 0,
	VG_IOC_DOMAIN,
	VG_IOC_JA3,
	VG_IOC_SHA256,
};

/* "ip", "domain", "ja3", "sha256" (exactly) to the type; -1 if unknown. */
int vg_ioc_type_from_name(const char *name);
/* The type's name (static); "unknown" for a value outside the enum. */
const char *vg_ioc_type_name(enum vg_ioc_type t);

/* One loaded list: immutable, shared read-only by the workers. */
struct vg_ioc_list;

/*
 * Load the list file at path (see the format above) as a list of the
 * given type, called name (copied; used in events and logs).
 *
 * Problems go to errs (may be NULL), one line each,
 * "PATH:LINE: MESSAGE\n", where MESSAGE ends with ": \"VALUE\"" when a
 * value is at fault; path and value are escaped (\xHH for non-printable
 * bytes, \" and \\, values cut after 64 bytes with "..."). LINE is 0
 * when the file cannot be opened or read. After VG_IOC_MAX_ERRORS lines,
 * the rest are summed up as "PATH: N more errors\n".
 *
 * Returns VG_OK and the list in *out (owned: free with vg_ioc_list_free);
 * otherwise *out is untouched and nothing is kept:
 *  VG_EINVAL  a bad line (every bad line is reported), or a bad argument
 *  VG_EIO     the file cannot be opened or read (errno describes why)
 *  VG_ELIMIT  more than VG_IOC_MAX_ENTRIES entries, or over 4 GiB of names
 *  VG_ENOMEM  out of memory
 */
enum vg_err vg_ioc_list_load(struct vg_ioc_list **out, const char *name,
			     enum vg_ioc_type type, const char *path,
			     FILE *errs) VG_MUST_CHECK;
/* Free the list; accepts NULL. */
void vg_ioc_list_free(struct vg_ioc_list *l);

/* The list's name (borrowed: valid until the list is freed). */
const char *vg_ioc_list_name(const struct vg_ioc_list *l);
/* The list's type (VG_IOC_IP for NULL). */
enum vg_ioc_type vg_ioc_list_type(const struct vg_ioc_list *l);
/* Distinct entries. */
size_t vg_ioc_list_count(const struct vg_ioc_list *l);
/* Heap bytes the list holds. */
size_t vg_ioc_list_memory(const struct vg_ioc_list *l);

/*
 * Lookups. Read-only and lock-free: any number of threads may call them at
 * once on a loaded list. Each returns false for a NULL list or argument,
 * or when the list is of another type.
 */

/* addr inside any address or prefix of an ip list (see vg_cidr_set). */
bool vg_ioc_match_ip(const struct vg_ioc_list *l, uint8_t ip_version,
		     const uint8_t addr[16]);

/*
 * name or one of its parent domains is listed: "example.com" matches
 * "example.com" and "a.b.example.com", not "badexample.com". ASCII
 * case-insensitive; one trailing dot is ignored. Names longer than 253
 * characters never match. Costs one probe per label of name.
 */
bool vg_ioc_match_domain(const struct vg_ioc_list *l, const char *name);

/*
 * hex is listed in a ja3 (32 hex digits) or sha256 (64 hex digits) list,
 * any case. Any other length, or a non-hex digit, is no match.
 */
bool vg_ioc_match_hash(const struct vg_ioc_list *l, const char *hex);

#endif /* VG_IOC_H */
