/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YARA: compiled rule sets and the scanners that run them. The one module
 * that includes libyara.
 *
 * A rule set (struct vg_yara) is compiled once, off the scanning path, and
 * shared read-only by every scanner thread; it is reference-counted so that
 * a reload can put a new set in force while scans under the old one finish.
 * Each thread owns a scanner (one YR_SCANNER) and gets its results as plain
 * records (struct vg_file_match, event.h) that the EVE encoder writes out:
 * the rule's name, namespace, tags, meta, and the identifiers and offsets of
 * the strings that matched, never the matched bytes.
 */
#ifndef VG_YARASCAN_H
#define VG_YARASCAN_H

#include "common.h"
#include "event.h"

#include <stdio.h>

/* Most matches a scan reports; more matching rules are counted only. */
#define VG_YARA_MAX_MATCHES 64
/* Strings reported per matching rule, offsets kept per string. */
#define VG_YARA_MAX_STRINGS 32
#define VG_YARA_MAX_OFFSETS 8

struct vg_yara;
struct vg_yara_scanner;

/*
 * Load a rule set from paths: YARA source files (any name when named
 * directly), folders (their *.yar and *.yara files in name order; not
 * sub-folders or dot files), or one compiled file (*.yarc, from yarac or
 * `yara -C`'s format, alone in the list). All sources share YARA's
 * "default" namespace, as with the yara command. Every compiler error and
 * warning is written to errs (may be NULL) as "FILE:LINE: error: MESSAGE";
 * errors in several files are all reported.
 *
 * Rule metadata the agent reads (see rules/yara/README.md): sid (integer:
 * alert.signature_id; without it a stable id of 2^31 or more is derived from
 * the rule's name), rev, severity (critical|high|medium|low|info), category,
 * mitre (technique ids, separated by commas or spaces), description.
 *
 * Returns VG_OK (*out owned: vg_yara_unref), VG_EINVAL (compile errors,
 * a bad path, or a .yarc mixed with sources), VG_EIO (unreadable file or
 * an invalid .yarc) or VG_ENOMEM.
 */
enum vg_err vg_yara_load(struct vg_yara **out, char *const *paths, unsigned n,
			 FILE *errs) VG_MUST_CHECK;

/* References: a scanner holds one; the owner of a loaded set holds one.
 * unref accepts NULL and frees the set with the last reference. */
void vg_yara_ref(struct vg_yara *y);
void vg_yara_unref(struct vg_yara *y);

/* A number unique to this set in this process, increasing with each load:
 * the verdict cache keys on it. */
uint64_t vg_yara_version(const struct vg_yara *y);

/* Rules in the set (private ones included), and files it came from. */
unsigned vg_yara_rule_count(const struct vg_yara *y);
unsigned vg_yara_file_count(const struct vg_yara *y);

/* Rule i (0 <= i < vg_yara_rule_count) as alerts describe it (borrowed,
 * valid while the set lives). */
const struct vg_file_rule *vg_yara_rule(const struct vg_yara *y, unsigned i);

/* The index i of a rule description r (vg_yara_rule(y, i) == r), or
 * UINT_MAX when r is not one of y's. */
unsigned vg_yara_rule_index(const struct vg_yara *y,
			    const struct vg_file_rule *r);

/* The identifier ("$a") of string k of rule i, in the rule's order (the
 * idx of struct vg_file_string), or NULL when there is none. Borrowed. */
const char *vg_yara_rule_string(const struct vg_yara *y, unsigned i,
				unsigned k);

/*
 * The compiled set y as libyara saves it, in a sealed memfd made at the
 * first call and owned by y (do not close it; it goes with y): what a
 * scanner child (scanchild.h) is sent instead of the sources. -1 with
 * errno on failure.
 */
int vg_yara_memfd(struct vg_yara *y);

/*
 * Load a set saved by vg_yara_memfd from fd (read with pread from offset
 * 0; fd stays the caller's). It gets a version of this process's own.
 * VG_OK (*out owned: vg_yara_unref), VG_EIO (not a saved set) or
 * VG_ENOMEM.
 */
enum vg_err vg_yara_load_fd(struct vg_yara **out, int fd) VG_MUST_CHECK;

/*
 * A scanner for set y (takes a reference), with a time limit per scan.
 * VG_OK (*out owned: vg_yara_scanner_free) or VG_ENOMEM.
 */
enum vg_err vg_yara_scanner_new(struct vg_yara_scanner **out, struct vg_yara *y,
				unsigned timeout_s) VG_MUST_CHECK;

/* Accepts NULL. Drops the scanner's reference to its set. */
void vg_yara_scanner_free(struct vg_yara_scanner *s);

/* The set a scanner runs (borrowed). */
struct vg_yara *vg_yara_scanner_rules(const struct vg_yara_scanner *s);

/* Values of the external variables the set may use (borrowed for the
 * next scan only): filename (base name), filepath (the full path) and
 * extension (lower-case, without the dot; "" when none). NULL: "". */
void vg_yara_scanner_set_file(struct vg_yara_scanner *s, const char *path);

/*
 * Scan len bytes at data. On return *matches points to *n matching rules
 * (borrowed from the scanner, valid until its next scan), and *more counts
 * the matching rules past VG_YARA_MAX_MATCHES. Returns VG_OK, VG_ELIMIT
 * (timed out: the matches found so far are reported), VG_ENOMEM, or VG_EIO
 * (any other YARA error).
 */
enum vg_err vg_yara_scan(struct vg_yara_scanner *s, const void *data,
			 size_t len, const struct vg_file_match **matches,
			 unsigned *n, unsigned *more) VG_MUST_CHECK;

/* Initialise libyara now (loading does it when needed): VG_OK or
 * VG_ENOMEM. */
enum vg_err vg_yara_init(void) VG_MUST_CHECK;

/* libyara's version, for `vigil-agent version`. */
const char *vg_yara_lib_version(void);

#endif /* VG_YARASCAN_H */
