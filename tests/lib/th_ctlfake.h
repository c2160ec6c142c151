/* A stand-in control.sock for thetactl's tests (tests/thetactl/): a thread
 * listens on DIR/control.sock, DIR a fresh temporary directory (pass it as
 * --runtime-dir), and answers each framed request (ctlproto.h) of a
 * connection, up to TH_CTLFAKE_REQS_MAX of them, with the body the test's
 * answer function writes. th_ctlfake_start fails the running cmocka test
 * when the socket cannot be made. */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define TH_CTLFAKE_REQ_MAX 4096     /* bytes of a request's body; a longer one ends the connection */
#define TH_CTLFAKE_BODY_MAX 65536   /* bytes of a reply's body */
#define TH_CTLFAKE_REQS_MAX 8       /* requests one connection may carry (ctl_open + ctl_call_on) */
#define TH_CTLFAKE_IDLE_MS 2000     /* a connection quiet this long is closed */

/* The reply's body to request req (its JSON text, NUL-terminated) written
 * into body[cap]: its length, or negative to answer nothing (the connection
 * then ends). Runs on the fake's thread. */
typedef int (*th_ctlfake_answer_fn)(void *ud, const char *req, char *body, size_t cap);

struct th_ctlfake {
	char dir[256];
	int lfd;
	atomic_bool stop;
	pthread_t thr;
	th_ctlfake_answer_fn answer;
	void *ud;
};

void th_ctlfake_start(struct th_ctlfake *f, th_ctlfake_answer_fn answer, void *ud);
/* Stops the thread, closes the socket and removes DIR. */
void th_ctlfake_stop(struct th_ctlfake *f);
