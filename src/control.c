/*
 * control.c: the control socket, served by the dns process.  Each client
 * is a message channel; requests that need the parent are forwarded to it
 * under a fresh id and its answer is relayed back to the client.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

#define CONTROL_MAX_CLIENTS	32
#define CONTROL_IDLE_SEC	30
#define CONTROL_PAUSE_SEC	1	/* accept paused when out of fds */

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct chan		 chan;
	struct event		 ev_idle;
	uint32_t		 serial;	/* id of a forwarded request */
	uint32_t		 req_id;	/* the client's id for it */
	pid_t			 pid;
	uid_t			 uid;
};

static TAILQ_HEAD(, ctl_client)	 ctl_clients =
    TAILQ_HEAD_INITIALIZER(ctl_clients);
static int			 ctl_nclients;
static uint32_t			 ctl_serial;
static struct event		 ctl_ev_accept;
static struct event		 ctl_ev_pause;
static struct chan		*ctl_parent;
static int			 ctl_fd = -1;

static void	control_accept(int, short, void *);
static void	control_resume(int, short, void *);
static void	control_dispatch(struct chan *, struct msg *);
static void	control_closed(struct chan *, int);
static void	control_idle(int, short, void *);
static void	control_drop(struct ctl_client *);
static void	control_touch(struct ctl_client *);

void
control_init(int fd, struct chan *parent)
{
	ctl_fd = fd;
	ctl_parent = parent;
	event_set(&ctl_ev_accept, fd, EV_READ | EV_PERSIST, control_accept,
	    NULL);
	event_add(&ctl_ev_accept, NULL);
	evtimer_set(&ctl_ev_pause, control_resume, NULL);
}

void
control_shutdown(void)
{
	struct ctl_client	*cc;

	while ((cc = TAILQ_FIRST(&ctl_clients)) != NULL)
		control_drop(cc);
	if (ctl_fd != -1) {
		event_del(&ctl_ev_accept);
		close(ctl_fd);
		ctl_fd = -1;
	}
}

static void
control_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_add(&ctl_ev_accept, NULL);
}

static void
control_accept(int fd, short ev, void *arg)
{
	struct ctl_client	*cc;
	struct ucred		 cred;
	struct timeval		 tv = { CONTROL_PAUSE_SEC, 0 };
	socklen_t		 len = sizeof(cred);
	int			 s;

	(void)ev;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Do not spin on a listener we cannot serve. */
			log_warn("control: accept");
			event_del(&ctl_ev_accept);
			evtimer_add(&ctl_ev_pause, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (ctl_nclients >= CONTROL_MAX_CLIENTS) {
		log_warnx("control: too many clients, refusing one");
		close(s);
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(s);
		return;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("control");
		close(s);
		return;
	}
	cc->pid = cred.pid;
	cc->uid = cred.uid;
	chan_init(&cc->chan, s, "control", control_dispatch, control_closed,
	    cc);
	evtimer_set(&cc->ev_idle, control_idle, cc);
	control_touch(cc);
	TAILQ_INSERT_TAIL(&ctl_clients, cc, entry);
	ctl_nclients++;
}

static void
control_touch(struct ctl_client *cc)
{
	struct timeval	tv = { CONTROL_IDLE_SEC, 0 };

	evtimer_add(&cc->ev_idle, &tv);
}

static void
control_idle(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	log_debug("control: dropping an idle client");
	control_drop(arg);
}

static void
control_drop(struct ctl_client *cc)
{
	evtimer_del(&cc->ev_idle);
	chan_close(&cc->chan);
	TAILQ_REMOVE(&ctl_clients, cc, entry);
	ctl_nclients--;
	free(cc);
}

static void
control_closed(struct chan *c, int error)
{
	if (error != 0)
		log_debug("control: client gone: %s", strerror(error));
	control_drop(c->arg);
}

static void
control_fail(struct ctl_client *cc, uint32_t id, const char *why)
{
	chan_compose(&cc->chan, MSG_CTL_FAIL, id, -1, why, strlen(why) + 1);
}

static void
control_dispatch(struct chan *c, struct msg *m)
{
	struct ctl_client	*cc = c->arg;
	struct msg_log		 ml;

	control_touch(cc);
	switch (m->hdr.type) {
	case MSG_CTL_RELOAD:
		log_info("control: reload requested by uid %u pid %d",
		    (unsigned)cc->uid, (int)cc->pid);
		cc->serial = ++ctl_serial;
		cc->req_id = m->hdr.id;
		if (chan_compose(ctl_parent, MSG_CTL_RELOAD, cc->serial, -1,
		    NULL, 0) == -1)
			fatal("forwarding reload");
		break;
	case MSG_CTL_LOG:
		memcpy(&ml, m->data, sizeof(ml));
		log_info("control: log %s requested by uid %u pid %d",
		    ml.verbose ? "verbose" : "brief", (unsigned)cc->uid,
		    (int)cc->pid);
		log_setverbose(ml.verbose != 0);
		if (chan_compose(ctl_parent, MSG_CTL_LOG, 0, -1, &ml,
		    sizeof(ml)) == -1)
			fatal("forwarding log level");
		chan_compose(&cc->chan, MSG_CTL_OK, m->hdr.id, -1, NULL, 0);
		break;
	default:
		control_fail(cc, m->hdr.id, "unknown request");
		break;
	}
}

/* The parent's answer to a forwarded request goes to whoever asked. */
void
control_relay(struct msg *m)
{
	struct ctl_client	*cc;

	TAILQ_FOREACH(cc, &ctl_clients, entry)
		if (cc->serial == m->hdr.id) {
			chan_compose(&cc->chan, m->hdr.type, cc->req_id, -1,
			    m->data, m->len);
			cc->serial = 0;
			return;
		}
}
