/*
 * vtrace.h - the vfio-trace/1 writer the project's real-kernel probes share (devprobe.c,
 * iommufdprobe.c): JSON output as "@@T NAME <json>" lines (one write(2) each, split later by the
 * shared harness's split-traces.py), /dev/kmsg drained into kmsg events after every recorded
 * syscall, and one recording wrapper per syscall the traces carry (docs/trace-format.md).
 * The including file defines req_name(fd, nr), the symbolic name of an ioctl request.
 * Buffers the probe did not fill are 0xaa.
 */
#ifndef VTRACE_H
#define VTRACE_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../../native/kmsg-text.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

static const char *req_name(int fd, unsigned nr);
/* header key "config": the build's name as docs/trace-format.md lists them (src/kernel/config.ts
 * KERNEL_CONFIGS); written only when set (a legacy build leaves it out, so devprobe's headers are
 * unchanged) */
static char VT_CONFIG[32];

#define AA 0xaa
#define MAXBUF 8192

/* ================================================================ output */
static const char *TN = "probe";
static char J[4 * MAXBUF + 4096];
static size_t JN;
static int KMSG = -1;

static void put(const char *fmt, ...)
{
	va_list a;
	va_start(a, fmt);
	if (JN < sizeof(J))
		JN += vsnprintf(J + JN, sizeof(J) - JN, fmt, a);
	if (JN > sizeof(J) - 1)
		JN = sizeof(J) - 1;
	va_end(a);
}

static void put_hex(const char *key, const void *p, size_t n)
{
	const uint8_t *b = p;
	put(",\"%s\":\"", key);
	for (size_t i = 0; i < n && JN + 4 < sizeof(J); i++)
		JN += sprintf(J + JN, "%02x", b[i]);
	put("\"");
}

static void put_str(const char *key, const char *s, size_t n)
{
	if (key)
		put(",\"%s\":", key);
	put("\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\')
			put("\\%c", c);
		else if (c == '\n')
			put("\\n");
		else if (c == '\t')
			put("\\t");
		else if (c < 0x20 || c == 0x7f)
			put("\\u%04x", c);
		else
			put("%c", c);
	}
	put("\"");
}

/* all of p[0..n) to stdout (one write(2) unless interrupted or short) */
static void write_out(const char *p, size_t n)
{
	for (size_t o = 0; o < n;) {
		ssize_t w = write(1, p + o, n - o);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		o += w;
	}
}

static void line(void)
{
	static char W[sizeof(J) + 128];
	size_t n = snprintf(W, 128, "@@T %s ", TN);
	memcpy(W + n, J, JN);
	n += JN;
	W[n++] = '\n';
	write_out(W, n);
}

/* every new /dev/kmsg record becomes one kmsg event (its message: ../../native/kmsg-text.h) */
static void kmsg(void)
{
	char r[8192], t[8192];
	for (int k = 0; KMSG >= 0 && k < 4096; k++) {
		ssize_t n = read(KMSG, r, sizeof(r) - 1);
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;
		if (n <= 0)
			return;
		r[n] = 0;
		long m = kmsg_text(r, t, sizeof(t));
		if (m < 0)
			continue;
		JN = 0;
		put("{\"op\":\"kmsg\"");
		put_str("text", t, m);
		put("}");
		line();
	}
}

static void begin(const char *op) { JN = 0; put("{\"op\":\"%s\"", op); }
static void outcome(long ret, int err) { put(",\"ret\":%ld,\"errno\":%d", ret, err); }
static void end(const char *label)
{
	if (label && *label)
		put_str("label", label, strlen(label));
	put("}");
	line();
	kmsg();
}

/* ================================================================ recorded syscalls */
static int FDS[64], NFDS;
static void keep(int fd) { if (fd >= 0 && NFDS < 64) FDS[NFDS++] = fd; }
static void drop(int fd)
{
	for (int i = 0; i < NFDS; i++)
		if (FDS[i] == fd) { FDS[i] = FDS[--NFDS]; return; }
}

static int r_open(const char *path, const char *label)
{
	int fd = open(path, O_RDWR);
	int e = fd < 0 ? errno : 0;
	begin("open");
	put_str("path", path, strlen(path));
	put(",\"flags\":\"O_RDWR\"");
	outcome(fd, e);
	end(label);
	keep(fd);
	return fd;
}

static int r_close(int fd, const char *label)
{
	int r = close(fd);
	int e = r < 0 ? errno : 0;
	begin("close");
	put(",\"fd\":%d", fd);
	outcome(r, e);
	end(label);
	drop(fd);
	return r;
}

static int r_eventfd(const char *label)
{
	/* Non-blocking, so that eventfd-read answers EAGAIN when nothing was signalled. */
	int fd = eventfd(0, EFD_NONBLOCK);
	begin("eventfd");
	outcome(fd, fd < 0 ? errno : 0);
	end(label);
	keep(fd);
	return fd;
}

/* eventfd-read: was the interrupt delivered, and how many times since the last read. */
static void r_eventfd_read(int fd, const char *label)
{
	uint64_t v = 0;
	ssize_t r = read(fd, &v, sizeof(v));
	int e = r < 0 ? errno : 0;
	begin("eventfd-read");
	put(",\"fd\":%d", fd);
	if (r == (ssize_t)sizeof(v))
		put(",\"value\":\"0x%llx\"", (unsigned long long)v);
	outcome((int)r, e);
	end(label);
}

static const char *prot_name(int prot)
{
	return prot == (PROT_READ | PROT_WRITE) ? "rw" : prot == PROT_READ ? "r" : prot == PROT_WRITE ? "w" : "none";
}

/* one mmap event: a device fd's region (fd >= 0, MAP_SHARED) or anonymous private memory */
static void *mmap_event(void *p, size_t len, int prot, int fd, uint64_t off, const char *label)
{
	int e = p == MAP_FAILED ? errno : 0;
	begin("mmap");
	put(",\"addr\":null,\"len\":%zu,\"prot\":\"%s\"", len, prot_name(prot));
	if (fd >= 0)
		put(",\"fd\":%d,\"offset\":\"0x%llx\"", fd, (unsigned long long)off);
	if (p == MAP_FAILED)
		put(",\"ret\":-1,\"errno\":%d", e);
	else
		put(",\"ret\":\"0x%llx\",\"errno\":0", (unsigned long long)(uintptr_t)p);
	end(label);
	return p;
}

static void *r_mmap(size_t len, int prot, int fd, uint64_t off, const char *label)
{
	return mmap_event(mmap(NULL, len, prot, MAP_SHARED, fd, off), len, prot, fd, off, label);
}

/* anonymous private memory (no fd, no offset in the event), e.g. the buffers a probe maps for DMA */
static void *r_mmap_anon(size_t len, int prot, const char *label)
{
	return mmap_event(mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), len, prot, -1, 0, label);
}

static void r_mprotect(void *p, size_t len, int prot, const char *label)
{
	int r = mprotect(p, len, prot);
	begin("mprotect");
	put(",\"addr\":\"0x%llx\",\"len\":%zu,\"prot\":\"%s\"", (unsigned long long)(uintptr_t)p, len, prot_name(prot));
	outcome(r, r < 0 ? errno : 0);
	end(label);
}

/*
 * load/store: one CPU access of n (1, 2, 4, 8) bytes through a mapping, as a driver's readl/
 * writel on it. A fault is caught and recorded as its signal (SIGBUS: errno-like EIO, SIGSEGV:
 * EFAULT), as src/trace/format.ts describes the ops.
 */
static sigjmp_buf FAULT_JMP;
static volatile sig_atomic_t FAULT_SIG;
static void on_fault(int sig) { FAULT_SIG = sig; siglongjmp(FAULT_JMP, 1); }

static uint64_t r_access(void *p, size_t n, int write, uint64_t val, const char *label)
{
	volatile uint64_t v = write ? val : 0;
	struct sigaction sa, obus, osegv;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	FAULT_SIG = 0;
	if (!sigsetjmp(FAULT_JMP, 1)) {
		switch (n) {
		case 1: if (write) *(volatile uint8_t *)p = (uint8_t)v; else v = *(volatile uint8_t *)p; break;
		case 2: if (write) *(volatile uint16_t *)p = (uint16_t)v; else v = *(volatile uint16_t *)p; break;
		case 4: if (write) *(volatile uint32_t *)p = (uint32_t)v; else v = *(volatile uint32_t *)p; break;
		default: if (write) *(volatile uint64_t *)p = v; else v = *(volatile uint64_t *)p; break;
		}
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	begin(write ? "store" : "load");
	put(",\"addr\":\"0x%llx\",\"len\":%zu", (unsigned long long)(uintptr_t)p, n);
	if (write || !FAULT_SIG)
		put_hex(write ? "in" : "out", b, n);
	if (FAULT_SIG)
		put(",\"signal\":\"%s\"", FAULT_SIG == SIGBUS ? "SIGBUS" : "SIGSEGV");
	outcome(FAULT_SIG ? -1 : 0, FAULT_SIG == SIGBUS ? EIO : FAULT_SIG ? EFAULT : 0);
	end(label);
	return v;
}

static void r_munmap(void *p, size_t len)
{
	int r = munmap(p, len);
	begin("munmap");
	put(",\"addr\":\"0x%llx\",\"len\":%zu", (unsigned long long)(uintptr_t)p, len);
	outcome(r, r < 0 ? errno : 0);
	end("");
}


static int ERR; /* errno of the last recorded call */

static long r_ioctl_val(int fd, unsigned nr, unsigned long arg, const char *label)
{
	long r = ioctl(fd, nr, arg);
	ERR = r < 0 ? errno : 0;
	begin("ioctl");
	put(",\"fd\":%d,\"request\":\"%s\",\"nr\":\"0x%x\",\"arg\":%lu", fd, req_name(fd, nr), nr, arg);
	outcome(r, ERR);
	end(label);
	return r;
}

static long r_ioctl(int fd, unsigned nr, void *buf, size_t n, const char *label)
{
	begin("ioctl");
	put(",\"fd\":%d,\"request\":\"%s\",\"nr\":\"0x%x\"", fd, req_name(fd, nr), nr);
	put_hex("in", buf, n);
	long r = ioctl(fd, nr, buf);
	ERR = r < 0 ? errno : 0;
	put_hex("out", buf, n);
	outcome(r, ERR);
	end(label);
	return r;
}

/* one pread/pwrite event: the region offset, the bytes read or written, the outcome */
static long region_event(const char *op, int fd, uint64_t off, const void *buf, size_t len, ssize_t r,
			 const char *label)
{
	ERR = r < 0 ? errno : 0;
	begin(op);
	put(",\"fd\":%d,\"offset\":\"0x%llx\",\"len\":%zu", fd, (unsigned long long)off, len);
	put_hex(op[1] == 'r' ? "out" : "in", buf, len);
	outcome(r, ERR);
	end(label);
	return r;
}

static long r_pread(int fd, uint64_t off, size_t len, void *out, const char *label)
{
	static uint8_t b[MAXBUF];
	if (len > sizeof(b))
		len = sizeof(b);
	memset(b, AA, len);
	long r = region_event("pread", fd, off, b, len, pread(fd, b, len, off), label);
	if (out)
		memcpy(out, b, len);
	return r;
}

static long r_pwrite(int fd, uint64_t off, const void *in, size_t len, const char *label)
{
	return region_event("pwrite", fd, off, in, len, pwrite(fd, in, len, off), label);
}

static void r_sysfs(const char *path)
{
	char b[4096];
	int fd = open(path, O_RDONLY), e = 0;
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	if (n < 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	begin("sysfs");
	put_str("path", path, strlen(path));
	put_str("content", b, n < 0 ? 0 : n);
	outcome(n, e);
	end("");
}

/* a module parameter written through /sys/module/MODULE/parameters/allow_unsafe_interrupts */
static void r_param(const char *module, const char *v)
{
	char p[128], n[96];
	snprintf(p, sizeof(p), "/sys/module/%s/parameters/allow_unsafe_interrupts", module);
	snprintf(n, sizeof(n), "%s.allow_unsafe_interrupts", module);
	int fd = open(p, O_WRONLY);
	long r = fd < 0 ? -1 : write(fd, v, strlen(v));
	int e = r < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	begin("param");
	put_str("name", n, strlen(n));
	put_str("value", v, strlen(v));
	outcome(r, e);
	end("");
}

/* "k=v,k=v" as a JSON object of strings */
static void put_kv_object(const char *list)
{
	char o[256];
	snprintf(o, sizeof(o), "%s", list);
	put("{");
	int first = 1;
	for (char *kv = strtok(o, ","); kv; kv = strtok(NULL, ",")) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = 0;
		put("%s", first ? "" : ",");
		put_str(NULL, kv, strlen(kv));
		put(":");
		put_str(NULL, eq + 1, strlen(eq + 1));
		first = 0;
	}
	put("}");
}

static void header(void)
{
	struct utsname u;
	char ts[32];
	time_t now = time(NULL);
	uname(&u);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	const char *preset = getenv("VT_PRESET"), *opts = getenv("VT_OPTS"), *src = getenv("VT_SOURCE");
	JN = 0;
	put("{\"trace\":\"vfio-trace/1\"");
	put_str("kernel", u.release, strlen(u.release));
	put_str("arch", u.machine, strlen(u.machine));
	put(",\"platform\":{\"preset\":");
	put_str(NULL, preset ? preset : "unknown", strlen(preset ? preset : "unknown"));
	put(",\"options\":");
	put_kv_object(opts ? opts : "");
	put("}");
	if (VT_CONFIG[0])
		put_str("config", VT_CONFIG, strlen(VT_CONFIG));
	src = src ? src : "real kernel under QEMU TCG";
	put_str("source", src, strlen(src));
	put(",\"created\":\"%s\"}", ts);
	line();
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* one bind event per device bound to vfio-pci when the process starts (init.sh bound them) */
static void binds(void)
{
	char *names[64], p[300], l[300];
	int n = 0;
	DIR *d = opendir("/sys/bus/pci/devices");
	for (struct dirent *de; d && (de = readdir(d)) && n < 64;)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", names[i]);
		ssize_t k = readlink(p, l, sizeof(l) - 1);
		if (k < 0 || (l[k] = 0, strcmp(strrchr(l, '/') ? strrchr(l, '/') + 1 : l, "vfio-pci")))
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", names[i]);
		k = readlink(p, l, sizeof(l) - 1);
		int g = -1;
		if (k > 0) {
			l[k] = 0;
			g = atoi(strrchr(l, '/') ? strrchr(l, '/') + 1 : l);
		}
		begin("bind");
		put(",\"device\":\"%s\",\"driver\":\"vfio-pci\",\"group\":%d", names[i], g);
		outcome(0, 0);
		end("");
	}
}

/* the kmsg reader starts at the end of the log: only lines from this process's calls are recorded */
static void trace_start(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd >= 0) {
		lseek(fd, 0, SEEK_END);
		KMSG = fcntl(fd, F_DUPFD, 200);
		close(fd);
	}
}

/* every fd still open is closed explicitly, and the log drained once more, before exit */
static void trace_end(void)
{
	while (NFDS > 0)
		r_close(FDS[NFDS - 1], "cleanup");
	usleep(20000);
	kmsg();
}

/* the seeded workloads' PRNG (xorshift64): the same seed gives the same operations */
static uint64_t S;
static uint64_t rnd(void)
{
	S ^= S << 13;
	S ^= S >> 7;
	S ^= S << 17;
	return S;
}
static uint32_t rn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

#pragma GCC diagnostic pop
#endif
