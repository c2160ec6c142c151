/* demo_edit: one scripted scene edit from a real IPC client, for `make
 * demo` (scripts/demo) and for trying the scene by hand. It connects to a
 * daemon's client.sock as the calling user (tests/lib/net_client.h), hears
 * the current session's log from the start (RESYNC_REQUEST from 0) to
 * learn the meshes and element ids (tests/lib/scene_edits.h), submits one
 * command, waits for its acknowledgement and prints one line:
 *
 *   mesh.create lamport 7 seq 3 mesh 0x1f... entity 0x9c...
 *
 * Usage: demo_edit --runtime-dir DIR COMMAND ARGS
 *   cube X Y Z SIZE           mesh.create: a cube of edge SIZE m at (X, Y, Z)
 *   move MESH CORNER X Y Z    mesh.patch: corner CORNER (0..7) of cube MESH
 *                             (its id, as cube printed it) to (X, Y, Z)
 *   remove-face MESH FACE     mesh.patch: remove face FACE (0..5) of cube MESH
 *   place MESH X Y Z          component.write: the cube's Transform position
 *   undo [LAMPORT]            edit.undo of this user's entry LAMPORT (default:
 *                             their newest scene edit)
 * A mesh made on another daemon may still be on its way: the tool waits up
 * to DEMO_WAIT_MS for it. Exit status 0, 1 (refused, not found, no daemon:
 * one sentence on stderr), 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h" /* thetactl/ctl.h: the control socket's framing */
#include "net_client.h"
#include "scene_edits.h"

#define DEMO_WAIT_MS 10000
#define DEMO_BUF 8192

static struct se_model model;
static uint64_t own_lamport, own_seq; /* this user's newest entry heard */

static void demo_on_event(void *ud, const struct th_logrec_entry *e)
{
	if (se_model_on_entry(&model, e) == 1 && model.self_known &&
	    !memcmp(e->author, model.self, TH_LOGREC_KEY_LEN)) {
		own_lamport = e->lamport;
		own_seq = e->seq;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: demo_edit --runtime-dir DIR cube X Y Z SIZE | move MESH CORNER X Y Z |\n"
			"       remove-face MESH FACE | place MESH X Y Z | undo [LAMPORT]\n");
	return 2;
}

/* One control request's result (whoami, sessions); NULL after a sentence. */
static struct json_object *demo_ctl(const char *dir, const char *cmd)
{
	int fd = ctl_connect(dir);
	if (fd < 0) {
		fprintf(stderr, "demo_edit: thetad is not running at %s/control.sock: %s\n", dir, strerror(-fd));
		return NULL;
	}
	char req[64], *reply = NULL;
	size_t len;
	snprintf(req, sizeof(req), "{\"cmd\": \"%s\"}", cmd);
	int r = ctl_send_frame(fd, req, strlen(req));
	if (r == 0)
		r = ctl_recv_frame(fd, &reply, &len);
	close(fd);
	struct json_object *o = r == 0 ? json_tokener_parse(reply) : NULL, *ok, *res = NULL;
	free(reply);
	if (o && json_object_object_get_ex(o, "ok", &ok) && json_object_get_boolean(ok) &&
	    json_object_object_get_ex(o, "result", &res))
		res = json_object_get(res);
	else
		fprintf(stderr, "demo_edit: thetad did not answer '%s'\n", cmd);
	json_object_put(o);
	return res;
}

/* The entry count of the daemon's current session, or -1. */
static int64_t demo_entries(const char *dir)
{
	struct json_object *r = demo_ctl(dir, "sessions"), *arr, *v;
	int64_t n = -1;
	if (r && json_object_object_get_ex(r, "sessions", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *s = json_object_array_get_idx(arr, i);
			if (json_object_object_get_ex(s, "current", &v) && json_object_get_boolean(v) &&
			    json_object_object_get_ex(s, "entries", &v))
				n = json_object_get_int64(v);
		}
	json_object_put(r);
	return n;
}

static bool demo_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool demo_coords(char **argv, float out[3])
{
	for (int i = 0; i < 3; i++) {
		double v;
		if (!demo_num(argv[i], -1000, 1000, &v)) {
			fprintf(stderr, "demo_edit: '%s' is not a coordinate in metres (-1000 to 1000)\n", argv[i]);
			return false;
		}
		out[i] = (float)v;
	}
	return true;
}

/* The cube named by its mesh id, waiting for it to arrive. */
static struct se_mesh *demo_mesh(struct nc_client *c, const char *arg)
{
	char *end;
	errno = 0;
	uint64_t id = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || !id) {
		fprintf(stderr, "demo_edit: '%s' is not a mesh id (as `demo_edit cube` prints it)\n", arg);
		return NULL;
	}
	uint64_t until = th_now_ns() + (uint64_t)DEMO_WAIT_MS * TH_NS_PER_MS;
	struct se_mesh *m;
	while (!(m = se_mesh_find(&model, id)) && th_now_ns() < until)
		if (nc_poll(c, 50) < 0)
			break;
	if (!m)
		fprintf(stderr, "demo_edit: no mesh %s in this session (not made by mesh.create, or not here yet)\n", arg);
	else if (m->n_verts < 8 || m->n_faces < 6)
		fprintf(stderr, "demo_edit: mesh %s is not one of demo_edit's cubes\n", arg), m = NULL;
	return m;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "--runtime-dir"))
		return usage();
	const char *dir = argv[2], *cmd = argv[3];
	char **av = argv + 4;
	int ac = argc - 4;

	struct json_object *who = demo_ctl(dir, "whoami"), *v;
	if (!who || !json_object_object_get_ex(who, "key", &v))
		return 1;
	se_model_init(&model, json_object_get_string(v));
	json_object_put(who);
	int64_t have = demo_entries(dir);
	if (have < 0) {
		fprintf(stderr, "demo_edit: the daemon at %s has no current session (thetactl session host or join)\n",
			dir);
		return 1;
	}

	struct nc_client c;
	int r = nc_connect(&c, dir, 5000);
	if (r < 0) {
		fprintf(stderr, "demo_edit: cannot connect to %s/client.sock: %s\n", dir, strerror(-r));
		return 1;
	}
	c.on_event = demo_on_event;
	/* The session so far: every entry, so ids and own edits are known. */
	uint64_t until = th_now_ns() + (uint64_t)DEMO_WAIT_MS * TH_NS_PER_MS;
	if (nc_resync(&c, 0) < 0)
		return 1;
	while ((int64_t)c.next_pos < have && th_now_ns() < until)
		if (nc_poll(&c, 50) < 0)
			break;

	uint8_t buf[DEMO_BUF];
	uint16_t type = 0;
	uint64_t scope = 0;
	int n = -EINVAL;
	float p[3];
	double x;
	struct se_mesh *m = NULL;
	if (!strcmp(cmd, "cube") && ac == 4) {
		if (!demo_coords(av, p) || !demo_num(av[3], 0.01, 100, &x)) {
			fprintf(stderr, "demo_edit: SIZE must be an edge length in metres (0.01 to 100)\n");
			return 1;
		}
		type = TH_CMD_MESH_CREATE;
		n = se_cube(p, (float)x, buf, sizeof(buf));
	} else if (!strcmp(cmd, "move") && ac == 5) {
		if (!(m = demo_mesh(&c, av[0])))
			return 1;
		if (!demo_num(av[1], 0, 7, &x) || x != (int)x) {
			fprintf(stderr, "demo_edit: CORNER must be 0 to 7\n");
			return 1;
		}
		if (!demo_coords(av + 2, p))
			return 1;
		static struct th_pl_mesh_patch mp;
		mp.ops_count = 0;
		struct th_pl_mesh_op *o = se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_VERTEX_MOVE, m->verts[(int)x], 0);
		memcpy(o->position, p, sizeof(p));
		type = TH_CMD_MESH_PATCH;
		scope = m->id;
		n = th_cmd_payload_encode(type, &mp, buf, sizeof(buf));
	} else if (!strcmp(cmd, "remove-face") && ac == 2) {
		if (!(m = demo_mesh(&c, av[0])))
			return 1;
		if (!demo_num(av[1], 0, 5, &x) || x != (int)x) {
			fprintf(stderr, "demo_edit: FACE must be 0 to 5\n");
			return 1;
		}
		static struct th_pl_mesh_patch mp;
		mp.ops_count = 0;
		se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_REMOVE, m->faces[(int)x].id, 0);
		type = TH_CMD_MESH_PATCH;
		scope = m->id;
		n = th_cmd_payload_encode(type, &mp, buf, sizeof(buf));
	} else if (!strcmp(cmd, "place") && ac == 4) {
		if (!(m = demo_mesh(&c, av[0])) || !demo_coords(av + 1, p))
			return 1;
		type = TH_CMD_COMPONENT_WRITE;
		scope = m->entity;
		n = se_transform(p, buf, sizeof(buf));
	} else if (!strcmp(cmd, "undo") && ac <= 1) {
		if (!model.self_known || !model.n_own) {
			fprintf(stderr, "demo_edit: you have made no edit in this session to undo\n");
			return 1;
		}
		uint64_t lamport = model.own[(model.n_own - 1) % SE_OWN_MAX];
		if (ac == 1 && (!demo_num(av[0], 1, 1e19, &x) || !(lamport = strtoull(av[0], NULL, 10)))) {
			fprintf(stderr, "demo_edit: LAMPORT must be a positive number (thetactl log shows them)\n");
			return 1;
		}
		type = TH_CMD_EDIT_UNDO;
		n = se_undo(&model, true, lamport, buf, sizeof(buf));
	} else {
		return usage();
	}
	if (n < 0) {
		fprintf(stderr, "demo_edit: cannot encode the payload: %s\n", strerror(-n));
		return 1;
	}
	if (nc_submit_raw(&c, type, scope, buf, (uint32_t)n) <= 0) {
		fprintf(stderr, "demo_edit: the client ring is full\n");
		return 1;
	}
	uint64_t seq_before = own_seq;
	until = th_now_ns() + (uint64_t)DEMO_WAIT_MS * TH_NS_PER_MS;
	while (!c.acks && !c.rejects && th_now_ns() < until)
		if (nc_poll(&c, 50) < 0)
			break;
	if (c.rejects) {
		fprintf(stderr, "demo_edit: the daemon refused the edit: %s\n", c.last_reject);
		return 1;
	}
	if (!c.acks) {
		fprintf(stderr, "demo_edit: no answer from the daemon within %d s\n", DEMO_WAIT_MS / 1000);
		return 1;
	}
	/* Our entry's EVENT follows the ack: its lamport and seq name it. */
	while (own_seq == seq_before && th_now_ns() < until)
		if (nc_poll(&c, 50) < 0)
			break;
	if (own_seq == seq_before) {
		fprintf(stderr, "demo_edit: the edit was acknowledged but its entry did not come back\n");
		return 1;
	}
	uint64_t ack_lamport = own_lamport, ack_seq = own_seq;
	printf("%s lamport %" PRIu64 " seq %" PRIu64, th_cmd_find(type)->name, ack_lamport, ack_seq);
	if (type == TH_CMD_MESH_CREATE)
		printf(" mesh 0x%016" PRIx64 " entity 0x%016" PRIx64,
		       th_id_derive(TH_ID_MESH_ELEMENT, model.self, ack_seq, 0),
		       th_id_derive(TH_ID_ENTITY, model.self, ack_seq, 0));
	printf("\n");
	nc_close(&c);
	return 0;
}
