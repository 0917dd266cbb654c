#include <errno.h>
#include <string.h>

#include "err.h"

const char *
pgl_strerror(int r)
{
	switch (r) {
	case PGL_OK: return "success";
	case PGL_E_NOMEM: return "out of memory";
	case PGL_E_SYSTEM: return strerror(errno);
	case PGL_E_INVALID_ARG: return "invalid argument";
	case PGL_E_TRUNCATED: return "data is truncated";
	case PGL_E_TRAILING: return "unexpected trailing data";
	case PGL_E_TOO_LARGE: return "data is too large";
	case PGL_E_FORMAT: return "invalid format";
	case PGL_E_KEY_TYPE_UNKNOWN: return "unknown key type";
	case PGL_E_KEY_TYPE_UNSUPPORTED: return "key type is not supported";
	case PGL_E_KEY_TYPE_MISMATCH: return "key type does not match its contents";
	case PGL_E_KEY_TOO_SMALL: return "key is too small";
	case PGL_E_KEY_INVALID: return "key is invalid";
	case PGL_E_KEY_ENCRYPTED: return "key is encrypted with a passphrase";
	case PGL_E_KEY_IS_CERT: return "key is a certificate, not a plain public key";
	case PGL_E_CRYPTO: return "cryptographic operation failed";
	case PGL_E_EXISTS: return "file already exists";
	case PGL_E_CTRL_CHAR: return "contains control characters";
	case PGL_E_NO_PRINCIPALS: return "at least one principal is required";
	case PGL_E_UNKNOWN_OPTION: return "unknown option";
	case PGL_E_DUPLICATE_OPTION: return "option given more than once";
	case PGL_E_BAD_VALIDITY: return "validity window is empty or invalid";
	case PGL_E_BAD_SERIAL: return "serial must be non-zero";
	case PGL_E_CA_TOO_WEAK: return "CA key is too weak (RSA needs 3072 bits or more)";
	case PGL_E_BAD_OPTION_VALUE: return "invalid option value";
	case PGL_E_NOT_ALLOWED: return "not allowed here";
	case PGL_E_NOT_REGULAR: return "not a regular file";
	case PGL_E_NOT_FOUND: return "not found";
	case PGL_E_STORE: return "state database error";
	case PGL_E_EXHAUSTED: return "no free value left in the configured range";
	case PGL_E_NEWER: return "written by a newer version of pgl";
	}
	return "unknown error";
}
