/* Binary search of an array of records sorted by a byte-string key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Searches base[0..n) (records of `stride` bytes, sorted ascending by the
 * key_len bytes at key_off in each, compared with memcmp) for key. Sets
 * *found and returns the record's index, or (not found) the index where a
 * record with that key would be inserted to keep the order. */
size_t th_sorted_find(const void *base, size_t n, size_t stride, size_t key_off, const void *key, size_t key_len,
		      bool *found);
