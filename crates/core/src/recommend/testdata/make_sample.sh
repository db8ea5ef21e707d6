#!/bin/sh
# Makes ml-100k-sample.inter: the header and first 19 ratings of RecBole's ml-100k.inter
# (20 lines in all). Usage: sh make_sample.sh [path/to/ml-100k.inter]
set -eu
src="${1:-/work/shared/data/ml-100k/ml-100k.inter}"
head -n 20 "$src" > "$(dirname "$0")/ml-100k-sample.inter"
