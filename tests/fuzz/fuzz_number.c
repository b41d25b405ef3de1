/* libFuzzer harness for the number parser: num_parse() (with and without
 * a phone-context), num_pattern_parse(), and num_range_to_prefixes() on the
 * ranges it accepts.  Inputs are handed over in exactly-sized buffers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

static void check_err(const char *err)
{
	if (!memchr(err, 0, NUM_ERR_MAX))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[NUM_ERR_MAX];
	char prefixes[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	struct num n;
	struct num_pattern pat;
	const uint8_t *bar;
	int rc;

	rc = num_parse(s, size, NULL, 0, &n, err, sizeof(err));
	if (rc == 0 && (n.len > NUM_MAX_DIGITS || strlen(n.digits) != n.len))
		abort();
	if (rc < 0)
		check_err(err);

	/* "number|context": the same input split into a number and a phone-context. */
	bar = memchr(data, '|', size);
	if (bar) {
		size_t nl = (size_t)(bar - data);

		rc = num_parse(s, nl, s + nl + 1, size - nl - 1, &n, err, sizeof(err));
		if (rc == 0 && (n.len > NUM_MAX_DIGITS || strlen(n.digits) != n.len))
			abort();
	}

	rc = num_pattern_parse(s, size, &pat, err, sizeof(err));
	if (rc < 0) {
		check_err(err);
		return 0;
	}
	if (pat.len > NUM_MAX_DIGITS || strlen(pat.lo) != pat.len)
		abort();
	if (pat.kind == NUM_PAT_RANGE) {
		int k = num_range_to_prefixes(pat.lo, pat.hi, pat.len, prefixes,
					      NUM_RANGE_MAX_PREFIXES);

		if (k <= 0 || k > NUM_RANGE_MAX_PREFIXES)
			abort();
		for (int i = 0; i < k; i++)
			if (strlen(prefixes[i]) > pat.len)
				abort();
	}
	return 0;
}
