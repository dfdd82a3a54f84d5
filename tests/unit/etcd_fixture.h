/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * etcd_fixture.h - a private embedded etcd member in a temporary
 * directory, an event loop and a client on it, and the bounded loop
 * helpers the store-backed tests (test_etcd, test_stock) drive it with.
 */
#ifndef FG_ETCD_FIXTURE_H
#define FG_ETCD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "fg_etcd.h"
#include "fg_etcd_embedded.h"

struct fg_test_etcd {
	char root[64];		/* mkdtemp */
	char data[96];		/* root/node: the member's data dir */
	struct fg_etcd_embedded *emb;
	char endpoint[160];
	struct event_base *base;
	struct fg_etcd *c;
};

/* fg_test_etcd_member - start e's member on e->data (again after a stop:
 * the same ports). 0 or -errno with a message. */
int fg_test_etcd_member(struct fg_test_etcd *e, char *err, size_t errlen);

/* fg_test_etcd_setup - a directory /tmp/fg-test-<tag>-XXXXXX, the member
 * in it, a loop and a client. 0, or -1 with the reason on stderr and
 * everything undone. */
int fg_test_etcd_setup(struct fg_test_etcd *e, const char *tag);

/* fg_test_etcd_cleanup - stop and remove everything setup made. */
void fg_test_etcd_cleanup(struct fg_test_etcd *e);

/* fg_test_run_until - run b until pred(arg) holds or timeout_ms passed;
 * returns pred(arg). */
bool fg_test_run_until(struct event_base *b, bool (*pred)(void *), void *arg,
		       int timeout_ms);

/* fg_test_run_for - run b for ms, whatever happens. */
void fg_test_run_for(struct event_base *b, int ms);

/* fg_test_now_ms - CLOCK_MONOTONIC in milliseconds. */
uint64_t fg_test_now_ms(void);

#endif /* FG_ETCD_FIXTURE_H */
