/* Strict libconfig reading: see lcfg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "lcfg.h"

int
lcfg_fail(const struct lcfg *l, const config_setting_t *s, int r,
    const char *fmt, ...)
{
	va_list ap;
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	char *p;
	int n;

	if (l->err == NULL || l->errlen == 0)
		return r;
	if (line > 0)
		n = snprintf(l->err, l->errlen, "%s:%u: ", l->path, line);
	else
		n = snprintf(l->err, l->errlen, "%s: ", l->path);
	if (n < 0 || (size_t)n >= l->errlen)
		return r;
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	/* Values quoted from the file may hold anything: keep the
	 * message one safe line for a terminal or a log. */
	for (p = l->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return r;
}

static int
fail_line(const struct lcfg *l, unsigned line, int r, const char *msg)
{
	if (l->err != NULL && l->errlen > 0)
		snprintf(l->err, l->errlen, "%s:%u: %s", l->path, line, msg);
	return r;
}

static int
is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static int
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One integer token at s[*i] (sign included); checks that libconfig
 * will store it unchanged: it reads plain integers with atoi() and hex
 * with strtoul() into an int, so anything past 32 bits (without the L
 * suffix) comes out as some other number. */
static void
scan_number(const char *s, size_t n, size_t *i, int *ok)
{
	uint64_t v = 0, lim;
	int neg = 0, hex = 0, big = 0, d;
	size_t j = *i;

	if (s[j] == '-' || s[j] == '+')
		neg = s[j++] == '-';
	if (j + 1 < n && s[j] == '0' && (s[j + 1] == 'x' || s[j + 1] == 'X')) {
		hex = 1;
		j += 2;
	}
	for (; j < n && (d = hex ? hexval(s[j]) : (s[j] >= '0' &&
	    s[j] <= '9' ? s[j] - '0' : -1)) >= 0; j++) {
		if (v > (UINT64_MAX - (uint64_t)d) / (hex ? 16 : 10))
			big = 1;
		else
			v = v * (hex ? 16 : 10) + (uint64_t)d;
	}
	/* A float: libconfig has no silent truncation there. */
	if (!hex && j < n && (s[j] == '.' || s[j] == 'e' || s[j] == 'E')) {
		while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' ||
		    s[j] == 'e' || s[j] == 'E' || s[j] == '-' || s[j] == '+'))
			j++;
		*i = j;
		*ok = 1;
		return;
	}
	if (j < n && s[j] == 'L') {
		j++;
		if (j < n && s[j] == 'L')
			j++;
		lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	} else
		lim = neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX;
	*i = j;
	*ok = !big && v <= lim;
}

/* Walks the text as libconfig's scanner does (comments, strings, names,
 * numbers) and refuses what it would mangle or follow.  Also notes the
 * line where each string value starts ("a" "b" is one value): libconfig
 * gives a string in a list the line of the token after it. */
static int
prescan(struct lcfg *l, const char *s, size_t n)
{
	unsigned line = 1, *grown;
	size_t i = 0;
	int ok, after_string = 0;

	while (i < n) {
		char c = s[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			i++;
		} else if (c == '#' || (c == '/' && i + 1 < n && s[i + 1] == '/')) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			for (i += 2; i < n && !(s[i] == '*' && i + 1 < n &&
			    s[i + 1] == '/'); i++)
				if (s[i] == '\n')
					line++;
			i += 2;
		} else if (c == '"') {
			if (!after_string) {
				if (l->nstring_lines == l->astring_lines) {
					l->astring_lines = l->astring_lines * 2 + 64;
					if ((grown = reallocarray(l->string_lines,
					    l->astring_lines, sizeof(*grown))) == NULL)
						return lcfg_fail(l, NULL, PGL_E_NOMEM,
						    "%s", pgl_strerror(PGL_E_NOMEM));
					l->string_lines = grown;
				}
				l->string_lines[l->nstring_lines++] = line;
			}
			for (i++; i < n && s[i] != '"'; i++) {
				/* "\x00" would end the string early, silently. */
				if (s[i] == '\\' && n - i >= 4 && s[i + 1] == 'x' &&
				    s[i + 2] == '0' && s[i + 3] == '0')
					return fail_line(l, line, PGL_E_FORMAT,
					    "a string holds \\x00");
				if (s[i] == '\\' && i + 1 < n)
					i++;
				if (s[i] == '\n')
					line++;
			}
			i++;
			after_string = 1;
			continue;
		} else if (c == '@') {
			if (n - i >= 8 && memcmp(s + i, "@include", 8) == 0)
				return fail_line(l, line, PGL_E_FORMAT,
				    "@include is not supported");
			i++;
		} else if (is_name_start((unsigned char)c)) {
			while (i < n && is_name_char((unsigned char)s[i]))
				i++;
		} else if ((c >= '0' && c <= '9') || ((c == '-' || c == '+') &&
		    i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')) {
			scan_number(s, n, &i, &ok);
			if (!ok)
				return fail_line(l, line, PGL_E_FORMAT,
				    "number out of range");
		} else if (c == '.') {
			/* ".5": skip the fraction with its dot. */
			for (i++; i < n && ((s[i] >= '0' && s[i] <= '9') ||
			    s[i] == 'e' || s[i] == 'E'); i++)
				;
		} else
			i++;
		if (c != ' ' && c != '\t' && c != '\r' && c != '\f' &&
		    c != '\n' && c != '#' && c != '/')
			after_string = 0;
	}
	return 0;
}

/* Gives each string element the line where it starts (see prescan);
 * settings are in the tree in the order of the text. */
static void
fix_lines(struct lcfg *l, config_setting_t *s, size_t *k)
{
	int i, len;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (*k < l->nstring_lines && config_setting_name(s) == NULL)
			s->line = l->string_lines[*k];
		(*k)++;
		return;
	}
	if (!config_setting_is_aggregate(s))
		return;
	len = config_setting_length(s);
	for (i = 0; i < len; i++)
		fix_lines(l, config_setting_get_elem(s, (unsigned)i), k);
}

int
lcfg_open(struct lcfg *l, const char *path, size_t max, char *err,
    size_t errlen)
{
	struct pgl_buf *data = NULL;
	char *text = NULL;
	size_t n, k = 0;
	int r;

	memset(l, 0, sizeof(*l));
	l->path = path;
	l->err = err;
	l->errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((r = pgl_file_read(path, max, &data)) != 0)
		return lcfg_fail(l, NULL, r, "%s", pgl_strerror(r));
	n = pgl_buf_len(data);
	if (memchr(pgl_buf_ptr(data), '\0', n) != NULL) {
		r = lcfg_fail(l, NULL, PGL_E_FORMAT, "file contains a NUL byte");
		goto out;
	}
	if ((text = malloc(n + 1)) == NULL) {
		r = lcfg_fail(l, NULL, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
		goto out;
	}
	memcpy(text, pgl_buf_ptr(data), n);
	text[n] = '\0';
	if ((r = prescan(l, text, n)) != 0)
		goto out;
	config_init(&l->cf);
	l->inited = 1;
	if (config_read_string(&l->cf, text) != CONFIG_TRUE) {
		r = fail_line(l, (unsigned)config_error_line(&l->cf),
		    PGL_E_FORMAT, config_error_text(&l->cf) != NULL ?
		    config_error_text(&l->cf) : "syntax error");
		goto out;
	}
	fix_lines(l, config_root_setting(&l->cf), &k);
	r = 0;
 out:
	pgl_buf_free(data);
	free(text);
	return r;
}

void
lcfg_close(struct lcfg *l)
{
	if (l == NULL)
		return;
	if (l->inited) {
		config_destroy(&l->cf);
		l->inited = 0;
	}
	free(l->string_lines);
	l->string_lines = NULL;
	l->nstring_lines = l->astring_lines = 0;
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a floating-point number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	}
	return "a value";
}

int
lcfg_keys(const struct lcfg *l, const config_setting_t *g, const char *what,
    const char *const *keys)
{
	const config_setting_t *m;
	const char *name;
	int i, k, len;

	if (!config_setting_is_group(g))
		return lcfg_fail(l, g, PGL_E_FORMAT, "%s must be a group "
		    "{ ... }, not %s", what, type_name(config_setting_type(g)));
	len = config_setting_length(g);
	for (i = 0; i < len; i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(m);
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(name, keys[k]) == 0)
				break;
		if (keys[k] == NULL)
			return lcfg_fail(l, m, PGL_E_UNKNOWN_OPTION,
			    "unknown key '%s' in %s", name, what);
	}
	return 0;
}

static int
member(const struct lcfg *l, const config_setting_t *g, const char *key,
    int type, const char *want, const config_setting_t **sp,
    const config_setting_t **out)
{
	const config_setting_t *s;
	int t;

	if (sp != NULL)
		*sp = NULL;
	*out = NULL;
	if ((s = config_setting_get_member(g, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT64)
		t = CONFIG_TYPE_INT;
	if (t != type)
		return lcfg_fail(l, s, PGL_E_FORMAT, "%s must be %s, not %s",
		    key, want, type_name(config_setting_type(s)));
	if (sp != NULL)
		*sp = s;
	*out = s;
	return 0;
}

int
lcfg_string(const struct lcfg *l, const config_setting_t *g, const char *key,
    const config_setting_t **sp, const char **out)
{
	const config_setting_t *s;
	int r;

	if ((r = member(l, g, key, CONFIG_TYPE_STRING, "a string", sp, &s)) != 0)
		return r;
	if (s != NULL)
		*out = config_setting_get_string(s);
	return 0;
}

int
lcfg_uint(const struct lcfg *l, const config_setting_t *g, const char *key,
    uint64_t min, uint64_t max, const config_setting_t **sp, uint64_t *out)
{
	const config_setting_t *s;
	long long v;
	int r;

	if ((r = member(l, g, key, CONFIG_TYPE_INT, "an integer", sp, &s)) != 0)
		return r;
	if (s == NULL)
		return 0;
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE,
		    "%s must be between %llu and %llu, not %lld", key,
		    (unsigned long long)min, (unsigned long long)max, v);
	*out = (uint64_t)v;
	return 0;
}

int
lcfg_bool(const struct lcfg *l, const config_setting_t *g, const char *key,
    const config_setting_t **sp, int *out)
{
	const config_setting_t *s;
	int r;

	if ((r = member(l, g, key, CONFIG_TYPE_BOOL, "true or false", sp,
	    &s)) != 0)
		return r;
	if (s != NULL)
		*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

int
lcfg_groups(const struct lcfg *l, const config_setting_t *g, const char *key,
    const config_setting_t **out)
{
	const config_setting_t *s;
	int r;

	if ((r = member(l, g, key, CONFIG_TYPE_LIST, "a list ( { ... }, ... )",
	    NULL, &s)) != 0)
		return r;
	*out = s;
	return 0;
}

void
lcfg_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
lcfg_strings_of(const struct lcfg *l, const config_setting_t *s,
    lcfg_elem_check check, void *ctx, char ***out, size_t *n)
{
	const config_setting_t *e;
	const char *v, *canon;
	const char *key = config_setting_name(s);
	char **vec = NULL;
	size_t i, j, len;
	int r;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return lcfg_fail(l, s, PGL_E_FORMAT, "%s must be a list of "
		    "strings [ \"...\", ... ], not %s", key,
		    type_name(config_setting_type(s)));
	len = (size_t)config_setting_length(s);
	if ((vec = calloc(len + 1, sizeof(*vec))) == NULL)
		return lcfg_fail(l, s, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			r = lcfg_fail(l, e, PGL_E_FORMAT, "%s: element %zu "
			    "must be a string, not %s", key, i + 1,
			    type_name(config_setting_type(e)));
			goto out;
		}
		canon = v = config_setting_get_string(e);
		if (check != NULL && (r = check(l, e, v, ctx, &canon)) != 0)
			goto out;
		for (j = 0; j < i; j++)
			if (strcmp(vec[j], canon) == 0) {
				r = lcfg_fail(l, e, PGL_E_DUPLICATE_OPTION,
				    "%s: '%s' is listed twice", key, v);
				goto out;
			}
		if ((vec[i] = strdup(canon)) == NULL) {
			r = lcfg_fail(l, e, PGL_E_NOMEM, "%s",
			    pgl_strerror(PGL_E_NOMEM));
			goto out;
		}
	}
	*out = vec;
	*n = len;
	vec = NULL;
	r = 0;
 out:
	lcfg_strv_free(vec);
	return r;
}

int
lcfg_strings(const struct lcfg *l, const config_setting_t *g, const char *key,
    lcfg_elem_check check, void *ctx, const config_setting_t **sp,
    char ***out, size_t *n)
{
	const config_setting_t *s;

	if (sp != NULL)
		*sp = NULL;
	if ((s = config_setting_get_member(g, key)) == NULL)
		return 0;
	if (sp != NULL)
		*sp = s;
	return lcfg_strings_of(l, s, check, ctx, out, n);
}
