#!/usr/bin/env bash
# Builds the cbridge managed plugin from a local binary, without a registry
# or `docker build`, and enables it in the engine at DOCKER_HOST (or the
# default socket).
#
#   scripts/plugin.sh BIN                      assemble, create, set, enable
#   scripts/plugin.sh --rootfs-only BIN OUTDIR only assemble OUTDIR/rootfs
#                                              and OUTDIR/config.json
#
# The rootfs holds BIN as /usr/bin/cbridge, every shared library `ldd BIN`
# names (the dynamic loader too) at the same path, and the empty directories
# config.json needs. An existing plugin of the same name is disabled and
# removed first (networks that use it keep working once the new one is
# enabled, because they refer to it by name).
#
# Environment:
#   CBRIDGE_PLUGIN_NAME      plugin reference, default cbridge:latest
#   CBRIDGE_STATE_DIR        host directory mounted as the state dir,
#                            default /var/lib/cbridge
#   CBRIDGE_PLUGIN_SETTINGS  extra `docker plugin set` words, space
#                            separated, e.g. "LOG_LEVEL=debug
#                            DEFAULT_ADDRESS_POOLS=base=10.10.0.0/16,size=24"
#   DOCKER                   docker CLI to use, default docker
set -eu -o pipefail

prog=${0##*/}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
docker=${DOCKER:-docker}
name=${CBRIDGE_PLUGIN_NAME:-cbridge:latest}
state_dir=${CBRIDGE_STATE_DIR:-/var/lib/cbridge}

usage() {
	echo "usage: $prog BIN | $prog --rootfs-only BIN OUTDIR" >&2
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# copy_file SRC DIR: copies SRC (following symbolic links) to DIR/SRC.
copy_file() {
	mkdir -p "$2$(dirname "$1")"
	cp -L "$1" "$2$1"
}

# assemble BIN DIR: writes DIR/rootfs and DIR/config.json.
assemble() {
	local bin=$1 dir=$2 root=$2/rootfs lib libs=() n=0

	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		die "$bin: not an executable file"
	fi
	[ -f "$top/config.json" ] || die "$top/config.json is missing"
	jq -e . "$top/config.json" >/dev/null || die "$top/config.json is not valid JSON"

	mkdir -p "$root/usr/bin"
	cp "$bin" "$root/usr/bin/cbridge"
	chmod 0755 "$root/usr/bin/cbridge"

	# ldd prints "name => /path (addr)", "/path (addr)" for the loader and
	# "name (addr)" for the vDSO; a static binary makes it fail with "not a
	# dynamic executable", and then there is nothing to copy.
	local out
	if out=$(ldd "$bin" 2>&1); then
		if grep -q 'not found' <<<"$out"; then
			die "ldd $bin: missing libraries:"$'\n'"$(grep 'not found' <<<"$out")"
		fi
		mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			$1 ~ /^\// { print $1 }' <<<"$out")
	elif ! grep -q 'not a dynamic executable' <<<"$out"; then
		die "ldd $bin failed: $out"
	fi
	for lib in "${libs[@]}"; do
		copy_file "$lib" "$root"
		n=$((n + 1))
	done
	# glibc dlopens libgcc_s for thread cancellation and unwinding.
	lib=$(printf '%s\n' "${libs[@]}" | grep '/libc\.so\.6$' | head -n 1 || true)
	lib=${lib%/*}/libgcc_s.so.1
	if [ "$lib" != /libgcc_s.so.1 ] && [ -e "$lib" ] && [ ! -e "$root$lib" ]; then
		copy_file "$lib" "$root"
		n=$((n + 1))
	fi
	# libxtables loads its match and target extensions at run time.
	lib=$(printf '%s\n' "${libs[@]}" | grep '/libxtables\.so' | head -n 1 || true)
	if [ -n "$lib" ] && [ -d "$(dirname "$lib")/xtables" ]; then
		mkdir -p "$root$(dirname "$lib")"
		cp -RL "$(dirname "$lib")/xtables" "$root$(dirname "$lib")/"
	fi

	mkdir -p "$root/run/docker/plugins" "$root/var/lib/cbridge" \
		"$root/host/proc" "$root/host/run" "$root/host/usr/bin" "$root/host/docker-exec" "$root/host/etc" "$root/tmp" "$root/etc" "$root/proc" \
		"$root/dev" "$root/sys"
	chmod 1777 "$root/tmp"
	echo 'root:x:0:0:root:/:/usr/sbin/nologin' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	: >"$root/etc/hosts"
	: >"$root/etc/resolv.conf"
	cp "$top/config.json" "$dir/config.json"

	echo "$prog: rootfs $root: $bin as /usr/bin/cbridge, $n shared libraries"
}

case "${1:-}" in
--rootfs-only)
	[ $# -eq 3 ] || usage
	mkdir -p "$3"
	[ -z "$(ls -A "$3")" ] || die "$3 is not empty"
	assemble "$2" "$3"
	exit 0
	;;
-h | --help | "")
	usage
	;;
esac
[ $# -eq 1 ] || usage
bin=$1

tmp=$(mktemp -d /tmp/cbridge-plugin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
assemble "$bin" "$tmp"

"$docker" version --format '{{.Server.Version}}' >/dev/null ||
	die "cannot reach the docker engine (DOCKER_HOST=${DOCKER_HOST:-default})"

if "$docker" plugin inspect "$name" >/dev/null 2>&1; then
	# Disabling fails if it is already disabled; that is fine.
	"$docker" plugin disable -f "$name" >/dev/null 2>&1 || true
	"$docker" plugin rm -f "$name" >/dev/null
	echo "$prog: removed the old $name"
fi

"$docker" plugin create "$name" "$tmp" >/dev/null
mkdir -p "$state_dir"
settings=("state.source=$state_dir")
if [ -n "${CBRIDGE_PLUGIN_SETTINGS:-}" ]; then
	read -r -a extra <<<"$CBRIDGE_PLUGIN_SETTINGS"
	settings+=("${extra[@]}")
fi
"$docker" plugin set "$name" "${settings[@]}"
echo "$prog: created $name, settings: ${settings[*]}"

if ! "$docker" plugin enable "$name" >/dev/null; then
	die "enabling $name failed; the plugin's output is in the dockerd log (plugin=<id>)"
fi
id=$("$docker" plugin inspect -f '{{.Id}}' "$name")
echo "$prog: enabled $name (id ${id:0:12}; socket /run/docker/plugins/$id/cbridge.sock)"
