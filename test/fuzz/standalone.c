/* Runs a fuzz target over files or directories of inputs, so that
 * every build (not only clang's -fsanitize=fuzzer) replays the corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path, int *count)
{
	struct pgl_buf *b = NULL;
	int r;

	if ((r = pgl_file_read(path, 1024 * 1024, &b)) != 0) {
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput(pgl_buf_ptr(b) == NULL ? (const uint8_t *)"" :
	    pgl_buf_ptr(b), pgl_buf_len(b));
	pgl_buf_free(b);
	(*count)++;
	return 0;
}

static int
run_path(const char *path, int *count)
{
	struct dirent *de;
	struct stat st;
	char *child;
	DIR *d;
	int r = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&child, "%s/%s", path, de->d_name) < 0) {
			r = -1;
			break;
		}
		r = run_path(child, count);
		free(child);
	}
	closedir(d);
	return r;
}

int
main(int argc, char **argv)
{
	int i, count = 0;

	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) != 0)
			return 1;
	printf("1..1\nok 1 - replayed %d inputs without a crash\n", count);
	return 0;
}
