/* What one frame draws, gathered on the CPU from the client's world, the
 * scene mirror and the editor (docs/rendering.md, "The frame list"). No
 * Vulkan here: gfx_draw turns a list into commands.
 *
 * Instances: every ECS entity with SceneEntity + Transform + MeshRef whose
 * mesh the scene has; the entity the editor previews shows the preview's
 * transform and geometry instead (edit_preview: same mesh key, so the GPU
 * copy is updated incrementally, not re-uploaded).
 * Highlights: each Selection in its owner's colour (gfx_owner_color): the
 * whole object tinted, or the selected face / edge / vertex marked; the
 * local user's own selection from the editor (all its elements); the
 * hovered element (what the editor would pick at the right hand's tip) in
 * white. Edit modes (the local tool in face / edge / vertex mode) draw the
 * selected entity's edges and vertices.
 * Overlay (solid triangles and lines with a colour per vertex, world
 * space): the ground grid (1 m lines over 10 m, 10 cm minor lines near the
 * centre), other users' avatars (head box with a visor, hand boxes, from
 * their TrackedPose as app_avatars mirrors them), the tool cursor (a small
 * octahedron at the right hand, coloured by tool), and while the ray
 * reaches (edit/edit_reach.h) a line in the tool's colour from the aim's
 * origin to the tip it moved.
 * Others' presence (app_avatars' PRESENCE): each cursor as the same
 * octahedron in its tool's colour; a speaking user's crown (a ring of
 * small octahedra over the head); a previewed entity once more at the
 * preview's transform as a ghost (gfx_inst.ghost: its edges and vertices
 * in the previewer's colour, after every scene instance). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "sim/world.h"
#include "th_mesh.h"
#include "ui/ui.h"
#include "ui/ui_font.h"

struct app_scene;
struct app_avatars;
struct edit;
struct edit_reach;

#define GFX_MATERIALS 256u
#define GFX_LIST_CAP_MAX (1u << 26) /* entries of any one array: -ENOMEM past it */
#define GFX_LIST_EDGE_MEMO 64u      /* others' edge selections whose vertices are remembered */

enum gfx_mark_kind { GFX_MARK_FACE = 1, GFX_MARK_EDGE, GFX_MARK_VERTEX };

struct gfx_inst {
	uint64_t entity;           /* scene entity id */
	uint64_t mesh_key;         /* the GPU cache's key: the mesh id */
	const struct th_mesh *mesh; /* geometry this frame (scene's, or the preview's copy) */
	float model[16];
	uint32_t material;         /* MeshRef.material: faces with material 0 use it */
	bool smooth;               /* MeshRef.flags & GFX_MESHREF_SMOOTH */
	bool wire;                 /* draw its edges and vertices */
	float tint[4];             /* whole-object highlight (rgb, strength in a; 0: none) */
	float ghost[4];            /* a > 0: another user's drag preview, drawn as its edges and
				    * vertices in this colour only (no faces) */
};
#define GFX_MESHREF_SMOOTH 1u /* MeshRef.flags bit: smooth shading */

struct gfx_mark {
	uint32_t inst;   /* index into inst */
	uint32_t kind;   /* enum gfx_mark_kind */
	uint64_t element; /* face or vertex id */
	uint64_t a, b;   /* an edge's vertex ids */
	float color[4];
};

struct gfx_overlay_vertex {
	float pos[3];
	uint32_t rgba; /* r in the low byte */
};

/* The UI's triangles (ui/ui.h: ui_world_mesh, ui_screen_mesh) and the font
 * atlas they sample (ui/ui_font.h), drawn after everything else in their
 * own pipeline (ui.vert / ui.frag: alpha blended, no depth test). uv is
 * normalised over the atlas (0..1, v down the rows); rgba is sRGB. The
 * world mesh (metres) is drawn in every view with that view's
 * view-projection; the screen mesh (the target's pixels, y down, z 0) on
 * view 0 only, through an orthographic projection over the target's
 * extent. The arrays are the caller's and must live until the frame is
 * recorded (gfx_draw_prepare copies them). Without a font nothing of the
 * UI is drawn. A count that is not a multiple of 3 drops the last partial
 * triangle; past GFX_UI_VERTICES_MAX vertices a mesh is cut there. */
#define GFX_UI_VERTICES_MAX (1u << 21)
struct gfx_list_ui {
	struct ui_mesh world;
	struct ui_mesh screen;
	const struct ui_font *font;
};

struct gfx_list {
	struct gfx_inst *inst;
	uint32_t ninst, cap_inst;
	struct gfx_mark *mark;
	uint32_t nmark, cap_mark;
	struct gfx_overlay_vertex *tri; /* triangle list */
	uint32_t ntri, cap_tri;         /* vertices */
	struct gfx_overlay_vertex *line; /* line list */
	uint32_t nline, cap_line;
	float material[GFX_MATERIALS][4]; /* base colours, linear rgba */
	float metallic[GFX_MATERIALS], roughness[GFX_MATERIALS];
	float clear[4];
	struct gfx_list_ui ui; /* the panels: gfx_list_input's, as given */
	uint64_t triangles; /* of the instances' meshes (figures) */
	/* Private to gfx_list.c: the world's query (SceneEntity + Transform +
	 * MeshRef; queries belong to the world, so one list serves one world)
	 * and the vertex ids of edges others selected (a Selection names an
	 * edge by th_mesh_edge_id only). */
	struct sim_query *q;
	const struct sim_world *qw;
	unsigned scene_comp;
	struct gfx_edge_memo {
		uint64_t mesh, element, a, b;
	} edge[GFX_LIST_EDGE_MEMO];
	uint32_t nedge, edge_next;
};

struct gfx_list_input {
	struct sim_world *w;
	const struct app_scene *scene;     /* NULL: no scene yet (grid and avatars only) */
	const struct edit *ed;             /* NULL: no editor (no previews, own selection, hover, cursor) */
	const struct app_avatars *avatars; /* NULL: none */
	bool grid;
	float right_tip[3];                /* the right hand's tool tip (cursor, hover) */
	bool right_valid;
	const struct edit_reach *reach;    /* NULL: none; with ed, reaching: the ray is drawn */
	struct gfx_list_ui ui;             /* the UI to draw last (zero: none) */
};

void gfx_list_init(struct gfx_list *l);
void gfx_list_fini(struct gfx_list *l);
/* Rebuilds l for this frame (arrays reused). 0 or -ENOMEM. */
int gfx_list_build(struct gfx_list *l, const struct gfx_list_input *in);

/* An owner's highlight colour (Selection.owner / ToolState.owner): a
 * saturated hue from the owner id, stable across runs and clients. */
void gfx_owner_color(uint64_t owner, float rgba[4]);
/* Overlay helpers (also for tests and the bench). */
int gfx_list_box(struct gfx_list *l, const float model[16], const float half[3], uint32_t rgba);
int gfx_list_segment(struct gfx_list *l, const float a[3], const float b[3], uint32_t rgba);
static inline uint32_t gfx_rgba8(float r, float g, float b, float a)
{
	#define GFX_U8(x) ((uint32_t)((x) <= 0 ? 0 : (x) >= 1 ? 255 : (x) * 255.0f + 0.5f))
	return GFX_U8(r) | GFX_U8(g) << 8 | GFX_U8(b) << 16 | GFX_U8(a) << 24;
	#undef GFX_U8
}
