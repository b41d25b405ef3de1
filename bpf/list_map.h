/* The suspension list in a BPF LPM-trie map (teishi_bpf.h has the key
 * layout): filled from a list, kept from Redis through the sync module
 * (list_map_ops), and looked up from user space the way the XDP program
 * looks it up.  libbpf's syscall wrappers and libteishi_core; no DPDK.
 *
 * The map changes entry by entry (each update or delete is atomic in the
 * kernel, and a lookup sees it at once): a full load first writes every
 * entry of the new list, then deletes what it no longer holds, so that an
 * entry in both is never absent, and a bulk order is as many updates.
 * Functions taking a struct list_map belong to one thread.
 *
 * A load is written in key order, in batches (BPF_MAP_UPDATE_BATCH where
 * the kernel has it).  A change batch is applied an update at a time,
 * also a bulk order's million: which adds are new must be known for the
 * entry count the heartbeat reports, and the kernel does not say.  A
 * shadow of the keys in user space would allow batches there too.
 */
#ifndef TEISHI_LIST_MAP_H
#define TEISHI_LIST_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "ntrie.h"
#include "sync.h"
#include "teishi_bpf.h"

struct list_map {
	int fd;             /* the LPM-trie map */
	uint32_t max_entries; /* its capacity (0: unknown; the kernel says when full) */
	uint64_t entries;   /* entries held */
	uint64_t version;   /* changes made (a load counts one) */
	int no_batch;       /* the kernel does not batch this map's updates (found out, or set
			     * by a test): one syscall an entry */
	/* where sync's warnings go (NULL: nowhere) */
	void (*warn)(void *warn_ctx, const char *msg);
	void *warn_ctx;
};

/* ctx: a struct list_map.  A load or batch the map cannot hold fails with
 * -ENOSPC (said through warn, with the capacity). */
extern const struct sync_ops list_map_ops;

/* The map key of an entry (ntrie key and kind), or of a number to look
 * up (kind 0).  Returns 0, or -EINVAL for a key ntrie_key() would not
 * make or an unknown kind. */
int list_map_key(uint64_t key, unsigned kind, struct teishi_list_key *k);

/* A new LPM-trie map of teishi_list's shape, for tools and tests that
 * run without the XDP object.  Returns its fd or a negative errno. */
int list_map_create(uint32_t max_entries);

/* Make the map hold exactly e[0..n) (a later duplicate wins).  Reads the
 * entries the map held first, so it may be called on a map filled by an
 * earlier run.  Returns 0, -ENOSPC for more distinct entries than
 * max_entries (nothing changed), or another negative errno from the
 * kernel (the map then holds the new entries written so far and the old
 * ones not yet deleted). */
int list_map_load(struct list_map *m, const struct ntrie_entry *e, size_t n);

/* The entries the map holds, as a sync_walk_fn (list: a struct
 * list_map), for the list cache: fn on each, in no particular order. */
int list_map_walk(const void *list, int (*fn)(void *ctx, const struct ntrie_entry *e), void *ctx);

/* Look a number up (an ntrie key) as the XDP program does.  Returns 1 and
 * fills out on a match, 0 when none, or a negative errno. */
int list_map_lookup(int fd, uint64_t key, struct ntrie_match *out);

#endif
