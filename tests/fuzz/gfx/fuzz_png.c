/* libFuzzer: gfx_png_decode on arbitrary bytes (goldens and captures are
 * files from outside the process): it returns an image of at most
 * GFX_PNG_DIM_MAX a side or an error with a sentence, never crashes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gfx/gfx_png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *px = NULL;
	uint32_t w = 0, h = 0;
	char why[GFX_PNG_WHY_MAX] = "";
	int rc = gfx_png_decode(data, size, &px, &w, &h, why, sizeof(why));
	if (rc == 0) {
		if (!px || w == 0 || h == 0 || w > GFX_PNG_DIM_MAX || h > GFX_PNG_DIM_MAX)
			abort();
		volatile uint8_t last = px[(size_t)w * h * 4u - 1u]; /* the whole buffer is there */
		(void)last;
		free(px);
	} else if (px || why[0] == 0) {
		abort();
	}
	return 0;
}
