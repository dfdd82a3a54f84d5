// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_ctl_rules.c - the rule sets the control channel's tests
 * build; see test_dpdk_ctl_rules.h.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_dpdk_ctl_rules.h"

struct fg_addr fg_test_addr4(uint32_t host)
{
	struct fg_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.a4.s_addr = htonl(host);
	return a;
}

struct fg_rule_service *fg_test_add_svc(struct fg_ruleset *rs, uint32_t i,
					uint32_t nb, enum fg_forward fwd)
{
	struct fg_rule_service *s;
	uint32_t j;

	rs->services = realloc(rs->services, (rs->nservices + 1) * sizeof(*s));
	assert_non_null(rs->services);
	s = &rs->services[rs->nservices++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "svc-%u", i);
	s->vip = fg_test_addr4(0xc6120000U + (i / 250) * 256 + 10 + i % 250);
	s->port = 80;
	s->proto = IPPROTO_TCP;
	s->forward = fwd;
	s->nbackends = nb;
	/* calloc(0) may return NULL; one slot keeps "no backends" apart
	 * from a failed allocation. */
	s->backends = calloc(nb ? nb : 1, sizeof(*s->backends));
	assert_non_null(s->backends);
	for (j = 0; j < nb; j++) {
		s->backends[j].addr = fg_test_addr4(0xc6130000U + (i / 25) * 256 +
						    (i % 25) * 10 + j + 1);
		s->backends[j].port = 8080;
		s->backends[j].weight = 100;
	}
	return s;
}
