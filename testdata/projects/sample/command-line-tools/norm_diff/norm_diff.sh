#!/bin/sh
# norm_diff GREEN NIR: the normalized difference (green - nir) / (green + nir)
# of two cropped bands, point by point, to ndwi.csv (id,x,y,ndwi).
set -eu
awk -F, -v OFS=, '
  FNR == 1 { next }
  NR == FNR { green[$1] = $4; next }
  ($1 in green) {
    s = green[$1] + $4
    if (s == 0) { v = 0 } else { v = (green[$1] - $4) / s }
    if (!header++) print "id,x,y,ndwi"
    printf "%s,%s,%s,%.4f\n", $1, $2, $3, v
  }
' "$1" "$2" > ndwi.csv
echo "norm_diff: $(($(wc -l < ndwi.csv) - 1)) points" >&2
