#include "th_stderr.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define TH_STDERR_LINE_MAX 1024 /* the bytes of a line th_count_lines looks at, with the NUL */

int th_with_stderr(const char *path, int (*f)(void *), void *arg, char *out, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fd, 2) >= 0);
	int r = f(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	return r;
}

unsigned th_count_lines(const char *s, const char *needle)
{
	unsigned n = 0;
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char line[TH_STDERR_LINE_MAX];
		snprintf(line, sizeof line, "%.*s", (int)(l < sizeof line ? l : sizeof line - 1), p);
		if (!needle || strstr(line, needle))
			n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}
