/* Runs the Khronos glTF-Validator (scripts/gltf-validate.js on node, the
 * npm package scripts/setup installs into tools/npm) on a file, for the
 * export tests and the demo. Paths are relative to the repository root,
 * where make runs the tests. */
#pragma once
#include <stddef.h>

#define GV_SCRIPT "scripts/gltf-validate.js"
#define GV_PACKAGE "tools/npm/node_modules/gltf-validator/package.json"

/* NULL when the validator can run here, else why not (one sentence). */
const char *gv_unavailable(void);
/* Validates path: 0 (no errors, no warnings), 1 (issues; the report in
 * out), or negative errno (it could not run; out says why). out holds the
 * validator's JSON line or its error output, NUL-terminated. */
int gv_validate(const char *path, char *out, size_t cap);
/* cmocka: fails the test unless dir/name passes the validator (0 errors,
 * 0 warnings; the report is printed); when the validator cannot run here
 * it prints a SKIP line with the reason instead. */
void gv_assert_valid(const char *dir, const char *name);
