/*
 * cli_queue.c - read-only commands: status, list (postqueue -p), show,
 * export, qshape.  Text for people by default, --json (jansson) for scripts.
 *
 * list marks the state after the id like postqueue: '*' active, '!' hold,
 * '#' quarantine; each recipient line shows its state and last reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_fmt.h"
#include "config.h"
#include "envelope.h"
#include "index_stats.h"
#include "msgid.h"
#include "store.h"

#define CLI_HEADERS_MAX	(64 * 1024)	/* show: bytes of header printed at most */

/* cli_dump_json - print a JSON value and free it */
static void
cli_dump_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

/* cli_rcpt_json - index_replay_rcpts callback: append a recipient object */
static int
cli_rcpt_json(const struct index_rcpt_row *r, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "rcpt", r->rcpt,
	    "state", rcpt_state_name(r->state), "params", r->params, "last_code", r->last_code,
	    "last_text", r->last_text, "updated_ms", (json_int_t)r->updated_ms));
	return 0;
}

/* cli_msg_json - a message row as JSON (recipients loaded with ix) */
static json_t *
cli_msg_json(struct index *ix, const struct index_msg_row *m)
{
	json_t	*o, *rc = json_array();
	char	 t[32];

	cli_time(m->received_ms, t, sizeof(t));
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:i, s:I, s:I, s:s}", "id", m->id,
	    "state", queue_state_name(m->state), "sender", m->mail_from, "received_ms",
	    (json_int_t)m->received_ms, "received", t, "size", (json_int_t)m->size, "attempts",
	    m->attempts, "next_attempt_ms", (json_int_t)m->next_attempt_ms, "last_attempt_ms",
	    (json_int_t)m->last_attempt_ms, "note", m->note);
	json_object_set_new(o, "purged_ms", json_integer(m->purged_ms));
	index_replay_rcpts(ix, m->id, cli_rcpt_json, rc);
	json_object_set_new(o, "recipients", rc);
	return o;
}

struct cli_list {
	struct cli	*c;
	json_t		*arr;
	int64_t		 n, bytes, now;
	int		 idw;		/* id column width: the longest id listed */
};

/* text columns after the id and its mark: size, arrival, age, state (then the sender) */
#define LIST_COLS	"%8s  %-19s %7s  %-10s "
#define LIST_COLS_W	(8 + 2 + 19 + 1 + 7 + 2 + 10 + 1)

/* cli_rcpt_line - one recipient line under a message, in the sender column */
static int
cli_rcpt_line(const struct index_rcpt_row *r, void *arg)
{
	struct cli_list	*l = arg;
	int		 ind = l->idw + 2 + LIST_COLS_W;

	if (r->last_code && r->state != RCPT_DELIVERED)
		printf("%*s(%d %s)\n", ind, "", r->last_code, r->last_text);
	else if (r->last_code == 0 && r->last_text[0] && r->state == RCPT_PENDING)
		printf("%*s(%s)\n", ind, "", r->last_text);
	printf("%*s%s%s%s\n", ind, "", r->rcpt, r->state != RCPT_PENDING ? " " : "",
	    r->state != RCPT_PENDING ? rcpt_state_name(r->state) : "");
	return 0;
}

/* cli_list_row - index_replay_list callback */
static int
cli_list_row(const struct index_msg_row *m, void *arg)
{
	struct cli_list	*l = arg;
	char		 t[32], size[CLI_FMT_MAX], age[CLI_FMT_MAX], mark = ' ';

	l->n++;
	l->bytes += m->size;
	if (l->arr) {
		json_array_append_new(l->arr, cli_msg_json(l->c->ix, m));
		return 0;
	}
	if (m->state == QUEUE_ACTIVE)
		mark = '*';
	else if (m->state == QUEUE_HOLD)
		mark = '!';
	else if (m->state == QUEUE_QUARANTINE)
		mark = '#';
	cli_time(m->received_ms, t, sizeof(t));
	printf("%-*s%c " LIST_COLS "%s\n", l->idw, m->id, mark,
	    cli_fmt_size(m->size, size, sizeof(size)), t,
	    cli_fmt_age(l->now - m->received_ms, age, sizeof(age)), queue_state_name(m->state),
	    m->mail_from[0] ? m->mail_from : "<>");
	if (m->note[0])
		printf("%*s(%s)\n", l->idw + 2 + LIST_COLS_W, "", m->note);
	index_replay_rcpts(l->c->ix, m->id, cli_rcpt_line, l);
	printf("\n");
	return 0;
}

int
cli_list(struct cli *c)
{
	struct cli_list		l = { c, NULL, 0, 0, now_ms(), 0 };
	enum index_status	st;
	char			size[CLI_FMT_MAX];
	int			rc;

	if ((rc = cli_index(c)) != 0)
		return rc;
	if (c->json)
		l.arr = json_array();
	else {
		/* one width for every id: ids from nodes with longer names line up too */
		if ((st = index_replay_id_width(c->ix, &c->f, &l.idw)) != INDEX_OK)
			return cli_index_exit(c, st, "list");
		if (l.idw < 10)
			l.idw = 10;
		printf("%-*s " LIST_COLS "%s\n", l.idw + 1, "-Queue ID-", "--Size--",
		    "--Arrival (UTC)----", "--Age--", "-State-", "-Sender/Recipient-------");
	}
	st = index_replay_list(c->ix, &c->f, cli_list_row, &l);
	if (st != INDEX_OK) {
		json_decref(l.arr);
		return cli_index_exit(c, st, "list");
	}
	if (l.arr)
		cli_dump_json(l.arr);
	else if (l.n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %s in %lld Request%s.\n", cli_fmt_size(l.bytes, size, sizeof(size)),
		    (long long)l.n, l.n == 1 ? "" : "s");
	return CLI_OK;
}

/* cli_fetch - message bytes into an unlinked temp file; fd or -1 with exit code in *rc */
static int
cli_fetch(struct cli *c, const char *id, int *rc)
{
	enum store_status	ss;
	char			path[] = "/tmp/mxspool-cli.XXXXXX", why[ERRSTR_MAX];
	int			fd;

	if ((*rc = cli_store(c, 0)) != 0)
		return -1;
	if ((fd = mkstemp(path)) == -1) {
		*rc = cli_err(c, CLI_TEMPFAIL, "temporary file: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	if ((ss = store_fetch(c->store, id, fd, why, sizeof(why))) != STORE_OK) {
		close(fd);
		*rc = ss == STORE_NOTFOUND ? cli_err(c, CLI_NOINPUT, "%s: object not in the store"
		    " (see reindex): %s", id, why) : cli_err(c, CLI_UNAVAILABLE, "%s: storage"
		    " unreachable: %s", id, why);
		return -1;
	}
	*rc = 0;
	return fd;
}

/* cli_copy - fd from offset 0 to out, at most max bytes (0: all) or up to the header end */
static int
cli_copy(int fd, FILE *out, size_t max, int headers_only)
{
	char	buf[8192];
	ssize_t	n;
	off_t	off = 0;
	size_t	total = 0;
	int	nl = 0;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		off += n;
		for (ssize_t i = 0; headers_only && i < n; i++) {
			if (buf[i] == '\n' && nl) {
				n = i + 1;
				fwrite(buf, 1, (size_t)n, out);
				return 0;
			}
			if (buf[i] == '\n')
				nl = 1;
			else if (buf[i] != '\r')
				nl = 0;
		}
		if (max && total + (size_t)n > max)
			n = (ssize_t)(max - total);
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
			return -1;
		total += (size_t)n;
		if (max && total >= max)
			return 0;
	}
	return n < 0 ? -1 : 0;
}

/*
 * cli_purged_why - why a message has no stored bytes any more: its object was
 * deleted on purpose (retention after delivery, or the operator's delete),
 * which reindex cannot and should not bring back
 */
static void
cli_purged_why(const struct index_msg_row *m, char *out, size_t outlen)
{
	char st[32], pt[32], age[CLI_FMT_MAX];

	cli_time(m->state_ms, st, sizeof(st));
	cli_time(m->purged_ms, pt, sizeof(pt));
	if (m->state == QUEUE_DELETED)
		snprintf(out, outlen, "deleted by the operator %s UTC; the stored object was"
		    " deleted %s UTC", st, pt);
	else
		snprintf(out, outlen, "%s %s UTC; the stored object was purged %s UTC, %s later,"
		    " by [replay] retention", queue_state_name(m->state), st, pt,
		    cli_fmt_age(m->purged_ms - m->state_ms, age, sizeof(age)));
}

int
cli_export(struct cli *c)
{
	struct index_msg_row	m;
	char			why[256];
	int			fd, rc;

	if (c->nargs != 1 || !msgid_valid(c->args[0]))
		return cli_err(c, CLI_USAGE, "want one message id");
	if ((rc = cli_index(c)) != 0)
		return rc;
	if ((rc = cli_index_exit(c, index_replay_get(c->ix, c->args[0], &m), c->args[0])) != 0)
		return rc;
	if (m.purged_ms) {
		cli_purged_why(&m, why, sizeof(why));
		return cli_err(c, CLI_NOINPUT, "%s: nothing to export: %s", c->args[0], why);
	}
	if ((fd = cli_fetch(c, c->args[0], &rc)) == -1)
		return rc;
	rc = cli_copy(fd, stdout, 0, 0) == -1 || fflush(stdout) == EOF ?
	    cli_err(c, CLI_TEMPFAIL, "write: %s", strerror(errno)) : CLI_OK;
	close(fd);
	return rc;
}

/* cli_attempt_line - show: one attempt */
static int
cli_attempt_line(const struct index_attempt_row *a, void *arg)
{
	char t[32];

	cli_time(a->at_ms, t, sizeof(t));
	if (arg) {
		json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
		    "at_ms", (json_int_t)a->at_ms, "at", t, "rcpt", a->rcpt, "target", a->target,
		    "code", a->code, "enhanced", a->enhanced, "text", a->text, "worker",
		    a->worker));
		return 0;
	}
	printf("  %s  %-28s %-24s %3d %s %s  [%s]\n", t, a->target, a->rcpt, a->code,
	    a->enhanced[0] ? a->enhanced : "-", a->text, a->worker);
	return 0;
}

/* cli_show_rcpt - show: one recipient */
static int
cli_show_rcpt(const struct index_rcpt_row *r, void *arg)
{
	printf("  %-32s %-10s %s", r->rcpt, rcpt_state_name(r->state), r->params);
	if (r->last_code || r->last_text[0])
		printf(" last: %d %s", r->last_code, r->last_text);
	printf("\n");
	return 0;
}

int
cli_show(struct cli *c)
{
	struct index_msg_row	m;
	struct envelope		env;
	enum index_location	loc;
	enum index_status	st;
	char			key[OBJKEY_MAX], spool[SPOOL_PATH_MAX], t[32];
	char			size[CLI_FMT_MAX], age[CLI_FMT_MAX], why[256];
	json_t			*o, *a;
	int			rc, fd;

	if (c->nargs != 1 || !msgid_valid(c->args[0]))
		return cli_err(c, CLI_USAGE, "want one message id");
	if ((rc = cli_index(c)) != 0)
		return rc;
	envelope_init(&env);
	if ((st = index_get_message(c->ix, c->args[0], &env, key, sizeof(key), &loc, spool,
	    sizeof(spool))) != INDEX_OK || (st = index_replay_get(c->ix, c->args[0], &m)) !=
	    INDEX_OK) {
		envelope_free(&env);
		return cli_index_exit(c, st, c->args[0]);
	}
	if (c->json) {
		o = cli_msg_json(c->ix, &m);
		json_object_set_new(o, "envelope", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "node", env.node, "mail_params", env.mail_params ? env.mail_params : "",
		    "client_addr", env.client_addr ? env.client_addr : "", "client_name",
		    env.client_name ? env.client_name : "", "helo", env.helo ? env.helo : "",
		    "tls", env.tls ? env.tls : "", "sha256", env.sha256));
		json_object_set_new(o, "auth", json_pack("{s:s, s:s, s:s}", "spf", env.auth_spf,
		    "dkim", env.auth_dkim, "dmarc", env.auth_dmarc));
		json_object_set_new(o, "object_key", json_string(loc == INDEX_LOC_STORE ? key :
		    spool));
		a = json_array();
		index_replay_attempts(c->ix, c->args[0], cli_attempt_line, a);
		json_object_set_new(o, "attempts", a);
		cli_dump_json(o);
		envelope_free(&env);
		return CLI_OK;
	}
	cli_time(m.received_ms, t, sizeof(t));
	printf("Message %s\n  state:      %s%s%s%s\n"
	    "  received:   %s UTC (%s ago) from %s [%s] helo=%s%s%s\n",
	    m.id, queue_state_name(m.state), m.note[0] ? " (" : "", m.note, m.note[0] ? ")" : "", t,
	    cli_fmt_age(now_ms() - m.received_ms, age, sizeof(age)),
	    env.client_name ? env.client_name : "", env.client_addr ? env.client_addr : "",
	    env.helo ? env.helo : "", env.tls && env.tls[0] ? " tls=" : "", env.tls ? env.tls : "");
	if (env.auth_spf[0] != '\0')
		printf("  auth:       spf=%s dkim=%s dmarc=%s\n", env.auth_spf, env.auth_dkim,
		    env.auth_dmarc);
	else
		printf("  auth:       not verified\n");
	printf("  size:       %s (%lld bytes)  sha256=%s\n  stored at:  %s%s\n",
	    cli_fmt_size(m.size, size, sizeof(size)), (long long)m.size, env.sha256,
	    loc == INDEX_LOC_STORE ? key : spool, loc == INDEX_LOC_STORE ? "" :
	    " (fallback spool)");
	cli_time(m.next_attempt_ms, t, sizeof(t));
	printf("  sender:     <%s> %s\n  attempts:   %d, next %s UTC\n", env.mail_from,
	    env.mail_params ? env.mail_params : "", m.attempts, t);
	printf("Recipients:\n");
	index_replay_rcpts(c->ix, m.id, cli_show_rcpt, NULL);
	printf("Attempts:\n");
	index_replay_attempts(c->ix, m.id, cli_attempt_line, NULL);
	envelope_free(&env);
	printf("Headers:\n");
	if (m.purged_ms) {
		cli_purged_why(&m, why, sizeof(why));
		printf("  (none: %s)\n", why);
		return CLI_OK;
	}
	fflush(stdout);
	if ((fd = cli_fetch(c, c->args[0], &rc)) == -1)
		return rc;
	cli_copy(fd, stdout, CLI_HEADERS_MAX, 1);
	close(fd);
	return CLI_OK;
}
