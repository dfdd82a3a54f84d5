/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock_batch.c - what both sides of a stock lineage need of the
 * claimer (fg_stock.h), on its own: the batch size, from which the L7
 * compiler derives an engine's low-water mark on both sides of the
 * control channel, and new lineage ids, which floodgate-dpdk gives its
 * engines. The process links no store client.
 */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fg_stock.h"

uint64_t fg_stock_epoch_new(void)
{
	uint64_t e = 0;
	struct timespec ts;

	/* getrandom without GRND_NONBLOCK only waits for the pool's first
	 * seeding at boot; the clock is the fallback if it fails. */
	if (getrandom(&e, sizeof(e), 0) != sizeof(e)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		e = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
			((uint64_t)getpid() << 48);
	}
	return e ? e : 1;
}

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
