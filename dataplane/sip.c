/* SIP request scanning; the contract is in sip.h.
 *
 * Every helper works on a [p, e) pair inside the caller's buffer and never
 * dereferences e, so the scan is bounded by construction.  Only the headers
 * the verdict and the stateless reply need are looked at beyond their name.
 *
 * Where the bytes are searched, SSE2 (the x86-64 baseline) tests 16 of them
 * per compare; a search never reads at or past lim, the end of the whole
 * buffer (near it the bytes are copied out first, or taken one at a time),
 * so it may read past its own e, and every result is cut at e.  Without
 * SSE2 the same searches run a byte at a time.
 *  - Lines: the '\n's come from one iterator over the message that builds
 *    a bitmap per 64-byte block (lf_iter), so the next line's start never
 *    waits on a search from the previous line's start; the name's end is
 *    then found from 16 bytes at the line's start.
 *  - A header value: find() looks for a set of bytes (the end of a quoted
 *    string, of a display name, of a parameter value, '>') 16 bytes at a
 *    time, inline, where the scanner used memchr calls and byte loops.
 *    Two searches whose 16-byte steps would end after a number of steps
 *    that depends on each message take one 64-byte bitmap instead: the
 *    closing quote of a display name with no escape before it, and the
 *    '>' after a URI in <>, whose bytes then also feed the URI's bitmaps.
 *  - A URI shorter than 64 bytes (nearly all): one pass builds a bitmap per
 *    delimiter (: @ ; ? = %), and every search of the general path becomes
 *    a bit scan.  Longer URIs take the general path.
 * Measured on 20,000 generated INVITEs (tools/bench-classify --pcap of
 * tools/gen-sip-traffic --mix invite --count 20000, release build, A/B
 * with the memchr scanner on a shared 2-core machine): "sip_scan alone"
 * from about 530 to about 420 ns per INVITE, all of classification from
 * about 990 to 880.  Much of what is left is branches that depend on each
 * message (which header a line holds, which form an entry takes): one
 * message repeated 20,000 times scans in about a fifth less time, and 500
 * distinct messages repeated 40 times (the same 18 MB of memory touched as
 * 20,000 distinct ones) in about 240 ns against 400: the time the 20,000
 * add is mispredicted branches, not cache misses, and it is why wider
 * vectors do not help.  What does help is fewer branches whose outcome
 * differs from message to message: the line iterator and an "INVITE" fast
 * path took "sip_scan alone" about 3% lower, and the two 64-byte bitmaps
 * above with a branch-free scheme_of another 3-4% (A/B in one process
 * against the scanner before both, min of 151 alternating passes over the
 * 20,000: ratio 0.93-0.94, about 404 -> 378 ns; bench-classify medians of
 * 3 alternating runs: 427 -> 394 ns, all of classification 722 -> 656).
 * The copies near the buffer's end (load16, load64) are out of line: when
 * they were inlined gcc zeroed their stack buffer on every search, taken
 * or not (one store per find, about 60 instructions per INVITE); out of
 * line, "sip_scan alone" 406 -> 395 and 382 -> 373 ns (bench-classify
 * medians of 7 and 5 alternating runs against the code before).  The
 * LWS around a header line's ':' and its CR are stepped over without a
 * loop when they have the usual shape ("Name: value" CRLF, or ":" / ":\t"
 * / LF only), the loops run only for anything else: "sip_scan alone"
 * 376 -> 373 ns (7 alternating runs; in one process, old and new
 * alternating over 151 passes, the median ratio was 0.975).  The line
 * iterator's last-block copy went out of line too, and the four views
 * sip_scan clears are cleared one by one (chained, gcc stored one and
 * reloaded it 16 bytes wide for the others, a load that cannot take its
 * bytes from the two narrower stores and waits for them to reach the
 * cache): median ratio 0.984 in one process; bench-classify, 7
 * alternating runs, "sip_scan alone" 383 -> 378 and 516 -> 501 ns (a
 * loaded machine), new faster in 10 of the 14 pairs.  Per line, is_sp
 * reads the class table instead of two compares, the "no '\n' left" test
 * is made once after the line's '\n' is taken rather than in the fold
 * loop, and a hnames slot is 32 bytes (its address a shift, not a
 * multiply by 26): median ratio 0.969 in one process; bench-classify, 9
 * alternating runs, "sip_scan alone" 371 -> 367 ns, all of classification
 * 624 -> 617 (new faster in 7 of the 9 pairs; 412 -> 406 and 712 -> 683 on
 * a loaded machine).  In parse_uri_short the bitmaps that only first_in
 * reads are not masked to the URI (first_in never looks past its end), the
 * escape flag is set without a branch, and uri_commit knows a real slot by
 * its not being the scratch one: median ratio 0.97 in one process;
 * bench-classify, 9 alternating runs, "sip_scan alone" 360 -> 354 ns, all
 * of classification 609 -> 606 (new faster in 7 of the 9 pairs).  The
 * 64 bytes a URI was loaded from reach parse_uri_short in registers, not
 * through a struct stored on the stack and read back: median ratio
 * 0.967-0.979 in six one-process runs; bench-classify on a loaded machine,
 * "sip_scan alone" 485 -> 477 and 512 -> 506 ns, all of classification
 * 855 -> 843 and 908 -> 900 (new faster in 9 of 9 and 9 of 13 pairs).
 * These six changes together, against the code before them
 * (bench-classify, 9 alternating runs): "sip_scan alone" 403 -> 370 ns
 * (-8%), all of classification 661 -> 632 (-4%).
 * What these changes show about the 20,000: removing instructions
 * and stalls pays, removing a branch by adding instructions does not (see
 * the list below).  Ablations (one process, old and new alternating):
 * not parsing the list headers' entries takes "sip_scan alone" 24% lower,
 * not parsing To and From 30%, not parsing URIs past their scheme 20%.
 * Tried and measured slower or no better: an index of every delimiter per
 * 64-byte block of the header (built with SSE2, AVX2 or AVX-512), a list of
 * line ends built ahead (again, with branch-free appends: 6% slower), a
 * branch-free header name lookup (again, over 32 bytes with SSE2: 5%
 * slower; with 24-byte masked words: no better), AVX-512 (whole file built
 * with avx512bw: 64-byte finds, line heads and URI bitmaps, 128-byte line
 * heads: 0-1% better or 2% worse), parsing the known header lines after the
 * line loop instead of inside it (8% slower), a two-block line iterator
 * that steps on with a select (no better), header names ended from 32
 * bytes (no better), and value bounds computed for every line so that the
 * switch on the header is the only branch on it (2% slower).  Also tried,
 * in one process against the code before (a ratio of 1.00-1.01 there is
 * no change): parse_uri_short with the user part's bounds and the
 * parameters to look at selected instead of branched on, one loop over
 * the ';'s (gcc made branches of most selects; 1.025-1.035), the same with
 * uri_param's two names tested as words and selected (1.03), that word
 * test alone (1.01-1.02); one bitmap of the rarer bytes (':' '%' '?' LWS)
 * to build three instead of seven for plain URIs, the rest parsed as now
 * (1.026-1.035: a fifth of the URIs, IPv6 hosts and escapes, fell back);
 * 128-bit bitmaps for the 7% of URIs of 64 to 127 bytes (1.01-1.015); a
 * parameter name's end from 16 bytes classified with SSE2 instead of the
 * token loop (1.00-1.01); parse_entry compiled apart for To/From and for
 * the lists (1.00: gcc already inlines the list copy into scan_list); the
 * header name's slot hashed from its first three bytes, so that its load
 * need not wait for the name's end (1.015-1.024), or from (length, first,
 * second byte) (0.99-1.02); ieq's tail from two overlapping 4-byte words
 * (1.00); parse_entry's LWS skips testing the byte before the bound
 * (1.005); __builtin_expect on the rare paths of parse_entry,
 * parse_uri_short, skip_quoted and the line loop (1.00); parse_uri_short
 * inlined into its callers (1.006-1.014).
 *
 * Where RFC 3261 and practice disagree the scanner leans towards seeing
 * numbers (this is a blocking appliance: a number it misses is a call that
 * gets through): unquoted display names with ',' in To/From, spaces inside
 * <>, <> around the Request-URI, extra SP in the request line, and URI
 * parameters written after a bare addr-spec (;user=phone, ;phone-context=)
 * are all accepted.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sip.h"

enum {
	C_TOKEN = 1,  /* RFC 3261 token */
	C_LWS = 2,    /* SP HT CR LF: inside one logical header line, CR/LF only occur in folds */
	C_HEX = 4,
	C_SCHEME = 8, /* RFC 3986 scheme characters */
	C_URI_DELIM = 16, /* % : ; ? @: what parse_uri stops at in a sip/sips URI */
	C_SP = 32,    /* SP HT */
};

static const uint8_t cclass[256] = {
	/* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 34, 2, 0, 0, 2, 0, 0,
	/* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x20 */ 34, 1, 0, 0, 0, 17, 0, 1, 0, 0, 1, 9, 0, 9, 9, 0,
	/* 0x30 */ 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 16, 16, 0, 0, 0, 16,
	/* 0x40 */ 16, 13, 13, 13, 13, 13, 13, 9, 9, 9, 9, 9, 9, 9, 9, 9,
	/* 0x50 */ 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 1,
	/* 0x60 */ 1, 13, 13, 13, 13, 13, 13, 9, 9, 9, 9, 9, 9, 9, 9, 9,
	/* 0x70 */ 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 1, 0,
	/* 0x80 - 0xff: none */
};

static inline bool is_token(char c)
{
	return cclass[(unsigned char)c] & C_TOKEN;
}

static inline bool is_lws(char c)
{
	return cclass[(unsigned char)c] & C_LWS;
}

static inline bool is_sp(char c)
{
	return cclass[(unsigned char)c] & C_SP;
}

/* Whether eight bytes x equal the lower-case ASCII bytes l ignoring ASCII
 * case (only 'A'-'Z' fold): each byte of x ^ l is 0, or 0x20 where l holds
 * a letter. */
static inline bool word_ieq(uint64_t x, uint64_t l)
{
	const uint64_t hi = 0x8080808080808080ull;
	uint64_t letters = (l + 0x1f1f1f1f1f1f1f1full) & ~(l + 0x0505050505050505ull) & hi;

	return ((x ^ l) & ~(letters >> 2)) == 0;
}

/* Case-insensitive compare of [p, p + n) with a lower-case literal of
 * length n, eight bytes at a time (the literal's length is a constant
 * wherever this is inlined, so the loop and copies unroll). */
static inline bool ieq(const char *p, size_t n, const char *lower, size_t lower_len)
{
	uint64_t x, l;

	if (n != lower_len)
		return false;
	for (; lower_len >= 8; lower_len -= 8, p += 8, lower += 8) {
		memcpy(&x, p, 8);
		memcpy(&l, lower, 8);
		if (!word_ieq(x, l))
			return false;
	}
	if (!lower_len)
		return true;
	/* The tail byte by byte into a register: a short copy through memory
	 * read back as one word would stall on store forwarding. */
	x = l = 0;
	for (size_t i = 0; i < lower_len; i++) {
		x |= (uint64_t)(unsigned char)p[i] << (8 * i);
		l |= (uint64_t)(unsigned char)lower[i] << (8 * i);
	}
	return word_ieq(x, l);
}

#define IEQ(p, n, lit) ieq((p), (n), lit, sizeof(lit) - 1)

static inline struct sip_view view(const char *s, const char *e)
{
	return (struct sip_view){ s, (uint32_t)(e - s) };
}

static const char *skip_lws(const char *p, const char *e)
{
	while (p < e && is_lws(*p))
		p++;
	return p;
}

static const char *trim_end(const char *s, const char *e)
{
	while (e > s && is_lws(e[-1]))
		e--;
	return e;
}

/* The byte sets the value scanner searches for.  find() returns the first
 * byte of a set in [p, e), or e. */
enum cset {
	CS_QB,        /* '"' '\\': the end of a quoted-string, or an escape in it */
	CS_DISP,      /* < : " ; ? >: where an unquoted display name ends */
	CS_DISP_LIST, /* the same, and ',' */
	CS_GT,        /* '>' */
	CS_BARE,      /* LWS < > ": where a bare addr-spec ends */
	CS_BARE_LIST, /* the same, and ',' */
	CS_PVAL,      /* LWS ; ,: where a header parameter value ends */
	CS_COLON,
	CS_AT,
	CS_SEMI,
	CS_QM,
	CS_EQ,
	CS_PCT,
};

#if defined(__SSE2__)
/* Sixteen bytes at p, p < lim; bytes at or past lim read as 0, which is in
 * no set.  Only the last 15 bytes of a buffer take the copy. */
static __attribute__((noinline, cold)) __m128i load16_tail(const char *p, const char *lim)
{
	char t[16];

	memset(t, 0, sizeof(t));
	memcpy(t, p, (size_t)(lim - p));
	return _mm_loadu_si128((const __m128i *)(const void *)t);
}

/* The copy is out of line: inlined, the compiler zeroes its buffer on
 * every call, also when the bytes are loaded in place (nearly always). */
static inline __m128i load16(const char *p, const char *lim)
{
	if (__builtin_expect(lim - p >= 16, 1))
		return _mm_loadu_si128((const __m128i *)(const void *)p);
	return load16_tail(p, lim);
}

/* 64 bytes at s, s < lim, as four vectors; bytes at or past lim read as
 * 0, which is in no set. */
struct v64 {
	__m128i a, b, c, d;
};

static inline void load64_at(struct v64 *v, const char *src)
{
	v->a = _mm_loadu_si128((const __m128i *)(const void *)src);
	v->b = _mm_loadu_si128((const __m128i *)(const void *)(src + 16));
	v->c = _mm_loadu_si128((const __m128i *)(const void *)(src + 32));
	v->d = _mm_loadu_si128((const __m128i *)(const void *)(src + 48));
}

static __attribute__((noinline, cold)) void load64_tail(struct v64 *v, const char *s,
							  const char *lim)
{
	char t[64];

	memset(t, 0, sizeof(t));
	memcpy(t, s, (size_t)(lim - s));
	load64_at(v, t);
}

static inline void load64(struct v64 *v, const char *s, const char *lim)
{
	if (__builtin_expect(lim - s >= 64, 1))
		load64_at(v, s);
	else
		load64_tail(v, s, lim);
}

static inline __m128i eq8(__m128i v, char c)
{
	return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

/* Bit i: byte i of the 64 bytes a b c d is ch. */
static inline uint64_t bits64(__m128i a, __m128i b, __m128i c, __m128i d, char ch)
{
	uint64_t m0 = (unsigned)_mm_movemask_epi8(eq8(a, ch));
	uint64_t m1 = (unsigned)_mm_movemask_epi8(eq8(b, ch));
	uint64_t m2 = (unsigned)_mm_movemask_epi8(eq8(c, ch));
	uint64_t m3 = (unsigned)_mm_movemask_epi8(eq8(d, ch));

	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

/* The bytes below 0x21 or above 0x7f (as signed, below 0x21): controls,
 * SP and non-ASCII. */
static inline __m128i ctl8(__m128i v)
{
	return _mm_cmpgt_epi8(_mm_set1_epi8(0x21), v);
}

/* Bit i: byte i of the 64 bytes a b c d is a control, SP or non-ASCII. */
static inline uint64_t ctl64(__m128i a, __m128i b, __m128i c, __m128i d)
{
	return (uint64_t)(unsigned)_mm_movemask_epi8(ctl8(a)) |
	       (uint64_t)(unsigned)_mm_movemask_epi8(ctl8(b)) << 16 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(ctl8(c)) << 32 |
	       (uint64_t)(unsigned)_mm_movemask_epi8(ctl8(d)) << 48;
}

/* Bit i: byte i of v ends a header name (see name_end). */
static inline unsigned name_end16(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl8(v), eq8(v, ':')));
}

static inline __m128i lws16(__m128i v)
{
	return _mm_or_si128(_mm_or_si128(eq8(v, ' '), eq8(v, '\t')),
			    _mm_or_si128(eq8(v, '\r'), eq8(v, '\n')));
}

static inline __m128i cs_match(__m128i v, enum cset s)
{
	switch (s) {
	case CS_QB:
		return _mm_or_si128(eq8(v, '"'), eq8(v, '\\'));
	case CS_DISP:
	case CS_DISP_LIST: {
		__m128i m = _mm_or_si128(_mm_or_si128(eq8(v, '<'), eq8(v, ':')),
					 _mm_or_si128(eq8(v, '"'), eq8(v, ';')));

		m = _mm_or_si128(m, _mm_or_si128(eq8(v, '?'), eq8(v, '>')));
		return s == CS_DISP_LIST ? _mm_or_si128(m, eq8(v, ',')) : m;
	}
	case CS_GT:
		return eq8(v, '>');
	case CS_BARE:
	case CS_BARE_LIST: {
		__m128i m = _mm_or_si128(lws16(v), _mm_or_si128(eq8(v, '<'), eq8(v, '>')));

		m = _mm_or_si128(m, eq8(v, '"'));
		return s == CS_BARE_LIST ? _mm_or_si128(m, eq8(v, ',')) : m;
	}
	case CS_PVAL:
		return _mm_or_si128(lws16(v), _mm_or_si128(eq8(v, ';'), eq8(v, ',')));
	case CS_COLON:
		return eq8(v, ':');
	case CS_AT:
		return eq8(v, '@');
	case CS_SEMI:
		return eq8(v, ';');
	case CS_QM:
		return eq8(v, '?');
	case CS_EQ:
		return eq8(v, '=');
	case CS_PCT:
		return eq8(v, '%');
	}
	return _mm_setzero_si128();
}

/* Sixteen bytes at a time: most searches end in the first chunk, and an
 * inline test costs less than a call to memchr.  lim is the end of the
 * buffer (e <= lim), which bounds the loads. */
static inline const char *find(const char *p, const char *e, const char *lim, enum cset s)
{
	while (p < e) {
		unsigned m = (unsigned)_mm_movemask_epi8(cs_match(load16(p, lim), s));

		if (m) {
			const char *r = p + __builtin_ctz(m);

			return r < e ? r : e;
		}
		p += 16;
	}
	return e;
}
#else
static inline bool cs_byte(char c, enum cset s)
{
	switch (s) {
	case CS_QB:
		return c == '"' || c == '\\';
	case CS_DISP_LIST:
		if (c == ',')
			return true;
		/* fall through */
	case CS_DISP:
		return c == '<' || c == ':' || c == '"' || c == ';' || c == '?' || c == '>';
	case CS_GT:
		return c == '>';
	case CS_BARE_LIST:
		if (c == ',')
			return true;
		/* fall through */
	case CS_BARE:
		return is_lws(c) || c == '<' || c == '>' || c == '"';
	case CS_PVAL:
		return is_lws(c) || c == ';' || c == ',';
	case CS_COLON:
		return c == ':';
	case CS_AT:
		return c == '@';
	case CS_SEMI:
		return c == ';';
	case CS_QM:
		return c == '?';
	case CS_EQ:
		return c == '=';
	case CS_PCT:
		return c == '%';
	}
	return false;
}

static inline const char *find(const char *p, const char *e, const char *lim, enum cset s)
{
	(void)lim;
	while (p < e && !cs_byte(*p, s))
		p++;
	return p;
}
#endif

/* p at '"'.  Returns the byte after the closing quote, or NULL when the
 * quoted-string is not closed before e.  A backslash escapes any byte. */
static const char *skip_quoted(const char *p, const char *e, const char *lim)
{
#if defined(__SSE2__)
	/* Nearly every display name closes within 64 bytes with no escape
	 * before the closing quote: one bitmap each for '"' and '\\', and no
	 * 16-byte loop whose exit depends on the name's length. */
	struct v64 v;
	uint64_t q, bs;

	load64(&v, p, lim);
	q = bits64(v.a, v.b, v.c, v.d, '"') & ~1ull;
	bs = bits64(v.a, v.b, v.c, v.d, '\\');
	if (q && !(bs & ((q & -q) - 1)) && __builtin_ctzll(q) < e - p)
		return p + __builtin_ctzll(q) + 1;
#endif
	for (p++;; p += 2) {
		p = find(p, e, lim, CS_QB);
		if (p == e)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (p + 1 == e)
			return NULL;
	}
}

/* Header names: a perfect hash of (length, first, last character), lower
 * case, into 64 slots.  A new name that collides makes the compiler warn
 * that an initializer is overridden (-Woverride-init).  Only the headers
 * sip_scan looks into are named: every other line is skipped after one
 * failed slot check, so naming more would only cost compares. */
enum hid {
	H_OTHER = 0,
	H_TO,
	H_FROM,
	H_CALLID,
	H_CSEQ,
	H_VIA,
	H_PAI,
	H_PPI,
	H_RPID,
	H_DIVERSION,
	H_HISTINFO,
};

/* 32 bytes: a slot's address is a shift, not a multiply. */
struct __attribute__((aligned(32))) hname {
	char name[24]; /* lower case letters and '-' only (see name_eq), NUL padded */
	uint8_t len;
	uint8_t id;
};

#define HHASH(len, f, l) (((unsigned)(len) + 3u * (unsigned)(f) + 7u * (unsigned)(l)) & 63u)
#define HNAME(s, f, l, id) [HHASH(sizeof(s) - 1, f, l)] = { s, sizeof(s) - 1, id }

static const struct hname hnames[64] = {
	HNAME("to", 't', 'o', H_TO),
	HNAME("t", 't', 't', H_TO),
	HNAME("from", 'f', 'm', H_FROM),
	HNAME("f", 'f', 'f', H_FROM),
	HNAME("call-id", 'c', 'd', H_CALLID),
	HNAME("i", 'i', 'i', H_CALLID),
	HNAME("cseq", 'c', 'q', H_CSEQ),
	HNAME("via", 'v', 'a', H_VIA),
	HNAME("v", 'v', 'v', H_VIA),
	HNAME("p-asserted-identity", 'p', 'y', H_PAI),
	HNAME("p-preferred-identity", 'p', 'y', H_PPI),
	HNAME("remote-party-id", 'r', 'd', H_RPID),
	HNAME("diversion", 'd', 'n', H_DIVERSION),
	HNAME("history-info", 'h', 'o', H_HISTINFO),
};

/* Case-insensitive equality of the token run p[0..n) with the table name
 * lower[0..n).  OR-ing 0x20 into a token character lower-cases a letter
 * and leaves '-' and every other token character that could equal a
 * lower-case letter or '-' unchanged ('-' | 0x20 == '-'; only CR, never a
 * token character, would also map to '-'), so whole 8-byte words can be
 * compared at once.  Header names like P-Asserted-Identity are long, and
 * every header line of every message comes through here. */
static inline __attribute__((always_inline)) bool name_eq(const char *p, const char *e,
							    const char *lower, size_t n)
{
	const uint64_t fold = 0x2020202020202020ull;
	uint64_t a, b;
	size_t i;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Short names (most lines: To, Via, CSeq, Contact...) in one masked
	 * word when the buffer has 8 bytes left: no loop whose exit depends
	 * on the name. lower is padded, so 8 bytes of it can be read. */
	if (n < 8 && e - p >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lower, 8);
		return (((a | fold) ^ b) & ((1ull << (8 * n)) - 1)) == 0;
	}
#else
	(void)e;
#endif
	if (n < 8) {
		for (i = 0; i < n; i++)
			if (((unsigned char)p[i] | 0x20) != (unsigned char)lower[i])
				return false;
		return true;
	}
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&a, p + i, 8);
		memcpy(&b, lower + i, 8);
		if ((a | fold) != b)
			return false;
	}
	/* The last word overlaps the previous one; both ends lie in the run. */
	memcpy(&a, p + n - 8, 8);
	memcpy(&b, lower + n - 8, 8);
	return (a | fold) == b;
}

/* p[0..n) is a non-empty header name run (see name_end), e the buffer end. */
static inline __attribute__((always_inline)) enum hid hdr_lookup(const char *p, const char *e,
								  size_t n)
{
	/* OR-ing 0x20 hashes differently from lower-casing only for a first
	 * or last byte that is not a letter, and such a run matches no name
	 * in any slot (see name_eq). */
	const struct hname *h = &hnames[HHASH(n, (unsigned char)p[0] | 0x20,
					      (unsigned char)p[n - 1] | 0x20)];

	if (h->len != n || !name_eq(p, e, h->name, n))
		return H_OTHER;
	return (enum hid)h->id;
}

/* Where the header name that starts at p ends: the first byte in [p, e)
 * that is a control character, SP, ':' or not ASCII, or e.  That is the
 * end of the token run for every line whose name is in hnames; on other
 * lines the run may also take in non-token characters such as '(', and
 * then it matches no table name (name_eq cannot equal a table name over a
 * non-token byte other than CR), which is what a shorter run followed by
 * a byte other than ':' or LWS gives too: the line is skipped.  The result
 * never passes a '\n'.  Sixteen bytes are tested at a time: every line of
 * every message comes through here, and a byte loop's exit at a different
 * place on each line is a branch the CPU cannot predict. */
static const char *name_end(const char *p, const char *e)
{
#if defined(__SSE2__)
	while (e - p >= 16) {
		unsigned m = name_end16(_mm_loadu_si128((const __m128i *)(const void *)p));

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	while (p < e && (signed char)*p > 0x20 && *p != ':')
		p++;
	return p;
}

static const struct {
	const char *name;
	uint8_t len;
	uint8_t method;
} methods[] = {
	{ "INVITE", 6, SIP_METHOD_INVITE },
	{ "ACK", 3, SIP_METHOD_ACK },
	{ "BYE", 3, SIP_METHOD_BYE },
	{ "CANCEL", 6, SIP_METHOD_CANCEL },
	{ "OPTIONS", 7, SIP_METHOD_OPTIONS },
	{ "REGISTER", 8, SIP_METHOD_REGISTER },
	{ "PRACK", 5, SIP_METHOD_OTHER_KNOWN },
	{ "UPDATE", 6, SIP_METHOD_OTHER_KNOWN },
	{ "INFO", 4, SIP_METHOD_OTHER_KNOWN },
	{ "REFER", 5, SIP_METHOD_OTHER_KNOWN },
	{ "MESSAGE", 7, SIP_METHOD_OTHER_KNOWN },
	{ "SUBSCRIBE", 9, SIP_METHOD_OTHER_KNOWN },
	{ "NOTIFY", 6, SIP_METHOD_OTHER_KNOWN },
	{ "PUBLISH", 7, SIP_METHOD_OTHER_KNOWN },
};

/* Method names are case-sensitive (RFC 3261 7.1), and '%' in a method is
 * an ordinary token character, so "RE%47IST%45R" is an unknown method.
 * INVITE alone is also read as pjsip reads it (any case, or a leading
 * part of "INVITE": it compares only the token's length): a receiver
 * that takes "invite" or "INV" for an INVITE must not get one unread. */
static uint8_t method_of(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].len == n && memcmp(methods[i].name, p, n) == 0)
			return methods[i].method;
	if ((n == 6 && IEQ(p, 6, "invite")) || (n < 6 && memcmp(p, "INVITE", n) == 0))
		return SIP_METHOD_INVITE;
	return SIP_METHOD_UNKNOWN;
}

/* The scheme [s, s + n) as one 32-bit word, each byte ORed with 0x20:
 * only the upper and lower case of a letter fold onto that lower-case
 * letter, and a 3-byte scheme leaves the top byte 0, which no folded byte
 * is.  Every URI comes through here, twice for a bare addr-spec. */
static uint8_t scheme_of(const char *s, size_t n)
{
	uint32_t w;

	if (n - 3 > 1)
		return SIP_SCHEME_OTHER;
	w = ((uint32_t)(unsigned char)s[0] | (uint32_t)(unsigned char)s[1] << 8 |
	     (uint32_t)(unsigned char)s[2] << 16) | 0x202020u;
	if (n == 4)
		w |= ((uint32_t)(unsigned char)s[3] | 0x20u) << 24;
	/* Selected, not branched on: sip or tel is a coin toss per URI, and
	 * the caller's switch on the result is then the only branch on it
	 * (measured: about 1.5% of the scan). */
	return (uint8_t)((w == ('s' | 'i' << 8 | 'p' << 16)) * SIP_SCHEME_SIP |
			 (w == ('s' | 'i' << 8 | 'p' << 16 | (uint32_t)'s' << 24)) * SIP_SCHEME_SIPS |
			 (w == ('t' | 'e' << 8 | 'l' << 16)) * SIP_SCHEME_TEL);
}

/* Look at one name[=value] parameter for what the verdict needs.  Always
 * inlined, like uri_params_bits: a call per URI parameter cost 4% of the
 * scan (measured). */
static inline __attribute__((always_inline)) void uri_param(struct sip_uri *u, const char *n,
							   const char *ne, const char *v,
							   const char *ve)
{
	if (!v)
		return;
	if (IEQ(n, (size_t)(ne - n), "phone-context")) {
		if (u->phone_context.len == 0)
			u->phone_context = view(v, ve);
	} else if (IEQ(n, (size_t)(ne - n), "user") && IEQ(v, (size_t)(ve - v), "phone")) {
		u->flags |= SIP_URI_USER_PHONE;
	}
}

/* The ;name[=value] parameters in [p, e), p at the first ';'.  URI grammar
 * has no LWS here; LWS around names and values is tolerated and trimmed. */
static void uri_params(struct sip_uri *u, const char *p, const char *e, const char *lim)
{
	while (p < e) {
		const char *n = p + 1;
		const char *pe = find(n, e, lim, CS_SEMI);
		const char *eq = find(n, pe, lim, CS_EQ);
		const char *ne = eq, *v = NULL, *ve = NULL;

		n = skip_lws(n, ne);
		ne = trim_end(n, ne);
		if (eq < pe) {
			v = skip_lws(eq + 1, pe);
			ve = trim_end(v, pe);
		}
		uri_param(u, n, ne, v, ve);
		p = pe;
	}
}

/* parse_uri after the scheme, for a URI of any length: colon is the
 * scheme's ':' and u->scheme is set. */
static void parse_uri_rest(const char *colon, const char *e, const char *lim, struct sip_uri *u)
{
	const char *r = colon + 1, *semi;

	switch (u->scheme) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS: {
		/* '@' may not appear unescaped in userinfo, so the first one ends it. */
		const char *at = find(r, e, lim, CS_AT);
		const char *hs = r, *he;

		if (at < e) {
			const char *ue = find(r, at, lim, CS_COLON);

			u->user = view(r, ue);
			semi = find(r, ue, lim, CS_SEMI);
			if (semi < ue)
				uri_params(u, semi, ue, lim);
			hs = at + 1;
		}
		he = find(hs, e, lim, CS_QM);
		semi = find(hs, he, lim, CS_SEMI);
		if (semi < he)
			uri_params(u, semi, he, lim);
		break;
	}
	case SIP_SCHEME_TEL:
		semi = find(r, e, lim, CS_SEMI);
		u->user = view(r, semi);
		if (semi < e)
			uri_params(u, semi, e, lim);
		break;
	default:
		break;
	}
	if (u->user.len && find(u->user.p, u->user.p + u->user.len, lim, CS_PCT) <
				   u->user.p + u->user.len)
		u->flags |= SIP_URI_ESCAPED;
}

#if defined(__SSE2__)
/* A URI of at most 63 bytes (nearly all of them) is parsed from one bitmap
 * per delimiter over its bytes, built in one pass: every search of the
 * general path becomes a bit scan, without a loop or a call. */
struct uri_bits {
	uint64_t colon, at, semi, qm, eq, pct;
	uint64_t ctl; /* see ctl64: where LWS may be */
};

/* The first set bit of m in [a, b), or b; a <= b <= 63.  Bit b stands in
 * for "none", and bits above it cannot come first. */
static inline unsigned first_in(uint64_t m, unsigned a, unsigned b)
{
	return (unsigned)__builtin_ctzll((m & ~0ull << a) | 1ull << b);
}

/* uri_params over [p, e) given as offsets from s. */
static inline __attribute__((always_inline)) void uri_params_bits(struct sip_uri *u,
								  const char *s,
								  const struct uri_bits *b,
								  unsigned p, unsigned e)
{
	bool lws = b->ctl != 0;

	while (p < e) {
		unsigned n = p + 1, pe = first_in(b->semi, n, e), eq = first_in(b->eq, n, pe);
		const char *nn = s + n, *ne = s + eq, *v = NULL, *ve = NULL;

		if (eq < pe) {
			v = s + eq + 1;
			ve = s + pe;
		}
		/* Nearly every URI holds no LWS at all: nothing to trim. */
		if (lws) {
			nn = skip_lws(nn, ne);
			ne = trim_end(nn, ne);
			if (v) {
				v = skip_lws(v, ve);
				ve = trim_end(v, ve);
			}
		}
		uri_param(u, nn, ne, v, ve);
		p = pe;
	}
}

/* parse_uri for e - s < 64, its 64 bytes already loaded into v0..v3 (load64
 * at s), passed in registers. */
static int parse_uri_short(const char *s, const char *e, __m128i v0, __m128i v1, __m128i v2,
			   __m128i v3, struct sip_uri *u)
{
	unsigned len = (unsigned)(e - s), ci, r;
	uint64_t lm = (1ull << len) - 1;
	struct uri_bits b;

	b.colon = bits64(v0, v1, v2, v3, ':') & lm;
	if (!b.colon || (b.colon & 1))
		return -EBADMSG;
	ci = (unsigned)__builtin_ctzll(b.colon);
	u->scheme = scheme_of(s, ci);
	/* A scheme that scheme_of names is letters only. */
	if (u->scheme == SIP_SCHEME_OTHER)
		for (const char *q = s; q < s + ci; q++)
			if (!(cclass[(unsigned char)*q] & C_SCHEME))
				return -EBADMSG;
	r = ci + 1;
	b.ctl = ctl64(v0, v1, v2, v3) & lm;
	/* Only first_in reads these, and never past the URI's end: the bits
	 * past it need no mask. */
	b.semi = bits64(v0, v1, v2, v3, ';');
	b.eq = bits64(v0, v1, v2, v3, '=');
	b.pct = bits64(v0, v1, v2, v3, '%');
	switch (u->scheme) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS: {
		unsigned at, hs = r, he, semi;

		b.at = bits64(v0, v1, v2, v3, '@');
		b.qm = bits64(v0, v1, v2, v3, '?');
		at = first_in(b.at, r, len);
		if (at < len) {
			unsigned ue = first_in(b.colon, r, at);

			u->user = view(s + r, s + ue);
			semi = first_in(b.semi, r, ue);
			if (semi < ue)
				uri_params_bits(u, s, &b, semi, ue);
			hs = at + 1;
		}
		he = first_in(b.qm, hs, len);
		semi = first_in(b.semi, hs, he);
		if (semi < he)
			uri_params_bits(u, s, &b, semi, he);
		break;
	}
	case SIP_SCHEME_TEL: {
		unsigned semi = first_in(b.semi, r, len);

		u->user = view(s + r, s + semi);
		if (semi < len)
			uri_params_bits(u, s, &b, semi, len);
		break;
	}
	default:
		break;
	}
	{
		/* An empty user part (at s when there is none) has no '%'. */
		unsigned us = (unsigned)(u->user.p - s), ue = us + u->user.len;

		u->flags |= (uint8_t)((first_in(b.pct, us, ue) < ue) * SIP_URI_ESCAPED);
	}
	return 0;
}
#endif

/* Parse the URI that is exactly [s, e).  -EBADMSG when it has no scheme. */
static inline void uri_init(struct sip_uri *u, const char *s, const char *e)
{
	u->uri = view(s, e);
	u->user = view(s, s);
	u->phone_context = (struct sip_view){ NULL, 0 };
	u->scheme = SIP_SCHEME_OTHER;
	u->flags = 0;
}

static int parse_uri(const char *s, const char *e, const char *lim, struct sip_uri *u)
{
	const char *colon;

	uri_init(u, s, e);
#if defined(__SSE2__)
	if (e - s < 64) {
		struct v64 v;

		load64(&v, s, lim);
		return parse_uri_short(s, e, v.a, v.b, v.c, v.d, u);
	}
#endif
	colon = find(s, e, lim, CS_COLON);
	if (colon == e || colon == s)
		return -EBADMSG;
	for (const char *q = s; q < colon; q++)
		if (!(cclass[(unsigned char)*q] & C_SCHEME))
			return -EBADMSG;
	u->scheme = scheme_of(s, (size_t)(colon - s));
	parse_uri_rest(colon, e, lim, u);
	return 0;
}

/* Where a bare addr-spec starting at s ends.  RFC 3261 20: without <> the
 * URI carries no parameters, so the first ';' after the host begins the
 * header parameters.  A sip user part may hold ';' (user parameters), so
 * for sip/sips the search for ';' starts after the '@'. */
static const char *bare_uri_end(const char *s, const char *e, const char *lim, bool list)
{
	const char *e0 = find(s, e, lim, list ? CS_BARE_LIST : CS_BARE);
	const char *colon = find(s, e0, lim, CS_COLON), *hs;

	if (colon == e0)
		return e0;
	hs = colon + 1;
	switch (scheme_of(s, (size_t)(colon - s))) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS: {
		const char *at = find(hs, e0, lim, CS_AT);

		if (at < e0)
			hs = at + 1;
		break;
	}
	default:
		break;
	}
	return find(hs, e0, lim, CS_SEMI);
}

/* Parse one name-addr or addr-spec starting at *pp in a header value that
 * ends at e, with its header parameters.  In a list header a ',' outside
 * quotes and <> ends the entry.  Returns 0 with *pp at that ',' or at e,
 * 1 when the entry is empty, -EBADMSG when it is malformed.  *tagged says
 * whether a non-empty ;tag= header parameter was present. */
static int parse_entry(const char **pp, const char *e, const char *lim, bool list,
		       struct sip_uri *u, bool *tagged)
{
	const char *s = skip_lws(*pp, e), *q, *us, *ue;
	bool bare = false;
#if defined(__SSE2__)
	struct v64 uv; /* the 64 bytes at us, when loaded is true */
	bool loaded = false;
#endif

	*tagged = false;
	if (s == e || (list && *s == ',')) {
		*pp = s;
		return 1;
	}
	if (*s == '"') {
		q = skip_quoted(s, e, lim);
		if (!q)
			return -EBADMSG;
		q = skip_lws(q, e);
		if (q == e || *q != '<')
			return -EBADMSG;
	} else {
		/* An unquoted display name runs up to '<'; any of the others
		 * first means an addr-spec (its scheme's ':' comes before all
		 * else). */
		q = find(s, e, lim, list ? CS_DISP_LIST : CS_DISP);
		if (q == e || *q != '<')
			bare = true;
	}
	if (!bare) {
		const char *gt = NULL;

		us = skip_lws(q + 1, e);
#if defined(__SSE2__)
		/* The '>' and the URI's delimiters from one load: a URI in <>
		 * is nearly always under 64 bytes, and a 16-byte search for
		 * '>' would end after a number of steps that depends on its
		 * length. */
		if (us < e) {
			uint64_t g;

			load64(&uv, us, lim);
			g = bits64(uv.a, uv.b, uv.c, uv.d, '>');
			if (g && __builtin_ctzll(g) < e - us) {
				gt = us + __builtin_ctzll(g);
				loaded = true;
			}
		}
		if (!gt)
#endif
			gt = find(us, e, lim, CS_GT);
		if (gt == e)
			return -EBADMSG;
		ue = trim_end(us, gt);
		q = gt + 1;
	} else {
		us = s;
		ue = bare_uri_end(s, e, lim, list);
		q = ue;
	}
#if defined(__SSE2__)
	if (loaded) {
		/* ue - us < 64: parse_uri would take its short path too. */
		uri_init(u, us, ue);
		if (parse_uri_short(us, ue, uv.a, uv.b, uv.c, uv.d, u) < 0)
			return -EBADMSG;
	} else
#endif
	if (parse_uri(us, ue, lim, u) < 0)
		return -EBADMSG;

	for (;;) {
		const char *n, *ne, *v = NULL, *ve = NULL;

		q = skip_lws(q, e);
		if (q == e || (list && *q == ','))
			break;
		if (*q != ';')
			return -EBADMSG;
		n = q = skip_lws(q + 1, e);
		while (q < e && is_token(*q))
			q++;
		ne = q;
		q = skip_lws(q, e);
		if (q < e && *q == '=') {
			v = q = skip_lws(q + 1, e);
			if (q < e && *q == '"') {
				q = skip_quoted(q, e, lim);
				if (!q)
					return -EBADMSG;
			} else {
				q = find(q, e, lim, CS_PVAL);
			}
			ve = q;
		}
		if (v && ve > v && IEQ(n, (size_t)(ne - n), "tag"))
			*tagged = true;
		else if (bare)
			uri_param(u, n, ne, v, ve);
	}
	*pp = q;
	return 0;
}

/* The next ',' outside quotes and <> at or after p, or e. */
static const char *next_comma(const char *p, const char *e, const char *lim)
{
	bool angle = false;

	while (p < e) {
		if (*p == '"') {
			p = skip_quoted(p, e, lim);
			if (!p)
				return e;
			continue;
		}
		if (*p == '<')
			angle = true;
		else if (*p == '>')
			angle = false;
		else if (*p == ',' && !angle)
			return p;
		p++;
	}
	return e;
}

/* List headers (PAI, Diversion, History-Info...) may fill the array only up
 * to this, so that a flood of entries can never push To and From, which
 * every INVITE has, out of the scan. */
#define SIP_LIST_URIS (SIP_MAX_URIS - 2)

/* The next free slot below cap, or scratch when there is none (the entry is
 * still parsed, so the scan stays in step, but not recorded). */
static struct sip_uri *uri_slot(struct sip_msg *m, struct sip_uri *scratch, unsigned cap)
{
	return m->n_uris < cap ? &m->uris[m->n_uris] : scratch;
}

/* Record u, which uri_slot gave with scratch, under hdr. */
static void uri_commit(struct sip_msg *m, struct sip_uri *u, const struct sip_uri *scratch,
		       enum sip_hdr hdr)
{
	if (u != scratch) {
		u->hdr = (uint8_t)hdr;
		m->n_uris++;
	} else {
		m->flags |= SIP_F_URIS_TRUNCATED;
	}
}

/* A header that may carry several entries.  Malformed entries are skipped
 * (SIP_F_BAD_ENTRY) so that one bad entry cannot hide the others. */
static void scan_list(struct sip_msg *m, const char *p, const char *e, const char *lim,
		      enum sip_hdr hdr)
{
	struct sip_uri scratch;
	bool tagged;

	while (p < e) {
		const char *start = p;
		struct sip_uri *u = uri_slot(m, &scratch, SIP_LIST_URIS);
		int rc = parse_entry(&p, e, lim, true, u, &tagged);

		if (rc == 0) {
			uri_commit(m, u, &scratch, hdr);
		} else if (rc < 0) {
			m->flags |= SIP_F_BAD_ENTRY;
			p = next_comma(start, e, lim);
		}
		if (p < e)
			p++;
	}
}

/* To or From: exactly one entry, or the message is malformed. */
static int scan_single(struct sip_msg *m, const char *p, const char *e, const char *lim,
		       enum sip_hdr hdr, bool *tagged)
{
	struct sip_uri scratch;
	struct sip_uri *u = uri_slot(m, &scratch, SIP_MAX_URIS);

	if (parse_entry(&p, e, lim, false, u, tagged) != 0)
		return -EBADMSG;
	uri_commit(m, u, &scratch, hdr);
	return 0;
}

/* "SIP/2.0" SP 3DIGIT [SP reason]: a status line. */
static int scan_status_line(const char *p, const char *le)
{
	if (le - p < 11 || !IEQ(p, 7, "sip/2.0") || p[7] != ' ')
		return -EBADMSG;
	p += 8;
	if (p[0] < '1' || p[0] > '6' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return -EBADMSG;
	if (p + 3 < le && p[3] != ' ')
		return -EBADMSG;
	return -EPROTO;
}

/* Method SP Request-URI SP "SIP/2.0", tolerating runs of SP/HT between
 * elements and at the end, and <> around the Request-URI. */
static int scan_request_line(struct sip_msg *m, const char *p, const char *le, const char *lim)
{
	const char *q = p, *us, *ue, *ve;
	struct sip_uri *u = &m->uris[0];

	/* INVITE, the request this scanner exists for, without the byte
	 * loop and the table: "INVITE" followed by SP or HT is also what the
	 * loop would find. */
	if (le - p >= 7 && memcmp(p, "INVITE", 6) == 0 && is_sp(p[6])) {
		q = p + 6;
		m->method = SIP_METHOD_INVITE;
	} else {
		while (q < le && is_token(*q))
			q++;
		if (q == p || q == le || !is_sp(*q))
			return -EBADMSG;
		m->method = method_of(p, (size_t)(q - p));
	}
	m->method_name = view(p, q);
	us = q;
	while (us < le && is_sp(*us))
		us++;
	ve = le;
	while (ve > us && is_sp(ve[-1]))
		ve--;
	if (ve - us < 9 || !IEQ(ve - 7, 7, "sip/2.0") || !is_sp(ve[-8]))
		return -EBADMSG;
	ue = ve - 8;
	while (ue > us && is_sp(ue[-1]))
		ue--;
	if (ue - us >= 2 && *us == '<' && ue[-1] == '>') {
		us++;
		ue--;
		while (us < ue && is_sp(*us))
			us++;
		while (ue > us && is_sp(ue[-1]))
			ue--;
	}
	if (us == ue || parse_uri(us, ue, lim, u) < 0)
		return -EBADMSG;
	u->hdr = SIP_HDR_RURI;
	m->n_uris = 1;
	return 0;
}

/* The line ends of the message ('\n', and a '\r' no '\n' follows), 64
 * bytes at a time.  A block's bitmap comes
 * from loads that depend only on where the block is, not on where the
 * previous line ended, so the next line's end is a bit scan and the CPU
 * can run ahead to the next lines while one is being parsed (a line head
 * that searched from each line's start made every line wait on the one
 * before).  Only the last block of the buffer is copied out first. */
struct lf_iter {
	const char *base; /* the block the bits describe */
	uint64_t bits;    /* its '\n's not yet taken */
	size_t left;      /* bytes from base to the end of the buffer */
};

static inline uint64_t lf_block(const char *b, size_t left)
{
#if defined(__SSE2__)
	struct v64 v;
	uint64_t lf, cr;

	load64(&v, b, b + left);
	lf = bits64(v.a, v.b, v.c, v.d, '\n');
	cr = bits64(v.a, v.b, v.c, v.d, '\r');
	/* A CR that no LF follows ends a line too, as pjsip reads it: the
	 * next block's first byte decides for the last one. */
	return lf | (cr & ~(lf >> 1 | (uint64_t)(left > 64 && b[64] == '\n') << 63));
#else
	uint64_t m = 0;

	for (size_t i = 0; i < left && i < 64; i++)
		m |= (uint64_t)(b[i] == '\n' ||
				(b[i] == '\r' && (i + 1 == left || b[i + 1] != '\n'))) << i;
	return m;
#endif
}

/* Start at p, p < end. */
static inline void lf_init(struct lf_iter *it, const char *p, const char *end)
{
	it->base = p;
	it->left = (size_t)(end - p);
	it->bits = lf_block(p, it->left);
}

/* The next '\n' not yet taken, or NULL when there is none. */
static inline const char *lf_next(struct lf_iter *it)
{
	const char *r;

	while (!it->bits) {
		if (it->left <= 64) {
			it->left = 0;
			return NULL;
		}
		it->base += 64;
		it->left -= 64;
		it->bits = lf_block(it->base, it->left);
	}
	r = it->base + __builtin_ctzll(it->bits);
	it->bits &= it->bits - 1;
	return r;
}

/* What sip_scan() keeps across header lines. */
struct scan_state {
	bool have_to, have_from, to_untagged;
};

/* One header line the verdict or the reply needs, its value [vs, ve).
 * Returns -EBADMSG when a To or From does not parse. */
static inline __attribute__((always_inline)) int
take_header(struct sip_msg *out, enum hid hid, const char *vs, const char *ve, const char *end,
	    struct scan_state *st)
{
	bool tagged;

	switch (hid) {
	case H_TO:
		if (scan_single(out, vs, ve, end, SIP_HDR_TO, &tagged) < 0)
			return -EBADMSG;
		if (!st->have_to)
			out->to = view(vs, ve);
		st->have_to = true;
		st->to_untagged |= !tagged;
		break;
	case H_FROM:
		if (scan_single(out, vs, ve, end, SIP_HDR_FROM, &tagged) < 0)
			return -EBADMSG;
		if (!st->have_from)
			out->from = view(vs, ve);
		st->have_from = true;
		break;
	case H_CALLID:
		if (!out->call_id.len)
			out->call_id = view(vs, ve);
		break;
	case H_CSEQ:
		if (!out->cseq.len)
			out->cseq = view(vs, ve);
		break;
	case H_VIA:
		if (out->n_via < SIP_MAX_VIA)
			out->via[out->n_via++] = view(vs, ve);
		else
			out->flags |= SIP_F_VIA_TRUNCATED;
		break;
	case H_PAI:
		scan_list(out, vs, ve, end, SIP_HDR_PAI);
		break;
	case H_PPI:
		scan_list(out, vs, ve, end, SIP_HDR_PPI);
		break;
	case H_RPID:
		scan_list(out, vs, ve, end, SIP_HDR_RPID);
		break;
	case H_DIVERSION:
		scan_list(out, vs, ve, end, SIP_HDR_DIVERSION);
		break;
	case H_HISTINFO:
		scan_list(out, vs, ve, end, SIP_HDR_HISTINFO);
		break;
	default:
		break;
	}
	return 0;
}

/* After the headers, which end at p: the checks every request passes. */
static int scan_end(struct sip_msg *out, const char *start, const char *p, const char *end,
		    const struct scan_state *st)
{
	out->header_len = (uint32_t)(p - start);
	if (p < end)
		out->flags |= SIP_F_HAS_BODY;
	if (!st->have_to || !st->have_from || !out->call_id.len || !out->cseq.len || !out->n_via)
		return -EBADMSG;
	if (out->method == SIP_METHOD_INVITE && st->to_untagged)
		out->flags |= SIP_F_INITIAL;
	return 0;
}

/* No '\n' left: the last header line is [p, end), its name ending at q,
 * and the headers end with the buffer (a datagram without the empty
 * line, which pjsip and Kamailio act on).  Out of the line loop, which
 * reads at each line's '\n'; nothing here reads at end.  st by value, so
 * that the loop's copy stays in registers. */
static __attribute__((noinline, cold)) int
scan_last_line(struct sip_msg *out, const char *start, const char *p, const char *q,
	       const char *end, struct scan_state st)
{
	const char *vs = skip_lws(q, end);

	out->flags |= SIP_F_NO_EMPTY_LINE;
	if (q > p && vs < end && *vs == ':') {
		vs = skip_lws(vs + 1, end);
		if (take_header(out, hdr_lookup(p, end, (size_t)(q - p)), vs, trim_end(vs, end), end,
				&st) < 0)
			return -EBADMSG;
	}
	return scan_end(out, start, end, end, &st);
}

int sip_scan(const char *buf, size_t len, struct sip_msg *out)
{
	const char *start = buf, *end = buf + len, *p, *nl, *le;
	struct scan_state st = { false, false, false };
	struct lf_iter it;
	int rc;

	out->method = SIP_METHOD_UNKNOWN;
	out->n_uris = 0;
	out->n_via = 0;
	out->flags = 0;
	out->method_name = (struct sip_view){ buf, 0 };
	/* One by one: chained, gcc stores one view and reloads it (with its
	 * unwritten padding) for the others, a load that waits for the
	 * stores to reach the cache. */
	out->call_id = (struct sip_view){ NULL, 0 };
	out->from = (struct sip_view){ NULL, 0 };
	out->to = (struct sip_view){ NULL, 0 };
	out->cseq = (struct sip_view){ NULL, 0 };
	out->header_len = 0;
	if (len == 0 || len > UINT32_MAX)
		return -EBADMSG;
	/* pjsip skips these (as RFC 3261 7.5 asks on streams) */
	while (buf < end && (*buf == '\r' || *buf == '\n'))
		buf++;
	if (buf == end)
		return -EBADMSG;
	out->method_name = (struct sip_view){ buf, 0 };

	/* Every line end, the request line's first, comes from one
	 * iterator over the whole message. */
	lf_init(&it, buf, end);
	nl = lf_next(&it);
	if (!nl)
		return -EBADMSG;
	le = nl > buf && nl[-1] == '\r' ? nl - 1 : nl;
	if (le - buf >= 4 && IEQ(buf, 4, "sip/"))
		return scan_status_line(buf, le);
	rc = scan_request_line(out, buf, le, end);
	if (rc < 0)
		return rc;
	out->flags |= SIP_F_REQUEST;

	p = nl + 1;
	for (;;) {
		const char *lf, *q, *vs, *ve;
		enum hid hid = H_OTHER;

		/* The name first: a token run never holds '\n', so it ends
		 * inside the line.  An empty name is where the empty line
		 * shows. */
		q = name_end(p, end);
		lf = lf_next(&it);
		if (!lf)
			return scan_last_line(out, start, p, q, end, st);
		if (q == p) {
			if (lf == p) { /* LF, or a CR alone */
				p++;
				break;
			}
			if (*p == '\r' && p + 1 < end && p[1] == '\n') {
				p += 2;
				break;
			}
		} else {
			hid = hdr_lookup(p, end, (size_t)(q - p));
		}
		while (lf + 1 < end && is_sp(lf[1])) {
			lf = lf_next(&it);
			if (!lf)
				return scan_last_line(out, start, p, q, end, st);
		}
		if (hid == H_OTHER) {
			/* Most lines: only their end matters. */
			p = lf + 1;
			continue;
		}
		/* The LWS around ':' and before the line end is nearly always
		 * one known shape ("Name: value" CRLF): it is stepped over
		 * without a loop, and the loops run only for the rest.  Every
		 * byte read is at or before lf. */
		vs = q;
		if (*vs != ':')
			vs = skip_lws(q, lf);
		if (vs == lf || *vs != ':') {
			/* Not a header line; nothing the verdict needs can hide
			 * in it, so it is skipped like an unknown header. */
			p = lf + 1;
			continue;
		}
		vs++;
		vs += is_sp(*vs);
		if (is_lws(*vs))
			vs = skip_lws(vs, lf);
		ve = lf - (lf > vs && lf[-1] == '\r');
		if (ve > vs && is_lws(ve[-1]))
			ve = trim_end(vs, ve);
		if (take_header(out, hid, vs, ve, end, &st) < 0)
			return -EBADMSG;
		p = lf + 1;
	}
	return scan_end(out, start, p, end, &st);
}

static int hexval(char c)
{
	unsigned char u = (unsigned char)c;

	if (!(cclass[u] & C_HEX))
		return -1;
	return u <= '9' ? u - '0' : (u | 0x20) - 'a' + 10;
}

int sip_uri_number_text(const struct sip_uri *u, char *buf, size_t cap)
{
	const char *p, *q, *e;
	size_t n;

	if (!u || (!u->user.p && u->user.len))
		return -EINVAL;
	p = u->user.p;
	e = p + u->user.len;
	/* Nearly every user part holds no escape: copy the run up to the
	 * first ';' or '%' in one go, and decode byte by byte only after a '%'. */
	for (q = p; q < e && *q != ';' && *q != '%'; q++)
		;
	n = (size_t)(q - p);
	if (n > cap || n > INT_MAX)
		return -ENOSPC;
	if (n)
		memcpy(buf, p, n);
	p = q;
	while (p < e && *p != ';') {
		char c = *p;

		if (c == '%') {
			int hi, lo;

			if (e - p < 3 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			p += 3;
		} else {
			p++;
		}
		if (n >= cap || n >= INT_MAX)
			return -ENOSPC;
		buf[n++] = c;
	}
	return (int)n;
}

const char *sip_hdr_name(enum sip_hdr h)
{
	static const char *const names[SIP_HDR__COUNT] = {
		[SIP_HDR_RURI] = "Request-URI",
		[SIP_HDR_TO] = "To",
		[SIP_HDR_FROM] = "From",
		[SIP_HDR_PAI] = "P-Asserted-Identity",
		[SIP_HDR_PPI] = "P-Preferred-Identity",
		[SIP_HDR_RPID] = "Remote-Party-ID",
		[SIP_HDR_DIVERSION] = "Diversion",
		[SIP_HDR_HISTINFO] = "History-Info",
	};

	return (unsigned)h < SIP_HDR__COUNT ? names[h] : "unknown";
}

const char *sip_method_name(enum sip_method m)
{
	static const char *const names[] = {
		[SIP_METHOD_UNKNOWN] = "unknown",
		[SIP_METHOD_INVITE] = "INVITE",
		[SIP_METHOD_ACK] = "ACK",
		[SIP_METHOD_BYE] = "BYE",
		[SIP_METHOD_CANCEL] = "CANCEL",
		[SIP_METHOD_OPTIONS] = "OPTIONS",
		[SIP_METHOD_REGISTER] = "REGISTER",
		[SIP_METHOD_OTHER_KNOWN] = "other",
	};

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "unknown";
}
