/* teishictl: the CLI of teishid.  Every command, its arguments and its help
 * come from the command table (commands.c); this file only moves requests
 * and prints responses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "proto.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

struct conn {
	int fd;
	FILE *in;
	const char *path;
	long next_id;
};

static int json_out;

static int conn_open(struct conn *c)
{
	if (c->fd >= 0)
		return 0;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "teishictl: cannot connect to teishid at %s: %s\n", c->path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->in = fdopen(dup(c->fd), "r");
	return 0;
}

static void print_table(json_t *table)
{
	json_t *cols = json_object_get(table, "columns"), *rows = json_object_get(table, "rows");
	size_t nc = json_array_size(cols), i, j;
	if (!json_array_size(rows))
		return;
	size_t *w = calloc(nc, sizeof(size_t));
	json_t *row, *cell;
	for (j = 0; j < nc; j++)
		w[j] = strlen(json_string_value(json_array_get(cols, j)));
	json_array_foreach(rows, i, row) json_array_foreach(row, j, cell) if (j < nc && strlen(json_string_value(cell)) > w[j])
		w[j] = strlen(json_string_value(cell));
	for (j = 0; j < nc; j++)
		printf("%-*s%s", j + 1 < nc ? (int)w[j] : 0, json_string_value(json_array_get(cols, j)), j + 1 < nc ? "  " : "\n");
	json_array_foreach(rows, i, row) {
		for (j = 0; j < nc; j++)
			printf("%-*s%s", j + 1 < nc ? (int)w[j] : 0, json_string_value(json_array_get(row, j)) ?: "",
			       j + 1 < nc ? "  " : "\n");
	}
	free(w);
}

static void csv_cell(const char *s)
{
	if (strpbrk(s, ",\"\r\n")) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else {
		fputs(s, stdout);
	}
}

/* UTF-8 with a byte-order mark and CRLF: what spreadsheet programs need to
 * read UTF-8 CSV correctly. */
static void print_csv(json_t *table)
{
	json_t *cols = json_object_get(table, "columns"), *row, *cell;
	size_t i, j;
	fputs("\xEF\xBB\xBF", stdout);
	json_array_foreach(cols, j, cell) {
		if (j)
			putchar(',');
		csv_cell(json_string_value(cell));
	}
	fputs("\r\n", stdout);
	json_array_foreach(json_object_get(table, "rows"), i, row) {
		json_array_foreach(row, j, cell) {
			if (j)
				putchar(',');
			csv_cell(json_string_value(cell) ?: "");
		}
		fputs("\r\n", stdout);
	}
}

/* Run one command given as words.  Returns the exit status. */
static int run_command(struct conn *c, int argc, char **argv, const char *where)
{
	int used = 0;
	const struct cmd_def *def = cmd_match(argc, argv, &used);
	if (!def) {
		fprintf(stderr, "teishictl: %s%sunknown command \"%s\" (teishictl --help lists them)\n", where ? where : "",
			where ? ": " : "", argc ? argv[0] : "");
		return EXIT_USAGE;
	}
	for (int i = used; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_print_help(stdout, def);
			return 0;
		}
	char err[1024];
	json_t *args = cmd_parse_args(def, argc - used, argv + used, err, sizeof(err));
	if (!args) {
		fprintf(stderr, "teishictl: %s%s%s\n", where ? where : "", where ? ": " : "", err);
		return EXIT_USAGE;
	}
	int csv = json_is_true(json_object_get(args, "csv"));
	char *out_path = NULL;
	if (json_string_value(json_object_get(args, "out")))
		out_path = strdup(json_string_value(json_object_get(args, "out")));
	/* Client-side arguments stay here. */
	for (int k = 0; k < CMD_MAX_ARGS && def->args[k].name; k++)
		if (def->args[k].flags & ARG_F_CLIENT)
			json_object_del(args, def->args[k].name);
	if (conn_open(c)) {
		json_decref(args);
		free(out_path);
		return EXIT_REFUSED;
	}
	json_t *req = json_pack("{s:i,s:I,s:s,s:o}", "v", PROTO_VERSION, "id", (json_int_t)++c->next_id, "cmd",
				def->name, "args", args);
	char *line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	size_t ll = strlen(line);
	int bad = write(c->fd, line, ll) != (ssize_t)ll || write(c->fd, "\n", 1) != 1;
	free(line);
	char *resp = NULL;
	size_t cap = 0;
	if (bad || getline(&resp, &cap, c->in) <= 0) {
		fprintf(stderr, "teishictl: %s%steishid closed the connection\n", where ? where : "", where ? ": " : "");
		free(resp);
		free(out_path);
		return EXIT_REFUSED;
	}
	json_error_t je;
	json_t *r = json_loads(resp, 0, &je);
	int code = (int)json_integer_value(json_object_get(r, "code"));
	const char *msg = json_string_value(json_object_get(r, "message")) ?: "";
	json_t *data = json_object_get(r, "data");
	int rc = proto_ok(code) ? 0 : EXIT_REFUSED;
	if ((def->flags & CMD_F_VERDICT) && json_is_false(json_object_get(data, "ok")))
		rc = EXIT_REFUSED;
	if (rc == 0 && (def->flags & CMD_F_FEED_OUT)) {
		const char *feed = json_string_value(json_object_get(data, "feed")) ?: "";
		FILE *f = out_path ? fopen(out_path, "w") : stdout;
		if (!f || fputs(feed, f) < 0 || (out_path && fclose(f))) {
			fprintf(stderr, "teishictl: cannot write %s: %s\n", out_path, strerror(errno));
			rc = EXIT_REFUSED;
		}
		if (!json_out)
			fprintf(stderr, "%s\n", msg);
		json_object_del(data, "feed");
	}
	if (json_out) {
		char *s = json_dumps(r, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	} else {
		size_t i;
		json_t *w;
		json_array_foreach(json_object_get(r, "warnings"), i, w)
			fprintf(stderr, "warning: %s\n", json_string_value(w));
		if (!proto_ok(code)) {
			fprintf(stderr, "teishictl: %s%s%s: %s\n", where ? where : "", where ? ": " : "",
				json_string_value(json_object_get(r, "status")) ?: "error", msg);
		} else if (json_is_string(json_object_get(data, "listfile"))) {
			/* list --format listfile: the file itself on stdout. */
			fputs(json_string_value(json_object_get(data, "listfile")), stdout);
			fprintf(stderr, "%s\n", msg);
		} else if (csv && json_object_get(r, "table")) {
			print_csv(json_object_get(r, "table"));
		} else if (!(def->flags & CMD_F_FEED_OUT)) {
			printf("%s\n", msg);
			if (json_object_get(r, "table"))
				print_table(json_object_get(r, "table"));
		}
	}
	fflush(stdout);
	json_decref(r);
	free(resp);
	free(out_path);
	return rc;
}

/* Split a batch line into words: blanks separate, '...' and "..." quote,
 * backslash escapes one character.  Returns the count or -1. */
static int split_words(char *line, char **words, int cap)
{
	int n = 0;
	char *p = line, *o;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == cap)
			return -1;
		words[n++] = o = p;
		char q = 0;
		while (*p && (q || (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))) {
			if (q && *p == q) {
				q = 0;
				p++;
			} else if (!q && (*p == '\'' || *p == '"')) {
				q = *p++;
			} else if (*p == '\\' && p[1] && q != '\'') {
				*o++ = p[1];
				p += 2;
			} else {
				*o++ = *p++;
			}
		}
		if (q)
			return -1;
		if (*p)
			p++;
		*o = '\0';
	}
	return n;
}

static int run_batch(struct conn *c, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "teishictl: -f %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	char *words[4096];
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		char where[300];
		snprintf(where, sizeof(where), "%s:%d", strcmp(path, "-") ? path : "stdin", lineno);
		int n = split_words(line, words, 4096);
		if (n < 0) {
			fprintf(stderr, "teishictl: %s: unbalanced quote or more than 4096 words\n", where);
			rc = EXIT_USAGE;
			break;
		}
		if (n == 0)
			continue;
		rc = run_command(c, n, words, where);
		if (rc) {
			fprintf(stderr, "teishictl: stopped at %s; the lines before it were applied\n", where);
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	struct conn c = {.fd = -1, .path = getenv("TEISHI_SOCKET")};
	if (!c.path)
		c.path = "/run/teishi/teishid.sock";
	const char *batch = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			c.path = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json_out = 1;
		} else if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			batch = argv[++i];
		} else if (!strcmp(argv[i], "--man")) {
			cmd_print_man(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_print_help(stdout, NULL);
			return 0;
		} else {
			fprintf(stderr, "teishictl: unknown option %s\n", argv[i]);
			cmd_print_help(stderr, NULL);
			return EXIT_USAGE;
		}
	}
	if (batch) {
		if (i < argc) {
			fprintf(stderr, "teishictl: -f takes no command on the command line\n");
			return EXIT_USAGE;
		}
		return run_batch(&c, batch);
	}
	if (i == argc) {
		cmd_print_help(stderr, NULL);
		return EXIT_USAGE;
	}
	return run_command(&c, argc - i, argv + i, NULL);
}
