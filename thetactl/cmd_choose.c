/* thetactl session use|forget, invite list|revoke, and the line that
 * follows every printed invite link (role, expiry in UTC, reuse): choosing
 * and tidying sessions and invites (docs/operator.md "Sessions"). */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_INVITE_ID_SHOWN 12 /* hex digits of an invite id in tables and lines */

/* "2026-12-03 19:30 UTC" for Unix seconds t; "never" for 0. */
static void ctl_utc(uint64_t t, char *buf, size_t len)
{
	if (!t) {
		snprintf(buf, len, "never");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "%" PRIu64, t);
}

/* "expires 2026-12-03 19:30 UTC (in 24h 00m)", "never expires",
 * "expired 2026-12-01 10:00 UTC". */
static void ctl_expiry_words(uint64_t expiry, char *buf, size_t len)
{
	char when[64], in[32];
	if (!expiry) {
		snprintf(buf, len, "never expires");
		return;
	}
	ctl_utc(expiry, when, sizeof(when));
	time_t now = time(NULL);
	if ((int64_t)expiry <= (int64_t)now) {
		snprintf(buf, len, "expired %s", when);
		return;
	}
	ctl_format_duration((double)((int64_t)expiry - (int64_t)now), in, sizeof(in));
	snprintf(buf, len, "expires %s (in %s)", when, in);
}

void ctl_invite_print_terms(struct json_object *res)
{
	struct json_object *v;
	uint64_t expiry = json_object_object_get_ex(res, "expiry_unix", &v) ? (uint64_t)json_object_get_int64(v) : 0;
	bool single = json_object_object_get_ex(res, "single_use", &v) && json_object_get_boolean(v);
	char exp[128];
	ctl_expiry_words(expiry, exp, sizeof(exp));
	printf("  role %s, %s, %s; invite %.*s\n", ctl_jstr(res, "role"), exp,
	       single ? "single-use (one daemon may join with it)" : "reusable", CTL_INVITE_ID_SHOWN,
	       ctl_jstr(res, "invite_id"));
}

static int ctl_invite_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *session = NULL;
	int first = ctl_parse_session_opts(ctx, "invite list", argc, argv, NULL, &session, NULL);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (first + 1 < argc)
		return ctl_usage_error(ctx, "invite list", "unexpected argument '%s'", argv[first + 1]);
	if (first < argc) {
		if (session)
			return ctl_usage_error(ctx, "invite list", "give the SESSION once (an operand or --session)");
		session = argv[first];
	}
	struct json_object *args = json_object_new_object(), *res, *arr;
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	int r = ctl_request(ctx, "invite_list", args, &res);
	if (r || !res)
		return r;
	static const char *const hdr[] = { "ID", "SESSION", "ROLE", "EXPIRES", "REUSE", "USES", "STATE" };
	struct ctl_table *t = ctl_table_new(7, hdr);
	if (json_object_object_get_ex(res, "invites", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *o = json_object_array_get_idx(arr, k);
			char id[CTL_INVITE_ID_SHOWN + 1], when[64];
			snprintf(id, sizeof(id), "%s", ctl_jstr(o, "id"));
			ctl_utc((uint64_t)ctl_jint(o, "expiry_unix"), when, sizeof(when));
			struct json_object *v;
			bool single = json_object_object_get_ex(o, "single_use", &v) && json_object_get_boolean(v);
			const char *row[] = { id, ctl_jstr(o, "session_name"), ctl_jstr(o, "role"), when,
					      single ? "single-use" : "reusable", ctl_jstr(o, "uses"), ctl_jstr(o, "state") };
			ctl_table_row(t, row);
		}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int ctl_invite_revoke(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *session = NULL;
	int first = ctl_parse_session_opts(ctx, "invite revoke", argc, argv, NULL, &session, NULL);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (first + 1 != argc)
		return ctl_usage_error(ctx, "invite revoke", "give exactly one invite ID (see thetactl invite list)");
	size_t idlen = strlen(argv[first]);
	if (idlen < 8 || idlen > 32 || strspn(argv[first], "0123456789abcdef") != idlen)
		return ctl_usage_error(ctx, "invite revoke",
				       "'%s' is not an invite id (8 to 32 lowercase hex digits, as invite list shows)",
				       argv[first]);
	struct json_object *args = json_object_new_object(), *res, *v;
	json_object_object_add(args, "id", json_object_new_string(argv[first]));
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	int r = ctl_request(ctx, "invite_revoke", args, &res);
	if (r || !res)
		return r;
	bool already = json_object_object_get_ex(res, "already", &v) && json_object_get_boolean(v);
	printf("invite %.*s of session %s %s; daemons that joined with it stay members (thetactl kick removes one)\n",
	       CTL_INVITE_ID_SHOWN, ctl_jstr(res, "id"), ctl_jstr(res, "session"),
	       already ? "was revoked already" : "revoked: joins with it are refused");
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_invite_sub(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return ctl_invite_list(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "revoke"))
		return ctl_invite_revoke(ctx, argc - 1, argv + 1);
	return -1;
}

int ctl_session_use(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *session = NULL;
	int first = ctl_parse_session_opts(ctx, "session use", argc, argv, NULL, &session, NULL);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (first + (session ? 0 : 1) != argc)
		return ctl_usage_error(ctx, "session use", "give exactly one SESSION (its name or id)");
	struct json_object *args = json_object_new_object(), *res, *v;
	json_object_object_add(args, "session", json_object_new_string(session ? session : argv[first]));
	int r = ctl_request(ctx, "session_use", args, &res);
	if (r || !res)
		return r;
	bool changed = json_object_object_get_ex(res, "changed", &v) && json_object_get_boolean(v);
	printf("local clients %s session %s (%s)\n", changed ? "now edit" : "already edit", ctl_jstr(res, "name"),
	       ctl_jstr(res, "session"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_session_forget(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "delete", no_argument, NULL, 'd' }, { "json", no_argument, NULL, 'j' },
					      { 0 } };
	bool del = false;
	int c;
	optind = 0; /* full reset: options may follow SESSION */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			del = true;
		else if (c == 'j')
			ctx->json = true;
		else
			return ctl_option_error(ctx, "session forget", argv);
	}
	if (optind + 1 != argc)
		return ctl_usage_error(ctx, "session forget", "give exactly one SESSION (its name or id)");
	struct json_object *args = json_object_new_object(), *res;
	json_object_object_add(args, "session", json_object_new_string(argv[optind]));
	if (del)
		json_object_object_add(args, "delete", json_object_new_boolean(1));
	int r = ctl_request(ctx, "session_forget", args, &res);
	if (r || !res)
		return r;
	if (del)
		printf("forgot session %s (%s) and removed its files\n", ctl_jstr(res, "name"), ctl_jstr(res, "session"));
	else
		printf("forgot session %s (%s); its log stays in %s\n", ctl_jstr(res, "name"), ctl_jstr(res, "session"),
		       ctl_jstr(res, "kept_in"));
	json_object_put(res);
	return CTL_EXIT_OK;
}
