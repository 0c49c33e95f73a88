/*
 * check_local.c - readiness areas "Store" and "Recipients": what this gateway
 * itself needs to accept mail in an outage.
 *
 * Entry points: check_store() (checks "store": a canary object put, read back
 * byte for byte and deleted with the configured credentials; "spool": the
 * fallback spool has room for one message of [ingest] max_message_size),
 * check_recipients() per domain ("recipients": each list file present, WARN
 * when older than [check] recipients_max_age; "recipients_load": the lists
 * load as the ingest loads them (verify_load, once per run); "callout": the
 * primary answers EHLO, or the verification cache holds answers younger than
 * positive_ttl, else FAIL: every unknown address would get 450 in the outage).
 * The canary key is <prefix>/check/canary-<node>-<ms>.txt: never a message
 * (.eml), so reindex ignores one a crash left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anonfile.h"
#include "store.h"
#include "config.h"
#include "msgid.h"
#include "index.h"
#include "index_verify.h"
#include "objstore.h"
#include "spool.h"
#include "route.h"
#include "smtpc.h"
#include "rcpt_verify.h"
#include "check.h"

#define CHECK_LIST_AGE_DEFAULT	(7 * 86400)
/* the fix for an ingest key this process cannot read (an env:NAME set for the ingest only) */
#define CHECK_FIX_UNREAD	"give mxspool-replay the same environment as the ingest (or " \
	"the value itself): check reads the ingest's keys"

/* check_canary - put, get (compare), delete; 0 ok, -1 (why) */
static int
check_canary(struct check_ctx *cx, struct objstore *os, const char *key, char *why,
    size_t whylen)
{
	char			 body[OBJKEY_MAX + 64], back[sizeof(body)];
	enum objstore_status	 st;
	int			 fd;
	ssize_t			 n;

	snprintf(body, sizeof(body), "mxspool readiness canary %s\n", key);
	if ((st = objstore_put_buf(os, key, body, strlen(body), NULL)) != OBJ_OK) {
		snprintf(why, whylen, "put %.200s: %s", key, objstore_error(os));
		return -1;
	}
	if ((fd = anonfile_open(config_data_dir(cx->cfg))) == -1) {
		snprintf(why, whylen, "temporary file in %s: %s", config_data_dir(cx->cfg),
		    strerror(errno));
		objstore_delete(os, key);
		return -1;
	}
	st = objstore_get_fd(os, key, fd, NULL, NULL);
	n = st == OBJ_OK ? pread(fd, back, sizeof(back), 0) : -1;
	close(fd);
	if (st != OBJ_OK || n != (ssize_t)strlen(body) || memcmp(back, body, (size_t)n) != 0) {
		snprintf(why, whylen, "get %.200s: %s", key, st != OBJ_OK ? objstore_error(os) :
		    "bytes differ from those put");
		objstore_delete(os, key);
		return -1;
	}
	if (objstore_delete(os, key) != OBJ_OK) {
		snprintf(why, whylen, "delete %.200s: %s", key, objstore_error(os));
		return -1;
	}
	return 0;
}

void
check_store(struct check_ctx *cx)
{
	const char	*prefix = store_conf_prefix(cx->cfg);
	char		 key[OBJKEY_MAX], why[ERRSTR_MAX * 2], dir[1024];
	struct objstore	*os;
	struct spool	*sp;
	long long	 msgmax = config_size(cx->cfg, "ingest", "max_message_size",
			    SMTP_MSGSIZE_DEFAULT, 1024, 1LL << 40);
	int64_t		 bytes, count;

	snprintf(key, sizeof(key), "%s%scheck/canary-%s-%lld.txt", prefix, prefix[0] ? "/" : "",
	    config_node(cx->cfg), (long long)now_ms());
	if ((os = objstore_open(cx->cfg, why, sizeof(why))) == NULL)
		check_add(cx, "store", NULL, CHECK_FAIL, "fix [storage]", "%s", why);
	else if (check_canary(cx, os, key, why, sizeof(why)) != 0)
		check_add(cx, "store", NULL, CHECK_FAIL, "check [storage] url, bucket and "
		    "credentials (rotated keys?), and that the bucket accepts writes",
		    "%s: %s", objstore_describe(os), why);
	else
		check_add(cx, "store", NULL, CHECK_PASS, NULL, "%s: canary put, read back intact, "
		    "deleted", objstore_describe(os));
	if (os)
		objstore_close(os);
	config_data_path(cx->cfg, "spool", "dir", "spool", dir, sizeof(dir));
	if ((sp = spool_open(dir, config_size(cx->cfg, "spool", "max_size",
	    STORE_SPOOL_MAX_DEFAULT, 0, 1LL << 50), why, sizeof(why))) == NULL) {
		check_add(cx, "spool", NULL, CHECK_FAIL, "fix [spool] dir", "%s", why);
		return;
	}
	spool_usage(sp, &bytes, &count);
	if (spool_room(sp, msgmax, why, sizeof(why)))
		check_add(cx, "spool", NULL, CHECK_PASS, NULL, "%s: room for a %lld-byte message "
		    "(%lld messages, %lld bytes held)", dir, msgmax, (long long)count,
		    (long long)bytes);
	else
		check_add(cx, "spool", NULL, CHECK_FAIL, "free disk space or raise [spool] max_size:"
		    " with the store down, mail would get 452", "%s: no room for a %lld-byte message"
		    " (%lld messages, %lld bytes held): %s", dir, msgmax, (long long)count,
		    (long long)bytes, why);
	spool_close(sp);
}

/* check_list_files - the files of a recipients/hashed key: present, age */
static void
check_list_files(struct check_ctx *cx, const char *domain, const char *key, const char *files)
{
	const char	*p = files, *cpath = config_path(cx->cfg), *slash = strrchr(cpath, '/');
	long long	 maxage = config_duration(cx->cfg, "check", "recipients_max_age",
			    CHECK_LIST_AGE_DEFAULT, 60, 3650LL * 86400);
	char		 path[CONFIG_PATH_MAX + 1];
	struct stat	 sb;
	size_t		 n;
	long long	 age;

	while (*(p += strspn(p, ", \t")) != '\0') {
		n = strcspn(p, ", \t");
		/* relative to the config file's directory, as rcpt_verify.c reads them */
		if (*p == '/' || slash == NULL)
			snprintf(path, sizeof(path), "%.*s", (int)n, p);
		else
			snprintf(path, sizeof(path), "%.*s/%.*s", (int)(slash - cpath), cpath,
			    (int)n, p);
		p += n;
		if (stat(path, &sb) != 0) {
			check_add(cx, "recipients", domain, CHECK_FAIL, "restore the list (the "
			    "ingest will not start without it)", "[domain %s] %s %s: %s", domain,
			    key, path, strerror(errno));
			continue;
		}
		age = (now_ms() / 1000) - (long long)sb.st_mtime;
		if (age > maxage)
			check_add(cx, "recipients", domain, CHECK_WARN, "export the list from the "
			    "primary again (cron), or raise [check] recipients_max_age", "%s %s: "
			    "%lld days old (over %lld), %lld bytes", key, path, age / 86400,
			    maxage / 86400, (long long)sb.st_size);
		else
			check_add(cx, "recipients", domain, CHECK_PASS, NULL, "%s %s: %lld h old, "
			    "%lld bytes", key, path, age / 3600, (long long)sb.st_size);
	}
}

struct check_cache {
	int64_t	newest;
	long	n;
};

/* check_cache_cb - index_verify_list callback: newest positive answer */
static int
check_cache_cb(const char *addr, const struct index_verify_entry *e, void *arg)
{
	struct check_cache *cc = arg;

	(void)addr;
	if (e->result == 1) {
		cc->n++;
		if (e->checked_ms > cc->newest)
			cc->newest = e->checked_ms;
	}
	return 0;
}

/* check_callout - the primary answers, or the cache still answers for it */
static void
check_callout(struct check_ctx *cx, const char *domain, const char *sec, const char *url)
{
	struct deliver_route	 t;
	struct check_cache	 cc = { 0, 0 };
	struct index		*ix;
	char			 why[ERRSTR_MAX * 2], ixerr[ERRSTR_MAX];
	char			 path[CONFIG_PATH_MAX + 1];
	long long		 ttl;

	if (config_get_duration(cx->cfg, sec, "positive_ttl", 7 * 86400, 0, 3650LL * 86400, &ttl,
	    why, sizeof(why)) == -1) {
		check_add(cx, "callout", domain, CHECK_FAIL, CHECK_FIX_UNREAD, "%s", why);
		return;
	}
	if (route_parse_smtp(url, &t) != 0) {
		check_add(cx, "callout", domain, CHECK_FAIL, "fix the callout url",
		    "\"%s\": want smtp://host[:port] (port 1-65535)", url);
		return;
	}
	if (smtpc_probe(&t, cx->hostname, cx->timeout * 1000, why, sizeof(why)) == 0) {
		check_add(cx, "callout", domain, CHECK_PASS, NULL, "callout %s answers EHLO", url);
		return;
	}
	config_index_path(cx->cfg, path, sizeof(path));
	if ((ix = index_open_existing(path, ixerr, sizeof(ixerr))) != NULL) {
		index_verify_list(ix, domain, check_cache_cb, &cc);
		index_close(ix);
	}
	if (cc.n > 0 && now_ms() - cc.newest < ttl * 1000)
		check_add(cx, "callout", domain, CHECK_PASS, NULL, "callout %s: %s; the cache "
		    "answers for %ld addresses (newest %lld min old)", url, why, cc.n,
		    (long long)(now_ms() - cc.newest) / 60000);
	else
		check_add(cx, "callout", domain, CHECK_FAIL, "bring the primary back or add a "
		    "recipients list: unknown recipients get 450 until then", "callout %s: %s; "
		    "no fresh cached answer (%ld positive)", url, why, cc.n);
}

/* check_verify_load - load every recipient table as the ingest does, once per run */
static void
check_verify_load(struct check_ctx *cx)
{
	struct verify	*vf;

	if (cx->verify_state != 0)
		return;
	if ((vf = verify_load(cx->cfg, cx->verify_err, sizeof(cx->verify_err))) == NULL) {
		cx->verify_state = -1;
		return;
	}
	cx->verify_state = 1;
	verify_free(vf);
}

/*
 * check_recipients - the [domain] keys are the ingest's: config_check() resolved
 * their env:NAME for the ingest, not for this process, so they are read with
 * the non-fatal getters and one that cannot be read here is a FAIL, not an exit
 */
void
check_recipients(struct check_ctx *cx, const char *domain)
{
	static const char *const lists[] = { "recipients", "hashed" };
	char		 sec[MXS_DOMAIN_MAX + 16], err[ERRSTR_MAX * 2];
	const char	*v;
	size_t		 i;
	int		 catchall;

	snprintf(sec, sizeof(sec), "domain %s", domain);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (config_get_str(cx->cfg, sec, lists[i], NULL, &v, err, sizeof(err)) == -1)
			check_add(cx, "recipients", domain, CHECK_FAIL, CHECK_FIX_UNREAD, "%s",
			    err);
		else if (v != NULL)
			check_list_files(cx, domain, lists[i], v);
	if (config_get_str(cx->cfg, sec, "callout", NULL, &v, err, sizeof(err)) == -1)
		check_add(cx, "callout", domain, CHECK_FAIL, CHECK_FIX_UNREAD, "%s", err);
	else if (v != NULL)
		check_callout(cx, domain, sec, v);
	if (config_get_bool(cx->cfg, sec, "catchall", 0, &catchall, err, sizeof(err)) == -1)
		check_add(cx, "recipients", domain, CHECK_FAIL, CHECK_FIX_UNREAD, "%s", err);
	else if (catchall)
		check_add(cx, "recipients", domain, CHECK_WARN, "prefer a recipient list: a "
		    "catchall backup accepts (and later bounces) every dictionary address",
		    "catchall = yes: every address is accepted");
	/* the tables load as one (an error anywhere stops the ingest): said for each domain */
	check_verify_load(cx);
	if (cx->verify_state < 0)
		check_add(cx, "recipients_load", domain, CHECK_FAIL, "fix the list; the ingest "
		    "refuses to start (or to reload) with it", "%s", cx->verify_err);
	else
		check_add(cx, "recipients_load", domain, CHECK_PASS, NULL, "the recipient sources "
		    "load as the ingest loads them");
}
