/* teishi-inspect: run teishi-dp's classification pipeline (dp_pipeline.c,
 * reassembly included) over pcap/pcapng files or raw .sip messages and
 * print what it found, one JSON object per SIP request.
 *
 * pcaps are read through a net_pcap vdev in an in-memory EAL (no
 * hugepages, no PCI), so the frames take exactly teishi-dp's path.  A .sip
 * file is wrapped in one IPv4/UDP frame to the first SIP port and fed to
 * the same pipeline.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <jansson.h>

#include "dp_pipeline.h"
#include "jsonbytes.h"
#include "listfile.h"
#include "ntrie.h"
#include "number.h"
#include "sip.h"
#include "verdict.h"

#define EXIT_LIST 1
#define EXIT_USAGE 2
#define RX_POOL_MBUFS 8191
/* A .sip file travels in one frame of one mbuf; data_room is 16-bit. */
#define SIP_FRAME_ROOM (UINT16_MAX - RTE_PKTMBUF_HEADROOM)
#define SIP_FILE_MAX (SIP_FRAME_ROOM - 14 - 20 - 8)

/* JSON names of enum sip_hdr, as teishi-inspect prints them. */
static const char *const hdr_json[SIP_HDR__COUNT] = {
	[SIP_HDR_RURI] = "request-uri",
	[SIP_HDR_TO] = "to",
	[SIP_HDR_FROM] = "from",
	[SIP_HDR_PAI] = "p-asserted-identity",
	[SIP_HDR_PPI] = "p-preferred-identity",
	[SIP_HDR_RPID] = "remote-party-id",
	[SIP_HDR_DIVERSION] = "diversion",
	[SIP_HDR_HISTINFO] = "history-info",
};

struct inspect {
	struct dp_pipeline_config pcfg;
	struct ntrie *trie;
	bool summary;
	bool multi;               /* several inputs: print "file" too */
	struct rte_mempool *rx_pool;
	struct rte_mempool *sip_pool;
	int ts_off;               /* rx timestamp dynfield, or -1 */
	uint64_t ts_flag;
	unsigned n_workers;
	/* Totals for --summary. */
	uint64_t requests, invites, initial, blocked;
	struct dp_counters cnt;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: teishi-inspect [OPTIONS] FILE.pcap|FILE.pcapng|MESSAGE.sip...\n"
"\n"
"Classify SIP traffic exactly as teishi-dp does (same pipeline: frame\n"
"parsing, VLAN/QinQ, IPv4/IPv6, IP reassembly with rte_ip_frag and\n"
"teishi's fragment checks, SIP scanning, number normalisation, verdict)\n"
"and print one JSON object per SIP request found (JSON Lines):\n"
"\n"
"  frame        1-based frame of the input that completed the message\n"
"               (the last fragment to arrive for a fragmented one; 1 for .sip)\n"
"  file         the input file (only when several inputs are given)\n"
"  call_id      Call-ID\n"
"  method       request method\n"
"  initial      true for an INVITE without a To tag\n"
"  transport    \"udp\" or \"tcp\" (TCP is monitor only in teishi-dp)\n"
"  numbers      header -> canonical numbers (\"+81...\"), message order\n"
"  raw          header -> user parts that are not numbers (only if any)\n"
"  verdict      \"block\" or \"pass\" (what the verdict says; teishi-dp\n"
"               forwards TCP anyway)\n"
"  match        null, or {header, number, entry, line}: the first URI in\n"
"               message order that matched; entry is the list entry in\n"
"               canonical form (\"+8131234*\" for a prefix), line its line in\n"
"               the --list file\n"
"Header names: request-uri, to, from, p-asserted-identity,\n"
"p-preferred-identity, remote-party-id, diversion, history-info.\n"
"SIP responses, non-SIP frames and unparsable payloads are not printed.\n"
"\n"
"Inputs: a .sip file is one raw SIP message (CRLF or LF), wrapped in an\n"
"IPv4/UDP frame to the first SIP port.  Anything else is read as a pcap or\n"
"pcapng file (Ethernet link type) through a DPDK net_pcap vdev, frames in\n"
"order.  Frame numbers restart at 1 for each file.  Fragments still\n"
"incomplete at the end of a file are dropped from the output (teishi-dp\n"
"would forward them unclassified after its timeout).\n"
"\n"
"Options:\n"
"  --list FILE        suspension list (listfile format: one number, \"*\"\n"
"                     prefix or \"a..b\" range per line, '#' comments); without\n"
"                     it nothing matches and every verdict is \"pass\"\n"
"  --sip-port N       a SIP port (UDP and TCP), repeatable up to %d;\n"
"                     default 5060\n"
"  --headers LIST     headers whose numbers are checked: \"all\" (default) or\n"
"                     a comma list of ruri,to,from,pai,ppi,rpid,diversion,\n"
"                     history-info\n"
"  --frag-timeout MS  reassembly timeout in pcap time (default 1000)\n"
"  --summary          print a table for humans instead of JSON, with totals\n"
"                     and the pipeline's counters\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 done; 1 the list file has a bad line (reported as\n"
"file:line: reason); 2 bad usage or an unreadable input.\n"
"\n"
"DPDK's EAL is started internally with --no-huge --no-shconf --no-pci and a\n"
"unique file prefix; its messages go to stderr.\n",
		FRAME_MAX_SIP_PORTS);
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static int load_list(struct inspect *in, const char *path)
{
	struct listfile lf;
	char err[PATH_MAX + 200];
	int rc = listfile_load(path, VERDICT_BLOCK, &lf, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "teishi-inspect: %s\n", err);
		return rc;
	}
	in->trie = ntrie_create(NULL);
	if (in->trie == NULL || ntrie_build(in->trie, lf.entries, lf.n) < 0) {
		fprintf(stderr, "teishi-inspect: %s: cannot build the number trie: %s\n", path,
			strerror(errno ? errno : ENOMEM));
		listfile_free(&lf);
		return -ENOMEM;
	}
	listfile_free(&lf);
	return 0;
}

static json_t *json_view(struct sip_view v)
{
	return json_bytes(v.p, v.len);
}

static void add_to_list(json_t *obj, const char *key, json_t *val)
{
	json_t *arr = json_object_get(obj, key);
	if (arr == NULL) {
		arr = json_array();
		json_object_set_new(obj, key, arr);
	}
	json_array_append_new(arr, val);
}

/* Same reading of a URI as verdict.c: decode the user part, cut its
 * parameters, parse with the phone-context. */
static void uri_numbers(const struct sip_msg *m, json_t *numbers, json_t *raw)
{
	for (unsigned i = 0; i < m->n_uris; i++) {
		const struct sip_uri *u = &m->uris[i];
		char text[64];
		struct num n;

		if (u->user.len == 0 || u->hdr >= SIP_HDR__COUNT)
			continue;
		int len = sip_uri_number_text(u, text, sizeof(text));
		if (len > 0 && num_parse(text, (size_t)len, u->phone_context.p,
					 u->phone_context.len, &n, NULL, 0) == 0) {
			char canon[NUM_MAX_DIGITS + 2];
			snprintf(canon, sizeof(canon), "+%s", n.digits);
			add_to_list(numbers, hdr_json[u->hdr], json_string(canon));
		} else if (len > 0) {
			add_to_list(raw, hdr_json[u->hdr], json_bytes(text, (size_t)len));
		} else {
			add_to_list(raw, hdr_json[u->hdr], json_view(u->user));
		}
	}
}

static json_t *match_json(const struct verdict *v)
{
	char number[NUM_MAX_DIGITS + 2], entry[NUM_MAX_DIGITS + 3];
	unsigned len = v->match.len <= v->number.len ? v->match.len : v->number.len;

	snprintf(number, sizeof(number), "+%s", v->number.digits);
	snprintf(entry, sizeof(entry), "+%.*s%s", (int)len, v->number.digits,
		 v->match.kind == NTRIE_PREFIX ? "*" : "");
	return json_pack("{s:s, s:s, s:s, s:I}", "header",
			 v->hdr < SIP_HDR__COUNT ? hdr_json[v->hdr] : "?", "number", number,
			 "entry", entry, "line", (json_int_t)NTRIE_VALUE_ID(v->match.value));
}

static void print_msg(struct inspect *in, const char *file, uint64_t frame,
		      const struct dp_msg *d)
{
	const struct sip_msg *m = &d->msg;
	bool block = d->v.action == VERDICT_BLOCK;

	in->requests++;
	if (m->method == SIP_METHOD_INVITE) {
		in->invites++;
		if (m->flags & SIP_F_INITIAL)
			in->initial++;
	}
	if (block)
		in->blocked++;

	if (in->summary) {
		char match[96];

		/* A pass says why: no-match, in-dialog, emergency, ... */
		snprintf(match, sizeof(match), "%s", verdict_reason_name(d->v.reason));
		if (block) {
			unsigned len = d->v.match.len;
			snprintf(match, sizeof(match), "%s +%s (entry +%.*s%s, line %u)",
				 hdr_json[d->v.hdr], d->v.number.digits, (int)len,
				 d->v.number.digits, d->v.match.kind == NTRIE_PREFIX ? "*" : "",
				 NTRIE_VALUE_ID(d->v.match.value));
		}
		printf("%7" PRIu64 "  %-5s  %-9.*s %-4s %-3s  %-40.*s  %s\n", frame,
		       block ? "BLOCK" : "pass", (int)m->method_name.len, m->method_name.p,
		       d->tcp ? "tcp" : "udp",
		       m->method == SIP_METHOD_INVITE ? ((m->flags & SIP_F_INITIAL) ? "ini" : "dlg")
						      : "-",
		       (int)(m->call_id.len > 40 ? 40 : m->call_id.len), m->call_id.p, match);
		return;
	}

	json_t *o = json_object();
	json_t *numbers = json_object();
	json_t *raw = json_object();
	uri_numbers(m, numbers, raw);
	json_object_set_new(o, "frame", json_integer((json_int_t)frame));
	if (in->multi)
		json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "call_id", json_view(m->call_id));
	json_object_set_new(o, "method", json_view(m->method_name));
	json_object_set_new(o, "initial", json_boolean(m->method == SIP_METHOD_INVITE &&
						       (m->flags & SIP_F_INITIAL)));
	json_object_set_new(o, "transport", json_string(d->tcp ? "tcp" : "udp"));
	json_object_set_new(o, "numbers", numbers);
	if (json_object_size(raw) > 0)
		json_object_set_new(o, "raw", raw);
	else
		json_decref(raw);
	json_object_set_new(o, "verdict", json_string(block ? "block" : "pass"));
	json_object_set_new(o, "reason", json_string(verdict_reason_name(d->v.reason)));
	json_object_set_new(o, "match", block ? match_json(&d->v) : json_null());
	json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
}

/* Print the requests of one pipeline call and let go of its mbufs. */
static void consume(struct inspect *in, const char *file, uint64_t base,
		    struct dp_burst_out *out)
{
	for (uint16_t k = 0; k < out->n_msgs; k++) {
		struct dp_msg *d = &out->msgs[k];
		if (d->scan_rc == 0)
			print_msg(in, file, base + d->pkt_idx + 1, d);
		if (d->action == DP_ACT_BLOCK)
			rte_pktmbuf_free_bulk(d->pkts, d->n_pkts);
	}
	rte_pktmbuf_free_bulk(out->fwd, out->n_fwd);
}

static struct dp_worker *new_worker(struct inspect *in, uint64_t hz)
{
	char name[32];
	snprintf(name, sizeof(name), "inspect%u", in->n_workers++);
	struct dp_worker *w = dp_worker_create(name, &in->pcfg, in->trie, hz, (int)rte_socket_id());
	if (w == NULL)
		fprintf(stderr, "teishi-inspect: cannot create the pipeline: %s\n",
			strerror(errno));
	return w;
}

static void finish_worker(struct inspect *in, const char *file, struct dp_worker *w,
			  struct dp_burst_out *out)
{
	do {
		dp_pipeline_flush(w, out);
		consume(in, file, 0, out);
	} while (dp_worker_pending(w) > 0);
	dp_counters_add(&in->cnt, dp_worker_counters(w));
	dp_worker_free(w);
}

static int inspect_sip(struct inspect *in, const char *path, struct dp_burst_out *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "teishi-inspect: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(in->sip_pool);
	if (m == NULL) {
		fclose(f);
		fprintf(stderr, "teishi-inspect: %s: no mbuf\n", path);
		return -ENOMEM;
	}
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	size_t n = fread(p + 42, 1, SIP_FILE_MAX + 1, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr || n > SIP_FILE_MAX) {
		fprintf(stderr, "teishi-inspect: %s: %s\n", path,
			rerr ? "read error" : "larger than one UDP datagram can carry");
		rte_pktmbuf_free(m);
		return -EINVAL;
	}

	/* Ethernet, IPv4 192.0.2.1 -> 192.0.2.2, UDP 5060 -> first SIP port. */
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	uint16_t sport = 5060;
	uint16_t dport = in->pcfg.frame.n_sip_ports ? in->pcfg.frame.sip_ports[0] : 5060;
	uint32_t ip_len = 20 + 8 + (uint32_t)n;
	memcpy(p, eth, 14);
	uint8_t *ip = p + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 1;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 2;
	uint8_t *udp = ip + 20;
	udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + n) >> 8), udp[5] = (uint8_t)(8 + n);
	udp[6] = udp[7] = 0;
	m->data_len = (uint16_t)(14 + ip_len);
	m->pkt_len = m->data_len;

	struct dp_worker *w = new_worker(in, 1000);
	if (w == NULL) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	dp_pipeline_process_burst(w, &m, 1, 0, out);
	consume(in, path, 0, out);
	finish_worker(in, path, w, out);
	return 0;
}

/* net_pcap's receive timestamp (microseconds), or prev without one. */
static uint64_t frame_time(const struct inspect *in, const struct rte_mbuf *m, uint64_t prev)
{
	if (in->ts_off >= 0 && (m->ol_flags & in->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, in->ts_off, const rte_mbuf_timestamp_t *);
	return prev;
}

static void close_port(uint16_t port)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(port, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	if (dev != NULL)
		rte_dev_remove(dev);
}

static int inspect_pcap(struct inspect *in, const char *path, struct dp_burst_out *out)
{
	char name[32], args[PATH_MAX + 64];
	uint16_t port;
	int rc;

	if (strchr(path, ',') != NULL) {
		fprintf(stderr, "teishi-inspect: %s: a pcap path may not contain ','\n", path);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "net_pcap_inspect%u", in->n_workers);
	snprintf(args, sizeof(args), "%s,rx_pcap=%s,tx_pcap=/dev/null", name, path);
	rc = rte_dev_probe(args);
	if (rc < 0 || rte_eth_dev_get_port_by_name(name, &port) != 0) {
		fprintf(stderr, "teishi-inspect: %s: not a readable pcap/pcapng file "
			"(net_pcap's reason above)\n", path);
		return -EINVAL;
	}

	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_info_get(port, &info) == 0 &&
	    (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL,
					    in->rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc < 0) {
		fprintf(stderr, "teishi-inspect: %s: cannot start the pcap port: %s\n", path,
			strerror(-rc));
		close_port(port);
		return rc;
	}
	in->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	in->ts_flag = flag_bit >= 0 ? RTE_BIT64(flag_bit) : 0;

	/* net_pcap stamps microseconds since the epoch. */
	struct dp_worker *w = new_worker(in, 1000000);
	if (w == NULL) {
		close_port(port);
		return -ENOMEM;
	}

	struct rte_mbuf *pkts[DP_BURST_MAX];
	uint64_t base = 0, now = 0;
	for (;;) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, DP_BURST_MAX);
		if (n == 0) {
			/* A file never stalls: 0 means its end, unless the pool ran
			 * dry, which the stats tell. */
			struct rte_eth_stats st;
			if (rte_eth_stats_get(port, &st) == 0 && st.rx_nombuf > 0)
				fprintf(stderr, "teishi-inspect: %s: mbuf pool exhausted after frame %"
					PRIu64 "; output is incomplete\n", path, base);
			break;
		}
		/* The pipeline takes one time per call: feed runs of frames
		 * with the same pcap timestamp, so reassembly timeouts follow
		 * the capture exactly. */
		for (uint16_t a = 0, b; a < n; a = b) {
			now = frame_time(in, pkts[a], now);
			for (b = a + 1; b < n && frame_time(in, pkts[b], now) == now; b++)
				;
			dp_pipeline_process_burst(w, pkts + a, (uint16_t)(b - a), now, out);
			uint16_t sent = rte_eth_tx_burst(port, 0, out->fwd, out->n_fwd);
			/* consume() frees what was not sent, and the blocked ones. */
			memmove(out->fwd, out->fwd + sent,
				sizeof(out->fwd[0]) * (out->n_fwd - sent));
			out->n_fwd = (uint16_t)(out->n_fwd - sent);
			consume(in, path, base + a, out);
		}
		base += n;
	}
	finish_worker(in, path, w, out);
	close_port(port);
	return 0;
}

static int start_eal(const char *prog)
{
	char prefix[64], lcore[32];
	cpu_set_t set;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	snprintf(prefix, sizeof(prefix), "--file-prefix=teishi-inspect-%ld", (long)getpid());
	snprintf(lcore, sizeof(lcore), "-l%d", cpu);
	char *argv[] = {
		(char *)prog, lcore, "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
		prefix, "--log-level=lib.*:error", "--log-level=pmd.*:error",
		"--log-level=user.*:error", "--log-level=user1:error", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	/* EAL logs to stdout by default; stdout is ours. */
	rte_openlog_stream(stderr);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "teishi-inspect: cannot start DPDK's EAL: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'L' },
		{ "sip-port", required_argument, NULL, 'p' },
		{ "headers", required_argument, NULL, 'H' },
		{ "frag-timeout", required_argument, NULL, 'T' },
		{ "summary", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect in;
	const char *list = NULL;
	char err[128];
	int c;

	memset(&in, 0, sizeof(in));
	in.ts_off = -1;
	dp_pipeline_config_default(&in.pcfg);
	in.pcfg.frame.n_sip_ports = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'L':
			list = optarg;
			break;
		case 'p': {
			uint16_t port;
			if (parse_port(optarg, &port) < 0) {
				fprintf(stderr, "teishi-inspect: --sip-port %s: not a port (1..65535)\n",
					optarg);
				return EXIT_USAGE;
			}
			if (in.pcfg.frame.n_sip_ports == FRAME_MAX_SIP_PORTS) {
				fprintf(stderr, "teishi-inspect: --sip-port %s: at most %d ports\n",
					optarg, FRAME_MAX_SIP_PORTS);
				return EXIT_USAGE;
			}
			in.pcfg.frame.sip_ports[in.pcfg.frame.n_sip_ports++] = port;
			break;
		}
		case 'H':
			if (verdict_config_headers(&in.pcfg.verdict, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "teishi-inspect: --headers %s: %s\n", optarg, err);
				return EXIT_USAGE;
			}
			break;
		case 'T': {
			char *end;
			unsigned long ms = strtoul(optarg, &end, 10);
			if (end == optarg || *end != '\0' || ms == 0 || ms > 3600000) {
				fprintf(stderr, "teishi-inspect: --frag-timeout %s: milliseconds, "
					"1..3600000\n", optarg);
				return EXIT_USAGE;
			}
			in.pcfg.frag_timeout_ms = (uint32_t)ms;
			break;
		}
		case 'S':
			in.summary = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (in.pcfg.frame.n_sip_ports == 0)
		frame_config_default(&in.pcfg.frame);
	if (optind == argc) {
		fprintf(stderr, "teishi-inspect: no input file (see --help)\n");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0 || access(argv[i], R_OK) != 0) {
			fprintf(stderr, "teishi-inspect: %s: %s\n", argv[i], strerror(errno));
			return EXIT_USAGE;
		}
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "teishi-inspect: %s: not a regular file\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	in.multi = argc - optind > 1;
	if (list != NULL && load_list(&in, list) < 0)
		return EXIT_LIST;

	if (start_eal(argv[0]) < 0)
		return EXIT_USAGE;
	in.rx_pool = rte_pktmbuf_pool_create("inspect_rx", RX_POOL_MBUFS, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	in.sip_pool = rte_pktmbuf_pool_create("inspect_sip", 3, 0, 0, UINT16_MAX,
					      (int)rte_socket_id());
	struct dp_burst_out *out = calloc(1, sizeof(*out));
	if (in.rx_pool == NULL || in.sip_pool == NULL || out == NULL) {
		fprintf(stderr, "teishi-inspect: cannot allocate mbuf pools: %s\n",
			rte_strerror(rte_errno));
		return EXIT_USAGE;
	}

	if (in.summary)
		printf("%7s  %-5s  %-9s %-4s %-3s  %-40s  %s\n", "FRAME", "VERD", "METHOD", "TRAN",
		       "INV", "CALL-ID", "MATCH OR REASON");
	int status = 0;
	for (int i = optind; i < argc; i++) {
		int rc = ends_with(argv[i], ".sip") ? inspect_sip(&in, argv[i], out)
						    : inspect_pcap(&in, argv[i], out);
		if (rc < 0)
			status = EXIT_USAGE;
	}
	if (in.summary) {
		printf("\n%" PRIu64 " requests, %" PRIu64 " INVITEs (%" PRIu64 " initial), %" PRIu64
		       " blocked\n", in.requests, in.invites, in.initial, in.blocked);
		for (unsigned k = 0; k < DP_C__COUNT; k++)
			if (in.cnt.c[k] != 0)
				printf("  %-18s %" PRIu64 "\n", dp_counter_name(k), in.cnt.c[k]);
		for (unsigned k = 0; k < VERDICT_R__COUNT; k++)
			if (in.cnt.reason[k] != 0)
				printf("  verdict %-10s %" PRIu64 "\n", verdict_reason_name(k),
				       in.cnt.reason[k]);
	}
	fflush(stdout);
	free(out);
	ntrie_free(in.trie);
	rte_mempool_free(in.sip_pool);
	rte_mempool_free(in.rx_pool);
	rte_eal_cleanup();
	return status;
}
