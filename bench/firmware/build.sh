#!/bin/sh
# Builds the delta benchmark's releases with arm-none-eabi-gcc into $1 (default: ./out):
#   base.bin      app 1.0.0
#   version.bin   the same code, only the version string changed (a version-only rebuild)
#   oneline.bin   one constant changed in one function (a one-line change)
#   shifted.bin   a function added early in the link order (a code release: everything moves)
set -eu
here=$(dirname "$0")
out=${1:-$here/out}
mkdir -p "$out"
cc="arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -Os -ffreestanding -nostdlib -Wall -Wno-unused-function -T $here/link.ld"
build() {
  name=$1; shift
  $cc "$@" -o "$out/$name.elf" "$here/app.c"
  arm-none-eabi-objcopy -O binary "$out/$name.elf" "$out/$name.bin"
}
build base '-DVERSION="app 1.0.0 (build 100)"'
build version '-DVERSION="app 1.0.1 (build 101)"'
build oneline '-DVERSION="app 1.0.0 (build 100)"' -DGAIN=5
build shifted '-DVERSION="app 1.1.0 (build 110)"' -DEXTRA_EARLY
