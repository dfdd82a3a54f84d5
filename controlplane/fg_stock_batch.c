/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock_batch.c - the claimer's batch size (fg_stock.h), on its own:
 * the L7 compiler derives an engine's low-water mark from it on both
 * sides of the control channel, and floodgate-dpdk, which builds its
 * engines' tables, links no store client.
 */
#include "fg_stock.h"

uint64_t fg_stock_batch(uint64_t rate_milli, uint32_t batch_ms,
			uint64_t batch_max, uint64_t stock)
{
	unsigned __int128 b;

	if (!batch_ms)
		batch_ms = FG_STOCK_BATCH_MS_DEFAULT;
	if (!batch_max)
		batch_max = FG_STOCK_BATCH_MAX_DEFAULT;
	b = ((unsigned __int128)rate_milli * batch_ms + 999999u) / 1000000u;
	if (b > batch_max)
		b = batch_max;
	if (b > stock)
		b = stock;
	return b ? (uint64_t)b : 1;
}
