/* List files: each line is read by num_pattern_parse() once comments and
 * blanks are cut away.  Ranges become their minimal prefix cover; a cover
 * prefix as long as the range's numbers is an exact entry, since nothing
 * longer can match it anyway and exact entries win in the trie.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listfile.h"
#include "number.h"

#define LISTFILE_MAX_ACTION 15 /* NTRIE_VALUE keeps 4 bits of action */

static int add(struct listfile *lf, size_t *cap, const char *digits, size_t len,
	       enum ntrie_kind kind, uint32_t value)
{
	uint64_t key = ntrie_key(digits, len);

	if (key == 0)
		return -EINVAL;
	if (lf->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct ntrie_entry *e;

		if (ncap > SIZE_MAX / sizeof(*e))
			return -ENOMEM;
		e = realloc(lf->entries, ncap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		lf->entries = e;
		*cap = ncap;
	}
	lf->entries[lf->n++] = (struct ntrie_entry){ .key = key, .value = value, .kind = kind };
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int add_pattern(struct listfile *lf, size_t *cap, const struct num_pattern *p,
		       uint32_t value, char *why, size_t whylen)
{
	char pfx[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	int n, rc;

	switch (p->kind) {
	case NUM_PAT_EXACT:
		return add(lf, cap, p->lo, p->len, NTRIE_EXACT, value);
	case NUM_PAT_PREFIX:
		return add(lf, cap, p->lo, p->len, NTRIE_PREFIX, value);
	case NUM_PAT_RANGE:
		n = num_range_to_prefixes(p->lo, p->hi, p->len, pfx, NUM_RANGE_MAX_PREFIXES);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			size_t l = strlen(pfx[i]);

			if (l == 0) {
				snprintf(why, whylen, "range %s..%s covers every %u-digit number",
					 p->lo, p->hi, p->len);
				return -EINVAL;
			}
			rc = add(lf, cap, pfx[i], l, l == p->len ? NTRIE_EXACT : NTRIE_PREFIX,
				 value);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	return -EINVAL;
}

int listfile_parse(const char *name, const char *buf, size_t len, unsigned action,
		   struct listfile *lf, char *err, size_t errlen)
{
	char why[NUM_ERR_MAX];
	size_t pos = 0, line = 0, cap = 0;
	int rc = 0;

	if (name == NULL)
		name = "<list>";
	if (lf == NULL || (buf == NULL && len > 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: listfile_parse: invalid arguments", name);
		return -EINVAL;
	}
	memset(lf, 0, sizeof(*lf));
	if (action > LISTFILE_MAX_ACTION) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: action %u does not fit in 4 bits", name, action);
		return -EINVAL;
	}
	while (pos < len) {
		const char *l = buf + pos, *eol = memchr(l, '\n', len - pos);
		size_t ll = eol != NULL ? (size_t)(eol - l) : len - pos;
		const char *hash = memchr(l, '#', ll);
		struct num_pattern p;

		pos += ll + (eol != NULL);
		line++;
		if (line > NTRIE_VALUE_ID(~0u)) {
			snprintf(why, sizeof(why), "more than %u lines", NTRIE_VALUE_ID(~0u));
			rc = -EFBIG;
			goto fail;
		}
		if (hash != NULL)
			ll = (size_t)(hash - l);
		while (ll > 0 && is_space(*l)) {
			l++;
			ll--;
		}
		while (ll > 0 && is_space(l[ll - 1]))
			ll--;
		if (ll == 0)
			continue;
		rc = num_pattern_parse(l, ll, &p, why, sizeof(why));
		if (rc == 0) {
			why[0] = '\0';
			rc = add_pattern(lf, &cap, &p, NTRIE_VALUE(action, line), why, sizeof(why));
			if (rc < 0 && why[0] == '\0')
				snprintf(why, sizeof(why), "%s", strerror(-rc));
		}
		if (rc < 0)
			goto fail;
	}
	lf->lines = line;
	return 0;
fail:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s:%zu: %s", name, line, why);
	listfile_free(lf);
	return rc;
}

int listfile_load(const char *path, unsigned action, struct listfile *lf, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	if (lf != NULL)
		memset(lf, 0, sizeof(*lf));
	if (path == NULL || lf == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "listfile_load: invalid arguments");
		return -EINVAL;
	}
	f = fopen(path, "rb");
	if (f == NULL)
		goto sys_fail;
	for (;;) {
		size_t got;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = ncap > cap ? realloc(buf, ncap) : NULL;

			if (nb == NULL) {
				errno = ENOMEM;
				goto sys_fail;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				errno = EIO;
				goto sys_fail;
			}
			break;
		}
	}
	fclose(f);
	rc = listfile_parse(path, buf, len, action, lf, err, errlen);
	free(buf);
	return rc;
sys_fail:
	rc = -errno;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

void listfile_free(struct listfile *lf)
{
	if (lf == NULL)
		return;
	free(lf->entries);
	memset(lf, 0, sizeof(*lf));
}
