/* The direct JSON writer against json-c, which it must match byte for
 * byte (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonw.h"
#include "tap.h"

/* xorshift64*: reproducible inputs. */
static uint64_t st = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	st ^= st >> 12;
	st ^= st << 25;
	st ^= st >> 27;
	return st * 2685821657736338717ULL;
}

/* 1 if pgl_jw and json-c write the same text for {key: s, "n": v,
 * "a": [{"x": s}]}; diagnoses the first difference. */
static int
same(const char *key, const char *s, int64_t v)
{
	struct pgl_buf *b = pgl_buf_new();
	json_object *o = json_object_new_object(), *a, *e;
	struct pgl_jw w;
	const char *want;
	int ok;

	pgl_jw_begin(&w, b);
	pgl_jw_str(&w, key, s);
	pgl_jw_int(&w, "n", v);
	pgl_jw_open(&w, "a", '[');
	pgl_jw_open(&w, NULL, '{');
	pgl_jw_str(&w, "x", s);
	pgl_jw_close(&w, '}');
	pgl_jw_close(&w, ']');
	ok = pgl_jw_end(&w) == 0;
	json_object_object_add(o, key, json_object_new_string(s));
	json_object_object_add(o, "n", json_object_new_int64(v));
	a = json_object_new_array();
	e = json_object_new_object();
	json_object_object_add(e, "x", json_object_new_string(s));
	json_object_array_add(a, e);
	json_object_object_add(o, "a", a);
	want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	ok = ok && pgl_buf_len(b) == strlen(want) &&
	    memcmp(pgl_buf_ptr(b), want, strlen(want)) == 0;
	if (!ok)
		tap_diag("json-c: %s / pgl_jw: %.*s", want,
		    (int)pgl_buf_len(b), (const char *)pgl_buf_ptr(b));
	json_object_put(o);
	pgl_buf_free(b);
	return ok;
}

int
main(void)
{
	static const char specials[] = "\"\\\b\f\n\r\t\x01\x1f\x7f/";
	char s[200];
	size_t i, j, len, bad = 0;
	int c;

	tap_ok(same("k", "", 0), "empty string");
	tap_ok(same("key with \"quotes\" and \\", "plain", -42),
	    "keys are escaped too");
	for (c = 1, bad = 0; c < 256; c++)
		for (len = 1; len <= 17; len++)
			for (j = 0; j < len; j++) {
				memset(s, 'a', len);
				s[len] = '\0';
				s[j] = (char)c;
				bad += !same("k", s, c);
			}
	tap_ok(bad == 0, "every byte 1..255 at every position of strings of "
	    "1..17 bytes (%zu differ)", bad);
	for (i = 0, bad = 0; i < 100000; i++) {
		len = rnd() % sizeof(s);
		for (j = 0; j < len; j++) {
			uint64_t r = rnd();

			/* Mostly base64-like text, some specials, some UTF-8. */
			if (r % 10 == 0)
				s[j] = specials[(r >> 8) % (sizeof(specials) - 1)];
			else if (r % 10 == 1)
				s[j] = (char)(0x80 + (r >> 8) % 128);
			else
				s[j] = (char)(' ' + (r >> 8) % 95);
		}
		s[len] = '\0';
		bad += !same("certificate", s, (int64_t)rnd());
	}
	tap_ok(bad == 0, "100,000 random strings (%zu differ)", bad);
	tap_ok(same("k", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5"
	    "LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAI+/= pgl:alice@example.com:vm-01:1",
	    INT64_MIN), "a certificate line, and INT64_MIN");
	return tap_done();
}
