/* The daemon's long-lived TLS identity: a self-signed ECDSA P-256
 * certificate generated with GnuTLS on first start and kept under
 * STATE_DIR/tls/ (cert.pem 0644, key.pem 0600, both replaced atomically).
 * Peers trust it by fingerprint, like SSH known_hosts.
 *
 * Fingerprint: SHA-256 over the certificate's DER encoding, written as 64
 * lowercase hex digits without separators (what invite links carry in
 * fp=...). net_cert_fp_parse also takes upper case and ':' separators. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#define NET_CERT_FP_LEN     32
#define NET_CERT_FP_HEX_LEN 64
#define NET_CERT_DIR        "tls"
#define NET_CERT_FILE       "cert.pem"
#define NET_CERT_KEY_FILE   "key.pem"
#define NET_CERT_MAX_PEM    (64u * 1024u) /* refuse larger files */
#define NET_CERT_VALID_DAYS (20 * 365)

struct net_cert {
	gnutls_certificate_credentials_t cred; /* ready for a QUIC server */
	uint8_t fp[NET_CERT_FP_LEN];
	char fp_hex[NET_CERT_FP_HEX_LEN + 1];
	char *cert_pem; /* NUL-terminated */
	size_t cert_pem_len;
};

/* A fresh certificate and key in memory (tests, first start). */
int net_cert_generate(struct net_cert **out);
/* Loads STATE_DIR/tls/{cert,key}.pem, creating them when the key is absent
 * (a missing cert for an existing key is re-issued for that key). *created
 * (may be NULL) tells whether a new key was generated. */
int net_cert_load_or_create(const char *state_dir, struct net_cert **out, bool *created);
/* Loads a PEM certificate and key; -EKEYREJECTED if they do not match. */
int net_cert_load_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
		      struct net_cert **out);
void net_cert_destroy(struct net_cert **c);

/* SHA-256 over DER of a PEM certificate. */
int net_cert_fingerprint_pem(const char *cert_pem, size_t len, uint8_t fp[NET_CERT_FP_LEN]);
void net_cert_fp_format(const uint8_t fp[NET_CERT_FP_LEN], char out[NET_CERT_FP_HEX_LEN + 1]);
/* -EINVAL unless exactly 32 bytes of hex (case-insensitive, ':' allowed
 * between byte pairs). */
int net_cert_fp_parse(const char *s, uint8_t fp[NET_CERT_FP_LEN]);
