/*
 * test_dns.c - common/dns.c without a DNS server: dns_open() shares one
 * resolver per [dns] setting (one libunbound context, one cache, per process),
 * a lookup ends by the caller's deadline even when [dns] timeout is longer
 * (layered budgets), and names of /etc/hosts resolve with no upstream.  The
 * upstream is a loopback UDP socket that reads nothing.  Answers from a real
 * server are checked in tests/e2e/dns_resolver.sh.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "dns.h"
#include "testlib.h"

/* silent_ns - "127.0.0.1:PORT" of a bound UDP socket nobody reads; its fd */
static int
silent_ns(char *out, size_t outlen)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(out, outlen, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

/* conf - a config with [dns] nameserver ns and timeout */
static struct config *
conf(const char *ns, const char *timeout)
{
	char		 text[256], err[256];
	struct config	*cfg;

	snprintf(text, sizeof(text), "[dns]\nnameserver = %s\ntimeout = %s\n", ns, timeout);
	cfg = config_from_string("test.conf", text, err, sizeof(err));
	assert_non_null(cfg);
	return cfg;
}

/* the same [dns] settings give the same resolver, until its last user closes it */
static void
test_shared(void **state)
{
	struct config	*a1 = conf("127.0.0.1:9", "5s"), *a2 = conf("127.0.0.1:9", "5s");
	struct config	*b = conf("127.0.0.1:10", "5s"), *c = conf("127.0.0.1:9", "6s");
	struct dns	*d1, *d2, *d3, *d4, *d5;
	char		 err[256];

	d1 = dns_open(a1, err, sizeof(err));
	d2 = dns_open(a2, err, sizeof(err));
	d3 = dns_open(b, err, sizeof(err));
	d4 = dns_open(c, err, sizeof(err));
	assert_non_null(d1);
	assert_ptr_equal(d1, d2);	/* one context, one cache */
	assert_ptr_not_equal(d1, d3);	/* another upstream */
	assert_ptr_not_equal(d1, d4);	/* another timeout */
	dns_close(d1);
	d5 = dns_open(a1, err, sizeof(err));
	assert_ptr_equal(d5, d2);	/* still open for its other user */
	dns_close(d5);
	dns_close(d2);
	dns_close(d3);
	dns_close(d4);
	config_free(a1);
	config_free(a2);
	config_free(b);
	config_free(c);
	(void)state;
}

/* [dns] timeout 60 s, the caller's deadline 300 ms away: the lookup ends at the caller's */
static void
test_caller_deadline(void **state)
{
	struct dns_answer	 ans;
	struct dns		*d;
	char			 ns[64], err[256];
	int			 fd = silent_ns(ns, sizeof(ns));

	d = dns_new(ns, 60000, err, sizeof(err));
	assert_non_null(d);
	alarm(20);	/* on a resolver that ignored the deadline, this ends the test */
	assert_int_equal(dns_lookup(d, "a.silent.example", DNS_T_A, mono_ms() + 300, &ans),
	    DNS_TEMPFAIL);
	assert_string_equal(ans.why, "timeout");
	/* a deadline already passed: no wait at all */
	assert_int_equal(dns_lookup(d, "b.silent.example", DNS_T_A, mono_ms() - 1, &ans),
	    DNS_TEMPFAIL);
	alarm(0);
	dns_close(d);
	close(fd);
	(void)state;
}

/* hosts_name - a name of /etc/hosts with an IPv4 address other than "localhost" */
static int
hosts_name(char *name, size_t namelen, struct in_addr *a)
{
	FILE	*f = fopen("/etc/hosts", "r");
	char	 line[512], ip[64], nm[256];
	int	 found = 0;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		if (line[0] != '#' && sscanf(line, "%63s %255s", ip, nm) == 2 &&
		    strcmp(nm, "localhost") != 0 && inet_pton(AF_INET, ip, a) == 1 &&
		    dns_name_check(nm) == 0) {
			snprintf(name, namelen, "%s", nm);
			found = 1;
		}
	if (f != NULL)
		fclose(f);
	return found;
}

/* names of /etc/hosts resolve as they did with getaddrinfo, with no upstream answering */
static void
test_hosts(void **state)
{
	struct dns_answer	 ans;
	struct in_addr		 want;
	struct dns		*d;
	char			 ns[64], err[256], name[256];
	int			 fd = silent_ns(ns, sizeof(ns));

	d = dns_new(ns, 2000, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(dns_lookup(d, "localhost", DNS_T_A, 0, &ans), DNS_OK);
	assert_int_equal(ans.rr[0].a.s_addr, htonl(INADDR_LOOPBACK));
	dns_answer_free(&ans);
	if (hosts_name(name, sizeof(name), &want)) {
		assert_int_equal(dns_lookup(d, name, DNS_T_A, 0, &ans), DNS_OK);
		assert_int_equal(ans.rr[0].a.s_addr, want.s_addr);
		dns_answer_free(&ans);
	} else
		print_message("no other IPv4 name in /etc/hosts: localhost only\n");
	dns_close(d);
	close(fd);
	(void)state;
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_shared),
	cmocka_unit_test(test_caller_deadline),
	cmocka_unit_test(test_hosts),
)
