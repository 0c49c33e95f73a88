/*
 * index_fleet.h - the index side of the fleet (schema/009_fleet.sql): the
 * outcomes waiting for this node's ledger, the ledger's next seq, the claim
 * epoch this node acknowledged, marking adopted messages, and the figures a
 * heartbeat carries.
 *
 * Ledger rows are added by a trigger while the control key fleet_ledger is
 * '1' (index_fleet_ledger_enable).  A writer reserves a batch
 * (index_fleet_reserve: a seq and the rows, in one transaction), PUTs it, then
 * drops its rows (index_fleet_batch_done).  A batch whose writer died between
 * the two is handed out again first, with the same rows and seq, so the
 * ledger object is rewritten whole, never lost.
 * Errors: enum index_status with index_error(); nothing is logged here.
 */
#ifndef MXS_INDEX_FLEET_H
#define MXS_INDEX_FLEET_H
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "msgid.h"

#define INDEX_FLEET_LEDGER_KEY	"fleet_ledger"		/* '1': the trigger records */
#define INDEX_FLEET_SEQ_KEY	"fleet_ledger_seq"	/* next ledger seq (1 if unset) */
#define INDEX_FLEET_EPOCH_KEY	"fleet_epoch"		/* claim epoch acknowledged */
/* why a claim stops this node's replay ("" when none): for status and the dashboard */
#define INDEX_FLEET_BLOCKED_KEY	"fleet_blocked"

/* index_fleet_ledger_enable - record final outcomes for the ledger (1) or not (0) */
enum index_status index_fleet_ledger_enable(struct index *, int on);
/*
 * index_fleet_reserve - the batch to write next: a batch reserved before and
 * still present, else up to max unreserved rows given the next seq.  *seq 0
 * and *n 0 when nothing waits.
 */
enum index_status index_fleet_reserve(struct index *, int max, int64_t *seq, int *n);
/* index_fleet_batch_rows - each row of batch seq, in the order recorded; fn non-zero stops */
enum index_status index_fleet_batch_rows(struct index *, int64_t seq,
		    int (*fn)(const char *id, const char *rcpt, const char *outcome,
		    int64_t at_ms, void *arg), void *arg);
/* index_fleet_batch_done - the batch is in the bucket: drop its rows */
enum index_status index_fleet_batch_done(struct index *, int64_t seq);
/* index_fleet_pending - rows not yet written (reserved or not) */
enum index_status index_fleet_pending(struct index *, int64_t *n);
/* index_fleet_epoch/set_epoch - the highest claim epoch acknowledged (0 if none) */
enum index_status index_fleet_epoch(struct index *, int64_t *epoch);
enum index_status index_fleet_set_epoch(struct index *, int64_t epoch);
/*
 * index_fleet_adopt - the n ids were adopted by another node: those still in
 * the backlog become 'adopted' (leases dropped, note says by whom), their
 * pending and quarantined recipients too; one transaction.  Ids not here or
 * already final are left alone.  *changed counts the messages moved.
 */
enum index_status index_fleet_adopt(struct index *, const char (*ids)[MSGID_MAX], size_t n,
		    const char *adopter, int64_t now_ms, int *changed);
/* index_fleet_figures - backlog count, oldest receipt (0 if none), last delivery (0) */
enum index_status index_fleet_figures(struct index *, int64_t *backlog, int64_t *oldest_ms,
		    int64_t *last_delivery_ms);

#endif
