/*
 * config_impl.h - what config.c, config_schema.c and config_check.c share:
 * the parsed file and the table of known keys.  Not for other modules.
 */
#ifndef MXS_CONFIG_IMPL_H
#define MXS_CONFIG_IMPL_H
#include <stddef.h>

struct config_kv {
	char	*sec;
	char	*key;
	char	*val;
};

struct config {
	char			*path;
	struct config_kv	*kv;
	size_t			 n, cap;
	int			 oom;
};

enum config_type {
	CONFIG_T_STR,		/* any text; check() may say more */
	CONFIG_T_BOOL,		/* yes/no true/false on/off 1/0 */
	CONFIG_T_NUM,		/* integer in [min, max] */
	CONFIG_T_DURATION,	/* seconds in [min, max], suffix s m h d */
	CONFIG_T_SIZE,		/* bytes in [min, max], suffix k M G */
	CONFIG_T_ENUM,		/* one word of values ("a|b|c") */
};

#define CONFIG_K_SECRET	0x1	/* never show the value */
#define CONFIG_K_FILE	0x2	/* a file the program reads: must be readable */

/*
 * config_key - one known key.  sec "domain *" stands for every [domain NAME].
 * check() is the value's own parser (0 ok, -1 with a reason in why); prog says
 * which programs read the key (env:NAME and files are only resolved for them).
 */
struct config_key {
	const char		*sec;
	const char		*key;
	enum config_type	 type;
	long long		 min, max;	/* STR: max is a length (0: any) */
	const char		*values;
	int			(*check)(const char *val, char *why, size_t whylen);
	unsigned		 prog;
	unsigned		 flags;
};

extern const struct config_key	config_keys[];

/*
 * config_value - v as a BOOL (0 or 1), NUM, DURATION or SIZE value in [min, max];
 * 0 with *out, -1 with why ("want ...").  The one parser of typed values:
 * config_check() and the getters both use it (config.c).
 */
int			 config_value(enum config_type, const char *v, long long min,
			    long long max, long long *out, char *why, size_t whylen);

/* config_schema_find - the table entry of sec/key, NULL if unknown */
const struct config_key	*config_schema_find(const char *sec, const char *key);
/* config_schema_section - 1 if sec is a section the table knows */
int			 config_schema_section(const char *sec);
/* config_schema_suggest - the known key of sec closest to key (typos), or NULL */
const char		*config_schema_suggest(const char *sec, const char *key);
/* config_schema_suggest_section - the known section closest to sec, or NULL */
const char		*config_schema_suggest_section(const char *sec);

#endif
