/* memfd_create and fallocate (Linux; glibc >= 2.27) */
#define _GNU_SOURCE
#include "h5_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "durable_file.h"
#include "file_digest.h"

hid_t gs_h5_file_access(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
    /* Keep HDF5's lock but don't fail on filesystems without flock (NFS). */
    H5Pset_file_locking(fapl, true, true);
#endif
    return fapl;
}

hid_t gs_h5_create_sealable(const char *path) {
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = gs_h5_file_access(), file = -1;
    if (fcpl >= 0 && fapl >= 0 && H5Pset_userblock(fcpl, GS_DIGEST_BLOCK) >= 0)
        file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    return file;
}

/* libhdf5's descriptor for the file holding loc (sec2 driver), or -1.  The
 * calls clear HDF5's error stack, so the caller's failure is kept aside. */
static int driver_fd(hid_t loc) {
    hid_t saved = H5Eget_current_stack();
    int result = -1;
    hid_t file = H5Iget_file_id(loc); /* loc may be a dataset or group of the file */
    hid_t fapl = file >= 0 ? H5Fget_access_plist(file) : -1;
    int *fd = NULL;
    if (fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 && H5Fget_vfd_handle(file, fapl, (void **)&fd) >= 0 && fd)
        result = *fd;
    if (fapl >= 0) H5Pclose(fapl);
    if (file >= 0) H5Fclose(file); /* the reference H5Iget_file_id added */
    if (saved >= 0) H5Eset_current_stack(saved);
    return result;
}

void gs_h5_abandon(hid_t loc) {
    int fd = driver_fd(loc);
    if (fd < 0) return;
    /* The sink is an anonymous file in memory, not /dev/null: closing
     * truncates the file to its allocated end (ftruncate, which /dev/null
     * refuses), and a sparse memory file takes that without using memory
     * or disk; what libhdf5 still writes is its last metadata.  dup2 swaps
     * what libhdf5's descriptor refers to, atomically. */
    int sink = memfd_create("geossl-abandoned-hdf5", MFD_CLOEXEC);
    if (sink >= 0 && sink != fd) {
        (void)dup2(sink, fd);
        close(sink);
    }
}

int gs_h5_reserve(hid_t loc, uint64_t bytes) {
    int fd = driver_fd(loc);
    if (fd < 0 || bytes == 0) return 0;
    /* fallocate(2), not posix_fallocate: where the filesystem cannot
     * allocate ahead, glibc's fallback writes every block, which on a
     * network filesystem and a large cache takes minutes. */
    int rc;
    do rc = fallocate(fd, 0, 0, (off_t)bytes);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) return 0;
    if (errno != EOPNOTSUPP && errno != ENOSYS) return errno;
    /* No fallocate: the free space the filesystem reports is the next best
     * check (it misses quotas and other writers, not a disk that is full). */
    struct stat st;
    struct statvfs fs;
    if (fstat(fd, &st) != 0 || fstatvfs(fd, &fs) != 0 || (uint64_t)st.st_size >= bytes) return 0;
    return (uint64_t)fs.f_bavail * fs.f_frsize < bytes - (uint64_t)st.st_size ? ENOSPC : 0;
}

int gs_space_check(const char *path, uint64_t bytes) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return errno;
    struct stat st;
    int e = fstat(fd, &st) == 0 ? 0 : errno;
    if (!e && bytes > 0) {
        int rc;
        do rc = fallocate(fd, 0, 0, (off_t)bytes);
        while (rc != 0 && errno == EINTR);
        e = rc == 0 ? 0 : errno;
        if (e == EOPNOTSUPP || e == ENOSYS) {
            /* No fallocate: at least the first writes of H5Fcreate (its
             * superblock and root group, a few KiB) must fit. */
            static const char zeros[1 << 16];
            size_t n = bytes < sizeof zeros ? (size_t)bytes : sizeof zeros;
            ssize_t w;
            do w = pwrite(fd, zeros, n, 0);
            while (w < 0 && errno == EINTR);
            e = w == (ssize_t)n ? 0 : w < 0 ? errno : ENOSPC;
        }
        /* Only a check: the blocks go back (H5Fcreate truncates anyway). */
        if (ftruncate(fd, st.st_size) != 0 && !e) e = errno;
    }
    close(fd);
    return e;
}

uint64_t gs_h5_end(hid_t file) {
    hsize_t size = 0;
    return H5Fget_filesize(file, &size) >= 0 ? (uint64_t)size : 0;
}

bool gs_h5_flush_kept(hid_t file, char *why, size_t size) {
    uint64_t allocated = gs_h5_end(file);
    int e = allocated ? gs_h5_reserve(file, allocated) : EIO;
    if (e) {
        snprintf(why, size, "%s", strerror(e));
        gs_h5_abandon(file);
        return false;
    }
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
        why[0] = '\0'; /* the reason is on HDF5's error stack */
        gs_h5_abandon(file);
        return false;
    }
    return true;
}

gs_status gs_h5_commit(const char *tmp, const char *path, gs_error *err) {
    /* Space reserved ahead and never used is cut off: the file ends where
     * libhdf5's allocation ends (its EOA, which counts the user block). */
    hid_t fapl = gs_h5_file_access();
    hid_t file = fapl >= 0 ? H5Fopen(tmp, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    haddr_t eoa = 0;
    bool known = file >= 0 && H5Fget_eoa(file, &eoa) >= 0 && eoa > 0;
    if (file >= 0) H5Fclose(file);
    struct stat st;
    if (!known || stat(tmp, &st) != 0 || (st.st_size > (off_t)eoa && truncate(tmp, (off_t)eoa) != 0)) {
        int e = known ? errno : EIO;
        unlink(tmp);
        return gs_error_set(err, GS_ERR_IO, "cannot write %s: trimming %s: %s", path, tmp,
                            known ? strerror(e) : "libhdf5 cannot read back what it wrote");
    }
    return gs_commit_sealed_file(tmp, path, err);
}

bool gs_h5_fits_in_file(hid_t loc, uint64_t bytes) {
    hid_t file = H5Iget_file_id(loc);
    if (file < 0) return false;
    hsize_t size = 0;
    bool ok = H5Fget_filesize(file, &size) >= 0 && bytes <= (uint64_t)size;
    H5Fclose(file); /* the reference H5Iget_file_id added */
    return ok;
}
