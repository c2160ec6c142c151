/* Export of a scene (th_scene.h) to glTF 2.0 (.glb, or .gltf with the
 * buffer embedded as base64) and to OBJ + MTL; docs/export.md has the
 * files' layout, including the per-face provenance import reads back.
 *
 *   glTF: one node per entity with a Transform or a MeshRef (ascending
 *         entity id), its TRS from the Transform; one mesh per scene mesh a
 *         node shows that has faces; one primitive per face material, its
 *         faces as triangles (a fan from the first corner when convex,
 *         ear-clipped when not), each face's corners its own vertices in
 *         loop order (position, flat normal); materials as
 *         pbrMetallicRoughness from the scene's table (alpha < 1: BLEND).
 *         Per-face provenance in each primitive's extras, the authors'
 *         fingerprints in the root's extras.
 *   OBJ:  one object per such node, positions in world space (the TRS
 *         applied), a normal per face, n-gons as they are, usemtl per run of
 *         faces of one material, provenance in comments; the MTL beside.
 *
 * Deterministic: faces and vertices in ascending id, nodes in ascending
 * entity id, so the bytes depend only on the scene's canonical content
 * (th_scene_encode), not on the history that laid out its meshes' slots.
 *
 * Streamed: the writer makes two passes over the scene (counts and bounds,
 * then the bytes; a .glb's JSON is measured by a dry run first) and holds
 * per mesh only the faces' order by material, never the file. Library
 * code: no logging; errors are negative errno. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "th_scene.h"

enum th_export_format {
	TH_EXPORT_GLB = 1,
	TH_EXPORT_GLTF,
	TH_EXPORT_OBJ,
};

#define TH_EXPORT_AUTHORS_MAX 65536u /* distinct face authors one file names (TH_FOLD_AUTHORS_MAX) */
#define TH_EXPORT_BUF_BYTES (256u << 10) /* the output buffer */
#define TH_EXPORT_GLB_MAX UINT32_MAX     /* a .glb's length field */
#define TH_EXPORT_NAME_MAX 255u          /* bytes of a session id or file name written */

struct th_export_config {
	enum th_export_format format;
	const char *session;   /* written into the file's extras / header; NULL: none */
	uint64_t position;     /* the log position the scene stands at (informational) */
	const char *mtl_name;  /* OBJ: the mtllib line's file name; NULL: no mtllib line */
	const char *generator; /* asset.generator; NULL: "Theta" */
};

struct th_export_stats {
	uint64_t nodes, meshes, primitives, materials, authors;
	uint64_t faces, triangles, vertices; /* vertices as written (glTF: per face corner) */
	uint64_t bytes, mtl_bytes;           /* written to fd / mtl_fd */
};

/* Writes the export of s to fd (and, for OBJ, the MTL to mtl_fd; -1: none)
 * with write(2). Returns 0 with *st filled (st may be NULL); -EINVAL (bad
 * config), -EFBIG (past a format limit: a .glb over 4 GiB, more than
 * 2^32 - 1 vertices or indices in one primitive), -ENOSPC (more than
 * TH_EXPORT_AUTHORS_MAX authors), -ENOMEM, or write(2)'s error; what was
 * written before an error stays written. */
int th_export_scene(const struct th_scene *s, const struct th_export_config *c, int fd, int mtl_fd,
		    struct th_export_stats *st);

/* The format a file name asks for by its extension (.glb, .gltf, .obj, any
 * case), or 0. */
enum th_export_format th_export_format_of(const char *path);
