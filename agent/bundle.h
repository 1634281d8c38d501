/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed rule bundles: the network rules, YARA rules and IoC lists the
 * center publishes at vigil:rules:bundle, packed into one envelope and
 * signed with Ed25519 (rules/BUNDLE.md describes the bytes).
 *
 * The collector packs and signs (vigil-collector rules publish); the agent
 * checks and extracts (bundlepoll.c). Both use this module, so there is
 * one parser. What comes from Redis is untrusted: vg_bundle_check() reads
 * it only within the given length, under the VG_BUNDLE_MAX_* bounds, and
 * refuses it with a distinct reason (enum vg_bundle_why) for each fault.
 */
#ifndef VG_BUNDLE_H
#define VG_BUNDLE_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>

#define VG_BUNDLE_FORMAT     1u
#define VG_BUNDLE_MAX_BYTES  (16u * 1024 * 1024) /* the whole envelope */
#define VG_BUNDLE_MAX_FILES  256u
#define VG_BUNDLE_MAX_PATH   128u /* bytes of "kind/name.ext" */
#define VG_BUNDLE_HEADER_LEN 64u
#define VG_BUNDLE_ENTRY_LEN  40u /* per file, before its path */
#define VG_BUNDLE_SIG_LEN    72u /* trailer: 8-byte magic + signature */
#define VG_BUNDLE_KEYID_LEN  32u
#define VG_BUNDLE_PUB_LEN    32u

/* The Redis key the center writes and agents read. */
#define VG_BUNDLE_KEY "vigil:rules:bundle"

/* What a file of a bundle is, and the folder it goes to. */
enum vg_bundle_kind {
	VG_BUNDLE_NETWORK = 1, /* network/: .yaml, .yml */
	VG_BUNDLE_YARA = 2,    /* yara/: .yar, .yara */
	VG_BUNDLE_IOC = 3,     /* ioc/: NAME-TYPE.txt or .csv */
};

/* Why a bundle was refused. Each has a distinct alert signature id
 * (vg_bundle_why_sid) and text (vg_bundle_why_str). */
enum vg_bundle_why {
	VG_BUNDLE_FINE = 0,
	VG_BUNDLE_MALFORMED,   /* not an envelope, truncated, trailing bytes */
	VG_BUNDLE_BAD_FORMAT,  /* unknown format version or flags */
	VG_BUNDLE_TOO_LARGE,   /* over VG_BUNDLE_MAX_BYTES */
	VG_BUNDLE_TOO_MANY,    /* over VG_BUNDLE_MAX_FILES files */
	VG_BUNDLE_BAD_PATH,    /* a path breaks the rules (BUNDLE.md) */
	VG_BUNDLE_BAD_KIND,    /* unknown kind, or not the path's folder */
	VG_BUNDLE_DUPLICATE,   /* a path, or an IoC list, given twice */
	VG_BUNDLE_BAD_HASH,    /* a file's SHA-256 is not the manifest's */
	VG_BUNDLE_BAD_VERSION, /* version 0 */
	VG_BUNDLE_UNSIGNED,    /* no signature trailer */
	VG_BUNDLE_WRONG_KEY,   /* signed by another key than the pinned one */
	VG_BUNDLE_BAD_SIGNATURE, /* the signature does not verify */
	VG_BUNDLE_ROLLBACK,      /* version not above the one in force */
	VG_BUNDLE_RULES,         /* its rules do not load */
	VG_BUNDLE_START, /* the one in force does not load at start (with
			    the local configuration): run without it */
	VG_BUNDLE_WHY_COUNT
};

/* "bad signature", ...: static text. */
const char *vg_bundle_why_str(enum vg_bundle_why why);
/* The alert signature id for a refusal: 9000100 + why (reserved range
 * 9000100..9000199, rules/BUNDLE.md). */
uint32_t vg_bundle_why_sid(enum vg_bundle_why why);

/* An Ed25519 public key and its id (SHA-256 of the 32 raw key bytes). */
struct vg_bundle_pub {
	uint8_t raw[VG_BUNDLE_PUB_LEN];
	uint8_t id[VG_BUNDLE_KEYID_LEN];
};

/* One file of a parsed bundle. Pointers borrow the checked buffer. */
struct vg_bundle_file {
	enum vg_bundle_kind kind;
	const char *path; /* NUL-terminated copy, owned by the bundle */
	const uint8_t *data;
	uint32_t size;
	uint8_t sha256[32];
};

/* A parsed bundle: the manifest and its files. */
struct vg_bundle {
	uint32_t format;
	uint64_t version;
	int64_t created; /* seconds since the epoch */
	uint8_t key_id[VG_BUNDLE_KEYID_LEN];
	bool is_signed;
	struct vg_bundle_file *files;
	unsigned n_files;
	char *paths; /* storage of the files' paths */
};

/*
 * Load an Ed25519 public key from a PEM file (SubjectPublicKeyInfo, as
 * written by vg_bundle_keygen or `openssl pkey -pubout`). VG_OK; VG_EIO
 * when the file cannot be read; VG_EINVAL when it holds no Ed25519 public
 * key. err says why, naming the file.
 */
enum vg_err vg_bundle_pub_load(struct vg_bundle_pub *out, const char *path,
			       char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Write a new key pair: PREFIX.key (PKCS#8 PEM private key, mode 0600,
 * created exclusively) and PREFIX.pub (PEM public key, 0644). Neither
 * file may exist yet. VG_OK, VG_EIO (err names the file) or VG_ENOMEM.
 */
enum vg_err vg_bundle_keygen(const char *prefix, char *err,
			     size_t errlen) VG_MUST_CHECK;

/*
 * Check the envelope buf (len bytes, borrowed for the life of *out) and
 * parse it. With pub, the order is: structure of the header, size, key id
 * against pub (VG_BUNDLE_WRONG_KEY), signature over everything before the
 * trailer (VG_BUNDLE_UNSIGNED, VG_BUNDLE_BAD_SIGNATURE), then the
 * manifest and every file's SHA-256. Without pub (display only), the
 * signature is not verified and an unsigned bundle parses.
 *
 * Returns VG_OK (*out owned: vg_bundle_free; *why VG_BUNDLE_FINE), or
 * VG_EMALFORMED / VG_ELIMIT with *why saying which rule was broken and err
 * the detail, or VG_ENOMEM. *out is NULL unless VG_OK.
 */
enum vg_err vg_bundle_check(struct vg_bundle **out, const uint8_t *buf,
			    size_t len, const struct vg_bundle_pub *pub,
			    enum vg_bundle_why *why, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* Accepts NULL. */
void vg_bundle_free(struct vg_bundle *b);

/*
 * Whether path is allowed in a bundle for kind (rules/BUNDLE.md):
 * "network/NAME.yaml", ... Returns VG_BUNDLE_FINE, VG_BUNDLE_BAD_PATH or
 * VG_BUNDLE_BAD_KIND; err says what is wrong.
 */
enum vg_bundle_why vg_bundle_path_check(enum vg_bundle_kind kind,
					const char *path, char *err,
					size_t errlen);

/*
 * The IoC list an "ioc/NAME-TYPE.txt" path stands for: NAME-TYPE into
 * name (namelen bytes) and TYPE ("ip", "domain", "ja3", "sha256"; static)
 * into *type (may be NULL). 0, or -1 when path is not such a name.
 */
int vg_bundle_ioc_name(const char *path, char *name, size_t namelen,
		       const char **type);

/* The file name extensions of YARA files and IoC lists in a bundle
 * (NULL-ended; a bundle's paths use them in this exact case). */
extern const char *const vg_bundle_yara_ext[];
extern const char *const vg_bundle_ioc_ext[];

/* The folder name of kind ("network", "yara", "ioc"), or NULL. */
const char *vg_bundle_kind_dir(enum vg_bundle_kind kind);

/*
 * A bundle being built (collector side). Files are copied in; the
 * builder enforces the same limits the parser does.
 */
struct vg_bundle_builder;

enum vg_err vg_bundle_builder_new(struct vg_bundle_builder **out) VG_MUST_CHECK;
void vg_bundle_builder_free(struct vg_bundle_builder *bb);

/*
 * Add a file (copies path and data). VG_OK; VG_EINVAL for a path the
 * format refuses or a duplicate (path or IoC list); VG_ELIMIT past
 * VG_BUNDLE_MAX_FILES or VG_BUNDLE_MAX_BYTES; VG_ENOMEM. err says why.
 */
enum vg_err vg_bundle_builder_add(struct vg_bundle_builder *bb,
				  enum vg_bundle_kind kind, const char *path,
				  const uint8_t *data, size_t len, char *err,
				  size_t errlen) VG_MUST_CHECK;

/*
 * Pack the files as version (> 0), created at created, and sign with the
 * Ed25519 private key in PEM file key_path (NULL: leave it unsigned, for
 * tests). *out is malloc'ed (owned: free()), *outlen its length.
 * VG_OK, VG_EINVAL (version 0, no usable key: err names the file),
 * VG_ELIMIT, VG_EIO or VG_ENOMEM.
 */
enum vg_err vg_bundle_pack(const struct vg_bundle_builder *bb, uint64_t version,
			   int64_t created, const char *key_path, uint8_t **out,
			   size_t *outlen, char *err,
			   size_t errlen) VG_MUST_CHECK;

/*
 * The version in a bundle's header, read without any check but the
 * magic and length (to say which bundle was refused). 0 when unknown.
 */
uint64_t vg_bundle_peek_version(const uint8_t *buf, size_t len);

/*
 * Write the files of b into folder dir (which must not exist; made 0755),
 * with network/, yara/ and ioc/ below it, every file and folder fsync'ed.
 * Files are created exclusively, never through a link. VG_OK or VG_EIO
 * (err names the path).
 */
enum vg_err vg_bundle_extract(const struct vg_bundle *b, const char *dir,
			      char *err, size_t errlen) VG_MUST_CHECK;

/* Remove a folder vg_bundle_extract made (two levels deep at most, no
 * links followed). 0, or -1 with errno. */
int vg_bundle_remove_tree(const char *dir);

#endif /* VG_BUNDLE_H */
