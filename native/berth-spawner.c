/*
 * berth-spawner: forks and execs runtimes (runc ...) for berthd, so that berthd (a Node process of ~100 MiB)
 * does not: fork() copies the parent's page tables, which costs berthd 5-15 ms per spawn and grows with its
 * RSS; this process is ~1 MiB, and its fork costs tens of microseconds. Built by scripts/setup.sh; berthd
 * falls back to spawning itself when it is missing.
 *
 * Protocol (little-endian), over stdin (requests) and stdout (events); every frame is u32 length + payload.
 *   request  'S' u32 tag, then NUL-terminated strings: cwd, log path ("" = pipe stdout/stderr), argv[0..]
 *   event    'P' u32 tag, i32 pid                  started
 *            'F' u32 tag, i32 errno, message       could not start (fork, chdir, log file or exec failed)
 *            'O' / 'E' u32 tag, bytes              the child's stdout / stderr (pipe mode)
 *            'X' u32 tag, i32 code, i32 signal     exited (code -1 when killed by a signal), after its output
 * The child runs in its own session (setsid), stdin /dev/null, signals at their defaults. When stdin reaches
 * EOF (berthd exited or was killed) the spawner exits and leaves its children running, as berthd's own
 * children would be left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
  uint32_t tag;
  pid_t pid;
  int out, err; /* read ends, -1 once at EOF (or with a log file) */
  int reaped, code, sig;
};

static struct child *kids;
static size_t nkids, capkids;
static unsigned char *inbuf;
static size_t inlen, incap;

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v & 0xff, p[1] = (v >> 8) & 0xff, p[2] = (v >> 16) & 0xff, p[3] = v >> 24;
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(0); /* berthd is gone */
    p += w, n -= (size_t)w;
  }
}

/* One event: type, tag, then up to two i32 fields and/or bytes. */
static void emit(char type, uint32_t tag, const int32_t *ints, int nints, const void *data, size_t len) {
  unsigned char head[4 + 1 + 4 + 8];
  size_t h = 4 + 1 + 4 + 4 * (size_t)nints;
  put32(head, (uint32_t)(h - 4 + len));
  head[4] = (unsigned char)type;
  put32(head + 5, tag);
  for (int i = 0; i < nints; i++) put32(head + 9 + 4 * i, (uint32_t)ints[i]);
  write_all(head, h);
  if (len) write_all(data, len);
}

static void fail(uint32_t tag, int e, const char *what) {
  int32_t ints[1] = {e};
  emit('F', tag, ints, 1, what, strlen(what));
}

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
  if (*logpath) {
    logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (logfd < 0) return fail(tag, errno, "open log file");
  } else if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
    return fail(tag, errno, "pipe");
  }
  if (pipe2(report, O_CLOEXEC) < 0) return fail(tag, errno, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    int o = logfd >= 0 ? logfd : outp[1], e = logfd >= 0 ? logfd : errp[1];
    int32_t code = 0;
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) code = errno;
    else if (chdir(cwd) < 0) code = errno;
    else execvp(argv[0], argv), code = errno;
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
  kids[nkids++] = (struct child){tag, pid, outp[0], errp[0], 0, 0, 0};
  int32_t ints[1] = {pid};
  emit('P', tag, ints, 1, NULL, 0);
}

/* Complete frames in inbuf: handle each, keep the rest. */
static void handle_requests(void) {
  size_t off = 0;
  while (inlen - off >= 4) {
    uint32_t len = get32(inbuf + off);
    if (inlen - off - 4 < len) break;
    unsigned char *f = inbuf + off + 4;
    if (len >= 5 && f[0] == 'S') spawn_child(get32(f + 1), (char *)f + 5, len - 5);
    off += 4 + len;
  }
  memmove(inbuf, inbuf + off, inlen - off);
  inlen -= off;
}

static void drain(struct child *c, int *fd, char type) {
  unsigned char buf[65536];
  ssize_t r = read(*fd, buf, sizeof buf);
  if (r > 0) return emit(type, c->tag, NULL, 0, buf, (size_t)r);
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

/* A child is done once reaped and its output read to EOF: report it and forget it. */
static void report_exits(void) {
  for (size_t i = 0; i < nkids;) {
    struct child *c = &kids[i];
    if (c->reaped && c->out < 0 && c->err < 0) {
      int32_t ints[2] = {c->code, c->sig};
      emit('X', c->tag, ints, 2, NULL, 0);
      kids[i] = kids[--nkids];
    } else {
      i++;
    }
  }
}

int main(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 71;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  struct pollfd *fds = NULL;
  size_t capfds = 0;
  for (;;) {
    size_t need = 2 + 2 * nkids, n = 0;
    if (need > capfds) {
      capfds = need * 2;
      fds = realloc(fds, capfds * sizeof *fds);
      if (!fds) return 70;
    }
    fds[n++] = (struct pollfd){0, POLLIN, 0};
    fds[n++] = (struct pollfd){sfd, POLLIN, 0};
    for (size_t i = 0; i < nkids; i++) {
      if (kids[i].out >= 0) fds[n++] = (struct pollfd){kids[i].out, POLLIN, 0};
      if (kids[i].err >= 0) fds[n++] = (struct pollfd){kids[i].err, POLLIN, 0};
    }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return 72;
    }
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
    if (fds[0].revents) {
      if (incap - inlen < 65536) {
        incap = incap ? incap * 2 : 131072;
        inbuf = realloc(inbuf, incap);
        if (!inbuf) return 70;
      }
      ssize_t r = read(0, inbuf + inlen, incap - inlen);
      if (r == 0) return 0; /* berthd is gone: leave the children running */
      if (r > 0) {
        inlen += (size_t)r;
        handle_requests();
      }
    }
  }
}
