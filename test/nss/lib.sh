# Shared by the NSS module's shell tests: TAP output and a private mount
# namespace in which the module's compiled-in paths are empty tmpfs
# directories.  Nothing outside the namespace changes.

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $*"
}

diag() {
	echo "# $*"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# Re-runs the calling script in new mount and network namespaces, once.
enter_namespace() {
	if [ -n "${PGL_NSS_IN_NS:-}" ]; then
		return 0
	fi
	if [ "$(id -u)" != 0 ] || ! unshare -m -n true 2>/dev/null; then
		echo "1..0 # SKIP needs root and unshare -m -n"
		exit 0
	fi
	PGL_NSS_IN_NS=1 exec unshare -m -n --propagation private -- \
	    bash "$0" "$@"
}

# An empty root-owned 0755 directory at DIR, backed by a tmpfs mounted on
# DIR or, if DIR does not exist, on its nearest existing ancestor (which
# is then hidden in this namespace only).
ns_dir() {
	local dir=$1
	case $dir in
	/ | "") echo "ns_dir: refusing /" >&2; return 1 ;;
	esac
	if [ -d "$dir" ]; then
		mount -t tmpfs -o mode=0755 pgl-test "$dir"
	else
		ns_dir "$(dirname "$dir")" && mkdir -m 0755 "$dir"
	fi
}
