/* Unit tests of the control plane's pure parts: the command table, its
 * parser and validator, authorities, dates, roles, the audit chain and
 * feed signatures.  No Redis here: see tests/integration/control_test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "authority.h"
#include "commands.h"
#include "feed.h"
#include "jdate.h"
#include "roles.h"

static void test_authority_npa_tokyo_okinawa_known(void **st)
{
	(void)st;
	assert_int_equal(authority_find("npa"), 0);
	assert_int_equal(authority_find("tokyo"), 13);
	assert_int_equal(authority_find("okinawa"), 47);
	assert_string_equal(authority_title(13), "Metropolitan Police Department");
	assert_string_equal(authority_title(27), "Osaka Prefectural Police");
}

static void test_authority_unknown_lists_all_valid(void **st)
{
	(void)st;
	char err[1024];
	assert_true(authority_find("Tokyo") < 0);
	authority_error("kyouto", err, sizeof(err));
	assert_non_null(strstr(err, "\"kyouto\""));
	for (int i = 0; i < AUTHORITY_COUNT; i++)
		assert_non_null(strstr(err, authority_name(i)));
}

static void test_jdate_calendar_checked(void **st)
{
	(void)st;
	char err[128];
	assert_true(jdate_parse("2024-02-29", err, sizeof(err)) > 0);
	assert_true(jdate_parse("2023-02-29", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no such calendar day"));
	assert_true(jdate_parse("2024-2-01", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "YYYY-MM-DD"));
	assert_int_equal(jdate_parse("1970-01-02", err, sizeof(err)), 1);
}

static void test_jdate_today_is_japan_time(void **st)
{
	(void)st;
	char d[JDATE_LEN + 1];
	/* 2024-03-31T15:00:00Z is 2024-04-01 00:00 in Japan. */
	jdate_today(1711897200, d);
	assert_string_equal(d, "2024-04-01");
	jdate_today(1711897199, d);
	assert_string_equal(d, "2024-03-31");
}

static void test_cmd_match_longest_name(void **st)
{
	(void)st;
	char *argv[] = {"report", "npa", "--since", "2024-01-01"};
	int used = 0;
	const struct cmd_def *d = cmd_match(4, argv, &used);
	assert_non_null(d);
	assert_int_equal(d->id, CMD_REPORT_NPA);
	assert_int_equal(used, 2);
	char *bad[] = {"report", "nope"};
	assert_null(cmd_match(2, bad, &used));
}

static void test_cmd_parse_multi_values_until_next_option(void **st)
{
	(void)st;
	char err[256];
	char *argv[] = {"--order", "R1", "--number", "0312345678", "05012345678", "--authority", "tokyo"};
	json_t *a = cmd_parse_args(cmd_by_id(CMD_SUSPEND), 7, argv, err, sizeof(err));
	assert_non_null(a);
	assert_int_equal(json_array_size(json_object_get(a, "number")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "number"), 1)), "05012345678");
	assert_string_equal(cmd_str(a, "authority"), "tokyo");
	assert_int_equal(cmd_validate(cmd_by_id(CMD_SUSPEND), a, err, sizeof(err)), 0);
	json_decref(a);
}

static void test_cmd_parse_missing_required_names_it(void **st)
{
	(void)st;
	char err[256];
	char *argv[] = {"--order", "R1", "--number", "0312345678"};
	assert_null(cmd_parse_args(cmd_by_id(CMD_SUSPEND), 4, argv, err, sizeof(err)));
	assert_non_null(strstr(err, "--authority"));
	char *argv2[] = {"--bogus", "x"};
	assert_null(cmd_parse_args(cmd_by_id(CMD_STATUS), 2, argv2, err, sizeof(err)));
	assert_non_null(strstr(err, "--bogus"));
}

static void test_cmd_validate_bad_number_and_date(void **st)
{
	(void)st;
	char err[512];
	json_t *a = json_pack("{s:s,s:s,s:[s]}", "order", "R1", "authority", "tokyo", "number", "03-1234-567");
	assert_int_equal(cmd_validate(cmd_by_id(CMD_SUSPEND), a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--number"));
	assert_non_null(strstr(err, "03-1234-567"));
	json_decref(a);
	a = json_pack("{s:s,s:s,s:[s],s:s}", "order", "R1", "authority", "tokyo", "number", "0312345678",
		      "received", "2024-13-01");
	assert_int_equal(cmd_validate(cmd_by_id(CMD_SUSPEND), a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--received"));
	json_decref(a);
	a = json_pack("{s:s,s:s,s:[s]}", "order", "R 1", "authority", "tokyo", "number", "0312345678");
	assert_int_equal(cmd_validate(cmd_by_id(CMD_SUSPEND), a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--order"));
	json_decref(a);
	/* Client-only arguments never reach the daemon. */
	a = json_pack("{s:b}", "csv", 1);
	assert_int_equal(cmd_validate(cmd_by_id(CMD_REPORT_NPA), a, err, sizeof(err)), -EINVAL);
	json_decref(a);
}

static void test_cmd_table_complete_and_in_man_page(void **st)
{
	(void)st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cmd_print_man(f);
	fclose(f);
	for (int i = 0; i < CMD__COUNT; i++) {
		const struct cmd_def *d = cmd_by_id(i);
		assert_int_equal(d->id, i);
		assert_non_null(d->name);
		assert_non_null(d->summary);
		assert_true(d->role == ROLE_VIEWER || d->role == ROLE_OPERATOR || d->role == ROLE_SUPERVISOR ||
			    d->role == ROLE_AUDITOR);
		/* roff escapes '-' as "\\-". */
		char first[64] = ".B ";
		for (const char *c = d->name; *c && *c != ' '; c++) {
			size_t l = strlen(first);
			if (*c == '-')
				first[l++] = '\\';
			first[l++] = *c;
			first[l] = '\0';
		}
		assert_non_null(strstr(buf, first));
	}
	free(buf);
}

static void test_roles_root_gets_only_what_the_file_gives(void **st)
{
	(void)st;
	char path[] = "/tmp/teishi-roles-XXXXXX";
	int fd = mkstemp(path);
	dprintf(fd, "# test\nuser 4001 supervisor,viewer\ngroup 4100 auditor\n");
	close(fd);
	char err[256];
	struct roles *r = roles_load(path, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(roles_of(r, 0, 0), 0);
	assert_int_equal(roles_of(r, 4001, 4001), ROLE_SUPERVISOR | ROLE_VIEWER);
	assert_int_equal(roles_of(r, 4002, 4100), ROLE_AUDITOR);
	roles_free(r);
	fd = open(path, O_WRONLY | O_TRUNC);
	dprintf(fd, "user root admin\n");
	close(fd);
	assert_null(roles_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: unknown role \"admin\""));
	unlink(path);
}

static void test_audit_chain_edit_found(void **st)
{
	(void)st;
	char prev[AUDIT_HASH_HEX] = AUDIT_ZERO, head[AUDIT_HASH_HEX], why[256];
	char *recs[3];
	size_t lens[3];
	for (int i = 0; i < 3; i++) {
		json_t *f = json_pack("{s:s,s:i}", "cmd", "suspend", "n", i);
		recs[i] = audit_record(f, i + 1, prev);
		json_decref(f);
		lens[i] = strlen(recs[i]);
		audit_hash(recs[i], lens[i], prev);
	}
	memcpy(head, prev, sizeof(head));
	char p[AUDIT_HASH_HEX] = AUDIT_ZERO;
	assert_int_equal(audit_verify((const char *const *)recs, lens, 3, 1, p, head, why, sizeof(why)), -1);
	/* Change record 2 (index 1), keep it valid JSON. */
	char *at = strstr(recs[1], "\"n\":1");
	at[4] = '7';
	memcpy(p, AUDIT_ZERO, sizeof(p));
	assert_int_equal(audit_verify((const char *const *)recs, lens, 3, 1, p, head, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "record 2 was changed"));
	at[4] = '1';
	/* Change the last record: only the head can tell. */
	at = strstr(recs[2], "\"n\":2");
	at[4] = '8';
	memcpy(p, AUDIT_ZERO, sizeof(p));
	assert_int_equal(audit_verify((const char *const *)recs, lens, 3, 1, p, head, why, sizeof(why)), 2);
	for (int i = 0; i < 3; i++)
		free(recs[i]);
}

static void test_feed_signed_by_other_key_refused(void **st)
{
	(void)st;
	assert_true(sodium_init() >= 0);
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	const char *body = "{\"feed\":\"teishi\",\"v\":1,\"origin\":\"jusa\"}\n"
			   "{\"id\":\"jusa/R1/suspend/81312345678\",\"op\":\"suspend\",\"entry\":\"81312345678\","
			   "\"order\":\"R1\",\"authority\":\"tokyo\",\"date\":\"2024-03-01\"}\n";
	char *feed = feed_sign(body, strlen(body), sk);
	json_t *h, *items;
	char why[256];
	assert_int_equal(feed_parse(feed, strlen(feed), pk, &h, &items, why, sizeof(why)), 0);
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "entry")), "81312345678");
	json_decref(h);
	json_decref(items);
	assert_int_equal(feed_parse(feed, strlen(feed), pk2, &h, &items, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "bad signature"));
	assert_null(items);
	/* One altered digit breaks the signature too. */
	strstr(feed, "81312345678")[10] = '9';
	assert_int_equal(feed_parse(feed, strlen(feed), pk, &h, &items, why, sizeof(why)), -EBADMSG);
	free(feed);
	/* A validly signed but malformed item is refused whole. */
	const char *bad = "{\"feed\":\"teishi\",\"v\":1,\"origin\":\"jusa\"}\n{\"op\":\"suspend\"}\n";
	feed = feed_sign(bad, strlen(bad), sk);
	assert_int_equal(feed_parse(feed, strlen(feed), pk, &h, &items, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 2"));
	free(feed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authority_npa_tokyo_okinawa_known),
		cmocka_unit_test(test_authority_unknown_lists_all_valid),
		cmocka_unit_test(test_jdate_calendar_checked),
		cmocka_unit_test(test_jdate_today_is_japan_time),
		cmocka_unit_test(test_cmd_match_longest_name),
		cmocka_unit_test(test_cmd_parse_multi_values_until_next_option),
		cmocka_unit_test(test_cmd_parse_missing_required_names_it),
		cmocka_unit_test(test_cmd_validate_bad_number_and_date),
		cmocka_unit_test(test_cmd_table_complete_and_in_man_page),
		cmocka_unit_test(test_roles_root_gets_only_what_the_file_gives),
		cmocka_unit_test(test_audit_chain_edit_found),
		cmocka_unit_test(test_feed_signed_by_other_key_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
