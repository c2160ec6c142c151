/* Command registry, generated from schemas/commands.def: each command type's
 * id, name, least role, scope kind, conflict strategy, payload cap and the
 * largest encoding of its typed payload (th_payload.h).
 * Shared by thetad (role gating, conflict handling) and thetactl (names in
 * `thetactl log`). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"

/* Session roles, ordered: a higher role may do everything a lower one may. */
enum th_role {
	TH_ROLE_NONE = 0,
	TH_ROLE_VIEWER = 1,
	TH_ROLE_EDITOR = 2,
	TH_ROLE_ADMIN = 3,
};

/* Scope kinds (entry field scope_kind). */
enum th_scope {
	TH_SCOPE_GLOBAL = 0,
	TH_SCOPE_ENTITY = 1,
	TH_SCOPE_TOOL = 2,
	TH_SCOPE_MESH = 3,
	TH_SCOPE_COUNT
};

enum th_conflict {
	TH_CONFLICT_LWW = 1,
	TH_CONFLICT_MERGE = 2,
	TH_CONFLICT_REJECT = 3,
};

enum th_cmd_type {
#define TH_COMMAND(id, ENUM, cname, name, ROLE, SCOPE, CONFLICT, cap, RULE, FIELDS) TH_CMD_##ENUM = id,
#include "commands.def"
#undef TH_COMMAND
};

struct th_cmd_info {
	uint16_t id;
	uint8_t role;     /* enum th_role */
	uint8_t scope;    /* enum th_scope */
	uint8_t conflict; /* enum th_conflict */
	uint32_t max_payload; /* the log's cap (>= max_encoded) */
	uint32_t max_encoded; /* largest valid payload encoding (TH_PL_MAXSZ_) */
	const char *name;
	const char *payload; /* the payload's fields as commands.def spells them */
	const char *rule;    /* "NO_RULE" or "RULE(fn)" */
};

/* The registry entry for a type id, or NULL for an unknown type. */
const struct th_cmd_info *th_cmd_find(uint16_t id);
/* Entry i of the registry (0..count-1), NULL past the end. */
const struct th_cmd_info *th_cmd_at(size_t i);
size_t th_cmd_count(void);

const char *th_role_name(unsigned role);
const char *th_scope_name(unsigned scope);
const char *th_conflict_name(unsigned conflict);
/* Parses "viewer", "editor", "admin"; -EINVAL otherwise. */
int th_role_parse(const char *s);

/* Canonical text of commands.def (payload constants and items, registry,
 * entry layout) for the schema hash; one line per constant, item, command
 * and entry field, see docs/command-log.md.
 * 0 or th_wbuf's error. */
int th_cmd_render(struct th_wbuf *b);
