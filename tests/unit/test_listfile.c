#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "listfile.h"
#include "ntrie.h"

#define ERR_MAX 256

static void assert_entry(const struct ntrie_entry *e, const char *digits, enum ntrie_kind kind,
			 unsigned action, unsigned line)
{
	char got[NTRIE_MAX_DIGITS + 1];

	ntrie_key_digits(e->key, got);
	assert_string_equal(got, digits);
	assert_int_equal(e->key, ntrie_key(digits, strlen(digits)));
	assert_int_equal(e->kind, kind);
	assert_int_equal(e->value, NTRIE_VALUE(action, line));
	assert_int_equal(NTRIE_VALUE_ID(e->value), line);
	assert_int_equal(NTRIE_VALUE_ACTION(e->value), action);
}

static int parse(const char *text, unsigned action, struct listfile *lf, char *err)
{
	return listfile_parse("list.txt", text, strlen(text), action, lf, err, ERR_MAX);
}

static void test_listfile_reads_every_entry_form(void **state)
{
	const char *text =
		"# suspended numbers\r\n"                      /* 1 */
		"03-1234-5678\r\n"                             /* 2 */
		"\r\n"                                         /* 3 */
		"+81-50-1234-5678   # trailing comment\r\n"    /* 4 */
		"  090 1234 5678\n"                            /* 5 */
		"\t03-9876-*\n"                                /* 6 */
		"0312340000..0312345999\n"                     /* 7 */
		"0312345670..0312345679 # one decade\n"        /* 8 */
		"0120-123-456..0120-123-456\n"                 /* 9 */
		"   # indented comment\n"                      /* 10 */
		"0570-123-456";                                /* 11, no newline */
	static const char *const cover[] = { "81312340", "81312341", "81312342",
					     "81312343", "81312344", "81312345" };
	char err[ERR_MAX] = "";
	struct listfile lf;
	size_t i = 0;

	(void)state;
	assert_int_equal(parse(text, 2, &lf, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(lf.lines, 11);
	assert_int_equal(lf.n, 4 + 6 + 1 + 1 + 1);
	assert_entry(&lf.entries[i++], "81312345678", NTRIE_EXACT, 2, 2);
	assert_entry(&lf.entries[i++], "815012345678", NTRIE_EXACT, 2, 4);
	assert_entry(&lf.entries[i++], "819012345678", NTRIE_EXACT, 2, 5);
	assert_entry(&lf.entries[i++], "8139876", NTRIE_PREFIX, 2, 6);
	for (int j = 0; j < 6; j++)
		assert_entry(&lf.entries[i++], cover[j], NTRIE_PREFIX, 2, 7);
	assert_entry(&lf.entries[i++], "8131234567", NTRIE_PREFIX, 2, 8);
	/* A one-number range covers itself: full length, so exact. */
	assert_entry(&lf.entries[i++], "81120123456", NTRIE_EXACT, 2, 9);
	assert_entry(&lf.entries[i++], "81570123456", NTRIE_EXACT, 2, 11);
	listfile_free(&lf);
	assert_null(lf.entries);
	assert_int_equal(lf.n, 0);
}

static void test_listfile_range_with_ragged_ends_mixes_exact_and_prefix(void **state)
{
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(parse("03-1234-5678..03-1234-5690\n", 1, &lf, err), 0);
	/* 5678, 5679 exact; 568x prefix; 5690 exact. */
	assert_int_equal(lf.n, 4);
	assert_entry(&lf.entries[0], "81312345678", NTRIE_EXACT, 1, 1);
	assert_entry(&lf.entries[1], "81312345679", NTRIE_EXACT, 1, 1);
	assert_entry(&lf.entries[2], "8131234568", NTRIE_PREFIX, 1, 1);
	assert_entry(&lf.entries[3], "81312345690", NTRIE_EXACT, 1, 1);
	listfile_free(&lf);
}

static void test_listfile_bad_line_stops_with_file_line_reason(void **state)
{
	const char *text = "03-1234-5678\n# fine so far\n03-1234-567\n0312345679\n";
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	memset(&lf, 0xa5, sizeof(lf));
	assert_int_equal(parse(text, 1, &lf, err), -EINVAL);
	assert_string_equal(err, "list.txt:3: \"03-1234-567\": fixed-line number needs 10 digits,"
				 " got 9");
	/* Nothing half-loaded. */
	assert_null(lf.entries);
	assert_int_equal(lf.n, 0);
	assert_int_equal(lf.lines, 0);
}

static void test_listfile_range_errors_name_line_and_problem(void **state)
{
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(parse("0312340000..0312345999\n0312345999..0312340000\n", 1, &lf, err),
			 -EINVAL);
	assert_string_equal(err, "list.txt:2: \"0312345999..0312340000\": range runs backwards:"
				 " 81312345999 is above 81312340000");
	assert_null(lf.entries);
	assert_int_equal(parse("\n\n0312345678..09012345678 # mixed\n", 1, &lf, err), -EINVAL);
	assert_string_equal(err, "list.txt:3: \"0312345678..09012345678\": range ends differ in"
				 " length: 81312345678 has 11 digits, 819012345678 has 12");
	assert_null(lf.entries);
}

static void test_listfile_rejects_junk_and_nul_bytes(void **state)
{
	static const char text[] = "03-1234-5678\n03-1234\0-5679\n";
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(listfile_parse("nul.txt", text, sizeof(text) - 1, 1, &lf, err,
					sizeof(err)), -EINVAL);
	assert_string_equal(err, "nul.txt:2: \"03-1234\\x00-5679\": unexpected \"\\x00\" at"
				 " character 8");
	assert_int_equal(parse("suspend 03-1234-5678\n", 1, &lf, err), -EINVAL);
	assert_string_equal(err, "list.txt:1: \"suspend 03-1234-5678\": unexpected \"s\" at"
				 " character 1");
	assert_int_equal(parse("*\n", 1, &lf, err), -EINVAL);
	assert_string_equal(err, "list.txt:1: \"*\": a prefix needs at least one digit before *");
	assert_int_equal(lf.n, 0);
}

static void test_listfile_empty_and_comment_only_load_nothing(void **state)
{
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(parse("", 1, &lf, err), 0);
	assert_int_equal(lf.n, 0);
	assert_int_equal(lf.lines, 0);
	assert_int_equal(parse("# only\n\n   \r\n#\n", 1, &lf, err), 0);
	assert_int_equal(lf.n, 0);
	assert_int_equal(lf.lines, 4);
	listfile_free(&lf);
	assert_int_equal(listfile_parse("x", NULL, 0, 1, &lf, err, sizeof(err)), 0);
	assert_int_equal(lf.n, 0);
}

static void test_listfile_action_must_fit_value(void **state)
{
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(parse("0312345678\n", 16, &lf, err), -EINVAL);
	assert_string_equal(err, "list.txt: action 16 does not fit in 4 bits");
	assert_int_equal(parse("0312345678\n", 15, &lf, err), 0);
	assert_int_equal(NTRIE_VALUE_ACTION(lf.entries[0].value), 15);
	listfile_free(&lf);
}

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void test_listfile_load_reads_a_file(void **state)
{
	char path[] = "/tmp/teishi-test-listfile-XXXXXX";
	char err[ERR_MAX] = "";
	struct listfile lf;
	char expect[ERR_MAX];

	(void)state;
	write_file(path, "# list\n050-1234-5678\n+1-212-555-*\n03-1234-56789\n");
	assert_int_equal(listfile_load(path, 3, &lf, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect),
		 "%s:4: \"03-1234-56789\": fixed-line number needs 10 digits, got 11", path);
	assert_string_equal(err, expect);
	assert_null(lf.entries);
	unlink(path);

	strcpy(path, "/tmp/teishi-test-listfile-XXXXXX");
	write_file(path, "# list\n050-1234-5678\n+1-212-555-*\n");
	assert_int_equal(listfile_load(path, 3, &lf, err, sizeof(err)), 0);
	assert_int_equal(lf.lines, 3);
	assert_int_equal(lf.n, 2);
	assert_entry(&lf.entries[0], "815012345678", NTRIE_EXACT, 3, 2);
	assert_entry(&lf.entries[1], "1212555", NTRIE_PREFIX, 3, 3);
	listfile_free(&lf);
	unlink(path);
}

static void test_listfile_load_missing_file_says_why(void **state)
{
	char err[ERR_MAX] = "";
	struct listfile lf;

	(void)state;
	assert_int_equal(listfile_load("/nonexistent/teishi.list", 1, &lf, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/teishi.list: No such file or directory");
	assert_null(lf.entries);
	assert_int_equal(lf.n, 0);
}

static void test_listfile_entries_build_a_trie_that_matches(void **state)
{
	const char *text = "03-1234-5678\n0312340000..0312345999\n050-1111-*\n";
	char err[ERR_MAX] = "";
	struct ntrie_match m;
	struct listfile lf;
	struct ntrie *t;

	(void)state;
	assert_int_equal(parse(text, 1, &lf, err), 0);
	t = ntrie_create(NULL);
	assert_non_null(t);
	assert_int_equal(ntrie_build(t, lf.entries, lf.n), 0);
	/* Exact wins over the range cover that also holds it. */
	assert_int_equal(ntrie_lookup(t, ntrie_key("81312345678", 11), &m), 1);
	assert_int_equal(m.kind, NTRIE_EXACT);
	assert_int_equal(NTRIE_VALUE_ID(m.value), 1);
	assert_int_equal(ntrie_lookup(t, ntrie_key("81312342222", 11), &m), 1);
	assert_int_equal(m.kind, NTRIE_PREFIX);
	assert_int_equal(NTRIE_VALUE_ID(m.value), 2);
	assert_int_equal(ntrie_lookup(t, ntrie_key("81312346000", 11), &m), 0);
	assert_int_equal(ntrie_lookup(t, ntrie_key("815011119999", 12), &m), 1);
	assert_int_equal(NTRIE_VALUE_ID(m.value), 3);
	ntrie_free(t);
	listfile_free(&lf);
}

static void test_listfile_free_is_null_safe(void **state)
{
	struct listfile lf = { 0 };

	(void)state;
	listfile_free(NULL);
	listfile_free(&lf);
	assert_null(lf.entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listfile_reads_every_entry_form),
		cmocka_unit_test(test_listfile_range_with_ragged_ends_mixes_exact_and_prefix),
		cmocka_unit_test(test_listfile_bad_line_stops_with_file_line_reason),
		cmocka_unit_test(test_listfile_range_errors_name_line_and_problem),
		cmocka_unit_test(test_listfile_rejects_junk_and_nul_bytes),
		cmocka_unit_test(test_listfile_empty_and_comment_only_load_nothing),
		cmocka_unit_test(test_listfile_action_must_fit_value),
		cmocka_unit_test(test_listfile_load_reads_a_file),
		cmocka_unit_test(test_listfile_load_missing_file_says_why),
		cmocka_unit_test(test_listfile_entries_build_a_trie_that_matches),
		cmocka_unit_test(test_listfile_free_is_null_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
