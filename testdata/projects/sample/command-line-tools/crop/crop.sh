#!/bin/sh
# crop CSV BBOX BAND: keep the points of CSV (id,x,y,green,nir) inside
# BBOX "minx,miny,maxx,maxy" and write id,x,y,BAND to cropped.csv.
set -eu
csv=$1 bbox=$2 band=$3
case "$band" in
  green) col=4 ;;
  nir) col=5 ;;
  *) echo "crop: unknown band $band (green or nir)" >&2; exit 2 ;;
esac
awk -F, -v OFS=, -v bbox="$bbox" -v col="$col" -v band="$band" '
  BEGIN { split(bbox, b, ","); print "id,x,y," band }
  NR > 1 && $2 >= b[1] && $3 >= b[2] && $2 <= b[3] && $3 <= b[4] { print $1, $2, $3, $col }
' "$csv" > cropped.csv
echo "crop: $(($(wc -l < cropped.csv) - 1)) points of $band inside $bbox" >&2
