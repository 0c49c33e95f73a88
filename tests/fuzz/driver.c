/*
 * driver.c - run a libFuzzer harness over files without libFuzzer.
 *
 * Linked instead of -fsanitize=fuzzer when replaying the corpus with a
 * compiler that has no libFuzzer (gcc + ASan/UBSan): each argument is a file
 * or a directory of files; each file is one input.  Exit 0 when every input
 * ran (a failed check abort()s, a sanitizer report exits non-zero).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* driver_file - one input */
static int
driver_file(const char *path)
{
	FILE		*f;
	unsigned char	*b;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "driver: %s: cannot read\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((b = malloc(n ? n : 1)) == NULL || fread(b, 1, n, f) != (size_t)n) {
		fprintf(stderr, "driver: %s: cannot read\n", path);
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(b, n);
	free(b);
	return 0;
}

/* main - files and directories from argv */
int
main(int argc, char **argv)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 path[4096];
	int		 i, n = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((d = opendir(argv[i])) == NULL)
				return 1;
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
				bad |= driver_file(path) != 0;
				n++;
			}
			closedir(d);
		} else {
			bad |= driver_file(argv[i]) != 0;
			n++;
		}
	}
	printf("driver: %d inputs\n", n);
	return bad;
}
