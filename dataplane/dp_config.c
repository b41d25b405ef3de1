#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "dp_config.h"
#include "sync.h"

enum key {
	K_PORTS = 0,
	K_WORKERS,
	K_SIP_PORT,
	K_LIST,
	K_REDIS,
	K_REDIS_USER,
	K_REDIS_PASSWORD_FILE,
	K_REDIS_CACHE,
	K_REDIS_WRITE,
	K_REDIS_START,
	K_NAME,
	K_HEADERS,
	K_CALLING_ACTION,
	K_CALLED_ACTION,
	K_CALLING_CODE,
	K_CALLED_CODE,
	K_REASON_TEXT,
	K_UNPARSABLE,
	K_BAD_FRAMES,
	K_FRAG_TIMEOUT,
	K_FRAG_LINGER,
	K_FRAG_INCOMPLETE,
	K_FRAG_MAX_DATAGRAMS,
	K_FRAG_MAX_FRAGMENTS,
	K_EVENTS,
	K_EVENT_RING,
	K_STATS_FILE,
	K_STATS_INTERVAL,
	K_IDLE_EXIT,
	K_RX_DESC,
	K_TX_DESC,
	K_MBUFS,
	K_CONFIG,
	K_HELP,
	K__COUNT,
};

struct key_def {
	const char *name;
	const char *arg;  /* NULL: a flag */
	const char *def;  /* default as text, for --help */
	const char *help;
};

static const struct key_def keys[K__COUNT] = {
	[K_PORTS] = { "ports", "A:B[,C:D...]", "0:1",
		      "port pairs: every frame received on one port of a pair leaves by the other" },
	[K_WORKERS] = { "workers", "LCORE[,LCORE...]", "every EAL worker lcore",
			"worker lcores; each polls one RX queue of every port (RSS, IP-only hash)" },
	[K_SIP_PORT] = { "sip-port", "PORT[,PORT...]", "5060",
			 "UDP/TCP ports carrying SIP (source or destination), at most 8" },
	[K_LIST] = { "list", "FILE", "none (nothing is blocked)",
		     "static suspension list: one number, prefix* or a..b range per line" },
	[K_REDIS] = { "redis", "HOST:PORT|/SOCKET", "none (static mode: --list)",
		      "follow the suspension list in Redis (teishi:entries and the change stream "
		      "teishi:changes), write blocked calls to teishi:events and a heartbeat; "
		      "not with --list" },
	[K_REDIS_USER] = { "redis-user", "USER", "none (AUTH with the password alone)",
			   "Redis ACL user" },
	[K_REDIS_PASSWORD_FILE] = { "redis-password-file", "FILE", "none (no AUTH)",
				    "file whose first line is the Redis password (never on the "
				    "command line, where ps shows it)" },
	[K_REDIS_CACHE] = { "redis-cache", "FILE", "none",
			    "keep the list in force in FILE (one entry per line, as in Redis; "
			    "rewritten at most every 10 s while it changes, and at exit); when Redis "
			    "does not answer at start, start with it and catch up once Redis answers" },
	[K_REDIS_WRITE] = { "redis-write", "HOST:PORT|/SOCKET", "the --redis server",
			    "where events and heartbeats go when --redis is a read-only replica "
			    "(its primary; same user and password)" },
	[K_REDIS_START] = { "redis-start", "exit|forward", "exit",
			    "when the first load from Redis fails and no --redis-cache stands in: "
			    "exit (the link stays down), or forward every frame with nothing blocked "
			    "and enforce the list once Redis answers (retried every second)" },
	[K_NAME] = { "name", "NAME", "teishi-dp@HOSTNAME",
		     "this dataplane's name in teishi:events and its heartbeat "
		     "(letters, digits and . _ @ : -)" },
	[K_HEADERS] = { "headers", "all|LIST", "all",
			"headers whose numbers are checked: ruri,to,from,pai,ppi,rpid,diversion,history-info" },
	[K_CALLING_ACTION] = { "calling-action", "reject|drop", "reject",
			       "what to do with an INVITE blocked by a calling-side number "
			       "(From, PAI, PPI, RPID, Diversion, History-Info)" },
	[K_CALLED_ACTION] = { "called-action", "reject|drop", "reject",
			      "what to do with an INVITE blocked by a called-side number (Request-URI, To)" },
	[K_CALLING_CODE] = { "calling-code", "CODE", "608 (Rejected, RFC 8688)",
			     "SIP status of the reject for a calling-side match (300..699)" },
	[K_CALLED_CODE] = { "called-code", "CODE", "404 (Not Found)",
			    "SIP status of the reject for a called-side match (300..699)" },
	[K_REASON_TEXT] = { "reason-text", "TEXT", "Number suspended",
			    "text= of the Reason header (RFC 3326) in rejects; empty leaves it out" },
	[K_UNPARSABLE] = { "unparsable", "pass|drop", "pass (fail-open)",
			   "UDP on a SIP port that is not SIP, or an INVITE with more number-bearing "
			   "URIs than teishi checks (24): pass it (fail-open) or drop it (fail-closed)" },
	[K_BAD_FRAMES] = { "bad-frames", "forward|drop", "forward",
			   "frames whose headers are truncated or inconsistent" },
	[K_FRAG_TIMEOUT] = { "frag-timeout", "MS", "1000",
			     "time a fragmented datagram may take to complete" },
	[K_FRAG_LINGER] = { "frag-linger", "MS", "30000",
			    "after a timed-out datagram's fragments were forwarded, how long "
			    "the fragment that would complete it is still dropped (receivers "
			    "keep fragments: Linux 30 s)" },
	[K_FRAG_INCOMPLETE] = { "frag-incomplete", "forward|drop", "forward",
				"fragments of a datagram that timed out, had too many fragments "
				"or found the table full" },
	[K_FRAG_MAX_DATAGRAMS] = { "frag-max-datagrams", "N", "256",
				   "datagrams being reassembled per worker" },
	[K_FRAG_MAX_FRAGMENTS] = { "frag-max-fragments", "N", "8",
				   "fragments per datagram (2..8); a SIP datagram (by its first "
				   "fragment) of more is dropped, any other forwarded unclassified" },
	[K_EVENTS] = { "events", "FILE", "none",
		       "append one JSON line per blocked call (time, side, header, number, entry, "
		       "five-tuple)" },
	[K_EVENT_RING] = { "event-ring", "N", "4096",
			   "blocked-call event ring slots (power of 2); events beyond it are counted and lost" },
	[K_STATS_FILE] = { "stats-file", "FILE", "stdout",
			   "where the JSON stats go on exit and on SIGUSR1 (overwritten each time)" },
	[K_STATS_INTERVAL] = { "stats-interval", "SECONDS", "0 (off)",
			       "print a one-line counter summary to stderr this often" },
	[K_IDLE_EXIT] = { "idle-exit", "MS", "0 (run until signalled)",
			  "stop as on SIGTERM once no frame has arrived for MS milliseconds "
			  "(pcap replay, tests, the demo)" },
	[K_RX_DESC] = { "rx-desc", "N", "1024", "RX descriptors per queue" },
	[K_TX_DESC] = { "tx-desc", "N", "1024", "TX descriptors per queue" },
	[K_MBUFS] = { "mbufs", "N", "computed from ports, queues and descriptors",
		      "mbufs in the packet pool" },
	[K_CONFIG] = { "config", "FILE", "none",
		       "read \"key = value\" lines with these same keys; the command line wins" },
	[K_HELP] = { "help", NULL, NULL, "print this help" },
};

const char *dp_side_action_name(enum dp_side_action a)
{
	return a == DP_SIDE_DROP ? "drop" : "reject";
}

void dp_config_default(struct dp_app_config *c)
{
	memset(c, 0, sizeof(*c));
	c->n_pairs = 1;
	c->pairs[0] = (struct dp_port_pair){ 0, 1 };
	dp_pipeline_config_default(&c->pipe);
	c->action[VERDICT_SIDE_CALLING] = DP_SIDE_REJECT;
	c->action[VERDICT_SIDE_CALLED] = DP_SIDE_REJECT;
	c->code[VERDICT_SIDE_CALLING] = 608;
	c->code[VERDICT_SIDE_CALLED] = 404;
	snprintf(c->reason_text, sizeof(c->reason_text), "Number suspended");
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->event_ring = 4096;
	if (c->pipe.frag_timeout_ms == 0)
		c->pipe.frag_timeout_ms = 1000;
	if (c->pipe.frag_linger_ms == 0)
		c->pipe.frag_linger_ms = 30000;
	if (c->pipe.frag_max_datagrams == 0)
		c->pipe.frag_max_datagrams = 256;
	if (c->pipe.frag_max_fragments == 0)
		c->pipe.frag_max_fragments = DP_FRAG_MAX;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *key,
		const char *val)
{
	snprintf(err, errlen, fmt, key, val);
	return rc;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Split a comma list of integers in [lo, hi] into out[0..max). */
static int parse_list(const char *s, uint32_t lo, uint32_t hi, uint32_t *out, unsigned max,
		      unsigned *n)
{
	char tmp[256], *save = NULL, *tok;

	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	*n = 0;
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*n == max || parse_u32(tok, lo, hi, &out[*n]) < 0)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_choice(const char *s, const char *a, const char *b, uint8_t *out)
{
	if (strcmp(s, a) == 0)
		*out = 0;
	else if (strcmp(s, b) == 0)
		*out = 1;
	else
		return -EINVAL;
	return 0;
}

static int set_key(struct dp_app_config *c, enum key k, const char *val, char *err,
		   size_t errlen)
{
	const char *name = keys[k].name;
	uint32_t v, list[DP_MAX_WORKERS];
	unsigned n;
	uint8_t b;

	switch (k) {
	case K_PORTS: {
		char tmp[256], *save = NULL, *tok;

		if (strlen(val) >= sizeof(tmp))
			goto bad;
		strcpy(tmp, val);
		c->n_pairs = 0;
		for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			unsigned a, bb;
			char extra;

			if (c->n_pairs == DP_MAX_PAIRS ||
			    sscanf(tok, " %u:%u %c", &a, &bb, &extra) != 2 || a == bb || a > 1023 ||
			    bb > 1023)
				goto bad;
			for (unsigned i = 0; i < c->n_pairs; i++)
				if (c->pairs[i].a == a || c->pairs[i].b == a || c->pairs[i].a == bb ||
				    c->pairs[i].b == bb)
					return fail(err, errlen, -EINVAL,
						    "--%s %s: a port appears in two pairs", name, val);
			c->pairs[c->n_pairs++] = (struct dp_port_pair){ (uint16_t)a, (uint16_t)bb };
		}
		if (c->n_pairs == 0)
			goto bad;
		return 0;
	}
	case K_WORKERS:
		if (parse_list(val, 0, 1023, list, DP_MAX_WORKERS, &n) < 0)
			goto bad;
		for (unsigned i = 0; i < n; i++)
			c->workers[i] = (uint16_t)list[i];
		c->n_workers = (uint8_t)n;
		return 0;
	case K_SIP_PORT:
		if (parse_list(val, 1, 65535, list, FRAME_MAX_SIP_PORTS, &n) < 0)
			goto bad;
		for (unsigned i = 0; i < n; i++)
			c->pipe.frame.sip_ports[i] = (uint16_t)list[i];
		c->pipe.frame.n_sip_ports = (uint8_t)n;
		return 0;
	case K_LIST:
		if (strlen(val) >= sizeof(c->list_path))
			goto bad;
		strcpy(c->list_path, val);
		return 0;
	case K_REDIS:
	case K_REDIS_WRITE: {
		char host[PATH_MAX], why[PATH_MAX + 96];
		int port;

		/* the rule the session applies (sync.h) */
		if (sync_parse_addr(val, host, sizeof(host), &port, why, sizeof(why)) < 0)
			return fail(err, errlen, -EINVAL, "--%s %s", name, why);
		strcpy(k == K_REDIS ? c->redis : c->redis_write, val);
		return 0;
	}
	case K_REDIS_USER:
	case K_REDIS_PASSWORD_FILE:
	case K_REDIS_CACHE: {
		char *dst = k == K_REDIS_USER ? c->redis_user
			    : k == K_REDIS_CACHE ? c->redis_cache : c->redis_password_file;
		size_t cap = k == K_REDIS_USER ? sizeof(c->redis_user) : PATH_MAX;

		if (strlen(val) >= cap || val[0] == '\0')
			goto bad;
		strcpy(dst, val);
		return 0;
	}
	case K_NAME: {
		size_t len = strlen(val);

		if (len == 0 || len >= sizeof(c->name) || strspn(val, SYNC_NAME_CHARS) != len)
			return fail(err, errlen, -EINVAL,
				    "--%s %s: 1 to 63 letters, digits and . _ @ : - are needed", name, val);
		strcpy(c->name, val);
		return 0;
	}
	case K_HEADERS: {
		char e[128];

		if (verdict_config_headers(&c->pipe.verdict, val, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "--%s %s: %s", name, val, e);
			return -EINVAL;
		}
		return 0;
	}
	case K_CALLING_ACTION:
	case K_CALLED_ACTION:
		if (parse_choice(val, "reject", "drop", &b) < 0)
			goto bad;
		c->action[k == K_CALLING_ACTION ? VERDICT_SIDE_CALLING : VERDICT_SIDE_CALLED] = b;
		return 0;
	case K_CALLING_CODE:
	case K_CALLED_CODE:
		if (parse_u32(val, 300, 699, &v) < 0)
			return fail(err, errlen, -EINVAL, "--%s %s: a SIP final status 300..699 is needed",
				    name, val);
		c->code[k == K_CALLING_CODE ? VERDICT_SIDE_CALLING : VERDICT_SIDE_CALLED] = (uint16_t)v;
		return 0;
	case K_REASON_TEXT:
		if (strlen(val) >= sizeof(c->reason_text) || strpbrk(val, "\"\\\r\n"))
			return fail(err, errlen, -EINVAL,
				    "--%s %s: at most 95 characters, no quotes, backslashes or newlines",
				    name, val);
		strcpy(c->reason_text, val);
		return 0;
	case K_UNPARSABLE:
		if (parse_choice(val, "pass", "drop", &b) < 0)
			goto bad;
		c->pipe.drop_unparsable = b;
		return 0;
	case K_BAD_FRAMES:
		if (parse_choice(val, "forward", "drop", &b) < 0)
			goto bad;
		c->pipe.drop_bad_frames = b;
		return 0;
	case K_REDIS_START:
		if (parse_choice(val, "exit", "forward", &b) < 0)
			goto bad;
		c->redis_start_forward = b;
		return 0;
	case K_FRAG_TIMEOUT:
		if (parse_u32(val, 1, 60000, &c->pipe.frag_timeout_ms) < 0)
			goto bad;
		return 0;
	case K_FRAG_LINGER:
		if (parse_u32(val, 1, 600000, &c->pipe.frag_linger_ms) < 0)
			goto bad;
		return 0;
	case K_FRAG_INCOMPLETE:
		if (parse_choice(val, "forward", "drop", &b) < 0)
			goto bad;
		c->pipe.frag_incomplete = b ? DP_FRAG_DROP : DP_FRAG_FORWARD;
		return 0;
	case K_FRAG_MAX_DATAGRAMS:
		if (parse_u32(val, 1, 1u << 20, &c->pipe.frag_max_datagrams) < 0)
			goto bad;
		return 0;
	case K_FRAG_MAX_FRAGMENTS:
		if (parse_u32(val, 2, DP_FRAG_MAX, &c->pipe.frag_max_fragments) < 0)
			goto bad;
		return 0;
	case K_EVENTS:
	case K_STATS_FILE: {
		char *dst = k == K_EVENTS ? c->events_path : c->stats_path;

		if (strlen(val) >= PATH_MAX)
			goto bad;
		strcpy(dst, val);
		return 0;
	}
	case K_EVENT_RING:
		if (parse_u32(val, 64, 1u << 24, &v) < 0 || (v & (v - 1)) != 0)
			return fail(err, errlen, -EINVAL, "--%s %s: a power of 2 in 64..16777216 is needed",
				    name, val);
		c->event_ring = v;
		return 0;
	case K_STATS_INTERVAL:
		if (parse_u32(val, 0, 86400, &c->stats_interval) < 0)
			goto bad;
		return 0;
	case K_IDLE_EXIT:
		if (parse_u32(val, 0, 86400000, &c->idle_exit_ms) < 0)
			goto bad;
		return 0;
	case K_RX_DESC:
	case K_TX_DESC:
		if (parse_u32(val, 32, 16384, k == K_RX_DESC ? &c->rx_desc : &c->tx_desc) < 0)
			goto bad;
		return 0;
	case K_MBUFS:
		if (parse_u32(val, 0, 1u << 26, &c->mbufs) < 0)
			goto bad;
		return 0;
	case K_CONFIG:
		if (strlen(val) >= sizeof(c->config_path))
			goto bad;
		strcpy(c->config_path, val);
		return 0;
	case K_HELP:
	case K__COUNT:
		break;
	}
	return fail(err, errlen, -ENOENT, "unknown option %s%s", name, "");
bad:
	snprintf(err, errlen, "--%s %s: expected %s", name, val, keys[k].arg ? keys[k].arg : "nothing");
	return -EINVAL;
}

int dp_config_set(struct dp_app_config *c, const char *key, const char *val, char *err,
		  size_t errlen)
{
	for (int k = 0; k < K__COUNT; k++)
		if (strcmp(keys[k].name, key) == 0 && keys[k].arg != NULL)
			return set_key(c, (enum key)k, val, err, errlen);
	snprintf(err, errlen, "unknown key \"%s\"", key);
	return -ENOENT;
}

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int dp_config_load(struct dp_app_config *c, const char *path, char *err, size_t errlen)
{
	char line[PATH_MAX + 64], e[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *key, *val;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		s = strip(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		key = strip(s);
		val = strip(eq + 1);
		if (strcmp(key, "config") == 0 || strcmp(key, "help") == 0) {
			snprintf(err, errlen, "%s:%u: \"%s\" cannot be set in a config file", path,
				 lineno, key);
			rc = -EINVAL;
			break;
		}
		rc = dp_config_set(c, key, val, e, sizeof(e));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, e);
			break;
		}
	}
	fclose(f);
	if (rc == 0)
		snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	return rc;
}

int dp_config_parse_args(struct dp_app_config *c, int argc, char **argv, char *err,
			 size_t errlen)
{
	struct option lopts[K__COUNT + 1];
	int opt, idx, rc;

	for (int k = 0; k < K__COUNT; k++)
		lopts[k] = (struct option){ keys[k].name, keys[k].arg ? required_argument : no_argument,
					    NULL, k };
	lopts[K__COUNT] = (struct option){ 0 };

	/* First pass: only --config and --help, so the file sits under the
	 * command line whatever the order. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, &idx)) != -1) {
		if (opt == 'h' || opt == K_HELP) {
			dp_config_usage(stdout, argv[0]);
			return 1;
		}
		if (opt == K_CONFIG) {
			rc = dp_config_load(c, optarg, err, errlen);
			if (rc < 0)
				return rc;
		}
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, &idx)) != -1) {
		if (opt == '?' || opt == ':') {
			snprintf(err, errlen, "%s: unknown option or missing argument (try --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (opt == K_CONFIG)
			continue;
		rc = set_key(c, (enum key)opt, optarg, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (optind < argc) {
		snprintf(err, errlen, "%s: unexpected argument (try --help)", argv[optind]);
		return -EINVAL;
	}
	if (c->list_path[0] && c->redis[0]) {
		snprintf(err, errlen, "--list and --redis cannot be used together: the list comes "
			 "from one or the other");
		return -EINVAL;
	}
	if (!c->redis[0] && (c->redis_user[0] || c->redis_password_file[0] || c->redis_cache[0] ||
			     c->redis_write[0] || c->redis_start_forward)) {
		snprintf(err, errlen, "--redis-user, --redis-password-file, --redis-cache, "
			 "--redis-write and --redis-start forward need --redis");
		return -EINVAL;
	}
	return 0;
}

void dp_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [options]\n\n"
		"A bump-in-the-wire between port pairs: every frame received on one port leaves by\n"
		"the other, except initial SIP INVITEs over UDP that match the suspension list,\n"
		"which are answered with a SIP reject out the port they came from, or dropped.\n"
		"INVITEs over TCP are classified and counted only (monitor), never blocked.\n"
		"Reassembled datagrams that pass leave as their original fragments, byte-identical.\n\n"
		"Options (each is also a \"key = value\" line for --config):\n",
		prog);
	for (int k = 0; k < K__COUNT; k++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", keys[k].name, keys[k].arg ? " " : "",
			 keys[k].arg ? keys[k].arg : "");
		fprintf(f, "  %-34s %s", left, keys[k].help);
		if (keys[k].def)
			fprintf(f, " [default: %s]", keys[k].def);
		fputc('\n', f);
	}
	fprintf(f,
		"\nSignals: SIGUSR1 dumps the JSON stats; SIGINT/SIGTERM stop the ports, dump the\n"
		"stats and exit.  Telemetry (dpdk-telemetry.py): /teishi/stats, /teishi/list,\n"
		"/teishi/config.\n");
}

void dp_config_foreach(const struct dp_app_config *c,
		       void (*fn)(void *ctx, const char *key, const char *val), void *ctx)
{
	char buf[PATH_MAX + 32];
	size_t o;

	for (int k = 0; k < K__COUNT; k++) {
		buf[0] = '\0';
		switch ((enum key)k) {
		case K_PORTS:
			o = 0;
			for (unsigned i = 0; i < c->n_pairs && o < sizeof(buf); i++)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u:%u", i ? "," : "",
						      c->pairs[i].a, c->pairs[i].b);
			break;
		case K_WORKERS:
			o = 0;
			for (unsigned i = 0; i < c->n_workers && o < sizeof(buf); i++)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
						      c->workers[i]);
			if (c->n_workers == 0)
				snprintf(buf, sizeof(buf), "all");
			break;
		case K_SIP_PORT:
			o = 0;
			for (unsigned i = 0; i < c->pipe.frame.n_sip_ports && o < sizeof(buf); i++)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "",
						      c->pipe.frame.sip_ports[i]);
			if (c->pipe.frame.n_sip_ports == 0)
				snprintf(buf, sizeof(buf), "5060");
			break;
		case K_LIST:
			snprintf(buf, sizeof(buf), "%s", c->list_path);
			break;
		case K_REDIS:
			snprintf(buf, sizeof(buf), "%s", c->redis);
			break;
		case K_REDIS_USER:
			snprintf(buf, sizeof(buf), "%s", c->redis_user);
			break;
		case K_REDIS_PASSWORD_FILE:
			snprintf(buf, sizeof(buf), "%s", c->redis_password_file);
			break;
		case K_REDIS_CACHE:
			snprintf(buf, sizeof(buf), "%s", c->redis_cache);
			break;
		case K_REDIS_WRITE:
			snprintf(buf, sizeof(buf), "%s", c->redis_write);
			break;
		case K_NAME:
			snprintf(buf, sizeof(buf), "%s", c->name);
			break;
		case K_HEADERS:
			o = 0;
			for (int h = 0; h < SIP_HDR__COUNT && o < sizeof(buf); h++)
				if (c->pipe.verdict.headers & (1u << h))
					o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
							      o ? "," : "", sip_hdr_name(h));
			break;
		case K_CALLING_ACTION:
			snprintf(buf, sizeof(buf), "%s",
				 dp_side_action_name(c->action[VERDICT_SIDE_CALLING]));
			break;
		case K_CALLED_ACTION:
			snprintf(buf, sizeof(buf), "%s",
				 dp_side_action_name(c->action[VERDICT_SIDE_CALLED]));
			break;
		case K_CALLING_CODE:
			snprintf(buf, sizeof(buf), "%u", c->code[VERDICT_SIDE_CALLING]);
			break;
		case K_CALLED_CODE:
			snprintf(buf, sizeof(buf), "%u", c->code[VERDICT_SIDE_CALLED]);
			break;
		case K_REASON_TEXT:
			snprintf(buf, sizeof(buf), "%s", c->reason_text);
			break;
		case K_UNPARSABLE:
			snprintf(buf, sizeof(buf), "%s", c->pipe.drop_unparsable ? "drop" : "pass");
			break;
		case K_BAD_FRAMES:
			snprintf(buf, sizeof(buf), "%s", c->pipe.drop_bad_frames ? "drop" : "forward");
			break;
		case K_REDIS_START:
			snprintf(buf, sizeof(buf), "%s", c->redis_start_forward ? "forward" : "exit");
			break;
		case K_FRAG_TIMEOUT:
			snprintf(buf, sizeof(buf), "%u", c->pipe.frag_timeout_ms);
			break;
		case K_FRAG_LINGER:
			snprintf(buf, sizeof(buf), "%u", c->pipe.frag_linger_ms);
			break;
		case K_FRAG_INCOMPLETE:
			snprintf(buf, sizeof(buf), "%s",
				 c->pipe.frag_incomplete == DP_FRAG_DROP ? "drop" : "forward");
			break;
		case K_FRAG_MAX_DATAGRAMS:
			snprintf(buf, sizeof(buf), "%u", c->pipe.frag_max_datagrams);
			break;
		case K_FRAG_MAX_FRAGMENTS:
			snprintf(buf, sizeof(buf), "%u", c->pipe.frag_max_fragments);
			break;
		case K_EVENTS:
			snprintf(buf, sizeof(buf), "%s", c->events_path);
			break;
		case K_EVENT_RING:
			snprintf(buf, sizeof(buf), "%u", c->event_ring);
			break;
		case K_STATS_FILE:
			snprintf(buf, sizeof(buf), "%s", c->stats_path);
			break;
		case K_STATS_INTERVAL:
			snprintf(buf, sizeof(buf), "%u", c->stats_interval);
			break;
		case K_IDLE_EXIT:
			snprintf(buf, sizeof(buf), "%u", c->idle_exit_ms);
			break;
		case K_RX_DESC:
			snprintf(buf, sizeof(buf), "%u", c->rx_desc);
			break;
		case K_TX_DESC:
			snprintf(buf, sizeof(buf), "%u", c->tx_desc);
			break;
		case K_MBUFS:
			snprintf(buf, sizeof(buf), "%u", c->mbufs);
			break;
		case K_CONFIG:
			snprintf(buf, sizeof(buf), "%s", c->config_path);
			break;
		case K_HELP:
		case K__COUNT:
			continue;
		}
		fn(ctx, keys[k].name, buf);
	}
}
