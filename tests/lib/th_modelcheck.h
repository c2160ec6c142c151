/* Checks of the import readers' results (th_model.h) shared by their unit
 * tests (test_gltf_read.c, test_obj_read.c). */
#pragma once

#include "th_model.h"

/* A reader's refusal: r < 0, its sentence why holds needle, and m was left
 * empty. The test fails otherwise. */
void mc_refused(int r, const char *why, const struct th_model *m, const char *needle);
