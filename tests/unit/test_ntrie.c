/* ntrie: behaviour, a property test against a plain model, and readers
 * running against a writer with deferred reclamation. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ntrie.h"

static uint64_t K(const char *s)
{
	return ntrie_key(s, strlen(s));
}

/* The layout and path knobs the next tries are created with (see
 * ntrie_config): tests set them around shared test bodies. */
static struct {
	uint8_t portable_only;
	uint16_t line_fill_pct;
} knobs;

static struct ntrie *new_trie(uint32_t delta)
{
	struct ntrie_config cfg = { .delta_capacity = delta,
				    .portable_only = knobs.portable_only,
				    .line_fill_pct = knobs.line_fill_pct };
	struct ntrie *t = ntrie_create(&cfg);

	assert_non_null(t);
	return t;
}

static void test_ntrie_key_roundtrip_and_order(void **state)
{
	char buf[NTRIE_MAX_DIGITS + 1];
	(void)state;

	assert_int_equal(ntrie_key_digits(K("81312345678"), buf), 11);
	assert_string_equal(buf, "81312345678");
	assert_int_equal(ntrie_key_digits(K("999999999999999"), buf), 15);
	assert_string_equal(buf, "999999999999999");
	assert_int_equal(ntrie_key_digits(K("0"), buf), 1);
	assert_string_equal(buf, "0");
	/* lexicographic: a prefix sorts before its extensions, "12" < "120" < "13" */
	assert_true(K("12") < K("120"));
	assert_true(K("120") < K("13"));
	assert_true(K("8") < K("80"));
}

static void test_ntrie_key_rejects_bad_input(void **state)
{
	(void)state;
	assert_int_equal(ntrie_key("", 0), 0);
	assert_int_equal(ntrie_key("1234567890123456", 16), 0);
	assert_int_equal(ntrie_key("81a", 3), 0);
	assert_int_equal(ntrie_key(NULL, 3), 0);
	assert_int_equal(ntrie_key("+81", 3), 0);
}

static void test_ntrie_bad_keys_are_einval(void **state)
{
	struct ntrie *t = new_trie(0);
	struct ntrie_entry bad[2] = { { .key = K("8131"), .value = 1, .kind = NTRIE_EXACT },
				      { .key = 0x8131000000000003ull /* a digit past len */,
					.value = 2, .kind = NTRIE_EXACT } };
	struct ntrie_match m;
	(void)state;

	assert_int_equal(ntrie_insert(t, 0, NTRIE_EXACT, 1), -EINVAL);
	assert_int_equal(ntrie_insert(t, K("81"), 3, 1), -EINVAL);
	assert_int_equal(ntrie_insert(t, 0xA000000000000001ull, NTRIE_EXACT, 1), -EINVAL);
	assert_int_equal(ntrie_delete(t, 0, NTRIE_PREFIX), -EINVAL);
	assert_int_equal(ntrie_build(t, bad, 2), -EINVAL);
	/* nothing changed by the failed build */
	assert_int_equal(ntrie_insert(t, K("8131"), NTRIE_PREFIX, 9), 0);
	assert_int_equal(ntrie_build(t, bad, 2), -EINVAL);
	assert_int_equal(ntrie_lookup(t, K("81312"), &m), 1);
	assert_int_equal(m.value, 9);
	assert_int_equal(ntrie_lookup(t, 0xA000000000000001ull, &m), 0);
	assert_int_equal(m.kind, 0);
	ntrie_free(t);
}

static void test_ntrie_exact_beats_prefix(void **state)
{
	struct ntrie *t = new_trie(0);
	struct ntrie_match m;
	(void)state;

	assert_int_equal(ntrie_insert(t, K("8131234"), NTRIE_PREFIX, 7), 0);
	assert_int_equal(ntrie_insert(t, K("81312345678"), NTRIE_EXACT, 42), 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.kind, NTRIE_EXACT);
	assert_int_equal(m.value, 42);
	assert_int_equal(m.len, 11);
	assert_int_equal(ntrie_lookup(t, K("81312345679"), &m), 1);
	assert_int_equal(m.kind, NTRIE_PREFIX);
	assert_int_equal(m.value, 7);
	assert_int_equal(m.len, 7);
	ntrie_free(t);
}

static void test_ntrie_longest_prefix_wins(void **state)
{
	struct ntrie *t = new_trie(0);
	struct ntrie_entry e[] = {
		{ .key = K("81"), .value = 1, .kind = NTRIE_PREFIX },
		{ .key = K("8131"), .value = 2, .kind = NTRIE_PREFIX },
		{ .key = K("813123"), .value = 3, .kind = NTRIE_PREFIX },
	};
	struct ntrie_match m;
	(void)state;

	assert_int_equal(ntrie_build(t, e, 3), 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.value, 3);
	assert_int_equal(m.len, 6);
	assert_int_equal(ntrie_lookup(t, K("81319"), &m), 1);
	assert_int_equal(m.value, 2);
	assert_int_equal(ntrie_lookup(t, K("8190"), &m), 1);
	assert_int_equal(m.value, 1);
	/* a prefix matches the key equal to it, not a shorter key */
	assert_int_equal(ntrie_lookup(t, K("8131"), &m), 1);
	assert_int_equal(m.value, 2);
	assert_int_equal(ntrie_lookup(t, K("8"), &m), 0);
	assert_int_equal(ntrie_lookup(t, K("44"), &m), 0);
	/* a delta prefix longer than the base one wins, a deleted one falls back */
	assert_int_equal(ntrie_insert(t, K("8131234"), NTRIE_PREFIX, 4), 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.value, 4);
	assert_int_equal(ntrie_delete(t, K("813123"), NTRIE_PREFIX), 0);
	assert_int_equal(ntrie_lookup(t, K("81312399999"), &m), 1);
	assert_int_equal(m.value, 2);
	ntrie_free(t);
}

static void test_ntrie_delete_and_overwrite(void **state)
{
	struct ntrie *t = new_trie(4);
	struct ntrie_match m;
	struct ntrie_stats s;
	(void)state;

	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_EXACT), -ENOENT);
	assert_int_equal(ntrie_insert(t, K("81312345678"), NTRIE_EXACT, 1), 0);
	assert_int_equal(ntrie_insert(t, K("81312345678"), NTRIE_EXACT, 2), 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.value, 2);
	ntrie_stats(t, &s);
	assert_int_equal(s.entries, 1);
	/* same digits as a prefix are a different entry */
	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_PREFIX), -ENOENT);
	assert_int_equal(ntrie_compact(t), 0);
	ntrie_stats(t, &s);
	assert_int_equal(s.delta_entries, 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.value, 2);
	assert_int_equal(ntrie_insert(t, K("81312345678"), NTRIE_EXACT, 3), 0);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 1);
	assert_int_equal(m.value, 3);
	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_EXACT), 0);
	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_EXACT), -ENOENT);
	assert_int_equal(ntrie_lookup(t, K("81312345678"), &m), 0);
	ntrie_stats(t, &s);
	assert_int_equal(s.entries, 0);
	ntrie_free(t);
}

static void test_ntrie_build_later_duplicate_wins(void **state)
{
	struct ntrie *t = new_trie(0);
	struct ntrie_entry e[] = {
		{ .key = K("815012345678"), .value = 1, .kind = NTRIE_EXACT },
		{ .key = K("815012345678"), .value = 2, .kind = NTRIE_EXACT },
		{ .key = K("815012345678"), .value = 3, .kind = NTRIE_PREFIX },
	};
	struct ntrie_match m;
	struct ntrie_stats s;
	(void)state;

	assert_int_equal(ntrie_build(t, e, 3), 0);
	assert_int_equal(ntrie_lookup(t, K("815012345678"), &m), 1);
	assert_int_equal(m.value, 2);
	assert_int_equal(m.kind, NTRIE_EXACT);
	ntrie_stats(t, &s);
	assert_int_equal(s.entries, 2);
	assert_int_equal(s.prefixes, 1);
	assert_true(s.bytes > 0);
	assert_true(s.version >= 1);
	ntrie_free(t);
}

struct walk_ctx {
	char out[512];
	int stop_after;
	int seen;
};

static int walk_fn(void *ctx, const struct ntrie_entry *e)
{
	struct walk_ctx *w = ctx;
	char buf[NTRIE_MAX_DIGITS + 1];

	ntrie_key_digits(e->key, buf);
	snprintf(w->out + strlen(w->out), sizeof(w->out) - strlen(w->out), "%s%c%u ", buf,
		 e->kind == NTRIE_EXACT ? '=' : '*', e->value);
	return ++w->seen == w->stop_after ? 99 : 0;
}

static void test_ntrie_walk_in_key_order_exact_first(void **state)
{
	struct ntrie *t = new_trie(0);
	struct ntrie_entry e[] = {
		{ .key = K("13"), .value = 1, .kind = NTRIE_EXACT },
		{ .key = K("120"), .value = 2, .kind = NTRIE_PREFIX },
		{ .key = K("12"), .value = 3, .kind = NTRIE_PREFIX },
		{ .key = K("12"), .value = 4, .kind = NTRIE_EXACT },
	};
	struct walk_ctx w = { .stop_after = -1 };
	(void)state;

	assert_int_equal(ntrie_build(t, e, 4), 0);
	assert_int_equal(ntrie_insert(t, K("121"), NTRIE_EXACT, 5), 0);
	assert_int_equal(ntrie_delete(t, K("13"), NTRIE_EXACT), 0);
	assert_int_equal(ntrie_walk(t, walk_fn, &w), 0);
	assert_string_equal(w.out, "12=4 12*3 120*2 121=5 ");
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	assert_int_equal(ntrie_walk(t, walk_fn, &w), 99);
	assert_string_equal(w.out, "12=4 12*3 ");
	ntrie_free(t);
}

/* A build big enough to fill buckets to the design's load, half of it
 * scattered numbers and half one dense 050 block: every entry is found
 * with its value, single and bulk, numbers never added miss, and a walk
 * returns each entry once.  Run with few distinct values (16-bit value
 * indexes) and with more than 65535 (raw values). */
static uint64_t dense_key(uint32_t i, uint32_t n)
{
	char d[16];

	if (i < n / 2 || i >= n) /* scrambled: a bijection of 0..10^9 */
		snprintf(d, sizeof(d), "81%09u", (unsigned)(((uint64_t)i * 7919 + 12345) % 1000000000));
	else
		snprintf(d, sizeof(d), "8150%08u", (unsigned)(i - n / 2));
	return K(d);
}

static int count_fn(void *ctx, const struct ntrie_entry *e)
{
	(void)e;
	++*(uint64_t *)ctx;
	return 0;
}

static void check_dense(uint32_t (*value_of)(uint32_t))
{
	const uint32_t n = 200000;
	struct ntrie *t = new_trie(0);
	struct ntrie_entry *e = malloc(n * sizeof(*e));
	uint64_t keys[64], walked = 0;
	struct ntrie_match m, mb[64];

	assert_non_null(e);
	for (uint32_t i = 0; i < n; i++)
		e[i] = (struct ntrie_entry){ .key = dense_key(i, n), .value = value_of(i),
					     .kind = NTRIE_EXACT };
	assert_int_equal(ntrie_build(t, e, n), 0);
	for (uint32_t i = 0; i < n; i += 32) {
		/* 32 entries, then 32 numbers never added */
		for (uint32_t j = 0; j < 32; j++) {
			keys[j] = e[i + j].key;
			keys[32 + j] = dense_key(n + i + j, n);
		}
		assert_int_equal(ntrie_lookup_bulk(t, keys, 64, mb), 32);
		for (uint32_t j = 0; j < 32; j++) {
			assert_int_equal(mb[j].kind, NTRIE_EXACT);
			assert_int_equal(mb[j].value, value_of(i + j));
			assert_int_equal(mb[32 + j].kind, 0);
			assert_int_equal(ntrie_lookup(t, keys[j], &m), 1);
			assert_int_equal(m.value, value_of(i + j));
			assert_int_equal(ntrie_lookup(t, keys[32 + j], &m), 0);
		}
	}
	assert_int_equal(ntrie_walk(t, count_fn, &walked), 0);
	assert_int_equal(walked, n);
	/* a compaction rebuilds from the walk: still all there */
	assert_int_equal(ntrie_delete(t, e[7].key, NTRIE_EXACT), 0);
	assert_int_equal(ntrie_compact(t), 0);
	assert_int_equal(ntrie_lookup(t, e[7].key, &m), 0);
	assert_int_equal(ntrie_lookup(t, e[n - 1].key, &m), 1);
	assert_int_equal(m.value, value_of(n - 1));
	ntrie_free(t);
	free(e);
}

static uint32_t few_values(uint32_t i)
{
	return NTRIE_VALUE(1 + i % 3, i % 5000);
}

static uint32_t many_values(uint32_t i)
{
	return i * 3 + 1;
}

static void test_ntrie_dense_build_keeps_every_entry(void **state)
{
	(void)state;
	check_dense(few_values);
	check_dense(many_values);
}

static void test_ntrie_bulk_matches_single(void **state)
{
	struct ntrie *t = new_trie(0);
	uint64_t keys[100];
	struct ntrie_match mb[100], ms;
	unsigned hits = 0;
	(void)state;

	assert_int_equal(ntrie_insert(t, K("8150"), NTRIE_PREFIX, 50), 0);
	assert_int_equal(ntrie_compact(t), 0);
	for (int i = 0; i < 100; i++) {
		char d[16];
		snprintf(d, sizeof(d), "81%d%08d", 30 + i % 30, i * 7919);
		keys[i] = i == 99 ? 0 : K(d);
		if (i % 3 == 0 && i < 99)
			assert_int_equal(ntrie_insert(t, keys[i], NTRIE_EXACT, (uint32_t)i), 0);
		if (i == 50)
			assert_int_equal(ntrie_compact(t), 0);
	}
	hits = ntrie_lookup_bulk(t, keys, 100, mb);
	for (int i = 0; i < 100; i++) {
		int h = ntrie_lookup(t, keys[i], &ms);
		assert_int_equal(mb[i].kind, ms.kind);
		if (h) {
			assert_int_equal(mb[i].value, ms.value);
			assert_int_equal(mb[i].len, ms.len);
		}
	}
	assert_int_equal(hits, 33 + 3 /* 8150... for i % 30 == 20 */);
	ntrie_free(t);
}

/* Random digits after head, to length len. */
static uint64_t extend(const char *head, unsigned len, uint64_t *seed)
{
	char d[16];
	size_t h = strlen(head);

	memcpy(d, head, h);
	for (size_t i = h; i < len; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		d[i] = (char)('0' + (*seed >> 33) % 10);
	}
	return ntrie_key(d, len);
}

/* Both lookups of key agree and give (kind, len, value); kind 0: none. */
static void expect(struct ntrie *t, uint64_t key, unsigned kind, unsigned len, uint32_t value)
{
	struct ntrie_match ms, mb;
	unsigned hb = ntrie_lookup_bulk(t, &key, 1, &mb);

	assert_int_equal(ntrie_lookup(t, key, &ms), kind != 0);
	assert_int_equal(hb, kind != 0);
	assert_int_equal(ms.kind, kind);
	assert_int_equal(mb.kind, kind);
	if (kind) {
		assert_int_equal(ms.len, len);
		assert_int_equal(mb.len, len);
		assert_int_equal(ms.value, value);
		assert_int_equal(mb.value, value);
	}
}

/* A big set so that the prefix filter is selective: keys covered by a
 * listed prefix of every length pass it, whether the prefix came with the
 * build or later, shorter or longer than the region's head. */
static void test_ntrie_filter_passes_keys_under_listed_prefixes(void **state)
{
	static const char *pfx[] = { "8", "81", "813", "8134", "81345", "813456", "8134567",
				     "81345678", "813456789", "8134567890" };
	struct ntrie *t = new_trie(0);
	size_t n = 50000;
	struct ntrie_entry *e = malloc((n + 16) * sizeof(*e));
	uint64_t seed = 7;
	(void)state;

	for (size_t i = 0; i < n; i++)
		e[i] = (struct ntrie_entry){ extend(i % 2 ? "8190" : "8150", 12, &seed), 1,
					     NTRIE_EXACT };
	/* prefixes of 4..10 digits in region 813 (its head is 4 then), and
	 * three of 9 digits in 817 */
	for (unsigned i = 3; i < 10; i++)
		e[n++] = (struct ntrie_entry){ K(pfx[i]), 100 + i, NTRIE_PREFIX };
	for (unsigned i = 0; i < 3; i++)
		e[n++] = (struct ntrie_entry){ extend("8177", 9, &seed), 1, NTRIE_PREFIX };
	assert_int_equal(ntrie_build(t, e, n), 0);
	for (unsigned i = 3; i < 10; i++)
		for (unsigned len = (unsigned)strlen(pfx[i]); len <= 15; len++) {
			unsigned best = i;
			uint64_t k = extend(pfx[i], len, &seed);
			char d[16];
			ntrie_key_digits(k, d);
			while (best + 1 < 10 && strncmp(d, pfx[best + 1], strlen(pfx[best + 1])) == 0 &&
			       strlen(pfx[best + 1]) <= len)
				best++;
			expect(t, k, NTRIE_PREFIX, (unsigned)strlen(pfx[best]), 100 + best);
		}
	/* after the build: in region 815 (no prefix yet) one of 9 digits, then
	 * a shorter one; in 819 one of 12 digits, then one of 3; one of 1 */
	assert_int_equal(ntrie_insert(t, K("815012345"), NTRIE_PREFIX, 7), 0);
	assert_int_equal(ntrie_insert(t, K("8150"), NTRIE_PREFIX, 8), 0);
	assert_int_equal(ntrie_insert(t, K("819012345678"), NTRIE_PREFIX, 9), 0);
	assert_int_equal(ntrie_insert(t, K("819"), NTRIE_PREFIX, 10), 0);
	assert_int_equal(ntrie_insert(t, K("7"), NTRIE_PREFIX, 11), 0);
	for (unsigned len = 12; len <= 15; len++) {
		expect(t, extend("819012345678", len, &seed), NTRIE_PREFIX, 12, 9);
		expect(t, extend("815012345", len, &seed), NTRIE_PREFIX, 9, 7);
	}
	for (unsigned len = 4; len <= 15; len++) {
		uint64_t k = extend("8150", len, &seed);
		char d[16];
		ntrie_key_digits(k, d);
		if (strncmp(d, "815012345", 9) != 0 && len != 12) /* 12: exact entries */
			expect(t, k, NTRIE_PREFIX, 4, 8);
		expect(t, extend("8191", len, &seed), NTRIE_PREFIX, 3, 10);
		expect(t, extend("7", len, &seed), NTRIE_PREFIX, 1, 11);
		expect(t, extend("6", len, &seed), 0, 0, 0);
	}
	assert_int_equal(ntrie_compact(t), 0);
	expect(t, extend("819012345678", 14, &seed), NTRIE_PREFIX, 12, 9);
	expect(t, extend("7", 9, &seed), NTRIE_PREFIX, 1, 11);
	free(e);
	ntrie_free(t);
}

/* Bulk lookups of whole bursts (the AVX-512 first pass tests the prefix
 * filter eight keys at a time, at the lengths some prefix entry has from
 * the region's head to the key's length): prefix lengths with gaps
 * between them, one length only in the delta, keys of every length under
 * each prefix and beside them; each result is the longest listed prefix,
 * on both paths, before and after compaction; the same keys one by one and
 * in bursts of 1 to 7 (one message's numbers: the ordered path) agree. */
static void check_bursts(struct ntrie *t, const char *const *pfx, unsigned npfx, uint64_t *seed)
{
	uint64_t keys[32 * 12];
	struct ntrie_match m[32 * 12];
	unsigned n = 0, want_hits = 0, hits;

	for (unsigned len = 4; len <= 15; len++)
		for (unsigned i = 0; i < 32; i++) {
			/* under a prefix, or beside them (8131... has none) */
			const char *head = i % 5 == 4 ? "8131" : pfx[i % npfx];
			keys[n++] = extend(head, len < strlen(head) ? (unsigned)strlen(head) : len, seed);
		}
	hits = ntrie_lookup_bulk(t, keys, n, m);
	for (unsigned i = 0; i < n; i++) {
		char d[16];
		unsigned len = (unsigned)ntrie_key_digits(keys[i], d), best = 0;
		for (unsigned j = 0; j < npfx; j++)
			if (strlen(pfx[j]) <= len && strncmp(d, pfx[j], strlen(pfx[j])) == 0 &&
			    strlen(pfx[j]) > best)
				best = (unsigned)strlen(pfx[j]);
		assert_int_equal(m[i].kind, best ? NTRIE_PREFIX : 0);
		if (best) {
			assert_int_equal(m[i].len, best);
			assert_int_equal(m[i].value, 1000 + best);
			want_hits++;
		}
	}
	assert_int_equal(hits, want_hits);
	for (unsigned i = 0; i < n; i++) {
		struct ntrie_match ms;
		assert_int_equal(ntrie_lookup(t, keys[i], &ms), m[i].kind != 0);
		assert_int_equal(ms.kind, m[i].kind);
	}
	hits = 0;
	for (unsigned i = 0, c = 1; i < n; i += c, c = c % 7 + 1) {
		struct ntrie_match mf[7];
		unsigned nf = n - i < c ? n - i : c;
		hits += ntrie_lookup_bulk(t, keys + i, nf, mf);
		for (unsigned j = 0; j < nf; j++) {
			assert_int_equal(mf[j].kind, m[i + j].kind);
			if (mf[j].kind) {
				assert_int_equal(mf[j].len, m[i + j].len);
				assert_int_equal(mf[j].value, m[i + j].value);
			}
		}
	}
	assert_int_equal(hits, want_hits);
}

static void bursts_with_gapped_prefix_lengths(void)
{
	static const char *const pfx[] = { "8137", "8137012", "8137012345", "813701234567" };
	struct ntrie *t = new_trie(0);
	size_t n = 20000;
	struct ntrie_entry *e = malloc((n + 3) * sizeof(*e));
	uint64_t seed = 11;

	for (size_t i = 0; i < n; i++)
		e[i] = (struct ntrie_entry){ extend(i % 2 ? "8190" : "8150", 12, &seed), 1,
					     NTRIE_EXACT };
	/* lengths 4, 7 and 10 in the base; 12 only in the delta */
	for (unsigned i = 0; i < 3; i++)
		e[n++] = (struct ntrie_entry){ K(pfx[i]), 1000 + (uint32_t)strlen(pfx[i]),
					       NTRIE_PREFIX };
	assert_int_equal(ntrie_build(t, e, n), 0);
	check_bursts(t, pfx, 3, &seed);
	assert_int_equal(ntrie_insert(t, K(pfx[3]), NTRIE_PREFIX, 1012), 0);
	check_bursts(t, pfx, 4, &seed);
	assert_int_equal(ntrie_compact(t), 0);
	check_bursts(t, pfx, 4, &seed);
	free(e);
	ntrie_free(t);
}

static void test_ntrie_bulk_bursts_probe_listed_prefix_lengths(void **state)
{
	(void)state;
	bursts_with_gapped_prefix_lengths();
	knobs.portable_only = 1;
	bursts_with_gapped_prefix_lengths();
	knobs.portable_only = 0;
}

/* Deleted keys keep their filter bits (filters only gain bits) but must
 * miss; re-inserted ones hit, before and after compaction. */
static void test_ntrie_filter_delete_and_reinsert(void **state)
{
	struct ntrie *t = new_trie(0);
	size_t n = 20000;
	struct ntrie_entry *e = malloc(n * sizeof(*e));
	uint64_t seed = 11;
	(void)state;

	for (size_t i = 0; i < n; i++)
		e[i] = (struct ntrie_entry){ extend("813", 11, &seed), (uint32_t)i, NTRIE_EXACT };
	e[0].key = K("81312345678");
	e[1] = (struct ntrie_entry){ K("8131234"), 77, NTRIE_PREFIX };
	assert_int_equal(ntrie_build(t, e, n), 0);
	expect(t, K("81312345678"), NTRIE_EXACT, 11, 0);
	expect(t, K("81312345679"), NTRIE_PREFIX, 7, 77);
	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_EXACT), 0);
	assert_int_equal(ntrie_delete(t, K("8131234"), NTRIE_PREFIX), 0);
	expect(t, K("81312345678"), 0, 0, 0);
	expect(t, K("81312345679"), 0, 0, 0);
	assert_int_equal(ntrie_insert(t, K("81312345678"), NTRIE_EXACT, 5), 0);
	assert_int_equal(ntrie_insert(t, K("8131234"), NTRIE_PREFIX, 6), 0);
	expect(t, K("81312345678"), NTRIE_EXACT, 11, 5);
	expect(t, K("81312345679"), NTRIE_PREFIX, 7, 6);
	assert_int_equal(ntrie_compact(t), 0);
	expect(t, K("81312345678"), NTRIE_EXACT, 11, 5);
	assert_int_equal(ntrie_delete(t, K("81312345678"), NTRIE_EXACT), 0);
	assert_int_equal(ntrie_compact(t), 0);
	expect(t, K("81312345678"), NTRIE_PREFIX, 7, 6);
	/* a new key in a built trie: visible at once */
	assert_int_equal(ntrie_insert(t, K("81399999999"), NTRIE_EXACT, 9), 0);
	expect(t, K("81399999999"), NTRIE_EXACT, 11, 9);
	free(e);
	ntrie_free(t);
}

/* Exact and prefix entries of every length 1..15, from a build and from
 * inserts; misses of every length. */
static void test_ntrie_filter_every_key_length(void **state)
{
	struct ntrie *t = new_trie(0);
	static struct ntrie_entry e[40000];
	uint64_t x[16], p[16], y[16];
	size_t n = 0;
	uint64_t seed = 3;
	(void)state;

	for (unsigned len = 1; len <= 15; len++) {
		x[len] = extend("5", len, &seed);
		p[len] = extend("4", len, &seed);
		y[len] = extend("6", len, &seed);
		e[n++] = (struct ntrie_entry){ x[len], len, NTRIE_EXACT };
		e[n++] = (struct ntrie_entry){ p[len], 100 + len, NTRIE_PREFIX };
	}
	while (n < 40000)
		e[n++] = (struct ntrie_entry){ extend("3", 12, &seed), 1, NTRIE_EXACT };
	assert_int_equal(ntrie_build(t, e, n), 0);
	for (unsigned len = 1; len <= 15; len++) {
		char d[16], pd[16];
		unsigned best = 0;
		expect(t, x[len], NTRIE_EXACT, len, len);
		expect(t, extend("2", len, &seed), 0, 0, 0);
		expect(t, y[len], 0, 0, 0);
		assert_int_equal(ntrie_insert(t, y[len], NTRIE_EXACT, 200 + len), 0);
		expect(t, y[len], NTRIE_EXACT, len, 200 + len);
		/* p[len] itself: the longest listed prefix of it */
		ntrie_key_digits(p[len], d);
		for (unsigned l = 1; l <= len; l++) {
			ntrie_key_digits(p[l], pd);
			if (strncmp(d, pd, l) == 0)
				best = l;
		}
		assert_int_equal(best, len);
		expect(t, p[len], NTRIE_PREFIX, len, 100 + len);
	}
	ntrie_free(t);
}

struct model_slot {
	uint64_t key;
	uint32_t value;
	uint8_t kind;
	uint8_t live;
};

struct model {
	struct model_slot *s;
	size_t mask;
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct model_slot *model_slot(struct model *md, uint64_t key, uint8_t kind)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20 ^ kind) & md->mask;

	for (;; i = (i + 1) & md->mask)
		if (md->s[i].key == 0 || (md->s[i].key == key && md->s[i].kind == kind))
			return &md->s[i];
}

static int model_lookup(struct model *md, uint64_t key, struct ntrie_match *m)
{
	unsigned len = key & 15;
	char d[NTRIE_MAX_DIGITS + 1];
	struct model_slot *s;

	if (len == 0 || ntrie_key(d, ntrie_key_digits(key, d)) != key) {
		m->kind = 0;
		return 0;
	}
	s = model_slot(md, key, NTRIE_EXACT);

	if (s->key && s->live) {
		*m = (struct ntrie_match){ s->value, NTRIE_EXACT, (uint8_t)len };
		return 1;
	}
	for (unsigned l = len; l >= 1; l--) {
		uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
		s = model_slot(md, pk, NTRIE_PREFIX);
		if (s->key && s->live) {
			*m = (struct ntrie_match){ s->value, NTRIE_PREFIX, (uint8_t)l };
			return 1;
		}
	}
	m->kind = 0;
	return 0;
}

/* Keys over a small alphabet so that prefixes, overwrites and deletes
 * meet; now and then a full random 15-digit key. */
static uint64_t random_key(void)
{
	char d[16];
	unsigned len = rnd() % 8 == 0 ? 1 + rnd() % 15 : 9 + rnd() % 4;
	unsigned alpha = rnd() % 16 == 0 ? 10 : 3;

	for (unsigned i = 0; i < len; i++)
		d[i] = (char)('0' + (i < 2 ? 8 - i * 7 : rnd() % alpha));
	return ntrie_key(d, len);
}

static void check_key(struct ntrie *t, struct model *md, uint64_t key)
{
	struct ntrie_match a, b;
	int ha = ntrie_lookup(t, key, &a), hb = model_lookup(md, key, &b);

	assert_int_equal(ha, hb);
	assert_int_equal(a.kind, b.kind);
	if (ha) {
		assert_int_equal(a.value, b.value);
		assert_int_equal(a.len, b.len);
	}
}

static void test_ntrie_property_random_ops_match_model(void **state)
{
	const char *env = getenv("NTRIE_PROPERTY_OPS");
	long ops = env ? atol(env) : 20000;
	struct model md;
	struct ntrie *t = new_trie(64);
	uint64_t *keys = malloc(64 * sizeof(*keys));
	struct ntrie_match *mb = malloc(64 * sizeof(*mb));
	uint64_t live = 0;
	(void)state;

	md.mask = 1;
	while (md.mask < (size_t)ops * 4 + 1024)
		md.mask <<= 1;
	md.s = calloc(md.mask, sizeof(*md.s));
	md.mask--;
	assert_non_null(md.s);
	for (long op = 0; op < ops; op++) {
		unsigned r = rnd() % 1000;
		uint64_t key = random_key();
		uint8_t kind = r < 700 ? NTRIE_EXACT : NTRIE_PREFIX;
		uint32_t value = (uint32_t)rnd();
		struct model_slot *s;

		if (r < 1) {
			/* bulk build from a fresh list with duplicates */
			size_t n = rnd() % 2000;
			struct ntrie_entry *e = malloc((n + 1) * sizeof(*e));
			memset(md.s, 0, (md.mask + 1) * sizeof(*md.s));
			live = 0;
			for (size_t i = 0; i < n; i++) {
				e[i] = (struct ntrie_entry){ .key = i && rnd() % 10 == 0 ? e[i - 1].key : random_key(),
							     .value = (uint32_t)rnd() % 100000,
							     .kind = (uint8_t)(rnd() % 5 ? NTRIE_EXACT : NTRIE_PREFIX) };
				s = model_slot(&md, e[i].key, e[i].kind);
				live += !(s->key && s->live);
				*s = (struct model_slot){ e[i].key, e[i].value, e[i].kind, 1 };
			}
			assert_int_equal(ntrie_build(t, e, n), 0);
			free(e);
		} else if (r < 500 || (r >= 700 && r < 850)) {
			s = model_slot(&md, key, kind);
			live += !(s->key && s->live);
			*s = (struct model_slot){ key, value, kind, 1 };
			assert_int_equal(ntrie_insert(t, key, kind, value), 0);
		} else {
			s = model_slot(&md, key, kind);
			if (s->key && s->live) {
				s->live = 0;
				live--;
				assert_int_equal(ntrie_delete(t, key, kind), 0);
			} else {
				assert_int_equal(ntrie_delete(t, key, kind), -ENOENT);
			}
		}
		check_key(t, &md, key);
		check_key(t, &md, random_key());
		if (op % 64 == 0) {
			struct ntrie_stats st;
			if (op % 128 == 0) /* bulk over a base alone, too */
				assert_int_equal(ntrie_compact(t), 0);
			unsigned n = 1 + (unsigned)(rnd() % 64), hits = 0;
			for (unsigned i = 0; i < n; i++)
				keys[i] = rnd() % 50 ? random_key() : rnd();
			unsigned got = ntrie_lookup_bulk(t, keys, n, mb);
			for (unsigned i = 0; i < n; i++) {
				struct ntrie_match x;
				int h = model_lookup(&md, keys[i], &x);
				hits += (unsigned)h;
				assert_int_equal(mb[i].kind, x.kind);
				if (h) {
					assert_int_equal(mb[i].value, x.value);
					assert_int_equal(mb[i].len, x.len);
				}
			}
			assert_int_equal(got, hits);
			ntrie_stats(t, &st);
			assert_int_equal(st.entries, live);
		}
	}
	free(md.s);
	free(keys);
	free(mb);
	ntrie_free(t);
}

/* k followed by random digits, up to 15 in all. */
static uint64_t extend_key(uint64_t k)
{
	unsigned len = k & 15, to = len + (unsigned)(rnd() % (16 - len));

	k &= ~15ull;
	for (unsigned i = len; i < to; i++)
		k |= (rnd() % 10) << (60 - 4 * i);
	return k | to;
}

/* The property test again on the portable path (bulk lookups without
 * AVX-512), and with lines sized so full that many entries are displaced
 * or stashed. */
static void test_ntrie_property_portable_path_and_full_lines(void **state)
{
	knobs.portable_only = 1;
	test_ntrie_property_random_ops_match_model(state);
	knobs.line_fill_pct = 150;
	test_ntrie_property_random_ops_match_model(state);
	knobs.portable_only = 0;
	test_ntrie_property_random_ops_match_model(state);
	knobs.line_fill_pct = 0;
}

/* A build of 30000 random entries (exact and prefix, 1..15 digits, many
 * prefixes 1..3 digits shorter than numbers) checked key by key against the
 * model, in bursts of 32 and of 1 to 7 and one by one: under every layout
 * (lines 75%, 100% and 300% full: displaced and stashed entries) and both
 * bulk paths; then after inserts and deletes, and after a compaction. */
static void test_ntrie_layouts_and_paths_match_model(void **state)
{
	static const uint16_t fills[] = { 0, 100, 300 };
	const size_t n = 30000;
	struct ntrie_entry *e = malloc(n * sizeof(*e));
	uint64_t *q = malloc(4 * n * sizeof(*q));
	struct ntrie_match *mb = malloc(4 * n * sizeof(*mb));
	struct model md;
	(void)state;

	assert_non_null(e);
	md.mask = (1u << 20) - 1;
	md.s = calloc(md.mask + 1, sizeof(*md.s));
	for (int f = 0; f < 3; f++)
		for (int a = 0; a < 2; a++) {
			size_t nq = 0, hits = 0, got;
			struct ntrie *t;
			uint64_t walked = 0;

			knobs.line_fill_pct = fills[f];
			knobs.portable_only = (uint8_t)a;
			t = new_trie(256);
			memset(md.s, 0, (md.mask + 1) * sizeof(*md.s));
			for (size_t i = 0; i < n; i++) {
				uint64_t k = random_key();
				unsigned len = k & 15;
				uint8_t kind = rnd() % 4 ? NTRIE_EXACT : NTRIE_PREFIX;
				if (kind == NTRIE_PREFIX && len > 3 && rnd() % 2) {
					unsigned l = len - 1 - (unsigned)(rnd() % 3);
					k = (k & ~(~0ull >> (4 * l))) | l;
				}
				e[i] = (struct ntrie_entry){ k, (uint32_t)rnd() % 70000, kind };
				*model_slot(&md, k, kind) = (struct model_slot){ k, e[i].value, kind, 1 };
			}
			assert_int_equal(ntrie_build(t, e, n), 0);
			for (int round = 0; round < 3; round++) {
				nq = hits = 0;
				for (size_t i = 0; i < n; i++) {
					q[nq++] = e[i].key;
					q[nq++] = extend_key(e[i].key);
					q[nq++] = random_key();
					q[nq++] = (e[i].key & ~15ull) | 15; /* an extension or invalid */
				}
				got = 0;
				for (size_t i = 0; i < nq; i += 32)
					got += ntrie_lookup_bulk(t, q + i, nq - i < 32 ? (unsigned)(nq - i) : 32,
								 mb + i);
				for (size_t i = 0; i < nq; i++) {
					struct ntrie_match x, s1;
					int h = model_lookup(&md, q[i], &x);
					hits += (size_t)h;
					assert_int_equal(ntrie_lookup(t, q[i], &s1), h);
					assert_int_equal(mb[i].kind, x.kind);
					assert_int_equal(s1.kind, x.kind);
					if (h) {
						assert_int_equal(mb[i].value, x.value);
						assert_int_equal(mb[i].len, x.len);
						assert_int_equal(s1.value, x.value);
					}
				}
				assert_int_equal(got, hits);
				/* the same keys in bursts of 1 to 7 (the ordered path
				 * of a message's few numbers) */
				got = 0;
				for (size_t i = 0, c = 1; i < nq; i += c, c = c % 7 + 1) {
					struct ntrie_match mf[7];
					unsigned nf = nq - i < c ? (unsigned)(nq - i) : (unsigned)c;
					got += ntrie_lookup_bulk(t, q + i, nf, mf);
					for (unsigned j = 0; j < nf; j++) {
						assert_int_equal(mf[j].kind, mb[i + j].kind);
						if (mf[j].kind) {
							assert_int_equal(mf[j].value, mb[i + j].value);
							assert_int_equal(mf[j].len, mb[i + j].len);
						}
					}
				}
				assert_int_equal(got, hits);
				/* changes through the delta, then (round 2) compacted */
				for (size_t i = 0; i < 200; i++) {
					struct ntrie_entry *x = &e[rnd() % n];
					struct model_slot *s = model_slot(&md, x->key, x->kind);
					if (s->live) {
						assert_int_equal(ntrie_delete(t, x->key, x->kind), 0);
						s->live = 0;
					} else {
						assert_int_equal(ntrie_insert(t, x->key, x->kind, 5), 0);
						*s = (struct model_slot){ x->key, 5, x->kind, 1 };
					}
				}
				if (round == 1)
					assert_int_equal(ntrie_compact(t), 0);
			}
			assert_int_equal(ntrie_walk(t, count_fn, &walked), 0);
			{
				struct ntrie_stats st;
				ntrie_stats(t, &st);
				assert_int_equal(walked, st.entries);
			}
			ntrie_free(t);
		}
	knobs.portable_only = 0;
	knobs.line_fill_pct = 0;
	free(md.s);
	free(e);
	free(q);
	free(mb);
}

#define RETIRE_MAX 4096

struct epoch {
	uint64_t reader_count[2]; /* bumped after each lookup: a quiescent state */
	int stop;
	void *pending[RETIRE_MAX];
	int npending;
	uint64_t failures;
	uint64_t lookups[2];
	struct ntrie *t;
	uint32_t written; /* pairs fully inserted */
};

static void epoch_retire(void *ctx, void *ptr)
{
	struct epoch *ep = ctx;

	assert_true(ep->npending < RETIRE_MAX);
	ep->pending[ep->npending++] = ptr;
}

/* Wait until every reader passed a quiescent state, then free. */
static void epoch_sync(struct epoch *ep)
{
	uint64_t snap[2];

	for (int i = 0; i < 2; i++)
		snap[i] = __atomic_load_n(&ep->reader_count[i], __ATOMIC_ACQUIRE);
	for (int i = 0; i < 2; i++)
		while (__atomic_load_n(&ep->reader_count[i], __ATOMIC_ACQUIRE) == snap[i])
			sched_yield();
	for (int i = 0; i < ep->npending; i++) {
		memset(ep->pending[i], 0xa5, 64); /* make a use-after-free visible */
		free(ep->pending[i]);
	}
	ep->npending = 0;
}

/* Stop the two readers, free what they may still have seen, and check
 * that they looked up something and never saw a wrong answer. */
static void epoch_finish(struct epoch *ep, pthread_t th[2])
{
	__atomic_store_n(&ep->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < ep->npending; i++)
		free(ep->pending[i]);
	assert_int_equal(ep->failures, 0);
	assert_true(ep->lookups[0] > 0 && ep->lookups[1] > 0);
	ntrie_free(ep->t);
	free(ep);
}

static uint64_t pair_key(int which, uint32_t i)
{
	char d[16];

	snprintf(d, sizeof(d), "81%d%09u", which ? 5 : 3, i * 7u);
	return ntrie_key(d, 12);
}

struct reader_arg {
	struct epoch *ep;
	int id;
};

/* The writer inserts A_i then B_i, and bumps "version" key V to i.  A reader
 * that sees B_i must then see A_i with the same value, and V never goes
 * back. */
static void *reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct epoch *ep = ra->ep;
	uint32_t last_v = 0;
	uint64_t seed = 12345 + (uint64_t)ra->id;

	while (!__atomic_load_n(&ep->stop, __ATOMIC_ACQUIRE)) {
		uint32_t w = __atomic_load_n(&ep->written, __ATOMIC_ACQUIRE);
		struct ntrie_match a, b, v;
		uint32_t i;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = w ? (uint32_t)(seed >> 33) % (w + 16) : 0;
		if (ntrie_lookup(ep->t, pair_key(1, i), &b)) {
			if (!ntrie_lookup(ep->t, pair_key(0, i), &a) || a.value != b.value ||
			    b.value != i)
				__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
		}
		if (i < w && !ntrie_lookup(ep->t, pair_key(1, i), &b))
			__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED); /* published before we started: must be visible */
		if (ntrie_lookup(ep->t, ntrie_key("8199", 4), &v)) {
			if (v.value < last_v)
				__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
			last_v = v.value;
		}
		/* a burst long enough for the vector path: B before A, twice */
		uint64_t bk[16] = { pair_key(1, i), pair_key(0, i), ntrie_key("8199", 4), pair_key(1, i + 1),
				    ntrie_key("81991", 5), pair_key(1, i + 2), pair_key(0, i + 2),
				    pair_key(0, i + 1) };
		struct ntrie_match bm[16];
		for (int j = 8; j < 16; j++)
			bk[j] = pair_key(j & 1, i + (uint32_t)(j - 8) / 2);
		ntrie_lookup_bulk(ep->t, bk, 16, bm);
		if (bm[0].kind && (!bm[1].kind || bm[1].value != bm[0].value))
			__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
		if (bm[5].kind && (!bm[6].kind || bm[6].value != bm[5].value))
			__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
		if (bm[2].kind && bm[4].kind != NTRIE_PREFIX)
			__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
		ep->lookups[ra->id]++;
		__atomic_fetch_add(&ep->reader_count[ra->id], 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_ntrie_readers_never_see_half_applied_changes(void **state)
{
	struct epoch *ep = calloc(1, sizeof(*ep));
	struct ntrie_config cfg = { .retire = epoch_retire, .retire_ctx = ep, .delta_capacity = 32,
				    .portable_only = knobs.portable_only };
	struct reader_arg ra[2] = { { ep, 0 }, { ep, 1 } };
	pthread_t th[2];
	(void)state;

	ep->t = ntrie_create(&cfg);
	assert_non_null(ep->t);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	for (uint32_t i = 0; i < 3000; i++) {
		assert_int_equal(ntrie_insert(ep->t, pair_key(0, i), NTRIE_EXACT, i), 0);
		assert_int_equal(ntrie_insert(ep->t, pair_key(1, i), NTRIE_EXACT, i), 0);
		assert_int_equal(ntrie_insert(ep->t, ntrie_key("8199", 4), NTRIE_PREFIX, i), 0);
		__atomic_store_n(&ep->written, i + 1, __ATOMIC_RELEASE);
		if (i % 500 == 250) {
			/* a bulk build that keeps every pair written so far */
			struct ntrie_entry *e = malloc((2 * i + 3) * sizeof(*e));
			for (uint32_t j = 0; j <= i; j++) {
				e[2 * j] = (struct ntrie_entry){ pair_key(0, j), j, NTRIE_EXACT };
				e[2 * j + 1] = (struct ntrie_entry){ pair_key(1, j), j, NTRIE_EXACT };
			}
			e[2 * i + 2] = (struct ntrie_entry){ ntrie_key("8199", 4), i, NTRIE_PREFIX };
			assert_int_equal(ntrie_build(ep->t, e, 2 * i + 3), 0);
			free(e);
		}
		if (ep->npending >= 8)
			epoch_sync(ep);
	}
	epoch_finish(ep, th);
}

/* The same on the portable path, whose bulk passes also read the prefix
 * filter before the rest and resolve a burst again when a change landed. */
static void test_ntrie_readers_never_see_half_applied_changes_portable(void **state)
{
	knobs.portable_only = 1;
	test_ntrie_readers_never_see_half_applied_changes(state);
	knobs.portable_only = 0;
}

/* Prefix Q_i of 8 to 12 digits in one of 100 regions (7xx), a length
 * that region may not have had before: a region's length mask gains it
 * through the delta. */
static uint64_t q_prefix(uint32_t i, unsigned *len)
{
	char d[16];

	*len = 8 + (i / 100) % 5;
	snprintf(d, sizeof(d), "7%02u%010u", i % 100, (uint32_t)(i * 2654435761u) % 1000000000u);
	return ntrie_key(d, *len);
}

/* A 13-digit key under Q_i (no exact entry has 13 digits here). */
static uint64_t q_under(uint32_t i)
{
	char d[16];

	snprintf(d, sizeof(d), "7%02u%010u", i % 100, (uint32_t)(i * 2654435761u) % 1000000000u);
	return ntrie_key(d, 13);
}

struct short_arg {
	struct epoch *ep;
	int id;
	uint32_t written; /* Q_i and B_i inserted for i below this */
};

/* Readers looking up bursts of 2 to 7 keys, B_j then a key under Q_j for
 * a few j: the writer inserts Q_j before B_j, so a burst that sees B_j
 * must see Q_j in the key after it (its longest prefix at least Q_j's
 * length), and both once the writer had published them before the burst. */
static void *short_reader(void *arg)
{
	struct short_arg *sa = arg;
	struct epoch *ep = sa->ep;
	uint64_t seed = 777 + (uint64_t)sa->id;

	while (!__atomic_load_n(&ep->stop, __ATOMIC_ACQUIRE)) {
		uint32_t w = __atomic_load_n(&sa->written, __ATOMIC_ACQUIRE), i;
		uint64_t k[7];
		struct ntrie_match m[7];
		unsigned n;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (uint32_t)(seed >> 33) % (w + 8);
		n = 2 + (unsigned)(seed >> 20) % 6;
		for (unsigned j = 0; j < n; j++)
			k[j] = j % 2 ? q_under(i + j / 2) : pair_key(1, i + j / 2);
		ntrie_lookup_bulk(ep->t, k, n, m);
		for (unsigned j = 0; j + 1 < n; j += 2) {
			unsigned ql;
			(void)q_prefix(i + j / 2, &ql);
			if (i + j / 2 < w && !m[j].kind)
				__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
			if ((m[j].kind || i + j / 2 < w) &&
			    (m[j + 1].kind != NTRIE_PREFIX || m[j + 1].len < ql))
				__atomic_fetch_add(&ep->failures, 1, __ATOMIC_RELAXED);
		}
		ep->lookups[sa->id]++;
		__atomic_fetch_add(&ep->reader_count[sa->id], 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_ntrie_short_bursts_see_new_prefix_lengths_in_order(void **state)
{
	struct epoch *ep = calloc(1, sizeof(*ep));
	struct ntrie_config cfg = { .retire = epoch_retire, .retire_ctx = ep, .delta_capacity = 32 };
	struct short_arg sa[2] = { { ep, 0, 0 }, { ep, 1, 0 } };
	pthread_t th[2];
	(void)state;

	ep->t = ntrie_create(&cfg);
	assert_non_null(ep->t);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, short_reader, &sa[i]), 0);
	for (uint32_t i = 0; i < 3000; i++) {
		unsigned ql;
		uint64_t q = q_prefix(i, &ql);
		assert_int_equal(ntrie_insert(ep->t, q, NTRIE_PREFIX, i), 0);
		assert_int_equal(ntrie_insert(ep->t, pair_key(1, i), NTRIE_EXACT, i), 0);
		for (int r = 0; r < 2; r++)
			__atomic_store_n(&sa[r].written, i + 1, __ATOMIC_RELEASE);
		if (ep->npending >= 8)
			epoch_sync(ep);
	}
	epoch_finish(ep, th);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntrie_key_roundtrip_and_order),
		cmocka_unit_test(test_ntrie_key_rejects_bad_input),
		cmocka_unit_test(test_ntrie_bad_keys_are_einval),
		cmocka_unit_test(test_ntrie_exact_beats_prefix),
		cmocka_unit_test(test_ntrie_longest_prefix_wins),
		cmocka_unit_test(test_ntrie_delete_and_overwrite),
		cmocka_unit_test(test_ntrie_build_later_duplicate_wins),
		cmocka_unit_test(test_ntrie_walk_in_key_order_exact_first),
		cmocka_unit_test(test_ntrie_bulk_matches_single),
		cmocka_unit_test(test_ntrie_dense_build_keeps_every_entry),
		cmocka_unit_test(test_ntrie_filter_passes_keys_under_listed_prefixes),
		cmocka_unit_test(test_ntrie_bulk_bursts_probe_listed_prefix_lengths),
		cmocka_unit_test(test_ntrie_filter_delete_and_reinsert),
		cmocka_unit_test(test_ntrie_filter_every_key_length),
		cmocka_unit_test(test_ntrie_property_random_ops_match_model),
		cmocka_unit_test(test_ntrie_property_portable_path_and_full_lines),
		cmocka_unit_test(test_ntrie_layouts_and_paths_match_model),
		cmocka_unit_test(test_ntrie_readers_never_see_half_applied_changes),
		cmocka_unit_test(test_ntrie_readers_never_see_half_applied_changes_portable),
		cmocka_unit_test(test_ntrie_short_bursts_see_new_prefix_lengths_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
