/*
 * smtpc_health.h - the health of a peer from consecutive probe results,
 * with hysteresis: the one state machine behind the ingest's primary
 * monitor (monitor.c) and the replay's primary probe (sched_probe.c).
 *
 * Unknown until the first change; healthy after up_after consecutive good
 * probes, unhealthy after down_after consecutive bad ones.  Not locked: the
 * caller holds whatever lock guards the struct.
 */
#ifndef MXS_SMTPC_HEALTH_H
#define MXS_SMTPC_HEALTH_H

enum smtpc_health_state {
	SMTPC_HEALTH_UNKNOWN = 0,
	SMTPC_HEALTH_UP,
	SMTPC_HEALTH_DOWN,
};

struct smtpc_health {
	enum smtpc_health_state	state;
	int			up_after, down_after;	/* consecutive probes to change */
	int			good, bad;		/* consecutive results so far */
	long			probes;
};

/* smtpc_health_init - unknown, changing after up_after good / down_after bad probes (>= 1) */
void	smtpc_health_init(struct smtpc_health *, int up_after, int down_after);
/* smtpc_health_note - one probe result; returns the state before it (== h->state: no change) */
enum smtpc_health_state smtpc_health_note(struct smtpc_health *, int ok);
/* smtpc_health_name - "unknown", "healthy", "unhealthy" */
const char *smtpc_health_name(enum smtpc_health_state);

#endif
