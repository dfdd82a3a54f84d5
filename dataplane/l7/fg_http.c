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
 * Written by hand rather than with a library: the parsers the DPDK world
 * offers (picohttpparser, llhttp) either re-scan the head on each segment
 * or allocate callbacks' state, and none refuses bare LF, obs-fold and
 * TE+CL by itself; the checks here are the product's, not an option.
 */
#include <errno.h>
#include <string.h>

#include "fg_http.h"

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

/* 1 when p[0..len) equals the lower-case ASCII string lc, ignoring case. */
static int fg_http_eq_lc(const uint8_t *p, const char *lc, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
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

	if (!name || len < 1 || len > FG_HTTP_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!IS(name[i], C_TCHAR))
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
	/* Only the watch slots this conf uses: the request struct is
	 * cleared per request, on the fast path. */
	memset(req, 0, offsetof(struct fg_http_req, hdr));
	memset(req->hdr, 0, conf->nwatch * sizeof(req->hdr[0]));
	req->conf = conf;
	req->buf = buf;
	req->slot = -1;
	req->result = FG_HTTP_MORE;
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
				if (len - i < 3 || !IS(p[i + 1], C_HEX) ||
				    !IS(p[i + 2], C_HEX))
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

/* fg_http_method_id - the enum fg_http_method of p[0..len), or 0. */
static unsigned int fg_http_method_id(const uint8_t *p, uint32_t len)
{
	unsigned int m;

	for (m = FG_HTTP_GET; m <= FG_HTTP_PATCH; m++)
		if (strlen(fg_http_methods[m]) == len &&
		    !memcmp(p, fg_http_methods[m], len))
			return m;
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
 * fg_http_run - read buf[pos..have). Returns FG_HTTP_MORE, FG_HTTP_COMPLETE
 * or the refusal's status.
 */
static int fg_http_run(struct fg_http_req *req)
{
	const uint8_t *b = (const uint8_t *)req->buf;
	const struct fg_http_conf *conf = req->conf;
	uint32_t pos = req->pos, end = req->have, lim;
	unsigned int err, m;
	uint8_t c;

	while (pos < end) {
		c = b[pos];
		switch (req->state) {
		case S_START:
			if (c == '\r') {
				req->state = S_START_LF;
			} else if (IS(c, C_TCHAR)) {
				req->tok = pos;
				req->state = S_METHOD;
				continue;
			} else {
				return fg_http_fail(req,
					fg_http_bad(c, FG_HTTP_E_LINE));
			}
			break;
		case S_START_LF:
			if (c != '\n')
				return fg_http_fail(req, FG_HTTP_E_BARE_CR);
			req->state = S_START;
			break;
		case S_METHOD:
			lim = req->tok + FG_HTTP_METHOD_LEN_MAX + 1;
			while (pos < end && pos < lim && IS(b[pos], C_TCHAR))
				pos++;
			if (pos - req->tok > FG_HTTP_METHOD_LEN_MAX)
				return fg_http_fail(req, FG_HTTP_E_METHOD);
			if (pos == end)
				goto more;
			if (b[pos] != ' ')
				return fg_http_fail(req,
					fg_http_bad(b[pos], FG_HTTP_E_LINE));
			m = fg_http_method_id(b + req->tok, pos - req->tok);
			if (!m)
				return fg_http_fail(req, FG_HTTP_E_METHOD);
			req->method = (uint8_t)m;
			req->method_str.p = req->buf + req->tok;
			req->method_str.len = pos - req->tok;
			req->tok = pos + 1;
			req->state = S_TARGET;
			break;
		case S_TARGET:
			lim = req->tok + conf->target_max + 1;
			while (pos < end && pos < lim && IS(b[pos], C_TARGET))
				pos++;
			if (pos - req->tok > conf->target_max)
				return fg_http_fail(req,
						    FG_HTTP_E_TARGET_LONG);
			if (pos == end)
				goto more;
			if (b[pos] != ' ')
				return fg_http_fail(req,
					fg_http_bad(b[pos], FG_HTTP_E_TARGET));
			if (pos == req->tok)
				return fg_http_fail(req, FG_HTTP_E_LINE);
			err = fg_http_target(req, req->tok, pos);
			if (err)
				return fg_http_fail(req, err);
			req->tok = pos + 1;
			req->state = S_VERSION;
			break;
		case S_VERSION: {
			/* "HTTP/" DIGIT "." DIGIT, case-sensitive, then CR. */
			uint32_t off = pos - req->tok;

			if (off < 8) {
				int ok = off < 5 ? c == (uint8_t)"HTTP/"[off] :
					 off == 6 ? c == '.' :
					 !!IS(c, C_DIGIT);

				if (!ok)
					return fg_http_fail(req,
						fg_http_bad(c, FG_HTTP_E_VERSION));
				break;
			}
			if (c != '\r')
				return fg_http_fail(req,
					fg_http_bad(c, FG_HTTP_E_VERSION));
			if (b[req->tok + 5] != '1' ||
			    (b[req->tok + 7] != '0' && b[req->tok + 7] != '1'))
				return fg_http_fail(req,
						    FG_HTTP_E_VERSION_UNSUP);
			req->version = (uint8_t)(10 + b[req->tok + 7] - '0');
			req->state = S_RL_LF;
			break;
		}
		case S_RL_LF:
			if (c != '\n')
				return fg_http_fail(req, FG_HTTP_E_BARE_CR);
			req->state = S_HDR_START;
			break;
		case S_HDR_START:
			if (c == '\r') {
				req->state = S_END_LF;
				break;
			}
			if (IS(c, C_WS))
				return fg_http_fail(req, FG_HTTP_E_OBS_FOLD);
			if (!IS(c, C_TCHAR))
				return fg_http_fail(req,
					fg_http_bad(c, FG_HTTP_E_HEADER));
			if (++req->nheaders > conf->headers_max)
				return fg_http_fail(req, FG_HTTP_E_TOO_MANY);
			req->tok = pos;
			req->state = S_HDR_NAME;
			break;
		case S_HDR_NAME:
			while (pos < end && IS(b[pos], C_TCHAR))
				pos++;
			if (pos == end)
				goto more;
			/* No whitespace before the colon (RFC 9112 5.1). */
			if (b[pos] != ':')
				return fg_http_fail(req,
					fg_http_bad(b[pos], FG_HTTP_E_HEADER));
			fg_http_name(req, pos);
			req->state = S_HDR_OWS;
			break;
		case S_HDR_OWS:
			while (pos < end && IS(b[pos], C_WS))
				pos++;
			if (pos == end)
				goto more;
			c = b[pos];
			if (c == '\r') {
				req->val = req->val_end = pos;
				req->state = S_HDR_LF;
				break;
			}
			if (!IS(c, C_VALUE))
				return fg_http_fail(req,
					fg_http_bad(c, FG_HTTP_E_HEADER));
			req->val = pos;
			req->state = S_HDR_VALUE;
			break;
		case S_HDR_VALUE:
			while (pos < end && IS(b[pos], C_VALUE | C_WS))
				pos++;
			if (pos == end)
				goto more;
			if (b[pos] != '\r')
				return fg_http_fail(req,
					fg_http_bad(b[pos], FG_HTTP_E_HEADER));
			lim = pos;
			while (lim > req->val && IS(b[lim - 1], C_WS))
				lim--;
			req->val_end = lim;
			req->state = S_HDR_LF;
			break;
		case S_HDR_LF:
			if (c != '\n')
				return fg_http_fail(req, FG_HTTP_E_BARE_CR);
			err = fg_http_field(req);
			if (err)
				return fg_http_fail(req, err);
			req->state = S_HDR_START;
			break;
		case S_END_LF:
			if (c != '\n')
				return fg_http_fail(req, FG_HTTP_E_BARE_CR);
			return fg_http_end(req, pos);
		default:
			return req->result;
		}
		pos++;
	}
more:
	req->pos = pos;
	if (pos == conf->head_max)
		/* The head did not end within the limit: a request line
		 * still being read is a too-long target. */
		return fg_http_fail(req, req->state < S_HDR_START ?
				    FG_HTTP_E_TARGET_LONG :
				    FG_HTTP_E_HEAD_LONG);
	return FG_HTTP_MORE;
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
