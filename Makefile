# cbridge: one non-recursive Makefile.
#
#   make            build ./cbridge (installs missing Debian packages first)
#   make check      unit tests, no root
#   make test       check + fuzzing + namespace integration + end-to-end +
#                   lint (root)
#   make plugin     build the managed plugin and enable it in the local engine
#   make bench      latency benchmarks
#   make fuzz       libFuzzer harnesses (clang) run FUZZ_SECONDS each
#   make SANITIZER=address,undefined test   the same under ASan/UBSan
#
# Library flags come only from pkg-config.  ldns is not in PKGS: no daemon
# code calls it; only the tests that parse replies with it link it.

CC		?= cc
PKG_CONFIG	?= pkg-config
PKGS		:= libmicrohttpd jansson libnl-3.0 libnl-route-3.0 libiptc \
		   libnftables libnftnl libmnl libnl-nf-3.0
WERROR		?= 1
SANITIZER	?=

# Every test target runs as a stage: under a time limit in seconds, with
# its duration printed (scripts/stage.sh).  The limits are at least five
# times what each stage takes on a 2-core machine (package check and
# build included), one and a half times that under the sanitizers.
STAGE		:= scripts/stage.sh
LIMIT_DEPS	:= 900
LIMIT_LINT	:= 300
LIMIT_FUZZ	:= 1200

ifeq ($(SANITIZER),)
BUILD		:= build
SANFLAGS	:=
STAGE_SUFFIX	:=
LIMIT_CHECK	:= 600
LIMIT_INTEG	:= 900
LIMIT_E2E	:= 1800
LIMIT_E2E_PASS	:= 900
else
BUILD		:= build-san
SANFLAGS	:= -fsanitize=$(SANITIZER) -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
STAGE_SUFFIX	:= -san
LIMIT_CHECK	:= 900
LIMIT_INTEG	:= 1350
LIMIT_E2E	:= 1800
LIMIT_E2E_PASS	:= 900
endif

WARN		:= -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wformat=2
ifeq ($(WERROR),1)
WARN		+= -Werror
endif

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu17 $(WARN) $(SANFLAGS) -D_GNU_SOURCE -iquote .
LDFLAGS		+= $(SANFLAGS) -pthread

# Resolved lazily so that `make deps` can run before the libraries exist.
PKG_CFLAGS	= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LDNS_CFLAGS	= $(shell $(PKG_CONFIG) --cflags ldns 2>/dev/null)
CHECK_CFLAGS	= $(shell $(PKG_CONFIG) --cflags check jansson ldns 2>/dev/null)
CHECK_LIBS	= $(shell $(PKG_CONFIG) --libs check jansson ldns 2>/dev/null)

# The DNS responder's pure part (packets, records, configuration), and
# the part that uses sockets (daemon and integration tests only).
DNS_HOST_SRCS	:= dns/forward.c dns/server.c
# Shared helpers of lib/ that make syscalls (entering a namespace, moving
# a descriptor above FD_SETSIZE).
LIB_HOST_SRCS	:= lib/netns.c lib/fd.c
DNS_SRCS	:= $(filter-out $(DNS_HOST_SRCS),$(sort $(wildcard dns/*.c)))

# Pure code: no syscalls beyond files, linked into both the daemon and the
# unit tests.
PURE_SRCS	:= lib/prefix.c plugin/log.c plugin/ipam.c plugin/options.c \
		   plugin/state.c plugin/api.c plugin/driver.c plugin/settings.c \
		   plugin/fileutil.c netlink/common.c firewall/common.c \
		   firewall/plan.c firewall/parse.c firewall/rules.c \
		   firewall/job.c firewall/select.c firewall/nftrules.c firewall/nftstate.c $(DNS_SRCS)
PURE_SRCS	+= firewall/dnsiplan.c
FW_HOST_SRCS	:= firewall/nftio.c firewall/nftwire.c firewall/nft.c firewall/dockeraccept.c firewall/iptc.c firewall/host.c \
		   firewall/ports.c firewall/conntrack.c
FW_HOST_SRCS	+= firewall/dnsintercept.c
# The event loop every fd and timer of the daemon registers with, and the
# one thread that runs what may wait (firewall, the state file's fsync).
LOOP_SRCS	:= loop/loop.c loop/work.c
# The Docker Engine API client: pure parsers plus a worker thread that
# only the daemon and its integration test start.
ENGINE_SRCS	:= plugin/engine.c
# What the responders serve (pure, needs the Engine API's structs).
NAMES_SRCS	:= plugin/names.c
# A responder's lifecycle and the DNS counters' JSON (pure), and the I/O
# that carries them out on the loop (daemon only).
SANDBOX_PURE_SRCS := plugin/sbxstate.c plugin/dnsstats.c
SANDBOX_SRCS	:= $(SANDBOX_PURE_SRCS) plugin/upstreams.c plugin/sandbox.c
# The client commands' text (pure), and their socket I/O (daemon only).
CLI_PURE_SRCS	:= plugin/statustext.c
DAEMON_SRCS	:= $(PURE_SRCS) $(LIB_HOST_SRCS) $(LOOP_SRCS) plugin/main.c \
		   plugin/http.c netlink/link.c \
		   $(FW_HOST_SRCS) $(DNS_HOST_SRCS) $(ENGINE_SRCS) \
		   $(NAMES_SRCS) $(SANDBOX_SRCS) $(CLI_PURE_SRCS) plugin/cli.c
UNIT_SRCS	:= $(PURE_SRCS) $(LOOP_SRCS) $(ENGINE_SRCS) $(NAMES_SRCS) \
		   $(SANDBOX_PURE_SRCS) $(CLI_PURE_SRCS) netlink/fake.c \
		   firewall/fake.c firewall/fakeports.c lib/fd.c \
		   tests/golden/cases.c $(wildcard tests/unit/*.c)
BENCH_SRCS	:= $(PURE_SRCS) $(LOOP_SRCS) netlink/fake.c firewall/fake.c \
		   firewall/fakeports.c tests/bench/bench.c

DAEMON_OBJS	:= $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS	:= $(UNIT_SRCS:%.c=$(BUILD)/%.o)
BENCH_OBJS	:= $(BENCH_SRCS:%.c=$(BUILD)/%.o)

# Fuzzing (tests/fuzz/): one harness per hostile input.  `make check`
# replays every file of tests/fuzz/<target>/ through it, built with $(CC)
# and fuzz_main.c (and the sanitizers with SANITIZER=...); `make fuzz`
# builds the libFuzzer binaries with clang in build-fuzz/ and runs each for
# FUZZ_SECONDS (`make -j4 fuzz` runs them side by side).  New corpus
# entries go to build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/
# (replay one with build/replay/<target> FILE).  FUZZ_FLAGS adds libFuzzer
# options, e.g. "-fork=1 -ignore_crashes=1" to go on past a known crash.
# `make fuzz-ci` runs every harness for FUZZ_CI_SECONDS, one after another
# (10 harnesses: about 5 minutes at the default 30), for CI; a finding in
# one does not stop the others, and fails the target.
FUZZ_TARGETS	:= fuzz_api fuzz_state fuzz_ipam fuzz_nftjson fuzz_dns \
		   fuzz_engine fuzz_reply fuzz_tcpframe fuzz_resolvconf \
		   fuzz_events
FUZZ_SECONDS	?= 60
FUZZ_CI_SECONDS	?= 30
FUZZ_FLAGS	?=
FUZZ_CC		?= clang
FUZZ_BUILD	:= build-fuzz
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	= -O1 -g -std=gnu17 $(WARN) $(FUZZ_SAN) \
		  -fsanitize=fuzzer-no-link -D_GNU_SOURCE -iquote . $(PKG_CFLAGS) \
		  $(LDNS_CFLAGS)
FUZZ_LIBS	= $(shell $(PKG_CONFIG) --libs jansson ldns 2>/dev/null)
FUZZ_LIB_SRCS	:= $(PURE_SRCS) $(LOOP_SRCS) $(ENGINE_SRCS) netlink/fake.c \
		   firewall/fake.c \
		   firewall/fakeports.c
FUZZ_LIB_OBJS	:= $(FUZZ_LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_OBJS	:= $(FUZZ_LIB_OBJS) \
		   $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/obj/tests/fuzz/%.o)
FUZZ_BINS	:= $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
REPLAY_LIB_OBJS	:= $(FUZZ_LIB_SRCS:%.c=$(BUILD)/%.o)
REPLAY_OBJS	:= $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/%.o) \
		   $(BUILD)/tests/fuzz/fuzz_main.o
REPLAY_BINS	:= $(FUZZ_TARGETS:%=$(BUILD)/replay/%)

ITEST_SRCS	:= netlink/link.c netlink/common.c lib/prefix.c $(LIB_HOST_SRCS) \
		   tests/integration/lnk_itest.c
ITEST_OBJS	:= $(ITEST_SRCS:%.c=$(BUILD)/%.o)
FW_ITEST_SRCS	:= firewall/nftio.c firewall/dockeraccept.c firewall/common.c firewall/plan.c \
		   lib/prefix.c \
		   firewall/parse.c tests/integration/fw_itest.c
FW_ITEST_OBJS	:= $(FW_ITEST_SRCS:%.c=$(BUILD)/%.o)
IPTC_ITEST_SRCS	:= $(FW_HOST_SRCS) firewall/common.c firewall/plan.c \
		   lib/prefix.c \
		   firewall/parse.c firewall/rules.c firewall/select.c \
		   firewall/nftrules.c firewall/nftstate.c tests/golden/cases.c \
		   tests/integration/iptc_itest.c
IPTC_ITEST_SRCS	+= firewall/dnsiplan.c $(LIB_HOST_SRCS)
IPTC_ITEST_OBJS	:= $(IPTC_ITEST_SRCS:%.c=$(BUILD)/%.o)
PORTS_ITEST_SRCS := firewall/ports.c firewall/conntrack.c firewall/common.c \
		   lib/prefix.c lib/fd.c \
		   tests/integration/ports_itest.c
PORTS_ITEST_OBJS := $(PORTS_ITEST_SRCS:%.c=$(BUILD)/%.o)
DNS_FWD_ITEST_SRCS := $(DNS_HOST_SRCS) $(DNS_SRCS) $(LIB_HOST_SRCS) \
		   $(LOOP_SRCS) tests/integration/dns_fwd_itest.c
DNS_FWD_ITEST_OBJS := $(DNS_FWD_ITEST_SRCS:%.c=$(BUILD)/%.o)
DNS_SRV_ITEST_SRCS := $(DNS_HOST_SRCS) $(DNS_SRCS) $(LIB_HOST_SRCS) \
		   $(LOOP_SRCS) \
		   tests/integration/dns_srv_itest.c
DNS_SRV_ITEST_OBJS := $(DNS_SRV_ITEST_SRCS:%.c=$(BUILD)/%.o)
ENGINE_ITEST_SRCS := $(ENGINE_SRCS) tests/integration/engine_itest.c
ENGINE_ITEST_OBJS := $(ENGINE_ITEST_SRCS:%.c=$(BUILD)/%.o)
DNSI_ITEST_SRCS	:= firewall/dnsintercept.c firewall/dnsiplan.c \
		   firewall/conntrack.c firewall/common.c lib/prefix.c \
		   $(LIB_HOST_SRCS) tests/integration/dnsi_itest.c
DNSI_ITEST_OBJS	:= $(DNSI_ITEST_SRCS:%.c=$(BUILD)/%.o)
DNS_BENCH_SRCS	:= $(DNS_HOST_SRCS) $(DNS_SRCS) $(LIB_HOST_SRCS) \
		   $(LOOP_SRCS) \
		   tests/bench/dns_srv_bench.c
DNS_BENCH_OBJS	:= $(DNS_BENCH_SRCS:%.c=$(BUILD)/%.o)

BIN		:= $(BUILD)/cbridge
ITEST_BIN	:= $(BUILD)/lnk_itest
FW_ITEST_BIN	:= $(BUILD)/fw_itest
IPTC_ITEST_BIN	:= $(BUILD)/iptc_itest
PORTS_ITEST_BIN	:= $(BUILD)/ports_itest
DNS_FWD_ITEST_BIN := $(BUILD)/dns_fwd_itest
DNS_SRV_ITEST_BIN := $(BUILD)/dns_srv_itest
ENGINE_ITEST_BIN := $(BUILD)/engine_itest
DNSI_ITEST_BIN	:= $(BUILD)/dnsi_itest
UNIT_BIN	:= $(BUILD)/check_cbridge
BENCH_BIN	:= $(BUILD)/bench_cbridge
CLIENT_BIN	:= $(BUILD)/http_client
DNS_BENCH_BIN	:= $(BUILD)/dns_srv_bench
REFLECTOR_BIN	:= $(BUILD)/dns_reflector
PROBE_BIN	:= $(BUILD)/dns_probe
WAIT_BIN	:= $(BUILD)/dns_wait
BLAST_BIN	:= $(BUILD)/dns_blast

.PHONY: all deps check test integration e2e plugin bench lint clean \
	fuzz fuzz-build fuzz-deps fuzz-replay fuzz-ci check-run \
	integration-run e2e-run lint-run

all: deps
	@$(MAKE) --no-print-directory $(BIN)
	@ln -sf $(BIN) cbridge

deps:
	@scripts/deps.sh build

$(BIN): $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(UNIT_BIN): $(UNIT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(ITEST_BIN): $(ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(FW_ITEST_BIN): $(FW_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(IPTC_ITEST_BIN): $(IPTC_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(PORTS_ITEST_BIN): $(PORTS_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(DNS_FWD_ITEST_BIN): $(DNS_FWD_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(DNS_SRV_ITEST_BIN): $(DNS_SRV_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(ENGINE_ITEST_BIN): $(ENGINE_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(DNSI_ITEST_BIN): $(DNSI_ITEST_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Integration tests use the daemon's libraries, not Check.
$(BUILD)/tests/integration/%.o: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BENCH_BIN): $(BENCH_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# Fuzz harnesses: the daemon's libraries, not Check.
$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDNS_CFLAGS) -MMD -MP -c -o $@ $<

$(REPLAY_BINS): $(BUILD)/replay/%: $(BUILD)/tests/fuzz/%.o \
    $(BUILD)/tests/fuzz/fuzz_main.o $(REPLAY_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# A stage's step (what scripts/stage.sh prints when the stage hits its
# limit) goes to the file $STAGE_STEP names, when it is run as one.
check:
	@$(STAGE) check$(STAGE_SUFFIX) $(LIMIT_CHECK) \
	    $(MAKE) --no-print-directory check-run

check-run: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN) $(REPLAY_BINS)
	@echo "unit tests: $(UNIT_BIN)" >"$${STAGE_STEP:-/dev/null}"
	# Check's 4 s per test is tight for the sanitizer build on a busy machine.
	CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-60} $(UNIT_BIN)
	@$(MAKE) --no-print-directory fuzz-replay
ifeq ($(SANITIZER),)
	@echo "tests/ci/stage_test.sh" >"$${STAGE_STEP:-/dev/null}"
	# The time limit of the stages (a script: not again under sanitizers).
	tests/ci/stage_test.sh
endif

# Every committed corpus file through its harness (part of check).
fuzz-replay: $(REPLAY_BINS)
	@for t in $(FUZZ_TARGETS); do \
		echo "$(BUILD)/replay/$$t tests/fuzz/$$t"; \
		echo "fuzz replay: $$t" >"$${STAGE_STEP:-/dev/null}"; \
		$(BUILD)/replay/$$t tests/fuzz/$$t || exit 1; \
	done

integration:
	@$(STAGE) integration$(STAGE_SUFFIX) $(LIMIT_INTEG) \
	    $(MAKE) --no-print-directory integration-run

integration-run: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory $(BIN) $(ITEST_BIN) $(FW_ITEST_BIN) \
		$(IPTC_ITEST_BIN) $(PORTS_ITEST_BIN) $(DNS_FWD_ITEST_BIN) \
		$(DNS_SRV_ITEST_BIN) $(ENGINE_ITEST_BIN) $(PROBE_BIN) \
		$(DNSI_ITEST_BIN)
	tests/integration/run.sh $(BIN) $(ITEST_BIN) $(FW_ITEST_BIN) \
		$(IPTC_ITEST_BIN) $(PORTS_ITEST_BIN) $(DNS_FWD_ITEST_BIN) \
		$(DNS_SRV_ITEST_BIN) $(ENGINE_ITEST_BIN) $(PROBE_BIN) \
		$(DNSI_ITEST_BIN)

# The passes, a stage each.  Under the sanitizers the first pass leaves
# out the reachability matrix (the same firewall code as the firewall
# set, judged by traffic) and the users' scenarios, and the scale set and
# the legacy pass do not run: they add a quarter of an hour there.
ifeq ($(SANITIZER),)
E2E_FIRST	:= networks,containers,firewall,dns,dnsdefault,matrix,life
else
E2E_FIRST	:= networks,containers,firewall,dns,dnsdefault
endif
e2e:
	@$(STAGE) e2e$(STAGE_SUFFIX) $(LIMIT_E2E) \
	    env E2E_ONLY=$(E2E_FIRST) $(MAKE) --no-print-directory e2e-run
ifeq ($(SANITIZER),)
	# 300 networks with a container each, a compose project, concurrent
	# create and rm.
	@$(STAGE) e2e-scale $(LIMIT_E2E) \
	    env E2E_ONLY=scale $(MAKE) --no-print-directory e2e-run
	# Again with dockerd on the legacy backend: its chains then share the
	# legacy tables with cbridge's (and it flushes them at its start), and
	# its NAT rules for 127.0.0.11 in the containers are legacy ones.
	@$(STAGE) e2e-legacy $(LIMIT_E2E_PASS) \
	    env E2E_DOCKERD_IPTABLES=legacy E2E_ONLY=firewall,dnsdefault,matrix \
	    $(MAKE) --no-print-directory e2e-run
	# The reachability matrix with the nftables backend, against dockerd
	# on iptables-nft and on legacy iptables.
	@$(STAGE) e2e-nftables $(LIMIT_E2E_PASS) \
	    env "E2E_PLUGIN_SETTINGS=FIREWALL_BACKEND=nftables LOG_LEVEL=debug" \
	    E2E_ONLY=matrix \
	    $(MAKE) --no-print-directory e2e-run
	@$(STAGE) e2e-nftables-legacy $(LIMIT_E2E_PASS) \
	    env "E2E_PLUGIN_SETTINGS=FIREWALL_BACKEND=nftables LOG_LEVEL=debug" \
	    E2E_ONLY=matrix \
	    E2E_DOCKERD_IPTABLES=legacy $(MAKE) --no-print-directory e2e-run
endif
	# The DNS of containers without --dns with dockerd's exec root on a
	# private mount: the plugin never sees the sandboxes' mounts.
	@$(STAGE) e2e-private$(STAGE_SUFFIX) $(LIMIT_E2E_PASS) \
	    env E2E_EXEC_ROOT_PRIVATE=1 E2E_ONLY=dnsdefault \
	    $(MAKE) --no-print-directory e2e-run

e2e-run: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory $(BIN)
	tests/e2e/run.sh $(BIN)

# Every test: the Debian packages, unit, every fuzzer for
# FUZZ_CI_SECONDS, namespace integration, end-to-end with a private
# dockerd, then unit, integration and end-to-end again under ASan+UBSan
# (the unit stage replays every fuzz corpus), then lint; it stops at the
# first stage that fails.  Then a
# table of the stages, their durations and exit statuses (kept in
# build/stages for .ci/run).
test:
	@mkdir -p build && : >build/stages && \
	export STAGE_SUMMARY=$(CURDIR)/build/stages && \
	$(STAGE) deps $(LIMIT_DEPS) scripts/deps.sh test && \
	$(MAKE) --no-print-directory check && \
	$(STAGE) fuzz $(LIMIT_FUZZ) $(MAKE) --no-print-directory fuzz-ci && \
	$(MAKE) --no-print-directory integration && \
	$(MAKE) --no-print-directory e2e && \
	$(MAKE) --no-print-directory SANITIZER=address,undefined check \
	    integration e2e && \
	$(MAKE) --no-print-directory lint; \
	rc=$$?; $(STAGE) --summary build/stages; exit $$rc

plugin: deps
	@scripts/deps.sh plugin
	@$(MAKE) --no-print-directory $(BIN)
	scripts/plugin.sh $(BIN)

$(CLIENT_BIN): tests/bench/http_client.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The DNS responder under dnsperf (tests/bench/dns_bench.sh), with the
# daemon's libraries.
$(DNS_BENCH_BIN): $(DNS_BENCH_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/bench/dns_%.o: tests/bench/dns_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(REFLECTOR_BIN): $(BUILD)/tests/bench/dns_reflector.o
	$(CC) $(LDFLAGS) -o $@ $^

# What the DNS clients below share (tests/bench/dnsq.h): libc only,
# so no library flags.  (The dns_% rule above does not match dnsq.)
$(BUILD)/tests/bench/dnsq.o: tests/bench/dnsq.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# DNS latency under load (tests/bench/dns_latency.sh and the integration
# test tests/integration/dns_lock.sh): libc only.
$(PROBE_BIN): $(BUILD)/tests/bench/dns_probe.o $(BUILD)/tests/bench/dnsq.o
	$(CC) $(LDFLAGS) -o $@ $^

# The time until a new container's name resolves
# (tests/bench/dns_docker_bench.sh): libc only.
$(WAIT_BIN): $(BUILD)/tests/bench/dns_wait.o $(BUILD)/tests/bench/dnsq.o
	$(CC) $(LDFLAGS) -o $@ $^

# A lean closed-loop load client, so that the server saturates before the
# client does (tests/bench/dns_docker_bench.sh): libc only.
$(BLAST_BIN): $(BUILD)/tests/bench/dns_blast.o $(BUILD)/tests/bench/dnsq.o
	$(CC) $(LDFLAGS) -o $@ $^

# Speed and memory figures; see README.  The docker comparisons need root
# and start a private dockerd.
bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BIN) $(CLIENT_BIN) \
		$(DNS_BENCH_BIN) $(REFLECTOR_BIN) $(PROBE_BIN) $(WAIT_BIN) \
		$(BLAST_BIN)
	$(BENCH_BIN)
	tests/bench/http_bench.sh $(BIN) $(CLIENT_BIN)
	tests/bench/docker_bench.sh $(BIN)
	tests/bench/dns_bench.sh $(DNS_BENCH_BIN) $(REFLECTOR_BIN) $(BIN)
	tests/bench/dns_mem.sh $(BIN) 500
	tests/bench/dns_latency.sh $(BIN) $(PROBE_BIN) $(CLIENT_BIN)
	tests/bench/dns_docker_bench.sh $(BIN) $(WAIT_BIN) $(BLAST_BIN)
	# Last: it fails while its target is missed, after the others ran.
	tests/bench/fw_bench.sh $(BIN) $(CLIENT_BIN)

lint:
	@$(STAGE) lint $(LIMIT_LINT) $(MAKE) --no-print-directory lint-run

lint-run:
	@scripts/deps.sh lint
	scripts/lint.sh

fuzz-deps: deps
	@scripts/deps.sh fuzz
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "make fuzz needs" \
	    "clang: apt-get install clang" >&2; exit 1; }
	@echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)' \
	    '{ (void)d; (void)n; return 0; }' | $(FUZZ_CC) \
	    -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null || { echo \
	    "make fuzz needs the libFuzzer runtime: apt-get install" \
	    "libclang-rt-14-dev (the one matching clang --version)" >&2; \
	    exit 1; }

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-ci: fuzz-build
	@$(MAKE) --no-print-directory -k FUZZ_SECONDS=$(FUZZ_CI_SECONDS) \
	    $(FUZZ_TARGETS:%=fuzz-run-%)

# Seeds come from tests/fuzz/<target>/ (read only): commit there, by hand,
# each fixed crash and the few inputs that add coverage (`-merge=1`).
fuzz-run-%: $(FUZZ_BUILD)/%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts
	@echo "fuzzing $* for $(FUZZ_SECONDS) s" >"$${STAGE_STEP:-/dev/null}"
	UBSAN_OPTIONS=print_stacktrace=1 \
	    $(FUZZ_BUILD)/$* -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$*- \
	    $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) \
	    $(FUZZ_FLAGS) $(FUZZ_BUILD)/corpus/$* tests/fuzz/$*

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o \
    $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

clean:
	rm -rf build build-san cbridge $(FUZZ_BUILD)

-include $(DAEMON_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) \
	$(ITEST_OBJS:.o=.d) $(FW_ITEST_OBJS:.o=.d) $(IPTC_ITEST_OBJS:.o=.d) \
	$(PORTS_ITEST_OBJS:.o=.d) $(DNS_FWD_ITEST_OBJS:.o=.d) \
	$(DNS_SRV_ITEST_OBJS:.o=.d) $(DNS_BENCH_OBJS:.o=.d) \
	$(BUILD)/tests/bench/dns_reflector.d $(BUILD)/tests/bench/dns_probe.d \
	$(BUILD)/tests/bench/dns_wait.d $(BUILD)/tests/bench/dnsq.d \
	$(BUILD)/tests/bench/dns_blast.d
-include $(FUZZ_OBJS:.o=.d) $(REPLAY_OBJS:.o=.d)
-include $(ENGINE_ITEST_OBJS:.o=.d)
-include $(DNSI_ITEST_OBJS:.o=.d)
