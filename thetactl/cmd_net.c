/* thetactl session host|join|leave, invite, peers, kick, role, mute, unmute, impair:
 * sessions between daemons (docs/network.md). */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "invite.h"
#include "progress.h"
#include "session.h"
#include "th_time.h"

#define CTL_JOIN_WAIT_DEFAULT_S 20
#define CTL_JOIN_POLL_US (50 * 1000)
/* Joined, and the host said nothing of its log this long: nothing to catch up on. */
#define CTL_JOIN_SYNC_GRACE_NS (1500ull * 1000 * 1000)


/* "90", "90s", "30m", "12h", "7d" -> seconds; -1 if malformed. */
#define CTL_SECS_MAX 1e9 /* a duration's number, in its unit (then at most ~3e13 s: no overflow) */
static long long ctl_parse_secs(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !(v > 0) || v > CTL_SECS_MAX) /* NaN and inf too: !(v > 0), v > max */
		return -1;
	double mul = 1;
	if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else if (*end && strcmp(end, "s"))
		return -1;
	return (long long)(v * mul + 0.5);
}

/* The row of `sessions` for id, or NULL (caller puts *res). */
static struct json_object *ctl_session_row(const struct ctl_ctx *ctx, const char *id, struct json_object **res)
{
	struct json_object *arr;
	*res = NULL;
	if (ctl_call(ctx, "sessions", NULL, res))
		return NULL;
	if (!json_object_object_get_ex(*res, "sessions", &arr))
		return NULL;
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *s = json_object_array_get_idx(arr, k);
		if (!strcmp(ctl_jstr(s, "id"), id))
			return s;
	}
	return NULL;
}

static int ctl_session_host(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *name = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'j')
			ctx->json = true;
		else
			return ctl_option_error(ctx, "session host", argv);
	}
	if (optind < argc)
		return ctl_usage_error(ctx, "session host", "unexpected argument '%s'", argv[optind]);
	struct json_object *args = json_object_new_object(), *res;
	if (name)
		json_object_object_add(args, "name", json_object_new_string(name));
	int r = ctl_request(ctx, "session_host", args, &res);
	if (r || !res)
		return r;
	printf("hosting session %s (%s); invite others with: thetactl invite %s --role editor\n",
		       ctl_jstr(res, "session"), ctl_jstr(res, "name"), ctl_jstr(res, "name"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int ctl_session_join(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { "timeout", required_argument, NULL, 't' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *name = NULL;
	bool wait = true;
	long long timeout_s = CTL_JOIN_WAIT_DEFAULT_S;
	int c;
	optind = 0; /* full reset: options may follow LINK */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'W':
			wait = false;
			break;
		case 't':
			if ((timeout_s = ctl_parse_secs(optarg)) < 0)
				return ctl_usage_error(ctx, "session join", "--timeout needs a duration, not '%s'", optarg);
			break;
		case 'j':
			ctx->json = true;
			break;
		default:
			return ctl_option_error(ctx, "session join", argv);
		}
	}
	if (optind + 1 != argc)
		return ctl_usage_error(ctx, "session join", "give exactly one invite link");
	const char *link = argv[optind];
	const char *why = proto_invite_check(link);
	if (why) {
		ctl_eprintf(ctx, "%s: %s\n", ctx->prog, why);
		return CTL_EXIT_ERROR;
	}
	struct json_object *args = json_object_new_object(), *res;
	json_object_object_add(args, "link", json_object_new_string(link));
	if (name)
		json_object_object_add(args, "name", json_object_new_string(name));
	int r = ctl_call(ctx, "session_join", args, &res);
	json_object_put(args);
	if (r)
		return r;
	char id[64];
	snprintf(id, sizeof(id), "%s", ctl_jstr(res, "session"));
	json_object_put(res);
	if (!wait) {
		if (ctx->json)
			printf("{ \"session\": \"%s\", \"state\": \"joining\" }\n", id);
		else
			printf("joining session %s\n", id);
		return CTL_EXIT_OK;
	}
	/* The daemon joins in the background; watch it get there, then catch
	 * up (a terminal sees what it is doing on a progress line). */
	struct ctl_progress pr;
	ctl_progress_start(&pr, ctx, "session join", CTL_PROGRESS_ENTRIES, 0);
	char said[CTL_PROGRESS_LINE_MAX] = "";
	uint64_t t0 = th_now_ns(), active_ns = 0;
	bool syncing = false;
	for (;;) {
		struct json_object *all, *row = ctl_session_row(ctx, id, &all), *sync = NULL;
		if (!all) {
			ctl_progress_end(&pr);
			return CTL_EXIT_ERROR;
		}
		const char *st = row ? ctl_jstr(row, "link_state") : "-";
		const char *note = row ? ctl_jstr(row, "link_note") : "-";
		uint64_t now = th_now_ns();
		if (!strcmp(st, "failed") || !strcmp(st, "left")) {
			ctl_progress_end(&pr);
			ctl_eprintf(ctx, "%s: %s\n", ctx->prog, row ? ctl_jstr(row, "error") : "the join failed");
			json_object_put(all);
			return CTL_EXIT_ERROR;
		}
		bool active = !strcmp(st, "active");
		uint64_t have = 0, total = 0;
		if (active && row && json_object_object_get_ex(row, "sync", &sync)) {
			have = (uint64_t)ctl_jint(sync, "received");
			total = (uint64_t)ctl_jint(sync, "host_count");
		}
		if (active && !active_ns)
			active_ns = now;
		/* Joined: done once the log holds what the host had, or when the
		 * host says nothing of its log soon (an older host). */
		bool caught_up = active && (sync ? have >= total : now - active_ns >= CTL_JOIN_SYNC_GRACE_NS);
		bool timed_out = now - t0 >= (uint64_t)timeout_s * TH_NS_PER_S;
		if (caught_up || (active && timed_out)) {
			ctl_progress_end(&pr);
			if (ctx->json) {
				ctl_print_json(row);
			} else {
				char n[32] = "";
				if (sync && total)
					ctl_format_count(have, n, sizeof(n));
				printf("joined session %s (%s) hosted at %s:%s as %s%s%s%s\n", id, ctl_jstr(row, "name"),
				       ctl_jstr(row, "host"), ctl_jstr(row, "host_port"), ctl_jstr(row, "granted_role"),
				       n[0] ? "; " : "", n, n[0] ? " entries" : "");
				if (!caught_up) {
					char h[32], t[32];
					ctl_format_count(have, h, sizeof(h));
					ctl_format_count(total, t, sizeof(t));
					ctl_eprintf(ctx, "%s: still catching up after %lld s: %s / %s entries; the daemon carries on "
							"(see thetactl sessions)\n",
						ctx->prog, timeout_s, h, t);
				}
			}
			json_object_put(all);
			return CTL_EXIT_OK;
		}
		if (timed_out) {
			ctl_progress_end(&pr);
			struct json_object *v;
			bool answered = row && json_object_object_get_ex(row, "link_answered", &v) && json_object_get_boolean(v);
			long long tries = row ? ctl_jint(row, "link_attempts") : 0;
			if (row && !answered && (!strcmp(st, "connecting") || !strcmp(st, "waiting")))
				ctl_eprintf(ctx, "%s: no answer from %s within %lld s (%lld attempt%s%s%s); the daemon keeps "
						"trying (see thetactl sessions)\n",
					ctx->prog, ctl_jstr(row, "link_where"), timeout_s, tries, tries == 1 ? "" : "s",
					json_object_object_get_ex(row, "error", &v) ? ", last: " : "",
					json_object_object_get_ex(row, "error", &v) ? json_object_get_string(v) : "");
			else
				ctl_eprintf(ctx, "%s: the host did not admit us within %lld s: %s; the daemon keeps trying (see "
						"thetactl sessions)\n",
					ctx->prog, timeout_s,
					row && json_object_object_get_ex(row, "error", &v) ? json_object_get_string(v)
					: strcmp(note, "-")				       ? note
										       : "no answer");
			json_object_put(all);
			return CTL_EXIT_ERROR;
		}
		if (active && sync && total) {
			if (!syncing) {
				syncing = true;
				ctl_progress_end(&pr); /* the connecting line goes */
				ctl_progress_start(&pr, ctx, "catching up", CTL_PROGRESS_ENTRIES, total);
			}
			ctl_progress_update(&pr, have, total, false);
		} else if (!active && strcmp(note, "-") && strcmp(note, said)) {
			snprintf(said, sizeof(said), "%s", note);
			ctl_progress_say(&pr, said);
		}
		json_object_put(all);
		usleep(CTL_JOIN_POLL_US);
	}
}

static int ctl_session_leave(struct ctl_ctx *ctx, int argc, char **argv)
{
	int first = ctl_parse_json_flag(ctx, "session leave", argc, argv); /* refuses options it does not take */
	if (first < 0)
		return CTL_EXIT_USAGE;
	argc -= first - 1;
	argv += first - 1;
	if (argc > 2)
		return ctl_usage_error(ctx, "session leave", "give at most one SESSION");
	struct json_object *args = json_object_new_object(), *res;
	if (argc == 2)
		json_object_object_add(args, "session", json_object_new_string(argv[1]));
	int r = ctl_request(ctx, "session_leave", args, &res);
	if (r || !res)
		return r;
	if (!strcmp(ctl_jstr(res, "result"), "ended"))
		printf("session %s: ended; new joins and its invites are refused, its members were told "
		       "(thetactl session forget %s takes it off the list)\n",
		       ctl_jstr(res, "session"), ctl_jstr(res, "session"));
	else
		printf("session %s: %s\n", ctl_jstr(res, "session"), ctl_jstr(res, "result"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_session(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(ctx, "session", "say host, join, leave, use, forget, allow, deny or members");
	if (!strcmp(argv[1], "host"))
		return ctl_session_host(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "join"))
		return ctl_session_join(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "leave"))
		return ctl_session_leave(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "use"))
		return ctl_session_use(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "forget"))
		return ctl_session_forget(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "allow"))
		return ctl_session_allow(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "deny"))
		return ctl_session_deny(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "members"))
		return ctl_session_members(ctx, argc - 1, argv + 1);
	return ctl_usage_error(ctx, "session", "unknown subcommand '%s' (host, join, leave, use, forget, allow, deny, members)",
			       argv[1]);
}

int ctl_cmd_invite(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "role", required_argument, NULL, 'r' },
					      { "expires", required_argument, NULL, 'e' },
					      { "single-use", no_argument, NULL, '1' },
					      { "host", required_argument, NULL, 'H' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *role = "editor", *host = NULL;
	long long expires = -1; /* the daemon's default (24 h) */
	bool single = false;
	int c, sub = ctl_invite_sub(ctx, argc, argv);
	if (sub >= 0)
		return sub;
	optind = 0; /* full reset: options may follow SESSION */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			if (proto_sess_role_parse(role) < 0)
				return ctl_usage_error(ctx, "invite", "--role is viewer, editor or admin, not '%s'", role);
			break;
		case 'e':
			if (!strcmp(optarg, "never"))
				expires = 0;
			else if ((expires = ctl_parse_secs(optarg)) < 1)
				return ctl_usage_error(ctx, "invite",
						       "--expires needs a duration such as 30m, 12h or 7d (or never), not '%s'",
						       optarg);
			break;
		case '1':
			single = true;
			break;
		case 'H':
			host = optarg;
			break;
		case 'j':
			ctx->json = true;
			break;
		default:
			return ctl_option_error(ctx, "invite", argv);
		}
	}
	if (optind + 1 < argc)
		return ctl_usage_error(ctx, "invite", "unexpected argument '%s'", argv[optind + 1]);
	struct json_object *args = json_object_new_object(), *res;
	if (optind < argc)
		json_object_object_add(args, "session", json_object_new_string(argv[optind]));
	json_object_object_add(args, "role", json_object_new_string(role));
	if (expires >= 0)
		json_object_object_add(args, "expires_s", json_object_new_int64(expires));
	if (single)
		json_object_object_add(args, "single_use", json_object_new_boolean(1));
	if (host)
		json_object_object_add(args, "host", json_object_new_string(host));
	int r = ctl_request(ctx, "invite", args, &res);
	if (r || !res)
		return r;
	printf("%s\n", ctl_jstr(res, "link"));
	ctl_invite_print_terms(res);
	if (strcmp(ctl_jstr(res, "web_link"), "-")) {
		printf("%s\n", ctl_jstr(res, "web_link")); /* for a browser ([web] listen) */
		ctl_invite_print_terms(res);
	}
	json_object_put(res);
	return CTL_EXIT_OK;
}

/* On a member daemon, kick / role send a request to the session's host and
 * answer with its id; wait for the host's answer (polling admin_request).
 * Returns CTL_EXIT_OK with *res replaced by the answer, or CTL_EXIT_ERROR
 * after printing the host's refusal sentence. */
#define CTL_ADMIN_POLL_NS   (20ull * 1000 * 1000)
#define CTL_ADMIN_WAIT_S    15

static int ctl_admin_wait(struct ctl_ctx *ctx, struct json_object **res)
{
	struct json_object *v;
	if (!json_object_object_get_ex(*res, "request", &v))
		return CTL_EXIT_OK;
	int64_t id = json_object_get_int64(v);
	time_t end = time(NULL) + CTL_ADMIN_WAIT_S;
	for (;;) {
		struct json_object *args = json_object_new_object(), *ans;
		json_object_object_add(args, "id", json_object_new_int64(id));
		int r = ctl_call(ctx, "admin_request", args, &ans);
		json_object_put(args);
		if (r)
			return r;
		const char *st = ctl_jstr(ans, "state");
		if (strcmp(st, "pending")) {
			json_object_put(*res);
			*res = ans;
			if (!strcmp(st, "done") && json_object_object_get_ex(ans, "code", &v) && json_object_get_int(v) == 0)
				return CTL_EXIT_OK;
			ctl_eprintf(ctx, "thetactl: the host refused: %s\n", ctl_jstr(ans, "error"));
			return CTL_EXIT_ERROR;
		}
		json_object_put(ans);
		if (time(NULL) > end) {
			ctl_eprintf(ctx, "thetactl: the host did not answer request %" PRId64 "\n", id);
			return CTL_EXIT_ERROR;
		}
		struct timespec ts = { 0, CTL_ADMIN_POLL_NS };
		nanosleep(&ts, NULL);
	}
}

/* kick and role: the request, then (on a member) the host's answer; with
 * --json the answer is printed here and *res is NULL. */
static int ctl_admin_change(struct ctl_ctx *ctx, const char *cmd, struct json_object *args, struct json_object **res)
{
	*res = NULL;
	int r = ctl_call(ctx, cmd, args, res);
	json_object_put(args);
	if (r)
		return r;
	if ((r = ctl_admin_wait(ctx, res))) {
		json_object_put(*res);
		*res = NULL;
		return r;
	}
	if (ctx->json) {
		ctl_print_json(*res);
		json_object_put(*res);
		*res = NULL;
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_kick(struct ctl_ctx *ctx, int argc, char **argv)
{
	int first = ctl_parse_json_flag(ctx, "kick", argc, argv); /* refuses options it does not take */
	if (first < 0)
		return CTL_EXIT_USAGE;
	argc -= first - 1;
	argv += first - 1;
	if (argc != 2)
		return ctl_usage_error(ctx, "kick", "give one PEER (its id or key fingerprint; see thetactl peers)");
	struct json_object *args = json_object_new_object(), *res;
	json_object_object_add(args, "peer", json_object_new_string(argv[1]));
	int r = ctl_admin_change(ctx, "kick", args, &res);
	if (r || !res)
		return r;
	printf("peer %s removed from session %s\n", ctl_jstr(res, "peer_id"), ctl_jstr(res, "session"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_role(struct ctl_ctx *ctx, int argc, char **argv)
{
	int first = ctl_parse_json_flag(ctx, "role", argc, argv); /* refuses options it does not take */
	if (first < 0)
		return CTL_EXIT_USAGE;
	argc -= first - 1;
	argv += first - 1;
	if (argc != 3)
		return ctl_usage_error(ctx, "role", "give a PEER and a ROLE (viewer, editor, admin)");
	if (proto_sess_role_parse(argv[2]) < 0)
		return ctl_usage_error(ctx, "role", "ROLE is viewer, editor or admin, not '%s'", argv[2]);
	struct json_object *args = json_object_new_object(), *res;
	json_object_object_add(args, "peer", json_object_new_string(argv[1]));
	json_object_object_add(args, "role", json_object_new_string(argv[2]));
	int r = ctl_admin_change(ctx, "role", args, &res);
	if (r || !res)
		return r;
	printf("peer %s is now %s in session %s\n", ctl_jstr(res, "peer_id"), ctl_jstr(res, "role"), ctl_jstr(res, "session"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

/* mute / unmute WHO [--session S]: on the host, or (an admin member) asked
 * of the host like kick. */
static int ctl_mute(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 's' }, { 0 } };
	const char *session = NULL;
	int c;
	optind = 0; /* a full reset: --session may follow WHO (argv is permuted) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			session = optarg;
		else
			return ctl_option_error(ctx, cmd, argv);
	}
	if (argc - optind != 1)
		return ctl_usage_error(ctx, cmd,
				       "give one WHO: a speaker's name (as thetactl voice shows it), a key fingerprint, or a "
				       "member PEER (all its speakers)");
	const char *who = argv[optind];
	struct json_object *args = json_object_new_object(), *res;
	json_object_object_add(args, "who", json_object_new_string(who));
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	int r = ctl_admin_change(ctx, cmd, args, &res);
	if (r || !res)
		return r;
	const char *done = !strcmp(cmd, "mute") ? "muted" : "unmuted";
	struct json_object *v;
	if (json_object_object_get_ex(res, "state", &v)) /* a member's request, answered by the host */
		printf("the host %s %s in session %s\n", done, who, ctl_jstr(res, "session"));
	else if (json_object_object_get_ex(res, "peer_id", &v))
		printf("every speaker of peer %s %s in session %s\n", ctl_jstr(res, "peer_id"), done, ctl_jstr(res, "session"));
	else
		printf("speaker %s (%s) %s in session %s\n", json_object_object_get_ex(res, "name", &v) ? ctl_jstr(res, "name") : who,
		       ctl_jstr(res, "speaker"), done, ctl_jstr(res, "session"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_mute(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_mute(ctx, "mute", argc, argv);
}

int ctl_cmd_unmute(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_mute(ctx, "unmute", argc, argv);
}

int ctl_cmd_impair(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "partition", required_argument, NULL, 'p' }, { 0 } };
	const char *part = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p')
			part = optarg;
		else
			return ctl_option_error(ctx, "impair", argv);
	}
	if (optind + 1 < argc || (optind == argc && !part))
		return ctl_usage_error(ctx, "impair", "give a SPEC (e.g. loss=10%%,delay=50ms,jitter=10ms), 'off', "
						      "or --partition on|off");
	struct json_object *args = json_object_new_object(), *res;
	if (optind < argc)
		json_object_object_add(args, "spec", json_object_new_string(argv[optind]));
	if (part)
		json_object_object_add(args, "partition", json_object_new_string(part));
	int r = ctl_request(ctx, "impair", args, &res);
	if (r || !res)
		return r;
	const char *spec = ctl_jstr(res, "spec");
	printf("impairment: %s\n", *spec ? spec : "off");
	json_object_put(res);
	return CTL_EXIT_OK;
}
