// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_mem.bpf.c - the memory floor of the XDP dataplane (bench_mem.c):
 * one read of one 64-byte line of a BPF array, the kind of read a
 * connection-table lookup (fg_ct, fg_ct_syn) cannot avoid.
 *
 * The frame's first 4 bytes (host order; nothing else reads the frame)
 * carry the index of the line to read. The loader sizes fg_mem_lines
 * (max_entries) per row and writes i into the first word of line i, so a
 * right read answers XDP_PASS; a wrong one, or an index out of range (the
 * lookup returns NULL), XDP_DROP: the path check.
 *
 * fg_mem_read8 reads FG_MEM_READS lines instead, the frame's second 4
 * bytes apart: lines of one page, or one line in each of as many pages,
 * to tell what a page costs from what a line does. Each read's index
 * comes from the line before, as a packet's service slot names its
 * conntrack line's service and that line its backend: the reads wait for
 * each other. fg_mem_read8_small does the same on fg_mem_small, a plain
 * (not mappable) array: the kernel allocates one of up to 32 KiB with
 * kmalloc, in its directly mapped memory, a larger one with vmalloc, as
 * it does the dataplane's small maps (fg_config, the counters).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One cache line, as a line of fg_ct or fg_ct_syn is. */
struct fg_mem_line {
	__u32 idx;
	__u32 pad[15];
};

/* Like the connection tables: a mappable array, so the loader fills it
 * through mmap. Values of a mappable array start on a page, each line
 * in one cache line. max_entries is set per row before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fg_mem_line);
} fg_mem_lines SEC(".maps");

/* Like the dataplane's small maps: a plain array, filled by map updates.
 * max_entries is set per row before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_mem_line);
} fg_mem_small SEC(".maps");

/* fg_mem_read - XDP_PASS when line idx holds idx, XDP_DROP otherwise
 * (short frame, index out of range, wrong line). */
SEC("xdp")
int fg_mem_read(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fg_mem_line *l;
	__u32 idx;

	if (data + sizeof(idx) > data_end)
		return XDP_DROP;
	idx = *(__u32 *)data;
	l = bpf_map_lookup_elem(&fg_mem_lines, &idx);
	return l && l->idx == idx ? XDP_PASS : XDP_DROP;
}

#define FG_MEM_READS 8

/* fg_mem_read8 - XDP_PASS when each of the lines idx + k * stride
 * (k < FG_MEM_READS) holds its index, XDP_DROP otherwise. Line k + 1 is
 * the index line k holds plus stride. Mismatches are gathered and judged
 * at the end: a branch on each would let the compiler take the index it
 * compared with for the one it loaded, and the reads would no longer
 * wait for each other. */
static __always_inline int fg_mem_chain(struct xdp_md *ctx, void *map)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 idx, stride, k, i, bad = 0;

	if (data + 2 * sizeof(idx) > data_end)
		return XDP_DROP;
	idx = *(__u32 *)data;
	stride = *(__u32 *)(data + sizeof(idx));
	i = idx;
#pragma unroll
	for (k = 0; k < FG_MEM_READS; k++) {
		struct fg_mem_line *l = bpf_map_lookup_elem(map, &i);

		if (!l)
			return XDP_DROP;
		bad |= l->idx ^ (idx + k * stride);
		i = l->idx + stride;
	}
	return bad ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int fg_mem_read8(struct xdp_md *ctx)
{
	return fg_mem_chain(ctx, &fg_mem_lines);
}

/* fg_mem_read8_small - fg_mem_read8 on fg_mem_small. */
SEC("xdp")
int fg_mem_read8_small(struct xdp_md *ctx)
{
	return fg_mem_chain(ctx, &fg_mem_small);
}
