/* POSIX names: the one definition the signer, the cache and the NSS
 * module share. */
#include <stddef.h>

#include "name.h"

static int
is_first(int c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_rest(int c)
{
	return is_first(c) || (c >= '0' && c <= '9') || c == '-';
}

int
pgl_username_valid(const char *name)
{
	size_t i;

	if (name == NULL || !is_first((unsigned char)name[0]))
		return 0;
	for (i = 1; name[i] != '\0'; i++)
		if (i >= PGL_USERNAME_MAX || !is_rest((unsigned char)name[i]))
			return 0;
	return 1;
}
