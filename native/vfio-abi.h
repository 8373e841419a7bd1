/* What the preload library and the recorder share: how VFIO requests pass their argument. */
#ifndef VFIO_ABI_H
#define VFIO_ABI_H
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum fd_kind { FD_NONE = 0, FD_CONTAINER, FD_GROUP, FD_DEVICE, FD_IOMMUFD };

/*
 * The kind of fd opening a /dev node gives: the container, /dev/iommu, a device cdev
 * (/dev/vfio/devices/vfioN, a device fd from the start), or a group.
 */
static inline int path_fd_kind(const char *path)
{
	if (!strcmp(path, "/dev/vfio/vfio"))
		return FD_CONTAINER;
	if (!strcmp(path, "/dev/iommu"))
		return FD_IOMMUFD;
	if (!strncmp(path, "/dev/vfio/devices/", 18))
		return FD_DEVICE;
	if (!strncmp(path, "/dev/vfio/", 10))
		return FD_GROUP;
	return FD_NONE;
}

/* The /dev nodes the VFIO and iommufd uAPIs are opened through. */
static inline int vfio_dev_path(const char *path)
{
	return !strncmp(path, "/dev/vfio/", 10) || !strcmp(path, "/dev/iommu");
}

/* How each request passes its argument, and the bytes the kernel copies at least (minsz). */
enum arg_kind { ARG_VALUE, ARG_NONE, ARG_STRUCT, ARG_INTPTR, ARG_STRING };

static inline enum arg_kind arg_kind(int kind, unsigned n, size_t *minsz)
{
	*minsz = 0;
	switch (kind) {
	case FD_CONTAINER:
		switch (n) {
		case 12: *minsz = 16; return ARG_STRUCT; /* IOMMU_GET_INFO / SPAPR_TCE_GET_INFO */
		case 13: *minsz = 32; return ARG_STRUCT; /* MAP_DMA */
		case 14: *minsz = 24; return ARG_STRUCT; /* UNMAP_DMA */
		case 17: *minsz = 12; return ARG_STRUCT; /* DIRTY_PAGES / SPAPR_REGISTER_MEMORY */
		case 18: *minsz = 24; return ARG_STRUCT; /* SPAPR_UNREGISTER_MEMORY */
		case 19: *minsz = 40; return ARG_STRUCT; /* SPAPR_TCE_CREATE */
		case 20: *minsz = 16; return ARG_STRUCT; /* SPAPR_TCE_REMOVE */
		case 0: /* GET_API_VERSION */
		case 15: /* SPAPR IOMMU_ENABLE */
		case 16: /* SPAPR IOMMU_DISABLE */
			return ARG_NONE;
		}
		return ARG_VALUE;
	case FD_GROUP:
		switch (n) {
		case 3: *minsz = 8; return ARG_STRUCT; /* GROUP_GET_STATUS */
		case 4: *minsz = 4; return ARG_INTPTR; /* GROUP_SET_CONTAINER */
		case 6: return ARG_STRING; /* GROUP_GET_DEVICE_FD */
		case 5: return ARG_NONE; /* GROUP_UNSET_CONTAINER */
		}
		return ARG_VALUE;
	case FD_DEVICE:
		switch (n) {
		case 7: *minsz = 16; return ARG_STRUCT; /* DEVICE_GET_INFO */
		case 8: *minsz = 32; return ARG_STRUCT; /* GET_REGION_INFO */
		case 9: *minsz = 16; return ARG_STRUCT; /* GET_IRQ_INFO */
		case 10: *minsz = 20; return ARG_STRUCT; /* SET_IRQS */
		case 12: *minsz = 12; return ARG_STRUCT; /* GET_PCI_HOT_RESET_INFO */
		case 13: *minsz = 12; return ARG_STRUCT; /* PCI_HOT_RESET */
		case 16: *minsz = 32; return ARG_STRUCT; /* DEVICE_IOEVENTFD */
		case 17: *minsz = 8; return ARG_STRUCT; /* DEVICE_FEATURE */
		case 18: *minsz = 16; return ARG_STRUCT; /* DEVICE_BIND_IOMMUFD */
		case 19: *minsz = 12; return ARG_STRUCT; /* DEVICE_ATTACH_IOMMUFD_PT */
		case 20: *minsz = 8; return ARG_STRUCT; /* DEVICE_DETACH_IOMMUFD_PT */
		case 11: return ARG_NONE; /* DEVICE_RESET */
		}
		return ARG_VALUE;
	case FD_IOMMUFD:
		/*
		 * Every iommufd command (';', 0x80 + n) takes a struct whose first u32 is its size
		 * (include/uapi/linux/iommufd.h); 8 bytes is the smallest (IOMMU_DESTROY).
		 */
		if (n + 100 >= 0x80) {
			*minsz = 8;
			return ARG_STRUCT;
		}
		/*
		 * Below IOMMUFD_CMD_BASE, iommufd_fops_ioctl() hands the request to
		 * iommufd_vfio_ioctl() (drivers/iommu/iommufd/main.c, vfio_compat.c): /dev/iommu
		 * takes the container's requests, with the container's arguments.
		 */
		return arg_kind(FD_CONTAINER, n, minsz);
	}
	return ARG_VALUE;
}


/* Copies from the client's own memory without faulting: bytes copied (short at a fault). */
static inline size_t safe_read(void *dst, uintptr_t src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)src, len };
	ssize_t n = syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0);
	return n < 0 ? 0 : (size_t)n;
}

static inline void safe_write(uintptr_t dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)dst, len };
	syscall(SYS_process_vm_writev, getpid(), &l, 1, &r, 1, 0);
}

/*
 * How many bytes of the argument at `arg` a request of kind `ak` passes: max(argsz, minsz) for a
 * struct, the string with its NUL, minsz otherwise; at most 1 MiB.
 */
static inline size_t arg_bytes(enum arg_kind ak, size_t minsz, uintptr_t arg)
{
	size_t want = minsz;
	if (ak == ARG_STRUCT) {
		uint32_t argsz = 0;
		if (safe_read(&argsz, arg, 4) == 4 && argsz > want)
			want = argsz;
	} else if (ak == ARG_STRING) {
		char c;
		for (want = 0; want < 4096 && safe_read(&c, arg + want, 1) == 1;) {
			want++;
			if (!c)
				break;
		}
	}
	return want > (1u << 20) ? (1u << 20) : want;
}

/* /proc/self/maps, whole, in a static buffer (NULL if it cannot be read): where MAP_DMA's memory is. */
static inline char *read_self_maps(void)
{
	static char text[1 << 20];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t got = 0;
	for (ssize_t n; (n = syscall(SYS_read, fd, text + got, sizeof text - 1 - got)) > 0;)
		got += (size_t)n;
	syscall(SYS_close, fd);
	text[got] = 0;
	return text;
}

/* Calls fn for each mapping of /proc/self/maps that meets [vaddr, vaddr+size). */
typedef void (*mapping_fn)(uint64_t start, uint64_t end, const char *perms, const char *line, const char *nl);
static inline void for_each_mapping(uint64_t vaddr, uint64_t size, mapping_fn fn)
{
	char *text = read_self_maps();
	if (!text || !size || vaddr + size < vaddr)
		return;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		unsigned long long s, e;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && e > vaddr && s < vaddr + size)
			fn(s, e, perms, line, nl);
		line = nl ? nl + 1 : NULL;
	}
}
#endif
