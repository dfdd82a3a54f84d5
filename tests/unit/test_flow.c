/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_flow.c - flow keys and the keyed NH flow hash.
 *
 * fg_flow_hash and fg_flow_hash_src are checked against a plain
 * byte-oriented NH + fmix64 written here from the definition in fg_flow.h
 * (the key's bytes as 32-bit little-endian lanes m[0..9], NH over the
 * pairs (m[i], m[i+4]) for i < 4 and (m[8], m[9]), each keyed by one 64-bit
 * seed word split into two 32-bit halves, then MurmurHash3's finaliser),
 * on random keys and seeds, and both against known answers (pinned
 * conntrack tables outlive the loader that hashed them); then for what the
 * dataplane relies on: every seed word and every key byte matters, and a
 * million sequential flows spread evenly over connection-table buckets
 * (the low bits) and over a Maglev ring (the high bits, fg_maglev_slot).
 * Last, the connection table's way helpers: tags, packing and tick
 * arithmetic.
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
#include "fg_maglev.h"
#include "fg_tables.h"

/* ------------------------------------------------------------ reference */

/* xorshift64*: reproducible random keys and seeds. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t ref_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* MurmurHash3's fmix64, as published. */
static uint64_t ref_fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* NH over n lane pairs (a[i], b[i]) with keys key[i]: the sum of
 * ((a + key_lo) mod 2^32) * ((b + key_hi) mod 2^32), mod 2^64, from init. */
static uint64_t ref_nh(const uint32_t *a, const uint32_t *b,
		       const uint64_t *key, int n, uint64_t init)
{
	uint64_t sum = init;
	int i;

	for (i = 0; i < n; i++) {
		uint32_t x = a[i] + (uint32_t)(key[i] & 0xffffffffU);
		uint32_t y = b[i] + (uint32_t)(key[i] >> 32);

		sum += (uint64_t)x * (uint64_t)y;
	}
	return sum;
}

/* The 5-tuple hash from the key's 40 bytes: lanes m[0..3] are the source,
 * m[4..7] the destination, m[8] the ports, m[9] proto, family and pad. */
static uint64_t ref_flow_hash(const uint8_t bytes[40],
			      const struct fg_hash_seed *s)
{
	uint64_t key[5] = { s->k0, s->k1, s->lane[0], s->lane[1], s->lane[2] };
	uint32_t m[10], a[5], b[5];
	int i;

	for (i = 0; i < 10; i++)
		m[i] = ref_le32(bytes + 4 * i);
	for (i = 0; i < 4; i++) {
		a[i] = m[i];
		b[i] = m[i + 4];
	}
	a[4] = m[8];
	b[4] = m[9];
	return ref_fmix64(ref_nh(a, b, key, 5, s->lane[3]));
}

/* The source hash: the source's lanes paired (m0, m0 ^ m1),
 * (m2, m2 ^ m3), the family (byte 37) added to the initial sum. */
static uint64_t ref_src_hash(const uint8_t bytes[40],
			     const struct fg_hash_seed *s)
{
	uint64_t key[2] = { s->k0, s->k1 };
	uint32_t a[2] = { ref_le32(bytes), ref_le32(bytes + 8) };
	uint32_t b[2] = { a[0] ^ ref_le32(bytes + 4), a[1] ^ ref_le32(bytes + 12) };

	return ref_fmix64(ref_nh(a, b, key, 2, s->lane[3] + bytes[37]));
}

static void rnd_seed(uint64_t *r, struct fg_hash_seed *s)
{
	int i;

	s->k0 = rnd(r);
	s->k1 = rnd(r);
	for (i = 0; i < 4; i++)
		s->lane[i] = rnd(r);
}

/* A random key: every byte random (pad too: the hash reads all 40). */
static void rnd_key(uint64_t *r, struct fg_flow_key *k)
{
	uint8_t *p = (uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		p[i] = (uint8_t)rnd(r);
}

/* -------------------------------------------------------------- tests */

static void test_reference_layout(void **state)
{
	/* The reference's byte offsets are the struct's. */
	(void)state;
	assert_int_equal(offsetof(struct fg_flow_key, src), 0);
	assert_int_equal(offsetof(struct fg_flow_key, dst), 16);
	assert_int_equal(offsetof(struct fg_flow_key, sport), 32);
	assert_int_equal(offsetof(struct fg_flow_key, dport), 34);
	assert_int_equal(offsetof(struct fg_flow_key, proto), 36);
	assert_int_equal(offsetof(struct fg_flow_key, family), 37);
	assert_int_equal(sizeof(struct fg_flow_key), 40);
	assert_int_equal(sizeof(struct fg_hash_seed), 48);
	/* fmix64: 0 is its fixed point, and one input bit moves about half
	 * the output's. */
	assert_true(ref_fmix64(0) == 0);
	assert_true(fg_hash_fmix64(0) == 0);
	assert_in_range(__builtin_popcountll(ref_fmix64(1)), 16, 48);
}

static void test_flow_hash_matches_reference(void **state)
{
	uint64_t r = 0x853c49e6748fea9bULL;
	struct fg_hash_seed seed;
	struct fg_flow_key k;
	int trial;

	(void)state;
	for (trial = 0; trial < 100000; trial++) {
		rnd_seed(&r, &seed);
		rnd_key(&r, &k);
		assert_true(fg_flow_hash(&k, &seed) ==
			    ref_flow_hash((const uint8_t *)&k, &seed));
		assert_true(fg_flow_hash_src(&k, &seed) ==
			    ref_src_hash((const uint8_t *)&k, &seed));
		assert_true(fg_hash_fmix64(seed.k0) == ref_fmix64(seed.k0));
	}
	/* Edge seeds: all zero, all ones (every lane sum wraps). */
	memset(&seed, 0, sizeof(seed));
	rnd_key(&r, &k);
	assert_true(fg_flow_hash(&k, &seed) ==
		    ref_flow_hash((const uint8_t *)&k, &seed));
	memset(&seed, 0xff, sizeof(seed));
	memset(&k, 0xff, sizeof(k));
	assert_true(fg_flow_hash(&k, &seed) ==
		    ref_flow_hash((const uint8_t *)&k, &seed));
	assert_true(fg_flow_hash_src(&k, &seed) ==
		    ref_src_hash((const uint8_t *)&k, &seed));
}

static void test_flow_hash_every_seed_word_matters(void **state)
{
	uint64_t r = 0x1234;
	__u64 *w;
	struct fg_hash_seed seed, s2;
	struct fg_flow_key k;
	int trial, word, bit;

	(void)state;
	for (trial = 0; trial < 1000; trial++) {
		uint64_t h, hs;

		rnd_seed(&r, &seed);
		rnd_key(&r, &k);
		h = fg_flow_hash(&k, &seed);
		hs = fg_flow_hash_src(&k, &seed);
		for (word = 0; word < 6; word++) {
			bit = (int)(rnd(&r) % 64);
			s2 = seed;
			w = word == 0 ? &s2.k0 : word == 1 ? &s2.k1 :
			    &s2.lane[word - 2];
			*w ^= 1ULL << bit;
			assert_true(fg_flow_hash(&k, &s2) != h);
			/* The source hash is keyed by k0, k1 and lane[3]. */
			if (word < 2 || word == 5)
				assert_true(fg_flow_hash_src(&k, &s2) != hs);
		}
	}
}

static void test_flow_hash_every_key_byte_matters(void **state)
{
	uint64_t r = 0xfeed;
	struct fg_hash_seed seed;
	struct fg_flow_key base, k;
	size_t byte;
	int trial, bit;

	(void)state;
	for (trial = 0; trial < 200; trial++) {
		uint64_t h, hs;

		rnd_seed(&r, &seed);
		rnd_key(&r, &base);
		h = fg_flow_hash(&base, &seed);
		hs = fg_flow_hash_src(&base, &seed);
		for (byte = 0; byte < sizeof(base); byte++) {
			int src_part = byte < 16 ||
				byte == offsetof(struct fg_flow_key, family);

			for (bit = 0; bit < 8; bit++) {
				k = base;
				((uint8_t *)&k)[byte] ^= (uint8_t)(1u << bit);
				assert_true(fg_flow_hash(&k, &seed) != h);
				/* The source hash: the source and the
				 * family, nothing else. */
				assert_true((fg_flow_hash_src(&k, &seed) != hs) ==
					    src_part);
			}
			/* And a random change of the whole byte. */
			k = base;
			((uint8_t *)&k)[byte] ^= (uint8_t)(1 + rnd(&r) % 255);
			assert_true(fg_flow_hash(&k, &seed) != h);
		}
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

/*
 * Known answers: fixed keys under a fixed seed, with the hashes this
 * version computes. A flow's conntrack line and Maglev slot come from
 * fg_flow_hash, and a restarted loader adopts the pinned tables with the
 * pinned seed (fg_xdp.c), so a hash that changes moves every live flow:
 * if these vectors must change, FG_XDP_STATE_LAYOUT must change with them.
 * The reference above is held to the same numbers, so neither can drift
 * alone.
 */
static void test_flow_hash_known_answers(void **state)
{
	static const struct fg_hash_seed seed = {
		0xc0ac29b7c97c50ddULL, 0x3f84d5b5b5470917ULL,
		{ 0x9216d5d98979fb1bULL, 0xd1310ba698dfb5acULL,
		  0x2ffd72dbd01adfb7ULL, 0xb8e1afed6a267e96ULL } };
	static const struct {
		int family;
		const char *src, *dst;
		uint16_t sport, dport;
		uint8_t proto;
		uint64_t hash, src_hash, sym;
	} kat[] = {
		{ FG_AF_INET, "198.18.0.7", "198.19.0.1", 40000, 80,
		  IPPROTO_TCP, 0x0eab24b2f02506dcULL, 0x32eef90d10edfa4cULL,
		  0x0eab24b2f02506dcULL },
		{ FG_AF_INET6, "2001:db8::1", "2001:db8::2", 5353, 53,
		  IPPROTO_UDP, 0x266c20b3cb0050ceULL, 0x096b84cfcefe0872ULL,
		  0x266c20b3cb0050ceULL },
		/* The first flow's reply: its own hash, the first's sym. */
		{ FG_AF_INET, "198.19.0.1", "198.18.0.7", 80, 40000,
		  IPPROTO_TCP, 0x66bace8e93bf8d80ULL, 0x19cd1217c344bfbdULL,
		  0x0eab24b2f02506dcULL },
	};
	struct fg_flow_key k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		if (kat[i].family == FG_AF_INET)
			make_key4(&k, kat[i].src, kat[i].sport, kat[i].dst,
				  kat[i].dport, kat[i].proto);
		else
			make_key6(&k, kat[i].src, kat[i].sport, kat[i].dst,
				  kat[i].dport, kat[i].proto);
		assert_true(fg_flow_hash(&k, &seed) == kat[i].hash);
		assert_true(fg_flow_hash_src(&k, &seed) == kat[i].src_hash);
		assert_true(fg_flow_hash_sym(&k, &seed) == kat[i].sym);
		assert_true(ref_flow_hash((const uint8_t *)&k, &seed) ==
			    kat[i].hash);
		assert_true(ref_src_hash((const uint8_t *)&k, &seed) ==
			    kat[i].src_hash);
	}
}

/* ------------------------------------------------------- distribution */

#define DIST_FLOWS 1000000U
#define DIST_BUCKETS 1024U
#define DIST_RING_M FG_MAGLEV_M_DEFAULT
#define DIST_BACKENDS 100U

typedef __u64 (*hash_fn)(const struct fg_flow_key *,
			 const struct fg_hash_seed *);

/* NH without its finaliser: linear in each lane, so sequential keys make
 * arithmetic progressions. The statistic below must reject it, or the
 * test could not tell a broken hash from a good one. */
static __u64 nh_unmixed(const struct fg_flow_key *key,
			const struct fg_hash_seed *s)
{
	uint64_t k[5] = { s->k0, s->k1, s->lane[0], s->lane[1], s->lane[2] };
	const uint8_t *b = (const uint8_t *)key;
	uint32_t a[5], c[5];
	int i;

	for (i = 0; i < 4; i++) {
		a[i] = ref_le32(b + 4 * i);
		c[i] = ref_le32(b + 16 + 4 * i);
	}
	a[4] = ref_le32(b + 32);
	c[4] = ref_le32(b + 36);
	return ref_nh(a, c, k, 5, s->lane[3]);
}

/* Flow i of a set of sequential IPv4 flows to one VIP: mode 0 varies the
 * client address (one port each), mode 1 the port first (60000 ports per
 * client address, as a few NATed clients look). */
static void seq_key(struct fg_flow_key *k, uint32_t i, int mode)
{
	memset(k, 0, sizeof(*k));
	if (mode == 0) {
		k->src[0] = htonl(0x0a000000U + i);
		k->sport = htons(40000);
	} else {
		k->src[0] = htonl(0x0a000000U + i / 60000);
		k->sport = htons((uint16_t)(1024 + i % 60000));
	}
	k->dst[0] = htonl(0xc612000aU);
	k->dport = htons(80);
	k->proto = IPPROTO_TCP;
	k->family = FG_AF_INET;
}

struct dist {
	double chi2_buckets, sd_buckets, max_mean_buckets;
	double chi2_ring, sd_ring, max_mean_ring;
	double max_mean_backends;
};

/* Pearson's chi-square of counts against the uniform expectation, with
 * the standard deviation of the statistic (sqrt(2 dof)) in *sd and the
 * largest count over the mean in *max_mean. */
static double chi2(const uint32_t *c, uint32_t n, uint32_t total, double *sd,
		   double *max_mean)
{
	double mean = (double)total / n, x = 0;
	uint32_t i, max = 0;

	for (i = 0; i < n; i++) {
		double d = c[i] - mean;

		x += d * d / mean;
		if (c[i] > max)
			max = c[i];
	}
	*sd = __builtin_sqrt(2.0 * (n - 1));
	*max_mean = max / mean;
	return x;
}

/* Hash DIST_FLOWS sequential flows: the low 10 bits into 1024 buckets
 * (connection-table sets), fg_maglev_slot into a ring of DIST_RING_M
 * slots, and through a Maglev ring of DIST_BACKENDS equal backends. */
static void distribute(hash_fn fn, const struct fg_hash_seed *seed, int mode,
		       const __u32 *ring, struct dist *d)
{
	uint32_t *buckets = calloc(DIST_BUCKETS, sizeof(*buckets));
	uint32_t *slots = calloc(DIST_RING_M, sizeof(*slots));
	uint32_t be[DIST_BACKENDS] = { 0 }, i, max = 0;
	struct fg_flow_key k;

	assert_non_null(buckets);
	assert_non_null(slots);
	for (i = 0; i < DIST_FLOWS; i++) {
		__u64 h;
		__u32 s;

		seq_key(&k, i, mode);
		h = fn(&k, seed);
		buckets[h & (DIST_BUCKETS - 1)]++;
		s = fg_maglev_slot(h, DIST_RING_M);
		assert_true(s < DIST_RING_M);
		slots[s]++;
		be[ring[s]]++;
	}
	d->chi2_buckets = chi2(buckets, DIST_BUCKETS, DIST_FLOWS,
			       &d->sd_buckets, &d->max_mean_buckets);
	d->chi2_ring = chi2(slots, DIST_RING_M, DIST_FLOWS, &d->sd_ring,
			    &d->max_mean_ring);
	for (i = 0; i < DIST_BACKENDS; i++)
		if (be[i] > max)
			max = be[i];
	d->max_mean_backends = max / ((double)DIST_FLOWS / DIST_BACKENDS);
	free(slots);
	free(buckets);
}

/*
 * Acceptable: each chi-square within 6 standard deviations of its degrees
 * of freedom on either side (too even is as suspect as too lumpy: a
 * linear hash spreads a sequence perfectly evenly), the fullest of the
 * 1024 buckets (mean ~977, sigma ~31) under 1.25 x the mean, the fullest
 * ring slot (mean ~15) under 4 x, the busiest of 100 backends (mean 10000,
 * sigma 100) under 1.06 x. A good hash lands near the middle of every
 * bound; NH without its finaliser misses by orders of magnitude.
 */
static int dist_ok(const struct dist *d)
{
	double dof_b = DIST_BUCKETS - 1, dof_r = DIST_RING_M - 1;

	return d->chi2_buckets > dof_b - 6 * d->sd_buckets &&
	       d->chi2_buckets < dof_b + 6 * d->sd_buckets &&
	       d->chi2_ring > dof_r - 6 * d->sd_ring &&
	       d->chi2_ring < dof_r + 6 * d->sd_ring &&
	       d->max_mean_buckets < 1.25 && d->max_mean_ring < 4.0 &&
	       d->max_mean_backends < 1.06;
}

static void test_flow_hash_spreads_sequential_flows(void **state)
{
	struct fg_maglev_backend b[DIST_BACKENDS];
	uint64_t r = 0x5eed;
	struct fg_hash_seed seeds[3];
	__u32 *ring = malloc(DIST_RING_M * sizeof(*ring)), i;
	struct dist d;
	int s, mode;

	(void)state;
	assert_non_null(ring);
	for (i = 0; i < DIST_BACKENDS; i++) {
		b[i].id = 0xc6130000ULL + i;
		b[i].weight = 1;
	}
	assert_int_equal(fg_maglev_build(b, DIST_BACKENDS, ring, DIST_RING_M),
			 0);
	/* A small seed, the one the XDP benchmark uses, and a random one. */
	memset(&seeds[0], 0, sizeof(seeds[0]));
	seeds[0].k0 = 1;
	seeds[0].k1 = 2;
	for (i = 0; i < 4; i++)
		seeds[0].lane[i] = 3 + i;
	seeds[1].k0 = 0x0706050403020100ULL;
	seeds[1].k1 = 0x0f0e0d0c0b0a0908ULL;
	for (i = 0; i < 4; i++)
		seeds[1].lane[i] = seeds[1].k1 +
				   0x0808080808080808ULL * (i + 1);
	rnd_seed(&r, &seeds[2]);

	for (s = 0; s < 3; s++) {
		for (mode = 0; mode < 2; mode++) {
			distribute(fg_flow_hash, &seeds[s], mode, ring, &d);
			print_message("seed %d flows %s: buckets chi2 %.0f "
				      "(dof %u) max/mean %.3f; ring chi2 %.0f "
				      "(dof %u) max/mean %.3f; backends "
				      "max/mean %.4f\n", s,
				      mode ? "by port" : "by address",
				      d.chi2_buckets, DIST_BUCKETS - 1,
				      d.max_mean_buckets, d.chi2_ring,
				      DIST_RING_M - 1, d.max_mean_ring,
				      d.max_mean_backends);
			assert_true(dist_ok(&d));
		}
	}
	/* The statistic has teeth: the unmixed sum fails it. */
	for (mode = 0; mode < 2; mode++) {
		distribute(nh_unmixed, &seeds[1], mode, ring, &d);
		print_message("unmixed NH, flows %s: buckets chi2 %.0f, ring "
			      "chi2 %.0f (rejected)\n",
			      mode ? "by port" : "by address", d.chi2_buckets,
			      d.chi2_ring);
		assert_false(dist_ok(&d));
	}
	free(ring);
}

static void test_reverse_and_symmetric_hash(void **state)
{
	struct fg_hash_seed seed = {
		0xc0ac29b7c97c50ddULL, 0x3f84d5b5b5470917ULL,
		{ 0x9216d5d98979fb1bULL, 0xd1310ba698dfb5acULL,
		  0x2ffd72dbd01adfb7ULL, 0xb8e1afed6a267e96ULL } };
	struct fg_flow_key k, r, rr;
	uint64_t rs = 0xabcdef;
	int trial;

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

	/* Random tuples of both families, random seeds: the symmetric hash
	 * is one direction's plain hash, the same from either side. */
	for (trial = 0; trial < 10000; trial++) {
		uint64_t hk, hr;

		rnd_seed(&rs, &seed);
		rnd_key(&rs, &k);
		k.pad = 0;
		k.family = trial & 1 ? FG_AF_INET6 : FG_AF_INET;
		if (k.family == FG_AF_INET) {
			memset(&k.src[1], 0, 12);
			memset(&k.dst[1], 0, 12);
		}
		if (trial % 16 == 0) /* same address both ends */
			memcpy(k.dst, k.src, sizeof(k.src));
		fg_flow_key_reverse(&k, &r);
		hk = fg_flow_hash(&k, &seed);
		hr = fg_flow_hash(&r, &seed);
		assert_true(fg_flow_hash_sym(&k, &seed) ==
			    fg_flow_hash_sym(&r, &seed));
		assert_true(fg_flow_hash_sym(&k, &seed) == hk ||
			    fg_flow_hash_sym(&k, &seed) == hr);
	}
}

static void test_src_hash_ignores_everything_but_source(void **state)
{
	/* Full-width seed words, as getrandom gives: NH multiplies each
	 * lane by the other lane plus a key half, and an IPv4 source's
	 * second lane is zero, so a seed whose k0 has a zero high half (a
	 * chance of 2^-32 at load time) would make the source hash ignore
	 * the IPv4 address. */
	struct fg_hash_seed seed = {
		0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
		{ 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL,
		  0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL } };
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

/* ------------------------------------------------------- conntrack ways */

/* A tag is the hash's high half (never 0: 0 marks a free way) and bits
 * 16-31, and does not depend on the bits that chose the line: flows of
 * one line whose hashes differ anywhere above the line bits are told
 * apart. */
static void test_ct_tag_and_line(void **state)
{
	struct fg_ct_line tab[64];
	uint64_t s = 7;
	int i;

	assert_int_equal(fg_ct_tag(0x00000000deadbeefULL), 1);
	assert_int_equal(fg_ct_tag(0x1234567800000000ULL), 0x12345678);
	assert_int_equal(fg_ct_line_of(0x12345678deadbeefULL, 1U << 19),
			 0xdeadbeefU & ((1U << 19) - 1));
	/* Flows of one line still carry distinct tags. */
	for (i = 0; i < 1000; i++) {
		uint64_t a = rnd(&s), b = (rnd(&s) & ~0xffffffffULL) |
					  (a & 0xffffffffULL);

		assert_int_equal(fg_ct_line_of(a, 64), fg_ct_line_of(b, 64));
		if ((a >> 32) != (b >> 32) && (a >> 32) && (b >> 32))
			assert_int_not_equal(fg_ct_tag(a), fg_ct_tag(b));
	}
	/* Same line, same high half, bits 16-31 apart: still two flows. */
	{
		uint64_t a = 0x12345678abcd0042ULL, b = 0x12345678abce0042ULL;
		struct fg_ct ct = { .backend_id = 7, .svc_id = 1 };

		assert_int_equal(fg_ct_line_of(a, 1U << 16),
				 fg_ct_line_of(b, 1U << 16));
		fg_ct_pack(&tab[0].way[0], a, &ct);
		assert_true(fg_ct_way_is(&tab[0].way[0], a));
		assert_false(fg_ct_way_is(&tab[0].way[0], b));
		fg_ct_pack(&tab[0].way[0], b, &ct);
		assert_true(fg_ct_way_is(&tab[0].way[0], b));
		assert_false(fg_ct_way_is(&tab[0].way[0], a));
	}
	assert_int_equal(sizeof(tab[0]), 64);
	assert_int_equal(sizeof(tab[0].way[0]), 16);
}

/* fg_ct_pack / fg_ct_unpack round trip, with the UDP bit carried in the
 * service field and NAT told by the port. */
static void test_ct_pack_roundtrip(void **state)
{
	struct fg_ct a = { .backend_id = 65535, .svc_id = FG_SVC_MAX - 1,
			   .seen = 0xfffffff0U, .nat_port = htons(40000),
			   .flags = FG_CT_F_UDP | FG_CT_F_NAT };
	struct fg_ct b;
	struct fg_ct_way w;

	fg_ct_pack(&w, 0xabcdef0155aa1234ULL, &a);
	assert_int_equal(w.tag, 0xabcdef01U);
	assert_int_equal(w.tag_lo, 0x55aa);
	assert_int_equal(w.backend_id, 65535);
	assert_int_equal(w.svc, (FG_SVC_MAX - 1) | FG_CT_W_UDP);
	fg_ct_unpack(&w, &b);
	assert_memory_equal(&a, &b, sizeof(a));

	a.flags = 0;
	a.nat_port = 0;
	fg_ct_pack(&w, 1, &a);
	assert_int_equal(w.tag, 1); /* a hash with a zero high half */
	assert_int_equal(w.svc, FG_SVC_MAX - 1);
	fg_ct_unpack(&w, &b);
	assert_int_equal(b.flags, 0);
	assert_int_equal(b.svc_id, FG_SVC_MAX - 1);
}

/* Ticks are compared by difference, so idle time survives the 32-bit
 * wrap of the tick counter, and a tick ahead of now is no idle time. */
static void test_ct_tick_wrap(void **state)
{
	uint64_t sec = 1000000000ULL;
	uint32_t seen = fg_ct_tick((1ULL << (32 + FG_CT_TICK_SHIFT)) - sec);
	uint32_t now = fg_ct_tick((1ULL << (32 + FG_CT_TICK_SHIFT)) + 2 * sec);

	assert_true(now < seen); /* wrapped */
	assert_in_range(fg_ct_idle(now, seen), fg_ct_tick(3 * sec) - 1,
			fg_ct_tick(3 * sec) + 1);
	assert_int_equal(fg_ct_idle(seen, seen), 0);
	/* A way another CPU stamped a tick ahead of this one's clock is not
	 * idle for ~2^32 ticks. */
	assert_int_equal(fg_ct_idle(seen, seen + 1), 0);
	assert_int_equal(fg_ct_idle(now, now + 1), 0);
	assert_int_equal(fg_ct_idle(now, now + FG_CT_SKEW_TICKS), 0);
	/* Further ahead only a way untouched for over 2^31 ticks (~417
	 * days) can be: it reads as idle for ever, not as fresh. */
	assert_int_equal(fg_ct_idle(now, now + FG_CT_SKEW_TICKS + 1), ~0U);
	assert_int_equal(fg_ct_idle(now, now - 0x80000000U), ~0U);
	assert_int_equal(fg_ct_idle(now, now - 0x7fffffffU), 0x7fffffffU);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_layout),
		cmocka_unit_test(test_flow_hash_matches_reference),
		cmocka_unit_test(test_flow_hash_known_answers),
		cmocka_unit_test(test_flow_hash_every_seed_word_matters),
		cmocka_unit_test(test_flow_hash_every_key_byte_matters),
		cmocka_unit_test(test_flow_hash_spreads_sequential_flows),
		cmocka_unit_test(test_reverse_and_symmetric_hash),
		cmocka_unit_test(test_src_hash_ignores_everything_but_source),
		cmocka_unit_test(test_key_from_pkt),
		cmocka_unit_test(test_ct_tag_and_line),
		cmocka_unit_test(test_ct_pack_roundtrip),
		cmocka_unit_test(test_ct_tick_wrap),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
