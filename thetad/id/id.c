#include "id/id.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_file.h"

#define ID_HEADER "theta-ed25519-key v1\n"

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
};

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
	    snprintf(s->users, sizeof(s->users), "%s/keys/users", state_dir) >= (int)sizeof(s->users))
		goto fail;
	r = th_mkdir_p(s->users, 0700);
	if (r < 0)
		goto fail;
	/* Existing directories keep their mode from mkdir; tighten them. */
	if (chmod(s->keys, 0700) < 0 || chmod(s->users, 0700) < 0) {
		r = -errno;
		goto fail;
	}
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
