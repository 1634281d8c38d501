/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fuzz targets share: a scratch folder for parsers that read a
 * file, and the replay main() used when the target is built without
 * libFuzzer (VIGIL_FUZZING unset), so ctest runs every corpus and
 * regression file through the target in the normal and sanitizer builds.
 *
 * Include once, from the target's .c file, after it declared
 * LLVMFuzzerTestOneInput.
 */
#ifndef VG_FUZZUTIL_H
#define VG_FUZZUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char vg_fuzz_dir[256];

/* Remove what the scratch folder holds (files, and folders of files). */
static inline void
vg_fuzz_empty(void)
{
	DIR *d;
	struct dirent *e;

	if (vg_fuzz_dir[0] == '\0' || (d = opendir(vg_fuzz_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", vg_fuzz_dir, e->d_name);
		if (unlink(p) != 0) {
			/* a folder a parser made (a spool): one level */
			DIR *s = opendir(p);
			struct dirent *f;

			while (s && (f = readdir(s)) != NULL) {
				char q[800];

				if (f->d_name[0] == '.')
					continue;
				snprintf(q, sizeof(q), "%s/%s", p, f->d_name);
				unlink(q);
			}
			if (s)
				closedir(s);
			rmdir(p);
		}
	}
	closedir(d);
}

static inline void
vg_fuzz_cleanup(void)
{
	vg_fuzz_empty();
	if (vg_fuzz_dir[0])
		rmdir(vg_fuzz_dir);
}

/* The scratch folder (made on first use, removed at exit). */
static inline const char *
vg_fuzz_tmpdir(void)
{
	if (vg_fuzz_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(vg_fuzz_dir, sizeof(vg_fuzz_dir), "%s/vgfuzz.XXXXXX",
			 t && *t ? t : "/tmp");
		if (mkdtemp(vg_fuzz_dir) == NULL) {
			perror("mkdtemp");
			abort();
		}
		atexit(vg_fuzz_cleanup);
	}
	return vg_fuzz_dir;
}

/* Write size bytes at data to NAME in the scratch folder; the path goes
 * to path (len bytes). Aborts when it cannot (not a finding). */
static inline void
vg_fuzz_write(const char *name, const void *data, size_t size, char *path,
	      size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", vg_fuzz_tmpdir(), name);
	f = fopen(path, "wb");
	if (f == NULL || (size && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0) {
		perror(path);
		abort();
	}
}

#ifndef VIGIL_FUZZING
static int
vg_fuzz_replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		return -1;
	}
	/* An exact-size copy, so that any overread is caught. */
	buf = malloc(len ? (size_t)len : 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 1;
}

/* Each argument: a file, or a folder whose files are replayed. */
int
main(int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (vg_fuzz_replay_file(argv[i]) < 0)
				return 1;
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			char p[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			if (vg_fuzz_replay_file(p) < 0)
				return 1;
			n++;
		}
		closedir(d);
	}
	printf("%s: %d inputs replayed\n", argv[0], n);
	return n > 0 ? 0 : 1;
}
#endif

#endif /* VG_FUZZUTIL_H */
