/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nDPI classification; see classify.h.
 *
 * The give-up rules mirror ndpiReader 4.2 (example/reader_util.c), which
 * is the reference the integration tests compare against:
 *  - every packet of a flow goes to nDPI until the flow is final;
 *  - the flow is final when nDPI reports an application protocol and
 *    ndpi_extra_dissection_possible() says no more metadata is coming, or
 *    when the flow has more than tcp_max_packets (TCP) / udp_max_packets
 *    (UDP) packets; if it is still unknown then, ndpi_detection_giveup()
 *    guesses (by port, IP and partial evidence);
 *  - a flow that ends before it is final also goes through give-up.
 */
#include "classify.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndpi_api.h>
#include <ndpi_main.h>

/* The strings a finished flow keeps. */
enum meta_str {
	M_SNI,
	M_JA3,
	M_JA3S,
	M_SUBJECT,
	M_ISSUER,
	M_ALPN,
	M_HTTP_HOST,
	M_URL,
	M_UA,
	M_CTYPE,
	M_DNS_QUERY,
	M_SSH_CLIENT,
	M_SSH_SERVER,
	M__COUNT
};

#define META_ABSENT  0xffff
#define META_STR_MAX 4096 /* longest string kept (URLs are cut here) */

/* One allocation: fixed fields, then the strings back to back. */
struct vg_flow_meta {
	uint32_t notbefore;
	uint32_t notafter;
	uint16_t tls_version;
	uint16_t http_status;
	uint16_t dns_qtype;
	int16_t dns_rcode;
	uint8_t http_method;
	uint8_t confidence;
	uint16_t off[M__COUNT];
	char data[];
};

struct vg_classifier {
	struct ndpi_detection_module_struct *mod;
	struct vg_classify_opts o;
	struct vg_classify_stats st;
};

enum vg_err
vg_classifier_new(struct vg_classifier **out,
		  const struct vg_classify_opts *opts)
{
	struct vg_classifier *c;
	NDPI_PROTOCOL_BITMASK all;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return VG_ENOMEM;
	c->o = *opts;
	c->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (c->mod == NULL) {
		free(c);
		return VG_ENOMEM;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->mod, &all);
	ndpi_finalize_initialization(c->mod);
	*out = c;
	return VG_OK;
}

void
vg_classifier_free(struct vg_classifier *c)
{
	if (c == NULL)
		return;
	ndpi_exit_detection_module(c->mod);
	free(c);
}

const char *
vg_classify_ndpi_version(void)
{
	return ndpi_revision();
}

static int
is_proto(const struct ndpi_flow_struct *nf, uint16_t id)
{
	return nf->detected_protocol_stack[0] == id ||
	       nf->detected_protocol_stack[1] == id;
}

/* The protocols for which nDPI fills protos.tls_quic (a union member). */
static int
is_tls_like(const struct ndpi_flow_struct *nf)
{
	return is_proto(nf, NDPI_PROTOCOL_TLS) ||
	       is_proto(nf, NDPI_PROTOCOL_QUIC) ||
	       is_proto(nf, NDPI_PROTOCOL_DTLS) ||
	       is_proto(nf, NDPI_PROTOCOL_MAIL_SMTPS) ||
	       is_proto(nf, NDPI_PROTOCOL_MAIL_POPS) ||
	       is_proto(nf, NDPI_PROTOCOL_MAIL_IMAPS);
}

static size_t
bounded_len(const char *s, size_t max)
{
	const char *e;

	if (s == NULL)
		return 0;
	e = memchr(s, '\0', max);
	return e ? (size_t)(e - s) : max;
}

/* Copy what the finished flow must keep out of nDPI's flow state. */
static struct vg_flow_meta *
meta_collect(const struct ndpi_flow_struct *nf)
{
	const char *src[M__COUNT] = {0};
	size_t maxlen[M__COUNT], len[M__COUNT], total = 0;
	struct vg_flow_meta *m;
	int tls = is_tls_like(nf);
	int dns = is_proto(nf, NDPI_PROTOCOL_DNS);
	int ssh = is_proto(nf, NDPI_PROTOCOL_SSH);
	int http = is_proto(nf, NDPI_PROTOCOL_HTTP) ||
		   is_proto(nf, NDPI_PROTOCOL_HTTP_CONNECT) ||
		   is_proto(nf, NDPI_PROTOCOL_HTTP_PROXY) ||
		   nf->http.url != NULL;
	size_t i, pos = 0;

	for (i = 0; i < M__COUNT; i++)
		maxlen[i] = META_STR_MAX;
	if (tls) {
		src[M_SNI] = nf->host_server_name;
		maxlen[M_SNI] = sizeof(nf->host_server_name);
		src[M_JA3] = nf->protos.tls_quic.ja3_client;
		maxlen[M_JA3] = sizeof(nf->protos.tls_quic.ja3_client);
		src[M_JA3S] = nf->protos.tls_quic.ja3_server;
		maxlen[M_JA3S] = sizeof(nf->protos.tls_quic.ja3_server);
		src[M_SUBJECT] = nf->protos.tls_quic.subjectDN;
		src[M_ISSUER] = nf->protos.tls_quic.issuerDN;
		src[M_ALPN] = nf->protos.tls_quic.alpn;
	} else if (dns) {
		src[M_DNS_QUERY] = nf->host_server_name;
		maxlen[M_DNS_QUERY] = sizeof(nf->host_server_name);
	} else if (ssh) {
		src[M_SSH_CLIENT] = nf->protos.ssh.client_signature;
		maxlen[M_SSH_CLIENT] = sizeof(nf->protos.ssh.client_signature);
		src[M_SSH_SERVER] = nf->protos.ssh.server_signature;
		maxlen[M_SSH_SERVER] = sizeof(nf->protos.ssh.server_signature);
	}
	if (http) {
		src[M_HTTP_HOST] = nf->host_server_name;
		maxlen[M_HTTP_HOST] = sizeof(nf->host_server_name);
		src[M_URL] = nf->http.url;
		src[M_UA] = nf->http.user_agent;
		src[M_CTYPE] = nf->http.content_type;
	}
	for (i = 0; i < M__COUNT; i++) {
		len[i] = bounded_len(src[i], maxlen[i]);
		if (len[i])
			total += len[i] + 1;
	}
	m = calloc(1, sizeof(*m) + total);
	if (m == NULL)
		return NULL;
	for (i = 0; i < M__COUNT; i++) {
		if (len[i] == 0) {
			m->off[i] = META_ABSENT;
			continue;
		}
		m->off[i] = (uint16_t)pos;
		memcpy(m->data + pos, src[i], len[i]);
		m->data[pos + len[i]] = '\0';
		pos += len[i] + 1;
	}
	m->dns_rcode = -1;
	if (tls) {
		m->tls_version = nf->protos.tls_quic.ssl_version;
		m->notbefore = nf->protos.tls_quic.notBefore;
		m->notafter = nf->protos.tls_quic.notAfter;
	} else if (dns) {
		m->dns_qtype = nf->protos.dns.query_type;
		/* The reply code means something only once a reply came. */
		if (nf->protos.dns.num_answers || nf->protos.dns.reply_code)
			m->dns_rcode = nf->protos.dns.reply_code;
	}
	if (http) {
		m->http_status = nf->http.response_status_code;
		m->http_method = (uint8_t)nf->http.method;
	}
	m->confidence = (uint8_t)nf->confidence;
	return m;
}

static void
set_result(struct vg_flow *f, ndpi_protocol p)
{
	f->master_proto = p.master_protocol;
	f->app_proto = p.app_protocol;
	f->category = (uint16_t)p.category;
}

/* Make the classification final: give up if asked, keep the metadata,
 * free nDPI's state. */
static void
finalize(struct vg_classifier *c, struct vg_flow *f, int giveup)
{
	struct ndpi_flow_struct *nf = f->dpi;
	uint8_t guessed = 0;

	f->flags |= VG_FLOW_F_DPI_DONE;
	if (nf == NULL)
		return;
	if (giveup) {
		set_result(f, ndpi_detection_giveup(c->mod, nf, 1, &guessed));
	}
	if (f->app_proto == NDPI_PROTOCOL_UNKNOWN &&
	    f->master_proto == NDPI_PROTOCOL_UNKNOWN)
		c->st.unknown++;
	else if (giveup && (guessed || nf->confidence != NDPI_CONFIDENCE_DPI))
		c->st.guessed++;
	else
		c->st.detected++;
	f->risk = nf->risk;
	/* nDPI leaves the URL's own risks (XSS, SQL or code injection in
	 * the query, "..") to the application, as ndpiReader shows them. */
	if (nf->http.url != NULL && nf->http.url[0] != '\0') {
		ndpi_risk_enum ur = ndpi_validate_url(nf->http.url);

		if (ur != NDPI_NO_RISK && ur < 64)
			f->risk |= 1ULL << ur;
	}
	f->confidence = (uint8_t)nf->confidence;
	free(f->meta);
	f->meta = meta_collect(nf);
	ndpi_flow_free(nf);
	f->dpi = NULL;
}

void
vg_classify_packet(struct vg_classifier *c, struct vg_flow *f,
		   const struct vg_pkt *p, int64_t ts_us)
{
	struct ndpi_flow_struct *nf = f->dpi;
	ndpi_protocol r;
	uint64_t total;
	int enough;

	if (f->flags & VG_FLOW_F_DPI_DONE)
		return;
	if (nf == NULL) {
		nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
		if (nf == NULL) {
			c->st.alloc_failed++;
			f->flags |= VG_FLOW_F_DPI_DONE;
			return;
		}
		memset(nf, 0, SIZEOF_FLOW_STRUCT);
		f->dpi = nf;
	}
	total = f->pkts[0] + f->pkts[1];
	enough = (p->proto == IPPROTO_UDP && total > c->o.udp_max_packets) ||
		 (p->proto == IPPROTO_TCP && total > c->o.tcp_max_packets);
	c->st.dpi_packets++;
	f->dpi_packets++;
	/* nDPI takes a 16-bit length; a longer (GRO/TSO) frame is cut, which
	 * only hides bytes past 64 KiB from the dissectors. */
	r = ndpi_detection_process_packet(
	    c->mod, nf, p->l3,
	    (unsigned short)(p->l3_len > 65535 ? 65535 : p->l3_len),
	    (uint64_t)(ts_us / 1000));
	set_result(f, r);
	if (enough || r.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
		if (!enough && ndpi_extra_dissection_possible(c->mod, nf))
			return; /* wait for the certificate, the reply... */
		finalize(c, f, r.app_protocol == NDPI_PROTOCOL_UNKNOWN);
	}
}

void
vg_classify_finish(struct vg_classifier *c, struct vg_flow *f)
{
	if (f->flags & VG_FLOW_F_DPI_DONE)
		return;
	finalize(c, f, 1);
}

void
vg_classify_release(struct vg_flow *f)
{
	if (f->dpi) {
		ndpi_flow_free(f->dpi);
		f->dpi = NULL;
	}
	free(f->meta);
	f->meta = NULL;
}

static const char *
meta_get(const struct vg_flow_meta *m, enum meta_str i)
{
	if (m == NULL || m->off[i] == META_ABSENT)
		return NULL;
	return m->data + m->off[i];
}

static const char *
http_method_name(unsigned m)
{
	static const char *const names[] = {
	    [NDPI_HTTP_METHOD_OPTIONS] = "OPTIONS",
	    [NDPI_HTTP_METHOD_GET] = "GET",
	    [NDPI_HTTP_METHOD_HEAD] = "HEAD",
	    [NDPI_HTTP_METHOD_PATCH] = "PATCH",
	    [NDPI_HTTP_METHOD_POST] = "POST",
	    [NDPI_HTTP_METHOD_PUT] = "PUT",
	    [NDPI_HTTP_METHOD_DELETE] = "DELETE",
	    [NDPI_HTTP_METHOD_TRACE] = "TRACE",
	    [NDPI_HTTP_METHOD_CONNECT] = "CONNECT",
	};

	return m < VG_ARRAY_LEN(names) ? names[m] : NULL;
}

static const char *
tls_version_name(unsigned v)
{
	switch (v) {
	case 0x0300:
		return "SSLv3";
	case 0x0301:
		return "TLSv1";
	case 0x0302:
		return "TLSv1.1";
	case 0x0303:
		return "TLSv1.2";
	case 0x0304:
		return "TLSv1.3";
	case 0xfeff:
		return "DTLSv1.0";
	case 0xfefd:
		return "DTLSv1.2";
	default:
		return v ? "UNDETERMINED" : NULL;
	}
}

static void describe_meta(const struct vg_flow *f, struct vg_flow_info *fi);

void
vg_classify_describe(struct vg_classifier *c, const struct vg_flow *f,
		     struct vg_flow_info *fi, char *names, size_t names_len)
{
	ndpi_protocol p = {f->master_proto, f->app_proto,
			   (ndpi_protocol_category_t)f->category};
	uint16_t cli, srv;
	uint16_t lead;
	size_t i, n;
	char *lower;

	fi->risk_score = f->risk ? ndpi_risk2score(f->risk, &cli, &srv) : 0;
	fi->master_id = f->master_proto;
	fi->app_id = f->app_proto;
	fi->category_id = f->category;
	fi->risk_mask = f->risk;
	fi->confidence_id = f->confidence;
	describe_meta(f, fi);
	if (names == NULL)
		return; /* ids only: enough for rules */

	/* "TLS.Google": the string ndpiReader prints, then a lower-case
	 * copy of the leading protocol for EVE's app_proto. */
	ndpi_protocol2name(c->mod, p, names, (u_int)(names_len / 2));
	fi->ndpi_protocol = names;
	lead = f->master_proto ? f->master_proto : f->app_proto;
	if (lead != NDPI_PROTOCOL_UNKNOWN) {
		const char *ln = ndpi_get_proto_name(c->mod, lead);

		lower = names + names_len / 2;
		n = strlen(ln);
		if (n >= names_len / 2)
			n = names_len / 2 - 1;
		for (i = 0; i < n; i++)
			lower[i] = (char)tolower((unsigned char)ln[i]);
		lower[n] = '\0';
		fi->app_proto = lower;
	} else {
		fi->app_proto = NULL;
	}
	fi->ndpi_category = ndpi_category_get_name(c->mod, p.category);
	fi->ndpi_confidence =
	    ndpi_confidence_get_name((ndpi_confidence_t)f->confidence);
	fi->n_risks = 0;
	for (i = 1; i < NDPI_MAX_RISK && fi->n_risks < VG_MAX_RISKS; i++) {
		if (f->risk & (1ULL << i))
			fi->risks[fi->n_risks++] =
			    ndpi_risk2str((ndpi_risk_enum)i);
	}
}

/* The application fields of fi, pointing into f's metadata. */
static void
describe_meta(const struct vg_flow *f, struct vg_flow_info *fi)
{
	const struct vg_flow_meta *m = f->meta;

	fi->tls_sni = meta_get(m, M_SNI);
	fi->tls_ja3 = meta_get(m, M_JA3);
	fi->tls_ja3s = meta_get(m, M_JA3S);
	fi->tls_subject = meta_get(m, M_SUBJECT);
	fi->tls_issuer = meta_get(m, M_ISSUER);
	fi->tls_alpn = meta_get(m, M_ALPN);
	fi->http_host = meta_get(m, M_HTTP_HOST);
	fi->http_url = meta_get(m, M_URL);
	fi->http_user_agent = meta_get(m, M_UA);
	fi->http_content_type = meta_get(m, M_CTYPE);
	fi->dns_query = meta_get(m, M_DNS_QUERY);
	fi->ssh_client = meta_get(m, M_SSH_CLIENT);
	fi->ssh_server = meta_get(m, M_SSH_SERVER);
	if (f->flags & VG_FLOW_F_SERVER_FIRST) {
		/* nDPI took the server's banner, sent first, for the
		 * client's. */
		const char *tmp = fi->ssh_client;

		fi->ssh_client = fi->ssh_server;
		fi->ssh_server = tmp;
	}
	fi->tls_version = m ? tls_version_name(m->tls_version) : NULL;
	fi->tls_notbefore = m ? m->notbefore : 0;
	fi->tls_notafter = m ? m->notafter : 0;
	fi->http_method = m ? http_method_name(m->http_method) : NULL;
	fi->http_status = m ? m->http_status : 0;
	fi->dns_qtype = m ? m->dns_qtype : 0;
	fi->dns_rcode = m ? m->dns_rcode : -1;
}

const char *
vg_classify_proto_name(struct vg_classifier *c, unsigned id)
{
	if (id >= ndpi_get_num_supported_protocols(c->mod))
		return "Unknown";
	return ndpi_get_proto_name(c->mod, (u_int16_t)id);
}

const char *
vg_classify_risk_name(unsigned i)
{
	if (i == 0 || i >= NDPI_MAX_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)i);
}

void
vg_classify_stats(const struct vg_classifier *c, struct vg_classify_stats *st)
{
	*st = c->st;
}

/* ------------------------------------------------------------------ */
/* Names for detection rules                                           */

/*
 * Rules name protocols, categories and risks; the rule compiler turns the
 * names into nDPI ids once, at load. The tables come from one nDPI module
 * made for the purpose the first time they are needed (the ids are the
 * same in every module of this nDPI build), so that a rule set can be
 * checked without a running engine.
 */
#define NAME_MAX_PROTOS 1024
#define NAME_MAX_CATS   128

static struct {
	char *proto[NAME_MAX_PROTOS];
	unsigned n_proto;
	const char *cat[NAME_MAX_CATS];
	unsigned n_cat;
	int ok;
} names_tab;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* nDPI 4.2's risk enum, as identifiers for rules ("tls_obsolete_version");
 * the array is indexed by ndpi_risk_enum. */
#define RISK(e, s) [e] = s
static const char *const risk_ident[NDPI_MAX_RISK] = {
    RISK(NDPI_URL_POSSIBLE_XSS, "url_possible_xss"),
    RISK(NDPI_URL_POSSIBLE_SQL_INJECTION, "url_possible_sql_injection"),
    RISK(NDPI_URL_POSSIBLE_RCE_INJECTION, "url_possible_rce_injection"),
    RISK(NDPI_BINARY_APPLICATION_TRANSFER, "binary_application_transfer"),
    RISK(NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT,
	 "known_protocol_on_non_standard_port"),
    RISK(NDPI_TLS_SELFSIGNED_CERTIFICATE, "tls_selfsigned_certificate"),
    RISK(NDPI_TLS_OBSOLETE_VERSION, "tls_obsolete_version"),
    RISK(NDPI_TLS_WEAK_CIPHER, "tls_weak_cipher"),
    RISK(NDPI_TLS_CERTIFICATE_EXPIRED, "tls_certificate_expired"),
    RISK(NDPI_TLS_CERTIFICATE_MISMATCH, "tls_certificate_mismatch"),
    RISK(NDPI_HTTP_SUSPICIOUS_USER_AGENT, "http_suspicious_user_agent"),
    RISK(NDPI_HTTP_NUMERIC_IP_HOST, "http_numeric_ip_host"),
    RISK(NDPI_HTTP_SUSPICIOUS_URL, "http_suspicious_url"),
    RISK(NDPI_HTTP_SUSPICIOUS_HEADER, "http_suspicious_header"),
    RISK(NDPI_TLS_NOT_CARRYING_HTTPS, "tls_not_carrying_https"),
    RISK(NDPI_SUSPICIOUS_DGA_DOMAIN, "suspicious_dga_domain"),
    RISK(NDPI_MALFORMED_PACKET, "malformed_packet"),
    RISK(NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER,
	 "ssh_obsolete_client_version_or_cipher"),
    RISK(NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER,
	 "ssh_obsolete_server_version_or_cipher"),
    RISK(NDPI_SMB_INSECURE_VERSION, "smb_insecure_version"),
    RISK(NDPI_TLS_SUSPICIOUS_ESNI_USAGE, "tls_suspicious_esni_usage"),
    RISK(NDPI_UNSAFE_PROTOCOL, "unsafe_protocol"),
    RISK(NDPI_DNS_SUSPICIOUS_TRAFFIC, "dns_suspicious_traffic"),
    RISK(NDPI_TLS_MISSING_SNI, "tls_missing_sni"),
    RISK(NDPI_HTTP_SUSPICIOUS_CONTENT, "http_suspicious_content"),
    RISK(NDPI_RISKY_ASN, "risky_asn"),
    RISK(NDPI_RISKY_DOMAIN, "risky_domain"),
    RISK(NDPI_MALICIOUS_JA3, "malicious_ja3"),
    RISK(NDPI_MALICIOUS_SHA1_CERTIFICATE, "malicious_sha1_certificate"),
    RISK(NDPI_DESKTOP_OR_FILE_SHARING_SESSION,
	 "desktop_or_file_sharing_session"),
    RISK(NDPI_TLS_UNCOMMON_ALPN, "tls_uncommon_alpn"),
    RISK(NDPI_TLS_CERT_VALIDITY_TOO_LONG, "tls_cert_validity_too_long"),
    RISK(NDPI_TLS_SUSPICIOUS_EXTENSION, "tls_suspicious_extension"),
    RISK(NDPI_TLS_FATAL_ALERT, "tls_fatal_alert"),
    RISK(NDPI_SUSPICIOUS_ENTROPY, "suspicious_entropy"),
    RISK(NDPI_CLEAR_TEXT_CREDENTIALS, "clear_text_credentials"),
    RISK(NDPI_DNS_LARGE_PACKET, "dns_large_packet"),
    RISK(NDPI_DNS_FRAGMENTED, "dns_fragmented"),
    RISK(NDPI_INVALID_CHARACTERS, "invalid_characters"),
    RISK(NDPI_POSSIBLE_EXPLOIT, "possible_exploit"),
    RISK(NDPI_TLS_CERTIFICATE_ABOUT_TO_EXPIRE,
	 "tls_certificate_about_to_expire"),
};
#undef RISK

static void
names_build(void)
{
	struct ndpi_detection_module_struct *mod;
	unsigned i, n;

	mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (mod == NULL)
		return;
	n = ndpi_get_num_supported_protocols(mod);
	if (n > NAME_MAX_PROTOS)
		n = NAME_MAX_PROTOS;
	for (i = 0; i < n; i++) {
		const char *s = ndpi_get_proto_name(mod, (u_int16_t)i);

		names_tab.proto[i] = strdup(s ? s : "");
		if (names_tab.proto[i] == NULL)
			break;
	}
	names_tab.n_proto = i;
	/* Category names are static strings inside nDPI's library, except
	 * the user-defined ones; keep the built-in, named ones (0..32, and
	 * 99.. for Mining, Malware...). */
	for (i = 0; i < NDPI_PROTOCOL_NUM_CATEGORIES && i < NAME_MAX_CATS;
	     i++) {
		if (i >= NDPI_PROTOCOL_CATEGORY_CUSTOM_1 &&
		    i <= NDPI_PROTOCOL_CATEGORY_CUSTOM_5)
			continue;
		names_tab.cat[i] =
		    ndpi_category_get_name(mod, (ndpi_protocol_category_t)i);
		if (names_tab.cat[i] != NULL && names_tab.cat[i][0] == '\0')
			names_tab.cat[i] = NULL;
		names_tab.n_cat = i + 1;
	}
	ndpi_exit_detection_module(mod);
	names_tab.ok = names_tab.n_proto == n;
}

static int
names_ready(void)
{
	pthread_once(&names_once, names_build);
	return names_tab.ok;
}

unsigned
vg_classify_proto_count(void)
{
	return names_ready() ? names_tab.n_proto : 0;
}

const char *
vg_classify_proto_name_of(unsigned id)
{
	if (!names_ready() || id >= names_tab.n_proto)
		return NULL;
	return names_tab.proto[id];
}

int
vg_classify_proto_id(const char *name)
{
	unsigned i;

	if (!names_ready())
		return -1;
	for (i = 0; i < names_tab.n_proto; i++)
		if (strcasecmp(names_tab.proto[i], name) == 0)
			return (int)i;
	return -1;
}

unsigned
vg_classify_category_count(void)
{
	return names_ready() ? names_tab.n_cat : 0;
}

const char *
vg_classify_category_name_of(unsigned id)
{
	if (!names_ready() || id >= names_tab.n_cat)
		return NULL;
	return names_tab.cat[id];
}

int
vg_classify_category_id(const char *name)
{
	unsigned i;

	if (!names_ready())
		return -1;
	for (i = 0; i < names_tab.n_cat; i++)
		if (names_tab.cat[i] && strcasecmp(names_tab.cat[i], name) == 0)
			return (int)i;
	return -1;
}

/* nDPI 4.2's confidence values as rule identifiers, by ndpi_confidence_t */
static const char *const confidence_ident[NDPI_CONFIDENCE_MAX] = {
    [NDPI_CONFIDENCE_UNKNOWN] = "unknown",
    [NDPI_CONFIDENCE_MATCH_BY_PORT] = "match_by_port",
    [NDPI_CONFIDENCE_MATCH_BY_IP] = "match_by_ip",
    [NDPI_CONFIDENCE_DPI_CACHE] = "dpi_cache",
    [NDPI_CONFIDENCE_DPI] = "dpi",
};

int
vg_classify_confidence_id(const char *name)
{
	unsigned i;

	for (i = 0; i < NDPI_CONFIDENCE_MAX; i++) {
		if (confidence_ident[i] &&
		    strcasecmp(confidence_ident[i], name) == 0)
			return (int)i;
		if (strcasecmp(ndpi_confidence_get_name((ndpi_confidence_t)i),
			       name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
vg_classify_confidence_ident(unsigned i)
{
	return i < NDPI_CONFIDENCE_MAX ? confidence_ident[i] : NULL;
}

const char *
vg_classify_risk_ident(unsigned i)
{
	if (i == 0 || i >= NDPI_MAX_RISK)
		return NULL;
	return risk_ident[i];
}

int
vg_classify_risk_id(const char *name)
{
	unsigned i;

	for (i = 1; i < NDPI_MAX_RISK; i++) {
		if (risk_ident[i] && strcasecmp(risk_ident[i], name) == 0)
			return (int)i;
		if (strcasecmp(ndpi_risk2str((ndpi_risk_enum)i), name) == 0)
			return (int)i;
	}
	return -1;
}

void
vg_classify_flow_info(struct vg_classifier *c, const struct vg_flow *f,
		      const char *reason, const char *state,
		      struct vg_flow_info *fi, char *names, size_t names_len)
{
	memset(fi, 0, sizeof(*fi));
	fi->flow_id = f->flow_id;
	fi->start_us = f->first_us;
	fi->end_us = f->last_us;
	fi->ip_version = f->key.ip_version;
	fi->proto = f->key.proto;
	memcpy(fi->src_ip, f->key.a, 16);
	memcpy(fi->dst_ip, f->key.b, 16);
	fi->src_port = f->key.a_port;
	fi->dst_port = f->key.b_port;
	fi->icmp_type = f->icmp_type;
	fi->icmp_code = f->icmp_code;
	fi->vlan = f->key.vlan;
	fi->tcp_flags_ts = f->tcp_flags[0];
	fi->tcp_flags_tc = f->tcp_flags[1];
	fi->pkts_toserver = f->pkts[0];
	fi->pkts_toclient = f->pkts[1];
	fi->bytes_toserver = f->bytes[0];
	fi->bytes_toclient = f->bytes[1];
	fi->reason = reason;
	fi->state = state;
	fi->tunneled = f->tunnel;
	fi->alerted = (f->flags & VG_FLOW_F_ALERTED) != 0;
	vg_classify_describe(c, f, fi, names, names_len);
}
