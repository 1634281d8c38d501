/* SPDX-License-Identifier: Apache-2.0 */
/* Client connections over TCP, Unix sockets and TLS; see net.h. */
#include "net.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct vg_tls {
	SSL_CTX *ctx;
	int verify;
};

struct vg_conn {
	int fd;
	SSL *ssl;
	const atomic_int *cancel; /* NULL: none */
	char peer[300];
};

/* OpenSSL's first queued error, or what a silent failure means. */
static void
ssl_reason(char *buf, size_t n, const char *none)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, n, "%s", none);
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
}

enum vg_err
vg_tls_new(struct vg_tls **out, const char *ca_file, const char *cert_file,
	   const char *key_file, int verify, char *err, size_t errlen)
{
	struct vg_tls *t = calloc(1, sizeof(*t));
	char why[256];

	*out = NULL;
	if (t == NULL || (t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		free(t);
		return VG_ENOMEM;
	}
	t->verify = verify;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1
		    : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		ssl_reason(why, sizeof(why), "cannot be loaded");
		vg_seterr(err, errlen, "TLS CA file %s: %s",
			  ca_file ? ca_file : "(system)", why);
		vg_tls_free(t);
		return VG_EINVAL;
	}
	if ((cert_file != NULL) != (key_file != NULL)) {
		vg_seterr(err, errlen,
			  "TLS: a client certificate needs its key");
		vg_tls_free(t);
		return VG_EINVAL;
	}
	if (cert_file &&
	    (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) !=
		 1 ||
	     SSL_CTX_check_private_key(t->ctx) != 1)) {
		ssl_reason(why, sizeof(why), "cannot be loaded");
		vg_seterr(err, errlen, "TLS client certificate %s: %s",
			  cert_file, why);
		vg_tls_free(t);
		return VG_EINVAL;
	}
	*out = t;
	return VG_OK;
}

void
vg_tls_free(struct vg_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

static bool
cancelled(const atomic_int *cancel)
{
	return cancel != NULL && atomic_load(cancel) != 0;
}

/*
 * Wait up to ms for ev on fd: > 0 ready, 0 timed out, -1 failed, or
 * WAIT_CANCELLED. With a cancel flag the wait is cut into slices of
 * VG_NET_CANCEL_MS, the flag read between them: a flag cannot wake a
 * poll(), and a slice costs nothing next to the network's timeouts.
 */
#define WAIT_CANCELLED (-2)

static int
wait_fd(int fd, short ev, unsigned ms, const atomic_int *cancel)
{
	struct pollfd p = {fd, ev, 0};
	unsigned slice;
	int n;

	for (;;) {
		if (cancelled(cancel))
			return WAIT_CANCELLED;
		slice = cancel != NULL && ms > VG_NET_CANCEL_MS
			    ? VG_NET_CANCEL_MS
			    : ms;
		do
			n = poll(&p, 1, (int)slice);
		while (n < 0 && errno == EINTR);
		if (n != 0 || slice == ms)
			return n;
		ms -= slice;
	}
}

/* What a failed wait_fd() means, for messages. */
static const char *
wait_why(int n, const char *timed_out)
{
	return n == WAIT_CANCELLED ? "cancelled" : timed_out;
}

/* Non-blocking connect to sa within ms: the socket, or -1 (err set). */
static int
connect_addr(const struct sockaddr *sa, socklen_t len, int family, unsigned ms,
	     const atomic_int *cancel, char *err, size_t errlen,
	     const char *peer)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int soerr = 0, one = 1, n;
	socklen_t sl = sizeof(soerr);

	if (fd < 0) {
		vg_seterr(err, errlen, "%s: %s", peer, strerror(errno));
		return -1;
	}
	if (connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS) {
			vg_seterr(err, errlen, "%s: %s", peer, strerror(errno));
			close(fd);
			return -1;
		}
		if ((n = wait_fd(fd, POLLOUT, ms, cancel)) <= 0) {
			vg_seterr(err, errlen, "%s: %s", peer,
				  wait_why(n, "connect timed out"));
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			vg_seterr(err, errlen, "%s: %s", peer,
				  strerror(soerr ? soerr : errno));
			close(fd);
			return -1;
		}
	}
	if (family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	return fd;
}

static enum vg_err
handshake(struct vg_conn *c, struct vg_tls *t, const char *name, unsigned ms,
	  char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip = inet_pton(AF_INET, name, &a4) == 1 ||
		     inet_pton(AF_INET6, name, &a6) == 1;
	char why[256];

	c->ssl = SSL_new(t->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return VG_ENOMEM;
	if (!is_ip) {
		char sni[256];

		/* The macro casts away const: hand it a copy. */
		snprintf(sni, sizeof(sni), "%s", name);
		SSL_set_tlsext_host_name(c->ssl, sni);
	}
	if (t->verify) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
			  : SSL_set1_host(c->ssl, name) != 1)
			return VG_ENOMEM;
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
	}
	for (;;) {
		int rc = SSL_connect(c->ssl), e, n = 0;

		if (rc == 1)
			return VG_OK;
		e = SSL_get_error(c->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    (n = wait_fd(c->fd,
				 e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				 ms, c->cancel)) > 0)
			continue;
		if (n == WAIT_CANCELLED) {
			ERR_clear_error();
			vg_seterr(err, errlen, "%s: TLS handshake cancelled",
				  c->peer);
		} else if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
			vg_seterr(
			    err, errlen,
			    "%s: TLS: certificate verification failed: %s",
			    c->peer,
			    X509_verify_cert_error_string(
				SSL_get_verify_result(c->ssl)));
			ERR_clear_error();
		} else {
			ssl_reason(why, sizeof(why),
				   "connection closed during the handshake");
			vg_seterr(err, errlen, "%s: TLS handshake failed: %s",
				  c->peer, why);
		}
		return VG_EIO;
	}
}

enum vg_err
vg_conn_open(struct vg_conn **out, const char *host, unsigned port,
	     const char *path, struct vg_tls *tls, const char *server_name,
	     unsigned timeout_ms, const atomic_int *cancel, char *err,
	     size_t errlen)
{
	struct vg_conn *c = calloc(1, sizeof(*c));
	enum vg_err rc;

	*out = NULL;
	if (c == NULL)
		return VG_ENOMEM;
	c->fd = -1;
	c->cancel = cancel;
	if (path) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(c->peer, sizeof(c->peer), "%s", path);
		if (strlen(path) >= sizeof(sa.sun_path)) {
			vg_seterr(err, errlen, "%s: socket path too long",
				  path);
			free(c);
			return VG_EIO;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		c->fd =
		    connect_addr((struct sockaddr *)&sa, sizeof(sa), AF_UNIX,
				 timeout_ms, cancel, err, errlen, c->peer);
	} else {
		struct addrinfo hints = {0}, *ai = NULL, *a;
		char ports[8];
		int gai;

		snprintf(c->peer, sizeof(c->peer),
			 strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
		snprintf(ports, sizeof(ports), "%u", port);
		hints.ai_socktype = SOCK_STREAM;
		gai = getaddrinfo(host, ports, &hints, &ai);
		if (gai != 0) {
			vg_seterr(err, errlen, "%s: %s", c->peer,
				  gai_strerror(gai));
			free(c);
			return VG_EIO;
		}
		/* The lookup may have taken long: a stop asked meanwhile
		 * is not kept waiting for a connect too. */
		if (cancelled(cancel))
			vg_seterr(err, errlen, "%s: cancelled", c->peer);
		for (a = ai; a && c->fd < 0 && !cancelled(cancel);
		     a = a->ai_next)
			c->fd = connect_addr(a->ai_addr, a->ai_addrlen,
					     a->ai_family, timeout_ms, cancel,
					     err, errlen, c->peer);
		freeaddrinfo(ai);
	}
	if (c->fd < 0) {
		free(c);
		return VG_EIO;
	}
	if (tls && (rc = handshake(c, tls, server_name ? server_name : host,
				   timeout_ms, err, errlen)) != VG_OK) {
		vg_conn_close(c);
		return rc;
	}
	*out = c;
	return VG_OK;
}

/* After a TLS call returned rc: wait for what it wants; false: failed
 * (*n: what wait_fd said, 0 when it did not wait). */
static bool
tls_retry(struct vg_conn *c, int rc, unsigned ms, int *n)
{
	int e = SSL_get_error(c->ssl, rc);

	*n = 0;
	return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
	       (*n = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			     ms, c->cancel)) > 0;
}

enum vg_err
vg_conn_write(struct vg_conn *c, const void *buf, size_t n, unsigned timeout_ms,
	      char *err, size_t errlen)
{
	const char *p = buf;
	int wn;

	while (n > 0) {
		ssize_t w;

		if (c->ssl) {
			int rc = SSL_write(c->ssl, p,
					   n > INT32_MAX ? INT32_MAX : (int)n);

			if (rc <= 0) {
				if (tls_retry(c, rc, timeout_ms, &wn))
					continue;
				ERR_clear_error();
				vg_seterr(err, errlen, "%s: TLS write %s",
					  c->peer, wait_why(wn, "failed"));
				return VG_EIO;
			}
			w = rc;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN) {
				wn = wait_fd(c->fd, POLLOUT, timeout_ms,
					     c->cancel);
				if (wn > 0)
					continue;
				vg_seterr(err, errlen, "%s: write %s", c->peer,
					  wait_why(wn, "timed out"));
				return VG_EIO;
			}
			if (w < 0) {
				vg_seterr(err, errlen, "%s: %s", c->peer,
					  strerror(errno));
				return VG_EIO;
			}
		}
		p += w;
		n -= (size_t)w;
	}
	return VG_OK;
}

enum vg_err
vg_conn_read(struct vg_conn *c, void *buf, size_t n, unsigned timeout_ms,
	     size_t *got, char *err, size_t errlen)
{
	int wn;

	for (;;) {
		ssize_t r;

		if (c->ssl) {
			int rc = SSL_read(c->ssl, buf,
					  n > INT32_MAX ? INT32_MAX : (int)n);

			if (rc > 0) {
				*got = (size_t)rc;
				return VG_OK;
			}
			if (tls_retry(c, rc, timeout_ms, &wn))
				continue;
			vg_seterr(err, errlen, "%s: %s", c->peer,
				  wn == WAIT_CANCELLED ? "TLS read cancelled"
				  : SSL_get_error(c->ssl, rc) ==
					  SSL_ERROR_ZERO_RETURN
				      ? "connection closed"
				      : "TLS read failed or timed out");
			ERR_clear_error();
			return VG_EIO;
		}
		r = recv(c->fd, buf, n, 0);
		if (r > 0) {
			*got = (size_t)r;
			return VG_OK;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			wn = wait_fd(c->fd, POLLIN, timeout_ms, c->cancel);
			if (wn > 0)
				continue;
			vg_seterr(err, errlen, "%s: read %s", c->peer,
				  wait_why(wn, "timed out"));
			return VG_EIO;
		}
		vg_seterr(err, errlen, "%s: %s", c->peer,
			  r == 0 ? "connection closed" : strerror(errno));
		return VG_EIO;
	}
}

int
vg_conn_closed(struct vg_conn *c)
{
	struct pollfd p = {c->fd, POLLIN, 0};
	char buf[512];
	int rc;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
		return 1;
	if (c->ssl == NULL) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
	}
	/* With TLS a readable socket may be a record such as a session
	 * ticket: only an error or the end says the peer is gone. */
	rc = SSL_read(c->ssl, buf, sizeof(buf));
	if (rc > 0)
		return 0;
	rc = SSL_get_error(c->ssl, rc);
	ERR_clear_error();
	return rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE;
}

const char *
vg_conn_peer(const struct vg_conn *c)
{
	return c->peer;
}

void
vg_conn_close(struct vg_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
