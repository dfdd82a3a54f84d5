/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_etcd.c - the etcd client and the embedded member against a real
 * etcd: started by fg_etcd_embedded on free loopback ports in a temporary
 * directory (no privileges needed). Suite 'store'; exits 77 (skip) when
 * /usr/bin/etcd is missing.
 *
 * Covered: put/range/prefix/delete; txn compares that hold and fail (the
 * daemon's If-Match); watch order; a watch resuming across an etcd
 * stop/restart without missing what was written meanwhile; compaction
 * reported as -ESTALE; lease grant/keepalive/revoke/expiry/loss;
 * unreachable and hanging endpoints; failover; the embedded member's
 * refusals, its supervision and its death with a SIGKILLed parent;
 * freeing and cancelling from callbacks; the member reachable only by
 * Unix sockets in a 0700 directory (no TCP socket at all).
 *
 * The store (fg_store.c, included below so its internals can be driven
 * and sized; its rule sets come to on_rules, fg_log is stubbed): its
 * identity after the first read; rule sets over etcd's default limit and
 * at the documented maximum stored, over the member's limit refused with
 * -EMSGSIZE naming it; forced writes; hundreds of ~5 MB writes within a
 * small quota (compaction and defragmentation keep the file bounded);
 * writes whose answer is lost resolved as landed or not, or reported
 * unknown.
 *
 * Every wait is bounded; the fixture stops etcd and removes the directory
 * even when a test fails (and etcd dies with us if we crash: PDEATHSIG).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>
#include <event2/event.h>

#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "etcd_fixture.h"
/* The store itself: its statics (fg_store_open_with, the resolution
 * steps) are what the store tests drive. */
#include "fg_store.c"

#define ETCD_BIN "/usr/bin/etcd"
#define WAIT_MS 10000		/* generous bound on any single request */

/* ---------------------------------------------------------- fixture */

static struct fg_test_etcd E;

#define now_ms fg_test_now_ms
#define run_until fg_test_run_until
#define run_for fg_test_run_for

/* Start etcd with the fixture's options (ports 0 the first time, the same
 * ports afterwards). */
static int emb_start(char *err, size_t errlen)
{
	return fg_test_etcd_member(&E, err, errlen);
}

static void cleanup_all(void)
{
	fg_test_etcd_cleanup(&E);
}

static int group_setup(void **state)
{
	(void)state;
	return fg_test_etcd_setup(&E, "etcd");
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_all();
	return 0;
}

/* --------------------------------------------------- loop + results */

struct rkv {
	char key[128];
	char value[256];
	size_t value_len;
	int64_t create, mod, version, lease;
};

/* A copy of a result (the library's memory ends with the callback). */
struct res {
	bool done;
	int calls;
	int err;
	char msg[256];
	int64_t revision, count, lease_id, lease_ttl;
	bool succeeded, more;
	size_t n_kvs;
	struct rkv kvs[64];
	size_t n_ops;
	int op_type[8];
	int64_t op_count[8];
	size_t op_nkvs[8];
	uint64_t t_done;
};

static void copy_kv(struct rkv *d, const struct fg_etcd_kv *s)
{
	snprintf(d->key, sizeof(d->key), "%s", s->key);
	d->value_len = s->value_len < sizeof(d->value) ? s->value_len
						       : sizeof(d->value);
	memcpy(d->value, s->value, d->value_len);
	d->create = s->create_revision;
	d->mod = s->mod_revision;
	d->version = s->version;
	d->lease = s->lease;
}

static void res_cb(void *arg, const struct fg_etcd_result *r)
{
	struct res *o = arg;

	o->calls++;
	o->done = true;
	o->t_done = now_ms();
	o->err = r->err;
	assert_non_null(r->message);
	snprintf(o->msg, sizeof(o->msg), "%s", r->message);
	o->revision = r->revision;
	o->count = r->count;
	o->more = r->more;
	o->succeeded = r->succeeded;
	o->lease_id = r->lease_id;
	o->lease_ttl = r->lease_ttl;
	o->n_kvs = r->n_kvs;
	for (size_t i = 0; i < r->n_kvs && i < 64; i++)
		copy_kv(&o->kvs[i], &r->kvs[i]);
	o->n_ops = r->n_ops;
	for (size_t i = 0; i < r->n_ops && i < 8; i++) {
		o->op_type[i] = r->ops[i].type;
		o->op_count[i] = r->ops[i].count;
		o->op_nkvs[i] = r->ops[i].n_kvs;
	}
}

static bool res_done(void *p)
{
	return ((struct res *)p)->done;
}

/* Wait for r on b; fail the test if it never comes. */
static void wait_res(struct event_base *b, struct res *r)
{
	assert_true(run_until(b, res_done, r, WAIT_MS));
	assert_int_equal(r->calls, 1);
}

static struct res R;	/* scratch result for the one-liners below */

static struct res *put_on(struct fg_etcd *c, struct event_base *b,
			  const char *key, const char *val, int64_t lease)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_put(c, key, val, strlen(val), lease, res_cb,
				     &R), 0);
	wait_res(b, &R);
	return &R;
}

static int64_t put_ok(const char *key, const char *val)
{
	struct res *r = put_on(E.c, E.base, key, val, 0);

	assert_int_equal(r->err, 0);
	assert_true(r->revision > 0);
	return r->revision;
}

static struct res *range(const char *key, bool prefix)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_range(E.c, key, prefix, res_cb, &R), 0);
	wait_res(E.base, &R);
	return &R;
}

static struct res *del(const char *key, bool prefix)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_delete(E.c, key, prefix, res_cb, &R), 0);
	wait_res(E.base, &R);
	return &R;
}

/* A loopback port nobody listens on. */
static uint16_t closed_port(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* A listening socket that never accepts: connections complete in the
 * kernel's backlog and requests are never answered. */
static int hanging_listener(uint16_t *port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* ------------------------------------------------------ watch sink */

struct wev {
	int type;
	char key[64];
	char value[64];
	int64_t mod;
	bool has_prev;
	char prev_value[64];
};

struct wsink {
	int calls;
	int created;
	int errors;		/* non-terminal */
	int last_err;
	char last_msg[160];
	bool terminal;
	int terminal_err;
	int64_t compact;
	int64_t last_mod;
	bool out_of_order;
	size_t n;
	struct wev ev[256];
	/* test hooks */
	bool cancel_on_event;
	struct fg_etcd_watch **self;
	struct fg_etcd **free_on_created;
};

static void wsink_cb(void *arg, const struct fg_etcd_watch_result *r)
{
	struct wsink *s = arg;

	s->calls++;
	assert_non_null(r->message);
	if (r->err) {
		s->last_err = r->err;
		snprintf(s->last_msg, sizeof(s->last_msg), "%s", r->message);
		if (r->terminal) {
			s->terminal = true;
			s->terminal_err = r->err;
			s->compact = r->compact_revision;
		} else {
			s->errors++;
		}
		return;
	}
	if (r->created) {
		s->created++;
		assert_int_equal(r->n_events, 0);
		if (s->free_on_created) {
			fg_etcd_free(*s->free_on_created);
			*s->free_on_created = NULL;
		}
		return;
	}
	for (size_t i = 0; i < r->n_events; i++) {
		const struct fg_etcd_event *e = &r->events[i];
		struct wev *d;

		if (e->kv.mod_revision < s->last_mod)
			s->out_of_order = true;
		s->last_mod = e->kv.mod_revision;
		assert_true(r->revision >= e->kv.mod_revision);
		if (s->n >= 256)
			continue;
		d = &s->ev[s->n++];
		d->type = e->type;
		d->mod = e->kv.mod_revision;
		snprintf(d->key, sizeof(d->key), "%s", e->kv.key);
		snprintf(d->value, sizeof(d->value), "%s", e->kv.value);
		d->has_prev = e->prev_kv != NULL;
		if (e->prev_kv)
			snprintf(d->prev_value, sizeof(d->prev_value), "%s",
				 e->prev_kv->value);
	}
	if (s->cancel_on_event && r->n_events) {
		fg_etcd_watch_cancel(*s->self);
		*s->self = NULL;
	}
}

struct wwant {
	struct wsink *s;
	size_t n;
	int created, errors;
};

static bool wsink_has(void *p)
{
	struct wwant *w = p;

	return w->s->n >= w->n && w->s->created >= w->created &&
	       w->s->errors >= w->errors;
}

static bool wsink_terminal(void *p)
{
	return ((struct wsink *)p)->terminal;
}

static void wait_events(struct event_base *b, struct wsink *s, size_t n,
			int created, int errors, int timeout_ms)
{
	struct wwant w = { s, n, created, errors };

	if (!run_until(b, wsink_has, &w, timeout_ms))
		fail_msg("watch: %zu/%zu events, %d/%d created, %d/%d errors, "
			 "last err %d (%s)", s->n, n, s->created, created,
			 s->errors, errors, s->last_err, s->last_msg);
}

static struct fg_etcd_watch *watch(struct fg_etcd *c, const char *prefix,
				   int64_t from, struct wsink *s)
{
	struct fg_etcd_watch_opts o = {
		.key = prefix, .prefix = true, .start_revision = from,
		.prev_kv = true,
	};
	struct fg_etcd_watch *w = NULL;

	assert_int_equal(fg_etcd_watch_start(c, &o, wsink_cb, s, &w), 0);
	assert_non_null(w);
	return w;
}

/* ------------------------------------------------------------- tests */

static void test_kv(void **state)
{
	struct fg_etcd_op op = { 0 };
	struct res *r;
	int64_t r1, r2;

	(void)state;
	r1 = put_ok("/kv/a", "1");
	put_ok("/kv/b", "2");
	put_ok("/kv/c", "3");
	put_ok("/kvx", "outside");

	r = range("/kv/a", false);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->n_kvs, 1);
	assert_string_equal(r->kvs[0].key, "/kv/a");
	assert_string_equal(r->kvs[0].value, "1");
	assert_int_equal(r->kvs[0].version, 1);
	assert_int_equal(r->kvs[0].create, r1);
	assert_int_equal(r->kvs[0].mod, r1);
	assert_true(r->revision > r1);

	r2 = put_ok("/kv/a", "1b");
	r = range("/kv/a", false);
	assert_int_equal(r->kvs[0].version, 2);
	assert_int_equal(r->kvs[0].create, r1);
	assert_int_equal(r->kvs[0].mod, r2);
	assert_string_equal(r->kvs[0].value, "1b");

	/* The prefix stops at "/kv/": "/kvx" is not in it. Sorted. */
	r = range("/kv/", true);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->n_kvs, 3);
	assert_int_equal(r->count, 3);
	assert_string_equal(r->kvs[0].key, "/kv/a");
	assert_string_equal(r->kvs[1].key, "/kv/b");
	assert_string_equal(r->kvs[2].key, "/kv/c");
	assert_false(r->more);

	/* A limit cuts the answer and says so. */
	op.type = FG_ETCD_OP_RANGE;
	op.key = "/kv/";
	op.prefix = true;
	op.limit = 2;
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_do(E.c, &op, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.n_kvs, 2);
	assert_int_equal(R.count, 3);
	assert_true(R.more);

	/* Missing is not an error. */
	r = range("/kv/none", false);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->n_kvs, 0);

	/* Values are bytes. */
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_put(E.c, "/kv/bin", "a\0b\xff", 4, 0, res_cb,
				     &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);
	r = range("/kv/bin", false);
	assert_int_equal(r->kvs[0].value_len, 4);
	assert_memory_equal(r->kvs[0].value, "a\0b\xff", 4);

	r = del("/kv/a", false);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->count, 1);
	r = del("/kv/", true);
	assert_int_equal(r->count, 3);	/* b, c, bin */
	r = range("/kv/", true);
	assert_int_equal(r->n_kvs, 0);
	r = range("/kvx", false);
	assert_int_equal(r->n_kvs, 1);

	/* The callback never runs inside the submitting call. */
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_range(E.c, "/kvx", false, res_cb, &R), 0);
	assert_false(R.done);
	wait_res(E.base, &R);

	/* Refused up front, and no callback then. */
	assert_int_equal(fg_etcd_put(E.c, "", "x", 1, 0, res_cb, &R), -EINVAL);
	assert_int_equal(fg_etcd_range(E.c, NULL, false, res_cb, &R), -EINVAL);
	assert_int_equal(fg_etcd_range(E.c, "k", false, NULL, NULL), -EINVAL);
	op.type = FG_ETCD_OP_PUT;
	op.prefix = true;
	assert_int_equal(fg_etcd_do(E.c, &op, res_cb, &R), -EINVAL);
	assert_int_equal(fg_etcd_set_timeout(E.c, 0), -EINVAL);
	run_for(E.base, 100);
	assert_int_equal(R.calls, 1);
}

/* The daemon's If-Match: a write goes through only if the version key's
 * mod_revision is still the one the client saw. */
static struct res *if_match(int64_t seen, const char *svc_value,
			    const char *new_version)
{
	struct fg_etcd_cmp cmp = {
		.key = "/rules/version", .target = FG_ETCD_CMP_MOD_REVISION,
		.result = FG_ETCD_CMP_EQUAL, .number = seen,
	};
	struct fg_etcd_op ok[2] = {
		{ .type = FG_ETCD_OP_PUT, .key = "/rules/svc/web",
		  .value = svc_value, .value_len = strlen(svc_value) },
		{ .type = FG_ETCD_OP_PUT, .key = "/rules/version",
		  .value = new_version, .value_len = strlen(new_version) },
	};
	struct fg_etcd_op nok = { .type = FG_ETCD_OP_RANGE,
				  .key = "/rules/version" };

	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_txn(E.c, &cmp, 1, ok, 2, &nok, 1, res_cb, &R),
			 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);
	return &R;
}

/* One compare, empty branches: did it hold? */
static bool holds(const struct fg_etcd_cmp *cmp)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_txn(E.c, cmp, 1, NULL, 0, NULL, 0, res_cb, &R),
			 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);
	return R.succeeded;
}

static void test_txn(void **state)
{
	struct fg_etcd_cmp cmp = { .key = "/rules/version" };
	struct fg_etcd_op create = { .type = FG_ETCD_OP_PUT,
				     .key = "/rules/new", .value = "n",
				     .value_len = 1 };
	struct fg_etcd_op wipe = { .type = FG_ETCD_OP_DELETE,
				   .key = "/rules/svc/", .prefix = true,
				   .prev_kv = true };
	int64_t v1, v2;
	struct res *r;

	(void)state;
	v1 = put_ok("/rules/version", "1");

	r = if_match(v1, "{\"port\":80}", "2");
	assert_true(r->succeeded);
	assert_int_equal(r->n_ops, 2);
	assert_int_equal(r->op_type[0], FG_ETCD_OP_PUT);
	assert_int_equal(r->op_type[1], FG_ETCD_OP_PUT);
	v2 = r->revision;
	assert_true(v2 > v1);

	/* A stale If-Match fails and reads back the current version. */
	r = if_match(v1, "{\"port\":81}", "3");
	assert_false(r->succeeded);
	assert_int_equal(r->n_ops, 1);
	assert_int_equal(r->op_type[0], FG_ETCD_OP_RANGE);
	assert_int_equal(r->n_kvs, 1);
	assert_string_equal(r->kvs[0].key, "/rules/version");
	assert_string_equal(r->kvs[0].value, "2");
	assert_int_equal(r->kvs[0].mod, v2);
	assert_int_equal(r->revision, v2);	/* nothing written */
	r = range("/rules/svc/web", false);
	assert_string_equal(r->kvs[0].value, "{\"port\":80}");

	/* Create-only: mod_revision 0 means "absent". */
	cmp.key = "/rules/new";
	cmp.target = FG_ETCD_CMP_MOD_REVISION;
	cmp.result = FG_ETCD_CMP_EQUAL;
	cmp.number = 0;
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_txn(E.c, &cmp, 1, &create, 1, NULL, 0, res_cb,
				     &R), 0);
	wait_res(E.base, &R);
	assert_true(R.succeeded);
	assert_false(holds(&cmp));

	/* Every target and result. "/rules/version" is "2", version 2. */
	cmp.key = "/rules/version";
	cmp.target = FG_ETCD_CMP_VALUE;
	cmp.value = "2";
	cmp.value_len = 1;
	assert_true(holds(&cmp));
	cmp.result = FG_ETCD_CMP_NOT_EQUAL;
	assert_false(holds(&cmp));
	cmp.target = FG_ETCD_CMP_VERSION;
	cmp.result = FG_ETCD_CMP_GREATER;
	cmp.number = 1;
	assert_true(holds(&cmp));
	cmp.result = FG_ETCD_CMP_LESS;
	cmp.number = 2;
	assert_false(holds(&cmp));
	cmp.target = FG_ETCD_CMP_CREATE_REVISION;
	cmp.result = FG_ETCD_CMP_EQUAL;
	cmp.number = v1;
	assert_true(holds(&cmp));
	cmp.target = FG_ETCD_CMP_MOD_REVISION;
	cmp.result = FG_ETCD_CMP_LESS;
	cmp.number = v2;
	assert_false(holds(&cmp));

	/* A delete inside a txn reports what it deleted. */
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_txn(E.c, NULL, 0, &wipe, 1, NULL, 0, res_cb,
				     &R), 0);
	wait_res(E.base, &R);
	assert_true(R.succeeded);	/* no compares: success runs */
	assert_int_equal(R.n_ops, 1);
	assert_int_equal(R.op_type[0], FG_ETCD_OP_DELETE);
	assert_int_equal(R.op_count[0], 1);
	assert_int_equal(R.op_nkvs[0], 1);

	/* Bad compares are refused before anything is sent. */
	cmp.key = "";
	assert_int_equal(fg_etcd_txn(E.c, &cmp, 1, NULL, 0, NULL, 0, res_cb,
				     &R), -EINVAL);
}

static void test_watch_order(void **state)
{
	static struct res puts[60], dels[10];
	struct wsink s = { 0 };
	struct fg_etcd_watch *w;
	struct fg_etcd_op two[2] = {
		{ .type = FG_ETCD_OP_PUT, .key = "/w1/t1", .value = "t",
		  .value_len = 1 },
		{ .type = FG_ETCD_OP_PUT, .key = "/w1/t2", .value = "t",
		  .value_len = 1 },
	};
	int64_t start, revs[70];
	char key[32], val[32];
	size_t n = 0;

	(void)state;
	start = put_ok("/w1-before", "x");
	w = watch(E.c, "/w1/", start + 1, &s);
	wait_events(E.base, &s, 0, 1, 0, WAIT_MS);

	/* 60 puts in flight at once: etcd orders them, the watch must
	 * deliver exactly that order. */
	memset(puts, 0, sizeof(puts));
	for (int i = 0; i < 60; i++) {
		snprintf(key, sizeof(key), "/w1/k%02d", i);
		snprintf(val, sizeof(val), "v%d", i);
		assert_int_equal(fg_etcd_put(E.c, key, val, strlen(val), 0,
					     res_cb, &puts[i]), 0);
	}
	for (int i = 0; i < 60; i++) {
		wait_res(E.base, &puts[i]);
		assert_int_equal(puts[i].err, 0);
		revs[n++] = puts[i].revision;
	}
	put_ok("/w1x", "outside the prefix");
	memset(dels, 0, sizeof(dels));
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "/w1/k%02d", i);
		assert_int_equal(fg_etcd_delete(E.c, key, false, res_cb,
						&dels[i]), 0);
		wait_res(E.base, &dels[i]);	/* one at a time: ordered */
		revs[n++] = dels[i].revision;
	}
	wait_events(E.base, &s, 70, 1, 0, WAIT_MS);
	/* Revisions of the puts, sorted, then the deletes. */
	for (size_t i = 0; i < 60; i++)
		for (size_t j = i + 1; j < 60; j++)
			if (revs[j] < revs[i]) {
				int64_t t = revs[i];

				revs[i] = revs[j];
				revs[j] = t;
			}
	assert_false(s.out_of_order);
	for (size_t i = 0; i < 70; i++) {
		assert_int_equal(s.ev[i].mod, revs[i]);
		assert_int_equal(s.ev[i].type, i < 60 ? FG_ETCD_EVENT_PUT
						      : FG_ETCD_EVENT_DELETE);
	}
	for (size_t i = 60; i < 70; i++) {
		snprintf(key, sizeof(key), "/w1/k%02zu", i - 60);
		snprintf(val, sizeof(val), "v%zu", i - 60);
		assert_string_equal(s.ev[i].key, key);
		assert_true(s.ev[i].has_prev);
		assert_string_equal(s.ev[i].prev_value, val);
	}

	/* Two puts in one txn: one revision, two events. */
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_txn(E.c, NULL, 0, two, 2, NULL, 0, res_cb, &R),
			 0);
	wait_res(E.base, &R);
	wait_events(E.base, &s, 72, 1, 0, WAIT_MS);
	assert_int_equal(s.ev[70].mod, R.revision);
	assert_int_equal(s.ev[71].mod, R.revision);
	assert_string_equal(s.ev[70].key, "/w1/t1");
	assert_string_equal(s.ev[71].key, "/w1/t2");
	assert_int_equal(fg_etcd_watch_revision(w), R.revision);
	assert_int_equal(s.errors, 0);
	assert_false(s.terminal);

	/* Cancelled means silent. */
	fg_etcd_watch_cancel(w);
	put_ok("/w1/after", "x");
	run_for(E.base, 300);
	assert_int_equal(s.n, 72);
}

/* Events written while the watcher is cut off from etcd (etcd stopped and
 * restarted; the watcher's loop not running while the writes happen) are
 * delivered once, in order, when it reconnects. */
static void test_watch_restart(void **state)
{
	struct event_base *wb = event_base_new();
	const char *ep = E.endpoint;
	struct fg_etcd *wc;
	struct fg_etcd_watch *w;
	struct wsink s = { 0 };
	char err[512];
	int64_t start, r2, r3, rd;

	(void)state;
	assert_non_null(wb);
	wc = fg_etcd_new(wb, &ep, 1, err, sizeof(err));
	assert_non_null(wc);
	start = put_ok("/wr/a", "0");
	w = watch(wc, "/wr/", start + 1, &s);
	wait_events(wb, &s, 0, 1, 0, WAIT_MS);
	put_ok("/wr/1", "one");
	wait_events(wb, &s, 1, 1, 0, WAIT_MS);

	fg_etcd_embedded_stop(E.emb);
	E.emb = NULL;
	/* The watch notices, once, and keeps trying. */
	wait_events(wb, &s, 1, 1, 1, WAIT_MS);
	run_for(wb, 700);
	assert_int_equal(s.errors, 1);
	assert_false(s.terminal);

	assert_int_equal(emb_start(err, sizeof(err)), 0);
	/* Written with the watcher's loop stopped: it cannot have
	 * reconnected yet. */
	r2 = put_ok("/wr/2", "two");
	r3 = put_ok("/wr/3", "three");
	rd = del("/wr/1", false)->revision;
	assert_true(r2 < r3 && r3 < rd);

	wait_events(wb, &s, 4, 2, 1, 20000);
	run_for(wb, 300);
	assert_int_equal(s.n, 4);		/* nothing repeated */
	assert_string_equal(s.ev[0].key, "/wr/1");
	assert_int_equal(s.ev[1].mod, r2);
	assert_string_equal(s.ev[1].value, "two");
	assert_int_equal(s.ev[2].mod, r3);
	assert_int_equal(s.ev[3].mod, rd);
	assert_int_equal(s.ev[3].type, FG_ETCD_EVENT_DELETE);
	assert_false(s.out_of_order);
	assert_false(s.terminal);
	assert_int_equal(fg_etcd_watch_revision(w), rd);

	fg_etcd_watch_cancel(w);
	fg_etcd_free(wc);
	event_base_free(wb);
}

static void test_compaction(void **state)
{
	struct fg_etcd_op old = { .type = FG_ETCD_OP_RANGE, .key = "/cmp/k" };
	struct wsink s = { 0 }, s2 = { 0 };
	struct fg_etcd_watch *w;
	int64_t r1, r3;

	(void)state;
	r1 = put_ok("/cmp/k", "1");
	put_ok("/cmp/k", "2");
	r3 = put_ok("/cmp/k", "3");
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_compact(E.c, r3, true, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);

	/* Reading the past is refused as stale... */
	old.revision = r1;
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_do(E.c, &old, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, -ESTALE);
	assert_true(strlen(R.msg) > 0);
	/* ...and so is compacting again to the same revision. */
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_compact(E.c, r3, false, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, -ESTALE);

	/* A watch from before the compaction ends with -ESTALE and the
	 * compact revision; the handle stays valid until cancelled. */
	w = watch(E.c, "/cmp/", r1, &s);
	assert_true(run_until(E.base, wsink_terminal, &s, WAIT_MS));
	assert_int_equal(s.terminal_err, -ESTALE);
	assert_int_equal(s.compact, r3);
	assert_int_equal(s.n, 0);
	put_ok("/cmp/k", "4");
	run_for(E.base, 300);
	assert_int_equal(s.n, 0);		/* no reconnect after that */
	fg_etcd_watch_cancel(w);

	/* From the compact revision itself is fine. */
	w = watch(E.c, "/cmp/", r3, &s2);
	wait_events(E.base, &s2, 2, 1, 0, WAIT_MS);
	assert_int_equal(s2.ev[0].mod, r3);
	assert_string_equal(s2.ev[1].value, "4");
	assert_false(s2.terminal);
	fg_etcd_watch_cancel(w);
}

struct loss {
	int calls;
	int err;
	int64_t id;
};

static void loss_cb(void *arg, int64_t id, int err)
{
	struct loss *l = arg;

	l->calls++;
	l->err = err;
	l->id = id;
}

static bool loss_seen(void *p)
{
	return ((struct loss *)p)->calls > 0;
}

static int64_t grant(struct fg_etcd *c, int64_t ttl)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_lease_grant(c, ttl, 0, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);
	assert_true(R.lease_id > 0);
	assert_true(R.lease_ttl >= ttl);
	return R.lease_id;
}

static struct res *lease_revoke(struct fg_etcd *c, int64_t id)
{
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_lease_revoke(c, id, res_cb, &R), 0);
	wait_res(E.base, &R);
	return &R;
}

/* Poll every 200 ms until key has disappeared or timeout_ms passes. */
static bool wait_key_gone(const char *key, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < end) {
		if (range(key, false)->n_kvs == 0)
			return true;
		run_for(E.base, 200);
	}
	return false;
}

static void test_lease(void **state)
{
	const char *ep = E.endpoint;
	struct fg_etcd_keepalive *k = NULL, *k2 = NULL;
	struct loss l = { 0 }, l2 = { 0 };
	struct fg_etcd *c2;
	char err[256];
	int64_t id, id2, id3;
	uint64_t t0;
	struct res *r;

	(void)state;
	/* Kept alive for well over two TTLs. */
	id = grant(E.c, 2);
	assert_int_equal(put_on(E.c, E.base, "/lease/k", "v", id)->err, 0);
	assert_int_equal(fg_etcd_keepalive_start(E.c, id, 2, loss_cb, &l, &k),
			 0);
	run_for(E.base, 5000);
	assert_int_equal(l.calls, 0);
	r = range("/lease/k", false);
	assert_int_equal(r->n_kvs, 1);
	assert_int_equal(r->kvs[0].lease, id);

	/* Revoked: its key goes, and our own keepalive stays quiet. */
	assert_int_equal(lease_revoke(E.c, id)->err, 0);
	assert_int_equal(range("/lease/k", false)->n_kvs, 0);
	run_for(E.base, 1500);
	assert_int_equal(l.calls, 0);
	fg_etcd_keepalive_stop(k);
	assert_int_equal(lease_revoke(E.c, id)->err, -ENOENT);

	/* Not kept alive: expires by itself. */
	id2 = grant(E.c, 2);
	t0 = now_ms();
	assert_int_equal(put_on(E.c, E.base, "/lease/exp", "v", id2)->err, 0);
	assert_true(wait_key_gone("/lease/exp", 10000));
	assert_true(now_ms() - t0 >= 1500);

	/* Revoked behind the keepalive's back: reported lost. */
	c2 = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c2);
	id3 = grant(E.c, 3);
	assert_int_equal(fg_etcd_keepalive_start(E.c, id3, 3, loss_cb, &l2,
						 &k2), 0);
	assert_int_equal(lease_revoke(c2, id3)->err, 0);
	assert_true(run_until(E.base, loss_seen, &l2, 5000));
	assert_int_equal(l2.err, -ENOENT);
	assert_int_equal(l2.id, id3);
	run_for(E.base, 1500);
	assert_int_equal(l2.calls, 1);		/* once */
	fg_etcd_keepalive_stop(k2);
	fg_etcd_free(c2);

	assert_int_equal(fg_etcd_lease_grant(E.c, 0, 0, res_cb, &R), -EINVAL);
	assert_int_equal(fg_etcd_keepalive_start(E.c, 0, 2, loss_cb, &l, &k),
			 -EINVAL);
}

/* TLS settings: a certificate needs its key and the other way round;
 * empty strings mean none. */
static void test_tls_args(void **state)
{
	char ep_closed[64], err[256];
	const char *ep = ep_closed;
	struct fg_etcd *c;

	(void)state;
	snprintf(ep_closed, sizeof(ep_closed), "https://127.0.0.1:%u",
		 closed_port());
	c = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(fg_etcd_set_tls(c, NULL, "/etc/fg/cert.pem", NULL), -EINVAL);
	assert_int_equal(fg_etcd_set_tls(c, NULL, "", "/etc/fg/key.pem"), -EINVAL);
	assert_int_equal(fg_etcd_set_tls(c, "", "", ""), 0);
	assert_int_equal(fg_etcd_set_tls(c, "/etc/fg/ca.pem", "/etc/fg/cert.pem",
					 "/etc/fg/key.pem"), 0);
	assert_int_equal(fg_etcd_set_tls(NULL, NULL, NULL, NULL), -EINVAL);
	fg_etcd_free(c);
}

static void test_unreachable(void **state)
{
	char ep_closed[64], ep_hang[64], err[256];
	const char *ep;
	struct fg_etcd *c;
	struct wsink s = { 0 };
	struct fg_etcd_watch *w;
	uint16_t hport;
	uint64_t t0, dt;
	int hfd;

	(void)state;
	snprintf(ep_closed, sizeof(ep_closed), "http://127.0.0.1:%u",
		 closed_port());
	ep = ep_closed;
	c = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c);

	/* Refused: an error at once, not a hang. */
	t0 = now_ms();
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_range(c, "/x", false, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, -ECONNREFUSED);
	assert_non_null(strstr(R.msg, ep_closed));
	assert_true(now_ms() - t0 < 2000);

	/* A watch keeps trying and says so once. */
	w = watch(c, "/x/", 0, &s);
	wait_events(E.base, &s, 0, 0, 1, WAIT_MS);
	run_for(E.base, 1000);			/* several retries */
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.last_err, -ECONNREFUSED);
	assert_false(s.terminal);
	assert_int_equal(fg_etcd_watch_revision(w), 0);
	fg_etcd_watch_cancel(w);
	fg_etcd_free(c);

	/* Accepted but never answered: the timeout, not a hang. */
	hfd = hanging_listener(&hport);
	snprintf(ep_hang, sizeof(ep_hang), "http://127.0.0.1:%u", hport);
	ep = ep_hang;
	c = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(fg_etcd_set_timeout(c, 700), 0);
	t0 = now_ms();
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_put(c, "/x", "y", 1, 0, res_cb, &R), 0);
	wait_res(E.base, &R);
	dt = now_ms() - t0;
	assert_int_equal(R.err, -ETIMEDOUT);
	assert_true(dt >= 600 && dt < 3000);
	fg_etcd_free(c);
	close(hfd);

	/* The synchronous probe is bounded too. */
	t0 = now_ms();
	assert_int_equal(fg_etcd_wait_ready(ep_closed, 300), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 250 && dt < 2000);
	assert_int_equal(fg_etcd_wait_ready(E.endpoint, 5000), 0);

	/* Bad endpoints are refused with a reason. */
	ep = "127.0.0.1:2379";
	err[0] = '\0';
	assert_null(fg_etcd_new(E.base, &ep, 1, err, sizeof(err)));
	assert_true(strlen(err) > 0);
	assert_null(fg_etcd_new(E.base, &ep, 0, NULL, 0));
}

static void test_failover(void **state)
{
	char ep_closed[64], err[256];
	const char *eps[2];
	struct fg_etcd *c;
	struct wsink s = { 0 };
	struct fg_etcd_watch *w;
	uint64_t t0;

	(void)state;
	snprintf(ep_closed, sizeof(ep_closed), "http://127.0.0.1:%u",
		 closed_port());
	eps[0] = ep_closed;
	eps[1] = E.endpoint;
	c = fg_etcd_new(E.base, eps, 2, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(fg_etcd_endpoint(c), ep_closed);

	/* A write may fail over too: it never left on the refused
	 * connection. */
	t0 = now_ms();
	assert_int_equal(put_on(c, E.base, "/fo/k", "v", 0)->err, 0);
	assert_true(now_ms() - t0 < 3000);
	assert_string_equal(fg_etcd_endpoint(c), E.endpoint);
	memset(&R, 0, sizeof(R));
	assert_int_equal(fg_etcd_range(c, "/fo/k", false, res_cb, &R), 0);
	wait_res(E.base, &R);
	assert_int_equal(R.err, 0);
	assert_int_equal(R.n_kvs, 1);
	fg_etcd_free(c);

	/* A watch starting on the dead endpoint ends up on the live one. */
	c = fg_etcd_new(E.base, eps, 2, err, sizeof(err));
	assert_non_null(c);
	w = watch(c, "/fo/", 0, &s);
	wait_events(E.base, &s, 0, 1, 0, WAIT_MS);
	put_ok("/fo/k", "w");
	wait_events(E.base, &s, 1, 1, 0, WAIT_MS);
	assert_string_equal(s.ev[0].value, "w");
	fg_etcd_watch_cancel(w);
	fg_etcd_free(c);
}

static void test_embedded_refusals(void **state)
{
	struct fg_etcd_embedded_opts o;
	struct fg_etcd_embedded *e = NULL;
	char err[512], file[128];
	int fd, r;

	(void)state;
	fg_etcd_embedded_opts_init(&o);

	o.data_dir = E.root;
	o.etcd_path = "/nonexistent/etcd";
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "etcd not found"));
	assert_null(e);
	o.etcd_path = NULL;

	snprintf(file, sizeof(file), "%s/plain-file", E.root);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	o.data_dir = file;
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -ENOTDIR);
	assert_non_null(strstr(err, "not a directory"));

	/* Not writable even for root. */
	o.data_dir = "/sys";
	r = fg_etcd_embedded_start(&o, &e, err, sizeof(err));
	assert_true(r == -EACCES || r == -EROFS || r == -EPERM);
	assert_non_null(strstr(err, "not writable"));

	o.data_dir = NULL;
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -EINVAL);
	o.data_dir = E.root;
	o.name = "a=b";
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -EINVAL);
	o.name = NULL;
	o.request_max = 1000;
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -EINVAL);
	o.request_max = 0;
	o.quota_bytes = FG_ETCD_EMBEDDED_REQUEST_MAX;
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -EINVAL);
	o.quota_bytes = 0;

	/* The data dir of a running member: its live socket is not taken
	 * for a stale one, and nothing of it is touched. */
	o.data_dir = E.data;
	assert_int_equal(fg_etcd_embedded_start(&o, &e, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "another etcd listens there"));
	assert_null(e);
	assert_int_equal(fg_etcd_wait_ready(E.endpoint, 5000), 0);
	fg_etcd_embedded_stop(NULL);
}

/* kill -9 of the daemon takes its etcd along (PR_SET_PDEATHSIG). A helper
 * process plays the daemon; we are the orphan's subreaper, so we can reap
 * it and know it is gone rather than a zombie of somebody else's. */
static void test_dies_with_daemon(void **state)
{
	uint64_t t0;
	pid_t helper, etcd = 0, r = 0;
	int pfd[2], st;
	ssize_t n;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(pfd), 0);
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		struct fg_etcd_embedded_opts o;
		struct fg_etcd_embedded *e;
		char dir[128], err[256];
		pid_t p = 0;

		close(pfd[0]);
		snprintf(dir, sizeof(dir), "%s/orphan", E.root);
		fg_etcd_embedded_opts_init(&o);
		o.data_dir = dir;
		if (fg_etcd_embedded_start(&o, &e, err, sizeof(err)) == 0)
			p = fg_etcd_embedded_pid(e);
		if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	/* Bounded by the helper's ready timeout. */
	n = read(pfd[0], &etcd, sizeof(etcd));
	close(pfd[0]);
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	assert_int_equal(n, sizeof(etcd));
	assert_true(etcd > 0);
	t0 = now_ms();
	while (now_ms() - t0 < 10000) {
		r = waitpid(etcd, &st, WNOHANG);
		if (r == etcd)
			break;
		usleep(20 * 1000);
	}
	if (r != etcd) {
		kill(etcd, SIGKILL);
		waitpid(etcd, NULL, 0);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	assert_int_equal(r, etcd);
}

/* kill -9 of etcd: check() notices, waits the backoff, restarts it on the
 * same data; the data is still there. */
static void test_supervision(void **state)
{
	pid_t pid = fg_etcd_embedded_pid(E.emb), pid2;
	bool saw_wait = false;
	uint64_t t0 = now_ms();
	char err[512];
	int r;

	(void)state;
	put_ok("/sup/k", "survives");
	assert_true(pid > 0);
	assert_int_equal(fg_etcd_embedded_check(E.emb, err, sizeof(err)), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (;;) {
		r = fg_etcd_embedded_check(E.emb, err, sizeof(err));
		if (r == -EAGAIN) {
			saw_wait = true;
			assert_non_null(strstr(err, "signal 9"));
			assert_int_equal(fg_etcd_embedded_pid(E.emb), 0);
		}
		if (r == 1)
			break;
		assert_true(r == 0 || r == -EAGAIN);
		assert_true(now_ms() - t0 < 10000);
		usleep(50 * 1000);
	}
	assert_true(saw_wait);
	assert_true(now_ms() - t0 >= FG_ETCD_EMBEDDED_BACKOFF_MIN_MS - 100);
	assert_int_equal(fg_etcd_embedded_restarts(E.emb), 1);
	pid2 = fg_etcd_embedded_pid(E.emb);
	assert_true(pid2 > 0 && pid2 != pid);
	assert_int_equal(fg_etcd_wait_ready(E.endpoint, 20000), 0);
	assert_int_equal(fg_etcd_embedded_check(E.emb, err, sizeof(err)), 0);
	assert_string_equal(range("/sup/k", false)->kvs[0].value, "survives");
}

static void flag_cb(void *arg, const struct fg_etcd_result *r)
{
	(void)r;
	(*(int *)arg)++;
}

struct chain {
	struct fg_etcd *c;
	struct res second;
	int first;
};

/* A callback that submits the next request. */
static void chain_cb(void *arg, const struct fg_etcd_result *r)
{
	struct chain *ch = arg;

	assert_int_equal(r->err, 0);
	ch->first++;
	assert_int_equal(fg_etcd_range(ch->c, "/chain", false, res_cb,
				       &ch->second), 0);
}

static void test_lifetimes(void **state)
{
	const char *ep = E.endpoint;
	struct fg_etcd *c, *c2;
	struct fg_etcd_watch *w = NULL;
	struct wsink s = { 0 }, s2 = { 0 };
	struct chain ch = { 0 };
	char err[256];
	int calls = 0;

	(void)state;
	/* Freed with a request in flight: its callback never runs. */
	c = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(fg_etcd_range(c, "/x", false, flag_cb, &calls), 0);
	assert_int_equal(fg_etcd_put(c, "/x", "1", 1, 0, flag_cb, &calls), 0);
	fg_etcd_free(c);
	run_for(E.base, 300);
	assert_int_equal(calls, 0);
	fg_etcd_free(NULL);
	fg_etcd_watch_cancel(NULL);
	fg_etcd_keepalive_stop(NULL);

	/* Callbacks may submit requests. */
	ch.c = E.c;
	assert_int_equal(fg_etcd_put(E.c, "/chain", "c", 1, 0, chain_cb, &ch),
			 0);
	wait_res(E.base, &ch.second);
	assert_int_equal(ch.first, 1);
	assert_string_equal(ch.second.kvs[0].value, "c");

	/* A watch may cancel itself from its callback. */
	s.cancel_on_event = true;
	s.self = &w;
	w = watch(E.c, "/life/", 0, &s);
	wait_events(E.base, &s, 0, 1, 0, WAIT_MS);
	put_ok("/life/1", "a");
	wait_events(E.base, &s, 1, 1, 0, WAIT_MS);
	assert_null(w);
	put_ok("/life/2", "b");
	run_for(E.base, 300);
	assert_int_equal(s.n, 1);

	/* The client may be freed from a callback; its other work stops. */
	c2 = fg_etcd_new(E.base, &ep, 1, err, sizeof(err));
	assert_non_null(c2);
	s2.free_on_created = &c2;
	calls = 0;
	w = watch(c2, "/life/", 0, &s2);
	assert_int_equal(fg_etcd_range(c2, "/x", false, flag_cb, &calls), 0);
	wait_events(E.base, &s2, 0, 1, 0, WAIT_MS);
	assert_null(c2);
	run_for(E.base, 300);
	put_ok("/life/3", "c");
	run_for(E.base, 200);
	assert_int_equal(s2.n, 0);
	assert_int_equal(s2.calls, 1);
	assert_true(calls <= 1);	/* may have beaten the free */
}


/* ------------------------------------------------ the Unix sockets */

/* Socket inodes the process pid holds ("socket:[N]" in /proc/pid/fd). */
static size_t sock_inodes(pid_t pid, unsigned long *out, size_t max)
{
	char dir[64], path[320], link[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		ssize_t l;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = '\0';
		if (sscanf(link, "socket:[%lu]", &out[n]) == 1)
			n++;
	}
	closedir(d);
	return n;
}

/* TCP sockets (any state) among inodes, from the table `file` of the
 * pid's network namespace; *listening counts those in LISTEN (0A). */
static int tcp_sockets(pid_t pid, const char *file, const unsigned long *ino,
		       size_t n, int *listening)
{
	char path[64], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long inode;
		unsigned int st;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %*s %*s %lu",
			   &st, &inode) != 2)
			continue;
		for (size_t i = 0; i < n; i++)
			if (ino[i] == inode) {
				found++;
				if (st == 0x0A)
					(*listening)++;
			}
	}
	fclose(f);
	return found;
}

/* Every TCP socket of pid (tcp and tcp6). */
static int tcp_of(pid_t pid, int *listening)
{
	unsigned long ino[512];
	size_t n = sock_inodes(pid, ino, 512);
	int a, b;

	*listening = 0;
	a = tcp_sockets(pid, "tcp", ino, n, listening);
	b = tcp_sockets(pid, "tcp6", ino, n, listening);
	return a < 0 || b < 0 ? -1 : a + b;
}

/* Listening Unix sockets of pid bound to a file named `name`
 * (/proc/net/unix shows the path as given to bind(): etcd's is relative;
 * accepted connections show it too, without the listening flag). */
static int unix_of(pid_t pid, const char *name)
{
	unsigned long ino[512];
	size_t n = sock_inodes(pid, ino, 512);
	char line[512], p[400];
	int found = 0;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long inode, flags;

		p[0] = '\0';
		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %399s", &flags,
			   &inode, p) < 2 || !(flags & 0x10000))	/* ACCEPTCON */
			continue;
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;

		for (size_t i = 0; i < n; i++)
			if (ino[i] == inode && !strcmp(base, name))
				found++;
	}
	fclose(f);
	return found;
}

/*
 * The embedded member has no TCP socket at all, only its two Unix
 * sockets in a 0700 directory; a killed member's stale sockets and a
 * loosened directory mode are repaired at the next start.
 */
static void test_unix_only(void **state)
{
	char dir[256], sock[320];
	struct stat st;
	pid_t pid = fg_etcd_embedded_pid(E.emb);
	int lfd, listening, n;
	uint16_t port;
	char err[512];

	(void)state;
	/* The parser sees a TCP listener where there is one (ours). */
	lfd = hanging_listener(&port);
	assert_true(lfd >= 0);
	assert_true(tcp_of(getpid(), &listening) >= 1);
	assert_true(listening >= 1);
	close(lfd);

	assert_true(pid > 0);
	assert_int_equal(strncmp(E.endpoint, "unix:///", 8), 0);
	n = tcp_of(pid, &listening);
	assert_int_equal(n, 0);
	assert_int_equal(listening, 0);
	assert_int_equal(unix_of(pid, FG_ETCD_EMBEDDED_CLIENT_SOCK), 1);
	assert_int_equal(unix_of(pid, FG_ETCD_EMBEDDED_PEER_SOCK), 1);

	snprintf(dir, sizeof(dir), "%s", fg_etcd_embedded_sock_dir(E.emb));
	snprintf(sock, sizeof(sock), "%s/%s", dir,
		 FG_ETCD_EMBEDDED_CLIENT_SOCK);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());

	/* kill -9 leaves the sockets behind; a loosened mode is put back. */
	kill(pid, SIGKILL);
	fg_etcd_embedded_stop(E.emb);
	E.emb = NULL;
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(chmod(dir, 0755), 0);
	n = emb_start(err, sizeof(err));
	if (n)
		fprintf(stderr, "restart: %s\n", err);
	assert_int_equal(n, 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(tcp_of(fg_etcd_embedded_pid(E.emb), &listening), 0);
	assert_int_equal(fg_etcd_wait_ready(E.endpoint, 10000), 0);
	/* The client of the group finds it again at the same path. */
	assert_int_equal(range("/nothing-here", false)->err, 0);
}

/* ------------------------------------------------------- the store */

/* The daemon side of fg_store, as the tests see it. */
static struct {
	struct fg_boot_config cfg;
	struct fg_store *st;
	uint64_t changed_version;
	unsigned int changes;
	uint64_t last_shards;     /* the mask of the last change */
	json_t *last_texts;       /* its shard texts: {"NN": text} */
	char last_log[512];
} S;

static void on_rules(void *arg, const struct fg_store_change *ch,
		     uint64_t version)
{
	char k[8];

	(void)arg;
	S.changed_version = version;
	S.changes++;
	S.last_shards = ch->shards;
	json_decref(S.last_texts);
	S.last_texts = json_object();
	for (unsigned int i = 0; i < FG_RULES_SHARDS; i++) {
		if (!ch->text[i])
			continue;
		snprintf(k, sizeof(k), "%02u", i);
		json_object_set_new(S.last_texts, k,
				    json_stringn(ch->text[i], ch->len[i]));
	}
}

void fg_log(enum fg_log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(S.last_log, sizeof(S.last_log), fmt, ap);
	va_end(ap);
}

/* A store on its own embedded member under E.root/<sub>, with a quota
 * of quota_mib (0: the default). */
static struct fg_store *store_open(const char *sub, unsigned int quota_mib)
{
	struct fg_boot_config *c = &S.cfg;
	struct fg_etcd_embedded_opts o;
	char err[512];
	struct fg_store *st;

	memset(c, 0, sizeof(*c));
	snprintf(c->node.name, sizeof(c->node.name), "n1");
	snprintf(c->node.group, sizeof(c->node.group), "default");
	snprintf(c->api.listen, sizeof(c->api.listen), "127.0.0.1:7380");
	c->store.kind = FG_STORE_EMBEDDED;
	snprintf(c->store.data_dir, sizeof(c->store.data_dir), "%s/%s",
		 E.root, sub);
	snprintf(c->store.prefix, sizeof(c->store.prefix), "/floodgate");
	fg_etcd_embedded_opts_init(&o);
	o.quota_bytes = (uint64_t)quota_mib << 20;
	o.stop_timeout_ms = 5000;
	st = fg_store_open_with(E.base, c, on_rules, NULL, &o, err, sizeof(err));
	if (!st)
		fprintf(stderr, "store: %s\n", err);
	return st;
}

static bool store_loaded(void *p)
{
	(void)p;
	return S.changes > 0;
}

struct wres {
	bool done;
	int err;
	uint64_t version;
	char msg[512];
};

static void wres_cb(void *arg, int err, uint64_t version, const char *msg)
{
	struct wres *w = arg;

	w->done = true;
	w->err = err;
	w->version = version;
	snprintf(w->msg, sizeof(w->msg), "%s", msg);
}

static bool wres_done(void *p)
{
	return ((struct wres *)p)->done;
}

/* texts = every shard text of cfg (a config body), as the daemon makes
 * them. */
static void texts_of(json_t *cfg, char *texts[FG_RULES_SHARDS])
{
	struct fg_rule_error e = { 0 };
	struct fg_ruleset rs;

	/* Each object parsed; no checks across them: the sizes test
	 * writes more backends than a dataplane holds. */
	if (fg_ruleset_objects_from_json(cfg, &rs, &e))
		fail_msg("test rule set refused: %s", e.message);
	assert_int_equal(fg_ruleset_shard_texts(&rs, FG_RULES_SHARDS_ALL,
						texts), 0);
	fg_ruleset_free(&rs);
}

/* Write and wait (bounded). */
static struct wres store_write(json_t *cfg, uint64_t expected, bool force,
			       int wait_ms)
{
	struct wres w = { 0 };
	char *texts[FG_RULES_SHARDS];
	int r;

	texts_of(cfg, texts);
	r = force ? fg_store_write_force(S.st, texts, wres_cb, &w) :
		    fg_store_write(S.st, texts, FG_RULES_SHARDS_ALL, expected,
				   wres_cb, &w);
	fg_ruleset_shard_texts_free(texts);
	assert_int_equal(r, 0);
	assert_true(run_until(E.base, wres_done, &w, wait_ms));
	return w;
}

/*
 * A rule set of nsvc services with nbe backends each, in the canonical
 * shape. long_fields: every field at its longest (IPv6 addresses of 39
 * characters, 63-character names, an http health check with a 255-char
 * escaped path): the largest JSON the limits allow.
 */
static json_t *ruleset(unsigned int nsvc, unsigned int nbe, bool long_fields,
		       unsigned int salt)
{
	json_t *svcs = json_object(), *root;
	char name[80], addr[64], path[260];

	memset(path, '"', sizeof(path));
	path[0] = '/';
	path[255] = '\0';
	for (unsigned int s = 0; s < nsvc; s++) {
		json_t *bes = json_array(), *svc;

		for (unsigned int b = 0; b < nbe; b++) {
			if (long_fields)
				snprintf(addr, sizeof(addr),
					 "2001:db8:ffff:ffff:ffff:ffff:%04x:%04x",
					 s, b);
			else
				snprintf(addr, sizeof(addr), "198.19.%u.%u",
					 (s * nbe + b) / 256 % 256,
					 (s * nbe + b) % 256);
			json_array_append_new(bes, json_pack(
				"{s:s,s:i,s:s,s:i}", "addr", addr,
				"port", long_fields ? 65535 : 8080,
				"state", "active",
				"weight", long_fields ? 65535 : 100));
		}
		if (long_fields)
			snprintf(name, sizeof(name), "%060u%03u", s, salt % 1000);
		else
			snprintf(name, sizeof(name), "svc%u-%u", s, salt);
		svc = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:o}",
				"vip", long_fields ?
				"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" :
				"198.18.0.10",
				"port", 1000 + (int)s, "proto", "tcp",
				"mode", "l4", "forward", "dsr-ipip",
				"hash", "5tuple", "backends", bes);
		if (long_fields)
			json_object_set_new(svc, "health", json_pack(
				"{s:s,s:i,s:i,s:i,s:i,s:i,s:s,s:i}",
				"type", "http", "interval_ms", 3600000,
				"timeout_ms", 3599999, "rise", 1000,
				"fall", 1000, "port", 65535, "path", path,
				"expect_status", 599));
		json_object_set_new(svcs, name, svc);
	}
	root = json_pack("{s:o,s:{},s:{},s:{}}", "services", svcs, "limits",
			 "routes", "seckill");
	return root;
}

static size_t json_len(json_t *j)
{
	char *v = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n = v ? strlen(v) : 0;

	free(v);
	return n;
}

/* The first read gives the store's identity; a store created afresh has
 * a cluster id of its own. */
static void test_store_identity(void **state)
{
	uint64_t cid = 0, rev = 0, cid2 = 0;
	struct fg_store *other;

	(void)state;
	S.changes = 0;
	S.st = store_open("store", 128);
	assert_non_null(S.st);
	assert_int_equal(fg_store_identity(S.st, &cid, &rev), -EAGAIN);
	assert_true(run_until(E.base, store_loaded, NULL, WAIT_MS));
	assert_int_equal(fg_store_identity(S.st, &cid, &rev), 0);
	assert_true(cid != 0);
	assert_true(rev >= 1);
	assert_int_equal(fg_store_identity(NULL, &cid, &rev), -EINVAL);

	/* Another store, same node name, same flags: another cluster id. */
	{
		struct fg_store *keep = S.st;
		uint64_t v = S.changed_version;

		S.changes = 0;
		other = store_open("store-b", 0);
		assert_non_null(other);
		S.st = other;
		assert_true(run_until(E.base, store_loaded, NULL, WAIT_MS));
		assert_int_equal(fg_store_identity(other, &cid2, NULL), 0);
		fg_store_close(other);
		S.st = keep;
		S.changed_version = v;
	}
	assert_true(cid2 != 0);
	assert_true(cid2 != cid);
}

/*
 * Sizes: over etcd's default 1.5 MiB is stored; a set at the documented
 * maximum (65,536 backends, every field at its longest) is stored; over
 * the member's limit answers -EMSGSIZE naming the limit, whether the
 * client or etcd refuses it. write_force ignores the version.
 */
static void test_store_sizes(void **state)
{
	json_t *cfg;
	struct wres w;
	size_t len;
	char lim[32];

	(void)state;
	assert_non_null(S.st);
	/* ~2.3 MB: over the old limit. */
	cfg = ruleset(64, 512, false, 1);
	len = json_len(cfg);
	assert_true(len > (3U << 19));
	w = store_write(cfg, S.changed_version, false, 30000);
	assert_int_equal(w.err, 0);
	assert_true(w.version > 0);
	json_decref(cfg);

	/* The maximum: 4,096 services x 16 backends, longest fields. */
	cfg = ruleset(FG_SVC_MAX, FG_BACKEND_MAX / FG_SVC_MAX, true, 2);
	len = json_len(cfg);
	printf("# maximum rule set: %zu bytes\n", len);
	assert_true(len > 9000000);
	w = store_write(cfg, w.version, false, 60000);
	assert_int_equal(w.err, 0);
	json_decref(cfg);

	/* Over the limit: 20 MB (the client refuses it). */
	snprintf(lim, sizeof(lim), "%llu",
		 (unsigned long long)FG_ETCD_EMBEDDED_REQUEST_MAX);
	cfg = ruleset(FG_SVC_MAX, 40, true, 3);
	len = json_len(cfg);
	assert_true(len > FG_ETCD_EMBEDDED_REQUEST_MAX);
	{
		struct wres w2 = store_write(cfg, w.version, false, 60000);

		assert_int_equal(w2.err, -EMSGSIZE);
		assert_non_null(strstr(w2.msg, lim));
		assert_non_null(strstr(w2.msg, "16.0 MiB"));
		/* etcd's own refusal, the client's check off. */
		fg_etcd_set_request_max(S.st->etcd, 0);
		w2 = store_write(cfg, w.version, false, 60000);
		fg_etcd_set_request_max(S.st->etcd, S.st->request_max);
		assert_int_equal(w2.err, -EMSGSIZE);
		assert_non_null(strstr(w2.msg, lim));
	}
	json_decref(cfg);

	/* A stale version is refused; forced, the same write lands. */
	cfg = ruleset(2, 2, false, 4);
	{
		struct wres w3 = store_write(cfg, 1, false, WAIT_MS);

		assert_int_equal(w3.err, -ESTALE);
		w3 = store_write(cfg, 0, true, WAIT_MS);
		assert_int_equal(w3.err, 0);
		assert_true(w3.version > w.version);
	}
	json_decref(cfg);
}

/* Every key under the rules prefix: head first, then shards by key. */
static struct res *rules_keys(void)
{
	struct res *tr = calloc(1, sizeof(*tr));

	assert_non_null(tr);
	assert_int_equal(fg_etcd_range(S.st->etcd, S.st->rules_key, true,
				       res_cb, tr), 0);
	wait_res(E.base, tr);
	assert_int_equal(tr->err, 0);
	return tr;
}

static bool changed_past(void *p)
{
	return S.changed_version >= *(uint64_t *)p;
}

/*
 * The layout: a head and one key per non-empty shard, each holding the
 * objects whose names hash to it; a change by another writer reaches the
 * watch as the shards it touched; a store of the earlier layout (the
 * whole set in the head) is read whole and rewritten whole by the next
 * write, whatever it changes.
 */
static void test_store_shards(void **state)
{
	json_t *cfg = ruleset(40, 2, false, 8), *svcs;
	char *texts[FG_RULES_SHARDS], *whole;
	unsigned int i, nshards = 0, nsvcs = 0;
	struct res *tr;
	struct wres w;
	uint64_t want;

	(void)state;
	assert_non_null(S.st);
	w = store_write(cfg, 0, true, WAIT_MS);
	assert_int_equal(w.err, 0);
	tr = rules_keys();
	assert_true(tr->n_kvs > 1);
	assert_int_equal((uint64_t)tr->kvs[0].mod, w.version);
	/* One key per shard the names hash to, named by its number. */
	{
		uint64_t used = 0;
		char nm[32];

		for (i = 0; i < 40; i++) {
			snprintf(nm, sizeof(nm), "svc%u-8", i);
			used |= fg_rules_shard_bit(nm);
		}
		for (i = 1; i < tr->n_kvs; i++) {
			const char *k = tr->kvs[i].key +
					strlen(S.st->rules_key) + 1;

			assert_int_equal((uint64_t)tr->kvs[i].mod, w.version);
			assert_int_equal(strlen(k), 2);
			assert_true(used & (1ULL << atoi(k)));
			nshards++;
		}
		nsvcs = (unsigned int)__builtin_popcountll(used);
	}
	printf("# 40 services in %u shard keys\n", nshards);
	assert_int_equal(nshards, nsvcs);
	assert_true(nshards >= 16 && nshards <= 40);
	free(tr);

	/* Another writer changes one service: head and one shard. */
	svcs = json_object_get(cfg, "services");
	json_object_set_new(json_object_get(svcs, "svc0-8"), "port",
			    json_integer(4242));
	texts_of(cfg, texts);
	{
		unsigned int n = fg_rules_shard("svc0-8");
		char key[320];
		struct fg_etcd_op put[2] = {
			{ .type = FG_ETCD_OP_PUT, .key = S.st->rules_key,
			  .value = "{\"layout\":\"shards\",\"shards\":64}",
			  .value_len = 31 },
			{ .type = FG_ETCD_OP_PUT, .key = key,
			  .value = texts[n], .value_len = strlen(texts[n]) },
		};
		struct res txr = { 0 };

		snprintf(key, sizeof(key), "%s/%02u", S.st->rules_key, n);
		assert_int_equal(fg_etcd_txn(S.st->etcd, NULL, 0, put, 2, NULL,
					     0, res_cb, &txr), 0);
		wait_res(E.base, &txr);
		assert_int_equal(txr.err, 0);
		want = (uint64_t)txr.revision;
		assert_true(run_until(E.base, changed_past, &want, WAIT_MS));
		assert_int_equal(S.changed_version, want);
		assert_int_equal(S.last_shards, 1ULL << n);
		assert_int_equal(json_object_size(S.last_texts), 1);
		snprintf(key, sizeof(key), "%02u", n);
		assert_string_equal(json_string_value(json_object_get(
			S.last_texts, key)), texts[n]);
	}
	fg_ruleset_shard_texts_free(texts);

	/* An earlier release writes its whole set into the head. */
	whole = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	{
		struct res txr = { 0 };

		assert_int_equal(fg_etcd_put(S.st->etcd, S.st->rules_key, whole,
					     strlen(whole), 0, res_cb, &txr), 0);
		wait_res(E.base, &txr);
		assert_int_equal(txr.err, 0);
		want = (uint64_t)txr.revision;
	}
	assert_true(run_until(E.base, changed_past, &want, WAIT_MS));
	assert_int_equal(S.last_shards, FG_RULES_SHARDS_ALL);
	assert_string_equal(json_string_value(json_object_get(S.last_texts,
							      "00")), whole);
	free(whole);
	assert_true(S.st->legacy);
	/* The next write names one shard; every shard is written. */
	texts_of(cfg, texts);
	memset(&w, 0, sizeof(w));
	assert_int_equal(fg_store_write(S.st, texts, 1, want, wres_cb, &w), 0);
	assert_true(run_until(E.base, wres_done, &w, WAIT_MS));
	assert_int_equal(w.err, 0);
	assert_false(S.st->legacy);
	tr = rules_keys();
	assert_true(tr->n_kvs - 1 == nshards);
	for (i = 0; i < tr->n_kvs; i++)
		assert_int_equal((uint64_t)tr->kvs[i].mod, w.version);
	assert_non_null(memmem(tr->kvs[0].value, tr->kvs[0].value_len,
			       "\"layout\"", 8));
	free(tr);
	fg_ruleset_shard_texts_free(texts);
	json_decref(cfg);
}

static bool maint_idle(void *p)
{
	(void)p;
	return !S.st->maint_running;
}

/*
 * Hundreds of rule sets at the dataplane's maximum of 65,536 backends
 * (4.4 MB with IPv4 addresses) through a member whose quota (128 MiB)
 * would fill after about thirty of them without compaction: every write
 * lands, and the database file, measured before each compaction, stays
 * under the quota. Bounded by count, not time: the writes it takes to
 * put four times the quota through the member (on two cores, JSON and
 * base64 through etcd's gateway cost ~0.35 s a write); the 240 s cap only
 * turns a hang into a failure.
 */
static void test_store_space(void **state)
{
	json_t *cfg, *svcs;
	uint64_t ver = 0, t0 = now_ms(), max_db = 0;
	unsigned int i, n = 0;
	size_t len;

	(void)state;
	assert_non_null(S.st);
	cfg = ruleset(128, 512, false, 5);	/* 65,536 backends */
	len = json_len(cfg);
	printf("# %zu bytes a rule set\n", len);
	assert_true(len > 4000000);
	svcs = json_object_get(cfg, "services");
	/* Space is the point here, not the watch: without it each write
	 * costs half as much (no 4.4 MB event to encode and parse). */
	fg_etcd_watch_cancel(S.st->watch);
	S.st->watch = NULL;
	for (i = 0; i < 300 && (uint64_t)n * len <= 4 * (128ULL << 20) &&
	     now_ms() - t0 < 240000; i++) {
		struct wres w;
		char k[32];

		/* One service more each time: a different value. */
		snprintf(k, sizeof(k), "extra%u", i);
		json_object_set_new(svcs, k, json_pack(
			"{s:s,s:i,s:s,s:s,s:s,s:s,s:[]}", "vip", "198.18.0.11",
			"port", (int)i + 1, "proto", "udp", "mode", "l4",
			"forward", "nat", "hash", "src_ip", "backends"));
		w = store_write(cfg, 0, true, 60000);
		if (w.err)
			fprintf(stderr, "write %u: %s\n", i, w.msg);
		assert_int_equal(w.err, 0);
		assert_true(w.version > ver);
		ver = w.version;
		n++;
	}
	assert_true(run_until(E.base, maint_idle, NULL, 60000));
	max_db = (uint64_t)S.st->db_size_peak;
	printf("# %u writes (%.0f MB) in %.1f s; %u maintenance passes; "
	       "db size at most %.1f MB, now %.1f MB (%.1f in use)\n", n,
	       (double)n * (double)len / 1e6, (double)(now_ms() - t0) / 1000.0,
	       S.st->maint_passes, (double)max_db / 1e6,
	       (double)S.st->db_size / 1e6, (double)S.st->db_size_in_use / 1e6);
	{
		char path[64], line[128];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/status",
			 (int)fg_etcd_embedded_pid(S.st->emb));
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "VmRSS:", 6))
				printf("# etcd %s", line);
		if (f)
			fclose(f);
	}
	/* Enough writes to fill the quota four times over; the file
	 * never came near it. */
	assert_true((uint64_t)n * len > 4 * (128ULL << 20));
	assert_true(S.st->maint_passes >= n * len / FG_STORE_MAINT_BYTES / 2);
	assert_true(max_db > 0);
	assert_true(max_db < (128ULL << 20) * 9 / 10);
	json_decref(cfg);
	/* The next test wants the watch back. */
	fg_store_watch_from(S.st, 0);
}

/* The member's pid of the store under test. */
static pid_t store_pid(void)
{
	return fg_etcd_embedded_pid(S.st->emb);
}

/* The rule set head's mod_revision: the stored version. */
static uint64_t head_revision(void)
{
	struct fg_etcd_op get = {
		.type = FG_ETCD_OP_RANGE, .key = S.st->rules_key,
	};
	struct res *tr = calloc(1, sizeof(*tr));
	uint64_t v;

	assert_non_null(tr);
	assert_int_equal(fg_etcd_do(S.st->etcd, &get, res_cb, tr), 0);
	wait_res(E.base, tr);
	assert_int_equal(tr->err, 0);
	assert_int_equal(tr->n_kvs, 1);
	v = (uint64_t)tr->kvs[0].mod;
	free(tr);
	return v;
}

/*
 * A write whose answer is lost: resolution tells landed from not. First
 * deterministically (a write txn made by hand with a marker, then a
 * request that lost its answer), then with a frozen member.
 */
static void test_store_timeout(void **state)
{
	json_t *cfg = ruleset(2, 2, false, 6);
	char *value = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	char *texts[FG_RULES_SHARDS];
	struct fg_write_req *r;
	struct wres w = { 0 };
	uint64_t rev0;
	pid_t pid;

	(void)state;
	assert_non_null(S.st);
	assert_non_null(value);

	/* 1. Landed, answer lost: the marker says so, with the revision. */
	{
		struct fg_etcd_op put[2] = {
			{ .type = FG_ETCD_OP_PUT, .key = S.st->rules_key,
			  .value = value, .value_len = strlen(value) },
			{ .type = FG_ETCD_OP_PUT, .key = "/floodgate/writes/n1/t1",
			  .value = "1", .value_len = 1 },
		};
		struct res tr = { 0 };

		assert_int_equal(fg_etcd_txn(S.st->etcd, NULL, 0, put, 2, NULL,
					     0, res_cb, &tr), 0);
		wait_res(E.base, &tr);
		assert_int_equal(tr.err, 0);
		r = calloc(1, sizeof(*r));
		r->st = S.st;
		TAILQ_INSERT_TAIL(&S.st->writes, r, link);
		r->cb = wres_cb;
		r->arg = &w;
		r->force = true;
		r->marker = strdup("/floodgate/writes/n1/t1");
		snprintf(r->why, sizeof(r->why), "test");
		r->resolve_deadline = now_ms() + 5000;
		r->resolve_timer = evtimer_new(E.base, fg_store_resolve_cb, r);
		fg_store_resolve(r);
		assert_true(run_until(E.base, wres_done, &w, WAIT_MS));
		assert_int_equal(w.err, 0);
		assert_int_equal(w.version, (uint64_t)tr.revision);
	}

	/* 2. Not landed: fenced, and the late write can no longer apply. */
	memset(&w, 0, sizeof(w));
	r = calloc(1, sizeof(*r));
	r->st = S.st;
	TAILQ_INSERT_TAIL(&S.st->writes, r, link);
	r->cb = wres_cb;
	r->arg = &w;
	r->force = true;
	r->marker = strdup("/floodgate/writes/n1/t2");
	snprintf(r->why, sizeof(r->why), "test");
	r->resolve_deadline = now_ms() + 5000;
	r->resolve_timer = evtimer_new(E.base, fg_store_resolve_cb, r);
	fg_store_resolve(r);
	assert_true(run_until(E.base, wres_done, &w, WAIT_MS));
	assert_int_equal(w.err, -EIO);
	assert_non_null(strstr(w.msg, "did not land"));
	{
		struct fg_etcd_cmp cmp = {
			.key = "/floodgate/writes/n1/t2",
			.target = FG_ETCD_CMP_CREATE_REVISION,
			.result = FG_ETCD_CMP_EQUAL, .number = 0,
		};
		struct fg_etcd_op put = {
			.type = FG_ETCD_OP_PUT, .key = S.st->rules_key,
			.value = "{}", .value_len = 2,
		};
		struct res tr = { 0 };

		/* The write as it was sent, arriving late. */
		assert_int_equal(fg_etcd_txn(S.st->etcd, &cmp, 1, &put, 1, NULL,
					     0, res_cb, &tr), 0);
		wait_res(E.base, &tr);
		assert_int_equal(tr.err, 0);
		assert_false(tr.succeeded);
	}

	/* 3. A frozen member: the client times out (1 s); the member
	 * thaws within the resolution window; the answer matches what the
	 * store holds, also a while later. */
	json_decref(cfg);
	cfg = ruleset(3, 3, false, 7);
	texts_of(cfg, texts);
	fg_etcd_set_timeout(S.st->etcd, 1000);
	pid = store_pid();
	assert_true(pid > 0);
	rev0 = head_revision();
	memset(&w, 0, sizeof(w));
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(fg_store_write_force(S.st, texts, wres_cb, &w), 0);
	run_for(E.base, 1800);
	assert_false(w.done);		/* resolving, not answered */
	kill(pid, SIGCONT);
	assert_true(run_until(E.base, wres_done, &w, 20000));
	printf("# frozen then thawed: err %d, version %llu (%s)\n", w.err,
	       (unsigned long long)w.version, w.msg);
	assert_true(w.err == 0 || w.err == -EIO);
	/* Anything still queued in the thawed member has run by now: the
	 * head is at the write's version if it landed, else untouched. */
	run_for(E.base, 1500);
	if (w.err == 0)
		assert_int_equal(head_revision(), w.version);
	else
		assert_int_equal(head_revision(), rev0);

	/* 4. Frozen longer than the resolution window: outcome unknown. */
	S.st->resolve_ms = 2000;
	memset(&w, 0, sizeof(w));
	assert_int_equal(kill(pid, SIGSTOP), 0);
	assert_int_equal(fg_store_write_force(S.st, texts, wres_cb, &w), 0);
	assert_true(run_until(E.base, wres_done, &w, 10000));
	kill(pid, SIGCONT);
	assert_int_equal(w.err, -ETIMEDOUT);
	assert_non_null(strstr(w.msg, "outcome unknown: the write may still "
			       "be applied"));
	S.st->resolve_ms = FG_STORE_RESOLVE_MS;
	fg_etcd_set_timeout(S.st->etcd, FG_ETCD_TIMEOUT_MS_DEFAULT);
	fg_ruleset_shard_texts_free(texts);
	free(value);
	json_decref(cfg);
	fg_store_close(S.st);
	S.st = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_watch_order),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_tls_args),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_embedded_refusals),
		cmocka_unit_test(test_dies_with_daemon),
		cmocka_unit_test(test_unix_only),
		/* The store: in this order, on one member of its own. */
		cmocka_unit_test(test_store_identity),
		cmocka_unit_test(test_store_sizes),
		cmocka_unit_test(test_store_shards),
		cmocka_unit_test(test_store_space),
		cmocka_unit_test(test_store_timeout),
		/* These two take etcd down; they go last. */
		cmocka_unit_test(test_supervision),
		cmocka_unit_test(test_watch_restart),
	};

	if (access(ETCD_BIN, X_OK) != 0) {
		printf("SKIP: %s not found (apt install etcd-server)\n",
		       ETCD_BIN);
		return 77;
	}
	/* FG_TEST_FILTER=glob runs only the matching tests (the group's
	 * etcd still starts): for working on one of them. */
	if (getenv("FG_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FG_TEST_FILTER"));
	/* A broken pipe to a dead etcd must be an error, not our death. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
