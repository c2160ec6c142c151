/* thetactl undo ENTRY / redo ENTRY: an edit.undo naming ENTRY (or an
 * edit.redo naming the undo ENTRY), signed as the caller through the
 * daemon's `submit`; then the outcome as the session's scene folded it.
 * The fold decides who may undo what (its author, or an admin in the
 * session: the host key, `--as-host`), so a refusal is the fold's reason
 * and sentence. ENTRY is LAMPORT[:AUTHOR] as `thetactl log` lists entries
 * (AUTHOR a prefix of the key fingerprint, with or without "SHA256:", or
 * the key as 64 hex digits; LAMPORT alone when one entry has it). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "submit.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_hex.h"
#include "th_payload.h"
#include "th_time.h"

/* How long undo waits for the scene to fold its entry, polled this often. */
#define CTL_UNDO_WAIT_S 10u
#define CTL_UNDO_POLL_US (20 * 1000)
#define CTL_ENTRY_NAME_MAX 128u

/* "LAMPORT[:AUTHOR]" -> lamport and author (NULL when absent, into buf). */
static int ctl_parse_entry(const char *s, uint64_t *lamport, const char **author, char *buf, size_t cap)
{
	char *end;
	if (!s[0] || s[0] == '-' || s[0] == '+' || strlen(s) >= cap)
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || !x || (*end && *end != ':'))
		return -EINVAL;
	*lamport = x;
	*author = NULL;
	if (*end == ':') {
		if (!end[1])
			return -EINVAL;
		snprintf(buf, cap, "%s", end + 1);
		*author = buf;
	}
	return 0;
}

static const char *ctl_js(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int ctl_undo_run(struct ctl_ctx *ctx, const char *name, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' },
					      { "as-host", no_argument, NULL, 'H' },
					      { "no-wait", no_argument, NULL, 'n' },
					      { "json", no_argument, NULL, 'j' },
					      { 0 } };
	bool redo = !strcmp(name, "redo"), as_host = false, wait = true;
	const char *session = NULL, *author;
	char abuf[CTL_ENTRY_NAME_MAX], err[CTL_ERR_LEN];
	uint64_t lamport;
	int c;
	optind = 0; /* a full reset: options may follow ENTRY (argv is permuted) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'S')
			session = optarg;
		else if (c == 'H')
			as_host = true;
		else if (c == 'n')
			wait = false;
		else if (c == 'j')
			ctx->json = true;
		else
			return ctl_option_error(ctx, name, argv);
	}
	if (optind + 1 != argc)
		return ctl_usage_error(ctx, name, optind == argc ? "needs ENTRY (LAMPORT[:AUTHOR] as thetactl log lists it)"
							     : "unexpected argument '%s'",
				       argv[argc - 1]);
	const char *spec = argv[optind];
	if (ctl_parse_entry(spec, &lamport, &author, abuf, sizeof(abuf)) < 0)
		return ctl_usage_error(ctx, name,
				       "'%s' is not an entry: give LAMPORT or LAMPORT:AUTHOR as thetactl log lists them (e.g. 42:SHA256:Zmh6rf)",
				       spec);
	int fd = ctl_open(ctx);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	struct json_object *target = NULL, *res = NULL;
	int rc = CTL_EXIT_ERROR, r = ctl_entry(ctx, fd, session, lamport, author, &target, err, sizeof(err));
	if (r) {
		ctl_eprintf(ctx, "%s %s: %s\n", ctx->prog, name, err);
		goto out;
	}
	const char *ttype = ctl_js(target, "type"), *tkey = ctl_js(target, "author");
	if (redo && strcmp(ttype, "edit.undo")) {
		ctl_eprintf(ctx, "%s redo: entry %s is a %s, not an edit.undo: redo names the undo entry (thetactl undo printed it)\n",
			ctx->prog, spec, ttype);
		goto out;
	}
	if (!redo && (!strcmp(ttype, "edit.undo") || !strcmp(ttype, "edit.redo") || !strncmp(ttype, "session.", 8))) {
		ctl_eprintf(ctx, "%s undo: entry %s is a %s, which cannot be undone%s\n", ctx->prog, spec, ttype,
			!strcmp(ttype, "edit.undo") ? " (to bring back what it undid: thetactl redo ENTRY)"
			: !strcmp(ttype, "edit.redo") ? " (undo the original entry again instead)" : "");
		goto out;
	}
	struct th_pl_edit_undo pl = { .lamport = lamport };
	if (th_hex_decode(tkey, strlen(tkey), pl.author, sizeof(pl.author), false) < 0) {
		ctl_eprintf(ctx, "%s %s: thetad's answer names no author key for entry %s\n", ctx->prog, name, spec);
		goto out;
	}
	uint8_t buf[64];
	int len = th_cmd_payload_encode(redo ? TH_CMD_EDIT_REDO : TH_CMD_EDIT_UNDO, &pl, buf, sizeof(buf));
	if (len < 0) {
		ctl_eprintf(ctx, "%s %s: cannot encode the %s payload\n", ctx->prog, name, redo ? "edit.redo" : "edit.undo");
		goto out;
	}
	struct ctl_submitted sub;
	const char *sid = session ? session : ctl_js(target, "session");
	r = ctl_submit(ctx, fd, sid, redo ? "edit.redo" : "edit.undo", 0, buf, (size_t)len, as_host, &sub, err,
		       sizeof(err));
	if (r) {
		ctl_eprintf(ctx, "%s %s: %s\n", ctx->prog, name, err);
		goto out;
	}
	/* Poll the scene for what the fold made of it. */
	char key[65], mine[CTL_ENTRY_NAME_MAX];
	th_hex_encode(sub.author, sizeof(sub.author), key);
	snprintf(mine, sizeof(mine), "%" PRIu64 ":%s", sub.lamport, sub.fingerprint);
	const char *outcome = "pending";
	uint64_t end = th_now_ns() + (uint64_t)CTL_UNDO_WAIT_S * TH_NS_PER_S;
	while (wait) {
		json_object_put(res);
		res = NULL;
		r = ctl_entry(ctx, fd, sid, sub.lamport, key, &res, err, sizeof(err));
		if (r < 0) {
			ctl_eprintf(ctx, "%s %s: %s\n", ctx->prog, name, err);
			goto out;
		}
		outcome = r == 0 ? ctl_js(res, "outcome") : "pending"; /* 1: not durable yet */
		if (strcmp(outcome, "pending") || th_now_ns() > end)
			break;
		usleep(CTL_UNDO_POLL_US);
	}
	const char *what = redo ? "redo" : "undo";
	if (ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "entry", json_object_new_string(mine));
		json_object_object_add(o, "lamport", json_object_new_uint64(sub.lamport));
		json_object_object_add(o, "seq", json_object_new_uint64(sub.seq));
		json_object_object_add(o, "author", json_object_new_string(sub.fingerprint));
		json_object_object_add(o, "target_type", json_object_new_string(ttype));
		json_object_object_add(o, "target_author", json_object_new_string(ctl_js(target, "fingerprint")));
		json_object_object_add(o, "outcome", json_object_new_string(wait ? outcome : "submitted"));
		if (!strcmp(outcome, "refused")) {
			json_object_object_add(o, "reason", json_object_new_string(ctl_js(res, "reason")));
			json_object_object_add(o, "why", json_object_new_string(ctl_js(res, "why")));
		}
		ctl_print_json(o);
		json_object_put(o);
	}
	if (!wait) {
		if (!ctx->json)
			printf("%s of %s (%s) submitted as entry %s; see thetactl log\n", what, spec, ttype, mine);
		rc = CTL_EXIT_OK;
	} else if (!strcmp(outcome, "control") || !strcmp(outcome, "folded")) {
		if (!ctx->json)
			printf("%s %s (%s by %s): entry %s\n", redo ? "redid" : "undid", spec, ttype,
			       ctl_js(target, "fingerprint"), mine);
		rc = CTL_EXIT_OK;
	} else if (!strcmp(outcome, "refused")) {
		ctl_eprintf(ctx, "%s %s: the session refused the %s (entry %s): %s: %s%s\n", ctx->prog, name, what, mine,
			ctl_js(res, "reason"), ctl_js(res, "why"),
			!strcmp(ctl_js(res, "reason"), "denied") && !as_host
				? " (only the entry's author or a session admin may; a daemon admin of the host may use --as-host)"
				: "");
	} else {
		ctl_eprintf(ctx, "%s %s: entry %s was submitted but the scene has not folded it within %u s (see thetactl log and thetactl scene)\n",
			ctx->prog, name, mine, CTL_UNDO_WAIT_S);
	}
out:
	json_object_put(target);
	json_object_put(res);
	close(fd);
	return rc;
}

int ctl_cmd_undo(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_undo_run(ctx, "undo", argc, argv);
}

int ctl_cmd_redo(struct ctl_ctx *ctx, int argc, char **argv)
{
	return ctl_undo_run(ctx, "redo", argc, argv);
}
