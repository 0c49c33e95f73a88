/*
 * index_adopt.h - the index side of `mxspool-replay adopt` (replay/adopt.c)
 * that the fleet's own index module (index_fleet.h) does not cover: a
 * message of this index that another node adopted comes back when this node
 * adopts that node in turn (a chain of adoptions back to here).
 * Errors: enum index_status with index_error(); nothing is logged here.
 */
#ifndef MXS_INDEX_ADOPT_H
#define MXS_INDEX_ADOPT_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "index.h"

/*
 * index_adopt_revive - message id, 'adopted' here, is this node's again: the
 * recipients of e (those the fleet's ledgers leave pending) that are
 * 'adopted' become pending, the message queued and due at now; one
 * transaction.  *revived 0 when the message was not 'adopted' or none of
 * those recipients was.
 */
enum index_status index_adopt_revive(struct index *, const struct envelope *e, int64_t now,
		    int *revived);

#endif
