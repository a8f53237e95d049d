/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * logtest.c: the role-free helpers of src/log.c: names escaped for a log
 * line, lines of one kind cut to one (or a few) a second and the rest
 * counted, warnings collected, lines written together.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "../lib/test.h"

#define CHECK_NAME(in, want) do {					\
	char	buf_[LOG_NAME_MAX];					\
	log_name((in), buf_, sizeof(buf_));				\
	if (strcmp(buf_, (want)) != 0)					\
		fprintf(stderr, "log_name(\"%s\") = \"%s\"\n", (in),	\
		    buf_);						\
	CHECK(strcmp(buf_, (want)) == 0);				\
} while (0)

static void
test_name(void)
{
	char	buf[64], big[300], out[LOG_NAME_MAX];
	int	i;

	CHECK_NAME("www.example-1.test", "www.example-1.test");
	CHECK_NAME("_dmarc.Example.COM.", "_dmarc.Example.COM.");
	CHECK_NAME("", "");
	/* A name that would forge the rest of a journal line. */
	CHECK_NAME("a]:443<=>[bank.com",
	    "a\\093\\058443\\060\\061\\062\\091bank.com");
	CHECK_NAME("x y", "x\\032y");
	CHECK_NAME("x\ny", "x\\010y");
	CHECK_NAME("x\xffy", "x\\255y");
	/* ldns's escapes stand for one byte each. */
	CHECK_NAME("a\\010b.test", "a\\010b.test");
	CHECK_NAME("a\\032b", "a\\032b");
	CHECK_NAME("dot\\.in.label", "dot\\046in.label");
	CHECK_NAME("back\\\\slash", "back\\092slash");
	CHECK_NAME("semi\\;colon", "semi\\059colon");
	CHECK_NAME("a\\]b", "a\\093b");
	/* Not \DDD (too large, too short): \ and a digit is that digit. */
	CHECK_NAME("a\\999", "a999");
	CHECK_NAME("a\\99", "a99");
	CHECK_NAME("end\\", "end\\092");

	/* Cut at an escape's boundary, never inside one. */
	log_name("ab]cd", buf, 5);
	CHECK(strcmp(buf, "ab") == 0);
	log_name("ab]cd", buf, 7);
	CHECK(strcmp(buf, "ab\\093") == 0);
	log_name("abc", buf, 1);
	CHECK(buf[0] == '\0');

	/* The longest name, every byte escaped, fits LOG_NAME_MAX. */
	for (i = 0; i < 253; i++)
		big[i] = ']';
	big[i] = '\0';
	log_name(big, out, sizeof(out));
	CHECK_EQ(strlen(out), 4 * 253);
	CHECK(strchr(out, ']') == NULL);
}

static void
test_rate(void)
{
	static struct log_rate	r;	/* listed in log.c: must outlive this */
	int			i;

	log_init(1, LOG_DAEMON);
	for (i = 0; i < 100; i++)
		log_rate(&r, LOG_INFO, "logtest: line %d", i);
	CHECK_EQ(r.suppressed, 99);
	usleep(1100 * 1000);
	log_rate(&r, LOG_INFO, "logtest: after a second");
	CHECK_EQ(r.suppressed, 0);
	log_rate(&r, LOG_INFO, "logtest: again at once");
	CHECK_EQ(r.suppressed, 1);
}

static unsigned int	armed, armed_ms;

static void
arm(unsigned int ms)
{
	armed++;
	armed_ms = ms;
}

/*
 * A burst's count: with the next line of its kind in the two seconds
 * after its window, or alone once they are over; a burst of a few lines a
 * second; what the lone count recalls, cut.
 */
static void
test_rate_expire(void)
{
	static struct log_rate	 r1 = { .burst = 3 }, r2;
	char			 buf[1024], *p;
	const char		*want;
	int			 i, ms;

	log_rate_timer(arm);
	log_capture(buf, sizeof(buf), 0);
	for (i = 0; i < 5; i++)
		log_rate(&r1, LOG_WARNING, "logtest: burst %d and a line long "
		    "enough to be cut where the count recalls it, which it "
		    "does with its first 116 characters and three dots", i);
	for (i = 0; i < 4; i++)
		log_rate(&r2, LOG_WARNING, "logtest: flood %d", i);
	CHECK_EQ(armed, 2);
	CHECK_EQ(armed_ms, 3000);
	/* Nothing due yet. */
	ms = log_rate_expire();
	CHECK(ms > 2500 && ms <= 3000);
	usleep(1100 * 1000);
	log_rate(&r2, LOG_WARNING, "logtest: flood again");
	ms = log_rate_expire();
	CHECK(ms > 0 && ms <= 1900);
	usleep(ms * 1000 + 20 * 1000);
	CHECK_EQ(log_rate_expire(), -1);
	CHECK_EQ(log_capture(NULL, 0, 0), 0);
	log_rate_timer(NULL);

	p = buf;
	for (i = 0; i < 3; i++) {
		CHECK(strncmp(p, "logtest: burst ", 15) == 0 &&
		    p[15] == '0' + i);
		p = strchr(p, '\n') + 1;
	}
	CHECK(strncmp(p, "logtest: flood 0\n", 17) == 0);
	p += 17;
	want = "logtest: flood again (3 more like it suppressed)\n"
	    "2 more like \"logtest: burst 0 and a line long enough to be cut "
	    "where the count recalls it, which it does with its first 116 "
	    "chara...\" suppressed\n";
	if (strcmp(p, want) != 0)
		fprintf(stderr, "%s", buf);
	CHECK(strcmp(p, want) == 0);
	CHECK_EQ(r1.suppressed, 0);
	CHECK_EQ(r2.suppressed, 0);
}

/* Warnings collected in whole lines, bounded, the rest counted. */
static void
test_capture(void)
{
	char	buf[64];
	int	i;

	log_capture(buf, sizeof(buf), 0);
	log_info("logtest: not a warning");
	log_warnx("f.conf:%d: %s", 3, "unknown keyword");
	errno = ENOENT;
	log_warn("g.conf");
	CHECK_EQ(log_capture(NULL, 0, 0), 0);
	CHECK(strcmp(buf, "f.conf:3: unknown keyword\n"
	    "g.conf: No such file or directory\n") == 0);

	log_capture(buf, sizeof(buf), 1);
	for (i = 0; i < 10; i++)
		log_warnx("logtest: line %d", i);
	/* 17 bytes a line and its newline: three fit, with the NUL. */
	CHECK_EQ(log_capture(NULL, 0, 0), 7);
	CHECK(strcmp(buf, "logtest: line 0\nlogtest: line 1\n"
	    "logtest: line 2\n") == 0);
	log_warnx("logtest: after the capture");
	CHECK(strstr(buf, "after") == NULL);
}

static int	batch_wakes;

static void
batch_wake(void)
{
	batch_wakes++;
}

/*
 * Batched lines: held until log_flush(), and wake called when the first
 * waits; a warning at once, after them; each write(2) whole lines, at
 * most PIPE_BUF; what fits no more written before it.  Last: a process
 * cannot undo log_batch().
 */
static void
test_batch(void)
{
	char	buf[8192], line[200];
	ssize_t	n;
	size_t	total = 0;
	int	p[2], saved, i, reads = 0, whole = 1, wakes;

	/* Datagrams: a read is one write(2). */
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, p) == 0);
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK((saved = dup(STDERR_FILENO)) != -1);
	CHECK(dup2(p[1], STDERR_FILENO) != -1);
	log_batch(batch_wake);

	log_info("logtest: one");
	log_info("logtest: two");
	CHECK_EQ(batch_wakes, 1);
	CHECK(read(p[0], buf, sizeof(buf)) == -1 && errno == EAGAIN);
	log_flush();
	n = read(p[0], buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "logtest: one\n") != NULL);
	CHECK(strstr(buf, "logtest: two\n") != NULL);
	CHECK(read(p[0], buf, sizeof(buf)) == -1 && errno == EAGAIN);

	/* A warning goes at once, after what waits. */
	log_info("logtest: three");
	log_warnx("logtest: a warning");
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "logtest: three\n") != NULL);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "logtest: a warning\n") != NULL);
	CHECK(read(p[0], buf, sizeof(buf)) == -1 && errno == EAGAIN);
	CHECK_EQ(batch_wakes, 2);
	wakes = batch_wakes;

	/* 60 lines of ~150 bytes: more than one write's worth. */
	memset(line, 'x', 140);
	line[140] = '\0';
	for (i = 0; i < 60; i++)
		log_info("logtest: %02d %s", i, line);
	log_flush();
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		reads++;
		total += n;
		if (n > 4096 || buf[n - 1] != '\n')
			whole = 0;
	}
	CHECK(whole);
	CHECK(reads >= 2);
	CHECK_EQ(batch_wakes - wakes, reads);	/* again after each write */
	CHECK(total > 60 * 150 && total < 60 * 250);

	CHECK(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	test_name();
	test_rate_expire();	/* first: test_rate leaves a count listed */
	test_rate();
	test_capture();
	test_batch();
	return (test_done("logtest"));
}
