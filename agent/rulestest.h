/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vigil-agent rules test`: run the test cases of a rule set.
 *
 * A case is a YAML file in the tests folder (rules/tests/, one per file):
 *
 *   capture: ../../tests/data/pcap/ftp.pcap   # relative to the case file
 *   config: config/lab.yaml                   # optional agent config
 *   expect:
 *     - {sid: 1000001, count: 1}              # exactly one alert
 *     - {sid: 1000002, count: 0}              # none
 *     - {sid: 1000003, min: 1}                # at least one
 *
 * Each case replays its capture through the whole pipeline (one worker,
 * so counts are exact) with the rules of its configuration, the rules
 * shipped beside the tests folder when the configuration does not name
 * any. After the cases, every enabled rule of that shipped set must have
 * been expected to fire (count or min above 0) by at least one case.
 *
 * A YARA case scans a sample with the set's yara/ rules instead:
 *
 *   file: files/php-eval-base64.php           # the sample, or:
 *   text: "<?php eval($_POST['x']);"          # its bytes, or:
 *   parts: ["X5O!P%@AP", "[4\\PZX54(P^)..."]  # joined (EICAR)
 *   expect:
 *     - {yara: Vigil_PHP_Eval_Base64, count: 1}  # matches
 *     - {yara: Vigil_PHP_Eval_Request, count: 0} # does not
 *
 * and every YARA rule of the shipped set needs a passing case where it
 * matches and one where it does not.
 */
#ifndef VG_RULESTEST_H
#define VG_RULESTEST_H

#include "common.h"

#include <stdio.h>

/* Bounds of the cases: a folder's cases past VG_RULESTEST_MAX_CASES are
 * not run; a case past the other bounds fails with a message naming it,
 * and the run goes on with the next. */
#define VG_RULESTEST_MAX_CASES      1024 /* case files run from one folder */
#define VG_RULESTEST_MAX_FILE_BYTES (1024u * 1024) /* bytes of a case file */
#define VG_RULESTEST_MAX_EXPECT     64 /* expectations of one case */
/* A YARA case's sample: a file is read up to this many bytes, and joined
 * parts must not be longer. */
#define VG_RULESTEST_MAX_SAMPLE (64u << 20)

/* Run the cases of dir (or the one case file dir names). shipped is the
 * rule set folder holding network/ and ioc/. Prints one line per case to
 * out; returns 0 when every case passed and every rule is covered, 1 when
 * some failed, 2 when the cases could not be read. */
int vg_rules_test(const char *dir, const char *shipped, int verbose, FILE *out);

/*
 * Read one case file from fp (borrowed: read, not closed) and check it
 * as vg_rules_test() does before running it: its keys, its expectations,
 * one of capture, file, text or parts. name (borrowed for the call)
 * names it in messages, and relative paths in it are taken from its
 * folder; nothing it names is opened. Returns VG_OK for a case that can
 * run, VG_EINVAL when it cannot (each mistake printed to out as
 * "NAME:LINE: ..." or "NAME: ..."), VG_ENOMEM.
 */
enum vg_err vg_rules_case_check(FILE *fp, const char *name,
				FILE *out) VG_MUST_CHECK;

#endif /* VG_RULESTEST_H */
