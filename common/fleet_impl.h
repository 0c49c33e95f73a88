/*
 * fleet_impl.h - private to fleet*.c: key building, small reads, the error
 * channel and the per-call deadline.
 */
#ifndef MXS_FLEET_IMPL_H
#define MXS_FLEET_IMPL_H
#include "buf.h"
#include "fleet.h"

/* fleet_key - "<base>/<fmt...>" into out; 0, or -1 (too long, reason in f->err) */
int		 fleet_key(struct fleet *, char *out, size_t outlen, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* fleet_seterr - the one-line reason of the failing call (truncated to fit) */
void		 fleet_seterr(struct fleet *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* fleet_begin - arm the store's deadline for one call (conf.call_ms) */
void		 fleet_begin(struct fleet *);
/* fleet_fail - "what: store reason" into f->err; returns st */
enum objstore_status fleet_fail(struct fleet *, enum objstore_status st, const char *what,
		    const char *key);
/* fleet_put - write b under key (plain put) under the call deadline; frees b */
enum objstore_status fleet_put(struct fleet *, const char *key, struct buf *b, const char *what);
/* fleet_get - the object key into out (at most max bytes) under the call deadline */
enum objstore_status fleet_get(struct fleet *, const char *key, struct buf *out, size_t max);
/* fleet_list - every key under prefix (all pages) to fn; under one deadline per page */
enum objstore_status fleet_list(struct fleet *, const char *prefix,
		    void (*fn)(const char *key, const struct objinfo *, void *), void *arg);
/* fleet_node_ok - a node id as [general] node allows */
int		 fleet_node_ok(const char *node);

#endif
