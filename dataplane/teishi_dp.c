/* teishi-dp: the DPDK bump-in-the-wire.
 *
 * Every worker lcore owns queue q of every port and runs, without locks:
 *   RX burst -> dp_pipeline (parse, fragment checks + reassembly, SIP scan,
 *   bulk verdict) -> forward to the peer port / reject out the ingress port
 *   / drop -> TX burst,
 * and reports an RCU quiescent state each loop, so that a live trie update
 * (the sync module) can retire memory through the RCU defer queue.
 *
 * The main lcore does everything that may wait: it drains the blocked-call
 * event ring into --events, reclaims retired trie memory, prints and dumps
 * the stats, and handles the signals.  With --redis a sync thread (a DPDK
 * control thread) is the trie's one writer: it follows the list in Redis
 * (sync.h) and drains the event ring into teishi:events (and --events)
 * instead of the main lcore.  Telemetry callbacks run on DPDK's telemetry
 * thread and only read; what they show of the list while the sync thread
 * writes is its snapshot, published after each change.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_telemetry.h>

#include <jansson.h>

#include "dp_config.h"
#include "dp_pipeline.h"
#include "dp_reject.h"
#include "jsonbytes.h"
#include "listfile.h"
#include "ntrie.h"
#include "sipreply.h"
#include "sync.h"
#include "verdict.h"

#define MAX_PORTS (2 * DP_MAX_PAIRS)
#define NO_PEER UINT16_MAX
/* How often an idle worker still calls the pipeline so that incomplete
 * datagrams time out (microseconds). */
#define EXPIRE_POLL_US 1000
/* Longest a buffered frame waits for its TX queue to fill while traffic
 * flows (l3fwd's BURST_TX_DRAIN_US); an idle poll flushes at once. */
#define TX_DRAIN_US 100
/* How often a worker re-reads CLOCK_REALTIME for event times; between
 * reads they come from the TSC. */
#define CLOCK_ANCHOR_US 1000000
/* The heartbeat in Redis (--redis): written this often, gone this long
 * after the last one. */
#define HEARTBEAT_EVERY_NS 1000000000ull
/* --redis-cache is rewritten at most this often while the list changes. */

/* A blocked call, as the workers put it on the event ring. */
struct dp_event {
	uint64_t time_ns;   /* CLOCK_REALTIME */
	uint8_t side;       /* enum verdict_side */
	uint8_t hdr;        /* enum sip_hdr */
	uint8_t action;     /* enum dp_side_action */
	uint8_t ip_version;
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport, dport;
	uint16_t port;      /* ingress port */
	uint16_t code;      /* reject code (0: dropped) */
	uint32_t entry_id;  /* list line (NTRIE_VALUE_ID) */
	uint8_t entry_kind; /* enum ntrie_kind */
	uint8_t entry_len;  /* digits of the entry */
	uint8_t num_len;
	uint8_t call_id_len;
	char number[NUM_MAX_DIGITS + 1];
	char call_id[80];
} __rte_aligned(8);

/* Counters of the application around the pipeline (per worker). */
enum app_counter {
	A_REJECT_SENT = 0,  /* rejects handed to TX */
	A_REJECT_FAIL,      /* blocked, but no reject could be built (counted by errno in logs) */
	A_BLOCK_DROP,       /* blocked and dropped by the side's action */
	A_BLOCK_CALLING,    /* blocked by a calling-side number */
	A_BLOCK_CALLED,     /* blocked by a called-side number */
	A_TX_DROP,          /* mbufs the TX queue did not take */
	A_EVENT_LOST,       /* events that found the ring full */
	A__COUNT,
};

static const char *const app_counter_names[A__COUNT] = {
	"rejects_sent", "reject_failures", "blocked_dropped", "blocked_calling",
	"blocked_called", "tx_drops", "events_lost",
};

/* Frames wait here until DP_BURST_MAX are due for the port, the drain
 * timer runs out or the worker finds nothing to receive.  Room: a partial
 * burst left over plus one pipeline result (forwards and rejects). */
struct txq {
	struct rte_mbuf *pkts[DP_BURST_MAX + DP_OUT_MAX + DP_BURST_MAX * DP_REJECT_MAX_FRAMES];
	uint16_t n;
};

struct worker {
	unsigned lcore;
	uint16_t queue;      /* its queue on every port; also its RCU thread id */
	struct dp_worker *dw;
	struct dp_burst_out *out;
	volatile uint64_t last_rx_tsc;
	struct txq *txq;     /* by port index in app.ports */
	/* Event times: CLOCK_REALTIME at anchor_tsc, plus TSC ticks. */
	uint64_t anchor_ns, anchor_tsc;
	uint64_t ns_mult; /* ns per TSC tick << 32 */
	uint32_t frag_ident; /* identification of the next fragmented reject */
	uint64_t c[A__COUNT];
} __rte_cache_aligned;

/* The list and the session as readers other than the writer see them. */
struct list_view {
	struct ntrie_stats ts;
	struct sync_stats ss;  /* zero in static mode */
	uint64_t rebuilds;     /* batches applied as one build */
};

static struct {
	struct dp_app_config cfg;
	uint16_t ports[MAX_PORTS];
	unsigned n_ports;
	uint16_t peer[RTE_MAX_ETHPORTS];
	uint8_t port_idx[RTE_MAX_ETHPORTS]; /* index in ports[] */
	uint16_t mtu[MAX_PORTS];            /* by index in ports[]: rejects larger are fragmented */
	struct worker *workers;
	unsigned n_workers;
	struct rte_mempool *pool;
	struct ntrie *trie;
	struct listfile list;
	struct rte_rcu_qsbr *rcu;
	struct rte_rcu_qsbr_dq *dq;
	struct rte_ring *events;
	FILE *events_f;
	struct sipreply_status status[2];
	uint64_t started_ns;
	/* --redis: the session, its thread, and what it last published */
	struct sync *sync;
	pthread_t sync_thread;
	bool sync_running;
	struct sync_ntrie sync_nt;        /* the session's hold on the trie */
	struct sync_cache cache;          /* --redis-cache: path NULL when not given */
	pthread_mutex_t snap_lock;
	struct list_view snap;
	char name[64];
} app = { .snap_lock = PTHREAD_MUTEX_INITIALIZER, .cache = { .version = UINT64_MAX } };

static volatile sig_atomic_t quit;
static volatile sig_atomic_t dump_req;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_req = 1;
	else
		quit = 1;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ntrie retire callback: the writer's old memory goes on the RCU defer
 * queue and is freed once every worker has reported a quiescent state. */
static void rcu_free(void *p, void *e, unsigned int n)
{
	void **ptrs = e;

	(void)p;
	for (unsigned i = 0; i < n; i++)
		free(ptrs[i]);
}

static void trie_retire(void *ctx, void *ptr)
{
	(void)ctx;
	if (app.dq == NULL || rte_rcu_qsbr_dq_enqueue(app.dq, &ptr) != 0) {
		/* Queue full and nothing reclaimable yet: the writer (never a
		 * worker) waits for a grace period instead. */
		if (app.rcu)
			rte_rcu_qsbr_synchronize(app.rcu, RTE_QSBR_THRID_INVALID);
		free(ptr);
	}
}

/* For readers other than the writer: with --redis the snapshot the sync
 * thread published, since ntrie_stats() may not run beside the writer. */
static void list_view(struct list_view *v)
{
	if (app.sync == NULL) {
		memset(v, 0, sizeof(*v));
		ntrie_stats(app.trie, &v->ts);
		return;
	}
	pthread_mutex_lock(&app.snap_lock);
	*v = app.snap;
	pthread_mutex_unlock(&app.snap_lock);
}

/* Writer side: publish what list_view() hands out. */
static void publish_list_view(void)
{
	struct list_view v;

	ntrie_stats(app.trie, &v.ts);
	sync_get_stats(app.sync, &v.ss);
	v.rebuilds = app.sync_nt.rebuilds;
	pthread_mutex_lock(&app.snap_lock);
	app.snap = v;
	pthread_mutex_unlock(&app.snap_lock);
}

/* Wall-clock time of TSC reading tsc, without a system call per event. */
static uint64_t event_time_ns(const struct worker *w, uint64_t tsc)
{
	uint64_t d = tsc > w->anchor_tsc ? tsc - w->anchor_tsc : 0;

	return w->anchor_ns + (uint64_t)((unsigned __int128)d * w->ns_mult >> 32);
}

static void anchor_clock(struct worker *w)
{
	w->ns_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / rte_get_tsc_hz());
	w->anchor_tsc = rte_rdtsc();
	w->anchor_ns = realtime_ns();
}

static void fill_event(struct dp_event *ev, uint64_t time_ns, const struct dp_msg *m,
		       uint16_t port, uint8_t action, uint16_t code)
{
	memset(ev, 0, sizeof(*ev));
	ev->time_ns = time_ns;
	ev->side = m->v.side;
	ev->hdr = m->v.hdr;
	ev->action = action;
	ev->ip_version = m->fi.ip_version;
	memcpy(ev->src, m->fi.src_addr, 16);
	memcpy(ev->dst, m->fi.dst_addr, 16);
	ev->sport = m->fi.src_port;
	ev->dport = m->fi.dst_port;
	ev->port = port;
	ev->code = code;
	ev->entry_id = NTRIE_VALUE_ID(m->v.match.value);
	ev->entry_kind = m->v.match.kind;
	ev->entry_len = m->v.match.len;
	ev->num_len = m->v.number.len;
	memcpy(ev->number, m->v.number.digits, sizeof(ev->number));
	ev->call_id_len = (uint8_t)RTE_MIN(m->msg.call_id.len, sizeof(ev->call_id));
	memcpy(ev->call_id, m->msg.call_id.p, ev->call_id_len);
}

static void tx_flush(struct worker *w, uint16_t port, struct txq *q)
{
	uint16_t sent = 0;

	if (q->n == 0)
		return;
	sent = rte_eth_tx_burst(port, w->queue, q->pkts, q->n);
	if (sent < q->n) {
		w->c[A_TX_DROP] += (uint64_t)(q->n - sent);
		rte_pktmbuf_free_bulk(q->pkts + sent, q->n - sent);
	}
	q->n = 0;
}

/* Route one pipeline result: forwarded mbufs to the peer of the port they
 * came in on (released fragments may come from an earlier burst or another
 * port), blocked messages to a reject out their ingress port or nowhere.
 * Only buffers: the caller flushes (tx_flush_full / tx_flush_all).
 * now: the TSC of the burst, for event times. */
static void dispatch(struct worker *w, uint16_t rx_port, struct dp_burst_out *out,
		     struct txq *txq, uint64_t now)
{
	struct dp_event ev[DP_BURST_MAX];
	unsigned n_ev = 0;

	if (likely(!out->held)) {
		/* All from rx_port: one copy of the pointers. */
		struct txq *q = &txq[app.port_idx[app.peer[rx_port]]];

		memcpy(&q->pkts[q->n], out->fwd, sizeof(out->fwd[0]) * out->n_fwd);
		q->n += out->n_fwd;
	} else {
		for (uint16_t i = 0; i < out->n_fwd; i++) {
			struct rte_mbuf *m = out->fwd[i];
			uint16_t in = m->port;

			if (unlikely(in >= RTE_MAX_ETHPORTS || app.peer[in] == NO_PEER))
				in = rx_port;
			struct txq *q = &txq[app.port_idx[app.peer[in]]];

			q->pkts[q->n++] = m;
		}
	}
	for (uint16_t i = 0; i < out->n_msgs; i++) {
		struct dp_msg *m = &out->msgs[i];
		uint16_t in;
		uint8_t side, action;

		if (likely(m->action != DP_ACT_BLOCK))
			continue;
		in = m->n_pkts && m->pkts[0]->port < RTE_MAX_ETHPORTS &&
				     app.peer[m->pkts[0]->port] != NO_PEER
			     ? m->pkts[0]->port
			     : rx_port;
		side = m->v.side == VERDICT_SIDE_CALLING ? VERDICT_SIDE_CALLING : VERDICT_SIDE_CALLED;
		action = app.cfg.action[side];
		w->c[side == VERDICT_SIDE_CALLING ? A_BLOCK_CALLING : A_BLOCK_CALLED]++;
		if (action == DP_SIDE_REJECT) {
			struct rte_mbuf *r[DP_REJECT_MAX_FRAMES];
			int nr = dp_reject_build(app.pool, m, &app.status[side],
						 app.mtu[app.port_idx[in]], w->frag_ident, r);

			if (nr > 0) {
				struct txq *q = &txq[app.port_idx[in]];

				if (nr > 1) /* distinct across workers, so never reused in flight */
					w->frag_ident += app.n_workers;
				for (int k = 0; k < nr; k++)
					q->pkts[q->n++] = r[k];
				w->c[A_REJECT_SENT]++;
			} else {
				w->c[A_REJECT_FAIL]++;
			}
		} else {
			w->c[A_BLOCK_DROP]++;
		}
		fill_event(&ev[n_ev++], event_time_ns(w, now), m, in, action,
			   action == DP_SIDE_REJECT ? app.cfg.code[side] : 0);
		rte_pktmbuf_free_bulk(m->pkts, m->n_pkts);
		m->n_pkts = 0;
	}
	if (n_ev > 0) {
		unsigned q = rte_ring_mp_enqueue_burst_elem(app.events, ev, sizeof(ev[0]), n_ev,
							    NULL);

		w->c[A_EVENT_LOST] += n_ev - q;
	}
}

/* Send the queues that hold at least a burst: TX bursts stay full while
 * traffic flows. */
static void tx_flush_full(struct worker *w)
{
	for (unsigned j = 0; j < app.n_ports; j++)
		if (w->txq[j].n >= DP_BURST_MAX)
			tx_flush(w, app.ports[j], &w->txq[j]);
}

static void tx_flush_all(struct worker *w)
{
	for (unsigned j = 0; j < app.n_ports; j++)
		tx_flush(w, app.ports[j], &w->txq[j]);
}

static int worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST_MAX];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t expire_every = hz / (1000000 / EXPIRE_POLL_US);
	uint64_t drain_every = hz / (1000000 / TX_DRAIN_US);
	uint64_t anchor_every = hz / 1000000 * CLOCK_ANCHOR_US;
	uint64_t last_expire = rte_rdtsc(), last_drain = last_expire;

	anchor_clock(w);
	rte_rcu_qsbr_thread_register(app.rcu, w->queue);
	rte_rcu_qsbr_thread_online(app.rcu, w->queue);
	while (!quit) {
		bool any = false;
		uint64_t now = 0;

		for (unsigned i = 0; i < app.n_ports; i++) {
			uint16_t port = app.ports[i];
			uint16_t n = rte_eth_rx_burst(port, w->queue, pkts, DP_BURST_MAX);

			if (n == 0)
				continue;
			now = rte_rdtsc();
			w->last_rx_tsc = now;
			any = true;
			dp_pipeline_process_burst(w->dw, pkts, n, now, w->out);
			dispatch(w, port, w->out, w->txq, now);
			tx_flush_full(w);
		}
		if (!any) {
			now = rte_rdtsc();
			tx_flush_all(w);
			last_drain = now;
			if (dp_worker_pending(w->dw) > 0 && now - last_expire >= expire_every) {
				last_expire = now;
				dp_pipeline_process_burst(w->dw, pkts, 0, now, w->out);
				dispatch(w, app.ports[0], w->out, w->txq, now);
				tx_flush_all(w);
			}
		} else if (now - last_drain >= drain_every) {
			last_drain = now;
			tx_flush_all(w);
		}
		if (unlikely(now - w->anchor_tsc >= anchor_every))
			anchor_clock(w);
		rte_rcu_qsbr_quiescent(app.rcu, w->queue);
	}
	/* Datagrams still being reassembled leave by the incomplete policy. */
	while (dp_worker_pending(w->dw) > 0 || w->out->n_fwd > 0) {
		if (dp_pipeline_flush(w->dw, w->out) == 0 && dp_worker_pending(w->dw) == 0)
			break;
		dispatch(w, app.ports[0], w->out, w->txq, rte_rdtsc());
		tx_flush_all(w);
	}
	tx_flush_all(w);
	rte_rcu_qsbr_thread_offline(app.rcu, w->queue);
	rte_rcu_qsbr_thread_unregister(app.rcu, w->queue);
	return 0;
}

/* Everything summed over the workers. */
struct totals {
	struct dp_counters dp;
	uint64_t a[A__COUNT];
};

static void sum_totals(struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < app.n_workers; i++) {
		dp_counters_add(&t->dp, dp_worker_counters(app.workers[i].dw));
		for (int k = 0; k < A__COUNT; k++)
			t->a[k] += app.workers[i].c[k];
	}
}

/* The headline figures the issue names, derived from the pipeline's
 * verdict reasons. */
struct headline {
	uint64_t frames, sip_requests, invites, initial_invites, blocked, parse_errors,
		frag_reassembled, frag_timed_out, tx_drops;
};

static void headline(const struct totals *t, struct headline *h)
{
	const uint64_t *r = t->dp.reason;

	h->frames = t->dp.c[DP_C_RX];
	h->initial_invites = r[VERDICT_R_EMERGENCY] + r[VERDICT_R_NO_MATCH] + r[VERDICT_R_MATCH];
	h->invites = h->initial_invites + r[VERDICT_R_IN_DIALOG];
	h->sip_requests = h->invites + r[VERDICT_R_NOT_INVITE];
	h->blocked = t->a[A_BLOCK_CALLING] + t->a[A_BLOCK_CALLED];
	h->parse_errors = r[VERDICT_R_NOT_SIP] + t->dp.c[DP_C_BAD_FRAME];
	h->frag_reassembled = t->dp.c[DP_C_FRAG_REASSEMBLED];
	h->frag_timed_out = t->dp.c[DP_C_FRAG_TIMEOUT];
	h->tx_drops = t->a[A_TX_DROP];
}

/* An object of counters named by names[0..n). */
static json_t *counter_object(const char *(*name)(unsigned), const uint64_t *v, unsigned n)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < n; i++)
		json_object_set_new(o, name(i), json_integer((json_int_t)v[i]));
	return o;
}

static const char *hdr_name_of(unsigned i) { return sip_hdr_name(i); }
static const char *reason_name_of(unsigned i) { return verdict_reason_name(i); }
static const char *dp_counter_name_of(unsigned i) { return dp_counter_name(i); }
static const char *app_counter_name_of(unsigned i) { return app_counter_names[i]; }

static void write_stats_json(FILE *f)
{
	struct totals t;
	struct headline h;
	struct list_view lv;
	const struct ntrie_stats *ts = &lv.ts;
	const struct sync_stats *ss = &lv.ss;
	json_t *o, *workers;

	sum_totals(&t);
	headline(&t, &h);
	list_view(&lv);
	o = json_pack("{sIsIsIsIsIsIsIsIsI}", "frames", (json_int_t)h.frames,
		      "sip_requests", (json_int_t)h.sip_requests, "invites", (json_int_t)h.invites,
		      "initial_invites", (json_int_t)h.initial_invites, "blocked",
		      (json_int_t)h.blocked, "parse_errors", (json_int_t)h.parse_errors,
		      "fragments_reassembled", (json_int_t)h.frag_reassembled,
		      "fragments_timed_out", (json_int_t)h.frag_timed_out, "tx_drops",
		      (json_int_t)h.tx_drops);
	if (!o)
		return;
	json_object_set_new(o, "blocked_by_side",
			    json_pack("{sIsI}", "calling", (json_int_t)t.a[A_BLOCK_CALLING],
				      "called", (json_int_t)t.a[A_BLOCK_CALLED]));
	json_object_set_new(o, "blocked_by_header",
			    counter_object(hdr_name_of, t.dp.blocked_hdr, SIP_HDR__COUNT));
	json_object_set_new(o, "verdict_reasons",
			    counter_object(reason_name_of, t.dp.reason, VERDICT_R__COUNT));
	json_object_set_new(o, "pipeline", counter_object(dp_counter_name_of, t.dp.c, DP_C__COUNT));
	json_object_set_new(o, "app", counter_object(app_counter_name_of, t.a, A__COUNT));
	json_object_set_new(o, "list", json_pack("{sIsI}", "entries", (json_int_t)ts->entries,
						 "version", (json_int_t)ts->version));
	if (app.sync)
		json_object_set_new(
			o, "sync",
			json_pack("{sssssIsIsIsIsIsIsIsIsIsI}", "state",
				  ss->state == SYNC_FOLLOWING ? "following" : "down", "stream_id",
				  ss->last_id, "loads", (json_int_t)ss->loads, "records",
				  (json_int_t)ss->records, "adds", (json_int_t)ss->adds, "dels",
				  (json_int_t)ss->dels, "bad_entries",
				  (json_int_t)(ss->bad_entries + ss->bad_records), "failures",
				  (json_int_t)ss->failures, "events", (json_int_t)ss->events,
				  "events_failed", (json_int_t)ss->events_failed, "heartbeats",
				  (json_int_t)ss->heartbeats, "rebuilds", (json_int_t)lv.rebuilds));
	json_object_set_new(o, "workers", json_integer(app.n_workers));
	/* Per worker, to show how RSS spread the traffic over the queues. */
	workers = json_array();
	for (unsigned i = 0; i < app.n_workers; i++) {
		const struct worker *w = &app.workers[i];
		const struct dp_counters *c = dp_worker_counters(w->dw);

		json_array_append_new(
			workers,
			json_pack("{sIsIsIsIsIsIsIsIsI}", "lcore", (json_int_t)w->lcore, "queue",
				  (json_int_t)w->queue, "frames", (json_int_t)c->c[DP_C_RX],
				  "sip_udp", (json_int_t)c->c[DP_C_SIP_UDP], "fragments",
				  (json_int_t)c->c[DP_C_FRAG_RX], "fragments_reassembled",
				  (json_int_t)c->c[DP_C_FRAG_REASSEMBLED], "fragments_timed_out",
				  (json_int_t)c->c[DP_C_FRAG_TIMEOUT], "blocked",
				  (json_int_t)(w->c[A_BLOCK_CALLING] + w->c[A_BLOCK_CALLED]),
				  "rejects_sent", (json_int_t)w->c[A_REJECT_SENT]));
	}
	json_object_set_new(o, "per_worker", workers);
	json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(o);
}

static void dump_stats(void)
{
	FILE *f = stdout;

	if (app.cfg.stats_path[0]) {
		f = fopen(app.cfg.stats_path, "w");
		if (f == NULL) {
			fprintf(stderr, "teishi-dp: --stats-file %s: %s\n", app.cfg.stats_path,
				strerror(errno));
			return;
		}
	}
	write_stats_json(f);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

/* Header names as teishi-inspect and the truth files write them
 * ("p-asserted-identity"), with '-' replaced by dash (telemetry names allow
 * no '-'). */
static const char *hdr_key(enum sip_hdr h, char dash, char *buf, size_t n)
{
	const char *name = h < SIP_HDR__COUNT ? sip_hdr_name(h) : "?";
	size_t i;

	for (i = 0; name[i] && i + 1 < n; i++)
		buf[i] = name[i] == '-' ? dash : (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

/* An event's fields as text, for the JSON line and the stream record. */
struct event_text {
	char when[40], side[16], header[32], number[NUM_MAX_DIGITS + 2], entry[NUM_MAX_DIGITS + 3];
	char action[16], code[8], port[8], src[INET6_ADDRSTRLEN], sport[8], dst[INET6_ADDRSTRLEN];
	char dport[8];
};

static void event_text(const struct dp_event *ev, struct event_text *t)
{
	int af = ev->ip_version == 6 ? AF_INET6 : AF_INET;
	time_t secs = (time_t)(ev->time_ns / 1000000000ull);
	struct tm tm;
	size_t n;

	inet_ntop(af, ev->src, t->src, sizeof(t->src));
	inet_ntop(af, ev->dst, t->dst, sizeof(t->dst));
	gmtime_r(&secs, &tm);
	n = strftime(t->when, sizeof(t->when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t->when + n, sizeof(t->when) - n, ".%06uZ",
		 (unsigned)(ev->time_ns % 1000000000ull / 1000));
	snprintf(t->side, sizeof(t->side), "%s", verdict_side_name(ev->side));
	hdr_key(ev->hdr, '-', t->header, sizeof(t->header));
	snprintf(t->entry, sizeof(t->entry), "+%.*s%s", ev->entry_len, ev->number,
		 ev->entry_kind == NTRIE_PREFIX ? "*" : "");
	snprintf(t->number, sizeof(t->number), "+%.*s", ev->num_len, ev->number);
	snprintf(t->action, sizeof(t->action), "%s", dp_side_action_name(ev->action));
	snprintf(t->code, sizeof(t->code), "%u", ev->code);
	snprintf(t->port, sizeof(t->port), "%u", ev->port);
	snprintf(t->sport, sizeof(t->sport), "%u", ev->sport);
	snprintf(t->dport, sizeof(t->dport), "%u", ev->dport);
}

static void write_event(FILE *f, const struct dp_event *ev)
{
	struct event_text t;
	json_t *o;

	event_text(ev, &t);
	o = json_pack("{sssssssssssIsssIsIso}", "time", t.when, "side", t.side, "header", t.header,
		      "number", t.number, "entry", t.entry, "entry_line", (json_int_t)ev->entry_id,
		      "action", t.action, "code", (json_int_t)ev->code, "port",
		      (json_int_t)ev->port, "call_id", json_bytes(ev->call_id, ev->call_id_len));
	if (!o)
		return;
	json_object_set_new(o, "proto", json_string("udp"));
	json_object_set_new(o, "src", json_string(t.src));
	json_object_set_new(o, "sport", json_integer(ev->sport));
	json_object_set_new(o, "dst", json_string(t.dst));
	json_object_set_new(o, "dport", json_integer(ev->dport));
	json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(o);
}

/* One event as a teishi:events record (queued; sync_flush sends it).  The
 * Call-ID comes from the packet: bytes outside printable ASCII become '?',
 * as a NUL would end the field. */
static void queue_event(const struct dp_event *ev)
{
	struct event_text t;
	char call_id[sizeof(ev->call_id) + 1];
	static const char *const f[] = { "time", "side", "header", "number", "entry", "action",
					 "code", "port", "call_id", "proto", "src", "sport", "dst",
					 "dport" };
	const char *v[14];

	event_text(ev, &t);
	for (unsigned i = 0; i < ev->call_id_len; i++) {
		unsigned char c = (unsigned char)ev->call_id[i];

		call_id[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	call_id[ev->call_id_len] = '\0';
	v[0] = t.when;
	v[1] = t.side;
	v[2] = t.header;
	v[3] = t.number;
	v[4] = t.entry;
	v[5] = t.action;
	v[6] = t.code;
	v[7] = t.port;
	v[8] = call_id;
	v[9] = "udp";
	v[10] = t.src;
	v[11] = t.sport;
	v[12] = t.dst;
	v[13] = t.dport;
	sync_event(app.sync, f, v, 14);
}

static void drain_events(void)
{
	struct dp_event ev[32];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst_elem(app.events, ev, sizeof(ev[0]), 32, NULL)) > 0)
		for (unsigned i = 0; i < n; i++) {
			if (app.events_f)
				write_event(app.events_f, &ev[i]);
			if (app.sync)
				queue_event(&ev[i]);
		}
	if (app.events_f)
		fflush(app.events_f);
}

static void print_summary(FILE *f)
{
	struct totals t;
	struct headline h;

	sum_totals(&t);
	headline(&t, &h);
	fprintf(f,
		"teishi-dp: frames %" PRIu64 " sip-requests %" PRIu64 " invites %" PRIu64
		" initial %" PRIu64 " blocked %" PRIu64 " (calling %" PRIu64 ", called %" PRIu64
		") rejects %" PRIu64 " parse-errors %" PRIu64 " reassembled %" PRIu64
		" frag-timeouts %" PRIu64 " tx-drops %" PRIu64 "\n",
		h.frames, h.sip_requests, h.invites, h.initial_invites, h.blocked,
		t.a[A_BLOCK_CALLING], t.a[A_BLOCK_CALLED], t.a[A_REJECT_SENT], h.parse_errors,
		h.frag_reassembled, h.frag_timed_out, h.tx_drops);
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;
	struct headline h;

	(void)cmd;
	(void)params;
	sum_totals(&t);
	headline(&t, &h);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "frames", h.frames);
	rte_tel_data_add_dict_u64(d, "sip_requests", h.sip_requests);
	rte_tel_data_add_dict_u64(d, "invites", h.invites);
	rte_tel_data_add_dict_u64(d, "initial_invites", h.initial_invites);
	rte_tel_data_add_dict_u64(d, "blocked", h.blocked);
	rte_tel_data_add_dict_u64(d, "parse_errors", h.parse_errors);
	rte_tel_data_add_dict_u64(d, "fragments_reassembled", h.frag_reassembled);
	rte_tel_data_add_dict_u64(d, "fragments_timed_out", h.frag_timed_out);
	for (int i = 0; i < A__COUNT; i++)
		rte_tel_data_add_dict_u64(d, app_counter_names[i], t.a[i]);
	for (int i = 0; i < SIP_HDR__COUNT; i++) {
		char k[64], hn[32];

		snprintf(k, sizeof(k), "blocked_%s", hdr_key(i, '_', hn, sizeof(hn)));
		rte_tel_data_add_dict_u64(d, k, t.dp.blocked_hdr[i]);
	}
	for (int i = 0; i < DP_C__COUNT; i++) {
		char k[64];

		snprintf(k, sizeof(k), "pipeline_%s", dp_counter_name(i));
		rte_tel_data_add_dict_u64(d, k, t.dp.c[i]);
	}
	return 0;
}

static int tel_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct list_view lv;
	const struct ntrie_stats *ts = &lv.ts;
	const struct sync_stats *ss = &lv.ss;

	(void)cmd;
	(void)params;
	list_view(&lv);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "source", app.cfg.list_path[0] ? app.cfg.list_path
						 : app.sync		? "redis"
									: "none");
	rte_tel_data_add_dict_u64(d, "entries", ts->entries);
	rte_tel_data_add_dict_u64(d, "prefixes", ts->prefixes);
	rte_tel_data_add_dict_u64(d, "version", ts->version);
	rte_tel_data_add_dict_u64(d, "bytes", ts->bytes);
	if (app.sync) {
		rte_tel_data_add_dict_string(d, "redis", app.cfg.redis);
		rte_tel_data_add_dict_string(d, "sync_state",
					     ss->state == SYNC_FOLLOWING ? "following" : "down");
		rte_tel_data_add_dict_string(d, "stream_id", ss->last_id);
		rte_tel_data_add_dict_u64(d, "loads", ss->loads);
		rte_tel_data_add_dict_u64(d, "records", ss->records);
		rte_tel_data_add_dict_u64(d, "adds", ss->adds);
		rte_tel_data_add_dict_u64(d, "dels", ss->dels);
		rte_tel_data_add_dict_u64(d, "bad_entries", ss->bad_entries + ss->bad_records);
		rte_tel_data_add_dict_u64(d, "failures", ss->failures);
		rte_tel_data_add_dict_u64(d, "events", ss->events);
		rte_tel_data_add_dict_u64(d, "events_failed", ss->events_failed);
	}
	return 0;
}

/* Telemetry names allow letters, digits, '_' and '.': "sip-port" is
 * reported as "sip_port". */
static void tel_config_kv(void *ctx, const char *key, const char *val)
{
	char name[64];
	size_t i;

	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = key[i] == '-' ? '_' : key[i];
	name[i] = '\0';
	rte_tel_data_add_dict_string(ctx, name, val);
}

static int tel_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	dp_config_foreach(&app.cfg, tel_config_kv, d);
	return 0;
}

static int port_init(uint16_t port, uint16_t nq)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = (uint16_t)app.cfg.rx_desc, txd = (uint16_t)app.cfg.tx_desc;
	int rc, socket = rte_eth_dev_socket_id(port);

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc < 0)
		return rc;
	if (nq > 1) {
		/* IP-only hash: every fragment of a datagram carries the same
		 * addresses but only the first has ports, so an L4 hash would
		 * split them over workers. */
		uint64_t hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;

		if (hf == 0) {
			fprintf(stderr,
				"teishi-dp: port %u (%s) has no IP RSS; %u queues are read as they are\n",
				port, info.driver_name, nq);
		} else {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		}
		if (nq > info.max_rx_queues || nq > info.max_tx_queues) {
			fprintf(stderr, "teishi-dp: port %u (%s) has %u RX / %u TX queues, %u workers need %u\n",
				port, info.driver_name, info.max_rx_queues, info.max_tx_queues, nq, nq);
			return -EINVAL;
		}
	}
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_get_mtu(port, &app.mtu[app.port_idx[port]]);
	if (rc < 0)
		return rc;
	if (app.mtu[app.port_idx[port]] < DP_REJECT_MIN_MTU)
		fprintf(stderr, "teishi-dp: port %u: MTU %u is below %u: no rejects can be sent there "
			"(counted as reject_failures)\n", port, app.mtu[app.port_idx[port]],
			DP_REJECT_MIN_MTU);
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rxd, (unsigned)socket, NULL, app.pool);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port, q, txd, (unsigned)socket, NULL);
		if (rc < 0)
			return rc;
	}
	/* Not every PMD has a promiscuous mode (net_pcap, net_ring): fine. */
	rte_eth_promiscuous_enable(port);
	return rte_eth_dev_start(port);
}

/* Write --redis-cache when the list changed since the last write (its
 * version moved) and that write is old enough, or whenever forced; a
 * failure is said once until a write works.  Sync thread (the writer). */
static void cache_maybe_write(bool force)
{
	struct ntrie_stats ts;
	int rc;

	if (!app.cache.path)
		return;
	ntrie_stats(app.trie, &ts);
	rc = sync_cache_update(&app.cache, app.sync, ts.version, force, sync_walk_ntrie, app.trie);
	if (rc < 0 && app.cache.failing == 1)
		fprintf(stderr, "teishi-dp: --redis-cache %s: %s (retrying)\n", app.cache.path,
			strerror(-rc));
}

static void sync_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "teishi-dp: sync: %s\n", msg);
}

static void heartbeat(void)
{
	struct ntrie_stats ts;
	struct sync_stats ss;
	struct totals t;
	struct headline h;
	struct sync_beat b = { .follows = app.cfg.redis,
			       .started = (time_t)(app.started_ns / 1000000000ull) };

	ntrie_stats(app.trie, &ts);
	sync_get_stats(app.sync, &ss);
	sum_totals(&t);
	headline(&t, &h);
	b.entries = ts.entries;
	b.version = ts.version;
	b.frames = h.frames;
	b.blocked = h.blocked;
	/* blocked calls whose events never reached teishi:events: the ring
	 * was full, or Redis refused or lost them */
	b.events_lost = t.a[A_EVENT_LOST] + ss.events_failed;
	sync_heartbeat_dataplane(app.sync, &b);
}

/* The sync thread: the trie's one writer while the workers run.  A failed
 * step is said once, then retried every second until it works again;
 * meanwhile the workers go on with the list as it was. */
static uint64_t next_hb;

/* Events and the heartbeat, when due, to their server. */
static void events_and_heartbeat(void)
{
	drain_events();
	if (realtime_ns() >= next_hb) {
		heartbeat();
		next_hb = realtime_ns() + HEARTBEAT_EVERY_NS;
	}
	sync_flush(app.sync);
}

/* sync_step's idle hook (--redis-write): the followed server is slow to
 * answer, the primary is not. */
static void sync_idle(void *ctx)
{
	(void)ctx;
	events_and_heartbeat();
}

static void *sync_main(void *arg)
{
	bool down = false;

	(void)arg;
	if (app.cfg.redis_write[0])
		sync_set_idle(app.sync, sync_idle, NULL);
	while (!quit) {
		int rc = sync_step(app.sync);

		if (rc < 0) {
			if (!down)
				fprintf(stderr, "teishi-dp: sync: %s; blocking with the list as it was, "
					"retrying every second\n", sync_error(app.sync));
			down = true;
			/* --events does not wait for Redis, nor do events and
			 * the heartbeat going to their own server (--redis-write);
			 * otherwise events wait in the ring, as many as it holds
			 * (those drained here are lost to teishi:events, and
			 * counted). */
			if (app.cfg.redis_write[0]) {
				events_and_heartbeat();
			} else if (app.events_f) {
				drain_events();
				sync_flush(app.sync);
			}
			cache_maybe_write(false);
			publish_list_view();
			for (int i = 0; i < 10 && !quit; i++)
				rte_delay_us_sleep(100000);
			continue;
		}
		if (down) {
			struct sync_stats ss;

			sync_get_stats(app.sync, &ss);
			fprintf(stderr, "teishi-dp: sync: following %s again from %s\n",
				app.cfg.redis, ss.last_id);
		}
		down = false;
		events_and_heartbeat();
		cache_maybe_write(false);
		publish_list_view();
	}
	cache_maybe_write(true);
	return NULL;
}

/* The session from --redis and friends, and the list's first load: the
 * workers start with it. */
static int sync_setup(void)
{
	char host[PATH_MAX], whost[PATH_MAX], password[512] = "", err[PATH_MAX + 128];
	struct sync_config sc = { 0 };
	int port, wport = 0, rc;

	if (sync_parse_addr(app.cfg.redis, host, sizeof(host), &port, err, sizeof(err)) < 0 ||
	    (app.cfg.redis_write[0] &&
	     sync_parse_addr(app.cfg.redis_write, whost, sizeof(whost), &wport, err,
			     sizeof(err)) < 0)) {
		fprintf(stderr, "teishi-dp: --redis: %s\n", err);
		return -EINVAL;
	}
	if (app.cfg.redis_password_file[0] &&
	    sync_read_password(app.cfg.redis_password_file, password, sizeof(password), err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "teishi-dp: --redis-password-file %s\n", err);
		return -EINVAL;
	}
	if (app.cfg.name[0])
		snprintf(app.name, sizeof(app.name), "%s", app.cfg.name);
	else
		sync_default_name("teishi-dp", app.name, sizeof(app.name));
	sc.host = host;
	sc.port = port;
	sc.write_host = app.cfg.redis_write[0] ? whost : NULL;
	sc.write_port = wport;
	sc.user = app.cfg.redis_user[0] ? app.cfg.redis_user : NULL;
	sc.password = app.cfg.redis_password_file[0] ? password : NULL;
	sc.name = app.name;
	app.sync_nt.t = app.trie;
	app.sync_nt.warn = sync_warn;
	app.sync = sync_create(&sc, &sync_ntrie_ops, &app.sync_nt);
	explicit_bzero(password, sizeof(password));
	if (app.sync == NULL) {
		fprintf(stderr, "teishi-dp: --redis %s: %s\n", app.cfg.redis, strerror(errno));
		return -errno;
	}
	app.cache.path = app.cfg.redis_cache[0] ? app.cfg.redis_cache : NULL;
	rc = sync_step(app.sync);
	if (rc < 0 && app.cache.path) {
		char id[SYNC_ID_MAX], cerr[PATH_MAX + 128];
		struct ntrie_stats ts;
		long n = sync_cache_resume(app.sync, app.cache.path, id, cerr, sizeof(cerr));

		if (n < 0 && !app.cfg.redis_start_forward) {
			fprintf(stderr, "teishi-dp: --redis: the first load failed: %s; and the cache: %s\n",
				sync_error(app.sync), cerr);
			return rc;
		}
		if (n < 0) {
			fprintf(stderr, "teishi-dp: --redis: the first load failed: %s; and the cache: "
				"%s; forwarding every frame with nothing blocked (--redis-start "
				"forward) until Redis answers\n", sync_error(app.sync), cerr);
			publish_list_view();
			return 0;
		}
		/* what the cache holds: nothing to write until it changes */
		ntrie_stats(app.trie, &ts);
		app.cache.version = ts.version;
		fprintf(stderr, "teishi-dp: --redis: the first load failed: %s; enforcing the cached "
			"list %s (%ld entries, up to stream record %s) until Redis answers\n",
			sync_error(app.sync), app.cache.path, n, id);
		publish_list_view();
		return 0;
	}
	if (rc < 0 && app.cfg.redis_start_forward) {
		fprintf(stderr, "teishi-dp: --redis: the first load failed: %s; forwarding every frame "
			"with nothing blocked (--redis-start forward) until Redis answers\n",
			sync_error(app.sync));
		publish_list_view();
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "teishi-dp: --redis: the first load failed: %s (the link stays down; "
			"--redis-cache or --redis-start forward start without Redis)\n",
			sync_error(app.sync));
		return rc;
	}
	publish_list_view();
	return 0;
}

static void cleanup(void)
{
	for (unsigned i = 0; i < app.n_ports; i++) {
		rte_eth_dev_stop(app.ports[i]);
		rte_eth_dev_close(app.ports[i]);
	}
	for (unsigned i = 0; app.workers && i < app.n_workers; i++) {
		dp_worker_free(app.workers[i].dw);
		rte_free(app.workers[i].out);
		rte_free(app.workers[i].txq);
	}
	rte_free(app.workers);
	if (app.dq)
		rte_rcu_qsbr_dq_delete(app.dq);
	ntrie_free(app.trie);
	listfile_free(&app.list);
	rte_free(app.rcu);
	rte_ring_free(app.events);
	if (app.events_f)
		fclose(app.events_f);
	sync_free(app.sync);
}

static int setup(void)
{
	char err[512];
	unsigned lcore, nq;
	uint32_t nb_mbufs;
	struct ntrie_config tc = { .retire = trie_retire };

	/* Ports: every one named in a pair must exist. */
	for (unsigned i = 0; i < RTE_MAX_ETHPORTS; i++)
		app.peer[i] = NO_PEER;
	for (unsigned i = 0; i < app.cfg.n_pairs; i++) {
		uint16_t a = app.cfg.pairs[i].a, b = app.cfg.pairs[i].b;

		if (!rte_eth_dev_is_valid_port(a) || !rte_eth_dev_is_valid_port(b)) {
			fprintf(stderr, "teishi-dp: --ports %u:%u: port %u does not exist (%u ports found)\n",
				a, b, rte_eth_dev_is_valid_port(a) ? b : a, rte_eth_dev_count_avail());
			return -ENODEV;
		}
		app.peer[a] = b;
		app.peer[b] = a;
		app.port_idx[a] = (uint8_t)app.n_ports;
		app.ports[app.n_ports++] = a;
		app.port_idx[b] = (uint8_t)app.n_ports;
		app.ports[app.n_ports++] = b;
	}

	/* Workers: the lcores named, or every EAL worker lcore. */
	if (app.cfg.n_workers) {
		for (unsigned i = 0; i < app.cfg.n_workers; i++) {
			lcore = app.cfg.workers[i];
			if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore) ||
			    lcore == rte_get_main_lcore()) {
				fprintf(stderr,
					"teishi-dp: --workers: lcore %u is not an EAL worker lcore (see -l)\n",
					lcore);
				return -EINVAL;
			}
		}
		app.n_workers = app.cfg.n_workers;
	} else {
		app.n_workers = rte_lcore_count() - 1;
		if (app.n_workers == 0) {
			fprintf(stderr, "teishi-dp: no worker lcore: give EAL at least two (-l 0-1)\n");
			return -EINVAL;
		}
		if (app.n_workers > DP_MAX_WORKERS)
			app.n_workers = DP_MAX_WORKERS;
	}
	nq = app.n_workers;
	app.workers = rte_zmalloc("teishi_workers", sizeof(struct worker) * app.n_workers,
				  RTE_CACHE_LINE_SIZE);
	if (app.workers == NULL)
		return -ENOMEM;
	{
		unsigned i = 0;

		if (app.cfg.n_workers) {
			for (; i < app.n_workers; i++)
				app.workers[i].lcore = app.cfg.workers[i];
		} else {
			RTE_LCORE_FOREACH_WORKER(lcore) {
				if (i == app.n_workers)
					break;
				app.workers[i++].lcore = lcore;
			}
		}
	}

	/* RCU: one reader thread id per worker (its queue number). */
	{
		size_t sz = rte_rcu_qsbr_get_memsize(app.n_workers);
		struct rte_rcu_qsbr_dq_parameters dqp = { 0 };

		app.rcu = rte_zmalloc("teishi_rcu", sz, RTE_CACHE_LINE_SIZE);
		if (app.rcu == NULL || rte_rcu_qsbr_init(app.rcu, app.n_workers) != 0)
			return -ENOMEM;
		dqp.name = "teishi_trie_dq";
		dqp.size = 1024;
		dqp.esize = sizeof(void *);
		dqp.trigger_reclaim_limit = 64;
		dqp.max_reclaim_size = 1024;
		dqp.free_fn = rcu_free;
		dqp.v = app.rcu;
		app.dq = rte_rcu_qsbr_dq_create(&dqp);
		if (app.dq == NULL) {
			fprintf(stderr, "teishi-dp: RCU defer queue: %s\n", rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}

	/* The trie and, in static mode, the list. */
	app.trie = ntrie_create(&tc);
	if (app.trie == NULL)
		return -errno;
	if (app.cfg.redis[0]) {
		int rc = sync_setup();

		if (rc < 0)
			return rc;
	} else if (app.cfg.list_path[0]) {
		int rc = listfile_load(app.cfg.list_path, 1, &app.list, err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "teishi-dp: %s\n", err);
			return rc;
		}
		rc = ntrie_build(app.trie, app.list.entries, app.list.n);
		if (rc < 0) {
			fprintf(stderr, "teishi-dp: --list %s: building the trie: %s\n",
				app.cfg.list_path, strerror(-rc));
			return rc;
		}
	}

	for (int s = 0; s < 2; s++) {
		app.status[s].code = app.cfg.code[s];
		app.status[s].phrase = sipreply_phrase(app.cfg.code[s]);
		app.status[s].reason_text = app.cfg.reason_text;
	}

	/* Enough mbufs for every descriptor, every burst in flight, every
	 * held fragment and the rejects. */
	nb_mbufs = app.cfg.mbufs;
	if (nb_mbufs == 0)
		nb_mbufs = app.n_ports * nq * (app.cfg.rx_desc + app.cfg.tx_desc + DP_OUT_MAX) +
			   nq * app.cfg.pipe.frag_max_datagrams * DP_FRAG_MAX * 2 + 4096;
	app.pool = rte_pktmbuf_pool_create("teishi_pkts", nb_mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app.pool == NULL) {
		fprintf(stderr, "teishi-dp: mbuf pool of %u: %s\n", nb_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	app.events = rte_ring_create_elem("teishi_events", sizeof(struct dp_event),
					  app.cfg.event_ring, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (app.events == NULL) {
		fprintf(stderr, "teishi-dp: event ring: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (app.cfg.events_path[0]) {
		app.events_f = fopen(app.cfg.events_path, "a");
		if (app.events_f == NULL) {
			fprintf(stderr, "teishi-dp: --events %s: %s\n", app.cfg.events_path,
				strerror(errno));
			return -errno;
		}
	}

	for (unsigned i = 0; i < app.n_workers; i++) {
		struct worker *w = &app.workers[i];
		char name[32];
		int socket = (int)rte_lcore_to_socket_id(w->lcore);

		w->queue = (uint16_t)i;
		w->frag_ident = i;
		snprintf(name, sizeof(name), "teishi_w%u", i);
		w->dw = dp_worker_create(name, &app.cfg.pipe, app.trie, rte_get_tsc_hz(), socket);
		if (w->dw == NULL) {
			fprintf(stderr, "teishi-dp: worker %u: %s\n", i, strerror(errno));
			return -errno;
		}
		w->out = rte_zmalloc_socket("teishi_out", sizeof(*w->out), RTE_CACHE_LINE_SIZE,
					    socket);
		w->txq = rte_zmalloc_socket("teishi_txq", sizeof(struct txq) * app.n_ports,
					    RTE_CACHE_LINE_SIZE, socket);
		if (w->out == NULL || w->txq == NULL)
			return -ENOMEM;
	}

	for (unsigned i = 0; i < app.n_ports; i++) {
		int rc = port_init(app.ports[i], (uint16_t)nq);

		if (rc < 0) {
			fprintf(stderr, "teishi-dp: port %u: %s\n", app.ports[i], strerror(-rc));
			return rc;
		}
	}

	rte_telemetry_register_cmd("/teishi/stats", tel_stats,
				   "teishi-dp counters, summed over the workers. No parameters");
	rte_telemetry_register_cmd("/teishi/list", tel_list,
				   "The suspension list: source, entries, prefixes, version. No parameters");
	rte_telemetry_register_cmd("/teishi/config", tel_config,
				   "teishi-dp's effective configuration. No parameters");
	return 0;
}

int main(int argc, char **argv)
{
	char err[PATH_MAX + 256];
	uint64_t hz, next_summary, idle_ticks;
	int rc;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "teishi-dp: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	argv[0] = (char *)"teishi-dp";

	dp_config_default(&app.cfg);
	rc = dp_config_parse_args(&app.cfg, argc, argv, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "teishi-dp: %s\n", err);
		rte_eal_cleanup();
		return rc < 0 ? 2 : 0;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);

	rc = setup();
	if (rc < 0) {
		cleanup();
		rte_eal_cleanup();
		return 1;
	}
	app.started_ns = realtime_ns();
	{
		struct list_view lv;

		list_view(&lv);
		fprintf(stderr, "teishi-dp: %u port(s), %u worker(s), %" PRIu64 " list entries%s%s\n",
			app.n_ports, app.n_workers, lv.ts.entries, app.sync ? " from Redis " : "",
			app.sync ? app.cfg.redis : "");
	}

	for (unsigned i = 0; i < app.n_workers; i++) {
		app.workers[i].last_rx_tsc = rte_rdtsc();
		rte_eal_remote_launch(worker_main, &app.workers[i], app.workers[i].lcore);
	}
	if (app.sync) {
		rc = rte_ctrl_thread_create(&app.sync_thread, "teishi-sync", NULL, sync_main, NULL);
		if (rc != 0) {
			fprintf(stderr, "teishi-dp: sync thread: %s\n", strerror(rc));
			quit = 1;
		} else {
			app.sync_running = true;
		}
	}

	hz = rte_get_tsc_hz();
	next_summary = rte_rdtsc() + app.cfg.stats_interval * hz;
	idle_ticks = (uint64_t)app.cfg.idle_exit_ms * hz / 1000;
	while (!quit) {
		uint64_t now;

		if (!app.sync) /* else the sync thread drains them */
			drain_events();
		rte_rcu_qsbr_dq_reclaim(app.dq, UINT32_MAX, NULL, NULL, NULL);
		if (dump_req) {
			dump_req = 0;
			dump_stats();
		}
		now = rte_rdtsc();
		if (app.cfg.stats_interval && now >= next_summary) {
			print_summary(stderr);
			next_summary = now + app.cfg.stats_interval * hz;
		}
		if (idle_ticks) {
			bool idle = true;

			for (unsigned i = 0; i < app.n_workers; i++) {
				uint64_t last = app.workers[i].last_rx_tsc;

				if (last > now || now - last < idle_ticks)
					idle = false;
			}
			if (idle)
				quit = 1;
		}
		rte_delay_us_sleep(1000);
	}

	rte_eal_mp_wait_lcore();
	if (app.sync_running)
		pthread_join(app.sync_thread, NULL);
	drain_events();
	if (app.sync && sync_flush(app.sync) < 0)
		fprintf(stderr, "teishi-dp: sync: events at exit: %s\n", sync_error(app.sync));
	for (unsigned i = 0; i < app.n_ports; i++) {
		rc = rte_eth_dev_stop(app.ports[i]);
		if (rc < 0)
			fprintf(stderr, "teishi-dp: stopping port %u: %s\n", app.ports[i],
				strerror(-rc));
	}
	print_summary(stderr);
	dump_stats();
	cleanup();
	rte_eal_cleanup();
	return 0;
}
