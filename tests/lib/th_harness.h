/* Integration-test harness: runs the real binaries in temporary directories.
 * A daemon is started with NOTIFY_SOCKET pointing at a datagram socket the
 * test owns, so readiness is the real sd_notify protocol, not a sleep. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct th_daemon_proc {
	pid_t pid;
	char dir[80];               /* temporary root, removed by th_daemon_cleanup */
	char state_dir[PATH_MAX];
	char runtime_dir[PATH_MAX];
	char log_path[PATH_MAX];    /* the daemon's stderr */
	char notify_path[96];
	int notify_fd;
	char notify_log[16384];     /* every notify message received, '\n'-joined */
	size_t notify_len;
};

/* Path of a built binary: $THETA_BUILD/bin/NAME (THETA_BUILD defaults to "build"). */
const char *th_bin(const char *name);
bool th_is_root(void);
/* Whether name is an executable on $PATH (/usr/bin:/bin without one); its
 * path into found (may be NULL) when it is. */
bool th_find_on_path(const char *name, char *found, size_t foundlen);
int th_mkdtemp(char *out, size_t len);
void th_rm_rf(const char *dir);

/* Creates dirs and the notify socket (no process yet). dir==NULL: new temp dir. */
int th_daemon_prepare(struct th_daemon_proc *d);
/* Starts thetad with --state-dir/--runtime-dir plus extra args (NULL-
 * terminated, may be NULL; without --port among them, --port 0) and extra "K=V" environment entries; does not
 * wait. Fds in pass_fds (n_pass) become 3, 4, ... with LISTEN_FDS/LISTEN_PID
 * set, as systemd's socket activation does. */
int th_daemon_spawn(struct th_daemon_proc *d, const char *const *args, const char *const *env,
		    const int *pass_fds, int n_pass);
/* Starts d again on the same directories (after a stop or a kill): what
 * it notified before is forgotten, then spawn and wait for READY=1. */
int th_daemon_respawn(struct th_daemon_proc *d, const char *const *args, const char *const *env, int timeout_ms);
/* prepare + spawn + wait for READY=1 (10 s). */
int th_daemon_start(struct th_daemon_proc *d, const char *const *args);
/* For tests whose clients run under other uids: writes d->dir/thetad.conf
 * (its path into conf) making `group` the daemon's query group, spawns the
 * prepared d with --port 0 --config conf, waits for READY=1 (timeout_ms)
 * and opens d's dir and runtime dir to other users (0755). */
int th_daemon_start_query_group(struct th_daemon_proc *d, const char *group, char *conf, size_t conf_len,
				int timeout_ms);
/* Waits until a notify message contains `needle` (searching everything
 * received so far too). 0, or -ETIMEDOUT, or -ECHILD if the daemon exited. */
int th_daemon_wait_notify(struct th_daemon_proc *d, const char *needle, int timeout_ms);
/* Sends sig and waits (timeout_ms) for exit; *status is the wait status. */
int th_daemon_stop(struct th_daemon_proc *d, int sig, int timeout_ms, int *status);
/* Waits for an exit that is expected to happen by itself. */
int th_daemon_wait_exit(struct th_daemon_proc *d, int timeout_ms, int *status);
bool th_daemon_alive(struct th_daemon_proc *d);
/* Reads every notify message waiting (kept in notify_log while it has
 * room). thetad sends STATUS= every status_interval (10 s) and its
 * sd_notify blocks once the socket's queue (net.unix.max_dgram_qlen, 10
 * datagrams) is full, stalling the daemon: a test that keeps a daemon for
 * minutes must drain it; th_ctl does on every call. */
void th_daemon_drain_notify(struct th_daemon_proc *d);
/* Kills if still running, closes the notify socket, removes the temp dir. */
void th_daemon_cleanup(struct th_daemon_proc *d);
/* Reads the daemon's stderr log (static buffer, NUL-terminated). */
const char *th_daemon_log(struct th_daemon_proc *d);

/* Runs argv with optional extra env, capturing stdout/stderr (truncated to
 * the buffers, NUL-terminated). uid >= 0: drop to that uid/gid first (root
 * only). Returns the exit code, or -errno; 128+sig when killed. */
int th_run(const char *const *argv, const char *const *env, int uid, char *out, size_t outlen, char *err,
	   size_t errlen, int timeout_ms);
/* th_run of the built binary `name` (th_bin) with args (NULL-terminated,
 * the first TH_RUN_ARGS_MAX of them), as this uid. */
#define TH_RUN_ARGS_MAX 30
int th_run_bin(const char *name, const char *const *args, const char *const *env, char *out, size_t outlen, char *err,
	       size_t errlen, int timeout_ms);
/* `thetad --config FILE --print-config` with FILE holding text (written in
 * a temporary folder, removed after): thetad's exit status, its stdout in
 * out and stderr in err. */
int th_print_config(const char *text, char *out, size_t outlen, char *err, size_t errlen, int timeout_ms);
/* Starts argv in the background with stdout/stderr appended to the given
 * files (NULL: /dev/null); returns the pid or -errno. */
pid_t th_spawn(const char *const *argv, const char *const *env, const char *out_path, const char *err_path);
/* Waits for pid up to timeout_ms: 0 and *status, or -ETIMEDOUT. */
int th_wait_pid(pid_t pid, int timeout_ms, int *status);
/* Reads a whole file into a malloc'd NUL-terminated string (NULL on error). */
char *th_slurp(const char *path);

/* thetactl --runtime-dir DIR ARGS..., killed after TH_CTL_TIMEOUT_MS. */
#define TH_CTL_TIMEOUT_MS 10000
int th_ctl(struct th_daemon_proc *d, const char *const *args, char *out, size_t outlen, char *err,
	   size_t errlen);
/* The same with another limit, for commands that move a lot of data
 * (asset put/get of hundreds of MiB on a loaded machine). */
int th_ctl_wait(struct th_daemon_proc *d, int timeout_ms, const char *const *args, char *out, size_t outlen,
		char *err, size_t errlen);

/* thetactl as a person at a terminal runs it: stdout and stderr on one
 * pseudo-terminal (progress lines show), everything it wrote into out
 * (NUL-terminated, truncated to outlen), killed after timeout_ms. Returns
 * the exit code (128+sig when killed) or -errno. */
int th_ctl_tty(struct th_daemon_proc *d, int timeout_ms, const char *const *args, char *out, size_t outlen);

/* The value of metric `name` as `thetactl metrics --json` gives it; -1 when
 * the daemon has no such metric or thetactl failed (which it prints to
 * stderr). No metric counts below 0, so an assertion on the value fails. */
long long th_daemon_metric(struct th_daemon_proc *d, const char *name);

/* Entries of session id on d as `thetactl sessions --json` lists them; -1
 * while it is not listed (or thetactl failed). */
long long th_session_entries(struct th_daemon_proc *d, const char *id);

/* One control request (a JSON frame) straight on d's control socket: its
 * "result" (the caller puts it), NULL on an error reply or a failed call. */
struct json_object *th_ctl_call(struct th_daemon_proc *d, const char *json);
/* The same with the error reply's sentence in err (may be NULL). */
struct json_object *th_ctl_call_err(struct th_daemon_proc *d, const char *json, char *err, size_t errlen);
/* Metric `name`'s value through th_ctl_call; -1 when there is none. */
double th_ctl_metric(struct th_daemon_proc *d, const char *name);

/* The string value at a dotted path ("a.b.c") in JSON object o (numbers as
 * their text); NULL where a key is missing. Paths up to TH_JSON_PATH_MAX - 1
 * characters. */
#define TH_JSON_PATH_MAX 128
struct json_object;
const char *th_json_path(struct json_object *o, const char *path);

/* A daemon owned by the test fixture: a failed assertion leaves the test
 * early, and the teardown's th_daemon_slot_release() still kills it and
 * removes its directory (a leftover daemon would hold the runner's output
 * pipe). th_daemon_slot() releases the previous one and returns a cleared
 * th_daemon_proc (pid and notify_fd -1) for th_daemon_prepare/start. */
struct th_daemon_proc *th_daemon_slot(void);
void th_daemon_slot_release(void);

/* cmocka setup/teardown of a fresh temporary directory: *state points at a
 * struct th_tmpdir whose path exists until the teardown removes it. */
struct th_tmpdir {
	char path[80];
};
int th_tmpdir_setup(void **state);
int th_tmpdir_teardown(void **state);
