/*
 * buf.h - bounded dynamic byte buffers (after curl's dynbuf).
 *
 * Every buffer has its own cap (max); growing past it fails with -1 and
 * leaves the buffer as it was.  Contents are bytes with an explicit length
 * and may hold NULs; a NUL is kept after the last byte for convenience.
 */
#ifndef MXS_BUF_H
#define MXS_BUF_H
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
int	buf_add(struct buf *, const void *, size_t);
int	buf_addstr(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
/* buf_consume - drop the first n bytes */
void	buf_consume(struct buf *, size_t n);

#endif
