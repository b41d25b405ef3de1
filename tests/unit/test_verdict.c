#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* Thirty "name: <sip:03000000NN@x>params" lines appended to b at n;
 * returns the new length. */
static size_t add_flood(char *b, size_t cap, size_t n, const char *name, const char *params)
{
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s: <sip:03000000%02d@x>%s\r\n", name, i,
				      params);
	return n;
}

/* Thirty unlisted PAI entries ahead of a listed From don't hide it. */
static void test_verdict_pai_flood_cannot_hide_from(void **state)
{
	static char flood[2048];
	struct verdict_config cfg;
	struct verdict v;
	(void)state;
	add_flood(flood, sizeof(flood), 0, "P-Asserted-Identity", "");
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

/* List headers fill the URI table only so far: a listed number in a PAI
 * pushed out by a Diversion flood goes unchecked, and the verdict says so
 * (too-many-uris) instead of no-match; a match among those kept blocks. */
static void test_verdict_list_flood_is_too_many_uris(void **state)
{
	static char flood[2048];
	struct verdict_config cfg;
	struct verdict v;
	size_t n;

	(void)state;
	n = add_flood(flood, sizeof(flood), 0, "Diversion", ";reason=unconditional");
	snprintf(flood + n, sizeof(flood) - n, "P-Asserted-Identity: <sip:+%s@x>\r\n",
		 LISTED_FIXED);
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0399990000", flood), &v),
			 VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_TOO_MANY_URIS);
	assert_string_equal(verdict_reason_name(v.reason), "too-many-uris");
	/* the listed number among the kept entries still blocks */
	n = (size_t)snprintf(flood, sizeof(flood), "Diversion: <sip:+%s@x>\r\n", LISTED_FIXED);
	add_flood(flood, sizeof(flood), n, "Diversion", "");
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0399990000", flood), &v),
			 VERDICT_BLOCK);
	assert_int_equal(v.reason, VERDICT_R_MATCH);
	assert_int_equal(v.hdr, SIP_HDR_DIVERSION);
	/* the same PAI without the flood blocks: the flood is what hid it */
	snprintf(flood, sizeof(flood), "P-Asserted-Identity: <sip:+%s@x>\r\n", LISTED_FIXED);
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0399990000", flood), &v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_PAI);
	/* no flood: no-match */
	assert_int_equal(decide(&cfg, invite("0311112222", NULL, "0399990000", NULL), &v),
			 VERDICT_PASS);
	assert_int_equal(v.reason, VERDICT_R_NO_MATCH);
}

/* A user part without escapes is parsed where it lies, one with escapes is
 * decoded first: the same numbers either way, up to the first ';', and a
 * number text over 64 bytes is no number on either path. */
static void test_verdict_escaped_and_parameterised_user_parts(void **state)
{
	static const struct {
		const char *from;
		int block;
	} cases[] = {
		{ "03-1234-5678;npdi;rn=+81312340000", 1 },
		{ "%30%33-1234-5678", 1 },
		{ "03%2D1234%2D5678;npdi", 1 },
		{ "%2B81312345678", 1 },
		{ "+81-3-1234-5678;isub=12", 1 },
		{ "0312345678;", 1 },
		{ "0312345678%3B", 0 },
		{ "0312345678%3", 0 },
		{ "03-1234-5679", 0 },
		{ "anonymous", 0 },
	};
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int a = decide(&cfg, invite("0311112222", NULL, cases[i].from, NULL), &v);

		if (a != (cases[i].block ? VERDICT_BLOCK : VERDICT_PASS))
			print_error("From user \"%s\": %s\n", cases[i].from,
				    a == VERDICT_BLOCK ? "blocked" : "passed");
		assert_int_equal(a, cases[i].block ? VERDICT_BLOCK : VERDICT_PASS);
		if (cases[i].block) {
			assert_int_equal(v.hdr, SIP_HDR_FROM);
			assert_string_equal(v.number.digits, LISTED_FIXED);
		}
	}
	/* Number text of 64 bytes is read; of 65, as sip_uri_number_text()
	 * cannot hold it, no number. */
	for (size_t len = 64; len <= 65; len++) {
		char user[80] = "03-1234-5678";

		memset(user + 12, '-', len - 12);
		user[len] = '\0';
		strcat(user, ";npdi");
		assert_int_equal(decide(&cfg, invite("0311112222", NULL, user, NULL), &v),
				 len == 64 ? VERDICT_BLOCK : VERDICT_PASS);
	}
	/* A tel: URI local to +81. */
	assert_int_equal(decide(&cfg,
				invite("0311112222", NULL, "anonymous",
				       "P-Asserted-Identity: <tel:3-1234-5678;phone-context=+81>\r\n"),
				&v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_PAI);
	assert_string_equal(v.number.digits, LISTED_FIXED);
}

/* A number already collected is not looked up again, beyond the first
 * four distinct ones too; a match reports the first URI with its number. */
static void test_verdict_repeated_number_reports_its_first_uri(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	/* URIs: 0 R-URI, 1 To, 2 From, 3-6 PAI, 7 Diversion, 8 History-Info. */
	assert_int_equal(decide(&cfg,
				invite("0311112222", NULL, "anonymous",
				       "P-Asserted-Identity: <sip:0311110001@x>, <sip:0311110002@x>,"
				       " <sip:0311110003@x>, <sip:0311110004@x>\r\n"
				       "Diversion: <sip:0312345678@x>\r\n"
				       "History-Info: <sip:03-1234-5678@x>;index=1\r\n"),
				&v),
			 VERDICT_BLOCK);
	assert_int_equal(v.uri, 7);
	assert_int_equal(v.hdr, SIP_HDR_DIVERSION);
	/* The same number twice among the first four. */
	assert_int_equal(decide(&cfg,
				invite("0311112222", NULL, "+81-3-1234-5678",
				       "P-Asserted-Identity: <sip:0312345678@x>\r\n"),
				&v),
			 VERDICT_BLOCK);
	assert_int_equal(v.uri, 2);
	assert_int_equal(v.hdr, SIP_HDR_FROM);
}

/* The escape flag only saves work: a '%' in a user part is decoded even
 * when the flag is clear. */
static void test_verdict_escape_is_decoded_whatever_the_flag(void **state)
{
	const char *m = invite("0311112222", NULL, "%30312345678;npdi", NULL);
	struct verdict_config cfg;
	struct sip_msg msg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(sip_scan(m, strlen(m), &msg), 0);
	assert_int_equal(msg.uris[2].hdr, SIP_HDR_FROM);
	msg.uris[2].flags &= (uint8_t)~SIP_URI_ESCAPED;
	assert_int_equal(verdict_decide(&cfg, trie, 0, &msg, &v), VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_FROM);
	assert_string_equal(v.number.digits, LISTED_FIXED);
}

/* 110 on the calling side exempts nothing. */
static void test_verdict_emergency_caller_does_not_exempt(void **state)
{
	struct verdict_config cfg;
	struct verdict v;

	(void)state;
	verdict_config_default(&cfg);
	assert_int_equal(decide(&cfg, invite("03-1234-5678", NULL, "110", NULL), &v),
			 VERDICT_BLOCK);
	assert_int_equal(v.hdr, SIP_HDR_RURI);
}

static void test_verdict_bulk_agrees_with_single(void **state)
{
	/* More messages than one bulk batch (32), of every kind. */
	enum { N = 40 };
	static char bufs[N][4096];
	static struct sip_msg msg[N];
	const struct sip_msg *mp[N];
	int rc[N];
	struct verdict_config cfg;
	struct verdict vb[N], vs;
	unsigned blocked = 0;

	(void)state;
	verdict_config_default(&cfg);
	for (int i = 0; i < N; i++) {
		const char *t;

		switch (i % 8) {
		case 0: t = invite("0311112222", NULL, "0312345678", NULL); break;
		case 1: t = invite("0311112222", NULL, "0311113333", NULL); break;
		case 2: t = invite("110", NULL, "0312345678", NULL); break;
		case 3: t = invite("050-1234-5678", NULL, "0311113333", NULL); break;
		case 4: t = invite("0311112222", "abc", "0312345678", NULL); break;
		case 5: t = invite("0311112222", NULL, "%30312345678", NULL); break;
		case 6:
			t = invite("0311112222", NULL, "anonymous",
				   "P-Asserted-Identity: <tel:+81-6-4000-1234>\r\n");
			break;
		default: t = "SIP/2.0 200 OK\r\n\r\n"; break;
		}
		strcpy(bufs[i], t);
		rc[i] = sip_scan(bufs[i], strlen(bufs[i]), &msg[i]);
		mp[i] = &msg[i];
	}
	for (int i = 0; i < N; i++)
		blocked += i % 8 == 0 || i % 8 == 3 || i % 8 == 5 || i % 8 == 6;
	assert_int_equal(verdict_decide_bulk(&cfg, trie, rc, mp, N, vb), blocked);
	for (int i = 0; i < N; i++) {
		verdict_decide(&cfg, trie, rc[i], &msg[i], &vs);
		assert_int_equal(vb[i].action, vs.action);
		assert_int_equal(vb[i].reason, vs.reason);
		assert_int_equal(vb[i].side, vs.side);
		assert_int_equal(vb[i].hdr, vs.hdr);
		assert_int_equal(vb[i].uri, vs.uri);
		assert_memory_equal(&vb[i].number, &vs.number, sizeof(vs.number));
		assert_int_equal(vb[i].match.value, vs.match.value);
		assert_int_equal(vb[i].match.kind, vs.match.kind);
		assert_int_equal(vb[i].match.len, vs.match.len);
	}
	assert_int_equal(vb[0].action, VERDICT_BLOCK);
	assert_int_equal(vb[1].action, VERDICT_PASS);
	assert_int_equal(vb[2].reason, VERDICT_R_EMERGENCY);
	assert_int_equal(vb[3].hdr, SIP_HDR_RURI);
	assert_int_equal(vb[4].reason, VERDICT_R_IN_DIALOG);
	assert_int_equal(vb[37].hdr, SIP_HDR_FROM);
	assert_int_equal(vb[38].hdr, SIP_HDR_PAI);
	assert_int_equal(vb[39].reason, VERDICT_R_RESPONSE);
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
		cmocka_unit_test(test_verdict_list_flood_is_too_many_uris),
		cmocka_unit_test(test_verdict_escaped_and_parameterised_user_parts),
		cmocka_unit_test(test_verdict_repeated_number_reports_its_first_uri),
		cmocka_unit_test(test_verdict_escape_is_decoded_whatever_the_flag),
		cmocka_unit_test(test_verdict_emergency_caller_does_not_exempt),
		cmocka_unit_test(test_verdict_bulk_agrees_with_single),
	};
	return cmocka_run_group_tests_name("verdict", tests, setup, teardown);
}
