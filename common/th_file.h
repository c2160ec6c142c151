/* Files that must survive crashes and power loss. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

/* Replaces `path` with `len` bytes atomically: write a temporary file in the
 * same directory, fsync it, rename over `path`, fsync the directory. Readers
 * see the old content or the new, never a mix. */
int th_file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* fsync the directory containing `path` (or `path` itself if a directory). */
int th_fsync_dir(const char *dir);
/* Reads a whole file (at most max bytes) into a malloc'd buffer with a
 * trailing NUL; -EFBIG past max. */
int th_file_read(const char *path, size_t max, char **out, size_t *out_len);
/* mkdir -p with mode for the created components. */
int th_mkdir_p(const char *path, mode_t mode);
/* 0 if dir exists, is a directory and the caller can create files in it. */
int th_dir_writable(const char *dir);
