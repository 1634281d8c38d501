/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/yarascan.c and the file events of agent/event.c:
 * loading sources, folders and compiled sets, compiler errors with their
 * FILE:LINE, rule metadata as alerts carry it, matches with string
 * identifiers and offsets, the external variables, reference counting
 * across a reload, and the fileinfo and alert JSON (parsed back with
 * jansson). Rule files are written to a mkdtemp() directory.
 */
#define _GNU_SOURCE
#include "event.h"
#include "yarascan.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/vg_test_yara_XXXXXX";

static char *
path_of(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

/* Write text to name in the test directory; returns the path (owned). */
static char *
write_file(const char *name, const char *text)
{
	char *p = path_of(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return p;
}

/* Load paths, capturing the messages (owned, in *msgs). */
static enum vg_err
load(struct vg_yara **y, char **paths, unsigned n, char **msgs)
{
	size_t len = 0;
	FILE *f = open_memstream(msgs, &len);
	enum vg_err rc;

	assert_non_null(f);
	rc = vg_yara_load(y, paths, n, f);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static const char RULES[] =
    "rule Vigil_Test_Marker : webshell php\n"
    "{\n"
    "    meta:\n"
    "        description = \"A test marker\"\n"
    "        severity = \"high\"\n"
    "        mitre = \"T1505.003, T1059\"\n"
    "        sid = 3999001\n"
    "        rev = 3\n"
    "        category = \"webshell\"\n"
    "        score = 75\n"
    "        enabled = true\n"
    "    strings:\n"
    "        $a = \"VIGIL-MARK\"\n"
    "        $b = { DE AD BE EF }\n"
    "    condition:\n"
    "        any of them\n"
    "}\n"
    "\n"
    "rule Vigil_Test_Plain\n"
    "{\n"
    "    strings:\n"
    "        $x = \"plain-text\"\n"
    "    condition:\n"
    "        $x\n"
    "}\n"
    "\n"
    "private rule Vigil_Test_Private\n"
    "{\n"
    "    strings:\n"
    "        $p = \"VIGIL-MARK\"\n"
    "    condition:\n"
    "        $p\n"
    "}\n"
    "\n"
    "rule Vigil_Test_Ext\n"
    "{\n"
    "    condition:\n"
    "        extension == \"php\" and filename == \"Logo.GIF.PHP\"\n"
    "}\n";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct vg_file_rule *
rule_named(const struct vg_yara *y, const char *name)
{
	unsigned i;

	for (i = 0; i < vg_yara_rule_count(y); i++)
		if (strcmp(vg_yara_rule(y, i)->name, name) == 0)
			return vg_yara_rule(y, i);
	return NULL;
}

static void
test_meta(void **state)
{
	char *p = write_file("meta.yar", RULES), *msgs = NULL;
	const struct vg_file_rule *r;
	struct vg_yara *y = NULL;

	(void)state;
	assert_int_equal(load(&y, &p, 1, &msgs), VG_OK);
	assert_string_equal(msgs, "");
	assert_int_equal(vg_yara_rule_count(y), 4);
	assert_int_equal(vg_yara_file_count(y), 1);

	r = rule_named(y, "Vigil_Test_Marker");
	assert_non_null(r);
	assert_string_equal(r->ns, "default");
	assert_int_equal(r->n_tags, 2);
	assert_string_equal(r->tags[0], "webshell");
	assert_string_equal(r->tags[1], "php");
	assert_int_equal(r->alert.signature_id, 3999001);
	assert_int_equal(r->alert.rev, 3);
	assert_string_equal(r->alert.signature, "Vigil_Test_Marker");
	assert_string_equal(r->alert.category, "webshell");
	assert_int_equal(r->alert.severity, 1);
	assert_string_equal(r->alert.severity_name, "high");
	assert_int_equal(r->alert.n_mitre, 2);
	assert_string_equal(r->alert.mitre[0], "T1505.003");
	assert_string_equal(r->alert.mitre[1], "T1059");
	assert_int_equal(r->n_meta, 8);
	assert_string_equal(r->meta[0].key, "description");
	assert_int_equal(r->meta[0].type, VG_META_STR);
	assert_string_equal(r->meta[0].str, "A test marker");
	assert_string_equal(r->meta[6].key, "score");
	assert_int_equal(r->meta[6].type, VG_META_INT);
	assert_int_equal(r->meta[6].num, 75);
	assert_int_equal(r->meta[7].type, VG_META_BOOL);
	assert_int_equal(r->meta[7].num, 1);

	/* No meta: medium, category "file", a stable derived id. */
	r = rule_named(y, "Vigil_Test_Plain");
	assert_non_null(r);
	assert_int_equal(r->alert.severity, 2);
	assert_string_equal(r->alert.category, "file");
	assert_true(r->alert.signature_id >= 0x80000000u);
	assert_int_equal(r->alert.n_mitre, 0);
	assert_int_equal(r->n_tags, 0);
	{
		struct vg_yara *y2 = NULL;
		char *m2 = NULL;

		assert_int_equal(load(&y2, &p, 1, &m2), VG_OK);
		assert_int_equal(
		    rule_named(y2, "Vigil_Test_Plain")->alert.signature_id,
		    r->alert.signature_id);
		assert_true(vg_yara_version(y2) > vg_yara_version(y));
		vg_yara_unref(y2);
		free(m2);
	}
	vg_yara_unref(y);
	free(msgs);
	free(p);
}

static void
test_scan(void **state)
{
	char *p = write_file("scan.yar", RULES), *msgs = NULL;
	struct vg_yara_scanner *sc = NULL;
	const struct vg_file_match *m;
	struct vg_yara *y = NULL;
	unsigned n, more;
	/* Three markers and the hex string: offsets 2, 20, 40 and 30. */
	char data[64];

	(void)state;
	memset(data, '.', sizeof(data));
	memcpy(data + 2, "VIGIL-MARK", 10);
	memcpy(data + 20, "VIGIL-MARK", 10);
	memcpy(data + 30, "\xde\xad\xbe\xef", 4);
	memcpy(data + 40, "VIGIL-MARK", 10);
	assert_int_equal(load(&y, &p, 1, &msgs), VG_OK);
	assert_int_equal(vg_yara_scanner_new(&sc, y, 10), VG_OK);
	/* The scanner keeps the set alive after its owner lets go. */
	vg_yara_unref(y);
	assert_ptr_equal(vg_yara_scanner_rules(sc), y);

	assert_int_equal(vg_yara_scan(sc, data, sizeof(data), &m, &n, &more),
			 VG_OK);
	/* The private rule matches too, but is never reported. */
	assert_int_equal(n, 1);
	assert_int_equal(more, 0);
	assert_string_equal(m[0].rule->name, "Vigil_Test_Marker");
	assert_int_equal(m[0].n_strings, 2);
	assert_string_equal(m[0].strings[0].id, "$a");
	assert_int_equal(m[0].strings[0].count, 3);
	assert_int_equal(m[0].strings[0].n, 3);
	assert_int_equal(m[0].strings[0].offsets[0], 2);
	assert_int_equal(m[0].strings[0].offsets[1], 20);
	assert_int_equal(m[0].strings[0].offsets[2], 40);
	assert_string_equal(m[0].strings[1].id, "$b");
	assert_int_equal(m[0].strings[1].offsets[0], 30);

	/* Nothing, and an empty buffer. */
	assert_int_equal(vg_yara_scan(sc, "nothing", 7, &m, &n, &more), VG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(vg_yara_scan(sc, "", 0, &m, &n, &more), VG_OK);
	assert_int_equal(n, 0);

	/* External variables: the name and a lower-case extension. */
	vg_yara_scanner_set_file(sc, "/srv/www/Logo.GIF.PHP");
	assert_int_equal(vg_yara_scan(sc, "x", 1, &m, &n, &more), VG_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].rule->name, "Vigil_Test_Ext");
	vg_yara_scanner_set_file(sc, "/srv/www/logo.gif");
	assert_int_equal(vg_yara_scan(sc, "x", 1, &m, &n, &more), VG_OK);
	assert_int_equal(n, 0);
	vg_yara_scanner_free(sc);
	free(msgs);
	free(p);
}

/* Offsets are capped per string, the count is not. */
static void
test_many_matches(void **state)
{
	char *p = write_file("many.yar", "rule Many { strings: $a = \"ab\" "
					 "condition: $a }\n"),
	     *msgs = NULL;
	struct vg_yara_scanner *sc = NULL;
	const struct vg_file_match *m;
	struct vg_yara *y = NULL;
	unsigned n, more, i;
	char data[200];

	(void)state;
	for (i = 0; i < sizeof(data); i += 2)
		memcpy(data + i, "ab", 2);
	assert_int_equal(load(&y, &p, 1, &msgs), VG_OK);
	assert_int_equal(vg_yara_scanner_new(&sc, y, 10), VG_OK);
	assert_int_equal(vg_yara_scan(sc, data, sizeof(data), &m, &n, &more),
			 VG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].strings[0].count, 100);
	assert_int_equal(m[0].strings[0].n, VG_YARA_MAX_OFFSETS);
	assert_int_equal(m[0].strings[0].offsets[VG_YARA_MAX_OFFSETS - 1],
			 2 * (VG_YARA_MAX_OFFSETS - 1));
	vg_yara_scanner_free(sc);
	vg_yara_unref(y);
	free(msgs);
	free(p);
}

/* Every broken file is reported with its line; nothing loads. */
static void
test_errors(void **state)
{
	char *paths[3], *msgs = NULL, *want;
	struct vg_yara *y = NULL;

	(void)state;
	paths[0] = write_file("bad1.yar", "rule A {\n condition:\n  "
					  "nosuchthing\n}\n");
	paths[1] = write_file("good.yar", "rule B { condition: true }\n");
	paths[2] = write_file("bad2.yar",
			      "rule C {\n strings:\n  $a = \"x\"\n condition:\n"
			      "  $b\n}\n");
	assert_int_equal(load(&y, paths, 3, &msgs), VG_EINVAL);
	assert_null(y);
	assert_true(asprintf(&want,
			     "%s:3: error: undefined identifier "
			     "\"nosuchthing\"",
			     paths[0]) > 0);
	assert_non_null(strstr(msgs, want));
	free(want);
	/* YARA names the line where it noticed: the rule's last. */
	assert_true(asprintf(&want, "%s:6: error: undefined string \"$b\"",
			     paths[2]) > 0);
	assert_non_null(strstr(msgs, want));
	free(want);
	free(msgs);

	/* A missing file names itself. */
	free(paths[1]);
	paths[1] = path_of("missing.yar");
	assert_int_equal(load(&y, &paths[1], 1, &msgs), VG_EINVAL);
	assert_non_null(strstr(msgs, "missing.yar: No such file"));
	free(msgs);

	/* A warning is not an error. */
	free(paths[2]);
	paths[2] = write_file("warn.yar",
			      "rule W { strings: $a = { 00 ?? } condition: "
			      "$a }\n");
	assert_int_equal(load(&y, &paths[2], 1, &msgs), VG_OK);
	assert_non_null(strstr(msgs, ":1: warning: "));
	vg_yara_unref(y);
	free(msgs);

	/* A .yarc goes alone. */
	free(paths[1]);
	paths[1] = path_of("set.yarc");
	assert_int_equal(load(&y, paths, 2, &msgs), VG_EINVAL);
	assert_non_null(strstr(msgs, "must be the only entry"));
	free(msgs);
	/* Not a compiled file. */
	free(paths[1]);
	paths[1] = write_file("fake.yarc", "not compiled\n");
	assert_int_equal(load(&y, &paths[1], 1, &msgs), VG_EIO);
	assert_non_null(strstr(msgs, "fake.yarc: "));
	free(msgs);
	free(paths[0]);
	free(paths[1]);
	free(paths[2]);
}

/* A folder: its .yar and .yara files, not sub-folders or dot files. */
static void
test_folder_and_compiled(void **state)
{
	char *dir = path_of("set"), *msgs = NULL, *yarc, *cmd;
	struct vg_yara *y = NULL;
	int status;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	free(write_file("set/a.yar", "rule A { condition: true }\n"));
	free(write_file("set/b.yara", "rule B { condition: true }\n"));
	free(write_file("set/.c.yar", "rule C { condition: true }\n"));
	free(write_file("set/notes.txt", "rule D { condition: true }\n"));
	{
		char *sub = path_of("set/sub.yar");

		assert_int_equal(mkdir(sub, 0700), 0);
		free(sub);
	}
	free(write_file("set/sub.yar/e.yar", "rule E { condition: true }\n"));
	assert_int_equal(load(&y, &dir, 1, &msgs), VG_OK);
	assert_int_equal(vg_yara_rule_count(y), 2);
	assert_int_equal(vg_yara_file_count(y), 2);
	assert_non_null(rule_named(y, "A"));
	assert_non_null(rule_named(y, "B"));
	vg_yara_unref(y);
	free(msgs);

	/* The same rules compiled by yarac load from the .yarc. */
	yarc = path_of("set.yarc");
	assert_true(asprintf(&cmd, "yarac '%s/a.yar' '%s/b.yara' '%s'", dir,
			     dir, yarc) > 0);
	status = system(cmd);
	free(cmd);
	/* yarac comes with the yara package, which the tests install. */
	if (status != 0)
		fail_msg("yarac failed (status %d)", status);
	assert_int_equal(load(&y, &yarc, 1, &msgs), VG_OK);
	assert_int_equal(vg_yara_rule_count(y), 2);
	assert_non_null(rule_named(y, "B"));
	vg_yara_unref(y);
	free(msgs);
	free(yarc);
	free(dir);
}

/* The fileinfo and alert events, parsed back. */
static void
test_events(void **state)
{
	char *p = write_file("ev.yar", RULES), *msgs = NULL;
	struct vg_event_ctx ctx = {"web01", "agent-1", "so-test", "0.1.0"};
	struct vg_yara_scanner *sc = NULL;
	const struct vg_file_match *m;
	struct vg_file_info fi;
	struct vg_yara *y = NULL;
	struct vg_buf b;
	json_t *ev, *yara, *alert;
	json_error_t jerr;
	unsigned n, more;
	char *nl;

	(void)state;
	assert_int_equal(load(&y, &p, 1, &msgs), VG_OK);
	assert_int_equal(vg_yara_scanner_new(&sc, y, 10), VG_OK);
	assert_int_equal(vg_yara_scan(sc, "..VIGIL-MARK..", 14, &m, &n, &more),
			 VG_OK);
	assert_int_equal(n, 1);
	memset(&fi, 0, sizeof(fi));
	fi.filename = "/srv/www/up/\"a\"\n.php";
	fi.size = 14;
	fi.sha256 = "ab";
	fi.uid = 33;
	fi.mode = 0100640;
	fi.matches = m;
	fi.n_matches = n;
	fi.source = "watch";
	fi.quarantine_id = "20261201T101500Z-3f2a9c1e";
	vg_buf_init(&b, 1 << 20);
	assert_int_equal(vg_event_fileinfo(&b, &ctx, &fi, 1764584100000000),
			 VG_OK);
	assert_int_equal(
	    vg_event_file_alert(&b, &ctx, &fi, &m[0], NULL, 1764584100000000),
	    VG_OK);
	nl = strchr(b.data, '\n');
	assert_non_null(nl);
	*nl = '\0';

	ev = json_loads(b.data, 0, &jerr);
	assert_non_null(ev);
	assert_string_equal(
	    json_string_value(json_object_get(ev, "event_type")), "fileinfo");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(ev, "fileinfo"), "filename")),
			    "/srv/www/up/\"a\"\n.php");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(ev, "fileinfo"), "size")),
			 14);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(ev, "fileinfo"), "mode")),
			    "0640");
	assert_true(json_is_true(
	    json_object_get(json_object_get(ev, "fileinfo"), "stored")));
	yara = json_array_get(
	    json_object_get(json_object_get(ev, "fileinfo"), "yara"), 0);
	assert_string_equal(json_string_value(json_object_get(yara, "rule")),
			    "Vigil_Test_Marker");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(yara, "meta"), "mitre")),
			    "T1505.003, T1059");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(yara, "meta"), "score")),
			 75);
	assert_true(json_is_true(
	    json_object_get(json_object_get(yara, "meta"), "enabled")));
	assert_int_equal(
	    json_integer_value(json_array_get(
		json_object_get(
		    json_array_get(json_object_get(yara, "strings"), 0),
		    "offsets"),
		0)),
	    2);
	json_decref(ev);

	ev = json_loads(nl + 1, 0, &jerr);
	assert_non_null(ev);
	alert = json_object_get(ev, "alert");
	assert_string_equal(
	    json_string_value(json_object_get(ev, "event_type")), "alert");
	assert_string_equal(
	    json_string_value(json_object_get(alert, "signature")),
	    "Vigil_Test_Marker");
	assert_int_equal(
	    json_integer_value(json_object_get(alert, "signature_id")),
	    3999001);
	assert_string_equal(json_string_value(json_object_get(alert, "action")),
			    "blocked");
	assert_int_equal(json_integer_value(json_object_get(alert, "severity")),
			 1);
	assert_string_equal(
	    json_string_value(json_array_get(
		json_object_get(json_object_get(alert, "metadata"),
				"mitre_technique_id"),
		1)),
	    "T1059");
	/* The alert stands alone: the same fileinfo object. */
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(ev, "fileinfo"), "sha256")),
			    "ab");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(ev, "vigil"), "agency")),
			    "so-test");
	json_decref(ev);
	vg_buf_fini(&b);
	vg_yara_scanner_free(sc);
	vg_yara_unref(y);
	free(msgs);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meta),
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_many_matches),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_folder_and_compiled),
	    cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
