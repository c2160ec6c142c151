/* Fixtures of the editor's end-to-end tests (test_editor*.c): a real
 * theta-client driven by a script against a real thetad (th_harness.h;
 * th_daemontest.h: dt_teardown, dt_u64, dt_wait_scene), and the daemon's
 * scene as `thetactl scene --json` gives it. Header-only; each test
 * includes it once. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_daemontest.h"
#include "th_harness.h"
#include "th_time.h"

#define EDF_WAIT_MS 60000

/* thetactl's stdout and stderr of the last call that used them. */
static char edf_out[1 << 20], edf_err[65536];

/* The daemon's scene (`thetactl scene --json`); the caller puts it. */
static inline struct json_object *edf_scene_json(struct th_daemon_proc *d)
{
	const char *args[] = { "scene", "--json", NULL };
	assert_int_equal(th_ctl(d, args, edf_out, sizeof edf_out, edf_err, sizeof edf_err), 0);
	struct json_object *o = json_tokener_parse(edf_out);
	assert_non_null(o);
	return o;
}

/* Session sid exported as OBJ (`thetactl export`, world space) into d's
 * dir as name: its text; the caller frees it. */
static inline char *edf_export_obj(struct th_daemon_proc *d, const char *sid, const char *name)
{
	char obj[PATH_MAX];
	snprintf(obj, sizeof obj, "%s/%s", d->dir, name);
	const char *args[] = { "export", "--session", sid, obj, NULL };
	if (th_ctl(d, args, edf_out, sizeof edf_out, edf_err, sizeof edf_err) != 0)
		fail_msg("thetactl export failed: %s", edf_err);
	char *t = th_slurp(obj);
	assert_non_null(t);
	return t;
}

/* Right a five times from 0.5 s: select -> move -> extrude -> subdivide
 * -> vertex -> primitive (docs/editor.md's tool order). */
#define EDF_TO_PRIMITIVE \
	"0.5s    right press     a\n" \
	"0.52s   right release   a\n" \
	"0.6s    right press     a\n" \
	"0.62s   right release   a\n" \
	"0.7s    right press     a\n" \
	"0.72s   right release   a\n" \
	"0.8s    right press     a\n" \
	"0.82s   right release   a\n" \
	"0.9s    right press     a\n" \
	"0.92s   right release   a\n"

/* From 3 s, after edf_stamp_a_cube: back to extrude (right b three times:
 * vertex, subdivide, extrude), grab the top face 1 cm above it and pull it
 * up 5 cm; released at 3.9 s. */
#define EDF_EXTRUDE_TOP_5CM \
	"3s      right press     b\n" \
	"3.02s   right release   b\n" \
	"3.1s    right press     b\n" \
	"3.12s   right release   b\n" \
	"3.2s    right press     b\n" \
	"3.22s   right release   b\n" \
	"3.3s    right position  0 1.11 -0.5\n" \
	"3.5s    right trigger   1\n" \
	"3.6s    right position  0 1.13 -0.5\n" \
	"3.7s    right position  0 1.15 -0.5\n" \
	"3.8s    right position  0 1.16 -0.5\n" \
	"3.9s    right trigger   0\n"

/* The start of every editor script: head and right hand posed, the
 * primitive tool (EDF_TO_PRIMITIVE), a 20 cm cube stamped at (0, 1, -0.5)
 * (trigger at 1.5 s, off at 1.6 s). A test's own lines follow, from 3 s on. */
static const char edf_stamp_a_cube[] =
	"theta-script 1\n"
	"0s      head  pose      0 1.6 0   0 0 0 1\n"
	"0s      right pose      0 1 -0.5  0 0 0 1\n"
	EDF_TO_PRIMITIVE
	/* stamp a 20 cm cube at (0, 1, -0.5) */
	"1.5s    right trigger   1\n"
	"1.6s    right trigger   0\n"
;

/* A theta-client with --history running head then script (written to
 * d->dir/name); its stdout and stderr go to d->dir/client.out and
 * client.err (paths into cout, cerr). Its pid. */
static inline pid_t edf_spawn_script_with(struct th_daemon_proc *d, const char *name, const char *head,
					  const char *script, const char *const *extra, char cout[PATH_MAX],
					  char cerr[PATH_MAX]);
static inline pid_t edf_spawn_script(struct th_daemon_proc *d, const char *name, const char *head, const char *script,
				     char cout[PATH_MAX], char cerr[PATH_MAX])
{
	return edf_spawn_script_with(d, name, head, script, NULL, cout, cerr);
}

/* The same with more options after the fixture's (extra: NULL-terminated;
 * a later --renderer overrides the fixture's null renderer). */
static inline pid_t edf_spawn_script_with(struct th_daemon_proc *d, const char *name, const char *head,
					  const char *script, const char *const *extra, char cout[PATH_MAX],
					  char cerr[PATH_MAX])
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", d->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(head, f);
	fputs(script, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cout, PATH_MAX, "%s/client.out", d->dir);
	snprintf(cerr, PATH_MAX, "%s/client.err", d->dir);
	const char *cargv[48] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer",
				  "null", "--require-daemon", "--script", path, "--history" };
	unsigned n = 10;
	for (unsigned i = 0; extra && extra[i]; i++) {
		assert_true(n < 47);
		cargv[n++] = extra[i];
	}
	cargv[n] = NULL;
	pid_t pid = th_spawn(cargv, NULL, cout, cerr);
	assert_true(pid > 0);
	return pid;
}

/* edf_spawn_script after edf_stamp_a_cube. */
static inline pid_t edf_spawn_scripted(struct th_daemon_proc *d, const char *name, const char *script,
				       char cout[PATH_MAX], char cerr[PATH_MAX])
{
	return edf_spawn_script(d, name, edf_stamp_a_cube, script, cout, cerr);
}

/* Occurrences of needle in s (a log's records, say). */
static inline unsigned edf_count(const char *s, const char *needle)
{
	unsigned n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A cube of half-size half centred on c, as an OBJ file at path (faces
 * outward; v index = 1 + x + 2y + 4z). */
static inline void edf_write_cube(const char *path, const float c[3], float half)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "o cube\n");
	for (int i = 0; i < 8; i++)
		fprintf(f, "v %.4f %.4f %.4f\n", (double)(c[0] + (i & 1 ? half : -half)),
			(double)(c[1] + (i & 2 ? half : -half)), (double)(c[2] + (i & 4 ? half : -half)));
	fprintf(f, "f 1 5 7 3\n"  /* -x */
		   "f 2 4 8 6\n"  /* +x */
		   "f 1 2 6 5\n"  /* -y */
		   "f 3 7 8 4\n"  /* +y */
		   "f 1 3 4 2\n"  /* -z */
		   "f 5 6 8 7\n"); /* +z */
	assert_int_equal(fclose(f), 0);
}

/* A daemon started (--port 0) holding that cube (`thetactl import` of
 * d->dir/cube.obj), once its scene has the cube's 6 faces. */
static inline struct th_daemon_proc *edf_daemon_with_cube(const float c[3], float half)
{
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	char cube[PATH_MAX];
	snprintf(cube, sizeof cube, "%s/cube.obj", d->dir);
	edf_write_cube(cube, c, half);
	const char *iargs[] = { "import", cube, NULL };
	if (th_ctl(d, iargs, edf_out, sizeof edf_out, edf_err, sizeof edf_err) != 0)
		fail_msg("thetactl import: %s%s", edf_out, edf_err);
	dt_wait_scene(d, "faces", 6);
	return d;
}

/* A script line posing hand (head, left, right) at t seconds. */
static inline void edf_pose(FILE *f, double t, const char *hand, const float p[3], const float q[4])
{
	fprintf(f, "%.3fs %s pose %.6f %.6f %.6f %.8f %.8f %.8f %.8f\n", t, hand, (double)p[0], (double)p[1],
		(double)p[2], (double)q[0], (double)q[1], (double)q[2], (double)q[3]);
}

/* A theta-client --renderer xr --validation --history on the runtime the
 * environment names (th_xrt.h), linked to d; its stdout and stderr go to
 * d->dir/client.out and client.err (paths into cout, cerr). Its pid. */
static inline pid_t edf_spawn_xr(struct th_daemon_proc *d, char cout[PATH_MAX], char cerr[PATH_MAX])
{
	snprintf(cout, PATH_MAX, "%s/client.out", d->dir);
	snprintf(cerr, PATH_MAX, "%s/client.err", d->dir);
	const char *cargv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--renderer", "xr",
				"--validation", "--require-daemon", "--history", NULL };
	pid_t pid = th_spawn(cargv, NULL, cout, cerr);
	assert_true(pid > 0);
	return pid;
}

/* The ended client's (status from th_wait_pid) stdout (printed) into
 * *text and stderr into *etext (NULL when it left none), the caller frees
 * both; the test fails unless it exited 0. */
static inline void edf_client_ended(int status, const char *cout, const char *cerr, char **text, char **etext)
{
	*text = th_slurp(cout);
	*etext = th_slurp(cerr);
	assert_non_null(*text);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("theta-client failed:\n%s\n%s", *text, *etext ? *etext : "");
	print_message("%s", *text);
}

/* Waits for the scripted client pid to end, which must exit 0: its stdout
 * (printed) into *text and stderr into *etext (the caller frees both). */
static inline void edf_wait_scripted(pid_t pid, const char *cout, const char *cerr, char **text, char **etext)
{
	int status;
	assert_int_equal(th_wait_pid(pid, EDF_WAIT_MS, &status), 0);
	edf_client_ended(status, cout, cerr, text, etext);
}
