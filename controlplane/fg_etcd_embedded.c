/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_etcd_embedded.c - spawn, watch over and stop the private etcd member.
 * See fg_etcd_embedded.h for the contracts.
 *
 * Everything the child needs (argv, envp, descriptors) is built before
 * fork(), so the child runs only async-signal-safe calls between fork()
 * and execve(): the daemon may have other threads (libcurl's resolver)
 * whose locks a forked child must not touch. A close-on-exec pipe tells
 * the parent whether execve() worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fg_err.h"
#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "fg_strf.h"
#include "fg_time.h"

extern char **environ;

/* How much of etcd.log a startup error quotes from. */
#define FG_EMB_LOG_TAIL 8192
/* Poll period while waiting for the child to exit on stop. */
#define FG_EMB_STOP_POLL_MS 10
/* Per health probe while waiting for readiness: short, so a child that
 * dies is noticed quickly. */
#define FG_EMB_PROBE_MS 500
#define FG_EMB_ARGS_MAX 40

struct fg_etcd_embedded {
	char *etcd_path;
	char *data_dir;		/* absolute */
	char *log_path;		/* <data_dir>/etcd.log */
	char *name;
	char *sock_dir;		/* <data_dir>/FG_ETCD_EMBEDDED_SOCK_DIR */
	char *client_sock;	/* absolute paths of the sockets */
	char *peer_sock;
	char *endpoint;		/* "unix://" client_sock */
	uint64_t quota_bytes;
	uint64_t request_max;
	char *argv[FG_EMB_ARGS_MAX];	/* NULL-terminated; [i] owned */
	char **envp;		/* environ minus ETCD_*; strings borrowed */
	int stop_timeout_ms;
	pid_t pid;		/* 0: down */
	uint64_t started_at;	/* fg_now_ms() of the last spawn */
	uint64_t restart_at;	/* while down: when to respawn */
	uint64_t backoff_ms;
	unsigned int restarts;
	char last_exit[96];	/* how the last child ended */
};

/* ---------------------------------------------------------- helpers */

/* fg_emb_sleep_ms - nanosleep, for the bounded waits of start/stop. */
static void fg_emb_sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000U),
		.tv_nsec = (long)(ms % 1000U) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

/*
 * fg_emb_fd_high - move fd to 3 or above (close-on-exec), so the child's
 * dup2() onto 0..2 cannot clobber it or leave it close-on-exec when the
 * daemon runs with some of 0..2 closed. Returns the fd or -errno.
 */
static int fg_emb_fd_high(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd < 0 ? -errno : nfd;
}

/* fg_emb_open_high - open() then fg_emb_fd_high(). Returns fd or
 * -errno. */
static int fg_emb_open_high(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	return fd < 0 ? -errno : fg_emb_fd_high(fd);
}

/* fg_emb_valid_name - etcd member names go into --initial-cluster
 * "name=url,...", so '=' and ',' (and anything odd) are out. */
static bool fg_emb_valid_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 63 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") == n;
}

/* ------------------------------------------------------------ checks */

/*
 * fg_emb_check_dir - data_dir exists (created, one level, if missing), is
 * a directory, and a file can really be created in it: access() would
 * say yes to root on a read-only mount. Returns 0 or -errno.
 */
static int fg_emb_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *probe;
	int fd, e;

	if (stat(dir, &st) < 0) {
		e = errno;
		if (e != ENOENT || mkdir(dir, 0700) < 0) {
			e = errno;
			fg_fail(err, errlen, 0, "data dir %s: %s", dir,
				strerror(e));
			return -e;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		fg_fail(err, errlen, 0, "data dir %s: not a directory", dir);
		return -ENOTDIR;
	}
	probe = fg_strf("%s/.fg-write-test-XXXXXX", dir);
	if (!probe) {
		fg_fail(err, errlen, 0, "out of memory");
		return -ENOMEM;
	}
	fd = mkstemp(probe);
	if (fd < 0) {
		e = errno;
		fg_fail(err, errlen, 0, "data dir %s is not writable: %s", dir,
			strerror(e));
		free(probe);
		return -e;
	}
	close(fd);
	unlink(probe);
	free(probe);
	return 0;
}

/* fg_emb_check_etcd - the binary exists and is executable. */
static int fg_emb_check_etcd(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		fg_fail(err, errlen, 0,
			"etcd not found at %s (install etcd-server, or "
			"set the etcd path)", path);
		return -ENOENT;
	}
	if (access(path, X_OK) < 0) {
		fg_fail(err, errlen, 0, "etcd at %s is not executable", path);
		return -EACCES;
	}
	return 0;
}

/*
 * fg_emb_sock_dir - make <data_dir>/FG_ETCD_EMBEDDED_SOCK_DIR a directory
 * of ours with mode 0700, whatever was there: the sockets in it are the
 * store's only doors, and the mode is what keeps other users out (etcd
 * creates its sockets with the umask's mode). A symlink or another
 * owner's directory is refused rather than trusted. Returns 0 or -errno.
 */
static int fg_emb_sock_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		e = errno;
		fg_fail(err, errlen, 0, "socket dir %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0) {
		e = errno;
		fg_fail(err, errlen, 0, "socket dir %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		fg_fail(err, errlen, 0, "socket dir %s: not a directory owned "
			"by uid %u (remove it)", dir, (unsigned int)geteuid());
		return -ENOTDIR;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0) {
		e = errno;
		fg_fail(err, errlen, 0, "socket dir %s: chmod 0700: %s", dir,
			strerror(e));
		return -e;
	}
	return 0;
}

/*
 * fg_emb_clear_sock - remove a socket a dead member left behind (etcd
 * refuses to bind over it: "address already in use"), but only if
 * nobody answers on it: a live one means another etcd serves this data
 * dir. Returns 0, -EADDRINUSE or -errno.
 */
static int fg_emb_clear_sock(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fg_fail(err, errlen, 0, "socket path %s is too long (at most "
			"%zu bytes): use a shorter data dir", path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		fg_fail(err, errlen, 0, "socket: %s", strerror(-r));
		return r;
	}
	if (S_ISSOCK(st.st_mode) &&
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fg_fail(err, errlen, 0, "%s: another etcd listens there (is "
			"another floodgated using this data dir?)", path);
		r = -EADDRINUSE;
	} else if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		fg_fail(err, errlen, 0, "%s: cannot remove a stale socket: %s",
			path, strerror(-r));
	}
	close(fd);
	return r;
}

/*
 * fg_emb_token - a fresh --initial-cluster-token. etcd derives the member
 * and cluster ids from the peer URLs and this token only, so with fixed
 * socket names a fixed token would give every store created on this node
 * the same cluster id, and a store made afresh could not be told from the
 * one it replaced. etcd reads the token only when it creates the member.
 */
static void fg_emb_token(const char *name, char *out, size_t outlen)
{
	uint64_t rnd = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
		rnd = fg_now_ms() ^ ((uint64_t)getpid() << 32);
	if (fd >= 0)
		close(fd);
	snprintf(out, outlen, "floodgate-%s-%016llx", name,
		 (unsigned long long)rnd);
}

/* ------------------------------------------------------------ the log */

/*
 * fg_emb_log_reason - the most telling line etcd logged since offset
 * `from`: the last fatal/panic/error-level entry, else the last line.
 * zap lines are JSON; "msg" and "error" are what a human needs.
 */
static void fg_emb_log_reason(const struct fg_etcd_embedded *e, off_t from,
			      char *out, size_t outlen)
{
	char buf[FG_EMB_LOG_TAIL + 1], *line, *save, *best = NULL,
	     *last = NULL;
	struct stat st;
	ssize_t n;
	off_t at;
	int fd;

	snprintf(out, outlen, "see %s", e->log_path);
	fd = open(e->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	at = st.st_size - FG_EMB_LOG_TAIL > from ? st.st_size - FG_EMB_LOG_TAIL
						 : from;
	n = pread(fd, buf, FG_EMB_LOG_TAIL, at);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		last = line;
		if (strstr(line, "\"level\":\"fatal\"") ||
		    strstr(line, "\"level\":\"panic\"") ||
		    strstr(line, "\"level\":\"error\""))
			best = line;
	}
	if (!best)
		best = last;
	if (!best)
		return;
	{
		json_t *j = json_loads(best, 0, NULL);
		const char *msg = json_string_value(json_object_get(j, "msg"));
		const char *why = json_string_value(json_object_get(j,
								    "error"));

		if (msg)
			snprintf(out, outlen, "%s%s%s (%s)", msg,
				 why ? ": " : "", why ? why : "", e->log_path);
		else
			snprintf(out, outlen, "%.200s (%s)", best, e->log_path);
		json_decref(j);
	}
}

/* fg_emb_log_size - etcd.log's current size (0 if absent). */
static off_t fg_emb_log_size(const struct fg_etcd_embedded *e)
{
	struct stat st;

	return stat(e->log_path, &st) < 0 ? 0 : st.st_size;
}

/* fg_emb_status - "exited with status N" / "killed by signal N". */
static void fg_emb_status(int st, char *out, size_t outlen)
{
	if (WIFEXITED(st))
		snprintf(out, outlen, "exited with status %d",
			 WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, outlen, "killed by signal %d (%s)",
			 WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, outlen, "ended (wait status %#x)", st);
}

/* ----------------------------------------------------------- spawning */

/* fg_emb_build - argv and envp, once, for every spawn. Returns 0 or
 * -ENOMEM. */
static int fg_emb_build(struct fg_etcd_embedded *e, int64_t revisions)
{
	/* etcd binds "unix://HOST:PORT" as a socket file named HOST:PORT in
	 * its working directory (it insists on the host:port form and
	 * refuses paths), and the child runs in sock_dir. */
	const char *cl = "unix://" FG_ETCD_EMBEDDED_CLIENT_SOCK;
	const char *pe = "unix://" FG_ETCD_EMBEDDED_PEER_SOCK;
	char token[128];
	char *a[] = {
		strdup(e->etcd_path),
		strdup("--name"), strdup(e->name),
		strdup("--data-dir"), fg_strf("%s/etcd", e->data_dir),
		/* No TCP at all: etcd 3.4 serves the key-value API on the
		 * peer listener too, so both are sockets in the 0700 dir. */
		strdup("--listen-client-urls"), strdup(cl),
		strdup("--advertise-client-urls"), strdup(cl),
		strdup("--listen-peer-urls"), strdup(pe),
		strdup("--initial-advertise-peer-urls"), strdup(pe),
		strdup("--initial-cluster"), fg_strf("%s=%s", e->name, pe),
		/* Ignored by etcd once the data dir holds a member. */
		strdup("--initial-cluster-state"), strdup("new"),
		strdup("--initial-cluster-token"), NULL,
		/* Sizing: see FG_ETCD_EMBEDDED_REQUEST_MAX in the header. */
		strdup("--max-request-bytes"),
		fg_strf("%llu", (unsigned long long)e->request_max),
		strdup("--quota-backend-bytes"),
		fg_strf("%llu", (unsigned long long)e->quota_bytes),
		strdup("--auto-compaction-mode"), strdup("revision"),
		strdup("--auto-compaction-retention"),
		fg_strf("%lld", (long long)revisions),
		strdup("--snapshot-count"),
		fg_strf("%u", FG_ETCD_EMBEDDED_SNAPSHOT_COUNT),
		/* Structured lines: fg_emb_log_reason() can quote them. */
		strdup("--logger"), strdup("zap"),
		strdup("--log-outputs"), strdup("stderr"),
	};
	size_t n = sizeof(a) / sizeof(a[0]), envn = 0, k = 0;
	bool oom = false;

	_Static_assert(sizeof(a) / sizeof(a[0]) < FG_EMB_ARGS_MAX,
		       "argv too small");
	fg_emb_token(e->name, token, sizeof(token));
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && a[i - 1] &&
		    !strcmp(a[i - 1], "--initial-cluster-token"))
			a[i] = strdup(token);
		e->argv[i] = a[i];
		oom |= !a[i];
	}
	e->argv[n] = NULL;
	for (char **v = environ; v && *v; v++)
		envn++;
	e->envp = calloc(envn + 1, sizeof(*e->envp));
	if (!e->envp || oom)
		return -ENOMEM;
	/* ETCD_* variables of the daemon's environment would fight our
	 * flags (etcd refuses to start over such conflicts). */
	for (char **v = environ; v && *v; v++)
		if (strncmp(*v, "ETCD_", 5))
			e->envp[k++] = *v;
	e->envp[k] = NULL;
	return 0;
}

/*
 * fg_emb_child - after fork(), in the child: async-signal-safe calls only.
 * Never returns.
 */
static void fg_emb_child(const struct fg_etcd_embedded *e, pid_t parent,
			 int nullfd, int logfd, int errfd)
	__attribute__((noreturn));
static void fg_emb_child(const struct fg_etcd_embedded *e, pid_t parent,
			 int nullfd, int logfd, int errfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int er;

	setpgid(0, 0);
	/* Die with the daemon, even when it is SIGKILLed; if it is
	 * already gone, the death signal would never come. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	/* Ignored signals and the mask survive execve(): give etcd a
	 * clean slate (the daemon ignores SIGPIPE, for one). */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		goto fail;
	/* etcd creates its sockets relative to its working directory. */
	if (chdir(e->sock_dir) < 0)
		goto fail;
	/* No daemon descriptor (listening sockets, BPF maps) may leak
	 * into etcd; errfd stays open until execve() succeeds. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	execve(e->etcd_path, e->argv, e->envp);
fail:
	er = errno;
	if (write(errfd, &er, sizeof(er)) < 0)
		_exit(126);
	_exit(127);
}

/*
 * fg_emb_spawn - fork and exec etcd; does not wait for readiness. Returns
 * 0 with e->pid set, or -errno with the reason in err.
 */
static int fg_emb_spawn(struct fg_etcd_embedded *e, char *err, size_t errlen)
{
	int nullfd, logfd = -1, pfd[2] = { -1, -1 }, er = 0, r;
	pid_t parent = getpid(), pid;
	ssize_t n;

	r = fg_emb_sock_dir(e->sock_dir, err, errlen);
	if (!r)
		r = fg_emb_clear_sock(e->client_sock, err, errlen);
	if (!r)
		r = fg_emb_clear_sock(e->peer_sock, err, errlen);
	if (r)
		return r;
	nullfd = fg_emb_open_high("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0) {
		r = nullfd;
		fg_fail(err, errlen, 0, "/dev/null: %s", strerror(-r));
		goto out;
	}
	logfd = fg_emb_open_high(e->log_path, O_WRONLY | O_CREAT | O_APPEND |
				 O_CLOEXEC);
	if (logfd < 0) {
		r = logfd;
		fg_fail(err, errlen, 0, "%s: %s", e->log_path, strerror(-r));
		goto out;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		fg_fail(err, errlen, 0, "pipe: %s", strerror(-r));
		goto out;
	}
	pfd[0] = fg_emb_fd_high(pfd[0]);
	pfd[1] = fg_emb_fd_high(pfd[1]);
	if (pfd[0] < 0 || pfd[1] < 0) {
		r = pfd[0] < 0 ? pfd[0] : pfd[1];
		fg_fail(err, errlen, 0, "pipe: %s", strerror(-r));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		fg_fail(err, errlen, 0, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		fg_emb_child(e, parent, nullfd, logfd, pfd[1]);
	close(pfd[1]);
	pfd[1] = -1;
	/* EOF: execve() closed the pipe, etcd is running. */
	do
		n = read(pfd[0], &er, sizeof(er));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(er)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r = -er;
		fg_fail(err, errlen, 0, "exec %s: %s", e->etcd_path,
			strerror(er));
		goto out;
	}
	e->pid = pid;
	e->started_at = fg_now_ms();
	r = 0;
out:
	if (nullfd >= 0)
		close(nullfd);
	if (logfd >= 0)
		close(logfd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return r;
}

/*
 * fg_emb_kill - SIGTERM, wait up to timeout_ms, SIGKILL, reap. Blocks
 * (bounded).
 */
static void fg_emb_kill(struct fg_etcd_embedded *e, int timeout_ms)
{
	uint64_t deadline = fg_now_ms() + (uint64_t)timeout_ms;
	pid_t r;

	if (e->pid <= 0)
		return;
	kill(e->pid, SIGTERM);
	for (;;) {
		r = waitpid(e->pid, NULL, WNOHANG);
		if (r == e->pid || (r < 0 && errno == ECHILD))
			break;
		if (fg_now_ms() >= deadline) {
			kill(e->pid, SIGKILL);
			while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR)
				;
			break;
		}
		fg_emb_sleep_ms(FG_EMB_STOP_POLL_MS);
	}
	e->pid = 0;
}

/* fg_emb_free - free e (the child must be gone). */
static void fg_emb_free(struct fg_etcd_embedded *e)
{
	/* Every slot: a failed build leaves holes. */
	for (size_t i = 0; i < FG_EMB_ARGS_MAX; i++)
		free(e->argv[i]);
	free(e->envp);
	free(e->etcd_path);
	free(e->data_dir);
	free(e->log_path);
	free(e->sock_dir);
	free(e->client_sock);
	free(e->peer_sock);
	free(e->endpoint);
	free(e->name);
	free(e);
}

/* -------------------------------------------------------------- API */

/* fg_etcd_embedded_opts_init - see the header. */
void fg_etcd_embedded_opts_init(struct fg_etcd_embedded_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/*
 * fg_emb_wait_ready - poll /health until ready, noticing a child that
 * dies on the way. Blocks up to timeout_ms. Returns 0, -ECHILD or
 * -ETIMEDOUT (err says why).
 */
static int fg_emb_wait_ready(struct fg_etcd_embedded *e, int timeout_ms,
			     off_t log_from, char *err, size_t errlen)
{
	uint64_t deadline = fg_now_ms() + (uint64_t)timeout_ms;
	char why[320], st[96];

	for (;;) {
		uint64_t now = fg_now_ms();
		int status;

		if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
			e->pid = 0;
			fg_emb_status(status, st, sizeof(st));
			fg_emb_log_reason(e, log_from, why, sizeof(why));
			fg_fail(err, errlen, 0, "etcd %s during startup: %s",
				st, why);
			return -ECHILD;
		}
		if (now >= deadline)
			break;
		if (!fg_etcd_wait_ready(e->endpoint,
					(int)(deadline - now < FG_EMB_PROBE_MS ?
					      deadline - now :
					      FG_EMB_PROBE_MS)))
			return 0;
	}
	fg_emb_log_reason(e, log_from, why, sizeof(why));
	fg_fail(err, errlen, 0, "etcd not ready at %s after %d ms: %s",
		e->endpoint, timeout_ms, why);
	return -ETIMEDOUT;
}

/* fg_etcd_embedded_start - see the header. */
int fg_etcd_embedded_start(const struct fg_etcd_embedded_opts *o,
			   struct fg_etcd_embedded **out,
			   char *err, size_t errlen)
{
	struct fg_etcd_embedded *e;
	char *abs;
	off_t log_from;
	int r, ready_ms;

	if (!o || !out || !o->data_dir || !*o->data_dir ||
	    o->ready_timeout_ms < 0 || o->stop_timeout_ms < 0 ||
	    (o->name && !fg_emb_valid_name(o->name)) ||
	    o->compaction_revisions < 0 ||
	    (o->request_max && o->request_max < FG_ETCD_EMBEDDED_REQUEST_MIN) ||
	    (o->quota_bytes && o->quota_bytes < 2 * (o->request_max ?
						     o->request_max :
						     FG_ETCD_EMBEDDED_REQUEST_MAX))) {
		fg_fail(err, errlen, 0, "embedded etcd: bad options (data "
			"dir required; name [A-Za-z0-9._-]{1,63}; request "
			"limit at least %u bytes; quota at least twice the "
			"request limit)", FG_ETCD_EMBEDDED_REQUEST_MIN);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		fg_fail(err, errlen, 0, "out of memory");
		return -ENOMEM;
	}
	e->etcd_path = strdup(o->etcd_path ? o->etcd_path
					   : FG_ETCD_EMBEDDED_PATH);
	e->name = strdup(o->name ? o->name : FG_ETCD_EMBEDDED_NAME);
	e->request_max = o->request_max ? o->request_max :
					  FG_ETCD_EMBEDDED_REQUEST_MAX;
	e->quota_bytes = o->quota_bytes ? o->quota_bytes :
					  FG_ETCD_EMBEDDED_QUOTA;
	e->stop_timeout_ms = o->stop_timeout_ms ? o->stop_timeout_ms
						: FG_ETCD_EMBEDDED_STOP_MS;
	e->backoff_ms = FG_ETCD_EMBEDDED_BACKOFF_MIN_MS;
	ready_ms = o->ready_timeout_ms ? o->ready_timeout_ms
				       : FG_ETCD_EMBEDDED_READY_MS;
	if (!e->etcd_path || !e->name) {
		r = -ENOMEM;
		fg_fail(err, errlen, 0, "out of memory");
		goto fail;
	}
	r = fg_emb_check_etcd(e->etcd_path, err, errlen);
	if (r)
		goto fail;
	r = fg_emb_check_dir(o->data_dir, err, errlen);
	if (r)
		goto fail;
	/* Absolute, so it does not matter where the daemon chdir()s. */
	abs = realpath(o->data_dir, NULL);
	if (!abs) {
		r = -errno;
		fg_fail(err, errlen, 0, "data dir %s: %s", o->data_dir,
			strerror(errno));
		goto fail;
	}
	e->data_dir = abs;
	e->log_path = fg_strf("%s/etcd.log", abs);
	e->sock_dir = fg_strf("%s/%s", abs, FG_ETCD_EMBEDDED_SOCK_DIR);
	e->client_sock = fg_strf("%s/%s/%s", abs,
				     FG_ETCD_EMBEDDED_SOCK_DIR,
				     FG_ETCD_EMBEDDED_CLIENT_SOCK);
	e->peer_sock = fg_strf("%s/%s/%s", abs, FG_ETCD_EMBEDDED_SOCK_DIR,
				   FG_ETCD_EMBEDDED_PEER_SOCK);
	e->endpoint = e->client_sock ? fg_strf("unix://%s",
						   e->client_sock) : NULL;
	if (e->client_sock &&
	    strlen(e->client_sock) >=
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		r = -ENAMETOOLONG;
		fg_fail(err, errlen, 0, "socket path %s is too long (at most "
			"%zu bytes): use a shorter data dir", e->client_sock,
			sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		goto fail;
	}
	if (!e->log_path || !e->sock_dir || !e->peer_sock || !e->endpoint ||
	    fg_emb_build(e, o->compaction_revisions ?
			 o->compaction_revisions :
			 FG_ETCD_EMBEDDED_COMPACTION_REVS)) {
		r = -ENOMEM;
		fg_fail(err, errlen, 0, "out of memory");
		goto fail;
	}
	log_from = fg_emb_log_size(e);
	r = fg_emb_spawn(e, err, errlen);
	if (r)
		goto fail;
	r = fg_emb_wait_ready(e, ready_ms, log_from, err, errlen);
	if (r) {
		fg_emb_kill(e, e->stop_timeout_ms);
		goto fail;
	}
	*out = e;
	return 0;
fail:
	fg_emb_free(e);
	return r;
}

/* fg_etcd_embedded_check - see the header. */
int fg_etcd_embedded_check(struct fg_etcd_embedded *e, char *err,
			   size_t errlen)
{
	uint64_t now = fg_now_ms();
	char why[256];
	int status, r;

	if (!e)
		return -EINVAL;
	if (e->pid > 0) {
		pid_t w = waitpid(e->pid, &status, WNOHANG);

		if (w == 0 || (w < 0 && errno == EINTR))
			return 0;
		if (w == e->pid)
			fg_emb_status(status, e->last_exit,
				      sizeof(e->last_exit));
		else	/* ECHILD: reaped elsewhere (SIGCHLD ignored?) */
			snprintf(e->last_exit, sizeof(e->last_exit),
				 "vanished (reaped elsewhere)");
		e->pid = 0;
		/* A child that ran a while earns a fresh backoff. */
		if (now - e->started_at >= FG_ETCD_EMBEDDED_STABLE_MS)
			e->backoff_ms = FG_ETCD_EMBEDDED_BACKOFF_MIN_MS;
		e->restart_at = now + e->backoff_ms;
		e->backoff_ms *= 2;
		if (e->backoff_ms > FG_ETCD_EMBEDDED_BACKOFF_MAX_MS)
			e->backoff_ms = FG_ETCD_EMBEDDED_BACKOFF_MAX_MS;
	}
	if (now < e->restart_at) {
		fg_fail(err, errlen, 0, "etcd %s; restarting in %llu ms",
			e->last_exit,
			(unsigned long long)(e->restart_at - now));
		return -EAGAIN;
	}
	r = fg_emb_spawn(e, why, sizeof(why));
	if (r) {
		e->restart_at = now + e->backoff_ms;
		fg_fail(err, errlen, 0, "etcd %s; restart failed: %s",
			e->last_exit, why);
		return r;
	}
	e->restarts++;
	fg_fail(err, errlen, 0, "etcd %s; restarted as pid %d", e->last_exit,
		(int)e->pid);
	return 1;
}

/* fg_etcd_embedded_stop - see the header. */
void fg_etcd_embedded_stop(struct fg_etcd_embedded *e)
{
	if (!e)
		return;
	fg_emb_kill(e, e->stop_timeout_ms);
	fg_emb_free(e);
}

/* fg_etcd_embedded_endpoint - see the header. */
const char *fg_etcd_embedded_endpoint(const struct fg_etcd_embedded *e)
{
	return e ? e->endpoint : "";
}

/* fg_etcd_embedded_sock_dir - see the header. */
const char *fg_etcd_embedded_sock_dir(const struct fg_etcd_embedded *e)
{
	return e ? e->sock_dir : "";
}

/* fg_etcd_embedded_request_max - see the header. */
uint64_t fg_etcd_embedded_request_max(const struct fg_etcd_embedded *e)
{
	return e ? e->request_max : 0;
}

/* fg_etcd_embedded_quota - see the header. */
uint64_t fg_etcd_embedded_quota(const struct fg_etcd_embedded *e)
{
	return e ? e->quota_bytes : 0;
}

/* fg_etcd_embedded_pid - see the header. */
pid_t fg_etcd_embedded_pid(const struct fg_etcd_embedded *e)
{
	return e ? e->pid : 0;
}

/* fg_etcd_embedded_restarts - see the header. */
unsigned int fg_etcd_embedded_restarts(const struct fg_etcd_embedded *e)
{
	return e ? e->restarts : 0;
}
