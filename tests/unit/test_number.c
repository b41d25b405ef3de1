#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "number.h"

static void expect_num_ctx(const char *in, const char *ctx, const char *digits,
			   enum num_class cls, unsigned flags)
{
	char err[NUM_ERR_MAX] = "";
	struct num n;
	int rc;

	rc = num_parse(in, strlen(in), ctx, ctx ? strlen(ctx) : 0, &n, err, sizeof(err));
	if (rc != 0)
		print_error("num_parse(\"%s\") failed: %s\n", in, err);
	assert_int_equal(rc, 0);
	assert_string_equal(n.digits, digits);
	assert_int_equal(n.len, strlen(digits));
	if (n.cls != cls)
		print_error("\"%s\": class %s, expected %s\n", in, num_class_name(n.cls),
			    num_class_name(cls));
	assert_int_equal(n.cls, cls);
	assert_int_equal(n.flags, flags);
}

static void expect_num(const char *in, const char *digits, enum num_class cls, unsigned flags)
{
	expect_num_ctx(in, NULL, digits, cls, flags);
}

static void expect_err_ctx(const char *in, size_t len, const char *ctx, int erc,
			   const char *msg)
{
	char err[NUM_ERR_MAX] = "";
	struct num n;

	assert_int_equal(num_parse(in, len, ctx, ctx ? strlen(ctx) : 0, &n, err, sizeof(err)),
			 erc);
	assert_string_equal(err, msg);
	assert_int_equal(n.cls, NUM_CLASS_INVALID);
	assert_string_equal(n.digits, "");
	assert_int_equal(n.len, 0);
}

static void expect_err(const char *in, int erc, const char *msg)
{
	expect_err_ctx(in, strlen(in), NULL, erc, msg);
}

static void test_number_national_forms(void **state)
{
	(void)state;
	expect_num("0312345678", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("03-1234-5678", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("03(1234)5678", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("03.1234.5678", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("03 1234 5678", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num(" \t03-1234-5678  ", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
}

static void test_number_e164_forms(void **state)
{
	(void)state;
	expect_num("+81312345678", "81312345678", NUM_CLASS_FIXED, 0);
	expect_num("+81-3-1234-5678", "81312345678", NUM_CLASS_FIXED, 0);
	expect_num("+81 3 1234 5678", "81312345678", NUM_CLASS_FIXED, 0);
	/* The trunk 0 people keep in brackets after +81. */
	expect_num("+81(0)3-1234-5678", "81312345678", NUM_CLASS_FIXED, 0);
	expect_num("+81-90-1234-5678", "819012345678", NUM_CLASS_MOBILE, 0);
}

static void test_number_input_is_counted_not_nul_terminated(void **state)
{
	const char buf[] = "03-1234-5678999;user=phone";
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	assert_int_equal(num_parse(buf, 12, NULL, 0, &n, err, sizeof(err)), 0);
	assert_string_equal(n.digits, "81312345678");
	/* Only the first 12 bytes, not a NUL, end the number: one digit short. */
	assert_int_equal(num_parse(buf, 11, NULL, 0, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"03-1234-567\": fixed-line number needs 10 digits, got 9");
}

static void test_number_strips_184_and_186(void **state)
{
	(void)state;
	expect_num("1840312345678", "81312345678", NUM_CLASS_FIXED,
		   NUM_F_NATIONAL | NUM_F_184);
	expect_num("186-03-1234-5678", "81312345678", NUM_CLASS_FIXED,
		   NUM_F_NATIONAL | NUM_F_186);
	expect_num("184 090 1234 5678", "819012345678", NUM_CLASS_MOBILE,
		   NUM_F_NATIONAL | NUM_F_184);
	expect_num("186-050-1234-5678", "815012345678", NUM_CLASS_IP050,
		   NUM_F_NATIONAL | NUM_F_186);
	/* 184 must be followed by a national number, else it is not a prefix. */
	expect_err("1841234", -EINVAL,
		   "\"1841234\": 184 must be followed by a national number starting with 0");
	/* The number after the prefix is still checked. */
	expect_err("184-03-1234-567", -EINVAL,
		   "\"184-03-1234-567\": fixed-line number needs 10 digits, got 9");
}

static void test_number_strips_carrier_selection_code(void **state)
{
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	assert_int_equal(num_parse("00330312345678", 14, NULL, 0, &n, err, sizeof(err)), 0);
	assert_string_equal(n.digits, "81312345678");
	assert_int_equal(n.cls, NUM_CLASS_FIXED);
	assert_int_equal(n.flags, NUM_F_NATIONAL | NUM_F_CARRIER_SEL);
	assert_string_equal(n.carrier, "0033");

	expect_num("0088-090-1234-5678", "819012345678", NUM_CLASS_MOBILE,
		   NUM_F_NATIONAL | NUM_F_CARRIER_SEL);
	/* Either order with 184/186. */
	expect_num("0033-184-03-1234-5678", "81312345678", NUM_CLASS_FIXED,
		   NUM_F_NATIONAL | NUM_F_CARRIER_SEL | NUM_F_184);
	expect_num("186-0041-0120-123-456", "81120123456", NUM_CLASS_FREEPHONE,
		   NUM_F_NATIONAL | NUM_F_CARRIER_SEL | NUM_F_186);
	/* Through the international prefix: foreign, not national. */
	assert_int_equal(num_parse("0033-010-1-212-555-1234", 23, NULL, 0, &n, err,
				   sizeof(err)), 0);
	assert_string_equal(n.digits, "12125551234");
	assert_int_equal(n.cls, NUM_CLASS_FOREIGN);
	assert_int_equal(n.flags, NUM_F_CARRIER_SEL);
	assert_string_equal(n.carrier, "0033");
	/* No carrier flag and an empty carrier without a code. */
	assert_int_equal(num_parse("0312345678", 10, NULL, 0, &n, err, sizeof(err)), 0);
	assert_string_equal(n.carrier, "");
}

static void test_number_00_without_national_number_is_invalid(void **state)
{
	(void)state;
	expect_err("00331234", -EINVAL,
		   "\"00331234\": 00 is not a Japanese number prefix (a 00XY carrier-selection"
		   " code must be followed by a national number)");
	expect_err("0012345678", -EINVAL,
		   "\"0012345678\": 00 is not a Japanese number prefix (a 00XY carrier-selection"
		   " code must be followed by a national number)");
}

static void test_number_international_prefix_010(void **state)
{
	(void)state;
	expect_num("010-1-212-555-1234", "12125551234", NUM_CLASS_FOREIGN, 0);
	expect_num("010 44 20 7946 0958", "442079460958", NUM_CLASS_FOREIGN, 0);
	/* Dialling Japan from Japan the long way is still a Japanese number. */
	expect_num("010-81-3-1234-5678", "81312345678", NUM_CLASS_FIXED, 0);
	expect_err("010", -EINVAL, "\"010\": no digits after the international prefix 010");
	expect_err("010-1-212", -EINVAL, "\"010-1-212\": foreign number needs at least 7 digits,"
		   " got 4");
}

static void test_number_classifies_japanese_types(void **state)
{
	(void)state;
	expect_num("050-1234-5678", "815012345678", NUM_CLASS_IP050, NUM_F_NATIONAL);
	expect_num("060-1234-5678", "816012345678", NUM_CLASS_MOBILE, NUM_F_NATIONAL);
	expect_num("070-1234-5678", "817012345678", NUM_CLASS_MOBILE, NUM_F_NATIONAL);
	expect_num("080-1234-5678", "818012345678", NUM_CLASS_MOBILE, NUM_F_NATIONAL);
	expect_num("090-1234-5678", "819012345678", NUM_CLASS_MOBILE, NUM_F_NATIONAL);
	expect_num("020-1234-5678", "812012345678", NUM_CLASS_M2M, NUM_F_NATIONAL);
	expect_num("0120-123-456", "81120123456", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL);
	expect_num("0800-123-4567", "818001234567", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL);
	expect_num("0570-123-456", "81570123456", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL);
	/* Area codes that share leading digits with the special types. */
	expect_num("011-123-4567", "81111234567", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("0123-45-6789", "81123456789", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("06-1234-5678", "81612345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("0572-12-3456", "81572123456", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("092-123-4567", "81921234567", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("052-123-4567", "81521234567", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num("+81-50-1234-5678", "815012345678", NUM_CLASS_IP050, 0);
	expect_num("+81-120-123-456", "81120123456", NUM_CLASS_FREEPHONE, 0);
}

static void test_number_classifies_foreign(void **state)
{
	(void)state;
	expect_num("+1-212-555-1234", "12125551234", NUM_CLASS_FOREIGN, 0);
	expect_num("+44 20 7946 0958", "442079460958", NUM_CLASS_FOREIGN, 0);
	expect_num("+683 4002", "6834002", NUM_CLASS_FOREIGN, 0);
	expect_num("+861234567890123", "861234567890123", NUM_CLASS_FOREIGN, 0);
	expect_err("+1234", -EINVAL, "\"+1234\": foreign number needs at least 7 digits, got 4");
	expect_err("+0312345678", -EINVAL, "\"+0312345678\": country codes never start with 0");
}

static void test_number_service_codes_and_emergency(void **state)
{
	static const struct {
		const char *in;
		const char *digits;
		int emergency;
	} cases[] = {
		{ "110", "81110", 1 },  { "118", "81118", 1 },  { "119", "81119", 1 },
		{ "117", "81117", 0 },  { "188", "81188", 0 },  { "+81110", "81110", 1 },
		{ "+81-119", "81119", 1 }, { "+81 177", "81177", 0 },
	};
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(num_parse(cases[i].in, strlen(cases[i].in), NULL, 0, &n, err,
					   sizeof(err)), 0);
		assert_string_equal(n.digits, cases[i].digits);
		assert_int_equal(n.cls, NUM_CLASS_SERVICE);
		assert_int_equal(num_is_emergency(&n), cases[i].emergency);
	}
	/* Sapporo 011-0xx-xxxx is not the police. */
	assert_int_equal(num_parse("011-012-3456", 12, NULL, 0, &n, err, sizeof(err)), 0);
	assert_int_equal(n.cls, NUM_CLASS_FIXED);
	assert_int_equal(num_is_emergency(&n), 0);
	assert_int_equal(num_is_emergency(NULL), 0);
	expect_err("1100", -EINVAL, "\"1100\": service codes have 3 digits, got 4");
	expect_err("11", -EINVAL, "\"11\": service codes have 3 digits, got 2");
}

static void test_number_wrong_length_is_invalid_with_reason(void **state)
{
	(void)state;
	expect_err("03-1234-567", -EINVAL,
		   "\"03-1234-567\": fixed-line number needs 10 digits, got 9");
	expect_err("03-1234-56789", -EINVAL,
		   "\"03-1234-56789\": fixed-line number needs 10 digits, got 11");
	expect_err("050-1234-567", -EINVAL,
		   "\"050-1234-567\": 050 IP phone number needs 11 digits, got 10");
	expect_err("090-1234-56789", -EINVAL,
		   "\"090-1234-56789\": mobile number needs 11 digits, got 12");
	expect_err("020-123-4567", -EINVAL, "\"020-123-4567\": M2M number needs 11 digits, got 10");
	expect_err("0120-123-4567", -EINVAL,
		   "\"0120-123-4567\": 0120 freephone number needs 10 digits, got 11");
	expect_err("0800-123-456", -EINVAL,
		   "\"0800-123-456\": 0800 freephone number needs 11 digits, got 10");
	expect_err("0570-12-345", -EINVAL,
		   "\"0570-12-345\": 0570 navi-dial number needs 10 digits, got 9");
	expect_err("+81-3-1234-567", -EINVAL,
		   "\"+81-3-1234-567\": fixed-line number needs 9 digits after +81, got 8");
	expect_err("050-0123-4567", -EINVAL,
		   "\"050-0123-4567\": 050 IP phone numbers never have 0 after 050");
}

static void test_number_syntax_errors_name_the_problem(void **state)
{
	(void)state;
	expect_err("", -EINVAL, "\"\": no digits");
	expect_err("(-)", -EINVAL, "\"(-)\": no digits");
	expect_err("03-1234-56x8", -EINVAL, "\"03-1234-56x8\": unexpected \"x\" at character 11");
	expect_err("03+12345678", -EINVAL, "\"03+12345678\": unexpected \"+\" at character 3");
	expect_err_ctx("03\0" "12345678", 11, NULL, -EINVAL,
		       "\"03\\x0012345678\": unexpected \"\\x00\" at character 3");
	expect_err("312345678", -EINVAL,
		   "\"312345678\": neither national (leading 0) nor E.164 (leading +)");
	expect_err("0", -EINVAL, "\"0\": no digits after the leading 0");
	expect_err("+81", -EINVAL, "\"+81\": no digits after +81");
	expect_err("+81-10-1234-5678", -EINVAL,
		   "\"+81-10-1234-5678\": +81 10 is not a Japanese number prefix");
	expect_err("+81-00-1234", -EINVAL, "\"+81-00-1234\": +81 cannot be followed by 00");
}

static void test_number_too_many_digits_is_erange(void **state)
{
	(void)state;
	expect_err("+1234567890123456", -ERANGE,
		   "\"+1234567890123456\": too many digits (16 in E.164 form), E.164 allows 15");
	expect_err("+81-3-1234-5678-90123", -ERANGE,
		   "\"+81-3-1234-5678-90123\": too many digits (16 in E.164 form),"
		   " E.164 allows 15");
	/* 15 digits in all is not too many, just wrong for a fixed line. */
	expect_err("+81-3-1234-5678-9012", -EINVAL,
		   "\"+81-3-1234-5678-9012\": fixed-line number needs 9 digits after +81, got 13");
	expect_err("03-1234-5678-9012-3456", -ERANGE,
		   "\"03-1234-5678-9012-3456\": too many digits (19 in E.164 form),"
		   " E.164 allows 15");
	expect_err("0312345678901234567890123456789012345678", -ERANGE,
		   "\"0312345678901234567890123456789012345678\": too many digits (40),"
		   " E.164 allows 15");
}

static void test_number_error_text_escapes_and_truncates_input(void **state)
{
	char long_in[200], err[NUM_ERR_MAX], small[12];
	struct num n;

	(void)state;
	expect_err("03\"12", -EINVAL, "\"03\\\"12\": unexpected \"\\\"\" at character 3");
	memset(long_in, '-', sizeof(long_in));
	long_in[0] = 'x';
	assert_int_equal(num_parse(long_in, sizeof(long_in), NULL, 0, &n, err, sizeof(err)),
			 -EINVAL);
	assert_true(strlen(err) < sizeof(err));
	assert_non_null(strstr(err, "---...\": unexpected \"x\" at character 1"));
	/* A short buffer is cut, never overrun; NULL err is fine. */
	memset(small, 'Z', sizeof(small));
	assert_int_equal(num_parse("03-1234-567", 11, NULL, 0, &n, small, 8), -EINVAL);
	assert_string_equal(small, "\"03-123");
	assert_int_equal(small[8], 'Z');
	assert_int_equal(num_parse("03-1234-567", 11, NULL, 0, &n, NULL, 0), -EINVAL);
}

static void test_number_phone_context(void **state)
{
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	/* RFC 3966 local numbers under +81: the NSN alone or national form. */
	expect_num_ctx("312345678", "+81", "81312345678", NUM_CLASS_FIXED, 0);
	expect_num_ctx("3-1234-5678", "+81", "81312345678", NUM_CLASS_FIXED, 0);
	expect_num_ctx("0312345678", "+81", "81312345678", NUM_CLASS_FIXED, NUM_F_NATIONAL);
	expect_num_ctx("184-0312345678", "+81", "81312345678", NUM_CLASS_FIXED,
		       NUM_F_NATIONAL | NUM_F_184);
	expect_num_ctx("110", "+81", "81110", NUM_CLASS_SERVICE, 0);
	expect_num_ctx("2125551234", "+1", "12125551234", NUM_CLASS_FOREIGN, 0);
	/* A domain context says nothing about numbering: read as written. */
	expect_num_ctx("0312345678", "ims.example.jp", "81312345678", NUM_CLASS_FIXED,
		       NUM_F_NATIONAL);
	/* A global number ignores the context. */
	expect_num_ctx("+81312345678", "+1", "81312345678", NUM_CLASS_FIXED, 0);
	expect_err_ctx("5678", 4, "+8x", -EINVAL,
		       "\"5678\": phone-context \"+8x\" is not a global number");
	expect_err_ctx("31234567", 8, "+81", -EINVAL,
		       "\"31234567\": fixed-line number needs 9 digits after +81, got 8");
	/* ctx_len 0 means no context, whatever the pointer. */
	assert_int_equal(num_parse("312345678", 9, "+81", 0, &n, err, sizeof(err)), -EINVAL);
}

static void test_number_rejects_bad_arguments(void **state)
{
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	assert_int_equal(num_parse("0312345678", 10, NULL, 0, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(num_parse(NULL, 5, NULL, 0, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(num_parse(NULL, 0, NULL, 0, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"\": no digits");
}

static void test_number_class_names(void **state)
{
	(void)state;
	assert_string_equal(num_class_name(NUM_CLASS_INVALID), "invalid");
	assert_string_equal(num_class_name(NUM_CLASS_FIXED), "fixed");
	assert_string_equal(num_class_name(NUM_CLASS_IP050), "ip050");
	assert_string_equal(num_class_name(NUM_CLASS_MOBILE), "mobile");
	assert_string_equal(num_class_name(NUM_CLASS_M2M), "m2m");
	assert_string_equal(num_class_name(NUM_CLASS_FREEPHONE), "freephone");
	assert_string_equal(num_class_name(NUM_CLASS_SERVICE), "service");
	assert_string_equal(num_class_name(NUM_CLASS_FOREIGN), "foreign");
	assert_string_equal(num_class_name(NUM_CLASS__COUNT), "unknown");
}

static void expect_pattern(const char *in, enum num_pattern_kind kind, const char *lo,
			   const char *hi)
{
	char err[NUM_ERR_MAX] = "";
	struct num_pattern p;
	int rc = num_pattern_parse(in, strlen(in), &p, err, sizeof(err));

	if (rc != 0)
		print_error("num_pattern_parse(\"%s\"): %s\n", in, err);
	assert_int_equal(rc, 0);
	assert_int_equal(p.kind, kind);
	assert_string_equal(p.lo, lo);
	assert_int_equal(p.len, strlen(lo));
	if (hi != NULL)
		assert_string_equal(p.hi, hi);
}

static void expect_pattern_err(const char *in, const char *msg)
{
	char err[NUM_ERR_MAX] = "";
	struct num_pattern p;

	assert_int_equal(num_pattern_parse(in, strlen(in), &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
}

static void test_pattern_exact_number(void **state)
{
	(void)state;
	expect_pattern("03-1234-5678", NUM_PAT_EXACT, "81312345678", NULL);
	expect_pattern("  +81-50-1234-5678 ", NUM_PAT_EXACT, "815012345678", NULL);
	expect_pattern_err("03-1234-567",
			   "\"03-1234-567\": fixed-line number needs 10 digits, got 9");
}

static void test_pattern_prefix_forms(void **state)
{
	(void)state;
	expect_pattern("03-1234-*", NUM_PAT_PREFIX, "8131234", NULL);
	expect_pattern("+8131234*", NUM_PAT_PREFIX, "8131234", NULL);
	expect_pattern("+81-3-1234-*", NUM_PAT_PREFIX, "8131234", NULL);
	expect_pattern("+81(0)3-1234*", NUM_PAT_PREFIX, "8131234", NULL);
	expect_pattern("050*", NUM_PAT_PREFIX, "8150", NULL);
	expect_pattern("0*", NUM_PAT_PREFIX, "81", NULL);
	expect_pattern("010-1-212-*", NUM_PAT_PREFIX, "1212", NULL);
	expect_pattern("+1 212 *", NUM_PAT_PREFIX, "1212", NULL);
	/* No length check: a prefix of a full number's length is still a prefix. */
	expect_pattern("03-1234-5678*", NUM_PAT_PREFIX, "81312345678", NULL);
}

static void test_pattern_prefix_errors(void **state)
{
	(void)state;
	expect_pattern_err("*", "\"*\": a prefix needs at least one digit before *");
	expect_pattern_err("+-*", "\"+-*\": a prefix needs at least one digit before *");
	expect_pattern_err("3*", "\"3*\": a prefix starts with 0 (national) or + (E.164)");
	expect_pattern_err("00*", "\"00*\": 00 is not a Japanese number prefix");
	expect_pattern_err("+0*", "\"+0*\": country codes never start with 0");
	expect_pattern_err("010*", "\"010*\": no digits after the international prefix 010");
	expect_pattern_err("03-12*34*", "\"03-12*34*\": unexpected \"*\" at character 6");
	expect_pattern_err("+1234567890123456*",
			   "\"+1234567890123456*\": prefix has 16 digits, E.164 allows 15");
}

static void test_pattern_range(void **state)
{
	(void)state;
	expect_pattern("0312340000..0312345999", NUM_PAT_RANGE, "81312340000", "81312345999");
	expect_pattern("03-1234-0000 .. 03-1234-5999", NUM_PAT_RANGE, "81312340000",
		       "81312345999");
	expect_pattern("+81312340000..03-1234-5999", NUM_PAT_RANGE, "81312340000",
		       "81312345999");
	expect_pattern("0312345678..0312345678", NUM_PAT_RANGE, "81312345678", "81312345678");
}

static void test_pattern_range_errors(void **state)
{
	(void)state;
	expect_pattern_err("0312345678..09012345678",
			   "\"0312345678..09012345678\": range ends differ in length:"
			   " 81312345678 has 11 digits, 819012345678 has 12");
	expect_pattern_err("0312345999..0312340000",
			   "\"0312345999..0312340000\": range runs backwards:"
			   " 81312345999 is above 81312340000");
	expect_pattern_err("0312340000..031234599",
			   "range end \"031234599\": fixed-line number needs 10 digits, got 9");
	expect_pattern_err("x..0312345678", "range start \"x\": unexpected \"x\" at character 1");
	expect_pattern_err("..0312345678", "range start \"\": no digits");
	expect_pattern_err("03-1234-*..03-1235-*",
			   "range start \"03-1234-*\": unexpected \"*\" at character 9");
}

static void test_range_to_prefixes_example_from_issue(void **state)
{
	char out[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	static const char *const want[] = { "81312340", "81312341", "81312342",
					    "81312343", "81312344", "81312345" };

	(void)state;
	assert_int_equal(num_range_to_prefixes("81312340000", "81312345999", 11, out,
					       NUM_RANGE_MAX_PREFIXES), 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(out[i], want[i]);
}

static void test_range_to_prefixes_ragged_ends(void **state)
{
	char out[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	static const char *const want[] = { "0129", "013", "014", "015", "016", "017",
					    "018", "019", "02", "03", "040", "0410" };

	(void)state;
	assert_int_equal(num_range_to_prefixes("01290", "04109", 5, out,
					       NUM_RANGE_MAX_PREFIXES), 12);
	for (int i = 0; i < 12; i++)
		assert_string_equal(out[i], want[i]);
	assert_int_equal(num_range_to_prefixes("555", "555", 3, out, 1), 1);
	assert_string_equal(out[0], "555");
	/* Every n-digit string: the empty prefix. */
	assert_int_equal(num_range_to_prefixes("000", "999", 3, out, 1), 1);
	assert_string_equal(out[0], "");
}

static uint64_t to_u64(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return v;
}

static void to_digits(uint64_t v, unsigned n, char *buf)
{
	for (unsigned i = n; i-- > 0; v /= 10)
		buf[i] = (char)('0' + v % 10);
	buf[n] = '\0';
}

/* The reference: from lo upwards, always take the largest aligned block
 * that still fits, the way CIDR covers are built.  Greedy is optimal
 * here because aligned blocks nest. */
static int greedy(uint64_t lo, uint64_t hi, unsigned n, char out[][NUM_MAX_DIGITS + 1],
		  size_t cap)
{
	size_t count = 0;
	uint64_t x = lo;

	while (x <= hi) {
		uint64_t size = 1;
		unsigned j = 0;
		char buf[32];

		while (j < n && x % (size * 10) == 0 && x + size * 10 - 1 <= hi) {
			size *= 10;
			j++;
		}
		if (count == cap)
			return -1;
		to_digits(x, n, buf);
		memcpy(out[count], buf, n - j);
		out[count][n - j] = '\0';
		count++;
		x += size;
	}
	return (int)count;
}

static void check_against_greedy(const char *lo, const char *hi, unsigned n)
{
	char got[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	char want[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	int g = num_range_to_prefixes(lo, hi, n, got, NUM_RANGE_MAX_PREFIXES);
	int w = greedy(to_u64(lo, n), to_u64(hi, n), n, want, NUM_RANGE_MAX_PREFIXES);

	if (g != w)
		print_error("[%s, %s]: %d prefixes, greedy %d\n", lo, hi, g, w);
	assert_int_equal(g, w);
	for (int i = 0; i < g; i++)
		if (strcmp(got[i], want[i]) != 0) {
			print_error("[%s, %s]: prefix %d is %s, greedy %s\n", lo, hi, i, got[i],
				    want[i]);
			fail();
		}
}

static void test_range_to_prefixes_matches_brute_force_all_3_digit_ranges(void **state)
{
	char lo[8], hi[8];

	(void)state;
	for (unsigned a = 0; a < 1000; a++) {
		to_digits(a, 3, lo);
		for (unsigned b = a; b < 1000; b++) {
			to_digits(b, 3, hi);
			check_against_greedy(lo, hi, 3);
		}
	}
}

static void test_range_to_prefixes_matches_brute_force_random_long_ranges(void **state)
{
	uint64_t seed = 0x9469f8fb9dc1c9c8ull;
	char lo[32], hi[32];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		unsigned n = 1 + (unsigned)(i % NUM_MAX_DIGITS);
		uint64_t mod = 1, a, b, t;

		for (unsigned j = 0; j < n; j++)
			mod *= 10;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		a = (seed >> 11) % mod;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* Half the time a short span, so ends share long prefixes. */
		b = (i & 1) ? (seed >> 11) % mod : a + (seed >> 11) % 5000;
		if (b >= mod)
			b = mod - 1;
		if (a > b) {
			t = a;
			a = b;
			b = t;
		}
		snprintf(lo, sizeof(lo), "%0*" PRIu64, (int)n, a);
		snprintf(hi, sizeof(hi), "%0*" PRIu64, (int)n, b);
		check_against_greedy(lo, hi, n);
	}
}

static void test_range_to_prefixes_worst_case_fits_and_small_cap_fails(void **state)
{
	char out[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
	int n;

	(void)state;
	n = num_range_to_prefixes("000000000000001", "999999999999998", 15, out,
				  NUM_RANGE_MAX_PREFIXES);
	/* 9 per digit below the top on each side, 8 whole blocks at the top. */
	assert_int_equal(n, 2 * 9 * 14 + 8);
	assert_true(n <= NUM_RANGE_MAX_PREFIXES);
	check_against_greedy("000000000000001", "999999999999998", 15);
	assert_int_equal(num_range_to_prefixes("000000000000001", "999999999999998", 15, out,
					       10), -ENOSPC);
}

static void test_range_to_prefixes_rejects_bad_input(void **state)
{
	char out[4][NUM_MAX_DIGITS + 1];

	(void)state;
	assert_int_equal(num_range_to_prefixes("124", "123", 3, out, 4), -EINVAL);
	assert_int_equal(num_range_to_prefixes("12a", "123", 3, out, 4), -EINVAL);
	assert_int_equal(num_range_to_prefixes("", "", 0, out, 4), -EINVAL);
	assert_int_equal(num_range_to_prefixes("1234567890123456", "1234567890123456", 16, out,
					       4), -EINVAL);
	assert_int_equal(num_range_to_prefixes(NULL, "123", 3, out, 4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_national_forms),
		cmocka_unit_test(test_number_e164_forms),
		cmocka_unit_test(test_number_input_is_counted_not_nul_terminated),
		cmocka_unit_test(test_number_strips_184_and_186),
		cmocka_unit_test(test_number_strips_carrier_selection_code),
		cmocka_unit_test(test_number_00_without_national_number_is_invalid),
		cmocka_unit_test(test_number_international_prefix_010),
		cmocka_unit_test(test_number_classifies_japanese_types),
		cmocka_unit_test(test_number_classifies_foreign),
		cmocka_unit_test(test_number_service_codes_and_emergency),
		cmocka_unit_test(test_number_wrong_length_is_invalid_with_reason),
		cmocka_unit_test(test_number_syntax_errors_name_the_problem),
		cmocka_unit_test(test_number_too_many_digits_is_erange),
		cmocka_unit_test(test_number_error_text_escapes_and_truncates_input),
		cmocka_unit_test(test_number_phone_context),
		cmocka_unit_test(test_number_rejects_bad_arguments),
		cmocka_unit_test(test_number_class_names),
		cmocka_unit_test(test_pattern_exact_number),
		cmocka_unit_test(test_pattern_prefix_forms),
		cmocka_unit_test(test_pattern_prefix_errors),
		cmocka_unit_test(test_pattern_range),
		cmocka_unit_test(test_pattern_range_errors),
		cmocka_unit_test(test_range_to_prefixes_example_from_issue),
		cmocka_unit_test(test_range_to_prefixes_ragged_ends),
		cmocka_unit_test(test_range_to_prefixes_matches_brute_force_all_3_digit_ranges),
		cmocka_unit_test(test_range_to_prefixes_matches_brute_force_random_long_ranges),
		cmocka_unit_test(test_range_to_prefixes_worst_case_fits_and_small_cap_fails),
		cmocka_unit_test(test_range_to_prefixes_rejects_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
