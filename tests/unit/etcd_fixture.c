// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* etcd_fixture.c - see etcd_fixture.h. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "etcd_fixture.h"

uint64_t fg_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int fg_test_etcd_member(struct fg_test_etcd *e, char *err, size_t errlen)
{
	struct fg_etcd_embedded_opts o;

	fg_etcd_embedded_opts_init(&o);
	o.data_dir = e->data;
	o.stop_timeout_ms = 5000;
	return fg_etcd_embedded_start(&o, &e->emb, err, errlen);
}

void fg_test_etcd_cleanup(struct fg_test_etcd *e)
{
	fg_etcd_free(e->c);
	e->c = NULL;
	if (e->base)
		event_base_free(e->base);
	e->base = NULL;
	fg_etcd_embedded_stop(e->emb);
	e->emb = NULL;
	if (e->root[0])
		nftw(e->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	e->root[0] = '\0';
}

int fg_test_etcd_setup(struct fg_test_etcd *e, const char *tag)
{
	char err[512];
	const char *ep;

	snprintf(e->root, sizeof(e->root), "/tmp/fg-test-%s-XXXXXX", tag);
	if (!mkdtemp(e->root)) {
		e->root[0] = '\0';
		return -1;
	}
	snprintf(e->data, sizeof(e->data), "%s/node", e->root);
	if (fg_test_etcd_member(e, err, sizeof(err))) {
		fprintf(stderr, "embedded etcd: %s\n", err);
		fg_test_etcd_cleanup(e);
		return -1;
	}
	snprintf(e->endpoint, sizeof(e->endpoint), "%s",
		 fg_etcd_embedded_endpoint(e->emb));
	e->base = event_base_new();
	ep = e->endpoint;
	e->c = e->base ? fg_etcd_new(e->base, &ep, 1, err, sizeof(err)) : NULL;
	if (!e->c) {
		fg_test_etcd_cleanup(e);
		return -1;
	}
	return 0;
}

static void on_deadline(evutil_socket_t fd, short what, void *p)
{
	(void)fd;
	(void)what;
	*(bool *)p = true;
}

bool fg_test_run_until(struct event_base *b, bool (*pred)(void *), void *arg,
		       int timeout_ms)
{
	bool expired = false;
	struct event *t = evtimer_new(b, on_deadline, &expired);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (!t)
		return pred(arg);
	evtimer_add(t, &tv);
	while (!pred(arg) && !expired)
		event_base_loop(b, EVLOOP_ONCE);
	event_free(t);
	return pred(arg);
}

static bool never(void *p)
{
	(void)p;
	return false;
}

void fg_test_run_for(struct event_base *b, int ms)
{
	fg_test_run_until(b, never, NULL, ms);
}
