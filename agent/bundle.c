/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed rule bundles: packing and signing (the collector), checking,
 * parsing and extracting (the agent). The envelope (rules/BUNDLE.md):
 *
 *   0      8  magic "VGBUNDLE"
 *   8      2  format version (1), big-endian like every number here
 *   10     2  reserved, 0
 *   12     4  number of files, 1..VG_BUNDLE_MAX_FILES
 *   16     8  bundle version, > 0
 *   24     8  creation time, seconds since the epoch (signed)
 *   32    32  publisher key id: SHA-256 of the raw Ed25519 public key
 *   64        per file: kind (1), reserved 0 (1), path length (2),
 *             size (4), SHA-256 of the contents (32), then the path
 *   ...       the files' contents, in manifest order, back to back
 *   ...   72  signature trailer: "VGSIG001" and the 64-byte Ed25519
 *             signature over every byte before the trailer
 *
 * Everything is read through bounds checks against the length received:
 * a declared length never reaches past the end, and every byte must be
 * accounted for (no trailing data).
 */
#include "bundle.h"

#include "config.h"
#include "ioc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = {'V', 'G', 'B', 'U', 'N', 'D', 'L', 'E'};
static const char sig_magic[8] = {'V', 'G', 'S', 'I', 'G', '0', '0', '1'};

#define SIG_BYTES 64u

static const char *const why_text[VG_BUNDLE_WHY_COUNT] = {
    [VG_BUNDLE_FINE] = "fine",
    [VG_BUNDLE_MALFORMED] = "malformed",
    [VG_BUNDLE_BAD_FORMAT] = "unknown format",
    [VG_BUNDLE_TOO_LARGE] = "too large",
    [VG_BUNDLE_TOO_MANY] = "too many files",
    [VG_BUNDLE_BAD_PATH] = "bad path",
    [VG_BUNDLE_BAD_KIND] = "bad file kind",
    [VG_BUNDLE_DUPLICATE] = "duplicate path",
    [VG_BUNDLE_BAD_HASH] = "file hash mismatch",
    [VG_BUNDLE_BAD_VERSION] = "bad version",
    [VG_BUNDLE_UNSIGNED] = "unsigned",
    [VG_BUNDLE_WRONG_KEY] = "wrong key",
    [VG_BUNDLE_BAD_SIGNATURE] = "bad signature",
    [VG_BUNDLE_ROLLBACK] = "rollback",
    [VG_BUNDLE_RULES] = "rules do not load",
    [VG_BUNDLE_START] = "does not load at start",
};

const char *
vg_bundle_why_str(enum vg_bundle_why why)
{
	if ((unsigned)why >= VG_BUNDLE_WHY_COUNT)
		return "unknown";
	return why_text[why];
}

uint32_t
vg_bundle_why_sid(enum vg_bundle_why why)
{
	return 9000100u + (uint32_t)why;
}

const char *
vg_bundle_kind_dir(enum vg_bundle_kind kind)
{
	switch (kind) {
	case VG_BUNDLE_NETWORK:
		return "network";
	case VG_BUNDLE_YARA:
		return "yara";
	case VG_BUNDLE_IOC:
		return "ioc";
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Big-endian fields                                                    */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                 */

/* The raw public key of pkey (public or private Ed25519) and its id. */
static enum vg_err
pub_of(EVP_PKEY *pkey, struct vg_bundle_pub *out)
{
	size_t n = sizeof(out->raw);

	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, out->raw, &n) != 1 ||
	    n != sizeof(out->raw) || vg_sha256(out->raw, n, out->id) < 0)
		return VG_EINVAL;
	return VG_OK;
}

enum vg_err
vg_bundle_pub_load(struct vg_bundle_pub *out, const char *path, char *err,
		   size_t errlen)
{
	EVP_PKEY *pkey;
	FILE *f = fopen(path, "re");
	enum vg_err rc;

	memset(out, 0, sizeof(*out));
	if (f == NULL) {
		vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return VG_EIO;
	}
	pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		vg_seterr(err, errlen, "%s: not a PEM public key", path);
		return VG_EINVAL;
	}
	rc = pub_of(pkey, out);
	EVP_PKEY_free(pkey);
	if (rc != VG_OK)
		vg_seterr(err, errlen, "%s: not an Ed25519 public key", path);
	return rc;
}

/* Create path exclusively with mode, as a stdio stream. */
static FILE *
create_excl(const char *path, mode_t mode, char *err, size_t errlen)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* The umask must not widen nor narrow what was asked. */
	(void)fchmod(fd, mode);
	f = fdopen(fd, "w");
	if (f == NULL) {
		vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

enum vg_err
vg_bundle_keygen(const char *prefix, char *err, size_t errlen)
{
	char kpath[4096], ppath[4096];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	FILE *kf = NULL, *pf = NULL;
	enum vg_err rc = VG_EIO;

	if ((size_t)snprintf(kpath, sizeof(kpath), "%s.key", prefix) >=
		sizeof(kpath) ||
	    (size_t)snprintf(ppath, sizeof(ppath), "%s.pub", prefix) >=
		sizeof(ppath)) {
		vg_seterr(err, errlen, "%s: path too long", prefix);
		return VG_EINVAL;
	}
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		vg_seterr(err, errlen, "cannot generate an Ed25519 key");
		rc = VG_ENOMEM;
		goto out;
	}
	kf = create_excl(kpath, 0600, err, errlen);
	if (kf == NULL)
		goto out;
	pf = create_excl(ppath, 0644, err, errlen);
	if (pf == NULL) {
		fclose(kf);
		kf = NULL;
		unlink(kpath);
		goto out;
	}
	if (PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_PUBKEY(pf, pkey) != 1 || fflush(kf) != 0 ||
	    fflush(pf) != 0 || fsync(fileno(kf)) != 0 ||
	    fsync(fileno(pf)) != 0) {
		vg_seterr(err, errlen, "%s: cannot write the key pair", prefix);
		goto out;
	}
	rc = VG_OK;
out:
	if (kf && fclose(kf) != 0)
		rc = VG_EIO;
	if (pf && fclose(pf) != 0)
		rc = VG_EIO;
	if (rc != VG_OK && kf) {
		unlink(kpath);
		unlink(ppath);
	}
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Paths                                                                */

static const char *const net_ext[] = {".yaml", ".yml", NULL};
const char *const vg_bundle_yara_ext[] = {".yar", ".yara", NULL};
const char *const vg_bundle_ioc_ext[] = {".txt", ".csv", NULL};

static const char *const *
kind_ext(enum vg_bundle_kind kind)
{
	switch (kind) {
	case VG_BUNDLE_NETWORK:
		return net_ext;
	case VG_BUNDLE_YARA:
		return vg_bundle_yara_ext;
	case VG_BUNDLE_IOC:
		return vg_bundle_ioc_ext;
	}
	return NULL;
}

/* The length of the extension of name among exts (exact case), or 0. */
static size_t
ext_len(const char *name, size_t len, const char *const *exts)
{
	size_t i, el;

	for (i = 0; exts[i]; i++) {
		el = strlen(exts[i]);
		if (len > el && memcmp(name + len - el, exts[i], el) == 0)
			return el;
	}
	return 0;
}

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int
vg_bundle_ioc_name(const char *path, char *name, size_t namelen,
		   const char **type)
{
	const char *base = strchr(path, '/'), *dash;
	char tname[16];
	size_t len, el, tl;
	int t;

	if (base == NULL || strncmp(path, "ioc/", 4) != 0)
		return -1;
	base++;
	len = strlen(base);
	el = ext_len(base, len, vg_bundle_ioc_ext);
	if (el == 0)
		return -1;
	len -= el;
	/* The list's name follows detection.ioc[].name's rule. */
	if (len >= namelen || !vg_config_name_ok(base, len))
		return -1;
	/* TYPE after the last '-' (no type name has one). */
	for (dash = base + len - 1; dash > base && *dash != '-'; dash--)
		;
	if (dash == base)
		return -1;
	tl = len - (size_t)(dash + 1 - base);
	if (tl == 0 || tl >= sizeof(tname))
		return -1;
	memcpy(tname, dash + 1, tl);
	tname[tl] = '\0';
	t = vg_ioc_type_from_name(tname);
	if (t < 0)
		return -1;
	memcpy(name, base, len);
	name[len] = '\0';
	if (type)
		*type = vg_ioc_type_name((enum vg_ioc_type)t);
	return 0;
}

enum vg_bundle_why
vg_bundle_path_check(enum vg_bundle_kind kind, const char *path, char *err,
		     size_t errlen)
{
	const char *dir = vg_bundle_kind_dir(kind), *base;
	char esc[VG_BUNDLE_MAX_PATH + 16], name[80];
	size_t len = strlen(path), dl, i;

	vg_escape(esc, sizeof(esc), path, len);
	if (dir == NULL) {
		vg_seterr(err, errlen, "%s: unknown kind", esc);
		return VG_BUNDLE_BAD_KIND;
	}
	if (len == 0 || len > VG_BUNDLE_MAX_PATH) {
		vg_seterr(err, errlen, "%s: path length %zu not in 1..%u", esc,
			  len, VG_BUNDLE_MAX_PATH);
		return VG_BUNDLE_BAD_PATH;
	}
	if (path[0] == '/') {
		vg_seterr(err, errlen, "%s: absolute path", esc);
		return VG_BUNDLE_BAD_PATH;
	}
	if (strstr(path, "..") != NULL) {
		vg_seterr(err, errlen, "%s: \"..\" in the path", esc);
		return VG_BUNDLE_BAD_PATH;
	}
	base = strchr(path, '/');
	if (base == NULL || strchr(base + 1, '/') != NULL) {
		vg_seterr(err, errlen, "%s: not FOLDER/NAME", esc);
		return VG_BUNDLE_BAD_PATH;
	}
	dl = (size_t)(base - path);
	if (dl != strlen(dir) || memcmp(path, dir, dl) != 0) {
		vg_seterr(err, errlen, "%s: not in %s/", esc, dir);
		return VG_BUNDLE_BAD_KIND;
	}
	base++;
	if (base[0] == '.' || base[0] == '-' || base[0] == '\0') {
		vg_seterr(err, errlen, "%s: hidden or empty file name", esc);
		return VG_BUNDLE_BAD_PATH;
	}
	for (i = 0; base[i]; i++) {
		if (!name_char(base[i])) {
			vg_seterr(err, errlen,
				  "%s: only letters, digits, '.', '_' and '-' "
				  "are allowed in names",
				  esc);
			return VG_BUNDLE_BAD_PATH;
		}
	}
	if (ext_len(base, strlen(base), kind_ext(kind)) == 0) {
		vg_seterr(err, errlen, "%s: not a %s file name", esc,
			  kind == VG_BUNDLE_NETWORK ? ".yaml/.yml"
			  : kind == VG_BUNDLE_YARA  ? ".yar/.yara"
						    : ".txt/.csv");
		return VG_BUNDLE_BAD_PATH;
	}
	if (kind == VG_BUNDLE_IOC &&
	    vg_bundle_ioc_name(path, name, sizeof(name), NULL) < 0) {
		vg_seterr(err, errlen,
			  "%s: an IoC list is named NAME-TYPE.txt (TYPE ip, "
			  "domain, ja3 or sha256; lower case)",
			  esc);
		return VG_BUNDLE_BAD_PATH;
	}
	return VG_BUNDLE_FINE;
}

/* Whether IoC paths a and b stand for the same list: "ioc/x-ip.txt" and
 * "ioc/x-ip.csv" would both load as list x-ip, one replacing the other. */
static int
same_ioc_list(const char *a, const char *b)
{
	char na[80], nb[80];

	return vg_bundle_ioc_name(a, na, sizeof(na), NULL) == 0 &&
	       vg_bundle_ioc_name(b, nb, sizeof(nb), NULL) == 0 &&
	       strcmp(na, nb) == 0;
}

/* ------------------------------------------------------------------ */
/* Checking and parsing                                                 */

void
vg_bundle_free(struct vg_bundle *b)
{
	if (b == NULL)
		return;
	free(b->files);
	free(b->paths);
	free(b);
}

uint64_t
vg_bundle_peek_version(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < VG_BUNDLE_HEADER_LEN ||
	    memcmp(buf, magic, sizeof(magic)) != 0)
		return 0;
	return get64(buf + 16);
}

static int
verify_sig(const struct vg_bundle_pub *pub, const uint8_t *msg, size_t len,
	   const uint8_t *sig)
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	int ok = 0;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->raw,
					   sizeof(pub->raw));
	md = EVP_MD_CTX_new();
	if (pkey && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(md, sig, SIG_BYTES, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ok;
}

#define REFUSE(w, rc_, ...)                                                    \
	do {                                                                   \
		*why = (w);                                                    \
		vg_seterr(err, errlen, __VA_ARGS__);                           \
		rc = (rc_);                                                    \
		goto out;                                                      \
	} while (0)

enum vg_err
vg_bundle_check(struct vg_bundle **out, const uint8_t *buf, size_t len,
		const struct vg_bundle_pub *pub, enum vg_bundle_why *why,
		char *err, size_t errlen)
{
	struct vg_bundle *b = NULL;
	size_t pos, body, paths_len = 0, data_pos;
	uint32_t n, i, j;
	enum vg_err rc = VG_OK;
	bool has_trailer;

	*out = NULL;
	*why = VG_BUNDLE_FINE;
	if (buf == NULL)
		len = 0;
	if (len > VG_BUNDLE_MAX_BYTES)
		REFUSE(VG_BUNDLE_TOO_LARGE, VG_ELIMIT,
		       "%zu bytes, more than the limit of %u", len,
		       VG_BUNDLE_MAX_BYTES);
	if (len < VG_BUNDLE_HEADER_LEN || memcmp(buf, magic, sizeof(magic)))
		REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
		       "not a rule bundle (no VGBUNDLE header)");
	if (get16(buf + 8) != VG_BUNDLE_FORMAT || get16(buf + 10) != 0)
		REFUSE(VG_BUNDLE_BAD_FORMAT, VG_EMALFORMED,
		       "format %u (flags %u): this agent reads format %u",
		       get16(buf + 8), get16(buf + 10), VG_BUNDLE_FORMAT);
	has_trailer = len >= VG_BUNDLE_HEADER_LEN + VG_BUNDLE_SIG_LEN &&
		      memcmp(buf + len - VG_BUNDLE_SIG_LEN, sig_magic, 8) == 0;
	body = has_trailer ? len - VG_BUNDLE_SIG_LEN : len;

	/* The signature before anything else is believed: a key id that is
	 * not the pinned one, or bytes the key did not sign, end it here. */
	if (pub != NULL) {
		char want[65], got[65];

		if (memcmp(buf + 32, pub->id, VG_BUNDLE_KEYID_LEN) != 0)
			REFUSE(VG_BUNDLE_WRONG_KEY, VG_EMALFORMED,
			       "signed by key %s, the pinned key is %s",
			       vg_hex_encode(got, buf + 32, 32),
			       vg_hex_encode(want, pub->id, 32));
		if (!has_trailer)
			REFUSE(VG_BUNDLE_UNSIGNED, VG_EMALFORMED,
			       "no signature");
		if (!verify_sig(pub, buf, body, buf + body + 8))
			REFUSE(VG_BUNDLE_BAD_SIGNATURE, VG_EMALFORMED,
			       "the signature does not verify against key %s",
			       vg_hex_encode(want, pub->id, 32));
	}

	n = get32(buf + 12);
	if (n == 0)
		REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED, "no files");
	if (n > VG_BUNDLE_MAX_FILES)
		REFUSE(VG_BUNDLE_TOO_MANY, VG_ELIMIT,
		       "%u files, more than the limit of %u", n,
		       VG_BUNDLE_MAX_FILES);
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->files = vg_calloc(n, sizeof(*b->files))) == NULL)
		REFUSE(VG_BUNDLE_FINE, VG_ENOMEM, "out of memory");
	b->format = get16(buf + 8);
	b->version = get64(buf + 16);
	b->created = (int64_t)get64(buf + 24);
	memcpy(b->key_id, buf + 32, VG_BUNDLE_KEYID_LEN);
	b->is_signed = has_trailer;
	b->n_files = n;

	/* Pass 1: the manifest's bounds; where the contents start. */
	pos = VG_BUNDLE_HEADER_LEN;
	for (i = 0; i < n; i++) {
		const uint8_t *e = buf + pos;
		uint16_t pl;

		if (body - pos < VG_BUNDLE_ENTRY_LEN)
			REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
			       "manifest entry %u is cut short", i + 1);
		pl = get16(e + 2);
		if (e[1] != 0)
			REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
			       "manifest entry %u: reserved byte set", i + 1);
		if (pl == 0 || pl > VG_BUNDLE_MAX_PATH)
			REFUSE(VG_BUNDLE_BAD_PATH, VG_EMALFORMED,
			       "manifest entry %u: path length %u not in "
			       "1..%u",
			       i + 1, pl, VG_BUNDLE_MAX_PATH);
		pos += VG_BUNDLE_ENTRY_LEN;
		if (body - pos < pl)
			REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
			       "manifest entry %u: path cut short", i + 1);
		pos += pl;
		paths_len += (size_t)pl + 1;
	}
	b->paths = malloc(paths_len);
	if (b->paths == NULL)
		REFUSE(VG_BUNDLE_FINE, VG_ENOMEM, "out of memory");

	/* Pass 2: each entry, its path and its contents. */
	data_pos = pos;
	pos = VG_BUNDLE_HEADER_LEN;
	paths_len = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *e = buf + pos;
		struct vg_bundle_file *f = &b->files[i];
		uint16_t pl = get16(e + 2);
		uint8_t h[32];
		char *p = b->paths + paths_len;

		f->kind = (enum vg_bundle_kind)e[0];
		f->size = get32(e + 4);
		memcpy(f->sha256, e + 8, 32);
		memcpy(p, e + VG_BUNDLE_ENTRY_LEN, pl);
		p[pl] = '\0';
		f->path = p;
		paths_len += (size_t)pl + 1;
		pos += VG_BUNDLE_ENTRY_LEN + pl;
		if (memchr(p, '\0', pl) != NULL)
			REFUSE(VG_BUNDLE_BAD_PATH, VG_EMALFORMED,
			       "manifest entry %u: NUL in the path", i + 1);
		if (vg_bundle_kind_dir(f->kind) == NULL) {
			char esc[VG_BUNDLE_MAX_PATH + 16];

			REFUSE(VG_BUNDLE_BAD_KIND, VG_EMALFORMED,
			       "%s: unknown kind %u",
			       vg_escape(esc, sizeof(esc), p, pl), e[0]);
		}
		*why = vg_bundle_path_check(f->kind, p, err, errlen);
		if (*why != VG_BUNDLE_FINE) {
			rc = VG_EMALFORMED;
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(b->files[j].path, p) == 0)
				REFUSE(VG_BUNDLE_DUPLICATE, VG_EMALFORMED,
				       "%s: given twice", p);
			if (f->kind == VG_BUNDLE_IOC &&
			    b->files[j].kind == VG_BUNDLE_IOC &&
			    same_ioc_list(b->files[j].path, p))
				REFUSE(VG_BUNDLE_DUPLICATE, VG_EMALFORMED,
				       "%s: the same IoC list as %s", p,
				       b->files[j].path);
		}
		if (body - data_pos < f->size)
			REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
			       "%s: contents cut short (%u bytes declared)", p,
			       f->size);
		f->data = buf + data_pos;
		data_pos += f->size;
		if (vg_sha256(f->data, f->size, h) < 0)
			REFUSE(VG_BUNDLE_FINE, VG_ENOMEM, "SHA-256 failed");
		if (memcmp(h, f->sha256, 32) != 0)
			REFUSE(VG_BUNDLE_BAD_HASH, VG_EMALFORMED,
			       "%s: SHA-256 differs from the manifest's", p);
	}
	if (data_pos != body) {
		/* A trailer-less bundle with bytes after its contents, or a
		 * trailer whose magic was damaged. */
		REFUSE(VG_BUNDLE_MALFORMED, VG_EMALFORMED,
		       "%zu bytes after the last file", body - data_pos);
	}
	if (b->version == 0)
		REFUSE(VG_BUNDLE_BAD_VERSION, VG_EMALFORMED,
		       "version 0 (versions start at 1)");
out:
	if (rc != VG_OK) {
		vg_bundle_free(b);
		return rc;
	}
	*out = b;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* Building                                                             */

struct bfile {
	enum vg_bundle_kind kind;
	char *path;
	uint8_t *data;
	size_t len;
};

struct vg_bundle_builder {
	struct bfile files[VG_BUNDLE_MAX_FILES];
	unsigned n;
	size_t bytes; /* the envelope so far, with header and trailer */
};

enum vg_err
vg_bundle_builder_new(struct vg_bundle_builder **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return VG_ENOMEM;
	(*out)->bytes = VG_BUNDLE_HEADER_LEN + VG_BUNDLE_SIG_LEN;
	return VG_OK;
}

void
vg_bundle_builder_free(struct vg_bundle_builder *bb)
{
	unsigned i;

	if (bb == NULL)
		return;
	for (i = 0; i < bb->n; i++) {
		free(bb->files[i].path);
		free(bb->files[i].data);
	}
	free(bb);
}

enum vg_err
vg_bundle_builder_add(struct vg_bundle_builder *bb, enum vg_bundle_kind kind,
		      const char *path, const uint8_t *data, size_t len,
		      char *err, size_t errlen)
{
	struct bfile *f;
	size_t add;
	unsigned i;

	if (vg_bundle_path_check(kind, path, err, errlen) != VG_BUNDLE_FINE)
		return VG_EINVAL;
	for (i = 0; i < bb->n; i++) {
		if (strcmp(bb->files[i].path, path) == 0) {
			vg_seterr(err, errlen, "%s: given twice", path);
			return VG_EINVAL;
		}
		if (kind == VG_BUNDLE_IOC &&
		    bb->files[i].kind == VG_BUNDLE_IOC &&
		    same_ioc_list(bb->files[i].path, path)) {
			vg_seterr(err, errlen, "%s: the same IoC list as %s",
				  path, bb->files[i].path);
			return VG_EINVAL;
		}
	}
	if (bb->n >= VG_BUNDLE_MAX_FILES) {
		vg_seterr(err, errlen, "%s: more than %u files", path,
			  VG_BUNDLE_MAX_FILES);
		return VG_ELIMIT;
	}
	/* bb->bytes is at most the limit, add at most 40 + 128 bytes (the
	 * path was checked) and len is bounded first: no overflow. */
	add = VG_BUNDLE_ENTRY_LEN + strlen(path);
	if (len > VG_BUNDLE_MAX_BYTES ||
	    bb->bytes + add + len > VG_BUNDLE_MAX_BYTES) {
		vg_seterr(err, errlen,
			  "%s: the bundle would be larger than %u bytes", path,
			  VG_BUNDLE_MAX_BYTES);
		return VG_ELIMIT;
	}
	f = &bb->files[bb->n];
	f->kind = kind;
	f->path = strdup(path);
	f->data = malloc(len ? len : 1);
	if (f->path == NULL || f->data == NULL) {
		free(f->path);
		free(f->data);
		memset(f, 0, sizeof(*f));
		vg_seterr(err, errlen, "out of memory");
		return VG_ENOMEM;
	}
	if (len)
		memcpy(f->data, data, len);
	f->len = len;
	bb->n++;
	bb->bytes += add + len;
	return VG_OK;
}

/* The private key in path, with its public half. */
static EVP_PKEY *
load_priv(const char *path, struct vg_bundle_pub *pub, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *pkey;

	if (f == NULL) {
		vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL || pub_of(pkey, pub) != VG_OK) {
		vg_seterr(err, errlen, "%s: not an Ed25519 private key (PEM)",
			  path);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

enum vg_err
vg_bundle_pack(const struct vg_bundle_builder *bb, uint64_t version,
	       int64_t created, const char *key_path, uint8_t **out,
	       size_t *outlen, char *err, size_t errlen)
{
	struct vg_bundle_pub pub;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL;
	size_t len, pos, siglen = SIG_BYTES;
	unsigned i;
	enum vg_err rc = VG_EINVAL;

	*out = NULL;
	*outlen = 0;
	memset(&pub, 0, sizeof(pub));
	if (version == 0) {
		vg_seterr(err, errlen, "version 0: versions start at 1");
		return VG_EINVAL;
	}
	if (bb->n == 0) {
		vg_seterr(err, errlen, "no files to pack");
		return VG_EINVAL;
	}
	if (key_path && (pkey = load_priv(key_path, &pub, err, errlen)) == NULL)
		return VG_EINVAL;
	len = key_path ? bb->bytes : bb->bytes - VG_BUNDLE_SIG_LEN;
	buf = calloc(1, len);
	if (buf == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	memcpy(buf, magic, sizeof(magic));
	put16(buf + 8, VG_BUNDLE_FORMAT);
	put16(buf + 10, 0);
	put32(buf + 12, bb->n);
	put64(buf + 16, version);
	put64(buf + 24, (uint64_t)created);
	memcpy(buf + 32, pub.id, VG_BUNDLE_KEYID_LEN);
	pos = VG_BUNDLE_HEADER_LEN;
	for (i = 0; i < bb->n; i++) {
		const struct bfile *f = &bb->files[i];
		size_t pl = strlen(f->path);

		buf[pos] = (uint8_t)f->kind;
		put16(buf + pos + 2, (uint16_t)pl);
		put32(buf + pos + 4, (uint32_t)f->len);
		if (vg_sha256(f->data, f->len, buf + pos + 8) < 0) {
			rc = VG_ENOMEM;
			goto out;
		}
		memcpy(buf + pos + VG_BUNDLE_ENTRY_LEN, f->path, pl);
		pos += VG_BUNDLE_ENTRY_LEN + pl;
	}
	for (i = 0; i < bb->n; i++) {
		memcpy(buf + pos, bb->files[i].data, bb->files[i].len);
		pos += bb->files[i].len;
	}
	if (pkey) {
		memcpy(buf + pos, sig_magic, sizeof(sig_magic));
		md = EVP_MD_CTX_new();
		if (md == NULL ||
		    EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1 ||
		    EVP_DigestSign(md, buf + pos + 8, &siglen, buf, pos) != 1 ||
		    siglen != SIG_BYTES) {
			vg_seterr(err, errlen, "signing failed");
			rc = VG_ENOMEM;
			goto out;
		}
		pos += VG_BUNDLE_SIG_LEN;
	}
	if (pos != len) {
		vg_seterr(err, errlen, "internal: packed %zu of %zu bytes", pos,
			  len);
		rc = VG_EINVAL;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = VG_OK;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Extracting                                                           */

static int
write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (vg_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

enum vg_err
vg_bundle_extract(const struct vg_bundle *b, const char *dir, char *err,
		  size_t errlen)
{
	static const enum vg_bundle_kind kinds[] = {
	    VG_BUNDLE_NETWORK, VG_BUNDLE_YARA, VG_BUNDLE_IOC};
	char path[4096];
	unsigned i;

	if (mkdir(dir, 0755) != 0) {
		vg_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return VG_EIO;
	}
	for (i = 0; i < VG_ARRAY_LEN(kinds); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
			 vg_bundle_kind_dir(kinds[i]));
		if (mkdir(path, 0755) != 0) {
			vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
			return VG_EIO;
		}
	}
	for (i = 0; i < b->n_files; i++) {
		const struct vg_bundle_file *f = &b->files[i];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     f->path) >= sizeof(path) ||
		    write_file(path, f->data, f->size) != 0) {
			vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
			return VG_EIO;
		}
	}
	for (i = 0; i < VG_ARRAY_LEN(kinds); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
			 vg_bundle_kind_dir(kinds[i]));
		if (vg_fsync_dir(path) != 0) {
			vg_seterr(err, errlen, "%s: %s", path, strerror(errno));
			return VG_EIO;
		}
	}
	if (vg_fsync_dir(dir) != 0) {
		vg_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return VG_EIO;
	}
	return VG_OK;
}

/* Remove what dirfd/name holds, depth levels of folders at most. */
static int
remove_at(int dirfd, const char *name, int depth)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dirfd, name, 0);
	if (depth <= 0) {
		errno = ENOTEMPTY;
		return -1;
	}
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_at(fd, de->d_name, depth - 1) != 0)
			rc = -1;
	}
	closedir(d);
	if (rc != 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int
vg_bundle_remove_tree(const char *dir)
{
	return remove_at(AT_FDCWD, dir, 2);
}
