#include "th_config.h"

#include "th_file.h"
#include "th_log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

__attribute__((format(printf, 5, 6))) static int th_cfg_fail(struct th_cfg_error *err, const char *file,
							      unsigned line, const char *key, const char *fmt,
							      ...)
{
	va_list ap;
	if (!err)
		return -EINVAL;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *th_cfg_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int th_cfg_int(const char *v, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10); /* decimal: "010" is ten, not octal eight */
	if (errno || end == v)
		return -EINVAL;
	int64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'G')
		mul = 1024 * 1024 * 1024, end++;
	if (*end)
		return -EINVAL;
	if (__builtin_mul_overflow((int64_t)x, mul, out))
		return -ERANGE;
	return 0;
}

static int th_cfg_duration(const char *v, int64_t *out_ns)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || !(x >= 0)) /* also rejects NaN */
		return -EINVAL;
	double mul;
	if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "s") || !*end)
		mul = 1e9;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else
		return -EINVAL;
	if (x * mul > 9.2e18)
		return -ERANGE;
	*out_ns = (int64_t)(x * mul);
	return 0;
}

static int th_cfg_set(const struct th_cfg_key *k, void *out, const char *v, const char *file,
		      unsigned line, struct th_cfg_error *err)
{
	uint8_t *dst = (uint8_t *)out + k->offset;
	int64_t x;

	switch (k->type) {
	case TH_CFG_INT:
		if (th_cfg_int(v, &x) < 0)
			return th_cfg_fail(err, file, line, k->name, "'%s' is not an integer", v);
		if (x < k->min || x > k->max)
			return th_cfg_fail(err, file, line, k->name,
					   "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", x, k->min,
					   k->max);
		memcpy(dst, &x, sizeof(x));
		return 0;
	case TH_CFG_DURATION:
		if (th_cfg_duration(v, &x) < 0)
			return th_cfg_fail(err, file, line, k->name,
					   "'%s' is not a duration (e.g. 500ms, 3s, 2m)", v);
		if (x < k->min || x > k->max)
			return th_cfg_fail(err, file, line, k->name, "'%s' is out of range [%" PRId64
					   "ms, %" PRId64 "ms]", v, k->min / 1000000, k->max / 1000000);
		uint64_t ns = (uint64_t)x;
		memcpy(dst, &ns, sizeof(ns));
		return 0;
	case TH_CFG_BOOL: {
		bool b;
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
			b = true;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
			 !strcasecmp(v, "off"))
			b = false;
		else
			return th_cfg_fail(err, file, line, k->name, "'%s' is not a boolean (yes/no)", v);
		memcpy(dst, &b, sizeof(b));
		return 0;
	}
	case TH_CFG_STRING:
		if (strlen(v) + 1 > k->size)
			return th_cfg_fail(err, file, line, k->name, "value is longer than %zu bytes",
					   k->size - 1);
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case TH_CFG_LOGLEVEL: {
		int lvl = th_log_level_from_string(v);
		if (lvl < 0)
			return th_cfg_fail(err, file, line, k->name,
					   "'%s' is not a log level (debug, info, notice, warning, error)", v);
		memcpy(dst, &lvl, sizeof(lvl));
		return 0;
	}
	}
	return th_cfg_fail(err, file, line, k->name, "internal: unknown key type");
}

int th_cfg_parse(const struct th_cfg_key *keys, size_t n_keys, void *out, size_t out_size,
		 const char *text, const char *filename, struct th_cfg_error *err)
{
	char section[64] = "";
	unsigned lineno = 0;
	int r = 0;
	void *tmp = malloc(out_size);
	char *copy = strdup(text);
	bool *seen = calloc(n_keys ? n_keys : 1, sizeof(bool));

	if (!tmp || !copy || !seen) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(tmp, out, out_size);
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		/* '#' starts a comment unless it is inside a double-quoted value. */
		bool quoted = false;
		for (char *c = line; *c; c++) {
			if (*c == '"')
				quoted = !quoted;
			else if (*c == '#' && !quoted) {
				*c = 0;
				break;
			}
		}
		char *s = th_cfg_trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1] || e == s + 1 || (size_t)(e - s) > sizeof(section)) {
				r = th_cfg_fail(err, filename, lineno, NULL, "malformed section header '%s'", s);
				goto out;
			}
			*e = 0;
			snprintf(section, sizeof(section), "%s", s + 1);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			r = th_cfg_fail(err, filename, lineno, NULL, "expected 'key = value', got '%s'", s);
			goto out;
		}
		*eq = 0;
		char *k = th_cfg_trim(s), *v = th_cfg_trim(eq + 1);
		char full[128];
		if (*section)
			snprintf(full, sizeof(full), "%s.%s", section, k);
		else
			snprintf(full, sizeof(full), "%s", k);
		if (!*k) {
			r = th_cfg_fail(err, filename, lineno, NULL, "missing key before '='");
			goto out;
		}
		size_t i;
		for (i = 0; i < n_keys; i++)
			if (!strcmp(keys[i].name, full))
				break;
		if (i == n_keys) {
			r = th_cfg_fail(err, filename, lineno, full, "unknown key");
			goto out;
		}
		if (seen[i]) {
			r = th_cfg_fail(err, filename, lineno, full, "set twice");
			goto out;
		}
		seen[i] = true;
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = 0;
			v++;
		}
		r = th_cfg_set(&keys[i], tmp, v, filename, lineno, err);
		if (r < 0)
			goto out;
	}
	memcpy(out, tmp, out_size);
out:
	free(tmp);
	free(copy);
	free(seen);
	return r;
}

int th_cfg_load(const struct th_cfg_key *keys, size_t n_keys, void *out, size_t out_size,
		const char *path, struct th_cfg_error *err)
{
	char *text;
	size_t len;
	int r = th_file_read(path, TH_CFG_MAX_FILE_BYTES, &text, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return th_cfg_fail(err, path, 0, NULL, "cannot read: %s",
				   r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	if (strlen(text) != len) {
		free(text);
		return th_cfg_fail(err, path, 0, NULL, "contains a NUL byte");
	}
	r = th_cfg_parse(keys, n_keys, out, out_size, text, path, err);
	free(text);
	return r;
}

void th_cfg_error_format(const struct th_cfg_error *err, char *buf, size_t len)
{
	char where[300] = "";
	if (err->line)
		snprintf(where, sizeof(where), "%s:%u: ", err->file, err->line);
	else if (err->file[0])
		snprintf(where, sizeof(where), "%s: ", err->file);
	if (err->key[0])
		snprintf(buf, len, "%skey '%s': %s", where, err->key, err->msg);
	else
		snprintf(buf, len, "%s%s", where, err->msg);
}
