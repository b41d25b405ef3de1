/* See redis_fixture.h.  Plain libc: fork/exec redis-server, RESP over TCP. */
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Servers alive right now, for the atexit/signal cleanup.  Fixed size so the
 * signal handler never touches the heap. */
#define RF_MAX 16
static struct {
	volatile pid_t pid;
	char dir[256];
} rf_live[RF_MAX];
static int rf_hooks_installed;

static void rf_rm_rf(const char *dir)
{
	/* fork+execve are async-signal-safe; nftw is not. */
	pid_t p = fork();
	if (p == 0) {
		char *const argv[] = {"rm", "-rf", (char *)dir, NULL};
		char *const envp[] = {NULL};
		execve("/bin/rm", argv, envp);
		_exit(127);
	}
	if (p > 0)
		waitpid(p, NULL, 0);
}

static void rf_cleanup_all(void)
{
	for (int i = 0; i < RF_MAX; i++) {
		pid_t pid = rf_live[i].pid;
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			rf_live[i].pid = 0;
			rf_rm_rf(rf_live[i].dir);
		}
	}
}

static void rf_on_signal(int sig)
{
	rf_cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void rf_install_hooks(void)
{
	if (rf_hooks_installed)
		return;
	rf_hooks_installed = 1;
	atexit(rf_cleanup_all);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = rf_on_signal;
		sigaction(sigs[i], &sa, NULL);
	}
}

static void rf_register(pid_t pid, const char *dir)
{
	for (int i = 0; i < RF_MAX; i++) {
		if (rf_live[i].pid == 0) {
			snprintf(rf_live[i].dir, sizeof(rf_live[i].dir), "%s", dir);
			rf_live[i].pid = pid;
			return;
		}
	}
}

static void rf_unregister(pid_t pid)
{
	for (int i = 0; i < RF_MAX; i++)
		if (rf_live[i].pid == pid)
			rf_live[i].pid = 0;
}

/* A port the kernel just gave out and we released; never 6379. */
static int rf_free_port(void)
{
	for (int tries = 0; tries < 20; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -errno;
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t al = sizeof(a);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		close(fd);
		int port = ntohs(a.sin_port);
		if (port != 6379)
			return port;
	}
	return -EADDRINUSE;
}

static int rf_connect(const struct redis_fixture *rf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(rf->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int rf_send(int fd, int argc, const char *const *argv)
{
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "*%d\r\n", argc);
	if (write(fd, hdr, n) != n)
		return -EIO;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", l);
		if (write(fd, hdr, n) != n || write(fd, argv[i], l) != (ssize_t)l ||
		    write(fd, "\r\n", 2) != 2)
			return -EIO;
	}
	return 0;
}

/* Read bytes one line at a time: slow but tiny and only used by tests. */
static int rf_readline(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r <= 0)
			return -EIO;
		if (c == '\n') {
			if (n > 0 && buf[n - 1] == '\r')
				n--;
			buf[n] = '\0';
			return (int)n;
		}
		if (n + 1 < cap)
			buf[n++] = c;
	}
}

static void rf_append(char *out, size_t outlen, size_t *pos, const char *s, size_t l)
{
	if (*pos >= outlen)
		return;
	size_t room = outlen - *pos - 1;
	if (l > room)
		l = room;
	memcpy(out + *pos, s, l);
	*pos += l;
	out[*pos] = '\0';
}

static int rf_read_reply(int fd, char *out, size_t outlen, size_t *pos)
{
	char line[512];
	int r = rf_readline(fd, line, sizeof(line));
	if (r < 1)
		return -EIO;
	switch (line[0]) {
	case '+':
	case ':':
		rf_append(out, outlen, pos, line + 1, strlen(line + 1));
		return 0;
	case '-':
		rf_append(out, outlen, pos, line, strlen(line));
		return 0;
	case '$': {
		long l = strtol(line + 1, NULL, 10);
		if (l < 0) {
			rf_append(out, outlen, pos, "(nil)", 5);
			return 0;
		}
		char *b = malloc(l + 2);
		if (!b)
			return -ENOMEM;
		size_t got = 0;
		while (got < (size_t)l + 2) {
			ssize_t k = read(fd, b + got, l + 2 - got);
			if (k <= 0) {
				free(b);
				return -EIO;
			}
			got += k;
		}
		rf_append(out, outlen, pos, b, l);
		free(b);
		return 0;
	}
	case '*': {
		long cnt = strtol(line + 1, NULL, 10);
		rf_append(out, outlen, pos, line, strlen(line));
		for (long i = 0; i < cnt; i++) {
			rf_append(out, outlen, pos, "\n", 1);
			int e = rf_read_reply(fd, out, outlen, pos);
			if (e)
				return e;
		}
		return 0;
	}
	}
	return -EPROTO;
}

static int rf_roundtrip(int fd, char *out, size_t outlen, int argc, const char *const *argv)
{
	size_t pos = 0;
	if (outlen)
		out[0] = '\0';
	int e = rf_send(fd, argc, argv);
	return e ? e : rf_read_reply(fd, out, outlen, &pos);
}

int redis_fixture_cmd(const struct redis_fixture *rf, char *out, size_t outlen,
		      int argc, const char *const *argv)
{
	int fd = rf_connect(rf);
	if (fd < 0)
		return fd;
	char tmp[256];
	int e = 0;
	if (rf->password[0]) {
		const char *u = rf->user[0] ? rf->user : "default";
		const char *av[] = {"AUTH", u, rf->password};
		e = rf_roundtrip(fd, tmp, sizeof(tmp), 3, av);
		if (!e && tmp[0] == '-')
			e = -EACCES;
	}
	if (!e)
		e = rf_roundtrip(fd, out, outlen, argc, argv);
	close(fd);
	return e;
}

const char *redis_fixture_addr(const struct redis_fixture *rf)
{
	static char buf[40];
	snprintf(buf, sizeof(buf), "127.0.0.1:%d", rf->port);
	return buf;
}

static int rf_write_conf(const struct redis_fixture *rf)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/redis.conf", rf->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s/redis.log\n"
		   "daemonize no\nsave \"\"\nappendonly %s\nappendfsync %s\n",
		rf->port, rf->dir, rf->dir, rf->opts.aof ? "yes" : "no",
		rf->opts.appendfsync ? rf->opts.appendfsync : "always");
	if (rf->user[0]) {
		/* Not "user default off": Redis 7.0 replays AOF transactions with
		 * the default user's rights and drops an EXEC it may not run
		 * (silent loss on restart; valkey-io/valkey#3984).  default keeps
		 * +@all behind a random password instead. */
		unsigned char rnd[16];
		FILE *ur = fopen("/dev/urandom", "r");
		if (!ur || fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd)) {
			if (ur)
				fclose(ur);
			fclose(f);
			return -EIO;
		}
		fclose(ur);
		fprintf(f, "user default on >");
		for (size_t i = 0; i < sizeof(rnd); i++)
			fprintf(f, "%02x", rnd[i]);
		fprintf(f, " ~* &* +@all\n");
		fprintf(f, "user %s on >%s ~* &* +@all\n", rf->user, rf->password);
	} else if (rf->password[0]) {
		fprintf(f, "requirepass %s\n", rf->password);
	}
	return fclose(f) ? -errno : 0;
}

static int rf_spawn(struct redis_fixture *rf)
{
	char conf[300];
	snprintf(conf, sizeof(conf), "%s/redis.conf", rf->dir);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Die with the test process even if it is SIGKILLed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execlp("redis-server", "redis-server", conf, (char *)NULL);
		fprintf(stderr, "redis_fixture: cannot run redis-server: %s\n", strerror(errno));
		_exit(127);
	}
	rf->pid = pid;
	rf_register(pid, rf->dir);

	/* Wait for PING -> PONG, or for the server to die (port taken). */
	for (int i = 0; i < 1000; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			rf_unregister(pid);
			rf->pid = 0;
			return -EADDRINUSE;
		}
		char out[64];
		const char *av[] = {"PING"};
		if (redis_fixture_cmd(rf, out, sizeof(out), 1, av) == 0 && strcmp(out, "PONG") == 0)
			return 0;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "redis_fixture: redis-server on port %d gave no PONG within 10 s (log: %s/redis.log)\n",
		rf->port, rf->dir);
	redis_fixture_kill(rf, 1);
	return -ETIMEDOUT;
}

int redis_fixture_start(const struct redis_fixture_opts *opts, struct redis_fixture *rf)
{
	memset(rf, 0, sizeof(*rf));
	rf_install_hooks();
	if (opts)
		rf->opts = *opts;
	snprintf(rf->host, sizeof(rf->host), "127.0.0.1");
	if (rf->opts.password)
		snprintf(rf->password, sizeof(rf->password), "%s", rf->opts.password);
	if (rf->opts.user)
		snprintf(rf->user, sizeof(rf->user), "%s", rf->opts.user);
	if (rf->user[0] && !rf->password[0]) {
		fprintf(stderr, "redis_fixture: ACL user %s needs a password\n", rf->user);
		return -EINVAL;
	}
	rf->opts.password = rf->opts.user = NULL; /* the copies above are what count */

	const char *tmp = getenv("TMPDIR");
	snprintf(rf->dir, sizeof(rf->dir), "%s/teishi-redis-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(rf->dir)) {
		int e = errno;
		fprintf(stderr, "redis_fixture: mkdtemp %s: %s\n", rf->dir, strerror(e));
		return -e;
	}
	int e = -EADDRINUSE;
	for (int tries = 0; tries < 5 && e == -EADDRINUSE; tries++) {
		rf->port = rf_free_port();
		if (rf->port < 0) {
			e = rf->port;
			break;
		}
		e = rf_write_conf(rf);
		if (!e)
			e = rf_spawn(rf);
	}
	if (e) {
		fprintf(stderr, "redis_fixture: cannot start redis-server: %s\n", strerror(-e));
		rf_rm_rf(rf->dir);
		rf->dir[0] = '\0';
	}
	return e;
}

int redis_fixture_kill(struct redis_fixture *rf, int hard)
{
	if (rf->pid <= 0)
		return 0;
	kill(rf->pid, hard ? SIGKILL : SIGTERM);
	int st;
	waitpid(rf->pid, &st, 0);
	rf_unregister(rf->pid);
	rf->pid = 0;
	return 0;
}

int redis_fixture_restart(struct redis_fixture *rf)
{
	if (rf->pid > 0)
		return -EBUSY;
	return rf_spawn(rf);
}

void redis_fixture_stop(struct redis_fixture *rf)
{
	redis_fixture_kill(rf, 1);
	if (rf->dir[0]) {
		rf_rm_rf(rf->dir);
		rf->dir[0] = '\0';
	}
}

const char *redis_fixture_cmdl(const struct redis_fixture *rf, const char *first, ...)
{
	static char out[4096];
	const char *av[32];
	int ac = 0;
	va_list ap;

	av[ac++] = first;
	va_start(ap, first);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && ac < 32;)
		av[ac++] = a;
	va_end(ap);
	return redis_fixture_cmd(rf, out, sizeof(out), ac, av) == 0 ? out : NULL;
}
