/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_health.c - active health checks: one timer and at most one socket per
 * target, driven by the caller's libevent base. See fg_health.h for the
 * contract.
 *
 * Why raw events and not bufferevents: a probe reads 13 bytes and writes
 * one small request; a bufferevent would add two evbuffers and their
 * allocations per probe for nothing, and the deadline has to span the
 * connect and the read together, which bufferevent timeouts (per
 * direction, reset on progress) do not express.
 *
 * Re-entrancy rule: the transition callback is the last thing any code
 * path here does before returning to libevent, so the callback may sync,
 * remove or free anything, the calling target included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fg_health.h"
#include "fg_time.h"

/* -------------------------------------------------------- structures */

enum fg_ht_phase {
	FG_HT_IDLE = 0,    /* waiting for the next probe (timer = schedule) */
	FG_HT_CONNECT,     /* connect() in progress (timer = deadline) */
	FG_HT_SEND,        /* http: request partly sent */
	FG_HT_READ,        /* http: waiting for the status line */
};

struct fg_hsvc;

/* One probed (service, addr, port). */
struct fg_htarget {
	struct fg_health *h;
	struct fg_hsvc *svc;
	struct fg_addr addr;
	uint16_t port;
	struct fg_htarget *hnext;        /* hash chain */
	struct fg_htarget *prev, *next;  /* the service's list */
	uint64_t seen_gen;               /* last sync that listed it */
	bool fresh;                      /* made by the sync in progress */

	/* State and counters (fg_health_stats). */
	bool up;
	bool last_ok;
	uint32_t streak;
	uint64_t probes, failures, transitions;
	char last_error[FG_HEALTH_ERR_MAX];
	uint64_t local_errors;
	char last_local_error[FG_HEALTH_ERR_MAX];

	/* Schedule: when idle the timer starts the next probe, while probing
	 * it is the probe's deadline - one event serves both because the two
	 * never overlap. */
	struct event *timer;
	uint64_t started_ms;            /* monotonic start of the last probe */
	bool started;                   /* started_ms is meaningful */

	/* The probe in flight. */
	enum fg_ht_phase phase;
	int fd;
	struct event *io;
	char *req;                      /* http request, per probe */
	size_t req_len, req_off;
	char rbuf[16];                  /* "HTTP/1.1 200 " is 13 bytes */
	size_t rlen;
};

/* One service: its probe settings and targets. */
struct fg_hsvc {
	char name[FG_NAME_MAX];
	struct fg_rule_health cfg;
	struct fg_htarget *targets;
	size_t ntargets;
	struct fg_hsvc *next;
};

struct fg_health {
	struct event_base *base;
	fg_health_cb cb;
	void *arg;
	struct fg_hsvc *svcs;
	/* (svc, addr, port) -> target, chained; the bucket count is a power
	 * of two that doubles as targets are added, up to the cap. */
	struct fg_htarget **buckets;
	size_t nbuckets;
	size_t count;
	uint64_t gen;
	uint64_t rng;
};

#define FG_HT_BUCKETS_MIN 64U

/* ----------------------------------------------------------- helpers */

/* splitmix64: jitter only needs to spread probes, not to be secret. */
static uint64_t fg_ht_rand(struct fg_health *h)
{
	uint64_t z = (h->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t fg_ht_addr_len(const struct fg_addr *a)
{
	return a->family == AF_INET ? sizeof(a->a4) : sizeof(a->a6);
}

static bool fg_ht_addr_eq(const struct fg_addr *a, const struct fg_addr *b)
{
	return a->family == b->family &&
	       memcmp(&a->a4, &b->a4, fg_ht_addr_len(a)) == 0;
}

/* FNV-1a over the key; the service pointer stands for its name. */
static size_t fg_ht_hash(const struct fg_hsvc *svc, const struct fg_addr *a,
			 uint16_t port)
{
	uint64_t x = 0xcbf29ce484222325ULL;
	const unsigned char *p = (const unsigned char *)&a->a4;
	uintptr_t sp = (uintptr_t)svc;
	size_t i;

	for (i = 0; i < fg_ht_addr_len(a); i++)
		x = (x ^ p[i]) * 0x100000001b3ULL;
	x = (x ^ port) * 0x100000001b3ULL;
	x = (x ^ (uint64_t)a->family) * 0x100000001b3ULL;
	x = (x ^ (uint64_t)sp) * 0x100000001b3ULL;
	return (size_t)(x ^ (x >> 32));
}

static struct fg_htarget *fg_ht_find(struct fg_health *h,
				     const struct fg_hsvc *svc,
				     const struct fg_addr *a, uint16_t port)
{
	struct fg_htarget *t;

	t = h->buckets[fg_ht_hash(svc, a, port) & (h->nbuckets - 1)];
	for (; t; t = t->hnext)
		if (t->svc == svc && t->port == port &&
		    fg_ht_addr_eq(&t->addr, a))
			return t;
	return NULL;
}

static void fg_ht_hash_insert(struct fg_health *h, struct fg_htarget *t)
{
	size_t b = fg_ht_hash(t->svc, &t->addr, t->port) & (h->nbuckets - 1);

	t->hnext = h->buckets[b];
	h->buckets[b] = t;
}

static void fg_ht_hash_unlink(struct fg_health *h, struct fg_htarget *t)
{
	struct fg_htarget **pp;

	pp = &h->buckets[fg_ht_hash(t->svc, &t->addr, t->port) &
			 (h->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			return;
		}
	}
}

/*
 * fg_ht_grow - make room for want targets at about one per bucket.
 * Returns 0 or -ENOMEM (the table stays as it was, still correct).
 */
static int fg_ht_grow(struct fg_health *h, size_t want)
{
	struct fg_htarget **nb, *t, *next;
	size_t n = h->nbuckets, i;

	while (n < want && n < FG_HEALTH_TARGETS_MAX)
		n *= 2;
	if (n == h->nbuckets)
		return 0;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (i = 0; i < h->nbuckets; i++) {
		for (t = h->buckets[i]; t; t = next) {
			size_t b = fg_ht_hash(t->svc, &t->addr, t->port) &
				   (n - 1);

			next = t->hnext;
			t->hnext = nb[b];
			nb[b] = t;
		}
	}
	free(h->buckets);
	h->buckets = nb;
	h->nbuckets = n;
	return 0;
}

static struct fg_hsvc *fg_ht_svc_find(struct fg_health *h, const char *name)
{
	struct fg_hsvc *s;

	for (s = h->svcs; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* ----------------------------------------------------------- probing */

static void fg_ht_timer_cb(evutil_socket_t fd, short what, void *arg);
static void fg_ht_io_cb(evutil_socket_t fd, short what, void *arg);

/* fg_ht_probe_close - release what the probe in flight holds. Any context. */
static void fg_ht_probe_close(struct fg_htarget *t)
{
	if (t->io) {
		event_free(t->io);
		t->io = NULL;
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	free(t->req);
	t->req = NULL;
	t->req_len = t->req_off = t->rlen = 0;
	t->phase = FG_HT_IDLE;
}

/*
 * fg_ht_schedule - arm the timer for the next probe: interval_ms after the
 * start of the last one, or now when that has passed (a slow probe).
 */
static void fg_ht_schedule(struct fg_htarget *t)
{
	uint64_t now = fg_now_ms(), due, delay = 0;
	struct timeval tv;

	due = t->started_ms + t->svc->cfg.interval_ms;
	if (due > now)
		delay = due - now;
	tv = fg_ms_tv(delay);
	/* Cannot fail for want of memory: the timer was pending a moment
	 * ago (as the deadline or the schedule), so libevent's timer heap
	 * already has its slot. */
	evtimer_add(t->timer, &tv);
}

/*
 * fg_ht_finish - end the probe in flight with its result, update state
 * and counters, schedule the next probe and report a transition. Must be
 * the caller's last action: the callback may free t (see file comment).
 */
static void fg_ht_finish(struct fg_htarget *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fg_ht_finish(struct fg_htarget *t, bool ok, const char *fmt, ...)
{
	const struct fg_rule_health *cfg = &t->svc->cfg;
	struct fg_health *h = t->h;
	bool changed = false;
	va_list ap;

	fg_ht_probe_close(t);
	evtimer_del(t->timer);
	t->probes++;
	if (t->last_ok == ok && t->streak)
		t->streak++;
	else
		t->streak = 1;
	t->last_ok = ok;
	if (!ok) {
		t->failures++;
		va_start(ap, fmt);
		vsnprintf(t->last_error, sizeof(t->last_error), fmt, ap);
		va_end(ap);
	}
	if (ok && !t->up && t->streak >= cfg->rise)
		changed = true;
	else if (!ok && t->up && t->streak >= cfg->fall)
		changed = true;
	if (changed) {
		t->up = ok;
		t->transitions++;
	}
	fg_ht_schedule(t);
	if (changed)
		h->cb(h->arg, t->svc->name, &t->addr, t->port, ok);
}

/*
 * fg_ht_no_result - end the probe in flight without a result: it failed
 * for a reason of this host's (fg_ht_local_errno), which says nothing of
 * the backend. State, streak and probe counts stay as they were; the next
 * probe comes on schedule. Must be the caller's last action, like
 * fg_ht_finish (it fires no callback, but keeps the same rule).
 */
static void fg_ht_no_result(struct fg_htarget *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fg_ht_no_result(struct fg_htarget *t, const char *fmt, ...)
{
	va_list ap;

	fg_ht_probe_close(t);
	evtimer_del(t->timer);
	t->local_errors++;
	va_start(ap, fmt);
	vsnprintf(t->last_local_error, sizeof(t->last_local_error), fmt, ap);
	va_end(ap);
	fg_ht_schedule(t);
}

/*
 * fg_ht_local_errno - errno values that mean this host could not make the
 * probe (out of descriptors, buffers, memory or local ports), not that
 * the backend failed it: a checker short of descriptors must not take
 * every backend out of service.
 */
static bool fg_ht_local_errno(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM ||
	       e == EADDRNOTAVAIL || e == EAGAIN;
}

/* fg_ht_watch - wait for events on the probe's socket (replacing what it
 * waited for before). Returns 0 or -ENOMEM. */
static int fg_ht_watch(struct fg_htarget *t, short events)
{
	if (t->io)
		event_free(t->io);
	t->io = event_new(t->h->base, t->fd, events, fg_ht_io_cb, t);
	if (!t->io || event_add(t->io, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* fg_ht_http_request - build the probe's request. Returns 0 or -ENOMEM. */
static int fg_ht_http_request(struct fg_htarget *t)
{
	char host[INET6_ADDRSTRLEN + 2], a[INET6_ADDRSTRLEN];
	int n;

	inet_ntop(t->addr.family, &t->addr.a4, a, sizeof(a));
	/* An IPv6 literal in Host must be bracketed (RFC 7230, 5.4). */
	snprintf(host, sizeof(host), t->addr.family == AF_INET6 ? "[%s]" : "%s",
		 a);
	n = asprintf(&t->req,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
		     "User-Agent: floodgate-health\r\n\r\n",
		     t->svc->cfg.path, host);
	if (n < 0) {
		t->req = NULL;
		return -ENOMEM;
	}
	t->req_len = (size_t)n;
	t->req_off = 0;
	return 0;
}

/*
 * fg_ht_status - the status code in the status line at b[0..len), or -1
 * when it is not "HTTP/d.d ddd" followed by a space or the line's end.
 */
static int fg_ht_status(const char *b, size_t len)
{
	if (len < 12 || memcmp(b, "HTTP/", 5) != 0 ||
	    b[5] < '0' || b[5] > '9' || b[6] != '.' ||
	    b[7] < '0' || b[7] > '9' || b[8] != ' ' ||
	    b[9] < '1' || b[9] > '9' || b[10] < '0' || b[10] > '9' ||
	    b[11] < '0' || b[11] > '9')
		return -1;
	if (len > 12 && b[12] != ' ' && b[12] != '\r' && b[12] != '\n')
		return -1;
	return (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
}

/* fg_ht_judge - end an http probe on the status line received so far. */
static void fg_ht_judge(struct fg_htarget *t)
{
	int st = fg_ht_status(t->rbuf, t->rlen);

	if (st < 0)
		fg_ht_finish(t, false, "malformed status line");
	else if (st != t->svc->cfg.expect_status)
		fg_ht_finish(t, false, "status %d, expected %u", st,
			     t->svc->cfg.expect_status);
	else
		fg_ht_finish(t, true, "%s", "");
}

/* fg_ht_send - push the request out; on to reading once it is all sent. */
static void fg_ht_send(struct fg_htarget *t)
{
	while (t->req_off < t->req_len) {
		ssize_t n = send(t->fd, t->req + t->req_off,
				 t->req_len - t->req_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (t->phase != FG_HT_SEND) {
				t->phase = FG_HT_SEND;
				if (fg_ht_watch(t, EV_WRITE | EV_PERSIST))
					fg_ht_no_result(t, "out of memory");
			}
			return;
		}
		if (n < 0 && (errno == ENOBUFS || errno == ENOMEM)) {
			fg_ht_no_result(t, "send: %s", strerror(errno));
			return;
		}
		if (n < 0) {
			fg_ht_finish(t, false, "send: %s", strerror(errno));
			return;
		}
		t->req_off += (size_t)n;
	}
	t->phase = FG_HT_READ;
	if (fg_ht_watch(t, EV_READ | EV_PERSIST))
		fg_ht_no_result(t, "out of memory");
}

/* fg_ht_recv - read what arrived of the status line; judge when enough
 * is there to decide or the peer closed. */
static void fg_ht_recv(struct fg_htarget *t)
{
	for (;;) {
		ssize_t n = recv(t->fd, t->rbuf + t->rlen,
				 sizeof(t->rbuf) - t->rlen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			fg_ht_finish(t, false, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			if (t->rlen < 12)
				fg_ht_finish(t, false,
					     "connection closed before the status line");
			else
				fg_ht_judge(t);
			return;
		}
		t->rlen += (size_t)n;
		/* 13 bytes decide: the code and what follows it. */
		if (t->rlen > 12 || memchr(t->rbuf, '\n', t->rlen)) {
			fg_ht_judge(t);
			return;
		}
	}
}

/* fg_ht_connected - the connect completed: a tcp probe passed, an http
 * probe goes on to its request. */
static void fg_ht_connected(struct fg_htarget *t)
{
	if (t->svc->cfg.type == FG_HEALTH_TCP) {
		fg_ht_finish(t, true, "%s", "");
		return;
	}
	if (fg_ht_http_request(t)) {
		fg_ht_no_result(t, "out of memory");
		return;
	}
	fg_ht_send(t);
}

/* fg_ht_io_cb - the probe's socket is ready (libevent callback). */
static void fg_ht_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fg_htarget *t = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	switch (t->phase) {
	case FG_HT_CONNECT:
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == ENOBUFS || err == ENOMEM)
			fg_ht_no_result(t, "connect: %s", strerror(err));
		else if (err)
			fg_ht_finish(t, false, "connect: %s", strerror(err));
		else
			fg_ht_connected(t);
		break;
	case FG_HT_SEND:
		fg_ht_send(t);
		break;
	case FG_HT_READ:
		fg_ht_recv(t);
		break;
	case FG_HT_IDLE:
		break;
	}
}

/* fg_ht_start - open the socket and start connecting. */
static void fg_ht_start(struct fg_htarget *t)
{
	const struct fg_rule_health *cfg = &t->svc->cfg;
	/* Reset, not FIN: see the header (no TIME_WAIT build-up). */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct timeval tv;
	int rc;

	memset(&ss, 0, sizeof(ss));
	if (t->addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		sin->sin_addr = t->addr.a4;
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		sin6->sin6_addr = t->addr.a6;
		sslen = sizeof(*sin6);
	}

	t->started_ms = fg_now_ms();
	t->started = true;
	t->rlen = 0;
	/* The deadline covers the whole probe, connect and read together. */
	tv = fg_ms_tv(cfg->timeout_ms);
	evtimer_add(t->timer, &tv);

	t->fd = socket(t->addr.family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		/* socket() has no peer yet: any failure is this host's. */
		fg_ht_no_result(t, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	do {
		rc = connect(t->fd, (struct sockaddr *)&ss, sslen);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		fg_ht_connected(t);
		return;
	}
	if (errno != EINPROGRESS) {
		if (fg_ht_local_errno(errno))
			fg_ht_no_result(t, "connect: %s", strerror(errno));
		else
			fg_ht_finish(t, false, "connect: %s", strerror(errno));
		return;
	}
	t->phase = FG_HT_CONNECT;
	if (fg_ht_watch(t, EV_WRITE))
		fg_ht_no_result(t, "out of memory");
}

/* fg_ht_timer_cb - start a probe when idle, time it out when probing
 * (libevent callback). */
static void fg_ht_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fg_htarget *t = arg;

	switch (t->phase) {
	case FG_HT_IDLE:
		fg_ht_start(t);
		break;
	case FG_HT_CONNECT:
		fg_ht_finish(t, false, "connect timeout after %u ms",
			     t->svc->cfg.timeout_ms);
		break;
	case FG_HT_SEND:
	case FG_HT_READ:
		fg_ht_finish(t, false, "no status line within %u ms",
			     t->svc->cfg.timeout_ms);
		break;
	}
}

/* ----------------------------------------------------------- targets */

/* fg_ht_target_free - stop t's probe and timer, unlink and free it. */
static void fg_ht_target_free(struct fg_health *h, struct fg_htarget *t)
{
	fg_ht_probe_close(t);
	if (t->timer)
		event_free(t->timer);
	fg_ht_hash_unlink(h, t);
	if (t->prev)
		t->prev->next = t->next;
	else
		t->svc->targets = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->svc->ntargets--;
	h->count--;
	free(t);
}

/* fg_ht_target_new - a new target of svc, linked and hashed, UP, with its
 * timer made but not armed. Returns it or NULL (out of memory). */
static struct fg_htarget *fg_ht_target_new(struct fg_health *h,
					   struct fg_hsvc *svc,
					   const struct fg_addr *a,
					   uint16_t port)
{
	struct fg_htarget *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->timer = evtimer_new(h->base, fg_ht_timer_cb, t);
	if (!t->timer) {
		free(t);
		return NULL;
	}
	t->h = h;
	t->svc = svc;
	t->addr = *a;
	t->port = port;
	t->fd = -1;
	t->up = true;
	t->next = svc->targets;
	if (t->next)
		t->next->prev = t;
	svc->targets = t;
	svc->ntargets++;
	h->count++;
	fg_ht_hash_insert(h, t);
	return t;
}

static void fg_ht_svc_free(struct fg_health *h, struct fg_hsvc *svc)
{
	struct fg_hsvc **pp;

	while (svc->targets)
		fg_ht_target_free(h, svc->targets);
	for (pp = &h->svcs; *pp; pp = &(*pp)->next) {
		if (*pp == svc) {
			*pp = svc->next;
			break;
		}
	}
	free(svc);
}

/* fg_ht_cfg_check - a probe configuration the library can run. */
static int fg_ht_cfg_check(const struct fg_rule_health *cfg)
{
	size_t i, n;

	if (cfg->type != FG_HEALTH_TCP && cfg->type != FG_HEALTH_HTTP)
		return -EINVAL;
	if (cfg->interval_ms < FG_HEALTH_INTERVAL_MIN_MS ||
	    cfg->timeout_ms == 0 || cfg->rise == 0 || cfg->fall == 0)
		return -EINVAL;
	if (cfg->type != FG_HEALTH_HTTP)
		return 0;
	n = strnlen(cfg->path, sizeof(cfg->path));
	if (n == 0 || n == sizeof(cfg->path) || cfg->path[0] != '/')
		return -EINVAL;
	/* The path goes into the request line verbatim: no CR/LF or spaces
	 * that would let it rewrite the request. */
	for (i = 0; i < n; i++)
		if (cfg->path[i] <= ' ' || cfg->path[i] > '~')
			return -EINVAL;
	if (cfg->expect_status < 100 || cfg->expect_status > 599)
		return -EINVAL;
	return 0;
}

/* fg_ht_port - the probe port of backend b. */
static uint16_t fg_ht_port(const struct fg_rule_health *cfg,
			   const struct fg_rule_backend *b,
			   uint16_t default_port)
{
	if (cfg->port)
		return cfg->port;
	if (b->port)
		return b->port;
	return default_port;
}

/* ------------------------------------------------------------ public */

/* fg_health_new - see the header. */
struct fg_health *fg_health_new(struct event_base *base, fg_health_cb cb,
				void *arg)
{
	struct fg_health *h;

	if (!base || !cb) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->buckets = calloc(FG_HT_BUCKETS_MIN, sizeof(*h->buckets));
	if (!h->buckets) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	h->nbuckets = FG_HT_BUCKETS_MIN;
	h->base = base;
	h->cb = cb;
	h->arg = arg;
	h->rng = fg_now_ms() ^ (uint64_t)(uintptr_t)h;
	return h;
}

/* fg_health_free - see the header. */
void fg_health_free(struct fg_health *h)
{
	if (!h)
		return;
	while (h->svcs)
		fg_ht_svc_free(h, h->svcs);
	free(h->buckets);
	free(h);
}

/* fg_health_remove_service - see the header. */
int fg_health_remove_service(struct fg_health *h, const char *service)
{
	struct fg_hsvc *svc;

	if (!h || !service)
		return -EINVAL;
	svc = fg_ht_svc_find(h, service);
	if (!svc)
		return -ENOENT;
	fg_ht_svc_free(h, svc);
	return 0;
}

/*
 * fg_ht_rollback - undo a failed sync: free the targets it created (never
 * armed) and the service if the sync created it. Targets that were there
 * before keep everything; their seen_gen mark is simply never read.
 */
static void fg_ht_rollback(struct fg_health *h, struct fg_hsvc *svc,
			   bool svc_new, struct fg_htarget **added,
			   size_t nadded)
{
	size_t i;

	for (i = 0; i < nadded; i++)
		fg_ht_target_free(h, added[i]);
	if (svc_new)
		fg_ht_svc_free(h, svc);
}

/* fg_health_sync - see the header. */
int fg_health_sync(struct fg_health *h, const char *service,
		   const struct fg_rule_health *cfg,
		   const struct fg_rule_backend *backends, size_t n,
		   uint16_t default_port)
{
	struct fg_htarget **added = NULL, *t, *next;
	struct fg_hsvc *svc;
	size_t i, nadded = 0, kept = 0, len;
	bool svc_new = false, resched;
	uint32_t spread;
	int ret;

	if (!h || !service || !cfg || (n && !backends))
		return -EINVAL;
	len = strnlen(service, FG_NAME_MAX);
	if (len == 0 || len == FG_NAME_MAX)
		return -EINVAL;
	if (cfg->type == FG_HEALTH_NONE || n == 0) {
		svc = fg_ht_svc_find(h, service);
		if (svc)
			fg_ht_svc_free(h, svc);
		return 0;
	}
	ret = fg_ht_cfg_check(cfg);
	if (ret)
		return ret;
	if (n > FG_HEALTH_TARGETS_MAX)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		int fam = backends[i].addr.family;

		if ((fam != AF_INET && fam != AF_INET6) ||
		    fg_ht_port(cfg, &backends[i], default_port) == 0)
			return -EINVAL;
	}

	svc = fg_ht_svc_find(h, service);
	if (!svc) {
		svc = calloc(1, sizeof(*svc));
		if (!svc)
			return -ENOMEM;
		memcpy(svc->name, service, len + 1);
		svc->cfg = *cfg;
		svc->next = h->svcs;
		h->svcs = svc;
		svc_new = true;
	}
	added = malloc(n * sizeof(*added));
	if (!added) {
		ret = -ENOMEM;
		goto undo;
	}
	/* Growing first keeps the table correct if it fails, and chains
	 * short however many targets this sync adds. */
	ret = fg_ht_grow(h, h->count + n);
	if (ret)
		goto undo;

	/* Mark what stays, create what is new (unscheduled until commit). */
	h->gen++;
	for (i = 0; i < n; i++) {
		uint16_t port = fg_ht_port(cfg, &backends[i], default_port);

		t = fg_ht_find(h, svc, &backends[i].addr, port);
		if (t) {
			if (t->seen_gen != h->gen) {
				t->seen_gen = h->gen;
				kept++;
			}
			continue;
		}
		t = fg_ht_target_new(h, svc, &backends[i].addr, port);
		if (!t) {
			ret = -ENOMEM;
			goto undo;
		}
		t->seen_gen = h->gen;
		t->fresh = true;
		added[nadded++] = t;
	}
	/* The total once the unlisted targets are gone. */
	if (h->count - (svc->ntargets - kept - nadded) > FG_HEALTH_TARGETS_MAX) {
		ret = -ENOSPC;
		goto undo;
	}

	/* Commit: nothing below fails. */
	resched = svc->cfg.interval_ms != cfg->interval_ms;
	svc->cfg = *cfg;
	spread = cfg->interval_ms < FG_HEALTH_FIRST_SPREAD_MS ?
		 cfg->interval_ms : FG_HEALTH_FIRST_SPREAD_MS;
	for (t = svc->targets; t; t = next) {
		next = t->next;
		if (t->seen_gen != h->gen) {
			fg_ht_target_free(h, t);
		} else if (t->fresh || (resched && !t->started)) {
			/* New, or still waiting for its first probe under
			 * an interval that changed: first probe within the
			 * (new) spread. */
			struct timeval tv = fg_ms_tv(fg_ht_rand(h) % spread);

			t->fresh = false;
			evtimer_add(t->timer, &tv);
		} else if (resched && t->phase == FG_HT_IDLE) {
			fg_ht_schedule(t);
		}
	}
	free(added);
	return 0;

undo:
	fg_ht_rollback(h, svc, svc_new, added, nadded);
	free(added);
	return ret;
}

/* fg_ht_lookup - the target (service, addr, port) or NULL. */
static struct fg_htarget *fg_ht_lookup(struct fg_health *h,
				       const char *service,
				       const struct fg_addr *addr,
				       uint16_t port)
{
	struct fg_hsvc *svc = fg_ht_svc_find(h, service);

	if (!svc || (addr->family != AF_INET && addr->family != AF_INET6))
		return NULL;
	return fg_ht_find(h, svc, addr, port);
}

/* fg_health_get - see the header. */
int fg_health_get(struct fg_health *h, const char *service,
		  const struct fg_addr *addr, uint16_t port, bool *up)
{
	struct fg_htarget *t;

	if (!h || !service || !addr || !up)
		return -EINVAL;
	t = fg_ht_lookup(h, service, addr, port);
	if (!t)
		return -ENOENT;
	*up = t->up;
	return 0;
}

/* fg_health_get_stats - see the header. */
int fg_health_get_stats(struct fg_health *h, const char *service,
			const struct fg_addr *addr, uint16_t port,
			struct fg_health_stats *st)
{
	struct fg_htarget *t;

	if (!h || !service || !addr || !st)
		return -EINVAL;
	t = fg_ht_lookup(h, service, addr, port);
	if (!t)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->up = t->up;
	st->probing = t->phase != FG_HT_IDLE;
	st->probes = t->probes;
	st->failures = t->failures;
	st->transitions = t->transitions;
	st->streak = t->streak;
	memcpy(st->last_error, t->last_error, sizeof(st->last_error));
	st->local_errors = t->local_errors;
	memcpy(st->last_local_error, t->last_local_error,
	       sizeof(st->last_local_error));
	return 0;
}

/* fg_health_seed - see the header. */
int fg_health_seed(struct fg_health *h, const char *service,
		   const struct fg_addr *addr, uint16_t port, bool up)
{
	struct fg_htarget *t;

	if (!h || !service || !addr)
		return -EINVAL;
	t = fg_ht_lookup(h, service, addr, port);
	if (!t)
		return -ENOENT;
	if (t->up != up) {
		t->up = up;
		/* The next results start a fresh streak towards rise or
		 * fall from the seeded state. */
		t->streak = 0;
	}
	return 0;
}

/* fg_health_nofile - see the header. */
rlim_t fg_health_nofile(unsigned int targets)
{
	if (targets > FG_HEALTH_TARGETS_MAX)
		targets = FG_HEALTH_TARGETS_MAX;
	return (rlim_t)targets + FG_HEALTH_NOFILE_RESERVE;
}

/* fg_health_raise_nofile - see the header. */
int fg_health_raise_nofile(unsigned int targets, char *err, size_t errlen)
{
	rlim_t need = fg_health_nofile(targets);
	struct rlimit rl, want;
	int hard_err;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s",
			 strerror(errno));
		return -errno;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		want.rlim_cur = need;
		want.rlim_max = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want)) {
			snprintf(err, errlen,
				 "setrlimit(RLIMIT_NOFILE, %llu): %s",
				 (unsigned long long)need, strerror(errno));
			return -errno;
		}
		return 0;
	}
	/* The hard limit is short: raising it takes CAP_SYS_RESOURCE (the
	 * daemon runs as root); without it take what the hard limit
	 * allows and say how far that falls short. */
	want.rlim_cur = need;
	want.rlim_max = need;
	if (!setrlimit(RLIMIT_NOFILE, &want))
		return 0;
	hard_err = errno;
	want.rlim_cur = rl.rlim_max;
	want.rlim_max = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want)) {
		snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s",
			 (unsigned long long)rl.rlim_max, strerror(errno));
		return -errno;
	}
	snprintf(err, errlen,
		 "RLIMIT_NOFILE is %llu (the hard limit; raising it: %s), below the %llu descriptors %u health-check targets need: probes beyond it get no result until it is raised (LimitNOFILE=%llu)",
		 (unsigned long long)rl.rlim_max, strerror(hard_err),
		 (unsigned long long)need, targets, (unsigned long long)need);
	return -EMFILE;
}

/* fg_health_count - see the header. */
size_t fg_health_count(const struct fg_health *h)
{
	return h ? h->count : 0;
}
