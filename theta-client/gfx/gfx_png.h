/* PNG files of RGBA8 pixels (sRGB, straight alpha, rows top to bottom,
 * tightly packed: stride = width * 4) through libpng's simplified API,
 * and a compare of two such images with a tolerance.
 *
 * Used by the headless backend's screenshots, the window's screenshot,
 * the test runtime's capture hook (tests/xrt/, compiled into its .so: so
 * this file needs nothing but libc and libpng, and logs nothing) and the
 * golden-image checks (tests/lib/th_golden.h).
 *
 * Errors are negative errno, with a sentence in why (optional, NULL is
 * fine): -errno of open/rename, -EBADMSG (not a PNG or a damaged one),
 * -EFBIG (wider or taller than GFX_PNG_DIM_MAX, or a file over
 * GFX_PNG_FILE_MAX), -EINVAL (bad arguments),
 * -ENOMEM, -EIO (libpng could not write). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GFX_PNG_DIM_MAX 8192u  /* per side, what read accepts and write makes */
#define GFX_PNG_WHY_MAX 160u
#define GFX_PNG_FILE_MAX (64u << 20) /* bytes gfx_png_read takes from a file */

/* Writes path.tmp, then renames it over path (a reader never sees half a file). */
int gfx_png_write(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h, char *why, size_t whylen);
/* Any PNG (palette, grey, 16-bit, with or without alpha) converted to
 * RGBA8; *rgba is malloc'd (free it). Nothing is written on failure. */
int gfx_png_read(const char *path, uint8_t **rgba, uint32_t *w, uint32_t *h, char *why, size_t whylen);
/* The same from bytes in memory (what read does after reading the file;
 * tests/fuzz/gfx/fuzz_png.c). */
int gfx_png_decode(const void *data, size_t len, uint8_t **rgba, uint32_t *w, uint32_t *h, char *why,
		   size_t whylen);

/* A pixel is "over" when one of its four channels differs by more than
 * max_diff; the images match when at most max_over_fraction of the pixels
 * are over. {0, 0} is an exact compare. */
struct gfx_png_tolerance {
	uint8_t max_diff;
	double max_over_fraction;
};

struct gfx_png_compare_result {
	uint64_t pixels, over;    /* compared, over max_diff */
	uint8_t worst_diff;       /* the largest channel difference seen */
	uint32_t worst_x, worst_y; /* where (the first such pixel, row-major) */
	uint8_t got[4], want[4];  /* the two pixels there */
};

/* true when got matches want within t (both w x h). r is optional. */
bool gfx_png_compare(const uint8_t *got, const uint8_t *want, uint32_t w, uint32_t h,
		     const struct gfx_png_tolerance *t, struct gfx_png_compare_result *r);
/* One sentence about r: "12 of 57600 pixels (0.02%) differ by more than 2,
 * the worst by 255 at (10, 20): got 255,0,0,255, want 0,0,0,255". */
void gfx_png_compare_describe(const struct gfx_png_compare_result *r, const struct gfx_png_tolerance *t,
			      char *buf, size_t len);
/* A picture of the difference into out (w x h RGBA8): want dimmed to a
 * quarter in grey where within max_diff, red scaled by the difference
 * where over. */
void gfx_png_diff_image(const uint8_t *got, const uint8_t *want, uint32_t w, uint32_t h, uint8_t max_diff,
			uint8_t *out);
