/* libnss_pgltest.so.2: a second passwd source for the tests, standing in
 * for a directory service (LDAP, SSSD) that knows users pgl does not.
 * Reads /var/lib/pgl-test/passwd (inside the test's mount namespace). */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#define PGLTEST_PASSWD "/var/lib/pgl-test/passwd"

enum nss_status _nss_pgltest_getpwnam_r(const char *, struct passwd *,
    char *, size_t, int *);
enum nss_status _nss_pgltest_getpwuid_r(uid_t, struct passwd *, char *,
    size_t, int *);

static enum nss_status
find(const char *name, uid_t uid, struct passwd *pw, char *buf, size_t len,
    int *errnop)
{
	struct passwd *res;
	enum nss_status st = NSS_STATUS_NOTFOUND;
	FILE *fp;
	int e;

	if ((fp = fopen(PGLTEST_PASSWD, "re")) == NULL)
		return NSS_STATUS_UNAVAIL;
	while ((e = fgetpwent_r(fp, pw, buf, len, &res)) == 0)
		if (name != NULL ? strcmp(res->pw_name, name) == 0 :
		    res->pw_uid == uid) {
			st = NSS_STATUS_SUCCESS;
			break;
		}
	if (e == ERANGE) {
		*errnop = ERANGE;
		st = NSS_STATUS_TRYAGAIN;
	}
	fclose(fp);
	return st;
}

enum nss_status
_nss_pgltest_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	return find(name, 0, pw, buf, len, errnop);
}

enum nss_status
_nss_pgltest_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
    int *errnop)
{
	return find(NULL, uid, pw, buf, len, errnop);
}
