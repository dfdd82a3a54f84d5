// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_dpdk_ctl.c - libFuzzer target for the control channel's decoders
 * (replayable without libFuzzer through tests/fuzz/replay_main.c).
 *
 * Input: one selector byte, then a body. Selector % 6: 0 FULL, 1 DELTA
 * against a fixed base (a compiled set of 4 services), 2 STATS, 3 a
 * message header, 4 STOCK_REQ, 5 STOCK (the answer to two ops).
 * Invariants: a refused body returns nothing; an accepted set passes the
 * check and encodes back to a body that decodes to the same bytes; the
 * DELTA's base never changes; an accepted stock body encodes back to
 * the same bytes.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_compile.h"
#include "fg_dpdk_ctl.h"
#include "fg_dpdk_ctl_wire.h"
#include "fg_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

static struct fg_dpdk_ctl_set *fz_base;
static struct fg_dpdk_ctl_buf fz_base_bytes;
static struct fg_dpdk_ctl_counters fz_ctr;
static struct fg_dpdk_ctl_stock fz_stock;

/* The DELTA base: 4 services of 3 backends, a limit on one. */
static void fz_init(void)
{
	static struct fg_rule_backend be[4][3];
	static struct fg_rule_service svc[4];
	static struct fg_rule_limit lim;
	struct fg_ruleset rs = { 0 };
	struct fg_compiler *c = fg_compiler_new(NULL);
	struct fg_compiled *cp = NULL;
	char err[256];
	int e, i, j;

	FZ_CHECK(c);
	/* An empty adoption first: a fresh compiler's first compile does
	 * pointer arithmetic on its NULL backend array (fg_compile.c,
	 * fg_plan_backend_ids), which UBSan here aborts on. */
	{
		struct fg_adopt none = { 0 };

		FZ_CHECK(!fg_compiler_adopt(c, &none, err, sizeof(err)));
	}
	for (i = 0; i < 4; i++) {
		snprintf(svc[i].name, sizeof(svc[i].name), "svc-%d", i);
		svc[i].vip.family = AF_INET;
		svc[i].vip.a4.s_addr = htonl(0xc612000aU + (uint32_t)i);
		svc[i].port = 80;
		svc[i].proto = IPPROTO_TCP;
		svc[i].forward = (enum fg_forward)(i % 3);
		svc[i].nbackends = 3;
		svc[i].backends = be[i];
		for (j = 0; j < 3; j++) {
			be[i][j].addr.family = AF_INET;
			be[i][j].addr.a4.s_addr = htonl(0xc6130001U + (uint32_t)(i * 8 + j));
			be[i][j].port = 8080;
			be[i][j].weight = 100;
		}
	}
	snprintf(lim.name, sizeof(lim.name), "lim");
	snprintf(lim.service, sizeof(lim.service), "svc-1");
	lim.unit = FG_LUNIT_PPS;
	lim.rate = 100;
	lim.burst = 100;
	rs.nservices = 4;
	rs.services = svc;
	rs.nlimits = 1;
	rs.limits = &lim;
	FZ_CHECK(!fg_compile(c, &rs, 5, &cp, err, sizeof(err)));
	fz_base = fg_dpdk_ctl_set_from_compiled(cp, NULL, &e, err, sizeof(err));
	FZ_CHECK(fz_base);
	FZ_CHECK(!fg_dpdk_ctl_encode_full(fz_base, &fz_base_bytes));
	fg_compiled_free(cp);
	fg_compiler_free(c);
}

/* s encodes to a body that decodes to the same bytes. */
static void fz_round_trip(const struct fg_dpdk_ctl_set *s)
{
	struct fg_dpdk_ctl_buf a = { 0 }, b = { 0 };
	struct fg_dpdk_ctl_set *d = NULL;
	char err[256];

	FZ_CHECK(!fg_dpdk_ctl_set_check(s, err, sizeof(err)));
	FZ_CHECK(!fg_dpdk_ctl_encode_full(s, &a));
	FZ_CHECK(!fg_dpdk_ctl_decode_full(a.p, a.len, &d, err, sizeof(err)));
	FZ_CHECK(!fg_dpdk_ctl_encode_full(d, &b));
	FZ_CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	fg_dpdk_ctl_set_free(d);
	fg_dpdk_ctl_buf_free(&a);
	fg_dpdk_ctl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_dpdk_ctl_set *s = (void *)1;
	struct fg_dpdk_ctl_buf now = { 0 };
	struct fg_dpdk_ctl_hdr h;
	char err[256];
	uint8_t *body;
	int rc;

	if (!fz_base)
		fz_init();
	if (!size)
		return 0;
	/* A copy of exactly the body's size: ASan sees any over-read. */
	body = malloc(size - 1 ? size - 1 : 1);
	FZ_CHECK(body);
	memcpy(body, data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		rc = fg_dpdk_ctl_decode_full(body, size - 1, &s, err, sizeof(err));
		FZ_CHECK(rc ? !s : !!s);
		if (!rc)
			fz_round_trip(s);
		fg_dpdk_ctl_set_free(rc ? NULL : s);
		break;
	case 1:
		rc = fg_dpdk_ctl_decode_delta(fz_base, body, size - 1, &s, err,
					      sizeof(err));
		FZ_CHECK(rc ? !s : !!s);
		if (!rc)
			fz_round_trip(s);
		fg_dpdk_ctl_set_free(rc ? NULL : s);
		FZ_CHECK(!fg_dpdk_ctl_encode_full(fz_base, &now));
		FZ_CHECK(now.len == fz_base_bytes.len &&
			 !memcmp(now.p, fz_base_bytes.p, now.len));
		fg_dpdk_ctl_buf_free(&now);
		break;
	case 2:
		rc = fg_dpdk_ctl_decode_stats(body, size - 1, &fz_ctr, err,
					      sizeof(err));
		FZ_CHECK(rc || fz_ctr.nports <= FG_DPDK_CTL_PORTS_MAX);
		break;
	case 4:
		rc = fg_dpdk_ctl_decode_stock_req(body, size - 1, &fz_stock, err,
						  sizeof(err));
		FZ_CHECK(rc ? !fz_stock.nops : fz_stock.nops <=
			 FG_DPDK_CTL_STOCK_OPS_MAX);
		if (!rc) {
			FZ_CHECK(!fg_dpdk_ctl_encode_stock_req(&fz_stock, &now));
			FZ_CHECK(now.len == size - 1 &&
				 !memcmp(now.p, body, now.len));
		}
		fg_dpdk_ctl_buf_free(&now);
		fg_dpdk_ctl_stock_clear(&fz_stock);
		break;
	case 5:
		FZ_CHECK(!fg_dpdk_ctl_stock_reserve(&fz_stock, 2, 0, 0));
		fz_stock.nops = 2;
		rc = fg_dpdk_ctl_decode_stock(body, size - 1, &fz_stock, err,
					      sizeof(err));
		FZ_CHECK(rc ? !fz_stock.nengs && !fz_stock.nitems :
			 fz_stock.nitems <= FG_DPDK_CTL_STOCK_ITEMS_MAX);
		if (!rc) {
			FZ_CHECK(!fg_dpdk_ctl_encode_stock(&fz_stock, &now));
			FZ_CHECK(now.len == size - 1 &&
				 !memcmp(now.p, body, now.len));
		}
		fg_dpdk_ctl_buf_free(&now);
		fg_dpdk_ctl_stock_clear(&fz_stock);
		break;
	default:
		rc = fg_dpdk_ctl_hdr_parse(body, size - 1, &h, err, sizeof(err));
		FZ_CHECK(rc || h.len + FG_DPDK_CTL_HDR == size - 1);
		break;
	}
	free(body);
	return 0;
}
