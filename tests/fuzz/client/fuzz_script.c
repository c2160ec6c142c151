/* libFuzzer target: the scripted-input parser (theta-client/inp/script.c).
 * Any input must parse or fail with a located error; never crash, leak or
 * read out of bounds. A parsed script is replayed through the source. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inp/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inp_script *s = NULL;
	struct inp_script_error err;
	int r = inp_script_parse((const char *)data, size, &s, &err);
	if (r < 0) {
		if (r == -EBADMSG && (err.line == 0 || err.column == 0 || !memchr(err.msg, 0, sizeof err.msg)))
			abort(); /* every syntax error names a line and a column */
		return 0;
	}
	uint64_t prev = 0;
	for (size_t i = 0; i < inp_script_count(s); i++) {
		const struct inp_script_event *e = inp_script_event(s, i);
		if (e->time_ns < prev || e->time_ns > INP_SCRIPT_MAX_TIME_NS)
			abort();
		prev = e->time_ns;
	}
	struct inp_source *src;
	if (inp_script_source_create(s, &src) < 0)
		return 0;
	struct inp_state st;
	inp_state_init(&st);
	for (uint64_t t = 0; t <= prev; t += prev / 7 + 1)
		inp_poll(src, t, &st);
	inp_poll(src, UINT64_MAX, &st);
	inp_destroy(&src);
	return 0;
}
