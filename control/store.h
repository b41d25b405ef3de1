/* teishid's Redis: connection, durability check, transactions, key names.
 * The key schema is documented in docs/redis-schema.md; nothing outside
 * teishid (and the sync module) knows it. */
#ifndef TEISHI_STORE_H
#define TEISHI_STORE_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#define K_META "teishi:meta"
#define K_CONTRACTORS "teishi:contractors"
#define K_CONTRACTOR "teishi:contractor:"   /* + id: HASH; + id + ":holdings": SET */
#define K_HOLDINGS "teishi:holdings"         /* HASH pattern -> JSON */
#define K_REFUSALS "teishi:refusals:"        /* + contractor: SET of order refs */
#define K_ENTRIES "teishi:entries"           /* SET of entries */
#define K_ENTRY_META "teishi:entry"          /* HASH entry -> JSON */
#define K_CHANGES "teishi:changes"           /* STREAM */
#define K_ORDERS "teishi:orders"             /* ZSET ref by received day */
#define K_ORDER "teishi:order:"              /* + ref: HASH; + ref + ":entries": SET */
#define K_AUDIT "teishi:audit"               /* LIST of JSON records */
#define K_AUDIT_HEAD "teishi:audit:head"     /* STRING: SHA-256 hex of the last record */
#define K_FEED_SEEN "teishi:feed:seen:"      /* + peer: SET of item ids */
/* The keys the dataplanes write are SYNC_*_KEY in dataplane/sync.h. */

struct store {
	redisContext *c;
	char host[256];
	int port;
	char user[64];
	char password[256];
	int allow_volatile; /* accept a Redis without appendonly yes + appendfsync always */
	char err[512];
};

/* Parse "HOST:PORT" into s. Returns 0 or -EINVAL. */
int store_set_addr(struct store *s, const char *addr);

/* Connect, authenticate, and check durability (CONFIG GET appendonly and
 * appendfsync; refused unless "yes"/"always" or allow_volatile).  Returns 0,
 * -EIO (unreachable), -EACCES (auth) or -EPERM (not durable) with s->err. */
int store_connect(struct store *s);

/* Make sure the connection works (PING), reconnecting once if not.
 * Returns 0 or the error of store_connect.  *reconnected is set to 1 when a
 * new connection was made. */
int store_ensure(struct store *s, int *reconnected);

void store_close(struct store *s);

/* One command; NULL on I/O error (s->err set; the connection is dropped).
 * An error reply is returned as a reply (type REDIS_REPLY_ERROR). */
redisReply *store_cmd(struct store *s, const char *fmt, ...);
redisReply *store_argv(struct store *s, int argc, const char **argv, const size_t *lens);

/* A MULTI ... EXEC block, pipelined: commands are queued locally, sent and
 * checked at txn_exec.  Redis applies all of it or none of it; if teishid
 * dies before EXEC reaches Redis, the connection drops and Redis discards
 * the queue. */
struct txn {
	struct store *s;
	int n;       /* commands appended, MULTI included */
	int failed;  /* an append failed */
};

void txn_begin(struct txn *t, struct store *s);
void txn_cmd(struct txn *t, const char *fmt, ...);
void txn_argv(struct txn *t, int argc, const char **argv, const size_t *lens);

/* Append "CMD KEY [FIXED...] item1 item2 ..." in chunks of at most 1000
 * items per command (SADD, SREM, HDEL).  items need not be NUL-terminated
 * strings in one block: they are an array of C strings. */
void txn_variadic(struct txn *t, const char *cmd, const char *key,
		  const char *const *items, size_t n);

/* The same for field/value pairs (HSET KEY f1 v1 f2 v2 ...). */
void txn_pairs(struct txn *t, const char *cmd, const char *key,
	       const char *const *fields, const char *const *values, size_t n);

/* Send EXEC and read every reply.  Returns 0 when the whole block was
 * applied, -EIO (connection lost: outcome unknown only if EXEC was sent),
 * or -EPROTO (Redis refused a command: nothing applied), with s->err. */
int txn_exec(struct txn *t);

/* Drop a begun transaction (DISCARD). */
void txn_discard(struct txn *t);

#endif
