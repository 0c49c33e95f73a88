/*
 * fdio.c - whole writes to a file descriptor (see fdio.h).
 *
 * Entry point: fdio_write_all.  A short write is continued and EINTR retried,
 * so callers see all written or an error; the error is errno, nothing is
 * logged here (the caller knows which file it was).
 */
#include <errno.h>
#include <unistd.h>

#include "fdio.h"

/* fdio_write_all - write everything, retrying short writes and EINTR */
int
fdio_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= w;
	}
	return 0;
}
