#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sipreply.h"

/* The requests are built by hand from views, so these tests hold the
 * builder to its contract whatever sip_scan() does. */
static struct sip_view v(const char *s)
{
	return (struct sip_view){ s, (uint32_t)strlen(s) };
}

static void base_msg(struct sip_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->method = SIP_METHOD_INVITE;
	m->flags = SIP_F_REQUEST | SIP_F_INITIAL;
	m->n_via = 2;
	m->via[0] = v("SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport");
	m->via[1] = v("SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKnashds8;received=203.0.113.5");
	m->from = v("\"Taro\" <sip:+81312345678@example.jp;user=phone>;tag=1928301774");
	m->to = v("<sip:0312349999@example.jp>");
	m->call_id = v("a84b4c76e66710@pc33.example.jp");
	m->cseq = v("314159 INVITE");
}

static const struct sipreply_status st608 = { 608, "Rejected", "Number suspended" };

static void expect_reply(const struct sip_msg *m, const struct sipreply_status *st,
			 const char *want)
{
	char buf[2048];
	int n = sipreply_build(m, st, buf, sizeof(buf));

	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

static void test_sipreply_608_exact_bytes(void **state)
{
	struct sip_msg m;
	char tag[SIPREPLY_TAG_LEN + 1] = { 0 };
	char want[1024];

	(void)state;
	base_msg(&m);
	sipreply_tag(&m, tag);
	snprintf(want, sizeof(want),
		 "SIP/2.0 608 Rejected\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKnashds8;received=203.0.113.5\r\n"
		 "From: \"Taro\" <sip:+81312345678@example.jp;user=phone>;tag=1928301774\r\n"
		 "To: <sip:0312349999@example.jp>;tag=%s\r\n"
		 "Call-ID: a84b4c76e66710@pc33.example.jp\r\n"
		 "CSeq: 314159 INVITE\r\n"
		 "Reason: SIP;cause=608;text=\"Number suspended\"\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n",
		 tag);
	expect_reply(&m, &st608, want);
}

static void test_sipreply_404_without_reason_text(void **state)
{
	struct sip_msg m;
	struct sipreply_status st = { 404, "Not Found", NULL };
	char buf[1024];
	int n;

	(void)state;
	base_msg(&m);
	m.to = v("<sip:x@y>;tag=already");
	n = sipreply_build(&m, &st, buf, sizeof(buf));
	assert_true(n > 0);
	assert_memory_equal(buf, "SIP/2.0 404 Not Found\r\n", 23);
	/* A To that has a tag is copied as is; no second tag. */
	assert_non_null(memmem(buf, (size_t)n, "\r\nTo: <sip:x@y>;tag=already\r\nCall-ID:", 37));
	assert_non_null(memmem(buf, (size_t)n, "\r\nReason: SIP;cause=404\r\nContent-Length: 0\r\n\r\n",
			       46));
	assert_int_equal(memcmp(buf + n - 4, "\r\n\r\n", 4), 0);
}

static void test_sipreply_tag_is_hex_of_callid_and_from_tag(void **state)
{
	struct sip_msg m;
	char tag[SIPREPLY_TAG_LEN + 1] = { 0 };

	(void)state;
	base_msg(&m);
	sipreply_tag(&m, tag);
	/* FNV-1a 64 of "a84b4c76e66710@pc33.example.jp\n1928301774",
	 * computed independently in Python. */
	assert_string_equal(tag, "f268188ea90bef98");
}

static void test_sipreply_tag_same_for_retransmission(void **state)
{
	struct sip_msg a, b;
	char ta[SIPREPLY_TAG_LEN], tb[SIPREPLY_TAG_LEN];

	(void)state;
	base_msg(&a);
	base_msg(&b);
	/* A retransmission through another proxy: other Vias, same dialog ids. */
	b.n_via = 1;
	b.via[0] = v("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKother");
	sipreply_tag(&a, ta);
	sipreply_tag(&b, tb);
	assert_memory_equal(ta, tb, SIPREPLY_TAG_LEN);
}

static void test_sipreply_tag_differs_by_from_tag(void **state)
{
	struct sip_msg a, b;
	char ta[SIPREPLY_TAG_LEN], tb[SIPREPLY_TAG_LEN];

	(void)state;
	base_msg(&a);
	base_msg(&b);
	b.from = v("\"Taro\" <sip:+81312345678@example.jp;user=phone>;tag=1928301775");
	sipreply_tag(&a, ta);
	sipreply_tag(&b, tb);
	assert_memory_not_equal(ta, tb, SIPREPLY_TAG_LEN);
}

static void test_sipreply_hdr_param_skips_uri_params(void **state)
{
	struct sip_view val;

	(void)state;
	/* ;tag inside <...> and inside the quoted name belong to neither. */
	assert_int_equal(sipreply_hdr_param(v("\"a;tag=q\" <sip:u@h;tag=uri>"), "tag", &val), 0);
	assert_int_equal(sipreply_hdr_param(v("\"a\\\";tag=q\" <sip:u@h>; TAG = abc ;x"), "tag",
					    &val), 1);
	assert_int_equal(val.len, 3);
	assert_memory_equal(val.p, "abc", 3);
	/* addr-spec form: the first ';' starts header parameters. */
	assert_int_equal(sipreply_hdr_param(v("sip:u@h;tag=zz"), "tag", &val), 1);
	assert_memory_equal(val.p, "zz", 2);
	assert_int_equal(val.len, 2);
	/* A '<' never closed: everything after it is inside the URI. */
	assert_int_equal(sipreply_hdr_param(v("<sip:u@h;tag=x"), "tag", &val), 0);
	assert_int_equal(sipreply_hdr_param(v("<sip:u@h>;tag=x;y"), "tag", &val), 1);
	assert_int_equal(val.len, 1);
	assert_memory_equal(val.p, "x", 1);
}

static void test_sipreply_unfolds_folded_values(void **state)
{
	struct sip_msg m;
	char buf[1024];
	int n;

	(void)state;
	base_msg(&m);
	m.n_via = 1;
	m.via[0] = v("SIP/2.0/UDP 192.0.2.10\r\n ;branch=z9hG4bKx");
	m.cseq = v("1\n\tINVITE");
	n = sipreply_build(&m, &st608, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(memmem(buf, (size_t)n, "\r\nVia: SIP/2.0/UDP 192.0.2.10 ;branch=z9hG4bKx\r\n",
			       47));
	assert_non_null(memmem(buf, (size_t)n, "\r\nCSeq: 1 INVITE\r\n", 18));
}

/* A line break in a copied value that is not a fold (CRLF or LF, then SP
 * or HT) would inject a header: some parsers also end a line at a bare
 * CR. */
static void test_sipreply_rejects_header_injection(void **state)
{
	static const struct {
		enum { CALL_ID, CSEQ, FROM } field;
		const char *value;
	} cases[] = {
		{ CALL_ID, "abc\r\nX-Evil: 1" },
		{ CSEQ, "1 INVITE\rX-Evil: 1" },
		{ CALL_ID, "abc\r\tdef" }, /* a bare CR is no fold, even before a blank */
		{ FROM, "<sip:u@h>;tag=a\n" },
	};
	struct sip_msg m;
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sip_view *f[] = { &m.call_id, &m.cseq, &m.from };

		base_msg(&m);
		*f[cases[i].field] = v(cases[i].value);
		assert_int_equal(sipreply_build(&m, &st608, buf, sizeof(buf)), -EBADMSG);
	}
}

static void test_sipreply_missing_headers_is_ebadmsg(void **state)
{
	struct sip_msg m;
	char buf[1024];

	(void)state;
	base_msg(&m);
	m.n_via = 0;
	assert_int_equal(sipreply_build(&m, &st608, buf, sizeof(buf)), -EBADMSG);
	base_msg(&m);
	m.cseq.len = 0;
	assert_int_equal(sipreply_build(&m, &st608, buf, sizeof(buf)), -EBADMSG);
	base_msg(&m);
	m.call_id.len = 0;
	assert_int_equal(sipreply_build(&m, &st608, buf, sizeof(buf)), -EBADMSG);
}

/* Vias past SIP_MAX_VIA were not kept: a reply with fewer would strand
 * the response at the hop whose Via is missing. */
static void test_sipreply_truncated_vias_is_e2big(void **state)
{
	struct sip_msg m;
	char buf[1024];

	(void)state;
	base_msg(&m);
	m.flags |= SIP_F_VIA_TRUNCATED;
	assert_int_equal(sipreply_build(&m, &st608, buf, sizeof(buf)), -E2BIG);
}

static void test_sipreply_bad_status_is_einval(void **state)
{
	struct sip_msg m;
	char buf[1024];
	struct sipreply_status s1 = { 200, "OK", NULL };
	struct sipreply_status s2 = { 608, "Rejected", "say \"no\"" };
	struct sipreply_status s3 = { 608, "Rej\r\nX: y", NULL };

	(void)state;
	base_msg(&m);
	assert_int_equal(sipreply_build(&m, &s1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sipreply_build(&m, &s2, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sipreply_build(&m, &s3, buf, sizeof(buf)), -EINVAL);
}

static void test_sipreply_small_buffer_is_enospc(void **state)
{
	struct sip_msg m;
	char buf[1024];
	int full;

	(void)state;
	base_msg(&m);
	full = sipreply_build(&m, &st608, buf, sizeof(buf));
	assert_true(full > 0);
	assert_int_equal(sipreply_build(&m, &st608, buf, (size_t)full - 1), -ENOSPC);
	assert_int_equal(sipreply_build(&m, &st608, buf, (size_t)full), full);
}

static void test_sipreply_phrases(void **state)
{
	(void)state;
	assert_string_equal(sipreply_phrase(608), "Rejected");
	assert_string_equal(sipreply_phrase(404), "Not Found");
	assert_string_equal(sipreply_phrase(603), "Decline");
	assert_string_equal(sipreply_phrase(499), "Request Failure");
	assert_string_equal(sipreply_phrase(699), "Global Failure");
}

static void test_sipreply_top_via_parts(void **state)
{
	struct sip_msg m;
	struct sipreply_via tv;

	(void)state;
	base_msg(&m);
	/* Two via-parms in one line: only the first is the top Via. */
	m.via[0] = v(" SIP / 2.0 / UDP [2001:db8::1] : 5070 ; rport = 6000 ;branch=z9hG4bKa ;"
		     "received=[2001:db8::9], SIP/2.0/UDP 10.1.1.1;rport");
	assert_int_equal(sipreply_top_via(&m, &tv), 0);
	assert_int_equal(tv.transport.len, 3);
	assert_memory_equal(tv.transport.p, "UDP", 3);
	assert_int_equal(tv.host.len, 11);
	assert_memory_equal(tv.host.p, "2001:db8::1", 11);
	assert_int_equal(tv.port, 5070);
	assert_true(tv.has_rport);
	assert_int_equal(tv.rport, 6000);
	assert_int_equal(tv.branch.len, 8);
	assert_memory_equal(tv.branch.p, "z9hG4bKa", 8);
	assert_memory_equal(tv.received.p, "[2001:db8::9]", 13);
}

static void test_sipreply_top_via_malformed(void **state)
{
	struct sip_msg m;
	struct sipreply_via tv;

	(void)state;
	base_msg(&m);
	m.via[0] = v("SIP/2.0 192.0.2.1");
	assert_int_equal(sipreply_top_via(&m, &tv), -EBADMSG);
	m.via[0] = v("SIP/2.0/UDP 192.0.2.1:99999");
	assert_int_equal(sipreply_top_via(&m, &tv), -EBADMSG);
	m.via[0] = v("SIP/2.0/UDP ");
	assert_int_equal(sipreply_top_via(&m, &tv), -EBADMSG);
	m.n_via = 0;
	assert_int_equal(sipreply_top_via(&m, &tv), -EBADMSG);
}

static const uint8_t src4[4] = { 192, 0, 2, 77 };

static void test_sipreply_dest_empty_rport_uses_source_port(void **state)
{
	struct sip_msg m;
	struct sipreply_dest d;

	(void)state;
	base_msg(&m); /* top Via: 192.0.2.10:5062;rport */
	assert_int_equal(sipreply_dest(&m, 4, src4, 40000, &d), 0);
	assert_int_equal(d.ip_version, 4);
	assert_memory_equal(d.addr, src4, 4);
	assert_int_equal(d.port, 40000);
}

static void test_sipreply_dest_sent_by_port_without_rport(void **state)
{
	struct sip_msg m;
	struct sipreply_dest d;

	(void)state;
	base_msg(&m);
	m.via[0] = v("SIP/2.0/UDP 192.0.2.77:5070;branch=z9hG4bKa");
	assert_int_equal(sipreply_dest(&m, 4, src4, 40000, &d), 0);
	assert_int_equal(d.port, 5070);
	m.via[0] = v("SIP/2.0/UDP host.example.jp;branch=z9hG4bKa");
	assert_int_equal(sipreply_dest(&m, 4, src4, 40000, &d), 0);
	assert_int_equal(d.port, 5060);
	assert_memory_equal(d.addr, src4, 4);
}

static void test_sipreply_dest_received_and_rport_value(void **state)
{
	struct sip_msg m;
	struct sipreply_dest d;
	const uint8_t want[4] = { 203, 0, 113, 5 };

	(void)state;
	base_msg(&m);
	m.via[0] = v("SIP/2.0/UDP 10.0.0.1:5060;received=203.0.113.5;rport=7000");
	assert_int_equal(sipreply_dest(&m, 4, src4, 40000, &d), 0);
	assert_memory_equal(d.addr, want, 4);
	assert_int_equal(d.port, 7000);
	/* received= of the other IP version cannot be reached from here. */
	m.via[0] = v("SIP/2.0/UDP 10.0.0.1:5060;received=2001:db8::1");
	assert_int_equal(sipreply_dest(&m, 4, src4, 40000, &d), 0);
	assert_memory_equal(d.addr, src4, 4);
	assert_int_equal(d.port, 5060);
}

static void test_sipreply_dest_ipv6(void **state)
{
	struct sip_msg m;
	struct sipreply_dest d;
	const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42 };
	const uint8_t rcv6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x09 };

	(void)state;
	base_msg(&m);
	m.via[0] = v("SIP/2.0/UDP [2001:db8::42];branch=z9hG4bKa;rport");
	assert_int_equal(sipreply_dest(&m, 6, src6, 5099, &d), 0);
	assert_int_equal(d.ip_version, 6);
	assert_memory_equal(d.addr, src6, 16);
	assert_int_equal(d.port, 5099);
	m.via[0] = v("SIP/2.0/UDP [2001:db8::42];received=[2001:db8::9]");
	assert_int_equal(sipreply_dest(&m, 6, src6, 5099, &d), 0);
	assert_memory_equal(d.addr, rcv6, 16);
	assert_int_equal(d.port, 5060);
	assert_int_equal(sipreply_dest(&m, 5, src6, 5099, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sipreply_608_exact_bytes),
		cmocka_unit_test(test_sipreply_404_without_reason_text),
		cmocka_unit_test(test_sipreply_tag_is_hex_of_callid_and_from_tag),
		cmocka_unit_test(test_sipreply_tag_same_for_retransmission),
		cmocka_unit_test(test_sipreply_tag_differs_by_from_tag),
		cmocka_unit_test(test_sipreply_hdr_param_skips_uri_params),
		cmocka_unit_test(test_sipreply_unfolds_folded_values),
		cmocka_unit_test(test_sipreply_rejects_header_injection),
		cmocka_unit_test(test_sipreply_missing_headers_is_ebadmsg),
		cmocka_unit_test(test_sipreply_truncated_vias_is_e2big),
		cmocka_unit_test(test_sipreply_bad_status_is_einval),
		cmocka_unit_test(test_sipreply_small_buffer_is_enospc),
		cmocka_unit_test(test_sipreply_phrases),
		cmocka_unit_test(test_sipreply_top_via_parts),
		cmocka_unit_test(test_sipreply_top_via_malformed),
		cmocka_unit_test(test_sipreply_dest_empty_rport_uses_source_port),
		cmocka_unit_test(test_sipreply_dest_sent_by_port_without_rport),
		cmocka_unit_test(test_sipreply_dest_received_and_rport_value),
		cmocka_unit_test(test_sipreply_dest_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
