/* A drag's local preview (edit_preview.h). */
#include "edit/edit_preview.h"

#include <errno.h>
#include <string.h>

void edit_preview_init(struct edit_preview *p)
{
	memset(p, 0, sizeof *p);
	th_journal_init(&p->j, 0);
}

void edit_preview_fini(struct edit_preview *p)
{
	edit_preview_stop(p);
	th_journal_fini(&p->j);
}

int edit_preview_start(struct edit_preview *p, uint64_t entity, const struct th_mesh *m,
		       const struct th_c_transform *xf)
{
	edit_preview_stop(p);
	int r = th_mesh_copy(&p->copy, m);
	if (r < 0)
		return r;
	p->live = true;
	p->active = true;
	p->entity = entity;
	p->mesh = m->id;
	p->has_mesh = true;
	p->patched = false;
	p->m = &p->copy;
	p->xf = *xf;
	p->frames = 0;
	return 0;
}

int edit_preview_show(struct edit_preview *p, const struct th_patch *patch, const char **why)
{
	if (!p->live)
		return -ENOENT;
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(&p->j, 0, &kind, &d, &len) == 1)
		th_mesh_undo_record(&p->copy, kind, d, len);
	static const uint8_t nobody[TH_LOGREC_KEY_LEN];
	p->frames++;
	p->patched = true;
	return th_patch_apply(&p->copy, patch, nobody, 0, &p->j, why);
}

void edit_preview_move(struct edit_preview *p, const struct th_c_transform *xf)
{
	p->xf = *xf;
	p->frames++;
}

void edit_preview_stop(struct edit_preview *p)
{
	if (p->live)
		th_mesh_fini(&p->copy);
	th_journal_truncate(&p->j, 0);
	struct th_journal j = p->j;
	memset(p, 0, sizeof *p);
	p->j = j;
}
