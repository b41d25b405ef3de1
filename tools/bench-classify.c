/* bench-classify: ns per INVITE for teishi's classification (sip_scan, number
 * normalisation and the verdict with its trie lookup) against libosip2's
 * osip_message_parse on the same messages, in the same run.
 *
 * The messages are the unfragmented UDP SIP INVITEs of a pcap (as written by
 * tools/gen-sip-traffic), found with frame_parse on the default SIP port.
 * Both sides are timed over the same message arena, in alternating
 * repetitions, and the medians are compared.  teishi classifies as
 * teishi-dp does: bursts of 32 messages scanned, then decided together
 * (verdict_decide_bulk, one bulk trie lookup per burst).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>
#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include "frame.h"
#include "listfile.h"
#include "ntrie.h"
#include "sip.h"
#include "verdict.h"

#ifndef TEISHI_SOURCE_ROOT
#define TEISHI_SOURCE_ROOT "."
#endif
#define DEFAULT_PCAP TEISHI_SOURCE_ROOT "/tests/fixtures/corpus/corpus.pcap"
#define DEFAULT_LIST TEISHI_SOURCE_ROOT "/tests/fixtures/corpus/list.txt"
/* teishi-dp's RX burst (dp_pipeline.c) */
#define BURST 32

struct msgs {
	char *arena;      /* all messages back to back */
	size_t *off;
	size_t *len;
	size_t n;
	size_t bytes;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-classify [--pcap FILE] [--list FILE] [--reps N] [--per-rep N] [--quick]\n"
		"\n"
		"Measures ns per INVITE for teishi's sip_scan + number normalisation +\n"
		"verdict (trie lookup against the list) and, in the same run, for\n"
		"libosip2's osip_message_parse on the same messages, and prints the ratio.\n"
		"teishi runs teishi-dp's path: bursts of 32 messages scanned, then one\n"
		"verdict_decide_bulk per burst (checked first against verdict_decide\n"
		"message by message: the same number blocked).\n"
		"The messages are the unfragmented UDP INVITEs (port 5060) in the pcap.\n"
		"\n"
		"  --pcap FILE    corpus (default: the committed fixture,\n"
		"                 " DEFAULT_PCAP ")\n"
		"                 For a large one: tools/gen-sip-traffic --mix invite\n"
		"                 --count 20000 --out-dir DIR\n"
		"  --list FILE    suspension list (default: the fixture's list.txt)\n"
		"  --reps N       repetitions per side; medians are reported (default 15)\n"
		"  --per-rep N    messages classified per repetition (default 200000)\n"
		"  --quick        3 repetitions of 2000 messages: proves it runs, not timed\n"
		"  --help         this text\n"
		"\n"
		"Ends with: RESULT ns_per_invite=<teishi> osip_ns_per_invite=<libosip2> "
		"speedup=<osip/teishi>\n");
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int add_msg(struct msgs *m, const uint8_t *p, size_t len, size_t *cap)
{
	if (m->n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		size_t *o = realloc(m->off, c * sizeof(*o));
		if (!o)
			return -ENOMEM;
		m->off = o;
		size_t *l = realloc(m->len, c * sizeof(*l));
		if (!l)
			return -ENOMEM;
		m->len = l;
		*cap = c;
	}
	char *a = realloc(m->arena, m->bytes + len);
	if (!a)
		return -ENOMEM;
	m->arena = a;
	memcpy(a + m->bytes, p, len);
	m->off[m->n] = m->bytes;
	m->len[m->n] = len;
	m->bytes += len;
	m->n++;
	return 0;
}

static int load_invites(const char *path, struct msgs *m)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t cap = 0;
	int rc;

	if (!pc) {
		fprintf(stderr, "bench-classify: %s: %s\n", path, errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "bench-classify: %s: link type %d, need Ethernet\n", path,
			pcap_datalink(pc));
		pcap_close(pc);
		return -EINVAL;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct frame_info fi;

		if (frame_parse(NULL, data, h->caplen, &fi) < 0 || fi.kind != FRAME_SIP_UDP)
			continue;
		if (fi.payload_len < 7 || memcmp(data + fi.payload_offset, "INVITE ", 7) != 0)
			continue;
		if (add_msg(m, data + fi.payload_offset, fi.payload_len, &cap) < 0) {
			pcap_close(pc);
			return -ENOMEM;
		}
	}
	if (rc == -1)
		fprintf(stderr, "bench-classify: %s: %s\n", path, pcap_geterr(pc));
	pcap_close(pc);
	return rc == -1 ? -EIO : 0;
}

/* One pass of teishi over count messages (cycling the set), the way
 * teishi-dp classifies an RX burst (dp_pipeline.c): each message of a
 * burst of BURST scanned, then verdict_decide_bulk() over the burst, with
 * one bulk trie lookup for all its numbers.  Returns the number blocked so
 * the work cannot be optimised away. */
static unsigned run_teishi(const struct msgs *m, size_t count, const struct verdict_config *vc,
			   const struct ntrie *t)
{
	static struct sip_msg msg[BURST];
	const struct sip_msg *mp[BURST];
	struct verdict v[BURST];
	int rc[BURST];
	unsigned blocked = 0;
	size_t i = 0;

	for (unsigned j = 0; j < BURST; j++)
		mp[j] = &msg[j];
	for (size_t k = 0; k < count; k += BURST) {
		unsigned n = count - k < BURST ? (unsigned)(count - k) : BURST;

		for (unsigned j = 0; j < n; j++) {
			rc[j] = sip_scan(m->arena + m->off[i], m->len[i], &msg[j]);
			if (++i == m->n)
				i = 0;
		}
		blocked += verdict_decide_bulk(vc, t, rc, mp, n, v);
	}
	return blocked;
}

/* The same verdicts message by message (verdict_decide), as a check of
 * the bulk path before timing. */
static unsigned run_teishi_single(const struct msgs *m, const struct verdict_config *vc,
				  const struct ntrie *t)
{
	static struct sip_msg msg;
	struct verdict v;
	unsigned blocked = 0;

	for (size_t i = 0; i < m->n; i++) {
		int rc = sip_scan(m->arena + m->off[i], m->len[i], &msg);

		blocked += verdict_decide(vc, t, rc, &msg, &v) == VERDICT_BLOCK;
	}
	return blocked;
}

/* sip_scan alone, to show where teishi's time goes. */
static unsigned run_scan(const struct msgs *m, size_t count)
{
	static struct sip_msg msg;
	unsigned uris = 0;
	size_t i = 0;

	for (size_t k = 0; k < count; k++) {
		if (sip_scan(m->arena + m->off[i], m->len[i], &msg) == 0)
			uris += msg.n_uris;
		if (++i == m->n)
			i = 0;
	}
	return uris;
}

static unsigned run_osip(const struct msgs *m, size_t count)
{
	unsigned ok = 0;
	size_t i = 0;

	for (size_t k = 0; k < count; k++) {
		osip_message_t *sip;

		if (osip_message_init(&sip) != 0)
			continue;
		ok += osip_message_parse(sip, m->arena + m->off[i], m->len[i]) == 0;
		osip_message_free(sip);
		if (++i == m->n)
			i = 0;
	}
	return ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pcap", required_argument, NULL, 'p'},
		{"list", required_argument, NULL, 'l'},
		{"reps", required_argument, NULL, 'r'},
		{"per-rep", required_argument, NULL, 'n'},
		{"quick", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *pcap_path = DEFAULT_PCAP, *list_path = DEFAULT_LIST;
	long reps = 15, per_rep = 200000;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p': pcap_path = optarg; break;
		case 'l': list_path = optarg; break;
		case 'r':
		case 'n': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1) {
				fprintf(stderr, "bench-classify: --%s \"%s\": need a positive integer\n",
					c == 'r' ? "reps" : "per-rep", optarg);
				return 2;
			}
			*(c == 'r' ? &reps : &per_rep) = v;
			break;
		}
		case 'q': reps = 3; per_rep = 2000; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench-classify: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}

	struct msgs m = {0};
	if (load_invites(pcap_path, &m) < 0)
		return 1;
	if (m.n == 0) {
		fprintf(stderr, "bench-classify: %s: no unfragmented UDP INVITE on port 5060\n",
			pcap_path);
		return 1;
	}

	char err[256];
	struct listfile lf = {0};
	if (listfile_load(list_path, 1, &lf, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench-classify: %s\n", err);
		return 1;
	}
	struct ntrie *t = ntrie_create(NULL);
	if (!t || ntrie_build(t, lf.entries, lf.n) < 0) {
		fprintf(stderr, "bench-classify: cannot build the trie from %s: %s\n", list_path,
			strerror(t ? ENOMEM : errno));
		return 1;
	}
	struct verdict_config vc;
	verdict_config_default(&vc);
	if (parser_init() != 0) {
		fprintf(stderr, "bench-classify: libosip2 parser_init failed\n");
		return 1;
	}

	/* Correctness on one pass over the set, before timing. */
	unsigned scanned = 0, blocked = run_teishi(&m, m.n, &vc, t);
	for (size_t i = 0; i < m.n; i++) {
		static struct sip_msg msg;
		scanned += sip_scan(m.arena + m.off[i], m.len[i], &msg) == 0;
	}
	unsigned osip_ok = run_osip(&m, m.n);
	unsigned blocked_single = run_teishi_single(&m, &vc, t);

	if (blocked != blocked_single) {
		fprintf(stderr,
			"bench-classify: verdict_decide_bulk blocked %u messages, verdict_decide %u\n",
			blocked, blocked_single);
		return 1;
	}

	printf("bench-classify: %zu INVITEs (%zu bytes, mean %.0f B) from %s\n", m.n, m.bytes,
	       (double)m.bytes / (double)m.n, pcap_path);
	printf("  list %s: %zu entries; %ld repetitions x %ld messages per side\n", list_path,
	       lf.n, reps, per_rep);
	printf("  teishi scanned %u/%zu, blocked %u; libosip2 parsed %u/%zu\n", scanned, m.n,
	       blocked, osip_ok, m.n);

	double *tt = calloc((size_t)reps, sizeof(double));
	double *to = calloc((size_t)reps, sizeof(double));
	double *ts = calloc((size_t)reps, sizeof(double));
	if (!tt || !to || !ts)
		return 1;
	volatile unsigned sink = 0;
	for (long r = 0; r < reps; r++) {
		double t0 = now_ns();
		sink += run_teishi(&m, (size_t)per_rep, &vc, t);
		double t1 = now_ns();
		sink += run_osip(&m, (size_t)per_rep);
		double t2 = now_ns();
		sink += run_scan(&m, (size_t)per_rep);
		double t3 = now_ns();
		tt[r] = (t1 - t0) / (double)per_rep;
		to[r] = (t2 - t1) / (double)per_rep;
		ts[r] = (t3 - t2) / (double)per_rep;
	}
	(void)sink;
	double mt = median(tt, (size_t)reps), mo = median(to, (size_t)reps);
	double ms = median(ts, (size_t)reps);
	printf("  teishi   sip_scan+normalise+verdict: median %8.1f ns/INVITE (min %.1f, max %.1f)\n",
	       mt, tt[0], tt[reps - 1]);
	printf("    of which sip_scan alone:          median %8.1f ns/INVITE\n", ms);
	printf("  libosip2 osip_message_parse:         median %8.1f ns/INVITE (min %.1f, max %.1f)\n",
	       mo, to[0], to[reps - 1]);
	printf("  speedup %.2fx over libosip2 (target >= 10x)\n", mo / mt);
	printf("RESULT ns_per_invite=%.1f osip_ns_per_invite=%.1f speedup=%.2f\n", mt, mo, mo / mt);

	free(tt);
	free(to);
	free(ts);
	ntrie_free(t);
	listfile_free(&lf);
	free(m.arena);
	free(m.off);
	free(m.len);
	return 0;
}
