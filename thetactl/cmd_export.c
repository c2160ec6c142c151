/* thetactl export [--session S] [--at N] [--json] FILE.glb|FILE.gltf|FILE.obj:
 * the session's scene as the daemon folded it, written by the daemon into
 * a file thetactl opens as the user who runs it (passed over control.sock
 * with the request; docs/export.md). The file appears whole or not at all:
 * thetactl writes a temporary file beside it and renames it once the
 * daemon answered. An OBJ gets its MTL beside it (FILE.mtl). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "th_export.h"

/* The daemon answers once the file is written: wait longer than for a
 * query (unless --timeout says otherwise). */
#define CTL_EXPORT_TIMEOUT_S 600u
#define CTL_EXPORT_ERR_LEN 1024u

struct ctl_out {
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	int fd;
};

/* A temporary file beside path, mode 0666 less the umask as open(2) would
 * give; -errno. */
static int ctl_out_open(struct ctl_out *o, const char *path)
{
	o->fd = -1;
	if (snprintf(o->path, sizeof(o->path), "%s", path) >= (int)sizeof(o->path) ||
	    snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(o->tmp))
		return -ENAMETOOLONG;
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0)
		return -errno;
	mode_t um = umask(0);
	umask(um);
	if (fchmod(o->fd, 0666 & ~um) < 0) {
		int r = -errno;
		close(o->fd);
		unlink(o->tmp);
		o->fd = -1;
		return r;
	}
	return 0;
}

static void ctl_out_drop(struct ctl_out *o)
{
	if (o->fd >= 0) {
		close(o->fd);
		unlink(o->tmp);
		o->fd = -1;
	}
}

static int ctl_out_commit(struct ctl_out *o)
{
	int r = 0;
	if (fsync(o->fd) < 0 || rename(o->tmp, o->path) < 0) {
		r = -errno;
		unlink(o->tmp);
	}
	close(o->fd);
	o->fd = -1;
	return r;
}

int ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *session, *at_s;
	int first = ctl_parse_session_opts(ctx, "export", argc, argv, "at", &session, &at_s);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (first + 1 != argc)
		return ctl_usage_error(ctx, "export", first == argc ? "needs FILE.glb, FILE.gltf or FILE.obj"
								    : "unexpected argument '%s'",
				       argv[argc - 1]);
	const char *path = argv[first];
	enum th_export_format fmt = th_export_format_of(path);
	if (!fmt)
		return ctl_usage_error(ctx, "export", "'%s' must end in .glb, .gltf or .obj (the format follows the name)",
				       path);
	uint64_t at = 0;
	if (at_s) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(at_s, &end, 10);
		if (errno || end == at_s || *end || at_s[0] == '-' || at_s[0] == '+' || v > INT64_MAX)
			return ctl_usage_error(ctx, "export", "--at needs a log position (a whole number from 0), not '%s'",
					       at_s);
		at = v;
	}
	/* FILE.obj's materials go to FILE.mtl. */
	char mtl_path[PATH_MAX] = "", mtl_base[PATH_MAX] = "";
	if (fmt == TH_EXPORT_OBJ) {
		size_t n = strlen(path);
		if (n + 1 > sizeof(mtl_path))
			return ctl_usage_error(ctx, "export", "the file name is too long");
		memcpy(mtl_path, path, n + 1);
		memcpy(mtl_path + n - 4, ".mtl", 4);
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s", mtl_path);
		snprintf(mtl_base, sizeof(mtl_base), "%s", basename(tmp));
	}
	struct ctl_out out = { .fd = -1 }, mtl = { .fd = -1 };
	int r = ctl_out_open(&out, path);
	if (r == 0 && fmt == TH_EXPORT_OBJ)
		r = ctl_out_open(&mtl, mtl_path);
	if (r < 0) {
		ctl_eprintf(ctx, "%s export: cannot create %s: %s\n", ctx->prog,
			fmt == TH_EXPORT_OBJ && out.fd >= 0 ? mtl_path : path, strerror(-r));
		ctl_out_drop(&out);
		return CTL_EXIT_ERROR;
	}
	struct ctl_ctx cx = *ctx;
	if (!cx.timeout_s)
		cx.timeout_s = CTL_EXPORT_TIMEOUT_S;
	int rc = CTL_EXIT_ERROR, sock = ctl_open(&cx);
	struct json_object *args = json_object_new_object(), *res = NULL;
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	if (at_s)
		json_object_object_add(args, "at", json_object_new_int64((int64_t)at));
	json_object_object_add(args, "format", json_object_new_string(fmt == TH_EXPORT_GLB    ? "glb"
								      : fmt == TH_EXPORT_GLTF ? "gltf"
											      : "obj"));
	if (fmt == TH_EXPORT_OBJ)
		json_object_object_add(args, "mtl_name", json_object_new_string(mtl_base));
	if (sock >= 0) {
		int fds[2] = { out.fd, mtl.fd };
		char code[CTL_CODE_LEN], err[CTL_EXPORT_ERR_LEN];
		r = ctl_ask_fds(&cx, sock, "export", args, fds, fmt == TH_EXPORT_OBJ ? 2 : 1, &res, code, err, sizeof(err));
		close(sock);
		if (r != 0) {
			ctl_eprintf(ctx, "%s export: %s\n", ctx->prog, err);
		} else if ((r = ctl_out_commit(&out)) < 0 || (fmt == TH_EXPORT_OBJ && (r = ctl_out_commit(&mtl)) < 0)) {
			ctl_eprintf(ctx, "%s export: cannot put the file in place at %s: %s\n", ctx->prog,
				out.fd < 0 && fmt == TH_EXPORT_OBJ ? mtl_path : path, strerror(-r));
		} else {
			rc = CTL_EXIT_OK;
			if (ctx->json) {
				json_object_object_add(res, "file", json_object_new_string(path));
				if (fmt == TH_EXPORT_OBJ)
					json_object_object_add(res, "mtl_file", json_object_new_string(mtl_path));
				ctl_print_json(res);
			} else {
				printf("wrote %s (%lld bytes): %lld nodes, %lld meshes, %lld faces (%lld triangles) by %lld "
				       "authors, %lld materials; session %s at log position %lld\n",
				       path, ctl_jint(res, "bytes"), ctl_jint(res, "nodes"), ctl_jint(res, "meshes"),
				       ctl_jint(res, "faces"), ctl_jint(res, "triangles"), ctl_jint(res, "authors"),
				       ctl_jint(res, "materials"), ctl_jstr(res, "session"), ctl_jint(res, "position"));
				if (fmt == TH_EXPORT_OBJ)
					printf("wrote %s (%lld bytes)\n", mtl_path, ctl_jint(res, "mtl_bytes"));
			}
		}
	}
	json_object_put(args);
	json_object_put(res);
	ctl_out_drop(&out);
	ctl_out_drop(&mtl);
	return rc;
}
