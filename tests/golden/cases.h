/*
 * The firewall models behind the golden files tests/golden/<name>.rules:
 * one per option combination.  Shared by the unit test (planner output
 * against the file) and the namespace test (iptables-legacy-save against
 * the same file after the libiptc backend applied the model).
 */
#ifndef CBRIDGE_TEST_GOLDEN_CASES_H
#define CBRIDGE_TEST_GOLDEN_CASES_H

#include <stddef.h>

#include "firewall/firewall.h"

struct golden_case {
	const char	*name;
	struct fw_model	model;
};

/* NULL-terminated by a case with a NULL name. */
extern const struct golden_case golden_cases[];
const struct golden_case *golden_find(const char *name);

#endif
