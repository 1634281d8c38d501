/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client connections: TCP or a Unix socket, and TLS over TCP with OpenSSL
 * (the peer verified against a CA and its name by default, a client
 * certificate for mutual TLS). The Redis client and the collector's SIEM
 * forwarding both speak through this; neither sees a socket or an SSL.
 *
 * Sockets are non-blocking: every call waits with poll() for at most the
 * time it is given, so a silent peer costs a timeout, never a hang. A
 * connection opened with a cancel flag also gives up, within
 * VG_NET_CANCEL_MS, once another thread sets that flag: how a thread that
 * is stopping is not held for a whole timeout.
 */
#ifndef VG_NET_H
#define VG_NET_H

#include "common.h"

#include <stdatomic.h>
#include <stddef.h>

/* How often a wait looks at its cancel flag: the longest a set flag
 * takes to end a call. */
#define VG_NET_CANCEL_MS 100

struct vg_tls;  /* a client TLS context: CA, client certificate */
struct vg_conn; /* one connection */

/*
 * A TLS context: trust ca_file (NULL: the system's CAs), present
 * cert_file with key_file (both or neither; NULL: no client
 * certificate), TLS 1.2 at least. verify 0 turns the peer check off (for
 * tests only). VG_OK (*out owned: vg_tls_free), VG_EINVAL (err names the
 * file and OpenSSL's reason) or VG_ENOMEM.
 */
enum vg_err vg_tls_new(struct vg_tls **out, const char *ca_file,
		       const char *cert_file, const char *key_file, int verify,
		       char *err, size_t errlen) VG_MUST_CHECK;
/* Accepts NULL. */
void vg_tls_free(struct vg_tls *t);

/*
 * Connect to host:port, or to the Unix socket path when path is not
 * NULL, within timeout_ms; then, with tls, the handshake, the peer's
 * certificate checked for server_name (NULL: host; an IP address is
 * checked as one and not sent as SNI). cancel (borrowed for the life of
 * the connection; NULL: none): while it is nonzero, this call and every
 * read and write on the connection fail with VG_EIO ("cancelled") instead
 * of waiting (a name lookup, which cannot be interrupted, excepted).
 * VG_OK (*out owned: vg_conn_close), VG_EIO (err: "PEER: reason":
 * refused, timed out, cancelled, the certificate's verification
 * error...) or VG_ENOMEM.
 */
enum vg_err vg_conn_open(struct vg_conn **out, const char *host, unsigned port,
			 const char *path, struct vg_tls *tls,
			 const char *server_name, unsigned timeout_ms,
			 const atomic_int *cancel, char *err,
			 size_t errlen) VG_MUST_CHECK;

/* Write all n bytes, waiting at most timeout_ms at a time. VG_OK or
 * VG_EIO (err says why). */
enum vg_err vg_conn_write(struct vg_conn *c, const void *p, size_t n,
			  unsigned timeout_ms, char *err,
			  size_t errlen) VG_MUST_CHECK;

/* Read what arrives (1..n bytes into buf), waiting at most timeout_ms:
 * VG_OK with *got, or VG_EIO (closed, failed or timed out; err says). */
enum vg_err vg_conn_read(struct vg_conn *c, void *buf, size_t n,
			 unsigned timeout_ms, size_t *got, char *err,
			 size_t errlen) VG_MUST_CHECK;

/* For a peer that never writes (a syslog receiver): whether it has
 * closed or reset the connection. Does not wait. */
int vg_conn_closed(struct vg_conn *c);

/* "host:port", "[v6]:port" or the socket path (borrowed). */
const char *vg_conn_peer(const struct vg_conn *c);

/* Accepts NULL. */
void vg_conn_close(struct vg_conn *c);

#endif /* VG_NET_H */
