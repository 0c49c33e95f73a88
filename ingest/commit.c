/*
 * commit.c - a small pool of commit workers between the sessions and the store.
 *
 * Each worker owns a struct store (object store connection + index handle:
 * one thread per handle, as store.h requires).  A session hands over a job
 * with commit_submit() and sleeps on the job's condition until a worker has
 * run store_commit(); so storage latency never runs on a session's own
 * handles and the number of concurrent S3 uploads / index writers is
 * bounded by [ingest] commit_workers.  [storage] commit_deadline counts from
 * the submit, so a message queued behind workers that wait on a hung store
 * still gets its reply in time (the spool, at worst).  commit_stop() lets the workers finish
 * the queue and closes their stores.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "objstore.h"

struct commit_job {
	struct commit_job	*next;
	const struct envelope	*env;
	int			 fd;
	off_t			 size;
	int64_t			 t0;	/* mono_ms() at submit: the commit deadline's start */
	enum store_status	 status;
	char			*reason;
	size_t			 reasonlen;
	int			 done;
	pthread_cond_t		 cv;	/* its own: one shared one woke every waiting session */
};

struct commit_worker {
	pthread_t	 thread;
	struct store	*store;
};

static pthread_mutex_t		 commit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 commit_work = PTHREAD_COND_INITIALIZER;
static struct commit_job	*commit_head, **commit_tail = &commit_head;
static struct commit_worker	*commit_workers;
static int			 commit_nworkers, commit_stopping;

/* commit_main - take jobs until stopped and the queue is empty */
static void *
commit_main(void *arg)
{
	struct commit_worker	*w = arg;
	struct commit_job	*j;
	enum store_status	 st;

	for (;;) {
		pthread_mutex_lock(&commit_lock);
		while (commit_head == NULL && !commit_stopping)
			pthread_cond_wait(&commit_work, &commit_lock);
		if ((j = commit_head) == NULL) {
			pthread_mutex_unlock(&commit_lock);
			return NULL;
		}
		if ((commit_head = j->next) == NULL)
			commit_tail = &commit_head;
		pthread_mutex_unlock(&commit_lock);

		st = store_commit_since(w->store, j->env, j->fd, j->size, j->t0, j->reason,
		    j->reasonlen);

		pthread_mutex_lock(&commit_lock);
		j->status = st;
		j->done = 1;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&commit_lock);
	}
}

/* commit_start - open one store per worker and start them; -1 with err */
int
commit_start(const struct config *c, int n, char *err, size_t errlen)
{
	int i;

	if ((commit_workers = calloc(n, sizeof(*commit_workers))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((commit_workers[i].store = store_open(c, err, errlen)) == NULL)
			return -1;
		if (pthread_create(&commit_workers[i].thread, NULL, commit_main,
		    &commit_workers[i]) != 0) {
			snprintf(err, errlen, "cannot start commit worker");
			store_close(commit_workers[i].store);
			return -1;
		}
		commit_nworkers++;
	}
	return 0;
}

/* commit_submit - run store_commit on a worker and wait for its answer */
enum store_status
commit_submit(const struct envelope *env, int fd, off_t size, char *reason, size_t reasonlen)
{
	struct commit_job j;

	memset(&j, 0, sizeof(j));
	j.env = env;
	j.fd = fd;
	j.size = size;
	j.t0 = mono_ms();
	j.reason = reason;
	j.reasonlen = reasonlen;
	pthread_cond_init(&j.cv, NULL);
	pthread_mutex_lock(&commit_lock);
	if (commit_stopping || commit_nworkers == 0) {
		pthread_mutex_unlock(&commit_lock);
		pthread_cond_destroy(&j.cv);
		snprintf(reason, reasonlen, "commit workers stopped");
		return STORE_TEMPFAIL;
	}
	*commit_tail = &j;
	commit_tail = &j.next;
	pthread_cond_signal(&commit_work);
	while (!j.done)
		pthread_cond_wait(&j.cv, &commit_lock);
	pthread_mutex_unlock(&commit_lock);
	pthread_cond_destroy(&j.cv);
	return j.status;
}

/* commit_stop - finish queued jobs, stop the workers, close their stores */
void
commit_stop(void)
{
	int i;

	pthread_mutex_lock(&commit_lock);
	commit_stopping = 1;
	pthread_cond_broadcast(&commit_work);
	pthread_mutex_unlock(&commit_lock);
	for (i = 0; i < commit_nworkers; i++) {
		pthread_join(commit_workers[i].thread, NULL);
		store_close(commit_workers[i].store);
	}
	commit_nworkers = 0;
	free(commit_workers);
	commit_workers = NULL;
}
