/* UI benchmarks (make bench-ui): what one ui_frame costs (content, layout,
 * hit test, triangles) with a face of a cube selected (cut 6 times per
 * edge: 6 x 7 x 7 = 294 quads, about what one mesh.create entry holds; only
 * the counts after a change scale with the mesh) and a history of
 * BENCH_EDITS paint edits, each the median of BENCH_FRAMES, beside a
 * baseline measured in the same run: one edit_frame of the same editor on
 * the same scene with nothing pressed (what the UI adds to the editor's
 * frame is the ratio).
 *
 *   ui.baseline.edit_frame_idle_us  edit_frame, the tip on the selected face, no button
 *   ui.frame_headset_us             ui_frame in the headset, the ray on a button, overlay shown
 *   ui.frame_desktop_us             ui_frame on the desktop, the cursor on a button
 *   ui.frame_mesh_changed_us        ui_frame right after the selected mesh changed (its counts
 *                                   computed again, th_mesh_stats; the patch folded before the clock starts)
 *   ui.frame_vs_edit_frame          ui.frame_headset_us / the baseline
 *   ui.world_vertices               the headset's triangle list, vertices
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "th_bench.h"
#include "th_gfxscene.h"
#include "th_time.h"
#include "ui/ui.h"

#define BENCH_FRAMES 301
#define BENCH_EDITS 600u
#define CUBE_CUTS 6u
#define FRAME_NS 11111111ull

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_ui: %s failed (%d)\n", what, r);
	exit(1);
}

static int sink(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	(*(uint64_t *)ud)++;
	return 0;
}

static double median_us(uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof ns[0], th_bench_cmp_u64);
	return (double)ns[n / 2] / 1e3;
}

int main(void)
{
	struct gs *s = NULL;
	int r = gs_create(&s);
	if (r < 0)
		die("gs_create", r);
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	pp.subdiv = CUBE_CUTS;
	const float at[3] = { 0, 1, -0.5f };
	uint64_t entity, mesh;
	if ((r = gs_primitive(s, &s->a, &pp, at, NULL, 0, &entity, &mesh)) < 0)
		die("the cube's mesh.create", r);
	if ((r = gs_sync(s)) < 0)
		die("folding the cube", r);
	const struct th_scene *sc = th_fold_scene(s->fold);
	uint64_t sent = 0;
	struct edit *ed = NULL;
	struct edit_config ec = { .sink = { .submit = sink, .ud = &sent } };
	if ((r = edit_create(&ec, &ed)) < 0)
		die("edit_create", r);
	struct ui *u = NULL;
	if ((r = ui_create(&u)) < 0)
		die("ui_create", r);
	ui_set_visible(u, UI_PANEL_OVERLAY, true);
	struct inp_state in;
	inp_state_init(&in);
	in.head.position[1] = 1.6f;
	in.head.position[2] = 0.3f;
	in.head.valid = true;
	in.hand[INP_LEFT].pose = (struct inp_pose){ .position = { -0.25f, 1.1f, -0.1f }, .rotation = { 0, 0, 0, 1 },
						    .valid = true };
	/* The tip on the cube's top face (0.5 m above its centre). */
	const float tip[3] = { 0.01f, at[1] + 0.505f, at[2] + 0.01f };
	struct inp_controller *rh = &in.hand[INP_RIGHT];
	memcpy(rh->pose.position, tip, sizeof tip);
	rh->pose.valid = true;
	uint64_t t = 0;
	/* A history: paint clicks on the top face, alternating colours. */
	if (edit_set_tool(ed, EDIT_TOOL_PAINT) < 0)
		die("paint", -1);
	for (unsigned i = 0; i < BENCH_EDITS; i++) {
		edit_set_option(ed, i & 1);
		rh->trigger = 1;
		edit_frame(ed, t += FRAME_NS, &in, sc);
		rh->trigger = 0;
		edit_frame(ed, t += FRAME_NS, &in, sc);
	}
	if (sent < BENCH_EDITS)
		die("the paint history", (int)sent);
	/* The top face selected. */
	edit_set_tool(ed, EDIT_TOOL_SELECT);
	edit_set_option(ed, TH_SELECT_FACE);
	rh->trigger = 1;
	edit_frame(ed, t += FRAME_NS, &in, sc);
	rh->trigger = 0;
	edit_frame(ed, t += FRAME_NS, &in, sc);
	if (edit_selection(ed)->n != 1)
		die("selecting the top face", -1);
	struct ui_status st = { .frame_p50_ms = 11.1, .frame_p99_ms = 13.2, .rtt_us = 23000, .peers = 3, .linked = true };
	struct ui_frame_in fi = { .sc = sc, .status = &st };
	struct ui_frame_out out;
	if ((r = ui_frame(u, t, &in, ed, &fi, &out)) < 0)
		die("ui_frame", r);
	/* The ray on the "move" button. */
	float c[3];
	if ((r = ui_button_centre(u, UI_PANEL_TOOLS, "move", c)) < 0)
		die("ui_button_centre", r);
	float d[3] = { c[0] - 0.25f, c[1] - 1.1f, c[2] + 0.1f }, l = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
	for (int k = 0; k < 3; k++)
		d[k] /= l;
	float q[4] = { d[1], -d[0], 0, 1 - d[2] }, n = sqrtf(q[0] * q[0] + q[1] * q[1] + q[3] * q[3]);
	rh->aim = (struct inp_pose){ .position = { 0.25f, 1.1f, -0.1f },
				     .rotation = { q[0] / n, q[1] / n, 0, q[3] / n },
				     .valid = true };

	uint64_t base[BENCH_FRAMES], head[BENCH_FRAMES], desk[BENCH_FRAMES], changed[BENCH_FRAMES];
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		edit_frame(ed, t += FRAME_NS, &in, sc);
		base[i] = th_now_ns() - t0;
		t0 = th_now_ns();
		ui_frame(u, t, &in, ed, &fi, &out);
		head[i] = th_now_ns() - t0;
	}
	if (!out.hover)
		die("the ray on the move button", -1);
	uint32_t verts = ui_world_mesh(u).n;
	/* The mesh changed every frame: paint a face, which gives the mesh
	 * a new version (the stats are computed again). */
	uint64_t version = th_scene_mesh(sc, mesh)->version;
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		struct th_patch p;
		th_patch_init(&p);
		if ((r = th_patch_face_material(&p, edit_selection(ed)->el[0].id, 1 + (i & 1))) < 0 ||
		    (r = gs_patch(s, &s->a, mesh, &p)) < 0 || (r = gs_sync(s)) < 0)
			die("the mesh patch", r);
		th_patch_fini(&p);
		if (th_scene_mesh(sc, mesh)->version == version)
			die("a new mesh version", -1);
		version = th_scene_mesh(sc, mesh)->version;
		uint64_t t0 = th_now_ns();
		ui_frame(u, t += FRAME_NS, &in, ed, &fi, &out);
		changed[i] = th_now_ns() - t0;
	}
	fi.desktop = true;
	in.desk.present = in.desk.cursor_inside = true;
	in.desk.width = 1280;
	in.desk.height = 720;
	ui_frame(u, t, &in, ed, &fi, &out);
	if ((r = ui_button_centre(u, UI_PANEL_TOOLS, "move", c)) < 0)
		die("ui_button_centre (desktop)", r);
	in.desk.cursor[0] = c[0];
	in.desk.cursor[1] = c[1];
	for (unsigned i = 0; i < BENCH_FRAMES; i++) {
		uint64_t t0 = th_now_ns();
		ui_frame(u, t += FRAME_NS, &in, ed, &fi, &out);
		desk[i] = th_now_ns() - t0;
	}
	double b = median_us(base, BENCH_FRAMES), h = median_us(head, BENCH_FRAMES);
	th_bench_figure("ui.baseline.edit_frame_idle_us", b, "us");
	th_bench_figure("ui.frame_headset_us", h, "us");
	th_bench_figure("ui.frame_desktop_us", median_us(desk, BENCH_FRAMES), "us");
	th_bench_figure("ui.frame_mesh_changed_us", median_us(changed, BENCH_FRAMES), "us");
	th_bench_figure("ui.frame_vs_edit_frame", b > 0 ? h / b : 0, "x");
	th_bench_figure("ui.world_vertices", verts, "vertices");
	ui_destroy(&u);
	edit_destroy(&ed);
	gs_destroy(&s);
	return 0;
}
