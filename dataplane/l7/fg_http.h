/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_http.h - an incremental HTTP/1.0 and HTTP/1.1 request-head reader for
 * the L7 dataplane (DESIGN.md "L7 without a proxy").
 *
 * The DPDK worker feeds the bytes of a connection's first request as its
 * segments arrive, split anywhere (one byte at a time works), and gets one
 * of three answers: the head is complete (method, target, path, query,
 * host, version, body framing, the values of the header names the rules
 * watch), more bytes are needed, or the request is refused with the
 * status the answer must carry (400, 414, 431, 501, 505) and a reason for
 * the per-reason counter. The result depends only on the bytes, never on
 * where they were split: every check fires at a fixed byte of the stream.
 *
 * Userspace-only, next to dataplane/core: plain C over libc's string
 * functions, no allocation, no clock, no logging. Memory per request is
 * the fixed struct fg_http_req (664 bytes on x86-64) plus the caller's
 * head buffer of conf->head_max bytes (8 KiB by default). The caller
 * provides the buffer (from its per-connection pool, e.g. an mbuf-sized
 * slab) so that the request struct stays small and the limit stays a
 * setting, not a compile-time size. The reader copies the head into it
 * (with whatever else the segment that ends the head holds, up to
 * head_max) and every string it reports points into it, so segments may
 * be freed as soon as fg_http_feed returns.
 *
 * 408 (a request that stalls) is the caller's timer: the reader never
 * reads a clock; a caller that gives up on FG_HTTP_MORE answers 408.
 *
 * What the reader refuses, and why (RFC 9112 unless noted):
 *  - 400: a request line that is not exactly `method SP target SP
 *    HTTP/d.d CRLF`; a bare CR or a bare LF anywhere in the head (RFC 9112
 *    section 2.2 allows a lone LF as a line end, but the head is forwarded
 *    raw to a backend whose line rules are unknown: an ambiguous end of
 *    line is how requests are smuggled, so only CRLF ends a line); control
 *    characters (other than HTAB inside a value); a target with bytes
 *    outside visible ASCII, a '#', a "." or ".." path segment (also as
 *    %2e: browsers never send them and a backend that folds them would
 *    see another path than the routes judged), an absolute-form target
 *    that is not http/https or has userinfo or an empty host, `*` outside
 *    OPTIONS; whitespace before the first header or before a colon;
 *    obs-fold (a line starting with SP/HTAB); a header name that is not
 *    a token; Host missing on HTTP/1.1, repeated, or not `host[:port]`;
 *    Content-Length repeated (even with the same value) or not a decimal
 *    below 2^63; Transfer-Encoding repeated, empty or sent with HTTP/1.0;
 *    Transfer-Encoding together with Content-Length.
 *  - 414: a request target longer than conf->target_max, or a request
 *    line that does not end within conf->head_max.
 *  - 431: a head that does not end within conf->head_max bytes (the
 *    request line, every header line and the final CRLF, with any empty
 *    lines before the request line), or more than conf->headers_max
 *    header lines.
 *  - 501: a method other than GET HEAD POST PUT DELETE OPTIONS TRACE
 *    PATCH (CONNECT too: this is no forward proxy); a Transfer-Encoding
 *    other than exactly `chunked`.
 *  - 505: a well-formed version other than HTTP/1.0 and HTTP/1.1. RFC
 *    9110 section 2.5 would read HTTP/1.2 as 1.1; no such client exists,
 *    so Floodgate refuses what it does not know rather than guess.
 *
 * Absolute-form targets (`http://host/path`) give the host from the
 * target (RFC 9112 section 3.2.2) and the path after it ("/" when it is
 * empty). Paths and queries are reported raw; the item extractor
 * (fg_item.h) gives decoded views.
 */
#ifndef FG_HTTP_H
#define FG_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Limits, and the defaults fg_http_conf_init applies. */
#define FG_HTTP_HEAD_MAX_DEFAULT    8192u
#define FG_HTTP_TARGET_MAX_DEFAULT  4096u
#define FG_HTTP_HEADERS_MAX_DEFAULT 100u
#define FG_HTTP_HEAD_MIN            64u    /* head_max at least */
#define FG_HTTP_HEAD_LIMIT          65536u /* head_max at most */
#define FG_HTTP_HEADERS_LIMIT       1000u  /* headers_max at most */
/* Header names the rules may watch, and their longest name. */
#define FG_HTTP_WATCH_MAX 32u
#define FG_HTTP_NAME_MAX  64u

/* fg_http_feed results other than an error status (which is >= 400). */
#define FG_HTTP_MORE     0
#define FG_HTTP_COMPLETE 1

/* Methods the reader accepts; anything else is 501. */
enum fg_http_method {
	FG_HTTP_GET = 1,
	FG_HTTP_HEAD,
	FG_HTTP_POST,
	FG_HTTP_PUT,
	FG_HTTP_DELETE,
	FG_HTTP_OPTIONS,
	FG_HTTP_TRACE,
	FG_HTTP_PATCH,
};

/* The request target's form (RFC 9112 section 3.2). */
enum fg_http_form {
	FG_HTTP_FORM_ORIGIN = 1,   /* /path?query */
	FG_HTTP_FORM_ABSOLUTE,     /* http://host/path?query */
	FG_HTTP_FORM_ASTERISK,     /* * (OPTIONS only) */
};

/* How the body that follows the head is framed. */
enum fg_http_framing {
	FG_HTTP_BODY_NONE = 1,  /* neither header: no body (RFC 9112 6.3) */
	FG_HTTP_BODY_LENGTH,    /* Content-Length: content_length bytes */
	FG_HTTP_BODY_CHUNKED,   /* Transfer-Encoding: chunked */
};

/* Why a request was refused: one counter each. fg_http_err_status maps a
 * reason to the status of the answer, fg_http_err_name to a label. */
enum fg_http_err {
	FG_HTTP_E_NONE = 0,
	FG_HTTP_E_BARE_CR,        /* 400: CR not followed by LF */
	FG_HTTP_E_BARE_LF,        /* 400: LF not preceded by CR */
	FG_HTTP_E_CTL,            /* 400: a control character */
	FG_HTTP_E_LINE,           /* 400: request line syntax */
	FG_HTTP_E_METHOD,         /* 501: unknown or unsupported method */
	FG_HTTP_E_TARGET,         /* 400: request target syntax or form */
	FG_HTTP_E_DOT_SEGMENT,    /* 400: "." or ".." path segment */
	FG_HTTP_E_TARGET_LONG,    /* 414: target or request line too long */
	FG_HTTP_E_VERSION,        /* 400: version syntax */
	FG_HTTP_E_VERSION_UNSUP,  /* 505: version other than 1.0/1.1 */
	FG_HTTP_E_HEADER,         /* 400: header line syntax */
	FG_HTTP_E_OBS_FOLD,       /* 400: line starts with whitespace */
	FG_HTTP_E_HOST_MISSING,   /* 400: HTTP/1.1 without Host */
	FG_HTTP_E_HOST_DUP,       /* 400: Host twice */
	FG_HTTP_E_HOST_BAD,       /* 400: Host not host[:port] */
	FG_HTTP_E_CL_BAD,         /* 400: Content-Length not a number */
	FG_HTTP_E_CL_DUP,         /* 400: Content-Length twice */
	FG_HTTP_E_TE_UNSUP,       /* 501: Transfer-Encoding not chunked */
	FG_HTTP_E_TE_BAD,         /* 400: TE twice, empty, or in 1.0 */
	FG_HTTP_E_TE_CL,          /* 400: both TE and Content-Length */
	FG_HTTP_E_HEAD_LONG,      /* 431: head longer than head_max */
	FG_HTTP_E_TOO_MANY,       /* 431: more than headers_max headers */
	FG_HTTP_E_MAX
};

/* A view into the head buffer (or a static string): p is NULL when the
 * element is absent (no query, no Host on HTTP/1.0). Not NUL-terminated. */
struct fg_http_str {
	const char *p;
	uint32_t len;
};

/*
 * A watched header's value (OWS trimmed). count is how many lines named
 * it (saturating at 255); differ is 1 when a later line's value was not
 * byte-equal to the first one's, which p/len keep. A consumer that needs
 * one value (the item extractor) must refuse differ: a backend may read
 * the other line.
 */
struct fg_http_field {
	const char *p;
	uint32_t len;
	uint8_t count;
	uint8_t differ;
	uint16_t pad;
};

/*
 * Reader settings: the limits and the header names of interest. Built by
 * the control side once per rule version (fg_http_conf_init, then
 * fg_http_watch_add per name, or fg_item_parse for header items), then
 * read-only and shared by every request and every worker.
 */
struct fg_http_conf {
	uint32_t head_max;    /* bytes of head; the caller's buffer size */
	uint32_t target_max;  /* bytes of request target */
	uint32_t headers_max; /* header lines */
	uint32_t nwatch;      /* watched names in use */
	/* Slots with a name of each length, as a bitmask: a header line is
	 * compared only with names of its own length. */
	uint32_t by_len[FG_HTTP_NAME_MAX + 1];
	uint8_t name_len[FG_HTTP_WATCH_MAX];
	char name[FG_HTTP_WATCH_MAX][FG_HTTP_NAME_MAX]; /* lower case */
};

/*
 * One request being read. Fields above `method` are the reader's state;
 * the rest are results, valid once fg_http_feed returned
 * FG_HTTP_COMPLETE. All strings point into buf (or at a static "/").
 */
struct fg_http_req {
	const struct fg_http_conf *conf;
	char *buf;          /* conf->head_max bytes, the caller's */
	uint32_t have;      /* bytes copied into buf */
	uint32_t pos;       /* next byte of buf to read */
	uint32_t tok;       /* start of the token being read */
	uint32_t val;       /* start of the header value being read */
	uint32_t val_end;   /* end of it, trailing OWS trimmed */
	uint32_t nheaders;  /* header lines so far */
	int16_t slot;       /* the header line's watch slot, or -1 */
	uint8_t special;    /* Host, Content-Length, TE: fg_http.c */
	uint8_t state;      /* enum fg_http_state in fg_http.c */
	uint8_t err;        /* enum fg_http_err once refused */
	uint16_t result;    /* sticky: MORE, COMPLETE or the status */
	uint8_t seen;       /* special headers seen so far: fg_http.c */

	uint8_t method;     /* enum fg_http_method */
	uint8_t version;    /* 10 or 11 */
	uint8_t form;       /* enum fg_http_form */
	uint8_t framing;    /* enum fg_http_framing */
	uint32_t head_len;  /* bytes of the head: the stream offset of the
			     * first body byte */
	uint64_t content_length; /* FG_HTTP_BODY_LENGTH only */
	struct fg_http_str method_str;
	struct fg_http_str target;  /* raw, as sent */
	struct fg_http_str path;    /* raw, up to '?' */
	struct fg_http_str query;   /* raw, after '?'; p NULL without '?' */
	struct fg_http_str host;    /* without port; from the target in
				     * absolute form, else from Host; p NULL
				     * on HTTP/1.0 without Host */
	struct fg_http_field hdr[FG_HTTP_WATCH_MAX]; /* by watch slot; the
						      * first conf->nwatch */
};

/*
 * fg_http_conf_init - default limits (8 KiB head, 4 KiB target, 100
 * headers) and no watched names. Userspace control side.
 */
void fg_http_conf_init(struct fg_http_conf *conf);

/*
 * fg_http_conf_limits - set the limits. head_max in FG_HTTP_HEAD_MIN ..
 * FG_HTTP_HEAD_LIMIT, target_max in 1 .. head_max, headers_max in 1 ..
 * FG_HTTP_HEADERS_LIMIT. Returns 0, or -EINVAL (conf unchanged).
 */
int fg_http_conf_limits(struct fg_http_conf *conf, uint32_t head_max,
			uint32_t target_max, uint32_t headers_max);

/*
 * fg_http_watch_add - watch header `name` (len bytes, a token of at most
 * FG_HTTP_NAME_MAX, matched case-insensitively). Returns its slot (an
 * existing one when the name is already watched), -EINVAL for a bad name,
 * -ENOSPC when FG_HTTP_WATCH_MAX names are watched. Host, Content-Length
 * and Transfer-Encoding may be watched too (their raw value).
 */
int fg_http_watch_add(struct fg_http_conf *conf, const char *name,
		      size_t len);

/*
 * fg_http_init - start reading a request with conf's limits into buf,
 * which must hold conf->head_max bytes and stay put until the request is
 * done. Any context; cheap (clears the state and conf->nwatch fields).
 */
void fg_http_init(struct fg_http_req *req, const struct fg_http_conf *conf,
		  char *buf);

/*
 * fg_http_feed - read the next len bytes of the stream.
 *
 * Returns FG_HTTP_MORE (the head has not ended: feed more, or answer 408
 * when the caller's timer says so), FG_HTTP_COMPLETE (the results are
 * set), or the status the refusal calls for (400, 414, 431, 501, 505;
 * req->err says why). Once COMPLETE or refused, every later call returns
 * the same and reads nothing. *used (may be NULL) receives how many of
 * these len bytes belong to the head: on COMPLETE the body starts at
 * data + *used. Fast path: no allocation; copies at most head_max bytes
 * per request in total.
 */
int fg_http_feed(struct fg_http_req *req, const void *data, size_t len,
		 size_t *used);

/* fg_http_err_status - the status for reason err (0 for FG_HTTP_E_NONE or
 * an unknown value). */
int fg_http_err_status(unsigned int err);

/* fg_http_err_name - a short label for reason err ("bare_cr", ...), for
 * counters; "none" or "unknown" otherwise. */
const char *fg_http_err_name(unsigned int err);

/* fg_http_method_name - "GET" etc. for an enum fg_http_method, or NULL. */
const char *fg_http_method_name(unsigned int method);

#endif /* FG_HTTP_H */
