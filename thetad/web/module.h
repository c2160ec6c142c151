/* The web daemon module (docs/web.md): off unless [web] listen is set.
 * It serves the browser client's files and POST /offer (web_http.h),
 * owns the UDP socket of every browser peer's WebRTC transport
 * (web_peer.h), and attaches each browser to the IPC server as a client
 * (web_bridge.h), admitted by the sessions module from an invite token
 * (sess_module_browser_admit). Starts after voice. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct srv_module;
extern const struct srv_module web_module;

/* The browser link for an invite (printed beside theta://): "http://" on
 * a loopback listen address, else "https://", then HOST:PORT/#s=SESSION&
 * fp=FP&token=TOKEN (the token in the fragment never reaches a server
 * log). host: as the theta:// link names it. Returns the length, -ENOSPC,
 * or -ENOTCONN when the web endpoint is off. */
int web_module_invite_link(void *state, const char *host, const uint8_t session_id[16], const char *fp_hex,
			   const char *token_b64, char *out, size_t cap);
