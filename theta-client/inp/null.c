/* The null input source: nothing tracked, nothing pressed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inp/input.h"

void inp_state_init(struct inp_state *s)
{
	memset(s, 0, sizeof *s);
	s->head.rotation[3] = 1;
	for (int h = 0; h < INP_HANDS; h++)
		s->hand[h].pose.rotation[3] = s->hand[h].aim.rotation[3] = 1;
}

static int null_poll(struct inp_source *src, uint64_t time_ns, struct inp_state *st)
{
	for (int h = 0; h < INP_HANDS; h++)
		st->hand[h].pressed = st->hand[h].released = 0;
	return 0;
}

static void null_destroy(struct inp_source *src) { free(src); }

static const struct inp_source_ops null_ops = { .poll = null_poll, .destroy = null_destroy };

int inp_null_create(struct inp_source **out)
{
	struct inp_source *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->ops = &null_ops;
	s->name = "null";
	*out = s;
	return 0;
}
