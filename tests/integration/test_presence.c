/* Presence between real daemons (docs/presence.md "In the daemon"): a host
 * A and members B (editor) and C (viewer), one client each (user a, b, c;
 * each daemon has its own key for the test's uid). Poses travel as PRES
 * frames both ways; with c placed far, B gets a at every tick and c at
 * far_hz, then (beyond far_cells) not at all; a's drag preview reaches the
 * editor's client, not the viewer's; a far speaker's voice is culled at the
 * host; a member's user that is not its own is refused and counted.
 * Everything is counted, nothing timed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>

#include "net_client.h"
#include "net_fixture.h"
#include "th_daemontest.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_time.h"

#define PT_USERS 3
#define PT_STEP_MS 4 /* a new pose from every client this often (faster than the 90 Hz tick) */

static const char *const pt_env[] = { "THETAD_TEST_VOICE=1", NULL };

struct pt_user {
	struct nf_daemon *d;
	struct nc_client c;
	char hex[65];
	uint64_t entity;
	float x, y, z; /* where its head is */
	uint64_t moves;
	/* What this user's client received, by sender. */
	uint64_t got[PT_USERS];
	uint64_t presences[PT_USERS], previews[PT_USERS], cursors[PT_USERS];
	uint32_t last_flags[PT_USERS];
};

static struct pt_user pt[PT_USERS];

static int pt_of(uint64_t entity)
{
	for (int i = 0; i < PT_USERS; i++)
		if (pt[i].entity == entity)
			return i;
	return -1;
}

static void on_pose(void *ud, const struct proto_ipc_pose_update *p)
{
	struct pt_user *u = ud;
	int i = pt_of(p->entity);
	if (i >= 0 && (p->flags & PROTO_IPC_POSE_F_HEAD))
		u->got[i]++;
}

static void on_presence(void *ud, const struct proto_ipc_presence *p)
{
	struct pt_user *u = ud;
	int i = pt_of(p->entity);
	if (i < 0)
		return;
	u->presences[i]++;
	u->last_flags[i] = p->flags;
	u->previews[i] += (p->flags & PROTO_IPC_PRES_F_PREVIEW) != 0;
	u->cursors[i] += (p->flags & PROTO_IPC_PRES_F_CURSOR) != 0;
}

/* The user key of the test's uid on d (whoami). */
static void user_key(struct nf_daemon *d, char hex[65], uint64_t *entity)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "whoami", "--json", NULL }), *v;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "public_key", &v));
	snprintf(hex, 65, "%s", json_object_get_string(v));
	json_object_put(r);
	uint8_t k[32];
	assert_int_equal(th_hex_decode(hex, 64, k, 32, false), 0);
	*entity = 0;
	for (int i = 7; i >= 0; i--)
		*entity = *entity << 8 | k[i];
}

static void user_open(struct pt_user *u, struct nf_daemon *d, float x, float z)
{
	memset(u, 0, sizeof(*u));
	u->d = d;
	u->x = x, u->y = 1.6f, u->z = z;
	user_key(d, u->hex, &u->entity);
	assert_int_equal(nc_connect(&u->c, d->p.runtime_dir, 5000), 0);
	u->c.on_pose = on_pose;
	u->c.on_presence = on_presence;
	u->c.ud = u;
}

static void counts_reset(void)
{
	for (int i = 0; i < PT_USERS; i++) {
		memset(pt[i].got, 0, sizeof(pt[i].got));
		memset(pt[i].presences, 0, sizeof(pt[i].presences));
		memset(pt[i].previews, 0, sizeof(pt[i].previews));
		memset(pt[i].cursors, 0, sizeof(pt[i].cursors));
	}
}

/* For about ms: every user's head moves a little each step (so it changed
 * at every tick), every client's records are handled. */
static void run_for(unsigned ms)
{
	uint64_t end = th_now_ns() + (uint64_t)ms * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		for (int i = 0; i < PT_USERS; i++) {
			struct pt_user *u = &pt[i];
			u->moves++;
			float wob = (float)(u->moves % 200) * 0.001f;
			struct proto_ipc_pose_update p = { .t_ns = th_now_ns(), .px = u->x + wob, .py = u->y, .pz = u->z,
							   .qw = 1.0f, .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
			assert_int_equal(nc_pose(&u->c, &p), 0);
		}
		for (int i = 0; i < PT_USERS; i++)
			assert_true(nc_poll(&pt[i].c, i == 0 ? PT_STEP_MS : 0) >= 0);
	}
}

/* Runs until cond holds (polled every 100 ms), at most 20 s. */
static bool run_until(bool (*cond)(void))
{
	for (int k = 0; k < 200; k++) {
		run_for(100);
		if (cond())
			return true;
	}
	return false;
}

static bool everyone_sees_everyone(void)
{
	for (int i = 0; i < PT_USERS; i++)
		for (int j = 0; j < PT_USERS; j++)
			if (i != j && pt[i].got[j] == 0)
				return false;
	return true;
}

static struct nf_daemon pa, pb, pc;

static void three_daemons(const char *const *env_c)
{
	char id[33];
	nf_start(&pa, NULL, pt_env);
	nf_start(&pb, NULL, pt_env);
	nf_start(&pc, NULL, env_c ? env_c : pt_env);
	nf_host(&pa, "plaza", id);
	nf_invite_join(&pa, &pb, "plaza", "editor");
	nf_invite_join(&pa, &pc, "plaza", "viewer");
	/* a at the origin, b 2 m away, c 3 m away: all near. */
	user_open(&pt[0], &pa, 0, 0);
	user_open(&pt[1], &pb, 2, 0);
	user_open(&pt[2], &pc, 0, 3);
}

static void three_close(void)
{
	for (int i = 0; i < PT_USERS; i++)
		nc_close(&pt[i].c);
	nf_cleanup(&pa);
	nf_cleanup(&pb);
	nf_cleanup(&pc);
}

static uint64_t ticks_of(struct nf_daemon *d)
{
	return nf_metric(d, "presence_ticks");
}

static void poses_flow_as_frames_and_interest_thins_and_culls_a_far_user(void **state)
{
	three_daemons(NULL);
	/* Every client sees the two other users: the host's own client gets
	 * the members' users from their frames, each member's client the host's
	 * user and the other member's through the host's frames. */
	assert_true(run_until(everyone_sees_everyone));
	assert_true(nf_metric(&pa, "net_chan_pres_msgs_in") > 0);
	assert_true(nf_metric(&pb, "net_chan_pres_msgs_in") > 0);
	assert_true(nf_metric(&pa, "presence_frames_out") > 0);
	assert_int_equal(nf_metric(&pa, "net_chan_pose_msgs_in"), 0); /* no POSE channel any more */

	/* c far (24 m: six cells, beyond view_cells, within far_cells): B gets
	 * a at every tick, c at far_hz. */
	pt[2].z = 24;
	run_for(600); /* the grid places c where it is now */
	counts_reset();
	uint64_t t0 = ticks_of(&pa);
	run_for(3000);
	uint64_t ticks = ticks_of(&pa) - t0;
	uint64_t near = pt[1].got[0], far = pt[1].got[2];
	fprintf(stderr, "B got a %llu times and c %llu times in %llu host ticks\n", (unsigned long long)near,
		(unsigned long long)far, (unsigned long long)ticks);
	assert_true(ticks > 0);
	/* Near: a record at (almost) every tick of the host (a changes faster). */
	assert_true(near * 2 >= ticks);
	assert_true(far > 0);
	assert_true(far * 4 < near);
	assert_true(nf_metric(&pa, "presence_irrelevant_sent") > 0);

	/* c beyond far_cells (200 m): B gets nothing more of it, a as before. */
	pt[2].z = 200;
	run_for(600);
	counts_reset();
	uint64_t irr0 = nf_metric(&pa, "presence_irrelevant"), sent0 = nf_metric(&pa, "presence_irrelevant_sent");
	run_for(2000);
	assert_int_equal(pt[1].got[2], 0);
	assert_true(pt[1].got[0] > 0);
	uint64_t irr = nf_metric(&pa, "presence_irrelevant") - irr0, sent = nf_metric(&pa, "presence_irrelevant_sent") - sent0;
	assert_true(irr > 0);
	/* c is culled for B and for A's own... c itself gets a and b at far or
	 * none: of the irrelevant updates most were never sent. */
	assert_true(sent * 2 < irr);
	/* The host's own client is not filtered: it still sees c. */
	assert_true(pt[0].got[2] > 0);
	three_close();
}

static void previews_reach_an_editors_client_and_not_a_viewers(void **state)
{
	three_daemons(NULL);
	assert_true(run_until(everyone_sees_everyone));
	counts_reset();
	/* a drags entity 42 with its cursor showing. */
	for (int k = 0; k < 100 && (pt[1].previews[0] == 0 || pt[2].cursors[0] == 0); k++) {
		struct proto_ipc_presence p = { .t_ns = th_now_ns(), .flags = PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW,
						.tool = 3, .cx = 0.5f, .cy = 1.0f, .cz = (float)k * 0.01f, .target = 42,
						.tx = (float)k * 0.01f, .rw = 1.0f };
		assert_int_equal(nc_presence(&pt[0].c, &p), 0);
		run_for(100);
	}
	assert_true(pt[1].previews[0] > 0);  /* B edits */
	assert_true(pt[2].cursors[0] > 0);   /* C sees a's cursor ... */
	assert_int_equal(pt[2].previews[0], 0); /* ... never its preview */
	assert_true(nf_metric(&pa, "presence_previews_withheld") > 0);
	/* The drag ends: B hears it (a PRESENCE without PREVIEW), and nothing
	 * of the drag after it. */
	struct proto_ipc_presence end = { .t_ns = th_now_ns(), .flags = 0, .rw = 1.0f };
	assert_int_equal(nc_presence(&pt[0].c, &end), 0);
	for (int k = 0; k < 100 && (pt[1].last_flags[0] & PROTO_IPC_PRES_F_PREVIEW); k++)
		run_for(100);
	assert_false(pt[1].last_flags[0] & PROTO_IPC_PRES_F_PREVIEW);
	uint64_t prev = pt[1].previews[0];
	run_for(1500);
	assert_int_equal(pt[1].previews[0], prev);
	three_close();
}

static int64_t voice_send_speech(struct nf_daemon *d, const char *speaker_hex, int count, int seq, int speech)
{
	char req[512], err[256] = "";
	snprintf(req, sizeof(req),
		 "{\"cmd\":\"voice_test\",\"args\":{\"op\":\"send\",\"speaker\":\"%s\",\"count\":%d,\"seq\":%d,"
		 "\"speech\":%d}}",
		 speaker_hex, count, seq, speech);
	struct json_object *r = th_ctl_call_err(&d->p, req, err, sizeof(err)), *v;
	if (!r)
		fprintf(stderr, "voice_test: %s\n", err);
	assert_non_null(r);
	int64_t n = json_object_object_get_ex(r, "sent", &v) ? json_object_get_int64(v) : -1;
	json_object_put(r);
	return n;
}

static int64_t voice_send(struct nf_daemon *d, const char *speaker_hex, int count, int seq)
{
	return voice_send_speech(d, speaker_hex, count, seq, 0);
}

static bool speaking(const struct pt_user *at, int who)
{
	return at->last_flags[who] & PROTO_IPC_PRES_F_SPEAKING;
}

/* A local speaker's frames with speech set its speaking flag, which
 * reaches another daemon's client through the host and ends a moment
 * after the speech does. */
static void the_speaking_flag_reaches_other_daemons_clients_and_ends(void **state)
{
	three_daemons(NULL);
	assert_true(run_until(everyone_sees_everyone));
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	for (int seq = 1; !(speaking(&pt[1], 2) && speaking(&pt[0], 2)) && th_now_ns() < end; seq += 5) {
		assert_int_equal(voice_send_speech(&pc, pt[2].hex, 5, seq, 1), 5);
		run_for(50);
	}
	assert_true(speaking(&pt[1], 2)); /* B's client, through the host */
	assert_true(speaking(&pt[0], 2)); /* the host's own client */
	for (int k = 0; k < 100 && speaking(&pt[1], 2); k++)
		run_for(100);
	assert_false(speaking(&pt[1], 2));
	three_close();
}

static void a_far_speakers_voice_is_culled_at_the_host(void **state)
{
	three_daemons(NULL);
	assert_true(run_until(everyone_sees_everyone));
	pt[2].z = 200; /* c far from everyone: beyond voice_cells */
	run_for(600);
	uint64_t culled0 = nf_metric(&pa, "presence_voice_culled"), passed0 = nf_metric(&pa, "presence_voice_passed");
	uint64_t relayed0 = nf_metric(&pa, "net_voice_relayed");
	/* c speaks (its frames go to the host, which would relay them to B). */
	for (int k = 0; k < 5; k++) {
		assert_int_equal(voice_send(&pc, pt[2].hex, 10, 1 + 10 * k), 10);
		run_for(50);
	}
	/* a speaks too: B is near (passes), C is far (culled). */
	assert_int_equal(voice_send(&pa, pt[0].hex, 10, 1), 10);
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (nf_metric(&pa, "net_voice_in") < 50 && th_now_ns() < end)
		run_for(100);
	run_for(300);
	uint64_t culled = nf_metric(&pa, "presence_voice_culled") - culled0;
	uint64_t passed = nf_metric(&pa, "presence_voice_passed") - passed0;
	fprintf(stderr, "voice: %llu culled, %llu passed\n", (unsigned long long)culled, (unsigned long long)passed);
	/* Every frame of c to B culled, a's to C culled; a's to B passed. */
	assert_true(culled >= 10);
	assert_true(passed > 0);
	assert_int_equal(nf_metric(&pa, "net_voice_relayed") - relayed0, 0); /* nothing of c went on to B */
	three_close();
}

static void a_members_forged_user_is_refused_and_counted(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, (const char *const[]){ "THETAD_TEST_PRES_AS_HOST=1", NULL });
	nf_host(&a, "plaza", id);
	nf_invite_join(&a, &b, "plaza", "editor");
	memset(pt, 0, sizeof(pt));
	user_open(&pt[0], &a, 0, 0);
	user_open(&pt[1], &b, 1, 0);
	pt[2].entity = 1; /* no third user */
	/* B's user's poses go out under the host's key: the host refuses every
	 * one, its client sees nothing of B. */
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (nf_metric(&a, "presence_forged") < 20 && th_now_ns() < end) {
		for (int k = 0; k < 25; k++) {
			struct proto_ipc_pose_update p = { .t_ns = th_now_ns(), .px = (float)k, .py = 1.6f, .qw = 1,
							   .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
			assert_int_equal(nc_pose(&pt[1].c, &p), 0);
			assert_true(nc_poll(&pt[0].c, PT_STEP_MS) >= 0);
			nc_poll(&pt[1].c, 0);
		}
	}
	assert_true(nf_metric(&a, "presence_forged") >= 20);
	assert_true(nf_metric(&a, "presence_frames_in") > 0);
	assert_int_equal(pt[0].c.poses, 0);
	nc_close(&pt[0].c);
	nc_close(&pt[1].c);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static int64_t config_int(struct nf_daemon *d, const char *key)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "presence", "--json", NULL }), *c, *v;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "config", &c));
	assert_true(json_object_object_get_ex(c, key, &v));
	int64_t x = json_object_get_int64(v);
	json_object_put(r);
	return x;
}

static void write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* [presence] is taken at start and on reload; `thetactl presence` shows
 * the settings and the hosted session with its receiver. */
static void the_settings_are_taken_at_start_and_on_reload(void **state)
{
	struct nf_daemon a, b;
	char dir[128], path[256], id[33];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/thetad.conf", dir);
	write_conf(path, "[presence]\ntick_hz = 60\nfar_hz = 3\n");
	nf_start(&a, (const char *const[]){ "--config", path, NULL }, NULL);
	assert_int_equal(config_int(&a, "tick_hz"), 60);
	assert_int_equal(config_int(&a, "far_hz"), 3);
	write_conf(path, "[presence]\ntick_hz = 45\nfar_hz = 2\nvoice_cells = 3\n");
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "reload", NULL }), 0);
	assert_int_equal(config_int(&a, "tick_hz"), 45);
	assert_int_equal(config_int(&a, "far_hz"), 2);
	assert_int_equal(config_int(&a, "voice_cells"), 3);
	/* A bad value keeps the old ones. */
	write_conf(path, "[presence]\ntick_hz = 0\n");
	assert_int_not_equal(nf_ctl(&a, (const char *const[]){ "reload", NULL }), 0);
	assert_int_equal(config_int(&a, "tick_hz"), 45);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "plaza", id);
	nf_invite_join(&a, &b, "plaza", "viewer");
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "presence", NULL }), 0);
	assert_non_null(strstr(nf_out, "presence: 45 Hz"));
	assert_non_null(strstr(nf_out, "plaza"));
	assert_non_null(strstr(nf_out, "host"));
	nf_cleanup(&a);
	nf_cleanup(&b);
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(poses_flow_as_frames_and_interest_thins_and_culls_a_far_user, nf_teardown),
		cmocka_unit_test_teardown(previews_reach_an_editors_client_and_not_a_viewers, nf_teardown),
		cmocka_unit_test_teardown(a_far_speakers_voice_is_culled_at_the_host, nf_teardown),
		cmocka_unit_test_teardown(the_speaking_flag_reaches_other_daemons_clients_and_ends, nf_teardown),
		cmocka_unit_test_teardown(a_members_forged_user_is_refused_and_counted, nf_teardown),
		cmocka_unit_test_teardown(the_settings_are_taken_at_start_and_on_reload, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
