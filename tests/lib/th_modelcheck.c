/* Checks of the import readers' results (th_modelcheck.h). */
#include "th_modelcheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

void mc_refused(int r, const char *why, const struct th_model *m, const char *needle)
{
	if (r >= 0)
		fail_msg("accepted; expected a refusal with '%s'", needle);
	if (!strstr(why, needle))
		fail_msg("refusal '%s' lacks '%s'", why, needle);
	assert_int_equal(m->n_objects, 0);
	assert_null(m->pos);
}
