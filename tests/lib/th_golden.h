/* Golden images: a test's pixels (RGBA8, sRGB, w x h) against
 * tests/golden/NAME.png with a tolerance (gfx/gfx_png.h).
 *
 * THETA_UPDATE_GOLDENS=1 writes the golden instead (look at it before
 * committing it). On a mismatch, a missing golden or a size change, the
 * pixels go to $THETA_BUILD/golden/NAME.actual.png (build/ by default) and
 * the difference to NAME.diff.png, and th_golden_check fails the running
 * cmocka test with one sentence naming the worst pixel. Tests run from the
 * repository root (make test); THETA_GOLDEN_DIR overrides tests/golden. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "gfx/gfx_png.h"

#define TH_GOLDEN_NAME_MAX 64u
/* What most render goldens allow: lavapipe's rasterisation is exact, but
 * an sRGB rounding or a driver update may move an edge pixel. */
#define TH_GOLDEN_TOLERANCE ((struct gfx_png_tolerance){ .max_diff = 4, .max_over_fraction = 0.002 })

/* 0 matched (or written under THETA_UPDATE_GOLDENS=1), 1 did not (the
 * sentence in why, actual and diff written to out_dir), -errno for a bad
 * name or an unwritable file. golden_dir / out_dir NULL: the defaults. */
int th_golden_compare(const char *golden_dir, const char *out_dir, const char *name, const uint8_t *rgba,
		      uint32_t w, uint32_t h, const struct gfx_png_tolerance *tol, char *why, size_t whylen);
/* The same with the defaults; fails the running test unless it matched. */
void th_golden_check(const char *name, const uint8_t *rgba, uint32_t w, uint32_t h,
		     const struct gfx_png_tolerance *tol);
