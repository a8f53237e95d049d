/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * notify.c: the parent's side of the service manager's notification
 * protocol (sd_notify(3)), used when NOTIFY_SOCKET is set: READY=1 once
 * both children said they serve, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1, a STATUS= line, and the watchdog.  The parent knows that a
 * child lives from its heartbeats: every tick it sends each child
 * MSG_HEARTBEAT, which the child answers with MSG_ALIVE from its event
 * loop; WATCHDOG=1 goes out only when every child answered the previous
 * one, so a child that hangs stops the pings as surely as one that died.
 * The children never see NOTIFY_SOCKET.
 */

#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "proc.h"

#define NOTIFY_MAX_CHILDREN	(1 + CONF_MAX_WORKERS)
#define NOTIFY_STATUS_MS	10000	/* between two STATUS= lines */

static struct notify_child {
	int			ready;		/* it said it serves */
	uint32_t		answered;	/* last heartbeat answered */
	struct msg_alive	alive;		/* what it said then */
} notify_children[NOTIFY_MAX_CHILDREN];

static int		  notify_on;
static int		  notify_nchildren;
static int		(*notify_beat)(uint32_t);
static uint64_t		  notify_wd_usec;	/* 0: no watchdog */
static uint32_t		  notify_seq;		/* the last heartbeat sent */
static uint32_t		  notify_reload_seq;	/* 0: no reload under way */
static int		  notify_ready;		/* READY=1 was sent */
static int		  notify_stopping_sent;
static int		  notify_reload_failed;
static struct event	  notify_ev;
static struct log_rate	  notify_rl_send, notify_rl_wd;

static void	notify_send(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static int	notify_all_answered(uint32_t);
static void	notify_status(const char *);
static void	notify_tick(int, short, void *);
static void	notify_schedule(void);

static void
notify_send(const char *fmt, ...)
{
#ifdef HAVE_LIBSYSTEMD
	char	buf[512];
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((r = sd_notify(0, buf)) < 0)
		log_rate(&notify_rl_send, LOG_WARNING, "sd_notify: %s",
		    strerror(-r));
#else
	(void)fmt;
#endif
}

/*
 * Whether to speak the protocol, and how often the watchdog wants a ping;
 * beat sends heartbeat id to every child and fails when one is gone.
 */
void
notify_init(int nchildren, int (*beat)(uint32_t))
{
	uint64_t	usec = 0;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
#ifndef HAVE_LIBSYSTEMD
	log_warnx("NOTIFY_SOCKET is set, but dns44 was built without "
	    "libsystemd: the service manager hears nothing from it");
	return;
#else
	if (sd_watchdog_enabled(0, &usec) <= 0)
		usec = 0;
#endif
	if (nchildren > NOTIFY_MAX_CHILDREN)
		fatalx("%s: %d children", __func__, nchildren);
	notify_on = 1;
	notify_nchildren = nchildren;
	notify_beat = beat;
	if ((notify_wd_usec = usec) != 0)
		log_debug("watchdog: a ping every %llums",
		    (unsigned long long)(usec / 2000));
	evtimer_set(&notify_ev, notify_tick, NULL);
	notify_schedule();
	notify_send("STATUS=starting");
}

/* In a child about to exec: the protocol is the parent's alone. */
void
notify_child_env(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/* Every ready child answered heartbeat seq (or a later one). */
static int
notify_all_answered(uint32_t seq)
{
	int	i;

	for (i = 0; i < notify_nchildren; i++)
		if (!notify_children[i].ready ||
		    notify_children[i].answered < seq)
			return (0);
	return (1);
}

/* The state, the children's counts, and whether a reload failed. */
static void
notify_status(const char *state)
{
	uint32_t	names = 0, conns = 0, sessions = 0;
	int		i;

	for (i = 0; i < notify_nchildren; i++) {
		names += notify_children[i].alive.names;
		conns += notify_children[i].alive.conns;
		sessions += notify_children[i].alive.sessions;
	}
	notify_send("STATUS=%s: %u names mapped, %u connections, "
	    "%u sessions%s", state, names, conns, sessions,
	    notify_reload_failed ? "; the last reload failed, see the log" :
	    "");
}

/* Child i answered heartbeat id (0: its word at start that it serves). */
void
notify_alive(int i, uint32_t id, const struct msg_alive *a)
{
	struct notify_child	*c;

	if (!notify_on || i < 0 || i >= notify_nchildren)
		return;
	c = &notify_children[i];
	c->alive = *a;
	/* A child echoes what it was sent, so no id comes from later. */
	if (id <= notify_seq && id > c->answered)
		c->answered = id;
	c->ready = 1;
	if (notify_stopping_sent)
		return;
	if (!notify_ready && notify_all_answered(0)) {
		notify_ready = 1;
		notify_send("READY=1");
		notify_status("running");
		log_debug("service manager told: ready");
	}
	if (notify_reload_seq != 0 && notify_all_answered(notify_reload_seq)) {
		notify_reload_seq = 0;
		notify_send("READY=1");
		notify_status("running");
		log_debug("service manager told: reloaded");
	}
}

void
notify_reloading(void)
{
	struct timespec	ts;

	if (!notify_on || !notify_ready || notify_stopping_sent)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

/*
 * The reload is over.  A new configuration went to the children: ready
 * again once each answered a heartbeat sent after it, by then applied.
 * A refused one: the running configuration stays, ready at once.
 */
void
notify_reloaded(int ok)
{
	if (!notify_on || !notify_ready || notify_stopping_sent)
		return;
	notify_reload_failed = !ok;
	if (ok) {
		notify_reload_seq = ++notify_seq;
		if (notify_beat(notify_reload_seq) == 0)
			return;
		notify_reload_seq = 0;
	}
	notify_send("READY=1");
	notify_status("running");
}

void
notify_stopping(void)
{
	if (!notify_on || notify_stopping_sent)
		return;
	notify_stopping_sent = 1;
	evtimer_del(&notify_ev);
	notify_send("STOPPING=1\nSTATUS=stopping");
}

static void
notify_schedule(void)
{
	struct timeval	tv;
	uint64_t	ms = NOTIFY_STATUS_MS;

	if (notify_wd_usec != 0 && notify_wd_usec / 2000 < ms)
		ms = notify_wd_usec / 2000;
	if (ms == 0)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(&notify_ev, &tv);
}

/*
 * Half the watchdog's interval (or the status period): WATCHDOG=1 if each
 * child answered the last heartbeat, or, still starting, at least runs;
 * then the next heartbeat, and a fresh STATUS= line.
 */
static void
notify_tick(int fd, short ev, void *arg)
{
	int	i, ok;

	(void)fd;
	(void)ev;
	(void)arg;
	if (notify_stopping_sent)
		return;
	ok = 1;
	for (i = 0; i < notify_nchildren; i++)
		if (notify_children[i].ready &&
		    notify_children[i].answered < notify_seq)
			ok = 0;
	if (notify_beat(++notify_seq) == -1)
		ok = 0;
	if (notify_wd_usec != 0) {
		if (ok)
			notify_send("WATCHDOG=1");
		else
			log_rate(&notify_rl_wd, LOG_WARNING, "watchdog: a "
			    "child did not answer its heartbeat; no ping");
	}
	if (notify_ready && notify_reload_seq == 0)
		notify_status("running");
	notify_schedule();
}
