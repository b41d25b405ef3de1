#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fragcheck.h"

/* A 64-byte datagram payload whose fragments the tests cut from it. */
static uint8_t dgram[64];
static uint8_t other[64];

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(dgram); i++) {
		dgram[i] = (uint8_t)(i * 7 + 1);
		other[i] = (uint8_t)(dgram[i] ^ 0x5a);
	}
	return 0;
}

static struct fragcheck_frag frag(const uint8_t *src, uint32_t off, uint32_t len, bool more)
{
	return (struct fragcheck_frag){ .data = src + off, .off = off, .len = len, .more = more };
}

static void test_fragcheck_disjoint_fragments_are_ok(void **state)
{
	(void)state;
	struct fragcheck_frag h[2] = { frag(dgram, 0, 16, true), frag(dgram, 32, 16, true) };
	struct fragcheck_frag nf = frag(dgram, 16, 16, true);

	assert_int_equal(fragcheck_add(h, 2, &nf, 65515), FRAGCHECK_OK);
	assert_int_equal(fragcheck_add(NULL, 0, &nf, 65515), FRAGCHECK_OK);
}

static void test_fragcheck_exact_duplicate(void **state)
{
	(void)state;
	struct fragcheck_frag h[1] = { frag(dgram, 16, 16, true) };
	struct fragcheck_frag nf = frag(dgram, 16, 16, true);

	assert_int_equal(fragcheck_add(h, 1, &nf, 65515), FRAGCHECK_DUP);
}

static void test_fragcheck_same_range_different_bytes_conflicts(void **state)
{
	(void)state;
	struct fragcheck_frag h[1] = { frag(dgram, 16, 16, true) };
	struct fragcheck_frag nf = frag(other, 16, 16, true);

	assert_int_equal(fragcheck_add(h, 1, &nf, 65515), FRAGCHECK_CONFLICT);
}

static void test_fragcheck_partial_overlap_same_bytes(void **state)
{
	(void)state;
	struct fragcheck_frag h[1] = { frag(dgram, 0, 24, true) };
	struct fragcheck_frag nf = frag(dgram, 16, 16, true);

	assert_int_equal(fragcheck_add(h, 1, &nf, 65515), FRAGCHECK_OVERLAP);
}

static void test_fragcheck_partial_overlap_different_bytes(void **state)
{
	(void)state;
	/* Only byte 20 differs, inside the overlap [16, 24). */
	uint8_t mixed[64];
	memcpy(mixed, dgram, sizeof(mixed));
	mixed[20] ^= 1;
	struct fragcheck_frag h[2] = { frag(dgram, 40, 8, true), frag(dgram, 0, 24, true) };
	struct fragcheck_frag nf = frag(mixed, 16, 16, true);

	assert_int_equal(fragcheck_add(h, 2, &nf, 65515), FRAGCHECK_CONFLICT);
	/* A difference outside the overlap is not a conflict. */
	memcpy(mixed, dgram, sizeof(mixed));
	mixed[28] ^= 1;
	nf = frag(mixed, 16, 16, true);
	assert_int_equal(fragcheck_add(h + 1, 1, &nf, 65515), FRAGCHECK_OVERLAP);
}

static void test_fragcheck_oversize_datagram(void **state)
{
	(void)state;
	struct fragcheck_frag nf = { .data = dgram, .off = 65512, .len = 8, .more = false };

	assert_int_equal(fragcheck_add(NULL, 0, &nf, 65515), FRAGCHECK_OVERSIZE);
	nf.off = 65504;
	assert_int_equal(fragcheck_add(NULL, 0, &nf, 65515), FRAGCHECK_OK);
}

static void test_fragcheck_two_different_last_fragments(void **state)
{
	(void)state;
	struct fragcheck_frag h[1] = { frag(dgram, 32, 16, false) };
	struct fragcheck_frag nf = frag(dgram, 48, 8, false);

	assert_int_equal(fragcheck_add(h, 1, &nf, 65515), FRAGCHECK_BAD);
}

static void test_fragcheck_data_beyond_last_fragment(void **state)
{
	(void)state;
	struct fragcheck_frag h[1] = { frag(dgram, 16, 16, false) };
	struct fragcheck_frag nf = frag(dgram, 32, 16, true);

	assert_int_equal(fragcheck_add(h, 1, &nf, 65515), FRAGCHECK_BAD);
	/* And a last fragment that ends before data already held. */
	struct fragcheck_frag h2[1] = { frag(dgram, 32, 16, true) };
	struct fragcheck_frag last = frag(dgram, 16, 8, false);
	assert_int_equal(fragcheck_add(h2, 1, &last, 65515), FRAGCHECK_BAD);
}

static void test_fragcheck_complete_needs_last_and_no_gap(void **state)
{
	(void)state;
	struct fragcheck_frag h[4] = {
		frag(dgram, 32, 16, false),
		frag(dgram, 0, 16, true),
		frag(dgram, 0, 16, true), /* a duplicate changes nothing */
		frag(dgram, 16, 16, true),
	};

	assert_int_equal(fragcheck_complete(h, 1), 0);    /* last only */
	assert_int_equal(fragcheck_complete(h, 3), 0);    /* gap [16, 32) */
	assert_int_equal(fragcheck_complete(h, 4), 48);
	assert_int_equal(fragcheck_complete(h + 1, 3), 0); /* no last fragment */
}

static void test_fragcheck_result_names(void **state)
{
	(void)state;
	assert_string_equal(fragcheck_result_name(FRAGCHECK_CONFLICT), "conflict");
	assert_string_equal(fragcheck_result_name(FRAGCHECK_OVERSIZE), "oversize");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragcheck_disjoint_fragments_are_ok),
		cmocka_unit_test(test_fragcheck_exact_duplicate),
		cmocka_unit_test(test_fragcheck_same_range_different_bytes_conflicts),
		cmocka_unit_test(test_fragcheck_partial_overlap_same_bytes),
		cmocka_unit_test(test_fragcheck_partial_overlap_different_bytes),
		cmocka_unit_test(test_fragcheck_oversize_datagram),
		cmocka_unit_test(test_fragcheck_two_different_last_fragments),
		cmocka_unit_test(test_fragcheck_data_beyond_last_fragment),
		cmocka_unit_test(test_fragcheck_complete_needs_last_and_no_gap),
		cmocka_unit_test(test_fragcheck_result_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
