/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
 * ext4 and SCTP: detects every burst error up to 32 bits and every odd
 * number of flipped bits. It guards files against accidental damage only;
 * tampering is caught by signatures and hash chains. Uses the SSE4.2 crc32
 * instruction when the CPU has it, slicing-by-8 tables otherwise; both give
 * the same value. th_crc32c("123456789", 9) == 0xE3069283. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* CRC of data continuing from crc (start with 0). */
uint32_t th_crc32c_update(uint32_t crc, const void *data, size_t len);
static inline uint32_t th_crc32c(const void *data, size_t len) { return th_crc32c_update(0, data, len); }
/* The portable table implementation (exposed for tests). */
uint32_t th_crc32c_sw(uint32_t crc, const void *data, size_t len);
