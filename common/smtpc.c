/*
 * smtpc.c - socket, TLS and the bounded reply reader of the SMTP/LMTP client.
 *
 * Entry points: smtpc_connect(), smtpc_write(), smtpc_read_reply(),
 * smtpc_tls(), smtpc_idle(), smtpc_close() (smtpc.h); the dialogue steps
 * built on them are in smtpc_cmd.c.
 * Sockets are non-blocking; every wait is a poll() against a deadline (the
 * call's timeout, or c->deadline if sooner), so a stalled peer costs at most
 * the configured timeout.  A reply is bounded
 * three ways (SMTP_REPLYLINE_MAX per line, SMTP_REPLY_LINES_MAX lines,
 * SMTP_REPLY_MAX bytes) and must carry one valid code on every line
 * (RFC 5321 4.2, 4.2.1); anything else fails the connection with a reason.
 * A peer's name is resolved by the one resolver (common/dns.c: [dns]
 * nameserver, /etc/hosts), within the connect's deadline, never by libc.
 * Errors: -1 and a one-line reason in io->why (peer bytes escaped).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "dns.h"
#include "log.h"
#include "route.h"
#include "smtpc.h"

/* smtpc_fail - set the reason; returns -1 */
static int __attribute__((format(printf, 2, 3)))
smtpc_fail(struct smtpc *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(io->why, sizeof(io->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* smtpc_wait - poll for events until deadline; 0 ready, -1 timeout/error */
static int
smtpc_wait(struct smtpc *io, short events, long long deadline)
{
	struct pollfd	pfd;
	long long	left;
	int		r;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return smtpc_fail(io, "timeout");
		pfd.fd = io->fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return smtpc_fail(io, "poll: %s", strerror(errno));
	}
}

/* smtpc_until - the deadline of a call of timeout_ms: now + timeout, or io->deadline if sooner */
static long long
smtpc_until(const struct smtpc *io, int timeout_ms)
{
	long long d = mono_ms() + timeout_ms;

	return io->deadline != 0 && io->deadline < d ? io->deadline : d;
}

/* smtpc_timedout - the reason for a wait that ran out: the call's timeout, or the dialogue's */
static int
smtpc_timedout(struct smtpc *io, long long deadline, int timeout_ms, const char *waiting)
{
	if (io->deadline != 0 && deadline == io->deadline)
		return smtpc_fail(io, "timeout %s (the deadline of the whole dialogue)", waiting);
	if (timeout_ms % 1000 == 0)
		return smtpc_fail(io, "timeout after %ds %s", timeout_ms / 1000, waiting);
	return smtpc_fail(io, "timeout after %dms %s", timeout_ms, waiting);
}

void
smtpc_init(struct smtpc *io)
{
	memset(io, 0, sizeof(*io));
	io->fd = -1;
}

/*
 * smtpc_self - the socket is connected to itself.  With nothing
 * listening on a loopback port inside the ephemeral range, the kernel may
 * pick that same port as the local one, and TCP's simultaneous open then
 * "connects": the worker would wait out the greeting timeout reading its
 * own silence.
 */
static int
smtpc_self(int fd)
{
	struct sockaddr_storage	 me, peer;
	socklen_t		 melen = sizeof(me), peerlen = sizeof(peer);

	memset(&me, 0, sizeof(me));
	memset(&peer, 0, sizeof(peer));
	if (getsockname(fd, (struct sockaddr *)&me, &melen) == -1 ||
	    getpeername(fd, (struct sockaddr *)&peer, &peerlen) == -1)
		return 0;
	if (me.ss_family == AF_UNIX)
		return 0;
	return melen == peerlen && memcmp(&me, &peer, melen) == 0;
}

/* smtpc_selffail - fail a self-connected socket as the refused connection it is */
static int
smtpc_selffail(struct smtpc *io)
{
	close(io->fd);
	io->fd = -1;
	return smtpc_fail(io, "connect: %s (the socket connected to itself: "
	    "nothing listens on that port)", strerror(ECONNREFUSED));
}

/* smtpc_try - non-blocking connect of one address (from src if set) within the deadline */
static int
smtpc_try(struct smtpc *io, int family, const struct sockaddr *sa, socklen_t salen,
    const struct addrinfo *src, long long deadline)
{
	int		err = 0, one = 1;
	socklen_t	len = sizeof(err);

	if ((io->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return smtpc_fail(io, "socket: %s", strerror(errno));
	/*
	 * Commands, pipelined groups and the end of data are each one write
	 * that waits for a reply: Nagle would hold such a write until the
	 * previous one is acknowledged, i.e. the peer's delayed ACK (40 ms).
	 */
	if (family != AF_UNIX)
		(void)setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		/* the port is chosen at connect: bind() alone would reserve one per socket */
		(void)setsockopt(io->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
		if (bind(io->fd, src->ai_addr, src->ai_addrlen) == -1) {
			err = errno;
			close(io->fd);
			io->fd = -1;
			return smtpc_fail(io, "bind to [replay] source_address: %s",
			    strerror(err));
		}
	}
	if (connect(io->fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		err = errno;
	else if (smtpc_wait(io, POLLOUT, deadline) == -1)
		err = ETIMEDOUT;
	else if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0 && smtpc_self(io->fd))
		return smtpc_selffail(io);
	if (err == 0)
		return 0;
	close(io->fd);
	io->fd = -1;
	return smtpc_fail(io, "connect: %s", strerror(err));
}

/* the resolver of peer names (smtpc_resolver), else the system's, opened on first use */
static pthread_mutex_t	 smtpc_dns_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dns	*smtpc_dns;

/* smtpc_resolver - see smtpc.h */
void
smtpc_resolver(struct dns *d)
{
	pthread_mutex_lock(&smtpc_dns_mu);
	smtpc_dns = d;
	pthread_mutex_unlock(&smtpc_dns_mu);
}

/* smtpc_resolver_get - the resolver set, else [dns] defaults (resolv.conf, /etc/hosts) */
static struct dns *
smtpc_resolver_get(char *err, size_t errlen)
{
	struct dns	*d;

	pthread_mutex_lock(&smtpc_dns_mu);
	if (smtpc_dns == NULL)
		smtpc_dns = dns_open(NULL, err, errlen);
	d = smtpc_dns;
	pthread_mutex_unlock(&smtpc_dns_mu);
	return d;
}

/*
 * smtpc_resolve - the addresses of r->host into sa[] (at most SMTPC_ADDRS_MAX): a numeric
 * address as it is, else AAAA then A records (RFC 6724's default order: IPv6 first) from the
 * one resolver, each lookup ending by deadline; family (0: any) keeps one family.
 * Returns how many, -1 with why.
 */
static int
smtpc_resolve(struct smtpc *io, const struct deliver_route *r, int family, long long deadline,
    struct sockaddr_in6 *sa)
{
	static const enum dns_type	 types[] = { DNS_T_AAAA, DNS_T_A };
	struct addrinfo			 hints, *res;
	struct dns_answer		 ans;
	struct dns			*d;
	enum dns_status			 st[2] = { DNS_NODATA, DNS_NODATA };
	char				 port[16], err[ERRSTR_MAX];
	size_t				 i, t;
	int				 n = 0;

	memset(sa, 0, SMTPC_ADDRS_MAX * sizeof(*sa));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = family;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", r->port);
	/* an address literal (a scoped IPv6 one too) needs no lookup */
	if (getaddrinfo(r->host, port, &hints, &res) == 0) {
		memcpy(sa, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
		return 1;
	}
	if ((d = smtpc_resolver_get(err, sizeof(err))) == NULL)
		return smtpc_fail(io, "resolve %s: %s", r->host, err);
	for (t = 0; t < 2; t++) {
		if (family != 0 && family != (types[t] == DNS_T_A ? AF_INET : AF_INET6))
			continue;
		st[t] = dns_lookup(d, r->host, types[t], deadline, &ans);
		for (i = 0; st[t] == DNS_OK && i < ans.n && n < SMTPC_ADDRS_MAX; i++, n++) {
			if (types[t] == DNS_T_A) {
				struct sockaddr_in *s4 = (struct sockaddr_in *)&sa[n];

				s4->sin_family = AF_INET;
				s4->sin_port = htons((uint16_t)r->port);
				s4->sin_addr = ans.rr[i].a;
			} else {
				sa[n].sin6_family = AF_INET6;
				sa[n].sin6_port = htons((uint16_t)r->port);
				sa[n].sin6_addr = ans.rr[i].aaaa;
			}
		}
		if (st[t] != DNS_OK && ans.why[0] != '\0')
			snprintf(err, sizeof(err), "%s", ans.why);
		dns_answer_free(&ans);
	}
	if (n > 0)
		return n;
	/* a temporary failure of either type is worth a retry; else the name has no address */
	if (st[0] == DNS_TEMPFAIL || st[1] == DNS_TEMPFAIL)
		return smtpc_fail(io, "resolve %s%s: temporary DNS failure (%s)", r->host,
		    family == 0 ? "" : " (in the family of [replay] source_address)", err);
	return smtpc_fail(io, "resolve %s%s: %s", r->host, family == 0 ? "" :
	    " (in the family of [replay] source_address)", st[0] == DNS_NXDOMAIN ||
	    st[1] == DNS_NXDOMAIN ? "no such host (NXDOMAIN)" : "no address record");
}

int
smtpc_connect(struct smtpc *io, const struct deliver_route *r, const char *source,
    int timeout_ms)
{
	struct sockaddr_un	 sun;
	struct sockaddr_in6	 sa[SMTPC_ADDRS_MAX];
	struct addrinfo		 hints, *src = NULL;
	long long		 deadline = smtpc_until(io, timeout_ms), now, until;
	int			 e, i, n;

	if (r->unix_path[0] != '\0') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", r->unix_path);
		return smtpc_try(io, AF_UNIX, (struct sockaddr *)&sun, sizeof(sun), NULL,
		    deadline);
	}
	if (source != NULL && *source != '\0') {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if ((e = getaddrinfo(source, NULL, &hints, &src)) != 0)
			return smtpc_fail(io, "[replay] source_address %s: %s", source,
			    gai_strerror(e));
	}
	/* only the peer's addresses we can reach from source; the lookup within the connect's
	 * deadline, through [dns] like every other lookup */
	if ((n = smtpc_resolve(io, r, src != NULL ? src->ai_family : 0, deadline, sa)) > 0)
		for (i = 0; i < n; i++) {
			/* an address that never answers (IPv6 dropped on the way) must not
			 * take the whole deadline: each gets an equal share of what is left */
			now = mono_ms();
			until = i < n - 1 && deadline > now ? now + (deadline - now) / (n - i) :
			    deadline;
			if (smtpc_try(io, sa[i].sin6_family, (struct sockaddr *)&sa[i],
			    sa[i].sin6_family == AF_INET ? sizeof(struct sockaddr_in) :
			    sizeof(sa[i]), src, until) == 0)
				break;
		}
	if (src != NULL)
		freeaddrinfo(src);
	return io->fd == -1 ? -1 : 0;
}

/* smtpc_ssl_wait - wait as SSL_get_error says; 0 retry, -1 failure */
static int
smtpc_ssl_wait(struct smtpc *io, int rc, long long deadline, const char *what)
{
	unsigned long	e;
	char		msg[160];

	switch (SSL_get_error(io->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return smtpc_wait(io, POLLIN, deadline);
	case SSL_ERROR_WANT_WRITE:
		return smtpc_wait(io, POLLOUT, deadline);
	case SSL_ERROR_ZERO_RETURN:
		return smtpc_fail(io, "%s: TLS connection closed by peer", what);
	case SSL_ERROR_SYSCALL:
		if ((e = ERR_get_error()) == 0)
			return smtpc_fail(io, "%s: %s", what,
			    errno ? strerror(errno) : "connection closed by peer");
		break;
	default:
		e = ERR_get_error();
	}
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	return smtpc_fail(io, "%s: TLS: %s", what, msg);
}

int
smtpc_write(struct smtpc *io, const void *p, size_t n, int timeout_ms)
{
	const char	*s = p;
	long long	 deadline = smtpc_until(io, timeout_ms);
	ssize_t		 w;
	int		 rc;

	while (n > 0) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			rc = SSL_write(io->ssl, s, n > 1 << 30 ? 1 << 30 : (int)n);
			if (rc <= 0) {
				if (smtpc_ssl_wait(io, rc, deadline, "write") == -1)
					return -1;
				continue;
			}
			w = rc;
		} else if ((w = send(io->fd, s, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return smtpc_fail(io, "write: %s", strerror(errno));
			if (smtpc_wait(io, POLLOUT, deadline) == -1)
				return smtpc_timedout(io, deadline, timeout_ms,
				    "writing to the peer");
			continue;
		}
		s += w;
		n -= w;
	}
	return 0;
}

/* smtpc_read - read more into io->in; 0 ok, -1 error/EOF/timeout */
static int
smtpc_read(struct smtpc *io, long long deadline, int timeout_ms)
{
	size_t	room = sizeof(io->in) - io->inlen;
	ssize_t	r;
	int	rc;

	for (;;) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			rc = SSL_read(io->ssl, io->in + io->inlen, (int)room);
			if (rc > 0) {
				io->inlen += rc;
				return 0;
			}
			if (smtpc_ssl_wait(io, rc, deadline, "read") == -1)
				goto fail;
			continue;
		}
		r = read(io->fd, io->in + io->inlen, room);
		if (r > 0) {
			io->inlen += r;
			return 0;
		}
		if (r == 0)
			return smtpc_fail(io, "connection closed by the peer");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return smtpc_fail(io, "read: %s", strerror(errno));
		if (smtpc_wait(io, POLLIN, deadline) == -1)
			goto fail;
	}
fail:
	if (strcmp(io->why, "timeout") == 0)
		smtpc_timedout(io, deadline, timeout_ms, "waiting for a reply");
	return -1;
}

/* smtpc_enhanced - RFC 3463 "c.s.d" at the start of t whose class matches code */
static size_t
smtpc_enhanced(const char *t, size_t n, int code, char *out, size_t outlen)
{
	size_t	i = 0, part, digits;

	if (n < 5 || t[0] - '0' != code / 100)
		return 0;
	for (part = 0; part < 3; part++) {
		if (part > 0) {
			if (i >= n || t[i] != '.')
				return 0;
			i++;
		}
		for (digits = 0; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 3 || (part == 0 && digits != 1))
			return 0;
	}
	if (i < n && t[i] != ' ')
		return 0;
	if (out != NULL && i < outlen) {
		memcpy(out, t, i);
		out[i] = '\0';
	}
	return i;
}

/* smtpc_line - check one reply line, add its text; 1 last line, 0 more, -1 bad */
static int
smtpc_line(struct smtpc *io, struct smtpc_reply *r, const char *l, size_t n)
{
	char	esc[80];
	int	code;

	if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' ||
	    l[2] < '0' || l[2] > '9' || (n > 3 && l[3] != ' ' && l[3] != '-'))
		return smtpc_fail(io, "malformed reply line \"%s\"",
		    log_escape(l, n, esc, sizeof(esc)));
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return smtpc_fail(io, "inconsistent reply codes %d and %d", r->code, code);
	if (++r->nlines > SMTP_REPLY_LINES_MAX)
		return smtpc_fail(io, "reply has more than %d lines", SMTP_REPLY_LINES_MAX);
	if ((r->total += n + 2) > SMTP_REPLY_MAX)
		return smtpc_fail(io, "reply longer than %d bytes", SMTP_REPLY_MAX);
	r->code = code;
	if (r->nlines > 1)
		buf_add(&r->text, "\n", 1);
	if (n > 4)
		buf_add(&r->text, l + 4, n - 4);
	if (r->nlines == 1)
		smtpc_enhanced(n > 4 ? l + 4 : "", n > 4 ? n - 4 : 0, code, r->enhanced,
		    sizeof(r->enhanced));
	return n > 3 && l[3] == '-' ? 0 : 1;
}

int
smtpc_read_reply(struct smtpc *io, struct smtpc_reply *r, int timeout_ms)
{
	long long	 deadline = smtpc_until(io, timeout_ms);
	char		*nl;
	size_t		 n, len;
	int		 rc;

	r->code = r->nlines = 0;
	r->total = 0;
	r->enhanced[0] = '\0';
	buf_reset(&r->text);
	for (;;) {
		if ((nl = memchr(io->in, '\n', io->inlen)) == NULL) {
			if (io->inlen >= SMTP_REPLYLINE_MAX)
				return smtpc_fail(io, "reply line longer than %d bytes",
				    SMTP_REPLYLINE_MAX);
			if (smtpc_read(io, deadline, timeout_ms) == -1)
				return -1;
			continue;
		}
		len = nl - io->in + 1;
		if (len > SMTP_REPLYLINE_MAX)
			return smtpc_fail(io, "reply line longer than %d bytes",
			    SMTP_REPLYLINE_MAX);
		n = len - 1;
		if (n > 0 && io->in[n - 1] == '\r')
			n--;
		rc = smtpc_line(io, r, io->in, n);
		memmove(io->in, io->in + len, io->inlen - len);
		io->inlen -= len;
		if (rc != 0)
			return rc == 1 ? 0 : -1;
	}
}

size_t
smtpc_pending(const struct smtpc *io)
{
	return io->inlen;
}

/* smtpc_tls_ctx - client context: TLS 1.2+, the peer verified against ca_file if verify */
static int
smtpc_tls_ctx(struct smtpc *io, const char *host, int verify, const char *ca_file)
{
	unsigned char	 ip[16];
	int		 isip;

	if ((io->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return smtpc_fail(io, "TLS: cannot create context");
	SSL_CTX_set_min_proto_version(io->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(io->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (verify) {
		if (ca_file != NULL && ca_file[0] != '\0') {
			if (SSL_CTX_load_verify_locations(io->ctx, ca_file, NULL) != 1)
				return smtpc_fail(io, "TLS: cannot load ca_file %s", ca_file);
		} else if (SSL_CTX_set_default_verify_paths(io->ctx) != 1)
			return smtpc_fail(io, "TLS: cannot load the default CA store");
		SSL_CTX_set_verify(io->ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(io->ctx, SSL_VERIFY_NONE, NULL);
	if ((io->ssl = SSL_new(io->ctx)) == NULL || SSL_set_fd(io->ssl, io->fd) != 1)
		return smtpc_fail(io, "TLS: cannot create session");
	isip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (host[0] != '\0' && !isip)
		SSL_set_tlsext_host_name(io->ssl, host);
	if (verify && host[0] != '\0') {
		if (isip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(io->ssl), host) != 1 :
		    SSL_set1_host(io->ssl, host) != 1)
			return smtpc_fail(io, "TLS: cannot set the name to verify");
	}
	return 0;
}

int
smtpc_tls(struct smtpc *io, const char *host, int verify, const char *ca_file, int timeout_ms)
{
	long long	deadline = smtpc_until(io, timeout_ms);
	long		vr;
	int		rc;

	if (smtpc_tls_ctx(io, host, verify, ca_file) == -1)
		return -1;
	for (;;) {
		ERR_clear_error();
		if ((rc = SSL_connect(io->ssl)) == 1)
			break;
		if (smtpc_ssl_wait(io, rc, deadline, "TLS handshake") == -1) {
			if ((vr = SSL_get_verify_result(io->ssl)) != X509_V_OK)
				smtpc_fail(io, "TLS handshake: certificate verification "
				    "failed: %s", X509_verify_cert_error_string(vr));
			SSL_free(io->ssl);	/* no close_notify on a failed handshake */
			io->ssl = NULL;
			return -1;
		}
	}
	snprintf(io->tls_info, sizeof(io->tls_info), "%s %s", SSL_get_version(io->ssl),
	    SSL_get_cipher_name(io->ssl));
	return 0;
}

int
smtpc_idle(struct smtpc *io)
{
	struct pollfd pfd;

	if (io->fd == -1 || io->inlen > 0 || (io->ssl != NULL && SSL_pending(io->ssl) > 0))
		return 0;
	pfd.fd = io->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

void
smtpc_close(struct smtpc *io, int clean)
{
	if (io->ssl != NULL) {
		if (clean)
			SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		io->ssl = NULL;
	}
	if (io->ctx != NULL) {
		SSL_CTX_free(io->ctx);
		io->ctx = NULL;
	}
	if (io->fd != -1) {
		close(io->fd);
		io->fd = -1;
	}
	io->inlen = 0;
}

void
smtpc_reply_init(struct smtpc_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, SMTP_REPLY_MAX);
}

void
smtpc_reply_free(struct smtpc_reply *r)
{
	buf_free(&r->text);
}

void
smtpc_reply_text(const struct smtpc_reply *r, char *out, size_t outlen)
{
	struct buf	 b;
	const char	*p = r->text.data, *end, *nl;
	size_t		 skip;

	buf_init(&b, SMTP_REPLY_MAX);
	/* a reply without text has no buffer: NULL + 0 is undefined */
	end = p != NULL ? p + r->text.len : NULL;
	while (p != NULL && p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		skip = smtpc_enhanced(p, nl - p, r->code, NULL, 0);
		while (p + skip < nl && p[skip] == ' ')
			skip++;
		if (b.len > 0)
			buf_add(&b, " ", 1);
		buf_add(&b, p + skip, nl - p - skip);
		p = nl + 1;
	}
	log_escape(b.data != NULL ? b.data : "", b.len, out, outlen);
	buf_free(&b);
}
