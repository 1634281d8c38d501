/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libpcap sources; see capture.h.
 *
 * Live handles are opened with pcap_create/pcap_activate so that snaplen,
 * buffer size, promiscuous and immediate mode are all set before the ring
 * is mapped, with a 100 ms read timeout so the capture thread can notice a
 * stop request. Files are read with pcap_open_offline, which handles both
 * pcap and pcapng.
 *
 * On Linux that timeout alone does not make a quiet interface return:
 * with TPACKET_V3 the kernel retires only blocks that hold a packet, so
 * once the last one is read, a blocking read waits for the next packet,
 * however long that is. Live handles are therefore non-blocking and wait
 * in poll(2) for at most the timeout, so that a quiet capture thread
 * still wakes up to publish its counters and to drive flow timeouts.
 */
#include "capture.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

struct vg_capture {
	pcap_t *p;
	char *name;
	int live;
	int fd; /* live: pcap's selectable descriptor, or -1 */
	uint64_t received;
};

#define READ_TIMEOUT_MS 100

static enum vg_err
capture_new(struct vg_capture **out, pcap_t *p, const char *name, int live)
{
	struct vg_capture *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->name = strdup(name)) == NULL) {
		free(c);
		pcap_close(p);
		return VG_ENOMEM;
	}
	c->p = p;
	c->live = live;
	c->fd = live ? pcap_get_selectable_fd(p) : -1;
	*out = c;
	return VG_OK;
}

enum vg_err
vg_capture_open_file(struct vg_capture **out, const char *path, char *err,
		     size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	*out = NULL;
	p = pcap_open_offline_with_tstamp_precision(
	    path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return VG_EIO;
	}
	return capture_new(out, p, path, 0);
}

enum vg_err
vg_capture_open_live(struct vg_capture **out, const struct vg_iface_config *ic,
		     char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	*out = NULL;
	p = pcap_create(ic->name, ebuf);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", ic->name, ebuf);
		return VG_EIO;
	}
	pcap_set_snaplen(p, (int)ic->snaplen);
	pcap_set_promisc(p, ic->promiscuous);
	pcap_set_timeout(p, READ_TIMEOUT_MS);
	pcap_set_buffer_size(p, (int)ic->buffer_size);
	pcap_set_immediate_mode(p, ic->immediate);
	rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", ic->name,
			 rc == PCAP_ERROR ? pcap_geterr(p)
					  : pcap_statustostr(rc));
		pcap_close(p);
		return VG_EIO;
	}
	if (ic->bpf && ic->bpf[0]) {
		if (pcap_compile(p, &prog, ic->bpf, 1, PCAP_NETMASK_UNKNOWN) <
		    0) {
			snprintf(err, errlen, "%s: bad BPF filter \"%s\": %s",
				 ic->name, ic->bpf, pcap_geterr(p));
			pcap_close(p);
			return VG_EINVAL;
		}
		rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot set filter: %s",
				 ic->name, pcap_geterr(p));
			pcap_close(p);
			return VG_EIO;
		}
	}
	if (pcap_get_selectable_fd(p) >= 0 &&
	    pcap_setnonblock(p, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: %s", ic->name, ebuf);
		pcap_close(p);
		return VG_EIO;
	}
	return capture_new(out, p, ic->name, 1);
}

int
vg_capture_fd(const struct vg_capture *c)
{
	return c->live ? c->fd : fileno(pcap_file(c->p));
}

int
vg_capture_datalink(const struct vg_capture *c)
{
	return pcap_datalink(c->p);
}

const char *
vg_capture_name(const struct vg_capture *c)
{
	return c->name;
}

int
vg_capture_next(struct vg_capture *c, struct vg_frame *f, char *err,
		size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(c->p, &h, &data);

	/* Live and nothing ready: wait for the descriptor, one timeout at
	 * most (see the top of the file), then look once more. */
	if (rc == 0 && c->fd >= 0) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

		if (poll(&pfd, 1, READ_TIMEOUT_MS) > 0)
			rc = pcap_next_ex(c->p, &h, &data);
	}

	switch (rc) {
	case 1:
		f->data = data;
		f->caplen = h->caplen;
		f->wirelen = h->len;
		f->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		c->received++;
		return 1;
	case 0:
		return 0;
	case PCAP_ERROR_BREAK:
		return c->live ? 0 : -1;
	default:
		if (rc == PCAP_ERROR) {
			snprintf(err, errlen, "%s: %s", c->name,
				 pcap_geterr(c->p));
			return -2;
		}
		return -1;
	}
}

void
vg_capture_stats(struct vg_capture *c, struct vg_capture_stats *st)
{
	struct pcap_stat ps;

	memset(st, 0, sizeof(*st));
	st->received = c->received;
	if (c->live && pcap_stats(c->p, &ps) == 0) {
		st->kernel_packets = ps.ps_recv;
		st->kernel_drops = ps.ps_drop;
		st->if_drops = ps.ps_ifdrop;
	}
}

void
vg_capture_breakloop(struct vg_capture *c)
{
	pcap_breakloop(c->p);
}

void
vg_capture_close(struct vg_capture *c)
{
	if (c == NULL)
		return;
	pcap_close(c->p);
	free(c->name);
	free(c);
}

const char *
vg_capture_lib_version(void)
{
	return pcap_lib_version();
}
