/* The number trie: suspended numbers (exact entries) and digit prefixes
 * (prefix entries), looked up by every INVITE on every worker.
 *
 * Keys are canonical E.164 digit strings (see number.h), packed by
 * ntrie_key() into a uint64_t: digit i as BCD in bits 63-4i..60-4i, the
 * length in bits 3..0.  Keys compare as uint64 in lexicographic digit
 * order (a prefix before its extensions).  Lookup returns the best match:
 * an exact entry first, else the longest prefix entry that the key starts
 * with (a prefix entry also matches the key equal to it).
 *
 * Design (details and measurements at the top of ntrie.c): an immutable
 * compact base, hashed by (kind, length) into buckets of one cache line
 * that store only the bits of each number the bucket does not imply and
 * its value, so that a lookup reads one DRAM line (7.1 bytes an entry at
 * 10M, all in); a prefix filter (~3 bytes a prefix entry, in cache) so
 * that prefix tables are probed only for likely matches; and a small delta
 * hash of recent inserts and deletes.  Bulk lookups hash eight keys at a
 * time with AVX-512 where the CPU has it (a portable path otherwise); a
 * burst of 32 costs one DRAM round trip for its home lines plus ~250 ns
 * of compute, ~2x rte_hash_lookup_bulk at 50% hits and ~1.5x at 1% hits
 * at 10M on the development VM (a gate in front of the lines did not
 * help: every burst still has lines to fetch; see ntrie.c).  A
 * change is a delta slot store and a filter bit: visible to readers when
 * the call returns, in about a microsecond of writer time.  When the
 * delta is full (cfg.delta_capacity updates), the writer folds it into a
 * new base, which costs about as much as ntrie_build of the whole set
 * (~2 s at 10M), inside the insert or delete that found it full; call
 * ntrie_compact() from a background moment to keep that off the path.
 *
 * Concurrency: any number of readers, one writer.  Readers take no locks
 * and store nothing shared, make one acquire load of the root and then
 * only loads (acquire or relaxed atomics: plain moves on x86), and see
 * either the whole of a change or none of it; a bulk lookup resolves its
 * keys as single lookups in key order would: a key sees every change that
 * an earlier key of the burst saw.  Memory the writer retires (a replaced base
 * and root, two pointers per swap) is handed to cfg.retire, which must
 * free() it only after every reader has passed a quiescent state
 * (rte_rcu_qsbr in teishi-dp; a plain free() when there are no concurrent
 * readers).  Writer functions must not run concurrently with each other.
 */
#ifndef TEISHI_NTRIE_H
#define TEISHI_NTRIE_H

#include <stddef.h>
#include <stdint.h>

#define NTRIE_MAX_DIGITS 15

enum ntrie_kind {
	NTRIE_EXACT = 1,
	NTRIE_PREFIX = 2,
};

/* An entry: digits (as ntrie_key) plus kind and an opaque 32-bit value,
 * which teishi uses as (action << 28 | order id); see NTRIE_VALUE(). */
struct ntrie_entry {
	uint64_t key;
	uint32_t value;
	uint8_t kind; /* enum ntrie_kind */
};

#define NTRIE_VALUE(action, id) ((uint32_t)(action) << 28 | ((uint32_t)(id) & 0x0fffffffu))
#define NTRIE_VALUE_ACTION(v) ((v) >> 28)
#define NTRIE_VALUE_ID(v) ((v) & 0x0fffffffu)

struct ntrie_match {
	uint32_t value;
	uint8_t kind; /* 0 when no match */
	uint8_t len;  /* digits of the entry that matched */
};

struct ntrie_config {
	/* Called by the writer with memory no longer reachable by new readers.
	 * Must free(ptr) once all readers have quiesced.  NULL: free() at once
	 * (only safe without concurrent readers). */
	void (*retire)(void *ctx, void *ptr);
	void *retire_ctx;
	/* Updates (distinct keys changed) buffered before the writer folds
	 * them into the base.  0: 16384; at most 2^24.  The delta takes
	 * about 33 bytes per unit of capacity. */
	uint32_t delta_capacity;
	/* Tests and benchmarks only; 0 in production.  portable_only: bulk
	 * lookups take the portable path even where AVX-512 is there.
	 * line_fill_pct: size bucket lines for this fill (1..1000; over 100
	 * pushes entries into overflow lines and the stash) instead of the
	 * default. */
	uint8_t portable_only;
	uint16_t line_fill_pct;
};

struct ntrie;

/* Pack len (1..15) digits into a key.  Returns 0 when d holds a non-digit
 * or len is out of range (0 is never a valid key). */
uint64_t ntrie_key(const char *d, size_t len);
/* Unpack a key into buf (>= NTRIE_MAX_DIGITS + 1 bytes); returns the length. */
size_t ntrie_key_digits(uint64_t key, char *buf);

/* Returns NULL with errno set: ENOMEM, or EINVAL when
 * cfg->delta_capacity is over 2^24 or cfg->line_fill_pct over 1000.  cfg
 * may be NULL (defaults). */
struct ntrie *ntrie_create(const struct ntrie_config *cfg);
/* NULL-safe.  No reader may still use t. */
void ntrie_free(struct ntrie *t);

/* Writer: replace the whole content with entries[0..n) (any order;
 * a later duplicate of the same key and kind wins).  O(n): about 0.1 s
 * per million entries.  Returns 0, -EINVAL (bad key or kind, or n >=
 * 2^32; nothing changed) or -ENOMEM (nothing changed). */
int ntrie_build(struct ntrie *t, const struct ntrie_entry *entries, size_t n);

/* Writer: add or overwrite one entry; visible to readers on return.
 * Returns 0, -EINVAL (bad key or kind) or -ENOMEM (a compaction the full
 * delta needed failed; nothing changed). */
int ntrie_insert(struct ntrie *t, uint64_t key, enum ntrie_kind kind, uint32_t value);
/* Writer: remove one entry.  Returns 0, -ENOENT when absent, -EINVAL
 * (bad key or kind) or -ENOMEM (as for ntrie_insert). */
int ntrie_delete(struct ntrie *t, uint64_t key, enum ntrie_kind kind);
/* Writer: fold buffered updates into the compact base now (no-op when
 * there are none).  Returns 0 or -ENOMEM (nothing changed). */
int ntrie_compact(struct ntrie *t);

/* Reader: best match for key.  Returns 1 and fills m on a match, else 0
 * with m->kind = 0 (also for an invalid key). */
int ntrie_lookup(const struct ntrie *t, uint64_t key, struct ntrie_match *m);
/* Reader: resolve keys[0..n) into m[0..n) (m[i].kind == 0: no match),
 * prefetching ahead to hide memory latency.  Returns the number of hits. */
unsigned ntrie_lookup_bulk(const struct ntrie *t, const uint64_t *keys, unsigned n,
			   struct ntrie_match *m);

/* Writer (or with no concurrent writer): call fn for every live entry in
 * key order, exact before prefix for equal keys; stop early when fn returns
 * non-zero and return that value.  Takes a sorted copy first (16 bytes per
 * entry): returns -ENOMEM when that fails. */
int ntrie_walk(const struct ntrie *t, int (*fn)(void *ctx, const struct ntrie_entry *e),
	       void *ctx);

struct ntrie_stats {
	uint64_t entries;       /* live entries, exact + prefix */
	uint64_t prefixes;      /* of which prefix entries */
	uint64_t bytes;         /* memory held: base block, root with delta, handle */
	uint64_t delta_entries; /* updates not yet folded into the base */
	uint64_t version;       /* bumped by every committed change */
};
/* Writer, or with no concurrent writer: it reads memory a writer may
 * retire. */
void ntrie_stats(const struct ntrie *t, struct ntrie_stats *s);

#endif
