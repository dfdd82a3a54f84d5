/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_health.c - the health checker against real listeners on loopback
 * (127.0.0.1 and ::1, ephemeral ports) made inside the test: a TCP
 * listener that accepts and closes, and a tiny HTTP responder that answers
 * a configurable status or hangs.
 *
 * Timing: intervals are 20-50 ms so that the suite runs fast, but no
 * assertion depends on how long anything took. The assertions are on
 * probe counts at the moment of each transition (fall failures, rise
 * successes), on the order of events, and on what the servers saw; the
 * only clock is run_until()'s generous bound, which only turns a hang into
 * a failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "fg_health.h"

/* The bound on any wait: far above what each wait needs (a few probes of
 * 20-50 ms), so it only catches a hang, never a slow machine. */
#define WAIT_MS 15000U

/* ------------------------------------------------------ test servers */

struct conn {
	struct bufferevent *bev;
	struct srv *srv;
	struct conn *next, *prev;
	bool answered;
};

/* A listener on loopback: plain TCP (accept, close) or HTTP. */
struct srv {
	struct event_base *base;
	struct evconnlistener *l;
	int family;
	uint16_t port;
	bool http;
	int status;          /* http: the status to answer */
	bool hang;           /* http: read the request, never answer */
	unsigned accepts;    /* connections accepted */
	unsigned requests;   /* http: complete requests read */
	unsigned open;       /* http: connections open now */
	unsigned max_open;   /* http: most open at once */
	unsigned closed;     /* http: connections the client closed */
	char last_req[512];
	struct conn *conns;
};

static void conn_free(struct conn *c)
{
	struct srv *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	s->open--;
	free(c);
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct srv *s = c->srv;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char resp[128];
	size_t n;

	if (end.pos < 0 || c->answered)
		return;
	n = (size_t)end.pos + 4;
	if (n >= sizeof(s->last_req))
		n = sizeof(s->last_req) - 1;
	evbuffer_remove(in, s->last_req, n);
	s->last_req[n] = '\0';
	s->requests++;
	c->answered = true;
	if (s->hang)
		return;
	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 %d Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		 s->status);
	bufferevent_write(bev, resp, strlen(resp));
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		c->srv->closed++;
		conn_free(c);
	}
}

static void srv_accept(struct evconnlistener *l, evutil_socket_t fd,
		       struct sockaddr *sa, int salen, void *arg)
{
	struct srv *s = arg;
	struct conn *c;

	s->accepts++;
	if (!s->http) {
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->srv = s;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(c->bev);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_enable(c->bev, EV_READ);
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	if (++s->open > s->max_open)
		s->max_open = s->open;
}

/* srv_listen - listen on the loopback of family, on port (0: ephemeral,
 * then s->port is set). Returns 0 or -errno. */
static int srv_listen(struct srv *s, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (s->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	s->l = evconnlistener_new_bind(s->base, srv_accept, s,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				       64, (struct sockaddr *)&ss, (int)len);
	if (!s->l)
		return -errno;
	len = sizeof(ss);
	assert_int_equal(getsockname(evconnlistener_get_fd(s->l),
				     (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(s->family == AF_INET ?
			((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* srv_stop_listening - close the listening socket (connections stay). */
static void srv_stop_listening(struct srv *s)
{
	if (s->l)
		evconnlistener_free(s->l);
	s->l = NULL;
}

static void srv_free(struct srv *s)
{
	srv_stop_listening(s);
	while (s->conns)
		conn_free(s->conns);
}

/* ------------------------------------------------------- environment */

struct rec {
	char service[FG_NAME_MAX];
	struct fg_addr addr;
	uint16_t port;
	bool up;
	struct fg_health_stats st;   /* the target's stats during the call */
	unsigned slice;              /* run_until()'s slice it came in */
};

struct env {
	struct event_base *base;
	struct fg_health *h;
	struct rec recs[512];
	unsigned nrecs;
	unsigned slice;              /* run_until() slices so far */
	/* Re-entrancy tests: what the callback does after recording. */
	bool free_in_cb;
	const char *remove_in_cb;
};

static void health_cb(void *arg, const char *service,
		      const struct fg_addr *addr, uint16_t port, bool up)
{
	struct env *e = arg;
	struct rec *r;

	assert_true(e->nrecs < sizeof(e->recs) / sizeof(e->recs[0]));
	r = &e->recs[e->nrecs++];
	snprintf(r->service, sizeof(r->service), "%s", service);
	r->addr = *addr;
	r->port = port;
	r->slice = e->slice;
	r->up = up;
	assert_int_equal(fg_health_get_stats(e->h, service, addr, port,
					     &r->st), 0);
	if (e->remove_in_cb)
		assert_int_equal(fg_health_remove_service(e->h,
							  e->remove_in_cb), 0);
	if (e->free_in_cb) {
		fg_health_free(e->h);
		e->h = NULL;
	}
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	e->h = fg_health_new(e->base, health_cb, e);
	assert_non_null(e->h);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	fg_health_free(e->h);
	event_base_free(e->base);
	free(e);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

/* run_until - run the loop in 5 ms slices until done(e, ctx) holds; fail
 * the test after WAIT_MS (a hang, not a slow run). */
static void run_until(struct env *e, bool (*done)(struct env *, void *),
		      void *ctx, const char *what)
{
	uint64_t end = now_ms() + WAIT_MS;
	struct timeval tv = { 0, 5000 };

	while (!done(e, ctx)) {
		if (now_ms() > end)
			fail_msg("waited %u ms for: %s", WAIT_MS, what);
		event_base_loopexit(e->base, &tv);
		event_base_dispatch(e->base);
		e->slice++;
	}
}

/* run_for_probes - run until target (svc, addr, port) has completed at
 * least n more probes than it had. */
struct probes_ctx {
	const char *svc;
	const struct fg_addr *addr;
	uint16_t port;
	uint64_t want;
};

static bool probes_done(struct env *e, void *arg)
{
	struct probes_ctx *p = arg;
	struct fg_health_stats st;

	assert_int_equal(fg_health_get_stats(e->h, p->svc, p->addr, p->port,
					     &st), 0);
	return st.probes >= p->want;
}

static uint64_t probes_of(struct env *e, const char *svc,
			  const struct fg_addr *a, uint16_t port)
{
	struct fg_health_stats st;

	assert_int_equal(fg_health_get_stats(e->h, svc, a, port, &st), 0);
	return st.probes;
}

static void run_for_probes(struct env *e, const char *svc,
			   const struct fg_addr *a, uint16_t port, uint64_t n)
{
	struct probes_ctx p = { svc, a, port, probes_of(e, svc, a, port) + n };

	run_until(e, probes_done, &p, "probes");
}

static bool nrecs_done(struct env *e, void *arg)
{
	return e->nrecs >= *(unsigned *)arg;
}

static void run_for_recs(struct env *e, unsigned n)
{
	run_until(e, nrecs_done, &n, "transition callbacks");
}

/* run_until_count - run until *p reaches want (at_least) or falls to want
 * (!at_least): a counter one of the test servers keeps. */
struct count_ctx {
	const unsigned *p;
	unsigned want;
	bool at_least;
};

static bool count_done(struct env *e, void *arg)
{
	struct count_ctx *c = arg;

	return c->at_least ? *c->p >= c->want : *c->p <= c->want;
}

static void run_until_count(struct env *e, const unsigned *p, unsigned want,
			    bool at_least, const char *what)
{
	struct count_ctx c = { p, want, at_least };

	run_until(e, count_done, &c, what);
}

static struct fg_addr mkaddr(int family, const char *text)
{
	struct fg_addr a;

	memset(&a, 0, sizeof(a));
	a.family = family;
	assert_int_equal(inet_pton(family, text, &a.a4), 1);
	return a;
}

static const char *loopback(int family)
{
	return family == AF_INET ? "127.0.0.1" : "::1";
}

static struct fg_rule_backend mkbackend(int family, const char *text,
					uint16_t port)
{
	struct fg_rule_backend b;

	memset(&b, 0, sizeof(b));
	b.addr = mkaddr(family, text);
	b.port = port;
	b.weight = 100;
	return b;
}

static struct fg_rule_health mkcfg(enum fg_health_type type,
				   uint32_t interval, uint32_t timeout,
				   uint32_t rise, uint32_t fall)
{
	struct fg_rule_health c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	c.interval_ms = interval;
	c.timeout_ms = timeout;
	c.rise = rise;
	c.fall = fall;
	if (type == FG_HEALTH_HTTP) {
		strcpy(c.path, "/healthz");
		c.expect_status = 200;
	}
	return c;
}

/* srv_init - a server of family on an ephemeral port; skips the test when
 * the family has no loopback here (no IPv6 in the container). */
static void srv_init(struct srv *s, struct env *e, int family, bool http)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->base = e->base;
	s->family = family;
	s->http = http;
	s->status = 200;
	rc = srv_listen(s, 0);
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) {
		print_message("no %s loopback here: %s\n",
			      family == AF_INET ? "IPv4" : "IPv6",
			      strerror(-rc));
		skip();
	}
	assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------- tests */

/*
 * TCP: a live listener keeps the target UP with no callback; closing it
 * takes the target DOWN on exactly the fall-th failure; reopening the same
 * port brings it UP on exactly the rise-th success.
 */
static void tcp_fall_rise(void **state, int family)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 20, 500, 2, 3);
	struct fg_rule_backend b;
	struct fg_health_stats st;
	struct srv s;
	bool up = false;
	uint16_t port;

	srv_init(&s, e, family, false);
	port = s.port;
	b = mkbackend(family, loopback(family), port);
	assert_int_equal(fg_health_sync(e->h, "web", &cfg, &b, 1, 80), 0);
	assert_int_equal(fg_health_count(e->h), 1);
	/* Starts UP, before any probe. */
	assert_int_equal(fg_health_get(e->h, "web", &b.addr, port, &up), 0);
	assert_true(up);

	run_for_probes(e, "web", &b.addr, port, 4);
	assert_int_equal(e->nrecs, 0);
	assert_int_equal(fg_health_get_stats(e->h, "web", &b.addr, port, &st),
			 0);
	assert_true(st.up);
	assert_int_equal(st.failures, 0);
	assert_true(s.accepts >= 4);

	srv_stop_listening(&s);
	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_string_equal(e->recs[0].service, "web");
	assert_int_equal(e->recs[0].port, port);
	/* Down on the third failure in a row, not before, not after. */
	assert_int_equal(e->recs[0].st.failures, 3);
	assert_int_equal(e->recs[0].st.streak, 3);
	assert_false(e->recs[0].st.up);
	assert_non_null(strstr(e->recs[0].st.last_error, "refused"));
	assert_int_equal(fg_health_get(e->h, "web", &b.addr, port, &up), 0);
	assert_false(up);

	/* More failures: no more callbacks. */
	run_for_probes(e, "web", &b.addr, port, 3);
	assert_int_equal(e->nrecs, 1);

	assert_int_equal(srv_listen(&s, port), 0);
	run_for_recs(e, 2);
	assert_true(e->recs[1].up);
	/* Up on the second success in a row. */
	assert_int_equal(e->recs[1].st.streak, 2);
	assert_int_equal(e->recs[1].st.probes - e->recs[1].st.failures,
			 e->recs[0].st.probes - e->recs[0].st.failures + 2);
	assert_int_equal(e->recs[1].st.transitions, 2);
	run_for_probes(e, "web", &b.addr, port, 3);
	assert_int_equal(e->nrecs, 2);
	srv_free(&s);
}

static void test_tcp_fall_rise_v4(void **state)
{
	tcp_fall_rise(state, AF_INET);
}

static void test_tcp_fall_rise_v6(void **state)
{
	tcp_fall_rise(state, AF_INET6);
}

/*
 * HTTP: the request is what the header promises; a status other than
 * expect_status is a failure with the status in the error; the right one
 * again brings the target back.
 */
static void http_status(void **state, int family)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_HTTP, 20, 500, 2, 2);
	struct fg_rule_backend b;
	struct fg_health_stats st;
	char want[160];
	struct srv s;

	srv_init(&s, e, family, true);
	/* The backend's own port is wrong; cfg.port takes precedence. */
	b = mkbackend(family, loopback(family), 1);
	cfg.port = s.port;
	assert_int_equal(fg_health_sync(e->h, "shop", &cfg, &b, 1, 80), 0);

	run_for_probes(e, "shop", &b.addr, s.port, 3);
	assert_int_equal(e->nrecs, 0);
	assert_true(s.requests >= 3);
	snprintf(want, sizeof(want),
		 "GET /healthz HTTP/1.1\r\nHost: %s%s%s\r\nConnection: close\r\n"
		 "User-Agent: floodgate-health\r\n\r\n",
		 family == AF_INET6 ? "[" : "", loopback(family),
		 family == AF_INET6 ? "]" : "");
	assert_string_equal(s.last_req, want);
	assert_int_equal(fg_health_get_stats(e->h, "shop", &b.addr, s.port,
					     &st), 0);
	assert_int_equal(st.failures, 0);

	s.status = 503;
	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_int_equal(e->recs[0].st.failures, 2);
	assert_string_equal(e->recs[0].st.last_error,
			    "status 503, expected 200");

	s.status = 200;
	run_for_recs(e, 2);
	assert_true(e->recs[1].up);
	assert_int_equal(e->recs[1].st.streak, 2);
	/* The failure stays on record after recovery. */
	assert_string_equal(e->recs[1].st.last_error,
			    "status 503, expected 200");

	/* expect_status other than 200: 200 is now a failure. */
	cfg.expect_status = 204;
	assert_int_equal(fg_health_sync(e->h, "shop", &cfg, &b, 1, 80), 0);
	run_for_recs(e, 3);
	assert_false(e->recs[2].up);
	assert_string_equal(e->recs[2].st.last_error,
			    "status 200, expected 204");
	srv_free(&s);
}

static void test_http_status_v4(void **state)
{
	http_status(state, AF_INET);
}

static void test_http_status_v6(void **state)
{
	http_status(state, AF_INET6);
}

/*
 * A server that accepts and reads the request but never answers: each
 * probe times out (and is closed, which the server sees), and there is
 * never more than one probe in flight although the timeout is longer than
 * the interval.
 */
static void test_http_hang_times_out(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_HTTP, 20, 60, 1, 2);
	struct fg_rule_backend b;
	struct srv s;

	srv_init(&s, e, AF_INET, true);
	s.hang = true;
	b = mkbackend(AF_INET, "127.0.0.1", s.port);
	assert_int_equal(fg_health_sync(e->h, "slow", &cfg, &b, 1, 0), 0);

	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_int_equal(e->recs[0].st.failures, 2);
	assert_string_equal(e->recs[0].st.last_error,
			    "no status line within 60 ms");
	run_for_probes(e, "slow", &b.addr, s.port, 2);
	assert_true(s.requests >= 4);
	assert_int_equal(s.max_open, 1);
	/* Every timed-out probe closed its connection. */
	assert_true(s.closed >= 3);
	srv_free(&s);
}

/* Malformed status lines and early closes are failures too. */
static void test_http_garbage(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_HTTP, 20, 500, 1, 1);
	struct fg_rule_backend b;
	struct srv s;

	/* A plain TCP listener accepts and closes without a word. */
	srv_init(&s, e, AF_INET, false);
	b = mkbackend(AF_INET, "127.0.0.1", s.port);
	assert_int_equal(fg_health_sync(e->h, "g", &cfg, &b, 1, 0), 0);
	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_string_equal(e->recs[0].st.last_error,
			    "connection closed before the status line");
	srv_free(&s);

	/* Status 99 is not a status (100..599). */
	srv_init(&s, e, AF_INET, true);
	s.status = 99;
	b = mkbackend(AF_INET, "127.0.0.1", s.port);
	cfg.rise = 1;
	assert_int_equal(fg_health_sync(e->h, "g", &cfg, &b, 1, 0), 0);
	run_for_probes(e, "g", &b.addr, s.port, 2);
	{
		struct fg_health_stats st;

		assert_int_equal(fg_health_get_stats(e->h, "g", &b.addr,
						     s.port, &st), 0);
		assert_false(st.up);
		assert_int_equal(st.failures, st.probes);
		assert_string_equal(st.last_error, "malformed status line");
	}
	srv_free(&s);
}

/*
 * Sync keeps the state and counters of targets it lists again (even with
 * a changed interval and rise/fall), adds new ones UP, and drops the rest.
 */
static void test_sync_keeps_state(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 20, 500, 1, 2);
	struct fg_rule_backend be[3];
	struct fg_health_stats st, st2;
	struct srv s;
	uint16_t dead;
	bool up;

	/* A port nobody listens on: one taken and released. */
	srv_init(&s, e, AF_INET, false);
	dead = s.port;
	srv_free(&s);
	srv_init(&s, e, AF_INET, false);

	be[0] = mkbackend(AF_INET, "127.0.0.1", dead);
	be[1] = mkbackend(AF_INET, "127.0.0.1", s.port);
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, be, 1, 0), 0);
	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_int_equal(fg_health_get_stats(e->h, "svc", &be[0].addr, dead,
					     &st), 0);

	/* Listed again, with a duplicate and a new target. */
	cfg.interval_ms = 30;
	cfg.fall = 5;
	be[2] = be[1];
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, be, 3, 0), 0);
	assert_int_equal(fg_health_count(e->h), 2);
	assert_int_equal(fg_health_get_stats(e->h, "svc", &be[0].addr, dead,
					     &st2), 0);
	assert_false(st2.up);
	assert_true(st2.probes >= st.probes);
	assert_int_equal(st2.transitions, 1);
	assert_int_equal(fg_health_get(e->h, "svc", &be[1].addr, s.port, &up),
			 0);
	assert_true(up);

	run_for_probes(e, "svc", &be[1].addr, s.port, 3);
	run_for_probes(e, "svc", &be[0].addr, dead, 2);
	/* Still down, no new transition: the dead one was never up again. */
	assert_int_equal(e->nrecs, 1);
	assert_int_equal(fg_health_get(e->h, "svc", &be[0].addr, dead, &up),
			 0);
	assert_false(up);

	/* Dropped from the list: gone. */
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, &be[1], 1, 0), 0);
	assert_int_equal(fg_health_count(e->h), 1);
	assert_int_equal(fg_health_get(e->h, "svc", &be[0].addr, dead, &up),
			 -ENOENT);

	/* Same address, other port: another target. The default port
	 * applies when neither cfg nor backend has one. */
	be[0] = mkbackend(AF_INET, "127.0.0.1", 0);
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, be, 2, s.port), 0);
	assert_int_equal(fg_health_count(e->h), 1);
	be[0].port = dead;
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, be, 2, s.port), 0);
	assert_int_equal(fg_health_count(e->h), 2);

	/* Type NONE removes the service's targets. */
	cfg.type = FG_HEALTH_NONE;
	assert_int_equal(fg_health_sync(e->h, "svc", &cfg, be, 2, 0), 0);
	assert_int_equal(fg_health_count(e->h), 0);
	assert_int_equal(fg_health_remove_service(e->h, "svc"), -ENOENT);
	srv_free(&s);
}

/*
 * Removal stops probing at once: the in-flight probe's socket is closed
 * (the server sees it), no callback ever comes for the removed target,
 * while another service keeps probing.
 */
static void test_remove_stops(void **state)
{
	struct env *e = *state;
	struct fg_rule_health hang = mkcfg(FG_HEALTH_HTTP, 20, 10000, 1, 1);
	struct fg_rule_health tcp = mkcfg(FG_HEALTH_TCP, 20, 500, 1, 1);
	struct fg_rule_backend b, ctl, dead;
	struct fg_health_stats st;
	struct srv s, live;
	unsigned accepts;

	srv_init(&s, e, AF_INET, true);
	s.hang = true;
	srv_init(&live, e, AF_INET, false);
	b = mkbackend(AF_INET, "127.0.0.1", s.port);
	ctl = mkbackend(AF_INET, "127.0.0.1", live.port);
	assert_int_equal(fg_health_sync(e->h, "gone", &hang, &b, 1, 0), 0);
	assert_int_equal(fg_health_sync(e->h, "ctl", &tcp, &ctl, 1, 0), 0);

	/* Wait until the hung probe is in flight with its request read. */
	run_until_count(e, &s.requests, 1, true, "a request");
	assert_int_equal(fg_health_get_stats(e->h, "gone", &b.addr, s.port,
					     &st), 0);
	assert_true(st.probing);
	assert_int_equal(s.open, 1);

	assert_int_equal(fg_health_remove_service(e->h, "gone"), 0);
	assert_int_equal(fg_health_get_stats(e->h, "gone", &b.addr, s.port,
					     &st), -ENOENT);
	accepts = s.accepts;
	run_for_probes(e, "ctl", &ctl.addr, live.port, 5);
	assert_int_equal(s.open, 0);
	assert_int_equal(s.closed, 1);
	assert_int_equal(s.accepts, accepts);

	/* A target dropped by sync before its first probe: its failure
	 * would call back at once (fall 1), but it never does. */
	dead = mkbackend(AF_INET, "127.0.0.1", s.port);
	srv_free(&s);
	assert_int_equal(fg_health_sync(e->h, "gone", &tcp, &dead, 1, 0), 0);
	assert_int_equal(fg_health_sync(e->h, "gone", &tcp, &dead, 0, 0), 0);
	run_for_probes(e, "ctl", &ctl.addr, live.port, 5);
	assert_int_equal(e->nrecs, 0);
	srv_free(&live);
}

/* free() with probes in flight closes every socket, calls nothing back. */
static void test_free_in_flight(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_HTTP, 20, 10000, 1, 1);
	struct fg_rule_backend be;
	struct srv s;
	unsigned i;

	srv_init(&s, e, AF_INET, true);
	s.hang = true;
	be = mkbackend(AF_INET, "127.0.0.1", s.port);
	/* Eight targets on eight services: same address and port. */
	for (i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", i);
		assert_int_equal(fg_health_sync(e->h, name, &cfg, &be, 1, 0),
				 0);
	}
	assert_int_equal(fg_health_count(e->h), 8);
	run_until_count(e, &s.requests, 8, true, "eight requests");
	assert_int_equal(s.open, 8);
	fg_health_free(e->h);
	e->h = NULL;
	run_until_count(e, &s.open, 0, false, "every probe closed");
	assert_int_equal(s.closed, 8);
	assert_int_equal(e->nrecs, 0);
	srv_free(&s);
}

/* The callback may remove its own service, or free the whole checker. */
static void test_reentrant_callback(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 20, 500, 1, 1);
	struct fg_rule_backend b;
	struct srv s;
	uint16_t dead;

	srv_init(&s, e, AF_INET, false);
	dead = s.port;
	srv_free(&s);
	b = mkbackend(AF_INET, "127.0.0.1", dead);

	e->remove_in_cb = "r";
	assert_int_equal(fg_health_sync(e->h, "r", &cfg, &b, 1, 0), 0);
	run_for_recs(e, 1);
	assert_int_equal(fg_health_count(e->h), 0);

	e->remove_in_cb = NULL;
	e->free_in_cb = true;
	assert_int_equal(fg_health_sync(e->h, "f", &cfg, &b, 1, 0), 0);
	run_for_recs(e, 2);
	assert_null(e->h);
	/* Nothing of the checker is left on the base: the loop has no
	 * events and returns at once (1 = no events). */
	assert_int_equal(event_base_loop(e->base, EVLOOP_NONBLOCK), 1);
}

/*
 * First probes are prompt and jittered. Prompt: the interval is a minute
 * and the wait bound far shorter, so only the first-probe spread
 * (FG_HEALTH_FIRST_SPREAD_MS) lets all 200 arrive. Jittered: unjittered,
 * all 200 timers expire together and their probes end within one or two
 * of run_until()'s 5 ms slices; spread over up to a second they land in
 * dozens. Asking for at least 4 distinct slices leaves a wide margin for
 * a slow machine.
 */
static void test_first_probe_jitter(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 60000, 500, 1, 1);
	struct fg_rule_backend be[200];
	unsigned i, distinct = 1;
	struct srv s;
	uint16_t dead;

	srv_init(&s, e, AF_INET, false);
	dead = s.port;
	srv_free(&s);
	/* 200 addresses of 127.0.0.0/8 (all loopback on Linux), on a port
	 * nobody listens on: each first probe fails and, with fall 1, calls
	 * back, so the callbacks show when the first probes ended. */
	for (i = 0; i < 200; i++) {
		char a[32];

		snprintf(a, sizeof(a), "127.0.1.%u", 1 + i);
		be[i] = mkbackend(AF_INET, a, dead);
	}
	assert_int_equal(fg_health_sync(e->h, "many", &cfg, be, 200, 0), 0);
	assert_int_equal(fg_health_count(e->h), 200);
	run_for_recs(e, 200);
	for (i = 0; i < 200; i++) {
		assert_false(e->recs[i].up);
		assert_int_equal(e->recs[i].st.probes, 1);
		assert_int_equal(e->recs[i].port, dead);
		if (i && e->recs[i].slice != e->recs[i - 1].slice)
			distinct++;
	}
	assert_true(distinct >= 4);
}

/* Bad arguments and the cap on targets, all-or-nothing. */
static void test_limits(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 1000, 500, 2, 3);
	struct fg_rule_health bad;
	struct fg_rule_backend *be;
	unsigned i;
	char name[16];
	bool up;

	be = calloc(FG_SVC_BACKENDS_MAX, sizeof(*be));
	assert_non_null(be);
	for (i = 0; i < FG_SVC_BACKENDS_MAX; i++) {
		be[i].addr.family = AF_INET;
		be[i].addr.a4.s_addr = htonl(0xc6130000U + i); /* 198.19/16 */
		be[i].port = 8080;
	}

	assert_null(fg_health_new(NULL, health_cb, e));
	assert_null(fg_health_new(e->base, NULL, e));
	fg_health_free(NULL);

	bad = cfg;
	bad.interval_ms = FG_HEALTH_INTERVAL_MIN_MS - 1;
	assert_int_equal(fg_health_sync(e->h, "x", &bad, be, 1, 0), -EINVAL);
	bad = cfg;
	bad.fall = 0;
	assert_int_equal(fg_health_sync(e->h, "x", &bad, be, 1, 0), -EINVAL);
	bad = mkcfg(FG_HEALTH_HTTP, 1000, 500, 2, 3);
	strcpy(bad.path, "/a\r\nX-Injected: 1");
	assert_int_equal(fg_health_sync(e->h, "x", &bad, be, 1, 0), -EINVAL);
	bad = mkcfg(FG_HEALTH_HTTP, 1000, 500, 2, 3);
	strcpy(bad.path, "healthz");
	assert_int_equal(fg_health_sync(e->h, "x", &bad, be, 1, 0), -EINVAL);
	bad = mkcfg(FG_HEALTH_HTTP, 1000, 500, 2, 3);
	bad.expect_status = 600;
	assert_int_equal(fg_health_sync(e->h, "x", &bad, be, 1, 0), -EINVAL);
	assert_int_equal(fg_health_sync(e->h, "", &cfg, be, 1, 0), -EINVAL);
	assert_int_equal(fg_health_sync(e->h, "x", &cfg, NULL, 1, 0), -EINVAL);
	/* No port anywhere. */
	be[0].port = 0;
	assert_int_equal(fg_health_sync(e->h, "x", &cfg, be, 1, 0), -EINVAL);
	be[0].port = 8080;
	be[1].addr.family = AF_UNIX;
	assert_int_equal(fg_health_sync(e->h, "x", &cfg, be, 2, 0), -EINVAL);
	be[1].addr.family = AF_INET;
	assert_int_equal(fg_health_count(e->h), 0);

	/* Fill to the cap exactly: 16 services of 4096. */
	for (i = 0; i < FG_HEALTH_TARGETS_MAX / FG_SVC_BACKENDS_MAX; i++) {
		snprintf(name, sizeof(name), "s%u", i);
		assert_int_equal(fg_health_sync(e->h, name, &cfg, be,
						FG_SVC_BACKENDS_MAX, 0), 0);
	}
	assert_int_equal(fg_health_count(e->h), FG_HEALTH_TARGETS_MAX);
	/* One more target anywhere is refused, and changes nothing. */
	assert_int_equal(fg_health_sync(e->h, "extra", &cfg, be, 1, 0),
			 -ENOSPC);
	assert_int_equal(fg_health_get(e->h, "extra", &be[0].addr, 8080, &up),
			 -ENOENT);
	be[0].port = 9090;
	assert_int_equal(fg_health_sync(e->h, "s0", &cfg, be,
					FG_SVC_BACKENDS_MAX, 0), 0);
	/* Replacing a target of a full service fits (one out, one in)... */
	assert_int_equal(fg_health_get(e->h, "s0", &be[0].addr, 9090, &up), 0);
	assert_int_equal(fg_health_get(e->h, "s0", &be[0].addr, 8080, &up),
			 -ENOENT);
	/* ...growing it does not, and leaves it as it was. */
	be[0].port = 8080;
	{
		struct fg_rule_backend *more = calloc(FG_SVC_BACKENDS_MAX + 1,
						      sizeof(*more));

		assert_non_null(more);
		memcpy(more, be, FG_SVC_BACKENDS_MAX * sizeof(*be));
		more[FG_SVC_BACKENDS_MAX] = be[0];
		more[FG_SVC_BACKENDS_MAX].port = 9090;
		assert_int_equal(fg_health_sync(e->h, "s0", &cfg, more,
						FG_SVC_BACKENDS_MAX + 1, 0),
				 -ENOSPC);
		free(more);
	}
	assert_int_equal(fg_health_count(e->h), FG_HEALTH_TARGETS_MAX);
	assert_int_equal(fg_health_get(e->h, "s0", &be[0].addr, 9090, &up), 0);
	assert_int_equal(fg_health_get(e->h, "s0", &be[0].addr, 8080, &up),
			 -ENOENT);
	/* Removing a service frees room. */
	assert_int_equal(fg_health_remove_service(e->h, "s3"), 0);
	assert_int_equal(fg_health_sync(e->h, "extra", &cfg, be, 1, 0), 0);
	assert_int_equal(fg_health_count(e->h),
			 FG_HEALTH_TARGETS_MAX - FG_SVC_BACKENDS_MAX + 1);
	free(be);
}

/* closed_port - a loopback port nobody listens on (bound, then closed):
 * a probe there fails with "connection refused". */
static uint16_t closed_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

struct local_ctx {
	const struct fg_addr *addr;
	uint16_t port;
	uint64_t want;
};

static bool local_done(struct env *e, void *arg)
{
	struct local_ctx *l = arg;
	struct fg_health_stats st;

	assert_int_equal(fg_health_get_stats(e->h, "web", l->addr, l->port,
					     &st), 0);
	return st.local_errors >= l->want;
}

/*
 * A probe this host cannot make (out of descriptors: EMFILE) has no
 * result: with fall = 1 against a port that refuses, one real failure
 * would take the target down, yet many probes that could not open a
 * socket change nothing. Once descriptors are back, the same target
 * fails for real - the probes did target a dead backend.
 */
static void test_local_error_no_result(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 20, 500, 1, 1);
	struct fg_rule_backend b;
	struct fg_health_stats st;
	struct rlimit old, low;
	struct local_ctx l;
	uint16_t port = closed_port();
	int fd;

	b = mkbackend(AF_INET, "127.0.0.1", port);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* The lowest free descriptor becomes the limit: socket() fails. */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	low.rlim_cur = (rlim_t)fd;
	low.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

	assert_int_equal(fg_health_sync(e->h, "web", &cfg, &b, 1, 80), 0);
	l.addr = &b.addr;
	l.port = port;
	l.want = 5;
	run_until(e, local_done, &l, "probes without a result");
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(fg_health_get_stats(e->h, "web", &b.addr, port, &st),
			 0);
	assert_true(st.up);
	assert_int_equal(st.probes, 0);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.streak, 0);
	assert_int_equal(st.transitions, 0);
	assert_string_equal(st.last_error, "");
	assert_non_null(strstr(st.last_local_error, "Too many open files"));
	assert_int_equal(e->nrecs, 0);

	/* Descriptors back: the dead backend is found dead. */
	run_for_recs(e, 1);
	assert_false(e->recs[0].up);
	assert_int_equal(e->recs[0].st.failures, 1);
	assert_non_null(strstr(e->recs[0].st.last_error, "refused"));
}

/* fg_health_seed sets a target's state quietly; the next results count
 * from it. */
static void test_seed(void **state)
{
	struct env *e = *state;
	struct fg_rule_health cfg = mkcfg(FG_HEALTH_TCP, 20, 500, 2, 3);
	struct fg_rule_backend b;
	struct srv s;
	bool up = true;

	srv_init(&s, e, AF_INET, false);
	b = mkbackend(AF_INET, "127.0.0.1", s.port);
	assert_int_equal(fg_health_sync(e->h, "web", &cfg, &b, 1, 80), 0);
	assert_int_equal(fg_health_seed(e->h, "web", &b.addr, s.port, false), 0);
	assert_int_equal(fg_health_get(e->h, "web", &b.addr, s.port, &up), 0);
	assert_false(up);
	assert_int_equal(fg_health_seed(e->h, "nope", &b.addr, s.port, false),
			 -ENOENT);
	assert_int_equal(fg_health_seed(NULL, "web", &b.addr, s.port, false),
			 -EINVAL);
	assert_int_equal(e->nrecs, 0);
	/* rise = 2 successes bring it up, with a callback. */
	run_for_recs(e, 1);
	assert_true(e->recs[0].up);
	assert_int_equal(e->recs[0].st.probes, 2);
	srv_free(&s);
}

/* The descriptors for the documented target count, and raising the limit
 * (never lowering it). */
static void test_raise_nofile(void **state)
{
	struct rlimit before, after;
	char err[256] = "";
	int rc;

	assert_int_equal(fg_health_nofile(FG_HEALTH_TARGETS_MAX),
			 FG_HEALTH_TARGETS_MAX + FG_HEALTH_NOFILE_RESERVE);
	assert_int_equal(fg_health_nofile(UINT32_MAX),
			 FG_HEALTH_TARGETS_MAX + FG_HEALTH_NOFILE_RESERVE);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &before), 0);
	rc = fg_health_raise_nofile(100, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_true(after.rlim_cur >= before.rlim_cur);
	assert_true(after.rlim_cur >= 100 + FG_HEALTH_NOFILE_RESERVE ||
		    after.rlim_cur == RLIM_INFINITY);
	rc = fg_health_raise_nofile(FG_HEALTH_TARGETS_MAX, err, sizeof(err));
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	if (rc == 0) {
		assert_true(after.rlim_cur >= fg_health_nofile(FG_HEALTH_TARGETS_MAX));
	} else {
		/* Not privileged and a short hard limit: up to it, said. */
		assert_int_equal(rc, -EMFILE);
		assert_int_equal(after.rlim_cur, after.rlim_max);
		assert_non_null(strstr(err, "RLIMIT_NOFILE"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_fall_rise_v4,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_fall_rise_v6,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_http_status_v4,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_http_status_v6,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_http_hang_times_out,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_http_garbage,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_sync_keeps_state,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_remove_stops,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_reentrant_callback,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_first_probe_jitter,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_limits,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_local_error_no_result,
						env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_seed,
						env_setup, env_teardown),
		cmocka_unit_test(test_raise_nofile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
