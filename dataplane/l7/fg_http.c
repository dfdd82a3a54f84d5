/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_http.c - the incremental request-head reader (fg_http.h).
 *
 * A byte-driven state machine over the caller's head buffer. Each state
 * runs a tight loop over the bytes of its class (one table load per
 * byte) and decides at the first byte outside it, so every check fires
 * at a fixed byte of the stream and the result cannot depend on where
 * the segments were split. Every loop is bounded by the bytes buffered,
 * which are at most conf->head_max.
 *
 * Written by hand rather than with a library (DESIGN.md asks why):
 * picohttpparser needs the head contiguous and parses it again from the
 * start on every segment (quadratic for a client that trickles bytes);
 * llhttp is incremental but hands tokens to callbacks in pieces, so the
 * caller copies them into a head buffer anyway, and what it accepts is
 * its own set of leniency flags. The refusals listed in fg_http.h are the
 * product's contract with the backends behind it, and the bound must be a
 * fixed buffer: both are simplest to hold in a machine of our own.
 */
#include <errno.h>
#include <string.h>

#include "fg_http.h"
#include "../common/fg_httpsyn.h" /* by path: tests/fuzz builds with -I l7 only */

/* ---------------------------------------------------------------------
 * Character classes
 */

#define C_TCHAR  0x01 /* token (RFC 9110 5.6.2) */
#define C_TARGET 0x02 /* request target: visible ASCII except '#' */
#define C_VALUE  0x04 /* field-vchar: VCHAR and obs-text */
#define C_WS     0x08 /* SP, HTAB */
#define C_REG    0x10 /* reg-name: unreserved, sub-delims, '%' */
#define C_DIGIT  0x20
#define C_HEX    0x40
#define C_CTL    0x80 /* 0x00-0x1f, 0x7f */

static const uint8_t fg_http_cls[256] = {
	/* 00 */ 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	/* 10 */ 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	/* 20 */ 0x08, 0x17, 0x06, 0x05, 0x17, 0x17, 0x17, 0x17, 0x16, 0x16, 0x17, 0x17, 0x16, 0x17, 0x17, 0x06,
	/* 30 */ 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x06, 0x16, 0x06, 0x16, 0x06, 0x06,
	/* 40 */ 0x06, 0x57, 0x57, 0x57, 0x57, 0x57, 0x57, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
	/* 50 */ 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x06, 0x06, 0x07, 0x17,
	/* 60 */ 0x07, 0x57, 0x57, 0x57, 0x57, 0x57, 0x57, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
	/* 70 */ 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x07, 0x06, 0x17, 0x80,
	/* 80 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* 90 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* a0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* b0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* c0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* d0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* e0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
	/* f0 */ 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
};

#define IS(c, cls) (fg_http_cls[(uint8_t)(c)] & (cls))

/* ASCII lower case of c; other bytes unchanged. (c | 0x20 would also map
 * '^' to '~', both token characters.) */
static inline uint8_t fg_http_lower(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

#define FG_HTTP_ONES  0x0101010101010101ULL
#define FG_HTTP_HIGHS 0x8080808080808080ULL

/* fg_http_lower of each byte of x: a byte b below 0x80 is 'A'..'Z' when
 * b + 0x3f reaches 0x80 and b + 0x25 does not (no carry leaves a byte:
 * 0x7f + 0x3f < 0x100); bytes from 0x80 on stay as they are. */
static inline uint64_t fg_http_lower8(uint64_t x)
{
	uint64_t x7 = x & ~FG_HTTP_HIGHS;
	uint64_t up = (x7 + FG_HTTP_ONES * 0x3f) & ~(x7 + FG_HTTP_ONES * 0x25) &
		      FG_HTTP_HIGHS & ~x;

	return x | (up >> 2);
}

/* 1 when p[0..len) equals the lower-case ASCII string lc (len bytes),
 * ignoring case: 8 bytes at a time, then the rest. */
static int fg_http_eq_lc(const uint8_t *p, const char *lc, uint32_t len)
{
	uint64_t x, t;
	uint32_t i = 0;

	for (; len - i >= 8; i += 8) {
		memcpy(&x, p + i, 8);
		memcpy(&t, lc + i, 8);
		if (fg_http_lower8(x) != t)
			return 0;
	}
	for (; i < len; i++)
		if (fg_http_lower(p[i]) != (uint8_t)lc[i])
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------
 * Reasons
 */

static const struct {
	uint16_t status;
	const char *name;
} fg_http_errs[FG_HTTP_E_MAX] = {
	[FG_HTTP_E_NONE]          = {0, "none"},
	[FG_HTTP_E_BARE_CR]       = {400, "bare_cr"},
	[FG_HTTP_E_BARE_LF]       = {400, "bare_lf"},
	[FG_HTTP_E_CTL]           = {400, "control_char"},
	[FG_HTTP_E_LINE]          = {400, "request_line"},
	[FG_HTTP_E_METHOD]        = {501, "method"},
	[FG_HTTP_E_TARGET]        = {400, "target"},
	[FG_HTTP_E_DOT_SEGMENT]   = {400, "dot_segment"},
	[FG_HTTP_E_TARGET_LONG]   = {414, "target_long"},
	[FG_HTTP_E_VERSION]       = {400, "version"},
	[FG_HTTP_E_VERSION_UNSUP] = {505, "version_unsupported"},
	[FG_HTTP_E_HEADER]        = {400, "header"},
	[FG_HTTP_E_OBS_FOLD]      = {400, "obs_fold"},
	[FG_HTTP_E_HOST_MISSING]  = {400, "host_missing"},
	[FG_HTTP_E_HOST_DUP]      = {400, "host_duplicate"},
	[FG_HTTP_E_HOST_BAD]      = {400, "host_invalid"},
	[FG_HTTP_E_CL_BAD]        = {400, "content_length_invalid"},
	[FG_HTTP_E_CL_DUP]        = {400, "content_length_duplicate"},
	[FG_HTTP_E_TE_UNSUP]      = {501, "transfer_encoding_unsupported"},
	[FG_HTTP_E_TE_BAD]        = {400, "transfer_encoding_invalid"},
	[FG_HTTP_E_TE_CL]         = {400, "transfer_encoding_and_length"},
	[FG_HTTP_E_HEAD_LONG]     = {431, "head_long"},
	[FG_HTTP_E_TOO_MANY]      = {431, "too_many_headers"},
};

int fg_http_err_status(unsigned int err)
{
	return err < FG_HTTP_E_MAX ? fg_http_errs[err].status : 0;
}

const char *fg_http_err_name(unsigned int err)
{
	return err < FG_HTTP_E_MAX ? fg_http_errs[err].name : "unknown";
}

/* Methods by enum value; the reader matches them case-sensitively
 * (RFC 9110 9.1). */
static const char *const fg_http_methods[] = {
	[FG_HTTP_GET] = "GET",         [FG_HTTP_HEAD] = "HEAD",
	[FG_HTTP_POST] = "POST",       [FG_HTTP_PUT] = "PUT",
	[FG_HTTP_DELETE] = "DELETE",   [FG_HTTP_OPTIONS] = "OPTIONS",
	[FG_HTTP_TRACE] = "TRACE",     [FG_HTTP_PATCH] = "PATCH",
};
/* The longest of them: a longer token is refused at its 8th byte. */
#define FG_HTTP_METHOD_LEN_MAX 7u

const char *fg_http_method_name(unsigned int method)
{
	if (method < FG_HTTP_GET || method > FG_HTTP_PATCH)
		return NULL;
	return fg_http_methods[method];
}

/* ---------------------------------------------------------------------
 * Settings (control side)
 */

void fg_http_conf_init(struct fg_http_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->head_max = FG_HTTP_HEAD_MAX_DEFAULT;
	conf->target_max = FG_HTTP_TARGET_MAX_DEFAULT;
	conf->headers_max = FG_HTTP_HEADERS_MAX_DEFAULT;
}

int fg_http_conf_limits(struct fg_http_conf *conf, uint32_t head_max,
			uint32_t target_max, uint32_t headers_max)
{
	if (head_max < FG_HTTP_HEAD_MIN || head_max > FG_HTTP_HEAD_LIMIT ||
	    target_max < 1 || target_max > head_max ||
	    headers_max < 1 || headers_max > FG_HTTP_HEADERS_LIMIT)
		return -EINVAL;
	conf->head_max = head_max;
	conf->target_max = target_max;
	conf->headers_max = headers_max;
	return 0;
}

/* fg_http_watch_find - the slot watching p[0..len) (any case), or -1. */
static int fg_http_watch_find(const struct fg_http_conf *conf,
			      const uint8_t *p, uint32_t len)
{
	uint32_t mask;

	if (len > FG_HTTP_NAME_MAX)
		return -1;
	mask = conf->by_len[len];
	while (mask) {
		int slot = __builtin_ctz(mask);

		if (fg_http_eq_lc(p, conf->name[slot], len))
			return slot;
		mask &= mask - 1;
	}
	return -1;
}

int fg_http_watch_add(struct fg_http_conf *conf, const char *name,
		      size_t len)
{
	uint32_t i;
	int slot;

	if (!fg_httpsyn_token(name, len, FG_HTTP_NAME_MAX))
		return -EINVAL;
	slot = fg_http_watch_find(conf, (const uint8_t *)name, (uint32_t)len);
	if (slot >= 0)
		return slot;
	if (conf->nwatch >= FG_HTTP_WATCH_MAX)
		return -ENOSPC;
	slot = (int)conf->nwatch++;
	for (i = 0; i < len; i++)
		conf->name[slot][i] = (char)fg_http_lower((uint8_t)name[i]);
	conf->name_len[slot] = (uint8_t)len;
	conf->by_len[len] |= 1u << slot;
	return slot;
}

/* ---------------------------------------------------------------------
 * Reader
 */

enum fg_http_state {
	S_START = 0,  /* before the request line (empty lines allowed) */
	S_START_LF,   /* after the CR of an empty line */
	S_METHOD,
	S_TARGET,
	S_VERSION,    /* tok: start of "HTTP/" */
	S_RL_LF,      /* after the request line's CR */
	S_HDR_START,  /* at the start of a header line or the empty line */
	S_HDR_NAME,
	S_HDR_OWS,    /* after the colon */
	S_HDR_VALUE,
	S_HDR_LF,     /* after a header line's CR */
	S_END_LF,     /* after the empty line's CR */
	S_DONE,
};

/* Special headers (req->special, and bits of req->seen). */
#define H_HOST 1u
#define H_CL   2u
#define H_TE   4u

/* "/" for an absolute-form target with an empty path. */
static const char fg_http_slash[] = "/";

void fg_http_init(struct fg_http_req *req, const struct fg_http_conf *conf,
		  char *buf)
{
	static const struct fg_http_str none;
	uint32_t i;

	/* Field by field rather than one memset: this runs per request,
	 * and a memset of the struct compiles to a slow `rep stos`. */
	req->conf = conf;
	req->buf = buf;
	req->have = req->pos = req->tok = req->val = req->val_end = 0;
	req->nheaders = 0;
	req->slot = -1;
	req->special = 0;
	req->state = S_START;
	req->err = FG_HTTP_E_NONE;
	req->result = FG_HTTP_MORE;
	req->seen = 0;
	req->method = req->version = req->form = req->framing = 0;
	req->head_len = 0;
	req->content_length = 0;
	req->method_str = req->target = req->path = none;
	req->query = req->host = none;
	/* Only the watch slots this conf uses. */
	for (i = 0; i < conf->nwatch; i++) {
		req->hdr[i].p = NULL;
		req->hdr[i].len = 0;
		req->hdr[i].count = 0;
		req->hdr[i].differ = 0;
	}
}

/* fg_http_fail - refuse the request for reason err; returns the status. */
static int fg_http_fail(struct fg_http_req *req, unsigned int err)
{
	req->err = (uint8_t)err;
	req->result = (uint16_t)fg_http_errs[err].status;
	req->state = S_DONE;
	return req->result;
}

/* The reason for an unexpected byte c where syntax error `syn` applies: a
 * lone LF and control characters get their own counters. A CR lands on
 * `syn` (it ends a line where no line may end). */
static unsigned int fg_http_bad(uint8_t c, unsigned int syn)
{
	if (c == '\n')
		return FG_HTTP_E_BARE_LF;
	if (c != '\r' && IS(c, C_CTL))
		return FG_HTTP_E_CTL;
	return syn;
}

/*
 * fg_http_authority - check p[0..len) as `uri-host [":" port]` (RFC 9110
 * 7.2, RFC 3986 3.2.2): an IP-literal in brackets of hex digits, ':' and
 * '.', or a reg-name (unreserved, sub-delims, %XX); a port of up to 5
 * digits. *host_len receives the length of the host part. Returns 0, or
 * -1 when it is not one. An empty string is an empty reg-name.
 */
static int fg_http_authority(const uint8_t *p, uint32_t len,
			     uint32_t *host_len)
{
	uint32_t i = 0, port;

	if (len && p[0] == '[') {
		for (i = 1; i < len && p[i] != ']'; i++)
			if (!IS(p[i], C_HEX) && p[i] != ':' && p[i] != '.')
				return -1;
		if (i == len || i < 3)
			return -1;
		i++;
	} else {
		while (i < len && p[i] != ':') {
			if (!IS(p[i], C_REG))
				return -1;
			if (p[i] == '%') {
				if (!fg_httpsyn_pct_ok((const char *)p, len, i))
					return -1;
				i += 2;
			}
			i++;
		}
	}
	*host_len = i;
	if (i == len)
		return 0;
	if (p[i] != ':' || len - i - 1 > 5)
		return -1;
	for (port = i + 1; port < len; port++)
		if (!IS(p[port], C_DIGIT))
			return -1;
	return 0;
}

/*
 * fg_http_dot_segment - 1 when the path p[0..len) (starting with '/') has
 * a segment that is "." or "..", each dot raw or as %2e. Browsers resolve
 * these before sending; a backend that resolves them would serve another
 * path than the one the routes and seckill rules judged.
 */
static int fg_http_dot_segment(const uint8_t *p, uint32_t len)
{
	uint32_t i = 0;

	if (!memchr(p, '.', len) && !memchr(p, '%', len))
		return 0;
	while (i < len) {
		uint32_t j = i + 1, dots = 0;
		int only = 1;

		while (j < len && p[j] != '/') {
			if (p[j] == '.') {
				dots++;
				j++;
			} else if (p[j] == '%' && len - j >= 3 &&
				   p[j + 1] == '2' &&
				   fg_http_lower(p[j + 2]) == 'e') {
				dots++;
				j += 3;
			} else {
				only = 0;
				j++;
			}
		}
		if (only && (dots == 1 || dots == 2))
			return 1;
		i = j;
	}
	return 0;
}

/*
 * fg_http_target - interpret the target buf[start..end): its form, path,
 * query and (absolute form) host. Returns 0 or an enum fg_http_err.
 */
static unsigned int fg_http_target(struct fg_http_req *req, uint32_t start,
				   uint32_t end)
{
	const uint8_t *b = (const uint8_t *)req->buf;
	uint32_t len = end - start, p = start, q, a, hlen;
	const uint8_t *qm;

	req->target.p = req->buf + start;
	req->target.len = len;
	if (b[start] == '*' && len == 1) {
		if (req->method != FG_HTTP_OPTIONS)
			return FG_HTTP_E_TARGET;
		req->form = FG_HTTP_FORM_ASTERISK;
		req->path = req->target;
		return 0;
	}
	if (b[start] != '/') {
		/* absolute-form: http or https, an authority without
		 * userinfo and with a host, then an optional path. */
		if (len >= 7 && fg_http_eq_lc(b + start, "http://", 7))
			a = start + 7;
		else if (len >= 8 && fg_http_eq_lc(b + start, "https://", 8))
			a = start + 8;
		else
			return FG_HTTP_E_TARGET;
		for (p = a; p < end && b[p] != '/' && b[p] != '?'; p++)
			if (b[p] == '@')
				return FG_HTTP_E_TARGET;
		if (fg_http_authority(b + a, p - a, &hlen) || !hlen)
			return FG_HTTP_E_TARGET;
		req->host.p = req->buf + a;
		req->host.len = hlen;
		req->form = FG_HTTP_FORM_ABSOLUTE;
	} else {
		req->form = FG_HTTP_FORM_ORIGIN;
	}
	qm = memchr(b + p, '?', end - p);
	q = qm ? (uint32_t)(qm - b) : end;
	if (q == p) {
		req->path.p = fg_http_slash;
		req->path.len = 1;
	} else {
		req->path.p = req->buf + p;
		req->path.len = q - p;
		if (fg_http_dot_segment(b + p, q - p))
			return FG_HTTP_E_DOT_SEGMENT;
	}
	if (qm) {
		req->query.p = req->buf + q + 1;
		req->query.len = end - q - 1;
	}
	return 0;
}

/* fg_http_method_id - the enum fg_http_method of p[0..len), or 0. By
 * length first: one fixed-size compare per request. */
static unsigned int fg_http_method_id(const uint8_t *p, uint32_t len)
{
	switch (len) {
	case 3:
		return !memcmp(p, "GET", 3) ? FG_HTTP_GET :
		       !memcmp(p, "PUT", 3) ? FG_HTTP_PUT : 0;
	case 4:
		return !memcmp(p, "POST", 4) ? FG_HTTP_POST :
		       !memcmp(p, "HEAD", 4) ? FG_HTTP_HEAD : 0;
	case 5:
		return !memcmp(p, "PATCH", 5) ? FG_HTTP_PATCH :
		       !memcmp(p, "TRACE", 5) ? FG_HTTP_TRACE : 0;
	case 6:
		return !memcmp(p, "DELETE", 6) ? FG_HTTP_DELETE : 0;
	case 7:
		return !memcmp(p, "OPTIONS", 7) ? FG_HTTP_OPTIONS : 0;
	}
	return 0;
}

/*
 * fg_http_name - what the header name buf[tok..end) is: sets req->special
 * and req->slot.
 */
static void fg_http_name(struct fg_http_req *req, uint32_t end)
{
	const uint8_t *p = (const uint8_t *)req->buf + req->tok;
	uint32_t len = end - req->tok;

	req->special = 0;
	if (len == 4 && fg_http_eq_lc(p, "host", 4))
		req->special = H_HOST;
	else if (len == 14 && fg_http_eq_lc(p, "content-length", 14))
		req->special = H_CL;
	else if (len == 17 && fg_http_eq_lc(p, "transfer-encoding", 17))
		req->special = H_TE;
	req->slot = (int16_t)(req->conf->nwatch ?
			      fg_http_watch_find(req->conf, p, len) : -1);
}

/*
 * fg_http_field - apply the header line just read (value buf[val..val_end)).
 * Returns 0 or an enum fg_http_err.
 */
static unsigned int fg_http_field(struct fg_http_req *req)
{
	const uint8_t *v = (const uint8_t *)req->buf + req->val;
	uint32_t len = req->val_end - req->val, i, hlen;
	uint64_t cl = 0;

	switch (req->special) {
	case H_HOST:
		if (req->seen & H_HOST)
			return FG_HTTP_E_HOST_DUP;
		if (fg_http_authority(v, len, &hlen))
			return FG_HTTP_E_HOST_BAD;
		/* Absolute form: the target's host wins (RFC 9112 3.2.2). */
		if (req->form != FG_HTTP_FORM_ABSOLUTE) {
			req->host.p = (const char *)v;
			req->host.len = hlen;
		}
		break;
	case H_CL:
		/* Identical duplicates are legal (RFC 9112 6.3) but a
		 * backend may read them as a list: refused. */
		if (req->seen & H_CL)
			return FG_HTTP_E_CL_DUP;
		if (!len)
			return FG_HTTP_E_CL_BAD;
		for (i = 0; i < len; i++) {
			uint64_t d = (uint64_t)(v[i] - '0');

			/* Below 2^63: a backend may hold it signed. */
			if (!IS(v[i], C_DIGIT) ||
			    cl > (UINT64_C(0x7fffffffffffffff) - d) / 10)
				return FG_HTTP_E_CL_BAD;
			cl = cl * 10 + d;
		}
		if (req->seen & H_TE)
			return FG_HTTP_E_TE_CL;
		req->content_length = cl;
		break;
	case H_TE:
		/* HTTP/1.0 has no transfer codings: faulty framing (RFC 9112
		 * 6.1); a second line would apply chunked twice. */
		if (req->version == 10 || (req->seen & H_TE) || !len)
			return FG_HTTP_E_TE_BAD;
		if (len != 7 || !fg_http_eq_lc(v, "chunked", 7))
			return FG_HTTP_E_TE_UNSUP;
		if (req->seen & H_CL)
			return FG_HTTP_E_TE_CL;
		break;
	}
	req->seen |= req->special;
	if (req->slot >= 0) {
		struct fg_http_field *f = &req->hdr[req->slot];

		if (!f->count) {
			f->p = (const char *)v;
			f->len = len;
		} else if (f->len != len || memcmp(f->p, v, len)) {
			f->differ = 1;
		}
		if (f->count < 255)
			f->count++;
	}
	return 0;
}

/* fg_http_end - the empty line ended the head at byte `pos` (its LF). */
static int fg_http_end(struct fg_http_req *req, uint32_t pos)
{
	if (req->version == 11 && !(req->seen & H_HOST))
		return fg_http_fail(req, FG_HTTP_E_HOST_MISSING);
	if (req->seen & H_TE)
		req->framing = FG_HTTP_BODY_CHUNKED;
	else if (req->seen & H_CL)
		req->framing = FG_HTTP_BODY_LENGTH;
	else
		req->framing = FG_HTTP_BODY_NONE;
	req->head_len = pos + 1;
	req->state = S_DONE;
	req->result = FG_HTTP_COMPLETE;
	return FG_HTTP_COMPLETE;
}

/*
 * Word-at-a-time scans: 8 bytes per step while no byte in them can end
 * the run, then byte by byte to the exact stop. fg_http_haslt is the
 * classic "has a byte below n" test (exact as a yes/no for n <= 128);
 * fg_http_haseq "has a byte equal to c".
 */

static inline uint64_t fg_http_haslt(uint64_t x, uint8_t n)
{
	return (x - FG_HTTP_ONES * n) & ~x & FG_HTTP_HIGHS;
}

static inline uint64_t fg_http_haseq(uint64_t x, uint8_t c)
{
	return fg_http_haslt(x ^ (FG_HTTP_ONES * c), 1);
}

/* The end of the run of field-value bytes (VCHAR, obs-text, SP, HTAB)
 * at b[pos..end): what is not a control byte, and HTAB. */
static inline uint32_t fg_http_scan_value(const uint8_t *b, uint32_t pos,
					  uint32_t end)
{
	uint64_t x;

	while (end - pos >= 8) {
		memcpy(&x, b + pos, 8);
		if (fg_http_haslt(x, 0x20) | fg_http_haseq(x, 0x7f))
			break;
		pos += 8;
	}
	while (pos < end && IS(b[pos], C_VALUE | C_WS))
		pos++;
	return pos;
}

/* Each byte of x (all below 0x80) is c or above: its high bit. */
static inline uint64_t fg_http_ge(uint64_t x, uint8_t c)
{
	return (x + FG_HTTP_ONES * (uint8_t)(0x80 - c)) & FG_HTTP_HIGHS;
}

/*
 * The end of a header name's run of token bytes at b[pos..end): 8 at a
 * time while all 8 are letters, digits or '-' (what names are made of),
 * then byte by byte over any token byte. In the fast test, bytes below
 * 0x20 or from 0x80 on fail at once; the rest are folded to lower case
 * (| 0x20), which maps no other byte of 0x20-0x7f onto a letter, a digit
 * or '-' (only 0x10-0x19 and 0x0d would, and they are out).
 */
static inline uint32_t fg_http_scan_name(const uint8_t *b, uint32_t pos,
					 uint32_t end)
{
	uint64_t x, y, ok;

	while (end - pos >= 8) {
		memcpy(&x, b + pos, 8);
		if (fg_http_haslt(x, 0x20) | (x & FG_HTTP_HIGHS))
			break;
		y = x | FG_HTTP_ONES * 0x20;
		ok = (fg_http_ge(y, 'a') & ~fg_http_ge(y, 'z' + 1)) |
		     (fg_http_ge(y, '0') & ~fg_http_ge(y, '9' + 1)) |
		     (fg_http_ge(y, '-') & ~fg_http_ge(y, '-' + 1));
		if (ok != FG_HTTP_HIGHS)
			break;
		pos += 8;
	}
	while (pos < end && IS(b[pos], C_TCHAR))
		pos++;
	return pos;
}

/* The end of the run of target bytes (0x21-0x7e but '#') at b[pos..lim). */
static inline uint32_t fg_http_scan_target(const uint8_t *b, uint32_t pos,
					   uint32_t lim)
{
	uint64_t x;

	while (lim - pos >= 8) {
		memcpy(&x, b + pos, 8);
		if (fg_http_haslt(x, 0x21) | (x & FG_HTTP_HIGHS) |
		    fg_http_haseq(x, 0x7f) | fg_http_haseq(x, '#'))
			break;
		pos += 8;
	}
	while (pos < lim && IS(b[pos], C_TARGET))
		pos++;
	return pos;
}

/*
 * fg_http_run - read buf[pos..have). Returns FG_HTTP_MORE, FG_HTTP_COMPLETE
 * or the refusal's status.
 *
 * One block per state, entered through the switch when a feed resumes
 * and by goto from the block before it otherwise, so that a head that
 * arrives whole runs straight through without a dispatch per token.
 * NEED(state) stops at the end of the bytes, remembering where.
 */
static int fg_http_run(struct fg_http_req *req)
{
	const uint8_t *b = (const uint8_t *)req->buf;
	const struct fg_http_conf *conf = req->conf;
	uint32_t pos = req->pos, end = req->have, lim;
	unsigned int err, m;
	uint8_t c;

#define NEED(st) \
	do { \
		if (pos == end) { \
			req->state = (st); \
			goto more; \
		} \
	} while (0)
#define FAIL(e) return fg_http_fail(req, (e))

	switch (req->state) {
	case S_START: goto s_start;
	case S_START_LF: goto s_start_lf;
	case S_METHOD: goto s_method;
	case S_TARGET: goto s_target;
	case S_VERSION: goto s_version;
	case S_RL_LF: goto s_rl_lf;
	case S_HDR_START: goto s_hdr_start;
	case S_HDR_NAME: goto s_hdr_name;
	case S_HDR_OWS: goto s_hdr_ows;
	case S_HDR_VALUE: goto s_hdr_value;
	case S_HDR_LF: goto s_hdr_lf;
	case S_END_LF: goto s_end_lf;
	default: return req->result;
	}

s_start:
	NEED(S_START);
	c = b[pos];
	if (c == '\r') {
		pos++;
		goto s_start_lf;
	}
	if (!IS(c, C_TCHAR))
		FAIL(fg_http_bad(c, FG_HTTP_E_LINE));
	req->tok = pos;
	goto s_method;
s_start_lf:
	NEED(S_START_LF);
	if (b[pos] != '\n')
		FAIL(FG_HTTP_E_BARE_CR);
	pos++;
	goto s_start;

s_method:
	lim = req->tok + FG_HTTP_METHOD_LEN_MAX + 1;
	while (pos < end && pos < lim && IS(b[pos], C_TCHAR))
		pos++;
	if (pos - req->tok > FG_HTTP_METHOD_LEN_MAX)
		FAIL(FG_HTTP_E_METHOD);
	NEED(S_METHOD);
	if (b[pos] != ' ')
		FAIL(fg_http_bad(b[pos], FG_HTTP_E_LINE));
	m = fg_http_method_id(b + req->tok, pos - req->tok);
	if (!m)
		FAIL(FG_HTTP_E_METHOD);
	req->method = (uint8_t)m;
	req->method_str.p = req->buf + req->tok;
	req->method_str.len = pos - req->tok;
	req->tok = ++pos;
	goto s_target;

s_target:
	lim = req->tok + conf->target_max + 1;
	pos = fg_http_scan_target(b, pos, lim < end ? lim : end);
	if (pos - req->tok > conf->target_max)
		FAIL(FG_HTTP_E_TARGET_LONG);
	NEED(S_TARGET);
	if (b[pos] != ' ')
		FAIL(fg_http_bad(b[pos], FG_HTTP_E_TARGET));
	if (pos == req->tok)
		FAIL(FG_HTTP_E_LINE);
	err = fg_http_target(req, req->tok, pos);
	if (err)
		FAIL(err);
	req->tok = ++pos;
	goto s_version;

s_version:
	/* "HTTP/" DIGIT "." DIGIT, case-sensitive, then CR. */
	while (pos < end && pos - req->tok < 8) {
		uint32_t off = pos - req->tok;
		int ok = off < 5 ? b[pos] == (uint8_t)"HTTP/"[off] :
			 off == 6 ? b[pos] == '.' : !!IS(b[pos], C_DIGIT);

		if (!ok)
			FAIL(fg_http_bad(b[pos], FG_HTTP_E_VERSION));
		pos++;
	}
	NEED(S_VERSION);
	if (b[pos] != '\r')
		FAIL(fg_http_bad(b[pos], FG_HTTP_E_VERSION));
	if (b[req->tok + 5] != '1' ||
	    (b[req->tok + 7] != '0' && b[req->tok + 7] != '1'))
		FAIL(FG_HTTP_E_VERSION_UNSUP);
	req->version = (uint8_t)(10 + b[req->tok + 7] - '0');
	pos++;
	goto s_rl_lf;
s_rl_lf:
	NEED(S_RL_LF);
	if (b[pos] != '\n')
		FAIL(FG_HTTP_E_BARE_CR);
	pos++;
	goto s_hdr_start;

s_hdr_start:
	NEED(S_HDR_START);
	c = b[pos];
	if (c == '\r') {
		pos++;
		goto s_end_lf;
	}
	if (IS(c, C_WS))
		FAIL(FG_HTTP_E_OBS_FOLD);
	if (!IS(c, C_TCHAR))
		FAIL(fg_http_bad(c, FG_HTTP_E_HEADER));
	if (++req->nheaders > conf->headers_max)
		FAIL(FG_HTTP_E_TOO_MANY);
	req->tok = pos++;
	goto s_hdr_name;
s_hdr_name:
	pos = fg_http_scan_name(b, pos, end);
	NEED(S_HDR_NAME);
	/* No whitespace before the colon (RFC 9112 5.1). */
	if (b[pos] != ':')
		FAIL(fg_http_bad(b[pos], FG_HTTP_E_HEADER));
	fg_http_name(req, pos);
	pos++;
	goto s_hdr_ows;
s_hdr_ows:
	while (pos < end && IS(b[pos], C_WS))
		pos++;
	NEED(S_HDR_OWS);
	c = b[pos];
	if (c == '\r') {
		req->val = req->val_end = pos++;
		goto s_hdr_lf;
	}
	if (!IS(c, C_VALUE))
		FAIL(fg_http_bad(c, FG_HTTP_E_HEADER));
	req->val = pos++;
	goto s_hdr_value;
s_hdr_value:
	pos = fg_http_scan_value(b, pos, end);
	NEED(S_HDR_VALUE);
	if (b[pos] != '\r')
		FAIL(fg_http_bad(b[pos], FG_HTTP_E_HEADER));
	lim = pos;
	while (lim > req->val && IS(b[lim - 1], C_WS))
		lim--;
	req->val_end = lim;
	pos++;
	goto s_hdr_lf;
s_hdr_lf:
	NEED(S_HDR_LF);
	if (b[pos] != '\n')
		FAIL(FG_HTTP_E_BARE_CR);
	err = fg_http_field(req);
	if (err)
		FAIL(err);
	pos++;
	goto s_hdr_start;

s_end_lf:
	NEED(S_END_LF);
	if (b[pos] != '\n')
		FAIL(FG_HTTP_E_BARE_CR);
	return fg_http_end(req, pos);

more:
	req->pos = pos;
	if (pos == conf->head_max)
		/* The head did not end within the limit: a request line
		 * still being read is a too-long target. */
		FAIL(req->state < S_HDR_START ? FG_HTTP_E_TARGET_LONG :
		     FG_HTTP_E_HEAD_LONG);
	return FG_HTTP_MORE;
#undef NEED
#undef FAIL
}

int fg_http_feed(struct fg_http_req *req, const void *data, size_t len,
		 size_t *used)
{
	uint32_t room, n, before = req->have;
	int rc;

	if (used)
		*used = 0;
	if (req->state == S_DONE)
		return req->result;
	room = req->conf->head_max - req->have;
	n = len < room ? (uint32_t)len : room;
	if (!n)
		return FG_HTTP_MORE;
	memcpy(req->buf + req->have, data, n);
	req->have += n;
	rc = fg_http_run(req);
	if (used)
		*used = rc == FG_HTTP_COMPLETE ? req->head_len - before : n;
	return rc;
}
