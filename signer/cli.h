/* Shared pieces of the pgl-signer command line. */
#ifndef PGL_SIGNER_CLI_H
#define PGL_SIGNER_CLI_H

#include "sshkey.h"

#define PGL_SIGNER_PROG "pgl-signer"

int cmd_init(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_krl(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_host(int argc, char **argv);

/* Prints "pgl-signer: <what>: <why>" to stderr. */
void cli_error(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with the text of a PGL_E_* code. */
void cli_error_code(const char *what, int r);

/* Loads a private key; refuses a file others can read. */
int cli_load_private_key(const char *path, struct pgl_key **out);
/* Loads an OpenSSH public key file (one line). */
int cli_load_public_key(const char *path, struct pgl_key **out,
    char **comment);

#endif
