/* libFuzzer harness for the DPDK classification pipeline (dp_pipeline.c):
 * sequences of hostile frames, fragments above all, go through
 * dp_pipeline_process_burst() in bursts with time passing between them,
 * then dp_pipeline_flush() until nothing is pending.  The EAL runs in
 * memory (--no-huge), so no hugepages or devices are needed.
 *
 * Input: byte 0 picks the worker (bit 0: forward policy with 4 pending
 * datagrams of 4 fragments; drop policy, drop_bad_frames and
 * drop_unparsable with 8 of 8).  Then records, at most MAX_FRAMES frames:
 *   0b00SLLLLL LLLLLLLL  a frame of L (< 8192) bytes follows; S: give it
 *                        to the pipeline as two chained segments
 *   0b10xxxxxx           again the frame x % n of this input (duplicates)
 *   0b11tttttt           end the burst; the clock then moves 4*t ms
 * (a burst also ends at DP_BURST_MAX frames).  The frag timeout is 30 ms.
 *
 * Every frame's bytes live in a malloc'd buffer of exactly its length
 * attached to the mbuf as an external buffer, so that ASan sees a read
 * beyond a frame, and any use of a frame after the pipeline freed it (the
 * free callback frees the buffer).
 *
 * Checked, abort() on a violation:
 *  - ownership: every mbuf the pipeline hands back (out->fwd, a blocked
 *    message's pkts) is one it was given and not handed back before; it is
 *    byte-identical to the frame fed; with out->held false, fwd holds only
 *    this call's frames in input order; a forwarded message's mbufs are in
 *    fwd; after the flush nothing is pending, the counters say that every
 *    frame not handed back was dropped, and both mbuf pools (ours and the
 *    worker's copy pool) have every mbuf back, each exactly once;
 *  - messages: action, pkt_idx, n_pkts in range, TCP never blocked, a drop
 *    only where fail-closed applies, payload and every view of a scanned
 *    request inside the message, a block names a URI of the message; a
 *    rebuilt datagram holds exactly the bytes of the fragments it is
 *    forwarded or blocked as (one reading classified and sent);
 *  - counters: rx, fwd, drop, block, unparsable_drop, sip_udp + sip_tcp and
 *    the verdict reasons agree with what came back; pending stays within
 *    frag_max_datagrams; flush ends within a bounded number of calls;
 *  - fate: a call that completes a datagram forwards none of its
 *    fragments but the originals of a message it forwards (the header: a
 *    later fragment of a complete datagram is dropped, so a blocked
 *    datagram's copies never pass and no second reading follows one).
 * FUZZ_DP_PIPELINE_VERBOSE prints each input's counters.
 *
 * DPDK's own memory (mbuf headers, the worker's tables and rebuilt
 * frames) is not ASan's: only the frame bytes are guarded. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_pipeline.h"
#include "frame.h"
#include "listfile.h"
#include "ntrie.h"
#include "sip.h"
#include "verdict.h"

#define MAX_FRAMES 48
#define MAX_FRAME_LEN 8191
#define POOL_MBUFS 255 /* MAX_FRAMES frames of at most two segments, and more */
#define TAG_MAGIC 0x7e15u
#define HZ 1000
#define TIMEOUT_MS 30

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_dp_pipeline: %s:%d: check failed: %s\n",    \
				__FILE__, __LINE__, #cond);                              \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* In each mbuf's private area. */
struct tag {
	uint32_t gen;   /* input number */
	uint16_t magic;
	uint16_t idx;   /* frame */
	uint32_t drain; /* pool_drain() pass that saw it */
};

enum fstate { F_UNFED = 0, F_HELD, F_FWD, F_BLOCKED };

struct frame {
	const uint8_t *bytes; /* points into the input */
	uint16_t len;
	uint8_t state;
	uint16_t burst; /* call that took it */
	struct rte_mbuf *m;
	bool frag;            /* fi describes a fragment */
	struct frame_info fi; /* of the bytes fed */
};

struct wctx {
	struct dp_worker *w;
	struct rte_mempool *copy_pool;
	struct dp_pipeline_config cfg;
};

static struct rte_mempool *pool;
static struct wctx workers[2];
static struct ntrie *trie;
static struct dp_burst_out out;
static uint64_t now = 1000;
static uint32_t gen, drain_pass;
static bool verbose; /* FUZZ_DP_PIPELINE_VERBOSE set: counters per input */

static struct frame fr[MAX_FRAMES];
static unsigned n_fr;
static uint64_t n_fwd, n_blocked, n_msgs, n_block_msgs, n_drop_msgs;

/* The committed corpus's list (tests/fixtures/corpus/list.txt) and the
 * entries of fuzz_verdict, so that corpus frames and simple seeds block. */
static const char list_text[] = "05039141777\n0564-83-1706\n+815079074391\n+81-52-200-8063\n"
				"(050)7083-7783\n0225740681\n050-3415-8683\n+81456978690\n"
				"+81-50-8366-2585\n(06)9812-8657\n05017049996\n0564-42-8303\n"
				"06-6011-*\n+8150441*\n0114482877..0114485695\n"
				"0312345678\n050-1234-5678\n03-1234*\n090*\n";

static struct tag *tag_of(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

static void extbuf_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/* A mbuf whose data is a fresh malloc'd copy of len bytes of p. */
static struct rte_mbuf *ext_mbuf(const uint8_t *p, uint16_t len, uint16_t room)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	/* Every mbuf came back after each input, so running out is a leak. */
	CHECK(m != NULL);
	uint8_t *buf = malloc(room ? room : 1);
	struct rte_mbuf_ext_shared_info *sh = calloc(1, sizeof(*sh));
	CHECK(buf != NULL && sh != NULL);
	memcpy(buf, p, len);
	sh->free_cb = extbuf_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, 0, room, sh);
	m->data_len = len;
	m->pkt_len = len;
	return m;
}

static struct rte_mbuf *make_mbuf(unsigned idx, bool split)
{
	struct frame *f = &fr[idx];
	struct rte_mbuf *m;

	if (split && f->len >= 2) {
		/* The head's buffer has room for the whole frame, so that
		 * rte_pktmbuf_linearize() can succeed. */
		uint16_t a = f->len / 2;
		m = ext_mbuf(f->bytes, a, f->len);
		struct rte_mbuf *t = ext_mbuf(f->bytes + a, f->len - a, f->len - a);
		CHECK(rte_pktmbuf_chain(m, t) == 0);
	} else {
		m = ext_mbuf(f->bytes, f->len, f->len);
	}
	f->frag = frame_parse(NULL, f->bytes, f->len, &f->fi) == 0 &&
		  f->fi.kind == FRAME_FRAGMENT;
	struct tag *t = tag_of(m);
	t->gen = gen;
	t->magic = TAG_MAGIC;
	t->idx = idx;
	return m;
}

static void check_same(struct rte_mbuf *m, const struct frame *f)
{
	uint8_t tmp[MAX_FRAME_LEN + 1];

	CHECK(rte_pktmbuf_pkt_len(m) == f->len);
	const uint8_t *p = rte_pktmbuf_read(m, 0, f->len, tmp);
	CHECK(f->len == 0 || p != NULL);
	CHECK(f->len == 0 || memcmp(p, f->bytes, f->len) == 0);
}

/* The frame m carries, which must be with the pipeline; it is handed back. */
static struct frame *take_back(struct rte_mbuf *m, uint8_t state)
{
	CHECK(m != NULL);
	struct tag *t = tag_of(m);
	CHECK(t->magic == TAG_MAGIC && t->gen == gen && t->idx < n_fr);
	struct frame *f = &fr[t->idx];
	CHECK(f->m == m && f->state == F_HELD);
	f->state = state;
	check_same(m, f);
	return f;
}

static bool view_in(const struct sip_view *v, const uint8_t *lo, uint32_t len)
{
	if (v->len == 0)
		return true;
	const uint8_t *p = (const uint8_t *)v->p;
	return p >= lo && p <= lo + len && v->len <= (uint32_t)(lo + len - p);
}

/* A rebuilt datagram must hold every fragment it came from, where its
 * offset says, and end where the last one ends. */
static void check_rebuilt(const struct dp_msg *d)
{
	uint32_t l3 = d->fi.l3_offset;
	uint32_t start, end = 0;

	CHECK(l3 < d->len);
	if (d->fi.ip_version == 4)
		start = l3 + (uint32_t)(d->data[l3] & 0x0f) * 4;
	else
		start = l3 + 40;
	CHECK(start <= d->len);
	for (unsigned p = 0; p < d->n_pkts; p++) {
		struct rte_mbuf *m = d->pkts[p];
		struct frame_info fi;

		/* The original is whole (linearized) by now. */
		CHECK(rte_pktmbuf_is_contiguous(m));
		const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
		CHECK(frame_parse(NULL, b, rte_pktmbuf_data_len(m), &fi) == 0);
		CHECK(fi.kind == FRAME_FRAGMENT && fi.ip_version == d->fi.ip_version);
		CHECK((uint64_t)start + fi.frag_offset + fi.payload_len <= d->len);
		CHECK(memcmp(d->data + start + fi.frag_offset, b + fi.payload_offset,
			     fi.payload_len) == 0);
		if (fi.frag_offset + fi.payload_len > end)
			end = fi.frag_offset + fi.payload_len;
	}
	/* Ethernet padding behind the IP datagram is not part of it. */
	uint32_t ip_end = d->fi.ip_version == 4
				  ? l3 + ((uint32_t)d->data[l3 + 2] << 8 | d->data[l3 + 3])
				  : start + ((uint32_t)d->data[l3 + 4] << 8 | d->data[l3 + 5]);
	CHECK(ip_end == start + end);
}

static void check_msg(const struct wctx *wc, const struct dp_msg *d, uint16_t n_in,
		      unsigned base, uint16_t burst)
{
	CHECK(d->action <= DP_ACT_DROP);
	CHECK(d->pkt_idx < n_in);
	CHECK(d->n_pkts >= 1 && d->n_pkts <= DP_FRAG_MAX);
	CHECK(d->tcp == (d->fi.kind == FRAME_SIP_TCP));
	CHECK(d->fi.kind == FRAME_SIP_UDP || d->fi.kind == FRAME_SIP_TCP);
	CHECK(d->scan_rc == 0 || d->scan_rc == -EPROTO || d->scan_rc == -EBADMSG);
	CHECK(d->data != NULL && d->len <= DP_REASM_MAX);
	CHECK((uint64_t)d->fi.payload_offset + d->fi.payload_len <= d->len);
	CHECK(d->msg.n_uris <= SIP_MAX_URIS && d->msg.n_via <= SIP_MAX_VIA);
	if (d->action == DP_ACT_BLOCK)
		CHECK(!d->tcp && d->v.action == VERDICT_BLOCK);
	if (d->action == DP_ACT_DROP)
		CHECK(!d->tcp && wc->cfg.drop_unparsable &&
		      (d->scan_rc == -EBADMSG || d->v.reason == VERDICT_R_TOO_MANY_URIS) &&
		      d->v.action != VERDICT_BLOCK);
	if (d->action == DP_ACT_FORWARD && !d->tcp)
		CHECK(d->v.action != VERDICT_BLOCK);
	if (d->v.action == VERDICT_BLOCK)
		CHECK(d->scan_rc == 0 && d->v.uri < d->msg.n_uris && d->v.hdr < SIP_HDR__COUNT &&
		      d->msg.uris[d->v.uri].hdr == d->v.hdr);

	const uint8_t *pl = d->data + d->fi.payload_offset;
	if (d->scan_rc == 0) {
		CHECK(view_in(&d->msg.method_name, pl, d->fi.payload_len));
		CHECK(view_in(&d->msg.call_id, pl, d->fi.payload_len));
		CHECK(view_in(&d->msg.from, pl, d->fi.payload_len));
		CHECK(view_in(&d->msg.to, pl, d->fi.payload_len));
		CHECK(view_in(&d->msg.cseq, pl, d->fi.payload_len));
		CHECK(d->msg.header_len <= d->fi.payload_len);
		for (unsigned k = 0; k < d->msg.n_via; k++)
			CHECK(view_in(&d->msg.via[k], pl, d->fi.payload_len));
		for (unsigned k = 0; k < d->msg.n_uris; k++) {
			CHECK(view_in(&d->msg.uris[k].uri, pl, d->fi.payload_len));
			CHECK(view_in(&d->msg.uris[k].user, pl, d->fi.payload_len));
			CHECK(view_in(&d->msg.uris[k].phone_context, pl, d->fi.payload_len));
		}
	}

	/* A dropped message's mbufs are freed already: the pointers are all
	 * that is left of them. */
	if (d->action == DP_ACT_DROP)
		return;
	/* The frame at pkt_idx is the one that made (or completed) it. */
	const struct frame *in = &fr[base + d->pkt_idx];
	bool found = false;
	for (unsigned p = 0; p < d->n_pkts; p++) {
		struct tag *t = tag_of(d->pkts[p]);
		CHECK(t->magic == TAG_MAGIC && t->gen == gen && t->idx < n_fr);
		if (d->pkts[p] == in->m)
			found = true;
	}
	CHECK(found && in->burst == burst);
	if (d->reassembled) {
		check_rebuilt(d);
	} else {
		CHECK(d->n_pkts == 1 && rte_pktmbuf_is_contiguous(d->pkts[0]));
		CHECK(d->data == rte_pktmbuf_mtod(d->pkts[0], const uint8_t *) &&
		      d->len == rte_pktmbuf_data_len(d->pkts[0]));
	}
}

static const struct frame *frame_of(const struct rte_mbuf *m)
{
	/* The newest: a freed mbuf may carry a later frame. */
	for (unsigned i = n_fr; i-- > 0;)
		if (fr[i].m == m)
			return &fr[i];
	return NULL;
}

static bool same_datagram(const struct frame *a, const struct frame *b)
{
	return a->frag && b->frag && a->fi.ip_version == b->fi.ip_version &&
	       a->fi.frag_id == b->fi.frag_id &&
	       memcmp(a->fi.src_addr, b->fi.src_addr, 16) == 0 &&
	       memcmp(a->fi.dst_addr, b->fi.dst_addr, 16) == 0;
}

/* A datagram blocked or dropped in this call: no fragment of it may be
 * forwarded by the same call ("late duplicates share its fate").  Runs
 * before the mbufs are freed; a dropped message's are freed already, so
 * frames are found by pointer, not through the mbuf. */
static void check_same_fate(void)
{
	for (uint16_t k = 0; k < out.n_msgs; k++) {
		const struct dp_msg *d = &out.msgs[k];

		if (!d->reassembled)
			continue;
		const struct frame *a = frame_of(d->pkts[0]);
		CHECK(a != NULL);
		for (uint16_t i = 0; i < out.n_fwd; i++) {
			const struct frame *b = frame_of(out.fwd[i]);
			bool own = false;

			if (!same_datagram(a, b))
				continue;
			for (unsigned p = 0; p < d->n_pkts && d->action == DP_ACT_FORWARD; p++)
				own |= out.fwd[i] == d->pkts[p];
			if (own)
				continue;
			fprintf(stderr, "fuzz_dp_pipeline: fragment id %#x of a datagram %s in "
				"this call (frame %u) is forwarded by it (frame %u)\n",
				a->fi.frag_id, d->action == DP_ACT_BLOCK  ? "blocked"
					       : d->action == DP_ACT_DROP ? "dropped"
									  : "completed",
				(unsigned)(a - fr), (unsigned)(b - fr));
			abort();
		}
	}
}

/* Check and consume one call's output.  n_in frames from fr[base] were
 * given (0 for flush). */
static void consume(const struct wctx *wc, uint16_t ret, uint16_t n_in, unsigned base,
		    uint16_t burst)
{
	CHECK(ret == out.n_fwd && out.n_fwd <= DP_OUT_MAX);
	CHECK(out.n_msgs <= n_in);
	CHECK(dp_worker_pending(wc->w) <= wc->cfg.frag_max_datagrams);

	for (uint16_t k = 0; k < out.n_msgs; k++)
		check_msg(wc, &out.msgs[k], n_in, base, burst);

	int last = -1;
	for (uint16_t i = 0; i < out.n_fwd; i++) {
		struct frame *f = take_back(out.fwd[i], F_FWD);
		if (!out.held) {
			CHECK(f->burst == burst && (int)(f - fr) > last);
			last = (int)(f - fr);
		}
	}
	n_fwd += out.n_fwd;
	n_msgs += out.n_msgs;
	for (uint16_t k = 0; k < out.n_msgs; k++) {
		struct dp_msg *d = &out.msgs[k];
		if (d->action == DP_ACT_BLOCK) {
			n_block_msgs++;
			for (unsigned p = 0; p < d->n_pkts; p++)
				take_back(d->pkts[p], F_BLOCKED);
			n_blocked += d->n_pkts;
		} else if (d->action == DP_ACT_FORWARD) {
			for (unsigned p = 0; p < d->n_pkts; p++)
				CHECK(fr[tag_of(d->pkts[p])->idx].state == F_FWD &&
				      fr[tag_of(d->pkts[p])->idx].m == d->pkts[p]);
		} else {
			n_drop_msgs++;
		}
	}
	check_same_fate();
	/* Views die with the mbufs; everything is checked by now. */
	for (uint16_t k = 0; k < out.n_msgs; k++)
		if (out.msgs[k].action == DP_ACT_BLOCK)
			rte_pktmbuf_free_bulk(out.msgs[k].pkts, out.msgs[k].n_pkts);
	rte_pktmbuf_free_bulk(out.fwd, out.n_fwd);
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return (x > y) - (x < y);
}

/* Take every object of mp out and put it back: each must be there, once. */
static void pool_drain(struct rte_mempool *mp, bool tagged)
{
	static void *objs[4096];
	unsigned n = 0;

	drain_pass++;
	CHECK(rte_mempool_in_use_count(mp) == 0);
	while (n < RTE_DIM(objs) && rte_mempool_get(mp, &objs[n]) == 0)
		n++;
	CHECK(n == mp->size);
	if (tagged) {
		for (unsigned i = 0; i < n; i++) {
			struct tag *t = tag_of(objs[i]);
			CHECK(t->drain != drain_pass);
			t->drain = drain_pass;
		}
	} else {
		/* No room of ours in the worker's mbufs: compare addresses. */
		qsort(objs, n, sizeof(objs[0]), ptr_cmp);
		for (unsigned i = 1; i < n; i++)
			CHECK(objs[i] != objs[i - 1]);
	}
	rte_mempool_put_bulk(mp, objs, n);
}

static void feed(struct wctx *wc, unsigned base, unsigned n, uint16_t burst)
{
	struct rte_mbuf *pkts[DP_BURST_MAX];

	for (unsigned i = 0; i < n; i++) {
		pkts[i] = fr[base + i].m;
		fr[base + i].state = F_HELD;
		fr[base + i].burst = burst;
	}
	uint16_t r = dp_pipeline_process_burst(wc->w, pkts, (uint16_t)n, now, &out);
	consume(wc, r, (uint16_t)n, base, burst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct wctx *wc = &workers[data[0] & 1];
	struct dp_counters before = *dp_worker_counters(wc->w);
	size_t o = 1;
	unsigned base = 0, fed = 0;
	uint16_t burst = 1;

	gen++;
	n_fr = 0;
	n_fwd = n_blocked = n_msgs = n_block_msgs = n_drop_msgs = 0;
	memset(fr, 0, sizeof(fr));
	while (o < size && n_fr < MAX_FRAMES) {
		uint8_t op = data[o++];
		bool cut = false;

		if ((op & 0xc0) == 0xc0) {
			cut = true;
		} else if (op & 0x80) {
			if (n_fr == 0)
				continue;
			fr[n_fr].bytes = fr[(op & 0x3f) % n_fr].bytes;
			fr[n_fr].len = fr[(op & 0x3f) % n_fr].len;
			fr[n_fr].m = make_mbuf(n_fr, false);
			n_fr++;
		} else {
			if (o >= size)
				break;
			size_t len = (size_t)(op & 0x1f) << 8 | data[o++];
			if (len > size - o)
				len = size - o;
			fr[n_fr].bytes = data + o;
			fr[n_fr].len = (uint16_t)len;
			o += len;
			fr[n_fr].m = make_mbuf(n_fr, op & 0x20);
			n_fr++;
		}
		if (cut || n_fr - base == DP_BURST_MAX) {
			feed(wc, base, n_fr - base, burst++);
			fed += n_fr - base;
			base = n_fr;
		}
		if (cut)
			now += 4 * (uint64_t)(op & 0x3f);
	}
	if (n_fr > base) {
		feed(wc, base, n_fr - base, burst++);
		fed += n_fr - base;
	}
	now += 1;
	unsigned calls = 0;
	do {
		CHECK(++calls <= 2 * 1024);
		uint16_t r = dp_pipeline_flush(wc->w, &out);
		consume(wc, r, 0, 0, burst);
	} while (dp_worker_pending(wc->w) > 0 || out.n_fwd > 0);
	CHECK(fed == n_fr);

	const struct dp_counters *after = dp_worker_counters(wc->w);
#define D(k) (after->c[k] - before.c[k])
	unsigned not_back = 0;
	for (unsigned i = 0; i < n_fr; i++) {
		CHECK(fr[i].state != F_UNFED);
		not_back += fr[i].state == F_HELD;
	}
	CHECK(D(DP_C_RX) == n_fr);
	CHECK(D(DP_C_FWD) == n_fwd);
	CHECK(D(DP_C_DROP) == not_back && n_fwd + n_blocked + not_back == n_fr);
	CHECK(D(DP_C_BLOCK) == n_block_msgs);
	CHECK(D(DP_C_UNPARSABLE_DROP) == n_drop_msgs);
	CHECK(D(DP_C_SIP_UDP) + D(DP_C_SIP_TCP) == n_msgs);
	CHECK(D(DP_C_FRAG_RX) <= n_fr);
	uint64_t reasons = 0;
	for (unsigned r = 0; r < VERDICT_R__COUNT; r++)
		reasons += after->reason[r] - before.reason[r];
	CHECK(reasons == n_msgs);
	if (verbose) {
		fprintf(stderr, "fuzz_dp_pipeline: worker %u, %u frames:", data[0] & 1, n_fr);
		for (unsigned k = 0; k < DP_C__COUNT; k++)
			if (D(k) != 0)
				fprintf(stderr, " %s=%llu", dp_counter_name(k),
					(unsigned long long)D(k));
		fprintf(stderr, "\n");
	}
#undef D
	pool_drain(pool, true);
	pool_drain(wc->copy_pool, false);
	return 0;
}

static void worker_init(struct wctx *wc, unsigned i)
{
	char name[16];

	dp_pipeline_config_default(&wc->cfg);
	wc->cfg.frag_timeout_ms = TIMEOUT_MS;
	if (i == 0) {
		wc->cfg.frag_max_datagrams = 4;
		wc->cfg.frag_max_fragments = 4;
		wc->cfg.frag_incomplete = DP_FRAG_FORWARD;
	} else {
		wc->cfg.frag_max_datagrams = 8;
		wc->cfg.frag_max_fragments = DP_FRAG_MAX;
		wc->cfg.frag_incomplete = DP_FRAG_DROP;
		wc->cfg.drop_bad_frames = true;
		wc->cfg.drop_unparsable = true;
	}
	wc->cfg.frame.sip_ports[0] = 5060;
	wc->cfg.frame.sip_ports[1] = 5080;
	wc->cfg.frame.n_sip_ports = 2;
	snprintf(name, sizeof(name), "fz%u", i);
	wc->w = dp_worker_create(name, &wc->cfg, trie, HZ, SOCKET_ID_ANY);
	if (wc->w == NULL) {
		fprintf(stderr, "fuzz_dp_pipeline: dp_worker_create: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(name, sizeof(name), "fc_fz%u", i);
	wc->copy_pool = rte_mempool_lookup(name);
	CHECK(wc->copy_pool != NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64], lcore[32], err[256];
	cpu_set_t set;
	int cpu = 0;
	struct listfile lf;

	(void)argc;
	verbose = getenv("FUZZ_DP_PIPELINE_VERBOSE") != NULL;
	/* Off only while the same-burst late-fragment bug stands (tools/fuzz-run). */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	snprintf(prefix, sizeof(prefix), "--file-prefix=teishi-fuzz-%ld", (long)getpid());
	snprintf(lcore, sizeof(lcore), "-l%d", cpu);
	char *eal[] = {
		(*argv)[0], lcore, "--no-huge", "--no-shconf", "--no-pci", "--no-telemetry",
		"-m", "256", prefix, "--log-level=lib.*:error", "--log-level=pmd.*:error",
		"--log-level=user.*:error", "--log-level=user1:error", NULL,
	};
	rte_openlog_stream(stderr);
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_dp_pipeline: cannot start DPDK's EAL: %s\n",
			rte_strerror(rte_errno));
		exit(1);
	}
	pool = rte_pktmbuf_pool_create("fz_rx", POOL_MBUFS, 0,
				       RTE_ALIGN(sizeof(struct tag), RTE_MBUF_PRIV_ALIGN), 0,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "fuzz_dp_pipeline: mbuf pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	if (listfile_parse("list", list_text, sizeof(list_text) - 1, VERDICT_BLOCK, &lf, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_dp_pipeline: %s\n", err);
		exit(1);
	}
	trie = ntrie_create(NULL);
	CHECK(trie != NULL && ntrie_build(trie, lf.entries, lf.n) == 0);
	listfile_free(&lf);
	worker_init(&workers[0], 0);
	worker_init(&workers[1], 1);
	return 0;
}
