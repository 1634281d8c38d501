/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-collector rules keygen|publish|show (rules.h).
 *
 * publish reads DIR/network, DIR/yara and DIR/ioc (their own files only:
 * a sub-folder, a link to anything but a regular file, or a name the
 * bundle format refuses stops it), loads what it read with the agent's
 * loaders (netrules, yarascan, ioc) exactly as an agent given the bundle
 * would (packed, parsed and extracted into a temporary folder), and only
 * when they load packs, signs and stores them with one SET, so agents
 * never see a half-written bundle.
 */
#include "rules.h"

#include "bundle.h"
#include "bundlepoll.h"
#include "config.h"
#include "netrules.h"
#include "redis.h"
#include "yarascan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_REFUSED 1
#define EXIT_FAILED  2

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: vigil-collector rules keygen --out PREFIX\n"
		"       vigil-collector rules publish --key KEY.pem [-c FILE] "
		"[--version N] DIR\n"
		"       vigil-collector rules show [-c FILE] [--pub KEY.pub]\n"
		"DIR holds network/ (.yaml), yara/ (.yar) and ioc/ "
		"(NAME-TYPE.txt);\n"
		"publish checks the rules as an agent would and stores the "
		"signed\n"
		"bundle at %s (version: the stored one + 1 by default).\n",
		VG_BUNDLE_KEY);
}

/* ------------------------------------------------------------------ */
/* Redis                                                                */

static struct vg_redis *
connect_redis(const char *config, struct vc_config *cfg)
{
	struct vg_redis_opts o;
	struct vg_redis *r = NULL;
	char err[512];

	if (vc_config_load(config, 0, cfg, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	vc_config_redis_opts(cfg, &o);
	if (vg_redis_connect(&r, &o, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-collector rules: redis: %s\n", err);
		vc_config_fini(cfg);
		return NULL;
	}
	return r;
}

/* GET the stored bundle: *rep a STRING reply (owned), NULL when there is
 * none. -1 (printed) on failure. */
static int
get_stored(struct vg_redis *r, struct vg_redis_reply **rep)
{
	const char *argv[2] = {"GET", VG_BUNDLE_KEY};
	size_t argvlen[2] = {3, sizeof(VG_BUNDLE_KEY) - 1};
	char err[512];

	*rep = NULL;
	if (vg_redis_command(r, 2, argv, argvlen, 1, rep, err, sizeof(err)) !=
	    VG_OK) {
		fprintf(stderr, "vigil-collector rules: GET: %s\n", err);
		return -1;
	}
	if ((*rep)->type == VG_REPLY_NIL) {
		vg_redis_reply_free(*rep);
		*rep = NULL;
		return 0;
	}
	if ((*rep)->type != VG_REPLY_STRING) {
		fprintf(stderr, "vigil-collector rules: GET %s: %s\n",
			VG_BUNDLE_KEY,
			(*rep)->type == VG_REPLY_ERROR ? (*rep)->str
						       : "not a string");
		vg_redis_reply_free(*rep);
		*rep = NULL;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* keygen                                                               */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {{"out", required_argument, 0, 'o'},
					   {"help", no_argument, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *prefix = NULL;
	char err[512];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		if (ch == 'o') {
			prefix = optarg;
		} else {
			usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : EXIT_REFUSED;
		}
	}
	if (prefix == NULL || optind != argc) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	if (vg_bundle_keygen(prefix, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-collector rules keygen: %s\n", err);
		return EXIT_FAILED;
	}
	printf("wrote %s.key (keep it secret) and %s.pub (pin it in "
	       "agents' rules.bundle.public_key)\n",
	       prefix, prefix);
	return 0;
}

/* ------------------------------------------------------------------ */
/* publish                                                              */

/* Read a whole regular file of at most max bytes: the contents (owned,
 * *len bytes), or NULL with err saying why. Opened without blocking (a
 * FIFO does not hang it) and checked once, on what was opened. */
static uint8_t *
read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct stat sb;
	ssize_t got;

	*len = 0;
	if (fd < 0) {
		vg_seterr(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		vg_seterr(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		vg_seterr(err, errlen, "not a regular file");
		close(fd);
		return NULL;
	}
	if ((uint64_t)sb.st_size > max) {
		vg_seterr(err, errlen, "larger than %zu bytes", max);
		close(fd);
		return NULL;
	}
	got = vg_read_whole(fd, (size_t)sb.st_size, &buf, &cap);
	if (got < 0) {
		vg_seterr(err, errlen, "%s", strerror(errno));
		free(buf);
		buf = NULL;
	} else {
		*len = (size_t)got;
	}
	close(fd);
	return buf;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add every file of DIR/<kind>/ to bb, in name order: 0, or -1 (printed).
 * A missing folder is no files. */
static int
add_folder(struct vg_bundle_builder *bb, const char *root,
	   enum vg_bundle_kind kind, unsigned *count)
{
	const char *sub = vg_bundle_kind_dir(kind);
	char dir[PATH_MAX], path[PATH_MAX], rel[VG_BUNDLE_MAX_PATH + 64];
	char *names[VG_BUNDLE_MAX_FILES + 1];
	unsigned n = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", root, sub);
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n > VG_BUNDLE_MAX_FILES) {
			fprintf(stderr, "%s: more than %u files\n", dir,
				VG_BUNDLE_MAX_FILES);
			rc = -1;
			break;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; rc == 0 && i < n; i++) {
		char err[512];
		uint8_t *data;
		size_t len;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     names[i]) >= sizeof(path) ||
		    (size_t)snprintf(rel, sizeof(rel), "%s/%s", sub,
				     names[i]) >= sizeof(rel)) {
			fprintf(stderr, "%s/%s: name too long\n", dir,
				names[i]);
			rc = -1;
			break;
		}
		data = read_file(path, VG_BUNDLE_MAX_BYTES, &len, err,
				 sizeof(err));
		if (data == NULL) {
			fprintf(stderr, "%s: %s\n", path, err);
			rc = -1;
			break;
		}
		if (vg_bundle_builder_add(bb, kind, rel, data, len, err,
					  sizeof(err)) != VG_OK) {
			fprintf(stderr, "%s: %s\n", path, err);
			rc = -1;
		}
		free(data);
		(*count)++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

/*
 * Load the rules in folder root the way an agent would (bundlepoll.c
 * adds a bundle's folders to the configuration just so): 0, or -1 with
 * every problem written to errs as "FILE:LINE: ...".
 */
static int
validate(const char *root, FILE *errs)
{
	struct vg_config cfg;
	struct vg_detect *d = NULL;
	struct vg_yara *y = NULL;
	int rc = -1;

	if (vg_config_defaults(&cfg) != VG_OK)
		return -1;
	if (vg_bundle_extend_config(&cfg, root, NULL, errs) != VG_OK)
		goto out;
	if (vg_detect_load(&d, &cfg, NULL, errs) != VG_OK)
		goto out;
	if (cfg.file_rules_set &&
	    vg_yara_load(&y, cfg.file_rules, cfg.n_file_rules, errs) != VG_OK)
		goto out;
	rc = 0;
out:
	vg_yara_unref(y);
	vg_detect_free(d);
	vg_config_fini(&cfg);
	return rc;
}

/* text to stderr, each "from/" in it shown as "to/". */
static void
print_as(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from);
	const char *p = text, *at;

	while ((at = strstr(p, from)) != NULL) {
		if (at[fl] == '/')
			fprintf(stderr, "%.*s%s", (int)(at - p), p, to);
		else
			fprintf(stderr, "%.*s", (int)(at - p + fl), p);
		p = at + fl;
	}
	fputs(p, stderr);
}

/*
 * Validate what was packed, not the folder read again: the files as
 * the builder holds them, packed (unsigned), parsed as an agent parses
 * them and extracted into a temporary folder, which is loaded and
 * removed. Messages name the files under root. 0, or -1 (printed).
 */
static int
validate_packed(const struct vg_bundle_builder *bb, const char *root)
{
	const char *tmpdir = getenv("TMPDIR");
	char tmp[PATH_MAX], dir[PATH_MAX + 8], err[512];
	struct vg_bundle *b = NULL;
	enum vg_bundle_why why;
	uint8_t *buf = NULL;
	size_t len = 0, outlen = 0;
	char *out = NULL;
	FILE *errs;
	int rc = -1;

	if (vg_bundle_pack(bb, 1, 0, NULL, &buf, &len, err, sizeof(err)) !=
		VG_OK ||
	    vg_bundle_check(&b, buf, len, NULL, &why, err, sizeof(err)) !=
		VG_OK) {
		fprintf(stderr, "%s: %s\n", root, err);
		goto out;
	}
	if (tmpdir == NULL || tmpdir[0] != '/')
		tmpdir = "/tmp";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/vigil-rules-XXXXXX",
			     tmpdir) >= sizeof(tmp) ||
	    mkdtemp(tmp) == NULL) {
		fprintf(stderr, "%s: cannot make a temporary folder: %s\n",
			tmpdir, strerror(errno));
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/b", tmp);
	if (vg_bundle_extract(b, dir, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "%s\n", err);
	} else if ((errs = open_memstream(&out, &outlen)) == NULL) {
		rc = validate(dir, stderr);
	} else {
		rc = validate(dir, errs);
		if (fclose(errs) == 0 && out)
			print_as(out, dir, root);
	}
	if (vg_bundle_remove_tree(dir) != 0 || rmdir(tmp) != 0)
		fprintf(stderr, "%s: cannot remove: %s\n", tmp,
			strerror(errno));
out:
	free(out);
	vg_bundle_free(b);
	free(buf);
	return rc;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v == 0)
		return -1;
	*out = v;
	return 0;
}

static int
cmd_publish(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"key", required_argument, 0, 'k'},
	    {"config", required_argument, 0, 'c'},
	    {"version", required_argument, 0, 'V'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *key = NULL, *config = NULL, *root;
	const char *sargv[3];
	size_t sargvlen[3];
	struct vg_bundle_builder *bb = NULL;
	struct vg_redis_reply *rep = NULL;
	struct vg_redis *r = NULL;
	struct vc_config cfg;
	uint64_t version = 0, stored = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	unsigned files = 0;
	char err[512], keyid[65];
	int ch, status = EXIT_REFUSED, have_cfg = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "k:c:V:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'k':
			key = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'V':
			if (parse_u64(optarg, &version) < 0) {
				fprintf(stderr,
					"vigil-collector rules publish: "
					"--version %s: not a positive "
					"integer\n",
					optarg);
				return EXIT_REFUSED;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_REFUSED;
		}
	}
	if (key == NULL || optind != argc - 1) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	root = argv[optind];
	if (vg_bundle_builder_new(&bb) != VG_OK)
		return EXIT_FAILED;
	if (add_folder(bb, root, VG_BUNDLE_NETWORK, &files) < 0 ||
	    add_folder(bb, root, VG_BUNDLE_YARA, &files) < 0 ||
	    add_folder(bb, root, VG_BUNDLE_IOC, &files) < 0)
		goto out;
	if (files == 0) {
		fprintf(stderr, "%s: no rules in network/, yara/ or ioc/\n",
			root);
		goto out;
	}
	if (validate_packed(bb, root) < 0) {
		fprintf(stderr,
			"vigil-collector rules publish: %s: the rules do not "
			"load; nothing published\n",
			root);
		goto out;
	}
	status = EXIT_FAILED;
	r = connect_redis(config, &cfg);
	if (r == NULL)
		goto out;
	have_cfg = 1;
	if (get_stored(r, &rep) < 0)
		goto out;
	if (rep)
		stored =
		    vg_bundle_peek_version((const uint8_t *)rep->str, rep->len);
	if (version == 0) {
		version = stored + 1;
	} else if (version <= stored) {
		fprintf(stderr,
			"vigil-collector rules publish: version %" PRIu64
			" is not above the stored %" PRIu64
			" (agents would refuse it)\n",
			version, stored);
		status = EXIT_REFUSED;
		goto out;
	}
	if (vg_bundle_pack(bb, version, (int64_t)time(NULL), key, &buf, &len,
			   err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-collector rules publish: %s\n", err);
		status = EXIT_REFUSED;
		goto out;
	}
	vg_redis_reply_free(rep);
	rep = NULL;
	sargv[0] = "SET";
	sargv[1] = VG_BUNDLE_KEY;
	sargv[2] = (const char *)buf;
	sargvlen[0] = 3;
	sargvlen[1] = sizeof(VG_BUNDLE_KEY) - 1;
	sargvlen[2] = len;
	if (vg_redis_command(r, 3, sargv, sargvlen, 1, &rep, err,
			     sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-collector rules publish: SET: %s\n",
			err);
		goto out;
	}
	if (rep->type != VG_REPLY_STATUS) {
		fprintf(stderr, "vigil-collector rules publish: SET: %s\n",
			rep->type == VG_REPLY_ERROR ? rep->str
						    : "unexpected reply");
		goto out;
	}
	vg_hex_encode(keyid, buf + 32, 32);
	printf("published version %" PRIu64 ": %u files, %zu bytes, key %s\n",
	       version, files, len, keyid);
	status = 0;
out:
	free(buf);
	vg_redis_reply_free(rep);
	vg_redis_close(r);
	if (have_cfg)
		vc_config_fini(&cfg);
	vg_bundle_builder_free(bb);
	return status;
}

/* ------------------------------------------------------------------ */
/* show                                                                 */

static const char *
kind_name(enum vg_bundle_kind k)
{
	const char *s = vg_bundle_kind_dir(k);

	return s ? s : "?";
}

static int
cmd_show(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"config", required_argument, 0, 'c'},
	    {"pub", required_argument, 0, 'p'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *config = NULL, *pubpath = NULL;
	struct vg_bundle_pub pub;
	struct vg_redis_reply *rep = NULL;
	struct vg_redis *r = NULL;
	struct vg_bundle *b = NULL;
	struct vc_config cfg;
	enum vg_bundle_why why = VG_BUNDLE_FINE, sig_why = VG_BUNDLE_FINE;
	char err[1024], sig_err[1024] = "", hex[65], when[32];
	int ch, status = EXIT_FAILED;
	unsigned i;
	time_t t;
	struct tm tm;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:p:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			pubpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_REFUSED;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	if (pubpath &&
	    vg_bundle_pub_load(&pub, pubpath, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "vigil-collector rules show: %s\n", err);
		return EXIT_REFUSED;
	}
	r = connect_redis(config, &cfg);
	if (r == NULL)
		return EXIT_FAILED;
	if (get_stored(r, &rep) < 0)
		goto out;
	if (rep == NULL) {
		printf("no bundle at %s\n", VG_BUNDLE_KEY);
		status = 0;
		goto out;
	}
	/* The manifest is shown whatever the signature says. */
	if (vg_bundle_check(&b, (const uint8_t *)rep->str, rep->len, NULL, &why,
			    err, sizeof(err)) != VG_OK) {
		printf("%s: %zu bytes, refused: %s: %s\n", VG_BUNDLE_KEY,
		       rep->len, vg_bundle_why_str(why), err);
		status = EXIT_REFUSED;
		goto out;
	}
	if (pubpath) {
		struct vg_bundle *b2 = NULL;

		if (vg_bundle_check(&b2, (const uint8_t *)rep->str, rep->len,
				    &pub, &sig_why, sig_err,
				    sizeof(sig_err)) == VG_OK)
			sig_why = VG_BUNDLE_FINE;
		vg_bundle_free(b2);
	}
	t = (time_t)b->created;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%" PRId64, b->created);
	printf("version:   %" PRIu64 "\n", b->version);
	printf("created:   %s\n", when);
	printf("key id:    %s\n", vg_hex_encode(hex, b->key_id, 32));
	printf("size:      %zu bytes\n", rep->len);
	if (!b->is_signed)
		printf("signature: none (agents refuse it)\n");
	else if (pubpath == NULL)
		printf("signature: present, not checked (no --pub)\n");
	else if (sig_why == VG_BUNDLE_FINE)
		printf("signature: valid (%s)\n", pubpath);
	else
		printf("signature: INVALID: %s: %s\n",
		       vg_bundle_why_str(sig_why), sig_err);
	printf("files:     %u\n", b->n_files);
	for (i = 0; i < b->n_files; i++)
		printf("  %-7s %8u  %s  %s\n", kind_name(b->files[i].kind),
		       b->files[i].size,
		       vg_hex_encode(hex, b->files[i].sha256, 32),
		       b->files[i].path);
	status = (pubpath && sig_why != VG_BUNDLE_FINE) || !b->is_signed
		     ? EXIT_REFUSED
		     : 0;
out:
	vg_bundle_free(b);
	vg_redis_reply_free(rep);
	vg_redis_close(r);
	vc_config_fini(&cfg);
	return status;
}

int
vc_rules_main(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL) {
		usage(stderr);
		return EXIT_REFUSED;
	}
	if (strcmp(sub, "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(sub, "publish") == 0)
		return cmd_publish(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(sub, "help") == 0 || strcmp(sub, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vigil-collector rules: unknown subcommand %s\n", sub);
	usage(stderr);
	return EXIT_REFUSED;
}
