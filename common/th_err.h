/* Error codes: functions return >= 0 on success, a negative errno on failure.
 * Project-specific failures use codes above TH_ERR_BASE (still returned
 * negated) so th_strerror() can name them; plain errno values pass through
 * to strerror(3). */
#pragma once

enum th_err {
	TH_ERR_BASE = 4096,
	TH_ECONFIG,      /* configuration file is invalid */
	TH_EPROTOHASH,   /* peer speaks another protocol/schema */
	TH_EVERSION,     /* peer speaks another protocol version */
	TH_ELOCKED,      /* another daemon holds the runtime lock */
	TH_ECORRUPT,     /* shared memory or file content violates its format */
	TH_EDENIED,      /* caller lacks the role or group for this request */
	TH_ERR_END,
};

/* Human text for a negative (or positive) error code; never NULL. */
const char *th_strerror(int err);
