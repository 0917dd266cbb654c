#!/bin/bash
# test-nss-dlopen in a private mount namespace: the state directory and
# the resolver socket's directory are fresh tmpfs directories there, so
# the test can write the module's compiled-in cache paths.
#   env: PGL_NSS_MODULE PGL_NSS_DLOPEN PGL_STATEDIR PGL_RESOLVE_SOCKET
set -eu
. "$(dirname "$0")/lib.sh"
enter_namespace "$@"

ns_dir "$PGL_STATEDIR"
ns_dir "$(dirname "$PGL_RESOLVE_SOCKET")"
PGL_NSS_TEST_NS=1 exec "$PGL_NSS_DLOPEN" "$PGL_NSS_MODULE"
