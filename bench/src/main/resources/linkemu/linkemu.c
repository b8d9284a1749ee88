/*
 * linkemu: a user-space link emulator between two TUN devices, and the probes of its self-check.
 * Compiled at run time by the bench runner (LinkEmulator.java); nothing binary is committed.
 *
 *   linkemu relay A_TUN A_NETNS_PATH|- B_TUN B_NETNS_PATH|-
 *       Creates TUN device A (in network namespace A, "-" = the current one) and B, prints "ready",
 *       and forwards IP packets A->B ("ab", client to server) and B->A ("ba"). Per direction it
 *       applies, in this order: a rate limit with a bounded byte queue (tail drop), loss (Bernoulli
 *       or Gilbert-Elliott; a lost packet has used the link, as on a radio), optional reordering
 *       (a packet held back by an extra delay) and a one-way delay. Commands on stdin, one a line:
 *         set ab|ba|both key=value...   keys: delay_us rate_bps queue_bytes loss ge_p ge_r ge_h
 *                                         reorder reorder_us seed   (probabilities in [0,1])
 *         stats                          prints one "stats ..." line with the counters
 *       EOF on stdin ends the relay; its TUN devices vanish with it (they are not persistent).
 *   linkemu probe-server PORT
 *       UDP: echoes pings, counts blast packets, answers report requests (see probe-client).
 *   linkemu probe-client ADDR PORT PINGS TIMEOUT_MS BLAST_BPS SECONDS
 *       Round trips of PINGS small datagrams one at a time, then a paced blast of 1400-byte IP
 *       packets at BLAST_BPS for SECONDS; prints "rtt ..." and "rate ..." lines.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define SLACK_NS 5000 /* release a packet up to 5 us early rather than sleep again */
#define READ_BATCH 256
#define CATCH_UP_NS 250000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "linkemu: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* ---- relay ---- */

typedef struct packet {
  uint64_t due;
  uint64_t seq;
  uint32_t len;
  unsigned char data[];
} packet;

typedef struct {
  uint64_t delay_ns, rate_bps, queue_bytes, reorder_ns;
  double loss, ge_p, ge_r, ge_h, reorder;
  uint64_t rng;
  int ge_bad;
  uint64_t link_free_at, seq;
  packet **heap;
  size_t size, cap;
  int out_fd;
  uint64_t in, out, lost, tail_dropped, reordered, write_failed, bytes_out;
} direction;

/* splitmix64: small, seedable, good enough for loss decisions. */
static double uniform(direction *d) {
  uint64_t z = (d->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (z >> 11) * (1.0 / 9007199254740992.0);
}

static int before(const packet *a, const packet *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_push(direction *d, packet *p) {
  if (d->size == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 1024;
    d->heap = realloc(d->heap, d->cap * sizeof(packet *));
    if (!d->heap) die("realloc");
  }
  size_t i = d->size++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(p, d->heap[parent])) break;
    d->heap[i] = d->heap[parent];
    i = parent;
  }
  d->heap[i] = p;
}

static packet *heap_pop(direction *d) {
  packet *top = d->heap[0];
  packet *last = d->heap[--d->size];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= d->size) break;
    if (c + 1 < d->size && before(d->heap[c + 1], d->heap[c])) c++;
    if (!before(d->heap[c], last)) break;
    d->heap[i] = d->heap[c];
    i = c;
  }
  if (d->size > 0) d->heap[i] = last;
  return top;
}

static int lost(direction *d) {
  if (d->ge_p > 0 || d->ge_bad) {
    /* Gilbert-Elliott: move between the good and the bad state, then lose with that state's rate. */
    if (d->ge_bad) {
      if (uniform(d) < d->ge_r) d->ge_bad = 0;
    } else if (uniform(d) < d->ge_p) {
      d->ge_bad = 1;
    }
  }
  double p = d->ge_bad ? d->ge_h : d->loss;
  return p > 0 && uniform(d) < p;
}

static void arrive(direction *d, const unsigned char *buf, size_t len, uint64_t now) {
  d->in++;
  uint64_t done = now;
  if (d->rate_bps > 0) {
    /* A late read (the relay was not scheduled) must not cost link time: the packets waited in
     * the TUN queue meanwhile, so the link may catch up for up to CATCH_UP_NS of idle time. */
    uint64_t start = d->link_free_at + CATCH_UP_NS < now ? now - CATCH_UP_NS : d->link_free_at;
    uint64_t backlog = start > now ? (uint64_t) ((double) (start - now) * d->rate_bps / 8e9) : 0;
    if (backlog + len > d->queue_bytes) {
      d->tail_dropped++;
      return;
    }
    d->link_free_at = start + (uint64_t) ((double) len * 8e9 / d->rate_bps);
    done = d->link_free_at > now ? d->link_free_at : now;
  }
  if (lost(d)) {
    d->lost++;
    return;
  }
  packet *p = malloc(sizeof(packet) + len);
  if (!p) die("malloc");
  p->due = done + d->delay_ns;
  if (d->reorder > 0 && uniform(d) < d->reorder) {
    p->due += d->reorder_ns;
    d->reordered++;
  }
  p->seq = d->seq++;
  p->len = (uint32_t) len;
  memcpy(p->data, buf, len);
  heap_push(d, p);
}

static void release(direction *d, uint64_t now) {
  while (d->size > 0 && d->heap[0]->due <= now + SLACK_NS) {
    packet *p = heap_pop(d);
    if (write(d->out_fd, p->data, p->len) == (ssize_t) p->len) {
      d->out++;
      d->bytes_out += p->len;
    } else {
      d->write_failed++;
    }
    free(p);
  }
}

static int open_tun(const char *name, const char *netns) {
  int home = -1;
  if (strcmp(netns, "-") != 0) {
    home = open("/proc/self/ns/net", O_RDONLY);
    int target = open(netns, O_RDONLY);
    if (home < 0 || target < 0) die(netns);
    if (setns(target, CLONE_NEWNET) < 0) die("setns");
    close(target);
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  if (home >= 0) {
    if (setns(home, CLONE_NEWNET) < 0) die("setns back");
    close(home);
  }
  return fd;
}

static void set_key(direction *d, const char *key, const char *value) {
  if (!strcmp(key, "delay_us")) d->delay_ns = strtoull(value, NULL, 10) * 1000ull;
  else if (!strcmp(key, "rate_bps")) d->rate_bps = strtoull(value, NULL, 10);
  else if (!strcmp(key, "queue_bytes")) d->queue_bytes = strtoull(value, NULL, 10);
  else if (!strcmp(key, "loss")) d->loss = strtod(value, NULL);
  else if (!strcmp(key, "ge_p")) d->ge_p = strtod(value, NULL);
  else if (!strcmp(key, "ge_r")) d->ge_r = strtod(value, NULL);
  else if (!strcmp(key, "ge_h")) d->ge_h = strtod(value, NULL);
  else if (!strcmp(key, "reorder")) d->reorder = strtod(value, NULL);
  else if (!strcmp(key, "reorder_us")) d->reorder_ns = strtoull(value, NULL, 10) * 1000ull;
  else if (!strcmp(key, "seed")) {
    d->rng = strtoull(value, NULL, 10);
    d->ge_bad = 0;
  } else fprintf(stderr, "linkemu: unknown key %s\n", key);
}

static void print_stats(const char *name, direction *d) {
  printf(" %s_in=%llu %s_out=%llu %s_lost=%llu %s_tail_dropped=%llu %s_reordered=%llu "
      "%s_write_failed=%llu %s_bytes_out=%llu %s_queued=%zu",
      name, (unsigned long long) d->in, name, (unsigned long long) d->out,
      name, (unsigned long long) d->lost, name, (unsigned long long) d->tail_dropped,
      name, (unsigned long long) d->reordered, name, (unsigned long long) d->write_failed,
      name, (unsigned long long) d->bytes_out, name, d->size);
}

static void command(char *line, direction *ab, direction *ba) {
  char *save = NULL;
  char *word = strtok_r(line, " \t\r\n", &save);
  if (!word) return;
  if (!strcmp(word, "stats")) {
    printf("stats");
    print_stats("ab", ab);
    print_stats("ba", ba);
    printf("\n");
  } else if (!strcmp(word, "set")) {
    char *which = strtok_r(NULL, " \t\r\n", &save);
    int to_ab = which && (!strcmp(which, "ab") || !strcmp(which, "both"));
    int to_ba = which && (!strcmp(which, "ba") || !strcmp(which, "both"));
    char *kv;
    while ((kv = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
      char *eq = strchr(kv, '=');
      if (!eq) continue;
      *eq = 0;
      if (to_ab) set_key(ab, kv, eq + 1);
      if (to_ba) set_key(ba, kv, eq + 1);
    }
    printf("ok\n");
  } else {
    printf("error unknown command %s\n", word);
  }
  fflush(stdout);
}

static int relay(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: linkemu relay A_TUN A_NETNS|- B_TUN B_NETNS|-\n");
    return 2;
  }
  /* Timers fire within 1 ns of the deadline instead of the default 50 us slack. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  setpriority(PRIO_PROCESS, 0, -10);
  signal(SIGPIPE, SIG_IGN);
  int a = open_tun(argv[2], argv[3]);
  int b = open_tun(argv[4], argv[5]);
  direction ab, ba;
  memset(&ab, 0, sizeof ab);
  memset(&ba, 0, sizeof ba);
  ab.out_fd = b;
  ba.out_fd = a;
  ab.queue_bytes = ba.queue_bytes = UINT64_MAX / 2;
  ab.rng = 1;
  ba.rng = 2;
  printf("ready\n");
  fflush(stdout);

  static unsigned char buf[MAX_PACKET];
  char line[4096];
  size_t line_len = 0;
  for (;;) {
    uint64_t now = now_ns();
    release(&ab, now);
    release(&ba, now);
    uint64_t next = UINT64_MAX;
    if (ab.size) next = ab.heap[0]->due;
    if (ba.size && ba.heap[0]->due < next) next = ba.heap[0]->due;
    struct timespec timeout, *tp = NULL;
    if (next != UINT64_MAX) {
      uint64_t wait = next > now ? next - now : 0;
      timeout.tv_sec = (time_t) (wait / 1000000000ull);
      timeout.tv_nsec = (long) (wait % 1000000000ull);
      tp = &timeout;
    }
    struct pollfd fds[3] = {{a, POLLIN, 0}, {b, POLLIN, 0}, {0, POLLIN, 0}};
    int n = ppoll(fds, 3, tp, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    if (n == 0) continue;
    for (int i = 0; i < 2; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      direction *d = i == 0 ? &ab : &ba;
      for (int k = 0; k < READ_BATCH; k++) {
        ssize_t r = read(fds[i].fd, buf, sizeof buf);
        if (r <= 0) break;
        arrive(d, buf, (size_t) r, now_ns());
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(0, line + line_len, sizeof line - 1 - line_len);
      if (r <= 0) return 0; /* the runner is gone: exit, and the TUN devices go with us */
      line_len += (size_t) r;
      line[line_len] = 0;
      char *nl;
      while ((nl = strchr(line, '\n')) != NULL) {
        *nl = 0;
        command(line, &ab, &ba);
        size_t rest = line_len - (size_t) (nl + 1 - line);
        memmove(line, nl + 1, rest);
        line_len = rest;
        line[line_len] = 0;
      }
      if (line_len == sizeof line - 1) line_len = 0;
    }
  }
}

/* ---- probes ---- */

#define BLAST_IP_BYTES 1400
#define UDP_IP_HEADERS 28

static int probe_server(int argc, char **argv) {
  if (argc < 3) return 2;
  setpriority(PRIO_PROCESS, 0, -10); /* as the relay: measure the link, not the scheduler */
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t) atoi(argv[2]));
  if (bind(s, (struct sockaddr *) &addr, sizeof addr) < 0) die("bind");
  printf("ready\n");
  fflush(stdout);
  /* Counters of the latest blast, named by the run id in every packet: a repeated report
   * request (its answer was lost) gets the same answer. */
  uint64_t run = 0, packets = 0, bytes = 0, first = 0, last = 0;
  static unsigned char buf[MAX_PACKET];
  for (;;) {
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t r = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *) &from, &flen);
    if (r <= 0) continue;
    if (buf[0] == 'P') {
      sendto(s, buf, (size_t) r, 0, (struct sockaddr *) &from, flen);
    } else if (buf[0] == 'B' && r >= 9) {
      uint64_t t = now_ns(), id;
      memcpy(&id, buf + 1, sizeof id);
      if (id != run) {
        run = id;
        packets = bytes = 0;
      }
      if (packets == 0) first = t;
      last = t;
      packets++;
      bytes += (uint64_t) r + UDP_IP_HEADERS;
    } else if (buf[0] == 'R') {
      char reply[256];
      /* Rate over first..last arrival: the first packet's bytes arrived before the clock started. */
      int len = snprintf(reply, sizeof reply, "R %llu %llu %llu", (unsigned long long) packets,
          (unsigned long long) bytes, (unsigned long long) (last - first));
      sendto(s, reply, (size_t) len, 0, (struct sockaddr *) &from, flen);
    } else if (buf[0] == 'Q') {
      return 0;
    }
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static int probe_client(int argc, char **argv) {
  if (argc < 8) return 2;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t) atoi(argv[3]));
  if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) die("address");
  if (connect(s, (struct sockaddr *) &to, sizeof to) < 0) die("connect");
  int pings = atoi(argv[4]);
  int timeout_ms = atoi(argv[5]);
  double blast_bps = strtod(argv[6], NULL);
  double seconds = strtod(argv[7], NULL);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  setpriority(PRIO_PROCESS, 0, -10);

  uint64_t *rtt = calloc((size_t) pings + 1, sizeof(uint64_t));
  int got = 0, lost = 0;
  unsigned char buf[2048];
  for (int i = 0; i < pings; i++) {
    unsigned char ping[64] = {'P'};
    memcpy(ping + 1, &i, sizeof i);
    uint64_t t0 = now_ns();
    send(s, ping, sizeof ping, 0);
    for (;;) {
      struct pollfd pfd = {s, POLLIN, 0};
      int left = timeout_ms - (int) ((now_ns() - t0) / 1000000ull);
      if (left <= 0 || poll(&pfd, 1, left) <= 0) {
        lost++;
        break;
      }
      ssize_t r = recv(s, buf, sizeof buf, 0);
      int seq;
      memcpy(&seq, buf + 1, sizeof seq);
      if (r > 0 && buf[0] == 'P' && seq == i) {
        rtt[got++] = now_ns() - t0;
        break;
      }
    }
  }
  if (got > 0) {
    qsort(rtt, (size_t) got, sizeof(uint64_t), cmp_u64);
    printf("rtt samples=%d lost=%d min_us=%.1f median_us=%.1f p90_us=%.1f\n", got, lost,
        rtt[0] / 1e3, rtt[got / 2] / 1e3, rtt[(got * 9) / 10] / 1e3);
  } else {
    printf("rtt samples=0 lost=%d\n", lost);
  }
  fflush(stdout);

  if (blast_bps > 0 && seconds > 0) {
    static unsigned char blast[BLAST_IP_BYTES - UDP_IP_HEADERS];
    memset(blast, 0, sizeof blast);
    blast[0] = 'B';
    uint64_t id = now_ns() ^ ((uint64_t) getpid() << 32);
    memcpy(blast + 1, &id, sizeof id);
    double ns_per_packet = BLAST_IP_BYTES * 8e9 / blast_bps;
    uint64_t start = now_ns(), end = start + (uint64_t) (seconds * 1e9);
    uint64_t sent = 0;
    for (;;) {
      uint64_t t = now_ns();
      if (t >= end) break;
      uint64_t due = (uint64_t) ((t - start) / ns_per_packet) + 1;
      while (sent < due) {
        send(s, blast, sizeof blast, 0);
        sent++;
      }
      struct timespec pause = {0, 200000}; /* send in 0.2 ms bursts */
      nanosleep(&pause, NULL);
    }
    /* Let the link drain (queue plus delay), then ask for the receiver's count. */
    struct timespec drain = {0, 0};
    drain.tv_sec = timeout_ms / 1000;
    drain.tv_nsec = (long) (timeout_ms % 1000) * 1000000L;
    nanosleep(&drain, NULL);
    for (int attempt = 0; attempt < 20; attempt++) {
      send(s, "R", 1, 0);
      struct pollfd pfd = {s, POLLIN, 0};
      if (poll(&pfd, 1, timeout_ms) > 0) {
        ssize_t r = recv(s, buf, sizeof buf - 1, 0);
        if (r > 0 && buf[0] == 'R') {
          buf[r] = 0;
          unsigned long long packets, bytes, span;
          if (sscanf((char *) buf, "R %llu %llu %llu", &packets, &bytes, &span) == 3) {
            double rate = span > 0 ? (double) (bytes - BLAST_IP_BYTES) * 8e9 / (double) span : 0;
            printf("rate sent=%llu received=%llu bytes=%llu span_ns=%llu bps=%.0f\n",
                (unsigned long long) sent, packets, bytes, span, rate);
            fflush(stdout);
            return 0;
          }
        }
      }
    }
    printf("rate failed no report\n");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "relay")) return relay(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "probe-server")) return probe_server(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "probe-client")) return probe_client(argc, argv);
  fprintf(stderr, "usage: linkemu relay|probe-server|probe-client ...\n");
  return 2;
}
