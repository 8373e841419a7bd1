/* The cost of one served call: N ioctls and N config-space preads, timed in the client. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000;
	int c = open("/dev/vfio/vfio", O_RDWR);
	int g = open("/dev/vfio/1", O_RDWR);
	if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 1;
	int d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	struct vfio_region_info cfg = { .argsz = sizeof cfg, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (d < 0 || ioctl(d, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return 1;
	double t0 = now();
	for (int i = 0; i < n; i++)
		ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	double t1 = now();
	struct vfio_device_info info = { .argsz = sizeof info };
	for (int i = 0; i < n; i++)
		ioctl(d, VFIO_DEVICE_GET_INFO, &info);
	double t2 = now();
	unsigned id;
	for (int i = 0; i < n; i++)
		pread(d, &id, 4, (off_t)cfg.offset);
	double t3 = now();
	printf("{\"n\":%d,\"valueIoctl\":%g,\"structIoctl\":%g,\"pread\":%g}\n", n, (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
	return 0;
}
