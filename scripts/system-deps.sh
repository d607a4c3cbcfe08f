#!/bin/sh
# Install the Debian packages the project needs, when they are missing.
# Without apt or root, print what to install and carry on: the data can also come from
# FMNIST_DATA_DIR, the user cache or `fmnist-report data fetch`.
set -u
need=""
[ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
# WeasyPrint needs Pango; pdftotext (poppler-utils) and chromium serve the report tests;
# actionlint checks the workflows' shell steps with shellcheck when it is there.
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0' || need="$need libpango-1.0-0 libpangoft2-1.0-0"
# The report's text font, DejaVu, comes with it (from matplotlib); Noto CJK and Noto Color Emoji
# are the CSS's fallbacks for Chinese, Japanese, Korean and emoji.
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need="$need fonts-noto-cjk"
fc-list 2>/dev/null | grep -qi 'Noto Color Emoji' || need="$need fonts-noto-color-emoji"
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
command -v shellcheck >/dev/null 2>&1 || need="$need shellcheck"
if [ "${WITH_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
fi
[ -n "$need" ] || exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing system packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || echo "warning: apt-get update failed; trying the package lists there are" >&2
  # shellcheck disable=SC2086 # $need is a list of package names, split on purpose
  if ! apt-get install -y -qq --no-install-recommends $need >/dev/null; then
    # One package missing from this release (the data set, say) must not keep out the rest.
    for pkg in $need; do
      apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 \
        || echo "warning: could not install $pkg; install it by hand" >&2
    done
  fi
else
  echo "warning: missing system packages:$need" >&2
  echo "  install them with: sudo apt-get install$need" >&2
  echo "  (without dataset-fashion-mnist, set FMNIST_DATA_DIR or run: fmnist-report data fetch)" >&2
fi
exit 0
