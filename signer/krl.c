/* KRL encoding: header, then per CA a certificate section holding a
 * serial list, serial ranges and key IDs. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "krl.h"

#define KRL_MAGIC                       0x5353484b524c0a00ULL
#define KRL_FORMAT_VERSION              1
#define KRL_SECTION_CERTIFICATES        1
#define KRL_SECTION_CERT_SERIAL_LIST    0x20
#define KRL_SECTION_CERT_SERIAL_RANGE   0x21
#define KRL_SECTION_CERT_KEY_ID         0x23

static int
cmp_range(const void *a, const void *b)
{
	const struct pgl_serial_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
put_subsection(struct pgl_buf *b, uint8_t type, const struct pgl_buf *data)
{
	int r;

	if (pgl_buf_len(data) == 0)
		return 0;
	if ((r = pgl_buf_put_u8(b, type)) != 0)
		return r;
	return pgl_buf_put_stringb(b, data);
}

static int
put_serials(struct pgl_buf *sect, const struct pgl_serial_range *in, size_t n)
{
	struct pgl_serial_range *s = NULL;
	struct pgl_buf *list = NULL, *range = NULL;
	size_t i, m = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if ((s = calloc(n, sizeof(*s))) == NULL)
		return PGL_E_NOMEM;
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_range);
	/* Merge overlapping and adjacent runs. */
	for (i = 0; i < n; i++) {
		if (s[i].lo == 0 || s[i].lo > s[i].hi) {
			r = PGL_E_BAD_SERIAL;
			goto out;
		}
		if (m > 0 && (s[m - 1].hi == UINT64_MAX ||
		    s[i].lo <= s[m - 1].hi + 1)) {
			if (s[i].hi > s[m - 1].hi)
				s[m - 1].hi = s[i].hi;
			continue;
		}
		s[m++] = s[i];
	}
	if ((list = pgl_buf_new()) == NULL || (range = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	for (i = 0; i < m; i++) {
		if (s[i].lo == s[i].hi) {
			if ((r = pgl_buf_put_u64(list, s[i].lo)) != 0)
				goto out;
			continue;
		}
		/* One range per subsection, as ssh-keygen writes them. */
		pgl_buf_reset(range);
		if ((r = pgl_buf_put_u64(range, s[i].lo)) != 0 ||
		    (r = pgl_buf_put_u64(range, s[i].hi)) != 0 ||
		    (r = put_subsection(sect, KRL_SECTION_CERT_SERIAL_RANGE,
		    range)) != 0)
			goto out;
	}
	r = put_subsection(sect, KRL_SECTION_CERT_SERIAL_LIST, list);
 out:
	pgl_buf_free(list);
	pgl_buf_free(range);
	free(s);
	return r;
}

static int
put_key_ids(struct pgl_buf *sect, const char *const *ids, size_t n)
{
	const char **sorted = NULL;
	struct pgl_buf *data = NULL;
	size_t i;
	int r = 0;

	if (n == 0)
		return 0;
	if ((sorted = calloc(n, sizeof(*sorted))) == NULL ||
	    (data = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (ids[i] == NULL || *ids[i] == '\0' ||
		    strlen(ids[i]) > PGL_KRL_MAX_KEY_ID) {
			r = PGL_E_INVALID_ARG;
			goto out;
		}
		sorted[i] = ids[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		if ((r = pgl_buf_put_cstring(data, sorted[i])) != 0)
			goto out;
	}
	r = put_subsection(sect, KRL_SECTION_CERT_KEY_ID, data);
 out:
	pgl_buf_free(data);
	free(sorted);
	return r;
}

int
pgl_krl_encode(const struct pgl_krl_ca *cas, size_t ncas,
    uint64_t krl_version, uint64_t generated, const char *comment,
    struct pgl_buf *out)
{
	struct pgl_buf *krl = NULL, *sect = NULL, *ca = NULL;
	size_t i, j;
	int r;

	for (i = 0; i < ncas; i++)
		for (j = 0; j < i; j++)
			if (pgl_key_equal_public(cas[i].ca, cas[j].ca))
				return PGL_E_DUPLICATE_OPTION;
	if ((krl = pgl_buf_new()) == NULL || (sect = pgl_buf_new()) == NULL ||
	    (ca = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_buf_put_u64(krl, KRL_MAGIC)) != 0 ||
	    (r = pgl_buf_put_u32(krl, KRL_FORMAT_VERSION)) != 0 ||
	    (r = pgl_buf_put_u64(krl, krl_version)) != 0 ||
	    (r = pgl_buf_put_u64(krl, generated)) != 0 ||
	    (r = pgl_buf_put_u64(krl, 0)) != 0 ||              /* flags */
	    (r = pgl_buf_put_string(krl, NULL, 0)) != 0 ||     /* reserved */
	    (r = pgl_buf_put_cstring(krl, comment)) != 0)
		goto out;
	for (i = 0; i < ncas; i++) {
		pgl_buf_reset(sect);
		pgl_buf_reset(ca);
		if ((r = pgl_key_put_public(cas[i].ca, ca)) != 0 ||
		    (r = pgl_buf_put_stringb(sect, ca)) != 0)
			goto out;
		if ((r = pgl_buf_put_string(sect, NULL, 0)) != 0 ||  /* reserved */
		    (r = put_serials(sect, cas[i].serials, cas[i].nserials)) != 0 ||
		    (r = put_key_ids(sect, cas[i].key_ids, cas[i].nkey_ids)) != 0)
			goto out;
		if ((r = pgl_buf_put_u8(krl, KRL_SECTION_CERTIFICATES)) != 0 ||
		    (r = pgl_buf_put_stringb(krl, sect)) != 0)
			goto out;
	}
	r = pgl_buf_put(out, pgl_buf_ptr(krl), pgl_buf_len(krl));
 out:
	pgl_buf_free(krl);
	pgl_buf_free(sect);
	pgl_buf_free(ca);
	return r;
}
