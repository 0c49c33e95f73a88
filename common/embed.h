/*
 * embed.h - files compiled into the binaries by scripts/embed.sh:
 * schema/NNN_*.sql migrations and replay/assets/ (dashboard).
 * Each entry's data is NUL-terminated for convenience; len excludes the NUL.
 */
#ifndef MXS_EMBED_H
#define MXS_EMBED_H
#include <stddef.h>

struct embed_file {
	const char		*name;	/* path as in the source tree */
	const unsigned char	*data;
	size_t			 len;
};

extern const struct embed_file embed_files[];	/* ends with name == NULL */

/* embed_find - the embedded file of that path, or NULL */
const struct embed_file *embed_find(const char *name);

#endif
