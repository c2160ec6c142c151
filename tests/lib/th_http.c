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

int th_http_request(const struct sockaddr *to, socklen_t tolen, const char *method, const char *path,
		    const char *content_type, const char *body, size_t body_len, struct th_http_reply *out,
		    int timeout_ms)
{
	memset(out, 0, sizeof *out);
	long long deadline = now_ms() + timeout_ms;
	int fd = socket(to->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r = 0;
	if (fd < 0)
		return -errno;
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
	return th_http_request((struct sockaddr *)&a, sizeof a, method, path, content_type, body, body_len, out,
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
