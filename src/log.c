/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * log.c: logging for every process role.  Until log_init() lines go to
 * stderr as they are (start-up and configuration errors, dns44 -n).  Then,
 * in the foreground (-d), to stderr with a time stamp and the process role;
 * otherwise to syslog, whose socket is opened before a child chroots.
 * When stderr is the journal (JOURNAL_STREAM names it), each line on it
 * starts with its syslog priority, <3> and the like, and has no time
 * stamp: journald keeps its own and reads the priority.
 * Also what keeps a line honest whoever runs it: names from the network
 * escaped, and floods of one kind of line cut to one a second.  A caller
 * may also collect the warnings and errors of a stretch of work, bounded,
 * to hand them to whoever asked for that work (a reload's file:line errors
 * for dns44ctl).
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_RATE_MS	1000	/* between two lines of one kind */
#define LOG_RATE_WAIT	3000	/* from a window's start to its lone count */
#define LOG_BATCH_SIZE	4096	/* PIPE_BUF: one write(2) of lines, whole */

static int		 log_stderr = 1;
static int		 log_plain = 1;
static int		 log_verbose;
static int		 log_journal = -1;	/* -1: not looked at yet */
static const char	*log_procname = "parent";
static char		*log_capture_buf;	/* NULL: not collecting */
static size_t		 log_capture_size, log_capture_len;
static unsigned int	 log_capture_lost;
static int		 log_capture_tee;	/* logged as well */
static void		(*log_batch_wake)(void);	/* NULL: no batch */
static char		 log_batch_buf[LOG_BATCH_SIZE];
static size_t		 log_batch_len;
static struct log_rate	*log_rate_open;		/* counts to report */
static void		(*log_rate_arm)(unsigned int);

static int		 log_ddd(const unsigned char *, unsigned int *);
static void		 log_capture_line(const char *, va_list)
			    __attribute__((__format__ (printf, 1, 0)));
static int		 log_is_journal(void);
static uint64_t		 log_rate_now(void);
static void		 log_rate_list(struct log_rate *);

/*
 * Whether stderr is the journal's stream: JOURNAL_STREAM holds its
 * device and inode, "dev:ino", and stderr must still be that file (a
 * shell may have sent it elsewhere since).
 */
static int
log_is_journal(void)
{
	struct stat		 st;
	const char		*env;
	unsigned long long	 dev, ino;
	char			 end;

	if (log_journal != -1)
		return (log_journal);
	log_journal = 0;
	if ((env = getenv("JOURNAL_STREAM")) == NULL ||
	    sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return (0);
	log_journal = (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
	return (log_journal);
}

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

/*
 * Collect the warnings and errors logged from now on into buf, one line
 * each, as many whole lines as fit; with tee they are logged as well.  A
 * NULL buf ends the collection.  Returns the number of lines that did not
 * fit.
 */
unsigned int
log_capture(char *buf, size_t size, int tee)
{
	unsigned int	lost = log_capture_lost;

	log_capture_buf = size > 0 ? buf : NULL;
	log_capture_tee = tee;
	log_capture_size = size;
	log_capture_len = 0;
	log_capture_lost = 0;
	if (log_capture_buf != NULL)
		log_capture_buf[0] = '\0';
	return (lost);
}

static void
log_capture_line(const char *fmt, va_list ap)
{
	char	line[1024];
	size_t	len;

	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	if (log_capture_len + len + 2 > log_capture_size) {
		log_capture_lost++;
		return;
	}
	memcpy(log_capture_buf + log_capture_len, line, len);
	log_capture_len += len;
	log_capture_buf[log_capture_len++] = '\n';
	log_capture_buf[log_capture_len] = '\0';
}

/*
 * A line to stderr in one write(2), so that the lines of the processes
 * do not mix: the prefix ("<pri>" for the journal, a time stamp and the
 * role in the foreground), the message cut to what fits, a newline.
 */
static void
log_line(int pri, const char *fmt, va_list ap)
{
	static time_t	 stamp_sec = -1;
	static char	 stamp[32];
	char		 line[2048];
	struct timeval	 tv;
	struct tm	 tm;
	size_t		 n = 0;
	ssize_t		 w;
	int		 m;

	if (log_is_journal())
		m = log_plain ?
		    snprintf(line, sizeof(line), "<%d>", LOG_PRI(pri)) :
		    snprintf(line, sizeof(line), "<%d>%s: ", LOG_PRI(pri),
		    log_procname);
	else if (log_plain)
		m = 0;
	else {
		/* The date and time change once a second. */
		gettimeofday(&tv, NULL);
		if (tv.tv_sec != stamp_sec) {
			localtime_r(&tv.tv_sec, &tm);
			strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S",
			    &tm);
			stamp_sec = tv.tv_sec;
		}
		m = snprintf(line, sizeof(line), "%s.%06ld %s: ", stamp,
		    (long)tv.tv_usec, log_procname);
	}
	if (m > 0)
		n = (size_t)m < sizeof(line) / 2 ? (size_t)m : 0;
	/* Room for the newline; vsnprintf() ends with a NUL it replaces. */
	if ((m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap)) > 0)
		n += (size_t)m < sizeof(line) - n - 2 ? (size_t)m :
		    sizeof(line) - n - 2;
	line[n++] = '\n';
	if (log_batch_wake != NULL && LOG_PRI(pri) >= LOG_NOTICE) {
		if (log_batch_len + n > sizeof(log_batch_buf))
			log_flush();
		if (log_batch_len == 0)
			log_batch_wake();
		memcpy(log_batch_buf + log_batch_len, line, n);
		log_batch_len += n;
		return;
	}
	log_flush();
	while ((w = write(STDERR_FILENO, line, n)) == -1 && errno == EINTR)
		;
}

/*
 * From now on the notices, informational and debug lines to stderr go out
 * together, as many as fit one write(2) of whole lines (so that the
 * processes' lines still do not mix): wake is called when a line waits,
 * and the caller calls log_flush() before it next sleeps; exit() flushes
 * too.  A warning or worse goes at once, after those waiting, so that a
 * crash that follows it does not take it along.  A busy proxy so writes
 * its journal once a turn of its loop, not twice a connection.
 */
void
log_batch(void (*wake)(void))
{
	if (log_batch_wake == NULL && atexit(log_flush) != 0)
		return;
	log_batch_wake = wake;
}

void
log_flush(void)
{
	size_t	off = 0;
	ssize_t	w;
	int	saved_errno = errno;

	while (off < log_batch_len) {
		if ((w = write(STDERR_FILENO, log_batch_buf + off,
		    log_batch_len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;		/* lost, as a line alone would be */
		}
		off += (size_t)w;
	}
	log_batch_len = 0;
	errno = saved_errno;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	va_list		 cp;
	int		 saved_errno = errno;

	if (log_capture_buf != NULL && pri <= LOG_WARNING) {
		va_copy(cp, ap);
		log_capture_line(fmt, cp);
		va_end(cp);
		if (!log_capture_tee) {
			errno = saved_errno;
			return;
		}
	}
	if (!log_stderr)
		vsyslog(pri, fmt, ap);
	else
		log_line(pri, fmt, ap);
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

/*
 * A line of kind r at most r->burst times a second (once when 0).  The
 * count of those left out goes with the next line logged after the
 * second, or, when none comes in the two seconds after it, on a line of
 * its own from log_rate_expire(): a burst followed by silence is counted
 * too, and a flood still makes a line a second.
 */
void
log_rate(struct log_rate *r, int pri, const char *fmt, ...)
{
	char		 line[2048];
	va_list		 ap;
	uint64_t	 now;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	if ((now = log_rate_now()) == 0)
		return;
	if (r->last == 0 || now - r->last >= LOG_RATE_MS) {
		r->last = now;
		r->logged = 0;
	}
	if (r->logged >= (r->burst > 0 ? r->burst : 1)) {
		if (r->suppressed++ == 0)
			log_rate_list(r);
		return;
	}
	r->logged++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r->suppressed > 0)
		logit(pri, "%s (%u more like it suppressed)", line,
		    r->suppressed);
	else
		logit(pri, "%s", line);
	r->suppressed = 0;
	if (r->logged == 1) {
		r->pri = pri;
		strlcpy(r->what, line, sizeof(r->what));
		if (strlen(line) >= sizeof(r->what))
			memcpy(r->what + sizeof(r->what) - 4, "...", 4);
	}
}

/* Milliseconds of the monotonic clock, never 0; 0 when it cannot be read. */
static uint64_t
log_rate_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == -1)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1);
}

/* A count begun: report it once its window and two more seconds are over. */
static void
log_rate_list(struct log_rate *r)
{
	if (!r->listed) {
		r->listed = 1;
		r->next = log_rate_open;
		log_rate_open = r;
	}
	if (log_rate_arm != NULL)
		log_rate_arm(LOG_RATE_WAIT);
}

/*
 * The process's timer: fn(ms) asks to have log_rate_expire() called in ms
 * milliseconds (or sooner, if already asked).  Without one, a count waits
 * for the next line of its kind.
 */
void
log_rate_timer(void (*fn)(unsigned int))
{
	log_rate_arm = fn;
}

/*
 * Log the counts no line of their kind has reported in the two seconds
 * after their window.  Returns the milliseconds until the next is due,
 * -1 when none is left.
 */
int
log_rate_expire(void)
{
	struct log_rate	**rp, *r;
	uint64_t	  now, due, next = 0;

	if ((now = log_rate_now()) == 0)
		return (LOG_RATE_MS);
	for (rp = &log_rate_open; (r = *rp) != NULL;) {
		due = r->last + LOG_RATE_WAIT;
		if (r->suppressed > 0 && now < due) {
			if (next == 0 || due < next)
				next = due;
			rp = &r->next;
			continue;
		}
		if (r->suppressed > 0) {
			logit(r->pri, "%u more like \"%s\" suppressed",
			    r->suppressed, r->what);
			r->suppressed = 0;
		}
		*rp = r->next;
		r->next = NULL;
		r->listed = 0;
	}
	return (next == 0 ? -1 : (int)(next - now));
}

/* Three digits of a byte's value, as in \DDD. */
static int
log_ddd(const unsigned char *p, unsigned int *c)
{
	unsigned int	v;

	if (!isdigit(p[0]) || !isdigit(p[1]) || !isdigit(p[2]))
		return (0);
	v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (v > 255)
		return (0);
	*c = v;
	return (1);
}

/*
 * A domain name in presentation form (as ldns prints it, or as the map
 * keeps it) made safe for a log line: letters, digits, '.', '_' and '-'
 * stay, every other byte becomes \DDD, so that no name can end a line or
 * look like the punctuation around it.  An escape already in the name
 * (\DDD, or \ and a character) stands for one byte and is written as
 * that byte's \DDD.  The result never ends inside an escape.
 */
const char *
log_name(const char *in, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 o = 0;
	unsigned int		 c;
	char			 esc[5];
	int			 dot;

	if (outlen == 0)
		return (out);
	for (; *p != '\0'; p++) {
		c = *p;
		dot = c == '.';		/* a dot between labels, not in one */
		if (c == '\\' && log_ddd(p + 1, &c))
			p += 3;
		else if (c == '\\' && p[1] != '\0')
			c = *++p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || dot || c == '_' || c == '-') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= outlen)
			break;
		snprintf(esc, sizeof(esc), "\\%03u", c);
		memcpy(out + o, esc, 4);
		o += 4;
	}
	out[o] = '\0';
	return (out);
}
