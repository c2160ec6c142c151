/* Keys and signatures of log entries (th_logrec.h): Ed25519 signing and
 * verification over an entry hash, key pairs, key fingerprints. Kept apart
 * from th_logrec.c (encoding, hashing, chains, framing) so that a build
 * without Ed25519 and SHA-256, the browser's fold (web/wasm/), links the
 * codec alone. */
#include "th_logrec.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

static const uint8_t th_lr_sig_domain[16] = "theta.sig.v1\0\0\0";

void th_logrec_sign(const uint8_t hash[TH_LOGREC_HASH_LEN], const uint8_t sk[TH_LOGREC_SECKEY_LEN],
		    uint8_t sig[TH_LOGREC_SIG_LEN])
{
	uint8_t m[sizeof(th_lr_sig_domain) + TH_LOGREC_HASH_LEN];
	memcpy(m, th_lr_sig_domain, sizeof(th_lr_sig_domain));
	memcpy(m + sizeof(th_lr_sig_domain), hash, TH_LOGREC_HASH_LEN);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
}

int th_logrec_verify(const uint8_t hash[TH_LOGREC_HASH_LEN], const uint8_t pk[TH_LOGREC_KEY_LEN],
		     const uint8_t sig[TH_LOGREC_SIG_LEN])
{
	uint8_t m[sizeof(th_lr_sig_domain) + TH_LOGREC_HASH_LEN];
	memcpy(m, th_lr_sig_domain, sizeof(th_lr_sig_domain));
	memcpy(m + sizeof(th_lr_sig_domain), hash, TH_LOGREC_HASH_LEN);
	return crypto_sign_verify_detached(sig, m, sizeof(m), pk) == 0 ? 0 : -EBADMSG;
}

int th_keypair_generate(struct th_keypair *kp)
{
	if (sodium_init() < 0)
		return -ENOSYS;
	return crypto_sign_keypair(kp->pk, kp->sk) == 0 ? 0 : -EIO;
}

int th_keypair_from_seed(const uint8_t seed[32], struct th_keypair *kp)
{
	if (sodium_init() < 0)
		return -ENOSYS;
	return crypto_sign_seed_keypair(kp->pk, kp->sk, seed) == 0 ? 0 : -EIO;
}

int th_key_fingerprint(const uint8_t pk[TH_LOGREC_KEY_LEN], char *out, size_t cap)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char b64[64];

	if (cap < TH_KEY_FPR_LEN)
		return -ENOBUFS;
	crypto_hash_sha256(h, pk, TH_LOGREC_KEY_LEN);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, 44); /* 43 characters + NUL */
	return 0;
}
