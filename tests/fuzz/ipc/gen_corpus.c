/* Writes the seeds of the ipc_msg fuzz corpus (tests/fuzz/ipc/corpus/ipc_msg/):
 * one valid encoding of every message, prefixed with the fuzz target's u16
 * index into proto_ipc_descs, and the client.sock datagrams welcome_sock and
 * hello_sock (whole datagrams with this build's protocol hash). Not built by
 * the Makefile (no fuzz_ or test_ prefix); after a change to ipc_msgs.def,
 * run from the repository root:
 *
 *   make build/lib/libthcommon.a
 *   cc -std=gnu17 -D_GNU_SOURCE -Icommon -Iproto tests/fuzz/ipc/gen_corpus.c \
 *      build/lib/libthcommon.a -lsodium -lm -o /tmp/gen_corpus && /tmp/gen_corpus
 *
 * refuse_sock and the ring_consumer corpus are not written here. */
#include "ipc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void put(const char *name, uint16_t idx, const uint8_t *b, int n)
{
	char p[256];
	snprintf(p, sizeof p, "tests/fuzz/ipc/corpus/ipc_msg/%s", name);
	FILE *f = fopen(p, "wb");
	if (!f || n < 0) {
		fprintf(stderr, "gen_corpus: cannot write %s (run from the repository root)\n", p);
		exit(1);
	}
	uint8_t h[2] = { idx & 0xff, idx >> 8 };
	fwrite(h, 1, 2, f);
	fwrite(b, 1, (size_t)n, f);
	fclose(f);
}
static FILE *open_seed(const char *p)
{
	FILE *f = fopen(p, "wb");
	if (!f) {
		fprintf(stderr, "gen_corpus: cannot write %s (run from the repository root)\n", p);
		exit(1);
	}
	return f;
}

static int idx_of(uint16_t type)
{
	for (size_t i = 0; i < proto_ipc_n_descs; i++)
		if (proto_ipc_descs[i].type == type)
			return (int)i;
	return -1;
}
int main(void)
{
	static uint8_t b[PROTO_IPC_MAX_MSG];
	static uint8_t pcm[PROTO_IPC_VOICE_OUT_BYTES];
	for (unsigned i = 0; i < sizeof pcm; i++)
		pcm[i] = (uint8_t)(i * 29);
	struct proto_ipc_session_info si = { .session = 0x1122334455667788ull, .host = 2, .rtt_us = 250, .peers = 1,
					     .log_pos = 42, .speaking = 2, .voice = PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_SENDING };
	strcpy(si.name, "studio");
	strcpy(si.speakers, "alice\nbob");
	put("session_info", idx_of(PROTO_IPC_T_SESSION_INFO), b, proto_ipc_encode_session_info(&si, b, sizeof b));
	struct proto_ipc_voice_state vs = { .flags = PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT | PROTO_IPC_VOICE_F_TALK };
	put("voice_state", idx_of(PROTO_IPC_T_VOICE_STATE), b, proto_ipc_encode_voice_state(&vs, b, sizeof b));
	struct proto_ipc_voice_pcm vp = { .seq = 17, .t_ns = 123456789, .pcm = pcm, .pcm_len = PROTO_IPC_VOICE_PCM_BYTES };
	put("voice_pcm", idx_of(PROTO_IPC_T_VOICE_PCM), b, proto_ipc_encode_voice_pcm(&vp, b, sizeof b));
	struct proto_ipc_voice_out vo = { .seq = 18, .t_ns = 987654321, .pcm = pcm, .pcm_len = PROTO_IPC_VOICE_OUT_BYTES };
	put("voice_out", idx_of(PROTO_IPC_T_VOICE_OUT), b, proto_ipc_encode_voice_out(&vo, b, sizeof b));
	struct proto_ipc_welcome w = { .client_id = 0x1122334455667788ull, .shm_size = 0x1122334455667788ull,
				       .c2d_capacity = 262144, .c2d_max_record = 65852, .d2c_offset = 266240,
				       .d2c_capacity = 262144, .d2c_max_record = 65852, .n_fds = 3,
				       .vc2d_offset = 532480, .vc2d_capacity = 65536, .vc2d_max_record = 1936,
				       .vd2c_offset = 602112, .vd2c_capacity = 65536, .vd2c_max_record = 1936 };
	put("welcome", idx_of(PROTO_IPC_T_WELCOME), b, proto_ipc_encode_welcome(&w, b, sizeof b));
	int n = proto_ipc_sock_encode(PROTO_IPC_T_WELCOME, &w, b, sizeof b);
	/* The _sock seeds are whole datagrams: the fuzzer reads the first two
	 * bytes as the type too (0x41 0x00). */
	FILE *f = open_seed("tests/fuzz/ipc/corpus/ipc_msg/welcome_sock");
	fwrite(b, 1, (size_t)n, f);
	fclose(f);
	struct proto_ipc_hello h = { .pid = 0 };
	strcpy(h.name, "theta");
	n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
	f = open_seed("tests/fuzz/ipc/corpus/ipc_msg/hello_sock");
	fwrite(b, 1, (size_t)n, f);
	fclose(f);
	static uint8_t pay[64];
	memset(pay, 0x42, sizeof pay);
	struct proto_ipc_hello he = { .pid = 1234 };
	strcpy(he.name, "theta");
	put("hello", idx_of(PROTO_IPC_T_HELLO), b, proto_ipc_encode_hello(&he, b, sizeof b));
	struct proto_ipc_refuse rf = { .reason = PROTO_IPC_REFUSE_NOT_MEMBER };
	strcpy(rf.detail, "user bob is not a member of session studio");
	put("refuse", idx_of(PROTO_IPC_T_REFUSE), b, proto_ipc_encode_refuse(&rf, b, sizeof b));
	struct proto_ipc_cmd_submit cs = { .client_seq = 7, .nonce = 0x1122334455667788ull, .cmd_type = 3,
					   .scope = 9, .payload = pay, .payload_len = sizeof pay };
	put("cmd_submit", idx_of(PROTO_IPC_T_CMD_SUBMIT), b, proto_ipc_encode_cmd_submit(&cs, b, sizeof b));
	static uint8_t key[32];
	memset(key, 0x33, sizeof key);
	struct proto_ipc_event ev = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = 5, .lamport = 6, .author = key,
				      .author_len = sizeof key, .payload = pay, .payload_len = sizeof pay };
	put("event", idx_of(PROTO_IPC_T_EVENT), b, proto_ipc_encode_event(&ev, b, sizeof b));
	struct proto_ipc_frame_stats fs = { .frames = 1000, .frame_p50_ns = 11000000, .frame_p99_ns = 16000000,
					    .frame_max_ns = 20000000, .missed = 2, .sim_ns = 100000,
					    .render_ns = 3000000, .editor_ns = 50000 };
	put("frame_stats", idx_of(PROTO_IPC_T_FRAME_STATS), b, proto_ipc_encode_frame_stats(&fs, b, sizeof b));
	struct proto_ipc_resync_request rr = { .reason = PROTO_IPC_RESYNC_RECONNECTED, .session = 0x1122334455667788ull,
					       .next_pos = 42, .flags = PROTO_IPC_RESYNC_F_SCENE };
	put("resync_request", idx_of(PROTO_IPC_T_RESYNC_REQUEST), b, proto_ipc_encode_resync_request(&rr, b, sizeof b));
	struct proto_ipc_scene_chunk sc = { .session = 0x1122334455667788ull, .next_pos = 42, .total = 128,
					    .offset = 64, .host = key, .host_len = sizeof key, .bytes = pay,
					    .bytes_len = sizeof pay };
	put("scene_chunk", idx_of(PROTO_IPC_T_SCENE_CHUNK), b, proto_ipc_encode_scene_chunk(&sc, b, sizeof b));
	struct proto_ipc_scene_state ss = { .next_pos = 42, .world_hash = key, .world_hash_len = sizeof key,
					    .entities = 8 };
	put("scene_state", idx_of(PROTO_IPC_T_SCENE_STATE), b, proto_ipc_encode_scene_state(&ss, b, sizeof b));
	return 0;
}
