/* Lowercase hexadecimal: session ids, fingerprints, keys in text files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2n lowercase hex digits and a NUL to out[2n+1]. */
void th_hex_encode(const uint8_t *p, size_t n, char *out);
/* Value of one hex digit (either case), or -1. */
int th_hex_digit(char c);
/* Parses exactly 2n hex digits from s[0..slen) into out[n]; with
 * lower_only, upper-case digits are refused. 0 or -EINVAL (out untouched). */
int th_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n, bool lower_only);
