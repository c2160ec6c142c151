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
 * The POST /offer answers of a real thetad (tokens, sessions) are tested
 * in test_web_module.c. */
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

#include "th_harness.h"
#include "th_http.h"
#include "th_loop.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_with_their_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_is_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_reaches_ops_with_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_body_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods_and_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_failures_say_why, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
