/* The web module in a real thetad (thetad/web/module.c, web_bridge.c):
 * browsers join by the invite link's token over POST /offer and a real
 * WebRTC transport (tests/lib/th_webpeer: STUN, DTLS, SCTP, DCEP over UDP,
 * standing in for Chromium), and are IPC clients of the daemon.
 *
 * - An editor's browser: CLIENT_INFO, RESYNC_REQUEST from 0 replays the
 *   log's entries (a native client's two edits, by root's key); its own
 *   CMD_SUBMIT is acknowledged (CMD_ACK) and comes back as an EVENT whose
 *   author is the browser's own key (not the host's, not root's);
 *   `thetactl web` lists it open with its name and role, `thetactl
 *   clients` lists a client of kind "browser".
 * - After the page closes its connection the daemon lets go of it; the
 *   resume secret brings the same identity back (the reply has no new
 *   secret): its next edit has the same author; the same identity from a
 *   third page closes the second; `session deny` closes it and its secret
 *   is refused (403 denied). A daemon with a browser connected stops
 *   cleanly.
 * - A viewer's browser's edit is refused: CMD_REJECT DENIED.
 * - A record on "theta-pose" that is not POSE_UPDATE drops the browser
 *   (web_protocol_drops).
 * - PRESENCE between a browser and a native client of the daemon: the
 *   browser's cursor reaches the native client as its own user's (a
 *   SPEAKING bit it claims is dropped), the native client's drag preview
 *   reaches the browser on its main channel.
 * - `thetactl invite` prints the browser link on a second line (and as
 *   web_link with --json) when [web] listen is set, with the theta://
 *   link's fp; without it one line, and `thetactl web` says it is off.
 * - Off loopback (0.0.0.0:0) the files come over HTTPS with the daemon's
 *   certificate, the one the link's fp names (another fp is refused), and
 *   the link is https://.
 * Every wait polls with a generous deadline; nothing asserts a timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "net_client.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_http.h"
#include "th_logrec.h"
#include "th_time.h"
#include "th_webd.h"
#include "th_webpeer.h"
#include "web/web_bridge.h"

#define WAIT_MS 30000
#define REC_MAX (PROTO_IPC_MAX_MSG + WEB_REC_HDR)

/* One browser: its transport and what it heard. */
struct browser {
	struct th_webpeer *w;
	int main, pose;
	char resume[65], host[65];
	uint64_t acks, rejects, events, resync_from;
	uint32_t last_reject;
	uint64_t ack_seq, ack_lamport;
	bool resynced;
	uint64_t presences; /* PRESENCE records heard */
	struct proto_ipc_presence last_presence;
	/* authors of the EVENTs heard, by lamport (the last few) */
	struct {
		uint64_t lamport;
		uint8_t author[32];
	} ev[64];
	unsigned n_ev;
};

static int teardown(void **state)
{
	(void)state;
	th_daemon_slot_release();
	return 0;
}

static void send_rec(struct browser *b, int chan, uint16_t type, const void *msg)
{
	uint8_t rec[REC_MAX];
	int n = proto_ipc_encode(type, msg, rec + WEB_REC_HDR, sizeof rec - WEB_REC_HDR);
	assert_true(n >= 0);
	rec[0] = (uint8_t)type;
	rec[1] = (uint8_t)(type >> 8);
	assert_int_equal(th_webpeer_send(b->w, (unsigned)chan, true, rec, (size_t)n + WEB_REC_HDR), 0);
}

/* Handles every record the browser has queued. */
static void drain(struct browser *b)
{
	uint8_t rec[REC_MAX];
	unsigned chan;
	bool binary;
	int n;
	while ((n = th_webpeer_recv(b->w, &chan, &binary, rec, sizeof rec)) >= 0) {
		assert_true(binary);
		assert_true(n >= (int)WEB_REC_HDR);
		uint16_t type = (uint16_t)(rec[0] | rec[1] << 8);
		union proto_ipc_any m;
		assert_int_equal(proto_ipc_decode(type, rec + WEB_REC_HDR, (size_t)n - WEB_REC_HDR, &m, NULL), 0);
		if (type == PROTO_IPC_T_POSE_UPDATE)
			assert_int_equal((int)chan, b->pose);
		else
			assert_int_equal((int)chan, b->main);
		switch (type) {
		case PROTO_IPC_T_CMD_ACK:
			b->acks++;
			b->ack_seq = m.cmd_ack.client_seq;
			b->ack_lamport = m.cmd_ack.lamport;
			break;
		case PROTO_IPC_T_CMD_REJECT:
			b->rejects++;
			b->last_reject = m.cmd_reject.reason;
			break;
		case PROTO_IPC_T_PRESENCE:
			b->presences++;
			b->last_presence = m.presence;
			break;
		case PROTO_IPC_T_RESYNC_REQUEST:
			if (m.resync_request.reason == PROTO_IPC_RESYNC_FROM) {
				b->resynced = true;
				b->resync_from = m.resync_request.next_pos;
			}
			break;
		case PROTO_IPC_T_EVENT:
			if (m.event.kind != PROTO_IPC_EVENT_LOG_ENTRY)
				break;
			b->events++;
			b->ev[b->n_ev % 64].lamport = m.event.lamport;
			assert_int_equal(m.event.author_len, 32);
			memcpy(b->ev[b->n_ev % 64].author, m.event.author, 32);
			b->n_ev++;
			break;
		default:
			break;
		}
	}
}

struct until {
	struct browser *b;
	bool (*cond)(struct browser *b, void *arg);
	void *arg;
};

static bool until_done(struct th_webpeer *w, void *arg)
{
	struct until *u = arg;
	(void)w;
	drain(u->b);
	return u->cond(u->b, u->arg);
}

static void run_until(struct browser *b, bool (*cond)(struct browser *, void *), void *arg)
{
	struct until u = { b, cond, arg };
	int r = th_webpeer_run_until(b->w, until_done, &u, WAIT_MS);
	if (r < 0)
		fail_msg("browser: %d (%s)", r, th_webpeer_error(b->w));
}

/* POST /offer with key ("token" or "resume") = secret, then the transport
 * to ready and CLIENT_INFO + RESYNC_REQUEST from 0. The reply is kept in
 * *reply when not NULL (the caller puts it). */
static void join(struct browser *b, unsigned port, const char *key, const char *secret, const char *name,
		 struct json_object **reply)
{
	memset(b, 0, sizeof *b);
	struct th_webpeer_config cfg = { 0 };
	assert_int_equal(th_webpeer_create(&cfg, &b->w), 0);
	char *body = th_webd_offer_body(key, secret, th_webpeer_offer(b->w), name);
	struct json_object *r = NULL;
	int st = th_webd_offer(port, NULL, body, strlen(body), &r);
	free(body);
	if (st != 200)
		fail_msg("offer: %d %s", st, r ? json_object_to_json_string(r) : "");
	const char *sdp = th_json_path(r, "sdp");
	assert_non_null(sdp);
	const char *res = th_json_path(r, "resume");
	if (res)
		snprintf(b->resume, sizeof b->resume, "%s", res);
	snprintf(b->host, sizeof b->host, "%s", th_json_path(r, "host"));
	assert_int_equal(th_webpeer_answer(b->w, sdp, strlen(sdp), th_now_ns()), 0);
	int rr = th_webpeer_run_until(b->w, NULL, NULL, WAIT_MS);
	if (rr < 0)
		fail_msg("transport: %d (%s)", rr, th_webpeer_error(b->w));
	b->main = th_webpeer_channel(b->w, WEB_CHAN_MAIN);
	b->pose = th_webpeer_channel(b->w, WEB_CHAN_POSE);
	assert_true(b->main >= 0 && b->pose >= 0);
	struct proto_ipc_client_info ci = { .pid = 0, .mode = PROTO_IPC_MODE_BROWSER };
	snprintf(ci.name, sizeof ci.name, "test page");
	snprintf(ci.version, sizeof ci.version, "0");
	send_rec(b, b->main, PROTO_IPC_T_CLIENT_INFO, &ci);
	struct proto_ipc_resync_request rq = { .reason = PROTO_IPC_RESYNC_CLIENT_ASKED };
	send_rec(b, b->main, PROTO_IPC_T_RESYNC_REQUEST, &rq);
	if (reply)
		*reply = r;
	else
		json_object_put(r);
}

static bool cond_events(struct browser *b, void *arg)
{
	return b->resynced && b->events >= *(uint64_t *)arg;
}

static bool cond_answered(struct browser *b, void *arg)
{
	return b->acks + b->rejects >= *(uint64_t *)arg;
}

/* The event of lamport heard: its author. */
static bool cond_event_of(struct browser *b, void *arg)
{
	for (unsigned i = 0; i < b->n_ev && i < 64; i++)
		if (b->ev[i].lamport == *(uint64_t *)arg)
			return true;
	return false;
}

static const uint8_t *author_of(struct browser *b, uint64_t lamport)
{
	for (unsigned i = 0; i < b->n_ev && i < 64; i++)
		if (b->ev[i].lamport == lamport)
			return b->ev[i].author;
	return NULL;
}

/* One component.write (as tests/lib/net_client.h's nc_submit makes it) on entity. */
static void submit(struct browser *b, uint64_t seq, uint64_t entity)
{
	uint8_t value[NC_EDIT_BYTES] = { 7 }, pl[64];
	struct th_pl_component_write w = { .component = th_component_id(TH_COMP_MESH_REF), .value = value,
					   .value_len = NC_EDIT_BYTES };
	int pn = th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &w, pl, sizeof pl);
	assert_true(pn > 0);
	struct proto_ipc_cmd_submit s = { .client_seq = seq, .nonce = 0, .cmd_type = TH_CMD_COMPONENT_WRITE,
					  .scope = entity, .payload = pl, .payload_len = (uint32_t)pn };
	send_rec(b, b->main, PROTO_IPC_T_CMD_SUBMIT, &s);
}

/* `web`'s row for name (the caller puts the answer in *all). */
static struct json_object *web_row(struct th_daemon_proc *d, const char *name, struct json_object **all)
{
	struct json_object *w = th_ctl_call(d, "{\"cmd\":\"web\",\"args\":{}}"), *list;
	*all = w;
	if (!w || !json_object_object_get_ex(w, "browsers", &list))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		if (!strcmp(th_json_path(e, "name"), name))
			return e;
	}
	return NULL;
}

static unsigned web_count(struct th_daemon_proc *d)
{
	struct json_object *w = th_ctl_call(d, "{\"cmd\":\"web\",\"args\":{}}"), *list;
	unsigned n = w && json_object_object_get_ex(w, "browsers", &list) ? (unsigned)json_object_array_length(list) : 99;
	json_object_put(w);
	return n;
}

static void test_join_edit_resume(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start(NULL, NULL, &port);
	char sid[33], link[600], token[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	/* two entries by a native client of root first */
	assert_int_equal(nc_edits(d->runtime_dir, 2, 42, 2, WAIT_MS), 2);
	struct json_object *who = th_ctl_call(d, "{\"cmd\":\"whoami\",\"args\":{}}");
	assert_non_null(who);
	char root_fpr[TH_KEY_FPR_LEN];
	snprintf(root_fpr, sizeof root_fpr, "%s", th_json_path(who, "key"));
	json_object_put(who);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, token);

	struct browser b;
	struct json_object *reply;
	join(&b, port, "token", token, "Ada", &reply);
	assert_string_equal(th_json_path(reply, "role"), "editor");
	json_object_put(reply);
	uint64_t two = 2;
	run_until(&b, cond_events, &two);
	assert_int_equal(b.resync_from, 0);
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(b.ev[0].author, fpr, sizeof fpr);
	assert_string_equal(fpr, root_fpr);

	submit(&b, 1, 42);
	uint64_t one = 1;
	run_until(&b, cond_answered, &one);
	assert_int_equal(b.rejects, 0);
	assert_int_equal(b.ack_seq, 1);
	uint64_t lam = b.ack_lamport;
	run_until(&b, cond_event_of, &lam);
	uint8_t mine[32], host[32];
	memcpy(mine, author_of(&b, lam), 32);
	assert_int_equal(th_hex_decode(b.host, 64, host, 32, true), 0);
	assert_memory_not_equal(mine, host, 32);
	th_key_fingerprint(mine, fpr, sizeof fpr);
	assert_string_not_equal(fpr, root_fpr);

	/* thetactl web and clients list it */
	struct json_object *all, *row = web_row(d, "Ada", &all);
	assert_non_null(row);
	assert_string_equal(th_json_path(row, "state"), "open");
	assert_string_equal(th_json_path(row, "role"), "editor");
	assert_string_equal(th_json_path(row, "session"), sid);
	assert_true(strlen(th_json_path(row, "address")) > 0);
	assert_true(atoll(th_json_path(row, "client")) > 0);
	assert_true(atoll(th_json_path(row, "bytes_in")) > 0 && atoll(th_json_path(row, "bytes_out")) > 0);
	json_object_put(all);
	static char out[65536], err[4096];
	const char *cl[] = { "clients", "--json", NULL };
	assert_int_equal(th_ctl(d, cl, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "\"browser\""));
	const char *wa[] = { "web", NULL };
	assert_int_equal(th_ctl(d, wa, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "Ada"));
	assert_non_null(strstr(out, "open"));
	char head[96];
	snprintf(head, sizeof head, "web: HTTP over TCP 127.0.0.1:%u, WebRTC on UDP port ", port);
	assert_memory_equal(out, head, strlen(head));
	assert_true(th_daemon_metric(d, "web_peers_open") >= 0);

	/* the page goes; the daemon lets go of it */
	th_webpeer_close(b.w);
	th_webpeer_destroy(&b.w);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (web_count(d) != 0 && th_now_ns() < end)
		usleep(20 * 1000);
	assert_int_equal(web_count(d), 0);

	/* back with its resume secret: the same identity */
	char secret[65];
	snprintf(secret, sizeof secret, "%s", b.resume);
	struct browser c;
	join(&c, port, "resume", secret, NULL, &reply);
	assert_null(th_json_path(reply, "resume"));
	assert_string_equal(th_json_path(reply, "user"), "Ada");
	json_object_put(reply);
	uint64_t three = 3;
	run_until(&c, cond_events, &three);
	submit(&c, 1, 42);
	run_until(&c, cond_answered, &one);
	assert_int_equal(c.rejects, 0);
	lam = c.ack_lamport;
	run_until(&c, cond_event_of, &lam);
	assert_memory_equal(author_of(&c, lam), mine, 32);
	/* the same identity from another page: the first page is let go */
	struct browser e;
	join(&e, port, "resume", secret, NULL, NULL);
	end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (th_webpeer_state(c.w) != TH_WP_CLOSED && th_now_ns() < end) {
		th_webpeer_step(c.w, th_now_ns());
		th_webpeer_step(e.w, th_now_ns());
		usleep(5 * 1000);
	}
	assert_int_equal(th_webpeer_state(c.w), TH_WP_CLOSED);
	assert_true(th_webpeer_ready(e.w));
	th_webpeer_destroy(&c.w);
	/* an admin denies it: the page is let go, and its secret is refused */
	const char *deny[] = { "session", "deny", "Ada", "--session", sid, NULL };
	if (th_ctl(d, deny, out, sizeof out, err, sizeof err) != 0)
		fail_msg("session deny Ada: %s", err);
	end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (th_webpeer_state(e.w) != TH_WP_CLOSED && th_now_ns() < end) {
		th_webpeer_step(e.w, th_now_ns());
		usleep(5 * 1000);
	}
	assert_int_equal(th_webpeer_state(e.w), TH_WP_CLOSED);
	th_webpeer_destroy(&e.w);
	struct th_webpeer_config wc = { 0 };
	assert_int_equal(th_webpeer_create(&wc, &e.w), 0);
	char *body = th_webd_offer_body("resume", secret, th_webpeer_offer(e.w), NULL);
	assert_int_equal(th_webd_offer(port, NULL, body, strlen(body), &reply), 403);
	free(body);
	th_webd_expect_error(reply, "denied", NULL);
	json_object_put(reply);
	/* a daemon with a browser connected stops cleanly */
	join(&c, port, "token", token, "Bea", NULL);
	int status;
	assert_int_equal(th_daemon_stop(d, SIGTERM, WAIT_MS, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* and tells that browser so (SCTP ABORT, DTLS close_notify) before it exits */
	end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (th_webpeer_state(c.w) != TH_WP_CLOSED && th_now_ns() < end) {
		th_webpeer_step(c.w, th_now_ns());
		usleep(5 * 1000);
	}
	if (th_webpeer_state(c.w) != TH_WP_CLOSED)
		fail_msg("the browser was not told the daemon stopped: state %d (%s)", (int)th_webpeer_state(c.w),
			 th_webpeer_error(c.w));
	th_webpeer_destroy(&e.w);
	th_webpeer_destroy(&c.w);
}

static void test_viewer_refused_and_bad_records(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start(NULL, NULL, &port);
	char sid[33], link[600], token[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	th_webd_invite(d, sid, "viewer", 0, false, link, sizeof link, token);
	struct browser b;
	join(&b, port, "token", token, "Vic", NULL);
	uint64_t zero = 0, one = 1;
	run_until(&b, cond_events, &zero);
	submit(&b, 1, 42);
	run_until(&b, cond_answered, &one);
	assert_int_equal(b.acks, 0);
	assert_int_equal(b.last_reject, PROTO_IPC_REJECT_DENIED);

	/* a CMD_SUBMIT on "theta-pose" drops the browser */
	long long drops = th_daemon_metric(d, "web_protocol_drops");
	uint8_t rec[REC_MAX];
	struct proto_ipc_ping p = { .seq = 1 };
	int n = proto_ipc_encode(PROTO_IPC_T_PING, &p, rec + WEB_REC_HDR, sizeof rec - WEB_REC_HDR);
	rec[0] = PROTO_IPC_T_PING;
	rec[1] = 0;
	assert_int_equal(th_webpeer_send(b.w, (unsigned)b.pose, true, rec, (size_t)n + WEB_REC_HDR), 0);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (th_webpeer_state(b.w) != TH_WP_CLOSED && th_now_ns() < end) {
		th_webpeer_step(b.w, th_now_ns());
		usleep(5 * 1000);
	}
	assert_int_equal(th_webpeer_state(b.w), TH_WP_CLOSED);
	while (th_daemon_metric(d, "web_protocol_drops") <= drops && th_now_ns() < end)
		usleep(20 * 1000);
	assert_true(th_daemon_metric(d, "web_protocol_drops") > drops);
	th_webpeer_destroy(&b.w);
}

/* The 64 hex digits after "fp=" in a browser link. */
static void link_fp(const char *link, uint8_t fp[32])
{
	const char *f = strstr(link, "&fp=");
	assert_non_null(f);
	assert_int_equal(th_hex_decode(f + 4, 64, fp, 32, true), 0);
}

static void test_invite_links_and_off(void **state)
{
	(void)state;
	static char out[8192], err[4096];
	/* off: `web` says so, invite prints the theta:// link alone */
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	char sid[33];
	th_webd_host(d, "studio", sid);
	const char *web[] = { "web", NULL };
	assert_int_equal(th_ctl(d, web, out, sizeof out, err, sizeof err), 1);
	assert_non_null(strstr(err, "the web endpoint is off: set [web] listen in thetad.conf (docs/operator.md)"));
	const char *inv[] = { "invite", sid, "--role", "viewer", NULL };
	assert_int_equal(th_ctl(d, inv, out, sizeof out, err, sizeof err), 0);
	assert_memory_equal(out, "theta://", 8);
	/* the link, and the line with its role, expiry and reuse */
	char *terms = strchr(out, '\n');
	assert_non_null(terms);
	assert_memory_equal(terms + 1, "  role viewer, expires ", strlen("  role viewer, expires "));
	assert_null(strchr(terms + 1, '\n') ? strchr(strchr(terms + 1, '\n') + 1, '\n') : NULL);
	assert_null(strstr(out, "http"));

	/* on: a second line for browsers */
	unsigned port;
	d = th_webd_start(NULL, NULL, &port);
	th_webd_host(d, "studio", sid);
	const char *inv2[] = { "invite", sid, "--role", "viewer", NULL };
	assert_int_equal(th_ctl(d, inv2, out, sizeof out, err, sizeof err), 0);
	/* theta:// link, its terms, the browser link, its terms */
	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	nl = strchr(nl + 1, '\n');
	assert_non_null(nl);
	assert_memory_equal(out, "theta://", 8);
	char want[128];
	snprintf(want, sizeof want, "http://127.0.0.1:%u/#s=%s&fp=", port, sid);
	assert_memory_equal(nl + 1, want, strlen(want));
	char *tok = strstr(nl + 1, "&token=");
	assert_non_null(tok);
	assert_int_equal(strcspn(tok + 7, "\n"), 143);
	/* the link's fp is the theta:// link's */
	char *tfp = strstr(out, "fp=");
	assert_non_null(tfp);
	assert_memory_equal(tfp + 3, strstr(nl + 1, "&fp=") + 4, 64);
	const char *invj[] = { "invite", sid, "--json", NULL };
	assert_int_equal(th_ctl(d, invj, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "\"web_link\""));
	assert_int_equal(th_ctl(d, web, out, sizeof out, err, sizeof err), 0);
	snprintf(want, sizeof want, "links start http://127.0.0.1:%u/", port);
	assert_non_null(strstr(out, want));
}

/* Off loopback the endpoint speaks HTTPS with the daemon's certificate: the
 * one whose SHA-256 the links carry. */
static void test_https_off_loopback(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start("0.0.0.0:0", NULL, &port);
	char sid[33], link[600], token[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, token);
	char want[64];
	snprintf(want, sizeof want, ":%u/#s=%s", port, sid);
	assert_memory_equal(link, "https://", 8);
	assert_non_null(strstr(link, want));
	uint8_t fp[32];
	link_fp(link, fp);
	struct th_http_reply r;
	assert_int_equal(th_https_local(port, fp, "GET", "/", &r, WAIT_MS), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<title>theta</title>"));
	th_http_reply_free(&r);
	fp[0] ^= 1;
	assert_int_equal(th_https_local(port, fp, "GET", "/", &r, WAIT_MS), -EKEYREJECTED);
	/* plain HTTP gets no page */
	int st = th_http_local(port, "GET", "/", NULL, NULL, 0, &r, WAIT_MS);
	assert_true(st < 0 || r.status != 200);
	th_http_reply_free(&r);
	struct json_object *w = th_ctl_call(d, "{\"cmd\":\"web\",\"args\":{}}");
	assert_non_null(w);
	assert_string_equal(th_json_path(w, "tls"), "true");
	assert_true(atoi(th_json_path(w, "udp_port")) > 0);
	json_object_put(w);
}

/* PRESENCE between local clients (docs/presence.md "In the daemon"): a
 * browser's cursor reaches a native client of the daemon as its own user's
 * (never a SPEAKING bit a client claims), and a native client's drag
 * preview reaches the browser on its main channel. */
struct pres_wait {
	struct nc_client *c;
	uint64_t native_heard;
	struct proto_ipc_presence native_last;
};

static void native_presence(void *ud, const struct proto_ipc_presence *p)
{
	struct pres_wait *w = ud;
	w->native_heard++;
	w->native_last = *p;
}

static bool cond_native_heard(struct browser *b, void *arg)
{
	struct pres_wait *w = arg;
	(void)b;
	assert_true(nc_poll(w->c, 0) >= 0);
	return w->native_heard > 0;
}

static bool cond_browser_heard(struct browser *b, void *arg)
{
	struct pres_wait *w = arg;
	assert_true(nc_poll(w->c, 0) >= 0);
	return b->presences > 0;
}

static void test_presence_between_a_browser_and_a_native_client(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start(NULL, NULL, &port);
	char sid[33], link[600], token[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, token);
	struct nc_client c;
	struct pres_wait w = { .c = &c };
	assert_int_equal(nc_connect(&c, d->runtime_dir, WAIT_MS), 0);
	c.on_presence = native_presence;
	c.ud = &w;
	struct browser b;
	join(&b, port, "token", token, "Ada", NULL);
	uint64_t zero = 0;
	run_until(&b, cond_events, &zero);
	struct proto_ipc_presence p = { .entity = 99, .t_ns = 1, .flags = PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_SPEAKING,
					.tool = 2, .cx = 1.5f, .rw = 1 };
	send_rec(&b, b.main, PROTO_IPC_T_PRESENCE, &p);
	run_until(&b, cond_native_heard, &w);
	assert_int_equal(w.native_last.flags, PROTO_IPC_PRES_F_CURSOR);
	assert_true(w.native_last.cx == 1.5f);
	assert_int_equal(w.native_last.tool, 2);
	assert_int_not_equal(w.native_last.entity, 99); /* the browser's user, not what it claimed */
	assert_int_not_equal(w.native_last.entity, 0);
	struct proto_ipc_presence q = { .t_ns = 2, .flags = PROTO_IPC_PRES_F_PREVIEW, .target = 42, .tx = 0.25f, .rw = 1 };
	assert_int_equal(nc_presence(&c, &q), 0);
	run_until(&b, cond_browser_heard, &w);
	assert_int_equal(b.last_presence.flags, PROTO_IPC_PRES_F_PREVIEW);
	assert_int_equal(b.last_presence.target, 42);
	assert_int_not_equal(b.last_presence.entity, 0);
	assert_int_not_equal(b.last_presence.entity, w.native_last.entity);
	nc_close(&c);
	th_webpeer_close(b.w);
	th_webpeer_destroy(&b.w);
	(void)d; /* the teardown stops it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_join_edit_resume, teardown),
		cmocka_unit_test_teardown(test_viewer_refused_and_bad_records, teardown),
		cmocka_unit_test_teardown(test_invite_links_and_off, teardown),
		cmocka_unit_test_teardown(test_https_off_loopback, teardown),
		cmocka_unit_test_teardown(test_presence_between_a_browser_and_a_native_client, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
