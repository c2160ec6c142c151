/* Writes the seeds of the PNG fuzz corpus (tests/fuzz/gfx/corpus/png/):
 * small images in each colour type libpng's simplified reader converts
 * (RGBA, RGB, grey, grey + alpha, 16-bit, palette). Not built by the
 * Makefile (no fuzz_ or test_ prefix); run from the repository root:
 *
 *   cc -std=gnu17 tests/fuzz/gfx/gen_corpus.c $(pkg-config --cflags --libs libpng) \
 *      -o /tmp/gen_png_corpus && /tmp/gen_png_corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <png.h>

#define DIR "tests/fuzz/gfx/corpus/png/"

static int put(const char *name, uint32_t format, uint32_t w, uint32_t h, const void *px, const void *cmap,
	       int ncmap)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = format;
	img.colormap_entries = (png_uint_32)ncmap;
	if (!png_image_write_to_file(&img, name, 0, px, 0, cmap)) {
		fprintf(stderr, "%s: %s\n", name, img.message);
		return 1;
	}
	return 0;
}

int main(void)
{
	uint8_t rgba[4 * 4 * 4], rgb[5 * 3 * 3], grey[7 * 2], ga[3 * 3 * 2], idx[4 * 4];
	uint16_t deep[2 * 2 * 4];
	uint8_t cmap[4 * 3] = { 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255 };
	for (size_t i = 0; i < sizeof(rgba); i++)
		rgba[i] = (uint8_t)(i * 37);
	for (size_t i = 0; i < sizeof(rgb); i++)
		rgb[i] = (uint8_t)(i * 11);
	for (size_t i = 0; i < sizeof(grey); i++)
		grey[i] = (uint8_t)(i * 19);
	for (size_t i = 0; i < sizeof(ga); i++)
		ga[i] = (uint8_t)(255 - i * 13);
	for (size_t i = 0; i < sizeof(idx); i++)
		idx[i] = (uint8_t)(i & 3);
	for (size_t i = 0; i < sizeof(deep) / 2; i++)
		deep[i] = (uint16_t)(i * 4099);
	int bad = 0;
	bad |= put(DIR "rgba_4x4.png", PNG_FORMAT_RGBA, 4, 4, rgba, NULL, 0);
	bad |= put(DIR "rgb_5x3.png", PNG_FORMAT_RGB, 5, 3, rgb, NULL, 0);
	bad |= put(DIR "grey_7x2.png", PNG_FORMAT_GRAY, 7, 2, grey, NULL, 0);
	bad |= put(DIR "grey_alpha_3x3.png", PNG_FORMAT_GA, 3, 3, ga, NULL, 0);
	bad |= put(DIR "linear16_2x2.png", PNG_FORMAT_LINEAR_RGB_ALPHA, 2, 2, deep, NULL, 0);
	bad |= put(DIR "palette_4x4.png", PNG_FORMAT_RGB_COLORMAP, 4, 4, idx, cmap, 4);
	return bad;
}
