#include "th_hex.h"

#include <errno.h>
#include <string.h>

void th_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int th_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int th_hex_decode(const char *s, size_t slen, uint8_t *out, size_t n, bool lower_only)
{
	if (slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < 2 * n; i++)
		if (th_hex_digit(s[i]) < 0 || (lower_only && s[i] >= 'A' && s[i] <= 'F'))
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(th_hex_digit(s[2 * i]) << 4 | th_hex_digit(s[2 * i + 1]));
	return 0;
}
