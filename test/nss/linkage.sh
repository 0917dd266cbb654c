#!/bin/bash
# libnss_pgl.so.2 is loaded into every process that resolves a user: it
# exports only _nss_pgl_* and links libc alone (DESIGN.md, Dependency
# rule).   env: PGL_NSS_MODULE PGL_SANITIZE
set -u
. "$(dirname "$0")/lib.sh"
mod=$PGL_NSS_MODULE

want="_nss_pgl_endgrent _nss_pgl_endpwent _nss_pgl_endspent
_nss_pgl_getgrent_r _nss_pgl_getgrgid_r _nss_pgl_getgrnam_r
_nss_pgl_getpwent_r _nss_pgl_getpwnam_r _nss_pgl_getpwuid_r
_nss_pgl_getspent_r _nss_pgl_getspnam_r _nss_pgl_initgroups_dyn
_nss_pgl_setgrent _nss_pgl_setpwent _nss_pgl_setspent"

check "the file is named libnss_pgl.so.2" \
    [ "$(basename "$mod")" = libnss_pgl.so.2 ]
soname=$(readelf -d "$mod" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "its soname is libnss_pgl.so.2 ($soname)" [ "$soname" = libnss_pgl.so.2 ]

exports=$(nm -D --defined-only "$mod" | awk '{ print $3 }' | sort)
others=$(printf '%s\n' "$exports" | grep -v '^_nss_pgl_' || true)
check "nm -D --defined-only: only _nss_pgl_* symbols" [ -z "$others" ]
[ -z "$others" ] || diag "also exported: $(echo $others)"
check "exactly the 15 entry points" \
    [ "$exports" = "$(printf '%s\n' $want | sort)" ]

# No library of the signer's or the client's, in any build.
needed=$(readelf -d "$mod" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=$(printf '%s\n' "$needed" | grep -E 'curl|ssl|crypto|json|sqlite|microhttpd|config|pthread|pam' || true)
check "no libcurl, OpenSSL, json-c, sqlite, pthread in DT_NEEDED" [ -z "$bad" ]

if [ "${PGL_SANITIZE:-0}" = 1 ]; then
	skip "ldd shows libc only: this build links the ASan/UBSan runtime by design"
else
	libs=$(ldd "$mod" | awk '{ print $1 }' | sort)
	extra=$(printf '%s\n' "$libs" | grep -vE '^(linux-vdso\.so\.1|libc\.so\.6|/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux[^ ]*\.so\.[0-9]+|ld-linux[^ ]*)$' || true)
	check "ldd: nothing but linux-vdso, libc and ld-linux" [ -z "$extra" ]
	[ -z "$extra" ] || diag "ldd also shows: $(echo $extra)"
	check "ldd: libc is there" grep -q '^libc\.so\.6$' <<<"$libs"
	check "DT_NEEDED is libc.so.6 alone" [ "$needed" = libc.so.6 ]
fi

# Hardening the project asks of every binary.
check "BIND_NOW and RELRO" bash -c "readelf -d '$mod' | grep -q BIND_NOW && readelf -lW '$mod' | grep -q GNU_RELRO"
check "no executable stack" bash -c "readelf -lW '$mod' | grep GNU_STACK | grep -qv RWE"
done_testing
