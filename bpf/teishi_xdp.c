/* teishi-xdp: loads the XDP program (teishi.bpf.c) with libbpf.
 *
 *   teishi-xdp test-run [--sip-port N] FILE.pcap
 *       run every frame of FILE through the program with
 *       BPF_PROG_TEST_RUN (no NIC needed) and print the counters as JSON
 *   teishi-xdp attach --dev IFNAME [--sip-port N] [--skb]
 *       attach to IFNAME until SIGINT/SIGTERM, then print the counters
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "pcap_frames.h"
#include "teishi.skel.h"
#include "teishi_bpf.h"

static const char *const counter_names[TEISHI_XDP__COUNT] = {
	[TEISHI_XDP_FRAMES] = "frames",
	[TEISHI_XDP_NOT_IP] = "not_ip",
	[TEISHI_XDP_TRUNCATED] = "truncated",
	[TEISHI_XDP_VLAN] = "vlan",
	[TEISHI_XDP_IPV4] = "ipv4",
	[TEISHI_XDP_IPV6] = "ipv6",
	[TEISHI_XDP_FRAGMENT] = "fragment",
	[TEISHI_XDP_UDP_SIP] = "udp_sip",
	[TEISHI_XDP_OTHER_L4] = "other_l4",
};

static int verbose;
static volatile sig_atomic_t stop;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: teishi-xdp test-run [--sip-port N] FILE.pcap\n"
		"       teishi-xdp attach --dev IFNAME [--sip-port N] [--skb]\n"
		"\n"
		"test-run  runs every frame of FILE through the XDP program with\n"
		"          BPF_PROG_TEST_RUN and prints the counters and actions as JSON\n"
		"attach    attaches to IFNAME (native XDP, or generic with --skb) until\n"
		"          SIGINT/SIGTERM, then prints the counters\n"
		"\n"
		"  --sip-port N  UDP port carrying SIP [default: 5060]\n"
		"  --verbose     libbpf's debug messages\n"
		"Exit status: 0 done, 1 failed, 2 usage.\n");
}

/* Sum the per-CPU counters. */
static int read_counters(struct teishi_bpf *skel, unsigned long long out[TEISHI_XDP__COUNT])
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long *vals;
	int fd = bpf_map__fd(skel->maps.teishi_counters);

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < TEISHI_XDP__COUNT; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals) != 0) {
			free(vals);
			return -errno;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

static void print_counters(struct teishi_bpf *skel, const unsigned long long *actions)
{
	unsigned long long c[TEISHI_XDP__COUNT];

	if (read_counters(skel, c) < 0) {
		fprintf(stderr, "teishi-xdp: cannot read counters: %s\n", strerror(errno));
		return;
	}
	printf("{\"counters\": {");
	for (int k = 0; k < TEISHI_XDP__COUNT; k++)
		printf("%s\"%s\": %llu", k ? ", " : "", counter_names[k], c[k]);
	printf("}");
	if (actions)
		printf(", \"actions\": {\"aborted\": %llu, \"drop\": %llu, \"pass\": %llu, "
		       "\"tx\": %llu, \"redirect\": %llu}",
		       actions[XDP_ABORTED], actions[XDP_DROP], actions[XDP_PASS], actions[XDP_TX],
		       actions[XDP_REDIRECT]);
	printf("}\n");
}

static struct teishi_bpf *open_and_load(unsigned sip_port)
{
	struct teishi_bpf *skel = teishi_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "teishi-xdp: cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->sip_port = (__u16)sip_port;
	err = teishi_bpf__load(skel);
	if (err) {
		fprintf(stderr, "teishi-xdp: cannot load the XDP program: %s\n", strerror(-err));
		teishi_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

struct test_run_ctx {
	int prog_fd;
	unsigned long long actions[XDP_REDIRECT + 1];
};

static int test_run_frame(void *arg, const uint8_t *frame, uint32_t len)
{
	struct test_run_ctx *t = arg;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(t->prog_fd, &opts) != 0) {
		fprintf(stderr, "teishi-xdp: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	if (opts.retval <= XDP_REDIRECT)
		t->actions[opts.retval]++;
	return 0;
}

static int test_run(struct teishi_bpf *skel, const char *path)
{
	struct test_run_ctx t = { .prog_fd = bpf_program__fd(skel->progs.teishi_xdp) };
	char err[512] = "";

	if (pcap_frames_each(path, test_run_frame, &t, err, sizeof(err)) != 0) {
		if (err[0])
			fprintf(stderr, "teishi-xdp: %s\n", err);
		return 1;
	}
	print_counters(skel, t.actions);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int attach(struct teishi_bpf *skel, const char *dev, int skb_mode)
{
	unsigned ifindex = if_nametoindex(dev);
	__u32 flags = skb_mode ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int prog_fd = bpf_program__fd(skel->progs.teishi_xdp);

	if (ifindex == 0) {
		fprintf(stderr, "teishi-xdp: %s: no such interface\n", dev);
		return 1;
	}
	if (bpf_xdp_attach((int)ifindex, prog_fd, flags, NULL) != 0) {
		fprintf(stderr, "teishi-xdp: cannot attach to %s: %s\n", dev, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop)
		pause();
	bpf_xdp_detach((int)ifindex, flags, NULL);
	print_counters(skel, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sip-port", required_argument, NULL, 'p' },
		{ "dev", required_argument, NULL, 'd' },
		{ "skb", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long sip_port = 5060;
	const char *dev = NULL, *cmd;
	int skb_mode = 0, c, ret;
	struct teishi_bpf *skel;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			sip_port = strtoul(optarg, &end, 10);
			if (*end || sip_port == 0 || sip_port > 65535) {
				fprintf(stderr, "teishi-xdp: --sip-port \"%s\": want 1..65535\n", optarg);
				return 2;
			}
			break;
		case 'd':
			dev = optarg;
			break;
		case 's':
			skb_mode = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "test-run") == 0) {
		if (optind + 1 != argc) {
			fprintf(stderr, "teishi-xdp: test-run takes one pcap file\n");
			return 2;
		}
	} else if (strcmp(cmd, "attach") == 0) {
		if (!dev || optind != argc) {
			fprintf(stderr, "teishi-xdp: attach needs --dev IFNAME and nothing else\n");
			return 2;
		}
	} else {
		fprintf(stderr, "teishi-xdp: unknown command \"%s\" (test-run, attach)\n", cmd);
		return 2;
	}

	libbpf_set_print(print_libbpf);
	skel = open_and_load((unsigned)sip_port);
	if (!skel)
		return 1;
	if (strcmp(cmd, "test-run") == 0)
		ret = test_run(skel, argv[optind]);
	else
		ret = attach(skel, dev, skb_mode);
	teishi_bpf__destroy(skel);
	return ret;
}
