/* th_config: table-driven "key = value" loader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "th_config.h"
#include "th_file.h"
#include "th_harness.h"
#include "th_time.h"

struct conf {
	int64_t port;
	int64_t size;
	bool verbose;
	char name[12];
	uint64_t timeout_ns;
	int level;
	int64_t net_mtu;
	bool net_ipv6;
};

#define F(x) offsetof(struct conf, x)
static const struct th_cfg_key keys[] = {
	{ "port", TH_CFG_INT, F(port), 0, 0, 65535, "port" },
	{ "size", TH_CFG_INT, F(size), 0, -(INT64_C(1) << 40), INT64_C(1) << 40, "bytes" },
	{ "verbose", TH_CFG_BOOL, F(verbose), 0, 0, 0, "bool" },
	{ "name", TH_CFG_STRING, F(name), sizeof(((struct conf *)0)->name), 0, 0, "string" },
	{ "timeout", TH_CFG_DURATION, F(timeout_ns), 0, (int64_t)TH_NS_PER_MS, (int64_t)(2 * 3600 * TH_NS_PER_S),
	  "duration" },
	{ "log_level", TH_CFG_LOGLEVEL, F(level), 0, 0, 0, "level" },
	{ "net.mtu", TH_CFG_INT, F(net_mtu), 0, 576, 9000, "in a section" },
	{ "net.ipv6", TH_CFG_BOOL, F(net_ipv6), 0, 0, 0, "in a section" },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct conf defaults = {
	.port = 7000,
	.size = 1,
	.verbose = false,
	.name = "dflt",
	.timeout_ns = 5 * TH_NS_PER_S,
	.level = LOG_INFO,
	.net_mtu = 1200,
	.net_ipv6 = true,
};

/* Field by field: padding bytes are not part of the value. */
static void assert_conf_is_default(const struct conf *c)
{
	assert_true(c->port == defaults.port);
	assert_true(c->size == defaults.size);
	assert_true(c->verbose == defaults.verbose);
	assert_string_equal(c->name, defaults.name);
	assert_true(c->timeout_ns == defaults.timeout_ns);
	assert_int_equal(c->level, defaults.level);
	assert_true(c->net_mtu == defaults.net_mtu);
	assert_true(c->net_ipv6 == defaults.net_ipv6);
}

static int parse(struct conf *c, const char *text, struct th_cfg_error *err)
{
	*c = defaults;
	return th_cfg_parse(keys, N_KEYS, c, sizeof(*c), text, "test.conf", err);
}

/* Parses one "key = value" line and expects success. */
static struct conf parse_ok(const char *text)
{
	struct conf c;
	struct th_cfg_error err;
	int r = parse(&c, text, &err);
	if (r < 0)
		fail_msg("'%s' failed: %d %s", text, r, err.msg);
	return c;
}

/* Parses text, expects -EINVAL, an untouched struct and the formatted error. */
static void parse_fails(const char *text, const char *want)
{
	struct conf c;
	struct th_cfg_error err;
	char msg[512];
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_conf_is_default(&c);
	th_cfg_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, want);
}

static void empty_text_keeps_defaults(void **state)
{
	struct conf c = parse_ok("");
	assert_conf_is_default(&c);
	c = parse_ok("\n\n   \n# only a comment\n\t# indented comment\n");
	assert_conf_is_default(&c);
}

static void int_accepts_decimal_signs_and_binary_suffixes(void **state)
{
	assert_int_equal(parse_ok("port = 8080").port, 8080);
	assert_int_equal(parse_ok("port=0").port, 0);
	assert_int_equal(parse_ok("port = 65535").port, 65535);
	assert_int_equal(parse_ok("port = +17").port, 17);
	assert_int_equal(parse_ok("port = 010").port, 10); /* decimal, not octal */
	assert_int_equal(parse_ok("size = -5").size, -5);
	assert_int_equal(parse_ok("size = 4k").size, 4096);
	assert_int_equal(parse_ok("size = 4K").size, 4096);
	assert_int_equal(parse_ok("size = 3M").size, 3 * 1024 * 1024);
	assert_int_equal(parse_ok("size = 2G").size, INT64_C(2) << 30);
	assert_int_equal(parse_ok("size = -1k").size, -1024);
	assert_int_equal(parse_ok("size = 1024G").size, INT64_C(1) << 40);
	/* Only the keys present change. */
	struct conf c = parse_ok("port = 1");
	assert_int_equal(c.size, defaults.size);
	assert_string_equal(c.name, defaults.name);
}

static void int_rejects_junk_suffixes_and_out_of_range(void **state)
{
	parse_fails("port = abc", "test.conf:1: key 'port': 'abc' is not an integer");
	parse_fails("port = ", "test.conf:1: key 'port': '' is not an integer");
	parse_fails("port = 12x", "test.conf:1: key 'port': '12x' is not an integer");
	parse_fails("port = 1kk", "test.conf:1: key 'port': '1kk' is not an integer");
	parse_fails("port = 1m", "test.conf:1: key 'port': '1m' is not an integer");
	parse_fails("port = 1.5", "test.conf:1: key 'port': '1.5' is not an integer");
	parse_fails("port = 0x10", "test.conf:1: key 'port': '0x10' is not an integer");
	parse_fails("port = 1 2", "test.conf:1: key 'port': '1 2' is not an integer");
	parse_fails("port = 99999999999999999999",
		    "test.conf:1: key 'port': '99999999999999999999' is not an integer");
	parse_fails("port = 65536", "test.conf:1: key 'port': 65536 is out of range [0, 65535]");
	parse_fails("port = -1", "test.conf:1: key 'port': -1 is out of range [0, 65535]");
	parse_fails("port = 64k", "test.conf:1: key 'port': 65536 is out of range [0, 65535]");
	parse_fails("size = 1025G",
		    "test.conf:1: key 'size': 1100585369600 is out of range [-1099511627776, 1099511627776]");
	/* Multiplying by the suffix must not wrap around into range. */
	parse_fails("size = 9000000000000000000k", "test.conf:1: key 'size': '9000000000000000000k' is not an integer");
}

static void bool_accepts_documented_spellings(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "1", "on", "ON" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "0", "off", "Off" };
	char line[64];
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(line, sizeof(line), "verbose = %s", yes[i]);
		assert_true(parse_ok(line).verbose);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(line, sizeof(line), "net.ipv6 = %s\n", no[i]);
		assert_false(parse_ok(line).net_ipv6);
	}
	parse_fails("verbose = maybe", "test.conf:1: key 'verbose': 'maybe' is not a boolean (yes/no)");
	parse_fails("verbose = 2", "test.conf:1: key 'verbose': '2' is not a boolean (yes/no)");
	parse_fails("verbose = y", "test.conf:1: key 'verbose': 'y' is not a boolean (yes/no)");
	parse_fails("verbose =", "test.conf:1: key 'verbose': '' is not a boolean (yes/no)");
}

static void string_fits_buffer_or_fails(void **state)
{
	assert_string_equal(parse_ok("name = abc").name, "abc");
	assert_string_equal(parse_ok("name = 12345678901").name, "12345678901"); /* 11 + NUL = 12 */
	assert_string_equal(parse_ok("name =").name, "");
	assert_string_equal(parse_ok("name = a b").name, "a b");
	parse_fails("name = 123456789012", "test.conf:1: key 'name': value is longer than 11 bytes");
}

static void quotes_keep_spaces_and_hashes(void **state)
{
	assert_string_equal(parse_ok("name = \" a b \"").name, " a b ");
	assert_string_equal(parse_ok("name = \"\"").name, "");
	assert_string_equal(parse_ok("name = \"x#1\"").name, "x#1");
	assert_string_equal(parse_ok("name = \"x#1\"  # trailing comment").name, "x#1");
	assert_string_equal(parse_ok("name = \"").name, "\""); /* a lone quote is kept */
	assert_int_equal(parse_ok("port = \"80\"").port, 80);
	/* Quotes do not let a string past its buffer. */
	parse_fails("name = \"123456789012\"", "test.conf:1: key 'name': value is longer than 11 bytes");
}

static void duration_units_and_range(void **state)
{
	assert_true(parse_ok("timeout = 250ms").timeout_ns == 250 * TH_NS_PER_MS);
	assert_true(parse_ok("timeout = 3s").timeout_ns == 3 * TH_NS_PER_S);
	assert_true(parse_ok("timeout = 3").timeout_ns == 3 * TH_NS_PER_S); /* bare: seconds */
	assert_true(parse_ok("timeout = 1.5s").timeout_ns == 1500 * TH_NS_PER_MS);
	assert_true(parse_ok("timeout = 2m").timeout_ns == 120 * TH_NS_PER_S);
	assert_true(parse_ok("timeout = 2min").timeout_ns == 120 * TH_NS_PER_S);
	assert_true(parse_ok("timeout = 1h").timeout_ns == 3600 * TH_NS_PER_S);
	assert_true(parse_ok("timeout = 2000us").timeout_ns == 2 * TH_NS_PER_MS);
	assert_true(parse_ok("timeout = 1000000ns").timeout_ns == TH_NS_PER_MS);
	assert_true(parse_ok("timeout = 2h").timeout_ns == 7200 * TH_NS_PER_S); /* max, inclusive */

	parse_fails("timeout = 999us", "test.conf:1: key 'timeout': '999us' is out of range [1ms, 7200000ms]");
	parse_fails("timeout = 0", "test.conf:1: key 'timeout': '0' is out of range [1ms, 7200000ms]");
	parse_fails("timeout = 3h", "test.conf:1: key 'timeout': '3h' is out of range [1ms, 7200000ms]");
	parse_fails("timeout = 5 s", "test.conf:1: key 'timeout': '5 s' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = 5d", "test.conf:1: key 'timeout': '5d' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = ms", "test.conf:1: key 'timeout': 'ms' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = -1s", "test.conf:1: key 'timeout': '-1s' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = nan", "test.conf:1: key 'timeout': 'nan' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = -nan", "test.conf:1: key 'timeout': '-nan' is not a duration (e.g. 500ms, 3s, 2m)");
	/* Too large to represent: refused rather than wrapped. */
	parse_fails("timeout = 1e300h",
		    "test.conf:1: key 'timeout': '1e300h' is not a duration (e.g. 500ms, 3s, 2m)");
	parse_fails("timeout = inf", "test.conf:1: key 'timeout': 'inf' is not a duration (e.g. 500ms, 3s, 2m)");
}

static void log_level_names(void **state)
{
	assert_int_equal(parse_ok("log_level = debug").level, LOG_DEBUG);
	assert_int_equal(parse_ok("log_level = notice").level, LOG_NOTICE);
	assert_int_equal(parse_ok("log_level = warning").level, LOG_WARNING);
	assert_int_equal(parse_ok("log_level = error").level, LOG_ERR);
	assert_int_equal(parse_ok("log_level = err").level, LOG_ERR);
	assert_int_equal(parse_ok("log_level = \"info\"").level, LOG_INFO);
	parse_fails("log_level = loud", "test.conf:1: key 'log_level': 'loud' is not a log level "
					 "(debug, info, notice, warning, error)");
}

static void sections_prefix_keys(void **state)
{
	struct conf c = parse_ok("port = 1\n[net]\nmtu = 1500\nipv6 = no\n");
	assert_int_equal(c.port, 1);
	assert_int_equal(c.net_mtu, 1500);
	assert_false(c.net_ipv6);
	/* Whitespace around the header and a comment after it are fine. */
	c = parse_ok("  [net]   # the network\n  mtu=600  \r\n");
	assert_int_equal(c.net_mtu, 600);
	/* A key outside its section is unknown, and vice versa. */
	parse_fails("mtu = 1500", "test.conf:1: key 'mtu': unknown key");
	parse_fails("[net]\nport = 1", "test.conf:2: key 'net.port': unknown key");
	parse_fails("[other]\nmtu = 1500", "test.conf:2: key 'other.mtu': unknown key");
	parse_fails("[net]\nmtu = 100", "test.conf:2: key 'net.mtu': 100 is out of range [576, 9000]");
}

static void malformed_sections_fail(void **state)
{
	parse_fails("[net", "test.conf:1: malformed section header '[net'");
	parse_fails("\n[]", "test.conf:2: malformed section header '[]'");
	parse_fails("[net] x", "test.conf:1: malformed section header '[net] x'");
	char text[128];
	memset(text, 0, sizeof(text));
	text[0] = '[';
	memset(text + 1, 's', 64);
	text[65] = ']';
	struct conf c;
	struct th_cfg_error err;
	assert_int_equal(parse(&c, text, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_conf_is_default(&c);
	/* 63 characters is the longest section name. */
	text[64] = ']';
	text[65] = 0;
	assert_int_equal(parse(&c, text, &err), 0);
}

static void malformed_lines_unknown_and_duplicate_keys_fail(void **state)
{
	parse_fails("port = 1\njust words\n", "test.conf:2: expected 'key = value', got 'just words'");
	parse_fails("= 5", "test.conf:1: missing key before '='");
	parse_fails("# c\n\nnope = 1", "test.conf:3: key 'nope': unknown key");
	parse_fails("Port = 1", "test.conf:1: key 'Port': unknown key"); /* case matters */
	parse_fails("port = 1\nport = 2", "test.conf:2: key 'port': set twice");
	parse_fails("[net]\nmtu=600\n[net]\nmtu = 700", "test.conf:4: key 'net.mtu': set twice");
}

static void error_leaves_struct_untouched_even_after_good_lines(void **state)
{
	struct conf c;
	struct th_cfg_error err;
	/* Several good lines, then a bad one on line 5: nothing is applied. */
	assert_int_equal(parse(&c, "port = 1\nverbose = yes\nname = zz\n[net]\nmtu = 1", &err), -EINVAL);
	assert_conf_is_default(&c);
	assert_string_equal(err.file, "test.conf");
	assert_int_equal(err.line, 5);
	assert_string_equal(err.key, "net.mtu");

	/* A NULL err still fails cleanly. */
	c = defaults;
	assert_int_equal(th_cfg_parse(keys, N_KEYS, &c, sizeof(c), "bogus", "x", NULL), -EINVAL);
	assert_conf_is_default(&c);
}

static void every_type_in_one_file(void **state)
{
	struct conf c = parse_ok("# Theta test\n"
				 "port = 9000   # inline comment\n"
				 "size = 16M\n"
				 "verbose = true\n"
				 "name = \"hi there\"\n"
				 "timeout = 500ms\n"
				 "log_level = debug\n"
				 "[net]\n"
				 "mtu = 1400\n"
				 "ipv6 = off\n");
	assert_int_equal(c.port, 9000);
	assert_int_equal(c.size, 16 << 20);
	assert_true(c.verbose);
	assert_string_equal(c.name, "hi there");
	assert_true(c.timeout_ns == 500 * TH_NS_PER_MS);
	assert_int_equal(c.level, LOG_DEBUG);
	assert_int_equal(c.net_mtu, 1400);
	assert_false(c.net_ipv6);
}

static void error_format_omits_unknown_parts(void **state)
{
	char buf[512];
	struct th_cfg_error e = { .file = "/etc/theta/thetad.conf", .line = 12, .key = "net.port", .msg = "bad" };
	th_cfg_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/theta/thetad.conf:12: key 'net.port': bad");
	e.key[0] = 0;
	th_cfg_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/theta/thetad.conf:12: bad");
	e.line = 0;
	th_cfg_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/theta/thetad.conf: bad");
	e.file[0] = 0;
	th_cfg_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "bad");
	/* Truncates to the buffer, NUL-terminated. */
	snprintf(e.file, sizeof(e.file), "f");
	e.line = 3;
	th_cfg_error_format(&e, buf, 5);
	assert_string_equal(buf, "f:3:");
}

/* th_cfg_load */


static void write_file(const char *path, const void *data, size_t len)
{
	assert_int_equal(th_file_replace(path, data, len, 0644), 0);
}

static void load_reads_a_file_and_names_it_in_errors(void **state)
{
	struct th_tmpdir *d = *state;
	char path[PATH_MAX], want[PATH_MAX + 64], msg[PATH_MAX + 256];
	struct conf c = defaults;
	struct th_cfg_error err;

	snprintf(path, sizeof(path), "%s/good.conf", d->path);
	write_file(path, "port = 1234\n[net]\nipv6 = no\n", 28);
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), 0);
	assert_int_equal(c.port, 1234);
	assert_false(c.net_ipv6);

	snprintf(path, sizeof(path), "%s/bad.conf", d->path);
	write_file(path, "port = 1\n\nverbose = perhaps\n", 28);
	c = defaults;
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), -EINVAL);
	assert_conf_is_default(&c);
	th_cfg_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s:3: key 'verbose': 'perhaps' is not a boolean (yes/no)", path);
	assert_string_equal(msg, want);
}

static void load_missing_file_is_enoent_with_err_untouched(void **state)
{
	struct th_tmpdir *d = *state;
	char path[PATH_MAX];
	struct conf c = defaults;
	struct th_cfg_error err;
	memset(&err, 0x5A, sizeof(err));
	struct th_cfg_error before = err;

	snprintf(path, sizeof(path), "%s/absent.conf", d->path);
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), -ENOENT);
	assert_memory_equal(&err, &before, sizeof(err));
	assert_conf_is_default(&c);
}

static void load_refuses_nul_bytes(void **state)
{
	struct th_tmpdir *d = *state;
	char path[PATH_MAX], want[PATH_MAX + 64], msg[PATH_MAX + 256];
	struct conf c = defaults;
	struct th_cfg_error err;

	/* The NUL hides a bad line: the loader must not parse only the prefix. */
	snprintf(path, sizeof(path), "%s/nul.conf", d->path);
	write_file(path, "port = 1\n\0port = 2\n", 19);
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), -EINVAL);
	assert_conf_is_default(&c);
	th_cfg_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
	assert_string_equal(msg, want);
}

static void load_size_limit_is_one_mib(void **state)
{
	struct th_tmpdir *d = *state;
	char path[PATH_MAX], want[PATH_MAX + 64], msg[PATH_MAX + 256];
	struct conf c = defaults;
	struct th_cfg_error err;
	size_t n = TH_CFG_MAX_FILE_BYTES;
	char *text = malloc(n + 1);
	assert_non_null(text);

	/* Exactly 1 MiB of comments and one key: accepted. */
	memset(text, '#', n);
	memcpy(text + n - 10, "\nport = 5\n", 10);
	snprintf(path, sizeof(path), "%s/limit.conf", d->path);
	write_file(path, text, n);
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), 0);
	assert_int_equal(c.port, 5);

	/* One byte more: refused. */
	c = defaults;
	text[n] = '\n';
	snprintf(path, sizeof(path), "%s/big.conf", d->path);
	write_file(path, text, n + 1);
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), path, &err), -EINVAL);
	assert_conf_is_default(&c);
	th_cfg_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s: cannot read: larger than 1 MiB", path);
	assert_string_equal(msg, want);
	free(text);
}

static void load_directory_is_an_error_not_enoent(void **state)
{
	struct th_tmpdir *d = *state;
	struct conf c = defaults;
	struct th_cfg_error err;
	char msg[PATH_MAX + 256], want[PATH_MAX + 64];
	assert_int_equal(th_cfg_load(keys, N_KEYS, &c, sizeof(c), d->path, &err), -EINVAL);
	th_cfg_error_format(&err, msg, sizeof(msg));
	snprintf(want, sizeof(want), "%s: cannot read: %s", d->path, strerror(EISDIR));
	assert_string_equal(msg, want);
}

int main(void)
{
	const struct CMUnitTest parse_tests[] = {
		cmocka_unit_test(empty_text_keeps_defaults),
		cmocka_unit_test(int_accepts_decimal_signs_and_binary_suffixes),
		cmocka_unit_test(int_rejects_junk_suffixes_and_out_of_range),
		cmocka_unit_test(bool_accepts_documented_spellings),
		cmocka_unit_test(string_fits_buffer_or_fails),
		cmocka_unit_test(quotes_keep_spaces_and_hashes),
		cmocka_unit_test(duration_units_and_range),
		cmocka_unit_test(log_level_names),
		cmocka_unit_test(sections_prefix_keys),
		cmocka_unit_test(malformed_sections_fail),
		cmocka_unit_test(malformed_lines_unknown_and_duplicate_keys_fail),
		cmocka_unit_test(error_leaves_struct_untouched_even_after_good_lines),
		cmocka_unit_test(every_type_in_one_file),
		cmocka_unit_test(error_format_omits_unknown_parts),
	};
	const struct CMUnitTest load_tests[] = {
		cmocka_unit_test_setup_teardown(load_reads_a_file_and_names_it_in_errors, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_missing_file_is_enoent_with_err_untouched, th_tmpdir_setup,
						th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_refuses_nul_bytes, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_size_limit_is_one_mib, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(load_directory_is_an_error_not_enoent, th_tmpdir_setup, th_tmpdir_teardown),
	};
	int r = cmocka_run_group_tests_name("th_cfg_parse", parse_tests, NULL, NULL);
	r += cmocka_run_group_tests_name("th_cfg_load", load_tests, NULL, NULL);
	return r;
}
