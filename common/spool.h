/*
 * spool.h - the local fallback spool (private to store.c and reindex.c).
 *
 * A directory of "<id>.eml" (the message bytes) and "<id>.env.json" (its
 * envelope, so the spool alone rebuilds the index).  Files are written to a
 * temporary name, fsync'd, renamed, and the directory fsync'd.
 */
#ifndef MXS_SPOOL_H
#define MXS_SPOOL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum spool_status {
	SPOOL_OK = 0,
	SPOOL_NOSPACE,		/* over max_size or the file system is full */
	SPOOL_FAIL,		/* I/O error; reason in err */
};

struct spool;

/* spool_open - create dir if needed; NULL + err if it cannot be used */
struct spool	*spool_open(const char *dir, int64_t max_size, char *err, size_t errlen);
void		 spool_close(struct spool *);
const char	*spool_dir(const struct spool *);
/* spool_path - "<dir>/<id><suffix>"; 0 ok, -1 too long */
int		 spool_path(const struct spool *, const char *id, const char *suffix, char *out,
		    size_t outlen);
/* spool_put - durably store size bytes of fd (pread from 0) and the envelope JSON */
enum spool_status spool_put(struct spool *, const char *id, int fd, off_t size,
		    const char *json, char *err, size_t errlen);
/* spool_remove - unlink both files of id and fsync the directory */
void		 spool_remove(struct spool *, const char *id);
/* spool_usage - bytes and number of messages held (cached for a second) */
void		 spool_usage(struct spool *, int64_t *bytes, int64_t *count);
/*
 * spool_room - 1 if size more bytes fit under max_size and leave the file
 * system's reserve free; else 0 and why names the limit hit ("max_size ..."
 * or "free space ... below the reserve ..."); why may be NULL.
 */
int		 spool_room(struct spool *, int64_t size, char *why, size_t whylen);
/* spool_foreach - each "<id>.eml" in the directory with its mtime; fn != 0 stops */
int		 spool_foreach(struct spool *, int (*fn)(const char *id, int64_t mtime_ms,
		    void *), void *arg);
/* spool_read_file - whole small file (envelope JSON), malloc'd NUL-terminated, or NULL */
char		*spool_read_file(const char *path, size_t max, size_t *lenp);
/* copy_fd - copy size bytes from in (pread from 0) to out (write); 0 ok, -1 errno */
int		 spool_copy_fd(int in, int out, off_t size);

#endif
