/*
 * smtpc_health.c - probe results into a health state with hysteresis
 * (smtpc_health.h).
 *
 * Entry points: smtpc_health_init(), smtpc_health_note(), smtpc_health_name().
 * Invariant: good and bad are never both non-zero (a result resets the
 * other run).  No errors, no logging: the caller logs the transitions it
 * is told about, in its own words.
 */
#include <string.h>

#include "smtpc_health.h"

/* smtpc_health_init - see smtpc_health.h */
void
smtpc_health_init(struct smtpc_health *h, int up_after, int down_after)
{
	memset(h, 0, sizeof(*h));
	h->state = SMTPC_HEALTH_UNKNOWN;
	h->up_after = up_after > 0 ? up_after : 1;
	h->down_after = down_after > 0 ? down_after : 1;
}

/* smtpc_health_note - see smtpc_health.h */
enum smtpc_health_state
smtpc_health_note(struct smtpc_health *h, int ok)
{
	enum smtpc_health_state old = h->state;

	h->probes++;
	if (ok) {
		h->bad = 0;
		if (++h->good >= h->up_after)
			h->state = SMTPC_HEALTH_UP;
	} else {
		h->good = 0;
		if (++h->bad >= h->down_after)
			h->state = SMTPC_HEALTH_DOWN;
	}
	return old;
}

/* smtpc_health_name - see smtpc_health.h */
const char *
smtpc_health_name(enum smtpc_health_state st)
{
	static const char *const name[] = { "unknown", "healthy", "unhealthy" };

	return (unsigned)st < sizeof(name) / sizeof(name[0]) ? name[st] : "?";
}
