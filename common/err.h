/* pgl error codes: one convention for all library code.
 * Functions return 0 on success or a negative PGL_E* value. */
#ifndef PGL_ERR_H
#define PGL_ERR_H

enum pgl_err {
	PGL_OK = 0,
	PGL_E_NOMEM = -1,
	PGL_E_SYSTEM = -2,          /* see errno */
	PGL_E_INVALID_ARG = -3,
	PGL_E_TRUNCATED = -4,       /* input ends early */
	PGL_E_TRAILING = -5,        /* bytes left after a complete value */
	PGL_E_TOO_LARGE = -6,
	PGL_E_FORMAT = -7,          /* not the expected encoding */
	PGL_E_KEY_TYPE_UNKNOWN = -8,
	PGL_E_KEY_TYPE_UNSUPPORTED = -9,
	PGL_E_KEY_TYPE_MISMATCH = -10,
	PGL_E_KEY_TOO_SMALL = -11,
	PGL_E_KEY_INVALID = -12,    /* not a valid point/modulus/... */
	PGL_E_KEY_ENCRYPTED = -13,
	PGL_E_KEY_IS_CERT = -14,
	PGL_E_CRYPTO = -15,         /* libcrypto failed */
	PGL_E_EXISTS = -16,
	PGL_E_CTRL_CHAR = -17,
	PGL_E_NO_PRINCIPALS = -18,
	PGL_E_UNKNOWN_OPTION = -19,
	PGL_E_DUPLICATE_OPTION = -20,
	PGL_E_BAD_VALIDITY = -21,
	PGL_E_BAD_SERIAL = -22,
	PGL_E_CA_TOO_WEAK = -23,
	PGL_E_BAD_OPTION_VALUE = -24,
	PGL_E_NOT_ALLOWED = -25,    /* e.g. options on a host certificate */
	PGL_E_NOT_REGULAR = -26,    /* a directory, device, ... */
	PGL_E_NOT_FOUND = -27,
	PGL_E_STORE = -28,          /* the state database failed */
	PGL_E_EXHAUSTED = -29,      /* e.g. no uid left in the range */
	PGL_E_NEWER = -30,          /* written by a newer version */
};

/* A short human sentence for an error code; never NULL. */
const char *pgl_strerror(int r);

#endif
