/*
 * A VFIO cdev client for the exec tests: the steps QEMU's iommufd backend takes to find and open
 * a device's cdev (hw/vfio/iommufd.c iommufd_cdev_getfd, util/chardev_open.c open_cdev), each
 * printed as one line. Usage: cdev-client BDF
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* include/uapi/linux/vfio.h (6.6+), for headers older than the cdev. */
struct cdev_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define CDEV_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

#include "say.h"

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:01.0";
	char path[512], name[256] = "", line[64] = "";

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	DIR *dir = opendir(path);
	check("opendir vfio-dev", dir ? 0 : -1);
	for (struct dirent *e; dir && (e = readdir(dir));)
		if (!strncmp(e->d_name, "vfio", 4))
			memcpy(name, e->d_name, sizeof name);
	if (dir)
		check("closedir", closedir(dir));
	SAY("cdev %s\n", name);

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vfio-dev/%s/dev", bdf, name);
	FILE *f = fopen(path, "r");
	if (f && fgets(line, sizeof line, f))
		SAY("dev %s", line);
	if (f)
		fclose(f);
	unsigned major = 0, minor = 0;
	sscanf(line, "%u:%u", &major, &minor);

	snprintf(path, sizeof path, "/dev/vfio/devices/%s", name);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	check("open cdev", fd >= 0 ? 0 : -1);
	struct stat st;
	check("fstat is the node", fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(major, minor) ? 0 : -1);

	struct vfio_device_info info = { .argsz = sizeof info };
	check("DEVICE_GET_INFO before bind", ioctl(fd, VFIO_DEVICE_GET_INFO, &info));
	struct cdev_bind_iommufd bind = { .argsz = sizeof bind, .iommufd = -1 };
	check("BIND_IOMMUFD iommufd=-1", ioctl(fd, CDEV_BIND_IOMMUFD, &bind));
	check("close cdev", close(fd));
	return 0;
}
