/*
 * anonfile.c - unlinked read/write files (see anonfile.h).
 *
 * Callers keep and empty them rather than open one per message: a new
 * anonymous file is a new inode, and ext4 walks over every inode freed in
 * the last seconds (recently_deleted()) on each allocation, which at a few
 * hundred messages a second was a third of the machine's CPU.
 */
#include <fcntl.h>
#include <linux/limits.h>	/* PATH_MAX */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "anonfile.h"

int
anonfile_open(const char *dir)
{
	char	path[PATH_MAX];
	int	fd;

	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	if (snprintf(path, sizeof(path), "%s/mxspool.XXXXXX", dir) >= (int)sizeof(path))
		return -1;
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

int
anonfile_empty(int fd)
{
	if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		return -1;
	return 0;
}
