/* A session's content-addressed asset store (see assets.h). */
#include "sess/assets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_file.h"
#include "th_hex.h"

#define REHASH_BUF (1u << 20)

struct sess_assets {
	char dir[4096];
	struct sess_asset **a;
	unsigned n, cap;
	uint64_t total;      /* sum of sizes */
	unsigned n_writers, n_readers;
	struct sess_asset_copy *copies; /* running, linked by assets_copy.c */
};

struct sess_asset_copy **sess_assets_copies_head(struct sess_assets *st)
{
	return &st->copies;
}

void sess_asset_hex(const uint8_t hash[SESS_ASSET_HASH_LEN], char out[SESS_ASSET_HEX_LEN + 1])
{
	th_hex_encode(hash, SESS_ASSET_HASH_LEN, out);
}

int sess_asset_unhex(const char *hex, uint8_t hash[SESS_ASSET_HASH_LEN])
{
	return hex ? th_hex_decode(hex, strlen(hex), hash, SESS_ASSET_HASH_LEN, false) : -EINVAL;
}

bool sess_asset_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > SESS_ASSET_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static void path_of(const struct sess_assets *st, const struct sess_asset *a, const char *suffix, char *out,
		    size_t len)
{
	snprintf(out, len, "%s/%s%s", st->dir, a->hex, suffix);
}

const char *sess_assets_dir(const struct sess_assets *st) { return st->dir; }
unsigned sess_assets_count(const struct sess_assets *st) { return st->n; }

const struct sess_asset *sess_assets_at(const struct sess_assets *st, unsigned i)
{
	return i < st->n ? st->a[i] : NULL;
}

static struct sess_asset *find(const struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN])
{
	for (unsigned i = 0; i < st->n; i++)
		if (!memcmp(st->a[i]->hash, hash, SESS_ASSET_HASH_LEN))
			return st->a[i];
	return NULL;
}

const struct sess_asset *sess_assets_find(const struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN])
{
	return find(st, hash);
}

int sess_assets_lookup(const struct sess_assets *st, const char *hex, const struct sess_asset **out)
{
	size_t n = hex ? strlen(hex) : 0;
	if (n < 8 || n > SESS_ASSET_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (th_hex_digit(hex[i]) < 0)
			return -EINVAL;
	const struct sess_asset *hit = NULL;
	for (unsigned i = 0; i < st->n; i++)
		if (!strncasecmp(st->a[i]->hex, hex, n)) {
			if (hit)
				return -EEXIST;
			hit = st->a[i];
		}
	if (!hit)
		return -ENOENT;
	*out = hit;
	return 0;
}

static void close_writer(struct sess_assets *st, struct sess_asset *a)
{
	if (a->wfd >= 0) {
		close(a->wfd);
		a->wfd = -1;
		st->n_writers--;
	}
	a->hashing = false; /* the state is rebuilt from disk when reopened */
}

static void close_reader(struct sess_assets *st, struct sess_asset *a)
{
	if (a->rfd >= 0) {
		close(a->rfd);
		a->rfd = -1;
		st->n_readers--;
	}
}

static void free_asset(struct sess_assets *st, struct sess_asset *a)
{
	close_writer(st, a);
	close_reader(st, a);
	free(a);
}

/* "size=N\nname=NAME\n" */
static int meta_write(const struct sess_assets *st, const struct sess_asset *a)
{
	char path[4200], buf[SESS_ASSET_META_MAX];
	int n = snprintf(buf, sizeof(buf), "size=%" PRIu64 "\nname=%s\n", a->size, a->name);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	path_of(st, a, ".meta", path, sizeof(path));
	return th_file_replace(path, buf, (size_t)n, 0600);
}

static int meta_parse(const char *text, uint64_t *size, char name[SESS_ASSET_NAME_MAX + 1])
{
	const char *p = text;
	if (strncmp(p, "size=", 5))
		return -EBADMSG;
	p += 5;
	if (*p < '0' || *p > '9')
		return -EBADMSG;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || *end != '\n' || v < 1 || v > SESS_ASSET_MAX_SIZE)
		return -EBADMSG;
	p = end + 1;
	if (strncmp(p, "name=", 5))
		return -EBADMSG;
	p += 5;
	const char *nl = strchr(p, '\n');
	if (!nl || nl[1] || (size_t)(nl - p) > SESS_ASSET_NAME_MAX)
		return -EBADMSG;
	char nm[SESS_ASSET_NAME_MAX + 1];
	memcpy(nm, p, (size_t)(nl - p));
	nm[nl - p] = 0;
	if (!sess_asset_name_ok(nm))
		return -EBADMSG;
	*size = v;
	memcpy(name, nm, sizeof(nm));
	return 0;
}

static int push(struct sess_assets *st, struct sess_asset *a)
{
	if (st->n == st->cap) {
		unsigned nc = st->cap ? st->cap * 2 : 16;
		struct sess_asset **b = realloc(st->a, nc * sizeof(*b));
		if (!b)
			return -ENOMEM;
		st->a = b;
		st->cap = nc;
	}
	st->a[st->n++] = a;
	st->total += a->size;
	return 0;
}

static struct sess_asset *asset_new(const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t size, const char *name)
{
	struct sess_asset *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	memcpy(a->hash, hash, SESS_ASSET_HASH_LEN);
	sess_asset_hex(hash, a->hex);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->size = size;
	a->wfd = a->rfd = -1;
	return a;
}

/* Sets state/have from the files present. */
static void probe(struct sess_assets *st, struct sess_asset *a)
{
	char path[4200];
	struct stat sb;
	path_of(st, a, "", path, sizeof(path));
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if ((uint64_t)sb.st_size == a->size) {
			a->state = SESS_ASSET_COMPLETE;
			a->have = a->size;
			return;
		}
		unlink(path); /* not what was verified: fetch it again */
	}
	path_of(st, a, ".part", path, sizeof(path));
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if ((uint64_t)sb.st_size <= a->size) {
			a->state = sb.st_size ? SESS_ASSET_PARTIAL : SESS_ASSET_MISSING;
			a->have = (uint64_t)sb.st_size;
			return;
		}
		unlink(path);
	}
	a->state = SESS_ASSET_MISSING;
	a->have = 0;
}

static int cmp_hex(const void *x, const void *y)
{
	const struct sess_asset *a = *(struct sess_asset *const *)x, *b = *(struct sess_asset *const *)y;
	return memcmp(a->hash, b->hash, SESS_ASSET_HASH_LEN);
}

int sess_assets_open(const char *session_dir, struct sess_assets **out)
{
	struct sess_assets *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int n = snprintf(st->dir, sizeof(st->dir), "%s/%s", session_dir, SESS_ASSET_DIR);
	int r;
	if (n < 0 || (size_t)n >= sizeof(st->dir) - 80) {
		free(st);
		return -ENAMETOOLONG;
	}
	if ((r = th_mkdir_p(st->dir, 0700)) < 0) {
		free(st);
		return r;
	}
	DIR *d = opendir(st->dir);
	if (!d) {
		r = -errno;
		free(st);
		return r;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		uint8_t hash[SESS_ASSET_HASH_LEN];
		char hex[SESS_ASSET_HEX_LEN + 1], path[4200], name[SESS_ASSET_NAME_MAX + 1], *text = NULL;
		uint64_t size;
		size_t len;
		if (!strncmp(de->d_name, SESS_ASSET_STAGE_PREFIX, strlen(SESS_ASSET_STAGE_PREFIX))) {
			unlinkat(dirfd(d), de->d_name, 0); /* a copy a crash cut short */
			continue;
		}
		if (strlen(de->d_name) != SESS_ASSET_HEX_LEN + 5 || strcmp(de->d_name + SESS_ASSET_HEX_LEN, ".meta"))
			continue;
		memcpy(hex, de->d_name, SESS_ASSET_HEX_LEN);
		hex[SESS_ASSET_HEX_LEN] = 0;
		if (sess_asset_unhex(hex, hash) < 0 || st->n >= SESS_ASSET_MAX_COUNT || find(st, hash))
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->dir, de->d_name);
		if (th_file_read(path, SESS_ASSET_META_MAX, &text, &len) < 0)
			continue;
		r = meta_parse(text, &size, name);
		free(text);
		if (r < 0 || st->total + size > SESS_ASSET_MAX_TOTAL)
			continue;
		struct sess_asset *a = asset_new(hash, size, name);
		if (!a || push(st, a) < 0) {
			free(a);
			closedir(d);
			sess_assets_close(&st);
			return -ENOMEM;
		}
		probe(st, a);
	}
	closedir(d);
	if (st->n > 1)
		qsort(st->a, st->n, sizeof(st->a[0]), cmp_hex);
	*out = st;
	return 0;
}

void sess_assets_close(struct sess_assets **p)
{
	struct sess_assets *st = p ? *p : NULL;
	if (!st)
		return;
	sess_assets_copies_cancel(st);
	for (unsigned i = 0; i < st->n; i++)
		free_asset(st, st->a[i]);
	free(st->a);
	free(st);
	*p = NULL;
}

int sess_assets_add(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t size, const char *name,
		    const struct sess_asset **out)
{
	struct sess_asset *a = find(st, hash);
	if (a) {
		if (a->size != size)
			return -EBADMSG;
		if (out)
			*out = a;
		return 0;
	}
	if (size < 1 || size > SESS_ASSET_MAX_SIZE)
		return -EFBIG;
	if (!sess_asset_name_ok(name))
		return -EINVAL;
	if (st->n >= SESS_ASSET_MAX_COUNT || st->total + size > SESS_ASSET_MAX_TOTAL)
		return -ENOSPC;
	a = asset_new(hash, size, name);
	if (!a)
		return -ENOMEM;
	int r = meta_write(st, a);
	if (r == 0)
		r = push(st, a);
	if (r < 0) {
		char path[4200];
		path_of(st, a, ".meta", path, sizeof(path));
		unlink(path);
		free(a);
		return r;
	}
	probe(st, a); /* bytes left by an earlier life of the store */
	if (out)
		*out = a;
	return 0;
}

int sess_assets_stage(struct sess_assets *st, char *path, size_t len)
{
	if (snprintf(path, len, "%s/" SESS_ASSET_STAGE_PREFIX "XXXXXX", st->dir) >= (int)len)
		return -ENAMETOOLONG;
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		path[0] = 0;
		return -errno;
	}
	return fd;
}

int sess_assets_adopt(struct sess_assets *st, const char *path, const uint8_t hash[SESS_ASSET_HASH_LEN],
		      uint64_t size, const char *name, const struct sess_asset **out)
{
	const struct sess_asset *known;
	int r = sess_assets_add(st, hash, size, name, &known);
	if (r < 0)
		return r;
	struct sess_asset *a = find(st, hash);
	if (a->state != SESS_ASSET_COMPLETE) {
		char to[SESS_ASSET_PATH_MAX], part[SESS_ASSET_PATH_MAX];
		close_writer(st, a); /* a download of it under way gives way */
		path_of(st, a, "", to, sizeof(to));
		path_of(st, a, ".part", part, sizeof(part));
		if (rename(path, to) < 0)
			return -errno;
		unlink(part);
		th_fsync_dir(st->dir);
		a->state = SESS_ASSET_COMPLETE;
		a->have = a->size;
	} else {
		unlink(path);
	}
	if (out)
		*out = a;
	return 0;
}

/* Feeds the first `have` bytes of the .part into a fresh hash state. */
static int rehash(struct sess_asset *a)
{
	crypto_hash_sha256_init(&a->hs);
	uint8_t *buf = malloc(REHASH_BUF);
	if (!buf)
		return -ENOMEM;
	uint64_t off = 0;
	int r = 0;
	while (off < a->have) {
		size_t want = a->have - off < REHASH_BUF ? (size_t)(a->have - off) : REHASH_BUF;
		ssize_t n = pread(a->wfd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		crypto_hash_sha256_update(&a->hs, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	if (r == 0)
		a->hashing = true;
	return r;
}

/* Opens the .part for writing (evicting another writer past the limit)
 * and makes the hash state cover what is in it. */
static int open_writer(struct sess_assets *st, struct sess_asset *a)
{
	if (a->wfd >= 0 && a->hashing)
		return 0;
	if (a->wfd < 0) {
		if (st->n_writers >= SESS_ASSET_MAX_WRITERS)
			for (unsigned i = 0; i < st->n && st->n_writers >= SESS_ASSET_MAX_WRITERS; i++)
				if (st->a[i] != a)
					close_writer(st, st->a[i]);
		char path[4200];
		path_of(st, a, ".part", path, sizeof(path));
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		struct stat sb;
		if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != a->have) {
			/* Someone else changed it: trust only what is there. */
			uint64_t len = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
			if (len > a->size && ftruncate(fd, 0) == 0)
				len = 0;
			a->have = len;
		}
		a->wfd = fd;
		st->n_writers++;
	}
	int r = rehash(a);
	if (r < 0)
		close_writer(st, a);
	return r;
}

int64_t sess_assets_write(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t offset,
			  const void *data, size_t len)
{
	struct sess_asset *a = find(st, hash);
	if (!a)
		return -ENOENT;
	if (a->state == SESS_ASSET_COMPLETE)
		return -EALREADY;
	if (offset > a->size || len > a->size - offset)
		return -EFBIG;
	int r = open_writer(st, a);
	if (r < 0)
		return r;
	if (offset > a->have)
		return -ESPIPE;
	uint64_t skip = a->have - offset;
	if (skip >= len)
		return (int64_t)a->have;
	const uint8_t *p = (const uint8_t *)data + skip;
	size_t left = len - (size_t)skip;
	while (left) {
		ssize_t n = pwrite(a->wfd, p, left, (off_t)a->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			/* Keep the file and the hash state in step. */
			if (ftruncate(a->wfd, (off_t)a->have) < 0)
				close_writer(st, a);
			return r;
		}
		crypto_hash_sha256_update(&a->hs, p, (size_t)n);
		a->have += (uint64_t)n;
		p += n;
		left -= (size_t)n;
	}
	a->state = SESS_ASSET_PARTIAL;
	return (int64_t)a->have;
}

int sess_assets_discard(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN])
{
	struct sess_asset *a = find(st, hash);
	if (!a)
		return -ENOENT;
	if (a->state == SESS_ASSET_COMPLETE)
		return -EALREADY;
	char path[4200];
	close_writer(st, a);
	path_of(st, a, ".part", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	a->have = 0;
	a->state = SESS_ASSET_MISSING;
	return 0;
}

void sess_assets_release(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN])
{
	struct sess_asset *a = find(st, hash);
	if (a)
		close_writer(st, a);
}

int sess_assets_complete(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN])
{
	struct sess_asset *a = find(st, hash);
	if (!a)
		return -ENOENT;
	if (a->state == SESS_ASSET_COMPLETE)
		return -EALREADY;
	if (a->have != a->size)
		return -EAGAIN;
	int r = open_writer(st, a);
	if (r < 0)
		return r;
	uint8_t got[SESS_ASSET_HASH_LEN];
	crypto_hash_sha256_final(&a->hs, got);
	a->hashing = false;
	if (sodium_memcmp(got, a->hash, SESS_ASSET_HASH_LEN) != 0) {
		sess_assets_discard(st, hash);
		return -EBADMSG;
	}
	if (fdatasync(a->wfd) < 0) {
		r = -errno;
		close_writer(st, a);
		return r;
	}
	char from[4200], to[4200];
	path_of(st, a, ".part", from, sizeof(from));
	path_of(st, a, "", to, sizeof(to));
	close_writer(st, a);
	if (rename(from, to) < 0)
		return -errno;
	th_fsync_dir(st->dir);
	a->state = SESS_ASSET_COMPLETE;
	a->have = a->size;
	return 0;
}

ssize_t sess_assets_read(struct sess_assets *st, const uint8_t hash[SESS_ASSET_HASH_LEN], uint64_t offset, void *buf,
			 size_t len)
{
	struct sess_asset *a = find(st, hash);
	if (!a || a->state != SESS_ASSET_COMPLETE)
		return -ENOENT;
	if (offset >= a->size)
		return 0;
	if (len > a->size - offset)
		len = (size_t)(a->size - offset);
	if (a->rfd < 0) {
		if (st->n_readers >= SESS_ASSET_MAX_READERS)
			for (unsigned i = 0; i < st->n && st->n_readers >= SESS_ASSET_MAX_READERS; i++)
				close_reader(st, st->a[i]);
		char path[4200];
		path_of(st, a, "", path, sizeof(path));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		a->rfd = fd;
		st->n_readers++;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(a->rfd, (uint8_t *)buf + got, len - got, (off_t)(offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shorter than verified: the file was changed behind us */
		got += (size_t)n;
	}
	return (ssize_t)got;
}
