/* teishi-xdp: loads the XDP program (teishi.bpf.c) with libbpf.
 *
 *   teishi-xdp test-run [--sip-port N] [--list FILE] FILE.pcap
 *       run every frame of FILE through the program with
 *       BPF_PROG_TEST_RUN (no NIC needed) and print the counters as JSON
 *   teishi-xdp attach --dev IFNAME [--sip-port N] [--skb]
 *                     [--list FILE | --redis HOST:PORT ...]
 *       attach to IFNAME until SIGINT/SIGTERM, then print the counters
 *
 * The suspension list goes into the program's teishi_list map: once from
 * --list, or from Redis and kept there while attached (the sync module,
 * as teishi-dp keeps its trie), with a heartbeat so that teishictl
 * dataplanes shows this host too.
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
#include <inttypes.h>
#include <linux/if_link.h>
#include <limits.h>
#include <time.h>

#include "list_map.h"
#include "listfile.h"
#include "pcap_frames.h"
#include "sync.h"
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

/* Where the list comes from, and the map that holds it. */
struct list_opts {
	const char *list_path;
	const char *redis, *redis_write, *redis_user, *redis_password_file, *name;
	char host[PATH_MAX], whost[PATH_MAX]; /* --redis and --redis-write, parsed */
	int port, wport;
	const char *pin; /* where the map is pinned while teishi-xdp runs, or NULL */
	const char *cache; /* --redis-cache */
	unsigned long max_entries;
};

static struct list_map lmap;
static struct sync *session;
static struct sync_cache cache = { .version = UINT64_MAX };
static char session_name[SYNC_NAME_MAX];

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: teishi-xdp test-run [--sip-port N] [--list FILE] FILE.pcap\n"
		"       teishi-xdp attach --dev IFNAME [--sip-port N] [--skb]\n"
		"                         [--list FILE | --redis HOST:PORT|/SOCKET ...]\n"
		"\n"
		"test-run  runs every frame of FILE through the XDP program with\n"
		"          BPF_PROG_TEST_RUN and prints the counters and actions as JSON\n"
		"attach    attaches to IFNAME (native XDP, or generic with --skb) until\n"
		"          SIGINT/SIGTERM, then prints the counters\n"
		"\n"
		"  --sip-port N      UDP port carrying SIP [default: 5060]\n"
		"  --list FILE       the suspension list, once (listfile format)\n"
		"  --redis ADDR      follow teishid's list in Redis (attach): loaded before\n"
		"                    the program is attached, kept while it is\n"
		"  --redis-write ADDR  where the heartbeat goes when ADDR is a read-only\n"
		"                    replica (its primary) [default: the --redis server]\n"
		"  --redis-user USER  ACL user [default: none]\n"
		"  --redis-password-file FILE  first line: the password (never in argv)\n"
		"  --name NAME       this dataplane in heartbeats [default: teishi-xdp@HOST]\n"
		"  --redis-cache FILE  keep the list in force in FILE (rewritten at most every\n"
		"                    10 s while it changes, and at exit); a start with Redis\n"
		"                    down enforces it and catches up once Redis answers\n"
		"  --max-entries N   the list map's capacity [default: 1048576]\n"
		"  --pin-list PATH   pin the list map at PATH (on a bpffs, e.g.\n"
		"                    /sys/fs/bpf/teishi-list) while running, for\n"
		"                    bpftool map dump pinned PATH [default: not pinned]\n"
		"  --verbose         libbpf's debug messages\n"
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
	printf("}, \"list\": {\"entries\": %" PRIu64 ", \"version\": %" PRIu64 "}", lmap.entries,
	       lmap.version);
	if (actions)
		printf(", \"actions\": {\"aborted\": %llu, \"drop\": %llu, \"pass\": %llu, "
		       "\"tx\": %llu, \"redirect\": %llu}",
		       actions[XDP_ABORTED], actions[XDP_DROP], actions[XDP_PASS], actions[XDP_TX],
		       actions[XDP_REDIRECT]);
	printf("}\n");
}

static struct teishi_bpf *open_and_load(unsigned sip_port, uint32_t max_entries)
{
	struct teishi_bpf *skel = teishi_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "teishi-xdp: cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->sip_port = (__u16)sip_port;
	err = bpf_map__set_max_entries(skel->maps.teishi_list, max_entries);
	if (!err)
		err = teishi_bpf__load(skel);
	if (err) {
		fprintf(stderr, "teishi-xdp: cannot load the XDP program: %s\n", strerror(-err));
		teishi_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void say_warning(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "teishi-xdp: list: %s\n", msg);
}

/* The list into the map before the program sees a frame: from the file,
 * or Redis's first load (a failure there is fatal, as in teishi-dp). */
static int list_setup(struct teishi_bpf *skel, const struct list_opts *o)
{
	char err[PATH_MAX + 256], password[512] = "";
	struct sync_config sc = { 0 };
	int rc;

	lmap.fd = bpf_map__fd(skel->maps.teishi_list);
	lmap.max_entries = (uint32_t)o->max_entries;
	lmap.warn = say_warning;
	if (o->pin && (rc = bpf_map__pin(skel->maps.teishi_list, o->pin)) != 0) {
		fprintf(stderr, "teishi-xdp: --pin-list %s: %s (a path on a mounted bpffs that "
			"does not exist yet is needed)\n", o->pin, strerror(-rc));
		return rc;
	}
	if (o->list_path) {
		struct listfile lf;

		if (listfile_load(o->list_path, 1, &lf, err, sizeof(err)) < 0) {
			fprintf(stderr, "teishi-xdp: --list %s\n", err);
			return -EINVAL;
		}
		rc = list_map_load(&lmap, lf.entries, lf.n);
		listfile_free(&lf);
		if (rc < 0)
			fprintf(stderr, "teishi-xdp: --list %s: filling the list map: %s\n",
				o->list_path, strerror(-rc));
		return rc;
	}
	if (!o->redis)
		return 0;
	if (o->redis_password_file &&
	    sync_read_password(o->redis_password_file, password, sizeof(password), err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "teishi-xdp: --redis-password-file %s\n", err);
		return -EINVAL;
	}
	if (o->name)
		snprintf(session_name, sizeof(session_name), "%s", o->name);
	else
		sync_default_name("teishi-xdp", session_name, sizeof(session_name));
	sc.host = o->host;
	sc.port = o->port;
	sc.write_host = o->redis_write ? o->whost : NULL;
	sc.write_port = o->wport;
	sc.user = o->redis_user;
	sc.password = o->redis_password_file ? password : NULL;
	sc.name = session_name;
	session = sync_create(&sc, &list_map_ops, &lmap);
	explicit_bzero(password, sizeof(password));
	if (session == NULL) {
		fprintf(stderr, "teishi-xdp: --redis %s: %s\n", o->redis, strerror(errno));
		return -errno;
	}
	cache.path = o->cache;
	rc = sync_step(session);
	if (rc < 0 && cache.path) {
		char id[SYNC_ID_MAX];
		long n = sync_cache_resume(session, cache.path, id, err, sizeof(err));

		if (n < 0) {
			fprintf(stderr, "teishi-xdp: --redis: the first load failed: %s; and the "
				"cache: %s\n", sync_error(session), err);
			return rc;
		}
		cache.version = lmap.version;
		fprintf(stderr, "teishi-xdp: --redis: the first load failed: %s; enforcing the "
			"cached list %s (%ld entries, up to stream record %s) until Redis answers\n",
			sync_error(session), cache.path, n, id);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "teishi-xdp: --redis: the first load failed: %s\n",
			sync_error(session));
		return rc;
	}
	fprintf(stderr, "teishi-xdp: %" PRIu64 " list entries from Redis %s\n", lmap.entries,
		o->redis);
	return 0;
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The program blocks nothing yet: blocked and events_lost are 0. */
static void heartbeat(struct teishi_bpf *skel, const char *follows, time_t started_at)
{
	unsigned long long c[TEISHI_XDP__COUNT] = { 0 };
	struct sync_beat b = { .entries = lmap.entries, .version = lmap.version,
			       .follows = follows, .started = started_at };

	read_counters(skel, c);
	b.frames = c[TEISHI_XDP_FRAMES];
	sync_heartbeat_dataplane(session, &b);
}

/* Keep the map from Redis until told to stop.  A failed step is said
 * once and retried every second; meanwhile the map stays as it was. */
/* The cache, when due (force: at exit); a failure is said once in a row. */
static void cache_update(int force)
{
	int rc = sync_cache_update(&cache, session, lmap.version, force, list_map_walk, &lmap);

	if (rc < 0 && cache.failing == 1)
		fprintf(stderr, "teishi-xdp: --redis-cache %s: %s (retrying)\n", cache.path,
			strerror(-rc));
}

struct beat_ctx {
	struct teishi_bpf *skel;
	const char *follows;
	time_t started_at;
	uint64_t next_ns;
};

/* The heartbeat when due, sent; also sync_step's idle hook (--redis-write:
 * the followed server is slow to answer, the primary is not). */
static void beat_when_due(void *ctx)
{
	struct beat_ctx *b = ctx;

	if (now_ns() < b->next_ns)
		return;
	heartbeat(b->skel, b->follows, b->started_at);
	sync_flush(session);
	b->next_ns = now_ns() + 1000000000ull;
}

static void follow(struct teishi_bpf *skel, const char *follows, int write_apart)
{
	struct beat_ctx beat = { skel, follows, time(NULL), 0 };
	int down = 0;

	if (write_apart)
		sync_set_idle(session, beat_when_due, &beat);
	while (!stop) {
		int rc = sync_step(session);

		if (rc < 0) {
			if (!down)
				fprintf(stderr, "teishi-xdp: sync: %s; the list stays as it was, "
					"retrying every second\n", sync_error(session));
			down = 1;
			if (write_apart)
				beat_when_due(&beat);
			cache_update(0);
			sleep(1);
			continue;
		}
		if (down) {
			struct sync_stats ss;

			sync_get_stats(session, &ss);
			fprintf(stderr, "teishi-xdp: sync: following %s again from %s\n", follows,
				ss.last_id);
			down = 0;
		}
		beat_when_due(&beat);
		cache_update(0);
	}
	cache_update(1);
}

static int attach(struct teishi_bpf *skel, const char *dev, int skb_mode, const char *follows,
		  int write_apart)
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
	if (session)
		follow(skel, follows, write_apart);
	while (!stop)
		pause();
	bpf_xdp_detach((int)ifindex, flags, NULL);
	print_counters(skel, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_LIST = 256, O_REDIS, O_REDIS_WRITE, O_REDIS_USER, O_REDIS_PW, O_NAME, O_MAX, O_PIN,
	       O_CACHE };
	static const struct option opts[] = {
		{ "sip-port", required_argument, NULL, 'p' },
		{ "dev", required_argument, NULL, 'd' },
		{ "skb", no_argument, NULL, 's' },
		{ "list", required_argument, NULL, O_LIST },
		{ "redis", required_argument, NULL, O_REDIS },
		{ "redis-write", required_argument, NULL, O_REDIS_WRITE },
		{ "redis-user", required_argument, NULL, O_REDIS_USER },
		{ "redis-password-file", required_argument, NULL, O_REDIS_PW },
		{ "name", required_argument, NULL, O_NAME },
		{ "max-entries", required_argument, NULL, O_MAX },
		{ "pin-list", required_argument, NULL, O_PIN },
		{ "redis-cache", required_argument, NULL, O_CACHE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_opts lo = { .max_entries = 1u << 20 };
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
		case O_LIST:
			lo.list_path = optarg;
			break;
		case O_REDIS:
			lo.redis = optarg;
			break;
		case O_REDIS_WRITE:
			lo.redis_write = optarg;
			break;
		case O_REDIS_USER:
			lo.redis_user = optarg;
			break;
		case O_REDIS_PW:
			lo.redis_password_file = optarg;
			break;
		case O_NAME:
			if (!optarg[0] || strlen(optarg) >= SYNC_NAME_MAX ||
			    strspn(optarg, SYNC_NAME_CHARS) != strlen(optarg)) {
				fprintf(stderr, "teishi-xdp: --name \"%s\": 1 to %d of %s\n", optarg,
					SYNC_NAME_MAX - 1, SYNC_NAME_CHARS);
				return 2;
			}
			lo.name = optarg;
			break;
		case O_MAX:
			errno = 0;
			lo.max_entries = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || lo.max_entries == 0 ||
			    lo.max_entries > (1ul << 28)) {
				fprintf(stderr, "teishi-xdp: --max-entries \"%s\": want 1..268435456\n",
					optarg);
				return 2;
			}
			break;
		case O_PIN:
			lo.pin = optarg;
			break;
		case O_CACHE:
			lo.cache = optarg;
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
	if (lo.list_path && lo.redis) {
		fprintf(stderr, "teishi-xdp: --list and --redis cannot be used together: the list "
			"comes from one of them\n");
		return 2;
	}
	if (!lo.redis && (lo.redis_write || lo.redis_user || lo.redis_password_file || lo.name ||
			  lo.cache)) {
		fprintf(stderr, "teishi-xdp: --redis-write, --redis-user, --redis-password-file, "
			"--redis-cache and --name need --redis\n");
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		const char *addr = i ? lo.redis_write : lo.redis;
		char why[PATH_MAX + 128];

		if (addr && sync_parse_addr(addr, i ? lo.whost : lo.host, sizeof(lo.host),
					    i ? &lo.wport : &lo.port, why, sizeof(why)) < 0) {
			fprintf(stderr, "teishi-xdp: --%s %s\n", i ? "redis-write" : "redis", why);
			return 2;
		}
	}
	if (strcmp(cmd, "test-run") == 0) {
		if (optind + 1 != argc) {
			fprintf(stderr, "teishi-xdp: test-run takes one pcap file\n");
			return 2;
		}
		if (lo.redis) {
			fprintf(stderr, "teishi-xdp: test-run takes its list from --list, not --redis\n");
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
	skel = open_and_load((unsigned)sip_port, (uint32_t)lo.max_entries);
	if (!skel)
		return 1;
	if (list_setup(skel, &lo) < 0)
		ret = 1;
	else if (strcmp(cmd, "test-run") == 0)
		ret = test_run(skel, argv[optind]);
	else
		ret = attach(skel, dev, skb_mode, lo.redis, lo.redis_write != NULL);
	sync_free(session);
	if (lo.pin && bpf_map__is_pinned(skel->maps.teishi_list))
		bpf_map__unpin(skel->maps.teishi_list, NULL);
	teishi_bpf__destroy(skel);
	return ret;
}
