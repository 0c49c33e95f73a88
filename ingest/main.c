/*
 * main.c - mxspool-ingest entry point (placeholder until the ingest lands).
 */
#include <stdio.h>

#include "log.h"

int
main(int argc, char *argv[])
{
	log_init("mxspool-ingest");
	fprintf(stderr, "usage: mxspool-ingest [-c config]\n");
	return 64;
}
