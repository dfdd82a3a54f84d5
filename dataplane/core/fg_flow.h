/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_flow.h - flow keys and the keyed flow hash.
 *
 * The hash is NH, the inner hash of UMAC (Black et al., CRYPTO 1999), over
 * the key's 32-bit words with a secret key chosen at load time, then the
 * MurmurHash3 64-bit finaliser to spread it over every bit. NH is
 * almost-universal: for any two distinct flow keys, the chance over the
 * secret that they collide is about 2^-32, so without the secret an
 * outsider cannot aim flows at one Maglev slot or one connection-table
 * bucket. It costs five independent 32x32->64 multiplies and a finaliser,
 * a fifth of what SipHash-1-3 cost on the XDP fast path (~45 ns there).
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

/* The secret hash key: k0, k1 and lane[0..2] key NH's ten 32-bit lanes,
 * lane[3] starts its sum. Chosen at random at load time (getrandom). */
struct fg_hash_seed {
	__u64 k0;
	__u64 k1;
	__u64 lane[4];
};
FG_ASSERT_SIZE(struct fg_hash_seed, 48);

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

/* ----------------------------------------------------------------- NH */

/* fg_hash_fmix64 - MurmurHash3's 64-bit finaliser: every input bit
 * reaches every output bit. Context: any. */
FG_INLINE __u64 fg_hash_fmix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* One NH term: (a + ka) * (b + kb), lanes mod 2^32, product mod 2^64. */
FG_INLINE __u64 fg_nh_term(__u32 a, __u32 b, __u64 k)
{
	return (__u64)(__u32)(a + (__u32)k) * (__u32)(b + (__u32)(k >> 32));
}

/*
 * fg_nh_pairs - NH over the first five 64-bit words of w, from sum init:
 * word 0's halves pair with word 2's, word 1's with word 3's (source with
 * destination, in a flow key), word 4's low half with its high half; the
 * seed keys the five pairs. Context: any.
 */
FG_INLINE __u64 fg_nh_pairs(const fg_word_t *w, __u64 init,
			    const struct fg_hash_seed *seed)
{
	__u64 s0 = w[0], s1 = w[1], d0 = w[2], d1 = w[3], t = w[4];
	__u64 h = init;

	h += fg_nh_term((__u32)s0, (__u32)d0, seed->k0);
	h += fg_nh_term((__u32)(s0 >> 32), (__u32)(d0 >> 32), seed->k1);
	h += fg_nh_term((__u32)s1, (__u32)d1, seed->lane[0]);
	h += fg_nh_term((__u32)(s1 >> 32), (__u32)(d1 >> 32), seed->lane[1]);
	h += fg_nh_term((__u32)t, (__u32)(t >> 32), seed->lane[2]);
	return h;
}

/*
 * fg_flow_hash - keyed hash of the whole 5-tuple. Returns a 64-bit hash;
 * the same key and seed always give the same value. The low bits index
 * connection-table buckets, the high 32 pick the Maglev slot
 * (fg_maglev_slot). Context: any.
 *
 * NH pairs the source's word i with the destination's word i, so an IPv4
 * tuple's two addresses multiply each other rather than a zero word.
 */
FG_INLINE __u64 fg_flow_hash(const struct fg_flow_key *key,
			     const struct fg_hash_seed *seed)
{
	return fg_hash_fmix64(fg_nh_pairs((const fg_word_t *)key,
					  seed->lane[3], seed));
}

/*
 * fg_flow_hash_src - keyed hash of the source address alone (client
 * affinity: every flow of a client lands on one backend). Context: any.
 */
FG_INLINE __u64 fg_flow_hash_src(const struct fg_flow_key *key,
				 const struct fg_hash_seed *seed)
{
	/* src is the key's first 16 bytes, 8-aligned; the family joins the
	 * sum so an IPv4 and an IPv6 source never collide by construction.
	 * Each lane pair is (word, word ^ next word): an IPv4 source, whose
	 * other words are zero, then multiplies itself, where a zero partner
	 * lane would leave the sum linear in it. */
	const fg_word_t *w = (const fg_word_t *)key;
	__u64 s0 = w[0], s1 = w[1];
	__u32 a0 = (__u32)s0, a1 = (__u32)s1;
	__u64 h = seed->lane[3] + key->family;

	h += fg_nh_term(a0, a0 ^ (__u32)(s0 >> 32), seed->k0);
	h += fg_nh_term(a1, a1 ^ (__u32)(s1 >> 32), seed->k1);
	return fg_hash_fmix64(h);
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
