// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dpdk_ctl_cli.c - the control channel's client (floodgated's dpdk
 * driver): one request at a time, each with a deadline of the client's
 * timeout, blocking in poll(2). A request that fails on the channel
 * (timeout, reset, a malformed answer) leaves the channel in an unknown
 * state: the caller closes the client and connects again.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fg_dpdk_ctl.h"
#include "fg_dpdk_ctl_wire.h"
#include "fg_err.h"

struct fg_dpdk_ctl_client {
	int fd;
	int timeout_ms;
	uint32_t seq;
	uint64_t sent;
	struct fg_dpdk_ctl_rx rx;
	uint8_t msg[FG_DPDK_CTL_MSG_MAX];
};

/* Wait for events on c->fd until deadline. 0, -ETIMEDOUT, -errno. */
static int fg_cli_wait(struct fg_dpdk_ctl_client *c, short events,
		       int64_t deadline)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - fg_dpdk_ctl_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

/* Send every message of b. 0 or -errno. */
static int fg_cli_send(struct fg_dpdk_ctl_client *c,
		       const struct fg_dpdk_ctl_buf *b, int64_t deadline)
{
	size_t off = 0;
	int rc;

	while (off < b->len) {
		const uint8_t *p = b->p + off;
		size_t len = FG_DPDK_CTL_HDR +
			     ((size_t)p[12] | (size_t)p[13] << 8 |
			      (size_t)p[14] << 16 | (size_t)p[15] << 24);
		ssize_t n = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			rc = fg_cli_wait(c, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		off += len;
		c->sent += len;
	}
	return 0;
}

/* One message into c->msg; its header into *h. 0 or -errno. */
static int fg_cli_recv(struct fg_dpdk_ctl_client *c, struct fg_dpdk_ctl_hdr *h,
		       int64_t deadline, char *err, size_t errlen)
{
	bool reset = false;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(c->fd, c->msg, sizeof(c->msg), MSG_DONTWAIT | MSG_TRUNC);
		if (n > 0)
			break;
		if (n == 0)
			return fg_fail(err, errlen, -ECONNRESET,
				       "floodgate-dpdk closed the control channel");
		if (errno == EINTR)
			continue;
		/* A peer that closed with our message unread resets us,
		 * and the socket reports that before what it sent last
		 * (a refusal, say): read on once. */
		if (errno == ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fg_fail(err, errlen, -errno, "control channel: %s",
				       strerror(errno));
		rc = fg_cli_wait(c, POLLIN, deadline);
		if (rc)
			return fg_fail(err, errlen, rc,
				       "control channel: no answer within %d ms",
				       c->timeout_ms);
	}
	if ((size_t)n > sizeof(c->msg))
		return fg_fail(err, errlen, -EPROTO, "an answer beyond 64 KiB");
	return fg_dpdk_ctl_hdr_parse(c->msg, (size_t)n, h, err, errlen) ? -EPROTO : 0;
}

/* A NACK's errno and text. */
static int fg_cli_nack(struct fg_dpdk_ctl_client *c, const struct fg_dpdk_ctl_hdr *h,
		       char *err, size_t errlen)
{
	struct fg_dpdk_ctl_rd r = { .p = c->msg + FG_DPDK_CTL_HDR, .n = h->len };
	char text[FG_DPDK_CTL_TEXT_MAX];
	uint32_t code = fg_dpdk_ctl_get_u32(&r);
	uint16_t n = fg_dpdk_ctl_get_u16(&r);

	if (r.bad || n >= sizeof(text) || r.n - r.off != n || !code ||
	    code > 4095)
		return fg_fail(err, errlen, -EPROTO, "a malformed NACK");
	fg_dpdk_ctl_get(&r, text, n);
	text[n] = '\0';
	return fg_fail(err, errlen, -(int)code, "floodgate-dpdk: %s", text);
}

/*
 * The answer to request seq: a message of type `want` (chunked bodies
 * reassembled into c->rx.b, else the payload stays in c->msg) or a NACK.
 * Returns 0, the NACK's -errno, or -EPROTO / -ETIMEDOUT / ... .
 */
static int fg_cli_answer(struct fg_dpdk_ctl_client *c, uint32_t seq,
			 uint8_t want, struct fg_dpdk_ctl_hdr *h, int64_t deadline,
			 char *err, size_t errlen)
{
	int rc;

	fg_dpdk_ctl_rx_reset(&c->rx);
	for (;;) {
		rc = fg_cli_recv(c, h, deadline, err, errlen);
		if (rc)
			return rc;
		if (h->seq != seq && !(h->type == FG_DPDK_CTL_NACK && !h->seq))
			return fg_fail(err, errlen, -EPROTO,
				       "an answer to request %u while waiting for %u",
				       h->seq, seq);
		if (h->type == FG_DPDK_CTL_NACK)
			return fg_cli_nack(c, h, err, errlen);
		if (h->type != want)
			return fg_fail(err, errlen, -EPROTO,
				       "answer of type %u, expected %u", h->type, want);
		if (!fg_dpdk_ctl_chunked(want))
			return 0;
		rc = fg_dpdk_ctl_rx_take(&c->rx, h, c->msg + FG_DPDK_CTL_HDR, err,
					 errlen);
		if (rc < 0)
			return rc;
		if (rc)
			return 0;
	}
}

/* Send one message of payload b and take its answer. */
static int fg_cli_request(struct fg_dpdk_ctl_client *c, uint8_t type,
			  const struct fg_dpdk_ctl_buf *payload, uint8_t want,
			  struct fg_dpdk_ctl_hdr *h, char *err, size_t errlen)
{
	int64_t deadline = fg_dpdk_ctl_now_ms() + c->timeout_ms;
	struct fg_dpdk_ctl_buf m = { 0 };
	uint32_t seq = ++c->seq;
	int rc;

	rc = fg_dpdk_ctl_msg(&m, type, 0, seq, payload ? payload->p : NULL,
			     payload ? payload->len : 0);
	if (!rc)
		rc = fg_cli_send(c, &m, deadline);
	fg_dpdk_ctl_buf_free(&m);
	if (rc == -ECONNRESET || rc == -EPIPE) {
		/* A server that refuses us says why, then closes, maybe
		 * before our request went out: its NACK may be waiting. */
		int why = fg_cli_answer(c, seq, want, h, 0, err, errlen);

		if (why != -ETIMEDOUT && why != -ECONNRESET && why != -EPROTO &&
		    why != 0)
			return why;
	}
	if (rc)
		return fg_fail(err, errlen, rc, "control channel: %s",
			       strerror(-rc));
	return fg_cli_answer(c, seq, want, h, deadline, err, errlen);
}

/* -------------------------------------------------------------- API */

struct fg_dpdk_ctl_client *
fg_dpdk_ctl_client_connect(const char *path, const char *who, int timeout_ms,
			   struct fg_dpdk_ctl_hello *hello, int *errp, char *err,
			   size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fg_dpdk_ctl_client *c;
	struct fg_dpdk_ctl_buf b = { 0 };
	struct fg_dpdk_ctl_hdr h;
	struct fg_dpdk_ctl_rd r;
	size_t wl = who ? strnlen(who, FG_DPDK_CTL_TEXT_MAX - 1) : 0;
	int rc;

	if (!path || strlen(path) >= sizeof(sa.sun_path) || !hello ||
	    timeout_ms <= 0) {
		*errp = fg_fail(err, errlen, -EINVAL, "control socket path");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		*errp = fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = fg_fail(err, errlen, -errno,
			     "floodgate-dpdk's control socket %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	fg_dpdk_ctl_put_u32(&b, (uint32_t)getpid());
	fg_dpdk_ctl_put_u8(&b, (uint8_t)wl);
	fg_dpdk_ctl_put(&b, who, wl);
	rc = fg_cli_request(c, FG_DPDK_CTL_HELLO, &b, FG_DPDK_CTL_HELLO, &h, err,
			    errlen);
	fg_dpdk_ctl_buf_free(&b);
	if (rc)
		goto fail;
	r = (struct fg_dpdk_ctl_rd){ .p = c->msg + FG_DPDK_CTL_HDR, .n = h.len };
	memset(hello, 0, sizeof(*hello));
	hello->instance = fg_dpdk_ctl_get_u64(&r);
	hello->settings_id = fg_dpdk_ctl_get_u64(&r);
	hello->pid = fg_dpdk_ctl_get_u32(&r);
	hello->nworkers = fg_dpdk_ctl_get_u32(&r);
	hello->nports = fg_dpdk_ctl_get_u32(&r);
	hello->version = fg_dpdk_ctl_get_u64(&r);
	hello->has_origin = fg_dpdk_ctl_get_u8(&r);
	hello->cluster_id = fg_dpdk_ctl_get_u64(&r);
	hello->revision = fg_dpdk_ctl_get_u64(&r);
	if (r.bad || r.off != r.n) {
		rc = fg_fail(err, errlen, -EPROTO, "floodgate-dpdk: malformed HELLO");
		goto fail;
	}
	return c;
fail:
	fg_dpdk_ctl_client_close(c);
	*errp = rc;
	return NULL;
}

void fg_dpdk_ctl_client_close(struct fg_dpdk_ctl_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	fg_dpdk_ctl_rx_reset(&c->rx);
	free(c);
}

bool fg_dpdk_ctl_client_alive(const struct fg_dpdk_ctl_client *c)
{
	struct pollfd p = { .fd = c ? c->fd : -1, .events = POLLIN };

	if (!c || c->fd < 0)
		return false;
	return poll(&p, 1, 0) == 0;
}

uint64_t fg_dpdk_ctl_client_sent(const struct fg_dpdk_ctl_client *c)
{
	return c ? c->sent : 0;
}

int fg_dpdk_ctl_client_push(struct fg_dpdk_ctl_client *c, int type,
			    const struct fg_dpdk_ctl_buf *body,
			    uint64_t *applied, char *err, size_t errlen)
{
	int64_t deadline = fg_dpdk_ctl_now_ms() + c->timeout_ms;
	struct fg_dpdk_ctl_buf m = { 0 };
	struct fg_dpdk_ctl_hdr h;
	struct fg_dpdk_ctl_rd r;
	uint32_t seq = ++c->seq;
	int rc;

	if (type != FG_DPDK_CTL_FULL && type != FG_DPDK_CTL_DELTA)
		return fg_fail(err, errlen, -EINVAL, "push of type %d", type);
	if (body->err)
		return fg_fail(err, errlen, body->err, "out of memory");
	rc = fg_dpdk_ctl_frame(&m, (uint8_t)type, seq, body->p, body->len);
	if (rc) {
		fg_dpdk_ctl_buf_free(&m);
		return fg_fail(err, errlen, rc, "a body of %zu bytes: %s",
			       body->len, strerror(-rc));
	}
	rc = fg_cli_send(c, &m, deadline);
	fg_dpdk_ctl_buf_free(&m);
	if (rc)
		return fg_fail(err, errlen, rc, "control channel: %s%s",
			       strerror(-rc),
			       rc == -ETIMEDOUT ? " (sending the tables)" : "");
	rc = fg_cli_answer(c, seq, FG_DPDK_CTL_ACK, &h, deadline, err, errlen);
	if (rc)
		return rc;
	r = (struct fg_dpdk_ctl_rd){ .p = c->msg + FG_DPDK_CTL_HDR, .n = h.len };
	*applied = fg_dpdk_ctl_get_u64(&r);
	if (r.bad || r.off != r.n)
		return fg_fail(err, errlen, -EPROTO, "floodgate-dpdk: malformed ACK");
	return 0;
}

/* A decoder of the chunked body of n bytes at p into out: 0 or -errno
 * with a message. */
typedef int (*fg_cli_decode_fn)(const void *p, size_t n, void *out,
				char *err, size_t errlen);

/*
 * Send an empty request of `type`, take its chunked answer of type `want`
 * and decode the body into out. The reassembled body is let go of either
 * way, so a big STATE does not stay held between requests. Returns 0,
 * fg_cli_request's -errno, or decode's.
 */
static int fg_cli_fetch(struct fg_dpdk_ctl_client *c, uint8_t type,
			uint8_t want, fg_cli_decode_fn decode, void *out,
			char *err, size_t errlen)
{
	struct fg_dpdk_ctl_hdr h;
	int rc;

	rc = fg_cli_request(c, type, NULL, want, &h, err, errlen);
	if (!rc)
		rc = decode(c->rx.b.p, c->rx.b.len, out, err, errlen);
	fg_dpdk_ctl_rx_reset(&c->rx);
	return rc;
}

/* A STATS body that does not decode is the server breaking the
 * protocol: -EPROTO, as for any malformed answer; our own shortage of
 * memory stays -ENOMEM. */
static int fg_cli_decode_stats(const void *p, size_t n, void *out, char *err,
			       size_t errlen)
{
	int rc = fg_dpdk_ctl_decode_stats(p, n, out, err, errlen);

	return rc == -ENOMEM ? rc : rc ? -EPROTO : 0;
}

static int fg_cli_decode_state(const void *p, size_t n, void *out, char *err,
			       size_t errlen)
{
	return fg_dpdk_ctl_decode_full(p, n, out, err, errlen);
}

int fg_dpdk_ctl_client_stats(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_counters *out, char *err,
			     size_t errlen)
{
	return fg_cli_fetch(c, FG_DPDK_CTL_STATS_REQ, FG_DPDK_CTL_STATS,
			    fg_cli_decode_stats, out, err, errlen);
}

int fg_dpdk_ctl_client_state(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_set **out, char *err,
			     size_t errlen)
{
	*out = NULL;
	return fg_cli_fetch(c, FG_DPDK_CTL_STATE_REQ, FG_DPDK_CTL_STATE,
			    fg_cli_decode_state, out, err, errlen);
}

int fg_dpdk_ctl_client_origin(struct fg_dpdk_ctl_client *c, uint64_t cluster_id,
			      uint64_t revision, char *err, size_t errlen)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	struct fg_dpdk_ctl_hdr h;
	int rc;

	fg_dpdk_ctl_put_u64(&b, cluster_id);
	fg_dpdk_ctl_put_u64(&b, revision);
	rc = fg_cli_request(c, FG_DPDK_CTL_ORIGIN, &b, FG_DPDK_CTL_ACK, &h, err,
			    errlen);
	fg_dpdk_ctl_buf_free(&b);
	return rc;
}

int fg_dpdk_ctl_client_stock(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_stock *x, char *err,
			     size_t errlen)
{
	int64_t deadline = fg_dpdk_ctl_now_ms() + c->timeout_ms;
	struct fg_dpdk_ctl_buf b = { 0 }, m = { 0 };
	struct fg_dpdk_ctl_hdr h;
	uint32_t seq = ++c->seq;
	int rc;

	rc = fg_dpdk_ctl_encode_stock_req(x, &b);
	if (!rc)
		rc = fg_dpdk_ctl_frame(&m, FG_DPDK_CTL_STOCK_REQ, seq, b.p,
				       b.len);
	fg_dpdk_ctl_buf_free(&b);
	if (!rc)
		rc = fg_cli_send(c, &m, deadline);
	fg_dpdk_ctl_buf_free(&m);
	if (rc)
		return fg_fail(err, errlen, rc, "control channel: %s",
			       strerror(-rc));
	rc = fg_cli_answer(c, seq, FG_DPDK_CTL_STOCK, &h, deadline, err,
			   errlen);
	if (!rc) {
		rc = fg_dpdk_ctl_decode_stock(c->rx.b.p, c->rx.b.len, x, err,
					      errlen);
		if (rc && rc != -ENOMEM)
			rc = -EPROTO; /* the server broke the protocol */
	}
	fg_dpdk_ctl_rx_reset(&c->rx);
	return rc;
}
