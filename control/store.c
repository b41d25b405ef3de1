#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/sds.h>

#define STORE_CHUNK 1000
/* hiredis grows its output buffer by at most 1 MiB a step past 1 MiB, so a
 * transaction of 100 MB queued whole costs a copy of the buffer at every
 * step (quadratic); past this size the queue is written out instead.
 * Redis keeps what it has read of a MULTI in its queue until EXEC, and
 * discards it if the connection drops, so writing early keeps the
 * transaction all or nothing. */
#define STORE_FLUSH_AT (1u << 20)

int store_set_addr(struct store *s, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(s->host))
		return -EINVAL;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	snprintf(s->host, sizeof(s->host), "%.*s", (int)(colon - addr), addr);
	s->port = (int)port;
	return 0;
}

void store_close(struct store *s)
{
	if (s->c)
		redisFree(s->c);
	s->c = NULL;
}

static void store_lost(struct store *s)
{
	if (s->c && s->c->err)
		snprintf(s->err, sizeof(s->err), "Redis %s:%d: %s", s->host, s->port, s->c->errstr);
	else
		snprintf(s->err, sizeof(s->err), "Redis %s:%d: connection lost", s->host, s->port);
	store_close(s);
}

redisReply *store_cmd(struct store *s, const char *fmt, ...)
{
	if (!s->c)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(s->c, fmt, ap);
	va_end(ap);
	if (!r)
		store_lost(s);
	return r;
}

redisReply *store_argv(struct store *s, int argc, const char **argv, const size_t *lens)
{
	if (!s->c)
		return NULL;
	redisReply *r = redisCommandArgv(s->c, argc, argv, lens);
	if (!r)
		store_lost(s);
	return r;
}

static int store_config_is(struct store *s, const char *key, const char *want, char *got, size_t gotlen)
{
	redisReply *r = store_cmd(s, "CONFIG GET %s", key);
	if (!r)
		return -EIO;
	int ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		 r->element[1]->type == REDIS_REPLY_STRING;
	snprintf(got, gotlen, "%s", ok ? r->element[1]->str : "?");
	ok = ok && strcmp(r->element[1]->str, want) == 0;
	freeReplyObject(r);
	return ok;
}

int store_connect(struct store *s)
{
	store_close(s);
	struct timeval tv = {.tv_sec = 5};
	s->c = redisConnectWithTimeout(s->host, s->port, tv);
	if (!s->c || s->c->err) {
		store_lost(s);
		return -EIO;
	}
	/* Replies to big transactions can take a while under fsync=always. */
	struct timeval rw = {.tv_sec = 120};
	redisSetTimeout(s->c, rw);
	if (s->password[0]) {
		redisReply *r = s->user[0] ? store_cmd(s, "AUTH %s %s", s->user, s->password)
					   : store_cmd(s, "AUTH %s", s->password);
		if (!r)
			return -EIO;
		int bad = r->type == REDIS_REPLY_ERROR;
		if (bad)
			snprintf(s->err, sizeof(s->err), "Redis %s:%d: AUTH%s%s refused: %s", s->host, s->port,
				 s->user[0] ? " as " : "", s->user, r->str);
		freeReplyObject(r);
		if (bad) {
			store_close(s);
			return -EACCES;
		}
	}
	char aof[32], fsync[32];
	int a = store_config_is(s, "appendonly", "yes", aof, sizeof(aof));
	int f = a < 0 ? a : store_config_is(s, "appendfsync", "always", fsync, sizeof(fsync));
	if (a < 0 || f < 0)
		return -EIO;
	if ((!a || !f) && !s->allow_volatile) {
		snprintf(s->err, sizeof(s->err),
			 "Redis %s:%d is not durable (appendonly %s, appendfsync %s): orders need appendonly yes "
			 "and appendfsync always (or --allow-volatile-redis)",
			 s->host, s->port, aof, a ? fsync : "?");
		store_close(s);
		return -EPERM;
	}
	redisReply *r = store_cmd(s, "HSETNX " K_META " schema 1");
	if (!r)
		return -EIO;
	freeReplyObject(r);
	return 0;
}

int store_ensure(struct store *s, int *reconnected)
{
	*reconnected = 0;
	if (s->c) {
		redisReply *r = store_cmd(s, "PING");
		int ok = r && r->type == REDIS_REPLY_STATUS;
		if (r)
			freeReplyObject(r);
		if (ok)
			return 0;
		store_close(s);
	}
	*reconnected = 1;
	return store_connect(s);
}

/* Write the queued commands out once they pass STORE_FLUSH_AT. */
static void txn_flush(struct txn *t)
{
	redisContext *c = t->s->c;
	if (!c || sdslen(c->obuf) < STORE_FLUSH_AT)
		return;
	int done = 0;
	while (!done)
		if (redisBufferWrite(c, &done) != REDIS_OK) {
			t->failed = 1;
			return;
		}
}

void txn_begin(struct txn *t, struct store *s)
{
	t->s = s;
	t->n = 0;
	t->failed = 0;
	txn_cmd(t, "MULTI");
}

void txn_cmd(struct txn *t, const char *fmt, ...)
{
	if (!t->s->c) {
		t->failed = 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	if (redisvAppendCommand(t->s->c, fmt, ap) != REDIS_OK)
		t->failed = 1;
	else
		t->n++;
	va_end(ap);
	txn_flush(t);
}

void txn_argv(struct txn *t, int argc, const char **argv, const size_t *lens)
{
	if (!t->s->c || redisAppendCommandArgv(t->s->c, argc, argv, lens) != REDIS_OK)
		t->failed = 1;
	else
		t->n++;
	txn_flush(t);
}

void txn_variadic(struct txn *t, const char *cmd, const char *key,
		  const char *const *items, size_t n)
{
	const char *argv[2 + STORE_CHUNK];
	for (size_t i = 0; i < n; i += STORE_CHUNK) {
		size_t k = n - i < STORE_CHUNK ? n - i : STORE_CHUNK;
		argv[0] = cmd;
		argv[1] = key;
		memcpy(argv + 2, items + i, k * sizeof(*items));
		txn_argv(t, (int)(2 + k), argv, NULL);
	}
}

void txn_pairs(struct txn *t, const char *cmd, const char *key,
	       const char *const *fields, const char *const *values, size_t n)
{
	const char *argv[2 + 2 * STORE_CHUNK];
	for (size_t i = 0; i < n; i += STORE_CHUNK) {
		size_t k = n - i < STORE_CHUNK ? n - i : STORE_CHUNK;
		argv[0] = cmd;
		argv[1] = key;
		for (size_t j = 0; j < k; j++) {
			argv[2 + 2 * j] = fields[i + j];
			argv[3 + 2 * j] = values[i + j];
		}
		txn_argv(t, (int)(2 + 2 * k), argv, NULL);
	}
}

int txn_exec(struct txn *t)
{
	struct store *s = t->s;
	if (t->failed || !s->c) {
		snprintf(s->err, sizeof(s->err), "cannot queue the transaction: %s",
			 s->c ? s->c->errstr : "no connection to Redis");
		store_close(s);
		return -EIO;
	}
	txn_cmd(t, "EXEC");
	int e = 0;
	for (int i = 0; i < t->n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r) {
			store_lost(s);
			return -EIO;
		}
		if (i == t->n - 1) {
			if (r->type != REDIS_REPLY_ARRAY) {
				if (!e) {
					snprintf(s->err, sizeof(s->err), "Redis refused the transaction: %s",
						 r->type == REDIS_REPLY_ERROR ? r->str : "EXEC aborted");
					e = -EPROTO;
				}
			} else {
				for (size_t j = 0; j < r->elements; j++)
					if (r->element[j]->type == REDIS_REPLY_ERROR && !e) {
						/* Redis does not roll back a failed command
						 * inside EXEC; the key schema never mixes
						 * types, so this means a damaged database. */
						snprintf(s->err, sizeof(s->err), "Redis error inside EXEC (command %zu): %s",
							 j + 1, r->element[j]->str);
						e = -EPROTO;
					}
			}
		} else if (r->type == REDIS_REPLY_ERROR && !e) {
			snprintf(s->err, sizeof(s->err), "Redis refused a queued command: %s", r->str);
			e = -EPROTO;
		}
		freeReplyObject(r);
	}
	return e;
}

void txn_discard(struct txn *t)
{
	if (!t->s->c || t->n == 0)
		return;
	txn_cmd(t, "DISCARD");
	for (int i = 0; i < t->n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(t->s->c, (void **)&r) != REDIS_OK || !r) {
			store_lost(t->s);
			return;
		}
		freeReplyObject(r);
	}
	t->n = 0;
}
