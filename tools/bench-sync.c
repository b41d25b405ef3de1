/* bench-sync: how fast the dataplane's Redis session (dataplane/sync.h,
 * with teishi-dp's ntrie ops) puts the list in force, against the floor
 * Redis itself sets for delivering the same data, in the same run, on a
 * private redis-server (tests/lib/redis_fixture; AOF, appendfsync always).
 *
 *   load    N entries in teishi:entries: from connecting to a built trie
 *           (SSCAN batches, parsing, ntrie_build), against SMEMBERS of
 *           the same set by hiredis (only reading it);
 *   change  single suspensions one at a time, written as teishid writes
 *           them (SADD + XADD in MULTI/EXEC) on another connection: from
 *           sending the transaction to a reader thread's ntrie_lookup
 *           finding the entry while the session runs sync_step in its own
 *           thread; against a plain hiredis client blocked in XREAD on the
 *           stream, from sending the same transaction to XREAD's return
 *           (what any follower of the stream waits);
 *   bulk    a bulk order of N entries in records of 1000, written by one
 *           script (one transaction): from its reply to the last entry
 *           found, i.e. one XREAD batch applied as one rebuild.
 *
 * With --xdp the list is teishi-xdp's instead: a kernel LPM-trie map kept
 * by list_map_ops (one bpf() update per entry), and the reader looks
 * entries up with bpf(BPF_MAP_LOOKUP_ELEM), the kernel's lookup.  Needs
 * root (CAP_BPF).
 *
 * Ends with: RESULT list=ntrie|xdp_map entries=N load_s=... smembers_s=...
 *   load_ratio=... change_p50_us=... change_p99_us=... floor_p50_us=...
 *   floor_p99_us=... change_ratio=... bulk_s=...
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "ntrie.h"
#include "redis_fixture.h"
#include "sync.h"
#ifdef BENCH_XDP
#include "list_map.h"
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[(int)((n - 1) * p + 0.5)];
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench-sync: %s: %s\n", what, why);
	exit(1);
}

static struct redis_fixture rf;

static redisContext *conn(void)
{
	redisContext *c = redisConnect(rf.host, rf.port);
	redisReply *r;

	if (c == NULL || c->err)
		die("connect", c ? c->errstr : "out of memory");
	r = redisCommand(c, "AUTH %s", rf.password);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		die("AUTH", r ? r->str : c->errstr);
	freeReplyObject(r);
	return c;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL)
		die(fmt, c->errstr);
	if (r->type == REDIS_REPLY_ERROR)
		die(fmt, r->str);
	return r;
}

/* The i-th entry of a family: 11 digits, fixed-line-like. */
static void entry(char *buf, unsigned family, unsigned long i)
{
	snprintf(buf, 16, "81%u%08lu", family, i);
}

/* n entries of a family into teishi:entries, 10000 per SADD, pipelined. */
static void fill(redisContext *c, unsigned family, unsigned long n)
{
	const char **av = malloc((10000 + 2) * sizeof(*av));
	char (*buf)[16] = malloc(10000 * sizeof(*buf));
	unsigned long sent = 0, batches = 0;

	if (!av || !buf)
		die("fill", "out of memory");
	while (sent < n) {
		int ac = 0;

		av[ac++] = "SADD";
		av[ac++] = SYNC_ENTRIES_KEY;
		for (unsigned k = 0; k < 10000 && sent < n; k++, sent++) {
			entry(buf[k], family, sent);
			av[ac++] = buf[k];
		}
		if (redisAppendCommandArgv(c, ac, av, NULL) != REDIS_OK)
			die("SADD", c->errstr);
		/* the arguments are copied into the output buffer: reusable */
		batches++;
		if (batches % 16 == 0 || sent == n) {
			for (; batches; batches--) {
				void *r;

				if (redisGetReply(c, &r) != REDIS_OK)
					die("SADD", c->errstr);
				freeReplyObject(r);
			}
		}
	}
	free(av);
	free(buf);
}

/* Retired trie memory, freed at the end: the reader never quiesces
 * (a bench, not teishi-dp's RCU). */
static void *retired[4096];
static unsigned n_retired;

static void retire(void *ctx, void *p)
{
	(void)ctx;
	if (n_retired < 4096)
		retired[n_retired++] = p;
}

static struct sync_ntrie hold;
static struct sync *sess;
#ifdef BENCH_XDP
static struct list_map xmap;
#endif
static int use_xdp;

/* Whether the list the session keeps holds key, as its dataplane looks. */
static int list_has(uint64_t key)
{
	struct ntrie_match m;

#ifdef BENCH_XDP
	if (use_xdp)
		return list_map_lookup(xmap.fd, key, &m) == 1;
#endif
	return ntrie_lookup(hold.t, key, &m);
}

static uint64_t list_entries(void)
{
	struct ntrie_stats ts;

#ifdef BENCH_XDP
	if (use_xdp)
		return xmap.entries;
#endif
	ntrie_stats(hold.t, &ts);
	return ts.entries;
}
static atomic_int stop_sync;
static _Atomic uint64_t target; /* key the reader waits for; 0: none */
static _Atomic double seen_at;

static _Atomic unsigned sync_failures;

/* As teishi-dp's sync thread: a failed step is said and retried. */
static void *sync_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_sync)) {
		if (sync_step(sess) < 0) {
			struct timespec d = { 0, 100000000L };

			fprintf(stderr, "bench-sync: sync_step: %s (retrying)\n", sync_error(sess));
			atomic_fetch_add(&sync_failures, 1);
			nanosleep(&d, NULL);
		}
	}
	return NULL;
}

static void *reader_thread(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_sync)) {
		uint64_t k = atomic_load(&target);

		if (k == 0) {
			/* idle between changes: leave the two CPUs to the others */
			struct timespec d = { 0, 20000 };

			nanosleep(&d, NULL);
			continue;
		}
		if (list_has(k)) {
			atomic_store(&seen_at, now_s());
			atomic_store(&target, 0);
		} else {
			/* two CPUs for this, the session, the main thread and
			 * redis-server: a spin that kept one would time itself */
			sched_yield();
		}
	}
	return NULL;
}

/* The main thread polls for what the others record (their own clock
 * readings are the measurement): 0 once limit seconds passed since t0. */
static int wait_a_little(double t0, double limit)
{
	struct timespec d = { 0, 20000 };

	nanosleep(&d, NULL);
	return now_s() - t0 < limit;
}

/* One suspension as teishid writes it. */
static void suspend(redisContext *c, const char *e)
{
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "SADD " SYNC_ENTRIES_KEY " %s", e);
	redisAppendCommand(c, "XADD " SYNC_CHANGES_KEY " * op add order BENCH entries %s", e);
	redisAppendCommand(c, "EXEC");
	for (int i = 0; i < 4; i++) {
		void *r;

		if (redisGetReply(c, &r) != REDIS_OK)
			die("MULTI", c->errstr);
		freeReplyObject(r);
	}
}

struct floor_arg {
	int n;
	_Atomic int got;
	_Atomic double at;
};

static void *floor_thread(void *arg)
{
	struct floor_arg *f = arg;
	redisContext *c = conn();
	char last[64] = "$";

	for (int i = 0; i < f->n; i++) {
		redisReply *r = cmd(c, "XREAD BLOCK 0 STREAMS " SYNC_CHANGES_KEY " %s", last);
		double t = now_s();
		redisReply *recs = r->element[0]->element[1];

		snprintf(last, sizeof(last), "%s", recs->element[recs->elements - 1]->element[0]->str);
		freeReplyObject(r);
		atomic_store(&f->at, t);
		atomic_fetch_add(&f->got, 1);
	}
	redisFree(c);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-sync [--entries N] [--changes N] [--quick] [--xdp]\n"
		"  --entries N  entries loaded and entries of the bulk order (default 1000000)\n"
		"  --changes N  single suspensions timed, and as many for the floor (default 1000)\n"
		"  --quick      10000 entries, 50 changes: proves it runs, not timed\n"
		"  --xdp        the list in a kernel LPM-trie map (teishi-xdp's list_map)\n"
		"               instead of teishi-dp's ntrie; needs root\n"
		"Starts a private redis-server (AOF, appendfsync always).  Ends with\n"
		"  RESULT list=ntrie|xdp_map entries=N load_s=... smembers_s=... load_ratio=...\n"
		"  change_p50_us=...\n"
		"  change_p99_us=... floor_p50_us=... floor_p99_us=... change_ratio=... bulk_s=...\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entries", required_argument, NULL, 'e' },
		{ "changes", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "xdp", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n = 1000000;
	int changes = 1000, o;
	struct redis_fixture_opts ro = { .aof = 1, .appendfsync = "always", .password = "pw-bench" };

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'e':
			n = strtoul(optarg, NULL, 10);
			if (n < 1000 || n > 50000000)
				die("--entries", "want 1000..50000000");
			break;
		case 'c':
			changes = atoi(optarg);
			if (changes < 10 || changes > 100000)
				die("--changes", "want 10..100000");
			break;
		case 'q':
			n = 10000;
			changes = 50;
			break;
		case 'x':
#ifndef BENCH_XDP
			die("--xdp", "built without libbpf");
#endif
			use_xdp = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (redis_fixture_start(&ro, &rf) < 0)
		return 1;
	redisContext *w = conn();

	/* load */
	freeReplyObject(cmd(w, "HSETNX teishi:meta schema 1")); /* as teishid does first */
	fill(w, 3, n);
	freeReplyObject(cmd(w, "XADD " SYNC_CHANGES_KEY " * op add order BENCH-0 entries 8130"));
	double t0 = now_s();
	redisReply *all = cmd(w, "SMEMBERS " SYNC_ENTRIES_KEY);
	double smembers_s = now_s() - t0;
	size_t members = all->elements;
	freeReplyObject(all);

	struct ntrie_config tc = { .retire = retire };
	struct sync_config sc = { .host = rf.host, .port = rf.port, .password = rf.password,
				  .name = "bench-sync", .block_ms = 100 };
	hold.t = ntrie_create(&tc);
	if (hold.t == NULL)
		die("ntrie_create", strerror(errno));
#ifdef BENCH_XDP
	if (use_xdp) {
		xmap.max_entries = (uint32_t)(2 * n + (unsigned long)changes + 16);
		xmap.fd = list_map_create(xmap.max_entries);
		if (xmap.fd == -EPERM || xmap.fd == -EACCES) {
			/* not root: nothing to measure here (77: skipped) */
			fprintf(stderr, "bench-sync: --xdp: no BPF map without CAP_BPF: %s\n",
				strerror(-xmap.fd));
			redis_fixture_stop(&rf);
			return 77;
		}
		if (xmap.fd < 0)
			die("--xdp: an LPM-trie map", strerror(-xmap.fd));
	}
	sess = use_xdp ? sync_create(&sc, &list_map_ops, &xmap)
		       : sync_create(&sc, &sync_ntrie_ops, &hold);
#else
	sess = sync_create(&sc, &sync_ntrie_ops, &hold);
#endif
	if (sess == NULL)
		die("sync_create", strerror(errno));
	t0 = now_s();
	if (sync_step(sess) < 0)
		die("first load", sync_error(sess));
	double load_s = now_s() - t0;
	const char *list = use_xdp ? "xdp_map" : "ntrie";
	if (list_entries() != members)
		die("load", "the list does not hold the set");
	printf("bench-sync: load of %zu entries: sync %.3f s (SSCAN, parse, %s), "
	       "SMEMBERS alone %.3f s, ratio %.2f\n", members, load_s,
	       use_xdp ? "a bpf() update each" : "ntrie_build", smembers_s, load_s / smembers_s);

	/* change latency: the session and a reader in their own threads */
	pthread_t st, rt, ft;
	double *lat = malloc((size_t)changes * sizeof(double));
	double *flo = malloc((size_t)changes * sizeof(double));
	char e[16];

	if (!lat || !flo)
		die("alloc", "out of memory");
	pthread_create(&st, NULL, sync_thread, NULL);
	pthread_create(&rt, NULL, reader_thread, NULL);
	for (int i = 0; i < changes; i++) {
		entry(e, 6, (unsigned long)i);
		uint64_t k = ntrie_key(e, strlen(e));
		atomic_store(&target, k);
		double s0 = now_s();

		suspend(w, e);
		while (atomic_load(&target) != 0)
			if (!wait_a_little(s0, 10))
				die("change", "not visible within 10 s");
		lat[i] = (atomic_load(&seen_at) - s0) * 1e6;
		/* not in step with the session's 100 ms XREAD blocks */
		struct timespec d = { 0, (rand() % 2000) * 1000L };
		nanosleep(&d, NULL);
	}

	/* bulk: one script writing n entries in records of 1000 */
	double bulk_s;
	{
		char last[16];

		entry(last, 7, n - 1);
		atomic_store(&target, ntrie_key(last, strlen(last)));
		redisReply *r = cmd(w,
			"EVAL %s 0 %lu",
			"local n = tonumber(ARGV[1]) local id "
			"for b = 0, n - 1, 1000 do local t = {} "
			"for i = b, math.min(b + 999, n - 1) do t[#t + 1] = string.format('817%08d', i) end "
			"redis.call('SADD', 'teishi:entries', unpack(t)) "
			"id = redis.call('XADD', 'teishi:changes', '*', 'op', 'add', 'order', 'BULK', "
			"'entries', table.concat(t, ' ')) end return id",
			n);
		double b0 = now_s();

		freeReplyObject(r);
		while (atomic_load(&target) != 0)
			if (!wait_a_little(b0, 300))
				die("bulk", "not visible within 300 s");
		bulk_s = atomic_load(&seen_at) - b0;
	}
	atomic_store(&stop_sync, 1);
	pthread_join(st, NULL);
	pthread_join(rt, NULL);
	if (list_entries() != members + (size_t)changes + n)
		die("bulk", "the list does not hold every entry");

	/* the floor: a plain XREAD follower of the same writes */
	struct floor_arg fa = { .n = changes };

	pthread_create(&ft, NULL, floor_thread, &fa);
	{
		struct timespec d = { 0, 50 * 1000000L };
		nanosleep(&d, NULL); /* the XREAD is waiting */
	}
	for (int i = 0; i < changes; i++) {
		entry(e, 9, (unsigned long)i);
		int got = atomic_load(&fa.got);
		double s0 = now_s();

		suspend(w, e);
		while (atomic_load(&fa.got) == got)
			if (!wait_a_little(s0, 10))
				die("floor", "XREAD did not return within 10 s");
		flo[i] = (atomic_load(&fa.at) - s0) * 1e6;
		struct timespec d = { 0, (rand() % 2000) * 1000L };
		nanosleep(&d, NULL);
	}
	pthread_join(ft, NULL);

	double c50 = pct(lat, changes, 0.5), c99 = pct(lat, changes, 0.99);
	double f50 = pct(flo, changes, 0.5), f99 = pct(flo, changes, 0.99);

	printf("bench-sync: %d single suspensions (MULTI SADD XADD EXEC) to found in the %s by "
	       "a reader: p50 %.1f us p99 %.1f us; a bare XREAD follower of the same writes: "
	       "p50 %.1f us p99 %.1f us; ratio of p50 %.2f\n", changes, list, c50, c99, f50, f99,
	       c50 / f50);
	printf("bench-sync: bulk order of %lu entries (%lu records, one script): %.3f s from its "
	       "reply to the last entry found (%s%llu; failed session steps: %u)\n", n,
	       (n + 999) / 1000, bulk_s, use_xdp ? "map updates: " : "rebuilds: ",
	       use_xdp ? (unsigned long long)n : (unsigned long long)hold.rebuilds,
	       atomic_load(&sync_failures));
	printf("RESULT list=%s entries=%zu load_s=%.3f smembers_s=%.3f load_ratio=%.2f "
	       "change_p50_us=%.1f change_p99_us=%.1f floor_p50_us=%.1f floor_p99_us=%.1f "
	       "change_ratio=%.2f bulk_s=%.3f\n", list, members, load_s, smembers_s,
	       load_s / smembers_s, c50, c99, f50, f99, c50 / f50, bulk_s);
	sync_free(sess);
	ntrie_free(hold.t);
	for (unsigned i = 0; i < n_retired; i++)
		free(retired[i]);
	free(lat);
	free(flo);
	redisFree(w);
	redis_fixture_stop(&rf);
	return 0;
}
