/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: a local Unix stream socket (control.socket) through
 * which `vigil-agent status` and `vigil-agent reload` talk to the running
 * daemon.
 *
 * Protocol: the client sends one request line, "status", "reload" or
 * "version" (at most VG_CONTROL_MAX_REQUEST bytes with the newline), and
 * the agent answers with one JSON object on one line, then closes. Only
 * peers whose SO_PEERCRED says uid 0, the agent's own uid, or a member of
 * the socket's group are served. The socket has a thread of its own and
 * one short-lived thread per client (at most VG_CONTROL_MAX_CLIENTS at
 * once); none of them touches the packet path. A reload is not run here:
 * it is handed to the thread that takes SIGHUP, so that it is exactly the
 * SIGHUP reload, and its outcome is sent back.
 */
#ifndef VG_CONTROL_H
#define VG_CONTROL_H

#include "buf.h"
#include "common.h"
#include "metrics.h"

#include <stdio.h>
#include <sys/types.h>

#define VG_CONTROL_MAX_REQUEST 256       /* bytes of a request line */
#define VG_CONTROL_MAX_REPLY   (1 << 20) /* bytes of a reply */
#define VG_CONTROL_MAX_CLIENTS 8         /* served at once */
#define VG_CONTROL_IO_TIMEOUT  2000      /* ms to send a request */
#define VG_CONTROL_RELOAD_WAIT 120       /* s a reload may take */
#define VG_CONTROL_MAX_TEXT    4096      /* bytes of reload text kept */

/* What a client asks. */
enum vg_control_cmd {
	VG_CONTROL_BAD = 0, /* not a request */
	VG_CONTROL_STATUS,
	VG_CONTROL_RELOAD,
	VG_CONTROL_VERSION,
};

/* The identity and state a status reply reports besides the counters
 * (all strings borrowed for the call). */
struct vg_control_status {
	const char *version;
	const char *agency;
	const char *agent_id;
	const char *host;
	long pid;
	double uptime_s;
	int64_t reload_us;      /* wall time of the last reload, 0: none */
	int reload_ok;          /* its result */
	const char *reload_msg; /* its summary or error lines, or NULL */
};

/*
 * The command of request line buf (len bytes, as read; it must end with
 * '\n' and hold nothing else but the command and an optional '\r').
 */
enum vg_control_cmd vg_control_parse_request(const char *buf, size_t len);

/*
 * Append the status reply to out: {"version", "agency", "agent_id",
 * "host", "pid", "uptime", "counters": {the n counters of kv by their
 * dotted key}, "spool": {"pending", "bytes"}, "rules": {"network",
 * "yara", "enabled"}, "reload": {"time", "result", "messages"}} and a
 * newline. VG_OK, VG_ENOMEM or VG_ELIMIT.
 */
enum vg_err vg_control_status_json(struct vg_buf *out,
				   const struct vg_control_status *st,
				   const struct vg_stat_kv *kv,
				   size_t n) VG_MUST_CHECK;

/*
 * The reply to a reload: {"result":"ok"|"failed","time":...,"messages":
 * [each line of text]} and a newline. VG_OK, VG_ENOMEM or VG_ELIMIT.
 */
enum vg_err vg_control_reload_json(struct vg_buf *out, int ok, const char *text,
				   int64_t time_us) VG_MUST_CHECK;

/*
 * Whether a peer may be served: uid 0, the agent's own uid, or a member
 * (primary gid, or one of the n supplementary groups) of sock_gid.
 */
int vg_control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n,
			    uid_t self, gid_t sock_gid);

struct vg_control;

struct vg_control_opts {
	const char *path;           /* socket path (borrowed) */
	vg_stats_snapshot_fn stats; /* the counters */
	void *stats_arg;
	struct vg_control_status id; /* version, agency, agent_id, host
					(borrowed for the socket's life);
					the rest is filled per reply */
};

/*
 * Create the socket (its folder 0750 when missing; the socket 0660; a
 * stale one left by a dead agent is replaced, a live agent's is not) and
 * start serving. Call from the thread that takes SIGHUP (the main
 * thread): a reload request is sent to it as SIGHUP. VG_OK with *out
 * owned (vg_control_close), else VG_EINVAL / VG_EIO / VG_ENOMEM with err.
 */
enum vg_err vg_control_open(struct vg_control **out,
			    const struct vg_control_opts *o, char *err,
			    size_t errlen) VG_MUST_CHECK;

/* Around every reload (SIGHUP or requested), on the thread that runs it:
 * begin before reading anything, end with its outcome (ok, and the
 * summary or the error lines; copied). Both accept a NULL c. */
void vg_control_reload_begin(struct vg_control *c);
void vg_control_reload_end(struct vg_control *c, int ok, const char *text);

/* Stop serving, wait for the clients being served, remove the socket and
 * free. Accepts NULL. */
void vg_control_close(struct vg_control *c);

/*
 * The client: send cmd ("status", "reload"...) to the agent at path and
 * read its reply into *reply (owned: free(3); NUL-terminated, *len bytes).
 * VG_OK; VG_EAGAIN when no agent listens there (no socket, or refused);
 * VG_EIO (err says why: permission, timeout...); VG_ELIMIT for a reply
 * over VG_CONTROL_MAX_REPLY.
 */
enum vg_err vg_control_request(const char *path, const char *cmd, char **reply,
			       size_t *len, char *err,
			       size_t errlen) VG_MUST_CHECK;

/*
 * Print a status reply (json, as vg_control_status_json writes it) as a
 * table for people. 0, or -1 when json is not a status reply.
 */
int vg_control_print_status(const char *json, FILE *out);

/*
 * Print a reload reply: "reload done" and its summary to ok_out, or
 * "reload failed..." and each error line ("FILE:LINE: key: message") to
 * err_out. 1 when the reload worked, 0 when it failed, -1 when json is
 * not a reload reply.
 */
int vg_control_print_reload(const char *json, FILE *ok_out, FILE *err_out);

#endif /* VG_CONTROL_H */
