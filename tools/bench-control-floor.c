/* bench-control-floor: the peer of tools/bench-control.  Sends N SADD+XADD
 * pairs to a Redis (the same keys and field shapes teishid writes for a
 * one-number order: SADD teishi:bench <n>, XADD teishi:bench:s * op add
 * order O<i> entries <n>) pipelined from one hiredis connection, and prints
 * the rate.  With appendfsync always Redis fsyncs once per event-loop turn,
 * before it replies, so a pipeline shares each fsync among many writes:
 * this is the floor Redis itself sets for the writes an order needs.
 *
 *   bench-control-floor --redis HOST:PORT [--user U] [--password-file F]
 *                       [--pairs N] [--depth D] [--multi]
 * --depth D  pairs in flight before the replies are read (default 1000)
 * --multi    wrap each pair in MULTI/EXEC, as teishid does per order
 *
 * Prints "pairs=N seconds=S pairs_per_s=R mode=plain|multi depth=D". */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-control-floor --redis HOST:PORT [--user U] [--password-file F]\n"
		   "                           [--pairs N] [--depth D] [--multi]\n"
		   "Sends N SADD+XADD pairs pipelined (D pairs in flight; --multi: each pair in\n"
		   "MULTI/EXEC) on one connection and prints pairs=N seconds=S pairs_per_s=R.\n");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read n replies; every one must be a non-error. */
static int drain(redisContext *c, long n)
{
	for (long i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
			fprintf(stderr, "bench-control-floor: Redis: %s\n", c->errstr);
			return -EIO;
		}
		int bad = r->type == REDIS_REPLY_ERROR;
		if (bad)
			fprintf(stderr, "bench-control-floor: Redis error: %s\n", r->str);
		freeReplyObject(r);
		if (bad)
			return -EPROTO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *user = NULL, *pwfile = NULL;
	long pairs = 2000, depth = 1000;
	int multi = 0;
	static const struct option lo[] = {{"redis", 1, 0, 'r'}, {"user", 1, 0, 'u'}, {"password-file", 1, 0, 'p'},
					   {"pairs", 1, 0, 'n'}, {"depth", 1, 0, 'd'}, {"multi", 0, 0, 'm'},
					   {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'r': addr = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'n': pairs = strtol(optarg, NULL, 10); break;
		case 'd': depth = strtol(optarg, NULL, 10); break;
		case 'm': multi = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	if (!colon || pairs <= 0 || depth <= 0) {
		fprintf(stderr, "bench-control-floor: --redis HOST:PORT is required; --pairs and --depth must be > 0\n");
		usage(stderr);
		return 2;
	}
	char host[256], pw[256] = "";
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (pwfile) {
		FILE *f = fopen(pwfile, "r");
		if (!f || !fgets(pw, sizeof(pw), f)) {
			fprintf(stderr, "bench-control-floor: --password-file %s: %s\n", pwfile, f ? "empty" : strerror(errno));
			return 2;
		}
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	redisContext *c = redisConnect(host, atoi(colon + 1));
	if (!c || c->err) {
		fprintf(stderr, "bench-control-floor: cannot connect to %s: %s\n", addr, c ? c->errstr : "out of memory");
		return 1;
	}
	if (pw[0]) {
		redisReply *r = user ? redisCommand(c, "AUTH %s %s", user, pw) : redisCommand(c, "AUTH %s", pw);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "bench-control-floor: AUTH refused: %s\n", r ? r->str : c->errstr);
			return 1;
		}
		freeReplyObject(r);
	}
	redisReply *r = redisCommand(c, "CONFIG GET appendfsync");
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && strcmp(r->element[1]->str, "always") != 0)
		fprintf(stderr, "bench-control-floor: warning: appendfsync is %s, not always\n", r->element[1]->str);
	if (r)
		freeReplyObject(r);
	/* Each reply of a pair: SADD, XADD; with --multi also MULTI, EXEC. */
	long per = multi ? 4 : 2, queued = 0;
	double t0 = now_s();
	for (long i = 0; i < pairs; i++) {
		char num[24], ord[24];
		snprintf(num, sizeof(num), "81%09ld", 310000000 + i);
		snprintf(ord, sizeof(ord), "O%ld", i);
		if (multi)
			redisAppendCommand(c, "MULTI");
		redisAppendCommand(c, "SADD teishi:bench %s", num);
		redisAppendCommand(c, "XADD teishi:bench:s * op add order %s entries %s", ord, num);
		if (multi)
			redisAppendCommand(c, "EXEC");
		if (++queued == depth || i + 1 == pairs) {
			if (drain(c, queued * per))
				return 1;
			queued = 0;
		}
	}
	double t = now_s() - t0;
	redisFree(c);
	printf("pairs=%ld seconds=%.6f pairs_per_s=%.0f mode=%s depth=%ld\n", pairs, t, (double)pairs / t,
	       multi ? "multi" : "plain", depth);
	return 0;
}
