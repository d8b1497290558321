/*
 * berth-spawner: forks and execs runtimes (runc ...) for berthd, so that berthd (a Node process of ~100 MiB)
 * does not: fork() copies the parent's page tables, which costs berthd 5-15 ms per spawn and grows with its
 * RSS; this process is ~1 MiB, and its fork costs tens of microseconds. Built by scripts/setup.sh; berthd
 * falls back to spawning itself when it is missing.
 *
 * Protocol (little-endian), over a channel (stdin/stdout, or a connection to the rendezvous socket); every
 * frame is u32 length + payload.
 *   request  'S' u32 tag, then NUL-terminated strings: cwd, log path ("" = pipe stdout/stderr), argv[0..]
 *            'K' u32 tag, i32 signal               signal that child, unless it was already reaped (so never a
 *                                                  process that reused its pid); nothing is answered
 *   event    'P' u32 tag, i32 pid                  started
 *            'F' u32 tag, i32 errno, message       could not start (fork, chdir, log file or exec failed)
 *            'O' / 'E' u32 tag, bytes              the child's stdout / stderr (pipe mode)
 *            'X' u32 tag, i32 code, i32 signal     exited (code -1 when killed by a signal), after its output
 *   on a connection to the rendezvous socket, first:
 *            'H' u32 0, i32 version, i32 last tag  hello: the tags a new berthd uses must come after these
 *            'C' u32 tag, i32 pid, i32 reaped, argv (NUL-terminated strings)   a child a previous berthd started
 *            then the output each child wrote meanwhile ('O' / 'E'), and 'R' u32 0 once the list is complete;
 *            exits ('X') follow as usual.
 * The child runs in its own session (setsid), stdin /dev/null, signals at their defaults.
 *
 * Without --rendezvous, when the channel ends (berthd died) the spawner exits and leaves its children running.
 * With `--rendezvous PATH` it outlives berthd while any child runs: it reads the children's output (a plugin must
 * neither block nor die of SIGPIPE), keeps up to HELD_MAX bytes of it per child, and waits on the unix socket
 * PATH (bound at start, so a new berthd never misses it) for the next berthd, which takes the children over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROTOCOL_VERSION 2
/* Output kept per child while no berthd is attached; what comes after is counted and dropped. */
#define HELD_MAX (1u << 20)

struct child {
  uint32_t tag;
  pid_t pid;
  int out, err; /* read ends, -1 once at EOF (or with a log file) */
  int reaped, code, sig;
  char *argv; /* argv as NUL-terminated strings, for the list a new berthd gets */
  size_t argvlen, heldlen, dropped;
  unsigned char *held; /* 'O' / 'E' frames read while detached */
};

static struct child *kids;
static size_t nkids, capkids, inlen, incap;
static unsigned char *inbuf;
/* The channel to berthd: stdin/stdout at first, later a connection to the rendezvous socket; -1 while detached. */
static int in_fd = 0, out_fd = 1;
static const char *rendezvous;
static int listen_fd = -1, accept_paused; /* out of fds: the socket is left out of poll for 100 ms, or accept spins */
static struct stat listen_st; /* the socket file's: only ours is removed at exit */
static uint32_t last_tag;

static void put32(unsigned char *p, uint32_t v) { p[0] = v & 0xff, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24; }
static uint32_t get32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* berthd is gone: without a rendezvous the spawner ends here; with one it waits for the next berthd. */
static void detach(void) {
  if (!rendezvous) _exit(0);
  if (in_fd > 2) close(in_fd);
  if (out_fd > 2 && out_fd != in_fd) close(out_fd);
  /* fds 0 and 1 stay taken, by /dev/null: were they free, the next connection or log file would get them, and a
     child's dup2 onto the same fd would leave it close-on-exec, i.e. closed in the child */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0 && devnull > 1) dup3(devnull, 0, O_CLOEXEC), dup3(devnull, 1, O_CLOEXEC), close(devnull);
  in_fd = out_fd = -1;
  inlen = 0; /* a request cut off by berthd's death is not carried out */
}

static void write_all(const unsigned char *p, size_t n) {
  while (n && out_fd >= 0) {
    ssize_t w = write(out_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return detach();
    p += w, n -= (size_t)w;
  }
}

static void hold(struct child *c, const unsigned char *head, size_t h, const void *data, size_t len) {
  size_t size = c->heldlen + h + len;
  unsigned char *grown = size > HELD_MAX ? NULL : realloc(c->held, size);
  if (!grown) return (void)(c->dropped += len);
  memcpy(grown + c->heldlen, head, h);
  memcpy(grown + c->heldlen + h, data, len);
  c->held = grown, c->heldlen = size;
}

/* One event: type, tag, then up to three i32 fields and/or bytes. A child's output is held while detached. */
static void emit_for(struct child *c, char type, uint32_t tag, const int32_t *ints, int nints, const void *data,
                     size_t len) {
  unsigned char head[4 + 1 + 4 + 12];
  size_t h = 4 + 1 + 4 + 4 * (size_t)nints;
  put32(head, (uint32_t)(h - 4 + len));
  head[4] = (unsigned char)type;
  put32(head + 5, tag);
  for (int i = 0; i < nints; i++) put32(head + 9 + 4 * i, (uint32_t)ints[i]);
  if (out_fd < 0) {
    if (c) hold(c, head, h, data, len);
    return;
  }
  write_all(head, h);
  if (len) write_all(data, len);
}

static void emit(char type, uint32_t tag, const int32_t *ints, int nints, const void *data, size_t len) {
  emit_for(NULL, type, tag, ints, nints, data, len);
}

static void fail(uint32_t tag, int32_t e, const char *what) { emit('F', tag, &e, 1, what, strlen(what)); }

/* Parses "cwd\0log\0argv0\0argv1\0..." and starts the child. */
static void spawn_child(uint32_t tag, char *p, size_t n) {
  char *end = p + n, *fields[4096];
  int nf = 0;
  while (p < end && nf < 4095) {
    char *z = memchr(p, 0, (size_t)(end - p));
    if (!z) break;
    fields[nf++] = p;
    p = z + 1;
  }
  if (nf < 3) return fail(tag, EINVAL, "malformed spawn request");
  const char *cwd = fields[0], *logpath = fields[1];
  char **argv = fields + 2;
  argv[nf - 2] = NULL;
  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, logfd = -1, report[2];
  if (*logpath && (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    return fail(tag, errno, "open log file");
  if ((!*logpath && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)) || pipe2(report, O_CLOEXEC) < 0) {
    int e = errno, opened[] = {logfd, outp[0], outp[1], errp[0], errp[1]}; /* none leaks on a full fd table */
    for (int i = 0; i < 5; i++) if (opened[i] >= 0) close(opened[i]);
    return fail(tag, e, "pipe");
  }
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* ignored here (a write to a dead berthd must not kill the spawner), not there */
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    int o = logfd >= 0 ? logfd : outp[1], e = logfd >= 0 ? logfd : errp[1];
    int32_t code = 0;
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) code = errno;
    else if (chdir(cwd) < 0) code = errno;
    /* a dup2 onto the fd itself is a no-op that would leave it close-on-exec */
    for (int fd = 0; fd <= 2 && !code; fd++) fcntl(fd, F_SETFD, 0);
    if (devnull > 2) close(devnull);
    if (!code) execvp(argv[0], argv), code = errno;
    (void)!write(report[1], &code, sizeof code);
    _exit(127);
  }
  int saved = errno;
  close(report[1]);
  if (logfd >= 0) close(logfd);
  if (outp[1] >= 0) close(outp[1]), close(errp[1]);
  if (pid < 0) {
    close(report[0]);
    if (outp[0] >= 0) close(outp[0]), close(errp[0]);
    return fail(tag, saved, "fork");
  }
  int32_t code;
  ssize_t r;
  do r = read(report[0], &code, sizeof code);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  if (r == (ssize_t)sizeof code) { /* exec (or the setup before it) failed: the child has exited */
    waitpid(pid, NULL, 0);
    if (outp[0] >= 0) close(outp[0]), close(errp[0]);
    return fail(tag, code, "exec");
  }
  if (nkids == capkids) {
    capkids = capkids ? capkids * 2 : 16;
    kids = realloc(kids, capkids * sizeof *kids);
    if (!kids) _exit(70);
  }
  size_t argvlen = (size_t)(end - fields[2]);
  char *argvcopy = malloc(argvlen);
  if (!argvcopy) _exit(70);
  memcpy(argvcopy, fields[2], argvlen);
  kids[nkids++] = (struct child){tag, pid, outp[0], errp[0], 0, 0, 0, argvcopy, argvlen, 0, 0, NULL};
  if (tag > last_tag) last_tag = tag;
  int32_t ints[1] = {pid};
  emit('P', tag, ints, 1, NULL, 0);
}

/* Only this process reaps its children: until it has, the pid cannot belong to anyone else. */
static void signal_child(uint32_t tag, int sig) {
  for (size_t i = 0; i < nkids; i++)
    if (kids[i].tag == tag && !kids[i].reaped) kill(kids[i].pid, sig);
}

/* Complete frames in inbuf: handle each, keep the rest. */
static void handle_requests(void) {
  size_t off = 0;
  while (inlen - off >= 4) {
    uint32_t len = get32(inbuf + off);
    if (inlen - off - 4 < len) break;
    unsigned char *f = inbuf + off + 4;
    if (len >= 5 && f[0] == 'S') spawn_child(get32(f + 1), (char *)f + 5, len - 5);
    if (len >= 9 && f[0] == 'K') signal_child(get32(f + 1), (int32_t)get32(f + 5));
    if (in_fd < 0) return; /* berthd died while it was answered: detach() dropped the rest */
    off += 4 + len;
  }
  memmove(inbuf, inbuf + off, inlen - off);
  inlen -= off;
}

static void drain(struct child *c, int *fd, char type) {
  unsigned char buf[65536];
  ssize_t r = read(*fd, buf, sizeof buf);
  if (r > 0) return emit_for(c, type, c->tag, NULL, 0, buf, (size_t)r);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  close(*fd);
  *fd = -1;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < nkids; i++) {
      if (kids[i].pid != pid) continue;
      kids[i].reaped = 1;
      kids[i].code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      kids[i].sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
  }
}

/* A child is done once reaped and its output read to EOF: report it and forget it (kept while detached). */
static void report_exits(void) {
  for (size_t i = 0; i < nkids && out_fd >= 0;) {
    struct child *c = &kids[i];
    if (c->reaped && c->out < 0 && c->err < 0) {
      int32_t ints[2] = {c->code, c->sig};
      emit('X', c->tag, ints, 2, NULL, 0);
      if (out_fd < 0) break; /* berthd died meanwhile: the next one hears of it */
      free(c->argv);
      free(c->held);
      kids[i] = kids[--nkids];
    } else {
      i++;
    }
  }
}

/* The rendezvous socket, bound at start: a berthd that finds it listening takes the children over. */
static int listen_rendezvous(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return -1;
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  unlink(path); /* a socket left by a spawner that died: berthd connects before it starts a new one */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  if (chmod(path, 0600) < 0 || listen(fd, 4) < 0) {
    unlink(path);
    close(fd);
    return -1;
  }
  stat(path, &listen_st);
  return fd;
}

/* Removes the socket file unless another spawner has bound the path since (a berthd that gave up on this one). */
static void unlink_rendezvous(void) {
  struct stat st;
  if (rendezvous && stat(rendezvous, &st) == 0 && st.st_ino == listen_st.st_ino && st.st_dev == listen_st.st_dev)
    unlink(rendezvous);
}

/* A new berthd: the list of children, what they wrote meanwhile, then 'R'; exits follow in the main loop. */
static void attach(int conn) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
    close(conn);
    return;
  }
  int flags = fcntl(conn, F_GETFL);
  fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
  /* a berthd that connects and stops reading must not stall the children's pipes for good: detach instead */
  struct timeval ten = {.tv_sec = 10};
  setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &ten, sizeof ten);
  in_fd = out_fd = conn;
  int32_t hello[2] = {PROTOCOL_VERSION, (int32_t)last_tag};
  emit('H', 0, hello, 2, NULL, 0);
  for (size_t i = 0; i < nkids && out_fd >= 0; i++) {
    struct child *c = &kids[i];
    int32_t ints[2] = {c->pid, c->reaped};
    emit('C', c->tag, ints, 2, c->argv, c->argvlen);
    if (c->heldlen) write_all(c->held, c->heldlen);
    if (c->dropped) {
      char note[128];
      int n = snprintf(note, sizeof note, "[berth-spawner: %zu bytes of output dropped while no berthd was attached]\n",
                       c->dropped);
      emit('E', c->tag, NULL, 0, note, (size_t)n);
    }
    free(c->held);
    c->held = NULL, c->heldlen = c->dropped = 0;
  }
  emit('R', 0, NULL, 0, NULL, 0);
  report_exits(); /* those that ended meanwhile: nothing else may wake the loop soon */
}

/* A child counts until its pipes end too: what runs below it (a container's init) may still write to them. */
static int any_running(void) {
  for (size_t i = 0; i < nkids; i++) if (!kids[i].reaped || kids[i].out >= 0 || kids[i].err >= 0) return 1;
  return 0;
}

static void read_requests(void) {
  if (incap - inlen < 65536) {
    incap = incap ? incap * 2 : 131072;
    inbuf = realloc(inbuf, incap);
    if (!inbuf) _exit(70);
  }
  ssize_t r = read(in_fd, inbuf + inlen, incap - inlen);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) return detach(); /* berthd is gone */
  inlen += (size_t)r;
  handle_requests();
}

static struct pollfd *fds;
static size_t capfds;

/* Slot 0: requests while attached, the rendezvous socket while detached; slot 1: SIGCHLD; then the children's pipes. */
static size_t pollset(int sfd) {
  size_t need = 2 + 2 * nkids, n = 0;
  if (need > capfds) {
    capfds = need * 2;
    fds = realloc(fds, capfds * sizeof *fds);
    if (!fds) _exit(70);
  }
  fds[n++] = (struct pollfd){in_fd >= 0 ? in_fd : accept_paused ? -1 : listen_fd, POLLIN, 0};
  fds[n++] = (struct pollfd){sfd, POLLIN, 0};
  for (size_t i = 0; i < nkids; i++) {
    if (kids[i].out >= 0) fds[n++] = (struct pollfd){kids[i].out, POLLIN, 0};
    if (kids[i].err >= 0) fds[n++] = (struct pollfd){kids[i].err, POLLIN, 0};
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--rendezvous") == 0) {
    rendezvous = argv[2];
    listen_fd = listen_rendezvous(rendezvous);
    if (listen_fd < 0) rendezvous = NULL; /* no live restore, as without the flag; berthd finds no socket */
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 71;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  for (;;) {
    if (in_fd < 0 && !any_running()) {
      unlink_rendezvous();
      return 0; /* detached, and nothing left for a next berthd to take over */
    }
    size_t n = pollset(sfd);
    if (poll(fds, n, accept_paused ? 100 : -1) < 0 && errno != EINTR) return 72; /* EINTR: no revents set */
    accept_paused = 0;
    for (size_t k = 2; k < n; k++) {
      if (!fds[k].revents) continue;
      for (size_t i = 0; i < nkids; i++) {
        if (kids[i].out == fds[k].fd) drain(&kids[i], &kids[i].out, 'O');
        else if (kids[i].err == fds[k].fd) drain(&kids[i], &kids[i].err, 'E');
      }
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {}
      reap();
    }
    report_exits();
    if (!fds[0].revents) continue;
    if (in_fd >= 0) {
      read_requests();
    } else {
      int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) attach(conn);
      else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) accept_paused = 1;
    }
  }
}
