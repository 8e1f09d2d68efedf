/*
 * Runs every unit suite.  CK_FORK=no runs in one process (for gdb);
 * CK_RUN_SUITE / CK_RUN_CASE select one suite or case.
 */
#include <stdlib.h>

#include "plugin/log.h"
#include "tests/unit/suites.h"

int
main(void)
{
	SRunner *sr;
	enum log_level lvl = LOG_LVL_ERROR;
	const char *env = getenv("LOG_LEVEL");
	int failed;

	/* Expected failures would otherwise fill the output with warnings. */
	if (env != NULL)
		(void) log_level_from_string(env, &lvl);
	log_set_level(lvl);
	sr = srunner_create(prefix_suite());

	srunner_add_suite(sr, ipam_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, api_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, driver_suite());
	srunner_add_suite(sr, firewall_suite());
	srunner_add_suite(sr, rules_suite());
	srunner_add_suite(sr, dns_answer_suite());
	srunner_add_suite(sr, dns_conf_suite());
	srunner_add_suite(sr, dns_frame_suite());
	srunner_add_suite(sr, engine_suite());
	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, loop_suite());
	srunner_add_suite(sr, worker_suite());
	srunner_add_suite(sr, sbxstate_suite());
	srunner_add_suite(sr, dnsstats_suite());
	srunner_add_suite(sr, settings_suite());
	srunner_add_suite(sr, dnsiplan_suite());
	srunner_add_suite(sr, dockergolden_suite());
	srunner_add_suite(sr, dockernft_suite());
	srunner_add_suite(sr, nftstate_suite());
	srunner_add_suite(sr, fd_suite());
	srunner_add_suite(sr, statustext_suite());
	srunner_add_suite(sr, fwselect_suite());
	srunner_add_suite(sr, stcache_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
