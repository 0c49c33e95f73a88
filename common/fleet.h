/*
 * fleet.h - gateways in separate failure domains sharing one bucket: the
 * bucket layer of the fleet (heartbeats, ledger, claims) and the node-side
 * agent that keeps a process's heartbeat fresh, writes its ledger and
 * honours claims on its node.  Layout and semantics: docs/storage.md,
 * "The fleet: heartbeats, ledger, claims".
 *
 *   fleet.c        keys, configuration, heartbeats (JSON), fleet view
 *   fleet_ledger.c ledger batches: encode, put, read one node / every node
 *   fleet_claim.c  claims (conditional create), manifests, the store probe
 *   fleet_agent.c  the node side: a thread per process (fleet_agent_start)
 *
 * Keys, under "<[storage] prefix>/_fleet/":
 *   hb/<node>/<role>.json                heartbeat of one process role
 *   ledger/<node>/<seq:16 digits>.jsonl  one batch of finished outcomes
 *   claims/<node>/<epoch:10 digits>.json an adoption of node's backlog
 *   claims/<node>/<epoch:10 digits>.ids  its manifest, one id per line
 *
 * Error contract: bucket calls return enum objstore_status; a failure leaves
 * a one-line reason in fleet_error() (the store's reason, prefixed by what
 * the fleet was doing).  Nothing here logs except fleet_agent.c, which logs
 * each failure once per kind and retries at its next interval.  Every bucket
 * call made through struct fleet runs under conf.call_ms (objstore deadline),
 * so a hanging store never holds a caller longer than that per call.
 * A struct fleet is used by one thread at a time (its objstore handle too).
 */
#ifndef MXS_FLEET_H
#define MXS_FLEET_H
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "objstore.h"

struct config;
struct index;

#define FLEET_DIR		"_fleet"
#define FLEET_ROLE_MAX		16
#define FLEET_WORD_MAX		16	/* replay state, outcome names */
#define FLEET_VERSION_MAX	32
#define FLEET_HOST_MAX		256
#define FLEET_RCPT_MAX		(MXS_ADDR_MAX + 1)
#define FLEET_NODE_MAX		(MSGID_NODE_MAX + 1)
/* a heartbeat or a claim object is small; anything larger is not ours */
#define FLEET_SMALL_MAX		4096
/* a ledger batch or a manifest read back: bounded (ledger_batch lines of ~600 bytes) */
#define FLEET_OBJECT_MAX	(64LL << 20)

/* the processes of a node, one heartbeat object each */
enum fleet_role {
	FLEET_ROLE_INGEST = 0,
	FLEET_ROLE_SERVE,
	FLEET_ROLE_DRAIN,
	FLEET_NROLES,
};

/* [fleet] configuration (defaults in limits.h, FLEET_*_DEFAULT) */
struct fleet_conf {
	int	enabled;		/* [fleet] enabled (default yes) */
	int	ledger;			/* [fleet] ledger (default yes) */
	int64_t	heartbeat_ms;		/* [fleet] heartbeat_interval (60s) */
	int64_t	stale_ms;		/* [fleet] stale_after (180s) */
	int64_t	ledger_ms;		/* [fleet] ledger_interval (10s) */
	int	ledger_batch;		/* [fleet] ledger_batch (1000 outcomes per object) */
	int64_t	call_ms;		/* [fleet] call_deadline: each bucket call (10s) */
};

/* fleet_conf_read - the [fleet] section (bounds as in config_schema.c) */
void		 fleet_conf_read(const struct config *, struct fleet_conf *);

/* struct fleet - the bucket layer for this node; os is borrowed, never closed here */
struct fleet {
	struct objstore		*os;
	char			 base[OBJKEY_MAX / 2];	/* "<prefix>/_fleet" */
	char			 node[FLEET_NODE_MAX];	/* this node ([general] node) */
	struct fleet_conf	 conf;
	char			 err[ERRSTR_MAX];
};

/* fleet_init - node and prefix from cf, conf read; 0, or -1 with err (prefix too long) */
int		 fleet_init(struct fleet *, const struct config *, struct objstore *os,
		    char *err, size_t errlen);
/* fleet_error - the reason of the last failed call on f */
const char	*fleet_error(const struct fleet *);
/* fleet_role_name - "ingest", "serve", "drain"; fleet_role_parse: -1 if none */
const char	*fleet_role_name(enum fleet_role);
int		 fleet_role_parse(const char *);

/* ---- heartbeats (fleet.c) ---- */

struct fleet_hb {
	char	node[FLEET_NODE_MAX];
	char	role[FLEET_ROLE_MAX];		/* fleet_role_name() */
	char	version[FLEET_VERSION_MAX];
	char	host[FLEET_HOST_MAX];
	int64_t	pid;
	int64_t	updated_ms;			/* writer's clock */
	int64_t	backlog;			/* messages in the node's backlog */
	int64_t	oldest_ms;			/* receipt time of the oldest, 0 if none */
	int64_t	last_delivery_ms;		/* 0 if none */
	char	replay[FLEET_WORD_MAX];		/* running, paused, stopped, blocked; ingest: none */
	int64_t	epoch;				/* highest claim acknowledged, 0 if none */
	int	exiting;			/* the last one a process writes */
};

/* fleet_hb_encode - JSON of hb, malloc'd and NUL-terminated; NULL on no memory */
char		*fleet_hb_encode(const struct fleet_hb *);
/* fleet_hb_decode - parse len bytes of JSON into hb; 0, or -1 with why (unknown keys ignored) */
int		 fleet_hb_decode(const char *json, size_t len, struct fleet_hb *,
		    char *why, size_t whylen);
/* fleet_hb_put - write hb (its node must be f's) to hb/<node>/<role>.json */
enum objstore_status fleet_hb_put(struct fleet *, const struct fleet_hb *);
/* fleet_hb_get - read the heartbeat of node's role; OBJ_NOTFOUND if none */
enum objstore_status fleet_hb_get(struct fleet *, const char *node, const char *role,
		    struct fleet_hb *);
/*
 * fleet_hb_list - every heartbeat of every node, ordered by node then role,
 * into *out (malloc'd array, free()) and *n.  An unreadable or undecodable
 * object is skipped (counted in *bad when bad is not NULL), not an error.
 */
enum objstore_status fleet_hb_list(struct fleet *, struct fleet_hb **out, size_t *n,
		    size_t *bad);

/* one node of the fleet as its heartbeats and claims show it (status --fleet) */
struct fleet_node {
	char	node[FLEET_NODE_MAX];
	int64_t	seen_ms;			/* freshest heartbeat's updated_ms */
	int	stale;				/* now - seen_ms > stale_after */
	int	running;			/* roles whose last heartbeat is not exiting */
	char	roles[64];			/* "ingest,serve" : roles not exiting */
	int64_t	backlog, oldest_ms, last_delivery_ms;	/* of the freshest heartbeat */
	char	replay[FLEET_WORD_MAX];		/* serve's, else drain's, else "none" */
	int64_t	epoch;				/* highest epoch the node acknowledged */
	int64_t	claim_epoch;			/* highest claim on the node, 0 if none */
	char	claim_adopter[FLEET_NODE_MAX];	/* its adopter, "" if none */
	int	claim_manifest;			/* that claim has its manifest */
	int	problem;			/* stale and backlog > 0 and not adopted */
};
/*
 * fleet_nodes - the fleet view at now_ms: one entry per node with a
 * heartbeat or a claim, sorted by node, into *out (malloc'd, free()) and *n.
 */
enum objstore_status fleet_nodes(struct fleet *, int64_t now_ms, struct fleet_node **out,
		    size_t *n);

/* ---- ledger (fleet_ledger.c) ---- */

/* one finished recipient: a line of a ledger batch */
struct fleet_outcome {
	char	id[MSGID_MAX];
	char	rcpt[FLEET_RCPT_MAX];
	char	outcome[FLEET_WORD_MAX];	/* delivered quarantine expired deleted */
	int64_t	at_ms;
	char	by[FLEET_NODE_MAX];		/* the node that finished it */
};

/* fleet_outcome_encode - one JSON line (with '\n') appended to b; 0 or -1 (b full) */
struct buf;
int		 fleet_outcome_encode(const struct fleet_outcome *, struct buf *b);
/* fleet_outcome_decode - one line (without '\n') into o; 0 or -1 */
int		 fleet_outcome_decode(const char *line, size_t len, struct fleet_outcome *o);
/*
 * fleet_ledger_put - write batch seq (>= 1) of this node: one PUT of n lines.
 * Writing the same seq again replaces it: the writer (fleet_agent) only
 * rewrites a batch with the same or more lines (index_fleet.h).
 */
enum objstore_status fleet_ledger_put(struct fleet *, int64_t seq,
		    const struct fleet_outcome *, size_t n);
/* fn gets each outcome; a non-zero return stops the reading (still OBJ_OK) */
typedef int (*fleet_outcome_fn)(const struct fleet_outcome *, void *arg);
/*
 * fleet_ledger_read - every outcome in node's ledger, batches in seq order;
 * fleet_ledger_read_all - the same for every node of the fleet.  A line that
 * does not parse is skipped and counted in *bad (may be NULL).
 */
enum objstore_status fleet_ledger_read(struct fleet *, const char *node, fleet_outcome_fn,
		    void *arg, size_t *bad);
enum objstore_status fleet_ledger_read_all(struct fleet *, fleet_outcome_fn, void *arg,
		    size_t *bad);

/* ---- claims (fleet_claim.c) ---- */

struct fleet_claim {
	char	node[FLEET_NODE_MAX];		/* the node whose backlog is claimed */
	int64_t	epoch;				/* 1, 2, ... per node */
	char	adopter[FLEET_NODE_MAX];
	int64_t	at_ms;
	int	manifest;			/* claims/<node>/<epoch>.ids exists */
};

/*
 * fleet_claims_list - node's claims in increasing epoch, with their
 * manifest flag, into *out (malloc'd, free()) and *n (0: never claimed).
 */
enum objstore_status fleet_claims_list(struct fleet *, const char *node,
		    struct fleet_claim **out, size_t *n);
/* fleet_claim_next_epoch - the highest claim on node + 1 (1 if none) */
enum objstore_status fleet_claim_next_epoch(struct fleet *, const char *node, int64_t *epoch);
/*
 * fleet_claim_create - claim node's backlog at epoch for this node (the
 * adopter) with a conditional create.  OBJ_OK: this node holds the claim (won
 * now, or had already won it: a retry after a lost reply or a crash);
 * OBJ_EXISTS: another adopter holds it, filled into *got (may be NULL).
 * Refuses node == this node (OBJ_PERMFAIL).
 */
enum objstore_status fleet_claim_create(struct fleet *, const char *node, int64_t epoch,
		    struct fleet_claim *got);
/* fleet_claim_get - read node's claim at epoch (manifest flag included); OBJ_NOTFOUND */
enum objstore_status fleet_claim_get(struct fleet *, const char *node, int64_t epoch,
		    struct fleet_claim *);
/* fleet_manifest_put - the ids of claim (node, epoch), one per line; replaces */
enum objstore_status fleet_manifest_put(struct fleet *, const char *node, int64_t epoch,
		    const char (*ids)[MSGID_MAX], size_t n);
/* fleet_manifest_read - each id of the manifest to fn (non-zero stops); OBJ_NOTFOUND */
enum objstore_status fleet_manifest_read(struct fleet *, const char *node, int64_t epoch,
		    int (*fn)(const char *id, void *arg), void *arg);
/*
 * fleet_probe_conditional - does the store honour a conditional create?
 * Writes _fleet/probe/<node>-<random> conditionally twice and deletes it:
 * OBJ_OK if the second was refused; OBJ_PERMFAIL with "the object store
 * ignores If-None-Match ..." if it was accepted (claims would not fence);
 * OBJ_TEMPFAIL when the store could not be asked.
 */
enum objstore_status fleet_probe_conditional(struct fleet *);

/* ---- the node side (fleet_agent.c) ---- */

struct fleet_agent;
/*
 * fleet_agent_start - this process's fleet duties, as role, in a thread of
 * its own with its own store and index handles.  Before it returns it does
 * one pass synchronously (each call under [fleet] call_deadline): a replay
 * role first writes the ledger a killed process left and honours its node's
 * claims (so nothing adopted is leased), then every role writes its
 * heartbeat.  A bucket that fails is logged and retried at the next interval:
 * start never fails because of it.  NULL with *err == '\0' when [fleet]
 * enabled = no; NULL with err on a start-up failure (config, no memory).
 */
struct fleet_agent *fleet_agent_start(const struct config *, enum fleet_role,
		    char *err, size_t errlen);
/*
 * fleet_agent_blocked - 1 while a claim on this node has no manifest yet
 * (an adoption in progress, or its adopter died): the replay delivers
 * nothing; why says so for logs and status.  0 otherwise (NULL agent: 0).
 * Thread-safe.
 */
int		 fleet_agent_blocked(struct fleet_agent *, char *why, size_t whylen);
/* fleet_agent_set_replay - what the heartbeat says of the replay (running, paused...) */
void		 fleet_agent_set_replay(struct fleet_agent *, const char *state);
/* fleet_agent_poke - run a pass now (e.g. after a drain finished); thread-safe */
void		 fleet_agent_poke(struct fleet_agent *);
/*
 * fleet_agent_stop - stop the thread, write the ledger still pending (replay
 * roles) and a last heartbeat with exiting = true, free.  NULL: no-op.
 */
void		 fleet_agent_stop(struct fleet_agent *);

/*
 * fleet_honour_claims - read node's claims and apply those newer than the
 * epoch ix acknowledged: a claim with a manifest marks its ids adopted
 * (index_fleet_adopt) and acknowledges the epoch; one without stops there
 * and returns 1 with why.  0 when nothing blocks; -1 on a bucket or index
 * failure (reason in why).  Used by fleet_agent and by tests.
 */
int		 fleet_honour_claims(struct fleet *, struct index *, char *why, size_t whylen);
/*
 * fleet_ledger_flush - write every outcome ix holds for the ledger, in
 * batches of conf.ledger_batch (a batch reserved by a process killed before
 * its PUT is written first; outcomes recorded while it runs may wait for the
 * next call).  The number of outcomes written in *written,
 * OBJ_OK, or the first failure (what was written stays written).
 */
enum objstore_status fleet_ledger_flush(struct fleet *, struct index *, int64_t *written);
/* fleet_ledger_flush_whole - the same, but only batches of exactly ledger_batch outcomes */
enum objstore_status fleet_ledger_flush_whole(struct fleet *, struct index *, int64_t *written);

#endif
