// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_ctl_chan.c - floodgated's dpdk driver (controlplane/
 * fg_dp_dpdk.c) against the control server run in a thread as
 * floodgate-dpdk's main lcore runs it, with a stand-in for the process's
 * tables and counters (no EAL): the first push whole, a one-service
 * change as a small DELTA, counters by name (a new name from 0), a
 * refused install that leaves the previous set, the origin kept across
 * a restart of floodgated (ids adopted: the same rules again cost an
 * empty DELTA), a restart of the process answered with the set whole,
 * a process that is not there yet, detach.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fg_boot.h"
#include "fg_compile.h"
#include "fg_dataplane.h"
#include "fg_dp_dpdk.h"
#include "fg_dpdk_ctl.h"
#include "fg_rules.h"
#include "test_dpdk_ctl_rules.h"

/* --------------------------------------------------- the "process" */

struct proc {
	struct fg_dpdk_ctl_server *srv;
	pthread_t th;
	volatile int stop;
	pthread_mutex_t mu;
	/* What the workers counted (per id), set by the test. */
	uint64_t svc_packets[FG_SVC_MAX];
	uint64_t be_flows[FG_BACKEND_MAX];
	uint64_t drops_limited;
	int l7;                 /* collect reports an L7 engine's counters */
	int refuse;             /* next install fails with this */
	uint64_t installed;     /* versions installed */
	uint64_t last_version;  /* of the last install */
	uint32_t last_nsvcs;
	/* Stock: whether a callback answers, what it saw, what it holds. */
	int no_stock;
	uint64_t stock_calls, stock_all, granted;
};

static char sock_path[108], origin_path[160], tmpdir[64];
static struct proc P;

static int proc_collect(void *arg, struct fg_dpdk_ctl_counters *c)
{
	struct proc *p = arg;
	uint32_t i;

	pthread_mutex_lock(&p->mu);
	c->nports = 1;
	c->nlcores = 2;
	c->port[0].rx = 1000;
	c->lcore[1].drops[FG_DROP_LIMITED] = p->drops_limited;
	for (i = 0; i < FG_SVC_MAX; i++)
		c->svc[i].packets = p->svc_packets[i];
	for (i = 0; i < FG_BACKEND_MAX; i++)
		c->be[i].new_flows = p->be_flows[i];
	/* The engine's order, not the names': routes by priority, rules by
	 * service. */
	if (p->l7) {
		struct fg_dpdk_ctl_l7_counters *x;

		x = c->l7 = fg_dpdk_ctl_l7_counters_new(3, 1, 2, 2);
		if (!x) {
			pthread_mutex_unlock(&p->mu);
			return -ENOMEM;
		}
		strcpy(x->routes[0].name, "zeta");
		x->routes[0].forwarded = 26;
		strcpy(x->routes[1].name, "alpha");
		x->routes[1].forwarded = 1;
		strcpy(x->routes[2].name, "mid");
		x->routes[2].no_backend = 13;
		strcpy(x->limits[0].name, "perip");
		x->limits[0].limited = 9;
		strcpy(x->rules[0].name, "sale");
		x->rules[0].reason[0] = 5;
		x->rules[0].item_first = 0;
		x->rules[0].nitems = 2;
		memcpy(x->items[0].name, "1001", x->items[0].len = 4);
		x->items[0].allowance = 7;
		memcpy(x->items[1].name, "1002", x->items[1].len = 4);
		x->items[1].stock_left = 8;
		strcpy(x->rules[1].name, "early");
		x->rules[1].reason[4] = 3;
		x->rules[1].item_first = 2;
	}
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* One engine (rule "sale" on lcore 1, lineage 77) with one item whose
 * granted the grants add to, as fg_dpdk_l7_stock would answer. */
static int proc_stock(void *arg, struct fg_dpdk_ctl_stock *x)
{
	struct proc *p = arg;
	uint32_t i;

	if (fg_dpdk_ctl_stock_reserve(x, x->nops, 1, 1))
		return -ENOMEM;
	pthread_mutex_lock(&p->mu);
	p->stock_calls++;
	p->stock_all += x->all;
	for (i = 0; i < x->nops; i++) {
		const struct fg_dpdk_ctl_stock_op *o = &x->ops[i];

		x->res[i].rc = o->expect == p->granted ? 0 : -ESTALE;
		if (!x->res[i].rc)
			p->granted += o->n;
		x->res[i].granted = p->granted;
	}
	x->nengs = x->nitems = 1;
	memset(&x->engs[0], 0, sizeof(x->engs[0]));
	strcpy(x->engs[0].rule, "sale");
	x->engs[0].lcore = 1;
	x->engs[0].epoch = 77;
	x->engs[0].stock = 100;
	x->engs[0].nitems = 1;
	memset(&x->items[0], 0, sizeof(x->items[0]));
	memcpy(x->items[0].name, "1001", x->items[0].len = 4);
	x->items[0].granted = p->granted;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* The main lcore's loop, as floodgate_dpdk.c runs it: wait, poll,
 * build the tables of a pushed set (here: its view is checked), switch,
 * report. */
static void *proc_main(void *arg)
{
	struct proc *p = arg;

	while (!p->stop) {
		const struct fg_dpdk_ctl_set *s;
		struct fg_compiled view;
		int rc;

		fg_dpdk_ctl_server_wait(p->srv, 20);
		if (fg_dpdk_ctl_server_poll(p->srv, &s) != 1)
			continue;
		fg_dpdk_ctl_set_view(s, &view);
		pthread_mutex_lock(&p->mu);
		rc = p->refuse;
		p->refuse = 0;
		if (!rc) {
			p->installed++;
			p->last_version = view.version;
			p->last_nsvcs = view.nsvcs;
		}
		pthread_mutex_unlock(&p->mu);
		fg_dpdk_ctl_server_installed(p->srv, rc,
					     rc ? "tables: out of memory" : NULL);
	}
	return NULL;
}

static void proc_start(void)
{
	struct fg_dpdk_ctl_server_opts o = {
		.path = sock_path, .settings_id = 0x5eed, .nworkers = 2,
		.nports = 1, .collect = proc_collect, .arg = &P,
		.stock = P.no_stock ? NULL : proc_stock,
	};
	char err[256];
	int e = 0;

	P.stop = 0;
	P.srv = fg_dpdk_ctl_server_new(&o, &e, err, sizeof(err));
	if (!P.srv)
		fail_msg("server: %d %s", e, err);
	assert_int_equal(pthread_create(&P.th, NULL, proc_main, &P), 0);
}

static void proc_stop(void)
{
	P.stop = 1;
	pthread_join(P.th, NULL);
	fg_dpdk_ctl_server_free(P.srv);
	P.srv = NULL;
}

/* ------------------------------------------------------------- rules */

/* n services of nb backends (test_dpdk_ctl_rules.h), NAT and DSR-IPIP
 * in turn. */
static void make_rules(struct fg_ruleset *rs, uint32_t n, uint32_t nb)
{
	uint32_t i;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; i < n; i++)
		fg_test_add_svc(rs, i, nb,
				i % 2 ? FG_FWD_NAT : FG_FWD_DSR_IPIP);
}

static struct fg_boot_config cfg;

static struct fg_dataplane *open_dp(unsigned int flags)
{
	char err[256];
	struct fg_dataplane *dp = fg_dp_dpdk_open(&cfg, flags, err, sizeof(err));

	if (!dp)
		fail_msg("open: %s", err);
	return dp;
}

static void apply_ok(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		     uint64_t v)
{
	char err[512] = "";
	int rc = dp->ops->apply(dp, rs, v, err, sizeof(err));

	if (rc)
		fail_msg("apply %llu: %d %s", (unsigned long long)v, rc, err);
	assert_int_equal(dp->ops->applied_version(dp), v);
}

static struct fg_dp_dpdk_info info(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk_info i;

	assert_int_equal(fg_dp_dpdk_info(dp, &i), 0);
	return i;
}

static uint64_t proc_installed(uint64_t *version)
{
	uint64_t n;

	pthread_mutex_lock(&P.mu);
	n = P.installed;
	if (version)
		*version = P.last_version;
	pthread_mutex_unlock(&P.mu);
	return n;
}

/* ------------------------------------------------------------- tests */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-ctl-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* A directory the server makes itself. */
	snprintf(sock_path, sizeof(sock_path), "%s/edge-1/dpdk.sock", tmpdir);
	snprintf(origin_path, sizeof(origin_path), "%s.origin", sock_path);
	fg_boot_defaults(&cfg);
	snprintf(cfg.node.name, sizeof(cfg.node.name), "edge-1");
	cfg.dataplane.kind = FG_DATAPLANE_DPDK;
	snprintf(cfg.dataplane.control_socket,
		 sizeof(cfg.dataplane.control_socket), "%s", sock_path);
	cfg.dataplane.control_timeout_ms = 10000;
	pthread_mutex_init(&P.mu, NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) ? -1 : 0;
}

static void test_channel(void **state)
{
	struct fg_dp_origin o = { .cluster_id = 0xfeedbeef, .revision = 6 };
	struct fg_ruleset rs;
	struct fg_dataplane *dp, *dp2;
	struct fg_dp_dpdk_info a, b;
	struct fg_counter c;
	struct stat st;
	uint64_t v, drops[FG_DROP_REASON_MAX];
	char err[512];
	bool down;

	(void)state;
	/* Not there yet: open works, apply says why it did nothing. */
	dp = open_dp(0);
	assert_string_not_equal(dp->setup, "");
	assert_non_null(strstr(dp->setup, "does not answer"));
	make_rules(&rs, 1000, 10);
	assert_true(dp->ops->apply(dp, &rs, 5, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not applied"));
	assert_int_equal(dp->ops->applied_version(dp), 0);

	/* The process comes: the first push is whole. */
	proc_start();
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	apply_ok(dp, &rs, 5);
	a = info(dp);
	assert_int_equal(a.last_type, FG_DPDK_CTL_FULL);
	assert_int_equal(proc_installed(&v), 1);
	assert_int_equal(v, 5);
	assert_int_equal(P.last_nsvcs, 1000);
	print_message("FULL  1000 services x 10 backends: body %llu bytes, "
		      "%llu on the wire, %.1f ms to ACK (encode %.1f ms)\n",
		      (unsigned long long)a.last_body,
		      (unsigned long long)a.last_bytes, a.last_ms,
		      a.last_encode_ms);

	/* One service's backend weight changes: a DELTA of that service. */
	rs.services[500].backends[3].weight = 40;
	apply_ok(dp, &rs, 6);
	b = info(dp);
	assert_int_equal(b.last_type, FG_DPDK_CTL_DELTA);
	assert_int_equal(proc_installed(&v), 2);
	assert_int_equal(v, 6);
	assert_true(b.last_body * 200 < a.last_body);
	assert_true(b.last_body < 600 + 200 + 4 * 1021 + 200);
	print_message("DELTA one service changed:          body %llu bytes, "
		      "%llu on the wire, %.1f ms to ACK (encode %.1f ms)\n",
		      (unsigned long long)b.last_body,
		      (unsigned long long)b.last_bytes, b.last_ms,
		      b.last_encode_ms);

	/* Counters by name; drops summed over lcores. The process counts
	 * by id: every service gets 100 + the number in its name. */
	{
		const struct fg_dpdk_ctl_set *s = fg_dpdk_ctl_server_set(P.srv);
		uint32_t i;

		pthread_mutex_lock(&P.mu);
		for (i = 0; i < s->nsvcs; i++)
			P.svc_packets[s->svcs[i].val.id] =
				100 + (uint64_t)atoi(s->svcs[i].name + 4);
		for (i = 0; i < s->nbackends; i++)
			P.be_flows[s->backends[i].id] = 3;
		P.drops_limited = 17;
		pthread_mutex_unlock(&P.mu);
	}
	assert_int_equal(dp->ops->service_stats(dp, "svc-7", &c), 0);
	assert_int_equal(c.packets, 107);
	assert_int_equal(dp->ops->service_stats(dp, "svc-999", &c), 0);
	assert_int_equal(c.packets, 1099);
	assert_int_equal(dp->ops->backend_stats(dp, "svc-3",
						&rs.services[3].backends[2].addr,
						8080, &c), 0);
	assert_int_equal(c.new_flows, 3);
	assert_int_equal(dp->ops->service_stats(dp, "nope", &c), -ENOENT);
	assert_int_equal(dp->ops->drop_stats(dp, drops), 0);
	assert_int_equal(drops[FG_DROP_LIMITED], 17);

	/* The L7 engine's counters by name, whatever their order. */
	{
		struct fg_dp_route_stats rt;
		struct fg_dp_seckill_stats sk;
		struct fg_limit_counter lc;

		pthread_mutex_lock(&P.mu);
		P.l7 = 1;
		pthread_mutex_unlock(&P.mu);
		usleep(250 * 1000); /* past the driver's STATS cache */
		assert_int_equal(dp->ops->route_stats(dp, "alpha", &rt), 0);
		assert_int_equal(rt.forwarded, 1);
		assert_int_equal(dp->ops->route_stats(dp, "zeta", &rt), 0);
		assert_int_equal(rt.forwarded, 26);
		assert_int_equal(dp->ops->route_stats(dp, "mid", &rt), 0);
		assert_int_equal(rt.no_backend, 13);
		assert_int_equal(dp->ops->route_stats(dp, "nope", &rt), -ENOENT);
		assert_int_equal(dp->ops->limit_stats(dp, "perip", &lc), 0);
		assert_int_equal(lc.limited, 9);
		assert_int_equal(dp->ops->seckill_stats(dp, "sale", &sk), 0);
		assert_int_equal(sk.reason[0], 5);
		assert_int_equal(sk.nitems, 2);
		assert_int_equal(sk.item[0].len, 4);
		assert_memory_equal(sk.item[0].name, "1001", 4);
		assert_int_equal(sk.item[0].allowance, 7);
		assert_int_equal(sk.item[1].stock_left, 8);
		assert_int_equal(dp->ops->seckill_stats(dp, "early", &sk), 0);
		assert_int_equal(sk.reason[4], 3);
		assert_int_equal(sk.nitems, 0);
		assert_int_equal(dp->ops->seckill_stats(dp, "nope", &sk), -ENOENT);
		pthread_mutex_lock(&P.mu);
		P.l7 = 0;
		pthread_mutex_unlock(&P.mu);
	}

	/* A new name starts from 0: svc-1000 takes an id whose counter the
	 * process has at 50 when it is installed. */
	fg_ruleset_free(&rs);
	make_rules(&rs, 1001, 10); /* same services, one more */
	rs.services[500].backends[3].weight = 40;
	{
		uint32_t i;

		pthread_mutex_lock(&P.mu);
		for (i = 0; i < FG_SVC_MAX; i++)
			if (!P.svc_packets[i])
				P.svc_packets[i] = 50;
		pthread_mutex_unlock(&P.mu);
	}
	apply_ok(dp, &rs, 7);
	assert_int_equal(info(dp).last_type, FG_DPDK_CTL_DELTA);
	{
		const struct fg_dpdk_ctl_set *s = fg_dpdk_ctl_server_set(P.srv);
		long k;
		uint32_t i;

		for (i = 0, k = -1; i < s->nsvcs; i++)
			if (!strcmp(s->svcs[i].name, "svc-1000"))
				k = i;
		assert_true(k >= 0);
		pthread_mutex_lock(&P.mu);
		P.svc_packets[s->svcs[k].val.id] += 8;
		pthread_mutex_unlock(&P.mu);
	}
	usleep(250 * 1000); /* past the driver's reuse of one STATS answer */
	assert_int_equal(dp->ops->service_stats(dp, "svc-1000", &c), 0);
	assert_int_equal(c.packets, 8);

	/* Health: a backend down shows in the set the process holds. */
	rs.services[9].backends[1].health_down = true;
	apply_ok(dp, &rs, 8);
	assert_int_equal(dp->ops->backend_down(dp, "svc-9",
					       &rs.services[9].backends[1].addr,
					       8080, &down), 0);
	assert_true(down);
	assert_int_equal(dp->ops->backend_down(dp, "svc-9",
					       &rs.services[9].backends[0].addr,
					       8080, &down), 0);
	assert_false(down);

	/* A refused install: an error, the previous set stays. */
	pthread_mutex_lock(&P.mu);
	P.refuse = -ENOMEM;
	pthread_mutex_unlock(&P.mu);
	rs.services[10].backends[0].weight = 1;
	assert_int_equal(dp->ops->apply(dp, &rs, 9, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "out of memory"));
	assert_int_equal(dp->ops->applied_version(dp), 8);
	assert_int_equal(fg_dpdk_ctl_server_set(P.srv)->version, 8);
	apply_ok(dp, &rs, 9);
	assert_int_equal(info(dp).last_type, FG_DPDK_CTL_DELTA);

	/* Origin: recorded with the process, in its file. */
	o.revision = 9;
	assert_int_equal(dp->ops->set_origin(dp, &o), 0);
	assert_int_equal(stat(origin_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* floodgated restarts: the new driver adopts version 9, its ids and
	 * its origin; the same rules again send no ring, no backend and no
	 * service entry (the process lays its rings out itself: no offset
	 * goes on the wire), so the first DELTA after adoption is as empty
	 * as the next one (it was 46 KB, every service's offset). */
	dp->ops->close(dp);
	dp2 = open_dp(0);
	assert_true(dp2->adopted);
	assert_non_null(strstr(dp2->setup, "adopted version 9"));
	assert_int_equal(dp2->ops->applied_version(dp2), 9);
	{
		struct fg_dp_origin got;

		assert_int_equal(dp2->ops->origin(dp2, &got), 0);
		assert_int_equal(got.cluster_id, 0xfeedbeef);
		assert_int_equal(got.revision, 9);
	}
	assert_int_equal(dp2->ops->backend_down(dp2, "svc-9",
						&rs.services[9].backends[1].addr,
						8080, &down), 0);
	assert_true(down);
	apply_ok(dp2, &rs, 10);
	b = info(dp2);
	assert_int_equal(b.last_type, FG_DPDK_CTL_DELTA);
	assert_true(b.last_body < 600);
	apply_ok(dp2, &rs, 11);
	b = info(dp2);
	assert_int_equal(b.last_type, FG_DPDK_CTL_DELTA);
	assert_true(b.last_body < 600);

	/* The process restarts (empty, version 0): the next call pushes the
	 * set whole, and the origin recorded for version 9 is not claimed
	 * for version 10. */
	proc_stop();
	proc_start();
	assert_int_equal(fg_dpdk_ctl_server_set(P.srv)->version, 0);
	assert_int_equal(dp2->ops->service_stats(dp2, "svc-7", &c), 0);
	b = info(dp2);
	assert_int_equal(b.last_type, FG_DPDK_CTL_FULL);
	assert_int_equal(b.connects, 2);
	assert_int_equal(fg_dpdk_ctl_server_set(P.srv)->version, 11);
	{
		struct fg_dp_origin got;

		assert_int_equal(dp2->ops->origin(dp2, &got), -ENOENT);
	}
	rs.services[11].backends[0].weight = 2;
	apply_ok(dp2, &rs, 12);
	assert_int_equal(info(dp2).last_type, FG_DPDK_CTL_DELTA);

	/* A second floodgated is refused while one is connected. */
	{
		struct fg_dpdk_ctl_hello h;
		int e = 0;

		assert_null(fg_dpdk_ctl_client_connect(sock_path, "other", 2000,
						       &h, &e, err, sizeof(err)));
		assert_int_equal(e, -EBUSY);
		assert_non_null(strstr(err, "busy"));
	}

	/* Detach: the process runs the empty set, the origin is gone. */
	assert_int_equal(dp2->ops->set_origin(dp2, &o), 0);
	assert_int_equal(dp2->ops->detach(dp2), 0);
	assert_int_equal(fg_dpdk_ctl_server_set(P.srv)->version, 0);
	assert_int_equal(stat(origin_path, &st), -1);
	proc_stop();
	fg_ruleset_free(&rs);
}

/* A malformed client is answered and dropped; the server goes on. */
static void test_bad_client(void **state)
{
	struct fg_dpdk_ctl_hello h;
	struct fg_dpdk_ctl_client *c;
	char err[256];
	int e = 0;

	(void)state;
	proc_start();
	/* Another protocol in a raw HELLO: NACK, closed. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		uint8_t m[21] = { 0x46, 0x47, 0x43, 0x54, FG_DPDK_CTL_PROTO + 1,
				  0, 1, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
				  0 };
		uint8_t r[512];
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		ssize_t n;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		assert_true(fd >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(send(fd, m, sizeof(m), 0), (ssize_t)sizeof(m));
		n = recv(fd, r, sizeof(r), 0);
		assert_true(n > 16);
		assert_int_equal(r[6], FG_DPDK_CTL_NACK);
		assert_int_equal(recv(fd, r, sizeof(r), 0), 0); /* closed */
		close(fd);
	}
	/* The server still serves. */
	c = fg_dpdk_ctl_client_connect(sock_path, "t", 2000, &h, &e, err,
				       sizeof(err));
	assert_non_null(c);
	assert_int_equal(h.version, 0);
	assert_int_equal(h.settings_id, 0x5eed);
	/* A DELTA against a version it does not hold: -ESTALE, kept. */
	{
		struct fg_dpdk_ctl_buf b = { 0 };
		struct fg_dpdk_ctl_set *e0 = fg_dpdk_ctl_set_empty();
		uint64_t applied = 0;

		e0->version = 3; /* claims a base of 3 */
		assert_int_equal(fg_dpdk_ctl_encode_delta(e0, e0, &b), 0);
		assert_int_equal(fg_dpdk_ctl_client_push(c, FG_DPDK_CTL_DELTA, &b,
							 &applied, err, sizeof(err)),
				 -ESTALE);
		fg_dpdk_ctl_buf_free(&b);
		/* A FULL whose body is cut: -EINVAL with a message. */
		e0->version = 0;
		assert_int_equal(fg_dpdk_ctl_encode_full(e0, &b), 0);
		b.len -= 3;
		assert_int_equal(fg_dpdk_ctl_client_push(c, FG_DPDK_CTL_FULL, &b,
							 &applied, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "truncated"));
		fg_dpdk_ctl_buf_free(&b);
		fg_dpdk_ctl_set_free(e0);
	}
	assert_int_equal(fg_dpdk_ctl_server_set(P.srv)->version, 0);
	fg_dpdk_ctl_client_close(c);
	proc_stop();
}

/* A process that started from a rule file holds that set: floodgated
 * adopts it as if it had pushed it. */
static void test_held_at_start(void **state)
{
	struct fg_compiler *comp = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_server_opts so = {
		.path = sock_path, .collect = proc_collect, .arg = &P,
	};
	struct fg_dpdk_ctl_set *s, *bad;
	struct fg_compiled *cp = NULL;
	struct fg_dataplane *dp;
	struct fg_ruleset rs;
	char err[256];
	int e = 0;

	(void)state;
	make_rules(&rs, 20, 4);
	assert_int_equal(fg_compile(comp, &rs, 1, &cp, err, sizeof(err)), 0);
	s = fg_dpdk_ctl_set_from_compiled(cp, NULL, &e, err, sizeof(err));
	assert_non_null(s);
	P.stop = 0;
	P.srv = fg_dpdk_ctl_server_new(&so, &e, err, sizeof(err));
	assert_non_null(P.srv);
	/* A set that fails the check is not held. */
	bad = fg_dpdk_ctl_set_empty();
	bad->version = 0;
	bad->gen = 2;
	assert_int_equal(fg_dpdk_ctl_server_hold(P.srv, bad), -EINVAL);
	fg_dpdk_ctl_set_free(bad);
	assert_int_equal(fg_dpdk_ctl_server_hold(P.srv, s), 0);
	assert_int_equal(pthread_create(&P.th, NULL, proc_main, &P), 0);
	dp = open_dp(0);
	assert_true(dp->adopted);
	assert_int_equal(dp->ops->applied_version(dp), 1);
	rs.services[3].backends[0].weight = 9;
	apply_ok(dp, &rs, 2);
	assert_int_equal(info(dp).last_type, FG_DPDK_CTL_DELTA);
	dp->ops->close(dp);
	proc_stop();
	fg_compiled_free(cp);
	fg_compiler_free(comp);
	fg_ruleset_free(&rs);
}

/* A stock exchange with one grant of n from granted `expect`. */
static int stock(struct fg_dataplane *dp, struct fg_dpdk_ctl_stock *x,
		 uint64_t expect, uint64_t n, char *err, size_t errlen)
{
	assert_int_equal(fg_dpdk_ctl_stock_reserve(x, 1, 0, 0), 0);
	memset(&x->ops[0], 0, sizeof(x->ops[0]));
	strcpy(x->ops[0].rule, "sale");
	x->ops[0].lcore = 1;
	x->ops[0].epoch = 77;
	x->ops[0].kind = FG_DPDK_CTL_STOCK_GRANT;
	memcpy(x->ops[0].item, "1001", x->ops[0].len = 4);
	x->ops[0].expect = expect;
	x->ops[0].n = n;
	x->nops = 1;
	x->all = false;
	return fg_dp_dpdk_stock(dp, x, err, errlen);
}

/*
 * The stock exchange over the driver's channel: only while it stands
 * and holds the driver's set; `all` on the first exchange of each
 * connection; a grant's compare; a process without engines refuses.
 */
static void test_stock_channel(void **state)
{
	struct fg_dpdk_ctl_stock x = { 0 };
	struct fg_ruleset rs;
	struct fg_dataplane *dp;
	char err[512];

	(void)state;
	P.granted = P.stock_calls = P.stock_all = 0;
	make_rules(&rs, 2, 2);
	proc_start();
	dp = open_dp(0);
	apply_ok(dp, &rs, 3);
	assert_int_equal(stock(dp, &x, 0, 10, err, sizeof(err)), 0);
	assert_int_equal(x.res[0].rc, 0);
	assert_int_equal(x.res[0].granted, 10);
	assert_int_equal(x.nengs, 1);
	assert_string_equal(x.engs[0].rule, "sale");
	assert_int_equal(x.engs[0].epoch, 77);
	assert_int_equal(x.items[0].granted, 10);
	/* The same grant again: refused by its compare, not doubled. */
	assert_int_equal(stock(dp, &x, 0, 10, err, sizeof(err)), 0);
	assert_int_equal(x.res[0].rc, -ESTALE);
	assert_int_equal(x.res[0].granted, 10);
	assert_int_equal(P.stock_calls, 2);
	assert_int_equal(P.stock_all, 1);  /* the first of the connection */

	/* The process restarts: nothing until the driver is back with its
	 * set, then `all` again. */
	proc_stop();
	assert_int_equal(stock(dp, &x, 10, 1, err, sizeof(err)), -ENOTCONN);
	assert_non_null(strstr(err, "not connected"));
	P.granted = 0;
	proc_start();
	assert_int_equal(stock(dp, &x, 10, 1, err, sizeof(err)), -ENOTCONN);
	apply_ok(dp, &rs, 4);
	assert_int_equal(stock(dp, &x, 0, 5, err, sizeof(err)), 0);
	assert_int_equal(x.res[0].granted, 5);
	assert_int_equal(P.stock_all, 2);
	proc_stop();

	/* A process that runs no seckill engine says so. */
	P.no_stock = 1;
	proc_start();
	apply_ok(dp, &rs, 5);
	assert_int_equal(stock(dp, &x, 0, 5, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "no seckill engine"));
	/* ... and the channel stands. */
	apply_ok(dp, &rs, 6);
	dp->ops->close(dp);
	proc_stop();
	P.no_stock = 0;
	fg_dpdk_ctl_stock_clear(&x);
	fg_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_channel),
		cmocka_unit_test(test_stock_channel),
		cmocka_unit_test(test_bad_client),
		cmocka_unit_test(test_held_at_start),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
