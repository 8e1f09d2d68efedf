/* One Check suite per module; check_main.c runs them all. */
#ifndef CBRIDGE_TEST_SUITES_H
#define CBRIDGE_TEST_SUITES_H

#include <check.h>

Suite	*prefix_suite(void);
Suite	*ipam_suite(void);
Suite	*options_suite(void);
Suite	*api_suite(void);
Suite	*state_suite(void);
Suite	*driver_suite(void);
Suite	*firewall_suite(void);
Suite	*rules_suite(void);
Suite	*dns_answer_suite(void);
Suite	*dns_conf_suite(void);
Suite	*dns_frame_suite(void);
Suite	*engine_suite(void);
Suite	*names_suite(void);
Suite	*loop_suite(void);
Suite	*worker_suite(void);
Suite	*sbxstate_suite(void);
Suite	*dnsstats_suite(void);
Suite	*settings_suite(void);
Suite	*dnsiplan_suite(void);
Suite	*dockergolden_suite(void);
Suite	*dockernft_suite(void);
Suite	*nftstate_suite(void);
Suite	*fd_suite(void);
Suite	*statustext_suite(void);
Suite	*fwselect_suite(void);
Suite	*stcache_suite(void);

#endif
