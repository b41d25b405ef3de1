/* teishid: the control daemon.  Serves the protocol of docs/protocol.md on
 * a Unix socket, maps each peer (SO_PEERCRED) to roles, validates requests
 * against the command table, runs them against Redis, and audits every
 * change and every refusal in the same MULTI/EXEC as the change. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit.h"
#include "daemon.h"
#include "feed.h"
#include "proto.h"
#include "roles.h"

#define MAX_CLIENTS 64

struct client {
	int fd;
	uid_t uid;
	gid_t gid;
	char *buf;
	size_t len, cap;
};

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void req_fail(struct req *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->code = code;
}

void req_ok(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->code = PROTO_OK;
}

void req_warn(struct req *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(r->warnings, json_string(buf));
}

void req_table(struct req *r, ...)
{
	va_list ap;
	va_start(ap, r);
	json_decref(r->columns);
	json_decref(r->rows);
	r->columns = json_array();
	r->rows = json_array();
	for (const char *c = va_arg(ap, const char *); c; c = va_arg(ap, const char *))
		json_array_append_new(r->columns, json_string(c));
	va_end(ap);
}

void req_row(struct req *r, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	json_t *row = json_array();
	for (int i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);
		json_array_append_new(row, json_string(s ? s : ""));
	}
	va_end(ap);
	json_array_append_new(r->rows, row);
}

void req_begin(struct req *r)
{
	txn_begin(&r->txn, &r->d->store);
	r->txn_open = 1;
}

static const char *principal_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid%u", (unsigned)uid);
	return buf;
}

static int audit_load(struct daemon *d)
{
	redisReply *h = store_cmd(&d->store, "GET " K_AUDIT_HEAD);
	redisReply *l = h ? store_cmd(&d->store, "LLEN " K_AUDIT) : NULL;
	if (!l) {
		if (h)
			freeReplyObject(h);
		return -EIO;
	}
	snprintf(d->audit_head, sizeof(d->audit_head), "%s", h->type == REDIS_REPLY_STRING ? h->str : AUDIT_ZERO);
	d->audit_len = l->type == REDIS_REPLY_INTEGER ? (long)l->integer : 0;
	d->audit_loaded = 1;
	freeReplyObject(h), freeReplyObject(l);
	return 0;
}

static const char *result_of(int code)
{
	if (code == PROTO_OK)
		return "ok";
	if (code == PROTO_ALREADY)
		return "already";
	if (code == PROTO_DENIED)
		return "denied";
	if (code >= 500)
		return "error";
	return "refused";
}

/* Queue the audit record of r in t (already begun).  The head moves only
 * once EXEC succeeds: see audit_commit. */
static int audit_queue(struct req *r, struct txn *t, char newhead[AUDIT_HASH_HEX])
{
	struct daemon *d = r->d;
	char roles[64];
	json_t *f = json_pack("{s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:O,s:s,s:i,s:s}", "at", r->stamp, "uid", (int)r->uid,
			      "gid", (int)r->gid, "principal", r->principal, "roles", roles_format(r->roles, roles, sizeof(roles)),
			      "role", role_name(r->def ? r->def->role : 0), "cmd", r->def ? r->def->name : "?", "args",
			      r->audit_args ? r->audit_args : json_null(), "result", result_of(r->code), "code", r->code,
			      "message", r->msg);
	char *rec = audit_record(f, d->audit_len + 1, d->audit_head);
	json_decref(f);
	if (!rec)
		return -ENOMEM;
	audit_hash(rec, strlen(rec), newhead);
	txn_cmd(t, "RPUSH " K_AUDIT " %s", rec);
	txn_cmd(t, "SET " K_AUDIT_HEAD " %s", newhead);
	free(rec);
	return 0;
}

static void audit_commit(struct daemon *d, const char newhead[AUDIT_HASH_HEX])
{
	snprintf(d->audit_head, sizeof(d->audit_head), "%s", newhead);
	d->audit_len++;
}

/* Audit a request that changed nothing (a refusal, or an order seen before). */
static void audit_alone(struct req *r)
{
	struct txn t;
	char head[AUDIT_HASH_HEX];
	if (!r->d->audit_loaded || !r->d->store.c)
		return;
	txn_begin(&t, &r->d->store);
	if (audit_queue(r, &t, head) == 0 && txn_exec(&t) == 0)
		audit_commit(r->d, head);
	else
		r->d->audit_loaded = 0;
}

/* Args as recorded in the audit: a file's text is summarised by its hash. */
static json_t *audit_args_of(const struct cmd_def *def, json_t *args)
{
	json_t *a = json_deep_copy(args);
	for (int k = 0; def && k < CMD_MAX_ARGS && def->args[k].name; k++) {
		if (def->args[k].type != ARG_FILE)
			continue;
		const char *s = json_string_value(json_object_get(a, def->args[k].name));
		if (!s)
			continue;
		char h[AUDIT_HASH_HEX];
		audit_hash(s, strlen(s), h);
		json_object_set_new(a, def->args[k].name, json_pack("{s:s,s:I}", "sha256", h, "bytes", (json_int_t)strlen(s)));
	}
	return a;
}

static char *handle_line(struct daemon *d, struct roles *roles, struct client *cl, const char *line, size_t len)
{
	struct req r;
	memset(&r, 0, sizeof(r));
	r.d = d;
	r.uid = cl->uid;
	r.gid = cl->gid;
	r.roles = roles_of(roles, cl->uid, cl->gid);
	principal_name(cl->uid, r.principal, sizeof(r.principal));
	r.now = time(NULL);
	jdate_today(r.now, r.today);
	jdate_stamp(r.now, r.stamp);
	r.warnings = json_array();
	r.data = json_object();
	json_t *id = NULL;

	json_error_t je;
	json_t *req = json_loadb(line, len, 0, &je);
	if (!json_is_object(req)) {
		req_fail(&r, PROTO_BAD_REQUEST, "request is not a JSON object: %s (column %d)", je.text, je.column);
		goto reply;
	}
	id = json_incref(json_object_get(req, "id"));
	json_t *v = json_object_get(req, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		req_fail(&r, PROTO_VERSION_UNSUPPORTED, "protocol version must be %d", PROTO_VERSION);
		goto reply;
	}
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	r.def = cmd ? cmd_by_name(cmd) : NULL;
	if (!r.def) {
		req_fail(&r, PROTO_BAD_REQUEST, "unknown command \"%.60s\"", cmd ? cmd : "(none)");
		goto reply;
	}
	r.args = json_object_get(req, "args");
	r.args = r.args ? json_incref(r.args) : json_object();
	r.audit_args = audit_args_of(r.def, r.args);

	int reconnected = 0;
	int redis_ok = store_ensure(&d->store, &reconnected) == 0;
	if (redis_ok && (reconnected || !d->audit_loaded))
		redis_ok = audit_load(d) == 0;

	if (!(r.roles & r.def->role)) {
		char have[64];
		req_fail(&r, PROTO_DENIED, "%s needs role %s; %s (uid %u) has %s", r.def->name, role_name(r.def->role),
			 r.principal, (unsigned)r.uid, roles_format(r.roles, have, sizeof(have)));
		if (redis_ok)
			audit_alone(&r);
		goto reply;
	}
	char err[1024];
	if (cmd_validate(r.def, r.args, err, sizeof(err))) {
		req_fail(&r, PROTO_INVALID, "%s", err);
		if (redis_ok && (r.def->flags & CMD_F_CHANGE))
			audit_alone(&r);
		goto reply;
	}
	if (!redis_ok) {
		req_fail(&r, PROTO_UNAVAILABLE, "%s", d->store.err);
		goto reply;
	}
	op_handlers[r.def->id](&r);
	if (r.txn_open) {
		if (r.code == PROTO_OK) {
			char head[AUDIT_HASH_HEX];
			if (audit_queue(&r, &r.txn, head) == 0 && txn_exec(&r.txn) == 0) {
				audit_commit(d, head);
			} else {
				d->audit_loaded = 0;
				json_array_clear(r.warnings);
				json_object_clear(r.data);
				req_fail(&r, PROTO_UNAVAILABLE, "not applied: %s", d->store.err);
			}
		} else {
			txn_discard(&r.txn);
		}
	} else if (r.def->flags & CMD_F_CHANGE) {
		if (r.code == 0)
			req_fail(&r, PROTO_INTERNAL, "handler answered nothing");
		if (r.code != PROTO_UNAVAILABLE)
			audit_alone(&r);
	}
	if (r.code == 0)
		req_fail(&r, PROTO_INTERNAL, "handler answered nothing");

reply:;
	json_t *resp = json_pack("{s:i,s:i,s:s,s:s}", "v", PROTO_VERSION, "code", r.code, "status",
				 proto_status(r.code), "message", r.msg);
	if (id)
		json_object_set_new(resp, "id", id);
	if (json_array_size(r.warnings))
		json_object_set(resp, "warnings", r.warnings);
	json_object_set(resp, "data", r.data);
	if (r.columns)
		json_object_set_new(resp, "table", json_pack("{s:O,s:O}", "columns", r.columns, "rows", r.rows));
	char *out = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	json_decref(r.warnings);
	json_decref(r.data);
	json_decref(r.columns);
	json_decref(r.rows);
	json_decref(r.args);
	json_decref(r.audit_args);
	json_decref(req);
	return out;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Serve every complete line in the client's buffer.  Returns -1 when the
 * client must be dropped. */
static int client_lines(struct daemon *d, struct roles *roles, struct client *cl)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(cl->buf + start, '\n', cl->len - start);
		if (!nl)
			break;
		size_t l = (size_t)(nl - (cl->buf + start));
		char *out = handle_line(d, roles, cl, cl->buf + start, l);
		start += l + 1;
		if (!out)
			return -1;
		size_t ol = strlen(out);
		out[ol] = '\0';
		int e = write_all(cl->fd, out, ol);
		if (!e)
			e = write_all(cl->fd, "\n", 1);
		free(out);
		if (e)
			return -1;
	}
	memmove(cl->buf, cl->buf + start, cl->len - start);
	cl->len -= start;
	return 0;
}

#define CONFIG_VALUE_MAX 900

/* Each field points at an argv string or at the config file's copy in
 * file_value/file_peer: nothing to free on any way out. */
struct config {
	const char *redis, *redis_user, *redis_password_file, *socket, *socket_group, *roles;
	const char *feed_key, *feed_origin;
	const char *peers[DAEMON_MAX_PEERS];
	int npeers;
	int allow_volatile;
	char file_value[8][CONFIG_VALUE_MAX];
	char file_peer[DAEMON_MAX_PEERS][CONFIG_VALUE_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: teishid --redis HOST:PORT [--redis-user U] [--redis-password-file F]\n"
		"               --socket PATH [--socket-group GROUP] --roles FILE [--config FILE]\n"
		"               [--feed-key FILE] [--feed-origin NAME] [--peer NAME=PUBKEYFILE]...\n"
		"               [--allow-volatile-redis]\n"
		"       teishid --keygen PREFIX   (writes PREFIX.key and PREFIX.pub, Ed25519, hex)\n\n"
		"A config file holds the same keys, one \"key value\" per line (# comments):\n"
		"  redis, redis-user, redis-password-file, socket, socket-group, roles,\n"
		"  feed-key, feed-origin, peer NAME=PUBKEYFILE, allow-volatile-redis yes.\n"
		"Command-line options override the file.\n");
}

/* v is shorter than CONFIG_VALUE_MAX (config_file reads at most 899 bytes). */
static int config_set(struct config *c, const char *k, const char *v)
{
	static const char *const keys[8] = { "redis", "redis-user", "redis-password-file",
					     "socket", "socket-group", "roles", "feed-key",
					     "feed-origin" };
	const char **field[8] = { &c->redis, &c->redis_user, &c->redis_password_file, &c->socket,
				  &c->socket_group, &c->roles, &c->feed_key, &c->feed_origin };

	for (int i = 0; i < 8; i++) {
		if (!strcmp(k, keys[i])) {
			snprintf(c->file_value[i], CONFIG_VALUE_MAX, "%s", v);
			*field[i] = c->file_value[i];
			return 0;
		}
	}
	if (!strcmp(k, "allow-volatile-redis") && (!strcmp(v, "yes") || !strcmp(v, "no"))) {
		c->allow_volatile = !strcmp(v, "yes");
		return 0;
	}
	if (!strcmp(k, "peer") && c->npeers < DAEMON_MAX_PEERS) {
		snprintf(c->file_peer[c->npeers], CONFIG_VALUE_MAX, "%s", v);
		c->peers[c->npeers] = c->file_peer[c->npeers];
		c->npeers++;
		return 0;
	}
	return -EINVAL;
}

static int config_file(struct config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "teishid: config %s: %s\n", path, strerror(errno));
		return -errno;
	}
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		char *h = strchr(line, '#');
		if (h)
			*h = '\0';
		char k[64], v[CONFIG_VALUE_MAX];
		int got = sscanf(line, "%63s %899[^\n]", k, v);
		if (got <= 0)
			continue;
		if (got == 2) {
			size_t l = strlen(v);
			while (l && (v[l - 1] == ' ' || v[l - 1] == '\t' || v[l - 1] == '\r'))
				v[--l] = '\0';
		}
		if (got != 2 || config_set(c, k, v)) {
			fprintf(stderr, "teishid: %s:%d: %s \"%s\" (keys: redis, redis-user, redis-password-file, socket, "
				"socket-group, roles, feed-key, feed-origin, peer, allow-volatile-redis yes|no)\n", path, n,
				got != 2 ? "missing value for" : "unknown key or bad value", k);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

static int listen_socket(const char *path, const char *group)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "teishid: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Created 0660 from the start: no window where others could connect. */
	mode_t old = umask(0117);
	int e = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (e < 0 || listen(fd, 64) < 0) {
		e = errno;
		fprintf(stderr, "teishid: socket %s: %s\n", path, strerror(e));
		close(fd);
		return -e;
	}
	if (group) {
		struct group *g = getgrnam(group);
		char *end;
		gid_t gid = g ? g->gr_gid : (gid_t)strtoul(group, &end, 10);
		if ((!g && *end) || chown(path, (uid_t)-1, gid) < 0) {
			fprintf(stderr, "teishid: socket group %s: %s\n", group, g || !*end ? strerror(errno) : "no such group");
			close(fd);
			return -EINVAL;
		}
	}
	chmod(path, 0660);
	return fd;
}

int main(int argc, char **argv)
{
	static struct config c;
	static const struct option lo[] = {
		{"redis", 1, 0, 'r'}, {"redis-user", 1, 0, 'u'}, {"redis-password-file", 1, 0, 'p'},
		{"socket", 1, 0, 's'}, {"socket-group", 1, 0, 'g'}, {"roles", 1, 0, 'R'},
		{"config", 1, 0, 'c'}, {"feed-key", 1, 0, 'k'}, {"feed-origin", 1, 0, 'o'},
		{"peer", 1, 0, 'P'}, {"allow-volatile-redis", 0, 0, 'V'}, {"keygen", 1, 0, 'K'},
		{"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	/* The config file first, so that options override it. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") && config_file(&c, argv[i + 1]))
			return 2;
	int o;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'r': c.redis = optarg; break;
		case 'u': c.redis_user = optarg; break;
		case 'p': c.redis_password_file = optarg; break;
		case 's': c.socket = optarg; break;
		case 'g': c.socket_group = optarg; break;
		case 'R': c.roles = optarg; break;
		case 'c': break;
		case 'k': c.feed_key = optarg; break;
		case 'o': c.feed_origin = optarg; break;
		case 'P':
			if (c.npeers < DAEMON_MAX_PEERS)
				c.peers[c.npeers++] = optarg;
			break;
		case 'V': c.allow_volatile = 1; break;
		case 'K': {
			int e = feed_keygen(optarg);
			if (e)
				fprintf(stderr, "teishid: keygen %s: %s\n", optarg, strerror(-e));
			return e ? 1 : 0;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!c.redis || !c.socket || !c.roles) {
		fprintf(stderr, "teishid: --redis, --socket and --roles are required\n");
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "teishid: libsodium failed to initialise\n");
		return 1;
	}
	static struct daemon d;
	if (store_set_addr(&d.store, c.redis)) {
		fprintf(stderr, "teishid: --redis: \"%s\" is not HOST:PORT\n", c.redis);
		return 2;
	}
	d.store.allow_volatile = c.allow_volatile;
	if (c.redis_user)
		snprintf(d.store.user, sizeof(d.store.user), "%s", c.redis_user);
	if (c.redis_password_file) {
		FILE *f = fopen(c.redis_password_file, "r");
		if (!f || !fgets(d.store.password, sizeof(d.store.password), f)) {
			fprintf(stderr, "teishid: --redis-password-file %s: %s\n", c.redis_password_file,
				f ? "empty" : strerror(errno));
			if (f)
				fclose(f);
			return 2;
		}
		fclose(f);
		d.store.password[strcspn(d.store.password, "\r\n")] = '\0';
	}
	if (c.feed_key) {
		int e = feed_load_key(c.feed_key, d.feed_sk, sizeof(d.feed_sk));
		if (e) {
			fprintf(stderr, "teishid: --feed-key %s: %s\n", c.feed_key,
				e == -EINVAL ? "not a hex Ed25519 secret key (teishid --keygen makes one)" : strerror(-e));
			return 2;
		}
		d.have_feed_key = 1;
	}
	snprintf(d.feed_origin, sizeof(d.feed_origin), "%s", c.feed_origin ? c.feed_origin : "teishi");
	for (int i = 0; i < c.npeers; i++) {
		const char *eq = strchr(c.peers[i], '=');
		if (!eq || eq == c.peers[i] || (size_t)(eq - c.peers[i]) >= sizeof(d.peers[0].name)) {
			fprintf(stderr, "teishid: --peer \"%s\": expected NAME=PUBKEYFILE\n", c.peers[i]);
			return 2;
		}
		snprintf(d.peers[d.npeers].name, sizeof(d.peers[0].name), "%.*s", (int)(eq - c.peers[i]), c.peers[i]);
		int e = feed_load_key(eq + 1, d.peers[d.npeers].pk, crypto_sign_PUBLICKEYBYTES);
		if (e) {
			fprintf(stderr, "teishid: --peer %s: %s\n", c.peers[i], e == -EINVAL ? "not a hex Ed25519 public key" : strerror(-e));
			return 2;
		}
		d.npeers++;
	}
	char err[512];
	struct roles *roles = roles_load(c.roles, err, sizeof(err));
	if (!roles) {
		fprintf(stderr, "teishid: %s\n", err);
		return 2;
	}
	int e = store_connect(&d.store);
	if (e == -EPERM || e == -EACCES) {
		fprintf(stderr, "teishid: %s\n", d.store.err);
		store_close(&d.store);
		roles_free(roles);
		return 1;
	}
	if (e)
		fprintf(stderr, "teishid: %s (will retry on each request)\n", d.store.err);
	else if (audit_load(&d))
		fprintf(stderr, "teishid: cannot read the audit head: %s\n", d.store.err);
	int lfd = listen_socket(c.socket, c.socket_group);
	if (lfd < 0) {
		store_close(&d.store);
		roles_free(roles);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "teishid: listening on %s, Redis %s\n", c.socket, c.redis);

	struct client cl[MAX_CLIENTS];
	int ncl = 0;
	while (!stop_flag) {
		struct pollfd pfd[MAX_CLIENTS + 1];
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < ncl; i++)
			pfd[i + 1] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
		if (poll(pfd, (nfds_t)ncl + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = ncl - 1; i >= 0; i--) {
			if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct client *x = &cl[i];
			if (x->cap - x->len < 65536) {
				size_t cap = x->cap ? x->cap * 2 : 131072;
				char *nb = cap <= PROTO_MAX_LINE + 65536 ? realloc(x->buf, cap) : NULL;
				if (nb) {
					x->buf = nb;
					x->cap = cap;
				}
			}
			ssize_t k = x->cap > x->len ? read(x->fd, x->buf + x->len, x->cap - x->len) : -1;
			if (k > 0) {
				x->len += (size_t)k;
				if (client_lines(&d, roles, x) == 0)
					continue;
			}
			close(x->fd);
			free(x->buf);
			cl[i] = cl[--ncl];
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			struct ucred uc;
			socklen_t ul = sizeof(uc);
			if (ncl == MAX_CLIENTS || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0) {
				close(fd);
				continue;
			}
			cl[ncl++] = (struct client){.fd = fd, .uid = uc.uid, .gid = uc.gid};
		}
	}
	for (int i = 0; i < ncl; i++) {
		close(cl[i].fd);
		free(cl[i].buf);
	}
	close(lfd);
	unlink(c.socket);
	store_close(&d.store);
	roles_free(roles);
	return 0;
}
