/* The browser's scene: the exports of build/web/wasm/theta.wasm, the C fold
 * of common/ (th_fold.h, th_scene.h, th_mesh.h, th_meshop.h) compiled to
 * WebAssembly (docs/web.md, "The fold in the browser"). The page folds the
 * session's log entries exactly as thetad and theta-client do (same code,
 * same world hash), reads the meshes to draw as flat triangle buffers, and
 * makes its edits' payloads with the same mesh operations the headset
 * editor uses (theta-client/edit/). web/js/scene.js wraps all of this in a
 * class; nothing else in the page calls these directly.
 *
 * Conventions (wasm32, little-endian, one thread):
 *   - Pointers are u32 offsets into the module's memory (exports.memory);
 *     re-read memory.buffer after any call (memory may grow: old typed
 *     arrays detach).
 *   - u64 parameters and results are i64: BigInt in JS.
 *   - Functions returning int: >= 0 success, a negative errno on failure,
 *     with tw_why() a one-sentence reason (the page may show it as is).
 *     The errno values are wasi-libc's (EINVAL 28, ENOMEM 48, EBADMSG 9,
 *     EPROTO 65, ERANGE 68, ENOENT 44, E2BIG 1, ENOSPC 51); scene.js
 *     turns them into Error objects carrying tw_why().
 *   - A handle h (> 0) names one fold; TW_FOLDS_MAX folds at most.
 *   - Strings returned are NUL-terminated UTF-8, valid until the next call
 *     into the module.
 *   - Result buffers (the mesh buffers, the command list) belong to the
 *     module and stay valid until the next call that fills the same buffer.
 *
 * Sketch (scene.js does this):
 *
 *   const { instance } = await WebAssembly.instantiate(bytes, { wasi_snapshot_preview1: wasiShim });
 *   const x = instance.exports;
 *   const u8 = () => new Uint8Array(x.memory.buffer);
 *   const key = x.tw_alloc(32); u8().set(hostKey32, key);      // reply.host of POST /offer
 *   const h = x.tw_fold_new(key); x.tw_free(key);
 *   // each EVENT (kind LOG_ENTRY) from the "theta" channel:
 *   const p = x.tw_alloc(ev.payload.length); u8().set(ev.payload, p);
 *   const r = x.tw_fold_add(h, ev.pos, p, ev.payload.length);  // ev.pos: BigInt
 *   x.tw_free(p);
 *   if (r < 0) resync(cstr(x.tw_why()));                       // a hole, a bad entry
 *   for (let i = 0; i < x.tw_outcome_count(h); i++)            // say why own edits failed
 *     if (x.tw_outcome_status(h, i) === 2) show(cstr(x.tw_outcome_why(h, i)));
 *   x.tw_outcome_clear(h);
 *   // drawing: one item per entity with Transform + MeshRef
 *   const n = x.tw_draw_list(h);
 *   for (let i = 0; i < n; i++) {
 *     const mesh = x.tw_draw_mesh(h, i), ver = x.tw_draw_version(h, i);
 *     const xf = new Float32Array(x.memory.buffer, x.tw_draw_transform(h, i), 10);
 *     if (cache.get(mesh)?.ver !== ver) {                     // rebuild only what changed
 *       const tris = x.tw_mesh_build(h, mesh);
 *       const pos = new Float32Array(x.memory.buffer, x.tw_buf_positions(), tris * 9);
 *       ...                                                    // copy into WebGL buffers
 *     }
 *   }
 *   // an edit: extrude the face under the cursor by 0.25 m
 *   const k = x.tw_edit_extrude(h, entity, faceId, 0.25);
 *   if (k <= 0) say(cstr(x.tw_why()));                        // "extrude: ..."
 *   else for (let i = 0; i < k; i++)
 *     submit(x.tw_cmd_type(i), x.tw_cmd_scope(i),
 *            u8().slice(x.tw_cmd_payload(i), x.tw_cmd_payload(i) + x.tw_cmd_payload_len(i)));
 *
 * Imports: wasi_snapshot_preview1 fd_write, fd_seek and fd_close, which
 * wasi-libc's printf core names but snprintf never calls; scene.js answers
 * them with ENOSYS. The stack is 4 MiB, placed below the data (running past
 * it traps).
 *
 * Picking is the page's: it has every drawn triangle (mesh space, with the
 * entity's transform) and the face id of each (tw_buf_face_ids), so a ray
 * test over the triangles of the drawn entities gives (entity, face id,
 * distance); the edit builders take those ids. */
#pragma once
#include <stdint.h>

#define TW_FOLDS_MAX 8u
#define TW_OUTCOMES_MAX 256u /* outcomes kept between tw_outcome_clear calls (the oldest are dropped) */
#define TW_CMDS_MAX 2u       /* commands one edit builder returns */
#define TW_WHY_MAX 200u      /* bytes of a reason, with its NUL */
#define TW_XF_FLOATS 10u     /* a Transform: position[3], rotation[4] (x y z w), scale[3] */

/* Outcome statuses (th_fold.h enum th_fold_status). */
#define TW_APPLIED 1
#define TW_REFUSED 2
#define TW_EXCLUDED 3
#define TW_CONTROL 4

#define TW_EXPORT(name) __attribute__((export_name(#name)))

/* ---- memory ------------------------------------------------------------------ */

/* n bytes (n > 0), 0 when memory runs out. */
TW_EXPORT(tw_alloc) void *tw_alloc(uint32_t n);
TW_EXPORT(tw_free) void tw_free(void *p);
/* The last failure's sentence ("" when none). */
TW_EXPORT(tw_why) const char *tw_why(void);

/* ---- the fold ------------------------------------------------------------------ */

/* A fold of an empty session whose host (admin throughout) is host_key[32],
 * the /offer reply's "host". Returns a handle > 0, or -ENOSPC (TW_FOLDS_MAX
 * in use), -ENOMEM. The rollback window covers the whole log (the browser
 * folds from position 0 and has no log to rebuild from). */
TW_EXPORT(tw_fold_new) int tw_fold_new(const uint8_t *host_key);
TW_EXPORT(tw_fold_free) void tw_fold_free(int h);
/* One EVENT of kind LOG_ENTRY: entry[len] is its payload (the entry's
 * canonical body as th_logrec_encode writes it, no signature), pos its
 * position. Returns 0 (folded: outcomes queued, see below), 1 (already
 * folded: nothing changes), or -EBADMSG (does not decode: tw_why says
 * which field), -EPROTO (a hole in the author's chain: the page asks for a
 * resync from 0 on a fresh fold), -ERANGE, -ENOSPC, -ENOMEM (start over
 * too); -EINVAL for a bad handle. Nothing changes on an error. */
TW_EXPORT(tw_fold_add) int tw_fold_add(int h, uint64_t pos, const uint8_t *entry, uint32_t len);
/* The world hash (th_fold_world_hash) into out[32]: 0 or -ENOMEM. The
 * page sends it in SCENE_STATE; equal to thetad's for the same entries. */
TW_EXPORT(tw_world_hash) int tw_world_hash(int h, uint8_t *out);
/* 1 + the highest pos folded (0 before any): RESYNC_REQUEST's next_pos. */
TW_EXPORT(tw_next_pos) uint64_t tw_next_pos(int h);
TW_EXPORT(tw_entity_count) uint32_t tw_entity_count(int h);
/* Entries folded (th_fold_stats entries). */
TW_EXPORT(tw_entry_count) uint64_t tw_entry_count(int h);
/* Bumped by every change of the scene (the fold's on_change): a page
 * redraws when it differs from the value it last drew. */
TW_EXPORT(tw_scene_generation) uint64_t tw_scene_generation(int h);

/* ---- outcomes: why an edit had no effect ----------------------------------------
 * Every outcome the fold reports (first folds and replays that changed
 * one) is queued, TW_OUTCOMES_MAX at most, until tw_outcome_clear. The
 * page shows the refused ones of its own user (author = its key, learnt
 * from CMD_ACK's lamport or EVENT author) with tw_outcome_why. */
TW_EXPORT(tw_outcome_count) uint32_t tw_outcome_count(int h);
TW_EXPORT(tw_outcome_clear) void tw_outcome_clear(int h);
TW_EXPORT(tw_outcome_lamport) uint64_t tw_outcome_lamport(int h, uint32_t i);
TW_EXPORT(tw_outcome_seq) uint64_t tw_outcome_seq(int h, uint32_t i);
TW_EXPORT(tw_outcome_pos) uint64_t tw_outcome_pos(int h, uint32_t i);
/* The author's key, 32 bytes. */
TW_EXPORT(tw_outcome_author) const uint8_t *tw_outcome_author(int h, uint32_t i);
TW_EXPORT(tw_outcome_type) uint32_t tw_outcome_type(int h, uint32_t i);
/* TW_APPLIED .. TW_CONTROL; 0 for i out of range. */
TW_EXPORT(tw_outcome_status) uint32_t tw_outcome_status(int h, uint32_t i);
/* enum th_refusal when REFUSED (tw_refusal_name gives its short name). */
TW_EXPORT(tw_outcome_reason) uint32_t tw_outcome_reason(int h, uint32_t i);
/* 1 when a replay changed an outcome reported before. */
TW_EXPORT(tw_outcome_again) uint32_t tw_outcome_again(int h, uint32_t i);
/* The fold's sentence ("" for APPLIED and CONTROL). */
TW_EXPORT(tw_outcome_why) const char *tw_outcome_why(int h, uint32_t i);
/* The outcome of one entry by id (lamport, author[32]) while the fold keeps
 * it: TW_APPLIED .. TW_CONTROL, with tw_why() its sentence when refused or
 * excluded; -ENOENT. */
TW_EXPORT(tw_outcome_of) int tw_outcome_of(int h, uint64_t lamport, const uint8_t *author);
/* "applied", "refused", "excluded", "control" for TW_APPLIED .. TW_CONTROL,
 * "" for another value (scene.js's outcome statuses). */
TW_EXPORT(tw_status_name) const char *tw_status_name(uint32_t status);
/* "EINVAL", "ENOMEM", ... for r, a negative errno this module returns
 * (wasi-libc's numbering, as the module was compiled), "" for another. */
TW_EXPORT(tw_errno_name) const char *tw_errno_name(int r);
/* "no-mesh", "mesh", ... (th_refusal_name). */
TW_EXPORT(tw_refusal_name) const char *tw_refusal_name(uint32_t reason);
/* A command type's name ("mesh.patch"), "" for an unknown one. */
TW_EXPORT(tw_cmd_name) const char *tw_cmd_name(uint32_t type);

/* ---- what to draw ---------------------------------------------------------------- */

/* Builds the list of entities that show a mesh (a Transform and a MeshRef
 * naming a mesh that exists), in ascending entity id; returns its length.
 * The getters read that list (valid until the next tw_draw_list or
 * tw_fold_add on h); i out of range reads 0. */
TW_EXPORT(tw_draw_list) int tw_draw_list(int h);
TW_EXPORT(tw_draw_entity) uint64_t tw_draw_entity(int h, uint32_t i);
TW_EXPORT(tw_draw_mesh) uint64_t tw_draw_mesh(int h, uint32_t i);
/* th_mesh.version: changes whenever the mesh does (cache key with the id). */
TW_EXPORT(tw_draw_version) uint64_t tw_draw_version(int h, uint32_t i);
/* TW_XF_FLOATS f32: the entity's Transform (world = position + rotation *
 * (scale * mesh point)). */
TW_EXPORT(tw_draw_transform) const float *tw_draw_transform(int h, uint32_t i);
/* The MeshRef's material index (as the scene holds it; faces carry their own). */
TW_EXPORT(tw_draw_material) uint32_t tw_draw_material(int h, uint32_t i);

/* Triangulates mesh id (each face as the headset renderer does it,
 * gfx_triangulate: ear clipping in the face's plane) into the buffers below,
 * non-indexed, three vertices a triangle, in mesh space, faces in
 * ascending id. Returns the triangle count, -ENOENT (no such mesh),
 * -ENOMEM. */
TW_EXPORT(tw_mesh_build) int tw_mesh_build(int h, uint64_t mesh);
/* f32 x y z per vertex: 9 floats a triangle. */
TW_EXPORT(tw_buf_positions) const float *tw_buf_positions(void);
/* f32 face normal per vertex (flat shading): 9 floats a triangle. */
TW_EXPORT(tw_buf_normals) const float *tw_buf_normals(void);
/* f32 r g b a per vertex, the base colour of the face's material in the
 * scene's table (undefined: the headset renderer's default grey, 0.8):
 * 12 floats a triangle. Alpha below 1 is glass. */
TW_EXPORT(tw_buf_colors) const float *tw_buf_colors(void);
/* u64 face id per triangle (BigUint64Array). */
TW_EXPORT(tw_buf_face_ids) const uint64_t *tw_buf_face_ids(void);
/* Edges to outline: f32 x y z of both ends, 6 floats an edge, each
 * undirected edge once; tw_buf_edge_count edges. */
TW_EXPORT(tw_buf_edges) const float *tw_buf_edges(void);
TW_EXPORT(tw_buf_edge_count) uint32_t tw_buf_edge_count(void);

/* ---- edits: payloads for CMD_SUBMIT ------------------------------------------------
 * Each builder reads the fold's scene (committed entries only) and fills
 * the command list: returns how many commands to submit, in order (1 or
 * 2), 0 when the edit would change nothing (tw_why says why, e.g. "paint:
 * already red"), or a negative errno with tw_why the sentence ("extrude:
 * no such face in mesh 3f2a..."). Distances are world metres; the page
 * snaps them as it likes. Ids are those tw_draw_* and tw_buf_face_ids give. */

/* A cube of edge size (metres, TH_PRIM_SIZE_MIN..TH_PRIM_SIZE_MAX) centred
 * at (x, y, z): one mesh.create (th_op_primitive, as the primitive tool). */
TW_EXPORT(tw_edit_cube) int tw_edit_cube(int h, float x, float y, float z, float size);
/* Moves the whole entity by (dx, dy, dz): one component.write of its
 * Transform (as the move tool's "object" option). */
TW_EXPORT(tw_edit_move) int tw_edit_move(int h, uint64_t entity, float dx, float dy, float dz);
/* Moves one face of the entity's mesh by the world displacement (its
 * vertices, th_op_transform): one mesh.patch (the move tool's "face"). */
TW_EXPORT(tw_edit_move_face) int tw_edit_move_face(int h, uint64_t entity, uint64_t face, float dx, float dy,
						   float dz);
/* Extrudes one face along its normal by distance world metres (negative:
 * inwards; th_op_extrude_faces, as the extrude tool): one mesh.patch. */
TW_EXPORT(tw_edit_extrude) int tw_edit_extrude(int h, uint64_t entity, uint64_t face, float distance);
/* Paints one face (whole != 0: every face of the mesh) with palette slot
 * slot (0..tw_palette_count()-1, the headset's palette): a material.set of
 * the slot when the scene does not hold its definition yet, then one
 * mesh.patch (as the paint tool). */
TW_EXPORT(tw_edit_paint) int tw_edit_paint(int h, uint64_t entity, uint64_t face, uint32_t slot, uint32_t whole);
/* An edit.undo (redo 0) or edit.redo (redo 1) naming entry (lamport,
 * author[32]); the page's own entries' lamports come in CMD_ACK. */
TW_EXPORT(tw_edit_undo) int tw_edit_undo(int h, uint64_t lamport, const uint8_t *author, uint32_t redo);

/* The command list the last builder filled; i below its count. */
TW_EXPORT(tw_cmd_type) uint32_t tw_cmd_type(uint32_t i);
TW_EXPORT(tw_cmd_scope) uint64_t tw_cmd_scope(uint32_t i);
TW_EXPORT(tw_cmd_payload) const uint8_t *tw_cmd_payload(uint32_t i);
TW_EXPORT(tw_cmd_payload_len) uint32_t tw_cmd_payload_len(uint32_t i);
/* What the command does, in the editor's history words ("extrude 1 face of
 * mesh 3f2a by 0.250 m"). */
TW_EXPORT(tw_cmd_text) const char *tw_cmd_text(uint32_t i);

/* ---- the palette (theta-client/edit/edit_palette.c) --------------------------------- */
TW_EXPORT(tw_palette_count) uint32_t tw_palette_count(void);
TW_EXPORT(tw_palette_name) const char *tw_palette_name(uint32_t slot);
/* f32 r g b a of slot; 0 past the end. */
TW_EXPORT(tw_palette_rgba) const float *tw_palette_rgba(uint32_t slot);
