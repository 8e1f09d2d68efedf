#!/usr/bin/env bash
# Runs a command as `ip netns exec NS CMD...` does (in the network namespace
# NS, in a private mount namespace whose /sys is a sysfs of NS), but with the
# host's cgroup mounts kept at /sys/fs/cgroup: `ip netns exec` mounts a
# fresh sysfs over /sys, which hides them, and dockerd then refuses to start
# ("Devices cgroup isn't mounted"); containerd and runc need them too.
#
#   tests/e2e/netns-exec.sh NS DIR CMD...
#
# DIR is an empty directory the cgroup tree passes through on the way (it is
# bind-mounted there only inside the private mount namespace). Every stage
# execs the next one, so CMD ends up with the pid this script started with.
# No mount reaches the host: `unshare --propagation slave` and then `ip
# netns exec` (which makes / a slave again) keep mounts from propagating
# back, and they all vanish with the last process of the namespace.
set -eu

usage() {
	echo "usage: $0 NS DIR CMD..." >&2
	exit 2
}

case ${1:-} in
--in-mnt)
	# A private mount namespace, still in the host's network namespace.
	[ $# -ge 4 ] || usage
	ns=$2 dir=$3
	shift 3
	if mountpoint -q /sys/fs/cgroup; then
		mount --rbind /sys/fs/cgroup "$dir"
	fi
	exec ip netns exec "$ns" "$BASH" "$0" --in-net "$dir" "$@"
	;;
--in-net)
	# In NS, under the sysfs `ip netns exec` mounted.
	[ $# -ge 3 ] || usage
	dir=$2
	shift 2
	if mountpoint -q "$dir"; then
		mount --rbind "$dir" /sys/fs/cgroup
		umount -l "$dir"
	fi
	# NETNS_EXEC_SHARED=DIR: DIR becomes a shared mount here, so that
	# mounts made below it later (dockerd's sandbox namespaces under its
	# exec root) reach the copies a managed plugin takes with rslave, as
	# they do on a systemd host where / is shared.
	if [ -n "${NETNS_EXEC_SHARED:-}" ]; then
		mount --bind "$NETNS_EXEC_SHARED" "$NETNS_EXEC_SHARED"
		mount --make-shared "$NETNS_EXEC_SHARED"
	fi
	# NETNS_EXEC_PRIVATE=DIR: DIR becomes a private mount here: mounts
	# made below it later stay invisible to any copy of it taken before
	# (the plugin's), as on a host whose exec root is on a private mount.
	if [ -n "${NETNS_EXEC_PRIVATE:-}" ]; then
		mount --bind "$NETNS_EXEC_PRIVATE" "$NETNS_EXEC_PRIVATE"
		mount --make-private "$NETNS_EXEC_PRIVATE"
	fi
	exec "$@"
	;;
esac
[ $# -ge 3 ] || usage
[ -d "$2" ] || {
	echo "$0: $2 is not a directory" >&2
	exit 2
}
exec unshare --mount --propagation slave "$BASH" "$0" --in-mnt "$@"
