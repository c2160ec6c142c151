/* th_meshop_int.h: th_slot_sort orders by id like qsort (few and many
 * elements, repeated ids, ids using all 64 bits), keeps each id with its
 * slot; th_mesh_live_sorted lists exactly the live elements, ascending. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_mesh.h"
#include "th_meshfix.h"
#include "th_meshop_int.h"

static void sort_matches_qsort(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 0, 1, 2, 31, 32, 33, 1000, 70000 };
	for (unsigned t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		uint32_t n = sizes[t];
		struct th_slot_id *s = malloc(((size_t)n + 1) * sizeof(*s));
		uint64_t *ids = malloc(((size_t)n + 1) * sizeof(*ids));
		assert_non_null(s);
		assert_non_null(ids);
		mf_rng = 0x5eed + t;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t id = mf_rnd();
			if (i % 7 == 3)
				id = s[i / 2].id; /* repeats */
			s[i] = (struct th_slot_id){ id, (int32_t)(id % 1000003) };
			ids[i] = id;
		}
		th_slot_sort(s, n);
		qsort(ids, n, sizeof(*ids), th_u64_cmp);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(s[i].id, ids[i]);
			assert_int_equal(s[i].slot, (int32_t)(s[i].id % 1000003));
		}
		free(s);
		free(ids);
	}
}

static void live_sorted_lists_the_live_elements(void **state)
{
	(void)state;
	struct th_mesh m;
	struct th_journal j;
	struct mf_patch *p = mf_cube_setup(&m, &j, 6);
	mf_p_remove(p, 103);
	mf_p_vert(p, 50, 2, 2, 2);
	mf_expect_applied(&m, p, &j);
	uint32_t n = 0;
	struct th_slot_id *f = th_mesh_live_sorted(&m, true, &n);
	assert_non_null(f);
	assert_int_equal(n, 5);
	static const uint64_t faces[5] = { 101, 102, 104, 105, 106 };
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(f[i].id, faces[i]);
		assert_int_equal(m.faces[f[i].slot].id, faces[i]);
	}
	free(f);
	struct th_slot_id *v = th_mesh_live_sorted(&m, false, &n);
	assert_non_null(v);
	assert_int_equal(n, 9);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(v[i].id, i < 8 ? i + 1 : 50);
		assert_int_equal(m.verts[v[i].slot].id, v[i].id);
	}
	free(v);
	mf_teardown(&m, &j, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sort_matches_qsort),
		cmocka_unit_test(live_sorted_lists_the_live_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
