/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_flow.c - flow keys and the keyed SipHash-1-3 flow hash.
 *
 * fg_siphash13 is checked against a plain byte-oriented SipHash-c-d written
 * here from the paper, which is itself checked against the reference
 * SipHash-2-4 test vector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "fg_flow.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void ref_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

/* SipHash-c-d over bytes, any length, straight from the paper. */
static uint64_t ref_siphash(int c, int d, const uint8_t key[16],
			    const uint8_t *msg, size_t len)
{
	uint64_t k0 = 0, k1 = 0, v[4], m, b;
	size_t i, j, blocks = len / 8;

	for (i = 0; i < 8; i++) {
		k0 |= (uint64_t)key[i] << (8 * i);
		k1 |= (uint64_t)key[8 + i] << (8 * i);
	}
	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
	for (i = 0; i < blocks; i++) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)msg[8 * i + j] << (8 * j);
		v[3] ^= m;
		for (j = 0; j < (size_t)c; j++)
			ref_round(v);
		v[0] ^= m;
	}
	b = (uint64_t)len << 56;
	for (j = 0; j < len % 8; j++)
		b |= (uint64_t)msg[8 * blocks + j] << (8 * j);
	v[3] ^= b;
	for (j = 0; j < (size_t)c; j++)
		ref_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (j = 0; j < (size_t)d; j++)
		ref_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void seed_from_bytes(const uint8_t key[16], struct fg_hash_seed *s)
{
	s->k0 = fg_load_le64(key);
	s->k1 = fg_load_le64(key + 8);
}

static void test_reference_matches_siphash24_vector(void **state)
{
	uint8_t key[16], msg[15];
	int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	/* The SipHash paper's test vector, appendix A. */
	assert_int_equal(ref_siphash(2, 4, key, msg, 15), 0xa129ca6149be45e5ULL);
}

static void test_siphash13_matches_reference(void **state)
{
	uint8_t key[16], msg[40];
	__u64 words[5];
	struct fg_hash_seed seed;
	int trial, i;

	srand(7);
	for (trial = 0; trial < 1000; trial++) {
		for (i = 0; i < 16; i++)
			key[i] = (uint8_t)rand();
		for (i = 0; i < 40; i++)
			msg[i] = (uint8_t)rand();
		seed_from_bytes(key, &seed);
		for (i = 0; i < 5; i++)
			words[i] = fg_load_le64(msg + 8 * i);
		assert_int_equal(fg_siphash13(words, 5, &seed),
				 ref_siphash(1, 3, key, msg, 40));
		assert_int_equal(fg_siphash13(words, 3, &seed),
				 ref_siphash(1, 3, key, msg, 24));
	}
}

static void make_key4(struct fg_flow_key *k, const char *src, uint16_t sport,
		      const char *dst, uint16_t dport, uint8_t proto)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(inet_pton(AF_INET, src, &k->src[0]), 1);
	assert_int_equal(inet_pton(AF_INET, dst, &k->dst[0]), 1);
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->proto = proto;
	k->family = FG_AF_INET;
}

static void make_key6(struct fg_flow_key *k, const char *src, uint16_t sport,
		      const char *dst, uint16_t dport, uint8_t proto)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(inet_pton(AF_INET6, src, k->src), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, k->dst), 1);
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->proto = proto;
	k->family = FG_AF_INET6;
}

static void test_flow_hash_is_the_siphash_of_the_key_bytes(void **state)
{
	struct fg_hash_seed seed = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t key[16];
	struct fg_flow_key k;
	int i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	make_key6(&k, "2001:db8::1", 40000, "2001:db8:1::10", 443, IPPROTO_TCP);
	assert_int_equal(fg_flow_hash(&k, &seed),
			 ref_siphash(1, 3, key, (const uint8_t *)&k, sizeof(k)));
}

static void test_flow_hash_depends_on_every_field_and_seed(void **state)
{
	struct fg_hash_seed seed = { 1, 2 }, seed2 = { 1, 3 };
	struct fg_flow_key base, k;
	uint64_t h;
	size_t byte;
	int bit;

	make_key4(&base, "198.18.0.1", 1234, "198.18.0.10", 80, IPPROTO_TCP);
	h = fg_flow_hash(&base, &seed);
	assert_int_equal(h, fg_flow_hash(&base, &seed));
	assert_int_not_equal(h, fg_flow_hash(&base, &seed2));
	/* Flipping any single bit of the key changes the hash. */
	for (byte = 0; byte < sizeof(base); byte++) {
		for (bit = 0; bit < 8; bit++) {
			k = base;
			((uint8_t *)&k)[byte] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(h, fg_flow_hash(&k, &seed));
		}
	}
}

static void test_flow_hash_spreads_sequential_ports(void **state)
{
	/* 65536 flows differing only in source port, into 16 buckets: with a
	 * good hash every bucket holds 4096 +- a few sigma (sigma ~ 62). */
	struct fg_hash_seed seed = { 0x1234, 0x5678 };
	unsigned int buckets[16] = { 0 };
	struct fg_flow_key k;
	unsigned int p, i;

	make_key4(&k, "198.18.0.1", 0, "198.18.0.10", 80, IPPROTO_TCP);
	for (p = 0; p < 65536; p++) {
		k.sport = htons((uint16_t)p);
		buckets[fg_flow_hash(&k, &seed) & 15]++;
	}
	for (i = 0; i < 16; i++) {
		assert_in_range(buckets[i], 4096 - 400, 4096 + 400);
	}
}

static void test_reverse_and_symmetric_hash(void **state)
{
	struct fg_hash_seed seed = { 42, 43 };
	struct fg_flow_key k, r, rr;

	make_key4(&k, "198.18.0.7", 5555, "198.19.0.1", 8080, IPPROTO_UDP);
	fg_flow_key_reverse(&k, &r);
	assert_memory_equal(r.src, k.dst, sizeof(k.dst));
	assert_memory_equal(r.dst, k.src, sizeof(k.src));
	assert_int_equal(r.sport, k.dport);
	assert_int_equal(r.dport, k.sport);
	assert_int_equal(r.proto, k.proto);
	fg_flow_key_reverse(&r, &rr);
	assert_memory_equal(&rr, &k, sizeof(k));

	assert_int_equal(fg_flow_hash_sym(&k, &seed), fg_flow_hash_sym(&r, &seed));
	assert_int_not_equal(fg_flow_hash(&k, &seed), fg_flow_hash(&r, &seed));

	make_key6(&k, "2001:db8::5", 1, "2001:db8::5", 2, IPPROTO_TCP);
	fg_flow_key_reverse(&k, &r);
	assert_int_equal(fg_flow_hash_sym(&k, &seed), fg_flow_hash_sym(&r, &seed));
	/* Same address, same port: the flow is its own reverse. */
	make_key4(&k, "198.18.0.1", 9, "198.18.0.1", 9, IPPROTO_UDP);
	fg_flow_key_reverse(&k, &r);
	assert_memory_equal(&k, &r, sizeof(k));
	assert_int_equal(fg_flow_hash_sym(&k, &seed), fg_flow_hash(&k, &seed));
}

static void test_src_hash_ignores_everything_but_source(void **state)
{
	struct fg_hash_seed seed = { 9, 10 };
	struct fg_flow_key a, b;

	make_key4(&a, "198.18.3.4", 1000, "198.18.0.10", 80, IPPROTO_TCP);
	make_key4(&b, "198.18.3.4", 2000, "198.18.0.11", 443, IPPROTO_UDP);
	assert_int_equal(fg_flow_hash_src(&a, &seed), fg_flow_hash_src(&b, &seed));
	make_key4(&b, "198.18.3.5", 1000, "198.18.0.10", 80, IPPROTO_TCP);
	assert_int_not_equal(fg_flow_hash_src(&a, &seed), fg_flow_hash_src(&b, &seed));
	/* The family is hashed: an IPv4 address and the IPv6 address with the
	 * same first word do not collide by construction. */
	b = a;
	b.family = FG_AF_INET6;
	assert_int_not_equal(fg_flow_hash_src(&a, &seed), fg_flow_hash_src(&b, &seed));
}

static void test_key_from_pkt(void **state)
{
	struct fg_pkt pkt;
	struct fg_flow_key k;

	memset(&pkt, 0, sizeof(pkt));
	pkt.family = FG_AF_INET6;
	pkt.l4_proto = IPPROTO_TCP;
	pkt.flags = FG_PKT_F_L4;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", pkt.src), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", pkt.dst), 1);
	pkt.sport = htons(1);
	pkt.dport = htons(2);
	memset(&k, 0xaa, sizeof(k));
	fg_flow_key_from_pkt(&pkt, &k);
	assert_memory_equal(k.src, pkt.src, 16);
	assert_memory_equal(k.dst, pkt.dst, 16);
	assert_int_equal(k.sport, htons(1));
	assert_int_equal(k.dport, htons(2));
	assert_int_equal(k.proto, IPPROTO_TCP);
	assert_int_equal(k.family, FG_AF_INET6);
	assert_int_equal(k.pad, 0);

	/* No L4 header (a later fragment): ports are zero whatever the
	 * parser left in the struct. */
	pkt.flags = FG_PKT_F_FRAG | FG_PKT_F_FRAG_TAIL;
	fg_flow_key_from_pkt(&pkt, &k);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_matches_siphash24_vector),
		cmocka_unit_test(test_siphash13_matches_reference),
		cmocka_unit_test(test_flow_hash_is_the_siphash_of_the_key_bytes),
		cmocka_unit_test(test_flow_hash_depends_on_every_field_and_seed),
		cmocka_unit_test(test_flow_hash_spreads_sequential_ports),
		cmocka_unit_test(test_reverse_and_symmetric_hash),
		cmocka_unit_test(test_src_hash_ignores_everything_but_source),
		cmocka_unit_test(test_key_from_pkt),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
