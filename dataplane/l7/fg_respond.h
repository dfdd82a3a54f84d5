/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_respond.h - the complete bytes of an answer the L7 dataplane sends
 * itself (API.md Seckill `respond` / `sold_out`, the `respond` action of
 * `rps` limits), built once per rule version so that answering a shed
 * request is a pointer and a length.
 *
 * An answer is
 *
 *   HTTP/1.1 <status> <reason>\r\n
 *   Retry-After: <seconds>\r\n            (only when retry_after >= 0)
 *   Content-Type: <content_type>\r\n      (only with a body)
 *   Content-Length: <n>\r\n
 *   Cache-Control: no-store\r\n
 *   Connection: close\r\n
 *   \r\n
 *   <body>
 *
 * Cache-Control: no-store because 410 is cacheable by default (RFC 9111
 * section 4.2.2): a shared cache in front of the shop would keep
 * answering "sold out" or "busy" for a sale that reopened or a bucket
 * that refilled. Connection: close because the dataplane closes after
 * answering (DESIGN.md "L7 without a proxy": no framing of later
 * requests). The answer to a HEAD request is the same bytes without the
 * body (head_len), as RFC 9110 section 9.3.2 asks.
 *
 * What a spec may hold, and why:
 *  - status: a 4xx or 5xx that needs no header this answer lacks (401
 *    WWW-Authenticate, 405 Allow, 407 Proxy-Authenticate, 416
 *    Content-Range, 426 Upgrade are refused); 1xx-3xx are refused: a 2xx
 *    would tell a buyer's client the purchase went through, a 3xx needs a
 *    Location.
 *  - retry_after: seconds, 0..FG_RESPOND_RETRY_MAX, or -1 for none.
 *  - content_type: a header value of 1..FG_RESPOND_CTYPE_MAX visible
 *    ASCII bytes and inner spaces, type "/" subtype first (no CR, LF or
 *    other control byte: header injection). NULL takes
 *    FG_RESPOND_CTYPE_DEFAULT when there is a body; a content type
 *    without a body is refused (it would describe nothing).
 *  - body: 0..FG_RESPOND_BODY_MAX bytes, any bytes (Content-Length frames
 *    it).
 *
 * Userspace-only, no allocation: the bytes live in the struct.
 */
#ifndef FG_RESPOND_H
#define FG_RESPOND_H

#include <stddef.h>
#include <stdint.h>

#define FG_RESPOND_BODY_MAX  4096u   /* bytes of body */
#define FG_RESPOND_CTYPE_MAX 128u    /* bytes of Content-Type value */
#define FG_RESPOND_RETRY_MAX 604800  /* Retry-After at most a week: rules
				      * are pushed hours ahead of a sale */
/* The head's longest: status line (40) + Retry-After (24) + Content-Type
 * (16 + 128) + Content-Length (26) + Cache-Control (25) + Connection (19)
 * + CRLF, rounded up. */
#define FG_RESPOND_HEAD_MAX  512u
#define FG_RESPOND_MAX       (FG_RESPOND_HEAD_MAX + FG_RESPOND_BODY_MAX)
#define FG_RESPOND_CTYPE_DEFAULT "text/plain; charset=utf-8"

/* An answer as the rule states it (API.md `respond` object). */
struct fg_respond_spec {
	int status;               /* 400..599, see above */
	int32_t retry_after;      /* seconds, or -1: no Retry-After */
	const char *content_type; /* NUL-terminated, or NULL */
	const char *body;         /* body_len bytes; may be NULL when 0 */
	size_t body_len;
};

/* A built answer: bytes[0..len) to send, bytes[0..head_len) for HEAD. */
struct fg_respond {
	uint32_t len;
	uint32_t head_len;
	uint16_t status;
	uint16_t pad;
	char bytes[FG_RESPOND_MAX];
};

/*
 * fg_respond_build - build r from spec. field names the rule's object in
 * messages ("respond", "sold_out"): "respond.status: ...". Returns 0, or
 * -EINVAL with a one-line reason in err (r is then unusable). Control
 * side; no allocation.
 */
int fg_respond_build(struct fg_respond *r, const struct fg_respond_spec *spec,
		     const char *field, char *err, size_t errlen);

/*
 * fg_respond_reason - the reason phrase for a status an answer may carry
 * (see above), or NULL for one it may not. Any context.
 */
const char *fg_respond_reason(int status);

#endif /* FG_RESPOND_H */
