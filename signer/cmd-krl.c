/* pgl-signer krl: a KRL revoking certificates by serial and key ID,
 * for one or more CAs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "err.h"
#include "fileio.h"
#include "krl.h"
#include "text.h"


int
cmd_krl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "serial", required_argument, NULL, 'z' },
		{ "key-id", required_argument, NULL, 'I' },
		{ "out", required_argument, NULL, 'o' },
		{ "version", required_argument, NULL, 'v' },
		{ "comment", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	/* Entries apply to the latest --ca, so each CA's serials and key
	 * IDs form a contiguous run of these shared arrays. */
	struct pgl_krl_ca *cas = NULL;
	struct pgl_key **keys = NULL;      /* owned; cas[i].ca points here */
	struct pgl_serial_range *serials = NULL;
	const char **key_ids = NULL;
	size_t nserials = 0, nkey_ids = 0;
	struct pgl_buf *out = NULL;
	const char *out_path = NULL, *comment = "";
	uint64_t now = (uint64_t)time(NULL), version = now;
	size_t nca = 0, i;
	int c, r, ret = 1;

	/* argc bounds the number of every kind of option. */
	if ((cas = calloc((size_t)argc, sizeof(*cas))) == NULL ||
	    (keys = calloc((size_t)argc, sizeof(*keys))) == NULL ||
	    (serials = calloc((size_t)argc, sizeof(*serials))) == NULL ||
	    (key_ids = calloc((size_t)argc, sizeof(*key_ids))) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		struct pgl_krl_ca *cur = nca > 0 ? &cas[nca - 1] : NULL;
		struct pgl_key *key = NULL;

		switch (c) {
		case 'c':
			if (cli_load_public_key(optarg, &key, NULL) != 0)
				goto out;
			keys[nca] = key;
			cas[nca].ca = key;
			cas[nca].serials = serials + nserials;
			cas[nca].key_ids = key_ids + nkey_ids;
			nca++;
			break;
		case 'z':
		case 'I':
			if (cur == NULL) {
				cli_error(c == 'z' ? "--serial" : "--key-id",
				    "give --ca before the certificates it revokes");
				ret = 2;
				goto out;
			}
			if (c == 'z') {
				if ((r = pgl_parse_serial_range(optarg,
				    &serials[nserials])) != 0) {
					cli_error("--serial", "invalid serial or "
					    "range '%s' (serials start at 1)", optarg);
					goto out;
				}
				nserials++;
				cur->nserials++;
			} else {
				if (*optarg == '\0' || pgl_has_ctrl(optarg) ||
				    strlen(optarg) > PGL_KRL_MAX_KEY_ID) {
					cli_error("--key-id", "must be non-empty "
					    "printable text of at most %d bytes",
					    PGL_KRL_MAX_KEY_ID);
					goto out;
				}
				key_ids[nkey_ids++] = optarg;
				cur->nkey_ids++;
			}
			break;
		case 'o': out_path = optarg; break;
		case 'v':
			if (pgl_parse_u64(optarg, &version) != 0) {
				cli_error("--version", "invalid number '%s'", optarg);
				goto out;
			}
			break;
		case 'C':
			if (pgl_has_ctrl(optarg)) {
				cli_error_code("--comment", PGL_E_CTRL_CHAR);
				goto out;
			}
			comment = optarg;
			break;
		default:
			ret = 2;
			goto out;
		}
	}
	if (optind != argc || nca == 0 || out_path == NULL) {
		cli_error("krl", "--ca and --out are required (see pgl-signer --help)");
		ret = 2;
		goto out;
	}
	if ((out = pgl_buf_new()) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	if ((r = pgl_krl_encode(cas, nca, version, now, comment, out)) != 0) {
		cli_error("krl", "%s", r == PGL_E_DUPLICATE_OPTION ?
		    "the same CA is given twice" : pgl_strerror(r));
		goto out;
	}
	if ((r = pgl_file_write_atomic(out_path, pgl_buf_ptr(out),
	    pgl_buf_len(out), 0644, 0)) != 0) {
		cli_error_code(out_path, r);
		goto out;
	}
	ret = 0;
 out:
	for (i = 0; i < nca; i++)
		pgl_key_free(keys[i]);
	free(keys);
	free(cas);
	free(serials);
	free(key_ids);
	pgl_buf_free(out);
	return ret;
}
