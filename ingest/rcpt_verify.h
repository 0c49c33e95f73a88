/*
 * rcpt_verify.h - which recipients the gateway accepts (relay protection and
 * recipient verification), and the primary-health probe of monitoring mode.
 *
 * Configuration, per domain ([domain NAME] sections; a domain without a
 * section is not ours -> relay denied):
 *   recipients = FILE     plain list, one address or local part per line
 *   hashed     = FILE     SHA-256 hex of the normalised address, one per line
 *   catchall   = yes      every local part of the domain exists
 *   callout    = smtp://host:port   ask the primary (RCPT probe), cached in the
 *                         index verify_cache: positive_ttl, negative_ttl;
 *                         when the primary is down, cached answers keep working,
 *                         unknown addresses get 450 (never 250, never 550)
 *   subaddress = yes      user+tag@ is checked as user@ (delimiter '+', config: delimiter)
 * Sources combine: any source that says yes accepts; a callout failure with
 * no positive answer elsewhere is a TEMPFAIL.  Normalisation: domain lower-
 * cased; local part lower-cased unless [ingest] case_sensitive_local = yes.
 *
 * Thread-safe: verify_rcpt() may be called from many threads at once; it may
 * block for a callout (bounded by callout_timeout).  A reload builds a new
 * struct verify with verify_load() and the caller swaps it; verify_free()
 * the old one when no session uses it any more.
 */
#ifndef MXS_RCPT_VERIFY_H
#define MXS_RCPT_VERIFY_H
#include <stddef.h>

#include "smtpc_health.h"

struct config;

enum verify_result {
	VERIFY_OK = 0,		/* 250 2.1.5 */
	VERIFY_NO_DOMAIN,	/* 554 5.7.1 relay access denied */
	VERIFY_NO_USER,		/* 550 5.1.1 user unknown */
	VERIFY_TEMPFAIL,	/* 450 4.1.1 / 4.4.3 verification source unavailable */
};

struct verify;

/* verify_load - domain tables, lists and callout settings; NULL + err (names file/key) */
struct verify	*verify_load(const struct config *, char *err, size_t errlen);
void		 verify_free(struct verify *);

/*
 * verify_rcpt - is addr ("local@domain", already parsed and unquoted by the
 * SMTP layer, no angle brackets, no source route) a recipient we accept?
 * text gets the reply text to send after the code and enhanced code
 * (e.g. "Recipient address rejected: user unknown").  Local parts holding
 * '%', '!' or '@' are never accepted (no relay via percent hack/bang path).
 */
enum verify_result verify_rcpt(struct verify *, const char *addr, char *text, size_t textlen);
/* verify_is_local_domain - 1 if domain (any case) is configured */
int		 verify_is_local_domain(struct verify *, const char *domain);

/*
 * Monitoring mode ([ingest] monitor = smtp://primary:25, monitor_interval):
 * a background probe of the primary.  While the primary is healthy the
 * ingest answers 4xx so senders keep trying it.  monitor_start() returns
 * NULL with err[0] == '\0' when monitoring is off, NULL with a reason in err
 * on a bad setting.  Keys: monitor_interval (30s), monitor_timeout (10s),
 * monitor_healthy_after (3 good probes), monitor_unhealthy_after (2 bad).
 */
struct monitor;
struct monitor	*monitor_start(const struct config *, char *err, size_t errlen); /* NULL if off */
int		 monitor_primary_healthy(struct monitor *);	/* 1 healthy, 0 not/unknown */
void		 monitor_stop(struct monitor *);
/* monitor_probes - probes completed so far (tools and tests wait on it) */
long		 monitor_probes(struct monitor *);
/* monitor_snapshot - the primary's health as of now: state and hysteresis thresholds */
struct smtpc_health monitor_snapshot(struct monitor *);
/* monitor_period_ms - the longest one probe takes, pause included (a bound for waiters) */
long long	 monitor_period_ms(const struct monitor *);

#endif
