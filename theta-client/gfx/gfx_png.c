/* PNG read/write of RGBA8 through libpng's simplified API (png_image), and
 * the tolerance compare (gfx_png.h). No logging: errors come back as
 * -errno with a sentence in why. */
#include "gfx/gfx_png.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

__attribute__((format(printf, 4, 5))) static int say(char *why, size_t len, int rc, const char *fmt, ...)
{
	if (why && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int gfx_png_write(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h, char *why, size_t whylen)
{
	if (!path || !rgba || w == 0 || h == 0)
		return say(why, whylen, -EINVAL, "gfx_png_write: no path, no pixels or an empty image");
	if (w > GFX_PNG_DIM_MAX || h > GFX_PNG_DIM_MAX)
		return say(why, whylen, -EFBIG, "%s: %ux%u is larger than %u pixels a side", path, w, h,
			   GFX_PNG_DIM_MAX);
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return say(why, whylen, -ENAMETOOLONG, "%s: the path is too long", path);
	FILE *f = fopen(tmp, "wbe");
	if (!f) {
		int e = errno;
		return say(why, whylen, -e, "%s: cannot create it: %s", tmp, strerror(e));
	}
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_RGBA;
	int ok = png_image_write_to_stdio(&img, f, 0, rgba, (png_int_32)(w * 4u), NULL);
	char msg[sizeof(img.message)];
	memcpy(msg, img.message, sizeof(msg));
	png_image_free(&img);
	int e = 0;
	if (fflush(f) != 0)
		e = errno;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (!ok || e) {
		unlink(tmp);
		if (!ok)
			return say(why, whylen, -EIO, "%s: libpng could not write it: %s", path, msg);
		return say(why, whylen, -e, "%s: writing it failed: %s", path, strerror(e));
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		return say(why, whylen, -e, "%s: cannot rename %s onto it: %s", path, tmp, strerror(e));
	}
	return 0;
}

int gfx_png_decode(const void *data, size_t len, uint8_t **rgba, uint32_t *w, uint32_t *h, char *why,
		   size_t whylen)
{
	if (!data || !rgba || !w || !h)
		return say(why, whylen, -EINVAL, "gfx_png_decode: missing arguments");
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	int rc = 0;
	uint8_t *px = NULL;
	if (!png_image_begin_read_from_memory(&img, data, len)) {
		rc = say(why, whylen, -EBADMSG, "not a readable PNG: %s", img.message);
		goto out;
	}
	if (img.width == 0 || img.height == 0 || img.width > GFX_PNG_DIM_MAX || img.height > GFX_PNG_DIM_MAX) {
		rc = say(why, whylen, img.width && img.height ? -EFBIG : -EBADMSG,
			 "%ux%u pixels is outside 1..%u a side", img.width, img.height, GFX_PNG_DIM_MAX);
		goto out;
	}
	img.format = PNG_FORMAT_RGBA;
	size_t size = (size_t)img.width * img.height * 4u;
	px = malloc(size);
	if (!px) {
		rc = say(why, whylen, -ENOMEM, "no memory for %ux%u pixels", img.width, img.height);
		goto out;
	}
	if (!png_image_finish_read(&img, NULL, px, (png_int_32)(img.width * 4u), NULL)) {
		rc = say(why, whylen, -EBADMSG, "damaged PNG: %s", img.message);
		goto out;
	}
	*rgba = px;
	*w = img.width;
	*h = img.height;
	px = NULL;
out:
	png_image_free(&img);
	free(px);
	return rc;
}

int gfx_png_read(const char *path, uint8_t **rgba, uint32_t *w, uint32_t *h, char *why, size_t whylen)
{
	if (!path || !rgba || !w || !h)
		return say(why, whylen, -EINVAL, "gfx_png_read: missing arguments");
	FILE *f = fopen(path, "rbe");
	if (!f) {
		int e = errno;
		return say(why, whylen, -e, "%s: cannot open it: %s", path, strerror(e));
	}
	uint8_t *data = NULL;
	int rc = 0;
	struct stat st;
	if (fstat(fileno(f), &st) < 0) {
		int e = errno;
		rc = say(why, whylen, -e, "%s: cannot stat it: %s", path, strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		rc = say(why, whylen, -EBADMSG, "%s: not a regular file", path);
	} else if ((uint64_t)st.st_size > GFX_PNG_FILE_MAX) {
		rc = say(why, whylen, -EFBIG, "%s: %lld bytes is more than the %u a PNG may have here", path,
			 (long long)st.st_size, GFX_PNG_FILE_MAX);
	} else if (!(data = malloc((size_t)st.st_size + 1u))) {
		rc = say(why, whylen, -ENOMEM, "%s: no memory for %lld bytes", path, (long long)st.st_size);
	}
	size_t len = 0;
	if (rc == 0) {
		len = fread(data, 1, (size_t)st.st_size + 1u, f);
		if (ferror(f))
			rc = say(why, whylen, -EIO, "%s: reading it failed", path);
		else if (len > (size_t)st.st_size)
			rc = say(why, whylen, -EFBIG, "%s: it grew while being read", path);
	}
	fclose(f);
	if (rc == 0) {
		char msg[GFX_PNG_WHY_MAX] = "";
		rc = gfx_png_decode(data, len, rgba, w, h, msg, sizeof(msg));
		if (rc < 0)
			say(why, whylen, rc, "%s: %s", path, msg);
	}
	free(data);
	return rc;
}

static uint8_t absdiff(uint8_t a, uint8_t b)
{
	return a > b ? (uint8_t)(a - b) : (uint8_t)(b - a);
}

static uint8_t pixel_diff(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	for (int c = 0; c < 4; c++) {
		uint8_t x = absdiff(a[c], b[c]);
		if (x > d)
			d = x;
	}
	return d;
}

bool gfx_png_compare(const uint8_t *got, const uint8_t *want, uint32_t w, uint32_t h,
		     const struct gfx_png_tolerance *t, struct gfx_png_compare_result *r)
{
	struct gfx_png_compare_result res = { .pixels = (uint64_t)w * h };
	uint8_t max_diff = t ? t->max_diff : 0;
	double max_frac = t ? t->max_over_fraction : 0.0;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			size_t i = ((size_t)y * w + x) * 4u;
			uint8_t d = pixel_diff(got + i, want + i);
			if (d > max_diff)
				res.over++;
			if (d > res.worst_diff || (x == 0 && y == 0)) {
				res.worst_diff = d;
				res.worst_x = x;
				res.worst_y = y;
				memcpy(res.got, got + i, 4);
				memcpy(res.want, want + i, 4);
			}
		}
	}
	if (r)
		*r = res;
	if (res.over == 0)
		return true;
	return res.pixels && (double)res.over <= max_frac * (double)res.pixels;
}

void gfx_png_compare_describe(const struct gfx_png_compare_result *r, const struct gfx_png_tolerance *t,
			      char *buf, size_t len)
{
	double pct = r->pixels ? 100.0 * (double)r->over / (double)r->pixels : 0.0;
	snprintf(buf, len,
		 "%llu of %llu pixels (%.2f%%, allowed %.2f%%) differ by more than %u, the worst by %u at (%u, %u): "
		 "got %u,%u,%u,%u, want %u,%u,%u,%u",
		 (unsigned long long)r->over, (unsigned long long)r->pixels, pct,
		 t ? 100.0 * t->max_over_fraction : 0.0, t ? t->max_diff : 0u, r->worst_diff, r->worst_x, r->worst_y,
		 r->got[0], r->got[1], r->got[2], r->got[3], r->want[0], r->want[1], r->want[2], r->want[3]);
}

void gfx_png_diff_image(const uint8_t *got, const uint8_t *want, uint32_t w, uint32_t h, uint8_t max_diff,
			uint8_t *out)
{
	size_t n = (size_t)w * h;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *a = got + i * 4u, *b = want + i * 4u;
		uint8_t d = pixel_diff(a, b);
		uint8_t *o = out + i * 4u;
		if (d > max_diff) {
			o[0] = (uint8_t)(128u + d / 2u);
			o[1] = 0;
			o[2] = 0;
		} else {
			uint8_t g = (uint8_t)(((unsigned)b[0] + b[1] + b[2]) / 12u);
			o[0] = o[1] = o[2] = g;
		}
		o[3] = 255;
	}
}
