#!/usr/bin/env bash
# Boots the folio image in QEMU (UEFI: OVMF for amd64, AAVMF for arm64; KVM when /dev/kvm
# is usable, else software emulation) and checks it as an installer would use it, talking
# to it only through ports forwarded to 127.0.0.1:
#
#   boot 1 (the card as flashed): folio answers /healthz (and over HTTPS on port 443 with
#          the certificate authority /device offers), SSH is off, the setup code shows
#          on the console, setup through the API, a student uploads a file, the admin page
#          backs up to a USB stick; then the box is shut down
#   between: the stick holds the backup; the FOLIO partition holds folio-address.txt with
#          the setup code; a folio-setup.txt with host name, time zone, Wi-Fi and an SSH
#          key is put on the FOLIO partition
#   boot 2: the file is still there (same hash); the settings were applied and the
#          passphrase removed from the file; the root file system grew to the disk; no
#          failed units; folio's memory when idle; the hotspot on simulated Wi-Fi radios;
#          then a reboot from inside
#   boot 3: the file is still there
#   boot 4: a freshly flashed box restores the backup from the USB stick on its setup page
#          (with the setup code), restarts by itself, and serves the same file
#
# Usage: bash appliance/smoke-test.sh [IMAGE.img.xz|IMAGE.img]
# (default: target/image/folio-<version>-amd64.img.xz, as build-image.sh writes it)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml" | head -n1)
IMAGE=${1:-$REPO/target/image/folio-$VERSION-amd64.img.xz}
WORK=${SMOKE_WORK:-$REPO/target/smoke}
DISK_GB=8

STEPS=9
step_no=0
step_name=""
step() { step_no=$((step_no + 1)); step_name="$*"; echo "[$step_no/$STEPS] $*"; }
QEMU_PID=""
# What the box printed, so a failure in CI can be understood from CI's output alone: the
# console of every boot so far (kernel, systemd, folio) and what QEMU said.
show_logs() {
  for log in "$WORK"/serial-*.log "$WORK"/qemu-*.log; do
    [ -s "$log" ] || continue
    echo "---- last lines of $log ----" >&2
    tail -n 80 "$log" | tr -d '\r' | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' >&2
  done
}
fail() { echo "smoke-test: FAILED in step [$step_no/$STEPS] $step_name: $*" >&2; show_logs; exit 1; }
on_error() {
  echo "smoke-test: FAILED in step [$step_no/$STEPS] $step_name (line $1: $2)." >&2
  show_logs
}
trap 'on_error $LINENO "$BASH_COMMAND"' ERR
cleanup() { [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null || true; }
trap cleanup EXIT

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------------------------------
case "$(basename "$IMAGE")" in
  *-arm64.img*) ARCH=arm64 ;;
  *) ARCH=amd64 ;;
esac
step "Installing QEMU, its UEFI firmware and the tools (apt)…"
if [ "$ARCH" = arm64 ]; then
  tools=(qemu-system-arm qemu-efi-aarch64)
  QEMU=qemu-system-aarch64
  MACHINE=(-machine virt)
  FW_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
  FW_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
else
  tools=(qemu-system-x86 ovmf)
  QEMU=qemu-system-x86_64
  MACHINE=(-machine q35)
  FW_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
  FW_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
fi
tools+=(mtools dosfstools xz-utils fdisk curl openssh-client python3)
missing=()
for t in "${tools[@]}"; do dpkg-query -W -f='${Status}' "$t" 2>/dev/null | grep -q "ok installed" || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "    installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$ARCH" = amd64 ] && [ ! -f "$FW_CODE" ]; then
  FW_CODE=/usr/share/OVMF/OVMF_CODE.fd
  FW_VARS=/usr/share/OVMF/OVMF_VARS.fd
fi
ACCEL=tcg
host_arch=$(dpkg --print-architecture)
if [ "$host_arch" = "$ARCH" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  # Usable means the firmware really runs under it: some nested or paravirtual KVMs open
  # fine and then fail on the firmware's first instructions ("KVM internal error").
  cp "$FW_VARS" /tmp/folio-kvm-probe-vars.$$
  rc=0
  probe=$(timeout 6 "$QEMU" "${MACHINE[@]}" -m 256 -accel kvm -cpu host -display none -nodefaults -no-user-config \
    -drive if=pflash,format=raw,readonly=on,file="$FW_CODE" \
    -drive if=pflash,format=raw,file=/tmp/folio-kvm-probe-vars.$$ 2>&1) || rc=$?
  rm -f /tmp/folio-kvm-probe-vars.$$
  if [ "$rc" = 124 ] && ! grep -q "internal error" <<<"$probe"; then
    ACCEL=kvm
  else
    echo "    /dev/kvm is there but cannot run the UEFI firmware; using software emulation"
  fi
fi
if [ "$ACCEL" = kvm ]; then
  ACCEL_ARGS=(-accel kvm -cpu host)
  BOOT_TIMEOUT=300
else
  ACCEL_ARGS=(-accel tcg,thread=multi -cpu max)
  BOOT_TIMEOUT=1200
  [ "$ARCH" = amd64 ] || BOOT_TIMEOUT=2400
fi
echo "    $ARCH image, acceleration: $ACCEL"

# ---------------------------------------------------------------------------------------
step "Preparing the disk (checksum, $DISK_GB GB card) and a USB stick…"
[ -f "$IMAGE" ] || fail "no image at $IMAGE. Build it first: bash appliance/build-image.sh"
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -f "$(dirname "$IMAGE")/SHA256SUMS" ]; then
  (cd "$(dirname "$IMAGE")" && grep " $(basename "$IMAGE")\$" SHA256SUMS | sha256sum --check --quiet) ||
    fail "$IMAGE does not match SHA256SUMS"
  echo "    $(basename "$IMAGE") matches SHA256SUMS"
fi
DISK=$WORK/disk.img
case "$IMAGE" in
  *.xz) xz -dc "$IMAGE" > "$DISK" ;;
  *) cp --sparse=always "$IMAGE" "$DISK" ;;
esac
image_mb=$(( $(stat -c %s "$DISK") / 1048576 ))
cp --sparse=always "$DISK" "$WORK/flashed.img"
truncate -s "${DISK_GB}G" "$DISK"
# The FOLIO partition (the second), for mtools: byte offset of its first sector.
setup_start=$(sfdisk --dump "$DISK" 2>/dev/null | awk -F'[=,]' '/^[^ ]*2 :/ {gsub(/ /, "", $2); print $2}')
[ -n "$setup_start" ] || fail "the image has no second partition"
FOLIO_PART="$DISK@@$((setup_start * 512))"
export MTOOLS_SKIP_CHECK=1
mtype -i "$FOLIO_PART" ::/folio-setup.txt | grep -q '^hostname=folio' || fail "folio-setup.txt is not on the FOLIO partition"
cp "$FW_VARS" "$WORK/firmware-vars.fd"
STICK=$WORK/stick.img
truncate -s 128M "$STICK"
mkfs.vfat -n FOLIOSTICK "$STICK" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port)
SSH_PORT=$(free_port)
HTTPS_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
ssh-keygen -q -t ed25519 -N '' -C folio-smoke -f "$WORK/id_ed25519"
SSH=(ssh -q -i "$WORK/id_ed25519" -p "$SSH_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
     -o ConnectTimeout=10 -o BatchMode=yes root@127.0.0.1)

boot_no=0
boot() {
  boot_no=$((boot_no + 1))
  SERIAL=$WORK/serial-$boot_no.log
  # The guest reaches nothing but these forwarded ports (restrict=on): no internet.
  "$QEMU" "${MACHINE[@]}" -m 1024 -smp 2 "${ACCEL_ARGS[@]}" \
    -drive if=pflash,format=raw,readonly=on,file="$FW_CODE" \
    -drive if=pflash,format=raw,file="$WORK/firmware-vars.fd" \
    -drive file="$DISK",format=raw,if=virtio \
    -netdev user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$HTTP_PORT-:80,hostfwd=tcp:127.0.0.1:$HTTPS_PORT-:443,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22 \
    -device virtio-net-pci,netdev=net0 \
    -device qemu-xhci -drive if=none,id=stick,format=raw,file="$STICK" -device usb-storage,drive=stick,removable=on \
    -serial file:"$SERIAL" -display none -monitor unix:"$WORK/monitor.sock",server=on,wait=off \
    > "$WORK/qemu-$boot_no.log" 2>&1 &
  QEMU_PID=$!
  BOOT_STARTED=$(date +%s)
}

wait_healthy() {
  local deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
  until curl -fsS -m 5 "$URL/healthz" 2>/dev/null | grep -q '"status":"ok"'; do
    kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU stopped (see $WORK/qemu-$boot_no.log)"
    [ "$(date +%s)" -lt "$deadline" ] || fail "folio did not answer /healthz within $BOOT_TIMEOUT s"
    sleep 2
  done
  HEALTHY_AFTER=$(( $(date +%s) - BOOT_STARTED ))
}

monitor() { python3 - "$WORK/monitor.sock" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.2)
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(0.5)
EOF
}

wait_stopped() {
  local deadline=$(( $(date +%s) + ${1:-180} ))
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { kill "$QEMU_PID"; fail "the box did not shut down"; }
    sleep 1
  done
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=""
}

# Waits up to a minute for folio-address.txt on the FOLIO partition to contain $1 (the box
# syncs the file after writing it, so the disk image holds it); else fails saying $2.
address_file_shows() {
  local deadline=$(( $(date +%s) + 60 ))
  until mtype -i "$FOLIO_PART" ::/folio-address.txt 2>/dev/null | tr -d '\r' | grep -q "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$2"
    sleep 2
  done
}

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# ---------------------------------------------------------------------------------------
step "Boot 1: the card as flashed (power-on to /healthz)…"
boot
wait_healthy
BOOT1=$HEALTHY_AFTER
echo "    folio answered /healthz $BOOT1 s after power-on"
if timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT && head -c 4 <&3" 2>/dev/null | grep -q SSH; then
  fail "SSH answers on a freshly flashed box; it must be off"
fi
echo "    SSH is off"
code=""
deadline=$(( $(date +%s) + 120 ))
while [ -z "$code" ]; do
  code=$(tr -d '\r' < "$SERIAL" | grep -ao 'Setup code: [A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | tail -n1 | cut -d' ' -f3 || true)
  [ -n "$code" ] || [ "$(date +%s)" -lt "$deadline" ] || fail "no setup code on the console"
  [ -n "$code" ] || sleep 2
done
echo "    the console shows the setup code $code"
address_file_shows "Setup code: $code" "folio-address.txt on the FOLIO partition does not show the setup code"
echo "    folio-address.txt on the FOLIO partition shows it too"
# HTTPS from the box's own authority: a device that trusts the CA from /device reaches the
# secure address by name.
curl -fsS -m 30 -o "$WORK/ca.crt" "$URL/device/ca.crt" || fail "/device does not offer the box's certificate authority"
curl -fsS -m 30 --cacert "$WORK/ca.crt" --resolve "folio.local:$HTTPS_PORT:127.0.0.1" \
  "https://folio.local:$HTTPS_PORT/healthz" | grep -q '"status":"ok"' \
  || fail "https://folio.local (port 443) does not answer with a certificate from the box's authority"
echo "    https://folio.local answers, trusted through the CA that /device offers"

# ---------------------------------------------------------------------------------------
step "Setup through the API, a student's upload, a backup to the USB stick…"
ADMIN_JAR=$WORK/admin.jar
STUDENT_JAR=$WORK/student.jar
api() { curl -fsS -m 60 -H 'content-type: application/json' "$@"; }
api -o /dev/null -d "{\"setup_code\":\"$code\",\"school_name\":\"Escuela Smoke\",\"username\":\"admin\",\"display_name\":\"Ada Admin\",\"password\":\"smoke admin password\"}" "$URL/api/v1/setup"
api -c "$ADMIN_JAR" -o /dev/null -d '{"username":"admin","password":"smoke admin password"}' "$URL/api/v1/login"
api -b "$ADMIN_JAR" -o /dev/null -d '{"username":"sol","display_name":"Sol","role":"student","password":"sol smoke password"}' "$URL/api/v1/users"
api -c "$STUDENT_JAR" -o /dev/null -d '{"username":"sol","password":"sol smoke password"}' "$URL/api/v1/login"
head -c 3000000 /dev/urandom > "$WORK/upload.bin"
UPLOAD_SHA=$(sha256sum < "$WORK/upload.bin" | cut -d' ' -f1)
created=$(curl -fsS -m 120 -b "$STUDENT_JAR" -F title="Smoke test" -F file=@"$WORK/upload.bin" "$URL/api/v1/artifacts")
FILE_URL=$(echo "$created" | json '["files"][0]["url"]')
check_file() {
  local got
  got=$(curl -fsS -m 60 -b "$STUDENT_JAR" "$URL$FILE_URL" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$UPLOAD_SHA" ] || fail "the uploaded file came back different ($got, not $UPLOAD_SHA)"
}
check_file
echo "    uploaded 3 MB and read it back: same SHA-256"
page=$(curl -fsS -m 30 -b "$ADMIN_JAR" "$URL/backup")
echo "$page" | grep -q 'value="/media/FOLIOSTICK"' || fail "the Backup page does not offer the USB stick"
csrf=$(echo "$page" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')
curl -fsS -m 30 -b "$ADMIN_JAR" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode place=/media/FOLIOSTICK "$URL/backup"
deadline=$(( $(date +%s) + 300 ))
until curl -fsS -m 30 -b "$ADMIN_JAR" "$URL/backup" | grep -q 'Backup finished'; do
  # The backup's own refusal ("The backup to … did not work"), not the words every page
  # hands its scripts.
  curl -fsS -m 30 -b "$ADMIN_JAR" "$URL/backup" | grep -q 'The backup to' && fail "the backup to the stick failed"
  [ "$(date +%s)" -lt "$deadline" ] || fail "the backup to the stick did not finish"
  sleep 2
done
echo "    the admin page wrote a backup to the USB stick"
# The screen and folio-address.txt follow within seconds: "set up", no code any more.
address_file_shows "folio is set up" "folio-address.txt on the FOLIO partition does not say the box is set up"
monitor system_powerdown
wait_stopped 180
echo "    shut down cleanly"

# ---------------------------------------------------------------------------------------
step "Between boots: the backup on the stick, folio-address.txt, a folio-setup.txt for boot 2…"
backup_dir=$(mdir -b -i "$STICK" ::/ | grep -o 'folio-backup-[^/]*' | head -n1)
[ -n "$backup_dir" ] || fail "no backup folder on the stick"
mtype -i "$STICK" "::/$backup_dir/folio-backup.json" | grep -q 'Escuela Smoke' || fail "the backup's description is wrong"
echo "    the stick holds $backup_dir"
mtype -i "$FOLIO_PART" ::/folio-address.txt | tr -d '\r' | grep -q "folio is set up" ||
  fail "folio-address.txt on the FOLIO partition does not say the box is set up"
echo "    folio-address.txt now says the box is set up"
cat > "$WORK/folio-setup.txt" <<EOF
hostname=folio-smoke
timezone=Europe/Madrid
wifi_ssid=Smoke Net
wifi_passphrase=smoke-secret-passphrase
wifi_country=es
hotspot=auto
ssh_authorized_key=$(cat "$WORK/id_ed25519.pub")
EOF
sed -i 's/$/\r/' "$WORK/folio-setup.txt"
mcopy -o -i "$FOLIO_PART" "$WORK/folio-setup.txt" ::/folio-setup.txt

# ---------------------------------------------------------------------------------------
step "Boot 2: the same file, the settings applied, the disk grown…"
boot
wait_healthy
BOOT2=$HEALTHY_AFTER
echo "    folio answered /healthz $BOOT2 s after power-on"
check_file
echo "    the file is still there, same SHA-256"
deadline=$(( $(date +%s) + 60 ))
until "${SSH[@]}" true 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "SSH with the key from folio-setup.txt does not work"
  sleep 2
done
# The command travels as one string to the box's shell: quote it as one.
remote() { "${SSH[@]}" "$*"; }
[ "$(remote hostname)" = folio-smoke ] || fail "the host name was not applied"
[ "$(remote cat /etc/timezone)" = Europe/Madrid ] || fail "the time zone was not applied"
remote grep -q 'psk=smoke-secret-passphrase' /etc/NetworkManager/system-connections/folio-wifi.nmconnection ||
  fail "the Wi-Fi network was not set up"
remote "grep -q 'ssid=Smoke Net' /etc/NetworkManager/system-connections/folio-wifi.nmconnection" || fail "wrong SSID"
remote grep -q 'ieee80211_regdom=ES' /etc/modprobe.d/folio-wifi.conf || fail "the Wi-Fi country was not applied"
if remote grep -q smoke-secret-passphrase /boot/folio/folio-setup.txt; then fail "the passphrase is still in folio-setup.txt"; fi
remote grep -q '^wifi_passphrase=' /boot/folio/folio-setup.txt || fail "folio-setup.txt lost its wifi_passphrase line"
remote test -f /etc/NetworkManager/system-connections/folio-hotspot.nmconnection || fail "no hotspot profile"
remote getent hosts folio-smoke.local >/dev/null || fail "the box does not answer as folio-smoke.local (avahi)"
# folio's own announcement (_folio._tcp, mdns-sd) works beside avahi: the box finds itself.
remote "/usr/bin/folio discover --seconds 4" | grep -q '^box ' || fail "folio's mDNS announcement is not heard beside avahi"
echo "    host name, time zone, Wi-Fi, country, SSH key applied; passphrase removed from the file"
echo "    answers as folio-smoke.local (avahi), and folio discover hears its _folio._tcp announcement"
root_bytes=$(remote df -B1 --output=size / | tail -n1 | tr -d ' ')
[ "$root_bytes" -gt $(( (DISK_GB - 1) * 1000000000 )) ] || fail "the root file system did not grow ($root_bytes bytes)"
echo "    the root file system grew to $((root_bytes / 1000000)) MB"
failed=$(remote systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')
[ -z "$failed" ] || fail "failed units: $failed"
[ "$(remote "stat -c '%U %a' /var/lib/folio")" = "folio 700" ] || fail "/var/lib/folio is not folio's own (0700)"
remote 'systemctl show folio -p User -p ProtectSystem -p NoNewPrivileges' | tr '\n' ' ' | grep -q 'User=folio.*' || fail "folio does not run as its own user"
remote "passwd -S root" | grep -q ' L ' || fail "root is not locked"
EXPOSURE=$(remote "systemd-analyze security folio.service --no-pager 2>/dev/null | tail -n1 | sed 's/.*exposure level for folio.service: //'" || true)
sleep 20
RSS_KB=$(remote 'grep VmRSS /proc/$(systemctl show -p MainPID --value folio)/status' | awk '{print $2}')
echo "    no failed units; folio runs as its own user; root is locked; folio's resident memory when idle: $((RSS_KB / 1024)) MiB"
# The classroom hotspot, on two simulated Wi-Fi radios (mac80211_hwsim): the box's profile
# comes up as an access point, and a second radio joins it with the passphrase the box made
# and gets an address from it.
if remote "modprobe mac80211_hwsim radios=2" 2>/dev/null; then
  sleep 5
  remote "nmcli --wait 90 connection up folio-hotspot ifname wlan0" >/dev/null || fail "the hotspot did not start"
  remote "iw dev wlan0 info" | grep -q 'type AP' || fail "wlan0 is not an access point"
  remote "ip -4 -o addr show wlan0" | grep -q '10\.42\.0\.1/' || fail "the hotspot has no 10.42.0.1"
  # The second radio may not have seen the new network yet: scan again, a few times.
  joined=no
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if remote '. /etc/folio/hotspot.conf && nmcli device wifi rescan ifname wlan1 >/dev/null 2>&1; sleep 3;
        nmcli --wait 60 device wifi connect "$HOTSPOT_NAME" password "$HOTSPOT_PASSPHRASE" ifname wlan1' >/dev/null 2>&1; then
      joined=yes
      break
    fi
  done
  [ "$joined" = yes ] || fail "a device could not join the hotspot with its passphrase"
  remote "ip -4 -o addr show wlan1" | grep -q '10\.42\.0\.' || fail "a device on the hotspot got no address"
  echo "    the hotspot runs as an access point (simulated radios); a device joined it and got an address"
  remote '. /etc/folio/hotspot.conf; nmcli connection delete id "$HOTSPOT_NAME"; nmcli connection down folio-hotspot' >/dev/null 2>&1 || true
else
  echo "    (no mac80211_hwsim in this kernel: the hotspot was not tried)"
fi
remote systemctl reboot || true
# Until folio stops answering, the old boot is still going down.
deadline=$(( $(date +%s) + 120 ))
while curl -fsS -m 2 "$URL/healthz" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the box did not reboot"
  sleep 0.5
done

# ---------------------------------------------------------------------------------------
step "Boot 3: a reboot from inside, the file still there…"
BOOT_STARTED=$(date +%s)
SERIAL=$WORK/serial-2.log
wait_healthy
BOOT3=$HEALTHY_AFTER
check_file
echo "    folio answered /healthz $BOOT3 s after the reboot; the file is still there, same SHA-256"
remote systemctl poweroff || true
wait_stopped 180

# ---------------------------------------------------------------------------------------
step "Boot 4: a freshly flashed box restores the backup from the stick on its setup page…"
cp --sparse=always "$WORK/flashed.img" "$DISK"
truncate -s "${DISK_GB}G" "$DISK"
cp "$FW_VARS" "$WORK/firmware-vars.fd"
boot
wait_healthy
BOOT4=$HEALTHY_AFTER
code=""
deadline=$(( $(date +%s) + 120 ))
while [ -z "$code" ]; do
  code=$(tr -d '\r' < "$SERIAL" | grep -ao 'Setup code: [A-Z0-9]\{4\}-[A-Z0-9]\{4\}' | tail -n1 | cut -d' ' -f3 || true)
  [ -n "$code" ] || [ "$(date +%s)" -lt "$deadline" ] || fail "no setup code on the new box's console"
  [ -n "$code" ] || sleep 2
done
page=$(curl -fsS -m 30 "$URL/setup/restore")
choice=$(echo "$page" | grep -o "value=\"/media/FOLIOSTICK/$backup_dir\"" | head -n1 | sed 's/^value="//; s/"$//')
[ -n "$choice" ] || fail "the setup page does not offer the backup on the stick"
curl -fsS -m 30 -o /dev/null --data-urlencode "setup_code=$code" --data-urlencode "backup=$choice" "$URL/setup/restore"
restore_started=$(date +%s)
# folio copies and checks the backup, exits with 75, systemd starts it again, and it swaps
# the backup in: then the setup page is gone (the box is set up).
deadline=$(( restore_started + 300 ))
until [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/setup/restore" 2>/dev/null)" = 303 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the restore from the setup page did not finish"
  sleep 2
done
RESTORE_S=$(( $(date +%s) - restore_started ))
rm -f "$STUDENT_JAR"
api -c "$STUDENT_JAR" -o /dev/null -d '{"username":"sol","password":"sol smoke password"}' "$URL/api/v1/login"
check_file
echo "    restored in $RESTORE_S s (folio restarted by itself); the student signs in and the file is the same"
monitor system_powerdown
wait_stopped 180

# ---------------------------------------------------------------------------------------
step "Summary"
echo "    acceleration:            $ACCEL ($ARCH)"
echo "    image:                   $(basename "$IMAGE") ($(du -m "$IMAGE" | cut -f1) MiB; $image_mb MiB raw)"
echo "    power-on to /healthz:    first boot $BOOT1 s, second boot $BOOT2 s, reboot $BOOT3 s, fresh box $BOOT4 s"
echo "    restore on setup page:   $RESTORE_S s, restart included"
echo "    folio idle RSS in VM:    $((RSS_KB / 1024)) MiB ($RSS_KB kB)"
echo "    folio.service exposure:  $EXPOSURE (systemd-analyze security)"
echo "smoke-test: PASSED"
