/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwarding to a SIEM: events of the configured types (forward.types)
 * are sent as RFC 5424 syslog messages, framed by octet counting (RFC 6587
 * 3.4.1), over TCP or TLS (1.2 or later) to forward.address:
 *
 *   LEN SP <PRI>1 TIMESTAMP HOST APP-NAME - MSGID - EVE-JSON
 *
 * PRI is facility * 8 + severity (alert severity 1, 2, 3, 4 become crit,
 * err, warning, info; other types notice), HOST the event's "host", MSGID
 * its event_type, the message the EVE line byte for byte.
 *
 * The consumer hands events in with vc_forward_event(), which never
 * waits: they go to a bounded in-memory queue (forward.queue events; when
 * full the event is dropped and counted). One thread drains it,
 * reconnecting with exponential backoff (100 ms to 30 s) and resending
 * the event whose send failed. Syslog over TCP has no acknowledgements:
 * events written to a connection the peer resets are lost (the thread
 * checks for a closed connection before every send).
 */
#ifndef VC_FORWARD_H
#define VC_FORWARD_H

#include "common.h"
#include "config.h"

#define VC_FORWARD_BACKOFF_MIN_MS 100u
#define VC_FORWARD_BACKOFF_MAX_MS 30000u
#define VC_FORWARD_IO_TIMEOUT_S   10

struct vc_forward;
struct vc_consumer;

/*
 * Start forwarding as cfg says (cfg borrowed: valid until
 * vc_forward_free(); cfg->forward_address must be set): the TLS context
 * is built and the thread started; it connects in the background. VG_OK
 * with *out (owned: vc_forward_free()), VG_EINVAL (TLS files or settings:
 * err says why) or VG_ENOMEM.
 */
enum vg_err vc_forward_new(struct vc_forward **out, const struct vc_config *cfg,
			   char *err, size_t errlen) VG_MUST_CHECK;

/*
 * Queue one EVE line (eve borrowed for the call: what is queued is a
 * copy) if its event_type is forwarded. Never blocks on the network;
 * a full queue drops the event (counted). Thread-safe; f may be NULL.
 */
void vc_forward_event(struct vc_forward *f, const char *eve, size_t len);

/* Counters so far. Thread-safe. */
struct vc_forward_stats {
	uint64_t sent, dropped, errors, queued;
	int connected;
};
void vc_forward_stats(struct vc_forward *f, struct vc_forward_stats *st);

/* Stop the thread (events still queued are discarded, counted as
 * dropped), close, free; accepts NULL. */
void vc_forward_free(struct vc_forward *f);

/*
 * Have consumer c forward every event it archives to f (borrowed: valid
 * until c stops; NULL: none). Defined in consumer.c; call before
 * vc_consumer_run().
 */
void vc_consumer_set_forward(struct vc_consumer *c, struct vc_forward *f);

#endif /* VC_FORWARD_H */
