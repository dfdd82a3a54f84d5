// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dp_dpdk.c - the DPDK dataplane behind the daemon's driver interface
 * (fg_dataplane.h): floodgate-dpdk, driven over its control socket.
 *
 * The driver owns the rule compiler (ids stable across versions, as with
 * XDP) and a mirror of the set the process holds. On connect it pushes
 * the mirror whole (FULL: the process may have restarted with other
 * tables), or, when it has none yet, adopts the process's set: its ids
 * go into the compiler, so a restarted floodgated keeps every id and the
 * flows that name them. An apply compiles (or takes the compile its
 * check made), pushes the entries that changed since the mirror (DELTA),
 * and commits once the process answers that every worker runs the new
 * set. A push that fails on the channel leaves the outcome unknown: the
 * connection is dropped, and the next call pushes the mirror whole, so
 * the previous set is what runs, as the driver interface promises.
 *
 * Counters come from one STATS answer, reused for FG_DP_DPDK_STATS_MS:
 * /v1/stats and /metrics read every service, backend and limit in one
 * walk, and that walk costs one round trip.
 *
 * The process itself (dataplane.dpdk): with mode "attach" someone else
 * runs it; with "start" the driver starts it (posix_spawn, a session of
 * its own, so it outlives floodgated as a pinned XDP program does), and
 * records its pid beside the control socket, so that a restarted
 * floodgated adopts the one that runs, or waits for the one that is
 * starting, instead of starting a second. fg_dp_dpdk_step() is the
 * supervision, one step at a time, for the daemon's loop (fg_dp_sup.c):
 * it notices a process that went away, starts it again with backoff (or
 * reconnects with backoff, attach), and pushes the whole set to the one
 * that answers. Nothing here blocks longer than a connect.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fg_boot.h"
#include "fg_compile.h"
#include "fg_dataplane.h"
#include "fg_dp_dpdk.h"
#include "fg_dpdk_ctl.h"
#include "fg_l7_ship.h"
#include "fg_err.h"

#define FG_DP_DPDK_STATS_MS 200
/* Supervision: how often a connected process's channel is looked at
 * when nothing else says it went away (a process outside floodgated's
 * pid namespace); how often a starting one is asked whether it answers;
 * restart and reconnect backoff. A process that answered for
 * FG_DD_STABLE_MS was a good start: the next death restarts it at once. */
#define FG_DD_CHECK_MS 1000
#define FG_DD_POLL_MS 50
#define FG_DD_STABLE_MS 10000
#define FG_DD_RESTART_MIN_MS 500
#define FG_DD_RESTART_MAX_MS 30000
#define FG_DD_ATTACH_MIN_MS 100
#define FG_DD_ATTACH_MAX_MS 5000
#define FG_DD_STOP_MS 10000      /* --detach: SIGTERM, then SIGKILL */

extern char **environ;

enum fg_dd_state {
	FG_DD_DOWN = 0,   /* nothing answers; next_at: start or connect */
	FG_DD_STARTING,   /* started (or found starting): not answering yet */
	FG_DD_UP,         /* connected */
};

struct fg_dp_dpdk {
	char path[FG_BOOT_SUN_PATH_MAX];
	char who[FG_NAME_MAX + 16];
	int timeout_ms;
	struct fg_compiler *comp;
	bool may_adopt;                  /* no set of ours yet, not replace */
	struct fg_dpdk_ctl_client *cl;   /* NULL: not connected */
	struct fg_dpdk_ctl_hello hello;
	struct fg_dpdk_ctl_set *mirror;  /* what the process holds */
	bool synced;                     /* ... on this connection */
	struct fg_compiled *checked;
	uint64_t checked_tag;
	struct fg_svc_slot *svc_img;     /* probe check of the services */
	struct fg_dpdk_ctl_counters *ctr;
	struct fg_dp_item_stats *items;  /* seckill_stats' answer */
	double ctr_at;
	bool ctr_ok;
	double ctr_fail_at;              /* the last STATS that failed */
	int ctr_fail_rc;
	struct fg_dp_dpdk_info info;
	uint64_t stock_conn;             /* connects at the last stock
					  * exchange */

	/* The process (dataplane.dpdk). */
	enum fg_boot_dpdk_mode mode;
	enum fg_dd_state state;
	char exec[PATH_MAX];
	/* exec's real path when floodgated started, the name the kernel
	 * gives a process's executable once it was replaced or removed
	 * ("PATH (deleted)"): fg_dd_is_ours. */
	char exec_real[PATH_MAX];
	char **argv;              /* exec's, NULL-terminated */
	char *args;               /* the boot file's, argv points into it */
	char log_path[PATH_MAX];
	char pid_path[PATH_MAX];
	int start_timeout_ms;
	pid_t child;              /* started by this floodgated, not reaped */
	uint32_t pid;             /* the process's; 0: none known */
	bool started;             /* by floodgated (its pid file names it) */
	bool ever_up;
	uint64_t starts, restarts, reconnects;
	unsigned fails;           /* starts or connects in a row that failed */
	double since;             /* state entered */
	double next_at;           /* DOWN: when to start or connect next */
	char last_exit[128];
	bool opening;             /* in open: a failed start fails open */
	/* Who watches the process from the loop (fg_dp_sup.c): released
	 * first by close. */
	void (*watch_release)(void *arg);
	void *watch_arg;
};

static void fg_dd_answered(struct fg_dp_dpdk *d);

static struct fg_dp_dpdk *fg_d(struct fg_dataplane *dp)
{
	return dp->priv;
}

static double fg_dd_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Forget the connection (the next call connects again). */
static void fg_dd_drop(struct fg_dp_dpdk *d)
{
	fg_dpdk_ctl_client_close(d->cl);
	d->cl = NULL;
	d->synced = false;
	d->ctr_ok = false;
}

/* Whether rc says the channel itself failed (not a refusal). */
static bool fg_dd_channel_error(int rc)
{
	return rc == -ETIMEDOUT || rc == -EPIPE || rc == -ECONNRESET ||
	       rc == -EPROTO || rc == -ENOTCONN || rc == -EBADMSG ||
	       rc == -EPROTONOSUPPORT || rc == -ECONNREFUSED || rc == -ENOENT;
}

/* After a failed exchange: a channel failure leaves the connection in
 * no known state, so it is dropped (the next call connects again); an
 * answer the process gave keeps it. Returns rc. */
static int fg_dd_failed(struct fg_dp_dpdk *d, int rc)
{
	if (fg_dd_channel_error(rc))
		fg_dd_drop(d);
	return rc;
}

/*
 * Push set s (whole, or as the change from the mirror when the process
 * holds it) and wait for the ACK of its version. 0 or -errno with a
 * message; a channel failure drops the connection.
 */
static int fg_dd_push(struct fg_dp_dpdk *d, const struct fg_dpdk_ctl_set *s,
		      char *err, size_t errlen)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	bool delta = d->synced && d->mirror;
	uint64_t sent0, applied = 0;
	double t0 = fg_dd_ms(), t1;
	int rc;

again:
	b.len = 0;
	rc = delta ? fg_dpdk_ctl_encode_delta(d->mirror, s, &b) :
		     fg_dpdk_ctl_encode_full(s, &b);
	t1 = fg_dd_ms();
	if (rc) {
		fg_dpdk_ctl_buf_free(&b);
		return fg_fail(err, errlen, rc, "out of memory encoding the tables");
	}
	sent0 = fg_dpdk_ctl_client_sent(d->cl);
	rc = fg_dpdk_ctl_client_push(d->cl, delta ? FG_DPDK_CTL_DELTA :
				     FG_DPDK_CTL_FULL, &b, &applied, err, errlen);
	if (rc == -ESTALE && delta) {
		/* The process holds another version than we think: whole. */
		delta = false;
		goto again;
	}
	if (!rc && applied != s->version)
		rc = fg_fail(err, errlen, -EPROTO,
			     "floodgate-dpdk acknowledged version %llu, not %llu",
			     (unsigned long long)applied,
			     (unsigned long long)s->version);
	if (!rc) {
		d->info.last_type = delta ? FG_DPDK_CTL_DELTA : FG_DPDK_CTL_FULL;
		d->info.last_body = b.len;
		d->info.last_bytes = fg_dpdk_ctl_client_sent(d->cl) - sent0;
		d->info.last_encode_ms = t1 - t0;
		d->info.last_ms = fg_dd_ms() - t0;
		d->info.process_version = applied;
		delta ? d->info.deltas++ : d->info.fulls++;
		d->hello.version = applied;
		/* The process reports an origin only with the version it
		 * was recorded for: a new version has none until told. */
		d->hello.has_origin = false;
		d->ctr_ok = false;
	} else {
		fg_dd_failed(d, rc);
	}
	fg_dpdk_ctl_buf_free(&b);
	return rc;
}

/*
 * fg_dd_wire_rings - the offsets of s's rings as the process is told
 * them: none. The process lays its rings out itself (fg_dp_tables_new
 * puts them one after the other) and only reads a ring's slots; the
 * compiler's offsets are its own (XDP's one ring array, written beside
 * the live generation). An adopted compiler does not know what the
 * rings it adopted were built from, so its first compile builds every
 * one again in new places: with the offsets on the wire, that DELTA
 * would rewrite every service's entry though no ring changed.
 */
static void fg_dd_wire_rings(struct fg_dpdk_ctl_set *s)
{
	uint32_t i;

	for (i = 0; i < s->nsvcs; i++)
		s->svcs[i].val.ring_off = 0;
}

/* The compiler's adoption of set s (the process's). 0 or -errno. */
static int fg_dd_adopt(struct fg_dp_dpdk *d, const struct fg_dpdk_ctl_set *s,
		       char *err, size_t errlen)
{
	struct fg_adopt_svc *sv = calloc(s->nsvcs + 1, sizeof(*sv));
	struct fg_adopt_backend *be = calloc(s->nbackends + 1, sizeof(*be));
	struct fg_adopt_limit *li = calloc(s->nlimits + 1, sizeof(*li));
	struct fg_adopt a = { .gen = s->gen, .version = s->version,
			      .nsvcs = s->nsvcs, .svcs = sv,
			      .nbackends = s->nbackends, .backends = be,
			      .nlimits = s->nlimits, .limits = li };
	uint32_t i, off = 0;
	int rc;

	if (!sv || !be || !li) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nsvcs; i++) {
		sv[i].name = s->svcs[i].name;
		sv[i].key = s->svcs[i].key;
		sv[i].val = s->svcs[i].val;
		/* The wire's offsets mean nothing (fg_dd_wire_rings): the
		 * compiler gets the rings one after the other, as the
		 * process lays them out. */
		sv[i].val.ring_off = off;
		off += sv[i].val.ring_size;
	}
	for (i = 0; i < s->nbackends; i++) {
		be[i].id = s->backends[i].id;
		be[i].val = s->backends[i].val;
	}
	for (i = 0; i < s->nlimits; i++) {
		li[i].name = s->limits[i].name;
		li[i].id = s->limits[i].val.id;
	}
	rc = fg_compiler_adopt(d->comp, &a, err, errlen);
out:
	free(sv);
	free(be);
	free(li);
	return rc;
}

/*
 * Be connected, and in step: the first connection of a driver with no
 * set of its own adopts the process's; any other pushes the mirror
 * whole. *what (may be NULL) receives what happened, for open's setup.
 * 0 or -errno with a message.
 */
static int fg_dd_connect(struct fg_dp_dpdk *d, char *what, size_t wlen,
			 char *err, size_t errlen)
{
	struct fg_dpdk_ctl_set *s = NULL;
	int rc = 0;

	if (what && wlen)
		what[0] = '\0';
	if (d->cl && !fg_dpdk_ctl_client_alive(d->cl))
		fg_dd_drop(d); /* the process went away since */
	if (d->cl)
		return 0;
	d->cl = fg_dpdk_ctl_client_connect(d->path, d->who, d->timeout_ms,
					   &d->hello, &rc, err, errlen);
	if (!d->cl)
		return rc;
	d->info.connects++;
	d->info.process_version = d->hello.version;
	fg_dd_answered(d);
	if (d->may_adopt && !d->mirror) {
		d->may_adopt = false;
		if (!d->hello.version)
			return 0; /* nothing runs: the first apply pushes */
		rc = fg_dpdk_ctl_client_state(d->cl, &s, err, errlen);
		if (!rc)
			rc = fg_dd_adopt(d, s, err, errlen);
		if (rc) {
			fg_dd_failed(d, rc);
			fg_dpdk_ctl_set_free(s);
			if (what && wlen)
				snprintf(what, wlen, "could not adopt version %llu "
					 "(%s): the first apply pushes a set of its own",
					 (unsigned long long)d->hello.version, err);
			return d->cl ? 0 : rc;
		}
		d->mirror = s;
		d->synced = true;
		if (what && wlen)
			snprintf(what, wlen, "adopted version %llu (%u services, "
				 "%u backends, %u limits)",
				 (unsigned long long)s->version, s->nsvcs,
				 s->nbackends, s->nlimits);
		return 0;
	}
	if (!d->mirror)
		return 0;
	rc = fg_dd_push(d, d->mirror, err, errlen);
	if (!rc) {
		d->synced = true;
		if (what && wlen)
			snprintf(what, wlen, "pushed version %llu whole",
				 (unsigned long long)d->mirror->version);
	}
	return rc;
}

/* ------------------------------------------------------------ process */

/* fg_dd_pidfile_read - the pid the pid file names, 0 when none. */
static pid_t fg_dd_pidfile_read(const struct fg_dp_dpdk *d)
{
	char buf[32];
	ssize_t n;
	long v;
	int fd = open(d->pid_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v < INT32_MAX ? (pid_t)v : 0;
}

/* fg_dd_pidfile_write - record pid (a new file renamed over the old one:
 * a reader never sees half of it). 0 or -errno. */
static int fg_dd_pidfile_write(const struct fg_dp_dpdk *d, pid_t pid)
{
	char tmp[PATH_MAX + 8], buf[32];
	int fd, n, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", d->pid_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)n) != n)
		rc = -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, d->pid_path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * fg_dd_is_ours - pid is a live process running our executable (not a
 * pid the kernel gave to another program since): the very file, or one
 * that stood at its path and was replaced since (an upgrade renames the
 * new executable over the old while the process runs: the kernel then
 * names the old "PATH (deleted)"). Without the second, floodgated
 * --detach left an upgraded node's process running (test_dpdk_daemon
 * 9), and a floodgated that lost its channel to that process would take
 * it for gone and start a second one.
 */
static bool fg_dd_is_ours(const struct fg_dp_dpdk *d, pid_t pid)
{
	static const char gone[] = " (deleted)";
	char path[64], exe[PATH_MAX + sizeof(gone)];
	struct stat a, b;
	ssize_t n;

	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (!stat(path, &a) && !stat(d->exec, &b) && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return true;
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= (ssize_t)(sizeof(gone) - 1))
		return false;
	exe[n] = '\0';
	n -= (ssize_t)(sizeof(gone) - 1);
	return !strcmp(exe + n, gone) && (size_t)n == strlen(d->exec_real) &&
	       !strncmp(exe, d->exec_real, (size_t)n);
}

/* fg_dd_mkdirs - make the directories above path (0755), as the
 * process's server does for its socket. */
static void fg_dd_mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return;
		*p = '/';
	}
}

/* fg_dd_exit_text - how a process ended, from waitpid's status. */
static void fg_dd_exit_text(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "ended (status 0x%x)", (unsigned)status);
}

/* fg_dd_reap - collect our child if it ended: true (last_exit says
 * how), false while it runs or when it is not ours. */
static bool fg_dd_reap(struct fg_dp_dpdk *d)
{
	int status;

	if (d->child <= 0 || waitpid(d->child, &status, WNOHANG) != d->child)
		return false;
	fg_dd_exit_text(status, d->last_exit, sizeof(d->last_exit));
	d->child = 0;
	return true;
}

/*
 * fg_dd_log_tail - what the process said before it died, for the log: of
 * its output since floodgated's last "--- floodgated" line, the last two
 * lines it wrote in its own name ("floodgate-dpdk: ..." or "<exec>:
 * ..."; the EAL's usage text around them says less), else its last line.
 * "" when none.
 */
static void fg_dd_log_tail(const struct fg_dp_dpdk *d, char *out, size_t len)
{
	static char buf[16384];
	const char *seg, *ln, *nl, *pick[2] = { NULL, NULL }, *last = NULL;
	size_t el = strlen(d->exec), pl[2] = { 0, 0 }, ll = 0, o = 0, k;
	ssize_t n;
	off_t sz;
	int fd = open(d->log_path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	sz = lseek(fd, 0, SEEK_END);
	n = sz > 0 ? pread(fd, buf, sizeof(buf) - 1,
			   sz > (off_t)sizeof(buf) - 1 ? sz - (off_t)sizeof(buf) + 1 : 0) : 0;
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	seg = buf;
	for (ln = buf; (nl = strstr(ln, "\n--- floodgated ")); ln = nl + 1)
		seg = nl + 1;
	for (ln = seg; *ln; ln = nl ? nl + 1 : ln + strlen(ln)) {
		size_t l;

		nl = strchr(ln, '\n');
		l = nl ? (size_t)(nl - ln) : strlen(ln);
		if (!l || !strncmp(ln, "--- floodgated ", 15))
			continue;
		last = ln;
		ll = l;
		if (!strncmp(ln, "floodgate-dpdk:", 15) ||
		    (el && !strncmp(ln, d->exec, el) && ln[el] == ':')) {
			pick[0] = pick[1];
			pl[0] = pl[1];
			pick[1] = ln;
			pl[1] = l;
		}
	}
	if (!pick[1]) {
		pick[1] = last;
		pl[1] = ll;
	}
	for (k = 0; k < 2; k++) {
		if (!pick[k] || o + 4 >= len)
			continue;
		if (o) {
			memcpy(out + o, " / ", 3);
			o += 3;
		}
		if (pl[k] > len - 1 - o)
			pl[k] = len - 1 - o;
		memcpy(out + o, pick[k], pl[k]);
		o += pl[k];
	}
	out[o] = '\0';
}

/*
 * fg_dd_spawn - start the process: stdin /dev/null, stdout and stderr
 * appended to the log, no descriptor of floodgated's (the API's socket
 * would outlive us in it), default signal dispositions and an empty mask,
 * a session of its own (no signal to floodgated's group or terminal
 * reaches it). 0 (child, pid set; the pid file written) or -errno with a
 * message.
 */
static int fg_dd_spawn(struct fg_dp_dpdk *d, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	char line[256];
	struct timespec ts;
	pid_t pid;
	int fd, rc, n;

	fg_dd_mkdirs(d->log_path);
	fg_dd_mkdirs(d->pid_path);
	fd = open(d->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOCTTY, 0640);
	if (fd < 0)
		return fg_fail(err, errlen, -errno, "cannot open %s: %s",
			       d->log_path, strerror(errno));
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "--- floodgated (pid %d) starts %s at "
		     "%lld (unix time)\n", (int)getpid(), d->exec,
		     (long long)ts.tv_sec);
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0; /* the log is the process's; the start goes on */
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, d->exec, &fa, &at, d->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fd);
	if (rc)
		return fg_fail(err, errlen, -rc, "cannot run %s: %s", d->exec,
			       strerror(rc));
	d->child = pid;
	d->pid = (uint32_t)pid;
	d->started = true;
	d->starts++;
	d->state = FG_DD_STARTING;
	d->since = fg_dd_ms();
	rc = fg_dd_pidfile_write(d, pid);
	if (rc)
		return fg_fail(err, errlen, 0, "started %s (pid %d), but cannot "
			       "write %s (%s): a restarted floodgated will not "
			       "know it", d->exec, (int)pid, d->pid_path,
			       strerror(-rc));
	return 0;
}

/* fg_dd_answered - the process answers on this new connection. */
static void fg_dd_answered(struct fg_dp_dpdk *d)
{
	if (d->ever_up)
		d->reconnects++;
	d->ever_up = true;
	d->state = FG_DD_UP;
	d->since = fg_dd_ms();
	d->pid = d->hello.pid;
	/* Started by a floodgated (this one or an earlier one) when the pid
	 * file names it; else systemd or the operator runs it. */
	d->started = d->mode == FG_BOOT_DPDK_START &&
		     fg_dd_pidfile_read(d) == (pid_t)d->hello.pid;
	if (d->child && d->child != (pid_t)d->hello.pid)
		fg_dd_reap(d);
}

/* fg_dd_backoff - the delay before the next start (or connect, attach)
 * after d->fails failures in a row. */
static int fg_dd_backoff(const struct fg_dp_dpdk *d)
{
	int lo = d->mode == FG_BOOT_DPDK_START ? FG_DD_RESTART_MIN_MS :
						  FG_DD_ATTACH_MIN_MS;
	int hi = d->mode == FG_BOOT_DPDK_START ? FG_DD_RESTART_MAX_MS :
						  FG_DD_ATTACH_MAX_MS;
	unsigned sh = d->fails ? d->fails - 1 : 0;

	if (!d->fails)
		return 0;
	return sh >= 16 || (lo << sh) > hi ? hi : lo << sh;
}

/* fg_dd_went_down - the process stopped answering (state DOWN now).
 * Its exit, when it was our child, goes to last_exit. */
static void fg_dd_went_down(struct fg_dp_dpdk *d, double now)
{
	if (d->state == FG_DD_UP && now - d->since >= FG_DD_STABLE_MS)
		d->fails = 0;
	else
		d->fails++;
	d->last_exit[0] = '\0';
	if (!fg_dd_reap(d) && d->pid && kill((pid_t)d->pid, 0) && errno == ESRCH)
		snprintf(d->last_exit, sizeof(d->last_exit), "ended");
	d->state = FG_DD_DOWN;
	d->since = now;
	d->next_at = now + fg_dd_backoff(d);
}

/*
 * fg_dd_try_connect - one connect to a process that did not answer: 1
 * connected (what says what was pushed), 0 not yet, -errno when it
 * answered and could not be brought in step.
 */
static int fg_dd_try_connect(struct fg_dp_dpdk *d, char *what, size_t wlen,
			     char *err, size_t errlen)
{
	int rc = fg_dd_connect(d, what, wlen, err, errlen);

	if (!rc && d->cl)
		return 1;
	return d->cl || !fg_dd_channel_error(rc) ? rc : 0;
}

static const char *fg_dd_state_name(enum fg_dd_state s)
{
	return s == FG_DD_UP ? "running" : s == FG_DD_STARTING ? "starting" :
	       "down";
}

/* fg_dd_note - msg := the formatted text, *level := lvl. */
static void fg_dd_note(char *msg, size_t len, int *level, int lvl,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fg_dd_note(char *msg, size_t len, int *level, int lvl,
		       const char *fmt, ...)
{
	va_list ap;

	*level = lvl;
	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* The services of cp must fit the process's service table's probe runs
 * (FG_SVC_PROBES slots from each key's first): tried on a scratch copy,
 * as the process will place them. 0 or -EINVAL. */
static int fg_dd_svc_fit(struct fg_dp_dpdk *d, const struct fg_compiled *cp,
			 char *err, size_t errlen)
{
	uint32_t i;

	memset(d->svc_img, 0, FG_SVC_SLOTS * sizeof(*d->svc_img));
	for (i = 0; i < cp->nsvcs; i++)
		if (fg_svc_table_put(d->svc_img, &cp->svcs[i].key,
				     &cp->svcs[i].val))
			return fg_fail(err, errlen, -EINVAL,
				       "services.%s: no free slot among the %u the "
				       "service table probes for its address",
				       cp->svcs[i].name, FG_SVC_PROBES);
	return 0;
}

/* ---------------------------------------------------------------- ops */

static int fg_dd_check(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		       char *err, size_t errlen)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_compiled *cp = NULL;
	int rc;

	if (!rs)
		return fg_fail(err, errlen, -EINVAL, "no rules");
	fg_compiled_free(d->checked);
	d->checked = NULL;
	d->checked_tag = 0;
	rc = fg_compile(d->comp, rs, fg_compiler_version(d->comp) + 1, &cp, err,
			errlen);
	if (!rc)
		rc = fg_dd_svc_fit(d, cp, err, errlen);
	/* Parse once, compile once: a tagged rule set that passes is
	 * applied from this very compile. */
	if (!rc && rs->tag) {
		d->checked = cp;
		d->checked_tag = rs->tag;
		return 0;
	}
	fg_compiled_free(cp);
	return rc;
}

/*
 * fg_dd_l7 - give set s the L7 section of rs (fg_l7_ship.h): the l7
 * rules and the one blob of their matchers, compiled here so that the
 * process never runs hyperscan's compiler; shared with base when
 * unchanged. Nothing for a rule set without l7 services (the compiler
 * refuses l7 rules while the engine has no TCP side: fg_compile.c).
 * 0 or -errno with a message.
 */
static int fg_dd_l7(struct fg_dpdk_ctl_set *s, const struct fg_ruleset *rs,
		    const struct fg_dpdk_ctl_set *base, char *err,
		    size_t errlen)
{
	struct fg_l7_ship sh;
	int rc;

	rc = fg_l7_ship_build(rs, &sh, err, errlen);
	if (rc)
		return rc;
	rc = fg_dpdk_ctl_set_l7(s, sh.rules, sh.rules_len, sh.blob,
				sh.blob_len, base);
	if (rc)
		fg_fail(err, errlen, rc, rc == -ENOMEM ? "out of memory" :
			"the l7 section is larger than the channel carries");
	fg_l7_ship_free(&sh);
	return rc;
}

static int fg_dd_apply(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		       uint64_t version, char *err, size_t errlen)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_dpdk_ctl_set *next = NULL;
	struct fg_compiled *cp = NULL;
	char why[512];
	int rc, e = 0;

	if (!rs)
		return fg_fail(err, errlen, -EINVAL, "no rules");
	rc = fg_dd_connect(d, NULL, 0, why, sizeof(why));
	if (rc) {
		fg_compiled_free(d->checked);
		d->checked = NULL;
		d->checked_tag = 0;
		return fg_fail(err, errlen, rc, "%s (version %llu not applied)",
			       why, (unsigned long long)version);
	}
	/* Whatever adoption found, no set is adopted after this. */
	d->may_adopt = false;
	if (rs->tag && rs->tag == d->checked_tag &&
	    fg_compiled_current(d->comp, d->checked)) {
		cp = d->checked;
		fg_compiled_set_version(cp, version);
	} else {
		fg_compiled_free(d->checked);
		rc = fg_compile(d->comp, rs, version, &cp, err, errlen);
		if (!rc)
			rc = fg_dd_svc_fit(d, cp, err, errlen);
	}
	d->checked = NULL;
	d->checked_tag = 0;
	if (!rc) {
		next = fg_dpdk_ctl_set_from_compiled(cp, d->mirror, &e, err, errlen);
		rc = next ? 0 : e;
		if (next)
			fg_dd_wire_rings(next);
	}
	if (!rc)
		rc = fg_dd_l7(next, rs, d->mirror, err, errlen);
	if (!rc) {
		rc = fg_dd_push(d, next, why, sizeof(why));
		if (rc)
			fg_fail(err, errlen, rc, "%s (version %llu not applied)",
				why, (unsigned long long)version);
	}
	if (rc) {
		fg_dpdk_ctl_set_free(next);
		fg_compiled_free(cp);
		return rc;
	}
	/* Cannot fail: cp was compiled on the current state just now. */
	fg_compiler_commit(d->comp, cp);
	fg_compiled_free(cp);
	fg_dpdk_ctl_set_free(d->mirror);
	d->mirror = next;
	d->synced = true;
	return 0;
}

static uint64_t fg_dd_applied(struct fg_dataplane *dp)
{
	return fg_compiler_version(fg_d(dp)->comp);
}

/* Order of the L7 counters' entries, each of which starts with its
 * name (char[FG_NAME_MAX]). */
static int fg_dd_name_cmp(const void *a, const void *b)
{
	return strncmp(a, b, FG_NAME_MAX);
}

/* The L7 counters' entry named name among n of size bytes, or NULL. */
static const void *fg_dd_l7_find(const void *arr, uint32_t n, size_t size,
				 const char *name)
{
	return n ? bsearch(name, arr, n, size, fg_dd_name_cmp) : NULL;
}

/* A STATS answer at most FG_DP_DPDK_STATS_MS old. 0 or -errno. */
static int fg_dd_stats(struct fg_dp_dpdk *d)
{
	char err[256];
	int rc;

	if (d->ctr_ok && fg_dd_ms() - d->ctr_at < FG_DP_DPDK_STATS_MS)
		return 0;
	/* A walk over every name asks once: while the process is away, the
	 * failure stands for the same while (no connect per name). */
	if (d->ctr_fail_rc && fg_dd_ms() - d->ctr_fail_at < FG_DP_DPDK_STATS_MS)
		return d->ctr_fail_rc;
	d->ctr_fail_rc = 0;
	rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));
	if (!rc)
		rc = fg_dpdk_ctl_client_stats(d->cl, d->ctr, err, sizeof(err));
	if (rc) {
		fg_dd_failed(d, rc);
		d->ctr_ok = false;
		d->ctr_fail_rc = rc;
		d->ctr_fail_at = fg_dd_ms();
		return rc;
	}
	/* The L7 counters come in the engine's order: by name here, so
	 * that a walk over every rule finds each with a search. */
	if (d->ctr->l7) {
		struct fg_dpdk_ctl_l7_counters *x = d->ctr->l7;

		qsort(x->routes, x->nroutes, sizeof(*x->routes), fg_dd_name_cmp);
		qsort(x->limits, x->nlimits, sizeof(*x->limits), fg_dd_name_cmp);
		qsort(x->rules, x->nrules, sizeof(*x->rules), fg_dd_name_cmp);
	}
	d->ctr_ok = true;
	d->ctr_at = fg_dd_ms();
	return 0;
}

/* The fresh counters (fg_dd_stats) for the object the compiler gave id
 * to: 0, id itself when the name is unknown (< 0), or -errno. */
static int fg_dd_stats_of(struct fg_dp_dpdk *d, int id)
{
	return id < 0 ? id : fg_dd_stats(d);
}

static int fg_dd_svc_stats(struct fg_dataplane *dp, const char *service,
			   struct fg_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_service_id(d->comp, service);
	int rc = fg_dd_stats_of(d, id);

	if (!rc)
		*out = d->ctr->svc[id];
	return rc;
}

static int fg_dd_be_stats(struct fg_dataplane *dp, const char *service,
			  const struct fg_addr *addr, uint16_t port,
			  struct fg_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_backend_id(d->comp, service, addr, port);
	int rc = fg_dd_stats_of(d, id);

	if (!rc)
		*out = d->ctr->be[id];
	return rc;
}

/* The L7 counters of the fresh STATS (fg_dd_stats): 0 with *out (NULL
 * when the process runs no L7 engine), or -errno. */
static int fg_dd_l7_stats(struct fg_dp_dpdk *d,
			  const struct fg_dpdk_ctl_l7_counters **out)
{
	int rc = fg_dd_stats(d);

	*out = rc ? NULL : d->ctr->l7;
	return rc;
}

static int fg_dd_lim_stats(struct fg_dataplane *dp, const char *limit,
			   struct fg_limit_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	const struct fg_dpdk_ctl_l7_counters *l7;
	const struct fg_dpdk_ctl_l7_limit *lc;
	int id = fg_compiler_limit_id(d->comp, limit);
	int rc = fg_dd_stats_of(d, id);

	if (!rc) {
		*out = d->ctr->limit[id];
		return 0;
	}
	/* Not an L4 limit: an rps or respond limit, the L7 engine's. */
	if (rc != -ENOENT || (rc = fg_dd_l7_stats(d, &l7)))
		return rc;
	lc = l7 ? fg_dd_l7_find(l7->limits, l7->nlimits, sizeof(*lc), limit) :
		  NULL;
	if (!lc)
		return -ENOENT;
	out->passed = lc->passed;
	out->limited = lc->limited;
	return 0;
}

static int fg_dd_route_stats(struct fg_dataplane *dp, const char *route,
			     struct fg_dp_route_stats *out)
{
	const struct fg_dpdk_ctl_l7_counters *l7;
	const struct fg_dpdk_ctl_l7_route *rt;
	int rc = fg_dd_l7_stats(fg_d(dp), &l7);

	if (rc)
		return rc;
	rt = l7 ? fg_dd_l7_find(l7->routes, l7->nroutes, sizeof(*rt), route) :
		  NULL;
	if (!rt)
		return -ENOENT;
	out->forwarded = rt->forwarded;
	out->no_backend = rt->no_backend;
	return 0;
}

static int fg_dd_seckill_stats(struct fg_dataplane *dp, const char *rule,
			       struct fg_dp_seckill_stats *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	const struct fg_dpdk_ctl_l7_counters *l7;
	const struct fg_dpdk_ctl_l7_rule *r;
	uint32_t k;
	int rc = fg_dd_l7_stats(d, &l7);

	if (rc)
		return rc;
	r = l7 ? fg_dd_l7_find(l7->rules, l7->nrules, sizeof(*r), rule) : NULL;
	if (!r)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	for (k = 0; k < FG_DP_SK_REASONS; k++)
		out->reason[k] = r->reason[k];
	out->items_in_use = r->items;
	out->items_max = r->items_max;
	out->items_cut = r->items_cut;
	free(d->items);
	d->items = calloc(r->nitems + 1, sizeof(*d->items));
	if (!d->items)
		return -ENOMEM;
	for (k = 0; k < r->nitems; k++) {
		const struct fg_dpdk_ctl_l7_item *it = &l7->items[r->item_first + k];

		d->items[k].name = it->name;
		d->items[k].len = it->len;
		d->items[k].admitted = it->admitted;
		d->items[k].shed = it->shed;
		d->items[k].sold_out = it->sold_out;
		d->items[k].allowance = it->allowance;
		d->items[k].stock_left = it->stock_left;
	}
	out->nitems = r->nitems;
	out->item = d->items;
	return 0;
}

static int fg_dd_drops(struct fg_dataplane *dp, uint64_t out[FG_DROP_REASON_MAX])
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int rc = fg_dd_stats(d);

	if (rc)
		return rc;
	memcpy(out, d->ctr->drops, sizeof(d->ctr->drops));
	return 0;
}

/* From the mirror: no round trip. */
static int fg_dd_be_down(struct fg_dataplane *dp, const char *service,
			 const struct fg_addr *addr, uint16_t port, bool *down)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_backend_id(d->comp, service, addr, port);
	const struct fg_backend *b;

	if (id < 0)
		return id;
	b = fg_dpdk_ctl_set_backend(d->mirror, (uint32_t)id);
	if (!b)
		return -ENOENT;
	*down = b->flags & FG_BE_F_DOWN;
	return 0;
}

static int fg_dd_origin(struct fg_dataplane *dp, struct fg_dp_origin *o)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	char err[256];
	int rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));

	if (rc)
		return rc;
	/* The process records it with the version it ran then, and
	 * reports it only while it runs that version. */
	if (!d->hello.has_origin || d->hello.version != fg_compiler_version(d->comp))
		return -ENOENT;
	o->cluster_id = d->hello.cluster_id;
	o->revision = d->hello.revision;
	return 0;
}

static int fg_dd_set_origin(struct fg_dataplane *dp, const struct fg_dp_origin *o)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	char err[256];
	int rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));

	if (!rc)
		rc = fg_dpdk_ctl_client_origin(d->cl, o->cluster_id, o->revision,
					       err, sizeof(err));
	if (rc)
		return fg_dd_failed(d, rc);
	d->hello.has_origin = o->cluster_id || o->revision;
	d->hello.cluster_id = o->cluster_id;
	d->hello.revision = o->revision;
	return 0;
}

static void fg_dd_close(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk *d;

	if (!dp)
		return;
	d = fg_d(dp);
	if (d->watch_release)
		d->watch_release(d->watch_arg);
	fg_dpdk_ctl_client_close(d->cl);
	fg_dpdk_ctl_set_free(d->mirror);
	fg_compiled_free(d->checked);
	fg_compiler_free(d->comp);
	free(d->svc_img);
	if (d->ctr)
		fg_dpdk_ctl_counters_clear(d->ctr);
	free(d->ctr);
	free(d->items);
	free(d->argv);
	free(d->args);
	free(d);
	free(dp);
}

/* fg_dd_stop - mode "start": end the process the pid file names when it
 * runs our executable (SIGTERM; SIGKILL after FG_DD_STOP_MS), and remove
 * the pid file. 0 or -errno. */
static int fg_dd_stop(struct fg_dp_dpdk *d)
{
	pid_t pid = fg_dd_pidfile_read(d);
	int i;

	if (pid && fg_dd_is_ours(d, pid)) {
		kill(pid, SIGTERM);
		for (i = 0; i < FG_DD_STOP_MS / 50 && fg_dd_is_ours(d, pid); i++) {
			if (d->child == pid)
				fg_dd_reap(d);
			usleep(50 * 1000);
		}
		if (fg_dd_is_ours(d, pid))
			kill(pid, SIGKILL);
	}
	if (unlink(d->pid_path) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Stop forwarding: the process keeps running with the empty set, and
 * forgets the origin - unless floodgated runs it (mode "start"): then it
 * is stopped, as --detach removes a pinned XDP program. */
static int fg_dd_detach(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_dpdk_ctl_set *e = fg_dpdk_ctl_set_empty();
	char err[256];
	int rc;

	rc = e ? fg_dd_connect(d, NULL, 0, err, sizeof(err)) : -ENOMEM;
	if (!rc) {
		d->synced = false; /* whole: the empty set */
		rc = fg_dd_push(d, e, err, sizeof(err));
	}
	if (!rc)
		rc = fg_dpdk_ctl_client_origin(d->cl, 0, 0, err, sizeof(err));
	fg_dpdk_ctl_set_free(e);
	if (d->mode == FG_BOOT_DPDK_START) {
		fg_dd_drop(d);
		/* Not answering is no failure here: it is to stop anyway. */
		rc = fg_dd_stop(d);
	}
	fg_dd_close(dp);
	return rc;
}

static const struct fg_dp_ops fg_dp_dpdk_ops = {
	.kind = "dpdk",
	.check = fg_dd_check,
	.apply = fg_dd_apply,
	.applied_version = fg_dd_applied,
	.service_stats = fg_dd_svc_stats,
	.backend_stats = fg_dd_be_stats,
	.limit_stats = fg_dd_lim_stats,
	.drop_stats = fg_dd_drops,
	.route_stats = fg_dd_route_stats,
	.seckill_stats = fg_dd_seckill_stats,
	.backend_down = fg_dd_be_down,
	.origin = fg_dd_origin,
	.set_origin = fg_dd_set_origin,
	.close = fg_dd_close,
	.detach = fg_dd_detach,
};

/* fg_dp_dpdk_info - also the test for "a dpdk dataplane" (out NULL). */
int fg_dp_dpdk_info(struct fg_dataplane *dp, struct fg_dp_dpdk_info *out)
{
	if (!dp || dp->ops != &fg_dp_dpdk_ops)
		return -EINVAL;
	if (out)
		*out = fg_d(dp)->info;
	return 0;
}

int fg_dp_dpdk_stock(struct fg_dataplane *dp, struct fg_dpdk_ctl_stock *x,
		     char *err, size_t errlen)
{
	struct fg_dp_dpdk *d;
	int rc;

	if (fg_dp_dpdk_info(dp, NULL))
		return fg_fail(err, errlen, -EINVAL, "not a dpdk dataplane");
	d = fg_d(dp);
	/* Only over a channel that stands and runs our set: the supervision
	 * and the applies connect, not a poll every few milliseconds. */
	if (d->cl && !fg_dpdk_ctl_client_alive(d->cl))
		fg_dd_drop(d);
	if (!d->cl || !d->synced)
		return fg_fail(err, errlen, -ENOTCONN,
			       "floodgate-dpdk is not connected");
	if (d->stock_conn != d->info.connects)
		x->all = true; /* another connection: maybe another process */
	rc = fg_dpdk_ctl_client_stock(d->cl, x, err, errlen);
	if (rc)
		return fg_dd_failed(d, rc);
	d->stock_conn = d->info.connects;
	return 0;
}

/*
 * fg_dd_find_exec - dataplane.dpdk.exec, or floodgate-dpdk where an
 * install or a build puts it beside floodgated: the same directory, the
 * bin/ beside an sbin/ (meson installs floodgated in sbindir, the process
 * in bindir), or the build tree's dataplane/dpdk/. 0 or -ENOENT with a
 * message naming every place tried.
 */
static int fg_dd_find_exec(struct fg_dp_dpdk *d, const char *exec, char *err,
			   size_t errlen)
{
	static const char *const rel[] = { "floodgate-dpdk",
		"../bin/floodgate-dpdk", "../dataplane/dpdk/floodgate-dpdk" };
	char self[PATH_MAX], tried[3 * PATH_MAX / 2] = "", *dir;
	ssize_t n;
	size_t i, l;

	if (exec[0]) {
		snprintf(d->exec, sizeof(d->exec), "%s", exec);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return fg_fail(err, errlen, -ENOENT, "dataplane.dpdk.exec: "
			       "cannot find floodgated's own directory (%s): "
			       "set dataplane.dpdk.exec", strerror(errno));
	self[n] = '\0';
	dir = dirname(self);
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 64], real[PATH_MAX];

		snprintf(cand, sizeof(cand), "%s/%s", dir, rel[i]);
		l = strlen(tried);
		snprintf(tried + l, sizeof(tried) - l, "%s%s", l ? ", " : "", cand);
		if (realpath(cand, real) && !access(real, X_OK)) {
			snprintf(d->exec, sizeof(d->exec), "%s", real);
			return 0;
		}
	}
	return fg_fail(err, errlen, -ENOENT, "dataplane.dpdk.exec: no "
		       "floodgate-dpdk beside floodgated (tried %s): set it",
		       tried);
}

/*
 * fg_dd_proc_setup - mode "start": the executable, its arguments (the
 * boot file's, then --control with the socket), the log and pid files
 * (beside the control socket unless dataplane.dpdk.log_file says). 0 or
 * -errno with a message.
 */
static int fg_dd_proc_setup(struct fg_dp_dpdk *d,
			    const struct fg_boot_config *cfg, char *err,
			    size_t errlen)
{
	unsigned i, n = cfg->dataplane.dpdk_nargs, k = 0;
	const char *a;
	char sock[FG_BOOT_SUN_PATH_MAX], *dir;
	bool dashes = false;
	int rc;

	rc = fg_dd_find_exec(d, cfg->dataplane.dpdk_exec, err, errlen);
	if (rc)
		return rc;
	/* Resolved now, while it stands (floodgated refuses to start
	 * without it): an upgrade may remove it for a moment later. */
	if (!realpath(d->exec, d->exec_real))
		snprintf(d->exec_real, sizeof(d->exec_real), "%s", d->exec);
	snprintf(sock, sizeof(sock), "%s", d->path);
	dir = dirname(sock);
	if (cfg->dataplane.dpdk_log_file[0])
		snprintf(d->log_path, sizeof(d->log_path), "%s",
			 cfg->dataplane.dpdk_log_file);
	else
		snprintf(d->log_path, sizeof(d->log_path), "%s/dpdk.log", dir);
	snprintf(d->pid_path, sizeof(d->pid_path), "%s/dpdk.pid", dir);
	/* exec, the args, maybe "--", "--control", the socket, NULL */
	d->argv = calloc(n + 5, sizeof(*d->argv));
	d->args = malloc(sizeof(cfg->dataplane.dpdk_args));
	if (!d->argv || !d->args)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(d->args, cfg->dataplane.dpdk_args, sizeof(cfg->dataplane.dpdk_args));
	a = d->args;
	d->argv[k++] = d->exec;
	for (i = 0; i < n; i++, a += strlen(a) + 1) {
		d->argv[k++] = (char *)a;
		dashes |= !strcmp(a, "--");
	}
	if (!dashes)
		d->argv[k++] = "--";
	d->argv[k++] = "--control";
	d->argv[k++] = d->path;
	return 0;
}

/* ------------------------------------------------------- supervision */

int fg_dp_dpdk_step(struct fg_dataplane *dp, char *msg, size_t msglen,
		    int *level)
{
	struct fg_dp_dpdk *d;
	char what[384], why[384], tail[320], next[48];
	double now = fg_dd_ms(), started_at;
	bool ended;
	uint32_t was;
	pid_t p;
	int rc;

	*level = 0;
	if (msglen)
		msg[0] = '\0';
	if (fg_dp_dpdk_info(dp, NULL))
		return -1;
	d = fg_d(dp);
	if (d->cl && !fg_dpdk_ctl_client_alive(d->cl))
		fg_dd_drop(d);
	if (d->cl)
		return FG_DD_CHECK_MS;

	switch (d->state) {
	case FG_DD_UP:
		/* Lost since the last step (here, or in a call that found
		 * the channel broken). */
		was = d->pid;
		fg_dd_went_down(d, now);
		if (!d->last_exit[0] && was && !kill((pid_t)was, 0))
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_WARN,
				   "the channel to floodgate-dpdk (pid %u) broke; "
				   "it still runs: connecting again", was);
		else if (d->mode == FG_BOOT_DPDK_START)
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_WARN,
				   "floodgate-dpdk (pid %u) went away%s%s: "
				   "starting it again%s", was,
				   d->last_exit[0] ? ", " : "", d->last_exit,
				   d->next_at > now ? " after a backoff" : "");
		else
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_WARN,
				   "floodgate-dpdk (pid %u) went away%s%s: "
				   "reconnecting until it is back", was,
				   d->last_exit[0] ? ", " : "", d->last_exit);
		return (int)(d->next_at > now ? d->next_at - now : 0);

	case FG_DD_STARTING:
		started_at = d->since;
		rc = fg_dd_try_connect(d, what, sizeof(what), why, sizeof(why));
		if (rc == 1) {
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_INFO,
				   "floodgate-dpdk (pid %u) answers %.0f ms after "
				   "its start%s%s", d->pid, d->since - started_at,
				   what[0] ? ": " : "", what);
			return FG_DD_CHECK_MS;
		}
		if (rc < 0) {
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_ERROR,
				   "floodgate-dpdk (pid %u): %s", d->pid, why);
			return FG_DD_CHECK_MS;
		}
		ended = fg_dd_reap(d);
		if (!ended && !d->child && !fg_dd_is_ours(d, (pid_t)d->pid)) {
			ended = true;
			snprintf(d->last_exit, sizeof(d->last_exit), "ended");
		}
		if (ended) {
			was = d->pid;
			fg_dd_log_tail(d, tail, sizeof(tail));
			d->fails++;
			d->state = FG_DD_DOWN;
			d->since = now;
			d->next_at = now + fg_dd_backoff(d);
			if (d->opening) /* open fails: nothing starts next */
				next[0] = '\0';
			else
				snprintf(next, sizeof(next), "; next start in "
					 "%.0f ms", d->next_at - now);
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_ERROR,
				   "floodgate-dpdk (pid %u) %s before it answered "
				   "on %s%s%s%s (its log: %s)%s", was, d->last_exit,
				   d->path, tail[0] ? ": \"" : "", tail,
				   tail[0] ? "\"" : "", d->log_path, next);
			return (int)(d->next_at - now);
		}
		if (now - d->since < d->start_timeout_ms)
			return FG_DD_POLL_MS;
		/* Ours and hung in its start: stopped, started again. */
		kill((pid_t)d->pid, SIGKILL);
		fg_dd_note(msg, msglen, level, FG_DP_DPDK_ERROR,
			   "floodgate-dpdk (pid %u) did not answer on %s within "
			   "%d ms (dataplane.dpdk.start_timeout_ms): killed it",
			   d->pid, d->path, d->start_timeout_ms);
		return FG_DD_POLL_MS;

	case FG_DD_DOWN:
		/* The channel can break while our child is still dying:
		 * collect it once it has ended, so that its end is told
		 * (last_exit) and no zombie outlives it. */
		fg_dd_reap(d);
		if (now < d->next_at)
			return (int)(d->next_at - now);
		if (d->mode == FG_BOOT_DPDK_ATTACH) {
			rc = fg_dd_try_connect(d, what, sizeof(what), why,
					       sizeof(why));
			if (rc == 1) {
				fg_dd_note(msg, msglen, level, FG_DP_DPDK_INFO,
					   "floodgate-dpdk (pid %u) is back%s%s",
					   d->pid, what[0] ? ": " : "", what);
				return FG_DD_CHECK_MS;
			}
			if (rc < 0) {
				fg_dd_note(msg, msglen, level, FG_DP_DPDK_ERROR,
					   "floodgate-dpdk (pid %u): %s",
					   d->hello.pid, why);
				return FG_DD_CHECK_MS;
			}
			d->fails++;
			d->next_at = now + fg_dd_backoff(d);
			return (int)(d->next_at - now);
		}
		/* Still there (the channel broke, not the process), or one
		 * that a floodgated started meanwhile: wait for that one
		 * rather than start a second, which could not listen. */
		if (d->pid && fg_dd_is_ours(d, (pid_t)d->pid))
			p = (pid_t)d->pid;
		else if ((p = fg_dd_pidfile_read(d)) && !fg_dd_is_ours(d, p))
			p = 0;
		if (p) {
			d->pid = (uint32_t)p;
			d->state = FG_DD_STARTING;
			d->since = now;
			return 0;
		}
		if (d->ever_up || d->starts)
			d->restarts++;
		why[0] = '\0';
		rc = fg_dd_spawn(d, why, sizeof(why));
		if (rc || !d->child) {
			d->fails++;
			d->next_at = now + fg_dd_backoff(d);
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_ERROR, "%s", why);
			return (int)(d->next_at - now);
		}
		if (why[0]) /* it runs, without its pid file */
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_WARN, "%s", why);
		else
			fg_dd_note(msg, msglen, level, FG_DP_DPDK_INFO,
				   "started floodgate-dpdk (pid %d%s), its "
				   "output in %s", (int)d->child,
				   d->restarts ? ", a restart" : "", d->log_path);
		return FG_DD_POLL_MS;
	}
	return FG_DD_CHECK_MS;
}

void fg_dp_dpdk_set_watch(struct fg_dataplane *dp, void (*release)(void *),
			  void *arg)
{
	if (fg_dp_dpdk_info(dp, NULL))
		return;
	fg_d(dp)->watch_release = release;
	fg_d(dp)->watch_arg = arg;
}

uint32_t fg_dp_dpdk_pid(struct fg_dataplane *dp)
{
	if (fg_dp_dpdk_info(dp, NULL))
		return 0;
	return fg_d(dp)->state == FG_DD_DOWN ? 0 : fg_d(dp)->pid;
}

int fg_dp_dpdk_proc(struct fg_dataplane *dp, struct fg_dp_dpdk_proc *out)
{
	struct fg_dp_dpdk *d;

	if (fg_dp_dpdk_info(dp, NULL) || !out)
		return -EINVAL;
	d = fg_d(dp);
	memset(out, 0, sizeof(*out));
	out->mode = d->mode == FG_BOOT_DPDK_START ? "start" : "attach";
	out->state = fg_dd_state_name(d->state);
	out->pid = d->state == FG_DD_DOWN ? 0 : d->pid;
	out->started = d->state != FG_DD_DOWN && d->started;
	out->restarts = d->restarts;
	out->reconnects = d->reconnects;
	snprintf(out->last_exit, sizeof(out->last_exit), "%s", d->last_exit);
	snprintf(out->log_file, sizeof(out->log_file), "%s",
		 d->mode == FG_BOOT_DPDK_START ? d->log_path : "");
	return 0;
}

/* dp->setup for a process that answers: where, what it runs, what
 * open did (what) and who started it. */
static void fg_dd_setup_text(struct fg_dataplane *dp, unsigned int flags,
			     const char *what)
{
	struct fg_dp_dpdk *d = fg_d(dp);

	dp->adopted = d->mirror != NULL;
	snprintf(dp->setup, sizeof(dp->setup),
		 "floodgate-dpdk at %s (pid %u, %s, %u workers, %u ports) runs "
		 "version %llu%s%s%s", d->path, d->hello.pid,
		 d->mode == FG_BOOT_DPDK_ATTACH ? "attached" :
		 d->started ? "started by floodgated" :
		 "not started by floodgated",
		 d->hello.nworkers, d->hello.nports,
		 (unsigned long long)d->hello.version,
		 what[0] ? ": " : "", what,
		 flags & FG_DP_OPEN_REPLACE ?
		 "; --replace-dataplane: the first apply pushes new ids" : "");
}

/*
 * fg_dd_open_start - mode "start", nothing answers: wait for the process
 * the pid file names when it is starting (a floodgated restarted while it
 * started), else start one; then wait for it to answer, at most
 * dataplane.dpdk.start_timeout_ms (the supervision takes over from
 * there). Returns dp, or NULL with a message when it could not be
 * started or ended before it answered (bad arguments, say).
 */
static struct fg_dataplane *fg_dd_open_start(struct fg_dataplane *dp,
					     unsigned int flags, char *err,
					     size_t errlen)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	pid_t p = fg_dd_pidfile_read(d);
	char msg[1024] = "", warn[512] = "";
	size_t off;
	int lvl, ms;

	d->opening = true;
	if (p && fg_dd_is_ours(d, p)) {
		d->pid = (uint32_t)p;
		d->started = true;
		d->state = FG_DD_STARTING;
		d->since = fg_dd_ms();
	} else if (fg_dd_spawn(d, warn, sizeof(warn)) || !d->child) {
		/* warn holds a message also when it runs (no pid file). */
		fg_fail(err, errlen, -ENOEXEC, "%s", warn);
		fg_dd_close(dp);
		return NULL;
	}
	while (d->state == FG_DD_STARTING &&
	       fg_dd_ms() - d->since < d->start_timeout_ms) {
		ms = fg_dp_dpdk_step(dp, msg, sizeof(msg), &lvl);
		if (d->state == FG_DD_STARTING && ms > 0)
			usleep((useconds_t)ms * 1000);
	}
	d->opening = false;
	if (d->state == FG_DD_DOWN) {
		fg_fail(err, errlen, -ECHILD, "%s", msg);
		fg_dd_close(dp);
		return NULL;
	}
	if (d->state == FG_DD_STARTING) {
		snprintf(dp->setup, sizeof(dp->setup),
			 "floodgate-dpdk (pid %u) does not answer on %s yet: "
			 "its tables are pushed when it does", d->pid, d->path);
		return dp;
	}
	fg_dd_setup_text(dp, flags, msg);
	/* It runs, but the pid file could not be written: say so. */
	off = strlen(dp->setup);
	if (warn[0] && off < sizeof(dp->setup))
		snprintf(dp->setup + off, sizeof(dp->setup) - off, "; %s", warn);
	return dp;
}

struct fg_dataplane *fg_dp_dpdk_open(const struct fg_boot_config *cfg,
				     unsigned int flags, char *err,
				     size_t errlen)
{
	struct fg_dataplane *dp = calloc(1, sizeof(*dp));
	struct fg_dp_dpdk *d = calloc(1, sizeof(*d));
	/* gue_port 0: the process's own (its --gue-port), as the XDP
	 * program's load-time default would be. */
	struct fg_compile_opts co = { .ring_slots = 0 };
	char what[384], why[384];
	int rc;

	if (!dp || !d)
		goto nomem;
	dp->priv = d;
	dp->ops = &fg_dp_dpdk_ops;
	snprintf(d->path, sizeof(d->path), "%s", cfg->dataplane.control_socket);
	snprintf(d->who, sizeof(d->who), "floodgated/%s", cfg->node.name);
	d->timeout_ms = cfg->dataplane.control_timeout_ms ?
			(int)cfg->dataplane.control_timeout_ms : 5000;
	d->comp = fg_compiler_new(&co);
	d->svc_img = calloc(FG_SVC_SLOTS, sizeof(*d->svc_img));
	d->ctr = calloc(1, sizeof(*d->ctr));
	if (!d->comp || !d->svc_img || !d->ctr)
		goto nomem;
	d->mode = cfg->dataplane.dpdk_mode;
	d->start_timeout_ms = cfg->dataplane.dpdk_start_timeout_ms ?
			      (int)cfg->dataplane.dpdk_start_timeout_ms : 60000;
	if (d->mode == FG_BOOT_DPDK_START &&
	    fg_dd_proc_setup(d, cfg, err, errlen)) {
		fg_dd_close(dp);
		return NULL;
	}
	d->may_adopt = !(flags & FG_DP_OPEN_REPLACE);
	rc = fg_dd_connect(d, what, sizeof(what), why, sizeof(why));
	if (rc && d->mode == FG_BOOT_DPDK_START && !(flags & FG_DP_OPEN_DETACH))
		return fg_dd_open_start(dp, flags, err, errlen);
	if (rc) {
		d->since = fg_dd_ms();
		d->next_at = d->since;
		snprintf(dp->setup, sizeof(dp->setup),
			 "floodgate-dpdk does not answer yet (%s): its tables "
			 "are pushed when it does", why);
		return dp;
	}
	fg_dd_setup_text(dp, flags, what);
	return dp;
nomem:
	if (d) {
		fg_compiler_free(d->comp);
		free(d->svc_img);
		free(d->ctr); /* never decoded into: owns nothing */
	}
	free(d);
	free(dp);
	snprintf(err, errlen, "out of memory");
	return NULL;
}
