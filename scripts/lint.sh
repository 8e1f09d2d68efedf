#!/bin/sh
# Word splitting of file lists is intended throughout.
# shellcheck disable=SC2046,SC2086
# Source checks that the compiler does not make: banned functions, the
# module boundaries, and shellcheck on the scripts.
set -eu
cd "$(dirname "$0")/.."
fail=0

src=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]')

# Unbounded or unchecked string and number handling.
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)\s*\(' \
    $src | grep -v 'tests/bench/http_client.c:.*atoi(argv'; then
	echo "lint: banned function (use snprintf / bounded parsing)" >&2
	fail=1
fi

# http.c and api.c never reach the effectors; no JSON in the driver core.
if grep -nE '#include "(netlink|firewall|dns)/' plugin/http.c plugin/api.c; then
	echo "lint: the HTTP/API layer must not include effector headers" >&2
	fail=1
fi
if grep -nE 'jansson|json_t' plugin/driver.c plugin/driver.h; then
	echo "lint: JSON must not reach the driver core" >&2
	fail=1
fi
# No libnl type outside netlink/ (libmnl's mnl_socket is not libnl),
# except libnl-nf for conntrack, which is the firewall's concern (and no
# libnl type leaves firewall/conntrack.c).
if grep -nE '#include <netlink/|rtnl_|\bnl_sock' $(echo "$src" | grep -v '^netlink/' | grep -v 'tests/integration/' | grep -v '^firewall/conntrack.c'); then
	echo "lint: libnl used outside netlink/" >&2
	fail=1
fi

# Names are our own: no function, static or macro named with a library's
# prefix, so a name always tells whose code it is.
if grep -nE '^(iptc|nft|nl)_[a-z0-9_]*\(|^(static|extern) [^(]*\b(iptc|nft|nl)_[a-z0-9_]+ *(=|\(|;|\[)|^#define (iptc|nft|nl)_' $src; then
	echo "lint: a name with a library's prefix (iptc_, nft_, nl_)" >&2
	fail=1
fi
# The repository stands alone: no issue numbers, no notes outside it.
if grep -nE '[Ii]ssue ?#?[0-9]|\.\./shar[e]d/|farm[-]studio' $src \
    $(git ls-files '*.sh' '*.md' Makefile 2>/dev/null); then
	echo "lint: a reference outside the repository" >&2
	fail=1
fi

# Without shellcheck, lint cannot pass: a check that did not run is no pass.
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "lint: shellcheck is not installed (scripts/deps.sh lint)" >&2
	fail=1
else
	scripts=$(git ls-files '*.sh' .ci/run 2>/dev/null ||
	    find . -name '*.sh' -o -path ./.ci/run)
	shellcheck -x $scripts || fail=1
fi
[ "$fail" -eq 0 ] && echo "lint: ok"
exit "$fail"
