/* thetactl peers: the daemons connected in sessions (docs/network.md).
 * By default one block per peer, like `wg show`: a header line, then one
 * indented "field: value" line each, so a terminal of 80 columns reads it;
 * --wide prints the one-line-per-peer table (about 180 columns); --json
 * the daemon's reply. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

static void ctl_stream_bytes(struct json_object *p, const char *stream, char *buf, size_t len, const char *sep)
{
	struct json_object *b, *s, *v;
	unsigned long long in = 0, out = 0;
	if (json_object_object_get_ex(p, "bytes", &b) && json_object_object_get_ex(b, stream, &s)) {
		if (json_object_object_get_ex(s, "in", &v))
			in = (unsigned long long)json_object_get_int64(v);
		if (json_object_object_get_ex(s, "out", &v))
			out = (unsigned long long)json_object_get_int64(v);
	}
	char a[32], o[32];
	ctl_format_bytes(in, a, sizeof(a));
	ctl_format_bytes(out, o, sizeof(o));
	snprintf(buf, len, "%s%s%s", a, sep, o);
}

/* The streams a peer's bytes are shown for, in this order. */
static const char *const ctl_peer_streams[] = { "control", "commands", "assets", "datagrams" };
#define CTL_PEER_STREAMS (sizeof ctl_peer_streams / sizeof ctl_peer_streams[0])

struct ctl_peer_figures {
	char rtt[32], jitter[32], loss[32];
	char bytes[CTL_PEER_STREAMS][64]; /* "IN<sep>OUT" per stream */
};

/* A peer's RTT, jitter, loss and bytes per stream (in and out joined by sep). */
static void ctl_peer_figures(struct json_object *p, const char *sep, struct ctl_peer_figures *f)
{
	struct json_object *v;
	for (size_t i = 0; i < CTL_PEER_STREAMS; i++)
		ctl_stream_bytes(p, ctl_peer_streams[i], f->bytes[i], sizeof f->bytes[i], sep);
	snprintf(f->rtt, sizeof f->rtt, "-");
	snprintf(f->jitter, sizeof f->jitter, "-");
	snprintf(f->loss, sizeof f->loss, "-");
	if (json_object_object_get_ex(p, "rtt_ms", &v))
		snprintf(f->rtt, sizeof f->rtt, "%.2f ms", json_object_get_double(v));
	if (json_object_object_get_ex(p, "jitter_ms", &v))
		snprintf(f->jitter, sizeof f->jitter, "%.2f ms", json_object_get_double(v));
	if (json_object_object_get_ex(p, "loss", &v))
		snprintf(f->loss, sizeof f->loss, "%.1f%%", 100 * json_object_get_double(v));
}

static void ctl_peers_wide(struct json_object *res)
{
	struct json_object *arr;
	static const char *const hdr[] = { "PEER", "KEY", "ADDRESS", "IS", "ROLE", "STATE", "RTT", "JITTER", "LOSS",
					   "CONTROL IN/OUT", "COMMANDS IN/OUT", "ASSETS IN/OUT", "DGRAMS IN/OUT" };
	struct ctl_table *t = ctl_table_new(13, hdr);
	if (json_object_object_get_ex(res, "peers", &arr)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *p = json_object_array_get_idx(arr, k);
			struct ctl_peer_figures f;
			ctl_peer_figures(p, "/", &f);
			const char *row[] = { ctl_jstr(p, "peer_id"), ctl_jstr(p, "key"), ctl_jstr(p, "address"), ctl_jstr(p, "is"),
					      ctl_jstr(p, "role"), ctl_jstr(p, "state"), f.rtt, f.jitter, f.loss, f.bytes[0], f.bytes[1],
					      f.bytes[2], f.bytes[3] };
			ctl_table_row(t, row);
		}
	}
	/* On a member daemon: the session's other members, as its host announced them. */
	if (json_object_object_get_ex(res, "members", &arr)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *p = json_object_array_get_idx(arr, k);
			const char *row[] = { ctl_jstr(p, "peer_id"), ctl_jstr(p, "key"), "-", "member (via host)",
					      ctl_jstr(p, "role"), "-", "-", "-", "-", "-", "-", "-", "-" };
			ctl_table_row(t, row);
		}
	}
	ctl_table_print(t);
	ctl_table_free(t);
}

/* "peer 2 (member) 3bfc…" then the fields that are known, indented. */
static void ctl_peers_blocks(struct json_object *res)
{
	struct json_object *arr;
	unsigned shown = 0;
	if (json_object_object_get_ex(res, "peers", &arr)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *p = json_object_array_get_idx(arr, k);
			struct ctl_peer_figures f;
			ctl_peer_figures(p, " in, ", &f);
			printf("%speer %s: %s\n", shown++ ? "\n" : "", ctl_jstr(p, "peer_id"), ctl_jstr(p, "key"));
			printf("  is: %s\n", ctl_jstr(p, "is"));
			printf("  address: %s\n", ctl_jstr(p, "address"));
			printf("  role: %s\n", ctl_jstr(p, "role"));
			printf("  state: %s\n", ctl_jstr(p, "state"));
			printf("  rtt: %s, jitter %s, loss %s\n", f.rtt, f.jitter, f.loss);
			for (size_t i = 0; i < CTL_PEER_STREAMS; i++)
				printf("  %s: %s out\n", ctl_peer_streams[i], f.bytes[i]);
		}
	}
	if (json_object_object_get_ex(res, "members", &arr)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *p = json_object_array_get_idx(arr, k);
			printf("%speer %s: %s\n", shown++ ? "\n" : "", ctl_jstr(p, "peer_id"), ctl_jstr(p, "key"));
			printf("  is: member (via host)\n");
			printf("  role: %s\n", ctl_jstr(p, "role"));
		}
	}
	if (!shown)
		printf("no peers\n");
}

int ctl_cmd_peers(struct ctl_ctx *ctx, int argc, char **argv)
{
	/* --wide is ours; the rest is the common [--session S] [--json]. */
	bool wide = false;
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--wide"))
			wide = true;
		else
			argv[n++] = argv[i];
	}
	struct json_object *res, *arr;
	int r = ctl_query_session(ctx, "peers", n, argv, &res);
	if (r || !res)
		return r;
	if (wide)
		ctl_peers_wide(res);
	else
		ctl_peers_blocks(res);
	/* A joined session whose link to its host is down says why, one line each. */
	if (json_object_object_get_ex(res, "links", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *l = json_object_array_get_idx(arr, k), *e;
			if (strcmp(ctl_jstr(l, "state"), "active") && json_object_object_get_ex(l, "error", &e))
				fprintf(stderr, "session %s: no link to its host %s (%s): %s\n", ctl_jstr(l, "session"),
					ctl_jstr(l, "host"), ctl_jstr(l, "state"), json_object_get_string(e));
		}
	json_object_put(res);
	return CTL_EXIT_OK;
}
