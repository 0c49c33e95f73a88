/*
 * config_check.c - check a whole configuration file once, completely,
 * without side effects; see config_check() in config.h.
 *
 * One pass over every (section, key, value) in file order against the table
 * of config_schema.c: unknown sections and keys (with the closest known name),
 * env:NAME that is not set, values that do not parse or are out of bounds,
 * files that cannot be read; then the cross-key checks the programs used to
 * meet only at start-up ([storage] through the object store's own init, the
 * index directory, require_tls, AUTH).  Each value is parsed by the parser
 * the program uses, so what passes here cannot be refused later.
 * Invariant: nothing is created, written, connected to or logged; every
 * error goes to the caller's fn as one line naming file, section and key.
 */
#include <errno.h>
#include <libgen.h>
#include <linux/limits.h>	/* PATH_MAX */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_impl.h"
#include "limits.h"
#include "mailaddr.h"
#include "objstore.h"
#include "route.h"

struct config_checkctx {
	const struct config	*c;
	unsigned		 prog;
	void			(*fn)(const char *, void *);
	void			*arg;
	int			 nerr;
	int			 storage_bad;	/* [storage] is bad: skip the backend */
};

/* config_check_err - report "FILE: [sec] key = "val": why"; val NULL or secret: no value */
static void __attribute__((format(printf, 5, 6)))
config_check_err(struct config_checkctx *x, const char *sec, const char *key, const char *val,
    const char *fmt, ...)
{
	char	why[512], line[1024], where[384];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (key == NULL)
		snprintf(where, sizeof(where), "[%s]", sec);
	else if (val == NULL)
		snprintf(where, sizeof(where), "[%s] %s", sec, key);
	else
		snprintf(where, sizeof(where), "[%s] %s = \"%.200s\"", sec, key, val);
	snprintf(line, sizeof(line), "%s: %s: %s", x->c->path, where, why);
	x->nerr++;
	if (strcmp(sec, "storage") == 0)
		x->storage_bad = 1;
	x->fn(line, x->arg);
}

/* config_check_value - the value a program reads (env:NAME resolved); NULL: do not check */
static const char *
config_check_value(struct config_checkctx *x, const struct config_kv *kv, unsigned prog)
{
	const char *e;

	if (strncmp(kv->val, "env:", 4) != 0)
		return kv->val;
	if ((e = getenv(kv->val + 4)) != NULL)
		return e;
	if (prog & x->prog)
		config_check_err(x, kv->sec, kv->key, NULL, "environment variable %s is not set",
		    kv->val + 4);
	return NULL;
}

/* config_check_enum - 1 if v is one of the '|'-separated words of values */
static int
config_check_enum(const char *v, const char *values)
{
	size_t n, vl = strlen(v);

	for (; *values != '\0'; values += n + (values[n] == '|')) {
		n = strcspn(values, "|");
		if (n == vl && strncmp(values, v, n) == 0)
			return 1;
	}
	return 0;
}

/* config_check_typed - one value against its table entry */
static void
config_check_typed(struct config_checkctx *x, const struct config_kv *kv,
    const struct config_key *k, const char *v)
{
	const char	*shown = (k->flags & CONFIG_K_SECRET) ? NULL : v;
	char		 why[256], words[128];
	long long	 n;

	switch (k->type) {
	case CONFIG_T_BOOL:
	case CONFIG_T_NUM:
	case CONFIG_T_DURATION:
	case CONFIG_T_SIZE:
		if (config_value(k->type, v, k->min, k->max, &n, why, sizeof(why)) == -1)
			config_check_err(x, kv->sec, kv->key, shown, "%s", why);
		return;
	case CONFIG_T_ENUM:
		if (!config_check_enum(v, k->values)) {
			snprintf(words, sizeof(words), "%s", k->values);
			for (char *p = words; (p = strchr(p, '|')) != NULL;)
				*p = '/';
			config_check_err(x, kv->sec, kv->key, shown, "want %s", words);
		}
		return;
	case CONFIG_T_STR:
		if (k->max > 0 && (long long)strlen(v) > k->max)
			config_check_err(x, kv->sec, kv->key, NULL, "longer than %lld bytes", k->max);
		else if (k->check != NULL && k->check(v, why, sizeof(why)) == -1)
			config_check_err(x, kv->sec, kv->key, shown, "%s", why);
		else if ((k->flags & CONFIG_K_FILE) && (k->prog & x->prog) && *v != '\0' &&
		    access(v, R_OK) == -1)
			config_check_err(x, kv->sec, kv->key, shown, "cannot read: %s",
			    strerror(errno));
		return;
	}
}

/* config_check_domain_key - [routes]/[route_rates] key: "*", "domain" or ".domain" */
static int
config_check_domain_key(const char *key)
{
	char ascii[MXS_DOMAIN_MAX + 1];

	if (strcmp(key, "*") == 0)
		return 1;
	key += key[0] == '.';
	return mailaddr_domain_ascii(key, ascii, sizeof(ascii)) == 0;
}

/* config_check_free - a key of [routes] or [route_rates] (names are domains) */
static void
config_check_free(struct config_checkctx *x, const struct config_kv *kv)
{
	struct deliver_route	 r;
	const char		*v;
	double			 d;

	if (!config_check_domain_key(kv->key)) {
		config_check_err(x, kv->sec, kv->key, NULL,
		    "want a domain, .domain (its subdomains) or *");
		return;
	}
	if ((v = config_check_value(x, kv, CONFIG_P_REPLAY)) == NULL)
		return;
	if (strcmp(kv->sec, "routes") == 0 && route_parse(v, &r) == -1)
		config_check_err(x, kv->sec, kv->key, v, "want smtp://host[:port], "
		    "lmtp://host[:port], smtp:unix:/path or lmtp:unix:/path");
	else if (strcmp(kv->sec, "route_rates") == 0 && (config_parse_rate(v, &d) == -1 ||
	    d <= 0))
		config_check_err(x, kv->sec, kv->key, v, "want messages/s > 0 (2, 0.5, 120/m)");
}

/* config_check_unknown_key - name the closest key, here or in another section */
static void
config_check_unknown_key(struct config_checkctx *x, const struct config_kv *kv)
{
	const struct config_key	*k;
	const char		*near = config_schema_suggest(kv->sec, kv->key);

	if (near != NULL) {
		config_check_err(x, kv->sec, kv->key, NULL, "unknown key (did you mean %s?)",
		    near);
		return;
	}
	for (k = config_keys; k->sec != NULL; k++)
		if (strcmp(k->key, kv->key) == 0) {
			config_check_err(x, kv->sec, kv->key, NULL,
			    "unknown key (it belongs in [%s])", k->sec);
			return;
		}
	config_check_err(x, kv->sec, kv->key, NULL, "unknown key");
}

/* config_check_kv - one line of the file */
static void
config_check_kv(struct config_checkctx *x, size_t i)
{
	const struct config_kv	*kv = &x->c->kv[i];
	const struct config_key	*k;
	const char		*v, *hint;
	size_t			 j;

	if (!config_schema_section(kv->sec)) {
		for (j = 0; j < i; j++)
			if (strcmp(x->c->kv[j].sec, kv->sec) == 0)
				return;		/* said once per section */
		if ((hint = config_schema_suggest_section(kv->sec)) != NULL)
			config_check_err(x, kv->sec, NULL, NULL,
			    "unknown section (did you mean [%s]?)", hint);
		else
			config_check_err(x, kv->sec, NULL, NULL, "unknown section");
		return;
	}
	if (strcmp(kv->sec, "routes") == 0 || strcmp(kv->sec, "route_rates") == 0) {
		config_check_free(x, kv);
		return;
	}
	if ((k = config_schema_find(kv->sec, kv->key)) == NULL) {
		config_check_unknown_key(x, kv);
		return;
	}
	if ((v = config_check_value(x, kv, k->prog)) != NULL)
		config_check_typed(x, kv, k, v);
}

/* config_check_storage - [storage] as the programs open it (nothing created, no traffic) */
static void
config_check_storage(struct config_checkctx *x)
{
	struct objstore	*o;
	const char	*url = config_str(x->c, "storage", "url", NULL);
	char		 err[ERRSTR_MAX * 2];
	size_t		 n;

	if (url == NULL || *url == '\0') {
		config_check_err(x, "storage", "url", NULL,
		    "not set (file:///path or https://host)");
		return;
	}
	if (strncmp(url, "file://", 7) == 0) {
		/* objstore_file_init() would create the directory: check its rule here */
		n = strlen(url + 7);
		if (url[7] != '/' || n >= OBJKEY_MAX / 2 || n < 2)
			config_check_err(x, "storage", "url", url, "want file:///absolute/path");
		return;
	}
	/* the S3 backend's init reads and checks every key and opens no connection */
	if ((o = objstore_open(x->c, err, sizeof(err))) == NULL) {
		x->nerr++;
		x->fn(err, x->arg);
		return;
	}
	objstore_close(o);
}

/* config_check_get - the value of sec/key as read (env:NAME resolved), NULL if none */
static const char *
config_check_get(const struct config *c, const char *sec, const char *key)
{
	const char	*v;
	char		 err[ERRSTR_MAX];

	/* an unset env:NAME is config_check_value()'s to report (for who reads the key) */
	return config_get_str(c, sec, key, NULL, &v, err, sizeof(err)) == 0 ? v : NULL;
}

/* config_check_index - an explicit [general] index must be in a directory that exists */
static void
config_check_index(struct config_checkctx *x)
{
	const char	*v = config_check_get(x->c, "general", "index");
	const char	*data = config_check_get(x->c, "general", "data_dir");
	char		 dir[PATH_MAX];
	struct stat	 st;

	if (v == NULL || *v == '\0')
		return;
	if (snprintf(dir, sizeof(dir), "%s", v) >= (int)sizeof(dir)) {
		config_check_err(x, "general", "index", v, "path too long");
		return;
	}
	dirname(dir);
	if (strcmp(dir, data != NULL ? data : config_data_dir(x->c)) == 0)
		return;		/* data_dir is created at start */
	if (stat(dir, &st) == -1)
		config_check_err(x, "general", "index", v, "directory %s: %s", dir,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		config_check_err(x, "general", "index", v, "%s is not a directory", dir);
}

/*
 * config_check_fleet - a node must not look stale while it beats: stale_after
 * under two heartbeats would let `adopt` take a live node's mail (two senders).
 */
static void
config_check_fleet(struct config_checkctx *x)
{
	long long	hb, stale;
	char		err[ERRSTR_MAX];

	/* the bounds are the table's; a bad value was reported and counts as the default */
	(void)config_get_duration(x->c, "fleet", "heartbeat_interval", FLEET_HEARTBEAT_DEFAULT,
	    5, 3600, &hb, err, sizeof(err));
	(void)config_get_duration(x->c, "fleet", "stale_after", FLEET_STALE_DEFAULT, 10,
	    7 * 86400, &stale, err, sizeof(err));
	if (stale < 2 * hb)
		config_check_err(x, "fleet", "stale_after", NULL, "%llds is under two "
		    "heartbeat_interval (%llds): a live node would look stale", stale, hb);
}

/*
 * config_check_orphan - reconcile moves aside an object without a row once it is older
 * than orphan_age; a commit in progress holds one for up to commit_deadline, so a
 * shorter orphan_age would move the object of a message about to be acknowledged.
 */
static void
config_check_orphan(struct config_checkctx *x)
{
	long long	age, deadline;
	char		err[ERRSTR_MAX];

	/* the bounds are the table's; a bad value was reported and counts as the default */
	(void)config_get_duration(x->c, "storage", "orphan_age", ORPHAN_AGE_DEFAULT, 1,
	    ORPHAN_AGE_MAX, &age, err, sizeof(err));
	(void)config_get_duration(x->c, "storage", "commit_deadline",
	    STORE_COMMIT_DEADLINE_DEFAULT, 1, STORE_COMMIT_DEADLINE_MAX, &deadline, err,
	    sizeof(err));
	if (age < ORPHAN_AGE_COMMITS * deadline)
		config_check_err(x, "storage", "orphan_age", NULL, "%llds is under %d x "
		    "commit_deadline (%llds): reconcile could move aside the object of a commit "
		    "in progress", age, ORPHAN_AGE_COMMITS, deadline);
}

/* config_check_cross - rules that tie several keys together (non-fatal getters) */
static void
config_check_cross(struct config_checkctx *x)
{
	const struct config	*c = x->c;
	const char		*cert = config_check_get(c, "ingest", "tls_cert");
	char			 err[ERRSTR_MAX];
	int			 b = 0;

	if (x->prog == 0)
		return;		/* syntax only: no environment, no files */
	config_check_index(x);
	config_check_fleet(x);
	config_check_orphan(x);
	if (!x->storage_bad)
		config_check_storage(x);
	if (!(x->prog & CONFIG_P_INGEST))
		goto replay;
	if (config_get_bool(c, "ingest", "require_tls", 0, &b, err, sizeof(err)) == 0 && b &&
	    (cert == NULL || *cert == '\0'))
		config_check_err(x, "ingest", "require_tls", NULL, "yes needs tls_cert");
replay:
	if ((x->prog & CONFIG_P_REPLAY) && config_check_get(c, "deliver", "auth_user") != NULL &&
	    config_check_get(c, "deliver", "auth_password") == NULL)
		config_check_err(x, "deliver", "auth_password", NULL, "not set, but auth_user is");
}

int
config_check(const struct config *c, unsigned prog, void (*fn)(const char *, void *),
    void *arg)
{
	struct config_checkctx	x = { c, prog, fn, arg, 0, 0 };
	size_t			i;

	for (i = 0; i < c->n; i++)
		config_check_kv(&x, i);
	config_check_cross(&x);
	return x.nerr;
}
