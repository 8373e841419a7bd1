/*
 * The sysfs links of one PCI function, as a program reads them: the bus entry, its
 * iommu_group and driver links, and the group's devices/ entry back to it; then stat (which
 * follows the bus link to a directory) against lstat, and a listing through the link.
 * Usage: links BDF
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "say.h"

static void show_link(const char *path)
{
	char target[512];
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n < 0) {
		SAY("readlink %s = -1 %s\n", path, strerror(errno));
		return;
	}
	target[n] = 0;
	SAY("%s -> %s\n", path, target);
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:01.0";
	char path[256], target[512];

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", bdf);
	show_link(path);
	struct stat st;
	CHECK("stat is a directory", stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1);
	CHECK("lstat is a link", lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? 0 : -1);
	DIR *d = opendir(path);
	int entries = 0;
	if (d) {
		while (readdir(d))
			entries++;
		closedir(d);
	}
	CHECK("opendir through the link", d ? 0 : -1);

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/iommu_group", bdf);
	show_link(path);
	ssize_t n = readlink(path, target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	int group = atoi(basename(target));
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", bdf);
	show_link(path);
	snprintf(path, sizeof path, "/sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
	show_link(path);
	return entries > 2 ? 0 : 1;
}
