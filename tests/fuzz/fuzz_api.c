/*
 * The plugin API: api_handle() on a driver over the in-memory netlink and
 * firewall fakes, with its state in a temporary directory (on /dev/shm
 * when there is one, so the fsyncs of every state write cost nothing).
 *
 * Input: one or more records separated by "\n--\n" (which no JSON text
 * contains), at most MAX_RECORDS.  A record's first byte selects the call,
 * the rest is the request body:
 *   bits 0-4, modulo 24: the 21 routes of api.c in its order, then 21 an
 *       unknown route, 22 a restart of the daemon on the same state
 *       directory and fakes (the state it wrote must load again, unchanged),
 *       23 the event loop's drv_tick() (no state change; afterwards the
 *       firewall holds exactly the networks);
 *   bits 5-7: 0, or a fault injected into the fakes for this call only:
 *       1 bridge_create, 2 bridge_delete, 3 link_exists, 4 host_prefixes,
 *       5 veth_create, 6 veth_delete, 7 the firewall sync.
 * So a single input replays a whole sequence (create a pool, a network,
 * an endpoint, join, ...), and a crash it finds reproduces from its file.
 *
 * The driver is built once, at initialisation, and rebuilt from scratch
 * (no network, a fixed ULA, new fakes) every FUZZ_API_RESET_EVERY inputs
 * (default 1) or when it holds more than a few networks, endpoints or
 * pools, so memory and the cost of each state write stay bounded.  The
 * default makes every input start from the same empty daemon: a crash
 * reproduces from its file alone, and libFuzzer's per-input leak check
 * only runs when something really leaked (with a driver kept across
 * inputs every input that changes the state looks like a leak to it, and
 * a failure may need the inputs before it).  The sequences inside one
 * input do what keeping the driver would.  FUZZ_API_RESET_EVERY=256 keeps
 * it across inputs, as the daemon keeps it across requests.
 *
 * Checked on every reply: a JSON object body of the stated length, a
 * status api.c documents, "Err" exactly on failures, 500 only when a fault
 * was injected; a refused call leaves state.json as it was (a network
 * removal excepted: it is reported after the state changed) and leaves no
 * bridge or veth behind (unless the fault hit the rollback's delete); a
 * created or deleted network or endpoint is there, with its bridge or
 * veth, or gone.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "firewall/firewall.h"
#include "netlink/netlink.h"
#include "plugin/api.h"
#include "plugin/driver.h"
#include "plugin/fileutil.h"
#include "plugin/log.h"
#include "plugin/state.h"
#include "tests/fuzz/fuzz.h"

#define RECORD_SEP	"\n--\n"
#define MAX_RECORDS	64
#define RESET_EVERY	1	/* default of FUZZ_API_RESET_EVERY */
#define MAX_NETS	24
#define MAX_EPS		48
#define MAX_POOLS	48

enum {
	R_CREATE_NETWORK = 2,
	R_DELETE_NETWORK = 3,
	R_CREATE_ENDPOINT = 4,
	R_DELETE_ENDPOINT = 5,
	N_ROUTES = 21,
	R_UNKNOWN = N_ROUTES,
	R_RESTART,
	R_TICK,
	N_SELECT,
};

/* api.c's routes table, in its order. */
static const char *const routes[N_ROUTES] = {
	"/Plugin.Activate",
	"/NetworkDriver.GetCapabilities",
	"/NetworkDriver.CreateNetwork",
	"/NetworkDriver.DeleteNetwork",
	"/NetworkDriver.CreateEndpoint",
	"/NetworkDriver.DeleteEndpoint",
	"/NetworkDriver.Join",
	"/NetworkDriver.Leave",
	"/NetworkDriver.EndpointOperInfo",
	"/NetworkDriver.ProgramExternalConnectivity",
	"/NetworkDriver.RevokeExternalConnectivity",
	"/NetworkDriver.AllocateNetwork",
	"/NetworkDriver.FreeNetwork",
	"/NetworkDriver.DiscoverNew",
	"/NetworkDriver.DiscoverDelete",
	"/IpamDriver.GetCapabilities",
	"/IpamDriver.GetDefaultAddressSpaces",
	"/IpamDriver.RequestPool",
	"/IpamDriver.ReleasePool",
	"/IpamDriver.RequestAddress",
	"/IpamDriver.ReleaseAddress",
};

/* Fault selectors 1..7, as named in lnk_fake_fail_next(); 7 is the
 * firewall. */
static const char *const faults[] = { NULL, "bridge_create",
	"bridge_delete", "link_exists", "host_prefixes", "veth_create",
	"veth_delete", "firewall" };

/* What identifies a version of state.json: every write is a new file
 * renamed over the old one, so a new inode (or size, or time). */
struct st_id {
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

static struct {
	char		dir[PATH_MAX];
	struct lnk	*lnk;
	struct fw	*fw;
	struct fw_hostports *ports;
	struct drv	*drv;
	struct api	*api;
	unsigned long	inputs;
	unsigned long	reset_every;
	char		*state;		/* state.json as last read */
	struct st_id	state_id;
	bool		trace;		/* FUZZ_TRACE: each call and reply */
} env;

static void
rm_state_dir(void)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	if (env.dir[0] == '\0' || (d = opendir(env.dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(void) snprintf(path, sizeof(path), "%s/%s", env.dir, de->d_name);
		(void) unlink(path);
	}
	closedir(d);
}

static void
open_drv(void)
{
	struct drv_params p = { .state_dir = env.dir, .lnk = env.lnk,
	    .fw = env.fw, .ports = env.ports };
	char err[512] = "";
	int r;

	r = drv_new(&p, &env.drv, err, sizeof(err));
	FUZZ_CHECK(r == 0, "drv_new: %d %s", r, err);
	if ((env.api = api_new(env.drv)) == NULL)
		abort();
}

static void
close_drv(void)
{
	env.api = api_free(env.api);
	env.drv = drv_free(env.drv);
}

/* A host as the daemon meets it: docker0 and an uplink, their prefixes
 * and a default route (which automatic pools ignore). */
static void
add_host(struct lnk *l)
{
	static const char *const pfx[] = { "0.0.0.0/0", "172.17.0.1/16",
	    "172.17.0.0/16", "192.168.1.0/24", "10.0.2.15/24", "fe80::/64",
	    "::/0" };
	struct prefix p;

	lnk_fake_add_link(l, "docker0", true);
	lnk_fake_add_link(l, "eth0", false);
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		if (prefix_parse(pfx[i], &p) < 0)
			abort();
		lnk_fake_add_prefix(l, &p);
	}
}

/* A fresh daemon: new fakes, and a state directory with no network and a
 * fixed ULA, so that automatic IPv6 pools are the same on every run (the
 * daemon would pick a random one). */
static void
env_reset(void)
{
	static const char empty[] = "{\"version\": 1, \"ula\": "
	    "\"fd12:3456:789a::/48\", \"networks\": [], \"endpoints\": [], "
	    "\"ipam\": {\"pools\": []}}\n";
	char err[512] = "";
	int r;

	close_drv();
	env.lnk = lnk_free(env.lnk);
	env.fw = fw_free(env.fw);
	env.ports = fw_hostports_free(env.ports);
	rm_state_dir();
	free(env.state);
	env.state = NULL;
	if ((env.lnk = lnk_fake_new()) == NULL ||
	    (env.fw = fw_fake_new()) == NULL ||
	    (env.ports = fw_hostports_fake_new()) == NULL)
		abort();
	add_host(env.lnk);
	r = fu_write_atomic(env.dir, ST_FILE, empty, sizeof(empty) - 1, err,
	    sizeof(err));
	FUZZ_CHECK(r == 0, "cannot write the state file: %s", err);
	open_drv();
}

static void
env_cleanup(void)
{
	close_drv();
	env.lnk = lnk_free(env.lnk);
	env.fw = fw_free(env.fw);
	env.ports = fw_hostports_free(env.ports);
	rm_state_dir();
	free(env.state);
	env.state = NULL;
	if (env.dir[0] != '\0')
		(void) rmdir(env.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR"), *v;
	struct stat st;

	(void) argc, (void) argv;
	fuzz_keep_stderr();
	json_object_seed(1);
	env.trace = getenv("FUZZ_TRACE") != NULL;
	env.reset_every = RESET_EVERY;
	if ((v = getenv("FUZZ_API_RESET_EVERY")) != NULL && *v != '\0')
		env.reset_every = strtoul(v, NULL, 10);
	if (env.reset_every == 0)
		env.reset_every = 1;
	/* Failed calls are logged as warnings, host failures as errors: the
	 * fuzzer makes many of both on purpose. */
	log_set_level(LOG_LVL_ERROR);
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || *base == '\0')
		base = "/tmp";
	(void) snprintf(env.dir, sizeof(env.dir), "%s/cbfuzz-api.XXXXXX",
	    base);
	FUZZ_CHECK(mkdtemp(env.dir) != NULL, "mkdtemp %s", env.dir);
	(void) atexit(env_cleanup);
	env_reset();
	return 0;
}

static char *
read_state(void)
{
	char path[PATH_MAX + 32], *buf = NULL;
	size_t len;
	int r;

	(void) snprintf(path, sizeof(path), "%s/%s", env.dir, ST_FILE);
	r = fu_read_file(path, ST_MAX_BYTES, &buf, &len);
	FUZZ_CHECK(r == 0, "cannot read the state file: %d", r);
	return buf;
}

static struct st_id
state_id(void)
{
	char path[PATH_MAX + 32];
	struct stat st;

	(void) snprintf(path, sizeof(path), "%s/%s", env.dir, ST_FILE);
	FUZZ_CHECK(stat(path, &st) == 0, "no state file");
	return (struct st_id){ st.st_ino, st.st_size, st.st_mtim };
}

/* env.state follows state.json; the common case costs one stat. */
static bool
state_changed(void)
{
	struct st_id id;

	if (env.state == NULL)
		return true;
	id = state_id();
	return id.ino != env.state_id.ino || id.size != env.state_id.size ||
	    id.mtime.tv_sec != env.state_id.mtime.tv_sec ||
	    id.mtime.tv_nsec != env.state_id.mtime.tv_nsec;
}

static void
state_refresh(void)
{
	if (!state_changed())
		return;
	free(env.state);
	env.state_id = state_id();
	env.state = read_state();
}

/* The daemon restarts on what it wrote: it must load, and write back the
 * same document. */
static void
restart(void)
{
	char *before;

	state_refresh();
	before = env.state;
	env.state = NULL;
	close_drv();
	open_drv();
	state_refresh();
	FUZZ_CHECK(strcmp(before, env.state) == 0, "state changed across a "
	    "restart:\n%s\n---\n%s", before, env.state);
	free(before);
}

/* Consumes a fault the call did not reach, with calls that change
 * nothing, so it cannot hit a later call. */
static void
drain_fault(unsigned int fault)
{
	struct lnk_bridge_cfg bc = { .name = "" };
	struct lnk_veth_cfg vc = { .host = "" };
	struct fw_net bad = { .id = "" };
	struct prefix *lp = NULL;
	size_t n;

	switch (fault) {
	case 1:
		(void) env.lnk->ops->bridge_create(env.lnk, &bc, NULL, 0);
		break;
	case 2:
		(void) env.lnk->ops->bridge_delete(env.lnk, "", NULL, 0);
		break;
	case 3:
		(void) env.lnk->ops->link_exists(env.lnk, "");
		break;
	case 4:
		if (env.lnk->ops->host_prefixes(env.lnk, &lp, &n) == 0)
			free(lp);
		break;
	case 5:
		(void) env.lnk->ops->veth_create(env.lnk, &vc, NULL, 0);
		break;
	case 6:
		(void) env.lnk->ops->veth_delete(env.lnk, "", "", NULL, 0);
		break;
	case 7:
		/* Refused by the fake's checks: the recorded list stays. */
		{
			struct fw_model bm = { .nets = &bad, .nnets = 1 };

			(void) env.fw->ops->sync(env.fw, &bm, NULL, 0);
		}
		break;
	default:
		break;
	}
}

static void
check_reply(const struct api_reply *rep, const char *path, bool fault)
{
	json_t *o, *e;

	FUZZ_CHECK(rep->body != NULL && strlen(rep->body) == rep->len,
	    "%s: reply body and length disagree", path);
	o = json_loadb(rep->body, rep->len, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(o), "%s: reply is not a JSON object: %s",
	    path, rep->body);
	e = json_object_get(o, "Err");
	switch (rep->status) {
	case 200:
		FUZZ_CHECK(e == NULL, "%s: 200 with Err", path);
		break;
	case 400: case 404: case 409: case 413: case 500: case 501: case 507:
		FUZZ_CHECK(json_is_string(e) && json_string_length(e) > 0,
		    "%s: %u without Err", path, rep->status);
		break;
	default:
		fuzz_fail(__FILE__, __LINE__, "%s: status %u", path,
		    rep->status);
	}
	FUZZ_CHECK(rep->status != 500 || fault, "%s: 500 without a host "
	    "failure: %s", path, rep->body);
	json_decref(o);
}

/* The IDs a request named, if it is an object that has them. */
static void
request_ids(const char *body, size_t len, char net[NET_ID_LEN + 1],
    char ep[NET_ID_LEN + 1])
{
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *s;

	net[0] = ep[0] = '\0';
	if ((s = json_string_value(json_object_get(o, "NetworkID"))) != NULL &&
	    strlen(s) == NET_ID_LEN)
		memcpy(net, s, NET_ID_LEN + 1);
	if ((s = json_string_value(json_object_get(o, "EndpointID"))) != NULL &&
	    strlen(s) == NET_ID_LEN)
		memcpy(ep, s, NET_ID_LEN + 1);
	json_decref(o);
}

/* What a successful create or delete must have done to the driver and
 * the host. */
static void
check_effect(unsigned int route, const char *body, size_t len)
{
	char net[NET_ID_LEN + 1], ep[NET_ID_LEN + 1];
	const struct net_cfg *n;
	const struct ep_cfg *e;
	struct lnk_bridge_cfg bc;
	struct lnk_veth_cfg vc;

	if (route < R_CREATE_NETWORK || route > R_DELETE_ENDPOINT)
		return;
	request_ids(body, len, net, ep);
	FUZZ_CHECK(net[0] != '\0', "%s succeeded without a NetworkID",
	    routes[route]);
	n = drv_network_get(env.drv, net);
	switch (route) {
	case R_CREATE_NETWORK:
		FUZZ_CHECK(n != NULL && lnk_fake_get_bridge(env.lnk, n->bridge,
		    &bc) == 1, "created network %.12s or its bridge missing",
		    net);
		break;
	case R_DELETE_NETWORK:
		FUZZ_CHECK(n == NULL, "deleted network %.12s still there", net);
		break;
	case R_CREATE_ENDPOINT:
		e = drv_endpoint_get(env.drv, net, ep);
		FUZZ_CHECK(n != NULL && e != NULL &&
		    lnk_fake_get_veth(env.lnk, e->host, &vc) == 1 &&
		    strcmp(vc.bridge, n->bridge) == 0, "created endpoint "
		    "%.12s or its veth missing", ep);
		break;
	case R_DELETE_ENDPOINT:
		FUZZ_CHECK(drv_endpoint_get(env.drv, net, ep) == NULL,
		    "deleted endpoint %.12s still there", ep);
		break;
	default:
		break;
	}
}

/* The event loop's once-a-second call, between two requests. */
static void
tick(unsigned int fault)
{
	const struct fw_net *fn;
	size_t n, nets = drv_network_count(env.drv);

	state_refresh();
	if (fault == 7)
		fw_fake_fail_next(env.fw, EIO);
	else if (fault != 0)
		lnk_fake_fail_next(env.lnk, faults[fault], EIO);
	drv_tick(env.drv);
	drain_fault(fault);
	if (env.trace)
		dprintf(fuzz_errfd, "tick%s%s\n", fault != 0 ? " fault " : "",
		    fault != 0 ? faults[fault] : "");
	FUZZ_CHECK(!state_changed() && drv_network_count(env.drv) == nets,
	    "drv_tick changed the state");
	if (fault == 7 || nets == 0)
		return;
	n = fw_fake_synced(env.fw, &fn);
	FUZZ_CHECK(n == nets, "after a tick the firewall has %zu networks, "
	    "the driver %zu", n, nets);
	for (size_t i = 0; i < n; i++) {
		const struct net_cfg *c = drv_network_get(env.drv, fn[i].id);

		FUZZ_CHECK(c != NULL && strcmp(c->bridge, fn[i].bridge) == 0,
		    "firewall network %.12s is not the driver's", fn[i].id);
	}
}

static void
run_record(const uint8_t *rec, size_t len)
{
	unsigned int route = (rec[0] & 0x1f) % N_SELECT, fault = rec[0] >> 5;
	size_t blen = len - 1;
	struct api_reply rep = { 0 };
	size_t nets = drv_network_count(env.drv);
	size_t bridges = lnk_fake_bridge_count(env.lnk);
	size_t eps = drv_endpoint_count(env.drv);
	size_t veths = lnk_fake_veth_count(env.lnk);
	char *body;
	const char *path;
	int r;

	if (route == R_RESTART) {
		if (env.trace)
			dprintf(fuzz_errfd, "restart\n");
		restart();
		return;
	}
	if (route == R_TICK) {
		tick(fault);
		return;
	}
	path = route == R_UNKNOWN ? "/NetworkDriver.Unknown" : routes[route];
	/* Exactly the body's bytes, so that a read past them is caught. */
	if ((body = malloc(blen > 0 ? blen : 1)) == NULL)
		return;
	memcpy(body, rec + 1, blen);
	state_refresh();
	if (fault == 7)
		fw_fake_fail_next(env.fw, EIO);
	else if (fault != 0)
		lnk_fake_fail_next(env.lnk, faults[fault], EIO);

	r = api_handle(env.api, path, body, blen, &rep);
	FUZZ_CHECK(r == 0, "api_handle: %d", r);
	FUZZ_CHECK(route != R_UNKNOWN || rep.status == 404,
	    "unknown route: %u", rep.status);
	if (env.trace)
		dprintf(fuzz_errfd, "%s%s%s -> %u %s\n", path + 1,
		    fault != 0 ? " fault " : "", fault != 0 ? faults[fault] : "",
		    rep.status, rep.body != NULL ? rep.body : "");
	check_reply(&rep, path, fault != 0);
	drain_fault(fault);

	if (rep.status == 200) {
		check_effect(route, body, blen);
	} else if (route != R_DELETE_NETWORK) {
		/* A rewrite with the same content would do. */
		if (state_changed()) {
			char *after = read_state();

			FUZZ_CHECK(strcmp(env.state, after) == 0, "%s refused "
			    "(%u) but the state changed", path, rep.status);
			free(after);
		}
		/* Nothing made is left behind, unless the injected fault made
		 * the clean-up itself fail (a delete in a rollback). */
		FUZZ_CHECK(drv_network_count(env.drv) == nets &&
		    drv_endpoint_count(env.drv) == eps &&
		    ((lnk_fake_bridge_count(env.lnk) == bridges &&
		    lnk_fake_veth_count(env.lnk) == veths) ||
		    fault == 2 || fault == 6),
		    "%s refused (%u) but networks %zu->%zu, bridges %zu->%zu, "
		    "endpoints %zu->%zu, veths %zu->%zu", path,
		    rep.status, nets, drv_network_count(env.drv), bridges,
		    lnk_fake_bridge_count(env.lnk), eps,
		    drv_endpoint_count(env.drv), veths,
		    lnk_fake_veth_count(env.lnk));
	}
	free(rep.body);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	unsigned int nrec = 0;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (env.drv == NULL)
		(void) LLVMFuzzerInitialize(NULL, NULL);
	while (p < end && nrec++ < MAX_RECORDS) {
		const uint8_t *sep = memmem(p, (size_t)(end - p), RECORD_SEP,
		    sizeof(RECORD_SEP) - 1);
		const uint8_t *rend = sep != NULL ? sep : end;

		if (rend > p)
			run_record(p, (size_t)(rend - p));
		p = sep != NULL ? sep + sizeof(RECORD_SEP) - 1 : end;
	}
	/* At the end, so that an input frees what it made: what libFuzzer's
	 * leak check counts balances unless something leaked. */
	if (++env.inputs % env.reset_every == 0 ||
	    drv_network_count(env.drv) > MAX_NETS ||
	    drv_endpoint_count(env.drv) > MAX_EPS ||
	    ipam_pool_count(drv_ipam(env.drv)) > MAX_POOLS)
		env_reset();
	return 0;
}
