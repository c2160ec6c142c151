/* gen_ipc_js OUT.js: the browser's table of the local IPC (web/js/ipc.js
 * encodes and decodes records by it), written from the one description,
 * proto/ipc_msgs.def, read through its X-macros (the constants) and
 * proto/ipc.c's descriptor table (generated from the same file: each
 * message's id, name, class, channel, encoded sizes and fields with their
 * kinds and limits); and what the page needs of schemas/commands.def
 * (command ids, names, roles, scopes, payload caps), of the fold
 * (refusal names) and of proto/session.h (EVENT_REJECTED's limits). An ES module; the build writes it to
 * build/web/js/gen/ipc_msgs.js (Makefile). Exit 1 with a sentence when
 * OUT cannot be written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "session.h"
#include "th_cmd.h"
#include "th_scene.h"

struct gen_const {
	const char *name;
	long long value;
};

static const struct gen_const consts[] = {
#define IPC_MSG(...)
#define IPC_CONST(NAME, value) { #NAME, (long long)(value) },
#include "ipc_msgs.def"
#undef IPC_CONST
#undef IPC_MSG
};

/* What the page reads of the session protocol: EVENT_REJECTED's payload is
 * proto/session.h's (ipc.js decodeRejected). */
static const struct gen_const sess_consts[] = {
	{ "KEY_LEN", PROTO_SESS_KEY_LEN },
	{ "REJECT_REASON_MAX", PROTO_SESS_REJECT_REASON_MAX },
	{ "REJECT_TEXT_MAX", PROTO_SESS_REJECT_TEXT_MAX },
};

static const char *kind_name(enum proto_ipc_fkind k)
{
	switch (k) {
	case PROTO_IPC_F_U16: return "u16";
	case PROTO_IPC_F_U32: return "u32";
	case PROTO_IPC_F_U64: return "u64";
	case PROTO_IPC_F_F32: return "f32";
	case PROTO_IPC_F_ENUM: return "enum";
	case PROTO_IPC_F_FLAGS: return "flags";
	case PROTO_IPC_F_STR: return "str";
	case PROTO_IPC_F_BLOB: return "blob";
	case PROTO_IPC_F_PATH: return "path";
	case PROTO_IPC_F_LIST: return "list";
	}
	return NULL;
}

static const char *class_name(enum proto_ipc_class c)
{
	return c == PROTO_IPC_RELIABLE ? "RELIABLE" : c == PROTO_IPC_EPHEMERAL ? "EPHEMERAL" : NULL;
}

static const char *chan_name(enum proto_ipc_chan c)
{
	switch (c) {
	case PROTO_IPC_CHAN_C2D: return "C2D";
	case PROTO_IPC_CHAN_D2C: return "D2C";
	case PROTO_IPC_CHAN_BOTH: return "BOTH";
	case PROTO_IPC_CHAN_SOCK_C2D: return "SOCK_C2D";
	case PROTO_IPC_CHAN_SOCK_D2C: return "SOCK_D2C";
	case PROTO_IPC_CHAN_VC2D: return "VC2D";
	case PROTO_IPC_CHAN_VD2C: return "VD2C";
	}
	return NULL;
}

/* The whole module into f; -EINVAL for a table entry this generator does
 * not know how to describe (a new field kind: teach it here). */
static int gen(FILE *f)
{
	fprintf(f, "// Generated from proto/ipc_msgs.def and schemas/commands.def by tools/webgen/gen_ipc_js:\n"
		   "// do not edit (web/js/ipc.js reads it; docs/web.md \"The fold in the browser\").\n\n");
	fprintf(f, "// PROTO_IPC_<NAME> constants.\nexport const C = Object.freeze({\n");
	for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
		fprintf(f, "  %s: %lld,\n", consts[i].name, consts[i].value);
	fprintf(f, "});\n\n");
	fprintf(f, "// PROTO_SESS_<NAME> constants of EVENT_REJECTED's payload (proto/session.h).\n"
		   "export const SESS = Object.freeze({\n");
	for (size_t i = 0; i < sizeof sess_consts / sizeof sess_consts[0]; i++)
		fprintf(f, "  %s: %lld,\n", sess_consts[i].name, sess_consts[i].value);
	fprintf(f, "});\n\n");
	fprintf(f, "// Every message in definition order: encoded sizes (bytes, without the u16 type), fields in\n"
		   "// wire order; limit: enum max, flags mask, str/path/list/blob max bytes (0 otherwise).\n"
		   "export const MSGS = Object.freeze([\n");
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		const struct proto_ipc_desc *d = &proto_ipc_descs[i];
		const char *cls = class_name(d->cls), *chan = chan_name(d->chan);
		if (!cls || !chan)
			return -EINVAL;
		fprintf(f, "  Object.freeze({ id: %u, name: \"%s\", cls: \"%s\", chan: \"%s\", min: %zu, max: %zu, fields: [",
			d->type, d->name, cls, chan, d->min_size, d->max_size);
		size_t n = 0;
		const struct proto_ipc_field *fl = d->fields(&n);
		for (size_t k = 0; k < n; k++) {
			const char *kind = kind_name(fl[k].kind);
			if (!kind)
				return -EINVAL;
			bool limited = fl[k].kind != PROTO_IPC_F_U16 && fl[k].kind != PROTO_IPC_F_U32 &&
				       fl[k].kind != PROTO_IPC_F_U64 && fl[k].kind != PROTO_IPC_F_F32;
			fprintf(f, "%s{ name: \"%s\", kind: \"%s\", limit: %u }", k ? ", " : " ", fl[k].name, kind,
				limited ? fl[k].limit : 0u);
		}
		fprintf(f, " ] }),\n");
	}
	fprintf(f, "]);\n\n");
	fprintf(f, "// Command types (schemas/commands.def): id, name, the least role, scope kind, the log's payload cap.\n"
		   "export const COMMANDS = Object.freeze([\n");
	for (size_t i = 0; i < th_cmd_count(); i++) {
		const struct th_cmd_info *ci = th_cmd_at(i);
		fprintf(f, "  Object.freeze({ id: %u, name: \"%s\", role: \"%s\", scope: \"%s\", maxPayload: %u }),\n",
			ci->id, ci->name, th_role_name(ci->role), th_scope_name(ci->scope), ci->max_payload);
	}
	fprintf(f, "]);\n\n");
	fprintf(f, "// The fold's refusal reasons (enum th_refusal), by code.\nexport const REFUSALS = Object.freeze([");
	for (int r = 0; r < TH_REFUSE_COUNT; r++)
		fprintf(f, "%s\"%s\"", r ? ", " : "", th_refusal_name(r));
	fprintf(f, "]);\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_ipc_js OUT.js\n");
		return 2;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp) {
		fprintf(stderr, "gen_ipc_js: the output path is too long\n");
		return 1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "gen_ipc_js: cannot write %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	int r = gen(f);
	if (r < 0) {
		fclose(f);
		remove(tmp);
		fprintf(stderr, "gen_ipc_js: proto/ipc_msgs.def has a class, channel or field kind this generator does not "
				"describe; teach tools/webgen/gen_ipc_js.c\n");
		return 1;
	}
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "gen_ipc_js: cannot write %s: %s\n", argv[1], strerror(errno));
		remove(tmp);
		return 1;
	}
	return 0;
}
