/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_types.h - the base of dataplane/core: integer types, inline and
 * byte-order helpers that mean the same under gcc (userspace, DPDK, tests)
 * and clang -target bpf (XDP).
 *
 * Core includes nothing but Linux UAPI headers and itself: no libc, no DPDK,
 * no libbpf (STYLE.md). Everything here is usable in any context.
 */
#ifndef FG_TYPES_H
#define FG_TYPES_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Every core fast-path function is this: the verifier has no calls to
 * follow, and userspace callers get the same code the BPF program runs. */
#define FG_INLINE static __always_inline

/*
 * Wire headers (fg_parse.h): packed in userspace, where a header sits
 * wherever its frame puts it (IP 2 bytes off a word behind Ethernet) and
 * packed keeps every access defined (UBSan checks it); natural in the
 * BPF program, where clang turns a packed member into byte loads and
 * stores, and the JIT on the CPUs the dataplane runs on loads unaligned
 * words as cheaply as aligned ones. Every such header has no padding
 * (FG_ASSERT_SIZE), so the two layouts are the same bytes.
 */
#ifdef __bpf__
#define FG_WIRE
#else
#define FG_WIRE __attribute__((packed))
#endif

#define FG_LIKELY(x)   __builtin_expect(!!(x), 1)
#define FG_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Unroll the next loop: BPF code wants straight-line bounded loops; gcc
 * does not know clang's plain "unroll" pragma. Use before a for loop. */
#if defined(__clang__)
#define FG_UNROLL _Pragma("unroll")
#else
#define FG_UNROLL _Pragma("GCC unroll 16")
#endif

/*
 * fg_addr16_set4 - make the zeroed 16-byte address a (IPv4 in word 0,
 * fg_parse.h) the IPv4 address v4. In userspace one 16-byte store of the
 * whole address: the flow key and the VIP filter load all 16 bytes soon
 * after, and a load spanning several smaller stores cannot be forwarded
 * from the store buffer (the DPDK worker waited there for the stores to
 * retire: perf put 10-12 % of its burst on the instruction after that
 * load). The BPF program writes word 0 only, the rest being zero already.
 */
#ifdef __bpf__
FG_INLINE void fg_addr16_set4(__be32 *a, __be32 v4)
{
	a[0] = v4;
}
#else
typedef __u32 fg_addr16_vec __attribute__((vector_size(16), aligned(4),
					   may_alias));

FG_INLINE void fg_addr16_set4(__be32 *a, __be32 v4)
{
	*(fg_addr16_vec *)a = (fg_addr16_vec){ (__u32)v4, 0, 0, 0 };
}
#endif

/* The UDP port GUE tunnels go to unless configured otherwise: the
 * appliance's dsr-gue default and the backend decap program's, one value
 * for both ends (host order). */
#define FG_GUE_PORT_DEFAULT 6080U

#define FG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Compile-time size checks on every struct the dataplanes and the control
 * plane share: a layout change must be deliberate. */
#define FG_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " must be " #size " bytes")

#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "compiler does not define __BYTE_ORDER__"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define fg_htons(x) ((__be16)__builtin_bswap16((__u16)(x)))
#define fg_ntohs(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define fg_htonl(x) ((__be32)__builtin_bswap32((__u32)(x)))
#define fg_ntohl(x) ((__u32)__builtin_bswap32((__u32)(x)))
#else
#define fg_htons(x) ((__be16)(x))
#define fg_ntohs(x) ((__u16)(x))
#define fg_htonl(x) ((__be32)(x))
#define fg_ntohl(x) ((__u32)(x))
#endif

/* Byte-order constants usable in case labels and static initialisers. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FG_BE16(x) ((__be16)((((x) & 0xffU) << 8) | (((x) >> 8) & 0xffU)))
#else
#define FG_BE16(x) ((__be16)(x))
#endif

/* Load a little-endian 64-bit word from possibly unaligned memory, one byte
 * at a time (the BPF target forbids unaligned loads on some JITs; the
 * compiler merges this into one load on x86). */
FG_INLINE __u64 fg_load_le64(const __u8 *p)
{
	return (__u64)p[0] | (__u64)p[1] << 8 | (__u64)p[2] << 16 |
	       (__u64)p[3] << 24 | (__u64)p[4] << 32 | (__u64)p[5] << 40 |
	       (__u64)p[6] << 48 | (__u64)p[7] << 56;
}

#endif /* FG_TYPES_H */
