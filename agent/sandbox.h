/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privilege separation (ARCHITECTURE.md, "Security stance"): the packet
 * path runs in a child process that holds no credentials and cannot open
 * files or sockets, and so does the YARA scanner, which may only read
 * (files it is handed, and files it opens read-only). Each talks to the
 * parent only over a socketpair(AF_UNIX, SOCK_SEQPACKET) of versioned
 * messages.
 *
 * This module holds what does not depend on the engine: the message codec
 * (both ends), the check of the event lines a packet child sends, and the
 * lock-down of a child (fds closed, capabilities and the bounding set
 * dropped with libcap-ng, PR_SET_NO_NEW_PRIVS, a libseccomp allow-list
 * whose default action kills the process). engine.c forks, restarts and
 * feeds the packet child; scanchild.c starts and feeds scanner children.
 *
 * A message is one datagram: a header of three u32 in host byte order
 * (both ends are the same binary on the same machine), then the payload:
 *
 *   magic_version  VG_SB_MAGIC ("VGS" and version 1)
 *   type           enum vg_sb_type
 *   length         payload bytes that follow, exactly
 *
 * The parent treats the child as hostile: every message is checked
 * exactly (vg_sb_decode) and a bad one is dropped and counted, never
 * acted upon.
 */
#ifndef VG_SANDBOX_H
#define VG_SANDBOX_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

#define VG_SB_MAGIC        0x56475301u /* "VGS", version 1 */
#define VG_SB_HDR          12u
#define VG_SB_MAX_PAYLOAD  (192u * 1024u) /* fits the default socket buffer */
#define VG_SB_MAX_EVENTFDS 64u /* libpcap eventfds a packet child keeps */

enum vg_sb_type {
	VG_SB_EVENTS = 1, /* child -> parent: whole EVE lines, "\n" ended */
	VG_SB_STATS = 2,  /* child -> parent: the counter block (fixed size) */
	VG_SB_STOP = 3,   /* parent -> child: end flows, drain, exit */
	VG_SB_BYE = 4,    /* child -> parent: drained, the last message */
	VG_SB_RELOAD = 5, /* parent -> child: as STOP, flows end "reload" */
	/* The scanner child (scanchild.h has the payloads): */
	VG_SB_RULES = 6,    /* parent -> child: a rule set (its memfd sent
			       along), VG_SB_RULES_LEN bytes */
	VG_SB_RULES_OK = 7, /* child -> parent: loaded, VG_SB_RULES_LEN */
	VG_SB_SCAN = 8,     /* parent -> child: scan the file sent along */
	VG_SB_RESULT = 9,   /* child -> parent: its verdict */
	VG_SB__TYPES
};

#define VG_SB_RULES_LEN 16u

/* What a child may do (vg_sandbox_enter). */
enum vg_sb_profile {
	VG_SB_PACKETS, /* read its capture handles, threads; no open */
	VG_SB_FILES,   /* one thread; open read-only, receive fds */
};

/* A decoded message: payload points into the buffer given to decode. */
struct vg_sb_msg {
	uint32_t type;
	const uint8_t *payload;
	uint32_t len;
};

/* Write the header of a message of type and len payload bytes into hdr. */
void vg_sb_header(uint8_t hdr[VG_SB_HDR], uint32_t type, uint32_t len);

/*
 * Check and decode one received datagram buf of n bytes (n as recv()
 * returned it with MSG_TRUNC: larger than the buffer means truncated):
 * magic and version, a known type, a length field equal to n - header,
 * at most VG_SB_MAX_PAYLOAD, and the size the type allows (STATS:
 * exactly stats_len; STOP, BYE, RELOAD: none; RULES, RULES_OK: exactly
 * VG_SB_RULES_LEN; EVENTS, SCAN, RESULT: at least one byte).
 * VG_OK, else VG_EMALFORMED with err saying what was wrong.
 */
enum vg_err vg_sb_decode(const uint8_t *buf, size_t n, size_t stats_len,
			 struct vg_sb_msg *m, char *err,
			 size_t errlen) VG_MUST_CHECK;

/*
 * Check the payload of an EVENTS message: one or more lines, each ended
 * by "\n", at most max_line bytes, without NUL, each one JSON object
 * whose "event_type" is "alert" or "flow" (all the packet path emits).
 * VG_OK with *n_events set, else VG_EMALFORMED (err: which line, why).
 */
enum vg_err vg_sb_check_events(const uint8_t *p, size_t len, size_t max_line,
			       unsigned *n_events, char *err,
			       size_t errlen) VG_MUST_CHECK;

/*
 * Send one message on fd (blocking; EINTR retried). VG_OK, VG_EINVAL
 * (too large) or VG_EIO. Not VG_MUST_CHECK: a message to a peer that is
 * gone is lost on purpose (its end is seen by the reader, not here).
 */
enum vg_err vg_sb_send(int fd, uint32_t type, const void *payload, size_t len);

/* The same, with descriptor pass sent along (SCM_RIGHTS) when not -1. */
enum vg_err vg_sb_send_fd(int fd, uint32_t type, const void *payload,
			  size_t len, int pass);

/*
 * Lock the calling process down (a child just forked, or just started,
 * before it starts a thread): close every fd but 0, 1, 2, the n_keep in
 * keep, and (VG_SB_PACKETS) libpcap's event fds (anon_inode:[eventfd]); drop
 * every capability and, when CAP_SETPCAP allows, the bounding set; set
 * PR_SET_NO_NEW_PRIVS; install the seccomp filter of profile. write and
 * sendmsg are allowed only on sock and fd 2 (and the event fds); no
 * socket, connect, execve, rename, unlink, chmod, kill... and no open
 * (VG_SB_PACKETS) or only a read-only one (VG_SB_FILES: no O_WRONLY,
 * O_RDWR, O_CREAT, O_TRUNC, O_APPEND or O_TMPFILE). A forbidden call kills
 * the process (SIGSYS). VG_OK, or VG_EIO with err.
 *
 * Test hook, harmless: with test_hook set (a parent sets it for its first
 * child only) and VIGIL_TEST_SANDBOX_FORBIDDEN in the environment, the
 * child makes that call right after the filter is in force: "openat" (of
 * "/", read-only), "openat-write" (creating a file) or "socket" (an
 * AF_INET socket). A forbidden one kills it by SIGSYS (it can only end
 * that child, which the parent restarts); an allowed one is closed again.
 */
enum vg_err vg_sandbox_enter(enum vg_sb_profile profile, const int *keep,
			     unsigned n_keep, int sock, int test_hook,
			     char *err, size_t errlen) VG_MUST_CHECK;

#endif /* VG_SANDBOX_H */
