/* Self-signed certificate generation, storage and fingerprints (GnuTLS). */
#include "net/net_cert.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "th_file.h"
#include "th_hex.h"

/* Backdate validity by a day so peers with slightly slow clocks agree. */
#define NET_CERT_BACKDATE_S (24 * 3600)

static int gnutls_errno(int gerr)
{
	return gerr == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EIO;
}

/* Issues a self-signed certificate for key; *pem: gnutls-allocated. */
static int issue_cert(gnutls_x509_privkey_t key, gnutls_datum_t *pem)
{
	gnutls_x509_crt_t crt;
	int rv = gnutls_x509_crt_init(&crt);
	if (rv < 0)
		return gnutls_errno(rv);
	uint8_t serial[16];
	time_t now = time(NULL);
	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0) {
		rv = GNUTLS_E_RANDOM_FAILED;
		goto out;
	}
	serial[0] &= 0x7f; /* positive INTEGER */
	serial[0] |= 0x01; /* and no leading zero byte */
	if ((rv = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rv = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rv = gnutls_x509_crt_set_activation_time(crt, now - NET_CERT_BACKDATE_S)) < 0 ||
	    (rv = gnutls_x509_crt_set_expiration_time(
		     crt, now + (time_t)NET_CERT_VALID_DAYS * 24 * 3600)) < 0 ||
	    (rv = gnutls_x509_crt_set_dn(crt, "CN=thetad", NULL)) < 0 ||
	    (rv = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rv = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rv = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rv = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rv = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, pem)) < 0)
		goto out;
	rv = 0;
out:
	gnutls_x509_crt_deinit(crt);
	return rv < 0 ? gnutls_errno(rv) : 0;
}

static int new_key(gnutls_x509_privkey_t *key)
{
	int rv = gnutls_x509_privkey_init(key);
	if (rv < 0)
		return gnutls_errno(rv);
	rv = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rv < 0) {
		gnutls_x509_privkey_deinit(*key);
		return gnutls_errno(rv);
	}
	return 0;
}

int net_cert_fingerprint_pem(const char *cert_pem, size_t len, uint8_t fp[NET_CERT_FP_LEN])
{
	gnutls_x509_crt_t crt;
	if (len == 0 || len > NET_CERT_MAX_PEM)
		return -EINVAL;
	int rv = gnutls_x509_crt_init(&crt);
	if (rv < 0)
		return gnutls_errno(rv);
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)len};
	gnutls_datum_t der = {0};
	rv = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (rv >= 0)
		rv = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
	if (rv >= 0)
		rv = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, fp);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	return rv < 0 ? -EBADMSG : 0;
}

int net_cert_load_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
		      struct net_cert **out)
{
	if (cert_len == 0 || cert_len > NET_CERT_MAX_PEM || key_len == 0 || key_len > NET_CERT_MAX_PEM)
		return -EINVAL;
	struct net_cert *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int rv = net_cert_fingerprint_pem(cert_pem, cert_len, c->fp);
	if (rv < 0)
		goto fail;
	c->cert_pem = malloc(cert_len + 1);
	if (!c->cert_pem) {
		rv = -ENOMEM;
		goto fail;
	}
	memcpy(c->cert_pem, cert_pem, cert_len);
	c->cert_pem[cert_len] = '\0';
	c->cert_pem_len = cert_len;
	net_cert_fp_format(c->fp, c->fp_hex);
	int g = gnutls_certificate_allocate_credentials(&c->cred);
	if (g < 0) {
		c->cred = NULL;
		rv = gnutls_errno(g);
		goto fail;
	}
	gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)cert_len};
	gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)key_len};
	g = gnutls_certificate_set_x509_key_mem(c->cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		rv = g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? -EKEYREJECTED : -EBADMSG;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	net_cert_destroy(&c);
	return rv;
}

/* Generates key (if *key is NULL) and cert; returns both PEMs. */
static int make_pems(gnutls_x509_privkey_t key, gnutls_datum_t *cert_pem, gnutls_datum_t *key_pem)
{
	int rv = issue_cert(key, cert_pem);
	if (rv < 0)
		return rv;
	int g = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, key_pem);
	if (g < 0) {
		gnutls_free(cert_pem->data);
		cert_pem->data = NULL;
		return gnutls_errno(g);
	}
	return 0;
}

int net_cert_generate(struct net_cert **out)
{
	gnutls_x509_privkey_t key;
	int rv = new_key(&key);
	if (rv < 0)
		return rv;
	gnutls_datum_t cp = {0}, kp = {0};
	rv = make_pems(key, &cp, &kp);
	gnutls_x509_privkey_deinit(key);
	if (rv < 0)
		return rv;
	rv = net_cert_load_pem((const char *)cp.data, cp.size, (const char *)kp.data, kp.size, out);
	gnutls_memset(kp.data, 0, kp.size);
	gnutls_free(kp.data);
	gnutls_free(cp.data);
	return rv;
}

int net_cert_load_or_create(const char *state_dir, struct net_cert **out, bool *created)
{
	char dir[PATH_MAX], cpath[PATH_MAX], kpath[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s/%s", state_dir, NET_CERT_DIR) >= (int)sizeof(dir) ||
	    snprintf(cpath, sizeof(cpath), "%s/%s", dir, NET_CERT_FILE) >= (int)sizeof(cpath) ||
	    snprintf(kpath, sizeof(kpath), "%s/%s", dir, NET_CERT_KEY_FILE) >= (int)sizeof(kpath))
		return -ENAMETOOLONG;
	int rv = th_mkdir_p(dir, 0700);
	if (rv < 0)
		return rv;
	char *kbuf = NULL, *cbuf = NULL;
	size_t klen = 0, clen = 0;
	bool made = false;
	gnutls_datum_t cp = {0}, kp = {0};
	gnutls_x509_privkey_t key = NULL;

	rv = th_file_read(kpath, NET_CERT_MAX_PEM, &kbuf, &klen);
	if (rv == -ENOENT) {
		/* First start: new key, then its certificate. The key file is
		 * written first; a crash in between re-issues the cert below. */
		if ((rv = new_key(&key)) < 0)
			goto out;
		if ((rv = make_pems(key, &cp, &kp)) < 0)
			goto out;
		if ((rv = th_file_replace(kpath, kp.data, kp.size, 0600)) < 0 ||
		    (rv = th_file_replace(cpath, cp.data, cp.size, 0644)) < 0)
			goto out;
		made = true;
		rv = net_cert_load_pem((const char *)cp.data, cp.size, (const char *)kp.data, kp.size,
				       out);
		goto out;
	}
	if (rv < 0)
		goto out;
	rv = th_file_read(cpath, NET_CERT_MAX_PEM, &cbuf, &clen);
	if (rv == -ENOENT) {
		int g = gnutls_x509_privkey_init(&key);
		gnutls_datum_t kd = {(unsigned char *)kbuf, (unsigned)klen};
		if (g < 0 || gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
			if (g < 0)
				key = NULL;
			rv = -EBADMSG;
			goto out;
		}
		if ((rv = issue_cert(key, &cp)) < 0 ||
		    (rv = th_file_replace(cpath, cp.data, cp.size, 0644)) < 0)
			goto out;
		rv = net_cert_load_pem((const char *)cp.data, cp.size, kbuf, klen, out);
		goto out;
	}
	if (rv < 0)
		goto out;
	rv = net_cert_load_pem(cbuf, clen, kbuf, klen, out);
out:
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (kp.data) {
		gnutls_memset(kp.data, 0, kp.size);
		gnutls_free(kp.data);
	}
	gnutls_free(cp.data);
	if (kbuf) {
		gnutls_memset(kbuf, 0, klen);
		free(kbuf);
	}
	free(cbuf);
	if (rv >= 0 && created)
		*created = made;
	return rv < 0 ? rv : 0;
}

void net_cert_destroy(struct net_cert **pc)
{
	struct net_cert *c = pc ? *pc : NULL;
	if (!c)
		return;
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	free(c->cert_pem);
	free(c);
	*pc = NULL;
}

void net_cert_fp_format(const uint8_t fp[NET_CERT_FP_LEN], char out[NET_CERT_FP_HEX_LEN + 1])
{
	th_hex_encode(fp, NET_CERT_FP_LEN, out);
}

int net_cert_fp_parse(const char *s, uint8_t fp[NET_CERT_FP_LEN])
{
	uint8_t tmp[NET_CERT_FP_LEN];
	size_t n = 0;
	const char *p = s;
	while (n < NET_CERT_FP_LEN) {
		if (n > 0 && *p == ':')
			p++;
		int hi = th_hex_digit(p[0]);
		int lo = hi < 0 ? -1 : th_hex_digit(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		tmp[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (*p != '\0')
		return -EINVAL;
	memcpy(fp, tmp, sizeof(tmp));
	return 0;
}
