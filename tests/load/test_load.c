/* theta-load against a real host thetad (tests/load/README.md): 8
 * generated members, each its own QUIC connection, identity and single-use
 * invite, walking close together but for one that stands far away, for a
 * few seconds. Every member receives the poses of the near ones; the far
 * one is culled both ways by the host's interest grid; no entry is lost:
 * every member holds every other member's entries, chained; voice is
 * relayed. No timing assertion: the figures are bench-presence's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load_host.h"

#define MEMBERS 8
#define FAR 1            /* the last member stands LOAD_FAR_M away */
#define NEAR_SEEN_MIN 20 /* records a member takes of each near one in the window (90 Hz x 3 s: hundreds) */
#define RUN_MS 120000    /* theta-load's own limits end it long before */

static struct lh_host g_host;

static int teardown(void **state)
{
	(void)state;
	lh_host_stop(&g_host);
	return 0;
}

static long long seen(struct json_object *doc, unsigned m, unsigned k)
{
	struct json_object *rows, *row;
	if (!json_object_object_get_ex(doc, "seen", &rows) || !(row = json_object_array_get_idx(rows, m)))
		return -1;
	struct json_object *v = json_object_array_get_idx(row, k);
	return v ? json_object_get_int64(v) : -1;
}

static void members_see_the_near_ones_the_far_one_is_culled_and_no_entry_is_lost(void **state)
{
	(void)state;
	assert_int_equal(lh_host_start(&g_host, 16, NULL, -1), 0);
	assert_int_equal(lh_invites(&g_host, MEMBERS), 0);
	char far[8];
	snprintf(far, sizeof(far), "%u", FAR);
	const char *args[] = { "--members", "8", "--far", far, "--spread", "6", "--seconds", "3", "--warmup", "1",
			       "--drain", "20", "--entry-every", "0.7", NULL };
	int code = -1;
	struct json_object *doc = NULL;
	assert_int_equal(lh_run_load(&g_host, args, -1, RUN_MS, &code, &doc), 0);
	assert_non_null(doc);
	/* theta-load's own verdict: every member active through the window,
	 * every entry at every member, none refused, no glue error. */
	assert_int_equal(code, 0);
	assert_string_equal(th_json_path(doc, "ok"), "true");
	assert_int_equal(lh_num(doc, "active"), MEMBERS);
	assert_int_equal(lh_num(doc, "glue_errors"), 0);
	/* Each made entries; each holds all of the others'. */
	double made = lh_num(doc, "entries.made"), expected = lh_num(doc, "entries.expected");
	assert_true(made >= MEMBERS);
	assert_true(expected == made * (MEMBERS - 1));
	assert_int_equal(lh_num(doc, "entries.missing"), 0);
	assert_int_equal(lh_num(doc, "entries.bad"), 0);
	assert_int_equal(lh_num(doc, "entries.rejected"), 0);
	/* Presence both ways between the near members, every pair. */
	for (unsigned m = 0; m < MEMBERS - FAR; m++)
		for (unsigned k = 0; k < MEMBERS - FAR; k++)
			if (k != m) {
				long long n = seen(doc, m, k);
				if (n < NEAR_SEEN_MIN)
					print_error("member %u took %lld records of near member %u\n", m, n, k);
				assert_true(n >= NEAR_SEEN_MIN);
			}
	/* The far one: culled both ways by the host's interest grid. */
	for (unsigned m = 0; m < MEMBERS - FAR; m++) {
		unsigned f = MEMBERS - 1;
		assert_int_equal(seen(doc, m, f), 0);
		assert_int_equal(seen(doc, f, m), 0);
	}
	assert_true(lh_num(doc, "pose_age_ms.count") > 0);
	assert_true(lh_num(doc, "voice.in") > 0);
	/* The host counted the same members. */
	assert_true(lh_metric(&g_host, "net_joins") >= MEMBERS);
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(members_see_the_near_ones_the_far_one_is_culled_and_no_entry_is_lost, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
