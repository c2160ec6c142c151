#include "th_crc32c.h"

#include <pthread.h>
#include <string.h>

#define TH_CRC32C_POLY 0x82F63B78u

static uint32_t th_crc_tab[8][256];
static pthread_once_t th_crc_once = PTHREAD_ONCE_INIT;
static int th_crc_hw;

static void th_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ TH_CRC32C_POLY : c >> 1;
		th_crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			th_crc_tab[t][i] = (th_crc_tab[t - 1][i] >> 8) ^ th_crc_tab[0][th_crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	th_crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t th_crc_sw_raw(uint32_t c, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		c = (c >> 8) ^ th_crc_tab[0][(c ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = th_crc_tab[7][lo & 0xff] ^ th_crc_tab[6][(lo >> 8) & 0xff] ^ th_crc_tab[5][(lo >> 16) & 0xff] ^
		    th_crc_tab[4][lo >> 24] ^ th_crc_tab[3][hi & 0xff] ^ th_crc_tab[2][(hi >> 8) & 0xff] ^
		    th_crc_tab[1][(hi >> 16) & 0xff] ^ th_crc_tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ th_crc_tab[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t th_crc_hw_raw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;
	while (len && ((uintptr_t)p & 7)) {
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8); /* x86 is little-endian, as the CRC wants */
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
	return (uint32_t)c64;
}
#endif

uint32_t th_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&th_crc_once, th_crc_init);
	return ~th_crc_sw_raw(~crc, data, len);
}

uint32_t th_crc32c_update(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&th_crc_once, th_crc_init);
#if defined(__x86_64__)
	if (th_crc_hw)
		return ~th_crc_hw_raw(~crc, data, len);
#endif
	return ~th_crc_sw_raw(~crc, data, len);
}
