/* A drag's local preview (docs/editor.md, "Drags and previews"): the
 * entity's transform as dragged and, for an edit of its geometry, a copy
 * of its mesh made once at the grab with the drag's current patch applied.
 * Each show undoes the previous patch through its journal and applies the
 * new one (th_patch_apply), so a frame of a drag copies nothing. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "th_journal.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_meshop.h"
#include "th_schema.h"

struct edit_preview {
	bool active;
	uint64_t entity, mesh;
	bool has_mesh;            /* m is the previewed geometry */
	bool patched;             /* a patch was shown (else m is the mesh as it was: a
				   * whole-object drag, which the renderer draws with the
				   * scene's mesh rather than upload a copy) */
	const struct th_mesh *m;
	struct th_c_transform xf; /* the entity's transform as previewed */
	uint64_t frames;          /* updates since the start */
	/* The preview's own. */
	struct th_mesh copy;
	bool live;
	struct th_journal j;
};

void edit_preview_init(struct edit_preview *p);
void edit_preview_fini(struct edit_preview *p);
/* Starts a preview of entity (mesh m shown with xf): 0 or -ENOMEM. */
int edit_preview_start(struct edit_preview *p, uint64_t entity, const struct th_mesh *m,
		       const struct th_c_transform *xf);
/* Shows patch applied to the mesh as it was at the start: 0, or
 * th_patch_apply's error (*why; the preview shows the start's mesh). */
int edit_preview_show(struct edit_preview *p, const struct th_patch *patch, const char **why);
void edit_preview_move(struct edit_preview *p, const struct th_c_transform *xf);
void edit_preview_stop(struct edit_preview *p);
