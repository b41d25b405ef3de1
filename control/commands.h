/* The command table: each teishictl command and teishid request is declared
 * once, here.  The one table drives teishictl's parsing and --help, the man
 * page (teishictl --man), teishid's argument validation and role check, and
 * its dispatch (by id).
 *
 * A request carries the command name (words joined by one space, e.g.
 * "report npa") and its arguments as a JSON object: each option by its long
 * name, ARG_F_MULTI ones as arrays of strings, flags as true, ARG_UINT as
 * integers, everything else as strings.  See docs/protocol.md. */
#ifndef TEISHI_COMMANDS_H
#define TEISHI_COMMANDS_H

#include <stdio.h>
#include <jansson.h>

enum cmd_id {
	CMD_STATUS,
	CMD_CONTRACTOR_ADD,
	CMD_CONTRACTOR_SHOW,
	CMD_CONTRACTOR_LIST,
	CMD_ASSIGN,
	CMD_RELEASE,
	CMD_SUSPEND,
	CMD_LIFT,
	CMD_REFUSE,
	CMD_PROVISION_CHECK,
	CMD_BULK_SUSPEND,
	CMD_APPROVE,
	CMD_LOOKUP,
	CMD_LIST,
	CMD_REPORT_NPA,
	CMD_REPORT_CONTRACTORS,
	CMD_REPORT_STATS,
	CMD_EXPORT,
	CMD_IMPORT,
	CMD_AUDIT_VERIFY,
	CMD_AUDIT_SHOW,
	CMD_DATAPLANES,
	CMD_DATAPLANE_FORGET,
	CMD_EVENTS,
	CMD__COUNT,
};

enum arg_type {
	ARG_TEXT = 1,  /* free text (a reason, a display name) */
	ARG_NAME,      /* identifier: [A-Za-z0-9._:/-], 1..64 chars */
	ARG_NAMES,     /* comma-separated ARG_NAMEs */
	ARG_NUMBER,    /* one complete phone number */
	ARG_RANGE,     /* A..B, complete numbers */
	ARG_PREFIX,    /* digits, optional trailing '*' */
	ARG_DATE,      /* YYYY-MM-DD, Japan time */
	ARG_AUTHORITY, /* npa or a prefecture */
	ARG_UINT,      /* non-negative integer */
	ARG_FLAG,      /* no value */
	ARG_ENUM,      /* one of arg.choices ("a|b|c") */
	ARG_FILE,      /* client reads the file ("-": stdin) and sends its text */
	ARG_OUTFILE,   /* client-side only: where to write the output */
};

enum arg_flag {
	ARG_F_REQUIRED = 1 << 0,
	ARG_F_MULTI = 1 << 1,      /* takes several values: --number A B C, or repeated */
	ARG_F_POSITIONAL = 1 << 2, /* given without --name, in table order */
	ARG_F_CLIENT = 1 << 3,     /* never sent to the daemon */
};

struct cmd_arg {
	const char *name;
	unsigned char type;  /* enum arg_type */
	unsigned char flags; /* enum arg_flag */
	const char *metavar;
	const char *help;
	const char *choices; /* ARG_ENUM */
};

enum cmd_flag {
	CMD_F_CHANGE = 1 << 0,   /* changes state: audited, goes through MULTI/EXEC */
	CMD_F_VERDICT = 1 << 1,  /* teishictl exits 1 when data.ok is false */
	CMD_F_FEED_OUT = 1 << 2, /* teishictl writes data.feed to --out or stdout */
	CMD_F_CSV = 1 << 3,      /* --csv prints the table as CSV */
};

#define CMD_MAX_ARGS 8

struct cmd_def {
	enum cmd_id id;
	const char *name;    /* "report npa" */
	unsigned role;       /* enum role bit needed */
	unsigned flags;      /* enum cmd_flag */
	const char *summary; /* one line */
	const char *help;    /* a paragraph, or NULL */
	struct cmd_arg args[CMD_MAX_ARGS];
};

extern const struct cmd_def cmd_table[CMD__COUNT];

/* By id; NULL when out of range. */
const struct cmd_def *cmd_by_id(int id);

/* By full name ("report npa"); NULL when unknown. */
const struct cmd_def *cmd_by_name(const char *name);

/* Match the longest command name formed by argv[0..]; *used gets the
 * number of words consumed.  NULL when none matches. */
const struct cmd_def *cmd_match(int argc, char *const *argv, int *used);

/* Parse the arguments after the command words into a new JSON object.
 * ARG_FILE arguments are read here.  Returns NULL with a usage error in
 * err (naming the argument) on failure. */
json_t *cmd_parse_args(const struct cmd_def *def, int argc, char *const *argv,
		       char *err, size_t errlen);

/* Check a request's arguments against the declaration: unknown or missing
 * arguments, JSON types, and each value's syntax (numbers through
 * num_parse/num_pattern_parse, dates through jdate_parse, authorities).
 * Returns 0 or -EINVAL with the first problem in err. */
int cmd_validate(const struct cmd_def *def, const json_t *args, char *err, size_t errlen);

/* The value of an ARG_FLAG/ARG_TEXT/ARG_UINT argument, with defaults. */
const char *cmd_str(const json_t *args, const char *name);
int cmd_flag(const json_t *args, const char *name);
long cmd_uint(const json_t *args, const char *name, long dflt);

/* teishictl --help (def NULL: the overview) and teishictl --man (roff). */
void cmd_print_help(FILE *f, const struct cmd_def *def);
void cmd_print_man(FILE *f);

#endif
