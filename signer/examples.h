/* The configuration and policy that `pgl-signer init` writes: safe
 * defaults, and an example policy to edit. */
#ifndef PGL_SIGNER_EXAMPLES_H
#define PGL_SIGNER_EXAMPLES_H

/* pgl-signer.conf, with paths relative to the init directory. */
extern const char pgl_example_config[];
/* policy.conf: one user, one role, two resources. */
extern const char pgl_example_policy[];

#endif
