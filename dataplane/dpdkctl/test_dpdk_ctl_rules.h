/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_dpdk_ctl_rules.h - rule sets the control channel's tests build
 * (test_dpdk_ctl.c, test_dpdk_ctl_chan.c): one numbering of services and
 * backends inside the test ranges, so both tests push the same shapes.
 * Test code: a failed allocation fails the running cmocka test.
 */
#ifndef TEST_DPDK_CTL_RULES_H
#define TEST_DPDK_CTL_RULES_H

#include <stdint.h>

#include "fg_rules.h"

/* An IPv4 fg_addr of host (host byte order). */
struct fg_addr fg_test_addr4(uint32_t host);

/* Appends service i to rs: "svc-<i>", TCP VIP 198.18.<i / 250>.<10 +
 * i % 250>:80 (i < 1000 keeps inside 198.18.0.0/15), forwarding fwd, nb
 * backends 198.19.<i / 25>.<(i % 25) * 10 + j + 1>:8080 of weight 100.
 * Returns the new service, valid until the next append. */
struct fg_rule_service *fg_test_add_svc(struct fg_ruleset *rs, uint32_t i,
					uint32_t nb, enum fg_forward fwd);

#endif
