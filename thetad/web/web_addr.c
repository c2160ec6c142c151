#include "web/web_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_PORT_MAX 65535u

int web_addr_parse(const char *text, struct sockaddr_storage *out, socklen_t *len, const char **why)
{
	char host[WEB_ADDR_TEXT_MAX];
	const char *port, *w = NULL;
	size_t n = text ? strlen(text) : 0;
	if (n == 0 || n >= WEB_ADDR_TEXT_MAX) {
		w = "it is not an address and port";
		goto bad;
	}
	if (text[0] == '[') {
		const char *e = strchr(text, ']');
		if (!e || e[1] != ':') {
			w = "an IPv6 address is written in brackets, then ':' and the port";
			goto bad;
		}
		memcpy(host, text + 1, (size_t)(e - text - 1));
		host[e - text - 1] = 0;
		port = e + 2;
	} else {
		const char *c = strrchr(text, ':');
		if (!c) {
			w = "it has no ':PORT'";
			goto bad;
		}
		memcpy(host, text, (size_t)(c - text));
		host[c - text] = 0;
		port = c + 1;
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > WEB_PORT_MAX || *port == '-' || *port == '+') {
		w = "the port is not a number from 0 to 65535";
		goto bad;
	}
	memset(out, 0, sizeof *out);
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (text[0] != '[' && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof *a4;
	} else if (text[0] == '[' && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof *a6;
	} else {
		w = text[0] == '[' ? "the part in brackets is not an IPv6 address"
				   : "the host is not a numeric IPv4 address (IPv6 goes in brackets; names are not taken)";
		goto bad;
	}
	return 0;
bad:
	if (why)
		*why = w;
	return -EINVAL;
}

bool web_addr_is_loopback(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	if (a->sa_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(x))
			return true;
		return IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127;
	}
	return false;
}

bool web_addr_is_any(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
	return false;
}

int web_addr_format_host(const struct sockaddr *a, char *out, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	int n;
	if (a->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, t, sizeof t);
		n = snprintf(out, cap, "%s", t);
	} else if (a->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, t, sizeof t);
		n = snprintf(out, cap, "[%s]", t);
	} else {
		return -EAFNOSUPPORT;
	}
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int web_addr_format(const struct sockaddr *a, char *out, size_t cap)
{
	int n = web_addr_format_host(a, out, cap);
	if (n < 0)
		return n;
	int m = snprintf(out + n, cap - (size_t)n, ":%u", web_addr_port(a));
	return m < 0 || (size_t)m >= cap - (size_t)n ? -ENOSPC : n + m;
}

void web_addr_unmap(struct sockaddr_storage *a, socklen_t *len)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	if (a->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = a6->sin6_port };
	memcpy(&a4.sin_addr, a6->sin6_addr.s6_addr + 12, 4);
	memset(a, 0, sizeof *a);
	memcpy(a, &a4, sizeof a4);
	*len = sizeof a4;
}

unsigned web_addr_port(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

void web_addr_set_port(struct sockaddr *a, unsigned port)
{
	if (a->sa_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
	else if (a->sa_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
}
