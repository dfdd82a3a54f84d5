/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_reconcile.c - the reconciler (fg_reconcile.c) between a store and a
 * dataplane that are both fakes made here: the dataplane records what it
 * was asked to apply and can be told to fail; the store answers identity
 * and writes as the test says. The health checker is the real one (its
 * targets are never probed within a test: 60 s intervals).
 *
 * What it shows: a store behind the adopted dataplane is never applied on
 * its own (conflict reported), --force applies it, --adopt-dataplane writes
 * the running copy back and applies it under the new version; a failed
 * apply is retried with backoff until it succeeds; health starts from the
 * adopted dataplane's down flags.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "fg_daemon.h"
#include "fg_health.h"
#include "fg_reconcile.h"
#include "fg_rules_json.h"
#include "fg_stock_link.h"
#include "fg_store.h"

/* ------------------------------------------------------ fake dataplane */

struct fake_dp {
	struct fg_dataplane dp;
	uint64_t live;            /* applied version */
	unsigned int applies;     /* successful applies */
	unsigned int fail_next;   /* fail this many applies */
	unsigned int failures;
	bool have_origin;
	struct fg_dp_origin origin;
	bool be_down;             /* every backend reads as down */
	bool last_health_down;    /* health_down of the first backend */
};

static struct fake_dp *fdp(struct fg_dataplane *dp)
{
	return (struct fake_dp *)dp;
}

static int f_apply(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		   uint64_t version, char *err, size_t errlen)
{
	struct fake_dp *f = fdp(dp);

	if (f->fail_next) {
		f->fail_next--;
		f->failures++;
		snprintf(err, errlen, "fg_ring: injected failure");
		return -EIO;
	}
	f->live = version;
	f->applies++;
	if (rs->nservices && rs->services[0].nbackends)
		f->last_health_down = rs->services[0].backends[0].health_down;
	return 0;
}

static uint64_t f_applied(struct fg_dataplane *dp)
{
	return fdp(dp)->live;
}

static int f_be_down(struct fg_dataplane *dp, const char *service,
		     const struct fg_addr *addr, uint16_t port, bool *down)
{
	*down = fdp(dp)->be_down;
	return 0;
}

static int f_origin(struct fg_dataplane *dp, struct fg_dp_origin *o)
{
	if (!fdp(dp)->have_origin)
		return -ENOENT;
	*o = fdp(dp)->origin;
	return 0;
}

static int f_set_origin(struct fg_dataplane *dp, const struct fg_dp_origin *o)
{
	fdp(dp)->have_origin = true;
	fdp(dp)->origin = *o;
	return 0;
}

static const struct fg_dp_ops fake_ops = {
	.kind = "fake",
	.apply = f_apply,
	.applied_version = f_applied,
	.backend_down = f_be_down,
	.origin = f_origin,
	.set_origin = f_set_origin,
};

/* ---------------------------------------------------------- fake store */

static uint64_t store_cluster = 0xabcdef01;
static unsigned int store_writes;
static json_t *store_written;
static uint64_t store_write_expected;
static fg_store_write_cb store_cb;
static void *store_cb_arg;

int fg_store_identity(const struct fg_store *st, uint64_t *cluster_id,
		      uint64_t *revision)
{
	*cluster_id = store_cluster;
	*revision = 0;
	return 0;
}

/* What was written, as one config body (the shards united). */
int fg_store_write(struct fg_store *st, char *const text[FG_RULES_SHARDS],
		   uint64_t shards, uint64_t expected, fg_store_write_cb cb,
		   void *arg)
{
	unsigned int i;

	store_writes++;
	json_decref(store_written);
	store_written = json_object();
	for (i = 0; i < FG_RULES_SHARDS; i++) {
		json_t *j = text[i] ? json_loads(text[i], 0, NULL) : NULL;
		const char *kind;
		json_t *map;

		json_object_foreach(j, kind, map) {
			if (!json_object_get(store_written, kind))
				json_object_set_new(store_written, kind,
						    json_object());
			json_object_update(json_object_get(store_written, kind),
					   map);
		}
		json_decref(j);
	}
	store_write_expected = expected;
	store_cb = cb;
	store_cb_arg = arg;
	return 0;
}

void fg_store_node_applied(struct fg_store *st, uint64_t version)
{
}

/* No dpdk process here: no stock link to wake. */
void fg_stock_link_kick(struct fg_stock_link *k)
{
}

/* ------------------------------------------------------------ fixtures */

struct fx {
	struct fake_dp f;
	struct fg_daemon d;
	char run_dir[64];
};

/* A rule set with one service, its backend health-checked (or not). */
static json_t *rules(const char *backend, bool health)
{
	json_t *svc = json_pack("{s:s,s:i,s:s,s:s,s:[{s:s}]}",
				"vip", "198.18.0.10", "port", 80, "proto", "tcp",
				"forward", "nat", "backends", "addr", backend);

	if (health)
		json_object_set_new(svc, "health",
				    json_pack("{s:s,s:i}", "type", "tcp",
					      "interval_ms", 60000));
	return json_pack("{s:{s:o},s:{},s:{},s:{}}", "services", "web", svc,
			 "limits", "routes", "seckill");
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->f.dp.ops = &fake_ops;
	x->d.dp = &x->f.dp;
	x->d.base = event_base_new();
	assert_non_null(x->d.base);
	x->d.health = fg_health_new(x->d.base, fg_daemon_health_changed, &x->d);
	assert_non_null(x->d.health);
	snprintf(x->run_dir, sizeof(x->run_dir), "/tmp/fgrec.XXXXXX");
	assert_non_null(mkdtemp(x->run_dir));
	x->d.run_dir = x->run_dir;
	snprintf(x->d.cfg.node.name, sizeof(x->d.cfg.node.name), "n1");
	store_writes = 0;
	store_cb = NULL;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	fg_reconcile_free(&x->d);
	fg_health_free(x->d.health);
	fg_ruleset_free(&x->d.rules);
	event_base_free(x->d.base);
	json_decref(store_written);
	store_written = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", x->run_dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

/* The dataplane was adopted running `version` from store cluster `cid`
 * (0: no origin recorded). */
static void adopted(struct fx *x, uint64_t version, uint64_t cid)
{
	x->f.live = version;
	x->d.applied_version = version;
	x->f.dp.adopted = true;
	x->f.have_origin = cid != 0;
	x->f.origin.cluster_id = cid;
	x->f.origin.revision = version;
}

/* Deliver rule set j (stolen) at version v as the store would on a
 * first read: every shard changed (here all of it in one text). */
static void deliver(struct fx *x, json_t *j, uint64_t v)
{
	struct fg_store_change ch = { .shards = FG_RULES_SHARDS_ALL };
	char *text = json_dumps(j, JSON_COMPACT);

	assert_non_null(text);
	ch.text[0] = text;
	ch.len[0] = strlen(text);
	fg_daemon_rules_changed(&x->d, &ch, v);
	free(text);
	json_decref(j);
}

/* ---------------------------------------------------------------- tests */

static void test_origin_conflict_cases(void **state)
{
	struct fg_dp_origin o = { .cluster_id = 7, .revision = 40 };
	char why[256];

	(void)state;
	/* Nothing running: anything goes. */
	assert_false(fg_origin_conflict(0, NULL, 1, 9, why, sizeof(why)));
	/* The same store, ahead or level. */
	assert_false(fg_origin_conflict(40, &o, 40, 7, why, sizeof(why)));
	assert_false(fg_origin_conflict(40, &o, 41, 7, why, sizeof(why)));
	/* The same store, behind (a restored backup). */
	assert_true(fg_origin_conflict(40, &o, 12, 7, why, sizeof(why)));
	assert_non_null(strstr(why, "version 12"));
	/* Another store, even ahead (a new one that took many writes). */
	assert_true(fg_origin_conflict(40, &o, 400, 8, why, sizeof(why)));
	assert_non_null(strstr(why, "different store"));
	/* No origin recorded (an older build's pins): versions decide. */
	assert_true(fg_origin_conflict(40, NULL, 3, 8, why, sizeof(why)));
	assert_false(fg_origin_conflict(40, NULL, 41, 8, why, sizeof(why)));
}

/* An empty store (data dir lost) after kill -9: never applied; the status
 * has the conflict; later writes are not applied either. */
static void test_empty_store_not_applied(void **state)
{
	struct fx *x = *state;

	adopted(x, 57, store_cluster - 1);
	deliver(x, json_pack("{s:{},s:{},s:{},s:{}}", "services", "limits",
			     "routes", "seckill"), 2);
	assert_int_equal(x->f.applies, 0);
	assert_int_equal(x->f.live, 57);
	assert_int_equal(x->d.applied_version, 57);
	assert_int_equal(x->d.rules_version, 2);
	assert_non_null(strstr(x->d.conflict, "--adopt-dataplane"));
	assert_non_null(strstr(x->d.conflict, "--force"));
	deliver(x, rules("198.19.0.1", false), 3);
	assert_int_equal(x->f.applies, 0);
	assert_int_equal(fg_daemon_apply(&x->d), -EBUSY);
	assert_int_equal(x->f.applies, 0);
}

/* A store restored from an older backup of the same cluster. */
static void test_older_backup_not_applied(void **state)
{
	struct fx *x = *state;

	adopted(x, 57, store_cluster);
	deliver(x, rules("198.19.0.1", false), 30);
	assert_int_equal(x->f.applies, 0);
	assert_non_null(strstr(x->d.conflict, "holds only version 30"));
}

/* The same store, ahead: applied as usual; the origin is recorded. */
static void test_store_ahead_applied(void **state)
{
	struct fx *x = *state;

	adopted(x, 57, store_cluster);
	deliver(x, rules("198.19.0.1", false), 60);
	assert_string_equal(x->d.conflict, "");
	assert_int_equal(x->f.applies, 1);
	assert_int_equal(x->f.live, 60);
	assert_int_equal(x->f.origin.cluster_id, store_cluster);
	assert_int_equal(x->f.origin.revision, 60);
}

static void test_force_applies_store(void **state)
{
	struct fx *x = *state;

	adopted(x, 57, store_cluster - 1);
	x->d.start_choice = FG_START_FORCE;
	deliver(x, rules("198.19.0.1", false), 2);
	assert_string_equal(x->d.conflict, "");
	assert_int_equal(x->f.live, 2); /* versions start afresh */
	assert_int_equal(x->f.origin.cluster_id, store_cluster);
	/* From now on the new store's versions are the ones compared. */
	deliver(x, rules("198.19.0.2", false), 3);
	assert_int_equal(x->f.live, 3);
}

/* --adopt-dataplane writes the saved copy of the running rules to the
 * store (conditional on the version it saw) and applies them under the
 * store's new version. */
static void test_adopt_writes_running_copy(void **state)
{
	struct fx *x = *state;
	json_t *cfg;

	/* A first life: rules applied (and saved) at version 57. */
	deliver(x, rules("198.19.0.7", false), 57);
	assert_int_equal(x->f.live, 57);
	/* The copy follows the apply within a turn of the loop or two. */
	{
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(x->d.base, &tv);
		event_base_dispatch(x->d.base);
	}
	/* Restart: the store lost its data. */
	fg_ruleset_free(&x->d.rules);
	fg_ruleset_shard_texts_free(x->d.shard_text);
	memset(&x->d.rules, 0, sizeof(x->d.rules));
	x->d.rules_version = 0;
	x->d.first_rules_seen = false;
	store_cluster++;
	x->d.start_choice = FG_START_ADOPT;
	deliver(x, json_pack("{s:{},s:{},s:{},s:{}}", "services", "limits",
			     "routes", "seckill"), 2);
	assert_int_equal(store_writes, 1);
	assert_int_equal(store_write_expected, 2);
	cfg = json_object_get(json_object_get(json_object_get(store_written,
		"services"), "web"), "backends");
	assert_non_null(cfg);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(cfg, 0), "addr")), "198.19.0.7");
	assert_int_equal(x->f.live, 57); /* nothing applied meanwhile */
	assert_non_null(store_cb);
	store_cb(store_cb_arg, 0, 3, "");
	assert_string_equal(x->d.conflict, "");
	assert_int_equal(x->f.live, 3);
	assert_int_equal(x->f.origin.cluster_id, store_cluster);
	assert_int_equal(x->d.rules.nservices, 1);
	assert_string_equal(x->d.rules.services[0].name, "web");
	assert_int_equal(x->d.rules.services[0].nbackends, 1);
}

/* --adopt-dataplane without a copy of the running version: the conflict
 * stays, and says why. */
static void test_adopt_without_copy(void **state)
{
	struct fx *x = *state;

	adopted(x, 57, store_cluster - 1);
	x->d.start_choice = FG_START_ADOPT;
	deliver(x, rules("198.19.0.1", false), 2);
	assert_int_equal(store_writes, 0);
	assert_int_equal(x->f.applies, 0);
	assert_non_null(strstr(x->d.conflict, "no copy of the running rules"));
}

static void loop_until_applied(struct fx *x, unsigned int applies)
{
	unsigned int i;

	/* Bounded: 200 turns of at most 100 ms. */
	for (i = 0; i < 200 && x->f.applies < applies; i++) {
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(x->d.base, &tv);
		event_base_dispatch(x->d.base);
	}
}

/* A failed apply is retried with backoff until applied catches up; the
 * error stays visible until then. */
static void test_failed_apply_retried(void **state)
{
	struct fx *x = *state;

	x->f.fail_next = 2;
	deliver(x, rules("198.19.0.1", false), 5);
	assert_int_equal(x->f.failures, 1);
	assert_int_equal(x->d.applied_version, 0);
	assert_non_null(strstr(x->d.apply_error, "injected"));
	assert_int_equal(x->d.apply_backoff_ms, FG_APPLY_RETRY_FIRST_MS);
	loop_until_applied(x, 1);
	assert_int_equal(x->f.failures, 2);
	assert_int_equal(x->f.applies, 1);
	assert_int_equal(x->d.applied_version, 5);
	assert_string_equal(x->d.apply_error, "");
	assert_int_equal(x->d.apply_backoff_ms, 0);
}

/* A restart keeps a backend that health checks had taken out down until
 * probes say otherwise; without health checks the flag is not taken. */
static void test_health_from_down_flags(void **state)
{
	struct fx *x = *state;
	struct fg_addr a = { .family = AF_INET };
	bool up = true;

	inet_pton(AF_INET, "198.19.0.1", &a.a4);
	adopted(x, 10, store_cluster);
	x->f.be_down = true;
	deliver(x, rules("198.19.0.1", true), 10);
	assert_int_equal(fg_health_get(x->d.health, "web", &a, 80, &up), 0);
	assert_false(up);
	/* Same version as live: applied (a no-op) with the backend down. */
	assert_int_equal(x->f.applies, 1);
	assert_true(x->f.last_health_down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_conflict_cases),
		cmocka_unit_test_setup_teardown(test_empty_store_not_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_backup_not_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_ahead_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_force_applies_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_writes_running_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_without_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_apply_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_from_down_flags, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
