/*
 * A VFIO client for the exec tests: the steps QEMU's vfio-pci takes to reach a device, each
 * printed as one line, so the test can assert the answers. Usage: client BDF [fork|dup|sysfs]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

/* Lists a directory with opendir/readdir: each entry and its d_type, then how it ended. */
static void list_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		SAY("opendir %s = -1 %s\n", path, strerror(errno));
		return;
	}
	SAY("opendir %s:", path);
	struct dirent *e;
	while ((e = readdir(d)))
		SAY(" %s/%d", e->d_name, e->d_type);
	SAY("\n");
	CHECK("closedir", closedir(d));
}

/* The first line of a file, as read back after a write. */
static void show_line(const char *path)
{
	char line[64] = "";
	FILE *f = fopen(path, "r");
	if (f && fgets(line, sizeof line, f))
		SAY("%s: %s", path, line);
	else
		SAY("%s: unreadable\n", path);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:01.0";
	const char *mode = argc > 2 ? argv[2] : "";
	char path[256], link[256];

	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	CHECK("open container", container >= 0 ? 0 : -1);
	CHECK("GET_API_VERSION", ioctl(container, VFIO_GET_API_VERSION));
	CHECK("CHECK_EXTENSION TYPE1v2", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
	ssize_t n = readlink(path, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	SAY("iommu_group -> %s\n", link);
	int group_id = atoi(basename(link));

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vendor", bdf);
	FILE *f = fopen(path, "r");
	char line[64] = "";
	if (f && fgets(line, sizeof line, f))
		SAY("vendor %s", line);
	if (f)
		fclose(f);
	struct stat st;
	CHECK("stat container node is chr", stat("/dev/vfio/vfio", &st) == 0 && S_ISCHR(st.st_mode) ? 0 : -1);
	CHECK("access /dev/vfio/99", access("/dev/vfio/99", F_OK));

	snprintf(path, sizeof path, "/dev/vfio/%d", group_id);
	int group = open(path, O_RDWR);
	CHECK("open group", group >= 0 ? 0 : -1);
	struct vfio_group_status status = { .argsz = sizeof status };
	CHECK("GROUP_GET_STATUS", ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	SAY("group flags 0x%x\n", status.flags);
	CHECK("SET_CONTAINER", ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	CHECK("SET_IOMMU", ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));

	struct vfio_iommu_type1_info info = { .argsz = sizeof info };
	CHECK("IOMMU_GET_INFO", ioctl(container, VFIO_IOMMU_GET_INFO, &info));
	SAY("iova_pgsizes 0x%" PRIx64 " argsz %u\n", (uint64_t)info.iova_pgsizes, info.argsz);

	size_t size = 1 << 20;
	void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 0xaa, size);
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof map,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = 0x100000,
		.size = size,
	};
	CHECK("MAP_DMA", ioctl(container, VFIO_IOMMU_MAP_DMA, &map));
	CHECK("MAP_DMA again (overlap)", ioctl(container, VFIO_IOMMU_MAP_DMA, &map));
	if (!strcmp(mode, "dma")) {
		/* The test moves data with the device now: it reads our 0xaa, and writes its own. */
		SAY("mapped\n");
		getchar();
		unsigned char *b = buf;
		SAY("buffer after device DMA %02x%02x%02x%02x%02x%02x%02x%02x\n", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
	}

	int device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	CHECK("GET_DEVICE_FD", device >= 0 ? 0 : -1);
	struct vfio_device_info dinfo = { .argsz = sizeof dinfo };
	CHECK("DEVICE_GET_INFO", ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo));
	SAY("regions %u irqs %u\n", dinfo.num_regions, dinfo.num_irqs);

	struct vfio_region_info cfg = { .argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	CHECK("REGION_INFO config", ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	SAY("config size 0x%" PRIx64 " offset 0x%" PRIx64 " flags 0x%x\n", (uint64_t)cfg.size, (uint64_t)cfg.offset, cfg.flags);
	struct vfio_region_info bar0 = { .argsz = sizeof bar0, .index = VFIO_PCI_BAR0_REGION_INDEX };
	CHECK("REGION_INFO bar0", ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &bar0));
	SAY("bar0 size 0x%" PRIx64 " flags 0x%x\n", (uint64_t)bar0.size, bar0.flags);
	void *bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)bar0.offset);
	CHECK("mmap bar0", bar == MAP_FAILED ? -1 : 0);

	uint32_t id = 0;
	CHECK("pread config", pread(device, &id, 4, (off_t)cfg.offset));
	SAY("config id 0x%08x\n", id);
	uint32_t ident = 0;
	CHECK("pread bar0", pread(device, &ident, 4, (off_t)bar0.offset));
	SAY("bar0[0] 0x%08x\n", ident);

	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	char irqbuf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)irqbuf;
	irq->argsz = sizeof irqbuf;
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_INTX_IRQ_INDEX;
	irq->start = 0;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof efd);
	CHECK("SET_IRQS INTx eventfd", ioctl(device, VFIO_DEVICE_SET_IRQS, irq));
	struct vfio_irq_set loop = { .argsz = sizeof loop, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };
	CHECK("SET_IRQS INTx loopback", ioctl(device, VFIO_DEVICE_SET_IRQS, &loop));
	uint64_t count = 0;
	CHECK("read eventfd", read(efd, &count, sizeof count));
	SAY("eventfd count %" PRIu64 "\n", count);

	if (!strcmp(mode, "irq")) {
		/* An unmask eventfd the kernel reads; then wait for an interrupt raised later. */
		int unmask = eventfd(0, EFD_CLOEXEC);
		irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK;
		memcpy(irq->data, &unmask, sizeof unmask);
		CHECK("SET_IRQS INTx unmask eventfd", ioctl(device, VFIO_DEVICE_SET_IRQS, irq));
		uint64_t one = 1;
		CHECK("write unmask eventfd", write(unmask, &one, sizeof one));
		SAY("armed\n");
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		CHECK("poll eventfd", poll(&pfd, 1, 10000));
		count = 0;
		CHECK("read eventfd", read(efd, &count, sizeof count));
		SAY("later eventfd count %" PRIu64 "\n", count);
	}

	if (!strcmp(mode, "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			struct vfio_device_info ci = { .argsz = sizeof ci };
			CHECK("child DEVICE_GET_INFO", ioctl(device, VFIO_DEVICE_GET_INFO, &ci));
			close(device);
			close(group);
			close(container);
			_exit(0);
		}
		int ws;
		waitpid(pid, &ws, 0);
		SAY("child exited %d\n", WEXITSTATUS(ws));
		CHECK("parent DEVICE_GET_INFO after child closed", ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo));
	}
	if (!strcmp(mode, "sysfs")) {
		snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%d/devices", group_id);
		list_dir(path);
		snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", bdf);
		list_dir(path);
		list_dir("/dev/vfio/"); /* a trailing slash names the directory itself */
		list_dir("/sys/module/vfio_iommu_type1/parameters");
		list_dir("/sys/kernel/iommu_groups/99");
		snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vendor", bdf);
		list_dir(path);
		const char *unsafe = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
		int pfd = open(unsafe, O_WRONLY);
		CHECK("open parameter for writing", pfd >= 0 ? 0 : -1);
		CHECK("write Y", write(pfd, "Y", 1));
		CHECK("close parameter", close(pfd));
		show_line(unsafe);
		const char *limit = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit";
		FILE *f = fopen(limit, "w");
		CHECK("fopen parameter w", f ? 0 : -1);
		if (f) {
			fprintf(f, "1000\n");
			CHECK("fclose", fclose(f));
		}
		show_line(limit);
		int vfd = open(path, O_WRONLY);
		CHECK("write vendor", vfd >= 0 ? write(vfd, "0x1\n", 4) : -1);
		if (vfd >= 0)
			close(vfd);
	}
	if (!strcmp(mode, "dup")) {
		int copy = dup(device);
		CHECK("close original device fd", close(device));
		CHECK("DEVICE_GET_INFO on dup", ioctl(copy, VFIO_DEVICE_GET_INFO, &dinfo));
		int high = fcntl(copy, F_DUPFD_CLOEXEC, 100);
		CHECK("F_DUPFD_CLOEXEC >= 100", high >= 100 ? 0 : -1);
		close(copy);
		CHECK("DEVICE_GET_INFO on F_DUPFD copy", ioctl(high, VFIO_DEVICE_GET_INFO, &dinfo));
		device = high;
	}

	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof unmap, .iova = 0x100000, .size = size };
	CHECK("UNMAP_DMA", ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	SAY("unmapped 0x%" PRIx64 "\n", (uint64_t)unmap.size);
	CHECK("close device", close(device));
	CHECK("close group", close(group));
	CHECK("close container", close(container));
	CHECK("close closed fd", close(container));
	return 3;
}
