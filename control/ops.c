/* teishid's request handlers, one per command of the table (commands.c).
 * Each validates what the generic check cannot (existence, state, order
 * content), then either answers (reads) or queues its changes in r->txn
 * (changes).  The caller audits and commits.  The key schema is in
 * docs/redis-schema.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "authority.h"
#include "daemon.h"
#include "feed.h"
#include "number.h"
#include "proto.h"
#include "sync.h"

#define REDIS_FAIL(r) req_fail((r), PROTO_UNAVAILABLE, "%s", (r)->d->store.err[0] ? (r)->d->store.err : "Redis unavailable")

static struct store *S(struct req *r)
{
	return &r->d->store;
}

/* "0312345678" for +81 numbers, "+<digits>" otherwise. */
static void num_display(const char *digits, char *out, size_t len)
{
	if (strncmp(digits, "81", 2) == 0 && strlen(digits) > 5)
		snprintf(out, len, "0%s", digits + 2);
	else if (strncmp(digits, "81", 2) == 0)
		snprintf(out, len, "%s", digits + 2); /* service code */
	else
		snprintf(out, len, "+%s", digits);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical, sorted, unique digits of a JSON array of numbers.  Returns
 * the count, or -1 after req_fail.  Emergency numbers are refused when
 * no_emergency. */
static long parse_numbers(struct req *r, const json_t *arr, char (**out)[NUM_MAX_DIGITS + 1],
			  uint8_t **classes, int no_emergency)
{
	size_t n = json_array_size(arr);
	char (*d)[NUM_MAX_DIGITS + 1] = calloc(n ? n : 1, sizeof(*d));
	uint8_t *cls = calloc(n ? n : 1, 1);
	char **ptrs = calloc(n ? n : 1, sizeof(char *));
	if (!d || !cls || !ptrs) {
		free(d), free(cls), free(ptrs);
		req_fail(r, PROTO_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		struct num nm;
		char why[NUM_ERR_MAX] = "";
		if (num_parse(s, strlen(s), NULL, 0, &nm, why, sizeof(why))) {
			req_fail(r, PROTO_INVALID, "--number: %s", why);
			goto fail;
		}
		if (no_emergency && num_is_emergency(&nm)) {
			req_fail(r, PROTO_INVALID, "--number: \"%s\" is an emergency number (%s): emergency calls are never blocked",
				 s, nm.digits + 2);
			goto fail;
		}
		if (no_emergency && nm.cls == NUM_CLASS_SERVICE) {
			req_fail(r, PROTO_INVALID, "--number: \"%s\" is a service code (%s), not a subscriber number: "
				 "it cannot be suspended", s, nm.digits + 2);
			goto fail;
		}
		snprintf(d[i], sizeof(d[i]), "%s", nm.digits);
		cls[i] = nm.cls;
	}
	/* Sort with classes: sort pointers, then rebuild. */
	char (*sd)[NUM_MAX_DIGITS + 1] = calloc(n ? n : 1, sizeof(*sd));
	uint8_t *sc = calloc(n ? n : 1, 1);
	if (!sd || !sc) {
		free(sd), free(sc);
		req_fail(r, PROTO_INTERNAL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		ptrs[i] = d[i];
	qsort(ptrs, n, sizeof(char *), cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(sd[k - 1], ptrs[i]) == 0)
			continue;
		memcpy(sd[k], ptrs[i], sizeof(sd[k]));
		sc[k++] = cls[(size_t)(ptrs[i] - d[0]) / sizeof(d[0])];
	}
	free(d), free(cls), free(ptrs);
	*out = sd;
	*classes = sc;
	return (long)k;
fail:
	free(d), free(cls), free(ptrs);
	return -1;
}

/* How many complete numbers start with these canonical digits: the length
 * of a complete number is found by asking num_parse about the prefix padded
 * to each national length.  Returns the full canonical length, or -1. */
static int prefix_full_len(const char *digits)
{
	size_t pl = strlen(digits);
	if (strncmp(digits, "81", 2) != 0 || pl < 3)
		return -1;
	for (size_t nat = 10; nat <= 11; nat++) {
		char buf[16];
		size_t have = 1 + (pl - 2);
		if (have > nat)
			continue;
		buf[0] = '0';
		memcpy(buf + 1, digits + 2, pl - 2);
		for (size_t i = have; i < nat; i++)
			buf[i] = '1';
		struct num n;
		if (num_parse(buf, nat, NULL, 0, &n, NULL, 0) == 0 && n.len == nat + 1)
			return (int)(nat + 1);
	}
	return -1;
}

static long long pow10ll(int k)
{
	long long v = 1;
	while (k-- > 0)
		v *= 10;
	return v;
}

/* How many numbers a holding pattern covers: 1 for a number, 10^k for a
 * block k digits short of a complete number (as assign counted it). */
static long long pattern_count(const char *pat)
{
	size_t l = strlen(pat);
	if (!l || pat[l - 1] != '*')
		return 1;
	char d[NUM_MAX_DIGITS + 1];
	snprintf(d, sizeof(d), "%.*s", (int)(l - 1), pat);
	int full = prefix_full_len(d);
	return full < 0 ? 0 : pow10ll(full - (int)(l - 1));
}

static int contractor_exists(struct req *r, const char *id)
{
	redisReply *rep = store_cmd(S(r), "SISMEMBER " K_CONTRACTORS " %s", id);
	if (!rep) {
		REDIS_FAIL(r);
		return -1;
	}
	int yes = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	if (!yes)
		req_fail(r, PROTO_NOT_FOUND, "unknown contractor \"%s\" (see contractor list)", id);
	return yes;
}

/* The holding that covers digits (longest match: the number itself, then
 * ever shorter blocks).  Returns 1 with *out (a new JSON object with
 * "pattern" added), 0 when nobody holds it, -1 after req_fail. */
static int holder_of(struct req *r, const char *digits, json_t **out)
{
	const char *argv[2 + NUM_MAX_DIGITS + 1];
	char pats[NUM_MAX_DIGITS + 1][NUM_MAX_DIGITS + 2];
	size_t len = strlen(digits);
	int argc = 0;
	argv[argc++] = "HMGET";
	argv[argc++] = K_HOLDINGS;
	snprintf(pats[0], sizeof(pats[0]), "%s", digits);
	argv[argc++] = pats[0];
	for (size_t k = len - 1; k >= 1; k--) {
		snprintf(pats[len - k], sizeof(pats[0]), "%.*s*", (int)k, digits);
		argv[argc++] = pats[len - k];
	}
	*out = NULL;
	redisReply *rep = store_argv(S(r), argc, argv, NULL);
	if (!rep) {
		REDIS_FAIL(r);
		return -1;
	}
	int found = 0;
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		if (rep->element[i]->type != REDIS_REPLY_STRING)
			continue;
		json_error_t je;
		json_t *h = json_loads(rep->element[i]->str, 0, &je);
		if (h) {
			json_object_set_new(h, "pattern", json_string(argv[2 + i]));
			*out = h;
			found = 1;
		}
		break;
	}
	freeReplyObject(rep);
	return found;
}

/* "carrier > W1 > W2 > C" */
static void chain_text(const json_t *holding, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "carrier");
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(holding, "via"), i, w)
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, " > %s", json_string_value(w));
	snprintf(out + n, n < len ? len - n : 0, " > %s", json_string_value(json_object_get(holding, "c")));
}

/* Idempotency by order reference.  Returns 0 (new order), 1 (the same order
 * was entered before: 208 set), -1 (refused: other content, or Redis). */
static int order_check(struct req *r, const char *ref, json_t *content)
{
	redisReply *rep = store_cmd(S(r), "HMGET " K_ORDER "%s content type", ref);
	if (!rep) {
		REDIS_FAIL(r);
		return -1;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->element[0]->type != REDIS_REPLY_STRING) {
		freeReplyObject(rep);
		return 0;
	}
	json_error_t je;
	json_t *old = json_loads(rep->element[0]->str, 0, &je);
	char type[32];
	snprintf(type, sizeof(type), "%s", rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : "?");
	freeReplyObject(rep);
	/* --received defaults to today: a repeat without it means the same day
	 * as the first entry. */
	if (!json_object_get(r->args, "received") && json_object_get(old, "received"))
		json_object_set(content, "received", json_object_get(old, "received"));
	int same = old && json_equal(old, content);
	json_decref(old);
	if (same) {
		req_fail(r, PROTO_ALREADY, "order %s was already applied: nothing changed", ref);
		return 1;
	}
	req_fail(r, PROTO_CONFLICT, "order %s already exists (a %s order) with different content: refused; "
		 "a new order needs a new reference", ref, type);
	return -1;
}

static const char *received_of(struct req *r)
{
	const char *d = cmd_str(r->args, "received");
	return d ? d : r->today;
}

static int received_ok(struct req *r)
{
	const char *d = received_of(r);
	if (strcmp(d, r->today) > 0) {
		req_fail(r, PROTO_INVALID, "--received: %s is in the future (today is %s, Japan time)", d, r->today);
		return 0;
	}
	return 1;
}

static char *dumps(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* dumps() of a new reference, which it releases. */
static char *dumps_new(json_t *j)
{
	char *s = dumps(j);
	json_decref(j);
	return s;
}

/* Queue HSET of an order hash from a JSON object of string/integer fields. */
static void txn_order(struct req *r, const char *ref, json_t *fields, json_t *content)
{
	char *c = content ? dumps(content) : NULL;
	if (c)
		json_object_set_new(fields, "content", json_string(c));
	free(c);
	json_object_set_new(fields, "operator", json_string(r->principal));
	json_object_set_new(fields, "uid", json_integer(r->uid));
	json_object_set_new(fields, "at", json_string(r->stamp));
	size_t n = json_object_size(fields), i = 0;
	const char **argv = calloc(2 + 2 * n, sizeof(char *));
	char **owned = calloc(n, sizeof(char *));
	char key[128];
	snprintf(key, sizeof(key), K_ORDER "%s", ref);
	argv[0] = "HSET";
	argv[1] = key;
	const char *k;
	json_t *v;
	json_object_foreach(fields, k, v) {
		argv[2 + 2 * i] = k;
		if (json_is_string(v)) {
			argv[3 + 2 * i] = json_string_value(v);
		} else {
			owned[i] = json_is_integer(v) ? NULL : dumps(v);
			if (json_is_integer(v)) {
				owned[i] = malloc(32);
				snprintf(owned[i], 32, "%lld", (long long)json_integer_value(v));
			}
			argv[3 + 2 * i] = owned[i];
		}
		i++;
	}
	txn_argv(&r->txn, (int)(2 + 2 * n), argv, NULL);
	for (i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(argv);
	char why[80];
	long day = jdate_parse(json_string_value(json_object_get(fields, "received")), why, sizeof(why));
	if (day >= 0)
		txn_cmd(&r->txn, "ZADD " K_ORDERS " %ld %s", day, ref);
}

/* XADD the change stream in records of at most 1000 entries. */
static void txn_changes(struct req *r, const char *op, const char *order, const char *const *entries, size_t n)
{
	for (size_t i = 0; i < n; i += 1000) {
		size_t k = n - i < 1000 ? n - i : 1000, len = 0;
		for (size_t j = 0; j < k; j++)
			len += strlen(entries[i + j]) + 1;
		char *buf = malloc(len + 1), *p = buf;
		if (!buf) {
			r->txn.failed = 1;
			return;
		}
		for (size_t j = 0; j < k; j++)
			p += sprintf(p, "%s%s", j ? " " : "", entries[i + j]);
		txn_cmd(&r->txn, "XADD " K_CHANGES " * op %s order %s entries %s", op, order, buf);
		free(buf);
	}
}

static void op_status(struct req *r)
{
	redisReply *rep[9];
	const char *cmds[9] = {"SCARD " K_ENTRIES, "ZCARD " K_ORDERS, "SCARD " K_CONTRACTORS,
			       "HLEN " K_HOLDINGS, "LLEN " K_AUDIT, "XLEN " K_CHANGES, "SCARD " SYNC_DATAPLANES_KEY,
			       "XLEN " SYNC_EVENTS_KEY, "DBSIZE"};
	const char *names[9] = {"entries", "orders", "contractors", "holdings", "audit_records", "changes",
				"dataplanes", "blocked_call_events", "redis_keys"};
	req_table(r, "item", "value", NULL);
	for (int i = 0; i < 9; i++) {
		rep[i] = store_cmd(S(r), cmds[i]);
		if (!rep[i]) {
			REDIS_FAIL(r);
			return;
		}
		long long v = rep[i]->type == REDIS_REPLY_INTEGER ? rep[i]->integer : 0;
		freeReplyObject(rep[i]);
		json_object_set_new(r->data, names[i], json_integer(v));
		char b[32];
		snprintf(b, sizeof(b), "%lld", v);
		req_row(r, 2, names[i], b);
	}
	char addr[300];
	snprintf(addr, sizeof(addr), "%s:%d", S(r)->host, S(r)->port);
	json_object_set_new(r->data, "redis", json_string(addr));
	json_object_set_new(r->data, "protocol", json_integer(PROTO_VERSION));
	req_row(r, 2, "redis", addr);
	req_ok(r, "teishid up; protocol %d; you are %s", PROTO_VERSION, r->principal);
}

static void op_contractor_add(struct req *r)
{
	const char *id = cmd_str(r->args, "id");
	const char *name = cmd_str(r->args, "name");
	const char *note = cmd_str(r->args, "note");
	name = name ? name : id;
	note = note ? note : "";
	redisReply *rep = store_cmd(S(r), "HMGET " K_CONTRACTOR "%s name note", id);
	if (!rep) {
		REDIS_FAIL(r);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->element[0]->type == REDIS_REPLY_STRING) {
		int same = strcmp(rep->element[0]->str, name) == 0 &&
			   strcmp(rep->element[1]->type == REDIS_REPLY_STRING ? rep->element[1]->str : "", note) == 0;
		freeReplyObject(rep);
		if (same)
			req_fail(r, PROTO_ALREADY, "contractor %s already registered: nothing changed", id);
		else
			req_fail(r, PROTO_CONFLICT, "contractor %s already registered with another name or note", id);
		return;
	}
	freeReplyObject(rep);
	req_begin(r);
	txn_cmd(&r->txn, "SADD " K_CONTRACTORS " %s", id);
	txn_cmd(&r->txn, "HSET " K_CONTRACTOR "%s name %s note %s created %s by %s", id, name, note, r->today,
		r->principal);
	req_ok(r, "contractor %s registered", id);
}

static void op_contractor_show(struct req *r)
{
	const char *id = cmd_str(r->args, "id");
	if (contractor_exists(r, id) != 1)
		return;
	redisReply *h = store_cmd(S(r), "HGETALL " K_CONTRACTOR "%s", id);
	redisReply *m = h ? store_cmd(S(r), "SMEMBERS " K_CONTRACTOR "%s:holdings", id) : NULL;
	redisReply *f = m ? store_cmd(S(r), "SMEMBERS " K_REFUSALS "%s", id) : NULL;
	if (!f) {
		if (h)
			freeReplyObject(h);
		if (m)
			freeReplyObject(m);
		REDIS_FAIL(r);
		return;
	}
	json_t *info = json_object();
	for (size_t i = 0; i + 1 < h->elements; i += 2)
		json_object_set_new(info, h->element[i]->str, json_string(h->element[i + 1]->str));
	json_object_set_new(r->data, "contractor", info);
	json_object_set_new(r->data, "id", json_string(id));
	json_t *hold = json_array(), *ref = json_array();
	for (size_t i = 0; i < m->elements; i++)
		json_array_append_new(hold, json_string(m->element[i]->str));
	for (size_t i = 0; i < f->elements; i++)
		json_array_append_new(ref, json_string(f->element[i]->str));
	json_object_set_new(r->data, "holdings", hold);
	json_object_set_new(r->data, "refusals", ref);
	req_table(r, "field", "value", NULL);
	const char *k;
	json_t *v;
	json_object_foreach(info, k, v)
		req_row(r, 2, k, json_string_value(v));
	char b[32];
	snprintf(b, sizeof(b), "%zu", m->elements);
	req_row(r, 2, "holdings", b);
	for (size_t i = 0; i < f->elements; i++)
		req_row(r, 2, "refusal order", f->element[i]->str);
	req_ok(r, "contractor %s", id);
	freeReplyObject(h), freeReplyObject(m), freeReplyObject(f);
}

static void op_contractor_list(struct req *r)
{
	redisReply *m = store_cmd(S(r), "SORT " K_CONTRACTORS " ALPHA");
	if (!m) {
		REDIS_FAIL(r);
		return;
	}
	req_table(r, "id", "name", "holdings", NULL);
	json_t *arr = json_array();
	for (size_t i = 0; i < m->elements; i++) {
		const char *id = m->element[i]->str;
		redisReply *n = store_cmd(S(r), "HGET " K_CONTRACTOR "%s name", id);
		redisReply *c = n ? store_cmd(S(r), "SCARD " K_CONTRACTOR "%s:holdings", id) : NULL;
		if (!c) {
			if (n)
				freeReplyObject(n);
			freeReplyObject(m);
			REDIS_FAIL(r);
			return;
		}
		char b[32];
		snprintf(b, sizeof(b), "%lld", c->integer);
		const char *name = n->type == REDIS_REPLY_STRING ? n->str : "";
		req_row(r, 3, id, name, b);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "id", id, "name", name, "holdings",
						     (json_int_t)c->integer));
		freeReplyObject(n), freeReplyObject(c);
	}
	json_object_set_new(r->data, "contractors", arr);
	req_ok(r, "%zu contractors", m->elements);
	freeReplyObject(m);
}

/* The holding patterns named by --number/--range/--prefix, with the count
 * of numbers each covers.  Returns the count of patterns or -1. */
struct pattern_list {
	char (*p)[NUM_MAX_DIGITS + 2];
	long long *count;
	size_t n, cap;
};

static int plist_add(struct pattern_list *pl, const char *pat, long long count)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		void *np = realloc(pl->p, cap * sizeof(*pl->p));
		void *nc = np ? realloc(pl->count, cap * sizeof(*pl->count)) : NULL;
		if (!np || !nc) {
			if (np)
				pl->p = np;
			return -ENOMEM;
		}
		pl->p = np;
		pl->count = nc;
		pl->cap = cap;
	}
	snprintf(pl->p[pl->n], sizeof(pl->p[0]), "%s", pat);
	pl->count[pl->n++] = count;
	return 0;
}

static void plist_free(struct pattern_list *pl)
{
	free(pl->p);
	free(pl->count);
}

static int collect_patterns(struct req *r, struct pattern_list *pl)
{
	json_t *arr;
	size_t i;
	json_t *v;
	char why[NUM_ERR_MAX];
	memset(pl, 0, sizeof(*pl));
	json_array_foreach(json_object_get(r->args, "number"), i, v) {
		struct num n;
		const char *s = json_string_value(v);
		if (num_parse(s, strlen(s), NULL, 0, &n, why, sizeof(why))) {
			req_fail(r, PROTO_INVALID, "--number: %s", why);
			return -1;
		}
		if (plist_add(pl, n.digits, 1))
			goto oom;
	}
	arr = json_object_get(r->args, "range");
	json_array_foreach(arr, i, v) {
		struct num_pattern p;
		const char *s = json_string_value(v);
		if (num_pattern_parse(s, strlen(s), &p, why, sizeof(why)) || p.kind != NUM_PAT_RANGE) {
			req_fail(r, PROTO_INVALID, "--range: %s", why);
			return -1;
		}
		char out[NUM_RANGE_MAX_PREFIXES][NUM_MAX_DIGITS + 1];
		int k = num_range_to_prefixes(p.lo, p.hi, p.len, out, NUM_RANGE_MAX_PREFIXES);
		if (k < 0) {
			req_fail(r, PROTO_INVALID, "--range: \"%s\" cannot be split into blocks", s);
			return -1;
		}
		for (int j = 0; j < k; j++) {
			size_t l = strlen(out[j]);
			char pat[NUM_MAX_DIGITS + 2];
			snprintf(pat, sizeof(pat), "%s%s", out[j], l == p.len ? "" : "*");
			if (plist_add(pl, pat, pow10ll((int)(p.len - l))))
				goto oom;
		}
	}
	json_array_foreach(json_object_get(r->args, "prefix"), i, v) {
		struct num_pattern p;
		const char *s = json_string_value(v);
		if (num_pattern_parse(s, strlen(s), &p, why, sizeof(why)) || p.kind == NUM_PAT_RANGE) {
			req_fail(r, PROTO_INVALID, "--prefix: %s", why[0] ? why : "a prefix, not a range");
			return -1;
		}
		int full = prefix_full_len(p.lo);
		if (full < 0 || (int)p.len > full) {
			req_fail(r, PROTO_INVALID, "--prefix: \"%s\" (%s) starts no valid Japanese number", s, p.lo);
			return -1;
		}
		char pat[NUM_MAX_DIGITS + 2];
		snprintf(pat, sizeof(pat), "%s%s", p.lo, (int)p.len == full ? "" : "*");
		if (plist_add(pl, pat, pow10ll(full - (int)p.len)))
			goto oom;
	}
	if (pl->n == 0) {
		req_fail(r, PROTO_INVALID, "%s: give at least one --number, --range or --prefix", r->def->name);
		return -1;
	}
	return 0;
oom:
	req_fail(r, PROTO_INTERNAL, "out of memory");
	return -1;
}

/* HMGET the holdings of many patterns, pipelined in chunks: vals[i] gets
 * the JSON text or NULL (malloc'd).  Returns 0 or -1 after req_fail. */
static int holdings_get(struct req *r, char (*pats)[NUM_MAX_DIGITS + 2], size_t n, char **vals)
{
	const char *argv[2 + 1000];
	for (size_t i = 0; i < n; i += 1000) {
		size_t k = n - i < 1000 ? n - i : 1000;
		argv[0] = "HMGET";
		argv[1] = K_HOLDINGS;
		for (size_t j = 0; j < k; j++)
			argv[2 + j] = pats[i + j];
		redisReply *rep = store_argv(S(r), (int)(2 + k), argv, NULL);
		if (!rep) {
			REDIS_FAIL(r);
			return -1;
		}
		for (size_t j = 0; j < k && j < rep->elements; j++)
			vals[i + j] = rep->element[j]->type == REDIS_REPLY_STRING ? strdup(rep->element[j]->str) : NULL;
		freeReplyObject(rep);
	}
	return 0;
}

static void op_assign(struct req *r)
{
	const char *c = cmd_str(r->args, "contractor");
	const char *via = cmd_str(r->args, "via");
	const char *since = cmd_str(r->args, "since");
	since = since ? since : r->today;
	if (contractor_exists(r, c) != 1)
		return;
	json_t *chain = json_array();
	if (via) {
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", via);
		char *save = NULL;
		for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
			if (strcmp(w, c) == 0) {
				req_fail(r, PROTO_INVALID, "--via: %s is the contractor itself, not a reseller", w);
				json_decref(chain);
				return;
			}
			if (contractor_exists(r, w) != 1) {
				json_decref(chain);
				return;
			}
			json_array_append_new(chain, json_string(w));
		}
	}
	struct pattern_list pl;
	if (collect_patterns(r, &pl)) {
		plist_free(&pl);
		json_decref(chain);
		return;
	}
	char **old = calloc(pl.n, sizeof(char *));
	char **vals = calloc(pl.n, sizeof(char *));
	const char **pats = calloc(pl.n, sizeof(char *));
	const char **newp = calloc(pl.n, sizeof(char *));
	size_t nnew = 0, same = 0;
	long long numbers = 0;
	if (!old || !vals || !pats || !newp || holdings_get(r, pl.p, pl.n, old))
		goto out;
	for (size_t i = 0; i < pl.n; i++) {
		json_t *h = json_pack("{s:s,s:O,s:s,s:I}", "c", c, "via", chain, "since", since, "count",
				      (json_int_t)pl.count[i]);
		if (old[i]) {
			json_error_t je;
			json_t *o = json_loads(old[i], 0, &je);
			const char *oc = json_string_value(json_object_get(o, "c"));
			int ok = oc && strcmp(oc, c) == 0 && json_equal(json_object_get(o, "via"), chain);
			if (!ok) {
				char disp[32];
				num_display(pl.p[i], disp, sizeof(disp));
				req_fail(r, PROTO_CONFLICT, "%s is already held by %s%s; release it first", disp,
					 oc ? oc : "?", oc && strcmp(oc, c) == 0 ? " through another chain" : "");
				json_decref(o);
				json_decref(h);
				goto out;
			}
			json_decref(o);
			json_decref(h);
			same++;
			continue;
		}
		vals[nnew] = dumps(h);
		json_decref(h);
		newp[nnew] = pl.p[i];
		numbers += pl.count[i];
		nnew++;
	}
	if (nnew == 0) {
		req_fail(r, PROTO_ALREADY, "all %zu holdings already recorded for %s: nothing changed", same, c);
		goto out;
	}
	char key[128];
	snprintf(key, sizeof(key), K_CONTRACTOR "%s:holdings", c);
	req_begin(r);
	txn_pairs(&r->txn, "HSET", K_HOLDINGS, newp, (const char *const *)vals, nnew);
	txn_variadic(&r->txn, "SADD", key, newp, nnew);
	json_object_set_new(r->data, "holdings", json_integer((json_int_t)nnew));
	json_object_set_new(r->data, "numbers", json_integer(numbers));
	req_ok(r, "%s now holds %zu more holdings (%lld numbers)%s", c, nnew, numbers,
	       same ? "; some were already recorded" : "");
out:
	for (size_t i = 0; i < pl.n; i++) {
		if (old)
			free(old[i]);
		if (vals)
			free(vals[i]);
	}
	free(old), free(vals), free(pats), free(newp);
	plist_free(&pl);
	json_decref(chain);
}

static void op_release(struct req *r)
{
	struct pattern_list pl;
	if (collect_patterns(r, &pl)) {
		plist_free(&pl);
		return;
	}
	char **old = calloc(pl.n, sizeof(char *));
	if (!old || holdings_get(r, pl.p, pl.n, old))
		goto out;
	req_begin(r);
	for (size_t i = 0; i < pl.n; i++) {
		if (!old[i]) {
			char disp[32];
			num_display(pl.p[i], disp, sizeof(disp));
			txn_discard(&r->txn);
			r->txn_open = 0;
			req_fail(r, PROTO_NOT_FOUND, "%s%s is not a recorded holding", disp,
				 strchr(pl.p[i], '*') ? " (block)" : "");
			goto out;
		}
		json_error_t je;
		json_t *o = json_loads(old[i], 0, &je);
		txn_cmd(&r->txn, "HDEL " K_HOLDINGS " %s", pl.p[i]);
		txn_cmd(&r->txn, "SREM " K_CONTRACTOR "%s:holdings %s", json_string_value(json_object_get(o, "c")),
			pl.p[i]);
		json_decref(o);
	}
	req_ok(r, "released %zu holdings", pl.n);
out:
	for (size_t i = 0; old && i < pl.n; i++)
		free(old[i]);
	free(old);
	plist_free(&pl);
}

static void op_suspend(struct req *r)
{
	const char *ref = cmd_str(r->args, "order");
	const char *auth = cmd_str(r->args, "authority");
	if (!received_ok(r))
		return;
	char (*nums)[NUM_MAX_DIGITS + 1] = NULL;
	uint8_t *cls = NULL;
	long n = parse_numbers(r, json_object_get(r->args, "number"), &nums, &cls, 1);
	if (n < 0)
		return;
	json_t *numarr = json_array();
	for (long i = 0; i < n; i++)
		json_array_append_new(numarr, json_string(nums[i]));
	json_t *content = json_pack("{s:s,s:s,s:o,s:s}", "type", "suspend", "authority", auth, "numbers", numarr,
				    "received", received_of(r));
	json_t *detail = json_array();
	const char **newe = calloc(n ? n : 1, sizeof(char *));
	const char **metas = calloc(n ? n : 1, sizeof(char *));
	size_t nnew = 0;
	long nfixed = 0, n050 = 0;
	if (order_check(r, ref, content) != 0)
		goto out;
	char *meta = dumps_new(json_pack("{s:s,s:s,s:s}", "order", ref, "since", received_of(r), "at", r->stamp));
	for (long i = 0; i < n; i++) {
		json_t *h = NULL;
		char disp[32];
		num_display(nums[i], disp, sizeof(disp));
		if (holder_of(r, nums[i], &h) < 0) {
			free(meta);
			goto out;
		}
		if (!h)
			req_warn(r, "%s is not held by this carrier (no holding records it); suspended anyway", disp);
		json_array_append_new(detail, json_pack("{s:s,s:s,s:o}", "number", nums[i], "class",
							num_class_name(cls[i]), "holding", h ? h : json_null()));
		nfixed += cls[i] == NUM_CLASS_FIXED;
		n050 += cls[i] == NUM_CLASS_IP050;
		redisReply *e = store_cmd(S(r), "HGET " K_ENTRY_META " %s", nums[i]);
		if (!e) {
			free(meta);
			REDIS_FAIL(r);
			goto out;
		}
		if (e->type == REDIS_REPLY_STRING) {
			json_error_t je;
			json_t *m = json_loads(e->str, 0, &je);
			req_warn(r, "%s was already suspended by order %s; that entry stays", disp,
				 json_string_value(json_object_get(m, "order")));
			json_decref(m);
		} else {
			newe[nnew] = nums[i];
			metas[nnew++] = meta;
		}
		freeReplyObject(e);
	}
	req_begin(r);
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:O,s:i,s:i,s:i}", "type", "suspend", "authority", auth,
			      "received", received_of(r), "state", "applied", "detail", detail,
			      "n_fixed", (int)nfixed, "n_ip050", (int)n050, "n_numbers", (int)n);
	txn_order(r, ref, f, content);
	json_decref(f);
	txn_variadic(&r->txn, "SADD", K_ENTRIES, newe, nnew);
	txn_pairs(&r->txn, "HSET", K_ENTRY_META, newe, metas, nnew);
	txn_changes(r, "add", ref, newe, nnew);
	free(meta);
	json_object_set_new(r->data, "order", json_string(ref));
	json_object_set_new(r->data, "suspended", json_integer(n));
	json_object_set(r->data, "detail", detail);
	req_ok(r, "order %s (%s, received %s): %ld numbers suspended", ref, auth, received_of(r), n);
out:
	json_decref(content);
	json_decref(detail);
	free(newe), free(metas), free(nums), free(cls);
}

static void op_lift(struct req *r)
{
	const char *ref = cmd_str(r->args, "order");
	const char *auth = cmd_str(r->args, "authority");
	const char *reason = cmd_str(r->args, "reason");
	auth = auth ? auth : "npa";
	if (!received_ok(r))
		return;
	char (*nums)[NUM_MAX_DIGITS + 1] = NULL;
	uint8_t *cls = NULL;
	long n = parse_numbers(r, json_object_get(r->args, "number"), &nums, &cls, 0);
	if (n < 0)
		return;
	json_t *numarr = json_array();
	for (long i = 0; i < n; i++)
		json_array_append_new(numarr, json_string(nums[i]));
	json_t *content = json_pack("{s:s,s:s,s:o,s:s,s:s}", "type", "lift", "authority", auth, "numbers", numarr,
				    "reason", reason, "received", received_of(r));
	json_t *detail = json_array();
	const char **ents = calloc(n ? n : 1, sizeof(char *));
	if (order_check(r, ref, content) != 0)
		goto out;
	for (long i = 0; i < n; i++) {
		char disp[32];
		num_display(nums[i], disp, sizeof(disp));
		redisReply *e = store_cmd(S(r), "HGET " K_ENTRY_META " %s", nums[i]);
		if (!e) {
			REDIS_FAIL(r);
			goto out;
		}
		if (e->type != REDIS_REPLY_STRING) {
			freeReplyObject(e);
			req_fail(r, PROTO_NOT_FOUND, "%s is not suspended (no entry for it): order %s refused", disp, ref);
			goto out;
		}
		json_error_t je;
		json_t *m = json_loads(e->str, 0, &je);
		freeReplyObject(e);
		json_array_append_new(detail, json_pack("{s:s,s:O}", "number", nums[i], "lifted_order",
							json_object_get(m, "order") ? json_object_get(m, "order") : json_null()));
		json_decref(m);
		ents[i] = nums[i];
	}
	req_begin(r);
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:i}", "type", "lift", "authority", auth, "received",
			      received_of(r), "state", "applied", "reason", reason, "detail", detail, "n_numbers", (int)n);
	txn_order(r, ref, f, content);
	json_decref(f);
	txn_variadic(&r->txn, "SREM", K_ENTRIES, ents, (size_t)n);
	txn_variadic(&r->txn, "HDEL", K_ENTRY_META, ents, (size_t)n);
	txn_changes(r, "del", ref, ents, (size_t)n);
	json_object_set(r->data, "detail", detail);
	req_ok(r, "order %s: %ld suspensions lifted (%s)", ref, n, reason);
out:
	json_decref(content);
	json_decref(detail);
	free(ents), free(nums), free(cls);
}

static void op_refuse(struct req *r)
{
	const char *ref = cmd_str(r->args, "order");
	const char *c = cmd_str(r->args, "contractor");
	const char *until = cmd_str(r->args, "until");
	if (!received_ok(r))
		return;
	if (strcmp(until, received_of(r)) < 0) {
		req_fail(r, PROTO_INVALID, "--until: %s is before the received date %s", until, received_of(r));
		return;
	}
	if (contractor_exists(r, c) != 1)
		return;
	json_t *content = json_pack("{s:s,s:s,s:s,s:s}", "type", "refuse", "contractor", c, "until", until,
				    "received", received_of(r));
	if (order_check(r, ref, content) == 0) {
		req_begin(r);
		json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "refuse", "authority", "npa", "received",
				      received_of(r), "state", "applied", "contractor", c, "until", until);
		txn_order(r, ref, f, content);
		json_decref(f);
		txn_cmd(&r->txn, "SADD " K_REFUSALS "%s %s", c, ref);
		req_ok(r, "order %s: no new numbers for %s until %s (inclusive)", ref, c, until);
	}
	json_decref(content);
}

static void op_provision_check(struct req *r)
{
	const char *c = cmd_str(r->args, "contractor");
	const char *on = cmd_str(r->args, "on");
	on = on ? on : r->today;
	if (contractor_exists(r, c) != 1)
		return;
	redisReply *m = store_cmd(S(r), "SMEMBERS " K_REFUSALS "%s", c);
	if (!m) {
		REDIS_FAIL(r);
		return;
	}
	char best_ref[80] = "", best_until[16] = "";
	for (size_t i = 0; i < m->elements; i++) {
		redisReply *u = store_cmd(S(r), "HGET " K_ORDER "%s until", m->element[i]->str);
		if (!u) {
			freeReplyObject(m);
			REDIS_FAIL(r);
			return;
		}
		/* In force through its last day; the latest expiry wins. */
		if (u->type == REDIS_REPLY_STRING && strcmp(u->str, on) >= 0 && strcmp(u->str, best_until) > 0) {
			snprintf(best_until, sizeof(best_until), "%s", u->str);
			snprintf(best_ref, sizeof(best_ref), "%s", m->element[i]->str);
		}
		freeReplyObject(u);
	}
	freeReplyObject(m);
	json_object_set_new(r->data, "contractor", json_string(c));
	json_object_set_new(r->data, "on", json_string(on));
	json_object_set_new(r->data, "ok", json_boolean(!best_ref[0]));
	if (best_ref[0]) {
		json_object_set_new(r->data, "order", json_string(best_ref));
		json_object_set_new(r->data, "until", json_string(best_until));
		req_ok(r, "refused: order %s refuses new numbers to %s until %s", best_ref, c, best_until);
	} else {
		req_ok(r, "allowed: no refusal in force for %s on %s", c, on);
	}
}

static void op_bulk_suspend(struct req *r)
{
	const char *ref = cmd_str(r->args, "order");
	const char *c = cmd_str(r->args, "contractor");
	if (!received_ok(r) || contractor_exists(r, c) != 1)
		return;
	json_t *content = json_pack("{s:s,s:s,s:s}", "type", "bulk", "contractor", c, "received", received_of(r));
	if (order_check(r, ref, content) == 0) {
		req_begin(r);
		json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "bulk", "authority", "npa", "received",
				      received_of(r), "state", "pending", "contractor", c);
		txn_order(r, ref, f, content);
		json_decref(f);
		json_object_set_new(r->data, "state", json_string("pending"));
		req_ok(r, "order %s pending: every number %s holds is suspended once a different supervisor runs "
			  "\"approve %s\"", ref, c, ref);
	}
	json_decref(content);
}

static void op_approve(struct req *r)
{
	const char *ref = cmd_str(r->args, "order");
	redisReply *o = store_cmd(S(r), "HMGET " K_ORDER "%s type state uid operator contractor approved_by", ref);
	if (!o) {
		REDIS_FAIL(r);
		return;
	}
#define OF(i) (o->element[i]->type == REDIS_REPLY_STRING ? o->element[i]->str : "")
	char c[80];
	if (!OF(0)[0]) {
		req_fail(r, PROTO_NOT_FOUND, "no order %s", ref);
	} else if (strcmp(OF(0), "bulk") != 0) {
		req_fail(r, PROTO_CONFLICT, "order %s is a %s order; only bulk-suspend orders need approval", ref, OF(0));
	} else if (strcmp(OF(1), "applied") == 0) {
		req_fail(r, PROTO_ALREADY, "order %s was already approved by %s and applied: nothing changed", ref,
			 OF(5));
	} else if (OF(2)[0] && (uid_t)strtoul(OF(2), NULL, 10) == r->uid) {
		req_fail(r, PROTO_CONFLICT, "four eyes: order %s was entered by %s; a different supervisor must approve it",
			 ref, OF(3));
	} else {
		snprintf(c, sizeof(c), "%s", OF(4));
		freeReplyObject(o);
		o = NULL;
		goto apply;
	}
	freeReplyObject(o);
	return;
#undef OF
apply:;
	/* One read of the holdings and one of those already suspended (few,
	 * usually): no per-number round trip.  teishid is Redis's only writer
	 * and serves one request at a time, so nothing changes between these
	 * reads and EXEC. */
	char hkey[128];
	snprintf(hkey, sizeof(hkey), K_CONTRACTOR "%s:holdings", c);
	redisReply *m = store_cmd(S(r), "SMEMBERS %s", hkey);
	redisReply *present = m ? store_cmd(S(r), "SINTER %s " K_ENTRIES, hkey) : NULL;
	redisReply *rv = present ? store_cmd(S(r), "HGET " K_ORDER "%s received", ref) : NULL;
	if (!rv) {
		if (m)
			freeReplyObject(m);
		if (present)
			freeReplyObject(present);
		REDIS_FAIL(r);
		return;
	}
	size_t n = m->elements, np = present->elements;
	const char **newe = calloc(n ? n : 1, sizeof(char *));
	const char **metas = calloc(n ? n : 1, sizeof(char *));
	const char **have = calloc(np ? np : 1, sizeof(char *));
	char *meta = NULL;
	long long numbers = 0;
	size_t nnew = 0;
	if (!newe || !metas || !have) {
		req_fail(r, PROTO_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < np; i++)
		have[i] = present->element[i]->str;
	qsort(have, np, sizeof(char *), cmp_str);
	/* Entries already in the set keep their order; only new ones are
	 * added and published. */
	for (size_t i = 0; i < n; i++) {
		const char *p = m->element[i]->str;
		numbers += pattern_count(p);
		if (!np || !bsearch(&p, have, np, sizeof(char *), cmp_str))
			newe[nnew++] = p;
	}
	/* Bulk entries carry no "at": it is the order's approved_at. */
	meta = dumps_new(json_pack("{s:s,s:s}", "order", ref, "since",
				   rv->type == REDIS_REPLY_STRING ? rv->str : r->today));
	for (size_t i = 0; i < nnew; i++)
		metas[i] = meta;
	req_begin(r);
	char suid[24], snum[24], sent[24];
	snprintf(suid, sizeof(suid), "%u", (unsigned)r->uid);
	snprintf(snum, sizeof(snum), "%lld", numbers);
	snprintf(sent, sizeof(sent), "%zu", n);
	txn_cmd(&r->txn, "HSET " K_ORDER "%s state applied approved_by %s approved_uid %s approved_at %s "
		"n_numbers %s n_entries %s", ref, r->principal, suid, r->stamp, snum, sent);
	/* The order's snapshot of the holdings is copied inside Redis. */
	txn_cmd(&r->txn, "SUNIONSTORE " K_ORDER "%s:entries %s", ref, hkey);
	txn_variadic(&r->txn, "SADD", K_ENTRIES, newe, nnew);
	txn_pairs(&r->txn, "HSET", K_ENTRY_META, newe, metas, nnew);
	txn_changes(r, "add", ref, newe, nnew);
	json_object_set_new(r->data, "numbers", json_integer(numbers));
	json_object_set_new(r->data, "entries", json_integer((json_int_t)n));
	req_ok(r, "order %s approved: %lld numbers of %s suspended (%zu entries, %zu new)", ref, numbers, c, n, nnew);
out:
	free(newe), free(metas), free(have), free(meta);
	freeReplyObject(m), freeReplyObject(present), freeReplyObject(rv);
}

static void op_lookup(struct req *r)
{
	const char *s = cmd_str(r->args, "number");
	struct num nm;
	char why[NUM_ERR_MAX] = "";
	if (num_parse(s, strlen(s), NULL, 0, &nm, why, sizeof(why))) {
		req_fail(r, PROTO_INVALID, "%s", why);
		return;
	}
	char disp[32];
	num_display(nm.digits, disp, sizeof(disp));
	const char *argv[2 + NUM_MAX_DIGITS];
	char pats[NUM_MAX_DIGITS + 1][NUM_MAX_DIGITS + 2];
	int argc = 0;
	argv[argc++] = "HMGET";
	argv[argc++] = K_ENTRY_META;
	snprintf(pats[0], sizeof(pats[0]), "%s", nm.digits);
	argv[argc++] = pats[0];
	for (size_t k = nm.len - 1; k >= 1; k--) {
		snprintf(pats[nm.len - k], sizeof(pats[0]), "%.*s*", (int)k, nm.digits);
		argv[argc++] = pats[nm.len - k];
	}
	redisReply *rep = store_argv(S(r), argc, argv, NULL);
	if (!rep) {
		REDIS_FAIL(r);
		return;
	}
	json_t *entry = NULL;
	const char *ename = NULL;
	for (size_t i = 0; i < rep->elements; i++)
		if (rep->element[i]->type == REDIS_REPLY_STRING) {
			json_error_t je;
			entry = json_loads(rep->element[i]->str, 0, &je);
			ename = argv[2 + i];
			break;
		}
	json_t *h = NULL;
	int hr = holder_of(r, nm.digits, &h);
	json_object_set_new(r->data, "number", json_string(nm.digits));
	json_object_set_new(r->data, "class", json_string(num_class_name(nm.cls)));
	json_object_set_new(r->data, "suspended", json_boolean(entry != NULL));
	char held[512] = "held by nobody here";
	if (hr > 0) {
		char ch[400];
		chain_text(h, ch, sizeof(ch));
		snprintf(held, sizeof(held), "held by %s (%s, since %s)", json_string_value(json_object_get(h, "c")), ch,
			 json_string_value(json_object_get(h, "since")));
		json_object_set(r->data, "holding", h);
	}
	if (entry) {
		json_object_set_new(r->data, "entry", json_string(ename));
		json_object_set(r->data, "order", json_object_get(entry, "order"));
		json_object_set(r->data, "since", json_object_get(entry, "since"));
		req_ok(r, "%s suspended by entry %s (order %s, since %s); %s", disp, ename,
		       json_string_value(json_object_get(entry, "order")),
		       json_string_value(json_object_get(entry, "since")), held);
	} else if (hr >= 0) {
		req_ok(r, "%s not suspended; %s", disp, held);
	}
	json_decref(entry);
	json_decref(h);
	freeReplyObject(rep);
}

static void op_list(struct req *r)
{
	const char *kind = cmd_str(r->args, "kind");
	const char *order = cmd_str(r->args, "order");
	const char *format = cmd_str(r->args, "format");
	int listfile = format && strcmp(format, "listfile") == 0;
	long limit = cmd_uint(r->args, "limit", listfile ? -1 : 1000);
	kind = kind ? kind : "all";
	/* The stream id first: teishid is the only writer and serves one
	 * request at a time, so the set read next is the state at that id. */
	redisReply *x = store_cmd(S(r), "XREVRANGE " K_CHANGES " + - COUNT 1");
	redisReply *m = x ? store_cmd(S(r), "SORT " K_ENTRIES " ALPHA") : NULL;
	if (!m) {
		if (x)
			freeReplyObject(x);
		REDIS_FAIL(r);
		return;
	}
	char stream_id[64] = "0-0";
	if (x->type == REDIS_REPLY_ARRAY && x->elements == 1 && x->element[0]->type == REDIS_REPLY_ARRAY &&
	    x->element[0]->elements >= 1 && x->element[0]->element[0]->type == REDIS_REPLY_STRING)
		snprintf(stream_id, sizeof(stream_id), "%s", x->element[0]->element[0]->str);
	freeReplyObject(x);
	size_t cap = listfile ? 1024 + m->elements * 20 : 0, len = 0;
	char *text = listfile ? malloc(cap) : NULL;
	if (listfile && !text) {
		freeReplyObject(m);
		req_fail(r, PROTO_INTERNAL, "out of memory");
		return;
	}
	if (!listfile)
		req_table(r, "entry", "kind", "order", "since", NULL);
	json_t *arr = json_array();
	long shown = 0;
	/* A list file needs the entries' meta only to filter by order. */
	int need_meta = !listfile || order, oom = 0;
	for (size_t i = 0; i < m->elements && (limit < 0 || shown < limit); i += 1000) {
		size_t k = m->elements - i < 1000 ? m->elements - i : 1000;
		const char *argv[2 + 1000];
		argv[0] = "HMGET";
		argv[1] = K_ENTRY_META;
		for (size_t j = 0; j < k; j++)
			argv[2 + j] = m->element[i + j]->str;
		redisReply *rep = need_meta ? store_argv(S(r), (int)(2 + k), argv, NULL) : NULL;
		if (need_meta && !rep) {
			freeReplyObject(m);
			free(text);
			json_decref(arr);
			REDIS_FAIL(r);
			return;
		}
		for (size_t j = 0; j < k && (limit < 0 || shown < limit); j++) {
			const char *e = argv[2 + j];
			int block = strchr(e, '*') != NULL;
			if ((strcmp(kind, "number") == 0 && block) || (strcmp(kind, "block") == 0 && !block))
				continue;
			json_error_t je;
			json_t *meta = rep && rep->element[j]->type == REDIS_REPLY_STRING
					       ? json_loads(rep->element[j]->str, 0, &je) : NULL;
			const char *eo = json_string_value(json_object_get(meta, "order"));
			const char *since = json_string_value(json_object_get(meta, "since"));
			if (order && (!eo || strcmp(order, eo) != 0)) {
				json_decref(meta);
				continue;
			}
			if (listfile) {
				if (len + strlen(e) + 3 > cap) {
					char *nt = realloc(text, cap = cap * 2 + strlen(e) + 3);
					if (!nt) {
						json_decref(meta);
						oom = 1;
						limit = shown; /* stop */
						break;
					}
					text = nt;
				}
				len += (size_t)snprintf(text + len, cap - len, "+%s\n", e);
			} else {
				req_row(r, 4, e, block ? "block" : "number", eo ? eo : "", since ? since : "");
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "entry", e, "order", eo ? eo : "",
								     "since", since ? since : ""));
			}
			json_decref(meta);
			shown++;
		}
		if (rep)
			freeReplyObject(rep);
	}
	json_object_set_new(r->data, "stream_id", json_string(stream_id));
	if (oom) {
		free(text);
		json_decref(arr);
		freeReplyObject(m);
		req_fail(r, PROTO_INTERNAL, "out of memory building the list file");
		return;
	}
	if (listfile) {
		/* The header goes in front once the count is known. */
		char hdr[512];
		int hl = snprintf(hdr, sizeof(hdr),
				  "# teishi suspension list: %ld entries (kind %s%s%s) of %zu in teishi:entries\n"
				  "# reflects change stream teishi:changes up to id %s\n"
				  "# exported %s by teishid; one +E.164 number or +prefix* per line\n",
				  shown, kind, order ? ", order " : "", order ? order : "", m->elements, stream_id, r->stamp);
		char *full = malloc((size_t)hl + len + 1);
		if (!full) {
			free(text);
			json_decref(arr);
			freeReplyObject(m);
			req_fail(r, PROTO_INTERNAL, "out of memory");
			return;
		}
		memcpy(full, hdr, (size_t)hl);
		memcpy(full + hl, text, len);
		full[hl + len] = '\0';
		json_object_set_new(r->data, "listfile", json_string(full));
		free(full);
		json_decref(arr);
	} else {
		json_object_set_new(r->data, "entries", arr);
	}
	free(text);
	req_ok(r, "%ld entries shown (%zu in the set; change stream at %s)", shown, m->elements, stream_id);
	freeReplyObject(m);
}

/* All orders received in [from, to] (day numbers), as objects of the named
 * hash fields plus "ref", pipelined.  NULL after req_fail. */
static json_t *orders_fetch(struct req *r, long from, long to, const char *const *fields, int nf)
{
	redisReply *m = store_cmd(S(r), "ZRANGEBYSCORE " K_ORDERS " %ld %ld", from, to);
	if (!m) {
		REDIS_FAIL(r);
		return NULL;
	}
	json_t *out = json_array();
	redisContext *c = S(r)->c;
	for (size_t i = 0; i < m->elements; i++) {
		const char *argv[2 + 16];
		char key[128];
		snprintf(key, sizeof(key), K_ORDER "%s", m->element[i]->str);
		argv[0] = "HMGET";
		argv[1] = key;
		for (int j = 0; j < nf; j++)
			argv[2 + j] = fields[j];
		redisAppendCommandArgv(c, 2 + nf, argv, NULL);
	}
	for (size_t i = 0; i < m->elements; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			snprintf(S(r)->err, sizeof(S(r)->err), "Redis: %s", c->errstr);
			store_close(S(r));
			REDIS_FAIL(r);
			json_decref(out);
			freeReplyObject(m);
			return NULL;
		}
		json_t *o = json_object();
		json_object_set_new(o, "ref", json_string(m->element[i]->str));
		for (int j = 0; j < nf && (size_t)j < rep->elements; j++)
			if (rep->element[j]->type == REDIS_REPLY_STRING)
				json_object_set_new(o, fields[j], json_string(rep->element[j]->str));
		json_array_append_new(out, o);
		freeReplyObject(rep);
	}
	freeReplyObject(m);
	return out;
}

static long since_day(struct req *r)
{
	const char *s = cmd_str(r->args, "since");
	char e[64];
	return s ? jdate_parse(s, e, sizeof(e)) : 0;
}

/* "0661231234" for a number, "066123*" for a block. */
static void entry_display(const char *e, char *out, size_t len)
{
	size_t l = strlen(e);
	if (l && e[l - 1] == '*') {
		char d[NUM_MAX_DIGITS + 2];
		snprintf(d, sizeof(d), "%.*s", (int)(l - 1), e);
		char disp[32];
		if (strncmp(d, "81", 2) == 0)
			snprintf(disp, sizeof(disp), "0%s", d + 2);
		else
			snprintf(disp, sizeof(disp), "+%s", d);
		snprintf(out, len, "%s*", disp);
	} else {
		num_display(e, out, len);
	}
}

/* One row of report npa: a suspension of one entry by one order, with its
 * lift when one was entered (lifts: "order\tentry" -> lift). */
static void npa_row(struct req *r, json_t *arr, json_t *lifts, const char *entry, const char *ref, const char *auth,
		    const char *recv, const json_t *holding, const char *fallback_c)
{
	char disp[40], e164[40], ch[400] = "", key[256];
	int block = strchr(entry, '*') != NULL;
	entry_display(entry, disp, sizeof(disp));
	snprintf(e164, sizeof(e164), "+%s", entry);
	const char *c = fallback_c;
	if (json_is_object(holding)) {
		chain_text(holding, ch, sizeof(ch));
		c = json_string_value(json_object_get(holding, "c"));
	} else if (fallback_c) {
		snprintf(ch, sizeof(ch), "(holding released since)");
	}
	snprintf(key, sizeof(key), "%s\t%s", ref, entry);
	json_t *l = json_object_get(lifts, key);
	const char *lo = json_string_value(json_object_get(l, "order")) ?: "";
	const char *ld = json_string_value(json_object_get(l, "received")) ?: "";
	const char *lr = json_string_value(json_object_get(l, "reason")) ?: "";
	req_row(r, 11, disp, e164, block ? "block" : "number", ref, auth, recv, c ? c : "(not held)", ch, lo, ld, lr);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "entry", entry, "number", disp, "kind",
			      block ? "block" : "number", "order", ref, "authority", auth ? auth : "", "received",
			      recv ? recv : "", "contractor", c ? c : "", "chain", ch);
	json_object_set_new(o, "via", json_is_object(holding) ? json_deep_copy(json_object_get(holding, "via")) : json_array());
	json_object_set_new(o, "lift", l ? json_deep_copy(l) : json_null());
	json_array_append_new(arr, o);
}

static void op_report_npa(struct req *r)
{
	const char *fields[] = {"type", "authority", "received", "detail", "state", "contractor", "reason"};
	long since = since_day(r);
	/* Every order: a lift entered after --since may lift a suspension
	 * listed, and a lift carries the order of what it lifted. */
	json_t *orders = orders_fetch(r, 0, 1000000, fields, 7);
	if (!orders)
		return;
	json_t *lifts = json_object(), *arr = json_array();
	size_t i, j;
	json_t *o, *d;
	json_array_foreach(orders, i, o) {
		if (strcmp(json_string_value(json_object_get(o, "type")) ?: "", "lift") != 0)
			continue;
		json_error_t je;
		json_t *detail = json_loads(json_string_value(json_object_get(o, "detail")) ?: "[]", 0, &je);
		json_array_foreach(detail, j, d) {
			const char *lifted = json_string_value(json_object_get(d, "lifted_order"));
			char key[256];
			if (!lifted)
				continue;
			snprintf(key, sizeof(key), "%s\t%s", lifted, json_string_value(json_object_get(d, "number")));
			json_object_set_new(lifts, key, json_pack("{s:O,s:O,s:O}", "order", json_object_get(o, "ref"),
								  "received", json_object_get(o, "received"), "reason",
								  json_object_get(o, "reason") ?: json_null()));
		}
		json_decref(detail);
	}
	req_table(r, "number", "e164", "kind", "order", "authority", "received", "contractor", "chain", "lift_order",
		  "lifted", "lift_reason", NULL);
	long rows = 0;
	json_array_foreach(orders, i, o) {
		const char *type = json_string_value(json_object_get(o, "type")) ?: "";
		const char *ref = json_string_value(json_object_get(o, "ref"));
		const char *auth = json_string_value(json_object_get(o, "authority"));
		const char *recv = json_string_value(json_object_get(o, "received"));
		char e[64];
		if (!recv || jdate_parse(recv, e, sizeof(e)) < since)
			continue;
		if (strcmp(type, "bulk") == 0 && strcmp(json_string_value(json_object_get(o, "state")) ?: "", "applied") == 0) {
			/* One row per entry of the order's snapshot; the chain is
			 * the holding's as recorded now. */
			redisReply *m = store_cmd(S(r), "SORT " K_ORDER "%s:entries ALPHA", ref);
			if (!m) {
				REDIS_FAIL(r);
				goto out;
			}
			char **hv = calloc(m->elements ? m->elements : 1, sizeof(char *));
			char (*pats)[NUM_MAX_DIGITS + 2] = calloc(m->elements ? m->elements : 1, sizeof(*pats));
			if (!hv || !pats) {
				free(hv), free(pats), freeReplyObject(m);
				req_fail(r, PROTO_INTERNAL, "out of memory");
				goto out;
			}
			for (j = 0; j < m->elements; j++)
				snprintf(pats[j], sizeof(pats[j]), "%s", m->element[j]->str);
			if (holdings_get(r, pats, m->elements, hv)) {
				free(hv), free(pats), freeReplyObject(m);
				goto out;
			}
			const char *c = json_string_value(json_object_get(o, "contractor"));
			for (j = 0; j < m->elements; j++) {
				json_error_t je;
				json_t *h = hv[j] ? json_loads(hv[j], 0, &je) : NULL;
				npa_row(r, arr, lifts, pats[j], ref, auth, recv, h, c);
				json_decref(h);
				free(hv[j]);
				rows++;
			}
			free(hv), free(pats), freeReplyObject(m);
			continue;
		}
		if (strcmp(type, "suspend") != 0)
			continue;
		json_error_t je;
		json_t *detail = json_loads(json_string_value(json_object_get(o, "detail")) ?: "[]", 0, &je);
		json_array_foreach(detail, j, d) {
			npa_row(r, arr, lifts, json_string_value(json_object_get(d, "number")), ref, auth, recv,
				json_object_get(d, "holding"), NULL);
			rows++;
		}
		json_decref(detail);
	}
	json_object_set_new(r->data, "suspensions", json_incref(arr));
	req_ok(r, "%ld suspensions", rows);
out:
	json_decref(arr);
	json_decref(lifts);
	json_decref(orders);
}

struct ccount {
	char id[80];
	long direct, via;
};

static void op_report_contractors(struct req *r)
{
	const char *fields[] = {"type", "detail"};
	long min = cmd_uint(r->args, "min", 0);
	json_t *orders = orders_fetch(r, 0, 1000000, fields, 2);
	if (!orders)
		return;
	struct ccount *cc = NULL;
	size_t ncc = 0, i, j, k;
	json_t *o, *d, *w;
	json_array_foreach(orders, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		if (!type || strcmp(type, "suspend") != 0)
			continue;
		json_error_t je;
		json_t *detail = json_loads(json_string_value(json_object_get(o, "detail")) ?: "[]", 0, &je);
		json_array_foreach(detail, j, d) {
			json_t *h = json_object_get(d, "holding");
			if (!json_is_object(h))
				continue;
			/* The end contractor counts it directly; every reseller
			 * of the chain counts it through the chain. */
			size_t nv = json_array_size(json_object_get(h, "via"));
			for (k = 0; k <= nv; k++) {
				const char *id = k < nv ? json_string_value(json_array_get(json_object_get(h, "via"), k))
							: json_string_value(json_object_get(h, "c"));
				size_t x;
				for (x = 0; x < ncc && strcmp(cc[x].id, id); x++)
					;
				if (x == ncc) {
					struct ccount *n2 = realloc(cc, (ncc + 1) * sizeof(*cc));
					if (!n2)
						break;
					cc = n2;
					memset(&cc[ncc], 0, sizeof(*cc));
					snprintf(cc[ncc].id, sizeof(cc[ncc].id), "%s", id);
					ncc++;
				}
				if (k < nv)
					cc[x].via++;
				else
					cc[x].direct++;
			}
		}
		(void)w;
		json_decref(detail);
	}
	json_decref(orders);
	/* Most requests first. */
	for (i = 1; i < ncc; i++)
		for (j = i; j > 0 && cc[j].direct + cc[j].via > cc[j - 1].direct + cc[j - 1].via; j--) {
			struct ccount t = cc[j];
			cc[j] = cc[j - 1];
			cc[j - 1] = t;
		}
	req_table(r, "contractor", "direct", "through_chain", "total", NULL);
	json_t *arr = json_array();
	long shown = 0;
	for (i = 0; i < ncc; i++) {
		long tot = cc[i].direct + cc[i].via;
		if (tot < min)
			continue;
		char a[24], b[24], c[24];
		snprintf(a, sizeof(a), "%ld", cc[i].direct);
		snprintf(b, sizeof(b), "%ld", cc[i].via);
		snprintf(c, sizeof(c), "%ld", tot);
		req_row(r, 4, cc[i].id, a, b, c);
		json_array_append_new(arr, json_pack("{s:s,s:i,s:i,s:i}", "contractor", cc[i].id, "direct",
						     (int)cc[i].direct, "through_chain", (int)cc[i].via, "total", (int)tot));
		shown++;
	}
	free(cc);
	json_object_set_new(r->data, "contractors", arr);
	req_ok(r, "%ld contractors with at least %ld suspension requests", shown, min);
}

static void op_report_stats(struct req *r)
{
	long year = cmd_uint(r->args, "year", 0);
	if (year < 1970 || year > 9999) {
		req_fail(r, PROTO_INVALID, "--year: %ld is not a year between 1970 and 9999", year);
		return;
	}
	char d0[16], d1[16], e[64];
	snprintf(d0, sizeof(d0), "%04ld-01-01", year);
	snprintf(d1, sizeof(d1), "%04ld-12-31", year);
	long from = jdate_parse(d0, e, sizeof(e)), to = jdate_parse(d1, e, sizeof(e));
	const char *fields[] = {"type", "received", "n_fixed", "n_ip050", "state", "contractor", "n_numbers"};
	json_t *orders = orders_fetch(r, 0, to, fields, 7);
	if (!orders)
		return;
	/* [0] = the year, [1] = cumulative up to its end. */
	long long fixed[2] = {0}, ip050[2] = {0}, refuse[2] = {0}, bulk[2] = {0}, bulkn[2] = {0};
	char first[16] = "";
	size_t i;
	json_t *o;
	json_array_foreach(orders, i, o) {
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *recv = json_string_value(json_object_get(o, "received"));
		if (!type || !recv)
			continue;
		if (strcmp(type, "lift") == 0)
			continue;
		if (!first[0] || strcmp(recv, first) < 0)
			snprintf(first, sizeof(first), "%s", recv);
		long day = jdate_parse(recv, e, sizeof(e));
		for (int w = 0; w < 2; w++) {
			if (w == 0 && day < from)
				continue;
			if (strcmp(type, "suspend") == 0) {
				fixed[w] += atoll(json_string_value(json_object_get(o, "n_fixed")) ?: "0");
				ip050[w] += atoll(json_string_value(json_object_get(o, "n_ip050")) ?: "0");
			} else if (strcmp(type, "refuse") == 0) {
				refuse[w]++;
			} else if (strcmp(type, "bulk") == 0 &&
				   strcmp(json_string_value(json_object_get(o, "state")) ?: "", "applied") == 0) {
				bulk[w]++;
				bulkn[w] += atoll(json_string_value(json_object_get(o, "n_numbers")) ?: "0");
			}
		}
	}
	json_decref(orders);
	char ycol[64], ccol[64];
	snprintf(ycol, sizeof(ycol), "%ld (1 Jan - 31 Dec)", year);
	snprintf(ccol, sizeof(ccol), "cumulative, %.7s - end %ld", first[0] ? first : d0, year);
	req_table(r, "", ycol, ccol, NULL);
	const char *labels[] = {"fixed-line numbers suspended", "050 IP-phone numbers suspended",
				"refusal-of-new-numbers requests", "inventory bulk suspension: providers",
				"inventory bulk suspension: numbers suspended"};
	const char *keys[] = {"fixed_line", "ip050", "refusal_requests", "bulk_providers", "bulk_numbers"};
	long long *vals[] = {fixed, ip050, refuse, bulk, bulkn};
	json_t *y = json_object(), *c = json_object();
	for (int k = 0; k < 5; k++) {
		char a[32], b[32];
		snprintf(a, sizeof(a), "%lld", vals[k][0]);
		snprintf(b, sizeof(b), "%lld", vals[k][1]);
		req_row(r, 3, labels[k], a, b);
		json_object_set_new(y, keys[k], json_integer(vals[k][0]));
		json_object_set_new(c, keys[k], json_integer(vals[k][1]));
	}
	json_object_set_new(r->data, "year", json_integer(year));
	json_object_set_new(r->data, "in_year", y);
	json_object_set_new(r->data, "cumulative", c);
	json_object_set_new(r->data, "first_order", json_string(first));
	req_ok(r, "statistics for %ld, from the orders held", year);
}

static void op_export(struct req *r)
{
	if (!r->d->have_feed_key) {
		req_fail(r, PROTO_CONFLICT, "export needs a signing key: start teishid with --feed-key FILE");
		return;
	}
	const char *fields[] = {"type", "authority", "received", "detail", "state"};
	json_t *orders = orders_fetch(r, since_day(r), 1000000, fields, 5);
	if (!orders)
		return;
	size_t cap = 1 << 16, len = 0;
	char *body = malloc(cap);
	long items = 0;
#define EMIT(obj)                                                                     \
	do {                                                                          \
		char *l_ = dumps(obj);                                                \
		size_t n_ = strlen(l_);                                               \
		while (len + n_ + 2 > cap) {                                          \
			char *nb_ = realloc(body, cap *= 2);                          \
			if (!nb_)                                                     \
				abort();                                              \
			body = nb_;                                                   \
		}                                                                     \
		memcpy(body + len, l_, n_);                                           \
		len += n_;                                                            \
		body[len++] = '\n';                                                   \
		free(l_);                                                             \
		json_decref(obj);                                                     \
	} while (0)
	const char *since = cmd_str(r->args, "since");
	json_t *hdr = json_pack("{s:s,s:i,s:s,s:s,s:s}", "feed", "teishi", "v", 1, "origin", r->d->feed_origin,
				"since", since ? since : "", "created", r->stamp);
	EMIT(hdr);
	size_t i, j;
	json_t *o, *d;
	json_array_foreach(orders, i, o) {
		const char *type = json_string_value(json_object_get(o, "type")) ?: "";
		const char *ref = json_string_value(json_object_get(o, "ref"));
		const char *auth = json_string_value(json_object_get(o, "authority")) ?: "npa";
		const char *recv = json_string_value(json_object_get(o, "received"));
		int sus = strcmp(type, "suspend") == 0, lift = strcmp(type, "lift") == 0;
		int bulk = strcmp(type, "bulk") == 0 &&
			   strcmp(json_string_value(json_object_get(o, "state")) ?: "", "applied") == 0;
		if (sus || lift) {
			json_error_t je;
			json_t *detail = json_loads(json_string_value(json_object_get(o, "detail")) ?: "[]", 0, &je);
			json_array_foreach(detail, j, d) {
				const char *e = json_string_value(json_object_get(d, "number"));
				char id[256];
				snprintf(id, sizeof(id), "%s/%s/%s/%s", r->d->feed_origin, ref, sus ? "suspend" : "lift", e);
				json_t *it = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "op", sus ? "suspend" : "lift",
						       "entry", e, "order", ref, "authority", auth, "date", recv);
				EMIT(it);
				items++;
			}
			json_decref(detail);
		} else if (bulk) {
			redisReply *m = store_cmd(S(r), "SMEMBERS " K_ORDER "%s:entries", ref);
			if (!m) {
				free(body);
				json_decref(orders);
				REDIS_FAIL(r);
				return;
			}
			for (j = 0; j < m->elements; j++) {
				char id[256];
				snprintf(id, sizeof(id), "%s/%s/suspend/%s", r->d->feed_origin, ref, m->element[j]->str);
				json_t *it = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "op", "suspend", "entry",
						       m->element[j]->str, "order", ref, "authority", auth, "date", recv);
				EMIT(it);
				items++;
			}
			freeReplyObject(m);
		}
	}
#undef EMIT
	json_decref(orders);
	char *signed_feed = feed_sign(body, len, r->d->feed_sk);
	free(body);
	json_object_set_new(r->data, "feed", json_string(signed_feed));
	json_object_set_new(r->data, "items", json_integer(items));
	free(signed_feed);
	req_ok(r, "feed of %ld items, signed by %s", items, r->d->feed_origin);
}

static void op_import(struct req *r)
{
	const char *peer = cmd_str(r->args, "peer");
	const char *text = cmd_str(r->args, "file");
	int p;
	for (p = 0; p < r->d->npeers && strcmp(r->d->peers[p].name, peer); p++)
		;
	if (p == r->d->npeers) {
		char list[512] = "";
		size_t n = 0;
		for (int k = 0; k < r->d->npeers; k++)
			n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s", k ? ", " : "",
					      r->d->peers[k].name);
		req_fail(r, PROTO_NOT_FOUND, "unknown peer \"%s\"; configured peers: %s", peer, n ? list : "(none)");
		return;
	}
	json_t *hdr = NULL, *items = NULL;
	char why[256];
	if (feed_parse(text, strlen(text), r->d->peers[p].pk, &hdr, &items, why, sizeof(why))) {
		req_fail(r, PROTO_INVALID, "%s", why);
		return;
	}
	size_t n = json_array_size(items), i;
	char seen_key[128];
	snprintf(seen_key, sizeof(seen_key), K_FEED_SEEN "%s", peer);
	const char **ids = calloc(n ? n : 1, sizeof(char *));
	const char **adds = calloc(n ? n : 1, sizeof(char *)), **addmeta = calloc(n ? n : 1, sizeof(char *));
	const char **dels = calloc(n ? n : 1, sizeof(char *));
	char **metas = calloc(n ? n : 1, sizeof(char *));
	size_t nid = 0, nadd = 0, ndel = 0;
	json_t *it;
	/* entry -> {"orig": order in Redis or null, "now": order or null}:
	 * items apply in feed order, and only the net change is written. */
	json_t *state = json_object();
	json_array_foreach(items, i, it) {
		const char *id = json_string_value(json_object_get(it, "id"));
		redisReply *rep = store_cmd(S(r), "SISMEMBER %s %s", seen_key, id);
		if (!rep) {
			REDIS_FAIL(r);
			json_decref(state);
			goto out;
		}
		int seen = rep->integer == 1;
		freeReplyObject(rep);
		if (seen)
			continue;
		ids[nid++] = id;
		const char *e = json_string_value(json_object_get(it, "entry"));
		json_t *st = json_object_get(state, e);
		if (!st) {
			redisReply *m = store_cmd(S(r), "HGET " K_ENTRY_META " %s", e);
			if (!m) {
				REDIS_FAIL(r);
				json_decref(state);
				goto out;
			}
			json_error_t je;
			json_t *mj = m->type == REDIS_REPLY_STRING ? json_loads(m->str, 0, &je) : NULL;
			freeReplyObject(m);
			json_t *mo = json_object_get(mj, "order");
			st = json_pack("{s:O,s:O}", "orig", mo ? mo : json_null(), "now", mo ? mo : json_null());
			json_object_set_new(state, e, st);
			json_decref(mj);
		}
		const char *now = json_string_value(json_object_get(st, "now"));
		char oref[160];
		snprintf(oref, sizeof(oref), "peer:%s/%s", peer, json_string_value(json_object_get(it, "order")));
		if (strcmp(json_string_value(json_object_get(it, "op")), "suspend") == 0) {
			if (!now)
				json_object_set_new(st, "now", json_string(oref));
		} else if (now && strncmp(now, "peer:", 5) == 0 && strncmp(now + 5, peer, strlen(peer)) == 0 &&
			   now[5 + strlen(peer)] == '/') {
			/* A peer lifts only what it suspended here. */
			json_object_set_new(st, "now", json_null());
		}
	}
	const char *e;
	json_t *st;
	json_object_foreach(state, e, st) {
		const char *orig = json_string_value(json_object_get(st, "orig"));
		const char *now = json_string_value(json_object_get(st, "now"));
		if (!orig && now) {
			it = NULL;
			json_array_foreach(items, i, it) {
				if (strcmp(json_string_value(json_object_get(it, "entry")), e) == 0)
					break;
			}
			metas[nadd] = dumps_new(json_pack("{s:s,s:s,s:s}", "order", now, "since",
							  json_string_value(json_object_get(it, "date")), "at", r->stamp));
			addmeta[nadd] = metas[nadd];
			adds[nadd++] = e;
		} else if (orig && !now) {
			dels[ndel++] = e;
		}
	}
	if (nid == 0) {
		req_fail(r, PROTO_ALREADY, "feed from %s: all %zu items were seen before: nothing changed", peer, n);
		json_decref(state);
		goto out;
	}
	char oref[160];
	snprintf(oref, sizeof(oref), "peer:%s", peer);
	req_begin(r);
	txn_variadic(&r->txn, "SADD", seen_key, ids, nid);
	txn_variadic(&r->txn, "SADD", K_ENTRIES, adds, nadd);
	txn_pairs(&r->txn, "HSET", K_ENTRY_META, adds, addmeta, nadd);
	txn_changes(r, "add", oref, adds, nadd);
	txn_variadic(&r->txn, "SREM", K_ENTRIES, dels, ndel);
	txn_variadic(&r->txn, "HDEL", K_ENTRY_META, dels, ndel);
	txn_changes(r, "del", oref, dels, ndel);
	json_object_set_new(r->data, "new_items", json_integer((json_int_t)nid));
	json_object_set_new(r->data, "suspended", json_integer((json_int_t)nadd));
	json_object_set_new(r->data, "lifted", json_integer((json_int_t)ndel));
	req_ok(r, "feed from %s: %zu new items of %zu (%zu suspensions added, %zu lifted)", peer, nid, n, nadd, ndel);
	json_decref(state);
out:
	for (i = 0; i < n; i++)
		free(metas[i]);
	free(metas), free(ids), free(adds), free(addmeta), free(dels);
	json_decref(hdr);
	json_decref(items);
}

static void op_audit_verify(struct req *r)
{
	redisReply *ln = store_cmd(S(r), "LLEN " K_AUDIT);
	redisReply *hd = ln ? store_cmd(S(r), "GET " K_AUDIT_HEAD) : NULL;
	if (!hd) {
		if (ln)
			freeReplyObject(ln);
		REDIS_FAIL(r);
		return;
	}
	long total = (long)ln->integer;
	char head[AUDIT_HASH_HEX];
	snprintf(head, sizeof(head), "%s", hd->type == REDIS_REPLY_STRING ? hd->str : AUDIT_ZERO);
	freeReplyObject(ln), freeReplyObject(hd);
	char prev[AUDIT_HASH_HEX] = AUDIT_ZERO, why[512] = "";
	long bad = -1;
	for (long i = 0; i < total && bad < 0; i += 1000) {
		redisReply *rep = store_cmd(S(r), "LRANGE " K_AUDIT " %ld %ld", i, i + 999);
		if (!rep) {
			REDIS_FAIL(r);
			return;
		}
		long k = (long)rep->elements;
		const char **recs = calloc(k ? k : 1, sizeof(char *));
		size_t *lens = calloc(k ? k : 1, sizeof(size_t));
		for (long j = 0; j < k; j++) {
			recs[j] = rep->element[j]->str;
			lens[j] = rep->element[j]->len;
		}
		long b = audit_verify(recs, lens, k, i + 1, prev, i + k >= total ? head : NULL, why, sizeof(why));
		if (b >= 0)
			bad = i + b;
		free(recs), free(lens);
		freeReplyObject(rep);
	}
	if (total == 0 && strcmp(head, AUDIT_ZERO) != 0) {
		bad = 0;
		snprintf(why, sizeof(why), "the audit list is empty but its head says records existed");
	}
	json_object_set_new(r->data, "records", json_integer(total));
	json_object_set_new(r->data, "ok", json_boolean(bad < 0));
	if (bad >= 0) {
		json_object_set_new(r->data, "first_broken", json_integer(bad + 1));
		json_object_set_new(r->data, "reason", json_string(why));
		req_ok(r, "audit chain BROKEN at record %ld: %s", bad + 1, why);
	} else {
		req_ok(r, "audit chain intact: %ld records", total);
	}
}

static void op_audit_show(struct req *r)
{
	const char *who = cmd_str(r->args, "principal");
	const char *cmdf = cmd_str(r->args, "cmd");
	const char *res = cmd_str(r->args, "result");
	const char *since = cmd_str(r->args, "since");
	long limit = cmd_uint(r->args, "limit", 100);
	char since_utc[21] = "";
	/* Records are stamped in UTC; a Japan-time day starts at 15:00Z the
	 * day before.  The date was validated with the request. */
	if (since)
		jdate_stamp((time_t)(jdate_parse(since, NULL, 0) * 86400 - 9 * 3600), since_utc);
	redisReply *rep = store_cmd(S(r), "LRANGE " K_AUDIT " 0 -1");
	if (!rep) {
		REDIS_FAIL(r);
		return;
	}
	json_t *all = json_array();
	for (size_t i = 0; i < rep->elements; i++) {
		json_error_t je;
		json_t *a = json_loads(rep->element[i]->str, 0, &je);
		if (!a)
			continue;
#define FIELD(k) (json_string_value(json_object_get(a, k)) ?: "")
		if ((who && strcmp(FIELD("principal"), who)) || (cmdf && strcmp(FIELD("cmd"), cmdf)) ||
		    (res && strcmp(FIELD("result"), res)) || (since && strcmp(FIELD("at"), since_utc) < 0)) {
			json_decref(a);
			continue;
		}
		json_array_append_new(all, a);
	}
	freeReplyObject(rep);
	size_t n = json_array_size(all), start = n > (size_t)limit ? n - (size_t)limit : 0;
	req_table(r, "seq", "at", "principal", "role", "cmd", "result", "message", NULL);
	json_t *out = json_array();
	for (size_t i = start; i < n; i++) {
		json_t *a = json_array_get(all, i);
		char seq[24];
		snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(json_object_get(a, "seq")));
		req_row(r, 7, seq, FIELD("at"), FIELD("principal"), FIELD("role"), FIELD("cmd"), FIELD("result"),
			FIELD("message"));
		json_array_append(out, a);
	}
#undef FIELD
	json_object_set_new(r->data, "records", out);
	json_decref(all);
	req_ok(r, "%zu audit records", n - start);
}

/* A stream id "MS-SEQ" as a comparable pair; 0-0 when malformed. */
static void stream_id(const char *s, unsigned long long id[2])
{
	id[0] = id[1] = 0;
	if (s == NULL || sscanf(s, "%llu-%llu", &id[0], &id[1]) != 2)
		id[0] = id[1] = 0;
}

static int stream_id_cmp(const unsigned long long a[2], const unsigned long long b[2])
{
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Seconds since a heartbeat's "at" (YYYY-MM-DDTHH:MM:SS.mmmZ); -1 when
 * unreadable. */
static long heartbeat_age(const char *at)
{
	struct tm tm = {0};
	const char *end = at ? strptime(at, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end == NULL)
		return -1;
	time_t t = timegm(&tm);
	time_t now = time(NULL);
	return now >= t ? (long)(now - t) : 0;
}

/* Names as teishi-dp's --name takes them. */
static int dataplane_name_ok(const char *n)
{
	size_t len = n ? strlen(n) : 0;
	return len > 0 && len < SYNC_NAME_MAX && strspn(n, SYNC_NAME_CHARS) == len;
}

/* A dataplane is "current" when its last applied change is the stream's
 * last and it holds as many entries as the set; "behind" (with the
 * records it has still to apply, up to 1000), "mismatch" (current but
 * another count: it skipped entries, see its log), "stale" (no heartbeat
 * for over HEARTBEAT_STALE_S) or "gone" (the heartbeat expired). */
#define HEARTBEAT_STALE_S 3
static void op_dataplanes(struct req *r)
{
	redisReply *x = store_cmd(S(r), "XREVRANGE " K_CHANGES " + - COUNT 1");
	redisReply *n = x ? store_cmd(S(r), "SCARD " K_ENTRIES) : NULL;
	redisReply *m = n ? store_cmd(S(r), "SORT " SYNC_DATAPLANES_KEY " ALPHA") : NULL;
	if (!m) {
		if (x)
			freeReplyObject(x);
		if (n)
			freeReplyObject(n);
		REDIS_FAIL(r);
		return;
	}
	char latest[64] = "0-0";
	if (x->type == REDIS_REPLY_ARRAY && x->elements == 1 && x->element[0]->elements >= 1)
		snprintf(latest, sizeof(latest), "%s", x->element[0]->element[0]->str);
	freeReplyObject(x);
	long long entries = n->type == REDIS_REPLY_INTEGER ? n->integer : 0;
	freeReplyObject(n);
	unsigned long long want[2];
	stream_id(latest, want);
	req_table(r, "dataplane", "state", "stream_id", "behind", "entries", "blocked", "heartbeat_s", "started", NULL);
	json_t *arr = json_array();
	size_t good = 0, n_rewound = 0;
	char rewound[160] = "";
	for (size_t i = 0; i < m->elements; i++) {
		const char *name = m->element[i]->str;
		redisReply *h = store_cmd(S(r), "HGETALL " SYNC_DATAPLANE_PREFIX "%s", name);
		if (!h) {
			json_decref(arr);
			freeReplyObject(m);
			REDIS_FAIL(r);
			return;
		}
		static const char *const keys[] = {"at", "entries", "stream_id", "blocked", "started",
						   "rewound_from"};
		const char *f[6] = {0}; /* by keys[] */
		for (size_t k = 0; h->type == REDIS_REPLY_ARRAY && k + 1 < h->elements; k += 2)
			for (size_t j = 0; j < 6; j++)
				if (strcmp(h->element[k]->str, keys[j]) == 0)
					f[j] = h->element[k + 1]->str;
		const char *state;
		long age = f[0] ? heartbeat_age(f[0]) : -1;
		long long behind = 0;
		unsigned long long have[2];
		stream_id(f[2], have);
		if (!f[0])
			state = "gone";
		else if (age < 0 || age > HEARTBEAT_STALE_S)
			state = "stale";
		else if (stream_id_cmp(have, want) >= 0)
			state = f[1] && atoll(f[1]) == entries ? "current" : "mismatch";
		else {
			state = "behind";
			redisReply *b = store_cmd(S(r), "XRANGE " K_CHANGES " (%s + COUNT 1001", f[2] ? f[2] : "0-0");
			behind = b && b->type == REDIS_REPLY_ARRAY ? (long long)b->elements : -1;
			if (b)
				freeReplyObject(b);
		}
		good += strcmp(state, "current") == 0;
		char bh[24], ag[24];
		if (behind > 1000)
			snprintf(bh, sizeof(bh), ">1000");
		else
			snprintf(bh, sizeof(bh), "%lld", behind);
		snprintf(ag, sizeof(ag), "%ld", age);
		req_row(r, 8, name, state, f[2] ? f[2] : "", bh, f[1] ? f[1] : "", f[3] ? f[3] : "",
			f[0] ? ag : "", f[4] ? f[4] : "");
		json_t *o = json_pack("{s:s,s:s,s:I}", "name", name, "state", state, "behind", (json_int_t)behind);
		if (f[0]) {
			json_object_set_new(o, "stream_id", json_string(f[2] ? f[2] : ""));
			json_object_set_new(o, "entries", json_integer(f[1] ? atoll(f[1]) : 0));
			json_object_set_new(o, "blocked", json_integer(f[3] ? atoll(f[3]) : 0));
			json_object_set_new(o, "heartbeat_age_s", json_integer(age));
			json_object_set_new(o, "at", json_string(f[0]));
			json_object_set_new(o, "started", json_string(f[4] ? f[4] : ""));
		}
		if (f[0] && f[5] && f[5][0]) {
			/* it reloaded from a server whose stream ended before what it
			 * had applied: the orders after a restored backup are gone */
			json_object_set_new(o, "rewound_from", json_string(f[5]));
			if (!rewound[0])
				snprintf(rewound, sizeof(rewound), "%s (it had applied %s)", name, f[5]);
			n_rewound++;
		}
		json_array_append_new(arr, o);
		freeReplyObject(h);
	}
	json_object_set_new(r->data, "dataplanes", arr);
	json_object_set_new(r->data, "latest_change", json_string(latest));
	json_object_set_new(r->data, "entries", json_integer(entries));
	json_object_set_new(r->data, "ok", json_boolean(m->elements > 0 && good == m->elements));
	if (m->elements == 0)
		req_ok(r, "no dataplane has reported a heartbeat");
	else if (n_rewound)
		req_ok(r, "%zu of %zu dataplanes current (latest change %s, %lld entries); %zu reloaded "
		       "from a Redis that went back in time, first %s: orders made after a restored "
		       "backup are in force nowhere until entered again", good, m->elements, latest,
		       entries, n_rewound, rewound);
	else
		req_ok(r, "%zu of %zu dataplanes current (latest change %s, %lld entries)", good, m->elements,
		       latest, entries);
	freeReplyObject(m);
}

static void op_dataplane_forget(struct req *r)
{
	const char *name = cmd_str(r->args, "name");
	if (!dataplane_name_ok(name)) {
		req_fail(r, PROTO_INVALID, "dataplane name \"%s\": 1 to 63 letters, digits and . _ @ : -", name);
		return;
	}
	redisReply *mem = store_cmd(S(r), "SISMEMBER " SYNC_DATAPLANES_KEY " %s", name);
	redisReply *live = mem ? store_cmd(S(r), "EXISTS " SYNC_DATAPLANE_PREFIX "%s", name) : NULL;
	if (!live) {
		if (mem)
			freeReplyObject(mem);
		REDIS_FAIL(r);
		return;
	}
	long long is_mem = mem->integer, is_live = live->integer;
	freeReplyObject(mem), freeReplyObject(live);
	if (is_live) {
		req_fail(r, PROTO_CONFLICT, "dataplane %s is live (its heartbeat has not expired): stop it first", name);
		return;
	}
	if (!is_mem) {
		req_fail(r, PROTO_NOT_FOUND, "no dataplane %s is listed", name);
		return;
	}
	req_begin(r);
	txn_cmd(&r->txn, "SREM " SYNC_DATAPLANES_KEY " %s", name);
	req_ok(r, "dataplane %s no longer listed", name);
}

static void op_events(struct req *r)
{
	long count = cmd_uint(r->args, "count", 50);
	const char *only = cmd_str(r->args, "dataplane");
	if (count < 1 || count > 100000) {
		req_fail(r, PROTO_INVALID, "--count %ld: 1 to 100000", count);
		return;
	}
	/* With a filter, look further back: up to 100 times as many. */
	redisReply *x = store_cmd(S(r), "XREVRANGE " SYNC_EVENTS_KEY " + - COUNT %ld", only ? count * 100 : count);
	if (!x) {
		REDIS_FAIL(r);
		return;
	}
	static const char *const cols[] = {"time", "dataplane", "number", "entry", "side", "header",
					   "action", "code", "src", "call_id"};
	req_table(r, "time", "dataplane", "number", "entry", "side", "header", "action", "code", "src", "call_id",
		  NULL);
	json_t *arr = json_array();
	long shown = 0;
	for (size_t i = 0; x->type == REDIS_REPLY_ARRAY && i < x->elements && shown < count; i++) {
		redisReply *kv = x->element[i]->element[1];
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(x->element[i]->element[0]->str));
		for (size_t k = 0; k + 1 < kv->elements; k += 2)
			json_object_set_new(o, kv->element[k]->str, json_string(kv->element[k + 1]->str));
#define EV(k) (json_string_value(json_object_get(o, k)) ?: "")
		if (only && strcmp(EV("dataplane"), only) != 0) {
			json_decref(o);
			continue;
		}
		char src[80];
		snprintf(src, sizeof(src), "%s:%s", EV("src"), EV("sport"));
		const char *v[10];
		for (int c = 0; c < 10; c++)
			v[c] = EV(cols[c]);
		v[8] = src;
		req_row(r, 10, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
#undef EV
		json_array_append_new(arr, o);
		shown++;
	}
	freeReplyObject(x);
	json_object_set_new(r->data, "events", arr);
	req_ok(r, "%ld blocked calls%s%s", shown, only ? " from " : "", only ? only : "");
}

const op_handler op_handlers[CMD__COUNT] = {
	[CMD_STATUS] = op_status,
	[CMD_CONTRACTOR_ADD] = op_contractor_add,
	[CMD_CONTRACTOR_SHOW] = op_contractor_show,
	[CMD_CONTRACTOR_LIST] = op_contractor_list,
	[CMD_ASSIGN] = op_assign,
	[CMD_RELEASE] = op_release,
	[CMD_SUSPEND] = op_suspend,
	[CMD_LIFT] = op_lift,
	[CMD_REFUSE] = op_refuse,
	[CMD_PROVISION_CHECK] = op_provision_check,
	[CMD_BULK_SUSPEND] = op_bulk_suspend,
	[CMD_APPROVE] = op_approve,
	[CMD_LOOKUP] = op_lookup,
	[CMD_LIST] = op_list,
	[CMD_REPORT_NPA] = op_report_npa,
	[CMD_REPORT_CONTRACTORS] = op_report_contractors,
	[CMD_REPORT_STATS] = op_report_stats,
	[CMD_EXPORT] = op_export,
	[CMD_IMPORT] = op_import,
	[CMD_AUDIT_VERIFY] = op_audit_verify,
	[CMD_AUDIT_SHOW] = op_audit_show,
	[CMD_DATAPLANES] = op_dataplanes,
	[CMD_DATAPLANE_FORGET] = op_dataplane_forget,
	[CMD_EVENTS] = op_events,
};
