#include "th_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char th_log_ident[32] = "theta";
static int th_log_level = LOG_INFO;
static int th_log_journal;

static const char *const th_log_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void th_log_init(const char *ident)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;

	snprintf(th_log_ident, sizeof(th_log_ident), "%s", ident ? ident : "theta");
	th_log_journal = 0;
	if (js && fstat(STDERR_FILENO, &st) == 0) {
		uintmax_t dev, ino;
		if (sscanf(js, "%ju:%ju", &dev, &ino) == 2 && dev == (uintmax_t)st.st_dev &&
		    ino == (uintmax_t)st.st_ino)
			th_log_journal = 1;
	}
}

void th_log_set_level(int prio)
{
	if (prio >= LOG_EMERG && prio <= LOG_DEBUG)
		th_log_level = prio;
}

int th_log_get_level(void)
{
	return th_log_level;
}

int th_log_is_journal(void)
{
	return th_log_journal;
}

int th_log_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "err"))
		return LOG_ERR;
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (!strcmp(s, th_log_names[i]))
			return i;
	return -EINVAL;
}

void th_logv(int prio, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;

	if (prio > th_log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (th_log_journal)
		fprintf(stderr, "<%d>%s\n", prio, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", th_log_ident, th_log_names[prio & 7], msg);
	errno = saved;
}

void th_log(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	th_logv(prio, fmt, ap);
	va_end(ap);
}
