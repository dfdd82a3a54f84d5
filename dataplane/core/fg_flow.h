/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_flow.h - flow keys and the keyed flow hash.
 *
 * The hash is SipHash-1-3 with a 128-bit key chosen at load time: without
 * the key an outsider cannot predict which flows share a Maglev slot or a
 * connection-table bucket, so cannot aim collisions at one backend.
 * SipHash-1-3 (one compression, three finalisation rounds) is what Linux
 * and Rust use for hash tables; the flow key is five 64-bit words, so one
 * hash is about 40 add/rotate/xor steps, cheap enough for every packet.
 */
#ifndef FG_FLOW_H
#define FG_FLOW_H

#include "fg_types.h"
#include "fg_parse.h"

/*
 * The 5-tuple of a packet, IPv4 or IPv6. All fields network byte order; an
 * IPv4 address sits in word 0 with words 1..3 zero; pad is zero. Aligned to
 * 8 so the hash reads it as five 64-bit words. This is also the key of the
 * connection tables, so every byte is defined.
 */
struct fg_flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;  /* IPPROTO_* */
	__u8 family; /* FG_AF_INET or FG_AF_INET6 */
	__u16 pad;
} __attribute__((aligned(8)));
FG_ASSERT_SIZE(struct fg_flow_key, 40);

#define FG_FLOW_KEY_WORDS (sizeof(struct fg_flow_key) / 8)

/* A 64-bit word that may alias any object: the hash reads the 8-aligned
 * key in place as words instead of copying it to the stack first (the
 * XDP program's stack is 512 bytes for its whole call chain). */
typedef __u64 __attribute__((__may_alias__)) fg_word_t;

/* The secret 128-bit SipHash key. */
struct fg_hash_seed {
	__u64 k0;
	__u64 k1;
};
FG_ASSERT_SIZE(struct fg_hash_seed, 16);

/*
 * fg_flow_key_from_pkt - the flow key of a parsed packet (fg_parse() ==
 * FG_PARSE_OK). Ports are zero when the packet carries none (non-first
 * fragment, other L4 protocols). Context: any.
 */
FG_INLINE void fg_flow_key_from_pkt(const struct fg_pkt *pkt,
				    struct fg_flow_key *key)
{
	int i;

FG_UNROLL
	for (i = 0; i < 4; i++) {
		key->src[i] = pkt->src[i];
		key->dst[i] = pkt->dst[i];
	}
	if (pkt->flags & FG_PKT_F_L4) {
		key->sport = pkt->sport;
		key->dport = pkt->dport;
	} else {
		key->sport = 0;
		key->dport = 0;
	}
	key->proto = pkt->l4_proto;
	key->family = pkt->family;
	key->pad = 0;
}

/*
 * fg_flow_key_reverse - the key of the opposite direction (source and
 * destination swapped). Context: any.
 */
FG_INLINE void fg_flow_key_reverse(const struct fg_flow_key *key,
				   struct fg_flow_key *rev)
{
	int i;

FG_UNROLL
	for (i = 0; i < 4; i++) {
		rev->src[i] = key->dst[i];
		rev->dst[i] = key->src[i];
	}
	rev->sport = key->dport;
	rev->dport = key->sport;
	rev->proto = key->proto;
	rev->family = key->family;
	rev->pad = 0;
}

/* ------------------------------------------------------------ SipHash */

#define FG_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define FG_SIPROUND(v0, v1, v2, v3)                                          \
	do {                                                                 \
		v0 += v1; v1 = FG_ROTL64(v1, 13); v1 ^= v0;                  \
		v0 = FG_ROTL64(v0, 32);                                      \
		v2 += v3; v3 = FG_ROTL64(v3, 16); v3 ^= v2;                  \
		v0 += v3; v3 = FG_ROTL64(v3, 21); v3 ^= v0;                  \
		v2 += v1; v1 = FG_ROTL64(v1, 17); v1 ^= v2;                  \
		v2 = FG_ROTL64(v2, 32);                                      \
	} while (0)

/*
 * fg_siphash13 - SipHash-1-3 of `nwords` 64-bit little-endian words (a
 * message of nwords * 8 bytes). nwords must be a compile-time constant no
 * larger than FG_FLOW_KEY_WORDS in BPF callers (the loop is unrolled).
 * Returns the 64-bit hash. Context: any.
 */
FG_INLINE __u64 fg_siphash13(const fg_word_t *words, const unsigned int nwords,
			     const struct fg_hash_seed *seed)
{
	__u64 v0 = seed->k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = seed->k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = seed->k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = seed->k1 ^ 0x7465646279746573ULL;
	__u64 b = (__u64)(nwords * 8) << 56;
	unsigned int i;

FG_UNROLL
	for (i = 0; i < nwords; i++) {
		__u64 m = words[i];

		v3 ^= m;
		FG_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	v3 ^= b;
	FG_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	FG_SIPROUND(v0, v1, v2, v3);
	FG_SIPROUND(v0, v1, v2, v3);
	FG_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * fg_flow_hash - keyed hash of the whole 5-tuple. Returns a 64-bit hash;
 * the same key and seed always give the same value. Context: any.
 */
FG_INLINE __u64 fg_flow_hash(const struct fg_flow_key *key,
			     const struct fg_hash_seed *seed)
{
	return fg_siphash13((const fg_word_t *)key, FG_FLOW_KEY_WORDS, seed);
}

/*
 * fg_flow_hash_src - keyed hash of the source address alone (client
 * affinity: every flow of a client lands on one backend). Context: any.
 */
FG_INLINE __u64 fg_flow_hash_src(const struct fg_flow_key *key,
				 const struct fg_hash_seed *seed)
{
	/* src is the key's first 16 bytes, 8-aligned; the family makes a
	 * third word so an IPv4 and an IPv6 source never collide by
	 * construction. */
	const fg_word_t *src = (const fg_word_t *)key;
	fg_word_t w[3];

	w[0] = src[0];
	w[1] = src[1];
	w[2] = key->family;
	return fg_siphash13(w, 3, seed);
}

/*
 * fg_flow_endpoint_less - 1 when the source endpoint (address, port) of
 * *key sorts before its destination endpoint, else 0. Addresses compare as
 * big-endian numbers word by word, then ports.
 */
FG_INLINE int fg_flow_endpoint_less(const struct fg_flow_key *key)
{
	int i;

FG_UNROLL
	for (i = 0; i < 4; i++) {
		__u32 s = fg_ntohl(key->src[i]), d = fg_ntohl(key->dst[i]);

		if (s != d)
			return s < d;
	}
	return fg_ntohs(key->sport) < fg_ntohs(key->dport);
}

/*
 * fg_flow_hash_sym - keyed hash that is the same for both directions of a
 * flow (fg_flow_hash_sym(k) == fg_flow_hash_sym(reverse(k))): NAT state and
 * per-flow limits find one entry whichever side a packet comes from.
 * Returns the 64-bit hash. Context: any.
 */
FG_INLINE __u64 fg_flow_hash_sym(const struct fg_flow_key *key,
				 const struct fg_hash_seed *seed)
{
	struct fg_flow_key canon;

	if (fg_flow_endpoint_less(key))
		return fg_flow_hash(key, seed);
	fg_flow_key_reverse(key, &canon);
	return fg_flow_hash(&canon, seed);
}

#endif /* FG_FLOW_H */
