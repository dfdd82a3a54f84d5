/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_compile.h - the rule compiler: a checked struct fg_ruleset in, the
 * table images of one generation out (fg_tables.h structs), for any
 * dataplane (the XDP loader writes them to maps, the DPDK dataplane to its
 * tables).
 *
 * The compiler keeps state across compiles, so that what a packet path or a
 * counter has seen stays meaningful:
 *
 *  - ids are stable: a service keeps its id while its name lives, a backend
 *    while (service, family, addr, port) lives, a limit while its name
 *    lives. Counters and conntrack entries are indexed by these ids.
 *  - an id freed by one generation is never handed out while the active
 *    generation still names it, and freed ids queue up (FIFO), so an id
 *    comes back as late as possible: a stale conntrack entry or counter
 *    read then finds an invalid backend rather than someone else's.
 *  - ring slices of the new generation never overlap the active
 *    generation's, so the active rings stay intact until the switch.
 *
 * One cycle:
 *
 *   fg_compile(c, rs, version, &cp, err, errlen);   nothing changes in c
 *   write cp->backends, rings, limits, services for generation cp->gen
 *   write cp->config to the config slot           the switch
 *   delete cp->stale_keys, invalidate cp->retired_backends
 *   fg_compiler_commit(c, cp); fg_compiled_free(cp);
 *
 * Abandoning a compile (a write failed before the switch) is
 * fg_compiled_free() without commit: the compiler is as before.
 *
 * Userspace only; not thread-safe (one caller owns a compiler).
 */
#ifndef FG_COMPILE_H
#define FG_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_rules.h"
#include "fg_tables.h"

/* Sizes and settings of the target tables. Zero fields take defaults. */
struct fg_compile_opts {
	__u32 ring_slots;  /* entries of the ring array (fg_ring);
			    * 0 = FG_RING_SLOTS_DEFAULT */
	__u32 svc_max;     /* service ids 0..svc_max-1, <= FG_SVC_MAX;
			    * 0 = FG_SVC_MAX */
	__u32 backend_max; /* backend ids, <= FG_BACKEND_MAX; 0 = max */
	__u32 limit_max;   /* limit ids, <= FG_LIMIT_MAX; 0 = max */
	__u16 gue_port;    /* GUE port written into dsr-gue services, host
			    * order; 0 leaves it 0 there, which selects the
			    * dataplane's load-time default */
};

/* A list of ids (service, backend or limit). */
struct fg_id_list {
	__u32 n;
	__u32 *ids;
};

/* One service of the new generation. */
struct fg_compiled_svc {
	char name[FG_NAME_MAX];
	struct fg_svc_key key;  /* key.gen = the new generation */
	struct fg_svc val;
	const __u32 *ring;      /* val.ring_size backend ids, to be written to
				 * ring slots val.ring_off..; NULL when
				 * ring_size is 0 (no usable backend) */
	bool ring_shared;       /* the active generation holds this very ring
				 * at val.ring_off already (same backends,
				 * weights and ids): nothing to write */
};

/* One backend entry: write val at fg_backends[id]. */
struct fg_compiled_backend {
	__u32 id;
	struct fg_backend val;
};

/* One limit entry: write val at fg_limits[index]
 * (index = gen * FG_LIMIT_MAX + val.id). */
struct fg_compiled_limit {
	char name[FG_NAME_MAX];
	__u32 index;
	struct fg_limit val;
};

struct fg_compile_state;

/* The images of one generation and the clean-up list of the switch. */
struct fg_compiled {
	__u32 gen;       /* generation written: the inactive one */
	__u32 prev_gen;  /* the active one, retired by the switch */
	uint64_t version;
	struct fg_config config; /* written last, in one update: the switch */

	/* Before the switch: every entry of the new generation. */
	__u32 nsvcs;
	struct fg_compiled_svc *svcs;
	__u32 nbackends;
	struct fg_compiled_backend *backends;
	__u32 nlimits;
	struct fg_compiled_limit *limits;

	/* Ids this generation uses for the first time: their counters are
	 * zeroed before the switch so a new name starts from 0. */
	struct fg_id_list fresh_svcs, fresh_backends, fresh_limits;

	/* After the switch: the previous generation's service keys to
	 * delete, and the ids it used that the new one does not. Retired
	 * backends are written invalid (zeroed), so conntrack entries naming
	 * them re-hash. */
	__u32 nstale_keys;
	struct fg_svc_key *stale_keys;
	struct fg_id_list retired_svcs, retired_backends, retired_limits;

	struct fg_compile_state *next; /* private: the compiler's state once
					* this is committed */
};

/* The active generation as read back from the tables (re-adoption). */
struct fg_adopt_svc {
	const char *name;        /* NULL or "" when the name was lost: the id
				  * stays reserved and retires next compile */
	struct fg_svc_key key;   /* key.gen = the active generation */
	struct fg_svc val;
};

struct fg_adopt_backend {
	__u32 id;
	struct fg_backend val;   /* flags has FG_BE_F_VALID */
};

struct fg_adopt_limit {
	const char *name;        /* as for services */
	__u32 id;
};

struct fg_adopt {
	__u32 gen;               /* active generation (fg_config.gen) */
	uint64_t version;        /* fg_config.version */
	__u32 nsvcs;
	const struct fg_adopt_svc *svcs;
	__u32 nbackends;
	const struct fg_adopt_backend *backends;
	__u32 nlimits;
	const struct fg_adopt_limit *limits;
};

struct fg_compiler;

/*
 * fg_compiler_new - a compiler for tables of the given sizes (opts may be
 * NULL for defaults), with nothing active: the active generation is 0,
 * empty, so the first compile targets generation 1.
 * Returns NULL on allocation failure or invalid opts (a size above its
 * table's FG_ limit). A ring array smaller than two rings is allowed (the
 * tests use one) but soon answers -ENOSPC.
 * Context: userspace.
 */
struct fg_compiler *fg_compiler_new(const struct fg_compile_opts *opts);

/* fg_compiler_free - release c. Accepts NULL. */
void fg_compiler_free(struct fg_compiler *c);

/*
 * fg_compiler_set_cluster_nodes - the number of live nodes that share
 * cluster-scope limits (rate and burst are divided by it, rounded up);
 * 1 means this node enforces the whole rate. 0 (the default: not in a
 * cluster) makes fg_compile() refuse cluster-scope limits with
 * -EOPNOTSUPP. Takes effect at the next compile.
 */
void fg_compiler_set_cluster_nodes(struct fg_compiler *c, __u32 nodes);

/*
 * fg_compile - compile rs into the images of the inactive generation.
 *
 * rs must be a checked rule set (fg_ruleset_from_json, or an edit passed
 * through fg_ruleset_check: fg_rules_json.h judges every value once). The
 * compiler checks only capacity: its table sizes, backends per ring, the
 * limit lists' lengths, a limit bound to a service of the set, and a
 * profile's window. It allocates ids and ring
 * slices without changing c. On success *out holds the images; commit
 * them with fg_compiler_commit() after the switch, or drop them with
 * fg_compiled_free(). Only one compile may be pending: committing an older
 * one fails with -ESTALE.
 *
 * Returns 0; -EINVAL for rules beyond capacity (message in err, naming the
 * field as "services.NAME.backends"); -EOPNOTSUPP for valid rules this
 * node cannot enforce (l7 services, cluster-scope limits outside a
 * cluster); -ENOSPC when ids or ring slots are
 * exhausted (the active generation holds the rest); -ENOMEM. On failure
 * *out is NULL and c is unchanged. err may be NULL. Context: userspace;
 * builds one Maglev ring per service (milliseconds each).
 */
int fg_compile(struct fg_compiler *c, const struct fg_ruleset *rs,
	       uint64_t version, struct fg_compiled **out, char *err,
	       size_t errlen);

/*
 * fg_compiled_current - whether cp was compiled on c's current state (no
 * commit or adopt since), so that it may still be written and committed:
 * a dataplane that compiled a rule set to check it applies that very
 * result when the same rules come back to be applied.
 */
bool fg_compiled_current(const struct fg_compiler *c,
			 const struct fg_compiled *cp);

/* fg_compiled_set_version - the version cp is applied as (the store
 * assigns it after the check that compiled cp). */
void fg_compiled_set_version(struct fg_compiled *cp, uint64_t version);

/*
 * fg_compiler_commit - the switch to cp->gen happened: make cp's
 * generation the active one (ids, names, ring slices; the previous
 * generation's slices and retired ids become free). Does not free cp.
 * Returns 0, or -ESTALE if c changed since cp was compiled (cp is then
 * not applied), -EINVAL for NULL or an already committed cp.
 * Context: userspace; does not allocate, so it cannot fail half-way.
 */
int fg_compiler_commit(struct fg_compiler *c, struct fg_compiled *cp);

/* fg_compiled_free - release cp (committed or not). Accepts NULL. */
void fg_compiled_free(struct fg_compiled *cp);

/*
 * fg_compiler_adopt - rebuild the state of a fresh compiler from the
 * active generation found in the tables of a running dataplane (a
 * restarted control plane). Ids and ring slices in a are reserved; free
 * ids queue in ascending order.
 * Returns 0; -EBUSY when c has compiled or adopted before; -EINVAL when a
 * is inconsistent (id out of range, duplicate id or name, ring slice
 * outside the ring array or overlapping another, a backend of an unknown
 * service), message in err. On failure c is unchanged. Context: userspace.
 */
int fg_compiler_adopt(struct fg_compiler *c, const struct fg_adopt *a,
		      char *err, size_t errlen);

/* fg_compiler_gen - the active generation (0 or 1). */
__u32 fg_compiler_gen(const struct fg_compiler *c);

/* fg_compiler_version - the version of the active generation (0: none). */
uint64_t fg_compiler_version(const struct fg_compiler *c);

/* fg_compiler_opts - the effective sizes (defaults filled in). */
const struct fg_compile_opts *fg_compiler_opts(const struct fg_compiler *c);

/*
 * fg_compiler_service_id - id of the active service `name`.
 * Returns the id (>= 0) or -ENOENT. Context: userspace.
 */
int fg_compiler_service_id(const struct fg_compiler *c, const char *name);

/*
 * fg_compiler_service_name - name of the active service with id `id`, or
 * NULL. The pointer lives until the next commit.
 */
const char *fg_compiler_service_name(const struct fg_compiler *c, __u32 id);

/* fg_compiler_limit_id - id of the active limit `name`, or -ENOENT. */
int fg_compiler_limit_id(const struct fg_compiler *c, const char *name);

/* fg_compiler_limit_name - name of the active limit `id`, or NULL. */
const char *fg_compiler_limit_name(const struct fg_compiler *c, __u32 id);

/*
 * fg_compiler_backend_id - id of backend (addr, port) of the active
 * service `svc`. Returns the id or -ENOENT (-EINVAL for a NULL argument).
 */
int fg_compiler_backend_id(const struct fg_compiler *c, const char *svc,
			   const struct fg_addr *addr, uint16_t port);

/*
 * fg_backend_ident - the Maglev identity of a backend: a 64-bit hash
 * (FNV-1a, then the splitmix64 finaliser to spread nearby addresses) of
 * family, address and port. Independent of the flow hash seed, so every
 * node and every restart builds the same ring from the same backends.
 * Context: any userspace.
 */
__u64 fg_backend_ident(const struct fg_addr *addr, uint16_t port);

/*
 * fg_limit_fill - the dataplane's view of limit l into *v (zeroed by the
 * caller): its match, key, unit, action and flags; not its profile or
 * id, which the caller knows (a node's share, an lcore's). One reading
 * of a limit for the L4 tables and the L7 engine.
 */
void fg_limit_fill(struct fg_limit *v, const struct fg_rule_limit *l);

/*
 * fg_backend_usable - whether backend b takes new flows, and so has ring
 * slots: a weight above 0, active (not draining), not down by health.
 * The others keep their identity in the ring's input at weight 0.
 */
bool fg_backend_usable(const struct fg_rule_backend *b);

/*
 * fg_ring_size_for - the ring size of a service with n backends: the
 * smallest prime >= 100 * n, at least FG_RING_SIZE_MIN (so weights still
 * have slots to spread over in a small service). 1000 services of 10
 * backends fit the default ring array twice over (double buffering).
 * n <= FG_MAGLEV_BACKENDS_MAX.
 */
#define FG_RING_SIZE_MIN 1021U
__u32 fg_ring_size_for(__u32 n);

#endif /* FG_COMPILE_H */
