/* libFuzzer target: th_obj_read on arbitrary bytes: the OBJ text up to the
 * first NUL byte, the MTL text after it (none without one). Traps as
 * fuzz_gltf_read does (fuzz_model_check.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_model m;
	char why[TH_MODEL_WHY_LEN] = "";
	const uint8_t *z = memchr(data, 0, size);
	size_t obj_len = z ? (size_t)(z - data) : size;
	int r = th_obj_read(data, obj_len, z ? z + 1 : NULL, z ? size - obj_len - 1 : 0, &m, why, sizeof(why));
	fz_model_check(r, &m, why);
	th_model_fini(&m);
	return 0;
}
