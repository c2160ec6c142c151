/* Table-driven loader for "key = value" configuration files.
 *
 *   # comment
 *   [section]            keys below are named "section.key"
 *   key = value          integers (decimal, optional k/M/G), sizes, strings,
 *                        booleans (yes/no/true/false/1/0), durations (ms, s, m, h)
 *
 * The caller fills a struct with its embedded defaults and describes each
 * key with a th_cfg_key; a successful parse overwrites only the keys present.
 * On any error the struct is left untouched and th_cfg_error names the file,
 * line and key. */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum th_cfg_type {
	TH_CFG_INT,      /* int64_t, within [min, max] */
	TH_CFG_BOOL,     /* bool */
	TH_CFG_STRING,   /* char[size] */
	TH_CFG_DURATION, /* uint64_t nanoseconds, within [min, max] ns */
	TH_CFG_LOGLEVEL, /* int syslog priority */
};

struct th_cfg_key {
	const char *name;
	enum th_cfg_type type;
	size_t offset;
	size_t size; /* TH_CFG_STRING: buffer size */
	int64_t min, max;
	const char *help;
};

struct th_cfg_error {
	char file[256];
	unsigned line;
	char key[64];
	char msg[160];
};

#define TH_CFG_MAX_FILE_BYTES (1u << 20)

int th_cfg_parse(const struct th_cfg_key *keys, size_t n_keys, void *out, size_t out_size,
		 const char *text, const char *filename, struct th_cfg_error *err);
/* -ENOENT (err untouched) when the file does not exist: the caller decides
 * whether that is fine (the daemon's file is optional). */
int th_cfg_load(const struct th_cfg_key *keys, size_t n_keys, void *out, size_t out_size,
		const char *path, struct th_cfg_error *err);
/* "FILE:LINE: key 'K': MSG" (parts omitted when unknown). */
void th_cfg_error_format(const struct th_cfg_error *err, char *buf, size_t len);
