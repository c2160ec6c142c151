/* What the mesh fuzz targets (fuzz_mesh_apply.c, fuzz_meshop.c) compare a
 * mesh by (header-only): its canonical encoding, taken and compared; and
 * fz_check, which traps when a check fails. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "th_buf.h"
#include "th_mesh.h"

static void fz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

struct fz_enc {
	uint8_t *d;
	size_t len;
};

/* m's canonical encoding (free .d). */
static struct fz_enc fz_encode(const struct th_mesh *m)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	fz_check(th_mesh_encode(m, &w) == 0);
	return (struct fz_enc){ w.data, w.len };
}

static bool fz_same(struct fz_enc a, struct fz_enc b)
{
	return a.len == b.len && (!a.len || memcmp(a.d, b.d, a.len) == 0);
}
