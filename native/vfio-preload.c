/*
 * vfio-preload: runs an unmodified VFIO client against vfio-emu's model (docs/exec.md).
 *
 * Loaded with LD_PRELOAD by `vfio-emu exec` (or by hand next to `vfio-emu serve`), it serves the
 * emulated /dev/vfio nodes, the fds they give, and the sysfs files VFIO clients read, by asking
 * the model over the Unix socket named in VFIO_EMU_SOCKET. Every other path and fd goes to libc
 * untouched. An emulated fd is a real fd of the client (a memfd), so numbers stay unique and
 * poll/select/fcntl keep working; a table maps it to the model's fd.
 *
 * With VFIO_EMU_RECORD=FILE instead, nothing is emulated: the calls go to the real kernel and the
 * library writes each VFIO call and its answer to FILE as vfio-trace/1 (record.c's half).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vfio-abi.h"

#include "vfio-record.h"

/* ---- the wire protocol (src/machine/serve-protocol.ts) ------------------------------------ */

enum { OP_HELLO = 1, OP_OPEN, OP_CLOSE, OP_REF, OP_IOCTL, OP_PREAD, OP_PWRITE, OP_MAPMEM, OP_EVENTFD, OP_SYSFS, OP_FORK, OP_ADOPT, OP_SUBSCRIBE, OP_EVENTFD_WRITE, OP_SHARE, OP_EXECED, OP_MEMFD };
enum { SYSFS_READ = 0, SYSFS_STAT = 1, SYSFS_READLINK = 2, SYSFS_LIST = 3, SYSFS_WRITE = 4 };
enum { NODE_CHR = 1, NODE_REG = 2, NODE_DIR = 3, NODE_LNK = 4 };
#define PROTOCOL_VERSION 1
#define NOT_EMULATED 0x10000
#define MAX_BUF (1024 * 1024)
#define REPLY_HEADER 24

/* ---- state ------------------------------------------------------------------------------- */

#define MAX_FDS 4096
struct fd_entry {
	unsigned char kind;
	int model; /* the model's fd */
	dev_t rdev; /* a device cdev's number, as the model's stat answers it; 0 for a device fd from a group (an anonymous inode) */
};
static struct fd_entry table[MAX_FDS];
/* Client eventfd → the model eventfd mirroring it (-1: none). Stored +1 so 0 means none. */
static int mirror[MAX_FDS];

/* Client eventfds the kernel consumes (INTx unmask): the helper thread forwards their writes. */
static unsigned char inbound[MAX_FDS];

/*
 * The identity (st_dev, st_ino) of each memfd the library made to stand for an emulated file,
 * by client fd (0: none). An fd keeps its table entry across execve only if it is still this
 * file then (a program's own memfd at the same number is not).
 */
struct backing_id {
	dev_t dev;
	ino_t ino;
};
static struct backing_id backing[MAX_FDS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t conn_id;
/* The pid that said HELLO on `sock`: another pid using it is a vfork child (see exec_passing_table). */
static pid_t conn_pid;
static int helper_running;
static void start_helper(void);
static int sock = -1;
static const char *sock_path;
static uint64_t fork_token;

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/*
 * The real libc entries, for the calls this library passes on; each bound on first use, since
 * other libraries' constructors may call in before this library's own has run.
 */
#define REAL(name)                                                          \
	static __typeof__(name) *real_##name;                               \
	static __attribute__((unused)) __typeof__(name) *get_##name(void)   \
	{                                                                   \
		if (!real_##name)                                           \
			real_##name = (__typeof__(name) *)next(#name);      \
		return real_##name;                                         \
	}
#define REAL_CALL(name) (get_##name())
REAL(open)
REAL(openat)
REAL(close)
REAL(ioctl)
REAL(read)
REAL(write)
REAL(pread)
REAL(pwrite)
REAL(readlink)
REAL(readlinkat)
REAL(mmap)
REAL(munmap)
REAL(dup)
REAL(dup2)
REAL(dup3)
REAL(fcntl)
REAL(stat)
REAL(lstat)
REAL(fstat)
REAL(fstatat)
REAL(access)
REAL(faccessat)
REAL(statx)
REAL(fork)
REAL(opendir)
REAL(readdir)
REAL(readdir64)
REAL(closedir)
REAL(rewinddir)
REAL(dirfd)
REAL(telldir)
REAL(seekdir)



static int emulating(void)
{
	return sock_path != NULL;
}

/* ---- I/O on the socket, by raw syscalls so that nothing re-enters this library ------------- */

static int xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = syscall(SYS_sendto, fd, p, len, MSG_NOSIGNAL, NULL, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int xread(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = syscall(SYS_read, fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void die(const char *what)
{
	char msg[256];
	int n = snprintf(msg, sizeof msg, "vfio-preload: %s: the model's socket is gone\n", what);
	syscall(SYS_write, 2, msg, (size_t)n);
	_exit(127);
}

static int connect_model(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, sock_path);
	int s = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (syscall(SYS_connect, s, &a, sizeof a) < 0) {
		syscall(SYS_close, s);
		return -1;
	}
	/* Out of the way of the fds the client counts on (fcntl: F_DUPFD_CLOEXEC from 1000). */
	int high = (int)syscall(SYS_fcntl, s, F_DUPFD_CLOEXEC, 1000);
	if (high >= 0) {
		syscall(SYS_close, s);
		s = high;
	}
	return s;
}

struct reply {
	int32_t err;
	int64_t ret;
	uint32_t len; /* payload bytes */
	unsigned char *payload;
};

static void signal_client(int model_fd, uint64_t count);
static int read_reply(int s, struct reply *r);

/*
 * One request and its reply; the caller holds `lock`. The reply's eventfd signals are written
 * into the client's eventfds here, before the call returns, as the kernel would have signalled
 * them during the syscall.
 */
static int call(uint32_t op, const void *body, size_t blen, const void *extra, size_t elen, struct reply *r)
{
	if (sock < 0) {
		sock = connect_model();
		if (sock < 0)
			die("connect");
		uint32_t hello[2] = { PROTOCOL_VERSION, (uint32_t)getpid() };
		struct reply h;
		if (call(OP_HELLO, hello, sizeof hello, NULL, 0, &h) < 0 || h.err)
			die("hello");
		conn_id = (uint32_t)h.ret;
		conn_pid = getpid();
		free(h.payload);
		start_helper();
	}
	uint32_t hdr[2] = { (uint32_t)(8 + blen + elen), op };
	/* One frame, one sendmsg: the server then sees it in one read. */
	struct iovec iov[3] = { { hdr, 8 }, { (void *)body, blen }, { (void *)extra, elen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
	size_t total = 8 + blen + elen;
	ssize_t sent = syscall(SYS_sendmsg, sock, &mh, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR)
		sent = syscall(SYS_sendmsg, sock, &mh, MSG_NOSIGNAL);
	if (sent < 0)
		die("write");
	/* A short send (a large buffer): the rest goes byte-exact after it. */
	for (int i = 0; i < 3 && (size_t)sent < total; i++) {
		if ((size_t)sent >= iov[i].iov_len) {
			sent -= (ssize_t)iov[i].iov_len;
			total -= iov[i].iov_len;
			continue;
		}
		if (xwrite(sock, (char *)iov[i].iov_base + sent, iov[i].iov_len - (size_t)sent))
			die("write");
		total -= iov[i].iov_len;
		sent = 0;
	}
	if (read_reply(sock, r))
		die("read");
	return 0;
}

/* Reads one reply frame from s, writing its signals into the client's eventfds. */
static int read_reply(int s, struct reply *r)
{
	unsigned char rh[REPLY_HEADER];
	if (xread(s, rh, sizeof rh))
		return -1;
	uint32_t len, nsig;
	memcpy(&len, rh, 4);
	memcpy(&r->err, rh + 4, 4);
	memcpy(&r->ret, rh + 8, 8);
	memcpy(&nsig, rh + 16, 4);
	if (len < REPLY_HEADER + (size_t)nsig * 16 || len > MAX_BUF + 65536 + (size_t)nsig * 16)
		return -1;
	for (uint32_t i = 0; i < nsig; i++) {
		unsigned char sg[16];
		int32_t fd;
		uint64_t count;
		if (xread(s, sg, 16))
			return -1;
		memcpy(&fd, sg, 4);
		memcpy(&count, sg + 8, 8);
		signal_client(fd, count);
	}
	r->len = len - REPLY_HEADER - nsig * 16;
	r->payload = malloc(r->len + 1);
	if (!r->payload || xread(s, r->payload, r->len))
		return -1;
	r->payload[r->len] = 0;
	return 0;
}

/* A call's outcome as libc returns it: the value, or -1 with errno. */
static long answer(struct reply *r)
{
	long v = (long)r->ret;
	int e = r->err;
	free(r->payload);
	if (e) {
		errno = e;
		return -1;
	}
	return v;
}

static void signal_client(int model_fd, uint64_t count)
{
	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (mirror[fd] == model_fd + 1) {
			syscall(SYS_write, fd, &count, sizeof count);
			return;
		}
	}
}

/*
 * The helper thread: its own connection, the event channel of this process's. It writes the
 * client's eventfds when the model signals them outside a call (a device's interrupt, later),
 * and forwards the client's writes to eventfds the kernel consumes (INTx unmask).
 */
#include <poll.h>

static void *helper(void *arg)
{
	(void)arg;
	int s = connect_model();
	if (s < 0)
		return NULL;
	uint32_t body[2] = { conn_id, (uint32_t)getpid() };
	uint32_t hdr[2] = { 16, OP_SUBSCRIBE };
	if (xwrite(s, hdr, 8) || xwrite(s, body, 8))
		return NULL;
	struct pollfd p[64];
	int fds[64];
	for (;;) {
		int n = 1;
		p[0].fd = s;
		p[0].events = POLLIN;
		for (int fd = 0; fd < MAX_FDS && n < 64; fd++) {
			if (inbound[fd] && mirror[fd]) {
				fds[n] = fd;
				p[n].fd = fd;
				p[n++].events = POLLIN;
			}
		}
		/* A timeout, so that unmask eventfds registered meanwhile join the set. */
		if (poll(p, (nfds_t)n, 50) < 0)
			continue;
		if (p[0].revents & (POLLHUP | POLLERR))
			return NULL;
		if (p[0].revents & POLLIN) {
			struct reply r;
			pthread_mutex_lock(&lock);
			int bad = read_reply(s, &r);
			pthread_mutex_unlock(&lock);
			if (bad)
				return NULL;
			free(r.payload);
		}
		for (int i = 1; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			uint64_t count;
			if (syscall(SYS_read, fds[i], &count, 8) != 8 || !mirror[fds[i]])
				continue;
			unsigned char w[16] = { 0 };
			int32_t m = mirror[fds[i]] - 1;
			uint32_t wh[2] = { 24, OP_EVENTFD_WRITE };
			memcpy(w, &m, 4);
			memcpy(w + 8, &count, 8);
			if (xwrite(s, wh, 8) || xwrite(s, w, 16))
				return NULL;
		}
	}
}

static void start_helper(void)
{
	if (helper_running)
		return;
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* The helper takes no signals: they stay the client's threads' business. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &a, helper, NULL) == 0)
		helper_running = 1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}

/* ---- emulated paths ---------------------------------------------------------------------- */

static int served_path(const char *p)
{
	if (!p || !emulating())
		return 0;
	return !strncmp(p, "/dev/vfio", 9) || !strcmp(p, "/dev/iommu") || !strncmp(p, "/sys/kernel/iommu_groups", 24) ||
	       !strncmp(p, "/sys/kernel/debug/iommu", 23) ||
	       !strncmp(p, "/sys/bus/pci/devices/", 21) || !strncmp(p, "/sys/bus/pci/drivers", 20) || !strncmp(p, "/sys/module/", 12);
}

/* A path request (OPEN or SYSFS); returns 0 with the reply, or -1 when the model does not serve it. */
static int path_call(uint32_t op, uint32_t arg, const char *path, struct reply *r)
{
	size_t n = strnlen(path, PATH_MAX);
	call(op, &arg, 4, path, n, r);
	if (r->err == NOT_EMULATED) {
		free(r->payload);
		return -1;
	}
	return 0;
}

/* A fresh client fd standing for an emulated file: a memfd, so the number is the client's own. */
static int backing_fd(int flags, const void *content, size_t len)
{
	int fd = (int)syscall(SYS_memfd_create, "vfio-emu", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	if (fd >= MAX_FDS) {
		syscall(SYS_close, fd);
		errno = EMFILE;
		return -1;
	}
	if (len) {
		syscall(SYS_pwrite64, fd, content, len, 0);
	}
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) == 0)
		backing[fd] = (struct backing_id){ st.st_dev, st.st_ino };
	return fd;
}

static void sysfs_writable(int fd, const char *path);
static void exec_restore(void);
static dev_t node_rdev(const char *path, const struct reply *r);

/* The number the model's stat gives the char node at `path` (lock held), 0 for none. */
static dev_t model_rdev(const char *path)
{
	struct reply r;
	if (path_call(OP_SYSFS, SYSFS_STAT, path, &r) < 0)
		return 0;
	dev_t d = !r.err && r.ret == NODE_CHR ? node_rdev(path, &r) : 0;
	free(r.payload);
	return d;
}

static int emulated_open(const char *path, int flags)
{
	struct reply r;
	pthread_mutex_lock(&lock);
	if (vfio_dev_path(path)) {
		if (path_call(OP_OPEN, (uint32_t)flags, path, &r) < 0) {
			pthread_mutex_unlock(&lock);
			return -2;
		}
		long m = answer(&r);
		if (m < 0) {
			pthread_mutex_unlock(&lock);
			return -1;
		}
		int fd = backing_fd(flags, NULL, 0);
		if (fd < 0) {
			int e = errno;
			int32_t mm = (int32_t)m;
			call(OP_CLOSE, &mm, 4, NULL, 0, &r);
			free(r.payload);
			pthread_mutex_unlock(&lock);
			errno = e;
			return -1;
		}
		table[fd].kind = path_fd_kind(path);
		table[fd].model = (int)m;
		/* A cdev's number is the model's (MKDEV(major, device->index)), as its stat answers. */
		table[fd].rdev = table[fd].kind == FD_DEVICE ? model_rdev(path) : 0;
		pthread_mutex_unlock(&lock);
		return fd;
	}
	/*
	 * Opened for writing only, an attribute is not read (a store-only one, such as a driver's
	 * bind, has nothing to read): the model says whether it is a file; for reading, its content.
	 */
	int wronly = (flags & O_ACCMODE) == O_WRONLY;
	if (path_call(OP_SYSFS, wronly ? SYSFS_STAT : SYSFS_READ, path, &r) < 0) {
		pthread_mutex_unlock(&lock);
		return -2;
	}
	pthread_mutex_unlock(&lock);
	if (wronly && !r.err) {
		long type = (long)r.ret;
		free(r.payload);
		/* A directory, or a link, which in these trees always names one (iommu_group, driver). */
		if (type != NODE_REG) {
			errno = EISDIR;
			return -1;
		}
		r.len = 0;
		r.payload = NULL;
	}
	if (r.err == EISDIR) {
		/* open(2) of a model directory is not emulated (opendir/readdir are, further down). */
		free(r.payload);
		return -2;
	}
	if (r.err) {
		answer(&r);
		return -1;
	}
	int fd = backing_fd(flags, r.payload, r.len);
	free(r.payload);
	if (fd >= 0 && (flags & O_ACCMODE) != O_RDONLY)
		sysfs_writable(fd, path);
	return fd;
}

#define OPEN_MODE(flags, mode)                                   \
	do {                                                     \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {         \
			va_list ap;                              \
			va_start(ap, flags);                     \
			mode = va_arg(ap, mode_t);               \
			va_end(ap);                              \
		}                                                \
	} while (0)

/* open and openat: the model's path, or libc's (recorded in record mode). */
static int open_path(int dirfd, const char *path, int flags, mode_t mode, int at)
{
	if (served_path(path)) {
		int fd = emulated_open(path, flags);
		if (fd != -2)
			return fd;
	}
	int fd = at ? REAL_CALL(openat)(dirfd, path, flags, mode) : REAL_CALL(open)(path, flags, mode);
	if (vfio_record_active()) {
		int e = errno;
		vfio_record_open(path, flags, fd, e);
		errno = e;
	}
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return open_path(AT_FDCWD, path, flags, mode, 0);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return open_path(dirfd, path, flags, mode, 1);
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));

int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags) __attribute__((alias("__openat_2")));

/* ---- emulated sysfs writes: one write(2) is one store of the attribute ----------------------- */

/*
 * The path of each client fd opened for writing on an emulated sysfs file (NULL: none). Its
 * own lock: a dup2 in one thread may replace the path another thread is writing through, so
 * readers take a copy under the lock.
 */
static char *sysfs_write_path[MAX_FDS];
static pthread_mutex_t sysfs_path_lock = PTHREAD_MUTEX_INITIALIZER;

static void sysfs_writable(int fd, const char *path)
{
	if (fd >= 0 && fd < MAX_FDS) {
		char *copy = path ? strdup(path) : NULL;
		pthread_mutex_lock(&sysfs_path_lock);
		free(sysfs_write_path[fd]);
		sysfs_write_path[fd] = copy;
		pthread_mutex_unlock(&sysfs_path_lock);
	}
}

/* A copy of fd's sysfs path (the caller frees it), or NULL. */
static char *sysfs_path_of(int fd)
{
	char *copy = NULL;
	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	pthread_mutex_lock(&sysfs_path_lock);
	if (sysfs_write_path[fd])
		copy = strdup(sysfs_write_path[fd]);
	pthread_mutex_unlock(&sysfs_path_lock);
	return copy;
}

/* One write of `len` bytes to `path`, answered by the model's store (its ret, or -1 and errno). */
static ssize_t sysfs_store(const char *path, const void *buf, size_t len)
{
	struct reply r;
	size_t n = strnlen(path, PATH_MAX);
	if (len > MAX_BUF) {
		errno = EINVAL;
		return -1;
	}
	uint32_t head[2] = { SYSFS_WRITE, (uint32_t)n };
	char *extra = malloc(n + len + 1);
	if (!extra) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(extra, path, n);
	memcpy(extra + n, buf, len);
	pthread_mutex_lock(&lock);
	call(OP_SYSFS, head, sizeof head, extra, n + len, &r);
	pthread_mutex_unlock(&lock);
	free(extra);
	if (r.err == NOT_EMULATED) {
		free(r.payload);
		errno = EACCES;
		return -1;
	}
	return answer(&r);
}

/* write/pwrite on such an fd: -2 when the fd is not one. */
static ssize_t sysfs_fd_write(int fd, const void *buf, size_t len)
{
	char *path = sysfs_path_of(fd);
	if (!path)
		return -2;
	ssize_t r = sysfs_store(path, buf, len);
	int e = errno;
	free(path);
	errno = e;
	return r;
}

static void sysfs_fd_closed(int fd)
{
	sysfs_writable(fd, NULL);
}

/* stdio writes go through the library's own write, not write(2): a cookie stream stores them. */
static ssize_t sysfs_cookie_write(void *cookie, const char *buf, size_t len)
{
	ssize_t n = sysfs_store((const char *)cookie, buf, len);
	return n < 0 ? 0 : n;
}

static int sysfs_cookie_close(void *cookie)
{
	free(cookie);
	return 0;
}

/* fopen(path, "w") of an emulated file: a stream whose flushes are stores; (FILE *)-1 if not served. */
static FILE *sysfs_fopen_write(const char *path)
{
	struct reply r;
	pthread_mutex_lock(&lock);
	int served = path_call(OP_SYSFS, SYSFS_STAT, path, &r);
	pthread_mutex_unlock(&lock);
	if (served < 0)
		return (FILE *)-1;
	if (r.err) {
		answer(&r);
		return NULL;
	}
	long type = (long)r.ret;
	free(r.payload);
	if (type != NODE_REG) {
		errno = type == NODE_DIR ? EISDIR : EACCES;
		return NULL;
	}
	char *cookie = strdup(path);
	cookie_io_functions_t io = { .write = sysfs_cookie_write, .close = sysfs_cookie_close };
	return fopencookie(cookie, "w", io);
}

/* stdio's fopen opens without calling open(): served paths are opened here and wrapped. */
REAL(fopen)

FILE *fopen(const char *path, const char *how)
{
	if (served_path(path) && how && how[0] == 'r' && !strchr(how, '+')) {
		int fd = emulated_open(path, O_RDONLY | (strchr(how, 'e') ? O_CLOEXEC : 0));
		if (fd >= 0)
			return fdopen(fd, how);
		if (fd == -1)
			return NULL;
	}
	if (served_path(path) && how && how[0] == 'w') {
		FILE *f = sysfs_fopen_write(path);
		if (f != (FILE *)-1)
			return f;
	}
	FILE *f = REAL_CALL(fopen)(path, how);
	if (vfio_record_active() && how && how[0] == 'r' && !strchr(how, '+')) {
		int e = errno;
		vfio_record_open(path, O_RDONLY, f ? fileno(f) : -1, e);
		errno = e;
	}
	return f;
}

FILE *fopen64(const char *path, const char *how) __attribute__((alias("fopen")));

/* ---- the fd table: close, dup, fork -------------------------------------------------------- */

/* Drops the model references client fd `fd` holds; the caller holds `lock`. */
static void forget(int fd)
{
	struct reply r;
	if (fd < 0 || fd >= MAX_FDS)
		return;
	if (table[fd].kind) {
		int32_t m = table[fd].model;
		table[fd].kind = FD_NONE;
		call(OP_CLOSE, &m, 4, NULL, 0, &r);
		free(r.payload);
	}
	if (mirror[fd]) {
		int32_t m = mirror[fd] - 1;
		mirror[fd] = 0;
		inbound[fd] = 0;
		call(OP_CLOSE, &m, 4, NULL, 0, &r);
		free(r.payload);
	}
}

static int tracked(int fd)
{
	return fd >= 0 && fd < MAX_FDS && (table[fd].kind || mirror[fd]);
}

int close(int fd)
{
	sysfs_fd_closed(fd);
	if (fd >= 0 && fd < MAX_FDS)
		backing[fd] = (struct backing_id){ 0, 0 };
	if (tracked(fd)) {
		pthread_mutex_lock(&lock);
		forget(fd);
		pthread_mutex_unlock(&lock);
	}
	int r = REAL_CALL(close)(fd);
	if (vfio_record_active()) {
		int e = errno;
		vfio_record_close(fd, r, e);
		errno = e;
	}
	return r;
}

/* `to` became a copy of `from` (dup): it holds one more reference to the same model file. */
static int copied(int from, int to)
{
	/* A copy of an emulated sysfs file opened for writing stores there too (a shell's `>`). */
	if (to >= 0 && to < MAX_FDS && from != to) {
		char *path = sysfs_path_of(from);
		sysfs_writable(to, path);
		free(path);
		backing[to] = from >= 0 && from < MAX_FDS ? backing[from] : (struct backing_id){ 0, 0 };
	}
	if (to < 0 || !tracked(from) || from == to)
		return to;
	pthread_mutex_lock(&lock);
	if (to >= MAX_FDS) {
		pthread_mutex_unlock(&lock);
		REAL_CALL(close)(to);
		errno = EMFILE;
		return -1;
	}
	if (table[from].kind) {
		struct reply r;
		int32_t m = table[from].model;
		call(OP_REF, &m, 4, NULL, 0, &r);
		free(r.payload);
		table[to] = table[from];
	}
	pthread_mutex_unlock(&lock);
	return to;
}

int dup(int fd)
{
	return copied(fd, REAL_CALL(dup)(fd));
}

int dup2(int fd, int to)
{
	if (fd != to && tracked(to) && fcntl(fd, F_GETFD) >= 0) {
		pthread_mutex_lock(&lock);
		forget(to);
		pthread_mutex_unlock(&lock);
	}
	return copied(fd, REAL_CALL(dup2)(fd, to));
}

int dup3(int fd, int to, int flags)
{
	if (fd != to && tracked(to) && fcntl(fd, F_GETFD) >= 0) {
		pthread_mutex_lock(&lock);
		forget(to);
		pthread_mutex_unlock(&lock);
	}
	return copied(fd, REAL_CALL(dup3)(fd, to, flags));
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	int r = REAL_CALL(fcntl)(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return copied(fd, r);
	return r;
}

int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		pthread_mutex_lock(&lock);
		for (unsigned int fd = first; fd <= last && fd < MAX_FDS; fd++)
			if (tracked((int)fd))
				forget((int)fd);
		pthread_mutex_unlock(&lock);
	}
	return (int)syscall(SYS_close_range, first, last, flags);
}

/*
 * fork: the child inherits the fds, so it holds references of its own. Before the fork the
 * parent asks the model to set a copy of its references aside under a token; the child opens
 * its own connection and adopts them. A child that never adopts leaves them to the parent's
 * connection, which releases them when it ends.
 */
static void before_fork(void)
{
	pthread_mutex_lock(&lock);
	fork_token = 0;
	if (sock < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fork_token = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
	struct reply r;
	call(OP_FORK, &fork_token, 8, NULL, 0, &r);
	if (r.err)
		fork_token = 0;
	free(r.payload);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void after_fork_child(void)
{
	helper_running = 0;
	if (sock >= 0) {
		syscall(SYS_close, sock);
		sock = -1;
		if (fork_token) {
			struct reply r;
			call(OP_ADOPT, &fork_token, 8, NULL, 0, &r);
			free(r.payload);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* ---- ioctl ------------------------------------------------------------------------------- */

#define VFIO_NR(n) (0x3b00 | (100 + (n)))
#define VFIO_IRQ_SET_DATA_EVENTFD (1u << 2)
#define VFIO_IRQ_SET_ACTION_UNMASK (1u << 4)
#define VFIO_REGION_INFO_FLAG_MMAP (1u << 2)

/* The model fd a client fd in an ioctl buffer stands for: its own, or a mirror of an eventfd. */
static int32_t model_fd_of(int32_t fd)
{
	if (fd < 0)
		return fd;
	if (fd < MAX_FDS && table[fd].kind)
		return table[fd].model;
	if (fd < MAX_FDS && mirror[fd])
		return mirror[fd] - 1;
	char link[64], target[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
	if (n < 0 || fd >= MAX_FDS)
		return 1023; /* no such fd: one the model has free too, so it answers EBADF */
	target[n] = 0;
	if (strcmp(target, "anon_inode:[eventfd]"))
		return 1023; /* see docs/exec.md: a non-eventfd fd is EBADF, not EINVAL */
	struct reply r;
	call(OP_EVENTFD, NULL, 0, NULL, 0, &r);
	long m = answer(&r);
	if (m < 0)
		return 1023;
	mirror[fd] = (int)m + 1;
	return (int32_t)m;
}

/* Rewrites the fds inside a request's buffer to the model's; returns the offsets it changed. */
static int translate_fds(int kind, unsigned n, unsigned char *buf, size_t len, size_t *offs, int max)
{
	int k = 0;
	uint32_t u;
	int32_t fd;
#define FD_AT(off)                                                  \
	do {                                                        \
		if ((off) + 4 <= len && k < max) {                  \
			memcpy(&fd, buf + (off), 4);                \
			fd = model_fd_of(fd);                       \
			memcpy(buf + (off), &fd, 4);                \
			offs[k++] = (off);                          \
		}                                                   \
	} while (0)
	if (kind == FD_GROUP && n == 4)
		FD_AT(0);
	if (kind == FD_DEVICE && n == 10 && len >= 20) {
		memcpy(&u, buf + 4, 4);
		if (u & VFIO_IRQ_SET_DATA_EVENTFD) {
			for (size_t off = 20; off + 4 <= len; off += 4) {
				int32_t cfd;
				memcpy(&cfd, buf + off, 4);
				/* An unmask eventfd is the client's to write and the kernel's to read. */
				if (cfd >= 0 && cfd < MAX_FDS)
					inbound[cfd] = (u & VFIO_IRQ_SET_ACTION_UNMASK) != 0;
				FD_AT(off);
			}
		}
	}
	if (kind == FD_DEVICE && n == 16)
		FD_AT(24);
	if (kind == FD_DEVICE && n == 18)
		FD_AT(8); /* DEVICE_BIND_IOMMUFD's iommufd */
	/*
	 * IOMMU_IOAS_MAP_FILE's fd (';', 0x8f): an emulated fd is the model's file; any other fd one
	 * the model has free, so EBADF (docs/exec.md). A program's own memfd is put in afterwards
	 * (program_memfd) as the model memfd standing for it.
	 */
	if (kind == FD_IOMMUFD && n + 100 == 0x8f)
		FD_AT(12);
	if (kind == FD_DEVICE && n == 13 && len >= 12) {
		memcpy(&u, buf + 8, 4);
		for (size_t i = 0; i < u && 12 + 4 * i + 4 <= len; i++)
			FD_AT(12 + 4 * i);
	}
	return k;
}

/*
 * Only anonymous private memory is moved onto the server's file: the stack is in use while the
 * copy is made, and a file mapping's pages are the file's.
 */
static int shareable(const char *line, const char *nl)
{
	const char *end = nl ? nl : line + strlen(line);
	int fields = 0;
	const char *p = line;
	/* "start-end perms offset dev inode pathname": the pathname is the sixth field. */
	while (p < end && fields < 5) {
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
		fields++;
	}
	return p >= end || !strncmp(p, "[heap]", 6);
}

/*
 * The server answers MAPMEM with the files that now stand for parts of the range: each part's
 * bytes are copied into its file, which is then mapped over them, MAP_SHARED|MAP_FIXED, so that
 * the model's DMA reads and writes are the client's memory (docs/exec.md, "Memory").
 */
static void share_memory(struct reply *r, uint64_t ms, uint64_t me, uint32_t prot)
{
	for (size_t at = 0; at + 24 <= r->len;) {
		uint64_t start, len;
		uint32_t plen;
		memcpy(&start, r->payload + at, 8);
		memcpy(&len, r->payload + at + 8, 8);
		memcpy(&plen, r->payload + at + 16, 4);
		if (at + 24 + plen > r->len || plen >= PATH_MAX)
			return;
		char path[PATH_MAX];
		memcpy(path, r->payload + at + 24, plen);
		path[plen] = 0;
		at += 24 + plen;
		uint64_t s = start > ms ? start : ms, e = start + len < me ? start + len : me;
		if (s >= e)
			continue;
		int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (syscall(SYS_pwrite64, fd, (void *)(uintptr_t)s, (size_t)(e - s), (off_t)(s - start)) == (long)(e - s))
			syscall(SYS_mmap, (void *)(uintptr_t)s, (size_t)(e - s), (prot & 2 ? PROT_WRITE : 0) | PROT_READ, MAP_SHARED | MAP_FIXED, fd,
				(off_t)(s - start));
		syscall(SYS_close, fd);
	}
}

/*
 * A MAP_SHARED mapping of a memfd of the program's (QEMU's memory-backend-memfd guest RAM): the
 * program fd that is that memfd (same inode as the maps line's, still open) and the mapping's
 * file offset, so that the server backs the model's pages with the memfd itself (MAPMEM's
 * memfd, docs/exec.md "Memory"); -1 when the program holds no fd for it.
 */
static int32_t mapped_memfd(const char *line, const char *nl, uint64_t *off)
{
	unsigned long long offset, ino;
	char dev[16];
	int at = 0;
	if (sscanf(line, "%*x-%*x %*s %llx %15s %llu %n", &offset, dev, &ino, &at) != 3 || !at)
		return -1;
	const char *end = nl ? nl : line + strlen(line);
	if (end - (line + at) < 7 || memcmp(line + at, "/memfd:", 7))
		return -1;
	for (int fd = 0; fd < MAX_FDS; fd++) {
		struct stat st;
		if (table[fd].kind || mirror[fd] || syscall(SYS_fstat, fd, &st) || st.st_ino != ino || !S_ISREG(st.st_mode))
			continue;
		char link[64], target[16];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
		if (n >= 7 && !memcmp(target, "/memfd:", 7)) {
			*off = offset;
			return fd;
		}
	}
	return -1;
}

/*
 * MAP_DMA pins the client's pages: the model must know the mappings that cover the range, with
 * their protections, so that GUP answers as the kernel's would. They are read from
 * /proc/self/maps and reported before the call (MAPMEM).
 */
static void report_mapping(uint64_t s, uint64_t e, const char *perms, const char *line, const char *nl)
{
	if (perms[0] != 'r')
		return;
	uint32_t prot = 1 | (perms[1] == 'w' ? 2 : 0);
	unsigned char body[32];
	uint64_t len = e - s, off = 0;
	int32_t memfd = perms[3] == 's' ? mapped_memfd(line, nl, &off) : -1;
	memcpy(body, &s, 8);
	memcpy(body + 8, &len, 8);
	memcpy(body + 16, &prot, 4);
	memcpy(body + 20, &memfd, 4);
	memcpy(body + 24, &off, 8);
	struct reply r;
	call(OP_MAPMEM, body, sizeof body, NULL, 0, &r);
	if (!r.err && shareable(line, nl))
		share_memory(&r, s, e, prot);
	free(r.payload);
}

/* Writes back the runs of `now` that differ from `was` (what the program passed) at `dst`. */
static void write_changed(uintptr_t dst, const unsigned char *now, const unsigned char *was, size_t len)
{
	for (size_t i = 0; i < len;) {
		if (now[i] == was[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && now[j] != was[j])
			j++;
		safe_write(dst + i, now + i, j - i);
		i = j;
	}
}

/*
 * IOMMU_IOAS_MAP_FILE of a memfd of the program's own (not an emulated fd): the model gets a
 * memfd whose pages are that file's (OP_MEMFD; the server opens /proc/PID/fd/N and checks it,
 * docs/exec.md "File-backed DMA"), and the call goes on with it. Returns the model fd, to be
 * closed after the call (the IOAS area holds the file, as the kernel's does), or -1 when the
 * fd is not such a memfd or the server refuses it: the call then keeps the EBADF fd.
 */
static int32_t program_memfd(int32_t fd, uint32_t map_flags)
{
	if (fd < 0 || (fd < MAX_FDS && (table[fd].kind || mirror[fd])))
		return -1;
	char link[64], target[32];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
	if (n < 7 || memcmp(target, "/memfd:", 7))
		return -1;
	/* u32 1: the device may write it (IOMMU_IOAS_MAP_WRITEABLE). */
	uint32_t body[2] = { (uint32_t)fd, (map_flags & 2) ? 1u : 0u };
	struct reply r;
	call(OP_MEMFD, body, sizeof body, NULL, 0, &r);
	free(r.payload);
	return r.err ? -1 : (int32_t)r.ret;
}

/* An IOCTL reply asking for the memory behind pointer fields (serve-protocol.ts NEED_MEM). */
#define NEED_MEM 0x10001
#define MAX_SEGS 8

static int emulated_ioctl(int fd, unsigned long req, unsigned long arg)
{
	struct fd_entry e = table[fd];
	unsigned nr = (unsigned)(req & 0xffffffffu);
	unsigned n = (nr & 0xff) - 100;
	size_t minsz;
	enum arg_kind ak = (nr & 0xff00) == 0x3b00 ? arg_kind(e.kind, n, &minsz) : ARG_VALUE;
	unsigned char head[24] = { 0 };
	int32_t mfd = e.model;
	uint32_t cmd = nr, has = ak != ARG_VALUE && ak != ARG_NONE;
	/* A request without an argument ignores it: the model sees 0, as the recorded traces have it. */
	uint64_t value = ak == ARG_NONE ? 0 : arg;
	memcpy(head, &mfd, 4);
	memcpy(head + 4, &cmd, 4);
	memcpy(head + 8, &has, 4);
	memcpy(head + 16, &value, 8);
	struct reply r;
	/*
	 * IOMMU_FAULT_QUEUE_ALLOC (';', 0x8e) returns a new fd inside its struct, which the library
	 * has no client fd for: answered here as a kernel without the command would (docs/exec.md).
	 */
	if (e.kind == FD_IOMMUFD && nr == 0x3b8e) {
		errno = ENOTTY;
		return -1;
	}
	if (!has) {
		call(OP_IOCTL, head, sizeof head, NULL, 0, &r);
		return (int)answer(&r);
	}
	size_t want = arg_bytes(ak, minsz, arg);
	unsigned char *buf = malloc(want ? want : 1);
	unsigned char *orig = malloc(want ? want : 1);
	if (!buf || !orig) {
		free(buf);
		free(orig);
		errno = ENOMEM;
		return -1;
	}
	size_t len = safe_read(buf, arg, want);
	memcpy(orig, buf, len);
	size_t offs[64];
	int nfd = translate_fds(e.kind, n, buf, len, offs, 64);
	int32_t own_memfd = -1;
	if (e.kind == FD_IOMMUFD && nr == 0x3b8f && len >= 16) {
		int32_t cfd;
		uint32_t mflags;
		memcpy(&cfd, orig + 12, 4);
		memcpy(&mflags, orig + 4, 4);
		own_memfd = program_memfd(cfd, mflags);
		if (own_memfd >= 0)
			memcpy(buf + 12, &own_memfd, 4);
	}
	/* MAP_DMA, on a container or on /dev/iommu as one (iommufd's compat layer). */
	if ((e.kind == FD_CONTAINER || e.kind == FD_IOMMUFD) && nr == 0x3b71 && len >= 32) {
		uint64_t vaddr, size;
		memcpy(&vaddr, buf + 8, 8);
		memcpy(&size, buf + 24, 8);
		for_each_mapping(vaddr, size, report_mapping);
	}
	/* IOMMU_IOAS_MAP pins [user_va, user_va + length) as MAP_DMA does. */
	if (e.kind == FD_IOMMUFD && nr == 0x3b85 && len >= 32) {
		uint64_t vaddr, size;
		memcpy(&vaddr, buf + 16, 8);
		memcpy(&size, buf + 24, 8);
		for_each_mapping(vaddr, size, report_mapping);
	}
	call(OP_IOCTL, head, sizeof head, buf, len, &r);
	/*
	 * NEED_MEM: the struct has pointer fields whose memory the kernel reads or writes
	 * (IOMMU_GET_HW_INFO's data_uptr…; the model's declarations, uapi/iommufd.ts). The reply
	 * names the ranges; the call goes again with their bytes (as much of each as is readable:
	 * the model faults the rest), and the bytes the model changed are written back.
	 */
	unsigned char *mem = NULL;
	size_t nseg = 0, memlen = 0;
	uint64_t segaddr[MAX_SEGS];
	uint32_t seglen[MAX_SEGS];
	if (r.err == NEED_MEM && r.len % 16 == 0 && r.len / 16 <= MAX_SEGS) {
		nseg = r.len / 16;
		size_t want = 0;
		for (size_t i = 0; i < nseg; i++) {
			uint64_t l;
			memcpy(&segaddr[i], r.payload + 16 * i, 8);
			memcpy(&l, r.payload + 16 * i + 8, 8);
			seglen[i] = l > (1u << 20) ? (1u << 20) : (uint32_t)l;
			want += seglen[i];
		}
		free(r.payload);
		size_t hl = sizeof head + 16 * nseg;
		mem = malloc(hl + len + want);
		if (!mem) {
			free(buf);
			free(orig);
			errno = ENOMEM;
			return -1;
		}
		uint32_t ns = (uint32_t)nseg;
		memcpy(head + 12, &ns, 4);
		memcpy(mem, head, sizeof head);
		memcpy(mem + hl, buf, len);
		memlen = hl + len;
		for (size_t i = 0; i < nseg; i++) {
			uint32_t got = (uint32_t)safe_read(mem + memlen, segaddr[i], seglen[i]), zero = 0;
			seglen[i] = got;
			memlen += got;
			memcpy(mem + sizeof head + 16 * i, &segaddr[i], 8);
			memcpy(mem + sizeof head + 16 * i + 8, &got, 4);
			memcpy(mem + sizeof head + 16 * i + 12, &zero, 4);
		}
		call(OP_IOCTL, mem, memlen, NULL, 0, &r);
		if (r.len == memlen - hl) {
			for (size_t i = 0, at = len; i < nseg; at += seglen[i], i++)
				write_changed(segaddr[i], r.payload + at, mem + hl + at, seglen[i]);
		}
		r.len = r.len >= len ? (uint32_t)len : r.len;
	}
	free(mem);
	if (r.len == len) {
		/* The client's own fd numbers stay where it wrote them. */
		for (int i = 0; i < nfd; i++)
			memcpy(r.payload + offs[i], orig + offs[i], 4);
		/* BAR mmap is refused (docs/exec.md): the client sees no MMAP flag and uses pread/pwrite. */
		if (e.kind == FD_DEVICE && n == 8 && len >= 8 && !r.err) {
			uint32_t flags;
			memcpy(&flags, r.payload + 4, 4);
			flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
			memcpy(r.payload + 4, &flags, 4);
		}
		write_changed(arg, r.payload, orig, len);
	}
	free(buf);
	free(orig);
	long v = answer(&r);
	if (own_memfd >= 0) {
		int keep = errno;
		struct reply c;
		call(OP_CLOSE, &own_memfd, 4, NULL, 0, &c);
		free(c.payload);
		errno = keep;
	}
	if (v >= 0 && e.kind == FD_GROUP && n == 6) {
		int cfd = backing_fd(O_CLOEXEC, NULL, 0);
		if (cfd < 0) {
			int err = errno;
			int32_t m = (int32_t)v;
			call(OP_CLOSE, &m, 4, NULL, 0, &r);
			free(r.payload);
			errno = err;
			return -1;
		}
		table[cfd].kind = FD_DEVICE;
		table[cfd].model = (int)v;
		table[cfd].rdev = 0;
		return cfd;
	}
	return (int)v;
}

static long real_ioctl_long(int fd, unsigned long req, unsigned long arg)
{
	return REAL_CALL(ioctl)(fd, req, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (fd >= 0 && fd < MAX_FDS && table[fd].kind) {
		pthread_mutex_lock(&lock);
		int r = table[fd].kind ? emulated_ioctl(fd, req, arg) : (errno = EBADF, -1);
		pthread_mutex_unlock(&lock);
		return r;
	}
	if (vfio_record_tracked(fd))
		return (int)vfio_record_ioctl(fd, req, arg, real_ioctl_long);
	return REAL_CALL(ioctl)(fd, req, arg);
}

/* ---- read/write ---------------------------------------------------------------------------- */

static ssize_t emulated_pread(int fd, void *buf, size_t len, uint64_t off)
{
	if (len > MAX_BUF)
		len = MAX_BUF;
	unsigned char body[16];
	int32_t m = table[fd].model;
	uint32_t l = (uint32_t)len;
	memcpy(body, &m, 4);
	memcpy(body + 4, &l, 4);
	memcpy(body + 8, &off, 8);
	struct reply r;
	pthread_mutex_lock(&lock);
	call(OP_PREAD, body, sizeof body, NULL, 0, &r);
	pthread_mutex_unlock(&lock);
	if (!r.err && r.len <= len)
		memcpy(buf, r.payload, r.len);
	return answer(&r);
}

static ssize_t emulated_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	if (len > MAX_BUF)
		len = MAX_BUF;
	unsigned char body[16] = { 0 };
	int32_t m = table[fd].model;
	memcpy(body, &m, 4);
	memcpy(body + 8, &off, 8);
	struct reply r;
	pthread_mutex_lock(&lock);
	call(OP_PWRITE, body, sizeof body, buf, len, &r);
	pthread_mutex_unlock(&lock);
	return answer(&r);
}

static int handle_fd(int fd)
{
	return fd >= 0 && fd < MAX_FDS && table[fd].kind;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	if (handle_fd(fd))
		return emulated_pread(fd, buf, len, (uint64_t)off);
	ssize_t r = REAL_CALL(pread)(fd, buf, len, off);
	if (vfio_record_tracked(fd)) {
		int e = errno;
		vfio_record_pread(fd, buf, len, (uint64_t)off, r, e);
		errno = e;
	}
	return r;
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off) __attribute__((alias("pread")));

ssize_t __pread64_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen) {
		static const char msg[] = "*** buffer overflow detected ***: terminated\n";
		syscall(SYS_write, 2, msg, sizeof msg - 1);
		abort();
	}
	return pread(fd, buf, len, off);
}

ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen) __attribute__((alias("__pread64_chk")));

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t stored = sysfs_fd_write(fd, buf, len);
	if (stored != -2)
		return stored;
	if (handle_fd(fd))
		return emulated_pwrite(fd, buf, len, (uint64_t)off);
	ssize_t r = REAL_CALL(pwrite)(fd, buf, len, off);
	if (vfio_record_tracked(fd)) {
		int e = errno;
		vfio_record_pwrite(fd, buf, len, (uint64_t)off, r, e);
		errno = e;
	}
	return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) __attribute__((alias("pwrite")));

/* read/write at the file position, which the backing memfd keeps (lseek works as on a device fd). */
ssize_t read(int fd, void *buf, size_t len)
{
	if (!handle_fd(fd)) {
		ssize_t r = REAL_CALL(read)(fd, buf, len);
		if (vfio_record_active()) {
			int e = errno;
			vfio_record_read(fd, buf, len, r, e);
			errno = e;
		}
		return r;
	}
	off_t pos = lseek(fd, 0, SEEK_CUR);
	ssize_t n = emulated_pread(fd, buf, len, (uint64_t)pos);
	if (n > 0)
		lseek(fd, n, SEEK_CUR);
	return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t stored = sysfs_fd_write(fd, buf, len);
	if (stored != -2)
		return stored;
	if (!handle_fd(fd))
		return REAL_CALL(write)(fd, buf, len);
	off_t pos = lseek(fd, 0, SEEK_CUR);
	ssize_t n = emulated_pwrite(fd, buf, len, (uint64_t)pos);
	if (n > 0)
		lseek(fd, n, SEEK_CUR);
	return n;
}

/* BAR mmap is refused: vfio_pci_core_mmap() answers EINVAL for a region without the MMAP flag. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (handle_fd(fd)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	void *p = REAL_CALL(mmap)(addr, len, prot, flags, fd, off);
	if (vfio_record_active()) {
		int e = errno;
		vfio_record_mmap(addr, len, prot, fd, (uint64_t)off, p, e);
		errno = e;
	}
	return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

/* munmap passes through; record mode writes the munmap of a device region it recorded. */
int munmap(void *addr, size_t len)
{
	int r = REAL_CALL(munmap)(addr, len);
	if (vfio_record_active()) {
		int e = errno;
		vfio_record_munmap(addr, len, r, e);
		errno = e;
	}
	return r;
}

/* ---- readlink, stat, access ------------------------------------------------------------------ */

static ssize_t emulated_readlink(const char *path, char *buf, size_t size)
{
	struct reply r;
	pthread_mutex_lock(&lock);
	int served = path_call(OP_SYSFS, SYSFS_READLINK, path, &r);
	pthread_mutex_unlock(&lock);
	if (served < 0)
		return -2;
	if (!r.err) {
		size_t n = r.len < size ? r.len : size;
		memcpy(buf, r.payload, n);
		free(r.payload);
		return (ssize_t)n;
	}
	return answer(&r);
}

/* readlink and readlinkat: the model's link, or libc's (recorded in record mode). */
static ssize_t readlink_path(int dirfd, const char *path, char *buf, size_t size, int at)
{
	if (served_path(path)) {
		ssize_t n = emulated_readlink(path, buf, size);
		if (n != -2)
			return n;
	}
	ssize_t n = at ? REAL_CALL(readlinkat)(dirfd, path, buf, size) : REAL_CALL(readlink)(path, buf, size);
	if (vfio_record_active()) {
		int e = errno;
		vfio_record_readlink(path, buf, n, e);
		errno = e;
	}
	return n;
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	return readlink_path(AT_FDCWD, path, buf, size, 0);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	return readlink_path(dirfd, path, buf, size, 1);
}

ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		abort();
	return readlink(path, buf, size);
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		abort();
	return readlinkat(dirfd, path, buf, size);
}

/*
 * The nodes' numbers: misc 10:196 for the container, a dynamic major for groups and a dynamic
 * misc minor for /dev/iommu (iommufd's iommu_misc_dev). A device cdev's number is the model's:
 * its stat answers it (serve.ts SYSFS stat, from src/kernel/vfio/device-cdev.ts cdevDevt, which
 * vfio-dev/vfioN/dev prints too), so the two cannot disagree (QEMU's open_cdev compares them).
 */
#define VFIO_GROUP_MAJOR 243
#define IOMMU_MISC_MINOR 122

/* The device number of a served character node: the model's when its stat gave one, else by path. */
static dev_t node_rdev(const char *path, const struct reply *r)
{
	if (r->len >= 16) {
		uint32_t maj, min;
		memcpy(&maj, r->payload + 8, 4);
		memcpy(&min, r->payload + 12, 4);
		return makedev(maj, min);
	}
	switch (path_fd_kind(path)) {
	case FD_CONTAINER:
		return makedev(10, 196);
	case FD_IOMMUFD:
		return makedev(10, IOMMU_MISC_MINOR);
	case FD_DEVICE:
		return 0;
	}
	return makedev(VFIO_GROUP_MAJOR, atoi(path + 10));
}

/* stat of a served path: 0 filled, -1 errno set, -2 not served. */
static int emulated_stat(const char *path, struct stat *st, int follow)
{
	struct reply r;
	pthread_mutex_lock(&lock);
	int served = path_call(OP_SYSFS, SYSFS_STAT, path, &r);
	if (served == 0 && follow && !r.err && r.ret == NODE_LNK) {
		/* The links VFIO clients stat lead to directories (iommu_group, driver, devices/BDF). */
		r.ret = NODE_DIR;
	}
	pthread_mutex_unlock(&lock);
	if (served < 0)
		return -2;
	if (r.err)
		return (int)answer(&r);
	uint64_t size = 0;
	if (r.len >= 8)
		memcpy(&size, r.payload, 8);
	memset(st, 0, sizeof *st);
	st->st_nlink = 1;
	st->st_blksize = 4096;
	st->st_ino = 0;
	for (const char *p = path; *p; p++)
		st->st_ino = st->st_ino * 131 + (unsigned char)*p;
	switch (r.ret) {
	case NODE_CHR:
		st->st_mode = S_IFCHR | (strcmp(path, "/dev/vfio/vfio") && strcmp(path, "/dev/iommu") ? 0600 : 0666);
		st->st_rdev = node_rdev(path, &r);
		break;
	case NODE_REG:
		st->st_mode = S_IFREG | 0444;
		st->st_size = size ? (off_t)size : 4096;
		break;
	case NODE_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	default:
		st->st_mode = S_IFLNK | 0777;
	}
	free(r.payload);
	return 0;
}

int stat(const char *path, struct stat *st)
{
	if (served_path(path)) {
		int r = emulated_stat(path, st, 1);
		if (r != -2)
			return r;
	}
	return REAL_CALL(stat)(path, st);
}

int lstat(const char *path, struct stat *st)
{
	if (served_path(path)) {
		int r = emulated_stat(path, st, 0);
		if (r != -2)
			return r;
	}
	return REAL_CALL(lstat)(path, st);
}

static void handle_stat(int fd, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFCHR | 0600;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	st->st_rdev = table[fd].kind == FD_CONTAINER ? makedev(10, 196) : makedev(VFIO_GROUP_MAJOR, 0);
	if (table[fd].kind == FD_IOMMUFD) {
		st->st_mode = S_IFCHR | 0666;
		st->st_rdev = makedev(10, IOMMU_MISC_MINOR);
	}
	if (table[fd].kind == FD_DEVICE && table[fd].rdev) {
		/* A device cdev fd is its char node (QEMU's open_cdev checks st_rdev). */
		st->st_rdev = table[fd].rdev;
	} else if (table[fd].kind == FD_DEVICE) {
		/* anon_inode_getfile(): the anonymous inode's mode is S_IRUSR | S_IWUSR, no type. */
		st->st_mode = 0600;
		st->st_rdev = 0;
	}
}

int fstat(int fd, struct stat *st)
{
	if (handle_fd(fd)) {
		handle_stat(fd, st);
		return 0;
	}
	return REAL_CALL(fstat)(fd, st);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if ((flags & AT_EMPTY_PATH) && !*path && handle_fd(dirfd)) {
		handle_stat(dirfd, st);
		return 0;
	}
	if (served_path(path)) {
		int r = emulated_stat(path, st, !(flags & AT_SYMLINK_NOFOLLOW));
		if (r != -2)
			return r;
	}
	return REAL_CALL(fstatat)(dirfd, path, st, flags);
}

int stat64(const char *path, struct stat64 *st) __attribute__((alias("stat")));
int lstat64(const char *path, struct stat64 *st) __attribute__((alias("lstat")));
int fstat64(int fd, struct stat64 *st) __attribute__((alias("fstat")));
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) __attribute__((alias("fstatat")));
int newfstatat(int dirfd, const char *path, struct stat *st, int flags) __attribute__((alias("fstatat")));

/* The glibc < 2.33 entry points older binaries call. */
int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}
int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}
int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}
int __xstat64(int ver, const char *path, struct stat64 *st) __attribute__((alias("__xstat")));
int __lxstat64(int ver, const char *path, struct stat64 *st) __attribute__((alias("__lxstat")));
int __fxstat64(int ver, int fd, struct stat64 *st) __attribute__((alias("__fxstat")));
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) __attribute__((alias("__fxstatat")));

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx)
{
	struct stat st;
	int r = -2;
	if ((flags & AT_EMPTY_PATH) && !*path && handle_fd(dirfd)) {
		handle_stat(dirfd, &st);
		r = 0;
	} else if (served_path(path)) {
		r = emulated_stat(path, &st, !(flags & AT_SYMLINK_NOFOLLOW));
	}
	if (r == -2)
		return REAL_CALL(statx)(dirfd, path, flags, mask, sx);
	if (r < 0)
		return r;
	memset(sx, 0, sizeof *sx);
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_mode = (uint16_t)st.st_mode;
	sx->stx_nlink = (uint32_t)st.st_nlink;
	sx->stx_ino = st.st_ino;
	sx->stx_size = (uint64_t)st.st_size;
	sx->stx_blksize = (uint32_t)st.st_blksize;
	sx->stx_rdev_major = major(st.st_rdev);
	sx->stx_rdev_minor = minor(st.st_rdev);
	return 0;
}

static int emulated_access(const char *path, int mode)
{
	struct stat st;
	int r = emulated_stat(path, &st, 1);
	if (r != 0)
		return r;
	if ((mode & W_OK) && !S_ISCHR(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

int access(const char *path, int mode)
{
	if (served_path(path)) {
		int r = emulated_access(path, mode);
		if (r != -2)
			return r;
	}
	return REAL_CALL(access)(path, mode);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (served_path(path)) {
		int r = emulated_access(path, mode);
		if (r != -2)
			return r;
	}
	return REAL_CALL(faccessat)(dirfd, path, mode, flags);
}

/* ---- setup ------------------------------------------------------------------------------- */

__attribute__((constructor)) static void setup(void)
{
#define BIND(name) real_##name = (__typeof__(real_##name))next(#name)
	BIND(open);
	BIND(openat);
	BIND(close);
	BIND(ioctl);
	BIND(read);
	BIND(write);
	BIND(pread);
	BIND(pwrite);
	BIND(readlink);
	BIND(readlinkat);
	BIND(mmap);
	BIND(munmap);
	BIND(dup);
	BIND(dup2);
	BIND(dup3);
	BIND(fcntl);
	BIND(stat);
	BIND(lstat);
	BIND(fstat);
	BIND(fstatat);
	BIND(access);
	BIND(faccessat);
	BIND(statx);
	BIND(fork);
	BIND(fopen);
	/* Record mode observes the real kernel: nothing is emulated then. */
	vfio_record_setup();
	const char *p = getenv("VFIO_EMU_SOCKET");
	if (p && *p && !vfio_record_active())
		sock_path = strdup(p);
	exec_restore();
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* ---- emulated directories: opendir/readdir of the model's sysfs trees and /dev/vfio --------- */

/*
 * An emulated directory is a listing taken at opendir (kernfs, too, lists a directory as it is
 * when read): "." and "..", then the model's entries with their types. The DIR * handed out is
 * this struct, known by its address; every other DIR goes to libc. dirfd() of one answers
 * ENOTSUP (there is no directory fd to give), and glibc's own scandir/nftw open directories
 * without calling opendir, so they see libc's tree.
 */
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "readdir hands out dirent64 records");

struct emu_dir {
	size_t n, pos;
	struct dirent64 *ents;
};
#define MAX_DIRS 64
static struct emu_dir *emu_dirs[MAX_DIRS];

static struct emu_dir *emu_dir_of(DIR *d)
{
	for (int i = 0; i < MAX_DIRS; i++)
		if (emu_dirs[i] && (void *)emu_dirs[i] == (void *)d)
			return emu_dirs[i];
	return NULL;
}

static unsigned char dtype_of(unsigned char node)
{
	switch (node) {
	case NODE_CHR:
		return DT_CHR;
	case NODE_REG:
		return DT_REG;
	case NODE_DIR:
		return DT_DIR;
	case NODE_LNK:
		return DT_LNK;
	}
	return DT_UNKNOWN;
}

static void emu_dir_add(struct emu_dir *d, const char *name, unsigned char type)
{
	struct dirent64 *e = &d->ents[d->n];
	memset(e, 0, sizeof *e);
	e->d_ino = 0x1000 + d->n; /* readers skip entries with inode 0 */
	e->d_off = (off64_t)(d->n + 1);
	e->d_reclen = sizeof *e;
	e->d_type = type;
	snprintf(e->d_name, sizeof e->d_name, "%s", name);
	d->n++;
}

/* The model's listing of `path` as a DIR (0), -1 with errno, or -2 when the model does not serve it. */
static int emulated_opendir(const char *path, DIR **out)
{
	struct reply r;
	pthread_mutex_lock(&lock);
	if (path_call(OP_SYSFS, SYSFS_LIST, path, &r) < 0) {
		pthread_mutex_unlock(&lock);
		return -2;
	}
	pthread_mutex_unlock(&lock);
	if (r.err) {
		answer(&r);
		return -1;
	}
	struct emu_dir *d = calloc(1, sizeof *d);
	if (d)
		d->ents = calloc((size_t)r.ret + 2, sizeof *d->ents);
	if (!d || !d->ents) {
		free(d);
		free(r.payload);
		errno = ENOMEM;
		return -1;
	}
	emu_dir_add(d, ".", DT_DIR);
	emu_dir_add(d, "..", DT_DIR);
	const char *p = (const char *)r.payload, *end = (const char *)r.payload + r.len;
	while (p < end && d->n < (size_t)r.ret + 2) {
		unsigned char type = (unsigned char)*p++;
		size_t l = strnlen(p, (size_t)(end - p));
		if (p + l >= end)
			break;
		emu_dir_add(d, p, dtype_of(type));
		p += l + 1;
	}
	free(r.payload);
	pthread_mutex_lock(&lock);
	int slot = 0;
	while (slot < MAX_DIRS && emu_dirs[slot])
		slot++;
	if (slot < MAX_DIRS)
		emu_dirs[slot] = d;
	pthread_mutex_unlock(&lock);
	if (slot == MAX_DIRS) {
		free(d->ents);
		free(d);
		errno = EMFILE;
		return -1;
	}
	*out = (DIR *)(void *)d;
	return 0;
}

DIR *opendir(const char *path)
{
	if (served_path(path)) {
		/* "dir/" names the directory itself: the model knows it without the slashes. */
		char name[PATH_MAX];
		size_t n = strnlen(path, PATH_MAX - 1);
		memcpy(name, path, n);
		while (n > 1 && name[n - 1] == '/')
			n--;
		name[n] = 0;
		DIR *d;
		int rc = emulated_opendir(name, &d);
		if (rc == 0)
			return d;
		if (rc == -1)
			return NULL;
	}
	return REAL_CALL(opendir)(path);
}

struct dirent64 *readdir64(DIR *dir)
{
	struct emu_dir *d = emu_dir_of(dir);
	if (!d)
		return REAL_CALL(readdir64)(dir);
	return d->pos < d->n ? &d->ents[d->pos++] : NULL;
}

struct dirent *readdir(DIR *dir)
{
	if (!emu_dir_of(dir))
		return REAL_CALL(readdir)(dir);
	return (struct dirent *)(void *)readdir64(dir);
}

int closedir(DIR *dir)
{
	struct emu_dir *d = emu_dir_of(dir);
	if (!d)
		return REAL_CALL(closedir)(dir);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_DIRS; i++)
		if (emu_dirs[i] == d)
			emu_dirs[i] = NULL;
	pthread_mutex_unlock(&lock);
	free(d->ents);
	free(d);
	return 0;
}

void rewinddir(DIR *dir)
{
	struct emu_dir *d = emu_dir_of(dir);
	if (!d) {
		REAL_CALL(rewinddir)(dir);
		return;
	}
	d->pos = 0;
}

long telldir(DIR *dir)
{
	struct emu_dir *d = emu_dir_of(dir);
	return d ? (long)d->pos : REAL_CALL(telldir)(dir);
}

void seekdir(DIR *dir, long pos)
{
	struct emu_dir *d = emu_dir_of(dir);
	if (!d) {
		REAL_CALL(seekdir)(dir, pos);
		return;
	}
	d->pos = pos < 0 ? 0 : (size_t)pos > d->n ? d->n : (size_t)pos;
}

int dirfd(DIR *dir)
{
	if (!emu_dir_of(dir))
		return REAL_CALL(dirfd)(dir);
	errno = ENOTSUP;
	return -1;
}

/* ---- execve: the emulated fds across exec -------------------------------------------------- */

/*
 * execve keeps every fd without FD_CLOEXEC and closes the others (fs/exec.c, begin_new_exec →
 * do_close_on_exec), before the new image runs. The new image loads this library afresh, with an
 * empty table, and the old image's connection (FD_CLOEXEC) ends with it. So the exec wrappers
 * below hand the process's references to a fresh connection first:
 *
 *   - on a new socket, HELLO, then SHARE: it takes one reference for each emulated fd (and each
 *     eventfd mirror) that survives the exec: still the memfd the library made for it (its
 *     st_dev/st_ino, so a program's own memfd at that number is not taken for one) and without
 *     FD_CLOEXEC;
 *   - the socket, the connection's id and the entries (kind, model fd, cdev number, identity;
 *     eventfd mirrors; the sysfs path of a file opened for writing) go to the new image in
 *     VFIO_EMU_EXEC, which the new image's constructor reads and removes (exec_restore);
 *   - the new image first sends EXECED naming the old connection: the model ends it then, so the
 *     references of the fds execve closed go before the new image's first call, and the release
 *     of a file whose last reference that was runs there, as in do_close_on_exec. Then each
 *     entry is checked again (the fd must still be that memfd) and taken into the table.
 *
 * A failed exec closes the new socket: the old connection still holds everything. In a vfork
 * child (its pid is not the connection's) the parent's memory is shared and the parent stays:
 * nothing is locked or allocated, the new connection takes references from the parent's, and
 * EXECED leaves the parent's connection alone (it is another pid's). posix_spawn execs inside
 * libc without these wrappers: its program starts with no emulated fds (docs/exec.md).
 */
#define EXEC_ENV "VFIO_EMU_EXEC"

enum exec_how { EXEC_PATH, EXEC_SEARCH, EXEC_FD, EXEC_AT };
struct exec_target {
	enum exec_how how;
	int fd;
	const char *path;
	char *const *argv;
	int flags;
};

REAL(execve)
REAL(execvpe)
REAL(fexecve)
#if __GLIBC_PREREQ(2, 34)
REAL(execveat)
#endif

static int exec_real(const struct exec_target *t, char *const envp[])
{
	switch (t->how) {
	case EXEC_SEARCH:
		return REAL_CALL(execvpe)(t->path, t->argv, envp);
	case EXEC_FD:
		return REAL_CALL(fexecve)(t->fd, t->argv, envp);
	case EXEC_AT:
#if __GLIBC_PREREQ(2, 34)
		return REAL_CALL(execveat)(t->fd, t->path, t->argv, envp, t->flags);
#endif
	case EXEC_PATH:
		break;
	}
	return REAL_CALL(execve)(t->path, t->argv, envp);
}

/* Whether client fd `fd` is the memfd with identity `id` (fstat, by raw syscall). */
static int exec_same_file(int fd, struct backing_id id)
{
	struct stat st;
	return id.ino && syscall(SYS_fstat, fd, &st) == 0 && st.st_dev == id.dev && st.st_ino == id.ino;
}

/* Whether client fd `fd` is an eventfd (what the library mirrored it for). */
static int exec_is_eventfd(int fd)
{
	char link[64], target[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
	if (n < 0)
		return 0;
	target[n] = 0;
	return !strcmp(target, "anon_inode:[eventfd]");
}

/* Whether fd stays open across execve: open, without FD_CLOEXEC. */
static int exec_survives(int fd)
{
	long fl = syscall(SYS_fcntl, fd, F_GETFD);
	return fl >= 0 && !(fl & FD_CLOEXEC);
}

/*
 * One request on socket s and its reply, by raw syscalls and stack memory only (a vfork child
 * shares its parent's heap): ret, or -1 when the call failed. The reply's signals and payload
 * are read and dropped (the new connection mirrors no eventfd yet).
 */
static long exec_request(int s, uint32_t op, const void *body, size_t blen)
{
	uint32_t hdr[2] = { (uint32_t)(8 + blen), op };
	if (xwrite(s, hdr, 8) || (blen && xwrite(s, body, blen)))
		return -1;
	unsigned char rh[REPLY_HEADER], sink[256];
	if (xread(s, rh, sizeof rh))
		return -1;
	uint32_t len;
	int32_t err;
	int64_t ret;
	memcpy(&len, rh, 4);
	memcpy(&err, rh + 4, 4);
	memcpy(&ret, rh + 8, 8);
	for (size_t rest = len > REPLY_HEADER ? len - REPLY_HEADER : 0; rest;) {
		size_t n = rest < sizeof sink ? rest : sizeof sink;
		if (xread(s, sink, n))
			return -1;
		rest -= n;
	}
	return err ? -1 : (long)ret;
}

/*
 * The entries that survive the exec, written into `text` (of `cap` bytes) as VFIO_EMU_EXEC's
 * records after its head, with their model fds in `models`: `t FD KIND MODEL MAJ MIN DEV INO`
 * for an emulated fd, `e FD MODEL INBOUND` for an eventfd mirror, `w FD DEV INO HEXPATH` for a
 * sysfs file opened for writing. Returns the number of model fds.
 */
static int exec_entries(char *text, size_t cap, int32_t *models)
{
	int n = 0;
	size_t at = strlen(text);
	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (!table[fd].kind && !mirror[fd] && !sysfs_write_path[fd])
			continue;
		if (!exec_survives(fd))
			continue;
		if (table[fd].kind && exec_same_file(fd, backing[fd])) {
			at += (size_t)snprintf(text + at, cap - at, ";t %d %d %d %u %u %llu %llu", fd, table[fd].kind, table[fd].model, major(table[fd].rdev),
					       minor(table[fd].rdev), (unsigned long long)backing[fd].dev, (unsigned long long)backing[fd].ino);
			models[n++] = table[fd].model;
		}
		if (mirror[fd] && exec_is_eventfd(fd)) {
			at += (size_t)snprintf(text + at, cap - at, ";e %d %d %d", fd, mirror[fd] - 1, inbound[fd]);
			models[n++] = mirror[fd] - 1;
		}
		const char *path = sysfs_write_path[fd];
		if (path && exec_same_file(fd, backing[fd]) && at + 64 + 2 * strlen(path) < cap) {
			at += (size_t)snprintf(text + at, cap - at, ";w %d %llu %llu ", fd, (unsigned long long)backing[fd].dev, (unsigned long long)backing[fd].ino);
			for (const char *p = path; *p; p++)
				at += (size_t)snprintf(text + at, cap - at, "%02x", (unsigned char)*p);
		}
	}
	return n;
}

/* The size VFIO_EMU_EXEC needs at most for the current table. */
static size_t exec_env_size(void)
{
	size_t size = 128;
	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (table[fd].kind || mirror[fd])
			size += 160;
		if (sysfs_write_path[fd])
			size += 64 + 2 * strlen(sysfs_write_path[fd]);
	}
	return size;
}

/* An exec that hands the table to the new image (see above); the real call when nothing is held. */
static int exec_passing_table(const struct exec_target *t, char *const envp[])
{
	if (!emulating() || sock < 0)
		return exec_real(t, envp);
	/* A vfork child runs on its parent's memory: no locks taken, nothing allocated, nothing set. */
	int own = getpid() == conn_pid;
	if (own) {
		pthread_mutex_lock(&lock);
		pthread_mutex_lock(&sysfs_path_lock);
	}
	size_t cap = exec_env_size() + sizeof EXEC_ENV;
	char text[cap];
	int32_t share[2 + 2 * MAX_FDS];
	int s = connect_model();
	long id = s < 0 ? -1 : exec_request(s, OP_HELLO, (uint32_t[]){ PROTOCOL_VERSION, (uint32_t)getpid() }, 8);
	int n = 0;
	if (id >= 0) {
		snprintf(text, cap, EXEC_ENV "=%d %ld %u", s, id, conn_id);
		n = exec_entries(text, cap, share + 2);
		share[0] = (int32_t)conn_id;
		share[1] = (int32_t)conn_pid;
	}
	if (id < 0 || exec_request(s, OP_SHARE, share, 4 * (size_t)(2 + n)) < 0 || syscall(SYS_fcntl, s, F_SETFD, 0) < 0) {
		/* The model cannot take them: the exec goes on as before, its fds plain memfds. */
		if (s >= 0)
			syscall(SYS_close, s);
		s = -1;
	}
	size_t nenv = 0;
	while (envp && envp[nenv])
		nenv++;
	char *env[nenv + 2];
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(envp[i], EXEC_ENV "=", sizeof EXEC_ENV))
			env[k++] = envp[i];
	if (s >= 0)
		env[k++] = text;
	env[k] = NULL;
	int r = exec_real(t, env);
	int e = errno;
	if (s >= 0)
		syscall(SYS_close, s);
	if (own) {
		pthread_mutex_unlock(&sysfs_path_lock);
		pthread_mutex_unlock(&lock);
	}
	errno = e;
	return r;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_target t = { .how = EXEC_PATH, .path = path, .argv = argv };
	return exec_passing_table(&t, envp);
}

int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_target t = { .how = EXEC_SEARCH, .path = file, .argv = argv };
	return exec_passing_table(&t, envp);
}

int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct exec_target t = { .how = EXEC_FD, .fd = fd, .argv = argv };
	return exec_passing_table(&t, envp);
}

#if __GLIBC_PREREQ(2, 34)
int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	struct exec_target t = { .how = EXEC_AT, .fd = dirfd, .path = path, .argv = argv, .flags = flags };
	return exec_passing_table(&t, envp);
}
#endif

/* execl, execlp, execle: the list up to its NULL as an argv on the stack, then the calls above. */
static size_t exec_list_count(va_list *ap)
{
	size_t n = 1;
	while (va_arg(*ap, char *))
		n++;
	return n;
}

/* argv[0..n] from `first` and the list (argv[n] is its NULL); *ap is left after the NULL. */
static void exec_list_take(char **argv, const char *first, va_list *ap, size_t n)
{
	argv[0] = (char *)first;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(*ap, char *);
}

#define EXEC_LIST(first, ap, argv)                    \
	va_list ap;                                   \
	va_start(ap, first);                          \
	size_t argc_##argv = exec_list_count(&ap);    \
	va_end(ap);                                   \
	char *argv[argc_##argv + 1];                  \
	va_start(ap, first);                          \
	exec_list_take(argv, first, &ap, argc_##argv)

int execl(const char *path, const char *arg, ...)
{
	EXEC_LIST(arg, ap, argv);
	va_end(ap);
	return execve(path, argv, environ);
}

int execlp(const char *file, const char *arg, ...)
{
	EXEC_LIST(arg, ap, argv);
	va_end(ap);
	return execvpe(file, argv, environ);
}

int execle(const char *path, const char *arg, ...)
{
	EXEC_LIST(arg, ap, argv);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/*
 * A shell's `>` into a sysfs file for another program leaves that program's stdout (or stderr)
 * on it, and stdio writes through libc's internal write, which no preload reaches. So the stream
 * becomes one whose flushes are stores, as fopen(…, "w") of such a file gives (glibc lets
 * stdout and stderr be assigned); fileno() still answers the fd.
 */
static void exec_stdio_stores(int fd, const char *path)
{
	if (fd != 1 && fd != 2)
		return;
	char *cookie = strdup(path);
	cookie_io_functions_t io = { .write = sysfs_cookie_write, .close = sysfs_cookie_close };
	FILE *f = cookie ? fopencookie(cookie, "w", io) : NULL;
	if (!f) {
		free(cookie);
		return;
	}
	f->_fileno = fd;
	if (fd == 1) {
		stdout = f;
	} else {
		setvbuf(f, NULL, _IONBF, 0);
		stderr = f;
	}
}

/*
 * In the new image (the constructor): takes the entries VFIO_EMU_EXEC passes, and removes it so
 * that the program and its own children never see it. An entry whose fd is no longer that
 * memfd (or eventfd) gives its reference back.
 */
static void exec_restore(void)
{
	const char *v = getenv(EXEC_ENV);
	if (!v)
		return;
	char *text = strdup(v);
	unsetenv(EXEC_ENV);
	int s, at = 0;
	unsigned id, old;
	struct stat st;
	if (!text || !emulating() || sscanf(text, "%d %u %u%n", &s, &id, &old, &at) != 3 || syscall(SYS_fstat, s, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		free(text);
		return;
	}
	/* A model that is gone leaves the program its fds as plain memfds, as before the library ran. */
	int32_t o = (int32_t)old;
	if (exec_request(s, OP_EXECED, &o, 4) < 0) {
		syscall(SYS_close, s);
		free(text);
		return;
	}
	pthread_mutex_lock(&lock);
	sock = s;
	conn_id = id;
	conn_pid = getpid();
	syscall(SYS_fcntl, s, F_SETFD, FD_CLOEXEC);
	struct reply r;
	char *save = NULL;
	for (char *rec = strtok_r(text + at, ";", &save); rec; rec = strtok_r(NULL, ";", &save)) {
		int fd, kind, model, in;
		unsigned maj, min;
		unsigned long long dev, ino;
		int32_t back = -1;
		char hex[2 * PATH_MAX + 1];
		if (sscanf(rec, "t %d %d %d %u %u %llu %llu", &fd, &kind, &model, &maj, &min, &dev, &ino) == 7) {
			struct backing_id b = { (dev_t)dev, (ino_t)ino };
			back = model;
			if (fd >= 0 && fd < MAX_FDS && kind > 0 && exec_same_file(fd, b)) {
				table[fd] = (struct fd_entry){ .kind = (unsigned char)kind, .model = model, .rdev = makedev(maj, min) };
				backing[fd] = b;
				back = -1;
			}
		} else if (sscanf(rec, "e %d %d %d", &fd, &model, &in) == 3) {
			back = model;
			if (fd >= 0 && fd < MAX_FDS && exec_is_eventfd(fd)) {
				mirror[fd] = model + 1;
				inbound[fd] = (unsigned char)(in != 0);
				back = -1;
			}
		} else if (sscanf(rec, "w %d %llu %llu %8192s", &fd, &dev, &ino, hex) == 4) {
			struct backing_id b = { (dev_t)dev, (ino_t)ino };
			char path[PATH_MAX];
			size_t n = strlen(hex) / 2;
			for (size_t i = 0; i < n && i < PATH_MAX - 1; i++)
				sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&path[i]);
			path[n < PATH_MAX - 1 ? n : PATH_MAX - 1] = 0;
			if (fd >= 0 && fd < MAX_FDS && exec_same_file(fd, b)) {
				backing[fd] = b;
				sysfs_writable(fd, path);
				exec_stdio_stores(fd, path);
			}
		}
		if (back >= 0) {
			call(OP_CLOSE, &back, 4, NULL, 0, &r);
			free(r.payload);
		}
	}
	pthread_mutex_unlock(&lock);
	start_helper();
	free(text);
}
