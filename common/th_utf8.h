/* Strict UTF-8 validation, shared by every decoder that accepts text. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is UTF-8 with no overlong form, no surrogate and
 * nothing above U+10FFFF (NUL bytes are the caller's business). */
bool th_utf8_valid(const uint8_t *s, size_t n);
