/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * log.h: logging for every process.  Messages go to stderr in the
 * foreground (-d) and to syslog otherwise.
 */

#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A name at its longest once escaped: each byte as \DDD, and the NUL. */
#define LOG_NAME_MAX	(4 * 255 + 1)

/* What of a limited line the count of those suppressed recalls. */
#define LOG_RATE_WHAT	120

/*
 * A kind of log line that a flood must not repeat more than burst times a
 * second (once when 0).  A limiter lives as long as its process (static):
 * log.c keeps those with a count to report.
 */
struct log_rate {
	uint64_t	 last;		/* ms, monotonic: the window's start */
	unsigned int	 burst;
	unsigned int	 logged;	/* in this window */
	unsigned int	 suppressed;
	int		 pri;
	int		 listed;
	struct log_rate	*next;		/* with a count to report */
	char		 what[LOG_RATE_WHAT];	/* the window's first line */
};

void	log_init(int, int);
void	log_procinit(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
unsigned int log_capture(char *, size_t, int);
void	log_batch(void (*)(void));
void	log_flush(void);
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
void	log_rate(struct log_rate *, int, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4)));
void	log_rate_timer(void (*)(unsigned int));
int	log_rate_expire(void);
const char *log_name(const char *, char *, size_t);
void	fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2), __noreturn__));
void	fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2), __noreturn__));

#endif /* LOG_H */
