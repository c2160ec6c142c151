/* One client's drag preview reaches another client of the same daemon
 * (docs/presence.md "In the client"): a real thetad holding a cube; a
 * watching client (this test's own process, dropped to another user, uid
 * DT_UID_OTHER, with the real theta-client/link and app/avatars) connected
 * first; then a scripted theta-client (the real binary, as root) takes the
 * move tool, grabs the cube and drags it 14 cm along +x, and lets go. The
 * watcher gets the dragger's PRESENCE through the daemon: the cursor, then
 * previews of the cube's entity whose transform moves along +x by the
 * drag, then a presence without the preview once the drag is released;
 * app_avatars shows the preview while it lasts and not after. Needs root,
 * setpriv and group nogroup (dt_start_two_users), else it skips. */
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "editor_fixture.h"

#include "app/avatars.h"
#include "link/link.h"

#define WATCH_MS 30000

/* The move tool (right a once: select -> move), the tip inside the cube,
 * the trigger held from 1.2 s while the hand goes 14 cm along +x in 2 cm
 * steps, released at 2.1 s. */
static const char script[] =
	"theta-script 1\n"
	"0s      head  pose      0 1.6 0   0 0 0 1\n"
	"0s      right pose      0.3 1.2 -0.3  0 0 0 1\n"
	"0.5s    right press     a\n"
	"0.52s   right release   a\n"
	"1s      right position  0.05 1.05 -0.45\n"
	"1.2s    right trigger   1\n"
	"1.3s    right position  0.07 1.05 -0.45\n"
	"1.4s    right position  0.09 1.05 -0.45\n"
	"1.5s    right position  0.11 1.05 -0.45\n"
	"1.6s    right position  0.13 1.05 -0.45\n"
	"1.7s    right position  0.15 1.05 -0.45\n"
	"1.8s    right position  0.17 1.05 -0.45\n"
	"1.9s    right position  0.19 1.05 -0.45\n"
	"2.1s    right trigger   0\n"
	"3s      quit\n";

struct watch {
	struct app_avatars *av;
	unsigned presences, previews, cursors_before;
	bool cleared;          /* a presence without the preview after one with it */
	bool ghost_shown, ghost_after; /* app_avatars had the preview during / after */
	uint64_t who, target;
	float first_x, last_x;
	bool monotonic;
};

static void on_link_event(void *user_data, enum link_event ev, const char *msg)
{
	(void)user_data;
	(void)ev;
	(void)msg;
}

static void on_presence(void *user_data, struct sim_world *w, const struct proto_ipc_presence *p)
{
	(void)w;
	struct watch *o = user_data;
	o->presences++;
	app_avatars_on_presence(o->av, p, th_now_ns());
	const struct app_avatar *u = app_avatars_find(o->av, p->entity);
	if (p->flags & PROTO_IPC_PRES_F_PREVIEW) {
		if (o->previews == 0) {
			o->who = p->entity;
			o->target = p->target;
			o->first_x = p->tx;
			o->monotonic = true;
		} else if (p->tx < o->last_x || p->target != o->target) {
			o->monotonic = false;
		}
		o->last_x = p->tx;
		o->previews++;
		o->ghost_shown |= u && (u->pres.flags & PROTO_IPC_PRES_F_PREVIEW) && u->pres.target == p->target;
	} else if (o->previews) {
		o->cleared = true;
		o->ghost_after = u && (u->pres.flags & PROTO_IPC_PRES_F_PREVIEW);
	} else if (p->flags & PROTO_IPC_PRES_F_CURSOR) {
		o->cursors_before++;
	}
}

/* The watcher, in a child dropped to DT_UID_OTHER: "ready" on fd once its
 * link is active, then, when the drag has ended (or at the deadline), one
 * line of what it saw. Its exit status: 0, or the step that failed. */
static int watch(const char *runtime_dir, int gid, int fd)
{
	if (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid(DT_UID_OTHER) < 0)
		return 2;
	struct watch o = { 0 };
	if (app_avatars_create(&o.av) < 0)
		return 3;
	struct link_config cfg = { .runtime_dir = runtime_dir, .name = "watcher", .mode = PROTO_IPC_MODE_HEADLESS,
				   .cb = { .event = on_link_event, .on_presence = on_presence }, .user_data = &o };
	struct link *l;
	if (link_create(&cfg, &l) < 0)
		return 4;
	if (link_wait_active(l, WATCH_MS, false) < 0)
		return 5;
	if (dprintf(fd, "ready\n") < 0)
		return 6;
	struct app_transport *t = link_transport(l);
	uint64_t end = th_now_ns() + (uint64_t)WATCH_MS * TH_NS_PER_MS;
	while (!o.cleared && th_now_ns() < end) {
		app_transport_drain(t, NULL, th_now_ns());
		usleep(2000);
	}
	dprintf(fd, "presences %u previews %u cursors %u cleared %d monotonic %d shown %d after %d who %llx target %llx "
		    "first %.4f last %.4f\n",
		o.presences, o.previews, o.cursors_before, o.cleared, o.monotonic, o.ghost_shown, o.ghost_after,
		(unsigned long long)o.who, (unsigned long long)o.target, (double)o.first_x, (double)o.last_x);
	link_destroy(&l);
	app_avatars_destroy(&o.av);
	return 0;
}

/* One line from fd within ms (the watcher's), into buf. */
static bool read_line(int fd, char *buf, size_t cap, int ms)
{
	size_t n = 0;
	uint64_t end = th_now_ns() + (uint64_t)ms * TH_NS_PER_MS;
	while (n + 1 < cap && th_now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			break;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return true;
		}
		n++;
	}
	buf[n] = 0;
	return false;
}

static pid_t watcher = -1;

static int teardown(void **state)
{
	if (watcher > 0) {
		kill(watcher, SIGKILL);
		waitpid(watcher, NULL, 0);
		watcher = -1;
	}
	return dt_teardown(state);
}

static void a_drag_preview_reaches_another_client(void **state)
{
	(void)state;
	int gid;
	struct th_daemon_proc *d = dt_start_two_users(&gid);
	char cube[PATH_MAX];
	snprintf(cube, sizeof cube, "%s/cube.obj", d->dir);
	const float c[3] = { 0, 1, -0.5f };
	edf_write_cube(cube, c, 0.1f);
	const char *iargs[] = { "import", cube, NULL };
	if (th_ctl(d, iargs, edf_out, sizeof edf_out, edf_err, sizeof edf_err) != 0)
		fail_msg("thetactl import: %s%s", edf_out, edf_err);
	dt_wait_scene(d, "faces", 6);
	char uid[16];
	snprintf(uid, sizeof uid, "%d", DT_UID_OTHER);
	const char *allow[] = { "session", "allow", uid, NULL };
	if (th_ctl(d, allow, edf_out, sizeof edf_out, edf_err, sizeof edf_err) != 0)
		fail_msg("thetactl session allow: %s%s", edf_out, edf_err);

	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	watcher = fork();
	assert_true(watcher >= 0);
	if (watcher == 0) {
		close(fds[0]);
		_exit(watch(d->runtime_dir, gid, fds[1]));
	}
	close(fds[1]);
	char line[512];
	if (!read_line(fds[0], line, sizeof line, WATCH_MS))
		fail_msg("the watching client did not connect (%s)", line);
	assert_string_equal(line, "ready");

	char cout[PATH_MAX], cerr[PATH_MAX];
	pid_t dragger = edf_spawn_script(d, "drag.script", script, "", cout, cerr);
	char *text, *etext;
	edf_wait_scripted(dragger, cout, cerr, &text, &etext);
	free(text);
	free(etext);

	bool got = read_line(fds[0], line, sizeof line, WATCH_MS);
	close(fds[0]);
	int status;
	assert_int_equal(th_wait_pid(watcher, WATCH_MS, &status), 0);
	watcher = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(got);
	print_message("watcher: %s\n", line);
	unsigned presences, previews, cursors;
	int cleared, monotonic, shown, after;
	unsigned long long who, target;
	double first, last;
	assert_int_equal(sscanf(line,
				"presences %u previews %u cursors %u cleared %d monotonic %d shown %d after %d who %llx "
				"target %llx first %lf last %lf",
				&presences, &previews, &cursors, &cleared, &monotonic, &shown, &after, &who, &target,
				&first, &last),
			 11);
	/* The cursor before the grab, previews of one entity moving along +x
	 * by the drag (14 cm, snapped to 1 cm), then the end. */
	assert_true(cursors >= 1);
	assert_true(previews >= 3);
	assert_true(who != 0 && target != 0);
	assert_true(monotonic);
	assert_true(fabs((last - first) - 0.14) < 0.015);
	assert_true(cleared);
	assert_true(shown);
	assert_false(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_drag_preview_reaches_another_client, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
