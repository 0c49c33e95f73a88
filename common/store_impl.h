/*
 * store_impl.h - what store.c shares with reindex.c (not for other modules).
 */
#ifndef MXS_STORE_IMPL_H
#define MXS_STORE_IMPL_H
#include <sys/types.h>

#include "envelope.h"
#include "limits.h"
#include "objstore.h"

struct spool;

struct store {
	struct objstore	*os;
	struct index	*ix;
	struct spool	*sp;
	int64_t		 spool_max;
	int64_t		 orphan_age_ms;	/* [storage] orphan_age: older cannot be in flight */
	int64_t		 commit_deadline_ms;	/* [storage] commit_deadline */
	int64_t		 probe_timeout_ms;	/* [storage] probe_timeout */
	char		 index_path[1024];
	char		 prefix[OBJKEY_PREFIX_MAX + 1];
};

/* store_put_object - sidecar (if the envelope is too big for metadata) then the object */
enum objstore_status store_put_object(struct store *, const struct envelope *, const char *json,
		    int fd, off_t size);
/* store_key_ours - 1 if key is "<prefix>/<node>/.../<id><suffix>" with node that of the id
 * and suffix .eml or .env.json (so not "<prefix>/_orphaned/..."); the id copied to id */
int	store_key_ours(const struct store *, const char *key, char *id, size_t idlen,
	    const char **suffix);
/* store_orphan - 1 if an unindexed object of id is an orphan: its node commits into this
 * index (index_nodes) since before the id's time, so its row was never committed; 0 if
 * not, -1 if the index could not say (the caller must do nothing with the object) */
int	store_orphan(struct store *, const char *id);
/* store_breaker_ok - 1 unless the circuit breaker is open (the object store is down) */
int	store_breaker_ok(void);
/* store_unb64 - decode base64 metadata; malloc'd NUL-terminated, or NULL if invalid */
char	*store_unb64(const char *in, size_t *lenp);

#endif
