// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_dpdk_ctl.c - what a push over the control channel costs:
 * floodgated's dpdk driver applies N services of B backends (FULL), then
 * a change of one service's backend weight, R times (DELTA), then asks
 * for the counters R times (STATS). Bytes on the wire, and ms from
 * encoding to the ACK (the process built its tables, switched and freed
 * the old ones under RCU before it answers).
 *
 *   bench_dpdk_ctl [--socket PATH] [--services N] [--backends B] [--rounds R]
 *
 * With --socket, against a running floodgate-dpdk (--control PATH);
 * without, against the control server in a thread of this program whose
 * "install" only checks the set (the channel and codec alone). Prints
 * one line per row (bench=dpdk_ctl case=... value=... unit=... floor=0)
 * and a table; medians of R rounds. Exits 1 when a push does not take
 * the path its row claims (FULL first, DELTA after).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fg_boot.h"
#include "fg_dataplane.h"
#include "fg_dp_dpdk.h"
#include "fg_dpdk_ctl.h"
#include "fg_rules.h"

static volatile int stop;
static struct fg_dpdk_ctl_server *srv;

static int collect(void *arg, struct fg_dpdk_ctl_counters *c)
{
	(void)arg;
	c->nports = 1;
	c->nlcores = 1;
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	while (!stop) {
		const struct fg_dpdk_ctl_set *s;
		struct fg_compiled v;

		fg_dpdk_ctl_server_wait(srv, 20);
		if (fg_dpdk_ctl_server_poll(srv, &s) != 1)
			continue;
		fg_dpdk_ctl_set_view(s, &v);
		fg_dpdk_ctl_server_installed(srv, 0, NULL);
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* n services of nb backends inside 198.18.0.0/15 (VIPs) and
 * 198.19.0.0/16 (backends); n <= 1000, nb <= 10. */
static int make_rules(struct fg_ruleset *rs, uint32_t n, uint32_t nb)
{
	uint32_t i, j;

	memset(rs, 0, sizeof(*rs));
	rs->services = calloc(n, sizeof(*rs->services));
	if (!rs->services)
		return -ENOMEM;
	rs->nservices = n;
	for (i = 0; i < n; i++) {
		struct fg_rule_service *s = &rs->services[i];

		snprintf(s->name, sizeof(s->name), "svc-%u", i);
		s->vip.family = AF_INET;
		s->vip.a4.s_addr = htonl(0xc6120000U + (i / 250) * 256 + 10 + i % 250);
		s->port = 80;
		s->proto = IPPROTO_TCP;
		s->forward = FG_FWD_DSR_IPIP;
		s->nbackends = nb;
		s->backends = calloc(nb, sizeof(*s->backends));
		if (!s->backends)
			return -ENOMEM;
		for (j = 0; j < nb; j++) {
			s->backends[j].addr.family = AF_INET;
			s->backends[j].addr.a4.s_addr =
				htonl(0xc6130000U + (i / 25) * 256 + (i % 25) * 10 + j + 1);
			s->backends[j].port = 8080;
			s->backends[j].weight = 100;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "services", required_argument, NULL, 'n' },
		{ "backends", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int n = 1000, nb = 10, rounds = 21, r;
	const char *sock = NULL;
	char path[108], tmpdir[] = "/tmp/fg-bench-ctl-XXXXXX", err[512];
	struct fg_boot_config cfg;
	struct fg_dp_dpdk_info in;
	struct fg_dataplane *dp;
	struct fg_ruleset rs;
	struct fg_counter c;
	double *dms, *sms, full_ms;
	uint64_t full_bytes, delta_bytes = 0, v = 0;
	pthread_t th;
	int opt, bad = 0;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'n': n = (unsigned int)atoi(optarg); break;
		case 'b': nb = (unsigned int)atoi(optarg); break;
		case 'r': rounds = (unsigned int)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [--socket PATH] [--services N<=1000] "
				"[--backends B<=10] [--rounds R]\n", argv[0]);
			return 2;
		}
	}
	if (!n || n > 1000 || !nb || nb > 10 || !rounds || rounds > 1000) {
		fprintf(stderr, "services 1..1000, backends 1..10, rounds 1..1000\n");
		return 2;
	}
	if (!sock) {
		struct fg_dpdk_ctl_server_opts o = { .collect = collect };
		int e = 0;

		if (!mkdtemp(tmpdir))
			return 1;
		snprintf(path, sizeof(path), "%s/dpdk.sock", tmpdir);
		o.path = path;
		srv = fg_dpdk_ctl_server_new(&o, &e, err, sizeof(err));
		if (!srv || pthread_create(&th, NULL, serve, NULL)) {
			fprintf(stderr, "server: %s\n", err);
			return 1;
		}
		sock = path;
	}
	fg_boot_defaults(&cfg);
	snprintf(cfg.node.name, sizeof(cfg.node.name), "bench");
	cfg.dataplane.kind = FG_DATAPLANE_DPDK;
	snprintf(cfg.dataplane.control_socket, sizeof(cfg.dataplane.control_socket),
		 "%s", sock);
	cfg.dataplane.control_timeout_ms = 60000;
	/* A fresh set of ids: what runs there is replaced. */
	dp = fg_dp_dpdk_open(&cfg, FG_DP_OPEN_REPLACE, err, sizeof(err));
	dms = calloc(rounds, sizeof(*dms));
	sms = calloc(rounds, sizeof(*sms));
	if (!dp || !dms || !sms || make_rules(&rs, n, nb)) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	fg_dp_dpdk_info(dp, &in);
	v = in.process_version + 1;
	if (dp->ops->apply(dp, &rs, v, err, sizeof(err))) {
		fprintf(stderr, "apply: %s\n", err);
		return 1;
	}
	fg_dp_dpdk_info(dp, &in);
	bad |= in.last_type != FG_DPDK_CTL_FULL;
	full_ms = in.last_ms;
	full_bytes = in.last_bytes;
	for (r = 0; r < rounds; r++) {
		rs.services[(r * 37) % n].backends[0].weight =
			(uint16_t)(r % 2 ? 100 : 50);
		if (dp->ops->apply(dp, &rs, ++v, err, sizeof(err))) {
			fprintf(stderr, "apply: %s\n", err);
			return 1;
		}
		fg_dp_dpdk_info(dp, &in);
		bad |= in.last_type != FG_DPDK_CTL_DELTA;
		dms[r] = in.last_ms;
		delta_bytes = in.last_bytes;
	}
	for (r = 0; r < rounds; r++) {
		double t0;

		usleep(250 * 1000); /* past the driver's reuse of an answer */
		t0 = now_ms();
		if (dp->ops->service_stats(dp, "svc-0", &c)) {
			fprintf(stderr, "stats failed\n");
			return 1;
		}
		sms[r] = now_ms() - t0;
	}
	printf("bench=dpdk_ctl case=full_bytes value=%llu unit=bytes floor=0\n",
	       (unsigned long long)full_bytes);
	printf("bench=dpdk_ctl case=full_ms value=%.2f unit=ms floor=0\n", full_ms);
	printf("bench=dpdk_ctl case=delta_one_service_bytes value=%llu unit=bytes floor=0\n",
	       (unsigned long long)delta_bytes);
	printf("bench=dpdk_ctl case=delta_one_service_ms value=%.2f unit=ms floor=0\n",
	       median(dms, rounds));
	printf("bench=dpdk_ctl case=stats_ms value=%.2f unit=ms floor=0\n",
	       median(sms, rounds));
	printf("\n%u services x %u backends, %s\n", n, nb,
	       srv ? "server in a thread (codec and channel only)" :
	       "a running floodgate-dpdk");
	printf("  %-28s %12llu bytes %9.2f ms\n", "FULL (first push)",
	       (unsigned long long)full_bytes, full_ms);
	printf("  %-28s %12llu bytes %9.2f ms (median of %u)\n",
	       "DELTA (one service changed)", (unsigned long long)delta_bytes,
	       median(dms, rounds), rounds);
	printf("  %-28s %12s       %9.2f ms (median of %u)\n", "STATS round trip", "",
	       median(sms, rounds), rounds);
	dp->ops->close(dp);
	fg_ruleset_free(&rs);
	if (srv) {
		stop = 1;
		pthread_join(th, NULL);
		fg_dpdk_ctl_server_free(srv);
		rmdir(tmpdir);
	}
	free(dms);
	free(sms);
	if (bad)
		fprintf(stderr, "a push did not take the path its row claims\n");
	return bad;
}
