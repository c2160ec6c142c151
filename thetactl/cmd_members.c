/* thetactl session allow|deny|members: the local users who may work in a
 * session on this daemon (docs/operator.md, "Who may use a session"). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"
#include "th_cmd.h"

/* Parses [--session S] [--role R] [--json] around the operands; *user is
 * the one operand (NULL when want_user is false). Returns 0 or the exit
 * status of a usage error. */
static int ctl_members_args(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, bool want_user,
			    bool want_role, const char **user, const char **session, const char **role)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' },
					      { "role", required_argument, NULL, 'r' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	int c;
	optind = 0; /* full reset: options may follow the operand */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			*session = optarg;
			break;
		case 'r':
			if (!want_role)
				return ctl_usage_error(ctx, cmd, "--role belongs to 'session allow'");
			if (th_role_parse(optarg) < TH_ROLE_VIEWER)
				return ctl_usage_error(ctx, cmd, "--role is viewer, editor or admin, not '%s'", optarg);
			*role = optarg;
			break;
		case 'j':
			ctx->json = true;
			break;
		default:
			return ctl_option_error(ctx, cmd, argv);
		}
	}
	if (want_user) {
		if (optind >= argc)
			return ctl_usage_error(ctx, cmd, "say which user (a name or a uid)");
		*user = argv[optind++];
	}
	if (optind < argc)
		return ctl_usage_error(ctx, cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static struct json_object *ctl_members_req(const char *user, const char *session, const char *role)
{
	struct json_object *args = json_object_new_object();
	if (user)
		json_object_object_add(args, "user", json_object_new_string(user));
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	if (role)
		json_object_object_add(args, "role", json_object_new_string(role));
	return args;
}

int ctl_session_allow(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *user = NULL, *session = NULL, *role = "editor";
	int r = ctl_members_args(ctx, "session allow", argc, argv, true, true, &user, &session, &role);
	struct json_object *res;
	if (r)
		return r;
	if ((r = ctl_request(ctx, "session_allow", ctl_members_req(user, session, role), &res)) || !res)
		return r;
	printf("session %s: %s (uid %s) may work in it as %s\n", ctl_jstr(res, "name"), ctl_jstr(res, "user"),
	       ctl_jstr(res, "uid"), ctl_jstr(res, "role"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_session_deny(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *user = NULL, *session = NULL, *role = NULL;
	int r = ctl_members_args(ctx, "session deny", argc, argv, true, false, &user, &session, &role);
	struct json_object *res;
	if (r)
		return r;
	if ((r = ctl_request(ctx, "session_deny", ctl_members_req(user, session, NULL), &res)) || !res)
		return r;
	printf("session %s: %s (uid %s) is no longer a member; its clients were closed\n", ctl_jstr(res, "name"),
	       ctl_jstr(res, "user"), ctl_jstr(res, "uid"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_session_members(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *user = NULL, *session = NULL, *role = NULL;
	int r = ctl_members_args(ctx, "session members", argc, argv, false, false, &user, &session, &role);
	struct json_object *res, *arr;
	if (r)
		return r;
	if ((r = ctl_request(ctx, "session_members", ctl_members_req(NULL, session, NULL), &res)) || !res)
		return r;
	printf("session %s: root, thetad's own user and group %s are admins of every session\n", ctl_jstr(res, "name"),
	       ctl_jstr(res, "admin_group"));
	static const char *const hdr[] = { "USER", "UID", "ROLE", "CLIENTS" };
	struct ctl_table *t = ctl_table_new(4, hdr);
	if (json_object_object_get_ex(res, "members", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *o = json_object_array_get_idx(arr, k);
			char who[96];
			/* A browser member: its display name, marked. */
			if (!strcmp(ctl_jstr(o, "kind"), "browser"))
				snprintf(who, sizeof(who), "%s (browser)", ctl_jstr(o, "user"));
			else
				snprintf(who, sizeof(who), "%s", ctl_jstr(o, "user"));
			const char *row[] = { who, ctl_jstr(o, "uid"), ctl_jstr(o, "role"), ctl_jstr(o, "clients") };
			ctl_table_row(t, row);
		}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}
