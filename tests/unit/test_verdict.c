#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "verdict.h"

/* The list every test decides against: one number per kind of entry. */
#define LISTED_FIXED "81312345678"      /* 03-1234-5678 */
#define LISTED_IP050 "815012345678"     /* 050-1234-5678 */
#define LISTED_PREFIX "8164"            /* +81 6 4...: prefix */
#define LISTED_EMERG_CALLER "81612340000" /* under the prefix too */

static struct ntrie *trie;

static int setup(void **state)
{
	(void)state;
	trie = ntrie_create(NULL);
	if (!trie)
		return -1;
	assert_int_equal(ntrie_insert(trie, ntrie_key(LISTED_FIXED, strlen(LISTED_FIXED)),
				      NTRIE_EXACT, NTRIE_VALUE(0, 11)), 0);
	assert_int_equal(ntrie_insert(trie, ntrie_key(LISTED_IP050, strlen(LISTED_IP050)),
				      NTRIE_EXACT, NTRIE_VALUE(0, 12)), 0);
	assert_int_equal(ntrie_insert(trie, ntrie_key(LISTED_PREFIX, strlen(LISTED_PREFIX)),
				      NTRIE_PREFIX, NTRIE_VALUE(0, 13)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ntrie_free(trie);
	return 0;
}

static char msgbuf[4096];

/* An INVITE with the given Request-URI user, To tag and extra headers. */
static const char *invite(const char *ruri_user, const char *to_tag, const char *from_user,
			  const char *extra)
{
	snprintf(msgbuf, sizeof(msgbuf),
		 "INVITE sip:%s@example.net;user=phone SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
		 "Max-Forwards: 70\r\n"
		 "To: <sip:%s@example.net>%s%s\r\n"
		 "From: \"Caller\" <sip:%s@192.0.2.1>;tag=1928301774\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\n"
		 "CSeq: 314159 INVITE\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 ruri_user, ruri_user, to_tag ? ";tag=" : "", to_tag ? to_tag : "", from_user,
		 extra ? extra : "");
	return msgbuf;
}

static int decide(const struct verdict_config *cfg, const char *m, struct verdict *v)
{
	struct sip_msg msg;
	int rc = sip_scan(m, strlen(m), &msg);

	return verdict_decide(cfg, trie, rc, &msg, v);
}

static void test_verdict_blocks_listed_caller_in_from(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("0398765432", NULL, "03-1234-5678", NULL), &v),
			 VERDICT_BLOCK);
	assert_int_equal(v.reason, VERDICT_R_MATCH);
	assert_int_equal(v.hdr, SIP_HDR_FROM);
	assert_int_equal(v.side, VERDICT_SIDE_CALLING);
	assert_string_equal(v.number.digits, LISTED_FIXED);
	assert_int_equal(v.match.kind, NTRIE_EXACT);
	assert_int_equal(NTRIE_VALUE_ID(v.match.value), 11);
}

static void test_verdict_blocks_listed_callee_in_request_uri(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("+815012345678", NULL, "0311112222", NULL), &v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_RURI);
	assert_int_equal(v.side, VERDICT_SIDE_CALLED);
	assert_int_equal(v.uri, 0);
	assert_string_equal(v.number.digits, LISTED_IP050);
}

static void test_verdict_blocks_prefix_match_in_pai(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg,
				invite("0311112222", NULL, "anonymous",
				       "P-Asserted-Identity: <sip:+81311110000@a.example>, <tel:06-4000-1234>\r\n"),
				&v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_PAI);
	assert_int_equal(v.match.kind, NTRIE_PREFIX);
	assert_int_equal(v.match.len, strlen(LISTED_PREFIX));
	assert_string_equal(v.number.digits, "81640001234");
}

static void test_verdict_blocks_diversion_as_calling_side(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg,
				invite("0311112222", NULL, "0311113333",
				       "Diversion: <sip:0312345678@fwd.example>;reason=unconditional\r\n"),
				&v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_DIVERSION);
	assert_int_equal(v.side, VERDICT_SIDE_CALLING);
}

static void test_verdict_emergency_callee_is_never_blocked(void **state)
{
	struct verdict_config cfg;
	struct verdict v;
	const char *codes[] = { "110", "118", "119" };

	(void)state;
	verdict_config_default(&cfg);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(decide(&cfg, invite(codes[i], NULL, "0312345678", NULL), &v),
				 VERDICT_PASS);
		assert_int_equal(v.reason, VERDICT_R_EMERGENCY);
	}
}

static void test_verdict_emergency_exempts_even_when_ruri_unchecked(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_config_headers(&cfg, "from", NULL, 0), 0);
	assert_int_equal(decide(&cfg, invite("119", NULL, "0312345678", NULL), &v), VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_EMERGENCY);
}

static void test_verdict_unlisted_initial_invite_passes(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0311113333", NULL), &v),
			 VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_NO_MATCH);
	assert_int_equal(v.match.kind, 0);
}

static void test_verdict_in_dialog_invite_passes(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("0312345678", "314159", "0312345678", NULL), &v),
			 VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_IN_DIALOG);
}

static void test_verdict_non_invite_response_and_garbage_pass(void **state)
{
	struct verdict_config cfg;
	struct verdict v;
	const char *bye = "BYE sip:0312345678@example.net SIP/2.0\r\n"
			  "From: <sip:0312345678@a>;tag=1\r\nTo: <sip:0312345678@b>;tag=2\r\n"
			  "Call-ID: x@y\r\nCSeq: 2 BYE\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n";
	const char *resp = "SIP/2.0 200 OK\r\nFrom: <sip:0312345678@a>;tag=1\r\n"
			   "To: <sip:0312345678@b>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\n\r\n";
	const char *garbage = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not sip at all";

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, bye, &v), VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_NOT_INVITE);
	assert_int_equal(decide(&cfg, resp, &v), VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_RESPONSE);
	assert_int_equal(decide(&cfg, garbage, &v), VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_NOT_SIP);
}

static void test_verdict_unchecked_header_is_ignored(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_config_headers(&cfg, "ruri,to,pai", NULL, 0), 0);
	assert_int_equal(cfg.headers, (1u << SIP_HDR_RURI) | (1u << SIP_HDR_TO) | (1u << SIP_HDR_PAI));
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0312345678", NULL), &v),
			 VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_NO_MATCH);
}

static void test_verdict_config_headers_names_bad_token(void **state)
{
	struct verdict_config cfg = { .headers = 5 };
	char err[160];

	(void)state;
	assert_int_equal(verdict_config_headers(&cfg, "from,via", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "\"via\""));
	assert_int_equal(cfg.headers, 5);
	assert_int_equal(verdict_config_headers(&cfg, "all", err, sizeof(err)), 0);
	assert_int_equal(cfg.headers, VERDICT_HEADERS_ALL);
}

/* Thirty unlisted PAI entries ahead of a listed From don't hide it. */
static void test_verdict_pai_flood_cannot_hide_from(void **state)
{
	static char flood[2048];
	struct verdict_config cfg;
	struct verdict v;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(flood + n, sizeof(flood) - n,
				      "P-Asserted-Identity: <sip:03000000%02d@x>\r\n", i);
	snprintf(msgbuf, sizeof(msgbuf),
		 "INVITE sip:0311112222@example.net SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
		 "%s"
		 "From: <sip:03-1234-5678@192.0.2.1>;tag=1\r\n"
		 "To: <sip:0311112222@example.net>\r\n"
		 "Call-ID: flood@pc33\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 flood);
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, msgbuf, &v), VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_FROM);
	assert_string_equal(v.number.digits, LISTED_FIXED);
}

static void test_verdict_bulk_agrees_with_single(void **state)
{
	static char bufs[4][4096];
	const char *texts[4];
	struct sip_msg msg[4];
	const struct sip_msg *mp[4];
	int rc[4];
	struct verdict_config cfg;
	struct verdict vb[4], vs;

	(void)state;
	verdict_config_default(&cfg);
	texts[0] = strcpy(bufs[0], invite("0311112222", NULL, "0312345678", NULL));
	texts[1] = strcpy(bufs[1], invite("0311112222", NULL, "0311113333", NULL));
	texts[2] = strcpy(bufs[2], invite("110", NULL, "0312345678", NULL));
	texts[3] = strcpy(bufs[3], invite("050-1234-5678", NULL, "0311113333", NULL));
	for (int i = 0; i < 4; i++) {
		rc[i] = sip_scan(texts[i], strlen(texts[i]), &msg[i]);
		mp[i] = &msg[i];
	}
	assert_int_equal(verdict_decide_bulk(&cfg, trie, rc, mp, 4, vb), 2);
	for (int i = 0; i < 4; i++) {
		verdict_decide(&cfg, trie, rc[i], &msg[i], &vs);
		assert_int_equal(vb[i].action, vs.action);
		assert_int_equal(vb[i].reason, vs.reason);
		assert_int_equal(vb[i].hdr, vs.hdr);
	}
	assert_int_equal(vb[0].action, VERDICT_BLOCK);
	assert_int_equal(vb[1].action, VERDICT_PASS);
	assert_int_equal(vb[2].reason, VERDICT_R_EMERGENCY);
	assert_int_equal(vb[3].hdr, SIP_HDR_RURI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_blocks_listed_caller_in_from),
		cmocka_unit_test(test_verdict_blocks_listed_callee_in_request_uri),
		cmocka_unit_test(test_verdict_blocks_prefix_match_in_pai),
		cmocka_unit_test(test_verdict_blocks_diversion_as_calling_side),
		cmocka_unit_test(test_verdict_emergency_callee_is_never_blocked),
		cmocka_unit_test(test_verdict_emergency_exempts_even_when_ruri_unchecked),
		cmocka_unit_test(test_verdict_unlisted_initial_invite_passes),
		cmocka_unit_test(test_verdict_in_dialog_invite_passes),
		cmocka_unit_test(test_verdict_non_invite_response_and_garbage_pass),
		cmocka_unit_test(test_verdict_unchecked_header_is_ignored),
		cmocka_unit_test(test_verdict_config_headers_names_bad_token),
		cmocka_unit_test(test_verdict_pai_flood_cannot_hide_from),
		cmocka_unit_test(test_verdict_bulk_agrees_with_single),
	};
	return cmocka_run_group_tests_name("verdict", tests, setup, teardown);
}
