#include "th_gltffix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

const float gf_cube_pos[8][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 },
				      { 0, 0, 1 }, { 1, 0, 1 }, { 1, 1, 1 }, { 0, 1, 1 } };
/* Six quads, counter-clockwise from outside, as two triangles each. */
const uint32_t gf_cube_quads[6][4] = { { 0, 3, 2, 1 }, { 4, 5, 6, 7 }, { 0, 1, 5, 4 },
					   { 1, 2, 6, 5 }, { 2, 3, 7, 6 }, { 3, 0, 4, 7 } };

void gf_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Positions of the cube then its 36 indices of width w (1, 2, 4) into bin. */
void gf_cube_bin(struct gf_file *f, unsigned w)
{
	memcpy(f->bin, gf_cube_pos, sizeof(gf_cube_pos));
	size_t at = sizeof(gf_cube_pos);
	for (unsigned q = 0; q < 6; q++) {
		const uint32_t *c = gf_cube_quads[q];
		uint32_t t[6] = { c[0], c[1], c[2], c[0], c[2], c[3] };
		for (unsigned k = 0; k < 6; k++) {
			if (w == 1)
				f->bin[at] = (uint8_t)t[k];
			else if (w == 2)
				f->bin[at] = (uint8_t)t[k], f->bin[at + 1] = 0;
			else
				gf_put32(f->bin + at, t[k]);
			at += w;
		}
	}
	f->bin_len = (at + 3) & ~(size_t)3;
}

/* A .glb of f->json (padded with spaces) and f->bin. */
void gf_glb(struct gf_file *f)
{
	size_t jl = strlen(f->json), jp = (jl + 3) & ~(size_t)3;
	uint8_t *p = f->out;
	gf_put32(p, 0x46546c67u);
	gf_put32(p + 4, 2);
	gf_put32(p + 12, (uint32_t)jp);
	gf_put32(p + 16, 0x4e4f534au);
	memcpy(p + 20, f->json, jl);
	memset(p + 20 + jl, ' ', jp - jl);
	size_t at = 20 + jp;
	gf_put32(p + at, (uint32_t)f->bin_len);
	gf_put32(p + at + 4, 0x004e4942u);
	memcpy(p + at + 8, f->bin, f->bin_len);
	f->len = at + 8 + f->bin_len;
	gf_put32(p + 8, (uint32_t)f->len);
}

void gf_cube_json(struct gf_file *f, unsigned w, const char *node_extra, const char *prim_extra)
{
	unsigned ct = w == 1 ? 5121 : w == 2 ? 5123 : 5125;
	snprintf(f->json, sizeof(f->json),
		 "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
		 "\"nodes\":[{\"name\":\"Box\",\"mesh\":0%s}],"
		 "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0},\"indices\":1,\"material\":0%s}]}],"
		 "\"materials\":[{\"name\":\"red\",\"pbrMetallicRoughness\":{\"baseColorFactor\":[1,0,0,0.5],"
		 "\"metallicFactor\":0.25,\"roughnessFactor\":0.75}}],"
		 "\"buffers\":[{\"byteLength\":%u}],"
		 "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":96},"
		 "{\"buffer\":0,\"byteOffset\":96,\"byteLength\":%u}],"
		 "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":8,\"type\":\"VEC3\"},"
		 "{\"bufferView\":1,\"componentType\":%u,\"count\":36,\"type\":\"SCALAR\"}]}",
		 node_extra, prim_extra, 96 + 36 * w, 36 * w, ct);
}

void gf_cube_glb(struct gf_file *f, const char *node_extra, const char *prim_extra)
{
	gf_cube_bin(f, 2);
	gf_cube_json(f, 2, node_extra, prim_extra);
	gf_glb(f);
}

void gf_with(struct gf_file *f, const char *from, const char *to)
{
	char *at = strstr(f->json, from);
	assert_non_null(at);
	char tail[16384];
	snprintf(tail, sizeof(tail), "%s", at + strlen(from));
	snprintf(at, sizeof(f->json) - (size_t)(at - f->json), "%s%s", to, tail);
}

