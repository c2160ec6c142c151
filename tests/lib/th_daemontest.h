/* cmocka helpers for integration tests that drive one daemon in the
 * fixture's slot (th_harness.h: th_daemon_slot) through its control
 * socket: start it, tear it down, read members of answers, poll the scene.
 * A failed expectation fails the test. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "th_harness.h"

#define DT_WAIT_MS 30000 /* the deadline of every start and poll */
#define DT_UID_OTHER 65534 /* nobody: the second user of two-user tests */

struct json_object;

/* cmocka teardown: th_daemon_slot_release(). */
int dt_teardown(void **state);
/* A daemon started in the slot with the default arguments. */
struct th_daemon_proc *dt_start(void);
/* For tests that write a session's log themselves: starts the slot's
 * daemon, hosts a session called name (`thetactl session host --name`),
 * stops the daemon again and gives that session's log folder, removed, in
 * logdir (the caller writes a log there and th_daemon_respawn()s). */
struct th_daemon_proc *dt_host_stopped(const char *name, char *logdir, size_t cap);
/* For tests with two real uids: a daemon in the slot whose query group is
 * nogroup (its gid in *gid), so DT_UID_OTHER may call it. Skips the test
 * unless run as root with /usr/bin/setpriv and a group nogroup. */
struct th_daemon_proc *dt_start_two_users(int *gid);
/* argv[0..) run as DT_UID_OTHER in group gid through setpriv, its output
 * in out / err: th_run's result. */
int dt_run_as_other(int gid, const char *const *argv, char *out, size_t outlen, char *err, size_t errlen);

/* o's member key as a string ("" when o or the member is absent). */
const char *dt_str(struct json_object *o, const char *key);
/* o's member key as a number (the test fails when it is absent). */
unsigned long long dt_u64(struct json_object *o, const char *key);
/* The member key of the `scene` control command's answer; -1 when absent. */
long long dt_scene_count(struct th_daemon_proc *d, const char *key);
/* Polls dt_scene_count(d, key) until it is want (DT_WAIT_MS at most), then
 * asserts it is. */
void dt_wait_scene(struct th_daemon_proc *d, const char *key, long long want);
/* `thetactl --json scene --session session` once the daemon's scene of
 * that session is live at log position want (DT_WAIT_MS at most; the test
 * fails with thetactl's last output after that): its answer (the caller
 * puts it). */
struct json_object *dt_scene_at(struct th_daemon_proc *d, const char *session, uint64_t want);
