/* Identities held by thetad: the host key and one Ed25519 key per local
 * user, created on first use and kept under STATE_DIR/keys/ (directory
 * 0700, files 0600, written atomically). See thetad/id/README.md.
 *
 * Key file (text, 0600):
 *   theta-ed25519-key v1
 *   seed <standard base64 of the 32-byte seed>
 *   public <standard base64 of the 32-byte public key>
 * The public key is re-derived from the seed on load and must match.
 * Fingerprints: th_key_fingerprint() ("SHA256:" + unpadded base64). */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "th_logrec.h"

#define ID_KEY_FILE_MAX 1024 /* bytes; a longer key file is refused */
#define ID_USERS_MAX 4096    /* cached user keys */

struct id_store;

/* Opens (creating STATE_DIR/keys and keys/users, 0700) the key store. */
int id_store_open(const char *state_dir, struct id_store **out);
void id_store_close(struct id_store **s);
/* The host key, created on first call if absent. */
int id_host_key(struct id_store *s, const struct th_keypair **out);
/* The key of local user uid, created on first use. */
int id_user_key(struct id_store *s, uid_t uid, const struct th_keypair **out);

/* Loads a key file: -ENOENT, -EPERM (group/other may read it, or another
 * user owns it), -EBADMSG (malformed or public key mismatch). */
int id_key_load(const char *path, struct th_keypair *kp);
/* Generates a key and writes it atomically (0600); -EEXIST if present. */
int id_key_create(const char *path, struct th_keypair *kp);
/* Fingerprint text of a public key into out[TH_KEY_FPR_LEN]. */
int id_fingerprint(const uint8_t pk[TH_LOGREC_KEY_LEN], char *out, size_t cap);

/* Browser identities (docs/web.md "Who a browser is"): one Ed25519 key per
 * browser peer, minted when a browser redeems an invite token, kept under
 * STATE_DIR/keys/browsers/ (0600, atomic) with the token's nonce, the
 * session, the role, the display name and the SHA-256 of a resume secret
 * the page keeps. Each has a uid in [ID_BROWSER_UID_BASE, +ID_BROWSERS_MAX)
 * (a range Linux does not hand out: systemd's "unused" range), and
 * id_user_key answers for those uids too, so the sessions module signs a
 * browser's edits as it signs a local user's. */
#define ID_BROWSER_UID_BASE 0xC0000000u
#define ID_BROWSERS_MAX 4096u
#define ID_BROWSER_NAME_MAX 63u
#define ID_RESUME_LEN 32u

struct id_browser {
	uid_t uid;
	uint8_t session_id[16];
	uint8_t nonce[16];   /* the invite token's */
	uint8_t role;        /* proto_sess_role */
	char name[ID_BROWSER_NAME_MAX + 1];
	uint64_t created_s;
};
static inline int id_uid_is_browser(uid_t uid)
{
	return uid >= ID_BROWSER_UID_BASE && uid - ID_BROWSER_UID_BASE < ID_BROWSERS_MAX;
}
/* A new browser identity; resume[ID_RESUME_LEN] gets the fresh secret to
 * give the page (only its hash is stored). 0, -ENOSPC (ID_BROWSERS_MAX),
 * -EINVAL (name not valid UTF-8 of 1..63 bytes without control
 * characters), or an I/O errno. */
int id_browser_create(struct id_store *s, const uint8_t session_id[16], const uint8_t nonce[16], uint8_t role,
		      const char *name, struct id_browser *out, uint8_t resume[ID_RESUME_LEN]);
/* The identity whose resume secret this is: 0, -ENOENT. */
int id_browser_resume(struct id_store *s, const uint8_t resume[ID_RESUME_LEN], struct id_browser *out);
/* By uid: 0, -ENOENT. */
int id_browser_get(struct id_store *s, uid_t uid, struct id_browser *out);
