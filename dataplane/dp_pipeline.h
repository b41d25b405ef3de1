/* The DPDK classification pipeline shared by teishi-dp and teishi-inspect.
 *
 * One struct dp_worker per worker lcore (no sharing, no locks).  A burst of
 * received mbufs goes through dp_pipeline_process_burst():
 *
 *   frame_parse -> IP fragments: teishi's own checks (fragcheck), then
 *   rte_ipv4/ipv6_frag_reassemble_packet -> sip_scan over each complete SIP
 *   payload -> verdict_decide_bulk -> forward / block / drop.
 *
 * Ownership: the pipeline takes every input mbuf.  Each one ends up in
 * exactly one place: out->fwd[] (the caller transmits them, in this order),
 * freed by the pipeline (dropped, counted), held in the worker's pending
 * fragment table (released by a later call), or in out->msgs[i].pkts of a
 * message whose action is DP_ACT_BLOCK (the caller owns them: build the
 * reject, then free them or reuse them for the reply).
 *
 * Fragments.  DPDK 22.11's reassembly does not reject overlapping
 * fragments, fragments whose contents differ for the same bytes, or
 * datagrams over 65535 bytes.  The worker therefore keeps its own pending
 * table keyed like rte_ip_frag's (version, src, dst, id, protocol), checks
 * every fragment against the ones held, and drops such a datagram whole:
 * the held fragments, this one, and every later fragment of it until the
 * entry times out.  Exact retransmitted duplicates are held and forwarded
 * with the rest but not given to the reassembler.  After a datagram is
 * complete its entry stays until the timeout, and every later fragment of
 * it is dropped (frag_late_drop), whatever the verdict: the receiver has
 * the originals (or, blocked, none), a copy is no use to it, and other
 * bytes would make a second reading that was never classified.  After a
 * datagram is released unclassified by cfg.frag_incomplete = forward, its
 * later fragments follow it.  One reading of a datagram is never
 * classified while another is forwarded.
 *
 * A datagram that passes is forwarded as its ORIGINAL fragments,
 * byte-identical and in arrival order (not refragmented): the received
 * mbufs stay in the pending table until the datagram completes, and the
 * reassembler is fed deep copies (rte_pktmbuf_copy from the worker's copy
 * pool), because rte_ip_frag rewrites the IP header of the first fragment
 * in place.  IPv6 extension headers in front of the fragment header,
 * which rte_ip_frag cannot handle, are cut from the copy (the rebuilt
 * datagram that is classified lacks them; the originals keep them).
 * A blocked datagram's originals are handed to the caller
 * (out->msgs[i].pkts); a dropped one's are freed.
 *
 * Bounded memory: at most cfg.frag_max_datagrams pending datagrams and
 * cfg.frag_max_fragments (<= DP_FRAG_MAX) fragments per datagram.  A
 * datagram that does not complete within cfg.frag_timeout_ms, one with too
 * many fragments, and a fragment that finds the table full are released by
 * cfg.frag_incomplete, each counted; forwarded (the default), their
 * later fragments follow.  A timed-out datagram forwarded that way
 * lingers cfg.frag_linger_ms with its byte ranges: later fragments that
 * leave a hole follow, the one that would let a receiver complete the
 * datagram is dropped, and so is every one after it.  Lingering entries
 * give way to new datagrams when the table is full.  Until
 * a datagram completes its fragments are delayed, SIP or not (the ports sit
 * in the first fragment only).
 *
 * Time: `now` is any monotonic clock with `hz` ticks per second given at
 * creation (the TSC in teishi-dp, pcap microseconds in teishi-inspect).
 */
#ifndef TEISHI_DP_PIPELINE_H
#define TEISHI_DP_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "ntrie.h"
#include "sip.h"
#include "verdict.h"

struct rte_mbuf;
struct dp_worker;

/* Most mbufs one dp_pipeline_process_burst() call takes. */
#define DP_BURST_MAX 32
/* Most fragments held per datagram, duplicates included (rte_ip_frag's
 * own limit, RTE_LIBRTE_IP_FRAG_MAX_FRAG). */
#define DP_FRAG_MAX 8
/* Pending datagrams released by timeout per call (the rest wait). */
#define DP_EXPIRE_MAX 8
/* Capacity of out->fwd: per input at most a whole datagram plus itself,
 * plus the datagrams released by timeout. */
#define DP_OUT_MAX (DP_BURST_MAX * (DP_FRAG_MAX + 1) + DP_EXPIRE_MAX * DP_FRAG_MAX)
/* Largest frame rebuilt from fragments: 65535 bytes of IP plus L2 headers. */
#define DP_REASM_MAX (65535 + 14 + 4 * FRAME_MAX_VLANS + 4 * FRAME_MAX_MPLS)

enum dp_frag_policy {
	DP_FRAG_FORWARD = 0, /* release unclassified fragments as they are */
	DP_FRAG_DROP,        /* drop them */
};

struct dp_pipeline_config {
	struct frame_config frame;     /* SIP ports */
	struct verdict_config verdict; /* headers checked */
	uint32_t frag_max_datagrams;   /* pending datagrams per worker; 0: 256 */
	uint32_t frag_max_fragments;   /* per datagram, 2..DP_FRAG_MAX; 0: DP_FRAG_MAX */
	uint32_t frag_timeout_ms;      /* 0: 1000 */
	uint32_t frag_linger_ms;       /* a forwarded incomplete datagram's watch; 0: 30000 */
	uint8_t frag_incomplete;       /* enum dp_frag_policy, default forward */
	bool drop_unparsable;          /* fail-closed: drop UDP on a SIP port that is not SIP */
	bool drop_bad_frames;          /* drop frames frame_parse rejects (default forward) */
};

/* Every way a frame or message can go; each is a counter. */
enum dp_counter {
	DP_C_RX = 0,            /* mbufs given to the pipeline */
	DP_C_FWD,               /* mbufs put in out->fwd */
	DP_C_DROP,              /* mbufs freed by the pipeline, any reason */
	DP_C_NOT_IP,            /* passed: not IPv4/IPv6 */
	DP_C_NON_SIP,           /* passed: IP, not on a SIP port */
	DP_C_BAD_FRAME,         /* frame_parse said -EBADMSG (fragments: see FRAG_OVERSIZE/BAD) */
	DP_C_SIP_UDP,           /* SIP messages over UDP classified */
	DP_C_SIP_TCP,           /* SIP segments over TCP classified (monitor only) */
	DP_C_UNPARSABLE_DROP,   /* SIP-port UDP that is not SIP, dropped (fail-closed) */
	DP_C_BLOCK,             /* UDP messages blocked (handed to the caller) */
	DP_C_TCP_WOULD_BLOCK,   /* TCP messages the verdict blocks, forwarded anyway */
	DP_C_FRAG_RX,           /* fragments received */
	DP_C_FRAG_REASSEMBLED,  /* datagrams completed and classified */
	DP_C_FRAG_DUP,          /* exact duplicate fragments (held, forwarded with the rest) */
	DP_C_FRAG_OVERLAP,      /* datagrams dropped: fragments overlap */
	DP_C_FRAG_CONFLICT,     /* datagrams dropped: same bytes, different contents */
	DP_C_FRAG_OVERSIZE,     /* datagrams dropped: would exceed 65535 bytes (a fragment
				 * frame_parse rejects for it drops its datagram whole) */
	DP_C_FRAG_BAD,          /* datagrams dropped: inconsistent last fragment, unusable header */
	DP_C_FRAG_LATE_DROP,    /* fragments dropped because their datagram was dropped */
	DP_C_FRAG_LATE_FWD,     /* fragments forwarded because their datagram was released */
	DP_C_FRAG_TIMEOUT,      /* datagrams that did not complete in time */
	DP_C_FRAG_TOO_MANY,     /* datagrams with more than frag_max_fragments */
	DP_C_FRAG_SIP_TOO_MANY, /* of those, SIP by their first fragment: dropped (or,
				 * when it came after the rest had gone on, it was) */
	DP_C_FRAG_TABLE_FULL,   /* fragments that found the pending table full */
	DP_C_FRAG_SIP_TABLE_FULL, /* of those, first fragments naming a SIP port: dropped */
	DP_C_FRAG_NOMEM,        /* copy pool empty or reassembler refused; released by policy */
	DP_C_FRAG_UNSUPPORTED,  /* fragment headers beyond the first mbuf segment;
				 * released by policy */
	DP_C__COUNT,
};

struct dp_counters {
	uint64_t c[DP_C__COUNT];
	uint64_t reason[VERDICT_R__COUNT];   /* verdict reasons, SIP messages only */
	uint64_t blocked_hdr[SIP_HDR__COUNT]; /* UDP blocks by the header that matched */
};

enum dp_action {
	DP_ACT_FORWARD = 0, /* pkts are in out->fwd */
	DP_ACT_BLOCK,       /* pkts belong to the caller (reject or drop) */
	DP_ACT_DROP,        /* pkts were freed (fail-closed) */
};

/* One classified SIP message (request or not).  Views in msg and data
 * point into the mbuf (unfragmented) or into the worker's reassembly
 * buffer; they stay valid until the next call on this worker and, for
 * forwarded messages, until the caller transmits out->fwd. */
struct dp_msg {
	uint8_t action;            /* enum dp_action */
	bool reassembled;          /* data is the rebuilt datagram */
	bool tcp;                  /* over TCP: never blocked */
	uint16_t pkt_idx;          /* index in the input burst of the mbuf that completed it */
	int scan_rc;               /* sip_scan() result */
	const uint8_t *data;       /* the whole (rebuilt) frame, L2 included */
	uint32_t len;
	struct frame_info fi;      /* frame_parse() of data */
	struct sip_msg msg;
	struct verdict v;
	uint8_t n_pkts;            /* DP_ACT_BLOCK: the original mbufs, arrival order */
	struct rte_mbuf *pkts[DP_FRAG_MAX];
};

struct dp_burst_out {
	struct rte_mbuf *fwd[DP_OUT_MAX];
	uint16_t n_fwd;
	uint16_t n_msgs;
	/* false: every mbuf in fwd is one of this call's input (no fragment
	 * was seen, nothing held was released), so all came in on the same
	 * port; true: they may come from earlier calls and other ports. */
	bool held;
	struct dp_msg msgs[DP_BURST_MAX];
};

/* Fill cfg with the defaults above (port 5060, all headers). */
void dp_pipeline_config_default(struct dp_pipeline_config *cfg);

/* Create a worker on NUMA socket `socket` (SOCKET_ID_ANY allowed) after
 * rte_eal_init().  name must be unique per process (it names the copy
 * pool).  trie may be NULL (nothing matches) and may be changed later by
 * dp_worker_set_trie().  hz: ticks per second of the `now` clock.
 * Returns NULL with errno EINVAL (bad config) or ENOMEM. */
struct dp_worker *dp_worker_create(const char *name, const struct dp_pipeline_config *cfg,
				   const struct ntrie *trie, uint64_t hz, int socket);
/* NULL-safe.  Frees every held fragment. */
void dp_worker_free(struct dp_worker *w);
void dp_worker_set_trie(struct dp_worker *w, const struct ntrie *trie);

/* Classify pkts[0..n) (n <= DP_BURST_MAX, 0 allowed: only expires) and
 * release up to DP_EXPIRE_MAX timed-out datagrams.  out is overwritten.
 * Returns the number of mbufs in out->fwd. */
uint16_t dp_pipeline_process_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
				   uint64_t now, struct dp_burst_out *out);

/* Release pending datagrams as if they had timed out (end of input,
 * shutdown), up to what fits in out; call until it returns 0 with
 * dp_worker_pending() == 0.  Returns the number of mbufs in out->fwd. */
uint16_t dp_pipeline_flush(struct dp_worker *w, struct dp_burst_out *out);
/* Datagrams held in the pending table. */
uint32_t dp_worker_pending(const struct dp_worker *w);

const struct dp_counters *dp_worker_counters(const struct dp_worker *w);
/* sum += c, for per-lcore counters summed on read. */
void dp_counters_add(struct dp_counters *sum, const struct dp_counters *c);
const char *dp_counter_name(enum dp_counter c);

#endif
