/* Floats as short decimal text that reads back exactly (strtof gives the
 * same bits): the export's number formatter (th_export.c), in place of
 * snprintf + strtof per number.
 *
 * th_f32_text writes the fewest significant digits (at most 9) whose
 * decimal lies in v's rounding interval, in the style of printf's %g:
 * "0.35", "-1.5", "1e+06", "1.17549435e-38"; exponent form when the
 * decimal exponent X is below -4 or at least 6 (at least 9 when more than
 * 6 digits are needed), so every normal value that "%.6g" round-trips
 * comes out exactly as "%.6g" writes it (a subnormal may come out shorter).
 * Finite values give JSON numbers; NaN and infinities are written as
 * printf writes them ("nan", "inf").
 *
 * The fast path (|v| within about 1e-13 .. 1e30) works in double
 * arithmetic with a proven error bound (v scaled by an exact power of ten,
 * one rounding) and decides only where every integer at its scale is far
 * (by 75 times that bound) from the rounding interval's edges; anything
 * else (zero, subnormals, other magnitudes, a close call: about 1 value
 * in 25 000) goes through snprintf + strtof. tests/common/test_ftoa.c checks
 * the round trip, bit for bit, over millions of random floats. */
#pragma once
#include <stddef.h>

#define TH_F32_TEXT_MAX 32 /* bytes th_f32_text may write, NUL included */

/* Writes v's text and a NUL into out; returns its length (no NUL). */
size_t th_f32_text(float v, char out[TH_F32_TEXT_MAX]);
