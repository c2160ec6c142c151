/* libFuzzer target: th_gltf_read on arbitrary bytes (.glb or .gltf JSON).
 * Traps if a refusal left anything in the model or gave no sentence, or if
 * an accepted model breaks an invariant of th_model.h or its faces do not
 * join a half-edge mesh in the reader's order (fuzz_model_check.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_model_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_model m;
	char why[TH_MODEL_WHY_LEN] = "";
	int r = th_gltf_read(data, size, &m, why, sizeof(why));
	fz_model_check(r, &m, why);
	th_model_fini(&m);
	return 0;
}
