/*
 * config.h - the one INI configuration file that ingest and replay share.
 *
 * Parsed with inih into a list of (section, key, value), then checked once
 * and completely by config_check() against the table of every known key
 * (common/config_schema.c): types, bounds, unknown keys, and the cross-key
 * checks the programs would otherwise only meet at start-up.  `-t`, start-up
 * and reload all go through it, and a file it refuses is never used.  Each
 * module then reads its own keys with the typed getters below; after a
 * passed check they cannot fail (a getter whose key or bounds differ from the
 * table is a programming error: fatalx()).  Section names may carry an
 * argument: "[domain example.test]" is section "domain example.test".  Values
 * "env:NAME" are read from the environment (for secrets kept out of the file).
 *
 * Units: durations accept s/m/h/d suffixes (default seconds); sizes accept
 * k/m/g (powers of 1024).
 */
#ifndef MXS_CONFIG_H
#define MXS_CONFIG_H
#include <stddef.h>

struct config;

/* config_load - parse path; NULL with a reason in err on failure */
struct config	*config_load(const char *path, char *err, size_t errlen);
/* config_from_string - parse text (tests); name is used in messages */
struct config	*config_from_string(const char *name, const char *text, char *err, size_t errlen);
void		 config_free(struct config *);
const char	*config_path(const struct config *);

/* config_path_default - -c argument, else $MXSPOOL_CONFIG, else /etc/mxspool/mxspool.conf */
const char	*config_path_default(const char *arg);

/* getters: def is returned when the key is absent */
const char	*config_str(const struct config *, const char *sec, const char *key, const char *def);
long long	 config_num(const struct config *, const char *sec, const char *key,
		    long long def, long long min, long long max);
int		 config_bool(const struct config *, const char *sec, const char *key, int def);
/* config_duration - seconds; "90", "90s", "5m", "2h", "7d" */
long long	 config_duration(const struct config *, const char *sec, const char *key,
		    long long def, long long min, long long max);
/* config_size - bytes; "512", "64k", "50M", "2g" */
long long	 config_size(const struct config *, const char *sec, const char *key,
		    long long def, long long min, long long max);

/*
 * config_get_* - the getters above without the exit, for a caller that must
 * go on after a bad value (the recipient tables the ingest builds at reload,
 * `check`): 0 with the value in *out (def when the key is absent), -1 with
 * one line in err, "FILE: [sec] key = \"value\": why" (the line config_check()
 * gives for it).  The getters above are these and fatalx(); a value's parser
 * is the one config_check() uses (config_value()).
 */
int		 config_get_str(const struct config *, const char *sec, const char *key,
		    const char *def, const char **out, char *err, size_t errlen);
int		 config_get_bool(const struct config *, const char *sec, const char *key,
		    int def, int *out, char *err, size_t errlen);
int		 config_get_num(const struct config *, const char *sec, const char *key,
		    long long def, long long min, long long max, long long *out, char *err,
		    size_t errlen);
int		 config_get_duration(const struct config *, const char *sec, const char *key,
		    long long def, long long min, long long max, long long *out, char *err,
		    size_t errlen);

/* config_foreach - call fn for each key of section sec, in file order */
void		 config_foreach(const struct config *, const char *sec,
		    void (*fn)(const char *key, const char *value, void *arg), void *arg);
/* config_sections - call fn for each distinct section name starting with prefix */
void		 config_sections(const struct config *, const char *prefix,
		    void (*fn)(const char *sec, void *arg), void *arg);
/* config_sections_count - how many distinct section names start with prefix */
size_t		 config_sections_count(const struct config *, const char *prefix);

/*
 * [general] keys every program shares:
 *   node      this gateway's node id, [a-z0-9-] (default "mx1")
 *   data_dir  default /var/lib/mxspool
 *   index     SQLite file (default <data_dir>/index.sqlite)
 * config_node() fatalx()s on a bad node id.
 */
const char	*config_node(const struct config *);
const char	*config_data_dir(const struct config *);
/* config_data_path - value of sec/key, else <data_dir>/<rel>, into out */
void		 config_data_path(const struct config *, const char *sec, const char *key,
		    const char *rel, char *out, size_t outlen);
/* config_index_path - [general] index */
void		 config_index_path(const struct config *, char *out, size_t outlen);

/* who reads a key: the checker resolves env:NAME and looks at files only for those */
#define CONFIG_P_INGEST	0x1
#define CONFIG_P_REPLAY	0x2
#define CONFIG_P_ALL	(CONFIG_P_INGEST | CONFIG_P_REPLAY)

/*
 * config_check - check every section and key of c for the program(s) in prog
 * (CONFIG_P_*; 0 checks the syntax of every value and reads no environment
 * variable and no file).  Each error is passed to fn as one line
 * "FILE: [section] key = \"value\": why" (secrets are not shown), in file order
 * then cross-key checks; nothing is created, opened for writing or logged.
 * Returns the number of errors (0: the file may be used).
 */
int		 config_check(const struct config *, unsigned prog,
		    void (*fn)(const char *line, void *arg), void *arg);

/* parse helpers shared with CLI flags and the daemons (config_parse.c); 0 ok, -1 bad */
int		 config_parse_duration(const char *, long long *);
int		 config_parse_size(const char *, long long *);
int		 config_parse_num(const char *, long long min, long long max, long long *);
/* config_parse_bool - yes/true/on/1, no/false/off/0 */
int		 config_parse_bool(const char *, int *);
/* config_parse_rate - messages/s: "10", "0.5", "600/m", "3600/h" (0 = unlimited) */
int		 config_parse_rate(const char *, double *);
#define CONFIG_LISTEN_ANY	0x1	/* ":25" means every address */
#define CONFIG_LISTEN_NAME	0x2	/* a host name is accepted as well as an IP address */
/* config_parse_listen - "addr:port" / "[v6]:port", port 1..65535; -1 + err */
int		 config_parse_listen(const char *spec, int flags, char *host, size_t hostlen,
		    int *port, char *err, size_t errlen);

#endif
