#!/usr/bin/env bash
# The kernel's own VFIO selftests (tools/testing/selftests/vfio), unmodified, built from Debian's
# linux-source-7.2 (sid) for test/exec/kselftests.test.ts. Prints the directory holding the test
# binaries.
#
# A private apt state under $DIR (the system's sources are not changed), suite sid on the
# system's Debian mirror, where linux-source-7.2 lives. Only the selftests, the kselftest
# harness headers, tools/include and the uapi headers are taken out of the source tarball;
# they are built with `cc` as the selftests' Makefile builds them (KHDR_INCLUDES = the uapi
# headers, -I tools/include, -I lib/include, -Wall -Werror, -pthread, -luuid). Everything is
# cached: a second run only prints the path. Needs: dpkg-deb, xz, cc, uuid-dev.
# VFIO_SELFTESTS_PKG names another linux-source-X.Y package once sid has moved on.
set -euo pipefail
DIR=${VFIO_SELFTESTS_DIR:-/var/cache/vfio-emu/selftests}
PKG=${VFIO_SELFTESTS_PKG:-linux-source-7.2}
VER=${PKG#linux-source-}
OUT=$DIR/bin
TESTS=(vfio_dma_mapping_test vfio_dma_mapping_mmio_test vfio_iommufd_setup_test vfio_pci_device_test
       vfio_pci_device_init_perf_test vfio_pci_driver_test vfio_pci_sriov_uapi_test)
# The build is redone when this script changes (its hash is kept beside the binaries).
STAMP=$(sha256sum "$0" | cut -d' ' -f1)
built() { [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ] || return 1; for t in "${TESTS[@]}"; do [ -x "$OUT/$t" ] || return 1; done; }
if built; then echo "$OUT"; exit 0; fi

mkdir -p "$DIR/apt/lists/partial" "$DIR/apt/cache/archives/partial" "$DIR/deb"
SRC=$DIR/linux-source-$VER
if [ ! -f "$SRC/.complete" ]; then
  if ! ls "$DIR"/deb/"$PKG"_*_all.deb >/dev/null 2>&1; then
    # The system's own Debian mirror (not its security mirror, nor another vendor's repository).
    uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep '/debian/*$' | head -n 1 || true)
    [ -n "$uri" ] || uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep '/debian/*$' | head -n 1 || true)
    [ -n "$uri" ] || { echo "vfio-selftests.sh: no Debian mirror in the system's apt sources" >&2; exit 1; }
    echo "deb $uri sid main" > "$DIR/apt/sources.list"
    O=(-o "Dir::Etc::sourcelist=$DIR/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
       -o "Dir::State::Lists=$DIR/apt/lists" -o "Dir::Cache=$DIR/apt/cache")
    apt-get "${O[@]}" update >&2
    (cd "$DIR/deb" && apt-get "${O[@]}" download "$PKG" >&2)
  fi
  rm -rf "$SRC" "$DIR/tmp" && mkdir -p "$DIR/tmp"
  # Only what the build reads; the tarball is streamed once (about 15 s).
  dpkg-deb --fsys-tarfile "$DIR"/deb/"$PKG"_*_all.deb \
    | tar -xO "./usr/src/linux-source-$VER.tar.xz" | xz -dc \
    | tar -x -C "$DIR/tmp" --wildcards \
        "linux-source-$VER/tools/testing/selftests/vfio" \
        "linux-source-$VER/tools/testing/selftests/kselftest*" \
        "linux-source-$VER/tools/include/*" \
        "linux-source-$VER/tools/arch/x86/include/*" \
        "linux-source-$VER/include/linux/pci_ids.h" \
        "linux-source-$VER/drivers/dma/idxd/registers.h" \
        "linux-source-$VER/drivers/dma/ioat/hw.h" \
        "linux-source-$VER/drivers/dma/ioat/registers.h" \
        "linux-source-$VER/include/uapi/*" \
        "linux-source-$VER/arch/x86/include/uapi/*" \
        "linux-source-$VER/tools/testing/selftests/lib.mk" \
        "linux-source-$VER/COPYING"
  mv "$DIR/tmp/linux-source-$VER" "$SRC" && rmdir "$DIR/tmp"
  touch "$SRC/.complete"
fi

# KHDR_INCLUDES: the selftests build against `make headers` output (usr/include); the same
# headers are include/uapi plus the architecture's, with the `_UAPI` guards left as they are
# (harmless: each header is included under one name only).
H=$DIR/headers
if [ ! -f "$H/.complete" ]; then
  rm -rf "$H" && mkdir -p "$H"
  cp -r "$SRC/include/uapi/." "$H/"
  cp -r "$SRC/arch/x86/include/uapi/." "$H/"
  touch "$H/.complete"
fi

S=$SRC/tools/testing/selftests/vfio
# The flags the Makefiles give: KHDR_INCLUDES, lib.mk's -D_GNU_SOURCE= and -I selftests, vfio's
# -I tools/include -Wall -Werror, libvfio.mk's -I lib/include.
CFLAGS=(-isystem "$H" -D_GNU_SOURCE= -I "$SRC/tools/testing/selftests" -I "$SRC/tools/include" -Wall -Werror -I "$S/lib/include")
# Debian's 7.2.13 lib/vfio_pci_device.c calls calloc_assert(), which its lib/include/libvfio/
# assert.h does not define (upstream's assert.h has it: the stable backport that brought the
# caller came without it), so the sources as shipped do not compile. Rather than edit them, a
# forced include supplies the helper, with upstream's meaning (calloc, and a VFIO assertion that
# it did not fail), only while the shipped header lacks it.
if ! grep -q 'define calloc_assert' "$S/lib/include/libvfio/assert.h"; then
  cat > "$DIR/calloc-assert.h" <<'END'
/* vfio-emu: calloc_assert() for vfio selftests whose libvfio/assert.h lacks it. */
#define calloc_assert(nmemb, size) ({ \
	void *p_ = calloc((nmemb), (size)); \
	VFIO_ASSERT_NOT_NULL(p_, "calloc(%zu, %zu) failed", (size_t)(nmemb), (size_t)(size)); \
	p_; \
})
END
  CFLAGS+=(-include "$DIR/calloc-assert.h")
fi
rm -rf "$DIR/obj" && mkdir -p "$DIR/obj" "$OUT"
LIB=(iommu.c iova_allocator.c libvfio.c sysfs.c vfio_pci_device.c vfio_pci_driver.c drivers/ioat/ioat.c drivers/dsa/dsa.c)
objs=()
for c in "${LIB[@]}"; do
  o=$DIR/obj/$(echo "$c" | tr / _).o
  cc "${CFLAGS[@]}" -c "$S/lib/$c" -o "$o"
  objs+=("$o")
done
for t in "${TESTS[@]}"; do
  cc "${CFLAGS[@]}" -c "$S/$t.c" -o "$DIR/obj/$t.o"
  cc "${CFLAGS[@]}" -pthread "$DIR/obj/$t.o" "${objs[@]}" -luuid -o "$OUT/$t"
done
echo "$STAMP" > "$OUT/.stamp"
echo "$OUT"
