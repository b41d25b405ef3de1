/* libFuzzer harness for the number parser: num_parse() (with and without
 * a phone-context), num_parse_user(), num_pattern_parse(), and
 * num_range_to_prefixes() on the ranges it accepts.  Inputs are handed over
 * in exactly-sized buffers.  num_parse() must give what the full parser
 * alone gives (the input behind four blanks, which no fast path takes),
 * and num_parse_user() what num_parse() gives for the text before the
 * first ';'. */
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

/* rc and the whole struct of num_parse(s) equal those for "    " + s:
 * leading blanks mean nothing, and text with more than three separators
 * always goes to the full parser. */
static void check_full_parser_agrees(const char *s, size_t len, const char *ctx, size_t ctx_len)
{
	struct num a, b;
	char *buf = malloc(len + 4);
	int ra, rb;

	if (!buf)
		return;
	memcpy(buf, "    ", 4);
	memcpy(buf + 4, s, len);
	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	ra = num_parse(s, len, ctx, ctx_len, &a, NULL, 0);
	rb = num_parse(buf, len + 4, ctx, ctx_len, &b, NULL, 0);
	free(buf);
	if (ra != rb || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
}

/* num_parse_user(s) against num_parse() of the text before the first ';'. */
static void check_user(const char *s, size_t len, const char *ctx, size_t ctx_len)
{
	const char *semi = memchr(s, ';', len);
	size_t n = semi ? (size_t)(semi - s) : len, tl;
	char ea[NUM_ERR_MAX], eb[NUM_ERR_MAX];
	struct num a, b;
	uint64_t bcd, want = 0;
	int ra, rb;

	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	ra = num_parse(s, n, ctx, ctx_len, &a, ea, sizeof(ea));
	rb = num_parse_user(s, len, ctx, ctx_len, &b, &tl, &bcd, eb, sizeof(eb));
	if (ra != rb || tl != n || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	if (ra < 0 && strcmp(ea, eb) != 0)
		abort();
	for (unsigned i = 0; ra == 0 && i < a.len; i++)
		want |= (uint64_t)(a.digits[i] - '0') << (60 - 4 * i);
	if (bcd != want)
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
	check_full_parser_agrees(s, size, NULL, 0);
	check_user(s, size, NULL, 0);
	check_full_parser_agrees(s, size, "+81", 3);
	check_user(s, size, "+81", 3);

	/* "number|context": the same input split into a number and a phone-context. */
	bar = memchr(data, '|', size);
	if (bar) {
		size_t nl = (size_t)(bar - data);

		rc = num_parse(s, nl, s + nl + 1, size - nl - 1, &n, err, sizeof(err));
		if (rc == 0 && (n.len > NUM_MAX_DIGITS || strlen(n.digits) != n.len))
			abort();
		check_full_parser_agrees(s, nl, s + nl + 1, size - nl - 1);
		check_user(s, nl, s + nl + 1, size - nl - 1);
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
