/* The shared classification pipeline; the contract is in dp_pipeline.h.
 *
 * A burst is handled in two passes.  Pass 1 parses every mbuf, runs the
 * fragment logic and scans SIP payloads into out->msgs, appending to
 * out->fwd in arrival order everything that may leave, a message's mbufs
 * included (their slots are noted in fwd_pos).  Pass 2, after the one bulk
 * verdict, walks only the messages and takes the blocked and dropped ones'
 * slots out again, so a frame that is not SIP costs one store.
 *
 * The pending table is a fixed array of entries on a free list, a chained
 * hash over (version, src, dst, id) and an age list in creation order.
 * Creation times never decrease, so the oldest entry is always at the head
 * and expiry only ever looks there.
 */
#include "dp_pipeline.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fragcheck.h"

#define NIL UINT32_MAX

enum pend_state {
	PEND_FREE = 0,
	PEND_HOLD,     /* collecting fragments */
	PEND_PASSING,  /* released unclassified by policy: later fragments follow
			* (lingering: all but the one that would complete it) */
	PEND_DROPPING, /* dropped, or complete: later fragments are dropped */
};

/* src and dst first, 8-byte aligned: rte_hash_crc() reads them 8 bytes
 * at a time. */
struct pend_key {
	_Alignas(8) uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t ver;
};

struct pend {
	struct pend_key key;
	uint8_t state;
	uint8_t n;      /* pkts held */
	uint8_t n_cov;  /* lingering: frags[] ranges seen (data NULL) */
	uint8_t linger; /* timed out and forwarded: on the linger list, start moved
			 * to the timeout; or forwarded for too many fragments */
	uint8_t sip;      /* a held first fragment names a SIP port (frag_sip_udp) */
	uint8_t too_many; /* forwarded for too many fragments, none of them SIP's
			   * first: the first, if it is SIP's, is dropped */
	uint32_t hnext;      /* hash chain, or free list */
	uint32_t prev, next; /* age or linger list */
	uint64_t start;
	struct rte_mbuf *pkts[DP_FRAG_MAX];
	struct fragcheck_frag frags[DP_FRAG_MAX];
};

struct dp_worker {
	struct dp_pipeline_config cfg;
	const struct ntrie *trie;
	uint64_t timeout; /* ticks */
	struct rte_ip_frag_tbl *tbl;
	struct rte_ip_frag_death_row dr;
	struct rte_mempool *copy_pool;
	struct pend *pend;
	uint32_t *bucket;
	uint32_t bucket_mask;
	uint32_t free_head;
	uint32_t age_head, age_tail;       /* by start: collecting, and tombstones */
	uint32_t linger_head, linger_tail; /* by timeout: forwarded unclassified */
	uint64_t linger;                   /* ticks */
	uint32_t n_used;
	uint8_t *scratch; /* DP_BURST_MAX rebuilt frames of DP_REASM_MAX */
	struct dp_counters cnt;

	/* Per-burst scratch state. */
	uint16_t n_scratch;
	uint16_t fwd_pos[DP_BURST_MAX];  /* per message: its first slot in out->fwd */
	int scan_rc[DP_BURST_MAX];
	const struct sip_msg *msgp[DP_BURST_MAX];
	struct verdict v[DP_BURST_MAX];
};

static const char *const counter_names[DP_C__COUNT] = {
	[DP_C_RX] = "rx",
	[DP_C_FWD] = "fwd",
	[DP_C_DROP] = "drop",
	[DP_C_NOT_IP] = "not_ip",
	[DP_C_NON_SIP] = "non_sip",
	[DP_C_BAD_FRAME] = "bad_frame",
	[DP_C_SIP_UDP] = "sip_udp",
	[DP_C_SIP_TCP] = "sip_tcp",
	[DP_C_UNPARSABLE_DROP] = "unparsable_drop",
	[DP_C_BLOCK] = "block",
	[DP_C_TCP_WOULD_BLOCK] = "tcp_would_block",
	[DP_C_FRAG_RX] = "frag_rx",
	[DP_C_FRAG_REASSEMBLED] = "frag_reassembled",
	[DP_C_FRAG_DUP] = "frag_dup",
	[DP_C_FRAG_OVERLAP] = "frag_overlap",
	[DP_C_FRAG_CONFLICT] = "frag_conflict",
	[DP_C_FRAG_OVERSIZE] = "frag_oversize",
	[DP_C_FRAG_BAD] = "frag_bad",
	[DP_C_FRAG_LATE_DROP] = "frag_late_drop",
	[DP_C_FRAG_LATE_FWD] = "frag_late_fwd",
	[DP_C_FRAG_TIMEOUT] = "frag_timeout",
	[DP_C_FRAG_TOO_MANY] = "frag_too_many",
	[DP_C_FRAG_SIP_TOO_MANY] = "frag_sip_too_many",
	[DP_C_FRAG_TABLE_FULL] = "frag_table_full",
	[DP_C_FRAG_SIP_TABLE_FULL] = "frag_sip_table_full",
	[DP_C_FRAG_NOMEM] = "frag_nomem",
	[DP_C_FRAG_UNSUPPORTED] = "frag_unsupported",
};

const char *dp_counter_name(enum dp_counter c)
{
	return (unsigned)c < DP_C__COUNT ? counter_names[c] : "?";
}

void dp_counters_add(struct dp_counters *sum, const struct dp_counters *c)
{
	for (unsigned i = 0; i < DP_C__COUNT; i++)
		sum->c[i] += c->c[i];
	for (unsigned i = 0; i < VERDICT_R__COUNT; i++)
		sum->reason[i] += c->reason[i];
	for (unsigned i = 0; i < SIP_HDR__COUNT; i++)
		sum->blocked_hdr[i] += c->blocked_hdr[i];
}

void dp_pipeline_config_default(struct dp_pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	frame_config_default(&cfg->frame);
	verdict_config_default(&cfg->verdict);
	cfg->frag_max_datagrams = 256;
	cfg->frag_max_fragments = DP_FRAG_MAX;
	cfg->frag_timeout_ms = 1000;
	cfg->frag_linger_ms = 30000;
	cfg->frag_incomplete = DP_FRAG_FORWARD;
}

const struct dp_counters *dp_worker_counters(const struct dp_worker *w)
{
	return &w->cnt;
}

uint32_t dp_worker_pending(const struct dp_worker *w)
{
	return w->n_used;
}

void dp_worker_set_trie(struct dp_worker *w, const struct ntrie *trie)
{
	w->trie = trie;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

struct dp_worker *dp_worker_create(const char *name, const struct dp_pipeline_config *cfg,
				   const struct ntrie *trie, uint64_t hz, int socket)
{
	struct dp_pipeline_config c = *cfg;
	char pname[RTE_MEMPOOL_NAMESIZE];

	if (c.frag_max_datagrams == 0)
		c.frag_max_datagrams = 256;
	if (c.frag_max_fragments == 0)
		c.frag_max_fragments = DP_FRAG_MAX;
	if (c.frag_timeout_ms == 0)
		c.frag_timeout_ms = 1000;
	if (c.frag_linger_ms == 0)
		c.frag_linger_ms = 30000;
	if (hz == 0 || c.frag_max_fragments < 2 || c.frag_max_fragments > DP_FRAG_MAX ||
	    c.frag_max_datagrams > (1u << 20) || c.frag_incomplete > DP_FRAG_DROP ||
	    c.frame.n_sip_ports > FRAME_MAX_SIP_PORTS) {
		errno = EINVAL;
		return NULL;
	}

	struct dp_worker *w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
						 socket);
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->cfg = c;
	w->trie = trie;
	w->timeout = (uint64_t)c.frag_timeout_ms * hz / 1000;
	if (w->timeout == 0)
		w->timeout = 1;
	w->linger = (uint64_t)c.frag_linger_ms * hz / 1000;

	uint32_t nb = pow2_at_least(c.frag_max_datagrams * 2);
	w->bucket_mask = nb - 1;
	w->pend = rte_zmalloc_socket("dp_pend", sizeof(*w->pend) * c.frag_max_datagrams,
				     RTE_CACHE_LINE_SIZE, socket);
	w->bucket = rte_malloc_socket("dp_pend_bucket", sizeof(uint32_t) * nb, 0, socket);
	w->scratch = rte_malloc_socket("dp_reasm", (size_t)DP_BURST_MAX * DP_REASM_MAX, 0, socket);
	/* rte_ip_frag gets twice the room so that its buckets never refuse a
	 * datagram ours accepted. */
	uint32_t tbl_entries = c.frag_max_datagrams * 2;
	w->tbl = rte_ip_frag_table_create(pow2_at_least(tbl_entries / 16 + 1), 16, tbl_entries,
					  w->timeout, socket);
	snprintf(pname, sizeof(pname), "fc_%s", name);
	/* One copy per fragment held, plus the chains rte_ip_frag builds. */
	w->copy_pool = rte_pktmbuf_pool_create(pname,
					       c.frag_max_datagrams * 2 * c.frag_max_fragments + 64,
					       0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (w->pend == NULL || w->bucket == NULL || w->scratch == NULL || w->tbl == NULL ||
	    w->copy_pool == NULL) {
		dp_worker_free(w);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < nb; i++)
		w->bucket[i] = NIL;
	for (uint32_t i = 0; i < c.frag_max_datagrams; i++)
		w->pend[i].hnext = i + 1 < c.frag_max_datagrams ? i + 1 : NIL;
	w->free_head = 0;
	w->age_head = w->age_tail = NIL;
	w->linger_head = w->linger_tail = NIL;
	return w;
}

static void count_drop(struct dp_worker *w, struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	w->cnt.c[DP_C_DROP]++;
}

void dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	if (w->pend != NULL) {
		for (uint32_t i = 0; i < w->cfg.frag_max_datagrams; i++)
			for (unsigned k = 0; k < w->pend[i].n; k++)
				rte_pktmbuf_free(w->pend[i].pkts[k]);
	}
	if (w->tbl != NULL) {
		rte_ip_frag_table_del_expired_entries(w->tbl, &w->dr, UINT64_MAX);
		rte_ip_frag_free_death_row(&w->dr, 0);
		rte_ip_frag_table_destroy(w->tbl);
	}
	rte_mempool_free(w->copy_pool);
	rte_free(w->scratch);
	rte_free(w->bucket);
	rte_free(w->pend);
	rte_free(w);
}

static uint32_t key_hash(const struct pend_key *k)
{
	uint32_t h = rte_hash_crc_4byte(k->id, k->ver);
	return rte_hash_crc(k->src, 32, h);
}

static bool key_eq(const struct pend_key *a, const struct pend_key *b)
{
	return a->id == b->id && a->ver == b->ver && memcmp(a->src, b->src, 32) == 0;
}

static uint32_t pend_find(const struct dp_worker *w, const struct pend_key *k)
{
	for (uint32_t i = w->bucket[key_hash(k) & w->bucket_mask]; i != NIL; i = w->pend[i].hnext)
		if (key_eq(&w->pend[i].key, k))
			return i;
	return NIL;
}

/* Entry i onto the tail of its list (the linger list when e->linger). */
static void list_append(struct dp_worker *w, uint32_t i)
{
	struct pend *e = &w->pend[i];
	uint32_t *head = e->linger ? &w->linger_head : &w->age_head;
	uint32_t *tail = e->linger ? &w->linger_tail : &w->age_tail;

	e->prev = *tail;
	e->next = NIL;
	if (*tail != NIL)
		w->pend[*tail].next = i;
	else
		*head = i;
	*tail = i;
}

static void list_unlink(struct dp_worker *w, uint32_t i)
{
	struct pend *e = &w->pend[i];
	uint32_t *head = e->linger ? &w->linger_head : &w->age_head;
	uint32_t *tail = e->linger ? &w->linger_tail : &w->age_tail;

	if (e->prev != NIL)
		w->pend[e->prev].next = e->next;
	else
		*head = e->next;
	if (e->next != NIL)
		w->pend[e->next].prev = e->prev;
	else
		*tail = e->prev;
}

static uint32_t pend_new(struct dp_worker *w, const struct pend_key *k, uint64_t now)
{
	uint32_t i = w->free_head;
	if (i == NIL)
		return NIL;
	struct pend *e = &w->pend[i];
	w->free_head = e->hnext;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->state = PEND_HOLD;
	e->start = now;
	uint32_t b = key_hash(k) & w->bucket_mask;
	e->hnext = w->bucket[b];
	w->bucket[b] = i;
	list_append(w, i);
	w->n_used++;
	return i;
}

static void pend_remove(struct dp_worker *w, uint32_t i)
{
	struct pend *e = &w->pend[i];
	uint32_t *pp = &w->bucket[key_hash(&e->key) & w->bucket_mask];

	while (*pp != i)
		pp = &w->pend[*pp].hnext;
	*pp = e->hnext;
	list_unlink(w, i);
	e->state = PEND_FREE;
	e->n = 0;
	e->n_cov = 0;
	e->linger = 0;
	e->hnext = w->free_head;
	w->free_head = i;
	w->n_used--;
}

static bool pend_expired(const struct dp_worker *w, const struct pend *e, uint64_t now)
{
	/* The same test as rte_ip_frag's, on the same start time, so both
	 * tables give up on a datagram together. */
	return e->start + (e->linger ? w->linger : w->timeout) < now;
}

/* Hand the held originals on by policy: forward (appended to dst) or drop.
 * Leaves the entry as a tombstone of the matching state. */
static void pend_release(struct dp_worker *w, struct pend *e, uint8_t policy,
			 struct rte_mbuf **dst, uint16_t *n_dst)
{
	for (unsigned k = 0; k < e->n; k++) {
		if (policy == DP_FRAG_FORWARD)
			dst[(*n_dst)++] = e->pkts[k];
		else
			count_drop(w, e->pkts[k]);
	}
	e->n = 0;
	e->state = policy == DP_FRAG_FORWARD ? PEND_PASSING : PEND_DROPPING;
}

/* A datagram timed out: it goes by cfg.frag_incomplete.  Forwarded, its
 * entry lingers with the ranges it had: later fragments follow it, but
 * one that would let a receiver complete the datagram, which nobody
 * classified, is dropped (fragment_in); receivers keep fragments far
 * longer than our timeout (Linux 30 s).  The linger runs
 * cfg.frag_linger_ms from the timeout, not from now: a sparse clock
 * (teishi-inspect) notices timeouts late.  By then rte_ip_frag has let go
 * of the datagram too (same start, same timeout), so a lingering entry
 * may give way to a new one at any time.  Only timeouts linger: a
 * datagram released for too many fragments or one rte_ip_frag cannot
 * take may be whole and legitimate, and its last fragment must pass. */
static void pend_time_out(struct dp_worker *w, uint32_t i, struct dp_burst_out *out)
{
	struct pend *e = &w->pend[i];
	uint8_t n = e->n;

	w->cnt.c[DP_C_FRAG_TIMEOUT]++;
	pend_release(w, e, w->cfg.frag_incomplete, out->fwd, &out->n_fwd);
	if (e->state != PEND_PASSING)
		return;
	for (unsigned k = 0; k < n; k++)
		e->frags[k].data = NULL;
	e->n_cov = n;
	list_unlink(w, i);
	e->linger = 1;
	e->start += w->timeout;
	list_append(w, i);
}

/* A later fragment nf of lingering entry e: true when it would complete
 * the datagram (or there is no room left to tell). */
static bool linger_completes(struct pend *e, const struct fragcheck_frag *nf)
{
	if (e->n_cov >= DP_FRAG_MAX)
		return true;
	e->frags[e->n_cov] = *nf;
	e->frags[e->n_cov].data = NULL;
	e->n_cov++;
	return fragcheck_complete(e->frags, e->n_cov) != 0;
}

static void pend_drop(struct dp_worker *w, struct pend *e, enum dp_counter why)
{
	w->cnt.c[why]++;
	pend_release(w, e, DP_FRAG_DROP, NULL, NULL);
}

/* Release timed-out entries from the head of the age list into out->fwd
 * (at most max_release datagrams with fragments). */
static void expire(struct dp_worker *w, uint64_t now, bool all, unsigned max_release,
		   struct dp_burst_out *out)
{
	unsigned released = 0, steps = 0;

	for (; w->age_head != NIL && steps < 4 * DP_EXPIRE_MAX + max_release; steps++) {
		uint32_t i = w->age_head;
		struct pend *e = &w->pend[i];
		if (!all && !pend_expired(w, e, now))
			break;
		if (e->state == PEND_HOLD) {
			if (released == max_release)
				break;
			released++;
			pend_time_out(w, i, out);
			if (e->linger && !all)
				continue;
		}
		pend_remove(w, i);
	}
	for (; w->linger_head != NIL && steps < 8 * DP_EXPIRE_MAX + max_release; steps++) {
		if (!all && !pend_expired(w, &w->pend[w->linger_head], now))
			break;
		pend_remove(w, w->linger_head);
	}
	if (out->n_fwd > 0)
		out->held = true;
	rte_ip_frag_table_del_expired_entries(w->tbl, &w->dr, all ? UINT64_MAX : now);
	rte_ip_frag_free_death_row(&w->dr, 0);
}

/* Make an mbuf's bytes one run, which parsing and fragment checks need. */
static int make_contiguous(struct rte_mbuf *m)
{
	if (rte_pktmbuf_is_contiguous(m))
		return 0;
	return rte_pktmbuf_linearize(m);
}

/* The caller fills d->pkts and calls msg_slots(). */
static struct dp_msg *msg_new(struct dp_worker *w, struct dp_burst_out *out, uint16_t i,
			      const uint8_t *data, uint32_t len, const struct frame_info *fi)
{
	struct dp_msg *d = &out->msgs[out->n_msgs];

	out->n_msgs++;
	d->action = DP_ACT_FORWARD;
	d->reassembled = false;
	d->tcp = fi->kind == FRAME_SIP_TCP;
	d->pkt_idx = i;
	d->data = data;
	d->len = len;
	d->fi = *fi;
	d->n_pkts = 0;
	d->scan_rc = sip_scan((const char *)data + fi->payload_offset, fi->payload_len, &d->msg);
	w->cnt.c[d->tcp ? DP_C_SIP_TCP : DP_C_SIP_UDP]++;
	return d;
}

/* Put message k's mbufs in out->fwd provisionally; pass 2 takes them out
 * again if it is blocked or dropped. */
static void msg_slots(struct dp_worker *w, struct dp_burst_out *out, uint16_t k)
{
	const struct dp_msg *d = &out->msgs[k];

	w->fwd_pos[k] = out->n_fwd;
	for (unsigned p = 0; p < d->n_pkts; p++)
		out->fwd[out->n_fwd++] = d->pkts[p];
}

/* Feed a deep copy of fragment m to rte_ip_frag.  Returns the reassembled
 * datagram, NULL while incomplete, or sets *err (-ENOMEM, -ENOTSUP). */
static struct rte_mbuf *reassemble(struct dp_worker *w, struct rte_mbuf *m,
				   const struct frame_info *fi, uint64_t now, int *err)
{
	const uint32_t v6_l3 = sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext);
	uint32_t l3_len = fi->payload_offset - fi->l3_offset;

	*err = 0;
	/* Only as far as the IP header says: rte_ip_frag takes a fragment's
	 * length from its mbuf, so bytes after it (Ethernet padding, or
	 * anything a sender appends) would land inside the rebuilt datagram,
	 * a reading no receiver makes. */
	struct rte_mbuf *c = rte_pktmbuf_copy(m, w->copy_pool, 0,
					      fi->payload_offset + fi->payload_len);
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (fi->ip_version == 4) {
		c->l2_len = fi->l3_offset;
		c->l3_len = l3_len;
		struct rte_ipv4_hdr *ip =
			rte_pktmbuf_mtod_offset(c, struct rte_ipv4_hdr *, fi->l3_offset);
		return rte_ipv4_frag_reassemble_packet(w->tbl, &w->dr, c, now, ip);
	}
	/* rte_ip_frag understands a fragment header only right after the
	 * fixed IPv6 header.  Classification needs no hop-by-hop, routing or
	 * destination options, so the copy loses the ones in front of it:
	 * the L2 and IPv6 headers move up over them. */
	if (l3_len > v6_l3) {
		uint32_t ext = l3_len - v6_l3;
		uint32_t head = fi->l3_offset + (uint32_t)sizeof(struct rte_ipv6_hdr);
		if (fi->payload_offset > rte_pktmbuf_data_len(c)) {
			rte_pktmbuf_free(c);
			*err = -ENOTSUP;
			return NULL;
		}
		uint8_t *d = rte_pktmbuf_mtod(c, uint8_t *);
		memmove(d + ext, d, head);
		rte_pktmbuf_adj(c, (uint16_t)ext);
		struct rte_ipv6_hdr *h = rte_pktmbuf_mtod_offset(c, struct rte_ipv6_hdr *,
								 fi->l3_offset);
		h->proto = IPPROTO_FRAGMENT;
		h->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(h->payload_len) - ext));
	}
	c->l2_len = fi->l3_offset;
	c->l3_len = v6_l3;
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(c, struct rte_ipv6_hdr *, fi->l3_offset);
	return rte_ipv6_frag_reassemble_packet(w->tbl, &w->dr, c, now, ip6,
					       (struct rte_ipv6_fragment_ext *)(ip6 + 1));
}

/* A datagram completed: rebuild it linearly, parse it again, and either
 * make a message of it (SIP) or forward its originals. */
static void datagram_done(struct dp_worker *w, uint32_t ei, struct rte_mbuf *r, uint16_t i,
			  struct dp_burst_out *out)
{
	struct pend *e = &w->pend[ei];
	uint8_t *buf = w->scratch + (size_t)w->n_scratch * DP_REASM_MAX;
	uint32_t len = rte_pktmbuf_pkt_len(r);
	struct frame_info fi;
	int rc = -EBADMSG;

	if (len <= DP_REASM_MAX) {
		/* Copies into buf unless the datagram sits in one segment. */
		const void *p = rte_pktmbuf_read(r, 0, len, buf);
		if (p != NULL && p != buf)
			memcpy(buf, p, len);
		if (p != NULL)
			rc = frame_parse(&w->cfg.frame, buf, len, &fi);
	}
	rte_pktmbuf_free(r);
	w->cnt.c[DP_C_FRAG_REASSEMBLED]++;

	if (rc < 0) {
		w->cnt.c[DP_C_BAD_FRAME]++;
		pend_release(w, e, w->cfg.drop_bad_frames ? DP_FRAG_DROP : DP_FRAG_FORWARD,
			     out->fwd, &out->n_fwd);
	} else if (fi.kind != FRAME_SIP_UDP && fi.kind != FRAME_SIP_TCP) {
		w->cnt.c[DP_C_NON_SIP]++;
		pend_release(w, e, DP_FRAG_FORWARD, out->fwd, &out->n_fwd);
	} else {
		w->n_scratch++;
		struct dp_msg *d = msg_new(w, out, i, buf, len, &fi);
		d->reassembled = true;
		memcpy(d->pkts, e->pkts, sizeof(e->pkts[0]) * e->n);
		d->n_pkts = e->n;
		msg_slots(w, out, out->n_msgs - 1);
		e->n = 0;
	}
	/* Whatever its verdict (pass 2 decides SIP ones later in this very
	 * burst), a later fragment of a complete datagram is dropped: the
	 * receiver has its originals, or none of them if it was blocked; a
	 * copy is no use to it, and different bytes would be another reading
	 * of a datagram that was classified (or found not to be SIP) as this
	 * one. */
	e->state = PEND_DROPPING;
}

/* One fragment.  malformed: frame_parse() described it but rejected it
 * (oversize, bad length); its whole datagram is dropped. */
static void fragment_in(struct dp_worker *w, struct rte_mbuf *m, const struct frame_info *fi,
			bool malformed, uint64_t now, uint16_t i, struct dp_burst_out *out)
{
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	struct fragcheck_frag nf = {
		.data = data + fi->payload_offset,
		.off = fi->frag_offset,
		.len = fi->payload_len,
		.more = fi->frag_more,
	};
	uint32_t l3_len = fi->payload_offset - fi->l3_offset;
	uint32_t max_end = fi->ip_version == 4 ? 65535 - l3_len : 65535 - (l3_len - 48);
	struct pend_key k;

	w->cnt.c[DP_C_FRAG_RX]++;
	out->held = true;
	memset(&k, 0, sizeof(k));
	k.id = fi->frag_id;
	k.ver = fi->ip_version;
	memcpy(k.src, fi->src_addr, 16);
	memcpy(k.dst, fi->dst_addr, 16);

	uint32_t ei = pend_find(w, &k);
	if (ei != NIL && pend_expired(w, &w->pend[ei], now)) {
		struct pend *old = &w->pend[ei];
		if (old->state == PEND_HOLD)
			pend_time_out(w, ei, out);
		if (!old->linger || pend_expired(w, old, now)) {
			pend_remove(w, ei);
			ei = NIL;
		}
	}
	if (ei == NIL) {
		ei = pend_new(w, &k, now);
		if (ei == NIL && w->linger_head != NIL) {
			/* Collecting matters more than lingering. */
			pend_remove(w, w->linger_head);
			ei = pend_new(w, &k, now);
		}
		if (ei == NIL) {
			/* By policy, except a SIP datagram's first fragment:
			 * without it no receiver completes the datagram, and
			 * forwarded unclassified it would let a sender that
			 * fills the table with datagrams it never completes
			 * pass any INVITE. */
			w->cnt.c[DP_C_FRAG_TABLE_FULL]++;
			if (fi->frag_sip_udp) {
				w->cnt.c[DP_C_FRAG_SIP_TABLE_FULL]++;
				count_drop(w, m);
			} else if (w->cfg.frag_incomplete == DP_FRAG_FORWARD && !malformed) {
				out->fwd[out->n_fwd++] = m;
			} else {
				count_drop(w, m);
			}
			return;
		}
	}
	struct pend *e = &w->pend[ei];
	if (e->state == PEND_PASSING && !malformed) {
		/* The fragment that would let a receiver complete what teishi
		 * never classified is dropped, and all after it: a SIP first
		 * fragment of a datagram released for too many fragments, or
		 * the last hole of a timed-out one. */
		if (e->too_many ? fi->frag_sip_udp : e->linger && linger_completes(e, &nf)) {
			e->state = PEND_DROPPING;
			w->cnt.c[e->too_many ? DP_C_FRAG_SIP_TOO_MANY : DP_C_FRAG_LATE_DROP]++;
			count_drop(w, m);
			return;
		}
		w->cnt.c[DP_C_FRAG_LATE_FWD]++;
		out->fwd[out->n_fwd++] = m;
		return;
	}
	if (e->state != PEND_HOLD) {
		w->cnt.c[DP_C_FRAG_LATE_DROP]++;
		count_drop(w, m);
		return;
	}
	if (malformed) {
		count_drop(w, m);
		pend_drop(w, e, (uint64_t)nf.off + nf.len > max_end ? DP_C_FRAG_OVERSIZE
								     : DP_C_FRAG_BAD);
		return;
	}

	enum fragcheck_result fr = fragcheck_add(e->frags, e->n, &nf, max_end);
	static const enum dp_counter why[] = {
		[FRAGCHECK_OVERLAP] = DP_C_FRAG_OVERLAP,
		[FRAGCHECK_CONFLICT] = DP_C_FRAG_CONFLICT,
		[FRAGCHECK_OVERSIZE] = DP_C_FRAG_OVERSIZE,
		[FRAGCHECK_BAD] = DP_C_FRAG_BAD,
	};
	if (fr != FRAGCHECK_OK && fr != FRAGCHECK_DUP) {
		count_drop(w, m);
		pend_drop(w, e, why[fr]);
		return;
	}
	e->sip |= fi->frag_sip_udp;
	if (e->n == w->cfg.frag_max_fragments) {
		w->cnt.c[DP_C_FRAG_TOO_MANY]++;
		if (e->sip) {
			/* More fragments than rte_ip_frag takes: a SIP
			 * datagram teishi cannot classify.  RFC 3261 18.1.1
			 * sends a request over 1300 bytes by TCP, so no
			 * INVITE needs this many; a sender that cuts one into
			 * tiny fragments to pass unclassified is refused. */
			count_drop(w, m);
			pend_drop(w, e, DP_C_FRAG_SIP_TOO_MANY);
			return;
		}
		pend_release(w, e, w->cfg.frag_incomplete, out->fwd, &out->n_fwd);
		if (w->cfg.frag_incomplete == DP_FRAG_FORWARD) {
			out->fwd[out->n_fwd++] = m;
			/* Its first fragment may still come: the entry
			 * lingers, to drop that one if it is SIP's. */
			e->too_many = 1;
			list_unlink(w, ei);
			e->linger = 1;
			e->start = now;
			list_append(w, ei);
		} else {
			count_drop(w, m);
		}
		return;
	}
	e->pkts[e->n] = m;
	e->frags[e->n] = nf;
	e->n++;
	if (fr == FRAGCHECK_DUP) {
		w->cnt.c[DP_C_FRAG_DUP]++;
		return;
	}

	int err;
	struct rte_mbuf *r = reassemble(w, m, fi, now, &err);
	if (r != NULL) {
		datagram_done(w, ei, r, i, out);
		return;
	}
	if (err < 0 || fragcheck_complete(e->frags, e->n) != 0) {
		/* Whole by our count but not by rte_ip_frag's (it refused a
		 * fragment), or it could not be given one: nobody will
		 * classify this datagram, so it goes by policy. */
		w->cnt.c[err == -ENOTSUP ? DP_C_FRAG_UNSUPPORTED : DP_C_FRAG_NOMEM]++;
		pend_release(w, e, w->cfg.frag_incomplete, out->fwd, &out->n_fwd);
	}
}

/* Frames ahead whose data is prefetched (l3fwd's PREFETCH_OFFSET). */
#define PREFETCH_AHEAD 3

uint16_t dp_pipeline_process_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
				   uint64_t now, struct dp_burst_out *out)
{
	uint64_t *c = w->cnt.c;

	out->n_fwd = 0;
	out->n_msgs = 0;
	out->held = false;
	w->n_scratch = 0;
	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX; /* contract violation; never lose mbufs silently */

	expire(w, now, false, DP_EXPIRE_MAX, out);
	c[DP_C_RX] += n;

	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct frame_info fi;
		int rc = -EBADMSG;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		fi.kind = FRAME_NOT_IP;
		if (likely(make_contiguous(m) == 0))
			rc = frame_parse(&w->cfg.frame, rte_pktmbuf_mtod(m, const uint8_t *),
					 rte_pktmbuf_data_len(m), &fi);
		if (unlikely(rc < 0)) {
			if (fi.kind == FRAME_FRAGMENT) {
				fragment_in(w, m, &fi, true, now, i, out);
				continue;
			}
			c[DP_C_BAD_FRAME]++;
			if (w->cfg.drop_bad_frames)
				count_drop(w, m);
			else
				out->fwd[out->n_fwd++] = m;
			continue;
		}
		switch (fi.kind) {
		case FRAME_SIP_UDP:
		case FRAME_SIP_TCP: {
			struct dp_msg *d = msg_new(w, out, i, rte_pktmbuf_mtod(m, const uint8_t *),
						   rte_pktmbuf_data_len(m), &fi);
			d->pkts[0] = m;
			d->n_pkts = 1;
			w->fwd_pos[out->n_msgs - 1] = out->n_fwd;
			out->fwd[out->n_fwd++] = m;
			break;
		}
		case FRAME_NOT_IP:
			c[DP_C_NOT_IP]++;
			out->fwd[out->n_fwd++] = m;
			break;
		case FRAME_FRAGMENT:
			fragment_in(w, m, &fi, false, now, i, out);
			break;
		default:
			c[DP_C_NON_SIP]++;
			out->fwd[out->n_fwd++] = m;
			break;
		}
	}

	if (out->n_msgs > 0) {
		bool holes = false;

		for (uint16_t k = 0; k < out->n_msgs; k++) {
			w->scan_rc[k] = out->msgs[k].scan_rc;
			w->msgp[k] = &out->msgs[k].msg;
		}
		verdict_decide_bulk(&w->cfg.verdict, w->trie, w->scan_rc, w->msgp, out->n_msgs,
				    w->v);
		for (uint16_t k = 0; k < out->n_msgs; k++) {
			struct dp_msg *d = &out->msgs[k];

			d->v = w->v[k];
			w->cnt.reason[d->v.reason < VERDICT_R__COUNT ? d->v.reason
								      : VERDICT_R_NOT_SIP]++;
			if (likely(d->v.action != VERDICT_BLOCK &&
				   (d->tcp || !w->cfg.drop_unparsable ||
				    (d->scan_rc != -EBADMSG &&
				     d->v.reason != VERDICT_R_TOO_MANY_URIS))))
				continue;
			if (d->v.action == VERDICT_BLOCK && d->tcp) {
				c[DP_C_TCP_WOULD_BLOCK]++;
				continue;
			}
			if (d->v.action == VERDICT_BLOCK) {
				d->action = DP_ACT_BLOCK;
				c[DP_C_BLOCK]++;
				if (d->v.hdr < SIP_HDR__COUNT)
					w->cnt.blocked_hdr[d->v.hdr]++;
			} else {
				d->action = DP_ACT_DROP;
				c[DP_C_UNPARSABLE_DROP]++;
			}
			for (unsigned p = 0; p < d->n_pkts; p++) {
				out->fwd[w->fwd_pos[k] + p] = NULL;
				if (d->action == DP_ACT_DROP)
					count_drop(w, d->pkts[p]);
			}
			holes = true;
		}
		if (holes) {
			uint16_t o = 0;

			for (uint16_t r = 0; r < out->n_fwd; r++)
				if (out->fwd[r] != NULL)
					out->fwd[o++] = out->fwd[r];
			out->n_fwd = o;
		}
	}
	if (w->dr.cnt > 0)
		rte_ip_frag_free_death_row(&w->dr, 3);
	c[DP_C_FWD] += out->n_fwd;
	return out->n_fwd;
}

uint16_t dp_pipeline_flush(struct dp_worker *w, struct dp_burst_out *out)
{
	out->n_fwd = 0;
	out->n_msgs = 0;
	out->held = true;
	expire(w, 0, true, DP_OUT_MAX / DP_FRAG_MAX, out);
	/* rte_ip_frag deletes only as much as its death row holds at once. */
	for (int k = 0; k < 64 && w->n_used == 0; k++) {
		rte_ip_frag_table_del_expired_entries(w->tbl, &w->dr, UINT64_MAX);
		if (w->dr.cnt == 0)
			break;
		rte_ip_frag_free_death_row(&w->dr, 0);
	}
	w->cnt.c[DP_C_FWD] += out->n_fwd;
	return out->n_fwd;
}
