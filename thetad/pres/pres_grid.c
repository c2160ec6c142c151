/* The interest grid (pres_int.h): users by cubic cell, queries by Chebyshev
 * distance in cells, and the view cone of a head. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "pres/pres_int.h"

void pres_grid_clear(struct pres_grid *g)
{
	g->n_cells = 0;
	g->n_items = 0;
	memset(g->bucket, 0xff, sizeof g->bucket);
}

void pres_grid_init(struct pres_grid *g, float cell_m)
{
	g->cell_m = cell_m;
	pres_grid_clear(g);
}

static int32_t coord(float cell_m, float v)
{
	if (v > PROTO_PRES_RANGE_M)
		v = PROTO_PRES_RANGE_M;
	if (v < -PROTO_PRES_RANGE_M)
		v = -PROTO_PRES_RANGE_M;
	float c = floorf(v / cell_m);
	if (c > PRES_GRID_COORD_MAX)
		c = PRES_GRID_COORD_MAX;
	if (c < -PRES_GRID_COORD_MAX)
		c = -PRES_GRID_COORD_MAX;
	return (int32_t)c;
}

void pres_grid_cell_of(float cell_m, const float p[3], int32_t out[3])
{
	for (int k = 0; k < 3; k++)
		out[k] = coord(cell_m, p[k]);
}

uint32_t pres_grid_dist(const int32_t a[3], const int32_t b[3])
{
	uint32_t d = 0;
	for (int k = 0; k < 3; k++) {
		int32_t x = a[k] - b[k];
		uint32_t ax = (uint32_t)(x < 0 ? -x : x);
		if (ax > d)
			d = ax;
	}
	return d;
}

static unsigned hash(const int32_t c[3])
{
	uint32_t h = (uint32_t)c[0] * 0x9e3779b1u ^ (uint32_t)c[1] * 0x85ebca77u ^ (uint32_t)c[2] * 0xc2b2ae3du;
	h ^= h >> 15;
	return h & (PRES_GRID_BUCKETS - 1);
}

static unsigned find_cell(const struct pres_grid *g, const int32_t c[3])
{
	for (unsigned i = g->bucket[hash(c)]; i != PRES_GRID_NONE; i = g->cells[i].next)
		if (g->cells[i].c[0] == c[0] && g->cells[i].c[1] == c[1] && g->cells[i].c[2] == c[2])
			return i;
	return PRES_GRID_NONE;
}

int pres_grid_add(struct pres_grid *g, unsigned id, const float p[3])
{
	if (id >= PRES_GRID_ITEMS_MAX || !isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
		return -EINVAL;
	if (g->n_items >= PRES_GRID_ITEMS_MAX)
		return -ENOSPC;
	int32_t c[3];
	pres_grid_cell_of(g->cell_m, p, c);
	unsigned ci = find_cell(g, c);
	if (ci == PRES_GRID_NONE) {
		/* n_cells <= n_items < PRES_GRID_ITEMS_MAX: there is room */
		ci = g->n_cells++;
		struct pres_grid_cell *cell = &g->cells[ci];
		memcpy(cell->c, c, sizeof cell->c);
		cell->first = PRES_GRID_NONE;
		unsigned b = hash(c);
		cell->next = g->bucket[b];
		g->bucket[b] = (uint16_t)ci;
	}
	unsigned it = g->n_items++;
	g->item_id[it] = (uint16_t)id;
	g->item_cell[it] = (uint16_t)ci;
	g->item_next[it] = g->cells[ci].first;
	g->cells[ci].first = (uint16_t)it;
	return 0;
}

static unsigned emit_cell(const struct pres_grid *g, unsigned ci, uint32_t d, struct pres_grid_hit *out, unsigned n,
			  unsigned cap)
{
	for (unsigned it = g->cells[ci].first; it != PRES_GRID_NONE && n < cap; it = g->item_next[it])
		out[n++] = (struct pres_grid_hit){ .id = g->item_id[it], .dist = (uint16_t)d };
	return n;
}

unsigned pres_grid_query(const struct pres_grid *g, const int32_t c[3], unsigned r, struct pres_grid_hit *out,
			 unsigned cap)
{
	unsigned n = 0;
	if (!g->n_cells || !cap)
		return 0;
	/* (2r+1)^3 probes against n_cells comparisons; r is bounded by the config */
	uint64_t side = 2ull * r + 1;
	if (side * side * side < g->n_cells) {
		int32_t q[3];
		for (int32_t dx = -(int32_t)r; dx <= (int32_t)r; dx++)
			for (int32_t dy = -(int32_t)r; dy <= (int32_t)r; dy++)
				for (int32_t dz = -(int32_t)r; dz <= (int32_t)r; dz++) {
					q[0] = c[0] + dx;
					q[1] = c[1] + dy;
					q[2] = c[2] + dz;
					unsigned ci = find_cell(g, q);
					if (ci != PRES_GRID_NONE)
						n = emit_cell(g, ci, pres_grid_dist(c, q), out, n, cap);
				}
		return n;
	}
	for (unsigned ci = 0; ci < g->n_cells && n < cap; ci++) {
		uint32_t d = pres_grid_dist(c, g->cells[ci].c);
		if (d <= r)
			n = emit_cell(g, ci, d, out, n, cap);
	}
	return n;
}

float pres_grid_view_cos(float half_deg)
{
	return cosf(half_deg * (float)M_PI / 180.0f);
}

bool pres_grid_in_view(const float head[7], float cos_half, const float target[3])
{
	float d[3] = { target[0] - head[0], target[1] - head[1], target[2] - head[2] };
	float dl = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
	if (dl < 1e-4f)
		return true;
	float x = head[3], y = head[4], z = head[5], w = head[6];
	float qn = x * x + y * y + z * z + w * w;
	if (!(qn > 1e-12f))
		return false;
	/* -Z rotated by q (normalized): minus the rotation matrix's third column */
	float s = 2.0f / qn;
	float f[3] = { -s * (x * z + w * y), -s * (y * z - w * x), -(1.0f - s * (x * x + y * y)) };
	float dot = (f[0] * d[0] + f[1] * d[1] + f[2] * d[2]) / dl;
	return dot >= cos_half;
}
