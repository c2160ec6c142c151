/* The `export` control command (`thetactl export`): writes a session's
 * scene as glTF 2.0 (.glb / .gltf) or OBJ + MTL (common/th_export.h,
 * docs/export.md) into the file descriptors thetactl passed with the
 * request (SCM_RIGHTS on control.sock): thetactl opens FILE as the user
 * who runs it, so the daemon writes only where that user may, and never
 * opens a path of its own. The scene is the live fold's, or with "at" the
 * log's positions 0 .. at - 1 folded anew.
 *
 * The export runs on the loop, as the other control commands do: the
 * loop is busy while it writes (make bench-mesh: bench_export prints the
 * rate; a 1 M-triangle scene takes a fraction of a second), and a rebuild
 * for "at" reads the whole log. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "clog/clog.h"
#include "sess/module_int.h"
#include "sess/scene.h"
#include "srv/control.h"
#include "th_err.h"
#include "th_export.h"
#include "th_fold.h"

static bool sess_export_writable(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && ((fl & O_ACCMODE) == O_WRONLY || (fl & O_ACCMODE) == O_RDWR);
}

/* args.format into *fmt, args.at into *at (UINT64_MAX: absent),
 * args.mtl_name into *mtl; -EINVAL with err set. */
static int sess_export_args(struct json_object *args, enum th_export_format *fmt, uint64_t *at, const char **mtl,
			    char *err, size_t errlen)
{
	struct json_object *v;
	*at = UINT64_MAX;
	*mtl = NULL;
	const char *f = args && json_object_object_get_ex(args, "format", &v) && json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: NULL;
	*fmt = !f ? 0 : !strcmp(f, "glb") ? TH_EXPORT_GLB : !strcmp(f, "gltf") ? TH_EXPORT_GLTF
		: !strcmp(f, "obj") ? TH_EXPORT_OBJ : 0;
	if (!*fmt) {
		snprintf(err, errlen, "export: \"format\" must be \"glb\", \"gltf\" or \"obj\"");
		return -EINVAL;
	}
	if (args && json_object_object_get_ex(args, "at", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			snprintf(err, errlen, "export: \"at\" must be a log position (a whole number from 0)");
			return -EINVAL;
		}
		*at = (uint64_t)json_object_get_int64(v);
	}
	if (args && json_object_object_get_ex(args, "mtl_name", &v)) {
		const char *n = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!n || !n[0] || strlen(n) > TH_EXPORT_NAME_MAX || strpbrk(n, "/\n\r")) {
			snprintf(err, errlen, "export: \"mtl_name\" must be a file name (no '/', no line break, at most "
					      "%u bytes)", TH_EXPORT_NAME_MAX);
			return -EINVAL;
		}
		*mtl = n;
	}
	return 0;
}

int sess_cmd_export(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		    char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	enum th_export_format fmt;
	uint64_t at;
	const char *mtl;
	int r = sess_pick_open(m, caller, args, &s, err, errlen);
	if (r < 0)
		return r;
	if ((r = sess_export_args(args, &fmt, &at, &mtl, err, errlen)) < 0)
		return r;
	if (caller->n_fds < 1 || caller->fds[0] < 0) {
		snprintf(err, errlen, "export needs the output file passed with the request (thetactl export opens "
				      "it and passes it); none came");
		return -EINVAL;
	}
	int fd = caller->fds[0], mtl_fd = fmt == TH_EXPORT_OBJ && caller->n_fds > 1 ? caller->fds[1] : -1;
	if (!sess_export_writable(fd) || (mtl_fd >= 0 && !sess_export_writable(mtl_fd))) {
		snprintf(err, errlen, "the file passed for the export is not open for writing");
		return -EBADF;
	}
	struct th_fold *own = NULL, *f;
	uint64_t pos;
	if (at == UINT64_MAX) {
		if (!(f = sess_scene_fold(s))) {
			snprintf(err, errlen, "session %s: the scene is not live yet (it is being rebuilt or caught up); "
					      "try again", s->id);
			return -EAGAIN;
		}
		pos = sess_scene_position(s);
	} else {
		r = sess_scene_fold_at(s, at, &own);
		if (r == -ERANGE) {
			snprintf(err, errlen, "session %s: position %" PRIu64 " is past the end of the log (%" PRIu64
					      " entries)", s->id, at, clog_count(s->log));
			return -EINVAL;
		}
		if (r < 0) {
			snprintf(err, errlen, "session %s: the scene at position %" PRIu64 " could not be rebuilt: %s",
				 s->id, at, r == -EAGAIN ? "the session's host key is not known yet" : th_strerror(r));
			return r == -EAGAIN ? r : -EIO;
		}
		f = own;
		pos = at;
	}
	struct th_export_config c = { .format = fmt, .session = s->id, .position = pos, .mtl_name = mtl,
				      .generator = "Theta " THETA_VERSION };
	struct th_export_stats st;
	r = th_export_scene(th_fold_scene(f), &c, fd, mtl_fd, &st);
	th_fold_destroy(&own);
	if (r < 0) {
		if (r == -EFBIG)
			snprintf(err, errlen, "session %s: the scene is too large for this format (a .glb holds at most "
					      "4 GiB, a primitive at most 2^32 - 1 vertices); try .gltf or .obj", s->id);
		else if (r == -ENOSPC)
			snprintf(err, errlen, "session %s: the export failed: no space left on the file's device (or "
					      "more than %u authors)", s->id, TH_EXPORT_AUTHORS_MAX);
		else
			snprintf(err, errlen, "session %s: writing the export failed: %s", s->id, th_strerror(r));
		return r == -EFBIG ? -EINVAL : -EIO;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "session", json_object_new_string(s->id));
	json_object_object_add(o, "format", json_object_new_string(fmt == TH_EXPORT_GLB    ? "glb"
								   : fmt == TH_EXPORT_GLTF ? "gltf"
											   : "obj"));
	json_object_object_add(o, "position", json_object_new_uint64(pos));
	json_object_object_add(o, "bytes", json_object_new_uint64(st.bytes));
	if (fmt == TH_EXPORT_OBJ)
		json_object_object_add(o, "mtl_bytes", json_object_new_uint64(st.mtl_bytes));
	json_object_object_add(o, "nodes", json_object_new_uint64(st.nodes));
	json_object_object_add(o, "meshes", json_object_new_uint64(st.meshes));
	json_object_object_add(o, "materials", json_object_new_uint64(st.materials));
	json_object_object_add(o, "faces", json_object_new_uint64(st.faces));
	json_object_object_add(o, "triangles", json_object_new_uint64(st.triangles));
	json_object_object_add(o, "vertices", json_object_new_uint64(st.vertices));
	json_object_object_add(o, "authors", json_object_new_uint64(st.authors));
	*res = o;
	return 0;
}
