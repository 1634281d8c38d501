/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule test cases; see rulestest.h.
 */
#include "rulestest.h"

#include "config.h"
#include "engine.h"
#include "netrules.h"
#include "yarascan.h"

#include <yaml.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_EXPECT    VG_RULESTEST_MAX_EXPECT
#define MAX_CASES     VG_RULESTEST_MAX_CASES
#define MAX_SAMPLE    VG_RULESTEST_MAX_SAMPLE
#define MAX_YARA_NAME 128

struct expect {
	uint32_t sid;             /* network rule; 0: a YARA rule */
	char yara[MAX_YARA_NAME]; /* YARA rule name */
	uint64_t count;           /* exact, unless at_least */
	bool at_least;
	unsigned line;
};

/* A case replays a capture (network rules) or scans a sample (YARA):
 * the file at sample, or the bytes of text/parts. */
struct tcase {
	char path[PATH_MAX];
	char capture[PATH_MAX];
	char config[PATH_MAX]; /* "" for defaults */
	char sample[PATH_MAX];
	char *text; /* owned */
	size_t text_len;
	bool has_text;
	struct expect ex[MAX_EXPECT];
	unsigned n_ex;
};

/* The folder part of path ("." when none), into dir. */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

static void
resolve(const char *base_file, const char *rel, char *out, size_t len)
{
	char dir[PATH_MAX];

	if (rel[0] == '/') {
		snprintf(out, len, "%s", rel);
		return;
	}
	dir_of(base_file, dir, sizeof(dir));
	if ((size_t)snprintf(out, len, "%s/%s", dir, rel) >= len)
		out[0] = '\0'; /* too long: reported as missing */
}

static const char *
scalar(yaml_document_t *doc, int id)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);

	return n && n->type == YAML_SCALAR_NODE
		   ? (const char *)n->data.scalar.value
		   : NULL;
}

static bool
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* One expect entry: {sid: N, count: N}, {sid: N, min: N}, or
 * {yara: NAME, count: 0|1}. */
static bool
read_expect(yaml_document_t *doc, yaml_node_t *n, struct expect *ex,
	    const char *path, FILE *out)
{
	yaml_node_pair_t *p;
	bool have_sid = false, have_count = false;
	uint64_t v;

	ex->line = (unsigned)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE)
		goto bad;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(doc, p->key);
		const char *s = scalar(doc, p->value);

		if (k && s && strcmp(k, "yara") == 0 && s[0] &&
		    strlen(s) < sizeof(ex->yara)) {
			snprintf(ex->yara, sizeof(ex->yara), "%s", s);
			have_sid = true;
			continue;
		}
		if (k == NULL || !parse_u64(s, &v))
			goto bad;
		if (strcmp(k, "sid") == 0 && v > 0 && v <= UINT32_MAX) {
			ex->sid = (uint32_t)v;
			have_sid = true;
		} else if (strcmp(k, "count") == 0) {
			ex->count = v;
			have_count = true;
		} else if (strcmp(k, "min") == 0) {
			ex->count = v;
			ex->at_least = true;
			have_count = true;
		} else {
			goto bad;
		}
	}
	if (have_sid && have_count &&
	    (ex->yara[0] == '\0' ||
	     (ex->sid == 0 && !ex->at_least && ex->count <= 1)))
		return true;
bad:
	fprintf(out,
		"%s:%u: expect: write {sid: ID, count: N}, {sid: ID, min: "
		"N} or {yara: RULE, count: 0|1}\n",
		path, ex->line);
	return false;
}

/* parts: strings joined into the sample's bytes (so that a test string
 * such as EICAR's never stands whole in a file of the repository). The
 * joined length is bounded like a sample file: aliases let a small file
 * name one long string many times. */
static enum vg_err
join_parts(yaml_document_t *doc, yaml_node_t *v, struct tcase *tc,
	   const char *path, FILE *out)
{
	unsigned line = (unsigned)v->start_mark.line + 1;
	yaml_node_item_t *it;
	size_t len = 0;

	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);

		if (n == NULL || n->type != YAML_SCALAR_NODE) {
			fprintf(out, "%s:%u: parts: a list of strings\n", path,
				line);
			return VG_EINVAL;
		}
		if (n->data.scalar.length > MAX_SAMPLE - len) {
			fprintf(out, "%s:%u: parts: joined over %u bytes\n",
				path, line, MAX_SAMPLE);
			return VG_EINVAL;
		}
		len += n->data.scalar.length;
	}
	free(tc->text);
	tc->text = malloc(len + 1);
	if (tc->text == NULL) {
		fprintf(out, "%s: out of memory\n", path);
		return VG_ENOMEM;
	}
	tc->text_len = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);

		memcpy(tc->text + tc->text_len, n->data.scalar.value,
		       n->data.scalar.length);
		tc->text_len += n->data.scalar.length;
	}
	tc->text[tc->text_len] = '\0';
	tc->has_text = true;
	return VG_OK;
}

/* libyaml's input: fp, refused past VG_RULESTEST_MAX_FILE_BYTES so that a
 * case file is never loaded whole however large it is. */
struct case_input {
	FILE *fp;
	size_t len;
	bool too_big;
};

static int
read_input(void *data, unsigned char *buf, size_t size, size_t *got)
{
	struct case_input *in = data;

	*got = fread(buf, 1, size, in->fp);
	if (ferror(in->fp))
		return 0;
	in->len += *got;
	if (in->len > VG_RULESTEST_MAX_FILE_BYTES) {
		in->too_big = true;
		return 0;
	}
	return 1;
}

/* The case in fp (named path) into tc: VG_OK, VG_EINVAL or VG_ENOMEM,
 * each problem printed to out. */
static enum vg_err
read_case_fp(FILE *fp, const char *path, struct tcase *tc, FILE *out)
{
	struct case_input in = {.fp = fp};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	enum vg_err rc = VG_EINVAL, e;

	free(tc->text);
	memset(tc, 0, sizeof(*tc));
	snprintf(tc->path, sizeof(tc->path), "%s", path);
	if (!yaml_parser_initialize(&parser)) {
		fprintf(out, "%s: out of memory\n", path);
		return VG_ENOMEM;
	}
	yaml_parser_set_input(&parser, read_input, &in);
	if (!yaml_parser_load(&parser, &doc)) {
		if (in.too_big)
			fprintf(out, "%s: file over %u bytes\n", path,
				VG_RULESTEST_MAX_FILE_BYTES);
		else if (ferror(fp))
			fprintf(out, "%s: read error\n", path);
		else if (parser.error == YAML_MEMORY_ERROR)
			fprintf(out, "%s: out of memory\n", path);
		else
			fprintf(out, "%s:%lu: YAML: %s\n", path,
				(unsigned long)parser.problem_mark.line + 1,
				parser.problem ? parser.problem
					       : "syntax error");
		if (parser.error == YAML_MEMORY_ERROR)
			rc = VG_ENOMEM;
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		fprintf(out, "%s: a test case is a mapping (capture, expect)\n",
			path);
		goto out_doc;
	}
	rc = VG_OK;
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *s = scalar(&doc, p->value);
		unsigned line = v ? (unsigned)v->start_mark.line + 1 : 0;

		if (k && strcmp(k, "capture") == 0 && s) {
			resolve(path, s, tc->capture, sizeof(tc->capture));
		} else if (k && strcmp(k, "file") == 0 && s) {
			resolve(path, s, tc->sample, sizeof(tc->sample));
		} else if (k && strcmp(k, "text") == 0 && s) {
			free(tc->text);
			tc->text_len = v->data.scalar.length;
			tc->text = malloc(tc->text_len + 1);
			if (tc->text == NULL) {
				fprintf(out, "%s: out of memory\n", path);
				rc = VG_ENOMEM;
				break;
			}
			memcpy(tc->text, s, tc->text_len + 1);
			tc->has_text = true;
		} else if (k && strcmp(k, "parts") == 0 && v &&
			   v->type == YAML_SEQUENCE_NODE) {
			e = join_parts(&doc, v, tc, path, out);
			if (e == VG_ENOMEM) {
				rc = e;
				break;
			}
			if (e != VG_OK)
				rc = e;
		} else if (k && strcmp(k, "config") == 0 && s) {
			resolve(path, s, tc->config, sizeof(tc->config));
		} else if (k && strcmp(k, "description") == 0) {
			continue;
		} else if (k && strcmp(k, "expect") == 0 && v &&
			   v->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it;

			for (it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				if (tc->n_ex == MAX_EXPECT) {
					fprintf(out,
						"%s:%u: at most %d "
						"expectations\n",
						path, line, MAX_EXPECT);
					rc = VG_EINVAL;
					break;
				}
				if (!read_expect(
					&doc, yaml_document_get_node(&doc, *it),
					&tc->ex[tc->n_ex], path, out))
					rc = VG_EINVAL;
				else
					tc->n_ex++;
			}
		} else {
			fprintf(out,
				"%s:%u: %s: unknown or malformed key "
				"(capture, config, file, text, parts, "
				"description, expect)\n",
				path, line, k ? k : "?");
			rc = VG_EINVAL;
		}
	}
	if (rc == VG_OK && ((tc->capture[0] != '\0') + (tc->sample[0] != '\0') +
				    tc->has_text !=
				1 ||
			    tc->n_ex == 0)) {
		fprintf(out,
			"%s: a case needs expect and one of capture, file, "
			"text or parts\n",
			path);
		rc = VG_EINVAL;
	}
	for (unsigned i = 0; rc == VG_OK && i < tc->n_ex; i++) {
		if ((tc->ex[i].yara[0] != '\0') != (tc->capture[0] == '\0')) {
			fprintf(out, "%s:%u: expect: %s\n", path,
				tc->ex[i].line,
				tc->capture[0] ? "a capture case expects "
						 "network rules (sid)"
					       : "a file case expects YARA "
						 "rules (yara)");
			rc = VG_EINVAL;
		}
	}
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	return rc;
}

static bool
read_case(const char *path, struct tcase *tc, FILE *out)
{
	FILE *fp = fopen(path, "rb");
	enum vg_err rc;

	if (fp == NULL) {
		free(tc->text);
		memset(tc, 0, sizeof(*tc));
		snprintf(tc->path, sizeof(tc->path), "%s", path);
		fprintf(out, "%s: %s\n", path, strerror(errno));
		return false;
	}
	rc = read_case_fp(fp, path, tc, out);
	fclose(fp);
	return rc == VG_OK;
}

enum vg_err
vg_rules_case_check(FILE *fp, const char *name, FILE *out)
{
	struct tcase *tc = calloc(1, sizeof(*tc));
	enum vg_err rc;

	if (tc == NULL) {
		fprintf(out, "%s: out of memory\n", name);
		return VG_ENOMEM;
	}
	rc = read_case_fp(fp, name, tc, out);
	free(tc->text);
	free(tc);
	return rc;
}

/* Replay the case; fills got[i] with alerts of expectation i. */
static int
run_case(const struct tcase *tc, const char *shipped, uint64_t *got, FILE *out,
	 int verbose)
{
	struct vg_config cfg;
	struct vg_detect *d = NULL;
	struct vg_engine *e = NULL;
	struct vg_engine_opts eo;
	char err[512] = "";
	char *paths[1];
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *msgs;
	enum vg_err err_rc;
	unsigned i, j;
	int rc = -1;

	if (tc->config[0])
		rc = vg_config_load(&cfg, tc->config, out) == VG_OK ? 0 : -1;
	else
		rc = vg_config_defaults(&cfg) == VG_OK ? 0 : -1;
	if (rc < 0)
		return -1;
	rc = -1;
	cfg.stats_interval = 0;
	/* Warnings (a rule that cannot fire without GeoIP...) only matter
	 * when the set does not load, or when asked for. */
	msgs = open_memstream(&mbuf, &mlen);
	if (msgs == NULL)
		goto out;
	err_rc = vg_detect_load(&d, &cfg, shipped, msgs);
	fclose(msgs);
	if (mbuf && (err_rc != VG_OK || verbose))
		fputs(mbuf, out);
	free(mbuf);
	if (err_rc != VG_OK)
		goto out;
	memset(&eo, 0, sizeof(eo));
	eo.cfg = &cfg;
	eo.output = "/dev/null";
	eo.workers = 1;
	eo.offline = 1;
	eo.detect = d;
	paths[0] = (char *)(uintptr_t)tc->capture;
	if (vg_engine_new(&e, &eo, err, sizeof(err)) != VG_OK ||
	    vg_engine_add_files(e, paths, 1, err, sizeof(err)) != VG_OK ||
	    vg_engine_start(e, err, sizeof(err)) != VG_OK) {
		fprintf(out, "%s: %s\n", tc->path, err);
		goto out;
	}
	while (!vg_engine_wait_sources(e, 1000))
		;
	vg_engine_stop(e);
	for (i = 0; i < tc->n_ex; i++) {
		got[i] = UINT64_MAX; /* no such rule */
		for (j = 0; j < vg_detect_rule_count(d); j++)
			if (vg_detect_rule(d, j)->id == tc->ex[i].sid)
				got[i] = vg_detect_rule_alerts(d, j);
	}
	if (verbose) {
		for (j = 0; j < vg_detect_rule_count(d); j++)
			if (vg_detect_rule_alerts(d, j))
				fprintf(out,
					"    %" PRIu32 " %s: %" PRIu64 "\n",
					vg_detect_rule(d, j)->id,
					vg_detect_rule(d, j)->name,
					vg_detect_rule_alerts(d, j));
	}
	rc = 0;
out:
	vg_engine_free(e);
	vg_detect_free(d);
	vg_config_fini(&cfg);
	return rc;
}

/* Scan the case's sample with y; got[i]: 1 when rule ex[i] matched, 0 when
 * not, UINT64_MAX when y has no such rule. */
static int
run_file_case(const struct tcase *tc, struct vg_yara *y, uint64_t *got,
	      FILE *out, int verbose)
{
	struct vg_yara_scanner *sc = NULL;
	const struct vg_file_match *m;
	unsigned n = 0, more, i, j;
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (y == NULL) {
		fprintf(out, "%s: no YARA rule set to test\n", tc->path);
		return -1;
	}
	if (tc->has_text) {
		buf = (unsigned char *)tc->text;
		len = tc->text_len;
	} else {
		FILE *fp = fopen(tc->sample, "rb");

		if (fp == NULL) {
			fprintf(out, "%s: %s: %s\n", tc->path, tc->sample,
				strerror(errno));
			return -1;
		}
		buf = malloc(MAX_SAMPLE);
		if (buf)
			len = fread(buf, 1, MAX_SAMPLE, fp);
		fclose(fp);
		if (buf == NULL)
			return -1;
	}
	if (vg_yara_scanner_new(&sc, y, 60) != VG_OK)
		goto out;
	vg_yara_scanner_set_file(sc, tc->has_text ? "sample" : tc->sample);
	if (vg_yara_scan(sc, len ? buf : (const unsigned char *)"", len, &m, &n,
			 &more) != VG_OK) {
		fprintf(out, "%s: the scan failed\n", tc->path);
		goto out;
	}
	for (i = 0; i < tc->n_ex; i++) {
		got[i] = UINT64_MAX;
		for (j = 0; j < vg_yara_rule_count(y); j++)
			if (strcmp(vg_yara_rule(y, j)->name, tc->ex[i].yara) ==
			    0)
				got[i] = 0;
		for (j = 0; j < n && got[i] == 0; j++)
			if (strcmp(m[j].rule->name, tc->ex[i].yara) == 0)
				got[i] = 1;
	}
	if (verbose)
		for (j = 0; j < n; j++)
			fprintf(out, "    %s\n", m[j].rule->name);
	rc = 0;
out:
	vg_yara_scanner_free(sc);
	if (!tc->has_text)
		free(buf);
	return rc;
}

/* The YARA rules of set (set/yara), or NULL with no such folder. */
static struct vg_yara *
load_set_yara(const char *set, FILE *out)
{
	char dir[PATH_MAX + 8], *paths[1] = {dir};
	struct vg_yara *y = NULL;
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/yara", set);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return NULL;
	if (vg_yara_load(&y, paths, 1, out) != VG_OK)
		fprintf(out, "%s: YARA rules not loaded\n", dir);
	return y;
}

static int
yaml_name(const struct dirent *de)
{
	static const char *const suffixes[] = {".yaml", ".yml", NULL};

	return de->d_name[0] != '.' && vg_has_suffix(de->d_name, suffixes);
}

/* Rules of the shipped set that some case expects to fire. */
static void
mark_covered(const struct tcase *tc, const uint32_t *ids, unsigned n,
	     bool *covered)
{
	unsigned i, j;

	for (i = 0; i < tc->n_ex; i++)
		for (j = 0; j < n; j++)
			if (ids[j] == tc->ex[i].sid && tc->ex[i].count > 0)
				covered[j] = true;
}

/* Whether dir is the tests folder of rule set `set` (dir/.. is set). */
static bool
same_set(const char *dir, const char *set)
{
	char up[PATH_MAX + 4], a[PATH_MAX], b[PATH_MAX];

	snprintf(up, sizeof(up), "%s/..", dir);
	return realpath(up, a) != NULL && realpath(set, b) != NULL &&
	       strcmp(a, b) == 0;
}

int
vg_rules_test(const char *dir, const char *shipped, int verbose, FILE *out)
{
	struct dirent **ents = NULL;
	struct vg_config cfg;
	struct vg_detect *d = NULL;
	struct tcase *tc;
	uint32_t *ids = NULL;
	bool *covered = NULL, *ypos = NULL, *yneg = NULL;
	struct vg_yara *y = NULL;
	unsigned n_ids = 0, passed = 0, failed = 0, i, n_y = 0;
	struct stat sb;
	int n, k, status = 0;

	if (stat(dir, &sb) != 0) {
		fprintf(out, "%s: %s\n", dir, strerror(errno));
		return 2;
	}
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
		return 2;
	if (shipped)
		y = load_set_yara(shipped, out);
	/* Every YARA rule of the set needs a passing positive and a passing
	 * negative case. */
	if (y && S_ISDIR(sb.st_mode) && same_set(dir, shipped)) {
		n_y = vg_yara_rule_count(y);
		ypos = calloc(n_y ? n_y : 1, sizeof(*ypos));
		yneg = calloc(n_y ? n_y : 1, sizeof(*yneg));
		if (ypos == NULL || yneg == NULL)
			n_y = 0;
	}
	/* Coverage of the rule set when running its whole tests folder. */
	if (shipped && S_ISDIR(sb.st_mode) && same_set(dir, shipped) &&
	    vg_config_defaults(&cfg) == VG_OK) {
		char *mbuf = NULL;
		size_t mlen = 0;
		FILE *msgs = open_memstream(&mbuf, &mlen);
		enum vg_err rc = VG_ENOMEM;

		if (msgs) {
			rc = vg_detect_load(&d, &cfg, shipped, msgs);
			fclose(msgs);
			if (mbuf && (rc != VG_OK || verbose))
				fputs(mbuf, out);
			free(mbuf);
		}
		if (rc == VG_OK) {
			n_ids = vg_detect_rule_count(d);
			ids = calloc(n_ids ? n_ids : 1, sizeof(*ids));
			covered = calloc(n_ids ? n_ids : 1, sizeof(*covered));
			for (i = 0; ids && covered && i < n_ids; i++) {
				ids[i] = vg_detect_rule(d, i)->id;
				covered[i] = !vg_detect_rule(d, i)->enabled;
			}
		} else {
			status = 1;
		}
		vg_config_fini(&cfg);
	}

	if (S_ISDIR(sb.st_mode)) {
		n = scandir(dir, &ents, yaml_name, alphasort);
		if (n < 0) {
			fprintf(out, "%s: %s\n", dir, strerror(errno));
			status = 2;
			n = 0;
		}
	} else {
		n = 1;
	}
	for (k = 0; k < n && k < MAX_CASES; k++) {
		char path[PATH_MAX];
		uint64_t got[MAX_EXPECT];
		bool ok = true;

		if (ents)
			snprintf(path, sizeof(path), "%s/%s", dir,
				 ents[k]->d_name);
		else
			snprintf(path, sizeof(path), "%s", dir);
		if (!read_case(path, tc, out) ||
		    (tc->capture[0]
			 ? run_case(tc, shipped, got, out, verbose)
			 : run_file_case(tc, y, got, out, verbose)) < 0) {
			fprintf(out, "FAIL %s (cannot run)\n", path);
			failed++;
			continue;
		}
		for (i = 0; i < tc->n_ex; i++) {
			const struct expect *ex = &tc->ex[i];

			if (got[i] == UINT64_MAX && ex->yara[0]) {
				fprintf(out, "%s:%u: no YARA rule %s\n", path,
					ex->line, ex->yara);
				ok = false;
			} else if (got[i] == UINT64_MAX) {
				fprintf(out,
					"%s:%u: no rule with id %" PRIu32 "\n",
					path, ex->line, ex->sid);
				ok = false;
			} else if (ex->yara[0] && got[i] != ex->count) {
				fprintf(out,
					"%s:%u: YARA rule %s: expected %s\n",
					path, ex->line, ex->yara,
					ex->count ? "a match" : "no match");
				ok = false;
			} else if (ex->at_least ? got[i] < ex->count
						: got[i] != ex->count) {
				fprintf(out,
					"%s:%u: rule %" PRIu32
					": expected %s%" PRIu64
					" alerts, got %" PRIu64 "\n",
					path, ex->line, ex->sid,
					ex->at_least ? "at least " : "",
					ex->count, got[i]);
				ok = false;
			}
		}
		fprintf(out, "%s %s\n", ok ? "PASS" : "FAIL", path);
		if (ok) {
			passed++;
			if (covered)
				mark_covered(tc, ids, n_ids, covered);
			for (i = 0; i < tc->n_ex && n_y; i++)
				for (unsigned j = 0; j < n_y; j++)
					if (strcmp(vg_yara_rule(y, j)->name,
						   tc->ex[i].yara) == 0) {
						ypos[j] |= tc->ex[i].count;
						yneg[j] |= !tc->ex[i].count;
					}
		} else {
			failed++;
		}
	}
	for (k = 0; ents && k < n; k++)
		free(ents[k]);
	free(ents);
	for (i = 0; covered && i < n_ids; i++) {
		if (covered[i])
			continue;
		fprintf(out,
			"%s:%u: rule %" PRIu32 " has no passing positive "
			"test case\n",
			vg_detect_rule(d, i)->file, vg_detect_rule(d, i)->line,
			ids[i]);
		failed++;
	}
	for (i = 0; i < n_y; i++) {
		if (ypos[i] && yneg[i])
			continue;
		fprintf(out, "%s/yara: YARA rule %s has no passing %s case\n",
			shipped, vg_yara_rule(y, i)->name,
			!ypos[i] ? "positive" : "negative");
		failed++;
	}
	fprintf(out, "%u passed, %u failed\n", passed, failed);
	free(ids);
	free(covered);
	free(ypos);
	free(yneg);
	vg_yara_unref(y);
	free(tc->text);
	vg_detect_free(d);
	free(tc);
	if (status)
		return status;
	return failed ? 1 : 0;
}
