/* Following teishi:entries and teishi:changes; the contract is in sync.h.
 *
 * Commands are synchronous (hiredis), on one connection, or two when
 * events and heartbeats go to another server (a replica's primary): the
 * step's XREAD BLOCK bounds how long queued events wait (block_ms), and a
 * heartbeat or an event never waits on a change.  Anything queued on the
 * session's connection is sent before the XREAD, because a blocking
 * command's reply must be the next one read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "sync.h"

/* Members per SSCAN call and records per XREAD: large enough that a
 * 10-million-entry load is a thousand round trips, small enough that
 * Redis answers each in about a millisecond. */
#define SSCAN_COUNT "10000"
#define XREAD_COUNT "1000"

enum queued {
	Q_EVENT,
	Q_OTHER,
};

struct sync {
	char host[256];
	int port;
	char whost[256];      /* where events and heartbeats go, when not host */
	int wport;
	bool wsep;            /* they go to their own connection, w */
	redisContext *w;
	double w_retry_at;    /* no new write connection before this (monotonic s) */
	char user[128];
	char password[256];
	bool has_user, has_password;
	char name[SYNC_NAME_MAX];
	unsigned timeout_ms, reply_timeout_ms, block_ms;
	struct sync_ops ops;
	void *ctx;
	redisContext *c;
	bool loaded;          /* last_id is a record of the set the caller holds */
	bool w_down_said;     /* the write connection's failure was reported */
	uint8_t *queued;      /* the kinds of the replies still to read */
	size_t n_queued, queued_cap;
	struct sync_change *chg;
	size_t chg_cap;
	struct sync_stats st;
	void (*idle)(void *ctx); /* sync_set_idle */
	void *idle_ctx;
	char err[512];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	return len > 0 && len < SYNC_NAME_MAX && strspn(n, SYNC_NAME_CHARS) == len;
}

struct sync *sync_create(const struct sync_config *cfg, const struct sync_ops *ops, void *ctx)
{
	struct sync *s;

	if (cfg == NULL || ops == NULL || ops->load == NULL || ops->apply == NULL ||
	    cfg->host == NULL || cfg->host[0] == '\0' || strlen(cfg->host) >= sizeof(s->host) ||
	    cfg->name == NULL || !name_ok(cfg->name) ||
	    (cfg->user && strlen(cfg->user) >= sizeof(s->user)) ||
	    (cfg->password && strlen(cfg->password) >= sizeof(s->password)) ||
	    (cfg->host[0] != '/' && (cfg->port <= 0 || cfg->port > 65535)) ||
	    (cfg->write_host && cfg->write_host[0] &&
	     (strlen(cfg->write_host) >= sizeof(s->host) ||
	      (cfg->write_host[0] != '/' && (cfg->write_port <= 0 || cfg->write_port > 65535))))) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	snprintf(s->host, sizeof(s->host), "%s", cfg->host);
	s->port = cfg->port;
	if (cfg->write_host && cfg->write_host[0]) {
		snprintf(s->whost, sizeof(s->whost), "%s", cfg->write_host);
		s->wport = cfg->write_port;
		s->wsep = true;
	}
	if (cfg->user && cfg->user[0]) {
		snprintf(s->user, sizeof(s->user), "%s", cfg->user);
		s->has_user = true;
	}
	if (cfg->password) {
		snprintf(s->password, sizeof(s->password), "%s", cfg->password);
		s->has_password = true;
	}
	snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 2000;
	s->reply_timeout_ms = cfg->reply_timeout_ms ? cfg->reply_timeout_ms : 10000;
	s->block_ms = cfg->block_ms ? cfg->block_ms : 100;
	s->ops = *ops;
	s->ctx = ctx;
	snprintf(s->st.last_id, sizeof(s->st.last_id), "0-0");
	return s;
}

static void disconnect(struct sync *s)
{
	if (s->c)
		redisFree(s->c);
	s->c = NULL;
	if (!s->wsep)
		s->n_queued = 0;
	s->st.state = SYNC_DOWN;
}

/* The separate write connection failed: its queued events are lost with
 * it (counted) and the next one is tried a second later. */
static void wdrop(struct sync *s, const char *what, const char *why);

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	disconnect(s);
	if (s->w)
		redisFree(s->w);
	free(s->queued);
	free(s->chg);
	free(s);
}

const char *sync_error(const struct sync *s)
{
	return s->err;
}

void sync_get_stats(const struct sync *s, struct sync_stats *st)
{
	*st = s->st;
}

static void warn(struct sync *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct sync *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (s->ops.warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->ops.warn(s->ctx, msg);
}

/* A failed step: say why, drop the connection (queued events are lost
 * with it), return rc. */
static int fail(struct sync *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct sync *s, int rc, const char *fmt, ...)
{
	va_list ap;
	int n = s->host[0] == '/' ? snprintf(s->err, sizeof(s->err), "Redis %s: ", s->host)
				  : snprintf(s->err, sizeof(s->err), "Redis %s:%d: ", s->host, s->port);

	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
	for (size_t i = 0; !s->wsep && i < s->n_queued; i++)
		s->st.events_failed += s->queued[i] == Q_EVENT;
	disconnect(s);
	s->st.failures++;
	return rc;
}

/* Why a call on c failed, err being errno right after it: a reply that
 * did not come within the timeout is said as such (hiredis says only
 * "Resource temporarily unavailable"). */
static const char *no_reply(const struct sync *s, char *buf, size_t len)
{
	snprintf(buf, len, "no reply within %u ms (the server hangs, or the path to it is cut)",
		 s->reply_timeout_ms + s->block_ms);
	return buf;
}

static const char *lost_why(const struct sync *s, const redisContext *c, int err, char *buf,
			    size_t len)
{
	if (c->err == REDIS_ERR_IO && (err == EAGAIN || err == EWOULDBLOCK))
		return no_reply(s, buf, len);
	return c->errstr[0] ? c->errstr : "connection lost";
}

/* One command and its reply; NULL after fail() on a lost connection or an
 * error reply. */
/* A command's reply r, or NULL after fail() when there is none (err:
 * errno then) or it is an error reply. */
static redisReply *reply_of(struct sync *s, int argc, const char **argv, redisReply *r, int err)
{
	char why[128];

	if (r == NULL) {
		fail(s, -EIO, "%s: %s", argv[0], lost_why(s, s->c, err, why, sizeof(why)));
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fail(s, -EPROTO, "%s %s: %s", argv[0], argc > 1 ? argv[1] : "", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *cmd(struct sync *s, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(s->c, argc, argv, NULL);

	return reply_of(s, argc, argv, r, errno);
}

static struct timeval tv_ms(unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

/* A connection to host:port (a unix socket when host starts with '/'),
 * authenticated, with the reply timeout set, in *out.  Returns 0, or
 * -ECONNREFUSED, -EACCES (AUTH refused) or -ENOMEM with why set. */
static int open_conn(struct sync *s, const char *host, int port, redisContext **out, char *why,
		     size_t whylen)
{
	redisContext *c = host[0] == '/' ? redisConnectUnixWithTimeout(host, tv_ms(s->timeout_ms))
					 : redisConnectWithTimeout(host, port, tv_ms(s->timeout_ms));
	redisReply *r;

	*out = NULL;
	if (c == NULL) {
		snprintf(why, whylen, "connect: out of memory");
		return -ENOMEM;
	}
	if (c->err) {
		snprintf(why, whylen, "connect: %s", c->errstr);
		redisFree(c);
		return -ECONNREFUSED;
	}
	/* A reply may take the whole XREAD BLOCK before it starts. */
	if (redisSetTimeout(c, tv_ms(s->reply_timeout_ms + s->block_ms)) != REDIS_OK) {
		snprintf(why, whylen, "setting the reply timeout: %s", c->errstr);
		redisFree(c);
		return -ECONNREFUSED;
	}
	if (s->has_password) {
		const char *av[3] = { "AUTH", s->user, s->password };

		if (!s->has_user)
			av[1] = s->password;
		r = redisCommandArgv(c, s->has_user ? 3 : 2, av, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, whylen, "AUTH%s%s refused: %s", s->has_user ? " as " : "",
				 s->has_user ? s->user : "", r ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return r ? -EACCES : -ECONNREFUSED;
		}
		freeReplyObject(r);
	}
	*out = c;
	return 0;
}

static int connect_session(struct sync *s)
{
	char why[300];
	redisReply *r;
	int rc = open_conn(s, s->host, s->port, &s->c, why, sizeof(why));

	if (rc < 0)
		return fail(s, rc, "%s", why);
	/* The schema this code reads.  Nothing there is a Redis teishid has
	 * never written to (it sets the schema first): an empty list for a
	 * dataplane that holds none yet, but not a reason to drop the list in
	 * force (a wrong address, a server that lost its data), which stays
	 * until teishid has written there. */
	{
		const char *av[] = { "HGET", "teishi:meta", "schema" };

		r = cmd(s, 3, av);
		if (r == NULL)
			return -EIO;
		if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") != 0) {
			rc = fail(s, -EPROTO, "teishi:meta schema is %s; this dataplane reads 1", r->str);
			freeReplyObject(r);
			return rc;
		}
		if (r->type == REDIS_REPLY_NIL && s->loaded) {
			freeReplyObject(r);
			return fail(s, -ESTALE, "no teishi:meta: teishid has never written to this "
				    "server (or it lost its data); keeping the list in force");
		}
		freeReplyObject(r);
	}
	s->st.connects++;
	return 0;
}

int sync_parse_entry(const char *p, size_t len, struct ntrie_entry *e)
{
	bool block = len > 0 && p[len - 1] == '*';
	size_t nd = len - block;

	if (nd == 0 || nd > NTRIE_MAX_DIGITS)
		return -EINVAL;
	e->key = ntrie_key(p, nd);
	if (e->key == 0)
		return -EINVAL;
	e->kind = block ? NTRIE_PREFIX : NTRIE_EXACT;
	e->value = NTRIE_VALUE(1, 0);
	return 0;
}

/* Printable form of a bad entry for a message (cap >= 8): bytes outside
 * printable ASCII as \xHH, cut with "..." when long. */
static void quote(char *out, size_t cap, const char *p, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 1024;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*p, c * size);
	if (n == NULL)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

/* Stream ids "MS-SEQ" compared as numbers; a malformed one as 0-0. */
static int id_cmp(const char *a, const char *b)
{
	unsigned long long x[2] = { 0, 0 }, y[2] = { 0, 0 };

	if (sscanf(a, "%llu-%llu", &x[0], &x[1]) != 2)
		x[0] = x[1] = 0;
	if (sscanf(b, "%llu-%llu", &y[0], &y[1]) != 2)
		y[0] = y[1] = 0;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* The stream's last id, then the whole set, handed to ops->load. */
static int load_all(struct sync *s)
{
	const char *rev[] = { "XREVRANGE", SYNC_CHANGES_KEY, "+", "-", "COUNT", "1" };
	char id[SYNC_ID_MAX] = "0-0", cursor[32] = "0";
	struct ntrie_entry *e = NULL;
	size_t n = 0, cap = 0;
	uint64_t bad = 0;
	char first_bad[80] = "";
	redisReply *r = cmd(s, 6, rev);
	int rc;

	if (r == NULL)
		return -EIO;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return fail(s, -EPROTO, "XREVRANGE %s: not an array", SYNC_CHANGES_KEY);
	}
	if (r->elements > 0) {
		redisReply *rec = r->element[0];

		if (rec->type != REDIS_REPLY_ARRAY || rec->elements < 1 ||
		    rec->element[0]->type != REDIS_REPLY_STRING || rec->element[0]->len >= sizeof(id)) {
			freeReplyObject(r);
			return fail(s, -EPROTO, "XREVRANGE %s: malformed record", SYNC_CHANGES_KEY);
		}
		memcpy(id, rec->element[0]->str, rec->element[0]->len + 1);
	}
	freeReplyObject(r);
	/* Said, not refused: a restored backup is an operator's choice, and
	 * teishid's data is the truth; but it must not pass unnoticed. */
	bool rewound = s->loaded && id_cmp(id, s->st.last_id) < 0;

	if (rewound)
		warn(s, "%s ends at %s, before %s already applied: this server went back in time "
		     "(a restored backup?); loading its set", SYNC_CHANGES_KEY, id, s->st.last_id);
	do {
		const char *av[] = { "SSCAN", SYNC_ENTRIES_KEY, cursor, "COUNT", SSCAN_COUNT };
		redisReply *m;

		r = cmd(s, 5, av);
		if (r == NULL) {
			free(e);
			return -EIO;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) || r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			free(e);
			return fail(s, -EPROTO, "SSCAN %s: malformed reply", SYNC_ENTRIES_KEY);
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
		m = r->element[1];
		if (grow((void **)&e, &cap, n + m->elements, sizeof(*e)) < 0) {
			freeReplyObject(r);
			free(e);
			return fail(s, -ENOMEM, "loading %s: out of memory at %zu entries",
				    SYNC_ENTRIES_KEY, n);
		}
		for (size_t i = 0; i < m->elements; i++) {
			redisReply *x = m->element[i];

			if (x->type == REDIS_REPLY_STRING && sync_parse_entry(x->str, x->len, &e[n]) == 0) {
				n++;
				continue;
			}
			if (bad++ == 0 && x->type == REDIS_REPLY_STRING)
				quote(first_bad, sizeof(first_bad), x->str, x->len);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	/* one line a load, however many */
	if (bad)
		warn(s, "%s: %" PRIu64 " %s not 1-15 digits with an optional '*' "
		     "(the first: \"%s\"): skipped", SYNC_ENTRIES_KEY, bad,
		     bad == 1 ? "entry is" : "entries are", first_bad);
	rc = s->ops.load(s->ctx, e, n);
	free(e);
	if (rc < 0)
		return fail(s, rc, "loading %zu entries of %s: %s", n, SYNC_ENTRIES_KEY, strerror(-rc));
	if (rewound) {
		memcpy(s->st.rewound_from, s->st.last_id, sizeof(s->st.rewound_from));
		s->st.rewinds++;
	}
	snprintf(s->st.last_id, sizeof(s->st.last_id), "%s", id);
	s->loaded = true;
	s->st.loads++;
	s->st.loaded_entries = n;
	s->st.bad_entries += bad;
	return 0;
}

/* After a reconnection: go on from the last record applied if the stream
 * still holds it, else load everything. */
static int resume_or_load(struct sync *s)
{
	const char *av[] = { "XRANGE", SYNC_CHANGES_KEY, s->st.last_id, s->st.last_id };
	redisReply *r;
	bool there;

	if (!s->loaded || strcmp(s->st.last_id, "0-0") == 0)
		return load_all(s);
	r = cmd(s, 4, av);
	if (r == NULL)
		return -EIO;
	there = r->type == REDIS_REPLY_ARRAY && r->elements == 1;
	freeReplyObject(r);
	return there ? 0 : load_all(s);
}

static const redisReply *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0)
			return kv->element[i + 1];
	return NULL;
}

/* The changes of one record, appended to s->chg[*n...]. */
static int record_changes(struct sync *s, const char *id, const redisReply *kv, size_t *n)
{
	const redisReply *op = field(kv, "op"), *ents = field(kv, "entries");
	uint8_t add;
	const char *p, *end;
	char first_bad[80] = "";
	uint64_t bad = 0;

	if (op == NULL || op->type != REDIS_REPLY_STRING || ents == NULL ||
	    ents->type != REDIS_REPLY_STRING ||
	    (strcmp(op->str, "add") != 0 && strcmp(op->str, "del") != 0)) {
		s->st.bad_records++;
		warn(s, "%s %s: no op add/del with entries: skipped", SYNC_CHANGES_KEY, id);
		return 0;
	}
	add = op->str[0] == 'a';
	p = ents->str;
	end = p + ents->len;
	while (p < end) {
		const char *q = memchr(p, ' ', (size_t)(end - p));
		size_t len;

		if (q == NULL)
			q = end;
		len = (size_t)(q - p);
		if (len > 0) {
			if (grow((void **)&s->chg, &s->chg_cap, *n + 1, sizeof(*s->chg)) < 0)
				return -ENOMEM;
			if (sync_parse_entry(p, len, &s->chg[*n].e) == 0) {
				s->chg[*n].add = add;
				(*n)++;
				if (add)
					s->st.adds++;
				else
					s->st.dels++;
			} else if (bad++ == 0) {
				quote(first_bad, sizeof(first_bad), p, len);
			}
		}
		p = q + 1;
	}
	/* one line a record, however many */
	if (bad) {
		s->st.bad_entries += bad;
		warn(s, "%s %s: %" PRIu64 " %s not 1-15 digits with an optional '*' "
		     "(the first: \"%s\"): skipped", SYNC_CHANGES_KEY, id, bad,
		     bad == 1 ? "entry is" : "entries are", first_bad);
	}
	return 0;
}

void sync_set_idle(struct sync *s, void (*idle)(void *ctx), void *ctx)
{
	s->idle = idle;
	s->idle_ctx = ctx;
}

/* cmd() for the XREAD that waits on the followed server: when events and
 * heartbeats have their own server, the wait is cut into block_ms slices
 * and the caller's idle hook runs between them, so that a followed server
 * that hangs (or runs a long transaction) holds up nothing that goes to
 * the other one.  The whole wait is still bounded by the reply timeout. */
static redisReply *cmd_waiting(struct sync *s, int argc, const char **argv)
{
	redisContext *c = s->c;
	double start = mono_s(), limit = (s->reply_timeout_ms + s->block_ms) / 1000.0;
	void *reply = NULL;
	char why[128];
	int done = 0;

	if (!s->wsep || s->idle == NULL)
		return cmd(s, argc, argv);
	if (redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK)
		return reply_of(s, argc, argv, NULL, errno);
	while (!done)
		if (redisBufferWrite(c, &done) != REDIS_OK)
			return reply_of(s, argc, argv, NULL, errno);
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int ready;

		if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
			return reply_of(s, argc, argv, NULL, errno);
		if (reply != NULL)
			return reply_of(s, argc, argv, reply, 0);
		ready = poll(&pfd, 1, (int)s->block_ms);
		if (ready > 0) {
			if (redisBufferRead(c) != REDIS_OK)
				return reply_of(s, argc, argv, NULL, errno);
			continue;
		}
		if (ready < 0 && errno != EINTR)
			return reply_of(s, argc, argv, NULL, errno);
		if (mono_s() - start > limit) {
			fail(s, -EIO, "%s: %s", argv[0], no_reply(s, why, sizeof(why)));
			return NULL;
		}
		if (mono_s() - start > s->block_ms / 1000.0)
			s->idle(s->idle_ctx);
	}
}

static int follow(struct sync *s)
{
	char block[16];
	const char *av[] = { "XREAD", "COUNT", XREAD_COUNT, "BLOCK", block, "STREAMS",
			     SYNC_CHANGES_KEY, s->st.last_id };
	redisReply *r, *recs;
	size_t n = 0, nrec;
	int rc;

	snprintf(block, sizeof(block), "%u", s->block_ms);
	r = cmd_waiting(s, 8, av);
	if (r == NULL)
		return -EIO;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 2 ||
	    r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return fail(s, -EPROTO, "XREAD %s: malformed reply", SYNC_CHANGES_KEY);
	}
	recs = r->element[0]->element[1];
	nrec = recs->elements;
	for (size_t i = 0; i < nrec; i++) {
		redisReply *rec = recs->element[i];

		if (rec->type != REDIS_REPLY_ARRAY || rec->elements != 2 ||
		    rec->element[0]->type != REDIS_REPLY_STRING ||
		    rec->element[0]->len >= SYNC_ID_MAX || rec->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return fail(s, -EPROTO, "XREAD %s: malformed record", SYNC_CHANGES_KEY);
		}
		if (record_changes(s, rec->element[0]->str, rec->element[1], &n) < 0) {
			freeReplyObject(r);
			return fail(s, -ENOMEM, "XREAD %s: out of memory", SYNC_CHANGES_KEY);
		}
	}
	rc = n ? s->ops.apply(s->ctx, s->chg, n) : 0;
	if (rc < 0) {
		/* The list may hold part of the batch: start from a load. */
		s->loaded = false;
		freeReplyObject(r);
		return fail(s, rc, "applying %zu changes: %s", n, strerror(-rc));
	}
	if (nrec > 0) {
		redisReply *last = recs->element[nrec - 1]->element[0];

		memcpy(s->st.last_id, last->str, last->len + 1);
	}
	s->st.records += nrec;
	freeReplyObject(r);
	return (int)(n > (size_t)INT32_MAX ? INT32_MAX : n);
}

int sync_step(struct sync *s)
{
	int rc;

	if (s->c == NULL) {
		rc = connect_session(s);
		if (rc < 0)
			return rc;
		rc = resume_or_load(s);
		if (rc < 0)
			return rc;
		s->st.state = SYNC_FOLLOWING;
		/* the caller has its list: no wait in this step */
		return 0;
	}
	rc = sync_flush(s);
	if (rc < 0 && !s->wsep)
		return rc;
	return follow(s);
}

int sync_resume_from(struct sync *s, const char *last_id)
{
	size_t len = strlen(last_id), dash = strspn(last_id, "0123456789");

	if (len >= SYNC_ID_MAX || dash == 0 || last_id[dash] != '-' || dash + 1 == len ||
	    strspn(last_id + dash + 1, "0123456789") != len - dash - 1)
		return -EINVAL;
	memcpy(s->st.last_id, last_id, len + 1);
	s->loaded = true;
	return 0;
}

static void wdrop(struct sync *s, const char *what, const char *why)
{
	for (size_t i = 0; i < s->n_queued; i++)
		s->st.events_failed += s->queued[i] == Q_EVENT;
	s->n_queued = 0;
	if (s->w)
		redisFree(s->w);
	s->w = NULL;
	s->w_retry_at = mono_s() + 1.0;
	if (!s->w_down_said)
		warn(s, "events and heartbeats to %s%s%d: %s: %s (counted as failed; retrying every "
		     "second)", s->whost, s->whost[0] == '/' ? "" : ":", s->whost[0] == '/' ? 0 : s->wport,
		     what, why);
	s->w_down_said = true;
}

/* Where events and heartbeats go: the session's connection, or their own
 * (connected here, at most once a second); NULL when there is none. */
static redisContext *wctx(struct sync *s)
{
	char why[300];

	if (!s->wsep)
		return s->c;
	if (s->w == NULL && mono_s() >= s->w_retry_at) {
		if (open_conn(s, s->whost, s->wport, &s->w, why, sizeof(why)) < 0)
			wdrop(s, "connect", why);
		else if (s->w_down_said)
			warn(s, "events and heartbeats to %s: connected again", s->whost);
		if (s->w)
			s->w_down_said = false;
	}
	return s->w;
}

static int queue(struct sync *s, enum queued kind, int argc, const char **argv)
{
	redisContext *c = wctx(s);

	if (c == NULL) {
		s->st.events_failed += kind == Q_EVENT;
		return -ENOTCONN;
	}
	if (grow((void **)&s->queued, &s->queued_cap, s->n_queued + 1, 1) < 0 ||
	    redisAppendCommandArgv(c, argc, argv, NULL) != REDIS_OK) {
		s->st.events_failed += kind == Q_EVENT;
		return -ENOMEM;
	}
	s->queued[s->n_queued++] = (uint8_t)kind;
	return 0;
}

#define EVENT_MAX_FIELDS 24

int sync_event(struct sync *s, const char *const *fields, const char *const *values, unsigned n)
{
	const char *av[8 + 2 * EVENT_MAX_FIELDS];
	int ac = 0;

	if (n > EVENT_MAX_FIELDS) {
		s->st.events_failed++;
		return -EINVAL;
	}
	av[ac++] = "XADD";
	av[ac++] = SYNC_EVENTS_KEY;
	av[ac++] = "MAXLEN";
	av[ac++] = "~";
	av[ac++] = "1000000";
	av[ac++] = "*";
	av[ac++] = "dataplane";
	av[ac++] = s->name;
	for (unsigned i = 0; i < n; i++) {
		av[ac++] = fields[i];
		av[ac++] = values[i];
	}
	return queue(s, Q_EVENT, ac, av);
}

static void utc_now(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int sync_heartbeat(struct sync *s, const char *const *fields, const char *const *values,
		   unsigned n, unsigned ttl_s)
{
	char key[sizeof(SYNC_DATAPLANE_PREFIX) + SYNC_NAME_MAX], at[40], ttl[16];
	const char *av[4 + 2 * EVENT_MAX_FIELDS];
	const char *ex[] = { "EXPIRE", key, ttl };
	const char *add[] = { "SADD", SYNC_DATAPLANES_KEY, s->name };
	int ac = 0, rc;

	if (n > EVENT_MAX_FIELDS)
		return -EINVAL;
	snprintf(key, sizeof(key), "%s%s", SYNC_DATAPLANE_PREFIX, s->name);
	snprintf(ttl, sizeof(ttl), "%u", ttl_s ? ttl_s : 1);
	utc_now(at, sizeof(at));
	av[ac++] = "HSET";
	av[ac++] = key;
	av[ac++] = "at";
	av[ac++] = at;
	for (unsigned i = 0; i < n; i++) {
		av[ac++] = fields[i];
		av[ac++] = values[i];
	}
	rc = queue(s, Q_OTHER, ac, av);
	if (rc == 0)
		rc = queue(s, Q_OTHER, 3, ex);
	if (rc == 0)
		rc = queue(s, Q_OTHER, 3, add);
	if (rc == 0)
		s->st.heartbeats++;
	return rc;
}

int sync_heartbeat_dataplane(struct sync *s, const struct sync_beat *b)
{
	static const char *const f[] = { "entries", "version", "stream_id", "frames", "blocked",
					 "events_lost", "follows", "pid", "started", "rewound_from" };
	char entries[24], version[24], frames[24], blocked[24], lost[24], pid[16], started[40];
	const char *v[] = { entries, version, s->st.last_id, frames, blocked, lost, b->follows,
			    pid, started, s->st.rewound_from };
	struct tm tm;

	snprintf(entries, sizeof(entries), "%" PRIu64, b->entries);
	snprintf(version, sizeof(version), "%" PRIu64, b->version);
	snprintf(frames, sizeof(frames), "%" PRIu64, b->frames);
	snprintf(blocked, sizeof(blocked), "%" PRIu64, b->blocked);
	snprintf(lost, sizeof(lost), "%" PRIu64, b->events_lost);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	gmtime_r(&b->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* rewound_from always, empty when none: HSET then overwrites what a
	 * run of the same name left in the hash before its TTL ran out */
	return sync_heartbeat(s, f, v, 10, SYNC_HEARTBEAT_TTL_S);
}

int sync_flush(struct sync *s)
{
	redisContext *c = s->wsep ? s->w : s->c;
	unsigned refused = 0;
	char first[200] = "";

	if (c == NULL)
		return s->n_queued ? -ENOTCONN : 0;
	for (size_t i = 0; i < s->n_queued; i++) {
		void *rv = NULL;
		redisReply *r;

		if (redisGetReply(c, &rv) != REDIS_OK || rv == NULL) {
			char buf[128];
			const char *why = lost_why(s, c, errno, buf, sizeof(buf));

			/* the unread ones are lost with the connection */
			memmove(s->queued, s->queued + i, s->n_queued - i);
			s->n_queued -= i;
			if (s->wsep) {
				wdrop(s, "sending", why);
				return -EIO;
			}
			return fail(s, -EIO, "sending events: %s", why);
		}
		r = rv;
		if (r->type == REDIS_REPLY_ERROR) {
			/* one line per flush, not one per event (a read-only
			 * replica refuses them all) */
			if (refused++ == 0)
				snprintf(first, sizeof(first), "%s", r->str);
			s->st.events_failed += s->queued[i] == Q_EVENT;
		} else {
			s->st.events += s->queued[i] == Q_EVENT;
		}
		freeReplyObject(r);
	}
	if (refused)
		warn(s, "%u of %zu event and heartbeat writes refused: %s", refused, s->n_queued, first);
	s->n_queued = 0;
	return 0;
}

static int nt_load(void *ctx, const struct ntrie_entry *e, size_t n)
{
	struct sync_ntrie *h = ctx;

	return ntrie_build(h->t, e, n);
}

struct walk_buf {
	struct ntrie_entry *e;
	size_t n, cap;
};

static int walk_collect(void *ctx, const struct ntrie_entry *e)
{
	struct walk_buf *b = ctx;

	if (grow((void **)&b->e, &b->cap, b->n + 1, sizeof(*b->e)) < 0)
		return -ENOMEM;
	b->e[b->n++] = *e;
	return 0;
}

/* A held entry (seq 0) or change i (seq i + 1); sorted by entry, then
 * seq, the last of each entry's run says whether it stays. */
struct merge_item {
	uint64_t key;
	uint32_t seq;
	uint32_t value;
	uint8_t kind, keep;
};

static int merge_cmp(const void *a, const void *b)
{
	const struct merge_item *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int nt_rebuild(struct sync_ntrie *h, const struct sync_change *c, size_t n)
{
	struct walk_buf b = { 0 };
	struct merge_item *m;
	size_t nm = 0, out = 0;
	int rc = ntrie_walk(h->t, walk_collect, &b);

	if (rc < 0) {
		free(b.e);
		return rc;
	}
	m = malloc((b.n + n) * sizeof(*m));
	if (m == NULL) {
		free(b.e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b.n; i++)
		m[nm++] = (struct merge_item){ b.e[i].key, 0, b.e[i].value, b.e[i].kind, 1 };
	for (size_t i = 0; i < n; i++)
		m[nm++] = (struct merge_item){ c[i].e.key, (uint32_t)(i + 1), c[i].e.value, c[i].e.kind,
					       c[i].add };
	qsort(m, nm, sizeof(*m), merge_cmp);
	if (nm > b.cap) {
		struct ntrie_entry *e = realloc(b.e, nm * sizeof(*e));

		if (e == NULL) {
			free(b.e);
			free(m);
			return -ENOMEM;
		}
		b.e = e;
	}
	for (size_t i = 0; i < nm; i++) {
		bool last = i + 1 == nm || m[i + 1].key != m[i].key || m[i + 1].kind != m[i].kind;

		if (last && m[i].keep)
			b.e[out++] = (struct ntrie_entry){ .key = m[i].key, .value = m[i].value,
							  .kind = m[i].kind };
	}
	free(m);
	rc = ntrie_build(h->t, b.e, out);
	free(b.e);
	if (rc == 0)
		h->rebuilds++;
	return rc;
}

static int nt_apply(void *ctx, const struct sync_change *c, size_t n)
{
	struct sync_ntrie *h = ctx;

	if (n > SYNC_REBUILD_ABOVE)
		return nt_rebuild(h, c, n);
	for (size_t i = 0; i < n; i++) {
		int rc = c[i].add ? ntrie_insert(h->t, c[i].e.key, c[i].e.kind, c[i].e.value)
				  : ntrie_delete(h->t, c[i].e.key, c[i].e.kind);

		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	return 0;
}

static void nt_warn(void *ctx, const char *msg)
{
	struct sync_ntrie *h = ctx;

	if (h->warn)
		h->warn(h->warn_ctx, msg);
}

const struct sync_ops sync_ntrie_ops = { nt_load, nt_apply, nt_warn };

/* A failed stdio write's cause (ENOSPC on a full disk), not a bare EIO. */
static int write_error(void)
{
	return errno ? -errno : -EIO;
}

struct cache_out {
	FILE *f;
	size_t n;
};

static int cache_line(void *ctx, const struct ntrie_entry *e)
{
	struct cache_out *o = ctx;
	char d[NTRIE_MAX_DIGITS + 1];
	size_t n = ntrie_key_digits(e->key, d);

	o->n++;
	return fprintf(o->f, "%.*s%s\n", (int)n, d, e->kind == NTRIE_PREFIX ? "*" : "") < 0
		       ? write_error()
		       : 0;
}

/* The rename is durable once the directory holding it is synced. */
static int fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + (slash == path)),
				  path) >= sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int sync_walk_ntrie(const void *list, int (*fn)(void *ctx, const struct ntrie_entry *e),
		    void *ctx)
{
	return ntrie_walk(list, fn, ctx);
}

int sync_cache_write(const char *path, const char *last_id, const struct ntrie *t)
{
	return sync_cache_write_list(path, last_id, sync_walk_ntrie, t);
}

int sync_cache_update(struct sync_cache *c, const struct sync *s, uint64_t version, int force,
		      sync_walk_fn walk, const void *list)
{
	double now = mono_s();
	int rc;

	if (c->path == NULL || version == c->version ||
	    (!force && c->tried_s > 0 && now - c->tried_s < SYNC_CACHE_EVERY_S))
		return 0;
	/* a failed write (a full disk) is tried again on the same schedule */
	c->tried_s = now;
	rc = sync_cache_write_list(c->path, s->st.last_id, walk, list);
	if (rc < 0) {
		c->failing++;
		return rc;
	}
	c->failing = 0;
	c->version = version;
	return 1;
}

long sync_cache_resume(struct sync *s, const char *path, char last_id[SYNC_ID_MAX], char *err,
		       size_t errlen)
{
	struct ntrie_entry *e;
	size_t n;
	int rc = sync_cache_read(path, &e, &n, last_id, err, errlen);

	if (rc < 0)
		return rc;
	if (sync_resume_from(s, last_id) < 0) {
		snprintf(err, errlen, "%s: stream id \"%s\" is not MS-SEQ", path, last_id);
		rc = -EINVAL;
	} else if ((rc = s->ops.load(s->ctx, e, n)) < 0) {
		snprintf(err, errlen, "%s: loading %zu entries: %s", path, n, strerror(-rc));
		/* the session holds nothing it could resume from */
		s->loaded = false;
		snprintf(s->st.last_id, sizeof(s->st.last_id), "0-0");
	}
	free(e);
	return rc < 0 ? rc : (long)n;
}

int sync_cache_write_list(const char *path, const char *last_id, sync_walk_fn walk,
			  const void *list)
{
	char tmp[4096];
	struct cache_out o = { NULL, 0 };
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	o.f = fopen(tmp, "w");
	if (o.f == NULL)
		return -errno;
	errno = 0;
	rc = fprintf(o.f, SYNC_CACHE_HEADER "%s\n", last_id) < 0 ? write_error() : 0;
	if (rc == 0)
		rc = walk(list, cache_line, &o);
	if (rc == 0 && fprintf(o.f, SYNC_CACHE_END "%zu\n", o.n) < 0)
		rc = write_error();
	if (rc == 0 && (fflush(o.f) != 0 || fsync(fileno(o.f)) != 0))
		rc = -errno;
	if (fclose(o.f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	else
		rc = fsync_dir_of(path);
	return rc;
}

int sync_cache_read(const char *path, struct ntrie_entry **e, size_t *n,
		    char last_id[SYNC_ID_MAX], char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0, len = 0, hl = strlen(SYNC_CACHE_HEADER), el = strlen(SYNC_CACHE_END);
	char *line = NULL, *end;
	unsigned lineno = 0, end_line = 0;
	unsigned long long said = 0;
	int rc = 0;

	*e = NULL;
	*n = 0;
	last_id[0] = '\0';
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	ssize_t got;

	while ((got = getline(&line, &len, f)) > 0) {
		bool whole = line[got - 1] == '\n';

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1 && strncmp(line, SYNC_CACHE_HEADER, hl) == 0 &&
		    strlen(line + hl) < SYNC_ID_MAX) {
			memcpy(last_id, line + hl, strlen(line + hl) + 1);
			continue;
		}
		if (lineno == 1) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s: no \"%s<id>\" first line", path, SYNC_CACHE_HEADER);
			break;
		}
		if (end_line) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s:%u: text after the end line (line %u)", path,
				 lineno, end_line);
			break;
		}
		if (strncmp(line, SYNC_CACHE_END, el) == 0) {
			errno = 0;
			said = strtoull(line + el, &end, 10);
			if (errno || end == line + el || *end || !whole) {
				rc = -EINVAL;
				snprintf(err, errlen, "%s:%u: no count on the end line", path, lineno);
				break;
			}
			end_line = lineno;
			continue;
		}
		if (grow((void **)e, &cap, *n + 1, sizeof(**e)) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory at line %u", path, lineno);
			break;
		}
		if (sync_parse_entry(line, strlen(line), &(*e)[*n]) < 0) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s:%u: not an entry (digits, or digits and '*')", path,
				 lineno);
			break;
		}
		(*n)++;
	}
	fclose(f);
	free(line);
	if (rc == 0 && lineno == 0) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: empty (no \"%s<id>\" first line)", path, SYNC_CACHE_HEADER);
	} else if (rc == 0 && !end_line) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: cut short after line %u (no \"%s<count>\" end line)",
			 path, lineno, SYNC_CACHE_END);
	} else if (rc == 0 && said != *n) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s:%u: the end line counts %llu entries, the file holds %zu",
			 path, end_line, said, *n);
	}
	if (rc < 0) {
		free(*e);
		*e = NULL;
		*n = 0;
	}
	return rc;
}

int sync_parse_addr(const char *addr, char *host, size_t cap, int *port, char *err,
		    size_t errlen)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	unsigned long p = 0;

	if (strlen(addr) >= cap) {
		snprintf(err, errlen, "%.64s...: too long", addr);
		return -ENAMETOOLONG;
	}
	if (addr[0] == '/') {
		strcpy(host, addr);
		*port = 0;
		return 0;
	}
	if (colon != NULL && colon != addr && colon[1] != '\0') {
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (errno || *end || colon[1] == '-' || colon[1] == '+')
			p = 0;
	}
	if (p == 0 || p > 65535) {
		snprintf(err, errlen, "%s: HOST:PORT or the path of a unix socket is needed (port "
			 "1-65535)", addr);
		return -EINVAL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	*port = (int)p;
	return 0;
}

int sync_read_password(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fgets(buf, (int)cap, f) == NULL || strcspn(buf, "\r\n") == 0) {
		snprintf(err, errlen, "%s: empty", path);
		rc = -EINVAL;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (rc < 0)
		explicit_bzero(buf, cap);
	return rc;
}

void sync_default_name(const char *prog, char *buf, size_t cap)
{
	char hn[48] = "localhost";

	gethostname(hn, sizeof(hn) - 1);
	hn[sizeof(hn) - 1] = '\0';
	for (char *p = hn; *p; p++)
		if (strchr(SYNC_NAME_CHARS, *p) == NULL)
			*p = '-';
	snprintf(buf, cap, "%s@%s", prog, hn);
}
