/* Who may do what: the roles file, and SO_PEERCRED principals.
 *
 * File format, one principal per line, '#' starts a comment:
 *   user  NAME ROLE[,ROLE...]
 *   group NAME ROLE[,ROLE...]
 * NAME is a user or group name, or a numeric uid/gid.  A peer's roles are
 * those of its user line plus those of every group it belongs to (its
 * primary gid, and its supplementary groups when its uid has a passwd
 * entry).  Nobody, root included, has a role the file does not give. */
#ifndef TEISHI_ROLES_H
#define TEISHI_ROLES_H

#include <stddef.h>
#include <sys/types.h>

enum role {
	ROLE_VIEWER = 1 << 0,     /* lookup, list, reports, status */
	ROLE_OPERATOR = 1 << 1,   /* holdings, police suspensions, lifts */
	ROLE_SUPERVISOR = 1 << 2, /* NPA orders and approvals */
	ROLE_AUDITOR = 1 << 3,    /* the audit commands */
};

struct roles;

/* Load a roles file.  NULL + errno on error, with the reason (file, line
 * and problem) in err. */
struct roles *roles_load(const char *path, char *err, size_t errlen);

/* NULL-safe. */
void roles_free(struct roles *r);

/* Role mask of the peer (uid, gid). */
unsigned roles_of(const struct roles *r, uid_t uid, gid_t gid);

/* Parse "viewer" etc.; returns the bit or 0. */
unsigned role_parse(const char *name);

/* "operator" for one bit; for a mask, a comma list into buf ("-" if none). */
const char *role_name(unsigned bit);
const char *roles_format(unsigned mask, char *buf, size_t len);

#endif
