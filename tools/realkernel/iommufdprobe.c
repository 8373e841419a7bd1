/*
 * iommufdprobe.c - record what a real kernel answers on /dev/iommu, on the VFIO device cdev
 * (/dev/vfio/devices/vfioN) and on the container when iommufd serves it, as vfio-trace/1
 * (docs/trace-format.md).  One process = one mode = one trace.
 *
 *   iommufdprobe -t NAME [-u Y|N] ioas
 *   iommufdprobe -t NAME [-u Y|N] <mode> <group> <bdf> [type1v2|type1 | seed n]
 *   modes: ioas cdev dma excl group unsafe compat random
 *   iommufdprobe -t NAME [-u Y|N] run PROGRAM ARGS...
 *
 * `run` records another probe (the shared harness's probe.c, which knows neither the header's
 * "config" nor iommufd's parameter) as this build's trace: our header (with "config"), then
 * iommufd.allow_unsafe_interrupts written with -u's value (a param event), then PROGRAM (run
 * with the same -t NAME) writes the rest; its own header line is dropped and every other line
 * passed through unchanged, in order. The parameter is written before PROGRAM starts, so its
 * event comes before PROGRAM's bind events; the kernel log is drained by PROGRAM from its start.
 *
 * Every process: header (with "config": iommufd, or iommufd-compat where iommufd serves
 * /dev/vfio/vfio, read from what exists in the guest), bind events, the group's sysfs files, then the mode, then
 * close of every fd.  Memory the kernel reads or writes through a pointer in a command
 * (IOVA_RANGES' and ALLOW_IOVAS' arrays, GET_HW_INFO's data, the dirty bitmap, DMA buffers) is
 * a recorded anonymous mmap: what the probe puts there is recorded as `store` events, what the
 * kernel or the device wrote there is read back as `load` events.
 *
 * Request numbers and layouts: include/uapi/linux/iommufd.h (_IO(';', 0x80 + n)) and
 * include/uapi/linux/vfio.h (_IO(';', 100 + n)) of Linux 7.2.  The order of the error cases in
 * each stanza follows the kernel's checks: drivers/iommu/iommufd/main.c iommufd_fops_ioctl (size
 * below the op's min_size -> EINVAL, copy_struct_from_user: a non-zero tail -> E2BIG), then each
 * op's own checks (ioas.c, hw_pagetable.c, device.c, vfio_compat.c); drivers/vfio/device_cdev.c
 * for BIND/ATTACH/DETACH, drivers/vfio/group.c for SET_CONTAINER.
 * Build: gcc -static -O2 -Wall -o iommufdprobe iommufdprobe.c
 */
#define _GNU_SOURCE
#include "vtrace.h"
#include <sys/syscall.h>
#include <sys/wait.h>

/* ================================================================ requests */
#define VFIO_NR(n) (0x3b00 + 100 + (n))
#define IOMMU_NR(n) (0x3b00 + (n))
enum {
	I_DESTROY = 0x80, I_IOAS_ALLOC, I_ALLOW_IOVAS, I_COPY, I_IOVA_RANGES, I_MAP, I_UNMAP, I_OPTION,
	I_VFIO_IOAS, I_HWPT_ALLOC, I_GET_HW_INFO, I_SET_DIRTY, I_GET_DIRTY, I_HWPT_INVALIDATE,
	I_FAULT_ALLOC, I_MAP_FILE, I_VIOMMU_ALLOC, I_VDEVICE_ALLOC, I_CHANGE_PROCESS, I_VEVENTQ_ALLOC,
	I_HW_QUEUE_ALLOC,
};
enum {
	V_API = 0, V_CHECK_EXT, V_SET_IOMMU, V_GROUP_STATUS, V_SET_CONTAINER, V_UNSET_CONTAINER,
	V_GET_DEVICE_FD, V_DEVICE_INFO, V_REGION_INFO, V_IRQ_INFO, V_SET_IRQS, V_RESET,
	V_IOMMU_INFO = 12, V_MAP_DMA, V_UNMAP_DMA, V_DIRTY_PAGES = 17, V_BIND = 18, V_ATTACH, V_DETACH,
};

/* what each fd is, for the request names that depend on it (VFIO_BASE + 12 is GET_INFO on a
 * container and GET_PCI_HOT_RESET_INFO on a device) */
static char FDK[1024]; /* 'i' /dev/iommu, 'c' /dev/vfio/vfio, 'g' group, 'd' device */

static const char *req_name(int fd, unsigned nr)
{
	static const char *const io[] = {
		"IOMMU_DESTROY", "IOMMU_IOAS_ALLOC", "IOMMU_IOAS_ALLOW_IOVAS", "IOMMU_IOAS_COPY",
		"IOMMU_IOAS_IOVA_RANGES", "IOMMU_IOAS_MAP", "IOMMU_IOAS_UNMAP", "IOMMU_OPTION",
		"IOMMU_VFIO_IOAS", "IOMMU_HWPT_ALLOC", "IOMMU_GET_HW_INFO", "IOMMU_HWPT_SET_DIRTY_TRACKING",
		"IOMMU_HWPT_GET_DIRTY_BITMAP", "IOMMU_HWPT_INVALIDATE", "IOMMU_FAULT_QUEUE_ALLOC",
		"IOMMU_IOAS_MAP_FILE", "IOMMU_VIOMMU_ALLOC", "IOMMU_VDEVICE_ALLOC", "IOMMU_IOAS_CHANGE_PROCESS",
		"IOMMU_VEVENTQ_ALLOC", "IOMMU_HW_QUEUE_ALLOC",
	};
	static const char *const common[] = {
		"VFIO_GET_API_VERSION", "VFIO_CHECK_EXTENSION", "VFIO_SET_IOMMU", "VFIO_GROUP_GET_STATUS",
		"VFIO_GROUP_SET_CONTAINER", "VFIO_GROUP_UNSET_CONTAINER", "VFIO_GROUP_GET_DEVICE_FD",
		"VFIO_DEVICE_GET_INFO", "VFIO_DEVICE_GET_REGION_INFO", "VFIO_DEVICE_GET_IRQ_INFO",
		"VFIO_DEVICE_SET_IRQS", "VFIO_DEVICE_RESET",
	};
	static const char *const cont[] = {"VFIO_IOMMU_GET_INFO", "VFIO_IOMMU_MAP_DMA", "VFIO_IOMMU_UNMAP_DMA",
					   "VFIO_IOMMU_ENABLE", "VFIO_IOMMU_DISABLE", "VFIO_IOMMU_DIRTY_PAGES"};
	static const char *const dev[] = {"VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", "VFIO_DEVICE_PCI_HOT_RESET",
					  "VFIO_DEVICE_QUERY_GFX_PLANE", "VFIO_DEVICE_GET_GFX_DMABUF",
					  "VFIO_DEVICE_IOEVENTFD", "VFIO_DEVICE_FEATURE", "VFIO_DEVICE_BIND_IOMMUFD",
					  "VFIO_DEVICE_ATTACH_IOMMUFD_PT", "VFIO_DEVICE_DETACH_IOMMUFD_PT"};
	if ((nr >> 8) != 0x3b)
		return "UNKNOWN";
	unsigned n = nr & 0xff;
	if (n >= 0x80 && n - 0x80 < sizeof(io) / sizeof(io[0]))
		return io[n - 0x80];
	if (n < 100)
		return "UNKNOWN";
	n -= 100;
	if (n < 12)
		return common[n];
	char k = fd >= 0 && fd < 1024 ? FDK[fd] : 0;
	if (k == 'd' && n - 12 < sizeof(dev) / sizeof(dev[0]))
		return dev[n - 12];
	if ((k == 'c' || k == 'i') && n - 12 < sizeof(cont) / sizeof(cont[0]))
		return cont[n - 12];
	return "UNKNOWN";
}

static int op_open(const char *path, const char *label)
{
	int fd = r_open(path, label);
	if (fd >= 0 && fd < 1024)
		FDK[fd] = !strcmp(path, "/dev/iommu") ? 'i' : !strcmp(path, "/dev/vfio/vfio") ? 'c'
			: !strncmp(path, "/dev/vfio/devices/", 18) ? 'd' : 'g';
	return fd;
}

/* ================================================================ command buffers */
/*
 * Every command is built in CMD at its full structure size S; send() hands the kernel a buffer
 * of max(S, size field) bytes.  XSIZE (when set) replaces the size/argsz field for the next
 * command, and the bytes from S up to XSIZE are XTAIL (0: a longer struct from a newer
 * userspace, non-zero: E2BIG from copy_struct_from_user).  Bytes beyond both stay 0xaa.
 */
static uint8_t CMD[1024];
static uint32_t XSIZE;
static int XTAIL;
/* one field of the next command set to a value its helper would not write (a reserved field,
 * a bad pointer): XW bytes of XVAL at XOFF */
static int XOFF = -1, XW;
static uint64_t XVAL;
static void poke_next(int off, int width, uint64_t v) { XOFF = off; XW = width; XVAL = v; }

static void put32(size_t o, uint32_t v) { memcpy(CMD + o, &v, 4); }
static void put16(size_t o, uint16_t v) { memcpy(CMD + o, &v, 2); }
static void put64(size_t o, uint64_t v) { memcpy(CMD + o, &v, 8); }
static uint32_t get32(size_t o) { uint32_t v; memcpy(&v, CMD + o, 4); return v; }
static uint64_t get64(size_t o) { uint64_t v; memcpy(&v, CMD + o, 8); return v; }

/* a fresh command of S bytes: size field S, everything else zero, the buffer's rest 0xaa */
static void cmd(size_t s)
{
	memset(CMD, AA, sizeof(CMD));
	memset(CMD, 0, s);
	put32(0, (uint32_t)s);
}

static long send(int fd, unsigned nr, size_t s, const char *label)
{
	size_t n = s;
	if (XOFF >= 0)
		memcpy(CMD + XOFF, &XVAL, XW);
	XOFF = -1;
	if (XSIZE) {
		put32(0, XSIZE);
		if (XSIZE > s && XSIZE <= sizeof(CMD)) {
			memset(CMD + s, 0, XSIZE - s);
			if (XTAIL)
				CMD[XSIZE - 1] = (uint8_t)XTAIL;
			n = XSIZE;
		}
	}
	XSIZE = 0;
	XTAIL = 0;
	return r_ioctl(fd, nr, CMD, n, label);
}

/* one command with a different size field: below the minimum, and larger with a zero and a
 * non-zero tail, each a separate call (the caller rebuilds the command with build()) */
static void sizes(int fd, unsigned nr, size_t s, size_t min, void (*build)(void), const char *what)
{
	char l[128];
	static const int k[] = {0, 1, 2, 3};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		build();
		if (k[i] == 0) { /* size 0: send() would keep the built size, so the buffer goes as it is */
			put32(0, 0);
			snprintf(l, sizeof(l), "%s: size 0", what);
			r_ioctl(fd, nr, CMD, s, l);
			continue;
		}
		if (k[i] == 1) {
			XSIZE = (uint32_t)min - 4;
			snprintf(l, sizeof(l), "%s: size %zu (min %zu - 4)", what, min - 4, min);
		} else if (k[i] == 2) {
			XSIZE = (uint32_t)s + 8;
			snprintf(l, sizeof(l), "%s: size %zu, zero tail", what, s + 8);
		} else {
			XSIZE = (uint32_t)s + 8;
			XTAIL = 1;
			snprintf(l, sizeof(l), "%s: size %zu, non-zero tail", what, s + 8);
		}
		send(fd, nr, s, l);
	}
}

/* ================================================================ user memory */
/* SCR: a page for the arrays and data commands point at; BUF: memory to map (DMA target) */
static uint8_t *SCR;
static uint8_t *BUF;
static size_t BUFLEN;

static void st64(void *p, uint64_t v, const char *label) { r_access(p, 8, 1, v, label); }
static uint64_t ld64(void *p, const char *label) { return r_access(p, 8, 0, 0, label); }

static void memory(size_t buflen)
{
	SCR = r_mmap_anon(4096, PROT_READ | PROT_WRITE, "scratch page for command arrays");
	BUFLEN = buflen;
	BUF = r_mmap_anon(buflen, PROT_READ | PROT_WRITE, "buffer to map");
	if (SCR == MAP_FAILED || BUF == MAP_FAILED)
		exit(5);
}

/* ================================================================ iommufd commands */
static int IFD = -1; /* /dev/iommu (or /dev/vfio/vfio served by iommufd) */

static long destroy(int fd, uint32_t id, const char *label)
{
	cmd(8);
	put32(4, id);
	return send(fd, IOMMU_NR(I_DESTROY), 8, label);
}

static uint32_t ioas_alloc(int fd, uint32_t flags, const char *label)
{
	cmd(12);
	put32(4, flags);
	return send(fd, IOMMU_NR(I_IOAS_ALLOC), 12, label) < 0 ? 0 : get32(8);
}

/* IOVA_RANGES into SCR with room for `cap` ranges; the ranges the kernel wrote are loaded back */
static long ranges(int fd, uint32_t ioas, uint32_t cap, const char *label)
{
	cmd(32);
	put32(4, ioas);
	put32(8, cap);
	put64(16, (uintptr_t)SCR);
	long r = send(fd, IOMMU_NR(I_IOVA_RANGES), 32, label);
	uint32_t n = get32(8);
	if (r == 0)
		for (uint32_t i = 0; i < n && i < cap && i < 16; i++) {
			ld64(SCR + 16 * i, "range start");
			ld64(SCR + 16 * i + 8, "range last");
		}
	return r;
}

static long allow(int fd, uint32_t ioas, uint32_t n, const uint64_t *r, const char *label)
{
	for (uint32_t i = 0; i < 2 * n; i++)
		st64(SCR + 8 * i, r[i], i & 1 ? "allowed last" : "allowed start");
	cmd(24);
	put32(4, ioas);
	put32(8, n);
	put64(16, (uintptr_t)SCR);
	return send(fd, IOMMU_NR(I_ALLOW_IOVAS), 24, label);
}

#define M_FIXED 1u
#define M_WRITE 2u
#define M_READ 4u
#define M_RW (M_READ | M_WRITE)
static uint64_t MAPPED_IOVA;
static long map(int fd, uint32_t ioas, uint32_t flags, const void *va, uint64_t len, uint64_t iova, const char *label)
{
	cmd(40);
	put32(4, flags);
	put32(8, ioas);
	put64(16, (uintptr_t)va);
	put64(24, len);
	put64(32, iova);
	long r = send(fd, IOMMU_NR(I_MAP), 40, label);
	MAPPED_IOVA = get64(32);
	return r;
}

static long unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len, const char *label)
{
	cmd(24);
	put32(4, ioas);
	put64(8, iova);
	put64(16, len);
	return send(fd, IOMMU_NR(I_UNMAP), 24, label);
}

static long copy(int fd, uint32_t flags, uint32_t dst, uint32_t src, uint64_t len, uint64_t dst_iova, uint64_t src_iova,
		 const char *label)
{
	cmd(40);
	put32(4, flags);
	put32(8, dst);
	put32(12, src);
	put64(16, len);
	put64(24, dst_iova);
	put64(32, src_iova);
	return send(fd, IOMMU_NR(I_COPY), 40, label);
}

static long option(int fd, uint32_t id, uint16_t op, uint32_t obj, uint64_t val, const char *label)
{
	cmd(24);
	put32(4, id);
	put16(8, op);
	put32(12, obj);
	put64(16, val);
	return send(fd, IOMMU_NR(I_OPTION), 24, label);
}

static long vfio_ioas(int fd, uint32_t ioas, uint16_t op, const char *label)
{
	cmd(12);
	put32(4, ioas);
	put16(8, op);
	return send(fd, IOMMU_NR(I_VFIO_IOAS), 12, label);
}

static uint32_t HWPT;
/* HWPT_ALLOC with a data type and a fault_id (used with IOMMU_HWPT_FAULT_ID_VALID) */
static long hwpt_alloc_with(int fd, uint32_t flags, uint32_t dev, uint32_t pt, uint32_t type, uint32_t fault, const char *label)
{
	cmd(48);
	put32(4, flags);
	put32(8, dev);
	put32(12, pt);
	put32(24, type);
	put32(40, fault);
	long r = send(fd, IOMMU_NR(I_HWPT_ALLOC), 48, label);
	HWPT = r == 0 ? get32(16) : 0;
	return r;
}
static long hwpt_alloc(int fd, uint32_t flags, uint32_t dev, uint32_t pt, uint32_t type, const char *label)
{
	return hwpt_alloc_with(fd, flags, dev, pt, type, 0, label);
}

/* GET_HW_INFO with data_len bytes at SCR; the bytes the kernel wrote are loaded back */
static long hw_info(int fd, uint32_t flags, uint32_t dev, uint32_t data_len, uint32_t type, const char *label)
{
	cmd(40);
	put32(4, flags);
	put32(8, dev);
	put32(12, data_len);
	put64(16, data_len ? (uintptr_t)SCR : 0);
	put32(24, type);
	long r = send(fd, IOMMU_NR(I_GET_HW_INFO), 40, label);
	if (r == 0)
		for (uint32_t o = 0; o < data_len && o < 64; o += 8)
			ld64(SCR + o, "hw info data");
	return r;
}

static long set_dirty(int fd, uint32_t flags, uint32_t hwpt, const char *label)
{
	cmd(16);
	put32(4, flags);
	put32(8, hwpt);
	return send(fd, IOMMU_NR(I_SET_DIRTY), 16, label);
}

static long get_dirty(int fd, uint32_t hwpt, uint32_t flags, uint64_t iova, uint64_t len, uint64_t pgsz, const char *label)
{
	cmd(48);
	put32(4, hwpt);
	put32(8, flags);
	put64(16, iova);
	put64(24, len);
	put64(32, pgsz);
	put64(40, (uintptr_t)SCR);
	long r = send(fd, IOMMU_NR(I_GET_DIRTY), 48, label);
	if (r == 0)
		ld64(SCR, "dirty bitmap");
	return r;
}

/* ================================================================ device cdev commands */
static uint32_t DEVID;
static long bind(int dfd, int iommufd, uint32_t flags, uint64_t token, const char *label)
{
	cmd(24);
	put32(4, flags);
	put32(8, (uint32_t)iommufd);
	put64(16, token);
	long r = send(dfd, VFIO_NR(V_BIND), 24, label);
	if (r == 0)
		DEVID = get32(12);
	return r;
}

static uint32_t ATTACHED;
static long attach(int dfd, uint32_t flags, uint32_t pt, const char *label)
{
	cmd(16);
	put32(4, flags);
	put32(8, pt);
	long r = send(dfd, VFIO_NR(V_ATTACH), 16, label);
	ATTACHED = r == 0 ? get32(8) : 0;
	return r;
}

static long detach(int dfd, uint32_t flags, const char *label)
{
	cmd(12);
	put32(4, flags);
	return send(dfd, VFIO_NR(V_DETACH), 12, label);
}

static long dev_info(int dfd, const char *label)
{
	cmd(24);
	return send(dfd, VFIO_NR(V_DEVICE_INFO), 24, label);
}

/* ================================================================ setup */
static const char *GRP, *BDF;
static int IS_EDU;

/* /sys/bus/pci/devices/BDF/vfio-dev/vfioN: N from the directory, its `dev` file recorded */
static char CDEV[256];
static void find_cdev(void)
{
	char p[160];
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vfio-dev", BDF);
	DIR *d = opendir(p);
	CDEV[0] = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(CDEV, sizeof(CDEV), "%s", de->d_name);
	if (d)
		closedir(d);
	if (!CDEV[0])
		return;
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vfio-dev/%s/dev", BDF, CDEV);
	r_sysfs(p);
}

static int open_cdev(const char *label)
{
	char p[96];
	snprintf(p, sizeof(p), "/dev/vfio/devices/%.64s", CDEV[0] ? CDEV : "vfio-none");
	return op_open(p, label);
}

static int open_group(const char *label)
{
	char p[64];
	snprintf(p, sizeof(p), "/dev/vfio/%s", GRP);
	return op_open(p, label);
}

static void group_sysfs(void)
{
	char p[128];
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/type", GRP);
	r_sysfs(p);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/reserved_regions", GRP);
	r_sysfs(p);
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/*
 * The build, as the guest shows it (the header's "config", by src/kernel/config.ts's names):
 * /dev/iommu exists with CONFIG_IOMMUFD; vfio_iommu_type1 (built in, still in /sys/module for its
 * parameters) only with CONFIG_VFIO_CONTAINER, else iommufd serves /dev/vfio/vfio.
 */
static void detect_config(void)
{
	const char *name = !exists("/dev/iommu") ? "" : exists("/sys/module/vfio_iommu_type1") ? "iommufd" : "iommufd-compat";
	snprintf(VT_CONFIG, sizeof(VT_CONFIG), "%s", name);
}

static int bound_device(int *dfd_out, const char *what)
{
	char l[96];
	IFD = op_open("/dev/iommu", "iommufd");
	snprintf(l, sizeof(l), "%s: cdev", what);
	int dfd = open_cdev(l);
	snprintf(l, sizeof(l), "%s: bind", what);
	long r = bind(dfd, IFD, 0, 0, l);
	*dfd_out = dfd;
	return r == 0;
}

/* ================================================================ modes */
/* ---------------------------------------------------------------- ioas: /dev/iommu alone */
static uint32_t SZ_IOAS;
static void b_destroy(void) { cmd(8); put32(4, 0xfffff); }
static void b_ioas_alloc(void) { cmd(12); }
static void b_ranges(void) { cmd(32); put32(4, SZ_IOAS); put32(8, 0); }
static void b_allow(void) { cmd(24); put32(4, SZ_IOAS); }
static void b_map(void) { cmd(40); put32(4, M_RW | M_FIXED); put32(8, SZ_IOAS); put64(16, (uintptr_t)BUF); put64(24, 4096); put64(32, 0x7000000); }
static void b_unmap(void) { cmd(24); put32(4, SZ_IOAS); put64(8, 0x7000000); put64(16, 4096); }
static void b_copy(void) { cmd(40); put32(4, M_RW | M_FIXED); put32(8, SZ_IOAS); put32(12, SZ_IOAS); put64(16, 4096); put64(24, 0x7100000); put64(32, 0x7000000); }
static void b_option(void) { cmd(24); put32(4, 1); put16(8, 1); put32(12, SZ_IOAS); }
static void b_vfio_ioas(void) { cmd(12); put16(8, 0); }

static void mode_ioas(void)
{
	char l[128];
	IFD = op_open("/dev/iommu", "iommufd");
	memory(8 << 20);
	/* the dispatcher: unknown numbers and a wrong ioctl direction */
	r_ioctl_val(IFD, IOMMU_NR(0x7f), 0, "nr 0x7f: below IOMMUFD_CMD_BASE, handed to the VFIO compat layer");
	cmd(8);
	send(IFD, IOMMU_NR(0xa0), 8, "nr 0xa0: beyond the op table, handed to the VFIO compat layer");
	cmd(8);
	put32(4, 1);
	send(IFD, 0x40083b80, 8, "IOMMU_DESTROY encoded _IOW: op->ioctl_num != cmd");
	r_ioctl_val(IFD, IOMMU_NR(I_DESTROY), 0, "DESTROY with a NULL argument");

	/* IOAS_ALLOC (ioas.c iommufd_ioas_alloc_ioctl) */
	sizes(IFD, IOMMU_NR(I_IOAS_ALLOC), 12, 12, b_ioas_alloc, "IOAS_ALLOC");
	ioas_alloc(IFD, 1, "IOAS_ALLOC flags 1");
	ioas_alloc(IFD, 0x80000000u, "IOAS_ALLOC flags bit 31");
	uint32_t a = ioas_alloc(IFD, 0, "IOAS_ALLOC A");
	uint32_t b = ioas_alloc(IFD, 0, "IOAS_ALLOC B");
	SZ_IOAS = a;

	/* DESTROY (main.c iommufd_destroy) */
	sizes(IFD, IOMMU_NR(I_DESTROY), 8, 8, b_destroy, "DESTROY of an unknown id");
	destroy(IFD, 0, "DESTROY id 0");
	destroy(IFD, 0xffffffffu, "DESTROY id 0xffffffff");
	uint32_t c = ioas_alloc(IFD, 0, "IOAS_ALLOC C");
	destroy(IFD, c, "DESTROY C");
	destroy(IFD, c, "DESTROY C again");
	ranges(IFD, c, 4, "IOVA_RANGES of the destroyed C");
	uint32_t d = ioas_alloc(IFD, 0, "IOAS_ALLOC D (ids are reused?)");

	/* IOVA_RANGES (ioas.c iommufd_ioas_iova_ranges) */
	sizes(IFD, IOMMU_NR(I_IOVA_RANGES), 32, 32, b_ranges, "IOVA_RANGES");
	ranges(IFD, a, 0, "IOVA_RANGES num 0: EMSGSIZE with the count");
	ranges(IFD, a, 1, "IOVA_RANGES of a fresh IOAS");
	ranges(IFD, a, 4, "IOVA_RANGES room for 4");
	ranges(IFD, 0, 4, "IOVA_RANGES ioas 0");
	ranges(IFD, 999, 4, "IOVA_RANGES unknown ioas");
	poke_next(12, 4, 1);
	ranges(IFD, a, 4, "IOVA_RANGES __reserved 1");
	poke_next(16, 8, 8);
	ranges(IFD, a, 4, "IOVA_RANGES pointer 8 (unmapped)");

	/* ALLOW_IOVAS (ioas.c iommufd_ioas_allow_iovas) */
	sizes(IFD, IOMMU_NR(I_ALLOW_IOVAS), 24, 24, b_allow, "ALLOW_IOVAS");
	uint64_t r1[] = {0x1000000, 0x1ffffff, 0x4000000, 0x7ffffff};
	allow(IFD, a, 2, r1, "ALLOW_IOVAS two ranges");
	ranges(IFD, a, 4, "IOVA_RANGES after ALLOW (unchanged: allowed is not the available set)");
	uint64_t r2[] = {0x1000, 0xfff};
	allow(IFD, a, 1, r2, "ALLOW_IOVAS start > last");
	uint64_t r3[] = {0x1000000, 0x2ffffff, 0x2000000, 0x3ffffff};
	allow(IFD, a, 2, r3, "ALLOW_IOVAS overlapping ranges");
	uint64_t r4[] = {0x1000001, 0x1ffffff};
	allow(IFD, a, 1, r4, "ALLOW_IOVAS unaligned start");
	uint64_t r5[] = {0x1000000, 0x1fffffe};
	allow(IFD, a, 1, r5, "ALLOW_IOVAS unaligned last");
	uint64_t r6[] = {0x4000000, 0x4ffffff, 0x1000000, 0x1ffffff};
	allow(IFD, a, 2, r6, "ALLOW_IOVAS ranges out of order");
	poke_next(12, 4, 1);
	allow(IFD, a, 1, r1, "ALLOW_IOVAS __reserved 1");
	allow(IFD, 999, 1, r1, "ALLOW_IOVAS unknown ioas");
	allow(IFD, a, 2, r1, "ALLOW_IOVAS two ranges again");

	/* MAP (ioas.c iommufd_ioas_map, io_pagetable.c iopt_map_user_pages) */
	SZ_IOAS = b;
	sizes(IFD, IOMMU_NR(I_MAP), 40, 40, b_map, "MAP");
	unmap(IFD, b, 0, UINT64_MAX, "UNMAP all of B (after the size stanza)");
	map(IFD, a, M_RW, BUF, 0x10000, 0, "MAP allocated iova (inside the allowed ranges)");
	map(IFD, a, M_RW, BUF, 0x10000, 0, "MAP allocated iova again");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x1100000, "MAP fixed in an allowed range");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x3000000, "MAP fixed outside the allowed ranges");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x1100000, "MAP fixed over an existing mapping");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x1108000, "MAP fixed overlapping the tail of one");
	map(IFD, a, M_RW | M_FIXED, BUF + 0x800, 0x1000, 0x1200000, "MAP unaligned user_va");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x1000, 0x1200800, "MAP unaligned iova");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x1800, 0x1200000, "MAP unaligned length");
	map(IFD, a, M_RW | M_FIXED, BUF, 0, 0x1200000, "MAP length 0");
	map(IFD, a, 0x8 | M_RW | M_FIXED, BUF, 0x1000, 0x1200000, "MAP unknown flag 0x8");
	map(IFD, a, M_FIXED, BUF, 0x1000, 0x1200000, "MAP neither READ nor WRITE");
	map(IFD, a, M_READ | M_FIXED, BUF, 0x1000, 0x1201000, "MAP READ only");
	map(IFD, a, M_WRITE | M_FIXED, BUF, 0x1000, 0x1202000, "MAP WRITE only");
	map(IFD, a, M_RW | M_FIXED, (void *)0x1000, 0x1000, 0x1203000, "MAP user_va 0x1000 (unmapped)");
	map(IFD, a, M_RW | M_FIXED, (void *)0xffff800000000000ull, 0x1000, 0x1203000, "MAP kernel user_va");
	map(IFD, a, M_RW | M_FIXED, BUF, UINT64_MAX & ~0xfffull, 0x1000000, "MAP length wrapping u64");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x2000, 0xfffffffffffff000ull, "MAP iova + length wrapping");
	map(IFD, a, M_RW | M_FIXED, BUF + BUFLEN - 0x1000, 0x2000, 0x1204000, "MAP running off the end of the buffer");
	poke_next(12, 4, 1);
	map(IFD, a, M_RW | M_FIXED, BUF, 0x1000, 0x1205000, "MAP __reserved 1");
	map(IFD, 999, M_RW | M_FIXED, BUF, 0x1000, 0x1205000, "MAP unknown ioas");
	map(IFD, 0, M_RW | M_FIXED, BUF, 0x1000, 0x1205000, "MAP ioas 0");
	/* B has no allowed ranges: the whole u64 space */
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0, "MAP B at iova 0");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x1000, 0xfffffffffffff000ull, "MAP B at the last page of u64");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0x8000000000ull, "MAP B at 2^39");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0xfee00000, "MAP B in x86's MSI window (no device attached)");
	map(IFD, b, M_RW, BUF, 0x200000, 0, "MAP B allocated 2 MiB");
	map(IFD, b, M_RW, BUF + 0x1000, 0x3000, 0, "MAP B allocated, user_va offset 0x1000");
	ranges(IFD, b, 8, "IOVA_RANGES of B");

	/* UNMAP (ioas.c iommufd_ioas_unmap): exact, partial, spanning, all */
	sizes(IFD, IOMMU_NR(I_UNMAP), 24, 24, b_unmap, "UNMAP");
	unmap(IFD, b, 0, 0x8000, "UNMAP the first half of a 64K mapping");
	unmap(IFD, b, 0x8000, 0x8000, "UNMAP the second half of a 64K mapping");
	unmap(IFD, b, 0x1000, 0x1000, "UNMAP a page inside a mapping");
	unmap(IFD, b, 0, 0x20000, "UNMAP a range covering one mapping and a hole");
	unmap(IFD, b, 0, 0x20000, "UNMAP the same range again (nothing there)");
	unmap(IFD, b, 0x8000000000ull, 0x10000, "UNMAP exact");
	unmap(IFD, b, 0x8000000800ull, 0x1000, "UNMAP unaligned iova");
	unmap(IFD, b, 0x8000001000ull, 0, "UNMAP length 0");
	unmap(IFD, b, 0xfffffffffffff000ull, 0x2000, "UNMAP wrapping u64");
	unmap(IFD, b, 0xfffffffffffff000ull, 0x1000, "UNMAP ending exactly at 2^64");
	unmap(IFD, 999, 0, UINT64_MAX, "UNMAP all of an unknown ioas");
	unmap(IFD, b, 0, UINT64_MAX, "UNMAP all (0, U64_MAX)");
	unmap(IFD, b, 0, UINT64_MAX, "UNMAP all of an empty IOAS");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0x10000, "MAP B 64K");
	unmap(IFD, b, 0, 0xffffffffffff0000ull, "UNMAP 0..2^64-64K (not the all form)");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0x10000, "MAP B 64K");
	unmap(IFD, b, 1, UINT64_MAX - 1, "UNMAP 1..U64_MAX");

	/* COPY (ioas.c iommufd_ioas_copy) */
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x1400000, "MAP A 64K for COPY");
	SZ_IOAS = b;
	unmap(IFD, b, 0, UINT64_MAX, "UNMAP all of B");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x1000, 0x7000000, "MAP B a page to copy in the size stanza");
	sizes(IFD, IOMMU_NR(I_COPY), 40, 40, b_copy, "COPY");
	copy(IFD, M_RW | M_FIXED, b, a, 0x10000, 0x500000, 0x1400000, "COPY A -> B exact");
	copy(IFD, M_RW | M_FIXED, b, a, 0x10000, 0x600000, 0x1400000, "COPY A -> B the same range to a second iova");
	copy(IFD, M_RW | M_FIXED, b, a, 0x8000, 0x700000, 0x1400000, "COPY the first half of a mapping");
	copy(IFD, M_RW | M_FIXED, b, a, 0x8000, 0x700000, 0x1408000, "COPY the second half of a mapping");
	copy(IFD, M_RW | M_FIXED, b, a, 0x20000, 0x700000, 0x1400000, "COPY past the end of a mapping");
	copy(IFD, M_RW | M_FIXED, b, a, 0x10000, 0x500000, 0x1400000, "COPY onto an existing mapping");
	copy(IFD, M_RW | M_FIXED, b, a, 0x10000, 0x800000, 0x1500000, "COPY from a hole");
	copy(IFD, M_RW, b, a, 0x10000, 0, 0x1400000, "COPY to an allocated iova");
	copy(IFD, M_RW | M_FIXED, a, a, 0x10000, 0x1600000, 0x1400000, "COPY within A");
	copy(IFD, M_RW | M_FIXED, a, a, 0x10000, 0x3000000, 0x1400000, "COPY within A outside its allowed ranges");
	copy(IFD, M_RW | M_FIXED, b, 999, 0x10000, 0x900000, 0x1400000, "COPY from an unknown ioas");
	copy(IFD, M_RW | M_FIXED, 999, a, 0x10000, 0x900000, 0x1400000, "COPY to an unknown ioas");
	copy(IFD, 0x8 | M_RW | M_FIXED, b, a, 0x10000, 0x900000, 0x1400000, "COPY unknown flag 0x8");
	copy(IFD, M_FIXED, b, a, 0x10000, 0x900000, 0x1400000, "COPY neither READ nor WRITE");
	unmap(IFD, a, 0x1400000, 0x10000, "UNMAP the source in A");
	unmap(IFD, b, 0x500000, 0x10000, "UNMAP the copy in B");
	copy(IFD, M_RW | M_FIXED, b, a, 0x10000, 0x900000, 0x1400000, "COPY from the unmapped source");

	/* OPTION (main.c iommufd_option): RLIMIT_MODE global, HUGE_PAGES per IOAS */
	SZ_IOAS = a;
	sizes(IFD, IOMMU_NR(I_OPTION), 24, 24, b_option, "OPTION");
	option(IFD, 0, 1, 0, 0, "OPTION RLIMIT_MODE GET");
	option(IFD, 0, 0, 0, 1, "OPTION RLIMIT_MODE SET 1 (objects exist)");
	option(IFD, 0, 0, 0, 2, "OPTION RLIMIT_MODE SET 2");
	option(IFD, 0, 1, a, 0, "OPTION RLIMIT_MODE GET with an object id");
	option(IFD, 1, 1, a, 0, "OPTION HUGE_PAGES GET");
	option(IFD, 1, 0, a, 0, "OPTION HUGE_PAGES SET 0");
	option(IFD, 1, 1, a, 0, "OPTION HUGE_PAGES GET after SET 0");
	option(IFD, 1, 0, a, 2, "OPTION HUGE_PAGES SET 2");
	option(IFD, 1, 0, a, 1, "OPTION HUGE_PAGES SET 1");
	option(IFD, 1, 1, 0, 0, "OPTION HUGE_PAGES GET object 0");
	option(IFD, 1, 1, 999, 0, "OPTION HUGE_PAGES GET unknown object");
	option(IFD, 2, 1, a, 0, "OPTION unknown option 2");
	option(IFD, 1, 2, a, 0, "OPTION unknown op 2");
	poke_next(10, 2, 1);
	option(IFD, 1, 1, a, 0, "OPTION __reserved 1");
	/* huge pages off: an IOAS where mappings may be split (io_pagetable.c iopt_disable_large_pages) */
	option(IFD, 1, 0, d, 0, "OPTION HUGE_PAGES SET 0 on D");
	map(IFD, d, M_RW | M_FIXED, BUF, 0x200000, 0x200000, "MAP D 2 MiB (huge pages off)");
	unmap(IFD, d, 0x200000, 0x1000, "UNMAP the first page of a mapping in D");
	unmap(IFD, d, 0x200000, 0x200000, "UNMAP all of the D mapping");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x200000, 0x200000, "MAP B 2 MiB (huge pages on)");
	option(IFD, 1, 0, b, 0, "OPTION HUGE_PAGES SET 0 on B with a mapping");
	option(IFD, 1, 1, b, 0, "OPTION HUGE_PAGES GET on B");
	unmap(IFD, b, 0x200000, 0x1000, "UNMAP the first page of a 2 MiB mapping in B");

	/* VFIO_IOAS (vfio_compat.c iommufd_vfio_ioas) */
	sizes(IFD, IOMMU_NR(I_VFIO_IOAS), 12, 12, b_vfio_ioas, "VFIO_IOAS GET");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET with none set");
	vfio_ioas(IFD, 999, 1, "VFIO_IOAS SET unknown ioas");
	vfio_ioas(IFD, a, 1, "VFIO_IOAS SET A");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET");
	vfio_ioas(IFD, b, 1, "VFIO_IOAS SET B");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET");
	vfio_ioas(IFD, 0, 3, "VFIO_IOAS op 3");
	poke_next(10, 2, 1);
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS __reserved 1");
	vfio_ioas(IFD, 0, 2, "VFIO_IOAS CLEAR");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET after CLEAR");
	vfio_ioas(IFD, b, 1, "VFIO_IOAS SET B");
	destroy(IFD, b, "DESTROY the compat IOAS B");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET after B was destroyed");

	/* the VFIO container ioctls on /dev/iommu (vfio_compat.c iommufd_vfio_ioctl) */
	r_ioctl_val(IFD, VFIO_NR(V_API), 0, "GET_API_VERSION on /dev/iommu");
	for (unsigned e = 0; e <= 11; e++) {
		snprintf(l, sizeof(l), "CHECK_EXTENSION %u on /dev/iommu", e);
		r_ioctl_val(IFD, VFIO_NR(V_CHECK_EXT), e, l);
	}
	r_ioctl_val(IFD, VFIO_NR(V_SET_IOMMU), 3, "SET_IOMMU TYPE1v2 with no compat IOAS");
	vfio_ioas(IFD, a, 1, "VFIO_IOAS SET A");
	r_ioctl_val(IFD, VFIO_NR(V_SET_IOMMU), 3, "SET_IOMMU TYPE1v2 with A as the compat IOAS");
	r_ioctl_val(IFD, VFIO_NR(V_SET_IOMMU), 8, "SET_IOMMU NOIOMMU");
	r_ioctl_val(IFD, VFIO_NR(V_CHECK_EXT), 5, "CHECK_EXTENSION DMA_CC_IOMMU with a compat IOAS");
	cmd(24);
	send(IFD, VFIO_NR(V_IOMMU_INFO), 24, "IOMMU_GET_INFO argsz 24 on /dev/iommu");
	r_ioctl_val(IFD, VFIO_NR(V_DEVICE_INFO), 0, "VFIO_BASE+7 on /dev/iommu");

	/* DESTROY ordering: an IOAS with mappings goes; the fd's close frees the rest */
	destroy(IFD, d, "DESTROY D (no mappings)");
	destroy(IFD, a, "DESTROY A (with mappings, compat IOAS)");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET after A was destroyed");
	ioas_alloc(IFD, 0, "IOAS_ALLOC after the destroys");
}

/* ---------------------------------------------------------------- cdev: bind, attach, HWPTs */
static void b_bind(void) { cmd(24); put32(8, (uint32_t)-1); }
static void b_attach(void) { cmd(16); put32(8, 0xfffff); }
static void b_detach(void) { cmd(12); put32(4, 2); }
static void b_hw_info(void) { cmd(40); put32(8, 0xfffff); }
static void b_hwpt(void) { cmd(48); put32(8, 0xfffff); }
static void b_set_dirty(void) { cmd(16); put32(4, 1); put32(8, 0xfffff); }

static void mode_cdev(void)
{
	char l[128];
	IFD = op_open("/dev/iommu", "iommufd");
	memory(4 << 20);
	find_cdev();
	op_open("/dev/vfio/devices/vfio99", "a cdev that does not exist");
	int dfd = open_cdev("the device cdev");
	int efd = r_eventfd("an fd that is not an iommufd");

	/* before BIND (vfio_main.c: every access before access_granted is EINVAL) */
	dev_info(dfd, "DEVICE_GET_INFO before bind");
	attach(dfd, 0, 1, "ATTACH before bind");
	detach(dfd, 0, "DETACH before bind");
	uint8_t cfg[4];
	r_pread(dfd, 7ull << 40, 4, cfg, "pread config before bind");
	void *m = r_mmap(4096, PROT_READ, dfd, 0, "mmap BAR0 before bind");
	if (m != MAP_FAILED)
		r_munmap(m, 4096);
	r_ioctl_val(dfd, VFIO_NR(V_RESET), 0, "DEVICE_RESET before bind");

	/* BIND_IOMMUFD (device_cdev.c vfio_df_ioctl_bind_iommufd) */
	sizes(dfd, VFIO_NR(V_BIND), 24, 16, b_bind, "BIND");
	bind(dfd, -1, 0, 0, "BIND iommufd -1");
	bind(dfd, IFD, 2, 0, "BIND flags 2");
	bind(dfd, IFD, 0x80000000u, 0, "BIND flags bit 31");
	bind(dfd, efd, 0, 0, "BIND an eventfd");
	bind(dfd, 1000, 0, 0, "BIND fd 1000 (not open)");
	bind(dfd, dfd, 0, 0, "BIND the device fd itself");
	bind(dfd, IFD, 1, 0, "BIND flags TOKEN with a NULL uuid pointer");
	poke_next(12, 4, 0xaaaaaaaa);
	XSIZE = 16;
	if (bind(dfd, IFD, 0, 0, "BIND argsz 16 (minsz, no token field; out_devid 0xaa)") != 0)
		bind(dfd, IFD, 0, 0, "BIND");
	uint32_t dev = DEVID;
	bind(dfd, IFD, 0, 0, "BIND again");
	XSIZE = 32;
	XTAIL = 1;
	bind(dfd, IFD, 0, 0, "BIND again, argsz 32 with a non-zero tail");
	dev_info(dfd, "DEVICE_GET_INFO after bind");
	r_pread(dfd, 7ull << 40, 4, cfg, "pread config after bind");

	/* GET_HW_INFO (device.c iommufd_get_hw_info) */
	sizes(IFD, IOMMU_NR(I_GET_HW_INFO), 40, 28, b_hw_info, "GET_HW_INFO");
	hw_info(IFD, 0, dev, 0, 0, "GET_HW_INFO data_len 0");
	hw_info(IFD, 0, dev, 8, 0, "GET_HW_INFO data_len 8");
	hw_info(IFD, 0, dev, 24, 0, "GET_HW_INFO data_len 24");
	hw_info(IFD, 0, dev, 64, 0, "GET_HW_INFO data_len 64 (the rest zeroed)");
	hw_info(IFD, 0, dev + 100, 24, 0, "GET_HW_INFO unknown dev_id");
	hw_info(IFD, 0, 0, 24, 0, "GET_HW_INFO dev_id 0");
	hw_info(IFD, 2, dev, 24, 0, "GET_HW_INFO flags 2");
	hw_info(IFD, 1, dev, 24, 1, "GET_HW_INFO INPUT_TYPE INTEL_VTD");
	hw_info(IFD, 1, dev, 24, 2, "GET_HW_INFO INPUT_TYPE ARM_SMMUV3");
	hw_info(IFD, 1, dev, 24, 0, "GET_HW_INFO INPUT_TYPE DEFAULT");
	hw_info(IFD, 0, dev, 24, 2, "GET_HW_INFO type 2 without INPUT_TYPE");
	poke_next(29, 1, 1);
	hw_info(IFD, 0, dev, 24, 0, "GET_HW_INFO __reserved[0] 1");
	poke_next(16, 8, 8);
	hw_info(IFD, 0, dev, 24, 0, "GET_HW_INFO data pointer 8");

	/* ATTACH_IOMMUFD_PT (device_cdev.c vfio_df_ioctl_attach_pt, iommufd device.c) */
	sizes(dfd, VFIO_NR(V_ATTACH), 16, 12, b_attach, "ATTACH");
	attach(dfd, 0, 0, "ATTACH pt 0");
	attach(dfd, 0, 999, "ATTACH unknown pt");
	attach(dfd, 2, 999, "ATTACH flags 2");
	attach(dfd, 1, 999, "ATTACH flags PASID");
	attach(dfd, 0, dev, "ATTACH to the device's own id");
	uint32_t a = ioas_alloc(IFD, 0, "IOAS_ALLOC A");
	ranges(IFD, a, 8, "IOVA_RANGES of A before attach");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x100000, "MAP A before attach");
	attach(dfd, 0, a, "ATTACH to A");
	uint32_t auto_hwpt = ATTACHED;
	ranges(IFD, a, 8, "IOVA_RANGES of A after attach");
	attach(dfd, 0, a, "ATTACH to A again");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0xfee00000, "MAP in the MSI window");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0xfeef0000, "MAP the last 64K of the MSI window");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0xfedf0000, "MAP the 64K below the MSI window");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0xfef00000, "MAP the 64K above the MSI window");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x7ffff0000ull, "MAP below 2^39 (the last 64K)");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x8000000000ull, "MAP at 2^39 (beyond the aperture)");
	map(IFD, a, M_RW, BUF, 0x10000, 0, "MAP allocated with a device attached");
	/* generic_pt/iommu_pt.h: WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))) once a domain maps it */
	map(IFD, a, M_FIXED, BUF, 0x1000, 0x180000, "MAP neither READ nor WRITE with a device attached");
	uint64_t ar[] = {0xfe000000, 0xfeffffff};
	allow(IFD, a, 1, ar, "ALLOW_IOVAS over the MSI window with the device attached");
	uint64_t ar2[] = {0x100000, 0x3fffffff};
	allow(IFD, a, 1, ar2, "ALLOW_IOVAS [1M, 1G) with the device attached");
	destroy(IFD, a, "DESTROY A while attached");
	snprintf(l, sizeof(l), "DESTROY the auto-created HWPT %u", auto_hwpt);
	destroy(IFD, auto_hwpt, l);
	destroy(IFD, dev, "DESTROY the bound device's id");
	option(IFD, 1, 0, a, 0, "OPTION HUGE_PAGES SET 0 with a device attached");
	option(IFD, 1, 1, a, 0, "OPTION HUGE_PAGES GET");

	/* HWPT_ALLOC (hw_pagetable.c iommufd_hwpt_alloc) */
	sizes(IFD, IOMMU_NR(I_HWPT_ALLOC), 48, 24, b_hwpt, "HWPT_ALLOC");
	hwpt_alloc(IFD, 0, dev + 100, a, 0, "HWPT_ALLOC unknown dev");
	hwpt_alloc(IFD, 0, dev, 999, 0, "HWPT_ALLOC unknown pt");
	hwpt_alloc(IFD, 0, a, a, 0, "HWPT_ALLOC dev = an IOAS id");
	hwpt_alloc(IFD, 0x10, dev, a, 0, "HWPT_ALLOC flags 0x10");
	hwpt_alloc(IFD, 1, dev, a, 0, "HWPT_ALLOC NEST_PARENT");
	hwpt_alloc(IFD, 2, dev, a, 0, "HWPT_ALLOC DIRTY_TRACKING");
	hwpt_alloc(IFD, 8, dev, a, 0, "HWPT_ALLOC PASID");
	hwpt_alloc(IFD, 4, dev, a, 0, "HWPT_ALLOC FAULT_ID_VALID with fault 0");
	hwpt_alloc(IFD, 0, dev, a, 1, "HWPT_ALLOC data type VTD_S1 on an IOAS");
	hwpt_alloc(IFD, 0, dev, a, 2, "HWPT_ALLOC data type ARM_SMMUV3");
	poke_next(20, 4, 1);
	hwpt_alloc(IFD, 0, dev, a, 0, "HWPT_ALLOC __reserved 1");
	poke_next(28, 4, 16);
	hwpt_alloc(IFD, 0, dev, a, 0, "HWPT_ALLOC data_len 16 with type NONE");
	hwpt_alloc(IFD, 0, dev, a, 0, "HWPT_ALLOC paging from A");
	uint32_t h1 = HWPT;
	hwpt_alloc(IFD, 0, dev, h1, 0, "HWPT_ALLOC from a paging HWPT (not a nest parent)");
	hwpt_alloc(IFD, 0, dev, a, 0, "HWPT_ALLOC paging from A, a second");
	uint32_t h2 = HWPT;
	ranges(IFD, a, 8, "IOVA_RANGES of A with two HWPTs");

	/* the dirty tracking commands (hw_pagetable.c) on a HWPT without dirty ops */
	sizes(IFD, IOMMU_NR(I_SET_DIRTY), 16, 16, b_set_dirty, "SET_DIRTY_TRACKING of an unknown id");
	set_dirty(IFD, 1, h1, "SET_DIRTY_TRACKING enable");
	set_dirty(IFD, 0, h1, "SET_DIRTY_TRACKING disable");
	set_dirty(IFD, 2, h1, "SET_DIRTY_TRACKING flags 2");
	set_dirty(IFD, 1, a, "SET_DIRTY_TRACKING on an IOAS id");
	set_dirty(IFD, 1, 999, "SET_DIRTY_TRACKING unknown id");
	get_dirty(IFD, h1, 0, 0x100000, 0x10000, 4096, "GET_DIRTY_BITMAP");
	get_dirty(IFD, h1, 2, 0x100000, 0x10000, 4096, "GET_DIRTY_BITMAP flags 2");
	get_dirty(IFD, h1, 0, 0x100000, 0x10000, 3000, "GET_DIRTY_BITMAP page size 3000");
	get_dirty(IFD, h1, 0, 0x100800, 0x10000, 4096, "GET_DIRTY_BITMAP unaligned iova");
	get_dirty(IFD, a, 0, 0x100000, 0x10000, 4096, "GET_DIRTY_BITMAP on an IOAS id");

	/* attach to a HWPT: replace, then destroy ordering */
	attach(dfd, 0, h1, "ATTACH to HWPT 1 (replace the auto domain)");
	snprintf(l, sizeof(l), "DESTROY the auto-created HWPT %u after the replace", auto_hwpt);
	destroy(IFD, auto_hwpt, l);
	destroy(IFD, h1, "DESTROY HWPT 1 while attached");
	attach(dfd, 0, h2, "ATTACH to HWPT 2 (replace)");
	destroy(IFD, h1, "DESTROY HWPT 1 after the replace");
	destroy(IFD, a, "DESTROY A while HWPT 2 uses it");
	map(IFD, a, M_RW | M_FIXED, BUF, 0x10000, 0x200000, "MAP A while attached through HWPT 2");
	unmap(IFD, a, 0, UINT64_MAX, "UNMAP all of A");

	/* DETACH (device_cdev.c vfio_df_ioctl_detach_pt) */
	sizes(dfd, VFIO_NR(V_DETACH), 12, 8, b_detach, "DETACH");
	detach(dfd, 2, "DETACH flags 2");
	detach(dfd, 1, "DETACH flags PASID");
	detach(dfd, 0, "DETACH");
	detach(dfd, 0, "DETACH again");
	destroy(IFD, h2, "DESTROY HWPT 2 after detach");
	/* reserved regions against existing mappings and allowed ranges at attach */
	uint32_t b = ioas_alloc(IFD, 0, "IOAS_ALLOC B");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0xfee00000, "MAP B in the MSI window before attach");
	attach(dfd, 0, b, "ATTACH to B (a mapping in the MSI window)");
	unmap(IFD, b, 0xfee00000, 0x10000, "UNMAP it");
	map(IFD, b, M_RW | M_FIXED, BUF, 0x10000, 0x8000000000ull, "MAP B at 2^39 before attach");
	attach(dfd, 0, b, "ATTACH to B (a mapping beyond the aperture)");
	unmap(IFD, b, 0, UINT64_MAX, "UNMAP all of B");
	uint64_t br[] = {0xfe000000, 0xfeffffff};
	allow(IFD, b, 1, br, "ALLOW_IOVAS over the MSI window before attach");
	attach(dfd, 0, b, "ATTACH to B (allowed range over the MSI window)");
	allow(IFD, b, 0, br, "ALLOW_IOVAS none");
	attach(dfd, 0, b, "ATTACH to B");
	ranges(IFD, b, 8, "IOVA_RANGES of B");
	attach(dfd, 0, a, "ATTACH to A (replace IOAS by IOAS)");
	ranges(IFD, b, 8, "IOVA_RANGES of B after the device left");
	destroy(IFD, b, "DESTROY B");
	destroy(IFD, a, "DESTROY A while attached");
	r_close(dfd, "close the bound, attached device cdev (unbind)");
	destroy(IFD, a, "DESTROY A after the cdev was closed");
	hw_info(IFD, 0, dev, 24, 0, "GET_HW_INFO of the unbound device");
}

/* ---------------------------------------------------------------- dma: edu through an IOAS */
/* QEMU hw/misc/edu.c: DMA registers at 0x80 (src), 0x88 (dst), 0x90 (count), 0x98 (command:
 * 1 start, 2 to RAM, 4 raise IRQ), its buffer at 0x40000 (4 KiB), a 28-bit DMA mask; a transfer
 * runs from a 100 ms virtual-clock timer. */
#define EDU_BUF 0x40000
static int DFD = -1;
static void edu_dma(uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmdv, const char *label)
{
	r_pwrite(DFD, 0x80, &src, 8, label);
	r_pwrite(DFD, 0x88, &dst, 8, label);
	r_pwrite(DFD, 0x90, &cnt, 8, label);
	r_pwrite(DFD, 0x98, &cmdv, 8, label);
	usleep(400000);
	uint8_t v[8];
	r_pread(DFD, 0x98, 8, v, "edu DMA command register after 400 ms (bit 0 clear: done)");
}

/* memory decode and bus mastering on in edu's command register: the old value, to restore */
static uint16_t bus_master_on(void)
{
	uint8_t c[2];
	r_pread(DFD, (7ull << 40) + 4, 2, c, "command register");
	uint16_t cmdreg = (uint16_t)(c[0] | c[1] << 8), on = cmdreg | 0x6;
	r_pwrite(DFD, (7ull << 40) + 4, &on, 2, "command: memory + bus master");
	return cmdreg;
}

static void mode_dma(void)
{
	memory(1 << 20);
	find_cdev();
	if (!bound_device(&DFD, "dma"))
		return;
	uint32_t a = ioas_alloc(IFD, 0, "IOAS_ALLOC");
	attach(DFD, 0, a, "ATTACH");
	uint16_t cmdreg = bus_master_on();
	st64(BUF, 0x1122334455667788ull, "pattern in the source page");
	st64(BUF + 8, 0x99aabbccddeeff00ull, "pattern in the source page");
	map(IFD, a, M_READ | M_FIXED, BUF, 0x1000, 0x100000, "MAP the source page READ-only at 0x100000");
	map(IFD, a, M_WRITE | M_FIXED, BUF + 0x1000, 0x1000, 0x101000, "MAP the target page WRITE-only at 0x101000");
	map(IFD, a, M_READ | M_FIXED, BUF + 0x2000, 0x1000, 0x102000, "MAP a READ-only page at 0x102000");
	edu_dma(0x100000, EDU_BUF, 16, 1, "edu DMA RAM 0x100000 -> edu buffer");
	edu_dma(EDU_BUF, 0x101000, 16, 3, "edu DMA edu buffer -> RAM 0x101000");
	ld64(BUF + 0x1000, "what the device wrote");
	ld64(BUF + 0x1008, "what the device wrote");
	edu_dma(EDU_BUF, 0x102000, 16, 3, "edu DMA to a READ-only mapping (IOMMU fault)");
	ld64(BUF + 0x2000, "the READ-only page");
	edu_dma(EDU_BUF, 0x200000, 16, 3, "edu DMA to an unmapped iova (IOMMU fault)");
	st64(BUF + 8, 0x0123456789abcdefull, "new pattern");
	unmap(IFD, a, 0x101000, 0x1000, "UNMAP the target page");
	map(IFD, a, M_RW | M_FIXED, BUF + 0x3000, 0x1000, 0x101000, "MAP another page at the target iova");
	edu_dma(0x100000, EDU_BUF, 16, 1, "edu DMA RAM -> edu buffer");
	edu_dma(EDU_BUF, 0x101000, 16, 3, "edu DMA edu buffer -> the remapped iova");
	ld64(BUF + 0x3000, "what the device wrote to the new page");
	ld64(BUF + 0x3008, "what the device wrote to the new page");
	ld64(BUF + 0x1000, "the old page (no longer mapped)");
	/* a second IOAS through a HWPT, then detached (blocked) */
	uint32_t b = ioas_alloc(IFD, 0, "IOAS_ALLOC B");
	map(IFD, b, M_RW | M_FIXED, BUF + 0x4000, 0x1000, 0x101000, "MAP B: a fourth page at the target iova");
	hwpt_alloc(IFD, 0, DEVID, b, 0, "HWPT_ALLOC from B");
	attach(DFD, 0, HWPT, "ATTACH to B's HWPT (replace)");
	edu_dma(EDU_BUF, 0x101000, 16, 3, "edu DMA through B's HWPT");
	ld64(BUF + 0x4000, "what the device wrote to B's page");
	ld64(BUF + 0x3000, "A's page (unchanged)");
	detach(DFD, 0, "DETACH");
	edu_dma(EDU_BUF, 0x101000, 16, 3, "edu DMA while detached (blocked)");
	r_pwrite(DFD, (7ull << 40) + 4, &cmdreg, 2, "restore: command");
}

/* ---------------------------------------------------------------- file: MAP_FILE and the fault queue */
/*
 * IOMMU_IOAS_MAP_FILE (6.13) with a memfd, an eventfd (not shmem), bad fds, an unaligned start and
 * a range past the file's end, before and after a device is attached (the pages are pinned only
 * when a domain is filled: memfd_pin_folios refuses what is not shmem/hugetlbfs and what ends at
 * or past i_size); edu's DMA through memfd pages seen through a MAP_SHARED mapping of the memfd.
 * IOMMU_FAULT_QUEUE_ALLOC (6.11): flags, the size rules, the fd, HWPT_ALLOC with fault_id and an
 * attach of that HWPT (VT-d without PRI: -ENODEV), DESTROY while the fd and the HWPT hold it.
 */
static int r_memfd(uint64_t len, const char *label)
{
	int fd = (int)syscall(SYS_memfd_create, "iommufdprobe", 0);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0 && ftruncate(fd, (off_t)len)) {
		e = errno;
		close(fd);
		fd = -1;
	}
	begin("memfd");
	put(",\"len\":\"0x%llx\"", (unsigned long long)len);
	outcome(fd, e);
	end(label);
	keep(fd);
	return fd;
}

static uint64_t FILE_IOVA;
static long map_file(int fd, uint32_t ioas, uint32_t flags, int file, uint64_t start, uint64_t len, uint64_t iova, const char *label)
{
	cmd(40);
	put32(4, flags);
	put32(8, ioas);
	put32(12, (uint32_t)file);
	put64(16, start);
	put64(24, len);
	put64(32, iova);
	long r = send(fd, IOMMU_NR(I_MAP_FILE), 40, label);
	FILE_IOVA = get64(32);
	return r;
}
static void b_map_file(void) { cmd(40); put32(4, M_RW | M_FIXED); put32(8, SZ_IOAS); put32(12, (uint32_t)-1); put64(24, 4096); put64(32, 0x7000000); }

static uint32_t FAULT_ID;
static int FAULT_FD = -1;
static long fault_alloc(int fd, uint32_t flags, const char *label)
{
	cmd(16);
	put32(4, flags);
	long r = send(fd, IOMMU_NR(I_FAULT_ALLOC), 16, label);
	if (r == 0) {
		FAULT_ID = get32(8);
		FAULT_FD = (int)get32(12);
		keep(FAULT_FD);
	}
	return r;
}
static void b_fault(void) { cmd(16); }


/* read(2) of the fault fd: not a vfio-trace/1 op, so printed as an @@I line beside the trace */
static void fault_read(size_t n, const char *what)
{
	uint8_t b[192];
	memset(b, AA, sizeof(b));
	ssize_t r = read(FAULT_FD, b, n);
	printf("@@I fault-read %s: count %zu ret %zd errno %d first %02x\n", what, n, r, r < 0 ? errno : 0, b[0]);
	fflush(stdout);
}

static void mode_file(void)
{
	memory(1 << 20);
	find_cdev();
	int efd = r_eventfd("an eventfd: a file that is not shmem");
	int mfd = r_memfd(0x4000, "memfd of 16 KiB");
	uint8_t *mv = r_mmap(0x4000, PROT_READ | PROT_WRITE, mfd, 0, "the memfd MAP_SHARED");
	st64(mv, 0x1122334455667788ull, "pattern in memfd page 0");
	st64(mv + 8, 0x99aabbccddeeff00ull, "pattern in memfd page 0");
	IFD = op_open("/dev/iommu", "iommufd");
	SZ_IOAS = ioas_alloc(IFD, 0, "IOAS_ALLOC for the size rules");
	sizes(IFD, IOMMU_NR(I_MAP_FILE), 40, 40, b_map_file, "MAP_FILE");
	uint32_t a = ioas_alloc(IFD, 0, "IOAS_ALLOC A");
	map_file(IFD, a, M_RW | M_FIXED | 8, mfd, 0, 0x1000, 0x100000, "MAP_FILE unknown flag");
	map_file(IFD, a, M_FIXED, mfd, 0, 0x1000, 0x100000, "MAP_FILE neither READ nor WRITE");
	map_file(IFD, 0xfffff, M_RW | M_FIXED, mfd, 0, 0x1000, 0x100000, "MAP_FILE unknown ioas");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0, 0, 0x100000, "MAP_FILE length 0");
	map_file(IFD, a, M_RW | M_FIXED, mfd, ~0ull - 0xfff, 0x2000, 0x100000, "MAP_FILE start + length wraps");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0, ~0ull, 0x100000, "MAP_FILE length ULONG_MAX");
	map_file(IFD, a, M_RW | M_FIXED, -1, 0, 0x1000, 0x100000, "MAP_FILE fd -1");
	map_file(IFD, a, M_RW | M_FIXED, 900, 0, 0x1000, 0x100000, "MAP_FILE fd 900 (not open)");
	map_file(IFD, a, M_RW | M_FIXED, -1, 0, 0, 0x100000, "MAP_FILE fd -1, length 0");
	map_file(IFD, a, M_RW, efd, 0, 0x1000, 0, "MAP_FILE an eventfd, no domain (lazy: nothing pinned)");
	unmap(IFD, a, FILE_IOVA, 0x1000, "UNMAP the eventfd area");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0x2000, 0x4000, 0x300000, "MAP_FILE past the end, no domain");
	map_file(IFD, a, M_RW, mfd, 0x800, 0x1000, 0, "MAP_FILE unaligned start 0x800, allocated iova");
	unmap(IFD, a, FILE_IOVA, 0x1000, "UNMAP the unaligned area");
	map_file(IFD, a, M_READ | M_FIXED, mfd, 0, 0x1000, 0x100000, "MAP_FILE memfd page 0 READ at 0x100000");
	map_file(IFD, a, M_WRITE | M_FIXED, mfd, 0x1000, 0x1000, 0x101000, "MAP_FILE memfd page 1 WRITE at 0x101000");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0x1000, 0x1000, 0x101000, "MAP_FILE onto a mapped iova");
	char l[64];
	snprintf(l, sizeof(l), "file: cdev");
	DFD = open_cdev(l);
	if (bind(DFD, IFD, 0, 0, "file: bind"))
		return;
	attach(DFD, 0, a, "ATTACH A with an area past the file's end");
	unmap(IFD, a, 0x300000, 0x4000, "UNMAP the area past the end");
	attach(DFD, 0, a, "ATTACH A");
	map_file(IFD, a, M_RW, efd, 0, 0x1000, 0, "MAP_FILE an eventfd, attached (pinned: not shmem)");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0x2000, 0x4000, 0x300000, "MAP_FILE past the end, attached");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0x2000, 0x1800, 0x300000, "MAP_FILE whose last page passes the end");
	map_file(IFD, a, M_RW | M_FIXED, mfd, 0x3000, 0x1000, 0x300000, "MAP_FILE the last page, attached");
	map_file(IFD, a, M_RW, mfd, 0x2800, 0x800, 0, "MAP_FILE unaligned start, attached, allocated iova");
	uint16_t cmdreg = bus_master_on();
	edu_dma(0x100000, EDU_BUF, 16, 1, "edu DMA memfd page 0 -> edu buffer");
	edu_dma(EDU_BUF, 0x101000, 16, 3, "edu DMA edu buffer -> memfd page 1");
	ld64(mv + 0x1000, "memfd page 1 through the shared mapping");
	ld64(mv + 0x1008, "memfd page 1 through the shared mapping");
	edu_dma(EDU_BUF, 0x300010, 8, 3, "edu DMA -> memfd page 3 + 0x10");
	ld64(mv + 0x3010, "memfd page 3 through the shared mapping");
	r_pwrite(DFD, (7ull << 40) + 4, &cmdreg, 2, "restore: command");
	/* the fault queue */
	fault_alloc(IFD, 1, "FAULT_QUEUE_ALLOC flags 1");
	sizes(IFD, IOMMU_NR(I_FAULT_ALLOC), 16, 16, b_fault, "FAULT_QUEUE_ALLOC");
	fault_alloc(IFD, 0, "FAULT_QUEUE_ALLOC");
	if (FAULT_FD >= 0) {
		/* struct iommu_hwpt_pgfault is 40 bytes */
		fault_read(40, "one record, empty queue");
		fault_read(39, "39 bytes");
		fault_read(48, "48 bytes");
		fault_read(0, "0 bytes");
		fault_read(80, "two records");
		uint8_t resp[8] = {1, 0, 0, 0, 0, 0, 0, 0};
		ssize_t w = write(FAULT_FD, resp, 8);
		printf("@@I fault-write cookie 1 ret %zd errno %d\n", w, w < 0 ? errno : 0);
		w = write(FAULT_FD, resp, 7);
		printf("@@I fault-write 7 bytes ret %zd errno %d\n", w, w < 0 ? errno : 0);
		resp[4] = 7;
		w = write(FAULT_FD, resp, 8);
		printf("@@I fault-write code 7 ret %zd errno %d\n", w, w < 0 ? errno : 0);
		w = write(FAULT_FD, resp, 0);
		printf("@@I fault-write 0 bytes ret %zd errno %d\n", w, w < 0 ? errno : 0);
		ssize_t pr = pread(FAULT_FD, resp, 8, 0);
		printf("@@I fault-pread ret %zd errno %d\n", pr, pr < 0 ? errno : 0);
		fflush(stdout);
	}
	hwpt_alloc_with(IFD, 4, DEVID, a, 0, a, "HWPT_ALLOC FAULT_ID_VALID, fault_id an IOAS");
	hwpt_alloc_with(IFD, 4, DEVID, a, 0, 0xfffff, "HWPT_ALLOC FAULT_ID_VALID, unknown fault_id");
	hwpt_alloc_with(IFD, 5, DEVID, a, 0, FAULT_ID, "HWPT_ALLOC FAULT_ID_VALID|NEST_PARENT");
	hwpt_alloc_with(IFD, 0, DEVID, a, 0, FAULT_ID, "HWPT_ALLOC fault_id without FAULT_ID_VALID");
	uint32_t plain = HWPT;
	hwpt_alloc_with(IFD, 4, DEVID, a, 0, FAULT_ID, "HWPT_ALLOC FAULT_ID_VALID");
	uint32_t fh = HWPT;
	attach(DFD, 0, fh, "ATTACH the fault HWPT (replace; VT-d: no PRI)");
	attach(DFD, 0, plain, "ATTACH the plain HWPT (replace)");
	edu_dma(0x100000, EDU_BUF, 8, 1, "edu DMA after the refused replace");
	destroy(IFD, FAULT_ID, "DESTROY the fault queue (fd and HWPT hold it)");
	destroy(IFD, fh, "DESTROY the fault HWPT");
	destroy(IFD, FAULT_ID, "DESTROY the fault queue (the fd holds it)");
	if (FAULT_FD >= 0)
		r_close(FAULT_FD, "close the fault fd");
	destroy(IFD, FAULT_ID, "DESTROY the fault queue");
	detach(DFD, 0, "DETACH");
	attach(DFD, 0, a, "ATTACH A again");
	r_munmap(mv, 0x4000);
	unmap(IFD, a, 0, ~0ull, "UNMAP all");
	r_close(mfd, "close the memfd");
}

/* ---------------------------------------------------------------- excl: cdev vs group */
static void mode_excl(void)
{
	IFD = op_open("/dev/iommu", "iommufd");
	find_cdev();
	int dfd = open_cdev("cdev");
	bind(dfd, IFD, 0, 0, "BIND");
	int g = open_group("group while the cdev is bound");
	if (g >= 0)
		r_close(g, "");
	r_close(dfd, "close the cdev (unbind)");
	g = open_group("group after the cdev was closed");
	dfd = open_cdev("cdev while the group is open");
	bind(dfd, IFD, 0, 0, "BIND while the group is open");
	dev_info(dfd, "DEVICE_GET_INFO");
	r_close(g, "close the group");
	bind(dfd, IFD, 0, 0, "BIND after the group was closed");
	int d2 = open_cdev("a second open of the cdev");
	bind(d2, IFD, 0, 0, "BIND the second fd of a bound device");
	int i2 = op_open("/dev/iommu", "a second iommufd");
	bind(d2, i2, 0, 0, "BIND the second fd to the second iommufd");
	r_close(d2, "");
	g = open_group("group while the cdev is bound");
	if (g >= 0)
		r_close(g, "");
	r_close(dfd, "close the cdev (unbind)");
	/* group with a container and a device fd, then the cdev */
	int cfd = op_open("/dev/vfio/vfio", "container");
	g = open_group("group");
	int32_t fdv = cfd;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER");
	r_ioctl_val(cfd, VFIO_NR(V_SET_IOMMU), 3, "SET_IOMMU TYPE1v2");
	char name[32];
	snprintf(name, sizeof(name), "%s", BDF);
	long r = r_ioctl(g, VFIO_NR(V_GET_DEVICE_FD), name, strlen(name) + 1, "GET_DEVICE_FD");
	if (r >= 0) {
		keep((int)r);
		if (r < 1024)
			FDK[r] = 'd';
		bind((int)r, IFD, 0, 0, "BIND on a device fd from the group");
		attach((int)r, 0, 1, "ATTACH on a device fd from the group");
		detach((int)r, 0, "DETACH on a device fd from the group");
	}
	dfd = open_cdev("cdev while the group's device fd is open");
	bind(dfd, IFD, 0, 0, "BIND while the group's device fd is open");
	r_close(dfd, "");
	if (r >= 0)
		r_close((int)r, "close the group's device fd");
	r_close(g, "close the group");
	r_close(cfd, "close the container");
	dfd = open_cdev("cdev after the group path closed");
	bind(dfd, IFD, 0, 0, "BIND after the group path closed");
}

/* ---------------------------------------------------------------- group: SET_CONTAINER(iommufd) */
static void get_info(int cfd, uint32_t argsz, size_t n, const char *label)
{
	cmd(n);
	memset(CMD + 4, AA, n - 4);
	put32(0, argsz);
	send(cfd, VFIO_NR(V_IOMMU_INFO), n, label);
}

static void mode_group(void)
{
	char l[128];
	IFD = op_open("/dev/iommu", "iommufd");
	memory(1 << 20);
	find_cdev();
	int g = open_group("group");
	cmd(8);
	put32(0, 8);
	send(g, VFIO_NR(V_GROUP_STATUS), 8, "GROUP_GET_STATUS");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET before SET_CONTAINER");
	int efd = r_eventfd("an eventfd");
	int32_t fdv = efd;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER an eventfd");
	fdv = 1000;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER fd 1000 (not open)");
	int dcdev = open_cdev("the device cdev");
	fdv = dcdev;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER a device cdev fd");
	r_close(dcdev, "");
	fdv = IFD;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER the iommufd");
	cmd(8);
	put32(0, 8);
	send(g, VFIO_NR(V_GROUP_STATUS), 8, "GROUP_GET_STATUS");
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER again");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET: the compat IOAS SET_CONTAINER created");
	uint32_t ioas = get32(4);
	ranges(IFD, ioas, 8, "IOVA_RANGES of the compat IOAS (no device yet)");
	char name[32];
	snprintf(name, sizeof(name), "%s", BDF);
	long r = r_ioctl(g, VFIO_NR(V_GET_DEVICE_FD), name, strlen(name) + 1, "GET_DEVICE_FD (binds and attaches)");
	int dfd = (int)r;
	if (r >= 0) {
		keep(dfd);
		if (dfd < 1024)
			FDK[dfd] = 'd';
	}
	ranges(IFD, ioas, 8, "IOVA_RANGES after GET_DEVICE_FD");
	dev_info(dfd, "DEVICE_GET_INFO");
	bind(dfd, IFD, 0, 0, "BIND on the group's device fd");
	hw_info(IFD, 0, 1, 24, 0, "GET_HW_INFO dev_id 1");
	hw_info(IFD, 0, 2, 24, 0, "GET_HW_INFO dev_id 2 (the group path's device has an object id too)");
	/* the VFIO container ioctls on the iommufd */
	r_ioctl_val(IFD, VFIO_NR(V_API), 0, "GET_API_VERSION");
	for (unsigned e = 1; e <= 10; e++) {
		snprintf(l, sizeof(l), "CHECK_EXTENSION %u", e);
		r_ioctl_val(IFD, VFIO_NR(V_CHECK_EXT), e, l);
	}
	get_info(IFD, 24, 24, "IOMMU_GET_INFO before SET_IOMMU");
	r_ioctl_val(IFD, VFIO_NR(V_SET_IOMMU), 3, "SET_IOMMU TYPE1v2");
	get_info(IFD, 16, 24, "IOMMU_GET_INFO argsz 16");
	get_info(IFD, 512, 512, "IOMMU_GET_INFO argsz 512");
	uint8_t mp[32];
	memset(mp, 0, sizeof(mp));
	uint32_t v32 = 32, fl = 3;
	uint64_t va = (uintptr_t)BUF, iova = 0x100000, sz = 0x10000;
	memcpy(mp, &v32, 4);
	memcpy(mp + 4, &fl, 4);
	memcpy(mp + 8, &va, 8);
	memcpy(mp + 16, &iova, 8);
	memcpy(mp + 24, &sz, 8);
	r_ioctl(IFD, VFIO_NR(V_MAP_DMA), mp, 32, "MAP_DMA through the iommufd");
	ranges(IFD, ioas, 8, "IOVA_RANGES");
	map(IFD, ioas, M_RW | M_FIXED, BUF, 0x10000, 0x200000, "IOAS_MAP in the compat IOAS");
	get_info(IFD, 512, 512, "IOMMU_GET_INFO after two maps");
	destroy(IFD, ioas, "DESTROY the compat IOAS while the device is attached");
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER with the device fd open");
	if (dfd >= 0)
		r_close(dfd, "close the device fd");
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET after UNSET_CONTAINER");
	unmap(IFD, ioas, 0, UINT64_MAX, "UNMAP all of the compat IOAS");
	destroy(IFD, ioas, "DESTROY the compat IOAS");
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER the iommufd again");
	vfio_ioas(IFD, 0, 0, "VFIO_IOAS GET: a new compat IOAS");
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
}

/* ---------------------------------------------------------------- unsafe: the isolated-MSI check at bind */
static void mode_unsafe(void)
{
	memory(1 << 20);
	find_cdev();
	r_param("iommufd", "N");
	IFD = op_open("/dev/iommu", "iommufd");
	int dfd = open_cdev("cdev");
	bind(dfd, IFD, 0, 0, "BIND with allow_unsafe_interrupts=N");
	r_close(dfd, "");
	int g = open_group("group");
	int32_t fdv = IFD;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER the iommufd");
	char name[32];
	snprintf(name, sizeof(name), "%s", BDF);
	long r = r_ioctl(g, VFIO_NR(V_GET_DEVICE_FD), name, strlen(name) + 1, "GET_DEVICE_FD with allow_unsafe_interrupts=N");
	if (r >= 0) {
		keep((int)r);
		r_close((int)r, "");
	}
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
	r_param("iommufd", "Y");
	r = r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER the iommufd");
	r = r_ioctl(g, VFIO_NR(V_GET_DEVICE_FD), name, strlen(name) + 1, "GET_DEVICE_FD with allow_unsafe_interrupts=Y");
	if (r >= 0) {
		keep((int)r);
		r_close((int)r, "");
	}
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
	r_close(g, "");
	dfd = open_cdev("cdev");
	bind(dfd, IFD, 0, 0, "BIND with allow_unsafe_interrupts=Y");
	uint32_t a = ioas_alloc(IFD, 0, "IOAS_ALLOC");
	attach(dfd, 0, a, "ATTACH");
	ranges(IFD, a, 8, "IOVA_RANGES");
	r_close(dfd, "");
	r_param("iommufd", "N");
}

/* ---------------------------------------------------------------- compat: the container */
/* the same sequence against /dev/vfio/vfio on both builds: the legacy type1 driver on one,
 * iommufd's compat layer on the other (vfio_compat.c) */
static long map_dma(int cfd, uint32_t argsz, uint32_t flags, const void *va, uint64_t iova, uint64_t size, const char *label)
{
	cmd(32);
	put32(0, argsz);
	put32(4, flags);
	put64(8, (uintptr_t)va);
	put64(16, iova);
	put64(24, size);
	return send(cfd, VFIO_NR(V_MAP_DMA), 32, label);
}

static long unmap_dma(int cfd, uint32_t flags, uint64_t iova, uint64_t size, const char *label)
{
	cmd(24);
	put32(4, flags);
	put64(8, iova);
	put64(16, size);
	return send(cfd, VFIO_NR(V_UNMAP_DMA), 24, label);
}

static void mode_compat(const char *type)
{
	char l[128];
	unsigned t = !strcmp(type, "type1") ? 1 : 3;
	memory(4 << 20);
	int cfd = op_open("/dev/vfio/vfio", "container");
	r_ioctl_val(cfd, VFIO_NR(V_API), 0, "GET_API_VERSION");
	for (unsigned e = 0; e <= 11; e++) {
		snprintf(l, sizeof(l), "CHECK_EXTENSION %u before a group", e);
		r_ioctl_val(cfd, VFIO_NR(V_CHECK_EXT), e, l);
	}
	r_ioctl_val(cfd, VFIO_NR(V_SET_IOMMU), t, "SET_IOMMU before a group");
	get_info(cfd, 24, 24, "IOMMU_GET_INFO before a group");
	map_dma(cfd, 32, 3, BUF, 0x100000, 0x10000, "MAP_DMA before a group");
	vfio_ioas(cfd, 0, 0, "IOMMU_VFIO_IOAS GET on the container fd");
	ioas_alloc(cfd, 0, "IOMMU_IOAS_ALLOC on the container fd");
	int g = open_group("group");
	int32_t fdv = cfd;
	r_ioctl(g, VFIO_NR(V_SET_CONTAINER), &fdv, 4, "SET_CONTAINER");
	for (unsigned e = 1; e <= 10; e++) {
		snprintf(l, sizeof(l), "CHECK_EXTENSION %u with a group", e);
		r_ioctl_val(cfd, VFIO_NR(V_CHECK_EXT), e, l);
	}
	get_info(cfd, 24, 24, "IOMMU_GET_INFO before SET_IOMMU");
	r_ioctl_val(cfd, VFIO_NR(V_SET_IOMMU), 7, "SET_IOMMU SPAPR_TCE_v2 (7)");
	r_ioctl_val(cfd, VFIO_NR(V_SET_IOMMU), t, t == 1 ? "SET_IOMMU TYPE1" : "SET_IOMMU TYPE1v2");
	r_ioctl_val(cfd, VFIO_NR(V_SET_IOMMU), t, "SET_IOMMU again");
	for (unsigned e = 1; e <= 10; e++) {
		snprintf(l, sizeof(l), "CHECK_EXTENSION %u after SET_IOMMU", e);
		r_ioctl_val(cfd, VFIO_NR(V_CHECK_EXT), e, l);
	}
	get_info(cfd, 8, 24, "IOMMU_GET_INFO argsz 8");
	get_info(cfd, 16, 24, "IOMMU_GET_INFO argsz 16");
	get_info(cfd, 24, 24, "IOMMU_GET_INFO argsz 24");
	get_info(cfd, 512, 512, "IOMMU_GET_INFO argsz 512 (capabilities)");
	vfio_ioas(cfd, 0, 0, "IOMMU_VFIO_IOAS GET after SET_CONTAINER");
	char name[32];
	snprintf(name, sizeof(name), "%s", BDF);
	long r = r_ioctl(g, VFIO_NR(V_GET_DEVICE_FD), name, strlen(name) + 1, "GET_DEVICE_FD");
	if (r >= 0) {
		keep((int)r);
		if (r < 1024)
			FDK[r] = 'd';
	}
	/* MAP_DMA (vfio_compat.c iommufd_vfio_map_dma / vfio_iommu_type1.c vfio_dma_do_map) */
	map_dma(cfd, 16, 3, BUF, 0x100000, 0x10000, "MAP_DMA argsz 16");
	map_dma(cfd, 32, 0, BUF, 0x100000, 0x10000, "MAP_DMA flags 0");
	map_dma(cfd, 32, 8, BUF, 0x100000, 0x10000, "MAP_DMA flag 0x8");
	map_dma(cfd, 32, 4 | 3, BUF, 0x100000, 0x10000, "MAP_DMA VADDR|READ|WRITE");
	map_dma(cfd, 32, 4, BUF, 0x100000, 0x10000, "MAP_DMA VADDR (nothing invalidated)");
	map_dma(cfd, 32, 3, BUF, 0x100000, 0x10000, "MAP_DMA 64K at 0x100000");
	map_dma(cfd, 32, 3, BUF, 0x100000, 0x10000, "MAP_DMA the same again");
	map_dma(cfd, 32, 3, BUF, 0x108000, 0x10000, "MAP_DMA overlapping the tail");
	map_dma(cfd, 32, 1, BUF + 0x10000, 0x200000, 0x1000, "MAP_DMA READ only");
	map_dma(cfd, 32, 2, BUF + 0x10000, 0x201000, 0x1000, "MAP_DMA WRITE only");
	map_dma(cfd, 32, 3, BUF, 0x300800, 0x1000, "MAP_DMA unaligned iova");
	map_dma(cfd, 32, 3, BUF, 0x300000, 0, "MAP_DMA size 0");
	map_dma(cfd, 32, 3, BUF, 0xfee00000, 0x10000, "MAP_DMA in the MSI window");
	map_dma(cfd, 32, 3, BUF, 0x8000000000ull, 0x10000, "MAP_DMA at 2^39");
	map_dma(cfd, 32, 3, BUF, 0xfffffffffffff000ull, 0x2000, "MAP_DMA wrapping u64");
	map_dma(cfd, 32, 3, (void *)0x1000, 0x300000, 0x1000, "MAP_DMA vaddr 0x1000");
	map_dma(cfd, 64, 3, BUF + 0x20000, 0x400000, 0x200000, "MAP_DMA 2 MiB, argsz 64");
	get_info(cfd, 512, 512, "IOMMU_GET_INFO after the maps (DMA_AVAIL)");
	/* UNMAP_DMA */
	unmap_dma(cfd, 0, 0x100000, 0x8000, "UNMAP_DMA the first half of a 64K mapping");
	unmap_dma(cfd, 0, 0x108000, 0x8000, "UNMAP_DMA the second half");
	unmap_dma(cfd, 0, 0x500000, 0x1000, "UNMAP_DMA a page inside a 2 MiB mapping");
	unmap_dma(cfd, 0, 0x100000, 0x10000, "UNMAP_DMA exact");
	unmap_dma(cfd, 0, 0x100000, 0x10000, "UNMAP_DMA exact again");
	unmap_dma(cfd, 2, 0x200000, 0x1000, "UNMAP_DMA VADDR");
	unmap_dma(cfd, 1, 0x200000, 0x1000, "UNMAP_DMA GET_DIRTY_BITMAP");
	unmap_dma(cfd, 8, 0x200000, 0x1000, "UNMAP_DMA flag 0x8");
	unmap_dma(cfd, 4, 0x200000, 0, "UNMAP_DMA ALL with an iova");
	unmap_dma(cfd, 4 | 2, 0, 0, "UNMAP_DMA ALL|VADDR");
	unmap_dma(cfd, 0, 0x2000000, 0xfffffffffe000000ull, "UNMAP_DMA ending exactly at 2^64");
	unmap_dma(cfd, 0, 0x1000, 0xfffffffffffff000ull, "UNMAP_DMA [0x1000, 2^64)");
	map_dma(cfd, 32, 3, BUF, 0x100000, 0x10000, "MAP_DMA 64K at 0x100000");
	unmap_dma(cfd, 4, 0, 0, "UNMAP_DMA ALL");
	unmap_dma(cfd, 4, 0, 0, "UNMAP_DMA ALL again");
	cmd(8);
	put32(4, 1);
	send(cfd, VFIO_NR(V_DIRTY_PAGES), 8, "IOMMU_DIRTY_PAGES START");
	cmd(8);
	put32(4, 2);
	send(cfd, VFIO_NR(V_DIRTY_PAGES), 8, "IOMMU_DIRTY_PAGES STOP");
	r_ioctl_val(cfd, VFIO_NR(V_IOMMU_INFO + 3), 0, "VFIO_IOMMU_ENABLE (SPAPR)");
	r_ioctl_val(cfd, VFIO_NR(99), 0, "VFIO_BASE+99");
	get_info(cfd, 512, 512, "IOMMU_GET_INFO at the end");
	if (r >= 0)
		r_close((int)r, "close the device fd");
	r_ioctl_val(g, VFIO_NR(V_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
	get_info(cfd, 24, 24, "IOMMU_GET_INFO after the last group left");
	map_dma(cfd, 32, 3, BUF, 0x100000, 0x10000, "MAP_DMA after the last group left");
}

/* ---------------------------------------------------------------- random IOAS workloads */

struct live { uint32_t ioas; uint64_t iova, len; };
static struct live LIVE[256];
static int NLIVE;

static void forget(uint32_t ioas, uint64_t iova, uint64_t len)
{
	for (int i = 0; i < NLIVE;)
		if (LIVE[i].ioas == ioas && LIVE[i].iova >= iova && LIVE[i].iova + LIVE[i].len - 1 <= iova + len - 1)
			LIVE[i] = LIVE[--NLIVE];
		else
			i++;
}

/*
 * Two IOASes, A with the device attached (its IOVA ranges narrowed by the MSI window and the
 * aperture) and B without; n steps from xorshift64: ~45% MAP (fixed/allocated, clean or aimed at
 * existing mappings, the MSI window, the aperture, the top of u64, misaligned, odd lengths, the
 * guard and read-only pages), ~25% UNMAP (exact, partial, spanning, all, random), ~12% COPY,
 * ~6% IOVA_RANGES, ~4% ALLOW_IOVAS, ~4% HUGE_PAGES options, ~4% attach/detach/replace.
 */
static void mode_random(uint64_t seed, int n)
{
	char l[160];
	S = seed * 0x9e3779b97f4a7c15ull + 1;
	memory(16 << 20);
	find_cdev();
	r_mprotect(BUF + (15 << 20), 1 << 20, PROT_NONE, "guard: the last MiB");
	r_mprotect(BUF + 0x300000, 0x1000, PROT_READ, "a PROT_READ page at +0x300000");
	int dfd;
	if (!bound_device(&dfd, "random"))
		return;
	uint32_t ids[2];
	ids[0] = ioas_alloc(IFD, 0, "IOAS_ALLOC A");
	ids[1] = ioas_alloc(IFD, 0, "IOAS_ALLOC B");
	attach(dfd, 0, ids[0], "ATTACH to A");
	int at = 0;
	static const uint64_t lens[] = {0x1000, 0x2000, 0x10000, 0x200000, 0x3000, 0x100000};
	for (int k = 0; k < n; k++) {
		uint32_t c = rn(100), io = ids[rn(2)];
		if (c < 45) { /* MAP */
			uint64_t len = lens[rn(6)], iova = (uint64_t)rn(0x4000) << 12, off = (uint64_t)rn(0xe00) << 12;
			uint32_t flags = M_RW | (rn(5) ? M_FIXED : 0);
			const char *what = "clean";
			uint32_t w = rn(20);
			if (w == 0 && NLIVE) iova = LIVE[rn(NLIVE)].iova, what = "existing";
			else if (w == 1 && NLIVE) iova = LIVE[rn(NLIVE)].iova + 0x1000, what = "inside";
			else if (w == 2 && NLIVE) { struct live *p = &LIVE[rn(NLIVE)]; iova = p->iova + p->len; what = "adjacent"; }
			else if (w == 3) iova = 0xfee00000 + ((uint64_t)rn(0x100) << 12), what = "msi-window";
			else if (w == 4) iova = 0x8000000000ull - 0x1000 * rn(3), what = "aperture-end";
			else if (w == 5) iova = 0xfffffffffffff000ull, what = "top";
			else if (w == 6) iova |= 0x800, what = "misaligned-iova";
			else if (w == 7) len = 0x1000 * rn(3) + 0x800, what = "misaligned-length";
			else if (w == 8) off = (15 << 20) - 0x1000, what = "into-guard";
			else if (w == 9) off = 0x300000, flags = M_READ | M_WRITE | M_FIXED, what = "read-only-page";
			else if (w == 10) off = 0x300000, flags = M_READ | M_FIXED, what = "read-only-page-read";
			else if (w == 11) flags = ((uint32_t)rnd() & 0xf) | M_READ, what = "random-flags"; /* never no-access: a WARN */
			else if (w == 12) len = 0, what = "zero-length";
			if (off + len > (15u << 20) && w != 8)
				off = 0;
			snprintf(l, sizeof(l), "r%d map %s ioas %u iova 0x%llx len 0x%llx flags %u", k, what, io,
				 (unsigned long long)iova, (unsigned long long)len, flags);
			if (map(IFD, io, flags, BUF + off, len, iova, l) == 0 && NLIVE < 256)
				LIVE[NLIVE++] = (struct live){io, MAPPED_IOVA, len};
		} else if (c < 70) { /* UNMAP */
			uint64_t iova = (uint64_t)rn(0x4000) << 12, len = lens[rn(6)];
			const char *what = "random";
			uint32_t w = rn(10);
			if (w < 4 && NLIVE) { struct live *p = &LIVE[rn(NLIVE)]; io = p->ioas; iova = p->iova; len = p->len; what = "exact"; }
			else if (w == 4 && NLIVE) { struct live *p = &LIVE[rn(NLIVE)]; io = p->ioas; iova = p->iova; len = p->len / 2 ? p->len / 2 : 0x1000; what = "first-half"; }
			else if (w == 5 && NLIVE) { struct live *p = &LIVE[rn(NLIVE)]; io = p->ioas; iova = p->iova - 0x1000 * rn(2); len = p->len + 0x2000; what = "spanning"; }
			else if (w == 6) iova = 0, len = UINT64_MAX, what = "all";
			else if (w == 7) len = 0, what = "zero";
			else if (w == 8) iova |= 0x800, what = "misaligned";
			snprintf(l, sizeof(l), "r%d unmap %s ioas %u iova 0x%llx len 0x%llx", k, what, io,
				 (unsigned long long)iova, (unsigned long long)len);
			if (unmap(IFD, io, iova, len, l) == 0)
				forget(io, iova, len);
		} else if (c < 82) { /* COPY */
			uint32_t dst = ids[rn(2)], src = ids[rn(2)];
			uint64_t siova = (uint64_t)rn(0x4000) << 12, len = lens[rn(6)], diova = (uint64_t)rn(0x4000) << 12;
			if (rn(3) && NLIVE) { struct live *p = &LIVE[rn(NLIVE)]; src = p->ioas; siova = p->iova; len = p->len; }
			uint32_t flags = M_RW | (rn(4) ? M_FIXED : 0);
			snprintf(l, sizeof(l), "r%d copy %u:0x%llx -> %u:0x%llx len 0x%llx flags %u", k, src, (unsigned long long)siova,
				 dst, (unsigned long long)diova, (unsigned long long)len, flags);
			if (copy(IFD, flags, dst, src, len, diova, siova, l) == 0 && NLIVE < 256)
				LIVE[NLIVE++] = (struct live){dst, get64(24), len};
		} else if (c < 88) {
			snprintf(l, sizeof(l), "r%d iova ranges ioas %u", k, io);
			ranges(IFD, io, rn(4), l);
		} else if (c < 92) {
			uint64_t r[4] = {(uint64_t)rn(0x2000) << 12, 0, (uint64_t)rn(0x4000) << 12, 0};
			r[1] = r[0] + ((uint64_t)(rn(0x1000) + 1) << 12) - 1;
			r[3] = r[2] + ((uint64_t)(rn(0x1000) + 1) << 12) - 1;
			uint32_t nr = rn(3);
			snprintf(l, sizeof(l), "r%d allow iovas ioas %u n %u", k, io, nr);
			allow(IFD, io, nr, r, l);
		} else if (c < 96) {
			uint32_t set = rn(2);
			snprintf(l, sizeof(l), "r%d option huge pages %s ioas %u", k, set ? "set" : "get", io);
			option(IFD, 1, set ? 0 : 1, io, rn(2), l);
		} else { /* attach / detach */
			uint32_t w = rn(3);
			snprintf(l, sizeof(l), "r%d %s", k, w == 0 ? "detach" : "attach");
			if (w == 0) {
				if (detach(dfd, 0, l) == 0)
					at = -1;
			} else {
				int to = rn(2);
				if (attach(dfd, 0, ids[to], l) == 0)
					at = to;
			}
		}
	}
	(void)at;
	for (int i = 0; i < 2; i++) {
		snprintf(l, sizeof(l), "end: IOVA_RANGES of %u", ids[i]);
		ranges(IFD, ids[i], 8, l);
		snprintf(l, sizeof(l), "end: UNMAP all of %u", ids[i]);
		unmap(IFD, ids[i], 0, UINT64_MAX, l);
	}
	r_close(dfd, "close the cdev (unbind)");
	destroy(IFD, ids[0], "DESTROY A");
	destroy(IFD, ids[1], "DESTROY B");
}

/* ---------------------------------------------------------------- run: another probe's trace, with our header */
static int mode_run(char **prog)
{
	int p[2];
	if (pipe(p))
		return 1;
	pid_t c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(prog[0], prog);
		_exit(127);
	}
	close(p[1]);
	FILE *in = fdopen(p[0], "r");
	char *l = NULL;
	size_t cap = 0;
	ssize_t n;
	int header_seen = 0;
	while (in && (n = getline(&l, &cap, in)) > 0) {
		/* PROGRAM's header: "@@T NAME {"trace":"vfio-trace/1",...}" */
		if (!header_seen && !strncmp(l, "@@T ", 4) && strstr(l, " {\"trace\":\"vfio-trace/1\"")) {
			header_seen = 1;
			continue;
		}
		write_out(l, n);
	}
	int st = 0;
	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	const char *unsafe = NULL;
	int o;
	TN = "iommufdprobe";
	while ((o = getopt(argc, argv, "+t:u:")) != -1) {
		if (o == 't')
			TN = optarg;
		else if (o == 'u')
			unsafe = optarg;
		else
			return 2;
	}
	if (argc - optind < 1 || (strcmp(argv[optind], "ioas") && strcmp(argv[optind], "run") && argc - optind < 3)) {
		fprintf(stderr, "usage: iommufdprobe [-t name] [-u Y|N] ioas | <mode> <group> <bdf> [type1v2|type1 | seed n] | run PROGRAM ARGS...\n");
		return 2;
	}
	const char *mode = argv[optind];
	if (!strcmp(mode, "run")) {
		if (argc - optind < 2)
			return 2;
		detect_config();
		trace_start();
		header();
		if (unsafe)
			r_param("iommufd", unsafe);
		return mode_run(argv + optind + 1);
	}
	if (argc - optind >= 3) {
		GRP = argv[optind + 1];
		BDF = argv[optind + 2];
	}
	detect_config();
	trace_start();
	header();
	binds();
	if (GRP) {
		group_sysfs();
		char p[96];
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", BDF);
		FILE *f = fopen(p, "r");
		unsigned v = 0;
		if (f && fscanf(f, "%x", &v) == 1)
			IS_EDU = v == 0x1234;
		if (f)
			fclose(f);
	}
	/* the parameters the probe depends on, written by every trace (self-contained traces) */
	if (unsafe) {
		if (exists("/sys/module/vfio_iommu_type1"))
			r_param("vfio_iommu_type1", unsafe);
		if (strcmp(mode, "unsafe"))
			r_param("iommufd", unsafe);
	}
	if (!strcmp(mode, "ioas"))
		mode_ioas();
	else if (!strcmp(mode, "cdev"))
		mode_cdev();
	else if (!strcmp(mode, "dma") && IS_EDU)
		mode_dma();
	else if (!strcmp(mode, "excl"))
		mode_excl();
	else if (!strcmp(mode, "file") && IS_EDU)
		mode_file();
	else if (!strcmp(mode, "group"))
		mode_group();
	else if (!strcmp(mode, "unsafe"))
		mode_unsafe();
	else if (!strcmp(mode, "compat"))
		mode_compat(argc - optind >= 4 ? argv[optind + 3] : "type1v2");
	else if (!strcmp(mode, "random") && argc - optind >= 5)
		mode_random(strtoull(argv[optind + 3], NULL, 0), atoi(argv[optind + 4]));
	trace_end();
	return 0;
}
