/* thetad keeps every session's scene (issue 10): a real daemon folds what a
 * client submits (mesh.create, mesh.patch, component.write, material.set),
 * `scene` reports the counts and a world hash equal to folding the log's
 * files offline with th_fold; a patch naming a deleted face is refused and
 * counted; after kill -9 the scene comes back from the checkpoint plus the
 * log's tail with the same hash; a damaged checkpoint is counted and the
 * older one, or the whole log, used instead; a host and a member that
 * joined it reach the same world hash; an unknown session is a sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sess/scene.h"
#include "ctl.h"
#include "net_client.h"
#include "net_fixture.h"
#include "th_fold.h"
#include "th_hex.h"
#include "th_id.h"
#include "th_logfile.h"
#include "th_scene.h"

#define WAIT_MS 30000

/* ---- the `scene` command --------------------------------------------------- */

/* `scene` for session id (NULL: the current one): the reply's result, or
 * NULL with the error sentence in err. */
static struct json_object *scene_call(struct nf_daemon *d, const char *id, char *err, size_t errlen)
{
	char json[256];
	if (id)
		snprintf(json, sizeof(json), "{\"cmd\":\"scene\",\"args\":{\"session\":\"%s\"}}", id);
	else
		snprintf(json, sizeof(json), "{\"cmd\":\"scene\",\"args\":{}}");
	int fd = ctl_connect(d->p.runtime_dir);
	char *reply = NULL;
	size_t len;
	assert_true(fd >= 0);
	assert_int_equal(ctl_send_frame(fd, json, strlen(json)), 0);
	assert_int_equal(ctl_recv_frame(fd, &reply, &len), 0);
	close(fd);
	struct json_object *o = json_tokener_parse(reply), *v, *res = NULL;
	free(reply);
	assert_non_null(o);
	if (json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v)) {
		assert_true(json_object_object_get_ex(o, "result", &v));
		res = json_object_get(v);
	} else if (err) {
		snprintf(err, errlen, "%s",
			 json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) : "(no error text)");
	}
	json_object_put(o);
	return res;
}

static uint64_t ju(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("`scene` has no \"%s\"", key);
	return json_object_get_uint64(v);
}

static const char *js(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		fail_msg("`scene` has no string \"%s\"", key);
	return json_object_get_string(v);
}

/* Waits until d's scene of id is live and has folded the log's `want`
 * entries; returns the `scene` reply. */
static struct json_object *scene_wait(struct nf_daemon *d, const char *id, uint64_t want)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	struct json_object *r = NULL;
	for (;;) {
		r = scene_call(d, id, NULL, 0);
		if (r) {
			struct json_object *v;
			if (json_object_object_get_ex(r, "state", &v) && !strcmp(json_object_get_string(v), "live") &&
			    json_object_object_get_ex(r, "log_position", &v) && json_object_get_uint64(v) == want)
				return r;
		}
		if (th_now_ns() >= end)
			break;
		json_object_put(r);
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
	fail_msg("the scene of %s did not reach position %llu: %s\n--- the daemon's log:\n%s", id,
		 (unsigned long long)want, r ? json_object_to_json_string(r) : "(no reply)", th_daemon_log(&d->p));
	return NULL;
}

/* Waits until metric `name` of d reaches at least want; returns it. */
static uint64_t metric_wait(struct nf_daemon *d, const char *name, uint64_t want)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS, v;
	while ((v = nf_metric(d, name)) < want && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	return v;
}

/* ---- folding the log offline --------------------------------------------------- */

struct offline {
	struct th_fold *f;
	uint64_t n;
	int err;
};

static int offline_record(void *user, const struct th_logscan_rec *r)
{
	struct offline *o = user;
	int rc = th_fold_add(o->f, &r->entry, r->index);
	if (rc < 0)
		o->err = rc;
	o->n++;
	return 0;
}

/* The entries of a log, copied, to fold in another order. */
struct copied {
	struct th_logrec_entry *e;
	uint64_t *pos;
	size_t n, cap;
};

static int copy_record(void *user, const struct th_logscan_rec *r)
{
	struct copied *c = user;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->e = realloc(c->e, c->cap * sizeof(*c->e));
		c->pos = realloc(c->pos, c->cap * sizeof(*c->pos));
		assert_non_null(c->e);
		assert_non_null(c->pos);
	}
	c->e[c->n] = r->entry;
	uint8_t *p = malloc(r->entry.payload_len + 1);
	assert_non_null(p);
	memcpy(p, r->entry.payload, r->entry.payload_len);
	c->e[c->n].payload = p;
	c->pos[c->n] = r->index;
	c->n++;
	return 0;
}

static int total_order(const void *a, const void *b)
{
	const struct th_logrec_entry *x = a, *y = b;
	if (x->lamport != y->lamport)
		return x->lamport < y->lamport ? -1 : 1;
	return memcmp(x->author, y->author, sizeof(x->author));
}

/* The world hash of d's log of session id folded in total order, sorted
 * first (no entry arrives below another), and the number of refusals. */
static void total_order_hash(struct nf_daemon *d, const char *id, char hex[65], uint64_t *refused)
{
	char dir[4300];
	struct copied c = { 0 };
	struct th_fold_config fc = { 0 };
	struct th_fold *f;
	struct th_logscan_result res;
	struct th_fold_stats st;
	uint8_t h[TH_SCENE_HASH_LEN];
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", d->p.state_dir, id);
	assert_int_equal(th_logscan_dir(dir, &(struct th_logscan_ops){ .record = copy_record }, &c, &res), 0);
	assert_true(res.ok);
	qsort(c.e, c.n, sizeof(*c.e), total_order);
	assert_int_equal(th_fold_create(&fc, &f), 0);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(th_fold_add(f, &c.e[i], i), 0);
	th_fold_stats(f, &st);
	*refused = st.refused;
	assert_int_equal(th_fold_world_hash(f, h), 0);
	th_hex_encode(h, sizeof(h), hex);
	th_fold_destroy(&f);
	for (size_t i = 0; i < c.n; i++)
		free((void *)c.e[i].payload);
	free(c.e);
	free(c.pos);
}

/* The world hash (hex) of d's log of session id folded here, from the
 * files; the number of entries into *n. */
static void offline_hash(struct nf_daemon *d, const char *id, char hex[65], uint64_t *n)
{
	char dir[4300];
	struct offline o = { 0 };
	struct th_fold_config c = { 0 };
	struct th_logscan_result res;
	uint8_t h[TH_SCENE_HASH_LEN];
	snprintf(dir, sizeof(dir), "%s/sessions/%s/log", d->p.state_dir, id);
	assert_int_equal(th_fold_create(&c, &o.f), 0);
	assert_int_equal(th_logscan_dir(dir, &(struct th_logscan_ops){ .record = offline_record }, &o, &res), 0);
	assert_true(res.ok);
	assert_int_equal(o.err, 0);
	assert_int_equal(th_fold_world_hash(o.f, h), 0);
	th_hex_encode(h, sizeof(h), hex);
	*n = o.n;
	th_fold_destroy(&o.f);
}

/* ---- a client that edits --------------------------------------------------------- */

/* The client's own entries among its events (a member's client also
 * gets what the host relays, in any order with its own). */
struct seen {
	char me[TH_KEY_FPR_LEN];
	uint8_t author[32];
	uint64_t seq, lamport, n;
};

static void on_event(void *ud, const struct th_logrec_entry *e)
{
	struct seen *s = ud;
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(e->author, fpr, sizeof(fpr));
	if (strcmp(fpr, s->me))
		return;
	memcpy(s->author, e->author, 32);
	s->seq = e->seq;
	s->lamport = e->lamport;
	s->n++;
}

/* A client of d that edits as the test's user (whoami: its key). */
static void editor_connect(struct nf_daemon *d, struct nc_client *c, struct seen *s)
{
	int fd = ctl_connect(d->p.runtime_dir);
	char *reply = NULL;
	size_t len;
	const char *rq = "{\"cmd\":\"whoami\"}";
	assert_true(fd >= 0);
	assert_int_equal(ctl_send_frame(fd, rq, strlen(rq)), 0);
	assert_int_equal(ctl_recv_frame(fd, &reply, &len), 0);
	close(fd);
	struct json_object *o = json_tokener_parse(reply), *r, *k;
	free(reply);
	assert_true(o && json_object_object_get_ex(o, "result", &r) && json_object_object_get_ex(r, "key", &k));
	memset(s, 0, sizeof(*s));
	snprintf(s->me, sizeof(s->me), "%s", json_object_get_string(k));
	json_object_put(o);
	assert_int_equal(nc_connect(c, d->p.runtime_dir, 5000), 0);
	c->on_event = on_event;
	c->ud = s;
}

/* Submits type/scope/payload m and waits for its ack and its event; the
 * entry's author and seq into *s. */
static void edit(struct nc_client *c, struct seen *s, uint16_t type, uint64_t scope, const void *m)
{
	static uint8_t pl[TH_LOGREC_BODY_MAX];
	int n = th_cmd_payload_encode(type, m, pl, sizeof(pl));
	assert_true(n >= 0);
	uint64_t acks = c->acks, events = s->n;
	assert_true(nc_submit_raw(c, type, scope, pl, (uint32_t)n) > 0);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while ((c->acks == acks || s->n == events) && c->rejects == 0 && th_now_ns() < end)
		assert_true(nc_poll(c, 50) >= 0);
	if (c->rejects)
		fail_msg("the daemon refused the command: %s", c->last_reject);
	assert_true(c->acks > acks && s->n > events);
}

static void transform_value(float x, uint8_t *out, uint16_t *len)
{
	struct th_c_transform t = { .position = { x, 0, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, out, TH_PL_VALUE_MAX);
	assert_true(n > 0);
	*len = (uint16_t)n;
}

struct made {
	uint64_t entity, mesh, face, vertex[4];
};

/* A quad (mesh.create), a moved vertex, a Transform write, the face
 * removed, a patch naming the removed face (refused), a material and a
 * second Transform write: 7 entries, one refused. */
static void edit_quad(struct nc_client *c, struct seen *s, float x, struct made *out)
{
	static struct th_pl_mesh_create mc;
	static struct th_pl_mesh_patch mp;
	static const float corners[4][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 } };
	memset(&mc, 0, sizeof(mc));
	const float tr[10] = { x, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(mc.transform, tr, sizeof(tr));
	for (int i = 0; i < 4; i++) {
		mc.ops[i].op = TH_PL_MESH_OP_VERTEX_ADD;
		memcpy(mc.ops[i].position, corners[i], sizeof(corners[i]));
	}
	mc.ops[4].op = TH_PL_MESH_OP_FACE_ADD;
	for (int i = 0; i < 4; i++) {
		mc.ops[5 + i].op = TH_PL_MESH_OP_LOOP;
		mc.ops[5 + i].arg = TH_PL_MESH_REF_LOCAL;
		mc.ops[5 + i].element = (uint64_t)i + 1;
	}
	mc.ops_count = 9;
	edit(c, s, TH_CMD_MESH_CREATE, 0, &mc);
	out->entity = th_id_derive(TH_ID_ENTITY, s->author, s->seq, 0);
	out->mesh = th_id_derive(TH_ID_MESH_ELEMENT, s->author, s->seq, 0);
	for (uint32_t i = 0; i < 4; i++)
		out->vertex[i] = th_id_derive(TH_ID_MESH_ELEMENT, s->author, s->seq, i + 1);
	out->face = th_id_derive(TH_ID_MESH_ELEMENT, s->author, s->seq, 5);

	memset(&mp, 0, sizeof(mp));
	mp.ops_count = 1;
	mp.ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_MOVE, .element = out->vertex[2],
					    .position = { 1.5f, 1.25f, 0.5f } };
	edit(c, s, TH_CMD_MESH_PATCH, out->mesh, &mp);

	uint8_t value[TH_PL_VALUE_MAX];
	struct th_pl_component_write w = { .component = th_component_id(TH_COMP_TRANSFORM), .value = value };
	transform_value(x + 2, value, &w.value_len);
	edit(c, s, TH_CMD_COMPONENT_WRITE, out->entity, &w);

	mp.ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_REMOVE, .element = out->face };
	edit(c, s, TH_CMD_MESH_PATCH, out->mesh, &mp);
	/* The face is gone: this patch names a missing element. */
	mp.ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_MATERIAL, .element = out->face, .arg = 1 };
	edit(c, s, TH_CMD_MESH_PATCH, out->mesh, &mp);

	struct th_pl_material_set ms = { .index = 1, .base_color = { 0.5f, 0.25f, 1, 1 },
					 .roughness_metallic = { 0.5f, 0 } };
	snprintf(ms.name, sizeof(ms.name), "clay");
	edit(c, s, TH_CMD_MATERIAL_SET, 0, &ms);
	transform_value(x + 3, value, &w.value_len);
	edit(c, s, TH_CMD_COMPONENT_WRITE, out->entity, &w);
}

/* ---- checkpoint files --------------------------------------------------------------- */

static void ckpt_file(struct nf_daemon *d, const char *id, uint64_t pos, char *path, size_t cap)
{
	snprintf(path, cap, "%s/sessions/%s/checkpoints/ckpt-%020llu.thck", d->p.state_dir, id,
		 (unsigned long long)pos);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t b;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static char *slurp_bin(const char *path, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	char *b = malloc((size_t)sb.st_size + 1);
	assert_int_equal(read(fd, b, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static void put_bin(const char *path, const char *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/* Restarts d (started by nf_start) with a configuration file whose
 * [scene] section says interval and fork_elements (0: every checkpoint
 * by a forked child; a large number: by the writer thread); conf[cap]
 * holds its path. */
static void restart_with_conf(struct nf_daemon *d, const char *interval, unsigned fork_elements, char *conf,
			      size_t cap)
{
	snprintf(conf, cap, "%s/scene.conf", d->p.dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[scene]\ncheckpoint_entries = 4\ncheckpoint_interval = \"%s\"\ncheckpoint_fork_elements = %u\n",
		interval, fork_elements);
	fclose(f);
	nf_kill(d, SIGTERM);
	d->args[2] = "--config";
	d->args[3] = conf;
	assert_int_equal(nf_spawn(d), 0);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static uint64_t ckpt_position(struct json_object *r)
{
	struct json_object *c, *v;
	if (!json_object_object_get_ex(r, "checkpoint", &c) || !c || !json_object_object_get_ex(c, "position", &v))
		return UINT64_MAX;
	return json_object_get_uint64(v);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void the_scene_is_folded_and_survives_kill_and_damaged_checkpoints(void **state)
{
	(void)state;
	struct nf_daemon a;
	char id[33], conf[256], hash[65], off[65], path[4400];
	uint64_t n;
	/* A checkpoint every 4 folded entries, none by time, each by a child. */
	nf_start(&a, NULL, NULL);
	restart_with_conf(&a, "1h", 0, conf, sizeof(conf));
	nf_host(&a, "scene", id);

	struct nc_client c;
	struct seen s;
	editor_connect(&a, &c, &s);
	struct made q;
	edit_quad(&c, &s, 0, &q);
	nc_close(&c);

	struct json_object *r = scene_wait(&a, id, 7);
	assert_string_equal(js(r, "session"), id);
	assert_string_equal(js(r, "name"), "scene");
	assert_int_equal(ju(r, "folded"), 7);
	assert_int_equal(ju(r, "applied"), 6);
	assert_int_equal(ju(r, "refused"), 1);
	assert_int_equal(ju(r, "excluded"), 0);
	assert_int_equal(ju(r, "rebuilds"), 0);
	assert_int_equal(ju(r, "entities"), 1);
	assert_int_equal(ju(r, "meshes"), 1);
	assert_int_equal(ju(r, "vertices"), 4);
	assert_int_equal(ju(r, "faces"), 0);
	assert_true(ju(r, "materials") >= 1);
	snprintf(hash, sizeof(hash), "%s", js(r, "world_hash"));
	assert_int_equal(strlen(hash), 64);
	json_object_put(r);
	offline_hash(&a, id, off, &n);
	assert_int_equal(n, 7);
	assert_string_equal(hash, off);
	/* thetactl shows the same: `scene` live, `log verify` offline. */
	r = nf_ctl_json(&a, (const char *const[]){ "scene", "--session", id, "--json", NULL });
	assert_non_null(r);
	assert_string_equal(js(r, "world_hash"), hash);
	assert_int_equal(ju(r, "refused"), 1);
	json_object_put(r);
	char logdir[4400];
	snprintf(logdir, sizeof(logdir), "%s/sessions/%s/log", a.p.state_dir, id);
	r = nf_ctl_json(&a, (const char *const[]){ "log", "verify", logdir, "--json", NULL });
	struct json_object *sc;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "scene", &sc));
	assert_string_equal(js(sc, "world_hash"), hash);
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_refused_total"), 1);
	assert_int_equal(nf_metric(&a, "scene_applied_total"), 6);
	assert_true(metric_wait(&a, "scene_checkpoint_fork_max_us", 1) >= 1); /* a child wrote it */

	/* One checkpoint, of the first four entries. */
	assert_true(metric_wait(&a, "scene_checkpoint_writes_total", 1) >= 1);
	r = scene_call(&a, id, NULL, 0);
	assert_non_null(r);
	assert_int_equal(ckpt_position(r), 4);
	json_object_put(r);
	ckpt_file(&a, id, 4, path, sizeof(path));
	size_t good_len;
	char *good = slurp_bin(path, &good_len);

	/* kill -9: the checkpoint plus the log's tail (3 entries). */
	nf_kill(&a, SIGKILL);
	assert_int_equal(nf_spawn(&a), 0);
	r = scene_wait(&a, id, 7);
	assert_string_equal(js(r, "world_hash"), hash);
	assert_int_equal(ju(r, "refused"), 1);
	assert_int_equal(ckpt_position(r), 4);
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_restored_total"), 1);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_damaged_total"), 0);
	/* The scene of another session than the current one, and the
	 * current one by default. */
	r = scene_call(&a, NULL, NULL, 0);
	assert_non_null(r);
	assert_string_equal(js(r, "session"), id);
	json_object_put(r);

	/* The checkpoint damaged (a byte of its snapshot): counted, logged,
	 * and the whole log replayed to the same hash. */
	nf_kill(&a, SIGKILL);
	flip_byte(path, (off_t)good_len - 3);
	assert_int_equal(nf_spawn(&a), 0);
	r = scene_wait(&a, id, 7);
	assert_string_equal(js(r, "world_hash"), hash);
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_damaged_total"), 1);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_restored_total"), 0);
	assert_non_null(strstr(th_daemon_log(&a.p), "is not used: the checkpoint's CRC-32C does not match"));
	/* The replay wrote a new one, of all seven. */
	assert_true(metric_wait(&a, "scene_checkpoint_writes_total", 1) >= 1);
	char path7[4400];
	ckpt_file(&a, id, 7, path7, sizeof(path7));
	struct stat sb;
	assert_int_equal(stat(path7, &sb), 0);

	/* The newest damaged, the older good again: the older one is used. */
	nf_kill(&a, SIGKILL);
	put_bin(path, good, good_len);
	flip_byte(path7, 40); /* inside the world hash */
	assert_int_equal(nf_spawn(&a), 0);
	r = scene_wait(&a, id, 7);
	assert_string_equal(js(r, "world_hash"), hash);
	assert_int_equal(ckpt_position(r), 4);
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_damaged_total"), 1);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_restored_total"), 1);

	/* A clean stop writes the tail's checkpoint: the next start has
	 * nothing to fold. */
	nf_kill(&a, SIGTERM);
	assert_int_equal(stat(path7, &sb), 0);
	assert_int_equal(nf_spawn(&a), 0);
	r = scene_wait(&a, id, 7);
	assert_string_equal(js(r, "world_hash"), hash);
	assert_int_equal(ckpt_position(r), 7);
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_damaged_total"), 0);
	free(good);
	nf_cleanup(&a);
}

/* The checkpoint folder cannot be made (a file is in its place): every
 * failure is counted, the first logged, the scene stays live and right;
 * once the folder can be made, checkpoints are written again. */
static void a_checkpoint_that_cannot_be_written_is_counted_and_the_scene_goes_on(void **state)
{
	(void)state;
	struct nf_daemon a;
	char id[33], conf[256], path[4400], off[65];
	uint64_t n;
	nf_start(&a, NULL, NULL);
	restart_with_conf(&a, "300ms", 1000000, conf, sizeof(conf)); /* by the writer thread */
	nf_host(&a, "blocked", id);
	snprintf(path, sizeof(path), "%s/sessions/%s/checkpoints", a.p.state_dir, id);
	put_bin(path, "x", 1);

	struct nc_client c;
	struct seen s;
	struct made q;
	editor_connect(&a, &c, &s);
	edit_quad(&c, &s, 0, &q);
	nc_close(&c);
	/* The first at 4 entries, the next after the interval. */
	assert_true(metric_wait(&a, "scene_checkpoint_failures_total", 2) >= 2);
	assert_int_equal(nf_metric(&a, "scene_checkpoint_writes_total"), 0);
	assert_int_equal(count_of(th_daemon_log(&a.p), "writing the scene checkpoint"), 1);
	/* The writer thread wrote them; a child only once an encode on the loop
	 * took over SESS_SCENE_INLINE_MAX_NS (a loaded machine can stall one). */
	if (nf_metric(&a, "scene_checkpoint_fork_max_us") != 0)
		assert_true(nf_metric(&a, "scene_checkpoint_encode_max_us") * 1000 >= SESS_SCENE_INLINE_MAX_NS);
	struct json_object *r = scene_wait(&a, id, 7);
	offline_hash(&a, id, off, &n);
	assert_string_equal(js(r, "world_hash"), off);
	assert_int_equal(ckpt_position(r), UINT64_MAX); /* "checkpoint": null */
	json_object_put(r);

	assert_int_equal(unlink(path), 0);
	assert_true(metric_wait(&a, "scene_checkpoint_writes_total", 1) >= 1);
	assert_non_null(strstr(th_daemon_log(&a.p), "scene checkpoints are written again"));
	r = scene_call(&a, id, NULL, 0);
	assert_non_null(r);
	assert_int_equal(ckpt_position(r), 7);
	json_object_put(r);
	nf_cleanup(&a);
}

static void an_unknown_session_is_a_sentence(void **state)
{
	(void)state;
	struct nf_daemon a;
	char err[512] = "";
	nf_start(&a, NULL, NULL);
	assert_null(scene_call(&a, "nope", err, sizeof(err)));
	assert_non_null(strstr(err, "no session 'nope'"));
	/* The default session has an empty scene. */
	struct json_object *r = scene_wait(&a, NULL, 0);
	assert_int_equal(ju(r, "entities"), 0);
	assert_int_equal(ju(r, "folded"), 0);
	json_object_put(r);
	nf_cleanup(&a);
}

/* a hosts session `name` (its id in id) and b joins it as an editor, both
 * started with env. */
static void host_and_member(struct nf_daemon *a, struct nf_daemon *b, const char *const *env, const char *name,
			    char id[33])
{
	nf_start(a, NULL, env);
	nf_start(b, NULL, env);
	nf_host(a, name, id);
	nf_invite_join(a, b, id, "editor");
}

/* An editor on a and one on b make a quad each (7 entries each, at x 0 and 5). */
static void both_edit_a_quad(struct nf_daemon *a, struct nf_daemon *b)
{
	struct nc_client ca, cb;
	struct seen sa, sb;
	struct made qa, qb;
	editor_connect(a, &ca, &sa);
	edit_quad(&ca, &sa, 0, &qa);
	editor_connect(b, &cb, &sb);
	edit_quad(&cb, &sb, 5, &qb);
	nc_close(&ca);
	nc_close(&cb);
}

/* Waits until a's and b's logs of session id hold the same 14 entries: their
 * scenes at 14 in *ra and *rb (the caller puts them), world hashes in ha, hb. */
static void both_at_14(struct nf_daemon *a, struct nf_daemon *b, const char *id, struct json_object **ra,
		       struct json_object **rb, char ha[65], char hb[65])
{
	struct nf_daemon *ds[2] = { a, b };
	assert_int_equal(nf_wait_logs_equal(ds, 2, id, 14, WAIT_MS), 0);
	*ra = scene_wait(a, id, 14);
	*rb = scene_wait(b, id, 14);
	snprintf(ha, 65, "%s", js(*ra, "world_hash"));
	snprintf(hb, 65, "%s", js(*rb, "world_hash"));
}

static void a_host_and_its_member_reach_the_same_world(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33], ha[65], hb[65];
	host_and_member(&a, &b, NULL, "shared", id);

	both_edit_a_quad(&a, &b);

	struct json_object *ra, *rb;
	both_at_14(&a, &b, id, &ra, &rb, ha, hb);
	assert_string_equal(ha, hb);
	assert_int_equal(ju(ra, "entities"), 2);
	assert_int_equal(ju(rb, "entities"), 2);
	assert_int_equal(ju(ra, "refused"), 2);
	assert_int_equal(ju(rb, "refused"), 2);
	json_object_put(ra);
	json_object_put(rb);
	char off[65];
	uint64_t n;
	offline_hash(&b, id, off, &n);
	assert_int_equal(n, 14);
	assert_string_equal(off, ha);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* Both sides edit through a partition: each gets the other's entries
 * below more than its rollback window (2 entries here), rebuilds its
 * scene from its log, and both end with the same world. */
static void entries_below_the_rollback_window_rebuild_the_scene(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33], ha[65], hb[65], off[65];
	const char *env[] = { "THETAD_TEST_SCENE_WINDOW=2", NULL };
	host_and_member(&a, &b, env, "split", id);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "on", NULL }), 0);

	both_edit_a_quad(&a, &b);
	struct json_object *ra = scene_wait(&a, id, 7), *rb = scene_wait(&b, id, 7);
	assert_int_equal(ju(ra, "rebuilds"), 0);
	assert_int_equal(ju(rb, "rebuilds"), 0);
	json_object_put(ra);
	json_object_put(rb);

	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "off", NULL }), 0);
	both_at_14(&a, &b, id, &ra, &rb, ha, hb);
	assert_string_equal(ha, hb);
	assert_true(ju(ra, "rebuilds") >= 1);
	assert_true(ju(rb, "rebuilds") >= 1);
	assert_int_equal(ju(ra, "refused"), 2);
	assert_int_equal(ju(ra, "entities"), 2);
	json_object_put(ra);
	json_object_put(rb);
	assert_true(nf_metric(&a, "scene_rebuilds_total") >= 1);
	uint64_t n;
	offline_hash(&a, id, off, &n);
	assert_int_equal(n, 14);
	assert_string_equal(off, ha);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* Both sides edit through a partition, so each folds the other's entries
 * below its own (rollbacks): the world and the refusals are those of the
 * entries in total order, folded without any rollback. */
static void concurrent_edits_fold_to_the_world_of_their_total_order(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33], ha[65], hb[65], ho[65];
	host_and_member(&a, &b, NULL, "concurrent", id);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "on", NULL }), 0);
	both_edit_a_quad(&a, &b);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "off", NULL }), 0);
	struct json_object *ra, *rb;
	both_at_14(&a, &b, id, &ra, &rb, ha, hb);
	uint64_t refused;
	total_order_hash(&a, id, ho, &refused);
	assert_int_equal(refused, 2);
	assert_true(ju(ra, "rollbacks") + ju(rb, "rollbacks") >= 1);
	assert_int_equal(ju(ra, "rebuilds"), 0);
	assert_int_equal(ju(ra, "refused"), 2);
	assert_int_equal(ju(rb, "refused"), 2);
	assert_int_equal(ju(ra, "entities"), 2);
	assert_string_equal(ha, ho);
	assert_string_equal(hb, ho);
	json_object_put(ra);
	json_object_put(rb);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* An edit.undo of an entry older than the rollback window (2 entries
 * here): the scene is rebuilt from the log with every entry in reach, once
 * (not in a loop), and ends as the log folded offline says: the undone
 * mesh.create gone, the edits on it refused. */
static void an_undo_past_the_rollback_window_rebuilds_the_scene_once(void **state)
{
	(void)state;
	struct nf_daemon a;
	char id[33], off[65];
	const char *env[] = { "THETAD_TEST_SCENE_WINDOW=2", NULL };
	nf_start(&a, NULL, env);
	nf_host(&a, "undo", id);
	struct nc_client c;
	struct seen s;
	struct made q;
	editor_connect(&a, &c, &s);
	edit_quad(&c, &s, 0, &q);
	/* The mesh.create was the first of the seven. */
	struct th_pl_edit_undo u = { .lamport = s.lamport - 6 };
	memcpy(u.author, s.author, sizeof(u.author));
	edit(&c, &s, TH_CMD_EDIT_UNDO, 0, &u);
	nc_close(&c);
	struct json_object *r = scene_wait(&a, id, 8);
	uint64_t refused;
	total_order_hash(&a, id, off, &refused);
	assert_string_equal(js(r, "world_hash"), off);
	assert_int_equal(ju(r, "rebuilds"), 1);
	assert_int_equal(ju(r, "entities"), 0);
	assert_int_equal(ju(r, "meshes"), 0);
	assert_int_equal(ju(r, "excluded"), 1);
	assert_int_equal(ju(r, "refused"), refused);
	assert_int_equal(ju(r, "window_entries"), 2); /* shrunk again after the rebuild */
	json_object_put(r);
	assert_int_equal(nf_metric(&a, "scene_rebuilds_total"), 1);
	assert_int_equal(nf_metric(&a, "scene_failures_total"), 0);
	nf_cleanup(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_scene_is_folded_and_survives_kill_and_damaged_checkpoints, nf_teardown),
		cmocka_unit_test_teardown(a_checkpoint_that_cannot_be_written_is_counted_and_the_scene_goes_on,
					  nf_teardown),
		cmocka_unit_test_teardown(an_unknown_session_is_a_sentence, nf_teardown),
		cmocka_unit_test_teardown(a_host_and_its_member_reach_the_same_world, nf_teardown),
		cmocka_unit_test_teardown(entries_below_the_rollback_window_rebuild_the_scene, nf_teardown),
		cmocka_unit_test_teardown(concurrent_edits_fold_to_the_world_of_their_total_order, nf_teardown),
		cmocka_unit_test_teardown(an_undo_past_the_rollback_window_rebuilds_the_scene_once, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
