#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds a bdtrace VM image: Debian's kernel, the bd_sched module built
# against it, and a busybox initramfs holding your static programs.
# Run with --help for the whole story (what goes where, kernel arguments).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly KMOD_SRC="$REPO_ROOT/guest-probes/kmod"
# The guest SDK headers (abi.h, channel.h and ring.h link to proto/include).
readonly GUEST_INC="$REPO_ROOT/guest-probes/include"
readonly GUEST_SCRIPTS="$SCRIPT_DIR/guest"

say() { echo "build-image: $*"; }
die() { echo "build-image: error: $*" >&2; exit 1; }

usage() {
    cat <<'USAGE'
Usage: tools/vm/build-image.sh OUT_DIR [--programs DIR|FILE]... [--extra FILE...]...
                               [--debs DIR] [--arch x86_64|aarch64]

Builds a VM image for `bd-run --system`: Debian's kernel, the bd_sched
kernel module built against that kernel's headers, and a busybox initramfs
with your programs in it, for an x86_64 guest (qemu-system-x86_64) or an
aarch64 one (qemu-system-aarch64 -M virt; bd-run --system --arch aarch64). Everything it writes goes into OUT_DIR (and into
--debs DIR when given). Every step is cached: a rerun with unchanged inputs
changes nothing and takes a few seconds.

Options:
  --programs FILE   put FILE into the image as /bin/NAME (NAME = its file
                    name; /bin is on the guest's PATH). Repeatable. FILE must
                    be a script (#!/bin/sh: the guest has busybox's sh) or a
                    statically linked program of the image's architecture
                    (--arch; aarch64 ones from build/bin/aarch64): the image has no C
                    library and no dynamic loader, so a dynamically linked
                    program is refused (link it with -static, e.g.
                      cc -static -I guest-probes/include -o my-prog my-prog.c \
                         build/lib/libbdguest.a -lpthread ).
  --programs DIR    every executable file directly in DIR that can run in
                    the guest (static programs and scripts) goes to /bin;
                    dynamically linked ones are skipped and named.
  --extra FILE...   one or more files (scripts to run with bd.run=, data)
                    for /etc/bd/NAME, made executable. The scripts in
                    tools/vm/guest/ are always there too.
  --debs DIR        keep the downloaded Debian packages in DIR instead of
                    OUT_DIR/debs (share one download between images); arm64
                    packages go to DIR/arm64, with the private apt
                    configuration that downloads them (DIR/arm64/apt) and
                    the unpacked arm64 kernel headers (DIR/arm64/kheaders).
  --arch ARCH       the guest's architecture: x86_64 (default; Debian amd64
                    packages, the host's apt) or aarch64 (Debian arm64
                    packages through a private apt configuration that leaves
                    the system's alone; bd_sched cross-built with
                    aarch64-linux-gnu-gcc against the unpacked arm64 headers
                    and the host's linux-kbuild; busybox's applet list read
                    by running it under qemu-aarch64).
  -h, --help        this text.

Writes (all in OUT_DIR):
  vmlinuz            Debian's kernel (the dependency of linux-image-amd64,
                     or of linux-image-arm64 with --arch aarch64: a gzipped
                     arm64 Image that qemu-system-aarch64 -kernel loads;
                     BD_VM_KERNEL_PKG=linux-image-X-amd64 picks another)
  kernel-version     its `uname -r`
  kmod/bd_sched.ko   the bd_sched module built for that kernel
  initramfs.cpio.gz  busybox, /init, /lib/bd/bd_sched.ko, /bin/<programs>,
                     /etc/bd/<extras>
  debs/              the downloaded .deb files (unless --debs)
  initramfs-root/    the initramfs's tree, for looking at
Boot it with
  build/bin/bd-run --system [--arch aarch64] --kernel OUT_DIR/vmlinuz \
      --initrd OUT_DIR/initramfs.cpio.gz --append "bd.kmod=1 bd.run=/etc/bd/X.sh"
(bd-run --system --program FILE --run 'CMD' builds and boots such an image
by itself.)

Inside the VM, /init (runs as root) mounts /proc, /sys, /dev, /tmp and
/dev/shm, then reads these kernel arguments (bd-run --append):
  bd.kmod=1        load /lib/bd/bd_sched.ko first (bd-kmod load; unloaded
                   with bd-kmod unload before power-off): context switches
                   are recorded, and the ring channel gets its clock agent
  bd.run=/path     run that file with sh (a script from --extra, e.g.
                   bd.run=/etc/bd/X.sh), then power off
  bd.cmd=BASE64    run the base64-encoded shell command with sh, then power
                   off (what bd-run --run 'CMD' passes)
Without bd.run= or bd.cmd= it runs nothing and powers off. /bin/bd-kmod
load [PARAM=VALUE...] | unload loads or unloads bd_sched with the other
CPUs offline meanwhile (QEMU before 10.2 can hang a guest whose kernel
patches code other vCPUs run: README, Known limits). It prints lines
starting "bd-init: " on the console, among them
"bd-init: run-status N (...)" with the command's exit status, and last
"bd-init: poweroff".

Needs: apt-get/apt-cache/dpkg-deb (Debian), root to install the kernel's
linux-headers package (aarch64: linux-kbuild) when missing, make, gcc and
readelf for the module and the program checks, cpio (else python3) and gzip;
for aarch64 also gcc-aarch64-linux-gnu and qemu-user.
USAGE
    exit "${1:-2}"
}

# ---------------------------------------------------------------- arguments
OUT_DIR=""
PROGRAMS=()
EXTRAS=()
DEBS_DIR=""
ARCH=x86_64
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage 0 ;;
        --programs)
            [ $# -ge 2 ] || die "--programs needs a directory or file"
            PROGRAMS+=("$2"); shift 2 ;;
        --extra)
            shift
            if [ $# -eq 0 ] || [[ "$1" == --* ]]; then die "--extra needs at least one file"; fi
            while [ $# -gt 0 ] && [[ "$1" != --* ]]; do EXTRAS+=("$1"); shift; done ;;
        --debs)
            [ $# -ge 2 ] || die "--debs needs a directory"
            DEBS_DIR="$2"; shift 2 ;;
        --arch)
            [ $# -ge 2 ] || die "--arch needs x86_64 or aarch64"
            ARCH="$2"; shift 2 ;;
        --*) die "unknown option $1 (see --help)" ;;
        *)
            [ -z "$OUT_DIR" ] || die "more than one OUT_DIR: '$OUT_DIR' and '$1'"
            OUT_DIR="$1"; shift ;;
    esac
done
[ -n "$OUT_DIR" ] || die "no OUT_DIR given (usage: tools/vm/build-image.sh OUT_DIR [--programs FILE]...; see --help)"

# What differs between the guest architectures: Debian's name for it, the
# machine readelf -h names, and the cross compiler of the module.
case "$ARCH" in
    x86_64)  DEB_ARCH=amd64; ELF_MACHINE="Advanced Micro Devices X86-64"; KMAKE_ARGS=() ;;
    aarch64) DEB_ARCH=arm64; ELF_MACHINE="AArch64"
             KMAKE_ARGS=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) ;;
    *) die "--arch $ARCH: give x86_64 or aarch64" ;;
esac
# The host's own architecture uses the host's apt; another one a private
# configuration (FOREIGN=1).
FOREIGN=0
[ "$DEB_ARCH" = "$(dpkg --print-architecture)" ] || FOREIGN=1
readonly ARCH DEB_ARCH ELF_MACHINE FOREIGN
is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# True for an ELF that needs a dynamic loader (the initramfs has none).
is_dynamic_elf() {
    is_elf "$1" || return 1
    readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# readelf's name of an ELF's machine ("AArch64").
elf_machine() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }

# True for an ELF built for another architecture than the image's.
is_foreign_elf() { is_elf "$1" && [ "$(elf_machine "$1")" != "$ELF_MACHINE" ]; }

# Everything about the inputs is checked before anything is written.
if [ ${#PROGRAMS[@]} -gt 0 ]; then
    command -v readelf >/dev/null ||
        die "readelf (Debian package binutils) is needed to check that the programs are static"
fi
for p in "${PROGRAMS[@]+"${PROGRAMS[@]}"}"; do
    [ -e "$p" ] || die "--programs $p: no such file or directory"
    if [ -f "$p" ] && is_dynamic_elf "$p"; then
        interp="$(readelf -l "$p" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')"
        die "--programs $p is dynamically linked (it needs the loader $interp), but the VM image has no C library and no loader: it would not start (\"not found\"). Link it statically: add -static to its link line, e.g. cc -static -I guest-probes/include -o prog prog.c build/lib/libbdguest.a -lpthread"
    fi
    if [ -f "$p" ] && is_foreign_elf "$p"; then
        die "--programs $p is a program for $(elf_machine "$p"), but this is an $ARCH image (--arch): the guest could not run it (\"exec format error\")"
    fi
done
for e in "${EXTRAS[@]+"${EXTRAS[@]}"}"; do
    [ -f "$e" ] || die "--extra $e: no such file"
done
[ -f "$KMOD_SRC/bd_sched.c" ] || die "module sources not found in $KMOD_SRC"
[ -f "$GUEST_INC/bd/trap.h" ] || die "guest headers not found in $GUEST_INC"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
if [ -n "$DEBS_DIR" ]; then
    mkdir -p "$DEBS_DIR"
    DEBS_DIR="$(cd "$DEBS_DIR" && pwd)"
else
    DEBS_DIR="$OUT_DIR/debs"
fi
# Another architecture's packages (same names, other contents) apart.
[ "$FOREIGN" = 0 ] || DEBS_DIR="$DEBS_DIR/$DEB_ARCH"

# ------------------------------------------------------------------ helpers
# apt for the image's architecture. A foreign one (arm64 on an amd64 host)
# goes through a private configuration in DEBS_DIR/apt: its own sources
# (the host's Debian release: main, updates and security, as the host's
# kernel comes from), lists and cache, no dpkg status, so that nothing of
# the system's apt changes and no foreign architecture is added to dpkg.
APT_OPTS=()
if [ "$FOREIGN" = 1 ]; then
    APT_DIR="$DEBS_DIR/apt"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial"
    codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
    [ -n "$codename" ] || codename=bookworm
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"
    {
        echo "deb [arch=$DEB_ARCH signed-by=$keyring] http://deb.debian.org/debian $codename main"
        echo "deb [arch=$DEB_ARCH signed-by=$keyring] http://deb.debian.org/debian $codename-updates main"
        echo "deb [arch=$DEB_ARCH signed-by=$keyring] http://deb.debian.org/debian-security $codename-security main"
    } >"$APT_DIR/sources.list.new"
    if ! cmp -s "$APT_DIR/sources.list.new" "$APT_DIR/sources.list"; then
        mv "$APT_DIR/sources.list.new" "$APT_DIR/sources.list"
        rm -f "$APT_DIR/.updated"
    else
        rm -f "$APT_DIR/sources.list.new"
    fi
    APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/nonexistent
              -o "Dir::State::Lists=$APT_DIR/lists" -o Dir::State::status=/dev/null
              -o "Dir::Cache=$APT_DIR" -o "Dir::Cache::archives=$APT_DIR/archives"
              -o "APT::Architecture=$DEB_ARCH" -o "APT::Architectures::=$DEB_ARCH"
              -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
fi
apt_get() { apt-get "${APT_OPTS[@]+"${APT_OPTS[@]}"}" "$@"; }
apt_cache() { apt-cache "${APT_OPTS[@]+"${APT_OPTS[@]}"}" "$@"; }

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        # stdout may be captured by $(...): report on stderr only.
        say "running apt-get update${APT_DIR:+ ($DEB_ARCH, private lists in $APT_DIR)}" >&2
        apt_get update -qq >&2 || die "apt-get update failed"
        APT_UPDATED=1
        [ "$FOREIGN" = 0 ] || touch "$APT_DIR/.updated"
    fi
}
# Nobody else refreshes the private lists: once a day, so that a kernel
# Debian has replaced (and removed) is not asked for. Lists that exist stay
# usable when the refresh fails (no network: the cached image still builds).
if [ "$FOREIGN" = 1 ] && [ -z "$(find "$APT_DIR/.updated" -mmin -1440 2>/dev/null)" ]; then
    if [ -n "$(ls -A "$APT_DIR/lists" 2>/dev/null | grep -v '^partial$\|^lock$')" ]; then
        say "refreshing the $DEB_ARCH package lists (daily)"
        if apt_get update -qq; then
            touch "$APT_DIR/.updated"
            APT_UPDATED=1
        else
            say "warning: apt-get update for $DEB_ARCH failed; using the lists from before"
        fi
    else
        apt_update_once
    fi
fi

# Candidate version of a package, updating the lists once if apt knows none.
candidate_version() {
    local v
    v="$(apt_cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        apt_update_once
        v="$(apt_cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
    fi
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then die "apt knows no version of $1"; fi
    echo "$v"
}

# Path of PKG_VERSION's .deb in DEBS_DIR, downloading it if needed.
fetch_deb() {
    local pkg="$1" ver="$2" deb
    mkdir -p "$DEBS_DIR"
    for deb in "$DEBS_DIR/${pkg}"_*.deb; do
        [ -f "$deb" ] || continue
        if [ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ]; then
            echo "$deb"; return 0
        fi
    done
    say "downloading $pkg=$ver" >&2
    # apt drops privileges to _apt for downloads: let it write there.
    chmod 0777 "$DEBS_DIR" 2>/dev/null || true
    if ! (cd "$DEBS_DIR" && apt_get download -q "$pkg=$ver" >&2); then
        apt_update_once >&2
        (cd "$DEBS_DIR" && apt_get download -q "$pkg=$ver" >&2) ||
            die "apt-get download $pkg=$ver failed"
    fi
    for deb in "$DEBS_DIR/${pkg}"_*.deb; do
        if [ -f "$deb" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ]; then
            echo "$deb"; return 0
        fi
    done
    die "downloaded $pkg=$ver but found no matching .deb in $DEBS_DIR"
}

# Hash of the named files' names and contents, plus any extra words.
inputs_hash() {
    local f
    {
        for f in "$@"; do
            if [ -f "$f" ]; then
                printf '%s ' "$f"; sha256sum <"$f"
            else
                printf '%s\n' "$f"
            fi
        done
    } | sha256sum | cut -d' ' -f1
}

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# ------------------------------------------------------------------ kernel
KPKG="${BD_VM_KERNEL_PKG:-}"
if [ -z "$KPKG" ]; then
    KPKG="$(apt_cache depends "linux-image-$DEB_ARCH" 2>/dev/null |
             awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    if [ -z "$KPKG" ]; then
        apt_update_once
        KPKG="$(apt_cache depends "linux-image-$DEB_ARCH" 2>/dev/null |
                 awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    fi
    [ -n "$KPKG" ] || die "cannot resolve the kernel package from 'apt-cache depends linux-image-$DEB_ARCH' (set BD_VM_KERNEL_PKG=linux-image-X.Y.Z-N-$DEB_ARCH)"
fi
case "$KPKG" in
    *-"$DEB_ARCH") ;;
    *) die "kernel package $KPKG is not an $DEB_ARCH one (BD_VM_KERNEL_PKG=linux-image-X.Y.Z-N-$DEB_ARCH for --arch $ARCH)" ;;
esac
KVER="${KPKG#linux-image-}"
KPKG_VER="$(candidate_version "$KPKG")"
say "kernel: $KPKG $KPKG_VER (uname -r $KVER)"

KDEB="$(fetch_deb "$KPKG" "$KPKG_VER")"
kstamp="$KPKG $KPKG_VER $(basename "$KDEB")"
if stamp_ok "$OUT_DIR/.stamp-vmlinuz" "$kstamp" && [ -f "$OUT_DIR/vmlinuz" ]; then
    say "vmlinuz: up to date"
else
    say "extracting vmlinuz-$KVER from $(basename "$KDEB")"
    tmp="$(mktemp -d "$OUT_DIR/.kernel.XXXXXX")"
    dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' ||
        die "no boot/vmlinuz-* in $KDEB"
    [ -f "$tmp/boot/vmlinuz-$KVER" ] || die "$KDEB has no boot/vmlinuz-$KVER"
    cp "$tmp/boot/vmlinuz-$KVER" "$OUT_DIR/vmlinuz.tmp"
    mv "$OUT_DIR/vmlinuz.tmp" "$OUT_DIR/vmlinuz"
    rm -rf "$tmp"
    echo "$kstamp" >"$OUT_DIR/.stamp-vmlinuz"
fi
if ! stamp_ok "$OUT_DIR/kernel-version" "$KVER"; then echo "$KVER" >"$OUT_DIR/kernel-version"; fi

# --------------------------------------------------------------- bd_sched.ko
KDIR=""
find_kdir() {
    local d
    for d in "/lib/modules/$KVER/build" "/usr/src/linux-headers-$KVER"; do
        if [ -f "$d/Makefile" ]; then KDIR="$d"; return 0; fi
    done
    return 1
}

# The host's package of a file or directory (linux-kbuild-6.1), installed
# when missing.
ensure_host_package() {
    local pkg="$1"
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && return 0
    say "installing $pkg"
    [ "$(id -u)" = 0 ] || die "$pkg is missing and installing it needs root: apt-get install $pkg"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg"; then
        apt-get update -qq || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" || die "apt-get install $pkg failed"
    fi
}

# A foreign kernel's headers cannot be installed (dpkg would need the
# architecture added): unpack Debian's two headers packages (80 MB) once per
# version into DEBS_DIR/kheaders/<version>, shared by every image, and make
# their paths resolve there. Their Makefile includes the common package's by
# absolute path, and their scripts and tools link to
# ../../lib/linux-kbuild-X.Y: host programs (modpost, fixdep), which the
# host's linux-kbuild-X.Y provides. Unpacked beside and renamed into place,
# so that a build stopped halfway or one running at the same time leaves no
# half tree.
unpack_foreign_headers() {
    local hver hdeb cdeb common tree tmp kbuild
    hver="$(candidate_version "linux-headers-$KVER")"
    hdeb="$(fetch_deb "linux-headers-$KVER" "$hver")"
    common="$(dpkg-deb -f "$hdeb" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-headers-[^ ]*-common\).*/\1/p' | head -n 1)"
    [ -n "$common" ] || die "$(basename "$hdeb") depends on no linux-headers-*-common package"
    cdeb="$(fetch_deb "$common" "$(candidate_version "$common")")"
    tree="$DEBS_DIR/kheaders/$KVER-$hver"
    KDIR="$tree/usr/src/linux-headers-$KVER"
    if [ -f "$tree/.complete" ] && [ -f "$KDIR/Makefile" ]; then
        say "kernel headers ($DEB_ARCH): $tree"
    else
        say "unpacking $(basename "$hdeb") and $(basename "$cdeb") into $tree"
        mkdir -p "$DEBS_DIR/kheaders"
        tmp="$(mktemp -d "$tree.tmp.XXXXXX")"
        dpkg-deb -x "$hdeb" "$tmp"
        dpkg-deb -x "$cdeb" "$tmp"
        [ -f "$tmp/usr/src/linux-headers-$KVER/Makefile" ] ||
            die "$(basename "$hdeb") has no usr/src/linux-headers-$KVER/Makefile"
        sed -i "s|^include /usr/src/|include $tree/usr/src/|" "$tmp/usr/src/linux-headers-$KVER/Makefile"
        touch "$tmp/.complete"
        rm -rf "$tree"
        mv -T "$tmp" "$tree" 2>/dev/null || rm -rf "$tmp"  # another build was first: use its tree
        [ -f "$tree/.complete" ] || die "could not put the unpacked headers at $tree"
    fi
    kbuild="$(readlink "$KDIR/scripts" | sed -n 's|^\.\./\.\./lib/\(linux-kbuild-[^/]*\)/scripts$|\1|p')"
    [ -n "$kbuild" ] || die "$KDIR/scripts does not link to ../../lib/linux-kbuild-X.Y/scripts: unknown headers layout"
    ensure_host_package "$kbuild"
    mkdir -p "$tree/usr/lib"
    ln -sfn "/usr/lib/$kbuild" "$tree/usr/lib/$kbuild"
    local host_kbuild
    host_kbuild="$(dpkg-query -W -f='${Version}' "$kbuild" 2>/dev/null || true)"
    [ "$host_kbuild" = "$hver" ] ||
        say "note: host $kbuild $host_kbuild builds for headers $hver (the module ABI comes from the headers)"
    command -v aarch64-linux-gnu-gcc >/dev/null ||
        die "aarch64-linux-gnu-gcc is missing (Debian package gcc-aarch64-linux-gnu): it builds bd_sched for the arm64 kernel"
}

if [ "$FOREIGN" = 1 ]; then
    unpack_foreign_headers
elif ! find_kdir; then
    say "installing linux-headers-$KVER"
    [ "$(id -u)" = 0 ] || die "linux-headers-$KVER is missing and installing it needs root: apt-get install linux-headers-$KVER"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "linux-headers-$KVER"; then
        apt_update_once
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "linux-headers-$KVER" ||
            die "apt-get install linux-headers-$KVER failed"
    fi
    find_kdir || die "linux-headers-$KVER installed but no Makefile in /lib/modules/$KVER/build or /usr/src/linux-headers-$KVER"
fi

KMOD_OUT="$OUT_DIR/kmod"
KO="$KMOD_OUT/bd_sched.ko"
kmod_headers=("$GUEST_INC/bd/abi.h" "$GUEST_INC/bd/channel.h" "$GUEST_INC/bd/ring.h"
              "$GUEST_INC/bd/trap.h" "$GUEST_INC/bd/record_fill.h")
kmod_inputs=("$KMOD_SRC/bd_sched.c" "$KMOD_SRC/bd_arch.h" "$KMOD_SRC/Kbuild" "$KMOD_SRC/Makefile"
             "${kmod_headers[@]}")
kmod_hash="$(inputs_hash "${kmod_inputs[@]}" "kver=$KVER" "kdir=$KDIR")"
if stamp_ok "$KMOD_OUT/.stamp" "$kmod_hash" && [ -f "$KO" ]; then
    say "bd_sched.ko: up to date"
else
    say "building bd_sched.ko against $KDIR"
    rm -rf "$KMOD_OUT"
    mkdir -p "$KMOD_OUT/include/bd"
    cp "$KMOD_SRC/bd_sched.c" "$KMOD_SRC/bd_arch.h" "$KMOD_SRC/Kbuild" "$KMOD_SRC/Makefile" "$KMOD_OUT/"
    cp -L "${kmod_headers[@]}" "$KMOD_OUT/include/bd/"
    make -C "$KDIR" M="$KMOD_OUT" "${KMAKE_ARGS[@]+"${KMAKE_ARGS[@]}"}" modules ||
        die "building bd_sched.ko failed (see the compiler output above)"
    [ -f "$KO" ] || die "make succeeded but $KO is missing"
    echo "$kmod_hash" >"$KMOD_OUT/.stamp"
fi

# ---------------------------------------------------------------- initramfs
BB_VER="$(candidate_version busybox-static)"
BB_DEB="$(fetch_deb busybox-static "$BB_VER")"

# The programs and extras that go in, in a stable order. From a directory
# only what can run in the VM: static executables and scripts.
PROGRAM_FILES=()
for p in "${PROGRAMS[@]+"${PROGRAMS[@]}"}"; do
    if [ -d "$p" ]; then
        skipped=()
        foreign=()
        while IFS= read -r -d '' f; do
            if is_dynamic_elf "$f"; then skipped+=("$(basename "$f")"); continue; fi
            if is_foreign_elf "$f"; then foreign+=("$(basename "$f")"); continue; fi
            PROGRAM_FILES+=("$f")
        done < <(find -L "$p" -maxdepth 1 -type f -perm -u+x -print0 | LC_ALL=C sort -z)
        [ ${#skipped[@]} = 0 ] || say "programs: skipped the dynamically linked ${skipped[*]} in $p (the image has no C library)"
        [ ${#foreign[@]} = 0 ] || say "programs: skipped ${foreign[*]} in $p (not $ARCH programs)"
    else
        PROGRAM_FILES+=("$p")
    fi
done
GUEST_FILES=()
if [ -d "$GUEST_SCRIPTS" ]; then
    while IFS= read -r -d '' f; do GUEST_FILES+=("$f"); done < <(
        find "$GUEST_SCRIPTS" -maxdepth 1 -type f -print0 | LC_ALL=C sort -z)
fi
ALL_EXTRAS=("${GUEST_FILES[@]+"${GUEST_FILES[@]}"}" "${EXTRAS[@]+"${EXTRAS[@]}"}")

INITRD="$OUT_DIR/initramfs.cpio.gz"
initrd_hash="$(inputs_hash "${BASH_SOURCE[0]}" "arch=$ARCH" "$BB_DEB" "$KO" \
    "programs:" "${PROGRAM_FILES[@]+"${PROGRAM_FILES[@]}"}" \
    "extras:" "${ALL_EXTRAS[@]+"${ALL_EXTRAS[@]}"}")"
if stamp_ok "$OUT_DIR/.stamp-initramfs" "$initrd_hash" && [ -f "$INITRD" ]; then
    say "initramfs: up to date"
    say "done: $OUT_DIR/vmlinuz $INITRD $KO"
    exit 0
fi

say "assembling the initramfs (busybox-static $BB_VER)"
ROOT="$OUT_DIR/initramfs-root"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc/bd,lib/bd,var/log}
chmod 1777 "$ROOT/tmp"

bbtmp="$(mktemp -d "$OUT_DIR/.busybox.XXXXXX")"
dpkg-deb -x "$BB_DEB" "$bbtmp"
[ -x "$bbtmp/bin/busybox" ] || die "$BB_DEB has no bin/busybox"
cp "$bbtmp/bin/busybox" "$ROOT/bin/busybox"
rm -rf "$bbtmp"
# One symlink per applet, created now so that the image needs no setup.
# Another architecture's busybox lists them under qemu-user.
BB_RUN=()
if [ "$FOREIGN" = 1 ]; then
    BB_RUN=("$(command -v "qemu-$ARCH" || command -v "qemu-$ARCH-static" || true)")
    [ -n "${BB_RUN[0]}" ] || die "qemu-$ARCH is missing (Debian package qemu-user): it lists the $ARCH busybox's applets"
fi
n_applets=0
while IFS= read -r applet; do
    applet="${applet#/}"
    if [ -z "$applet" ] || [ -e "$ROOT/$applet" ]; then continue; fi
    mkdir -p "$ROOT/$(dirname "$applet")"
    ln -s /bin/busybox "$ROOT/$applet"
    n_applets=$((n_applets + 1))
done < <("${BB_RUN[@]+"${BB_RUN[@]}"}" "$ROOT/bin/busybox" --list-full)
[ "$n_applets" -gt 0 ] || die "busybox --list-full listed no applets"
say "busybox: $n_applets applet links"

# The kernel opens /dev/console before running /init; /init mounts devtmpfs
# and reopens it anyway, so a failed mknod (not root) is only a warning.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || say "warning: cannot mknod dev/console (not root?); relying on devtmpfs"
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

cp "$KO" "$ROOT/lib/bd/bd_sched.ko"

for f in "${PROGRAM_FILES[@]+"${PROGRAM_FILES[@]}"}"; do
    name="$(basename "$f")"
    cp -L "$f" "$ROOT/bin/$name.tmp"
    mv -f "$ROOT/bin/$name.tmp" "$ROOT/bin/$name"
    chmod 0755 "$ROOT/bin/$name"
    say "program: /bin/$name"
done
for f in "${ALL_EXTRAS[@]+"${ALL_EXTRAS[@]}"}"; do
    name="$(basename "$f")"
    cp -L "$f" "$ROOT/etc/bd/$name"
    chmod 0755 "$ROOT/etc/bd/$name"
    say "extra: /etc/bd/$name"
done

# bd-kmod load|unload: what loads and unloads bd_sched in the image (bd-init
# and the tests' scripts), with the other CPUs offline meanwhile.
cat >"$ROOT/bin/bd-kmod" <<'KMOD'
#!/bin/sh
# bd-kmod load [PARAM=VALUE...] | unload: insmod /lib/bd/bd_sched.ko
# (with those module parameters) or rmmod bd_sched with
# every CPU but cpu0 offline for that moment (generated by
# tools/vm/build-image.sh). Loading or unloading bd_sched flips the
# sched_switch tracepoint's static key: the kernel patches __schedule's
# code while the other vCPUs run it, and QEMU before 10.2 (TCG) can keep
# running a stale translation of that code on another vCPU, which hangs
# the guest (README, Known limits; 200 cycles under load on QEMU 7.2: a hang
# within 20 with the CPUs online, none in 4 x 200 offline). A CPU that
# cannot go offline stays online. Exits with insmod's / rmmod's status.
case "$1" in
    load) shift; set -- insmod /lib/bd/bd_sched.ko "$@" ;;
    unload) set -- rmmod bd_sched ;;
    *) echo "usage: bd-kmod load [PARAM=VALUE...] | unload" >&2; exit 2 ;;
esac
off=
for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
    [ "$(cat "$c" 2>/dev/null)" = 1 ] || continue
    echo 0 2>/dev/null >"$c" && off="$off $c"
done
"$@"
rc=$?
for c in $off; do echo 1 >"$c"; done
exit $rc
KMOD
chmod 0755 "$ROOT/bin/bd-kmod"

cat >"$ROOT/init" <<'INIT'
#!/bin/sh
# bdtrace test VM init (generated by tools/vm/build-image.sh).
# Kernel command line: bd.kmod=1 loads bd_sched; bd.run=/path runs a script;
# bd.cmd=BASE64 runs a base64-encoded shell command (bd-run --run).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
say() { echo "bd-init: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname bdvm

kmod=0
run=
cmd=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        bd.kmod=1) kmod=1 ;;
        bd.run=*) run="${arg#bd.run=}" ;;
        bd.cmd=*) cmd="${arg#bd.cmd=}" ;;
    esac
done

# Kernel messages are quiet on the console: echo bd_sched's lines ourselves.
kmsg_seen=0
kmsg() {
    dmesg | sed -n "$((kmsg_seen + 1)),\$p" | grep 'bd_sched' | sed 's/^/bd-init: kmsg: /'
    kmsg_seen=$(dmesg | wc -l)
}

# SeaBIOS leaves terminal escapes on the serial line without a newline:
# start on a fresh line so that every "bd-init:" line begins a line.
echo
say "up at $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r), $(grep -c '^processor' /proc/cpuinfo) cpu(s)"

if [ "$kmod" = 1 ]; then
    if bd-kmod load; then
        say "bd_sched loaded"
    else
        say "bd_sched failed to load"
    fi
    kmsg
fi

if [ -n "$cmd" ]; then
    if printf '%s' "$cmd" | base64 -d >/tmp/bd-cmd.sh 2>/dev/null; then
        say "running: $(cat /tmp/bd-cmd.sh)"
        sh /tmp/bd-cmd.sh
        rc=$?
        say "run-status $rc (bd.cmd)"
    else
        say "bd.cmd= is not valid base64; run-status 127"
    fi
elif [ -n "$run" ]; then
    if [ -f "$run" ]; then
        say "running $run"
        sh "$run"
        rc=$?
        say "run-status $rc ($run)"
    else
        say "bd.run=$run: no such file; run-status 127"
    fi
else
    say "no bd.run=/path or bd.cmd= on the kernel command line: nothing to run"
fi

if grep -q '^bd_sched ' /proc/modules; then
    bd-kmod unload && say "bd_sched unloaded"
fi
kmsg
sync
say "poweroff"
poweroff -f
INIT
chmod 0755 "$ROOT/init"

say "writing $INITRD"
# BD_VM_NO_CPIO=1 forces the python writer (to test it).
if [ "${BD_VM_NO_CPIO:-0}" != 1 ] && command -v cpio >/dev/null; then
    (cd "$ROOT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc -R 0:0 --quiet) | gzip -n -9 >"$INITRD.tmp" ||
        die "cpio/gzip failed"
else
    say "using the python cpio writer (cpio not found or BD_VM_NO_CPIO=1)"
    command -v python3 >/dev/null || die "neither cpio nor python3 is installed (apt-get install cpio)"
    python3 - "$ROOT" <<'PY' | gzip -n -9 >"$INITRD.tmp" || die "python cpio writer failed"
# Minimal cpio "newc" writer: regular files, directories, symlinks, devices.
import os, stat, sys
root = sys.argv[1]
out = sys.stdout.buffer
ino = 0
def entry(name, st, data):
    global ino
    ino += 1
    rdev = st.st_rdev if st else 0
    fields = [ino, st.st_mode if st else 0, 0, 0, st.st_nlink if st and not stat.S_ISDIR(st.st_mode) else 1,
              int(st.st_mtime) if st else 0, len(data), 0, 0,
              os.major(rdev), os.minor(rdev), len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(hdr + name.encode() + b"\0")
    out.write(b"\0" * ((4 - (len(hdr) + len(name) + 1) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))
paths = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        paths.append(os.path.relpath(os.path.join(d, n), root))
for rel in sorted(paths):
    full = os.path.join(root, rel)
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        data = os.readlink(full).encode()
    elif stat.S_ISREG(st.st_mode):
        with open(full, "rb") as f:
            data = f.read()
    else:
        data = b""
    entry(rel, st, data)
entry("TRAILER!!!", None, b"")
PY
fi
mv "$INITRD.tmp" "$INITRD"
echo "$initrd_hash" >"$OUT_DIR/.stamp-initramfs"
say "initramfs: $(du -h "$INITRD" | cut -f1)"
say "done: $OUT_DIR/vmlinuz $INITRD $KO"
