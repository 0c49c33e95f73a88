/*
 * index_adopt.c - see index_adopt.h.  The reverse of index_fleet_adopt(),
 * for the recipients the adopter names: a recipient another node finished
 * stays as it is, and a message none of whose recipients comes back stays
 * 'adopted'.  Both moves go through the one setter (index_queue.c), from
 * 'adopted' only.
 */
#include "index_adopt.h"
#include "index_queue.h"

/* index_adopt_revive - see index_adopt.h */
enum index_status
index_adopt_revive(struct index *ix, const struct envelope *e, int64_t now, int *revived)
{
	struct index_move	 a = { .now = now };
	enum index_status	 s;
	int			 n = 0, moved;

	*revived = 0;
	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	for (size_t i = 0; i < e->nrcpts && s == INDEX_OK; i++) {
		a.rcpt = e->rcpts[i].addr;
		s = index_queue_rcpt_move(ix, e->id, RCPT_BIT(RCPT_ADOPTED), RCPT_PENDING, "", "",
		    &a, &moved);
		n += moved > 0;
	}
	a.rcpt = NULL;
	if (s == INDEX_OK && n > 0)
		s = index_queue_move(ix, e->id, QUEUE_BIT(QUEUE_ADOPTED), QUEUE_QUEUED,
		    "state_ms = :now, next_attempt_ms = :now, note = NULL", "", &a, revived);
	if (s != INDEX_OK)
		*revived = 0;
	return index_end(ix, s);
}
