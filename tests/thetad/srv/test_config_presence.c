/* The [presence] keys (docs/presence.md "In the daemon"): printed as
 * loaded, each out of its range refused naming the key, and a combination
 * thetad/pres refuses (pres_config_check) refused at start with that
 * module's sentence. Runs `thetad --config FILE --print-config`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "pres/pres.h"
#include "srv/config.h"
#include "th_harness.h"

#define WAIT_MS 20000

static char out[65536], err[8192];

static int print_config(const char *text)
{
	return th_print_config(text, out, sizeof out, err, sizeof err, WAIT_MS);
}

static void presence_keys_are_loaded_and_printed(void **state)
{
	(void)state;
	assert_int_equal(print_config("[presence]\ncell_m = 8\nnear_cells = 2\nview_cells = 5\nview_deg = 40\n"
				      "far_cells = 12\nfar_hz = 4\ntick_hz = 60\nvoice_cells = 7\n"),
			 0);
	const char *want[] = { "cell_m = 8\n", "near_cells = 2\n", "view_cells = 5\n", "view_deg = 40\n",
			       "far_cells = 12\n", "far_hz = 4\n", "tick_hz = 60\n", "voice_cells = 7\n" };
	const char *sec = strstr(out, "[presence]\n");
	assert_non_null(sec);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_non_null(strstr(sec, want[i]));
	/* The defaults are thetad/pres's. */
	struct srv_config c;
	struct pres_config d, got;
	srv_config_defaults(&c);
	pres_config_default(&d);
	srv_config_presence(&c, &got);
	assert_true(got.cell_m == d.cell_m && got.near_cells == d.near_cells && got.view_cells == d.view_cells &&
		    got.view_deg == d.view_deg && got.far_cells == d.far_cells && got.far_hz == d.far_hz &&
		    got.tick_hz == d.tick_hz && got.voice_cells == d.voice_cells);
	assert_null(pres_config_check(&got));
}

static void presence_keys_out_of_range_are_refused_naming_the_key(void **state)
{
	(void)state;
	assert_int_equal(print_config("[presence]\ntick_hz = 0\n"), 1);
	assert_non_null(strstr(err, "tick_hz"));
	assert_int_equal(print_config("[presence]\nview_deg = 181\n"), 1);
	assert_non_null(strstr(err, "view_deg"));
	assert_int_equal(print_config("[presence]\ncell_m = 0\n"), 1);
	assert_non_null(strstr(err, "cell_m"));
	assert_int_equal(print_config("[presence]\nfar_hz = many\n"), 1);
	assert_non_null(strstr(err, "far_hz"));
}

/* Combinations the keys' ranges allow but thetad/pres does not: the first
 * that pres_config_check refuses is refused by thetad with its sentence. */
static void a_combination_thetad_pres_refuses_is_refused_with_its_sentence(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		struct pres_config c;
	} cand[] = {
		{ "[presence]\nnear_cells = 9\nfar_cells = 8\n", { 4, 9, 4, 55, 8, 5, 90, 6 } },
		{ "[presence]\nfar_hz = 120\ntick_hz = 90\n", { 4, 1, 4, 55, 8, 120, 90, 6 } },
		{ "[presence]\nview_cells = 9\nfar_cells = 8\n", { 4, 1, 9, 55, 8, 5, 90, 6 } },
	};
	unsigned refused = 0;
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
		const char *why = pres_config_check(&cand[i].c);
		int rc = print_config(cand[i].text);
		if (!why) {
			assert_int_equal(rc, 0);
			continue;
		}
		refused++;
		assert_int_equal(rc, 1);
		char want[256];
		snprintf(want, sizeof want, "%s", why);
		if (!strstr(err, want))
			fail_msg("thetad said '%s', not '%s'", err, want);
	}
	assert_true(refused > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(presence_keys_are_loaded_and_printed),
		cmocka_unit_test(presence_keys_out_of_range_are_refused_naming_the_key),
		cmocka_unit_test(a_combination_thetad_pres_refuses_is_refused_with_its_sentence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
