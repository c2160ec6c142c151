/* thetactl log: the session's log page by page or followed (asks the
 * daemon), and `log verify`, offline verification of a command log with the
 * same scanner the daemon's recovery uses (common/th_logfile.h), which also
 * rebuilds the session's scene offline (rebuild.h). */
#include "cmd_log.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "th_err.h"
#include "progress.h"
#include "rebuild.h"
#include "th_logfile.h"

/* A usage error of log verify: one line (ctl_usage_error; without a ctx,
 * as the unit tests call it, the same line by hand). */
static int ctl_verify_usage(const struct ctl_ctx *ctx, const char *fmt, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, what);
	if (ctx)
		return ctl_usage_error(ctx, "log verify", "%s", msg);
	fprintf(stderr, "thetactl log verify: %s (see 'thetactl help log')\n", msg);
	return CTL_EXIT_USAGE;
}

static void ctl_verify_progress(void *ud, uint64_t done, uint64_t total)
{
	ctl_progress_update(ud, done, total, false);
}

int ctl_cmd_log_verify(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *path = NULL;
	bool quiet = false, json = ctx && ctx->json;
	struct ctl_rebuild rb = { .at = CTL_REBUILD_ALL, .mark = CTL_REBUILD_ALL };
	uint64_t x;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
		} else if (!strcmp(a, "--refusals")) {
			rb.outcomes = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--at") || !strcmp(a, "--window") || !strcmp(a, "--host-key")) {
			if (i + 1 >= argc)
				return ctl_verify_usage(ctx, "%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--host-key")) {
				if (ctl_rebuild_parse_key(v, rb.host) < 0)
					return ctl_verify_usage(ctx, "--host-key needs the host's public key as 64 hex digits, not '%s'", v);
				rb.host_given = true;
			} else if (!ctl_rebuild_parse_u64(v, &x) || (!strcmp(a, "--window") && (x == 0 || x > UINT32_MAX))) {
				return ctl_verify_usage(ctx, !strcmp(a, "--at") ? "--at needs a position (0 to the log's entry count), not '%s'"
									  : "--window needs a count of entries from 1 to 4294967295, not '%s'",
							v);
			} else if (!strcmp(a, "--at")) {
				rb.at = x;
			} else {
				rb.window = (uint32_t)x;
			}
		} else if (a[0] == '-' && a[1]) {
			return ctl_verify_usage(ctx, "unknown option '%s'", a);
		} else if (path) {
			return ctl_verify_usage(ctx, "unexpected argument '%s'", a);
		} else {
			path = a;
		}
	}
	if (!path)
		return ctl_verify_usage(ctx, "needs a PATH: a log directory, a segment file or a session directory%s", "");
	rb.path = path;
	/* On a terminal (not --json, not --quiet): how far the scan is. */
	struct ctl_progress prog;
	ctl_progress_start(&prog, ctx, "verifying", CTL_PROGRESS_BYTES, 0);
	if (json || quiet)
		prog.on = false;
	rb.progress = ctl_verify_progress;
	rb.progress_ud = &prog;
	r = ctl_rebuild_run(&rb);
	ctl_progress_end(&prog);
	/* Errors as the command's own --json says (a JSON object on stderr). */
	struct ctl_ctx ectx = ctx ? *ctx : (struct ctl_ctx){ .prog = "thetactl" };
	ectx.json = json;
	if (r < 0) {
		if (json)
			ctl_error(&ectx, ctl_errno_code(r), "%s", rb.err);
		else
			fprintf(stderr, "thetactl log verify: %s\n", rb.err);
		ctl_rebuild_fini(&rb);
		return CTL_EXIT_ERROR;
	}
	const struct th_logscan_result *res = &rb.scan;
	if (!res->ok) {
		if (json) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "ok", json_object_new_boolean(false));
			json_object_object_add(o, "bad_index", json_object_new_uint64(res->bad_index));
			json_object_object_add(o, "bad_segment", json_object_new_uint64(res->bad_segment));
			json_object_object_add(o, "bad_offset", json_object_new_uint64(res->bad_offset));
			json_object_object_add(o, "reason", json_object_new_string(th_logrec_fault_str(res->bad_reason)));
			json_object_object_add(o, "torn", json_object_new_boolean(res->torn));
			ctl_print_json(o);
			json_object_put(o);
		} else {
			printf("record %" PRIu64 " at byte %" PRIu64 ": %s (segment %016" PRIx64 "%s)\n", res->bad_index,
			       res->bad_offset, th_logrec_fault_str(res->bad_reason), res->bad_segment,
			       res->torn ? "; unacknowledged torn tail, recovery truncates it" : "");
		}
		ctl_rebuild_fini(&rb);
		return CTL_EXIT_ERROR;
	}
	r = 0;
	if (json) {
		struct json_object *o = json_object_new_object(), *scene = ctl_rebuild_json(&rb);
		json_object_object_add(o, "ok", json_object_new_boolean(true));
		json_object_object_add(o, "records", json_object_new_uint64(res->records));
		json_object_object_add(o, "batches", json_object_new_uint64(res->batches));
		json_object_object_add(o, "segments", json_object_new_uint64(res->segments));
		json_object_object_add(o, "authors", json_object_new_uint64(res->authors));
		json_object_object_add(o, "lamport", json_object_new_uint64(res->max_lamport));
		if (scene && rb.outcomes)
			json_object_object_add(scene, "refusals", ctl_rebuild_refusals_json(&rb));
		if (scene)
			json_object_object_add(o, "scene", scene);
		else
			r = -ENOMEM;
		if (scene)
			ctl_print_json(o);
		json_object_put(o);
	} else if (!quiet) {
		printf("ok: %" PRIu64 " records, %" PRIu64 " batches, %" PRIu64 " segments, %" PRIu64
		       " authors, lamport %" PRIu64 "\n",
		       res->records, res->batches, res->segments, res->authors, res->max_lamport);
		r = ctl_rebuild_print(&rb);
		if (r == 0 && rb.outcomes)
			ctl_rebuild_refusals_print(&rb);
	}
	if (r < 0)
		ctl_eprintf(&ectx, "thetactl log verify: %s\n", rb.err[0] ? rb.err : th_strerror(r));
	ctl_rebuild_fini(&rb);
	return r < 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

/* ---- thetactl log [--since POS] [--max N] [--follow] [--json] ---------------
 * Pages by position in the daemon's log (append order, which never changes),
 * so a page boundary never falls inside anything, and --follow shows every
 * entry that arrives, whatever its lamport (entries integrated after a heal
 * carry lower ones). */

#define CTL_LOG_MAX_DEFAULT 1000u
#define CTL_LOG_FOLLOW_POLL_US (200 * 1000)
/* The daemon is reading the log from disk: ask again after this, this often. */
#define CTL_LOG_READ_WAIT_US (5 * 1000)
#define CTL_LOG_READ_TRIES 2000u

static volatile sig_atomic_t ctl_stop;
static void ctl_on_sigint(int sig)
{
	ctl_stop = 1;
}

static void ctl_print_entries(struct ctl_ctx *ctx, struct json_object *entries, bool header)
{
	size_t n = json_object_array_length(entries);
	if (ctx->json) {
		for (size_t k = 0; k < n; k++)
			ctl_print_json_line(json_object_array_get_idx(entries, k));
		fflush(stdout);
		return;
	}
	static const char *const hdr[] = { "POS", "LAMPORT", "AUTHOR", "SEQ", "TYPE", "SCOPE", "SIZE", "TIME" };
	struct ctl_table *t = ctl_table_new(8, hdr);
	for (size_t k = 0; k < n; k++) {
		struct json_object *e = json_object_array_get_idx(entries, k), *v;
		char scope[64], when[64] = "-";
		snprintf(scope, sizeof(scope), "%s:%s", ctl_jstr(e, "scope"), ctl_jstr(e, "scope_id"));
		if (json_object_object_get_ex(e, "time_ns", &v)) {
			time_t secs = (time_t)(json_object_get_int64(v) / 1000000000);
			struct tm tm;
			if (localtime_r(&secs, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		}
		const char *row[] = { ctl_jstr(e, "pos"), ctl_jstr(e, "lamport"), ctl_jstr(e, "author"), ctl_jstr(e, "seq"),
				      ctl_jstr(e, "type"), scope, ctl_jstr(e, "size"), when };
		ctl_table_row(t, row);
	}
	if (header || n)
		ctl_table_print(t);
	ctl_table_free(t);
	fflush(stdout);
}

int ctl_cmd_log_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },         { "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },  { "session", required_argument, NULL, 'S' },
		{ "max", required_argument, NULL, 'm' },    { 0 },
	};
	bool follow = false, max_given = false;
	const char *session = NULL;
	uint64_t since = 0, max = CTL_LOG_MAX_DEFAULT;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j':
			ctx->json = true;
			break;
		case 'f':
			follow = true;
			break;
		case 'S':
			session = optarg;
			break;
		case 's':
		case 'm': {
			unsigned long long x = strtoull(optarg, &end, 10);
			if (*end || end == optarg || optarg[0] == '-' || (c == 'm' && x == 0))
				return ctl_usage_error(ctx, "log", "--%s needs a %s, not '%s'", c == 's' ? "since" : "max",
						       c == 's' ? "position (0 is the first entry)" : "count of at least 1",
						       optarg);
			if (c == 's') {
				since = x;
			} else {
				max = x;
				max_given = true;
			}
			break;
		}
		default:
			return ctl_option_error(ctx, "log", argv);
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctx, "log", "unexpected argument '%s' (did you mean 'log verify PATH'?)",
				       argv[optind]);
	if (follow) {
		signal(SIGINT, ctl_on_sigint);
		signal(SIGTERM, ctl_on_sigint);
	}
	/* One page: requests from `since` until `max` entries or the end (the
	 * daemon ends a request early while it reads the log from disk). */
	bool first = true;
	do {
		struct json_object *page = NULL, *all = json_object_new_array(), *res, *entries, *v;
		uint64_t got = 0, start = since;
		bool truncated = false;
		for (unsigned tries = 0;;) {
			struct json_object *args = json_object_new_object();
			json_object_object_add(args, "since", json_object_new_uint64(since));
			json_object_object_add(args, "max", json_object_new_uint64(max - got));
			if (session)
				json_object_object_add(args, "session", json_object_new_string(session));
			int r = ctl_call(ctx, "log", args, &res);
			json_object_put(args);
			if (r) {
				json_object_put(page);
				json_object_put(all);
				return r;
			}
			size_t n = 0;
			if (json_object_object_get_ex(res, "entries", &entries) && json_object_is_type(entries, json_type_array))
				for (n = 0; n < json_object_array_length(entries); n++)
					json_object_array_add(all, json_object_get(json_object_array_get_idx(entries, n)));
			got += n;
			truncated = json_object_object_get_ex(res, "truncated", &v) && json_object_get_boolean(v);
			if (json_object_object_get_ex(res, "next_pos", &v))
				since = json_object_get_uint64(v);
			bool reading = json_object_object_get_ex(res, "reading", &v) && json_object_get_boolean(v);
			json_object_put(page);
			page = res; /* the latest reply: counts, next_pos, truncated */
			if (!truncated || got >= max || (!reading && n == 0))
				break;
			if (n == 0) {
				if (++tries > CTL_LOG_READ_TRIES)
					break;
				usleep(CTL_LOG_READ_WAIT_US);
			}
		}
		json_object_object_add(page, "since", json_object_new_uint64(start));
		json_object_object_add(page, "entries", all);
		if (!follow && ctx->json) {
			ctl_print_json(page); /* next_pos and truncated say where the next page starts */
		} else {
			if (first && !ctx->json)
				printf("session %s (%s), %s entries, lamport %s\n", ctl_jstr(page, "session"),
				       ctl_jstr(page, "name"), ctl_jstr(page, "count"), ctl_jstr(page, "lamport"));
			ctl_print_entries(ctx, all, first);
		}
		if (!follow && truncated) {
			char more[160] = "";
			if (session)
				snprintf(more, sizeof(more), " --session %s", session);
			if (max_given)
				snprintf(more + strlen(more), sizeof(more) - strlen(more), " --max %" PRIu64, max);
			fprintf(stderr,
				"thetactl log: listed positions %" PRIu64 " to %" PRIu64 " of %s; the next page: thetactl log --since %" PRIu64 "%s\n",
				start, since ? since - 1 : 0, ctl_jstr(page, "count"), since, more);
		}
		json_object_put(page);
		first = false;
		/* A following reader takes a backlog page after page, then polls. */
		if (follow && !ctl_stop && (!truncated || !got))
			usleep(CTL_LOG_FOLLOW_POLL_US);
	} while (follow && !ctl_stop);
	return CTL_EXIT_OK;
}
