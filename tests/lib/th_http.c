#include "th_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const char *p, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET ? 0 : -errno; /* the server may answer early */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int th_http_request(const struct sockaddr *to, socklen_t tolen, const struct sockaddr *from, const char *method,
		    const char *path,
		    const char *content_type, const char *body, size_t body_len, struct th_http_reply *out,
		    int timeout_ms)
{
	memset(out, 0, sizeof *out);
	long long deadline = now_ms() + timeout_ms;
	int fd = socket(to->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r = 0;
	if (fd < 0)
		return -errno;
	if (from && bind(fd, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, to, tolen) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
		goto out;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		r = -soerr;
		goto out;
	}
	char head[1024];
	int hn = snprintf(head, sizeof head,
			  "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s%s%s"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, content_type ? "Content-Type: " : "", content_type ? content_type : "",
			  content_type ? "\r\n" : "", body ? body_len : 0);
	if (hn < 0 || (size_t)hn >= sizeof head) {
		r = -ENAMETOOLONG;
		goto out;
	}
	if ((r = send_all(fd, head, (size_t)hn, deadline)) < 0 || (body && (r = send_all(fd, body, body_len, deadline)) < 0))
		goto out;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= TH_HTTP_BODY_MAX + sizeof out->headers) {
				free(buf);
				r = -EPROTO;
				goto out;
			}
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET && len))
			break;
		if (errno == EAGAIN || errno == EINTR) {
			if ((r = wait_fd(fd, POLLIN, deadline)) < 0) {
				free(buf);
				goto out;
			}
			continue;
		}
		r = -errno;
		free(buf);
		goto out;
	}
	buf[len] = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		free(buf);
		r = -EPROTO;
		goto out;
	}
	size_t hl = (size_t)(sep - buf);
	snprintf(out->headers, sizeof out->headers, "%.*s", (int)hl, buf);
	out->len = len - hl - 4;
	out->body = malloc(out->len + 1);
	if (!out->body) {
		free(buf);
		r = -ENOMEM;
		goto out;
	}
	memcpy(out->body, sep + 4, out->len);
	out->body[out->len] = 0;
	free(buf);
out:
	close(fd);
	return r;
}

int th_http_local(unsigned port, const char *method, const char *path, const char *content_type, const char *body,
		  size_t body_len, struct th_http_reply *out, int timeout_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return th_http_request((struct sockaddr *)&a, sizeof a, NULL, method, path, content_type, body, body_len, out,
			       timeout_ms);
}

int th_http_header(const struct th_http_reply *r, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(r->headers, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (!strncasecmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			size_t vl = e ? (size_t)(e - v) : strlen(v);
			snprintf(out, cap, "%.*s", (int)vl, v);
			return 0;
		}
	}
	return -ENOENT;
}

void th_http_reply_free(struct th_http_reply *r)
{
	free(r->body);
	r->body = NULL;
}

/* ---- TLS ------------------------------------------------------------------------------ */

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/time.h>

static int th_https_verify(gnutls_session_t s)
{
	const unsigned char *fp = gnutls_session_get_ptr(s);
	unsigned n = 0;
	const gnutls_datum_t *c = gnutls_certificate_get_peers(s, &n);
	unsigned char h[32];
	if (!c || n == 0 || gnutls_hash_fast(GNUTLS_DIG_SHA256, c[0].data, c[0].size, h) < 0 || memcmp(h, fp, 32))
		return GNUTLS_E_CERTIFICATE_ERROR;
	return 0;
}

int th_https_local(unsigned port, const unsigned char fp[32], const char *method, const char *path,
		   struct th_http_reply *out, int timeout_ms)
{
	memset(out, 0, sizeof *out);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	char *buf = NULL;
	if (gnutls_certificate_allocate_credentials(&cred) < 0 || gnutls_init(&s, GNUTLS_CLIENT) < 0) {
		r = -ENOMEM;
		goto out;
	}
	gnutls_certificate_set_verify_function(cred, th_https_verify);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_set_default_priority(s);
	gnutls_session_set_ptr(s, (void *)fp);
	gnutls_transport_set_int(s, fd);
	int g;
	do
		g = gnutls_handshake(s);
	while (g < 0 && !gnutls_error_is_fatal(g));
	if (g < 0) {
		r = g == GNUTLS_E_CERTIFICATE_ERROR || g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? -EKEYREJECTED : -EPROTO;
		goto out;
	}
	char head[512];
	int hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method, path);
	if (hn < 0 || (size_t)hn >= sizeof head || gnutls_record_send(s, head, (size_t)hn) != hn) {
		r = -EIO;
		goto out;
	}
	size_t cap = 65536, len = 0;
	if (!(buf = malloc(cap + 1))) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = gnutls_record_recv(s, buf + len, cap - len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			r = -ETIMEDOUT;
			goto out;
		}
		if (n <= 0)
			break; /* close_notify, or the server closed the connection after the reply */
		len += (size_t)n;
		if (len == cap) {
			r = -EPROTO;
			goto out;
		}
	}
	buf[len] = 0;
	char *sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		r = -EPROTO;
		goto out;
	}
	snprintf(out->headers, sizeof out->headers, "%.*s", (int)(sep - buf), buf);
	out->len = len - (size_t)(sep - buf) - 4;
	if (!(out->body = malloc(out->len + 1))) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(out->body, sep + 4, out->len);
	out->body[out->len] = 0;
out:
	free(buf);
	if (s)
		gnutls_deinit(s);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	close(fd);
	return r;
}
