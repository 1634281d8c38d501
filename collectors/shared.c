/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collectors' shared view in Redis (see shared.h): the Lua script
 * that records events and reads the aggregates, the consumer's writing
 * side, and each collector's reading side (a thread tailing the recent
 * stream into the store, cached reads for the HTTP API).
 *
 * Why one script: the dedupe and the counts must change together, or a
 * collector dying between the two would count an event twice or never.
 * Redis runs a script atomically, and in Cluster mode it may touch any
 * key of the slot it was routed to: hence the one hash tag. The script
 * is sent once with SCRIPT LOAD for its SHA1; a server that does not
 * know it (restarted, or another cluster master) answers NOSCRIPT, and
 * the call is sent again with EVAL, which also caches it there.
 *
 * Times inside the script are microseconds since the epoch, passed as
 * strings: Lua turns numbers into text with 14 significant digits, which
 * would round them, so the script never prints a time it computed.
 */
#include "shared.h"

#include "log.h"
#include "redis.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_US        (60 * INT64_C(1000000))
#define TOP_N         10
#define ADD_FIXED     9  /* ARGV before the events in mode "add" */
#define ADD_PER_EV    14 /* ARGV per event */
#define TAIL_COUNT    1000
#define MAX_CANDIDATE 1000 /* top-list candidates (the script's LIMIT) */

/*
 * The script, a line an element (C99 caps a string literal at 4095
 * bytes); script_text() joins them once. KEYS are the seen set, the
 * recent stream and the agents' index; ARGV[1] is the mode (add, series,
 * agents) and ARGV[2] the key prefix.
 */
static const char *const script_lines[] = {
    "local mode, p = ARGV[1], ARGV[2]\n",
    "local seen, recent, agents = KEYS[1], KEYS[2], KEYS[3]\n",
    "local function hincr(k, f, max)\n",
    "  if redis.call('HEXISTS', k, f) == 1 or redis.call('HLEN', k) < max "
    "then\n",
    "    redis.call('HINCRBY', k, f, 1)\n",
    "  end\n",
    "end\n",
    "local function zincr(k, m, max, exp)\n",
    "  if redis.call('ZSCORE', k, m) or redis.call('ZCARD', k) < max then\n",
    "    redis.call('ZINCRBY', k, 1, m)\n",
    "    redis.call('EXPIREAT', k, exp)\n",
    "  end\n",
    "end\n",
    "if mode == 'add' then\n",
    "  local now, cutoff, nowmin = ARGV[3], ARGV[4], tonumber(ARGV[5])\n",
    "  local rmax, amax = ARGV[6], tonumber(ARGV[7])\n",
    "  local smax, fmax = tonumber(ARGV[8]), tonumber(ARGV[9])\n",
    "  local out = {}\n",
    "  redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. cutoff)\n",
    "  for i = 10, #ARGV - 13, 14 do\n",
    "    local id, ts, kind, sev, agency, sig, cc, aid, host, ver, drops, "
    "pend,\n",
    "      upt, eve = unpack(ARGV, i, i + 13)\n",
    "    -- only what is counted needs the dedupe; the agent update is\n",
    "    -- idempotent (newest time wins)\n",
    "    local new = 1\n",
    "    if eve ~= '' then new = redis.call('ZADD', seen, 'NX', now, id) end\n",
    "    local t = tonumber(ts)\n",
    "    out[#out + 1] = new\n",
    "    if new == 1 and t then\n",
    "      if eve ~= '' then\n",
    "        redis.call('XADD', recent, 'MAXLEN', '~', rmax, '*', 'eve', "
    "eve)\n",
    "        local m = math.floor(t / 60000000)\n",
    "        if m <= nowmin + 1 and m > nowmin - 1440 then\n",
    "          local mk = p .. 'm:' .. m\n",
    "          local exp = (m + 1) * 60 + 90000\n",
    "          redis.call('HINCRBY', mk, sev, 1)\n",
    "          if agency ~= '' then hincr(mk, sev .. '|' .. agency, fmax + 4) "
    "end\n",
    "          redis.call('EXPIREAT', mk, exp)\n",
    "          if kind == 'a' and sig ~= '' then\n",
    "            zincr(p .. 'sig:' .. m, sig, fmax, exp)\n",
    "          end\n",
    "          if kind == 'a' and cc ~= '' then\n",
    "            zincr(p .. 'cc:' .. m, cc, fmax, exp)\n",
    "          end\n",
    "        end\n",
    "      end\n",
    "      if aid ~= '' then\n",
    "        local ak = p .. 'agent:' .. aid\n",
    "        if redis.call('ZSCORE', agents, aid) or\n",
    "           redis.call('ZCARD', agents) < amax then\n",
    "          local ls = tonumber(redis.call('HGET', ak, 'last_seen') or "
    "'')\n",
    "          if not ls or t >= ls then\n",
    "            if agency ~= '' then redis.call('HSET', ak, 'agency', agency) "
    "end\n",
    "            if host ~= '' then redis.call('HSET', ak, 'host', host) end\n",
    "            if ver ~= '' then redis.call('HSET', ak, 'version', ver) "
    "end\n",
    "            redis.call('HSET', ak, 'last_seen', ts)\n",
    "            redis.call('ZADD', agents, ts, aid)\n",
    "          end\n",
    "          local hb = tonumber(redis.call('HGET', ak, 'hb') or '')\n",
    "          if kind == 's' and (not hb or t > hb) then\n",
    "            if hb and t - hb >= 1000000 and t - hb <= 3600000000 then\n",
    "              redis.call('HSET', ak, 'interval', string.format('%d', t - "
    "hb))\n",
    "            end\n",
    "            redis.call('HSET', ak, 'hb', ts, 'drops', drops, 'pending', "
    "pend,\n",
    "              'uptime', upt)\n",
    "          end\n",
    "        end\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "  local n = redis.call('ZCARD', seen)\n",
    "  if n > smax then redis.call('ZREMRANGEBYRANK', seen, 0, n - smax - 1) "
    "end\n",
    "  return out\n",
    "end\n",
    "if mode == 'series' then\n",
    "  local first, last, topn = tonumber(ARGV[3]), tonumber(ARGV[4]),\n",
    "    tonumber(ARGV[5])\n",
    "  local counts, sk, ck = {}, {}, {}\n",
    "  for m = first, last do\n",
    "    local v = redis.call('HMGET', p .. 'm:' .. m, '1', '2', '3', '4')\n",
    "    for j = 1, 4 do counts[#counts + 1] = tonumber(v[j]) or 0 end\n",
    "    if redis.call('EXISTS', p .. 'sig:' .. m) == 1 then\n",
    "      sk[#sk + 1] = p .. 'sig:' .. m\n",
    "    end\n",
    "    if redis.call('EXISTS', p .. 'cc:' .. m) == 1 then\n",
    "      ck[#ck + 1] = p .. 'cc:' .. m\n",
    "    end\n",
    "  end\n",
    "  local function top(keys)\n",
    "    if #keys == 0 then return {} end\n",
    "    local tmp = p .. 'tmp'\n",
    "    redis.call('ZUNIONSTORE', tmp, #keys, unpack(keys))\n",
    "    local cut = redis.call('ZREVRANGE', tmp, topn - 1, topn - 1, "
    "'WITHSCORES')\n",
    "    local r\n",
    "    if #cut == 0 then\n",
    "      r = redis.call('ZRANGE', tmp, 0, -1, 'WITHSCORES')\n",
    "    else\n",
    "      r = redis.call('ZRANGEBYSCORE', tmp, cut[2], '+inf', "
    "'WITHSCORES',\n",
    "        'LIMIT', 0, 1000)\n",
    "    end\n",
    "    redis.call('DEL', tmp)\n",
    "    return r\n",
    "  end\n",
    "  return {counts, top(sk), top(ck)}\n",
    "end\n",
    "if mode == 'agents' then\n",
    "  local ids = redis.call('ZRANGE', agents, 0, -1)\n",
    "  local out = {}\n",
    "  for _, id in ipairs(ids) do\n",
    "    local v = redis.call('HMGET', p .. 'agent:' .. id, 'agency', "
    "'host',\n",
    "      'version', 'last_seen', 'hb', 'interval', 'drops', 'pending', "
    "'uptime')\n",
    "    out[#out + 1] = id\n",
    "    for j = 1, 9 do out[#out + 1] = v[j] or '' end\n",
    "  end\n",
    "  return out\n",
    "end\n",
    "return redis.error_reply('ERR vigil: unknown mode')\n",
};

#define SCRIPT_MAX 8192

static char script[SCRIPT_MAX];
static size_t script_len;
static pthread_once_t script_once = PTHREAD_ONCE_INIT;

static void
script_join(void)
{
	for (size_t i = 0; i < VG_ARRAY_LEN(script_lines); i++) {
		size_t n = strlen(script_lines[i]);

		if (script_len + n >= sizeof(script))
			abort(); /* SCRIPT_MAX too small: a build mistake */
		memcpy(script + script_len, script_lines[i], n);
		script_len += n;
	}
}

static const char *
script_text(size_t *len)
{
	pthread_once(&script_once, script_join);
	*len = script_len;
	return script;
}

void
vc_shared_prefix(const struct vc_config *cfg, char buf[VC_SHARED_MAX_PREFIX])
{
	snprintf(buf, VC_SHARED_MAX_PREFIX,
		 "vigil:center:{%s}:", cfg->center_name);
}

/* ---- Preparing an event ---- */

static const char *
ev_str(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* A non-negative integer at o.a.b.c, or -1. */
static json_int_t
ev_uint(json_t *o, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	if (c != NULL)
		v = json_object_get(v, c);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return json_integer_value(v);
}

/* s into dst (size bytes) when it fits and holds no NUL; else "". */
static void
copy_capped(char *dst, size_t size, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	dst[0] = '\0';
	if (s != NULL && n < size)
		memcpy(dst, s, n + 1);
}

static void
put_uint(char dst[24], json_int_t v)
{
	if (v < 0)
		dst[0] = '\0';
	else
		snprintf(dst, 24, "%lld", (long long)v);
}

void
vc_shared_prepare(struct vc_shared_ev *e, json_t *ev, const uint8_t key[16],
		  const char *line, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *type = ev_str(ev, "event_type", NULL);
	const char *id = ev_str(ev, "vigil", "event_id");
	json_t *sev = json_object_get(json_object_get(ev, "alert"), "severity");
	json_t *sid =
	    json_object_get(json_object_get(ev, "alert"), "signature_id");
	const char *sig = ev_str(ev, "alert", "signature");
	json_int_t kd, rd;
	int64_t ts;
	int have_ts;

	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i < 16; i++) {
		e->id[2 * i] = hex[key[i] >> 4];
		e->id[2 * i + 1] = hex[key[i] & 15];
	}
	have_ts = vc_parse_time(ev_str(ev, "timestamp", NULL), &ts) == VG_OK;
	if (have_ts)
		snprintf(e->ts, sizeof(e->ts), "%lld", (long long)ts);
	e->kind[0] = 'o';
	/* The same rule as the store's: what it would keep. */
	if (type != NULL && have_ts && vc_is_uuid(id) &&
	    (strcmp(type, "alert") == 0 || strcmp(type, "fileinfo") == 0)) {
		e->kind[0] = type[0];
		e->eve = line;
		e->eve_len = len;
	} else if (type != NULL && strcmp(type, "stats") == 0)
		e->kind[0] = 's';
	e->sev[0] = '4';
	if (json_is_integer(sev) && json_integer_value(sev) >= 1 &&
	    json_integer_value(sev) <= 4)
		e->sev[0] = (char)('0' + json_integer_value(sev));
	copy_capped(e->agency, sizeof(e->agency),
		    ev_str(ev, "vigil", "agency"));
	if (sig != NULL && *sig != '\0' && strlen(sig) <= VC_SHARED_MAX_SIG) {
		if (json_is_integer(sid))
			snprintf(e->sig, sizeof(e->sig), "%lld|%s",
				 (long long)json_integer_value(sid), sig);
		else
			snprintf(e->sig, sizeof(e->sig), "|%s", sig);
	}
	copy_capped(e->country, sizeof(e->country),
		    json_string_value(json_object_get(
			json_object_get(json_object_get(ev, "geoip"), "src"),
			"country_iso")));
	copy_capped(e->agent, sizeof(e->agent),
		    ev_str(ev, "vigil", "agent_id"));
	copy_capped(e->host, sizeof(e->host), ev_str(ev, "host", NULL));
	copy_capped(e->version, sizeof(e->version),
		    ev_str(ev, "vigil", "agent_version"));
	if (e->kind[0] != 's')
		return;
	kd = ev_uint(ev, "stats", "capture", "kernel_drops");
	rd = ev_uint(ev, "stats", "capture", "ring_drops");
	if (kd >= 0 && rd >= 0)
		put_uint(e->drops, kd > INT64_MAX - rd ? INT64_MAX : kd + rd);
	else
		put_uint(e->drops, kd >= 0 ? kd : rd);
	put_uint(e->pending, ev_uint(ev, "stats", "spool", "pending"));
	put_uint(e->uptime, ev_uint(ev, "stats", "uptime", NULL));
}

/* ---- Calling the script ---- */

/* The three keys every call names (routing: the first). */
struct keys {
	char seen[VC_SHARED_MAX_PREFIX + 8], recent[VC_SHARED_MAX_PREFIX + 8],
	    agents[VC_SHARED_MAX_PREFIX + 8];
	char prefix[VC_SHARED_MAX_PREFIX];
};

static void
keys_init(struct keys *k, const struct vc_config *cfg)
{
	vc_shared_prefix(cfg, k->prefix);
	snprintf(k->seen, sizeof(k->seen), "%sseen", k->prefix);
	snprintf(k->recent, sizeof(k->recent), "%srecent", k->prefix);
	snprintf(k->agents, sizeof(k->agents), "%sagents", k->prefix);
}

/*
 * argv[0..1] are left for the command and the script; argv[2] is "3",
 * argv[3..5] the keys. VG_OK with *out (not an ERROR reply), VG_EIO
 * (connection, or an ERROR reply: err quotes it), VG_ENOMEM.
 */
static enum vg_err
call(struct vg_redis *r, struct vc_shared_script *sc, int argc,
     const char **argv, size_t *lens, struct vg_redis_reply **out, char *err,
     size_t errlen)
{
	struct vg_redis_reply *rep = NULL;
	char esc[200];
	enum vg_err rc;

	*out = NULL;
	if (sc->sha[0] == '\0') {
		const char *lv[] = {"SCRIPT", "LOAD", NULL};
		size_t ll[] = {6, 4, 0};

		lv[2] = script_text(&ll[2]);
		rc = vg_redis_command(r, 3, lv, ll, -1, &rep, err, errlen);
		if (rc != VG_OK)
			return rc;
		if (rep->type != VG_REPLY_STRING ||
		    rep->len >= sizeof(sc->sha) || rep->len == 0) {
			vg_seterr(err, errlen, "SCRIPT LOAD: %s",
				  rep->type == VG_REPLY_ERROR
				      ? vg_escape(esc, sizeof(esc), rep->str,
						  rep->len)
				      : "unexpected reply");
			vg_redis_reply_free(rep);
			return VG_EIO;
		}
		memcpy(sc->sha, rep->str, rep->len + 1);
		vg_redis_reply_free(rep);
	}
	argv[0] = "EVALSHA";
	argv[1] = sc->sha;
	lens[0] = 7;
	lens[1] = strlen(sc->sha);
	rc = vg_redis_command(r, argc, argv, lens, 3, &rep, err, errlen);
	if (rc == VG_OK && rep->type == VG_REPLY_ERROR &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		vg_redis_reply_free(rep);
		argv[0] = "EVAL";
		argv[1] = script_text(&lens[1]);
		lens[0] = 4;
		rc =
		    vg_redis_command(r, argc, argv, lens, 3, &rep, err, errlen);
	}
	if (rc != VG_OK)
		return rc;
	if (rep->type == VG_REPLY_ERROR) {
		vg_seterr(err, errlen, "script: %s",
			  vg_escape(esc, sizeof(esc), rep->str, rep->len));
		vg_redis_reply_free(rep);
		return VG_EIO;
	}
	*out = rep;
	return VG_OK;
}

/* The fixed head of every call: 6 slots, then mode and prefix. */
static int
head(const char **argv, size_t *lens, const struct keys *k, const char *mode)
{
	argv[2] = "3";
	argv[3] = k->seen;
	argv[4] = k->recent;
	argv[5] = k->agents;
	argv[6] = mode;
	argv[7] = k->prefix;
	for (int i = 2; i < 8; i++)
		lens[i] = strlen(argv[i]);
	return 8;
}

enum vg_err
vc_shared_record(struct vg_redis *r, const struct vc_config *cfg,
		 struct vc_shared_script *sc, const struct vc_shared_ev *e,
		 size_t n, uint64_t *n_new, char *err, size_t errlen)
{
	enum { MAXARGS = 8 + ADD_FIXED - 2 + ADD_PER_EV * VC_SHARED_PER_CALL };
	char num[7][24];
	const char **argv;
	size_t *lens;
	struct keys k;
	int64_t now = vg_now_wall_us();
	enum vg_err rc = VG_OK;

	if (n_new)
		*n_new = 0;
	argv = vg_calloc(MAXARGS, sizeof(*argv));
	lens = vg_calloc(MAXARGS, sizeof(*lens));
	if (argv == NULL || lens == NULL) {
		rc = VG_ENOMEM;
		goto out;
	}
	keys_init(&k, cfg);
	snprintf(num[0], 24, "%lld", (long long)now);
	snprintf(num[1], 24, "%lld", (long long)(now - VC_SHARED_SEEN_AGE_US));
	snprintf(num[2], 24, "%lld",
		 (long long)(now / MIN_US)); /* now > 0: no floor needed */
	snprintf(num[3], 24, "%u", cfg->center_recent);
	snprintf(num[4], 24, "%u", cfg->center_max_agents);
	snprintf(num[5], 24, "%u", VC_SHARED_SEEN_MAX);
	snprintf(num[6], 24, "%u", VC_SHARED_MIN_FIELDS);
	for (size_t done = 0; done < n && rc == VG_OK;) {
		size_t m = n - done < VC_SHARED_PER_CALL ? n - done
							 : VC_SHARED_PER_CALL;
		int argc = head(argv, lens, &k, "add");
		struct vg_redis_reply *rep = NULL;

		for (int j = 0; j < 7; j++) {
			argv[argc] = num[j];
			lens[argc++] = strlen(num[j]);
		}
		for (size_t i = done; i < done + m; i++) {
			const struct vc_shared_ev *x = &e[i];
			const char *f[ADD_PER_EV] = {
			    x->id,      x->ts,
			    x->kind,    x->sev,
			    x->agency,  x->sig,
			    x->country, x->agent,
			    x->host,    x->version,
			    x->drops,   x->pending,
			    x->uptime,  x->eve ? x->eve : ""};

			for (int j = 0; j < ADD_PER_EV; j++) {
				argv[argc] = f[j];
				lens[argc++] = strlen(f[j]);
			}
			lens[argc - 1] = x->eve ? x->eve_len : 0;
		}
		rc = call(r, sc, argc, argv, lens, &rep, err, errlen);
		if (rc != VG_OK)
			break;
		if (rep->type == VG_REPLY_ARRAY && n_new)
			for (size_t i = 0; i < rep->n; i++)
				*n_new += rep->elements[i]->type ==
					      VG_REPLY_INTEGER &&
					  rep->elements[i]->integer == 1;
		vg_redis_reply_free(rep);
		done += m;
	}
out:
	free(argv);
	free(lens);
	return rc;
}

/* ---- The reading side ---- */

struct vc_view {
	const struct vc_config *cfg;
	struct vc_store *store;
	struct keys k;
	pthread_t tid;
	atomic_int stop;
	struct vg_ratelimit rl; /* the tail's messages */
	pthread_mutex_t mu;     /* the fields below */
	struct vg_ratelimit rl_read;
	struct vg_redis *r; /* reads; NULL: connect on the next one */
	struct vc_shared_script sc;
	json_t *series; /* cached answer for series_minutes, or NULL */
	unsigned series_minutes;
	int64_t series_at; /* monotonic us */
	json_t *agents;
	int64_t agents_at;
};

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static json_t *
utc_string(int64_t us)
{
	char buf[32];
	struct tm tm;
	time_t t = (time_t)floor_div(us, 1000000);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(buf);
}

static enum vg_err
view_connect(struct vc_view *v, struct vg_redis **r, unsigned io_ms, char *err,
	     size_t errlen)
{
	struct vg_redis_opts o;

	vc_config_redis_opts(v->cfg, &o);
	o.io_timeout_ms = io_ms;
	return vg_redis_connect(r, &o, err, errlen);
}

static void
tail_sleep(struct vc_view *v, unsigned ms)
{
	while (ms > 0 && !atomic_load(&v->stop)) {
		unsigned step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Entries of one XREAD reply into the store; last advanced. */
static void
tail_entries(struct vc_view *v, const struct vg_redis_reply *rep, char last[48])
{
	for (size_t s = 0; rep->type == VG_REPLY_ARRAY && s < rep->n; s++) {
		const struct vg_redis_reply *sr = rep->elements[s], *ents;

		if (sr->type != VG_REPLY_ARRAY || sr->n != 2 ||
		    sr->elements[1]->type != VG_REPLY_ARRAY)
			continue;
		ents = sr->elements[1];
		for (size_t i = 0; i < ents->n; i++) {
			const struct vg_redis_reply *e = ents->elements[i], *kv;

			if (e->type != VG_REPLY_ARRAY || e->n != 2 ||
			    e->elements[0]->type != VG_REPLY_STRING ||
			    e->elements[0]->len >= 48)
				continue;
			memcpy(last, e->elements[0]->str,
			       e->elements[0]->len + 1);
			kv = e->elements[1];
			for (size_t j = 0;
			     kv->type == VG_REPLY_ARRAY && j + 1 < kv->n;
			     j += 2)
				if (kv->elements[j]->type == VG_REPLY_STRING &&
				    kv->elements[j]->len == 3 &&
				    memcmp(kv->elements[j]->str, "eve", 3) ==
					0 &&
				    kv->elements[j + 1]->type ==
					VG_REPLY_STRING) {
					vc_store_add(v->store,
						     kv->elements[j + 1]->str,
						     kv->elements[j + 1]->len);
				}
		}
	}
}

/* An entry ID "MS-SEQ" as two numbers; 0 when it does not parse. */
static int
parse_id(const char *id, uint64_t *ms, uint64_t *seq)
{
	char *end;

	*ms = strtoull(id, &end, 10);
	if (end == id || *end != '-')
		return 0;
	*seq = strtoull(end + 1, &end, 10);
	return *end == '\0';
}

/*
 * After a reconnect: when the stream's newest entry is older than the
 * last one seen, or the stream is gone, Redis lost its data (restarted
 * without persistence, or another server after a failover): read it
 * again from the start, or the new entries, with smaller IDs, would be
 * skipped. -1: the connection failed.
 */
static int
tail_check(struct vc_view *v, struct vg_redis *r, char last[48])
{
	const char *argv[] = {"XREVRANGE", v->k.recent, "+", "-", "COUNT", "1"};
	size_t lens[6];
	struct vg_redis_reply *rep = NULL;
	const struct vg_redis_reply *e;
	uint64_t ms, seq, lms, lseq;
	char err[256];
	int reset = 0;

	if (strcmp(last, "0") == 0)
		return 0;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	if (vg_redis_command(r, 6, argv, lens, 1, &rep, err, sizeof(err)) !=
	    VG_OK)
		return -1;
	if (rep->type == VG_REPLY_ARRAY && rep->n == 0)
		reset = 1;
	else if (rep->type == VG_REPLY_ARRAY &&
		 (e = rep->elements[0])->type == VG_REPLY_ARRAY && e->n == 2 &&
		 e->elements[0]->type == VG_REPLY_STRING &&
		 parse_id(e->elements[0]->str, &ms, &seq) &&
		 parse_id(last, &lms, &lseq))
		reset = ms < lms || (ms == lms && seq < lseq);
	vg_redis_reply_free(rep);
	if (reset) {
		vg_log(LOG_WARNING,
		       "view: %s is older than what was read: reading it "
		       "again from the start",
		       v->k.recent);
		snprintf(last, 48, "0");
	}
	return 0;
}

/*
 * The tail: XREAD BLOCK on the recent stream, from its start ("0") when
 * the collector starts, so a restarted one shows the recent events at
 * once; after a reconnect from the last entry seen (the store drops
 * what it has already, by event id).
 */
static void *
tail_main(void *arg)
{
	struct vc_view *v = arg;
	struct vg_redis *r = NULL;
	char last[48] = "0", count[16], block[16], err[256];
	unsigned backoff = 100;

	snprintf(count, sizeof(count), "%u", TAIL_COUNT);
	snprintf(block, sizeof(block), "%u", v->cfg->block_ms);
	while (!atomic_load(&v->stop)) {
		const char *argv[] = {"XREAD", "COUNT",   count,       "BLOCK",
				      block,   "STREAMS", v->k.recent, last};
		size_t lens[8];
		struct vg_redis_reply *rep = NULL;
		char esc[200];

		if (r == NULL) {
			if (view_connect(v, &r,
					 v->cfg->block_ms +
					     VG_REDIS_DEFAULT_TIMEOUT_MS,
					 err, sizeof(err)) != VG_OK) {
				r = NULL;
				if (vg_ratelimit_ok(&v->rl, 10, 60))
					vg_log(LOG_WARNING,
					       "view: cannot connect: %s", err);
				tail_sleep(v, backoff);
				backoff =
				    backoff * 2 > 10000 ? 10000 : backoff * 2;
				continue;
			}
			backoff = 100;
			if (tail_check(v, r, last) < 0) {
				vg_redis_close(r);
				r = NULL;
				continue;
			}
		}
		for (int i = 0; i < 8; i++)
			lens[i] = strlen(argv[i]);
		if (vg_redis_command(r, 8, argv, lens, 6, &rep, err,
				     sizeof(err)) != VG_OK) {
			if (vg_ratelimit_ok(&v->rl, 10, 60))
				vg_log(LOG_WARNING, "view: XREAD: %s", err);
			vg_redis_close(r);
			r = NULL;
			continue;
		}
		if (rep->type == VG_REPLY_ERROR) {
			if (vg_ratelimit_ok(&v->rl, 10, 60))
				vg_log(LOG_WARNING, "view: XREAD: %s",
				       vg_escape(esc, sizeof(esc), rep->str,
						 rep->len));
			tail_sleep(v, 1000);
		} else
			tail_entries(v, rep, last);
		vg_redis_reply_free(rep);
	}
	vg_redis_close(r);
	return NULL;
}

enum vg_err
vc_view_start(struct vc_view **out, const struct vc_config *cfg,
	      struct vc_store *store, char *err, size_t errlen)
{
	struct vc_view *v = calloc(1, sizeof(*v));
	int rc;

	if (v == NULL)
		return VG_ENOMEM;
	v->cfg = cfg;
	v->store = store;
	keys_init(&v->k, cfg);
	if (pthread_mutex_init(&v->mu, NULL) != 0) {
		free(v);
		return VG_ENOMEM;
	}
	rc = pthread_create(&v->tid, NULL, tail_main, v);
	if (rc != 0) {
		vg_seterr(err, errlen, "view: cannot start a thread: %s",
			  strerror(rc));
		pthread_mutex_destroy(&v->mu);
		free(v);
		return VG_EIO;
	}
	*out = v;
	return VG_OK;
}

void
vc_view_free(struct vc_view *v)
{
	if (v == NULL)
		return;
	atomic_store(&v->stop, 1);
	pthread_join(v->tid, NULL);
	vg_redis_close(v->r);
	json_decref(v->series);
	json_decref(v->agents);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/* One read script call on the read connection. Locked. */
static enum vg_err
view_call(struct vc_view *v, int argc, const char **argv, size_t *lens,
	  struct vg_redis_reply **out, char *err, size_t errlen)
{
	enum vg_err rc;

	*out = NULL;
	if (v->r == NULL &&
	    (rc = view_connect(v, &v->r, VG_REDIS_DEFAULT_TIMEOUT_MS, err,
			       errlen)) != VG_OK) {
		v->r = NULL;
		if (vg_ratelimit_ok(&v->rl_read, 10, 60))
			vg_log(LOG_WARNING, "view: cannot connect: %s", err);
		return rc == VG_ENOMEM ? rc : VG_EIO;
	}
	rc = call(v->r, &v->sc, argc, argv, lens, out, err, errlen);
	if (rc != VG_OK && vg_ratelimit_ok(&v->rl_read, 10, 60))
		vg_log(LOG_WARNING, "view: %s", err);
	if (rc == VG_EIO) {
		/* Connection or refusal: start afresh next time. */
		vg_redis_close(v->r);
		v->r = NULL;
		v->sc.sha[0] = '\0';
	}
	return rc;
}

/* A signature or a country among the top-list candidates. */
struct cand {
	const char *key; /* borrowed from the reply */
	size_t len;
	long long sid;
	int has_sid;
	long long count;
};

static int
cmp_cand(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	c = memcmp(a->key, b->key, n);
	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->has_sid != b->has_sid)
		return a->has_sid - b->has_sid;
	return (a->sid > b->sid) - (a->sid < b->sid);
}

/* [member, score, ...] into a top list (sigs: "SID|signature"). */
static json_t *
top_list(const struct vg_redis_reply *r, int sigs)
{
	json_t *arr = json_array();
	struct cand *c = NULL;
	size_t n = 0, i;

	if (arr == NULL)
		return NULL;
	if (r->type != VG_REPLY_ARRAY || r->n == 0)
		return arr;
	c = vg_calloc(r->n / 2 + 1, sizeof(*c));
	if (c == NULL)
		goto fail;
	for (i = 0; i + 1 < r->n && n < MAX_CANDIDATE; i += 2) {
		const struct vg_redis_reply *m = r->elements[i],
					    *s = r->elements[i + 1];
		const char *bar;
		char *end;

		if (m->type != VG_REPLY_STRING || s->type != VG_REPLY_STRING)
			continue;
		c[n].count = strtoll(s->str, &end, 10);
		c[n].key = m->str;
		c[n].len = m->len;
		if (sigs) {
			bar = memchr(m->str, '|', m->len);
			if (bar == NULL)
				continue;
			if (bar > m->str) {
				c[n].sid = strtoll(m->str, NULL, 10);
				c[n].has_sid = 1;
			}
			c[n].key = bar + 1;
			c[n].len = m->len - (size_t)(bar + 1 - m->str);
		}
		if (c[n].count > 0)
			n++;
	}
	qsort(c, n, sizeof(*c), cmp_cand);
	for (i = 0; i < n && i < TOP_N; i++) {
		json_t *o, *name = json_stringn(c[i].key, c[i].len);

		if (name == NULL)
			continue; /* not UTF-8: not shown */
		if (sigs)
			o = json_pack(
			    "{s:o s:o s:I}", "signature", name, "signature_id",
			    c[i].has_sid ? json_integer(c[i].sid) : json_null(),
			    "count", (json_int_t)c[i].count);
		else
			o = json_pack("{s:o s:I}", "country", name, "count",
				      (json_int_t)c[i].count);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto fail;
	}
	free(c);
	return arr;
fail:
	free(c);
	json_decref(arr);
	return NULL;
}

enum vg_err
vc_view_timeseries(struct vc_view *v, unsigned minutes, json_t **out, char *err,
		   size_t errlen)
{
	const char *argv[11];
	size_t lens[11];
	char a[3][24];
	struct vg_redis_reply *rep = NULL;
	const struct vg_redis_reply *cnt;
	json_t *mins = NULL, *sigs = NULL, *ctry = NULL, *root = NULL;
	int64_t now, first, mono = vg_now_mono_us();
	enum vg_err rc = VG_OK;
	int argc;

	*out = NULL;
	if (minutes < 1)
		minutes = 1;
	if (minutes > VC_SHARED_MINUTES)
		minutes = VC_SHARED_MINUTES;
	pthread_mutex_lock(&v->mu);
	if (v->series != NULL && v->series_minutes == minutes &&
	    mono - v->series_at < VC_SHARED_CACHE_US) {
		*out = json_incref(v->series);
		goto out;
	}
	now = floor_div(vg_now_wall_us(), MIN_US);
	first = now - (int64_t)minutes + 1;
	argc = head(argv, lens, &v->k, "series");
	snprintf(a[0], 24, "%lld", (long long)first);
	snprintf(a[1], 24, "%lld", (long long)now);
	snprintf(a[2], 24, "%d", TOP_N);
	for (int j = 0; j < 3; j++) {
		argv[argc] = a[j];
		lens[argc++] = strlen(a[j]);
	}
	rc = view_call(v, argc, argv, lens, &rep, err, errlen);
	if (rc != VG_OK)
		goto out;
	if (rep->type != VG_REPLY_ARRAY || rep->n != 3 ||
	    (cnt = rep->elements[0])->type != VG_REPLY_ARRAY ||
	    cnt->n != 4 * (size_t)minutes) {
		vg_seterr(err, errlen, "script: unexpected series reply");
		rc = VG_EIO;
		goto out;
	}
	rc = VG_ENOMEM;
	if ((mins = json_array()) == NULL)
		goto out;
	for (unsigned i = 0; i < minutes; i++) {
		json_int_t c[4];
		json_t *o;

		for (int j = 0; j < 4; j++) {
			const struct vg_redis_reply *x =
			    cnt->elements[4 * (size_t)i + (size_t)j];

			c[j] = x->type == VG_REPLY_INTEGER && x->integer > 0
				   ? x->integer
				   : 0;
		}
		o = json_pack("{s:o s:I s:{s:I s:I s:I s:I}}", "t",
			      utc_string((first + i) * MIN_US), "total",
			      c[0] + c[1] + c[2] + c[3], "by_severity", "1",
			      c[0], "2", c[1], "3", c[2], "4", c[3]);
		if (o == NULL || json_array_append_new(mins, o) != 0)
			goto out;
	}
	sigs = top_list(rep->elements[1], 1);
	ctry = top_list(rep->elements[2], 0);
	if (sigs == NULL || ctry == NULL)
		goto out;
	root = json_pack("{s:o s:o s:o}", "minutes", mins, "top_signatures",
			 sigs, "top_countries", ctry);
	mins = sigs = ctry = NULL; /* json_pack took them, or freed them */
	if (root == NULL)
		goto out;
	json_decref(v->series);
	v->series = root;
	v->series_minutes = minutes;
	v->series_at = mono;
	*out = json_incref(root);
	rc = VG_OK;
out:
	pthread_mutex_unlock(&v->mu);
	json_decref(mins);
	json_decref(sigs);
	json_decref(ctry);
	vg_redis_reply_free(rep);
	return rc;
}

/* One agent record of the reply: 10 strings from elements[i]. */
struct arec {
	const struct vg_redis_reply *const *f;
};

static int
cmp_arec(const void *pa, const void *pb)
{
	const struct arec *a = pa, *b = pb;
	int c = strcmp(a->f[1]->str, b->f[1]->str);

	return c != 0 ? c : strcmp(a->f[0]->str, b->f[0]->str);
}

/* A string field: its text, or null when empty (not received). */
static json_t *
str_field(const struct vg_redis_reply *x)
{
	json_t *s = x->len ? json_stringn(x->str, x->len) : NULL;

	return s ? s : json_null();
}

static long long
num_field(const struct vg_redis_reply *x, long long dflt)
{
	char *end;
	long long n;

	if (x->len == 0)
		return dflt;
	n = strtoll(x->str, &end, 10);
	return *end == '\0' && n >= 0 ? n : dflt;
}

static json_t *
num_or_null(const struct vg_redis_reply *x)
{
	long long n = num_field(x, -1);

	return n >= 0 ? json_integer(n) : json_null();
}

enum vg_err
vc_view_agents(struct vc_view *v, json_t **out, char *err, size_t errlen)
{
	const char *argv[8];
	size_t lens[8];
	struct vg_redis_reply *rep = NULL;
	struct arec *recs = NULL;
	json_t *items = NULL, *root = NULL;
	int64_t now = vg_now_wall_us(), mono = vg_now_mono_us();
	size_t n = 0;
	enum vg_err rc;
	int argc;

	*out = NULL;
	pthread_mutex_lock(&v->mu);
	if (v->agents != NULL && mono - v->agents_at < VC_SHARED_CACHE_US) {
		*out = json_incref(v->agents);
		rc = VG_OK;
		goto out;
	}
	argc = head(argv, lens, &v->k, "agents");
	rc = view_call(v, argc, argv, lens, &rep, err, errlen);
	if (rc != VG_OK)
		goto out;
	rc = VG_EIO;
	if (rep->type != VG_REPLY_ARRAY || rep->n % 10 != 0) {
		vg_seterr(err, errlen, "script: unexpected agents reply");
		goto out;
	}
	for (size_t i = 0; i < rep->n; i++)
		if (rep->elements[i]->type != VG_REPLY_STRING) {
			vg_seterr(err, errlen, "script: unexpected agent");
			goto out;
		}
	rc = VG_ENOMEM;
	recs = vg_calloc(rep->n / 10 + 1, sizeof(*recs));
	if (recs == NULL || (items = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < rep->n; i += 10)
		recs[n++].f =
		    (const struct vg_redis_reply *const *)&rep->elements[i];
	/* By agency, then agent id ("" sorts first, as a missing agency). */
	qsort(recs, n, sizeof(*recs), cmp_arec);
	for (size_t i = 0; i < n; i++) {
		const struct vg_redis_reply *const *f = recs[i].f;
		long long ls = num_field(f[4], -1), hb = num_field(f[5], -1),
			  iv = num_field(f[6], VC_SHARED_DEF_HB_S * 1000000LL);
		json_t *o, *id = json_stringn(f[0]->str, f[0]->len);

		if (id == NULL)
			continue;
		o = json_pack("{s:o s:o s:o s:o s:o s:b s:o s:o s:o}",
			      "agent_id", id, "agency", str_field(f[1]), "host",
			      str_field(f[2]), "version", str_field(f[3]),
			      "last_seen",
			      ls >= 0 ? utc_string(ls) : json_null(), "online",
			      hb >= 0 && now - hb <= 3 * iv, "capture_drops",
			      num_or_null(f[7]), "spool_pending",
			      num_or_null(f[8]), "uptime", num_or_null(f[9]));
		if (o == NULL || json_array_append_new(items, o) != 0)
			goto out;
	}
	root = json_pack("{s:o}", "items", items);
	items = NULL;
	if (root == NULL)
		goto out;
	json_decref(v->agents);
	v->agents = root;
	v->agents_at = mono;
	*out = json_incref(root);
	rc = VG_OK;
out:
	pthread_mutex_unlock(&v->mu);
	json_decref(items);
	free(recs);
	vg_redis_reply_free(rep);
	return rc;
}
