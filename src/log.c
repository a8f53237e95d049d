/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * log.c: logging for every process role.  Until log_init() lines go to
 * stderr as they are (start-up and configuration errors, dns44 -n).  Then,
 * in the foreground (-d), to stderr with a time stamp and the process role;
 * otherwise to syslog, whose socket is opened before a child chroots.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static int		 log_stderr = 1;
static int		 log_plain = 1;
static int		 log_verbose;
static const char	*log_procname = "parent";

void
log_init(int foreground, int facility)
{
	log_stderr = foreground;
	log_plain = 0;
	if (!foreground)
		openlog("dns44", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		log_procname = name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char		 stamp[32], line[2048];
	struct timeval	 tv;
	struct tm	 tm;
	int		 saved_errno = errno;

	if (!log_stderr) {
		vsyslog(pri, fmt, ap);
		errno = saved_errno;
		return;
	}
	if (log_plain) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		errno = saved_errno;
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
	/* One write, so lines of different processes do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s.%06ld %s: %s\n", stamp, (long)tv.tv_usec,
	    log_procname, line);
	fflush(stderr);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, int code, const char *fmt, va_list ap)
{
	char	buf[1024];

	if (fmt == NULL) {
		logit(pri, "%s", strerror(code));
		return;
	}
	vsnprintf(buf, sizeof(buf), fmt, ap);
	logit(pri, "%s: %s", buf, strerror(code));
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
