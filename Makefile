# cbridge: one non-recursive Makefile.
#
#   make            build ./cbridge (installs missing Debian packages first)
#   make check      unit tests, no root
#   make test       check + namespace integration + end-to-end (root)
#   make plugin     build the managed plugin and enable it in the local engine
#   make bench      latency benchmarks
#   make SANITIZER=address,undefined test   the same under ASan/UBSan
#
# Library flags come only from pkg-config.

CC		?= cc
PKG_CONFIG	?= pkg-config
PKGS		:= libmicrohttpd jansson libnl-3.0 libnl-route-3.0 libiptc ldns \
		   libnftables
WERROR		?= 1
SANITIZER	?=

ifeq ($(SANITIZER),)
BUILD		:= build
SANFLAGS	:=
else
BUILD		:= build-san
SANFLAGS	:= -fsanitize=$(SANITIZER) -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
endif

WARN		:= -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wformat=2
ifeq ($(WERROR),1)
WARN		+= -Werror
endif

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu17 $(WARN) $(SANFLAGS) -D_GNU_SOURCE -iquote .
LDFLAGS		+= $(SANFLAGS)

# Resolved lazily so that `make deps` can run before the libraries exist.
PKG_CFLAGS	= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS	= $(shell $(PKG_CONFIG) --cflags check jansson 2>/dev/null)
CHECK_LIBS	= $(shell $(PKG_CONFIG) --libs check jansson 2>/dev/null)

# Pure code: no syscalls beyond files, linked into both the daemon and the
# unit tests.
PURE_SRCS	:= plugin/log.c plugin/prefix.c plugin/ipam.c plugin/options.c \
		   plugin/state.c plugin/api.c plugin/driver.c plugin/settings.c \
		   plugin/fileutil.c netlink/common.c firewall/common.c \
		   firewall/plan.c firewall/parse.c
DAEMON_SRCS	:= $(PURE_SRCS) plugin/main.c plugin/http.c netlink/link.c \
		   firewall/nft.c
UNIT_SRCS	:= $(PURE_SRCS) netlink/fake.c firewall/fake.c \
		   $(wildcard tests/unit/*.c)
BENCH_SRCS	:= $(PURE_SRCS) netlink/fake.c firewall/fake.c tests/bench/bench.c

DAEMON_OBJS	:= $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS	:= $(UNIT_SRCS:%.c=$(BUILD)/%.o)
BENCH_OBJS	:= $(BENCH_SRCS:%.c=$(BUILD)/%.o)

ITEST_SRCS	:= netlink/link.c netlink/common.c tests/integration/lnk_itest.c
ITEST_OBJS	:= $(ITEST_SRCS:%.c=$(BUILD)/%.o)
FW_ITEST_SRCS	:= firewall/nft.c firewall/common.c firewall/plan.c \
		   firewall/parse.c tests/integration/fw_itest.c
FW_ITEST_OBJS	:= $(FW_ITEST_SRCS:%.c=$(BUILD)/%.o)

BIN		:= $(BUILD)/cbridge
ITEST_BIN	:= $(BUILD)/lnk_itest
FW_ITEST_BIN	:= $(BUILD)/fw_itest
UNIT_BIN	:= $(BUILD)/check_cbridge
BENCH_BIN	:= $(BUILD)/bench_cbridge
CLIENT_BIN	:= $(BUILD)/http_client

.PHONY: all deps check test integration e2e plugin bench lint clean

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

# Integration tests use the daemon's libraries, not Check.
$(BUILD)/tests/integration/%.o: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(BENCH_BIN): $(BENCH_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

check: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	$(UNIT_BIN)

integration: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory $(BIN) $(ITEST_BIN) $(FW_ITEST_BIN)
	tests/integration/run.sh $(BIN) $(ITEST_BIN) $(FW_ITEST_BIN)

e2e: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory $(BIN)
	tests/e2e/run.sh $(BIN)

# Every test: unit, namespace integration, end-to-end with a private
# dockerd, then all three again under ASan+UBSan, then lint.
test: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory SANITIZER=address,undefined check integration e2e
	@$(MAKE) --no-print-directory lint

plugin: deps
	@scripts/deps.sh plugin
	@$(MAKE) --no-print-directory $(BIN)
	scripts/plugin.sh $(BIN)

$(CLIENT_BIN): tests/bench/http_client.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Speed and memory figures; see README.  The docker comparison needs root
# and starts a private dockerd.
bench: deps
	@scripts/deps.sh e2e
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BIN) $(CLIENT_BIN)
	$(BENCH_BIN)
	tests/bench/http_bench.sh $(BIN) $(CLIENT_BIN)
	tests/bench/docker_bench.sh $(BIN)

lint:
	scripts/lint.sh

clean:
	rm -rf build build-san cbridge

-include $(DAEMON_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) \
	$(ITEST_OBJS:.o=.d) $(FW_ITEST_OBJS:.o=.d)
