/*
 * ingest_conf.c - the [ingest] configuration and the reloadable snapshot.
 *
 * ingest_conf_read() is the one path of `-t`, start-up and SIGHUP reload:
 * load the file, check it completely (config_check(): every error reported,
 * each naming file, section and key), then build the snapshot; a file with
 * any error is never used.  ingest_conf_load() reads every [ingest] key with
 * the bounded config getters (already checked, so they do not fail).
 * ingest_rt_build() makes a snapshot {conf, verify tables, TLS context,
 * DNSBL screening with its cache};
 * ingest_rt_install() publishes it; sessions take a reference with
 * ingest_rt_get() and drop it with ingest_rt_put(); the last put frees it.
 * So SIGHUP swaps the snapshot without touching a running session.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "dnsbl.h"
#include "ingest.h"
#include "limits.h"
#include "log.h"
#include "rcpt_verify.h"

static pthread_mutex_t	 rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ingest_rt	*rt_current;

/* ingest_conf_str - copy a string key; fatalx when it does not fit */
static void
ingest_conf_str(const struct config *c, const char *key, const char *def, char *out, size_t len)
{
	const char *v = config_str(c, "ingest", key, def);

	if (strlen(v) >= len)
		fatalx("%s: [ingest] %s: value too long", config_path(c), key);
	memcpy(out, v, strlen(v) + 1);
}

/* ingest_conf_policy - "reject" or "keep" */
static enum ingest_bare_policy
ingest_conf_policy(const struct config *c, const char *key)
{
	const char *v = config_str(c, "ingest", key, "reject");

	if (strcmp(v, "reject") == 0)
		return INGEST_BARE_REJECT;
	if (strcmp(v, "keep") == 0)
		return INGEST_BARE_KEEP;
	fatalx("%s: [ingest] %s = \"%s\": want reject or keep", config_path(c), key, v);
}

/* ingest_conf_load - all [ingest] keys; defaults as Postfix where one exists */
void
ingest_conf_load(const struct config *c, struct ingest_conf *ic)
{
	char host[256], staging[PATH_MAX];

	memset(ic, 0, sizeof(*ic));
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	ingest_conf_str(c, "hostname", host, ic->hostname, sizeof(ic->hostname));
	ingest_conf_str(c, "listen", "0.0.0.0:25", ic->listen, sizeof(ic->listen));
	ingest_conf_str(c, "health_listen", "", ic->health_listen, sizeof(ic->health_listen));
	ingest_conf_str(c, "tls_cert", "", ic->tls_cert, sizeof(ic->tls_cert));
	ingest_conf_str(c, "tls_key", ic->tls_cert, ic->tls_key, sizeof(ic->tls_key));
	config_data_path(c, "ingest", "staging_dir", "staging", staging, sizeof(staging));
	memcpy(ic->staging_dir, staging, sizeof(staging));
	ingest_conf_str(c, "user", "mxspool", ic->user, sizeof(ic->user));
	ic->require_tls = config_bool(c, "ingest", "require_tls", 0);
	if (ic->require_tls && ic->tls_cert[0] == '\0')
		fatalx("%s: [ingest] require_tls = yes needs tls_cert", config_path(c));
	ic->max_message_size = config_size(c, "ingest", "max_message_size",
	    SMTP_MSGSIZE_DEFAULT, 1024, 1LL << 40);
	ic->max_recipients = config_num(c, "ingest", "max_recipients", SMTP_RCPT_DEFAULT,
	    1, SMTP_RCPT_MAX);
	ic->rcpt_overshoot = config_num(c, "ingest", "recipient_overshoot_limit",
	    SMTP_RCPT_OVERSHOOT_DEFAULT, 0, SMTP_RCPT_OVERSHOOT_MAX);
	ic->max_line_length = config_num(c, "ingest", "max_line_length", SMTP_CMDLINE_DEFAULT,
	    512, SMTP_CMDLINE_MAX);
	ic->max_data_line = config_num(c, "ingest", "max_data_line", SMTP_DATALINE_DEFAULT,
	    1000, SMTP_DATALINE_MAX);
	ic->cmd_timeout = config_duration(c, "ingest", "timeout", 300, 1, 3600);
	ic->cmd_deadline = config_duration(c, "ingest", "command_deadline",
	    SMTP_CMD_DEADLINE_DEFAULT, 1, 3600);
	ic->data_timeout = config_duration(c, "ingest", "data_timeout", ic->cmd_timeout, 1, 3600);
	ic->min_data_rate = config_num(c, "ingest", "min_data_rate", 500, 0, 1 << 30);
	ic->greet_delay = config_duration(c, "ingest", "greet_delay", 1, 0, 60);
	ic->max_sessions = config_num(c, "ingest", "max_sessions", 2000, 1, 100000);
	ic->conn_limit = config_num(c, "ingest", "client_connection_count_limit", 50, 0, 100000);
	/* as Postfix 3.8: one IPv6 host can own a whole /64 or more, so per-address limits mean nothing */
	ic->v4_prefix = config_num(c, "ingest", "client_ipv4_prefix_length", 32, 0, 32);
	ic->v6_prefix = config_num(c, "ingest", "client_ipv6_prefix_length", 84, 0, 128);
	ic->conn_rate = config_num(c, "ingest", "client_connection_rate_limit", 0, 0, 1 << 30);
	ic->msg_rate = config_num(c, "ingest", "client_message_rate_limit", 0, 0, 1 << 30);
	ic->rcpt_rate = config_num(c, "ingest", "client_recipient_rate_limit", 0, 0, 1 << 30);
	ic->soft_error_limit = config_num(c, "ingest", "soft_error_limit", 10, 1, 1000);
	ic->hard_error_limit = config_num(c, "ingest", "hard_error_limit", 20, 1, 1000);
	ic->junk_limit = config_num(c, "ingest", "junk_command_limit", SMTP_JUNK_DEFAULT, 1,
	    SMTP_JUNK_MAX);
	ic->error_sleep = config_duration(c, "ingest", "error_sleep_time", 1, 0, 60);
	ic->error_sleep_max = config_duration(c, "ingest", "error_sleep_max", 10, 0, 600);
	ic->min_free_space = config_size(c, "ingest", "min_free_space", 100LL << 20, 0, 1LL << 50);
	ic->bare_newline = ingest_conf_policy(c, "bare_newline");
	ic->nul_policy = ingest_conf_policy(c, "nul_in_data");
	ic->commit_workers = config_num(c, "ingest", "commit_workers", 4, 1, 64);
	ic->shutdown_grace = config_duration(c, "ingest", "shutdown_grace", 30, 0, 3600);
	ic->flush_interval = config_duration(c, "ingest", "spool_flush_interval", 10, 1, 3600);
	ic->counters_interval = config_duration(c, "ingest", "counters_interval", 5, 1, 3600);
	ic->stack_size = config_size(c, "ingest", "thread_stack_size", 256 * 1024,
	    128 * 1024, 64 << 20);
#if defined(__SANITIZE_ADDRESS__)
	/* ASan red zones need more stack than the plain build */
	if (ic->stack_size < 1024 * 1024)
		ic->stack_size = 1024 * 1024;
#endif
}

/* ingest_tls_ctx - server context from tls_cert/tls_key, TLS 1.2 at least */
static SSL_CTX *
ingest_tls_ctx(const struct ingest_conf *ic, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, ic->tls_cert) != 1) {
		snprintf(err, errlen, "[ingest] tls_cert %s: cannot load certificate",
		    ic->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, ic->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "[ingest] tls_key %s: cannot load key or it does not match",
		    ic->tls_key);
		goto fail;
	}
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* ingest_rt_build - a new snapshot; NULL with err naming the failing part */
struct ingest_rt *
ingest_rt_build(const struct config *c, char *err, size_t errlen)
{
	struct ingest_rt *rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL ||
	    (rt->conf = calloc(1, sizeof(*rt->conf))) == NULL) {
		free(rt);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rt->refs = 1;
	ingest_conf_load(c, rt->conf);
	if ((rt->verify = verify_load(c, err, errlen)) == NULL)
		goto fail;
	if (rt->conf->tls_cert[0] != '\0' &&
	    (rt->tls = ingest_tls_ctx(rt->conf, err, errlen)) == NULL)
		goto fail;
	if (dnsbl_open(c, &rt->dnsbl, err, errlen) != 0)
		goto fail;
	return rt;
fail:
	if (rt->tls != NULL)
		SSL_CTX_free(rt->tls);
	if (rt->verify != NULL)
		verify_free(rt->verify);
	free(rt->conf);
	free(rt);
	return NULL;
}

/*
 * ingest_conf_read - load and check path, then build its snapshot.  Every
 * error goes to fn as one line; NULL when there was any (nothing is kept).
 * On success *cfgp is the loaded configuration (the caller frees it).
 */
struct ingest_rt *
ingest_conf_read(const char *path, struct config **cfgp, void (*fn)(const char *, void *),
    void *arg)
{
	struct config		*c;
	struct ingest_rt	*rt;
	char			 err[1024], line[1200];

	*cfgp = NULL;
	if ((c = config_load(path, err, sizeof(err))) == NULL) {
		fn(err, arg);
		return NULL;
	}
	if (config_check(c, CONFIG_P_INGEST, fn, arg) > 0) {
		config_free(c);
		return NULL;
	}
	if ((rt = ingest_rt_build(c, err, sizeof(err))) == NULL) {
		/* recipient lists and TLS contents: verify_load names the file itself */
		if (strncmp(err, path, strlen(path)) == 0 || err[0] == '/')
			fn(err, arg);
		else {
			snprintf(line, sizeof(line), "%s: %s", path, err);
			fn(line, arg);
		}
		config_free(c);
		return NULL;
	}
	*cfgp = c;
	return rt;
}

/* ingest_rt_free - last reference gone */
static void
ingest_rt_free(struct ingest_rt *rt)
{
	verify_free(rt->verify);
	if (rt->tls != NULL)
		SSL_CTX_free(rt->tls);
	dnsbl_close(rt->dnsbl);
	free(rt->conf);
	free(rt);
}

/* ingest_rt_install - publish rt (its creation reference moves to the global); NULL: none */
void
ingest_rt_install(struct ingest_rt *rt)
{
	struct ingest_rt *old;

	pthread_mutex_lock(&rt_lock);
	old = rt_current;
	rt_current = rt;
	pthread_mutex_unlock(&rt_lock);
	if (old != NULL)
		ingest_rt_put(old);
}

/* ingest_rt_get - a reference on the current snapshot */
struct ingest_rt *
ingest_rt_get(void)
{
	struct ingest_rt *rt;

	pthread_mutex_lock(&rt_lock);
	rt = rt_current;
	rt->refs++;
	pthread_mutex_unlock(&rt_lock);
	return rt;
}

/* ingest_rt_put - drop a reference */
void
ingest_rt_put(struct ingest_rt *rt)
{
	int last;

	pthread_mutex_lock(&rt_lock);
	last = (--rt->refs == 0);
	pthread_mutex_unlock(&rt_lock);
	if (last)
		ingest_rt_free(rt);
}

/* ingest_rt_clear - drop the global reference at exit (sessions are gone) */
void
ingest_rt_clear(void)
{
	ingest_rt_install(NULL);
}
