/*
 * config_parse.c - value parsers shared by the config checker, the typed
 * getters, the CLI flags and the daemons; see config.h.
 *
 * Entry points: config_parse_num(), config_parse_duration(),
 * config_parse_size(), config_parse_bool(), config_parse_rate(),
 * config_parse_listen().
 * Each one is the only parser of its kind of value, so what `-t` accepts is
 * exactly what the program that uses the value accepts.
 * Errors: -1 (and a reason in err where the caller shows one); nothing logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "limits.h"

/* config_parse_num - decimal integer in [min, max]; 0 ok, -1 bad */
int
config_parse_num(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* config_parse_bool - yes/true/on/1 or no/false/off/0 (any case) */
int
config_parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
	    !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
	    !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* config_parse_scaled - number with an optional one-letter unit from units/mult */
static int
config_parse_scaled(const char *s, const char *units, const long long *mult, long long *out)
{
	char		*end;
	const char	*u;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
			return -1;
		if (v > __LONG_LONG_MAX__ / mult[u - units])
			return -1;
		v *= mult[u - units];
	}
	*out = v;
	return 0;
}

/* config_parse_duration - seconds: "90", "90s", "5m", "2h", "7d" */
int
config_parse_duration(const char *s, long long *out)
{
	static const long long mult[] = { 1, 60, 3600, 86400, 1, 60, 3600, 86400 };

	return config_parse_scaled(s, "smhdSMHD", mult, out);
}

/* config_parse_size - bytes: "512", "64k", "50M", "2g" (powers of 1024) */
int
config_parse_size(const char *s, long long *out)
{
	static const long long mult[] = { 1024, 1024 * 1024, 1024 * 1024 * 1024,
	    1024, 1024 * 1024, 1024 * 1024 * 1024 };

	return config_parse_scaled(s, "kmgKMG", mult, out);
}

/* config_parse_rate - "10", "0.5", "10/s", "600/m", "3600/h" -> messages/s in [0, RATE_MAX] */
int
config_parse_rate(const char *s, double *out)
{
	char	*end;
	double	 v, per = 1;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v))
		return -1;
	if (strcmp(end, "/s") == 0 || *end == '\0')
		per = 1;
	else if (strcmp(end, "/m") == 0)
		per = 60;
	else if (strcmp(end, "/h") == 0)
		per = 3600;
	else
		return -1;
	v /= per;
	if (v < 0 || v > RATE_MAX)
		return -1;
	*out = v;
	return 0;
}

/*
 * config_parse_listen - one "addr:port" or "[v6addr]:port" to bind.  The port
 * must be 1..65535 in decimal (getaddrinfo would take "99999" modulo 65536 and
 * bind another port).  The address must be a numeric IPv4 or IPv6 address,
 * or empty for every address when CONFIG_LISTEN_ANY is in flags, or any host
 * name when CONFIG_LISTEN_NAME is.  host (without brackets) and port are
 * copied out; 0 ok, -1 with a reason in err.
 */
int
config_parse_listen(const char *spec, int flags, char *host, size_t hostlen, int *port,
    char *err, size_t errlen)
{
	const char	*h = spec, *colon;
	unsigned char	 bin[16];
	long long	 p;
	size_t		 n;
	int		 v6 = 0;

	if (*h == '[') {
		if ((colon = strstr(h, "]:")) == NULL)
			goto syntax;
		h++;
		n = (size_t)(colon - h);
		colon++;
		v6 = 1;
	} else {
		if ((colon = strrchr(h, ':')) == NULL)
			goto syntax;
		n = (size_t)(colon - h);
	}
	if (n >= hostlen)
		goto syntax;
	memcpy(host, h, n);
	host[n] = '\0';
	if (config_parse_num(colon + 1, 1, 65535, &p) == -1) {
		snprintf(err, errlen, "\"%s\": port %s: want 1 to 65535", spec, colon + 1);
		return -1;
	}
	*port = (int)p;
	if (n == 0 && !v6 && (flags & CONFIG_LISTEN_ANY))
		return 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) == 1)
		return 0;
	if (!v6 && n > 0 && (flags & CONFIG_LISTEN_NAME) &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n)
		return 0;
	snprintf(err, errlen, "\"%s\": %s is not an IP%s address", spec, n ? host : "\"\"",
	    v6 ? "v6" : "v4");
	return -1;
syntax:
	snprintf(err, errlen, "\"%s\": want addr:port or [v6addr]:port", spec);
	return -1;
}
