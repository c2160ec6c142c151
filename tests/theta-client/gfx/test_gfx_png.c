/* theta-client/gfx/gfx_png.c: PNG write/read of RGBA8, the tolerance
 * compare, the diff picture; tests/lib/th_golden.c on top of them. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <png.h>

#include "gfx/gfx_png.h"
#include "th_golden.h"
#include "th_harness.h"

struct fx {
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || th_mkdtemp(f->dir, sizeof(f->dir)) < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/a.png", f->dir);
	unsetenv("THETA_UPDATE_GOLDENS");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	th_rm_rf(f->dir);
	free(f);
	unsetenv("THETA_UPDATE_GOLDENS");
	return 0;
}

/* A w x h pattern every pixel of which differs from its neighbours. */
static uint8_t *pattern(uint32_t w, uint32_t h)
{
	uint8_t *p = malloc((size_t)w * h * 4u);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t *o = p + ((size_t)y * w + x) * 4u;
			o[0] = (uint8_t)(x * 7u);
			o[1] = (uint8_t)(y * 13u);
			o[2] = (uint8_t)(x ^ y);
			o[3] = (uint8_t)(255u - ((x + y) & 63u));
		}
	return p;
}

static void write_then_read_is_exact(void **state)
{
	struct fx *f = *state;
	uint8_t *p = pattern(37, 11);
	char why[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_write(f->path, p, 37, 11, why, sizeof(why)), 0);
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	struct stat st;
	assert_int_equal(stat(tmp, &st), -1); /* renamed away */
	uint8_t *q = NULL;
	uint32_t w = 0, h = 0;
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, why, sizeof(why)), 0);
	assert_int_equal(w, 37);
	assert_int_equal(h, 11);
	assert_memory_equal(p, q, 37u * 11u * 4u);
	free(p);
	free(q);
}

static void read_converts_grey_to_rgba(void **state)
{
	struct fx *f = *state;
	uint8_t grey[6] = { 0, 50, 100, 150, 200, 255 };
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = 3;
	img.height = 2;
	img.format = PNG_FORMAT_GRAY;
	assert_true(png_image_write_to_file(&img, f->path, 0, grey, 3, NULL));
	uint8_t *q = NULL;
	uint32_t w, h;
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, NULL, 0), 0);
	assert_int_equal(w, 3);
	assert_int_equal(h, 2);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(q[i * 4 + 0], grey[i]);
		assert_int_equal(q[i * 4 + 1], grey[i]);
		assert_int_equal(q[i * 4 + 2], grey[i]);
		assert_int_equal(q[i * 4 + 3], 255);
	}
	free(q);
}

static void read_errors_say_why(void **state)
{
	struct fx *f = *state;
	char why[GFX_PNG_WHY_MAX] = "";
	uint8_t *q = (uint8_t *)0x1;
	uint32_t w = 7, h = 7;
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot open"));
	assert_ptr_equal(q, (uint8_t *)0x1); /* untouched on failure */
	assert_int_equal(w, 7);

	FILE *fp = fopen(f->path, "wb");
	fputs("this is not a png file at all", fp);
	fclose(fp);
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "not a readable PNG"));

	/* A real PNG cut in half. */
	uint8_t *p = pattern(64, 64);
	assert_int_equal(gfx_png_write(f->path, p, 64, 64, NULL, 0), 0);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(truncate(f->path, st.st_size / 2), 0);
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, why, sizeof(why)), -EBADMSG);
	assert_ptr_equal(q, (uint8_t *)0x1);
	free(p);
}

/* The fuzz corpus's seeds: every colour type comes out as RGBA8. */
static void reads_every_colour_type(void **state)
{
	static const struct {
		const char *name;
		uint32_t w, h;
	} seeds[] = {
		{ "rgba_4x4", 4, 4 },	    { "rgb_5x3", 5, 3 },	  { "grey_7x2", 7, 2 },
		{ "grey_alpha_3x3", 3, 3 }, { "linear16_2x2", 2, 2 }, { "palette_4x4", 4, 4 },
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "tests/fuzz/gfx/corpus/png/%s.png", seeds[i].name);
		uint8_t *q = NULL;
		uint32_t w = 0, h = 0;
		char why[GFX_PNG_WHY_MAX] = "";
		int rc = gfx_png_read(path, &q, &w, &h, why, sizeof(why));
		if (rc != 0)
			fail_msg("%s: %s", path, why);
		assert_int_equal(w, seeds[i].w);
		assert_int_equal(h, seeds[i].h);
		if (strcmp(seeds[i].name, "palette_4x4") == 0) {
			/* index i & 3 into black, red, green, blue */
			static const uint8_t pal[4][4] = { { 0, 0, 0, 255 }, { 255, 0, 0, 255 }, { 0, 255, 0, 255 },
							   { 0, 0, 255, 255 } };
			for (int k = 0; k < 16; k++)
				assert_memory_equal(q + k * 4, pal[k & 3], 4);
		}
		if (strcmp(seeds[i].name, "rgb_5x3") == 0)
			assert_int_equal(q[3], 255); /* opaque without an alpha channel */
		free(q);
	}
}

static void decode_from_memory_and_file_limits(void **state)
{
	struct fx *f = *state;
	uint8_t *p = pattern(9, 5);
	assert_int_equal(gfx_png_write(f->path, p, 9, 5, NULL, 0), 0);
	FILE *fp = fopen(f->path, "rb");
	uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	uint8_t *q = NULL;
	uint32_t w, h;
	char why[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_decode(buf, n, &q, &w, &h, why, sizeof(why)), 0);
	assert_int_equal(w, 9);
	assert_memory_equal(p, q, 9 * 5 * 4);
	free(q);
	q = NULL;
	assert_int_equal(gfx_png_decode(buf, n / 3, &q, &w, &h, why, sizeof(why)), -EBADMSG);
	assert_null(q);
	assert_int_equal(gfx_png_decode(buf, 0, &q, &w, &h, why, sizeof(why)), -EBADMSG);

	/* A file over GFX_PNG_FILE_MAX is refused before it is read (sparse: no disk used). */
	assert_int_equal(truncate(f->path, (off_t)GFX_PNG_FILE_MAX + 1), 0);
	assert_int_equal(gfx_png_read(f->path, &q, &w, &h, why, sizeof(why)), -EFBIG);
	assert_non_null(strstr(why, "more than"));
	/* A directory is not a PNG. */
	assert_int_equal(gfx_png_read(f->dir, &q, &w, &h, why, sizeof(why)), -EBADMSG);
	assert_null(q);
	free(p);
}

static void write_refuses_bad_input(void **state)
{
	struct fx *f = *state;
	uint8_t px[4] = { 0 };
	char why[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_write(f->path, px, 0, 1, why, sizeof(why)), -EINVAL);
	assert_int_equal(gfx_png_write(f->path, px, GFX_PNG_DIM_MAX + 1, 1, why, sizeof(why)), -EFBIG);
	char bad[PATH_MAX];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.png", f->dir);
	assert_int_equal(gfx_png_write(bad, px, 1, 1, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "cannot create"));
}

static void compare_honours_the_tolerance(void **state)
{
	uint8_t *a = pattern(10, 10), *b = pattern(10, 10);
	struct gfx_png_compare_result r;
	struct gfx_png_tolerance exact = { 0 };
	assert_true(gfx_png_compare(a, b, 10, 10, &exact, &r));
	assert_int_equal(r.over, 0);
	assert_int_equal(r.worst_diff, 0);

	/* Every pixel off by 3 in green: over for an exact compare, fine with max_diff 3. */
	for (int i = 0; i < 100; i++)
		b[i * 4 + 1] = (uint8_t)(a[i * 4 + 1] < 250 ? a[i * 4 + 1] + 3 : a[i * 4 + 1] - 3);
	assert_false(gfx_png_compare(a, b, 10, 10, &exact, &r));
	assert_int_equal(r.over, 100);
	assert_int_equal(r.worst_diff, 3);
	assert_true(gfx_png_compare(a, b, 10, 10, &(struct gfx_png_tolerance){ .max_diff = 3 }, &r));

	/* Two pixels far off: allowed by 2 %, not by 1 %. */
	memcpy(b, a, 400);
	b[(3 * 10 + 4) * 4 + 2] = (uint8_t)(a[(3 * 10 + 4) * 4 + 2] + 200);
	b[(7 * 10 + 1) * 4 + 3] = (uint8_t)(a[(7 * 10 + 1) * 4 + 3] + 100);
	struct gfx_png_tolerance two = { .max_diff = 4, .max_over_fraction = 0.02 };
	struct gfx_png_tolerance one = { .max_diff = 4, .max_over_fraction = 0.01 };
	assert_true(gfx_png_compare(a, b, 10, 10, &two, &r));
	assert_false(gfx_png_compare(a, b, 10, 10, &one, &r));
	assert_int_equal(r.over, 2);
	assert_int_equal(r.worst_x, 4);
	assert_int_equal(r.worst_y, 3);
	assert_int_equal(r.worst_diff, 200);
	assert_memory_equal(r.got, a + (3 * 10 + 4) * 4, 4);
	assert_memory_equal(r.want, b + (3 * 10 + 4) * 4, 4);
	char desc[256];
	gfx_png_compare_describe(&r, &one, desc, sizeof(desc));
	assert_non_null(strstr(desc, "2 of 100 pixels"));
	assert_non_null(strstr(desc, "the worst by 200 at (4, 3)"));

	uint8_t *d = malloc(400);
	gfx_png_diff_image(a, b, 10, 10, 4, d);
	assert_true(d[(3 * 10 + 4) * 4 + 0] >= 128); /* red where over */
	assert_int_equal(d[(3 * 10 + 4) * 4 + 1], 0);
	assert_int_equal(d[0], d[1]); /* grey elsewhere */
	assert_true(d[0] < 64);
	free(a);
	free(b);
	free(d);
}

static void golden_update_match_and_mismatch(void **state)
{
	struct fx *f = *state;
	char gdir[PATH_MAX + 8], odir[PATH_MAX + 8], why[1024], path[PATH_MAX + 64];
	snprintf(gdir, sizeof(gdir), "%s/golden", f->dir);
	snprintf(odir, sizeof(odir), "%s/out", f->dir);
	uint8_t *p = pattern(16, 8);
	struct gfx_png_tolerance t = TH_GOLDEN_TOLERANCE;
	struct stat st;

	/* No golden yet: a mismatch that says how to make one, the image kept. */
	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 16, 8, &t, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "THETA_UPDATE_GOLDENS=1"));
	snprintf(path, sizeof(path), "%s/pat.actual.png", odir);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);

	setenv("THETA_UPDATE_GOLDENS", "1", 1);
	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 16, 8, &t, why, sizeof(why)), 0);
	unsetenv("THETA_UPDATE_GOLDENS");
	snprintf(path, sizeof(path), "%s/pat.png", gdir);
	assert_int_equal(stat(path, &st), 0);

	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 16, 8, &t, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/pat.actual.png", odir);
	assert_int_equal(stat(path, &st), -1);

	/* One pixel in 128 within the fraction, a block of them not. */
	p[(2 * 16 + 5) * 4] ^= 0x80;
	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 16, 8, &(struct gfx_png_tolerance){ 4, 0.01 }, why,
					   sizeof(why)),
			 0);
	for (int i = 0; i < 8; i++)
		p[(5 * 16 + 8 + i) * 4 + 1] ^= 0x40;
	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 16, 8, &t, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "9 of 128 pixels"));
	assert_non_null(strstr(why, "at (5, 2)"));
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/pat.diff.png", odir);
	assert_int_equal(stat(path, &st), 0);

	/* A different size is a mismatch, said with both sizes. */
	assert_int_equal(th_golden_compare(gdir, odir, "pat", p, 8, 16, &t, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "is 16x8 but the image is 8x16"));

	assert_int_equal(th_golden_compare(gdir, odir, "../escape", p, 16, 8, &t, why, sizeof(why)), -EINVAL);

	/* An update whose golden folder cannot be made (under a file) says so. */
	snprintf(path, sizeof(path), "%s/a-file", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(gdir, sizeof(gdir), "%s/a-file/golden", f->dir);
	setenv("THETA_UPDATE_GOLDENS", "1", 1);
	int rc = th_golden_compare(gdir, odir, "pat", p, 16, 8, &t, why, sizeof(why));
	unsetenv("THETA_UPDATE_GOLDENS");
	assert_true(rc < 0);
	assert_non_null(strstr(why, "cannot make the folder"));
	assert_non_null(strstr(why, gdir));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_then_read_is_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(read_converts_grey_to_rgba, setup, teardown),
		cmocka_unit_test_setup_teardown(read_errors_say_why, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_every_colour_type, setup, teardown),
		cmocka_unit_test_setup_teardown(decode_from_memory_and_file_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(write_refuses_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(compare_honours_the_tolerance, setup, teardown),
		cmocka_unit_test_setup_teardown(golden_update_match_and_mismatch, setup, teardown),
	};
	return cmocka_run_group_tests_name("gfx_png", tests, NULL, NULL);
}
