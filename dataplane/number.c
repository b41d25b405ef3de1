/* Number normalisation.  The Japanese numbering plan is summarised in
 * ../shared/docs/scheme.md; the rules that decide between readings are:
 *
 *  - A leading '+' means E.164.  "+81" is Japan; a single trunk 0 kept
 *    after it ("+81(0)3-...") is dropped, since a Japanese national
 *    significant number (NSN) never starts with 0.
 *  - Without '+', a number is national.  Dial prefixes may stand in front:
 *    184/186 (caller-id withheld/presented) and a 00XY carrier-selection
 *    code.  A prefix is only stripped when a national number (or another
 *    prefix) follows it, so 184 and 0033 never swallow digits of the
 *    number itself: national numbers start with 0 but never with 00.
 *  - 010 is Japan's international access code: "010-1-212..." is +1212...
 *  - A bare 1XY is a service code (110 police, 118 coast guard, 119 fire).
 *  - An NSN is typed by its leading digits, longest first (0120/0800/0570
 *    before 050/080), and each type has one length.
 *
 * Two parsers give one answer.  parse_full() reads any input and explains
 * every error; it is the reference.  parse_common() goes first: nearly
 * every number in real traffic is national, +81 or +CC with the usual
 * separators in at most 16 bytes, and every INVITE carries several, each
 * written another way, so it classifies the 16 bytes at once (SSE2 where
 * there is one), keeps the digits as BCD in a register and picks the
 * reading with a few tests, not a walk over the bytes with a branch on
 * each.  It answers only where it agrees with parse_full() and hands
 * everything else, every error included, to it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "number.h"

/* Digits held while reading one number: 184 + 00XY + 010 + 15 digits
 * is 25; anything longer is -ERANGE whatever it means. */
#define RAW_MAX 32
/* Room for the quoted input inside an error message. */
#define QUOTE_MAX 72
#define FOREIGN_MIN_DIGITS 7

/* How the NSN was written, for length messages. */
enum form {
	FORM_NATIONAL, /* counts include the trunk 0 */
	FORM_E164,     /* counts are digits after +81 */
};

struct jp_type {
	const char *lead; /* leading NSN digits */
	uint8_t cls;
	uint8_t nsn_len;
	const char *what;
};

/* The NSN types.  jp_lead[] picks one by the leading digits, longest
 * lead first where leads overlap (800 before 80). */
enum { JP_FIXED, JP_120, JP_800, JP_570, JP_50, JP_20, JP_60, JP_70, JP_80, JP_90 };
static const struct jp_type jp_types[] = {
	[JP_FIXED] = { "", NUM_CLASS_FIXED, 9, "fixed-line number" },
	[JP_120] = { "120", NUM_CLASS_FREEPHONE, 9, "0120 freephone number" },
	[JP_800] = { "800", NUM_CLASS_FREEPHONE, 10, "0800 freephone number" },
	[JP_570] = { "570", NUM_CLASS_FREEPHONE, 9, "0570 navi-dial number" },
	[JP_50] = { "50", NUM_CLASS_IP050, 10, "050 IP phone number" },
	[JP_20] = { "20", NUM_CLASS_M2M, 10, "M2M number" },
	[JP_60] = { "60", NUM_CLASS_MOBILE, 10, "mobile number" },
	[JP_70] = { "70", NUM_CLASS_MOBILE, 10, "mobile number" },
	[JP_80] = { "80", NUM_CLASS_MOBILE, 10, "mobile number" },
	[JP_90] = { "90", NUM_CLASS_MOBILE, 10, "mobile number" },
};

/* The type of an NSN by its first two digits as one BCD byte (0xab):
 * jp_lead[0] when the third digit is not 0, jp_lead[1] when it is (0120,
 * 0800 and 0570 are typed by three digits).  A table and not a chain of
 * tests, because every number of every INVITE is typed and their leads
 * differ from one URI to the next.  JP_BAD marks leads that can never be a
 * valid NSN: 0 (a second trunk 0, or 00), 10 (Japan's international
 * prefix) and 050 0 (never assigned); the fast path leaves them to the
 * full parser, which says why. */
#define JP_BAD 0x80
static const uint8_t jp_lead[2][256] = {
	{
		[0x00] = JP_BAD, [0x01] = JP_BAD, [0x02] = JP_BAD, [0x03] = JP_BAD,
		[0x04] = JP_BAD, [0x05] = JP_BAD, [0x06] = JP_BAD, [0x07] = JP_BAD,
		[0x08] = JP_BAD, [0x09] = JP_BAD, [0x10] = JP_BAD,
		[0x20] = JP_20, [0x50] = JP_50, [0x60] = JP_60, [0x70] = JP_70,
		[0x80] = JP_80, [0x90] = JP_90,
	},
	{
		[0x00] = JP_BAD, [0x01] = JP_BAD, [0x02] = JP_BAD, [0x03] = JP_BAD,
		[0x04] = JP_BAD, [0x05] = JP_BAD, [0x06] = JP_BAD, [0x07] = JP_BAD,
		[0x08] = JP_BAD, [0x09] = JP_BAD, [0x10] = JP_BAD,
		[0x12] = JP_120, [0x20] = JP_20, [0x50] = JP_BAD | JP_50, [0x57] = JP_570,
		[0x60] = JP_60, [0x70] = JP_70, [0x80] = JP_800, [0x90] = JP_90,
	},
};

/* The input, kept for error messages. */
struct src {
	const char *s;
	size_t len;
	char *err;
	size_t errlen;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3966 visual separators, plus the blanks people type. */
static int is_sep(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ' || c == '\t';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

/* Write s as a C-style quoted string into q (cap >= 8), escaping quotes,
 * backslashes and non-printable bytes, ending with ... when cut short. */
static void quote(char *q, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	q[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[5];
		size_t el;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			el = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(e, sizeof(e), "\\x%02x", c);
			el = 4;
		} else {
			e[0] = (char)c;
			el = 1;
		}
		/* Keep room for ...", and the NUL. */
		if (o + el + 5 > cap) {
			memcpy(q + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(q + o, e, el);
		o += el;
	}
	q[o++] = '"';
	q[o] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int fail(const struct src *src, int rc, const char *fmt, ...)
{
	char q[QUOTE_MAX];
	va_list ap;
	int n;

	if (src->err == NULL || src->errlen == 0)
		return rc;
	quote(q, sizeof(q), src->s, src->len);
	n = snprintf(src->err, src->errlen, "%s: ", q);
	if (n >= 0 && (size_t)n < src->errlen) {
		va_start(ap, fmt);
		vsnprintf(src->err + n, src->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The code point of the 2- or 3-byte UTF-8 sequence at p, or 0. */
static unsigned utf8_at(const char *p, size_t left)
{
	const unsigned char *u = (const unsigned char *)p;

	if (left >= 2 && (u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80)
		return (unsigned)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	if (left >= 3 && (u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80)
		return (unsigned)(u[0] & 0x0f) << 12 | (unsigned)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	return 0;
}

/* Japanese documents, where orders come from, write numbers in full-width
 * forms (０３－１２３４－５６７８) or with dashes that only look like
 * '-': such a character is named, so that the engineer sees why. */
static const char *lookalike_name(unsigned cp)
{
	if (cp >= 0xff10 && cp <= 0xff19)
		return "full-width digit";
	switch (cp) {
	case 0xff0b:
		return "full-width plus sign";
	case 0xff08:
	case 0xff09:
		return "full-width parenthesis";
	case 0xff0e:
		return "full-width full stop";
	case 0x3000:
		return "ideographic space";
	case 0xff0d:
	case 0x2010:
	case 0x2011:
	case 0x2012:
	case 0x2013:
	case 0x2014:
	case 0x2015:
	case 0x2212:
	case 0x30fc:
	case 0xff70:
		return "a dash that is not ASCII '-'";
	default:
		return NULL;
	}
}

static int too_many(const struct src *src, size_t e164_digits)
{
	return fail(src, -ERANGE, "too many digits (%zu in E.164 form), E.164 allows %d",
		    e164_digits, NUM_MAX_DIGITS);
}

/* Digits and an optional leading '+' from s, separators skipped. */
struct raw {
	char d[RAW_MAX];
	size_t n;
	int plus;
};

static int collect(const struct src *src, const char *s, size_t len, struct raw *r)
{
	size_t i = 0, digits = 0;

	r->n = 0;
	r->plus = 0;
	while (i < len && is_blank(s[i]))
		i++;
	if (i < len && s[i] == '+') {
		r->plus = 1;
		i++;
	}
	for (; i < len; i++) {
		char c = s[i];

		if (is_digit(c)) {
			if (digits < RAW_MAX)
				r->d[digits] = c;
			digits++;
		} else if (!is_sep(c)) {
			char q[12];
			unsigned cp = utf8_at(s + i, len - i);
			const char *what = cp ? lookalike_name(cp) : NULL;

			if (what != NULL)
				return fail(src, -EINVAL,
					    "unexpected U+%04X (%s) at character %zu: write numbers "
					    "in ASCII (0-9, +, -, ., parentheses, spaces)",
					    cp, what, (size_t)(&s[i] - src->s) + 1);
			quote(q, sizeof(q), &s[i], 1);
			return fail(src, -EINVAL, "unexpected %s at character %zu",
				    q, (size_t)(&s[i] - src->s) + 1);
		}
	}
	if (digits > RAW_MAX)
		return fail(src, -ERANGE, "too many digits (%zu), E.164 allows %d",
			    digits, NUM_MAX_DIGITS);
	if (digits == 0)
		return fail(src, -EINVAL, "no digits");
	r->n = digits;
	return 0;
}

static int set_digits(const struct src *src, struct num *out, const char *cc, size_t cclen,
		      const char *d, size_t n)
{
	if (cclen + n > NUM_MAX_DIGITS)
		return too_many(src, cclen + n);
	memcpy(out->digits, cc, cclen);
	memcpy(out->digits + cclen, d, n);
	out->digits[cclen + n] = '\0';
	out->len = (uint8_t)(cclen + n);
	return 0;
}

static int jp_service(const struct src *src, const char *nsn, size_t n, struct num *out)
{
	int rc = set_digits(src, out, "81", 2, nsn, n);

	if (rc == 0)
		out->cls = NUM_CLASS_SERVICE;
	return rc;
}

/* The type of an NSN of n >= 1 digits.  A lead shorter than the table's
 * reads as if a digit other than 0 followed ("8" is fixed-line, "80"
 * mobile). */
static const struct jp_type *jp_type_of(const char *nsn, size_t n)
{
	unsigned ab = (unsigned)(nsn[0] - '0') << 4 | (n >= 2 ? (unsigned)(nsn[1] - '0') : 1);

	return &jp_types[jp_lead[n >= 3 && nsn[2] == '0'][ab] & ~JP_BAD];
}

/* Type and check a Japanese NSN (the number after +81 or after the trunk 0). */
static int jp_nsn(const struct src *src, const char *nsn, size_t n, enum form form,
		  struct num *out)
{
	const struct jp_type *t;
	size_t shown, need;
	int rc;

	if (form == FORM_E164 && n >= 2 && nsn[0] == '0' && nsn[1] != '0') {
		/* "+81 (0)3 ...": a kept trunk 0 cannot be part of an NSN. */
		nsn++;
		n--;
	}
	if (n == 0)
		return fail(src, -EINVAL, form == FORM_NATIONAL ? "no digits after the leading 0"
							       : "no digits after +81");
	if (nsn[0] == '0') {
		if (form == FORM_NATIONAL)
			return fail(src, -EINVAL, "00 is not a Japanese number prefix"
				    " (a 00XY carrier-selection code must be followed"
				    " by a national number)");
		return fail(src, -EINVAL, "+81 cannot be followed by 00");
	}
	if (form == FORM_E164 && nsn[0] == '1' && n == 3)
		return jp_service(src, nsn, n, out);
	/* Nationally 010 never gets here: it is the international prefix. */
	if (n >= 2 && nsn[0] == '1' && nsn[1] == '0')
		return fail(src, -EINVAL, "+81 10 is not a Japanese number prefix");
	t = jp_type_of(nsn, n);
	if (n != t->nsn_len) {
		if (n + 2 > NUM_MAX_DIGITS)
			return too_many(src, n + 2);
		shown = form == FORM_NATIONAL ? n + 1 : n;
		need = form == FORM_NATIONAL ? t->nsn_len + 1u : t->nsn_len;
		return fail(src, -EINVAL, "%s needs %zu digits%s, got %zu", t->what, need,
			    form == FORM_NATIONAL ? "" : " after +81", shown);
	}
	if (t->cls == NUM_CLASS_IP050 && nsn[2] == '0')
		return fail(src, -EINVAL, "050 IP phone numbers never have 0 after 050");
	rc = set_digits(src, out, "81", 2, nsn, n);
	if (rc == 0)
		out->cls = t->cls;
	return rc;
}

/* E.164 digits, after '+', 010 or a global phone-context. */
static int international(const struct src *src, const char *e, size_t n, const char *after,
			 struct num *out)
{
	if (n == 0)
		return fail(src, -EINVAL, "no digits after %s", after);
	if (e[0] == '0')
		return fail(src, -EINVAL, "country codes never start with 0");
	if (n >= 2 && e[0] == '8' && e[1] == '1')
		return jp_nsn(src, e + 2, n - 2, FORM_E164, out);
	if (n > NUM_MAX_DIGITS)
		return too_many(src, n);
	if (n < FOREIGN_MIN_DIGITS)
		return fail(src, -EINVAL, "foreign number needs at least %d digits, got %zu",
			    FOREIGN_MIN_DIGITS, n);
	out->cls = NUM_CLASS_FOREIGN;
	return set_digits(src, out, "", 0, e, n);
}

static int is_18x(const char *d, size_t n)
{
	return n > 3 && d[0] == '1' && d[1] == '8' && (d[2] == '4' || d[2] == '6') &&
	       d[3] == '0';
}

/* A number written without '+': dial prefixes, 010, national or 1XY. */
static int national(const struct src *src, const char *d, size_t n, struct num *out)
{
	for (;;) {
		if (!(out->flags & (NUM_F_184 | NUM_F_186)) && is_18x(d, n)) {
			out->flags |= d[2] == '4' ? NUM_F_184 : NUM_F_186;
			d += 3;
			n -= 3;
			continue;
		}
		if (!(out->flags & NUM_F_CARRIER_SEL) && n > 4 && d[0] == '0' && d[1] == '0' &&
		    (d[4] == '0' || is_18x(d + 4, n - 4))) {
			out->flags |= NUM_F_CARRIER_SEL;
			memcpy(out->carrier, d, 4);
			out->carrier[4] = '\0';
			d += 4;
			n -= 4;
			continue;
		}
		break;
	}
	if (n >= 3 && d[0] == '0' && d[1] == '1' && d[2] == '0')
		return international(src, d + 3, n - 3, "the international prefix 010", out);
	if (d[0] == '0') {
		out->flags |= NUM_F_NATIONAL;
		return jp_nsn(src, d + 1, n - 1, FORM_NATIONAL, out);
	}
	if (d[0] == '1') {
		if (n == 3)
			return jp_service(src, d, n, out);
		if (n > 3 && d[1] == '8' && (d[2] == '4' || d[2] == '6'))
			return fail(src, -EINVAL, "%.3s must be followed by a national number"
				    " starting with 0", d);
		return fail(src, -EINVAL, "service codes have 3 digits, got %zu", n);
	}
	return fail(src, -EINVAL, "neither national (leading 0) nor E.164 (leading +)");
}

/* The first 16 bytes of a text (or fewer: bytes past the end count as
 * nothing), classified: bit i of each mask is byte i.  16 bytes hold
 * every usual way of writing a number; longer text goes to parse_full. */
struct text16 {
	uint64_t bcd;     /* digit i's value in bits 63-4i..60-4i, 0 for non-digits */
	unsigned digits;  /* digits */
	unsigned seps;    /* separators (as is_sep) */
	unsigned plus;    /* '+' */
	unsigned semis;   /* ';' */
};

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAST_SSE2 1
#endif

/* Number of set bits in a byte. */
#define POP2(n) n, n + 1, n + 1, n + 2
#define POP4(n) POP2(n), POP2(n + 1), POP2(n + 1), POP2(n + 2)
#define POP6(n) POP4(n), POP4(n + 1), POP4(n + 1), POP4(n + 2)
static const uint8_t pop8[256] = { POP6(0), POP6(1), POP6(1), POP6(2) };

static unsigned pop16(unsigned m)
{
	return pop8[m & 0xff] + pop8[m >> 8 & 0xff];
}

#ifdef FAST_SSE2
/* All 16 bytes at once, inlined so that the masks stay in registers.  The
 * text is read in place and never past len: bytes 0-7 and the 8 bytes
 * that end at byte 15, or at len when that comes sooner, shifted into
 * place; one path for every length from 8 up (the lengths differ from one
 * URI to the next).  A text under 8 bytes is copied first. */
static inline __attribute__((always_inline)) void
text16_read(const char *s, size_t len, struct text16 *t)
{
	__m128i v, dg, x;

	if (len >= 8) {
		uint64_t lo, hi;
		size_t off = len < 16 ? len - 8 : 8;

		memcpy(&lo, s, 8);
		memcpy(&hi, s + off, 8);
		/* Bytes off..off+7 become bytes 8..15: the first 8 - off
		 * of them are bytes already in lo.  Bytes past len are
		 * never looked at (when off is 0, none of hi is). */
		hi >>= 8 * (8 - off) & 63;
		v = _mm_set_epi64x((long long)hi, (long long)lo);
	} else {
		char b[16] = { 0 };

		memcpy(b, s, len);
		v = _mm_loadu_si128((const __m128i *)(const void *)b);
	}
	dg = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
			   _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
	t->digits = (unsigned)_mm_movemask_epi8(dg);
	t->seps = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))),
			     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('(')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8(')')))),
		_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
			     _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')))));
	t->plus = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
	t->semis = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(';')));
	/* Digit values (0 for the rest), each pair of bytes into one: the
	 * first in the high nibble; then the 8 pairs in order, swapped so
	 * that digit 0 is on top. */
	x = _mm_and_si128(_mm_xor_si128(v, _mm_set1_epi8('0')), dg);
	x = _mm_or_si128(_mm_and_si128(_mm_slli_epi16(x, 4), _mm_set1_epi16(0x00f0)),
			 _mm_srli_epi16(x, 8));
	x = _mm_packus_epi16(x, x);
	t->bcd = __builtin_bswap64((uint64_t)_mm_cvtsi128_si64(x));
}

/* out->digits from n (1..15) BCD digits, the bytes after the last digit
 * 0: one 16-byte store. */
static void put_digits(struct num *out, uint64_t b, unsigned n)
{
	static const char iota[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	__m128i x = _mm_cvtsi64_si128((long long)__builtin_bswap64(b)), lo_nib = _mm_set1_epi8(0x0f);

	/* Each byte holds two digits, the first in the high nibble. */
	x = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), lo_nib), _mm_and_si128(x, lo_nib));
	x = _mm_and_si128(_mm_or_si128(x, _mm_set1_epi8('0')),
			  _mm_cmpgt_epi8(_mm_set1_epi8((char)n),
					 _mm_loadu_si128((const __m128i *)(const void *)iota)));
	_mm_storeu_si128((__m128i *)(void *)out->digits, x);
}
#else
static void text16_read(const char *s, size_t len, struct text16 *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < len && i < 16; i++) {
		char c = s[i];

		if (is_digit(c)) {
			t->digits |= 1u << i;
			t->bcd |= (uint64_t)(c - '0') << (60 - 4 * i);
		}
		t->seps |= (unsigned)is_sep(c) << i;
		t->plus |= (unsigned)(c == '+') << i;
		t->semis |= (unsigned)(c == ';') << i;
	}
}

static void put_digits(struct num *out, uint64_t b, unsigned n)
{
	memset(out->digits, 0, sizeof(out->digits));
	for (unsigned i = 0; i < n; i++)
		out->digits[i] = (char)('0' + (b >> (60 - 4 * i) & 0xf));
}
#endif

/* The fast path holds the digits as BCD in a register, the first digit in
 * the top nibble: prefixes are stripped and the number typed with shifts
 * and table lookups. */
static unsigned bcd_digit(uint64_t b, unsigned j)
{
	return (unsigned)(b >> (60 - 4 * j)) & 0xf;
}

/* is_18x() of BCD digits. */
static int bcd_is_18x(uint64_t b, unsigned n)
{
	return n > 3 && ((b >> 48) | 0x0020) == 0x1860;
}

/* top_nibbles[i]: the top i of 16 nibbles. */
static const uint64_t top_nibbles[17] = {
	0, 0xf000000000000000ull, 0xff00000000000000ull, 0xfff0000000000000ull,
	0xffff000000000000ull, 0xfffff00000000000ull, 0xffffff0000000000ull,
	0xfffffff000000000ull, 0xffffffff00000000ull, 0xfffffffff0000000ull,
	0xffffffffff000000ull, 0xfffffffffff00000ull, 0xffffffffffff0000ull,
	0xfffffffffffff000ull, 0xffffffffffffff00ull, 0xfffffffffffffff0ull,
	0xffffffffffffffffull,
};

/* The digits of a parsed number, packed: see num_parse_user(). */
static uint64_t digits_bcd(const struct num *n)
{
	uint64_t b = 0;

	for (unsigned i = 0; i < n->len && i < 16; i++)
		b |= (uint64_t)(n->digits[i] - '0') << (60 - 4 * i);
	return b;
}

/* The numbers nearly every INVITE carries, without a loop over the bytes
 * and without building an error: a Japanese number of the right length
 * for its type (national with or without dial prefixes, +81, or local to
 * the phone-context +81) and a foreign +E.164 number, written in at most
 * 16 bytes with at most 3 separators.  The text is s up to its first ';'
 * when stop is set, else all of s[0..len); *text_len is set to its
 * length, or to SIZE_MAX when that is over 16 and unknown.  Returns 0
 * with all of out filled exactly as the full parser fills it for that
 * text, and *bcd as num_parse_user() says; or -1 for anything else
 * (errors, service codes, 010, other phone-contexts, '+' after a blank):
 * then the full parser decides, and says why.  The rules are the full
 * parser's, step by step (international, jp_nsn, national); the unit tests write numbers in forms that take
 * either path and expect one answer.  Inlined into both callers: a call
 * with eight arguments and its frame cost a good part of the work. */
static inline __attribute__((always_inline)) int
parse_common(const char *s, size_t len, int stop, const char *ctx, size_t ctx_len,
	     struct num *out, size_t *text_len, uint64_t *bcd)
{
	struct text16 t;
	uint64_t b, nsn, keep;
	unsigned end, textm, sm, n, m, ty, plus, cls, flags = 0;
	uint32_t carrier = 0;

	text16_read(s, len, &t);
	/* The text ends at the first ';' (when stop), or at len. */
	end = (stop ? t.semis : 0) | (len >= 16 ? 1u << 16 : 1u << len);
	end = (unsigned)__builtin_ctz(end);
	if (end == 16 && len > 16 && !(stop && s[16] == ';')) {
		*text_len = SIZE_MAX;
		return -1;
	}
	*text_len = end;
	textm = (1u << end) - 1;
	plus = t.plus & 1;
	sm = t.seps & textm;
	/* Anything but digits, separators and a leading '+' (a '+' further
	 * on, a letter, a '%') is for the full parser. */
	if (((t.digits | sm | plus) & textm) != textm)
		return -1;
	n = pop16(t.digits & textm);
	/* The digits by position, less the '+'; then each separator's
	 * nibble removed, three at most: every usual form
	 * ("+81-50-1234-5678", "(0564)83-1706") has no more.  Position i
	 * is i - k after k removals; with none left, i is 16 (no change). */
	b = t.bcd << 4 * plus;
	sm >>= plus;
	for (unsigned k = 0; k < 3; k++) {
		keep = top_nibbles[__builtin_ctz(sm | 1u << (16 + k)) - k];
		b ^= (b ^ b << 4) & ~keep;
		sm &= sm - 1;
	}
	if (sm != 0 || n == 0 || n > NUM_MAX_DIGITS)
		return -1;
	b &= top_nibbles[n];
	if (plus) {
		if (n >= 2 && b >> 56 == 0x81) {
			nsn = b << 8;
			m = n - 2;
			if (m >= 2 && bcd_digit(nsn, 0) == 0 && bcd_digit(nsn, 1) != 0) {
				nsn <<= 4;
				m--;
			}
			goto jp;
		}
		if (bcd_digit(b, 0) == 0 || n < FOREIGN_MIN_DIGITS)
			return -1;
		cls = NUM_CLASS_FOREIGN;
		goto done;
	}
	if (ctx != NULL && ctx_len > 0) {
		if (ctx_len == 3 && ctx[0] == '+' && ctx[1] == '8' && ctx[2] == '1') {
			if (bcd_digit(b, 0) != 0 && !bcd_is_18x(b, n)) {
				nsn = b;
				m = n;
				goto jp;
			}
		} else if (ctx[0] == '+' || is_blank(ctx[0])) {
			return -1;
		}
		/* Otherwise a domain name: national, as in the full parser. */
	}
	/* national()'s dial prefixes, on BCD. */
	for (;;) {
		if (!(flags & (NUM_F_184 | NUM_F_186)) && bcd_is_18x(b, n)) {
			flags |= bcd_digit(b, 2) == 4 ? NUM_F_184 : NUM_F_186;
			b <<= 12;
			n -= 3;
			continue;
		}
		if (!(flags & NUM_F_CARRIER_SEL) && n > 4 && b >> 56 == 0 &&
		    (bcd_digit(b, 4) == 0 || bcd_is_18x(b << 16, n - 4))) {
			flags |= NUM_F_CARRIER_SEL;
			for (unsigned i = 0; i < 4; i++)
				carrier |= (uint32_t)('0' + bcd_digit(b, i)) << 8 * i;
			b <<= 16;
			n -= 4;
			continue;
		}
		break;
	}
	if (bcd_digit(b, 0) != 0)
		return -1;
	flags |= NUM_F_NATIONAL;
	nsn = b << 4;
	m = n - 1;
jp:
	/* Every JP type has 9 or 10 digits.  A lead of 0 or 10 (010
	 * included) is JP_BAD. */
	if (m < 9 || m > 10)
		return -1;
	ty = jp_lead[bcd_digit(nsn, 2) == 0][nsn >> 56];
	if ((ty & JP_BAD) || m != jp_types[ty].nsn_len)
		return -1;
	cls = jp_types[ty].cls;
	b = 0x81ull << 56 | nsn >> 8;
	n = m + 2;
done:
	/* All of out, as the full parser leaves it after zeroing it. */
	put_digits(out, b, n);
	out->len = (uint8_t)n;
	out->cls = (uint8_t)cls;
	out->flags = (uint8_t)flags;
	/* The 00XY code (its first digit in the lowest byte), or nothing;
	 * kept in a register: bytes stored one by one and read back as one
	 * word would wait for the stores. */
	for (unsigned i = 0; i < 4; i++)
		out->carrier[i] = (char)(carrier >> 8 * i);
	out->carrier[4] = '\0';
	*bcd = b;
	return 0;
}

/* Every input, every error: the reference for what parse_common answers. */
static int parse_full(const char *s, size_t len, const char *phone_context, size_t ctx_len,
		      struct num *out, char *err, size_t errlen)
{
	struct src src = { s, len, err, errlen };
	struct raw r, ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		src.s = "";
	rc = collect(&src, src.s, len, &r);
	if (rc < 0)
		return rc;
	if (r.plus)
		return international(&src, r.d, r.n, "+", out);
	if (phone_context != NULL && ctx_len > 0) {
		trim(&phone_context, &ctx_len);
		if (ctx_len > 0 && phone_context[0] == '+') {
			/* A global phone-context: the number is local to it. */
			struct src csrc = { phone_context, ctx_len, NULL, 0 };
			char all[2 * RAW_MAX];

			if (collect(&csrc, phone_context, ctx_len, &ctx) < 0 || !ctx.plus) {
				char q[QUOTE_MAX];

				quote(q, sizeof(q), phone_context, ctx_len);
				return fail(&src, -EINVAL,
					    "phone-context %s is not a global number", q);
			}
			if (ctx.n == 2 && ctx.d[0] == '8' && ctx.d[1] == '1') {
				/* Japan: national format, or the NSN alone. */
				if (r.d[0] == '0' || is_18x(r.d, r.n))
					return national(&src, r.d, r.n, out);
				return jp_nsn(&src, r.d, r.n, FORM_E164, out);
			}
			memcpy(all, ctx.d, ctx.n);
			memcpy(all + ctx.n, r.d, r.n);
			return international(&src, all, ctx.n + r.n, "the phone-context", out);
		}
		/* A domain name says nothing about the numbering plan. */
	}
	return national(&src, r.d, r.n, out);
}


int num_parse(const char *s, size_t len, const char *phone_context, size_t ctx_len,
	      struct num *out, char *err, size_t errlen)
{
	size_t text_len;
	uint64_t bcd;

	if (out == NULL || (s == NULL && len > 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "num_parse: invalid arguments");
		return -EINVAL;
	}
	if (s != NULL && parse_common(s, len, 0, phone_context, ctx_len, out, &text_len, &bcd) == 0)
		return 0;
	return parse_full(s, len, phone_context, ctx_len, out, err, errlen);
}

int num_parse_user(const char *s, size_t len, const char *phone_context, size_t ctx_len,
		   struct num *out, size_t *text_len, uint64_t *bcd, char *err, size_t errlen)
{
	const char *semi;
	size_t n = 0;
	uint64_t b;
	int rc;

	if (out == NULL || text_len == NULL || (s == NULL && len > 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "num_parse_user: invalid arguments");
		return -EINVAL;
	}
	if (s != NULL && parse_common(s, len, 1, phone_context, ctx_len, out, &n, &b) == 0) {
		*text_len = n;
		if (bcd != NULL)
			*bcd = b;
		return 0;
	}
	if (n == SIZE_MAX) {
		semi = memchr(s, ';', len);
		n = semi != NULL ? (size_t)(semi - s) : len;
	}
	*text_len = n;
	rc = parse_full(s, n, phone_context, ctx_len, out, err, errlen);
	if (bcd != NULL)
		*bcd = rc == 0 ? digits_bcd(out) : 0;
	return rc;
}

int num_is_emergency(const struct num *n)
{
	if (n == NULL || n->cls != NUM_CLASS_SERVICE || n->len != 5)
		return 0;
	return memcmp(n->digits, "8111", 4) == 0 &&
	       (n->digits[4] == '0' || n->digits[4] == '8' || n->digits[4] == '9');
}

const char *num_class_name(enum num_class cls)
{
	static const char *const names[NUM_CLASS__COUNT] = {
		[NUM_CLASS_INVALID] = "invalid",
		[NUM_CLASS_FIXED] = "fixed",
		[NUM_CLASS_IP050] = "ip050",
		[NUM_CLASS_MOBILE] = "mobile",
		[NUM_CLASS_M2M] = "m2m",
		[NUM_CLASS_FREEPHONE] = "freephone",
		[NUM_CLASS_SERVICE] = "service",
		[NUM_CLASS_FOREIGN] = "foreign",
	};

	if ((unsigned)cls >= NUM_CLASS__COUNT)
		return "unknown";
	return names[cls];
}

/* "03-1234-*" or "+8131234*": canonical digits, no length checks. */
static int pattern_prefix(const struct src *src, const char *s, size_t len,
			  struct num_pattern *out)
{
	const char *cc = "", *d;
	size_t cclen = 0, n, i;
	struct raw r;

	for (i = 0; i < len && !is_digit(s[i]); i++)
		;
	if (i == len)
		return fail(src, -EINVAL, "a prefix needs at least one digit before *");
	if (collect(src, s, len, &r) < 0)
		return -EINVAL;
	d = r.d;
	n = r.n;
	if (r.plus) {
		if (d[0] == '0')
			return fail(src, -EINVAL, "country codes never start with 0");
		if (n >= 4 && d[0] == '8' && d[1] == '1' && d[2] == '0' && d[3] != '0') {
			/* The kept trunk 0 of "+81(0)3-...". */
			cc = "81";
			cclen = 2;
			d += 3;
			n -= 3;
		}
	} else if (d[0] != '0') {
		return fail(src, -EINVAL, "a prefix starts with 0 (national) or + (E.164)");
	} else if (n >= 3 && d[1] == '1' && d[2] == '0') {
		if (n == 3)
			return fail(src, -EINVAL, "no digits after the international prefix 010");
		if (d[3] == '0')
			return fail(src, -EINVAL, "country codes never start with 0");
		d += 3;
		n -= 3;
	} else if (n >= 2 && d[1] == '0') {
		return fail(src, -EINVAL, "00 is not a Japanese number prefix");
	} else {
		cc = "81";
		cclen = 2;
		d++;
		n--;
	}
	if (cclen + n > NUM_MAX_DIGITS)
		return fail(src, -EINVAL, "prefix has %zu digits, E.164 allows %d", cclen + n,
			    NUM_MAX_DIGITS);
	memcpy(out->lo, cc, cclen);
	memcpy(out->lo + cclen, d, n);
	out->lo[cclen + n] = '\0';
	out->len = (uint8_t)(cclen + n);
	out->kind = NUM_PAT_PREFIX;
	return 0;
}

/* One end of a range: a complete number; its error becomes ours. */
static int range_end(const struct src *src, const char *which, const char *s, size_t len,
		     struct num *n)
{
	char inner[NUM_ERR_MAX];

	if (num_parse(s, len, NULL, 0, n, inner, sizeof(inner)) < 0) {
		if (src->err != NULL && src->errlen > 0)
			snprintf(src->err, src->errlen, "range %s %s", which, inner);
		return -EINVAL;
	}
	return 0;
}

int num_pattern_parse(const char *s, size_t len, struct num_pattern *out,
		      char *err, size_t errlen)
{
	struct src src = { s, len, err, errlen };
	struct num lo, hi;
	int rc;

	if (out == NULL || (s == NULL && len > 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "num_pattern_parse: invalid arguments");
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		src.s = s = "";
	trim(&s, &len);
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '.' || s[i + 1] != '.')
			continue;
		rc = range_end(&src, "start", s, i, &lo);
		if (rc == 0)
			rc = range_end(&src, "end", s + i + 2, len - i - 2, &hi);
		if (rc < 0)
			return rc;
		if (lo.len != hi.len)
			return fail(&src, -EINVAL, "range ends differ in length: %s has %u digits,"
				    " %s has %u", lo.digits, lo.len, hi.digits, hi.len);
		if (memcmp(lo.digits, hi.digits, lo.len) > 0)
			return fail(&src, -EINVAL, "range runs backwards: %s is above %s",
				    lo.digits, hi.digits);
		out->kind = NUM_PAT_RANGE;
		out->len = lo.len;
		memcpy(out->lo, lo.digits, lo.len + 1u);
		memcpy(out->hi, hi.digits, hi.len + 1u);
		return 0;
	}
	if (len > 0 && s[len - 1] == '*')
		return pattern_prefix(&src, s, len - 1, out);
	rc = num_parse(s, len, NULL, 0, &lo, err, errlen);
	if (rc < 0)
		return -EINVAL;
	out->kind = NUM_PAT_EXACT;
	out->len = lo.len;
	memcpy(out->lo, lo.digits, lo.len + 1u);
	return 0;
}

struct cover {
	char (*out)[NUM_MAX_DIGITS + 1];
	size_t cap;
	size_t n;
};

static int emit(struct cover *c, const char *p, size_t plen)
{
	if (c->n == c->cap)
		return -ENOSPC;
	memcpy(c->out[c->n], p, plen);
	c->out[c->n][plen] = '\0';
	c->n++;
	return 0;
}

static int all_of(const char *s, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != c)
			return 0;
	return 1;
}

/* [lo, hi] of n digits, lo <= hi: at the first digit k where they differ,
 * a partial lower block (recursion), whole blocks for the digits strictly
 * between (or including an end whose tail is all 0s / all 9s), and a
 * partial upper block (recursion).  Each block is aligned and as large as
 * the range allows, which is what makes the cover minimal; prefixes come
 * out in ascending order. */
static int cover(struct cover *c, const char *lo, const char *hi, size_t n)
{
	char buf[NUM_MAX_DIGITS + 1];
	size_t k = 0;
	int lo0, hi9, rc;
	char first, last;

	while (k < n && lo[k] == hi[k])
		k++;
	if (k == n)
		return emit(c, lo, n);
	lo0 = all_of(lo + k + 1, n - k - 1, '0');
	hi9 = all_of(hi + k + 1, n - k - 1, '9');
	if (lo0 && hi9 && lo[k] == '0' && hi[k] == '9')
		return emit(c, lo, k);
	first = lo[k];
	last = hi[k];
	if (!lo0) {
		memcpy(buf, lo, k + 1);
		memset(buf + k + 1, '9', n - k - 1);
		rc = cover(c, lo, buf, n);
		if (rc < 0)
			return rc;
		first++;
	}
	if (!hi9)
		last--;
	memcpy(buf, lo, k);
	for (char d = first; d <= last; d++) {
		buf[k] = d;
		rc = emit(c, buf, k + 1);
		if (rc < 0)
			return rc;
	}
	if (!hi9) {
		memcpy(buf, hi, k + 1);
		memset(buf + k + 1, '0', n - k - 1);
		return cover(c, buf, hi, n);
	}
	return 0;
}

int num_range_to_prefixes(const char *lo, const char *hi, size_t len,
			  char out[][NUM_MAX_DIGITS + 1], size_t cap)
{
	struct cover c = { out, cap, 0 };
	int rc;

	if (lo == NULL || hi == NULL || out == NULL || len == 0 || len > NUM_MAX_DIGITS)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!is_digit(lo[i]) || !is_digit(hi[i]))
			return -EINVAL;
	if (memcmp(lo, hi, len) > 0)
		return -EINVAL;
	rc = cover(&c, lo, hi, len);
	return rc < 0 ? rc : (int)c.n;
}
