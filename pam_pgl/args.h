/* pam_pgl.so module arguments (the words after the module path in a
 * /etc/pam.d file). */
#ifndef PAM_PGL_ARGS_H
#define PAM_PGL_ARGS_H

#include <sys/types.h>

#define PAM_PGL_SKEL_DEFAULT "/etc/skel"
#define PAM_PGL_MODE_DEFAULT 0700

struct pam_pgl_args {
	int debug;
	mode_t mode;            /* of a new home directory */
	const char *skel;       /* absolute; points into argv */
	/* The first argument that was not understood, for the caller to log;
	 * NULL when all were.  Parsing goes on past it. */
	const char *bad;
	int nbad;
};

/* Parses argv into a; never fails: an unknown or malformed argument
 * keeps the default and is reported through a->bad. */
void pam_pgl_args_parse(struct pam_pgl_args *a, int argc, const char **argv);

#endif
