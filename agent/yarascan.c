/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YARA rule sets and scanners (see yarascan.h).
 *
 * Loading compiles the sources with one YR_COMPILER (or loads a .yarc),
 * then walks the compiled rules once to describe each as alerts need it
 * (struct vg_file_rule: severity, sid, MITRE ids from its meta), so that a
 * scan only collects indexes and offsets. libyara is initialised once per
 * process and never finalised: rule sets may outlive any one caller.
 */
#define _GNU_SOURCE
#include "yarascan.h"

#include <yara.h>

#include <fcntl.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 4096 /* source files of one set */

struct vg_yara {
	atomic_uint refs;
	uint64_t version;
	YR_RULES *rules;
	unsigned n_rules, n_files;
	struct vg_file_rule *desc; /* per rule, by index in rules_table */
	char *strs;                /* every string desc points into */
	struct vg_file_meta *metas;
	char **ptrs; /* tags and mitre arrays */
	pthread_mutex_t memfd_mu;
	int memfd; /* the compiled set, saved (vg_yara_memfd); -1: not yet */
};

struct vg_yara_scanner {
	struct vg_yara *y;
	YR_SCANNER *sc;
	unsigned n, more;
	struct vg_file_match m[VG_YARA_MAX_MATCHES];
	struct vg_file_string s[VG_YARA_MAX_MATCHES][VG_YARA_MAX_STRINGS];
	uint64_t (*offs)[VG_YARA_MAX_STRINGS][VG_YARA_MAX_OFFSETS];
	char name[256], path[4096], ext[32];
};

static pthread_once_t yr_once = PTHREAD_ONCE_INIT;
static int yr_init_rc = -1;
static atomic_uint_fast64_t next_version = 1;

static void
yr_init_once(void)
{
	yr_init_rc = yr_initialize();
}

static enum vg_err
lib_init(void)
{
	pthread_once(&yr_once, yr_init_once);
	return yr_init_rc == ERROR_SUCCESS ? VG_OK : VG_ENOMEM;
}

enum vg_err
vg_yara_init(void)
{
	return lib_init();
}

const char *
vg_yara_lib_version(void)
{
	return YR_VERSION;
}

/* ------------------------------------------------------------------ */
/* Compiling                                                            */

struct compile {
	FILE *errs;
	unsigned errors;
};

static void
compiler_cb(int level, const char *file, int line, const YR_RULE *rule,
	    const char *msg, void *arg)
{
	struct compile *c = arg;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR)
		c->errors++;
	if (c->errs)
		fprintf(
		    c->errs, "%s:%d: %s: %s\n", file ? file : "(rules)", line,
		    level == YARA_ERROR_LEVEL_ERROR ? "error" : "warning", msg);
}

static const char *const source_suffixes[] = {".yar", ".yara", NULL};

/*
 * Add one source file. After a failed file the compiler refuses more, so
 * later files are each checked in a compiler of their own: every broken
 * file is reported, not only the first.
 */
static void
add_source(YR_COMPILER **cp, struct compile *c, const char *path)
{
	FILE *fp = fopen(path, "r");
	YR_COMPILER *scratch = NULL;
	YR_COMPILER *comp = *cp;

	if (fp == NULL) {
		c->errors++;
		if (c->errs)
			fprintf(c->errs, "%s: %s\n", path, strerror(errno));
		return;
	}
	if (c->errors) {
		if (yr_compiler_create(&scratch) != ERROR_SUCCESS) {
			fclose(fp);
			c->errors++;
			return;
		}
		yr_compiler_set_callback(scratch, compiler_cb, c);
		comp = scratch;
	}
	(void)yr_compiler_add_file(comp, fp, NULL, path);
	fclose(fp);
	if (scratch)
		yr_compiler_destroy(scratch);
}

/* A folder's source file, for vg_dir_each(). */
struct listed {
	YR_COMPILER **comp;
	struct compile *c;
	unsigned *files;
};

static void
add_listed(const char *path, void *arg)
{
	struct listed *dl = arg;

	if (*dl->files >= MAX_FILES)
		return;
	add_source(dl->comp, dl->c, path);
	(*dl->files)++;
}

/* The external variables every set gets (yarascan.h). */
static int
define_externals(YR_COMPILER *comp)
{
	if (yr_compiler_define_string_variable(comp, "filename", "") !=
		ERROR_SUCCESS ||
	    yr_compiler_define_string_variable(comp, "filepath", "") !=
		ERROR_SUCCESS ||
	    yr_compiler_define_string_variable(comp, "extension", "") !=
		ERROR_SUCCESS)
		return -1;
	return 0;
}

static enum vg_err
compile_sources(YR_RULES **out, char *const *paths, unsigned n,
		unsigned *n_files, FILE *errs)
{
	struct compile c = {errs, 0};
	YR_COMPILER *comp = NULL;
	unsigned i, files = 0;
	struct listed dl = {&comp, &c, &files};
	enum vg_err rc = VG_OK;

	if (yr_compiler_create(&comp) != ERROR_SUCCESS)
		return VG_ENOMEM;
	yr_compiler_set_callback(comp, compiler_cb, &c);
	if (define_externals(comp) < 0) {
		rc = VG_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct stat sb;

		if (stat(paths[i], &sb) != 0) {
			c.errors++;
			if (errs)
				fprintf(errs, "%s: %s\n", paths[i],
					strerror(errno));
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			add_source(&comp, &c, paths[i]);
			files++;
			continue;
		}
		if (vg_dir_each(paths[i], source_suffixes, add_listed, &dl) !=
		    0) {
			c.errors++;
			if (errs)
				fprintf(errs, "%s: %s\n", paths[i],
					strerror(errno));
		}
	}
	if (c.errors) {
		rc = VG_EINVAL;
		goto out;
	}
	if (yr_compiler_get_rules(comp, out) != ERROR_SUCCESS) {
		rc = VG_ENOMEM;
		goto out;
	}
	*n_files = files;
out:
	yr_compiler_destroy(comp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Describing the rules                                                 */

/* Strings of the description are packed into one block: first sized. */
struct pack {
	char *p;     /* NULL while sizing */
	size_t used; /* bytes */
};

static char *
pack_str(struct pack *pk, const char *s, size_t n)
{
	char *dst = pk->p ? pk->p + pk->used : NULL;

	if (dst) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
	pk->used += n + 1;
	return dst;
}

static bool
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == ';';
}

/* Number of MITRE ids in s; stores them when out is not NULL. */
static unsigned
split_ids(struct pack *pk, const char *s, char **out)
{
	unsigned n = 0;

	while (s && *s) {
		const char *e;

		while (*s && is_sep(*s))
			s++;
		for (e = s; *e && !is_sep(*e); e++)
			;
		if (e > s) {
			char *id = pack_str(pk, s, (size_t)(e - s));

			if (out)
				out[n] = id;
			n++;
		}
		s = e;
	}
	return n;
}

static const struct {
	const char *name;
	unsigned eve;
} severities[] = {
    {"critical", 1}, {"high", 1}, {"medium", 2}, {"low", 3}, {"info", 4},
};

/* FNV-1a of "ns:name", for rules without a sid: stable across loads. */
static uint32_t
derived_sid(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = ns; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ ':') * 16777619u;
	for (p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h | 0x80000000u;
}

/*
 * Fill (or, with pk->p NULL, size) the description of every rule. Pass 1
 * counts strings, metas and pointers; pass 2 writes them.
 */
static void
describe(struct vg_yara *y, struct pack *pk, size_t *n_meta, size_t *n_ptr)
{
	const YR_RULE *rule;
	size_t mi = 0, pi = 0;
	unsigned i = 0;
	bool write = pk->p != NULL;

	yr_rules_foreach(y->rules, rule)
	{
		struct vg_file_rule *d = write ? &y->desc[i] : NULL;
		struct vg_alert_info *a = d ? &d->alert : NULL;
		const char *tag, *mitre = NULL;
		const YR_META *meta;
		unsigned nt = 0, nm = 0;
		char **tags = write ? &y->ptrs[pi] : NULL;

		yr_rule_tags_foreach(rule, tag)
		{
			char *t = pack_str(pk, tag, strlen(tag));

			if (tags)
				tags[nt] = t;
			nt++;
		}
		pi += nt;
		if (d) {
			d->name = pack_str(pk, rule->identifier,
					   strlen(rule->identifier));
			d->ns = pack_str(pk, rule->ns->name,
					 strlen(rule->ns->name));
			d->tags = tags;
			d->n_tags = nt;
			d->meta = &y->metas[mi];
			a->signature = d->name;
			a->rev = 1;
			a->severity = 2;
			a->severity_name = "medium";
			a->category = "file";
			a->tags = tags;
			a->n_tags = nt;
			a->signature_id =
			    derived_sid(rule->ns->name, rule->identifier);
		} else {
			pack_str(pk, rule->identifier,
				 strlen(rule->identifier));
			pack_str(pk, rule->ns->name, strlen(rule->ns->name));
		}
		yr_rule_metas_foreach(rule, meta)
		{
			struct vg_file_meta *m = write ? &y->metas[mi] : NULL;
			const char *key = pack_str(pk, meta->identifier,
						   strlen(meta->identifier));
			const char *str = NULL;

			if (meta->type == META_TYPE_STRING)
				str = pack_str(pk, meta->string,
					       strlen(meta->string));
			mi++;
			nm++;
			if (meta->type == META_TYPE_STRING &&
			    strcmp(meta->identifier, "mitre") == 0)
				mitre = meta->string;
			if (m == NULL)
				continue;
			m->key = key;
			m->str = str;
			m->num = meta->integer;
			m->type = meta->type == META_TYPE_STRING ? VG_META_STR
				  : meta->type == META_TYPE_BOOLEAN
				      ? VG_META_BOOL
				      : VG_META_INT;
			if (strcmp(key, "sid") == 0 &&
			    meta->type == META_TYPE_INTEGER &&
			    meta->integer > 0 && meta->integer <= UINT32_MAX)
				a->signature_id = (uint32_t)meta->integer;
			else if (strcmp(key, "rev") == 0 &&
				 meta->type == META_TYPE_INTEGER &&
				 meta->integer > 0 &&
				 meta->integer <= UINT32_MAX)
				a->rev = (uint32_t)meta->integer;
			else if (strcmp(key, "category") == 0 && str && str[0])
				a->category = str;
			else if (strcmp(key, "severity") == 0 && str) {
				unsigned k;

				for (k = 0; k < VG_ARRAY_LEN(severities); k++)
					if (strcasecmp(
						str, severities[k].name) == 0) {
						a->severity = severities[k].eve;
						a->severity_name =
						    severities[k].name;
					}
			}
		}
		if (d) {
			d->n_meta = nm;
			a->mitre = &y->ptrs[pi];
			a->n_mitre = split_ids(pk, mitre, &y->ptrs[pi]);
			pi += a->n_mitre;
		} else {
			pi += split_ids(pk, mitre, NULL);
		}
		i++;
	}
	*n_meta = mi;
	*n_ptr = pi;
}

static enum vg_err
build_descriptions(struct vg_yara *y)
{
	struct pack pk = {NULL, 0};
	const YR_RULE *rule;
	size_t n_meta, n_ptr;

	y->n_rules = 0;
	yr_rules_foreach(y->rules, rule) y->n_rules++;
	y->desc = vg_calloc(y->n_rules ? y->n_rules : 1, sizeof(*y->desc));
	if (y->desc == NULL)
		return VG_ENOMEM;
	describe(y, &pk, &n_meta, &n_ptr);
	y->strs = malloc(pk.used ? pk.used : 1);
	y->metas = vg_calloc(n_meta ? n_meta : 1, sizeof(*y->metas));
	y->ptrs = vg_calloc(n_ptr ? n_ptr : 1, sizeof(*y->ptrs));
	if (y->strs == NULL || y->metas == NULL || y->ptrs == NULL)
		return VG_ENOMEM;
	pk.p = y->strs;
	pk.used = 0;
	describe(y, &pk, &n_meta, &n_ptr);
	return VG_OK;
}

static void
yara_free(struct vg_yara *y)
{
	if (y->memfd >= 0)
		close(y->memfd);
	pthread_mutex_destroy(&y->memfd_mu);
	if (y->rules)
		yr_rules_destroy(y->rules);
	free(y->desc);
	free(y->strs);
	free(y->metas);
	free(y->ptrs);
	free(y);
}

static struct vg_yara *
yara_alloc(void)
{
	struct vg_yara *y = calloc(1, sizeof(*y));

	if (y == NULL)
		return NULL;
	atomic_init(&y->refs, 1);
	pthread_mutex_init(&y->memfd_mu, NULL);
	y->memfd = -1;
	return y;
}

enum vg_err
vg_yara_load(struct vg_yara **out, char *const *paths, unsigned n, FILE *errs)
{
	struct vg_yara *y;
	unsigned i, compiled = 0;
	enum vg_err rc;

	*out = NULL;
	if (lib_init() != VG_OK)
		return VG_ENOMEM;
	if (n == 0) {
		if (errs)
			fprintf(errs, "files.rules: no YARA rules given\n");
		return VG_EINVAL;
	}
	for (i = 0; i < n; i++)
		if (vg_has_suffix(paths[i],
				  (const char *const[]){".yarc", NULL}))
			compiled++;
	if (compiled && n > 1) {
		if (errs)
			fprintf(errs, "files.rules: a compiled rule file "
				      "(.yarc) must be the only entry\n");
		return VG_EINVAL;
	}
	y = yara_alloc();
	if (y == NULL)
		return VG_ENOMEM;
	if (compiled) {
		int yrc = yr_rules_load(paths[0], &y->rules);

		if (yrc != ERROR_SUCCESS) {
			if (errs)
				fprintf(errs, "%s: %s\n", paths[0],
					yrc == ERROR_COULD_NOT_OPEN_FILE
					    ? strerror(errno)
					: yrc == ERROR_UNSUPPORTED_FILE_VERSION
					    ? "compiled by another YARA "
					      "version"
					    : "not a compiled YARA rule file");
			y->rules = NULL;
			yara_free(y);
			return VG_EIO;
		}
		y->n_files = 1;
	} else {
		rc = compile_sources(&y->rules, paths, n, &y->n_files, errs);
		if (rc != VG_OK) {
			y->rules = NULL;
			yara_free(y);
			return rc;
		}
	}
	rc = build_descriptions(y);
	if (rc != VG_OK) {
		yara_free(y);
		return rc;
	}
	y->version = atomic_fetch_add(&next_version, 1);
	*out = y;
	return VG_OK;
}

void
vg_yara_ref(struct vg_yara *y)
{
	atomic_fetch_add(&y->refs, 1);
}

void
vg_yara_unref(struct vg_yara *y)
{
	if (y != NULL && atomic_fetch_sub(&y->refs, 1) == 1)
		yara_free(y);
}

uint64_t
vg_yara_version(const struct vg_yara *y)
{
	return y->version;
}

unsigned
vg_yara_rule_count(const struct vg_yara *y)
{
	return y->n_rules;
}

unsigned
vg_yara_file_count(const struct vg_yara *y)
{
	return y->n_files;
}

const struct vg_file_rule *
vg_yara_rule(const struct vg_yara *y, unsigned i)
{
	return i < y->n_rules ? &y->desc[i] : NULL;
}

unsigned
vg_yara_rule_index(const struct vg_yara *y, const struct vg_file_rule *r)
{
	if (r < y->desc || r >= y->desc + y->n_rules)
		return UINT_MAX;
	return (unsigned)(r - y->desc);
}

const char *
vg_yara_rule_string(const struct vg_yara *y, unsigned i, unsigned k)
{
	const YR_RULE *rule;
	const YR_STRING *str;
	unsigned at = 0;

	if (i >= y->n_rules)
		return NULL;
	rule = &y->rules->rules_table[i];
	yr_rule_strings_foreach(rule, str)
	{
		if (at++ == k)
			return str->identifier;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* A compiled set handed to another process                             */

struct fd_stream {
	int fd;
	off_t off;
	int failed;
};

static size_t
fd_stream_write(const void *p, size_t size, size_t count, void *arg)
{
	struct fd_stream *st = arg;
	size_t n = size * count, done = 0;

	if (size != 0 && n / size != count)
		return 0;
	while (done < n) {
		ssize_t w =
		    pwrite(st->fd, (const char *)p + done, n - done, st->off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			st->failed = 1;
			return 0;
		}
		done += (size_t)w;
		st->off += w;
	}
	return count;
}

static size_t
fd_stream_read(void *p, size_t size, size_t count, void *arg)
{
	struct fd_stream *st = arg;
	size_t n = size * count, done = 0;

	if (size == 0 || n / size != count)
		return 0;
	while (done < n) {
		ssize_t r = pread(st->fd, (char *)p + done, n - done, st->off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return done / size;
		done += (size_t)r;
		st->off += r;
	}
	return count;
}

int
vg_yara_memfd(struct vg_yara *y)
{
	const unsigned seals =
	    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct fd_stream st = {-1, 0, 0};
	YR_STREAM stream;
	int fd;

	pthread_mutex_lock(&y->memfd_mu);
	fd = y->memfd;
	if (fd >= 0)
		goto out;
	st.fd =
	    memfd_create("vigil-yara-rules", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (st.fd < 0)
		goto out;
	stream.user_data = &st;
	stream.read = NULL;
	stream.write = fd_stream_write;
	if (yr_rules_save_stream(y->rules, &stream) != ERROR_SUCCESS ||
	    st.failed || fcntl(st.fd, F_ADD_SEALS, seals) != 0) {
		close(st.fd);
		errno = errno ? errno : EIO;
		goto out;
	}
	fd = y->memfd = st.fd;
out:
	pthread_mutex_unlock(&y->memfd_mu);
	return fd;
}

enum vg_err
vg_yara_load_fd(struct vg_yara **out, int fd)
{
	struct fd_stream st = {fd, 0, 0};
	YR_STREAM stream;
	struct vg_yara *y;
	enum vg_err rc;

	*out = NULL;
	if (lib_init() != VG_OK)
		return VG_ENOMEM;
	y = yara_alloc();
	if (y == NULL)
		return VG_ENOMEM;
	stream.user_data = &st;
	stream.read = fd_stream_read;
	stream.write = NULL;
	if (yr_rules_load_stream(&stream, &y->rules) != ERROR_SUCCESS) {
		y->rules = NULL;
		yara_free(y);
		return VG_EIO;
	}
	rc = build_descriptions(y);
	if (rc != VG_OK) {
		yara_free(y);
		return rc;
	}
	y->n_files = 1;
	y->version = atomic_fetch_add(&next_version, 1);
	*out = y;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* Scanning                                                             */

static int
scan_cb(YR_SCAN_CONTEXT *ctx, int msg, void *data, void *arg)
{
	struct vg_yara_scanner *s = arg;
	YR_RULE *rule = data;
	YR_STRING *str;
	struct vg_file_match *m;
	unsigned idx, ns = 0, k = 0;

	if (msg != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	if (s->n == VG_YARA_MAX_MATCHES) {
		s->more++;
		return CALLBACK_CONTINUE;
	}
	idx = (unsigned)(rule - s->y->rules->rules_table);
	if (idx >= s->y->n_rules)
		return CALLBACK_CONTINUE;
	m = &s->m[s->n];
	m->rule = &s->y->desc[idx];
	m->strings = s->s[s->n];
	yr_rule_strings_foreach(rule, str)
	{
		struct vg_file_string *fs;
		YR_MATCH *mt, copy;
		uint64_t count = 0;

		if (ns == VG_YARA_MAX_STRINGS)
			break;
		k++;
		fs = &s->s[s->n][ns];
		fs->n = 0;
		fs->offsets = s->offs[s->n][ns];
		/*
		 * libyara keeps its matches in a notebook that does not align
		 * them: each is copied out before a field is read, which is
		 * yr_string_matches_foreach() done without misaligned loads.
		 */
		for (mt = ctx->matches[str->idx].head; mt != NULL;
		     mt = copy.next) {
			memcpy(&copy, mt, sizeof(copy));
			if (copy.is_private)
				continue;
			if (fs->n < VG_YARA_MAX_OFFSETS)
				s->offs[s->n][ns][fs->n++] =
				    (uint64_t)(copy.base + copy.offset);
			count++;
		}
		if (count == 0)
			continue;
		fs->id = str->identifier;
		fs->idx = k - 1;
		fs->count = count;
		ns++;
	}
	m->n_strings = ns;
	s->n++;
	return CALLBACK_CONTINUE;
}

enum vg_err
vg_yara_scanner_new(struct vg_yara_scanner **out, struct vg_yara *y,
		    unsigned timeout_s)
{
	struct vg_yara_scanner *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return VG_ENOMEM;
	s->offs = vg_calloc(VG_YARA_MAX_MATCHES, sizeof(*s->offs));
	if (s->offs == NULL ||
	    yr_scanner_create(y->rules, &s->sc) != ERROR_SUCCESS) {
		free(s->offs);
		free(s);
		return VG_ENOMEM;
	}
	vg_yara_ref(y);
	s->y = y;
	yr_scanner_set_callback(s->sc, scan_cb, s);
	yr_scanner_set_timeout(s->sc, (int)timeout_s);
	*out = s;
	return VG_OK;
}

void
vg_yara_scanner_free(struct vg_yara_scanner *s)
{
	if (s == NULL)
		return;
	yr_scanner_destroy(s->sc);
	vg_yara_unref(s->y);
	free(s->offs);
	free(s);
}

struct vg_yara *
vg_yara_scanner_rules(const struct vg_yara_scanner *s)
{
	return s->y;
}

void
vg_yara_scanner_set_file(struct vg_yara_scanner *s, const char *path)
{
	const char *base, *dot;
	size_t i;

	path = path ? path : "";
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->name, sizeof(s->name), "%s", base);
	s->ext[0] = '\0';
	if (dot && dot != base && strlen(dot + 1) < sizeof(s->ext)) {
		for (i = 0; dot[1 + i]; i++)
			s->ext[i] =
			    (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z'
				       ? dot[1 + i] - 'A' + 'a'
				       : dot[1 + i]);
		s->ext[i] = '\0';
	}
	/* Defined at load, so these cannot fail for want of the name. */
	(void)yr_scanner_define_string_variable(s->sc, "filename", s->name);
	(void)yr_scanner_define_string_variable(s->sc, "filepath", s->path);
	(void)yr_scanner_define_string_variable(s->sc, "extension", s->ext);
}

enum vg_err
vg_yara_scan(struct vg_yara_scanner *s, const void *data, size_t len,
	     const struct vg_file_match **matches, unsigned *n, unsigned *more)
{
	int rc;

	s->n = 0;
	s->more = 0;
	rc = yr_scanner_scan_mem(s->sc, data, len);
	*matches = s->m;
	*n = s->n;
	*more = s->more;
	switch (rc) {
	case ERROR_SUCCESS:
		return VG_OK;
	case ERROR_SCAN_TIMEOUT:
		return VG_ELIMIT;
	case ERROR_INSUFFICIENT_MEMORY:
		return VG_ENOMEM;
	default:
		return VG_EIO;
	}
}
