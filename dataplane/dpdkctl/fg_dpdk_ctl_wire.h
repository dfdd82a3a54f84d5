/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_ctl_wire.h - what the control channel's server and client
 * share beyond the public header: message headers, the framing of a body
 * into messages and its reassembly. Private to dataplane/dpdkctl.
 */
#ifndef FG_DPDK_CTL_WIRE_H
#define FG_DPDK_CTL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_dpdk_ctl.h"

/* Payload of one message, and of a body's first one (after the total). */
#define FG_DPDK_CTL_PAYLOAD_MAX (FG_DPDK_CTL_MSG_MAX - FG_DPDK_CTL_HDR)
#define FG_DPDK_CTL_FIRST_MAX (FG_DPDK_CTL_PAYLOAD_MAX - 8U)

struct fg_dpdk_ctl_hdr {
	uint8_t type;
	uint8_t flags;
	uint32_t seq;
	uint32_t len;
};

/* fg_dpdk_ctl_hdr_parse - the header of the n-byte datagram at p: magic,
 * protocol, a known type, known flags, len = n - 16. 0, or -EPROTO
 * (-EPROTONOSUPPORT for another protocol version) with a message. */
int fg_dpdk_ctl_hdr_parse(const uint8_t *p, size_t n,
			  struct fg_dpdk_ctl_hdr *h, char *err, size_t errlen);

/* fg_dpdk_ctl_msg - append one message (header and len payload bytes)
 * to out. 0 or -ENOMEM. */
int fg_dpdk_ctl_msg(struct fg_dpdk_ctl_buf *out, uint8_t type, uint8_t flags,
		    uint32_t seq, const void *payload, size_t len);

/* fg_dpdk_ctl_frame - append body (len bytes) to out as the messages of
 * one chunked body of type. 0, -EMSGSIZE (len > FG_DPDK_CTL_BODY_MAX),
 * -ENOMEM. */
int fg_dpdk_ctl_frame(struct fg_dpdk_ctl_buf *out, uint8_t type, uint32_t seq,
		      const void *body, size_t len);

/* Is type one whose body comes in chunks? */
bool fg_dpdk_ctl_chunked(uint8_t type);

/* A body being reassembled. */
struct fg_dpdk_ctl_rx {
	bool active;
	uint8_t type;
	uint32_t seq;
	uint64_t total;
	struct fg_dpdk_ctl_buf b;
};

/*
 * fg_dpdk_ctl_rx_take - one message of a chunked body: returns 1 when
 * the body is complete (rx->b holds it, rx->type and seq say what), 0
 * when more is to come, or -EPROTO (out of order, another type midway,
 * longer or shorter than announced, beyond FG_DPDK_CTL_BODY_MAX) /
 * -ENOMEM with a message; on error the partial body is dropped.
 */
int fg_dpdk_ctl_rx_take(struct fg_dpdk_ctl_rx *rx,
			const struct fg_dpdk_ctl_hdr *h, const uint8_t *payload,
			char *err, size_t errlen);

/* fg_dpdk_ctl_rx_reset - drop what rx holds. */
void fg_dpdk_ctl_rx_reset(struct fg_dpdk_ctl_rx *rx);

/* Little-endian writers into a buffer (no-ops once b->err is set). */
void fg_dpdk_ctl_put(struct fg_dpdk_ctl_buf *b, const void *p, size_t n);
void fg_dpdk_ctl_put_u8(struct fg_dpdk_ctl_buf *b, uint8_t v);
void fg_dpdk_ctl_put_u16(struct fg_dpdk_ctl_buf *b, uint16_t v);
void fg_dpdk_ctl_put_u32(struct fg_dpdk_ctl_buf *b, uint32_t v);
void fg_dpdk_ctl_put_u64(struct fg_dpdk_ctl_buf *b, uint64_t v);

/* A bounded little-endian reader: a read past the end marks it bad and
 * reads zeros. */
struct fg_dpdk_ctl_rd {
	const uint8_t *p;
	size_t n, off;
	bool bad;
};

void fg_dpdk_ctl_get(struct fg_dpdk_ctl_rd *r, void *p, size_t n);
uint8_t fg_dpdk_ctl_get_u8(struct fg_dpdk_ctl_rd *r);
uint16_t fg_dpdk_ctl_get_u16(struct fg_dpdk_ctl_rd *r);
uint32_t fg_dpdk_ctl_get_u32(struct fg_dpdk_ctl_rd *r);
uint64_t fg_dpdk_ctl_get_u64(struct fg_dpdk_ctl_rd *r);

/* Monotonic ms, for deadlines. */
int64_t fg_dpdk_ctl_now_ms(void);

#endif /* FG_DPDK_CTL_WIRE_H */
