/* A minimal HTTP/1.1 client for tests of the web endpoint (thetad/web):
 * one request per TCP connection (Connection: close), the reply read to
 * the end. Plain HTTP only; no redirects, no chunked uploads. */
#pragma once
#include <stddef.h>
#include <sys/socket.h>

#define TH_HTTP_BODY_MAX (4u * 1024u * 1024u)

struct th_http_reply {
	int status;           /* 200, 404, ...; 0 when no status line came */
	char headers[4096];   /* the header lines as received, NUL-terminated */
	char *body;           /* malloc'd, NUL-terminated (th_http_reply_free) */
	size_t len;
};

/* method and path as sent (path not escaped); body may be NULL; from (may
 * be NULL) the address to send from (port 0: any). 0, or a negative errno
 * (-ETIMEDOUT after timeout_ms, -EPROTO for a reply that is not HTTP or
 * larger than TH_HTTP_BODY_MAX). */
int th_http_request(const struct sockaddr *to, socklen_t tolen, const struct sockaddr *from, const char *method,
		    const char *path,
		    const char *content_type, const char *body, size_t body_len, struct th_http_reply *out,
		    int timeout_ms);
/* The same to 127.0.0.1:port. */
int th_http_local(unsigned port, const char *method, const char *path, const char *content_type, const char *body,
		  size_t body_len, struct th_http_reply *out, int timeout_ms);
/* A header's value (case-insensitive name) into out[cap]; 0 or -ENOENT. */
int th_http_header(const struct th_http_reply *r, const char *name, char *out, size_t cap);
void th_http_reply_free(struct th_http_reply *r);

/* The same over TLS (GnuTLS, TLS 1.2 or 1.3) to 127.0.0.1:port: the
 * server's certificate must hash (SHA-256 over its DER) to fp[32], as a
 * theta invite's fp says; -EKEYREJECTED when it does not. */
int th_https_local(unsigned port, const unsigned char fp[32], const char *method, const char *path,
		   struct th_http_reply *out, int timeout_ms);
