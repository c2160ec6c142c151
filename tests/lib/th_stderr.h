/* What a test's own process says on stderr: fd 2 into a file while a
 * function runs, and the lines of what came. */
#pragma once
#include <stddef.h>

/* Runs f(arg) with fd 2 sent to the file path (made or emptied; the
 * test fails when it cannot be); what f wrote there comes back in out,
 * NUL-terminated and cut to len - 1 bytes. Returns what f returned. */
int th_with_stderr(const char *path, int (*f)(void *), void *arg, char *out, size_t len);
/* How many lines of s contain needle (every line when needle is NULL);
 * a line is looked at in its first 1023 bytes. */
unsigned th_count_lines(const char *s, const char *needle);
