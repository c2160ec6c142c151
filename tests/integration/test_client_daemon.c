/* theta-client, thetad and thetactl together, as real processes: a headless
 * client runs its frames against the daemon; `thetactl clients` lists it;
 * a client killed with SIGKILL is noticed and freed; a client survives
 * kill -9 of thetad and reconnects to the restarted one; without a daemon
 * the client runs anyway (or fails fast with --require-daemon); as root,
 * two clients of different users see neither each other nor each other's
 * rings. Timeouts are generous (a loaded 2-core machine); nothing asserts
 * a timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_harness.h"
#include "th_time.h"

#define WAIT_MS 20000
#define UID_A 65534 /* nobody */
#define UID_B 65533
static const char *const daemon_args[] = { "--port", "0", NULL };
static char out[65536], err[65536];

/* ---- helpers ------------------------------------------------------------- */


/* Children still running when a test ends early are killed in teardown. */
#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];

static void child_add(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] <= 0) {
			children[i] = pid;
			return;
		}
}

static void child_reaped(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	th_daemon_slot_release();
	return 0;
}

/* Runs argv in the background with stdout/stderr to files; uid >= 0 drops
 * to uid/gid (root only). */
static pid_t spawn_bg(const char *const *argv, int uid, int gid, const char *out_path, const char *err_path)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (o < 0 || e < 0 || n < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(n, 0) < 0)
			_exit(126);
		if (uid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	child_add(pid);
	return pid;
}

/* Exit code (128+sig when killed), or -ETIMEDOUT (then the child is killed). */
static int wait_exit(pid_t pid, int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		int st;
		pid_t p = waitpid(pid, &st, WNOHANG);
		if (p == pid) {
			child_reaped(pid);
			return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		}
		if (th_now_ns() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			child_reaped(pid);
			return -ETIMEDOUT;
		}
		th_sleep_ns(10 * TH_NS_PER_MS);
	}
}

static const char *slurp(const char *path)
{
	static char buf[65536];
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
	}
	return buf;
}

/* Runs argv as uid/gid (or -1: as we are), capturing stdout into out. */
static int run_as(const char *const *argv, int uid, int gid, const char *dir)
{
	char op[PATH_MAX], ep[PATH_MAX];
	snprintf(op, sizeof op, "%s/run_as.out", dir);
	snprintf(ep, sizeof ep, "%s/run_as.err", dir);
	int rc = wait_exit(spawn_bg(argv, uid, gid, op, ep), WAIT_MS);
	snprintf(out, sizeof out, "%s", slurp(op));
	snprintf(err, sizeof err, "%s", slurp(ep));
	return rc;
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static struct json_object *clients_as(struct th_daemon_proc *d, int uid, int gid)
{
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "clients", "--json", NULL };
	int rc = run_as(argv, uid, gid, d->dir);
	if (rc != 0)
		print_message("thetactl clients as uid %d: exit %d: %s\n", uid, rc, err);
	assert_int_equal(rc, 0);
	struct json_object *o = json_tokener_parse(out), *list;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "clients", &list));
	assert_true(json_object_is_type(list, json_type_array));
	json_object_get(list);
	json_object_put(o);
	return list;
}

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? (long long)json_object_get_int64(v) : -1;
}

/* The entry for pid in a client list, or NULL. */
static struct json_object *find_pid(struct json_object *list, pid_t pid)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *c = json_object_array_get_idx(list, i);
		if (jint(c, "pid") == pid)
			return c;
	}
	return NULL;
}

/* Polls (as root) until pid is listed with frames > 0; returns a copy of
 * its entry (caller puts). */
static struct json_object *wait_listed(struct th_daemon_proc *d, pid_t pid)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	for (;;) {
		struct json_object *list = clients_as(d, -1, -1), *c = find_pid(list, pid);
		if (c && jint(c, "frames") > 0) {
			json_object_get(c);
			json_object_put(list);
			return c;
		}
		json_object_put(list);
		assert_true(th_now_ns() < end);
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
}

static long long status_clients(struct th_daemon_proc *d)
{
	const char *args[] = { "status", "--json", NULL };
	assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	long long n = jint(o, "clients");
	json_object_put(o);
	return n;
}

static int count_fds(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A paced client that would run for 30 s unless stopped. */
static pid_t spawn_client(struct th_daemon_proc *d, const char *tag, int uid, int gid)
{
	char op[PATH_MAX], ep[PATH_MAX];
	snprintf(op, sizeof op, "%s/client-%s.out", d->dir, tag);
	snprintf(ep, sizeof ep, "%s/client-%s.err", d->dir, tag);
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--frames",
			       "2700", NULL };
	return spawn_bg(argv, uid, gid, op, ep);
}

static const char *client_output(struct th_daemon_proc *d, const char *tag, const char *which)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/client-%s.%s", d->dir, tag, which);
	return slurp(p);
}

static void daemon_restart(struct th_daemon_proc *d, const char *const *args)
{
	assert_int_equal(th_daemon_respawn(d, args, NULL, WAIT_MS), 0);
}

/* ---- tests --------------------------------------------------------------- */

static void headless_client_runs_its_frames_against_the_daemon(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--frames",
			       "300", "--no-pacing", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 0);
	assert_non_null(strstr(out, "theta-client: 300 frames"));
	assert_non_null(strstr(out, "link active, connects 1, reconnects 0"));
	assert_non_null(strstr(out, "violations 0"));

	/* --require-daemon with a daemon there; the runtime dir from the environment. */
	char env[PATH_MAX + 32];
	snprintf(env, sizeof env, "THETA_RUNTIME_DIR=%s", d->runtime_dir);
	const char *e[] = { env, NULL };
	const char *argv2[] = { th_bin("theta-client"), "--headless", "--renderer", "null", "--frames", "90", "--no-pacing",
				"--require-daemon", NULL };
	assert_int_equal(th_run(argv2, e, -1, out, sizeof out, err, sizeof err, WAIT_MS), 0);
	assert_non_null(strstr(out, "connects 1"));
	assert_int_equal(th_daemon_metric(d, "ipc_connections"), 2);
	assert_int_equal(th_daemon_metric(d, "ipc_protocol_violations"), 0);
	th_daemon_slot_release();
}

static void without_a_daemon_frames_run_and_it_is_said_once(void **state)
{
	char dir[PATH_MAX];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	/* Paced, half a second: several connect attempts, one message. */
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", dir, "--headless", "--renderer", "null", "--frames", "45", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 0);
	assert_non_null(strstr(out, "theta-client: 45 frames"));
	assert_non_null(strstr(out, "link idle, connects 0"));
	assert_int_equal(count_lines_with(err, "cannot connect"), 1);
	assert_non_null(strstr(err, dir));

	const char *argv2[] = { th_bin("theta-client"), "--runtime-dir", dir, "--headless", "--renderer", "null", "--frames", "45",
				"--require-daemon", NULL };
	assert_int_equal(th_run(argv2, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS), 1);
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof sock, "%s/client.sock", dir);
	assert_non_null(strstr(err, sock));
	assert_non_null(strstr(err, "systemctl start thetad"));
	assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
	assert_string_equal(out, "");
	th_rm_rf(dir);
}

static void thetactl_clients_lists_a_running_client(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	const char *none[] = { "clients", NULL };
	assert_int_equal(th_ctl(d, none, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "no clients"));

	pid_t pid = spawn_client(d, "one", -1, -1);
	struct json_object *c = wait_listed(d, pid), *v;
	assert_int_equal(jint(c, "uid"), getuid());
	struct passwd *pw = getpwuid(getuid());
	assert_true(json_object_object_get_ex(c, "user", &v));
	assert_string_equal(json_object_get_string(v), pw ? pw->pw_name : "?");
	assert_true(json_object_object_get_ex(c, "name", &v));
	assert_string_equal(json_object_get_string(v), "theta-client");
	assert_true(json_object_object_get_ex(c, "state", &v));
	assert_string_equal(json_object_get_string(v), "active");
	/* Frame statistics reported by the client (issue: frame loop). */
	assert_true(json_object_object_get_ex(c, "frame_time", &v));
	struct json_object *p50, *p99;
	assert_true(json_object_object_get_ex(v, "p50_us", &p50));
	assert_true(json_object_object_get_ex(v, "p99_us", &p99));
	assert_true(json_object_get_double(p50) > 0);
	assert_true(json_object_get_double(p99) >= json_object_get_double(p50));
	assert_true(json_object_object_get_ex(v, "simulation_us", &p50));
	assert_true(json_object_get_double(p50) > 0);
	assert_true(json_object_object_get_ex(c, "to_daemon", &v));
	assert_true(jint(v, "records") > 0);
	assert_true(jint(v, "bytes") > 0);
	assert_int_equal(jint(v, "violations"), 0);
	assert_true(json_object_object_get_ex(c, "to_client", &v));
	assert_true(jint(v, "records") > 0); /* at least the pong to its first ping */
	json_object_put(c);

	/* The human table: a header and the client's row. */
	assert_int_equal(th_ctl(d, none, out, sizeof out, err, sizeof err), 0);
	char pids[16];
	snprintf(pids, sizeof pids, " %d ", (int)pid);
	assert_non_null(strstr(out, "PID"));
	assert_non_null(strstr(out, "FRAMES"));
	assert_non_null(strstr(out, "P50/P99 MS"));
	assert_non_null(strstr(out, "TO-DAEMON"));
	assert_non_null(strstr(out, pids));

	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, WAIT_MS), 0);
	const char *o = client_output(d, "one", "out");
	assert_non_null(strstr(o, "link active, connects 1"));
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (status_clients(d) != 0 && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(status_clients(d), 0);
	th_daemon_slot_release();
}

static void client_killed_with_sigkill_is_noticed_and_freed(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	assert_int_equal(status_clients(d), 0);
	/* The control connection of the thetactl that just answered may
	 * still be open for a moment: the idle count is the least seen. */
	int fds_idle = count_fds(d->pid);
	for (int i = 0; i < 10; i++) {
		th_sleep_ns(30 * TH_NS_PER_MS);
		int n = count_fds(d->pid);
		if (n < fds_idle)
			fds_idle = n;
	}
	assert_true(fds_idle > 0);

	pid_t pid = spawn_client(d, "doomed", -1, -1);
	json_object_put(wait_listed(d, pid));
	assert_int_equal(status_clients(d), 1);
	assert_true(count_fds(d->pid) > fds_idle); /* socket, memfd, doorbells */
	kill(pid, SIGKILL);
	assert_int_equal(wait_exit(pid, WAIT_MS), 128 + SIGKILL);

	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (status_clients(d) != 0 && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(status_clients(d), 0);
	/* No thetactl runs while the descriptors are counted (its control
	 * connection would be one more for a moment). */
	while (count_fds(d->pid) != fds_idle && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(count_fds(d->pid), fds_idle); /* every descriptor of the client closed */
	assert_int_equal(th_daemon_metric(d, "ipc_clients"), 0);
	assert_int_equal(th_daemon_metric(d, "ipc_connections"), 1);
	assert_int_equal(th_daemon_metric(d, "ipc_protocol_violations"), 0);
	assert_true(th_daemon_alive(d));
	th_daemon_slot_release();
}

static void client_survives_daemon_sigkill_and_reconnects(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	pid_t pid = spawn_client(d, "survivor", -1, -1);
	json_object_put(wait_listed(d, pid));
	int st;
	assert_int_equal(th_daemon_stop(d, SIGKILL, WAIT_MS, &st), 0);
	th_sleep_ns(300 * TH_NS_PER_MS); /* the daemon stays down a while: frames go on */
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* the client is still running */
	daemon_restart(d, daemon_args);
	json_object_put(wait_listed(d, pid)); /* listed by the new daemon */
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid, WAIT_MS), 0);
	const char *o = client_output(d, "survivor", "out");
	print_message("%s", o);
	const char *p = strstr(o, "reconnects ");
	assert_non_null(p);
	assert_true(atoi(p + strlen("reconnects ")) >= 1);
	assert_non_null(strstr(client_output(d, "survivor", "err"), "hung up"));
	th_daemon_slot_release();
}

/* The memfd a client process holds from thetad: "/proc/PID/fd/N", or "". */
static void find_memfd(pid_t pid, char *path, size_t len, ino_t *ino, int *count)
{
	char dirp[64];
	snprintf(dirp, sizeof dirp, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dirp);
	assert_non_null(d);
	path[0] = 0;
	*count = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[PATH_MAX], target[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", dirp, e->d_name);
		ssize_t n = readlink(p, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strstr(target, "memfd:thetad-ipc-"))
			continue;
		struct stat s;
		assert_int_equal(stat(p, &s), 0);
		snprintf(path, len, "%s", p);
		*ino = s.st_ino;
		(*count)++;
	}
	closedir(d);
}

/* Two users on one machine: each `thetactl clients` shows only the caller's
 * own client, and neither user can reach the other's ring. Both callers
 * are in the daemon's query group (nogroup, set in a config file), so the
 * only thing hiding the other's client is the per-uid filter. */
static void two_users_see_only_their_own_client_and_ring(void **state)
{
	if (!th_is_root())
		skip();
	struct group *ng = getgrnam("nogroup");
	if (!ng)
		skip();
	int gid = (int)ng->gr_gid;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	char conf[PATH_MAX + 16];
	assert_int_equal(th_daemon_start_query_group(d, "nogroup", conf, sizeof conf, WAIT_MS), 0);
	/* Both users are local members of the session (test_local_members.c
	 * shows what happens to those who are not). */
	const char *allow_a[] = { "session", "allow", "65534", NULL }, *allow_b[] = { "session", "allow", "65533", NULL };
	assert_int_equal(th_ctl(d, allow_a, out, sizeof out, err, sizeof err), 0);
	assert_int_equal(th_ctl(d, allow_b, out, sizeof out, err, sizeof err), 0);

	pid_t a = spawn_client(d, "a", UID_A, gid);
	pid_t b = spawn_client(d, "b", UID_B, gid);
	json_object_put(wait_listed(d, a));
	json_object_put(wait_listed(d, b));

	/* Root sees both; each user sees exactly its own. */
	struct json_object *all = clients_as(d, -1, -1);
	assert_int_equal(json_object_array_length(all), 2);
	json_object_put(all);
	struct { int uid; pid_t own, other; } who[2] = { { UID_A, a, b }, { UID_B, b, a } };
	for (int i = 0; i < 2; i++) {
		struct json_object *l = clients_as(d, who[i].uid, gid);
		assert_int_equal(json_object_array_length(l), 1);
		struct json_object *c = json_object_array_get_idx(l, 0);
		assert_int_equal(jint(c, "pid"), who[i].own);
		assert_int_equal(jint(c, "uid"), who[i].uid);
		assert_null(find_pid(l, who[i].other));
		json_object_put(l);
	}

	/* One ring pair per client: each holds exactly one memfd from thetad,
	 * and they are different objects. */
	char pa[PATH_MAX], pb[PATH_MAX];
	ino_t ia = 0, ib = 0;
	int na, nb;
	find_memfd(a, pa, sizeof pa, &ia, &na);
	find_memfd(b, pb, sizeof pb, &ib, &nb);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 1);
	assert_true(ia != ib);
	/* Neither user can open the other's ring (nor list its descriptors). */
	for (int i = 0; i < 2; i++) {
		const char *victim = i == 0 ? pb : pa;
		const char *cat[] = { "/bin/cat", victim, NULL };
		assert_true(run_as(cat, who[i].uid, gid, d->dir) != 0);
		char dirp[PATH_MAX];
		snprintf(dirp, sizeof dirp, "%.*s", (int)(strrchr(victim, '/') - victim), victim);
		const char *ls[] = { "/bin/ls", dirp, NULL };
		assert_true(run_as(ls, who[i].uid, gid, d->dir) != 0);
		/* Nor the daemon's copies of every ring. */
		char dfd[64];
		snprintf(dfd, sizeof dfd, "/proc/%d/fd", (int)d->pid);
		const char *lsd[] = { "/bin/ls", dfd, NULL };
		assert_true(run_as(lsd, who[i].uid, gid, d->dir) != 0);
		/* Its own ring is readable to it. */
		const char *own[] = { "/bin/cat", i == 0 ? pa : pb, NULL };
		assert_int_equal(run_as(own, who[i].uid, gid, d->dir), 0);
	}
	kill(a, SIGTERM);
	kill(b, SIGTERM);
	assert_int_equal(wait_exit(a, WAIT_MS), 0);
	assert_int_equal(wait_exit(b, WAIT_MS), 0);
	th_daemon_slot_release();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(headless_client_runs_its_frames_against_the_daemon, teardown),
		cmocka_unit_test_teardown(without_a_daemon_frames_run_and_it_is_said_once, teardown),
		cmocka_unit_test_teardown(thetactl_clients_lists_a_running_client, teardown),
		cmocka_unit_test_teardown(client_killed_with_sigkill_is_noticed_and_freed, teardown),
		cmocka_unit_test_teardown(client_survives_daemon_sigkill_and_reconnects, teardown),
		cmocka_unit_test_teardown(two_users_see_only_their_own_client_and_ring, teardown),
	};
	return cmocka_run_group_tests_name("client_daemon", tests, NULL, NULL);
}
