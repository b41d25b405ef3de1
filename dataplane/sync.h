/* The dataplanes' side of Redis (docs/redis-schema.md): the entry set and
 * its change stream in, blocked-call events and heartbeats out.
 *
 * A session remembers the last id of teishi:changes, loads teishi:entries
 * (SSCAN, so that Redis is never blocked for the whole set), then follows
 * the stream from that id with XREAD BLOCK.  Entries added or removed
 * during the load are in the stream after that id, and replaying a record
 * is harmless (an add of a present entry, a del of an absent one), so the
 * caller's list converges on the set.  After a lost connection it resumes
 * from the last record it applied when the stream still holds that
 * record; otherwise (another Redis, a restored backup, a stream that was
 * empty at the load) it loads the whole set again.
 *
 * The caller holds the list (teishi-dp: the ntrie, as its one writer;
 * teishi-xdp: the BPF map) and is handed changes through sync_ops.
 * Plain C and hiredis, no DPDK.  A session belongs to one thread.
 */
#ifndef TEISHI_SYNC_H
#define TEISHI_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ntrie.h"

#define SYNC_ENTRIES_KEY "teishi:entries"
#define SYNC_CHANGES_KEY "teishi:changes"
#define SYNC_EVENTS_KEY "teishi:events"
#define SYNC_DATAPLANES_KEY "teishi:dataplanes"
#define SYNC_DATAPLANE_PREFIX "teishi:dataplane:"
/* Events kept in teishi:events (XADD MAXLEN ~). */
#define SYNC_EVENTS_MAXLEN 1000000
#define SYNC_ID_MAX 48
#define SYNC_NAME_MAX 64
/* The bytes a dataplane's name is made of (teishi-dp --name, the
 * heartbeat key, teishictl dataplane forget). */
#define SYNC_NAME_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:-"

struct sync_config {
	const char *host;     /* address, or a unix socket path (starts with '/') */
	int port;             /* TCP port; ignored for a unix socket */
	const char *user;     /* ACL user, or NULL (AUTH with the password alone) */
	const char *password; /* NULL: no AUTH */
	/* Where events and heartbeats go when host is a read-only replica:
	 * the primary (same auth), on a connection of their own whose loss
	 * never stops the following; NULL: host. */
	const char *write_host;
	int write_port;
	const char *name;     /* this dataplane in events and heartbeats
			       * ([A-Za-z0-9._@:-], at most SYNC_NAME_MAX - 1) */
	unsigned timeout_ms;  /* connect timeout; 0: 2000 */
	/* How long a reply may take beyond block_ms before the connection
	 * counts as lost; 0: 10000.  Redis answers nothing while it runs a
	 * transaction, and teishid's bulk order of a million entries is one. */
	unsigned reply_timeout_ms;
	unsigned block_ms;    /* longest wait for a change in sync_step; 0: 100 */
};

/* One change, in stream order. */
struct sync_change {
	struct ntrie_entry e; /* value NTRIE_VALUE(1, 0) */
	uint8_t add;          /* 1 add, 0 del */
};

struct sync_ops {
	/* The whole list, replacing what the caller holds: e[0..n) in no
	 * particular order, possibly with duplicates.  0, or a negative errno
	 * (the session retries the load at the next step). */
	int (*load)(void *ctx, const struct ntrie_entry *e, size_t n);
	/* Changes c[0..n) in stream order, one XREAD's worth (a bulk order
	 * may bring a million).  An add of a present entry and a del of an
	 * absent one are no-ops.  0, or a negative errno: the session drops
	 * the connection and loads the whole set again. */
	int (*apply)(void *ctx, const struct sync_change *c, size_t n);
	/* A problem the session met and went past (a bad entry or record),
	 * one line, for the log; NULL: not reported beyond the counters. */
	void (*warn)(void *ctx, const char *msg);
};

enum sync_state {
	SYNC_DOWN = 0,  /* not connected, or the last step failed */
	SYNC_FOLLOWING, /* loaded, following the stream */
};

struct sync_stats {
	uint8_t state;            /* enum sync_state */
	char last_id[SYNC_ID_MAX];/* the last stream record applied ("0-0": none) */
	uint64_t loads;           /* whole-set loads */
	uint64_t loaded_entries;  /* entries of the last load */
	uint64_t records;         /* stream records applied */
	uint64_t adds, dels;      /* entries in them */
	uint64_t bad_entries;     /* entries that are not canonical digits[*] (skipped) */
	uint64_t bad_records;     /* records without a valid op (skipped) */
	uint64_t connects;        /* successful connections */
	uint64_t failures;        /* failed steps (connection, load, apply) */
	uint64_t events;          /* events written to teishi:events */
	uint64_t events_failed;   /* events Redis refused or that were lost with the connection */
	uint64_t heartbeats;
	/* The last record applied before the latest reload from a server whose
	 * stream ends before it (a restored backup, or a replica promoted
	 * behind): the orders after it were dropped with the reload.  "" when
	 * none; sent in the heartbeat, for teishictl dataplanes. */
	char rewound_from[SYNC_ID_MAX];
	uint64_t rewinds;
};

/* Ready-made ops that keep an ntrie as the list: a load is ntrie_build,
 * a batch is ntrie_insert/ntrie_delete change by change, or, over
 * SYNC_REBUILD_ABOVE changes (a bulk order), one ntrie_build of the
 * entries held merged with the batch (ntrie_walk), so that a full delta
 * does not fold the whole base again and again.  ctx: a struct
 * sync_ntrie; the session's thread must be the trie's one writer. */
#define SYNC_REBUILD_ABOVE 8192
struct sync_ntrie {
	struct ntrie *t;
	uint64_t rebuilds; /* batches applied as one build */
	/* where warnings go (NULL: nowhere) */
	void (*warn)(void *warn_ctx, const char *msg);
	void *warn_ctx;
};
extern const struct sync_ops sync_ntrie_ops;

struct sync;

/* A session; nothing is connected until the first sync_step().  The
 * configuration's strings are copied.  NULL with errno EINVAL (a bad name,
 * a missing host or ops) or ENOMEM. */
struct sync *sync_create(const struct sync_config *cfg, const struct sync_ops *ops, void *ctx);
/* NULL-safe. */
void sync_free(struct sync *s);

/* One step: when not connected, connect and load (or resume) and return
 * 0; else wait up to block_ms for changes and hand them to ops->apply.
 * Returns the number of changes applied (0 when none came), or a negative
 * errno with sync_error() saying what failed; the connection is then
 * dropped and the next step starts again (the caller waits before it: a
 * step that fails does not sleep).
 * A server without teishi:meta (teishid never wrote there, or it lost its
 * data) is an empty list only for a session that holds none yet; one that
 * has loaded (or resumed from a cache) fails with -ESTALE instead, and
 * the list in force stays. */
int sync_step(struct sync *s);

/* A hook sync_step calls every block_ms while the followed server has
 * not answered its XREAD for longer than block_ms, when events and
 * heartbeats go to a server of their own (write_host): the caller's
 * chance to queue and sync_flush() them meanwhile, so that a site's
 * replica that hangs holds up nothing bound for the primary.  Not called
 * otherwise (they would wait on the same connection). */
void sync_set_idle(struct sync *s, void (*idle)(void *ctx), void *ctx);

/* Take the caller's list as the set as of stream record last_id (a list
 * cached by an earlier run that applied up to it), so that the next
 * connection resumes from there when the stream still holds the record,
 * and loads the set otherwise.  Returns 0, or -EINVAL for an id that is
 * not MS-SEQ. */
int sync_resume_from(struct sync *s, const char *last_id);

/* Queue one event for teishi:events (XADD with MAXLEN ~
 * SYNC_EVENTS_MAXLEN): n field/value pairs, plus "dataplane" = the name.
 * Sent by sync_flush().  -ENOTCONN when the session is down (the event is
 * counted in events_failed), else 0. */
int sync_event(struct sync *s, const char *const *fields, const char *const *values, unsigned n);
/* Write this dataplane's heartbeat: HSET teishi:dataplane:NAME with the n
 * field/value pairs and "at" (UTC now), EXPIRE ttl_s, and SADD the name to
 * teishi:dataplanes; queued like events. */
int sync_heartbeat(struct sync *s, const char *const *fields, const char *const *values,
		   unsigned n, unsigned ttl_s);
/* A dataplane's heartbeat with the fields docs/redis-schema.md names and
 * teishictl dataplanes reads: sync_heartbeat() of entries, version,
 * stream_id (the last record applied), frames, blocked, events_lost,
 * follows, pid, started (UTC) and rewound_from (empty until the session
 * reloads from a server that went back in time), with a TTL of
 * SYNC_HEARTBEAT_TTL_S. */
#define SYNC_HEARTBEAT_TTL_S 10
struct sync_beat {
	uint64_t entries;     /* entries in the list in force */
	uint64_t version;     /* changes made to it */
	uint64_t frames;      /* frames seen */
	uint64_t blocked;     /* calls blocked */
	uint64_t events_lost; /* blocked calls whose events never reached Redis */
	const char *follows;  /* the server followed, as given */
	time_t started;       /* when the dataplane started */
};
int sync_heartbeat_dataplane(struct sync *s, const struct sync_beat *b);
/* Send what sync_event() and sync_heartbeat() queued and read the replies.
 * Returns 0, or a negative errno (the connection is dropped; the queued
 * events are counted in events_failed). */
int sync_flush(struct sync *s);

/* Why the last failing call failed, one line. */
const char *sync_error(const struct sync *s);
void sync_get_stats(const struct sync *s, struct sync_stats *st);

/* The list cache (teishi-dp --redis-cache): the list in force as of
 * stream record last_id, one entry per line as in teishi:entries, under a
 * SYNC_CACHE_HEADER line naming the record and over a SYNC_CACHE_END line
 * with the count, so that a file cut short (a full disk, a copy stopped
 * half-way) is refused, never taken for a shorter list.  Written to
 * PATH.tmp, synced, renamed over path and the directory synced, so that a
 * crash leaves the previous cache or the new one, whole; t is read with
 * ntrie_walk (the writer's side).  Returns 0 or a negative errno. */
#define SYNC_CACHE_HEADER "# teishi-dp list cache: stream_id "
#define SYNC_CACHE_END "# end: entries "
int sync_cache_write(const char *path, const char *last_id, const struct ntrie *t);
/* The same for a list held elsewhere (teishi-xdp: the BPF map): walk
 * calls fn on each entry of list, as ntrie_walk does, and returns 0 or
 * the first negative value fn returned (or its own error). */
typedef int (*sync_walk_fn)(const void *list, int (*fn)(void *ctx, const struct ntrie_entry *e),
			    void *ctx);
int sync_cache_write_list(const char *path, const char *last_id, sync_walk_fn walk,
			  const void *list);
/* ntrie_walk as a sync_walk_fn (list: a struct ntrie; the writer's side). */
int sync_walk_ntrie(const void *list, int (*fn)(void *ctx, const struct ntrie_entry *e),
		    void *ctx);

/* When the cache is written: once the list changed, at most every
 * SYNC_CACHE_EVERY_S seconds (a failed write too), and whenever forced
 * (at exit). */
#define SYNC_CACHE_EVERY_S 10
struct sync_cache {
	const char *path;
	uint64_t version;    /* the list version the file holds; start at UINT64_MAX */
	double tried_s;      /* CLOCK_MONOTONIC of the last write tried; 0: none yet */
	unsigned failing;    /* writes failed in a row */
};
/* Write c->path when due: version is the list's version now, s gives
 * the stream record it includes.  Returns 1 when written, 0 when not due,
 * or the write's negative errno (c->failing is then 1 on the first
 * failure in a row, the one a caller says). */
int sync_cache_update(struct sync_cache *c, const struct sync *s, uint64_t version, int force,
		      sync_walk_fn walk, const void *list);
/* Start-up without Redis: the list cached at path handed to the
 * session's ops->load, and the session set to resume from the record the
 * cache was written at (last_id), so that the next step catches up from
 * there.  All or nothing.  Returns the entries loaded, or a negative errno
 * with err saying what is wrong (the session then holds no position). */
long sync_cache_resume(struct sync *s, const char *path, char last_id[SYNC_ID_MAX], char *err,
		       size_t errlen);
/* Read a cache: its entries into *e (malloc'd, the caller frees) and *n,
 * and the record it was written at into last_id.  All or nothing: returns
 * 0, or a negative errno with err naming the file and line at fault
 * (-EINVAL also for a file without its end line or whose count is not
 * the entries it holds). */
int sync_cache_read(const char *path, struct ntrie_entry **e, size_t *n,
		    char last_id[SYNC_ID_MAX], char *err, size_t errlen);

/* The command-line side of a session, shared by teishi-dp and teishi-xdp.
 * sync_parse_addr: "HOST:PORT" (port 1..65535) or the path of a unix
 * socket ("/..."): the host part into host (cap bytes) and the port (0 for
 * a socket) into *port.  Returns 0, or -EINVAL / -ENAMETOOLONG with err
 * saying what is wanted. */
int sync_parse_addr(const char *addr, char *host, size_t cap, int *port, char *err,
		    size_t errlen);
/* The first line of path (a password never given on a command line),
 * without its line end.  Returns 0, or a negative errno with err naming
 * the file ("empty" when it holds no line). */
int sync_read_password(const char *path, char *buf, size_t cap, char *err, size_t errlen);
/* "prog@HOSTNAME", the host name's bytes outside SYNC_NAME_CHARS
 * replaced by '-': a dataplane's name when none is given. */
void sync_default_name(const char *prog, char *buf, size_t cap);

/* A canonical entry as teishid stores it: 1 to 15 digits, or 1 to 15
 * digits and '*' for a block.  Fills e (value NTRIE_VALUE(1, 0)) and
 * returns 0, or -EINVAL. */
int sync_parse_entry(const char *s, size_t len, struct ntrie_entry *e);

#endif
