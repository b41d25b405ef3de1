/* teishid internals shared by its main loop (teishid.c) and the request
 * handlers (ops.c).  Not a public interface. */
#ifndef TEISHI_DAEMON_H
#define TEISHI_DAEMON_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <jansson.h>
#include <sodium.h>

#include "commands.h"
#include "jdate.h"
#include "store.h"

#define DAEMON_MAX_PEERS 16

struct daemon {
	struct store store;
	char audit_head[65];
	long audit_len;
	int audit_loaded;
	int have_feed_key;
	unsigned char feed_sk[crypto_sign_SECRETKEYBYTES];
	char feed_origin[64];
	int npeers;
	struct {
		char name[64];
		unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	} peers[DAEMON_MAX_PEERS];
};

struct req {
	struct daemon *d;
	const struct cmd_def *def;
	json_t *args;
	uid_t uid;
	gid_t gid;
	char principal[64];
	unsigned roles;
	time_t now;
	char today[JDATE_LEN + 1];
	char stamp[21];
	/* The response. */
	int code;
	char msg[2048];
	json_t *warnings; /* array of strings */
	json_t *data;     /* object */
	json_t *columns;  /* array of strings, or NULL */
	json_t *rows;     /* array of arrays */
	/* A change handler that returns PROTO_OK leaves its changes queued in
	 * txn; the caller adds the audit record and runs EXEC. */
	struct txn txn;
	int txn_open;
	json_t *audit_args; /* args as audited (large ones summarised) */
};

typedef void (*op_handler)(struct req *r);
extern const op_handler op_handlers[CMD__COUNT];

/* Set the response code and message (printf-style). */
void req_fail(struct req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void req_ok(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void req_warn(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Start a table with the given column names (NULL-terminated). */
void req_table(struct req *r, ...);
/* Append a row of n C strings. */
void req_row(struct req *r, int n, ...);
/* Begin the transaction of a change. */
void req_begin(struct req *r);

#endif
