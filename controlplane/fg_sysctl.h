/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_sysctl.h - the kernel settings the appliance needs on its box, set at
 * start and given back at detach, as the backend decap script does for
 * the backends.
 *
 * What is set, and why (each found needed by tests/integration/
 * test_neigh.sh on a box with the kernel's defaults):
 *   net/ipv4/conf/IF/forwarding = 1   bpf_fib_lookup answers FWD_DISABLED
 *   net/ipv6/conf/IF/forwarding = 1   on an interface without forwarding
 *   net/ipv6/conf/IF/force_forwarding = 1  (Linux 6.17+, where it exists)
 *                      the kernel forwards IPv6 arriving on the interface,
 *                      as IPv4's per-interface forwarding already makes
 *                      it do: the appliance routes for its backends (DSR
 *                      replies through it to the clients). IPv6's
 *                      conf/IF/forwarding alone does not forward, and
 *                      conf/all/forwarding would make every interface a
 *                      router; on older kernels IPv6 is not routed for
 *                      others unless the operator sets that.
 *   net/ipv6/conf/IF/accept_ra  1 -> 2  IPv6 forwarding makes the kernel
 *                      ignore router advertisements unless accept_ra is 2,
 *                      and a SLAAC-configured interface would lose its
 *                      default route. Only 1 becomes 2: 0 stays 0.
 *   net/ipv4/neigh/default/gc_thresh{1,2,3}, net/ipv6/neigh/default/...
 *                      grown by the number of kernel-managed neighbour
 *                      entries the rules need (fg_neigh.h): managed
 *                      entries count against gc_thresh3, and an add past
 *                      it fails with ENOBUFS. The thresholds are
 *                      kernel-wide (one table for every network
 *                      namespace) and their files exist only in the
 *                      initial namespace: from another one they are
 *                      written through it (setns to cfg->init_netns),
 *                      which needs CAP_SYS_ADMIN there.
 * Not set, because nothing needs them: ip_forward / conf/all/forwarding
 * (IPv4 forwarding is per interface; the global switch would make every
 * interface a router), send_redirects, rp_filter and accept_local (the
 * dataplane never hands the kernel a packet with its own source address:
 * an unresolved next hop is a counted drop, and fg_neigh keeps next hops
 * resolved).
 *
 * Saved originals. Before a setting is first changed, its value is
 * recorded in the saved file (a line "KEY ORIGINAL OURS" per setting,
 * KEY relative to /proc/sys; written to a temporary file and renamed,
 * mode 0600, its directory made 0700). A later start finds the setting
 * there and keeps the original: starting twice never records our own
 * value as the original. fg_sysctl_restore() writes each original back,
 * unless the setting no longer holds our value (someone changed it since:
 * theirs wins), and removes the file.
 *
 * Side effect to know: when IPv6 forwarding goes from 0 to 1 on any
 * interface, the kernel removes the default routes learned from router
 * advertisements on every interface whose accept_ra is not 2; they come
 * back with the next advertisement. It happens once, at the first start.
 *
 * The library never logs: every call reports what it changed in a
 * struct fg_sysctl_report for its caller to log. Errors: negative errno
 * and a message. Context: userspace, root (CAP_NET_ADMIN); not
 * thread-safe.
 */
#ifndef FG_SYSCTL_H
#define FG_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#define FG_SYSCTL_SAVED_DIR "/run/floodgate"  /* <dir>/<node>/sysctl.saved */
#define FG_SYSCTL_KEY_MAX 128
#define FG_SYSCTL_VAL_MAX 32
#define FG_SYSCTL_CHANGES_MAX 256 /* a report holds this many; more are counted */
#define FG_SYSCTL_IFS_MAX 64      /* interfaces per call (FG_XDP_LINKS_MAX) */
/* Thresholds grow by at most this many entries: the dataplane's backend
 * ids (FG_BACKEND_MAX) plus the gateways toward clients
 * (FG_NEIGH_GATEWAYS_MAX). */
#define FG_SYSCTL_NEIGH_MAX (65536U + 1024U)

struct fg_sysctl_cfg {
	const char *saved_path;  /* the saved file; required */
	const char *proc_root;   /* NULL = "/proc/sys" (tests use a tree of
				  * plain files) */
	const char *init_netns;  /* a network namespace file of the initial
				  * namespace, where the kernel-wide
				  * neighbour thresholds are visible; used
				  * only when they are not in ours. NULL =
				  * "/proc/1/ns/net" */
};

struct fg_sysctl_change {
	char key[FG_SYSCTL_KEY_MAX];   /* relative to proc_root */
	char old[FG_SYSCTL_VAL_MAX];
	char new[FG_SYSCTL_VAL_MAX];
	bool kept;               /* restore only: not ours any more, left as
				  * it is (old = what it holds, new = the
				  * original we did not write) */
};

struct fg_sysctl_report {
	size_t n;                /* changes in c[] (<= FG_SYSCTL_CHANGES_MAX) */
	size_t total;            /* all changes, those past c[] included */
	struct fg_sysctl_change c[FG_SYSCTL_CHANGES_MAX];
};

/*
 * fg_sysctl_saved_path - FG_SYSCTL_SAVED_DIR/<node>/sysctl.saved into
 * buf. Returns 0, or -EINVAL (node empty or with '/') / -ENAMETOOLONG.
 */
int fg_sysctl_saved_path(const char *node, char *buf, size_t len);

/*
 * fg_sysctl_prepare - set what the dataplane needs on the interfaces
 * ifnames[0..nif-1] (forwarding in both families, force_forwarding,
 * accept_ra 1 -> 2),
 * recording originals first. IPv6 settings are skipped when IPv6 is off
 * on the box (no net/ipv6). rep (may be NULL) gets what changed.
 * Returns 0; -EINVAL (no interface, more than FG_SYSCTL_IFS_MAX, a bad
 * name), -ENOENT (no such interface's settings), or a read/write error
 * with its key in err. Settings changed before an error stay changed and
 * recorded: fg_sysctl_restore() gives them back.
 */
int fg_sysctl_prepare(const struct fg_sysctl_cfg *cfg,
		      const char *const *ifnames, size_t nif,
		      struct fg_sysctl_report *rep, char *err, size_t errlen);

/*
 * fg_sysctl_neigh_fit - make the neighbour tables' thresholds (both
 * families) the originals plus nentries (capped at FG_SYSCTL_NEIGH_MAX):
 * room for nentries managed entries over what the box had for its own
 * traffic. nentries 0 gives the originals back. Call it before adding
 * the entries (fg_neigh_plan() says how many). Returns 0 or -errno with
 * the key in err: -ENOENT or -EACCES when the thresholds are not visible
 * here and cfg->init_netns cannot be entered (the caller may go on: adds
 * then fail with ENOBUFS only past the kernel's gc_thresh3).
 */
int fg_sysctl_neigh_fit(const struct fg_sysctl_cfg *cfg, size_t nentries,
			struct fg_sysctl_report *rep, char *err, size_t errlen);

/*
 * fg_sysctl_restore - write every recorded original back (in the reverse
 * order of recording) where the setting still holds our value, then
 * remove the saved file. Settings that are gone (an interface removed)
 * are skipped. Returns 0 (also when there is no saved file: nothing to
 * give back) or the first error; the file stays when a write failed, so
 * a retry can finish the job.
 */
int fg_sysctl_restore(const struct fg_sysctl_cfg *cfg,
		      struct fg_sysctl_report *rep, char *err, size_t errlen);

#endif /* FG_SYSCTL_H */
