/* bench-trie: the number trie (ntrie) against DPDK's rte_hash on the same
 * keys, the same query streams, in the same run.  See --help. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_version.h>

#include "ntrie.h"

#define BURST 32
#define NQUERIES (1u << 22)
#define UPDATES 2000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-trie [--entries N] [--quick] [--reps R] [--help]\n"
		"  Builds ntrie and rte_hash (CRC hash, keys = ntrie_key() as uint64,\n"
		"  rte_hash_lookup_bulk_data with bursts of %d) from the same random\n"
		"  entries: half fixed-line +81 + 9 digits, half 050 (+8150 + 8 digits),\n"
		"  plus 1%% prefixes 1..3 digits shorter than a number (blocks of 10 to\n"
		"  1000 numbers; ntrie holds them as prefixes, rte_hash as plain keys).\n"
		"  Two query streams of %u keys with 50%% and 1%% hits under ntrie's\n"
		"  semantics: a hit is a random entry's key, or for a prefix entry a\n"
		"  random number it covers; a miss is a random number that matches no\n"
		"  exact entry and no prefix (checked against sorted reference arrays).\n"
		"  rte_hash gets the same keys and finds only exact keys.\n"
		"  Prints medians of R runs (default 5) per size and stream, and\n"
		"  bulk lookups again on ntrie's portable path\n"
		"  (ntrie_config.portable_only: what a CPU without AVX-512 runs; the\n"
		"  RESULT line is the default path),\n"
		"  then update latency over %d inserts of new exact keys.  Visible: the\n"
		"  first lookup by any reader that returns the new entry, timed from just\n"
		"  before ntrie_insert(); each reader loops over a bulk burst of the 1%%-hit\n"
		"  stream and one single lookup of the newest key, and the first to find\n"
		"  it records the time.  Reported: p50/p99 with two unpinned readers (on\n"
		"  the CPUs the process started with, not EAL's lcore 0; the RESULT's\n"
		"  update_p99_us), the writer's commit time (the ntrie_insert call),\n"
		"  and p50/p99 with one reader pinned to CPU 1 and the writer to CPU 0;\n"
		"  then a RESULT line for the largest size.\n"
		"  --entries N  one size (default: 1000000 and 10000000)\n"
		"  --quick      tiny size (20000), for the smoke test\n"
		"  --reps R     repetitions per measurement\n",
		BURST, NQUERIES, UPDATES);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random suspended-number-like key: fixed line or 050. */
static uint64_t random_number(void)
{
	char d[16];
	uint64_t r = rnd();

	if (r & 1) {
		unsigned a = 1 + (unsigned)(r >> 1) % 9;
		if (a == 5)
			a = 3;
		snprintf(d, sizeof(d), "81%u%08llu", a, (unsigned long long)((r >> 8) % 100000000));
		return ntrie_key(d, 11);
	}
	snprintf(d, sizeof(d), "8150%08llu", (unsigned long long)((r >> 8) % 100000000));
	return ntrie_key(d, 12);
}

/* A prefix of a random number, 1 to 3 digits shorter: a block of 10, 100
 * or 1000 numbers, as range covers produce. */
static uint64_t random_prefix(void)
{
	uint64_t k = random_number();
	unsigned len = k & 15, l = len - 1 - (unsigned)(rnd() % 3);

	return (k & ~(~0ull >> (4 * l))) | l;
}

/* The reference the streams are built against: sorted exact keys and
 * sorted prefix keys, searched with bsearch, independent of ntrie. */
struct refset {
	uint64_t *exact, *pfx;
	size_t nexact, npfx;
	unsigned plens; /* bit l: some prefix entry has l digits */
};

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool ref_has(const uint64_t *v, size_t n, uint64_t k)
{
	return n && bsearch(&k, v, n, sizeof(*v), u64cmp) != NULL;
}

/* Whether key k matches under ntrie's semantics: an exact entry equal to
 * k, or a prefix entry of 1..len(k) digits that k starts with. */
static bool ref_match(const struct refset *r, uint64_t k)
{
	unsigned len = k & 15;

	if (ref_has(r->exact, r->nexact, k))
		return true;
	for (unsigned l = 1; l <= len; l++)
		if ((r->plens >> l & 1) && ref_has(r->pfx, r->npfx, (k & ~(~0ull >> (4 * l))) | l))
			return true;
	return false;
}

/* A number a prefix entry covers: its digits, then random digits up to
 * the length of the numbers it was cut from (12 for 050, else 11). */
static uint64_t complete_prefix(uint64_t p)
{
	unsigned l = p & 15, len = (p >> 48) == 0x8150 ? 12 : 11;
	uint64_t k = p & ~15ull;

	for (unsigned i = l; i < len; i++)
		k |= (rnd() % 10) << (60 - 4 * i);
	return k | len;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dcmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double pct(double *v, int n, double p)
{
	qsort(v, n, sizeof(*v), dcmp);
	return v[(int)(p * (n - 1) + 0.5)];
}

struct stream {
	const char *name;
	uint64_t *q;
	unsigned hits; /* keys the reference says match */
};

static volatile uint64_t sink;

static double teishi_single(const struct ntrie *t, const uint64_t *q, unsigned n, unsigned *hits)
{
	struct ntrie_match m;
	unsigned h = 0;
	double t0 = now();

	for (unsigned i = 0; i < n; i++)
		h += (unsigned)ntrie_lookup(t, q[i], &m);
	t0 = now() - t0;
	*hits = h;
	return n / t0;
}

static double teishi_bulk(const struct ntrie *t, const uint64_t *q, unsigned n, unsigned *hits)
{
	struct ntrie_match m[BURST];
	unsigned h = 0;
	uint64_t acc = 0;
	double t0 = now();

	for (unsigned i = 0; i + BURST <= n; i += BURST) {
		h += ntrie_lookup_bulk(t, q + i, BURST, m);
		acc += m[0].value;
	}
	t0 = now() - t0;
	sink = acc;
	*hits = h;
	return n / t0;
}

static double rte_single(const struct rte_hash *hs, const uint64_t *q, unsigned n, unsigned *hits)
{
	unsigned h = 0;
	void *data;
	double t0 = now();

	for (unsigned i = 0; i < n; i++)
		h += rte_hash_lookup_data(hs, &q[i], &data) >= 0;
	t0 = now() - t0;
	*hits = h;
	return n / t0;
}

static double rte_bulk(const struct rte_hash *hs, const uint64_t *q, unsigned n, unsigned *hits)
{
	const void *kp[BURST];
	void *data[BURST];
	uint64_t mask, acc = 0;
	unsigned h = 0;
	double t0 = now();

	for (unsigned i = 0; i + BURST <= n; i += BURST) {
		for (unsigned j = 0; j < BURST; j++)
			kp[j] = &q[i + j];
		h += (unsigned)rte_hash_lookup_bulk_data(hs, kp, BURST, &mask, data);
		acc += (uintptr_t)data[0];
	}
	t0 = now() - t0;
	sink = acc;
	*hits = h;
	return n / t0;
}

struct upd {
	struct ntrie *t;
	const uint64_t *q;
	uint64_t target;  /* the key just inserted; 0: none */
	uint64_t seen_ns; /* when a reader first found target; 0: not yet */
	int stop;
};

struct reader {
	_Alignas(64) struct upd *u; /* a line each: no false sharing of lookups */
	unsigned start; /* where in the stream its bursts begin */
	uint64_t lookups;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A reader: bulk bursts of the stream at full speed, and between two
 * bursts one single lookup of the key the writer is waiting on.  The first
 * reader to find it records the time (a CAS from 0, so a later finder
 * cannot overwrite it). */
static void *reader(void *arg)
{
	struct reader *rd = arg;
	struct upd *u = rd->u;
	struct ntrie_match m[BURST], one;
	unsigned i = rd->start;
	uint64_t n = 0;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		uint64_t tk = __atomic_load_n(&u->target, __ATOMIC_ACQUIRE);
		if (tk && !__atomic_load_n(&u->seen_ns, __ATOMIC_RELAXED)) {
			if (ntrie_lookup(u->t, tk, &one)) {
				uint64_t zero = 0, t = now_ns();
				__atomic_compare_exchange_n(&u->seen_ns, &zero, t, false,
							    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
			}
			n++;
		}
		ntrie_lookup_bulk(u->t, u->q + i, BURST, m);
		i = (i + BURST) & (NQUERIES - 1);
		n += BURST;
		__atomic_store_n(&rd->lookups, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The CPUs the process was started with: rte_eal_init() pins the main
 * thread (and so every thread it creates) to lcore 0, which would put the
 * writer and both readers on one CPU. */
static cpu_set_t start_cpus;

static int pin(pthread_t th, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(th, sizeof(set), &set);
}

/* Insert-to-visible: nreaders readers (see reader()) run while the writer
 * inserts UPDATES new keys one at a time.  Visible: the first lookup by
 * any reader that returns the new entry; the latency is from just before
 * ntrie_insert() to that lookup's return.  pinned (nreaders 1): the reader
 * on CPU 1, the writer on CPU 0; otherwise all on the CPUs the process
 * started with (not EAL's lcore 0).  *rate: lookups
 * per second, all readers together, while it ran. */
static void update_latency(struct ntrie *t, const uint64_t *q, int nreaders, bool pinned,
			   double *p50, double *p99, double *w50, double *w99, double *rate)
{
	static double vis[UPDATES], wr[UPDATES];
	struct upd u = { .t = t, .q = q };
	struct reader rd[2];
	pthread_t th[2];
	struct timespec nap = { 0, 20000 };
	cpu_set_t all;
	uint64_t lk0 = 0, lk1 = 0;
	double r0, r1;
	int n = 0;

	pthread_getaffinity_np(pthread_self(), sizeof(all), &all);
	if (pthread_setaffinity_np(pthread_self(), sizeof(start_cpus), &start_cpus))
		fprintf(stderr, "bench-trie: could not leave lcore 0's CPU\n");
	for (int j = 0; j < nreaders; j++) {
		rd[j] = (struct reader){ .u = &u, .start = j * (NQUERIES / 2) };
		pthread_create(&th[j], NULL, reader, &rd[j]);
	}
	if (pinned && (pin(th[0], 1) || pin(pthread_self(), 0)))
		fprintf(stderr, "bench-trie: could not pin to CPUs 0 and 1\n");
	nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	r0 = now();
	for (int j = 0; j < nreaders; j++)
		lk0 += __atomic_load_n(&rd[j].lookups, __ATOMIC_RELAXED);
	for (int i = 0; i < UPDATES; i++) {
		struct ntrie_match m;
		uint64_t k = random_number(), t0, t1, seen;
		if (ntrie_lookup(t, k, &m))
			continue; /* must be a change */
		__atomic_store_n(&u.seen_ns, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&u.target, k, __ATOMIC_RELEASE);
		t0 = now_ns();
		ntrie_insert(t, k, NTRIE_EXACT, NTRIE_VALUE(1, i));
		t1 = now_ns();
		/* wait asleep: a spinning writer would take a reader's core */
		while (!(seen = __atomic_load_n(&u.seen_ns, __ATOMIC_ACQUIRE)))
			nanosleep(&nap, NULL);
		vis[n] = (double)(seen - t0) / 1e3;
		wr[n] = (double)(t1 - t0) / 1e3;
		n++;
		__atomic_store_n(&u.target, 0, __ATOMIC_RELEASE);
		nanosleep(&nap, NULL);
	}
	r1 = now();
	for (int j = 0; j < nreaders; j++)
		lk1 += __atomic_load_n(&rd[j].lookups, __ATOMIC_RELAXED);
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELEASE);
	for (int j = 0; j < nreaders; j++)
		pthread_join(th[j], NULL);
	pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	*p50 = pct(vis, n, 0.5);
	*p99 = pct(vis, n, 0.99);
	*w50 = pct(wr, n, 0.5);
	*w99 = pct(wr, n, 0.99);
	*rate = (double)(lk1 - lk0) / (r1 - r0);
}

struct result {
	size_t entries;
	double lps, rte_lps, ratio, bpe, rte_bpe, build_s, upd_p99;
};

static int madvise_seg(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	if (msl->base_va && msl->len)
		madvise(msl->base_va, msl->len, MADV_HUGEPAGE);
	return 0;
}

static int run_size(size_t n, int reps, struct result *res)
{
	struct ntrie_entry *e = malloc(n * sizeof(*e));
	struct stream st[2] = { { "50%-hit", NULL, 0 }, { "1%-hit", NULL, 0 } };
	struct refset ref = { 0 };
	struct ntrie *t;
	struct ntrie_stats ts;
	struct rte_hash *hs;
	struct rte_malloc_socket_stats m0, m1;
	double bt[16], v[2][4][16], rte_build;
	char name[32];
	size_t nexact = 0, failed = 0;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int pfx = rnd() % 100 == 0;
		e[i].key = pfx ? random_prefix() : random_number();
		e[i].kind = pfx ? NTRIE_PREFIX : NTRIE_EXACT;
		e[i].value = NTRIE_VALUE(1 + rnd() % 3, rnd() % 5000);
		nexact += !pfx;
	}
	ref.exact = malloc(n * sizeof(uint64_t));
	ref.pfx = malloc(n * sizeof(uint64_t));
	if (!ref.exact || !ref.pfx)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind == NTRIE_EXACT)
			ref.exact[ref.nexact++] = e[i].key;
		else
			ref.pfx[ref.npfx++] = e[i].key;
		ref.plens |= e[i].kind == NTRIE_EXACT ? 0 : 1u << (e[i].key & 15);
	}
	qsort(ref.exact, ref.nexact, sizeof(uint64_t), u64cmp);
	qsort(ref.pfx, ref.npfx, sizeof(uint64_t), u64cmp);
	/* A hit is a random entry: an exact entry's key, or a number a prefix
	 * entry covers.  A miss is a random number that the reference says
	 * matches no exact entry and no prefix (drawn again until it does
	 * not).  So each stream's hit rate is the named one under ntrie's
	 * semantics; rte_hash, which holds prefixes as plain keys, misses
	 * the prefix-covered hits. */
	for (int s = 0; s < 2; s++) {
		unsigned hitpct = s == 0 ? 50 : 1;
		st[s].q = malloc(NQUERIES * sizeof(uint64_t));
		if (!st[s].q)
			return -ENOMEM;
		st[s].hits = 0;
		for (unsigned i = 0; i < NQUERIES; i++) {
			uint64_t k;
			if (rnd() % 100 < hitpct) {
				size_t j = rnd() % n;
				k = e[j].kind == NTRIE_EXACT ? e[j].key : complete_prefix(e[j].key);
			} else {
				do
					k = random_number();
				while (ref_match(&ref, k));
			}
			st[s].q[i] = k;
			st[s].hits += ref_match(&ref, k);
		}
	}

	t = ntrie_create(NULL);
	if (!t)
		return -errno;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		if (ntrie_build(t, e, n))
			return -ENOMEM;
		bt[r] = now() - t0;
	}
	ntrie_stats(t, &ts);

	snprintf(name, sizeof(name), "bt%zu", n);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = (uint32_t)(n + n / 4 + 64), /* headroom: cuckoo fill limit */
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc,
		.socket_id = 0,
	};
	rte_malloc_get_socket_stats(0, &m0);
	rte_build = now();
	hs = rte_hash_create(&hp);
	if (!hs) {
		fprintf(stderr, "bench-trie: rte_hash_create(%u entries): %s\n", hp.entries,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		failed += rte_hash_add_key_data(hs, &e[i].key, (void *)(uintptr_t)e[i].value) < 0;
	rte_build = now() - rte_build;
	rte_malloc_get_socket_stats(0, &m1);
	if (failed)
		fprintf(stderr, "bench-trie: rte_hash refused %zu of %zu keys\n", failed, n);

	printf("size %zu entries (%llu unique, %llu prefixes)\n", n,
	       (unsigned long long)ts.entries, (unsigned long long)ts.prefixes);
	printf("  streams: %u keys each; a hit is a random entry's key (exact) or a random "
	       "number under it (prefix); a miss is a random number matching no exact entry "
	       "and no prefix (checked against sorted reference arrays, redrawn otherwise); "
	       "rte_hash gets the same keys in the same order\n", NQUERIES);
	printf("  build: teishi %.3f s (median of %d), rte_hash %.3f s (add one by one)\n",
	       median(bt, reps), reps, rte_build);
	res->bpe = (double)ts.bytes / (double)ts.entries;
	res->rte_bpe = (double)(m1.heap_allocsz_bytes - m0.heap_allocsz_bytes) /
		       (double)rte_hash_count(hs);
	printf("  memory: teishi %.2f B/entry (ntrie_stats.bytes %llu), rte_hash %.2f B/entry "
	       "(rte_malloc heap growth %zu); ratio %.2f\n",
	       res->bpe, (unsigned long long)ts.bytes, res->rte_bpe,
	       m1.heap_allocsz_bytes - m0.heap_allocsz_bytes, res->bpe / res->rte_bpe);

	for (int r = 0; r < reps; r++)
		for (int s = 0; s < 2; s++) {
			unsigned h[4];
			v[s][0][r] = teishi_single(t, st[s].q, NQUERIES, &h[0]);
			v[s][1][r] = teishi_bulk(t, st[s].q, NQUERIES, &h[1]);
			v[s][2][r] = rte_single(hs, st[s].q, NQUERIES, &h[2]);
			v[s][3][r] = rte_bulk(hs, st[s].q, NQUERIES, &h[3]);
			if (r == 0)
				printf("  %s stream hits of %u: reference %u (%.2f%%), teishi %u "
				       "(exact or prefix), rte_hash %u (exact keys only)\n",
				       st[s].name, NQUERIES, st[s].hits,
				       100.0 * st[s].hits / NQUERIES, h[1], h[3]);
			if (h[0] != h[1] || h[1] != st[s].hits) {
				fprintf(stderr, "bench-trie: %s stream: teishi hits %u single, %u "
					"bulk, reference %u\n", st[s].name, h[0], h[1], st[s].hits);
				return -EIO;
			}
		}
	res->ratio = 1e9;
	for (int s = 0; s < 2; s++) {
		double ts1 = median(v[s][0], reps), tb = median(v[s][1], reps);
		double rs = median(v[s][2], reps), rb = median(v[s][3], reps);
		printf("  %-7s single: teishi %.1f M/s, rte_hash %.1f M/s, ratio %.2f\n", st[s].name,
		       ts1 / 1e6, rs / 1e6, ts1 / rs);
		printf("  %-7s bulk%d: teishi %.1f M/s, rte_hash %.1f M/s, ratio %.2f\n", st[s].name,
		       BURST, tb / 1e6, rb / 1e6, tb / rb);
		if (tb / rb < res->ratio) {
			res->ratio = tb / rb;
			res->lps = tb;
			res->rte_lps = rb;
		}
	}

	/* the portable bulk path, which CPUs without AVX-512 run: a second
	 * trie of the same entries, same streams, alternating with rte_hash */
	{
		double pv[2][16], rv[2][16];
		struct ntrie *tp;
		tp = ntrie_create(&(struct ntrie_config){ .portable_only = 1 });
		if (!tp || ntrie_build(tp, e, n))
			return -ENOMEM;
		for (int r = 0; r < reps; r++)
			for (int s = 0; s < 2; s++) {
				unsigned h[2];
				pv[s][r] = teishi_bulk(tp, st[s].q, NQUERIES, &h[0]);
				rv[s][r] = rte_bulk(hs, st[s].q, NQUERIES, &h[1]);
				if (h[0] != st[s].hits) {
					fprintf(stderr, "bench-trie: %s stream: portable bulk hits %u, "
						"reference %u\n", st[s].name, h[0], st[s].hits);
					return -EIO;
				}
			}
		printf("  portable bulk%d path (ntrie_config.portable_only; this CPU %s AVX-512): 50%%-hit %.1f "
		       "M/s (ratio %.2f), 1%%-hit %.1f M/s (ratio %.2f)\n", BURST,
		       __builtin_cpu_supports("avx512dq") ? "has" : "lacks",
		       median(pv[0], reps) / 1e6, median(pv[0], reps) / median(rv[0], reps),
		       median(pv[1], reps) / 1e6, median(pv[1], reps) / median(rv[1], reps));
		ntrie_free(tp);
	}

	double p50, p99, w50, w99, q50, q99, x50, x99, c0, rate2, rate1;
	update_latency(t, st[1].q, 2, false, &p50, &p99, &w50, &w99, &rate2);
	update_latency(t, st[1].q, 1, true, &q50, &q99, &x50, &x99, &rate1);
	printf("  update (%d inserts each; visible = the first lookup by any reader that "
	       "returns the new entry, timed from just before ntrie_insert()):\n", UPDATES);
	printf("    insert-to-visible, 2 unpinned readers, each a bulk%d burst of the 1%%-hit "
	       "stream then one lookup of the new key, in a loop (%.1f M lookups/s together; "
	       "writer asleep between inserts; %d CPUs): p50 %.2f us p99 %.2f us\n",
	       BURST, rate2 / 1e6, CPU_COUNT(&start_cpus), p50, p99);
	printf("    writer commit (the ntrie_insert call, same run): p50 %.2f us p99 %.2f us\n",
	       w50, w99);
	printf("    insert-to-visible, 1 reader pinned to CPU 1 (%.1f M lookups/s), writer on "
	       "CPU 0: p50 %.2f us p99 %.2f us (commit p50 %.2f us p99 %.2f us)\n",
	       rate1 / 1e6, q50, q99, x50, x99);
	c0 = now();
	ntrie_compact(t);
	printf("  compaction of the delta into the base (not in the latency above): %.3f s\n",
	       now() - c0);
	res->entries = n;
	res->build_s = median(bt, reps);
	res->upd_p99 = p99;

	rte_hash_free(hs);
	ntrie_free(t);
	free(st[0].q);
	free(st[1].q);
	free(ref.exact);
	free(ref.pfx);
	free(e);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entries", required_argument, NULL, 'n' },
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t sizes[2] = { 1000000, 10000000 };
	int nsizes = 2, reps = 5, c;
	char mem[32], prefix[64];
	struct result res = { 0 };

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			unsigned long long x = strtoull(optarg, &end, 10);
			if (*end || x < 1000 || x > 200000000) {
				fprintf(stderr, "bench-trie: --entries %s: want 1000..200000000\n", optarg);
				return 2;
			}
			sizes[0] = x;
			nsizes = 1;
			break;
		}
		case 'q':
			sizes[0] = 20000;
			nsizes = 1;
			reps = 3;
			break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1 || reps > 16) {
				fprintf(stderr, "bench-trie: --reps %s: want 1..16\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	sched_getaffinity(0, sizeof(start_cpus), &start_cpus);
	/* rte_hash needs ~40 B/entry plus its free-slot ring; --no-huge so
	 * that any size runs, with MADV_HUGEPAGE on the heap like ntrie's. */
	snprintf(mem, sizeof(mem), "%zu", sizes[nsizes - 1] * 64 / 1000000 + 256);
	snprintf(prefix, sizeof(prefix), "bench-trie-%d", (int)getpid());
	char *eal[] = { argv[0], "--no-huge", "-m", mem, "--no-shconf", "--file-prefix", prefix,
			"--no-pci", "--no-telemetry", "-l", "0", "--log-level", "error" };
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "bench-trie: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rte_memseg_list_walk(madvise_seg, NULL);
	printf("bench-trie: ntrie vs rte_hash (DPDK %s, CRC hash, lookup_bulk_data); "
	       "EAL --no-huge -m %s with MADV_HUGEPAGE; ntrie arrays MADV_HUGEPAGE; "
	       "rte_hash memory = rte_malloc heap growth; medians of %d\n",
	       rte_version(), mem, reps);
	for (int i = 0; i < nsizes; i++) {
		int rc = run_size(sizes[i], reps, &res);
		if (rc) {
			fprintf(stderr, "bench-trie: size %zu failed: %s\n", sizes[i], strerror(-rc));
			return 1;
		}
		fflush(stdout);
	}
	printf("RESULT entries=%zu lookups_per_s=%.0f rte_hash_lookups_per_s=%.0f "
	       "throughput_ratio=%.2f bytes_per_entry=%.2f rte_hash_bytes_per_entry=%.2f "
	       "build_s=%.3f update_p99_us=%.1f\n",
	       res.entries, res.lps, res.rte_lps, res.ratio, res.bpe, res.rte_bpe, res.build_s,
	       res.upd_p99);
	rte_eal_cleanup();
	return 0;
}
