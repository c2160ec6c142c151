/* Assets between daemons, as real processes on loopback (docs/network.md
 * "Assets"): a host puts a 4 MiB asset and its member gets it
 * byte-identical; a member puts one and the host and a second member get
 * it; a member killed with SIGKILL in the middle of a download (the link
 * rate-limited by the impairment layer so that it is still going) resumes
 * after its restart from the length of its .part, re-receiving fewer bytes
 * than the whole; corrupted chunks are refused by the hash check and never
 * published; an upload whose bytes do not match the hash it claimed is
 * refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include "ctl.h"
#include "asset_fixture.h"
#include "net_fixture.h"
#include "session.h"

#define MiB (1024u * 1024u)


/* state ("complete", "partial", "missing", "" when unknown) and have of an
 * asset in d's session. */
static const char *asset_state(struct nf_daemon *d, const char *session, const char *hex, uint64_t *have)
{
	static char st[32];
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "assets", "--session", session, "--json", NULL });
	struct json_object *arr, *v;
	st[0] = 0;
	if (have)
		*have = 0;
	if (!r)
		return st;
	if (json_object_object_get_ex(r, "assets", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *a = json_object_array_get_idx(arr, k);
			if (!json_object_object_get_ex(a, "hash", &v) || strcmp(json_object_get_string(v), hex))
				continue;
			json_object_object_get_ex(a, "state", &v);
			snprintf(st, sizeof(st), "%s", json_object_get_string(v));
			if (have && json_object_object_get_ex(a, "have", &v))
				*have = (uint64_t)json_object_get_int64(v);
		}
	json_object_put(r);
	return st;
}

static int wait_state(struct nf_daemon *d, const char *session, const char *hex, const char *want, int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	while (strcmp(asset_state(d, session, hex, NULL), want)) {
		if (th_now_ns() >= end) {
			fprintf(stderr, "asset %.16s is '%s', not '%s'; the daemon's log:\n%s\n", hex,
				asset_state(d, session, hex, NULL), want, th_daemon_log(&d->p));
			return -ETIMEDOUT;
		}
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	return 0;
}

static void put(struct nf_daemon *d, const char *session, const char *path)
{
	int rc = nf_ctl(d, (const char *const[]){ "asset", "put", path, "--session", session, NULL });
	if (rc)
		fprintf(stderr, "asset put: %s\n", nf_err);
	assert_int_equal(rc, 0);
}

static void get_and_compare(struct nf_daemon *d, const char *session, const char *hex, const char *orig)
{
	char out[300];
	snprintf(out, sizeof(out), "%s/out-%.8s-%d", tmpdir, hex, (int)d->port);
	int rc = nf_ctl(d, (const char *const[]){ "asset", "get", hex, out, "--session", session, NULL });
	if (rc)
		fprintf(stderr, "asset get: %s\n", nf_err);
	assert_int_equal(rc, 0);
	assert_true(same_file(out, orig));
	unlink(out);
}

static void a_host_asset_reaches_its_member_byte_identical(void **state)
{
	struct nf_daemon a, b;
	char id[33], path[256], hex[65];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "gallery", id);
	nf_invite_join(&a, &b, id, "viewer"); /* viewers receive assets too */
	make_file("statue.glb", 4 * MiB, 1, path, hex);
	put(&a, id, path);
	assert_string_equal(asset_state(&a, id, hex, NULL), "complete");
	assert_int_equal(wait_state(&b, id, hex, "complete", 10000), 0);
	get_and_compare(&b, id, hex, path);
	get_and_compare(&a, id, hex, path);
	assert_int_equal(nf_metric(&b, "net_asset_bytes_in"), 4 * MiB);
	assert_int_equal(nf_metric(&a, "net_asset_bytes_out"), 4 * MiB);
	assert_int_equal(nf_metric(&b, "net_asset_completed"), 1);
	assert_int_equal(nf_metric(&b, "net_asset_failures"), 0);
	/* the member's copy sits in its store under the hash, no .part left */
	char p[4200];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/sessions/%s/assets/%s", b.p.state_dir, id, hex);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_size, 4 * MiB);
	strcat(p, ".part");
	assert_int_not_equal(stat(p, &sb), 0);
	/* a second put of the same file moves nothing again */
	put(&a, id, path);
	th_sleep_ns(200 * TH_NS_PER_MS);
	assert_int_equal(nf_metric(&a, "net_asset_bytes_out"), 4 * MiB);
	/* the table view */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "assets", "--session", id, NULL }), 0);
	assert_non_null(strstr(nf_out, "statue.glb"));
	assert_non_null(strstr(nf_out, "complete"));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_member_upload_reaches_the_host_and_the_other_members(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], path[256], hex[65];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_start(&c, NULL, NULL);
	nf_host(&a, "workshop", id);
	nf_invite_join(&a, &b, id, "editor");
	nf_invite_join(&a, &c, id, "viewer");
	make_file("chair.obj", 1 * MiB + 12345, 2, path, hex);
	put(&b, id, path);
	assert_int_equal(wait_state(&a, id, hex, "complete", 10000), 0);
	assert_int_equal(wait_state(&c, id, hex, "complete", 10000), 0);
	get_and_compare(&a, id, hex, path);
	get_and_compare(&c, id, hex, path);
	/* the host received it once and passed it on once */
	assert_int_equal(nf_metric(&a, "net_asset_bytes_in"), 1 * MiB + 12345);
	assert_int_equal(nf_metric(&a, "net_asset_bytes_out"), 1 * MiB + 12345);

	/* a viewer's upload stays with the viewer: the host takes no uploads
	 * from it */
	char path2[256], hex2[65];
	make_file("doodle.png", 50000, 3, path2, hex2);
	assert_int_equal(nf_ctl(&c, (const char *const[]){ "asset", "put", path2, "--session", id, NULL }), 0);
	assert_non_null(strstr(nf_out, "viewer"));
	th_sleep_ns(500 * TH_NS_PER_MS);
	assert_string_equal(asset_state(&c, id, hex2, NULL), "complete");
	assert_string_equal(asset_state(&a, id, hex2, NULL), "");
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

static void a_download_cut_by_sigkill_resumes_from_the_part_after_restart(void **state)
{
	struct nf_daemon a, b;
	char id[33], path[256], hex[65];
	const size_t size = 6 * MiB;
	nf_start(&a, NULL, NULL);
	/* 24 Mbit/s each way: the download takes about two seconds */
	nf_start(&b, (const char *const[]){ "--impair", "rate=24M", NULL }, NULL);
	nf_host(&a, "studio", id);
	nf_invite_join(&a, &b, id, "editor");
	make_file("scene.glb", size, 4, path, hex);
	put(&a, id, path);
	uint64_t have = 0, end = th_now_ns() + 20 * TH_NS_PER_S;
	while ((strcmp(asset_state(&b, id, hex, &have), "partial") || have < size / 5) && th_now_ns() < end)
		th_sleep_ns(10 * TH_NS_PER_MS);
	assert_string_equal(asset_state(&b, id, hex, &have), "partial");
	assert_true(have >= size / 5 && have < size);
	nf_kill(&b, SIGKILL);

	/* restarted without the rate limit; it rejoins by itself */
	b.args[2] = NULL;
	assert_int_equal(nf_spawn(&b), 0);
	assert_int_equal(wait_state(&b, id, hex, "complete", 15000), 0);
	get_and_compare(&b, id, hex, path);
	assert_int_equal(nf_metric(&b, "net_asset_resumes"), 1);
	/* after the restart only what the .part lacked came again */
	uint64_t again = nf_metric(&b, "net_asset_bytes_in");
	fprintf(stderr, "# killed with %llu of %zu bytes in the .part; %llu received after the restart\n",
		(unsigned long long)have, size, (unsigned long long)again);
	assert_true(again < size);
	assert_true(again <= size - have);
	assert_non_null(strstr(th_daemon_log(&b.p), "resuming asset"));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void corrupted_chunks_never_become_an_asset(void **state)
{
	struct nf_daemon a, b;
	char id[33], path[256], hex[65], p[4200];
	struct stat sb;
	/* this host flips a bit in the first chunk of everything it sends */
	nf_start(&a, NULL, (const char *const[]){ "THETAD_TEST_ASSET_CORRUPT=1", NULL });
	nf_start(&b, NULL, NULL);
	nf_host(&a, "tampered", id);
	nf_invite_join(&a, &b, id, "editor");
	make_file("bad.bin", 300000, 5, path, hex);
	put(&a, id, path);
	/* every try fails the hash check; the member gives up after the last */
	uint64_t end = th_now_ns() + 15 * TH_NS_PER_S;
	while (nf_metric(&b, "net_asset_failures") < 3 && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_int_equal(nf_metric(&b, "net_asset_failures"), 3);
	assert_int_equal(nf_metric(&b, "net_asset_completed"), 0);
	assert_string_equal(asset_state(&b, id, hex, NULL), "missing");
	snprintf(p, sizeof(p), "%s/sessions/%s/assets/%s", b.p.state_dir, id, hex);
	assert_int_not_equal(stat(p, &sb), 0);
	assert_non_null(strstr(th_daemon_log(&b.p), "do not match its SHA-256"));
	char out[300];
	snprintf(out, sizeof(out), "%s/never", tmpdir);
	assert_int_not_equal(nf_ctl(&b, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }), 0);
	assert_int_not_equal(stat(out, &sb), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* One raw control request; returns the reply (caller puts). */
static struct json_object *raw_call(struct nf_daemon *d, const char *json)
{
	int fd = ctl_connect(d->p.runtime_dir);
	char *reply = NULL;
	size_t len;
	assert_true(fd >= 0);
	assert_int_equal(ctl_send_frame(fd, json, strlen(json)), 0);
	assert_int_equal(ctl_recv_frame(fd, &reply, &len), 0);
	close(fd);
	struct json_object *o = json_tokener_parse(reply);
	free(reply);
	assert_non_null(o);
	return o;
}

static void an_upload_that_does_not_match_its_hash_is_refused(void **state)
{
	struct nf_daemon a;
	char id[33], json[512];
	struct json_object *o, *v;
	nf_start(&a, NULL, NULL);
	nf_host(&a, "solo", id);
	/* claims the SHA-256 of "hello", sends "jello" */
	const char *hello_hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
	snprintf(json, sizeof(json),
		 "{\"cmd\":\"asset_begin\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\",\"size\":5,\"name\":\"h\"}}", id,
		 hello_hex);
	o = raw_call(&a, json);
	assert_true(json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v));
	json_object_put(o);
	snprintf(json, sizeof(json),
		 "{\"cmd\":\"asset_chunk\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\",\"offset\":0,\"data\":\"amVsbG8=\"}}",
		 id, hello_hex);
	o = raw_call(&a, json);
	assert_true(json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v));
	json_object_put(o);
	snprintf(json, sizeof(json), "{\"cmd\":\"asset_end\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\"}}", id,
		 hello_hex);
	o = raw_call(&a, json);
	assert_true(json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_non_null(strstr(json_object_get_string(v), "do not hash to"));
	json_object_put(o);
	assert_string_equal(asset_state(&a, id, hello_hex, NULL), "missing");
	/* an offset past what the daemon has is refused, not a hole */
	snprintf(json, sizeof(json),
		 "{\"cmd\":\"asset_chunk\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\",\"offset\":2,\"data\":\"bGxv\"}}",
		 id, hello_hex);
	o = raw_call(&a, json);
	assert_true(json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	json_object_put(o);
	/* the right bytes are taken */
	snprintf(json, sizeof(json),
		 "{\"cmd\":\"asset_chunk\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\",\"offset\":0,\"data\":\"aGVsbG8=\"}}",
		 id, hello_hex);
	json_object_put(raw_call(&a, json));
	snprintf(json, sizeof(json), "{\"cmd\":\"asset_end\",\"args\":{\"session\":\"%s\",\"hash\":\"%s\"}}", id,
		 hello_hex);
	o = raw_call(&a, json);
	assert_true(json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v));
	json_object_put(o);
	assert_string_equal(asset_state(&a, id, hello_hex, NULL), "complete");
	nf_cleanup(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_host_asset_reaches_its_member_byte_identical, nf_teardown),
		cmocka_unit_test_teardown(a_member_upload_reaches_the_host_and_the_other_members, nf_teardown),
		cmocka_unit_test_teardown(a_download_cut_by_sigkill_resumes_from_the_part_after_restart, nf_teardown),
		cmocka_unit_test_teardown(corrupted_chunks_never_become_an_asset, nf_teardown),
		cmocka_unit_test_teardown(an_upload_that_does_not_match_its_hash_is_refused, nf_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
