/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * replay_main.c - run every file of a corpus directory through
 * LLVMFuzzerTestOneInput once: the fuzz target as a regression test for
 * builds without libFuzzer (gcc, ASan builds). An invariant violation
 * aborts inside the target; an unreadable file counts as failed.
 *
 * usage: fuzz_parse_replay DIR
 * Prints "N passed, M failed"; exits 0 only if N > 0 and M == 0 (an empty
 * or missing corpus is a failure, not a vacuous pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Corpus inputs larger than this are not frames; refuse rather than
 * allocate whatever a stray file asks for. */
#define REPLAY_MAX_INPUT (1u << 20)

/*
 * replay_file - read path whole and run it through the target. Returns 0,
 * or -errno when the file cannot be read (the caller counts it failed).
 */
static int replay_file(const char *path, size_t size)
{
	uint8_t *data;
	FILE *f;
	int rc = 0;

	if (size > REPLAY_MAX_INPUT)
		return -EFBIG;
	data = malloc(size ? size : 1);
	if (!data)
		return -ENOMEM;
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		goto out_free;
	}
	if (size && fread(data, 1, size, f) != size)
		rc = -EIO;
	fclose(f);
	if (!rc)
		LLVMFuzzerTestOneInput(data, size);
out_free:
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0;
	char path[4096];
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	dir = opendir(argv[1]);
	if (!dir) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "%s: path too long\n", de->d_name);
			failed++;
			continue;
		}
		if (stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		rc = replay_file(path, (size_t)sb.st_size);
		if (rc) {
			fprintf(stderr, "%s: %s\n", path, strerror(-rc));
			failed++;
		} else {
			passed++;
		}
	}
	closedir(dir);
	printf("%u passed, %u failed\n", passed, failed);
	if (!passed) {
		fprintf(stderr, "%s: no corpus files\n", argv[1]);
		return 1;
	}
	return failed ? 1 : 0;
}
