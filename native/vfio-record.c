/*
 * Record mode (docs/exec.md, "Record mode"): with VFIO_EMU_RECORD=FILE the preload library
 * emulates nothing. Every call goes to the real kernel, and each VFIO call and its answer is
 * appended to FILE as vfio-trace/1, written here, so that no Node is needed where the program
 * runs. A maintainer replays the file on the model (`vfio-emu replay`).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "kmsg-text.h"
#include "vfio-abi.h"
#include "vfio-record.h"

#define MAX_FDS 4096
#define MAX_BUF (1024 * 1024)
static int active;
static int out = -1;
static unsigned char kinds[MAX_FDS];
/* fds already announced as eventfds (an `eventfd` event before the ioctl that passes them). */
static unsigned char announced[MAX_FDS];
/* Containers whose backend is spapr: their numbers 12 and 17 mean other requests. */
static unsigned char spapr[MAX_FDS];
static struct range {
	uint64_t s, e;
} mapped[256];
static int nmapped;

/* ---- a JSON line -------------------------------------------------------------------------- */

struct line {
	char *p;
	size_t len, cap;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len + n + 2 > l->cap) {
		size_t cap = (l->cap + n + 2) * 2;
		char *p = realloc(l->p, cap);
		if (!p)
			return;
		l->p = p;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

/* A literal, its length counted by the compiler. */
#define PUTS(l, lit) put(l, lit, sizeof(lit) - 1)

static void putf(struct line *l, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(l, tmp, (size_t)n);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(struct line *l, const char *s, size_t n)
{
	put(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(l, e, 2);
		} else if (c == '\n') {
			put(l, "\\n", 2);
		} else if (c == '\t') {
			put(l, "\\t", 2);
		} else if (c < 0x20) {
			putf(l, "\\u%04x", c);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	put(l, "\"", 1);
}

static void put_hex(struct line *l, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	put(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char h[2] = { digits[b[i] >> 4], digits[b[i] & 15] };
		put(l, h, 2);
	}
	put(l, "\"", 1);
}

/* A u64 as vfio-trace/1 writes addresses and offsets: "0x…". */
static void put_u64(struct line *l, uint64_t v)
{
	putf(l, "\"0x%llx\"", (unsigned long long)v);
}

/* A count or by-value argument: a JSON number below 2^53, else "0x…". */
static void put_count(struct line *l, uint64_t v)
{
	if (v < (1ull << 53))
		putf(l, "%llu", (unsigned long long)v);
	else
		put_u64(l, v);
}

static void outcome(struct line *l, long ret, int err)
{
	putf(l, ",\"ret\":%ld,\"errno\":%d}\n", ret < 0 ? -1L : ret, ret < 0 ? err : 0);
}

static void write_line(struct line *l)
{
	if (l->p && out >= 0)
		syscall(SYS_write, out, l->p, l->len);
	free(l->p);
}

static void drain_kmsg(void);

/* One event, then the kernel log lines it caused (docs/trace-format.md: `kmsg` follows its call). */
static void emit(struct line *l)
{
	write_line(l);
	drain_kmsg();
}

/* ---- the kernel log ----------------------------------------------------------------------- */

/*
 * /dev/kmsg, opened at the end of the log when recording starts: every record appended later is
 * one `kmsg` event (kmsg-text.h). -1: no log to read (no permission, or a fake kernel under test
 * whose log is not this machine's).
 */
static int kmsg_fd = -1;
/* Its device number: the program may close the fd (close_range, closefrom) and reuse the number. */
static dev_t kmsg_rdev;

/* Whether kmsg_fd is still the log opened at start; else it is forgotten, never read. */
static int kmsg_still_ours(void)
{
	struct stat st;
	if (kmsg_fd < 0)
		return 0;
	if (syscall(SYS_fstat, kmsg_fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != kmsg_rdev) {
		kmsg_fd = -1;
		return 0;
	}
	return 1;
}

static void drain_kmsg(void)
{
	char rec[8192], text[8192];
	if (!kmsg_still_ours())
		return;
	for (int k = 0; kmsg_fd >= 0 && k < 4096; k++) {
		ssize_t n = syscall(SYS_read, kmsg_fd, rec, sizeof rec - 1);
		/* EPIPE: records were overwritten before they were read; the next read goes on. */
		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue;
		if (n <= 0)
			return;
		rec[n] = 0;
		long m = kmsg_text(rec, text, sizeof text);
		if (m < 0)
			continue;
		struct line l = { 0 };
		PUTS(&l, "{\"op\":\"kmsg\",\"text\":");
		put_str(&l, text, (size_t)m);
		PUTS(&l, "}\n");
		write_line(&l);
	}
}

static void open_kmsg(void)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	syscall(SYS_lseek, fd, 0, SEEK_END);
	int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 1000);
	if (high >= 0) {
		syscall(SYS_close, fd);
		fd = high;
	}
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) != 0) {
		syscall(SYS_close, fd);
		return;
	}
	kmsg_rdev = st.st_rdev;
	kmsg_fd = fd;
}

/* Lines the last calls caused that were logged after their event (a deferred printk). */
__attribute__((destructor)) static void last_kmsg(void)
{
	if (!active || kmsg_fd < 0)
		return;
	struct timespec t = { 0, 20 * 1000 * 1000 };
	nanosleep(&t, NULL);
	drain_kmsg();
}

/* ---- setup -------------------------------------------------------------------------------- */

int vfio_record_active(void)
{
	return active;
}

static void header(void)
{
	struct utsname u;
	uname(&u);
	struct line l = { 0 };
	PUTS(&l, "{\"trace\":\"vfio-trace/1\",\"kernel\":");
	put_str(&l, u.release, strlen(u.release));
	PUTS(&l, ",\"arch\":");
	put_str(&l, u.machine, strlen(u.machine));
	/* VFIO_EMU_PLATFORM=preset[,opt=value…]: the library cannot know which preset this machine is. */
	const char *p = getenv("VFIO_EMU_PLATFORM");
	if (!p || !*p)
		p = "unknown";
	const char *comma = strchr(p, ',');
	PUTS(&l, ",\"platform\":{\"preset\":");
	put_str(&l, p, comma ? (size_t)(comma - p) : strlen(p));
	if (comma) {
		PUTS(&l, ",\"options\":{");
		int first = 1;
		for (const char *o = comma + 1; *o;) {
			const char *end = strchr(o, ',');
			size_t n = end ? (size_t)(end - o) : strlen(o);
			const char *eq = memchr(o, '=', n);
			if (!first)
				PUTS(&l, ",");
			first = 0;
			put_str(&l, o, eq ? (size_t)(eq - o) : n);
			PUTS(&l, ":");
			if (eq)
				put_str(&l, eq + 1, n - (size_t)(eq + 1 - o));
			else
				put_str(&l, "", 0);
			o += n + (end ? 1 : 0);
		}
		PUTS(&l, "}");
	}
	PUTS(&l, "},\"source\":\"vfio-emu record (preload library)\",\"created\":");
	char when[32];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	put_str(&l, when, strlen(when));
	PUTS(&l, "}\n");
	emit(&l);
}

/* A local symbol: its address is in this copy of the library, whichever copy exports the others. */
static void this_copy(void)
{
}

void vfio_record_setup(void)
{
	const char *file = getenv("VFIO_EMU_RECORD");
	if (!file || !*file)
		return;
	/* Under test a second copy of the library stands in for the kernel: it does not record. */
	const char *model = getenv("VFIO_EMU_MODEL_LIB");
	Dl_info di;
	char a[PATH_MAX], b[PATH_MAX];
	if (model && dladdr((void *)this_copy, &di) && di.dli_fname && realpath(di.dli_fname, a) && realpath(model, b) && !strcmp(a, b))
		return;
	if (!model)
		open_kmsg();
	int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 1000);
	if (high >= 0) {
		syscall(SYS_close, fd);
		fd = high;
	}
	out = fd;
	active = 1;
	struct stat st;
	if (syscall(SYS_fstat, fd, &st) == 0 && st.st_size == 0)
		header();
}

/* ---- events ------------------------------------------------------------------------------- */

static int tracked(int fd)
{
	return active && fd >= 0 && fd < MAX_FDS && kinds[fd];
}

int vfio_record_tracked(int fd)
{
	return tracked(fd);
}

/* The sysfs files the model's kernel answers (the `sysfs` op): recorded with their content. */
static int traced_sysfs(const char *p)
{
	if (!strncmp(p, "/sys/kernel/iommu_groups/", 25)) {
		const char *slash = strchr(p + 25, '/');
		return slash && (!strcmp(slash, "/type") || !strcmp(slash, "/reserved_regions"));
	}
	if (!strncmp(p, "/sys/module/", 12))
		return strstr(p, "/parameters/") != NULL;
	if (!strncmp(p, "/sys/bus/pci/devices/", 21))
		return strstr(p, "/sriov_numvfs") || strstr(p, "/sriov_totalvfs") || strstr(p, "/vfio-dev/");
	return 0;
}

static void sysfs_event(const char *path, const char *content, size_t n, long ret, int err)
{
	struct line l = { 0 };
	PUTS(&l, "{\"op\":\"sysfs\",\"path\":");
	put_str(&l, path, strlen(path));
	PUTS(&l, ",\"content\":");
	put_str(&l, content, n);
	outcome(&l, ret, err);
	emit(&l);
}

/*
 * The recorder's own look at sysfs goes to the next library in line (libc, or under test the
 * copy that serves the model), past this copy's wrappers: it is setup, not the program's reads.
 */
static ssize_t next_readlink(const char *path, char *buf, size_t size)
{
	static ssize_t (*fn)(const char *, char *, size_t);
	if (!fn)
		fn = (ssize_t (*)(const char *, char *, size_t))dlsym(RTLD_NEXT, "readlink");
	return fn ? fn(path, buf, size) : -1;
}

/* A small sysfs file's text through the next library's open/read (-1 if it cannot be read). */
static ssize_t next_read_file(const char *path, char *buf, size_t size)
{
	static int (*open_fn)(const char *, int, ...);
	static ssize_t (*read_fn)(int, void *, size_t);
	static int (*close_fn)(int);
	if (!open_fn) {
		open_fn = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
		read_fn = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
		close_fn = (int (*)(int))dlsym(RTLD_NEXT, "close");
	}
	if (!open_fn || !read_fn || !close_fn)
		return -1;
	int fd = open_fn(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read_fn(fd, buf, size - 1);
	close_fn(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * The devices bound to vfio-pci, as `bind` events before the first VFIO call, so that a replay
 * binds them too: /sys/bus/pci/drivers/vfio-pci/BDF (in bus order, as the model binds them), or
 * the list in VFIO_EMU_RECORD_BIND.
 */
static void announce_binds(void)
{
	char bdfs[64][16];
	int n = 0;
	const char *given = getenv("VFIO_EMU_RECORD_BIND");
	if (given) {
		char list[4096];
		snprintf(list, sizeof list, "%s", given);
		for (char *bdf = strtok(list, ","); bdf && n < 64; bdf = strtok(NULL, ","))
			snprintf(bdfs[n++], sizeof bdfs[0], "%.15s", bdf);
	} else {
		DIR *d = opendir("/sys/bus/pci/drivers/vfio-pci");
		for (struct dirent *e; d && (e = readdir(d)) && n < 64;)
			if (strlen(e->d_name) == 12 && e->d_name[4] == ':')
				snprintf(bdfs[n++], sizeof bdfs[0], "%.15s", e->d_name);
		if (d)
			closedir(d);
		qsort(bdfs, (size_t)n, sizeof bdfs[0], by_name);
	}
	for (int i = 0; i < n; i++) {
		char path[128], target[256];
		snprintf(path, sizeof path, "/sys/bus/pci/devices/%.15s/iommu_group", bdfs[i]);
		ssize_t k = next_readlink(path, target, sizeof target - 1);
		if (k <= 0)
			continue;
		target[k] = 0;
		const char *slash = strrchr(target, '/');
		struct line l = { 0 };
		PUTS(&l, "{\"op\":\"bind\",\"device\":");
		put_str(&l, bdfs[i], strlen(bdfs[i]));
		putf(&l, ",\"driver\":\"vfio-pci\",\"group\":%d", atoi(slash ? slash + 1 : target));
		outcome(&l, 0, 0);
		emit(&l);
	}
}

/*
 * The writable VFIO module parameters and their defaults in the kernel sources. One set to
 * another value before the program ran (by whoever set the machine up) changes the answers (an
 * allow_unsafe_interrupts=Y makes SET_IOMMU succeed without interrupt remapping), so it is
 * recorded as the `param` write that would set it, and a replay sets it too.
 */
static const struct param_default {
	const char *module, *name, *value;
} param_defaults[] = {
	/* drivers/vfio/vfio_iommu_type1.c: module_param_named(..., 0644) */
	{ "vfio_iommu_type1", "allow_unsafe_interrupts", "N" },
	{ "vfio_iommu_type1", "disable_hugepages", "N" },
	{ "vfio_iommu_type1", "dma_entry_limit", "65535" }, /* U16_MAX */
	/* drivers/vfio/pci/vfio_pci.c */
	{ "vfio_pci", "enable_sriov", "N" },
	{ "vfio_pci", "nointxmask", "N" },
	{ "vfio_pci", "disable_idle_d3", "N" },
	/* drivers/vfio/vfio_main.c (container.c from 6.2), CONFIG_VFIO_NOIOMMU */
	{ "vfio", "enable_unsafe_noiommu_mode", "N" },
	/* drivers/iommu/iommufd/device.c */
	{ "iommufd", "allow_unsafe_interrupts", "N" },
};

static void announce_params(void)
{
	for (size_t i = 0; i < sizeof param_defaults / sizeof param_defaults[0]; i++) {
		const struct param_default *p = &param_defaults[i];
		char path[160], value[64];
		snprintf(path, sizeof path, "/sys/module/%s/parameters/%s", p->module, p->name);
		ssize_t n = next_read_file(path, value, sizeof value);
		if (n <= 0)
			continue;
		value[strcspn(value, "\n")] = 0;
		if (!strcmp(value, p->value))
			continue;
		struct line l = { 0 };
		PUTS(&l, "{\"op\":\"param\",\"name\":");
		putf(&l, "\"%s.%s\",\"value\":", p->module, p->name);
		put_str(&l, value, strlen(value));
		outcome(&l, (long)strlen(value), 0);
		emit(&l);
	}
}

/* The machine as the program found it, once, before its first VFIO call. */
static void announce_machine(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	announce_binds();
	announce_params();
}

void vfio_record_open(const char *path, int flags, int fd, int err)
{
	if (!active || !path)
		return;
	if (vfio_dev_path(path)) {
		announce_machine();
		static const char *modes[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
		struct line l = { 0 };
		PUTS(&l, "{\"op\":\"open\",\"path\":");
		put_str(&l, path, strlen(path));
		putf(&l, ",\"flags\":\"%s\"", modes[flags & 3]);
		outcome(&l, fd, err);
		emit(&l);
		if (fd >= 0 && fd < MAX_FDS)
			kinds[fd] = path_fd_kind(path);
		return;
	}
	if (!traced_sysfs(path) || (flags & O_ACCMODE) != O_RDONLY)
		return;
	if (fd < 0) {
		sysfs_event(path, "", 0, -1, err);
		return;
	}
	char buf[65536];
	ssize_t n = syscall(SYS_pread64, fd, buf, sizeof buf, 0);
	if (n < 0)
		sysfs_event(path, "", 0, -1, errno);
	else
		sysfs_event(path, buf, (size_t)n, n, 0);
}

void vfio_record_readlink(const char *path, const char *buf, long n, int err)
{
	if (!active || !path || strncmp(path, "/sys/bus/pci/devices/", 21))
		return;
	const char *slash = strrchr(path, '/');
	if (!slash || (strcmp(slash, "/iommu_group") && strcmp(slash, "/driver")))
		return;
	if (n < 0) {
		sysfs_event(path, "", 0, -1, err);
		return;
	}
	/* As the model's sysfs read has it: the link's target and a newline. */
	char text[PATH_MAX + 2];
	size_t len = (size_t)n < PATH_MAX ? (size_t)n : PATH_MAX;
	memcpy(text, buf, len);
	text[len] = '\n';
	sysfs_event(path, text, len + 1, (long)len + 1, 0);
}

/* An eventfd announced to the trace: its reads and its close are recorded too. */
static int announced_eventfd(int fd)
{
	return active && fd >= 0 && fd < MAX_FDS && announced[fd];
}

void vfio_record_close(int fd, int ret, int err)
{
	/* The program closed the recorder's log fd: its number may now be another file. */
	if (fd == kmsg_fd && ret == 0)
		kmsg_fd = -1;
	if (!tracked(fd) && !announced_eventfd(fd))
		return;
	struct line l = { 0 };
	putf(&l, "{\"op\":\"close\",\"fd\":%d", fd);
	outcome(&l, ret, err);
	emit(&l);
	/* A later fd of the same number is another file (an eventfd is announced again). */
	if (ret == 0)
		kinds[fd] = spapr[fd] = announced[fd] = 0;
}

/* An 8-byte read of an announced eventfd: `eventfd-read`, the counter the interrupts left. */
void vfio_record_read(int fd, const void *buf, size_t len, long ret, int err)
{
	if (!announced_eventfd(fd) || len != 8)
		return;
	struct line l = { 0 };
	putf(&l, "{\"op\":\"eventfd-read\",\"fd\":%d", fd);
	if (ret == 8) {
		uint64_t v;
		memcpy(&v, buf, 8);
		PUTS(&l, ",\"value\":");
		put_u64(&l, v);
	}
	outcome(&l, ret, err);
	emit(&l);
}

/* Mappings of device fds (a region, MAP_SHARED), recorded with their munmap. */
static struct range device_maps[64];
static int ndevice_maps;

static const char *prot_name(int prot)
{
	static const char *names[] = { "none", "r", "w", "rw", "x", "rx", "wx", "rwx" };
	return names[prot & 7];
}

void vfio_record_mmap(void *addr, size_t len, int prot, int fd, uint64_t off, void *ret, int err)
{
	if (!tracked(fd) || kinds[fd] != FD_DEVICE)
		return;
	struct line l = { 0 };
	PUTS(&l, "{\"op\":\"mmap\",\"addr\":");
	if (addr)
		put_u64(&l, (uintptr_t)addr);
	else
		PUTS(&l, "null");
	PUTS(&l, ",\"len\":");
	put_count(&l, len);
	putf(&l, ",\"prot\":\"%s\",\"fd\":%d,\"offset\":", prot_name(prot), fd);
	put_u64(&l, off);
	if (ret == MAP_FAILED) {
		putf(&l, ",\"ret\":-1,\"errno\":%d}\n", err);
	} else {
		PUTS(&l, ",\"ret\":");
		put_u64(&l, (uintptr_t)ret);
		PUTS(&l, ",\"errno\":0}\n");
		if (ndevice_maps < 64)
			device_maps[ndevice_maps++] = (struct range){ (uintptr_t)ret, (uintptr_t)ret + len };
	}
	emit(&l);
}

void vfio_record_munmap(void *addr, size_t len, int ret, int err)
{
	uint64_t s = (uintptr_t)addr, e = s + len;
	int i = 0;
	while (i < ndevice_maps && !(device_maps[i].s < e && s < device_maps[i].e))
		i++;
	if (!active || i == ndevice_maps)
		return;
	/* What munmap removed is no longer a device mapping: trim, split or drop each range it covers. */
	for (int j = 0; ret == 0 && j < ndevice_maps;) {
		struct range *d = &device_maps[j];
		if (!(d->s < e && s < d->e)) {
			j++;
		} else if (s <= d->s && e >= d->e) {
			*d = device_maps[--ndevice_maps];
		} else if (s <= d->s) {
			d->s = e;
			j++;
		} else if (e >= d->e) {
			d->e = s;
			j++;
		} else {
			uint64_t tail = d->e;
			d->e = s;
			if (ndevice_maps < 64)
				device_maps[ndevice_maps++] = (struct range){ e, tail };
			j++;
		}
	}
	struct line l = { 0 };
	PUTS(&l, "{\"op\":\"munmap\",\"addr\":");
	put_u64(&l, s);
	PUTS(&l, ",\"len\":");
	put_count(&l, len);
	outcome(&l, ret, err);
	emit(&l);
}

static void rw_event(const char *op, int fd, const void *buf, size_t len, uint64_t off, long ret, int err)
{
	if (!tracked(fd))
		return;
	struct line l = { 0 };
	putf(&l, "{\"op\":\"%s\",\"fd\":%d,\"offset\":", op, fd);
	put_u64(&l, off);
	putf(&l, ",\"len\":%zu,\"%s\":", len, op[1] == 'r' ? "out" : "in");
	size_t n = op[1] == 'r' ? (ret > 0 ? (size_t)ret : 0) : len;
	put_hex(&l, buf, n > MAX_BUF ? MAX_BUF : n);
	outcome(&l, ret, err);
	emit(&l);
}

void vfio_record_pread(int fd, const void *buf, size_t len, uint64_t off, long ret, int err)
{
	rw_event("pread", fd, buf, len, off, ret, err);
}

void vfio_record_pwrite(int fd, const void *buf, size_t len, uint64_t off, long ret, int err)
{
	rw_event("pwrite", fd, buf, len, off, ret, err);
}

/* An fd an ioctl passes: announced as an eventfd the first time, so a replay can make one. */
static void announce_eventfd(int32_t fd)
{
	if (fd < 0 || fd >= MAX_FDS || announced[fd] || kinds[fd])
		return;
	announced[fd] = 1;
	struct line l = { 0 };
	PUTS(&l, "{\"op\":\"eventfd\"");
	outcome(&l, fd, 0);
	emit(&l);
}

/* The mappings under a MAP_DMA, as `mmap` events where the program has them. */
static void announce_mapping(uint64_t s, uint64_t e, const char *perms, const char *line, const char *nl)
{
	(void)line;
	(void)nl;
	for (int i = 0; i < nmapped; i++)
		if (mapped[i].s == s && mapped[i].e == e)
			return;
	if (nmapped == 256)
		return;
	mapped[nmapped++] = (struct range){ s, e };
	static const char *prots[] = { "none", "r", "w", "rw" };
	struct line l = { 0 };
	PUTS(&l, "{\"op\":\"mmap\",\"addr\":");
	put_u64(&l, s);
	PUTS(&l, ",\"len\":");
	put_count(&l, e - s);
	putf(&l, ",\"prot\":\"%s\",\"ret\":", prots[(perms[0] == 'r') | (perms[1] == 'w') << 1]);
	put_u64(&l, s);
	PUTS(&l, ",\"errno\":0}\n");
	emit(&l);
}

/* The request's name, as the uapi header spells it (UNKNOWN for one it does not have). */
static const char *request_name(int kind, unsigned n, int is_spapr)
{
	static const char *container[21] = { "VFIO_GET_API_VERSION", "VFIO_CHECK_EXTENSION", "VFIO_SET_IOMMU", [12] = "VFIO_IOMMU_GET_INFO",
					     [13] = "VFIO_IOMMU_MAP_DMA", [14] = "VFIO_IOMMU_UNMAP_DMA", [15] = "VFIO_IOMMU_ENABLE",
					     [16] = "VFIO_IOMMU_DISABLE", [17] = "VFIO_IOMMU_DIRTY_PAGES",
					     [18] = "VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY", [19] = "VFIO_IOMMU_SPAPR_TCE_CREATE",
					     [20] = "VFIO_IOMMU_SPAPR_TCE_REMOVE" };
	static const char *group[7] = { [3] = "VFIO_GROUP_GET_STATUS", [4] = "VFIO_GROUP_SET_CONTAINER", [5] = "VFIO_GROUP_UNSET_CONTAINER",
					[6] = "VFIO_GROUP_GET_DEVICE_FD" };
	static const char *device[21] = { [7] = "VFIO_DEVICE_GET_INFO", [8] = "VFIO_DEVICE_GET_REGION_INFO", [9] = "VFIO_DEVICE_GET_IRQ_INFO",
					  [10] = "VFIO_DEVICE_SET_IRQS", [11] = "VFIO_DEVICE_RESET", [12] = "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO",
					  [13] = "VFIO_DEVICE_PCI_HOT_RESET", [16] = "VFIO_DEVICE_IOEVENTFD", [17] = "VFIO_DEVICE_FEATURE",
					  [18] = "VFIO_DEVICE_BIND_IOMMUFD", [19] = "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
					  [20] = "VFIO_DEVICE_DETACH_IOMMUFD_PT" };
	/* include/uapi/linux/iommufd.h (7.2): IOMMUFD_CMD_BASE 0x80 onwards. */
	static const char *iommufd[21] = { "IOMMU_DESTROY", "IOMMU_IOAS_ALLOC", "IOMMU_IOAS_ALLOW_IOVAS", "IOMMU_IOAS_COPY",
					   "IOMMU_IOAS_IOVA_RANGES", "IOMMU_IOAS_MAP", "IOMMU_IOAS_UNMAP", "IOMMU_OPTION",
					   "IOMMU_VFIO_IOAS", "IOMMU_HWPT_ALLOC", "IOMMU_GET_HW_INFO", "IOMMU_HWPT_SET_DIRTY_TRACKING",
					   "IOMMU_HWPT_GET_DIRTY_BITMAP", "IOMMU_HWPT_INVALIDATE", "IOMMU_FAULT_QUEUE_ALLOC",
					   "IOMMU_IOAS_MAP_FILE", "IOMMU_VIOMMU_ALLOC", "IOMMU_VDEVICE_ALLOC", "IOMMU_IOAS_CHANGE_PROCESS",
					   "IOMMU_VEVENTQ_ALLOC", "IOMMU_HW_QUEUE_ALLOC" };
	const char *name = NULL;
	/* /dev/iommu takes the container's requests below IOMMUFD_CMD_BASE (iommufd_vfio_ioctl()). */
	if ((kind == FD_CONTAINER || (kind == FD_IOMMUFD && n + 100 < 0x80)) && n <= 20) {
		name = container[n];
		if (is_spapr && n == 12)
			name = "VFIO_IOMMU_SPAPR_TCE_GET_INFO";
		if (is_spapr && n == 17)
			name = "VFIO_IOMMU_SPAPR_REGISTER_MEMORY";
	}
	if (kind == FD_GROUP && n <= 6)
		name = group[n];
	if (kind == FD_DEVICE && n <= 20)
		name = device[n];
	if (kind == FD_IOMMUFD && n + 100 >= 0x80 && n + 100 - 0x80 <= 20)
		name = iommufd[n + 100 - 0x80];
	return name ? name : "UNKNOWN";
}

long vfio_record_ioctl(int fd, unsigned long req, unsigned long arg, long (*real)(int, unsigned long, unsigned long))
{
	int kind = kinds[fd];
	unsigned nr = (unsigned)(req & 0xffffffffu);
	unsigned n = (nr & 0xff) - 100;
	size_t minsz = 0;
	enum arg_kind ak = (nr & 0xff00) == 0x3b00 ? arg_kind(kind, n, &minsz) : ARG_VALUE;
	unsigned char *in = NULL, *after = NULL;
	size_t len = 0;
	if (ak == ARG_STRUCT || ak == ARG_INTPTR || ak == ARG_STRING) {
		size_t want = arg_bytes(ak, minsz, arg);
		in = malloc(want + 1);
		after = malloc(want + 1);
		len = in && after ? safe_read(in, arg, want) : 0;
		/* The fds and memory the call names, announced before it. */
		if (kind == FD_DEVICE && n == 10 && len >= 20) {
			uint32_t flags;
			memcpy(&flags, in + 4, 4);
			if (flags & (1u << 2))
				for (size_t off = 20; off + 4 <= len; off += 4) {
					int32_t efd;
					memcpy(&efd, in + off, 4);
					announce_eventfd(efd);
				}
		}
		if (kind == FD_DEVICE && n == 16 && len >= 28) {
			int32_t efd;
			memcpy(&efd, in + 24, 4);
			announce_eventfd(efd);
		}
		if ((kind == FD_CONTAINER || kind == FD_IOMMUFD) && nr == 0x3b71 && len >= 32) {
			uint64_t vaddr, size;
			memcpy(&vaddr, in + 8, 8);
			memcpy(&size, in + 24, 8);
			for_each_mapping(vaddr, size, announce_mapping);
		}
		/* IOMMU_IOAS_MAP pins [user_va, user_va + length) as MAP_DMA does. */
		if (kind == FD_IOMMUFD && nr == 0x3b85 && len >= 32) {
			uint64_t vaddr, size;
			memcpy(&vaddr, in + 16, 8);
			memcpy(&size, in + 24, 8);
			for_each_mapping(vaddr, size, announce_mapping);
		}
	}
	long ret = real(fd, req, arg);
	int err = errno;
	struct line l = { 0 };
	putf(&l, "{\"op\":\"ioctl\",\"fd\":%d,\"request\":\"%s\",\"nr\":\"0x%x\"", fd, request_name(kind, n, spapr[fd]), nr);
	if (ak == ARG_VALUE || ak == ARG_NONE) {
		PUTS(&l, ",\"arg\":");
		put_count(&l, ak == ARG_NONE ? 0 : arg);
	} else {
		size_t got = after ? safe_read(after, arg, len) : 0;
		PUTS(&l, ",\"in\":");
		put_hex(&l, in, len);
		PUTS(&l, ",\"out\":");
		put_hex(&l, after, got);
	}
	outcome(&l, ret, err);
	emit(&l);
	if (ret >= 0 && kind == FD_GROUP && n == 6 && ret < MAX_FDS)
		kinds[ret] = FD_DEVICE;
	if (ret >= 0 && kind == FD_CONTAINER && n == 2)
		spapr[fd] = arg == 2 || arg == 7; /* VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU */
	free(in);
	free(after);
	errno = err;
	return ret;
}
