/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GeoIP and ASN enrichment: the country and autonomous system of a public
 * address, read from MaxMind DB (.mmdb) files.
 *
 * The databases are opened off the packet path (at start and on reload) and
 * mapped read-only; worker threads then look addresses up concurrently in
 * the same handle, each through its own small cache. A reload opens a new
 * handle, hands it to the workers with a new generation number, and closes
 * the old one once no worker can still be using it. Two layouts are
 * understood: MaxMind's GeoLite2/GeoIP2 (and DB-IP lite, which copies it)
 * and the ip-location-db files that packaging/fetch-geoip.sh obtains.
 * This is the only module that includes maxminddb.h.
 */
#ifndef VG_GEOIP_H
#define VG_GEOIP_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_geoip;

/*
 * Open the country database, the ASN database, or both (a NULL or empty
 * path: none; at least one must be given). Files are mapped, not read.
 *
 * A country database must hold country.iso_code or
 * registered_country.iso_code (GeoLite2/GeoIP2 Country or City, DB-IP
 * lite) or a top-level country_code (ip-location-db); an ASN database
 * autonomous_system_number, as a number or a string (GeoLite2-ASN, DB-IP
 * ASN lite, ip-location-db asn). This is checked on a sample of records.
 *
 * On success *out is owned by the caller (vg_geoip_close). On failure
 * *out is NULL and err (errlen bytes, may be 0) holds one line naming the
 * path and libmaxminddb's or the layout check's reason.
 * Returns VG_OK; VG_EIO when a file cannot be opened or read; VG_EMALFORMED
 * when it is not a valid MaxMind DB; VG_EINVAL for no path at all, or a
 * database with neither layout we know; VG_ENOMEM.
 */
enum vg_err vg_geoip_open(struct vg_geoip **out, const char *country_db,
			  const char *asn_db, char *err,
			  size_t errlen) VG_MUST_CHECK;

/* Unmap and free g. No lookup may be running on it. Accepts NULL. */
void vg_geoip_close(struct vg_geoip *g);

/*
 * One line describing the open databases, for the log at start and reload:
 * "country: PATH (TYPE, built YYYY-MM-DD); asn: PATH (...)".
 * Always NUL-terminates out (len > 0).
 */
void vg_geoip_describe(const struct vg_geoip *g, char *out, size_t len);

/* What is known of an address. Plain value, kept by the caller. */
struct vg_geo {
	char country[3]; /* ISO 3166-1 alpha-2, upper case; "" when unknown */
	uint32_t asn;    /* 0 when unknown */
	char as_org[96]; /* "" when unknown; cut to fit, at a UTF-8 character
			    boundary; control characters and invalid UTF-8
			    bytes become '?' */
};

/*
 * Look addr up (ip_version 4 or 6; IPv4 in the first 4 bytes, the rest
 * ignored). An IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96)
 * address is looked up as its IPv4 address. Fills *out and returns true
 * when anything is known; returns false with *out zeroed when g is NULL,
 * addr is not public (vg_ip_is_public, checked before any lookup) or
 * nothing is known. Safe from any number of threads at once on the same g.
 * A database error on a lookup (a corrupt file) counts as nothing known
 * and is counted (vg_geoip_errors).
 */
bool vg_geoip_lookup(const struct vg_geoip *g, uint8_t ip_version,
		     const uint8_t addr[16], struct vg_geo *out);

/* Lookups that failed on a database error since g was opened. */
uint64_t vg_geoip_errors(const struct vg_geoip *g);

/*
 * False for addresses that are private or special-purpose, where a
 * country means nothing:
 *   IPv4: 0/8, 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16, 172.16/12,
 *         192.0.0/24 (IETF protocol assignments), 192.168/16,
 *         198.18/15 (benchmarking), 224/4 (multicast), 240/4 (reserved,
 *         with 255.255.255.255).
 *   IPv6: ::/128, ::1/128, 100::/64 (discard), 2001:2::/48
 *         (benchmarking), fc00::/7, fe80::/10, fec0::/10 (old site-local),
 *         ff00::/8; ::ffff:0:0/96 and 64:ff9b::/96 by their IPv4 part.
 * The documentation networks (192.0.2/24, 198.51.100/24, 203.0.113/24,
 * 2001:db8::/32) count as PUBLIC: test captures and examples use them as
 * the foreign side. True for every other address; false for an
 * ip_version other than 4 or 6.
 */
bool vg_ip_is_public(uint8_t ip_version, const uint8_t addr[16]);

/*
 * A per-thread cache in front of vg_geoip_lookup: direct-mapped, keyed by
 * address, negative answers cached too. Never shared between threads
 * (no locking). The caller passes the reader and a generation number it
 * bumps on every reload; a change of either empties the cache, so no
 * answer of an old database outlives it.
 */
struct vg_geo_cache;

/*
 * A cache of slots entries (0: 4096; otherwise rounded up to a power of
 * two, at most 1048576). *out is owned (vg_geo_cache_free).
 * VG_OK, VG_EINVAL (too many slots), VG_ENOMEM.
 */
enum vg_err vg_geo_cache_new(struct vg_geo_cache **out,
			     unsigned slots) VG_MUST_CHECK;

/* Free c. Accepts NULL. */
void vg_geo_cache_free(struct vg_geo_cache *c);

/*
 * vg_geoip_lookup(g, ...) through the cache. Addresses that are not
 * public are answered at once, neither cached nor counted; every other
 * call counts one hit or one miss. g is borrowed for the call.
 */
bool vg_geo_cache_lookup(struct vg_geo_cache *c, const struct vg_geoip *g,
			 uint64_t generation, uint8_t ip_version,
			 const uint8_t addr[16], struct vg_geo *out);

struct vg_geo_cache_stats {
	uint64_t hits, misses;
};

/* Counters since the cache was made (clearing it keeps them). */
void vg_geo_cache_stats(const struct vg_geo_cache *c,
			struct vg_geo_cache_stats *st);

#endif /* VG_GEOIP_H */
