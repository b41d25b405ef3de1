/* The suspension list in a BPF LPM-trie map; the contract is in list_map.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "list_map.h"

int list_map_key(uint64_t key, unsigned kind, struct teishi_list_key *k)
{
	unsigned len = key & 15;
	uint64_t digits = key & ~15ull, v;

	if (len == 0 || kind > NTRIE_PREFIX)
		return -EINVAL;
	for (unsigned i = 0; i < 15; i++) {
		unsigned d = (unsigned)(digits >> (60 - 4 * i)) & 15;

		if (i < len ? d > 9 : d != 0)
			return -EINVAL;
	}
	if (kind == NTRIE_PREFIX) {
		v = digits;
		k->prefixlen = 4 * len;
	} else {
		/* the 0xF nibble after the digits; for 15 digits it is the
		 * last nibble, where the length was */
		v = digits | 15ull << (60 - 4 * len);
		k->prefixlen = kind == NTRIE_EXACT ? 4 * (len + 1) : 64;
	}
	for (unsigned i = 0; i < 8; i++)
		k->data[i] = (uint8_t)(v >> (56 - 8 * i));
	return 0;
}

int list_map_create(uint32_t max_entries)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "teishi_list", sizeof(struct teishi_list_key),
				sizeof(struct teishi_list_val), max_entries, &opts);

	return fd < 0 ? -errno : fd;
}

int list_map_lookup(int fd, uint64_t key, struct ntrie_match *out)
{
	struct teishi_list_key k;
	struct teishi_list_val v;

	if (list_map_key(key, 0, &k) < 0)
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &k, &v) != 0) {
		memset(out, 0, sizeof(*out));
		return errno == ENOENT ? 0 : -errno;
	}
	out->value = v.value;
	out->kind = v.kind;
	out->len = v.len;
	return 1;
}

static void say(const struct list_map *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct list_map *m, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (m->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->warn(m->warn_ctx, msg);
}

/* A map update's errno as the caller sees it: a full map is -ENOSPC (the
 * kernel says ENOSPC for an LPM trie, E2BIG for others). */
static int update_failed(int err)
{
	return err == ENOSPC || err == E2BIG ? -ENOSPC : -err;
}

/* What a load or batch that failed says: a full map with its capacity. */
static int said(const struct list_map *m, int rc)
{
	if (rc == -ENOSPC)
		say(m, "the XDP list map is full (%u entries; --max-entries)", m->max_entries);
	return rc;
}

/* Write one entry; *added says whether it is new. */
static int put(const struct list_map *m, const struct ntrie_entry *e, int *added)
{
	struct teishi_list_key k;
	struct teishi_list_val v = { e->value, e->kind, (uint8_t)(e->key & 15), 0 };

	if (list_map_key(e->key, e->kind, &k) < 0)
		return -EINVAL;
	*added = 1;
	if (bpf_map_update_elem(m->fd, &k, &v, BPF_NOEXIST) == 0)
		return 0;
	if (errno != EEXIST)
		return update_failed(errno);
	*added = 0;
	if (bpf_map_update_elem(m->fd, &k, &v, BPF_EXIST) == 0)
		return 0;
	return update_failed(errno);
}

#define LIST_MAP_BATCH 4096
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "operation not supported" */
#endif

/* Write e[*done..n) into the map (BPF_ANY, in order: a later duplicate
 * wins), LIST_MAP_BATCH entries a syscall where the kernel batches
 * updates of this map type, one at a time where it does not.  *done
 * counts what was written when an error stops it. */
static int write_all(struct list_map *m, const struct ntrie_entry *e, size_t n, size_t *done)
{
	struct teishi_list_key *ks = malloc(LIST_MAP_BATCH * sizeof(*ks));
	struct teishi_list_val *vs = malloc(LIST_MAP_BATCH * sizeof(*vs));
	int rc = ks && vs ? 0 : -ENOMEM;

	while (rc == 0 && *done < n) {
		__u32 c = n - *done < LIST_MAP_BATCH ? (__u32)(n - *done) : LIST_MAP_BATCH, got = c;

		for (__u32 j = 0; j < c; j++) {
			const struct ntrie_entry *x = &e[*done + j];

			if (list_map_key(x->key, x->kind, &ks[j]) < 0) {
				rc = -EINVAL;
				break;
			}
			vs[j] = (struct teishi_list_val){ x->value, x->kind, (uint8_t)(x->key & 15), 0 };
		}
		if (rc < 0)
			break;
		if (!m->no_batch) {
			LIBBPF_OPTS(bpf_map_batch_opts, o, .elem_flags = BPF_ANY);

			if (bpf_map_update_batch(m->fd, ks, vs, &got, &o) == 0) {
				*done += c;
				continue;
			}
			if ((errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP) && got == 0) {
				m->no_batch = 1; /* an older kernel: one at a time */
				continue;
			}
			*done += got;
			rc = update_failed(errno);
			break;
		}
		for (__u32 j = 0; j < c; j++, (*done)++) {
			if (bpf_map_update_elem(m->fd, &ks[j], &vs[j], BPF_ANY) != 0) {
				rc = update_failed(errno);
				break;
			}
		}
	}
	free(ks);
	free(vs);
	return rc;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct teishi_list_key));
}

/* Every key the map holds, in a malloc'd array. */
static int held_keys(int fd, struct teishi_list_key **out, size_t *n)
{
	struct teishi_list_key k, cur, *keys = NULL;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, *n ? &cur : NULL, &k) == 0) {
		if (*n == cap) {
			struct teishi_list_key *g;

			cap = cap ? 2 * cap : 1024;
			g = realloc(keys, cap * sizeof(*keys));
			if (g == NULL) {
				free(keys);
				return -ENOMEM;
			}
			keys = g;
		}
		keys[(*n)++] = k;
		cur = k;
	}
	if (errno != ENOENT) {
		free(keys);
		return -errno;
	}
	*out = keys;
	return 0;
}

/* Delete the held keys that are not in want (sorted). */
static int delete_absent(const struct list_map *m, const struct teishi_list_key *held, size_t nh,
			 const struct teishi_list_key *want, size_t nw)
{
	for (size_t i = 0; i < nh; i++) {
		if (bsearch(&held[i], want, nw, sizeof(*want), key_cmp) != NULL)
			continue;
		if (bpf_map_delete_elem(m->fd, &held[i]) != 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* An entry and its place in the caller's list, for a stable sort. */
struct ordered {
	struct ntrie_entry e;
	size_t at;
};

static int ordered_cmp(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;

	if (x->e.key != y->e.key)
		return x->e.key < y->e.key ? -1 : 1;
	if (x->e.kind != y->e.kind)
		return x->e.kind < y->e.kind ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* e in key order (duplicates kept in their order, so that the later one
 * still wins): the kernel's trie takes a list in key order several times
 * faster than in the order SSCAN gives it, its nodes then staying in
 * cache from one insert to the next. */
static struct ntrie_entry *in_key_order(const struct ntrie_entry *e, size_t n)
{
	struct ordered *o = malloc((n ? n : 1) * sizeof(*o));
	struct ntrie_entry *out = malloc((n ? n : 1) * sizeof(*out));

	if (o == NULL || out == NULL) {
		free(o);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		o[i] = (struct ordered){ e[i], i };
	qsort(o, n, sizeof(*o), ordered_cmp);
	for (size_t i = 0; i < n; i++)
		out[i] = o[i].e;
	free(o);
	return out;
}

int list_map_load(struct list_map *m, const struct ntrie_entry *e, size_t n)
{
	struct teishi_list_key *held = NULL, *want;
	struct ntrie_entry *sorted = NULL;
	size_t nh = 0, nw = 0, i = 0, distinct = 0;
	int rc, deleted = 0;

	want = malloc((n ? n : 1) * sizeof(*want));
	if (want == NULL)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++) {
		if (list_map_key(e[j].key, e[j].kind, &want[nw]) < 0) {
			free(want);
			return -EINVAL;
		}
		nw++;
	}
	qsort(want, nw, sizeof(*want), key_cmp);
	for (size_t j = 0; j < nw; j++)
		distinct += j == 0 || key_cmp(&want[j - 1], &want[j]) != 0;
	/* a list that cannot fit changes nothing */
	if (m->max_entries && distinct > m->max_entries) {
		rc = -ENOSPC;
		goto out;
	}
	rc = held_keys(m->fd, &held, &nh);
	if (rc < 0)
		goto out;
	sorted = in_key_order(e, n);
	if (sorted == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* the new list first, so that an entry in both is never absent;
	 * when the old and the new do not fit together, the old ones go
	 * first */
	rc = write_all(m, sorted, n, &i);
	if (rc == -ENOSPC) {
		rc = delete_absent(m, held, nh, want, nw);
		deleted = 1;
		if (rc == 0)
			rc = write_all(m, sorted, n, &i);
	}
	if (rc < 0)
		goto out;
	if (!deleted)
		rc = delete_absent(m, held, nh, want, nw);
	if (rc == 0) {
		m->entries = distinct;
		m->version++;
	}
out:
	free(sorted);
	free(held);
	free(want);
	return said(m, rc);
}

int list_map_walk(const void *list, int (*fn)(void *ctx, const struct ntrie_entry *e), void *ctx)
{
	const struct list_map *m = list;
	struct teishi_list_key *held = NULL;
	size_t nh = 0;
	int rc = held_keys(m->fd, &held, &nh);

	for (size_t i = 0; rc == 0 && i < nh; i++) {
		struct teishi_list_val v;
		struct ntrie_entry e;
		uint64_t digits = 0;

		if (bpf_map_lookup_elem(m->fd, &held[i], &v) != 0) {
			if (errno == ENOENT) /* deleted since: not held */
				continue;
			rc = -errno;
			break;
		}
		if (v.len == 0 || v.len > TEISHI_LIST_MAX_DIGITS) {
			rc = -EINVAL;
			break;
		}
		for (unsigned b = 0; b < 8; b++)
			digits |= (uint64_t)held[i].data[b] << (56 - 8 * b);
		/* the entry's digits, without the 0xF nibble that closes an
		 * exact one */
		digits &= ~0ull << (64 - 4 * v.len);
		e.key = digits | v.len;
		e.value = v.value;
		e.kind = v.kind;
		rc = fn(ctx, &e);
	}
	free(held);
	return rc;
}

static int lm_load(void *ctx, const struct ntrie_entry *e, size_t n)
{
	return list_map_load(ctx, e, n);
}

static int lm_apply(void *ctx, const struct sync_change *c, size_t n)
{
	struct list_map *m = ctx;

	for (size_t i = 0; i < n; i++) {
		struct teishi_list_key k;
		int rc, added;

		if (c[i].add) {
			rc = put(m, &c[i].e, &added);
			if (rc < 0)
				return said(m, rc);
			m->entries += (uint64_t)added;
		} else {
			if (list_map_key(c[i].e.key, c[i].e.kind, &k) < 0)
				return -EINVAL;
			if (bpf_map_delete_elem(m->fd, &k) == 0)
				m->entries--;
			else if (errno != ENOENT)
				return -errno;
		}
		m->version++;
	}
	return 0;
}

static void lm_warn(void *ctx, const char *msg)
{
	struct list_map *m = ctx;

	if (m->warn)
		m->warn(m->warn_ctx, msg);
}

const struct sync_ops list_map_ops = { lm_load, lm_apply, lm_warn };
