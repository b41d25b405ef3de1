/* A private, real redis-server for one test.
 *
 * redis_fixture_start() runs redis-server on a free loopback port (never
 * 6379) in a fresh temporary directory, with the persistence and auth
 * settings the test asks for, and returns once it answers PING.
 * redis_fixture_stop() kills it and removes its directory.  Every started
 * server is also registered for an atexit() and fatal-signal cleanup, so a
 * failing or aborted test leaves no process and no files behind.
 *
 * Use it from cmocka group setup/teardown:
 *   static int setup(void **st) { return redis_fixture_start(&opts, &rf); }
 *   static int teardown(void **st) { redis_fixture_stop(&rf); return 0; }
 *
 * Needs libc only: it talks RESP over a plain TCP socket.
 */
#ifndef TEISHI_REDIS_FIXTURE_H
#define TEISHI_REDIS_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

struct redis_fixture_opts {
	int aof;                 /* 1: appendonly yes */
	const char *appendfsync; /* "always", "everysec", "no"; NULL = "always" */
	const char *password;    /* requirepass for "default", or the ACL user's password */
	const char *user;        /* when set, an ACL user with all rights and password;
				  * "default" gets a random password (not "off":
				  * see redis_fixture.c) */
};

struct redis_fixture {
	pid_t pid;            /* 0 when not running */
	int port;
	char dir[256];        /* temp dir holding redis.conf, AOF, log */
	char host[16];        /* "127.0.0.1" */
	struct redis_fixture_opts opts;
	char user[64];
	char password[64];
};

/* Start a server.  Returns 0, or a negative errno after printing why to
 * stderr (redis-server missing, no free port, no PING within 10 s). */
int redis_fixture_start(const struct redis_fixture_opts *opts, struct redis_fixture *rf);

/* Kill the server (SIGKILL when hard, else SIGTERM and wait) but keep its
 * directory, so that restart finds the AOF. */
int redis_fixture_kill(struct redis_fixture *rf, int hard);

/* Start again on the same port and directory (after kill). */
int redis_fixture_restart(struct redis_fixture *rf);

/* Kill the server and remove its directory.  Safe to call twice. */
void redis_fixture_stop(struct redis_fixture *rf);

/* Send one command (argv, binary-safe lengths optional: NULL = strlen) and
 * read one reply into out as text: simple/bulk strings as is, integers in
 * decimal, errors prefixed "-", nil as "(nil)", arrays as their element
 * count "*N" followed by the elements one per line.  Authenticates first
 * when the fixture has a password.  Returns 0 or a negative errno. */
int redis_fixture_cmd(const struct redis_fixture *rf, char *out, size_t outlen,
		      int argc, const char *const *argv);

/* redis_fixture_cmd() of a NULL-terminated list of arguments (at most
 * 31), for tests: the reply's text in a static buffer (overwritten by the
 * next call), or NULL when the command could not be sent or read. */
const char *redis_fixture_cmdl(const struct redis_fixture *rf, const char *first, ...);

/* "HOST:PORT" of the server. */
const char *redis_fixture_addr(const struct redis_fixture *rf);

#endif
