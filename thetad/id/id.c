#include "id/id.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "th_cmd.h"
#include "th_file.h"
#include "th_hex.h"
#include "th_log.h"
#include "th_utf8.h"

#define ID_HEADER "theta-ed25519-key v1\n"
#define ID_BROWSER_HEADER "theta-browser v1\n"
/* A browser record file: the fields below, well under this. */
#define ID_BROWSER_FILE_MAX 2048u
#define ID_BROWSER_SUFFIX ".browser"

/* A browser identity in memory: allocated once, so the key pointer
 * id_user_key hands out stays valid. */
struct id_brow {
	struct id_browser b;
	struct th_keypair kp;
	uint8_t resume_hash[crypto_hash_sha256_BYTES];
};

struct id_user {
	uid_t uid;
	struct th_keypair kp;
};

struct id_store {
	char keys[PATH_MAX];  /* STATE_DIR/keys */
	char users[PATH_MAX]; /* STATE_DIR/keys/users */
	bool have_host;
	struct th_keypair host;
	struct id_user **u; /* separately allocated: pointers handed out stay valid */
	size_t nu, ucap;
	char browsers[PATH_MAX]; /* STATE_DIR/keys/browsers */
	struct id_brow *br[ID_BROWSERS_MAX]; /* by uid - ID_BROWSER_UID_BASE */
	/* Slots never handed out again: every file seen under browsers/,
	 * loaded or not (a refused file's uid may still be listed as a
	 * session's member: a new browser must not inherit it). */
	bool br_taken[ID_BROWSERS_MAX];
	unsigned n_br;
};

static void id_browsers_load(struct id_store *s);

int id_fingerprint(const uint8_t pk[TH_LOGREC_KEY_LEN], char *out, size_t cap)
{
	return th_key_fingerprint(pk, out, cap);
}

static int id_b64_field(const char *line, const char *name, uint8_t out[32])
{
	size_t n = strlen(name);
	size_t bin_len;
	const char *end;
	if (strncmp(line, name, n) != 0 || line[n] != ' ')
		return -EBADMSG;
	const char *b = line + n + 1;
	const char *nl = strchr(b, '\n');
	size_t blen = nl ? (size_t)(nl - b) : strlen(b);
	if (sodium_base642bin(out, 32, b, blen, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != 32 || end != b + blen)
		return -EBADMSG;
	return 0;
}

int id_key_load(const char *path, struct th_keypair *kp)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	uint8_t seed[32], pk[32];
	struct th_keypair k;
	int r;

	if (sodium_init() < 0)
		return -ENOSYS;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if ((st.st_mode & 077) || st.st_uid != geteuid())
		return -EPERM;
	r = th_file_read(path, ID_KEY_FILE_MAX, &text, &len);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	r = -EBADMSG;
	if (strncmp(text, ID_HEADER, strlen(ID_HEADER)) != 0)
		goto out;
	const char *l2 = text + strlen(ID_HEADER);
	const char *l3 = strchr(l2, '\n');
	if (!l3 || id_b64_field(l2, "seed", seed) < 0 || id_b64_field(l3 + 1, "public", pk) < 0)
		goto out;
	const char *tail = strchr(l3 + 1, '\n');
	if (!tail || tail[1] != 0)
		goto out;
	if (th_keypair_from_seed(seed, &k) < 0 || sodium_memcmp(k.pk, pk, 32) != 0)
		goto out;
	*kp = k;
	r = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(&k, sizeof(k));
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	return r;
}

int id_key_create(const char *path, struct th_keypair *kp)
{
	struct th_keypair k;
	char s64[64], p64[64], text[256];
	int r;

	if (access(path, F_OK) == 0)
		return -EEXIST;
	r = th_keypair_generate(&k);
	if (r < 0)
		return r;
	sodium_bin2base64(s64, sizeof(s64), k.sk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(p64, sizeof(p64), k.pk, 32, sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(text, sizeof(text), ID_HEADER "seed %s\npublic %s\n", s64, p64);
	r = th_file_replace(path, text, (size_t)n, 0600);
	sodium_memzero(s64, sizeof(s64));
	sodium_memzero(text, sizeof(text));
	if (r == 0)
		*kp = k;
	sodium_memzero(&k, sizeof(k));
	return r;
}

/* Load, or create when absent. */
static int id_load_or_create(const char *path, struct th_keypair *kp)
{
	int r = id_key_load(path, kp);
	if (r != -ENOENT)
		return r;
	r = id_key_create(path, kp);
	/* Lost a race with another creator: take theirs. */
	return r == -EEXIST ? id_key_load(path, kp) : r;
}

int id_store_open(const char *state_dir, struct id_store **out)
{
	if (sodium_init() < 0)
		return -ENOSYS;
	struct id_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int r = -ENAMETOOLONG;
	if (snprintf(s->keys, sizeof(s->keys), "%s/keys", state_dir) >= (int)sizeof(s->keys) ||
	    snprintf(s->users, sizeof(s->users), "%s/keys/users", state_dir) >= (int)sizeof(s->users) ||
	    snprintf(s->browsers, sizeof(s->browsers), "%s/keys/browsers", state_dir) >= (int)sizeof(s->browsers))
		goto fail;
	if ((r = th_mkdir_p(s->users, 0700)) < 0 || (r = th_mkdir_p(s->browsers, 0700)) < 0)
		goto fail;
	/* Existing directories keep their mode from mkdir; tighten them. */
	if (chmod(s->keys, 0700) < 0 || chmod(s->users, 0700) < 0 || chmod(s->browsers, 0700) < 0) {
		r = -errno;
		goto fail;
	}
	id_browsers_load(s);
	*out = s;
	return 0;
fail:
	free(s);
	return r;
}

void id_store_close(struct id_store **sp)
{
	struct id_store *s = sp ? *sp : NULL;
	if (!s)
		return;
	for (size_t i = 0; i < s->nu; i++) {
		sodium_memzero(&s->u[i]->kp, sizeof(s->u[i]->kp));
		free(s->u[i]);
	}
	for (unsigned i = 0; i < ID_BROWSERS_MAX; i++) {
		if (s->br[i]) {
			sodium_memzero(s->br[i], sizeof(*s->br[i]));
			free(s->br[i]);
		}
	}
	sodium_memzero(&s->host, sizeof(s->host));
	free(s->u);
	free(s);
	*sp = NULL;
}

int id_host_key(struct id_store *s, const struct th_keypair **out)
{
	if (!s->have_host) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/host.key", s->keys);
		int r = id_load_or_create(path, &s->host);
		if (r < 0)
			return r;
		s->have_host = true;
	}
	*out = &s->host;
	return 0;
}

int id_user_key(struct id_store *s, uid_t uid, const struct th_keypair **out)
{
	if (id_uid_is_browser(uid)) {
		/* Never a users/ key: only a browser identity signs as it. */
		const struct id_brow *b = s->br[uid - ID_BROWSER_UID_BASE];
		if (!b)
			return -ENOENT;
		*out = &b->kp;
		return 0;
	}
	for (size_t i = 0; i < s->nu; i++) {
		if (s->u[i]->uid == uid) {
			*out = &s->u[i]->kp;
			return 0;
		}
	}
	if (s->nu >= ID_USERS_MAX)
		return -ENOSPC;
	if (s->nu == s->ucap) {
		size_t n = s->ucap ? s->ucap * 2 : 8;
		struct id_user **t = realloc(s->u, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->u = t;
		s->ucap = n;
	}
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%u.key", s->users, (unsigned)uid);
	struct id_user *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	int r = id_load_or_create(path, &u->kp);
	if (r < 0) {
		free(u);
		return r;
	}
	u->uid = uid;
	s->u[s->nu++] = u;
	*out = &u->kp;
	return 0;
}

/* ---- browser identities ------------------------------------------------------ */

/* Record file (text, 0600), one field a line in this order:
 *   theta-browser v1
 *   uid <decimal>
 *   seed <standard base64 of the 32-byte seed>
 *   public <standard base64 of the public key>
 *   session <32 hex>
 *   nonce <32 hex>
 *   role viewer|editor|admin
 *   name <1..63 bytes of UTF-8, no control characters>
 *   created <unix seconds>
 *   resume <64 hex: SHA-256 of the resume secret> */

static bool id_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > ID_BROWSER_NAME_MAX || !th_utf8_valid((const uint8_t *)name, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static int id_browser_path(const struct id_store *s, uid_t uid, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%u" ID_BROWSER_SUFFIX, s->browsers, (unsigned)uid);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int id_browser_write(const struct id_store *s, const struct id_brow *b)
{
	char path[PATH_MAX + 32], s64[64], p64[64], sid[33], nonce[33], rh[65];
	char text[ID_BROWSER_FILE_MAX];
	int r = id_browser_path(s, b->b.uid, path, sizeof(path));
	if (r < 0)
		return r;
	sodium_bin2base64(s64, sizeof(s64), b->kp.sk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(p64, sizeof(p64), b->kp.pk, 32, sodium_base64_VARIANT_ORIGINAL);
	th_hex_encode(b->b.session_id, 16, sid);
	th_hex_encode(b->b.nonce, 16, nonce);
	th_hex_encode(b->resume_hash, sizeof(b->resume_hash), rh);
	int n = snprintf(text, sizeof(text),
			 ID_BROWSER_HEADER "uid %u\nseed %s\npublic %s\nsession %s\nnonce %s\nrole %s\nname %s\n"
					   "created %" PRIu64 "\nresume %s\n",
			 (unsigned)b->b.uid, s64, p64, sid, nonce, th_role_name(b->b.role), b->b.name, b->b.created_s,
			 rh);
	r = n > 0 && (size_t)n < sizeof(text) ? th_file_replace(path, text, (size_t)n, 0600) : -EOVERFLOW;
	sodium_memzero(s64, sizeof(s64));
	sodium_memzero(text, sizeof(text));
	return r;
}

/* The value of line `key VALUE` at *p (advanced past the line) into
 * val[cap]; -EBADMSG when the line is another or too long. */
static int id_field(const char **p, const char *key, char *val, size_t cap)
{
	size_t k = strlen(key);
	const char *nl = strchr(*p, '\n');
	if (!nl || strncmp(*p, key, k) != 0 || (*p)[k] != ' ')
		return -EBADMSG;
	const char *v = *p + k + 1;
	size_t n = (size_t)(nl - v);
	if (n >= cap || memchr(v, 0, n))
		return -EBADMSG;
	memcpy(val, v, n);
	val[n] = 0;
	*p = nl + 1;
	return 0;
}

static int id_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	if (!*v || *v < '0' || *v > '9' || (v[0] == '0' && v[1]))
		return -EBADMSG;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return -EBADMSG;
	*out = x;
	return 0;
}

/* Parses a record file's text into *b; what went wrong into why[cap]. */
static int id_browser_parse(const char *text, struct id_brow *b, char *why, size_t cap)
{
	char v[ID_BROWSER_FILE_MAX];
	const char *p = text;
	uint8_t seed[32], pk[32];
	uint64_t x;
	int r = -EBADMSG;
	memset(b, 0, sizeof(*b));
	if (strncmp(p, ID_BROWSER_HEADER, strlen(ID_BROWSER_HEADER)) != 0) {
		snprintf(why, cap, "not a theta-browser v1 record");
		return -EBADMSG;
	}
	p += strlen(ID_BROWSER_HEADER);
#define ID_NEED(cond, what)                                  \
	do {                                                 \
		if (!(cond)) {                               \
			snprintf(why, cap, "bad %s line", what); \
			goto out;                            \
		}                                            \
	} while (0)
	ID_NEED(id_field(&p, "uid", v, sizeof(v)) == 0 && id_u64(v, UINT32_MAX, &x) == 0 && id_uid_is_browser((uid_t)x),
		"uid");
	b->b.uid = (uid_t)x;
	/* id_b64_field reads the line where it stands (up to its newline),
	 * id_field then steps past it: no copy of the seed's text is made. */
	ID_NEED(id_b64_field(p, "seed", seed) == 0 && id_field(&p, "seed", v, sizeof(v)) == 0, "seed");
	ID_NEED(id_b64_field(p, "public", pk) == 0 && id_field(&p, "public", v, sizeof(v)) == 0, "public");
	ID_NEED(id_field(&p, "session", v, sizeof(v)) == 0 && th_hex_decode(v, strlen(v), b->b.session_id, 16, true) == 0,
		"session");
	ID_NEED(id_field(&p, "nonce", v, sizeof(v)) == 0 && th_hex_decode(v, strlen(v), b->b.nonce, 16, true) == 0,
		"nonce");
	ID_NEED(id_field(&p, "role", v, sizeof(v)) == 0 && th_role_parse(v) >= TH_ROLE_VIEWER &&
			th_role_parse(v) <= TH_ROLE_ADMIN,
		"role");
	b->b.role = (uint8_t)th_role_parse(v);
	ID_NEED(id_field(&p, "name", v, sizeof(v)) == 0 && id_name_ok(v), "name");
	snprintf(b->b.name, sizeof(b->b.name), "%s", v);
	ID_NEED(id_field(&p, "created", v, sizeof(v)) == 0 && id_u64(v, UINT64_MAX, &b->b.created_s) == 0, "created");
	ID_NEED(id_field(&p, "resume", v, sizeof(v)) == 0 &&
			th_hex_decode(v, strlen(v), b->resume_hash, sizeof(b->resume_hash), true) == 0,
		"resume");
	ID_NEED(*p == 0, "trailing");
#undef ID_NEED
	if (th_keypair_from_seed(seed, &b->kp) < 0 || sodium_memcmp(b->kp.pk, pk, 32) != 0) {
		snprintf(why, cap, "the public key does not match the seed");
		goto out;
	}
	r = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(v, sizeof(v));
	if (r < 0)
		sodium_memzero(b, sizeof(*b));
	return r;
}

/* One file of browsers/: 0 (loaded), or why it was refused. */
static int id_browser_load_file(struct id_store *s, const char *path, uid_t want, char *why, size_t cap)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	if (lstat(path, &st) < 0) {
		snprintf(why, cap, "%s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, cap, "not a regular file");
		return -EBADMSG;
	}
	if ((st.st_mode & 077) || st.st_uid != geteuid()) {
		snprintf(why, cap, "readable by others or owned by another user (mode %03o)", (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	int r = th_file_read(path, ID_BROWSER_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(why, cap, "%s", r == -EFBIG ? "larger than a browser record can be" : strerror(-r));
		return r == -EFBIG ? -EBADMSG : r;
	}
	struct id_brow *b = calloc(1, sizeof(*b));
	if (!b) {
		r = -ENOMEM;
		snprintf(why, cap, "out of memory");
	} else if (strlen(text) != len) {
		r = -EBADMSG;
		snprintf(why, cap, "a NUL byte in the record");
	} else if ((r = id_browser_parse(text, b, why, cap)) == 0 && b->b.uid != want) {
		r = -EBADMSG;
		snprintf(why, cap, "its uid line says %u", (unsigned)b->b.uid);
	}
	sodium_memzero(text, len);
	free(text);
	if (r < 0) {
		if (b) {
			sodium_memzero(b, sizeof(*b));
			free(b);
		}
		return r;
	}
	s->br[want - ID_BROWSER_UID_BASE] = b;
	s->n_br++;
	return 0;
}

/* Every <uid>.browser under browsers/ (at most ID_BROWSERS_MAX: the uid
 * range). A refused file is named in the log and skipped; its uid is not
 * handed out again. Temporary files of an interrupted write are left. */
static void id_browsers_load(struct id_store *s)
{
	DIR *d = opendir(s->browsers);
	if (!d) {
		th_warn("cannot read %s: %s; no browser identities loaded", s->browsers, strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t l = strlen(n), sl = strlen(ID_BROWSER_SUFFIX);
		char num[16];
		uint64_t uid;
		if (l <= sl || strcmp(n + l - sl, ID_BROWSER_SUFFIX) != 0)
			continue;
		if (l - sl >= sizeof(num)) {
			th_warn("%s/%s: not a browser identity's name (<uid>.browser); skipped", s->browsers, n);
			continue;
		}
		memcpy(num, n, l - sl);
		num[l - sl] = 0;
		if (id_u64(num, UINT32_MAX, &uid) < 0 || !id_uid_is_browser((uid_t)uid)) {
			th_warn("%s/%s: not a browser identity's name (<uid>.browser, uid %u..%u); skipped", s->browsers, n,
				ID_BROWSER_UID_BASE, ID_BROWSER_UID_BASE + ID_BROWSERS_MAX - 1);
			continue;
		}
		unsigned slot = (unsigned)uid - ID_BROWSER_UID_BASE;
		s->br_taken[slot] = true;
		char path[PATH_MAX + 32], why[160] = "";
		snprintf(path, sizeof(path), "%s/%s", s->browsers, n);
		if (id_browser_load_file(s, path, (uid_t)uid, why, sizeof(why)) < 0)
			th_warn("browser identity %s refused: %s; that browser must be invited again", path, why);
	}
	closedir(d);
}

int id_browser_create(struct id_store *s, const uint8_t session_id[16], const uint8_t nonce[16], uint8_t role,
		      const char *name, struct id_browser *out, uint8_t resume[ID_RESUME_LEN])
{
	if (!id_name_ok(name) || role < TH_ROLE_VIEWER || role > TH_ROLE_ADMIN)
		return -EINVAL;
	unsigned slot = 0;
	while (slot < ID_BROWSERS_MAX && s->br_taken[slot])
		slot++;
	if (slot == ID_BROWSERS_MAX)
		return -ENOSPC;
	struct id_brow *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	uint8_t secret[ID_RESUME_LEN];
	int r = th_keypair_generate(&b->kp);
	if (r < 0) {
		free(b);
		return r;
	}
	randombytes_buf(secret, sizeof(secret));
	crypto_hash_sha256(b->resume_hash, secret, sizeof(secret));
	b->b.uid = ID_BROWSER_UID_BASE + slot;
	memcpy(b->b.session_id, session_id, 16);
	memcpy(b->b.nonce, nonce, 16);
	b->b.role = role;
	snprintf(b->b.name, sizeof(b->b.name), "%s", name);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	b->b.created_s = (uint64_t)ts.tv_sec;
	if ((r = id_browser_write(s, b)) < 0) {
		sodium_memzero(secret, sizeof(secret));
		sodium_memzero(b, sizeof(*b));
		free(b);
		return r;
	}
	s->br_taken[slot] = true;
	s->br[slot] = b;
	s->n_br++;
	*out = b->b;
	memcpy(resume, secret, sizeof(secret));
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

int id_browser_resume(struct id_store *s, const uint8_t resume[ID_RESUME_LEN], struct id_browser *out)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, resume, ID_RESUME_LEN);
	const struct id_brow *found = NULL;
	/* Every slot is compared in constant time per slot, and all of them
	 * are looked at, so the time says nothing of which one matched. */
	for (unsigned i = 0; i < ID_BROWSERS_MAX; i++)
		if (s->br[i] && sodium_memcmp(s->br[i]->resume_hash, h, sizeof(h)) == 0)
			found = s->br[i];
	if (!found)
		return -ENOENT;
	*out = found->b;
	return 0;
}

int id_browser_get(struct id_store *s, uid_t uid, struct id_browser *out)
{
	if (!id_uid_is_browser(uid) || !s->br[uid - ID_BROWSER_UID_BASE])
		return -ENOENT;
	*out = s->br[uid - ID_BROWSER_UID_BASE]->b;
	return 0;
}
