/*
 * index_drill.h - the index side of `mxspool-replay drill`: canary rows.
 *
 * A canary is a message the drill sent through a gateway; its row is marked
 * (messages.drill = 1, schema 007) and held so serve never replays it as mail,
 * counted apart (index_drill_count) and removed for good when the drill ends
 * (index_drill_forget: the row, its recipients and attempts; only drill rows).
 * The mark is made with the insert: before sending, the drill registers its
 * tag (index_drill_expect: a control row "drill_canary:TAG"); the canary
 * carries ENVID=mxspool-drill-TAG (RFC 3461, kept in mail_params); the
 * ingest's store commit sees that ENVID (index_drill_tag) and inserts the
 * row through index_drill_add, which marks and holds it in the same
 * transaction when the tag is registered, and consumes the registration.
 * So no reader (a running serve) ever sees the canary unmarked, and no sender
 * can mark mail as a canary: a tag is 128 random bits, valid once, known only
 * to the drill and the index.  index_drill_mark stays for a gateway that did
 * not pass the ENVID on (no DSN): marked after the 250, a window the drill
 * reports.
 * Errors: enum index_status, the reason in index_error(); nothing logged here.
 */
#ifndef MXS_INDEX_DRILL_H
#define MXS_INDEX_DRILL_H
#include <stdint.h>

#include "index.h"

struct envelope;

#define DRILL_ENVID_PREFIX	"mxspool-drill-"	/* ENVID=mxspool-drill-TAG */
#define DRILL_TAG_LEN		32			/* hex of 128 random bits */

/* index_drill_mark - mark id a canary and hold it if it is in the backlog (a final state is
 * kept: a release must not send it again); INDEX_NOTFOUND if no row */
enum index_status index_drill_mark(struct index *, const char *id, int64_t now_ms);
/* index_drill_tag - the drill TAG of ENVID=mxspool-drill-TAG in mail_params (out: 33 bytes);
 * 1 found, 0 not a drill's envelope */
int		  index_drill_tag(const char *mail_params, char *out);
/* index_drill_expect - register TAG before sending; index_drill_unexpect - drop it (after) */
enum index_status index_drill_expect(struct index *, const char *tag, int64_t now_ms);
enum index_status index_drill_unexpect(struct index *, const char *tag);
/* index_drill_add - index_add_message, and in the same transaction: mark and hold the row
 * when tag is registered (consuming it).  *marked: 1 marked, 0 a plain row */
enum index_status index_drill_add(struct index *, const struct envelope *, const char *tag,
    const char *object_key, enum index_location, const char *spool_path, int64_t now_ms,
    int *marked);
/* index_drill_marked - 1 when row id is a marked canary, 0 not; INDEX_NOTFOUND if no row */
enum index_status index_drill_marked(struct index *, const char *id, int *marked);
/* index_drill_count - canary rows still in the index */
enum index_status index_drill_count(struct index *, int64_t *n);
/* index_drill_forget - delete the canary row id (and its recipients, attempts) */
enum index_status index_drill_forget(struct index *, const char *id);

#endif
