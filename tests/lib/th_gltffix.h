/* glTF fixtures for tests (th_gltf_read's unit test, thetactl import's
 * integration test): the unit cube as 12 indexed triangles in a .glb,
 * built byte by byte, with room to edit its JSON. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Corners 0..7 and six quads, counter-clockwise from outside. */
extern const float gf_cube_pos[8][3];
extern const uint32_t gf_cube_quads[6][4];

struct gf_file {
	uint8_t bin[4096];
	size_t bin_len;
	char json[16384];
	uint8_t out[32768];
	size_t len;
};

void gf_put32(uint8_t *p, uint32_t v);
/* The cube's positions then its 36 indices of width w (1, 2, 4) into bin. */
void gf_cube_bin(struct gf_file *f, unsigned w);
/* A .glb of f->json (padded with spaces) and f->bin into out / len. */
void gf_glb(struct gf_file *f);
/* The cube's JSON into f->json: node "Box" with node_extra after its mesh,
 * prim_extra after its primitive's material, one material "red". */
void gf_cube_json(struct gf_file *f, unsigned w, const char *node_extra, const char *prim_extra);
/* The three above: the cube with 16-bit indices as a .glb in out / len. */
void gf_cube_glb(struct gf_file *f, const char *node_extra, const char *prim_extra);
/* In f->json, from replaced by to (the test fails when from is absent). */
void gf_with(struct gf_file *f, const char *from, const char *to);
