/* sync: the entry set and the change stream of a real redis-server into
 * a real ntrie, events and heartbeats out, and what a lost connection, a
 * replaced Redis, bad data and refused AUTH do. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ntrie.h"
#include "redis_fixture.h"
#include "sync.h"

static struct redis_fixture rf;

/* What the session's callbacks did, around teishi-dp's own ops on a
 * trie (sync_ntrie_ops), and what they were told. */
struct holder {
	struct ntrie *t;
	unsigned loads, applies;
	size_t last_load_n;
	int fail_next_apply;
	char warnings[8][512];
	unsigned n_warn;
};

static int h_load(void *ctx, const struct ntrie_entry *e, size_t n)
{
	struct holder *h = ctx;
	struct sync_ntrie nt = { .t = h->t };

	h->loads++;
	h->last_load_n = n;
	return sync_ntrie_ops.load(&nt, e, n);
}

static int h_apply(void *ctx, const struct sync_change *c, size_t n)
{
	struct holder *h = ctx;
	struct sync_ntrie nt = { .t = h->t };

	h->applies++;
	if (h->fail_next_apply) {
		h->fail_next_apply = 0;
		return -ENOMEM;
	}
	return sync_ntrie_ops.apply(&nt, c, n);
}

static void h_warn(void *ctx, const char *msg)
{
	struct holder *h = ctx;

	if (h->n_warn < 8)
		snprintf(h->warnings[h->n_warn++], sizeof(h->warnings[0]), "%s", msg);
}

static const struct sync_ops ops = { h_load, h_apply, h_warn };

/* A Redis command to a fixture server; its text reply (redis_fixture_cmdl). */
#define R2(f, ...) R2_checked(redis_fixture_cmdl((f), __VA_ARGS__))
#define R(...) R2(&rf, __VA_ARGS__)

static const char *R2_checked(const char *reply)
{
	assert_non_null(reply);
	return reply;
}

/* What teishid writes for a change (docs/redis-schema.md): the set and a
 * stream record.  The record's id is returned. */
static const char *change(const char *op, const char *entries)
{
	static char id[64];
	char buf[4096], *save = NULL;

	R("HSETNX", "teishi:meta", "schema", "1", NULL); /* as teishid does first */
	snprintf(buf, sizeof(buf), "%s", entries);
	for (char *e = strtok_r(buf, " ", &save); e; e = strtok_r(NULL, " ", &save))
		R(op[0] == 'a' ? "SADD" : "SREM", "teishi:entries", e, NULL);
	snprintf(id, sizeof(id), "%s",
		 R("XADD", "teishi:changes", "*", "op", op, "order", "T-1", "entries", entries, NULL));
	return id;
}

static int matches(struct holder *h, const char *digits)
{
	struct ntrie_match m;

	return ntrie_lookup(h->t, ntrie_key(digits, strlen(digits)), &m);
}

static struct sync *session(struct holder *h, const char *password)
{
	struct sync_config c = {
		.host = rf.host, .port = rf.port, .password = password, .name = "dp-test@lab",
		.timeout_ms = 2000, .block_ms = 50,
	};

	memset(h, 0, sizeof(*h));
	h->t = ntrie_create(NULL);
	assert_non_null(h->t);
	struct sync *s = sync_create(&c, &ops, h);
	assert_non_null(s);
	return s;
}

static void done(struct sync *s, struct holder *h)
{
	sync_free(s);
	ntrie_free(h->t);
}

static int setup(void **st)
{
	(void)st;
	struct redis_fixture_opts o = { .aof = 1, .appendfsync = "always", .password = "pw-sync" };

	return redis_fixture_start(&o, &rf);
}

static int teardown(void **st)
{
	(void)st;
	redis_fixture_stop(&rf);
	return 0;
}

static int fresh(void **st)
{
	(void)st;
	R("FLUSHALL", NULL);
	return 0;
}

static void test_sync_parse_entry(void **st)
{
	(void)st;
	struct ntrie_entry e;

	assert_int_equal(sync_parse_entry("81312345678", 11, &e), 0);
	assert_int_equal(e.kind, NTRIE_EXACT);
	assert_true(e.key == ntrie_key("81312345678", 11));
	assert_int_equal(sync_parse_entry("8166123*", 8, &e), 0);
	assert_int_equal(e.kind, NTRIE_PREFIX);
	assert_true(e.key == ntrie_key("8166123", 7));
	assert_int_equal(sync_parse_entry("123456789012345", 15, &e), 0);
	assert_int_equal(sync_parse_entry("1234567890123456", 16, &e), -EINVAL);
	assert_int_equal(sync_parse_entry("*", 1, &e), -EINVAL);
	assert_int_equal(sync_parse_entry("", 0, &e), -EINVAL);
	assert_int_equal(sync_parse_entry("+81312345678", 12, &e), -EINVAL);
	assert_int_equal(sync_parse_entry("8131*2", 6, &e), -EINVAL);
	assert_int_equal(sync_parse_entry("81**", 4, &e), -EINVAL);
}

static void test_sync_config_is_checked(void **st)
{
	(void)st;
	struct sync_config c = { .host = "127.0.0.1", .port = 6379, .name = "bad name" };

	assert_null(sync_create(&c, &ops, NULL));
	assert_int_equal(errno, EINVAL);
	c.name = "ok";
	c.port = 0;
	assert_null(sync_create(&c, &ops, NULL));
	c.port = 1;
	assert_null(sync_create(&c, NULL, NULL));
	c.host = "/run/redis.sock";
	c.port = 0;
	struct sync *s = sync_create(&c, &ops, NULL);
	assert_non_null(s);
	sync_free(s);
}

/* The set as it was, then every change in the stream after the load. */
static void test_sync_loads_then_follows(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;
	const char *id = change("add", "81312345678 8166123*");
	char last[64];

	snprintf(last, sizeof(last), "%s", id);
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 1);
	assert_int_equal(h.last_load_n, 2);
	assert_true(matches(&h, "81312345678"));
	assert_true(matches(&h, "81661230000"));
	assert_false(matches(&h, "81312345679"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.state, SYNC_FOLLOWING);
	assert_string_equal(ss.last_id, last);

	change("add", "815012345678");
	assert_int_equal(sync_step(s), 1);
	assert_true(matches(&h, "815012345678"));
	change("del", "81312345678");
	assert_int_equal(sync_step(s), 1);
	assert_false(matches(&h, "81312345678"));
	assert_int_equal(sync_step(s), 0); /* nothing new: back within block_ms */

	/* A record seen twice changes nothing: an add of a present entry. */
	R("XADD", "teishi:changes", "*", "op", "add", "order", "T-2", "entries",
	  "815012345678 8166123*", NULL);
	assert_int_equal(sync_step(s), 2);
	sync_get_stats(s, &ss);
	assert_int_equal(ss.records, 3); /* after the load */
	assert_int_equal(ss.adds, 3);
	assert_int_equal(ss.dels, 1);
	assert_int_equal(ss.loads, 1);
	assert_int_equal(h.loads, 1);
	done(s, &h);
}

/* A bulk order's records come in one XREAD of up to 1000 records. */
static void test_sync_applies_many_records_in_one_batch(void **st)
{
	(void)st;
	struct holder h;
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	/* 300 records in one script (one write, as teishid's MULTI/EXEC) */
	R("EVAL",
	  "for i = 0, 299 do local e = string.format('8131%07d', i) "
	  "redis.call('SADD', 'teishi:entries', e) "
	  "redis.call('XADD', 'teishi:changes', '*', 'op', 'add', 'order', 'T-B', 'entries', e) end",
	  "0", NULL);
	assert_int_equal(sync_step(s), 300);
	assert_int_equal(h.applies, 1);
	assert_true(matches(&h, "81310000299"));
	done(s, &h);
}

static void test_sync_skips_bad_entries_and_records_with_a_warning(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;

	R("SADD", "teishi:entries", "81312345678", "not-a-number", NULL);
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.last_load_n, 1);
	assert_int_equal(h.n_warn, 1);
	assert_non_null(strstr(h.warnings[0], ": 1 entry is not"));
	assert_non_null(strstr(h.warnings[0], "\"not-a-number\""));
	R("XADD", "teishi:changes", "*", "op", "add", "order", "T-3", "entries",
	  "8131 abc 1234567890123456 81*", NULL);
	R("XADD", "teishi:changes", "*", "op", "frob", "order", "T-4", "entries", "8131", NULL);
	assert_int_equal(sync_step(s), 2);
	assert_true(matches(&h, "8131"));
	assert_true(matches(&h, "81999999999"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.bad_entries, 3);
	assert_int_equal(ss.bad_records, 1);
	assert_int_equal(ss.records, 2); /* the bad record is passed, not re-read */
	assert_int_equal(h.n_warn, 3); /* one a record, however many bad entries */
	assert_non_null(strstr(h.warnings[1], ": 2 entries are not"));
	assert_non_null(strstr(h.warnings[1], "(the first: \"abc\")"));
	assert_non_null(strstr(h.warnings[2], "no op add/del"));
	done(s, &h);
}

/* Redis killed and restarted from its AOF: the step that finds the
 * connection gone fails and says so; the next one resumes from the last
 * record applied, without a load, and changes made while it was away
 * arrive. */
static void test_sync_resumes_after_redis_restart(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;

	change("add", "81312345678");
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	assert_int_equal(redis_fixture_kill(&rf, 1), 0);
	int rc = sync_step(s);
	assert_true(rc < 0);
	assert_non_null(strstr(sync_error(s), "Redis 127.0.0.1:"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.state, SYNC_DOWN);
	assert_int_equal(ss.failures, 1);
	assert_int_equal(redis_fixture_restart(&rf), 0);
	change("add", "81501111222");
	assert_int_equal(sync_step(s), 0); /* reconnected: resumed, nothing read yet */
	assert_false(matches(&h, "81501111222"));
	assert_int_equal(sync_step(s), 1);
	assert_true(matches(&h, "81501111222"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.loads, 1);
	assert_int_equal(ss.connects, 2);
	done(s, &h);
}

/* Another Redis behind the address (a restored backup, a new server): the
 * last record applied is not in its stream, so the whole set is loaded
 * and what the old one held is gone. */
static void test_sync_reloads_when_the_stream_lost_its_place(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;

	change("add", "81312345678");
	change("add", "81312345679");
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	R("FLUSHALL", NULL);
	change("add", "81600000000");
	R("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes", NULL);
	assert_true(sync_step(s) < 0);
	assert_int_equal(sync_step(s), 0);
	sync_get_stats(s, &ss);
	assert_int_equal(ss.loads, 2);
	assert_int_equal(h.last_load_n, 1);
	assert_false(matches(&h, "81312345678"));
	assert_true(matches(&h, "81600000000"));
	done(s, &h);
}

/* A server teishid never wrote to (no teishi:meta: a wrong address, or
 * one that lost its data) does not empty a list in force; once teishid
 * has written there, its set is loaded. */
static void test_sync_keeps_the_list_when_redis_comes_back_empty(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;

	change("add", "81312345678");
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	R("FLUSHALL", NULL);
	R("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes", NULL);
	assert_true(sync_step(s) < 0);
	assert_int_equal(sync_step(s), -ESTALE);
	assert_non_null(strstr(sync_error(s), "no teishi:meta"));
	assert_non_null(strstr(sync_error(s), "keeping the list in force"));
	assert_true(matches(&h, "81312345678"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.loads, 1);
	R("HSET", "teishi:meta", "schema", "1", NULL); /* teishid has written there */
	assert_int_equal(sync_step(s), 0);
	assert_false(matches(&h, "81312345678"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.loads, 2);
	done(s, &h);

	/* a dataplane that holds nothing yet takes an empty server as empty */
	s = session(&h, "pw-sync");
	R("DEL", "teishi:meta", NULL);
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 1);
	assert_int_equal(h.last_load_n, 0);
	done(s, &h);
}

/* A batch the caller could not apply leaves it with part of it: the
 * session starts again from a load. */
static void test_sync_reloads_after_a_failed_apply(void **st)
{
	(void)st;
	struct holder h;
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_step(s), 0);
	change("add", "81312345678");
	h.fail_next_apply = 1;
	assert_int_equal(sync_step(s), -ENOMEM);
	assert_non_null(strstr(sync_error(s), "applying 1 changes"));
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 2);
	assert_true(matches(&h, "81312345678"));
	done(s, &h);
}

static void test_sync_refused_auth_and_foreign_schema(void **st)
{
	(void)st;
	struct holder h;
	struct sync *s = session(&h, "wrong");

	assert_int_equal(sync_step(s), -EACCES);
	assert_non_null(strstr(sync_error(s), "AUTH refused"));
	assert_int_equal(h.loads, 0);
	done(s, &h);

	R("HSET", "teishi:meta", "schema", "2", NULL);
	s = session(&h, "pw-sync");
	assert_int_equal(sync_step(s), -EPROTO);
	assert_non_null(strstr(sync_error(s), "schema is 2"));
	assert_int_equal(h.loads, 0);
	done(s, &h);
}

static void test_sync_events_and_heartbeat(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;
	struct sync *s = session(&h, "pw-sync");
	const char *f[] = { "side", "number" }, *v1[] = { "calling", "+81312345678" },
		   *v2[] = { "called", "+81501111222" };
	const char *hf[] = { "entries", "version" }, *hv[] = { "2", "7" };

	/* down: counted, not queued */
	assert_int_equal(sync_event(s, f, v1, 2), -ENOTCONN);
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(sync_event(s, f, v1, 2), 0);
	assert_int_equal(sync_event(s, f, v2, 2), 0);
	assert_int_equal(sync_heartbeat(s, hf, hv, 2, 10), 0);
	assert_int_equal(sync_flush(s), 0);
	assert_string_equal(R("XLEN", "teishi:events", NULL), "2");
	const char *x = R("XRANGE", "teishi:events", "-", "+", NULL);
	assert_non_null(strstr(x, "dataplane\ndp-test@lab\nside\ncalling\nnumber\n+81312345678"));
	assert_non_null(strstr(x, "side\ncalled\nnumber\n+81501111222"));
	assert_string_equal(R("HGET", "teishi:dataplane:dp-test@lab", "version", NULL), "7");
	assert_non_null(strstr(R("HGET", "teishi:dataplane:dp-test@lab", "at", NULL), "Z"));
	int ttl = atoi(R("TTL", "teishi:dataplane:dp-test@lab", NULL));
	assert_true(ttl > 0 && ttl <= 10);
	assert_string_equal(R("SISMEMBER", "teishi:dataplanes", "dp-test@lab", NULL), "1");
	/* queued events go out before the next XREAD, whose reply they must
	 * not take */
	assert_int_equal(sync_event(s, f, v1, 2), 0);
	change("add", "81312345678");
	assert_int_equal(sync_step(s), 1);
	assert_string_equal(R("XLEN", "teishi:events", NULL), "3");
	sync_get_stats(s, &ss);
	assert_int_equal(ss.events, 3);
	assert_int_equal(ss.events_failed, 1);
	assert_int_equal(ss.heartbeats, 1);
	done(s, &h);
}

/* A list cached by an earlier run, up to a stream record: the next
 * connection resumes from that record when the stream has it, and loads
 * the set when it does not. */
static void test_sync_resumes_from_a_cached_position(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;
	char last[SYNC_ID_MAX];

	change("add", "81312345678");
	snprintf(last, sizeof(last), "%s", change("add", "81312345679"));
	struct sync *s = session(&h, "pw-sync");

	assert_int_equal(sync_resume_from(s, "12-"), -EINVAL);
	assert_int_equal(sync_resume_from(s, "x-1"), -EINVAL);
	assert_int_equal(sync_resume_from(s, "12"), -EINVAL);
	assert_int_equal(sync_resume_from(s, last), 0);
	change("add", "81501111222");
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 0); /* resumed: no load */
	assert_int_equal(sync_step(s), 1);
	assert_true(matches(&h, "81501111222"));
	done(s, &h);

	/* a position the stream does not hold: the whole set */
	s = session(&h, "pw-sync");
	assert_int_equal(sync_resume_from(s, "1-0"), 0);
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 1);
	assert_int_equal(h.last_load_n, 3);
	assert_int_equal(h.n_warn, 0);
	sync_get_stats(s, &ss);
	assert_string_equal(ss.rewound_from, ""); /* behind, not back in time */
	/* the heartbeat says none, so that it overwrites what a run of the
	 * same name may have left */
	R("HSET", "teishi:dataplane:dp-test@lab", "rewound_from", "5-0", NULL);
	struct sync_beat none = { .entries = 3, .follows = "x", .started = 0 };
	assert_int_equal(sync_heartbeat_dataplane(s, &none), 0);
	assert_int_equal(sync_flush(s), 0);
	assert_string_equal(R("HGET", "teishi:dataplane:dp-test@lab", "rewound_from", NULL), "");
	done(s, &h);

	/* one past the stream's end: the server went back in time, said */
	s = session(&h, "pw-sync");
	assert_int_equal(sync_resume_from(s, "99999999999999-0"), 0);
	assert_int_equal(sync_step(s), 0);
	assert_int_equal(h.loads, 1);
	assert_int_equal(h.n_warn, 1);
	assert_non_null(strstr(h.warnings[0], "went back in time"));
	sync_get_stats(s, &ss);
	assert_int_equal(ss.loads, 1);
	assert_string_equal(ss.rewound_from, "99999999999999-0");
	assert_int_equal(ss.rewinds, 1);
	/* and the heartbeat says so */
	struct sync_beat beat = { .entries = 3, .follows = "x", .started = 0 };
	assert_int_equal(sync_heartbeat_dataplane(s, &beat), 0);
	assert_int_equal(sync_flush(s), 0);
	assert_string_equal(R("HGET", "teishi:dataplane:dp-test@lab", "rewound_from", NULL),
			    "99999999999999-0");
	done(s, &h);
}


/* A dataplane at a site with a read-only replica: it follows the replica
 * and writes events and heartbeats to the primary; pointed at the replica
 * alone, its writes are refused (counted, one warning a flush) and the
 * following goes on. */
struct idle_probe {
	struct sync *s;
	unsigned calls, failed;
};

/* An idle hook that writes one event each time, as teishi-dp drains its
 * ring. */
static void idle_event(void *ctx)
{
	struct idle_probe *p = ctx;
	const char *f[] = { "side" }, *v[] = { "idle" };

	p->calls++;
	if (sync_event(p->s, f, v, 1) != 0 || sync_flush(p->s) != 0)
		p->failed++;
}

static void test_sync_follows_a_replica_and_writes_to_the_primary(void **st)
{
	(void)st;
	struct redis_fixture rep;
	struct redis_fixture_opts o = { .aof = 0, .password = "pw-sync" };
	struct holder h;
	struct sync_stats ss;
	char port[16];
	const char *f[] = { "side" }, *v[] = { "calling" }, *hf[] = { "entries" }, *hv[] = { "1" };

	assert_int_equal(redis_fixture_start(&o, &rep), 0);
	snprintf(port, sizeof(port), "%d", rf.port);
	R2(&rep, "CONFIG", "SET", "masterauth", "pw-sync", NULL);
	R2(&rep, "REPLICAOF", "127.0.0.1", port, NULL);
	change("add", "81312345678");
	for (int i = 0; i < 200 && !strstr(R2(&rep, "INFO", "replication", NULL),
					   "master_link_status:up"); i++)
		usleep(20000);
	for (int i = 0; i < 200 && strcmp(R2(&rep, "SCARD", "teishi:entries", NULL), "1"); i++)
		usleep(20000);

	struct sync_config c = { .host = rep.host, .port = rep.port, .write_host = rf.host,
				 .write_port = rf.port, .password = "pw-sync", .name = "dp-site-b",
				 .block_ms = 50 };
	memset(&h, 0, sizeof(h));
	h.t = ntrie_create(NULL);
	struct sync *s = sync_create(&c, &ops, &h);
	assert_non_null(s);
	assert_int_equal(sync_step(s), 0);
	assert_true(matches(&h, "81312345678"));
	change("add", "81501111222"); /* on the primary */
	int got = 0;
	for (int i = 0; i < 20 && got == 0; i++)
		got = sync_step(s);
	assert_int_equal(got, 1);
	assert_true(matches(&h, "81501111222"));
	assert_int_equal(sync_event(s, f, v, 1), 0);
	assert_int_equal(sync_heartbeat(s, hf, hv, 1, 10), 0);
	assert_int_equal(sync_flush(s), 0);
	assert_string_equal(R("XLEN", "teishi:events", NULL), "1");
	assert_string_equal(R("HGET", "teishi:dataplane:dp-site-b", "entries", NULL), "1");
	sync_get_stats(s, &ss);
	assert_int_equal(ss.events, 1);
	assert_int_equal(ss.events_failed, 0);

	/* the replica stops answering (CLIENT PAUSE, 1.2 s): while the step
	 * waits on it, the idle hook's events reach the primary */
	struct idle_probe ip = { s, 0, 0 };
	sync_set_idle(s, idle_event, &ip);
	R2(&rep, "CLIENT", "PAUSE", "1200", "ALL", NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sync_step(s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	assert_true(waited > 1.0);
	assert_true(ip.calls >= 10); /* every block_ms (50) after the first */
	assert_int_equal(ip.failed, 0);
	char want[16];
	snprintf(want, sizeof(want), "%u", 1 + ip.calls);
	assert_string_equal(R("XLEN", "teishi:events", NULL), want);
	sync_get_stats(s, &ss);
	assert_int_equal(ss.state, SYNC_FOLLOWING);
	sync_free(s);
	ntrie_free(h.t);

	/* the replica alone: writes refused, following unharmed */
	c.write_host = NULL;
	memset(&h, 0, sizeof(h));
	h.t = ntrie_create(NULL);
	s = sync_create(&c, &ops, &h);
	assert_int_equal(sync_step(s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sync_event(s, f, v, 1), 0);
	assert_int_equal(sync_flush(s), 0);
	sync_get_stats(s, &ss);
	assert_int_equal(ss.events, 0);
	assert_int_equal(ss.events_failed, 3);
	assert_int_equal(h.n_warn, 1);
	assert_non_null(strstr(h.warnings[0], "3 of 3 event and heartbeat writes refused: READONLY"));
	change("add", "81600000000");
	got = 0;
	for (int i = 0; i < 20 && got == 0; i++)
		got = sync_step(s);
	assert_int_equal(got, 1);
	assert_int_equal(ss.state, SYNC_FOLLOWING);
	sync_free(s);
	ntrie_free(h.t);
	redis_fixture_stop(&rep);
}

/* The least a dataplane needs (docs/redis-schema.md): read the meta, the
 * entry set and the change stream; write events and heartbeats; nothing
 * else.  The session works under it, and cannot touch the list. */
static void test_sync_works_under_the_dataplane_acl(void **st)
{
	(void)st;
	struct holder h;
	struct sync_stats ss;
	const char *f[] = { "side" }, *v[] = { "calling" }, *hf[] = { "entries" }, *hv[] = { "1" };
	char out[512];

	change("add", "81312345678");
	R("ACL", "SETUSER", "teishi-dp", "reset", "on", ">pw-dp", "%R~teishi:meta",
	  "%R~teishi:entries", "%R~teishi:changes", "%W~teishi:events", "%W~teishi:dataplane:*",
	  "%W~teishi:dataplanes", "+hget", "+sscan", "+xrevrange", "+xrange", "+xread", "+xadd",
	  "+hset", "+expire", "+sadd", "+ping", NULL);
	struct sync_config c = { .host = rf.host, .port = rf.port, .user = "teishi-dp",
				 .password = "pw-dp", .name = "dp-acl", .block_ms = 50 };
	memset(&h, 0, sizeof(h));
	h.t = ntrie_create(NULL);
	struct sync *s = sync_create(&c, &ops, &h);
	assert_int_equal(sync_step(s), 0);
	assert_true(matches(&h, "81312345678"));
	change("add", "81501111222");
	assert_int_equal(sync_step(s), 1);
	assert_int_equal(sync_event(s, f, v, 1), 0);
	assert_int_equal(sync_heartbeat(s, hf, hv, 1, 10), 0);
	assert_int_equal(sync_flush(s), 0);
	sync_get_stats(s, &ss);
	assert_int_equal(ss.events, 1);
	assert_int_equal(ss.events_failed, 0);
	assert_int_equal(h.n_warn, 0);
	assert_string_equal(R("HGET", "teishi:dataplane:dp-acl", "entries", NULL), "1");
	sync_free(s);
	ntrie_free(h.t);
	/* the same user cannot change the list */
	struct redis_fixture as_dp = rf;
	snprintf(as_dp.user, sizeof(as_dp.user), "teishi-dp");
	snprintf(as_dp.password, sizeof(as_dp.password), "pw-dp");
	const char *sadd[] = { "SADD", "teishi:entries", "81900000000" };
	assert_int_equal(redis_fixture_cmd(&as_dp, out, sizeof(out), 3, sadd), 0);
	assert_non_null(strstr(out, "NOPERM"));
	const char *del[] = { "DEL", "teishi:changes" };
	assert_int_equal(redis_fixture_cmd(&as_dp, out, sizeof(out), 2, del), 0);
	assert_non_null(strstr(out, "NOPERM"));
	R("ACL", "DELUSER", "teishi-dp", NULL);
}

static struct sync_change chg(const char *entry, int add)
{
	struct sync_change c = { .add = (uint8_t)add };

	assert_int_equal(sync_parse_entry(entry, strlen(entry), &c.e), 0);
	return c;
}

static int has(struct ntrie *t, const char *digits)
{
	struct ntrie_match m;

	return ntrie_lookup(t, ntrie_key(digits, strlen(digits)), &m);
}

/* teishi-dp's ops: a small batch change by change, a large one as one
 * build of the held entries merged with it, in stream order either way. */
static void test_sync_ntrie_ops_batches_small_and_large(void **st)
{
	(void)st;
	struct sync_ntrie h = { .t = ntrie_create(NULL) };
	struct ntrie_stats ts;
	struct ntrie_entry init[3];
	struct sync_change *c;
	size_t n = 0;
	char e[32];

	assert_non_null(h.t);
	assert_int_equal(sync_parse_entry("81312345678", 11, &init[0]), 0);
	assert_int_equal(sync_parse_entry("81300000001", 11, &init[1]), 0);
	assert_int_equal(sync_parse_entry("8166123*", 8, &init[2]), 0);
	assert_int_equal(sync_ntrie_ops.load(&h, init, 3), 0);
	struct sync_change small[] = { chg("815012345678", 1), chg("81300000001", 0),
				       chg("81300000002", 1), chg("81300000002", 0),
				       chg("81399999999", 0) /* absent: a no-op */ };
	assert_int_equal(sync_ntrie_ops.apply(&h, small, 5), 0);
	assert_true(has(h.t, "815012345678"));
	assert_false(has(h.t, "81300000001"));
	assert_false(has(h.t, "81300000002"));
	assert_int_equal(h.rebuilds, 0);

	c = calloc(SYNC_REBUILD_ABOVE + 100, sizeof(*c));
	assert_non_null(c);
	for (int i = 0; i < SYNC_REBUILD_ABOVE + 50; i++) {
		snprintf(e, sizeof(e), "8140%07d", i);
		c[n++] = chg(e, 1);
	}
	c[n++] = chg("81312345678", 0);  /* held, deleted */
	c[n++] = chg("81311111111", 1);  /* added then deleted in the batch */
	c[n++] = chg("81311111111", 0);
	c[n++] = chg("8166123*", 0);     /* deleted then added back */
	c[n++] = chg("8166123*", 1);
	c[n++] = chg("81400000007", 1);  /* a duplicate add */
	c[n++] = chg("81400000008", 0);  /* added earlier in the batch, deleted */
	assert_int_equal(sync_ntrie_ops.apply(&h, c, n), 0);
	assert_int_equal(h.rebuilds, 1);
	assert_true(has(h.t, "81400000000"));
	assert_true(has(h.t, "81400000007"));
	assert_false(has(h.t, "81400000008"));
	snprintf(e, sizeof(e), "8140%07d", SYNC_REBUILD_ABOVE + 49);
	assert_true(has(h.t, e));
	assert_false(has(h.t, "81312345678"));
	assert_false(has(h.t, "81311111111"));
	assert_true(has(h.t, "81661230000"));
	assert_true(has(h.t, "815012345678"));
	ntrie_stats(h.t, &ts);
	/* 815012345678, 8166123*, and the batch's numbers less 81400000008 */
	assert_int_equal(ts.entries, 2 + SYNC_REBUILD_ABOVE + 50 - 1);
	assert_int_equal(ts.prefixes, 1);
	free(c);
	ntrie_free(h.t);
}

/* The list cache: what is written is read back, entry for entry, with
 * the record it was written at; a bad file is refused whole, naming the
 * line. */
static void test_sync_cache_round_trip_and_bad_files(void **st)
{
	(void)st;
	char dir[] = "/tmp/teishi-sync-cache-XXXXXX", path[256], id[SYNC_ID_MAX], err[512];
	struct ntrie *t = ntrie_create(NULL);
	struct ntrie_entry in[3], *out;
	size_t n;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list.cache", dir);
	assert_int_equal(sync_parse_entry("81312345678", 11, &in[0]), 0);
	assert_int_equal(sync_parse_entry("8166123*", 8, &in[1]), 0);
	assert_int_equal(sync_parse_entry("815012345678", 12, &in[2]), 0);
	assert_int_equal(ntrie_build(t, in, 3), 0);
	assert_int_equal(sync_cache_write(path, "1795950587727-3", t), 0);
	snprintf(err, sizeof(err), "%s.tmp", path);
	assert_int_equal(access(err, F_OK), -1); /* renamed over path */
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), 0);
	assert_string_equal(id, "1795950587727-3");
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		int found = 0;

		for (size_t j = 0; j < n; j++)
			found |= out[j].key == in[i].key && out[j].kind == in[i].kind;
		assert_true(found);
	}
	free(out);

	/* a file cut short, anywhere, is refused: after an entry, inside
	 * one (the rest still looks like a shorter entry), inside the end
	 * line's count */
	f = fopen(path, "r");
	assert_non_null(f);
	char whole[512];
	size_t wl = fread(whole, 1, sizeof(whole), f);
	fclose(f);
	assert_true(wl > 0 && wl < sizeof(whole));
	assert_non_null(strstr(whole, SYNC_CACHE_END "3\n"));
	for (size_t cut = 1; cut < wl; cut++) {
		f = fopen(path, "w");
		assert_int_equal(fwrite(whole, 1, cut, f), cut);
		fclose(f);
		assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
		assert_null(out);
		assert_int_equal(n, 0);
	}
	f = fopen(path, "w");
	fprintf(f, SYNC_CACHE_HEADER "1-0\n81312345678\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cut short after line 2"));
	f = fopen(path, "w");
	fprintf(f, SYNC_CACHE_HEADER "1-0\n81312345678\n" SYNC_CACHE_END "2\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: the end line counts 2 entries, the file holds 1"));
	f = fopen(path, "w");
	fprintf(f, SYNC_CACHE_HEADER "1-0\n81312345678\n" SYNC_CACHE_END "1\n81312345679\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":4: text after the end line"));
	f = fopen(path, "w");
	fprintf(f, SYNC_CACHE_HEADER "1-0\n" SYNC_CACHE_END "0\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(out);
	f = fopen(path, "w");
	fprintf(f, SYNC_CACHE_HEADER "1-0\n81312345678\n+81399998888\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: not an entry"));
	assert_null(out);
	assert_int_equal(n, 0);
	f = fopen(path, "w");
	fprintf(f, "81312345678\n");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first line"));
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	unlink(path);
	assert_int_equal(sync_cache_read(path, &out, &n, id, err, sizeof(err)), -ENOENT);
	/* a directory that is not there: nothing written, the error said */
	snprintf(path, sizeof(path), "%s/no/such/list.cache", dir);
	assert_int_equal(sync_cache_write(path, "1-0", t), -ENOENT);
	rmdir(dir);
	ntrie_free(t);
}

/* The cache's schedule (written once the list changed, at most every
 * SYNC_CACHE_EVERY_S unless forced) and a start from it: the session's
 * load gets the cached entries and the session resumes from its record. */
static void test_sync_cache_schedule_and_resume(void **st)
{
	(void)st;
	char dir[] = "/tmp/teishi-sync-cache2-XXXXXX", path[256], id[SYNC_ID_MAX], err[512];
	struct holder h;
	struct sync_stats ss;
	struct ntrie_entry in[2];
	struct sync *s = session(&h, "pw-sync");
	struct sync_cache c = { .version = UINT64_MAX };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list.cache", dir);
	c.path = path;
	assert_int_equal(sync_parse_entry("81312345678", 11, &in[0]), 0);
	assert_int_equal(sync_parse_entry("8166123*", 8, &in[1]), 0);
	assert_int_equal(ntrie_build(h.t, in, 2), 0);
	assert_int_equal(sync_resume_from(s, "1795950587727-3"), 0);
	/* the first write is at once; the same version is not written again,
	 * a new one not before SYNC_CACHE_EVERY_S, unless forced */
	assert_int_equal(sync_cache_update(&c, s, 1, 0, sync_walk_ntrie, h.t), 1);
	assert_int_equal(sync_cache_update(&c, s, 1, 1, sync_walk_ntrie, h.t), 0);
	assert_int_equal(sync_cache_update(&c, s, 2, 0, sync_walk_ntrie, h.t), 0);
	assert_int_equal(sync_cache_update(&c, s, 2, 1, sync_walk_ntrie, h.t), 1);
	assert_int_equal(c.version, 2);
	done(s, &h);

	/* a fresh session starts from the file */
	s = session(&h, "pw-sync");
	assert_int_equal(sync_cache_resume(s, path, id, err, sizeof(err)), 2);
	assert_string_equal(id, "1795950587727-3");
	assert_int_equal(h.loads, 1);
	assert_true(matches(&h, "81312345678"));
	assert_true(matches(&h, "81661230000"));
	sync_get_stats(s, &ss);
	assert_string_equal(ss.last_id, "1795950587727-3");
	done(s, &h);

	/* a cut file: nothing loaded, no position taken */
	assert_int_equal(truncate(path, 40), 0);
	s = session(&h, "pw-sync");
	assert_int_equal(sync_cache_resume(s, path, id, err, sizeof(err)), -EINVAL);
	assert_int_equal(h.loads, 0);
	sync_get_stats(s, &ss);
	assert_string_equal(ss.last_id, "0-0");
	done(s, &h);
	/* a directory that is not there: the write's error, counted, and
	 * tried again on the schedule, not at every step (or when forced) */
	struct sync_cache bad = { .path = "/nonexistent-teishi-dir/list.cache",
				  .version = UINT64_MAX };
	s = session(&h, "pw-sync");
	assert_int_equal(sync_cache_update(&bad, s, 3, 0, sync_walk_ntrie, h.t), -ENOENT);
	assert_int_equal(bad.failing, 1);
	assert_int_equal(sync_cache_update(&bad, s, 3, 0, sync_walk_ntrie, h.t), 0);
	assert_int_equal(sync_cache_update(&bad, s, 3, 1, sync_walk_ntrie, h.t), -ENOENT);
	assert_int_equal(bad.failing, 2);
	done(s, &h);
	unlink(path);
	rmdir(dir);
}

/* The command-line side shared by teishi-dp and teishi-xdp. */
static void test_sync_addr_password_and_name(void **st)
{
	(void)st;
	char host[64], err[256], pw[64], path[] = "/tmp/teishi-sync-pw-XXXXXX", name[SYNC_NAME_MAX];
	int port = -1, fd;

	assert_int_equal(sync_parse_addr("10.0.0.1:6380", host, sizeof(host), &port, err,
					 sizeof(err)), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 6380);
	assert_int_equal(sync_parse_addr("[::1]:6379", host, sizeof(host), &port, err, sizeof(err)),
			 0);
	assert_string_equal(host, "[::1]");
	assert_int_equal(sync_parse_addr("/run/redis.sock", host, sizeof(host), &port, err,
					 sizeof(err)), 0);
	assert_string_equal(host, "/run/redis.sock");
	assert_int_equal(port, 0);
	static const char *const bad[] = { "redis", "redis:", ":6379", "h:0", "h:65536", "h:-1",
					   "h:63x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sync_parse_addr(bad[i], host, sizeof(host), &port, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "HOST:PORT"));
	}
	assert_int_equal(sync_parse_addr("/a/very/long/path/that/does/not/fit/in/sixty/four/bytes/of/host/buffer/x.sock",
					 host, sizeof(host), &port, err, sizeof(err)), -ENAMETOOLONG);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\r\nsecond line\n", 21), 21);
	close(fd);
	assert_int_equal(sync_read_password(path, pw, sizeof(pw), err, sizeof(err)), 0);
	assert_string_equal(pw, "s3cret");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(sync_read_password(path, pw, sizeof(pw), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	unlink(path);
	assert_int_equal(sync_read_password(path, pw, sizeof(pw), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));

	sync_default_name("teishi-xdp", name, sizeof(name));
	assert_int_equal(strncmp(name, "teishi-xdp@", 11), 0);
	assert_int_equal(strspn(name, SYNC_NAME_CHARS), strlen(name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_parse_entry),
		cmocka_unit_test(test_sync_config_is_checked),
		cmocka_unit_test(test_sync_ntrie_ops_batches_small_and_large),
		cmocka_unit_test(test_sync_cache_round_trip_and_bad_files),
		cmocka_unit_test(test_sync_addr_password_and_name),
		cmocka_unit_test(test_sync_cache_schedule_and_resume),
		cmocka_unit_test_setup(test_sync_loads_then_follows, fresh),
		cmocka_unit_test_setup(test_sync_applies_many_records_in_one_batch, fresh),
		cmocka_unit_test_setup(test_sync_skips_bad_entries_and_records_with_a_warning, fresh),
		cmocka_unit_test_setup(test_sync_resumes_after_redis_restart, fresh),
		cmocka_unit_test_setup(test_sync_reloads_when_the_stream_lost_its_place, fresh),
		cmocka_unit_test_setup(test_sync_reloads_after_a_failed_apply, fresh),
		cmocka_unit_test_setup(test_sync_keeps_the_list_when_redis_comes_back_empty, fresh),
		cmocka_unit_test_setup(test_sync_resumes_from_a_cached_position, fresh),
		cmocka_unit_test_setup(test_sync_follows_a_replica_and_writes_to_the_primary, fresh),
		cmocka_unit_test_setup(test_sync_works_under_the_dataplane_acl, fresh),
		cmocka_unit_test_setup(test_sync_refused_auth_and_foreign_schema, fresh),
		cmocka_unit_test_setup(test_sync_events_and_heartbeat, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
