/* The page's edit builders (web/wasm/tw_api.c through web/js/scene.js, run
 * by node: tests/web/fold_check.mjs) against theta-client's editor driven
 * like a headset (tests/theta-client/edit/edit_fix.h: the real tools, a
 * real fold): on the same scene, the extrude tool pulling the cube's top
 * 5 cm, the paint tool on its front face and the primitive tool stamping a
 * cube make the very bytes the page's extrude, paint and cube make; the move
 * tool dragging the whole object 10 cm writes the Transform the page's move
 * writes (to a float's last bit: the editor adds its snapped displacement). At the end the page folds
 * the editor's log to the editor's world hash. SKIP with the reason when
 * node or theta.wasm is missing. */
#include "../theta-client/edit/edit_fix.h"

#include <inttypes.h>
#include <stdio.h>

#include "th_harness.h"
#include "th_hex.h"
#include "th_meshfix.h"
#include "tw_node.h"

#define SCRIPT "tests/web/fold_check.mjs"
#define TW_CMDS_MAX_TEST 2u /* web/wasm/tw.h TW_CMDS_MAX */

struct page_cmd {
	uint32_t type;
	uint64_t scope;
	uint8_t payload[TH_LOGREC_PAYLOAD_MAX];
	size_t len;
};

/* The editor's log as the page hears it, folded in node with one edit: its
 * commands into out[max]; returns their count. *hash_ok: node's world hash
 * is the editor's fold's. */
static unsigned page_edit(struct ef *f, const char *dir, const char *spec, struct page_cmd *out, unsigned max,
			  bool *hash_ok)
{
	struct th_wbuf w;
	twn_file_begin(&w, f->other.kp.pk);
	for (size_t i = 0; i < f->log.n; i++)
		assert_int_equal(twn_file_entry(&w, i, &f->log.v[i].e), 0);
	char path[4200];
	snprintf(path, sizeof path, "%s/entries.twf", dir);
	assert_int_equal(th_wbuf_error(&w), 0);
	assert_int_equal(lt_write_file(path, w.data, w.len), 0);
	th_wbuf_fini(&w);
	const char *argv[] = { SCRIPT, twn_wasm(), path, spec, NULL };
	char *text = NULL;
	int st = twn_run(argv, &text);
	assert_non_null(text);
	if (st != 0)
		fprintf(stderr, "fold_check said:\n%s", text);
	assert_int_equal(st, 0);
	uint8_t h[32];
	char hex[65];
	assert_int_equal(th_fold_world_hash(f->fold, h), 0);
	th_hex_encode(h, 32, hex);
	const char *hl = twn_line(text, "hash");
	*hash_ok = hl && !strncmp(hl, hex, 64);
	const char *p = spec ? twn_line(text, "edit 0") : NULL;
	unsigned n = p ? (unsigned)strtoul(p, NULL, 10) : 0;
	if (p && n == 0)
		fprintf(stderr, "the page made nothing for %s: %s", spec, twn_line(text, "why"));
	assert_true(n <= max);
	for (unsigned i = 0; i < n; i++) {
		p = strchr(p, '\n') + 1;
		static char hexp[2 * TH_LOGREC_PAYLOAD_MAX + 1];
		assert_int_equal(sscanf(p, "cmd %" SCNu32 " %" SCNu64 " %131072s", &out[i].type, &out[i].scope, hexp), 3);
		out[i].len = strlen(hexp) / 2;
		assert_int_equal(th_hex_decode(hexp, 2 * out[i].len, out[i].payload, out[i].len, true), 0);
	}
	free(text);
	return n;
}

static void same_cmd(const struct page_cmd *p, const struct ef_cmd *e)
{
	assert_int_equal(p->type, e->type);
	assert_int_equal(p->scope, e->scope);
	if (p->len != e->len || memcmp(p->payload, e->payload, e->len))
		fprintf(stderr, "%s: the page's payload (%zu bytes) differs from the editor's (%u bytes)\n",
			th_cmd_find((uint16_t)e->type)->name, p->len, e->len);
	assert_int_equal(p->len, e->len);
	assert_memory_equal(p->payload, e->payload, e->len);
}

/* The live face of entity's mesh whose normal is nearest dir. */
static uint64_t face_towards(struct ef *f, uint64_t entity, const float dir[3])
{
	uint64_t best = mf_face_facing(ef_mesh_of(f, entity), dir);
	assert_true(best != 0);
	return best;
}

static void the_page_edits_as_the_headset_does(void **state)
{
	const char *why = twn_missing(true);
	if (why) {
		printf("SKIP: %s\n", why);
		skip();
	}
	struct th_tmpdir *td = *state;
	static struct page_cmd pc[TW_CMDS_MAX_TEST];
	char spec[200];
	bool hash_ok;
	uint64_t e;
	struct ef *f = ef_new_cube(&e);

	/* Extrude: the cube's top pulled 5 cm. */
	ef_use_tool(f, EDIT_TOOL_EXTRUDE);
	uint64_t top = face_towards(f, e, (const float[3]){ 0, 1, 0 });
	snprintf(spec, sizeof spec, "extrude:%" PRIu64 ",%" PRIu64 ",0.05", e, top);
	assert_int_equal(page_edit(f, td->path, spec, pc, TW_CMDS_MAX_TEST, &hash_ok), 1);
	assert_true(hash_ok);
	unsigned n = f->n;
	const float up[3] = { ef_top[0], ef_top[1] + 0.05f, ef_top[2] };
	ef_frame(f, ef_top, 1, 0, 0);
	ef_frame(f, up, 1, 0, 0);
	ef_frame(f, up, 0, 0, 0);
	assert_int_equal(f->n, n + 1);
	same_cmd(&pc[0], &f->cmds[n]);
	ef_deliver(f);

	/* Paint: the front face lime (slot 5): its material.set, then the face. */
	ef_tool_option(f, EDIT_TOOL_PAINT, 5, "lime");
	uint64_t front = face_towards(f, e, (const float[3]){ 0, 0, 1 });
	snprintf(spec, sizeof spec, "paint:%" PRIu64 ",%" PRIu64 ",5,0", e, front);
	assert_int_equal(page_edit(f, td->path, spec, pc, TW_CMDS_MAX_TEST, &hash_ok), 2);
	assert_true(hash_ok);
	n = f->n;
	ef_click(f, ef_front);
	assert_int_equal(f->n, n + 2);
	same_cmd(&pc[0], &f->cmds[n]);
	same_cmd(&pc[1], &f->cmds[n + 1]);
	ef_deliver(f);

	/* Move: the whole object 10 cm along x. */
	ef_tool_option(f, EDIT_TOOL_MOVE, 0, "object");
	snprintf(spec, sizeof spec, "move:%" PRIu64 ",0.1,0,0", e);
	assert_int_equal(page_edit(f, td->path, spec, pc, TW_CMDS_MAX_TEST, &hash_ok), 1);
	n = f->n;
	const float moved[3] = { ef_front[0] + 0.1f, ef_front[1], ef_front[2] };
	ef_frame(f, ef_front, 1, 0, 0);
	ef_frame(f, moved, 1, 0, 0);
	ef_frame(f, moved, 0, 0, 0);
	/* The grab also replicates the selection: the Transform's write is the one. */
	unsigned moves = 0;
	for (unsigned i = n; i < f->n; i++) {
		union th_pl_any cw;
		if (f->cmds[i].type != TH_CMD_COMPONENT_WRITE ||
		    th_cmd_payload_decode(TH_CMD_COMPONENT_WRITE, f->cmds[i].payload, f->cmds[i].len, &cw, NULL) < 0 ||
		    cw.component_write.component != th_component_id(TH_COMP_TRANSFORM))
			continue;
		/* The same write but for the position's last bit: the editor adds
		 * its snapped displacement (0.01 m steps, float arithmetic), the
		 * page the 0.1 it was given. */
		union th_pl_any pw;
		assert_int_equal(pc[0].type, TH_CMD_COMPONENT_WRITE);
		assert_int_equal(pc[0].scope, f->cmds[i].scope);
		assert_int_equal(th_cmd_payload_decode(TH_CMD_COMPONENT_WRITE, pc[0].payload, pc[0].len, &pw, NULL), 0);
		assert_int_equal(pw.component_write.component, cw.component_write.component);
		struct th_c_transform a, b;
		assert_int_equal(th_schema_decode(th_component_record(TH_COMP_TRANSFORM), pw.component_write.value,
						  pw.component_write.value_len, &a),
				 0);
		assert_int_equal(th_schema_decode(th_component_record(TH_COMP_TRANSFORM), cw.component_write.value,
						  cw.component_write.value_len, &b),
				 0);
		for (int k = 0; k < 3; k++)
			assert_float_equal(a.position[k], b.position[k], 1e-6);
		assert_float_equal(a.position[0], ef_at[0] + 0.1f, 1e-6);
		assert_memory_equal(a.rotation, b.rotation, sizeof a.rotation);
		assert_memory_equal(a.scale, b.scale, sizeof a.scale);
		moves++;
	}
	assert_int_equal(moves, 1);
	ef_deliver(f);

	/* Cube: the primitive tool's default cube (20 cm) stamped in empty space;
	 * the page's cube at the place the tool chose. */
	ef_tool_option(f, EDIT_TOOL_PRIMITIVE, 0, "cube");
	n = f->n;
	ef_click(f, (const float[3]){ 1.0f, 1.0f, -0.5f });
	assert_int_equal(f->n, n + 1);
	union th_pl_any *pl = malloc(sizeof *pl);
	assert_non_null(pl);
	ef_decode(f, n, TH_CMD_MESH_CREATE, pl);
	snprintf(spec, sizeof spec, "cube:%.9g,%.9g,%.9g,0.2", (double)pl->mesh_create.transform[0],
		 (double)pl->mesh_create.transform[1], (double)pl->mesh_create.transform[2]);
	free(pl);
	assert_int_equal(page_edit(f, td->path, spec, pc, TW_CMDS_MAX_TEST, &hash_ok), 1);
	same_cmd(&pc[0], &f->cmds[n]);
	ef_deliver(f);

	/* The editor's whole log, folded by the page: the editor's world. */
	page_edit(f, td->path, NULL, pc, TW_CMDS_MAX_TEST, &hash_ok);
	assert_true(hash_ok);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_page_edits_as_the_headset_does, th_tmpdir_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
