/* What the model readers' fuzz targets check of a result (header-only):
 * a refusal left the model empty and said why; an accepted model keeps
 * every invariant of th_model.h, and each object's faces, added to a
 * half-edge mesh in the reader's order one by one, each join it validly
 * and leave a mesh th_mesh_check accepts. */
#pragma once
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "th_mesh.h"
#include "th_model.h"

static void fz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void fz_model_check(int r, struct th_model *m, const char *why)
{
	if (r < 0) {
		fz_check(why[0] && memchr(why, 0, TH_MODEL_WHY_LEN) && m->n_objects == 0 && !m->pos && !m->faces);
		return;
	}
	fz_check(m->n_objects >= 1 && m->n_materials <= TH_MODEL_MATERIALS_MAX);
	for (uint32_t i = 0; i < m->n_materials; i++) {
		const struct th_model_material *mt = &m->materials[i];
		fz_check(mt->name[0] && strlen(mt->name) <= TH_MODEL_MATERIAL_NAME_MAX);
		for (int k = 0; k < 4; k++)
			fz_check(mt->base_color[k] >= 0 && mt->base_color[k] <= 1);
		fz_check(mt->roughness >= 0 && mt->roughness <= 1 && mt->metallic >= 0 && mt->metallic <= 1);
	}
	uint32_t vsum = 0, fsum = 0;
	for (uint32_t i = 0; i < m->n_objects; i++) {
		const struct th_model_object *o = &m->objects[i];
		fz_check(o->first_vert == vsum && o->first_face == fsum);
		vsum += o->n_verts;
		fsum += o->n_faces;
		for (int k = 0; k < 3; k++)
			fz_check(isfinite(o->position[k]) && isfinite(o->scale[k]));
		struct th_mesh mesh;
		fz_check(th_mesh_init(&mesh, 1) == 0);
		for (uint32_t v = 0; v < o->n_verts; v++) {
			struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_VERTEX_ADD };
			uint64_t id = 1 + v;
			const char *w;
			memcpy(op.position, m->pos[o->first_vert + v], sizeof(op.position));
			fz_check(th_mesh_apply(&mesh, &op, 1, &id, NULL, &w) == 0);
		}
		uint8_t *seen = calloc(o->n_faces + 1, 1);
		fz_check(seen != NULL);
		for (uint32_t k = 0; k < o->n_faces; k++) {
			uint32_t f = o->order[k];
			fz_check(f < o->n_faces && !seen[f]);
			seen[f] = 1;
			const struct th_model_face *fc = &m->faces[o->first_face + f];
			fz_check(fc->n >= 3 && fc->n <= TH_MODEL_FACE_VERTS_MAX);
			fz_check(fc->material == TH_MODEL_NO_MATERIAL || fc->material < m->n_materials);
			struct th_pl_mesh_op ops[1 + TH_MODEL_FACE_VERTS_MAX];
			uint64_t ids[1 + TH_MODEL_FACE_VERTS_MAX] = { 1 + o->n_verts + f };
			ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_ADD };
			for (uint32_t c = 0; c < fc->n; c++) {
				uint32_t v = m->corners[fc->first + c];
				fz_check(v >= o->first_vert && v < o->first_vert + o->n_verts);
				ops[1 + c] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP, .element = 1 + v - o->first_vert };
			}
			const char *w;
			fz_check(th_mesh_apply(&mesh, ops, 1 + fc->n, ids, NULL, &w) == 0);
		}
		const char *w;
		fz_check(th_mesh_check(&mesh, &w) == 0);
		free(seen);
		th_mesh_fini(&mesh);
	}
	fz_check(vsum == m->n_verts && fsum == m->n_faces);
	for (uint32_t v = 0; v < m->n_verts; v++)
		fz_check(isfinite(m->pos[v][0]) && isfinite(m->pos[v][1]) && isfinite(m->pos[v][2]));
}
