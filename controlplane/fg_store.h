/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_store.h - the rule store on etcd.
 *
 * Layout under the configured prefix (default "/floodgate"):
 *   <prefix>/rules          the head: {"layout":"shards","shards":64}.
 *                           Every write of rules rewrites it, so its
 *                           mod_revision is the rule version.
 *   <prefix>/rules/NN       shard NN (00..63): the rule objects whose
 *                           names hash to it (fg_rules_shard), as a
 *                           canonical config body holding only the kinds
 *                           present; absent when the shard is empty
 *   <prefix>/nodes/<name>   one JSON object per live node, under a lease
 *   <prefix>/writes/<name>/<id>  a write's marker while its outcome is
 *                           being learned (fg_store.c); deleted after
 *
 * Shards make a change cost what it touches: one object is one shard
 * and the head in one transaction (about 1/64 of a large set), a whole
 * set at most 64 shard writes and the head in one transaction (etcd takes
 * at most 128 operations in one): either way atomic, with a compare on
 * the head's version, and the watch hands every node the shards that
 * changed at each version.
 *
 * A store written by an earlier release holds the whole rule set in the
 * head (no "layout"): it is read as it is, and the first write rewrites
 * every shard and the head, after which the layout above holds.
 *
 * Standalone (store.kind "embedded") runs a private etcd member under the
 * data directory, reachable only through Unix sockets in a 0700
 * directory (fg_etcd_embedded.h), and keeps its space in check: it
 * compacts and defragments it as rule sets are written. A cluster points
 * at real endpoints, maintained by its operators. Either way the same
 * code runs.
 */
#ifndef FG_STORE_H
#define FG_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "fg_rules_json.h"

struct event_base;
struct fg_boot_config;
struct fg_store;

/*
 * The answer to a write. err:
 *   0          stored as `version` (also when the first answer was lost
 *              and the store was asked again: the outcome is resolved)
 *   -ESTALE    not stored: the rule set is no longer at the expected
 *              version (someone else wrote first)
 *   -EMSGSIZE  not stored: the rule set is larger than the store takes
 *              in one request; msg names both sizes and the limit
 *   -EIO       not stored: the store timed out or broke the connection,
 *              and asking again showed the write did not land (and now
 *              never can); nothing changed
 *   -ETIMEDOUT outcome unknown: the store did not answer, neither the
 *              write nor, within a bounded time, the question whether it
 *              landed. msg starts "outcome unknown: the write may still
 *              be applied"; a later read (or the watch) tells.
 *   other      not stored: the store refused or could not be reached
 *              before the write was sent (-ECONNREFUSED, -ENOSPC its
 *              quota is full, -EACCES, ...); msg says why.
 * Runs on the event loop.
 */
typedef void (*fg_store_write_cb)(void *arg, int err, uint64_t version,
				  const char *msg);

/* A node as GET /v1/nodes lists it; json is borrowed for the callback. */
typedef void (*fg_store_nodes_cb)(void *arg, int err, json_t *nodes,
				  const char *msg);

/*
 * What the store holds now, as far as it changed: the shards in the mask
 * `shards`, each given whole as the stored text (text[i], len[i] bytes,
 * not NUL-terminated: a config body of the objects in it, for the caller
 * to parse; NULL when the shard is empty). The first read gives every
 * shard. A store of the earlier layout gives its whole rule set as
 * text[0] with every bit set. Borrowed for the callback.
 */
struct fg_store_change {
	uint64_t shards;
	const char *text[FG_RULES_SHARDS];
	size_t len[FG_RULES_SHARDS];
};

/*
 * The store holds a new version (first read, watch): ch says what
 * changed since the last version delivered. Runs on the event loop. The
 * store reports upward through it and never calls into the daemon.
 */
typedef void (*fg_store_rules_cb)(void *arg, const struct fg_store_change *ch,
				  uint64_t version);

/*
 * fg_store_open - connect to the store cfg names (starting the embedded
 * member first when configured), then, on base's loop, read the rule
 * set, watch it and register this node. Rule sets reach the caller
 * through cb(arg, ...). cfg must outlive the store. Returns the handle or
 * NULL with a message (the embedded member could not start).
 */
struct fg_store *fg_store_open(struct event_base *base,
			       const struct fg_boot_config *cfg,
			       fg_store_rules_cb cb, void *arg, char *err,
			       size_t errlen);

/* fg_store_close - stop watching and refreshing the node's lease (its
 * registration then expires within the lease TTL), stop the embedded
 * member. Accepts NULL. */
void fg_store_close(struct fg_store *st);

/*
 * fg_store_write - store a rule set given as its shards' texts (text[i]
 * for shard i, NUL-terminated, "{}" or NULL when empty: every shard of the
 * new set, see fg_ruleset_shard_to_json) if the stored version is still
 * `expected`, in one transaction: the shards in the mask `shards` (the
 * others are as stored), or every shard when the store is of the earlier
 * layout. The texts are copied before the call returns. Calls cb exactly
 * once, later, on the event loop - unless the store is closed first.
 * Returns 0, or -ENOMEM (cb not called).
 */
int fg_store_write(struct fg_store *st, char *const text[FG_RULES_SHARDS],
		   uint64_t shards, uint64_t expected, fg_store_write_cb cb,
		   void *arg);

/*
 * fg_store_write_force - store every shard whatever the stored version is
 * (or whether any is stored): for `--adopt-dataplane`, which writes the
 * rule set the dataplane runs back into an empty or older store. The new
 * version is the store's revision after the write, as for any write.
 * Same contract and answers as fg_store_write, except -ESTALE.
 */
int fg_store_write_force(struct fg_store *st, char *const text[FG_RULES_SHARDS],
			 fg_store_write_cb cb, void *arg);

/*
 * fg_store_identity - which store this is: etcd's cluster id (fixed when
 * the store was created: a store created afresh, or restored from a
 * snapshot with etcdctl, has another) and the store's revision as of the
 * first successful read of the rule set after fg_store_open (an older copy
 * of the same store's data has a lower one). Together with the version a
 * dataplane was last given, they tell a store behind the dataplane from
 * one ahead of it. Either pointer may be NULL. Returns 0, -EAGAIN before
 * the first read has succeeded, or -EINVAL (st NULL).
 */
int fg_store_identity(const struct fg_store *st, uint64_t *cluster_id,
		      uint64_t *revision);

/* fg_store_nodes - list the registered nodes. Same contract as write. */
int fg_store_nodes(struct fg_store *st, fg_store_nodes_cb cb, void *arg);

/* fg_store_node_applied - publish this node's applied version. */
void fg_store_node_applied(struct fg_store *st, uint64_t version);

/*
 * fg_store_client - a client of its own to the store (the same endpoints,
 * TLS files and request bound) on the store's loop, for a user that runs
 * its own transactions: the stock claimers (fg_stock.h). The caller owns
 * it. NULL with errno (ENOMEM, EINVAL).
 */
struct fg_etcd *fg_store_client(const struct fg_store *st);

/* fg_store_healthy - true while the last store request succeeded. */
bool fg_store_healthy(const struct fg_store *st);

/* fg_store_describe - "embedded" or "etcd" and the endpoints, for status;
 * for an embedded member also db_size, db_size_in_use (as of the last
 * maintenance pass), db_size_peak (the largest seen, just before a
 * compaction) and quota, in bytes. */
json_t *fg_store_describe(const struct fg_store *st);

#endif /* FG_STORE_H */
