/* Number trie: an immutable compact base of one-cache-line buckets, a
 * small delta in front of it, and a prefix filter; swapped by RCU.
 *
 * Key packing.  ntrie_key() stores digit i (0-based) as BCD in bits
 * 63-4i..60-4i, unused digit nibbles 0, the length in bits 3..0.  Keys
 * compared as uint64 sort lexicographically by digit string, and the key
 * of the first l digits of k is (k & pmask[l]) | l.
 *
 * Base.  Entries are grouped by (kind, digit length) into tables.  In a
 * table a number is its decimal value v < 10^len (SWAR BCD to binary)
 * mixed by a bijection of [0, 2^bits), h = mix(v).  A table is nl lines of
 * 64 bytes; h's home line is ((h >> qs) * nl) >> qt, monotone in h, so a
 * line holds a range of h and a slot stores only h's low rb bits
 * (quotienting; keys are never stored, iteration inverts mix).  A line is
 * a 32-bit header (slot count; a 28-bit filter, below), up to 15 16-bit
 * lanes with each slot's low 16 remainder bits, compared with SSE2 or
 * AVX-512, then the rest of the remainders and the values, bit-packed: a
 * hit needs no other line.  Values are indexes into a table of distinct
 * values (14 bits for the benchmark's 15000), raw uint32 above 65535 of
 * them.  Lines are sized for 75% of their slots (at 10M, 13 slots of 35
 * bits for the benchmark's 11-digit numbers, 12 of 37 for its 12-digit
 * ones: 6.6 and 7.1 bytes an entry).  A full line passes entries on to the next NT_D = 3 lines
 * (linear probing by lines, in home order, so every line from an entry's
 * home to where it sits is full; rb covers the 4-line window); the ~0.1%
 * that would go further sit in a sorted stash.  The header's filter has a
 * bit (by the low remainder bits) for each key homed there that is
 * displaced, stashed, or changed in the delta: a lookup looks further
 * only when its bit is set (~1.2% of misses at 10M).
 *   Hashing rather than ordering keeps lines even whatever the plan's
 *   density (dense 050 blocks next to sparse foreign numbers).
 *
 * Prefix entries live in tables per prefix length.  So that a lookup
 * probes them rarely, a prefix filter (a Bloom filter of 24 bits an
 * entry, three bits in one 64-bit word each) is tested first.  All the
 * prefixes a key may match share its word: the word is chosen by the key's
 * first H digits, H the shortest prefix length in the key's region (its
 * first NT_GR = 3 digits).  For the benchmark's 98K prefixes it is 300 KB,
 * in cache; ~1.5% of the keys probe a prefix table for nothing.  A region
 * that a prefix shorter than NT_GR covers, or given one shorter than H by
 * the writer, probes every prefix length until the next compaction.  Each
 * region also has a mask of the prefix lengths it holds (base and delta;
 * bit 0: slow; H is its lowest bit), so that the scalar test (single
 * lookups, the ordered and the portable passes) looks at those lengths
 * only; the AVX-512 pass tests every length some prefix has, from H up to
 * the key's.  With bench-classify's list (c20k: 2.41 keys a message, the
 * prefixes of 7 digits in regions 815 and 816, a range's of 8..10 in 811,
 * where half the keys are) a key there had tested four lengths and now
 * tests one: a loop of the messages' bulk lookups alone 62.4 -> 54.3 ns a
 * message, bench-classify 643 -> 635 ns an INVITE (medians, A/B).
 *
 * Lookup.  Single: home line and prefix word fetched together; the line
 * decides the exact part, the word the prefix lengths to probe.  Bulk, per
 * burst of 32: (1) every key's h and home line, fetched; with AVX-512
 * (checked at run time; ntrie_config.portable_only forces the portable
 * path, for tests) eight keys at a time; without it the arithmetic of all keys
 * first, then the line and prefix-word fetches back to back, and one burst
 * ahead; then the prefix filter of all keys while the lines come; (2) the
 * header and lanes of each line (eight at a time with AVX-512, SSE2 or
 * plain C otherwise): most keys are decided there (no lane matches, no
 * filter bit, no prefix candidate); the others, in key order, read the
 * rest of what the writer changes (delta, line filter) and fetch the next
 * line or a prefix table line if the base must say more; (3) those
 * lookups finish in the base, which never changes.
 *   Pass (1) reads the prefix filter before the rest: the root's change
 *   counter is read before the burst and after it, and a burst that a
 *   change landed in is resolved again by the ordered pass, which reads
 *   every changing state of a key at one point, in key order.
 *   Fewer than 8 keys (one message's numbers, as verdict_decide asks)
 *   take an ordered pass of their own (few()): every line computed and
 *   fetched first, then each key in order; the screening passes' set-up
 *   cost more than they save there (~35 ns an INVITE in bench-classify on
 *   20k messages).  Most keys are misses that the home line (no lane
 *   match, no filter bit) and the region's mask and filter word (no
 *   candidate) decide, read in resolve_front's order without its other
 *   work; the rest (12% of the c20k keys) go to resolve_front, which reads
 *   it all again.  Against the burst's ordered pass (first_pass, which
 *   also fetches the filter words, then resolve_front for every key):
 *   54.3 -> 42.9 ns a message's lookups, bench-classify 634.9 -> 613.4 ns
 *   an INVITE (medians, A/B); 773 -> 490 instructions a message
 *   (callgrind).
 *   prefix_cand() takes the head's word and bits from one hash and
 *   computes them whatever the region, without a branch on whether it
 *   has prefixes (half the c20k keys' regions do, at random): 42.9 ->
 *   38.8 ns, bench-classify 613.4 -> 599.1 ns (A/B medians); the
 *   mispredictions left cost ~2 ns a message (messages sorted by key
 *   count and region: 36 ns).  pf_test() tests a word's three bits by
 *   shifting the word: 712 -> 689 instructions a message, 41.8 -> 40.8
 *   ns, bench-classify 636.3 -> 630.6 ns (A/B medians, a busier VM).
 *   What is left there: the filter test is ~15 ns of the ~37 (without it,
 *   wrong answers, 21 ns), ~58 instructions a key at ~4 a cycle.  Tried,
 *   no win (lookups alone, A/B medians of 5-7 runs): each key hashed and
 *   resolved in one loop 40.1 -> 44.3 ns; every key's filter candidates
 *   read in the first loop, with the change-counter check of the bursts,
 *   39.1 -> 40.7; few() out of line 40.9 -> 41.7; the bursts in a
 *   function of their own (a small frame for few()) 42.5 -> 42.3; the
 *   header and candidates few() read handed to resolve_front 40.0 ->
 *   40.3.
 *
 * Delta.  A single-writer open-addressing hash of (key, kind) -> value or
 * tombstone, inside the root object, with a bloom bitmap and a mask of the
 * (kind, length)s it holds.  A slot is written, then its key published
 * with a release store; later changes of a published slot are one atomic
 * 64-bit store of (value, kind, live).  Then the writer sets the key's
 * bit in its home line's filter (or the prefix filter, then the length in
 * its region's mask; a region may get a head or turn slow), with release
 * stores, and bumps the change counter.
 * When the delta has used its capacity the writer folds base + delta into
 * a new base (ntrie_compact: enumerate, then the O(n) build), publishes a
 * new root with a release store and hands the old root and base to
 * cfg.retire.  The insert that finds the delta full pays for the
 * compaction; every other insert or delete is a hash probe and a few
 * stores.
 *
 * Build: counting sort by (table, home line) in two passes over the input,
 * each line's group sorted by h (a later duplicate wins), then one sweep
 * per table placing the groups in line order.  ntrie_config.line_fill_pct
 * (for tests) sizes the lines for another fill: over 100 sends entries to
 * the stash.
 *
 * Measured with tools/bench-trie (streams of exactly 50% and 1% hits,
 * exact or prefix, checked against a reference; this 2-core VM shared with
 * other work: ratios swing by 20% between runs; 6 runs at 10M entries):
 * bulk 50% hits 1.83-2.51x rte_hash (median 2.3x, 31-43 M/s), 1% hits
 * 1.32-1.70x (median 1.4x, 41-52 M/s); 8 later runs of the same code:
 * 1.81-2.69x (median 2.2x) and 1.20-2.00x (median 1.46x), rte_hash at
 * 9-19 and 20-34 M/s as other jobs came and went; 7.06 bytes an entry
 * (8.1 at 1M, where the 16384-update delta is 0.5 of it) vs rte_hash's 40.7; build
 * 0.7-0.9 s; compaction 1.7 s; insert-to-visible p50 2.3 us, p99 17-45 us
 * with two readers at full speed; writer commit p99 1.2 us.  Single
 * lookups: 0.9-1.4x at 50% hits, 0.55-0.9x at 1% (one DRAM line each,
 * where the old Bloom gate answered most misses from a smaller array).
 * The portable bulk path (medians of 4 runs alternating with the previous
 * portable pass, which interleaved fetches with arithmetic and resolved
 * every key one by one): 1.44x and 0.70x, 22.9 and 23.9 M/s, vs 1.25x and
 * 0.61x, 21.6 and 21.4 M/s; still below rte_hash at 1% hits and below the
 * vector path, perf showing it waiting on its fetches (first pass) and
 * on home lines.  The same runs of the previous
 * design (a 12-bit/entry gate in front of variable-size buckets with a
 * directory and separate values): 0.97x and 0.95x, 7.86 bytes an entry.
 *   The 2x target is met at 50% hits (most runs) and missed at 1%.  Why,
 *   measured on this VM (no hardware counters: perf stat reports cycles
 *   and cache events unsupported, so no L2/L3/dTLB miss counts; cpu-clock
 *   samples; rdtsc around each pass): the lines are on 2 MB pages (smaps:
 *   AnonHugePages = the 67.5 MB block; rte_hash's EAL heap is on 4 KB
 *   pages); a dependent DRAM read takes ~200 ns, 32 independent ones
 *   ~6-8 ns each, a dependent read in a 2-4 MB array 15-20 ns.  Each
 *   bulk call of 32 keys pays one DRAM round trip (its home lines) plus
 *   its compute, which at 1% hits is ~250 ns a burst on its own (130 M/s
 *   with 100K entries, all in cache) and overlaps the round trip little:
 *   at 10M, 45-70 M/s in a loop of bulk calls alone, 35-45 M/s in the
 *   benchmark (after a pass of single lookups, rte_hash in between).  The
 *   cpu-clock profile at 10M, 1% hits: 63% first pass (waiting at its
 *   prefetches and at the prefix-word gather), 14% exact pass, 7%
 *   resolve_front, 12% the second lines (tab_walk, resolve_back).  Per
 *   burst at 1% hits: 0.30 hits, 0.39 keys walking to a displaced entry's
 *   line, 0.43 probing a prefix table after the home line.  Dropping the
 *   resolve passes (wrong answers; to bound their cost) gains ~20%, the
 *   prefix-filter pass ~20% (single noisy runs).
 *   Tried, in-process A/B at 10M (two tries of the same keys, bulk passes
 *   of 1M keys alternated, per-pair ratio medians new/old), then as the
 *   benchmark runs (one process, a single-lookup pass before each bulk
 *   pass, rte_hash between, 6 reps, old/new alternating):
 *   - a gate of one bit a key by h (2^24 bits, 2 MB, ~45% set) read in
 *     the first pass, fetching only the survivors' lines: 1% hits 1.01x,
 *     50% 0.89x; 2 bits a key (4 MB): 0.945x and 0.87x.  Every burst
 *     keeps survivors (and 27% of bursts hold a hit at 1%), so the round
 *     trip stays and the gate's gather adds to it;
 *   - fetching each prefix candidate's first line in the first pass, and
 *     testing the prefix filter only at the lengths that exist: 1.02-1.06x
 *     in the first setting (9 runs), but old/new 1.01 (0.94-1.25) at 1%
 *     and 1.06 at 50% in the benchmark's, where old/old gave 0.97: no win
 *     there, not kept;
 *   - fetching home + 1 with every home line: 0.91-0.94x at 1%;
 *   - lines at 70% fill (7.30 bytes an entry, 30% fewer walks): 0.97-1.03x;
 *   - an exact pass without the count masks, and m zeroed by memset:
 *     0.98-1.05x; prefetch addresses taken from the register rather than
 *     through the store: 0.98-1.03x.
 *   2x at 1% hits would need most bursts to finish without a DRAM round
 *   trip, i.e. a gate with well under 1/32 false positives a key (over 7
 *   bits an entry, not cache resident at 10M: a Bloom gate of 4-6 bits an
 *   entry, 5-9 MB, measured 0.75-0.93x of this), or far less compute per
 *   burst than the ~250 ns above.
 *
 * Readers: one acquire load of the root, then loads (acquire or relaxed;
 * plain moves on x86).  No locks, no stores to shared memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NT_AVX512 1
#endif

#include "ntrie.h"

#define NT_NTAB 16 /* per kind, indexed by length (0: the miss table) */
#define NT_DEFAULT_DELTA 16384u
#define NT_MAX_DELTA (1u << 24)
#define NT_BURST 32
#define NT_HUGE (2u << 20)
#define NT_LINE 64       /* bytes in a line: a bucket is one cache line */
#define NT_D 3           /* an entry lives at most NT_D lines after its home line */
#define NT_FILL_X100 75  /* lines are sized for 75% of their slots */
#define NT_MAXCAP 15     /* slots a line, at most (the count is 4 bits) */
#define NT_PF_BITS 24   /* prefix filter bits per prefix entry */
#define NT_GR 3          /* digits that choose a key's region */
#define NT_NREG 4096     /* 16^NT_GR: region indexed by raw BCD */
#define NT_SLOW 16       /* region: every prefix length is a candidate */
#define NT_RSLOW 1u      /* the same in a region's length mask */
#define NT_PF_MUL 0x9e3779b97f4a7c15ull

#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* One (kind, length) table of the base.  The fields the lookup reads come
 * first, in one cache line. */
struct tab {
	uint8_t *lines;   /* nl home lines, then NT_D lines for displaced entries */
	uint64_t nl;      /* home lines */
	uint64_t mul;     /* odd multiplier of mix() */
	uint64_t mask;    /* 2^bits - 1 */
	uint64_t rmask;   /* 2^rb - 1: the part of h a slot stores */
	uint8_t sh;       /* key >> sh: the digits, right-aligned BCD */
	uint8_t xs;       /* xor-shift of mix(), >= bits/2 so one step inverts */
	uint8_t qs, qt;   /* home line = ((h >> qs) * nl) >> qt */
	uint8_t restb;    /* bits of a slot's remainder beyond its 16-bit lane */
	uint8_t vb;       /* bits of a slot's value (index) */
	uint8_t cap;      /* slots a line */
	uint8_t ro, vo;   /* byte offsets of the packed remainder and value bits */
	uint8_t bits;     /* 10^len <= 2^bits */
	uint8_t rb;
	uint64_t inv;     /* mul^-1 mod 2^bits */
	uint64_t n;       /* entries (lines and stash) */
	size_t size;      /* bytes of lines */
} __attribute__((aligned(64)));

/* An entry that found no room within NT_D lines of its home. */
struct stash_ent {
	uint64_t h;
	uint32_t value; /* raw */
	uint32_t tid;   /* kind-1 << 4 | len */
};

/* The exact tables' hashing parameters by key length, for the vector
 * first pass of a bulk lookup. */
struct vparams {
	uint64_t sh[16], xs[16], mul[16], mask[16], qs[16], nl[16], qt[16], lines[16], rmask[16];
};

struct base {
	struct tab tab[2][NT_NTAB]; /* [kind - 1][len] */
	struct vparams vp;
	uint32_t plens;             /* bit l: prefix entries of length l */
	bool wide;                  /* slots hold raw uint32 values */
	/* Written by the writer after the build too, only ever by setting
	 * bits (prefix filter, line headers, region masks) or by making a
	 * region slow. */
	uint64_t *pf;               /* prefix filter, see pf_word() */
	uint64_t pf_n;              /* its words */
	uint8_t *region;            /* NT_NREG heads: 0 no prefix, 1..15, NT_SLOW */
	uint16_t *rlens;            /* NT_NREG: bit l a prefix length of the region; NT_RSLOW */
	const uint32_t *vtab;       /* distinct values, when !wide */
	const struct stash_ent *stash;
	uint32_t nstash;
	uint64_t entries, prefixes;
	size_t bytes;
};

struct dslot {
	uint64_t key;  /* 0: empty; published with a release store */
	uint64_t meta; /* value | kind << 32 | live << 40 */
};

#define META(value, kind, live) ((uint64_t)(value) | (uint64_t)(kind) << 32 | (uint64_t)(live) << 40)
#define META_VALUE(m) ((uint32_t)(m))
#define META_KIND(m) ((uint8_t)((m) >> 32))
#define META_LIVE(m) ((m) >> 40 & 1)

struct root {
	const struct base *base;
	uint32_t slot_mask;  /* slots - 1 */
	uint32_t bloom_mask; /* bloom bits - 1 */
	uint32_t used;       /* writer: slots taken */
	uint32_t dmask;      /* bit len: exact keys of that length in delta; bit 16+len: prefixes */
	uint32_t seq;        /* bumped by the writer after each change */
	uint64_t *bloom;
	struct dslot *slots;
	size_t bytes;
};

struct ntrie {
	struct root *root; /* swapped with release stores */
	bool vec;          /* bulk lookups use AVX-512 */
	struct ntrie_config cfg;
	uint32_t delta_cap;
	uint64_t entries, prefixes, version;
};

/* pmask[l]: the bits of the first l digits of a key */
static const uint64_t pmask[17] = {
	0, 0xf000000000000000ull, 0xff00000000000000ull, 0xfff0000000000000ull,
	0xffff000000000000ull, 0xfffff00000000000ull, 0xffffff0000000000ull,
	0xfffffff000000000ull, 0xffffffff00000000ull, 0xfffffffff0000000ull,
	0xffffffffff000000ull, 0xfffffffffff00000ull, 0xffffffffffff0000ull,
	0xfffffffffffff000ull, 0xffffffffffffff00ull, 0xfffffffffffffff0ull, ~0ull,
};

uint64_t ntrie_key(const char *d, size_t len)
{
	uint64_t k = 0;

	if (d == NULL || len == 0 || len > NTRIE_MAX_DIGITS)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)d[i] - '0';
		if (c > 9)
			return 0;
		k |= (uint64_t)c << (60 - 4 * i);
	}
	return k | len;
}

size_t ntrie_key_digits(uint64_t key, char *buf)
{
	size_t len = key & 15;

	if (len > NTRIE_MAX_DIGITS)
		len = 0;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('0' + ((key >> (60 - 4 * i)) & 15));
	buf[len] = '\0';
	return len;
}

/* A key is valid when its length is 1..15, its digits are 0..9 and the
 * nibbles after them are 0. */
static inline bool key_valid(uint64_t key)
{
	unsigned len = key & 15;
	uint64_t x;

	if (len == 0 || (key & (~0ull >> (4 * len)) & ~15ull))
		return false;
	x = key >> 4;
	/* nibble >= 10 iff bit 3 and (bit 2 or bit 1) */
	return !((x & 0x0888888888888888ull) &
		 (((x & 0x0444444444444444ull) << 1) | ((x & 0x0222222222222222ull) << 2)));
}

/* SWAR: BCD (16 nibbles) to binary.  Each step turns pairs of fields
 * (hi, lo) of width w into hi * 10^k + lo by subtracting hi * (2^w - 10^k):
 * a shift, a mask, a multiply and a subtraction.  Non-digits give some
 * value but never a borrow. */
static inline uint64_t bcd2bin(uint64_t x)
{
	x -= ((x >> 4) & 0x0f0f0f0f0f0f0f0full) * 6;
	x -= ((x >> 8) & 0x00ff00ff00ff00ffull) * 156;
	x -= ((x >> 16) & 0x0000ffff0000ffffull) * 55536;
	return x - (x >> 32) * 4194967296ull;
}

static uint64_t bin2key(uint64_t v, unsigned len)
{
	uint64_t k = len;

	for (unsigned i = len; i-- > 0; v /= 10)
		k |= (v % 10) << (60 - 4 * i);
	return k;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* h: the key's number mixed by a bijection of [0, 2^bits).  A key that is
 * not valid still gives some h in range (it is rejected on a hit). */
static inline uint64_t tab_h(const struct tab *T, uint64_t key)
{
	uint64_t v = bcd2bin(key >> T->sh);

	return ((v ^ (v >> T->xs)) * T->mul) & T->mask;
}

static inline uint64_t tab_unhash(const struct tab *T, uint64_t h)
{
	uint64_t y = (h * T->inv) & T->mask;

	return y ^ (y >> T->xs);
}

/* Home line of h: monotone in h, so a line holds a range of h and a slot
 * needs only h's low rb bits (quotienting). */
static inline uint64_t tab_line(const struct tab *T, uint64_t h)
{
	return ((h >> T->qs) * T->nl) >> T->qt;
}

/* The smallest h whose home line is L (L <= nl). */
static uint64_t line_start(const struct tab *T, uint64_t L)
{
	unsigned __int128 q = (((unsigned __int128)L << T->qt) + T->nl - 1) / T->nl;

	return (uint64_t)(q << T->qs);
}

/* A line: a 32-bit header (bits 0..3 the slot count; bits 4..31 a filter
 * of keys homed here that may be elsewhere: displaced to a later line or
 * the stash by the build, or changed in the delta by the writer), then
 * cap 16-bit lanes with the low bits of each slot's remainder (h & rmask),
 * then the remainders' other bits and the values, packed. */
static inline uint32_t hdr_bit(uint64_t cmp)
{
	return 1u << (4 + (((cmp & 0xffff) * 28) >> 16));
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/* w (<= 57) bits at bit offset bit of line p, read without leaving the
 * line. */
static inline uint64_t line_bits(const uint8_t *p, unsigned bit, unsigned w)
{
	unsigned off = bit >> 3, at = off > NT_LINE - 8 ? NT_LINE - 8 : off;

	return (ld64(p + at) >> ((off - at) * 8 + (bit & 7))) & ((1ull << w) - 1);
}

static void line_put(uint8_t *p, unsigned bit, unsigned w, uint64_t v)
{
	unsigned off = bit >> 3, at = off > NT_LINE - 8 ? NT_LINE - 8 : off;
	uint64_t x = ld64(p + at);

	x |= (v & ((1ull << w) - 1)) << ((off - at) * 8 + (bit & 7));
	memcpy(p + at, &x, 8);
}

/* Lanes of line p equal to fp: two bits per lane, lane j at bits 2j. */
static inline unsigned lane_match(const uint8_t *p, uint16_t fp)
{
#ifdef __SSE2__
	__m128i k = _mm_set1_epi16((short)fp);

	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(p + 4)), k)) |
	       (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(p + 20)), k)) << 16;
#else
	unsigned m = 0;

	for (unsigned j = 0; j < NT_MAXCAP; j++) {
		uint16_t x;
		memcpy(&x, p + 4 + 2 * j, 2);
		m |= (x == fp ? 3u : 0u) << (2 * j);
	}
	return m;
#endif
}

/* Slot of remainder cmp in line p (cnt slots), or -1. */
static inline int line_find(const struct tab *T, const uint8_t *p, unsigned cnt, uint64_t cmp)
{
	unsigned m = lane_match(p, (uint16_t)cmp) & ((1u << (2 * cnt)) - 1);
	uint64_t rest = cmp >> 16;

	while (m) {
		unsigned j = (unsigned)__builtin_ctz(m) >> 1;
		m &= m - 1;
		m &= m - 1;
		if (line_bits(p, T->ro * 8 + j * T->restb, T->restb) == rest)
			return (int)j;
	}
	return -1;
}

static inline uint32_t line_value(const struct base *b, const struct tab *T, const uint8_t *p,
				  unsigned j)
{
	uint32_t v = (uint32_t)line_bits(p, T->vo * 8 + j * T->vb, T->vb);

	return b->wide ? v : b->vtab[v];
}

static inline uint32_t line_hdr(const uint8_t *p)
{
	return LOAD_ACQUIRE((const uint32_t *)p);
}

static int stash_cmp(const void *a, const void *b)
{
	const struct stash_ent *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->h < y->h ? -1 : x->h > y->h;
}

static bool stash_find(const struct base *b, unsigned tid, uint64_t h, uint32_t *value)
{
	struct stash_ent k = { .h = h, .tid = tid };
	const struct stash_ent *s;

	if (!b->nstash)
		return false;
	s = bsearch(&k, b->stash, b->nstash, sizeof(k), stash_cmp);
	if (s)
		*value = s->value;
	return s != NULL;
}

/* The rest of a base lookup after line p (the home line, slot j or -1):
 * the lines an entry displaced from p may be in, then the stash. */
static bool tab_walk(const struct base *b, const struct tab *T, unsigned tid, const uint8_t *p,
		     int j, uint64_t h, uint32_t *value)
{
	uint64_t cmp = h & T->rmask;
	unsigned cnt = line_hdr(p) & 15;

	for (unsigned k = 0; j < 0 && cnt == T->cap; k++) {
		if (k == NT_D)
			return stash_find(b, tid, h, value);
		p += NT_LINE;
		cnt = line_hdr(p) & 15;
		j = line_find(T, p, cnt, cmp);
	}
	if (j < 0)
		return false;
	*value = line_value(b, T, p, (unsigned)j);
	return true;
}

/* Base lookup of a valid (kind, key). */
static bool tab_get(const struct base *b, unsigned kind, uint64_t key, uint32_t *value)
{
	unsigned len = key & 15;
	const struct tab *T = &b->tab[kind - 1][len];
	uint64_t h = tab_h(T, key);
	const uint8_t *p = T->lines + tab_line(T, h) * NT_LINE;

	return tab_walk(b, T, (kind - 1) << 4 | len, p, line_find(T, p, line_hdr(p) & 15, h & T->rmask),
			h, value);
}

/* The prefix filter: a Bloom filter of the prefix entries (base and
 * delta) that a key tests with one word for all its prefix lengths.  A
 * key's region (its first NT_GR digits) has a head length H, the shortest
 * prefix entry in the region: the key's word is chosen by its first H
 * digits, shared by every prefix entry that can match it; each prefix
 * entry sets three bits of it, NT_PF_BITS filter bits an entry: ~0.2%
 * false positives a length tested.  It stays in cache, so that the one
 * DRAM access of most lookups is the home line.  A region covered by a
 * prefix shorter than NT_GR, or given one shorter than its head by the
 * writer, is NT_SLOW: its keys probe every prefix length. */
static inline unsigned region_of(uint64_t key)
{
	return (unsigned)(key >> (64 - 4 * NT_GR));
}

/* A hash of a (prefix) key whose every bit depends on every digit. */
static inline uint64_t pf_x(uint64_t pk)
{
	uint64_t x = (pk ^ (pk >> 32)) * NT_PF_MUL;

	return x ^ (x >> 29);
}

/* The word of the keys whose first H digits give head key hk. */
static inline const uint64_t *pf_word(const struct base *b, uint64_t hk)
{
	return b->pf + (((pf_x(hk) >> 32) * b->pf_n) >> 32);
}

/* The bits of prefix key pk. */
static inline uint64_t pf_bits(uint64_t pk)
{
	uint64_t x = pf_x(pk);

	return 1ull << ((x >> 8) & 63) | 1ull << ((x >> 14) & 63) | 1ull << ((x >> 20) & 63);
}

/* 1 when word w has the bits of the prefix key whose pf_x() is x: three
 * shifts of w rather than a mask of three shifts of 1 (fewer
 * instructions). */
static inline uint32_t pf_test(uint64_t w, uint64_t x)
{
	return (uint32_t)(w >> ((x >> 8) & 63) & w >> ((x >> 14) & 63) & w >> ((x >> 20) & 63) & 1);
}

/* Delta lookup: 1 live (value in *meta), 0 tombstone, -1 absent. */
static inline int delta_find(const struct root *r, uint64_t key, unsigned kind, uint64_t *meta)
{
	uint64_t dh = mix64(key ^ ((uint64_t)kind << 62));
	uint64_t bit = dh & r->bloom_mask;
	uint32_t i;

	if (!(LOAD_RELAXED(&r->bloom[bit >> 6]) >> (bit & 63) & 1))
		return -1;
	for (i = (uint32_t)(dh >> 32) & r->slot_mask;; i = (i + 1) & r->slot_mask) {
		uint64_t k = LOAD_ACQUIRE(&r->slots[i].key);
		if (k == 0)
			return -1;
		if (k == key) {
			uint64_t m = LOAD_RELAXED(&r->slots[i].meta);
			if (META_KIND(m) == kind) {
				*meta = m;
				return (int)META_LIVE(m);
			}
		}
	}
}

static inline void set_match(struct ntrie_match *m, uint32_t value, unsigned kind, unsigned len)
{
	m->value = value;
	m->kind = (uint8_t)kind;
	m->len = (uint8_t)len;
}

/* The longest base prefix entry of a valid key among the lengths in cand
 * (longest first); the delta holds none of them. */
static int prefix_base(const struct base *b, uint64_t key, uint32_t cand, struct ntrie_match *m)
{
	while (cand) {
		unsigned l = 31 - (unsigned)__builtin_clz(cand);
		uint32_t v;

		cand &= ~(1u << l);
		if (tab_get(b, NTRIE_PREFIX, (key & pmask[l]) | l, &v)) {
			set_match(m, v, NTRIE_PREFIX, l);
			return 1;
		}
	}
	m->kind = 0;
	return 0;
}

/* The same where the delta may hold some of them: the delta first for a
 * length it holds, then the base. */
static __attribute__((noinline)) int prefix_probe(const struct root *r, const struct base *b,
						  uint64_t key, uint32_t cand, uint32_t dm,
						  struct ntrie_match *m)
{
	while (cand) {
		unsigned l = 31 - (unsigned)__builtin_clz(cand);
		uint64_t pk = (key & pmask[l]) | l, meta;
		uint32_t v;

		cand &= ~(1u << l);
		if (dm >> l & 1) {
			int d = delta_find(r, pk, NTRIE_PREFIX, &meta);
			if (d == 1) {
				set_match(m, META_VALUE(meta), NTRIE_PREFIX, l);
				return 1;
			}
			if (d == 0)
				continue;
		}
		if ((b->plens >> l & 1) && tab_get(b, NTRIE_PREFIX, pk, &v)) {
			set_match(m, v, NTRIE_PREFIX, l);
			return 1;
		}
	}
	m->kind = 0;
	return 0;
}

/* Prefix lengths a key may match: those of some prefix entry (lens, bit
 * l) of the key's region that the filter passes.  The region's mask is
 * read first: the writer sets a length there after its filter bits. */
static inline uint32_t prefix_cand(const struct base *b, uint64_t key, unsigned len, uint32_t lens)
{
	unsigned rl = LOAD_ACQUIRE(&b->rlens[region_of(key)]);
	/* the head's word and the head's own bits come from one hash; they
	 * are computed whatever the region (15: none), so that the branch on
	 * the region, which keys take at random, is not there */
	unsigned H = (unsigned)__builtin_ctz(rl | 1u << 15);
	uint64_t x = pf_x((key & pmask[H]) | H);
	uint64_t w = LOAD_RELAXED(&b->pf[((x >> 32) * b->pf_n) >> 32]);
	uint32_t c;

	lens &= (2u << len) - 2;
	if (rl & NT_RSLOW)
		return lens;
	lens &= rl;
	c = pf_test(w, x) << H & lens;
	for (lens &= ~(1u << H); lens; lens &= lens - 1) {
		unsigned l = (unsigned)__builtin_ctz(lens);
		c |= pf_test(w, pf_x((key & pmask[l]) | l)) << l;
	}
	return c;
}

/* The part of a lookup that reads what the writer changes (line filter
 * bits, delta, prefix filter), so that the keys of a burst are resolved in
 * order; home line p fetched; pc: the prefix candidates if already known,
 * else NT_PC_LATER.  Returns 1 hit or 0 miss with m set, or 2: the rest
 * is in the base alone, *walk (look past the home line for the exact key)
 * and *cand (prefix lengths to probe) say what; the line it starts with is
 * fetched. */
#define NT_PC_LATER (1u << 31)
static inline int resolve_front(const struct root *r, const struct base *b, uint64_t key,
				const uint8_t *p, uint64_t h, uint32_t pc, struct ntrie_match *m,
				bool *walk, uint32_t *cand)
{
	unsigned len = key & 15;
	const struct tab *T = &b->tab[0][len];
	uint64_t cmp = h & T->rmask, meta;
	uint32_t hdr = line_hdr(p), dm = 0, c;
	int j = line_find(T, p, hdr & 15, cmp);

	*walk = false;
	if (hdr & hdr_bit(cmp)) {
		/* in the delta, or displaced */
		if (!key_valid(key))
			goto miss;
		dm = LOAD_RELAXED(&r->dmask);
		if (dm >> len & 1) {
			int d = delta_find(r, key, NTRIE_EXACT, &meta);
			if (d == 1) {
				set_match(m, META_VALUE(meta), NTRIE_EXACT, len);
				return 1;
			}
			if (d == 0)
				goto prefix;
		}
		if (j < 0) {
			*walk = (hdr & 15) == T->cap;
			goto prefix;
		}
	} else if (j < 0 || !key_valid(key)) {
		goto prefix;
	}
	set_match(m, line_value(b, T, p, (unsigned)j), NTRIE_EXACT, len);
	return 1;
prefix:
	c = pc != NT_PC_LATER ? pc
			      : prefix_cand(b, key, len, b->plens | LOAD_RELAXED(&r->dmask) >> 16);
	if (c) {
		if (!key_valid(key))
			goto miss;
		dm = LOAD_RELAXED(&r->dmask) >> 16;
		c &= (b->plens | dm) & ((2u << len) - 1);
		if (c & dm) {
			/* the delta has a say: all of it now */
			uint32_t v;
			if (*walk && tab_walk(b, T, len, p, -1, h, &v)) {
				set_match(m, v, NTRIE_EXACT, len);
				return 1;
			}
			return prefix_probe(r, b, key, c, dm, m);
		}
	}
	*cand = c;
	if (*walk) {
		__builtin_prefetch(p + NT_LINE);
		return 2;
	}
	if (c) {
		unsigned l = 31 - (unsigned)__builtin_clz(c);
		const struct tab *P = &b->tab[1][l];
		__builtin_prefetch(P->lines + tab_line(P, tab_h(P, (key & pmask[l]) | l)) * NT_LINE);
		return 2;
	}
miss:
	m->kind = 0;
	return 0;
}

/* The rest of a lookup that resolve_front left to the base. */
static int resolve_back(const struct base *b, uint64_t key, const uint8_t *p, uint64_t h,
			bool walk, uint32_t cand, struct ntrie_match *m)
{
	unsigned len = key & 15;
	uint32_t v;

	if (walk && tab_walk(b, &b->tab[0][len], len, p, -1, h, &v)) {
		set_match(m, v, NTRIE_EXACT, len);
		return 1;
	}
	return prefix_base(b, key, cand, m);
}

int ntrie_lookup(const struct ntrie *t, uint64_t key, struct ntrie_match *m)
{
	const struct root *r = LOAD_ACQUIRE(&t->root);
	const struct base *b = r->base;
	const struct tab *T = &b->tab[0][key & 15];
	uint64_t h = tab_h(T, key);
	const uint8_t *p = T->lines + tab_line(T, h) * NT_LINE;
	unsigned H = LOAD_RELAXED(&b->region[region_of(key)]);
	uint32_t cand;
	bool walk;
	int rc;

	/* both misses at once: the home line and the prefix word */
	__builtin_prefetch(p);
	__builtin_prefetch(pf_word(b, (key & pmask[H]) | H));
	rc = resolve_front(r, b, key, p, h, NT_PC_LATER, m, &walk, &cand);

	return rc < 2 ? rc : resolve_back(b, key, p, h, walk, cand, m);
}

/* First pass of a bulk lookup: every key's home line and h; fetch the
 * line and the key's prefix filter word (only fetched here: a region head
 * changed meanwhile costs a cache miss, never a wrong answer).  The
 * prefix candidates are left to resolve_front.  The fetches are issued
 * after all the arithmetic, back to back: a fetch may wait in the
 * processor's window for its page walk, and the arithmetic of the keys
 * behind it would keep the window from reaching their fetches (the
 * interleaved loop measured half the speed). */
static void first_pass(const struct base *b, const uint64_t *k, unsigned c, const uint8_t **ln,
		       uint64_t *hv, uint32_t *pc)
{
	const uint64_t *pw[NT_BURST];

	for (unsigned i = 0; i < c; i++) {
		uint64_t key = k[i];
		unsigned len = key & 15, H = LOAD_RELAXED(&b->region[region_of(key)]);
		const struct tab *T = &b->tab[0][len];
		uint64_t h = tab_h(T, key);
		ln[i] = T->lines + tab_line(T, h) * NT_LINE;
		hv[i] = h;
		pc[i] = NT_PC_LATER;
		/* no word to fetch: the line again */
		pw[i] = H - 1 < len ? pf_word(b, (key & pmask[H]) | H) : (const uint64_t *)ln[i];
	}
	for (unsigned i = 0; i < c; i++)
		__builtin_prefetch(ln[i]);
	for (unsigned i = 0; i < c; i++)
		__builtin_prefetch(pw[i]);
}

/* The prefix candidates of every key of a burst, as prefix_cand computes
 * them, while the lines come (the words were fetched by first_pass). */
static void prefix_pass(const struct base *b, const uint64_t *k, unsigned c, uint32_t lens,
			uint32_t *pc)
{
	for (unsigned i = 0; i < c; i++)
		pc[i] = prefix_cand(b, k[i], k[i] & 15, lens);
}

/* Second pass without AVX-512, as exact_pass_avx512: bit i set for the
 * keys that need resolve_front.  A short loop with no branch on the
 * lines, so that the processor has many of the burst's line reads in
 * flight at once (resolve_front, key by key, waits for each in turn). */
static uint32_t exact_pass(const struct base *b, const uint64_t *k, unsigned c,
			   const uint8_t *const *ln, const uint64_t *hv, const uint32_t *pc)
{
	uint32_t need = 0;

	for (unsigned i = 0; i < c; i++) {
		const struct tab *T = &b->tab[0][k[i] & 15];
		uint64_t cmp = hv[i] & T->rmask;
		uint32_t hdr = line_hdr(ln[i]);
		unsigned lm = lane_match(ln[i], (uint16_t)cmp) & ((1u << (2 * (hdr & 15))) - 1);

		need |= (uint32_t)((lm | (hdr & hdr_bit(cmp)) | pc[i]) != 0) << i;
	}
	return need;
}

#ifdef NT_AVX512
#define NT_V512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

/* The same, eight keys at a time (h and the line as tab_h and tab_line
 * compute them), and the prefix candidates of each key among the lengths
 * lens, as prefix_cand computes them. */
static NT_V512 void first_pass_avx512(const struct base *b, const uint64_t *k, unsigned c,
				      const uint8_t **ln, uint64_t *hv, uint32_t lens,
				      uint32_t *pc)
{
	const struct vparams *vp = &b->vp;
#define VP(f) __m512i f##0 = _mm512_loadu_si512(vp->f), f##1 = _mm512_loadu_si512(vp->f + 8)
	VP(sh);
	VP(xs);
	VP(mul);
	VP(mask);
	VP(qs);
	VP(nl);
	VP(qt);
	VP(lines);
#undef VP
	const __m512i f15 = _mm512_set1_epi64(15), m0f = _mm512_set1_epi8(0x0f);
	const __m512i m00ff = _mm512_set1_epi16(0xff), m0000ffff = _mm512_set1_epi32(0xffff);
	const __m512i c6 = _mm512_set1_epi16(6), c156 = _mm512_set1_epi16(156);
	const __m512i c55536 = _mm512_set1_epi32(55536), c4194967296 = _mm512_set1_epi64(4194967296ll);
	const __m512i cpf = _mm512_set1_epi64((long long)NT_PF_MUL), pfn = _mm512_set1_epi64((long long)b->pf_n);
	const __m512i one = _mm512_set1_epi64(1), f63 = _mm512_set1_epi64(63), zero = _mm512_setzero_si512();
	const __m512i two = _mm512_set1_epi64(2), f16 = _mm512_set1_epi64(16);
	const __m512i lensv = _mm512_set1_epi64(lens & 0xfffe);
	const __m512i pm0 = _mm512_loadu_si512(pmask), pm1 = _mm512_loadu_si512(pmask + 8);
	unsigned i = 0;

	for (; i + 8 <= c; i += 8) {
		__m512i key = _mm512_loadu_si512(k + i), len = _mm512_and_si512(key, f15), x, t, h;
#define SEL(f) _mm512_permutex2var_epi64(f##0, len, f##1)
		x = _mm512_srlv_epi64(key, SEL(sh));
		t = _mm512_and_si512(_mm512_srli_epi64(x, 4), m0f);
		x = _mm512_sub_epi64(x, _mm512_mullo_epi16(t, c6));
		t = _mm512_and_si512(_mm512_srli_epi64(x, 8), m00ff);
		x = _mm512_sub_epi64(x, _mm512_mullo_epi16(t, c156));
		t = _mm512_and_si512(_mm512_srli_epi64(x, 16), m0000ffff);
		x = _mm512_sub_epi64(x, _mm512_mullo_epi32(t, c55536));
		x = _mm512_sub_epi64(x, _mm512_mul_epu32(_mm512_srli_epi64(x, 32), c4194967296));
		x = _mm512_xor_si512(x, _mm512_srlv_epi64(x, SEL(xs)));
		h = _mm512_and_si512(_mm512_mullo_epi64(x, SEL(mul)), SEL(mask));
		t = _mm512_mul_epu32(_mm512_srlv_epi64(h, SEL(qs)), SEL(nl));
		t = _mm512_srlv_epi64(t, SEL(qt));
		t = _mm512_add_epi64(SEL(lines), _mm512_slli_epi64(t, 6));
#undef SEL
		_mm512_storeu_si512(hv + i, h);
		_mm512_storeu_si512((void *)(ln + i), t);
		for (unsigned j = 0; j < 8; j++)
			__builtin_prefetch(ln[i + j]);
	}
	first_pass(b, k + i, c - i, ln + i, hv + i, pc + i);
	/* prefix candidates, while the lines come: the region's head H, the
	 * head's word w, then the lengths H, H + 1, ... up to the key's */
	for (i = 0; i + 8 <= c; i += 8) {
		__m512i key = _mm512_loadu_si512(k + i), len = _mm512_and_si512(key, f15), x, t;
		__m512i cand, H, pk, w, m;
		__mmask8 act, slow;

		H = _mm512_cvtepu32_epi64(_mm256_and_si256(
			_mm512_i64gather_epi32(_mm512_srli_epi64(key, 64 - 4 * NT_GR), b->region, 1),
			_mm256_set1_epi32(0xff)));
		act = _mm512_cmple_epu64_mask(H, len) & _mm512_cmpneq_epi64_mask(H, zero);
		slow = _mm512_cmpeq_epi64_mask(H, f16);
		cand = _mm512_maskz_and_epi64(slow, lensv,
					      _mm512_sub_epi64(_mm512_sllv_epi64(two, len), two));
		if (!act)
			goto store;
		pk = _mm512_or_si512(_mm512_and_si512(key, _mm512_permutex2var_epi64(pm0, H, pm1)), H);
		x = _mm512_mullo_epi64(_mm512_xor_si512(pk, _mm512_srli_epi64(pk, 32)), cpf);
		x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 29));
		t = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(x, 32), pfn), 32);
		w = _mm512_mask_i64gather_epi64(zero, act, t, b->pf, 8);
		for (__m512i l = H;; l = _mm512_add_epi64(l, one)) {
			__mmask8 on = act & _mm512_cmple_epu64_mask(l, len), ok;
			if (!on)
				break;
			on &= _mm512_test_epi64_mask(_mm512_srlv_epi64(lensv, l), one);
			pk = _mm512_or_si512(_mm512_and_si512(key, _mm512_permutex2var_epi64(pm0, l, pm1)), l);
			x = _mm512_mullo_epi64(_mm512_xor_si512(pk, _mm512_srli_epi64(pk, 32)), cpf);
			x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 29));
			m = _mm512_or_si512(
				_mm512_or_si512(
					_mm512_sllv_epi64(one, _mm512_and_si512(_mm512_srli_epi64(x, 8), f63)),
					_mm512_sllv_epi64(one, _mm512_and_si512(_mm512_srli_epi64(x, 14), f63))),
				_mm512_sllv_epi64(one, _mm512_and_si512(_mm512_srli_epi64(x, 20), f63)));
			ok = _mm512_mask_cmpeq_epi64_mask(on, _mm512_and_si512(w, m), m);
			cand = _mm512_mask_or_epi64(cand, ok, cand, _mm512_sllv_epi64(one, l));
		}
store:
		_mm256_storeu_si256((__m256i *)(pc + i), _mm512_cvtepi64_epi32(cand));
	}
}

/* Second pass, eight keys at a time, once the lines are in: the keys that
 * need resolve_front (bit i): a lane of the home line matches (maybe a
 * hit), the home line's filter has the key's bit (displaced, or in the
 * delta), or a prefix candidate; the others are misses. */
static NT_V512 uint32_t exact_pass_avx512(const struct base *b, const uint64_t *k, unsigned c,
					  const uint8_t *const *ln, const uint64_t *hv,
					  const uint32_t *pc)
{
	const __m512i rm0 = _mm512_loadu_si512(b->vp.rmask), rm1 = _mm512_loadu_si512(b->vp.rmask + 8);
	const __m512i f15 = _mm512_set1_epi64(15), ffff = _mm512_set1_epi64(0xffff);
	const __m512i one = _mm512_set1_epi64(1), four = _mm512_set1_epi64(4);
	uint32_t need = (c & 7) ? ((1u << (c & 7)) - 1) << (c & ~7u) : 0;

	for (unsigned i = 0; i + 8 <= c; i += 8) {
		__m512i len = _mm512_and_si512(_mm512_loadu_si512(k + i), f15);
		__m512i cmp = _mm512_and_si512(_mm512_loadu_si512(hv + i),
					       _mm512_permutex2var_epi64(rm0, len, rm1));
		__m512i fp = _mm512_and_si512(cmp, ffff);
		__m512i hdr = _mm512_cvtepu32_epi64(
			_mm512_i64gather_epi32(_mm512_loadu_si512((const void *)(ln + i)), NULL, 1));
		/* hdr_bit(): 4 + (fp * 28 >> 16) */
		__m512i hb = _mm512_add_epi64(four, _mm512_srli_epi64(_mm512_sub_epi64(
				_mm512_slli_epi64(fp, 5), _mm512_slli_epi64(fp, 2)), 16));
		__mmask8 flag = _mm512_test_epi64_mask(_mm512_srlv_epi64(hdr, hb), one) |
				_mm256_test_epi32_mask(_mm256_loadu_si256((const __m256i *)(pc + i)),
						       _mm256_set1_epi32(-1));
		uint64_t cm[8];

		_mm512_storeu_si512(cm, _mm512_sub_epi64(
			_mm512_sllv_epi64(one, _mm512_and_si512(hdr, f15)), one));
		for (unsigned j = 0; j < 8; j += 2) {
			/* two lines' lanes in one register, against their fp */
			const __m512i sel = _mm512_set_epi64(
				0x0004000400040004ll * (j + 1), 0x0004000400040004ll * (j + 1),
				0x0004000400040004ll * (j + 1), 0x0004000400040004ll * (j + 1),
				0x0004000400040004ll * j, 0x0004000400040004ll * j,
				0x0004000400040004ll * j, 0x0004000400040004ll * j);
			__m512i lanes = _mm512_inserti64x4(
				_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ln[i + j] + 4))),
				_mm256_loadu_si256((const __m256i *)(ln[i + j + 1] + 4)), 1);
			uint32_t eq = _mm512_cmpeq_epi16_mask(lanes, _mm512_permutexvar_epi16(sel, fp));
			flag |= (__mmask8)(((eq & cm[j]) != 0) << j | ((eq >> 16 & cm[j + 1]) != 0) << (j + 1));
		}
		need |= (uint32_t)flag << i;
	}
	return need;
}

static int nt_avx512(void)
{
	static int have = -1;

	if (have < 0)
		have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
		       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
	return have;
}
#endif

/* The keys resolve_front left to the base (later[0..nl)), in order.
 * Returns their hits. */
static unsigned resolve_later(const struct base *b, const uint64_t *k, const uint8_t *const *ln,
			      const uint64_t *hv, const bool *walk, const uint32_t *cand,
			      const uint8_t *later, unsigned nl, struct ntrie_match *m)
{
	unsigned hits = 0;

	for (unsigned j = 0; j < nl; j++) {
		unsigned i = later[j];
		hits += (unsigned)resolve_back(b, k[i], ln[i], hv[i], walk[i], cand[i], &m[i]);
	}
	return hits;
}

/* One burst of c <= NT_BURST keys: three passes.  Compute every key's home
 * line and fetch it; resolve the keys in order, fetching what the few that
 * need more will read; finish those.  screen: also test the prefix filter
 * of every key while the lines come (with AVX-512 if vec), then decide
 * the keys that can only miss from their home lines in one short pass, and
 * resolve the others: the caller must check that no change landed
 * meanwhile. */
struct first {
	const uint8_t *ln[NT_BURST];
	uint64_t hv[NT_BURST];
	uint32_t pc[NT_BURST];
};

static unsigned burst(const struct root *r, const struct base *b, const uint64_t *k, unsigned c,
		      struct ntrie_match *m, bool screen, bool vec, struct first *f)
{
	struct first own;
	const uint8_t **ln = f ? f->ln : own.ln;
	uint64_t *hv = f ? f->hv : own.hv;
	uint32_t *pc = f ? f->pc : own.pc;
	uint32_t cand[NT_BURST];
	uint8_t later[NT_BURST];
	bool walk[NT_BURST];
	unsigned hits = 0, nl = 0;

	if (screen) {
		uint32_t need, lens = b->plens | LOAD_RELAXED(&r->dmask) >> 16;
#ifdef NT_AVX512
		if (vec) {
			first_pass_avx512(b, k, c, ln, hv, lens, pc);
			need = exact_pass_avx512(b, k, c, ln, hv, pc);
		} else
#endif
		{
			(void)vec;
			if (!f)
				first_pass(b, k, c, ln, hv, pc);
			prefix_pass(b, k, c, lens, pc);
			need = exact_pass(b, k, c, ln, hv, pc);
		}
		for (unsigned i = 0; i < c; i++)
			m[i].kind = 0;
		for (; need; need &= need - 1) {
			unsigned i = (unsigned)__builtin_ctz(need);
			int rc = resolve_front(r, b, k[i], ln[i], hv[i], pc[i], &m[i], &walk[i],
					       &cand[i]);
			hits += rc & 1;
			later[nl] = (uint8_t)i;
			nl += rc >> 1;
		}
	} else {
		first_pass(b, k, c, ln, hv, pc);
		for (unsigned i = 0; i < c; i++) {
			int rc = resolve_front(r, b, k[i], ln[i], hv[i], pc[i], &m[i], &walk[i],
					       &cand[i]);
			hits += rc & 1;
			later[nl] = (uint8_t)i;
			nl += rc >> 1;
		}
	}
	return hits + resolve_later(b, k, ln, hv, walk, cand, later, nl, m);
}

/* Fewer than 8 keys, in order: every home line computed and fetched,
 * then each key resolved.  Most keys are misses decided by their home line
 * and region alone (no lane matches, no filter bit, no prefix candidate):
 * read in the order resolve_front reads them; the others are left to
 * resolve_front, which reads it all again, so that a key's answer comes
 * from one reading of each changing state in that order. */
static unsigned few(const struct root *r, const struct base *b, const uint64_t *k, unsigned n,
		    struct ntrie_match *m)
{
	const uint8_t *ln[8];
	uint64_t hv[8];
	uint32_t cand[8];
	bool walk[8];
	uint8_t later[8];
	unsigned hits = 0, nl = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct tab *T = &b->tab[0][k[i] & 15];
		uint64_t h = tab_h(T, k[i]);
		hv[i] = h;
		ln[i] = T->lines + tab_line(T, h) * NT_LINE;
		__builtin_prefetch(ln[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t key = k[i];
		unsigned len = key & 15;
		const struct tab *T = &b->tab[0][len];
		uint64_t cmp = hv[i] & T->rmask;
		uint32_t hdr = line_hdr(ln[i]);
		unsigned lm = lane_match(ln[i], (uint16_t)cmp) & ((1u << (2 * (hdr & 15))) - 1);
		int rc;

		if (!(lm | (hdr & hdr_bit(cmp))) && !prefix_cand(b, key, len, 0xfffe)) {
			m[i].kind = 0;
			continue;
		}
		rc = resolve_front(r, b, key, ln[i], hv[i], NT_PC_LATER, &m[i], &walk[i], &cand[i]);
		hits += rc & 1;
		later[nl] = (uint8_t)i;
		nl += rc >> 1;
	}
	return hits + resolve_later(b, k, ln, hv, walk, cand, later, nl, m);
}

unsigned ntrie_lookup_bulk(const struct ntrie *t, const uint64_t *keys, unsigned n,
			   struct ntrie_match *m)
{
	const struct root *r = LOAD_ACQUIRE(&t->root);
	const struct base *b = r->base;
	unsigned hits = 0, q = 0;
	struct first f[2];

	/* A few keys (one message's numbers): the ordered pass alone, which
	 * needs no change-counter check; the screening passes and their
	 * vector set-up cost more than they save below eight. */
	if (n < 8)
		return few(r, b, keys, n, m);
	/* without AVX-512 the first pass of the next burst is done before
	 * the rest of this one, so that its lines come while this one's keys
	 * are resolved (the vector passes are quick enough without) */
	if (!t->vec && n)
		first_pass(b, keys, n < NT_BURST ? n : NT_BURST, f[0].ln, f[0].hv, f[0].pc);
	for (unsigned i = 0; i < n; i += NT_BURST, q ^= 1) {
		unsigned c = n - i < NT_BURST ? n - i : NT_BURST, h;
		uint32_t seq = LOAD_ACQUIRE(&r->seq);

		if (!t->vec && n - i > NT_BURST) {
			unsigned c2 = n - i - NT_BURST < NT_BURST ? n - i - NT_BURST : NT_BURST;
			first_pass(b, keys + i + NT_BURST, c2, f[q ^ 1].ln, f[q ^ 1].hv, f[q ^ 1].pc);
		}
		h = burst(r, b, keys + i, c, m + i, true, t->vec, t->vec ? NULL : &f[q]);
		/* the prefix filter was read before the rest: if a change
		 * landed in between, resolve the keys again, in order */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (LOAD_RELAXED(&r->seq) != seq)
			h = burst(r, b, keys + i, c, m + i, false, false, NULL);
		hits += h;
	}
	return hits;
}

struct vmap {
	uint32_t *keys;
	uint16_t *idx;
	uint8_t *used;
	uint32_t mask, n;
	uint32_t *vtab;
};

/* Index of value v, adding it; -1 when more than 65535 distinct. */
static int vmap_get(struct vmap *vm, uint32_t v)
{
	uint32_t i = (uint32_t)(mix64(v) & vm->mask);

	for (;; i = (i + 1) & vm->mask) {
		if (!vm->used[i]) {
			if (vm->n >= 65535)
				return -1;
			vm->used[i] = 1;
			vm->keys[i] = v;
			vm->idx[i] = (uint16_t)vm->n;
			vm->vtab[vm->n] = v;
			return vm->n++;
		}
		if (vm->keys[i] == v)
			return vm->idx[i];
	}
}

static uint64_t inv_mod2(uint64_t a)
{
	uint64_t x = a; /* Newton: correct to 3 bits, doubles each step */

	for (int i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

/* Geometry of a table of n entries of len digits with vb-bit values: as
 * many home lines as fill them to fill percent of their slots;
 * the slots a line holds depend on the remainder's width, which depends on
 * the number of lines, so iterate. */
static void tab_params(struct tab *T, unsigned len, uint64_t n, unsigned vb, unsigned fill)
{
	uint64_t p10 = 1;
	unsigned bits = 1, cap = 12, c = 12;

	for (unsigned i = 0; i < len; i++)
		p10 *= 10;
	while ((1ull << bits) < p10)
		bits++;
	memset(T, 0, sizeof(*T));
	T->bits = (uint8_t)bits;
	T->mask = (1ull << bits) - 1;
	T->xs = (uint8_t)((bits + 1) / 2);
	T->mul = (0x9e3779b97f4a7c15ull & T->mask) | 1;
	T->inv = inv_mod2(T->mul) & T->mask;
	T->sh = (uint8_t)(len ? 64 - 4 * len : 60);
	T->qs = (uint8_t)(bits > 32 ? bits - 32 : 0);
	T->qt = (uint8_t)(bits - T->qs);
	T->vb = (uint8_t)vb;
	for (int it = 0; it < 6; it++) {
		uint64_t nl = (n * 100 + cap * fill - 1) / (cap * fill), span;
		unsigned rb = 0, restb;

		nl = nl ? nl : 1;
		nl = nl < (1ull << T->qt) ? nl : 1ull << T->qt;
		/* h of the entries a line may hold: its own range and those of
		 * the NT_D lines before it */
		span = (((1ull << T->qt) + nl - 1) / nl) << T->qs;
		while (rb < bits && (1ull << rb) < span * (NT_D + 1))
			rb++;
		restb = rb > 16 ? rb - 16 : 0;
		c = NT_MAXCAP;
		while (c > 1 && 4 + 2 * c + (c * restb + 7) / 8 + (c * vb + 7) / 8 > NT_LINE)
			c--;
		T->nl = nl;
		T->rb = (uint8_t)rb;
		T->restb = (uint8_t)restb;
		T->rmask = (1ull << rb) - 1;
		if (c == cap)
			break;
		cap = c;
	}
	T->cap = (uint8_t)c;
	T->ro = (uint8_t)(4 + 2 * c);
	T->vo = (uint8_t)(T->ro + (c * T->restb + 7) / 8);
	T->size = (T->nl + NT_D) * NT_LINE;
}

static size_t align64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

static void *big_alloc(size_t size)
{
	void *p;

	if (size >= NT_HUGE) {
		size = (size + NT_HUGE - 1) & ~(size_t)(NT_HUGE - 1);
		p = aligned_alloc(NT_HUGE, size);
		if (p)
			madvise(p, size, MADV_HUGEPAGE);
	} else {
		p = aligned_alloc(64, align64(size));
	}
	return p;
}

static int ent_kind_ok(uint8_t kind)
{
	return kind == NTRIE_EXACT || kind == NTRIE_PREFIX;
}

struct pair {
	uint64_t h;
	uint32_t val;
	uint32_t ord; /* position in the group: input order */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static void pair_sort(struct pair *p, uint32_t n)
{
	if (n > 32) {
		qsort(p, n, sizeof(*p), pair_cmp);
		return;
	}
	for (uint32_t i = 1; i < n; i++) {
		struct pair x = p[i];
		uint32_t j = i;
		while (j > 0 && pair_cmp(&p[j - 1], &x) > 0) {
			p[j] = p[j - 1];
			j--;
		}
		p[j] = x;
	}
}

/* Sort group [s, e) of hh/hv (placed in input order) by h, keep the last
 * of equal h (a later duplicate wins), write the kept ones from out on;
 * returns how many.  p has room for the group. */
static uint32_t group_finish(uint64_t *hh, uint32_t *hv, uint64_t s, uint64_t e, uint64_t out,
			     struct pair *p)
{
	uint32_t n = (uint32_t)(e - s), kept = 0;

	for (uint32_t i = 0; i < n; i++)
		p[i] = (struct pair){ hh[s + i], hv[s + i], i };
	pair_sort(p, n);
	for (uint32_t i = 0; i < n; i++) {
		if (i + 1 < n && p[i + 1].h == p[i].h)
			continue;
		hh[out + kept] = p[i].h;
		hv[out + kept] = p[i].val;
		kept++;
	}
	return kept;
}

static void line_place(const struct tab *T, uint8_t *p, unsigned c, uint64_t h, uint32_t v)
{
	uint64_t cmp = h & T->rmask;
	uint16_t fp = (uint16_t)cmp;

	memcpy(p + 4 + 2 * c, &fp, 2);
	line_put(p, T->ro * 8 + c * T->restb, T->restb, cmp >> 16);
	line_put(p, T->vo * 8 + c * T->vb, T->vb, v);
}

static void hint_line(const struct tab *T, uint64_t h)
{
	uint32_t *hdr = (uint32_t *)(T->lines + tab_line(T, h) * NT_LINE);

	__atomic_fetch_or(hdr, hdr_bit(h & T->rmask), __ATOMIC_RELEASE);
}

/* Build a base from in[0..n) (validated) with room for stash_room
 * stashed entries.  NULL on ENOMEM, or with *more set when the stash
 * needs more room. */
static struct base *base_build_try(const struct ntrie_entry *in, size_t n, size_t stash_room,
				   unsigned fill, bool *more)
{
	uint64_t cnt[2][NT_NTAB] = { { 0 } }, toff[2][NT_NTAB], tstart[2][NT_NTAB];
	uint64_t nprefix = 0, nlines = 0, acc = 0, maxg = 0;
	struct vmap vm = { 0 };
	struct tab tabs[2][NT_NTAB];
	struct base *b = NULL;
	struct stash_ent *stash;
	uint64_t *hh = NULL;
	uint32_t *hv = NULL, *dir = NULL;
	struct pair *pairs = NULL;
	size_t size, off, nstash = 0;
	unsigned vb = 1;
	uint8_t *reg = NULL;
	uint16_t *rl = NULL;
	uint64_t pf_n;
	bool wide = false;
	char *mem;

	vm.mask = (1u << 17) - 1;
	vm.keys = malloc((vm.mask + 1) * sizeof(uint32_t));
	vm.idx = malloc((vm.mask + 1) * sizeof(uint16_t));
	vm.used = calloc(vm.mask + 1, 1);
	vm.vtab = malloc(65536 * sizeof(uint32_t));
	reg = calloc(NT_NREG, 1);
	rl = calloc(NT_NREG, sizeof(*rl));
	if (!vm.keys || !vm.idx || !vm.used || !vm.vtab || !reg || !rl)
		goto fail;
	/* region heads: the shortest prefix entry of each region; one
	 * shorter than NT_GR makes the regions it covers slow */
	for (size_t i = 0; i < n; i++) {
		unsigned len = in[i].key & 15, r = region_of(in[i].key);
		cnt[in[i].kind - 1][len]++;
		if (!wide && vmap_get(&vm, in[i].value) < 0)
			wide = true;
		if (in[i].kind != NTRIE_PREFIX)
			continue;
		nprefix++;
		if (len < NT_GR) {
			memset(reg + r, NT_SLOW, 1u << 4 * (NT_GR - len));
			for (unsigned x = r; x < r + (1u << 4 * (NT_GR - len)); x++)
				rl[x] = NT_RSLOW;
		} else if (reg[r] != NT_SLOW) {
			if (reg[r] == 0 || len < reg[r])
				reg[r] = (uint8_t)len;
			rl[r] |= (uint16_t)(1u << len);
		}
	}
	while (!wide && (1u << vb) < vm.n)
		vb++;
	vb = wide ? 32 : vb;
	pf_n = (nprefix * NT_PF_BITS + 63) / 64;
	pf_n = pf_n < 8 ? 8 : pf_n;

	/* one block: header, lines, stash, prefix filter, values */
	size = align64(sizeof(*b));
	for (int k = 0; k < 2; k++)
		for (unsigned l = 0; l < NT_NTAB; l++) {
			tab_params(&tabs[k][l], l, cnt[k][l], vb, fill);
			size += tabs[k][l].size;
			toff[k][l] = nlines;
			nlines += tabs[k][l].nl + 1;
		}
	size += align64(stash_room * sizeof(struct stash_ent));
	size += align64(pf_n * 8) + align64(NT_NREG + 4) + align64(NT_NREG * sizeof(*rl));
	size += wide ? 0 : align64(vm.n * 4);
	mem = big_alloc(size);
	if (!mem)
		goto fail;
	memset(mem, 0, size);
	b = (struct base *)mem;
	b->wide = wide;
	b->bytes = size;
	b->pf_n = pf_n;
	off = align64(sizeof(*b));
	for (int k = 0; k < 2; k++)
		for (unsigned l = 0; l < NT_NTAB; l++) {
			b->tab[k][l] = tabs[k][l];
			b->tab[k][l].lines = (uint8_t *)mem + off;
			off += tabs[k][l].size;
		}
	stash = (struct stash_ent *)(mem + off);
	b->stash = stash;
	off += align64(stash_room * sizeof(struct stash_ent));
	b->pf = (uint64_t *)(mem + off);
	off += align64(pf_n * 8);
	/* 4 bytes of slack: the vector pass reads a region as 32 bits */
	b->region = (uint8_t *)mem + off;
	memcpy(b->region, reg, NT_NREG);
	off += align64(NT_NREG + 4);
	b->rlens = (uint16_t *)(mem + off);
	memcpy(b->rlens, rl, NT_NREG * sizeof(*rl));
	off += align64(NT_NREG * sizeof(*rl));
	if (!wide) {
		memcpy(mem + off, vm.vtab, vm.n * 4);
		b->vtab = (const uint32_t *)(mem + off);
	}

	/* counting sort by (table, home line): count, prefix sums, place;
	 * huge pages: the placement writes at random */
	dir = calloc(nlines + 1, sizeof(*dir));
	hh = big_alloc((n ? n : 1) * sizeof(*hh));
	hv = big_alloc((n ? n : 1) * sizeof(*hv));
	if (!dir || !hh || !hv)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		unsigned len = in[i].key & 15, k = in[i].kind - 1;
		const struct tab *T = &b->tab[k][len];
		dir[toff[k][len] + tab_line(T, tab_h(T, in[i].key)) + 1]++;
	}
	for (int k = 0; k < 2; k++)
		for (unsigned l = 0; l < NT_NTAB; l++) {
			uint32_t *d = dir + toff[k][l];
			for (uint64_t L = 0; L < b->tab[k][l].nl; L++) {
				maxg = d[L + 1] > maxg ? d[L + 1] : maxg;
				d[L + 1] += d[L];
			}
			tstart[k][l] = acc;
			acc += cnt[k][l];
		}
	for (size_t i = 0; i < n; i++) {
		unsigned len = in[i].key & 15, k = in[i].kind - 1;
		const struct tab *T = &b->tab[k][len];
		uint64_t h = tab_h(T, in[i].key);
		uint64_t pos = tstart[k][len] + dir[toff[k][len] + tab_line(T, h)]++;
		hh[pos] = h;
		hv[pos] = in[i].value;
	}
	pairs = malloc((maxg + 1) * sizeof(*pairs));
	if (!pairs)
		goto fail;
	for (int k = 0; k < 2; k++)
		for (unsigned l = 0; l < NT_NTAB; l++) {
			struct tab *T = &b->tab[k][l];
			uint32_t *gs = dir + toff[k][l];
			uint64_t *H = hh + tstart[k][l];
			uint32_t *V = hv + tstart[k][l];
			uint64_t s = 0, out = 0, next = 0;

			if (!cnt[k][l])
				continue;
			/* gs[L] is the end of group L: drop duplicates, make
			 * gs[L] its start */
			for (uint64_t L = 0; L < T->nl; L++) {
				uint64_t e = gs[L];
				uint32_t kept = group_finish(H, V, s, e, out, pairs);
				gs[L] = (uint32_t)out;
				out += kept;
				s = e;
			}
			gs[T->nl] = (uint32_t)out;
			T->n = out;
			/* linear probing by lines, in home order: line L takes
			 * the waiting entries homed at L - NT_D..L; older ones go
			 * to the stash.  So the lines from an entry's home to
			 * where it is are all full. */
			for (uint64_t L = 0; L < T->nl + NT_D; L++) {
				uint8_t *p = T->lines + L * NT_LINE;
				uint64_t lim = L < T->nl ? gs[L + 1] : out;
				uint64_t old = L < NT_D ? 0 : gs[L - NT_D < T->nl ? L - NT_D : T->nl];
				unsigned c = 0;
				while (next < lim && c < T->cap) {
					uint64_t h = H[next];
					uint32_t v = wide ? V[next] : (uint32_t)vmap_get(&vm, V[next]);
					if (next < old) {
						if (nstash == stash_room)
							goto full;
						stash[nstash++] = (struct stash_ent){ h, V[next], (unsigned)k << 4 | l };
						hint_line(T, h);
					} else {
						line_place(T, p, c++, h, v);
						if (tab_line(T, h) != L)
							hint_line(T, h);
					}
					next++;
				}
				*(uint32_t *)p |= c;
			}
			for (; next < out; next++) {
				if (nstash == stash_room)
					goto full;
				stash[nstash++] = (struct stash_ent){ H[next], V[next], (unsigned)k << 4 | l };
				hint_line(T, H[next]);
			}
			b->entries += out;
			if (k == 1) {
				b->prefixes += out;
				b->plens |= 1u << l;
			}
		}
	qsort(stash, nstash, sizeof(*stash), stash_cmp);
	b->nstash = (uint32_t)nstash;
	for (unsigned l = 0; l < NT_NTAB; l++) {
		const struct tab *T = &b->tab[0][l];
		b->vp.sh[l] = T->sh;
		b->vp.xs[l] = T->xs;
		b->vp.mul[l] = T->mul;
		b->vp.mask[l] = T->mask;
		b->vp.qs[l] = T->qs;
		b->vp.nl[l] = T->nl;
		b->vp.qt[l] = T->qt;
		b->vp.lines[l] = (uintptr_t)T->lines;
		b->vp.rmask[l] = T->rmask;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t key = in[i].key;
		unsigned H = reg[region_of(key)];
		if (in[i].kind == NTRIE_PREFIX && H != NT_SLOW)
			*(uint64_t *)pf_word(b, (key & pmask[H]) | H) |= pf_bits(key);
	}
	goto out;
full:
	*more = true;
fail:
	free(b);
	b = NULL;
out:
	free(pairs);
	free(dir);
	free(hh);
	free(hv);
	free(vm.keys);
	free(vm.idx);
	free(vm.used);
	free(vm.vtab);
	free(reg);
	free(rl);
	return b;
}

/* fill: ntrie_config.line_fill_pct, 0 for the default. */
static struct base *base_build(const struct ntrie_entry *in, size_t n, unsigned fill)
{
	/* linear probing over lines 75% full leaves ~0.1% of the entries
	 * more than NT_D lines from home */
	size_t room = n / 512 + 64;

	for (;;) {
		bool more = false;
		struct base *b = base_build_try(in, n, room, fill ? fill : NT_FILL_X100, &more);
		if (b || !more)
			return b;
		room = room * 4 > n + 64 ? n + 64 : room * 4;
	}
}

static struct root *root_new(const struct base *b, uint32_t cap)
{
	uint32_t slots = 16, bloom_bits = 512;
	size_t size;
	struct root *r;

	while (slots < 2 * (uint64_t)cap)
		slots <<= 1;
	while (bloom_bits < 8 * (uint64_t)cap)
		bloom_bits <<= 1;
	size = align64(sizeof(*r)) + align64(bloom_bits / 8) + (size_t)slots * sizeof(struct dslot);
	r = big_alloc(size);
	if (!r)
		return NULL;
	memset(r, 0, size);
	r->base = b;
	r->slot_mask = slots - 1;
	r->bloom_mask = bloom_bits - 1;
	r->bloom = (uint64_t *)((char *)r + align64(sizeof(*r)));
	r->slots = (struct dslot *)((char *)r->bloom + align64(bloom_bits / 8));
	r->bytes = size;
	return r;
}

static void retire(struct ntrie *t, const void *p)
{
	if (t->cfg.retire)
		t->cfg.retire(t->cfg.retire_ctx, (void *)p);
	else
		free((void *)p);
}

/* Writer: slot of (key, kind) or the empty slot where it would go. */
static struct dslot *delta_slot(struct root *r, uint64_t key, unsigned kind)
{
	uint64_t dh = mix64(key ^ ((uint64_t)kind << 62));

	for (uint32_t i = (uint32_t)(dh >> 32) & r->slot_mask;; i = (i + 1) & r->slot_mask) {
		struct dslot *s = &r->slots[i];
		if (s->key == 0 || (s->key == key && META_KIND(s->meta) == kind))
			return s;
	}
}

static void delta_publish(struct root *r, struct dslot *s, uint64_t key, unsigned kind,
			  uint64_t meta)
{
	uint64_t dh = mix64(key ^ ((uint64_t)kind << 62));
	uint64_t bit = dh & r->bloom_mask;

	__atomic_store_n(&s->meta, meta, __ATOMIC_RELAXED);
	__atomic_fetch_or(&r->bloom[bit >> 6], 1ull << (bit & 63), __ATOMIC_RELAXED);
	__atomic_fetch_or(&r->dmask, 1u << ((key & 15) + (kind == NTRIE_PREFIX ? 16 : 0)),
			  __ATOMIC_RELAXED);
	__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
	r->used++;
}

struct ntrie *ntrie_create(const struct ntrie_config *cfg)
{
	struct ntrie *t;
	struct base *b;

	if (cfg && (cfg->delta_capacity > NT_MAX_DELTA || cfg->line_fill_pct > 1000)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		t->cfg = *cfg;
	t->delta_cap = t->cfg.delta_capacity ? t->cfg.delta_capacity : NT_DEFAULT_DELTA;
#ifdef NT_AVX512
	t->vec = nt_avx512() && !t->cfg.portable_only;
#endif
	b = base_build(NULL, 0, t->cfg.line_fill_pct);
	t->root = b ? root_new(b, t->delta_cap) : NULL;
	if (!t->root) {
		free(b);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void ntrie_free(struct ntrie *t)
{
	if (!t)
		return;
	free((void *)t->root->base);
	free(t->root);
	free(t);
}

static void swap_root(struct ntrie *t, struct root *nr)
{
	struct root *old = t->root;

	__atomic_store_n(&t->root, nr, __ATOMIC_RELEASE);
	retire(t, old->base);
	retire(t, old);
}

static int valid_entry(uint64_t key, unsigned kind)
{
	return key_valid(key) && ent_kind_ok((uint8_t)kind);
}

/* Build a base of entries[0..n) and publish it with an empty delta; the
 * old root and base are retired.  Returns the new base, or NULL (out of
 * memory: nothing changed). */
static struct base *install_base(struct ntrie *t, const struct ntrie_entry *entries, size_t n)
{
	struct base *b = base_build(entries, n, t->cfg.line_fill_pct);
	struct root *r;

	if (!b)
		return NULL;
	r = root_new(b, t->delta_cap);
	if (!r) {
		free(b);
		return NULL;
	}
	swap_root(t, r);
	return b;
}

int ntrie_build(struct ntrie *t, const struct ntrie_entry *entries, size_t n)
{
	struct base *b;

	if (n > UINT32_MAX - 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!valid_entry(entries[i].key, entries[i].kind))
			return -EINVAL;
	b = install_base(t, entries, n);
	if (!b)
		return -ENOMEM;
	t->entries = b->entries;
	t->prefixes = b->prefixes;
	t->version++;
	return 0;
}

/* Base state of (key, kind): 1 present, 0 absent. */
static int base_has(const struct base *b, uint64_t key, unsigned kind)
{
	uint32_t v;

	return tab_get(b, kind, key, &v);
}

/* Enumerate base entries not shadowed by the delta, then live delta
 * entries, into a new array. */
static struct ntrie_entry *collect(const struct root *r, size_t *np)
{
	const struct base *b = r->base;
	size_t cap = b->entries + r->used + 1, n = 0;
	struct ntrie_entry *out = malloc(cap * sizeof(*out));

	if (!out)
		return NULL;
	for (unsigned k = 0; k < 2; k++)
		for (unsigned l = 1; l < NT_NTAB; l++) {
			const struct tab *T = &b->tab[k][l];
			if (!T->n)
				continue;
			for (uint64_t L = 0; L < T->nl + NT_D; L++) {
				const uint8_t *p = T->lines + L * NT_LINE;
				unsigned cnt = line_hdr(p) & 15;
				/* the entries here are homed at L - NT_D..L */
				uint64_t lo = line_start(T, L < NT_D ? 0 : L - NT_D);
				for (unsigned j = 0; j < cnt; j++) {
					uint16_t fp;
					uint64_t cmp, h, key, meta;
					memcpy(&fp, p + 4 + 2 * j, 2);
					cmp = fp | line_bits(p, T->ro * 8 + j * T->restb, T->restb) << 16;
					h = lo + ((cmp - lo) & T->rmask);
					key = bin2key(tab_unhash(T, h), l);
					if (r->used && delta_find(r, key, k + 1, &meta) >= 0)
						continue;
					out[n++] = (struct ntrie_entry){ .key = key, .kind = (uint8_t)(k + 1),
									 .value = line_value(b, T, p, j) };
				}
			}
		}
	for (uint32_t i = 0; i < b->nstash; i++) {
		const struct stash_ent *e = &b->stash[i];
		const struct tab *T = &b->tab[e->tid >> 4][e->tid & 15];
		uint64_t key = bin2key(tab_unhash(T, e->h), e->tid & 15), meta;
		if (r->used && delta_find(r, key, (e->tid >> 4) + 1, &meta) >= 0)
			continue;
		out[n++] = (struct ntrie_entry){ .key = key, .kind = (uint8_t)((e->tid >> 4) + 1),
						 .value = e->value };
	}
	for (uint32_t i = 0; i <= r->slot_mask; i++) {
		const struct dslot *s = &r->slots[i];
		if (s->key && META_LIVE(s->meta))
			out[n++] = (struct ntrie_entry){ .key = s->key, .kind = META_KIND(s->meta),
							 .value = META_VALUE(s->meta) };
	}
	*np = n;
	return out;
}

int ntrie_compact(struct ntrie *t)
{
	struct ntrie_entry *all;
	struct base *b;
	size_t n;

	if (t->root->used == 0)
		return 0;
	all = collect(t->root, &n);
	if (!all)
		return -ENOMEM;
	b = install_base(t, all, n);
	free(all);
	return b ? 0 : -ENOMEM;
}

/* Writer, after a change of (key, kind) is published in the delta: make
 * the lookups that could see it look (a bit in its home line's filter or
 * in the prefix filter; they only ever gain bits), with a release store
 * after the change, so that a reader that sees the bit sees the change;
 * then count the change for bulk lookups (see ntrie_lookup_bulk). */
static void hint_change(struct root *r, uint64_t key, unsigned kind)
{
	struct base *b = (struct base *)r->base;
	unsigned len = key & 15;

	if (kind == NTRIE_EXACT) {
		hint_line(&b->tab[0][len], tab_h(&b->tab[0][len], key));
	} else if (len < NT_GR) {
		/* the regions it covers: every prefix length is a candidate */
		for (unsigned x = region_of(key); x < region_of(key) + (1u << 4 * (NT_GR - len)); x++) {
			__atomic_store_n(&b->rlens[x], (uint16_t)NT_RSLOW, __ATOMIC_RELEASE);
			__atomic_store_n(&b->region[x], NT_SLOW, __ATOMIC_RELEASE);
		}
	} else {
		unsigned x = region_of(key), H = b->region[x];
		if (H > len && H != NT_SLOW) {
			__atomic_store_n(&b->rlens[x], (uint16_t)NT_RSLOW, __ATOMIC_RELEASE);
			__atomic_store_n(&b->region[x], NT_SLOW, __ATOMIC_RELEASE);
		} else if (H != NT_SLOW) {
			/* a region without prefixes gets this one's length as head,
			 * once the bit is there */
			H = H ? H : len;
			__atomic_fetch_or((uint64_t *)pf_word(b, (key & pmask[H]) | H), pf_bits(key),
					  __ATOMIC_RELEASE);
			__atomic_store_n(&b->rlens[x], (uint16_t)(b->rlens[x] | 1u << len),
					 __ATOMIC_RELEASE);
			__atomic_store_n(&b->region[x], (uint8_t)H, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELEASE);
}

int ntrie_insert(struct ntrie *t, uint64_t key, enum ntrie_kind kind, uint32_t value)
{
	struct dslot *s;
	bool present;

	if (!valid_entry(key, kind))
		return -EINVAL;
	s = delta_slot(t->root, key, kind);
	if (s->key) {
		present = META_LIVE(s->meta);
		__atomic_store_n(&s->meta, META(value, kind, 1), __ATOMIC_RELEASE);
	} else {
		if (t->root->used >= t->delta_cap) {
			int rc = ntrie_compact(t);
			if (rc)
				return rc;
			s = delta_slot(t->root, key, kind);
		}
		present = base_has(t->root->base, key, kind);
		delta_publish(t->root, s, key, kind, META(value, kind, 1));
	}
	hint_change(t->root, key, kind);
	if (!present) {
		t->entries++;
		t->prefixes += kind == NTRIE_PREFIX;
	}
	t->version++;
	return 0;
}

int ntrie_delete(struct ntrie *t, uint64_t key, enum ntrie_kind kind)
{
	struct dslot *s;

	if (!valid_entry(key, kind))
		return -EINVAL;
	s = delta_slot(t->root, key, kind);
	if (s->key) {
		if (!META_LIVE(s->meta))
			return -ENOENT;
		__atomic_store_n(&s->meta, META(0, kind, 0), __ATOMIC_RELEASE);
	} else {
		if (!base_has(t->root->base, key, kind))
			return -ENOENT;
		if (t->root->used >= t->delta_cap) {
			int rc = ntrie_compact(t);
			if (rc)
				return rc;
			s = delta_slot(t->root, key, kind);
		}
		delta_publish(t->root, s, key, kind, META(0, kind, 0));
	}
	hint_change(t->root, key, kind);
	t->entries--;
	t->prefixes -= kind == NTRIE_PREFIX;
	t->version++;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ntrie_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

int ntrie_walk(const struct ntrie *t, int (*fn)(void *ctx, const struct ntrie_entry *e),
	       void *ctx)
{
	struct ntrie_entry *all;
	size_t n;
	int rc = 0;

	all = collect(LOAD_ACQUIRE(&t->root), &n);
	if (!all)
		return -ENOMEM;
	qsort(all, n, sizeof(*all), ent_cmp);
	for (size_t i = 0; i < n && !rc; i++)
		rc = fn(ctx, &all[i]);
	free(all);
	return rc;
}

void ntrie_stats(const struct ntrie *t, struct ntrie_stats *s)
{
	const struct root *r = LOAD_ACQUIRE(&t->root);

	s->entries = t->entries;
	s->prefixes = t->prefixes;
	s->bytes = sizeof(*t) + r->bytes + r->base->bytes;
	s->delta_entries = r->used;
	s->version = t->version;
}
