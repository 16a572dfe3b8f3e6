#include "file_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <nettle/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "geossl-digest 1\n"
#define COMMENT "# SHA-256 of every byte after the first 512; HDF5 skips this user block\n"
/* The superblock signature HDF5 looks for at 0, 512, 1024, ... */
static const unsigned char HDF5_SIGNATURE[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* Offsets of the fixed-width fields. */
#define HEX_AT (sizeof MAGIC - 1 + sizeof "sha256 " - 1)
#define BYTES_AT (HEX_AT + 2 * SHA256_DIGEST_SIZE + 1 + sizeof "bytes " - 1)
#define BYTES_DIGITS 20

static void finish_digest(struct sha256_ctx *ctx, uint8_t *out) {
#if NETTLE_VERSION_MAJOR >= 4
    sha256_digest(ctx, out); /* nettle 4 dropped the length argument */
#else
    sha256_digest(ctx, SHA256_DIGEST_SIZE, out);
#endif
}

/* The canonical header for a digest and a length. */
static void build_header(const uint8_t *digest, uint64_t length, unsigned char *header) {
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    memset(header, 0, GS_DIGEST_BLOCK);
    snprintf((char *)header, GS_DIGEST_BLOCK, "%ssha256 %s\nbytes %0*" PRIu64 "\n%s", MAGIC, hex, BYTES_DIGITS,
             length, COMMENT);
}

/* Reads exactly size bytes at offset; false with errno set (0: end of file). */
static bool read_at(int fd, void *buf, size_t size, off_t offset) {
    unsigned char *p = buf;
    while (size > 0) {
        ssize_t n = pread(fd, p, size, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = 0;
            return false;
        }
        p += n;
        size -= (size_t)n;
        offset += n;
    }
    return true;
}

/* SHA-256 of [GS_DIGEST_BLOCK, GS_DIGEST_BLOCK + length); false with errno. */
static bool digest_body(int fd, uint64_t length, uint8_t *out) {
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return false;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    off_t offset = GS_DIGEST_BLOCK;
    bool ok = true;
    while (ok && length > 0) {
        size_t n = length < CHUNK ? (size_t)length : CHUNK;
        ok = read_at(fd, buf, n, offset);
        if (ok) sha256_update(&ctx, n, buf);
        offset += (off_t)n;
        length -= n;
    }
    int saved = errno;
    free(buf);
    errno = saved;
    if (ok) finish_digest(&ctx, out);
    return ok;
}

static bool all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static gs_digest_check with_state(gs_digest_check c, gs_digest_state state, const char *detail) {
    c.state = state;
    snprintf(c.detail, sizeof c.detail, "%s", detail);
    return c;
}

static gs_digest_check unreadable(gs_digest_check c, const char *step) {
    int e = errno;
    c.state = GS_DIGEST_UNREADABLE;
    snprintf(c.detail, sizeof c.detail, "%s: %s", step, e ? strerror(e) : "unexpected end of file");
    return c;
}

/* The stored length, or UINT64_MAX when the field is not 20 digits. */
static uint64_t stored_length(const unsigned char *header) {
    if (memcmp(header + BYTES_AT - (sizeof "bytes " - 1), "bytes ", sizeof "bytes " - 1)) return UINT64_MAX;
    uint64_t v = 0;
    for (int i = 0; i < BYTES_DIGITS; i++) {
        unsigned char ch = header[BYTES_AT + (size_t)i];
        if (ch < '0' || ch > '9' || v > (UINT64_MAX - 9) / 10) return UINT64_MAX;
        v = v * 10 + (uint64_t)(ch - '0');
    }
    return header[BYTES_AT + BYTES_DIGITS] == '\n' ? v : UINT64_MAX;
}

static gs_digest_check verify_fd(int fd) {
    gs_digest_check c = {0};
    struct stat st;
    if (fstat(fd, &st) != 0) return unreadable(c, "stat");
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return unreadable(c, "not a regular file");
    }
    c.file_bytes = (uint64_t)st.st_size;
    unsigned char header[GS_DIGEST_BLOCK], at_block[sizeof HDF5_SIGNATURE];
    if (c.file_bytes < sizeof HDF5_SIGNATURE)
        return with_state(c, GS_DIGEST_MISSING, "shorter than any HDF5 file");
    size_t head = c.file_bytes < GS_DIGEST_BLOCK ? (size_t)c.file_bytes : GS_DIGEST_BLOCK;
    memset(header, 0, sizeof header);
    if (!read_at(fd, header, head, 0)) return unreadable(c, "reading");
    if (!memcmp(header, HDF5_SIGNATURE, sizeof HDF5_SIGNATURE)) {
        c.hdf5 = true;
        return with_state(c, GS_DIGEST_MISSING, "an HDF5 file without a digest header");
    }
    if (memcmp(header, MAGIC, sizeof MAGIC - 1)) {
        /* An empty user block in front of HDF5: written with one but never
         * sealed (not by geossl's writers, which seal before the rename). */
        c.hdf5 = head == GS_DIGEST_BLOCK && all_zero(header, sizeof header) &&
                 c.file_bytes >= GS_DIGEST_BLOCK + sizeof at_block &&
                 read_at(fd, at_block, sizeof at_block, GS_DIGEST_BLOCK) &&
                 !memcmp(at_block, HDF5_SIGNATURE, sizeof at_block);
        return with_state(c, GS_DIGEST_MISSING, c.hdf5 ? "an HDF5 file with an empty digest header"
                                                       : "neither a digest header nor an HDF5 signature");
    }
    if (head < GS_DIGEST_BLOCK) {
        c.state = GS_DIGEST_MISMATCH;
        snprintf(c.detail, sizeof c.detail, "truncated: %" PRIu64 " bytes, less than its header", c.file_bytes);
        return c;
    }
    uint64_t length = stored_length(header);
    if (length == UINT64_MAX) return with_state(c, GS_DIGEST_MISMATCH, "damaged digest header");
    uint64_t body = c.file_bytes - GS_DIGEST_BLOCK;
    if (body != length) {
        c.state = GS_DIGEST_MISMATCH;
        snprintf(c.detail, sizeof c.detail, "%s: %" PRIu64 " bytes where %" PRIu64 " were written",
                 body < length ? "truncated" : "grown", c.file_bytes, length + GS_DIGEST_BLOCK);
        return c;
    }
    uint8_t digest[SHA256_DIGEST_SIZE];
    if (!digest_body(fd, length, digest)) return unreadable(c, "reading");
    unsigned char expected[GS_DIGEST_BLOCK];
    build_header(digest, length, expected);
    if (memcmp(expected, header, sizeof header))
        return with_state(c, GS_DIGEST_MISMATCH, "its SHA-256 differs from the digest in its header");
    return with_state(c, GS_DIGEST_VALID, "");
}

gs_digest_check gs_file_digest_verify(const char *path) {
    gs_digest_check c = {0};
    int fd = path ? open(path, O_RDONLY) : -1;
    if (fd < 0) {
        if (!path) errno = EINVAL;
        return unreadable(c, "opening");
    }
    c = verify_fd(fd);
    close(fd);
    return c;
}

gs_status gs_file_digest_seal(const char *path, gs_error *err) {
    int fd = open(path, O_RDWR);
    if (fd < 0) return gs_error_set(err, GS_ERR_IO, "cannot seal %s: %s", path, strerror(errno));
    struct stat st;
    unsigned char header[GS_DIGEST_BLOCK], at_block[sizeof HDF5_SIGNATURE];
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) why = "not a regular file";
    else if ((uint64_t)st.st_size < GS_DIGEST_BLOCK + sizeof at_block) why = "too short";
    else if (!read_at(fd, header, sizeof header, 0) || !read_at(fd, at_block, sizeof at_block, GS_DIGEST_BLOCK))
        why = strerror(errno ? errno : EIO);
    /* Only HDF5 data behind an empty user block, or behind a header of
     * ours (sealed again after a deliberate change), is sealed. */
    else if ((!all_zero(header, sizeof header) && memcmp(header, MAGIC, sizeof MAGIC - 1)) ||
             memcmp(at_block, HDF5_SIGNATURE, sizeof at_block))
        why = "no empty user block in front of HDF5 data";
    uint8_t digest[SHA256_DIGEST_SIZE];
    uint64_t length = why ? 0 : (uint64_t)st.st_size - GS_DIGEST_BLOCK;
    if (!why && !digest_body(fd, length, digest)) why = strerror(errno ? errno : EIO);
    if (!why) {
        build_header(digest, length, header);
        ssize_t n;
        do n = pwrite(fd, header, sizeof header, 0);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof header) why = n < 0 ? strerror(errno) : "short write";
    }
    if (close(fd) != 0 && !why) why = strerror(errno);
    if (why) return gs_error_set(err, GS_ERR_IO, "cannot seal %s with its digest: %s", path, why);
    return GS_OK;
}
