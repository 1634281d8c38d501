/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The privilege drop of `vigil-agent run`; see privdrop.h for what is
 * kept and why. The only user of libcap.
 */
#define _GNU_SOURCE /* setresuid, getresuid */
#include "privdrop.h"

#include "log.h"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* getpwnam_r's scratch (the first half) and the group lookups' (the
 * second): ERANGE past it. */
#define PW_BUF 16384

#define BIT(c) (UINT64_C(1) << (c))

uint64_t
vg_privdrop_caps_for(const struct vg_config *cfg)
{
	uint64_t caps = 0;

	/* Promiscuous mode included: libpcap asks for it as a membership of
	 * the packet socket, which CAP_NET_RAW covers. */
	if (cfg->n_ifaces > 0)
		caps |= BIT(CAP_NET_RAW);
	if (cfg->n_file_watch > 0)
		caps |= BIT(CAP_DAC_READ_SEARCH);
	return caps;
}

/* "FILE:LINE" of a key (line 0: absent, "FILE"). */
static void
where(char *buf, size_t bufsz, const struct vg_config *cfg, unsigned line)
{
	const char *path = cfg->path ? cfg->path : "(built-in defaults)";

	if (line)
		snprintf(buf, bufsz, "%s:%u", path, line);
	else
		snprintf(buf, bufsz, "%s", path);
}

enum vg_err
vg_privdrop_plan(struct vg_privdrop *pd, const struct vg_config *cfg,
		 int allow_root, char *err, size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char *buf = NULL, at[PATH_MAX + 16];
	int ngroups = VG_PRIVDROP_MAX_GROUPS, rc;
	enum vg_err ret = VG_EINVAL;
	const char *user = cfg->priv_user ? cfg->priv_user : "vigil";

	memset(pd, 0, sizeof(*pd));
	pd->caps = vg_privdrop_caps_for(cfg);
	allow_root = allow_root || cfg->priv_allow_root;
	pd->uid = geteuid();
	pd->gid = getegid();
	if (pd->uid != 0)
		return VG_OK; /* only capabilities to drop */
	snprintf(pd->user, sizeof(pd->user), "root");
	snprintf(pd->group, sizeof(pd->group), "root");
	/* Told to stay root: only the capabilities go. */
	if (allow_root)
		return VG_OK;
	buf = malloc(PW_BUF);
	if (buf == NULL)
		return VG_ENOMEM;
	where(at, sizeof(at), cfg, cfg->priv_user_line);
	rc = getpwnam_r(user, &pw, buf, PW_BUF / 2, &pwp);
	if (pwp == NULL) {
		if (rc != 0 && rc != ENOENT && rc != ESRCH)
			vg_seterr(err, errlen,
				  "%s: privileges.user: \"%s\": %s", at, user,
				  strerror(rc));
		else
			vg_seterr(err, errlen,
				  "%s: privileges.user: no such user \"%s\" "
				  "(refusing to run as root; set "
				  "privileges.allow_root to allow it)",
				  at, user);
		goto out;
	}
	if (pw.pw_uid == 0) {
		vg_seterr(err, errlen,
			  "%s: privileges.user: \"%s\" is root: set "
			  "privileges.allow_root to run as root",
			  at, user);
		goto out;
	}
	pd->switch_user = 1;
	pd->uid = pw.pw_uid;
	pd->gid = pw.pw_gid;
	snprintf(pd->user, sizeof(pd->user), "%s", pw.pw_name);
	snprintf(pd->group, sizeof(pd->group), "%u", (unsigned)pw.pw_gid);
	if (cfg->priv_group != NULL) {
		where(at, sizeof(at), cfg, cfg->priv_group_line);
		rc = getgrnam_r(cfg->priv_group, &gr, buf + PW_BUF / 2,
				PW_BUF / 2, &grp);
		if (grp == NULL) {
			if (rc != 0 && rc != ENOENT && rc != ESRCH)
				vg_seterr(err, errlen,
					  "%s: privileges.group: \"%s\": %s",
					  at, cfg->priv_group, strerror(rc));
			else
				vg_seterr(err, errlen,
					  "%s: privileges.group: no such group "
					  "\"%s\"",
					  at, cfg->priv_group);
			goto out;
		}
		if (grp->gr_gid == 0) {
			vg_seterr(err, errlen,
				  "%s: privileges.group: \"%s\" is root's "
				  "group: set privileges.allow_root to keep it",
				  at, cfg->priv_group);
			goto out;
		}
		pd->gid = grp->gr_gid;
		snprintf(pd->group, sizeof(pd->group), "%s", grp->gr_name);
	} else {
		grp = NULL;
		if (getgrgid_r(pw.pw_gid, &gr, buf + PW_BUF / 2, PW_BUF / 2,
			       &grp) == 0 &&
		    grp != NULL)
			snprintf(pd->group, sizeof(pd->group), "%s",
				 grp->gr_name);
	}
	/* The user's own groups from the group database (and its gid). */
	if (getgrouplist(pw.pw_name, pd->gid, pd->groups, &ngroups) < 0) {
		where(at, sizeof(at), cfg, cfg->priv_user_line);
		vg_seterr(err, errlen,
			  "%s: privileges.user: \"%s\" is in more than %d "
			  "groups",
			  at, user, VG_PRIVDROP_MAX_GROUPS);
		ret = VG_ELIMIT;
		goto out;
	}
	pd->n_groups = (unsigned)ngroups;
	ret = VG_OK;
out:
	free(buf);
	return ret;
}

enum vg_err
vg_privdrop_prepare_dir(const struct vg_privdrop *pd, const char *dir,
			mode_t mode, const char *key, char *err, size_t errlen)
{
	struct stat sb;

	if (!pd->switch_user || dir == NULL || dir[0] == '\0')
		return VG_OK;
	if (mkdir(dir, mode) == 0) {
		if (chown(dir, pd->uid, pd->gid) != 0) {
			vg_seterr(err, errlen, "%s: %s: chown: %s", key, dir,
				  strerror(errno));
			return VG_EIO;
		}
		return VG_OK;
	}
	if (errno != EEXIST) {
		vg_seterr(err, errlen, "%s: %s: %s", key, dir, strerror(errno));
		return VG_EIO;
	}
	/* Not ours to take over: somebody made it, the operator decides. */
	if (stat(dir, &sb) == 0 && sb.st_uid != pd->uid)
		vg_log(LOG_WARNING,
		       "%s: %s is owned by uid %u, not by %s: writes there may "
		       "fail after the privilege drop",
		       key, dir, (unsigned)sb.st_uid, pd->user);
	return VG_OK;
}

enum vg_err
vg_privdrop_prepare_file(const struct vg_privdrop *pd, const char *path,
			 const char *key, char *err, size_t errlen)
{
	int fd;

	if (!pd->switch_user)
		return VG_OK;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0) {
		if (errno == EEXIST)
			return VG_OK;
		vg_seterr(err, errlen, "%s: %s: %s", key, path,
			  strerror(errno));
		return VG_EIO;
	}
	if (fchown(fd, pd->uid, pd->gid) != 0) {
		vg_seterr(err, errlen, "%s: %s: chown: %s", key, path,
			  strerror(errno));
		close(fd);
		return VG_EIO;
	}
	close(fd);
	return VG_OK;
}

/* Set effective and permitted to exactly mask (inheritable: none). */
static int
set_caps(uint64_t mask)
{
	cap_value_t list[64];
	int n = 0, rc;
	cap_value_t c;
	cap_t caps = cap_init();

	if (caps == NULL)
		return -1;
	for (c = 0; c < 64; c++)
		if (mask & BIT(c))
			list[n++] = c;
	rc = (n == 0 ||
	      (cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) == 0 &&
	       cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) == 0))
		 ? cap_set_proc(caps)
		 : -1;
	cap_free(caps);
	return rc;
}

/* The capabilities of this thread's permitted set, as a mask. */
static uint64_t
permitted_now(void)
{
	cap_flag_value_t v;
	uint64_t mask = 0;
	cap_value_t c;
	cap_t caps = cap_get_proc();

	if (caps == NULL)
		return 0;
	for (c = 0; c < 64 && CAP_IS_SUPPORTED(c); c++)
		if (cap_get_flag(caps, c, CAP_PERMITTED, &v) == 0 &&
		    v == CAP_SET)
			mask |= BIT(c);
	cap_free(caps);
	return mask;
}

/* Check the sets are exactly mask (E, P) and nothing (I). */
static int
caps_are(uint64_t mask)
{
	cap_flag_value_t e, p, i;
	cap_value_t c;
	cap_t caps = cap_get_proc();
	int ok = caps != NULL;

	for (c = 0; ok && c < 64 && CAP_IS_SUPPORTED(c); c++) {
		int want = (mask & BIT(c)) != 0;

		if (cap_get_flag(caps, c, CAP_EFFECTIVE, &e) != 0 ||
		    cap_get_flag(caps, c, CAP_PERMITTED, &p) != 0 ||
		    cap_get_flag(caps, c, CAP_INHERITABLE, &i) != 0 ||
		    (e == CAP_SET) != want || (p == CAP_SET) != want ||
		    i == CAP_SET)
			ok = 0;
	}
	cap_free(caps);
	return ok;
}

/* Switch groups, gid and uid for good (capabilities kept meanwhile). */
static enum vg_err
switch_user(const struct vg_privdrop *pd, char *err, size_t errlen)
{
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
		vg_seterr(err, errlen, "prctl(PR_SET_KEEPCAPS): %s",
			  strerror(errno));
		return VG_EIO;
	}
	if (setgroups(pd->n_groups, pd->groups) != 0) {
		vg_seterr(err, errlen, "setgroups: %s", strerror(errno));
		return VG_EIO;
	}
	if (setresgid(pd->gid, pd->gid, pd->gid) != 0) {
		vg_seterr(err, errlen, "setresgid(%u): %s", (unsigned)pd->gid,
			  strerror(errno));
		return VG_EIO;
	}
	if (setresuid(pd->uid, pd->uid, pd->uid) != 0) {
		vg_seterr(err, errlen, "setresuid(%u): %s", (unsigned)pd->uid,
			  strerror(errno));
		return VG_EIO;
	}
	(void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	return VG_OK;
}

/* Does the process hold the ids of pd, and can it not get root back? */
static enum vg_err
verify_ids(const struct vg_privdrop *pd, char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    r != pd->uid || e != pd->uid || s != pd->uid || rg != pd->gid ||
	    eg != pd->gid || sg != pd->gid) {
		vg_seterr(err, errlen, "the uid or gid did not change");
		return VG_EIO;
	}
	/* Both must fail now: no way back to root. */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		vg_seterr(err, errlen, "setuid(0) succeeded after the drop");
		return VG_EIO;
	}
	if (pd->gid != 0 && setgid(0) == 0) {
		vg_seterr(err, errlen, "setgid(0) succeeded after the drop");
		return VG_EIO;
	}
	return VG_OK;
}

enum vg_err
vg_privdrop_apply(const struct vg_privdrop *pd, char *err, size_t errlen)
{
	uint64_t have, keep;
	int bounding_ok, lean;
	cap_value_t c;
	enum vg_err rc;

	if (pd->switch_user && (rc = switch_user(pd, err, errlen)) != VG_OK)
		return rc;
	have = permitted_now();
	keep = pd->caps & have;
	/* Emptying the bounding set takes CAP_SETPCAP: raise it first. */
	bounding_ok = (have & BIT(CAP_SETPCAP)) != 0 &&
		      set_caps(keep | BIT(CAP_SETPCAP)) == 0;
	for (c = 0; bounding_ok && c < 64 && CAP_IS_SUPPORTED(c); c++) {
		if ((pd->caps & BIT(c)) || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c) != 0) {
			vg_seterr(err, errlen,
				  "cannot drop capability %d from the "
				  "bounding set: %s",
				  (int)c, strerror(errno));
			return VG_EIO;
		}
	}
	/*
	 * Started without root (a systemd unit with User= and
	 * AmbientCapabilities=), the sets may already be just right, and the
	 * unit's system call filter may refuse capset(2): then there is
	 * nothing to do, or nothing more that can be done, and the unit's
	 * bounding set is the limit.
	 */
	lean = !pd->switch_user && pd->uid != 0;
	if (!lean || (have & ~pd->caps) != 0) {
		if (set_caps(keep) == 0) {
			lean = 0; /* set as asked: check all of it below */
		} else if (!lean) {
			vg_seterr(err, errlen,
				  "cannot set the capabilities: %s",
				  strerror(errno));
			return VG_EIO;
		} else {
			vg_log(LOG_WARNING,
			       "cannot drop the capabilities the "
			       "configuration does not need (%s); keeping "
			       "those the service was given",
			       strerror(errno));
		}
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0) {
		vg_seterr(err, errlen, "cannot clear the ambient set: %s",
			  strerror(errno));
		return VG_EIO;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
		vg_seterr(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
			  strerror(errno));
		return VG_EIO;
	}
	/* Check what was done, not what was asked. */
	if (pd->switch_user && (rc = verify_ids(pd, err, errlen)) != VG_OK)
		return rc;
	if (!lean && !caps_are(keep)) {
		vg_seterr(err, errlen, "the capability sets are not as set");
		return VG_EIO;
	}
	for (c = 0; bounding_ok && c < 64 && CAP_IS_SUPPORTED(c); c++) {
		if (!(pd->caps & BIT(c)) && cap_get_bound(c) != 0) {
			vg_seterr(err, errlen,
				  "capability %d is still in the bounding set",
				  (int)c);
			return VG_EIO;
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1) {
		vg_seterr(err, errlen, "PR_SET_NO_NEW_PRIVS did not hold");
		return VG_EIO;
	}
	/* Needed but not held (a non-root start without them): say so. */
	if (keep != pd->caps) {
		for (c = 0; c < 64; c++) {
			char *name;

			if (!(pd->caps & BIT(c)) || (keep & BIT(c)))
				continue;
			name = cap_to_name(c);
			vg_log(LOG_WARNING,
			       "capability %s is needed but was not given",
			       name ? name : "?");
			cap_free(name);
		}
	}
	return VG_OK;
}

void
vg_privdrop_describe(const struct vg_privdrop *pd, char *buf, size_t bufsz)
{
	size_t len;
	cap_value_t c;
	int n = 0;

	if (pd->switch_user)
		snprintf(buf, bufsz, "user %s (uid %u), group %s (gid %u)",
			 pd->user, (unsigned)pd->uid, pd->group,
			 (unsigned)pd->gid);
	else
		snprintf(buf, bufsz, "uid %u, gid %u", (unsigned)geteuid(),
			 (unsigned)getegid());
	len = strlen(buf);
	for (c = 0; c < 64 && len < bufsz; c++) {
		char *name;

		if (!(pd->caps & BIT(c)))
			continue;
		name = cap_to_name(c);
		snprintf(buf + len, bufsz - len, "%s%s",
			 n++ ? "," : ", capabilities ", name ? name : "?");
		cap_free(name);
		len = strlen(buf);
	}
	if (n == 0 && len < bufsz)
		snprintf(buf + len, bufsz - len, ", no capabilities");
}
