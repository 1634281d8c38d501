/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/privdrop.c: the capabilities each configuration
 * needs; the plan as root (a real user from the system's database, a
 * missing user or group named with file, line and key, root refused,
 * --allow-root); and the drop itself in a forked child, which then reads
 * its own /proc/self/status and tries to get root back. The root-only
 * parts are skipped, saying so, when not run as root.
 */
#define _GNU_SOURCE

#include "privdrop.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define skip_because(why)                                                      \
	do {                                                                   \
		print_message("[   SKIP   ] %s\n", (why));                     \
		skip();                                                        \
		return;                                                        \
	} while (0)

#define BIT(c) (UINT64_C(1) << (c))

static void
caps_for(void **state)
{
	struct vg_config cfg;

	(void)state;
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	assert_int_equal(vg_privdrop_caps_for(&cfg), 0);
	cfg.n_ifaces = 1;
	cfg.ifaces[0].promiscuous = false;
	assert_int_equal(vg_privdrop_caps_for(&cfg), BIT(CAP_NET_RAW));
	cfg.n_ifaces = 2;
	cfg.ifaces[1].promiscuous = true;
	/* Promiscuous too: CAP_NET_RAW covers it. */
	assert_int_equal(vg_privdrop_caps_for(&cfg), BIT(CAP_NET_RAW));
	cfg.n_file_watch = 1;
	assert_int_equal(vg_privdrop_caps_for(&cfg),
			 BIT(CAP_NET_RAW) | BIT(CAP_DAC_READ_SEARCH));
	cfg.n_ifaces = 0;
	assert_int_equal(vg_privdrop_caps_for(&cfg), BIT(CAP_DAC_READ_SEARCH));
	cfg.n_file_watch = 0;
	vg_config_fini(&cfg);
}

/* A configuration as if loaded from FILE with privileges.user on line 7. */
static void
config_for(struct vg_config *cfg, const char *user, const char *group)
{
	assert_int_equal(vg_config_defaults(cfg), VG_OK);
	cfg->path = strf("/etc/vigil/%s", "agent.yaml");
	free(cfg->priv_user);
	cfg->priv_user = strdup(user);
	cfg->priv_user_line = 7;
	if (group) {
		cfg->priv_group = strdup(group);
		cfg->priv_group_line = 8;
	}
	cfg->n_ifaces = 1;
	cfg->ifaces[0].promiscuous = true;
}

static void
plan_as_root(void **state)
{
	struct vg_privdrop pd;
	struct vg_config cfg;
	struct passwd *pw = getpwnam("nobody");
	char err[512] = "";

	(void)state;
	if (geteuid() != 0)
		skip_because("not root");
	if (pw == NULL)
		skip_because("no user nobody");
	config_for(&cfg, "nobody", NULL);
	assert_ok(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)), err);
	assert_true(pd.switch_user);
	assert_int_equal(pd.uid, pw->pw_uid);
	assert_int_equal(pd.gid, pw->pw_gid);
	assert_string_equal(pd.user, "nobody");
	assert_true(pd.n_groups >= 1);
	assert_int_equal(pd.caps, BIT(CAP_NET_RAW));
	vg_config_fini(&cfg);

	/* Told to stay root: no switch, the capabilities still go. */
	config_for(&cfg, "nobody", NULL);
	assert_ok(vg_privdrop_plan(&pd, &cfg, 1, err, sizeof(err)), err);
	assert_false(pd.switch_user);
	assert_int_equal(pd.uid, 0);
	assert_int_equal(pd.caps, BIT(CAP_NET_RAW));
	cfg.priv_allow_root = true;
	assert_ok(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)), err);
	assert_false(pd.switch_user);
	vg_config_fini(&cfg);
}

static void
plan_refusals(void **state)
{
	struct vg_privdrop pd;
	struct vg_config cfg;
	char err[512] = "";

	(void)state;
	if (geteuid() != 0)
		skip_because("not root");
	config_for(&cfg, "vigil-no-such-user-x1", NULL);
	assert_int_equal(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)),
			 VG_EINVAL);
	assert_contains(err, "/etc/vigil/agent.yaml:7: privileges.user: no "
			     "such user \"vigil-no-such-user-x1\"");
	vg_config_fini(&cfg);

	config_for(&cfg, "root", NULL);
	assert_int_equal(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)),
			 VG_EINVAL);
	assert_contains(err, "/etc/vigil/agent.yaml:7: privileges.user: "
			     "\"root\" is root");
	vg_config_fini(&cfg);

	if (getpwnam("nobody") == NULL)
		skip_because("no user nobody");
	config_for(&cfg, "nobody", "vigil-no-such-group-x1");
	assert_int_equal(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)),
			 VG_EINVAL);
	assert_contains(err, "/etc/vigil/agent.yaml:8: privileges.group: no "
			     "such group \"vigil-no-such-group-x1\"");
	vg_config_fini(&cfg);

	/* The built-in defaults have no line to name. */
	assert_int_equal(vg_config_defaults(&cfg), VG_OK);
	free(cfg.priv_user);
	cfg.priv_user = strdup("vigil-no-such-user-x2");
	assert_int_equal(vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)),
			 VG_EINVAL);
	assert_contains(err, "(built-in defaults): privileges.user: no such "
			     "user \"vigil-no-such-user-x2\"");
	vg_config_fini(&cfg);
}

/* A field of /proc/self/status as a number (base 10 or 16). */
static unsigned long long
status_field(const char *key, int base)
{
	char line[256];
	size_t klen = strlen(key);
	unsigned long long v = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, base);
	fclose(f);
	return v;
}

/*
 * In a child: plan, drop, then check. The exit status says which check
 * failed (0: all held).
 */
static int
child_drop(void)
{
	struct vg_privdrop pd;
	struct vg_config cfg;
	char err[512] = "";
	uint64_t want = BIT(CAP_NET_RAW) | BIT(CAP_DAC_READ_SEARCH);

	config_for(&cfg, "nobody", NULL);
	cfg.ifaces[0].promiscuous = false;
	cfg.n_file_watch = 1;
	if (vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)) != VG_OK)
		return 10;
	cfg.n_file_watch = 0;
	vg_config_fini(&cfg);
	if (vg_privdrop_apply(&pd, err, sizeof(err)) != VG_OK) {
		fprintf(stderr, "%s\n", err);
		return 11;
	}
	if (getuid() != pd.uid || geteuid() != pd.uid || getgid() != pd.gid)
		return 12;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 13;
	if (status_field("CapEff", 16) != want ||
	    status_field("CapPrm", 16) != want)
		return 14;
	if (status_field("CapBnd", 16) != want)
		return 15;
	if (status_field("CapInh", 16) != 0 || status_field("CapAmb", 16) != 0)
		return 16;
	if (status_field("NoNewPrivs", 10) != 1)
		return 17;
	return 0;
}

static void
apply_in_child(void **state)
{
	int st = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip_because("not root");
	if (getpwnam("nobody") == NULL)
		skip_because("no user nobody");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_drop());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/*
 * Not root: nothing to switch, only capabilities to give up. The child
 * starts as a service manager would start it with AmbientCapabilities=:
 * another user holding three capabilities, permitted and effective, of
 * which the configuration needs one (CAP_NET_RAW); the drop must leave
 * exactly that one.
 */
static void
apply_not_root_in_child(void **state)
{
	static const cap_value_t given[] = {CAP_NET_RAW, CAP_NET_ADMIN,
					    CAP_DAC_READ_SEARCH};
	const uint64_t given_mask =
	    BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN) | BIT(CAP_DAC_READ_SEARCH);
	int st = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip_because("not root");
	if (getpwnam("nobody") == NULL)
		skip_because("no user nobody");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct passwd *pw = getpwnam("nobody");
		struct vg_privdrop pd;
		struct vg_config cfg;
		char err[512];
		cap_t caps;

		/* Another user, keeping the permitted set across setuid (the
		 * effective one is emptied), then the three capabilities
		 * permitted and effective. */
		if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0)
			_exit(25);
		if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(20);
		caps = cap_init();
		if (caps == NULL ||
		    cap_set_flag(caps, CAP_PERMITTED, VG_ARRAY_LEN(given),
				 given, CAP_SET) != 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, VG_ARRAY_LEN(given),
				 given, CAP_SET) != 0 ||
		    cap_set_proc(caps) != 0)
			_exit(26);
		cap_free(caps);
		if (status_field("CapEff", 16) != given_mask ||
		    status_field("CapPrm", 16) != given_mask)
			_exit(27); /* the start this test means */
		config_for(&cfg, "vigil-whoever", NULL);
		if (vg_privdrop_plan(&pd, &cfg, 0, err, sizeof(err)) != VG_OK)
			_exit(21);
		vg_config_fini(&cfg);
		if (pd.switch_user || pd.caps != BIT(CAP_NET_RAW))
			_exit(22);
		if (vg_privdrop_apply(&pd, err, sizeof(err)) != VG_OK)
			_exit(23);
		if (status_field("CapEff", 16) != BIT(CAP_NET_RAW) ||
		    status_field("CapPrm", 16) != BIT(CAP_NET_RAW) ||
		    status_field("NoNewPrivs", 10) != 1)
			_exit(24);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
describe(void **state)
{
	struct vg_privdrop pd;
	char buf[256];

	(void)state;
	memset(&pd, 0, sizeof(pd));
	pd.switch_user = 1;
	pd.uid = 998;
	pd.gid = 997;
	snprintf(pd.user, sizeof(pd.user), "vigil");
	snprintf(pd.group, sizeof(pd.group), "vigil");
	pd.caps = BIT(CAP_NET_RAW) | BIT(CAP_DAC_READ_SEARCH);
	vg_privdrop_describe(&pd, buf, sizeof(buf));
	assert_string_equal(buf, "user vigil (uid 998), group vigil (gid 997), "
				 "capabilities cap_dac_read_search,"
				 "cap_net_raw");
	pd.caps = 0;
	vg_privdrop_describe(&pd, buf, sizeof(buf));
	assert_contains(buf, ", no capabilities");
	/* A short buffer is cut, never overrun. */
	pd.caps = BIT(CAP_NET_RAW);
	vg_privdrop_describe(&pd, buf, 20);
	assert_int_equal(strlen(buf), 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(caps_for),
	    cmocka_unit_test(plan_as_root),
	    cmocka_unit_test(plan_refusals),
	    cmocka_unit_test(apply_in_child),
	    cmocka_unit_test(apply_not_root_in_child),
	    cmocka_unit_test(describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
