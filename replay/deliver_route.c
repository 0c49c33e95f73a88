/*
 * deliver_route.c - where replay delivers: [routes] and [deliver] configuration.
 *
 * Entry points (a target itself is parsed by common/route.c):
 * deliver_route_lookup() finds the route of a recipient domain like Postfix
 * transport_maps (exact domain, then ".parent" entries, then "*"), keys and
 * the domain compared in one form, lower-case A-labels (Postfix tables
 * ignore case; an SMTPUTF8 recipient may carry U-labels);
 * deliver_opts_load() reads [deliver].
 * Errors: bad configuration is refused by config_check() before this runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mailaddr.h"
#include "deliver.h"

struct deliver_route_find {
	const char	*want;		/* "*", "dom.ain" or ".dom.ain", lookup form */
	const char	*key, *val;	/* the first [routes] entry that matches */
};

/* deliver_route_match - config_foreach callback: is key, in lookup form, f->want? */
static void
deliver_route_match(const char *key, const char *val, void *arg)
{
	struct deliver_route_find	*f = arg;
	char				 norm[MXS_DOMAIN_MAX + 2] = ".";
	int				 dot = key[0] == '.';

	if (f->val != NULL)
		return;
	if (strcmp(key, "*") == 0 ? strcmp(f->want, "*") != 0 :
	    mailaddr_domain_ascii(key + dot, norm + dot, sizeof(norm) - dot) == -1 ||
	    strcmp(norm, f->want) != 0)
		return;
	f->key = key;
	f->val = val;
}

/* deliver_route_get - parse the [routes] value for want, fatalx if it is bad */
static int
deliver_route_get(const struct config *c, const char *want, struct deliver_route *r)
{
	struct deliver_route_find f = { want, NULL, NULL };

	config_foreach(c, "routes", deliver_route_match, &f);
	if (f.val == NULL)
		return -1;
	if (route_parse(f.val, r) == -1)
		fatalx("%s: [routes] %s = \"%s\": want smtp://host[:port], lmtp://host[:port], "
		    "smtp:unix:/path or lmtp:unix:/path", config_path(c), f.key, f.val);
	return 0;
}

int
deliver_route_lookup(const struct config *c, const char *domain, struct deliver_route *r)
{
	char		 ascii[MXS_DOMAIN_MAX + 1];
	const char	*d;

	if (strcmp(domain, "*") != 0) {
		if (mailaddr_domain_ascii(domain, ascii, sizeof(ascii)) == -1)
			return deliver_route_get(c, "*", r);
		domain = ascii;
	}
	if (deliver_route_get(c, domain, r) == 0)
		return 0;
	for (d = strchr(domain, '.'); d != NULL; d = strchr(d + 1, '.'))
		if (deliver_route_get(c, d, r) == 0)
			return 0;
	return deliver_route_get(c, "*", r);
}

void
deliver_opts_load(const struct config *c, struct deliver_opts *o)
{
	const char *tls;

	memset(o, 0, sizeof(*o));
	tls = config_str(c, "deliver", "tls", "opportunistic");
	if (strcmp(tls, "none") == 0)
		o->tls = DELIVER_TLS_NONE;
	else if (strcmp(tls, "opportunistic") == 0)
		o->tls = DELIVER_TLS_OPPORTUNISTIC;
	else if (strcmp(tls, "required") == 0)
		o->tls = DELIVER_TLS_REQUIRED;
	else
		fatalx("%s: [deliver] tls = \"%s\": want none, opportunistic or required",
		    config_path(c), tls);
	o->tls_verify = config_bool(c, "deliver", "tls_verify", 0);
	o->ca_file = config_str(c, "deliver", "ca_file", NULL);
	o->auth_user = config_str(c, "deliver", "auth_user", NULL);
	o->auth_password = config_str(c, "deliver", "auth_password", NULL);
	if (o->auth_user != NULL && o->auth_password == NULL)
		fatalx("%s: [deliver] auth_user is set but auth_password is not", config_path(c));
	o->auth_plaintext = config_bool(c, "deliver", "auth_plaintext", 0);
	o->helo_name = config_str(c, "deliver", "helo_name", NULL);
	/* Postfix: smtp_connect_timeout 30s, smtp_*_timeout 300s, smtp_data_done_timeout 600s */
	o->connect_timeout = (int)config_duration(c, "deliver", "connect_timeout", 30, 1, 3600);
	o->command_timeout = (int)config_duration(c, "deliver", "command_timeout", 300, 1, 3600);
	o->data_timeout = (int)config_duration(c, "deliver", "data_timeout", 600, 1, 7200);
}
