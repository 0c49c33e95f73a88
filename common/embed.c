/*
 * embed.c - lookup in the table of embedded files (see embed.h).
 */
#include <string.h>

#include "embed.h"

/* embed_find - the embedded file of that path, or NULL */
const struct embed_file *
embed_find(const char *name)
{
	const struct embed_file *e;

	for (e = embed_files; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}
