/* placeholder */
#include <stdio.h>
#include "pgl.h"
int cmd_agent_add(int argc, char **argv) { (void)argc; fprintf(stderr, "pgl: %s: not implemented yet\n", argv[0]); return 1; }
