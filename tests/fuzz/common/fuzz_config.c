/* libFuzzer target: th_cfg_parse on arbitrary text, with a key table that
 * covers every key type and a section. Checks the documented contract:
 * on error the struct is byte-for-byte untouched and the error is formatted
 * without overflow; on success every value respects its key's limits. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "th_config.h"

struct fz_conf {
	int64_t port;
	int64_t size;
	bool flag;
	char name[16];
	uint64_t timeout_ns;
	int level;
	int64_t sec_count;
	char sec_path[32];
	uint64_t sec_period_ns;
	bool sec_on;
};

#define F(x) offsetof(struct fz_conf, x)
static const struct th_cfg_key fz_keys[] = {
	{ "port", TH_CFG_INT, F(port), 0, 0, 65535, NULL },
	{ "size", TH_CFG_INT, F(size), 0, INT64_MIN, INT64_MAX, NULL },
	{ "flag", TH_CFG_BOOL, F(flag), 0, 0, 0, NULL },
	{ "name", TH_CFG_STRING, F(name), sizeof(((struct fz_conf *)0)->name), 0, 0, NULL },
	{ "timeout", TH_CFG_DURATION, F(timeout_ns), 0, 1000000, INT64_C(3600000000000), NULL },
	{ "log_level", TH_CFG_LOGLEVEL, F(level), 0, 0, 0, NULL },
	{ "sec.count", TH_CFG_INT, F(sec_count), 0, -10, 10, NULL },
	{ "sec.path", TH_CFG_STRING, F(sec_path), sizeof(((struct fz_conf *)0)->sec_path), 0, 0, NULL },
	{ "sec.period", TH_CFG_DURATION, F(sec_period_ns), 0, 0, INT64_MAX, NULL },
	{ "sec.on", TH_CFG_BOOL, F(sec_on), 0, 0, 0, NULL },
};
#define FZ_N_KEYS (sizeof(fz_keys) / sizeof(fz_keys[0]))

static void fz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;

	struct fz_conf c, before;
	memset(&c, 0xA5, sizeof(c));
	c.flag = true;
	c.sec_on = false;
	memcpy(c.name, "dflt", 5);
	memcpy(c.sec_path, "/x", 3);
	c.level = LOG_INFO;
	memcpy(&before, &c, sizeof(c));

	struct th_cfg_error err;
	memset(&err, 0, sizeof(err));
	int r = th_cfg_parse(fz_keys, FZ_N_KEYS, &c, sizeof(c), text, "fuzz.conf", &err);
	if (r < 0) {
		fz_check(r == -EINVAL || r == -ENOMEM);
		fz_check(memcmp(&c, &before, sizeof(c)) == 0);
		if (r == -EINVAL) {
			char msg[600];
			fz_check(err.line >= 1);
			fz_check(memchr(err.msg, 0, sizeof(err.msg)) != NULL);
			fz_check(memchr(err.key, 0, sizeof(err.key)) != NULL);
			th_cfg_error_format(&err, msg, sizeof(msg));
			fz_check(strncmp(msg, "fuzz.conf:", 10) == 0);
		}
	} else {
		fz_check(r == 0);
		fz_check(c.port == before.port || (c.port >= 0 && c.port <= 65535));
		fz_check(c.sec_count == before.sec_count || (c.sec_count >= -10 && c.sec_count <= 10));
		fz_check(c.timeout_ns == before.timeout_ns ||
			 (c.timeout_ns >= 1000000 && c.timeout_ns <= UINT64_C(3600000000000)));
		fz_check(c.sec_period_ns <= (uint64_t)INT64_MAX || c.sec_period_ns == before.sec_period_ns);
		fz_check(c.level >= LOG_EMERG && c.level <= LOG_DEBUG);
		fz_check(memchr(c.name, 0, sizeof(c.name)) != NULL);
		fz_check(memchr(c.sec_path, 0, sizeof(c.sec_path)) != NULL);
	}
	free(text);
	return 0;
}
