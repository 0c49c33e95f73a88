/*
 * fdio.h - whole writes to a file descriptor, for every module that writes
 * message bytes or files of its own (object store, spool, DSN).
 */
#ifndef MXS_FDIO_H
#define MXS_FDIO_H
#include <stddef.h>

/* fdio_write_all - write n bytes of p to fd, retrying short writes and EINTR; 0 or -1 (errno) */
int	fdio_write_all(int fd, const void *p, size_t n);

#endif
