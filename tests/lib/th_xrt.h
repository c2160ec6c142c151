/* The OpenXR test runtime (tests/xrt/, docs/xr-test-runtime.md) seen from
 * a test: where make put its files, and its record. */
#pragma once
#include <stddef.h>

/* The absolute path of $THETA_BUILD/tests/xrt/name (build/ when
 * THETA_BUILD is unset or empty) into out: 0, or -errno when it is not
 * there (make and make test build it). */
int th_xrt_path(const char *name, char *out, size_t len);
/* How many lines of a runtime record start with prefix. */
unsigned th_xrt_lines(const char *rec, const char *prefix);
