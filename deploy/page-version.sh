#!/bin/sh
# page-version.sh HTMLDIR: prints the version of the page's CSS and JavaScript there, a hash of the files, so any change makes new URLs.
set -eu
cd "$1"
find css js -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12
