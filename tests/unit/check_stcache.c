/*
 * The cached text of networks, endpoints and pools (state.h): after every
 * change the driver and the IPAM make, and after every undo, encoding
 * through the caches must give exactly what encoding everything afresh
 * gives, what the file holds when the change was saved, and what loading
 * that text (also in the indented form older versions wrote) encodes to.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>
#include <jansson.h>

#include "firewall/firewall.h"
#include "netlink/netlink.h"
#include "plugin/driver.h"
#include "plugin/fileutil.h"
#include "plugin/state.h"
#include "tests/unit/helpers.h"
#include "tests/unit/suites.h"

#define EP1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
#define EP2 "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
#define NETID3 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"

static struct {
	char			dir[64];
	struct lnk		*lnk;
	struct fw		*fw;
	struct fw_hostports	*hp;
	struct drv		*drv;
} env;

static void
open_drv(void)
{
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk,
	    .fw = env.fw, .ports = env.hp };
	char err[256] = "";

	ck_assert_msg(drv_new(&p, &env.drv, err, sizeof(err)) == 0, "%s",
	    err);
}

static void
setup(void)
{
	(void) snprintf(env.dir, sizeof(env.dir), "/tmp/cbunit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(env.dir));
	env.lnk = lnk_fake_new();
	env.fw = fw_fake_new();
	env.hp = fw_hostports_fake_new();
	ck_assert(env.lnk != NULL && env.fw != NULL && env.hp != NULL);
	open_drv();
}

static void
teardown(void)
{
	env.drv = drv_free(env.drv);
	fw_free(env.fw);
	fw_hostports_free(env.hp);
	env.lnk = lnk_free(env.lnk);
	th_rmdir(env.dir);
}

static void
same_text(const char *what, const char *label, const char *a, size_t alen,
    const char *b, size_t blen)
{
	ck_assert_msg(alen == blen && memcmp(a, b, alen) == 0,
	    "after %s: %s differs:\n%s\n--- encoded afresh:\n%s", what, label,
	    a, b);
}

/* text loaded into a fresh IPAM and encoded again must not change. */
static void
reloads_same(const char *what, const char *label, const char *text,
    size_t len, const char *want, size_t wantlen)
{
	struct ipam *ip = ipam_new();
	struct st_doc doc = { 0 };
	char err[256] = "", *again = NULL;
	size_t alen;

	ck_assert_ptr_nonnull(ip);
	ck_assert_msg(st_decode(text, len, ip, &doc, err, sizeof(err)) == 0,
	    "after %s: %s does not load: %s", what, label, err);
	ck_assert_int_eq(st_encode(&doc, ip, &again, &alen, err,
	    sizeof(err)), 0);
	same_text(what, label, again, alen, want, wantlen);
	free(again);
	st_doc_done(&doc);
	ipam_free(ip);
}

/* The driver's state, encoded through its caches, against everything
 * encoded afresh; with saved, the file must hold that text too. */
static void
check_state(const char *what, bool saved)
{
	char err[256] = "", path[128], *cached = NULL, *fresh = NULL;
	char *file = NULL, *old;
	size_t clen, flen, len;
	json_t *j;

	/* Through the caches first: the fresh encoding drops them. */
	ck_assert_int_eq(drv_encode_state(env.drv, false, &cached, &clen, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(drv_encode_state(env.drv, true, &fresh, &flen, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(strlen(fresh), flen);
	same_text(what, "the cached encoding", cached, clen, fresh, flen);
	if (saved) {
		(void) snprintf(path, sizeof(path), "%s/%s", env.dir, ST_FILE);
		ck_assert_msg(fu_read_file(path, ST_MAX_BYTES, &file, &len) ==
		    0, "after %s: no state file", what);
		same_text(what, "the file", file, len, fresh, flen);
	}
	reloads_same(what, "the encoding", fresh, flen, fresh, flen);
	/* What older versions wrote: indented, keys sorted. */
	j = json_loadb(fresh, flen, JSON_REJECT_DUPLICATES, NULL);
	ck_assert_ptr_nonnull(j);
	old = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	ck_assert_ptr_nonnull(old);
	reloads_same(what, "the indented form", old, strlen(old), fresh, flen);
	free(old);
	json_decref(j);
	free(file);
	free(fresh);
	free(cached);
}

/* The next save fails: the state directory is gone until saves_work(). */
static void
saves_fail(void)
{
	th_rmdir(env.dir);
}

static void
saves_work(void)
{
	ck_assert_int_eq(mkdir(env.dir, 0700), 0);
}

/* A network or endpoint made, or (ok false) refused or undone. */
static void
net(const char *id, const char *pool, const char *gw, bool ok)
{
	struct drv_net_req r = { .enable_ipv4 = true, .nv4 = 1 };
	char err[256] = "";

	memcpy(r.id, id, NET_ID_LEN + 1);
	r.v4[0].pool = th_prefix(pool);
	r.v4[0].has_gw = true;
	r.v4[0].gw = th_prefix(gw);
	ck_assert_msg((drv_create_network(env.drv, &r, err, sizeof(err)) ==
	    0) == ok, "%s", err);
}

static void
ep(const char *net_id, const char *id, const char *addr, bool ok)
{
	struct drv_ep_req q = { .has_addr4 = true };
	struct drv_ep_reply rep;
	char err[256] = "";

	memcpy(q.net_id, net_id, NET_ID_LEN + 1);
	memcpy(q.ep_id, id, NET_ID_LEN + 1);
	q.addr4 = th_prefix(addr);
	ck_assert_msg((drv_create_endpoint(env.drv, &q, &rep, err,
	    sizeof(err)) == 0) == ok, "%s", err);
}

static int
publish(const char *id, unsigned short cport, unsigned short hport)
{
	struct drv_port_req pr[2] = {
		{ .proto = IPPROTO_TCP, .cport = cport, .hport = hport,
		  .hport_end = hport },
		{ .proto = IPPROTO_UDP, .cport = 53, .has_host_ip = true,
		  .host_ip = th_prefix("127.0.0.1") },
	};
	char err[256] = "";

	return drv_program_external(env.drv, TH_NETID1, id, pr, 2, err,
	    sizeof(err));
}

START_TEST(every_change)
{
	struct prefix pool = th_prefix("10.70.0.0/24"), pool2, a, a2;
	char id[IPAM_ID_MAX], id2[IPAM_ID_MAX], id3[IPAM_ID_MAX];
	char err[256] = "";
	struct drv_join j;

	check_state("start", true);
	/* IPAM: pools and addresses, as dockerd asks before a network. */
	ck_assert_int_eq(drv_request_pool(env.drv, "", &pool, NULL, false, id,
	    &pool, err, sizeof(err)), 0);
	check_state("a pool request", true);
	ck_assert_int_eq(drv_request_pool(env.drv, "", NULL, NULL, false, id2,
	    &pool2, err, sizeof(err)), 0);
	check_state("an automatic pool request", true);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, true, &a, err,
	    sizeof(err)), 0);
	check_state("a gateway request", true);
	ck_assert_int_eq(drv_request_address(env.drv, id, NULL, false, &a,
	    err, sizeof(err)), 0);
	check_state("an address request (the cursor moves)", true);
	a2 = th_prefix("10.70.0.9");
	ck_assert_int_eq(drv_request_address(env.drv, id, &a2, false, &a2,
	    err, sizeof(err)), 0);
	check_state("a given address request", true);
	ck_assert_int_eq(drv_release_address(env.drv, id, &a, err,
	    sizeof(err)), 0);
	check_state("an address release", true);

	/* A failed save puts the IPAM back from the last file written. */
	saves_fail();
	ck_assert_int_lt(drv_request_address(env.drv, id, NULL, false, &a,
	    err, sizeof(err)), 0);
	check_state("an address request undone", false);
	ck_assert_int_lt(drv_release_address(env.drv, id, &a2, err,
	    sizeof(err)), 0);
	check_state("an address release undone", false);
	ck_assert_int_lt(drv_release_pool(env.drv, id2, err, sizeof(err)), 0);
	check_state("a pool release undone", false);
	ck_assert_int_lt(drv_request_pool(env.drv, "", NULL, NULL, false, id3,
	    &pool2, err, sizeof(err)), 0);
	check_state("a pool request undone", false);
	saves_work();
	ck_assert_int_eq(drv_release_pool(env.drv, id2, err, sizeof(err)), 0);
	check_state("a pool release", true);

	/* Networks. */
	net(TH_NETID1, "10.70.0.0/24", "10.70.0.1/24", true);
	check_state("a network creation", true);
	net(TH_NETID2, "10.71.0.0/24", "10.71.0.1/24", true);
	check_state("a second network", true);
	saves_fail();
	net(NETID3, "10.72.0.0/24", "10.72.0.1/24", false);
	check_state("a network creation undone", false);
	ck_assert_int_lt(drv_delete_network(env.drv, TH_NETID2, err,
	    sizeof(err)), 0);
	check_state("a network deletion undone", false);
	saves_work();

	/* Endpoints. */
	ep(TH_NETID1, EP1, "10.70.0.2/24", true);
	check_state("an endpoint creation", true);
	ep(TH_NETID1, EP2, "10.70.0.3/24", true);
	check_state("a second endpoint", true);
	saves_fail();
	ep(TH_NETID2, NETID3, "10.71.0.2/24", false);
	check_state("an endpoint creation undone", false);
	saves_work();

	/* Join and leave, and their undo. */
	ck_assert_int_eq(drv_join(env.drv, TH_NETID1, EP1, "/run/netns/a", &j,
	    err, sizeof(err)), 0);
	check_state("a join", true);
	saves_fail();
	ck_assert_int_lt(drv_join(env.drv, TH_NETID1, EP2, "/run/netns/b", &j,
	    err, sizeof(err)), 0);
	check_state("a join undone", false);
	ck_assert_int_lt(drv_leave(env.drv, TH_NETID1, EP1, err, sizeof(err)),
	    0);
	check_state("a leave undone", false);
	saves_work();

	/* Published ports: publish, replace, undo (firewall, then save). */
	ck_assert_int_eq(publish(EP1, 80, 8080), 0);
	check_state("a port publication", true);
	ck_assert_int_eq(publish(EP1, 81, 8081), 0);
	check_state("a port re-publication", true);
	/* A port taken by another endpoint: refused before any change. */
	ck_assert_int_lt(publish(EP2, 80, 8081), 0);
	check_state("a refused publication", true);
	fw_fake_fail_next(env.fw, EIO);
	ck_assert_int_lt(publish(EP1, 82, 8082), 0);
	check_state("a publication undone (firewall)", true);
	saves_fail();
	ck_assert_int_lt(publish(EP1, 83, 8083), 0);
	check_state("a publication undone (save)", false);
	ck_assert_int_lt(drv_revoke_external(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), 0);
	check_state("an unpublication undone", false);
	saves_work();
	ck_assert_int_eq(drv_revoke_external(env.drv, TH_NETID1, EP1, err,
	    sizeof(err)), 0);
	check_state("an unpublication", true);
	ck_assert_int_eq(drv_leave(env.drv, TH_NETID1, EP1, err, sizeof(err)),
	    0);
	check_state("a leave", true);

	/* Deletions, the failed one first; then a restart. */
	saves_fail();
	ck_assert_int_lt(drv_delete_endpoint(env.drv, TH_NETID1, EP2, err,
	    sizeof(err)), 0);
	check_state("an endpoint deletion undone", false);
	saves_work();
	ck_assert_int_eq(drv_delete_endpoint(env.drv, TH_NETID1, EP2, err,
	    sizeof(err)), 0);
	check_state("an endpoint deletion", true);
	ck_assert_int_eq(drv_delete_network(env.drv, TH_NETID2, err,
	    sizeof(err)), 0);
	check_state("a network deletion", true);
	env.drv = drv_free(env.drv);
	open_drv();
	check_state("a restart", true);
	ck_assert_int_eq(drv_delete_network(env.drv, TH_NETID1, err,
	    sizeof(err)), 0);
	check_state("deleting a network with a stale endpoint", true);
}
END_TEST

/* The IPAM alone: a pool's text follows each change. */
START_TEST(ipam_pool_text_follows)
{
	struct ipam *ip = ipam_new();
	struct prefix pool = th_prefix("10.80.0.0/29"), a;
	char id[IPAM_ID_MAX], err[256];
	const char *t;
	size_t len;
	char *before;

	ck_assert_int_eq(ipam_request_pool(ip, &(struct ipam_pool_req){
	    .pool = &pool }, id, &pool, err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_pool_text(ip, 0, &t, &len), 0);
	ck_assert_str_eq(t, "{\"allocated\":[],\"cursor\":\"10.80.0.0\","
	    "\"id\":\"LocalDefault/10.80.0.0/29\",\"pool\":\"10.80.0.0/29\","
	    "\"space\":\"LocalDefault\",\"subpool\":null}");
	ck_assert_uint_eq(strlen(t), len);
	before = strdup(t);
	ck_assert_int_eq(ipam_request_address(ip, id, NULL, false, &a, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(ipam_pool_text(ip, 0, &t, &len), 0);
	ck_assert_ptr_nonnull(strstr(t, "\"allocated\":[\"10.80.0.1\"],"
	    "\"cursor\":\"10.80.0.2\""));
	ck_assert_int_eq(ipam_release_address(ip, id, &a, err, sizeof(err)),
	    0);
	ck_assert_int_eq(ipam_pool_text(ip, 0, &t, &len), 0);
	ck_assert_ptr_nonnull(strstr(t, "\"allocated\":[],"
	    "\"cursor\":\"10.80.0.2\""));
	ck_assert_str_ne(t, before);
	ck_assert_int_eq(ipam_pool_text(ip, 1, &t, &len), -EINVAL);
	free(before);
	ipam_free(ip);
}
END_TEST

Suite *
stcache_suite(void)
{
	Suite *s = suite_create("stcache");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_change);
	tcase_add_test(tc, ipam_pool_text_follows);
	suite_add_tcase(s, tc);
	return s;
}
