/*
 * proxy.c: the proxy process.  Unprivileged and chrooted in an empty
 * directory, it accepts the connections TPROXY hands to its transparent
 * listeners and relays them to their real destinations.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

static struct chan	 proxy_parent;
static struct chan	 proxy_peer;
static struct proc_start proxy_socks;

static void	proxy_dispatch_parent(struct chan *, struct msg *);
static void	proxy_dispatch_peer(struct chan *, struct msg *);
static void	proxy_sig(int, short, void *);

void
proxy_main(int foreground, int verbose)
{
	struct event	ev_term, ev_int, ev_hup;

	log_init(foreground, LOG_DAEMON);
	log_procinit("proxy");
	log_setverbose(verbose);
	proc_title("proxy");

	proc_start_recv(PROC_PARENT_FD, &proxy_socks);
	memcpy(conf, &proxy_socks.conf, sizeof(*conf));
	log_setverbose(conf->verbose);
	if (proxy_socks.proxy_tcp == -1 || proxy_socks.proxy_udp == -1 ||
	    proxy_socks.peer == -1)
		fatalx("start-up without proxy sockets or peer channel");

	privdrop_child(conf->user, conf->empty_dir, !conf->user_set);

	event_init();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&ev_term, SIGTERM, proxy_sig, NULL);
	signal_set(&ev_int, SIGINT, proxy_sig, NULL);
	signal_set(&ev_hup, SIGHUP, proxy_sig, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_hup, NULL);

	chan_init(&proxy_parent, PROC_PARENT_FD, "parent",
	    proxy_dispatch_parent, proc_chan_lost, NULL);
	chan_init(&proxy_peer, proxy_socks.peer, "dns", proxy_dispatch_peer,
	    proc_peer_closed, NULL);

	log_debug("running as uid %d in %s", (int)getuid(), conf->empty_dir);
	event_dispatch();
	fatalx("event loop ended");
}

static void
proxy_sig(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		exit(0);
	case SIGHUP:
		break;
	}
}

static void
proxy_dispatch_parent(struct chan *c, struct msg *m)
{
	struct msg_log	ml;

	(void)c;
	switch (m->hdr.type) {
	case MSG_SHUTDOWN:
		log_debug("stopping");
		exit(0);
	case MSG_CONF:
		memcpy(conf, m->data, sizeof(*conf));
		log_setverbose(conf->verbose);
		log_info("configuration reloaded: ttl %u, %u addresses, "
		    "dial timeout %ums", conf->ttl,
		    conf->range_last - conf->range_first + 1, conf->dial_ms);
		break;
	case MSG_CTL_LOG:
		memcpy(&ml, m->data, sizeof(ml));
		log_setverbose(ml.verbose != 0);
		break;
	default:
		fatalx("unexpected %s from the parent",
		    msg_type_name(m->hdr.type));
	}
}

static void
proxy_dispatch_peer(struct chan *c, struct msg *m)
{
	(void)c;
	switch (m->hdr.type) {
	default:
		fatalx("unexpected %s from the dns process",
		    msg_type_name(m->hdr.type));
	}
}
