/*
 * index_ingest.h - the ingest's own index writes: its counters, in one batch.
 *
 * index_ingest_counters() adds every non-zero delta of a batch to the
 * counters table (name, label) in a single transaction, so a flush is all or
 * nothing and the caller can keep the deltas for the next try on failure.
 * The handle belongs to one thread at a time, as every index handle.
 */
#ifndef MXS_INDEX_INGEST_H
#define MXS_INDEX_INGEST_H
#include <stddef.h>

#include "index.h"

struct index_ingest_counter {
	const char	*name;
	const char	*label;
	long long	 delta;
};

/* index_ingest_counters - add n deltas atomically; INDEX_OK or a failure (index_error()) */
enum index_status index_ingest_counters(struct index *, const struct index_ingest_counter *,
		    size_t n);
/* index_ingest_writable - INDEX_OK if a write transaction can start now (health check) */
enum index_status index_ingest_writable(struct index *);

#endif
