/* Browsers against a real thetad (make bench-web): a thetad with [web]
 * listen = 127.0.0.1:0 hosts a session; browser stand-ins (tests/lib/
 * th_webpeer: real UDP, DTLS, SCTP, DCEP) join it by one invite, one after
 * the other, each from its own loopback address (the per-address offer
 * rate is not what is measured); the last one then edits. The baseline is
 * a native IPC client (tests/lib/net_client.h, memfd rings) of the same
 * daemon in the same run, its edits taking turns with the browser's (the
 * first few hundred entries of a fresh log commit slower: side by side,
 * both see the same log and disk).
 *
 *   web.join_offer_ms_{p50,p99}   POST /offer sent -> its 200 reply (TCP
 *                                 connect, token check, identity minted,
 *                                 the answer), BENCH_WEB_JOINS times
 *   web.join_open_ms_{p50,p99}    POST /offer sent -> both channels open
 *   web.join_resync_ms_p50        -> the answer to RESYNC_REQUEST from 0
 *                                 (the browser is a client of the session)
 *   web.browser_ping_ms_{p50,p99} PING -> PONG on "theta" (the transport
 *                                 and the IPC server only)
 *   web.browser_ack_ms_{p50,p99}  CMD_SUBMIT on "theta" -> its CMD_ACK
 *                                 (signed by the browser's key, durable),
 *                                 one at a time, BENCH_WEB_SUBMITS times
 *   web.native_ack_ms_{p50,p99}   baseline: the same from a native client,
 *                                 each right after the browser's
 *   web.browser_vs_native_ack     browser p50 over native p50 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc.h"
#include "net_client.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_http.h"
#include "th_time.h"
#include "th_webpeer.h"
#include "web/web_bridge.h"

#define WAIT_MS 30000
#define REC_MAX (PROTO_IPC_MAX_MSG + WEB_REC_HDR)
#define JOINS_DEFAULT 20u
#define SUBMITS_DEFAULT 300u
#define ENTITY 42u

static struct th_daemon_proc D;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_web_join: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	if (D.pid > 0)
		fprintf(stderr, "%s\n", th_daemon_log(&D));
	th_daemon_cleanup(&D);
	exit(1);
}

struct browser {
	struct th_webpeer *w;
	int main;
	bool resynced;
	uint64_t acks, rejects, pongs;
};

static void send_rec(struct browser *b, uint16_t type, const void *msg)
{
	uint8_t rec[REC_MAX];
	int n = proto_ipc_encode(type, msg, rec + WEB_REC_HDR, sizeof rec - WEB_REC_HDR);
	if (n < 0)
		die("encode", NULL);
	rec[0] = (uint8_t)type;
	rec[1] = (uint8_t)(type >> 8);
	if (th_webpeer_send(b->w, (unsigned)b->main, true, rec, (size_t)n + WEB_REC_HDR) < 0)
		die("send on theta", th_webpeer_error(b->w));
}

static bool drain(struct th_webpeer *w, void *arg)
{
	struct browser *b = arg;
	uint8_t rec[REC_MAX];
	unsigned chan;
	bool binary;
	int n;
	while ((n = th_webpeer_recv(w, &chan, &binary, rec, sizeof rec)) >= (int)WEB_REC_HDR) {
		uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
		union proto_ipc_any m;
		if (proto_ipc_decode(type, rec + WEB_REC_HDR, (size_t)n - WEB_REC_HDR, &m, NULL) < 0)
			die("a record from the daemon does not decode", NULL);
		if (type == PROTO_IPC_T_CMD_ACK)
			b->acks++;
		else if (type == PROTO_IPC_T_PONG)
			b->pongs++;
		else if (type == PROTO_IPC_T_CMD_REJECT)
			b->rejects++;
		else if (type == PROTO_IPC_T_RESYNC_REQUEST && m.resync_request.reason == PROTO_IPC_RESYNC_FROM)
			b->resynced = true;
	}
	return false;
}

static uint64_t want_acks;
static bool acked(struct th_webpeer *w, void *arg)
{
	struct browser *b = arg;
	drain(w, b);
	if (b->rejects)
		die("the daemon refused the browser's edit", NULL);
	return b->acks >= want_acks;
}

static bool ponged(struct th_webpeer *w, void *arg)
{
	struct browser *b = arg;
	drain(w, b);
	return b->pongs >= want_acks;
}

static bool resynced(struct th_webpeer *w, void *arg)
{
	drain(w, arg);
	return ((struct browser *)arg)->resynced;
}

static int make_payload(uint8_t *pl, size_t cap)
{
	uint8_t value[NC_EDIT_BYTES] = { 1 };
	struct th_pl_component_write cw = { .component = th_component_id(TH_COMP_MESH_REF), .value = value,
					    .value_len = NC_EDIT_BYTES };
	return th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &cw, pl, cap);
}

/* One join from 127.0.0.(10 + i % 200): the three times. */
static void join(struct browser *b, unsigned port, const char *token, unsigned i, uint64_t t[3])
{
	memset(b, 0, sizeof *b);
	struct th_webpeer_config cfg = { 0 };
	if (th_webpeer_create(&cfg, &b->w) < 0)
		die("th_webpeer_create", NULL);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "sdp", json_object_new_string(th_webpeer_offer(b->w)));
	json_object_object_add(o, "name", json_object_new_string("bench"));
	const char *body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK + 10 + i % 200) };
	struct th_http_reply r;
	uint64_t t0 = th_now_ns();
	if (th_http_request((struct sockaddr *)&to, sizeof to, (struct sockaddr *)&from, "POST", "/offer",
			    "application/json", body, strlen(body), &r, WAIT_MS) < 0 ||
	    r.status != 200)
		die("POST /offer", r.body);
	t[0] = th_now_ns() - t0;
	json_object_put(o);
	struct json_object *rep = json_tokener_parse(r.body);
	const char *sdp = rep ? th_json_path(rep, "sdp") : NULL;
	if (!sdp || th_webpeer_answer(b->w, sdp, strlen(sdp), th_now_ns()) < 0)
		die("the answer", th_webpeer_error(b->w));
	json_object_put(rep);
	th_http_reply_free(&r);
	if (th_webpeer_run_until(b->w, NULL, NULL, WAIT_MS) < 0)
		die("the transport did not open", th_webpeer_error(b->w));
	t[1] = th_now_ns() - t0;
	b->main = th_webpeer_channel(b->w, WEB_CHAN_MAIN);
	struct proto_ipc_client_info ci = { .mode = PROTO_IPC_MODE_BROWSER };
	snprintf(ci.name, sizeof ci.name, "bench");
	send_rec(b, PROTO_IPC_T_CLIENT_INFO, &ci);
	struct proto_ipc_resync_request rq = { .reason = PROTO_IPC_RESYNC_CLIENT_ASKED };
	send_rec(b, PROTO_IPC_T_RESYNC_REQUEST, &rq);
	if (th_webpeer_run_until(b->w, resynced, b, WAIT_MS) < 0)
		die("no answer to RESYNC_REQUEST", th_webpeer_error(b->w));
	t[2] = th_now_ns() - t0;
}

static unsigned env_n(const char *name, unsigned def, unsigned max)
{
	const char *e = getenv(name);
	return e && atoi(e) > 0 && (unsigned)atoi(e) <= max ? (unsigned)atoi(e) : def;
}

int main(void)
{
	unsigned joins = env_n("BENCH_WEB_JOINS", JOINS_DEFAULT, 1000), submits = env_n("BENCH_WEB_SUBMITS", SUBMITS_DEFAULT, 100000);
	if (th_daemon_prepare(&D) < 0)
		die("cannot prepare a daemon", NULL);
	char root[PATH_MAX], conf[PATH_MAX], p[PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/web", D.dir);
	snprintf(p, sizeof p, "%s/index.html", root);
	snprintf(conf, sizeof conf, "%s/thetad.conf", D.dir);
	FILE *f;
	if (mkdir(root, 0755) < 0 || !(f = fopen(p, "w")))
		die("cannot write the web root", NULL);
	fputs("<!doctype html>\n", f);
	fclose(f);
	if (!(f = fopen(conf, "w")))
		die("cannot write thetad.conf", NULL);
	fprintf(f, "[web]\nlisten = \"127.0.0.1:0\"\nroot = \"%s\"\nmax_peers = 1024\n", root);
	fclose(f);
	const char *args[] = { "--config", conf, NULL };
	if (th_daemon_spawn(&D, args, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&D, "READY=1", WAIT_MS) < 0)
		die("thetad did not start", NULL);
	struct json_object *w = th_ctl_call(&D, "{\"cmd\":\"web\",\"args\":{}}");
	unsigned port = w && th_json_path(w, "http_port") ? (unsigned)atoi(th_json_path(w, "http_port")) : 0;
	json_object_put(w);
	struct json_object *h = th_ctl_call(&D, "{\"cmd\":\"session_host\",\"args\":{\"name\":\"bench\"}}");
	char sid[33] = "", req[256];
	if (h && th_json_path(h, "session"))
		snprintf(sid, sizeof sid, "%s", th_json_path(h, "session"));
	json_object_put(h);
	snprintf(req, sizeof req, "{\"cmd\":\"invite\",\"args\":{\"session\":\"%s\",\"role\":\"editor\"}}", sid);
	struct json_object *inv = th_ctl_call(&D, req);
	const char *link = inv ? th_json_path(inv, "web_link") : NULL, *tok = link ? strstr(link, "&token=") : NULL;
	if (!port || !sid[0] || !tok)
		die("no web endpoint, session or invite", NULL);
	char token[200];
	snprintf(token, sizeof token, "%s", tok + 7);
	json_object_put(inv);

	uint64_t *offer = calloc(joins, sizeof *offer), *open = calloc(joins, sizeof *open),
		 *resync = calloc(joins, sizeof *resync);
	struct browser b;
	for (unsigned i = 0; i < joins; i++) {
		uint64_t t[3];
		join(&b, port, token, i, t);
		offer[i] = t[0];
		open[i] = t[1];
		resync[i] = t[2];
		if (i + 1 < joins) {
			th_webpeer_close(b.w);
			th_webpeer_destroy(&b.w);
		}
	}
	th_bench_figure("web.join_offer_ms_p50", th_bench_pct_u64(offer, joins, 0.5) / 1e6, "ms");
	th_bench_figure("web.join_offer_ms_p99", th_bench_pct_u64(offer, joins, 0.99) / 1e6, "ms");
	th_bench_figure("web.join_open_ms_p50", th_bench_pct_u64(open, joins, 0.5) / 1e6, "ms");
	th_bench_figure("web.join_open_ms_p99", th_bench_pct_u64(open, joins, 0.99) / 1e6, "ms");
	th_bench_figure("web.join_resync_ms_p50", th_bench_pct_u64(resync, joins, 0.5) / 1e6, "ms");

	/* PING -> PONG on "theta": the transport and the IPC server, nothing durable */
	uint64_t *ping = calloc(submits, sizeof *ping);
	for (unsigned i = 0; i < submits; i++) {
		struct proto_ipc_ping pg = { .seq = i + 1, .send_ns = th_now_ns() };
		uint64_t t0 = th_now_ns();
		send_rec(&b, PROTO_IPC_T_PING, &pg);
		want_acks = i + 1;
		if (th_webpeer_run_until(b.w, ponged, &b, WAIT_MS) < 0)
			die("no PONG for the browser", th_webpeer_error(b.w));
		ping[i] = th_now_ns() - t0;
	}
	th_bench_figure("web.browser_ping_ms_p50", th_bench_pct_u64(ping, submits, 0.5) / 1e6, "ms");
	th_bench_figure("web.browser_ping_ms_p99", th_bench_pct_u64(ping, submits, 0.99) / 1e6, "ms");
	free(ping);

	/* edits, one at a time: the browser, then a native client */
	uint8_t pl[64];
	int pn = make_payload(pl, sizeof pl);
	uint64_t *ack = calloc(submits, sizeof *ack), *nat = calloc(submits, sizeof *nat);
	/* edits one at a time, the browser's and a native client's taking turns
	 * (the same log, the same disk, the same moment) */
	struct nc_client c;
	if (nc_connect(&c, D.runtime_dir, WAIT_MS) < 0)
		die("the native client cannot connect", NULL);
	for (unsigned i = 0; i < submits; i++) {
		struct proto_ipc_cmd_submit s = { .client_seq = i + 1, .cmd_type = TH_CMD_COMPONENT_WRITE, .scope = ENTITY,
						  .payload = pl, .payload_len = (uint32_t)pn };
		uint64_t t0 = th_now_ns();
		send_rec(&b, PROTO_IPC_T_CMD_SUBMIT, &s);
		want_acks = i + 1;
		if (th_webpeer_run_until(b.w, acked, &b, WAIT_MS) < 0)
			die("no CMD_ACK for the browser", th_webpeer_error(b.w));
		ack[i] = th_now_ns() - t0;
		uint64_t before = c.acks, end;
		t0 = th_now_ns();
		end = t0 + (uint64_t)WAIT_MS * TH_NS_PER_MS;
		if (nc_submit_raw(&c, TH_CMD_COMPONENT_WRITE, ENTITY, pl, (uint32_t)pn) < 0)
			die("native submit", NULL);
		while (c.acks == before && c.rejects == 0 && th_now_ns() < end)
			if (nc_poll(&c, 100) < 0)
				die("the native client lost the daemon", NULL);
		if (c.acks == before)
			die("no CMD_ACK for the native client", c.last_reject);
		nat[i] = th_now_ns() - t0;
	}
	nc_close(&c);
	double bp50 = th_bench_pct_u64(ack, submits, 0.5) / 1e6, np50 = th_bench_pct_u64(nat, submits, 0.5) / 1e6;
	th_bench_figure("web.browser_ack_ms_p50", bp50, "ms");
	th_bench_figure("web.browser_ack_ms_p99", th_bench_pct_u64(ack, submits, 0.99) / 1e6, "ms");
	th_bench_figure("web.native_ack_ms_p50", np50, "ms");
	th_bench_figure("web.native_ack_ms_p99", th_bench_pct_u64(nat, submits, 0.99) / 1e6, "ms");
	th_bench_figure("web.browser_vs_native_ack", np50 > 0 ? bp50 / np50 : 0, "x");
	th_webpeer_close(b.w);
	th_webpeer_destroy(&b.w);
	free(offer);
	free(open);
	free(resync);
	free(ack);
	free(nat);
	int st;
	th_daemon_stop(&D, SIGTERM, WAIT_MS, &st);
	th_daemon_cleanup(&D);
	return 0;
}
