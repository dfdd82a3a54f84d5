/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fuzz_http.c - libFuzzer target for the L7 request reader (fg_http) and
 * item extractor (fg_item).
 *
 * Each input is copied into a heap buffer of exactly its size (ASan then
 * catches any read past its end) and read as one request's stream with
 * two settings, the defaults and small limits (so that the 414/431 paths
 * are reached by short inputs): whole, cut at three points derived from
 * the data, and (short inputs) one byte at a time. Every way must give
 * the same result and the same fields at the same offsets; results must
 * hold the invariants below for every input; a complete head read again
 * without the bytes after it must give the same again. The items of a
 * complete request are extracted and checked. A violation prints what
 * failed and aborts, which libFuzzer records as a crash.
 *
 * Built two ways (tests/fuzz/meson.build): with clang -fsanitize=fuzzer
 * for fuzzing, and with replay_main.c as a plain program that runs the
 * checked-in corpus (tests/fuzz/corpus/http) as a regression test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_http.h"
#include "fg_item.h"
#include "http_snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs up to this long are also read one byte at a time. */
#define FZ_BYTEWISE_MAX 512u

static void fz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_http: invariant violated at line %d: %s\n",
		line, what);
	abort();
}

#define FZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			fz_fail(#cond, __LINE__); \
	} while (0)

static struct fg_http_conf fz_conf[2];
static struct fg_item fz_items[5];
static int fz_ready;

static void fz_setup(void)
{
	static const char *const items[] = {
		"segment:1", "segment:2", "query:id", "header:X-Item",
		"header:host",
	};
	unsigned int i, c;

	fg_http_conf_init(&fz_conf[0]);
	fg_http_conf_init(&fz_conf[1]);
	if (fg_http_conf_limits(&fz_conf[1], 128, 40, 4))
		fz_fail("fg_http_conf_limits", __LINE__);
	for (c = 0; c < 2; c++) {
		if (fg_http_watch_add(&fz_conf[c], "Cookie", 6) != 0)
			fz_fail("fg_http_watch_add", __LINE__);
		for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
			if (fg_item_parse(&fz_items[i], items[i],
					  strlen(items[i]), &fz_conf[c], NULL))
				fz_fail("fg_item_parse", __LINE__);
	}
	fz_ready = 1;
}

/* A string the reader returns: the absolute form's static "/", or inside
 * the head, before its final CRLF CRLF, with no CR or LF in it. */
static void fz_str_check(const struct fg_http_req *r, const char *p,
			 uint32_t len)
{
	size_t off;

	if (!p)
		return;
	if (p < r->buf || p >= r->buf + r->conf->head_max) {
		FZ_CHECK(len == 1 && p[0] == '/');
		return;
	}
	off = (size_t)(p - r->buf);
	FZ_CHECK(off + len <= r->head_len);
	FZ_CHECK(!memchr(p, '\r', len) && !memchr(p, '\n', len));
}

/* The snapshot (http_snap.h; used bytes are not compared here) after
 * checking every string of a complete request. */
static void fz_snap(struct fg_http_snap *s, const struct fg_http_req *r, int rc)
{
	unsigned int i;

	if (rc == FG_HTTP_COMPLETE) {
		fz_str_check(r, r->method_str.p, r->method_str.len);
		fz_str_check(r, r->target.p, r->target.len);
		fz_str_check(r, r->path.p, r->path.len);
		fz_str_check(r, r->query.p, r->query.len);
		fz_str_check(r, r->host.p, r->host.len);
		for (i = 0; i < r->conf->nwatch; i++)
			fz_str_check(r, r->hdr[i].p, r->hdr[i].len);
	}
	fg_http_snap_take(s, r, rc, 0);
}

/* Read data[0..size) cut at cuts[0..ncuts) (ascending) into a fresh
 * request on buf; returns the result, *used_sum the head bytes. */
static int fz_read(struct fg_http_req *r, const struct fg_http_conf *conf,
		   char *buf, const uint8_t *data, size_t size,
		   const size_t *cuts, size_t ncuts, size_t *used_sum)
{
	size_t start = 0, i, used;
	int rc = FG_HTTP_MORE;

	fg_http_init(r, conf, buf);
	*used_sum = 0;
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : size;

		rc = fg_http_feed(r, data + start, end - start, &used);
		FZ_CHECK(used <= end - start);
		*used_sum += used;
		if (rc != FG_HTTP_MORE)
			break;
		start = end;
	}
	return rc;
}

/* Invariants of one result, whatever the input. */
static void fz_check(const struct fg_http_req *r, int rc,
		     const uint8_t *data, size_t size, size_t used)
{
	const struct fg_http_conf *c = r->conf;
	unsigned int i;

	FZ_CHECK(rc == FG_HTTP_MORE || rc == FG_HTTP_COMPLETE || rc == 400 ||
		 rc == 414 || rc == 431 || rc == 501 || rc == 505);
	FZ_CHECK(r->have <= c->head_max && r->pos <= r->have);
	FZ_CHECK(memcmp(r->buf, data, r->have) == 0);
	if (rc == FG_HTTP_MORE) {
		/* Undecided only while the head may still end in time. */
		FZ_CHECK(size < c->head_max && r->err == FG_HTTP_E_NONE);
		FZ_CHECK(used == size);
		return;
	}
	if (rc != FG_HTTP_COMPLETE) {
		FZ_CHECK(r->err > FG_HTTP_E_NONE && r->err < FG_HTTP_E_MAX);
		FZ_CHECK(fg_http_err_status(r->err) == rc);
		return;
	}
	FZ_CHECK(r->err == FG_HTTP_E_NONE);
	FZ_CHECK(r->head_len >= 18 && r->head_len <= size &&
		 r->head_len <= c->head_max && used == r->head_len);
	FZ_CHECK(memcmp(data + r->head_len - 4, "\r\n\r\n", 4) == 0);
	FZ_CHECK(fg_http_method_name(r->method) != NULL);
	FZ_CHECK(r->method_str.len == strlen(fg_http_method_name(r->method)));
	FZ_CHECK(!memcmp(r->method_str.p, fg_http_method_name(r->method),
			 r->method_str.len));
	FZ_CHECK(r->version == 10 || r->version == 11);
	FZ_CHECK(r->version == 10 || r->host.p);
	FZ_CHECK(r->target.len >= 1 && r->target.len <= c->target_max);
	FZ_CHECK(r->path.len >= 1 && r->path.len <= r->target.len);
	FZ_CHECK(r->form == FG_HTTP_FORM_ASTERISK ? r->path.p[0] == '*' :
		 r->path.p[0] == '/');
	FZ_CHECK(r->form == FG_HTTP_FORM_ABSOLUTE ? r->host.len > 0 :
		 r->path.p == r->target.p);
	if (r->query.p)
		FZ_CHECK(r->query.p[-1] == '?' &&
			 r->query.p + r->query.len ==
			 r->target.p + r->target.len);
	FZ_CHECK(r->framing == FG_HTTP_BODY_NONE ||
		 r->framing == FG_HTTP_BODY_LENGTH ||
		 r->framing == FG_HTTP_BODY_CHUNKED);
	FZ_CHECK(r->framing != FG_HTTP_BODY_CHUNKED || r->version == 11);
	FZ_CHECK(r->framing == FG_HTTP_BODY_LENGTH ||
		 r->content_length == 0);
	FZ_CHECK(r->content_length <= (uint64_t)INT64_MAX);
	FZ_CHECK(r->nheaders <= c->headers_max);
	for (i = 0; i < c->nwatch; i++) {
		FZ_CHECK(!r->hdr[i].count == !r->hdr[i].p);
		FZ_CHECK(r->hdr[i].count <= r->nheaders);
		FZ_CHECK(r->hdr[i].count > 1 || !r->hdr[i].differ);
		if (r->hdr[i].len)
			FZ_CHECK(r->hdr[i].p[0] != ' ' &&
				 r->hdr[i].p[0] != '\t' &&
				 r->hdr[i].p[r->hdr[i].len - 1] != ' ' &&
				 r->hdr[i].p[r->hdr[i].len - 1] != '\t');
	}
}

/* Every item of a complete request: a defined answer, bounded output,
 * no control byte, the same answer twice. */
static void fz_items_check(const struct fg_http_req *r)
{
	char out[FG_ITEM_MAX], out2[FG_ITEM_MAX];
	size_t len, len2, j;
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(fz_items) / sizeof(fz_items[0]); i++) {
		rc = fg_item_extract(&fz_items[i], r, out, sizeof(out), &len);
		FZ_CHECK(rc == FG_ITEM_OK || rc == FG_ITEM_MISSING ||
			 rc == FG_ITEM_MALFORMED);
		FZ_CHECK(fg_item_extract(&fz_items[i], r, out2, sizeof(out2),
					 &len2) == rc);
		if (rc != FG_ITEM_OK)
			continue;
		FZ_CHECK(len >= 1 && len <= sizeof(out) && len == len2);
		FZ_CHECK(!memcmp(out, out2, len));
		for (j = 0; j < len; j++)
			FZ_CHECK((uint8_t)out[j] >= 0x20 &&
				 (uint8_t)out[j] != 0x7f);
		/* A smaller buffer either holds the same item or calls it
		 * malformed (too long); it never truncates. */
		rc = fg_item_extract(&fz_items[i], r, out2, len - 1 ? len - 1 : 1,
				     &len2);
		if (len > 1)
			FZ_CHECK(rc == FG_ITEM_MALFORMED);
	}
}

static void fz_one(const struct fg_http_conf *conf, const uint8_t *data,
		   size_t size)
{
	static char buf_a[FG_HTTP_HEAD_LIMIT], buf_b[FG_HTTP_HEAD_LIMIT];
	static size_t cuts[FZ_BYTEWISE_MAX];
	struct fg_http_req a, b;
	struct fg_http_snap sa, sb;
	size_t used, i, ncuts;
	uint32_t h = 2166136261u;
	int rc, rc2;

	rc = fz_read(&a, conf, buf_a, data, size, NULL, 0, &used);
	fz_check(&a, rc, data, size, used);
	fz_snap(&sa, &a, rc);
	if (rc == FG_HTTP_COMPLETE)
		fz_items_check(&a);

	/* Three cuts from a hash of the data (FNV-1a over at most 64
	 * bytes), sorted. */
	for (i = 0; i < size && i < 64; i++)
		h = (h ^ data[i]) * 16777619u;
	if (size > 1) {
		cuts[0] = 1 + h % (size - 1);
		cuts[1] = 1 + (h >> 11) % (size - 1);
		cuts[2] = 1 + (size - 1) / 2;
		for (i = 0; i < 2; i++) {
			size_t j, t;

			for (j = 0; j + 1 < 3 - i; j++)
				if (cuts[j] > cuts[j + 1]) {
					t = cuts[j];
					cuts[j] = cuts[j + 1];
					cuts[j + 1] = t;
				}
		}
		rc2 = fz_read(&b, conf, buf_b, data, size, cuts, 3, &used);
		fz_check(&b, rc2, data, size, used);
		fz_snap(&sb, &b, rc2);
		FZ_CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
	}
	if (size > 1 && size <= FZ_BYTEWISE_MAX) {
		ncuts = size - 1;
		for (i = 0; i < ncuts; i++)
			cuts[i] = i + 1;
		rc2 = fz_read(&b, conf, buf_b, data, size, cuts, ncuts, &used);
		fz_check(&b, rc2, data, size, used);
		fz_snap(&sb, &b, rc2);
		FZ_CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
	}
	/* The bytes after a complete head do not matter. */
	if (rc == FG_HTTP_COMPLETE && a.head_len < size) {
		rc2 = fz_read(&b, conf, buf_b, data, a.head_len, NULL, 0, &used);
		fz_snap(&sb, &b, rc2);
		FZ_CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
	}
	/* Nor does a done request read any more. */
	if (rc != FG_HTTP_MORE) {
		FZ_CHECK(fg_http_feed(&a, "x", 1, &used) == rc && used == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (!fz_ready)
		fz_setup();
	/* malloc(0) may return NULL; an empty stream is read too. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	fz_one(&fz_conf[0], buf, size);
	fz_one(&fz_conf[1], buf, size);
	free(buf);
	return 0;
}
