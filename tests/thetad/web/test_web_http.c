/* The web endpoint's HTTP side (thetad/web/web_http.c): libmicrohttpd on a
 * th_loop (run by a thread of the test, as thetad's loop would), a real
 * TCP socket on 127.0.0.1 and a minimal HTTP client (tests/lib/th_http.h).
 *
 * - Files: GET / is index.html as text/html; a module is text/javascript,
 *   wasm application/wasm, css text/css, all with Cache-Control:
 *   no-cache; HEAD has the headers and no body.
 * - Refused with 404 (and nothing else said): a missing file, a folder
 *   (no listing), an extension not served, "..", "%2e%2e", a dot-file,
 *   a symlink out of root (its target exists), an over-long path.
 * - POST /offer hands the body (NUL-terminated) to ops->offer with the
 *   local and remote address of the connection; its status and JSON go
 *   back. A body over WEB_HTTP_BODY_MAX is answered 400 bad_request with
 *   its sentence and never reaches ops->offer; one at the limit does.
 * - Other paths are 404 for POST, other methods 405 with a sentence.
 * - A taken port and a root that is not a folder fail web_http_create
 *   with a sentence naming them.
 * - A real thetad ([web] listen = 127.0.0.1:0, tests/lib/th_webd.h)
 *   answers POST /offer's refusals each with its status, code and
 *   sentence: not JSON, fields missing or of the wrong type, a malformed
 *   token or resume secret, an unknown secret, an SDP it cannot use
 *   (before the token: a single-use invite stays good), a single-use
 *   token used twice, a token of another key, one of this host for a
 *   session it does not host, an expired one, a body over 64 KiB; each
 *   counted under web_refused_CODE. A good offer's reply has the answer
 *   (ice-lite, passive, a host candidate on 127.0.0.1), the session, its
 *   name, the role, the name, our fingerprint (the link's fp) and the
 *   host key. [web] max_peers, one pending offer per invite and the
 *   offer rate per address are refused 429 "full" with their sentences;
 *   a reload raises max_peers; `web` lists the waiting browsers.
 * Browsers that connect are tested in test_web_module.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "id/id.h"
#include "invite.h"
#include "session.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_http.h"
#include "th_loop.h"
#include "th_time.h"
#include "th_webd.h"
#include "web/web_http.h"

#define WAIT_MS 20000

static const char INDEX[] = "<!doctype html><title>theta</title>\n";
static const char MAIN_JS[] = "export const answer = 42;\n";
static const char WASM[] = "\0asm\1\0\0\0";
static const char CSS[] = "body { margin: 0 }\n";
static const char SECRET[] = "<p>outside the root</p>\n";

struct fixture {
	char dir[80], root[160];
	struct th_loop *loop;
	struct web_http *h;
	pthread_t thread;
	atomic_bool stop;
	/* what ops->offer saw (the loop thread writes, the test reads after the reply) */
	atomic_int offers;
	char body[WEB_HTTP_BODY_MAX + 1];
	size_t body_len;
	struct sockaddr_storage local, remote;
	unsigned reply_status;
};

static void put(const char *dir, const char *name, const char *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void on_offer(void *user, const struct web_http_request *rq, struct web_http_reply *out)
{
	struct fixture *fx = user;
	assert_int_equal(rq->body[rq->len], 0);
	memcpy(fx->body, rq->body, rq->len + 1);
	fx->body_len = rq->len;
	memcpy(&fx->local, rq->local, rq->locallen);
	memcpy(&fx->remote, rq->remote, rq->remotelen);
	out->status = fx->reply_status;
	out->json = strdup("{\"sdp\":\"v=0\"}");
	atomic_fetch_add(&fx->offers, 1);
}

static const struct web_http_ops ops = { .offer = on_offer };

static void *loop_main(void *arg)
{
	struct fixture *fx = arg;
	while (!atomic_load(&fx->stop))
		th_loop_run_once(fx->loop, 20);
	return NULL;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	assert_int_equal(th_mkdtemp(fx->dir, sizeof fx->dir), 0);
	snprintf(fx->root, sizeof fx->root, "%s/root", fx->dir);
	char p[256];
	assert_int_equal(mkdir(fx->root, 0755), 0);
	snprintf(p, sizeof p, "%s/js", fx->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/wasm", fx->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/css", fx->root);
	assert_int_equal(mkdir(p, 0755), 0);
	put(fx->root, "index.html", INDEX, sizeof INDEX - 1);
	put(fx->root, "js/main.js", MAIN_JS, sizeof MAIN_JS - 1);
	put(fx->root, "wasm/theta.wasm", WASM, sizeof WASM - 1);
	put(fx->root, "css/page.css", CSS, sizeof CSS - 1);
	put(fx->root, "notes.txt", "text\n", 5);
	put(fx->root, ".hidden.js", MAIN_JS, sizeof MAIN_JS - 1);
	put(fx->dir, "secret.html", SECRET, sizeof SECRET - 1);
	char target[256];
	snprintf(target, sizeof target, "%s/secret.html", fx->dir);
	snprintf(p, sizeof p, "%s/link.html", fx->root);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(th_loop_create(&fx->loop), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct web_http_config cfg = { .addr = (struct sockaddr *)&a, .addrlen = sizeof a, .root = fx->root };
	char msg[256] = "";
	fx->reply_status = 200;
	assert_int_equal(web_http_create(fx->loop, &cfg, &ops, fx, &fx->h, msg, sizeof msg), 0);
	assert_true(web_http_port(fx->h) > 0);
	assert_int_equal(pthread_create(&fx->thread, NULL, loop_main, fx), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	atomic_store(&fx->stop, true);
	pthread_join(fx->thread, NULL);
	web_http_destroy(&fx->h);
	th_loop_destroy(&fx->loop);
	th_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void get(struct fixture *fx, const char *method, const char *path, struct th_http_reply *r)
{
	assert_int_equal(th_http_local(web_http_port(fx->h), method, path, NULL, NULL, 0, r, WAIT_MS), 0);
}

static void expect_file(struct fixture *fx, const char *path, const char *type, const char *data, size_t len)
{
	struct th_http_reply r;
	char v[128];
	get(fx, "GET", path, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(th_http_header(&r, "Content-Type", v, sizeof v), 0);
	assert_string_equal(v, type);
	assert_int_equal(th_http_header(&r, "Cache-Control", v, sizeof v), 0);
	assert_string_equal(v, "no-cache");
	assert_int_equal(r.len, len);
	assert_memory_equal(r.body, data, len);
	th_http_reply_free(&r);
}

static void test_files_with_their_types(void **state)
{
	struct fixture *fx = *state;
	expect_file(fx, "/", "text/html; charset=utf-8", INDEX, sizeof INDEX - 1);
	expect_file(fx, "/index.html", "text/html; charset=utf-8", INDEX, sizeof INDEX - 1);
	expect_file(fx, "/js/main.js", "text/javascript; charset=utf-8", MAIN_JS, sizeof MAIN_JS - 1);
	expect_file(fx, "/wasm/theta.wasm", "application/wasm", WASM, sizeof WASM - 1);
	expect_file(fx, "/css/page.css", "text/css; charset=utf-8", CSS, sizeof CSS - 1);
	struct th_http_reply r;
	char v[64];
	get(fx, "HEAD", "/js/main.js", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(th_http_header(&r, "Content-Type", v, sizeof v), 0);
	assert_string_equal(v, "text/javascript; charset=utf-8");
	assert_int_equal(th_http_header(&r, "Content-Length", v, sizeof v), 0);
	assert_int_equal(atoi(v), sizeof MAIN_JS - 1);
	assert_int_equal(r.len, 0);
	th_http_reply_free(&r);
	struct web_http_stats st;
	web_http_get_stats(fx->h, &st);
	assert_true(st.files >= 6);
}

static void expect_404(struct fixture *fx, const char *path)
{
	struct th_http_reply r;
	get(fx, "GET", path, &r);
	if (r.status != 404)
		print_error("GET %s: %d\n%s\n", path, r.status, r.body);
	assert_int_equal(r.status, 404);
	assert_null(strstr(r.body, "outside the root"));
	assert_null(strstr(r.body, "answer"));
	th_http_reply_free(&r);
}

static void test_what_is_not_served(void **state)
{
	struct fixture *fx = *state;
	char longp[400]; /* past the 256 bytes a path may have */
	expect_404(fx, "/missing.js");
	expect_404(fx, "/js");
	expect_404(fx, "/js/");
	expect_404(fx, "/notes.txt");
	expect_404(fx, "/../secret.html");
	expect_404(fx, "/js/../../secret.html");
	expect_404(fx, "/js/../index.html");
	expect_404(fx, "/%2e%2e/secret.html");
	expect_404(fx, "/js/%2E%2E/%2e%2e/secret.html");
	expect_404(fx, "/.hidden.js");
	expect_404(fx, "/link.html");
	expect_404(fx, "//index.html");
	memset(longp, 'a', sizeof longp - 6);
	longp[0] = '/';
	memcpy(longp + sizeof longp - 6, ".html", 6);
	expect_404(fx, longp);
	struct web_http_stats st;
	web_http_get_stats(fx->h, &st);
	assert_true(st.not_found >= 13);
	/* the file the symlink names is there: it is the link that is refused */
	char p[256];
	struct stat sb;
	snprintf(p, sizeof p, "%s/secret.html", fx->dir);
	assert_int_equal(stat(p, &sb), 0);
}

static void test_offer_reaches_ops_with_addresses(void **state)
{
	struct fixture *fx = *state;
	static const char body[] = "{\"token\":\"x\",\"sdp\":\"v=0\\r\\n\"}";
	struct th_http_reply r;
	fx->reply_status = 410;
	assert_int_equal(th_http_local(web_http_port(fx->h), "POST", "/offer", "application/json", body, sizeof body - 1,
				       &r, WAIT_MS),
			 0);
	assert_int_equal(r.status, 410);
	assert_string_equal(r.body, "{\"sdp\":\"v=0\"}");
	char v[64];
	assert_int_equal(th_http_header(&r, "Content-Type", v, sizeof v), 0);
	assert_string_equal(v, "application/json");
	th_http_reply_free(&r);
	assert_int_equal(atomic_load(&fx->offers), 1);
	assert_int_equal(fx->body_len, sizeof body - 1);
	assert_string_equal(fx->body, body);
	assert_int_equal(fx->local.ss_family, AF_INET);
	const struct sockaddr_in *l = (const void *)&fx->local, *rm = (const void *)&fx->remote;
	assert_int_equal(ntohl(l->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(l->sin_port), web_http_port(fx->h));
	assert_int_equal(ntohl(rm->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_true(ntohs(rm->sin_port) != 0);
}

static void test_offer_body_limit(void **state)
{
	struct fixture *fx = *state;
	char *big = malloc(WEB_HTTP_BODY_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', WEB_HTTP_BODY_MAX + 1);
	big[0] = '{';
	big[WEB_HTTP_BODY_MAX - 1] = '}';
	struct th_http_reply r;
	/* one byte over: refused, ops->offer never called */
	assert_int_equal(th_http_local(web_http_port(fx->h), "POST", "/offer", "application/json", big,
				       WEB_HTTP_BODY_MAX + 1, &r, WAIT_MS),
			 0);
	assert_int_equal(r.status, 400);
	struct json_object *o = json_tokener_parse(r.body);
	assert_non_null(o);
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, "code", &v));
	assert_string_equal(json_object_get_string(v), "bad_request");
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_string_equal(json_object_get_string(v), "The offer is larger than the daemon takes (64 KiB).");
	json_object_put(o);
	th_http_reply_free(&r);
	assert_int_equal(atomic_load(&fx->offers), 0);
	/* at the limit: taken whole */
	assert_int_equal(th_http_local(web_http_port(fx->h), "POST", "/offer", "application/json", big, WEB_HTTP_BODY_MAX,
				       &r, WAIT_MS),
			 0);
	assert_int_equal(r.status, 200);
	th_http_reply_free(&r);
	assert_int_equal(atomic_load(&fx->offers), 1);
	assert_int_equal(fx->body_len, WEB_HTTP_BODY_MAX);
	assert_memory_equal(fx->body, big, WEB_HTTP_BODY_MAX);
	free(big);
}

static void test_other_methods_and_paths(void **state)
{
	struct fixture *fx = *state;
	struct th_http_reply r;
	assert_int_equal(th_http_local(web_http_port(fx->h), "POST", "/index.html", "application/json", "{}", 2, &r,
				       WAIT_MS),
			 0);
	assert_int_equal(r.status, 404);
	th_http_reply_free(&r);
	get(fx, "PUT", "/index.html", &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.body, "The web endpoint takes GET for files and POST for /offer only."));
	th_http_reply_free(&r);
	get(fx, "DELETE", "/offer", &r);
	assert_int_equal(r.status, 405);
	th_http_reply_free(&r);
	assert_int_equal(atomic_load(&fx->offers), 0);
}

static void test_create_failures_say_why(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)web_http_port(fx->h)) };
	struct web_http_config cfg = { .addr = (struct sockaddr *)&a, .addrlen = sizeof a, .root = fx->root };
	struct th_loop *loop;
	struct web_http *h = NULL;
	char msg[256] = "", want[256];
	assert_int_equal(th_loop_create(&loop), 0);
	assert_int_equal(web_http_create(loop, &cfg, &ops, fx, &h, msg, sizeof msg), -EADDRINUSE);
	snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: Address already in use", web_http_port(fx->h));
	assert_string_equal(msg, want);
	assert_null(h);
	char file[256];
	snprintf(file, sizeof file, "%s/index.html", fx->root);
	a.sin_port = 0;
	cfg.root = file;
	assert_int_equal(web_http_create(loop, &cfg, &ops, fx, &h, msg, sizeof msg), -ENOTDIR);
	snprintf(want, sizeof want, "web.root '%s' is not a folder", file);
	assert_string_equal(msg, want);
	cfg.root = "/nonexistent/web";
	assert_int_equal(web_http_create(loop, &cfg, &ops, fx, &h, msg, sizeof msg), -ENOENT);
	assert_string_equal(msg, "web.root '/nonexistent/web' is not a folder thetad can read: No such file or directory");
	th_loop_destroy(&loop);
}


/* ---- POST /offer of a real thetad ([web] listen = 127.0.0.1:0) ------------------------ */

/* A data-channel-only offer as Chromium writes one. */
static const char OFFER[] =
	"v=0\r\n"
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"t=0 0\r\n"
	"a=group:BUNDLE 0\r\n"
	"a=extmap-allow-mixed\r\n"
	"a=msid-semantic: WMS\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:Qx7b\r\n"
	"a=ice-pwd:3kTq2W0xkzJ0ZrGb4cHq0ySd\r\n"
	"a=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 "
	"8F:2A:91:0C:5E:77:13:B4:DA:60:0E:3F:9C:21:48:E5:71:0B:AF:36:C2:8D:54:19:E0:7A:B3:6C:0D:F1:24:98\r\n"
	"a=setup:actpass\r\n"
	"a=mid:0\r\n"
	"a=sctp-port:5000\r\n"
	"a=max-message-size:262144\r\n";

static int daemon_teardown(void **state)
{
	(void)state;
	th_daemon_slot_release();
	return 0;
}

/* The offer from its own loopback source address (each its own rate bucket). */
static int offer_from(unsigned port, int n, const char *body, struct json_object **reply)
{
	char src[32];
	snprintf(src, sizeof src, "127.0.0.%d", 10 + n);
	return th_webd_offer(port, src, body, strlen(body), reply);
}

static int offer_with(unsigned port, int n, const char *key, const char *secret, const char *sdp,
		      struct json_object **reply)
{
	char *body = th_webd_offer_body(key, secret, sdp, "Ada");
	int st = offer_from(port, n, body, reply);
	free(body);
	return st;
}

static void refused(unsigned port, int n, const char *body, int status, const char *code, const char *sentence)
{
	struct json_object *r = NULL;
	int st = offer_from(port, n, body, &r);
	if (st != status)
		fail_msg("offer %d: status %d, not %d: %s", n, st, status, r ? json_object_to_json_string(r) : "(not JSON)");
	th_webd_expect_error(r, code, sentence);
	json_object_put(r);
}

static char *b64(const uint8_t *p, size_t n)
{
	char *s = malloc(sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	assert_non_null(s);
	return sodium_bin2base64(s, sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), p, n,
				 sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void test_offer_refusals(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start(NULL, NULL, &port);
	char sid[33], link[600], token[TH_WEBD_TOKEN_MAX], once[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, token);
	char want[80];
	snprintf(want, sizeof want, "http://127.0.0.1:%u/#s=%s&fp=", port, sid);
	assert_memory_equal(link, want, strlen(want));
	int n = 0;

	refused(port, n++, "{\"sdp\": ", 400, "bad_request", "The offer is not a JSON object.");
	refused(port, n++, "[1, 2]", 400, "bad_request", "The offer is not a JSON object.");
	refused(port, n++, "{\"sdp\": \"v=0\"}", 400, "bad_request",
		"The offer needs \"sdp\" and either \"token\" or \"resume\", each a string.");
	refused(port, n++, "{\"sdp\": \"v=0\", \"token\": 7}", 400, "bad_request",
		"The offer needs \"sdp\" and either \"token\" or \"resume\", each a string.");
	char *body = th_webd_offer_body("token", "abc", OFFER, "Ada");
	refused(port, n++, body, 403, "bad_token", "The invite token is malformed; copy the whole link.");
	free(body);
	body = th_webd_offer_body("resume", "00ff", OFFER, NULL);
	refused(port, n++, body, 400, "bad_request", "The resume secret is not 64 hex digits.");
	free(body);
	body = th_webd_offer_body("resume", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", OFFER, NULL);
	refused(port, n++, body, 403, "bad_token", NULL);
	free(body);

	/* A broken SDP is refused before the token is looked at: the single-use invite stays good. */
	th_webd_invite(d, sid, "editor", 0, true, link, sizeof link, once);
	struct json_object *r = NULL;
	assert_int_equal(offer_with(port, n++, "token", once, "v=0\r\ns=-\r\n", &r), 400);
	th_webd_expect_error(r, "bad_offer", NULL);
	assert_non_null(strstr(th_json_path(r, "error"), "The browser's offer cannot be used: "));
	json_object_put(r);
	assert_int_equal(offer_with(port, n++, "token", once, OFFER, &r), 200);
	assert_string_equal(th_json_path(r, "session"), sid);
	assert_string_equal(th_json_path(r, "session_name"), "studio");
	assert_string_equal(th_json_path(r, "role"), "editor");
	assert_string_equal(th_json_path(r, "user"), "Ada");
	assert_int_equal(strlen(th_json_path(r, "resume")), 64);
	assert_int_equal(strlen(th_json_path(r, "host")), 64);
	assert_int_equal(strlen(th_json_path(r, "fingerprint")), 64);
	assert_non_null(strstr(link, th_json_path(r, "fingerprint")));
	const char *sdp = th_json_path(r, "sdp");
	assert_non_null(strstr(sdp, "a=ice-lite\r\n"));
	assert_non_null(strstr(sdp, "a=setup:passive\r\n"));
	assert_non_null(strstr(sdp, "a=candidate:"));
	assert_non_null(strstr(sdp, " 127.0.0.1 "));
	json_object_put(r);
	/* used twice */
	assert_int_equal(offer_with(port, n++, "token", once, OFFER, &r), 409);
	th_webd_expect_error(r, "used", NULL);
	json_object_put(r);

	/* signed by another key */
	uint8_t raw[PROTO_INVITE_TOKEN_LEN], sid_bytes[16], pk[32], sk[64];
	struct proto_invite_token tok;
	assert_int_equal(th_hex_decode(sid, 32, sid_bytes, 16, true), 0);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(proto_invite_token_make(sid_bytes, PROTO_SESS_ROLE_EDITOR, 0, false, sk, raw, &tok), 0);
	char *t = b64(raw, sizeof raw);
	assert_int_equal(offer_with(port, n++, "token", t, OFFER, &r), 403);
	th_webd_expect_error(r, "bad_token", NULL);
	json_object_put(r);
	free(t);
	/* signed by this host, for a session it does not host */
	struct id_store *ids;
	const struct th_keypair *host;
	assert_int_equal(id_store_open(d->state_dir, &ids), 0);
	assert_int_equal(id_host_key(ids, &host), 0);
	uint8_t other[16];
	randombytes_buf(other, sizeof other);
	assert_int_equal(proto_invite_token_make(other, PROTO_SESS_ROLE_EDITOR, 0, false, host->sk, raw, &tok), 0);
	id_store_close(&ids);
	t = b64(raw, sizeof raw);
	assert_int_equal(offer_with(port, n++, "token", t, OFFER, &r), 404);
	th_webd_expect_error(r, "no_session", NULL);
	json_object_put(r);
	free(t);

	/* expired: wait for the wall clock to pass its expiry, then offer */
	char late[TH_WEBD_TOKEN_MAX];
	uint64_t issued = th_wall_ns() / TH_NS_PER_S;
	th_webd_invite(d, sid, "editor", 1, false, link, sizeof link, late);
	while (th_wall_ns() / TH_NS_PER_S <= issued + 2)
		usleep(50 * 1000);
	assert_int_equal(offer_with(port, n++, "token", late, OFFER, &r), 410);
	th_webd_expect_error(r, "expired", NULL);
	json_object_put(r);

	/* a body over 64 KiB */
	char *big = malloc(WEB_HTTP_BODY_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', WEB_HTTP_BODY_MAX + 1);
	big[0] = '{';
	big[WEB_HTTP_BODY_MAX] = '}';
	big[WEB_HTTP_BODY_MAX + 1] = 0;
	refused(port, n++, big, 400, "bad_request", "The offer is larger than the daemon takes (64 KiB).");
	free(big);

	/* each refusal counted under its code */
	assert_int_equal(th_daemon_metric(d, "web_refused_bad_request"), 5); /* the oversize one is web_http's own */
	assert_int_equal(th_daemon_metric(d, "web_refused_bad_offer"), 1);
	assert_int_equal(th_daemon_metric(d, "web_refused_bad_token"), 3);
	assert_int_equal(th_daemon_metric(d, "web_refused_used"), 1);
	assert_int_equal(th_daemon_metric(d, "web_refused_no_session"), 1);
	assert_int_equal(th_daemon_metric(d, "web_refused_expired"), 1);
	assert_int_equal(th_daemon_metric(d, "web_admitted"), 1);
	/* and the files are served by the same daemon */
	struct th_http_reply h;
	assert_int_equal(th_http_local(port, "GET", "/", NULL, NULL, 0, &h, TH_WEBD_WAIT_MS), 0);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "<title>theta</title>"));
	th_http_reply_free(&h);
}

/* [web] max_peers, one pending offer per invite, the offer rate per address. */
static void test_offer_limits(void **state)
{
	(void)state;
	unsigned port;
	struct th_daemon_proc *d = th_webd_start(NULL, "max_peers = 2\n", &port);
	char sid[33], link[600], a[TH_WEBD_TOKEN_MAX], b[TH_WEBD_TOKEN_MAX], c[TH_WEBD_TOKEN_MAX], once[TH_WEBD_TOKEN_MAX];
	th_webd_host(d, "studio", sid);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, a);
	th_webd_invite(d, sid, "viewer", 0, false, link, sizeof link, b);
	th_webd_invite(d, sid, "editor", 0, false, link, sizeof link, c);
	th_webd_invite(d, sid, "editor", 0, true, link, sizeof link, once);
	/* one address sending offers fast is slowed down: 2/s after a burst of 10 */
	struct json_object *r = NULL;
	int slowed = 0;
	for (int i = 0; i < 30 && !slowed; i++) {
		int st = th_webd_offer(port, "127.0.0.99", "{}", 2, &r);
		if (st == 429) {
			th_webd_expect_error(r, "full", "Too many offers from this address; wait a few seconds and try again.");
			slowed = 1;
		} else {
			assert_int_equal(st, 400);
		}
		json_object_put(r);
	}
	assert_true(slowed);
	assert_int_equal(offer_with(port, 0, "token", a, OFFER, &r), 200);
	json_object_put(r);
	assert_int_equal(offer_with(port, 1, "token", a, OFFER, &r), 429);
	th_webd_expect_error(r, "full", "Another page is connecting with this invite; wait for it or try again in a few seconds.");
	json_object_put(r);
	assert_int_equal(offer_with(port, 2, "token", b, OFFER, &r), 200);
	assert_string_equal(th_json_path(r, "role"), "viewer");
	json_object_put(r);
	assert_int_equal(offer_with(port, 3, "token", c, OFFER, &r), 429);
	th_webd_expect_error(r, "full", "This daemon serves as many browsers as it takes (2); try again later.");
	json_object_put(r);
	/* a single-use link refused for a full daemon is not spent by it */
	assert_int_equal(offer_with(port, 5, "token", once, OFFER, &r), 429);
	th_webd_expect_error(r, "full", "This daemon serves as many browsers as it takes (2); try again later.");
	json_object_put(r);
	/* a reload raises the bound for the next offers */
	char conf[PATH_MAX + 16], out[1024], err[1024];
	snprintf(conf, sizeof conf, "%s/thetad.conf", d->dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[web]\nlisten = \"127.0.0.1:0\"\nroot = \"%s/web\"\nmax_peers = 5\n", d->dir);
	fclose(f);
	const char *reload[] = { "reload", NULL };
	assert_int_equal(th_ctl(d, reload, out, sizeof out, err, sizeof err), 0);
	assert_int_equal(offer_with(port, 4, "token", c, OFFER, &r), 200);
	json_object_put(r);
	/* both are listed while they wait for their transport */
	struct json_object *w = th_ctl_call(d, "{\"cmd\":\"web\",\"args\":{}}"), *list;
	assert_non_null(w);
	assert_true(json_object_object_get_ex(w, "browsers", &list));
	assert_int_equal(json_object_array_length(list), 3);
	for (size_t i = 0; i < 3; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		assert_string_equal(th_json_path(e, "state"), "waiting");
		assert_string_equal(th_json_path(e, "name"), "Ada");
		assert_string_equal(th_json_path(e, "session"), sid);
	}
	json_object_put(w);
	/* the single-use link refused while full still admits once, then is used */
	assert_int_equal(offer_with(port, 6, "token", once, OFFER, &r), 200);
	assert_non_null(th_json_path(r, "resume"));
	json_object_put(r);
	assert_int_equal(offer_with(port, 7, "token", once, OFFER, &r), 409);
	assert_string_equal(th_json_path(r, "code"), "used");
	json_object_put(r);
}

/* A daemon whose [web] section cannot start exits 1 with one line saying why. */
static void start_fails(const char *web_conf, const char *want)
{
	struct th_daemon_proc *d = th_daemon_slot();
	char conf[PATH_MAX];
	assert_int_equal(th_daemon_prepare(d), 0);
	snprintf(conf, sizeof conf, "%s/thetad.conf", d->dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[web]\n%s", web_conf);
	fclose(f);
	const char *args[] = { "--config", conf, NULL };
	int status;
	assert_int_equal(th_daemon_spawn(d, args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_exit(d, TH_WEBD_WAIT_MS, &status), 0);
	const char *log = th_daemon_log(d);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !strstr(log, want))
		fail_msg("thetad with [web] %s: status %d, log without '%s':\n%s", web_conf, status, want, log);
	th_daemon_slot_release();
}

static void test_start_failures_say_why(void **state)
{
	(void)state;
	char conf[512], want[256];
	/* the TCP port taken */
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	assert_true(t >= 0 && u >= 0);
	assert_int_equal(bind(t, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(t, 1), 0);
	assert_int_equal(getsockname(t, (struct sockaddr *)&a, &alen), 0);
	snprintf(conf, sizeof conf, "listen = \"127.0.0.1:%u\"\nroot = \"/tmp\"\n", ntohs(a.sin_port));
	snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: Address already in use", ntohs(a.sin_port));
	start_fails(conf, want);
	close(t);
	/* the UDP port of a fixed listen address taken (TCP free): the message names it */
	a.sin_port = 0;
	assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof a), 0);
	alen = sizeof a;
	assert_int_equal(getsockname(u, (struct sockaddr *)&a, &alen), 0);
	snprintf(conf, sizeof conf, "listen = \"127.0.0.1:%u\"\nroot = \"/tmp\"\n", ntohs(a.sin_port));
	snprintf(want, sizeof want, "cannot bind UDP 127.0.0.1:%u for browsers' WebRTC: Address already in use",
		 ntohs(a.sin_port));
	start_fails(conf, want);
	close(u);
	/* no such root */
	start_fails("listen = \"127.0.0.1:0\"\nroot = \"/nonexistent/web\"\n",
		    "web.root '/nonexistent/web' is not a folder thetad can read: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_with_their_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_reaches_ops_with_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_body_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods_and_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_failures_say_why, setup, teardown),
		cmocka_unit_test_teardown(test_offer_refusals, daemon_teardown),
		cmocka_unit_test_teardown(test_offer_limits, daemon_teardown),
		cmocka_unit_test_teardown(test_start_failures_say_why, daemon_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
