/* thetad/pres/pres_grid.c and pres_user.c: cells and Chebyshev distances,
 * queries that agree with a brute force walk whichever way they search,
 * bounds and refusals, the view cone of a head, the settings' checks and
 * sentences, and a user's state merged per field (ended fields cleared, a
 * presence change replacing cursor, preview and speaking whole). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "pres/pres_int.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(float lo, float hi)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (hi - lo) * (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}

static void cells_are_floors_of_position_over_size(void **st)
{
	(void)st;
	int32_t c[3];
	pres_grid_cell_of(4.0f, (float[3]){ 0.0f, 3.99f, 4.0f }, c);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 0);
	assert_int_equal(c[2], 1);
	pres_grid_cell_of(4.0f, (float[3]){ -0.01f, -4.0f, -4.01f }, c);
	assert_int_equal(c[0], -1);
	assert_int_equal(c[1], -1);
	assert_int_equal(c[2], -2);
	/* clamped to the codec's range, so far-off positions share the edge cell */
	pres_grid_cell_of(0.5f, (float[3]){ 1e9f, -1e9f, PROTO_PRES_RANGE_M }, c);
	assert_int_equal(c[0], (int32_t)(PROTO_PRES_RANGE_M / 0.5f));
	assert_int_equal(c[1], -(int32_t)(PROTO_PRES_RANGE_M / 0.5f));
	assert_int_equal(c[2], c[0]);
	assert_true(c[0] <= PRES_GRID_COORD_MAX);
}

static void distance_is_chebyshev(void **st)
{
	(void)st;
	assert_int_equal(pres_grid_dist((int32_t[3]){ 0, 0, 0 }, (int32_t[3]){ 0, 0, 0 }), 0);
	assert_int_equal(pres_grid_dist((int32_t[3]){ 1, 2, 3 }, (int32_t[3]){ -2, 2, 4 }), 3);
	assert_int_equal(pres_grid_dist((int32_t[3]){ 5, -7, 0 }, (int32_t[3]){ 5, 2, 1 }), 9);
	assert_int_equal(pres_grid_dist((int32_t[3]){ -2001, 0, 0 }, (int32_t[3]){ 2001, 0, 0 }), 4002);
}

/* Every item within r of c, by walking all of them. */
static unsigned brute(const float (*p)[3], unsigned n, float cell_m, const int32_t c[3], unsigned r, uint16_t *dist)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		int32_t ic[3];
		pres_grid_cell_of(cell_m, p[i], ic);
		uint32_t d = pres_grid_dist(c, ic);
		dist[i] = d <= r ? (uint16_t)d : UINT16_MAX;
		k += d <= r;
	}
	return k;
}

static void check_query(const struct pres_grid *g, const float (*p)[3], unsigned n, const int32_t c[3], unsigned r)
{
	struct pres_grid_hit hits[PRES_GRID_ITEMS_MAX];
	uint16_t want[PRES_GRID_ITEMS_MAX];
	unsigned nw = brute(p, n, g->cell_m, c, r, want);
	unsigned nh = pres_grid_query(g, c, r, hits, PRES_GRID_ITEMS_MAX);
	assert_int_equal(nh, nw);
	bool seen[PRES_GRID_ITEMS_MAX] = { 0 };
	for (unsigned h = 0; h < nh; h++) {
		assert_true(hits[h].id < n);
		assert_false(seen[hits[h].id]);
		seen[hits[h].id] = true;
		assert_int_equal(hits[h].dist, want[hits[h].id]);
	}
}

static void queries_agree_with_a_brute_force_walk(void **st)
{
	(void)st;
	static const float sizes[] = { 0.5f, 4.0f, 25.0f };
	static const float spreads[] = { 20.0f, 200.0f, 1800.0f };
	struct pres_grid g;
	float p[PRES_GRID_ITEMS_MAX][3];
	for (unsigned si = 0; si < 3; si++)
		for (unsigned sp = 0; sp < 3; sp++) {
			pres_grid_init(&g, sizes[si]);
			unsigned n = PRES_GRID_ITEMS_MAX;
			for (unsigned i = 0; i < n; i++) {
				p[i][0] = frand(-spreads[sp] / 2, spreads[sp] / 2);
				p[i][1] = frand(0.0f, 2.0f);
				p[i][2] = frand(-spreads[sp] / 2, spreads[sp] / 2);
				assert_int_equal(pres_grid_add(&g, i, p[i]), 0);
			}
			/* small radii probe cells, large ones walk the occupied cells */
			for (unsigned r = 0; r <= 12; r++)
				for (unsigned q = 0; q < 8; q++) {
					int32_t c[3];
					pres_grid_cell_of(g.cell_m, p[(q * 37u + r) % n], c);
					check_query(&g, p, n, c, r);
				}
			int32_t far[3] = { 100000, 0, -100000 };
			check_query(&g, p, n, far, 3);
		}
}

static void a_cell_holds_many_and_the_cap_bounds_results(void **st)
{
	(void)st;
	struct pres_grid g;
	pres_grid_init(&g, 4.0f);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(pres_grid_add(&g, i, (float[3]){ 1.0f + 0.1f * (float)i, 1.0f, 1.0f }), 0);
	assert_int_equal(g.n_cells, 1);
	struct pres_grid_hit hits[4];
	int32_t c[3] = { 0, 0, 0 };
	assert_int_equal(pres_grid_query(&g, c, 0, hits, 4), 4);
	struct pres_grid_hit all[16];
	assert_int_equal(pres_grid_query(&g, c, 0, all, 16), 10);
	assert_int_equal(pres_grid_query(&g, (int32_t[3]){ 1, 1, 1 }, 0, all, 16), 0);
	assert_int_equal(pres_grid_query(&g, (int32_t[3]){ 1, 1, 1 }, 1, all, 16), 10);
	pres_grid_clear(&g);
	assert_int_equal(pres_grid_query(&g, c, 5, all, 16), 0);
}

static void bad_items_are_refused_and_the_grid_is_bounded(void **st)
{
	(void)st;
	struct pres_grid g;
	pres_grid_init(&g, 4.0f);
	assert_int_equal(pres_grid_add(&g, 0, (float[3]){ NAN, 0, 0 }), -EINVAL);
	assert_int_equal(pres_grid_add(&g, 0, (float[3]){ 0, INFINITY, 0 }), -EINVAL);
	assert_int_equal(pres_grid_add(&g, PRES_GRID_ITEMS_MAX, (float[3]){ 0, 0, 0 }), -EINVAL);
	assert_int_equal(g.n_items, 0);
	for (unsigned i = 0; i < PRES_GRID_ITEMS_MAX; i++)
		assert_int_equal(pres_grid_add(&g, i, (float[3]){ 5.0f * (float)i, 0, 0 }), 0);
	assert_int_equal(pres_grid_add(&g, 0, (float[3]){ 0, 0, 0 }), -ENOSPC);
	assert_int_equal(g.n_cells, PRES_GRID_ITEMS_MAX);
}

/* A head at the origin turned by yaw degrees about +Y. */
static void head_yaw(float h[7], float yaw_deg)
{
	float a = yaw_deg * (float)M_PI / 360.0f;
	float v[7] = { 0, 0, 0, 0, sinf(a), 0, cosf(a) };
	memcpy(h, v, sizeof v);
}

static void the_view_cone_looks_along_minus_z(void **st)
{
	(void)st;
	float h[7];
	float c55 = pres_grid_view_cos(55.0f);
	head_yaw(h, 0);
	assert_true(pres_grid_in_view(h, c55, (float[3]){ 0, 0, -5 }));
	assert_true(pres_grid_in_view(h, c55, (float[3]){ 3, 1, -5 }));
	assert_false(pres_grid_in_view(h, c55, (float[3]){ 0, 0, 5 }));
	assert_false(pres_grid_in_view(h, c55, (float[3]){ 5, 0, 0 }));
	/* 50 degrees off forward: inside 55, outside 45 */
	float t50[3] = { sinf(50.0f * (float)M_PI / 180), 0, -cosf(50.0f * (float)M_PI / 180) };
	assert_true(pres_grid_in_view(h, c55, t50));
	assert_false(pres_grid_in_view(h, pres_grid_view_cos(45.0f), t50));
	assert_true(pres_grid_in_view(h, pres_grid_view_cos(180.0f), (float[3]){ 0, 0, 5 }));
	/* turned left by 90 degrees: looking along -X */
	head_yaw(h, 90);
	assert_true(pres_grid_in_view(h, c55, (float[3]){ -5, 0, 0 }));
	assert_false(pres_grid_in_view(h, c55, (float[3]){ 0, 0, -5 }));
	/* a quaternion not of unit length turns the same way */
	for (int k = 3; k < 7; k++)
		h[k] *= 3.0f;
	assert_true(pres_grid_in_view(h, c55, (float[3]){ -5, 0, 0 }));
	assert_false(pres_grid_in_view(h, c55, (float[3]){ 5, 0, 0 }));
	/* the head's own spot is seen; a zero orientation sees nothing else */
	float z[7] = { 1, 2, 3, 0, 0, 0, 0 };
	assert_true(pres_grid_in_view(z, c55, (float[3]){ 1, 2, 3 }));
	assert_false(pres_grid_in_view(z, c55, (float[3]){ 1, 2, -3 }));
	/* the head's position counts */
	float hp[7] = { 10, 0, 10, 0, 0, 0, 1 };
	assert_true(pres_grid_in_view(hp, c55, (float[3]){ 10, 0, 5 }));
	assert_false(pres_grid_in_view(hp, c55, (float[3]){ 0, 0, -5 + 20 }));
}

static void settings_are_checked_with_a_sentence_naming_the_key(void **st)
{
	(void)st;
	struct pres_config d, c;
	pres_config_default(&d);
	assert_null(pres_config_check(&d));
	assert_true(d.cell_m == 4.0f && d.near_cells == 1 && d.view_cells == 4 && d.view_deg == 55.0f);
	assert_true(d.far_cells == 8 && d.far_hz == 5 && d.tick_hz == 90 && d.voice_cells == 6);
	static const char *const keys[] = {
		"presence.cell_m",     "presence.cell_m",    "presence.cell_m",   "presence.near_cells",
		"presence.view_cells", "presence.view_deg",  "presence.view_deg", "presence.view_deg",
		"presence.far_cells",  "presence.tick_hz",   "presence.tick_hz",  "presence.far_hz",
		"presence.far_hz",     "presence.voice_cells",
	};
	for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		c = d;
		switch (i) {
		case 0: c.cell_m = 0.4f; break;
		case 1: c.cell_m = 101.0f; break;
		case 2: c.cell_m = NAN; break;
		case 3: c.near_cells = 5000; break;
		case 4: c.view_cells = 5000; break;
		case 5: c.view_deg = -1.0f; break;
		case 6: c.view_deg = 181.0f; break;
		case 7: c.view_deg = NAN; break;
		case 8: c.far_cells = 5000; break;
		case 9: c.tick_hz = 9; break;
		case 10: c.tick_hz = 241; break;
		case 11: c.far_hz = 0; break;
		case 12: c.far_hz = 91; break;
		default: c.voice_cells = 5000; break;
		}
		const char *m = pres_config_check(&c);
		assert_non_null(m);
		assert_non_null(strstr(m, keys[i]));
		assert_non_null(strstr(m, " must be "));
	}
	c = d;
	c.cell_m = 0.5f;
	c.far_hz = c.tick_hz = 240;
	c.near_cells = c.view_cells = c.far_cells = c.voice_cells = 0;
	c.view_deg = 180.0f;
	assert_null(pres_config_check(&c));
}

static struct proto_pres_user user(uint8_t id)
{
	struct proto_pres_user u = { .key = { id, 1 }, .t_ns = 100 };
	return u;
}

static void a_user_is_merged_per_field_and_ended_fields_clear(void **st)
{
	(void)st;
	struct proto_pres_user cur = { 0 }, u = user(7);
	u.valid = PROTO_PRES_F_HEAD;
	u.pose[PROTO_PRES_HEAD][1] = 1.6f;
	u.pose[PROTO_PRES_HEAD][6] = 1.0f;
	assert_int_equal(pres_user_check(&u), 0);
	assert_int_equal(pres_user_merge(&cur, &u), PROTO_PRES_F_HEAD);
	assert_int_equal(pres_user_merge(&cur, &u), 0); /* the same again changes nothing */
	struct proto_pres_user c2 = user(7);
	c2.t_ns = 200;
	c2.valid = PROTO_PRES_F_CURSOR | PROTO_PRES_F_SPEAKING;
	c2.cursor[0] = 0.5f;
	c2.tool = 3;
	assert_int_equal(pres_user_merge(&cur, &c2), PROTO_PRES_F_CURSOR | PROTO_PRES_F_SPEAKING);
	assert_int_equal(cur.valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_CURSOR | PROTO_PRES_F_SPEAKING);
	assert_true(cur.pose[PROTO_PRES_HEAD][1] == 1.6f); /* kept */
	assert_true(cur.t_ns == 200);
	c2.tool = 4;
	assert_int_equal(pres_user_merge(&cur, &c2), PROTO_PRES_F_CURSOR);
	struct proto_pres_user e = user(7);
	e.t_ns = 150; /* older t_ns does not move the user's time back */
	e.valid = PRES_ENDED(PROTO_PRES_F_SPEAKING | PROTO_PRES_F_PREVIEW);
	assert_int_equal(pres_user_check(&e), 0);
	assert_int_equal(pres_user_merge(&cur, &e), PROTO_PRES_F_SPEAKING);
	assert_int_equal(cur.valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_CURSOR);
	assert_true(cur.t_ns == 200);
	/* a whole state replaces */
	struct proto_pres_user w = user(7);
	w.valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT;
	memcpy(w.pose[PROTO_PRES_HEAD], cur.pose[PROTO_PRES_HEAD], sizeof w.pose[0]);
	assert_int_equal(pres_user_replace(&cur, &w), PROTO_PRES_F_LEFT | PROTO_PRES_F_CURSOR);
	assert_int_equal(cur.valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT);
}

static void a_presence_change_replaces_cursor_preview_and_speaking(void **st)
{
	(void)st;
	struct proto_pres_user cur = { 0 }, u = user(3);
	u.valid = PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT;
	u.pose[PROTO_PRES_HEAD][6] = u.pose[PROTO_PRES_LEFT][6] = 1.0f;
	pres_user_merge(&cur, &u);
	struct proto_pres_user p = user(3);
	p.valid = PROTO_PRES_F_CURSOR | PROTO_PRES_F_PREVIEW | PROTO_PRES_F_SPEAKING;
	p.preview_target = 9;
	p.preview[6] = 1.0f;
	pres_user_merge(&cur, &p);
	assert_int_equal(cur.valid, PROTO_PRES_F_ALL & ~PROTO_PRES_F_RIGHT);
	/* no pose part, nothing ended: what it lacks has ended (the drag and the talk) */
	p.valid = PROTO_PRES_F_CURSOR;
	assert_int_equal(pres_user_merge(&cur, &p), PROTO_PRES_F_PREVIEW | PROTO_PRES_F_SPEAKING);
	assert_int_equal(cur.valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_CURSOR);
	/* nothing at all: the cursor left too; the poses stay */
	p.valid = 0;
	assert_int_equal(pres_user_merge(&cur, &p), PROTO_PRES_F_CURSOR);
	assert_int_equal(cur.valid, PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT);
	/* a pose update leaves the presence fields alone */
	p.valid = PROTO_PRES_F_SPEAKING;
	pres_user_merge(&cur, &p);
	u.valid = PROTO_PRES_F_RIGHT;
	u.pose[PROTO_PRES_RIGHT][6] = 1.0f;
	assert_int_equal(pres_user_merge(&cur, &u), PROTO_PRES_F_RIGHT);
	assert_true(cur.valid & PROTO_PRES_F_SPEAKING);
}

static void bad_users_are_refused(void **st)
{
	(void)st;
	struct proto_pres_user u = user(1);
	memset(u.key, 0, sizeof u.key);
	assert_int_equal(pres_user_check(&u), -EINVAL); /* no key */
	u = user(1);
	u.valid = 0x40;
	assert_int_equal(pres_user_check(&u), -EINVAL); /* unknown field */
	u.valid = PROTO_PRES_F_CURSOR | PRES_ENDED(PROTO_PRES_F_CURSOR);
	assert_int_equal(pres_user_check(&u), -EINVAL); /* given and ended */
	u.valid = PROTO_PRES_F_RIGHT;
	u.pose[PROTO_PRES_RIGHT][4] = NAN;
	assert_int_equal(pres_user_check(&u), -EINVAL);
	u.valid = PROTO_PRES_F_LEFT; /* the NaN is in a field not given: fine */
	assert_int_equal(pres_user_check(&u), 0);
	u.valid = PROTO_PRES_F_CURSOR;
	u.tool = PRES_TOOL_MAX + 1;
	assert_int_equal(pres_user_check(&u), -EINVAL);
	u.tool = 1;
	u.cursor[2] = INFINITY;
	assert_int_equal(pres_user_check(&u), -EINVAL);
	u = user(1);
	u.valid = PROTO_PRES_F_PREVIEW;
	u.preview[6] = -NAN;
	assert_int_equal(pres_user_check(&u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cells_are_floors_of_position_over_size),
		cmocka_unit_test(distance_is_chebyshev),
		cmocka_unit_test(queries_agree_with_a_brute_force_walk),
		cmocka_unit_test(a_cell_holds_many_and_the_cap_bounds_results),
		cmocka_unit_test(bad_items_are_refused_and_the_grid_is_bounded),
		cmocka_unit_test(the_view_cone_looks_along_minus_z),
		cmocka_unit_test(settings_are_checked_with_a_sentence_naming_the_key),
		cmocka_unit_test(a_user_is_merged_per_field_and_ended_fields_clear),
		cmocka_unit_test(a_presence_change_replaces_cursor_preview_and_speaking),
		cmocka_unit_test(bad_users_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
