/* Record mode's entry points (vfio-record.c), called by the preload library's wrappers. */
#ifndef VFIO_RECORD_H
#define VFIO_RECORD_H
#include <stddef.h>
#include <stdint.h>

/* Hidden: each copy of the library (record over model, under test) calls its own. */
#pragma GCC visibility push(hidden)

int vfio_record_active(void);
void vfio_record_setup(void);
int vfio_record_tracked(int fd);
void vfio_record_open(const char *path, int flags, int fd, int err);
void vfio_record_readlink(const char *path, const char *buf, long n, int err);
void vfio_record_close(int fd, int ret, int err);
void vfio_record_read(int fd, const void *buf, size_t len, long ret, int err);
void vfio_record_mmap(void *addr, size_t len, int prot, int fd, uint64_t off, void *ret, int err);
void vfio_record_munmap(void *addr, size_t len, int ret, int err);
void vfio_record_pread(int fd, const void *buf, size_t len, uint64_t off, long ret, int err);
void vfio_record_pwrite(int fd, const void *buf, size_t len, uint64_t off, long ret, int err);
long vfio_record_ioctl(int fd, unsigned long req, unsigned long arg, long (*real)(int, unsigned long, unsigned long));
#pragma GCC visibility pop
#endif
