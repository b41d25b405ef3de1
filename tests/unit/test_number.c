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
	/* Full-width forms and dashes that only look like '-' are named. */
	expect_err("\xef\xbc\x90\xef\xbc\x93-1234-5678", -EINVAL,
		   "\"\\xef\\xbc\\x90\\xef\\xbc\\x93-1234-5678\": unexpected U+FF10 (full-width digit) "
		   "at character 1: write numbers in ASCII (0-9, +, -, ., parentheses, spaces)");
	expect_err("03\xe3\x83\xbc" "1234", -EINVAL,
		   "\"03\\xe3\\x83\\xbc1234\": unexpected U+30FC (a dash that is not ASCII '-') "
		   "at character 3: write numbers in ASCII (0-9, +, -, ., parentheses, spaces)");
	expect_err("\xef\xbc\x8b" "81312345678", -EINVAL,
		   "\"\\xef\\xbc\\x8b81312345678\": unexpected U+FF0B (full-width plus sign) "
		   "at character 1: write numbers in ASCII (0-9, +, -, ., parentheses, spaces)");
	/* Other bytes over 0x7f are quoted as they are. */
	expect_err("03\xc3\xa9" "1234", -EINVAL, "\"03\\xc3\\xa91234\": unexpected \"\\xc3\" at character 3");
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

/* num_parse() of s as parsed by the full parser alone: four blanks in
 * front change nothing a number means (leading blanks are skipped, '+'
 * included), but no text with more than three separators takes the fast
 * path.  Returns num_parse()'s result for s. */
static int parse_full_only(const char *s, size_t len, const char *ctx, struct num *n)
{
	char buf[128];

	assert_true(len + 4 <= sizeof(buf));
	memcpy(buf, "    ", 4);
	memcpy(buf + 4, s, len);
	return num_parse(buf, len + 4, ctx, ctx ? strlen(ctx) : 0, n, NULL, 0);
}

/* Every form of one number gives one answer, whichever parser reads it:
 * the short usual forms take the fast path (16 bytes, 3 separators at
 * most), the others (more separators, leading blanks, longer text, 010)
 * the full one. */
static void test_number_forms_of_one_number_agree(void **state)
{
	static const struct {
		const char *in, *ctx;
		unsigned flags;
	} fixed[] = {
		{ "0312345678", NULL, NUM_F_NATIONAL },
		{ "03-1234-5678", NULL, NUM_F_NATIONAL },
		{ "03.1234.5678", NULL, NUM_F_NATIONAL },
		{ "(03)1234-5678", NULL, NUM_F_NATIONAL },
		{ "03 1234\t5678", NULL, NUM_F_NATIONAL },
		{ "0-3-1-2-3-4-5678", NULL, NUM_F_NATIONAL },
		{ "  03-1234-5678", NULL, NUM_F_NATIONAL },
		{ "(03) 1234 - 5678", NULL, NUM_F_NATIONAL },
		{ "+81312345678", NULL, 0 },
		{ "+81-3-1234-5678", NULL, 0 },
		{ "+81.3.1234.5678", NULL, 0 },
		{ "+81(0)312345678", NULL, 0 },
		{ "+81(0)3-1234-5678", NULL, 0 },
		{ "+81 (0)3 1234 5678", NULL, 0 },
		{ " +81312345678", NULL, 0 },
		{ "312345678", "+81", 0 },
		{ "3-1234-5678", "+81", 0 },
		{ "03-1234-5678", "+81", NUM_F_NATIONAL },
		{ "03-1234-5678", "tokyo.example.jp", NUM_F_NATIONAL },
		{ "03-1234-5678", " +81 ", NUM_F_NATIONAL },
		{ "184-03-1234-5678", NULL, NUM_F_NATIONAL | NUM_F_184 },
		{ "1840312345678", NULL, NUM_F_NATIONAL | NUM_F_184 },
		{ "186 03 1234 5678", NULL, NUM_F_NATIONAL | NUM_F_186 },
		{ "186-03-1234-5678;", "+81", NUM_F_NATIONAL | NUM_F_186 },
		{ "00330312345678", NULL, NUM_F_NATIONAL | NUM_F_CARRIER_SEL },
		{ "0033-03-1234-5678", NULL, NUM_F_NATIONAL | NUM_F_CARRIER_SEL },
		{ "18400330312345678", NULL, NUM_F_NATIONAL | NUM_F_184 | NUM_F_CARRIER_SEL },
		{ "0033-184-0312345678", NULL, NUM_F_NATIONAL | NUM_F_184 | NUM_F_CARRIER_SEL },
	};
	static const struct {
		const char *in, *ctx, *digits;
		enum num_class cls;
		unsigned flags;
	} others[] = {
		{ "090-1234-5678", NULL, "819012345678", NUM_CLASS_MOBILE, NUM_F_NATIONAL },
		{ "+81-90-1234-5678", NULL, "819012345678", NUM_CLASS_MOBILE, 0 },
		{ "+81 90 1234 5678", NULL, "819012345678", NUM_CLASS_MOBILE, 0 },
		{ "9012345678", "+81", "819012345678", NUM_CLASS_MOBILE, 0 },
		{ "18609012345678", NULL, "819012345678", NUM_CLASS_MOBILE,
		  NUM_F_NATIONAL | NUM_F_186 },
		{ "050.4414.8396", NULL, "815044148396", NUM_CLASS_IP050, NUM_F_NATIONAL },
		{ "+81.50.4414.8396", NULL, "815044148396", NUM_CLASS_IP050, 0 },
		{ "+81-50-4414-8396", NULL, "815044148396", NUM_CLASS_IP050, 0 },
		{ "+81-050-4414-8396", NULL, "815044148396", NUM_CLASS_IP050, 0 },
		{ "020-1234-5678", NULL, "812012345678", NUM_CLASS_M2M, NUM_F_NATIONAL },
		{ "0120-123-456", NULL, "81120123456", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL },
		{ "+81-120-123-456", NULL, "81120123456", NUM_CLASS_FREEPHONE, 0 },
		{ "0800-123-4567", NULL, "818001234567", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL },
		{ "(0570)123-456", NULL, "81570123456", NUM_CLASS_FREEPHONE, NUM_F_NATIONAL },
		{ "(0564)83-1706", NULL, "81564831706", NUM_CLASS_FIXED, NUM_F_NATIONAL },
		{ "011-832-4356", NULL, "81118324356", NUM_CLASS_FIXED, NUM_F_NATIONAL },
		{ "+14155551212", NULL, "14155551212", NUM_CLASS_FOREIGN, 0 },
		{ "+1-415-555-1212", NULL, "14155551212", NUM_CLASS_FOREIGN, 0 },
		{ "+1 (415) 555-1212", NULL, "14155551212", NUM_CLASS_FOREIGN, 0 },
		{ "010-1-415-555-1212", NULL, "14155551212", NUM_CLASS_FOREIGN, 0 },
		{ "4155551212", "+1", "14155551212", NUM_CLASS_FOREIGN, 0 },
		{ "+442079460000", "+81", "442079460000", NUM_CLASS_FOREIGN, 0 },
		{ "0312345678", " +1", "10312345678", NUM_CLASS_FOREIGN, 0 },
		{ "312345678", "+811", NULL, NUM_CLASS_INVALID, 0 },
	};
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		size_t len = strlen(fixed[i].in);

		/* A trailing ';' is not part of num_parse's text. */
		if (fixed[i].in[len - 1] == ';')
			len--;
		memset(&n, 0xa5, sizeof(n));
		if (num_parse(fixed[i].in, len, fixed[i].ctx,
			      fixed[i].ctx ? strlen(fixed[i].ctx) : 0, &n, err, sizeof(err)) != 0)
			print_error("\"%s\": %s\n", fixed[i].in, err);
		assert_string_equal(n.digits, "81312345678");
		assert_int_equal(n.cls, NUM_CLASS_FIXED);
		assert_int_equal(n.flags, fixed[i].flags);
		assert_string_equal(n.carrier,
				    fixed[i].flags & NUM_F_CARRIER_SEL ? "0033" : "");
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct num full;

		if (others[i].digits != NULL) {
			expect_num_ctx(others[i].in, others[i].ctx, others[i].digits,
				       others[i].cls, others[i].flags);
			continue;
		}
		/* An error, the same from either parser. */
		assert_int_equal(num_parse(others[i].in, strlen(others[i].in), others[i].ctx,
					   strlen(others[i].ctx), &n, NULL, 0), -EINVAL);
		assert_int_equal(parse_full_only(others[i].in, strlen(others[i].in),
						 others[i].ctx, &full), -EINVAL);
		assert_memory_equal(&full, &n, sizeof(n));
	}
}

/* What follows the digits in struct num is zeros, on either path, so that
 * numbers compare as whole structs. */
static void test_number_result_is_zeroed_past_the_digits(void **state)
{
	static const char *const in[] = {
		"0312345678", "+14155551212", "0-3-1-2-3-4-5678", "110", "0033-0312345678",
	};
	char err[NUM_ERR_MAX];
	struct num n;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		memset(&n, 0xa5, sizeof(n));
		assert_int_equal(num_parse(in[i], strlen(in[i]), NULL, 0, &n, err, sizeof(err)), 0);
		for (size_t j = n.len; j < sizeof(n.digits); j++)
			assert_int_equal(n.digits[j], 0);
		if (!(n.flags & NUM_F_CARRIER_SEL))
			for (size_t j = 0; j < sizeof(n.carrier); j++)
				assert_int_equal(n.carrier[j], 0);
		else
			assert_int_equal(n.carrier[4], 0);
	}
}

/* The digits packed as num_parse_user() gives them: 4 bits each, the first
 * on top. */
static uint64_t packed(const char *digits)
{
	uint64_t b = 0;

	for (unsigned i = 0; digits[i] != '\0'; i++)
		b |= (uint64_t)(digits[i] - '0') << (60 - 4 * i);
	return b;
}

static void test_number_user_part_ends_at_first_semicolon(void **state)
{
	const char *u = "03-1234-5678;npdi;rn=+81312340000";
	char err[NUM_ERR_MAX];
	struct num n;
	uint64_t bcd;
	size_t tl;

	(void)state;
	assert_int_equal(num_parse_user(u, strlen(u), NULL, 0, &n, &tl, &bcd, err, sizeof(err)),
			 0);
	assert_string_equal(n.digits, "81312345678");
	assert_int_equal(n.flags, NUM_F_NATIONAL);
	assert_int_equal(tl, 12);
	assert_true(bcd == 0x8131234567800000ull);
	u = "9012345678;phone-context=+81";
	assert_int_equal(num_parse_user(u, strlen(u), "+81", 3, &n, &tl, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(n.digits, "819012345678");
	assert_int_equal(tl, 10);
	/* The error names the number, not the parameters after it. */
	u = "03-1234-567;isub=1";
	assert_int_equal(num_parse_user(u, strlen(u), NULL, 0, &n, &tl, &bcd, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "\"03-1234-567\": fixed-line number needs 10 digits, got 9");
	assert_int_equal(tl, 11);
	assert_true(bcd == 0);
	assert_int_equal(num_parse_user(";npdi", 5, NULL, 0, &n, &tl, &bcd, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "\"\": no digits");
	assert_int_equal(tl, 0);
	/* Escapes are the caller's to decode. */
	u = "%2B81312345678;npdi";
	assert_int_equal(num_parse_user(u, strlen(u), NULL, 0, &n, &tl, &bcd, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "\"%2B81312345678\": unexpected \"%\" at character 1");
	assert_int_equal(tl, 14);
	/* Only len bytes are read: a ';' past them does not count. */
	assert_int_equal(num_parse_user("0312345678;", 10, NULL, 0, &n, &tl, &bcd, NULL, 0), 0);
	assert_int_equal(tl, 10);
	assert_int_equal(num_parse_user("0312345678", 10, NULL, 0, NULL, &tl, &bcd, err,
					sizeof(err)), -EINVAL);
	assert_int_equal(num_parse_user("0312345678", 10, NULL, 0, &n, NULL, &bcd, err,
					sizeof(err)), -EINVAL);
	assert_int_equal(num_parse_user(NULL, 1, NULL, 0, &n, &tl, &bcd, err, sizeof(err)),
			 -EINVAL);
}

/* num_parse_user(u) is num_parse() of u up to its first ';', field for
 * field and error for error, with the digits packed alongside; and both
 * agree with the full parser alone. */
static void test_number_user_part_agrees_with_num_parse(void **state)
{
	static const char *const users[] = {
		"0312345678", "03-1234-5678;npdi", "+81-50-4414-8396",
		"+81-50-4414-8396;rn=+8150", "+815044148396;npdi;rn=+815044140000",
		"070-7937-1648;phone-context=+81", "(0564)83-1706", "0564.83.1706",
		"18605070837783", "1840033-03-1234-5678", "0033-184-03-1234-5678;x",
		"+14155551212", "+1-415-555-1212;npdi", "0120-123-456", "0800-123-4567",
		"0570-123-456", "020-1234-5678", "110", "118;phone-context=+81", "anonymous",
		"", ";", "+", "+;x", "0312345678901234567;x", "+81 (0)3 1234 5678",
		" 03-1234-5678", "03-1234-5678 ", "\t+81312345678", "+81312345678901",
		"050-0123-4567", "010-1-212-555-1234", "03-1234-56789", "03-1234-567",
		"0312345678;", "0312345678a;b", "03-1234-5678-", "--03-1234-5678--;",
		"+81-3-1234-5678-;", "1234567890123456", "12345678901234567",
		"+8112345678901234", "+81-3-1234-56789", "+81-3-1234-5678;", "+81-3-1234-5678x",
		"0-3-1234-5678", "0-3-1-2345678", "+8+1312345678", "0312345678+",
		"+81(0)312345678", "+810312345678", "+8100312345678", "00-33-0312345678",
		"0033012345678", "1841", "1840", "18403", "184-090-1234-5678;a=b;c",
		/* Local numbers for the phone-contexts below. */
		"312345678", "9012345678;x", "50-4414-8396",
		/* Digits and '+' after the ';', inside the first 16 bytes. */
		"0312345678;rn=81", "+81312345678;9", "0312345678;rn=+81", "03-1234-5678;rn+",
		"+81-50-4414-8396;", "+81-50-4414-839;6", "+8150441483;96", "0312345;678",
	};
	static const char *const ctxs[] = {
		NULL, "+81", "+1", "example.jp", " +81", "+81 ", " +1", "+810", "+811", "+8x",
		"+", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		for (size_t c = 0; c < sizeof(ctxs) / sizeof(ctxs[0]); c++) {
			const char *u = users[i], *ctx = ctxs[c], *semi = strchr(u, ';');
			size_t n = semi ? (size_t)(semi - u) : strlen(u), tl = 99;
			size_t cl = ctx ? strlen(ctx) : 0;
			char e1[NUM_ERR_MAX] = "", e2[NUM_ERR_MAX] = "";
			struct num a, b;
			uint64_t bcd = 1;
			int r1, r2;

			memset(&a, 0x5a, sizeof(a));
			memset(&b, 0xa5, sizeof(b));
			r1 = num_parse(u, n, ctx, cl, &a, e1, sizeof(e1));
			r2 = num_parse_user(u, strlen(u), ctx, cl, &b, &tl, &bcd, e2, sizeof(e2));
			if (r1 != r2 || strcmp(e1, e2) != 0)
				print_error("\"%s\": num_parse %d [%s], num_parse_user %d [%s]\n",
					    u, r1, e1, r2, e2);
			assert_int_equal(r2, r1);
			assert_memory_equal(&b, &a, sizeof(a));
			assert_string_equal(e2, e1);
			assert_int_equal(tl, n);
			assert_true(bcd == (r1 == 0 ? packed(a.digits) : 0));
			memset(&b, 0x3c, sizeof(b));
			assert_int_equal(parse_full_only(u, n, ctx, &b), r1);
			assert_memory_equal(&b, &a, sizeof(a));
			/* The whole user part, ';' and all, for num_parse. */
			r1 = num_parse(u, strlen(u), ctx, cl, &a, NULL, 0);
			assert_int_equal(parse_full_only(u, strlen(u), ctx, &b), r1);
			assert_memory_equal(&b, &a, sizeof(a));
		}
	}
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
		cmocka_unit_test(test_number_forms_of_one_number_agree),
		cmocka_unit_test(test_number_result_is_zeroed_past_the_digits),
		cmocka_unit_test(test_number_user_part_ends_at_first_semicolon),
		cmocka_unit_test(test_number_user_part_agrees_with_num_parse),
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
