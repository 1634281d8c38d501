/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis client: one connection (plain TCP, Unix socket or TLS), a Redis
 * Cluster (slot map, MOVED/ASK) or a Sentinel-managed master, commands
 * and pipelined XADD batches.
 *
 * The publisher sends the spooled events with vg_redis_xadd_batch() to
 * the agency's stream (ARCHITECTURE.md, "Redis layout"); other modules
 * use vg_redis_command(). This is the only module that includes hiredis:
 * hiredis formats the commands and parses the replies, our own socket
 * layer carries the bytes (Debian's hiredis 0.14 has no TLS), and replies
 * are handed out as our own tree (struct vg_redis_reply).
 *
 * What Redis returns is untrusted: every reply is checked against the
 * VG_REDIS_MAX_* bounds below as its bytes arrive, before hiredis sees
 * them, so a hostile or broken server can make a call fail but cannot
 * make the agent allocate without bound. Server text put into messages
 * is escaped, and no password ever appears in a message or a log line.
 *
 * A handle is not thread-safe: one thread at a time. After a call failed
 * with VG_EIO the handle stays usable: the next call reconnects (asking
 * the sentinels again in SENTINEL mode, refreshing the slot map in
 * CLUSTER mode); closing it and connecting anew works as well.
 */
#ifndef VG_REDIS_H
#define VG_REDIS_H

#include "common.h"

#include <stdatomic.h>
#include <stdint.h>

/* Bounds on what a server may send in one reply (bytes of the RESP
 * encoding, elements counted over the whole reply tree). */
#define VG_REDIS_MAX_BULK     (512u * 1024 * 1024) /* one bulk string */
#define VG_REDIS_MAX_ELEMENTS (1024u * 1024)       /* one array */
#define VG_REDIS_MAX_NODES    (2u * 1024 * 1024)   /* one reply, all levels */
#define VG_REDIS_MAX_DEPTH    8                    /* nested arrays */
#define VG_REDIS_MAX_LINE     (64u * 1024)         /* a status or error line */
#define VG_REDIS_MAX_REPLY    (VG_REDIS_MAX_BULK + 1024u * 1024) /* bytes */
/* Bounds on what we send and keep. */
#define VG_REDIS_MAX_COMMAND           (VG_REDIS_MAX_BULK + 1024u * 1024) /* bytes */
#define VG_REDIS_MAX_FIELDS            4096 /* field/value pairs of one XADD */
#define VG_REDIS_MAX_NODES_CLUSTER     1024 /* cluster nodes remembered */
#define VG_REDIS_MAX_SENTINELS         64
#define VG_REDIS_MAX_REDIRECTS         5 /* MOVED/ASK followed for one command */
#define VG_REDIS_MAX_SCAN_CALLS        100000 /* SCAN calls per server, one walk */
#define VG_REDIS_DEFAULT_PORT          6379
#define VG_REDIS_DEFAULT_SENTINEL_PORT 26379
#define VG_REDIS_DEFAULT_TIMEOUT_MS    5000

struct vg_redis;

enum vg_redis_mode { VG_REDIS_SINGLE, VG_REDIS_CLUSTER, VG_REDIS_SENTINEL };

/*
 * How to connect. All strings are borrowed for the duration of
 * vg_redis_connect() only (the handle keeps copies). Start from
 * vg_redis_opts_init(): a zeroed struct has tls_verify 0, which turns
 * certificate verification OFF.
 */
struct vg_redis_opts {
	/*
	 * redis://[user[:password]@]host[:port][/db]  plain TCP
	 * rediss://...                                TLS
	 * unix:///path/to.sock[?db=N]                 Unix socket
	 * host: a name, an IPv4 address or an IPv6 literal in brackets
	 * ([::1]:6379); port 6379 by default; user and password
	 * percent-decoded. SINGLE and CLUSTER need it (CLUSTER: one node of
	 * the cluster, TCP only, db 0). SENTINEL: may be NULL (plain TCP, no
	 * credentials, db 0); when given its scheme (TLS or not), credentials
	 * and db apply to the sentinels' master and its host is not used.
	 */
	const char *url;
	const char *username; /* ACL user (overrides the URL's); NULL: none,
				 i.e. "default" */
	const char *password; /* overrides the URL's; NULL: none */
	const char *ca_file;  /* TLS: CA bundle; NULL: system default paths */
	const char *cert_file,
	    *key_file;           /* TLS client certificate and its
				    key (mutual TLS), PEM; NULL: none */
	const char *server_name; /* TLS: name to verify and send as SNI (an
				    IP address is verified, not sent); NULL:
				    the host connected to */
	int tls_verify; /* nonzero: verify the peer (vg_redis_opts_init's);
			   0: don't (tests only; logs a warning) */
	unsigned connect_timeout_ms; /* TCP connect + TLS handshake; 0: 5000 */
	unsigned io_timeout_ms;      /* longest wait for the socket to become
					readable or writable; 0: 5000 */
	/* NULL: none. Else borrowed for the life of the handle: while
	   another thread has it nonzero, every connect and command fails
	   with VG_EIO ("cancelled") within VG_NET_CANCEL_MS (100 ms) instead
	   of waiting out its timeouts (a name lookup excepted: net.h). How
	   a thread that is told to stop is not held by a silent server. */
	const atomic_int *cancel;
	enum vg_redis_mode mode;
	const char *sentinel_master; /* SENTINEL: the service name */
	char *const *sentinels;      /* SENTINEL: "host:port" entries (port
					default 26379, [v6]:port), asked in
					order; they get no AUTH */
	unsigned n_sentinels;        /* 1..VG_REDIS_MAX_SENTINELS */
};

/* Fill o with the defaults: zero everything, tls_verify = 1. */
void vg_redis_opts_init(struct vg_redis_opts *o);

enum vg_redis_type {
	VG_REPLY_STRING,
	VG_REPLY_ARRAY,
	VG_REPLY_INTEGER,
	VG_REPLY_NIL,
	VG_REPLY_STATUS,
	VG_REPLY_ERROR
};

/* A reply, as a tree. Each node owns its strings and its elements. */
struct vg_redis_reply {
	enum vg_redis_type type;
	long long integer;                /* INTEGER */
	char *str;                        /* STRING, STATUS, ERROR: owned,
					     NUL-terminated copy (a STRING may
					     hold NULs too: use len) */
	size_t len;                       /* bytes in str, without the NUL */
	struct vg_redis_reply **elements; /* ARRAY: n owned elements, never
					     NULL entries (NULL when n is 0) */
	size_t n;
};

/* Free a reply tree (every element); accepts NULL. */
void vg_redis_reply_free(struct vg_redis_reply *r);

/*
 * Read len bytes at data as a server's byte stream, in pieces of chunk
 * bytes (0: 16384, as read from a socket), through the same checks and
 * reader as the replies of a connection. each (may be NULL) sees every
 * complete reply, which is freed when it returns; *n (may be NULL) counts
 * them. For the tests and the fuzz target (tests/fuzz/fuzz_resp.c).
 * Returns VG_OK (the bytes end on a reply boundary or inside an
 * unfinished reply) or VG_EIO (a reply breaks the protocol or the
 * VG_REDIS_MAX_* bounds: err says which).
 */
enum vg_err vg_redis_parse_stream(const void *data, size_t len, size_t chunk,
				  void (*each)(const struct vg_redis_reply *,
					       void *),
				  void *arg, unsigned *n, char *err,
				  size_t errlen) VG_MUST_CHECK;

/*
 * Connect according to o: open the connection (TLS: handshake, peer
 * verification), AUTH (AUTH user pass, or AUTH pass without a username),
 * SELECT db when it is not 0; without a password a PING checks that the
 * server does not require one (any reply but NOAUTH will do, so a user
 * allowed nothing but XADD can connect). Then per mode:
 *  CLUSTER   CLUSTER SLOTS from the URL's node gives the slot map; the
 *            other masters are connected to when first needed, with the
 *            same credentials and TLS settings.
 *  SENTINEL  each sentinel in turn is asked SENTINEL
 *            get-master-addr-by-name; the first answer whose ROLE says
 *            master is used (so the ACL user needs +role).
 *
 * Returns:
 *  VG_OK      *out is the handle (owned: vg_redis_close()).
 *  VG_EINVAL  a bad option: no or a malformed URL, a username without a
 *             password, TLS files given for a URL that is not rediss://,
 *             a certificate without its key (or one that does not match
 *             it), unreadable CA or certificate files, no sentinels...
 *  VG_EIO     the server could not be reached or refused us: connection
 *             refused, timeout, TLS verification failure (with OpenSSL's
 *             reason), WRONGPASS, NOAUTH, a slot map or sentinel answer
 *             that is unusable, a protocol violation.
 *  VG_ENOMEM  out of memory.
 * On failure err (errlen bytes; may be NULL) says why, and *out is
 * untouched. The message names hosts and server replies (escaped) but
 * never a password.
 */
enum vg_err vg_redis_connect(struct vg_redis **out,
			     const struct vg_redis_opts *o, char *err,
			     size_t errlen) VG_MUST_CHECK;

/* Close every connection and free the handle; accepts NULL. */
void vg_redis_close(struct vg_redis *r);

/*
 * Send one command and read its reply. argv[i] holds argvlen[i] bytes
 * (binary-safe; borrowed for the call). key_index names the argument
 * holding the key, used to route the command in CLUSTER mode (-1: none;
 * the command goes to any node); other modes ignore it. In CLUSTER mode
 * MOVED (the slot map is updated and refreshed) and ASK (ASKING first,
 * once, no map update) are followed, at most VG_REDIS_MAX_REDIRECTS
 * times.
 *
 * Returns:
 *  VG_OK      *out is the reply (owned: vg_redis_reply_free()); it may be
 *             an ERROR reply, which is the server's answer, not a
 *             failure of the connection.
 *  VG_EINVAL  argc < 1, NULL argv, argvlen or out, key_index out of
 *             range, or a command longer than VG_REDIS_MAX_COMMAND.
 *  VG_EIO     the connection failed, timed out, or the server broke the
 *             protocol or a bound (err says which); in SENTINEL mode also
 *             a -READONLY reply (the master became a replica: the next
 *             call asks the sentinels again). The command may or may not
 *             have been executed. The next call reconnects.
 *  VG_ENOMEM  out of memory.
 * *out is NULL unless VG_OK. err (may be NULL) says why on failure.
 */
enum vg_err vg_redis_command(struct vg_redis *r, int argc, const char **argv,
			     const size_t *argvlen, int key_index,
			     struct vg_redis_reply **out, char *err,
			     size_t errlen) VG_MUST_CHECK;

/* Called by vg_redis_scan() for each key found: key holds len bytes
 * (borrowed: valid during the call only). Nonzero stops the walk. */
typedef int (*vg_redis_scan_fn)(void *ctx, const char *key, size_t len);

/*
 * SCAN the whole keyspace for keys matching the glob match, COUNT count
 * per call (0: 1000): in CLUSTER mode on every master of the slot map
 * in turn (each holds its own share of the keys; the map is refreshed
 * first when due), in the other modes on the one server. A cursor walk
 * stops after VG_REDIS_MAX_SCAN_CALLS calls per server. A key may be
 * reported more than once (SCAN's own guarantee); one that exists during
 * the whole walk is reported at least once.
 *
 * Returns:
 *  VG_OK      every server's walk ended (or fn returned nonzero).
 *  VG_EIO     a connection failed (as vg_redis_command(); the next call
 *             reconnects), or a server answered something that is not a
 *             SCAN reply. Keys reported so far were real.
 *  VG_EINVAL  NULL r, match or fn; or a server refused the SCAN with an
 *             ERROR reply (NOPERM...: err quotes it, escaped), the walk
 *             ends there and the connection stays usable.
 *  VG_ENOMEM  out of memory.
 */
enum vg_err vg_redis_scan(struct vg_redis *r, const char *match, unsigned count,
			  vg_redis_scan_fn fn, void *ctx, char *err,
			  size_t errlen) VG_MUST_CHECK;

/*
 * One stream entry for vg_redis_xadd_batch(): the command sent is
 * "XADD key MAXLEN ~ maxlen * field value ..." ("XADD key * ..." when
 * maxlen is 0). Inputs are borrowed for the call; the results are
 * written by it.
 */
struct vg_redis_xadd {
	const char *key;
	size_t key_len;
	uint64_t maxlen;           /* 0: no trimming */
	unsigned n_fields;         /* field/value pairs, 1..MAX_FIELDS */
	const char *const *fields; /* 2 * n_fields pointers: field, value.. */
	const size_t *lens;        /* 2 * n_fields lengths, in the same order */
	/* results */
	int done;        /* 1: the server answered (see ok); 0: unknown */
	int ok;          /* done: 1 the entry was added (id), 0 refused */
	char id[48];     /* the new entry's ID, when ok */
	char error[160]; /* the error reply, escaped and cut, when !ok */
};

/*
 * Append n entries, pipelined: every command is written (while replies
 * are read, so neither side stalls), then every reply read. In CLUSTER
 * mode entries are grouped per master, one pipeline each; MOVED and ASK
 * replies are followed (map updated and refreshed on MOVED; ASKING before
 * the retry on ASK) up to VG_REDIS_MAX_REDIRECTS rounds, so they only
 * show as results when redirection does not settle.
 *
 * Every entry's results are reset first. Then:
 *  VG_OK      every entry has done = 1: ok = 1 and its id, or ok = 0 and
 *             the server's error (e.g. "NOPERM ...", "WRONGTYPE ...").
 *  VG_EIO     a connection broke (err says which and why; in SENTINEL mode
 *             also a -READONLY reply). Entries whose reply was read keep
 *             their result (done = 1); the others have done = 0 and may
 *             or may not have been added: the caller resends them (a
 *             duplicate is possible, never a silent loss). The next call
 *             reconnects.
 *  VG_EINVAL  a bad argument (NULL r or e with n > 0, an entry with no
 *             key, no fields or more than VG_REDIS_MAX_FIELDS, a command
 *             over VG_REDIS_MAX_COMMAND); nothing was sent.
 *  VG_ENOMEM  out of memory; entries with done = 0 are to be resent.
 * n = 0 is VG_OK.
 */
enum vg_err vg_redis_xadd_batch(struct vg_redis *r, struct vg_redis_xadd *e,
				size_t n, char *err,
				size_t errlen) VG_MUST_CHECK;

/*
 * The Redis Cluster slot of a key (exposed for tests): CRC16 (XMODEM) of
 * the key's hash tag, modulo 16384. The hash tag is what lies between
 * the first '{' and the first '}' after it, when that is not empty;
 * otherwise the whole key is hashed.
 */
unsigned vg_redis_key_slot(const char *key, size_t len);

/*
 * Where we are connected now, for messages: "host:port" ("[v6]:port") or
 * the Unix socket path; in CLUSTER mode the node used last. Borrowed:
 * valid until the next call on r. "" before any connection.
 */
const char *vg_redis_peer(const struct vg_redis *r);

/* A parsed URL (exposed for configuration checks and tests). */
struct vg_redis_url {
	int tls;        /* rediss:// */
	char *host;     /* TCP: name or IP address (no brackets); else NULL */
	unsigned port;  /* TCP: 1..65535 */
	char *path;     /* unix://: the socket path; else NULL */
	char *username; /* decoded; NULL when absent or empty */
	char *password; /* decoded; NULL when absent or empty */
	unsigned db;    /* 0..INT32_MAX; 0 when absent */
};

/*
 * Parse url strictly (see vg_redis_opts.url for the forms). VG_OK with *u
 * filled (caller's storage: release with vg_redis_url_fini()), VG_EINVAL
 * with err saying what is wrong (never quoting the password), or
 * VG_ENOMEM. u is untouched on failure.
 */
enum vg_err vg_redis_url_parse(const char *url, struct vg_redis_url *u,
			       char *err, size_t errlen) VG_MUST_CHECK;
/* Free (the password wiped first) what u owns; accepts NULL. */
void vg_redis_url_fini(struct vg_redis_url *u);

#endif /* VG_REDIS_H */
