/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File quarantine: move a file that matched a YARA rule out of the way,
 * keep a record of what it was, list the quarantine, restore an item
 * exactly.
 *
 * The file scanner calls vg_quarantine_file() with the descriptor it
 * scanned when quarantine is on; the control side (an administrator's
 * command) calls vg_quarantine_list() and vg_quarantine_restore(). All
 * functions are self-contained (no shared state) and may be called from
 * several threads at once.
 *
 * No data is ever lost: at every instant, a crash between any two system
 * calls included, the file's bytes are at the original path, in the
 * quarantine folder, or both (a duplicate is acceptable, a loss never).
 *
 * Storage layout of a quarantine folder (created 0700)
 * ----------------------------------------------------
 *  ID.data   the file's bytes, mode 0, owned by the agent (root when the
 *            agent runs as root)
 *  ID.json   the record: one JSON object,
 *              {"id": "20261201T101500Z-3f2a9c1e",
 *               "path": "/srv/www/x.php",    original absolute path
 *               "rule": "Webshell_Generic",  may be ""
 *               "sha256": "<64 lower-case hex digits>",
 *               "size": 1234, "uid": 33, "gid": 33,
 *               "mode": "0644",              st_mode & 07777, octal
 *               "atime_ns": ..., "mtime_ns": ...,  ns since the epoch
 *               "quarantined_us": ...}       wall clock, us
 *            JSON strings are UTF-8: a path that is not valid UTF-8 is
 *            stored as "path_hex" (its bytes in lower-case hex, which is
 *            what counts) next to "path" (the same with each bad byte
 *            shown as '?'). A rule name that is not valid UTF-8 gets its
 *            bad bytes replaced by '?'.
 *  *.tmp     files being written (ID.json.tmp, ID.data.tmp); only a crash
 *            leaves one behind. vg_quarantine_restore() still finds the
 *            bytes in ID.data.tmp when a crash came after ID.json was in
 *            place but before ID.data was.
 *
 * An ID is the UTC time of quarantine and 8 random hex digits; any ID
 * accepted from outside must match ^[0-9A-Za-z-]{1,39}$, so an ID can
 * never name a path outside the folder. Records are untrusted on read:
 * every field's type and range is checked, unknown and duplicate keys are
 * refused.
 */
#ifndef VG_QUARANTINE_H
#define VG_QUARANTINE_H

#include "common.h"

#include <stdint.h>
#include <sys/stat.h>

/* Longest item ID, in characters (the ID of a new item has 25). */
#define VG_QUARANTINE_ID_MAX 39
/* Longest original or restore path, in bytes (PATH_MAX - 1). */
#define VG_QUARANTINE_PATH_MAX 4095
/* Longest rule name kept in a record, in bytes (longer ones are cut). */
#define VG_QUARANTINE_RULE_MAX 1024
/* Largest record file read back, in bytes. */
#define VG_QUARANTINE_RECORD_MAX (64 * 1024)
/* Bytes a file may have grown by since the scan and still be copied
 * whole (kept as a changed copy); past that it is not quarantined. */
#define VG_QUARANTINE_GROWTH_MAX (64ull * 1024 * 1024)
/* Most items vg_quarantine_list() returns (then VG_ELIMIT). */
#define VG_QUARANTINE_MAX_ITEMS (1024 * 1024)

/* One quarantined file, as its record describes it. */
struct vg_quarantine_item {
	char id[VG_QUARANTINE_ID_MAX + 1]; /* "20261201T101500Z-3f2a9c1e" */
	char *path;                        /* original absolute path (owned) */
	char *rule;                        /* matching rule (owned) or "" */
	char sha256[65];                   /* of the bytes, lower-case hex */
	uint64_t size;                     /* bytes */
	uint32_t uid, gid;                 /* original owner */
	uint32_t mode;                     /* original st_mode & 07777 */
	int64_t atime_ns, mtime_ns;        /* original times, ns since epoch */
	int64_t quarantined_us;            /* when, wall clock us */
};

/*
 * Quarantine the file the scanner has open as fd (any descriptor that can
 * be read with pread(2); borrowed: neither closed nor moved), which it
 * found at path (absolute) and whose fstat(2) is st (borrowed), into the
 * folder qdir (created 0700 when missing; its parent must exist).
 * sha256 is the SHA-256 the scanner computed (64 hex digits, any case),
 * or NULL to have it computed from fd. rule is the matching rule's name
 * (copied, cut to VG_QUARANTINE_RULE_MAX bytes; NULL is "").
 *
 * How the bytes get there:
 *  - When qdir is on path's filesystem, path still names the inode of st
 *    (lstat: same device and inode, a regular file, not a symlink), the
 *    file has a single link and the agent may change its mode, the file is
 *    renamed into qdir (no copy), then made mode 0 and the agent's.
 *  - Otherwise (another filesystem, a hard-linked file, a file already
 *    unlinked or replaced at path, a refused rename) the bytes are copied
 *    from fd itself, never by reopening path; once the copy and its record
 *    are durable, path is unlinked if it still names the inode of st.
 *    So a file that was unlinked after the scanner opened it is still
 *    quarantined (VG_OK, the record holds path); and when another file
 *    has been put at path since the scan, the scanned bytes are
 *    quarantined from fd and the other file is left at path untouched
 *    (VG_OK too: it is not the file that matched, and the scanner will see
 *    it as a new file).
 *
 * Returns:
 *  VG_OK      quarantined: path no longer names the scanned file. When
 *             item_out is not NULL it is filled (caller's storage: free its
 *             contents with vg_quarantine_item_fini).
 *  VG_EINVAL  a bad argument: NULL or empty qdir, NULL path or st; path
 *             not absolute, ending in '/' or longer than
 *             VG_QUARANTINE_PATH_MAX; st not a regular file, or not the
 *             file open as fd (or fd not open); sha256 not 64 hex digits.
 *  VG_EIO     a system call failed, or the file has changed since the scan
 *             (its size is no longer st->st_size, or its SHA-256 is not
 *             sha256). The file is left where it was and qdir keeps no
 *             part of it, except in these cases, which err spells out
 *             ("kept in quarantine as ID"): a file that changed is copied
 *             to its end and the copy kept as a complete item next to the
 *             original (but nothing is kept of one that grew by more than
 *             VG_QUARANTINE_GROWTH_MAX bytes); a copy whose original could
 *             not be checked or removed afterwards is kept (the bytes may
 *             then be in both places); a moved file that could not be
 *             moved back is kept.
 *  VG_ENOMEM  out of memory (nothing changed).
 * On failure err (errlen bytes, may be NULL) says why, naming the path
 * and the system error, and item_out is untouched.
 */
enum vg_err vg_quarantine_file(const char *qdir, int fd, const char *path,
			       const struct stat *st, const char *sha256,
			       const char *rule,
			       struct vg_quarantine_item *item_out, char *err,
			       size_t errlen) VG_MUST_CHECK;

/*
 * All items of qdir, oldest first (by quarantined_us, then ID). On VG_OK
 * *items is an array of *n items (owned: free with
 * vg_quarantine_items_free(*items, *n); NULL when *n is 0). A missing qdir
 * is an empty list. Records that cannot be read or parsed, or whose ID is
 * not their file's name, are skipped and counted in *bad (may be NULL).
 * The data files are not opened (vg_quarantine_restore checks them).
 *
 * Returns VG_OK, VG_EINVAL (a NULL argument), VG_EIO (qdir cannot be
 * opened or read; errno says why), VG_ELIMIT (more than
 * VG_QUARANTINE_MAX_ITEMS items) or VG_ENOMEM. On failure the outputs are
 * untouched.
 */
enum vg_err vg_quarantine_list(const char *qdir,
			       struct vg_quarantine_item **items, size_t *n,
			       size_t *bad) VG_MUST_CHECK;

/*
 * Restore item id of qdir to dest (NULL: the original path of its record),
 * then remove it from the quarantine.
 *
 * The data's size and SHA-256 must match the record. The bytes are copied
 * into a new file next to dest ("DEST.vigil-restore.XXXXXX", created
 * O_EXCL), which gets the record's owner (when the agent may chown, as
 * root; otherwise the file stays the restoring user's, which is not an
 * error), mode and access and modification times, is made durable, and is
 * then renamed to dest. Without overwrite an existing dest (of any type,
 * a symlink included) is never replaced, even one that appears during the
 * restore; with overwrite it is replaced atomically. The parent folder of
 * dest must exist (it is never created). Only once dest is durable are
 * the record, then the data removed from qdir.
 *
 * Returns:
 *  VG_OK          restored; when item_out is not NULL it is filled with
 *                 the record (caller's storage: free its contents with
 *                 vg_quarantine_item_fini).
 *  VG_EINVAL      a bad argument (NULL qdir or id, an id that does not
 *                 match ^[0-9A-Za-z-]{1,39}$, an empty dest or one ending
 *                 in '/'), no such item, or dest exists and overwrite is 0.
 *  VG_EMALFORMED  the record cannot be parsed or fails a check, or the data
 *                 is missing or does not match it (size or SHA-256): the
 *                 item is refused and left as it is.
 *  VG_EIO         a system call failed (dest's folder is missing, a write
 *                 failed...). dest is untouched, unless err says the file
 *                 was restored but the item could not be removed from qdir
 *                 (then both exist).
 *  VG_ENOMEM      out of memory.
 * On failure err (errlen bytes, may be NULL) says why, no temporary file
 * is left behind, and item_out is untouched.
 */
enum vg_err vg_quarantine_restore(const char *qdir, const char *id,
				  const char *dest, int overwrite,
				  struct vg_quarantine_item *item_out,
				  char *err, size_t errlen) VG_MUST_CHECK;

/* Free what an item owns (not the item itself); accepts NULL. The item
 * may be filled again afterwards. */
void vg_quarantine_item_fini(struct vg_quarantine_item *it);
/* Free an array from vg_quarantine_list(): each item, then the array;
 * accepts NULL. */
void vg_quarantine_items_free(struct vg_quarantine_item *items, size_t n);

#endif /* VG_QUARANTINE_H */
