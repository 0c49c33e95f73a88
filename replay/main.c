/*
 * main.c - mxspool-replay entry point (placeholder until the replay lands).
 */
#include <stdio.h>

#include "log.h"

int
main(int argc, char *argv[])
{
	log_init("mxspool-replay");
	fprintf(stderr, "usage: mxspool-replay [-c config]\n");
	return 64;
}
