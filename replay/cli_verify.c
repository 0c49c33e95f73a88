/*
 * cli_verify.c - the recipient verification cache from the command line
 * (postmap -q / postmap -d on Postfix's verify cache):
 *
 *   verify list [--domain D] [--json]        cached callout answers, by address
 *   verify flush ADDRESS... | --domain D | --all
 *
 * The cache lives only in the index (verify_cache): the ingest reads the row
 * at every RCPT and keeps no copy in memory, so a flush applies to a running
 * ingest at once: the next RCPT for that address asks the primary again.
 * Addresses are keyed as the ingest keys them (mailaddr_key: domain in
 * A-label lower case, local part lower case unless [ingest]
 * case_sensitive_local); with subaddress = yes the ingest caches the address
 * without its tag, so that is the one to flush.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_fmt.h"
#include "config.h"
#include "index_verify.h"
#include "mailaddr.h"
#include "msgid.h"

struct cli_vlist {
	json_t	*arr;
	int64_t	 now;
	int	 n;
};

/* cli_verify_row - index_verify_list callback: one cached answer */
static int
cli_verify_row(const char *addr, const struct index_verify_entry *e, void *arg)
{
	struct cli_vlist	*l = arg;
	char			 t[32], ago[CLI_FMT_MAX], left[CLI_FMT_MAX];

	l->n++;
	if (l->arr) {
		json_array_append_new(l->arr, json_pack("{s:s, s:s, s:i, s:s, s:I, s:I}",
		    "address", addr, "result", e->result ? "positive" : "negative", "code",
		    e->code, "text", e->text, "checked_ms", (json_int_t)e->checked_ms,
		    "expires_ms", (json_int_t)e->expires_ms));
		return 0;
	}
	cli_time(e->checked_ms, t, sizeof(t));
	printf("%-40s %-8s %3d %s\n%40s checked %s UTC (%s ago), %s%s\n", addr,
	    e->result ? "positive" : "negative", e->code, e->text, "", t,
	    cli_fmt_age(l->now - e->checked_ms, ago, sizeof(ago)),
	    e->expires_ms > l->now ? "expires in " : "expired",
	    e->expires_ms > l->now ? cli_fmt_age(e->expires_ms - l->now, left, sizeof(left)) :
	    "");
	return 0;
}

/* cli_verify_domain - --domain in the cache's form; exit code or 0 */
static int
cli_verify_domain(struct cli *c, char *dom, size_t domlen)
{
	if (c->f.domain == NULL) {
		dom[0] = '\0';
		return 0;
	}
	if (mailaddr_domain_ascii(c->f.domain, dom, domlen) == -1)
		return cli_err(c, CLI_USAGE, "--domain %s: not a domain name", c->f.domain);
	return 0;
}

/* cli_verify_list - the cached answers */
static int
cli_verify_list(struct cli *c, const char *dom)
{
	struct cli_vlist	l = { NULL, now_ms(), 0 };
	enum index_status	st;

	if (c->nargs || c->all)
		return cli_err(c, CLI_USAGE, "list takes --domain D, not addresses or --all");
	if (c->json)
		l.arr = json_array();
	if ((st = index_verify_list(c->ix, dom[0] ? dom : NULL, cli_verify_row, &l)) !=
	    INDEX_OK) {
		json_decref(l.arr);
		return cli_index_exit(c, st, "verify list");
	}
	if (l.arr) {
		json_dumpf(l.arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(l.arr);
	} else if (l.n == 0)
		printf("verification cache is empty%s%s\n", dom[0] ? " for " : "", dom);
	return CLI_OK;
}

/* cli_verify_flush - forget addresses, a domain, or everything */
static int
cli_verify_flush(struct cli *c, const char *dom)
{
	enum index_status	st;
	char			key[MXS_ADDR_MAX + 2];
	size_t			llen;
	long long		n, total = 0;
	int			cs, rc = CLI_OK;

	if ((c->nargs > 0) + (dom[0] != '\0') + c->all != 1)
		return cli_err(c, CLI_USAGE, "flush wants addresses, --domain D or --all");
	if (c->nargs == 0) {
		if ((st = index_verify_flush(c->ix, NULL, dom[0] ? dom : NULL, &n)) != INDEX_OK)
			return cli_index_exit(c, st, "verify flush");
		printf("flush: %lld cached answer%s forgotten\n", n, n == 1 ? "" : "s");
		return CLI_OK;
	}
	cs = config_bool(c->cfg, "ingest", "case_sensitive_local", 0);
	for (int i = 0; i < c->nargs; i++) {
		if (mailaddr_key(c->args[i], cs, key, sizeof(key), &llen) == -1) {
			rc = cli_err(c, CLI_USAGE, "%s: not an address", c->args[i]);
			continue;
		}
		if ((st = index_verify_flush(c->ix, key, NULL, &n)) != INDEX_OK)
			return cli_index_exit(c, st, key);
		printf("%s: %s\n", key, n ? "forgotten" : "not cached");
		total += n;
	}
	printf("flush: %lld cached answer%s forgotten\n", total, total == 1 ? "" : "s");
	return rc;
}

int
cli_verify(struct cli *c)
{
	char	dom[MXS_DOMAIN_MAX + 1];
	int	rc;
	const char *sub;

	if (c->f.state || c->f.rcpt || c->f.sender || c->f.since_ms || c->f.until_ms)
		return cli_err(c, CLI_USAGE, "only --domain selects cache entries");
	if (c->nargs < 1)
		return cli_err(c, CLI_USAGE, "want list or flush");
	sub = c->args[0];
	c->nargs--;
	c->args++;
	if ((rc = cli_verify_domain(c, dom, sizeof(dom))) != 0 || (rc = cli_index(c)) != 0)
		return rc;
	if (strcmp(sub, "list") == 0)
		return cli_verify_list(c, dom);
	if (strcmp(sub, "flush") == 0)
		return cli_verify_flush(c, dom);
	return cli_err(c, CLI_USAGE, "%s: want list or flush", sub);
}
