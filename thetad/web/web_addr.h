/* The web endpoint's address ([web] listen): a numeric IPv4 address or a
 * bracketed IPv6 address, then ':' and a port (0: any free one), as in
 * "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8443". Pure: no socket, no log. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define WEB_ADDR_TEXT_MAX 64u /* "[v6]:port" at most */

/* 0 and *out / *len, or -EINVAL with why (static, one phrase) saying what
 * is wrong ("the port is not a number from 0 to 65535"). */
int web_addr_parse(const char *text, struct sockaddr_storage *out, socklen_t *len, const char **why);
/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool web_addr_is_loopback(const struct sockaddr *a);
/* 0.0.0.0 and ::. */
bool web_addr_is_any(const struct sockaddr *a);
/* "1.2.3.4:80" or "[::1]:80" into out[cap] (port as the address has it);
 * the length, or -ENOSPC, -EAFNOSUPPORT. */
int web_addr_format(const struct sockaddr *a, char *out, size_t cap);
/* The same without the port ("1.2.3.4", "[::1]"). */
int web_addr_format_host(const struct sockaddr *a, char *out, size_t cap);
/* ::ffff:a.b.c.d becomes a.b.c.d (in place); others unchanged. */
void web_addr_unmap(struct sockaddr_storage *a, socklen_t *len);
unsigned web_addr_port(const struct sockaddr *a);
void web_addr_set_port(struct sockaddr *a, unsigned port);
