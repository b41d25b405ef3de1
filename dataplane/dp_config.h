/* teishi-dp's options: one table drives the command line (getopt_long),
 * --config files ("key = value" lines with the same keys), --help and the
 * /teishi/config telemetry dump, so they cannot drift apart.
 *
 * No DPDK here: the application applies the result after rte_eal_init().
 */
#ifndef TEISHI_DP_CONFIG_H
#define TEISHI_DP_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp_pipeline.h"
#include "verdict.h"

#define DP_MAX_PAIRS 8
#define DP_MAX_WORKERS 64
#define DP_REASON_TEXT_MAX 96

enum dp_side_action {
	DP_SIDE_REJECT = 0, /* answer with a SIP final response out the ingress port */
	DP_SIDE_DROP,       /* drop silently */
};

struct dp_port_pair {
	uint16_t a, b;
};

struct dp_app_config {
	struct dp_port_pair pairs[DP_MAX_PAIRS];
	uint8_t n_pairs;                     /* default 1: 0<->1 */
	uint16_t workers[DP_MAX_WORKERS];    /* worker lcore ids */
	uint8_t n_workers;                   /* 0: every EAL worker lcore */
	struct dp_pipeline_config pipe;      /* SIP ports, headers, fragments, fail mode */
	char list_path[PATH_MAX];            /* --list; empty: nothing is blocked */
	char redis[PATH_MAX];                /* --redis HOST:PORT or /socket; empty: static mode */
	char redis_user[128];
	char redis_password_file[PATH_MAX];
	char redis_cache[PATH_MAX];          /* --redis-cache; empty: none */
	char redis_write[PATH_MAX];          /* --redis-write; empty: the --redis server */
	bool redis_start_forward;            /* --redis-start forward */
	char name[64];                       /* empty: teishi-dp@HOSTNAME */
	uint8_t action[2];                   /* enum dp_side_action by enum verdict_side */
	uint16_t code[2];                    /* reject code by enum verdict_side */
	char reason_text[DP_REASON_TEXT_MAX];
	char events_path[PATH_MAX];          /* --events; empty: events are counted only */
	char stats_path[PATH_MAX];           /* --stats-file; empty: stdout */
	uint32_t stats_interval;             /* seconds, 0: off */
	uint32_t idle_exit_ms;               /* stop after this long without a frame, 0: never */
	uint32_t rx_desc, tx_desc;           /* per queue */
	uint32_t mbufs;                      /* mbuf pool size; 0: computed */
	uint32_t event_ring;                 /* event ring slots (power of 2) */
	char config_path[PATH_MAX];          /* the --config file read, if any */
};

/* The defaults written in --help. */
void dp_config_default(struct dp_app_config *c);

/* Set one key (a long option name without "--") from text.  Returns 0,
 * -ENOENT (unknown key) or -EINVAL; err names the key and the problem. */
int dp_config_set(struct dp_app_config *c, const char *key, const char *val, char *err,
		  size_t errlen);

/* Read "key = value" lines ('#' comments, blank lines).  The first bad line
 * stops it with "path:line: reason".  Returns 0 or a negative errno. */
int dp_config_load(struct dp_app_config *c, const char *path, char *err, size_t errlen);

/* Parse the application arguments (after EAL's "--").  A --config FILE is
 * read first wherever it appears, so the command line overrides the file.
 * Returns 0, 1 when --help was given (usage printed to stdout), or a
 * negative errno with err set. */
int dp_config_parse_args(struct dp_app_config *c, int argc, char **argv, char *err,
			 size_t errlen);

void dp_config_usage(FILE *f, const char *prog);

/* Call fn(key, value-text) for every key, in table order. */
void dp_config_foreach(const struct dp_app_config *c,
		       void (*fn)(void *ctx, const char *key, const char *val), void *ctx);

const char *dp_side_action_name(enum dp_side_action a);

#endif
