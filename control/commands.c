#include "commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authority.h"
#include "jdate.h"
#include "number.h"
#include "roles.h"

#define REQ ARG_F_REQUIRED
#define MULTI ARG_F_MULTI
#define POS ARG_F_POSITIONAL

const struct cmd_def cmd_table[CMD__COUNT] = {
	[CMD_STATUS] = {CMD_STATUS, "status", ROLE_VIEWER, 0,
		"show the daemon, its Redis and what it holds", NULL, {{0}}},
	[CMD_CONTRACTOR_ADD] = {CMD_CONTRACTOR_ADD, "contractor add", ROLE_OPERATOR, CMD_F_CHANGE,
		"register a contractor (an end user or a wholesale reseller)", NULL,
		{{"id", ARG_NAME, REQ | POS, "ID", "the contractor's identifier", NULL},
		 {"name", ARG_TEXT, 0, "TEXT", "display name", NULL},
		 {"note", ARG_TEXT, 0, "TEXT", "free note", NULL}}},
	[CMD_CONTRACTOR_SHOW] = {CMD_CONTRACTOR_SHOW, "contractor show", ROLE_VIEWER, 0,
		"show a contractor, its holdings and refusals", NULL,
		{{"id", ARG_NAME, REQ | POS, "ID", "the contractor's identifier", NULL}}},
	[CMD_CONTRACTOR_LIST] = {CMD_CONTRACTOR_LIST, "contractor list", ROLE_VIEWER, 0,
		"list contractors", NULL, {{0}}},
	[CMD_ASSIGN] = {CMD_ASSIGN, "assign", ROLE_OPERATOR, CMD_F_CHANGE,
		"record that a contractor holds numbers, and through which wholesale chain",
		"The chain runs carrier -> W1 -> W2 -> ... -> the contractor; every name in it must be a registered contractor.",
		{{"contractor", ARG_NAME, REQ, "C", "the end contractor", NULL},
		 {"number", ARG_NUMBER, MULTI, "N", "one or more numbers", NULL},
		 {"range", ARG_RANGE, MULTI, "A..B", "an inclusive range of complete numbers", NULL},
		 {"prefix", ARG_PREFIX, MULTI, "P", "a block: every number starting with P", NULL},
		 {"via", ARG_NAMES, 0, "W1,W2", "wholesale resellers between carrier and contractor", NULL},
		 {"since", ARG_DATE, 0, "DATE", "date of assignment (default today)", NULL}}},
	[CMD_RELEASE] = {CMD_RELEASE, "release", ROLE_OPERATOR, CMD_F_CHANGE,
		"remove holdings recorded by assign", NULL,
		{{"number", ARG_NUMBER, MULTI, "N", "one or more numbers", NULL},
		 {"range", ARG_RANGE, MULTI, "A..B", "a range as assigned", NULL},
		 {"prefix", ARG_PREFIX, MULTI, "P", "a block as assigned", NULL}}},
	[CMD_SUSPEND] = {CMD_SUSPEND, "suspend", ROLE_OPERATOR, CMD_F_CHANGE,
		"suspend numbers on a police order",
		"Numbers not held by this carrier are still suspended, with a warning. Emergency numbers are refused.",
		{{"order", ARG_NAME, REQ, "R", "order reference", NULL},
		 {"authority", ARG_AUTHORITY, REQ, "A", "issuing authority: npa or a prefecture", NULL},
		 {"number", ARG_NUMBER, REQ | MULTI, "N", "numbers to suspend", NULL},
		 {"received", ARG_DATE, 0, "DATE", "date received (default today)", NULL}}},
	[CMD_LIFT] = {CMD_LIFT, "lift", ROLE_OPERATOR, CMD_F_CHANGE,
		"lift suspensions, with the lift's own order reference and a reason", NULL,
		{{"order", ARG_NAME, REQ, "R", "the lift's own order reference", NULL},
		 {"number", ARG_NUMBER, REQ | MULTI, "N", "numbers to lift", NULL},
		 {"reason", ARG_TEXT, REQ, "TEXT", "why", NULL},
		 {"authority", ARG_AUTHORITY, 0, "A", "authority asking (default npa)", NULL},
		 {"received", ARG_DATE, 0, "DATE", "date received (default today)", NULL}}},
	[CMD_REFUSE] = {CMD_REFUSE, "refuse", ROLE_SUPERVISOR, CMD_F_CHANGE,
		"NPA refusal: provide no new numbers to a contractor until a date (inclusive)", NULL,
		{{"order", ARG_NAME, REQ, "R", "order reference", NULL},
		 {"contractor", ARG_NAME, REQ, "C", "the contractor", NULL},
		 {"until", ARG_DATE, REQ, "DATE", "last day of the refusal", NULL},
		 {"received", ARG_DATE, 0, "DATE", "date received (default today)", NULL}}},
	[CMD_PROVISION_CHECK] = {CMD_PROVISION_CHECK, "provision-check", ROLE_VIEWER, CMD_F_VERDICT,
		"may this contractor be given new numbers? exits 0 (allowed) or 1 (refused)", NULL,
		{{"contractor", ARG_NAME, REQ, "C", "the contractor", NULL},
		 {"on", ARG_DATE, 0, "DATE", "check as of this date (default today)", NULL}}},
	[CMD_BULK_SUSPEND] = {CMD_BULK_SUSPEND, "bulk-suspend", ROLE_SUPERVISOR, CMD_F_CHANGE,
		"NPA order: suspend every number and block a contractor holds",
		"The order waits until a second, different supervisor runs approve.",
		{{"order", ARG_NAME, REQ, "R", "order reference", NULL},
		 {"contractor", ARG_NAME, REQ, "C", "the contractor", NULL},
		 {"received", ARG_DATE, 0, "DATE", "date received (default today)", NULL}}},
	[CMD_APPROVE] = {CMD_APPROVE, "approve", ROLE_SUPERVISOR, CMD_F_CHANGE,
		"approve a pending bulk suspension (four eyes: not by who entered it)", NULL,
		{{"order", ARG_NAME, REQ | POS, "R", "the pending order", NULL}}},
	[CMD_LOOKUP] = {CMD_LOOKUP, "lookup", ROLE_VIEWER, 0,
		"is a number suspended? by which entry and order, who holds it, since when", NULL,
		{{"number", ARG_NUMBER, REQ | POS, "N", "the number", NULL}}},
	[CMD_LIST] = {CMD_LIST, "list", ROLE_VIEWER, 0,
		"list suspension entries",
		"--format listfile prints the current entry set as a static list file (the format teishi-dp --list and "
		"teishi-inspect --list read): one +E.164 number or +prefix* per line, after # comments that name the "
		"change-stream id (teishi:changes) the set reflects. It lists every entry unless --limit is given.",
		{{"kind", ARG_ENUM, 0, "KIND", "number (exact entries), block (prefixes) or all", "number|block|all"},
		 {"order", ARG_NAME, 0, "R", "only entries of this order", NULL},
		 {"limit", ARG_UINT, 0, "N", "at most N entries (default 1000; listfile: all)", NULL},
		 {"format", ARG_ENUM, 0, "FORMAT", "table (default) or listfile", "table|listfile"}}},
	[CMD_REPORT_NPA] = {CMD_REPORT_NPA, "report npa", ROLE_VIEWER, CMD_F_CSV,
		"each suspension with its order, authority, date, contractor and wholesale chain",
		"One row per suspended entry: each number of a police order, and each number or block (kind \"block\", "
		"a prefix ending in *) of an approved bulk order, whose chain is the holding's as recorded now. A suspension "
		"that was lifted carries its lift: lift_order, lifted (the lift's received date) and lift_reason. --since "
		"filters by the suspension's received date; lifts are found whenever entered.",
		{{"since", ARG_DATE, 0, "DATE", "orders received on or after DATE", NULL},
		 {"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV (UTF-8 with BOM, CRLF) for spreadsheets", NULL}}},
	[CMD_REPORT_CONTRACTORS] = {CMD_REPORT_CONTRACTORS, "report contractors", ROLE_VIEWER, CMD_F_CSV,
		"contractors by suspension requests against the numbers they hold, through the chain", NULL,
		{{"min", ARG_UINT, 0, "N", "only contractors with at least N", NULL},
		 {"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV output", NULL}}},
	[CMD_REPORT_STATS] = {CMD_REPORT_STATS, "report stats", ROLE_VIEWER, CMD_F_CSV,
		"the scheme's yearly statistics table, from the orders held", NULL,
		{{"year", ARG_UINT, REQ, "Y", "calendar year", NULL},
		 {"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV output", NULL}}},
	[CMD_EXPORT] = {CMD_EXPORT, "export", ROLE_VIEWER, CMD_F_FEED_OUT,
		"write a signed feed (JSON Lines, Ed25519) of suspensions and lifts for the JUSA link", NULL,
		{{"since", ARG_DATE, 0, "DATE", "orders received on or after DATE", NULL},
		 {"out", ARG_OUTFILE, ARG_F_CLIENT, "FILE", "write here instead of stdout", NULL}}},
	[CMD_IMPORT] = {CMD_IMPORT, "import", ROLE_SUPERVISOR, CMD_F_CHANGE,
		"apply a peer's signed feed; entries already seen are skipped", NULL,
		{{"file", ARG_FILE, REQ | POS, "FILE", "the feed (- for stdin)", NULL},
		 {"peer", ARG_NAME, REQ, "NAME", "the peer whose configured key must have signed it", NULL}}},
	[CMD_AUDIT_VERIFY] = {CMD_AUDIT_VERIFY, "audit verify", ROLE_AUDITOR, CMD_F_VERDICT,
		"check the audit hash chain; exits 1 and names the first broken record", NULL, {{0}}},
	[CMD_AUDIT_SHOW] = {CMD_AUDIT_SHOW, "audit show", ROLE_AUDITOR, CMD_F_CSV,
		"show audit records", NULL,
		{{"principal", ARG_NAME, 0, "WHO", "only this user", NULL},
		 {"cmd", ARG_TEXT, 0, "CMD", "only this command", NULL},
		 {"result", ARG_ENUM, 0, "RESULT", "only this result", "ok|already|refused|denied|error"},
		 {"since", ARG_DATE, 0, "DATE", "on or after DATE (Japan time)", NULL},
		 {"limit", ARG_UINT, 0, "N", "the last N matching records (default 100)", NULL},
		 {"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV output", NULL}}},
	[CMD_DATAPLANES] = {CMD_DATAPLANES, "dataplanes", ROLE_VIEWER, CMD_F_VERDICT | CMD_F_CSV,
		"the dataplanes' heartbeats: the change each one enforces; exits 1 unless every "
		"one is live, current and holds the whole entry set", NULL,
		{{"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV output", NULL}}},
	[CMD_DATAPLANE_FORGET] = {CMD_DATAPLANE_FORGET, "dataplane forget", ROLE_OPERATOR, CMD_F_CHANGE,
		"stop listing a dataplane that is gone (its heartbeat expired)", NULL,
		{{"name", ARG_TEXT, REQ | POS, "NAME", "the dataplane's --name", NULL}}},
	[CMD_EVENTS] = {CMD_EVENTS, "events", ROLE_VIEWER, CMD_F_CSV,
		"blocked calls the dataplanes reported (teishi:events), newest first", NULL,
		{{"count", ARG_UINT, 0, "N", "at most N (default 50)", NULL},
		 {"dataplane", ARG_TEXT, 0, "NAME", "only this dataplane's", NULL},
		 {"csv", ARG_FLAG, ARG_F_CLIENT, NULL, "CSV output", NULL}}},
};

const struct cmd_def *cmd_by_id(int id)
{
	return id >= 0 && id < CMD__COUNT ? &cmd_table[id] : NULL;
}

const struct cmd_def *cmd_by_name(const char *name)
{
	for (int i = 0; i < CMD__COUNT; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

const struct cmd_def *cmd_match(int argc, char *const *argv, int *used)
{
	char name[64] = "";
	const struct cmd_def *best = NULL;
	for (int w = 0; w < argc && w < 3; w++) {
		size_t n = strlen(name);
		snprintf(name + n, sizeof(name) - n, "%s%s", w ? " " : "", argv[w]);
		const struct cmd_def *d = cmd_by_name(name);
		if (d) {
			best = d;
			*used = w + 1;
		}
	}
	return best;
}

static const struct cmd_arg *cmd_arg_find(const struct cmd_def *def, const char *name)
{
	for (int i = 0; i < CMD_MAX_ARGS && def->args[i].name; i++)
		if (strcmp(def->args[i].name, name) == 0)
			return &def->args[i];
	return NULL;
}

static char *cmd_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int cmd_set(json_t *obj, const struct cmd_arg *a, const char *val, char *err, size_t errlen)
{
	if (a->type == ARG_UINT) {
		char *end;
		errno = 0;
		long long v = strtoll(val, &end, 10);
		if (!*val || *end || v < 0 || errno) {
			snprintf(err, errlen, "--%s: \"%s\" is not a non-negative integer", a->name, val);
			return -EINVAL;
		}
		json_object_set_new(obj, a->name, json_integer(v));
		return 0;
	}
	if (a->type == ARG_FILE) {
		char *text = cmd_read_file(val, err, errlen);
		if (!text)
			return -EINVAL;
		json_t *s = json_string(text);
		free(text);
		if (!s) {
			snprintf(err, errlen, "%s: not UTF-8 text", val);
			return -EINVAL;
		}
		json_object_set_new(obj, a->name, s);
		return 0;
	}
	json_t *s = json_string(val);
	if (!s) {
		snprintf(err, errlen, "--%s: value is not UTF-8", a->name);
		return -EINVAL;
	}
	if (a->flags & ARG_F_MULTI) {
		json_t *arr = json_object_get(obj, a->name);
		if (!arr) {
			arr = json_array();
			json_object_set_new(obj, a->name, arr);
		}
		json_array_append_new(arr, s);
	} else {
		if (json_object_get(obj, a->name)) {
			json_decref(s);
			snprintf(err, errlen, "--%s given twice", a->name);
			return -EINVAL;
		}
		json_object_set_new(obj, a->name, s);
	}
	return 0;
}

json_t *cmd_parse_args(const struct cmd_def *def, int argc, char *const *argv,
		       char *err, size_t errlen)
{
	json_t *obj = json_object();
	int pos = 0;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		const struct cmd_arg *a;
		if (w[0] == '-' && w[1] == '-' && w[2]) {
			const char *eq = strchr(w + 2, '=');
			char name[64];
			snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - w - 2) : (int)strlen(w + 2), w + 2);
			a = cmd_arg_find(def, name);
			if (!a || (a->flags & ARG_F_POSITIONAL)) {
				snprintf(err, errlen, "%s: unknown option --%s (see teishictl %s --help)", def->name, name, def->name);
				goto fail;
			}
			if (a->type == ARG_FLAG) {
				json_object_set_new(obj, a->name, json_true());
				continue;
			}
			if (eq) {
				if (cmd_set(obj, a, eq + 1, err, errlen))
					goto fail;
				continue;
			}
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--%s needs a value (%s)", a->name, a->metavar);
				goto fail;
			}
			if (cmd_set(obj, a, argv[++i], err, errlen))
				goto fail;
			/* --number A B C: take values up to the next option. */
			while ((a->flags & ARG_F_MULTI) && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
				if (cmd_set(obj, a, argv[++i], err, errlen))
					goto fail;
			continue;
		}
		/* Positional: the next positional argument of the table. */
		int seen = 0;
		a = NULL;
		for (int k = 0; k < CMD_MAX_ARGS && def->args[k].name; k++) {
			if (!(def->args[k].flags & ARG_F_POSITIONAL))
				continue;
			if (seen++ == pos) {
				a = &def->args[k];
				break;
			}
		}
		if (!a) {
			snprintf(err, errlen, "%s: unexpected argument \"%s\"", def->name, w);
			goto fail;
		}
		pos++;
		if (cmd_set(obj, a, w, err, errlen))
			goto fail;
	}
	for (int k = 0; k < CMD_MAX_ARGS && def->args[k].name; k++) {
		const struct cmd_arg *a = &def->args[k];
		if ((a->flags & ARG_F_REQUIRED) && !json_object_get(obj, a->name)) {
			if (a->flags & ARG_F_POSITIONAL)
				snprintf(err, errlen, "%s: missing %s", def->name, a->metavar);
			else
				snprintf(err, errlen, "%s: missing --%s %s", def->name, a->name, a->metavar);
			goto fail;
		}
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

static int cmd_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == ':' || c == '/' || c == '-'))
			return 0;
	}
	return 1;
}

static int cmd_check_value(const struct cmd_arg *a, const char *v, char *err, size_t errlen)
{
	char why[NUM_ERR_MAX];
	why[0] = '\0';
	switch (a->type) {
	case ARG_NAME:
		if (!cmd_name_ok(v)) {
			snprintf(err, errlen, "--%s: \"%.64s\" must be 1-64 of A-Z a-z 0-9 . _ : / -", a->name, v);
			return -EINVAL;
		}
		return 0;
	case ARG_NAMES: {
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", v);
		char *save = NULL;
		int any = 0;
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			any = 1;
			if (!cmd_name_ok(t)) {
				snprintf(err, errlen, "--%s: \"%.64s\" must be 1-64 of A-Z a-z 0-9 . _ : / -", a->name, t);
				return -EINVAL;
			}
		}
		if (!any || v[0] == ',' || v[strlen(v) - 1] == ',' || strstr(v, ",,")) {
			snprintf(err, errlen, "--%s: \"%.64s\" must be a comma-separated list of names", a->name, v);
			return -EINVAL;
		}
		return 0;
	}
	case ARG_NUMBER: {
		struct num n;
		if (num_parse(v, strlen(v), NULL, 0, &n, why, sizeof(why))) {
			snprintf(err, errlen, "--%s: %s", a->name, why[0] ? why : "not a phone number");
			return -EINVAL;
		}
		return 0;
	}
	case ARG_RANGE:
	case ARG_PREFIX: {
		struct num_pattern p;
		if (num_pattern_parse(v, strlen(v), &p, why, sizeof(why))) {
			snprintf(err, errlen, "--%s: %s", a->name, why[0] ? why : "not a number pattern");
			return -EINVAL;
		}
		if (a->type == ARG_RANGE && p.kind != NUM_PAT_RANGE) {
			snprintf(err, errlen, "--%s: \"%.40s\" is not a range A..B", a->name, v);
			return -EINVAL;
		}
		return 0;
	}
	case ARG_DATE:
		if (jdate_parse(v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--%s: %s", a->name, why);
			return -EINVAL;
		}
		return 0;
	case ARG_AUTHORITY:
		if (authority_find(v) < 0) {
			authority_error(v, err, errlen);
			return -EINVAL;
		}
		return 0;
	case ARG_ENUM: {
		size_t l = strlen(v);
		for (const char *c = a->choices; c && *c;) {
			const char *bar = strchr(c, '|');
			size_t cl = bar ? (size_t)(bar - c) : strlen(c);
			if (cl == l && strncmp(c, v, l) == 0)
				return 0;
			c = bar ? bar + 1 : c + cl;
		}
		snprintf(err, errlen, "--%s: \"%.40s\" is not one of %s", a->name, v, a->choices);
		return -EINVAL;
	}
	case ARG_TEXT:
		if (strlen(v) > 1024) {
			snprintf(err, errlen, "--%s: longer than 1024 bytes", a->name);
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

int cmd_validate(const struct cmd_def *def, const json_t *args, char *err, size_t errlen)
{
	if (!json_is_object(args)) {
		snprintf(err, errlen, "\"args\" must be an object");
		return -EINVAL;
	}
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)args, key, val) {
		const struct cmd_arg *a = cmd_arg_find(def, key);
		if (!a || (a->flags & ARG_F_CLIENT)) {
			snprintf(err, errlen, "%s: unknown argument \"%.40s\"", def->name, key);
			return -EINVAL;
		}
		if (a->type == ARG_FLAG) {
			if (!json_is_boolean(val))
				goto type;
			continue;
		}
		if (a->type == ARG_UINT) {
			if (!json_is_integer(val) || json_integer_value(val) < 0)
				goto type;
			continue;
		}
		if (a->flags & ARG_F_MULTI) {
			if (!json_is_array(val) || json_array_size(val) == 0)
				goto type;
			size_t i;
			json_t *e;
			json_array_foreach(val, i, e) {
				if (!json_is_string(e))
					goto type;
				if (cmd_check_value(a, json_string_value(e), err, errlen))
					return -EINVAL;
			}
			continue;
		}
		if (!json_is_string(val))
			goto type;
		if (cmd_check_value(a, json_string_value(val), err, errlen))
			return -EINVAL;
		continue;
type:
		snprintf(err, errlen, "%s: argument \"%s\" has the wrong JSON type", def->name, key);
		return -EINVAL;
	}
	for (int k = 0; k < CMD_MAX_ARGS && def->args[k].name; k++) {
		const struct cmd_arg *a = &def->args[k];
		if ((a->flags & ARG_F_REQUIRED) && !json_object_get(args, a->name)) {
			snprintf(err, errlen, "%s: missing --%s %s", def->name, a->name, a->metavar);
			return -EINVAL;
		}
	}
	return 0;
}

const char *cmd_str(const json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

int cmd_flag(const json_t *args, const char *name)
{
	return json_is_true(json_object_get(args, name));
}

long cmd_uint(const json_t *args, const char *name, long dflt)
{
	json_t *v = json_object_get(args, name);
	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static void cmd_synopsis(FILE *f, const struct cmd_def *d, const char *opt_open, const char *opt_close)
{
	fprintf(f, "%s", d->name);
	for (int k = 0; k < CMD_MAX_ARGS && d->args[k].name; k++) {
		const struct cmd_arg *a = &d->args[k];
		int req = a->flags & ARG_F_REQUIRED;
		fprintf(f, " %s", req ? "" : "[");
		if (a->flags & ARG_F_POSITIONAL)
			fprintf(f, "%s", a->metavar);
		else if (a->type == ARG_FLAG)
			fprintf(f, "%s--%s%s", opt_open, a->name, opt_close);
		else
			fprintf(f, "%s--%s%s %s", opt_open, a->name, opt_close, a->metavar);
		if (a->flags & ARG_F_MULTI)
			fprintf(f, "...");
		fprintf(f, "%s", req ? "" : "]");
	}
}

void cmd_print_help(FILE *f, const struct cmd_def *def)
{
	if (!def) {
		fprintf(f, "usage: teishictl [-s SOCKET] [--json] COMMAND [ARGS]\n"
			   "       teishictl [-s SOCKET] [--json] -f FILE|-\n"
			   "       teishictl --man\n\n"
			   "Options:\n"
			   "  -s SOCKET  teishid's socket (default $TEISHI_SOCKET or /run/teishi/teishid.sock)\n"
			   "  --json     machine output: the daemon's JSON response, one per line\n"
			   "  -f FILE    run commands from FILE (- for stdin), one per line, stop at the first error\n\n"
			   "Commands (role needed):\n");
		for (int i = 0; i < CMD__COUNT; i++)
			fprintf(f, "  %-20s %-11s %s\n", cmd_table[i].name, role_name(cmd_table[i].role),
				cmd_table[i].summary);
		fprintf(f, "\nteishictl COMMAND --help describes one command.\n"
			   "Exit status: 0 done, 1 refused or failed, 2 usage error.\n");
		return;
	}
	fprintf(f, "usage: teishictl ");
	cmd_synopsis(f, def, "", "");
	fprintf(f, "\n\n%s (role: %s).\n", def->summary, role_name(def->role));
	if (def->help)
		fprintf(f, "%s\n", def->help);
	if (def->args[0].name)
		fprintf(f, "\n");
	for (int k = 0; k < CMD_MAX_ARGS && def->args[k].name; k++) {
		const struct cmd_arg *a = &def->args[k];
		char left[64];
		if (a->flags & ARG_F_POSITIONAL)
			snprintf(left, sizeof(left), "%s", a->metavar);
		else if (a->type == ARG_FLAG)
			snprintf(left, sizeof(left), "--%s", a->name);
		else
			snprintf(left, sizeof(left), "--%s %s%s", a->name, a->metavar,
				 a->flags & ARG_F_MULTI ? "..." : "");
		fprintf(f, "  %-22s %s%s\n", left, a->help, a->flags & ARG_F_REQUIRED ? " (required)" : "");
	}
}

static void man_text(FILE *f, const char *s)
{
	/* roff: a leading '.' or '\'' would be a request; '\' and '-' are escaped. */
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void cmd_print_man(FILE *f)
{
	fprintf(f, ".TH TEISHICTL 8 \"\" \"teishi\" \"teishi manual\"\n"
		   ".SH NAME\nteishictl \\- enter and inspect number\\-suspension orders through teishid\n"
		   ".SH SYNOPSIS\n.B teishictl\n[\\fB\\-s\\fR \\fISOCKET\\fR] [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n.br\n"
		   ".B teishictl\n[\\fB\\-s\\fR \\fISOCKET\\fR] \\fB\\-f\\fR \\fIFILE\\fR|\\fB\\-\\fR\n"
		   ".SH DESCRIPTION\nteishictl sends one request per command to teishid over its Unix socket "
		   "(see docs/protocol.md). teishid maps the caller's uid and gid to roles from its roles file "
		   "and refuses a command whose role the caller lacks.\n"
		   ".SH OPTIONS\n.TP\n.B \\-s \\fISOCKET\\fR\nteishid's socket.\n.TP\n.B \\-\\-json\n"
		   "print each response as JSON.\n.TP\n.B \\-f \\fIFILE\\fR\nrun the commands in FILE "
		   "(\\- for standard input), one per line, in command\\-line syntax; stop at the first error "
		   "and name its line.\n.SH COMMANDS\n");
	for (int i = 0; i < CMD__COUNT; i++) {
		const struct cmd_def *d = &cmd_table[i];
		fprintf(f, ".TP\n.B ");
		char buf[512];
		FILE *m = fmemopen(buf, sizeof(buf), "w");
		cmd_synopsis(m, d, "", "");
		fclose(m);
		man_text(f, buf);
		fprintf(f, "\n");
		man_text(f, d->summary);
		fprintf(f, " Role: %s.", role_name(d->role));
		if (d->help) {
			fprintf(f, " ");
			man_text(f, d->help);
		}
		fprintf(f, "\n");
		for (int k = 0; k < CMD_MAX_ARGS && d->args[k].name; k++) {
			const struct cmd_arg *a = &d->args[k];
			fprintf(f, ".RS\n.TP\n");
			if (a->flags & ARG_F_POSITIONAL)
				fprintf(f, ".I %s\n", a->metavar);
			else if (a->type == ARG_FLAG)
				fprintf(f, ".B \\-\\-%s\n", a->name);
			else
				fprintf(f, ".BI \\-\\-%s \" %s\"\n", a->name, a->metavar);
			man_text(f, a->help);
			fprintf(f, "\n.RE\n");
		}
	}
	fprintf(f, ".SH EXIT STATUS\n0 done; 1 refused or failed (and, for provision\\-check, lookup and audit verify, "
		   "a negative answer); 2 usage error.\n.SH SEE ALSO\nteishid(8)\n");
}
