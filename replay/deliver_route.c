/*
 * deliver_route.c - where replay delivers: [routes] and [deliver] configuration.
 *
 * Entry points: deliver_route_parse() turns "smtp://host:port", "lmtp://[::1]:24",
 * "lmtp:unix:/path" or "smtp:unix:/path" into a struct deliver_route;
 * deliver_route_lookup() finds the route of a recipient domain like Postfix
 * transport_maps (exact domain, then ".parent" entries, then "*"), keys and
 * the domain compared in one form, lower-case A-labels (Postfix tables
 * ignore case; an SMTPUTF8 recipient may carry U-labels);
 * deliver_opts_load() reads [deliver].
 * Invariant: a parsed route names either host+port or an absolute unix path.
 * Errors: parse returns -1; bad configuration is a start-up error (fatalx).
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

/* deliver_host_valid - a DNS name or an IPv4 literal: [A-Za-z0-9.-_], no empty label edge */
static int
deliver_host_valid(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 255 || h[0] == '.' || h[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-' || h[i] == '_'))
			return 0;
	return 1;
}

/* deliver_ip6_valid - characters of an IPv6 literal (getaddrinfo checks the rest) */
static int
deliver_ip6_valid(const char *h, size_t n)
{
	size_t i;

	if (n < 2 || n > 45)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF:.", h[i]) == NULL)
			return 0;
	return 1;
}

/* deliver_route_hostport - "host", "host:port", "[v6]", "[v6]:port" */
static int
deliver_route_hostport(const char *s, struct deliver_route *r)
{
	const char	*hs, *he, *p;
	long long	 port;

	if (*s == '[') {
		hs = s + 1;
		if ((he = strchr(hs, ']')) == NULL || !deliver_ip6_valid(hs, he - hs))
			return -1;
		p = he + 1;
	} else {
		hs = s;
		he = hs + strcspn(hs, ":");
		if (!deliver_host_valid(hs, he - hs))
			return -1;
		p = he;
	}
	if (*p == ':') {
		if (config_parse_num(p + 1, 1, 65535, &port) == -1)
			return -1;
		r->port = (int)port;
	} else if (*p != '\0')
		return -1;
	if ((size_t)(he - hs) >= sizeof(r->host))
		return -1;
	memcpy(r->host, hs, he - hs);
	r->host[he - hs] = '\0';
	return 0;
}

int
deliver_route_parse(const char *spec, struct deliver_route *r)
{
	const char	*rest;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	if (spec == NULL || strlen(spec) >= sizeof(r->target))
		return -1;
	if (strncmp(spec, "smtp:", 5) == 0) {
		r->proto = DELIVER_SMTP;
		r->port = 25;
	} else if (strncmp(spec, "lmtp:", 5) == 0) {
		r->proto = DELIVER_LMTP;
		r->port = 24;
	} else
		return -1;
	rest = spec + 5;
	if (strncmp(rest, "unix:", 5) == 0) {
		rest += 5;
		n = strlen(rest);
		if (rest[0] != '/' || n >= sizeof(r->unix_path))
			return -1;
		memcpy(r->unix_path, rest, n + 1);
		r->port = 0;
	} else if (strncmp(rest, "//", 2) == 0) {
		if (deliver_route_hostport(rest + 2, r) == -1)
			return -1;
	} else
		return -1;
	snprintf(r->target, sizeof(r->target), "%s", spec);
	return 0;
}

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
	if (deliver_route_parse(f.val, r) == -1)
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
