/* `thetactl asset put/get` with the real binaries, one daemon: the file
 * goes to the daemon as an open descriptor (asset_put_fd / asset_get_fd)
 * and comes back byte-identical; --stream, the base64 way, gives the same
 * asset; get never replaces an existing OUT without --force and leaves no
 * temporary file behind, on success or failure (a stored copy damaged on
 * disk); `get HASH -` into a pipe and into a file; the daemon refuses a
 * descriptor that is no regular file or is open the wrong way, each with
 * its sentence; a file the caller may not read is refused by thetactl, not
 * read by the daemon; on a terminal a progress line shows, piped it does
 * not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include "ctl.h"
#include "asset_fixture.h"
#include "net_fixture.h"

#define MiB (1024u * 1024u)
#define BULK_MS 120000 /* a put or get of a few MiB on a loaded machine */


/* Files in tmpdir whose name holds ".part-" (a get's temporary file). */
static int temporaries(void)
{
	DIR *d = opendir(tmpdir);
	int n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += strstr(de->d_name, ".part-") != NULL;
	if (d)
		closedir(d);
	return n;
}

static int ctl_bulk(struct nf_daemon *d, const char *const *args)
{
	return th_ctl_wait(&d->p, BULK_MS, args, nf_out, sizeof(nf_out), nf_err, sizeof(nf_err));
}

static void put_and_get_through_the_file_itself(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "files", id);
	make_file("model.glb", 5 * MiB + 333, 1, path, hex);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", path, "--session", id, "--json", NULL }), 0);
	struct json_object *o = json_tokener_parse(nf_out), *v;
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "hash")), hex);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "name")), "model.glb");
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "size")), 5 * MiB + 333);
	assert_true(json_object_object_get_ex(o, "existed", &v) && !json_object_get_boolean(v));
	json_object_put(o);
	/* The daemon copied from the file: the base64 commands moved nothing. */
	assert_int_equal(nf_metric(&a, "asset_file_bytes_in"), 5 * MiB + 333);
	assert_int_equal(nf_metric(&a, "control_requests") < 40, 1);
	/* Again: it is there already. */
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", path, "--session", id, "--json", NULL }), 0);
	o = json_tokener_parse(nf_out);
	assert_true(json_object_object_get_ex(o, "existed", &v) && json_object_get_boolean(v));
	json_object_put(o);

	snprintf(out, sizeof(out), "%s/copy.glb", tmpdir);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }), 0);
	assert_true(same_file(out, path));
	assert_non_null(strstr(nf_err, "bytes written to"));
	assert_int_equal(nf_metric(&a, "asset_file_bytes_out"), 5 * MiB + 333);
	/* A prefix of the hash is enough. */
	char prefix[12];
	snprintf(prefix, sizeof(prefix), "%.10s", hex);
	char out2[300];
	snprintf(out2, sizeof(out2), "%s/copy2.glb", tmpdir);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", prefix, out2, "--session", id, NULL }), 0);
	assert_true(same_file(out2, path));
	assert_int_equal(temporaries(), 0);
	unlink(out);
	unlink(out2);
	nf_cleanup(&a);
}

static void stream_gives_the_same_asset(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "stream", id);
	make_file("chair.obj", 1 * MiB + 7, 2, path, hex);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", "--stream", path, "--session", id, NULL }), 0);
	assert_non_null(strstr(nf_out, hex));
	assert_int_equal(nf_metric(&a, "asset_file_bytes_in"), 0);
	snprintf(out, sizeof(out), "%s/chair-back.obj", tmpdir);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", "--stream", hex, out, "--session", id, NULL }),
			 0);
	assert_true(same_file(out, path));
	assert_int_equal(nf_metric(&a, "asset_file_bytes_out"), 0);
	unlink(out);
	nf_cleanup(&a);
}

static void get_replaces_nothing_without_force(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "careful", id);
	make_file("lamp.glb", 300000, 3, path, hex);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", path, "--session", id, NULL }), 0);
	snprintf(out, sizeof(out), "%s/mine.glb", tmpdir);
	FILE *f = fopen(out, "w");
	fputs("my own work\n", f);
	fclose(f);
	/* Not a hash at all: a usage error, before anything is asked. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "asset", "get", "abc", out, NULL }), 2);
	assert_non_null(strstr(nf_err, "'abc' is not an asset's hash"));
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }), 1);
	assert_non_null(strstr(nf_err, "exists; pass --force to replace it"));
	assert_non_null(strstr(nf_err, out));
	char *keep = th_slurp(out);
	assert_string_equal(keep, "my own work\n");
	free(keep);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", hex, out, "--force", "--session", id, NULL }),
			 0);
	assert_true(same_file(out, path));
	assert_int_equal(temporaries(), 0);
	unlink(out);
	nf_cleanup(&a);
}

static void a_damaged_stored_copy_writes_nothing(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300], stored[4200];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "damaged", id);
	make_file("vase.glb", 2 * MiB, 4, path, hex);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", path, "--session", id, NULL }), 0);
	snprintf(stored, sizeof(stored), "%s/sessions/%s/assets/%s", a.p.state_dir, id, hex);
	int fd = open(stored, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff\x00", 2, MiB), 2);
	close(fd);
	snprintf(out, sizeof(out), "%s/vase-back.glb", tmpdir);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }), 1);
	assert_non_null(strstr(nf_err, "does not match its hash (damaged on disk)"));
	struct stat sb;
	assert_int_not_equal(stat(out, &sb), 0);
	assert_int_equal(temporaries(), 0);
	assert_int_equal(nf_metric(&a, "asset_file_failures"), 1);
	nf_cleanup(&a);
}

static void get_to_stdout_into_a_pipe_and_into_a_file(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300], cmd[1200];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "stdout", id);
	make_file("rug.png", 700000, 5, path, hex);
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "put", path, "--session", id, NULL }), 0);
	/* Into a pipe (th_ctl's stdout): the base64 way. */
	static char big[1 << 20];
	static char err[4096];
	int rc = th_ctl_wait(&a.p, BULK_MS, (const char *const[]){ "asset", "get", hex, "-", "--session", id, NULL }, big,
			     sizeof(big), err, sizeof(err));
	assert_int_equal(rc, 0);
	char *orig = th_slurp(path);
	assert_memory_equal(big, orig, 700000);
	/* Into a file the shell opened: the daemon writes it at its offset. */
	snprintf(out, sizeof(out), "%s/rug-back.png", tmpdir);
	snprintf(cmd, sizeof(cmd), "{ printf head; '%s' --runtime-dir '%s' asset get %s - --session %s; } > '%s'",
		 th_bin("thetactl"), a.p.runtime_dir, hex, id, out);
	assert_int_equal(th_run((const char *const[]){ "/bin/sh", "-c", cmd, NULL }, NULL, -1, NULL, 0, err, sizeof(err),
				BULK_MS),
			 0);
	char *back = th_slurp(out);
	struct stat sb;
	assert_int_equal(stat(out, &sb), 0);
	assert_int_equal(sb.st_size, 4 + 700000);
	assert_memory_equal(back, "head", 4);
	assert_memory_equal(back + 4, orig, 700000);
	assert_int_equal(nf_metric(&a, "asset_file_bytes_out"), 700000);
	free(back);
	free(orig);
	unlink(out);
	nf_cleanup(&a);
}

/* One request with a descriptor, as a client other than thetactl could
 * send; the daemon's sentence into err, 0 when it took it. */
static int ask_fd(struct nf_daemon *d, const char *cmd, const char *args_json, int fd, char *err, size_t errlen)
{
	struct ctl_ctx ctx = { .runtime_dir = d->p.runtime_dir, .prog = "test", .timeout_s = 30 };
	int cfd = ctl_connect(d->p.runtime_dir);
	assert_true(cfd >= 0);
	struct json_object *args = json_tokener_parse(args_json), *res = NULL;
	char code[CTL_CODE_LEN];
	err[0] = 0;
	int r = ctl_ask_fds(&ctx, cfd, cmd, args, &fd, fd >= 0 ? 1 : 0, &res, code, err, errlen);
	json_object_put(args);
	json_object_put(res);
	close(cfd);
	return r;
}

static void the_daemon_takes_regular_files_open_the_right_way(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], args[400], err[1024];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "checks", id);
	make_file("box.bin", 4096, 6, path, hex);
	snprintf(args, sizeof(args), "{\"session\":\"%s\",\"name\":\"box.bin\"}", id);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(ask_fd(&a, "asset_put_fd", args, p[0], err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not a regular file"));
	int wfd = open(path, O_WRONLY | O_CLOEXEC);
	assert_int_equal(ask_fd(&a, "asset_put_fd", args, wfd, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not open for reading"));
	assert_int_equal(ask_fd(&a, "asset_put_fd", args, -1, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "needs exactly one file passed with the request"));
	char empty[300];
	snprintf(empty, sizeof(empty), "%s/empty.bin", tmpdir);
	int efd = open(empty, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_int_equal(ask_fd(&a, "asset_put_fd", args, efd, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "the file is empty"));
	int rfd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(ask_fd(&a, "asset_put_fd", args, rfd, err, sizeof(err)), 0);
	/* Out: open for writing, not appending. */
	snprintf(args, sizeof(args), "{\"session\":\"%s\",\"hash\":\"%s\"}", id, hex);
	assert_int_equal(ask_fd(&a, "asset_get_fd", args, rfd, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not open for writing"));
	int afd = open(empty, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_int_equal(ask_fd(&a, "asset_get_fd", args, afd, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "open for appending"));
	assert_int_equal(ask_fd(&a, "asset_get_fd", args, p[1], err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not a regular file"));
	snprintf(args, sizeof(args), "{\"session\":\"%s\",\"hash\":\"%.12s\"}", id, "0123456789ab");
	assert_int_equal(ask_fd(&a, "asset_get_fd", args, wfd, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "no such asset"));
	close(p[0]);
	close(p[1]);
	close(wfd);
	close(efd);
	close(rfd);
	close(afd);
	nf_cleanup(&a);
}

/* thetactl opens the file as the caller: the daemon (another user's, or
 * root's, which could read anything) is never asked to read what the
 * caller may not. As root the caller is "nobody" (uid 65534). */
static void a_file_the_caller_may_not_read_is_not_sent(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], err[2048];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "private", id);
	make_file("secret.bin", 1000, 7, path, hex);
	assert_int_equal(chmod(path, 0600), 0);
	int rc;
	if (th_is_root()) {
		rc = th_run((const char *const[]){ th_bin("thetactl"), "--runtime-dir", a.p.runtime_dir, "asset", "put", path,
						   "--session", id, NULL },
			    NULL, 65534, NULL, 0, err, sizeof(err), BULK_MS);
	} else {
		assert_int_equal(chmod(path, 0), 0);
		rc = th_ctl(&a.p, (const char *const[]){ "asset", "put", path, "--session", id, NULL }, NULL, 0, err,
			    sizeof(err));
	}
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "cannot read"));
	assert_non_null(strstr(err, "Permission denied"));
	assert_int_equal(nf_metric(&a, "asset_file_bytes_in"), 0);
	chmod(path, 0600);
	nf_cleanup(&a);
}

static void progress_shows_on_a_terminal_only(void **state)
{
	struct nf_daemon a;
	char id[33], path[256], hex[65], out[300];
	static char tty[1 << 16];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "progress", id);
	make_file("big.bin", 24 * MiB, 8, path, hex);
	int rc = th_ctl_tty(&a.p, BULK_MS, (const char *const[]){ "asset", "put", path, "--session", id, NULL }, tty,
			    sizeof(tty));
	assert_int_equal(rc, 0);
	assert_non_null(strstr(tty, "\rasset put: "));
	assert_non_null(strstr(tty, " / 24.0MiB"));
	assert_non_null(strstr(tty, hex)); /* the result after the erased line */
	snprintf(out, sizeof(out), "%s/big-back.bin", tmpdir);
	rc = th_ctl_tty(&a.p, BULK_MS, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }, tty,
			sizeof(tty));
	assert_int_equal(rc, 0);
	assert_non_null(strstr(tty, "\rasset get: "));
	assert_true(same_file(out, path));
	unlink(out);
	/* Piped: not a byte of it. */
	assert_int_equal(ctl_bulk(&a, (const char *const[]){ "asset", "get", hex, out, "--session", id, NULL }), 0);
	assert_null(strchr(nf_err, '\r'));
	assert_null(strstr(nf_err, "asset get:"));
	unlink(out);
	/* --json on a terminal: none either. */
	rc = th_ctl_tty(&a.p, BULK_MS, (const char *const[]){ "--json", "asset", "get", hex, out, "--session", id, NULL },
			tty, sizeof(tty));
	assert_int_equal(rc, 0);
	assert_null(strstr(tty, "asset get:"));
	assert_non_null(strstr(tty, "\"path\""));
	unlink(out);
	nf_cleanup(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(put_and_get_through_the_file_itself, nf_teardown),
		cmocka_unit_test_teardown(stream_gives_the_same_asset, nf_teardown),
		cmocka_unit_test_teardown(get_replaces_nothing_without_force, nf_teardown),
		cmocka_unit_test_teardown(a_damaged_stored_copy_writes_nothing, nf_teardown),
		cmocka_unit_test_teardown(get_to_stdout_into_a_pipe_and_into_a_file, nf_teardown),
		cmocka_unit_test_teardown(the_daemon_takes_regular_files_open_the_right_way, nf_teardown),
		cmocka_unit_test_teardown(a_file_the_caller_may_not_read_is_not_sent, nf_teardown),
		cmocka_unit_test_teardown(progress_shows_on_a_terminal_only, nf_teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
