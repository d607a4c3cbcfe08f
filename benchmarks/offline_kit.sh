#!/bin/bash
# Gather what `offline_build.sh` needs on a machine that has Python 3.12 and JAX (a GPU box,
# say) but no network and none of this project's other packages: the wheels, WeasyPrint's
# system libraries as Debian packages, and the four data files. Run it here, copy KIT there.
#
#   bash benchmarks/offline_kit.sh KIT
set -euo pipefail
KIT=${1:?usage: offline_kit.sh KIT}
PY=${PY:-.venv/bin/python}
mkdir -p "$KIT/whl" "$KIT/deb" "$KIT/data"
version() { "$PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1"; }
pins=()
for name in keras namex optree weasyprint pydyf tinycss2 cssselect2 tinyhtml5 webencodings cffi pycparser pyphen fonttools; do
  pins+=("$name==$(version "$name")")
done
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$KIT/whl" "${pins[@]}"
"$PY" -m pip wheel --quiet --no-deps --no-build-isolation . -w "$KIT/whl"
# Pango and its libraries for WeasyPrint, and a font; unpacked there into a folder of their own.
(cd "$KIT/deb" && apt-get download libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
  libfribidi0 libthai0 libthai-data libdatrie1 libgraphite2-3 libfontconfig1 fontconfig-config \
  libfreetype6 libpng16-16 libbrotli1 libglib2.0-0 fonts-dejavu-core)
cp "${FMNIST_DATA_DIR:-/usr/share/datasets/fashion-mnist}"/*-ubyte* "$KIT/data/"
du -sh "$KIT"
