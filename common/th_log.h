/* Logging for daemons and tools. When stderr is connected to the journal
 * (JOURNAL_STREAM names stderr's device:inode) each line gets a syslog
 * "<N>" priority prefix that journald turns into PRIORITY=; otherwise lines
 * read "IDENT: level: message". Library code does not log; it returns codes. */
#pragma once
#include <stdarg.h>
#include <syslog.h>

void th_log_init(const char *ident);
/* Messages above this priority (LOG_DEBUG is highest) are dropped. */
void th_log_set_level(int prio);
int th_log_get_level(void);
/* Parses "debug", "info", "notice", "warning", "err"/"error", "crit"; -EINVAL otherwise. */
int th_log_level_from_string(const char *s);
int th_log_is_journal(void);

void th_logv(int prio, const char *fmt, va_list ap);
__attribute__((format(printf, 2, 3))) void th_log(int prio, const char *fmt, ...);

#define th_err(...)    th_log(LOG_ERR, __VA_ARGS__)
#define th_warn(...)   th_log(LOG_WARNING, __VA_ARGS__)
#define th_notice(...) th_log(LOG_NOTICE, __VA_ARGS__)
#define th_info(...)   th_log(LOG_INFO, __VA_ARGS__)
#define th_debug(...)  th_log(LOG_DEBUG, __VA_ARGS__)
