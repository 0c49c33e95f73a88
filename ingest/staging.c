/*
 * staging.c - a pool of anonymous staging files, reused across messages.
 *
 * Why: a new anonymous file per message is a new inode per message (see
 * common/anonfile.c for what that costs on ext4).  A staging file is instead
 * emptied and put back here when its message is committed (commit_submit()
 * returns only when the store is done with the descriptor), so steady-state
 * ingest allocates no inode for staging at all.
 *
 * Entry points: staging_get(), staging_put(), staging_drain().
 * Thread-safe; at most STAGING_IDLE_MAX files stay open while idle.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "anonfile.h"
#include "ingest.h"
#include "limits.h"

static pthread_mutex_t	staging_lock = PTHREAD_MUTEX_INITIALIZER;
static int		staging_fd[STAGING_IDLE_MAX];
static int		staging_n;
static char		staging_path[PATH_MAX];	/* directory of the pooled files */

/* staging_get - an empty staging file in dir, positioned at 0; -1 with errno */
int
staging_get(const char *dir)
{
	int fd = -1;

	pthread_mutex_lock(&staging_lock);
	if (staging_n > 0 && strcmp(staging_path, dir) == 0)
		fd = staging_fd[--staging_n];
	pthread_mutex_unlock(&staging_lock);
	return fd >= 0 ? fd : anonfile_open(dir);
}

/* staging_put - give fd (from staging_get(dir)) back, emptied; closed if it cannot be reused */
void
staging_put(int fd, const char *dir)
{
	if (fd < 0)
		return;
	if (anonfile_empty(fd) == -1) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&staging_lock);
	if (strcmp(staging_path, dir) != 0) {
		/* staging_dir changed (SIGHUP): the old directory's files go */
		while (staging_n > 0)
			close(staging_fd[--staging_n]);
		snprintf(staging_path, sizeof(staging_path), "%s", dir);
	}
	if (staging_n < STAGING_IDLE_MAX) {
		staging_fd[staging_n++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&staging_lock);
	if (fd >= 0)
		close(fd);
}

/* staging_drain - close the idle files (shutdown) */
void
staging_drain(void)
{
	pthread_mutex_lock(&staging_lock);
	while (staging_n > 0)
		close(staging_fd[--staging_n]);
	pthread_mutex_unlock(&staging_lock);
}
