/* What the asset tests share (header-only, as net_fixture.h): a temporary
 * folder for the group, files of pseudo-random bytes with their SHA-256,
 * and a byte-for-byte comparison. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <sodium.h>

#include "th_harness.h"

static char tmpdir[128];

static int group_setup(void **state)
{
	assert_int_equal(th_mkdtemp(tmpdir, sizeof(tmpdir)), 0);
	return 0;
}

static int group_teardown(void **state)
{
	th_rm_rf(tmpdir);
	return 0;
}

/* A file of `size` pseudo-random bytes; its SHA-256 in hex[65]. */
static void make_file(const char *name, size_t size, unsigned seed, char path[256], char hex[65])
{
	snprintf(path, 256, "%s/%s", tmpdir, name);
	uint8_t *b = malloc(size);
	assert_non_null(b);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b[i] = (uint8_t)x;
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, size, f), size);
	fclose(f);
	uint8_t h[32];
	crypto_hash_sha256(h, b, size);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	free(b);
}

static bool same_file(const char *a, const char *b)
{
	char *x = th_slurp(a), *y = th_slurp(b);
	struct stat sa, sb;
	bool same = x && y && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_size == sb.st_size &&
		    !memcmp(x, y, (size_t)sa.st_size);
	free(x);
	free(y);
	return same;
}
