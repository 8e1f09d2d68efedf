/*
 * Runs every unit suite.  CK_FORK=no runs in one process (for gdb);
 * CK_RUN_SUITE / CK_RUN_CASE select one suite or case.
 */
#include <stdlib.h>

#include "tests/unit/suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(prefix_suite());
	int failed;

	srunner_add_suite(sr, ipam_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, api_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, driver_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
