#!/usr/bin/env bash
# Installs hctoken for C and C++ programs:
#   PREFIX/lib/libhctoken.so.MAJOR.MINOR.PATCH  (SONAME libhctoken.so.MAJOR, symbols versioned
#                                                HCTOKEN_MAJOR by abi/hctoken.map)
#   PREFIX/lib/libhctoken.so.MAJOR, libhctoken.so   (links)
#   PREFIX/lib/libhctoken.a
#   PREFIX/include/hctoken.h
#   PREFIX/lib/pkgconfig/hctoken.pc                 (pkg-config --cflags --libs hctoken)
#   PREFIX/lib/cmake/hctoken/                       (find_package(hctoken): hctoken::hctoken,
#                                                    hctoken::hctoken_static)
#   PREFIX/bin/hctoken                              (the CLI and the local token server)
#
# Usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--debug]
#   --prefix   where the files go (default /usr/local)
#   --destdir  staging root for packagers: files go to DESTDIR/PREFIX, paths inside them name PREFIX
#   --debug    install the dev-profile build (quick; for tests), not the release build
#   --no-build install what target/ already holds (tests run `cargo build` first)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

prefix=/usr/local
destdir=
profile=release
build=1
while (($#)); do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) destdir=${1#--destdir=}; shift ;;
    --debug) profile=debug; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument #$(( $# )) (try --help)" >&2; exit 2 ;;
  esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be an absolute path" >&2; exit 2 ;; esac

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
major=${version%%.*}
target="$root/target/$profile"

cargo_args=(build --manifest-path "$root/Cargo.toml" --lib --bins)
[[ $profile == release ]] && cargo_args+=(--release)
if ((build)); then cargo "${cargo_args[@]}"; fi

# The native libraries the static library needs, as rustc reports them.
native_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

libdir="$prefix/lib"
includedir="$prefix/include"
stage="$destdir$prefix"
install -d "$stage/lib/pkgconfig" "$stage/lib/cmake/hctoken" "$stage/include" "$stage/bin"

# The shared library, linked from the static one so that abi/hctoken.map is the only version
# script the linker sees: rustc gives cargo's own cdylib an anonymous version script, and the
# linker takes the first. cargo's target/*/libhctoken.so (no SONAME, unversioned symbols) is a
# development artifact; this one is the product.
real="libhctoken.so.$version"
"${CC:-cc}" -shared -o "$stage/lib/$real" \
  -Wl,--whole-archive "$target/libhctoken.a" -Wl,--no-whole-archive \
  -Wl,--version-script="$root/abi/hctoken.map" -Wl,-soname,"libhctoken.so.$major" \
  -Wl,--gc-sections -Wl,-z,relro -Wl,-z,now $native_libs
chmod 0755 "$stage/lib/$real"
ln -sf "$real" "$stage/lib/libhctoken.so.$major"
ln -sf "libhctoken.so.$major" "$stage/lib/libhctoken.so"
install -m 0644 "$target/libhctoken.a" "$stage/lib/libhctoken.a"
install -m 0644 "$root/include/hctoken.h" "$stage/include/hctoken.h"
install -m 0755 "$target/hctoken" "$stage/bin/hctoken"

# Outside the system's library directories the loader would not find the library: say where it
# is (an rpath), so `pkg-config --libs` alone gives a program that runs.
rpath=
case "$libdir" in
  /usr/lib | /usr/lib64 | /lib | /lib64 | /usr/lib/*-linux-gnu) ;;
  *) rpath=" -Wl,-rpath,\${libdir}" ;;
esac
cat >"$stage/lib/pkgconfig/hctoken.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: hctoken
Description: OAuth 2.0 client-credentials access tokens for healthcare APIs, cached for every thread
Version: $version
Libs: -L\${libdir} -lhctoken$rpath
Libs.private: $native_libs
Cflags: -I\${includedir}
EOF

cat >"$stage/lib/cmake/hctoken/hctokenConfig.cmake" <<EOF
# find_package(hctoken) for hctoken $version: the imported targets hctoken::hctoken (shared) and
# hctoken::hctoken_static. Installed by scripts/install.sh.
get_filename_component(_hctoken_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET hctoken::hctoken)
  add_library(hctoken::hctoken SHARED IMPORTED)
  set_target_properties(hctoken::hctoken PROPERTIES
    IMPORTED_LOCATION "\${_hctoken_prefix}/lib/$real"
    IMPORTED_SONAME "libhctoken.so.$major"
    INTERFACE_INCLUDE_DIRECTORIES "\${_hctoken_prefix}/include")
endif()
if(NOT TARGET hctoken::hctoken_static)
  add_library(hctoken::hctoken_static STATIC IMPORTED)
  set_target_properties(hctoken::hctoken_static PROPERTIES
    IMPORTED_LOCATION "\${_hctoken_prefix}/lib/libhctoken.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_hctoken_prefix}/include"
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;pthread;m;dl")
endif()
set(hctoken_VERSION $version)
unset(_hctoken_prefix)
EOF

cat >"$stage/lib/cmake/hctoken/hctokenConfigVersion.cmake" <<EOF
# Compatible when the same major version (for 0.x: the same minor) is at least as new as asked.
set(PACKAGE_VERSION "$version")
set(PACKAGE_VERSION_COMPATIBLE FALSE)
if(PACKAGE_FIND_VERSION_MAJOR EQUAL $major AND NOT PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)
  if($major GREATER 0 OR PACKAGE_FIND_VERSION_MINOR EQUAL $(echo "$version" | cut -d. -f2))
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  endif()
endif()
if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
  set(PACKAGE_VERSION_EXACT TRUE)
endif()
EOF

echo "install.sh: hctoken $version installed under $destdir$prefix"
