// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_sysctl.c - see fg_sysctl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fg_err.h"
#include "fg_sysctl.h"

/* Settings one saved file may record: 3 per interface and 6 thresholds
 * leave room to spare. */
#define FG_SC_SAVED_MAX 512U

struct fg_sc_ent {
	char key[FG_SYSCTL_KEY_MAX];
	char orig[FG_SYSCTL_VAL_MAX];
	char ours[FG_SYSCTL_VAL_MAX];
};

struct fg_sc_saved {
	size_t n;
	struct fg_sc_ent e[FG_SC_SAVED_MAX];
};

static const char *const fg_sc_thresh_keys[] = {
	"net/ipv4/neigh/default/gc_thresh1",
	"net/ipv4/neigh/default/gc_thresh2",
	"net/ipv4/neigh/default/gc_thresh3",
	"net/ipv6/neigh/default/gc_thresh1",
	"net/ipv6/neigh/default/gc_thresh2",
	"net/ipv6/neigh/default/gc_thresh3",
};

/* ------------------------------------------------------------ report */

static void fg_sc_report(struct fg_sysctl_report *rep, const char *key,
			 const char *old, const char *new, bool kept)
{
	struct fg_sysctl_change *c;

	if (!rep)
		return;
	rep->total++;
	if (rep->n >= FG_SYSCTL_CHANGES_MAX)
		return;
	c = &rep->c[rep->n++];
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->old, sizeof(c->old), "%s", old);
	snprintf(c->new, sizeof(c->new), "%s", new);
	c->kept = kept;
}

/* ------------------------------------------------------- file access */

/* The neighbour thresholds are the kernel-wide table's: their files
 * exist only in the initial network namespace. Open the file there (the
 * open binds the file to that namespace's table; reading and writing it
 * later need no switch) and come back. */
static int fg_sc_open_init_ns(const char *path, const char *init_netns, int flags)
{
	struct stat s_self, s_init;
	int self, init, fd, rc;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	init = open(init_netns ? init_netns : "/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
	if (init < 0) {
		rc = -errno;
		close(self);
		return rc;
	}
	if (fstat(self, &s_self) || fstat(init, &s_init)) {
		rc = -errno;
		goto out;
	}
	if (s_self.st_ino == s_init.st_ino && s_self.st_dev == s_init.st_dev) {
		rc = -ENOENT; /* already there: the file does not exist */
		goto out;
	}
	if (setns(init, CLONE_NEWNET)) {
		rc = -errno;
		goto out;
	}
	fd = open(path, flags | O_CLOEXEC);
	rc = fd >= 0 ? fd : -errno;
	/* Going back to the namespace this thread came from cannot fail
	 * short of the kernel running out of memory; carrying on in the
	 * wrong namespace would configure the wrong box, so stop. */
	if (setns(self, CLONE_NEWNET))
		abort();
out:
	close(init);
	close(self);
	return rc;
}

static int fg_sc_open(const struct fg_sysctl_cfg *cfg, const char *key, int flags)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s",
		     cfg->proc_root ? cfg->proc_root : "/proc/sys", key) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT || cfg->proc_root || !strstr(key, "/neigh/default/"))
		return -errno;
	return fg_sc_open_init_ns(path, cfg->init_netns, flags);
}

/* Read a setting into val, without the trailing newline. */
static int fg_sc_read(const struct fg_sysctl_cfg *cfg, const char *key,
		      char *val, size_t len)
{
	ssize_t n;
	int fd;

	fd = fg_sc_open(cfg, key, O_RDONLY);
	if (fd < 0)
		return fd;
	n = read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	val[n] = '\0';
	while (n > 0 && (val[n - 1] == '\n' || val[n - 1] == ' ' || val[n - 1] == '\t'))
		val[--n] = '\0';
	return n ? 0 : -EINVAL;
}

static int fg_sc_write(const struct fg_sysctl_cfg *cfg, const char *key,
		       const char *val)
{
	char buf[FG_SYSCTL_VAL_MAX + 1];
	int fd, len, rc = 0;

	len = snprintf(buf, sizeof(buf), "%s\n", val);
	/* O_TRUNC: /proc/sys ignores it, a test's plain file needs it. */
	fd = fg_sc_open(cfg, key, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return fd;
	if (write(fd, buf, (size_t)len) != len)
		rc = errno ? -errno : -EIO;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/* -------------------------------------------------------- saved file */

static int fg_sc_load(const struct fg_sysctl_cfg *cfg, struct fg_sc_saved *s,
		      char *err, size_t errlen)
{
	char line[FG_SYSCTL_KEY_MAX + 2 * FG_SYSCTL_VAL_MAX + 8];
	unsigned lineno = 0;
	FILE *f;

	s->n = 0;
	f = fopen(cfg->saved_path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return fg_fail(err, errlen, -errno, "%s: %s", cfg->saved_path,
			       strerror(errno));
	}
	while (fgets(line, sizeof(line), f)) {
		struct fg_sc_ent *e;
		char extra;

		lineno++;
		if (s->n == FG_SC_SAVED_MAX) {
			fclose(f);
			return fg_fail(err, errlen, -E2BIG, "%s: more than %u settings",
				       cfg->saved_path, FG_SC_SAVED_MAX);
		}
		e = &s->e[s->n];
		/* Widths: FG_SYSCTL_KEY_MAX - 1, FG_SYSCTL_VAL_MAX - 1. */
		if (sscanf(line, "%127s %31s %31s %c", e->key, e->orig, e->ours,
			   &extra) != 3 || e->key[0] == '/' || strstr(e->key, "..")) {
			fclose(f);
			return fg_fail(err, errlen, -EINVAL, "%s:%u: not KEY ORIGINAL OURS",
				       cfg->saved_path, lineno);
		}
		s->n++;
	}
	fclose(f);
	return 0;
}

/* mkdir -p of path's directory, each level made 0700. */
static int fg_sc_mkdirs(const char *path)
{
	char dir[PATH_MAX], *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int fg_sc_store(const struct fg_sysctl_cfg *cfg, const struct fg_sc_saved *s,
		       char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t i;
	FILE *f;
	int fd, rc;

	if (!s->n) {
		if (unlink(cfg->saved_path) && errno != ENOENT)
			return fg_fail(err, errlen, -errno, "%s: %s", cfg->saved_path,
				       strerror(errno));
		return 0;
	}
	rc = fg_sc_mkdirs(cfg->saved_path);
	if (rc)
		return fg_fail(err, errlen, rc, "%s: cannot make its directory: %s",
			       cfg->saved_path, strerror(-rc));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", cfg->saved_path) >= (int)sizeof(tmp))
		return fg_fail(err, errlen, -ENAMETOOLONG, "%s: name too long",
			       cfg->saved_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fg_fail(err, errlen, -errno, "%s: %s", tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return fg_fail(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
	}
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s %s %s\n", s->e[i].key, s->e[i].orig, s->e[i].ours);
	/* The originals must be on disk before the settings change: a
	 * crash in between would otherwise lose them. */
	if (fflush(f) || fsync(fileno(f))) {
		rc = -errno;
		fclose(f);
		unlink(tmp);
		return fg_fail(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
	}
	if (fclose(f)) {
		rc = -errno;
		unlink(tmp);
		return fg_fail(err, errlen, rc, "%s: %s", tmp, strerror(-rc));
	}
	if (rename(tmp, cfg->saved_path)) {
		rc = -errno;
		unlink(tmp);
		return fg_fail(err, errlen, rc, "%s: %s", cfg->saved_path, strerror(-rc));
	}
	return 0;
}

static struct fg_sc_ent *fg_sc_find(struct fg_sc_saved *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].key, key))
			return &s->e[i];
	return NULL;
}

/*
 * fg_sc_set - make key hold val: record the original first (unless
 * recorded already), then write. cur is its current value.
 */
static int fg_sc_set(const struct fg_sysctl_cfg *cfg, struct fg_sc_saved *s,
		     const char *key, const char *cur, const char *val,
		     struct fg_sysctl_report *rep, char *err, size_t errlen)
{
	struct fg_sc_ent *e = fg_sc_find(s, key);
	int rc;

	if (!e && !strcmp(cur, val))
		return 0;
	if (!e) {
		if (s->n == FG_SC_SAVED_MAX)
			return fg_fail(err, errlen, -E2BIG, "%s: more than %u settings",
				       cfg->saved_path, FG_SC_SAVED_MAX);
		e = &s->e[s->n++];
		snprintf(e->key, sizeof(e->key), "%s", key);
		snprintf(e->orig, sizeof(e->orig), "%s", cur);
		snprintf(e->ours, sizeof(e->ours), "%s", val);
		rc = fg_sc_store(cfg, s, err, errlen);
		if (rc) {
			s->n--;
			return rc;
		}
	} else if (strcmp(e->ours, val)) {
		char prev[FG_SYSCTL_VAL_MAX];

		snprintf(prev, sizeof(prev), "%s", e->ours);
		snprintf(e->ours, sizeof(e->ours), "%s", val);
		rc = fg_sc_store(cfg, s, err, errlen);
		if (rc) {
			snprintf(e->ours, sizeof(e->ours), "%s", prev);
			return rc;
		}
	}
	if (!strcmp(cur, val))
		return 0;
	rc = fg_sc_write(cfg, key, val);
	if (rc)
		return fg_fail(err, errlen, rc, "write %s = %s: %s", key, val, strerror(-rc));
	fg_sc_report(rep, key, cur, val, false);
	return 0;
}

static int fg_sc_check(const struct fg_sysctl_cfg *cfg, char *err, size_t errlen)
{
	if (!cfg || !cfg->saved_path || !cfg->saved_path[0])
		return fg_fail(err, errlen, -EINVAL, "no saved-settings file given");
	return 0;
}

/* ------------------------------------------------------------ public */

int fg_sysctl_saved_path(const char *node, char *buf, size_t len)
{
	if (!node || !node[0] || strchr(node, '/') || !strcmp(node, ".") ||
	    !strcmp(node, ".."))
		return -EINVAL;
	if (snprintf(buf, len, "%s/%s/sysctl.saved", FG_SYSCTL_SAVED_DIR, node) >=
	    (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static bool fg_sc_ifname_ok(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	return len && len < IFNAMSIZ && !strchr(n, '/') && strcmp(n, ".") &&
	       strcmp(n, "..") && strcmp(n, "all") && strcmp(n, "default");
}

int fg_sysctl_prepare(const struct fg_sysctl_cfg *cfg,
		      const char *const *ifnames, size_t nif,
		      struct fg_sysctl_report *rep, char *err, size_t errlen)
{
	char key[FG_SYSCTL_KEY_MAX], cur[FG_SYSCTL_VAL_MAX];
	struct fg_sc_saved *s;
	size_t i;
	int rc;

	rc = fg_sc_check(cfg, err, errlen);
	if (rc)
		return rc;
	if (!nif || nif > FG_SYSCTL_IFS_MAX)
		return fg_fail(err, errlen, -EINVAL, "between 1 and %d interfaces, not %zu",
			       FG_SYSCTL_IFS_MAX, nif);
	for (i = 0; i < nif; i++)
		if (!fg_sc_ifname_ok(ifnames[i]))
			return fg_fail(err, errlen, -EINVAL, "'%s' is not an interface name",
				       ifnames[i] ? ifnames[i] : "(null)");
	/* Every interface must exist before anything changes. */
	for (i = 0; i < nif; i++) {
		snprintf(key, sizeof(key), "net/ipv4/conf/%s/forwarding", ifnames[i]);
		rc = fg_sc_read(cfg, key, cur, sizeof(cur));
		if (rc == -ENOENT)
			return fg_fail(err, errlen, rc, "no interface %s (no %s)",
				       ifnames[i], key);
		if (rc)
			return fg_fail(err, errlen, rc, "read %s: %s", key, strerror(-rc));
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	rc = fg_sc_load(cfg, s, err, errlen);
	for (i = 0; !rc && i < nif; i++) {
		const char *ifn = ifnames[i];
		bool v6;

		/* IPv6 first, accept_ra before forwarding: the moment
		 * forwarding turns on, an interface with accept_ra 1 stops
		 * taking router advertisements and loses its default route. */
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", ifn);
		rc = fg_sc_read(cfg, key, cur, sizeof(cur));
		v6 = rc != -ENOENT; /* no net/ipv6: IPv6 is off on the box */
		if (rc && v6) {
			rc = fg_fail(err, errlen, rc, "read %s: %s", key, strerror(-rc));
			break;
		}
		rc = 0;
		if (v6 && !strcmp(cur, "1"))
			rc = fg_sc_set(cfg, s, key, cur, "2", rep, err, errlen);
		if (!rc && v6) {
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/forwarding", ifn);
			rc = fg_sc_read(cfg, key, cur, sizeof(cur));
			if (rc)
				rc = fg_fail(err, errlen, rc, "read %s: %s", key,
					     strerror(-rc));
			else
				rc = fg_sc_set(cfg, s, key, cur, "1", rep, err, errlen);
		}
		if (!rc && v6) {
			/* Linux 6.17+: forward IPv6 on this interface alone. */
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/force_forwarding", ifn);
			rc = fg_sc_read(cfg, key, cur, sizeof(cur));
			if (rc == -ENOENT)
				rc = 0;
			else if (rc)
				rc = fg_fail(err, errlen, rc, "read %s: %s", key,
					     strerror(-rc));
			else
				rc = fg_sc_set(cfg, s, key, cur, "1", rep, err, errlen);
		}
		if (rc)
			break;
		snprintf(key, sizeof(key), "net/ipv4/conf/%s/forwarding", ifn);
		rc = fg_sc_read(cfg, key, cur, sizeof(cur));
		if (rc)
			rc = fg_fail(err, errlen, rc, "read %s: %s", key, strerror(-rc));
		else
			rc = fg_sc_set(cfg, s, key, cur, "1", rep, err, errlen);
	}
	free(s);
	return rc;
}

int fg_sysctl_neigh_fit(const struct fg_sysctl_cfg *cfg, size_t nentries,
			struct fg_sysctl_report *rep, char *err, size_t errlen)
{
	char cur[FG_SYSCTL_VAL_MAX], val[FG_SYSCTL_VAL_MAX];
	struct fg_sc_saved *s;
	size_t i;
	int rc;

	rc = fg_sc_check(cfg, err, errlen);
	if (rc)
		return rc;
	if (nentries > FG_SYSCTL_NEIGH_MAX)
		nentries = FG_SYSCTL_NEIGH_MAX;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	rc = fg_sc_load(cfg, s, err, errlen);
	for (i = 0; !rc && i < sizeof(fg_sc_thresh_keys) / sizeof(fg_sc_thresh_keys[0]); i++) {
		const char *key = fg_sc_thresh_keys[i];
		struct fg_sc_ent *e;
		unsigned long base;
		char *end;

		rc = fg_sc_read(cfg, key, cur, sizeof(cur));
		if (rc == -ENOENT && !strncmp(key, "net/ipv6/", 9)) {
			rc = 0; /* IPv6 off on the box */
			continue;
		}
		if (rc) {
			rc = fg_fail(err, errlen, rc, "read %s: %s (the neighbour thresholds "
				     "are kernel-wide, visible in the initial network "
				     "namespace only; entering %s failed)", key,
				     strerror(-rc), cfg->init_netns ? cfg->init_netns :
				     "/proc/1/ns/net");
			break;
		}
		e = fg_sc_find(s, key);
		errno = 0;
		base = strtoul(e ? e->orig : cur, &end, 10);
		if (errno || *end || base > INT_MAX) {
			rc = fg_fail(err, errlen, -EINVAL, "%s: '%s' is not a count", key,
				     e ? e->orig : cur);
			break;
		}
		/* The original's room stays for the box's own traffic. */
		if (base + nentries > INT_MAX)
			base = INT_MAX - nentries;
		snprintf(val, sizeof(val), "%lu", base + nentries);
		rc = fg_sc_set(cfg, s, key, cur, val, rep, err, errlen);
	}
	free(s);
	return rc;
}

int fg_sysctl_restore(const struct fg_sysctl_cfg *cfg,
		      struct fg_sysctl_report *rep, char *err, size_t errlen)
{
	char cur[FG_SYSCTL_VAL_MAX];
	struct fg_sc_saved *s;
	int rc;

	rc = fg_sc_check(cfg, err, errlen);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	rc = fg_sc_load(cfg, s, err, errlen);
	/* Newest first: the reverse of how they were set. */
	while (!rc && s->n) {
		struct fg_sc_ent *e = &s->e[s->n - 1];

		rc = fg_sc_read(cfg, e->key, cur, sizeof(cur));
		if (rc == -ENOENT) {
			rc = 0; /* its interface is gone */
		} else if (rc) {
			rc = fg_fail(err, errlen, rc, "read %s: %s", e->key, strerror(-rc));
			break;
		} else if (strcmp(cur, e->ours)) {
			fg_sc_report(rep, e->key, cur, e->orig, true);
		} else if (strcmp(cur, e->orig)) {
			rc = fg_sc_write(cfg, e->key, e->orig);
			if (rc) {
				rc = fg_fail(err, errlen, rc, "write %s = %s: %s", e->key,
					     e->orig, strerror(-rc));
				break;
			}
			fg_sc_report(rep, e->key, cur, e->orig, false);
		}
		s->n--;
	}
	if (!rc) {
		rc = fg_sc_store(cfg, s, err, errlen); /* n == 0: removes it */
	} else if (s->n) {
		char ignored[8];

		/* Keep what is left for a retry; the first error stands. */
		fg_sc_store(cfg, s, ignored, sizeof(ignored));
	}
	free(s);
	return rc;
}
