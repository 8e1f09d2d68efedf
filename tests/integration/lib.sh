# shellcheck shell=sh
# Shared by the namespace test scripts (sourced, POSIX sh).

# itest_bin USAGE ARGS...: the one argument, the test binary, made
# absolute in $bin; exit 2 on misuse, 77 (skip) when not root.
itest_bin() {
	if [ "$#" -ne 2 ]; then
		echo "usage: $0 $1" >&2
		exit 2
	fi
	bin=$2
	case $bin in
	/*) ;;
	*) bin=$(pwd)/$bin ;;
	esac
	if [ ! -x "$bin" ]; then
		echo "$0: $bin is not an executable" >&2
		exit 2
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "$0: skipped, needs root" >&2
		exit 77
	fi
}
