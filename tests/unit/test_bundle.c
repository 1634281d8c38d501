/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/bundle.c: pack and check round trip with real
 * Ed25519 keys (made with vg_bundle_keygen in a mkdtemp() folder), each
 * refusal reason, the limits at and one past their bound, every proper
 * prefix and every single flipped byte of a signed bundle refused, and
 * extraction to disk.
 */
#include "bundle.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];
static char key_a[PATH_MAX], key_b[PATH_MAX];
static struct vg_bundle_pub pub_a, pub_b;

static const char net_rule[] = "- id: 1\n  name: x\n";
static const char yara_rule[] = "rule x { condition: true }\n";
static const char ioc_list[] = "192.0.2.1\n";

static int
setup(void **state)
{
	char err[512], p[PATH_MAX + 8];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/vigil-test-bundle-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/a", tmp);
	if (vg_bundle_keygen(p, err, sizeof(err)) != VG_OK)
		return -1;
	snprintf(key_a, sizeof(key_a), "%s/a.key", tmp);
	snprintf(p, sizeof(p), "%s/a.pub", tmp);
	if (vg_bundle_pub_load(&pub_a, p, err, sizeof(err)) != VG_OK)
		return -1;
	snprintf(p, sizeof(p), "%s/b", tmp);
	if (vg_bundle_keygen(p, err, sizeof(err)) != VG_OK)
		return -1;
	snprintf(key_b, sizeof(key_b), "%s/b.key", tmp);
	snprintf(p, sizeof(p), "%s/b.pub", tmp);
	return vg_bundle_pub_load(&pub_b, p, err, sizeof(err)) == VG_OK ? 0
									: -1;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* A three-file bundle, signed with key (NULL: unsigned). */
static uint8_t *
make(uint64_t version, const char *key, size_t *len)
{
	struct vg_bundle_builder *bb;
	uint8_t *buf = NULL;
	char err[512];

	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	assert_int_equal(
	    vg_bundle_builder_add(bb, VG_BUNDLE_NETWORK, "network/local.yaml",
				  (const uint8_t *)net_rule, strlen(net_rule),
				  err, sizeof(err)),
	    VG_OK);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_YARA, "yara/x.yar",
					       (const uint8_t *)yara_rule,
					       strlen(yara_rule), err,
					       sizeof(err)),
			 VG_OK);
	assert_int_equal(
	    vg_bundle_builder_add(bb, VG_BUNDLE_IOC, "ioc/center-ip.txt",
				  (const uint8_t *)ioc_list, strlen(ioc_list),
				  err, sizeof(err)),
	    VG_OK);
	assert_int_equal(vg_bundle_pack(bb, version, 1700000000, key, &buf, len,
					err, sizeof(err)),
			 VG_OK);
	vg_bundle_builder_free(bb);
	return buf;
}

static enum vg_bundle_why
why_of(const uint8_t *buf, size_t len, const struct vg_bundle_pub *pub)
{
	struct vg_bundle *b = NULL;
	enum vg_bundle_why why = VG_BUNDLE_FINE;
	char err[1024] = "";
	enum vg_err rc =
	    vg_bundle_check(&b, buf, len, pub, &why, err, sizeof(err));

	if (rc == VG_OK) {
		assert_non_null(b);
		assert_int_equal(why, VG_BUNDLE_FINE);
	} else {
		assert_null(b);
		assert_int_not_equal(why, VG_BUNDLE_FINE);
		assert_true(err[0] != '\0');
	}
	vg_bundle_free(b);
	return why;
}

static void
test_round_trip(void **state)
{
	struct vg_bundle *b = NULL;
	enum vg_bundle_why why;
	size_t len;
	uint8_t *buf = make(7, key_a, &len);
	char err[512];

	(void)state;
	assert_int_equal(
	    vg_bundle_check(&b, buf, len, &pub_a, &why, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(b->version, 7);
	assert_int_equal(b->created, 1700000000);
	assert_int_equal(b->format, VG_BUNDLE_FORMAT);
	assert_true(b->is_signed);
	assert_memory_equal(b->key_id, pub_a.id, 32);
	assert_int_equal(b->n_files, 3);
	assert_string_equal(b->files[0].path, "network/local.yaml");
	assert_int_equal(b->files[0].kind, VG_BUNDLE_NETWORK);
	assert_int_equal(b->files[0].size, strlen(net_rule));
	assert_memory_equal(b->files[0].data, net_rule, strlen(net_rule));
	assert_string_equal(b->files[1].path, "yara/x.yar");
	assert_memory_equal(b->files[1].data, yara_rule, strlen(yara_rule));
	assert_string_equal(b->files[2].path, "ioc/center-ip.txt");
	assert_int_equal(b->files[2].kind, VG_BUNDLE_IOC);
	assert_int_equal(vg_bundle_peek_version(buf, len), 7);
	vg_bundle_free(b);
	/* Without a key: parsed, signature not believed. */
	assert_int_equal(why_of(buf, len, NULL), VG_BUNDLE_FINE);
	free(buf);
}

static void
test_signature_refusals(void **state)
{
	size_t len, ulen;
	uint8_t *buf = make(3, key_a, &len);
	uint8_t *u = make(3, NULL, &ulen);

	(void)state;
	assert_int_equal(why_of(buf, len, &pub_b), VG_BUNDLE_WRONG_KEY);
	/* The signature stripped: unsigned. */
	assert_int_equal(why_of(buf, len - VG_BUNDLE_SIG_LEN, &pub_a),
			 VG_BUNDLE_UNSIGNED);
	assert_int_equal(why_of(buf, len - VG_BUNDLE_SIG_LEN, NULL),
			 VG_BUNDLE_FINE);
	/* Packed without a key: no key id either. */
	assert_int_equal(ulen, len - VG_BUNDLE_SIG_LEN);
	assert_int_equal(why_of(u, ulen, &pub_a), VG_BUNDLE_WRONG_KEY);
	/* A byte of the signature itself. */
	buf[len - 1] ^= 0x80;
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_BAD_SIGNATURE);
	buf[len - 1] ^= 0x80;
	/* Contents changed: the signature does not cover them any more. */
	buf[len - VG_BUNDLE_SIG_LEN - 2] ^= 0x01;
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_BAD_SIGNATURE);
	free(buf);
	free(u);
}

static void
test_every_byte_flipped(void **state)
{
	size_t len, i;
	uint8_t *buf = make(9, key_a, &len);
	unsigned bit;

	(void)state;
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_FINE);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(why_of(buf, len, &pub_a),
					     VG_BUNDLE_FINE);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_FINE);
	free(buf);
}

static void
test_every_prefix(void **state)
{
	size_t len, n;
	uint8_t *buf = make(2, key_a, &len), *copy;

	(void)state;
	for (n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so ASan sees any overread. */
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, buf, n);
		assert_int_not_equal(why_of(copy, n, &pub_a), VG_BUNDLE_FINE);
		/* Unchecked, only the exact unsigned body parses. */
		if (n != len - VG_BUNDLE_SIG_LEN)
			assert_int_not_equal(why_of(copy, n, NULL),
					     VG_BUNDLE_FINE);
		free(copy);
	}
	free(buf);
}

/* Unsigned bundles edited in place, checked without a key: the parser's
 * own refusals. */
static void
test_structure_refusals(void **state)
{
	size_t len;
	uint8_t *u = make(4, NULL, &len), *big;
	size_t files_at = VG_BUNDLE_HEADER_LEN;

	(void)state;
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_FINE);
	assert_int_equal(why_of((const uint8_t *)"garbage", 7, NULL),
			 VG_BUNDLE_MALFORMED);
	assert_int_equal(why_of(NULL, 0, NULL), VG_BUNDLE_MALFORMED);

	u[9] = 2; /* format 2 */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_FORMAT);
	u[9] = 1;
	u[11] = 1; /* flags */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_FORMAT);
	u[11] = 0;

	u[14] = 0x01; /* 3 + 256 files */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_TOO_MANY);
	u[14] = 0;
	u[15] = 0;
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_MALFORMED);
	u[15] = 3;

	memset(u + 16, 0, 8); /* version 0 */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_VERSION);
	u[23] = 4;

	u[files_at] = 9; /* kind */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_KIND);
	u[files_at] = VG_BUNDLE_YARA; /* kind not the path's folder */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_KIND);
	u[files_at] = VG_BUNDLE_NETWORK;

	u[files_at + VG_BUNDLE_ENTRY_LEN] = '/'; /* "/etwork/local.yaml" */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_PATH);
	u[files_at + VG_BUNDLE_ENTRY_LEN] = 'n';
	u[files_at + VG_BUNDLE_ENTRY_LEN + 8] = '.'; /* ".ocal.yaml" */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_PATH);
	u[files_at + VG_BUNDLE_ENTRY_LEN + 8] = 'l';

	u[files_at + 7]++; /* the first file one byte longer */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_HASH);
	u[files_at + 7]--;
	u[files_at + 8] ^= 1; /* its SHA-256 */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_HASH);
	u[files_at + 8] ^= 1;
	u[len - 1] ^= 1; /* the last file's contents */
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_BAD_HASH);
	u[len - 1] ^= 1;

	/* A trailing byte. */
	big = malloc(len + 1);
	assert_non_null(big);
	memcpy(big, u, len);
	big[len] = 0;
	assert_int_equal(why_of(big, len + 1, NULL), VG_BUNDLE_MALFORMED);
	free(big);

	/* Past the size limit: refused before anything is read. */
	big = calloc(1, (size_t)VG_BUNDLE_MAX_BYTES + 1);
	assert_non_null(big);
	memcpy(big, u, len);
	assert_int_equal(why_of(big, (size_t)VG_BUNDLE_MAX_BYTES + 1, NULL),
			 VG_BUNDLE_TOO_LARGE);
	free(big);
	assert_int_equal(why_of(u, len, NULL), VG_BUNDLE_FINE);
	free(u);
}

static void
test_duplicate(void **state)
{
	struct vg_bundle_builder *bb;
	uint8_t *buf;
	size_t len, second;
	char err[512];

	(void)state;
	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	assert_int_equal(
	    vg_bundle_builder_add(bb, VG_BUNDLE_NETWORK, "network/a.yaml",
				  (const uint8_t *)"x", 1, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(
	    vg_bundle_builder_add(bb, VG_BUNDLE_NETWORK, "network/a.yaml",
				  (const uint8_t *)"y", 1, err, sizeof(err)),
	    VG_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(
	    vg_bundle_builder_add(bb, VG_BUNDLE_NETWORK, "network/b.yaml",
				  (const uint8_t *)"x", 1, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(
	    vg_bundle_pack(bb, 1, 0, NULL, &buf, &len, err, sizeof(err)),
	    VG_OK);
	/* The second path made equal to the first. */
	second = VG_BUNDLE_HEADER_LEN + VG_BUNDLE_ENTRY_LEN +
		 strlen("network/a.yaml") + VG_BUNDLE_ENTRY_LEN;
	assert_int_equal(buf[second + 8], 'b');
	buf[second + 8] = 'a';
	assert_int_equal(why_of(buf, len, NULL), VG_BUNDLE_DUPLICATE);
	free(buf);
	assert_int_equal(
	    vg_bundle_pack(bb, 0, 0, NULL, &buf, &len, err, sizeof(err)),
	    VG_EINVAL);
	vg_bundle_builder_free(bb);
}

/* ioc/x-ip.txt and ioc/x-ip.csv are the same list x-ip: one would
 * replace the other, so the second is refused like a duplicate path. */
static void
test_duplicate_ioc_list(void **state)
{
	struct vg_bundle_builder *bb;
	uint8_t *buf;
	size_t len, second;
	char err[512];

	(void)state;
	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_IOC,
					       "ioc/x-ip.txt",
					       (const uint8_t *)"192.0.2.1\n",
					       10, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_IOC,
					       "ioc/x-ip.csv",
					       (const uint8_t *)"192.0.2.2\n",
					       10, err, sizeof(err)),
			 VG_EINVAL);
	assert_non_null(strstr(err, "the same IoC list as ioc/x-ip.txt"));
	/* Another name, or the same name of another type, is another list. */
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_IOC,
					       "ioc/y-ip.csv",
					       (const uint8_t *)"192.0.2.2\n",
					       10, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_IOC,
					       "ioc/x-domain.csv",
					       (const uint8_t *)"example.com\n",
					       12, err, sizeof(err)),
			 VG_OK);
	assert_int_equal(
	    vg_bundle_pack(bb, 1, 0, NULL, &buf, &len, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(why_of(buf, len, NULL), VG_BUNDLE_FINE);
	/* The second path made "ioc/x-ip.csv" in the envelope. */
	second = VG_BUNDLE_HEADER_LEN + VG_BUNDLE_ENTRY_LEN +
		 strlen("ioc/x-ip.txt") + VG_BUNDLE_ENTRY_LEN;
	assert_int_equal(buf[second + 4], 'y');
	buf[second + 4] = 'x';
	assert_int_equal(why_of(buf, len, NULL), VG_BUNDLE_DUPLICATE);
	free(buf);
	vg_bundle_builder_free(bb);
}

static void
test_paths(void **state)
{
	static const struct {
		enum vg_bundle_kind kind;
		const char *path;
		enum vg_bundle_why want;
	} cases[] = {
	    {VG_BUNDLE_NETWORK, "network/a.yaml", VG_BUNDLE_FINE},
	    {VG_BUNDLE_NETWORK, "network/A_b-1.2.yml", VG_BUNDLE_FINE},
	    {VG_BUNDLE_YARA, "yara/x.yara", VG_BUNDLE_FINE},
	    {VG_BUNDLE_IOC, "ioc/center-domain.txt", VG_BUNDLE_FINE},
	    {VG_BUNDLE_IOC, "ioc/hashes-sha256.csv", VG_BUNDLE_FINE},
	    {VG_BUNDLE_NETWORK, "/etc/a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/../a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/a..yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/.a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/-a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/sub/a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/a.sh", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/a.YAML", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/a b.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "network/", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_NETWORK, "yara/a.yaml", VG_BUNDLE_BAD_KIND},
	    {VG_BUNDLE_YARA, "yara/a.yaml", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_IOC, "ioc/list.txt", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_IOC, "ioc/List-ip.txt", VG_BUNDLE_BAD_PATH},
	    {VG_BUNDLE_IOC, "ioc/-ip.txt", VG_BUNDLE_BAD_PATH},
	    {(enum vg_bundle_kind)7, "network/a.yaml", VG_BUNDLE_BAD_KIND},
	};
	char path[VG_BUNDLE_MAX_PATH + 2], err[512], name[80];
	const char *type = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < VG_ARRAY_LEN(cases); i++) {
		enum vg_bundle_why got = vg_bundle_path_check(
		    cases[i].kind, cases[i].path, err, sizeof(err));

		if (got != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].path,
				 vg_bundle_why_str(got),
				 vg_bundle_why_str(cases[i].want));
	}
	/* The path length at and one past its bound. */
	memset(path, 'a', sizeof(path));
	memcpy(path, "network/", 8);
	memcpy(path + VG_BUNDLE_MAX_PATH - 5, ".yaml", 6);
	assert_int_equal(strlen(path), VG_BUNDLE_MAX_PATH);
	assert_int_equal(
	    vg_bundle_path_check(VG_BUNDLE_NETWORK, path, err, sizeof(err)),
	    VG_BUNDLE_FINE);
	memset(path, 'a', sizeof(path));
	memcpy(path, "network/", 8);
	memcpy(path + VG_BUNDLE_MAX_PATH - 4, ".yaml", 6);
	assert_int_equal(strlen(path), VG_BUNDLE_MAX_PATH + 1);
	assert_int_equal(
	    vg_bundle_path_check(VG_BUNDLE_NETWORK, path, err, sizeof(err)),
	    VG_BUNDLE_BAD_PATH);

	assert_int_equal(
	    vg_bundle_ioc_name("ioc/center-ip.txt", name, sizeof(name), &type),
	    0);
	assert_string_equal(name, "center-ip");
	assert_string_equal(type, "ip");
	assert_int_equal(
	    vg_bundle_ioc_name("ioc/x-ja3.csv", name, sizeof(name), &type), 0);
	assert_string_equal(type, "ja3");
	assert_int_equal(
	    vg_bundle_ioc_name("ioc/x-md5.txt", name, sizeof(name), &type), -1);
}

static void
test_limits(void **state)
{
	struct vg_bundle_builder *bb;
	char err[512], path[64];
	uint8_t *data, *buf;
	size_t room, len;
	unsigned i;

	(void)state;
	/* Files: VG_BUNDLE_MAX_FILES fit, one more does not. */
	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	for (i = 0; i < VG_BUNDLE_MAX_FILES; i++) {
		snprintf(path, sizeof(path), "network/r%u.yaml", i);
		assert_int_equal(vg_bundle_builder_add(
				     bb, VG_BUNDLE_NETWORK, path,
				     (const uint8_t *)"x", 1, err, sizeof(err)),
				 VG_OK);
	}
	assert_int_equal(vg_bundle_builder_add(
			     bb, VG_BUNDLE_NETWORK, "network/one-more.yaml",
			     (const uint8_t *)"x", 1, err, sizeof(err)),
			 VG_ELIMIT);
	assert_int_equal(
	    vg_bundle_pack(bb, 1, 0, key_a, &buf, &len, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_FINE);
	free(buf);
	vg_bundle_builder_free(bb);

	/* Bytes: a bundle of exactly VG_BUNDLE_MAX_BYTES is fine. */
	room = VG_BUNDLE_MAX_BYTES - VG_BUNDLE_HEADER_LEN - VG_BUNDLE_SIG_LEN -
	       VG_BUNDLE_ENTRY_LEN - strlen("yara/big.yar");
	data = calloc(1, room + 1);
	assert_non_null(data);
	assert_int_equal(vg_bundle_builder_new(&bb), VG_OK);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_YARA,
					       "yara/big.yar", data, room + 1,
					       err, sizeof(err)),
			 VG_ELIMIT);
	assert_int_equal(vg_bundle_builder_add(bb, VG_BUNDLE_YARA,
					       "yara/big.yar", data, room, err,
					       sizeof(err)),
			 VG_OK);
	assert_int_equal(
	    vg_bundle_pack(bb, 1, 0, key_a, &buf, &len, err, sizeof(err)),
	    VG_OK);
	assert_int_equal(len, VG_BUNDLE_MAX_BYTES);
	assert_int_equal(why_of(buf, len, &pub_a), VG_BUNDLE_FINE);
	free(buf);
	vg_bundle_builder_free(bb);
	free(data);
}

static void
test_extract(void **state)
{
	struct vg_bundle *b = NULL;
	enum vg_bundle_why why;
	char dir[PATH_MAX], path[PATH_MAX + 32], got[64], err[512];
	size_t len;
	uint8_t *buf = make(5, key_a, &len);
	FILE *f;
	struct stat sb;

	(void)state;
	assert_int_equal(
	    vg_bundle_check(&b, buf, len, &pub_a, &why, err, sizeof(err)),
	    VG_OK);
	snprintf(dir, sizeof(dir), "%s/v5", tmp);
	assert_int_equal(vg_bundle_extract(b, dir, err, sizeof(err)), VG_OK);
	snprintf(path, sizeof(path), "%s/network/local.yaml", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	memset(got, 0, sizeof(got));
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), strlen(net_rule));
	fclose(f);
	assert_string_equal(got, net_rule);
	snprintf(path, sizeof(path), "%s/ioc/center-ip.txt", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)strlen(ioc_list));
	/* Never over an existing folder. */
	assert_int_equal(vg_bundle_extract(b, dir, err, sizeof(err)), VG_EIO);
	assert_int_equal(vg_bundle_remove_tree(dir), 0);
	assert_int_not_equal(stat(dir, &sb), 0);
	vg_bundle_free(b);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_signature_refusals),
	    cmocka_unit_test(test_every_byte_flipped),
	    cmocka_unit_test(test_every_prefix),
	    cmocka_unit_test(test_structure_refusals),
	    cmocka_unit_test(test_duplicate),
	    cmocka_unit_test(test_duplicate_ioc_list),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_extract),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
