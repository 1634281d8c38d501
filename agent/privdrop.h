/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The privilege drop of `vigil-agent run` (libcap).
 *
 * Started as root, the agent opens what needs root first (capture
 * handles; its own state folders are created and given to the user),
 * then becomes privileges.user for good: supplementary groups, gid and
 * uid (real, effective and saved) are switched, and the capability sets
 * are cut to exactly what the configuration needs:
 *
 *   CAP_NET_RAW           when interfaces are captured (promiscuous
 *                         mode is a membership of the packet socket)
 *   CAP_DAC_READ_SEARCH   when files.watch lists folders
 *
 * Everything else leaves the bounding set too, ambient and inheritable
 * sets are emptied and PR_SET_NO_NEW_PRIVS is set, so no exec can bring
 * any of it back. The result is checked (setuid(0) must fail) and a
 * failure is fatal: the agent never runs half-dropped.
 *
 * Started as another user (under systemd with User=vigil and
 * AmbientCapabilities=), only the capabilities it does not need are
 * dropped. Root is kept only when told to, with privileges.allow_root
 * (or --allow-root): the uid stays 0 (privileges.user is not used) but
 * the capabilities are cut all the same.
 *
 * Threads would keep their own capability sets: all of this runs before
 * the first thread is started.
 */
#ifndef VG_PRIVDROP_H
#define VG_PRIVDROP_H

#include "common.h"
#include "config.h"

#include <sys/types.h>

#define VG_PRIVDROP_MAX_GROUPS 64 /* supplementary groups kept at most */

/* A drop planned by vg_privdrop_plan (caller's storage, nothing owned). */
struct vg_privdrop {
	int switch_user; /* 1: started as root, become uid/gid below */
	uid_t uid;
	gid_t gid;
	gid_t groups[VG_PRIVDROP_MAX_GROUPS];
	unsigned n_groups;
	char user[64]; /* for the log line */
	char group[64];
	uint64_t caps; /* 1 << CAP_* of the capabilities to keep */
};

/* The capabilities cfg's work needs (bits 1 << CAP_*). */
uint64_t vg_privdrop_caps_for(const struct vg_config *cfg);

/*
 * Plan the drop for cfg, before anything is opened: resolve
 * privileges.user and privileges.group when running as root. With
 * allow_root (privileges.allow_root or --allow-root) a root start keeps
 * uid 0 and only drops capabilities. VG_OK, or VG_EINVAL
 * with err saying "FILE:LINE: privileges.user: no such user \"x\"" (or
 * the like), VG_ELIMIT when the user is in more than
 * VG_PRIVDROP_MAX_GROUPS groups.
 */
enum vg_err vg_privdrop_plan(struct vg_privdrop *pd,
			     const struct vg_config *cfg, int allow_root,
			     char *err, size_t errlen) VG_MUST_CHECK;

/*
 * One of the agent's own state folders (spool, quarantine, the control
 * socket's), named by key in messages: when the drop switches user,
 * create it (with mode, e.g. 0700) if it
 * is missing and give it to the user; a folder that was there is left
 * alone, with a warning if the user does not own it. Nothing is done
 * without a user switch. VG_OK or VG_EIO (err says why).
 */
enum vg_err vg_privdrop_prepare_dir(const struct vg_privdrop *pd,
				    const char *dir, mode_t mode,
				    const char *key, char *err,
				    size_t errlen) VG_MUST_CHECK;

/*
 * An output file the agent writes (output.file.path), named by key: when
 * the drop switches user and it is missing, create it empty (mode 0640)
 * and give it to the user. An existing file is left alone. Its folder
 * must let the user write for rotation. VG_OK or VG_EIO.
 */
enum vg_err vg_privdrop_prepare_file(const struct vg_privdrop *pd,
				     const char *path, const char *key,
				     char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Do the drop and check it. Call from the only thread. VG_OK, or VG_EIO
 * with err saying which step failed: the caller must then exit.
 */
enum vg_err vg_privdrop_apply(const struct vg_privdrop *pd, char *err,
			      size_t errlen) VG_MUST_CHECK;

/* "user vigil (uid 998, gid 998), capabilities cap_net_raw" into buf. */
void vg_privdrop_describe(const struct vg_privdrop *pd, char *buf,
			  size_t bufsz);

#endif /* VG_PRIVDROP_H */
