/* list_map: the suspension list in a real kernel LPM-trie map, held to
 * ntrie's answers, and kept from a real redis-server by the sync module.
 * Creating a BPF map needs root (CAP_BPF): skipped (77) without. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "list_map.h"
#include "redis_fixture.h"

static struct redis_fixture rf;

struct warned {
	int n;
	char last[256];
};

static void on_warn(void *ctx, const char *msg)
{
	struct warned *w = ctx;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static uint64_t K(const char *digits)
{
	return ntrie_key(digits, strlen(digits));
}

static struct ntrie_entry E(const char *digits, unsigned kind, uint32_t id)
{
	return (struct ntrie_entry){ K(digits), NTRIE_VALUE(1, id), (uint8_t)kind };
}

static size_t map_size(int fd)
{
	struct teishi_list_key k, cur;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, n ? &cur : NULL, &k) == 0) {
		cur = k;
		n++;
	}
	return n;
}

struct walked {
	struct ntrie_entry e[16];
	unsigned n;
};

static int collect(void *ctx, const struct ntrie_entry *e)
{
	struct walked *w = ctx;

	if (w->n == 16)
		return -ENOSPC;
	w->e[w->n++] = *e;
	return 0;
}

/* Whether w holds e (key, kind and value). */
static int walked_has(const struct walked *w, struct ntrie_entry e)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->e[i].key == e.key && w->e[i].kind == e.kind && w->e[i].value == e.value)
			return 1;
	return 0;
}

static void test_list_map_key_layout(void **st)
{
	(void)st;
	struct teishi_list_key k;
	static const uint8_t exact[8] = { 0x81, 0x31, 0x23, 0x45, 0x67, 0x8f, 0, 0 };
	static const uint8_t prefix[8] = { 0x81, 0x31, 0, 0, 0, 0, 0, 0 };
	static const uint8_t odd[8] = { 0x81, 0x30, 0, 0, 0, 0, 0, 0 };
	static const uint8_t full[8] = { 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x5f };

	assert_int_equal(list_map_key(K("81312345678"), NTRIE_EXACT, &k), 0);
	assert_int_equal(k.prefixlen, 48);
	assert_memory_equal(k.data, exact, 8);
	assert_int_equal(list_map_key(K("81312345678"), 0, &k), 0); /* a lookup */
	assert_int_equal(k.prefixlen, 64);
	assert_memory_equal(k.data, exact, 8);
	assert_int_equal(list_map_key(K("8131"), NTRIE_PREFIX, &k), 0);
	assert_int_equal(k.prefixlen, 16);
	assert_memory_equal(k.data, prefix, 8);
	assert_int_equal(list_map_key(K("813"), NTRIE_PREFIX, &k), 0);
	assert_int_equal(k.prefixlen, 12);
	assert_memory_equal(k.data, odd, 8);
	assert_int_equal(list_map_key(K("123456789012345"), NTRIE_EXACT, &k), 0);
	assert_int_equal(k.prefixlen, 64);
	assert_memory_equal(k.data, full, 8);
	/* not a key ntrie_key makes, or no kind we know */
	assert_int_equal(list_map_key(0, NTRIE_EXACT, &k), -EINVAL);
	assert_int_equal(list_map_key(K("8131") | 0xa000000000000000ull, NTRIE_EXACT, &k), -EINVAL);
	assert_int_equal(list_map_key(K("8131") | 0x10, NTRIE_EXACT, &k), -EINVAL);
	assert_int_equal(list_map_key(K("8131"), 3, &k), -EINVAL);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void rnd_digits(char *d, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		d[i] = (char)('0' + rnd() % 10);
	d[len] = '\0';
}

/* Random exact and prefix entries, looked up with numbers made to hit
 * them (the number itself, a prefix's extensions, a prefix's own digits)
 * and random ones: the map answers as ntrie does, kind, length and value. */
static void test_list_map_answers_as_ntrie(void **st)
{
	(void)st;
	enum { N = 4000, LOOKUPS = 20000 };
	struct ntrie_entry *e = calloc(N, sizeof(*e));
	struct list_map m = { .max_entries = N };
	struct ntrie *t = ntrie_create(NULL);
	char d[16];
	unsigned hits = 0, prefix_hits = 0;

	assert_non_null(e);
	m.fd = list_map_create(N);
	assert_true(m.fd >= 0);
	for (unsigned i = 0; i < N; i++) {
		/* prefixes short enough to overlap each other, numbers of every
		 * length up to 15, under the same few leading digits */
		unsigned kind = i % 3 == 0 ? NTRIE_PREFIX : NTRIE_EXACT;
		unsigned len = kind == NTRIE_PREFIX ? 3 + rnd() % 6 : 7 + rnd() % 9;

		rnd_digits(d, len);
		d[0] = '8';
		d[1] = (char)('0' + rnd() % 3);
		e[i] = E(d, kind, i + 1);
	}
	assert_int_equal(ntrie_build(t, e, N), 0);
	assert_int_equal(list_map_load(&m, e, N), 0);
	assert_int_equal(m.entries, map_size(m.fd));
	/* the same list written one update at a time (a kernel that does not
	 * batch LPM-trie updates) is the same map */
	struct list_map one = { .max_entries = N, .no_batch = 1 };
	one.fd = list_map_create(N);
	assert_true(one.fd >= 0);
	assert_int_equal(list_map_load(&one, e, N), 0);
	assert_int_equal(one.entries, m.entries);
	assert_int_equal(map_size(one.fd), m.entries);
	for (unsigned i = 0; i < LOOKUPS; i++) {
		const struct ntrie_entry *src = &e[rnd() % N];
		unsigned len = (unsigned)ntrie_key_digits(src->key, d);
		struct ntrie_match a, b;
		int ra, rb;

		switch (i % 4) {
		case 0: /* the entry's own digits */
			break;
		case 1: /* extended */
			for (unsigned extra = 1 + rnd() % 4; extra && len < 15; extra--)
				d[len++] = (char)('0' + rnd() % 10);
			break;
		case 2: /* cut short */
			len = len > 1 ? len - 1 : len;
			break;
		default:
			len = 7 + rnd() % 9;
			rnd_digits(d, len);
			d[0] = '8';
		}
		uint64_t key = ntrie_key(d, len);

		ra = ntrie_lookup(t, key, &a);
		rb = list_map_lookup(m.fd, key, &b);
		assert_true(rb >= 0);
		struct ntrie_match c1;
		assert_int_equal(list_map_lookup(one.fd, key, &c1), rb);
		assert_true(!rb || (c1.value == b.value && c1.kind == b.kind));
		if (ra != rb || (ra && (a.kind != b.kind || a.len != b.len || a.value != b.value)))
			fail_msg("%.*s: ntrie %d (kind %u len %u value %u), map %d (kind %u len %u "
				 "value %u)", (int)len, d, ra, a.kind, a.len, a.value, rb, b.kind,
				 b.len, b.value);
		hits += (unsigned)ra;
		prefix_hits += ra && a.kind == NTRIE_PREFIX;
	}
	/* the lookups were of every kind: not all misses, not all one answer */
	assert_true(hits > LOOKUPS / 4 && hits < LOOKUPS);
	assert_true(prefix_hits > LOOKUPS / 20);
	close(m.fd);
	close(one.fd);
	ntrie_free(t);
	free(e);
}

/* A load makes the map hold exactly the new list, also over an old one;
 * adds of present entries and dels of absent ones change nothing; a full
 * map is said, with its capacity. */
static void test_list_map_load_apply_and_full(void **st)
{
	(void)st;
	struct warned w = { 0 };
	struct list_map m = { .max_entries = 4, .warn = on_warn, .warn_ctx = &w };
	struct ntrie_entry a[] = { E("81312345678", 1, 1), E("8166123", 2, 2), E("815012345678", 1, 3),
				   E("81312345678", 1, 9) /* a later duplicate wins */ };
	struct ntrie_entry b[] = { E("815012345678", 1, 3), E("81922221111", 1, 4) };
	struct ntrie_match x;

	m.fd = list_map_create(4);
	assert_true(m.fd >= 0);
	assert_int_equal(list_map_load(&m, a, 4), 0);
	assert_int_equal(m.entries, 3);
	assert_int_equal(map_size(m.fd), 3);
	assert_int_equal(list_map_lookup(m.fd, K("81312345678"), &x), 1);
	assert_int_equal(x.value, NTRIE_VALUE(1, 9));
	assert_int_equal(list_map_lookup(m.fd, K("81661230001"), &x), 1);
	assert_int_equal(x.kind, NTRIE_PREFIX);
	assert_int_equal(x.len, 7);
	/* walked back (for the list cache): the entries as loaded */
	struct walked wk = { .n = 0 };
	assert_int_equal(list_map_walk(&m, collect, &wk), 0);
	assert_int_equal(wk.n, 3);
	assert_true(walked_has(&wk, a[3]));
	assert_true(walked_has(&wk, a[1]));
	assert_true(walked_has(&wk, a[2]));

	/* a second load (a reload after Redis was replaced) */
	assert_int_equal(list_map_load(&m, b, 2), 0);
	assert_int_equal(m.entries, 2);
	assert_int_equal(map_size(m.fd), 2);
	assert_int_equal(list_map_lookup(m.fd, K("81312345678"), &x), 0);
	assert_int_equal(list_map_lookup(m.fd, K("81661230001"), &x), 0);
	assert_int_equal(list_map_lookup(m.fd, K("81922221111"), &x), 1);

	struct sync_change c[] = {
		{ E("81922221111", 1, 4), 1 },  /* present: nothing */
		{ E("81333333333", 1, 5), 1 },
		{ E("81444444444", 1, 6), 0 },  /* absent: nothing */
		{ E("815012345678", 1, 3), 0 },
	};
	assert_int_equal(list_map_ops.apply(&m, c, 4), 0);
	assert_int_equal(m.entries, 2);
	assert_int_equal(map_size(m.fd), 2);
	assert_int_equal(list_map_lookup(m.fd, K("81333333333"), &x), 1);
	assert_int_equal(list_map_lookup(m.fd, K("815012345678"), &x), 0);

	/* over the capacity: -ENOSPC, said; the map keeps what it held */
	struct ntrie_entry big[5];
	for (unsigned i = 0; i < 5; i++) {
		char d[16];

		snprintf(d, sizeof(d), "8170000000%u", i);
		big[i] = E(d, 1, 10 + i);
	}
	assert_int_equal(list_map_load(&m, big, 5), -ENOSPC);
	assert_true(w.n >= 1);
	assert_non_null(strstr(w.last, "full (4 entries"));
	assert_int_equal(map_size(m.fd), 2); /* nothing changed */
	assert_int_equal(m.entries, 2);
	assert_int_equal(list_map_lookup(m.fd, K("81333333333"), &x), 1);
	assert_int_equal(list_map_lookup(m.fd, K("81700000000"), &x), 0);
	/* a map whose capacity the caller did not give: the kernel's refusal
	 * is the same error */
	m.max_entries = 0;
	assert_int_equal(list_map_load(&m, big, 5), -ENOSPC);
	m.max_entries = 4;
	/* an old and a new list that fit only one at a time: the old goes
	 * first */
	assert_int_equal(list_map_load(&m, big, 4), 0);
	assert_int_equal(map_size(m.fd), 4);
	assert_int_equal(m.entries, 4);
	assert_int_equal(list_map_lookup(m.fd, K("81333333333"), &x), 0);
	close(m.fd);
}

/* A Redis command to the fixture; its text reply. */
static const char *R_checked(const char *reply)
{
	assert_non_null(reply);
	return reply;
}
#define R(...) R_checked(redis_fixture_cmdl(&rf, __VA_ARGS__))

/* The sync module keeps the map from a real Redis: the set at the start,
 * then each change in the stream. */
static void test_list_map_follows_redis(void **st)
{
	(void)st;
	struct redis_fixture_opts o = { .aof = 0, .password = "pw-xdp" };
	struct sync_config c = { 0 };
	struct list_map m = { .max_entries = 1024 };
	struct ntrie_match x;
	struct sync *s;

	assert_int_equal(redis_fixture_start(&o, &rf), 0);
	R("HSETNX", "teishi:meta", "schema", "1", NULL);
	R("SADD", "teishi:entries", "81312345678", "8166123*", NULL);
	R("XADD", "teishi:changes", "*", "op", "add", "order", "X-1", "entries",
	  "81312345678 8166123*", NULL);
	m.fd = list_map_create(1024);
	assert_true(m.fd >= 0);
	c.host = rf.host;
	c.port = rf.port;
	c.password = "pw-xdp";
	c.name = "xdp-test";
	c.block_ms = 50;
	s = sync_create(&c, &list_map_ops, &m);
	assert_non_null(s);
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(m.entries, 2);
	assert_int_equal(list_map_lookup(m.fd, K("81661230001"), &x), 1);

	R("SADD", "teishi:entries", "815012345678", NULL);
	R("XADD", "teishi:changes", "*", "op", "add", "order", "X-2", "entries", "815012345678",
	  NULL);
	assert_int_equal(sync_step(s), 1);
	assert_int_equal(list_map_lookup(m.fd, K("815012345678"), &x), 1);
	R("SREM", "teishi:entries", "8166123*", NULL);
	R("XADD", "teishi:changes", "*", "op", "del", "order", "X-1", "entries", "8166123*", NULL);
	assert_int_equal(sync_step(s), 1);
	assert_int_equal(list_map_lookup(m.fd, K("81661230001"), &x), 0);
	assert_int_equal(m.entries, 2);
	assert_int_equal(map_size(m.fd), 2);
	sync_free(s);
	close(m.fd);
	redis_fixture_stop(&rf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_map_key_layout),
		cmocka_unit_test(test_list_map_answers_as_ntrie),
		cmocka_unit_test(test_list_map_load_apply_and_full),
		cmocka_unit_test(test_list_map_follows_redis),
	};
	int fd = list_map_create(16);

	if (fd < 0) {
		fprintf(stderr, "skipped: cannot create a BPF LPM-trie map: %s (needs root)\n",
			strerror(-fd));
		return 77;
	}
	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
