/*
 * config.c - INI configuration: load, and the typed, bounded getters; see
 * config.h.  The getters run after config_check() passed; each also checks
 * that its key and bounds are the table's (config_schema.c), so the check
 * and the use cannot drift apart.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_impl.h"
#include "log.h"
#include "msgid.h"

/* config_handler - inih callback: keep every pair; later duplicates win */
static int
config_handler(void *arg, const char *sec, const char *key, const char *val)
{
	struct config	*c = arg;
	struct config_kv *nkv;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		if ((nkv = reallocarray(c->kv, c->cap, sizeof(*nkv))) == NULL) {
			c->oom = 1;
			return 0;
		}
		c->kv = nkv;
	}
	c->kv[c->n].sec = strdup(sec);
	c->kv[c->n].key = strdup(key);
	c->kv[c->n].val = strdup(val);
	if (!c->kv[c->n].sec || !c->kv[c->n].key || !c->kv[c->n].val) {
		c->oom = 1;
		return 0;
	}
	c->n++;
	return 1;
}

static struct config *
config_finish(struct config *c, int rc, char *err, size_t errlen)
{
	if (rc == 0 && !c->oom)
		return c;
	if (rc == -1)
		snprintf(err, errlen, "%s: cannot open: %s", c->path, strerror(errno));
	else if (c->oom)
		snprintf(err, errlen, "%s: out of memory", c->path);
	else
		snprintf(err, errlen, "%s:%d: syntax error", c->path, rc);
	config_free(c);
	return NULL;
}

/* config_new - an empty config named path (for messages); NULL when out of memory */
static struct config *
config_new(const char *path, char *err, size_t errlen)
{
	struct config *c;

	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return c;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *c;

	if ((c = config_new(path, err, errlen)) == NULL)
		return NULL;
	return config_finish(c, ini_parse(path, config_handler, c), err, errlen);
}

struct config *
config_from_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct config *c;

	if ((c = config_new(name, err, errlen)) == NULL)
		return NULL;
	return config_finish(c, ini_parse_string(text, config_handler, c), err, errlen);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->kv[i].sec);
		free(c->kv[i].key);
		free(c->kv[i].val);
	}
	free(c->kv);
	free(c->path);
	free(c);
}

const char *
config_path(const struct config *c)
{
	return c->path;
}

const char *
config_path_default(const char *arg)
{
	const char *env;

	if (arg != NULL)
		return arg;
	if ((env = getenv("MXSPOOL_CONFIG")) != NULL && *env != '\0')
		return env;
	return "/etc/mxspool/mxspool.conf";
}

/* config_raw - the last value of sec/key, or NULL */
static const char *
config_raw(const struct config *c, const char *sec, const char *key)
{
	size_t i;

	for (i = c->n; i-- > 0;)
		if (strcmp(c->kv[i].sec, sec) == 0 && strcmp(c->kv[i].key, key) == 0)
			return c->kv[i].val;
	return NULL;
}

/*
 * config_agree - a getter's key and bounds must be the table's when the table
 * knows the section (sections it does not know are the unit tests' own).
 * type -1: any type (config_str).  A mismatch is a programming error.
 */
static void
config_agree(const struct config *c, const char *sec, const char *key, int type,
    long long min, long long max)
{
	const struct config_key *k;

	if (!config_schema_section(sec) || strcmp(sec, "routes") == 0 ||
	    strcmp(sec, "route_rates") == 0)
		return;
	if ((k = config_schema_find(sec, key)) == NULL)
		fatalx("config: [%s] %s is read but not in the table (common/config_schema.c)",
		    sec, key);
	if (type != -1 && ((int)k->type != type || (type != CONFIG_T_BOOL &&
	    (k->min != min || k->max != max))))
		fatalx("config: [%s] %s is read with other bounds (%lld..%lld) than the table's "
		    "(%lld..%lld, common/config_schema.c)", sec, key, min, max, k->min, k->max);
}

const char *
config_str(const struct config *c, const char *sec, const char *key, const char *def)
{
	const char *v = config_raw(c, sec, key), *e;

	config_agree(c, sec, key, -1, 0, 0);
	if (v == NULL)
		return def;
	if (strncmp(v, "env:", 4) == 0) {
		if ((e = getenv(v + 4)) == NULL)
			fatalx("%s: [%s] %s: environment variable %s is not set",
			    c->path, sec, key, v + 4);
		return e;
	}
	return v;
}

/* config_scaled - shared body of the bounded getters */
static long long
config_scaled(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max, int type, int (*parse)(const char *, long long *),
    const char *what)
{
	const char	*v;
	long long	 n;

	config_agree(c, sec, key, type, min, max);
	if ((v = config_str(c, sec, key, NULL)) == NULL)
		return def;
	if (parse(v, &n) == -1 || n < min || n > max)
		fatalx("%s: [%s] %s = \"%s\": want %s from %lld to %lld", c->path, sec, key, v,
		    what, min, max);
	return n;
}

static int
config_parse_plain(const char *s, long long *out)
{
	return config_parse_num(s, -__LONG_LONG_MAX__, __LONG_LONG_MAX__, out);
}

long long
config_num(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_scaled(c, sec, key, def, min, max, CONFIG_T_NUM, config_parse_plain,
	    "a number");
}

long long
config_duration(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_scaled(c, sec, key, def, min, max, CONFIG_T_DURATION,
	    config_parse_duration, "a duration in seconds (suffix s, m, h or d)");
}

long long
config_size(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_scaled(c, sec, key, def, min, max, CONFIG_T_SIZE, config_parse_size,
	    "a size in bytes (suffix k, M or G)");
}

int
config_bool(const struct config *c, const char *sec, const char *key, int def)
{
	const char	*v;
	int		 b;

	config_agree(c, sec, key, CONFIG_T_BOOL, 0, 1);
	if ((v = config_str(c, sec, key, NULL)) == NULL)
		return def;
	if (config_parse_bool(v, &b) == -1)
		fatalx("%s: [%s] %s = \"%s\": want yes or no", c->path, sec, key, v);
	return b;
}

void
config_foreach(const struct config *c, const char *sec,
    void (*fn)(const char *, const char *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->kv[i].sec, sec) == 0)
			fn(c->kv[i].key, c->kv[i].val, arg);
}

void
config_sections(const struct config *c, const char *prefix,
    void (*fn)(const char *, void *), void *arg)
{
	size_t i, j, plen = strlen(prefix);

	for (i = 0; i < c->n; i++) {
		if (strncmp(c->kv[i].sec, prefix, plen) != 0)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(c->kv[j].sec, c->kv[i].sec) == 0)
				break;
		if (j == i)
			fn(c->kv[i].sec, arg);
	}
}

const char *
config_node(const struct config *c)
{
	const char *n = config_str(c, "general", "node", "mx1");

	if (!msgid_node_valid(n))
		fatalx("%s: [general] node = \"%s\": want 1 to %d of a-z, 0-9, -", c->path, n,
		    MSGID_NODE_MAX);
	return n;
}

const char *
config_data_dir(const struct config *c)
{
	return config_str(c, "general", "data_dir", "/var/lib/mxspool");
}

void
config_data_path(const struct config *c, const char *sec, const char *key, const char *rel,
    char *out, size_t outlen)
{
	const char	*v = config_str(c, sec, key, NULL);
	int		 n;

	if (v != NULL)
		n = snprintf(out, outlen, "%s", v);
	else
		n = snprintf(out, outlen, "%s/%s", config_data_dir(c), rel);
	if (n < 0 || (size_t)n >= outlen)
		fatalx("%s: [%s] %s: path too long", c->path, sec, key);
}

void
config_index_path(const struct config *c, char *out, size_t outlen)
{
	config_data_path(c, "general", "index", "index.sqlite", out, outlen);
}
