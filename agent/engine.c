/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet pipeline; see engine.h.
 *
 * Ownership: a capture thread owns its pcap handles and decode counters; a
 * worker owns its rings' consumer side, its flow table, its nDPI module and
 * its event buffer; the publisher owns the output. Threads share nothing
 * else but the stop flags and, for statistics, a snapshot of their counters
 * that each refreshes under its own mutex now and then, so that the main
 * thread can read consistent figures without touching the hot counters.
 */
#include "engine.h"

#include "capture.h"
#include "classify.h"
#include "decode.h"
#include "event.h"
#include "flow.h"
#include "log.h"
#include "netrules.h"
#include "output.h"
#include "ring.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REC_PKT  1
#define REC_TICK 2

#define MAX_WORKERS         64
#define MAX_SOURCES         (VG_CONFIG_MAX_IFACES + 1)
#define RING_BYTES_PER_SLOT 2048 /* capture.ring_slots x this = ring size */
#define RING_MIN_BYTES      (1u << 20)
#define SNAPSHOT_EVERY      4096  /* records between counter snapshots */
#define OUT_CHUNK           65536 /* event bytes a worker batches */
#define MAX_PROTO_IDS       1024
#define MAX_RISK_IDS        64
#define TICK_US             1000000 /* time tick to idle workers */
#define MAX_ALERTS          32      /* alerts of one flow at one time */
#define SB_MAX_FILES        256     /* replay files a sandboxed run opens */
#define SB_STATS_MS         250     /* child: counters to the parent */
#define SB_STOP_MS          15000   /* a child's drain, before SIGKILL */
#define SB_BACKOFF_MAX_S    30      /* restart backoff: 1, 2, 4 .. 30 s */

/* A packet in a ring: this header, then the frame from its IP header on. */
struct pkt_rec {
	int64_t ts_us;
	uint32_t bytes;  /* counted on the flow: captured length, as
			    ndpiReader counts, so that results compare */
	uint32_t len;    /* bytes that follow (from l3 to capture end) */
	uint32_t off_l4; /* offsets from l3; UINT32_MAX: NULL */
	uint32_t off_payload;
	struct vg_pkt pkt; /* pointers are rebuilt by the worker */
};

struct source_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ring_drops; /* live: worker ring full */
	uint64_t oversize;   /* frames too large for a ring */
	uint64_t read_errors;
	uint64_t reasons[VG_DEC__COUNT];
	struct vg_capture_stats cap;
};

struct source {
	struct vg_engine *e;
	unsigned idx;
	pthread_t th;
	int started;
	char *const *paths; /* replay: files in order */
	int n_paths;
	struct vg_capture **pre; /* sandboxed replay: paths opened by the
				    parent, for the child to read */
	/* Sandboxed, live: the kernel's counters, read by the parent on
	 * its copy of the handle (main thread; snap's copy under mu). */
	struct vg_capture_stats pcap_now, pcap_base;
	const struct vg_iface_config *iface; /* live */
	char iface_keys[4][96]; /* live: "iface.<counter>.<name>" */
	struct vg_capture *live;
	_Atomic int done;
	struct source_counters c; /* owned by the thread */
	pthread_mutex_t mu;
	struct source_counters snap; /* under mu */
};

struct worker_counters {
	struct vg_flow_table_stats flow;
	struct vg_classify_stats dpi;
	uint64_t packets;
	uint64_t events;
	uint64_t event_errors; /* events that did not fit or no memory */
	uint64_t flows_ended;
	uint64_t alert_events;  /* alert events encoded */
	uint64_t alerts_sev[5]; /* of them, by rule severity 1..4 (0: other) */
	struct vg_detect_worker_stats det;
};

/* What a packet child reports to its parent (VG_SB_STATS): every figure a
 * u64, so that the counters of children that ended add up field by field. */
struct child_counters {
	struct source_counters src[MAX_SOURCES];
	struct worker_counters wk;
	uint64_t proto_flows[MAX_PROTO_IDS];
	uint64_t risk_flows[MAX_RISK_IDS];
	uint64_t risky_flows;
	struct vg_detect_state_stats ds; /* rule state (thresholds) */
	uint64_t alive; /* 1: every worker turned since the last report */
};

_Static_assert(sizeof(struct child_counters) % sizeof(uint64_t) == 0 &&
		   sizeof(struct child_counters) <= VG_SB_MAX_PAYLOAD,
	       "the child's counters do not fit a message");

struct worker {
	struct vg_engine *e;
	unsigned id;
	pthread_t th;
	int started;
	struct vg_ring rings[MAX_SOURCES]; /* one per source */
	struct vg_flow_table *ft;
	struct vg_classifier *cl;
	struct vg_detect_worker *dw;
	const struct vg_detect *det; /* the set in use (e->detect lags) */
	_Atomic(const struct vg_detect *) det_seen; /* for swaps */
	_Atomic int exited;
	_Atomic uint64_t beats; /* loop turns, for vg_engine_alive() */
	uint64_t beats_seen;    /* main thread's */
	struct vg_buf out;
	unsigned out_events;
	int64_t now_us;
	struct worker_counters c;
	uint64_t proto_flows[MAX_PROTO_IDS];
	uint64_t risk_flows[MAX_RISK_IDS];
	uint64_t risky_flows;
	pthread_mutex_t mu;
	struct worker_counters snap; /* under mu */
};

struct vg_engine {
	struct vg_engine_opts o;
	const struct vg_config *cfg;
	unsigned n_workers;
	struct worker *workers;
	struct source sources[MAX_SOURCES];
	unsigned n_sources;
	struct vg_output *out;
	_Atomic(struct vg_detect *) detect; /* borrowed; swapped on reload */
	struct vg_detect_state *dstate;
	uint64_t reloads, reload_failures;
	struct vg_event_ctx ctx;
	unsigned tunnels;
	int64_t start_mono_us;
	_Atomic int stop_capture; /* capture threads: stop reading */
	_Atomic int drain;        /* workers: exit once rings are empty */
	int started;
	int stopped;
	pthread_mutex_t stats_mu;    /* serialises stats events */
	vg_engine_stats_fn stats_fn; /* extra counters (stats_mu) */
	void *stats_arg;
	struct vg_output_stats final_out; /* once the output is closed */
	char out_name[256];
	char reason_keys[VG_DEC__COUNT][48];

	/* Privilege separation (sandbox.h). Parent: */
	int sandboxed;
	pid_t child;         /* 0: none running */
	int sb_fd;           /* parent's end of the socketpair, -1 */
	pthread_t sb_reader; /* reads and checks the child's messages */
	int sb_reader_started;
	_Atomic int sb_alive;       /* the child's last liveness report */
	_Atomic int64_t sb_seen_us; /* when its last counters came */
	_Atomic uint64_t sb_malformed;
	uint64_t sb_restarts;
	int sb_last_signal;
	unsigned sb_starts;
	unsigned sb_backoff_s;
	int64_t sb_restart_at_us; /* mono; 0: no restart pending */
	int64_t sb_started_us;
	int sb_finished;                    /* replay: the child has ended */
	pthread_mutex_t sb_mu;              /* the counter blocks below */
	struct child_counters *sb_base;     /* of children that ended */
	struct child_counters *sb_cur;      /* the running child's */
	struct vg_detect_state_stats sb_ds; /* the children's rule state */
	/* Child: */
	int child_fd;           /* -1 in the parent */
	const char *end_reason; /* flows ended by a stop: NULL "shutdown" */
};

static void
backoff(unsigned *idle)
{
	struct timespec ts = {0, 0};

	if (*idle < 16) {
		(*idle)++;
		sched_yield();
		return;
	}
	/* 50 us, doubling to 1 ms: light on the CPU, quick to resume. */
	ts.tv_nsec = 50000L << (*idle - 16 < 4 ? *idle - 16 : 4);
	if (ts.tv_nsec > 1000000L)
		ts.tv_nsec = 1000000L;
	if (*idle < 32)
		(*idle)++;
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* Workers                                                             */

static void
worker_snapshot(struct worker *w)
{
	vg_flow_table_stats(w->ft, &w->c.flow);
	vg_classify_stats(w->cl, &w->c.dpi);
	vg_detect_worker_stats(w->dw, &w->c.det);
	pthread_mutex_lock(&w->mu);
	w->snap = w->c;
	pthread_mutex_unlock(&w->mu);
}

static void child_send_events(struct worker *w);

static void
worker_flush_events(struct worker *w)
{
	if (w->out.len == 0)
		return;
	if (w->e->child_fd >= 0) {
		child_send_events(w);
		return;
	}
	if (vg_output_submit(w->e->out, &w->out, w->out_events) == VG_ENOMEM)
		w->c.event_errors += w->out_events;
	w->out_events = 0;
}

static const char *
flow_state(const struct vg_flow *f)
{
	if (f->key.proto == 6 && (f->flags & VG_FLOW_F_TCP_CLOSED))
		return "closed";
	return (f->flags & VG_FLOW_F_BIDIR) ? "established" : "new";
}

static const char *
end_reason(enum vg_flow_end why)
{
	switch (why) {
	case VG_FLOW_END_IDLE:
	case VG_FLOW_END_ACTIVE:
		return "timeout";
	case VG_FLOW_END_EVICTED:
		return "forced";
	case VG_FLOW_END_SHUTDOWN:
		break;
	}
	return "shutdown";
}

/* The record of flow f the encoder and the rules read. */
static void
flow_info(struct worker *w, const struct vg_flow *f, const char *reason,
	  struct vg_flow_info *fi, char *names, size_t names_len)
{
	vg_classify_flow_info(w->cl, f, reason, flow_state(f), fi, names,
			      names_len);
}

/* After an event went into the worker's buffer. */
static void
event_added(struct worker *w)
{
	w->out_events++;
	w->c.events++;
	if (w->out.len >= OUT_CHUNK)
		worker_flush_events(w);
}

/*
 * Run the rules that fire at `on` on flow f, described in fi (with or
 * without names), and encode its alerts. names: room for the names when
 * fi has none yet.
 */
static void
detect_flow(struct worker *w, struct vg_flow *f, enum vg_rule_on on,
	    struct vg_flow_info *fi, char *names, size_t names_len)
{
	struct vg_alert al[MAX_ALERTS];
	struct vg_geo geo[2];
	unsigned i, n;

	n = vg_detect_eval(w->det, w->e->dstate, w->dw, on, fi, f->last_us, al,
			   MAX_ALERTS);
	if (n == 0)
		return;
	f->flags |= VG_FLOW_F_ALERTED;
	fi->alerted = 1;
	if (fi->ndpi_protocol == NULL)
		vg_classify_describe(w->cl, f, fi, names, names_len);
	for (i = 0; i < 2; i++)
		(void)vg_detect_geo(w->det, w->dw, fi->ip_version,
				    i ? fi->dst_ip : fi->src_ip, &geo[i]);
	for (i = 0; i < n; i++) {
		const struct vg_rule_meta *r = al[i].rule;
		struct vg_alert_info ai = {
		    .signature_id = r->id,
		    .rev = r->rev,
		    .signature = r->name,
		    .category = r->category,
		    .severity = r->severity,
		    .severity_name = r->severity_name,
		    .mitre = r->mitre,
		    .n_mitre = r->n_mitre,
		    .tags = r->tags,
		    .n_tags = r->n_tags,
		    .refs = r->refs,
		    .n_refs = r->n_refs,
		    .count = al[i].count,
		    .geo_src = &geo[0],
		    .geo_dst = &geo[1],
		};

		if (vg_event_alert(&w->out, &w->e->ctx, fi, &ai, f->last_us) !=
		    VG_OK) {
			w->c.event_errors++;
			continue;
		}
		w->c.alert_events++;
		w->c.alerts_sev[r->severity < 5 ? r->severity : 0]++;
		event_added(w);
	}
}

/* Rules on classification run once per flow, when it is final. */
static void
detect_classified(struct worker *w, struct vg_flow *f)
{
	struct vg_flow_info fi;
	char names[256];

	if (f->flags & VG_FLOW_F_RULES_DONE)
		return;
	f->flags |= VG_FLOW_F_RULES_DONE;
	if (!vg_detect_wants(w->det, VG_RULE_ON_CLASSIFIED))
		return;
	flow_info(w, f, NULL, &fi, NULL, 0);
	detect_flow(w, f, VG_RULE_ON_CLASSIFIED, &fi, names, sizeof(names));
}

static void
on_flow_end(void *arg, struct vg_flow *f, enum vg_flow_end why)
{
	struct worker *w = arg;
	struct vg_flow_info fi;
	char names[256];
	unsigned i;
	enum vg_err err;

	bool rules_end;

	vg_classify_finish(w->cl, f);
	detect_classified(w, f);
	rules_end = why != VG_FLOW_END_ACTIVE &&
		    vg_detect_wants(w->det, VG_RULE_ON_FLOW_END);
	if (why != VG_FLOW_END_ACTIVE) {
		unsigned id = vg_classify_summary_id(f);

		w->c.flows_ended++;
		w->proto_flows[id < MAX_PROTO_IDS ? id : 0]++;
		if (f->risk)
			w->risky_flows++;
		for (i = 1; i < MAX_RISK_IDS; i++)
			if (f->risk & (1ULL << i))
				w->risk_flows[i]++;
	}
	if (!w->e->o.flow_events && !rules_end)
		return;

	/* One description serves the rules and the flow event; the names
	 * are made only when an event needs them. */
	flow_info(w, f,
		  why == VG_FLOW_END_SHUTDOWN && w->e->end_reason
		      ? w->e->end_reason
		      : end_reason(why),
		  &fi, w->e->o.flow_events ? names : NULL, sizeof(names));
	if (rules_end)
		detect_flow(w, f, VG_RULE_ON_FLOW_END, &fi, names,
			    sizeof(names));
	if (!w->e->o.flow_events)
		return;
	/* The event's time is the flow's last packet: replays then give the
	 * same output whenever they run. */
	err = vg_event_flow(&w->out, &w->e->ctx, &fi, f->last_us);
	if (err != VG_OK) {
		w->c.event_errors++;
		return;
	}
	event_added(w);
}

static void
on_dpi_idle(void *arg, struct vg_flow *f)
{
	struct worker *w = arg;

	vg_classify_finish(w->cl, f);
	detect_classified(w, f);
}

static void
on_flow_free(void *arg, struct vg_flow *f)
{
	(void)arg;
	vg_classify_release(f);
}

static void
worker_packet(struct worker *w, struct pkt_rec *r)
{
	struct vg_pkt p = r->pkt;
	const uint8_t *l3 = (const uint8_t *)(r + 1);
	struct vg_flow *f;
	int dir;

	p.l3 = l3;
	p.l3_len = r->len;
	p.l4 = r->off_l4 == UINT32_MAX ? NULL : l3 + r->off_l4;
	p.payload = r->off_payload == UINT32_MAX ? NULL : l3 + r->off_payload;
	if (r->ts_us > w->now_us)
		w->now_us = r->ts_us;
	w->c.packets++;
	if (p.frag == VG_FRAG_LATER) {
		vg_flow_track_fragment(w->ft, &p, w->now_us, r->bytes);
		return;
	}
	f = vg_flow_track(w->ft, &p, w->now_us, r->bytes, &dir);
	if (f == NULL)
		return;
	vg_classify_packet(w->cl, f, &p, w->now_us);
	if (f->flags & VG_FLOW_F_DPI_DONE)
		detect_classified(w, f);
}

/* Take up the engine's current detection set (after a reload). */
static void
worker_sync_detect(struct worker *w)
{
	const struct vg_detect *d =
	    atomic_load_explicit(&w->e->detect, memory_order_acquire);

	if (d != w->det) {
		w->det = d;
		atomic_store_explicit(&w->det_seen, d, memory_order_release);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct vg_engine *e = w->e;
	unsigned idle = 0, since_snap = 0, s;

	for (;;) {
		unsigned got = 0;

		atomic_fetch_add_explicit(&w->beats, 1, memory_order_relaxed);
		worker_sync_detect(w);
		for (s = 0; s < e->n_sources; s++) {
			struct vg_ring *r = &w->rings[s];
			uint32_t type, len;
			void *rec;

			while (got < 512 &&
			       (rec = vg_ring_peek(r, &type, &len)) != NULL) {
				if (type == REC_PKT) {
					worker_packet(w, rec);
				} else if (type == REC_TICK) {
					int64_t ts;

					memcpy(&ts, rec, sizeof(ts));
					if (ts > w->now_us)
						w->now_us = ts;
					vg_flow_tick(w->ft, w->now_us);
				}
				vg_ring_release(r);
				got++;
			}
		}
		since_snap += got;
		if (got) {
			idle = 0;
			if (since_snap >= SNAPSHOT_EVERY) {
				worker_snapshot(w);
				since_snap = 0;
			}
			continue;
		}
		/* Nothing to do: hand over events, then check for the end. */
		worker_flush_events(w);
		if (since_snap) {
			worker_snapshot(w);
			since_snap = 0;
		}
		if (atomic_load(&e->drain)) {
			int empty = 1;
			uint32_t type, len;

			for (s = 0; s < e->n_sources; s++)
				if (vg_ring_peek(&w->rings[s], &type, &len))
					empty = 0;
			if (empty)
				break;
			continue;
		}
		backoff(&idle);
	}
	vg_flow_flush(w->ft);
	worker_flush_events(w);
	worker_snapshot(w);
	atomic_store(&w->exited, 1);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Capture threads                                                     */

static void
source_snapshot(struct source *s)
{
	pthread_mutex_lock(&s->mu);
	s->snap = s->c;
	pthread_mutex_unlock(&s->mu);
}

/* Put a record in worker w's ring from source s. Replay waits for room;
 * live capture drops (counted). Returns the payload or NULL. */
static void *
ring_reserve(struct source *s, struct worker *w, uint32_t len, uint32_t type)
{
	struct vg_ring *r = &w->rings[s->idx];
	unsigned idle = 0;
	void *p;

	while ((p = vg_ring_reserve(r, len, type)) == NULL) {
		if (!s->e->o.offline) {
			s->c.ring_drops++;
			return NULL;
		}
		backoff(&idle);
	}
	return p;
}

static void
send_ticks(struct source *s, int64_t ts_us)
{
	struct vg_engine *e = s->e;
	unsigned i;

	for (i = 0; i < e->n_workers; i++) {
		void *p =
		    ring_reserve(s, &e->workers[i], sizeof(ts_us), REC_TICK);

		if (p) {
			memcpy(p, &ts_us, sizeof(ts_us));
			vg_ring_commit(&e->workers[i].rings[s->idx]);
		}
	}
}

static uint32_t
off_of(const uint8_t *base, const uint8_t *p)
{
	return p ? (uint32_t)((uintptr_t)p - (uintptr_t)base) : UINT32_MAX;
}

/* Decode one frame and hand it to its worker. */
static void
source_frame(struct source *s, int dlt, const struct vg_frame *fr)
{
	struct vg_engine *e = s->e;
	struct vg_pkt p;
	enum vg_decode_reason why;
	struct pkt_rec *r;
	struct worker *w;

	s->c.packets++;
	s->c.bytes += fr->wirelen;
	why = vg_decode(dlt, fr->data, fr->caplen, e->tunnels, &p);
	s->c.reasons[why]++;
	if (why != VG_DEC_OK)
		return;
	w = &e->workers[vg_flow_shard_hash(&p) % e->n_workers];
	/* A record must fit in half a ring, or a replay could wait forever
	 * for room that padding never leaves (libpcap caps frames at 256 KiB
	 * and rings are at least 1 MiB, so this is a guard, not a limit). */
	if (sizeof(*r) + p.l3_len > w->rings[s->idx].cap / 2) {
		s->c.oversize++;
		return;
	}
	r = ring_reserve(s, w, (uint32_t)sizeof(*r) + p.l3_len, REC_PKT);
	if (r == NULL)
		return;
	r->ts_us = fr->ts_us;
	r->bytes = fr->caplen;
	r->len = p.l3_len;
	r->off_l4 = off_of(p.l3, p.l4);
	r->off_payload = off_of(p.l3, p.payload);
	r->pkt = p;
	r->pkt.l3 = r->pkt.l4 = r->pkt.payload = NULL;
	memcpy(r + 1, p.l3, p.l3_len);
	vg_ring_commit(&w->rings[s->idx]);
}

/* The kernel's counters of a source. A sandboxed child leaves them to
 * the parent: libpcap opens a file in /sys for them. */
static void
source_cap_stats(struct source *s, struct vg_capture *cap)
{
	if (s->live == NULL || s->e->child_fd < 0)
		vg_capture_stats(cap, &s->c.cap);
}

static void
source_read(struct source *s, struct vg_capture *cap, int64_t *last_ts,
	    int64_t *next_tick)
{
	struct vg_engine *e = s->e;
	int dlt = vg_capture_datalink(cap);
	char err[512];
	struct vg_frame fr;
	unsigned n = 0;
	int rc;

	while (!atomic_load_explicit(&e->stop_capture, memory_order_relaxed)) {
		rc = vg_capture_next(cap, &fr, err, sizeof(err));
		if (rc == 0) {
			/* Live and quiet: keep the workers' clocks going. */
			int64_t now = vg_now_wall_us();

			if (now >= *next_tick) {
				send_ticks(s, now);
				*next_tick = now + TICK_US;
			}
			source_cap_stats(s, cap);
			source_snapshot(s);
			continue;
		}
		if (rc < 0) {
			if (rc == -2) {
				s->c.read_errors++;
				vg_log(LOG_WARNING, "%s", err);
			}
			break;
		}
		/* Packet time never goes back (a capture merged from several
		 * can jump): the flow clock of a worker must be monotonic. */
		if (fr.ts_us < *last_ts)
			fr.ts_us = *last_ts;
		*last_ts = fr.ts_us;
		source_frame(s, dlt, &fr);
		if (fr.ts_us >= *next_tick) {
			send_ticks(s, fr.ts_us);
			*next_tick = fr.ts_us + TICK_US;
		}
		if (++n % SNAPSHOT_EVERY == 0) {
			if (s->live)
				source_cap_stats(s, cap);
			source_snapshot(s);
		}
	}
	source_cap_stats(s, cap);
	source_snapshot(s);
}

static void *
source_main(void *arg)
{
	struct source *s = arg;
	int64_t last_ts = 0, next_tick = 0;
	char err[512];
	int i;

	if (s->live) {
		source_read(s, s->live, &last_ts, &next_tick);
	} else {
		for (i = 0; i < s->n_paths; i++) {
			struct vg_capture *cap;

			if (atomic_load(&s->e->stop_capture))
				break;
			if (s->pre != NULL) {
				/* Opened by the parent: the child cannot. */
				cap = s->pre[i];
				s->pre[i] = NULL;
			} else if (vg_capture_open_file(&cap, s->paths[i], err,
							sizeof(err)) != VG_OK) {
				s->c.read_errors++;
				vg_log(LOG_ERR, "%s", err);
				continue;
			}
			source_read(s, cap, &last_ts, &next_tick);
			vg_capture_close(cap);
		}
	}
	source_snapshot(s);
	atomic_store(&s->done, 1);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The engine                                                          */

enum vg_err
vg_engine_new(struct vg_engine **out, const struct vg_engine_opts *opts,
	      char *err, size_t errlen)
{
	const struct vg_config *cfg = opts->cfg;
	struct vg_engine *e;
	long cores;
	unsigned i;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return VG_ENOMEM;
	e->o = *opts;
	e->cfg = cfg;
	e->tunnels = cfg->tunnels;
	e->n_workers = opts->workers ? opts->workers : cfg->workers;
	if (e->n_workers == 0) {
		cores = sysconf(_SC_NPROCESSORS_ONLN);
		e->n_workers = cores > 1 ? (unsigned)cores - 1 : 1;
	}
	if (e->n_workers > MAX_WORKERS)
		e->n_workers = MAX_WORKERS;
	e->ctx.host = cfg->hostname;
	e->ctx.agent_id = cfg->agent_id;
	e->ctx.agency = cfg->agency;
	e->ctx.version = VG_VERSION;
	atomic_init(&e->detect, opts->detect);
	pthread_mutex_init(&e->stats_mu, NULL);
	pthread_mutex_init(&e->sb_mu, NULL);
	e->sb_fd = -1;
	e->child_fd = -1;
	for (i = 0; i < VG_DEC__COUNT; i++)
		snprintf(e->reason_keys[i], sizeof(e->reason_keys[i]),
			 "decoder.%s", vg_decode_reason_name(i));
	e->workers = vg_calloc(e->n_workers, sizeof(*e->workers));
	if (e->workers == NULL ||
	    vg_detect_state_new(&e->dstate, cfg->state_max) != VG_OK) {
		free(e->workers);
		free(e);
		return VG_ENOMEM;
	}
	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];
		struct vg_flow_table_opts fo = {
		    .max_flows = cfg->max_flows / e->n_workers
				     ? cfg->max_flows / e->n_workers
				     : 1,
		    .idle_timeout_us = (int64_t)cfg->idle_timeout * 1000000,
		    .active_timeout_us = (int64_t)cfg->active_timeout * 1000000,
		    .worker_id = i,
		    .on_end = on_flow_end,
		    .free_flow_state = on_flow_free,
		    .dpi_idle_us = (int64_t)cfg->dpi_idle_timeout * 1000000,
		    .on_dpi_idle = on_dpi_idle,
		    .arg = w,
		};
		struct vg_classify_opts co = {
		    .tcp_max_packets = cfg->tcp_max_packets,
		    .udp_max_packets = cfg->udp_max_packets,
		};

		w->e = e;
		w->id = i;
		w->det = opts->detect;
		atomic_init(&w->det_seen, opts->detect);
		pthread_mutex_init(&w->mu, NULL);
		vg_buf_init(&w->out,
			    (size_t)OUT_CHUNK + (size_t)cfg->event_max_bytes *
						    (MAX_ALERTS + 1));
		if (vg_flow_table_new(&w->ft, &fo) != VG_OK ||
		    vg_classifier_new(&w->cl, &co) != VG_OK ||
		    vg_detect_worker_new(&w->dw) != VG_OK) {
			snprintf(err, errlen, "cannot set up worker %u", i);
			e->n_workers = i + 1;
			vg_engine_free(e);
			return VG_ENOMEM;
		}
	}
	*out = e;
	return VG_OK;
}

static struct source *
source_add(struct vg_engine *e, char *err, size_t errlen)
{
	struct source *s;

	if (e->n_sources >= MAX_SOURCES) {
		snprintf(err, errlen, "too many capture sources (max %d)",
			 MAX_SOURCES);
		return NULL;
	}
	s = &e->sources[e->n_sources];
	memset(s, 0, sizeof(*s));
	s->e = e;
	s->idx = e->n_sources++;
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

enum vg_err
vg_engine_add_files(struct vg_engine *e, char *const *paths, int n, char *err,
		    size_t errlen)
{
	struct source *s;
	int i;

	/* Fail early on a file that cannot be read at all. */
	for (i = 0; i < n; i++) {
		struct vg_capture *cap;
		enum vg_err rc =
		    vg_capture_open_file(&cap, paths[i], err, errlen);

		if (rc != VG_OK)
			return rc;
		vg_capture_close(cap);
	}
	if ((s = source_add(e, err, errlen)) == NULL)
		return VG_ELIMIT;
	s->paths = paths;
	s->n_paths = n;
	return VG_OK;
}

enum vg_err
vg_engine_add_ifaces(struct vg_engine *e, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < e->cfg->n_ifaces; i++) {
		struct source *s = source_add(e, err, errlen);
		enum vg_err rc;

		if (s == NULL)
			return VG_ELIMIT;
		s->iface = &e->cfg->ifaces[i];
		snprintf(s->iface_keys[0], sizeof(s->iface_keys[0]),
			 "iface.packets.%s", s->iface->name);
		snprintf(s->iface_keys[1], sizeof(s->iface_keys[1]),
			 "iface.kernel_drops.%s", s->iface->name);
		snprintf(s->iface_keys[2], sizeof(s->iface_keys[2]),
			 "iface.if_drops.%s", s->iface->name);
		snprintf(s->iface_keys[3], sizeof(s->iface_keys[3]),
			 "iface.ring_drops.%s", s->iface->name);
		rc = vg_capture_open_live(&s->live, s->iface, err, errlen);
		if (rc != VG_OK) {
			e->n_sources--;
			return rc;
		}
	}
	return VG_OK;
}

static enum vg_err start_threads(struct vg_engine *e, char *err, size_t errlen);

enum vg_err
vg_engine_start(struct vg_engine *e, char *err, size_t errlen)
{
	const struct vg_config *cfg = e->cfg;
	struct vg_output_opts oo;
	enum vg_err rc;

	if (e->n_sources == 0 && !e->o.files_only) {
		snprintf(err, errlen,
			 "nothing to capture from: list interfaces "
			 "under capture.interfaces");
		return VG_EINVAL;
	}
	vg_output_opts_from(&oo, cfg, e->o.output, e->o.offline);
	rc = vg_output_open_opts(&e->out, &oo, err, errlen);
	if (rc != VG_OK)
		return rc;
	snprintf(e->out_name, sizeof(e->out_name), "%s",
		 vg_output_name(e->out));
	e->start_mono_us = vg_now_mono_us();
	e->started = 1;
	return start_threads(e, err, errlen);
}

/* Rings, workers and capture threads (the process that runs the packet
 * path: the engine's own, or a sandboxed child). */
static enum vg_err
start_threads(struct vg_engine *e, char *err, size_t errlen)
{
	const struct vg_config *cfg = e->cfg;
	uint64_t ring_bytes = (uint64_t)cfg->ring_slots * RING_BYTES_PER_SLOT;
	unsigned i, s;

	if (ring_bytes < RING_MIN_BYTES)
		ring_bytes = RING_MIN_BYTES;
	for (i = 0; i < e->n_workers; i++) {
		for (s = 0; s < e->n_sources; s++) {
			if (vg_ring_init(&e->workers[i].rings[s], ring_bytes) !=
			    VG_OK) {
				snprintf(err, errlen, "cannot allocate rings");
				return VG_ENOMEM;
			}
		}
	}
	/* Without a source the workers would have nothing to wait on. */
	for (i = 0; i < e->n_workers && e->n_sources; i++) {
		if (pthread_create(&e->workers[i].th, NULL, worker_main,
				   &e->workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker threads");
			vg_engine_stop(e);
			return VG_EIO;
		}
		e->workers[i].started = 1;
	}
	for (s = 0; s < e->n_sources; s++) {
		if (pthread_create(&e->sources[s].th, NULL, source_main,
				   &e->sources[s]) != 0) {
			snprintf(err, errlen, "cannot start capture threads");
			vg_engine_stop(e);
			return VG_EIO;
		}
		e->sources[s].started = 1;
	}
	return VG_OK;
}

int
vg_engine_alive(struct vg_engine *e)
{
	int alive = 1;
	unsigned i;
	uint64_t b;

	if (e->sandboxed) {
		/* Waiting to restart a child is the parent doing its job. */
		if (e->child == 0)
			return e->sb_restart_at_us != 0;
		return atomic_load(&e->sb_alive) &&
		       vg_now_mono_us() - atomic_load(&e->sb_seen_us) <
			   (int64_t)SB_STATS_MS * 8000;
	}

	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];

		if (!w->started)
			continue;
		b = atomic_load_explicit(&w->beats, memory_order_relaxed);
		if (b == w->beats_seen || atomic_load(&w->exited))
			alive = 0;
		w->beats_seen = b;
	}
	return alive;
}

int
vg_engine_wait_sources(struct vg_engine *e, unsigned timeout_ms)
{
	int64_t until = vg_now_mono_us() + (int64_t)timeout_ms * 1000;
	unsigned s;

	for (;;) {
		int all = 1;

		if (e->sandboxed) {
			vg_engine_tick(e);
			if (e->sb_finished)
				return 1;
			if (vg_now_mono_us() >= until)
				return 0;
			usleep(10000);
			continue;
		}

		for (s = 0; s < e->n_sources; s++)
			if (!atomic_load(&e->sources[s].done))
				all = 0;
		if (all)
			return 1;
		if (vg_now_mono_us() >= until)
			return 0;
		usleep(10000);
	}
}

/* Totals over all threads' snapshots. */
struct totals {
	struct source_counters src;
	struct worker_counters wk;
	struct vg_output_stats out;
};

static void
collect(struct vg_engine *e, struct totals *t)
{
	unsigned i, j;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		pthread_mutex_lock(&s->mu);
		t->src.packets += s->snap.packets;
		t->src.bytes += s->snap.bytes;
		t->src.ring_drops += s->snap.ring_drops;
		t->src.oversize += s->snap.oversize;
		t->src.read_errors += s->snap.read_errors;
		for (j = 0; j < VG_DEC__COUNT; j++)
			t->src.reasons[j] += s->snap.reasons[j];
		t->src.cap.kernel_packets += s->snap.cap.kernel_packets;
		t->src.cap.kernel_drops += s->snap.cap.kernel_drops;
		t->src.cap.if_drops += s->snap.cap.if_drops;
		pthread_mutex_unlock(&s->mu);
	}
	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];
		struct worker_counters *c = &w->snap;

		pthread_mutex_lock(&w->mu);
		t->wk.packets += c->packets;
		t->wk.events += c->events;
		t->wk.event_errors += c->event_errors;
		t->wk.flows_ended += c->flows_ended;
		t->wk.flow.active += c->flow.active;
		t->wk.flow.created += c->flow.created;
		t->wk.flow.ended_idle += c->flow.ended_idle;
		t->wk.flow.ended_active += c->flow.ended_active;
		t->wk.flow.evicted += c->flow.evicted;
		t->wk.flow.alloc_failed += c->flow.alloc_failed;
		t->wk.flow.frag_matched += c->flow.frag_matched;
		t->wk.flow.frag_orphan += c->flow.frag_orphan;
		t->wk.flow.dpi_idle += c->flow.dpi_idle;
		t->wk.dpi.dpi_packets += c->dpi.dpi_packets;
		t->wk.dpi.detected += c->dpi.detected;
		t->wk.dpi.guessed += c->dpi.guessed;
		t->wk.dpi.unknown += c->dpi.unknown;
		t->wk.dpi.alloc_failed += c->dpi.alloc_failed;
		t->wk.alert_events += c->alert_events;
		for (j = 0; j < VG_ARRAY_LEN(c->alerts_sev); j++)
			t->wk.alerts_sev[j] += c->alerts_sev[j];
		t->wk.det.evaluated += c->det.evaluated;
		t->wk.det.matched += c->det.matched;
		t->wk.det.alerts += c->det.alerts;
		t->wk.det.suppressed += c->det.suppressed;
		t->wk.det.geo_hits += c->det.geo_hits;
		t->wk.det.geo_misses += c->det.geo_misses;
		t->wk.det.regex_errors += c->det.regex_errors;
		pthread_mutex_unlock(&w->mu);
	}
	if (e->out)
		vg_output_stats(e->out, &t->out);
	else
		t->out = e->final_out;
}

static uint64_t
malformed(const struct totals *t)
{
	uint64_t n = 0;
	unsigned j;

	for (j = 0; j < VG_DEC__COUNT; j++)
		if (j != VG_DEC_OK && j != VG_DEC_NOT_IP)
			n += t->src.reasons[j];
	return n;
}

/* CPU time of the process and its resident memory now. */
static void
self_usage(uint64_t *user_ms, uint64_t *sys_ms, uint64_t *rss_kb)
{
	struct rusage ru;
	unsigned long pages = 0, resident = 0;
	FILE *f;

	*user_ms = *sys_ms = *rss_kb = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		*user_ms = (uint64_t)ru.ru_utime.tv_sec * 1000 +
			   (uint64_t)ru.ru_utime.tv_usec / 1000;
		*sys_ms = (uint64_t)ru.ru_stime.tv_sec * 1000 +
			  (uint64_t)ru.ru_stime.tv_usec / 1000;
	}
	f = fopen("/proc/self/statm", "r");
	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &pages, &resident) == 2)
			*rss_kb = (uint64_t)resident *
				  (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
		fclose(f);
	}
}

_Static_assert(96 + 32 + VG_DEC__COUNT <= VG_ENGINE_STATS_MAX,
	       "a stats snapshot may not fit VG_ENGINE_STATS_MAX");

/* The counters of a stats event into kv (room entries); stats_mu held. */
static size_t
stats_kv(struct vg_engine *e, struct vg_stat_kv *kv, size_t room)
{
	uint64_t ru_user_ms, ru_sys_ms, rss_kb;
	struct vg_detect_state_stats ds;
	const struct vg_detect *d = atomic_load(&e->detect);
	struct totals t;
	size_t n = 0;
	unsigned j;

	collect(e, &t);
#define KV(k, v) kv[n++] = (struct vg_stat_kv){(k), (v)}
	KV("capture.packets", t.src.packets);
	KV("capture.bytes", t.src.bytes);
	KV("capture.kernel_packets", t.src.cap.kernel_packets);
	KV("capture.kernel_drops", t.src.cap.kernel_drops);
	KV("capture.if_drops", t.src.cap.if_drops);
	KV("capture.ring_drops", t.src.ring_drops);
	KV("capture.oversize", t.src.oversize);
	KV("capture.read_errors", t.src.read_errors);
	KV("decoder.pkts", t.src.reasons[VG_DEC_OK]);
	KV("decoder.invalid", malformed(&t));
	for (j = 1; j < VG_DEC__COUNT; j++)
		if (t.src.reasons[j])
			KV(e->reason_keys[j], t.src.reasons[j]);
	KV("flow.active", t.wk.flow.active);
	KV("flow.total", t.wk.flow.created);
	KV("flow.ended", t.wk.flows_ended);
	KV("flow.timeout_idle", t.wk.flow.ended_idle);
	KV("flow.timeout_active", t.wk.flow.ended_active);
	KV("flow.evicted", t.wk.flow.evicted);
	KV("flow.alloc_failed", t.wk.flow.alloc_failed);
	KV("flow.frag_matched", t.wk.flow.frag_matched);
	KV("flow.frag_orphan", t.wk.flow.frag_orphan);
	KV("ndpi.dpi_packets", t.wk.dpi.dpi_packets);
	KV("ndpi.idle_giveups", t.wk.flow.dpi_idle);
	KV("ndpi.detected", t.wk.dpi.detected);
	KV("ndpi.guessed", t.wk.dpi.guessed);
	KV("ndpi.unknown", t.wk.dpi.unknown);
	KV("ndpi.alloc_failed", t.wk.dpi.alloc_failed);
	if (e->sandboxed) {
		pthread_mutex_lock(&e->sb_mu);
		ds = e->sb_ds;
		pthread_mutex_unlock(&e->sb_mu);
	} else {
		vg_detect_state_stats(e->dstate, &ds);
	}
	KV("detect.rules", d ? vg_detect_rules_enabled(d) : 0);
	KV("detect.lists", d ? vg_detect_list_count(d) : 0);
	KV("detect.list_entries", d ? vg_detect_list_entries(d) : 0);
	KV("detect.evaluated", t.wk.det.evaluated);
	KV("detect.matched", t.wk.det.matched);
	KV("detect.alerts", t.wk.det.alerts);
	/* Alert events by severity (1 high .. 4 info), for dashboards. */
	KV("detect.alerts_severity_1", t.wk.alerts_sev[1]);
	KV("detect.alerts_severity_2", t.wk.alerts_sev[2]);
	KV("detect.alerts_severity_3", t.wk.alerts_sev[3]);
	KV("detect.alerts_severity_4", t.wk.alerts_sev[4]);
	KV("detect.suppressed", t.wk.det.suppressed);
	KV("detect.regex_errors", t.wk.det.regex_errors);
	KV("detect.state_entries", ds.entries);
	KV("detect.state_evicted", ds.evicted);
	KV("detect.state_alloc_failed", ds.alloc_failed);
	KV("detect.reloads", e->reloads);
	KV("detect.reload_failures", e->reload_failures);
	KV("geoip.cache_hits", t.wk.det.geo_hits);
	KV("geoip.cache_misses", t.wk.det.geo_misses);
	KV("output.events", t.out.events);
	KV("output.dropped", t.out.dropped);
	KV("output.queued", t.out.queued);
	KV("output.write_errors", t.out.write_errors);
	KV("output.encode_errors", t.wk.event_errors);
	KV("output.file_rotations", t.out.rotations);
	KV("output.syslog_sent", t.out.syslog_sent);
	KV("output.syslog_errors", t.out.syslog_errors);
	if (t.out.redis_on) {
		KV("output.redis.connected", (uint64_t)t.out.redis_connected);
		KV("output.redis.sent", t.out.redis_sent);
		KV("output.redis.reply_errors", t.out.redis_reply_errors);
		KV("output.redis.connects", t.out.redis_connects);
		KV("output.redis.connect_errors", t.out.redis_connect_errors);
		KV("output.redis.dropped", t.out.redis_dropped);
		KV("output.redis.queued", t.out.redis_queued);
		KV("spool.spooled", t.out.spool_spooled);
		KV("spool.full_drops", t.out.spool_full);
		KV("spool.errors", t.out.spool_errors);
		KV("spool.pending", t.out.spool_pending);
		KV("spool.bytes", t.out.spool_bytes);
		KV("spool.torn", t.out.spool_torn);
	}
	self_usage(&ru_user_ms, &ru_sys_ms, &rss_kb);
	KV("agent.cpu_user_ms", ru_user_ms);
	KV("agent.cpu_sys_ms", ru_sys_ms);
	KV("agent.rss_kb", rss_kb);
	KV("agent.rules_generation", d ? vg_detect_generation(d) : 0);
	if (e->sandboxed) {
		KV("sandbox.restarts", e->sb_restarts);
		KV("sandbox.last_signal", (uint64_t)e->sb_last_signal);
		KV("sandbox.malformed", atomic_load(&e->sb_malformed));
		KV("sandbox.child_pid", (uint64_t)e->child);
	}
#undef KV
	if (e->stats_fn && n < room)
		n += e->stats_fn(e->stats_arg, kv + n, room - n);
	return n;
}

size_t
vg_engine_stats(struct vg_engine *e, struct vg_stat_kv *kv, size_t room,
		double *uptime_s)
{
	size_t n;

	unsigned i;

	if (room < VG_ENGINE_STATS_MAX)
		return 0;
	pthread_mutex_lock(&e->stats_mu);
	n = stats_kv(e, kv, room);
	pthread_mutex_unlock(&e->stats_mu);
	/* Each live interface's share of the capture totals: the same
	 * snapshots collect() adds up. Not in the stats event, whose keys
	 * nest on '.', which interface names may hold. */
	for (i = 0; i < e->n_sources && n + 4 <= room; i++) {
		struct source *s = &e->sources[i];

		if (s->iface == NULL)
			continue;
		pthread_mutex_lock(&s->mu);
		kv[n++] =
		    (struct vg_stat_kv){s->iface_keys[0], s->snap.packets};
		kv[n++] = (struct vg_stat_kv){s->iface_keys[1],
					      s->snap.cap.kernel_drops};
		kv[n++] =
		    (struct vg_stat_kv){s->iface_keys[2], s->snap.cap.if_drops};
		kv[n++] =
		    (struct vg_stat_kv){s->iface_keys[3], s->snap.ring_drops};
		pthread_mutex_unlock(&s->mu);
	}
	*uptime_s = (double)(vg_now_mono_us() - e->start_mono_us) / 1e6;
	return n;
}

void
vg_engine_emit_stats(struct vg_engine *e)
{
	struct vg_stat_kv kv[VG_ENGINE_STATS_MAX];
	struct vg_buf b;
	size_t n;
	double uptime;

	if (e->out == NULL)
		return;
	pthread_mutex_lock(&e->stats_mu);
	n = stats_kv(e, kv, VG_ARRAY_LEN(kv));
	uptime = (double)(vg_now_mono_us() - e->start_mono_us) / 1e6;
	vg_buf_init(&b, (size_t)e->cfg->event_max_bytes + 4096);
	if (vg_event_stats(&b, &e->ctx, kv, n, uptime, vg_now_wall_us()) ==
	    VG_OK)
		(void)vg_output_submit(e->out, &b, 1);
	vg_buf_fini(&b);
	pthread_mutex_unlock(&e->stats_mu);
}

/* ------------------------------------------------------------------ */
/* Privilege separation: the packet path in a child (sandbox.h)        */

/* Child: hand a worker's events to the parent, in messages of whole
 * lines. Events that cannot be sent are counted as encoding errors. */
static void
child_send_events(struct worker *w)
{
	const char *p = w->out.data, *end = p + w->out.len;

	while (p < end) {
		const char *cut = p, *nl;
		unsigned lines = 0;

		/* As many whole lines as a message holds (a line is at most
		 * output.event_max_bytes, well under a message). */
		while (cut < end &&
		       (nl = memchr(cut, '\n', (size_t)(end - cut))) != NULL &&
		       (size_t)(nl + 1 - p) <= VG_SB_MAX_PAYLOAD) {
			cut = nl + 1;
			lines++;
		}
		if (lines == 0) {
			/* No line end, or one line over the limit: drop it. */
			nl = memchr(p, '\n', (size_t)(end - p));
			w->c.event_errors++;
			p = nl ? nl + 1 : end;
			continue;
		}
		if (vg_sb_send(w->e->child_fd, VG_SB_EVENTS, p,
			       (size_t)(cut - p)) != VG_OK)
			w->c.event_errors += lines;
		p = cut;
	}
	vg_buf_reset(&w->out);
	w->out_events = 0;
}

static void
add_u64s(void *dst, const void *a, const void *b, size_t bytes)
{
	uint64_t *d = dst, x, y;
	const uint8_t *pa = a, *pb = b;
	size_t i;

	for (i = 0; i < bytes / sizeof(uint64_t); i++) {
		memcpy(&x, pa + i * sizeof(x), sizeof(x));
		memcpy(&y, pb + i * sizeof(y), sizeof(y));
		d[i] = x + y;
	}
}

/* Child: its counters now. */
static void
child_collect(struct vg_engine *e, struct child_counters *cc)
{
	struct totals t;
	unsigned i, j;

	memset(cc, 0, sizeof(*cc));
	collect(e, &t);
	cc->wk = t.wk;
	for (i = 0; i < e->n_sources; i++) {
		pthread_mutex_lock(&e->sources[i].mu);
		cc->src[i] = e->sources[i].snap;
		pthread_mutex_unlock(&e->sources[i].mu);
	}
	/* Plain counters the workers own: a report may lag by a few. */
	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];

		for (j = 0; j < MAX_PROTO_IDS; j++)
			cc->proto_flows[j] += w->proto_flows[j];
		for (j = 0; j < MAX_RISK_IDS; j++)
			cc->risk_flows[j] += w->risk_flows[j];
		cc->risky_flows += w->risky_flows;
	}
	vg_detect_state_stats(e->dstate, &cc->ds);
	cc->alive = (uint64_t)vg_engine_alive(e);
}

static void
child_report(struct vg_engine *e)
{
	struct child_counters *cc = malloc(sizeof(*cc));

	if (cc == NULL)
		return;
	child_collect(e, cc);
	(void)vg_sb_send(e->child_fd, VG_SB_STATS, cc, sizeof(*cc));
	free(cc);
}

/*
 * End the pipeline: the capture threads stop (breakloop: wake the live
 * handles this process reads), then the workers drain their rings.
 */
static void
join_pipeline(struct vg_engine *e, int breakloop)
{
	unsigned i;

	atomic_store(&e->stop_capture, 1);
	for (i = 0; breakloop && i < e->n_sources; i++)
		if (e->sources[i].live)
			vg_capture_breakloop(e->sources[i].live);
	for (i = 0; i < e->n_sources; i++)
		if (e->sources[i].started)
			pthread_join(e->sources[i].th, NULL);
	atomic_store(&e->drain, 1);
	for (i = 0; i < e->n_workers; i++)
		if (e->workers[i].started)
			pthread_join(e->workers[i].th, NULL);
}

/* Child: the packet path, until the parent says stop (or goes away) or,
 * in a replay, the files end. Never returns. */
static void __attribute__((noreturn)) child_main(struct vg_engine *e, int fd)
{
	int keep[MAX_SOURCES * SB_MAX_FILES < 4096 ? MAX_SOURCES * SB_MAX_FILES
						   : 4096];
	unsigned n_keep = 0, i;
	int64_t next_report = 0;
	char err[512];
	int j, stop = 0;

	e->out = NULL; /* the parent's: its thread is not here */
	e->child_fd = fd;
	e->sb_fd = -1;
	e->sandboxed = 0;
	/* The journal's socket is closed: log lines go to the stderr the
	 * child shares with its parent (journald's stream under systemd). */
	if (vg_log_get_target() != VG_LOG_STDERR)
		vg_log_set_target(VG_LOG_STDERR);
	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		if (s->live && n_keep < VG_ARRAY_LEN(keep))
			keep[n_keep++] = vg_capture_fd(s->live);
		for (j = 0; s->pre && j < s->n_paths; j++)
			if (s->pre[j] && n_keep < VG_ARRAY_LEN(keep))
				keep[n_keep++] = vg_capture_fd(s->pre[j]);
	}
	if (vg_sandbox_enter(VG_SB_PACKETS, keep, n_keep, fd, e->sb_starts == 1,
			     err, sizeof(err)) != VG_OK) {
		vg_log(LOG_ERR, "packet child: %s", err);
		_exit(70);
	}
	if (start_threads(e, err, sizeof(err)) != VG_OK) {
		vg_log(LOG_ERR, "packet child: %s", err);
		_exit(70);
	}
	while (!stop) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int64_t now;

		if (poll(&pfd, 1, 50) > 0) {
			uint8_t buf[VG_SB_HDR + 16];
			struct vg_sb_msg m;
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);

			if (n <= 0 && !(n < 0 && errno == EINTR))
				break; /* the parent is gone: drain, end */
			if (n > 0 &&
			    vg_sb_decode(buf, (size_t)n,
					 sizeof(struct child_counters), &m, err,
					 sizeof(err)) == VG_OK &&
			    (m.type == VG_SB_STOP || m.type == VG_SB_RELOAD)) {
				if (m.type == VG_SB_RELOAD)
					e->end_reason = "reload";
				stop = 1;
			}
		}
		if (e->o.offline && vg_engine_wait_sources(e, 0))
			stop = 1;
		now = vg_now_mono_us();
		if (now >= next_report) {
			child_report(e);
			next_report = now + SB_STATS_MS * 1000;
		}
	}
	join_pipeline(e, 1);
	child_report(e);
	(void)vg_sb_send(fd, VG_SB_BYE, NULL, 0);
	_exit(0);
}

/* Parent, s->mu held: the kernel's counters of a live source. */
static void
sb_cap_sum(struct source *s)
{
	s->snap.cap.kernel_packets =
	    s->pcap_base.kernel_packets + s->pcap_now.kernel_packets;
	s->snap.cap.kernel_drops =
	    s->pcap_base.kernel_drops + s->pcap_now.kernel_drops;
	s->snap.cap.if_drops = s->pcap_base.if_drops + s->pcap_now.if_drops;
}

/* Parent, main thread: read them on the parent's copy of each handle
 * (the same socket as the child's). */
static void
sb_cap_stats(struct vg_engine *e)
{
	struct vg_capture_stats st;
	unsigned i;

	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		if (s->iface == NULL || s->live == NULL)
			continue;
		vg_capture_stats(s->live, &st);
		pthread_mutex_lock(&s->mu);
		s->pcap_now = st;
		sb_cap_sum(s);
		pthread_mutex_unlock(&s->mu);
	}
}

/* Parent: the counters of children that ended plus the running one's,
 * into the snapshots collect() and the summary read (the parent's own
 * workers never run). sb_mu held. */
static void
sb_publish(struct vg_engine *e)
{
	struct child_counters *sum = malloc(sizeof(*sum));
	struct worker *w0 = &e->workers[0];
	unsigned i;

	if (sum == NULL)
		return;
	add_u64s(sum, e->sb_base, e->sb_cur, sizeof(*sum));
	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		pthread_mutex_lock(&s->mu);
		s->snap = sum->src[i];
		if (s->iface != NULL)
			sb_cap_sum(s);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&w0->mu);
	w0->snap = sum->wk;
	pthread_mutex_unlock(&w0->mu);
	memcpy(w0->proto_flows, sum->proto_flows, sizeof(w0->proto_flows));
	memcpy(w0->risk_flows, sum->risk_flows, sizeof(w0->risk_flows));
	w0->risky_flows = sum->risky_flows;
	e->sb_ds = sum->ds;
	free(sum);
}

static void
sb_malformed(struct vg_engine *e, const char *why)
{
	static struct vg_ratelimit rl;

	atomic_fetch_add(&e->sb_malformed, 1);
	if (vg_ratelimit_ok(&rl, 5, 60))
		vg_log(LOG_WARNING,
		       "sandbox: packet child %d: message refused: %s",
		       (int)e->child, why);
}

/* Parent: one message from the child, checked. */
static void
sb_handle(struct vg_engine *e, const uint8_t *buf, size_t n)
{
	struct vg_sb_msg m;
	char err[256];
	unsigned n_events;

	if (vg_sb_decode(buf, n, sizeof(struct child_counters), &m, err,
			 sizeof(err)) != VG_OK) {
		sb_malformed(e, err);
		return;
	}
	switch (m.type) {
	case VG_SB_EVENTS:
		if (vg_sb_check_events(m.payload, m.len,
				       (size_t)e->cfg->event_max_bytes + 1,
				       &n_events, err, sizeof(err)) != VG_OK) {
			sb_malformed(e, err);
			return;
		}
		(void)vg_output_submit_bytes(e->out, m.payload, m.len,
					     n_events);
		break;
	case VG_SB_STATS:
		pthread_mutex_lock(&e->sb_mu);
		memcpy(e->sb_cur, m.payload, sizeof(*e->sb_cur));
		sb_publish(e);
		atomic_store(&e->sb_alive, e->sb_cur->alive == 1);
		pthread_mutex_unlock(&e->sb_mu);
		atomic_store(&e->sb_seen_us, vg_now_mono_us());
		break;
	case VG_SB_BYE:
		break;
	default: /* STOP, RELOAD: the parent's to send; the scanner's */
		sb_malformed(e, "a message type the packet child never sends");
		break;
	}
}

static void *
sb_reader_main(void *arg)
{
	struct vg_engine *e = arg;
	size_t cap = VG_SB_HDR + VG_SB_MAX_PAYLOAD;
	uint8_t *buf = malloc(cap);
	ssize_t n;

	while (buf != NULL) {
		/* MSG_TRUNC: a larger message says so, and vg_sb_decode()
		 * refuses it before reading past cap. */
		n = recv(e->sb_fd, buf, cap, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the child ended (or its end closed) */
		sb_handle(e, buf, (size_t)n);
	}
	free(buf);
	return NULL;
}

/* Parent: fork a packet child on the open capture handles; its messages
 * wait in the socketpair until sb_read_start(). */
static enum vg_err
sb_fork(struct vg_engine *e, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "sandbox: socketpair: %s",
			 strerror(errno));
		return VG_EIO;
	}
	e->sb_starts++;
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "sandbox: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return VG_EIO;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(e, sv[1]);
	}
	close(sv[1]);
	e->child = pid;
	e->sb_fd = sv[0];
	e->sb_started_us = vg_now_mono_us();
	atomic_store(&e->sb_seen_us, e->sb_started_us);
	atomic_store(&e->sb_alive, 1);
	return VG_OK;
}

/* Parent: the thread that reads the child's messages into the output. */
static enum vg_err
sb_read_start(struct vg_engine *e, char *err, size_t errlen)
{
	pid_t pid = e->child;

	if (pthread_create(&e->sb_reader, NULL, sb_reader_main, e) != 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		e->child = 0;
		close(e->sb_fd);
		e->sb_fd = -1;
		snprintf(err, errlen,
			 "sandbox: cannot start the reader thread");
		return VG_EIO;
	}
	e->sb_reader_started = 1;
	vg_log(LOG_INFO, "sandbox: packet child %d started", (int)pid);
	return VG_OK;
}

static void *
sb_noop(void *arg)
{
	return arg;
}

/*
 * The C library sets up its own signal handlers the first time a process
 * creates a thread (rt_sigaction, which the child's filter refuses): one
 * thread made and joined here, before the first fork, does that for the
 * children too.
 */
static enum vg_err
sb_thread_init(char *err, size_t errlen)
{
	pthread_t th;

	if (pthread_create(&th, NULL, sb_noop, NULL) != 0) {
		snprintf(err, errlen, "sandbox: cannot create a thread");
		return VG_EIO;
	}
	pthread_join(th, NULL);
	return VG_OK;
}

/* Parent: a new packet child (a restart), read at once. */
static enum vg_err
sb_spawn(struct vg_engine *e, char *err, size_t errlen)
{
	enum vg_err rc = sb_fork(e, err, errlen);

	return rc == VG_OK ? sb_read_start(e, err, errlen) : rc;
}

/* Parent: the child has ended (status from waitpid): read what it sent,
 * keep its counters. */
static void
sb_reaped(struct vg_engine *e)
{
	if (e->sb_reader_started) {
		pthread_join(e->sb_reader, NULL);
		e->sb_reader_started = 0;
	}
	if (e->sb_fd >= 0)
		close(e->sb_fd);
	e->sb_fd = -1;
	e->child = 0;
	pthread_mutex_lock(&e->sb_mu);
	e->sb_cur->wk.flow.active = 0;
	e->sb_cur->ds.entries = 0;
	add_u64s(e->sb_base, e->sb_base, e->sb_cur, sizeof(*e->sb_base));
	memset(e->sb_cur, 0, sizeof(*e->sb_cur));
	sb_publish(e);
	pthread_mutex_unlock(&e->sb_mu);
}

/* Parent: ask the child to end its flows and drain (type: VG_SB_STOP,
 * or VG_SB_RELOAD), and wait for it (SIGKILL after SB_STOP_MS). */
static void
sb_stop_child(struct vg_engine *e, uint32_t type)
{
	int64_t until = vg_now_mono_us() + (int64_t)SB_STOP_MS * 1000;
	int st;

	if (e->child == 0)
		return;
	(void)vg_sb_send(e->sb_fd, type, NULL, 0);
	while (waitpid(e->child, &st, WNOHANG) == 0) {
		if (vg_now_mono_us() >= until) {
			vg_log(LOG_ERR,
			       "sandbox: packet child %d did not stop; killed",
			       (int)e->child);
			kill(e->child, SIGKILL);
			(void)waitpid(e->child, &st, 0);
			break;
		}
		usleep(5000);
	}
	sb_reaped(e);
}

/* Parent: close and reopen the live capture handles (a new child must
 * not start where the old one's ring left off). */
static enum vg_err
sb_reopen(struct vg_engine *e, char *err, size_t errlen)
{
	unsigned i;
	enum vg_err rc;

	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		if (s->iface == NULL)
			continue;
		if (s->live != NULL) {
			vg_capture_stats(s->live, &s->pcap_now);
			pthread_mutex_lock(&s->mu);
			s->pcap_base.kernel_packets +=
			    s->pcap_now.kernel_packets;
			s->pcap_base.kernel_drops += s->pcap_now.kernel_drops;
			s->pcap_base.if_drops += s->pcap_now.if_drops;
			memset(&s->pcap_now, 0, sizeof(s->pcap_now));
			pthread_mutex_unlock(&s->mu);
		}
		vg_capture_close(s->live);
		s->live = NULL;
		rc = vg_capture_open_live(&s->live, s->iface, err, errlen);
		if (rc != VG_OK)
			return rc;
	}
	return VG_OK;
}

static void
sb_agent_event(struct vg_engine *e, const char *status, const char *text)
{
	struct vg_buf b;

	if (e->out == NULL)
		return;
	vg_buf_init(&b, (size_t)e->cfg->event_max_bytes + 4096);
	if (vg_event_agent(&b, &e->ctx, "sandbox", status, text,
			   vg_now_wall_us()) == VG_OK)
		(void)vg_output_submit(e->out, &b, 1);
	vg_buf_fini(&b);
}

enum vg_err
vg_engine_start_sandboxed(struct vg_engine *e, char *err, size_t errlen)
{
	struct vg_output_opts oo;
	unsigned i;
	int j;
	enum vg_err rc;

	if (e->n_sources == 0) {
		snprintf(err, errlen,
			 "nothing to capture from: list interfaces "
			 "under capture.interfaces");
		return VG_EINVAL;
	}
	e->sb_base = calloc(1, sizeof(*e->sb_base));
	e->sb_cur = calloc(1, sizeof(*e->sb_cur));
	if (e->sb_base == NULL || e->sb_cur == NULL)
		return VG_ENOMEM;
	/* Replay files: opened here, read by the child. */
	for (i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		if (s->paths == NULL)
			continue;
		if (s->n_paths > SB_MAX_FILES) {
			snprintf(err, errlen,
				 "sandbox: more than %d capture files; replay "
				 "them in parts or set sandbox.packets: false",
				 SB_MAX_FILES);
			return VG_ELIMIT;
		}
		s->pre = vg_calloc((size_t)s->n_paths, sizeof(*s->pre));
		if (s->pre == NULL)
			return VG_ENOMEM;
		for (j = 0; j < s->n_paths; j++) {
			rc = vg_capture_open_file(&s->pre[j], s->paths[j], err,
						  errlen);
			if (rc != VG_OK)
				return rc;
		}
	}
	e->start_mono_us = vg_now_mono_us();
	e->sandboxed = 1;
	e->started = 1;
	e->sb_backoff_s = 1;
	/* What the encoder loads on first use (OpenSSL reads its
	 * configuration file), loaded here, where files can be read and
	 * before any fork, so that no child has to take OpenSSL's locks
	 * while another thread of the parent might hold them. */
	{
		struct vg_flow_info fi;
		char cid[64];

		memset(&fi, 0, sizeof(fi));
		fi.ip_version = 4;
		fi.proto = 6;
		if (vg_community_id(cid, 0, &fi) != VG_OK)
			vg_log(LOG_DEBUG, "sandbox: no SHA-1 for community_id");
	}
	/* The replay files stay open here until the engine is freed:
	 * closing a stream moves the file offset the child shares.
	 * The first child is forked before the output starts its threads
	 * (the publisher, the Redis sender): no lock can then be held at
	 * the fork by a thread the child does not have. Restarts fork
	 * with those threads running, which glibc's malloc and the log
	 * (log.c) allow for. */
	rc = sb_thread_init(err, errlen);
	if (rc == VG_OK)
		rc = sb_fork(e, err, errlen);
	if (rc != VG_OK)
		return rc;
	vg_output_opts_from(&oo, e->cfg, e->o.output, e->o.offline);
	rc = vg_output_open_opts(&e->out, &oo, err, errlen);
	if (rc == VG_OK) {
		snprintf(e->out_name, sizeof(e->out_name), "%s",
			 vg_output_name(e->out));
		rc = sb_read_start(e, err, errlen);
	}
	if (rc != VG_OK && e->child != 0) {
		kill(e->child, SIGKILL);
		(void)waitpid(e->child, NULL, 0);
		e->child = 0;
		if (e->sb_fd >= 0)
			close(e->sb_fd);
		e->sb_fd = -1;
	}
	return rc;
}

/* The next start in sb_backoff_s seconds; the one after waits twice as
 * long, up to SB_BACKOFF_MAX_S. */
static void
sb_back_off(struct vg_engine *e)
{
	e->sb_restart_at_us =
	    vg_now_mono_us() + (int64_t)e->sb_backoff_s * 1000000;
	e->sb_backoff_s = e->sb_backoff_s * 2 > SB_BACKOFF_MAX_S
			      ? SB_BACKOFF_MAX_S
			      : e->sb_backoff_s * 2;
}

void
vg_engine_tick(struct vg_engine *e)
{
	char text[256], err[512];
	int st;
	pid_t r;

	if (!e->sandboxed || e->stopped)
		return;
	sb_cap_stats(e);
	if (e->child != 0) {
		r = waitpid(e->child, &st, WNOHANG);
		if (r <= 0)
			return; /* running (or EINTR: the next tick) */
		snprintf(text, sizeof(text), "packet child %d %s %d%s%s",
			 (int)e->child,
			 WIFSIGNALED(st) ? "died by signal" : "exited with",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
			 WIFSIGNALED(st) ? " " : "",
			 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
		sb_reaped(e);
		if (e->o.offline) {
			/* A replay is not restarted: the files were read. */
			e->sb_finished = 1;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				vg_log(LOG_ERR, "sandbox: %s", text);
				/* With the children's counters, or the next
				 * publish would take it back. */
				pthread_mutex_lock(&e->sb_mu);
				e->sb_base->src[0].read_errors++;
				sb_publish(e);
				pthread_mutex_unlock(&e->sb_mu);
				e->sb_last_signal =
				    WIFSIGNALED(st) ? WTERMSIG(st) : 0;
			}
			return;
		}
		e->sb_restarts++;
		e->sb_last_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		/* A child that ran a while starts the backoff over. */
		if (vg_now_mono_us() - e->sb_started_us >
		    (int64_t)SB_BACKOFF_MAX_S * 2000000)
			e->sb_backoff_s = 1;
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "; restarting in %u s", e->sb_backoff_s);
		vg_log(LOG_ERR, "sandbox: %s", text);
		sb_agent_event(e, "failed", text);
		sb_back_off(e);
		return;
	}
	if (e->sb_restart_at_us == 0 || vg_now_mono_us() < e->sb_restart_at_us)
		return;
	if (sb_reopen(e, err, sizeof(err)) != VG_OK ||
	    sb_spawn(e, err, sizeof(err)) != VG_OK) {
		vg_log(LOG_ERR, "sandbox: restart failed (again in %u s): %s",
		       e->sb_backoff_s, err);
		sb_back_off(e);
		return;
	}
	e->sb_restart_at_us = 0;
}

void
vg_engine_stop(struct vg_engine *e)
{
	if (!e->started || e->stopped)
		return;
	e->stopped = 1;
	if (e->sandboxed) {
		/* The child drains; the reader hands its last events over. */
		sb_cap_stats(e);
		sb_stop_child(e, VG_SB_STOP);
		e->sb_restart_at_us = 0;
	}
	/* Sandboxed, the captures run in the child, not here. */
	join_pipeline(e, !e->sandboxed);
	if (e->cfg->stats_interval)
		vg_engine_emit_stats(e);
	/* Redis: a replay waits for its alerts to be delivered (or kept in
	 * the spool, on disk); the daemon gives it a moment. */
	if (e->cfg->redis_url &&
	    !vg_output_drain(e->out, e->o.offline
					 ? e->cfg->redis_drain_timeout * 1000
					 : 2000))
		vg_log(LOG_WARNING, "redis: not everything was delivered; the "
				    "alerts wait in the spool for the next "
				    "start");
	vg_output_close(e->out, &e->final_out);
	e->out = NULL;
}

struct vg_detect *
vg_engine_detect(struct vg_engine *e)
{
	return atomic_load(&e->detect);
}

struct vg_detect *
vg_engine_swap_detect(struct vg_engine *e, struct vg_detect *d)
{
	struct vg_detect *old = atomic_exchange(&e->detect, d);
	unsigned i;

	e->reloads++;
	if (!e->started)
		return old;
	if (e->sandboxed) {
		char err[512];

		/* The child holds the old set and cannot read files: it ends
		 * its flows ("reload") and drains, a new one starts on the
		 * new set with fresh capture handles. */
		sb_stop_child(e, VG_SB_RELOAD);
		if (e->sb_restart_at_us == 0 &&
		    (sb_reopen(e, err, sizeof(err)) != VG_OK ||
		     sb_spawn(e, err, sizeof(err)) != VG_OK)) {
			vg_log(LOG_ERR, "sandbox: restart after reload: %s",
			       err);
			e->sb_restart_at_us = vg_now_mono_us() + 1000000;
		}
		return old;
	}
	/* Wait until no worker can still be reading the old set: each takes
	 * up the new one between two batches (at most a millisecond when
	 * idle). */
	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];

		while (w->started &&
		       atomic_load_explicit(&w->det_seen,
					    memory_order_acquire) != d &&
		       !atomic_load(&w->exited))
			usleep(200);
	}
	return old;
}

void
vg_engine_reload_failed(struct vg_engine *e, const char *errors)
{
	struct vg_buf b;

	e->reload_failures++;
	if (e->out == NULL)
		return;
	vg_buf_init(&b, (size_t)e->cfg->event_max_bytes + 4096);
	if (vg_event_agent(&b, &e->ctx, "reload", "failed", errors,
			   vg_now_wall_us()) == VG_OK)
		(void)vg_output_submit(e->out, &b, 1);
	vg_buf_fini(&b);
}

void
vg_engine_reloaded(struct vg_engine *e, const char *detail)
{
	struct vg_buf b;

	if (e->out == NULL)
		return;
	vg_buf_init(&b, (size_t)e->cfg->event_max_bytes + 4096);
	if (vg_event_agent(&b, &e->ctx, "reload", "ok", detail,
			   vg_now_wall_us()) == VG_OK)
		(void)vg_output_submit(e->out, &b, 1);
	vg_buf_fini(&b);
}

struct vg_output *
vg_engine_output(struct vg_engine *e)
{
	return e->out;
}

const struct vg_event_ctx *
vg_engine_ctx(struct vg_engine *e)
{
	return &e->ctx;
}

void
vg_engine_set_stats_hook(struct vg_engine *e, vg_engine_stats_fn fn, void *arg)
{
	pthread_mutex_lock(&e->stats_mu);
	e->stats_fn = fn;
	e->stats_arg = arg;
	pthread_mutex_unlock(&e->stats_mu);
}

uint64_t
vg_engine_read_errors(struct vg_engine *e)
{
	struct totals t;

	collect(e, &t);
	return t.src.read_errors;
}

struct count_row {
	const char *name;
	uint64_t n;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct count_row *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Alerts by rule, most first. */
static void
summary_alerts(struct vg_engine *e, const struct totals *t, FILE *out)
{
	const struct vg_detect *d = atomic_load(&e->detect);
	struct count_row *rows;
	char(*names)[160];
	unsigned i, n = 0, nr;

	if (d == NULL)
		return;
	nr = vg_detect_rule_count(d);
	fprintf(out, "  alerts:         %" PRIu64 " (%u rules enabled",
		t->wk.det.alerts, vg_detect_rules_enabled(d));
	if (t->wk.det.suppressed)
		fprintf(out, ", %" PRIu64 " suppressed", t->wk.det.suppressed);
	fprintf(out, ")\n");
	rows = calloc(nr ? nr : 1, sizeof(*rows));
	names = calloc(nr ? nr : 1, sizeof(*names));
	if (rows == NULL || names == NULL)
		goto out;
	for (i = 0; i < nr; i++) {
		const struct vg_rule_meta *r = vg_detect_rule(d, i);
		uint64_t c = vg_detect_rule_alerts(d, i);

		if (c == 0)
			continue;
		snprintf(names[n], sizeof(names[n]), "%-8" PRIu32 " %.50s%s",
			 r->id, r->name, strlen(r->name) > 50 ? "..." : "");
		rows[n] = (struct count_row){names[n], c};
		n++;
	}
	qsort(rows, n, sizeof(rows[0]), row_cmp);
	for (i = 0; i < n; i++)
		fprintf(out, "    %-60s %" PRIu64 "\n", rows[i].name,
			rows[i].n);
out:
	free(rows);
	free(names);
}

void
vg_engine_summary(struct vg_engine *e, FILE *out)
{
	struct count_row rows[MAX_PROTO_IDS];
	uint64_t risk[MAX_RISK_IDS] = {0}, risky = 0;
	struct totals t;
	size_t n = 0;
	unsigned i, j;

	collect(e, &t);
	fprintf(out, "vigil-agent %s replay summary\n", VG_VERSION);
	fprintf(out, "  packets:        %" PRIu64 " (%" PRIu64 " bytes)\n",
		t.src.packets, t.src.bytes);
	fprintf(out,
		"  decoded:        %" PRIu64 " IP packets, %" PRIu64
		" not IP, %" PRIu64 " malformed\n",
		t.src.reasons[VG_DEC_OK], t.src.reasons[VG_DEC_NOT_IP],
		malformed(&t));
	for (j = 2; j < VG_DEC__COUNT; j++)
		if (t.src.reasons[j])
			fprintf(out, "    %-22s %" PRIu64 "\n",
				vg_decode_reason_name(j), t.src.reasons[j]);
	if (t.src.read_errors)
		fprintf(out, "  read errors:    %" PRIu64 "\n",
			t.src.read_errors);
	fprintf(out,
		"  flows:          %" PRIu64 " (%" PRIu64
		" classified by DPI, %" PRIu64 " guessed, %" PRIu64
		" unknown)\n",
		t.wk.flows_ended, t.wk.dpi.detected, t.wk.dpi.guessed,
		t.wk.dpi.unknown);
	if (t.wk.flow.evicted)
		fprintf(out, "  evicted flows:  %" PRIu64 " (flows.max)\n",
			t.wk.flow.evicted);
	if (t.wk.flow.frag_matched || t.wk.flow.frag_orphan)
		fprintf(out,
			"  fragments:      %" PRIu64 " on their flow, %" PRIu64
			" orphans\n",
			t.wk.flow.frag_matched, t.wk.flow.frag_orphan);

	/* Flows by protocol, most first. Names come from worker 0's nDPI
	 * module: every module has the same table. */
	for (i = 0; i < MAX_PROTO_IDS; i++) {
		uint64_t c = 0;

		for (j = 0; j < e->n_workers; j++)
			c += e->workers[j].proto_flows[i];
		if (c)
			rows[n++] = (struct count_row){
			    vg_classify_proto_name(e->workers[0].cl, i), c};
	}
	qsort(rows, n, sizeof(rows[0]), row_cmp);
	fprintf(out, "  flows by protocol:\n");
	for (i = 0; i < n; i++)
		fprintf(out, "    %-24s %" PRIu64 "\n", rows[i].name,
			rows[i].n);

	for (j = 0; j < e->n_workers; j++) {
		risky += e->workers[j].risky_flows;
		for (i = 0; i < MAX_RISK_IDS; i++)
			risk[i] += e->workers[j].risk_flows[i];
	}
	n = 0;
	for (i = 1; i < MAX_RISK_IDS; i++)
		if (risk[i] && vg_classify_risk_name(i))
			rows[n++] = (struct count_row){vg_classify_risk_name(i),
						       risk[i]};
	qsort(rows, n, sizeof(rows[0]), row_cmp);
	fprintf(out, "  risks seen:     %" PRIu64 " flows with risks\n", risky);
	for (i = 0; i < n; i++)
		fprintf(out, "    %-40s %" PRIu64 "\n", rows[i].name,
			rows[i].n);
	summary_alerts(e, &t, out);
	fprintf(out, "  events:         %" PRIu64 " written to %s",
		t.out.events, e->out_name[0] ? e->out_name : "(none)");
	if (t.out.dropped || t.out.write_errors || t.wk.event_errors)
		fprintf(out,
			" (%" PRIu64 " dropped, %" PRIu64
			" write errors, %" PRIu64 " too large)",
			t.out.dropped, t.out.write_errors, t.wk.event_errors);
	fprintf(out, "\n");
}

void
vg_engine_free(struct vg_engine *e)
{
	unsigned i, s;

	if (e == NULL)
		return;
	vg_engine_stop(e);
	for (i = 0; i < e->n_workers; i++) {
		struct worker *w = &e->workers[i];

		/* Flows still in a table (start failed) go without events. */
		vg_flow_table_free(w->ft, 1);
		vg_classifier_free(w->cl);
		vg_detect_worker_free(w->dw);
		vg_buf_fini(&w->out);
		for (s = 0; s < MAX_SOURCES; s++)
			vg_ring_fini(&w->rings[s]);
		pthread_mutex_destroy(&w->mu);
	}
	for (s = 0; s < e->n_sources; s++) {
		vg_capture_close(e->sources[s].live);
		pthread_mutex_destroy(&e->sources[s].mu);
	}
	if (e->out)
		vg_output_close(e->out, NULL);
	pthread_mutex_destroy(&e->stats_mu);
	pthread_mutex_destroy(&e->sb_mu);
	free(e->sb_base);
	free(e->sb_cur);
	for (s = 0; s < e->n_sources; s++) {
		for (i = 0;
		     e->sources[s].pre && i < (unsigned)e->sources[s].n_paths;
		     i++)
			vg_capture_close(e->sources[s].pre[i]);
		free(e->sources[s].pre);
	}
	vg_detect_state_free(e->dstate);
	free(e->workers);
	free(e);
}
