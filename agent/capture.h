/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet sources through libpcap: live interfaces and capture files (pcap
 * and pcapng). The only module that includes pcap.
 */
#ifndef VG_CAPTURE_H
#define VG_CAPTURE_H

#include "common.h"
#include "config.h"

struct vg_capture;

/* One frame; data is borrowed until the next vg_capture_next(). */
struct vg_frame {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	int64_t ts_us;
};

struct vg_capture_stats {
	uint64_t received;       /* frames read */
	uint64_t kernel_packets; /* pcap_stats ps_recv (live only) */
	uint64_t kernel_drops;   /* ps_drop: no room in the kernel buffer */
	uint64_t if_drops;       /* ps_ifdrop: dropped by the interface */
};

/* Open a capture file. On failure returns VG_EIO and writes the reason to
 * err (errlen bytes). *out owned: vg_capture_close. */
enum vg_err vg_capture_open_file(struct vg_capture **out, const char *path,
				 char *err, size_t errlen) VG_MUST_CHECK;

/* Open a live interface as ic says (snaplen, buffer, promiscuous,
 * immediate, BPF filter). Same error convention. */
enum vg_err vg_capture_open_live(struct vg_capture **out,
				 const struct vg_iface_config *ic, char *err,
				 size_t errlen) VG_MUST_CHECK;

/* The descriptor the source reads from (a packet socket, or the
 * capture file's), for the sandbox to keep open. */
int vg_capture_fd(const struct vg_capture *c);

/* The source's pcap link type (DLT_*). */
int vg_capture_datalink(const struct vg_capture *c);
/* A name for messages: the file path or interface name (borrowed). */
const char *vg_capture_name(const struct vg_capture *c);

/* Next frame: 1 got one, 0 none yet (live timeout), -1 end of file,
 * -2 read error (message in err). */
int vg_capture_next(struct vg_capture *c, struct vg_frame *f, char *err,
		    size_t errlen);

/* Counters; kernel figures only for live sources. */
void vg_capture_stats(struct vg_capture *c, struct vg_capture_stats *st);

/* Make a blocked vg_capture_next() return soon (any thread). */
void vg_capture_breakloop(struct vg_capture *c);

/* libpcap's version string. */
const char *vg_capture_lib_version(void);

/* Accepts NULL. */
void vg_capture_close(struct vg_capture *c);

#endif /* VG_CAPTURE_H */
