#include "th_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "th_logrec.h"
#include "th_payload.h"

static const struct th_cmd_info th_cmd_table[] = {
#define TH_COMMAND(id_, ENUM, cname, name_, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS)             \
	{ .id = id_, .role = TH_ROLE_##ROLE, .scope = TH_SCOPE_##SCOPE,                      \
	  .conflict = TH_CONFLICT_##CONFLICT, .max_payload = (cap), .max_encoded = TH_PL_MAXSZ_##ENUM, .name = name_, \
	  .payload = #FIELDS, .rule = #RULE },
#include "commands.def"
#undef TH_COMMAND
};

#define TH_CMD_N (sizeof(th_cmd_table) / sizeof(th_cmd_table[0]))

/* Every cap fits the log's payload limit: checked at compile time. */
#define TH_COMMAND(id_, ENUM, cname, name_, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) \
	_Static_assert((cap) <= TH_LOGREC_PAYLOAD_MAX, "payload cap of " name_ " too large"); \
	_Static_assert(TH_PL_MAXSZ_##ENUM <= (cap), "a valid payload of " name_ " exceeds its cap"); \
	_Static_assert((id_) > 0 && (id_) <= 0xffff, "type id of " name_ " out of range");
#include "commands.def"
#undef TH_COMMAND

const struct th_cmd_info *th_cmd_find(uint16_t id)
{
	/* The table is short and sorted by id (checked by a test); binary search. */
	size_t lo = 0, hi = TH_CMD_N;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (th_cmd_table[mid].id == id)
			return &th_cmd_table[mid];
		if (th_cmd_table[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct th_cmd_info *th_cmd_at(size_t i) { return i < TH_CMD_N ? &th_cmd_table[i] : NULL; }
size_t th_cmd_count(void) { return TH_CMD_N; }

const char *th_role_name(unsigned role)
{
	static const char *const n[] = { "none", "viewer", "editor", "admin" };
	return role < 4 ? n[role] : "?";
}

const char *th_scope_name(unsigned scope)
{
	static const char *const n[] = { "global", "entity", "tool", "mesh" };
	return scope < TH_SCOPE_COUNT ? n[scope] : "?";
}

const char *th_conflict_name(unsigned c)
{
	switch (c) {
	case TH_CONFLICT_LWW: return "lww";
	case TH_CONFLICT_MERGE: return "merge";
	case TH_CONFLICT_REJECT: return "reject";
	}
	return "?";
}

int th_role_parse(const char *s)
{
	for (int r = TH_ROLE_VIEWER; r <= TH_ROLE_ADMIN; r++)
		if (strcmp(s, th_role_name((unsigned)r)) == 0)
			return r;
	return -EINVAL;
}

__attribute__((format(printf, 2, 3)))
static void th_cmd_line(struct th_wbuf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		b->overflow = true;
		return;
	}
	th_wbuf_put(b, line, (size_t)n);
}

int th_cmd_render(struct th_wbuf *b)
{
	th_cmd_line(b, "source commands %u\n", (unsigned)TH_CMD_N);
	int rv = th_pl_render(b);
	if (rv < 0)
		return rv;
	for (size_t i = 0; i < TH_CMD_N; i++) {
		const struct th_cmd_info *c = &th_cmd_table[i];
		th_cmd_line(b, "command %u %s role=%s scope=%s conflict=%s max=%u rule=%s payload=%s\n",
			    (unsigned)c->id, c->name, th_role_name(c->role), th_scope_name(c->scope),
			    th_conflict_name(c->conflict), (unsigned)c->max_payload, c->rule, c->payload);
	}
#define TH_ENTRY_FIELD(name, ctype, width, desc) th_cmd_line(b, "entry-field %s %s %u\n", #name, #ctype, (unsigned)(width));
#include "commands.def"
#undef TH_ENTRY_FIELD
	return th_wbuf_error(b);
}
