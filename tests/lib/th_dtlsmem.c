/* An in-memory GnuTLS DTLS client, the browser's side of web_dtls tests. */
#include "th_dtlsmem.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/dtls.h>

/* What a browser offers: more than web_dtls takes. */
#define TH_DTLSMEM_PRIORITY "NORMAL:-VERS-ALL:+VERS-DTLS1.2"
/* The bare server: DTLS 1.2, the server's choice, nothing else set. */
#define TH_DTLSMEM_SERVER_PRIORITY "NORMAL:-VERS-ALL:+VERS-DTLS1.2:%SERVER_PRECEDENCE"
/* The whole handshake may take this long on the client's side. */
#define TH_DTLSMEM_TOTAL_MS 60000u

int th_dtlsmem_push(struct th_dtlsmem_queue *q, const uint8_t *p, size_t len)
{
	if (len > TH_DTLSMEM_DGRAM)
		return -EMSGSIZE;
	if (q->n >= TH_DTLSMEM_QUEUE)
		return -ENOBUFS;
	struct th_dtlsmem_dgram *d = &q->q[(q->head + q->n++) % TH_DTLSMEM_QUEUE];
	memcpy(d->b, p, len);
	d->len = len;
	return 0;
}

bool th_dtlsmem_pop(struct th_dtlsmem_queue *q, struct th_dtlsmem_dgram *out)
{
	if (q->n == 0)
		return false;
	*out = q->q[q->head];
	q->head = (q->head + 1) % TH_DTLSMEM_QUEUE;
	q->n--;
	return true;
}

static ssize_t cli_push(gnutls_transport_ptr_t ptr, const void *p, size_t len)
{
	struct th_dtlsmem_client *c = ptr;
	(void)c->output(c->user, p, len);
	return (ssize_t)len;
}

static ssize_t cli_pull(gnutls_transport_ptr_t ptr, void *p, size_t len)
{
	struct th_dtlsmem_client *c = ptr;
	if (!th_dtlsmem_pop(&c->in, &c->cur)) {
		gnutls_transport_set_errno(c->s, EAGAIN);
		return -1;
	}
	size_t n = c->cur.len < len ? c->cur.len : len;
	memcpy(p, c->cur.b, n);
	return (ssize_t)n;
}

static int cli_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct th_dtlsmem_client *c = ptr;
	(void)ms;
	return c->in.n > 0 ? 1 : 0;
}

static int endpoint_init(struct th_dtlsmem_client *c, unsigned flags, const char *priority,
			 gnutls_certificate_credentials_t cred, unsigned retrans_ms,
			 int (*output)(void *user, const uint8_t *p, size_t len), void *user)
{
	memset(c, 0, sizeof(*c));
	c->output = output;
	c->user = user;
	if (gnutls_init(&c->s, flags | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK) < 0) {
		c->s = NULL;
		return -ENOMEM;
	}
	if (gnutls_priority_set_direct(c->s, priority, NULL) < 0 ||
	    gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, cred) < 0) {
		th_dtlsmem_client_fini(c);
		return -EINVAL;
	}
	gnutls_transport_set_ptr(c->s, c);
	gnutls_transport_set_push_function(c->s, cli_push);
	gnutls_transport_set_pull_function(c->s, cli_pull);
	gnutls_transport_set_pull_timeout_function(c->s, cli_pull_timeout);
	gnutls_dtls_set_mtu(c->s, TH_DTLSMEM_MTU);
	gnutls_dtls_set_timeouts(c->s, retrans_ms, TH_DTLSMEM_TOTAL_MS);
	return 0;
}

int th_dtlsmem_client_init(struct th_dtlsmem_client *c, gnutls_certificate_credentials_t cred,
			   unsigned retrans_ms, int (*output)(void *user, const uint8_t *p, size_t len),
			   void *user)
{
	return endpoint_init(c, GNUTLS_CLIENT, TH_DTLSMEM_PRIORITY, cred, retrans_ms, output, user);
}

int th_dtlsmem_server_init(struct th_dtlsmem_client *c, gnutls_certificate_credentials_t cred,
			   unsigned retrans_ms, int (*output)(void *user, const uint8_t *p, size_t len),
			   void *user)
{
	int rv = endpoint_init(c, GNUTLS_SERVER, TH_DTLSMEM_SERVER_PRIORITY, cred, retrans_ms, output, user);
	if (rv == 0)
		gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUIRE);
	return rv;
}

void th_dtlsmem_client_fini(struct th_dtlsmem_client *c)
{
	if (c->s)
		gnutls_deinit(c->s);
	c->s = NULL;
}

int th_dtlsmem_client_step(struct th_dtlsmem_client *c)
{
	if (c->done)
		return 1;
	if (c->err)
		return c->err;
	int g = gnutls_handshake(c->s);
	if (g == 0) {
		c->done = true;
		return 1;
	}
	if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(g))
		return 0;
	c->err = g;
	return g;
}

ssize_t th_dtlsmem_client_recv(struct th_dtlsmem_client *c, uint8_t *buf, size_t cap)
{
	ssize_t r;
	do {
		r = gnutls_record_recv(c->s, buf, cap);
	} while (r == GNUTLS_E_INTERRUPTED);
	return r;
}

int th_dtlsmem_client_peer_fp(struct th_dtlsmem_client *c, uint8_t fp[32])
{
	unsigned n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(c->s, &n);
	if (!peers || n == 0)
		return -ENOENT;
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, peers[0].data, peers[0].size, fp) < 0 ? -EIO : 0;
}
