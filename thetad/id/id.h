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
