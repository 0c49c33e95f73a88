/*
 * index_ingest.c - batched counter updates and the writability probe of the
 * ingest (see index_ingest.h).  Only mxspool-ingest uses them, so they live
 * in ingest/; this file runs no SQL of its own.
 *
 * The counter SQL itself is index_counter_add() (common/index_verify.c); this module
 * wraps a batch in BEGIN IMMEDIATE ... COMMIT so a flush is atomic.  The
 * writability probe takes the write lock (BEGIN IMMEDIATE) and rolls back:
 * it fails exactly when an insert would (locked past the busy timeout,
 * read-only file system, I/O error).
 */
#include <sqlite3.h>

#include "index_ingest.h"
#include "index_verify.h"
#include "log.h"

/* index_ingest_counters - all deltas in one transaction */
enum index_status
index_ingest_counters(struct index *idx, const struct index_ingest_counter *c, size_t n)
{
	enum index_status	st;
	size_t			i;

	if ((st = index_begin(idx)) != INDEX_OK)
		return st;
	for (i = 0; i < n; i++) {
		if (c[i].delta == 0)
			continue;
		if ((st = index_counter_add(idx, c[i].name, c[i].label, c[i].delta)) != INDEX_OK) {
			index_rollback(idx);
			return st;
		}
	}
	return index_commit(idx);
}

/* index_ingest_writable - take the write lock and give it back */
enum index_status
index_ingest_writable(struct index *idx)
{
	enum index_status st;

	if ((st = index_begin(idx)) != INDEX_OK)
		return st;
	index_rollback(idx);
	return INDEX_OK;
}
