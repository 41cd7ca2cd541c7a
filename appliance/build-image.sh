#!/usr/bin/env bash
# Builds the flashable folio box image from this tree and Debian's packages:
#
#   folio-<version>-<arch>.img      a GPT disk: EFI system partition (systemd-boot, kernel,
#                                   initrd), the FOLIO partition (folio-setup.txt), and an
#                                   ext4 root file system with Debian 13 and folio
#   folio-<version>-<arch>.img.xz   the same, compressed (what installers download)
#   SHA256SUMS                      checksums of both
#
# Usage: bash appliance/build-image.sh [--arch amd64|arm64] [--out DIR] [--keep-work]
#
# Needs root (mmdebstrap, and file ownership inside the image) and a Debian or Ubuntu host;
# installs its own build tools with apt. No loop devices, no Docker: the file systems are
# made from folders (mkfs.ext4 -d, mkfs.vfat + mcopy) and written into the disk file at
# their partitions' offsets.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
ARCH=amd64
OUT=$REPO/target/image
KEEP_WORK=no
SUITE=trixie

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=${2:?--arch needs amd64 or arm64}; shift 2 ;;
    --arch=*) ARCH=${1#--arch=}; shift ;;
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    --keep-work) KEEP_WORK=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-image: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$ARCH" in amd64|arm64) ;; *) echo "build-image: --arch must be amd64 or arm64, not $ARCH" >&2; exit 2 ;; esac

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then
    echo "build-image: needs root; running under sudo"
    exec sudo --preserve-env env "PATH=$PATH" bash "$0" "$@"
  fi
  echo "build-image: run this as root (it makes file systems with root-owned files)" >&2
  exit 1
fi

STEPS=9
step_no=0
step_name=""
step_started=$(date +%s)
build_started=$step_started
step() {
  local now
  now=$(date +%s)
  [ "$step_no" = 0 ] || echo "    (${step_name%%…*}: $((now - step_started)) s)"
  step_no=$((step_no + 1))
  step_name="$*"
  step_started=$now
  echo "[$step_no/$STEPS] $*"
}
failed() {
  local where="before the first step"
  [ "$step_no" = 0 ] || where="in step [$step_no/$STEPS] $step_name"
  # A half-written image must not look like a finished one.
  if [ -n "${IMG:-}" ]; then
    rm -f "$IMG" "$IMG.xz"
    (cd "$OUT" && rm -f SHA256SUMS && ls folio-*.img >/dev/null 2>&1 &&
      sha256sum folio-*.img folio-*.img.xz > SHA256SUMS) || true
  fi
  echo "build-image: FAILED $where (line $1: $2). No image was written; see the messages above." >&2
}
trap 'failed $LINENO "$BASH_COMMAND"' ERR

VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)
NAME=folio-$VERSION-$ARCH
WORK=$OUT/work-$ARCH
ROOT=$WORK/rootfs
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/work-$ARCH
ROOT=$WORK/rootfs

# Partition sizes in MiB. The root partition is sized to its contents at build time and
# grows to the whole card on first boot.
ESP_MB=256
SETUP_MB=32

case "$ARCH" in
  amd64)
    RUST_TARGET=x86_64-unknown-linux-gnu
    EFI_NAME=BOOTX64.EFI
    SDBOOT=systemd-bootx64.efi
    CONSOLES="console=ttyS0,115200 console=tty0"
    ARCH_PACKAGES=(linux-image-amd64 firmware-realtek firmware-iwlwifi firmware-atheros intel-microcode amd64-microcode)
    ;;
  arm64)
    RUST_TARGET=aarch64-unknown-linux-gnu
    EFI_NAME=BOOTAA64.EFI
    SDBOOT=systemd-bootaa64.efi
    CONSOLES="console=ttyAMA0,115200 console=tty0"
    ARCH_PACKAGES=(linux-image-arm64 raspi-firmware firmware-brcm80211 firmware-realtek firmware-atheros)
    ;;
esac

# What the box runs, all from Debian: see appliance/README.md for why each is there.
PACKAGES=(
  systemd systemd-sysv udev dbus systemd-timesyncd initramfs-tools zstd
  network-manager wpasupplicant dnsmasq-base iw wireless-regdb
  avahi-daemon libnss-mdns
  openssh-server sudo
  fdisk e2fsprogs dosfstools
  ca-certificates tzdata iproute2 iputils-ping procps less nano
  systemd-boot-efi
  "${ARCH_PACKAGES[@]}"
)

# ---------------------------------------------------------------------------------------
step "Installing the build tools (apt)…"
tools=(mmdebstrap dosfstools mtools e2fsprogs fdisk xz-utils coreutils)
[ "$ARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ] &&
  tools+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static binfmt-support arch-test)
missing=()
for t in "${tools[@]}"; do dpkg-query -W -f='${Status}' "$t" 2>/dev/null | grep -q "ok installed" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "    installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$ARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then
  # mmdebstrap runs the arm64 packages' scripts through qemu-user, registered with binfmt_misc.
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
  fi
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  if ! arch-test arm64 >/dev/null 2>&1; then
    echo "build-image: this machine cannot run arm64 programs (binfmt_misc with qemu-user-static is" >&2
    echo "  not available here), so it cannot build the arm64 image. Build it on an arm64 machine," >&2
    echo "  or on one where 'arch-test arm64' succeeds." >&2
    false
  fi
fi

# ---------------------------------------------------------------------------------------
step "Building folio $VERSION for $ARCH (cargo build --release)…"
cargo_args=(build --release --locked --manifest-path "$REPO/Cargo.toml")
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
if [ "$RUST_TARGET" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$RUST_TARGET"; then
    echo "build-image: there is no Rust toolchain for $RUST_TARGET here. Add it with" >&2
    echo "  rustup target add $RUST_TARGET" >&2
    false
  fi
  cargo_args+=(--target "$RUST_TARGET")
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
  BINARY=$TARGET_DIR/$RUST_TARGET/release/folio
else
  BINARY=$TARGET_DIR/release/folio
fi
cargo "${cargo_args[@]}"
test -x "$BINARY"

# ---------------------------------------------------------------------------------------
step "Building the Debian 13 ($SUITE) root file system with mmdebstrap (a few minutes)…"
rm -rf "$WORK"
mkdir -p "$WORK"
# Documentation, manual pages and translations are left out (the box has no one reading
# them); copyright files stay.
mmdebstrap --mode=root --variant=minbase --arch="$ARCH" --components=main,non-free-firmware \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --quiet \
  "$SUITE" "$ROOT"

# ---------------------------------------------------------------------------------------
step "Installing folio and configuring the system…"
ESP_UUID=$(cat /proc/sys/kernel/random/uuid)
SETUP_UUID=$(cat /proc/sys/kernel/random/uuid)
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
DISK_UUID=$(cat /proc/sys/kernel/random/uuid)

install -m 755 "$BINARY" "$ROOT/usr/bin/folio"
install -D -m 644 "$HERE/README.md" "$ROOT/usr/share/doc/folio/README.md"
# The overlay: systemd units, first-boot and setup scripts, udev rule, configuration.
cp -r --no-preserve=ownership "$HERE/rootfs/." "$ROOT/"
find "$HERE/rootfs" -type f -printf '%P\n' | while read -r f; do
  if [ -x "$HERE/rootfs/$f" ]; then chmod 755 "$ROOT/$f"; else chmod 644 "$ROOT/$f"; fi
done
chroot "$ROOT" useradd --system --user-group --home-dir /var/lib/folio --no-create-home \
  --shell /usr/sbin/nologin --comment "folio learning portfolio" folio
systemctl --root="$ROOT" enable folio.service folio-firstboot.service folio-setup-file.service \
  folio-announce.service NetworkManager.service avahi-daemon.service systemd-timesyncd.service >/dev/null
# SSH stays off until folio-setup.txt gives a key.
systemctl --root="$ROOT" disable ssh.service >/dev/null 2>&1 || true
systemctl --root="$ROOT" disable ssh.socket >/dev/null 2>&1 || true
# No passwords: root is locked; SSH (when turned on) takes keys only.
chroot "$ROOT" usermod -p '!' root
# Every box makes its own SSH host keys and machine id on first boot.
rm -f "$ROOT"/etc/ssh/ssh_host_*
echo uninitialized > "$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
echo folio > "$ROOT/etc/hostname"
cat > "$ROOT/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	folio
::1		localhost ip6-localhost ip6-loopback
EOF
mkdir -p "$ROOT/boot/efi" "$ROOT/boot/folio" "$ROOT/etc/folio"
cat > "$ROOT/etc/fstab" <<EOF
# The partitions of the folio image, by their GPT partition UUIDs.
PARTUUID=$ROOT_UUID	/		ext4	errors=remount-ro,noatime	0 1
PARTUUID=$ESP_UUID	/boot/efi	vfat	umask=0077,nofail	0 2
PARTUUID=$SETUP_UUID	/boot/folio	vfat	umask=0077,nofail	0 2
EOF
# systemd applies the presets to every unit on the first boot; do it now too, so what is
# checked here is what the box will run (10-folio.preset keeps SSH off).
systemctl --root="$ROOT" preset-all >/dev/null 2>&1
for unit in ssh.service ssh.socket; do
  state=$(systemctl --root="$ROOT" is-enabled "$unit" 2>/dev/null || true)
  [ "$state" != enabled ] || { echo "build-image: $unit would start on the box; SSH must be off" >&2; false; }
done
for unit in folio.service folio-firstboot.service folio-setup-file.service folio-announce.service; do
  [ "$(systemctl --root="$ROOT" is-enabled "$unit")" = enabled ]
done
test "$(chroot "$ROOT" passwd -S root | awk '{print $2}')" = L
chroot "$ROOT" /usr/bin/folio --version

KERNEL=$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
INITRD=$ROOT/boot/initrd.img-${KERNEL##*/vmlinuz-}
test -f "$KERNEL" && test -f "$INITRD"
echo "    kernel $(basename "$KERNEL"), folio $(du -h "$ROOT/usr/bin/folio" | cut -f1)"

# ---------------------------------------------------------------------------------------
step "Making the EFI system partition (systemd-boot, kernel, initrd)…"
ESP_IMG=$WORK/esp.img
truncate -s "${ESP_MB}M" "$ESP_IMG"
mkfs.vfat -F 32 -n FOLIO-EFI "$ESP_IMG" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$ESP_IMG" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$ESP_IMG" "$ROOT/usr/lib/systemd/boot/efi/$SDBOOT" "::/EFI/BOOT/$EFI_NAME"
mcopy -i "$ESP_IMG" "$KERNEL" ::/vmlinuz
mcopy -i "$ESP_IMG" "$INITRD" ::/initrd.img
printf 'timeout 0\ndefault folio.conf\neditor no\n' > "$WORK/loader.conf"
cat > "$WORK/folio.conf" <<EOF
title   folio ($VERSION, Debian 13)
linux   /vmlinuz
initrd  /initrd.img
options root=PARTUUID=$ROOT_UUID rw rootwait $CONSOLES systemd.show_status=yes systemd.ssh_auto=no
EOF
mcopy -i "$ESP_IMG" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$ESP_IMG" "$WORK/folio.conf" ::/loader/entries/folio.conf
if [ "$ARCH" = arm64 ]; then
  # Raspberry Pi 4: its firmware starts the kernel itself from this partition.
  mcopy -i "$ESP_IMG" -s "$ROOT"/usr/lib/raspi-firmware/* ::/
  dtbs=$(find "$ROOT/usr/lib/linux-image-${KERNEL##*/vmlinuz-}/broadcom" -name 'bcm27*.dtb')
  for d in $dtbs; do mcopy -i "$ESP_IMG" "$d" ::/; done
  printf 'arm_64bit=1\nenable_uart=1\nupstream_kernel=1\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n' > "$WORK/config.txt"
  echo "root=PARTUUID=$ROOT_UUID rw rootwait console=serial0,115200 console=tty0" > "$WORK/cmdline.txt"
  mcopy -i "$ESP_IMG" "$WORK/config.txt" "$WORK/cmdline.txt" ::/
fi
# The image's kernel is kept in step on the ESP by /etc/kernel/postinst.d/zz-folio-esp.

# ---------------------------------------------------------------------------------------
step "Making the FOLIO partition (folio-setup.txt)…"
SETUP_IMG=$WORK/setup.img
truncate -s "${SETUP_MB}M" "$SETUP_IMG"
mkfs.vfat -F 16 -n FOLIO "$SETUP_IMG" >/dev/null
# Windows line endings, so every editor shows it properly.
sed 's/$/\r/' "$HERE/setup-partition/folio-setup.txt" > "$WORK/folio-setup.txt"
mcopy -i "$SETUP_IMG" "$WORK/folio-setup.txt" ::/folio-setup.txt

# ---------------------------------------------------------------------------------------
step "Making the root file system (ext4)…"
ROOT_IMG=$WORK/root.img
used_mb=$(du -sm --apparent-size "$ROOT" | cut -f1)
# Room for the first boot's logs and a first portfolio even before it grows to the card.
ROOT_MB=$(( (used_mb * 5 / 4 + 400 + 3) / 4 * 4 ))
rm -f "$ROOT_IMG"
mkfs.ext4 -q -F -L folio-root -m 1 -d "$ROOT" "$ROOT_IMG" "${ROOT_MB}M"
echo "    $used_mb MiB of files in a $ROOT_MB MiB file system"

# ---------------------------------------------------------------------------------------
step "Assembling the GPT disk image…"
IMG=$OUT/$NAME.img
TOTAL_MB=$((1 + ESP_MB + SETUP_MB + ROOT_MB + 1))
rm -f "$IMG" "$IMG.xz"
truncate -s "${TOTAL_MB}M" "$IMG"
sfdisk --quiet --no-reread --no-tell-kernel "$IMG" <<EOF
label: gpt
label-id: $DISK_UUID
unit: sectors
start=$((1 * 2048)), size=$((ESP_MB * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_UUID, name="EFI system"
start=$(((1 + ESP_MB) * 2048)), size=$((SETUP_MB * 2048)), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=$SETUP_UUID, name="FOLIO"
start=$(((1 + ESP_MB + SETUP_MB) * 2048)), size=$((ROOT_MB * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$ROOT_UUID, name="folio-root"
EOF
dd if="$ESP_IMG" of="$IMG" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$SETUP_IMG" of="$IMG" bs=1M seek=$((1 + ESP_MB)) conv=notrunc,sparse status=none
dd if="$ROOT_IMG" of="$IMG" bs=1M seek=$((1 + ESP_MB + SETUP_MB)) conv=notrunc,sparse status=none
sfdisk --verify "$IMG" >/dev/null

# ---------------------------------------------------------------------------------------
step "Compressing (xz) and writing SHA256SUMS…"
xz -T0 -6 --keep --force "$IMG"
(cd "$OUT" && sha256sum folio-*.img folio-*.img.xz > SHA256SUMS)
if [ "$KEEP_WORK" = no ]; then rm -rf "$WORK"; fi
step_no=$((step_no)) # close the last step's timing
now=$(date +%s)
echo "    (${step_name%%…*}: $((now - step_started)) s)"
raw=$(du -m --apparent-size "$IMG" | cut -f1)
packed=$(du -m "$IMG.xz" | cut -f1)
echo
echo "Built in $((now - build_started)) s:"
echo "  $IMG.xz ($packed MiB; $raw MiB written to the card)"
echo "  $IMG"
echo "  $OUT/SHA256SUMS"
