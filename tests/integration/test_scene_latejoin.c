/* Verified late join with real daemons on loopback (docs/network.md "Late
 * join"): a host with a few thousand scene edits (mesh.create, mesh.patch,
 * component.write through client.sock) and checkpoints written; a member
 * that joins installs the host's signed checkpoint (its `scene` shows the
 * host's world hash, net_snap_installed counts it, its log says so), and
 * the log's catch-up still brings the whole history (same count, `thetactl
 * log verify` passes, `sessions` says ready). A checkpoint with a bad
 * signature or a scene that does not match what the host signed is refused
 * with one log line and the member gets the same world from the log alone
 * (those hosts have written no checkpoint file: they offer their live scene);
 * so does a member with checkpoints switched off (THETAD_JOIN_SNAPSHOT=0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nc_scene.h"
#include "net_fixture.h"

#define LJ_MESHES 40u
#define LJ_QUADS 8u
#define LJ_EDITS 3000u
#define LJ_MORE 100u /* edits after the checkpoint (< scene.checkpoint_entries) */
#define LJ_RATE "1M" /* bits/s into the member (net.impair) */
#define LJ_CONF "[clog]\nrate_per_s = 100000\nrate_burst = 100000\n"
/* ... and no checkpoint file within the test: the host offers its live scene */
#define LJ_CONF_LIVE LJ_CONF "[scene]\ncheckpoint_entries = 1000000\n"

static char conf_dir[64], conf_path[128], conf_live[128];

static void write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	assert_int_equal(th_mkdtemp(conf_dir, sizeof(conf_dir)), 0);
	snprintf(conf_path, sizeof(conf_path), "%s/thetad.conf", conf_dir);
	snprintf(conf_live, sizeof(conf_live), "%s/live.conf", conf_dir);
	write_conf(conf_path, LJ_CONF);
	write_conf(conf_live, LJ_CONF_LIVE);
	return 0;
}

static int teardown(void **state)
{
	th_rm_rf(conf_dir);
	return 0;
}

/* `thetactl scene --session S --json` on d; NULL while it has no scene to show. */
static struct json_object *scene_of(struct nf_daemon *d, const char *session)
{
	return nf_ctl_json(d, (const char *const[]){ "scene", "--session", session, "--json", NULL });
}

/* The world hash `scene` reports (into out[65]); false while none. */
static bool world_hash(struct nf_daemon *d, const char *session, char out[65], uint64_t *pos)
{
	struct json_object *o = scene_of(d, session), *v;
	bool ok = o && json_object_object_get_ex(o, "world_hash", &v) && json_object_is_type(v, json_type_string);
	if (ok)
		snprintf(out, 65, "%s", json_object_get_string(v));
	if (ok && pos && json_object_object_get_ex(o, "log_position", &v))
		*pos = json_object_get_uint64(v);
	json_object_put(o);
	return ok;
}

/* The row of `sessions --json` for session (a new reference), or NULL. */
static struct json_object *session_row(struct nf_daemon *d, const char *session)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "sessions", "--json", NULL }), *arr, *v, *row = NULL;
	if (r && json_object_object_get_ex(r, "sessions", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *s = json_object_array_get_idx(arr, k);
			if (json_object_object_get_ex(s, "id", &v) && !strcmp(json_object_get_string(v), session))
				row = json_object_get(s);
		}
	json_object_put(r);
	return row;
}

static long long entries_of(struct nf_daemon *d, const char *session)
{
	struct json_object *row = session_row(d, session), *v;
	long long n = row && json_object_object_get_ex(row, "entries", &v) ? json_object_get_int64(v) : -1;
	json_object_put(row);
	return n;
}

/* A host with the history, its scene folded to the end of the log and (ckpt)
 * a checkpoint file of it written, or (!ckpt) none; its world hash into hash[65]. */
static void host_with_history(struct nf_daemon *a, bool ckpt, const char *const *env, char id[33], char hash[65])
{
	nf_start(a, (const char *const[]){ "--config", ckpt ? conf_path : conf_live, NULL }, env);
	nf_host(a, "studio", id);
	int64_t refused = ncs_history(a->p.runtime_dir, LJ_MESHES, LJ_QUADS, LJ_EDITS, 512, NF_WAIT_MS);
	if (refused != 0)
		fprintf(stderr, "history: %lld (%s)\n%s\n", (long long)refused, refused < 0 ? strerror((int)-refused) : "refused",
			th_daemon_log(&a->p));
	assert_int_equal(refused, 0);
	uint64_t end = th_now_ns() + (uint64_t)NF_WAIT_MS * TH_NS_PER_MS;
	for (;;) {
		struct json_object *o = scene_of(a, id), *v, *cp;
		bool done = o && json_object_object_get_ex(o, "log_position", &v) && json_object_get_uint64(v) == LJ_EDITS &&
			    json_object_object_get_ex(o, "checkpoint", &cp) &&
			    json_object_is_type(cp, json_type_object) == ckpt && json_object_object_get_ex(o, "world_hash", &v);
		if (done)
			snprintf(hash, 65, "%s", json_object_get_string(v));
		json_object_put(o);
		if (done)
			break;
		assert_true(th_now_ns() < end);
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	/* the history built a real scene: strips, their faces, nothing refused */
	struct json_object *o = scene_of(a, id), *v;
	assert_true(json_object_object_get_ex(o, "meshes", &v));
	assert_int_equal(json_object_get_int64(v), LJ_MESHES);
	assert_true(json_object_object_get_ex(o, "faces", &v));
	assert_int_equal(json_object_get_int64(v), LJ_MESHES * LJ_QUADS);
	assert_true(json_object_object_get_ex(o, "refused", &v));
	assert_int_equal(json_object_get_int64(v), 0);
	json_object_put(o);
}

/* Waits until member b's scene has hash; returns b's entry count at that moment. */
static long long wait_hash(struct nf_daemon *a, struct nf_daemon *b, const char *id, const char *hash)
{
	uint64_t end = th_now_ns() + (uint64_t)NF_WAIT_MS * TH_NS_PER_MS;
	char h[65] = "";
	for (;;) {
		long long n = entries_of(b, id);
		if (world_hash(b, id, h, NULL) && !strcmp(h, hash))
			return n;
		if (th_now_ns() > end) {
			fprintf(stderr, "member hash %s, host %s\nmember log:\n%s\n", h, hash, th_daemon_log(&b->p));
			fail_msg("the member's scene never reached the host's world hash");
		}
		th_sleep_ns(10 * TH_NS_PER_MS);
	}
}

/* The whole log (count entries) arrived, `sessions` says ready, the log verifies offline. */
static void whole_history_of(struct nf_daemon *b, const char *id, const char *hash, unsigned count)
{
	uint64_t end = th_now_ns() + (uint64_t)NF_WAIT_MS * TH_NS_PER_MS;
	while (entries_of(b, id) < count) {
		assert_true(th_now_ns() < end);
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	assert_int_equal(entries_of(b, id), count);
	struct json_object *row = session_row(b, id), *sync, *v;
	assert_non_null(row);
	assert_true(json_object_object_get_ex(row, "sync", &sync));
	assert_true(json_object_object_get_ex(sync, "state", &v));
	assert_string_equal(json_object_get_string(v), "ready");
	assert_true(json_object_object_get_ex(sync, "host_count", &v));
	assert_true(json_object_get_int64(v) <= count);
	assert_true(json_object_object_get_ex(row, "state", &v));
	assert_string_equal(json_object_get_string(v), "open");
	json_object_put(row);
	/* the table shows the state column */
	assert_int_equal(nf_ctl(b, (const char *const[]){ "sessions", NULL }), 0);
	assert_non_null(strstr(nf_out, "open"));
	char h[65];
	assert_true(world_hash(b, id, h, NULL));
	assert_string_equal(h, hash);
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", b->p.state_dir, id);
	const char *va[] = { th_bin("thetactl"), "log", "verify", dir, NULL };
	int rc = th_run(va, NULL, -1, nf_out, sizeof(nf_out), nf_err, sizeof(nf_err), 30000);
	if (rc != 0)
		fprintf(stderr, "log verify: %s%s\n", nf_out, nf_err);
	assert_int_equal(rc, 0);
	char records[32];
	snprintf(records, sizeof(records), "%u records", count);
	assert_non_null(strstr(nf_out, records));
}

static void whole_history_there(struct nf_daemon *b, const char *id, const char *hash)
{
	whole_history_of(b, id, hash, LJ_EDITS);
}

/* The host's scene at the end of a log of count entries: its hash into hash[65]. */
static void host_hash_at(struct nf_daemon *a, const char *id, unsigned count, char hash[65])
{
	uint64_t end = th_now_ns() + (uint64_t)NF_WAIT_MS * TH_NS_PER_MS, pos = 0;
	while (!world_hash(a, id, hash, &pos) || pos != count) {
		assert_true(th_now_ns() < end);
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
}

static void a_member_installs_the_hosts_signed_checkpoint_and_still_gets_the_whole_log(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], hash[65];
	host_with_history(&a, true, NULL, id, hash);
	/* The member's path takes LJ_RATE: the log's catch-up lasts seconds, so
	 * the scene matches long before it ends and `sessions` shows it run. */
	nf_start(&b, (const char *const[]){ "--impair", "rate=" LJ_RATE, NULL }, NULL);
	/* --no-wait: `session join` would wait for the catch-up to end. */
	char link[600];
	nf_invite(&a, id, "editor", NULL, link);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "session", "join", link, "--no-wait", NULL }), 0);
	long long at = wait_hash(&a, &b, id, hash);
	printf("# the member had %lld of %u entries when its scene matched the host's\n", at, LJ_EDITS);
	assert_true(at < LJ_EDITS);
	unsigned seen = 0, last = 0;
	uint64_t end = th_now_ns() + (uint64_t)NF_WAIT_MS * TH_NS_PER_MS;
	for (;;) {
		struct json_object *row = session_row(&b, id), *v, *sync;
		assert_non_null(row);
		assert_true(json_object_object_get_ex(row, "state", &v));
		const char *st = json_object_get_string(v);
		unsigned pct;
		bool syncing = sscanf(st, "syncing %u%%", &pct) == 1;
		if (syncing) {
			assert_true(pct < 100 && pct >= last); /* received / the host's count, only growing */
			last = pct;
			seen++;
			assert_true(json_object_object_get_ex(row, "sync", &sync));
			assert_true(json_object_object_get_ex(sync, "state", &v));
			assert_string_equal(json_object_get_string(v), st);
		}
		json_object_put(row);
		if (!syncing)
			break;
		assert_true(th_now_ns() < end);
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	printf("# `sessions` said syncing %u times, up to %u%%\n", seen, last);
	assert_true(seen > 0);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "sessions", NULL }), 0);
	assert_int_equal(th_daemon_metric(&b.p, "net_snap_installed"), 1);
	assert_int_equal(th_daemon_metric(&b.p, "net_snap_refused"), 0);
	assert_int_equal(th_daemon_metric(&a.p, "net_snap_offered"), 1);
	assert_int_equal(th_daemon_metric(&a.p, "net_snap_sent"), 1);
	assert_non_null(strstr(th_daemon_log(&b.p), "installed the host's signed checkpoint at position"));
	whole_history_there(&b, id, hash);
	struct json_object *row = session_row(&b, id), *sync, *v;
	assert_true(json_object_object_get_ex(row, "sync", &sync));
	assert_true(json_object_object_get_ex(sync, "checkpoint", &v));
	assert_string_equal(json_object_get_string(v), "installed");
	assert_true(json_object_object_get_ex(sync, "checkpoint_position", &v));
	assert_int_equal(json_object_get_int64(v), LJ_EDITS); /* the checkpoint file: it covers the whole log */
	json_object_put(row);

	/* a member with checkpoints switched off folds the whole log instead */
	nf_start(&c, NULL, (const char *const[]){ "THETAD_JOIN_SNAPSHOT=0", NULL });
	nf_invite_join(&a, &c, id, "editor");
	wait_hash(&a, &c, id, hash);
	whole_history_there(&c, id, hash);
	assert_int_equal(th_daemon_metric(&c.p, "net_snap_installed"), 0);
	assert_int_equal(th_daemon_metric(&a.p, "net_snap_offered"), 1); /* only b's */

	/* More edits, fewer than a checkpoint's worth: the newest checkpoint
	 * file no longer covers the log, so the next member gets the host's
	 * live scene (its position: the whole log), and b follows live. */
	assert_int_equal(ncs_history(a.p.runtime_dir, 2, LJ_QUADS, LJ_MORE, 64, NF_WAIT_MS), 0);
	host_hash_at(&a, id, LJ_EDITS + LJ_MORE, hash);
	wait_hash(&a, &b, id, hash);
	struct nf_daemon d;
	nf_start(&d, NULL, NULL);
	nf_invite_join(&a, &d, id, "editor");
	wait_hash(&a, &d, id, hash);
	assert_int_equal(th_daemon_metric(&d.p, "net_snap_installed"), 1);
	row = session_row(&d, id);
	assert_true(json_object_object_get_ex(row, "sync", &sync));
	assert_true(json_object_object_get_ex(sync, "checkpoint_position", &v));
	assert_int_equal(json_object_get_int64(v), LJ_EDITS + LJ_MORE);
	json_object_put(row);
	whole_history_of(&d, id, hash, LJ_EDITS + LJ_MORE);
	nf_cleanup(&d);
	nf_cleanup(&c);
	nf_cleanup(&b);
	nf_cleanup(&a);
}

/* corrupt: THETAD_TEST_SNAP_CORRUPT on the host; needle: the member's log line. */
static void refused_then_caught_up(const char *corrupt, const char *needle)
{
	struct nf_daemon a, b;
	char id[33], hash[65], env[64];
	snprintf(env, sizeof(env), "THETAD_TEST_SNAP_CORRUPT=%s", corrupt);
	host_with_history(&a, false, (const char *const[]){ env, NULL }, id, hash);
	nf_start(&b, NULL, NULL);
	nf_invite_join(&a, &b, id, "editor");
	wait_hash(&a, &b, id, hash);
	whole_history_there(&b, id, hash);
	assert_int_equal(th_daemon_metric(&b.p, "net_snap_installed"), 0);
	assert_int_equal(th_daemon_metric(&b.p, "net_snap_refused"), 1);
	const char *log = th_daemon_log(&b.p);
	if (!strstr(log, needle))
		fprintf(stderr, "member log:\n%s\n", log);
	assert_non_null(strstr(log, needle));
	assert_non_null(strstr(log, "catching up from the whole log instead"));
	struct json_object *row = session_row(&b, id), *sync, *v;
	assert_true(json_object_object_get_ex(row, "sync", &sync));
	assert_true(json_object_object_get_ex(sync, "checkpoint", &v));
	assert_string_equal(json_object_get_string(v), "refused");
	json_object_put(row);
	/* the host heard why */
	assert_non_null(strstr(th_daemon_log(&a.p), "the joiner does not use the checkpoint"));
	nf_cleanup(&b);
	nf_cleanup(&a);
}

static void a_checkpoint_whose_signature_does_not_verify_is_refused_and_the_log_brings_the_scene(void **state)
{
	refused_then_caught_up("sig", "does not verify under the host key pinned at the handshake");
}

static void a_checkpoint_whose_scene_is_not_what_the_host_signed_is_refused(void **state)
{
	refused_then_caught_up("world", "has another world hash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_member_installs_the_hosts_signed_checkpoint_and_still_gets_the_whole_log,
					  nf_teardown),
		cmocka_unit_test_teardown(
			a_checkpoint_whose_signature_does_not_verify_is_refused_and_the_log_brings_the_scene, nf_teardown),
		cmocka_unit_test_teardown(a_checkpoint_whose_scene_is_not_what_the_host_signed_is_refused, nf_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
