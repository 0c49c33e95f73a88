/*
 * anonfile.h - unlinked read/write files for message bytes in transit
 * (ingest staging, replay's fetched copies).
 */
#ifndef MXS_ANONFILE_H
#define MXS_ANONFILE_H

/* anonfile_open - an anonymous file in dir (O_TMPFILE, else mkostemp + unlink); -1 with errno */
int	anonfile_open(const char *dir);

/* anonfile_empty - truncate fd to 0 and rewind it for the next message; -1 with errno */
int	anonfile_empty(int fd);

#endif
