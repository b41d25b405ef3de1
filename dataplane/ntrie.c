/* Number trie: a gate, an immutable compact base plus a small delta,
 * swapped by RCU.
 *
 * Gate.  Most lookups miss (suspended numbers are rare in real traffic),
 * so a blocked Bloom filter answers most misses from one cache line
 * before the base is touched: one 64-byte block per key, chosen by the
 * key's first H digits, H per 4-digit region (the region's shortest
 * prefix), so that prefix entries share the block of every key they cover
 * (details at gate_test).  It takes what is left of 7.75 bytes an entry
 * (8..16 bits an entry; ~9 at 1M, ~12 at 10M).  Measured false-positive
 * rates on the benchmark's random numbers at 1M: 4.2% at 9 bits, 2.3% at
 * 12, 1.3% at 16 (plus 1.2% that pass for prefixes, nearly all real
 * prefix hits); dense number blocks sharing a head fill their block more
 * than a per-key hash would.  Inserts set bits (so the delta is gated
 * too), deletes leave them, compaction builds a new gate.
 *   A bulk lookup tests the gate of all 32 keys first, so a key that
 *   fails it is answered earlier than the survivors resolved after it;
 *   a per-root change counter makes the burst run again without the gate
 *   when a change landed in between (readers see changes in key order).
 *
 * Key packing.  ntrie_key() stores digit i (0-based) as BCD in bits
 * 63-4i..60-4i, unused digit nibbles 0, the length in bits 3..0.  Keys
 * compared as uint64 sort lexicographically by digit string (a prefix
 * before its extensions), and the key of the first L digits of k is
 * (k & top-4L-bits) | L, so prefix keys cost a mask, not a division.
 *
 * Base.  Entries are grouped by (kind, digit length) into at most 30
 * tables.  In a table every number is its decimal value v < 10^len (SWAR
 * BCD to binary), mixed by a bijection of [0, 2^bits): xor-shift, then a
 * multiply by an odd constant, h = mix(v).  The top B bits of h pick a
 * bucket (B chosen for ~10 entries a bucket) and only the low r = bits - B
 * bits are stored (quotienting: the bucket number is the rest of the
 * number), as uint16, uint32 or uint64 per table, scanned with SSE2.
 * Buckets' bounds sit in a directory of 16-byte groups (a uint32 base and
 * 12 uint8 ends), 1.3 bytes a bucket, so that it stays in cache.  Each
 * entry's value is a uint16 index into a table of distinct values (orders
 * are few); above 65535 distinct values the base stores raw uint32 values.
 * mix is invertible, so keys are never stored: iteration rebuilds them.
 *   Hashing rather than ordering by value keeps buckets even whatever the
 *   plan's density (dense 050 blocks next to sparse foreign numbers).
 *   Per entry at 10M (fixed-line + 050): 4 bytes remainder, 2 value index,
 *   0.13 directory, 0.04 prefix filter: 6.3 bytes measured; the
 *   information-theoretic bound is ~1.5.  At 100M draws (88M unique, the
 *   050 space is only 10^8) the fixed-line remainders shrink to 16 bits:
 *   527 MB, 6.0 bytes an entry, measured.
 * Prefix entries live in tables per prefix length.  A miss must not probe
 * every prefix length, so a filter with one bit per prefix (32 bits of
 * filter per prefix) is tested first: for prefix lengths >= pf_head (the
 * longest length that leaves at most 1/32 of the prefixes shorter) the
 * 512-bit block is chosen by the key's first pf_head digits, so all
 * candidates of a key are tested in one cache line, fetched with the
 * directory; rarer shorter prefixes each pick their own block.  A block
 * per head (not one per length) keeps dense ranges (050) from saturating.
 *
 * Lookup.  Single: gate block; if it passes, directory group, bucket scan, then (on a miss) the
 * filter line and only the prefix tables it names, longest first.  Bulk:
 * a staged pipeline over 32 keys like rte_hash_lookup_bulk: (G1) gate
 * block of every key, prefetched; (G2) gate test, and for each key that
 * passes (1) its bucket and filter block, prefetched; (2) bucket bounds,
 * prefetch the bucket; (3) scan, prefetch the value of a hit; (4) delta
 * and values, queue filter-positive misses; (P) the same three stages for
 * the longest candidate prefix of the queued keys.
 *
 * Delta.  A single-writer open-addressing hash of (key, kind) -> value or
 * tombstone, inside the root object, with a bloom bitmap and a mask of the
 * (kind, length)s it holds, so lookups of keys it cannot hold skip it.  A
 * slot is written, then its key published with a release store; later
 * changes of a published slot are one atomic 64-bit store of (value,
 * kind, live).  Readers check the delta before the base.  When the delta
 * has used its capacity the writer folds base + delta into a new base
 * (ntrie_compact: enumerate, then the O(n) build), publishes a new root
 * with a release store and hands the old root and base to cfg.retire.
 * The insert that finds the delta full pays for the compaction; every
 * other insert or delete is a hash probe and a few stores.
 *
 * Build: counting sort by (table, bucket) in two passes over the input,
 * then each bucket sorted by remainder (a later duplicate wins).  If a
 * directory group would exceed 255 entries (only adversarial keys can do
 * that) the build retries with twice the buckets.
 *
 * Measured with tools/bench-trie (streams of exactly 50% and 1% hits,
 * exact or prefix, checked against a reference; this 2-core VM shared with
 * other work, so ratios swing by up to 30% between runs), at 10M entries:
 * bulk 12.5 M/s vs rte_hash 10.4 (1.20x) at 50% hits and 19.4 vs 18.6
 * (1.05x) at 1% hits; 7.86 B/entry (gate ~12 bits of it) vs 40.7; build
 * 2.0-2.7 s; compaction 2.4 s; writer commit p99 1.3 us; insert-to-visible
 * (the first lookup by either of two readers at full speed that returns
 * the new entry) p50 3.8 us, p99 19 us.  Without the gate the 50% stream was faster
 * and the 1% stream slower.
 *   The 2x throughput target is missed: a burst stalls on the gate line,
 *   then on the bucket, with little left to overlap.  What would close the
 *   gap: buckets of one cache line with no directory, values beside the
 *   remainders, and the gate's prefix word answering prefix hits.
 *
 * Readers: one acquire load of the root, then plain loads.  No locks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "ntrie.h"

#define NT_NTAB 16 /* per kind, indexed by length 1..15 */
#define NT_DEFAULT_DELTA 16384u
#define NT_MAX_DELTA (1u << 24)
#define NT_BURST 32
#define NT_NO_POS UINT32_MAX
#define NT_HUGE (2u << 20)
#define NT_GR 4          /* digits that choose a key's region */
#define NT_NREG 65536    /* 16^NT_GR: region indexed by raw BCD */
#define NT_GATE_MIN 8    /* gate bits per entry, at least */
#define NT_GATE_MAX 16   /* and at most */
#define NT_BUDGET_X100 775 /* the gate takes what is left of 7.75 bytes an input entry */
#define NT_GATE_SLOW 3u  /* gate_test: no gate for this key, take the slow path */

#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* 12 buckets' bounds in 16 aligned bytes: bucket j of the group spans
 * [base + end[j-1], base + end[j]) (end[-1] = 0).  Three times smaller
 * than a uint32 per bucket, so that the directory stays in cache and a
 * lookup's one DRAM access is its bucket. */
#define NT_GRP 12
struct dgrp {
	uint32_t base;
	uint8_t end[NT_GRP];
};

/* One (kind, length) group of the base. */
struct tab {
	uint64_t n;       /* slots used (live entries) */
	uint64_t mask;    /* 2^bits - 1 */
	uint64_t mul;     /* odd multiplier of mix() */
	uint64_t inv;     /* its inverse mod 2^bits */
	uint64_t rmask;   /* 2^rbits - 1 */
	uint32_t nb;      /* buckets (power of 2) */
	uint8_t bits;     /* 10^len <= 2^bits */
	uint8_t xs;       /* xor-shift of mix(), >= bits/2 so one step inverts */
	uint8_t rbits;    /* stored remainder bits */
	uint8_t rw;       /* remainder width in bytes: 2, 4 or 8 */
	const struct dgrp *dg; /* directory: bucket bounds, 12 buckets a group */
	uint32_t *dir;    /* build only: nb + 1 bucket starts */
	void *rem;        /* n remainders of width rw */
	void *val;        /* n uint16 value indexes, or uint32 values when wide */
};

struct base {
	struct tab tab[2][NT_NTAB]; /* [kind - 1][len] */
	uint16_t lens[2];           /* bit len set when tab[kind-1][len].n > 0 */
	bool wide;                  /* val holds raw uint32 values */
	uint8_t pf_log;             /* prefix filter has 2^pf_log bits, in 512-bit blocks */
	uint8_t pf_head;            /* digits of a key that choose its filter block */
	uint16_t pf_flat;           /* prefix lengths < pf_head: block chosen per prefix */
	uint8_t npl, pl[NT_NTAB];   /* prefix lengths present, >= pf_head, ascending */
	uint8_t nfl, fl[NT_NTAB];   /* prefix lengths present, < pf_head */
	const uint64_t *pfilter;
	const uint32_t *vtab;       /* distinct values, when !wide */
	/* The gate (see gate_*): written by the writer after the build too,
	 * only ever by setting bits or clearing a region to 0. */
	uint8_t *region;            /* NT_NREG head lengths; 0: no gate, slow path */
	uint64_t *gate;             /* gnblk blocks of 8 words */
	uint64_t gnblk;
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
	uint32_t seq;        /* bumped by the writer before each change to this root */
	uint64_t *bloom;
	struct dslot *slots;
	size_t bytes;
};

struct ntrie {
	struct root *root; /* swapped with release stores */
	struct ntrie_config cfg;
	uint32_t delta_cap;
	uint64_t entries, prefixes, version;
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

/* Digits of a key of length len right-aligned as BCD. */
static inline uint64_t key_bcd(uint64_t key, unsigned len)
{
	return key >> (64 - 4 * len);
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

/* SWAR: BCD (16 nibbles) to binary. */
static inline uint64_t bcd2bin(uint64_t x)
{
	x = (x & 0x0f0f0f0f0f0f0f0full) + ((x >> 4) & 0x0f0f0f0f0f0f0f0full) * 10;
	x = (x & 0x00ff00ff00ff00ffull) + ((x >> 8) & 0x00ff00ff00ff00ffull) * 100;
	x = (x & 0x0000ffff0000ffffull) + ((x >> 16) & 0x0000ffff0000ffffull) * 10000;
	return (x & 0xffffffffull) + (x >> 32) * 100000000ull;
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

static inline uint64_t tab_hash(const struct tab *T, uint64_t v)
{
	return ((v ^ (v >> T->xs)) * T->mul) & T->mask;
}

static inline uint64_t tab_unhash(const struct tab *T, uint64_t h)
{
	uint64_t y = (h * T->inv) & T->mask;

	return y ^ (y >> T->xs);
}

/* Position of remainder rem in bucket [s, e) of T, or NT_NO_POS. */
static inline uint32_t tab_scan(const struct tab *T, uint32_t s, uint32_t e, uint64_t rem)
{
#ifdef __SSE2__
	/* 8 or 4 lanes at a time; the arrays are padded so that the last
	 * load may run 16 bytes past the end. */
	if (T->rw == 2) {
		const uint16_t *r = T->rem;
		__m128i k = _mm_set1_epi16((short)rem);
		for (uint32_t i = s; i < e; i += 8) {
			unsigned mk = (unsigned)_mm_movemask_epi8(
				_mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(r + i)), k));
			if (mk) {
				uint32_t j = i + (unsigned)__builtin_ctz(mk) / 2;
				return j < e ? j : NT_NO_POS;
			}
		}
		return NT_NO_POS;
	}
	if (T->rw == 4) {
		const uint32_t *r = T->rem;
		__m128i k = _mm_set1_epi32((int)rem);
		for (uint32_t i = s; i < e; i += 4) {
			unsigned mk = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
				_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(r + i)), k)));
			if (mk) {
				uint32_t j = i + (unsigned)__builtin_ctz(mk);
				return j < e ? j : NT_NO_POS;
			}
		}
		return NT_NO_POS;
	}
#endif
	switch (T->rw) {
	case 2: {
		const uint16_t *r = T->rem;
		for (uint32_t i = s; i < e; i++)
			if (r[i] == rem)
				return i;
		break;
	}
	case 4: {
		const uint32_t *r = T->rem;
		for (uint32_t i = s; i < e; i++)
			if (r[i] == rem)
				return i;
		break;
	}
	default: {
		const uint64_t *r = T->rem;
		for (uint32_t i = s; i < e; i++)
			if (r[i] == rem)
				return i;
	}
	}
	return NT_NO_POS;
}

static inline uint64_t tab_rem_at(const struct tab *T, uint32_t i)
{
	switch (T->rw) {
	case 2:
		return ((const uint16_t *)T->rem)[i];
	case 4:
		return ((const uint32_t *)T->rem)[i];
	default:
		return ((const uint64_t *)T->rem)[i];
	}
}

static inline uint32_t base_value(const struct base *b, const struct tab *T, uint32_t i)
{
	if (b->wide)
		return ((const uint32_t *)T->val)[i];
	return b->vtab[((const uint16_t *)T->val)[i]];
}

static inline const struct dgrp *tab_grp(const struct tab *T, uint64_t bk)
{
	return &T->dg[bk / NT_GRP];
}

static inline void tab_bounds(const struct tab *T, uint64_t bk, uint32_t *s, uint32_t *e)
{
	const struct dgrp *g = tab_grp(T, bk);
	unsigned j = (unsigned)(bk % NT_GRP);

	*s = g->base + (j ? g->end[j - 1] : 0);
	*e = g->base + g->end[j];
}

/* Exact (kind, key) in the base: position in T or NT_NO_POS. */
static inline uint32_t tab_find(const struct tab *T, uint64_t key, unsigned len)
{
	uint64_t h = tab_hash(T, bcd2bin(key_bcd(key, len)));
	uint32_t s, e;

	tab_bounds(T, h >> T->rbits, &s, &e);
	return tab_scan(T, s, e, h & T->rmask);
}

/* The prefix filter.  Every base prefix entry sets one bit.  For the
 * lengths >= pf_head, the 512-bit block is chosen by the first pf_head
 * digits, so all candidate prefixes of a key are tested in one cache line,
 * fetched ahead with the directory; rarer shorter prefixes (pf_flat) each
 * choose their own block. */
static inline const uint64_t *pf_block_of(const struct base *b, uint64_t x)
{
	return b->pfilter + (((x * 0x9e3779b97f4a7c15ull) >> 1 >> (72 - b->pf_log)) << 3);
}

static inline const uint64_t *pf_block(const struct base *b, uint64_t key)
{
	return pf_block_of(b, (key & ~(~0ull >> (4 * b->pf_head))) | b->pf_head);
}

static inline unsigned pf_bit(uint64_t pk)
{
	return (unsigned)((pk * 0xc2b2ae3d27d4eb4full) >> 55);
}

/* The gate: a blocked Bloom filter over every entry (base and delta) in
 * front of the whole lookup, so that a miss costs one cache line.  A key
 * of length L >= NT_GR in region r (its first NT_GR digits) with head
 * length H = region[r] uses the 64-byte block chosen by its first min(H, L)
 * digits.  Words 0..6 hold exact keys (4 bits in one word chosen by the
 * full key); word 7 holds prefix entries (2 bits for (p, prefix)).  H is
 * at most the shortest prefix length of the region, so every prefix entry
 * shares its block with all the keys it covers, and a lookup tests the
 * exact bits plus one mask per prefix length listed in the block from H to L.
 * Region 0 means "no gate": a prefix shorter than NT_GR covers the region,
 * or the writer added a prefix shorter than H; keys shorter than NT_GR
 * always take the slow path.  Bits are only ever set (deletes leave
 * them: a stale bit costs a slow-path probe); a build or compaction makes
 * a new gate.  Heads (not whole keys) choose blocks, so dense number
 * blocks share blocks and fill them more: measured false-positive rates
 * are in the comment at the top of this file. */
/* The first NT_GR digits as raw BCD: a region index below NT_NREG
 * (also for an inout key: readers test the gate before validating). */
static inline unsigned region_of(uint64_t key)
{
	return (unsigned)(key >> 48);
}

static inline uint64_t head_key(uint64_t key, unsigned h)
{
	return (key & ~(~0ull >> (4 * h))) | h;
}

static inline uint64_t gate_mix(uint64_t x, uint64_t c)
{
	return (x ^ (x >> 29)) * c;
}

static inline uint64_t *gate_block(const struct base *b, uint64_t hk)
{
	uint64_t x = gate_mix(hk, 0x9e3779b97f4a7c15ull) >> 32;

	return b->gate + (((x * b->gnblk) >> 32) << 3);
}

/* Exact key: word (0..6) in *w, its 4-bit mask returned. */
static inline uint64_t gate_exact(uint64_t key, unsigned *w)
{
	uint64_t x = gate_mix(key, 0xc2b2ae3d27d4eb4full);

	*w = (unsigned)((((x >> 32) & 0xff) * 7) >> 8);
	return 1ull << (x >> 58) | 1ull << ((x >> 52) & 63) | 1ull << ((x >> 46) & 63) |
	       1ull << ((x >> 40) & 63);
}

/* Prefix entry: bit p (its length) and 2 of the bits 16..63 of word 7. */
static inline uint64_t gate_prefix(uint64_t pk)
{
	uint64_t x = gate_mix(pk, 0xff51afd7ed558ccdull);

	return 1ull << (pk & 15) | 1ull << (16 + (((x >> 58) * 3) >> 2)) |
	       1ull << (16 + ((((x >> 52) & 63) * 3) >> 2));
}

/* Stage 1 of a lookup: the head length of a valid key (0: no gate). */
static inline unsigned gate_head(const struct base *b, uint64_t key, unsigned len)
{
	if (len < NT_GR)
		return 0;
	return LOAD_RELAXED(&b->region[region_of(key)]);
}

static inline const uint64_t *gate_block_of_key(const struct base *b, uint64_t key,
						unsigned len, unsigned H)
{
	return gate_block(b, head_key(key, H < len ? H : len));
}

/* Stage 2: bit 0: an exact entry may exist; bit 1: a prefix entry may;
 * 0: no entry matches key (with H != 0).  Only the prefix lengths that
 * word 7 lists (usually none) are hashed and tested. */
static inline unsigned gate_test(uint64_t key, unsigned len, unsigned H, const uint64_t *blk)
{
	unsigned w, pass;
	uint64_t em = gate_exact(key, &w);
	uint64_t pw = LOAD_RELAXED(&blk[7]);
	uint32_t lens = (uint32_t)pw & ((2u << len) - 1) & ~((1u << H) - 1);

	pass = (LOAD_RELAXED(&blk[w]) & em) == em;
	while (lens) {
		unsigned p = (unsigned)__builtin_ctz(lens);
		uint64_t pm = gate_prefix(head_key(key, p));
		lens &= lens - 1;
		if ((pw & pm) == pm)
			return pass | 2;
	}
	return pass;
}

/* Writer: set bits with plain word stores (single writer, readers load
 * them relaxed); a region store to 0 sends its keys to the slow path. */
static void gate_or(uint64_t *w, uint64_t m)
{
	__atomic_store_n(w, *w | m, __ATOMIC_RELAXED);
}

static void gate_add(struct base *b, uint64_t key, unsigned kind)
{
	unsigned len = key & 15, H, w;

	if (len < NT_GR) {
		if (kind == NTRIE_PREFIX) {
			/* regions covered: those that start with the prefix */
			unsigned r0 = region_of(key), span = 1u << 4 * (NT_GR - len);
			for (unsigned r = r0; r < r0 + span; r++)
				__atomic_store_n(&b->region[r], 0, __ATOMIC_RELAXED);
		}
		return;
	}
	H = b->region[region_of(key)];
	if (H == 0)
		return;
	if (kind == NTRIE_PREFIX) {
		if (len < H) {
			__atomic_store_n(&b->region[region_of(key)], 0, __ATOMIC_RELAXED);
			return;
		}
		gate_or(gate_block(b, head_key(key, H)) + 7, gate_prefix(key));
		return;
	}
	uint64_t *blk = gate_block(b, head_key(key, H < len ? H : len));
	uint64_t m = gate_exact(key, &w);
	gate_or(blk + w, m);
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

/* Longest prefix entry for a valid key of length len. */
/* Base prefix lengths whose filter bit is set for this key: the common
 * outcome is 0, reached without a data-dependent branch. */
static inline uint32_t pf_lens(const struct base *b, uint64_t key, unsigned len,
			       const uint64_t *blk)
{
	uint32_t hit = 0;

	for (unsigned i = 0; i < b->npl && b->pl[i] <= len; i++) {
		unsigned l = b->pl[i];
		uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
		unsigned bit = pf_bit(pk);
		hit |= (uint32_t)(blk[bit >> 6] >> (bit & 63) & 1) << l;
	}
	for (unsigned i = 0; i < b->nfl && b->fl[i] <= len; i++) {
		unsigned l = b->fl[i];
		uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
		const uint64_t *w = pf_block_of(b, pk);
		unsigned bit = pf_bit(pk);
		hit |= (uint32_t)(w[bit >> 6] >> (bit & 63) & 1) << l;
	}
	return hit;
}

/* Probe the prefix lengths in blens (base, filter positive) and in the
 * delta, longest first. */
static __attribute__((noinline)) int prefix_probe(const struct root *r, const struct base *b,
						  uint32_t dmask, uint64_t key, unsigned len,
						  uint32_t blens, struct ntrie_match *m)
{
	uint32_t dl = dmask >> 16;
	uint32_t lens = (blens | dl) & ((2u << len) - 1);

	while (lens) {
		unsigned l = 31 - (unsigned)__builtin_clz(lens);
		uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
		uint64_t meta;
		int d = -1;

		lens &= ~(1u << l);
		if (dl >> l & 1) {
			d = delta_find(r, pk, NTRIE_PREFIX, &meta);
			if (d == 1) {
				set_match(m, META_VALUE(meta), NTRIE_PREFIX, l);
				return 1;
			}
		}
		if (d < 0 && (blens >> l & 1)) {
			const struct tab *T = &b->tab[1][l];
			uint32_t pos = tab_find(T, pk, l);
			if (pos != NT_NO_POS) {
				set_match(m, base_value(b, T, pos), NTRIE_PREFIX, l);
				return 1;
			}
		}
	}
	m->kind = 0;
	return 0;
}

static inline int prefix_lookup(const struct root *r, const struct base *b, uint32_t dmask,
				uint64_t key, unsigned len, const uint64_t *blk,
				struct ntrie_match *m)
{
	uint32_t blens = pf_lens(b, key, len, blk);

	if (!((blens | dmask >> 16) & ((2u << len) - 1))) {
		m->kind = 0;
		return 0;
	}
	return prefix_probe(r, b, dmask, key, len, blens, m);
}

/* The exact part: 1 hit, 0 miss; pos is the base result already computed
 * (NT_NO_POS if none), used unless the delta knows the key. */
static inline int exact_resolve(const struct root *r, const struct base *b, uint32_t dmask,
				uint64_t key, unsigned len, uint32_t pos, struct ntrie_match *m)
{
	if (dmask >> len & 1) {
		uint64_t meta;
		int d = delta_find(r, key, NTRIE_EXACT, &meta);
		if (d == 1) {
			set_match(m, META_VALUE(meta), NTRIE_EXACT, len);
			return 1;
		}
		if (d == 0)
			return 0;
	}
	if (pos != NT_NO_POS) {
		set_match(m, base_value(b, &b->tab[0][len], pos), NTRIE_EXACT, len);
		return 1;
	}
	return 0;
}

int ntrie_lookup(const struct ntrie *t, uint64_t key, struct ntrie_match *m)
{
	const struct root *r = LOAD_ACQUIRE(&t->root);
	const struct base *b = r->base;
	uint32_t dmask = LOAD_RELAXED(&r->dmask);
	unsigned len = key & 15;
	uint32_t pos = NT_NO_POS;

	unsigned H = gate_head(b, key, len), pass = NT_GATE_SLOW;

	if (H)
		pass = gate_test(key, len, H, gate_block_of_key(b, key, len, H));
	if (!pass || !key_valid(key)) {
		m->kind = 0;
		return 0;
	}
	if ((pass & 1) && (b->lens[0] >> len & 1))
		pos = tab_find(&b->tab[0][len], key, len);
	if ((pass & 1) && exact_resolve(r, b, dmask, key, len, pos, m))
		return 1;
	if (!(pass & 2)) {
		m->kind = 0;
		return 0;
	}
	return prefix_lookup(r, b, dmask, key, len, pf_block(b, key), m);
}

unsigned ntrie_lookup_bulk(const struct ntrie *t, const uint64_t *keys, unsigned n,
			   struct ntrie_match *m)
{
	const struct root *r = LOAD_ACQUIRE(&t->root);
	const struct base *b = r->base;
	uint32_t dmask = LOAD_RELAXED(&r->dmask);
	unsigned hits = 0;
	const struct tab *tb[NT_BURST];
	uint64_t bk[NT_BURST], rem[NT_BURST];
	uint32_t st[NT_BURST], en[NT_BURST];
	const uint64_t *blk[NT_BURST];
	uint8_t hd[NT_BURST], pass[NT_BURST], sv[NT_BURST];

	for (unsigned base_i = 0; base_i < n; base_i += NT_BURST) {
		unsigned c = n - base_i < NT_BURST ? n - base_i : NT_BURST;
		const uint64_t *k = keys + base_i;
		struct ntrie_match *mm = m + base_i;
		unsigned ns, nout, bh; /* nout: keys the gate turned away */
		/* a change between the gate tests and the resolution below
		 * could make a key that failed the gate early inconsistent
		 * with a later key resolved after the change: then the burst
		 * runs again without the gate (keys resolved in order) */
		uint32_t seq0 = LOAD_ACQUIRE(&r->seq);
		bool gate = true;

redo:
		ns = nout = bh = 0;
		/* G1: gate block of each key; fetch it */
		for (unsigned i = 0; i < c; i++) {
			uint64_t key = k[i];
			unsigned len = key & 15;
			pass[i] = NT_GATE_SLOW;
			hd[i] = gate ? (uint8_t)gate_head(b, key, len) : 0;
			if (hd[i]) {
				blk[i] = gate_block_of_key(b, key, len, hd[i]);
				__builtin_prefetch(blk[i]);
			}
		}
		/* G2: test; a key that passes goes on at once to stage 1 (its
		 * bucket; fetch the directory line), so that the rest of the
		 * gate tests hide that fetch */
		for (unsigned i = 0; i < c; i++) {
			uint64_t key = k[i];
			unsigned len = key & 15;
			mm[i].kind = 0;
			if (hd[i]) {
				pass[i] = (uint8_t)gate_test(key, len, hd[i], blk[i]);
				nout += pass[i] == 0;
			}
			if (!pass[i] || !key_valid(key))
				continue;
			sv[ns++] = (uint8_t)i;
			tb[i] = NULL;
			blk[i] = pf_block(b, key);
			if ((pass[i] & 2) && b->npl + b->nfl)
				__builtin_prefetch(blk[i]);
			if ((pass[i] & 1) && (b->lens[0] >> len & 1)) {
				const struct tab *T = &b->tab[0][len];
				uint64_t h = tab_hash(T, bcd2bin(key_bcd(key, len)));
				bk[i] = h >> T->rbits;
				rem[i] = h & T->rmask;
				tb[i] = T;
				__builtin_prefetch(tab_grp(T, bk[i]));
			}
		}
		if (!ns)
			goto done;
		/* 2: bucket bounds; fetch the bucket */
		for (unsigned j = 0; j < ns; j++) {
			unsigned i = sv[j];
			const struct tab *T = tb[i];
			if (T) {
				tab_bounds(T, bk[i], &st[i], &en[i]);
				__builtin_prefetch((const char *)T->rem + (size_t)st[i] * T->rw);
				__builtin_prefetch((const char *)T->rem + (size_t)en[i] * T->rw - 1);
			}
		}
		/* 3: scan; fetch the value of a hit */
		for (unsigned j = 0; j < ns; j++) {
			unsigned i = sv[j];
			const struct tab *T = tb[i];
			if (!T) {
				st[i] = NT_NO_POS;
			} else {
				uint32_t pos = tab_scan(T, st[i], en[i], rem[i]);
				st[i] = pos;
				if (pos != NT_NO_POS)
					__builtin_prefetch((const char *)T->val +
							   (size_t)pos * (b->wide ? 4 : 2));
			}
		}
		/* 4: delta, values; keys whose filter names base prefixes (and
		 * no delta prefix could be longer) queue for the prefix pipeline */
		unsigned np = 0;
		for (unsigned j = 0; j < ns; j++) {
			unsigned i = sv[j];
			uint64_t key = k[i];
			unsigned len = key & 15;
			uint32_t blens, l;
			if ((pass[i] & 1) && exact_resolve(r, b, dmask, key, len, st[i], &mm[i])) {
				bh++;
				continue;
			}
			mm[i].kind = 0;
			if (!(pass[i] & 2))
				continue;
			blens = pf_lens(b, key, len, blk[i]);
			mm[i].kind = 0;
			if (!((blens | dmask >> 16) & ((2u << len) - 1)))
				continue;
			l = 31 - (unsigned)__builtin_clz(blens | 1);
			if (!blens || (dmask >> 16 & ((2u << len) - 1) & ~((2u << l) - 1)) ||
			    (dmask >> 16 >> l & 1)) {
				bh += (unsigned)prefix_probe(r, b, dmask, key, len, blens, &mm[i]);
				continue;
			}
			/* P1: the longest candidate's bucket */
			const struct tab *T = &b->tab[1][l];
			uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
			uint64_t h = tab_hash(T, bcd2bin(key_bcd(pk, l)));
			tb[np] = T;
			bk[np] = h >> T->rbits;
			rem[np] = h & T->rmask;
			en[np] = i;            /* which key */
			st[np] = blens & ~(1u << l); /* the shorter candidates */
			__builtin_prefetch(tab_grp(T, bk[np]));
			np++;
		}
		/* P2, P3: bounds, then scan; a filter false positive falls back
		 * to probing the shorter candidates one by one */
		uint32_t ps[NT_BURST], pe[NT_BURST];
		for (unsigned j = 0; j < np; j++) {
			tab_bounds(tb[j], bk[j], &ps[j], &pe[j]);
			__builtin_prefetch((const char *)tb[j]->rem + (size_t)ps[j] * tb[j]->rw);
		}
		for (unsigned j = 0; j < np; j++) {
			unsigned i = en[j];
			uint64_t key = k[i];
			uint32_t pos = tab_scan(tb[j], ps[j], pe[j], rem[j]);
			if (pos != NT_NO_POS) {
				set_match(&mm[i], base_value(b, tb[j], pos), NTRIE_PREFIX,
					  (unsigned)(tb[j] - &b->tab[1][0]));
				bh++;
			} else if ((st[j] | dmask >> 16) & ((2u << (key & 15)) - 1)) {
				/* shorter base candidates, or delta prefixes */
				bh += (unsigned)prefix_probe(r, b, dmask, key, key & 15, st[j], &mm[i]);
			}
		}
done:
		if (nout) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (LOAD_RELAXED(&r->seq) != seq0) {
				gate = false;
				goto redo;
			}
		}
		hits += bh;
	}
	return hits;
}

/* ---- building a base ---- */

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

static void tab_params(struct tab *T, unsigned len, uint64_t n, unsigned extra)
{
	uint64_t p10 = 1;
	unsigned bits = 1, B = 0;

	for (unsigned i = 0; i < len; i++)
		p10 *= 10;
	while ((1ull << bits) < p10)
		bits++;
	while (B < bits && B < 31 && (n >> B) > 10)
		B++;
	while (extra-- && B < bits && B < 31)
		B++;
	/* ~10 entries a bucket: 16-bit remainders with 2.5 a bucket (a 4x larger
	 * directory) measured slower at 10M; the directory should stay cached. */
	T->n = n;
	T->bits = (uint8_t)bits;
	T->mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	T->xs = (uint8_t)((bits + 1) / 2);
	T->mul = (0x9e3779b97f4a7c15ull & T->mask) | 1;
	T->inv = inv_mod2(T->mul) & T->mask;
	T->nb = 1u << B;
	T->rbits = (uint8_t)(bits - B);
	T->rmask = (1ull << T->rbits) - 1;
	T->rw = T->rbits <= 16 ? 2 : T->rbits <= 32 ? 4 : 8;
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
	uint64_t rem;
	uint32_t val;
	uint32_t ord; /* position in the bucket: input order */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->rem != y->rem)
		return x->rem < y->rem ? -1 : 1;
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

/* Sort bucket [s, e) (placed in input order) by (rem, input order), keep
 * the last of equal remainders (a later duplicate wins) and write them
 * from out; returns the number kept.  p has room for the bucket.  Values
 * travel with the remainders: reading them from the input here would be
 * a cache miss per entry. */
static uint32_t bucket_finish(struct tab *T, const uint64_t *hrem, const uint32_t *hval,
			      uint32_t s, uint32_t e, uint32_t out, struct pair *p, bool wide,
			      struct vmap *vm)
{
	uint32_t n = e - s, kept = 0;

	for (uint32_t i = 0; i < n; i++)
		p[i] = (struct pair){ hrem[s + i], hval[s + i], i };
	pair_sort(p, n);
	for (uint32_t i = 0; i < n; i++, kept++) {
		uint32_t o = out + kept, v = p[i].val;
		if (i + 1 < n && p[i + 1].rem == p[i].rem) {
			kept--;
			continue;
		}
		switch (T->rw) {
		case 2: ((uint16_t *)T->rem)[o] = (uint16_t)p[i].rem; break;
		case 4: ((uint32_t *)T->rem)[o] = (uint32_t)p[i].rem; break;
		default: ((uint64_t *)T->rem)[o] = p[i].rem;
		}
		if (wide)
			((uint32_t *)T->val)[o] = v;
		else
			((uint16_t *)T->val)[o] = (uint16_t)vmap_get(vm, v);
	}
	return kept;
}

/* Build a base from in[0..n) (validated) with 2^extra times the usual
 * buckets; other: bytes held besides the base (root, handle), for the
 * gate's budget.  NULL on ENOMEM, or with *ovf set when a directory group holds
 * more than 255 entries. */
static struct base *base_build_try(const struct ntrie_entry *in, size_t n, unsigned extra,
				   size_t other, bool *ovf)
{
	uint64_t cnt[2][NT_NTAB] = { { 0 } };
	struct vmap vm = { 0 };
	size_t size, off, pf_bits = 512;
	unsigned pf_head = 1;
	struct base *b = NULL;
	uint64_t *hrem = NULL;
	uint32_t *hval = NULL;
	struct pair *pairs = NULL;
	char *mem;
	bool wide = false;
	uint64_t nprefix = 0, gnblk;
	uint8_t *reg = NULL;

	vm.mask = (1u << 17) - 1;
	vm.keys = malloc((vm.mask + 1) * sizeof(uint32_t));
	vm.idx = malloc((vm.mask + 1) * sizeof(uint16_t));
	vm.used = calloc(vm.mask + 1, 1);
	vm.vtab = malloc(65536 * sizeof(uint32_t));
	if (!vm.keys || !vm.idx || !vm.used || !vm.vtab)
		goto fail;
	/* gate heads: the shortest prefix of each region, 16 when none;
	 * prefixes shorter than a region mark the regions they cover (0) */
	reg = malloc(NT_NREG);
	if (!reg)
		goto fail;
	memset(reg, 16, NT_NREG);
	for (size_t i = 0; i < n; i++) {
		unsigned len = in[i].key & 15;
		cnt[in[i].kind - 1][len]++;
		if (!wide && vmap_get(&vm, in[i].value) < 0)
			wide = true;
		if (in[i].kind == NTRIE_PREFIX) {
			unsigned r = region_of(in[i].key), span = 1;
			nprefix++;
			if (len >= NT_GR) {
				if (len < reg[r])
					reg[r] = (uint8_t)len;
				continue;
			}
			span = 1u << 4 * (NT_GR - len);
			memset(reg + r, 0, span);
		}
	}
	/* regions without prefixes: the commonest prefix length (a longer
	 * head spreads dense blocks, but a shorter prefix added later turns
	 * the region's gate off until the next compaction) */
	{
		unsigned hdef = 9;
		for (unsigned l = NT_GR, best = 0; l < NT_NTAB; l++)
			if (cnt[1][l] > best) {
				best = (unsigned)cnt[1][l];
				hdef = l;
			}
		for (unsigned r = 0; r < NT_NREG; r++)
			if (reg[r] == 16)
				reg[r] = (uint8_t)hdef;
	}
	/* 32 bits per prefix: a false positive costs a probe 3% of the time */
	while (pf_bits < nprefix * 32)
		pf_bits <<= 1;
	/* the longest head that leaves at most 1/32 of the prefixes shorter */
	{
		uint64_t shorter = 0;
		for (unsigned l = 1; l < NT_NTAB; l++) {
			if (cnt[1][l] && shorter <= nprefix / 32 + 16)
				pf_head = l;
			shorter += cnt[1][l];
		}
	}

	/* one block: header, directories, remainders, values, filter, vtab */
	{
		struct tab tabs[2][NT_NTAB];
		size = align64(sizeof(*b));
		for (int k = 0; k < 2; k++)
			for (unsigned l = 1; l < NT_NTAB; l++) {
				if (!cnt[k][l])
					continue;
				tab_params(&tabs[k][l], l, cnt[k][l], extra);
				size += align64(((size_t)tabs[k][l].nb + NT_GRP - 1) / NT_GRP * 16);
				size += align64(cnt[k][l] * tabs[k][l].rw + 16);
				size += align64(cnt[k][l] * (wide ? 4 : 2));
			}
		size += align64(pf_bits / 8);
		size += wide ? 0 : align64(vm.n * 4);
		size += align64(NT_NREG);
		/* the gate: what the byte budget leaves, within [MIN, MAX] bits
		 * an entry (its false positives cost a slow-path probe) */
		{
			uint64_t room = (uint64_t)n * NT_BUDGET_X100 / 100, gbits;
			room = room > size + other ? (room - size - other) * 8 : 0;
			gbits = room < (uint64_t)n * NT_GATE_MIN ? (uint64_t)n * NT_GATE_MIN : room;
			gbits = gbits > (uint64_t)n * NT_GATE_MAX ? (uint64_t)n * NT_GATE_MAX : gbits;
			gnblk = (gbits + 511) / 512;
			gnblk = gnblk ? gnblk : 1;
		}
		size += gnblk * 64;
		mem = big_alloc(size);
		if (!mem)
			goto fail;
		b = (struct base *)mem;
		memset(b, 0, sizeof(*b));
		b->wide = wide;
		b->bytes = size;
		off = align64(sizeof(*b));
		for (int k = 0; k < 2; k++)
			for (unsigned l = 1; l < NT_NTAB; l++) {
				struct tab *T = &b->tab[k][l];
				if (!cnt[k][l])
					continue;
				*T = tabs[k][l];
				T->dg = (struct dgrp *)(mem + off);
				off += align64(((size_t)T->nb + NT_GRP - 1) / NT_GRP * 16);
				T->dir = big_alloc(((size_t)T->nb + 1) * 4);
				if (!T->dir)
					goto fail;
				memset(T->dir, 0, ((size_t)T->nb + 1) * 4);
				T->rem = mem + off;
				off += align64(cnt[k][l] * T->rw + 16);
				T->val = mem + off;
				off += align64(cnt[k][l] * (wide ? 4 : 2));
			}
		b->pfilter = (uint64_t *)(mem + off);
		memset(mem + off, 0, pf_bits / 8);
		off += align64(pf_bits / 8);
		if (!wide)
			b->vtab = (uint32_t *)(mem + off);
		off += wide ? 0 : align64(vm.n * 4);
		b->region = (uint8_t *)(mem + off);
		memcpy(b->region, reg, NT_NREG);
		off += align64(NT_NREG);
		b->gate = (uint64_t *)(mem + off);
		b->gnblk = gnblk;
		memset(b->gate, 0, gnblk * 64);
		b->pf_log = (uint8_t)__builtin_ctzll(pf_bits);
		b->pf_head = (uint8_t)pf_head;
		for (unsigned l = 1; l < pf_head; l++)
			if (cnt[1][l])
				b->pf_flat |= (uint16_t)(1u << l);
	}

	/* huge pages: the placement pass writes these at random */
	hrem = big_alloc((n ? n : 1) * sizeof(*hrem));
	hval = big_alloc((n ? n : 1) * sizeof(*hval));
	if (!hrem || !hval)
		goto fail;
	/* counting sort by (table, bucket): count, prefix sums, place */
	for (size_t i = 0; i < n; i++) {
		unsigned len = in[i].key & 15;
		struct tab *T = &b->tab[in[i].kind - 1][len];
		uint64_t h = tab_hash(T, bcd2bin(key_bcd(in[i].key, len)));
		T->dir[(h >> T->rbits) + 1]++;
		if (in[i].kind == NTRIE_PREFIX) {
			uint64_t *w = (uint64_t *)(b->pf_flat >> len & 1 ? pf_block_of(b, in[i].key)
									 : pf_block(b, in[i].key));
			unsigned bit = pf_bit(in[i].key);
			w[bit >> 6] |= 1ull << (bit & 63);
		}
	}
	{
		/* tables share hrem/hval: table k,l occupies [tstart, tstart + n) */
		uint64_t tstart[2][NT_NTAB], acc = 0;
		for (int k = 0; k < 2; k++)
			for (unsigned l = 1; l < NT_NTAB; l++) {
				struct tab *T = &b->tab[k][l];
				tstart[k][l] = acc;
				if (!cnt[k][l])
					continue;
				for (uint32_t j = 0; j < T->nb; j++)
					T->dir[j + 1] += T->dir[j];
				acc += cnt[k][l];
			}
		for (size_t i = 0; i < n; i++) {
			unsigned len = in[i].key & 15, k = in[i].kind - 1;
			struct tab *T = &b->tab[k][len];
			uint64_t h = tab_hash(T, bcd2bin(key_bcd(in[i].key, len)));
			uint64_t pos = tstart[k][len] + T->dir[h >> T->rbits]++;
			hrem[pos] = h & T->rmask;
			hval[pos] = in[i].value;
			gate_add(b, in[i].key, in[i].kind);
		}
		/* dir[j] is now the end of bucket j: finish buckets, dropping
		 * duplicates and rewriting dir as starts */
		uint32_t maxb = 0;
		for (int k = 0; k < 2; k++)
			for (unsigned l = 1; l < NT_NTAB; l++)
				for (uint32_t j = 0; cnt[k][l] && j < b->tab[k][l].nb; j++) {
					uint32_t sz = b->tab[k][l].dir[j] - (j ? b->tab[k][l].dir[j - 1] : 0);
					maxb = sz > maxb ? sz : maxb;
				}
		pairs = malloc((maxb + 1) * sizeof(*pairs));
		if (!pairs)
			goto fail;
		vm.n = 0;
		memset(vm.used, 0, vm.mask + 1);
		for (int k = 0; k < 2; k++)
			for (unsigned l = 1; l < NT_NTAB; l++) {
				struct tab *T = &b->tab[k][l];
				uint32_t s = 0, out = 0;
				if (!cnt[k][l])
					continue;
				for (uint32_t j = 0; j < T->nb; j++) {
					uint32_t e = T->dir[j];
					uint32_t kept = bucket_finish(T, hrem + tstart[k][l],
								      hval + tstart[k][l], s, e, out,
								      pairs, wide, &vm);
					T->dir[j] = out;
					out += kept;
					s = e;
				}
				T->dir[T->nb] = out;
				T->n = out;
				for (uint32_t g = 0; g * NT_GRP < T->nb; g++) {
					struct dgrp *G = (struct dgrp *)&T->dg[g];
					uint32_t b0 = g * NT_GRP;
					G->base = T->dir[b0];
					for (uint32_t j = 0; j < NT_GRP; j++) {
						uint32_t e = T->dir[b0 + j + 1 <= T->nb ? b0 + j + 1 : T->nb];
						if (e - G->base > 255) {
							*ovf = true;
							goto fail;
						}
						G->end[j] = (uint8_t)(e - G->base);
					}
				}
				free(T->dir);
				T->dir = NULL;
				b->lens[k] |= (uint16_t)(1u << l);
				if (k == 1 && l >= b->pf_head)
					b->pl[b->npl++] = (uint8_t)l;
				else if (k == 1)
					b->fl[b->nfl++] = (uint8_t)l;
				b->entries += out;
				if (k == 1)
					b->prefixes += out;
			}
	}
	if (!wide)
		memcpy((uint32_t *)b->vtab, vm.vtab, vm.n * sizeof(uint32_t));
	goto out;
fail:
	for (int k = 0; b && k < 2; k++)
		for (unsigned l = 1; l < NT_NTAB; l++)
			free(b->tab[k][l].dir);
	free(b);
	b = NULL;
out:
	free(pairs);
	free(hrem);
	free(hval);
	free(vm.keys);
	free(vm.idx);
	free(vm.used);
	free(vm.vtab);
	free(reg);
	return b;
}

static struct base *base_build(const struct ntrie_entry *in, size_t n, size_t other)
{
	for (unsigned extra = 0;; extra++) {
		bool ovf = false;
		struct base *b = base_build_try(in, n, extra, other, &ovf);
		/* more buckets always end an overflow: at B = bits a bucket
		 * holds at most one entry */
		if (b || !ovf || extra > 40)
			return b; /* the last: B capped at 31 bits, give up (ENOMEM) */
	}
}

/* ---- roots and the delta ---- */

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

/* Writer: before a change.  The change's release store orders this
 * before it, so a reader that sees the change and then loads seq after
 * an acquire fence sees the bump. */
static void root_bump(struct root *r)
{
	__atomic_store_n(&r->seq, r->seq + 1, __ATOMIC_RELAXED);
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

	if (cfg && cfg->delta_capacity > NT_MAX_DELTA) {
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
	b = base_build(NULL, 0, 0);
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
	struct base *b = base_build(entries, n, t->root->bytes + sizeof(*t));
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
	unsigned len = key & 15;

	return (b->lens[kind - 1] >> len & 1) &&
	       tab_find(&b->tab[kind - 1][len], key, len) != NT_NO_POS;
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
			if (!(b->lens[k] >> l & 1))
				continue;
			for (uint32_t j = 0; j < T->nb; j++) {
				uint32_t s, e;
				tab_bounds(T, j, &s, &e);
				for (uint32_t i = s; i < e; i++) {
					uint64_t h = (uint64_t)j << T->rbits | tab_rem_at(T, i);
					uint64_t key = bin2key(tab_unhash(T, h), l);
					uint64_t meta;
					if (r->used && delta_find(r, key, k + 1, &meta) >= 0)
						continue;
					out[n++] = (struct ntrie_entry){ .key = key, .kind = (uint8_t)(k + 1),
									 .value = base_value(b, T, i) };
				}
			}
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

int ntrie_insert(struct ntrie *t, uint64_t key, enum ntrie_kind kind, uint32_t value)
{
	struct dslot *s;
	bool present;

	if (!valid_entry(key, kind))
		return -EINVAL;
	s = delta_slot(t->root, key, kind);
	if (s->key) {
		present = META_LIVE(s->meta);
		root_bump(t->root);
		gate_add((struct base *)t->root->base, key, kind);
		__atomic_store_n(&s->meta, META(value, kind, 1), __ATOMIC_RELEASE);
	} else {
		if (t->root->used >= t->delta_cap) {
			int rc = ntrie_compact(t);
			if (rc)
				return rc;
			s = delta_slot(t->root, key, kind);
		}
		present = base_has(t->root->base, key, kind);
		root_bump(t->root);
		gate_add((struct base *)t->root->base, key, kind);
		delta_publish(t->root, s, key, kind, META(value, kind, 1));
	}
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
		root_bump(t->root);
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
		root_bump(t->root);
		delta_publish(t->root, s, key, kind, META(0, kind, 0));
	}
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
