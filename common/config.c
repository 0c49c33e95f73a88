/*
 * config.c - INI configuration: load, and the typed, bounded getters; see
 * config.h.  The getters run after config_check() passed; each also checks
 * that its key and bounds are the table's (config_schema.c), so the check
 * and the use cannot drift apart.  One implementation: config_get_*() return
 * an error line, config_str() and the rest exit with it; config_value() is
 * the parser of typed values for the getters and config_check() alike.
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

/* a getter's error line: file, section, key, the value (its length is the file's) and why */
#define CONFIG_ERR_MAX	1024

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

/* config_fail - err = "FILE: [sec] key = "v": why" (v NULL: no value shown); -1 */
static int
config_fail(const struct config *c, const char *sec, const char *key, const char *v,
    const char *why, char *err, size_t errlen)
{
	if (v == NULL)
		snprintf(err, errlen, "%s: [%s] %s: %s", c->path, sec, key, why);
	else
		snprintf(err, errlen, "%s: [%s] %s = \"%s\": %s", c->path, sec, key, v, why);
	return -1;
}

int
config_get_str(const struct config *c, const char *sec, const char *key, const char *def,
    const char **out, char *err, size_t errlen)
{
	const char	*v = config_raw(c, sec, key), *e;
	char		 why[128];

	config_agree(c, sec, key, -1, 0, 0);
	*out = def;
	if (v == NULL)
		return 0;
	if (strncmp(v, "env:", 4) == 0) {
		if ((e = getenv(v + 4)) == NULL) {
			snprintf(why, sizeof(why), "environment variable %.80s is not set", v + 4);
			return config_fail(c, sec, key, NULL, why, err, errlen);
		}
		v = e;
	}
	*out = v;
	return 0;
}

int
config_value(enum config_type type, const char *v, long long min, long long max,
    long long *out, char *why, size_t whylen)
{
	const char	*what;
	int		 b, rc;

	switch (type) {
	case CONFIG_T_BOOL:
		if (config_parse_bool(v, &b) == 0) {
			*out = b;
			return 0;
		}
		snprintf(why, whylen, "want yes or no");
		return -1;
	case CONFIG_T_NUM:
		rc = config_parse_num(v, min, max, out);
		what = "a number";
		break;
	case CONFIG_T_DURATION:
		rc = config_parse_duration(v, out);
		what = "a duration in seconds (suffix s, m, h or d)";
		break;
	case CONFIG_T_SIZE:
		rc = config_parse_size(v, out);
		what = "a size in bytes (suffix k, M or G)";
		break;
	default:
		fatalx("config_value: type %d is not a typed value", (int)type);
	}
	if (rc == 0 && *out >= min && *out <= max)
		return 0;
	snprintf(why, whylen, "want %s from %lld to %lld", what, min, max);
	return -1;
}

/* config_get_typed - shared body of the typed getters: the table's type and bounds */
static int
config_get_typed(const struct config *c, const char *sec, const char *key,
    enum config_type type, long long def, long long min, long long max, long long *out,
    char *err, size_t errlen)
{
	const char	*v;
	char		 why[160];

	config_agree(c, sec, key, type, min, max);
	*out = def;
	if (config_get_str(c, sec, key, NULL, &v, err, errlen) == -1)
		return -1;
	if (v == NULL)
		return 0;
	if (config_value(type, v, min, max, out, why, sizeof(why)) == 0)
		return 0;
	*out = def;
	return config_fail(c, sec, key, v, why, err, errlen);
}

int
config_get_bool(const struct config *c, const char *sec, const char *key, int def, int *out,
    char *err, size_t errlen)
{
	long long	n;
	int		rc = config_get_typed(c, sec, key, CONFIG_T_BOOL, def, 0, 1, &n, err,
			    errlen);

	*out = (int)n;
	return rc;
}

int
config_get_num(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max, long long *out, char *err, size_t errlen)
{
	return config_get_typed(c, sec, key, CONFIG_T_NUM, def, min, max, out, err, errlen);
}

int
config_get_duration(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max, long long *out, char *err, size_t errlen)
{
	return config_get_typed(c, sec, key, CONFIG_T_DURATION, def, min, max, out, err,
	    errlen);
}

/* the getters that exit (after config_check() passed they do not fail) */
const char *
config_str(const struct config *c, const char *sec, const char *key, const char *def)
{
	const char	*v;
	char		 err[CONFIG_ERR_MAX];

	if (config_get_str(c, sec, key, def, &v, err, sizeof(err)) == -1)
		fatalx("%s", err);
	return v;
}

/* config_typed - config_get_typed or fatalx */
static long long
config_typed(const struct config *c, const char *sec, const char *key, enum config_type type,
    long long def, long long min, long long max)
{
	long long	n;
	char		err[CONFIG_ERR_MAX];

	if (config_get_typed(c, sec, key, type, def, min, max, &n, err, sizeof(err)) == -1)
		fatalx("%s", err);
	return n;
}

long long
config_num(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_typed(c, sec, key, CONFIG_T_NUM, def, min, max);
}

long long
config_duration(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_typed(c, sec, key, CONFIG_T_DURATION, def, min, max);
}

long long
config_size(const struct config *c, const char *sec, const char *key, long long def,
    long long min, long long max)
{
	return config_typed(c, sec, key, CONFIG_T_SIZE, def, min, max);
}

int
config_bool(const struct config *c, const char *sec, const char *key, int def)
{
	return (int)config_typed(c, sec, key, CONFIG_T_BOOL, def, 0, 1);
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

/* config_sections_one - config_sections callback: count */
static void
config_sections_one(const char *sec, void *arg)
{
	(*(size_t *)arg)++;
}

size_t
config_sections_count(const struct config *c, const char *prefix)
{
	size_t n = 0;

	config_sections(c, prefix, config_sections_one, &n);
	return n;
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
