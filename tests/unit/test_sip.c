/* sip_scan() and sip_uri_number_text() over hand-written messages and the
 * RFC 4475 torture messages.  Every scan runs on a heap copy of exactly the
 * message's bytes, so under ASan any read past the end fails the test. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sip.h"

#define VIA1 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
#define TAIL "Call-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\n" VIA1 \
	"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
#define RLINE "INVITE sip:0312345678@ims.example.jp SIP/2.0\r\n"
#define FROM1 "From: <sip:0501234567@example.jp>;tag=f1\r\n"
#define TO1 "To: <sip:0312345678@ims.example.jp>\r\n"

/* Heap copies made by scan(), freed after each test. */
static char *held[64];
static unsigned n_held;

static int free_held(void **state)
{
	(void)state;
	while (n_held)
		free(held[--n_held]);
	return 0;
}

static int scan_n(const void *msg, size_t len, struct sip_msg *m)
{
	char *b = malloc(len ? len : 1);

	assert_non_null(b);
	assert_true(n_held < sizeof(held) / sizeof(held[0]));
	held[n_held++] = b;
	memcpy(b, msg, len);
	return sip_scan(b, len, m);
}

static int scan(const char *msg, struct sip_msg *m)
{
	return scan_n(msg, strlen(msg), m);
}

static void assert_view_n(struct sip_view v, const char *s, size_t n)
{
	if (v.len != n)
		fail_msg("view '%.*s' (len %u), want '%.*s' (len %zu)", (int)v.len, v.p, v.len,
			 (int)n, s, n);
	if (n)
		assert_memory_equal(v.p, s, n);
}

static void assert_view(struct sip_view v, const char *s)
{
	assert_view_n(v, s, strlen(s));
}

static void assert_text_n(const struct sip_uri *u, const char *want, size_t n)
{
	char buf[512];
	int len = sip_uri_number_text(u, buf, sizeof(buf));

	if (len < 0 || (size_t)len != n || memcmp(buf, want, n) != 0)
		fail_msg("number text of '%.*s' is %d '%.*s', want '%.*s'", (int)u->uri.len,
			 u->uri.p, len, len < 0 ? 0 : len, buf, (int)n, want);
}

static void assert_text(const struct sip_uri *u, const char *want)
{
	assert_text_n(u, want, strlen(want));
}

/* uris[i] sits in header h, is exactly uri, and carries number text. */
static void assert_uri(const struct sip_msg *m, unsigned i, enum sip_hdr h, const char *uri,
		       const char *text)
{
	assert_true(i < m->n_uris);
	assert_string_equal(sip_hdr_name((enum sip_hdr)m->uris[i].hdr), sip_hdr_name(h));
	assert_view(m->uris[i].uri, uri);
	assert_text(&m->uris[i], text);
}

static void test_sip_minimal_initial_invite(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan(RLINE TO1 FROM1 TAIL, &m), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_view(m.method_name, "INVITE");
	assert_int_equal(m.flags, SIP_F_REQUEST | SIP_F_INITIAL);
	assert_int_equal(m.n_uris, 3);
	assert_uri(&m, 0, SIP_HDR_RURI, "sip:0312345678@ims.example.jp", "0312345678");
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0312345678@ims.example.jp", "0312345678");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0501234567@example.jp", "0501234567");
	assert_int_equal(m.uris[0].scheme, SIP_SCHEME_SIP);
	assert_int_equal(m.header_len, strlen(RLINE TO1 FROM1 TAIL));
}

static void test_sip_header_names_any_case(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "tO: <sip:0311112222@x>\r\nFROM: <sip:0322223333@x>;tag=1\r\n"
			  "cALL-iD: abc\r\ncseq: 2 INVITE\r\nVIA: SIP/2.0/UDP h\r\n"
			  "p-ASSERTED-identity: <sip:0333334444@x>\r\n\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.call_id, "abc");
	assert_view(m.cseq, "2 INVITE");
	assert_int_equal(m.n_via, 1);
	assert_view(m.via[0], "SIP/2.0/UDP h");
	assert_int_equal(m.n_uris, 4);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0322223333@x", "0322223333");
	assert_uri(&m, 3, SIP_HDR_PAI, "sip:0333334444@x", "0333334444");
}

/* f t i v are the compact forms we read; m l c are known and must not be
 * taken for anything (a Contact number is not a checked number). */
static void test_sip_compact_form_headers(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "t: <sip:0311112222@x>\r\nf: sip:0322223333@x;tag=9\r\n"
			  "i: compact-id@x\r\nCSeq: 7 INVITE\r\nv: SIP/2.0/UDP a\r\nV: SIP/2.0/TCP b\r\n"
			  "m: <sip:0399998888@contact>\r\nc: application/sdp\r\nl: 4\r\n\r\nv=0\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_true(m.flags & SIP_F_HAS_BODY);
	assert_view(m.call_id, "compact-id@x");
	assert_view(m.to, "<sip:0311112222@x>");
	assert_view(m.from, "sip:0322223333@x;tag=9");
	assert_int_equal(m.n_via, 2);
	assert_view(m.via[0], "SIP/2.0/UDP a");
	assert_view(m.via[1], "SIP/2.0/TCP b");
	assert_int_equal(m.n_uris, 3);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0322223333@x", "0322223333");
	assert_int_equal(m.header_len, strlen(msg) - 4);
}

/* Unknown one-letter names and names that only share a hash slot with a
 * known one must be ignored. */
static void test_sip_unknown_header_names_ignored(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1 "x: <sip:0399990000@x>\r\nTx: <sip:0399990001@x>\r\n"
			  "P-Asserted-Identityy: <sip:0399990002@x>\r\nFrom-X: <sip:0399990003@x>\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 3);
}

static void test_sip_whitespace_around_colon(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To   :   <sip:0311112222@x>  \r\nFrom\t:\t<sip:0322223333@x>;tag=a\r\n"
			  "Call-ID :c9\r\nCSeq:1 INVITE\r\nVia  :SIP/2.0/UDP h\r\n\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.to, "<sip:0311112222@x>");
	assert_view(m.from, "<sip:0322223333@x>;tag=a");
	assert_view(m.call_id, "c9");
	assert_view(m.via[0], "SIP/2.0/UDP h");
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
}

/* The value bounds of every usual and unusual LWS shape around ':' and
 * before the line end: none, one SP or HT, several, a fold right after
 * the ':', and LWS before the line's end, on CRLF and bare-LF lines.  (A CR
 * that no LF follows ends a line: see test_sip_lone_cr_ends_a_line.) */
static void test_sip_value_bounds_every_lws_shape(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To:<sip:0311112222@x>\r\n"
			  "From:\t <sip:0322223333@x>;tag=a \t\r\n"
			  "Call-ID:  c9 \t\r\n"
			  "CSeq: \r\n 1 INVITE\n"
			  "Via:\tSIP/2.0/UDP h\n"
			  "v :  SIP/2.0/UDP g \r\n"
			  "\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.to, "<sip:0311112222@x>");
	assert_view(m.from, "<sip:0322223333@x>;tag=a");
	assert_view(m.call_id, "c9");
	assert_view(m.cseq, "1 INVITE");
	assert_int_equal(m.n_via, 2);
	assert_view(m.via[0], "SIP/2.0/UDP h");
	assert_view(m.via[1], "SIP/2.0/UDP g");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0322223333@x", "0322223333");
}

/* A header whose last line, or whose fold, has no '\n' is a truncated
 * message, whatever the line holds. */
/* A last line without its '\n' ends with the buffer, and so do the
 * headers (pjsip reads a datagram so): every byte of it is inside the
 * message, none past it is read. */
static void test_sip_last_line_without_lf(void **state)
{
	static const char *const tails[] = { "Subject: x", "Subject: x\r\n y", "Subject: x\r\n",
					     ":", " x" };
	char msg[512];
	struct sip_msg m;
#define HEAD RLINE TO1 FROM1 "Call-ID: c1\r\nCSeq: 1 INVITE\r\n" VIA1

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(msg, sizeof(msg), "%s%s", HEAD, tails[i]);
		assert_int_equal(scan(msg, &m), 0);
		assert_true(m.flags & SIP_F_NO_EMPTY_LINE);
		assert_int_equal(m.header_len, strlen(msg));
		assert_int_equal(m.n_uris, 3);
	}
	/* " x" continues the Via line */
	assert_view(m.via[0], "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n x");
	assert_int_equal(scan(HEAD "\r\n", &m), 0);
	assert_false(m.flags & SIP_F_NO_EMPTY_LINE);
	assert_int_equal(scan(HEAD "\n", &m), 0);
	assert_false(m.flags & SIP_F_NO_EMPTY_LINE);
	/* a last CR alone is a line end: the empty line */
	assert_int_equal(scan(HEAD "\r", &m), 0);
	assert_false(m.flags & SIP_F_NO_EMPTY_LINE);
	assert_int_equal(m.header_len, strlen(HEAD "\r"));
#undef HEAD
}

/* A To tag on a continuation line still makes the INVITE in-dialog, and a
 * PAI entry after a fold is still found; folds may use bare LF. */
static void test_sip_folded_continuation_lines(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To:\r\n <sip:0311112222@x>\r\n\t;\r\n  tag = t77\r\n" FROM1
			  "P-Asserted-Identity: <sip:0322223333@x>,\n <tel:+81333334444>\r\n"
			  "Call-ID:\r\n  fold-id\r\n" "CSeq: 1\r\n INVITE\r\n" VIA1 "\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_false(m.flags & SIP_F_INITIAL);
	assert_view(m.to, "<sip:0311112222@x>\r\n\t;\r\n  tag = t77");
	assert_view(m.call_id, "fold-id");
	assert_view(m.cseq, "1\r\n INVITE");
	assert_int_equal(m.n_uris, 5);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 3, SIP_HDR_PAI, "sip:0322223333@x", "0322223333");
	assert_uri(&m, 4, SIP_HDR_PAI, "tel:+81333334444", "+81333334444");
}

static void test_sip_quoted_display_name_utf8(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To: \"\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e\" <sip:0311112222@x>\r\n"
			  "From: \"\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88<>;,\"<sip:0322223333@x>;tag=1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 3);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0322223333@x", "0322223333");
}

/* An escaped quote does not end the display name: the fake URI inside it
 * is never taken, and a comma inside it never splits a PAI list. */
static void test_sip_quoted_display_name_escaped_quotes(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To: \"a \\\"<sip:0399999999@fake>\\\" \\\\\" <sip:0311112222@x>\r\n" FROM1
			  "P-Asserted-Identity: \"Doe, \\\"J\\\" <sip:0388888888@fake>\" <sip:0322223333@x>, "
			  "\"x,y\" <tel:0333334444>\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_int_equal(m.n_uris, 5);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 3, SIP_HDR_PAI, "sip:0322223333@x", "0322223333");
	assert_uri(&m, 4, SIP_HDR_PAI, "tel:0333334444", "0333334444");
	assert_false(m.flags & SIP_F_BAD_ENTRY);
}

/* Token display names, with and without LWS before '<'. */
static void test_sip_unquoted_display_name(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To: Taro Yamada <sip:0311112222@x>\r\n"
			  "From: caller<sip:0322223333@x>;tag=1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0322223333@x", "0322223333");
}

/* Without <> the parameters after the host are header parameters: ;tag
 * there makes the INVITE in-dialog, and ;user=phone / ;phone-context= are
 * still honoured for the number. */
static void test_sip_bare_addr_spec(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To: sip:0311112222@x;user=phone;tag=zz\r\n"
			  "From: tel:12345678;phone-context=+8133;tag=1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_false(m.flags & SIP_F_INITIAL);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@x", "0311112222");
	assert_int_equal(m.uris[1].flags, SIP_URI_USER_PHONE);
	assert_uri(&m, 2, SIP_HDR_FROM, "tel:12345678", "12345678");
	assert_int_equal(m.uris[2].scheme, SIP_SCHEME_TEL);
	assert_view(m.uris[2].phone_context, "+8133");
}

static void test_sip_sip_sips_tel_schemes(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sips:+81312345678@x SIP/2.0\r\n"
			  "To: <TEL:+81-3-1234-5678>\r\nFrom: <SIP:alice:secret@x>;tag=1\r\n"
			  "Diversion: <http://x/y>\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 4);
	assert_int_equal(m.uris[0].scheme, SIP_SCHEME_SIPS);
	assert_uri(&m, 0, SIP_HDR_RURI, "sips:+81312345678@x", "+81312345678");
	assert_int_equal(m.uris[1].scheme, SIP_SCHEME_TEL);
	assert_uri(&m, 1, SIP_HDR_TO, "TEL:+81-3-1234-5678", "+81-3-1234-5678");
	assert_int_equal(m.uris[2].scheme, SIP_SCHEME_SIP);
	assert_uri(&m, 2, SIP_HDR_FROM, "SIP:alice:secret@x", "alice"); /* password dropped */
	assert_int_equal(m.uris[3].scheme, SIP_SCHEME_OTHER);
	assert_uri(&m, 3, SIP_HDR_DIVERSION, "http://x/y", "");
	assert_int_equal(m.uris[3].user.len, 0);
}

/* ;npdi ;rn= ;isub= ride in the user part of a sip URI and after the number
 * of a tel URI; the number text stops before them. */
static void test_sip_user_parameters_npdi_rn_isub(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sip:0312345678;npdi;rn=+81312340000;isub=12@x;user=phone SIP/2.0\r\n"
			  "To: <tel:+81312345678;npdi;rn=+81312340000;isub=12>\r\n" FROM1 TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.uris[0].user, "0312345678;npdi;rn=+81312340000;isub=12");
	assert_text(&m.uris[0], "0312345678");
	assert_int_equal(m.uris[0].flags, SIP_URI_USER_PHONE);
	assert_view(m.uris[1].user, "+81312345678");
	assert_text(&m.uris[1], "+81312345678");
	assert_int_equal(m.uris[1].flags, 0);
	assert_int_equal(m.uris[1].phone_context.len, 0);
}

static void test_sip_user_phone_flag(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sip:0312345678@x;USER=Phone SIP/2.0\r\n"
			  "To: <sip:0312345678@x;user=ip>\r\n" FROM1 TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.uris[0].flags, SIP_URI_USER_PHONE);
	assert_int_equal(m.uris[1].flags, 0);
	assert_int_equal(m.uris[2].flags, 0);
}

static void test_sip_phone_context_tel_and_sip_user(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sip:0312345678;phone-context=+81@ims.example.jp;user=phone SIP/2.0\r\n"
			  "To: <tel:12345678;phone-context=+813>\r\n"
			  "From: <sip:5678;Phone-Context=ims.example.jp@x>;tag=1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.uris[0].phone_context, "+81");
	assert_text(&m.uris[0], "0312345678");
	assert_view(m.uris[1].phone_context, "+813");
	assert_text(&m.uris[1], "12345678");
	assert_view(m.uris[2].phone_context, "ims.example.jp");
	assert_text(&m.uris[2], "5678");
}

static void test_sip_percent_escapes_decoded(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sip:%2B81%33%312345678@x SIP/2.0\r\n"
			  "To: <sip:03%2d1234%2D5678@x>\r\n" FROM1 TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.uris[0].flags & SIP_URI_ESCAPED);
	assert_text(&m.uris[0], "+81312345678");
	assert_text(&m.uris[1], "03-1234-5678");
	assert_false(m.uris[2].flags & SIP_URI_ESCAPED);
}

/* %00 becomes a NUL byte inside the text; nothing after it is lost. */
static void test_sip_percent_00_never_truncates(void **state)
{
	struct sip_msg m;
	const char *msg = "INVITE sip:03%0012345678@x SIP/2.0\r\n" TO1 FROM1 TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_text_n(&m.uris[0], "03\0" "12345678", 11);
}

static void test_sip_uri_number_text_errors(void **state)
{
	struct sip_msg m;
	char buf[8];
	const char *msg = "INVITE sip:03%G1@x SIP/2.0\r\nTo: <sip:0%4@x>\r\n"
			  "From: <sip:0312345678@x>;tag=1\r\nP-Asserted-Identity: <sip:%;x@y>\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(sip_uri_number_text(&m.uris[0], buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_uri_number_text(&m.uris[1], buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_uri_number_text(&m.uris[2], buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(sip_uri_number_text(&m.uris[2], buf, 0), -ENOSPC);
	assert_int_equal(sip_uri_number_text(&m.uris[3], buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sip_uri_number_text(NULL, buf, sizeof(buf)), -EINVAL);
}

static const char *to_lf(const char *crlf, char *out, size_t cap)
{
	size_t n = 0;

	for (; *crlf; crlf++)
		if (*crlf != '\r') {
			assert_true(n + 1 < cap);
			out[n++] = *crlf;
		}
	out[n] = 0;
	return out;
}

/* The same message with CRLF and with bare LF line ends scans the same. */
/* Read as lenient receivers read them (pjsip): CR and LF before the
 * start line are skipped; header_len still counts from the buffer. */
static void test_sip_leading_line_ends_skipped(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan("\r\n\r\n" RLINE TO1 FROM1 TAIL, &m), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_int_equal(m.n_uris, 3);
	assert_view(m.uris[0].user, "0312345678");
	assert_int_equal(m.header_len, strlen("\r\n\r\n" RLINE TO1 FROM1 TAIL));
	assert_view(m.method_name, "INVITE");
	assert_int_equal(scan("\n" RLINE TO1 FROM1 TAIL, &m), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_int_equal(scan("\r\n\n\r", &m), -EBADMSG);
	assert_int_equal(scan(" " RLINE TO1 FROM1 TAIL, &m), -EBADMSG);
}

/* A datagram's headers may end with it, without the empty line: pjsip
 * and Kamailio act on such an INVITE, so its numbers are read. */
static void test_sip_headers_ending_with_buffer(void **state)
{
	static const char pai[] = "P-Asserted-Identity: <sip:0611112222@x>";
	char msg[1024];
	struct sip_msg m;

	(void)state;
	/* every line ended, the empty line missing */
	snprintf(msg, sizeof(msg), "%s%s%s%s%s\r\n", RLINE, TO1, FROM1,
		 "Call-ID: c1@192.0.2.1\r\nCSeq: 1 INVITE\r\n" VIA1, pai);
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_NO_EMPTY_LINE);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_false(m.flags & SIP_F_HAS_BODY);
	assert_int_equal(m.header_len, strlen(msg));
	assert_int_equal(m.n_uris, 4);
	assert_view(m.uris[3].user, "0611112222");
	assert_int_equal(m.uris[3].hdr, SIP_HDR_PAI);
	/* the last line without its line end */
	msg[strlen(msg) - 2] = '\0';
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_NO_EMPTY_LINE);
	assert_int_equal(m.header_len, strlen(msg));
	assert_int_equal(m.n_uris, 4);
	assert_view(m.uris[3].user, "0611112222");
	/* ... cut inside its URI: the entry does not parse and is skipped */
	msg[strlen(msg) - 1] = '\0';
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 3);
	assert_true(m.flags & SIP_F_BAD_ENTRY);
	/* a To cut short is -EBADMSG, as anywhere */
	assert_int_equal(scan(RLINE FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "To: <sip:03", &m),
			 -EBADMSG);
	/* last lines that end inside the name, at the colon, or in LWS */
	assert_int_equal(scan(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "Max-For", &m), 0);
	assert_int_equal(scan(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "To:", &m),
			 -EBADMSG);
	assert_int_equal(scan(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "Subject:  \t", &m), 0);
	assert_int_equal(scan(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "P-Asserted-Identity", &m), 0);
	assert_int_equal(m.n_uris, 3);
	/* the request line alone, without its line end, is no message */
	assert_int_equal(scan("INVITE sip:0312345678@x SIP/2.0", &m), -EBADMSG);
}

/* A CR that no LF follows ends a line, as pjsip reads it: a message with
 * CR line ends scans, and a CR inside a CRLF line cannot hide the header
 * after it. */
static void test_sip_lone_cr_ends_a_line(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan("INVITE sip:0312345678@x SIP/2.0\rTo: <sip:0312345678@x>\r"
			      "From: <sip:0501234567@x>;tag=f\rCall-ID: c\rCSeq: 1 INVITE\r" VIA1 "\r",
			      &m), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_int_equal(m.n_uris, 3);
	assert_view(m.call_id, "c");
	assert_uri(&m, 2, SIP_HDR_FROM, "sip:0501234567@x", "0501234567");
	assert_int_equal(scan(RLINE TO1 "From: <sip:0501234567@x>;tag=f\r"
			      "P-Asserted-Identity: <sip:0611112222@x>\r\n" TAIL, &m), 0);
	assert_view(m.from, "<sip:0501234567@x>;tag=f");
	assert_int_equal(m.n_uris, 4);
	assert_uri(&m, 3, SIP_HDR_PAI, "sip:0611112222@x", "0611112222");
	/* CR CR LF: a line end, then the empty line */
	assert_int_equal(scan(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "X: y\r\r\nbody", &m), 0);
	assert_true(m.flags & SIP_F_HAS_BODY);
	assert_int_equal(m.header_len, strlen(RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1 "X: y\r\r\n"));
	/* a CR LF across a 64-byte block boundary is one line end, not two */
	for (size_t pad = 0; pad < 80; pad++) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s%s%s%sX-Pad: %.*s\r\n%s", RLINE, TO1, FROM1,
			 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1, (int)pad,
			 "................................................................................",
			 "P-Asserted-Identity: <sip:0611112222@x>\r\n\r\n");
		assert_int_equal(scan(msg, &m), 0);
		assert_false(m.flags & SIP_F_HAS_BODY);
		assert_int_equal(m.n_uris, 4);
		free_held(NULL);
	}
}

static void test_sip_crlf_and_bare_lf_line_ends(void **state)
{
	struct sip_msg a, b;
	char lf[1024];
	const char *crlf = RLINE "To:\r\n <sip:0311112222@x>\r\n" FROM1
			   "Diversion: <tel:0322223333>;reason=unconditional\r\n" TAIL "v=0\r\n";

	(void)state;
	to_lf(crlf, lf, sizeof(lf));
	assert_int_equal(scan(crlf, &a), 0);
	assert_int_equal(scan(lf, &b), 0);
	assert_int_equal(a.n_uris, 4);
	assert_int_equal(b.n_uris, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(a.uris[i].hdr, b.uris[i].hdr);
		assert_int_equal(a.uris[i].uri.len, b.uris[i].uri.len);
		assert_memory_equal(a.uris[i].uri.p, b.uris[i].uri.p, a.uris[i].uri.len);
	}
	assert_int_equal(a.flags, b.flags);
	assert_int_equal(a.header_len, strlen(crlf) - 5);
	assert_int_equal(b.header_len, strlen(lf) - 4);
	assert_memory_equal(lf + b.header_len, "v=0\n", 4);
}

/* header_len marks where the body starts; header-looking body lines are
 * never scanned. */
static void test_sip_body_follows_headers(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1 "Content-Type: message/sipfrag\r\n" TAIL
			  "To: <sip:0399999999@x>;tag=fake\r\nP-Asserted-Identity: <sip:0388888888@x>\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_HAS_BODY);
	assert_true(m.flags & SIP_F_INITIAL);
	assert_int_equal(m.n_uris, 3);
	assert_memory_equal(msg + m.header_len, "To: <sip:0399999999@x>", 22);
}

static void test_sip_garbage_is_ebadmsg(void **state)
{
	static const struct {
		const char *msg;
		size_t len;
	} cases[] = {
#define G(s) { s, sizeof(s) - 1 }
		G(""),
		G("\r\n"),
		G("INVITE"),
		G("INVITE sip:a@b SIP/2.0"),                 /* no line end */
		G("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		G("INVITE sip:a@b HTTP/1.1\r\n\r\n"),
		G("INVITE  SIP/2.0\r\n\r\n"),                /* no Request-URI */
		G("INVITE nocolon SIP/2.0\r\n" TO1 FROM1 TAIL),
		G("INV(TE sip:a@b SIP/2.0\r\n\r\n"),
		G("INVITE sip:a@b SIP/2.0 \r\n" TO1 FROM1),  /* truncated */
		G("INVITE sip:a@b SIP/2.0\r\n" TO1 FROM1 VIA1 "CSeq: 1 INVITE\r\n\r\n"), /* no Call-ID */
		G("INVITE sip:a@b SIP/2.0\r\nTo: \"open <sip:1@x>\r\n" FROM1 TAIL),
		G("INVITE sip:a@b SIP/2.0\r\nTo: <sip:1@x\r\n" FROM1 TAIL),
		G("INVITE sip:a@b SIP/2.0\r\nTo: <sip:1@x> junk\r\n" FROM1 TAIL),
		G("SIP/2.0 abc OK\r\n\r\n"),
		G("SIP/2.0 1000 OK\r\n\r\n"),
		G("\x00\x01\x02\n\xff\xfe\r\n\r\n"),
		G("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"),
#undef G
	};
	struct sip_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = scan_n(cases[i].msg, cases[i].len, &m);

		if (rc != -EBADMSG)
			fail_msg("case %zu: rc %d, want -EBADMSG", i, rc);
		free_held(NULL);
	}
}

static void test_sip_response_is_eproto(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan("SIP/2.0 200 OK\r\n" TO1 FROM1 TAIL, &m), -EPROTO);
	assert_int_equal(m.n_uris, 0);
	assert_false(m.flags & SIP_F_REQUEST);
	assert_int_equal(scan("SIP/2.0 100\r\n\r\n", &m), -EPROTO);
	assert_int_equal(scan("sip/2.0 699 x\n\n", &m), -EPROTO);
}

/* Method tokens are case-sensitive and '%' in them is no escape. */
static void test_sip_methods(void **state)
{
	static const struct {
		const char *name;
		enum sip_method m;
	} cases[] = {
		{ "INVITE", SIP_METHOD_INVITE },   { "ACK", SIP_METHOD_ACK },
		{ "BYE", SIP_METHOD_BYE },         { "CANCEL", SIP_METHOD_CANCEL },
		{ "OPTIONS", SIP_METHOD_OPTIONS }, { "REGISTER", SIP_METHOD_REGISTER },
		{ "PRACK", SIP_METHOD_OTHER_KNOWN }, { "UPDATE", SIP_METHOD_OTHER_KNOWN },
		{ "SUBSCRIBE", SIP_METHOD_OTHER_KNOWN }, { "RE%47IST%45R", SIP_METHOD_UNKNOWN },
		{ "INVITEX", SIP_METHOD_UNKNOWN }, { "NVITE", SIP_METHOD_UNKNOWN },
		{ "inv", SIP_METHOD_UNKNOWN },     { "bye", SIP_METHOD_UNKNOWN },
		/* INVITE as pjsip reads it: any case, or a leading part */
		{ "invite", SIP_METHOD_INVITE },   { "InViTe", SIP_METHOD_INVITE },
		{ "INV", SIP_METHOD_INVITE },      { "I", SIP_METHOD_INVITE },
		{ "INVIT", SIP_METHOD_INVITE },
	};
	char msg[512];
	struct sip_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "%s sip:0312345678@x SIP/2.0\r\n" TO1 FROM1 TAIL,
			 cases[i].name);
		assert_int_equal(scan(msg, &m), 0);
		assert_int_equal(m.method, cases[i].m);
		assert_view(m.method_name, cases[i].name);
		assert_int_equal(!!(m.flags & SIP_F_INITIAL), cases[i].m == SIP_METHOD_INVITE);
		free_held(NULL);
	}
}

/* The tag that makes an INVITE in-dialog is the To header parameter with a
 * value, never a URI parameter inside <>. */
static void test_sip_initial_invite_by_to_tag(void **state)
{
	static const struct {
		const char *to;
		bool initial;
	} cases[] = {
		{ "To: <sip:0312345678@x>\r\n", true },
		{ "To: <sip:0312345678@x;tag=inside>\r\n", true },
		{ "To: <sip:0312345678@x>;tag=abc\r\n", false },
		{ "To: <sip:0312345678@x> ; TAG = \"q\"\r\n", false },
		{ "To: <sip:0312345678@x>;tag=\r\n", true },
		{ "To: <sip:0312345678@x>;tagx=1;xtag=2\r\n", true },
		{ "To: sip:0312345678@x;tag=bare\r\n", false },
		{ "To: \";tag=x\" <sip:0312345678@x>\r\n", true },
		/* several To headers: initial when any lacks a tag */
		{ "To: <sip:0312345678@x>;tag=1\r\nTo: <sip:0399999999@x>\r\n", true },
	};
	char msg[512];
	struct sip_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), RLINE "%s" FROM1 TAIL, cases[i].to);
		assert_int_equal(scan(msg, &m), 0);
		if (!!(m.flags & SIP_F_INITIAL) != cases[i].initial)
			fail_msg("case %zu (%s): initial %d", i, cases[i].to, !cases[i].initial);
		assert_text(&m.uris[1], "0312345678");
		free_held(NULL);
	}
	assert_int_equal(scan("ACK sip:0312345678@x SIP/2.0\r\n" TO1 FROM1 TAIL, &m), 0);
	assert_false(m.flags & SIP_F_INITIAL);
}

/* What a stateless reject needs: Call-ID, From, To, CSeq and every Via
 * line, in order, values trimmed. */
static void test_sip_reply_fields_recorded(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "Via: SIP/2.0/UDP p1.example.jp;branch=z9hG4bKa, SIP/2.0/UDP p2;branch=z9hG4bKb\r\n"
			  "To:  \"B\" <sip:0312345678@x>  \r\nFrom: <sip:0501234567@x>;tag=ft\r\n"
			  "v: SIP/2.0/TCP p3;branch=z9hG4bKc\r\nCall-ID:   id-1@host \t\r\n"
			  "CSeq: 101 INVITE\r\nVIA: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKd\r\n\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.call_id, "id-1@host");
	assert_view(m.to, "\"B\" <sip:0312345678@x>");
	assert_view(m.from, "<sip:0501234567@x>;tag=ft");
	assert_view(m.cseq, "101 INVITE");
	assert_int_equal(m.n_via, 3);
	assert_view(m.via[0], "SIP/2.0/UDP p1.example.jp;branch=z9hG4bKa, SIP/2.0/UDP p2;branch=z9hG4bKb");
	assert_view(m.via[1], "SIP/2.0/TCP p3;branch=z9hG4bKc");
	assert_view(m.via[2], "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKd");
}

static void test_sip_missing_mandatory_headers(void **state)
{
	static const char *const cases[] = {
		RLINE FROM1 TAIL,
		RLINE TO1 TAIL,
		RLINE TO1 FROM1 "CSeq: 1 INVITE\r\n" VIA1 "\r\n",
		RLINE TO1 FROM1 "Call-ID: x\r\n" VIA1 "\r\n",
		RLINE TO1 FROM1 "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
		RLINE TO1 FROM1 "Call-ID: \r\nCSeq: 1 INVITE\r\n" VIA1 "\r\n",
	};
	struct sip_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (scan(cases[i], &m) != -EBADMSG)
			fail_msg("case %zu scanned", i);
		free_held(NULL);
	}
}

static void test_sip_pai_several_headers_and_comma_lists(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1
			  "P-Asserted-Identity: <sip:0311110001@x;a=1,2>, tel:+81311110002 , \"A, B\" <sip:0311110003@x>\r\n"
			  "P-Asserted-Identity: sip:0311110004@x;p=\"q,r\"\r\n"
			  "P-Asserted-Identity: <tel:0311110005>,,\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 8);
	assert_uri(&m, 3, SIP_HDR_PAI, "sip:0311110001@x;a=1,2", "0311110001");
	assert_uri(&m, 4, SIP_HDR_PAI, "tel:+81311110002", "+81311110002");
	assert_uri(&m, 5, SIP_HDR_PAI, "sip:0311110003@x", "0311110003");
	assert_uri(&m, 6, SIP_HDR_PAI, "sip:0311110004@x", "0311110004");
	assert_uri(&m, 7, SIP_HDR_PAI, "tel:0311110005", "0311110005");
	assert_false(m.flags & SIP_F_BAD_ENTRY);
}

static void test_sip_ppi_rpid_diversion_history_info(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1
			  "P-Preferred-Identity: \"Ppi\" <sip:0322220001@x>\r\n"
			  "Remote-Party-ID: \"R\" <sip:0322220002@x>;party=calling;screen=yes;privacy=off\r\n"
			  "Diversion: <sip:0322220003@x>;reason=unconditional;counter=1,\r\n"
			  " <tel:+81322220004>;reason=user-busy\r\n"
			  "Diversion: <sip:0322220005@x>;reason=\"no-answer\"\r\n"
			  "History-Info: <sip:0322220006@x?Reason=SIP%3Bcause%3D302>;index=1,"
			  "<sip:0322220007@x;cause=480>;index=1.1;mp=1\r\n"
			  "History-Info: <tel:0322220008>;index=1.1.1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 11);
	assert_uri(&m, 3, SIP_HDR_PPI, "sip:0322220001@x", "0322220001");
	assert_uri(&m, 4, SIP_HDR_RPID, "sip:0322220002@x", "0322220002");
	assert_uri(&m, 5, SIP_HDR_DIVERSION, "sip:0322220003@x", "0322220003");
	assert_uri(&m, 6, SIP_HDR_DIVERSION, "tel:+81322220004", "+81322220004");
	assert_uri(&m, 7, SIP_HDR_DIVERSION, "sip:0322220005@x", "0322220005");
	assert_uri(&m, 8, SIP_HDR_HISTINFO, "sip:0322220006@x?Reason=SIP%3Bcause%3D302", "0322220006");
	assert_uri(&m, 9, SIP_HDR_HISTINFO, "sip:0322220007@x;cause=480", "0322220007");
	assert_uri(&m, 10, SIP_HDR_HISTINFO, "tel:0322220008", "0322220008");
}

/* One malformed entry must not hide the next one. */
static void test_sip_bad_list_entry_skipped(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1
			  "P-Asserted-Identity: garbage here, <sip:0333330001@x, \"open\r\n"
			  "Diversion: \"a,b\" junk <x>, <tel:0333330002>\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_true(m.flags & SIP_F_BAD_ENTRY);
	assert_int_equal(m.n_uris, 4);
	assert_uri(&m, 3, SIP_HDR_DIVERSION, "tel:0333330002", "0333330002");
}

/* A flood of list entries is cut (and flagged) two slots short of
 * SIP_MAX_URIS, so a To that comes after them is still recorded, number
 * and tag alike: entries can't push the callee or caller out of the scan. */
static void test_sip_uri_table_full(void **state)
{
	char msg[4096];
	size_t n = 0;
	struct sip_msg m;

	(void)state;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, RLINE FROM1);
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
				      "P-Asserted-Identity: <sip:03000000%02d@x>\r\n", i);
	snprintf(msg + n, sizeof(msg) - n, "To: <sip:0312345678@x>;tag=late\r\n" TAIL);
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, SIP_MAX_URIS - 1);
	assert_true(m.flags & SIP_F_URIS_TRUNCATED);
	assert_false(m.flags & SIP_F_INITIAL);
	assert_uri(&m, 2, SIP_HDR_PAI, "sip:0300000000@x", "0300000000");
	assert_uri(&m, SIP_MAX_URIS - 3, SIP_HDR_PAI, "sip:0300000019@x", "0300000019");
	assert_uri(&m, SIP_MAX_URIS - 2, SIP_HDR_TO, "sip:0312345678@x", "0312345678");
}

static void test_sip_via_table_full(void **state)
{
	char msg[4096];
	size_t n = 0;
	struct sip_msg m;

	(void)state;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, RLINE TO1 FROM1);
	for (int i = 0; i < SIP_MAX_VIA + 2; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "Via: SIP/2.0/UDP h%d\r\n", i);
	snprintf(msg + n, sizeof(msg) - n, "Call-ID: v\r\nCSeq: 1 INVITE\r\n\r\n");
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_via, SIP_MAX_VIA);
	assert_true(m.flags & SIP_F_VIA_TRUNCATED);
	assert_view(m.via[SIP_MAX_VIA - 1], "SIP/2.0/UDP h15");
}

/* Liberal where a liberal next hop would still route the call. */
static void test_sip_request_line_tolerance(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan("INVITE  <sip:0312345678@x>  sip/2.0 \r\n" TO1 FROM1 TAIL, &m), 0);
	assert_uri(&m, 0, SIP_HDR_RURI, "sip:0312345678@x", "0312345678");
	assert_int_equal(scan("INVITE sip:0312345678@x; lr SIP/2.0\r\n" TO1 FROM1 TAIL, &m), 0);
	assert_uri(&m, 0, SIP_HDR_RURI, "sip:0312345678@x; lr", "0312345678");
	assert_int_equal(scan("INVITE sip:0312345678@x SIP/3.0\r\n" TO1 FROM1 TAIL, &m), -EBADMSG);
}

/* A URI is read from bitmaps when it is shorter than 64 bytes and by
 * searches when it is longer: the same URI padded through that length,
 * with user and URI parameters and escapes, must read the same. */
static void test_sip_uri_read_alike_at_every_length(void **state)
{
	char host[128], msg[1024];
	struct sip_msg m;

	(void)state;
	for (size_t pad = 0; pad < 70; pad++) {
		size_t ulen;

		memset(host, 'h', pad);
		host[pad] = 0;
		snprintf(msg, sizeof(msg),
			 "INVITE sip:%%30312345678;npdi;phone-context=+81@x%s;user=phone SIP/2.0\r\n"
			 "To: <sip:0312345678;rn=+8131234@x%s;user=phone;phone-context=+81?h=v>\r\n"
			 "From: <tel:03-1234-5678;isub=7;phone-context=+81%s>;tag=1\r\n" TAIL,
			 host, host, host);
		assert_int_equal(scan(msg, &m), 0);
		assert_int_equal(m.n_uris, 3);
		ulen = strlen("sip:%30312345678;npdi;phone-context=+81@x;user=phone") + pad;
		assert_int_equal(m.uris[0].uri.len, ulen);
		assert_view(m.uris[0].user, "%30312345678;npdi;phone-context=+81");
		assert_view(m.uris[0].phone_context, "+81");
		assert_int_equal(m.uris[0].flags, SIP_URI_USER_PHONE | SIP_URI_ESCAPED);
		assert_text(&m.uris[0], "0312345678");
		assert_view(m.uris[1].user, "0312345678;rn=+8131234");
		assert_view(m.uris[1].phone_context, "+81");
		assert_int_equal(m.uris[1].flags, SIP_URI_USER_PHONE);
		assert_int_equal(m.uris[2].scheme, SIP_SCHEME_TEL);
		assert_view(m.uris[2].user, "03-1234-5678");
		assert_int_equal(m.uris[2].phone_context.len, 3 + pad);
		assert_memory_equal(m.uris[2].phone_context.p, "+81", 3);
		assert_int_equal(m.uris[2].flags, 0);
		free_held(NULL);
	}
}

/* LWS around URI parameter names and values is trimmed, as without it. */
static void test_sip_lws_inside_uri_parameters_trimmed(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "To: < sip:0311112222@x ; user = phone ;phone-context= +81 >\r\n"
			  "From: <sip:0322223333@x;user=phone;phone-context=+81>;tag=1\r\n" TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_view(m.uris[1].uri, "sip:0311112222@x ; user = phone ;phone-context= +81");
	assert_int_equal(m.uris[1].flags, SIP_URI_USER_PHONE);
	assert_view(m.uris[1].phone_context, "+81");
	assert_int_equal(m.uris[2].flags, SIP_URI_USER_PHONE);
	assert_view(m.uris[2].phone_context, "+81");
}

/* Header names of 32 bytes and more, and lines of 64 bytes and more, are
 * past what the scanner tests in one go: they are still read right. */
static void test_sip_long_header_names_and_lines(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE "X-A-Header-Name-Longer-Than-Thirty-Two-Bytes: <sip:0399990001@x>\r\n"
			  "To: \"a display name long enough to push the URI past sixty-four bytes\" "
			  "<sip:0311112222@a-rather-long-host-name.example.jp;user=phone>\r\n"
			  FROM1 TAIL;

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 3);
	assert_uri(&m, 1, SIP_HDR_TO, "sip:0311112222@a-rather-long-host-name.example.jp;user=phone",
		   "0311112222");
	assert_int_equal(m.uris[1].flags, SIP_URI_USER_PHONE);
}

/* Entries, quoted strings and parameters in the last bytes of the buffer,
 * with no body: every search there ends at the buffer's end. */
static void test_sip_list_header_at_buffer_end(void **state)
{
	struct sip_msg m;
	const char *msg = RLINE TO1 FROM1 "Call-ID: c\r\nCSeq: 1 INVITE\r\n" VIA1
			  "P-Asserted-Identity: \"a\\\"b\" <tel:1>;x=\"y\",sip:2@h;p\r\n\r\n";

	(void)state;
	assert_int_equal(scan(msg, &m), 0);
	assert_int_equal(m.n_uris, 5);
	assert_uri(&m, 3, SIP_HDR_PAI, "tel:1", "1");
	assert_uri(&m, 4, SIP_HDR_PAI, "sip:2@h", "2");
	assert_int_equal(m.header_len, strlen(msg));
	assert_false(m.flags & (SIP_F_HAS_BODY | SIP_F_BAD_ENTRY));
}

/* "INVITE" followed by HT is INVITE too; followed by a byte that is not a
 * token character nor SP/HT it is no request line at all. */
static void test_sip_invite_method_token_ends(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(scan("INVITE\tsip:0312345678@x SIP/2.0\r\n" TO1 FROM1 TAIL, &m), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_view(m.method_name, "INVITE");
	assert_true(m.flags & SIP_F_INITIAL);
	assert_int_equal(scan("INVITE(sip:0312345678@x SIP/2.0\r\n" TO1 FROM1 TAIL, &m), -EBADMSG);
	assert_int_equal(scan("INVITE", &m), -EBADMSG);
}

/* Line ends are found 64 bytes at a time: a padding header of every
 * length from 0 to 200 puts the ends of the lines after it, a folded line
 * among them, at every offset in a block and lines across block edges;
 * the scan must read the same with a body and without one (the empty line
 * then in the buffer's last, partial block). */
static void test_sip_line_ends_at_every_block_offset(void **state)
{
	char msg[1024], pad[256];
	struct sip_msg m;

	(void)state;
	for (size_t n = 0; n <= 200; n++) {
		for (int body = 0; body < 2; body++) {
			int len;

			memset(pad, 'a', n);
			pad[n] = '\0';
			len = snprintf(msg, sizeof(msg),
				       RLINE "X-Pad: %s\r\n" TO1 "Subject: folded\r\n  over %s\r\n" FROM1
				       "Call-ID: c%zu\r\nCSeq: 1 INVITE\r\n" VIA1 "\r\n%s",
				       pad, pad + n / 2, n, body ? "v=0\r\n" : "");
			assert_true(len > 0 && (size_t)len < sizeof(msg));
			assert_int_equal(scan(msg, &m), 0);
			assert_int_equal(m.n_uris, 3);
			assert_uri(&m, 1, SIP_HDR_TO, "sip:0312345678@ims.example.jp", "0312345678");
			assert_uri(&m, 2, SIP_HDR_FROM, "sip:0501234567@example.jp", "0501234567");
			assert_int_equal(m.call_id.len, snprintf(pad, sizeof(pad), "c%zu", n));
			assert_int_equal(m.header_len, (uint32_t)len - (body ? 5 : 0));
			assert_int_equal(!!(m.flags & SIP_F_HAS_BODY), body);
			free_held(NULL);
		}
	}
}

/* A quoted display name is closed from one 64-byte bitmap when no escape
 * comes before its closing quote: names of every length from 0 to 80,
 * plain and with an escaped quote in them, both sides of that window. */
static void test_sip_quoted_display_name_every_length(void **state)
{
	char name[128], msg[1024];
	struct sip_msg m;

	(void)state;
	for (size_t n = 0; n <= 80; n++) {
		for (int esc = 0; esc < 2; esc++) {
			memset(name, 'n', n);
			name[n] = '\0';
			if (esc && n >= 3)
				memcpy(name + n / 2, "\\\"", 2);
			snprintf(msg, sizeof(msg),
				 RLINE "To: \"%s\" <sip:0312345678@ims.example.jp>\r\n" FROM1 TAIL, name);
			assert_int_equal(scan(msg, &m), 0);
			assert_uri(&m, 1, SIP_HDR_TO, "sip:0312345678@ims.example.jp", "0312345678");
			assert_int_equal(m.to.len, n + 2 + strlen(" <sip:0312345678@ims.example.jp>"));
			free_held(NULL);
		}
	}
	/* Unclosed: the quote seen past the header's end does not count. */
	assert_int_equal(scan(RLINE "To: \"abc\r\n" FROM1 "X: \"\r\n" TAIL, &m), -EBADMSG);
}

static void test_sip_names(void **state)
{
	(void)state;
	assert_string_equal(sip_hdr_name(SIP_HDR_RURI), "Request-URI");
	assert_string_equal(sip_hdr_name(SIP_HDR_PAI), "P-Asserted-Identity");
	assert_string_equal(sip_hdr_name(SIP_HDR_HISTINFO), "History-Info");
	assert_string_equal(sip_hdr_name(SIP_HDR__COUNT), "unknown");
	assert_string_equal(sip_method_name(SIP_METHOD_INVITE), "INVITE");
	assert_string_equal(sip_method_name(SIP_METHOD_REGISTER), "REGISTER");
	assert_string_equal(sip_method_name((enum sip_method)99), "unknown");
}

static char rfc_dir[1024];

static int find_rfc4475(void)
{
	const char *env[2] = { getenv("TEISHI_TESTDATA"), getenv("TEISHI_SOURCE_ROOT") };
	const char *fmt[2] = { "%s/rfc4475", "%s/../shared/testdata/rfc4475" };
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if (!env[i])
			continue;
		snprintf(rfc_dir, sizeof(rfc_dir), fmt[i], env[i]);
		if (stat(rfc_dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	rfc_dir[0] = 0;
	return -1;
}

#define NEED_RFC4475()                                                                     \
	do {                                                                               \
		if (find_rfc4475() < 0) {                                                  \
			print_message("SKIP: RFC 4475 messages not found: set TEISHI_TESTDATA " \
				      "or put shared/testdata beside the source tree\n");    \
			skip();                                                            \
		}                                                                          \
	} while (0)

/* The file's bytes in a buffer of exactly its size. */
static char *load(const char *name, size_t *len)
{
	char path[1280];
	FILE *f;
	long n;
	char *b;

	snprintf(path, sizeof(path), "%s/%s", rfc_dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Defined result for every file.  Invalid messages a liberal next hop
 * might still route are scanned (0), baddn.dat's headers that end without
 * the empty line included (pjsip takes them); those no element would act
 * on (bad version, status code, unterminated quote in To, missing
 * To/From/Call-ID, no SIP version) are -EBADMSG. */
static const struct {
	const char *file;
	int rc;
} rfc_results[] = {
	{ "wsinv.dat", 0 },        { "intmeth.dat", 0 },    { "esc01.dat", 0 },
	{ "escnull.dat", 0 },      { "esc02.dat", 0 },      { "lwsdisp.dat", 0 },
	{ "longreq.dat", 0 },      { "dblreq.dat", 0 },     { "semiuri.dat", 0 },
	{ "transports.dat", 0 },   { "mpart01.dat", 0 },    { "unreason.dat", -EPROTO },
	{ "noreason.dat", -EPROTO }, { "badinv01.dat", 0 }, { "clerr.dat", 0 },
	{ "ncl.dat", 0 },          { "scalar02.dat", 0 },   { "scalarlg.dat", -EPROTO },
	{ "quotbal.dat", -EBADMSG }, { "ltgtruri.dat", 0 }, { "lwsruri.dat", 0 },
	{ "lwsstart.dat", 0 },     { "trws.dat", 0 },       { "escruri.dat", 0 },
	{ "baddate.dat", 0 },      { "regbadct.dat", 0 },   { "badaspec.dat", 0 },
	{ "baddn.dat", 0 },        { "badvers.dat", -EBADMSG }, { "mismatch01.dat", 0 },
	{ "mismatch02.dat", 0 },   { "bigcode.dat", -EBADMSG }, { "badbranch.dat", 0 },
	{ "insuf.dat", -EBADMSG }, { "unkscm.dat", 0 },     { "novelsc.dat", 0 },
	{ "unksm2.dat", 0 },       { "bext01.dat", 0 },     { "invut.dat", 0 },
	{ "regaut01.dat", 0 },     { "multi01.dat", 0 },    { "mcl01.dat", 0 },
	{ "bcast.dat", -EPROTO },  { "zeromf.dat", 0 },     { "cparam01.dat", 0 },
	{ "cparam02.dat", 0 },     { "regescrt.dat", 0 },   { "sdp01.dat", 0 },
	{ "inv2543.dat", 0 },
	{ "extra/baddn-with-terminating-crlf.dat", 0 },
	{ "extra/test.dat", -EBADMSG }, /* "INVITE sip:alan@jasomi.com" has no SIP version */
};

#define NRFC (sizeof(rfc_results) / sizeof(rfc_results[0]))

static bool in_results(const char *name)
{
	for (size_t i = 0; i < NRFC; i++)
		if (strcmp(rfc_results[i].file, name) == 0)
			return true;
	return false;
}

static void check_dir_covered(const char *sub)
{
	char path[1100];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s%s%s", rfc_dir, *sub ? "/" : "", sub);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char name[600];
		size_t n = strlen(de->d_name);

		if (n < 5 || strcmp(de->d_name + n - 4, ".dat") != 0)
			continue;
		snprintf(name, sizeof(name), "%s%s%s", sub, *sub ? "/" : "", de->d_name);
		if (!in_results(name))
			fail_msg("%s/%s has no expected result in test_sip.c", rfc_dir, name);
	}
	closedir(d);
}

static void test_sip_rfc4475_every_file_has_defined_result(void **state)
{
	(void)state;
	NEED_RFC4475();
	check_dir_covered("");
	check_dir_covered("extra");
	for (size_t i = 0; i < NRFC; i++) {
		size_t len;
		char *b = load(rfc_results[i].file, &len);
		struct sip_msg m;
		int rc = sip_scan(b, len, &m);

		if (rc != rfc_results[i].rc)
			fail_msg("%s: rc %d, want %d", rfc_results[i].file, rc, rfc_results[i].rc);
		assert_true(m.n_uris <= SIP_MAX_URIS);
		assert_true(m.n_via <= SIP_MAX_VIA);
		for (unsigned u = 0; u < m.n_uris; u++) {
			char text[600];
			const struct sip_uri *x = &m.uris[u];

			assert_true(x->uri.p >= b && x->uri.p + x->uri.len <= b + len);
			assert_true(x->user.p >= b && x->user.p + x->user.len <= b + len);
			(void)sip_uri_number_text(x, text, sizeof(text));
		}
		if (rc == 0)
			assert_true(m.header_len > 0 && m.header_len <= len);
		free(b);
	}
}

struct rfc_uri {
	uint8_t hdr;
	uint8_t scheme;
	const char *uri; /* NULL: not compared (too long to write out) */
	const char *text;
	size_t text_len;
};

#define U(h, s, uri, text) { SIP_HDR_##h, SIP_SCHEME_##s, uri, text, sizeof(text) - 1 }

static const struct {
	const char *file;
	uint8_t method;
	bool initial;
	const char *call_id;
	uint8_t n_via;
	uint8_t n_uris;
	struct rfc_uri uris[6];
} rfc_scans[] = {
	{ "wsinv.dat", SIP_METHOD_INVITE, false, "wsinv.ndaksdj@192.0.2.1", 2, 3, {
		U(RURI, SIP, "sip:vivekg@chair-dnrc.example.com;unknownparam", "vivekg"),
		U(TO, SIP, "sip:vivekg@chair-dnrc.example.com", "vivekg"),
		U(FROM, SIP, "sip:jdrosen@example.com", "jdrosen") } },
	{ "intmeth.dat", SIP_METHOD_UNKNOWN, false,
	  "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 1, 3, {
		U(RURI, SIP, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
			     "weird!*pas$wo~d_too.(doesn't-it)@example.com",
		  "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/"),
		U(TO, SIP, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
		  "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/"),
		U(FROM, SIP, "sip:mundane@example.com", "mundane") } },
	{ "esc01.dat", SIP_METHOD_INVITE, true, "esc01.239409asdfakjkn23onasd0-3234", 1, 3, {
		U(RURI, SIP, "sip:sips%3Auser%40example.com@example.net", "sips:user@example.com"),
		U(TO, SIP, "sip:%75se%72@example.com", "user"),
		U(FROM, SIP, "sip:I%20have%20spaces@example.net", "I have spaces") } },
	{ "escnull.dat", SIP_METHOD_REGISTER, false, "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(TO, SIP, "sip:null-%00-null@example.com", "null-\0-null"),
		U(FROM, SIP, "sip:null-%00-null@example.com", "null-\0-null") } },
	{ "esc02.dat", SIP_METHOD_UNKNOWN, false, "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 1, 3, {
		U(RURI, SIP, "sip:registrar.example.com", ""),
		U(TO, SIP, "sip:resource@example.com", "resource"),
		U(FROM, SIP, "sip:resource@example.com", "resource") } },
	{ "lwsdisp.dat", SIP_METHOD_OPTIONS, false, "lwsdisp.1234abcd@funky.example.com", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.com", "caller") } },
	{ "longreq.dat", SIP_METHOD_INVITE, true,
	  "longreq.onereallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreallyreally"
	  "reallyreallyreallyreallyreallyreallyreallyreallylongcallid", SIP_MAX_VIA, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, NULL, "user"),
		U(FROM, SIP, "sip:amazinglylongcallernameamazinglylongcallernameamazinglylongcallername"
			     "amazinglylongcallernameamazinglylongcallername@example.net",
		  "amazinglylongcallernameamazinglylongcallernameamazinglylongcallername"
		  "amazinglylongcallernameamazinglylongcallername") } },
	{ "dblreq.dat", SIP_METHOD_REGISTER, false, "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(TO, SIP, "sip:j.user@example.com", "j.user"),
		U(FROM, SIP, "sip:j.user@example.com", "j.user") } },
	{ "semiuri.dat", SIP_METHOD_OPTIONS, false, "semiuri.0ha0isndaksdj", 1, 3, {
		U(RURI, SIP, "sip:user;par=u%40example.net@example.com", "user"),
		U(TO, SIP, "sip:j_user@example.com", "j_user"),
		U(FROM, SIP, "sip:caller@example.org", "caller") } },
	{ "transports.dat", SIP_METHOD_OPTIONS, false, "transports.kijh4akdnaqjkwendsasfdj", 5, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.com", "caller") } },
	{ "mpart01.dat", SIP_METHOD_OTHER_KNOWN, false, "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1, 3, {
		U(RURI, SIP, "sip:kumiko@example.org", "kumiko"),
		U(TO, SIP, "sip:kumiko@example.org", "kumiko"),
		U(FROM, SIP, "sip:fluffy@example.com", "fluffy") } },
	{ "badbranch.dat", SIP_METHOD_OPTIONS, false, "badbranch.sadonfo23i420jv0as0derf3j3n", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.org", "caller") } },
	{ "unkscm.dat", SIP_METHOD_OPTIONS, false, "unkscm.nasdfasser0q239nwsdfasdkl34", 1, 3, {
		U(RURI, OTHER, "nobodyKnowsThisScheme:totallyopaquecontent", ""),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "novelsc.dat", SIP_METHOD_OPTIONS, false, "novelsc.asdfasser0q239nwsdfasdkl34", 1, 3, {
		U(RURI, OTHER, "soap.beep://192.0.2.103:3002", ""),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "unksm2.dat", SIP_METHOD_REGISTER, false, "unksm2.daksdj@hyphenated-host.example.com", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(TO, OTHER, "isbn:2983792873", ""),
		U(FROM, OTHER, "http://www.example.com", "") } },
	{ "bext01.dat", SIP_METHOD_OPTIONS, false, "bext01.0ha0isndaksdj", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:j_user@example.com", "j_user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "invut.dat", SIP_METHOD_INVITE, true, "invut.0ha0isndaksdjadsfij34n23d", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:j.user@example.com", "j.user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "regaut01.dat", SIP_METHOD_REGISTER, false, "regaut01.0ha0isndaksdj", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(TO, SIP, "sip:j.user@example.com", "j.user"),
		U(FROM, SIP, "sip:j.user@example.com", "j.user") } },
	{ "multi01.dat", SIP_METHOD_INVITE, true, "multi01.98asdh@192.0.2.1", 1, 5, {
		U(RURI, SIP, "sip:user@company.com", "user"),
		U(FROM, SIP, "sip:caller@example.com", "caller"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:other@example.net", "other"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "mcl01.dat", SIP_METHOD_OPTIONS, false, "mcl01.fhn2323orihawfdoa3o4r52o3irsdf", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:other@example.net", "other") } },
	{ "zeromf.dat", SIP_METHOD_OPTIONS, false, "zeromf.jfasdlfnm2o2l43r5u0asdfas", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "cparam01.dat", SIP_METHOD_REGISTER, false, "cparam01.70710@saturn.example.com", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(FROM, SIP, "sip:watson@example.com", "watson"),
		U(TO, SIP, "sip:watson@example.com", "watson") } },
	{ "cparam02.dat", SIP_METHOD_REGISTER, false, "cparam02.70710@saturn.example.com", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(FROM, SIP, "sip:watson@example.com", "watson"),
		U(TO, SIP, "sip:watson@example.com", "watson") } },
	{ "regescrt.dat", SIP_METHOD_REGISTER, false, "regescrt.k345asrl3fdbv@192.0.2.1", 1, 3, {
		U(RURI, SIP, "sip:example.com", ""),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:user@example.com", "user") } },
	{ "sdp01.dat", SIP_METHOD_INVITE, true, "sdp01.ndaksdj9342dasdd", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:j_user@example.com", "j_user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "inv2543.dat", SIP_METHOD_INVITE, true, "inv2543.1717@ift.client.example.com", 1, 3, {
		U(RURI, SIP, "sip:UserB@example.com", "UserB"),
		U(FROM, SIP, "sip:+13035551111@ift.client.example.net;user=phone", "+13035551111"),
		U(TO, SIP, "sip:+16505552222@ss1.example.net", "+16505552222") } },
	{ "extra/baddn-with-terminating-crlf.dat", SIP_METHOD_OPTIONS, false, "baddn.31415@c.example.com", 1, 3, {
		U(RURI, SIP, "sip:t.watson@example.org", "t.watson"),
		U(FROM, SIP, "sip:a.g.bell@example.com", "a.g.bell"),
		U(TO, SIP, "sip:t.watson@example.org", "t.watson") } },
	/* invalid messages scanned liberally */
	{ "ltgtruri.dat", SIP_METHOD_INVITE, true, "ltgtruri.1@192.0.2.5", 1, 3, {
		U(RURI, SIP, "sip:user@example.com", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "lwsruri.dat", SIP_METHOD_INVITE, false, "lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423", 1, 3, {
		U(RURI, SIP, "sip:user@example.com; lr", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
	{ "badaspec.dat", SIP_METHOD_OPTIONS, false, "badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3", 1, 3, {
		U(RURI, SIP, "sip:user@example.org", "user"),
		U(FROM, SIP, "sip:a.g.bell@example.com", "a.g.bell"),
		U(TO, SIP, "sip:t.watson@example.org", "t.watson") } },
	{ "escruri.dat", SIP_METHOD_INVITE, true, "escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5", 1, 3, {
		U(RURI, SIP, "sip:user@example.com?Route=%3Csip:example.com%3E", "user"),
		U(TO, SIP, "sip:user@example.com", "user"),
		U(FROM, SIP, "sip:caller@example.net", "caller") } },
};

/* Scan one RFC 4475 message and compare with its row of rfc_scans. */
static void check_rfc_scan(size_t i)
{
	size_t len;
	char *b = load(rfc_scans[i].file, &len);
	struct sip_msg m;
	int rc = sip_scan(b, len, &m);

	if (rc != 0)
		fail_msg("%s: rc %d", rfc_scans[i].file, rc);
	assert_int_equal(m.method, rfc_scans[i].method);
	if (!!(m.flags & SIP_F_INITIAL) != rfc_scans[i].initial)
		fail_msg("%s: initial is %d", rfc_scans[i].file, !rfc_scans[i].initial);
	assert_view(m.call_id, rfc_scans[i].call_id);
	assert_int_equal(m.n_via, rfc_scans[i].n_via);
	if (m.n_uris != rfc_scans[i].n_uris)
		fail_msg("%s: %u URIs, want %u", rfc_scans[i].file, m.n_uris, rfc_scans[i].n_uris);
	for (unsigned u = 0; u < m.n_uris; u++) {
		const struct rfc_uri *w = &rfc_scans[i].uris[u];

		assert_int_equal(m.uris[u].hdr, w->hdr);
		assert_int_equal(m.uris[u].scheme, w->scheme);
		if (w->uri)
			assert_view(m.uris[u].uri, w->uri);
		assert_text_n(&m.uris[u], w->text, w->text_len);
	}
	free(b);
}

static void test_sip_rfc4475_numbers_and_call_ids(void **state)
{
	(void)state;
	NEED_RFC4475();
	for (size_t i = 0; i < sizeof(rfc_scans) / sizeof(rfc_scans[0]); i++)
		check_rfc_scan(i);
}

/* Details the table does not hold. */
static void test_sip_rfc4475_details(void **state)
{
	size_t len;
	char *b;
	struct sip_msg m;

	(void)state;
	NEED_RFC4475();
	b = load("wsinv.dat", &len);
	assert_int_equal(sip_scan(b, len, &m), 0);
	assert_view(m.cseq, "0009\r\n  INVITE");
	assert_view(m.via[0], "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
	assert_true(m.flags & SIP_F_HAS_BODY);
	assert_int_equal(len - m.header_len, 150);
	free(b);

	b = load("longreq.dat", &len);
	assert_int_equal(sip_scan(b, len, &m), 0);
	assert_true(m.flags & SIP_F_VIA_TRUNCATED);
	assert_view(m.via[0], "SIP/2.0/TCP sip33.example.com");
	assert_view(m.via[SIP_MAX_VIA - 1], "SIP/2.0/TCP sip18.example.com");
	assert_int_equal(len - m.header_len, 150);
	free(b);

	/* The INVITE after the REGISTER's empty line is never looked at. */
	b = load("dblreq.dat", &len);
	assert_int_equal(sip_scan(b, len, &m), 0);
	assert_true(m.flags & SIP_F_HAS_BODY);
	assert_memory_equal(b + m.header_len, "\r\nINVITE sip:joe@example.com", 28);
	free(b);

	b = load("esc02.dat", &len);
	assert_int_equal(sip_scan(b, len, &m), 0);
	assert_view(m.method_name, "RE%47IST%45R");
	free(b);
}

/* Every prefix of a message: a complete header section scans exactly like
 * the whole message.  A shorter one is -EBADMSG, or, when its headers end
 * with it (a receiver such as pjsip would take it so), scans with
 * SIP_F_NO_EMPTY_LINE and URIs that all lie in the prefix (the prefix is
 * its own allocation: ASan sees any read past it). */
static void test_sip_rfc4475_truncated_prefixes(void **state)
{
	static const char *const files[] = { "wsinv.dat", "esc01.dat", "intmeth.dat",
					     "mpart01.dat", "escnull.dat", "longreq.dat" };

	(void)state;
	NEED_RFC4475();
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *whole = load(files[f], &len);
		struct sip_msg full;

		assert_int_equal(sip_scan(whole, len, &full), 0);
		for (size_t n = 0; n <= len; n++) {
			char *b = malloc(n ? n : 1);
			struct sip_msg m;
			int rc;

			memcpy(b, whole, n);
			rc = sip_scan(b, n, &m);
			if (n < full.header_len && rc != -EBADMSG) {
				if (rc != 0)
					fail_msg("%s prefix %zu: rc %d, want 0 or -EBADMSG",
						 files[f], n, rc);
				/* no empty line, or a CR alone at the end as one */
				assert_true((m.flags & SIP_F_NO_EMPTY_LINE) || b[n - 1] == '\r');
				assert_int_equal(m.header_len, n);
				assert_true(m.n_uris <= full.n_uris);
				for (unsigned u = 0; u < m.n_uris; u++)
					assert_true(m.uris[u].user.p == NULL ||
						    (m.uris[u].user.p >= b &&
						     m.uris[u].user.p + m.uris[u].user.len <= b + n));
			}
			if (n >= full.header_len) {
				assert_int_equal(rc, 0);
				assert_int_equal(m.n_uris, full.n_uris);
				assert_int_equal(m.header_len, full.header_len);
				assert_int_equal(m.flags & ~SIP_F_HAS_BODY,
						 full.flags & ~SIP_F_HAS_BODY);
			}
			free(b);
		}
		free(whole);
	}
}

#define T(f) cmocka_unit_test_teardown(f, free_held)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sip_minimal_initial_invite),
		T(test_sip_header_names_any_case),
		T(test_sip_compact_form_headers),
		T(test_sip_unknown_header_names_ignored),
		T(test_sip_whitespace_around_colon),
		T(test_sip_value_bounds_every_lws_shape),
		T(test_sip_last_line_without_lf),
		T(test_sip_folded_continuation_lines),
		T(test_sip_quoted_display_name_utf8),
		T(test_sip_quoted_display_name_escaped_quotes),
		T(test_sip_unquoted_display_name),
		T(test_sip_bare_addr_spec),
		T(test_sip_sip_sips_tel_schemes),
		T(test_sip_user_parameters_npdi_rn_isub),
		T(test_sip_user_phone_flag),
		T(test_sip_phone_context_tel_and_sip_user),
		T(test_sip_percent_escapes_decoded),
		T(test_sip_percent_00_never_truncates),
		T(test_sip_uri_number_text_errors),
		T(test_sip_crlf_and_bare_lf_line_ends),
		T(test_sip_lone_cr_ends_a_line),
		T(test_sip_leading_line_ends_skipped),
		T(test_sip_headers_ending_with_buffer),
		T(test_sip_body_follows_headers),
		T(test_sip_garbage_is_ebadmsg),
		T(test_sip_response_is_eproto),
		T(test_sip_methods),
		T(test_sip_initial_invite_by_to_tag),
		T(test_sip_reply_fields_recorded),
		T(test_sip_missing_mandatory_headers),
		T(test_sip_pai_several_headers_and_comma_lists),
		T(test_sip_ppi_rpid_diversion_history_info),
		T(test_sip_bad_list_entry_skipped),
		T(test_sip_uri_table_full),
		T(test_sip_via_table_full),
		T(test_sip_request_line_tolerance),
		T(test_sip_uri_read_alike_at_every_length),
		T(test_sip_lws_inside_uri_parameters_trimmed),
		T(test_sip_long_header_names_and_lines),
		T(test_sip_list_header_at_buffer_end),
		T(test_sip_invite_method_token_ends),
		T(test_sip_line_ends_at_every_block_offset),
		T(test_sip_quoted_display_name_every_length),
		T(test_sip_names),
		T(test_sip_rfc4475_every_file_has_defined_result),
		T(test_sip_rfc4475_numbers_and_call_ids),
		T(test_sip_rfc4475_details),
		T(test_sip_rfc4475_truncated_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
