/*
 * Device DMA through a memfd of the program's own, mapped with IOMMU_IOAS_MAP_FILE, as QEMU 10
 * maps `memory-backend-memfd` guest RAM (docs/exec.md, "File-backed DMA"). `memfd-client CDEV`:
 * binds edu's cdev to /dev/iommu, maps a 16 KiB memfd at IOVA 0x100000, has edu copy 64 bytes
 * the program wrote into its buffer and back to another page, and prints what the program's
 * mapping then holds; then the fds MAP_FILE refuses under exec (a regular file, a pipe, the
 * memfd read-only for a writeable mapping), and a DMA after the program closed the memfd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "say.h"

/* include/uapi/linux/iommufd.h and vfio.h (the system's headers may predate them). */
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#define IOMMU_IOAS_UNMAP _IO(';', 0x86)
#define IOMMU_IOAS_MAP_FILE _IO(';', 0x8f)
#define BIND_IOMMUFD _IO(';', 118)
#define ATTACH_IOMMUFD_PT _IO(';', 119)
#define MAP_FIXED_IOVA 1u
#define MAP_WRITEABLE 2u
#define MAP_READABLE 4u

struct ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct ioas_map_file { uint32_t size, flags, ioas_id; int32_t fd; uint64_t start, length, iova; };
struct ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
struct bind { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct attach { uint32_t argsz, flags, pt_id; };

#define LEN 0x4000u
#define IOVA 0x100000u

static int iommu, device;
static uint32_t ioas;
static off_t bar0, cfg;

static long map_file(int fd, uint32_t flags, uint64_t iova)
{
	struct ioas_map_file m = { sizeof m, flags | MAP_FIXED_IOVA, ioas, fd, 0, LEN, iova };
	return ioctl(iommu, IOMMU_IOAS_MAP_FILE, &m);
}

static long unmap(uint64_t iova)
{
	struct ioas_unmap u = { sizeof u, ioas, iova, LEN };
	return ioctl(iommu, IOMMU_IOAS_UNMAP, &u);
}

/* edu's DMA engine (hw/misc/edu.c): src, dst, count, then RUN (| 2: from the device to RAM). */
static void edu_dma(uint64_t src, uint64_t dst, uint32_t cmd)
{
	uint64_t cnt = 64, run = cmd;
	CHECK("pwrite edu dma src", pwrite(device, &src, 8, bar0 + 0x80));
	CHECK("pwrite edu dma dst", pwrite(device, &dst, 8, bar0 + 0x88));
	CHECK("pwrite edu dma count", pwrite(device, &cnt, 8, bar0 + 0x90));
	CHECK("pwrite edu dma cmd", pwrite(device, &run, 8, bar0 + 0x98));
}

static void show(const char *what, const unsigned char *p)
{
	SAY("%s:", what);
	for (int i = 0; i < 8; i++)
		SAY(" %02x", p[i]);
	SAY(" ... %02x\n", p[63]);
}

static void refused(const char *what, int fd, uint32_t flags)
{
	CHECK(what, map_file(fd, flags, IOVA + 0x10000));
}

int main(int argc, char **argv)
{
	const char *cdev = argc > 1 ? argv[1] : "/dev/vfio/devices/vfio0";
	int mfd = memfd_create("guest-ram", MFD_CLOEXEC);
	CHECK("memfd_create", mfd >= 0 ? 0 : -1);
	CHECK("ftruncate 16K", ftruncate(mfd, LEN));
	unsigned char *ram = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK("mmap memfd", ram == MAP_FAILED ? -1 : 0);
	if (ram == MAP_FAILED)
		return 1;
	memset(ram, 0xaa, LEN);
	for (int i = 0; i < 64; i++)
		ram[i] = (unsigned char)(i * 3 + 1);

	iommu = open("/dev/iommu", O_RDWR);
	CHECK("open /dev/iommu", iommu >= 0 ? 0 : -1);
	struct ioas_alloc a = { sizeof a, 0, 0 };
	CHECK("IOAS_ALLOC", ioctl(iommu, IOMMU_IOAS_ALLOC, &a));
	ioas = a.out_ioas_id;
	device = open(cdev, O_RDWR);
	CHECK("open cdev", device >= 0 ? 0 : -1);
	struct bind b = { sizeof b, 0, iommu, 0 };
	CHECK("BIND_IOMMUFD", ioctl(device, BIND_IOMMUFD, &b));
	struct attach at = { sizeof at, 0, ioas };
	CHECK("ATTACH_IOMMUFD_PT", ioctl(device, ATTACH_IOMMUFD_PT, &at));
	struct vfio_region_info r = { .argsz = sizeof r, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	CHECK("REGION_INFO config", ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r));
	cfg = (off_t)r.offset;
	r.index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK("REGION_INFO BAR0", ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r));
	bar0 = (off_t)r.offset;
	uint16_t command = 0x6; /* memory space, bus master */
	CHECK("pwrite command memory|master", pwrite(device, &command, 2, cfg + 4));

	CHECK("IOAS_MAP_FILE memfd", map_file(mfd, MAP_READABLE | MAP_WRITEABLE, IOVA));
	/* The device reads what the program wrote, and its write lands in the program's mapping. */
	edu_dma(IOVA, 0x40000, 1);
	edu_dma(0x40000, IOVA + 0x1000, 3);
	show("page 1 after edu's write", ram + 0x1000);
	SAY("page 1 = page 0: %s\n", memcmp(ram, ram + 0x1000, 64) ? "no" : "yes");
	show("page 1 beyond the 64 bytes", ram + 0x1040);

	/* Not the program's memfd: the fd stays one the model does not have. */
	char path[] = "/tmp/memfd-client.XXXXXX";
	int reg = mkstemp(path);
	CHECK("ftruncate regular file", ftruncate(reg, LEN));
	unlink(path);
	refused("IOAS_MAP_FILE regular file", reg, MAP_READABLE | MAP_WRITEABLE);
	close(reg);
	int p[2];
	CHECK("pipe", pipe(p));
	refused("IOAS_MAP_FILE pipe", p[0], MAP_READABLE);
	close(p[0]);
	close(p[1]);
	refused("IOAS_MAP_FILE closed fd", p[0], MAP_READABLE);
	/* The memfd held read-only: the device may read it, not write it. */
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", mfd);
	int ro = open(self, O_RDONLY);
	CHECK("open memfd read-only", ro >= 0 ? 0 : -1);
	refused("IOAS_MAP_FILE read-only memfd, writeable", ro, MAP_READABLE | MAP_WRITEABLE);
	CHECK("IOAS_MAP_FILE read-only memfd, readable", map_file(ro, MAP_READABLE, IOVA + 0x10000));
	CHECK("IOAS_UNMAP read-only", unmap(IOVA + 0x10000));
	close(ro);

	/* The IOAS holds the file: a DMA after the program's close still reaches its pages. */
	CHECK("close memfd", close(mfd));
	edu_dma(0x40000, IOVA + 0x2000, 3);
	show("page 2 after close", ram + 0x2000);
	CHECK("IOAS_UNMAP", unmap(IOVA));
	CHECK("close cdev", close(device));
	CHECK("close /dev/iommu", close(iommu));
	return 0;
}
