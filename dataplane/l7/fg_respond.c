/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_respond.c - the answers the L7 dataplane sends itself (fg_respond.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fg_err.h"
#include "fg_respond.h"

/* RFC 9110 section 15 (429: RFC 6585, 451: RFC 7725). Statuses an answer
 * may not carry are absent: those that need a header it lacks. */
static const struct {
	int status;
	const char *reason;
} fg_respond_reasons[] = {
	{400, "Bad Request"},
	{402, "Payment Required"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{406, "Not Acceptable"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{410, "Gone"},
	{411, "Length Required"},
	{412, "Precondition Failed"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{415, "Unsupported Media Type"},
	{417, "Expectation Failed"},
	{421, "Misdirected Request"},
	{422, "Unprocessable Content"},
	{425, "Too Early"},
	{428, "Precondition Required"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{451, "Unavailable For Legal Reasons"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
};

const char *fg_respond_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(fg_respond_reasons) /
			sizeof(fg_respond_reasons[0]); i++)
		if (fg_respond_reasons[i].status == status)
			return fg_respond_reasons[i].reason;
	return NULL;
}

/*
 * fg_respond_ctype_ok - 1 when s[0..len) may be a Content-Type value:
 * visible ASCII and inner SP/HTAB only (no CR, LF, NUL or other control
 * byte, nothing outside ASCII), neither starting nor ending with
 * whitespace, and a type "/" subtype of token bytes before any ';'.
 */
static int fg_respond_ctype_ok(const char *s, size_t len)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i, slash = 0, end = len;
	uint8_t c;

	if (len == 0 || len > FG_RESPOND_CTYPE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (uint8_t)s[i];
		if ((c < 0x21 || c > 0x7e) && c != ' ' && c != '\t')
			return 0;
	}
	if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == ';') {
			end = i;
			break;
		}
	/* Trailing whitespace before ';' is allowed (OWS). */
	while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	for (i = 0; i < end; i++) {
		c = (uint8_t)s[i];
		if (c == '/') {
			if (slash)
				return 0;
			slash = i;
			continue;
		}
		if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
		      (c | 0x20) <= 'z') || (c && strchr(tchar, c))))
			return 0;
	}
	return slash > 0 && slash + 1 < end;
}

/* fg_respond_put - append s[0..n) to r at *at unless past cap. */
static int fg_respond_put(struct fg_respond *r, size_t *at, const char *s,
			  size_t n)
{
	if (n > sizeof(r->bytes) - *at)
		return -ENOSPC;
	memcpy(r->bytes + *at, s, n);
	*at += n;
	return 0;
}

int fg_respond_build(struct fg_respond *r, const struct fg_respond_spec *spec,
		     const char *field, char *err, size_t errlen)
{
	const char *reason, *ctype;
	char line[64 + FG_RESPOND_CTYPE_MAX];
	size_t at = 0;
	int n, rc = 0;

	if (!r || !spec)
		return fg_fail(err, errlen, -EINVAL, "%s: missing", field);
	reason = fg_respond_reason(spec->status);
	if (!reason)
		return fg_fail(err, errlen, -EINVAL,
			       "%s.status: %d is not a status a shed answer may carry "
			       "(4xx or 5xx, not 401 405 407 416 426)",
			       field, spec->status);
	if (spec->retry_after < -1 || spec->retry_after > FG_RESPOND_RETRY_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "%s.retry_after: must be 0..%d seconds", field,
			       FG_RESPOND_RETRY_MAX);
	if (spec->body_len > FG_RESPOND_BODY_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "%s.body: longer than %u bytes", field,
			       FG_RESPOND_BODY_MAX);
	if (spec->body_len && !spec->body)
		return fg_fail(err, errlen, -EINVAL, "%s.body: missing", field);
	ctype = spec->content_type;
	if (ctype && !spec->body_len)
		return fg_fail(err, errlen, -EINVAL,
			       "%s.content_type: given without a body", field);
	if (!ctype && spec->body_len)
		ctype = FG_RESPOND_CTYPE_DEFAULT;
	if (ctype && !fg_respond_ctype_ok(ctype, strnlen(ctype,
					  FG_RESPOND_CTYPE_MAX + 1)))
		return fg_fail(err, errlen, -EINVAL,
			       "%s.content_type: must be type/subtype[; params], "
			       "1..%u visible ASCII bytes", field,
			       FG_RESPOND_CTYPE_MAX);

	memset(r, 0, offsetof(struct fg_respond, bytes));
	n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", spec->status,
		     reason);
	rc |= fg_respond_put(r, &at, line, (size_t)n);
	if (spec->retry_after >= 0) {
		n = snprintf(line, sizeof(line), "Retry-After: %d\r\n",
			     (int)spec->retry_after);
		rc |= fg_respond_put(r, &at, line, (size_t)n);
	}
	if (ctype) {
		n = snprintf(line, sizeof(line), "Content-Type: %s\r\n", ctype);
		rc |= fg_respond_put(r, &at, line, (size_t)n);
	}
	n = snprintf(line, sizeof(line),
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "Connection: close\r\n"
		     "\r\n", spec->body_len);
	rc |= fg_respond_put(r, &at, line, (size_t)n);
	/* FG_RESPOND_HEAD_MAX covers the longest head: never past it. */
	if (rc || at > FG_RESPOND_HEAD_MAX)
		return fg_fail(err, errlen, -EINVAL, "%s: answer too long",
			       field);
	r->head_len = (uint32_t)at;
	if (spec->body_len &&
	    fg_respond_put(r, &at, spec->body, spec->body_len))
		return fg_fail(err, errlen, -EINVAL, "%s: answer too long",
			       field);
	r->len = (uint32_t)at;
	r->status = (uint16_t)spec->status;
	return 0;
}
