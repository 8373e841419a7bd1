/*
 * devprobe.c - record what a real kernel's vfio-pci answers on a device fd, as vfio-trace/1
 * (TRACE-FORMAT.md).  One process = one mode = one trace.
 *
 *   devprobe -t NAME -u Y|N <group> <bdf> <mode> [seed n]
 *   modes: info cfgread cfgwrite bar mmap irqs reset feature random regs (e1000e)
 *
 * Every process: header, bind events, the group's sysfs files, the allow_unsafe_interrupts
 * parameter, container + group + SET_IOMMU(type1v2) + GET_DEVICE_FD, DEVICE_GET_INFO and
 * REGION_INFO of every region, one pread of the whole config space (the snapshot), then the
 * mode, then `restore` (every IRQ index disabled, the writable config fields written back from
 * the snapshot, edu's liveness register put back) and close of every fd.
 *
 * Output lines are "@@T NAME <json>", one write(2) each; /dev/kmsg is drained after every
 * recorded syscall (kmsg events).  Buffers the probe did not fill are 0xaa.
 * Build: gcc -static -O2 -Wall -o devprobe devprobe.c
 */
#define _GNU_SOURCE

/* include/uapi/linux/vfio.h: _IO(';', 100 + n) */
#define VFIO_NR(n) (0x3b00 + 100 + (n))
#define NR_SET_CONTAINER 4
#define NR_GET_DEVICE_FD 6
#define NR_DEVICE_GET_INFO 7
#define NR_REGION_INFO 8
#define NR_IRQ_INFO 9
#define NR_SET_IRQS 10
#define NR_DEVICE_RESET 11
#define NR_HOT_RESET_INFO 12 /* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (device fd) */
#define NR_HOT_RESET 13      /* VFIO_DEVICE_PCI_HOT_RESET */
#define NR_FEATURE 17        /* VFIO_DEVICE_FEATURE */
#define NR_SET_IOMMU 2

/* SET_IRQS flags */
#define D_NONE 1u
#define D_BOOL 2u
#define D_EVENTFD 4u
#define A_MASK 8u
#define A_UNMASK 16u
#define A_TRIGGER 32u
/* FEATURE flags */
#define F_GET (1u << 16)
#define F_SET (1u << 17)
#define F_PROBE (1u << 18)

#include "vtrace.h"

static const char *req_name(int fd, unsigned nr)
{
	(void)fd; /* one name per request number on a device fd */
	switch (nr - VFIO_NR(0)) {
	case NR_SET_IOMMU: return "VFIO_SET_IOMMU";
	case NR_SET_CONTAINER: return "VFIO_GROUP_SET_CONTAINER";
	case NR_GET_DEVICE_FD: return "VFIO_GROUP_GET_DEVICE_FD";
	case NR_DEVICE_GET_INFO: return "VFIO_DEVICE_GET_INFO";
	case NR_REGION_INFO: return "VFIO_DEVICE_GET_REGION_INFO";
	case NR_IRQ_INFO: return "VFIO_DEVICE_GET_IRQ_INFO";
	case NR_SET_IRQS: return "VFIO_DEVICE_SET_IRQS";
	case NR_DEVICE_RESET: return "VFIO_DEVICE_RESET";
	case NR_HOT_RESET_INFO: return "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO";
	case NR_HOT_RESET: return "VFIO_DEVICE_PCI_HOT_RESET";
	case NR_FEATURE: return "VFIO_DEVICE_FEATURE";
	}
	return "UNKNOWN";
}

/* ================================================================ the device */
static int DFD, GFD;
static uint32_t NREG, NIRQ;
static uint64_t RSIZE[16];
static uint32_t RFLAGS[16];
static uint8_t SNAP[4096];
static uint32_t CFGSIZE;
static int IS_EDU;
/* capability offsets (0 = absent) */
static int CAP_PM, CAP_MSI, CAP_MSIX, CAP_EXP, MSI_LEN;
static int ECAP[16], ECAP_ID[16], NECAP;
static uint32_t EDU_LIVENESS;

#define ROFF(i) ((uint64_t)(i) << 40)
#define CFG ROFF(7)

static uint16_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }

static void dev_info(uint32_t argsz, size_t n, const char *label)
{
	uint8_t b[64];
	memset(b, AA, sizeof(b));
	memcpy(b, &argsz, 4);
	r_ioctl(DFD, VFIO_NR(NR_DEVICE_GET_INFO), b, n, label);
}

static long region_info(uint32_t index, uint32_t argsz, size_t n, const char *label)
{
	uint8_t b[512];
	memset(b, AA, sizeof(b));
	memcpy(b, &argsz, 4);
	memcpy(b + 8, &index, 4);
	long r = r_ioctl(DFD, VFIO_NR(NR_REGION_INFO), b, n, label);
	if (r == 0 && index < 16) {
		memcpy(&RFLAGS[index], b + 4, 4);
		memcpy(&RSIZE[index], b + 16, 8);
	}
	return r;
}

static void irq_info(uint32_t index, uint32_t argsz, size_t n, const char *label)
{
	uint8_t b[64];
	memset(b, AA, sizeof(b));
	memcpy(b, &argsz, 4);
	memcpy(b + 8, &index, 4);
	r_ioctl(DFD, VFIO_NR(NR_IRQ_INFO), b, n, label);
}

/* SET_IRQS with argsz = header + data unless asz >= 0; the buffer is max(argsz, header + data) */
static long set_irqs(uint32_t flags, uint32_t index, uint32_t start, uint32_t count, const void *data, size_t dlen,
		     long asz, const char *label)
{
	uint8_t b[512];
	uint32_t argsz = asz >= 0 ? (uint32_t)asz : 20 + dlen;
	size_t n = 20 + dlen;
	if (asz >= 0 && (size_t)asz > n)
		n = asz > 256 ? 256 : asz;
	memset(b, AA, sizeof(b));
	uint32_t h[5] = {argsz, flags, index, start, count};
	memcpy(b, h, 20);
	if (dlen)
		memcpy(b + 20, data, dlen);
	return r_ioctl(DFD, VFIO_NR(NR_SET_IRQS), b, n, label);
}

static long cfg_write(uint32_t off, uint32_t val, size_t len, const char *label)
{
	uint8_t b[4];
	memcpy(b, &val, 4);
	return r_pwrite(DFD, CFG + off, b, len, label);
}

static uint32_t cfg_read(uint32_t off, size_t len, const char *label)
{
	uint8_t b[8] = {0};
	r_pread(DFD, CFG + off, len, b, label);
	return rd32(b);
}

static void parse_caps(void)
{
	int guard = 0;
	if (SNAP[6] & 0x10)
		for (int p = SNAP[0x34] & 0xfc; p && guard++ < 48; p = SNAP[p + 1] & 0xfc) {
			switch (SNAP[p]) {
			case 0x01: CAP_PM = p; break;
			case 0x05: {
				CAP_MSI = p;
				uint16_t f = rd16(SNAP + p + 2);
				MSI_LEN = 10 + (f & 0x80 ? 4 : 0) + (f & 0x100 ? 10 : 0);
				break;
			}
			case 0x10: CAP_EXP = p; break;
			case 0x11: CAP_MSIX = p; break;
			}
		}
	if (CFGSIZE <= 0x100)
		return;
	for (int p = 0x100; p && NECAP < 16 && guard++ < 64;) {
		uint32_t h = rd32(SNAP + p);
		if (!h || h == 0xffffffff)
			break;
		ECAP[NECAP] = p;
		ECAP_ID[NECAP++] = h & 0xffff;
		p = (h >> 20) & 0xffc;
	}
}

/* length of an extended capability: up to the next one in the chain, or the end */
static int ecap_len(int i)
{
	int end = CFGSIZE, p = ECAP[i];
	for (int k = 0; k < NECAP; k++)
		if (ECAP[k] > p && ECAP[k] < end)
			end = ECAP[k];
	return end - p > 0x40 ? 0x40 : end - p;
}

static void setup(const char *grp, const char *bdf, const char *unsafe)
{
	char p[128];
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/type", grp);
	r_sysfs(p);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/reserved_regions", grp);
	r_sysfs(p);
	r_param("vfio_iommu_type1", unsafe);
	int cfd = r_open("/dev/vfio/vfio", "container");
	snprintf(p, sizeof(p), "/dev/vfio/%s", grp);
	GFD = r_open(p, "group");
	int32_t c = cfd;
	r_ioctl(GFD, VFIO_NR(NR_SET_CONTAINER), &c, 4, "setup");
	if (r_ioctl_val(cfd, VFIO_NR(NR_SET_IOMMU), 3, "setup type1v2") < 0)
		exit(3);
	char name[64];
	snprintf(name, sizeof(name), "%s", bdf);
	long r = r_ioctl(GFD, VFIO_NR(NR_GET_DEVICE_FD), name, strlen(name) + 1, "setup");
	if (r < 0)
		exit(4);
	DFD = r;
	keep(DFD);
	uint8_t b[64];
	memset(b, AA, sizeof(b));
	b[0] = 24;
	b[1] = b[2] = b[3] = 0;
	r_ioctl(DFD, VFIO_NR(NR_DEVICE_GET_INFO), b, 24, "setup");
	memcpy(&NREG, b + 8, 4);
	memcpy(&NIRQ, b + 12, 4);
	if (NREG > 16)
		NREG = 16;
	for (uint32_t i = 0; i < NREG; i++)
		region_info(i, 32, 32, "setup");
	CFGSIZE = RSIZE[7] > 4096 ? 4096 : RSIZE[7];
	r_pread(DFD, CFG, CFGSIZE, SNAP, "snapshot of config space");
	parse_caps();
	IS_EDU = rd32(SNAP) == 0x11e81234;
	if (IS_EDU) {
		uint8_t v[4];
		r_pread(DFD, ROFF(0) + 4, 4, v, "snapshot of edu liveness register");
		EDU_LIVENESS = rd32(v);
	}
}

/* put back what a mode may have changed (QEMU keeps device state from process to process) */
static void restore(void)
{
	for (uint32_t i = 0; i < 3 && i < NIRQ; i++)
		set_irqs(D_NONE | A_TRIGGER, i, 0, 0, NULL, 0, -1, "restore: disable");
	if (CAP_PM)
		r_pwrite(DFD, CFG + CAP_PM + 4, SNAP + CAP_PM + 4, 2, "restore: PMCSR");
	for (int o = 0x10; o <= 0x24; o += 4)
		r_pwrite(DFD, CFG + o, SNAP + o, 4, "restore: BAR");
	r_pwrite(DFD, CFG + 0x30, SNAP + 0x30, 4, "restore: ROM BAR");
	r_pwrite(DFD, CFG + 0x0c, SNAP + 0x0c, 2, "restore: cache line, latency");
	r_pwrite(DFD, CFG + 0x3c, SNAP + 0x3c, 1, "restore: interrupt line");
	if (CAP_MSI)
		r_pwrite(DFD, CFG + CAP_MSI + 2, SNAP + CAP_MSI + 2, MSI_LEN - 2, "restore: MSI");
	if (CAP_MSIX)
		r_pwrite(DFD, CFG + CAP_MSIX + 2, SNAP + CAP_MSIX + 2, 2, "restore: MSI-X control");
	if (CAP_EXP) {
		static const int f[] = {0x08, 0x10, 0x28, 0x30};
		for (int i = 0; i < 4; i++)
			r_pwrite(DFD, CFG + CAP_EXP + f[i], SNAP + CAP_EXP + f[i], 2, "restore: PCIe control");
	}
	for (int i = 0; i < NECAP; i++)
		for (int o = 4; o < ecap_len(i); o += 4)
			r_pwrite(DFD, CFG + ECAP[i] + o, SNAP + ECAP[i] + o, 4, "restore: extended capability");
	r_pwrite(DFD, CFG + 4, SNAP + 4, 2, "restore: command");
	if (IS_EDU) {
		uint32_t v = ~EDU_LIVENESS; /* edu stores the inverse of what is written */
		r_pwrite(DFD, ROFF(0) + 4, &v, 4, "restore: edu liveness");
	}
	r_pread(DFD, CFG, CFGSIZE, NULL, "config space after restore");
}

/* ================================================================ modes */
static void mode_info(void)
{
	static const uint32_t dsz[] = {0, 4, 8, 12, 15, 16, 17, 20, 23, 24, 25, 28, 32, 64, 0x1000, 0xffffffff};
	for (size_t i = 0; i < sizeof(dsz) / 4; i++) {
		char l[64];
		snprintf(l, sizeof(l), "argsz %u", dsz[i]);
		dev_info(dsz[i], dsz[i] < 24 ? 24 : dsz[i] > 64 ? 64 : dsz[i], l);
	}
	static const uint32_t rsz[] = {0, 16, 24, 31, 32, 33, 39, 40, 48, 64, 256, 0xffffffff};
	for (uint32_t idx = 0; idx < NREG + 3; idx++)
		for (size_t i = 0; i < sizeof(rsz) / 4; i++) {
			char l[64];
			snprintf(l, sizeof(l), "index %u argsz %u", idx, rsz[i]);
			region_info(idx, rsz[i], rsz[i] < 32 ? 32 : rsz[i] > 256 ? 256 : rsz[i], l);
		}
	static const uint32_t bad[] = {16, 99, 255, 0x80000000u, 0xffffffff};
	for (size_t i = 0; i < sizeof(bad) / 4; i++)
		region_info(bad[i], 32, 32, "bad index");
	static const uint32_t isz[] = {0, 8, 12, 15, 16, 17, 24, 64, 0xffffffff};
	for (uint32_t idx = 0; idx < NIRQ + 2; idx++)
		for (size_t i = 0; i < sizeof(isz) / 4; i++) {
			char l[64];
			snprintf(l, sizeof(l), "index %u argsz %u", idx, isz[i]);
			irq_info(idx, isz[i], isz[i] < 16 ? 16 : isz[i] > 64 ? 64 : isz[i], l);
		}
	for (size_t i = 0; i < sizeof(bad) / 4; i++)
		irq_info(bad[i], 16, 16, "bad index");
}

static void mode_cfgread(void)
{
	char l[64];
	for (uint32_t o = 0; o < CFGSIZE; o += 4)
		r_pread(DFD, CFG + o, 4, NULL, "dword");
	for (uint32_t o = 0; o < CFGSIZE && o < 0x200; o += 2)
		r_pread(DFD, CFG + o, 2, NULL, "word");
	for (uint32_t o = 0; o < CFGSIZE && o < 0x100; o++)
		r_pread(DFD, CFG + o, 1, NULL, "byte");
	for (uint32_t o = 1; o < 0x44; o += 2) {
		snprintf(l, sizeof(l), "misaligned word at 0x%x", o);
		r_pread(DFD, CFG + o, 2, NULL, l);
	}
	for (uint32_t o = 1; o < 0x44; o += 1) {
		if (!(o & 3))
			continue;
		snprintf(l, sizeof(l), "misaligned dword at 0x%x", o);
		r_pread(DFD, CFG + o, 4, NULL, l);
	}
	static const uint32_t lens[] = {3, 5, 6, 7, 8, 12, 16, 64, 256};
	for (size_t i = 0; i < sizeof(lens) / 4; i++)
		r_pread(DFD, CFG + 0x2, lens[i], NULL, "odd length at 0x2");
	int caps[] = {CAP_PM, CAP_MSI, CAP_MSIX, CAP_EXP};
	for (int i = 0; i < 4; i++)
		if (caps[i]) {
			r_pread(DFD, CFG + caps[i] + 1, 4, NULL, "misaligned into capability");
			r_pread(DFD, CFG + caps[i] - 2, 4, NULL, "across capability start");
		}
	r_pread(DFD, CFG + CFGSIZE - 4, 4, NULL, "last dword");
	r_pread(DFD, CFG + CFGSIZE - 2, 4, NULL, "across the end");
	r_pread(DFD, CFG + CFGSIZE - 1, 2, NULL, "across the end by one");
	r_pread(DFD, CFG + CFGSIZE, 4, NULL, "at the end");
	r_pread(DFD, CFG + CFGSIZE + 0x100, 4, NULL, "beyond the end");
	r_pread(DFD, CFG + 0x1000, 4, NULL, "at 4K");
	r_pread(DFD, CFG + 0xffffffffffull, 1, NULL, "last byte of the region's offset space");
	r_pread(DFD, CFG + 0, 0, NULL, "length 0");
	r_pread(DFD, CFG + 0, CFGSIZE + 16, NULL, "whole space and 16 more");
	r_pread(DFD, ROFF(9), 4, NULL, "region 9 (none)");
	r_pread(DFD, ROFF(0xffffff), 4, NULL, "region 0xffffff");
}

/* write v at off (len bytes), read the dword back, then write the snapshot back */
static void poke(uint32_t off, uint32_t v, size_t len, const char *what)
{
	char l[96];
	uint32_t d = off & ~3u;
	snprintf(l, sizeof(l), "%s: write 0x%x (%zu bytes at 0x%x)", what, v, len, off);
	cfg_write(off, v, len, l);
	r_pread(DFD, CFG + d, 4, NULL, "read back");
	if (d + 4 <= CFGSIZE)
		r_pwrite(DFD, CFG + off, SNAP + off, len, "put back");
}

static void sweep(uint32_t from, uint32_t to, const char *what)
{
	for (uint32_t o = from; o < to; o += 4) {
		poke(o, 0xffffffff, 4, what);
		poke(o, 0, 4, what);
	}
}

static void mode_cfgwrite(void)
{
	/* the standard header: BAR and ROM sizing, command/status, the rest */
	for (uint32_t o = 0x10; o <= 0x24; o += 4) {
		cfg_write(o, 0xffffffff, 4, "BAR sizing");
		cfg_read(o, 4, "BAR size mask");
		cfg_write(o, 0x12345671, 4, "BAR odd value");
		cfg_read(o, 4, "");
		r_pwrite(DFD, CFG + o, SNAP + o, 4, "put back");
		cfg_read(o, 4, "");
	}
	cfg_write(0x30, 0xfffff800, 4, "ROM sizing");
	cfg_read(0x30, 4, "ROM size mask");
	cfg_write(0x30, 0xffffffff, 4, "ROM sizing with enable");
	cfg_read(0x30, 4, "");
	r_pwrite(DFD, CFG + 0x30, SNAP + 0x30, 4, "put back");
	cfg_read(0x30, 4, "");
	static const uint16_t cmd[] = {0x0000, 0x0001, 0x0002, 0x0004, 0x0007, 0x0040, 0x0100, 0x0400, 0x0406, 0xffff};
	for (size_t i = 0; i < sizeof(cmd) / 2; i++)
		poke(0x04, cmd[i], 2, "command");
	poke(0x06, 0xffff, 2, "status (RW1C)");
	poke(0x04, 0xffffffff, 4, "command+status dword");
	sweep(0x00, 0x10, "header");
	sweep(0x28, 0x30, "header");
	sweep(0x34, 0x40, "header");
	static const uint32_t bytes[] = {0x0c, 0x0d, 0x0e, 0x0f, 0x3c, 0x3d, 0x3e, 0x3f, 0x34, 0x08, 0x09};
	for (size_t i = 0; i < sizeof(bytes) / 4; i++)
		poke(bytes[i], 0xff, 1, "byte");
	if (CAP_PM) {
		sweep(CAP_PM, CAP_PM + 8, "PM");
		poke(CAP_PM + 4, 0x0003, 2, "PMCSR D3hot");
		poke(CAP_PM + 4, 0x8100, 2, "PMCSR PME status/enable");
	}
	if (CAP_MSI) {
		sweep(CAP_MSI, CAP_MSI + MSI_LEN, "MSI");
		poke(CAP_MSI + 2, 0x0001, 2, "MSI enable");
		poke(CAP_MSI + 2, 0x0070, 2, "MSI QSIZE");
		poke(CAP_MSI + 3, 0xff, 1, "MSI flags high byte");
	}
	if (CAP_MSIX) {
		sweep(CAP_MSIX, CAP_MSIX + 12, "MSI-X");
		poke(CAP_MSIX + 2, 0x8000, 2, "MSI-X enable");
		poke(CAP_MSIX + 2, 0x4000, 2, "MSI-X mask all");
	}
	if (CAP_EXP) {
		sweep(CAP_EXP, CAP_EXP + 0x3c, "PCIe");
		static const uint16_t dc[] = {0x000f, 0x0010, 0x00e0, 0x0100, 0x0200, 0x0400, 0x0800, 0x7000};
		for (size_t i = 0; i < sizeof(dc) / 2; i++)
			poke(CAP_EXP + 8, dc[i], 2, "DEVCTL");
		poke(CAP_EXP + 0x10, 0x0003, 2, "LNKCTL ASPM");
		poke(CAP_EXP + 0x10, 0x0040, 2, "LNKCTL common clock");
		poke(CAP_EXP + 0x10, 0x0020, 2, "LNKCTL retrain");
		poke(CAP_EXP + 0x28, 0x0400, 2, "DEVCTL2 LTR");
		poke(CAP_EXP + 0x30, 0x0001, 2, "LNKCTL2");
	}
	for (int i = 0; i < NECAP; i++) {
		char w[48];
		snprintf(w, sizeof(w), "extended capability 0x%x", ECAP_ID[i]);
		sweep(ECAP[i], ECAP[i] + ecap_len(i), w);
	}
	/* gaps: dwords in no capability */
	uint8_t used[1024] = {0};
	for (int i = 0; i < 0x10; i++)
		used[i] = 1;
	int caps[] = {CAP_PM, 8, CAP_MSI, MSI_LEN, CAP_MSIX, 12, CAP_EXP, 0x3c};
	for (int i = 0; i < 8; i += 2)
		for (int o = caps[i]; caps[i] && o < caps[i] + caps[i + 1]; o += 4)
			used[o / 4] = 1;
	for (int i = 0; i < NECAP; i++)
		for (int o = ECAP[i]; o < ECAP[i] + ecap_len(i); o += 4)
			used[o / 4] = 1;
	int gaps = 0;
	for (uint32_t o = 0x40; o < CFGSIZE && gaps < 24; o += 4)
		if (!used[o / 4] && (o < 0x100 || (o & 0x1fc) == 0x180)) {
			poke(o, 0xffffffff, 4, "gap");
			gaps++;
		}
	/* access shapes */
	poke(0x05, 0xffff, 2, "misaligned word over command/status");
	poke(0x0e, 0xffffffff, 4, "misaligned dword over header/BIST/BAR0");
	cfg_write(CFGSIZE - 2, 0xffffffff, 4, "write across the end");
	cfg_write(CFGSIZE, 0, 4, "write at the end");
	cfg_write(0x3c, 0, 0, "write of length 0");
	uint8_t big[64];
	memcpy(big, SNAP + 0x10, 64);
	r_pwrite(DFD, CFG + 0x10, big, 64, "64-byte write of the BARs as they were");
	cfg_read(0x10, 4, "");
}

/* dword_only: QEMU's edu accepts only 4- and 8-byte accesses (edu_mmio_ops.valid); any
 * other size is a failed transaction, which on arm64 is a synchronous external abort in the
 * kernel, so edu gets aligned 4/8-byte accesses only */
static void bar_access(int i, uint64_t size, int dword_only)
{
	char l[96];
	uint8_t v[8] = {0x5a, 0xa5, 0x3c, 0xc3, 0x11, 0x22, 0x33, 0x44};
	static const size_t any[] = {1, 2, 4, 8, 16, 3}, dw[] = {4, 8, 16};
	const size_t *lens = dword_only ? dw : any;
	size_t nl = dword_only ? 3 : 6, tail = dword_only ? 4 : 2;
	for (size_t k = 0; k < nl; k++) {
		snprintf(l, sizeof(l), "BAR%d read %zu at 0", i, lens[k]);
		r_pread(DFD, ROFF(i), lens[k], NULL, l);
	}
	if (!dword_only) {
		r_pread(DFD, ROFF(i) + 1, 2, NULL, "misaligned word");
		r_pread(DFD, ROFF(i) + 2, 4, NULL, "misaligned dword");
	}
	r_pread(DFD, ROFF(i) + size - 4, 4, NULL, "last dword");
	r_pread(DFD, ROFF(i) + size - tail, 2 * tail, NULL, "across the end");
	r_pread(DFD, ROFF(i) + size - 8, 16, NULL, "16 across the end");
	r_pread(DFD, ROFF(i) + size, 4, NULL, "at the end");
	r_pread(DFD, ROFF(i) + size + 0x1000, 4, NULL, "beyond the end");
	r_pwrite(DFD, ROFF(i) + size - tail, v, 2 * tail, "write across the end");
	r_pwrite(DFD, ROFF(i) + size, v, 4, "write at the end");
}

static void mode_bar(void)
{
	for (uint32_t i = 0; i < 6 && i < NREG; i++) {
		if (!RSIZE[i]) {
			r_pread(DFD, ROFF(i), 4, NULL, "empty BAR");
			continue;
		}
		bar_access(i, RSIZE[i], IS_EDU && i == 0);
	}
	if (IS_EDU) {
		for (uint32_t o = 0; o < 0x100; o += 4)
			r_pread(DFD, ROFF(0) + o, 4, NULL, "edu register");
		uint32_t v = 0x12345678;
		r_pwrite(DFD, ROFF(0) + 4, &v, 4, "edu liveness write");
		r_pread(DFD, ROFF(0) + 4, 4, NULL, "edu liveness (inverted)");
		r_pread(DFD, ROFF(0) + 0x1000, 16, NULL, "edu beyond registers");
	} else {
		for (uint32_t o = 0; o < 0x100; o += 4)
			r_pread(DFD, ROFF(0) + o, 4, NULL, "e1000e register");
		for (uint32_t o = 0x100; o < RSIZE[0]; o += 0x100)
			r_pread(DFD, ROFF(0) + o, 16, NULL, "e1000e register block");
		/* registers whose masks differ between models: RDBAL/RDBAH/RDLEN, TDBAL/TDLEN, EECD, EERD, FCAL, an unimplemented one */
		static const uint32_t regs[] = {0x2800, 0x2804, 0x2808, 0x3800, 0x3808, 0x0010, 0x0014, 0x0028, 0x0170, 0x5f00, 0x0100};
		for (size_t k = 0; k < sizeof(regs) / 4; k++) {
			uint32_t was = 0, v = 0xffffffff;
			char l[64];
			snprintf(l, sizeof(l), "e1000e reg 0x%x before", regs[k]);
			r_pread(DFD, ROFF(0) + regs[k], 4, &was, l);
			snprintf(l, sizeof(l), "e1000e reg 0x%x write ones", regs[k]);
			r_pwrite(DFD, ROFF(0) + regs[k], &v, 4, l);
			r_pread(DFD, ROFF(0) + regs[k], 4, NULL, "read back");
			r_pwrite(DFD, ROFF(0) + regs[k], &was, 4, "put back");
		}
		/* MSI-X table and PBA (BAR3 in QEMU's e1000e) through the fd */
		if (CAP_MSIX) {
			uint32_t t = rd32(SNAP + CAP_MSIX + 4), p = rd32(SNAP + CAP_MSIX + 8);
			uint64_t tb = ROFF(t & 7) + (t & ~7u), pb = ROFF(p & 7) + (p & ~7u);
			for (int e = 0; e < 6; e++)
				r_pread(DFD, tb + 16 * e, 16, NULL, "MSI-X table entry");
			uint32_t v = 0x11223344;
			r_pwrite(DFD, tb, &v, 4, "write MSI-X table");
			r_pread(DFD, tb, 4, NULL, "");
			r_pread(DFD, pb, 8, NULL, "PBA");
			r_pwrite(DFD, pb, &v, 4, "write PBA");
			r_pread(DFD, pb, 8, NULL, "");
			r_pread(DFD, tb + 0x10 * 5 - 4, 8, NULL, "across the table end");
		}
		/* the I/O BAR: IOADDR/IODATA */
		if (RSIZE[2]) {
			uint32_t a = 0x8; /* STATUS */
			r_pwrite(DFD, ROFF(2), &a, 4, "IOADDR = STATUS");
			r_pread(DFD, ROFF(2) + 4, 4, NULL, "IODATA");
			r_pread(DFD, ROFF(2), 4, NULL, "IOADDR");
			a = 0; /* QEMU keeps IOADDR across processes and resets (e1000e_io_write) */
			r_pwrite(DFD, ROFF(2), &a, 4, "put back IOADDR");
		}
	}
	/* the ROM */
	if (NREG > 6 && RSIZE[6]) {
		for (uint32_t o = 0; o < 0x400; o += 256)
			r_pread(DFD, ROFF(6) + o, 256, NULL, "ROM");
		r_pread(DFD, ROFF(6) + RSIZE[6] - 256, 256, NULL, "ROM last 256");
		r_pread(DFD, ROFF(6) + RSIZE[6] - 2, 4, NULL, "ROM across the end");
		r_pread(DFD, ROFF(6) + RSIZE[6], 4, NULL, "ROM at the end");
		uint32_t v = 0;
		r_pwrite(DFD, ROFF(6), &v, 4, "ROM write");
	} else if (NREG > 6)
		r_pread(DFD, ROFF(6), 4, NULL, "no ROM");
	r_pread(DFD, ROFF(8), 4, NULL, "VGA region");
	/* memory and I/O decoding off */
	uint16_t c = rd16(SNAP + 4);
	cfg_write(4, c & ~2u, 2, "command: memory decoding off");
	r_pread(DFD, ROFF(0), 4, NULL, "BAR0 with memory off");
	uint32_t v = 0;
	r_pwrite(DFD, ROFF(0) + 0x40, &v, 4, "BAR0 write with memory off");
	if (RSIZE[2])
		r_pread(DFD, ROFF(2) + 4, 4, NULL, "I/O BAR with memory off");
	if (NREG > 6 && RSIZE[6])
		r_pread(DFD, ROFF(6), 4, NULL, "ROM with memory off");
	cfg_write(4, c & ~3u, 2, "command: memory and I/O off");
	if (RSIZE[2])
		r_pread(DFD, ROFF(2) + 4, 4, NULL, "I/O BAR with I/O off");
	cfg_write(4, c | 3, 2, "command: memory and I/O on");
	r_pread(DFD, ROFF(0), 4, NULL, "BAR0 with memory on");
}

/*
 * regs (e1000e only): QEMU 7.2's MAC register file as the kernel reads it through vfio.
 * Run first after boot so that the device is as e1000e_core_reset() left it. The tables are
 * the registers with a write op in e1000e_macreg_writeops[] (hw/net/e1000e_core.c of 7.2,
 * printed by gen-e1000e-macreg.py): single registers one by one, arrays in 4 KiB blocks.
 */
/* hw/net/e1000_regs.h */
#define E1K_STATUS 0x00008
#define E1K_EERD 0x00014
#define E1K_ICR 0x000c0
#define E1K_ICS 0x000c8
#define E1K_IMS 0x000d0
#define E1K_IMC 0x000d8
#define E1K_MDIC 0x00020
#define E1K_IAC 0x04100
#define E1K_EEPROM_WORDS 64 /* E1000E_EEPROM_SIZE */
#define E1K_MDIC_PHY1 (1u << 21)
#define E1K_MDIC_WRITE 0x04000000u
#define E1K_MDIC_READ 0x08000000u
#define E1K_ICR_LSC 0x4u
static const struct e1k_reg { const char *name; uint32_t off; } E1K_WRITABLE[] = {
	{"CTRL", 0x00000}, {"CTRL_DUP", 0x00004}, {"STATUS", 0x00008}, {"EECD", 0x00010},
	{"EERD", 0x00014}, {"CTRL_EXT", 0x00018}, {"FLA", 0x0001c}, {"MDIC", 0x00020}, {"FCAL", 0x00028},
	{"FCAH", 0x0002c}, {"FCT", 0x00030}, {"VET", 0x00038}, {"ICR", 0x000c0}, {"ITR", 0x000c4},
	{"ICS", 0x000c8}, {"IMS", 0x000d0}, {"IMC", 0x000d8}, {"EIAC", 0x000dc}, {"IAM", 0x000e0},
	{"IVAR", 0x000e4}, {"EITR0", 0x000e8}, {"EITR1", 0x000ec}, {"EITR2", 0x000f0}, {"EITR3", 0x000f4},
	{"EITR4", 0x000f8}, {"RCTL", 0x00100}, {"FCTTV", 0x00170}, {"TCTL", 0x00400}, {"TIPG", 0x00410},
	{"AIT", 0x00458}, {"LEDCTL", 0x00e00}, {"EXTCNF_CTRL", 0x00f00}, {"EXTCNF_SIZE", 0x00f08},
	{"POEMB", 0x00f10}, {"PBA", 0x01000}, {"PBS", 0x01008}, {"EEMNGCTL", 0x01010},
	{"FLASHT", 0x01028}, {"EEWR", 0x0102c}, {"FLSWCTL", 0x01030}, {"FLSWDATA", 0x01034},
	{"FLSWCNT", 0x01038}, {"FLOP", 0x0103c}, {"FLOL", 0x01050}, {"FCRTL", 0x02160},
	{"FCRTH", 0x02168}, {"PSRCTL", 0x02170}, {"RDFH", 0x02410}, {"RDFT", 0x02418}, {"RDFHS", 0x02420},
	{"RDFTS", 0x02428}, {"RDFPC", 0x02430}, {"RDBAL", 0x02800}, {"RDBAH", 0x02804},
	{"RDLEN", 0x02808}, {"RDH", 0x02810}, {"RDT", 0x02818}, {"RDTR", 0x02820}, {"RXDCTL", 0x02828},
	{"RADV", 0x0282c}, {"RDBAL1", 0x02900}, {"RDBAH1", 0x02904}, {"RDLEN1", 0x02908},
	{"RDH1", 0x02910}, {"RDT1", 0x02918}, {"RXDCTL1", 0x02928}, {"RSRPD", 0x02c00}, {"RAID", 0x02c08},
	{"TDFH", 0x03410}, {"TDFT", 0x03418}, {"TDFHS", 0x03420}, {"TDFTS", 0x03428}, {"TDFPC", 0x03430},
	{"TDBAL", 0x03800}, {"TDBAH", 0x03804}, {"TDLEN", 0x03808}, {"TDH", 0x03810}, {"TDT", 0x03818},
	{"TIDV", 0x03820}, {"TXDCTL", 0x03828}, {"TADV", 0x0382c}, {"TARC0", 0x03840},
	{"TDBAL1", 0x03900}, {"TDBAH1", 0x03904}, {"TDLEN1", 0x03908}, {"TDH1", 0x03910},
	{"TDT1", 0x03918}, {"TXDCTL1", 0x03928}, {"TARC1", 0x03940}, {"FCRUC", 0x04058},
	{"RXCSUM", 0x05000}, {"RFCTL", 0x05008}, {"MAVTV0", 0x05010}, {"MAVTV1", 0x05014},
	{"MAVTV2", 0x05018}, {"MAVTV3", 0x0501c}, {"RA", 0x05400}, {"RA+1", 0x05404}, {"WUC", 0x05800},
	{"WUFC", 0x05808}, {"WUS", 0x05810}, {"MRQC", 0x05818}, {"MANC", 0x05820}, {"MFVAL", 0x05824},
	{"MFUTP01", 0x05828}, {"MFUTP23", 0x05830}, {"IPAV", 0x05838}, {"MANC2H", 0x05860},
	{"GCR", 0x05b00}, {"FUNCTAG", 0x05b08}, {"GSCL_1", 0x05b10}, {"GSCL_2", 0x05b14},
	{"GSCL_3", 0x05b18}, {"GSCL_4", 0x05b1c}, {"GSCN_0", 0x05b20}, {"GSCN_1", 0x05b24},
	{"GSCN_2", 0x05b28}, {"GSCN_3", 0x05b2c}, {"FACTPS", 0x05b30}, {"SWSM", 0x05b50},
	{"GCR2", 0x05b64}, {"PBACLR", 0x05b68}, {"FCRTV", 0x05f40}, {"SYSTIML", 0x0b600},
	{"SYSTIMH", 0x0b604}, {"TIMINCA", 0x0b608}, {"TIMADJL", 0x0b60c}, {"TIMADJH", 0x0b610},
	{"TSYNCTXCTL", 0x0b614}, {"TXSTMPL", 0x0b618}, {"TXSTMPH", 0x0b61c}, {"TSYNCRXCTL", 0x0b620},
	{"RXSTMPL", 0x0b624}, {"RXSTMPH", 0x0b628}, {"RXSATRL", 0x0b62c}, {"RXSATRH", 0x0b630},
	{"RXCFGL", 0x0b634}, {"RXUDP", 0x0b638},
};
static const struct e1k_range { const char *name; uint32_t off, n; } E1K_ARRAYS[] = {
	{"MTA", 0x05200, 128}, {"RA+2", 0x05408, 30}, {"VFTA", 0x05600, 128}, {"IP4AT", 0x05840, 7},
	{"IP6AT", 0x05880, 4}, {"MDEF", 0x05890, 8}, {"WUPM", 0x05a00, 32}, {"RETA", 0x05c00, 32},
	{"RSSRK", 0x05c80, 32}, {"FFLT", 0x05f00, 11}, {"FFMT", 0x09000, 255}, {"FTFT", 0x09400, 255},
	{"FFVT", 0x09800, 255}, {"PBM", 0x10000, 10240},
};

static const uint32_t E1K_PATTERNS[] = {0xaaaaaaaa, 0x55555555, 0xffffffff};

static void e1k_write(uint32_t off, uint32_t v, const char *label) { r_pwrite(DFD, ROFF(0) + off, &v, 4, label); }
static uint32_t e1k_read(uint32_t off, const char *label)
{
	uint32_t v = 0;
	r_pread(DFD, ROFF(0) + off, 4, &v, label);
	return v;
}

/* the whole BAR, every dword once, in 4 KiB preads (vfio_pci_bar_rw splits them into dwords) */
static void e1k_whole_bar(const char *label)
{
	for (uint64_t o = 0; o < RSIZE[0]; o += 4096)
		r_pread(DFD, ROFF(0) + o, 4096, NULL, label);
}

static void mode_regs(void)
{
	char l[96];
	if (IS_EDU)
		return;
	e1k_whole_bar("BAR0 after a fresh open");
	/* the NVM through EERD: every word, then past the end, then without START */
	for (uint32_t w = 0; w < E1K_EEPROM_WORDS; w++) {
		snprintf(l, sizeof(l), "EERD read word %u", w);
		e1k_write(E1K_EERD, w << 2 | 1, l);
		e1k_read(E1K_EERD, "EERD");
	}
	static const uint32_t odd[] = {E1K_EEPROM_WORDS << 2 | 1, 0x3fff << 2 | 1, 3 << 2};
	for (size_t k = 0; k < sizeof(odd) / 4; k++) {
		snprintf(l, sizeof(l), "EERD write 0x%x", odd[k]);
		e1k_write(E1K_EERD, odd[k], l);
		e1k_read(E1K_EERD, "EERD");
	}
	/* every writable register: the patterns, each read back, then the old value put back */
	for (size_t i = 0; i < sizeof(E1K_WRITABLE) / sizeof(E1K_WRITABLE[0]); i++) {
		const struct e1k_reg *r = &E1K_WRITABLE[i];
		snprintf(l, sizeof(l), "%s before", r->name);
		uint32_t was = e1k_read(r->off, l);
		for (size_t k = 0; k < 3; k++) {
			snprintf(l, sizeof(l), "%s = 0x%08x", r->name, E1K_PATTERNS[k]);
			e1k_write(r->off, E1K_PATTERNS[k], l);
			e1k_read(r->off, "read back");
		}
		snprintf(l, sizeof(l), "%s put back", r->name);
		e1k_write(r->off, was, l);
		/* what a put-back cannot undo: CTRL.PHY_RST set STATUS.PHYRA, ICS raised causes, IMS is set-only */
		if (r->off <= 0x4)
			e1k_write(E1K_STATUS, 0, "clear STATUS.PHYRA");
		if (r->off == E1K_ICS)
			e1k_write(E1K_ICR, 0xffffffff, "clear ICR");
		if (r->off == E1K_IMS)
			e1k_write(E1K_IMC, 0xffffffff, "IMC: clear IMS");
		e1k_read(r->off, "after");
	}
	/* the arrays, in blocks */
	static uint8_t was[4096], pat[4096];
	for (size_t i = 0; i < sizeof(E1K_ARRAYS) / sizeof(E1K_ARRAYS[0]); i++) {
		const struct e1k_range *a = &E1K_ARRAYS[i];
		for (uint32_t o = 0; o < a->n * 4; o += sizeof(was)) {
			uint32_t len = a->n * 4 - o < sizeof(was) ? a->n * 4 - o : sizeof(was);
			uint64_t at = ROFF(0) + a->off + o;
			snprintf(l, sizeof(l), "%s+0x%x before", a->name, o);
			r_pread(DFD, at, len, was, l);
			for (size_t k = 0; k < 3; k++) {
				for (uint32_t b = 0; b < len; b += 4)
					memcpy(pat + b, &E1K_PATTERNS[k], 4);
				snprintf(l, sizeof(l), "%s+0x%x = 0x%08x", a->name, o, E1K_PATTERNS[k]);
				r_pwrite(DFD, at, pat, len, l);
				r_pread(DFD, at, len, NULL, "read back");
			}
			snprintf(l, sizeof(l), "%s+0x%x put back", a->name, o);
			r_pwrite(DFD, at, was, len, l);
		}
	}
	/* the PHY through MDIC (PHY address 1): every register of pages 0, 2 and 3 read; a RW
	 * register written and put back; a read-only one written (ERROR). PHY_CTRL is not written
	 * (its RESTART_AUTO_NEG starts QEMU's autoneg timer). */
	static const uint32_t pages[] = {0, 2, 3};
	for (size_t p = 0; p < 3; p++) {
		snprintf(l, sizeof(l), "MDIC: PHY_PAGE = %u", pages[p]);
		e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_WRITE | 0x16 << 16 | pages[p], l);
		e1k_read(E1K_MDIC, "MDIC");
		for (uint32_t reg = 0; reg < 32; reg++) {
			snprintf(l, sizeof(l), "MDIC: read PHY page %u reg 0x%02x", pages[p], reg);
			e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_READ | reg << 16, l);
			e1k_read(E1K_MDIC, "MDIC");
		}
	}
	e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_WRITE | 0x16 << 16 | 0, "MDIC: PHY_PAGE = 0");
	e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_WRITE | 0x09 << 16 | 0x0300, "MDIC: PHY_1000T_CTRL = 0x0300");
	e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_READ | 0x09 << 16, "MDIC: read PHY_1000T_CTRL");
	e1k_read(E1K_MDIC, "MDIC");
	e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_WRITE | 0x09 << 16 | 0x0f00, "MDIC: PHY_1000T_CTRL put back");
	e1k_write(E1K_MDIC, E1K_MDIC_PHY1 | E1K_MDIC_WRITE | 0x01 << 16 | 0xffff, "MDIC: write PHY_STATUS (read-only)");
	e1k_read(E1K_MDIC, "MDIC");
	/* one legacy interrupt: INTx to an eventfd, LSC enabled and raised through ICS; ICR reads
	 * the causes and clears them, IAC counted the assertion and clears on read */
	int efd = r_eventfd("INTx trigger");
	int32_t fds[1] = {efd};
	set_irqs(D_EVENTFD | A_TRIGGER, 0, 0, 1, fds, 4, -1, "INTx enable");
	e1k_read(E1K_ICR, "ICR: clear the causes left");
	e1k_write(E1K_IMS, E1K_ICR_LSC, "IMS = LSC");
	e1k_write(E1K_ICS, E1K_ICR_LSC, "ICS = LSC: raise");
	usleep(20000);
	r_eventfd_read(efd, "INTx delivered");
	e1k_read(E1K_ICS, "ICS");
	e1k_read(E1K_ICR, "ICR (clears)");
	e1k_read(E1K_ICR, "ICR again");
	e1k_read(E1K_IAC, "IAC: one assertion");
	e1k_read(E1K_IAC, "IAC again (cleared by the read)");
	e1k_write(E1K_IMC, 0xffffffff, "IMC: clear IMS");
	set_irqs(D_NONE | A_TRIGGER, 0, 0, 0, NULL, 0, -1, "INTx disable");
	e1k_whole_bar("BAR0 at the end");
}

static void mode_mmap(void)
{
	for (uint32_t i = 0; i < NREG + 1; i++) {
		uint64_t sz = i < 16 && RSIZE[i] ? RSIZE[i] : 0x1000;
		char l[64];
		snprintf(l, sizeof(l), "region %u whole (flags 0x%x)", i, i < 16 ? RFLAGS[i] : 0);
		void *p = r_mmap(sz, PROT_READ | PROT_WRITE, DFD, ROFF(i), l);
		if (p != MAP_FAILED)
			r_munmap(p, sz);
		p = r_mmap(0x1000, PROT_READ, DFD, ROFF(i), "first page read-only");
		if (p != MAP_FAILED)
			r_munmap(p, 0x1000);
		if (sz > 0x1000) {
			p = r_mmap(0x1000, PROT_READ | PROT_WRITE, DFD, ROFF(i) + sz - 0x1000, "last page");
			if (p != MAP_FAILED)
				r_munmap(p, 0x1000);
		}
		p = r_mmap(sz + 0x1000, PROT_READ | PROT_WRITE, DFD, ROFF(i), "one page too long");
		if (p != MAP_FAILED)
			r_munmap(p, sz + 0x1000);
		p = r_mmap(0x1000, PROT_READ | PROT_WRITE, DFD, ROFF(i) + sz, "at the end");
		if (p != MAP_FAILED)
			r_munmap(p, 0x1000);
	}
	void *p = r_mmap(0x1000, PROT_READ | PROT_WRITE, DFD, ROFF(0) + 0x800, "offset not page aligned");
	if (p != MAP_FAILED)
		r_munmap(p, 0x1000);
	p = r_mmap(0x1000, PROT_NONE, DFD, ROFF(0), "PROT_NONE");
	if (p != MAP_FAILED)
		r_munmap(p, 0x1000);
	/* decoding off: the mmap itself still works (faults would not) */
	uint16_t c = rd16(SNAP + 4);
	cfg_write(4, c & ~2u, 2, "command: memory decoding off");
	p = r_mmap(RSIZE[0] ? RSIZE[0] : 0x1000, PROT_READ | PROT_WRITE, DFD, ROFF(0), "BAR0 with memory off");
	if (p != MAP_FAILED)
		r_munmap(p, RSIZE[0] ? RSIZE[0] : 0x1000);
	cfg_write(4, c, 2, "command back");

	/* loads and stores through a mapping of BAR0 (4-byte: e1000e's registers are 32-bit) */
	uint64_t sz0 = RSIZE[0] ? RSIZE[0] : 0x1000;
	char *b0 = r_mmap(sz0, PROT_READ | PROT_WRITE, DFD, ROFF(0), "BAR0 for loads and stores");
	if (b0 == MAP_FAILED)
		return;
	if (IS_EDU) {
		r_access(b0, 4, 0, 0, "edu identification");
		r_access(b0 + 4, 4, 1, 0x12345678, "edu liveness");
		r_access(b0 + 4, 4, 0, 0, "edu liveness reads the inverse");
	} else {
		r_access(b0 + 8, 4, 0, 0, "e1000e STATUS");
	}
	/* vfio-pci zaps the mapping while memory decode is off; the fault answers SIGBUS */
	cfg_write(4, c & ~2u, 2, "command: memory decoding off");
	r_access(b0, 4, 0, 0, "BAR0 load with memory off");
	r_access(b0, 4, 1, 0, "BAR0 store with memory off");
	cfg_write(4, c, 2, "command back");
	r_access(b0, 4, 0, 0, "BAR0 load with memory back on");
	r_munmap(b0, sz0);
	/* nothing mapped there any more */
	r_access(b0, 4, 0, 0, "BAR0 load after munmap");
}

/* read back the interrupt-related config after a SET_IRQS step */
static void irq_readback(void)
{
	cfg_read(4, 2, "command");
	if (CAP_MSI)
		cfg_read(CAP_MSI, 4, "MSI header");
	if (CAP_MSIX)
		cfg_read(CAP_MSIX, 4, "MSI-X header");
}

static int EFD[8];

static long irq(uint32_t flags, uint32_t index, uint32_t start, uint32_t count, const int32_t *fds, const char *label)
{
	long r;
	if (flags & D_EVENTFD)
		r = set_irqs(flags, index, start, count, fds, 4 * count, -1, label);
	else if (flags & D_BOOL) {
		uint8_t b[64];
		memset(b, 1, sizeof(b));
		r = set_irqs(flags, index, start, count, b, count < 64 ? count : 64, -1, label);
	} else
		r = set_irqs(flags, index, start, count, NULL, 0, -1, label);
	irq_readback();
	return r;
}

static void mode_irqs(void)
{
	for (int i = 0; i < 8; i++)
		EFD[i] = r_eventfd("");
	int32_t e[8], dup[4], hole[3];
	for (int i = 0; i < 8; i++)
		e[i] = EFD[i];
	dup[0] = dup[1] = dup[2] = dup[3] = EFD[0];
	hole[0] = EFD[1];
	hole[1] = -1;
	hole[2] = EFD[2];
	const uint32_t T = D_EVENTFD | A_TRIGGER, N = D_NONE | A_TRIGGER;
	/* argsz and flags */
	set_irqs(T, 0, 0, 1, e, 4, 16, "argsz 16 < minsz");
	set_irqs(T, 0, 0, 1, e, 4, 20, "argsz 20: no room for the data");
	set_irqs(T, 0, 0, 1, e, 4, 64, "argsz 64 > needed");
	irq(N, 0, 0, 0, NULL, "INTx disable");
	irq(0, 0, 0, 1, NULL, "no data type, no action");
	irq(D_NONE, 0, 0, 1, NULL, "no action");
	irq(D_NONE | A_TRIGGER | A_MASK, 0, 0, 1, NULL, "two actions");
	irq(D_NONE | D_BOOL | A_TRIGGER, 0, 0, 1, NULL, "two data types");
	irq(N | 0x40, 0, 0, 1, NULL, "unknown flag 0x40");
	irq(N | 0x80000000u, 0, 0, 1, NULL, "unknown flag 0x80000000");
	for (uint32_t idx = NIRQ; idx < NIRQ + 2; idx++)
		irq(T, idx, 0, 1, e, "index beyond num_irqs");
	irq(T, 0xffffffff, 0, 1, e, "index 0xffffffff");
	/* INTx */
	irq(T, 0, 0, 2, e, "INTx count 2");
	irq(T, 0, 1, 1, e, "INTx start 1");
	irq(T, 0, 0, 1, e, "INTx enable");
	irq(T, 0, 0, 1, e + 1, "INTx enable again (other eventfd)");
	irq(N, 0, 0, 1, NULL, "INTx trigger (DATA_NONE)");
	irq(D_BOOL | A_TRIGGER, 0, 0, 1, NULL, "INTx trigger (DATA_BOOL)");
	r_eventfd_read(e[1], "INTx trigger eventfd after two loopback triggers");
	r_eventfd_read(e[1], "INTx trigger eventfd read again");
	irq(D_NONE | A_MASK, 0, 0, 1, NULL, "INTx mask");
	irq(D_NONE | A_MASK, 0, 0, 1, NULL, "INTx mask again");
	irq(D_NONE | A_UNMASK, 0, 0, 1, NULL, "INTx unmask");
	irq(D_BOOL | A_MASK, 0, 0, 1, NULL, "INTx mask (DATA_BOOL)");
	irq(D_BOOL | A_UNMASK, 0, 0, 1, NULL, "INTx unmask (DATA_BOOL)");
	irq(D_EVENTFD | A_UNMASK, 0, 0, 1, e + 2, "INTx unmask eventfd");
	irq(D_EVENTFD | A_UNMASK, 0, 0, 1, e + 2, "INTx unmask eventfd again");
	int32_t m1 = -1;
	irq(D_EVENTFD | A_UNMASK, 0, 0, 1, &m1, "INTx unmask eventfd -1 (remove)");
	irq(D_EVENTFD | A_MASK, 0, 0, 1, e, "INTx mask with eventfd data");
	irq(D_NONE | A_MASK, 0, 0, 0, NULL, "INTx mask count 0");
	irq(T, 1, 0, 1, e, "MSI while INTx on");
	irq(T, 2, 0, 1, e, "MSI-X while INTx on");
	irq(T, 0, 0, 1, &m1, "INTx eventfd -1 (disable)");
	irq(N, 0, 0, 0, NULL, "INTx disable");
	irq(N, 0, 0, 0, NULL, "INTx disable again");
	irq(D_NONE | A_UNMASK, 0, 0, 1, NULL, "INTx unmask while disabled");
	/* MSI and MSI-X */
	for (uint32_t idx = 1; idx <= 2; idx++) {
		const char *n = idx == 1 ? "MSI" : "MSI-X";
		char l[96];
#define L(s) (snprintf(l, sizeof(l), "%s %s", n, s), l)
		irq(T, idx, 0, 1, e, L("enable 1"));
		irq(T, idx, 1, 1, e + 1, L("add vector 1 while enabled"));
		irq(T, idx, 0, 2, e, L("resize to 2 while enabled"));
		irq(T, idx, 0, 1, e + 3, L("swap vector 0's eventfd"));
		irq(N, idx, 0, 1, NULL, L("trigger vector 0 (DATA_NONE)"));
		irq(D_BOOL | A_TRIGGER, idx, 0, 1, NULL, L("trigger vector 0 (DATA_BOOL)"));
		r_eventfd_read(e[3], L("vector 0 eventfd after two loopback triggers"));
		r_eventfd_read(e[1], L("vector 1 eventfd (not triggered)"));
		irq(D_NONE | A_MASK, idx, 0, 1, NULL, L("mask"));
		irq(D_NONE | A_UNMASK, idx, 0, 1, NULL, L("unmask"));
		irq(D_EVENTFD | A_UNMASK, idx, 0, 1, e + 2, L("unmask eventfd"));
		irq(T, 0, 0, 1, e, L("INTx while enabled"));
		irq(N, idx, 0, 0, NULL, L("disable"));
		irq(N, idx, 0, 0, NULL, L("disable again"));
		/* vector counts and ranges, each from the disabled state */
		static const uint32_t sc[][2] = {{0, 2}, {0, 3}, {0, 5}, {0, 6}, {4, 1}, {4, 2}, {5, 1}, {1, 1}, {0xffffffff, 1}, {0, 0}};
		for (size_t k = 0; k < sizeof(sc) / sizeof(sc[0]); k++) {
			char w[48];
			snprintf(w, sizeof(w), "enable start %u count %u", sc[k][0], sc[k][1]);
			irq(T, idx, sc[k][0], sc[k][1], e, L(w));
			irq(N, idx, 0, 0, NULL, L("disable"));
		}
		irq(T, idx, 0, 2, e, L("enable 2"));
		irq(T, idx, 0, 5, e, L("resize 2 -> 5 while enabled"));
		irq(T, idx, 3, 2, e + 3, L("vectors 3-4 while 2 enabled"));
		irq(T, idx, 0, 1, e + 5, L("shrink request (count 1) while enabled"));
		irq(N, idx, 0, 0, NULL, L("disable"));
		irq(T, idx, 0, 4, dup, L("one eventfd on 4 vectors"));
		irq(N, idx, 0, 0, NULL, L("disable"));
		irq(T, idx, 0, 3, hole, L("eventfds with -1 in the middle"));
		irq(T, idx, 1, 1, &m1, L("release vector 1 (-1)"));
		irq(N, idx, 0, 0, NULL, L("disable"));
		int32_t bad = 1000;
		irq(T, idx, 0, 1, &bad, L("not an fd"));
		int32_t notev = DFD;
		irq(T, idx, 0, 1, &notev, L("a device fd, not an eventfd"));
		irq(N, idx, 0, 0, NULL, L("disable"));
#undef L
	}
	/* ERR and REQ */
	for (uint32_t idx = 3; idx < NIRQ && idx <= 4; idx++) {
		irq(T, idx, 0, 1, e, idx == 3 ? "ERR enable" : "REQ enable");
		irq(T, idx, 0, 2, e, "count 2");
		irq(N, idx, 0, 1, NULL, "trigger");
		r_eventfd_read(e[0], idx == 3 ? "ERR eventfd after a trigger" : "REQ eventfd after a trigger");
		irq(D_NONE | A_MASK, idx, 0, 1, NULL, "mask");
		irq(T, idx, 0, 1, &m1, "eventfd -1");
		irq(N, idx, 0, 0, NULL, "disable (count 0)");
	}
	for (int i = 0; i < 8; i++)
		r_close(EFD[i], "");
}

static void hot_reset_info(uint32_t argsz, size_t n, const char *label)
{
	uint8_t b[268];
	memset(b, AA, sizeof(b));
	memcpy(b, &argsz, 4);
	r_ioctl(DFD, VFIO_NR(NR_HOT_RESET_INFO), b, n, label);
}

static void hot_reset(uint32_t argsz, uint32_t flags, uint32_t count, const int32_t *fds, const char *label)
{
	uint8_t b[64];
	memset(b, AA, sizeof(b));
	uint32_t h[3] = {argsz, flags, count};
	memcpy(b, h, 12);
	size_t n = 12 + 4 * (count < 8 ? count : 0);
	if (fds && count < 8)
		memcpy(b + 12, fds, 4 * count);
	r_ioctl(DFD, VFIO_NR(NR_HOT_RESET), b, n < 16 ? 16 : n, label);
}

static void mode_reset(void)
{
	int32_t e[2];
	e[0] = r_eventfd("");
	e[1] = r_eventfd("");
	const uint32_t T = D_EVENTFD | A_TRIGGER, N = D_NONE | A_TRIGGER;
	r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, "reset, no interrupts");
	irq_readback();
	for (uint32_t idx = 0; idx < 3; idx++) {
		if (set_irqs(T, idx, 0, 1, e, 4, -1, "enable") < 0)
			continue;
		r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, idx == 0 ? "reset, INTx on" : idx == 1 ? "reset, MSI on" : "reset, MSI-X on");
		irq_readback();
		set_irqs(N, idx, 0, 0, NULL, 0, -1, "disable after reset");
	}
	if (set_irqs(D_EVENTFD | A_TRIGGER, 0, 0, 1, e, 4, -1, "INTx on") == 0) {
		set_irqs(D_NONE | A_MASK, 0, 0, 1, NULL, 0, -1, "INTx masked");
		r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, "reset, INTx masked");
		irq_readback();
		set_irqs(D_NONE | A_UNMASK, 0, 0, 1, NULL, 0, -1, "unmask after reset");
		set_irqs(N, 0, 0, 0, NULL, 0, -1, "disable");
	}
	cfg_write(4, 0, 2, "command 0");
	r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, "reset with decoding off");
	r_pread(DFD, CFG, 0x40, NULL, "header after reset");
	r_pwrite(DFD, CFG + 4, SNAP + 4, 2, "command back");
	/* hot reset info and hot reset */
	static const uint32_t hs[] = {0, 4, 8, 11, 12, 16, 20, 268, 0xffffffff};
	for (size_t i = 0; i < sizeof(hs) / 4; i++) {
		char l[48];
		snprintf(l, sizeof(l), "argsz %u", hs[i]);
		hot_reset_info(hs[i], hs[i] < 12 ? 12 : hs[i] > 268 ? 268 : hs[i], l);
	}
	r_ioctl_val(DFD, VFIO_NR(NR_HOT_RESET_INFO), 0, "NULL argument");
	int32_t g = GFD, bad = -1;
	hot_reset(8, 0, 0, NULL, "argsz 8");
	hot_reset(12, 0, 0, NULL, "count 0");
	hot_reset(16, 0, 1, &g, "our group");
	hot_reset(16, 1, 1, &g, "flags 1");
	hot_reset(16, 0, 1, &bad, "fd -1");
	hot_reset(12, 0, 1, &g, "argsz too small for count");
	r_ioctl_val(DFD, VFIO_NR(NR_HOT_RESET), 0, "NULL argument");
	/* FLR through PCIe DEVCTL */
	if (CAP_EXP) {
		cfg_read(CAP_EXP + 4, 4, "DEVCAP (FLR bit 28)");
		cfg_write(CAP_EXP + 8, rd16(SNAP + CAP_EXP + 8) | 0x8000, 2, "DEVCTL initiate FLR");
		cfg_read(CAP_EXP + 8, 4, "DEVCTL after FLR");
		r_pread(DFD, CFG, 0x40, NULL, "header after FLR");
		r_pwrite(DFD, CFG + 4, SNAP + 4, 2, "command back");
	}
	/* D3hot through PMCSR */
	if (CAP_PM) {
		cfg_write(CAP_PM + 4, (rd16(SNAP + CAP_PM + 4) & ~3u) | 3, 2, "PMCSR D3hot");
		cfg_read(CAP_PM + 4, 4, "PMCSR");
		r_pread(DFD, ROFF(0), 4, NULL, "BAR0 in D3hot");
		r_pread(DFD, CFG, 0x40, NULL, "header in D3hot");
		set_irqs(T, 0, 0, 1, e, 4, -1, "INTx enable in D3hot");
		set_irqs(N, 0, 0, 0, NULL, 0, -1, "disable");
		r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, "reset in D3hot");
		cfg_read(CAP_PM + 4, 4, "PMCSR after reset");
		cfg_write(CAP_PM + 4, rd16(SNAP + CAP_PM + 4) & ~3u, 2, "PMCSR D0");
		cfg_read(CAP_PM + 4, 4, "PMCSR");
		r_pread(DFD, CFG, 0x40, NULL, "header back in D0");
		r_pread(DFD, ROFF(0), 4, NULL, "BAR0 in D0");
	}
	r_close(e[0], "");
	r_close(e[1], "");
}

static long feature(uint32_t argsz, uint32_t flags, const void *data, size_t dlen, size_t n, const char *label)
{
	uint8_t b[128];
	memset(b, AA, sizeof(b));
	memcpy(b, &argsz, 4);
	memcpy(b + 4, &flags, 4);
	if (dlen)
		memcpy(b + 8, data, dlen);
	if (n < 8 + dlen)
		n = 8 + dlen;
	return r_ioctl(DFD, VFIO_NR(NR_FEATURE), b, n, label);
}

static void mode_feature(void)
{
	static const char *const names[] = {"PCI_VF_TOKEN", "MIGRATION", "MIG_DEVICE_STATE", "LOW_POWER_ENTRY",
					    "LOW_POWER_ENTRY_WITH_WAKEUP", "LOW_POWER_EXIT", "DMA_LOGGING_START",
					    "DMA_LOGGING_STOP", "DMA_LOGGING_REPORT", "MIG_DATA_SIZE", "BUS_MASTER",
					    "11", "12"};
	static const uint32_t asz[] = {0, 4, 7, 8, 9, 16, 64, 0xffffffff};
	char l[96];
	for (size_t i = 0; i < sizeof(asz) / 4; i++) {
		snprintf(l, sizeof(l), "PROBE|SET LOW_POWER_ENTRY argsz %u", asz[i]);
		feature(asz[i], F_PROBE | F_SET | 3, NULL, 0, asz[i] < 8 ? 8 : asz[i] > 64 ? 64 : asz[i], l);
	}
	for (uint32_t f = 0; f < 13; f++) {
		static const uint32_t fl[] = {F_PROBE, F_PROBE | F_GET, F_PROBE | F_SET, F_PROBE | F_GET | F_SET, F_GET | F_SET,
					      0};
		static const char *const fln[] = {"PROBE", "PROBE|GET", "PROBE|SET", "PROBE|GET|SET", "GET|SET", "none"};
		for (size_t k = 0; k < 6; k++) {
			snprintf(l, sizeof(l), "%s %s", fln[k], names[f]);
			feature(8, fl[k] | f, NULL, 0, 8, l);
		}
	}
	feature(8, F_PROBE | 0xffff, NULL, 0, 8, "PROBE feature 0xffff");
	feature(8, F_PROBE | F_SET | 3 | (1u << 19), NULL, 0, 8, "unknown flag bit 19");
	feature(8, F_PROBE | F_SET | 3 | (1u << 31), NULL, 0, 8, "unknown flag bit 31");
	/* GET of MIGRATION (a GET feature) and of a SET-only one */
	feature(16, F_GET | 1, NULL, 0, 16, "GET MIGRATION");
	feature(16, F_GET | 3, NULL, 0, 16, "GET LOW_POWER_ENTRY (SET-only)");
	feature(16, F_GET | 2, NULL, 0, 16, "GET MIG_DEVICE_STATE");
	feature(16, F_GET | 9, NULL, 0, 16, "GET MIG_DATA_SIZE");
	uint8_t z[32] = {0};
	feature(40, F_SET | 6, z, 32, 40, "SET DMA_LOGGING_START");
	feature(8, F_SET | 7, NULL, 0, 8, "SET DMA_LOGGING_STOP");
	feature(8 + 16, F_SET | 0, z, 16, 24, "SET PCI_VF_TOKEN");
	/* low power entry and exit for real */
	feature(8, F_SET | 3, NULL, 0, 8, "SET LOW_POWER_ENTRY");
	if (CAP_PM)
		cfg_read(CAP_PM + 4, 4, "PMCSR in low power");
	r_pread(DFD, ROFF(0), 4, NULL, "BAR0 in low power");
	feature(8, F_SET | 3, NULL, 0, 8, "SET LOW_POWER_ENTRY again");
	feature(8, F_SET | 5, NULL, 0, 8, "SET LOW_POWER_EXIT");
	if (CAP_PM)
		cfg_read(CAP_PM + 4, 4, "PMCSR after exit");
	feature(8, F_SET | 5, NULL, 0, 8, "SET LOW_POWER_EXIT again");
	int32_t ev = r_eventfd("");
	uint32_t wk[2] = {(uint32_t)ev, 0};
	feature(16, F_SET | 4, wk, 8, 16, "SET LOW_POWER_ENTRY_WITH_WAKEUP");
	feature(8, F_SET | 5, NULL, 0, 8, "SET LOW_POWER_EXIT");
	wk[0] = (uint32_t)-1;
	feature(16, F_SET | 4, wk, 8, 16, "WITH_WAKEUP fd -1");
	feature(12, F_SET | 4, wk, 4, 12, "WITH_WAKEUP argsz 12");
	feature(8, F_SET | 5, NULL, 0, 8, "SET LOW_POWER_EXIT");
	r_close(ev, "");
}

/* ---------------------------------------------------------------- random */

static void mode_random(uint64_t seed, int n)
{
	S = seed * 0x9e3779b97f4a7c15ull + 1;
	for (int i = 0; i < 6; i++)
		EFD[i] = r_eventfd("");
	static const uint32_t sizes[] = {0, 4, 8, 15, 16, 20, 24, 31, 32, 40, 64, 0xffffffff};
	static const uint32_t wfields[] = {0x04, 0x06, 0x0c, 0x0d, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x30, 0x3c};
	for (int k = 0; k < n; k++) {
		char l[128];
		uint32_t c = rn(100);
		if (c < 25) { /* config read */
			static const size_t lens[] = {1, 2, 4, 4, 4, 8, 3};
			size_t len = lens[rn(7)];
			uint32_t off = rn(100) < 80 ? rn(CFGSIZE) & ~(uint32_t)(len > 1 ? (len >= 4 ? 3 : 1) : 0) : rn(CFGSIZE + 16);
			snprintf(l, sizeof(l), "r%d config read %zu at 0x%x", k, len, off);
			r_pread(DFD, CFG + off, len, NULL, l);
		} else if (c < 40) { /* config write to a field, read back, put back */
			uint32_t off;
			size_t len;
			uint32_t pick = rn(4);
			if (pick == 0 && CAP_MSI)
				off = CAP_MSI + 2 + 2 * rn((MSI_LEN - 2) / 2), len = 2;
			else if (pick == 1 && CAP_EXP)
				off = CAP_EXP + 8 + 8 * rn(6), len = 2;
			else if (pick == 2 && NECAP)
				off = (ECAP[rn(NECAP)] + 4 + 4 * rn(8)) & ~3u, len = 4;
			else
				off = wfields[rn(12)], len = off & 1 ? 1 : off == 0x04 || off == 0x06 || off == 0x0c ? 2 : 4;
			if (off + len > CFGSIZE)
				off = 0x3c, len = 1;
			uint32_t v = rn(3) == 0 ? 0xffffffff : (uint32_t)rnd();
			snprintf(l, sizeof(l), "r%d config write", k);
			poke(off, v, len, l);
		} else if (c < 55) { /* BAR read/write */
			uint32_t bar = rn(7);
			uint64_t sz = RSIZE[bar];
			uint32_t off = sz ? rn(100) < 85 ? rn((uint32_t)(sz > 0x1000 ? 0x1000 : sz)) & ~3u : (uint32_t)sz - rn(8)
					  : rn(16);
			size_t len = (size_t[]){1, 2, 4, 4, 8}[rn(5)];
			if (IS_EDU && bar == 0) { /* 4/8-byte aligned only (see bar_access) */
				len = len == 8 ? 8 : 4;
				off &= ~3u;
			}
			snprintf(l, sizeof(l), "r%d BAR%u read %zu at 0x%x", k, bar, len, off);
			r_pread(DFD, ROFF(bar) + off, len, NULL, l);
		} else if (c < 70) { /* info ioctls */
			uint32_t a = sizes[rn(12)], idx = rn(100) < 85 ? rn(NREG + 2) : (uint32_t)rnd();
			uint32_t w = rn(3);
			snprintf(l, sizeof(l), "r%d info argsz %u index %u", k, a, idx);
			if (w == 0)
				dev_info(a, a < 24 ? 24 : a > 64 ? 64 : a, l);
			else if (w == 1)
				region_info(idx, a, a < 32 ? 32 : a > 256 ? 256 : a, l);
			else
				irq_info(idx % (NIRQ + 2), a, a < 16 ? 16 : a > 64 ? 64 : a, l);
		} else if (c < 90) { /* SET_IRQS */
			uint32_t idx = rn(100) < 90 ? rn(NIRQ) : NIRQ + rn(3);
			uint32_t acts[] = {A_TRIGGER, A_TRIGGER, A_TRIGGER, A_MASK, A_UNMASK};
			uint32_t datas[] = {D_NONE, D_EVENTFD, D_EVENTFD, D_BOOL};
			uint32_t flags = acts[rn(5)] | datas[rn(4)];
			if (rn(20) == 0)
				flags |= 1u << rn(32);
			uint32_t start = rn(10) < 8 ? rn(3) : rn(8), count = rn(10) < 8 ? rn(6) : rn(70);
			int32_t fds[64];
			for (uint32_t i = 0; i < 64; i++)
				fds[i] = rn(8) == 0 ? -1 : EFD[rn(6)];
			size_t dl = flags & D_EVENTFD ? 4 * (count < 64 ? count : 64) : flags & D_BOOL ? (count < 64 ? count : 64) : 0;
			long asz = rn(15) == 0 ? (long)rn(40) : -1;
			uint8_t bools[64];
			memset(bools, rn(2), sizeof(bools));
			snprintf(l, sizeof(l), "r%d set_irqs index %u start %u count %u", k, idx, start, count);
			set_irqs(flags, idx, start, count, flags & D_BOOL ? (void *)bools : (void *)fds, dl, asz, l);
			if (rn(3) == 0)
				irq_readback();
		} else if (c < 95) { /* FEATURE */
			uint32_t f = rn(12), fl = (rn(8) << 16) | f;
			uint32_t a = rn(4) == 0 ? sizes[rn(12)] : 8;
			if ((fl & F_SET) && !(fl & F_PROBE) && (f == 3 || f == 4))
				fl |= F_PROBE; /* no real low-power entry in the mix */
			snprintf(l, sizeof(l), "r%d feature 0x%x argsz %u", k, fl, a);
			feature(a, fl, NULL, 0, a < 8 ? 8 : a > 64 ? 64 : a, l);
		} else { /* resets */
			uint32_t w = rn(3);
			snprintf(l, sizeof(l), "r%d reset", k);
			if (w == 0)
				r_ioctl_val(DFD, VFIO_NR(NR_DEVICE_RESET), 0, l);
			else if (w == 1)
				hot_reset_info(sizes[rn(12)], 268, l);
			else {
				int32_t g = GFD;
				hot_reset(16, 0, 1, &g, l);
			}
		}
	}
	for (int i = 0; i < 6; i++)
		r_close(EFD[i], "");
}

int main(int argc, char **argv)
{
	const char *unsafe = "N";
	int o;
	TN = "devprobe";
	while ((o = getopt(argc, argv, "+t:u:")) != -1) {
		if (o == 't')
			TN = optarg;
		else if (o == 'u')
			unsafe = optarg;
		else
			return 2;
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: devprobe [-t name] [-u Y|N] <group> <bdf> <mode> [seed n]\n");
		return 2;
	}
	const char *grp = argv[optind], *bdf = argv[optind + 1], *mode = argv[optind + 2];
	trace_start();
	header();
	binds();
	setup(grp, bdf, unsafe);
	static const struct { const char *name; void (*run)(void); } modes[] = {
		{"info", mode_info},	 {"cfgread", mode_cfgread}, {"cfgwrite", mode_cfgwrite}, {"bar", mode_bar},
		{"mmap", mode_mmap},	 {"irqs", mode_irqs},	    {"reset", mode_reset},	 {"feature", mode_feature},
		{"regs", mode_regs},
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i].name))
			modes[i].run();
	if (!strcmp(mode, "random") && argc - optind >= 5)
		mode_random(strtoull(argv[optind + 3], NULL, 0), atoi(argv[optind + 4]));
	restore();
	trace_end();
	return 0;
}
