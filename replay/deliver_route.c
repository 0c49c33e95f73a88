/*
 * deliver_route.c - where replay delivers: [routes] and [deliver] configuration.
 *
 * Entry points (a target itself is parsed by common/route.c):
 * deliver_routes_load() parses [routes] once into a table (keys in lookup
 * form, targets parsed), deliver_routes_free(); deliver_route_lookup() finds
 * the route of a recipient domain like Postfix transport_maps (exact domain,
 * then ".parent" entries, then "*"), keys and the domain compared in one
 * form, lower-case A-labels (Postfix tables ignore case; an SMTPUTF8
 * recipient may carry U-labels);
 * deliver_opts_load() reads [deliver].
 * Errors: bad configuration is refused by config_check() before this runs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mailaddr.h"
#include "deliver.h"

/* one [routes] entry: its key in lookup form ("*", "dom.ain", ".dom.ain") and target */
struct deliver_routes_entry {
	char			key[MXS_DOMAIN_MAX + 2];
	struct deliver_route	route;
};

struct deliver_routes {
	struct deliver_routes_entry	*e;
	size_t				 n;
	const char			*path;
	char				*err;
	size_t				 errlen;
};

/* deliver_routes_add - config_foreach callback: one [routes] line, parsed once */
static void
deliver_routes_add(const char *key, const char *val, void *arg)
{
	struct deliver_routes		*t = arg;
	struct deliver_routes_entry	*e = &t->e[t->n];
	int				 dot = key[0] == '.';

	if (t->err[0] != '\0')
		return;
	e->key[0] = '.';
	if (strcmp(key, "*") == 0)
		snprintf(e->key, sizeof(e->key), "*");
	else if (mailaddr_domain_ascii(key + dot, e->key + dot, sizeof(e->key) - dot) == -1) {
		snprintf(t->err, t->errlen, "%s: [routes] %s: want a domain, .domain or *",
		    t->path, key);
		return;
	}
	if (route_parse(val, &e->route) == -1) {
		snprintf(t->err, t->errlen, "%s: [routes] %s = \"%s\": want smtp://host[:port], "
		    "lmtp://host[:port], smtp:unix:/path or lmtp:unix:/path", t->path, key, val);
		return;
	}
	t->n++;
}

/* deliver_routes_count - config_foreach callback: lines of [routes] */
static void
deliver_routes_count(const char *key, const char *val, void *arg)
{
	(*(size_t *)arg)++;
}

struct deliver_routes *
deliver_routes_load(const struct config *c, char *err, size_t errlen)
{
	struct deliver_routes	*t;
	size_t			 n = 0;

	err[0] = '\0';
	config_foreach(c, "routes", deliver_routes_count, &n);
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->e = calloc(n ? n : 1,
	    sizeof(*t->e))) == NULL) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->path = config_path(c);
	t->err = err;
	t->errlen = errlen;
	config_foreach(c, "routes", deliver_routes_add, t);
	t->err = NULL;
	if (err[0] != '\0') {
		deliver_routes_free(t);
		return NULL;
	}
	return t;
}

void
deliver_routes_free(struct deliver_routes *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

/* deliver_routes_get - the first entry (file order) whose key is want */
static int
deliver_routes_get(const struct deliver_routes *t, const char *want, struct deliver_route *r)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].key, want) == 0) {
			*r = t->e[i].route;
			return 0;
		}
	return -1;
}

int
deliver_route_lookup(const struct deliver_routes *t, const char *domain, struct deliver_route *r)
{
	char		 ascii[MXS_DOMAIN_MAX + 1];
	const char	*d;

	if (strcmp(domain, "*") != 0) {
		if (mailaddr_domain_ascii(domain, ascii, sizeof(ascii)) == -1)
			return deliver_routes_get(t, "*", r);
		domain = ascii;
	}
	if (deliver_routes_get(t, domain, r) == 0)
		return 0;
	for (d = strchr(domain, '.'); d != NULL; d = strchr(d + 1, '.'))
		if (deliver_routes_get(t, d, r) == 0)
			return 0;
	return deliver_routes_get(t, "*", r);
}

void
deliver_opts_load(const struct config *c, struct deliver_opts *o)
{
	const char	*tls;
	unsigned char	 sa[sizeof(struct in6_addr)];

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
	o->source_address = config_str(c, "replay", "source_address", NULL);
	if (o->source_address != NULL && *o->source_address != '\0' &&
	    inet_pton(AF_INET, o->source_address, sa) != 1 &&
	    inet_pton(AF_INET6, o->source_address, sa) != 1)
		fatalx("%s: [replay] source_address = \"%s\": want an IPv4 or IPv6 address of this"
		    " host", config_path(c), o->source_address);
	/* Postfix: smtp_connect_timeout 30s, smtp_*_timeout 300s, smtp_data_done_timeout 600s */
	o->connect_timeout = (int)config_duration(c, "deliver", "connect_timeout", 30, 1, 3600);
	o->command_timeout = (int)config_duration(c, "deliver", "command_timeout", 300, 1, 3600);
	o->data_timeout = (int)config_duration(c, "deliver", "data_timeout", 600, 1, 7200);
}
