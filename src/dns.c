/*
 * dns.c: the dns process.  Unprivileged and chrooted in the database
 * directory, it owns the map, answers DNS queries, talks to the upstream
 * resolvers and serves the control socket.
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

static struct chan	 dns_parent;
static struct chan	 dns_peer;
static struct proc_start dns_socks;

static void	dns_dispatch_parent(struct chan *, struct msg *);
static void	dns_dispatch_peer(struct chan *, struct msg *);
static void	dns_sig(int, short, void *);

void
dns_main(int foreground, int verbose)
{
	struct event	ev_term, ev_int, ev_hup;

	log_init(foreground, LOG_DAEMON);
	log_procinit("dns");
	log_setverbose(verbose);
	proc_title("dns");

	proc_start_recv(PROC_PARENT_FD, &dns_socks);
	memcpy(conf, &dns_socks.conf, sizeof(*conf));
	log_setverbose(conf->verbose);
	if (dns_socks.control == -1 || dns_socks.peer == -1)
		fatalx("start-up without control socket or peer channel");

	privdrop_child(conf->user, conf->db_dir, !conf->user_set);

	event_init();
	signal(SIGPIPE, SIG_IGN);
	signal_set(&ev_term, SIGTERM, dns_sig, NULL);
	signal_set(&ev_int, SIGINT, dns_sig, NULL);
	signal_set(&ev_hup, SIGHUP, dns_sig, NULL);
	signal_add(&ev_term, NULL);
	signal_add(&ev_int, NULL);
	signal_add(&ev_hup, NULL);

	chan_init(&dns_parent, PROC_PARENT_FD, "parent", dns_dispatch_parent,
	    proc_chan_lost, NULL);
	chan_init(&dns_peer, dns_socks.peer, "proxy", dns_dispatch_peer,
	    proc_peer_closed, NULL);
	control_init(dns_socks.control, &dns_parent);

	log_debug("running as uid %d in %s", (int)getuid(), conf->db_dir);
	event_dispatch();
	fatalx("event loop ended");
}

static void
dns_sig(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		control_shutdown();
		exit(0);
	case SIGHUP:
		/* The parent reloads; a signal to the whole group is fine. */
		break;
	}
}

static void
dns_dispatch_parent(struct chan *c, struct msg *m)
{
	struct msg_log	ml;

	(void)c;
	switch (m->hdr.type) {
	case MSG_SHUTDOWN:
		control_shutdown();
		exit(0);
	case MSG_CONF:
		memcpy(conf, m->data, sizeof(*conf));
		log_setverbose(conf->verbose);
		log_info("configuration reloaded: ttl %u, %u addresses, "
		    "dial timeout %ums", conf->ttl,
		    conf->range_last - conf->range_first + 1, conf->dial_ms);
		break;
	case MSG_CTL_OK:
	case MSG_CTL_FAIL:
		control_relay(m);
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
dns_dispatch_peer(struct chan *c, struct msg *m)
{
	(void)c;
	switch (m->hdr.type) {
	default:
		fatalx("unexpected %s from the proxy process",
		    msg_type_name(m->hdr.type));
	}
}
