// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dpdk_ctl_srv.c - the control channel's server, as floodgate-dpdk's
 * main lcore runs it: non-blocking, one client at a time, every answer
 * queued and sent as the socket takes it (a 4 MiB STATE never stalls
 * the main lcore behind a slow reader).
 *
 * A pushed set is decoded here and handed to the process, which builds
 * its tables, switches the workers under RCU and says how it went
 * (fg_dpdk_ctl_server_installed): only then does the client hear ACK,
 * so an ACK means every worker runs the new version.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fg_dpdk_ctl.h"
#include "fg_dpdk_ctl_wire.h"
#include "fg_err.h"

/* Messages read per poll: the main lcore returns to its other work. */
#define FG_SRV_READS_PER_POLL 256U
#define FG_SRV_ACCEPTS_PER_POLL 4U

struct fg_dpdk_ctl_server {
	struct fg_dpdk_ctl_server_opts o;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char origin_path[PATH_MAX];
	int lfd, cfd;
	bool hello_seen;
	uint32_t client_pid;
	char client_name[FG_DPDK_CTL_TEXT_MAX];
	uint64_t instance;

	struct fg_dpdk_ctl_set *cur;      /* installed */
	struct fg_dpdk_ctl_set *pending;  /* decoded, awaiting install */
	uint32_t pending_seq;

	struct fg_dpdk_ctl_rx rx;
	struct fg_dpdk_ctl_buf outq;      /* whole messages, in order */
	size_t out_off;
	uint8_t msg[FG_DPDK_CTL_MSG_MAX];

	struct fg_dpdk_ctl_counters *ctr; /* scratch for collect */
	struct fg_dpdk_ctl_counters *zero; /* per id: the count it started at */
	struct fg_dpdk_ctl_stock stock;    /* the exchange's scratch */

	bool has_origin;
	uint64_t o_cluster, o_revision, o_version;
};

static void fg_srv_note(struct fg_dpdk_ctl_server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fg_srv_note(struct fg_dpdk_ctl_server *srv, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!srv->o.note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srv->o.note(srv->o.arg, msg);
}

/* ------------------------------------------------------------ origin */

static void fg_srv_origin_load(struct fg_dpdk_ctl_server *srv)
{
	unsigned long long c, r, v;
	char buf[256], tail;
	ssize_t n;
	int fd;

	fd = open(srv->origin_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "cluster_id %16llx\nrevision %llu\nversion %llu\n%c",
		   &c, &r, &v, &tail) != 3) {
		fg_srv_note(srv, "origin file %s: not understood; ignored",
			    srv->origin_path);
		return;
	}
	srv->has_origin = true;
	srv->o_cluster = c;
	srv->o_revision = r;
	srv->o_version = v;
}

/* Write the origin file anew (tmp + rename: never half a file); clear
 * it for a zero origin. 0 or -errno. */
static int fg_srv_origin_save(struct fg_dpdk_ctl_server *srv)
{
	char tmp[PATH_MAX + 8], buf[256];
	int fd, len, ret = 0;

	if (!srv->has_origin) {
		if (unlink(srv->origin_path) && errno != ENOENT)
			return -errno;
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", srv->origin_path);
	len = snprintf(buf, sizeof(buf),
		       "cluster_id %016" PRIx64 "\nrevision %" PRIu64
		       "\nversion %" PRIu64 "\n",
		       srv->o_cluster, srv->o_revision, srv->o_version);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, srv->origin_path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* ------------------------------------------------------------ socket */

/* mkdir -p of path's directory (0755). 0 or -errno. */
static int fg_srv_mkdirs(const char *path)
{
	char dir[PATH_MAX], *slash, *p, c;
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

/* The socket file at path: a live server there is -EADDRINUSE, a stale
 * socket is removed, anything else is -EEXIST. */
static int fg_srv_clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (!rc)
		return -EADDRINUSE;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

struct fg_dpdk_ctl_server *
fg_dpdk_ctl_server_new(const struct fg_dpdk_ctl_server_opts *o, int *errp,
		       char *err, size_t errlen)
{
	struct fg_dpdk_ctl_server *srv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	if (!o || !o->path || !o->collect ||
	    strlen(o->path) >= sizeof(sa.sun_path) || o->path[0] != '/') {
		*errp = fg_fail(err, errlen, -EINVAL,
				"control socket: an absolute path under %zu bytes "
				"and a counter callback are required",
				sizeof(sa.sun_path));
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		*errp = fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	srv->lfd = srv->cfd = -1;
	srv->o = *o;
	snprintf(srv->path, sizeof(srv->path), "%s", o->path);
	srv->o.path = srv->path;
	if (snprintf(srv->origin_path, sizeof(srv->origin_path), "%s",
		     o->origin_path ? o->origin_path : o->path) >=
		    (int)sizeof(srv->origin_path) - 8) {
		ret = fg_fail(err, errlen, -ENAMETOOLONG, "origin path too long");
		goto fail;
	}
	if (!o->origin_path)
		strcat(srv->origin_path, ".origin");
	srv->o.origin_path = srv->origin_path;
	srv->cur = fg_dpdk_ctl_set_empty();
	srv->ctr = calloc(1, sizeof(*srv->ctr));
	srv->zero = calloc(1, sizeof(*srv->zero));
	if (!srv->cur || !srv->ctr || !srv->zero) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	if (getrandom(&srv->instance, sizeof(srv->instance), 0) !=
	    sizeof(srv->instance))
		srv->instance = (uint64_t)getpid() << 32 ^
				(uint64_t)fg_dpdk_ctl_now_ms();

	memcpy(sa.sun_path, srv->path, strlen(srv->path) + 1);
	ret = fg_srv_mkdirs(srv->path);
	if (ret) {
		fg_fail(err, errlen, ret, "control socket %s: directory: %s",
			srv->path, strerror(-ret));
		goto fail;
	}
	ret = fg_srv_clear_path(srv->path, &sa);
	if (ret) {
		fg_fail(err, errlen, ret, "control socket %s: %s", srv->path,
			ret == -EADDRINUSE ? "another floodgate-dpdk answers there" :
			ret == -EEXIST ? "exists and is not a socket" :
			strerror(-ret));
		goto fail;
	}
	srv->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (srv->lfd < 0 ||
	    bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    /* Before listen: nobody can connect while it is still open to
	     * the umask's mode. */
	    chmod(srv->path, 0600) || listen(srv->lfd, 4)) {
		ret = -errno;
		fg_fail(err, errlen, ret, "control socket %s: %s", srv->path,
			strerror(errno));
		if (srv->lfd >= 0)
			unlink(srv->path);
		goto fail;
	}
	fg_srv_origin_load(srv);
	return srv;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	srv->lfd = -1;
	srv->path[0] = '\0';
	fg_dpdk_ctl_server_free(srv);
	*errp = ret;
	return NULL;
}

static void fg_srv_drop_client(struct fg_dpdk_ctl_server *srv, const char *why)
{
	if (srv->cfd < 0)
		return;
	fg_srv_note(srv, "control client %s (pid %u) gone: %s",
		    srv->client_name[0] ? srv->client_name : "?",
		    srv->client_pid, why);
	close(srv->cfd);
	srv->cfd = -1;
	srv->hello_seen = false;
	srv->client_pid = 0;
	srv->client_name[0] = '\0';
	fg_dpdk_ctl_rx_reset(&srv->rx);
	fg_dpdk_ctl_buf_free(&srv->outq);
	srv->out_off = 0;
}

void fg_dpdk_ctl_server_free(struct fg_dpdk_ctl_server *srv)
{
	if (!srv)
		return;
	if (srv->cfd >= 0)
		close(srv->cfd);
	if (srv->lfd >= 0) {
		close(srv->lfd);
		unlink(srv->path);
	}
	fg_dpdk_ctl_rx_reset(&srv->rx);
	fg_dpdk_ctl_buf_free(&srv->outq);
	fg_dpdk_ctl_set_free(srv->cur);
	fg_dpdk_ctl_set_free(srv->pending);
	if (srv->ctr)
		fg_dpdk_ctl_counters_clear(srv->ctr);
	free(srv->ctr);
	free(srv->zero);
	fg_dpdk_ctl_stock_clear(&srv->stock);
	free(srv);
}

const struct fg_dpdk_ctl_set *
fg_dpdk_ctl_server_set(const struct fg_dpdk_ctl_server *srv)
{
	return srv ? srv->cur : NULL;
}

/* ----------------------------------------------------------- sending */

/* Send what the queue holds, as far as the socket takes it. */
static void fg_srv_flush(struct fg_dpdk_ctl_server *srv)
{
	while (srv->cfd >= 0 && srv->out_off < srv->outq.len) {
		const uint8_t *p = srv->outq.p + srv->out_off;
		size_t len = FG_DPDK_CTL_HDR +
			     ((size_t)p[12] | (size_t)p[13] << 8 |
			      (size_t)p[14] << 16 | (size_t)p[15] << 24);
		ssize_t n = send(srv->cfd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fg_srv_drop_client(srv, strerror(errno));
			return;
		}
		srv->out_off += len;
	}
	if (srv->out_off && srv->out_off == srv->outq.len) {
		srv->outq.len = 0;
		srv->out_off = 0;
	}
}

static void fg_srv_queue(struct fg_dpdk_ctl_server *srv, uint8_t type,
			 uint32_t seq, const struct fg_dpdk_ctl_buf *b)
{
	if (fg_dpdk_ctl_msg(&srv->outq, type, 0, seq, b->p, b->len))
		fg_srv_drop_client(srv, "out of memory for an answer");
}

static void fg_srv_nack(struct fg_dpdk_ctl_server *srv, uint32_t seq, int code,
			const char *text)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	size_t n = strnlen(text, FG_DPDK_CTL_TEXT_MAX - 1);

	fg_dpdk_ctl_put_u32(&b, (uint32_t)(code < 0 ? -code : code));
	fg_dpdk_ctl_put_u16(&b, (uint16_t)n);
	fg_dpdk_ctl_put(&b, text, n);
	fg_srv_queue(srv, FG_DPDK_CTL_NACK, seq, &b);
	fg_dpdk_ctl_buf_free(&b);
}

static void fg_srv_ack(struct fg_dpdk_ctl_server *srv, uint32_t seq)
{
	struct fg_dpdk_ctl_buf b = { 0 };

	fg_dpdk_ctl_put_u64(&b, srv->cur->version);
	fg_srv_queue(srv, FG_DPDK_CTL_ACK, seq, &b);
	fg_dpdk_ctl_buf_free(&b);
}

/* ---------------------------------------------------------- requests */

static void fg_srv_hello(struct fg_dpdk_ctl_server *srv, uint32_t seq,
			 const uint8_t *p, size_t n)
{
	struct fg_dpdk_ctl_rd r = { .p = p, .n = n };
	struct fg_dpdk_ctl_buf b = { 0 };
	bool origin = srv->has_origin && srv->o_version == srv->cur->version;
	uint8_t len;

	srv->client_pid = fg_dpdk_ctl_get_u32(&r);
	len = fg_dpdk_ctl_get_u8(&r);
	if (r.bad || r.n - r.off != len) {
		fg_srv_nack(srv, seq, -EPROTO, "malformed HELLO");
		fg_srv_flush(srv);
		fg_srv_drop_client(srv, "malformed HELLO");
		return;
	}
	fg_dpdk_ctl_get(&r, srv->client_name, len);
	srv->client_name[len] = '\0';
	srv->hello_seen = true;
	fg_dpdk_ctl_put_u64(&b, srv->instance);
	fg_dpdk_ctl_put_u64(&b, srv->o.settings_id);
	fg_dpdk_ctl_put_u32(&b, (uint32_t)getpid());
	fg_dpdk_ctl_put_u32(&b, srv->o.nworkers);
	fg_dpdk_ctl_put_u32(&b, srv->o.nports);
	fg_dpdk_ctl_put_u64(&b, srv->cur->version);
	fg_dpdk_ctl_put_u8(&b, origin);
	fg_dpdk_ctl_put_u64(&b, origin ? srv->o_cluster : 0);
	fg_dpdk_ctl_put_u64(&b, origin ? srv->o_revision : 0);
	fg_srv_queue(srv, FG_DPDK_CTL_HELLO, seq, &b);
	fg_dpdk_ctl_buf_free(&b);
	fg_srv_note(srv, "control client %s (pid %u) connected; holding version %" PRIu64,
		    srv->client_name, srv->client_pid, srv->cur->version);
}

/* The counters as the client sees them: per id, since the id's first
 * version here. */
static int fg_srv_collect(struct fg_dpdk_ctl_server *srv)
{
	fg_dpdk_ctl_counters_clear(srv->ctr);
	srv->ctr->version = srv->cur->version;
	return srv->o.collect(srv->o.arg, srv->ctr);
}

static uint64_t fg_since(uint64_t now, uint64_t zero)
{
	return now >= zero ? now - zero : 0;
}

static void fg_srv_stats(struct fg_dpdk_ctl_server *srv, uint32_t seq)
{
	struct fg_dpdk_ctl_counters *c = srv->ctr;
	const struct fg_dpdk_ctl_set *s = srv->cur;
	struct fg_dpdk_ctl_buf b = { 0 };
	uint32_t i, id;
	int rc = fg_srv_collect(srv);

	if (rc) {
		fg_srv_nack(srv, seq, rc, "the counters could not be read");
		return;
	}
	for (i = 0; i < s->nsvcs; i++) {
		struct fg_counter *x = &c->svc[id = s->svcs[i].val.id];

		x->packets = fg_since(x->packets, srv->zero->svc[id].packets);
		x->bytes = fg_since(x->bytes, srv->zero->svc[id].bytes);
		x->new_flows = fg_since(x->new_flows, srv->zero->svc[id].new_flows);
	}
	for (i = 0; i < s->nbackends; i++) {
		struct fg_counter *x = &c->be[id = s->backends[i].id];

		x->packets = fg_since(x->packets, srv->zero->be[id].packets);
		x->bytes = fg_since(x->bytes, srv->zero->be[id].bytes);
		x->new_flows = fg_since(x->new_flows, srv->zero->be[id].new_flows);
	}
	for (i = 0; i < s->nlimits; i++) {
		struct fg_limit_counter *x = &c->limit[id = s->limits[i].val.id];

		x->passed = fg_since(x->passed, srv->zero->limit[id].passed);
		x->limited = fg_since(x->limited, srv->zero->limit[id].limited);
	}
	if (fg_dpdk_ctl_encode_stats(c, s, &b) ||
	    fg_dpdk_ctl_frame(&srv->outq, FG_DPDK_CTL_STATS, seq, b.p, b.len))
		fg_srv_drop_client(srv, "out of memory for the counters");
	fg_dpdk_ctl_buf_free(&b);
}

static void fg_srv_state(struct fg_dpdk_ctl_server *srv, uint32_t seq)
{
	struct fg_dpdk_ctl_buf b = { 0 };

	if (fg_dpdk_ctl_encode_full(srv->cur, &b) ||
	    fg_dpdk_ctl_frame(&srv->outq, FG_DPDK_CTL_STATE, seq, b.p, b.len))
		fg_srv_drop_client(srv, "out of memory for the held set");
	fg_dpdk_ctl_buf_free(&b);
}

static void fg_srv_origin(struct fg_dpdk_ctl_server *srv, uint32_t seq,
			  const uint8_t *p, size_t n)
{
	struct fg_dpdk_ctl_rd r = { .p = p, .n = n };
	uint64_t c = fg_dpdk_ctl_get_u64(&r), rev = fg_dpdk_ctl_get_u64(&r);
	char msg[PATH_MAX + 128];
	int rc;

	if (r.bad || r.off != r.n) {
		fg_srv_nack(srv, seq, -EPROTO, "malformed ORIGIN");
		return;
	}
	srv->has_origin = c || rev;
	srv->o_cluster = c;
	srv->o_revision = rev;
	srv->o_version = srv->cur->version;
	rc = fg_srv_origin_save(srv);
	if (rc) {
		snprintf(msg, sizeof(msg), "origin file %s: %s", srv->origin_path,
			 strerror(-rc));
		fg_srv_nack(srv, seq, rc, msg);
		return;
	}
	fg_srv_ack(srv, seq);
}

/* A complete STOCK_REQ body: apply it through the stock callback and
 * answer with what came of it. The scratch keeps its room between
 * exchanges (they come every few milliseconds). */
static void fg_srv_stock(struct fg_dpdk_ctl_server *srv)
{
	struct fg_dpdk_ctl_stock *x = &srv->stock;
	struct fg_dpdk_ctl_buf b = { 0 };
	char err[FG_DPDK_CTL_TEXT_MAX];
	int rc;

	rc = fg_dpdk_ctl_decode_stock_req(srv->rx.b.p, srv->rx.b.len, x, err,
					  sizeof(err));
	fg_dpdk_ctl_buf_free(&srv->rx.b);
	if (rc) {
		fg_srv_note(srv, "refused a stock request: %s", err);
		fg_srv_nack(srv, srv->rx.seq, rc, err);
		return;
	}
	rc = srv->o.stock(srv->o.arg, x);
	if (rc) {
		fg_srv_nack(srv, srv->rx.seq, rc, "the stock exchange failed");
		return;
	}
	if (fg_dpdk_ctl_encode_stock(x, &b) ||
	    fg_dpdk_ctl_frame(&srv->outq, FG_DPDK_CTL_STOCK, srv->rx.seq, b.p,
			      b.len))
		fg_srv_drop_client(srv, "out of memory for the stock answer");
	fg_dpdk_ctl_buf_free(&b);
}

/* A complete FULL or DELTA body: decode it; 1 when a set waits. */
static int fg_srv_body(struct fg_dpdk_ctl_server *srv)
{
	struct fg_dpdk_ctl_set *s = NULL;
	char err[FG_DPDK_CTL_TEXT_MAX];
	int rc;

	err[0] = '\0';
	if (srv->rx.type == FG_DPDK_CTL_FULL)
		rc = fg_dpdk_ctl_decode_full(srv->rx.b.p, srv->rx.b.len, &s, err,
					     sizeof(err));
	else if (srv->rx.type == FG_DPDK_CTL_DELTA)
		rc = fg_dpdk_ctl_decode_delta(srv->cur, srv->rx.b.p,
					      srv->rx.b.len, &s, err, sizeof(err));
	else
		rc = fg_fail(err, sizeof(err), -EPROTO,
			     "message type %u is the server's to send",
			     srv->rx.type);
	fg_dpdk_ctl_buf_free(&srv->rx.b);
	if (rc) {
		fg_srv_note(srv, "refused a %s: %s",
			    srv->rx.type == FG_DPDK_CTL_DELTA ? "DELTA" : "FULL", err);
		fg_srv_nack(srv, srv->rx.seq, rc, err);
		return 0;
	}
	srv->pending = s;
	srv->pending_seq = srv->rx.seq;
	return 1;
}

/* One message from the client. 1: a set waits; 0: go on; -1: stop
 * reading (the client was dropped). */
static int fg_srv_message(struct fg_dpdk_ctl_server *srv, size_t n)
{
	struct fg_dpdk_ctl_hdr h;
	char err[FG_DPDK_CTL_TEXT_MAX];
	const uint8_t *p = srv->msg + FG_DPDK_CTL_HDR;
	int rc;

	rc = fg_dpdk_ctl_hdr_parse(srv->msg, n, &h, err, sizeof(err));
	if (!rc && !srv->hello_seen && h.type != FG_DPDK_CTL_HELLO)
		rc = fg_fail(err, sizeof(err), -EPROTO, "HELLO must come first");
	if (rc) {
		/* The stream's state is unknown after a bad header. */
		fg_srv_nack(srv, n >= 12 ? h.seq : 0, rc, err);
		fg_srv_flush(srv);
		fg_srv_drop_client(srv, err);
		return -1;
	}
	if (srv->rx.active && h.type != srv->rx.type) {
		fg_dpdk_ctl_rx_reset(&srv->rx);
		fg_srv_nack(srv, h.seq, -EPROTO,
			    "another message inside a chunked body");
		fg_srv_flush(srv);
		fg_srv_drop_client(srv, "another message inside a chunked body");
		return -1;
	}
	switch (h.type) {
	case FG_DPDK_CTL_HELLO:
		fg_srv_hello(srv, h.seq, p, h.len);
		return srv->cfd >= 0 ? 0 : -1;
	case FG_DPDK_CTL_FULL:
	case FG_DPDK_CTL_DELTA:
		rc = fg_dpdk_ctl_rx_take(&srv->rx, &h, p, err, sizeof(err));
		if (rc < 0) {
			fg_srv_note(srv, "refused a push: %s", err);
			fg_srv_nack(srv, h.seq, rc, err);
			return 0;
		}
		return rc ? fg_srv_body(srv) : 0;
	case FG_DPDK_CTL_STOCK_REQ:
		if (!srv->o.stock) {
			fg_srv_nack(srv, h.seq, -EOPNOTSUPP,
				    "this process runs no seckill engine");
			return 0;
		}
		rc = fg_dpdk_ctl_rx_take(&srv->rx, &h, p, err, sizeof(err));
		if (rc < 0) {
			fg_srv_note(srv, "refused a stock request: %s", err);
			fg_srv_nack(srv, h.seq, rc, err);
			return 0;
		}
		if (rc)
			fg_srv_stock(srv);
		return 0;
	case FG_DPDK_CTL_STATS_REQ:
		fg_srv_stats(srv, h.seq);
		return 0;
	case FG_DPDK_CTL_STATE_REQ:
		fg_srv_state(srv, h.seq);
		return 0;
	case FG_DPDK_CTL_ORIGIN:
		fg_srv_origin(srv, h.seq, p, h.len);
		return 0;
	default:
		fg_srv_nack(srv, h.seq, -EPROTO, "a message only the server sends");
		return 0;
	}
}

static void fg_srv_accept(struct fg_dpdk_ctl_server *srv)
{
	unsigned int k;

	for (k = 0; k < FG_SRV_ACCEPTS_PER_POLL; k++) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
		    (cr.uid != 0 && cr.uid != geteuid())) {
			fg_srv_note(srv, "control socket: refused a client of uid %d",
				    len == sizeof(cr) ? (int)cr.uid : -1);
			close(fd);
			continue;
		}
		if (srv->cfd >= 0) {
			struct fg_dpdk_ctl_buf b = { 0 }, m = { 0 };
			char text[FG_DPDK_CTL_TEXT_MAX];
			int n = snprintf(text, sizeof(text),
					 "busy: %s (pid %u) is connected",
					 srv->client_name, srv->client_pid);

			fg_dpdk_ctl_put_u32(&b, EBUSY);
			fg_dpdk_ctl_put_u16(&b, (uint16_t)n);
			fg_dpdk_ctl_put(&b, text, (size_t)n);
			/* Best effort: it learns from the close otherwise. */
			if (!fg_dpdk_ctl_msg(&m, FG_DPDK_CTL_NACK, 0, 0, b.p, b.len)) {
				ssize_t sent = send(fd, m.p, m.len,
						    MSG_DONTWAIT | MSG_NOSIGNAL);

				(void)sent;
			}
			fg_dpdk_ctl_buf_free(&b);
			fg_dpdk_ctl_buf_free(&m);
			fg_srv_note(srv, "control socket: refused a second client (pid %d)",
				    (int)cr.pid);
			close(fd);
			continue;
		}
		srv->cfd = fd;
		srv->hello_seen = false;
	}
}

int fg_dpdk_ctl_server_poll(struct fg_dpdk_ctl_server *srv,
			    const struct fg_dpdk_ctl_set **out)
{
	unsigned int k;
	int rc = 0;

	*out = NULL;
	fg_srv_flush(srv);
	if (srv->pending) {
		*out = srv->pending;
		return 1;
	}
	/* The client's messages before new connections: a floodgated that
	 * restarts closes the old one just before it connects anew, and
	 * the close must be seen first or the new one is refused as a
	 * second client. */
	for (k = 0; srv->cfd >= 0 && k < FG_SRV_READS_PER_POLL; k++) {
		ssize_t n = recv(srv->cfd, srv->msg, sizeof(srv->msg),
				 MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fg_srv_drop_client(srv, strerror(errno));
			break;
		}
		if (n == 0) {
			fg_srv_drop_client(srv, "closed");
			break;
		}
		if ((size_t)n > sizeof(srv->msg)) {
			fg_srv_nack(srv, 0, -EMSGSIZE, "message beyond 64 KiB");
			fg_srv_flush(srv);
			fg_srv_drop_client(srv, "message beyond 64 KiB");
			break;
		}
		rc = fg_srv_message(srv, (size_t)n);
		if (rc)
			break;
	}
	if (rc != 1)
		fg_srv_accept(srv);
	fg_srv_flush(srv);
	if (rc == 1) {
		*out = srv->pending;
		return 1;
	}
	return 0;
}

/* s becomes the held set; the counters of the ids it uses first are
 * taken as their zero. */
static void fg_srv_take(struct fg_dpdk_ctl_server *srv, struct fg_dpdk_ctl_set *s)
{
	uint32_t i, j, id;

	/* Ids this version uses first count from here (what the XDP
	 * dataplane does by zeroing them): the workers' counters are
	 * theirs alone to write. */
	if (!fg_srv_collect(srv)) {
		for (i = 0; i < s->nsvcs; i++)
			if (fg_dpdk_ctl_set_service(srv->cur, id = s->svcs[i].val.id) < 0)
				srv->zero->svc[id] = srv->ctr->svc[id];
		for (i = 0; i < s->nbackends; i++)
			if (!fg_dpdk_ctl_set_backend(srv->cur, id = s->backends[i].id))
				srv->zero->be[id] = srv->ctr->be[id];
		for (i = 0; i < s->nlimits; i++) {
			bool held = false;

			id = s->limits[i].val.id;
			for (j = 0; j < srv->cur->nlimits; j++)
				held |= srv->cur->limits[j].val.id == id;
			if (!held)
				srv->zero->limit[id] = srv->ctr->limit[id];
		}
	}
	fg_dpdk_ctl_set_free(srv->cur);
	srv->cur = s;
}

int fg_dpdk_ctl_server_hold(struct fg_dpdk_ctl_server *srv,
			    struct fg_dpdk_ctl_set *s)
{
	if (!srv || !s || fg_dpdk_ctl_set_check(s, NULL, 0))
		return -EINVAL;
	if (srv->pending)
		return -EBUSY;
	fg_srv_take(srv, s);
	return 0;
}

int fg_dpdk_ctl_server_installed(struct fg_dpdk_ctl_server *srv, int rc,
				 const char *why)
{
	struct fg_dpdk_ctl_set *s;

	if (!srv || !srv->pending)
		return -EINVAL;
	s = srv->pending;
	srv->pending = NULL;
	if (rc) {
		fg_srv_note(srv, "version %" PRIu64 " not installed: %s",
			    s->version, why ? why : strerror(-rc));
		fg_srv_nack(srv, srv->pending_seq, rc, why ? why : strerror(-rc));
		fg_dpdk_ctl_set_free(s);
		fg_srv_flush(srv);
		return 0;
	}
	fg_srv_take(srv, s);
	fg_srv_ack(srv, srv->pending_seq);
	fg_srv_flush(srv);
	return 0;
}

int fg_dpdk_ctl_server_wait(struct fg_dpdk_ctl_server *srv, int timeout_ms)
{
	struct pollfd p[2];
	nfds_t n = 0;
	int rc;

	p[n].fd = srv->lfd;
	p[n++].events = POLLIN;
	if (srv->cfd >= 0) {
		p[n].fd = srv->cfd;
		p[n].events = (srv->pending ? 0 : POLLIN) |
			      (srv->out_off < srv->outq.len ? POLLOUT : 0);
		n++;
	}
	rc = poll(p, n, timeout_ms);
	return rc < 0 ? -errno : rc;
}
