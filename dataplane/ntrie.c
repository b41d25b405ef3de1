/* Number trie.  FIRST CUT: ntrie_key()/ntrie_key_digits() are final; the
 * rest is a naive copy-on-write sorted array (correct, RCU-safe, slow
 * inserts) until the compact base + delta design lands.
 *
 * Key packing (final): digit i (0-based) in bits 63-4i..60-4i as BCD,
 * unused digit nibbles 0, the length in bits 3..0.  Comparing keys as
 * uint64 therefore orders them lexicographically by digit string (a
 * prefix sorts before its extensions), and the key of the first L digits
 * of k is (k & high-4L-bit mask) | L.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ntrie.h"

uint64_t ntrie_key(const char *d, size_t len)
{
	uint64_t k = 0;

	if (d == NULL || len == 0 || len > NTRIE_MAX_DIGITS)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)d[i] - '0';
		if (c > 9)
			return 0;
		k |= (uint64_t)c << (60 - 4 * i);
	}
	return k | len;
}

size_t ntrie_key_digits(uint64_t key, char *buf)
{
	size_t len = key & 15;

	if (len > NTRIE_MAX_DIGITS)
		len = 0;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('0' + ((key >> (60 - 4 * i)) & 15));
	buf[len] = '\0';
	return len;
}

static int key_valid(uint64_t key)
{
	size_t len = key & 15;

	if (len == 0 || len > NTRIE_MAX_DIGITS)
		return 0;
	for (size_t i = 0; i < 15; i++) {
		unsigned d = (key >> (60 - 4 * i)) & 15;
		if (i < len ? d > 9 : d != 0)
			return 0;
	}
	return 1;
}

struct snap {
	size_t n, nprefix;
	uint64_t version;
	struct ntrie_entry e[];
};

struct ntrie {
	_Atomic(struct snap *) root;
	struct ntrie_config cfg;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ntrie_entry *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void retire(struct ntrie *t, void *p)
{
	if (t->cfg.retire)
		t->cfg.retire(t->cfg.retire_ctx, p);
	else
		free(p);
}

static struct snap *snap_new(size_t n)
{
	struct snap *s = malloc(sizeof(*s) + (n ? n : 1) * sizeof(struct ntrie_entry));

	if (s)
		s->n = n, s->nprefix = 0, s->version = 0;
	return s;
}

struct ntrie *ntrie_create(const struct ntrie_config *cfg)
{
	struct ntrie *t = calloc(1, sizeof(*t));
	struct snap *s = snap_new(0);

	if (!t || !s) {
		free(t);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		t->cfg = *cfg;
	atomic_init(&t->root, s);
	return t;
}

void ntrie_free(struct ntrie *t)
{
	if (!t)
		return;
	free(atomic_load(&t->root));
	free(t);
}

static void publish(struct ntrie *t, struct snap *s)
{
	struct snap *old = atomic_load_explicit(&t->root, memory_order_relaxed);

	s->version = old->version + 1;
	s->nprefix = 0;
	for (size_t i = 0; i < s->n; i++)
		s->nprefix += s->e[i].kind == NTRIE_PREFIX;
	atomic_store_explicit(&t->root, s, memory_order_release);
	retire(t, old);
}

int ntrie_build(struct ntrie *t, const struct ntrie_entry *entries, size_t n)
{
	struct snap *s;
	size_t j = 0;

	for (size_t i = 0; i < n; i++)
		if (!key_valid(entries[i].key) ||
		    (entries[i].kind != NTRIE_EXACT && entries[i].kind != NTRIE_PREFIX))
			return -EINVAL;
	s = snap_new(n);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->e[i] = entries[i];
		s->e[i].value = (uint32_t)i; /* stable: remember input order */
	}
	qsort(s->e, n, sizeof(s->e[0]), ent_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t src = s->e[i].value;
		if (j && s->e[j - 1].key == s->e[i].key && s->e[j - 1].kind == s->e[i].kind) {
			/* later duplicate wins */
			if (src > s->e[j - 1].value)
				s->e[j - 1].value = (uint32_t)src;
			continue;
		}
		s->e[j++] = s->e[i];
	}
	for (size_t i = 0; i < j; i++)
		s->e[i].value = entries[s->e[i].value].value;
	s->n = j;
	publish(t, s);
	return 0;
}

static size_t lower_bound(const struct snap *s, uint64_t key, uint8_t kind)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ntrie_entry *e = &s->e[mid];
		if (e->key < key || (e->key == key && e->kind < kind))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct ntrie_entry *find(const struct snap *s, uint64_t key, uint8_t kind)
{
	size_t i = lower_bound(s, key, kind);

	if (i < s->n && s->e[i].key == key && s->e[i].kind == kind)
		return &s->e[i];
	return NULL;
}

int ntrie_insert(struct ntrie *t, uint64_t key, enum ntrie_kind kind, uint32_t value)
{
	struct snap *old = atomic_load_explicit(&t->root, memory_order_relaxed), *s;
	size_t i;
	int present;

	if (!key_valid(key) || (kind != NTRIE_EXACT && kind != NTRIE_PREFIX))
		return -EINVAL;
	i = lower_bound(old, key, kind);
	present = i < old->n && old->e[i].key == key && old->e[i].kind == kind;
	s = snap_new(old->n + !present);
	if (!s)
		return -ENOMEM;
	memcpy(s->e, old->e, i * sizeof(s->e[0]));
	s->e[i] = (struct ntrie_entry){ .key = key, .value = value, .kind = (uint8_t)kind };
	memcpy(s->e + i + 1, old->e + i + present, (old->n - i - present) * sizeof(s->e[0]));
	publish(t, s);
	return 0;
}

int ntrie_delete(struct ntrie *t, uint64_t key, enum ntrie_kind kind)
{
	struct snap *old = atomic_load_explicit(&t->root, memory_order_relaxed), *s;
	size_t i;

	if (!key_valid(key) || (kind != NTRIE_EXACT && kind != NTRIE_PREFIX))
		return -EINVAL;
	i = lower_bound(old, key, kind);
	if (!(i < old->n && old->e[i].key == key && old->e[i].kind == kind))
		return -ENOENT;
	s = snap_new(old->n - 1);
	if (!s)
		return -ENOMEM;
	memcpy(s->e, old->e, i * sizeof(s->e[0]));
	memcpy(s->e + i, old->e + i + 1, (old->n - i - 1) * sizeof(s->e[0]));
	publish(t, s);
	return 0;
}

int ntrie_compact(struct ntrie *t)
{
	(void)t;
	return 0;
}

int ntrie_lookup(const struct ntrie *t, uint64_t key, struct ntrie_match *m)
{
	const struct snap *s = atomic_load_explicit(&((struct ntrie *)t)->root,
						     memory_order_acquire);
	size_t len = key & 15;
	const struct ntrie_entry *e;

	m->kind = 0;
	if (!key_valid(key))
		return 0;
	e = find(s, key, NTRIE_EXACT);
	for (size_t l = len + 1; !e && l-- > 1;) {
		uint64_t pk = (key & ~(~0ull >> (4 * l))) | l;
		e = find(s, pk, NTRIE_PREFIX);
	}
	if (!e)
		return 0;
	m->value = e->value;
	m->kind = e->kind;
	m->len = e->key & 15;
	return 1;
}

unsigned ntrie_lookup_bulk(const struct ntrie *t, const uint64_t *keys, unsigned n,
			   struct ntrie_match *m)
{
	unsigned hits = 0;

	for (unsigned i = 0; i < n; i++)
		hits += (unsigned)ntrie_lookup(t, keys[i], &m[i]);
	return hits;
}

int ntrie_walk(const struct ntrie *t, int (*fn)(void *ctx, const struct ntrie_entry *e),
	       void *ctx)
{
	const struct snap *s = atomic_load_explicit(&((struct ntrie *)t)->root,
						     memory_order_acquire);

	for (size_t i = 0; i < s->n; i++) {
		int rc = fn(ctx, &s->e[i]);
		if (rc)
			return rc;
	}
	return 0;
}

void ntrie_stats(const struct ntrie *t, struct ntrie_stats *st)
{
	const struct snap *s = atomic_load_explicit(&((struct ntrie *)t)->root,
						     memory_order_acquire);

	st->entries = s->n;
	st->prefixes = s->nprefix;
	st->bytes = sizeof(*t) + sizeof(*s) + s->n * sizeof(s->e[0]);
	st->delta_entries = 0;
	st->version = s->version;
}
