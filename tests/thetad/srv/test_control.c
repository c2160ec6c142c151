/* control.sock against misbehaving callers: each is answered or closed
 * cleanly and counted, and the daemon carries on. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctlproto.h"
#include "th_buf.h"
#include "th_fdpass.h"
#include "th_harness.h"

static struct th_daemon_proc D;
static char out[65536], err[65536];

static int setup(void **state)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
	setrlimit(RLIMIT_NOFILE, &rl);
	assert_int_equal(th_daemon_prepare(&D), 0);
	char conf[PATH_MAX + 16];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", D.dir);
	FILE *f = fopen(conf, "w");
	fputs("[control]\nidle_timeout = 400ms\nmax_connections = 64\n", f);
	fclose(f);
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(&D, args, NULL, NULL, 0), 0);
	return th_daemon_wait_notify(&D, "READY=1", 10000);
}

static int teardown(void **state)
{
	th_daemon_cleanup(&D);
	return 0;
}

/* Returns the reply JSON (caller puts) or NULL when the daemon closed. */
static struct json_object *roundtrip_raw(int fd, const void *bytes, size_t len)
{
	if (len)
		assert_int_equal(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
	char *reply;
	size_t rlen;
	if (ctl_recv_frame(fd, &reply, &rlen) < 0)
		return NULL;
	struct json_object *o = json_tokener_parse(reply);
	free(reply);
	return o;
}

static struct json_object *request(int fd, const char *json)
{
	uint8_t buf[4096];
	size_t n = strlen(json);
	th_put_le32(buf, (uint32_t)n);
	memcpy(buf + 4, json, n);
	return roundtrip_raw(fd, buf, n + 4);
}

static bool reply_ok(struct json_object *o)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
}

static const char *reply_error(struct json_object *o)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) : "";
}

static uint64_t metric(const char *name)
{
	const char *a[] = { "metrics", "--json", NULL };
	assert_int_equal(th_ctl(&D, a, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *m, *v;
	uint64_t x = UINT64_MAX;
	if (json_object_object_get_ex(o, name, &m) && json_object_object_get_ex(m, "value", &v))
		x = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return x;
}

static void assert_daemon_healthy(void)
{
	const char *a[] = { "status", NULL };
	assert_true(th_daemon_alive(&D));
	assert_int_equal(th_ctl(&D, a, out, sizeof(out), err, sizeof(err)), 0);
}

static bool peer_closed(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	char b;
	return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

static void test_garbage_json_gets_an_error_and_the_connection_survives(void **state)
{
	uint64_t bad = metric("control_bad_requests");
	int fd = ctl_connect(D.runtime_dir);
	assert_true(fd >= 0);
	struct json_object *o = request(fd, "{this is not json");
	assert_false(reply_ok(o));
	assert_non_null(strstr(reply_error(o), "not a JSON object"));
	json_object_put(o);
	o = request(fd, "[1,2,3]");
	assert_false(reply_ok(o));
	json_object_put(o);
	o = request(fd, "{\"cmd\": 42}");
	assert_false(reply_ok(o));
	json_object_put(o);
	o = request(fd, "{\"cmd\": \"status\", \"args\": 7}");
	assert_false(reply_ok(o));
	assert_non_null(strstr(reply_error(o), "\"args\""));
	json_object_put(o);
	o = request(fd, "{\"cmd\": \"status\"} trailing");
	assert_false(reply_ok(o));
	json_object_put(o);
	/* Same connection still works. */
	o = request(fd, "{\"cmd\": \"status\"}");
	assert_true(reply_ok(o));
	json_object_put(o);
	close(fd);
	assert_int_equal(metric("control_bad_requests"), bad + 5);
}

static void test_unknown_command_is_named(void **state)
{
	int fd = ctl_connect(D.runtime_dir);
	struct json_object *o = request(fd, "{\"cmd\": \"frobnicate\"}");
	assert_false(reply_ok(o));
	assert_string_equal(reply_error(o), "unknown command 'frobnicate'");
	json_object_put(o);
	close(fd);
}

static void test_oversized_request_is_refused_and_closed(void **state)
{
	uint64_t before = metric("control_oversized_requests");
	int fd = ctl_connect(D.runtime_dir);
	uint8_t hdr[4];
	th_put_le32(hdr, PROTO_CTL_MAX_REQUEST + 1);
	struct json_object *o = roundtrip_raw(fd, hdr, sizeof(hdr));
	assert_false(reply_ok(o));
	assert_non_null(strstr(reply_error(o), "65536"));
	json_object_put(o);
	assert_true(peer_closed(fd, 2000));
	close(fd);
	assert_int_equal(metric("control_oversized_requests"), before + 1);
	assert_daemon_healthy();
}

static void test_request_at_the_limit_is_parsed(void **state)
{
	/* A 64 KiB request: valid JSON, padded with spaces. */
	size_t n = PROTO_CTL_MAX_REQUEST;
	uint8_t *buf = malloc(n + 4);
	th_put_le32(buf, (uint32_t)n);
	memset(buf + 4, ' ', n);
	memcpy(buf + 4, "{\"cmd\":\"status\"}", 16);
	int fd = ctl_connect(D.runtime_dir);
	struct json_object *o = roundtrip_raw(fd, buf, n + 4);
	assert_true(reply_ok(o));
	json_object_put(o);
	close(fd);
	free(buf);
}

static void test_empty_frame_closes(void **state)
{
	int fd = ctl_connect(D.runtime_dir);
	uint8_t hdr[4] = { 0 };
	struct json_object *o = roundtrip_raw(fd, hdr, sizeof(hdr));
	assert_false(reply_ok(o));
	json_object_put(o);
	assert_true(peer_closed(fd, 2000));
	close(fd);
	assert_daemon_healthy();
}

static void test_half_request_then_hangup(void **state)
{
	for (int i = 0; i < 20; i++) {
		int fd = ctl_connect(D.runtime_dir);
		uint8_t buf[10];
		th_put_le32(buf, 100);
		memcpy(buf + 4, "{\"cmd\"", 6);
		assert_int_equal(send(fd, buf, i % 2 ? 10 : 2, MSG_NOSIGNAL), i % 2 ? 10 : 2);
		close(fd);
	}
	assert_daemon_healthy();
}

static void test_half_request_then_silence_times_out(void **state)
{
	uint64_t before = metric("control_idle_timeouts");
	int fd = ctl_connect(D.runtime_dir);
	uint8_t buf[8];
	th_put_le32(buf, 100);
	memcpy(buf + 4, "{\"cm", 4);
	send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
	assert_true(peer_closed(fd, 3000));
	close(fd);
	assert_int_equal(metric("control_idle_timeouts"), before + 1);
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
	int fd = ctl_connect(D.runtime_dir);
	const char *reqs[] = { "{\"cmd\":\"status\"}", "{\"cmd\":\"nope\"}", "{\"cmd\":\"log-level\"}" };
	uint8_t buf[256];
	size_t off = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(reqs[i]);
		th_put_le32(buf + off, (uint32_t)n);
		memcpy(buf + off + 4, reqs[i], n);
		off += 4 + n;
	}
	struct json_object *o = roundtrip_raw(fd, buf, off);
	assert_true(reply_ok(o));
	struct json_object *v;
	assert_true(json_object_object_get_ex(json_object_object_get(o, "result"), "pid", &v));
	json_object_put(o);
	o = roundtrip_raw(fd, NULL, 0);
	assert_false(reply_ok(o));
	json_object_put(o);
	o = roundtrip_raw(fd, NULL, 0);
	assert_true(reply_ok(o));
	assert_true(json_object_object_get_ex(json_object_object_get(o, "result"), "level", &v));
	json_object_put(o);
	close(fd);
}

/* A request frame sent in one sendmsg with n descriptors on its bytes. */
static void send_with_fds(int fd, const char *json, const int *fds, size_t n)
{
	uint8_t buf[256];
	size_t len = strlen(json);
	th_put_le32(buf, (uint32_t)len);
	memcpy(buf + 4, json, len);
	assert_int_equal(th_fdpass_send(fd, buf, len + 4, fds, n), 0);
}

static void test_passed_descriptors_are_lent_to_one_request(void **state)
{
	/* A pipe's write end with a status request: the daemon answers and
	 * closes its copy, so the pipe reaches EOF once ours is closed. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	int fd = ctl_connect(D.runtime_dir);
	assert_true(fd >= 0);
	send_with_fds(fd, "{\"cmd\":\"status\"}", &p[1], 1);
	struct json_object *o = roundtrip_raw(fd, NULL, 0);
	assert_true(reply_ok(o));
	json_object_put(o);
	close(p[1]);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 10000), 1);
	char b;
	assert_int_equal(read(p[0], &b, 1), 0);
	close(p[0]);
	/* The connection carries on. */
	o = request(fd, "{\"cmd\":\"status\"}");
	assert_true(reply_ok(o));
	json_object_put(o);
	close(fd);
}

static void test_too_many_descriptors_close_the_connection(void **state)
{
	uint64_t bad = metric("control_bad_requests");
	int p[2], q[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	int fds[3] = { p[1], q[1], p[1] };
	int fd = ctl_connect(D.runtime_dir);
	send_with_fds(fd, "{\"cmd\":\"status\"}", fds, 3);
	assert_true(peer_closed(fd, 10000));
	close(fd);
	/* Every descriptor that arrived was closed. */
	close(p[1]);
	close(q[1]);
	char b;
	assert_int_equal(read(p[0], &b, 1), 0);
	assert_int_equal(read(q[0], &b, 1), 0);
	close(p[0]);
	close(q[0]);
	assert_true(bad != UINT64_MAX);
	assert_true(metric("control_bad_requests") > bad);
	assert_daemon_healthy();
}

static void test_a_thousand_connections(void **state)
{
	enum { N = 1000 };
	static int fds[N];
	int opened = 0, answered = 0, closed = 0;
	uint64_t rejected = metric("control_connections_rejected");
	for (int i = 0; i < N; i++) {
		fds[i] = ctl_connect(D.runtime_dir);
		if (fds[i] >= 0)
			opened++;
	}
	/* Every connect either got in or was refused by the backlog. */
	const char *req = "{\"cmd\":\"status\"}";
	uint8_t buf[64];
	th_put_le32(buf, (uint32_t)strlen(req));
	memcpy(buf + 4, req, strlen(req));
	for (int i = 0; i < N; i++)
		if (fds[i] >= 0)
			send(fds[i], buf, 4 + strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT);
	for (int i = 0; i < N; i++) {
		if (fds[i] < 0)
			continue;
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		assert_int_equal(poll(&p, 1, 10000), 1); /* never left hanging */
		char *reply;
		size_t rlen;
		if (ctl_recv_frame(fds[i], &reply, &rlen) == 0) {
			assert_non_null(strstr(reply, "\"ok\":true"));
			free(reply);
			answered++;
		} else {
			closed++;
		}
		close(fds[i]);
	}
	print_message("%d connects, %d answered, %d closed by the daemon\n", opened, answered, closed);
	assert_int_equal(answered + closed, opened);
	assert_true(answered >= 64);
	assert_true(metric("control_connections_rejected") >= rejected + (uint64_t)closed);
	assert_daemon_healthy();
}

static void test_permissions_by_peer_credentials(void **state)
{
	if (!th_is_root())
		skip(); /* needs root to run thetactl as another uid */
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s/control.sock", D.runtime_dir);
	chmod(D.runtime_dir, 0755);
	chmod(D.dir, 0755);
	chmod(sock, 0666); /* let the socket's permissions through, so the daemon's own check decides */
	uint64_t denied = metric("control_denied");
	const char *st[] = { th_bin("thetactl"), "--runtime-dir", D.runtime_dir, "status", NULL };
	int rc = th_run(st, NULL, 65534, out, sizeof(out), err, sizeof(err), 10000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "needs membership of the daemon's query group"));
	const char *rl[] = { th_bin("thetactl"), "--runtime-dir", D.runtime_dir, "reload", NULL };
	rc = th_run(rl, NULL, 65534, out, sizeof(out), err, sizeof(err), 10000);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "needs root or membership of the admin group"));
	assert_int_equal(metric("control_denied"), denied + 2);
	/* root may. */
	const char *a[] = { "reload", NULL };
	assert_int_equal(th_ctl(&D, a, out, sizeof(out), err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_json_gets_an_error_and_the_connection_survives),
		cmocka_unit_test(test_unknown_command_is_named),
		cmocka_unit_test(test_oversized_request_is_refused_and_closed),
		cmocka_unit_test(test_request_at_the_limit_is_parsed),
		cmocka_unit_test(test_empty_frame_closes),
		cmocka_unit_test(test_half_request_then_hangup),
		cmocka_unit_test(test_half_request_then_silence_times_out),
		cmocka_unit_test(test_pipelined_requests_are_answered_in_order),
		cmocka_unit_test(test_passed_descriptors_are_lent_to_one_request),
		cmocka_unit_test(test_too_many_descriptors_close_the_connection),
		cmocka_unit_test(test_a_thousand_connections),
		cmocka_unit_test(test_permissions_by_peer_credentials),
	};
	return cmocka_run_group_tests_name("control socket", tests, setup, teardown);
}
