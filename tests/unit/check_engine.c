/* plugin/engine.h: the Docker Engine API parsers (inspect, list, event
 * lines), the HTTP/1.1 response reader and the event line splitter.  The
 * worker thread is tested against a fake engine by
 * tests/integration/engine_itest.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin/engine.h"
#include "tests/unit/suites.h"

#define ID1 "61b42c245bdbe7dfc13dc618bb62bca09f04134c82453c2c78863e4eb6e7c687"
#define NET1 "c6b01e3bba3ea14b2f1713246fe093bbbc57719657113d7ada3ff1b9016c5e8e"
#define NET2 "e8c3c59dea24dc329e1fddf923654e9a79990883b06e6ad3e169c1e118a1c8d1"
#define EP1 "25b9b3a89899ee3b4eaa3ff3aabc8e1f3e3ade565a396151f69ed5393f1456e9"
#define EP2 "9cdced9968a5721a9c480da872798a9edf60d601d9e91f229a40ebe1ba38f1ba"

/* GET /containers/ID/json from dockerd 20.10.24 (API 1.41) after
 * `docker run --name web1 --hostname myhost --network n1
 * --network-alias www --network-alias Web1`, `docker network connect
 * --alias db n2 web1`, `docker network disconnect n2 web1` and `docker
 * rename web1 web2`; HostConfig and GraphDriver left out, and the n2
 * entry put back as an inspect showed it before the disconnect. */
static const char inspect_2010[] =
    "{\"Id\":\"61b42c245bdbe7dfc13dc618bb62bca09f04134c82453c2c78863e4eb6e7"
    "c687\",\"Created\":\"2026-11-22T03:29:26.030597462Z\",\"Path\":\"/bin/"
    "sleep\",\"Args\":[\"1000\"],\"State\":{\"Status\":\"running\",\"Runnin"
    "g\":true,\"Paused\":false,\"Restarting\":false,\"OOMKilled\":false,\"D"
    "ead\":false,\"Pid\":32448,\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":"
    "\"2026-11-22T03:29:26.393288848Z\",\"FinishedAt\":\"0001-01-01T00:00:0"
    "0Z\"},\"Image\":\"sha256:5a987e13f94d0380d142d060e6c51bb9a9b12d5a1fdbf"
    "b6db8ffb6b682750e78\",\"ResolvConfPath\":\"/tmp/engX/d/containers/61b4"
    "2c245bdbe7dfc13dc618bb62bca09f04134c82453c2c78863e4eb6e7c687/resolv.co"
    "nf\",\"HostnamePath\":\"/tmp/engX/d/containers/61b42c245bdbe7dfc13dc61"
    "8bb62bca09f04134c82453c2c78863e4eb6e7c687/hostname\",\"HostsPath\":\"/"
    "tmp/engX/d/containers/61b42c245bdbe7dfc13dc618bb62bca09f04134c82453c2c"
    "78863e4eb6e7c687/hosts\",\"LogPath\":\"/tmp/engX/d/containers/61b42c24"
    "5bdbe7dfc13dc618bb62bca09f04134c82453c2c78863e4eb6e7c687/61b42c245bdbe"
    "7dfc13dc618bb62bca09f04134c82453c2c78863e4eb6e7c687-json.log\",\"Name"
    "\":\"/web2\",\"RestartCount\":0,\"Driver\":\"overlay2\",\"Platform\":"
    "\"linux\",\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"AppArmorProfile"
    "\":\"\",\"ExecIDs\":null,\"Mounts\":[],\"Config\":{\"Hostname\":\"myho"
    "st\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachS"
    "tdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false"
    ",\"StdinOnce\":false,\"Env\":null,\"Cmd\":[\"/bin/sleep\",\"1000\"],\""
    "Image\":\"bb\",\"Volumes\":null,\"WorkingDir\":\"\",\"Entrypoint\":nul"
    "l,\"OnBuild\":null,\"Labels\":{}},\"NetworkSettings\":{\"Bridge\":\"\""
    ",\"SandboxID\":\"f54d879381afc2a99fc90eeccdd4282f29e9b75f4ab932ed0f258"
    "ddb8932db12\",\"HairpinMode\":false,\"LinkLocalIPv6Address\":\"\",\"Li"
    "nkLocalIPv6PrefixLen\":0,\"Ports\":{},\"SandboxKey\":\"/tmp/engX/e/net"
    "ns/f54d879381af\",\"SecondaryIPAddresses\":null,\"SecondaryIPv6Address"
    "es\":null,\"EndpointID\":\"\",\"Gateway\":\"\",\"GlobalIPv6Address\":"
    "\"\",\"GlobalIPv6PrefixLen\":0,\"IPAddress\":\"\",\"IPPrefixLen\":0,\""
    "IPv6Gateway\":\"\",\"MacAddress\":\"\",\"Networks\":{\"n1\":{\"IPAMCon"
    "fig\":null,\"Links\":null,\"Aliases\":[\"www\",\"Web1\",\"61b42c245bdb"
    "\",\"myhost\"],\"NetworkID\":\"c6b01e3bba3ea14b2f1713246fe093bbbc57719"
    "657113d7ada3ff1b9016c5e8e\",\"EndpointID\":\"25b9b3a89899ee3b4eaa3ff3a"
    "abc8e1f3e3ade565a396151f69ed5393f1456e9\",\"Gateway\":\"172.17.0.1\","
    "\"IPAddress\":\"172.17.0.2\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\","
    "\"GlobalIPv6Address\":\"\",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\""
    "02:42:ac:11:00:02\",\"DriverOpts\":null},\"n2\":{\"IPAMConfig\":{},\"L"
    "inks\":null,\"Aliases\":[\"db\",\"61b42c245bdb\",\"myhost\"],\"Network"
    "ID\":\"e8c3c59dea24dc329e1fddf923654e9a79990883b06e6ad3e169c1e118a1c8d"
    "1\",\"EndpointID\":\"9cdced9968a5721a9c480da872798a9edf60d601d9e91f229"
    "a40ebe1ba38f1ba\",\"Gateway\":\"172.18.0.1\",\"IPAddress\":\"172.18.0."
    "2\",\"IPPrefixLen\":16,\"IPv6Gateway\":\"\",\"GlobalIPv6Address\":\"\""
    ",\"GlobalIPv6PrefixLen\":0,\"MacAddress\":\"02:42:ac:12:00:02\",\"Driv"
    "erOpts\":{}}}}}";

static struct eng_container
parse_ok(const char *json)
{
	struct eng_container c;
	char err[256] = "";

	memset(&c, 0xA5, sizeof(c));
	ck_assert_msg(eng_parse_container(json, strlen(json), &c, err,
	    sizeof(err)) == 0, "parse: %s", err);
	return c;
}

static void
parse_bad(const char *json)
{
	struct eng_container c = { .neps = 12345 };
	char err[256] = "";

	ck_assert_int_eq(eng_parse_container(json, strlen(json), &c, err,
	    sizeof(err)), -EINVAL);
	ck_assert_msg(err[0] != '\0', "no message for %s", json);
	ck_assert_uint_eq(c.neps, 12345);	/* untouched */
}

/* The names of c's endpoint i, joined by spaces. */
static const char *
names(const struct eng_container *c, size_t i)
{
	static char buf[8192];
	size_t off = 0;

	ck_assert_uint_lt(i, c->neps);
	buf[0] = '\0';
	for (size_t j = 0; j < c->eps[i].nnames; j++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    j > 0 ? " " : "", c->eps[i].names[j]);
	return buf;
}

static const char *
ntop(int af, const void *a)
{
	static char buf[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(inet_ntop(af, a, buf, sizeof(buf)));
	return buf;
}

/* The links of c's endpoint i as "target>alias" joined by spaces. */
static const char *
links(const struct eng_container *c, size_t i)
{
	static char buf[8192];
	size_t off = 0;

	ck_assert_uint_lt(i, c->neps);
	buf[0] = '\0';
	for (size_t j = 0; j < c->eps[i].nlinks; j++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s%s>%s", j > 0 ? " " : "", c->eps[i].links[j].target,
		    c->eps[i].links[j].alias);
	return buf;
}

START_TEST(inspect_real)
{
	struct eng_container c = parse_ok(inspect_2010);

	ck_assert_str_eq(c.id, ID1);
	ck_assert_uint_eq(c.neps, 2);
	ck_assert_str_eq(c.eps[0].net_name, "n1");
	ck_assert_str_eq(c.eps[0].net_id, NET1);
	ck_assert_str_eq(c.eps[0].ep_id, EP1);
	/* 20.10 already lists short ID and hostname among the aliases;
	 * the old name stays an alias after the rename. */
	ck_assert_str_eq(names(&c, 0), "web2 www Web1 61b42c245bdb myhost");
	ck_assert_str_eq(c.eps[1].net_name, "n2");
	ck_assert_str_eq(c.eps[1].net_id, NET2);
	ck_assert_str_eq(c.eps[1].ep_id, EP2);
	ck_assert_str_eq(names(&c, 1), "web2 db 61b42c245bdb myhost");
	ck_assert_str_eq(c.name, "web2");
	ck_assert(c.running);
	ck_assert_int_eq(c.pid, 32448);
	ck_assert_str_eq(c.sandbox_key, "/tmp/engX/e/netns/f54d879381af");
	ck_assert_str_eq(c.net_container, "");
	ck_assert_uint_eq(c.ndns, 0);
	ck_assert(c.eps[0].has_addr4);
	ck_assert_str_eq(ntop(AF_INET, &c.eps[0].addr4), "172.17.0.2");
	ck_assert(!c.eps[0].has_addr6);
	ck_assert_str_eq(ntop(AF_INET, &c.eps[1].addr4), "172.18.0.2");
	ck_assert_uint_eq(c.eps[0].nlinks, 0);
	ck_assert_ptr_null(c.eps[0].links);
	eng_container_done(&c);
	ck_assert_ptr_null(c.eps);
	eng_container_done(&c);		/* twice is harmless */
	eng_container_done(NULL);
}
END_TEST

START_TEST(inspect_order_dedup)
{
	/* A newer engine: DNSNames, and aliases without short ID. */
	struct eng_container c = parse_ok("{\"Id\":\"" ID1 "\","
	    "\"Name\":\"/Alpha\",\"Config\":{\"Hostname\":\"HOST\"},"
	    "\"NetworkSettings\":{\"Networks\":{\"net\":{\"NetworkID\":\""
	    NET1 "\",\"EndpointID\":\"" EP1 "\",\"Aliases\":[\"x\",\"ALPHA\","
	    "\"\",\"y\",\"X\"],\"DNSNames\":[\"alpha\",\"z\",\"y\","
	    "\"61B42C245BDB\",\"host\"]}}}}");

	ck_assert_uint_eq(c.neps, 1);
	ck_assert_str_eq(names(&c, 0), "Alpha x y z 61B42C245BDB host");
	eng_container_done(&c);

	/* The default hostname is the short ID: once. */
	c = parse_ok("{\"Id\":\"" ID1 "\",\"Name\":\"/b\",\"Config\":"
	    "{\"Hostname\":\"61b42c245bdb\"},\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"" EP1
	    "\"}}}}");
	ck_assert_str_eq(names(&c, 0), "b 61b42c245bdb");
	eng_container_done(&c);

	/* A short Id (not from dockerd) gives no short-ID name. */
	c = parse_ok("{\"Id\":\"abc\",\"NetworkSettings\":{\"Networks\":"
	    "{\"n\":{\"EndpointID\":\"e1\",\"Aliases\":null}}}}");
	ck_assert_str_eq(c.id, "abc");
	ck_assert_uint_eq(c.eps[0].nnames, 0);
	ck_assert_str_eq(c.eps[0].net_id, "");
	eng_container_done(&c);
}
END_TEST

/* As dockerd 20.10 shows `docker run --name web --hostname web --link
 * db:dbalias --link /cache:/web/c --dns 192.0.2.53 --dns bad --dns
 * 2001:db8::53 ...` on the default bridge, then `docker network connect
 * --link db:d2 --link solo n1 web` (State, HostConfig and
 * NetworkSettings trimmed to what is read). */
static const char inspect_links[] = "{\"Id\":\"" ID1 "\","
    "\"Name\":\"/web\",\"State\":{\"Status\":\"running\",\"Running\":true,"
    "\"Paused\":false,\"Pid\":4242},\"HostConfig\":{\"NetworkMode\":"
    "\"default\",\"Dns\":[\"192.0.2.53\",\"bad\",\"2001:db8::53\","
    "\"fe80::1%eth0\",\"192.0.2.54\",\"192.0.2.55\"],\"Links\":"
    "[\"/db:/web/dbalias\",\"/cache:/web/c\"]},\"Config\":{\"Hostname\":"
    "\"web\"},\"NetworkSettings\":{\"SandboxKey\":"
    "\"/var/run/docker/netns/0123456789ab\",\"Networks\":{\"bridge\":{"
    "\"Links\":null,\"Aliases\":null,\"NetworkID\":\"" NET1 "\","
    "\"EndpointID\":\"" EP1 "\",\"Gateway\":\"172.17.0.1\",\"IPAddress\":"
    "\"172.17.0.3\",\"IPPrefixLen\":16,\"GlobalIPv6Address\":\"\"},"
    "\"n1\":{\"Links\":[\"db:d2\",\"solo\",\"a:b:c\",\"\",\":x\",\"y:\"],"
    "\"Aliases\":[\"0123456789ab\"],\"NetworkID\":\"" NET2 "\","
    "\"EndpointID\":\"" EP2 "\",\"IPAddress\":\"not an address\","
    "\"GlobalIPv6Address\":\"fd00:1::3\"}}}}";

START_TEST(inspect_links_dns_state)
{
	struct eng_container c = parse_ok(inspect_links);

	ck_assert_str_eq(c.name, "web");
	ck_assert(c.running);
	ck_assert_int_eq(c.pid, 4242);
	ck_assert_str_eq(c.sandbox_key, "/var/run/docker/netns/0123456789ab");
	ck_assert_str_eq(c.net_container, "");
	/* Three valid literals kept, as written; the rest skipped. */
	ck_assert_uint_eq(c.ndns, 3);
	ck_assert_str_eq(c.dns[0], "192.0.2.53");
	ck_assert_str_eq(c.dns[1], "2001:db8::53");
	ck_assert_str_eq(c.dns[2], "192.0.2.54");
	ck_assert_uint_eq(c.neps, 2);
	/* The default bridge carries HostConfig.Links. */
	ck_assert_str_eq(c.eps[0].net_name, "bridge");
	ck_assert_str_eq(links(&c, 0), "db>dbalias cache>c");
	ck_assert_str_eq(ntop(AF_INET, &c.eps[0].addr4), "172.17.0.3");
	ck_assert(!c.eps[0].has_addr6);
	/* n1: its own Links; malformed entries left out. */
	ck_assert_str_eq(links(&c, 1), "db>d2 solo>solo");
	ck_assert(!c.eps[1].has_addr4);
	ck_assert(c.eps[1].has_addr6);
	ck_assert_str_eq(ntop(AF_INET6, &c.eps[1].addr6), "fd00:1::3");
	eng_container_done(&c);
	ck_assert_ptr_null(c.eps);

	/* Stopped: no process; sharing another's namespace. */
	c = parse_ok("{\"Id\":\"" ID1 "\",\"State\":{\"Running\":false,"
	    "\"Pid\":77},\"HostConfig\":{\"NetworkMode\":\"container:db\","
	    "\"Dns\":null,\"Links\":null},\"NetworkSettings\":{"
	    "\"SandboxKey\":\"\"}}");
	ck_assert(!c.running);
	ck_assert_int_eq(c.pid, 0);
	ck_assert_str_eq(c.net_container, "db");
	ck_assert_str_eq(c.sandbox_key, "");
	ck_assert_str_eq(c.name, "");
	eng_container_done(&c);

	/* Without State or HostConfig; other network modes. */
	c = parse_ok("{\"Id\":\"" ID1 "\",\"State\":null,\"HostConfig\":"
	    "{\"NetworkMode\":\"container:\"}}");
	ck_assert(!c.running);
	ck_assert_int_eq(c.pid, 0);
	ck_assert_str_eq(c.net_container, "");
	eng_container_done(&c);
	c = parse_ok("{\"Id\":\"" ID1 "\",\"HostConfig\":{\"NetworkMode\":"
	    "\"n1\"}}");
	ck_assert_str_eq(c.net_container, "");
	eng_container_done(&c);
}
END_TEST

START_TEST(inspect_missing_fields)
{
	static const char *const docs[] = {
		"{\"Id\":\"" ID1 "\"}",
		"{\"Id\":\"" ID1 "\",\"Name\":null,\"Config\":null,"
		    "\"NetworkSettings\":null}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":null}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":{}}}",
		/* Not attached (a stopped container): left out. */
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":{\"n\":"
		    "{\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"\"},\"m\":"
		    "{\"NetworkID\":\"" NET2 "\"},\"o\":{\"EndpointID\":"
		    "null}}}}",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct eng_container c = parse_ok(docs[i]);

		ck_assert_str_eq(c.id, ID1);
		ck_assert_uint_eq(c.neps, 0);
		ck_assert_ptr_null(c.eps);
		eng_container_done(&c);
	}
}
END_TEST

START_TEST(inspect_skips_unattached)
{
	struct eng_container c = parse_ok("{\"Id\":\"" ID1 "\","
	    "\"Name\":\"/c\",\"NetworkSettings\":{\"Networks\":{"
	    "\"a\":{\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"\"},"
	    "\"b\":{\"NetworkID\":\"" NET2 "\",\"EndpointID\":\"" EP2 "\"}}}}");

	ck_assert_uint_eq(c.neps, 1);
	ck_assert_str_eq(c.eps[0].net_name, "b");
	ck_assert_str_eq(c.eps[0].ep_id, EP2);
	ck_assert_str_eq(names(&c, 0), "c 61b42c245bdb");
	eng_container_done(&c);
}
END_TEST

START_TEST(inspect_wrong_types)
{
	static const char *const docs[] = {
		"",
		"nul",
		"{\"Id\":\"" ID1 "\"",
		"[]",
		"\"x\"",
		"{}",
		"{\"Id\":null}",
		"{\"Id\":42}",
		"{\"Id\":\"\"}",
		"{\"Id\":\"../../x\"}",
		"{\"Id\":\"" ID1 "0\"}",		/* 65 digits */
		"{\"Id\":\"a\",\"Id\":\"b\"}",		/* duplicate */
		"{\"Id\":\"" ID1 "\",\"Name\":7}",
		"{\"Id\":\"" ID1 "\",\"Config\":\"x\"}",
		"{\"Id\":\"" ID1 "\",\"Config\":{\"Hostname\":[]}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":[]}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":[]}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":\"x\"}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":5}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"NetworkID\":{}}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"Aliases\":\"www\"}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"Aliases\":[\"a\",1]}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"DNSNames\":{}}}}}",
		"{\"Id\":\"" ID1 "\",\"State\":[]}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Running\":\"yes\"}}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Running\":1}}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Pid\":\"12\"}}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Pid\":-1}}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Pid\":12.5}}",
		"{\"Id\":\"" ID1 "\",\"State\":{\"Pid\":4294967296}}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":\"x\"}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"NetworkMode\":5}}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"Dns\":\"1.1.1.1\"}}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"Dns\":[\"1.1.1.1\",1]}}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"Links\":{}}}",
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"Links\":[null]}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"SandboxKey\":1}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"IPAddress\":5}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"GlobalIPv6Address\":[]}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"Links\":\"a:b\"}}}}",
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"Links\":[\"a\",{}]}}}}",
		/* HostConfig.Links is checked without a default bridge too. */
		"{\"Id\":\"" ID1 "\",\"HostConfig\":{\"Links\":[7]},"
		    "\"NetworkSettings\":{\"Networks\":{\"n\":{\"EndpointID\":"
		    "\"e\"}}}}",
		/* jansson refuses NUL bytes in strings. */
		"{\"Id\":\"" ID1 "\",\"NetworkSettings\":{\"Networks\":"
		    "{\"n\":{\"EndpointID\":\"e\",\"Aliases\":"
		    "[\"a\\u0000b\"]}}}}",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		parse_bad(docs[i]);
	/* Not NUL-terminated: only len bytes are read. */
	{
		struct eng_container c;
		char err[128];
		char buf[] = { '{', '"', 'I', 'd', '"', ':', '"', 'a', '"',
		    '}', 'x' };

		ck_assert_int_eq(eng_parse_container(buf, sizeof(buf), &c, err,
		    sizeof(err)), -EINVAL);
		ck_assert_int_eq(eng_parse_container(buf, sizeof(buf) - 1, &c,
		    err, sizeof(err)), 0);
		eng_container_done(&c);
	}
}
END_TEST

/* A JSON string of n copies of ch. */
static char *
rep(char ch, size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

START_TEST(inspect_caps)
{
	char *n255 = rep('a', 255), *n256 = rep('b', 256);
	char *n300 = rep('n', 300);
	char *doc = malloc(1 << 20), *p;
	struct eng_container c;
	size_t off = 0;

	ck_assert_ptr_nonnull(doc);
#define ADD(...) off += (size_t)snprintf(doc + off, (1 << 20) - off, \
	__VA_ARGS__)
	ADD("{\"Id\":\"%s\",\"Name\":\"/%s\",\"NetworkSettings\":"
	    "{\"Networks\":{", ID1, n256);
	/* 70 networks: the first with a long name and 71 aliases; the
	 * second with an over-long NetworkID. */
	for (int i = 0; i < 70; i++) {
		ADD("%s\"%s%d\":{\"NetworkID\":\"%s\",\"EndpointID\":\"%x\"",
		    i > 0 ? "," : "", i == 0 ? n300 : "net", i,
		    i == 1 ? ID1 "ab" : NET1, i + 1);
		if (i == 0) {
			ADD(",\"Aliases\":[\"%s\"", n255);
			for (int j = 0; j < 70; j++)
				ADD(",\"al%d\"", j);
			ADD("]");
		}
		ADD("}");
	}
	ADD("}}}");
#undef ADD
	c = parse_ok(doc);
	ck_assert_uint_eq(c.neps, ENG_NETS_MAX);	/* net1 skipped */
	ck_assert_uint_eq(strlen(c.eps[0].net_name), ENG_NAME_MAX);
	ck_assert_int_eq(strncmp(c.eps[0].net_name, n300, ENG_NAME_MAX), 0);
	ck_assert_uint_eq(c.eps[0].nnames, ENG_NAMES_MAX);
	/* The 256-byte name is skipped. */
	ck_assert_str_eq(c.eps[0].names[0], n255);
	ck_assert_str_eq(c.eps[0].names[1], "al0");
	ck_assert_str_eq(c.eps[0].names[63], "al62");
	ck_assert_str_eq(c.eps[1].net_name, "net2");
	/* The 256-byte container name is none. */
	ck_assert_str_eq(c.name, "");
	for (size_t i = 0; i < c.neps; i++)
		for (size_t j = 0; j < c.eps[i].nnames; j++) {
			p = c.eps[i].names[j];
			ck_assert_uint_le(strlen(p), ENG_NAME_MAX);
			ck_assert_uint_gt(strlen(p), 0);
		}
	eng_container_done(&c);
	free(doc);
	free(n255);
	free(n256);
	free(n300);
}
END_TEST

START_TEST(inspect_caps_keys_links)
{
	char *k256 = rep('k', ENG_KEY_MAX - 1), *k257 = rep('k', ENG_KEY_MAX);
	char *n255 = rep('a', ENG_NAME_MAX), *n256 = rep('b', ENG_NAME_MAX + 1);
	char *doc = malloc(1 << 16);
	struct eng_container c;
	size_t off = 0;

	ck_assert_ptr_nonnull(doc);
#define ADD(...) off += (size_t)snprintf(doc + off, (1 << 16) - off, \
	__VA_ARGS__)
	/* A key of exactly ENG_KEY_MAX bytes, a 255-byte name, 70 links (the
	 * second with an over-long alias), a shared container's name of 255
	 * bytes. */
	ADD("{\"Id\":\"%s\",\"Name\":\"/%s\",\"HostConfig\":{\"NetworkMode\":"
	    "\"container:%s\"},\"NetworkSettings\":{\"SandboxKey\":\"/%s\","
	    "\"Networks\":{\"n\":{\"EndpointID\":\"e\",\"Links\":[", ID1, n255,
	    n255, k256);
	for (int i = 0; i < 70; i++)
		ADD("%s\"t%d:%s\"", i > 0 ? "," : "", i, i == 1 ? n256 : "al");
	ADD("]}}}}");
	c = parse_ok(doc);
	ck_assert_uint_eq(strlen(c.sandbox_key), ENG_KEY_MAX);
	ck_assert_str_eq(c.name, n255);
	ck_assert_str_eq(c.net_container, n255);
	ck_assert_uint_eq(c.eps[0].nlinks, ENG_LINKS_MAX);
	ck_assert_str_eq(c.eps[0].links[0].target, "t0");
	ck_assert_str_eq(c.eps[0].links[1].target, "t2");
	ck_assert_str_eq(c.eps[0].links[63].target, "t64");
	eng_container_done(&c);

	/* One byte more: the key and the shared container are none. */
	off = 0;
	ADD("{\"Id\":\"%s\",\"HostConfig\":{\"NetworkMode\":\"container:%s\"},"
	    "\"NetworkSettings\":{\"SandboxKey\":\"/%s\"}}", ID1, n256, k257);
#undef ADD
	c = parse_ok(doc);
	ck_assert_str_eq(c.sandbox_key, "");
	ck_assert_str_eq(c.net_container, "");
	eng_container_done(&c);
	free(doc);
	free(k256);
	free(k257);
	free(n255);
	free(n256);
}
END_TEST

START_TEST(list_parse)
{
	char (*ids)[ENG_ID_LEN + 1] = NULL;
	const char *real = "[{\"Id\":\"" ID1 "\",\"Names\":[\"/web2\"],"
	    "\"Image\":\"bb\",\"State\":\"running\",\"NetworkSettings\":"
	    "{\"Networks\":{}}},{\"Id\":\"0123abcd\"}]";
	static const char *const bad[] = { "", "{}", "[1]", "[{}]",
	    "[{\"Id\":5}]", "[{\"Id\":\"\"}]", "[{\"Id\":\"zz\"}]",
	    "[{\"Id\":\"" ID1 "\"},{\"Id\":\"x/y\"}]", "[" };
	char err[256];
	size_t n = 99;

	ck_assert_int_eq(eng_parse_list(real, strlen(real), &ids, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], ID1);
	ck_assert_str_eq(ids[1], "0123abcd");
	free(ids);
	ids = NULL;
	ck_assert_int_eq(eng_parse_list("[]", 2, &ids, &n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ids);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		n = 99;
		ck_assert_int_eq(eng_parse_list(bad[i], strlen(bad[i]), &ids,
		    &n, err, sizeof(err)), -EINVAL);
		ck_assert_uint_eq(n, 99);
		ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
	}
}
END_TEST

static enum eng_event
event(const char *line, int want_r, char id[ENG_ID_LEN + 1])
{
	enum eng_event ev = (enum eng_event)42;

	ck_assert_int_eq(eng_parse_event(line, strlen(line), &ev, id), want_r);
	return ev;
}

START_TEST(events)
{
	char id[ENG_ID_LEN + 1];

	/* Real 20.10 lines. */
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"disconnect"
	    "\",\"Actor\":{\"ID\":\"" NET2 "\",\"Attributes\":{\"container\":\""
	    ID1 "\",\"name\":\"n2\",\"type\":\"bridge\"}},\"scope\":\"local\","
	    "\"time\":1795318170,\"timeNano\":1795318170682130057}", 0, id),
	    ENG_EV_INSPECT);
	ck_assert_str_eq(id, ID1);
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"connect\","
	    "\"Actor\":{\"ID\":\"" NET2 "\",\"Attributes\":{\"container\":"
	    "\"747d7a86c1fbe1bd109fe4e5b6ff0b5685c6d023d850e705e3e8a657a0db7780"
	    "\",\"name\":\"n2\",\"type\":\"bridge\"}},\"scope\":\"local\"}", 0,
	    id), ENG_EV_INSPECT);
	ck_assert_str_eq(id,
	    "747d7a86c1fbe1bd109fe4e5b6ff0b5685c6d023d850e705e3e8a657a0db7780");
	ck_assert_int_eq(event("{\"status\":\"rename\",\"id\":\"" ID1 "\","
	    "\"from\":\"bb\",\"Type\":\"container\",\"Action\":\"rename\","
	    "\"Actor\":{\"ID\":\"" ID1 "\",\"Attributes\":{\"image\":\"bb\","
	    "\"name\":\"web2\",\"oldName\":\"/web1\"}},\"scope\":\"local\"}", 0,
	    id), ENG_EV_INSPECT);
	ck_assert_str_eq(id, ID1);
	ck_assert_int_eq(event("{\"status\":\"destroy\",\"id\":\"" ID1 "\","
	    "\"Type\":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\""
	    ID1 "\",\"Attributes\":{\"image\":\"bb\",\"name\":\"tmp1\"}}}", 0,
	    id), ENG_EV_REMOVED);
	ck_assert_str_eq(id, ID1);

	/* Unrelated. */
	ck_assert_int_eq(event("{\"status\":\"tag\",\"Type\":\"image\","
	    "\"Action\":\"tag\",\"Actor\":{\"ID\":\"sha256:5a98\"}}", 0, id),
	    ENG_EV_IGNORE);
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"create\","
	    "\"Actor\":{\"ID\":\"" NET1 "\"}}", 0, id), ENG_EV_IGNORE);
	/* Start, restart and die change the process and addresses. */
	ck_assert_int_eq(event("{\"status\":\"start\",\"id\":\"" ID1 "\","
	    "\"from\":\"bb\",\"Type\":\"container\",\"Action\":\"start\","
	    "\"Actor\":{\"ID\":\"" ID1 "\",\"Attributes\":{\"image\":\"bb\","
	    "\"name\":\"web2\"}},\"scope\":\"local\"}", 0, id), ENG_EV_INSPECT);
	ck_assert_str_eq(id, ID1);
	ck_assert_int_eq(event("{\"status\":\"die\",\"id\":\"" ID1 "\","
	    "\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\""
	    ID1 "\",\"Attributes\":{\"exitCode\":\"137\",\"image\":\"bb\","
	    "\"name\":\"web2\"}}}", 0, id), ENG_EV_INSPECT);
	ck_assert_str_eq(id, ID1);
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"restart\","
	    "\"Actor\":{\"ID\":\"" ID1 "\"}}", 0, id), ENG_EV_INSPECT);
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"die\","
	    "\"Actor\":{\"ID\":\"x\"}}", -EINVAL, id), ENG_EV_IGNORE);
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"kill\","
	    "\"Actor\":{\"ID\":\"" ID1 "\"}}", 0, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"start\","
	    "\"Actor\":{\"ID\":\"" ID1 "\"}}", 0, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"started\","
	    "\"Actor\":{\"ID\":\"" ID1 "\"}}", 0, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"container\"}", 0, id),
	    ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":1,\"Action\":\"destroy\"}", 0, id),
	    ENG_EV_IGNORE);
	ck_assert_int_eq(event("{}", 0, id), ENG_EV_IGNORE);

	/* Malformed. */
	ck_assert_int_eq(event("", -EINVAL, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("[]", -EINVAL, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"network\"", -EINVAL, id),
	    ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"connect\","
	    "\"Actor\":{\"ID\":\"" NET1 "\"}}", -EINVAL, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"network\",\"Action\":\"connect\","
	    "\"Actor\":{\"Attributes\":{\"container\":\"../x\"}}}", -EINVAL,
	    id), ENG_EV_IGNORE);
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"destroy\","
	    "\"Actor\":{\"ID\":7}}", -EINVAL, id), ENG_EV_IGNORE);
	ck_assert_int_eq(event("{\"Type\":\"container\",\"Action\":\"destroy\","
	    "\"Actor\":\"x\"}", -EINVAL, id), ENG_EV_IGNORE);
}
END_TEST

/*
 * The HTTP reader
 */

static char got[1 << 16];
static size_t ngot, ncalls;

static int
collect(void *arg, const char *data, size_t len)
{
	(void) arg;
	ck_assert_uint_le(len, sizeof(got) - ngot);
	memcpy(got + ngot, data, len);
	ngot += len;
	ncalls++;
	return 0;
}

/* A string literal and its length. */
#define S(lit)	lit, strlen(lit)

static struct eng_http *
hnew(size_t max)
{
	static struct eng_http h;

	ngot = ncalls = 0;
	eng_http_init(&h, max, collect, NULL);
	return &h;
}

/* Feeds resp in pieces cut at a and b (a <= b); the last result. */
static int
feed3(struct eng_http *h, const char *resp, size_t len, size_t a, size_t b)
{
	int r;

	if ((r = eng_http_feed(h, resp, a)) != 0)
		return r;
	if ((r = eng_http_feed(h, resp + a, b - a)) != 0)
		return r;
	return eng_http_feed(h, resp + b, len - b);
}

static const char resp_len[] = "HTTP/1.1 200 OK\r\n"
    "Api-Version: 1.41\r\nContent-Type: application/json\r\n"
    "content-length:  13 \r\n\r\n{\"a\":\"hello\"}";

START_TEST(http_content_length)
{
	size_t len = strlen(resp_len);
	struct eng_http *h;

	for (size_t a = 0; a <= len; a++) {
		h = hnew(0);
		ck_assert_int_eq(feed3(h, resp_len, len, a, a), 1);
		ck_assert_int_eq(h->status, 200);
		ck_assert(eng_http_head_done(h));
		ck_assert_uint_eq(ngot, 13);
		ck_assert_int_eq(memcmp(got, "{\"a\":\"hello\"}", 13), 0);
	}
	/* Byte by byte; the head is not done before the blank line. */
	h = hnew(0);
	for (size_t i = 0; i < len; i++) {
		ck_assert_int_eq(eng_http_feed(h, resp_len + i, 1),
		    i == len - 1);
		if (i < len - 14)
			ck_assert(!eng_http_head_done(h));
	}
	/* Bytes after the end are ignored; an EOF then is fine. */
	ck_assert_int_eq(eng_http_feed(h, "junk", 4), 1);
	ck_assert_int_eq(eng_http_eof(h), 1);
	ck_assert_uint_eq(ngot, 13);

	/* Cut short. */
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, resp_len, len - 1), 0);
	ck_assert_int_eq(eng_http_eof(h), -EPIPE);

	/* No body at all, LF line ends. */
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.0 200 OK\n"
	    "Content-Length: 0\n\n")), 1);
	ck_assert_uint_eq(ncalls, 0);
}
END_TEST

static const char resp_chunked[] = "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
    "5;ext=1;q=\"x\"\r\nhello\r\n"
    "1\r\n \r\n"
    "B \r\nworld, 0123\r\n"
    "0;last\r\nTrailer: x\r\n\r\n";

START_TEST(http_chunked_splits)
{
	size_t len = strlen(resp_chunked);
	struct eng_http *h;

	for (size_t a = 0; a <= len; a++)
		for (size_t b = a; b <= len; b++) {
			h = hnew(0);
			ck_assert_int_eq(feed3(h, resp_chunked, len, a, b), 1);
			ck_assert_uint_eq(ngot, 17);
			ck_assert_int_eq(memcmp(got, "hello world, 0123", 17),
			    0);
		}
	/* Over-cap: 17 bytes in, 16 allowed. */
	h = hnew(16);
	ck_assert_int_eq(eng_http_feed(h, resp_chunked, len), -EMSGSIZE);
	ck_assert_int_eq(eng_http_feed(h, "0\r\n\r\n", 5), -EPROTO);
	h = hnew(17);
	ck_assert_int_eq(eng_http_feed(h, resp_chunked, len), 1);
}
END_TEST

START_TEST(http_chunked_stream)
{
	/* dockerd's /events: body bytes come out as each chunk arrives. */
	static const char head[] = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
	    "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	struct eng_http *h = hnew(0);

	ck_assert_int_eq(eng_http_feed(h, head, strlen(head)), 0);
	ck_assert(eng_http_head_done(h));
	ck_assert_uint_eq(ngot, 0);
	ck_assert_int_eq(eng_http_feed(h, S("4\r\n{}\n\n\r\n3")), 0);
	ck_assert_uint_eq(ngot, 4);
	ck_assert_int_eq(eng_http_feed(h, "\r\nab", 4), 0);
	ck_assert_uint_eq(ngot, 6);
	ck_assert_int_eq(memcmp(got, "{}\n\nab", 6), 0);
	ck_assert_int_eq(eng_http_eof(h), -EPIPE);
}
END_TEST

START_TEST(http_bad)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 600 OK\r\n\r\n",
		"FOO\r\n",
		"\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n",
		"HTTP/1.1 200 OK\r\nA: \0b\r\n",
#define CH "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		CH "\r\n",
		CH "zz\r\n",
		CH "-1\r\n",
		CH "1x\r\n",
		CH "0x1\r\n",
		CH "ffffffffffffffffffff\r\n",
		CH "2\r\nabc\r\n",		/* data not followed by CRLF */
		CH "2\r\nabXY",
#undef CH
	};
	struct eng_http *h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		if (i == 13)
			len = 24;	/* past the embedded NUL */
		h = hnew(0);
		ck_assert_msg(eng_http_feed(h, bad[i], len) == -EPROTO,
		    "accepted: %s", bad[i]);
		ck_assert_int_eq(h->state, ENG_HTTP_ERROR);
		/* The error sticks. */
		ck_assert_int_lt(eng_http_feed(h, "\r\n\r\n", 4), 0);
	}
}
END_TEST

START_TEST(http_caps)
{
	char *big = rep('a', ENG_HTTP_LINE_MAX + 10);
	struct eng_http *h;

	/* A header line over the limit. */
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, "HTTP/1.1 200 OK\r\nX: ", 20), 0);
	ck_assert_int_eq(eng_http_feed(h, big, strlen(big)), -EMSGSIZE);
	/* A head over the limit, in short lines. */
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, "HTTP/1.1 200 OK\r\n", 17), 0);
	{
		int r = 0;

		for (int i = 0; i < 20000 && r == 0; i++)
			r = eng_http_feed(h, "X-A: b\r\n", 8);
		ck_assert_int_eq(r, -EMSGSIZE);
	}
	/* Content-Length over the cap: refused before the body. */
	h = hnew(10);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 11\r\n\r\n")), -EMSGSIZE);
	ck_assert_uint_eq(ncalls, 0);
	h = hnew(10);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 10\r\n\r\n0123456789")), 1);
	/* A body to EOF over the cap. */
	h = hnew(10);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 200 OK\r\n\r\n01234")),
	    0);
	ck_assert_int_eq(eng_http_feed(h, "567890", 6), -EMSGSIZE);
	/* ... and within it. */
	h = hnew(10);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 200 OK\r\n\r\n01234")),
	    0);
	ck_assert_int_eq(eng_http_eof(h), 1);
	ck_assert_uint_eq(ngot, 5);
	free(big);
}
END_TEST

START_TEST(http_status)
{
	static const char nf[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/json\r\nContent-Length: 38\r\n\r\n"
	    "{\"message\":\"No such container: nope\"}\n";
	struct eng_http *h = hnew(0);

	ck_assert_int_eq(eng_http_feed(h, nf, strlen(nf)), 1);
	ck_assert_int_eq(h->status, 404);
	ck_assert_uint_eq(ngot, 38);
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n"
	    "no")), 1);
	ck_assert_int_eq(h->status, 500);
	ck_assert_uint_eq(ngot, 2);
	h = hnew(0);
	ck_assert_int_eq(eng_http_feed(h, S("HTTP/1.1 204 No Content\r\n\r\n")),
	    1);
	ck_assert_int_eq(h->status, 204);
	/* No callback: the body is dropped. */
	h = hnew(0);
	h->cb = NULL;
	ck_assert_int_eq(eng_http_feed(h, resp_len, strlen(resp_len)), 1);
	ck_assert_uint_eq(ngot, 0);
}
END_TEST

static char lines_got[4096];
static size_t nlines;

static int
on_line(void *arg, const char *line, size_t len)
{
	size_t off = strlen(lines_got);

	(void) arg;
	(void) snprintf(lines_got + off, sizeof(lines_got) - off, "[%.*s]",
	    (int)len, line);
	nlines++;
	return len == 4 && memcmp(line, "stop", 4) == 0 ? -EINTR : 0;
}

START_TEST(lines_split)
{
	struct eng_lines l;
	char *big = rep('x', ENG_LINE_MAX + 1);

	lines_got[0] = '\0';
	ck_assert_int_eq(eng_lines_init(&l, on_line, NULL), 0);
	ck_assert_int_eq(eng_lines_feed(&l, "a\nbc", 4), 0);
	ck_assert_int_eq(eng_lines_feed(&l, "d\n\n", 3), 0);
	ck_assert_str_eq(lines_got, "[a][bcd]");
	/* One line over the cap (in pieces) is skipped whole. */
	ck_assert_int_eq(eng_lines_feed(&l, "e", 1), 0);
	ck_assert_int_eq(eng_lines_feed(&l, big, ENG_LINE_MAX), 0);
	ck_assert_int_eq(eng_lines_feed(&l, "yy\nf\n", 5), 0);
	ck_assert_str_eq(lines_got, "[a][bcd][f]");
	ck_assert_uint_eq(l.nskipped, 1);
	/* Exactly at the cap is kept. */
	big[ENG_LINE_MAX] = '\n';
	nlines = 0;
	ck_assert_int_eq(eng_lines_feed(&l, big, ENG_LINE_MAX + 1), 0);
	ck_assert_uint_eq(nlines, 1);
	ck_assert_int_eq(eng_lines_feed(&l, "stop\nz\n", 7), -EINTR);
	eng_lines_done(&l);
	free(big);
}
END_TEST

Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *p = tcase_create("parse"), *h = tcase_create("http");

	tcase_add_test(p, inspect_real);
	tcase_add_test(p, inspect_order_dedup);
	tcase_add_test(p, inspect_links_dns_state);
	tcase_add_test(p, inspect_missing_fields);
	tcase_add_test(p, inspect_skips_unattached);
	tcase_add_test(p, inspect_wrong_types);
	tcase_add_test(p, inspect_caps);
	tcase_add_test(p, inspect_caps_keys_links);
	tcase_add_test(p, list_parse);
	tcase_add_test(p, events);
	suite_add_tcase(s, p);

	tcase_add_test(h, http_content_length);
	tcase_add_test(h, http_chunked_splits);
	tcase_add_test(h, http_chunked_stream);
	tcase_add_test(h, http_bad);
	tcase_add_test(h, http_caps);
	tcase_add_test(h, http_status);
	tcase_add_test(h, lines_split);
	suite_add_tcase(s, h);
	return s;
}
