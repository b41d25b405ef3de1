#include "roles.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct roles_rule {
	int is_group;
	unsigned id; /* uid or gid */
	unsigned mask;
};

struct roles {
	struct roles_rule *rules;
	size_t n;
};

static const char *const role_names[] = {"viewer", "operator", "supervisor", "auditor"};

unsigned role_parse(const char *name)
{
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(name, role_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *role_name(unsigned bit)
{
	for (unsigned i = 0; i < 4; i++)
		if (bit == 1u << i)
			return role_names[i];
	return "?";
}

const char *roles_format(unsigned mask, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", role_names[i]);
	if (!mask)
		snprintf(buf, len, "-");
	return buf;
}

static int roles_resolve(int is_group, const char *name, unsigned *id)
{
	char *end;
	unsigned long v = strtoul(name, &end, 10);
	if (*name && *end == '\0') {
		*id = (unsigned)v;
		return 0;
	}
	if (is_group) {
		struct group *g = getgrnam(name);
		if (!g)
			return -ENOENT;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(name);
		if (!p)
			return -ENOENT;
		*id = p->pw_uid;
	}
	return 0;
}

struct roles *roles_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "roles file %s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	struct roles *r = calloc(1, sizeof(*r));
	char line[512];
	int lineno = 0, e = 0;
	while (r && fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char kind[16], name[128], list[256], extra[8];
		int k = sscanf(line, "%15s %127s %255s %7s", kind, name, list, extra);
		if (k <= 0)
			continue;
		struct roles_rule rule = {0};
		if (k != 3 || (strcmp(kind, "user") && strcmp(kind, "group"))) {
			snprintf(err, errlen, "%s:%d: expected \"user NAME ROLE[,ROLE...]\" or \"group NAME ROLE[,ROLE...]\"",
				 path, lineno);
			e = EINVAL;
			break;
		}
		rule.is_group = kind[0] == 'g';
		if (roles_resolve(rule.is_group, name, &rule.id)) {
			snprintf(err, errlen, "%s:%d: no such %s \"%s\"", path, lineno, kind, name);
			e = ENOENT;
			break;
		}
		for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
			unsigned bit = role_parse(tok);
			if (!bit) {
				snprintf(err, errlen, "%s:%d: unknown role \"%s\"; valid: viewer, operator, supervisor, auditor",
					 path, lineno, tok);
				e = EINVAL;
				break;
			}
			rule.mask |= bit;
		}
		if (e)
			break;
		struct roles_rule *nr = realloc(r->rules, (r->n + 1) * sizeof(*nr));
		if (!nr) {
			e = ENOMEM;
			break;
		}
		r->rules = nr;
		r->rules[r->n++] = rule;
	}
	fclose(f);
	if (!r)
		e = ENOMEM;
	if (e) {
		roles_free(r);
		errno = e;
		return NULL;
	}
	return r;
}

void roles_free(struct roles *r)
{
	if (!r)
		return;
	free(r->rules);
	free(r);
}

unsigned roles_of(const struct roles *r, uid_t uid, gid_t gid)
{
	gid_t groups[256];
	int ng = 1;
	groups[0] = gid;
	struct passwd *pw = getpwuid(uid);
	if (pw) {
		int cap = 256;
		if (getgrouplist(pw->pw_name, gid, groups, &cap) >= 0)
			ng = cap;
	}
	unsigned mask = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct roles_rule *rule = &r->rules[i];
		if (!rule->is_group) {
			if (rule->id == uid)
				mask |= rule->mask;
			continue;
		}
		for (int g = 0; g < ng; g++)
			if (groups[g] == rule->id)
				mask |= rule->mask;
	}
	return mask;
}
