/* render-sudoers: prints the drop-in pam_pgl.so would write for a grant,
 * so the tests can check command strings the cache spec cannot express
 * (',' and ':' separate its fields).
 *
 *   render-sudoers NAME all
 *   render-sudoers NAME CMD...
 *
 * Exit 1 with "error: ..." when the grant is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sudoers.h"

int
main(int argc, char **argv)
{
	char *text = NULL;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: render-sudoers NAME all|CMD...\n");
		return 2;
	}
	if (strcmp(argv[2], "all") == 0)
		r = pam_pgl_sudoers_render(argv[1], PGL_CACHE_SUDO_ALL, NULL, 0,
		    &text);
	else
		r = pam_pgl_sudoers_render(argv[1], PGL_CACHE_SUDO_COMMANDS,
		    (const char *const *)(argv + 2), (size_t)(argc - 2), &text);
	if (r != 0) {
		printf("error: %s\n", pgl_strerror(r));
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}
