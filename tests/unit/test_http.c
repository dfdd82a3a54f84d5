/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_http.c - the L7 request reader (fg_http) and item extractor
 * (fg_item).
 *
 * The corpus is tests/fuzz/corpus/http ($FG_HTTP_CORPUS), one request per
 * file, whose name says what it must give: `ok-...` complete, `more-...`
 * needs more bytes, `bad-<status>-<reason>-...` refused with that status
 * and reason (fg_http_err_name). Every file is read whole, then in two
 * segments at every split point, then one byte at a time: every way must
 * give the same result, the same fields at the same offsets of the head
 * buffer, and segments' `used` that add up to the head.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fg_http.h"
#include "http_snap.h"
#include "fg_item.h"

#define CORPUS_FILES_MAX 1024
#define CORPUS_FILE_MAX  (64 * 1024)

/* The reader settings every corpus test uses: defaults, three watched
 * names. */
static struct fg_http_conf conf;
static int slot_item, slot_cookie, slot_ua;
static char head[FG_HTTP_HEAD_LIMIT];

static void conf_default(void)
{
	fg_http_conf_init(&conf);
	slot_item = fg_http_watch_add(&conf, "X-Item", 6);
	slot_cookie = fg_http_watch_add(&conf, "cookie", 6);
	slot_ua = fg_http_watch_add(&conf, "User-Agent", 10);
	assert_int_equal(slot_item, 0);
	assert_int_equal(slot_cookie, 1);
	assert_int_equal(slot_ua, 2);
}

/* ---------------------------------------------------------------------
 * Results as offsets, comparable between runs with different buffers
 */

/* Feed data[0..len) in segments cut at cuts[0..ncuts) (ascending), into
 * a fresh request on buf. */
static int feed_cuts(struct fg_http_req *r, char *buf, const char *data,
		     size_t len, const size_t *cuts, size_t ncuts,
		     size_t *used_sum)
{
	size_t start = 0, i, used;
	int rc = FG_HTTP_MORE;

	fg_http_init(r, &conf, buf);
	*used_sum = 0;
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		rc = fg_http_feed(r, data + start, end - start, &used);
		assert_true(used <= end - start);
		*used_sum += used;
		if (rc != FG_HTTP_MORE)
			break;
		start = end;
	}
	return rc;
}

static int feed_whole(struct fg_http_req *r, const char *data, size_t len,
		      struct fg_http_snap *s)
{
	size_t used;
	int rc = feed_cuts(r, head, data, len, NULL, 0, &used);

	fg_http_snap_take(s, r, rc, used);
	return rc;
}

/* fg_http_feed on a request that is done reads nothing and says the same. */
static void check_sticky(struct fg_http_req *r, int rc)
{
	size_t used = 99;

	assert_int_equal(fg_http_feed(r, "GET", 3, &used), rc);
	assert_int_equal(used, 0);
}

/* Read data whole, at every split point and byte by byte; all alike. */
static void check_splits(const char *name, const char *data, size_t len,
			 struct fg_http_snap *whole)
{
	static char buf2[FG_HTTP_HEAD_LIMIT];
	struct fg_http_req r;
	struct fg_http_snap s;
	size_t cut, used, *cuts;
	int rc;

	rc = feed_whole(&r, data, len, whole);
	if (rc != FG_HTTP_MORE)
		check_sticky(&r, rc);
	if (rc == FG_HTTP_COMPLETE) {
		assert_true(whole->head_len <= len);
		assert_int_equal(whole->used, whole->head_len);
		assert_memory_equal(head + whole->head_len - 2, "\r\n", 2);
	}
	for (cut = 1; cut < len; cut++) {
		rc = feed_cuts(&r, buf2, data, len, &cut, 1, &used);
		fg_http_snap_take(&s, &r, rc, used);
		if (rc != FG_HTTP_COMPLETE)
			s.used = whole->used = 0; /* bytes copied: by split */
		if (memcmp(&s, whole, sizeof(s)))
			fail_msg("%s: split at %zu gives rc %d err %s, whole "
				 "gives rc %d err %s", name, cut, (int)s.rc,
				 fg_http_err_name(s.err), (int)whole->rc,
				 fg_http_err_name(whole->err));
	}
	cuts = malloc((len ? len : 1) * sizeof(*cuts));
	assert_non_null(cuts);
	for (cut = 1; cut < len; cut++)
		cuts[cut - 1] = cut;
	rc = feed_cuts(&r, buf2, data, len, cuts, len ? len - 1 : 0, &used);
	free(cuts);
	fg_http_snap_take(&s, &r, rc, used);
	if (rc != FG_HTTP_COMPLETE)
		s.used = whole->used = 0;
	if (memcmp(&s, whole, sizeof(s)))
		fail_msg("%s: byte by byte gives rc %d err %s, whole gives "
			 "rc %d err %s", name, (int)s.rc, fg_http_err_name(s.err),
			 (int)whole->rc, fg_http_err_name(whole->err));
}

/* ---------------------------------------------------------------------
 * Corpus
 */

static char *read_file(const char *path, size_t *len)
{
	struct stat sb;
	char *data;
	FILE *f;

	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return NULL;
	assert_true(sb.st_size <= CORPUS_FILE_MAX);
	data = malloc((size_t)sb.st_size + 1);
	assert_non_null(data);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(data, 1, (size_t)sb.st_size, f);
	assert_int_equal(*len, (size_t)sb.st_size);
	fclose(f);
	return data;
}

/* What the file name promises: rc, and for bad- files the reason name. */
static void expect_of(const char *name, int *rc, char *reason, size_t rlen)
{
	const char *p, *q;

	*rc = -1;
	reason[0] = 0;
	if (!strncmp(name, "ok-", 3)) {
		*rc = FG_HTTP_COMPLETE;
	} else if (!strncmp(name, "more-", 5)) {
		*rc = FG_HTTP_MORE;
	} else if (!strncmp(name, "bad-", 4)) {
		*rc = atoi(name + 4);
		p = strchr(name + 4, '-');
		q = p ? strchr(p + 1, '-') : NULL;
		if (!q || (size_t)(q - p) > rlen)
			fail_msg("%s: want bad-<status>-<reason>-<what>", name);
		memcpy(reason, p + 1, (size_t)(q - p - 1));
		reason[q - p - 1] = 0;
	} else {
		fail_msg("%s: corpus names start ok-, more- or bad-", name);
	}
}

static void test_corpus(void **state)
{
	const char *dir = getenv("FG_HTTP_CORPUS");
	unsigned int n = 0, nok = 0, nbad = 0, nmore = 0;
	char path[4096], reason[64];
	struct dirent *de;
	struct fg_http_snap whole;
	size_t len;
	char *data;
	int want;
	DIR *d;

	(void)state;
	if (!dir)
		fail_msg("FG_HTTP_CORPUS is not set: tests/fuzz/corpus/http");
	conf_default();
	d = opendir(dir);
	if (!d)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) && n < CORPUS_FILES_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		data = read_file(path, &len);
		if (!data)
			continue;
		expect_of(de->d_name, &want, reason, sizeof(reason));
		check_splits(de->d_name, data, len, &whole);
		if (whole.rc != want || (reason[0] &&
		    strcmp(fg_http_err_name(whole.err), reason)))
			fail_msg("%s: gives %d (%s)", de->d_name, (int)whole.rc,
				 fg_http_err_name(whole.err));
		if (want >= 400)
			assert_int_equal(fg_http_err_status(whole.err), want);
		nok += want == FG_HTTP_COMPLETE;
		nmore += want == FG_HTTP_MORE;
		nbad += want >= 400;
		n++;
		free(data);
	}
	closedir(d);
	/* A corpus that went missing is a failure, not a pass. */
	assert_true(nok >= 30 && nbad >= 80 && nmore >= 5);
	printf("corpus: %u files (%u ok, %u more, %u bad)\n", n, nok, nmore,
	       nbad);
}

/* ---------------------------------------------------------------------
 * Fields
 */

static struct fg_http_req req;

/* Read the NUL-terminated s whole with the default settings. */
static int parse(const char *s)
{
	struct fg_http_snap sn;

	conf_default();
	return feed_whole(&req, s, strlen(s), &sn);
}

static void assert_str(struct fg_http_str s, const char *want)
{
	if (!want) {
		assert_null(s.p);
		return;
	}
	assert_non_null(s.p);
	if (s.len != strlen(want) || memcmp(s.p, want, s.len))
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.p, want);
}

static void test_fields_get(void **state)
{
	const char *s = "GET /api/v1/products?page=2&sort=price HTTP/1.1\r\n"
			"Host: Shop.Example:8080\r\n"
			"User-Agent:  curl/8.0 \t\r\n"
			"cookie: a=1\r\n\r\n";

	(void)state;
	assert_int_equal(parse(s), FG_HTTP_COMPLETE);
	assert_int_equal(req.method, FG_HTTP_GET);
	assert_str(req.method_str, "GET");
	assert_string_equal(fg_http_method_name(req.method), "GET");
	assert_int_equal(req.version, 11);
	assert_int_equal(req.form, FG_HTTP_FORM_ORIGIN);
	assert_int_equal(req.framing, FG_HTTP_BODY_NONE);
	assert_int_equal(req.head_len, strlen(s));
	assert_str(req.target, "/api/v1/products?page=2&sort=price");
	assert_str(req.path, "/api/v1/products");
	assert_str(req.query, "page=2&sort=price");
	assert_str(req.host, "Shop.Example");
	assert_str((struct fg_http_str){req.hdr[slot_ua].p,
		   req.hdr[slot_ua].len}, "curl/8.0");
	assert_int_equal(req.hdr[slot_ua].count, 1);
	assert_str((struct fg_http_str){req.hdr[slot_cookie].p,
		   req.hdr[slot_cookie].len}, "a=1");
	assert_int_equal(req.hdr[slot_item].count, 0);
	assert_null(req.hdr[slot_item].p);
}

static void test_fields_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("GET http://shop.example:8080/api/v1?x=1 "
			       "HTTP/1.1\r\nHost: other\r\n\r\n"),
			 FG_HTTP_COMPLETE);
	assert_int_equal(req.form, FG_HTTP_FORM_ABSOLUTE);
	assert_str(req.host, "shop.example");
	assert_str(req.path, "/api/v1");
	assert_str(req.query, "x=1");

	assert_int_equal(parse("GET https://shop.example HTTP/1.1\r\n"
			       "Host: shop.example\r\n\r\n"), FG_HTTP_COMPLETE);
	assert_str(req.path, "/");
	assert_null(req.query.p);

	assert_int_equal(parse("GET http://[2001:db8::1]?q HTTP/1.1\r\n"
			       "Host: x\r\n\r\n"), FG_HTTP_COMPLETE);
	assert_str(req.host, "[2001:db8::1]");
	assert_str(req.path, "/");
	assert_str(req.query, "q");

	assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
			 FG_HTTP_COMPLETE);
	assert_int_equal(req.form, FG_HTTP_FORM_ASTERISK);
	assert_str(req.path, "*");

	assert_int_equal(parse("GET /? HTTP/1.0\r\n\r\n"), FG_HTTP_COMPLETE);
	assert_int_equal(req.version, 10);
	assert_null(req.host.p);
	assert_str(req.query, "");

	assert_int_equal(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
			 FG_HTTP_COMPLETE);
	assert_str(req.host, "");

	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: [2001:db8::a]:80\r\n"
			       "\r\n"), FG_HTTP_COMPLETE);
	assert_str(req.host, "[2001:db8::a]");
}

static void test_fields_body(void **state)
{
	const char *s = "POST /seckill/1234/buy HTTP/1.1\r\nHost: a\r\n"
			"Content-Length: 14\r\n\r\n{\"qty\": 1}\r\n\r\n";
	const char *c = "POST /x HTTP/1.1\r\nHost: a\r\n"
			"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n";
	size_t used, h1;

	(void)state;
	assert_int_equal(parse(s), FG_HTTP_COMPLETE);
	assert_int_equal(req.method, FG_HTTP_POST);
	assert_int_equal(req.framing, FG_HTTP_BODY_LENGTH);
	assert_int_equal(req.content_length, 14);
	assert_int_equal(req.head_len, strlen(s) - 14);

	/* The body starts at data + used of the segment that ended the
	 * head. */
	h1 = 20;
	fg_http_init(&req, &conf, head);
	assert_int_equal(fg_http_feed(&req, s, h1, &used), FG_HTTP_MORE);
	assert_int_equal(used, h1);
	assert_int_equal(fg_http_feed(&req, s + h1, strlen(s) - h1, &used),
			 FG_HTTP_COMPLETE);
	assert_int_equal(h1 + used, strlen(s) - 14);
	assert_memory_equal(s + h1 + used, "{\"qty\"", 6);

	assert_int_equal(parse(c), FG_HTTP_COMPLETE);
	assert_int_equal(req.framing, FG_HTTP_BODY_CHUNKED);
	assert_int_equal(req.head_len, strlen(c) - 5);

	assert_int_equal(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length:"
			       " 9223372036854775807\r\n\r\n"),
			 FG_HTTP_COMPLETE);
	assert_int_equal(req.content_length, INT64_MAX);
}

static void test_fields_repeated_header(void **state)
{
	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Item: 7\r\n"
			       "x-item:7  \r\n\r\n"), FG_HTTP_COMPLETE);
	assert_int_equal(req.hdr[slot_item].count, 2);
	assert_int_equal(req.hdr[slot_item].differ, 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Item: 7\r\n"
			       "X-ITEM: 8\r\n\r\n"), FG_HTTP_COMPLETE);
	assert_int_equal(req.hdr[slot_item].count, 2);
	assert_int_equal(req.hdr[slot_item].differ, 1);
	assert_str((struct fg_http_str){req.hdr[slot_item].p,
		   req.hdr[slot_item].len}, "7");
}

/* Every reason maps to its status, and has a name. */
static void test_reasons(void **state)
{
	unsigned int e;

	(void)state;
	assert_int_equal(fg_http_err_status(FG_HTTP_E_NONE), 0);
	for (e = 1; e < FG_HTTP_E_MAX; e++) {
		int st = fg_http_err_status(e);

		assert_true(st == 400 || st == 414 || st == 431 || st == 501 ||
			    st == 505);
		assert_string_not_equal(fg_http_err_name(e), "unknown");
	}
	assert_string_equal(fg_http_err_name(FG_HTTP_E_MAX), "unknown");
	assert_int_equal(fg_http_err_status(FG_HTTP_E_MAX), 0);
	assert_null(fg_http_method_name(0));
	assert_null(fg_http_method_name(FG_HTTP_PATCH + 1));
}

/* ---------------------------------------------------------------------
 * Limits: exactly at each limit passes, one over fails, whole and byte by
 * byte alike.
 */

/* A request of exactly `total` bytes with `nhdr` header lines (Host
 * included): the last header is padded to fit. */
static char *make_head(size_t total, unsigned int nhdr)
{
	char *s = malloc(total + 1);
	size_t n, pad;
	unsigned int i;

	if (!s)
		abort();
	n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 2; i < nhdr; i++)
		n += (size_t)sprintf(s + n, "X-%u: 1\r\n", i);
	/* "X-Pad: " pad "\r\n" "\r\n" */
	assert_true(total >= n + 11 + 1);
	pad = total - n - 11;
	n += (size_t)sprintf(s + n, "X-Pad: ");
	memset(s + n, 'p', pad);
	n += pad;
	memcpy(s + n, "\r\n\r\n", 5);
	assert_int_equal(strlen(s), total);
	return s;
}

static void expect_all(const char *name, const char *s, size_t len, int want,
		       unsigned int err)
{
	struct fg_http_snap whole;

	check_splits(name, s, len, &whole);
	if (whole.rc != want || (want >= 400 && whole.err != err))
		fail_msg("%s: gives %d (%s), want %d (%s)", name, (int)whole.rc,
			 fg_http_err_name(whole.err), want,
			 fg_http_err_name(err));
}

static void test_limit_head(void **state)
{
	char *s;

	(void)state;
	conf_default();
	s = make_head(FG_HTTP_HEAD_MAX_DEFAULT, 3);
	expect_all("head at limit", s, strlen(s), FG_HTTP_COMPLETE, 0);
	free(s);
	s = make_head(FG_HTTP_HEAD_MAX_DEFAULT + 1, 3);
	expect_all("head over limit", s, strlen(s), 431, FG_HTTP_E_HEAD_LONG);
	free(s);

	/* A smaller configured limit. */
	assert_int_equal(fg_http_conf_limits(&conf, 200, 50, 4), 0);
	s = make_head(200, 4);
	expect_all("head at 200", s, strlen(s), FG_HTTP_COMPLETE, 0);
	free(s);
	s = make_head(201, 4);
	expect_all("head over 200", s, strlen(s), 431, FG_HTTP_E_HEAD_LONG);
	free(s);
	s = make_head(150, 5);
	expect_all("5 headers over 4", s, strlen(s), 431, FG_HTTP_E_TOO_MANY);
	free(s);
}

static void test_limit_headers(void **state)
{
	char *s;

	(void)state;
	conf_default();
	s = make_head(4000, FG_HTTP_HEADERS_MAX_DEFAULT);
	expect_all("100 headers", s, strlen(s), FG_HTTP_COMPLETE, 0);
	free(s);
	s = make_head(4000, FG_HTTP_HEADERS_MAX_DEFAULT + 1);
	expect_all("101 headers", s, strlen(s), 431, FG_HTTP_E_TOO_MANY);
	free(s);
}

/* "GET /aaa...a HTTP/1.1" with a target of tlen bytes. */
static char *make_target(size_t tlen)
{
	char *s = malloc(tlen + 64);

	if (!s)
		abort();
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', tlen - 1);
	strcpy(s + 4 + tlen, " HTTP/1.1\r\nHost: a\r\n\r\n");
	return s;
}

static void test_limit_target(void **state)
{
	char *s;

	(void)state;
	conf_default();
	s = make_target(FG_HTTP_TARGET_MAX_DEFAULT);
	expect_all("target at limit", s, strlen(s), FG_HTTP_COMPLETE, 0);
	assert_int_equal(parse(s), FG_HTTP_COMPLETE);
	assert_int_equal(req.target.len, FG_HTTP_TARGET_MAX_DEFAULT);
	free(s);
	s = make_target(FG_HTTP_TARGET_MAX_DEFAULT + 1);
	expect_all("target over limit", s, strlen(s), 414,
		   FG_HTTP_E_TARGET_LONG);
	free(s);

	/* A request line that cannot end within the head: 414 too. */
	assert_int_equal(fg_http_conf_limits(&conf, 64, 64, 10), 0);
	s = make_target(60);
	expect_all("request line over head", s, strlen(s), 414,
		   FG_HTTP_E_TARGET_LONG);
	free(s);
}

static void test_limit_settings(void **state)
{
	const char *last = "GET / HTTP/1.1\r\nHost: a\r\nH31: v\r\n"
			   "X-A: w\r\n\r\n";
	char name[FG_HTTP_NAME_MAX + 2];
	unsigned int i;

	(void)state;
	fg_http_conf_init(&conf);
	assert_int_equal(conf.head_max, 8192);
	assert_int_equal(fg_http_conf_limits(&conf, FG_HTTP_HEAD_MIN - 1, 10,
					     10), -EINVAL);
	assert_int_equal(fg_http_conf_limits(&conf, FG_HTTP_HEAD_LIMIT + 1,
					     10, 10), -EINVAL);
	assert_int_equal(fg_http_conf_limits(&conf, 1000, 1001, 10), -EINVAL);
	assert_int_equal(fg_http_conf_limits(&conf, 1000, 0, 10), -EINVAL);
	assert_int_equal(fg_http_conf_limits(&conf, 1000, 10, 0), -EINVAL);
	assert_int_equal(fg_http_conf_limits(&conf, 1000, 10,
					     FG_HTTP_HEADERS_LIMIT + 1),
			 -EINVAL);
	assert_int_equal(conf.head_max, 8192); /* unchanged */
	assert_int_equal(fg_http_conf_limits(&conf, FG_HTTP_HEAD_LIMIT,
					     FG_HTTP_HEAD_LIMIT,
					     FG_HTTP_HEADERS_LIMIT), 0);

	/* Watched names: tokens up to 64 bytes, any case, 32 of them. */
	fg_http_conf_init(&conf);
	assert_int_equal(fg_http_watch_add(&conf, "X-A", 3), 0);
	assert_int_equal(fg_http_watch_add(&conf, "x-a", 3), 0);
	assert_int_equal(fg_http_watch_add(&conf, "X A", 3), -EINVAL);
	assert_int_equal(fg_http_watch_add(&conf, "X:A", 3), -EINVAL);
	assert_int_equal(fg_http_watch_add(&conf, "", 0), -EINVAL);
	assert_int_equal(fg_http_watch_add(&conf, NULL, 3), -EINVAL);
	memset(name, 'n', sizeof(name));
	assert_int_equal(fg_http_watch_add(&conf, name, FG_HTTP_NAME_MAX + 1),
			 -EINVAL);
	assert_int_equal(fg_http_watch_add(&conf, name, FG_HTTP_NAME_MAX), 1);
	for (i = 2; i < FG_HTTP_WATCH_MAX; i++) {
		snprintf(name, sizeof(name), "h%u", i);
		assert_int_equal(fg_http_watch_add(&conf, name, strlen(name)),
				 (int)i);
	}
	assert_int_equal(fg_http_watch_add(&conf, "one-more", 8), -ENOSPC);
	assert_int_equal(fg_http_watch_add(&conf, "X-a", 3), 0);
	assert_int_equal(conf.nwatch, FG_HTTP_WATCH_MAX);

	/* The last slot works like the first. */
	fg_http_init(&req, &conf, head);
	assert_int_equal(fg_http_feed(&req, last, strlen(last), NULL),
			 FG_HTTP_COMPLETE);
	assert_str((struct fg_http_str){req.hdr[31].p, req.hdr[31].len}, "v");
	assert_str((struct fg_http_str){req.hdr[0].p, req.hdr[0].len}, "w");
}

/* ---------------------------------------------------------------------
 * Items
 */

static void test_item_parse(void **state)
{
	static const char *const bad[] = {
		"segment:0", "segment:65", "segment:02", "segment:", "segment",
		"segment:x", "segment:1 ", "segment:-1", "segment:100", "seg:1",
		"Segment:1", "query:", "query:a=b", "query:a&b", "query:a b",
		"query:a%20", "query:a+b", "query:a#", "header:", "header:X Y",
		"header:X:Y", "", "cookie:x",
	};
	struct fg_item it, keep;
	const char *why = NULL;
	char name[80];
	unsigned int i;

	(void)state;
	fg_http_conf_init(&conf);
	assert_int_equal(fg_item_parse(&it, "segment:2", 9, &conf, &why), 0);
	assert_int_equal(it.kind, FG_ITEM_SEGMENT);
	assert_int_equal(it.segment, 2);
	assert_int_equal(fg_item_parse(&it, "segment:64", 10, NULL, NULL), 0);
	assert_int_equal(it.segment, 64);
	assert_int_equal(fg_item_parse(&it, "query:item_id", 13, NULL, NULL),
			 0);
	assert_int_equal(it.kind, FG_ITEM_QUERY);
	assert_int_equal(it.name_len, 7);
	assert_memory_equal(it.name, "item_id", 7);
	assert_int_equal(fg_item_parse(&it, "header:X-Item", 13, &conf, NULL),
			 0);
	assert_int_equal(it.kind, FG_ITEM_HEADER);
	assert_int_equal(it.slot, 0);
	assert_int_equal(conf.nwatch, 1);
	/* The same header in another rule shares the slot. */
	assert_int_equal(fg_item_parse(&it, "header:x-item", 13, &conf, NULL),
			 0);
	assert_int_equal(it.slot, 0);
	assert_int_equal(conf.nwatch, 1);

	keep = it;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (fg_item_parse(&it, bad[i], strlen(bad[i]), &conf, &why) !=
		    -EINVAL)
			fail_msg("\"%s\" is not refused", bad[i]);
		assert_non_null(why);
		assert_memory_equal(&it, &keep, sizeof(it));
	}
	assert_int_equal(fg_item_parse(&it, "segment:1\0", 10, NULL, NULL),
			 -EINVAL);
	assert_int_equal(fg_item_parse(&it, NULL, 0, NULL, NULL), -EINVAL);
	/* NAME up to 64 bytes. */
	memcpy(name, "query:", 6);
	memset(name + 6, 'q', 65);
	assert_int_equal(fg_item_parse(&it, name, 6 + 64, NULL, NULL), 0);
	assert_int_equal(fg_item_parse(&it, name, 6 + 65, NULL, NULL),
			 -EINVAL);
	/* A header item needs the settings it registers in. */
	assert_int_equal(fg_item_parse(&it, "header:X-B", 10, NULL, NULL),
			 -EINVAL);
	for (i = 1; i < FG_HTTP_WATCH_MAX; i++) {
		snprintf(name, sizeof(name), "header:h%u", i);
		assert_int_equal(fg_item_parse(&it, name, strlen(name), &conf,
					       NULL), 0);
	}
	assert_int_equal(fg_item_parse(&it, "header:X-B", 10, &conf, &why),
			 -ENOSPC);
	assert_int_equal(conf.nwatch, FG_HTTP_WATCH_MAX);
}

/* Extract spec from request line/head s; compare with want (NULL: the
 * result must be `result`). */
static void item_case(const char *spec, const char *s, int result,
		      const char *want, size_t cap)
{
	char out[512];
	struct fg_item it;
	struct fg_http_snap sn;
	size_t olen = 0;
	int rc;

	fg_http_conf_init(&conf);
	assert_int_equal(fg_item_parse(&it, spec, strlen(spec), &conf, NULL),
			 0);
	rc = feed_whole(&req, s, strlen(s), &sn);
	if (rc != FG_HTTP_COMPLETE)
		fail_msg("%s: request refused: %d", s, rc);
	rc = fg_item_extract(&it, &req, out, cap, &olen);
	if (rc != result)
		fail_msg("%s on %s: gives %d, want %d", spec, s, rc, result);
	if (rc == FG_ITEM_OK &&
	    (olen != strlen(want) || memcmp(out, want, olen)))
		fail_msg("%s on %s: gives \"%.*s\", want \"%s\"", spec, s,
			 (int)olen, out, want);
}

#define REQ(target) "GET " target " HTTP/1.1\r\nHost: a\r\n\r\n"
#define OK(spec, target, want) \
	item_case(spec, REQ(target), FG_ITEM_OK, want, FG_ITEM_MAX)
#define MISSING(spec, target) \
	item_case(spec, REQ(target), FG_ITEM_MISSING, NULL, FG_ITEM_MAX)
#define MALFORMED(spec, target) \
	item_case(spec, REQ(target), FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX)

static void test_item_segment(void **state)
{
	char target[1024], want[256], s[1100];
	unsigned int i;

	(void)state;
	/* API.md: /seckill/1234/buy has segment 2 1234. */
	OK("segment:2", "/seckill/1234/buy", "1234");
	OK("segment:1", "/seckill/1234/buy", "seckill");
	OK("segment:3", "/seckill/1234/buy?x=1", "buy");
	MISSING("segment:4", "/seckill/1234/buy");
	MISSING("segment:3", "/seckill/1234/");
	MISSING("segment:2", "/seckill//buy");
	OK("segment:2", "//a", "a");
	MISSING("segment:1", "/");
	MISSING("segment:1", "/?a=1");
	OK("segment:2", "/seckill/%31%32%33/buy", "123");
	OK("segment:2", "/a/x+y", "x+y");
	OK("segment:2", "/a/%2Fb", "/b");
	OK("segment:2", "/a/caf%C3%A9", "caf\xc3\xa9");
	MALFORMED("segment:2", "/a/%zz");
	MALFORMED("segment:2", "/a/%4");
	MALFORMED("segment:2", "/a/b%");
	MALFORMED("segment:2", "/a/%00");
	MALFORMED("segment:2", "/a/x%1fy");
	MALFORMED("segment:2", "/a/%7F");
	/* A malformed segment elsewhere does not matter. */
	OK("segment:1", "/ok/%zz", "ok");
	OK("segment:2", "http://shop.example/seckill/99/buy", "99");
	MISSING("segment:1", "http://shop.example");
	item_case("segment:1", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		  FG_ITEM_MISSING, NULL, FG_ITEM_MAX);

	/* 128 decoded bytes pass, 129 do not; the raw length is not it. */
	strcpy(target, "/s/");
	memset(want, 'i', FG_ITEM_MAX);
	want[FG_ITEM_MAX] = 0;
	for (i = 0; i < FG_ITEM_MAX; i++)
		strcat(target, "%69");
	snprintf(s, sizeof(s), REQ("%s"), target);
	item_case("segment:2", s, FG_ITEM_OK, want, FG_ITEM_MAX);
	strcat(target, "i");
	snprintf(s, sizeof(s), REQ("%s"), target);
	item_case("segment:2", s, FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX);
	/* The caller's cap is the bound. */
	item_case("segment:2", REQ("/s/abcd"), FG_ITEM_OK, "abcd", 4);
	item_case("segment:2", REQ("/s/abcde"), FG_ITEM_MALFORMED, NULL, 4);
}

static void test_item_query(void **state)
{
	(void)state;
	OK("query:id", "/buy?id=5", "5");
	OK("query:id", "/buy?a=1&id=7&b=2", "7");
	OK("query:id", "/buy?id=5&id=5", "5");
	OK("query:id", "/buy?id=5&x=&id=%35", "5");
	MALFORMED("query:id", "/buy?id=5&id=6");
	MISSING("query:id", "/buy?id=");
	MISSING("query:id", "/buy?id");
	MISSING("query:id", "/buy?id=&id=");
	MALFORMED("query:id", "/buy?id=&id=5");
	MALFORMED("query:id", "/buy?id=5&id");
	MISSING("query:id", "/buy");
	MISSING("query:id", "/buy?");
	MISSING("query:id", "/buy?ID=5");
	MISSING("query:id", "/buy?idx=1&xid=2");
	OK("query:id", "/buy?%69d=9", "9");
	OK("query:id", "/buy?i%zz=1&id=3", "3");
	OK("query:id", "/buy?id=a+b%21", "a b!");
	OK("query:id", "/buy?x=1&&id=2&", "2");
	OK("query:id", "/buy?id=1=2", "1=2");
	OK("query:id", "/buy?%69%64=4", "4");
	MISSING("query:id", "/buy?id+=4&+id=5&i+d=6");
	MALFORMED("query:id", "/buy?id=%zz");
	MALFORMED("query:id", "/buy?id=%0a");
	MALFORMED("query:id", "/buy?id=5&id=%zz");
	/* Bad encoding in another parameter's value does not matter. */
	OK("query:id", "/buy?x=%zz&id=1", "1");
	OK("query:id", "http://a/b?id=42", "42");
	item_case("query:id", REQ("/b?id=abcd"), FG_ITEM_OK, "abcd", 4);
	item_case("query:id", REQ("/b?id=abcde"), FG_ITEM_MALFORMED, NULL, 4);
}

#define HREQ(hdrs) "POST /buy HTTP/1.1\r\nHost: a\r\n" hdrs "\r\n"

static void test_item_header(void **state)
{
	char s[512], want[160];

	(void)state;
	item_case("header:X-Item", HREQ("x-item: 42\r\n"), FG_ITEM_OK, "42",
		  FG_ITEM_MAX);
	item_case("header:x-item", HREQ("X-ITEM:\t42 \r\n"), FG_ITEM_OK, "42",
		  FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Other: 42\r\n"), FG_ITEM_MISSING,
		  NULL, FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item:\r\n"), FG_ITEM_MISSING, NULL,
		  FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item: 4\r\nX-Item: 4\r\n"),
		  FG_ITEM_OK, "4", FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item: 4\r\nX-Item: 5\r\n"),
		  FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item:\r\nX-Item: 5\r\n"),
		  FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX);
	/* Taken as it is: no percent-decoding, obs-text kept, HTAB not. */
	item_case("header:X-Item", HREQ("X-Item: %31\r\n"), FG_ITEM_OK, "%31",
		  FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item: caf\xc3\xa9\r\n"), FG_ITEM_OK,
		  "caf\xc3\xa9", FG_ITEM_MAX);
	item_case("header:X-Item", HREQ("X-Item: a\tb\r\n"),
		  FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX);
	/* Length: up to the cap. */
	snprintf(s, sizeof(s), HREQ("X-Item: %0128d\r\n"), 7);
	snprintf(want, sizeof(want), "%0128d", 7);
	item_case("header:X-Item", s, FG_ITEM_OK, want, FG_ITEM_MAX);
	snprintf(s, sizeof(s), HREQ("X-Item: %0129d\r\n"), 7);
	item_case("header:X-Item", s, FG_ITEM_MALFORMED, NULL, FG_ITEM_MAX);
}

/* An item of a request that is not complete is missing. */
static void test_item_incomplete(void **state)
{
	struct fg_item it;
	char out[FG_ITEM_MAX];
	size_t olen;

	(void)state;
	fg_http_conf_init(&conf);
	assert_int_equal(fg_item_parse(&it, "segment:1", 9, &conf, NULL), 0);
	fg_http_init(&req, &conf, head);
	assert_int_equal(fg_http_feed(&req, "GET /a/b", 8, NULL), FG_HTTP_MORE);
	assert_int_equal(fg_item_extract(&it, &req, out, sizeof(out), &olen),
			 FG_ITEM_MISSING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_fields_get),
		cmocka_unit_test(test_fields_forms),
		cmocka_unit_test(test_fields_body),
		cmocka_unit_test(test_fields_repeated_header),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_limit_head),
		cmocka_unit_test(test_limit_headers),
		cmocka_unit_test(test_limit_target),
		cmocka_unit_test(test_limit_settings),
		cmocka_unit_test(test_item_parse),
		cmocka_unit_test(test_item_segment),
		cmocka_unit_test(test_item_query),
		cmocka_unit_test(test_item_header),
		cmocka_unit_test(test_item_incomplete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
